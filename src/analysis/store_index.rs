//! Lookup tables over one identity store: users and groups by id, groups' members.
//! Built once per report, so naming a principal is a hash lookup.

use std::collections::BTreeMap;

use foldhash::HashMap;

use crate::model::{GroupId, StoreContents, User, UserId};

/// The members of an assigned group, as far as the run knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Members<'a> {
    Read(&'a [UserId]),
    /// The read failed or was not reached: an `account_errors` row says why.
    NotRead,
}

pub struct StoreIndex<'a> {
    pub users: HashMap<&'a str, &'a User>,
    pub groups: HashMap<&'a str, &'a str>,
    members: &'a BTreeMap<GroupId, Vec<UserId>>,
}

impl<'a> StoreIndex<'a> {
    pub fn new(store: &'a StoreContents) -> Self {
        StoreIndex {
            users: store.users.iter().map(|u| (u.user_id.as_str(), u)).collect(),
            groups: store
                .groups
                .iter()
                .map(|g| (g.group_id.as_str(), g.display_name.as_str()))
                .collect(),
            members: &store.group_members,
        }
    }

    pub fn user(&self, id: &str) -> Option<&'a User> {
        self.users.get(id).copied()
    }

    pub fn group_name(&self, id: &str) -> Option<&'a str> {
        self.groups.get(id).copied()
    }

    /// A group's members: read (possibly none), or not read. Every assigned group's
    /// members are read, so a group without a list is one whose read failed or was
    /// not reached.
    pub fn members(&self, group: &str) -> Members<'a> {
        match self.members.get(&GroupId::from(group)) {
            Some(members) => Members::Read(members),
            None => Members::NotRead,
        }
    }
}

/// A group's members in a store that may not have been read at all.
pub fn members_in<'a>(index: Option<&StoreIndex<'a>>, group: &str) -> Members<'a> {
    index.map_or(Members::NotRead, |index| index.members(group))
}
