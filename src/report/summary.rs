//! The run summary: what the handler returns and what lands beside the reports.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::analysis::{Counts, Scope};
use crate::model::{AccountError, AccountId};

/// One `account_errors` entry in the summary (the same content as the CSV row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErrorEntry {
    pub account_id: String,
    pub region: String,
    pub stage: &'static str,
    pub error_code: &'static str,
    /// What could not be read (an identity store id, instance, application or
    /// permission set ARN, `store/group`); empty when the whole account is concerned.
    /// The next run reads it to leave that out of its comparison.
    pub resource: String,
    pub message: String,
}

impl From<&AccountError> for ErrorEntry {
    fn from(e: &AccountError) -> Self {
        ErrorEntry {
            account_id: e.account_id.to_string(),
            region: e.region.clone(),
            stage: e.stage.as_str(),
            error_code: e.code.as_str(),
            resource: e.resource.clone(),
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
    /// True when no previous run was compared with (the first run, a previous run that
    /// could not be read, or a run that writes nothing): `changes` is then empty.
    pub baseline: bool,
    /// Rows of the `changes` report, per report and change.
    pub changes: BTreeMap<String, ChangeCounts>,
    /// What the comparison covered and left out.
    pub changes_scope: ChangesScope,
    /// The changes the metric line publishes.
    pub changes_headline: ChangeHeadline,
}

/// Rows of the `changes` report of one report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    #[serde(rename = "ADDED")]
    pub added: usize,
    #[serde(rename = "REMOVED")]
    pub removed: usize,
    #[serde(rename = "CHANGED")]
    pub changed: usize,
}

/// What the comparison with the previous run covered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangesScope {
    /// The run compared with; absent on a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_run_id: Option<String>,
    /// What either run could not read, left out of the comparison on both sides.
    #[serde(flatten)]
    pub excluded: Scope,
    /// Reports of this run not compared, and why (the previous run did not write them,
    /// or they could not be read).
    pub reports_not_compared: BTreeMap<String, String>,
}

/// The changes worth an alarm, as the metric line publishes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangeHeadline {
    /// Account instances of Identity Center (`InstanceType` `ACCOUNT`) that no account
    /// saw in the previous run: someone created one.
    pub new_account_instances: usize,
    /// Instances that some account saw in the previous run and none sees now.
    pub removed_instances: usize,
    /// `ADDED` rows of `application_assignments` and `account_assignments`.
    pub access_added: usize,
    /// `REMOVED` rows of the same.
    pub access_removed: usize,
}
