//! The leaver check's data: the people asked for, and what each identity store says about
//! them (the user, their groups, the applications and AWS accounts they can reach).

use std::collections::BTreeMap;

use super::{Account, AccountError, AccountId, ApplicationArn, Group, GroupId, Instance, PermissionSetArn, User};

/// How a person is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PersonKey {
    /// By email (`emails.value`): any of the user's emails.
    Email,
    /// By user name (`userName`), for people without email.
    UserName,
}

/// One person asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonQuery {
    /// As the caller gave it.
    pub given: String,
    pub key: PersonKey,
    /// The normalised email (trimmed, lower-cased), or the trimmed user name.
    pub value: String,
    /// The values `GetUserId` is asked with, in order: the trimmed form as given, then
    /// the normalised one when it differs.
    pub forms: Vec<String>,
}

/// How a grant reaches the user.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// Assigned to the user.
    Direct,
    /// Assigned to a group the user is a member of.
    Group(GroupId),
}

/// An application the user is assigned to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApplicationGrant {
    pub application_arn: ApplicationArn,
    pub via: Via,
}

/// An AWS account the user can reach with a permission set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AccountGrant {
    pub account_id: AccountId,
    pub permission_set_arn: PermissionSetArn,
    pub via: Via,
}

/// A person found in one identity store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreMatch {
    /// Index of the query in [`PersonLookup::queries`].
    pub query: usize,
    /// The instance whose store holds the user.
    pub instance: Instance,
    pub user: User,
    /// Every group the user is a member of.
    pub groups: Vec<Group>,
    pub applications: Vec<ApplicationGrant>,
    /// Only on the organization instance (account instances have no account access).
    pub accounts: Vec<AccountGrant>,
}

/// Everything one lookup found.
#[derive(Clone, Debug, Default)]
pub struct PersonLookup {
    pub queries: Vec<PersonQuery>,
    pub management_account_id: AccountId,
    /// Every account of the organization (names for the answer).
    pub accounts: Vec<Account>,
    /// Every store searched (one instance per store), sorted by store id.
    pub stores: Vec<Instance>,
    pub matches: Vec<StoreMatch>,
    pub application_names: BTreeMap<ApplicationArn, String>,
    pub permission_set_names: BTreeMap<PermissionSetArn, String>,
    /// Stores that were listed in full to match emails in any letter case.
    pub scanned: bool,
    /// Accounts, stores and reads that failed: the answer is then incomplete.
    pub errors: Vec<AccountError>,
}
