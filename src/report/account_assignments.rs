//! `account_assignments`: who can sign in to which account, with which permission
//! set; a row per user assignment or member of an assigned group.
//!
//! A group whose members could not be read is one row with the user columns empty
//! and `UserStatus` = `MEMBERS_NOT_READ` (an `account_errors` row says why); an empty
//! group is one row with every user column empty.

use std::borrow::Cow;

use crate::analysis::{AccountAssignmentRow, Grantee};

use std::io::Write;

use super::{EncodeError, join, write_csv};

pub const ACCOUNT_ASSIGNMENTS: &str = "account_assignments";

/// The `UserStatus` cell of a group whose members could not be read.
pub const MEMBERS_NOT_READ: &str = "MEMBERS_NOT_READ";

pub const HEADER: [&str; 13] = [
    "InstanceArn",
    "IdentityStoreId",
    "AccountId",
    "AccountName",
    "PermissionSetArn",
    "PermissionSetName",
    "PrincipalType",
    "PrincipalId",
    "PrincipalName",
    "UserId",
    "UserName",
    "UserEmail",
    "UserStatus",
];

/// The user cells (`UserId`, `UserName`, `UserEmail`, `UserStatus`) of a grantee.
pub fn user_cells<'a>(grantee: &Grantee<'a>) -> [Cow<'a, str>; 4] {
    match grantee {
        Grantee::User { user_id, user } => [
            Cow::Borrowed(*user_id),
            Cow::Borrowed(user.map_or("", |u| u.user_name.as_str())),
            user.map_or(Cow::Borrowed(""), |u| {
                Cow::Owned(join(u.emails.iter().map(|e| e.trim())))
            }),
            Cow::Borrowed(user.and_then(|u| u.status.as_ref()).map_or("", |s| s.as_str())),
        ],
        Grantee::EmptyGroup => [
            Cow::Borrowed(""),
            Cow::Borrowed(""),
            Cow::Borrowed(""),
            Cow::Borrowed(""),
        ],
        Grantee::MembersNotRead => [
            Cow::Borrowed(""),
            Cow::Borrowed(""),
            Cow::Borrowed(""),
            Cow::Borrowed(MEMBERS_NOT_READ),
        ],
    }
}

/// Writes the report from its rows (give it `AccountAssignmentTable::rows()`: rows
/// are expanded as they are written).
pub fn write_account_assignments<'a, W: Write>(
    rows: impl Iterator<Item = AccountAssignmentRow<'a>>,
    out: W,
) -> Result<W, EncodeError> {
    write_csv(
        ACCOUNT_ASSIGNMENTS,
        &HEADER,
        rows.map(|r| {
            let [user_id, user_name, user_email, user_status] = user_cells(&r.grantee);
            [
                Cow::Borrowed(r.instance.arn.as_str()),
                Cow::Borrowed(r.instance.identity_store_id.as_str()),
                Cow::Borrowed(r.account_id.as_str()),
                Cow::Borrowed(r.account_name),
                Cow::Borrowed(r.pair.permission_set_arn.as_str()),
                Cow::Borrowed(r.permission_set.map_or("", |p| p.name.as_str())),
                Cow::Borrowed(r.principal_type.as_str()),
                Cow::Borrowed(r.principal_id),
                Cow::Borrowed(r.principal_name),
                user_id,
                user_name,
                user_email,
                user_status,
            ]
        }),
        out,
    )
}
