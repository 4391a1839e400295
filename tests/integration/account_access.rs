//! Who can reach which account (`account_assignments`): the exact rows the emulator's
//! scenarios expect, groups expanded, disabled users, an unreadable group, and a run
//! from the delegated administrator.

use serde_json::{Value, json};

use crate::emulator::{Csv, Emulator, expected, run, start_edited};

const HEADER: [&str; 13] = [
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

fn rows_of(value: &Value) -> Vec<Vec<String>> {
    value
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|c| c.as_str().expect("cell").to_owned())
                .collect()
        })
        .collect()
}

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

/// Runs the audit of `scenario` into a folder and returns the summary and the report.
fn audit(emu: &Emulator, env: &[(&str, &str)]) -> (Value, Csv, Csv, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let out = run(emu, &["--no-upload", "--out-dir", dir.path().to_str().unwrap()], env);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let report = Csv::read(&dir.path().join("account_assignments.csv"));
    let errors = Csv::read(&dir.path().join("account_errors.csv"));
    (out.summary, report, errors, dir)
}

#[tokio::test(flavor = "multi_thread")]
async fn blog_account_assignments_are_exactly_the_expected_rows() {
    let emu = Emulator::start("blog");
    let want = expected("blog");
    let (summary, report, errors, _dir) = audit(&emu, &[]);
    assert_eq!(report.header, HEADER);
    assert_eq!(
        sorted(report.rows.clone()),
        sorted(rows_of(&want["account_assignment_rows"]))
    );
    // The report's own order: account, then permission set name.
    let keys: Vec<(String, String)> = report.rows.iter().map(|r| (r[2].clone(), r[5].clone())).collect();
    let mut in_order = keys.clone();
    in_order.sort();
    assert_eq!(keys, in_order);
    assert!(errors.rows.is_empty(), "{:?}", errors.rows);

    let counts = &summary["counts"];
    assert_eq!(counts["permission_sets"], want["permission_sets"]);
    assert_eq!(counts["account_assignments"], want["account_assignments"]);
    assert_eq!(counts["account_assignment_rows"], 15);
    // li.wei is DISABLED and still holds access (directly and through `developers`).
    let disabled: Vec<&str> = report
        .rows
        .iter()
        .filter(|r| r[12] == "DISABLED")
        .map(|r| r[10].as_str())
        .collect();
    assert!(
        !disabled.is_empty() && disabled.iter().all(|u| *u == "li.wei"),
        "{disabled:?}"
    );
    assert_eq!(counts["disabled_users_with_access"], 1);
    // A provisioned pair without assignments writes no row (Workloads / Billing).
    assert!(!report.rows.iter().any(|r| r[2] == "111122224444" && r[5] == "Billing"));
}

#[tokio::test(flavor = "multi_thread")]
async fn messy_account_assignments_cover_pages_states_and_groups() {
    let emu = Emulator::start("messy");
    let want = expected("messy");
    let (summary, report, errors, _dir) = audit(&emu, &[]);
    assert_eq!(report.header, HEADER);
    let want_rows = rows_of(&want["account_assignment_rows"]);
    assert_eq!(report.rows.len(), 606);
    assert_eq!(sorted(report.rows.clone()), sorted(want_rows));
    let counts = &summary["counts"];
    assert_eq!(counts["permission_sets"], 105);
    assert_eq!(counts["account_assignments"], want["account_assignments"]);
    assert_eq!(counts["account_assignment_rows"], 606);
    // Accounts that are not ACTIVE, or whose member role fails, keep their rows:
    // account assignments are read from the organization instance's administrator.
    for account in ["111100000007", "111100000013", "111100000021"] {
        assert!(report.rows.iter().any(|r| r[2] == account), "no rows for {account}");
    }
    // The empty group is one row with the user columns empty.
    let empty: Vec<&Vec<String>> = report.rows.iter().filter(|r| r[8] == "team-010").collect();
    assert_eq!(
        empty.len(),
        3,
        "ViewOnlyAccess on two accounts, and one of the 150 of 111100000011"
    );
    assert!(empty.iter().all(|r| r[9..].iter().all(String::is_empty)));
    // Only the expected failures (assume-role and skips): nothing of access failed.
    assert!(
        errors
            .rows
            .iter()
            .all(|r| r[2] != "account_assignments" && r[2] != "permission_sets"),
        "{:?}",
        errors.rows
    );
    let disabled: std::collections::BTreeSet<&str> = report
        .rows
        .iter()
        .filter(|r| r[12] == "DISABLED")
        .map(|r| r[10].as_str())
        .collect();
    assert_eq!(disabled, ["two.emails", "user0042"].into_iter().collect());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_whose_members_cannot_be_read_is_not_an_empty_group() {
    let emu = Emulator::start("blog");
    let developers = "3d160dde7f-c2ea3df9-ec42-9a77-5c1d-a3ecb20c35d2";
    emu.set_faults(json!({"faults": [{
        "service": "identitystore", "operation": "ListGroupMemberships", "account": "*",
        "kind": "access_denied", "probability": 1.0, "when": {"GroupId": developers}
    }]}));
    let (summary, report, errors, dir) = audit(&emu, &[]);
    // One failed read: the run is not complete, and the count says where.
    assert_eq!(summary["complete"], false);
    assert_eq!(
        summary["counts"]["read_failures_by_stage"],
        json!({"identity_store": 1})
    );
    let rows: Vec<&Vec<String>> = report.rows.iter().filter(|r| r[7] == developers).collect();
    // developers holds ReadOnlyAccess on two accounts: one row each, marked.
    assert_eq!(rows.len(), 2, "{rows:?}");
    for row in rows {
        assert_eq!(&row[9..], ["", "", "", "MEMBERS_NOT_READ"]);
    }
    let row = errors
        .rows
        .iter()
        .find(|r| r[4].contains(developers))
        .expect("an account_errors row names the group");
    assert_eq!((row[2].as_str(), row[3].as_str()), ("identity_store", "ACCESS_DENIED"));
    // Everyone else is still expanded.
    assert!(report.rows.iter().any(|r| r[8] == "admins" && !r[9].is_empty()));
    // The same group assigned to Slack: one marked row in application_assignments too.
    let applications = Csv::read(&dir.path().join("application_assignments.csv"));
    let rows: Vec<&Vec<String>> = applications.rows.iter().filter(|r| r[8] == developers).collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(&rows[0][10..], ["", "", "", "MEMBERS_NOT_READ"]);
}

/// The blog organization with 111122224444 as Identity Center's delegated
/// administrator; the management account's member role deployed by hand or not.
fn delegated_blog(dir: &std::path::Path, management_role: bool) -> Emulator {
    start_edited("blog", dir, |scenario| {
        scenario["delegated_admin"] = json!("111122224444");
        for account in scenario["accounts"].as_array_mut().unwrap() {
            if account["id"] == "111122223333" {
                account["has_role"] = json!(management_role);
            }
        }
    })
}

const AS_DELEGATED_ADMIN: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIAACCOUNT111122224444"),
    ("CurrentAccountId", "111122224444"),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_delegated_administrator_reports_the_management_account_as_refused() {
    let dir = tempfile::tempdir().unwrap();
    let emu = delegated_blog(dir.path(), true);
    let (summary, report, errors, out) = audit(&emu, &AS_DELEGATED_ADMIN);
    assert_eq!(summary["management_account_id"], "111122223333");
    let want: Vec<Vec<String>> = rows_of(&expected("blog")["account_assignment_rows"])
        .into_iter()
        .filter(|r| r[2] != "111122223333")
        .collect();
    assert_eq!(sorted(report.rows.clone()), sorted(want));
    // One row for the refusal, and nothing else failed.
    assert_eq!(errors.rows.len(), 1, "{:?}", errors.rows);
    let refused = &errors.rows[0];
    assert_eq!(
        (refused[0].as_str(), refused[2].as_str(), refused[3].as_str()),
        ("111122223333", "account_assignments", "ACCESS_DENIED")
    );
    assert!(refused[4].contains("delegated administrator"), "{}", refused[4]);
    // The organization instance's applications, created from the management account,
    // are read through its member role: all of them, as from the management account.
    let applications = Csv::read(&out.path().join("application_assignments.csv"));
    let names: std::collections::BTreeSet<&str> = applications.column("ApplicationName").into_iter().collect();
    for name in ["Salesforce", "Slack"] {
        assert!(names.contains(name), "{name} missing: {names:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delegated_administrator_without_the_management_role_says_which_applications_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let emu = delegated_blog(dir.path(), false);
    let (summary, _report, errors, out) = audit(&emu, &AS_DELEGATED_ADMIN);
    assert_eq!(summary["complete"], false);
    let applications = Csv::read(&out.path().join("application_assignments.csv"));
    let names: std::collections::BTreeSet<&str> = applications.column("ApplicationName").into_iter().collect();
    assert!(!names.contains("Salesforce") && !names.contains("Slack"), "{names:?}");
    let row = errors
        .rows
        .iter()
        .find(|r| r[2] == "applications")
        .unwrap_or_else(|| panic!("no applications row: {:?}", errors.rows));
    assert_eq!((row[0].as_str(), row[3].as_str()), ("111122224444", "ACCESS_DENIED"));
    assert!(
        row[4].contains("only the applications created from this account"),
        "{}",
        row[4]
    );
}
