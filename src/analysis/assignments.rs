//! Application assignments, with each group assignment expanded to its members.
//!
//! Identity Center has no nested groups, so one level of expansion is complete.

use foldhash::HashMap;

use std::collections::BTreeMap;

use crate::model::{
    Application, Assignment, IdentityStoreId, Instance, InstanceArn, PrincipalType, StoreContents, User, UserId,
};

use super::store_index::{Members, StoreIndex, members_in};

/// One row of the `application_assignments` report. A user assignment is one row; a
/// group assignment is one row per member, or one row with `user` empty for an empty
/// group; an application without assignments is one row with `principal` empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignmentRow<'a> {
    pub instance: Option<&'a Instance>,
    pub instance_arn: &'a InstanceArn,
    pub application: &'a Application,
    pub principal: Option<Principal<'a>>,
    /// The user this row is about (the assigned user, or a member of the assigned group).
    pub user: Option<UserRef<'a>>,
    /// A group assignment whose members could not be read (`user` is then empty):
    /// never to be mistaken for an empty group.
    pub members_not_read: bool,
}

/// The principal named by an assignment, with its name where the store knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal<'a> {
    pub principal_type: PrincipalType,
    pub principal_id: &'a str,
    pub name: &'a str,
}

/// A user as it appears on a row: the id always, the rest when the store has the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef<'a> {
    pub user_id: &'a str,
    pub user: Option<&'a User>,
}

/// Expands every application's assignments to rows, applications in the given order.
/// The rows are made one at a time as the iterator is advanced (a group assigned to many
/// applications would otherwise hold millions of rows at once); only the lookup tables
/// are built up front.
pub fn assignment_rows<'a>(
    applications: &'a [Application],
    instances: &'a BTreeMap<InstanceArn, Instance>,
    stores: &'a BTreeMap<IdentityStoreId, StoreContents>,
) -> AssignmentRows<'a> {
    let indexes: Vec<StoreIndex<'a>> = stores.values().map(StoreIndex::new).collect();
    let index_of = stores.keys().enumerate().map(|(n, id)| (id, n)).collect();
    AssignmentRows {
        instances,
        indexes,
        index_of,
        applications: applications.iter(),
        current: None,
    }
}

/// The rows of [`assignment_rows`], made as they are asked for.
pub struct AssignmentRows<'a> {
    instances: &'a BTreeMap<InstanceArn, Instance>,
    indexes: Vec<StoreIndex<'a>>,
    index_of: HashMap<&'a IdentityStoreId, usize>,
    applications: std::slice::Iter<'a, Application>,
    current: Option<Current<'a>>,
}

/// Where the expansion of one application stands.
struct Current<'a> {
    base: AssignmentRow<'a>,
    /// The application's store, in `indexes`.
    index: Option<usize>,
    assignments: std::slice::Iter<'a, Assignment>,
    /// The assigned group whose members are being listed, and those still to list.
    group: Option<(Principal<'a>, std::slice::Iter<'a, UserId>)>,
}

impl<'a> Iterator for AssignmentRows<'a> {
    type Item = AssignmentRow<'a>;

    fn next(&mut self) -> Option<AssignmentRow<'a>> {
        loop {
            let Some(current) = self.current.as_mut() else {
                let application = self.applications.next()?;
                let instance = self.instances.get(&application.instance_arn);
                let base = AssignmentRow {
                    instance,
                    instance_arn: &application.instance_arn,
                    application,
                    principal: None,
                    user: None,
                    members_not_read: false,
                };
                self.current = Some(Current {
                    base: base.clone(),
                    index: instance.and_then(|i| self.index_of.get(&i.identity_store_id).copied()),
                    assignments: application.assignments.iter(),
                    group: None,
                });
                if application.assignments.is_empty() {
                    return Some(base);
                }
                continue;
            };
            let index = current.index.and_then(|n| self.indexes.get(n));
            if let Some((principal, members)) = current.group.as_mut() {
                if let Some(member) = members.next() {
                    return Some(AssignmentRow {
                        principal: Some(principal.clone()),
                        user: Some(UserRef {
                            user_id: member.as_str(),
                            user: index.and_then(|ix| ix.user(member.as_str())),
                        }),
                        ..current.base.clone()
                    });
                }
                current.group = None;
            }
            let Some(assignment) = current.assignments.next() else {
                self.current = None;
                continue;
            };
            let id = assignment.principal_id.as_str();
            match assignment.principal_type {
                PrincipalType::User => {
                    let user = index.and_then(|ix| ix.user(id));
                    return Some(AssignmentRow {
                        principal: Some(Principal {
                            principal_type: PrincipalType::User,
                            principal_id: id,
                            name: user.map_or("", |u| u.user_name.as_str()),
                        }),
                        user: Some(UserRef { user_id: id, user }),
                        ..current.base.clone()
                    });
                }
                PrincipalType::Group => {
                    let principal = Principal {
                        principal_type: PrincipalType::Group,
                        principal_id: id,
                        name: index.and_then(|ix| ix.group_name(id)).unwrap_or(""),
                    };
                    match members_in(index, id) {
                        Members::NotRead => {
                            return Some(AssignmentRow {
                                principal: Some(principal),
                                members_not_read: true,
                                ..current.base.clone()
                            });
                        }
                        Members::Read([]) => {
                            return Some(AssignmentRow {
                                principal: Some(principal),
                                ..current.base.clone()
                            });
                        }
                        Members::Read(members) => current.group = Some((principal, members.iter())),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountId, ApplicationArn, Group, GroupId, InstanceType};

    fn fixture() -> (
        Vec<Application>,
        BTreeMap<InstanceArn, Instance>,
        BTreeMap<IdentityStoreId, StoreContents>,
    ) {
        let arn = InstanceArn::from("arn:aws:sso:::instance/ssoins-1");
        let instance = Instance {
            arn: arn.clone(),
            identity_store_id: IdentityStoreId::from("d-1"),
            owner_account_id: AccountId::from("111122223333"),
            instance_type: InstanceType::Organization,
            region: "us-east-1".into(),
            name: "org".into(),
            status: "ACTIVE".into(),
            replicas: Vec::new(),
        };
        let user = |id: &str, name: &str| User {
            user_id: UserId::from(id),
            user_name: name.into(),
            emails: vec![format!("{name}@x.com")],
            status: None,
        };
        let mut members = BTreeMap::new();
        members.insert(GroupId::from("g-full"), vec![UserId::from("u-1"), UserId::from("u-2")]);
        members.insert(GroupId::from("g-empty"), vec![]);
        let store = StoreContents {
            users_read: true,
            users: vec![user("u-1", "alice"), user("u-2", "bob")],
            groups: vec![
                Group {
                    group_id: GroupId::from("g-full"),
                    display_name: "admins".into(),
                },
                Group {
                    group_id: GroupId::from("g-empty"),
                    display_name: "nobody".into(),
                },
            ],
            group_members: members,
        };
        let app = |n: &str, a: Vec<Assignment>| Application {
            arn: ApplicationArn::from(format!("arn:aws:sso::111122223333:application/ssoins-1/apl-{n}").as_str()),
            instance_arn: arn.clone(),
            name: n.into(),
            status: "ENABLED".into(),
            assignments: a,
        };
        let apps = vec![
            app(
                "one",
                vec![
                    Assignment {
                        principal_type: PrincipalType::User,
                        principal_id: "u-1".into(),
                    },
                    Assignment {
                        principal_type: PrincipalType::Group,
                        principal_id: "g-full".into(),
                    },
                    Assignment {
                        principal_type: PrincipalType::Group,
                        principal_id: "g-empty".into(),
                    },
                    Assignment {
                        principal_type: PrincipalType::User,
                        principal_id: "u-gone".into(),
                    },
                ],
            ),
            app("unassigned", vec![]),
        ];
        let mut instances = BTreeMap::new();
        instances.insert(arn, instance);
        let mut stores = BTreeMap::new();
        stores.insert(IdentityStoreId::from("d-1"), store);
        (apps, instances, stores)
    }

    #[test]
    fn users_groups_empty_groups_and_unassigned_apps() {
        let (apps, instances, stores) = fixture();
        let rows = assignment_rows(&apps, &instances, &stores);
        let got: Vec<(String, String, String, String)> = rows
            .map(|r| {
                (
                    r.application.name.clone(),
                    r.principal
                        .as_ref()
                        .map_or(String::new(), |p| format!("{}:{}", p.principal_type.as_str(), p.name)),
                    r.user.as_ref().map_or(String::new(), |u| u.user_id.to_owned()),
                    r.user
                        .as_ref()
                        .and_then(|u| u.user)
                        .map_or(String::new(), |u| u.user_name.clone()),
                )
            })
            .collect();
        let want = vec![
            ("one", "USER:alice", "u-1", "alice"),
            ("one", "GROUP:admins", "u-1", "alice"),
            ("one", "GROUP:admins", "u-2", "bob"),
            ("one", "GROUP:nobody", "", ""),
            ("one", "USER:", "u-gone", ""),
            ("unassigned", "", "", ""),
        ];
        let want: Vec<(String, String, String, String)> = want
            .into_iter()
            .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_group_ending_one_application_does_not_leak_into_the_next() {
        let (mut apps, mut instances, stores) = fixture();
        let unknown = InstanceArn::from("arn:aws:sso:::instance/ssoins-unknown");
        let mut last = apps[0].clone();
        last.name = "group-last".into();
        last.assignments = vec![Assignment {
            principal_type: PrincipalType::Group,
            principal_id: "g-full".into(),
        }];
        let mut orphan = last.clone();
        orphan.name = "orphan".into();
        orphan.instance_arn = unknown.clone();
        apps = vec![last, orphan, apps[1].clone()];
        instances.retain(|arn, _| arn != &unknown);
        let got: Vec<(String, String, String)> = assignment_rows(&apps, &instances, &stores)
            .map(|r| {
                (
                    r.application.name.clone(),
                    r.principal.as_ref().map_or(String::new(), |p| p.name.to_owned()),
                    r.user.as_ref().map_or(String::new(), |u| u.user_id.to_owned()),
                )
            })
            .collect();
        let want: Vec<(String, String, String)> = [
            ("group-last", "admins", "u-1"),
            ("group-last", "admins", "u-2"),
            // An instance the audit never saw: no store, so no members and no names.
            ("orphan", "", ""),
            ("unassigned", "", ""),
        ]
        .into_iter()
        .map(|(a, b, c)| (a.into(), b.into(), c.into()))
        .collect();
        assert_eq!(got, want);
    }
}
