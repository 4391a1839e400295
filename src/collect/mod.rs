//! The collect layer: every AWS read of the audit, and the only place SDK types live.
//!
//! Flow: caller identity -> organization and its accounts -> per account (AssumeRole,
//! ListInstances) -> per instance found (its store's users and groups; its applications
//! and their assignments) -> members of the groups that assignments name. Work runs
//! on a small scheduler that never has more than `max_concurrency` units in flight;
//! stores and applications go ahead of accounts still waiting, so the long chains of
//! pages start as early as possible. A unit that fails becomes an error row; the run
//! goes on.

pub mod call;
pub mod clients;
pub mod identity_store;
pub mod organizations;
pub mod pages;
pub mod regions;
pub mod sso_admin;
pub mod sts;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use crate::config::RegionSelection;
use crate::model::{
    Account, AccountError, AccountId, Application, ErrorCode, Group, GroupId, IdentityStoreId, Instance, InstanceArn,
    InstanceType, Inventory, PrincipalType, Stage, User, UserId,
};

pub use call::{CallError, Calls, RetryPolicy, Service};
pub use clients::{AccountSession, Clients, NoRegion};
pub use sts::CallerIdentity;

use sso_admin::Scope;

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
#[derive(Debug, Default)]
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
}

/// Reads the caller's identity: the first call of every run.
pub async fn caller_identity(clients: &Clients, calls: &Calls) -> Result<CallerIdentity, CallError> {
    sts::caller_identity(&clients.sts(), calls).await
}

/// One unit of work for the scheduler. A store's users and its groups are separate
/// units: they are independent chains of pages, and at the end of a run the shorter
/// chains leave fewer slots idle.
enum Work {
    Account(Account),
    Users {
        instance: Instance,
        session: AccountSession,
    },
    Groups {
        instance: Instance,
        session: AccountSession,
    },
    Applications {
        instance: Instance,
        session: AccountSession,
    },
    /// The assignments of one application: one unit per application, so an instance
    /// with many applications is read in parallel rather than as one long chain.
    Assignments {
        instance: Instance,
        session: AccountSession,
        application: Application,
    },
    Members {
        instance: Instance,
        session: AccountSession,
        group: GroupId,
    },
}

impl Work {
    fn account_id(&self) -> &AccountId {
        match self {
            Work::Account(a) => &a.id,
            Work::Users { session, .. }
            | Work::Groups { session, .. }
            | Work::Applications { session, .. }
            | Work::Assignments { session, .. }
            | Work::Members { session, .. } => &session.account_id,
        }
    }

    /// The error row for a unit the deadline stopped.
    fn not_reached(&self) -> AccountError {
        let (stage, resource, region) = match self {
            Work::Account(_) => (Stage::ListInstances, String::new(), String::new()),
            Work::Users { instance, .. } | Work::Groups { instance, .. } => (
                Stage::IdentityStore,
                instance.identity_store_id.to_string(),
                instance.region.clone(),
            ),
            Work::Members { instance, group, .. } => (
                Stage::IdentityStore,
                format!("{}/{group}", instance.identity_store_id),
                instance.region.clone(),
            ),
            Work::Applications { instance, .. } => {
                (Stage::Applications, instance.arn.to_string(), instance.region.clone())
            }
            Work::Assignments {
                instance, application, ..
            } => (
                Stage::Applications,
                application.arn.to_string(),
                instance.region.clone(),
            ),
        };
        let what = if resource.is_empty() {
            "the account".to_owned()
        } else {
            resource.clone()
        };
        AccountError {
            account_id: self.account_id().clone(),
            region,
            stage,
            code: ErrorCode::DeadlineReached,
            resource,
            message: format!(
                "not read: the run stopped before {what} was reached, to write its reports before the Lambda deadline"
            ),
        }
    }
}

/// What a unit of work produced.
enum Outcome {
    Account {
        account_id: AccountId,
        result: Result<(AccountSession, Vec<Instance>), AccountError>,
        region_errors: Vec<AccountError>,
    },
    Users {
        store: IdentityStoreId,
        result: Result<Vec<User>, AccountError>,
    },
    Groups {
        store: IdentityStoreId,
        result: Result<Vec<Group>, AccountError>,
    },
    Applications {
        instance: Instance,
        session: AccountSession,
        result: Result<Vec<Application>, AccountError>,
    },
    /// An application with its assignments.
    Assignments {
        instance: Instance,
        session: AccountSession,
        result: Result<Application, AccountError>,
    },
    Members {
        store: IdentityStoreId,
        group: GroupId,
        result: Result<Vec<UserId>, AccountError>,
    },
    /// The deadline fell while the unit ran.
    Stopped(AccountError),
}

type BoxedWork = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// Shared by every unit of a run.
struct Context {
    clients: Clients,
    calls: Arc<Calls>,
    plan: Plan,
    management_account_id: AccountId,
}

type AccountPages = mpsc::UnboundedReceiver<Result<Vec<Account>, CallError>>;

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
        };
        if side_by_side {
            reads.pages();
        }
        reads
    }

    /// The pages of accounts, the listing started now if it has not been.
    fn pages(&mut self) -> &mut AccountPages {
        let (client, calls, caller) = (&self.client, &self.calls, &self.caller);
        let (_, pages) = self.listing.get_or_insert_with(|| {
            let (pages_tx, pages) = mpsc::unbounded_channel();
            let (client, calls, caller) = (client.clone(), Arc::clone(calls), caller.clone());
            let lister = tokio::spawn(async move {
                organizations::stream_accounts(&client, &calls, &caller, &pages_tx).await;
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

/// Collects the inventory from the organization reads started for the plan's account.
/// Fails only when the organization cannot be read.
pub async fn collect(
    clients: &Clients,
    calls: Arc<Calls>,
    plan: Plan,
    mut reads: OrganizationReads,
) -> Result<Collected, CollectError> {
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
    let mut scheduler = Scheduler::new(
        &context,
        Collected {
            management_account_id,
            ..Default::default()
        },
    );
    let result = scheduler.run(reads.pages()).await;
    drop(reads);
    result.map_err(CollectError::Organization)?;
    Ok(scheduler.finish())
}

/// Runs every unit, at most `max_concurrency` at once, stores and applications ahead of
/// accounts still waiting, and folds each outcome into the inventory.
struct Scheduler<'a> {
    context: &'a Arc<Context>,
    collected: Collected,
    accounts: VecDeque<Work>,
    followups: VecDeque<Work>,
    running: JoinSet<Outcome>,
    labels: HashMap<Id, Work>,
    /// Sessions of audited accounts, to read the stores they own.
    sessions: HashMap<AccountId, AccountSession>,
    /// Account instances whose owner's session is not known (yet).
    orphans: BTreeMap<InstanceArn, Instance>,
    /// Groups whose members are read or queued, per store.
    pending_groups: BTreeMap<IdentityStoreId, BTreeSet<GroupId>>,
    /// Accounts named by the event and seen in the organization so far.
    wanted_seen: BTreeSet<AccountId>,
    started: std::time::Instant,
}

impl<'a> Scheduler<'a> {
    fn new(context: &'a Arc<Context>, collected: Collected) -> Self {
        Scheduler {
            context,
            collected,
            accounts: VecDeque::new(),
            followups: VecDeque::new(),
            running: JoinSet::new(),
            labels: HashMap::new(),
            sessions: HashMap::new(),
            orphans: BTreeMap::new(),
            pending_groups: BTreeMap::new(),
            wanted_seen: BTreeSet::new(),
            started: std::time::Instant::now(),
        }
    }

    /// Runs until the organization is listed and every unit is done; fails as soon as
    /// the account listing fails.
    async fn run(
        &mut self,
        pages: &mut mpsc::UnboundedReceiver<Result<Vec<Account>, CallError>>,
    ) -> Result<(), CallError> {
        let mut listing = true;
        loop {
            self.start_units(listing);
            if !listing && self.running.is_empty() && self.accounts.is_empty() && self.followups.is_empty() {
                return Ok(());
            }
            tokio::select! {
                page = pages.recv(), if listing => match page {
                    Some(Ok(accounts)) => self.add_accounts(accounts),
                    Some(Err(err)) => return Err(err),
                    None => {
                        listing = false;
                        self.finish_listing();
                    }
                },
                Some(joined) = self.running.join_next_with_id(), if !self.running.is_empty() => match joined {
                    Ok((id, outcome)) => {
                        let work = self.labels.remove(&id);
                        self.absorb(work, outcome);
                    }
                    Err(err) => {
                        // A unit panicked or was cancelled: record it against its account.
                        if let Some(work) = self.labels.remove(&err.id()) {
                            let mut row = work.not_reached();
                            row.code = ErrorCode::ServiceError;
                            row.message = format!("internal error while reading: {err}");
                            self.collected.inventory.errors.push(row);
                        }
                    }
                },
            }
        }
    }

    /// Starts queued units while there is room; past the deadline, records them unreached.
    /// While the organization is still being listed, the listing takes one slot.
    fn start_units(&mut self, listing: bool) {
        let slots = self.context.plan.max_concurrency - usize::from(listing);
        while self.running.len() < slots {
            let Some(work) = self.followups.pop_front().or_else(|| self.accounts.pop_front()) else {
                break;
            };
            if self.context.plan.stop_at.is_some_and(|stop| Instant::now() >= stop) {
                record_not_reached(&work, &mut self.collected);
                continue;
            }
            let handle = self.running.spawn(spawn_unit(self.context, &work));
            self.labels.insert(handle.id(), work);
        }
    }

    /// One page of accounts: narrowed by the event, inactive ones skipped, the rest queued.
    fn add_accounts(&mut self, page: Vec<Account>) {
        let wanted = self.context.plan.accounts.as_deref();
        for account in page {
            if let Some(wanted) = wanted {
                if !wanted.contains(&account.id) {
                    continue;
                }
                self.wanted_seen.insert(account.id.clone());
            }
            if account.is_active() {
                self.accounts.push_back(Work::Account(account.clone()));
            } else {
                self.collected.inventory.errors.push(AccountError {
                    account_id: account.id.clone(),
                    region: String::new(),
                    stage: Stage::Select,
                    code: ErrorCode::AccountNotActive,
                    resource: String::new(),
                    message: format!("skipped: the account is {}", account.state),
                });
            }
            self.collected.inventory.accounts.push(account);
        }
    }

    /// The organization is listed: accounts the event named but it does not hold are errors.
    fn finish_listing(&mut self) {
        for id in self.context.plan.accounts.iter().flatten() {
            if !self.wanted_seen.contains(id) {
                self.collected.inventory.errors.push(AccountError {
                    account_id: id.clone(),
                    region: String::new(),
                    stage: Stage::Select,
                    code: ErrorCode::NotInOrganization,
                    resource: String::new(),
                    message: "the event names this account but the organization does not list it".into(),
                });
            }
        }
        tracing::info!(
            phase = "organization",
            accounts = self.collected.inventory.accounts.len(),
            duration_ms = self.started.elapsed().as_millis() as u64,
            "listed the organization"
        );
    }

    /// Folds one unit's outcome into the inventory and queues the work it reveals.
    fn absorb(&mut self, work: Option<Work>, outcome: Outcome) {
        let inventory = &mut self.collected.inventory;
        match outcome {
            Outcome::Stopped(row) => match &work {
                Some(work) => record_not_reached(work, &mut self.collected),
                None => {
                    inventory.errors.push(row);
                    self.collected.cut_short = true;
                }
            },
            Outcome::Account {
                account_id,
                result,
                region_errors,
            } => {
                inventory.errors.extend(region_errors);
                let (session, instances) = match result {
                    Err(row) => return inventory.errors.push(row),
                    Ok(found) => found,
                };
                let mut arns = Vec::with_capacity(instances.len());
                for instance in instances {
                    arns.push(instance.arn.clone());
                    if inventory.instances.contains_key(&instance.arn) {
                        continue;
                    }
                    inventory.instances.insert(instance.arn.clone(), instance.clone());
                    match reader_for(
                        &instance,
                        &self.context.plan.current_account_id,
                        &session,
                        &self.sessions,
                    ) {
                        Some(reader) => queue_instance(&mut self.followups, instance, reader),
                        None => {
                            self.orphans.insert(instance.arn.clone(), instance);
                        }
                    }
                }
                inventory.visible_instances.insert(account_id.clone(), arns);
                // Stores this account owns that another account saw first.
                let owned: Vec<InstanceArn> = self
                    .orphans
                    .values()
                    .filter(|i| i.owner_account_id == account_id)
                    .map(|i| i.arn.clone())
                    .collect();
                for arn in owned {
                    if let Some(instance) = self.orphans.remove(&arn) {
                        queue_instance(&mut self.followups, instance, session.clone());
                    }
                }
                self.sessions.insert(account_id, session);
            }
            Outcome::Users { store, result } => match result {
                Ok(users) => inventory.stores.entry(store).or_default().users = users,
                Err(row) => inventory.errors.push(row),
            },
            Outcome::Groups { store, result } => match result {
                Ok(groups) => inventory.stores.entry(store).or_default().groups = groups,
                Err(row) => inventory.errors.push(row),
            },
            Outcome::Applications {
                instance,
                session,
                result,
            } => match result {
                Ok(applications) => {
                    for application in applications {
                        self.followups.push_back(Work::Assignments {
                            instance: instance.clone(),
                            session: session.clone(),
                            application,
                        });
                    }
                }
                Err(row) => inventory.errors.push(row),
            },
            Outcome::Assignments {
                instance,
                session,
                result,
            } => {
                let application = match result {
                    Ok(application) => application,
                    Err(row) => return inventory.errors.push(row),
                };
                let queued = self
                    .pending_groups
                    .entry(instance.identity_store_id.clone())
                    .or_default();
                let groups = application
                    .assignments
                    .iter()
                    .filter(|a| a.principal_type == PrincipalType::Group)
                    .map(|a| GroupId::from(a.principal_id.as_str()));
                for group in groups {
                    if queued.insert(group.clone()) {
                        self.followups.push_back(Work::Members {
                            instance: instance.clone(),
                            session: session.clone(),
                            group,
                        });
                    }
                }
                inventory.applications.push(application);
            }
            Outcome::Members { store, group, result } => match result {
                Ok(members) => {
                    inventory
                        .stores
                        .entry(store)
                        .or_default()
                        .group_members
                        .insert(group, members);
                }
                Err(row) => inventory.errors.push(row),
            },
        }
    }

    /// Closes the books: stores that could not be read, orphaned account instances.
    fn finish(mut self) -> Collected {
        let collected = &mut self.collected;
        // Account instances whose owner was never audited cannot be read.
        for instance in std::mem::take(&mut self.orphans).into_values() {
            collected.inventory.errors.push(AccountError {
                account_id: instance.owner_account_id.clone(),
                region: instance.region.clone(),
                stage: Stage::IdentityStore,
                code: ErrorCode::OwnerNotAudited,
                resource: instance.identity_store_id.to_string(),
                message: format!(
                    "identity store {} of account instance {} not read: its owner account was not audited in this run",
                    instance.identity_store_id, instance.arn
                ),
            });
        }
        // Stores whose users could not be read are not reported as stores.
        let failed: BTreeSet<String> = collected
            .inventory
            .errors
            .iter()
            .filter(|e| e.stage == Stage::IdentityStore)
            .map(|e| e.resource.clone())
            .collect();
        collected.inventory.stores.retain(|id, _| !failed.contains(id.as_str()));
        collected
            .inventory
            .applications
            .sort_by(|a, b| (&a.instance_arn, &a.name, &a.arn).cmp(&(&b.instance_arn, &b.name, &b.arn)));
        tracing::info!(
            phase = "collect",
            accounts_audited = collected.inventory.visible_instances.len(),
            instances = collected.inventory.instances.len(),
            stores = collected.inventory.stores.len(),
            applications = collected.inventory.applications.len(),
            errors = collected.inventory.errors.len(),
            duration_ms = self.started.elapsed().as_millis() as u64,
            "collected the inventory"
        );
        self.collected
    }
}

fn record_not_reached(work: &Work, collected: &mut Collected) {
    collected.cut_short = true;
    if let Work::Account(account) = work {
        collected.not_reached.push(account.id.clone());
    }
    collected.inventory.errors.push(work.not_reached());
}

/// Who reads an instance's store and applications: the function itself for the
/// organization instance and for anything the current account owns; the owner's
/// session for another account's instance (when known).
fn reader_for(
    instance: &Instance,
    current: &AccountId,
    viewer: &AccountSession,
    sessions: &HashMap<AccountId, AccountSession>,
) -> Option<AccountSession> {
    if instance.instance_type == InstanceType::Organization || &instance.owner_account_id == current {
        return Some(AccountSession::own(current.clone()));
    }
    if viewer.account_id == instance.owner_account_id {
        return Some(viewer.clone());
    }
    sessions.get(&instance.owner_account_id).cloned()
}

fn queue_instance(queue: &mut VecDeque<Work>, instance: Instance, session: AccountSession) {
    queue.push_back(Work::Users {
        instance: instance.clone(),
        session: session.clone(),
    });
    queue.push_back(Work::Groups {
        instance: instance.clone(),
        session: session.clone(),
    });
    queue.push_back(Work::Applications { instance, session });
}

/// Builds the future of one unit, raced against the deadline.
fn spawn_unit(context: &Arc<Context>, work: &Work) -> BoxedWork {
    let context = Arc::clone(context);
    let stop_at = context.plan.stop_at;
    let stopped = work.not_reached();
    let unit: BoxedWork = match work {
        Work::Account(account) => {
            let account = account.clone();
            Box::pin(async move { read_account(&context, account).await })
        }
        Work::Users { instance, session } => {
            let (instance, session) = (instance.clone(), session.clone());
            Box::pin(async move { read_users(&context, instance, session).await })
        }
        Work::Groups { instance, session } => {
            let (instance, session) = (instance.clone(), session.clone());
            Box::pin(async move { read_groups(&context, instance, session).await })
        }
        Work::Applications { instance, session } => {
            let (instance, session) = (instance.clone(), session.clone());
            Box::pin(async move { read_applications(&context, instance, session).await })
        }
        Work::Assignments {
            instance,
            session,
            application,
        } => {
            let (instance, session, application) = (instance.clone(), session.clone(), application.clone());
            Box::pin(async move { read_assignments(&context, instance, session, application).await })
        }
        Work::Members {
            instance,
            session,
            group,
        } => {
            let (instance, session, group) = (instance.clone(), session.clone(), group.clone());
            Box::pin(async move { read_members(&context, instance, session, group).await })
        }
    };
    match stop_at {
        None => unit,
        Some(stop) => Box::pin(async move {
            tokio::select! {
                outcome = unit => outcome,
                () = tokio::time::sleep_until(stop) => Outcome::Stopped(stopped),
            }
        }),
    }
}

/// The error row for a failed call in a stage of an account.
fn error_row(account: &AccountId, region: &str, stage: Stage, resource: String, err: &CallError) -> AccountError {
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

async fn read_account(context: &Context, account: Account) -> Outcome {
    let plan = &context.plan;
    let home = context.clients.home_region().to_owned();
    let session = if account.id == plan.current_account_id {
        AccountSession::own(account.id.clone())
    } else {
        let session_name = format!("idc-report-{}", plan.run_id);
        match sts::assume_role(
            &context.clients.sts(),
            &context.calls,
            &plan.current_account_id,
            &plan.partition,
            &account.id,
            &plan.role_name,
            &session_name,
        )
        .await
        {
            Ok(session) => session,
            Err(err) => {
                return Outcome::Account {
                    account_id: account.id.clone(),
                    result: Err(error_row(&account.id, "", Stage::AssumeRole, String::new(), &err)),
                    region_errors: Vec::new(),
                };
            }
        }
    };
    let (result, region_errors) = list_account_instances(context, &session, &home).await;
    Outcome::Account {
        account_id: account.id.clone(),
        result: result.map(|instances| (session, instances)),
        region_errors,
    }
}

/// ListInstances per the Region selection. With `ALL`, one call with
/// `RegionScope=ALL_REGIONS`; if the API refuses that, a scan of the partition's Regions.
async fn list_account_instances(
    context: &Context,
    session: &AccountSession,
    home: &str,
) -> (Result<Vec<Instance>, AccountError>, Vec<AccountError>) {
    let management = &context.management_account_id;
    let regions: Vec<String> = match &context.plan.regions {
        RegionSelection::All => {
            let client = context.clients.sso_admin(session, home);
            match sso_admin::list_instances(&client, &context.calls, session, home, Scope::AllRegions, management).await
            {
                Ok(instances) => return (Ok(instances), Vec::new()),
                Err(err) if regions::scope_refused(&err) => {
                    tracing::debug!(account = %session.account_id, code = %err.code, "RegionScope refused; scanning Regions");
                    regions::partition_regions(&context.plan.partition)
                        .iter()
                        .map(|r| (*r).to_owned())
                        .collect()
                }
                Err(err) => {
                    return (
                        Err(error_row(
                            &session.account_id,
                            home,
                            Stage::ListInstances,
                            String::new(),
                            &err,
                        )),
                        Vec::new(),
                    );
                }
            }
        }
        RegionSelection::List(list) => list.clone(),
    };
    let fallback = matches!(context.plan.regions, RegionSelection::All);
    let mut instances = Vec::new();
    let mut errors = Vec::new();
    let mut any_ok = false;
    for region in &regions {
        let client = context.clients.sso_admin(session, region);
        match sso_admin::list_instances(&client, &context.calls, session, region, Scope::ThisRegion, management).await {
            Ok(found) => {
                any_ok = true;
                instances.extend(found);
            }
            // In a scan of every Region, Regions the account has not enabled answer
            // with an authentication error: they cannot hold an instance.
            Err(err) if fallback && regions::region_not_enabled(&err) => {}
            Err(err) => errors.push(error_row(
                &session.account_id,
                region,
                Stage::ListInstances,
                String::new(),
                &err,
            )),
        }
    }
    if !any_ok && !errors.is_empty() {
        let first = errors.remove(0);
        return (Err(first), errors);
    }
    let mut seen = BTreeSet::new();
    instances.retain(|i| seen.insert(i.arn.clone()));
    (Ok(instances), errors)
}

/// The error row of a store that could not be read (users or groups).
fn store_error(instance: &Instance, session: &AccountSession, err: &CallError) -> AccountError {
    error_row(
        &session.account_id,
        &instance.region,
        Stage::IdentityStore,
        instance.identity_store_id.to_string(),
        err,
    )
}

async fn read_users(context: &Context, instance: Instance, session: AccountSession) -> Outcome {
    let client = context.clients.identity_store(&session, &instance.region);
    let store = instance.identity_store_id.clone();
    let result = identity_store::list_users(&client, &context.calls, &session, &store)
        .await
        .map_err(|err| store_error(&instance, &session, &err));
    Outcome::Users { store, result }
}

async fn read_groups(context: &Context, instance: Instance, session: AccountSession) -> Outcome {
    let client = context.clients.identity_store(&session, &instance.region);
    let store = instance.identity_store_id.clone();
    let result = identity_store::list_groups(&client, &context.calls, &session, &store)
        .await
        .map_err(|err| store_error(&instance, &session, &err));
    Outcome::Groups { store, result }
}

async fn read_applications(context: &Context, instance: Instance, session: AccountSession) -> Outcome {
    let client = context.clients.sso_admin(&session, &instance.region);
    let result = sso_admin::list_applications(&client, &context.calls, &session, &instance.arn)
        .await
        .map_err(|err| {
            error_row(
                &session.account_id,
                &instance.region,
                Stage::Applications,
                instance.arn.to_string(),
                &err,
            )
        });
    Outcome::Applications {
        instance,
        session,
        result,
    }
}

async fn read_assignments(
    context: &Context,
    instance: Instance,
    session: AccountSession,
    mut application: Application,
) -> Outcome {
    let client = context.clients.sso_admin(&session, &instance.region);
    let result =
        match sso_admin::list_application_assignments(&client, &context.calls, &session, &application.arn).await {
            Ok(assignments) => {
                application.assignments = assignments;
                Ok(application)
            }
            Err(err) => Err(error_row(
                &session.account_id,
                &instance.region,
                Stage::Applications,
                application.arn.to_string(),
                &err,
            )),
        };
    Outcome::Assignments {
        instance,
        session,
        result,
    }
}

async fn read_members(context: &Context, instance: Instance, session: AccountSession, group: GroupId) -> Outcome {
    let client = context.clients.identity_store(&session, &instance.region);
    let store = instance.identity_store_id.clone();
    let result = identity_store::list_group_members(&client, &context.calls, &session, &store, &group)
        .await
        .map_err(|err| {
            let resource = format!("{store}/{group}");
            error_row(
                &session.account_id,
                &instance.region,
                Stage::IdentityStore,
                resource,
                &err,
            )
        });
    Outcome::Members { store, group, result }
}
