//! The collect layer: every AWS read of the audit, and the only place SDK types live.
//!
//! Flow: caller identity -> organization and its accounts -> per account (AssumeRole,
//! ListInstances) -> per instance found (its store's users and groups; its applications
//! and their assignments; for the organization instance, its permission sets, where
//! they are provisioned and each pair's account assignments) -> members of the groups
//! that assignments name. Each kind of work is a unit in `work/`; `scheduler.rs` runs
//! them and `state.rs` folds what they read into the inventory. `MAX_CONCURRENCY`
//! bounds the requests in flight (`call.rs`), not the units: a unit waiting on one
//! account's rate limit holds no request slot. A unit that fails becomes an error row;
//! the run goes on.

pub mod call;
pub mod checkpoint;
pub mod clients;
pub mod identity_store;
pub mod organizations;
pub mod pages;
pub mod person;
pub mod regions;
pub mod reopen;
mod scheduler;
pub mod sso_admin;
mod state;
pub mod sts;
mod work;

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::RegionSelection;
use crate::model::{AccountId, Inventory};

pub use call::{CallError, Calls, RetryPolicy, Service};
pub use clients::{AccountSession, Clients, NoRegion};
pub use sts::CallerIdentity;

use scheduler::Scheduler;
use state::{Context, State};

/// What to collect.
#[derive(Clone, Debug)]
pub struct Plan {
    pub current_account_id: AccountId,
    pub partition: String,
    pub role_name: String,
    pub regions: RegionSelection,
    /// Only these accounts, when the event names some.
    pub accounts: Option<Vec<AccountId>>,
    pub max_concurrency: usize,
    /// Start no new work after this instant (the Lambda deadline less the margin).
    pub stop_at: Option<Instant>,
    /// Used in AssumeRole session names, so CloudTrail ties calls to the run.
    pub run_id: String,
}

/// What a collection produced.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Collected {
    pub inventory: Inventory,
    pub management_account_id: AccountId,
    /// Accounts not started before the deadline.
    pub not_reached: Vec<AccountId>,
    /// True when the deadline stopped work that was due.
    pub cut_short: bool,
}

/// Failures that stop the whole run: without the organization there is nothing to audit.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "cannot read the organization ({0}); run the audit in the management account or a delegated administrator account, with organizations:DescribeOrganization and organizations:ListAccounts allowed"
    )]
    Organization(#[source] CallError),
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointFileError),
}

/// Reads the caller's identity: the first call of every run.
pub async fn caller_identity(clients: &Clients, calls: &Calls) -> Result<CallerIdentity, CallError> {
    sts::caller_identity(&clients.sts(), calls).await
}

type AccountPages = mpsc::UnboundedReceiver<Result<organizations::AccountPage, CallError>>;

/// The organization reads that open a run, started as early as possible: the account
/// listing (sent page by page) and DescribeOrganization, side by side when the run's
/// concurrency allows two calls at once. Dropping it stops both (for instance when the
/// caller's identity turns out to be the wrong account).
pub struct OrganizationReads {
    client: aws_sdk_organizations::Client,
    calls: Arc<Calls>,
    caller: AccountId,
    management: tokio::task::JoinHandle<Result<AccountId, CallError>>,
    listing: Option<(tokio::task::JoinHandle<()>, AccountPages)>,
    /// Where the listing starts: the first page, or a resumed run's next page.
    start: Option<String>,
}

impl OrganizationReads {
    /// Starts DescribeOrganization as `caller` (the account whose credentials the run
    /// has), and the listing too when `side_by_side`.
    pub fn start(clients: &Clients, calls: &Arc<Calls>, caller: &AccountId, side_by_side: bool) -> Self {
        let client = clients.organizations();
        let management = {
            let (client, calls, caller) = (client.clone(), Arc::clone(calls), caller.clone());
            tokio::spawn(async move { organizations::management_account_id(&client, &calls, &caller).await })
        };
        let mut reads = OrganizationReads {
            client,
            calls: Arc::clone(calls),
            caller: caller.clone(),
            management,
            listing: None,
            start: None,
        };
        if side_by_side {
            reads.pages();
        }
        reads
    }

    /// The reads of a resumed run: the management account is known, and the listing
    /// (when it was not done) goes on from the page `start` names.
    pub fn resumed(
        clients: &Clients,
        calls: &Arc<Calls>,
        caller: &AccountId,
        management: AccountId,
        start: Option<String>,
    ) -> Self {
        OrganizationReads {
            client: clients.organizations(),
            calls: Arc::clone(calls),
            caller: caller.clone(),
            management: tokio::spawn(async move { Ok(management) }),
            listing: None,
            start,
        }
    }

    /// The pages of accounts, the listing started now if it has not been.
    fn pages(&mut self) -> &mut AccountPages {
        let (client, calls, caller, start) = (&self.client, &self.calls, &self.caller, &self.start);
        let (_, pages) = self.listing.get_or_insert_with(|| {
            let (pages_tx, pages) = mpsc::unbounded_channel();
            let (client, calls, caller, start) = (client.clone(), Arc::clone(calls), caller.clone(), start.clone());
            let lister = tokio::spawn(async move {
                // The listing is the run's critical path at its start: one request slot is
                // its own until it ends, so its pages never queue behind accounts' reads.
                let _slot = calls.reserve_slot().await;
                organizations::stream_accounts(&client, &calls, &caller, start, &pages_tx).await;
            });
            (lister, pages)
        });
        pages
    }
}

impl Drop for OrganizationReads {
    fn drop(&mut self) {
        self.management.abort();
        if let Some((lister, _)) = &self.listing {
            lister.abort();
        }
    }
}

/// How a collection ended.
pub enum Outcome {
    /// Everything was read (or failed, or was stopped by the deadline, each a row).
    Finished(Box<Collected>),
    /// A resumable collection reached its deadline: what it had read and had yet to do
    /// is in the checkpoint file. `progressed`: a unit ended, or a page of accounts came
    /// in, before the deadline (if not, the next invocation would stop where this one did).
    Suspended {
        checkpoint: checkpoint::SavedFile,
        progressed: bool,
    },
}

/// Collects the inventory from the organization reads started for the plan's account.
/// Fails only when the organization cannot be read. With `checkpointing`, the run
/// saves snapshots (sent to `saves` as they are taken) and stops at the deadline with
/// a last one instead of writing what it did not reach as errors.
pub async fn collect(
    clients: &Clients,
    calls: Arc<Calls>,
    plan: Plan,
    mut reads: OrganizationReads,
    checkpointing: Option<(checkpoint::Checkpointing, mpsc::Sender<checkpoint::SavedFile>)>,
) -> Result<Outcome, CollectError> {
    let management_account_id = match (&mut reads.management).await {
        Ok(result) => result.map_err(CollectError::Organization)?,
        Err(join) => {
            return Err(CollectError::Organization(CallError {
                service: Service::Organizations.as_str(),
                operation: "DescribeOrganization",
                kind: call::FailureKind::Transient,
                code: "InternalError".into(),
                message: format!("the read stopped: {join}"),
                attempts: 1,
            }));
        }
    };
    let context = Arc::new(Context {
        clients: clients.clone(),
        calls,
        plan,
        management_account_id: management_account_id.clone(),
    });
    let state = State::new(
        Arc::clone(&context),
        Collected {
            management_account_id,
            ..Default::default()
        },
    );
    schedule(context, state, reads, checkpointing).await
}

/// Goes on with a collection from its checkpoint (read with [`checkpoint::read`]).
pub async fn resume(
    clients: &Clients,
    calls: Arc<Calls>,
    plan: Plan,
    snapshot: checkpoint::Snapshot,
    checkpointing: (checkpoint::Checkpointing, mpsc::Sender<checkpoint::SavedFile>),
) -> Result<Outcome, CollectError> {
    calls.restore_rate_slots(&snapshot.rate_slots);
    let caller = plan.current_account_id.clone();
    let context = Arc::new(Context {
        clients: clients.clone(),
        calls: Arc::clone(&calls),
        plan,
        management_account_id: snapshot.management_account_id.clone(),
    });
    let state = State::resumed(Arc::clone(&context), snapshot.state, snapshot.pending);
    let reads = OrganizationReads::resumed(
        clients,
        &calls,
        &caller,
        snapshot.management_account_id,
        state.listing_next().map(str::to_owned),
    );
    schedule(context, state, reads, Some(checkpointing)).await
}

async fn schedule(
    context: Arc<Context>,
    state: State,
    mut reads: OrganizationReads,
    checkpointing: Option<(checkpoint::Checkpointing, mpsc::Sender<checkpoint::SavedFile>)>,
) -> Result<Outcome, CollectError> {
    // A resumed run whose listing was done lists nothing again.
    let mut listed = mpsc::unbounded_channel().1;
    let pages = if state.listing_done() {
        &mut listed
    } else {
        reads.pages()
    };
    let mut scheduler = Scheduler::new(context, state, checkpointing);
    let result = scheduler.run(pages).await;
    drop(reads);
    match result.map_err(CollectError::Organization)? {
        scheduler::Stop::Finished => Ok(Outcome::Finished(Box::new(scheduler.finish()))),
        scheduler::Stop::Suspended => {
            scheduler.stop_running();
            let progressed = scheduler.progress() > 0;
            scheduler
                .snapshot()
                .map(|checkpoint| Outcome::Suspended { checkpoint, progressed })
                .map_err(CollectError::Checkpoint)
        }
    }
}
