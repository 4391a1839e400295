//! Report writers: rows in, CSV out through any `std::io::Write` (RFC 4180, UTF-8, header
//! row, CRLF).
//!
//! Each report has one function taking an iterator of rows and a writer; rows are
//! written as they come, so a report never exists whole in memory. Writers decide no
//! I/O: the caller (the run, through `sink::staging`) says where the bytes go. Every cell
//! goes through [`neutralize`] so names from external identity providers cannot become
//! formulas.

pub mod account_assignments;
pub mod cells;
pub mod changes;
pub mod person_access;
pub mod summary;

// The run's page (summary.html).
pub mod page;

use std::borrow::{Borrow, Cow};
use std::io::Write;

use crate::analysis::{AssignmentRow, DuplicateRow, InstanceRow};
use crate::model::AccountError;

pub use account_assignments::{ACCOUNT_ASSIGNMENTS, write_account_assignments};
pub use cells::neutralize;
pub use changes::{CHANGES, ChangesWriter};
pub use summary::{ChangeCounts, ChangeHeadline, ChangesScope, ErrorEntry, RunSummary};

pub const INSTANCES: &str = "idc_instances";
pub const DUPLICATED_USERS: &str = "duplicated_users";
pub const APPLICATION_ASSIGNMENTS: &str = "application_assignments";
pub const ACCOUNT_ERRORS: &str = "account_errors";

/// The CSV writer's buffer: rows reach the destination in blocks of this size.
const BUFFER_BYTES: usize = 64 * 1024;

/// Error raised while writing a report: the destination refused bytes (a full disk).
#[derive(Debug, thiserror::Error)]
#[error("could not write the {report} report: {source}")]
pub struct EncodeError {
    pub report: &'static str,
    #[source]
    pub source: csv::Error,
}

/// A CSV report being written: the header goes out on creation, then each row as it is
/// given, every cell neutralised. The building block of every report function; a new
/// report is a header and a loop of [`ReportWriter::row`] calls.
pub struct ReportWriter<W: Write> {
    report: &'static str,
    csv: csv::Writer<W>,
}

impl<W: Write> ReportWriter<W> {
    /// Starts `report` on `out` with its header row.
    pub fn new(report: &'static str, header: &[&str], out: W) -> Result<Self, EncodeError> {
        let csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .buffer_capacity(BUFFER_BYTES)
            .from_writer(out);
        let mut writer = ReportWriter { report, csv };
        if let Err(e) = writer.csv.write_record(header) {
            return Err(writer.wrap(e));
        }
        Ok(writer)
    }

    fn wrap(&self, source: csv::Error) -> EncodeError {
        EncodeError {
            report: self.report,
            source,
        }
    }

    /// Writes one row. Cells are borrowed where they can be: each is copied once, into
    /// the writer's buffer.
    pub fn row<R, C>(&mut self, cells: R) -> Result<(), EncodeError>
    where
        R: IntoIterator<Item = C>,
        C: AsRef<str>,
    {
        for cell in cells {
            if let Err(e) = self.csv.write_field(neutralize(cell.as_ref()).as_bytes()) {
                return Err(self.wrap(e));
            }
        }
        self.csv.write_record(None::<&[u8]>).map_err(|e| self.wrap(e))
    }

    /// Flushes what is buffered and hands the destination back.
    pub fn finish(self) -> Result<W, EncodeError> {
        let report = self.report;
        self.csv.into_inner().map_err(|e| EncodeError {
            report,
            source: csv::Error::from(e.into_error()),
        })
    }
}

/// Writes a report whose rows are arrays (or any iterables) of cells.
pub fn write_csv<W, I, R, C>(report: &'static str, header: &[&str], rows: I, out: W) -> Result<W, EncodeError>
where
    W: Write,
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut writer = ReportWriter::new(report, header, out)?;
    for row in rows {
        writer.row(row)?;
    }
    writer.finish()
}

/// `idc_instances`: the blog's two columns first, then the rest.
pub fn write_instances<'a, W: Write>(
    rows: impl IntoIterator<Item = impl Borrow<InstanceRow<'a>>>,
    out: W,
) -> Result<W, EncodeError> {
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
    let mut writer = ReportWriter::new(INSTANCES, &header, out)?;
    for row in rows {
        let r = row.borrow();
        let i = r.instance;
        writer.row([
            r.account_id,
            i.map_or("", |i| i.identity_store_id.as_str()),
            i.map_or("", |i| i.arn.as_str()),
            i.map_or("", |i| i.instance_type.as_str()),
            i.map_or("", |i| i.owner_account_id.as_str()),
            i.map_or("", |i| i.region.as_str()),
            i.map_or("", |i| i.name.as_str()),
            i.map_or("", |i| i.status.as_str()),
            r.account_name,
        ])?;
    }
    writer.finish()
}

/// `duplicated_users`: the blog's `User_email,IdentityStoreId` first.
pub fn write_duplicated_users<W: Write>(
    rows: impl IntoIterator<Item = impl Borrow<DuplicateRow>>,
    out: W,
) -> Result<W, EncodeError> {
    let header = [
        "User_email",
        "IdentityStoreId",
        "StoreCount",
        "UserNames",
        "OwnerAccountIds",
    ];
    let mut writer = ReportWriter::new(DUPLICATED_USERS, &header, out)?;
    for row in rows {
        let r = row.borrow();
        writer.row([
            Cow::Borrowed(r.email.as_str()),
            Cow::Owned(join(r.store_ids.iter().map(|s| s.as_str()))),
            Cow::Owned(r.store_ids.len().to_string()),
            Cow::Owned(join(r.user_names.iter().map(String::as_str))),
            Cow::Owned(join(r.owner_account_ids.iter().map(|a| a.as_str()))),
        ])?;
    }
    writer.finish()
}

/// `application_assignments`: a row per user assignment or group member. Give it
/// [`crate::analysis::assignment_rows`] directly: rows are expanded as they are written.
pub fn write_assignments<'a, W: Write>(
    rows: impl IntoIterator<Item = impl Borrow<AssignmentRow<'a>>>,
    out: W,
) -> Result<W, EncodeError> {
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
        "UserStatus",
    ];
    let mut writer = ReportWriter::new(APPLICATION_ASSIGNMENTS, &header, out)?;
    for row in rows {
        let r = row.borrow();
        let i = r.instance;
        let p = r.principal.as_ref();
        let u = r.user.as_ref();
        let user = u.and_then(|u| u.user);
        writer.row([
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
            Cow::Borrowed(if r.members_not_read {
                account_assignments::MEMBERS_NOT_READ
            } else {
                user.and_then(|u| u.status.as_ref()).map_or("", |s| s.as_str())
            }),
        ])?;
    }
    writer.finish()
}

/// `account_errors`: every account or store that could not be audited, and why.
pub fn write_account_errors<W: Write>(
    errors: impl IntoIterator<Item = impl Borrow<AccountError>>,
    out: W,
) -> Result<W, EncodeError> {
    let header = ["AccountId", "Region", "Stage", "ErrorCode", "Message"];
    let mut writer = ReportWriter::new(ACCOUNT_ERRORS, &header, out)?;
    for error in errors {
        let e = error.borrow();
        writer.row([
            e.account_id.as_str(),
            e.region.as_str(),
            e.stage.as_str(),
            e.code.as_str(),
            e.message.as_str(),
        ])?;
    }
    writer.finish()
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

    fn parse(body: &[u8]) -> Vec<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(body);
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
            replicas: Vec::new(),
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
        let body = write_instances(&rows, Vec::new()).unwrap();
        // Exactly the bytes the in-memory encoder wrote before reports streamed.
        assert_eq!(
            String::from_utf8(body.clone()).unwrap(),
            "AccountId,IdentityCenterInstance,InstanceArn,InstanceType,OwnerAccountId,Region,InstanceName,InstanceStatus,AccountName\r\n\
             111122221111,d-111111111111,arn:aws:sso:::instance/ssoins-1,ACCOUNT,111122221111,eu-west-1,\"sandbox, \"\"dev\"\"\",ACTIVE,\"'=HYPERLINK(\"\"x\"\")\"\r\n\
             111122224444,,,,,,,,\"Ωmega\nline\"\r\n"
        );
        let parsed = parse(&body);
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
        let parsed = parse(&write_duplicated_users(&rows, Vec::new()).unwrap());
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
            status: Some(crate::model::UserStatus::Disabled),
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
                members_not_read: false,
            },
            AssignmentRow {
                instance: None,
                instance_arn: &inst.arn,
                application: &app,
                principal: None,
                user: None,
                members_not_read: false,
            },
            AssignmentRow {
                instance: Some(&inst),
                instance_arn: &inst.arn,
                application: &app,
                principal: Some(Principal {
                    principal_type: PrincipalType::Group,
                    principal_id: "g-2",
                    name: "unread",
                }),
                user: None,
                members_not_read: true,
            },
        ];
        let parsed = parse(&write_assignments(&rows, Vec::new()).unwrap());
        assert_eq!(parsed[0].len(), 14);
        assert_eq!(parsed[0][13], "UserStatus");
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
                "li@x.cn, -li@y.cn",
                "DISABLED"
            ]
        );
        assert_eq!(parsed[2][5], "'@SUM(A1)");
        assert_eq!(parsed[2][7], "");
        assert_eq!(parsed[2][13], "");
        // A group whose members could not be read is marked, not empty.
        assert_eq!(&parsed[3][10..], ["", "", "", "MEMBERS_NOT_READ"]);
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
        let parsed = parse(&write_account_errors(&errors, Vec::new()).unwrap());
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

    /// A destination that counts what reached it, readable while the writer holds it.
    struct Counting(std::rc::Rc<std::cell::Cell<usize>>);

    impl Write for Counting {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.set(self.0.get() + buf.len());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn many_rows(n: usize) -> impl Iterator<Item = [String; 3]> {
        (0..n).map(|i| [format!("{i:08}"), format!("=x{i}"), format!("name, {i}")])
    }

    #[test]
    fn rows_reach_the_destination_as_they_are_written() {
        let n = 50_000;
        let whole = write_csv("t", &["A", "B", "C"], many_rows(n), Vec::new()).unwrap();
        // Where each line ends in the whole output (no cell holds a newline here).
        let ends: Vec<usize> = whole
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w == b"\r\n")
            .map(|(i, _)| i + 2)
            .collect();
        assert_eq!(ends.len(), n + 1);
        let received = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut writer = ReportWriter::new("t", &["A", "B", "C"], Counting(received.clone())).unwrap();
        for (k, row) in many_rows(n).enumerate() {
            writer.row(row).unwrap();
            // All but at most one buffer's worth has gone out.
            let written = ends[k + 1];
            assert!(
                received.get() + BUFFER_BYTES >= written,
                "row {k}: {written} bytes written, {} out",
                received.get()
            );
        }
        writer.finish().unwrap();
        assert_eq!(received.get(), whole.len());
        assert!(whole.len() > 10 * BUFFER_BYTES);
    }

    #[test]
    fn a_file_gets_the_same_bytes_as_memory_and_cells_are_neutralised() {
        let in_memory = write_csv("t", &["A", "B", "C"], many_rows(5_000), Vec::new()).unwrap();
        let file = write_csv("t", &["A", "B", "C"], many_rows(5_000), tempfile::tempfile().unwrap()).unwrap();
        let mut on_disk = Vec::new();
        let mut file = file;
        std::io::Seek::rewind(&mut file).unwrap();
        std::io::Read::read_to_end(&mut file, &mut on_disk).unwrap();
        assert_eq!(on_disk, in_memory);
        let parsed = parse(&on_disk);
        assert_eq!(parsed[1], vec!["00000000", "'=x0", "name, 0"]);
    }

    #[test]
    fn a_destination_that_fails_is_an_error_naming_the_report() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("No space left on device"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let err = write_account_errors(Vec::<AccountError>::new(), Full).err().unwrap();
        assert_eq!(err.report, ACCOUNT_ERRORS);
        assert!(err.to_string().contains("No space left on device"), "{err}");
    }
}
