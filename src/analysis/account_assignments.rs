//! Account assignments, with each group assignment expanded to its members: who can
//! sign in to which account with which permission set.
//!
//! Rows are produced lazily, pair by pair, so an all-staff group assigned widely
//! (millions of rows) never exists in memory at once.

use std::collections::BTreeMap;

use foldhash::HashMap;

use crate::model::{
    AccountAssignments, AccountId, Assignment, Instance, Inventory, PermissionSet, PermissionSetArn, PrincipalType,
    User,
};

use super::store_index::{Members, StoreIndex, members_in};

/// Who a row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grantee<'a> {
    /// The assigned user, or one member of the assigned group (`user` is `None` when
    /// the store does not know the id).
    User { user_id: &'a str, user: Option<&'a User> },
    /// An assigned group with no members.
    EmptyGroup,
    /// An assigned group whose members could not be read.
    MembersNotRead,
}

/// One row of the `account_assignments` report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountAssignmentRow<'a> {
    pub instance: &'a Instance,
    pub account_id: &'a AccountId,
    pub account_name: &'a str,
    pub permission_set: Option<&'a PermissionSet>,
    pub pair: &'a AccountAssignments,
    pub principal_type: PrincipalType,
    pub principal_id: &'a str,
    pub principal_name: &'a str,
    pub grantee: Grantee<'a>,
}

/// What the rows are made from, indexed once.
pub struct AccountAssignmentTable<'a> {
    instance: Option<&'a Instance>,
    index: Option<StoreIndex<'a>>,
    account_names: HashMap<&'a AccountId, &'a str>,
    permission_sets: &'a BTreeMap<PermissionSetArn, PermissionSet>,
    /// Pairs in report order: account, then permission set name.
    pairs: Vec<&'a AccountAssignments>,
}

impl<'a> AccountAssignmentTable<'a> {
    pub fn new(inventory: &'a Inventory) -> Self {
        let access = &inventory.account_access;
        let instance = access
            .instance_arn
            .as_ref()
            .and_then(|arn| inventory.instances.get(arn));
        let index = instance
            .and_then(|i| inventory.stores.get(&i.identity_store_id))
            .map(StoreIndex::new);
        let ps_name = |pair: &AccountAssignments| {
            access
                .permission_sets
                .get(&pair.permission_set_arn)
                .map_or("", |p| p.name.as_str())
        };
        let mut pairs: Vec<&AccountAssignments> = access.pairs.iter().filter(|p| !p.assignments.is_empty()).collect();
        pairs.sort_by(|a, b| {
            (&a.account_id, ps_name(a), &a.permission_set_arn).cmp(&(&b.account_id, ps_name(b), &b.permission_set_arn))
        });
        AccountAssignmentTable {
            instance,
            index,
            account_names: inventory.accounts.iter().map(|a| (&a.id, a.name.as_str())).collect(),
            permission_sets: &access.permission_sets,
            pairs,
        }
    }

    /// Every row, in report order: account, permission set name, principal type and
    /// name; a group's members in the order the store lists them.
    pub fn rows(&self) -> impl Iterator<Item = AccountAssignmentRow<'a>> + '_ {
        let instance = self.instance;
        self.pairs
            .iter()
            .filter_map(move |pair| Some((instance?, *pair)))
            .flat_map(move |(instance, pair)| {
                let mut assignments: Vec<&'a Assignment> = pair.assignments.iter().collect();
                assignments.sort_by_cached_key(|a| (a.principal_type, self.principal_name(a), a.principal_id.as_str()));
                assignments
                    .into_iter()
                    .flat_map(move |assignment| self.expand(instance, pair, assignment))
            })
    }

    fn principal_name(&self, assignment: &Assignment) -> &'a str {
        let index = self.index.as_ref();
        let id = assignment.principal_id.as_str();
        match assignment.principal_type {
            PrincipalType::User => index.and_then(|ix| ix.user(id)).map_or("", |u| u.user_name.as_str()),
            PrincipalType::Group => index.and_then(|ix| ix.group_name(id)).unwrap_or(""),
        }
    }

    fn expand<'s>(
        &'s self,
        instance: &'a Instance,
        pair: &'a AccountAssignments,
        assignment: &'a Assignment,
    ) -> Box<dyn Iterator<Item = AccountAssignmentRow<'a>> + 's> {
        let index = self.index.as_ref();
        let id = assignment.principal_id.as_str();
        let base = AccountAssignmentRow {
            instance,
            account_id: &pair.account_id,
            account_name: self.account_names.get(&pair.account_id).copied().unwrap_or(""),
            permission_set: self.permission_sets.get(&pair.permission_set_arn),
            pair,
            principal_type: assignment.principal_type,
            principal_id: id,
            principal_name: self.principal_name(assignment),
            grantee: Grantee::EmptyGroup,
        };
        match assignment.principal_type {
            PrincipalType::User => Box::new(std::iter::once(AccountAssignmentRow {
                grantee: Grantee::User {
                    user_id: id,
                    user: index.and_then(|ix| ix.user(id)),
                },
                ..base
            })),
            PrincipalType::Group => match members_in(index, id) {
                Members::NotRead => Box::new(std::iter::once(AccountAssignmentRow {
                    grantee: Grantee::MembersNotRead,
                    ..base
                })),
                Members::Read([]) => Box::new(std::iter::once(base)),
                Members::Read(members) => {
                    let users = index.map(|ix| &ix.users);
                    Box::new(members.iter().map(move |member| AccountAssignmentRow {
                        grantee: Grantee::User {
                            user_id: member.as_str(),
                            user: users.and_then(|u| u.get(member.as_str()).copied()),
                        },
                        ..base.clone()
                    }))
                }
            },
        }
    }
}

/// The number of rows the report will have, without producing them.
pub fn account_assignment_row_count(inventory: &Inventory) -> usize {
    let table = AccountAssignmentTable::new(inventory);
    let Some(_) = table.instance else {
        return 0;
    };
    let index = table.index.as_ref();
    table
        .pairs
        .iter()
        .flat_map(|pair| &pair.assignments)
        .map(|a| match (a.principal_type, members_in(index, &a.principal_id)) {
            (PrincipalType::Group, Members::Read(members)) => members.len().max(1),
            _ => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Account, AccountAccess, GroupId, IdentityStoreId, InstanceArn, InstanceType, StoreContents, UserId, UserStatus,
    };

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
        let user = |id: &str, name: &str, status| User {
            user_id: UserId::from(id),
            user_name: name.into(),
            emails: vec![format!("{name}@example.com")],
            status,
        };
        let mut contents = StoreContents {
            users: vec![
                user("u1", "alice", Some(UserStatus::Enabled)),
                user("u2", "bob", Some(UserStatus::Disabled)),
            ],
            groups: vec![
                crate::model::Group {
                    group_id: GroupId::from("g-all"),
                    display_name: "all".into(),
                },
                crate::model::Group {
                    group_id: GroupId::from("g-empty"),
                    display_name: "empty".into(),
                },
                crate::model::Group {
                    group_id: GroupId::from("g-unread"),
                    display_name: "unread".into(),
                },
            ],
            ..Default::default()
        };
        contents
            .group_members
            .insert(GroupId::from("g-all"), vec![UserId::from("u2"), UserId::from("u1")]);
        contents.group_members.insert(GroupId::from("g-empty"), vec![]);
        inv.stores.insert(store, contents);
        inv.accounts = vec![Account {
            id: AccountId::from("111122224444"),
            name: "Dev".into(),
            state: "ACTIVE".into(),
        }];
        let ps = PermissionSetArn::from("arn:aws:sso:::permissionSet/ssoins-1/ps-1");
        let assignment = |t, id: &str| Assignment {
            principal_type: t,
            principal_id: id.into(),
        };
        let mut access = AccountAccess {
            instance_arn: Some(arn),
            permission_set_count: 2,
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
        access.pairs = vec![
            AccountAssignments {
                account_id: AccountId::from("111122224444"),
                permission_set_arn: ps.clone(),
                assignments: vec![
                    assignment(PrincipalType::Group, "g-unread"),
                    assignment(PrincipalType::Group, "g-all"),
                    assignment(PrincipalType::User, "u1"),
                    assignment(PrincipalType::Group, "g-empty"),
                ],
            },
            // Provisioned without assignments: no row.
            AccountAssignments {
                account_id: AccountId::from("111122225555"),
                permission_set_arn: ps,
                assignments: vec![],
            },
        ];
        inv.account_access = access;
        inv
    }

    fn describe(row: &AccountAssignmentRow<'_>) -> String {
        let who = match row.grantee {
            Grantee::User { user_id, user } => format!("{user_id}:{}", user.map_or("?", |u| u.user_name.as_str())),
            Grantee::EmptyGroup => "(empty)".into(),
            Grantee::MembersNotRead => "(not read)".into(),
        };
        format!(
            "{} {} {} {} {}",
            row.account_name,
            row.permission_set.map_or("", |p| p.name.as_str()),
            row.principal_type.as_str(),
            row.principal_name,
            who
        )
    }

    #[test]
    fn users_groups_empty_and_unread_groups_each_have_their_rows() {
        let inv = inventory();
        let table = AccountAssignmentTable::new(&inv);
        let rows: Vec<String> = table.rows().map(|r| describe(&r)).collect();
        assert_eq!(
            rows,
            [
                "Dev Admin USER alice u1:alice",
                "Dev Admin GROUP all u2:bob",
                "Dev Admin GROUP all u1:alice",
                "Dev Admin GROUP empty (empty)",
                "Dev Admin GROUP unread (not read)",
            ]
        );
        assert_eq!(account_assignment_row_count(&inv), 5);
    }

    #[test]
    fn no_organization_instance_means_no_rows() {
        let mut inv = inventory();
        inv.account_access.instance_arn = None;
        assert_eq!(AccountAssignmentTable::new(&inv).rows().count(), 0);
        assert_eq!(account_assignment_row_count(&inv), 0);
    }

    #[test]
    fn a_store_that_was_not_read_leaves_groups_unread_not_empty() {
        let mut inv = inventory();
        inv.stores.clear();
        let table = AccountAssignmentTable::new(&inv);
        let grantees: Vec<Grantee<'_>> = table.rows().map(|r| r.grantee).collect();
        assert!(grantees.iter().all(|g| *g != Grantee::EmptyGroup));
        assert_eq!(grantees.iter().filter(|g| **g == Grantee::MembersNotRead).count(), 3);
    }
}
