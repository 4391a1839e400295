//! What a collection knows while it runs, and how each finding is folded in.
//!
//! Units' folds call these methods; they record what was read and queue the work it
//! reveals (an instance's stores and applications, a group's members, the pairs of
//! a permission set). The rules that tie findings together live here, once.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::model::{
    Account, AccountAssignments, AccountError, AccountId, ErrorCode, GroupId, IdentityStoreId, Instance, InstanceArn,
    InstanceType, PermissionSet, PermissionSetArn, PrincipalType, Stage,
};

use super::call::Calls;
use super::clients::{AccountSession, Clients};
use super::work::{self, Unit};
use super::{Collected, Plan};

/// Shared by every unit of a run.
pub struct Context {
    pub clients: Clients,
    pub calls: Arc<Calls>,
    pub plan: Plan,
    pub management_account_id: AccountId,
}

impl Context {
    /// Whether the run reads as a delegated administrator (not the management account).
    pub fn is_delegated_admin(&self) -> bool {
        self.plan.current_account_id != self.management_account_id
    }
}

/// How the (account, permission set) pairs are found; see [`State::plan_pairs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PairDiscovery {
    /// `ListAccountsForProvisionedPermissionSet`, once per permission set.
    PerPermissionSet,
    /// `ListPermissionSetsProvisionedToAccount`, once per account in scope.
    PerAccount,
}

/// The organization instance's permission sets, while their pairs are being found.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct AccessDiscovery {
    /// The organization instance and who reads it.
    instance: Option<(Instance, AccountSession)>,
    /// Every permission set of the instance, once listed.
    permission_sets: Option<Vec<PermissionSetArn>>,
    /// Set once the pairs' discovery is queued.
    discovery: Option<PairDiscovery>,
    /// Permission sets whose details are read or queued.
    described: BTreeSet<PermissionSetArn>,
    /// The management account's pairs were refused to a delegated administrator.
    management_refused: bool,
    /// Run as delegated administrator: the organization instance, whose applications
    /// wait for the management account's session.
    applications_waiting: Option<Instance>,
    /// Why the management account cannot be read, once known.
    management_unreadable: Option<String>,
}

/// The run's state while it collects.
pub struct State {
    context: Arc<Context>,
    pub collected: Collected,
    /// Units queued by folds, for the scheduler to take.
    queued: Vec<Box<dyn Unit>>,
    /// Sessions of audited accounts, to read the stores they own.
    sessions: HashMap<AccountId, AccountSession>,
    /// Account instances whose owner's session is not known (yet).
    orphans: BTreeMap<InstanceArn, Instance>,
    /// Groups whose members are read or queued, per store.
    pending_groups: BTreeMap<IdentityStoreId, BTreeSet<GroupId>>,
    /// Accounts named by the event and seen in the organization so far.
    wanted_seen: BTreeSet<AccountId>,
    listing_done: bool,
    /// The token of the organization listing's next page, while there is one.
    listing_next: Option<String>,
    access: AccessDiscovery,
    started: std::time::Instant,
}

/// What a checkpoint keeps of the state: everything but the run's context and the
/// queued units (saved with the scheduler's).
#[derive(serde::Serialize)]
pub struct StateRecordRef<'a> {
    collected: &'a Collected,
    sessions: &'a HashMap<AccountId, AccountSession>,
    orphans: &'a BTreeMap<InstanceArn, Instance>,
    pending_groups: &'a BTreeMap<IdentityStoreId, BTreeSet<GroupId>>,
    wanted_seen: &'a BTreeSet<AccountId>,
    listing_done: bool,
    listing_next: Option<&'a str>,
    access: &'a AccessDiscovery,
}

/// A state read back from a checkpoint (see [`StateRecordRef`]).
#[derive(serde::Deserialize)]
pub struct StateRecord {
    collected: Collected,
    sessions: HashMap<AccountId, AccountSession>,
    orphans: BTreeMap<InstanceArn, Instance>,
    pending_groups: BTreeMap<IdentityStoreId, BTreeSet<GroupId>>,
    wanted_seen: BTreeSet<AccountId>,
    listing_done: bool,
    listing_next: Option<String>,
    access: AccessDiscovery,
}

impl State {
    /// What a checkpoint keeps of this state.
    pub fn record(&self) -> StateRecordRef<'_> {
        StateRecordRef {
            collected: &self.collected,
            sessions: &self.sessions,
            orphans: &self.orphans,
            pending_groups: &self.pending_groups,
            wanted_seen: &self.wanted_seen,
            listing_done: self.listing_done,
            listing_next: self.listing_next.as_deref(),
            access: &self.access,
        }
    }

    /// A state resumed from a checkpoint, with the units it had not done queued again.
    pub fn resumed(context: Arc<Context>, record: StateRecord, pending: Vec<Box<dyn Unit>>) -> Self {
        State {
            context,
            collected: record.collected,
            queued: pending,
            sessions: record.sessions,
            orphans: record.orphans,
            pending_groups: record.pending_groups,
            wanted_seen: record.wanted_seen,
            listing_done: record.listing_done,
            listing_next: record.listing_next,
            access: record.access,
            started: std::time::Instant::now(),
        }
    }

    pub fn new(context: Arc<Context>, collected: Collected) -> Self {
        State {
            context,
            collected,
            queued: Vec::new(),
            sessions: HashMap::new(),
            orphans: BTreeMap::new(),
            pending_groups: BTreeMap::new(),
            wanted_seen: BTreeSet::new(),
            listing_done: false,
            listing_next: None,
            access: AccessDiscovery::default(),
            started: std::time::Instant::now(),
        }
    }

    /// Queues a unit.
    pub fn queue(&mut self, unit: impl Unit) {
        self.queued.push(Box::new(unit));
    }

    /// The units queued and not yet taken (for a snapshot).
    pub fn queued_units(&self) -> impl Iterator<Item = &dyn Unit> {
        self.queued.iter().map(|unit| unit.as_ref())
    }

    /// The units queued since the last call.
    pub fn take_queued(&mut self) -> Vec<Box<dyn Unit>> {
        std::mem::take(&mut self.queued)
    }

    pub fn error(&mut self, row: AccountError) {
        if row.code == ErrorCode::DeadlineReached {
            self.collected.cut_short = true;
        }
        self.collected.inventory.errors.push(row);
    }

    /// A unit the deadline stopped (or never started).
    pub fn not_reached(&mut self, row: AccountError, account: Option<AccountId>) {
        self.collected.cut_short = true;
        if let Some(account) = account {
            self.collected.not_reached.push(account);
        }
        self.error(row);
    }

    pub fn listing_done(&self) -> bool {
        self.listing_done
    }

    /// Where a resumed listing of the organization starts: the next page's token.
    pub fn listing_next(&self) -> Option<&str> {
        self.listing_next.as_deref()
    }

    /// The deadline stopped the organization's listing: the accounts listed so far are
    /// audited (or were), the rest are not in the reports, and the run says so.
    pub fn listing_stopped(&mut self, reason: String) {
        let listed = self.collected.inventory.accounts.len();
        self.error(AccountError {
            account_id: self.context.plan.current_account_id.clone(),
            region: String::new(),
            stage: Stage::Select,
            code: ErrorCode::DeadlineReached,
            resource: String::new(),
            message: format!(
                "the organization's listing stopped at the deadline after {listed} account(s) ({reason}): accounts not yet listed are not in the reports"
            ),
        });
        self.listing_done = true;
        tracing::warn!(
            phase = "organization",
            accounts = listed,
            "the deadline stopped the organization's listing"
        );
    }

    /// One page of accounts: narrowed by the event, inactive ones skipped, the rest
    /// queued. `next` is the token of the page after it.
    pub fn add_accounts(&mut self, page: Vec<Account>, next: Option<String>) {
        self.listing_next = next;
        let context = Arc::clone(&self.context);
        let wanted = context.plan.accounts.as_deref();
        for account in page {
            if let Some(wanted) = wanted {
                if !wanted.contains(&account.id) {
                    continue;
                }
                self.wanted_seen.insert(account.id.clone());
            }
            if account.is_active() {
                self.queue(work::account::ReadAccount(account.clone()));
            } else {
                self.error(AccountError {
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
        self.plan_pairs();
    }

    /// The organization is listed: accounts the event named but it does not hold are errors.
    pub fn finish_listing(&mut self) {
        self.listing_done = true;
        let context = Arc::clone(&self.context);
        if !self
            .collected
            .inventory
            .accounts
            .iter()
            .any(|a| a.id == context.management_account_id)
        {
            self.org_applications_fallback("the management account is not in this run");
        }
        for id in context.plan.accounts.iter().flatten() {
            if !self.wanted_seen.contains(id) {
                self.error(AccountError {
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
        self.plan_pairs();
    }

    /// An account's instances are listed: record what it sees, and queue the reads of
    /// every instance not seen before (and of those it owns that others saw first).
    pub fn account_audited(&mut self, account_id: AccountId, session: AccountSession, instances: Vec<Instance>) {
        let mut arns = Vec::with_capacity(instances.len());
        for instance in instances {
            arns.push(instance.arn.clone());
            if self.collected.inventory.instances.contains_key(&instance.arn) {
                continue;
            }
            self.collected
                .inventory
                .instances
                .insert(instance.arn.clone(), instance.clone());
            // Listed only: being created or deleted (no error), or in an unknown Region.
            if instance.status != "ACTIVE" || instance.identity_store_id.as_str().is_empty() {
                continue;
            }
            if instance.region.is_empty() && instance.replicas.is_empty() {
                self.error(AccountError {
                    account_id: account_id.clone(),
                    region: String::new(),
                    stage: Stage::ListInstances,
                    code: ErrorCode::RegionUnknown,
                    resource: instance.arn.to_string(),
                    message: format!(
                        "{}: ListInstances did not name the instance's primary Region; its store and applications were not read (set REGIONS to the Region it lives in to read it)",
                        instance.arn
                    ),
                });
                continue;
            }
            match self.reader_for(&instance, &session) {
                Some(reader) => self.queue_instance(instance, reader),
                None => {
                    self.orphans.insert(instance.arn.clone(), instance);
                }
            }
        }
        self.collected
            .inventory
            .visible_instances
            .insert(account_id.clone(), arns);
        if account_id == self.context.management_account_id
            && let Some(instance) = self.access.applications_waiting.take()
        {
            self.queue_org_applications(instance, session.clone(), None);
        }
        let owned: Vec<InstanceArn> = self
            .orphans
            .values()
            .filter(|i| i.owner_account_id == account_id)
            .map(|i| i.arn.clone())
            .collect();
        for arn in owned {
            if let Some(instance) = self.orphans.remove(&arn) {
                self.queue_instance(instance, session.clone());
            }
        }
        self.sessions.insert(account_id, session);
    }

    /// Who reads an instance's store and applications: the function itself for the
    /// organization instance and for anything the current account owns; the owner's
    /// session for another account's instance (when known).
    fn reader_for(&self, instance: &Instance, viewer: &AccountSession) -> Option<AccountSession> {
        let current = &self.context.plan.current_account_id;
        if instance.instance_type == InstanceType::Organization || &instance.owner_account_id == current {
            return Some(AccountSession::own(current.clone()));
        }
        if viewer.account_id == instance.owner_account_id {
            return Some(viewer.clone());
        }
        self.sessions.get(&instance.owner_account_id).cloned()
    }

    fn queue_instance(&mut self, instance: Instance, session: AccountSession) {
        if instance.region.is_empty() {
            return self.queue(work::instance_region::ResolveRegion { instance, session });
        }
        self.queue(work::users::ReadUsers {
            instance: instance.clone(),
            session: session.clone(),
        });
        self.queue(work::groups::ReadGroups {
            instance: instance.clone(),
            session: session.clone(),
        });
        if instance.instance_type == InstanceType::Organization && self.access.instance.is_none() {
            self.access.instance = Some((instance.clone(), session.clone()));
            self.collected.inventory.account_access.instance_arn = Some(instance.arn.clone());
            self.queue(work::permission_sets::ListPermissionSets {
                instance: instance.clone(),
                session: session.clone(),
            });
        }
        if instance.instance_type == InstanceType::Organization && self.context.is_delegated_admin() {
            // A delegated administrator may list only the applications created from its
            // own account; the management account (through its member role) sees all.
            let management = self.context.management_account_id.clone();
            self.access.applications_waiting = Some(instance.clone());
            if let Some(session) = self.sessions.get(&management).cloned() {
                self.access.applications_waiting = None;
                self.queue_org_applications(instance, session, None);
            } else if let Some(why) = self.access.management_unreadable.clone() {
                self.org_applications_fallback(&why);
            } else if self.listing_done && !self.collected.inventory.accounts.iter().any(|a| a.id == management) {
                self.org_applications_fallback("the management account is not in this run");
            }
            return;
        }
        self.queue(work::applications::ReadApplications {
            instance,
            session,
            created_from: None,
        });
    }

    fn queue_org_applications(&mut self, instance: Instance, session: AccountSession, created_from: Option<AccountId>) {
        self.queue(work::applications::ReadApplications {
            instance,
            session,
            created_from,
        });
    }

    /// The organization instance's applications cannot be read through the management
    /// account: read the delegated administrator's own view, and say what is missing.
    fn org_applications_fallback(&mut self, why: &str) {
        let Some(instance) = self.access.applications_waiting.take() else {
            return;
        };
        let current = self.context.plan.current_account_id.clone();
        self.error(AccountError {
            account_id: current.clone(),
            region: instance.region.clone(),
            stage: Stage::Applications,
            code: ErrorCode::AccessDenied,
            resource: instance.arn.to_string(),
            message: format!(
                "{}: only the applications created from this account ({current}) were read: AWS lets a delegated administrator list no others, and the management account's member role could not be used ({why}); deploy the member role in the management account to read them all",
                instance.arn
            ),
        });
        self.queue_org_applications(instance, AccountSession::own(current.clone()), Some(current));
    }

    /// An account could not be audited.
    pub fn account_failed(&mut self, account: &AccountId, row: AccountError) {
        if account == &self.context.management_account_id {
            let why = row.message.clone();
            self.access.management_unreadable = Some(why.clone());
            self.error(row);
            return self.org_applications_fallback(&why);
        }
        self.error(row);
    }

    /// An instance's primary Region is known: record it, and read the instance there.
    pub fn region_resolved(&mut self, instance: Instance, session: AccountSession) {
        self.collected
            .inventory
            .instances
            .insert(instance.arn.clone(), instance.clone());
        self.queue_instance(instance, session);
    }

    /// Queues the read of a group's members unless it is read or queued already.
    pub fn queue_members(&mut self, instance: &Instance, session: &AccountSession, group: GroupId) {
        let queued = self
            .pending_groups
            .entry(instance.identity_store_id.clone())
            .or_default();
        if queued.insert(group.clone()) {
            self.queue(work::members::ReadMembers {
                instance: instance.clone(),
                session: session.clone(),
                group,
            });
        }
    }

    /// Queues the members of every group among `assignments`.
    pub fn queue_assigned_groups<'a>(
        &mut self,
        instance: &Instance,
        session: &AccountSession,
        assignments: impl IntoIterator<Item = &'a crate::model::Assignment>,
    ) {
        for assignment in assignments {
            if assignment.principal_type == PrincipalType::Group {
                self.queue_members(instance, session, GroupId::from(assignment.principal_id.as_str()));
            }
        }
    }

    /// The organization instance's permission sets are listed.
    pub fn permission_sets_listed(&mut self, arns: Vec<PermissionSetArn>) {
        self.collected.inventory.account_access.permission_set_count = arns.len();
        self.access.permission_sets = Some(arns);
        self.plan_pairs();
    }

    /// Once both the organization and the permission sets are listed, queues the
    /// cheaper way to find the provisioned pairs. Per permission set costs at least one
    /// call per permission set; per account at least one per account in scope (and
    /// neither much more: a page holds 100). So per account when fewer accounts than
    /// permission sets are in scope (a narrowed run, a small organization), else per
    /// permission set.
    ///
    /// A full run does not wait for the rest of the organization once it has listed as
    /// many accounts as there are permission sets: per permission set it is, and the
    /// administering account's rate-limited calls start at once.
    fn plan_pairs(&mut self) {
        if self.access.discovery.is_some() {
            return;
        }
        let (Some((instance, session)), Some(permission_sets)) =
            (self.access.instance.clone(), self.access.permission_sets.clone())
        else {
            return;
        };
        let accounts: Vec<AccountId> = self.collected.inventory.accounts.iter().map(|a| a.id.clone()).collect();
        let whole_organization = self.context.plan.accounts.is_none();
        let discovery = if accounts.len() >= permission_sets.len() && (self.listing_done || whole_organization) {
            PairDiscovery::PerPermissionSet
        } else if self.listing_done {
            PairDiscovery::PerAccount
        } else {
            return;
        };
        self.access.discovery = Some(discovery);
        // The management account is always in a full run's scope, listed yet or not.
        let management = self.context.management_account_id.clone();
        if whole_organization || accounts.contains(&management) {
            self.refused_to_delegated_admin(&management, &instance);
        }
        tracing::info!(
            phase = "permission_sets",
            permission_sets = permission_sets.len(),
            accounts = accounts.len(),
            discovery = ?discovery,
            "finding provisioned pairs"
        );
        match discovery {
            PairDiscovery::PerPermissionSet => {
                for permission_set in permission_sets {
                    self.queue(work::provisioning::AccountsForPermissionSet {
                        instance: instance.clone(),
                        session: session.clone(),
                        permission_set,
                    });
                }
            }
            PairDiscovery::PerAccount => {
                for account in accounts {
                    if self.refused_to_delegated_admin(&account, &instance) {
                        continue;
                    }
                    self.queue(work::provisioning::PermissionSetsForAccount {
                        instance: instance.clone(),
                        session: session.clone(),
                        account,
                    });
                }
            }
        }
    }

    /// AWS refuses a delegated administrator the management account's assignments
    /// (and leaves it out of the accounts a permission set is provisioned to): says
    /// so once, as an error row, instead of a refused call per pair or a silent gap.
    fn refused_to_delegated_admin(&mut self, account: &AccountId, instance: &Instance) -> bool {
        if !self.context.is_delegated_admin() || account != &self.context.management_account_id {
            return false;
        }
        if !self.access.management_refused {
            self.access.management_refused = true;
            self.error(AccountError {
                account_id: account.clone(),
                region: instance.region.clone(),
                stage: Stage::AccountAssignments,
                code: ErrorCode::AccessDenied,
                resource: instance.arn.to_string(),
                message: format!(
                    "{}: not read: AWS refuses a delegated administrator the management account's account assignments; run the audit from the management account to include them",
                    instance.arn
                ),
            });
        }
        true
    }

    /// Provisioned pairs were found: queue the assignments of those in scope.
    pub fn pairs_found(&mut self, pairs: Vec<(AccountId, PermissionSetArn)>) {
        let Some((instance, session)) = self.access.instance.clone() else {
            return;
        };
        let context = Arc::clone(&self.context);
        for (account, permission_set) in pairs {
            if let Some(wanted) = &context.plan.accounts
                && !wanted.contains(&account)
            {
                continue;
            }
            if self.refused_to_delegated_admin(&account, &instance) {
                continue;
            }
            self.queue(work::account_assignments::ReadAccountAssignments {
                instance: instance.clone(),
                session: session.clone(),
                account,
                permission_set,
            });
        }
    }

    /// A pair's assignments are read: keep them, and queue what naming them needs
    /// (the permission set's details, the members of assigned groups).
    pub fn pair_read(&mut self, pair: AccountAssignments) {
        let Some((instance, session)) = self.access.instance.clone() else {
            return;
        };
        if !pair.assignments.is_empty() && self.access.described.insert(pair.permission_set_arn.clone()) {
            self.queue(work::permission_set::DescribePermissionSet {
                instance: instance.clone(),
                session: session.clone(),
                permission_set: pair.permission_set_arn.clone(),
            });
        }
        self.queue_assigned_groups(&instance, &session, &pair.assignments);
        self.collected.inventory.account_access.pairs.push(pair);
    }

    pub fn permission_set_described(&mut self, permission_set: PermissionSet) {
        self.collected
            .inventory
            .account_access
            .permission_sets
            .insert(permission_set.arn.clone(), permission_set);
    }

    /// Closes the books: stores that could not be read, orphaned account instances.
    pub fn finish(mut self) -> Collected {
        if let Some(instance) = self.access.applications_waiting.take() {
            let row = work::deadline_row(
                &self.context.plan.current_account_id,
                &instance.region,
                Stage::Applications,
                instance.arn.to_string(),
            );
            self.not_reached(row, None);
        }
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
        collected
            .inventory
            .applications
            .sort_by(|a, b| (&a.instance_arn, &a.name, &a.arn).cmp(&(&b.instance_arn, &b.name, &b.arn)));
        collected
            .inventory
            .account_access
            .pairs
            .sort_by(|a, b| (&a.account_id, &a.permission_set_arn).cmp(&(&b.account_id, &b.permission_set_arn)));
        tracing::info!(
            phase = "collect",
            accounts_audited = collected.inventory.visible_instances.len(),
            instances = collected.inventory.instances.len(),
            stores = collected.inventory.stores.len(),
            applications = collected.inventory.applications.len(),
            permission_sets = collected.inventory.account_access.permission_set_count,
            account_assignment_pairs = collected.inventory.account_access.pairs.len(),
            errors = collected.inventory.errors.len(),
            duration_ms = self.started.elapsed().as_millis() as u64,
            "collected the inventory"
        );
        self.collected
    }
}
