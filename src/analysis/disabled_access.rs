//! Disabled users who still hold access: each user the identity store marks `DISABLED`
//! who appears on an application or account assignment row (directly or as a member of
//! an assigned group), with what those rows reach.
//!
//! Built from the rows of the two assignment analyses, so it agrees with the reports a
//! reader would open to check it.

use std::collections::BTreeMap;

use crate::model::{IdentityStoreId, User};

use super::account_assignments::{AccountAssignmentRow, Grantee};
use super::assignments::AssignmentRow;

/// How many examples of what a user reaches are kept (the rows are in the reports).
pub const REACH_EXAMPLES: usize = 3;

/// One disabled user with access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisabledAccess<'a> {
    pub store_id: &'a IdentityStoreId,
    pub user: &'a User,
    /// Rows of `application_assignments` about this user.
    pub application_rows: usize,
    /// Rows of `account_assignments` about this user.
    pub account_rows: usize,
    /// Up to [`REACH_EXAMPLES`] distinct applications (by name), in report order.
    pub applications: Vec<&'a str>,
    /// Up to [`REACH_EXAMPLES`] distinct (account name or id, permission set name), in
    /// report order.
    pub accounts: Vec<(&'a str, &'a str)>,
}

fn push_example<T: PartialEq>(examples: &mut Vec<T>, example: T) {
    if examples.len() < REACH_EXAMPLES && !examples.contains(&example) {
        examples.push(example);
    }
}

type Found<'a> = BTreeMap<(&'a IdentityStoreId, &'a str, &'a str), DisabledAccess<'a>>;

/// The entry of one user, created empty.
fn entry<'a, 'm>(
    found: &'m mut Found<'a>,
    store_id: &'a IdentityStoreId,
    user: &'a User,
) -> &'m mut DisabledAccess<'a> {
    found
        .entry((store_id, user.user_name.as_str(), user.user_id.as_str()))
        .or_insert_with(|| DisabledAccess {
            store_id,
            user,
            application_rows: 0,
            account_rows: 0,
            applications: Vec::new(),
            accounts: Vec::new(),
        })
}

/// Every disabled user on some assignment row, sorted by store then user name (then id).
pub fn disabled_access<'a>(
    application_rows: impl IntoIterator<Item = AssignmentRow<'a>>,
    account_rows: impl IntoIterator<Item = AccountAssignmentRow<'a>>,
) -> Vec<DisabledAccess<'a>> {
    let mut found: Found<'a> = BTreeMap::new();
    for row in application_rows {
        let (Some(instance), Some(user)) = (row.instance, row.user.as_ref().and_then(|u| u.user)) else {
            continue;
        };
        if user.is_disabled() {
            let e = entry(&mut found, &instance.identity_store_id, user);
            e.application_rows += 1;
            push_example(&mut e.applications, row.application.name.as_str());
        }
    }
    for row in account_rows {
        let Grantee::User { user: Some(user), .. } = row.grantee else {
            continue;
        };
        if user.is_disabled() {
            let e = entry(&mut found, &row.instance.identity_store_id, user);
            e.account_rows += 1;
            let account = if row.account_name.is_empty() {
                row.account_id.as_str()
            } else {
                row.account_name
            };
            let permission_set = row.permission_set.map_or("", |p| p.name.as_str());
            push_example(&mut e.accounts, (account, permission_set));
        }
    }
    found.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AccountAssignmentTable, assignment_rows, count};
    use crate::model::*;

    fn user(id: &str, name: &str, status: Option<UserStatus>) -> User {
        User {
            user_id: UserId::from(id),
            user_name: name.into(),
            emails: vec![format!("{name}@example.com")],
            status,
        }
    }

    /// One organization instance; bob (disabled) reaches an application directly and an
    /// account through a group; carol (disabled) holds nothing; dave (disabled) is in a
    /// group whose members were not read... and so is not known to hold anything.
    fn inventory() -> Inventory {
        let arn = InstanceArn::from("arn:aws:sso:::instance/ssoins-1");
        let store = IdentityStoreId::from("d-1");
        let mut inv = Inventory::default();
        inv.instances.insert(
            arn.clone(),
            Instance {
                arn: arn.clone(),
                identity_store_id: store.clone(),
                owner_account_id: AccountId::from("111122223333"),
                instance_type: InstanceType::Organization,
                region: "us-east-1".into(),
                name: String::new(),
                status: "ACTIVE".into(),
                replicas: Vec::new(),
            },
        );
        let mut contents = StoreContents {
            users_read: true,
            users: vec![
                user("u1", "alice", Some(UserStatus::Enabled)),
                user("u2", "bob", Some(UserStatus::Disabled)),
                user("u3", "carol", Some(UserStatus::Disabled)),
                user("u4", "dave", Some(UserStatus::Disabled)),
            ],
            groups: vec![
                Group {
                    group_id: GroupId::from("g-all"),
                    display_name: "all".into(),
                },
                Group {
                    group_id: GroupId::from("g-unread"),
                    display_name: "unread".into(),
                },
            ],
            ..Default::default()
        };
        contents
            .group_members
            .insert(GroupId::from("g-all"), vec![UserId::from("u1"), UserId::from("u2")]);
        inv.stores.insert(store, contents);
        let assignment = |t, id: &str| Assignment {
            principal_type: t,
            principal_id: id.into(),
        };
        inv.applications = vec![Application {
            arn: ApplicationArn::from("arn:aws:sso::111122223333:application/ssoins-1/apl-1"),
            instance_arn: arn.clone(),
            name: "Wiki".into(),
            status: "ENABLED".into(),
            assignments: vec![
                assignment(PrincipalType::User, "u2"),
                assignment(PrincipalType::Group, "g-all"),
            ],
        }];
        inv.accounts = vec![Account {
            id: AccountId::from("111122224444"),
            name: "Dev".into(),
            state: "ACTIVE".into(),
        }];
        let ps = PermissionSetArn::from("arn:aws:sso:::permissionSet/ssoins-1/ps-1");
        let mut access = AccountAccess {
            instance_arn: Some(arn),
            permission_set_count: 1,
            ..Default::default()
        };
        access.permission_sets.insert(
            ps.clone(),
            PermissionSet {
                arn: ps.clone(),
                name: "Admin".into(),
                description: String::new(),
                session_duration: "PT1H".into(),
            },
        );
        access.pairs = vec![AccountAssignments {
            account_id: AccountId::from("111122224444"),
            permission_set_arn: ps,
            assignments: vec![
                assignment(PrincipalType::Group, "g-all"),
                assignment(PrincipalType::Group, "g-unread"),
            ],
        }];
        inv.account_access = access;
        inv
    }

    #[test]
    fn each_disabled_user_with_rows_once_with_what_they_reach() {
        let inv = inventory();
        let apps = assignment_rows(&inv.applications, &inv.instances, &inv.stores);
        let table = AccountAssignmentTable::new(&inv);
        let got = disabled_access(apps, table.rows());
        assert_eq!(got.len(), 1, "{got:?}");
        let bob = &got[0];
        assert_eq!(bob.user.user_name, "bob");
        assert_eq!(bob.store_id.as_str(), "d-1");
        // Directly and through g-all: two application rows, one application.
        assert_eq!(bob.application_rows, 2);
        assert_eq!(bob.applications, ["Wiki"]);
        assert_eq!(bob.account_rows, 1);
        assert_eq!(bob.accounts, [("Dev", "Admin")]);
        // The same users as the summary's count.
        assert_eq!(count(&inv, 0).disabled_users_with_access, got.len());
    }

    #[test]
    fn examples_are_bounded_and_distinct() {
        let mut examples = Vec::new();
        for name in ["a", "a", "b", "c", "d"] {
            push_example(&mut examples, name);
        }
        assert_eq!(examples, ["a", "b", "c"]);
    }
}
