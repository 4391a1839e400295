//! The run's counts: how much was seen, audited, skipped and failed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::model::{ErrorCode, IdentityStoreId, Inventory, PrincipalType, Stage};

use super::account_assignments::account_assignment_row_count;
use super::store_index::{Members, StoreIndex};

/// The `counts` object of the run summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub accounts_total: usize,
    pub accounts_audited: usize,
    pub accounts_skipped: usize,
    pub accounts_failed: usize,
    pub accounts_not_reached: usize,
    pub instances: usize,
    pub identity_stores: usize,
    pub identity_stores_failed: usize,
    pub users: usize,
    pub users_without_email: usize,
    pub groups: usize,
    pub duplicated_users: usize,
    pub applications: usize,
    pub application_assignments: usize,
    /// Permission sets of the organization instance (as ListPermissionSets lists them).
    pub permission_sets: usize,
    /// Account assignments as AWS lists them (a group assignment counts once).
    pub account_assignments: usize,
    /// Rows of the `account_assignments` report (groups expanded to their members).
    pub account_assignment_rows: usize,
    /// Users the store says are DISABLED who still hold an application or account
    /// assignment, directly or through a group (each user of each store once).
    pub disabled_users_with_access: usize,
    /// Reads that failed: every `account_errors` row but skips (accounts not ACTIVE,
    /// accounts the event names that the organization does not hold) and the deadline.
    pub read_failures: usize,
    /// The same, per stage (`assume_role`, `identity_store`, ...).
    pub read_failures_by_stage: BTreeMap<&'static str, usize>,
}

/// Counts an inventory; `duplicated_users` comes from the duplicates analysis.
pub fn count(inventory: &Inventory, duplicated_users: usize) -> Counts {
    let account_stage = |s: Stage| matches!(s, Stage::Select | Stage::AssumeRole | Stage::ListInstances);
    let mut skipped = BTreeSet::new();
    let mut not_reached = BTreeSet::new();
    let mut failed = BTreeSet::new();
    for e in inventory.errors.iter().filter(|e| account_stage(e.stage)) {
        // The deadline stopping the organization's listing is not about one account.
        if e.stage == Stage::Select && e.code == ErrorCode::DeadlineReached {
            continue;
        }
        if e.code.is_skip() {
            skipped.insert(&e.account_id);
        } else if e.code == ErrorCode::DeadlineReached {
            not_reached.insert(&e.account_id);
        } else if !inventory.visible_instances.contains_key(&e.account_id) {
            failed.insert(&e.account_id);
        }
    }
    let stores_seen: BTreeSet<&IdentityStoreId> = inventory.instances.values().map(|i| &i.identity_store_id).collect();
    let mut read_failures_by_stage: BTreeMap<&'static str, usize> = BTreeMap::new();
    for e in inventory.errors.iter().filter(|e| e.code.is_read_failure()) {
        *read_failures_by_stage.entry(e.stage.as_str()).or_default() += 1;
    }
    let stores_read = inventory.stores.values().filter(|s| s.users_read).count();
    let stores_failed = stores_seen
        .iter()
        .filter(|s| !inventory.stores.get(**s).is_some_and(|c| c.users_read))
        .count();
    let users = inventory.stores.values().map(|s| s.users.len()).sum();
    let users_without_email = inventory
        .stores
        .values()
        .flat_map(|s| &s.users)
        .filter(|u| u.emails.iter().all(|e| e.trim().is_empty()))
        .count();
    Counts {
        accounts_total: inventory.visible_instances.len() + skipped.len() + failed.len() + not_reached.len(),
        accounts_audited: inventory.visible_instances.len(),
        accounts_skipped: skipped.len(),
        accounts_failed: failed.len(),
        accounts_not_reached: not_reached.len(),
        instances: inventory.instances.len(),
        identity_stores: stores_read,
        identity_stores_failed: stores_failed,
        users,
        users_without_email,
        groups: inventory.stores.values().map(|s| s.groups.len()).sum(),
        duplicated_users,
        applications: inventory.applications.len(),
        application_assignments: inventory.applications.iter().map(|a| a.assignments.len()).sum(),
        permission_sets: inventory.account_access.permission_set_count,
        account_assignments: inventory.account_access.pairs.iter().map(|p| p.assignments.len()).sum(),
        account_assignment_rows: account_assignment_row_count(inventory),
        disabled_users_with_access: disabled_users_with_access(inventory),
        read_failures: read_failures_by_stage.values().sum(),
        read_failures_by_stage,
    }
}

/// Users marked DISABLED who hold an assignment, directly or through a group.
fn disabled_users_with_access(inventory: &Inventory) -> usize {
    // Every (store, principal) assigned anywhere, each once.
    let mut assigned: BTreeSet<(&IdentityStoreId, PrincipalType, &str)> = BTreeSet::new();
    for application in &inventory.applications {
        if let Some(instance) = inventory.instances.get(&application.instance_arn) {
            for a in &application.assignments {
                assigned.insert((&instance.identity_store_id, a.principal_type, a.principal_id.as_str()));
            }
        }
    }
    let access = &inventory.account_access;
    if let Some(instance) = access
        .instance_arn
        .as_ref()
        .and_then(|arn| inventory.instances.get(arn))
    {
        for a in access.pairs.iter().flat_map(|p| &p.assignments) {
            assigned.insert((&instance.identity_store_id, a.principal_type, a.principal_id.as_str()));
        }
    }
    let indexes: BTreeMap<&IdentityStoreId, StoreIndex<'_>> = inventory
        .stores
        .iter()
        .map(|(id, s)| (id, StoreIndex::new(s)))
        .collect();
    let mut disabled: BTreeSet<(&IdentityStoreId, &str)> = BTreeSet::new();
    for (store, principal_type, id) in assigned {
        let Some(index) = indexes.get(store) else { continue };
        let user_ids: Vec<&str> = match (principal_type, index.members(id)) {
            (PrincipalType::User, _) => vec![id],
            (PrincipalType::Group, Members::Read(members)) => members.iter().map(|m| m.as_str()).collect(),
            (PrincipalType::Group, Members::NotRead) => Vec::new(),
        };
        for user_id in user_ids {
            if index.user(user_id).is_some_and(|u| u.is_disabled()) {
                disabled.insert((store, user_id));
            }
        }
    }
    disabled.len()
}
