//! The run's counts: how much was seen, audited, skipped and failed.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::model::{ErrorCode, IdentityStoreId, Inventory, Stage};

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
}

/// Counts an inventory; `duplicated_users` comes from the duplicates analysis.
pub fn count(inventory: &Inventory, duplicated_users: usize) -> Counts {
    let account_stage = |s: Stage| matches!(s, Stage::Select | Stage::AssumeRole | Stage::ListInstances);
    let mut skipped = BTreeSet::new();
    let mut not_reached = BTreeSet::new();
    let mut failed = BTreeSet::new();
    for e in inventory.errors.iter().filter(|e| account_stage(e.stage)) {
        if e.code.is_skip() {
            skipped.insert(&e.account_id);
        } else if e.code == ErrorCode::DeadlineReached {
            not_reached.insert(&e.account_id);
        } else if !inventory.visible_instances.contains_key(&e.account_id) {
            failed.insert(&e.account_id);
        }
    }
    let stores_seen: BTreeSet<&IdentityStoreId> = inventory.instances.values().map(|i| &i.identity_store_id).collect();
    let stores_failed = stores_seen
        .iter()
        .filter(|s| !inventory.stores.contains_key(**s))
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
        identity_stores: inventory.stores.len(),
        identity_stores_failed: stores_failed,
        users,
        users_without_email,
        groups: inventory.stores.values().map(|s| s.groups.len()).sum(),
        duplicated_users,
        applications: inventory.applications.len(),
        application_assignments: inventory.applications.iter().map(|a| a.assignments.len()).sum(),
    }
}
