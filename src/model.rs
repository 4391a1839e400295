//! The in-memory inventory: plain data collected from AWS, with no SDK types.
//!
//! Everything downstream of the collect layer (analyses, report writers) works on
//! these types only, so it can be unit-tested without AWS.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a string newtype whose name says what the value is.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

string_id!(
    /// A 12-digit AWS account id.
    AccountId
);
string_id!(
    /// An identity store id such as `d-1234567890`.
    IdentityStoreId
);
string_id!(
    /// An Identity Center instance ARN (`arn:aws:sso:::instance/ssoins-...`).
    InstanceArn
);
string_id!(
    /// An Identity Center application ARN.
    ApplicationArn
);
string_id!(
    /// An identity store user id.
    UserId
);
string_id!(
    /// An identity store group id.
    GroupId
);
string_id!(
    /// A permission set ARN (`arn:aws:sso:::permissionSet/ssoins-.../ps-...`).
    PermissionSetArn
);

/// Whether an account id has the shape AWS uses: exactly 12 ASCII digits.
pub fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// An account of the organization, as Organizations lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED` (from `State`, else `Status`).
    pub state: String,
}

impl Account {
    /// Only active accounts are audited.
    pub fn is_active(&self) -> bool {
        self.state == "ACTIVE"
    }
}

/// Who owns an instance and so what it can be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InstanceType {
    /// The organization instance, owned by the management account.
    Organization,
    /// An account instance, owned by a member (or standalone) account.
    Account,
}

impl InstanceType {
    /// The value written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceType::Organization => "ORGANIZATION",
            InstanceType::Account => "ACCOUNT",
        }
    }
}

/// An Identity Center instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub arn: InstanceArn,
    pub identity_store_id: IdentityStoreId,
    pub owner_account_id: AccountId,
    pub instance_type: InstanceType,
    /// The Region the instance lives in (its primary Region); empty while unknown.
    pub region: String,
    pub name: String,
    pub status: String,
    /// The Regions a per-Region scan found it in, when the listing did not say which is
    /// its primary one (`region` is then empty until its reader asks ListRegions).
    pub replicas: Vec<String>,
}

/// Whether a user may sign in, as the identity store says (`UserStatus`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum UserStatus {
    Enabled,
    Disabled,
    /// A value this version does not know, kept as the store sent it.
    Other(Box<str>),
}

impl UserStatus {
    /// From the API's value.
    pub fn parse(value: &str) -> Self {
        match value {
            "ENABLED" => UserStatus::Enabled,
            "DISABLED" => UserStatus::Disabled,
            other => UserStatus::Other(other.into()),
        }
    }

    /// The value written in reports (as the API spells it).
    pub fn as_str(&self) -> &str {
        match self {
            UserStatus::Enabled => "ENABLED",
            UserStatus::Disabled => "DISABLED",
            UserStatus::Other(value) => value,
        }
    }
}

/// A user of an identity store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub user_id: UserId,
    pub user_name: String,
    /// Every email the user has, as stored (not normalised).
    pub emails: Vec<String>,
    /// `None` where the store does not say.
    pub status: Option<UserStatus>,
}

impl User {
    /// Whether the store says the user is disabled.
    pub fn is_disabled(&self) -> bool {
        self.status == Some(UserStatus::Disabled)
    }
}

/// A group of an identity store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub group_id: GroupId,
    pub display_name: String,
}

/// What one identity store holds, as far as the reports need it. Each part is read on
/// its own and stands or falls alone: a store whose groups could not be read still has
/// its users, and the other way round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreContents {
    /// Whether `users` was read (every page); a store whose users could not be read
    /// is left out of the duplicate analysis and counted as failed.
    pub users_read: bool,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Members of the groups that some assignment names. An assigned group missing
    /// here is one whose members could not be read (an `account_errors` row says why),
    /// never to be mistaken for an empty group.
    pub group_members: BTreeMap<GroupId, Vec<UserId>>,
}

/// Whether an assignment names a user or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PrincipalType {
    User,
    Group,
}

impl PrincipalType {
    /// The value written in reports (as the API spells it).
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::User => "USER",
            PrincipalType::Group => "GROUP",
        }
    }
}

/// One assignment of a principal (to an application, or to an account with a
/// permission set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub principal_type: PrincipalType,
    pub principal_id: String,
}

/// An application of an instance and everyone assigned to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    pub arn: ApplicationArn,
    pub instance_arn: InstanceArn,
    pub name: String,
    pub status: String,
    pub assignments: Vec<Assignment>,
}

/// A permission set of the organization instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSet {
    pub arn: PermissionSetArn,
    pub name: String,
    pub description: String,
    /// ISO 8601 duration such as `PT8H`.
    pub session_duration: String,
}

/// The assignments of one (account, permission set) pair the permission set is
/// provisioned to. A pair with no assignment has an empty list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAssignments {
    pub account_id: AccountId,
    pub permission_set_arn: PermissionSetArn,
    pub assignments: Vec<Assignment>,
}

/// Who can reach which account: the organization instance's permission sets and the
/// account assignments read for the accounts in scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAccess {
    /// The organization instance they belong to (unset when it was not read).
    pub instance_arn: Option<InstanceArn>,
    /// Every permission set ListPermissionSets returned (count), with the details of
    /// those that some read pair names.
    pub permission_set_count: usize,
    pub permission_sets: BTreeMap<PermissionSetArn, PermissionSet>,
    /// Every pair read, sorted by account then permission set once collection ends.
    pub pairs: Vec<AccountAssignments>,
}

/// The part of the run that an error row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Choosing which accounts to audit.
    Select,
    /// Getting credentials for the account.
    AssumeRole,
    /// Listing the instances an account sees.
    ListInstances,
    /// Reading users, groups and memberships of a store.
    IdentityStore,
    /// Reading applications and their assignments.
    Applications,
    /// Reading the organization instance's permission sets and where they are provisioned.
    PermissionSets,
    /// Reading the account assignments of an (account, permission set) pair.
    AccountAssignments,
}

impl Stage {
    /// The value written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Select => "select",
            Stage::AssumeRole => "assume_role",
            Stage::ListInstances => "list_instances",
            Stage::IdentityStore => "identity_store",
            Stage::Applications => "applications",
            Stage::PermissionSets => "permission_sets",
            Stage::AccountAssignments => "account_assignments",
        }
    }
}

/// A stable code for why an account or store is missing from the reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The account is not ACTIVE (suspended, closing, closed): skipped.
    AccountNotActive,
    /// An account named in the event is not in the organization.
    NotInOrganization,
    /// AssumeRole was refused: the role is missing or does not trust this account.
    AssumeRoleDenied,
    /// An API call was refused for lack of permission.
    AccessDenied,
    /// Throttled on every retry.
    ThrottledRetriesExhausted,
    /// The service failed or could not be reached on every retry.
    ServiceUnavailable,
    /// Any other error answered by the service.
    ServiceError,
    /// The store's instance is owned by an account that was not audited.
    OwnerNotAudited,
    /// The run stopped before this account or store was read (Lambda deadline).
    DeadlineReached,
    /// Regions named in `REGIONS` (or the event) that the account has not enabled
    /// (opt-in Regions): they cannot hold its instances. Recorded, not a failure.
    RegionNotEnabled,
    /// ListInstances named an instance without its primary Region: it is listed, not read.
    RegionUnknown,
}

impl ErrorCode {
    /// The value written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::AccountNotActive => "ACCOUNT_NOT_ACTIVE",
            ErrorCode::NotInOrganization => "NOT_IN_ORGANIZATION",
            ErrorCode::AssumeRoleDenied => "ASSUME_ROLE_DENIED",
            ErrorCode::AccessDenied => "ACCESS_DENIED",
            ErrorCode::ThrottledRetriesExhausted => "THROTTLED",
            ErrorCode::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            ErrorCode::ServiceError => "SERVICE_ERROR",
            ErrorCode::OwnerNotAudited => "OWNER_NOT_AUDITED",
            ErrorCode::DeadlineReached => "DEADLINE_REACHED",
            ErrorCode::RegionNotEnabled => "REGION_NOT_ENABLED",
            ErrorCode::RegionUnknown => "REGION_UNKNOWN",
        }
    }

    /// Skips are expected (not failures): the account was left out on purpose.
    pub fn is_skip(self) -> bool {
        matches!(self, ErrorCode::AccountNotActive)
    }

    /// A read that was attempted (or due) and failed: what makes a run incomplete
    /// besides the deadline, and what the `ReadFailures` metric counts.
    pub fn is_read_failure(self) -> bool {
        !matches!(
            self,
            ErrorCode::AccountNotActive
                | ErrorCode::NotInOrganization
                | ErrorCode::DeadlineReached
                | ErrorCode::RegionNotEnabled
        )
    }
}

/// Why an account, a Region of it, or a store is not (fully) in the reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountError {
    pub account_id: AccountId,
    /// Empty when the error is not tied to a Region.
    pub region: String,
    pub stage: Stage,
    pub code: ErrorCode,
    /// What could not be read: an identity store id, instance or application ARN; empty
    /// when the whole account is concerned. Named in `message` too.
    pub resource: String,
    pub message: String,
}

/// Everything one run collected.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Inventory {
    /// Every account listed by Organizations (after narrowing by the event).
    pub accounts: Vec<Account>,
    /// Accounts whose instances were listed, with the ARNs each can see.
    pub visible_instances: BTreeMap<AccountId, Vec<InstanceArn>>,
    /// Every instance seen, once.
    pub instances: BTreeMap<InstanceArn, Instance>,
    /// Every store read, once.
    pub stores: BTreeMap<IdentityStoreId, StoreContents>,
    pub applications: Vec<Application>,
    pub account_access: AccountAccess,
    pub errors: Vec<AccountError>,
}

// ---- the leaver check (find-person) ------------------------------------------------------
pub mod person;
