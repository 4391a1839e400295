//! Report writers: rows in, CSV bytes out (RFC 4180, UTF-8, header row, CRLF).
//!
//! Writers do no I/O; sinks decide where the bytes go. Every cell goes through
//! [`neutralize`] so names from external identity providers cannot become formulas.

pub mod account_assignments;
pub mod cells;
pub mod summary;

// The run's page (summary.html).
pub mod page;

use std::borrow::Cow;

use crate::analysis::{AssignmentRow, DuplicateRow, InstanceRow};
use crate::model::AccountError;

pub use account_assignments::{ACCOUNT_ASSIGNMENTS, account_assignments_csv};
pub use cells::neutralize;
pub use summary::{ErrorEntry, RunSummary};

/// A report ready to be written: its name (file stem) and CSV body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub name: &'static str,
    pub body: Vec<u8>,
}

pub const INSTANCES: &str = "idc_instances";
pub const DUPLICATED_USERS: &str = "duplicated_users";
pub const APPLICATION_ASSIGNMENTS: &str = "application_assignments";
pub const ACCOUNT_ERRORS: &str = "account_errors";

/// Error raised while encoding a report (the CSV library failing on an in-memory buffer).
#[derive(Debug, thiserror::Error)]
#[error("could not encode the {report} report: {source}")]
pub struct EncodeError {
    pub report: &'static str,
    #[source]
    pub source: csv::Error,
}

/// Writes a header and rows of cells, neutralising each cell. Cells are borrowed where
/// they can be: encoding copies each one once, into the CSV body.
fn encode<I, R, C>(report: &'static str, header: &[&str], rows: I) -> Result<Report, EncodeError>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let wrap = |source| EncodeError { report, source };
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(header).map_err(wrap)?;
    for row in rows {
        for cell in row {
            writer.write_field(neutralize(cell.as_ref()).as_bytes()).map_err(wrap)?;
        }
        writer.write_record(None::<&[u8]>).map_err(wrap)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| wrap(csv::Error::from(e.into_error())))?;
    Ok(Report { name: report, body })
}

/// `idc_instances`: the blog's two columns first, then the rest.
pub fn instances_csv(rows: &[InstanceRow<'_>]) -> Result<Report, EncodeError> {
    let header = [
        "AccountId",
        "IdentityCenterInstance",
        "InstanceArn",
        "InstanceType",
        "OwnerAccountId",
        "Region",
        "InstanceName",
        "InstanceStatus",
        "AccountName",
    ];
    encode(
        INSTANCES,
        &header,
        rows.iter().map(|r| {
            let i = r.instance;
            [
                r.account_id,
                i.map_or("", |i| i.identity_store_id.as_str()),
                i.map_or("", |i| i.arn.as_str()),
                i.map_or("", |i| i.instance_type.as_str()),
                i.map_or("", |i| i.owner_account_id.as_str()),
                i.map_or("", |i| i.region.as_str()),
                i.map_or("", |i| i.name.as_str()),
                i.map_or("", |i| i.status.as_str()),
                r.account_name,
            ]
        }),
    )
}

/// `duplicated_users`: the blog's `User_email,IdentityStoreId` first.
pub fn duplicated_users_csv(rows: &[DuplicateRow]) -> Result<Report, EncodeError> {
    let header = [
        "User_email",
        "IdentityStoreId",
        "StoreCount",
        "UserNames",
        "OwnerAccountIds",
    ];
    encode(
        DUPLICATED_USERS,
        &header,
        rows.iter().map(|r| {
            [
                Cow::Borrowed(r.email.as_str()),
                Cow::Owned(join(r.store_ids.iter().map(|s| s.as_str()))),
                Cow::Owned(r.store_ids.len().to_string()),
                Cow::Owned(join(r.user_names.iter().map(String::as_str))),
                Cow::Owned(join(r.owner_account_ids.iter().map(|a| a.as_str()))),
            ]
        }),
    )
}

/// `application_assignments`: a row per user assignment or group member.
pub fn assignments_csv(rows: &[AssignmentRow<'_>]) -> Result<Report, EncodeError> {
    let header = [
        "InstanceArn",
        "IdentityStoreId",
        "OwnerAccountId",
        "Region",
        "ApplicationArn",
        "ApplicationName",
        "ApplicationStatus",
        "PrincipalType",
        "PrincipalId",
        "PrincipalName",
        "UserId",
        "UserName",
        "UserEmail",
    ];
    encode(
        APPLICATION_ASSIGNMENTS,
        &header,
        rows.iter().map(|r| {
            let i = r.instance;
            let p = r.principal.as_ref();
            let u = r.user.as_ref();
            let user = u.and_then(|u| u.user);
            [
                Cow::Borrowed(r.instance_arn.as_str()),
                text(i.map(|i| i.identity_store_id.as_str())),
                text(i.map(|i| i.owner_account_id.as_str())),
                text(i.map(|i| i.region.as_str())),
                Cow::Borrowed(r.application.arn.as_str()),
                Cow::Borrowed(r.application.name.as_str()),
                Cow::Borrowed(r.application.status.as_str()),
                text(p.map(|p| p.principal_type.as_str())),
                text(p.map(|p| p.principal_id)),
                text(p.map(|p| p.name)),
                text(u.map(|u| u.user_id)),
                text(user.map(|u| u.user_name.as_str())),
                user.map_or(Cow::Borrowed(""), |u| {
                    Cow::Owned(join(u.emails.iter().map(|e| e.trim())))
                }),
            ]
        }),
    )
}

/// `account_errors`: every account or store that could not be audited, and why.
pub fn account_errors_csv(errors: &[AccountError]) -> Result<Report, EncodeError> {
    let header = ["AccountId", "Region", "Stage", "ErrorCode", "Message"];
    encode(
        ACCOUNT_ERRORS,
        &header,
        errors.iter().map(|e| {
            [
                e.account_id.as_str(),
                e.region.as_str(),
                e.stage.as_str(),
                e.code.as_str(),
                e.message.as_str(),
            ]
        }),
    )
}

/// An optional cell: empty when absent.
fn text(cell: Option<&str>) -> Cow<'_, str> {
    Cow::Borrowed(cell.unwrap_or(""))
}

/// Joins values the way the blog does: `", "`.
fn join<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::assignments::{Principal, UserRef};
    use crate::model::*;

    fn parse(report: &Report) -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(report.body.as_slice());
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    fn instance() -> Instance {
        Instance {
            arn: InstanceArn::from("arn:aws:sso:::instance/ssoins-1"),
            identity_store_id: IdentityStoreId::from("d-111111111111"),
            owner_account_id: AccountId::from("111122221111"),
            instance_type: InstanceType::Account,
            region: "eu-west-1".into(),
            name: "sandbox, \"dev\"".into(),
            status: "ACTIVE".into(),
        }
    }

    #[test]
    fn instances_report_columns() {
        let inst = instance();
        let rows = vec![
            InstanceRow {
                account_id: "111122221111",
                account_name: "=HYPERLINK(\"x\")",
                instance: Some(&inst),
            },
            InstanceRow {
                account_id: "111122224444",
                account_name: "Ωmega\nline",
                instance: None,
            },
        ];
        let report = instances_csv(&rows).unwrap();
        assert!(
            report
                .body
                .starts_with(b"AccountId,IdentityCenterInstance,InstanceArn,")
        );
        assert!(report.body.ends_with(b"\r\n"));
        let parsed = parse(&report);
        assert_eq!(parsed.len(), 3);
        assert_eq!(
            parsed[1],
            vec![
                "111122221111",
                "d-111111111111",
                "arn:aws:sso:::instance/ssoins-1",
                "ACCOUNT",
                "111122221111",
                "eu-west-1",
                "sandbox, \"dev\"",
                "ACTIVE",
                "'=HYPERLINK(\"x\")"
            ]
        );
        assert_eq!(
            parsed[2],
            vec!["111122224444", "", "", "", "", "", "", "", "Ωmega\nline"]
        );
    }

    #[test]
    fn duplicates_report_joins_like_the_blog() {
        let rows = vec![DuplicateRow {
            email: "username2+adminuser@domain.com".into(),
            store_ids: vec![
                "d-111111111111".into(),
                "d-111122223333".into(),
                "d-222222222222".into(),
            ],
            user_names: vec!["u2".into(), "+u2".into()],
            owner_account_ids: vec!["111122221111".into(), "111122223333".into()],
        }];
        let parsed = parse(&duplicated_users_csv(&rows).unwrap());
        assert_eq!(
            parsed[0],
            vec![
                "User_email",
                "IdentityStoreId",
                "StoreCount",
                "UserNames",
                "OwnerAccountIds"
            ]
        );
        assert_eq!(
            parsed[1],
            vec![
                "username2+adminuser@domain.com",
                "d-111111111111, d-111122223333, d-222222222222",
                "3",
                "u2, +u2",
                "111122221111, 111122223333"
            ]
        );
    }

    #[test]
    fn assignments_report_columns() {
        let inst = instance();
        let app = Application {
            arn: ApplicationArn::from("arn:aws:sso::111122221111:application/ssoins-1/apl-1"),
            instance_arn: inst.arn.clone(),
            name: "@SUM(A1)".into(),
            status: "ENABLED".into(),
            assignments: vec![],
        };
        let user = User {
            user_id: UserId::from("u-1"),
            user_name: "李雷".into(),
            emails: vec!["li@x.cn".into(), " -li@y.cn".into()],
            status: None,
        };
        let rows = vec![
            AssignmentRow {
                instance: Some(&inst),
                instance_arn: &inst.arn,
                application: &app,
                principal: Some(Principal {
                    principal_type: PrincipalType::Group,
                    principal_id: "g-1",
                    name: "team",
                }),
                user: Some(UserRef {
                    user_id: "u-1",
                    user: Some(&user),
                }),
            },
            AssignmentRow {
                instance: None,
                instance_arn: &inst.arn,
                application: &app,
                principal: None,
                user: None,
            },
        ];
        let parsed = parse(&assignments_csv(&rows).unwrap());
        assert_eq!(parsed[0].len(), 13);
        assert_eq!(
            parsed[1],
            vec![
                "arn:aws:sso:::instance/ssoins-1",
                "d-111111111111",
                "111122221111",
                "eu-west-1",
                "arn:aws:sso::111122221111:application/ssoins-1/apl-1",
                "'@SUM(A1)",
                "ENABLED",
                "GROUP",
                "g-1",
                "team",
                "u-1",
                "李雷",
                "li@x.cn, -li@y.cn"
            ]
        );
        assert_eq!(parsed[2][5], "'@SUM(A1)");
        assert_eq!(parsed[2][7], "");
    }

    #[test]
    fn errors_report_columns() {
        let errors = vec![AccountError {
            account_id: AccountId::from("111122224444"),
            region: String::new(),
            stage: Stage::AssumeRole,
            code: ErrorCode::AssumeRoleDenied,
            resource: String::new(),
            message: "AccessDenied: not authorized, \"really\"".into(),
        }];
        let parsed = parse(&account_errors_csv(&errors).unwrap());
        assert_eq!(parsed[0], vec!["AccountId", "Region", "Stage", "ErrorCode", "Message"]);
        assert_eq!(
            parsed[1],
            vec![
                "111122224444",
                "",
                "assume_role",
                "ASSUME_ROLE_DENIED",
                "AccessDenied: not authorized, \"really\""
            ]
        );
    }
}
