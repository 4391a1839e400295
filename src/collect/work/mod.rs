//! Units of collection work. Each kind lives in its own file with one `run`: it makes
//! the kind's AWS calls and returns a [`Fold`] that puts what it read into the run's
//! [`State`] (and queues the work it reveals). The scheduler knows nothing of kinds.

pub mod account;
pub mod account_assignments;
pub mod application_assignments;
pub mod applications;
pub mod groups;
pub mod instance_region;
pub mod members;
pub mod permission_set;
pub mod permission_sets;
pub mod provisioning;
pub mod users;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::model::{AccountError, AccountId, ErrorCode, Stage};

use super::call::{CallError, Service};
use super::state::{Context, State};

/// Folds a unit's result into the run's state.
pub type Fold = Box<dyn FnOnce(&mut State) + Send>;

/// Boxes a fold.
pub fn fold(f: impl FnOnce(&mut State) + Send + 'static) -> Fold {
    Box::new(f)
}

/// The future of a running unit.
pub type Running = Pin<Box<dyn Future<Output = Fold> + Send>>;

/// Whose quota a unit's calls draw on: the calling account and the service. The
/// scheduler bounds units per lane, so one busy, rate-limited lane (the management
/// account's Identity Center calls) cannot fill every slot.
pub type Lane = (AccountId, Service);

/// How urgent a unit is: the reads that follow from a found instance go before
/// accounts still waiting, so long chains of pages start early.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Followup,
    Account,
}

/// One unit of work. Serialisable (by its kind's name) so that a resumable run can
/// checkpoint the work it has not done.
#[typetag::serde(tag = "kind")]
pub trait Unit: Send + 'static {
    fn lane(&self) -> Lane;

    fn priority(&self) -> Priority {
        Priority::Followup
    }

    /// The error row written when the deadline stops the unit before or while it runs.
    fn not_reached(&self) -> AccountError;

    /// The account this unit audits as a whole, if it is an account's first unit
    /// (listed in `accounts_not_reached` when the deadline stops it).
    fn audited_account(&self) -> Option<&AccountId> {
        None
    }

    /// Makes the unit's calls.
    fn run(self: Box<Self>, context: Arc<Context>) -> Running;
}

/// The row for a unit the deadline stopped: `what` names the thing not read.
pub fn deadline_row(account: &AccountId, region: &str, stage: Stage, resource: String) -> AccountError {
    let what = if resource.is_empty() {
        "the account".to_owned()
    } else {
        resource.clone()
    };
    AccountError {
        account_id: account.clone(),
        region: region.to_owned(),
        stage,
        code: ErrorCode::DeadlineReached,
        resource,
        message: format!(
            "not read: the run stopped before {what} was reached, to write its reports before the Lambda deadline"
        ),
    }
}

/// The error row for a failed call in a stage of an account.
pub fn error_row(account: &AccountId, region: &str, stage: Stage, resource: String, err: &CallError) -> AccountError {
    let code = match (stage, err.error_code()) {
        (Stage::AssumeRole, ErrorCode::AccessDenied) => ErrorCode::AssumeRoleDenied,
        (_, code) => code,
    };
    let prefix = if resource.is_empty() {
        String::new()
    } else {
        format!("{resource}: ")
    };
    AccountError {
        account_id: account.clone(),
        region: region.to_owned(),
        stage,
        code,
        resource,
        message: format!("{prefix}{err}"),
    }
}
