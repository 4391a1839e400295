//! The leaver check (`find-person`, `{"find_people": [...]}`): the real binary and the
//! handler against the emulator, checking the person_access CSV, the JSON and the text.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use idc_report::config::{Config, RunMode};
use idc_report::handler::{Answer, App, invoke};
use serde_json::{Value, json};

use crate::emulator::{BUCKET, Csv, Emulator, root, start_edited};

const HEADER: [&str; 17] = [
    "Email",
    "IdentityStoreId",
    "InstanceArn",
    "InstanceType",
    "OwnerAccountId",
    "UserId",
    "UserName",
    "UserStatus",
    "AccessType",
    "Via",
    "GroupName",
    "TargetArn",
    "TargetName",
    "AccountId",
    "AccountName",
    "PermissionSetArn",
    "PermissionSetName",
];

struct Found {
    json: Value,
    text: String,
    csv: Csv,
    errors: Csv,
    _dir: tempfile::TempDir,
}

/// Runs `find-person ARGS --json --out-dir DIR` and reads everything it wrote.
fn find(emu: &Emulator, args: &[&str]) -> Found {
    let dir = tempfile::tempdir().unwrap();
    let out = emu
        .command()
        .arg("find-person")
        .args(args)
        .args(["--json", "--out-dir", dir.path().to_str().unwrap()])
        .output()
        .expect("run find-person");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "find-person failed: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    Found {
        json,
        text: stderr,
        csv: Csv::read(&dir.path().join("person_access.csv")),
        errors: Csv::read(&dir.path().join("account_errors.csv")),
        _dir: dir,
    }
}

/// (IdentityStoreId, AccessType, Via, GroupName, TargetName, AccountId, PermissionSetName) per row.
fn paths(csv: &Csv) -> Vec<[String; 7]> {
    let cols = [
        "IdentityStoreId",
        "AccessType",
        "Via",
        "GroupName",
        "TargetName",
        "AccountId",
        "PermissionSetName",
    ]
    .map(|c| csv.col(c));
    let mut rows: Vec<[String; 7]> = csv.rows.iter().map(|r| cols.map(|i| r[i].clone())).collect();
    rows.sort();
    rows
}

fn row(cells: [&str; 7]) -> [String; 7] {
    cells.map(str::to_owned)
}

fn username2_paths() -> Vec<[String; 7]> {
    let org = "d-111122223333";
    let admin = |account: &str| {
        row([
            org,
            "AWS_ACCOUNT",
            "GROUP",
            "admins",
            "",
            account,
            "AdministratorAccess",
        ])
    };
    let mut want = vec![
        row(["d-111111111111", "STORE_MEMBERSHIP", "", "", "", "", ""]),
        row([org, "STORE_MEMBERSHIP", "", "", "", "", ""]),
        row([org, "GROUP", "DIRECT", "admins", "admins", "", ""]),
        row([org, "APPLICATION", "GROUP", "admins", "Salesforce", "", ""]),
        row(["d-222222222222", "STORE_MEMBERSHIP", "", "", "", "", ""]),
        row(["d-222222222222", "GROUP", "DIRECT", "sandbox", "sandbox", "", ""]),
        row([
            "d-222222222222",
            "APPLICATION",
            "GROUP",
            "sandbox",
            "CodeCatalyst sandbox",
            "",
            "",
        ]),
    ];
    for (account, name) in [
        ("111122223333", "Management"),
        ("111122224444", "Workloads"),
        ("111122221111", "Sandbox-1"),
        ("111122225555", "Sandbox-2"),
    ] {
        let mut r = admin(account);
        r[4] = name.to_owned();
        want.push(r);
    }
    want.sort();
    want
}

#[tokio::test(flavor = "multi_thread")]
async fn blog_people_across_every_store() {
    let emu = Emulator::start("blog");

    // The blog's person in all three stores, with their assignments.
    let f = find(&emu, &["username2+adminuser@domain.com"]);
    assert_eq!(f.csv.header, HEADER);
    assert_eq!(paths(&f.csv), username2_paths());
    assert!(
        f.csv
            .column("Email")
            .iter()
            .all(|e| *e == "username2+adminuser@domain.com")
    );
    assert!(f.csv.column("UserName").iter().all(|e| *e == "username2"));
    assert!(f.csv.column("UserStatus").iter().all(|e| *e == "ENABLED"));
    let app_arns: Vec<&str> = f
        .csv
        .rows
        .iter()
        .filter(|r| r[8] == "APPLICATION")
        .map(|r| r[11].as_str())
        .collect();
    assert!(app_arns.iter().all(|a| a.starts_with("arn:aws:sso::")), "{app_arns:?}");
    assert!(f.errors.rows.is_empty(), "{:?}", f.errors.rows);
    assert_eq!(f.json["complete"], true);
    assert_eq!(f.json["matching"], "exact_or_lower_case");
    assert_eq!(f.json["counts"]["stores_searched"], 3);
    let person = &f.json["people"][0];
    assert_eq!(person["found"], true);
    assert_eq!(person["stores"].as_array().unwrap().len(), 3);
    let summary = "username2+adminuser@domain.com: 3 stores, 2 applications, 4 AWS accounts (4 through groups)";
    assert_eq!(person["summary"], summary);
    assert!(f.text.contains(summary), "{}", f.text);
    assert!(
        f.text
            .contains("Workloads (111122224444) as AdministratorAccess (through admins)"),
        "{}",
        f.text
    );

    // In upper case with spaces: the same person, the same rows.
    let upper = find(&emu, &["  USERNAME2+ADMINUSER@DOMAIN.COM  "]);
    assert_eq!(paths(&upper.csv), username2_paths());
    assert!(
        upper
            .csv
            .column("Email")
            .iter()
            .all(|e| *e == "username2+adminuser@domain.com")
    );
    assert_eq!(upper.json["people"][0]["query"], "  USERNAME2+ADMINUSER@DOMAIN.COM  ");

    // One store only; nowhere; a disabled user; by user name.
    let f = find(
        &emu,
        &[
            "sam.okafor@domain.com",
            "nobody@domain.com",
            "li.wei@domain.com",
            "--user-name",
            "jo.novak",
        ],
    );
    let by_email = |email: &str| -> Vec<Vec<String>> { f.csv.rows.iter().filter(|r| r[0] == email).cloned().collect() };
    let sam = by_email("sam.okafor@domain.com");
    assert_eq!(
        sam.iter()
            .map(|r| (r[1].as_str(), r[8].as_str(), r[12].as_str()))
            .collect::<Vec<_>>(),
        [
            ("d-111111111111", "STORE_MEMBERSHIP", ""),
            ("d-111111111111", "GROUP", "codecatalyst-users"),
            ("d-111111111111", "APPLICATION", "CodeCatalyst"),
        ]
    );
    assert_eq!(sam[0][3], "ACCOUNT");
    assert_eq!(sam[0][4], "111122221111");
    let nobody = by_email("nobody@domain.com");
    assert_eq!(nobody.len(), 1);
    assert!(nobody[0][1..].iter().all(|c| c.is_empty()), "{:?}", nobody[0]);
    let li = by_email("li.wei@domain.com");
    assert!(li.iter().all(|r| r[7] == "DISABLED"));
    let mut li_accounts: Vec<(&str, &str, &str)> = li
        .iter()
        .filter(|r| r[8] == "AWS_ACCOUNT")
        .map(|r| (r[13].as_str(), r[16].as_str(), r[9].as_str()))
        .collect();
    li_accounts.sort();
    assert_eq!(
        li_accounts,
        [
            ("111122221111", "ReadOnlyAccess", "GROUP"),
            ("111122224444", "AdministratorAccess", "DIRECT"),
            ("111122224444", "ReadOnlyAccess", "GROUP"),
        ]
    );
    let jo = by_email("jo.novak@domain.com");
    assert_eq!(jo[0][6], "jo.novak");
    let people = f.json["people"].as_array().unwrap();
    let summaries: Vec<&str> = people.iter().map(|p| p["summary"].as_str().unwrap()).collect();
    assert_eq!(
        summaries,
        [
            "sam.okafor@domain.com: 1 store, 1 application, 0 AWS accounts",
            "nobody@domain.com: not found in any store searched",
            "li.wei@domain.com: 1 store, 1 application, 2 AWS accounts (2 through groups); disabled in 1 store",
            "jo.novak: 1 store, 1 application, 0 AWS accounts",
        ]
    );
    assert_eq!(people[1]["found"], false);
    assert_eq!(f.json["complete"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_refuses_the_lookup_makes_the_answer_incomplete() {
    let emu = Emulator::start("blog");
    emu.set_faults(json!({"faults": [{"service": "identitystore", "operation": "GetUserId",
        "account": "111122225555", "kind": "access_denied", "probability": 1.0}]}));
    let f = find(&emu, &["username2+adminuser@domain.com"]);
    assert_eq!(f.json["complete"], false);
    assert_eq!(f.json["counts"]["stores_failed"], 1);
    let stores: Vec<&str> = f
        .csv
        .rows
        .iter()
        .filter(|r| r[8] == "STORE_MEMBERSHIP")
        .map(|r| r[1].as_str())
        .collect();
    assert_eq!(stores, ["d-111111111111", "d-111122223333"]);
    assert_eq!(f.errors.rows.len(), 1, "{:?}", f.errors.rows);
    let e = &f.errors.rows[0];
    assert_eq!(
        (e[0].as_str(), e[2].as_str(), e[3].as_str()),
        ("111122225555", "identity_store", "ACCESS_DENIED")
    );
    assert!(e[4].contains("d-222222222222") && e[4].contains("GetUserId"), "{e:?}");
    assert!(f.text.contains("INCOMPLETE"), "{}", f.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn emails_stored_in_another_case_need_the_scan() {
    let emu = Emulator::start("messy");
    // Stored `Dup.Case@Example.com` in d-9067000001 and `dup.case@example.com` in d-9067000002;
    // `user0005@corp.example.com` stored upper-case in the eu-west-1 store d-9067000003.
    let stores = |f: &Found| -> Vec<String> {
        let mut s: Vec<String> = f
            .csv
            .rows
            .iter()
            .filter(|r| r[8] == "STORE_MEMBERSHIP")
            .map(|r| format!("{} {}", r[0], r[1]))
            .collect();
        s.sort();
        s
    };
    let exact = find(&emu, &["dup.case@example.com", "user0005@corp.example.com"]);
    assert_eq!(
        stores(&exact),
        [
            "dup.case@example.com d-9067000002",
            "user0005@corp.example.com d-9067000001"
        ]
    );
    let scanned = find(&emu, &["--scan", "dup.case@example.com", "user0005@corp.example.com"]);
    assert_eq!(scanned.json["matching"], "scan");
    assert_eq!(
        stores(&scanned),
        [
            "dup.case@example.com d-9067000001",
            "dup.case@example.com d-9067000002",
            "user0005@corp.example.com d-9067000001",
            "user0005@corp.example.com d-9067000003",
        ]
    );
    // The email as stored, typed exactly, is found without a scan.
    let typed = find(&emu, &["Dup.Case@Example.com"]);
    assert_eq!(
        stores(&typed),
        ["dup.case@example.com d-9067000001", "dup.case@example.com d-9067000002"]
    );
}

fn python() -> PathBuf {
    std::env::var_os("IDC_EMULATOR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/emulator/bin/python"))
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_grow_with_stores_and_groups_never_with_users() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.json");
    let status = Command::new(python())
        .arg(root().join("tests/emulator/generate.py"))
        .args([
            "--accounts",
            "30",
            "--account-instances",
            "4",
            "--users",
            "20000",
            "--seed",
            "12",
        ])
        .arg("-o")
        .arg(&path)
        .status()
        .expect("run the generator");
    assert!(status.success());
    let scenario: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let org_store = scenario["instances"][0]["identity_store_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The organization user in the most groups, with a lower-case email.
    let mut groups_of: BTreeMap<String, usize> = BTreeMap::new();
    for g in scenario["groups"].as_array().unwrap() {
        if g["store"] == org_store.as_str() {
            for m in g["members"].as_array().unwrap() {
                *groups_of.entry(m.as_str().unwrap().to_owned()).or_default() += 1;
            }
        }
    }
    let (user, groups) = groups_of
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(u, n)| (u.clone(), *n))
        .unwrap();
    assert!(groups >= 1);
    let email = format!("{}@example.com", user).to_lowercase();
    let stores = scenario["instances"].as_array().unwrap().len();
    assert_eq!(stores, 5);

    let emu = Emulator::start(path.to_str().unwrap());
    assert_eq!(emu.scenario()["users"], 20000);
    emu.reset_stats();
    let f = find(&emu, &[&email]);
    assert_eq!(f.json["complete"], true);
    assert_eq!(
        f.json["people"][0]["stores"][0]["groups"].as_array().unwrap().len(),
        groups
    );
    let stats = emu.stats();
    let by_op = |op: &str| stats["by_operation"][op].as_u64().unwrap_or(0);
    // Discovery, as the audit does it: per account.
    assert_eq!(by_op("sts:AssumeRole"), 29);
    assert_eq!(by_op("sso-admin:ListInstances"), 30);
    // Per store: one GetUserId (the email is already lower case); no listing of users.
    assert_eq!(by_op("identitystore:GetUserId"), stores as u64);
    assert_eq!(by_op("identitystore:ListUsers"), 0);
    assert_eq!(by_op("identitystore:ListGroupMemberships"), 0);
    // Per store where the person is (one here): their user, groups and assignments.
    let principals = 1 + groups as u64;
    assert_eq!(by_op("identitystore:DescribeUser"), 1);
    assert_eq!(by_op("identitystore:ListGroupMembershipsForMember"), 1);
    assert_eq!(by_op("identitystore:DescribeGroup"), groups as u64);
    assert_eq!(by_op("sso-admin:ListApplicationAssignmentsForPrincipal"), principals);
    assert_eq!(by_op("sso-admin:ListAccountAssignmentsForPrincipal"), principals);
    let apps = f.json["people"][0]["stores"][0]["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application_arn"].as_str().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    assert_eq!(by_op("sso-admin:DescribeApplication"), apps);
    let total = stats["requests_total"].as_u64().unwrap();
    let fixed = 1 + 1 + 2 + 29 + 30; // identity, organization (2 pages of 20), roles, instances
    let bound = fixed + stores as u64 + 2 + groups as u64 + 2 * principals + apps;
    assert!(
        total <= bound,
        "{total} calls for one person, at most {bound} expected: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lambda_event_answers_and_writes_the_lookup() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let vars = [("CurrentAccountId", "111122223333"), ("reports_bucket", BUCKET)];
    let config = Config::from_lookup(
        |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()),
        RunMode::Lambda,
    )
    .unwrap();
    let app = App {
        clients: emu.clients().await,
        config,
    };
    let deadline = Some(std::time::SystemTime::now() + std::time::Duration::from_secs(900));

    let answer = invoke(
        &app,
        &json!({"find_people": ["Li.Wei@domain.com"], "dry_run": true}),
        deadline,
    )
    .await
    .unwrap();
    let Answer::Lookup(result) = answer else {
        panic!("not a lookup");
    };
    assert!(result.dry_run && result.complete && result.reports.is_empty());
    assert_eq!(result.people[0].stores[0].user_status, "DISABLED");
    assert!(emu.list_keys(BUCKET).await.is_empty());

    let answer = invoke(
        &app,
        &json!({"find_people": ["username2+adminuser@domain.com"]}),
        deadline,
    )
    .await
    .unwrap();
    let value = serde_json::to_value(&answer).unwrap();
    let Answer::Lookup(result) = answer else {
        panic!("not a lookup");
    };
    let keys = emu.list_keys(BUCKET).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    assert!(
        key.starts_with("idc-reports/lookups/date=") && key.ends_with(&format!("/{}.csv", result.run_id)),
        "{key}"
    );
    assert_eq!(result.reports["person_access"], format!("s3://{BUCKET}/{key}"));
    let csv = Csv::parse(&emu.get_object(BUCKET, key).await.unwrap());
    assert_eq!(paths(&csv), username2_paths());
    assert_eq!(value["people"][0]["stores"].as_array().unwrap().len(), 3);

    for bad in [
        json!({"find_people": ["a@x.com"], "accounts": ["111122223333"]}),
        json!({"find_people": []}),
        json!({"find_people": "a@x.com"}),
    ] {
        let err = invoke(&app, &bad, deadline).await.unwrap_err();
        assert_eq!(err.error_type(), "InvalidEvent", "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn from_a_delegated_administrator_the_account_assignments_are_visibly_missing() {
    // AWS lets only the management account ask ListAccountAssignmentsForPrincipal: from
    // the delegated administrator the lookup still finds the person everywhere and says
    // that their AWS accounts could not be read.
    let dir = tempfile::tempdir().unwrap();
    let emu = start_edited("blog", dir.path(), |scenario| {
        scenario["delegated_admin"] = json!("111122224444");
    });
    let found_dir = tempfile::tempdir().unwrap();
    let out = emu
        .command()
        .env("AWS_ACCESS_KEY_ID", "AKIAACCOUNT111122224444")
        .env("CurrentAccountId", "111122224444")
        .args(["find-person", "username2+adminuser@domain.com", "--json", "--out-dir"])
        .arg(found_dir.path())
        .output()
        .expect("run find-person");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["complete"], false);
    let csv = Csv::read(&found_dir.path().join("person_access.csv"));
    let stores: std::collections::BTreeSet<&str> = csv
        .rows
        .iter()
        .filter(|r| r[8] == "STORE_MEMBERSHIP")
        .map(|r| r[1].as_str())
        .collect();
    assert_eq!(stores.len(), 3, "still found in every store: {stores:?}");
    assert!(csv.rows.iter().all(|r| r[8] != "AWS_ACCOUNT"), "{:?}", csv.rows);
    let errors = Csv::read(&found_dir.path().join("account_errors.csv"));
    assert!(
        errors
            .rows
            .iter()
            .any(|r| r[3] == "ACCESS_DENIED" && r[4].contains("ListAccountAssignmentsForPrincipal")),
        "{:?}",
        errors.rows
    );
}
