//! Changes since the previous run (issue 13): two runs of the binary against the `blog`
//! organization with changes made between them through the emulator's API (an account
//! instance created, another deleted, an application assignment added, a user disabled,
//! and an account whose role is refused in the second run) give exactly the expected
//! `changes` rows; the failing account's rows are not reported as removed.

use aws_credential_types::Credentials;
use aws_sdk_ssoadmin::types::PrincipalType;
use idc_report::collect::{AccountSession, Clients};
use serde_json::{Value, json};

use crate::emulator::{BUCKET, Csv, Emulator, REGION, run};

const MANAGEMENT: &str = "111122223333";
const WORKLOADS: &str = "111122224444";
const SANDBOX_1: &str = "111122221111";
const SANDBOX_2: &str = "111122225555";
const SANDBOX_2_INSTANCE: &str = "arn:aws:sso:::instance/ssoins-7223222222222222";

/// The emulator's clients with an account's own credentials (`AKIAACCOUNT` + id).
async fn sso_admin_as(emu: &Emulator, account: &str) -> aws_sdk_ssoadmin::Client {
    let key = if account == MANAGEMENT {
        "testing".to_owned()
    } else {
        format!("AKIAACCOUNT{account}")
    };
    let credentials = Credentials::new(key, "testing", None, None, "tests");
    let clients = Clients::for_endpoint(&emu.endpoint, REGION, credentials).await.unwrap();
    clients.sso_admin(&AccountSession::own(account.into()), REGION)
}

async fn latest(emu: &Emulator, report: &str) -> Csv {
    let key = format!("idc-reports/latest/{report}.csv");
    Csv::parse(&emu.get_object(BUCKET, &key).await.unwrap_or_else(|| panic!("no {key}")))
}

/// A report's rows as maps of column to value.
fn rows(csv: &Csv) -> Vec<std::collections::BTreeMap<&str, &str>> {
    csv.rows
        .iter()
        .map(|r| {
            csv.header
                .iter()
                .map(String::as_str)
                .zip(r.iter().map(String::as_str))
                .collect()
        })
        .collect()
}

fn key(row: &std::collections::BTreeMap<&str, &str>, columns: &[&str]) -> String {
    columns.iter().map(|c| row[c]).collect::<Vec<_>>().join(" | ")
}

const APP_KEY: [&str; 4] = ["ApplicationArn", "PrincipalType", "PrincipalId", "UserId"];
const ACCESS_KEY: [&str; 5] = [
    "AccountId",
    "PermissionSetArn",
    "PrincipalType",
    "PrincipalId",
    "UserId",
];

fn change(report: &str, change: &str, key: &str, field: &str, before: &str, after: &str) -> Vec<String> {
    [report, change, key, field, before, after].map(str::to_owned).to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runs_report_exactly_what_changed_and_leave_out_the_failed_account() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let env = [("reports_bucket", BUCKET), ("CurrentAccountId", MANAGEMENT)];

    let first = run(&emu, &[], &env);
    assert!(first.status.success(), "{}", first.stderr);
    assert_eq!(first.summary["baseline"], true, "{}", first.summary);
    assert_eq!(first.summary["changes"], json!({}));
    assert!(
        first.summary["reports"]["changes"]
            .as_str()
            .unwrap()
            .contains("/changes/date=")
    );
    let empty = latest(&emu, "changes").await;
    assert_eq!(empty.header, ["Report", "Change", "Key", "Field", "Before", "After"]);
    assert!(empty.rows.is_empty());

    // What the first run saw, to name the rows the changes touch.
    let apps = latest(&emu, "application_assignments").await;
    let app_rows = rows(&apps);
    let access = latest(&emu, "account_assignments").await;
    let access_rows = rows(&access);
    let slack = app_rows.iter().find(|r| r["ApplicationName"] == "Slack").unwrap()["ApplicationArn"];
    let maria = access_rows.iter().find(|r| r["UserName"] == "maria.garcia").unwrap()["UserId"];
    let username2 = app_rows
        .iter()
        .find(|r| r["UserName"] == "username2" && r["IdentityStoreId"] == "d-111122223333")
        .unwrap()["UserId"];

    // 1. An account instance created in Workloads.
    let created = sso_admin_as(&emu, WORKLOADS)
        .await
        .create_instance()
        .name("workloads")
        .send()
        .await
        .expect("CreateInstance");
    let new_instance = created.instance_arn().unwrap().to_owned();
    // 2. Sandbox-2's account instance deleted (its application goes with it).
    sso_admin_as(&emu, SANDBOX_2)
        .await
        .delete_instance()
        .instance_arn(SANDBOX_2_INSTANCE)
        .send()
        .await
        .expect("DeleteInstance");
    // 3. Maria assigned to Slack directly.
    sso_admin_as(&emu, MANAGEMENT)
        .await
        .create_application_assignment()
        .application_arn(slack)
        .principal_type(PrincipalType::User)
        .principal_id(maria)
        .send()
        .await
        .expect("CreateApplicationAssignment");
    // 4. username2 disabled in the organization's store (no AWS API: the emulator's
    //    test-only admin route).
    ureq::post(&format!("{}/_emulator/users/status", emu.endpoint))
        .send_json(json!({"identity_store_id": "d-111122223333", "user_id": username2, "status": "DISABLED"}))
        .expect("disable username2");
    // 5. Sandbox-1's member role refused in the second run.
    emu.set_faults(json!({"faults": [{
        "service": "sts", "operation": "AssumeRole", "account": "*", "kind": "access_denied",
        "when": {"RoleArn": format!("arn:aws:iam::{SANDBOX_1}:role/idc-lambda-service-role")}
    }]}));

    let second = run(&emu, &[], &env);
    assert!(second.status.success(), "{}", second.stderr);
    let summary = &second.summary;
    assert_eq!(summary["complete"], false);
    assert_eq!(summary["baseline"], false);

    let mut expected = vec![
        change(
            "idc_instances",
            "ADDED",
            &format!("{WORKLOADS} | {new_instance}"),
            "",
            "",
            "",
        ),
        change(
            "idc_instances",
            "REMOVED",
            &format!("{SANDBOX_2} | {SANDBOX_2_INSTANCE}"),
            "",
            "",
            "",
        ),
        change(
            "application_assignments",
            "ADDED",
            &format!("{slack} | USER | {maria} | {maria}"),
            "",
            "",
            "",
        ),
    ];
    // username2 through `admins`: Salesforce, and AdministratorAccess on every account
    // (Sandbox-1's included: account access is read with the function's own credentials).
    for row in app_rows.iter().filter(|r| r["UserId"] == username2) {
        expected.push(change(
            "application_assignments",
            "CHANGED",
            &key(row, &APP_KEY),
            "UserStatus",
            "ENABLED",
            "DISABLED",
        ));
    }
    for row in app_rows.iter().filter(|r| r["InstanceArn"] == SANDBOX_2_INSTANCE) {
        expected.push(change(
            "application_assignments",
            "REMOVED",
            &key(row, &APP_KEY),
            "",
            "",
            "",
        ));
    }
    let admin_rows: Vec<_> = access_rows.iter().filter(|r| r["UserId"] == username2).collect();
    assert_eq!(admin_rows.len(), 4);
    for row in admin_rows {
        expected.push(change(
            "account_assignments",
            "CHANGED",
            &key(row, &ACCESS_KEY),
            "UserStatus",
            "ENABLED",
            "DISABLED",
        ));
    }
    let changes = latest(&emu, "changes").await;
    let mut got = changes.rows.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    // Rows come report by report, in the order the reports are written.
    let order: Vec<&str> = changes.column("Report");
    let mut sorted_by_report = order.clone();
    let rank = |r: &str| {
        [
            "idc_instances",
            "duplicated_users",
            "application_assignments",
            "account_assignments",
        ]
        .iter()
        .position(|x| *x == r)
    };
    sorted_by_report.sort_by_key(|r| rank(r));
    assert_eq!(order, sorted_by_report);

    // Nothing of Sandbox-1 is reported removed, though its rows are gone.
    assert!(
        !changes
            .rows
            .iter()
            .any(|r| r[1] == "REMOVED" && r[2].starts_with(SANDBOX_1))
    );
    assert!(!changes.rows.iter().any(|r| r[2].contains("ssoins-7223111111111111")));
    assert!(
        !latest(&emu, "idc_instances")
            .await
            .column("AccountId")
            .contains(&SANDBOX_1)
    );

    assert_eq!(
        summary["changes"],
        json!({
            "idc_instances": {"ADDED": 1, "REMOVED": 1, "CHANGED": 0},
            "duplicated_users": {"ADDED": 0, "REMOVED": 0, "CHANGED": 0},
            "application_assignments": {"ADDED": 1, "REMOVED": 3, "CHANGED": 1},
            "account_assignments": {"ADDED": 0, "REMOVED": 0, "CHANGED": 4},
        })
    );
    assert_eq!(
        summary["changes_headline"],
        json!({"new_account_instances": 1, "removed_instances": 1, "access_added": 1, "access_removed": 3})
    );
    let scope = &summary["changes_scope"];
    assert_eq!(scope["previous_run_id"], first.summary["run_id"]);
    assert_eq!(scope["excluded_accounts"], json!([SANDBOX_1]));
    assert_eq!(scope["excluded_stores"], json!([]));
    assert_eq!(scope["reports_not_compared"], json!({}));
    // The dated changes object is the one the summary names, and the page shows the rows.
    let dated = summary["reports"]["changes"].as_str().unwrap();
    let dated_key = dated.strip_prefix(&format!("s3://{BUCKET}/")).unwrap();
    assert_eq!(
        Csv::parse(&emu.get_object(BUCKET, dated_key).await.unwrap()).rows,
        changes.rows
    );
    let page = String::from_utf8(emu.get_object(BUCKET, "idc-reports/latest/summary.html").await.unwrap()).unwrap();
    assert!(page.contains(&new_instance), "the page lists the changes");
    // The run read the previous run's dated objects, with the bucket owner checked.
    let stats: Value = emu.stats();
    assert!(stats["by_operation"]["s3:GetObject"].as_u64().unwrap() >= 5, "{stats}");
}

#[test]
fn a_folder_run_compares_with_the_previous_run_in_the_folder() {
    let emu = Emulator::start("blog");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let first = run(&emu, &["--no-upload", "--out-dir", out], &[]);
    assert!(first.status.success(), "{}", first.stderr);
    assert_eq!(first.summary["baseline"], true);
    let second = run(&emu, &["--no-upload", "--out-dir", out], &[]);
    assert!(second.status.success(), "{}", second.stderr);
    assert_eq!(second.summary["baseline"], false);
    assert_eq!(
        second.summary["changes_scope"]["previous_run_id"],
        first.summary["run_id"]
    );
    assert_eq!(
        second.summary["changes"]["account_assignments"],
        json!({"ADDED": 0, "REMOVED": 0, "CHANGED": 0})
    );
    let changes = Csv::read(&dir.path().join("changes.csv"));
    assert!(changes.rows.is_empty(), "{:?}", changes.rows);
    // An unreadable previous summary is a baseline, not a failed run.
    std::fs::write(dir.path().join("summary.json"), b"{").unwrap();
    let third = run(&emu, &["--no-upload", "--out-dir", out], &[]);
    assert!(third.status.success(), "{}", third.stderr);
    assert_eq!(third.summary["baseline"], true);
    assert!(third.stderr.contains("this run is a baseline"), "{}", third.stderr);
}
