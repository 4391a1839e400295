//! One audit, start to finish: config -> collect -> analyses -> report writers -> sinks.
//!
//! Shared by the Lambda handler and the command. Nothing is kept between runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use tokio::time::Instant;

use crate::analysis;
use crate::analysis::changes::{DiffError, Side};
use crate::analysis::{DuplicateRow, InstanceRow};
use crate::collect::{self, CallError, Calls, Clients, CollectError, OrganizationReads, Plan, RetryPolicy};
use crate::config::{Config, RegionSelection};
use crate::event::RunRequest;
use crate::model::Inventory;
use crate::report::{self, ErrorEntry, RunSummary};
use crate::report::{ChangeCounts, ChangeHeadline, ChangesScope};
use crate::sink::local::{self, LocalWriteError};
use crate::sink::previous::{self, PreviousRun};
use crate::sink::s3::{self as s3_sink, UploadError};
use crate::sink::staging::{HTML_CONTENT_TYPE, JSON_CONTENT_TYPE, StageError, Staging};
use crate::sink::{self, Artifact};

/// How this run writes, and when it must stop.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Also write `DIR/{report}.csv` and `DIR/summary.json`.
    pub out_dir: Option<PathBuf>,
    /// Upload to the configured bucket.
    pub upload: bool,
    /// Start no new work after this instant.
    pub stop_at: Option<Instant>,
}

/// Why a run failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{}", credentials_failure(.0))]
    Credentials(#[source] CallError),
    #[error(
        "configuration error: CurrentAccountId is {configured} but the credentials belong to account {actual}; set CurrentAccountId to the account the function runs in"
    )]
    AccountMismatch { configured: String, actual: String },
    #[error(transparent)]
    Collect(#[from] CollectError),
    /// A report or the summary could not be written to the run's temporary folder.
    #[error(transparent)]
    Encode(#[from] StageError),
    #[error(transparent)]
    Upload(Box<UploadError>),
    #[error(transparent)]
    LocalWrite(#[from] LocalWriteError),
    #[error("cannot encode the run summary: {0}")]
    Summary(#[from] serde_json::Error),
    /// A broken invariant of this program: a bug to report.
    #[error("internal error: {0}; please report it")]
    Internal(&'static str),
}

impl From<UploadError> for RunError {
    fn from(err: UploadError) -> Self {
        RunError::Upload(Box::new(err))
    }
}

/// One line: what was tried and what to set when there are no credentials at all;
/// otherwise the failed call and where to look.
fn credentials_failure(err: &CallError) -> String {
    if err.code == collect::call::NO_CREDENTIALS {
        format!("no AWS credentials found: {}", err.message)
    } else {
        format!(
            "cannot tell who is calling AWS ({err}); check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID, or the function's role)"
        )
    }
}

fn new_run_id(now: OffsetDateTime) -> String {
    let stamp = now
        .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
        .unwrap_or_default();
    format!("{stamp}-{:08x}", fastrand::u32(..))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The run's identity: its id and when it started (kept across the invocations of a
/// resumed run, so that every invocation writes the same keys).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunIdentity {
    pub run_id: String,
    /// RFC 3339.
    pub started_at: String,
    /// `YYYY-MM-DD`: the date= partition of the run's keys.
    pub date: String,
}

impl RunIdentity {
    pub fn new(started_at: OffsetDateTime) -> Self {
        RunIdentity {
            run_id: new_run_id(started_at),
            started_at: rfc3339(started_at),
            date: started_at
                .format(format_description!("[year]-[month]-[day]"))
                .unwrap_or_default(),
        }
    }
}

/// A run that has checked who it is: the calls' policy, the current account, the
/// organization reads started.
pub(crate) struct Opened {
    pub calls: Arc<Calls>,
    pub current: crate::model::AccountId,
    pub partition: String,
    /// `None` when the caller asked for none (a resumed run that knows its organization).
    pub reads: Option<OrganizationReads>,
}

/// GetCallerIdentity, checked against `CurrentAccountId`; with `organization_reads`,
/// the organization reads start alongside it when the account is known from the
/// configuration and there is room for three calls at once (they are dropped, stopped,
/// if the identity disagrees).
pub(crate) async fn open(
    clients: &Clients,
    config: &Config,
    calls: Calls,
    organization_reads: bool,
) -> Result<Opened, RunError> {
    let calls = Arc::new(calls.with_concurrency(config.max_concurrency));
    let early_reads = config
        .current_account_id
        .as_ref()
        .filter(|_| organization_reads && config.max_concurrency >= 3)
        .map(|account| OrganizationReads::start(clients, &calls, account, true));
    let caller = collect::caller_identity(clients, &calls)
        .await
        .map_err(RunError::Credentials)?;
    let current = match &config.current_account_id {
        Some(configured) if configured != &caller.account_id => {
            return Err(RunError::AccountMismatch {
                configured: configured.to_string(),
                actual: caller.account_id.to_string(),
            });
        }
        _ => caller.account_id.clone(),
    };
    let reads = organization_reads.then(|| {
        early_reads.unwrap_or_else(|| OrganizationReads::start(clients, &calls, &current, config.max_concurrency >= 2))
    });
    Ok(Opened {
        calls,
        current,
        partition: caller.partition,
        reads,
    })
}

/// What to collect for `request`.
pub(crate) fn plan(
    config: &Config,
    request: &RunRequest,
    opened: &Opened,
    run_id: &str,
    stop_at: Option<Instant>,
) -> Plan {
    Plan {
        current_account_id: opened.current.clone(),
        partition: opened.partition.clone(),
        role_name: config.cross_account_role_name.clone(),
        regions: match &request.regions {
            Some(list) => RegionSelection::List(list.clone()),
            None => config.regions.clone(),
        },
        accounts: request.accounts.clone(),
        max_concurrency: config.max_concurrency,
        stop_at,
        run_id: run_id.to_owned(),
    }
}

/// Where a run's files go.
pub(crate) struct Destinations<'a> {
    pub bucket: Option<&'a str>,
    pub out_dir: Option<&'a std::path::Path>,
}

impl<'a> Destinations<'a> {
    pub fn new(config: &'a Config, request: &RunRequest, options: &'a RunOptions) -> Self {
        let write = !request.dry_run;
        Destinations {
            bucket: config.reports_bucket.as_deref().filter(|_| write && options.upload),
            out_dir: options.out_dir.as_deref().filter(|_| write),
        }
    }

    /// The run's temporary folder, only when the reports go somewhere.
    pub fn staging(&self) -> Result<Option<Staging>, RunError> {
        Ok((self.bucket.is_some() || self.out_dir.is_some())
            .then(Staging::new)
            .transpose()?)
    }
}

/// Reads the previous run (for `changes`) into the run's temporary folder.
pub(crate) async fn read_previous(
    clients: &Clients,
    config: &Config,
    calls: &Calls,
    current: &crate::model::AccountId,
    destinations: &Destinations<'_>,
    staging: Option<&Staging>,
) -> Option<PreviousRun> {
    match (staging, destinations.bucket, destinations.out_dir) {
        (Some(staging), Some(bucket), _) => {
            let s3 = clients.s3();
            let source = previous::Bucket {
                client: &s3,
                calls,
                owner: current,
                bucket,
                prefix: &config.report_prefix,
            };
            source.previous(&COMPARED, staging.path()).await
        }
        (Some(_), None, Some(dir)) => previous::from_dir(dir, &COMPARED),
        _ => None,
    }
}

/// Runs one audit and returns its summary.
pub async fn run_audit(
    clients: &Clients,
    config: &Config,
    request: &RunRequest,
    options: &RunOptions,
) -> Result<RunSummary, RunError> {
    let identity = RunIdentity::new(OffsetDateTime::now_utc());
    let calls = Calls::new(RetryPolicy::default(), config.api_rate_limit, options.stop_at);
    let mut opened = open(clients, config, calls, true).await?;
    tracing::info!(run_id = identity.run_id, account = %opened.current, partition = %opened.partition, dry_run = request.dry_run, "audit started");
    let plan = plan(config, request, &opened, &identity.run_id, options.stop_at);
    let destinations = Destinations::new(config, request, options);
    // Removed when this function returns, whether the run succeeded or not.
    let staging = destinations.staging()?;

    // The previous run (for `changes`) is read while this one collects (its requests
    // count against MAX_CONCURRENCY like the others): nothing of this run is written
    // before both are done.
    let previous_read = read_previous(
        clients,
        config,
        &opened.calls,
        &opened.current,
        &destinations,
        staging.as_ref(),
    );
    let reads = opened
        .reads
        .take()
        .ok_or(RunError::Internal("the organization reads were not started"))?;
    // Boxed: the collect future is large and deeply nested.
    let collecting = Box::pin(collect::collect(clients, Arc::clone(&opened.calls), plan, reads, None));
    let (collected, previous) = tokio::join!(collecting, previous_read);
    let collected = match collected? {
        collect::Outcome::Finished(collected) => *collected,
        collect::Outcome::Suspended { .. } => {
            return Err(RunError::Internal("a run without checkpoints was suspended"));
        }
    };
    let finishing = Finishing {
        clients,
        config,
        calls: &opened.calls,
        current: &opened.current,
        identity: &identity,
        dry_run: request.dry_run,
        destinations: &destinations,
    };
    finishing.finish(collected, previous, staging).await
}

/// What writing a run's reports needs.
pub(crate) struct Finishing<'a> {
    pub clients: &'a Clients,
    pub config: &'a Config,
    pub calls: &'a Calls,
    pub current: &'a crate::model::AccountId,
    pub identity: &'a RunIdentity,
    pub dry_run: bool,
    pub destinations: &'a Destinations<'a>,
}

impl Finishing<'_> {
    /// Analyses what was collected, writes the reports, the changes since `previous`,
    /// the page and the summary, to the run's destinations; returns the summary.
    pub async fn finish(
        &self,
        mut collected: collect::Collected,
        previous: Option<PreviousRun>,
        staging: Option<Staging>,
    ) -> Result<RunSummary, RunError> {
        let Finishing {
            clients,
            config,
            calls,
            current,
            identity,
            dry_run,
            destinations,
        } = *self;
        let (bucket, out_dir) = (destinations.bucket, destinations.out_dir);
        let (date, run_id) = (&identity.date, &identity.run_id);
        analysis::sort_errors(&mut collected.inventory.errors);
        let inventory = &collected.inventory;

        let instance_rows = analysis::instance_rows(inventory);
        let duplicates = analysis::duplicated_users(&inventory.stores, inventory.instances.values());
        let counts = analysis::count(inventory, duplicates.len());
        let mut artifacts = match &staging {
            Some(staging) => write_reports(staging, inventory, &instance_rows, &duplicates)?,
            None => Vec::new(),
        };
        // Changes since the previous run (issue 13): compared report by report.
        let changes = match &staging {
            Some(staging) => {
                let (artifact, changes) = write_changes(staging, &artifacts, previous.as_ref(), &inventory.errors)?;
                artifacts.push(artifact);
                changes
            }
            None => Changes::default(),
        };
        // Where each file of the run goes: S3 when uploading, else the folder.
        let mut locations = BTreeMap::new();
        let files = artifacts
            .iter()
            .map(|a| (a.name, a.extension))
            .chain([("summary", "json")]);
        for (name, extension) in files {
            let location = match (bucket, out_dir) {
                (Some(bucket), _) => {
                    let keys = sink::keys(&config.report_prefix, name, extension, date, run_id);
                    format!("s3://{bucket}/{}", keys.dated)
                }
                (None, Some(dir)) => local::path_for(dir, name, extension).display().to_string(),
                (None, None) => continue,
            };
            locations.insert(name.to_owned(), location);
        }
        // Summary page (issue 13): `summary.html` beside `summary.json`, listed in `reports`.
        if let Some(location) = page_location(config, bucket, out_dir, date, run_id) {
            locations.insert(report::page::PAGE.to_owned(), location);
        }

        let (issued, retries) = calls.stats();
        let summary = RunSummary {
            run_id: run_id.clone(),
            started_at: identity.started_at.clone(),
            finished_at: rfc3339(OffsetDateTime::now_utc()),
            complete: !collected.cut_short && counts.read_failures == 0,
            dry_run,
            current_account_id: current.clone(),
            management_account_id: collected.management_account_id.clone(),
            counts,
            reports: locations,
            account_errors: inventory.errors.iter().map(ErrorEntry::from).collect(),
            accounts_not_reached: collected.not_reached.clone(),
            baseline: changes.baseline,
            changes: changes.counts.clone(),
            changes_scope: changes.scope.clone(),
            changes_headline: changes.headline,
        };
        tracing::info!(
            phase = "analyse",
            aws_calls = issued,
            retries,
            complete = summary.complete,
            accounts_failed = summary.counts.accounts_failed,
            baseline = summary.baseline,
            "reports built"
        );
        let Some(staging) = staging else {
            return Ok(summary);
        };
        // The run's page: rendered from the finished summary, written with it.
        let page = summary_page(&summary, inventory, &instance_rows, &duplicates, &changes);
        artifacts.push(staging.bytes("summary", "html", HTML_CONTENT_TYPE, page.as_bytes())?);
        let body = serde_json::to_vec_pretty(&summary)?;
        artifacts.push(staging.bytes("summary", "json", JSON_CONTENT_TYPE, &body)?);
        if let Some(dir) = out_dir {
            local::write_all(dir, &artifacts)?;
            tracing::info!(phase = "write", dir = %dir.display(), "reports written to the folder");
        }
        if let Some(bucket) = bucket {
            let with_keys: Vec<(Artifact, sink::Keys)> = artifacts
                .into_iter()
                .map(|a| {
                    let keys = sink::keys(&config.report_prefix, a.name, a.extension, date, run_id);
                    (a, keys)
                })
                .collect();
            // Uploads keep retrying past the collection deadline: the margin is there for them.
            let upload_calls = Calls::new(RetryPolicy::uploads(), 0.0, None);
            s3_sink::write_all(
                &clients.s3(),
                &upload_calls,
                current,
                bucket,
                &with_keys,
                config.max_concurrency,
            )
            .await?;
            tracing::info!(phase = "write", bucket, prefix = %config.report_prefix, "reports uploaded");
        }
        Ok(summary)
    }
}

/// The reports compared with the previous run's (`account_errors` says itself what
/// failed, and is not compared).
pub(crate) const COMPARED: [&str; 4] = [
    report::INSTANCES,
    report::DUPLICATED_USERS,
    report::APPLICATION_ASSIGNMENTS,
    report::ACCOUNT_ASSIGNMENTS,
];

/// Writes every CSV report of the run to the temporary folder, in the order they are
/// uploaded. Rows go straight from the analyses to the files: the assignment rows are
/// made one at a time as they are written.
fn write_reports(
    staging: &Staging,
    inventory: &Inventory,
    instance_rows: &[InstanceRow<'_>],
    duplicates: &[DuplicateRow],
) -> Result<Vec<Artifact>, StageError> {
    let assignment_rows = analysis::assignment_rows(&inventory.applications, &inventory.instances, &inventory.stores);
    Ok(vec![
        staging.csv(report::INSTANCES, |out| report::write_instances(instance_rows, out))?,
        staging.csv(report::DUPLICATED_USERS, |out| {
            report::write_duplicated_users(duplicates, out)
        })?,
        staging.csv(report::APPLICATION_ASSIGNMENTS, |out| {
            report::write_assignments(assignment_rows, out)
        })?,
        staging.csv(report::ACCOUNT_ASSIGNMENTS, |out| {
            report::write_account_assignments(analysis::AccountAssignmentTable::new(inventory).rows(), out)
        })?,
        staging.csv(report::ACCOUNT_ERRORS, |out| {
            report::write_account_errors(&inventory.errors, out)
        })?,
    ])
}

/// Where the summary page goes: beside `summary.json` (the same stem, `.html`).
fn page_location(
    config: &Config,
    bucket: Option<&str>,
    out_dir: Option<&std::path::Path>,
    date: &str,
    run_id: &str,
) -> Option<String> {
    match (bucket, out_dir) {
        (Some(bucket), _) => {
            let keys = sink::keys(&config.report_prefix, "summary", "html", date, run_id);
            Some(format!("s3://{bucket}/{}", keys.dated))
        }
        (None, Some(dir)) => Some(local::path_for(dir, "summary", "html").display().to_string()),
        (None, None) => None,
    }
}

/// The summary page as an artifact named `summary`, so the sinks write it where they
/// write `summary.json` and its `latest/` copy comes last with it.
fn summary_page(
    summary: &RunSummary,
    inventory: &Inventory,
    instance_rows: &[analysis::InstanceRow<'_>],
    duplicates: &[analysis::DuplicateRow],
    changes: &Changes,
) -> String {
    let application_rows = analysis::assignment_rows(&inventory.applications, &inventory.instances, &inventory.stores);
    let disabled = analysis::disabled_access(
        application_rows,
        analysis::AccountAssignmentTable::new(inventory).rows(),
    );
    let page = report::page::PageData {
        summary,
        accounts: &inventory.accounts,
        instances: instance_rows,
        duplicates,
        disabled: &disabled,
        changes: (!changes.baseline).then_some(changes.first.as_slice()),
        changes_not_held: changes.not_kept,
    };
    report::page::render(&page)
}

/// What the comparison with the previous run gave, for the summary and the page.
#[derive(Debug)]
struct Changes {
    baseline: bool,
    counts: BTreeMap<String, ChangeCounts>,
    scope: ChangesScope,
    headline: ChangeHeadline,
    /// The first rows of the `changes` report (for the page), and how many more.
    first: Vec<analysis::ChangeRow>,
    not_kept: usize,
}

impl Default for Changes {
    fn default() -> Self {
        Changes {
            baseline: true,
            counts: BTreeMap::new(),
            scope: ChangesScope::default(),
            headline: ChangeHeadline::default(),
            first: Vec::new(),
            not_kept: 0,
        }
    }
}

/// Writes the `changes` report: each CSV report of this run (but `account_errors`)
/// compared with the previous run's, leaving out what either run could not read. Without
/// a previous run, an empty report and a baseline. A report that cannot be compared is
/// logged and named in the scope; only failing to write the file fails the run.
fn write_changes(
    staging: &Staging,
    current: &[Artifact],
    previous: Option<&PreviousRun>,
    errors: &[crate::model::AccountError],
) -> Result<(Artifact, Changes), StageError> {
    let mut changes = Changes::default();
    let artifact = staging.csv(report::CHANGES, |file| {
        let mut writer = report::ChangesWriter::new(file, report::page::MAX_ROWS)?;
        if let Some(previous) = previous {
            let current_errors: Vec<analysis::ScopeError> = errors
                .iter()
                .map(|e| analysis::ScopeError {
                    account_id: e.account_id.to_string(),
                    stage: e.stage.as_str().to_owned(),
                    error_code: e.code.as_str().to_owned(),
                    resource: e.resource.clone(),
                    message: e.message.clone(),
                })
                .collect();
            let mut scope = analysis::Scope::default();
            scope.add_errors(Side::Previous, &previous.errors);
            scope.add_errors(Side::Current, &current_errors);
            changes.scope.previous_run_id = Some(previous.run_id.clone());
            changes.scope.reports_not_compared = previous.unavailable.clone();
            for artifact in current
                .iter()
                .filter(|a| a.extension == "csv" && a.name != report::ACCOUNT_ERRORS)
            {
                let Some(previous_path) = previous.reports.get(artifact.name) else {
                    continue;
                };
                let opened = std::fs::File::open(previous_path).and_then(|p| Ok((p, std::fs::File::open(&artifact.path)?)));
                let (previous_file, current_file) = match opened {
                    Ok(files) => files,
                    Err(error) => {
                        tracing::warn!(phase = "changes", report = artifact.name, %error, "cannot open the reports to compare: not compared");
                        changes.scope.reports_not_compared.insert(artifact.name.to_owned(), error.to_string());
                        continue;
                    }
                };
                let mut emit = |row| writer.write(row);
                match analysis::diff_report(artifact.name, previous_file, current_file, &scope, &mut emit) {
                    Ok(diff) => {
                        changes.baseline = false;
                        changes.counts.insert(
                            artifact.name.to_owned(),
                            ChangeCounts {
                                added: diff.added,
                                removed: diff.removed,
                                changed: diff.changed,
                            },
                        );
                        let h = &mut changes.headline;
                        h.new_account_instances += diff.new_account_instances;
                        h.removed_instances += diff.removed_instances;
                        if artifact.name == report::APPLICATION_ASSIGNMENTS || artifact.name == report::ACCOUNT_ASSIGNMENTS {
                            h.access_added += diff.added;
                            h.access_removed += diff.removed;
                        }
                    }
                    Err(DiffError::Emit(error)) => return Err(error),
                    Err(error) => {
                        tracing::warn!(phase = "changes", report = artifact.name, %error, "report not compared");
                        changes.scope.reports_not_compared.insert(artifact.name.to_owned(), error.to_string());
                    }
                }
            }
            changes.scope.excluded = scope;
        }
        let written = writer.finish()?;
        changes.first = written.first;
        changes.not_kept = written.not_kept;
        Ok(written.out)
    })?;
    tracing::info!(
        phase = "changes",
        baseline = changes.baseline,
        previous_run = changes.scope.previous_run_id.as_deref().unwrap_or(""),
        rows = changes
            .counts
            .values()
            .map(|c| c.added + c.removed + c.changed)
            .sum::<usize>(),
        "changes since the previous run"
    );
    Ok((artifact, changes))
}
