//! The Lambda handler: an ordinary async function, callable from tests without Lambda.

use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::time::Instant;

use crate::collect::Clients;
use crate::config::Config;
use crate::continuation::{ContinueAnswer, ContinueError};
use crate::event::{EventError, RunRequest};
use crate::report::RunSummary;
use crate::run::{RunError, RunOptions, run_audit};

/// What every invocation shares: loaded once per Lambda environment.
#[derive(Clone, Debug)]
pub struct App {
    pub clients: Clients,
    pub config: Config,
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Continue(#[from] ContinueError),
    /// The function's configuration (its environment) is invalid: every invocation
    /// fails with this message until it is fixed.
    #[error("{0}")]
    Configuration(String),
}

/// When to stop starting work: the deadline less the configured margin.
pub fn stop_instant(deadline: SystemTime, margin: Duration) -> Instant {
    let remaining = deadline.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
    Instant::now() + remaining.saturating_sub(margin)
}

/// Handles one event. `deadline` is the invocation's deadline (Lambda's context).
pub async fn handle(app: &App, event: &Value, deadline: Option<SystemTime>) -> Result<RunSummary, HandlerError> {
    let request = RunRequest::from_event(event)?;
    let options = RunOptions {
        out_dir: None,
        upload: true,
        stop_at: deadline.map(|d| stop_instant(d, app.config.deadline_margin)),
    };
    let summary = run_audit(&app.clients, &app.config, &request, &options).await?;
    Ok(summary)
}

/// The CloudWatch embedded-metric-format line for a run, in namespace `IdcReport` by
/// function name: `ReadFailures` (every failed read, which an alarm watches),
/// `AccountsFailed`, `AccountsNotReached`, `DuplicatedUsers`, and the changes since the
/// previous run: `NewAccountInstances` (an alarm watches it), `RemovedInstances`,
/// `AccessAdded` and `AccessRemoved` (all 0 on a baseline).
pub fn metrics_line(summary: &RunSummary, function_name: &str, now_ms: u128) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": now_ms as u64,
            "CloudWatchMetrics": [{
                "Namespace": "IdcReport",
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    {"Name": "ReadFailures", "Unit": "Count"},
                    {"Name": "AccountsFailed", "Unit": "Count"},
                    {"Name": "AccountsNotReached", "Unit": "Count"},
                    {"Name": "DuplicatedUsers", "Unit": "Count"},
                    {"Name": "NewAccountInstances", "Unit": "Count"},
                    {"Name": "RemovedInstances", "Unit": "Count"},
                    {"Name": "AccessAdded", "Unit": "Count"},
                    {"Name": "AccessRemoved", "Unit": "Count"}
                ]
            }]
        },
        "FunctionName": function_name,
        "ReadFailures": summary.counts.read_failures,
        "AccountsFailed": summary.counts.accounts_failed,
        "AccountsNotReached": summary.counts.accounts_not_reached,
        "DuplicatedUsers": summary.counts.duplicated_users,
        "NewAccountInstances": summary.changes_headline.new_account_instances,
        "RemovedInstances": summary.changes_headline.removed_instances,
        "AccessAdded": summary.changes_headline.access_added,
        "AccessRemoved": summary.changes_headline.access_removed,
        "run_id": summary.run_id,
    })
    .to_string()
}

impl HandlerError {
    /// A short, stable name for the kind of failure (Lambda's `errorType`).
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Continue(ContinueError::Run(run)) => HandlerError::run_error_type(run),
            HandlerError::Continue(ContinueError::NoBucket) => "InvalidConfiguration",
            HandlerError::Continue(ContinueError::NoProgress { .. }) => "NoProgress",
            HandlerError::Continue(_) => "CheckpointFailed",
            HandlerError::Event(_) => "InvalidEvent",
            HandlerError::Configuration(_) => "InvalidConfiguration",
            HandlerError::Run(run) => HandlerError::run_error_type(run),
        }
    }

    fn run_error_type(run: &RunError) -> &'static str {
        match run {
            RunError::Credentials(_) => "NoCredentials",
            RunError::AccountMismatch { .. } => "InvalidConfiguration",
            RunError::Collect(crate::collect::CollectError::Checkpoint(_)) => "CheckpointFailed",
            RunError::Collect(_) => "OrganizationUnreadable",
            RunError::Upload(_) => "ReportUploadFailed",
            RunError::LocalWrite(_) => "ReportWriteFailed",
            RunError::Encode(_) | RunError::Summary(_) => "ReportEncodingFailed",
            RunError::Internal(_) => "InternalError",
        }
    }
}

impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(err: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: err.error_type().to_owned(),
            error_message: err.to_string(),
        }
    }
}

// ---- the leaver check (find-person) -------------------------------------------------------

/// What an invocation answers: an audit's summary or a lookup's result.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Answer {
    Audit(Box<RunSummary>),
    /// An invocation of a resumable run (`continue_run`).
    Continued(Box<ContinueAnswer>),
    Lookup(Box<crate::report::person_access::LookupResult>),
}

/// Handles any event: a lookup (`{"find_people": [...]}`) or an audit (everything else).
pub async fn invoke(app: &App, event: &Value, deadline: Option<SystemTime>) -> Result<Answer, HandlerError> {
    let Some(request) = crate::lookup::PersonRequest::from_event(event) else {
        let request = RunRequest::from_event(event)?;
        if let Some(continuation) = &request.continue_run {
            let options = RunOptions {
                out_dir: None,
                upload: true,
                stop_at: deadline.map(|d| stop_instant(d, app.config.deadline_margin)),
            };
            let answer = Box::pin(crate::continuation::continue_run(
                &app.clients,
                &app.config,
                &request,
                continuation,
                &options,
            ))
            .await?;
            return Ok(Answer::Continued(Box::new(answer)));
        }
        return Ok(Answer::Audit(Box::new(handle(app, event, deadline).await?)));
    };
    let request = request?;
    let options = crate::lookup::LookupOptions {
        out_dir: None,
        upload: true,
        stop_at: deadline.map(|d| stop_instant(d, app.config.deadline_margin)),
    };
    let result = Box::pin(crate::lookup::run_lookup(&app.clients, &app.config, &request, &options)).await?;
    Ok(Answer::Lookup(Box::new(result)))
}
