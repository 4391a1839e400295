//! A run across invocations, for audits that outlast one Lambda invocation (the Step
//! Functions workflow): each invocation goes on from the run's checkpoint, saves a new
//! one at its deadline margin (and every `CHECKPOINT_INTERVAL_SECONDS` meanwhile, so a
//! crash loses little), and the invocation that finishes the collection writes the
//! reports exactly as a one-shot run does, with the run id and start time of the first.
//!
//! Every invocation of a run gets the same event, so a retried invocation is harmless:
//! it goes on from the last checkpoint saved, and after the end it returns the stored
//! answer (`done.json`) without reading AWS again. A checkpoint is replaced whole, so
//! an invocation killed at any point leaves the last complete one.

use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::collect::checkpoint::{self, CheckpointFileError, Checkpointing, SavedFile};
use crate::collect::reopen::Reopener;
use crate::collect::{self, Calls, Clients, OrganizationReads, Outcome, RetryPolicy};
use crate::config::Config;
use crate::event::{Continuation, RunRequest};
use crate::model::AccountId;
use crate::run::{self, Destinations, Finishing, RunError, RunIdentity, RunOptions};
use crate::sink::checkpoints::{CHECKPOINT, CheckpointStore, DONE, StoreError};
use crate::sink::previous;

/// What an invocation of a resumable run answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContinueAnswer {
    /// True when the reports are written and `summary` is the run's.
    pub done: bool,
    pub run_id: String,
    /// Which invocation of the run this is (1 for the first).
    pub invocation: u32,
    /// Units of work left for the next invocation (not done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_units: Option<usize>,
    /// The checkpoint saved or read by this invocation (not done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<CheckpointStats>,
    /// The run summary, as a one-shot run returns it (done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
    /// The summary of the run this invocation ended (not when the answer is replayed
    /// from `done.json`): the run's metrics are published once.
    #[serde(skip)]
    pub ended: Option<Box<crate::report::RunSummary>>,
}

/// What keeping the run's state cost this invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointStats {
    pub key: String,
    pub bytes: u64,
    /// Writing the snapshot and uploading it.
    pub save_ms: u64,
    /// Downloading and reading the previous invocation's (0 for the first).
    pub load_ms: u64,
}

/// Why an invocation of a resumable run failed.
#[derive(Debug, thiserror::Error)]
pub enum ContinueError {
    #[error("configuration error: continue_run keeps the run's checkpoints in the reports bucket; set reports_bucket")]
    NoBucket,
    #[error("checkpoint: {0}")]
    Store(#[from] StoreError),
    #[error("checkpoint: {0}")]
    File(#[from] CheckpointFileError),
    #[error("checkpoint: cannot encode {what}: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "no progress: this invocation ended no unit of work in its {window_s} s before the deadline margin (one read takes longer, e.g. a store's users at API_RATE_LIMIT per second), so the next would stop where it did; give the function a longer timeout or a smaller DEADLINE_MARGIN_SECONDS"
    )]
    NoProgress { window_s: u64 },
    #[error(transparent)]
    Run(#[from] RunError),
}

/// What the run keeps in its checkpoint besides the collection: who it is and what
/// its first invocation was asked.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct RunRecord {
    name: String,
    execution_started_at: String,
    identity: RunIdentity,
    accounts: Option<Vec<AccountId>>,
    regions: Option<Vec<String>>,
    dry_run: bool,
    invocation: u32,
    /// The dated summary of the run that was latest when this one started: what its
    /// `changes` compare with, whatever `latest/` holds when it ends.
    previous_summary: Option<String>,
}

impl RunRecord {
    fn request(&self) -> RunRequest {
        RunRequest {
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
            dry_run: self.dry_run,
            continue_run: None,
        }
    }
}

/// `done.json`: the answer of a run that has ended, and which run it was.
#[derive(Serialize, Deserialize)]
struct DoneRecord {
    execution_started_at: String,
    answer: ContinueAnswer,
}

/// Where this invocation's collection starts.
enum Start {
    /// The run's first invocation: the organization reads begin.
    Fresh(OrganizationReads),
    /// From the run's checkpoint.
    Resumed(Box<checkpoint::Snapshot>),
}

/// One invocation of the resumable run `continuation` names.
pub async fn continue_run(
    clients: &Clients,
    config: &Config,
    request: &RunRequest,
    continuation: &Continuation,
    options: &RunOptions,
) -> Result<ContinueAnswer, ContinueError> {
    let invocation_started = tokio::time::Instant::now();
    let bucket = config.reports_bucket.as_deref().ok_or(ContinueError::NoBucket)?;
    // Retries are not cut short by the deadline here: the run stops there and saves the
    // units that were running, to be read again whole by the next invocation.
    let calls = Calls::new(RetryPolicy::default(), config.api_rate_limit, None);
    let opened = run::open(clients, config, calls, false).await?;
    let s3 = clients.s3();
    let store_calls = Calls::new(RetryPolicy::uploads(), 0.0, None);
    let store = CheckpointStore {
        client: &s3,
        calls: &store_calls,
        owner: &opened.current,
        bucket,
        folder: format!("{}/checkpoints/{}", config.report_prefix, continuation.name),
    };

    let present = store.present().await?;
    let done = match present.contains(DONE) {
        true => store.get_bytes(DONE).await?,
        false => None,
    };
    if let Some(body) = done {
        match serde_json::from_slice::<DoneRecord>(&body) {
            Ok(done) if done.execution_started_at == continuation.started_at => {
                tracing::info!(
                    phase = "checkpoint",
                    run = continuation.name,
                    "the run has ended already: its answer again"
                );
                return Ok(done.answer);
            }
            Ok(_) => tracing::warn!(
                phase = "checkpoint",
                run = continuation.name,
                "an older run of the same name ended here: this one starts afresh"
            ),
            Err(error) => {
                tracing::warn!(phase = "checkpoint", run = continuation.name, %error, "done.json cannot be read: ignored")
            }
        }
    }

    let loading = StdInstant::now();
    let saved = match present.contains(CHECKPOINT) {
        true => store.get_file(CHECKPOINT).await?,
        false => None,
    };
    let resumed = match saved {
        None => None,
        Some(file) => match checkpoint::read_header(file.path()) {
            Ok(header) => match serde_json::from_value::<RunRecord>(header.run) {
                Ok(record)
                    if header.format == checkpoint::FORMAT
                        && record.execution_started_at == continuation.started_at =>
                {
                    Some((file, record))
                }
                Ok(_) => {
                    tracing::warn!(
                        phase = "checkpoint",
                        run = continuation.name,
                        "the checkpoint is another run's (or another version's): this run starts afresh"
                    );
                    None
                }
                Err(error) => {
                    tracing::warn!(phase = "checkpoint", run = continuation.name, %error, "the checkpoint cannot be read: this run starts afresh");
                    None
                }
            },
            Err(error) => {
                tracing::warn!(phase = "checkpoint", run = continuation.name, %error, "the checkpoint cannot be read: this run starts afresh");
                None
            }
        },
    };

    let (saves_tx, mut saves_rx) = mpsc::channel::<SavedFile>(1);
    let interval = config.checkpoint_interval;
    let (start, record, load_ms) = match resumed {
        None => {
            let identity = RunIdentity::new(OffsetDateTime::now_utc());
            let previous_summary = match (request.dry_run, options.upload) {
                (false, true) => {
                    previous::Bucket {
                        client: &s3,
                        calls: &store_calls,
                        owner: &opened.current,
                        bucket,
                        prefix: &config.report_prefix,
                    }
                    .latest_summary_key()
                    .await
                }
                _ => None,
            };
            let record = RunRecord {
                name: continuation.name.clone(),
                execution_started_at: continuation.started_at.clone(),
                identity,
                accounts: request.accounts.clone(),
                regions: request.regions.clone(),
                dry_run: request.dry_run,
                invocation: 1,
                previous_summary,
            };
            tracing::info!(run_id = record.identity.run_id, run = continuation.name, account = %opened.current, "resumable audit started");
            let reads = OrganizationReads::start(clients, &opened.calls, &opened.current, config.max_concurrency >= 2);
            (Start::Fresh(reads), record, 0)
        }
        Some((file, mut record)) => {
            record.invocation += 1;
            let reopener = Arc::new(Reopener::new(
                clients,
                None,
                opened.current.clone(),
                opened.partition.clone(),
                config.cross_account_role_name.clone(),
                format!("idc-report-{}", record.identity.run_id),
            ));
            let snapshot = checkpoint::read(file.path(), &reopener)?;
            drop(file);
            let load_ms = millis(loading.elapsed());
            tracing::info!(
                run_id = record.identity.run_id,
                run = continuation.name,
                invocation = record.invocation,
                pending_units = snapshot.pending.len(),
                load_ms,
                "resumable audit goes on"
            );
            (Start::Resumed(Box::new(snapshot)), record, load_ms)
        }
    };
    let plan = run::plan(
        config,
        &record.request(),
        &opened,
        &record.identity.run_id,
        options.stop_at,
    );
    let checkpointing = (
        Checkpointing {
            interval,
            run: encode(&record, "the run record")?,
        },
        saves_tx,
    );
    let calls = Arc::clone(&opened.calls);
    let collecting = Box::pin(async move {
        match start {
            Start::Fresh(reads) => collect::collect(clients, calls, plan, reads, Some(checkpointing)).await,
            Start::Resumed(snapshot) => collect::resume(clients, calls, plan, *snapshot, checkpointing).await,
        }
    });
    let (outcome, ()) = tokio::join!(collecting, save_periodic(&store, &mut saves_rx));
    let outcome = outcome.map_err(RunError::from)?;

    match outcome {
        Outcome::Suspended {
            checkpoint: saved,
            progressed,
        } => {
            if !progressed {
                // The checkpoint it would save is the one it read: nothing to save.
                return Err(ContinueError::NoProgress {
                    window_s: options
                        .stop_at
                        .map(|stop| stop.saturating_duration_since(invocation_started).as_secs())
                        .unwrap_or(0),
                });
            }
            let save_ms = save(&store, &saved).await?;
            tracing::info!(
                phase = "checkpoint",
                run_id = record.identity.run_id,
                invocation = record.invocation,
                pending_units = saved.pending_units,
                bytes = saved.bytes,
                save_ms,
                "deadline reached: the run goes on in the next invocation"
            );
            Ok(ContinueAnswer {
                done: false,
                run_id: record.identity.run_id,
                invocation: record.invocation,
                pending_units: Some(saved.pending_units),
                checkpoint: Some(CheckpointStats {
                    key: store.location(CHECKPOINT),
                    bytes: saved.bytes,
                    save_ms,
                    load_ms,
                }),
                summary: None,
                ended: None,
            })
        }
        Outcome::Finished(collected) => {
            let request = record.request();
            let destinations = Destinations::new(config, &request, options);
            let staging = destinations.staging()?;
            let previous = match (&staging, destinations.bucket, &record.previous_summary) {
                (Some(staging), Some(bucket), Some(key)) => {
                    previous::Bucket {
                        client: &s3,
                        calls: &opened.calls,
                        owner: &opened.current,
                        bucket,
                        prefix: &config.report_prefix,
                    }
                    .previous_at(key, &run::COMPARED, staging.path())
                    .await
                }
                (Some(staging), None, _) => {
                    run::read_previous(
                        clients,
                        config,
                        &opened.calls,
                        &opened.current,
                        &destinations,
                        Some(staging),
                    )
                    .await
                }
                _ => None,
            };
            let finishing = Finishing {
                clients,
                config,
                calls: &opened.calls,
                current: &opened.current,
                identity: &record.identity,
                dry_run: record.dry_run,
                destinations: &destinations,
            };
            let summary = finishing.finish(*collected, previous, staging).await?;
            let answer = ContinueAnswer {
                done: true,
                run_id: record.identity.run_id.clone(),
                invocation: record.invocation,
                pending_units: None,
                checkpoint: None,
                summary: Some(compact(encode(&summary, "the run summary")?)),
                ended: None,
            };
            let done = DoneRecord {
                execution_started_at: continuation.started_at.clone(),
                answer,
            };
            let body = serde_json::to_vec(&done).map_err(|source| ContinueError::Encode {
                what: "done.json",
                source,
            })?;
            store.put_bytes(DONE, &body).await?;
            if let Err(error) = store.delete(CHECKPOINT).await {
                tracing::warn!(phase = "checkpoint", %error, "the finished run's checkpoint could not be deleted: the lifecycle rule will expire it");
            }
            tracing::info!(
                phase = "checkpoint",
                run_id = record.identity.run_id,
                invocations = record.invocation,
                "the resumable run has ended"
            );
            Ok(ContinueAnswer {
                ended: Some(Box::new(summary)),
                ..done.answer
            })
        }
    }
}

/// Saves the snapshots the collection takes while it runs, one at a time, in order;
/// ends when the collection does.
/// One that fails is logged and the run goes on: the checkpoint at the deadline is the
/// one that must be saved.
async fn save_periodic(store: &CheckpointStore<'_>, saves: &mut mpsc::Receiver<SavedFile>) {
    while let Some(saved) = saves.recv().await {
        match save(store, &saved).await {
            Ok(save_ms) => tracing::info!(
                phase = "checkpoint",
                pending_units = saved.pending_units,
                bytes = saved.bytes,
                save_ms,
                "checkpoint saved"
            ),
            Err(error) => {
                tracing::warn!(phase = "checkpoint", %error, "a periodic checkpoint could not be saved; the run goes on")
            }
        }
    }
}

/// Uploads a snapshot as the run's checkpoint; the time to write and upload it.
async fn save(store: &CheckpointStore<'_>, saved: &SavedFile) -> Result<u64, StoreError> {
    let started = StdInstant::now();
    store.put_file(CHECKPOINT, saved.file.path(), saved.bytes).await?;
    Ok(millis(saved.write_time + started.elapsed()))
}

/// Lists of the summary an answer holds at most this many entries of.
pub const ANSWER_LIST_LIMIT: usize = 20;
/// Step Functions keeps at most 256 KiB of state: an answer stays well under it.
const ANSWER_BYTES_LIMIT: usize = 128 * 1024;

/// The run summary as an answer carries it: whole, but for its lists of accounts
/// (`account_errors`, `accounts_not_reached`), cut to their first entries with their
/// totals beside them (`account_errors_total`, ...); `summary.json` (named in `reports`)
/// has them all. Past the size Step Functions keeps, only the counts, the reports and
/// whether the run is complete.
fn compact(mut summary: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = summary.as_object_mut() {
        for list in ["account_errors", "accounts_not_reached"] {
            if let Some(serde_json::Value::Array(items)) = fields.get_mut(list) {
                let total = items.len();
                items.truncate(ANSWER_LIST_LIMIT);
                fields.insert(format!("{list}_total"), total.into());
            }
        }
    }
    let size = serde_json::to_vec(&summary).map(|b| b.len()).unwrap_or(usize::MAX);
    if size <= ANSWER_BYTES_LIMIT {
        return summary;
    }
    let keep = [
        "run_id",
        "started_at",
        "finished_at",
        "complete",
        "counts",
        "reports",
        "account_errors_total",
        "accounts_not_reached_total",
    ];
    let mut small = serde_json::Map::new();
    if let serde_json::Value::Object(fields) = summary {
        for (key, value) in fields {
            if keep.contains(&key.as_str()) {
                small.insert(key, value);
            }
        }
    }
    small.insert(
        "note".into(),
        "the summary is too large for Step Functions' state: the whole of it is summary.json (reports.summary)".into(),
    );
    serde_json::Value::Object(small)
}

fn encode<T: Serialize>(value: &T, what: &'static str) -> Result<serde_json::Value, ContinueError> {
    serde_json::to_value(value).map_err(|source| ContinueError::Encode { what, source })
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_answer_keeps_its_lists_short_and_says_how_long_they_were() {
        let errors: Vec<_> = (0..500).map(|n| json!({"account_id": format!("{n:012}")})).collect();
        let answer = compact(json!({"run_id": "r", "counts": {"users": 1}, "account_errors": errors,
                                    "accounts_not_reached": ["111122223333"]}));
        assert_eq!(answer["account_errors"].as_array().unwrap().len(), ANSWER_LIST_LIMIT);
        assert_eq!(answer["account_errors"][0]["account_id"], "000000000000");
        assert_eq!(answer["account_errors_total"], 500);
        assert_eq!(answer["accounts_not_reached"], json!(["111122223333"]));
        assert_eq!(answer["accounts_not_reached_total"], 1);
        assert_eq!(answer["counts"]["users"], 1);
    }

    #[test]
    fn an_answer_past_the_state_limit_keeps_the_counts_and_where_the_summary_is() {
        let huge = "x".repeat(200 * 1024);
        let answer = compact(json!({"run_id": "r", "complete": true, "counts": {"users": 1},
                                    "reports": {"summary": "s3://b/k"}, "changes_scope": {"note": huge}}));
        assert!(serde_json::to_vec(&answer).unwrap().len() < ANSWER_BYTES_LIMIT);
        assert_eq!(answer["reports"]["summary"], "s3://b/k");
        assert_eq!(answer["complete"], true);
        assert!(answer.get("changes_scope").is_none());
        assert!(answer["note"].as_str().unwrap().contains("summary.json"));
    }
}
