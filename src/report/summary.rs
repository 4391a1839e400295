//! The run summary: what the handler returns and what lands beside the reports.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::Counts;
use crate::model::{AccountError, AccountId};

/// One `account_errors` entry in the summary (the same content as the CSV row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    pub account_id: String,
    pub region: String,
    pub stage: &'static str,
    pub error_code: &'static str,
    pub message: String,
}

impl From<&AccountError> for ErrorEntry {
    fn from(e: &AccountError) -> Self {
        ErrorEntry {
            account_id: e.account_id.to_string(),
            region: e.region.clone(),
            stage: e.stage.as_str(),
            error_code: e.code.as_str(),
            message: e.message.clone(),
        }
    }
}

/// The run summary, serialised as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: String,
    /// True when every read the run set out to do succeeded: no account, store part,
    /// application, group or pair failed (`counts.read_failures` is 0) and the deadline
    /// did not stop any. Skipped accounts (not ACTIVE) do not make a run incomplete.
    pub complete: bool,
    pub dry_run: bool,
    pub current_account_id: AccountId,
    pub management_account_id: AccountId,
    pub counts: Counts,
    /// Report name to where it was written (`s3://...` or a local path).
    pub reports: BTreeMap<String, String>,
    pub account_errors: Vec<ErrorEntry>,
    /// Accounts the run did not reach before the deadline.
    pub accounts_not_reached: Vec<AccountId>,
}
