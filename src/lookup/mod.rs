//! The leaver check, start to finish: config -> collect (`collect::person`) -> the
//! `person_access` rows -> the answer (JSON, text) -> where it is written
//! (`DIR/person_access.csv` and `DIR/account_errors.csv`; S3
//! `{REPORT_PREFIX}/lookups/date=YYYY-MM-DD/{run_id}.csv`).
//!
//! Shared by the command `find-person` and the Lambda event `{"find_people": [...]}`.

pub mod event;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use tokio::time::Instant;

use crate::analysis::person_access::{email_query, person_access_rows, user_matches, user_name_query};
use crate::collect::person::{LookupRequest, Matcher, find_people};
use crate::collect::{self, Calls, Clients, Plan, RetryPolicy, Service};
use crate::config::Config;
use crate::report::person_access::{
    LookupCounts, LookupResult, PERSON_ACCESS, is_complete, people, write_person_access,
};
use crate::report::{self, ErrorEntry};
use crate::run::RunError;
use crate::sink::local;
use crate::sink::s3::UploadError;
use crate::sink::staging::{CSV_CONTENT_TYPE, StageError, Staging};

pub use event::PersonRequest;

/// How this lookup writes, and when it must stop.
#[derive(Clone, Debug, Default)]
pub struct LookupOptions {
    /// Also write `DIR/person_access.csv` and `DIR/account_errors.csv`.
    pub out_dir: Option<PathBuf>,
    /// Upload `person_access` to the configured bucket (when one is configured).
    pub upload: bool,
    /// Start no new retry after this instant.
    pub stop_at: Option<Instant>,
}

/// Looks the people up and writes the answer.
pub async fn run_lookup(
    clients: &Clients,
    config: &Config,
    request: &PersonRequest,
    options: &LookupOptions,
) -> Result<LookupResult, RunError> {
    let started_at = OffsetDateTime::now_utc();
    let stamp = started_at
        .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
        .unwrap_or_default();
    let run_id = format!("{stamp}-{:08x}", fastrand::u32(..));
    let calls = Arc::new(
        Calls::new(RetryPolicy::default(), config.api_rate_limit, options.stop_at)
            .with_concurrency(config.max_concurrency),
    );
    let caller = collect::caller_identity(clients, &calls)
        .await
        .map_err(RunError::Credentials)?;
    if let Some(configured) = &config.current_account_id
        && configured != &caller.account_id
    {
        return Err(RunError::AccountMismatch {
            configured: configured.to_string(),
            actual: caller.account_id.to_string(),
        });
    }
    let current = caller.account_id.clone();
    let queries = request
        .emails
        .iter()
        .filter_map(|e| email_query(e))
        .chain(request.user_names.iter().filter_map(|u| user_name_query(u)))
        .collect();
    tracing::info!(run_id, account = %current, people = request.emails.len() + request.user_names.len(), scan = request.scan, "lookup started");
    let plan = Plan {
        current_account_id: current.clone(),
        partition: caller.partition.clone(),
        role_name: config.cross_account_role_name.clone(),
        regions: config.regions.clone(),
        accounts: None,
        max_concurrency: config.max_concurrency,
        stop_at: options.stop_at,
        run_id: run_id.clone(),
    };
    let matcher: Option<Arc<Matcher>> = request.scan.then(|| Arc::new(user_matches) as Arc<Matcher>);
    let lookup = Box::pin(find_people(
        clients,
        Arc::clone(&calls),
        plan,
        LookupRequest { queries, scan: matcher },
    ))
    .await?;

    let rows = person_access_rows(&lookup);
    // Encoded in memory: a lookup's answer is a few rows per person.
    let in_memory = |name: &'static str| {
        move |source| StageError::Encode {
            path: PathBuf::from(format!("(memory)/{name}.csv")),
            source,
        }
    };
    let csv = write_person_access(&rows, Vec::new()).map_err(in_memory(PERSON_ACCESS))?;
    let errors_csv =
        report::write_account_errors(&lookup.errors, Vec::new()).map_err(in_memory(report::ACCOUNT_ERRORS))?;
    let date = started_at
        .format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default();
    let write = !request.dry_run;
    let bucket = config.reports_bucket.as_deref().filter(|_| write && options.upload);
    let out_dir = options.out_dir.as_deref().filter(|_| write);
    let key = format!("{}/lookups/date={date}/{run_id}.csv", config.report_prefix);
    let mut reports = BTreeMap::new();
    if let Some(dir) = out_dir {
        reports.insert(
            PERSON_ACCESS.to_owned(),
            local::path_for(dir, PERSON_ACCESS, "csv").display().to_string(),
        );
        reports.insert(
            report::ACCOUNT_ERRORS.to_owned(),
            local::path_for(dir, report::ACCOUNT_ERRORS, "csv")
                .display()
                .to_string(),
        );
    }
    if let Some(bucket) = bucket {
        reports.insert(PERSON_ACCESS.to_owned(), format!("s3://{bucket}/{key}"));
    }
    let failed_stores: std::collections::BTreeSet<&str> = lookup
        .errors
        .iter()
        .filter(|e| e.stage == crate::model::Stage::IdentityStore)
        .map(|e| e.resource.as_str())
        .collect();
    let people = people(&lookup);
    let (issued, retries) = calls.stats();
    let result = LookupResult {
        run_id: run_id.clone(),
        started_at: started_at.format(&Rfc3339).unwrap_or_default(),
        finished_at: OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        complete: is_complete(&lookup),
        dry_run: request.dry_run,
        current_account_id: current.clone(),
        management_account_id: lookup.management_account_id.clone(),
        matching: if lookup.scanned { "scan" } else { "exact_or_lower_case" },
        counts: LookupCounts {
            accounts: lookup.accounts.len(),
            stores_searched: lookup.stores.len(),
            stores_failed: failed_stores.len(),
            people: lookup.queries.len(),
            people_found: people.iter().filter(|p| p.found).count(),
            aws_calls: issued,
        },
        people,
        reports,
        account_errors: lookup.errors.iter().map(ErrorEntry::from).collect(),
    };
    tracing::info!(
        phase = "lookup",
        aws_calls = issued,
        retries,
        complete = result.complete,
        "lookup done"
    );
    if let Some(dir) = out_dir {
        // A lookup's answer is small: held in memory, staged only to reuse the folder sink.
        let staging = Staging::new()?;
        let artifacts = [
            staging.bytes(PERSON_ACCESS, "csv", CSV_CONTENT_TYPE, &csv)?,
            staging.bytes(report::ACCOUNT_ERRORS, "csv", CSV_CONTENT_TYPE, &errors_csv)?,
        ];
        local::write_all(dir, &artifacts)?;
    }
    if let Some(bucket) = bucket {
        // Uploads keep retrying past the deadline margin: the margin is there for them.
        let upload_calls = Calls::new(RetryPolicy::uploads(), 0.0, None);
        let client = clients.s3();
        upload_calls
            .run(&current, Service::S3, "PutObject", || {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(&key)
                    .expected_bucket_owner(current.as_str())
                    .content_type(CSV_CONTENT_TYPE)
                    .body(ByteStream::from(csv.clone()))
                    .send()
            })
            .await
            .map_err(|source| UploadError {
                owner: current.clone(),
                bucket: bucket.to_owned(),
                key: key.clone(),
                source,
            })?;
        tracing::info!(phase = "write", bucket, key, "lookup uploaded");
    }
    Ok(result)
}
