//! Hostile values from external identity providers: formula-like names, commas, quotes,
//! newlines and non-Latin scripts survive as CSV, neutralised where they must be; and
//! no secret or personal data reaches the logs.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::emulator::{Csv, Emulator, root, run, start_edited};

/// Whether a spreadsheet could read the cell as a formula: it starts with a tab or a
/// carriage return, or its first non-blank character is `=`, `+`, `-`, `@` or a
/// full-width form of one of them.
fn formula_like(cell: &str) -> bool {
    cell.starts_with(['\t', '\r'])
        || cell
            .trim_start()
            .starts_with(['=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}'])
}

/// The spreadsheet-safe form of a cell, as the reports must hold it.
fn safe(cell: &str) -> String {
    if formula_like(cell) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn scenario() -> (String, Value) {
    let path = root().join("tests/integration/scenarios/hostile.json");
    let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path.display().to_string(), value)
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_values_round_trip_and_are_neutralised() {
    let (path, scenario) = scenario();
    let emu = Emulator::start(&path);
    let dir = tempfile::tempdir().unwrap();
    let secret = "SeCrEt/KeyThatMustNeverBeLogged+0123456789";
    let out = run(
        &emu,
        &["--no-upload", "--out-dir", dir.path().to_str().unwrap()],
        &[("AWS_SECRET_ACCESS_KEY", secret)],
    );
    assert!(out.status.success(), "run failed: {}", out.stderr);

    // Account and instance names.
    let instances = Csv::read(&dir.path().join("idc_instances.csv"));
    let account_names: BTreeSet<String> = instances.column("AccountName").into_iter().map(str::to_owned).collect();
    let want: BTreeSet<String> = scenario["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| safe(a["name"].as_str().unwrap()))
        .collect();
    assert_eq!(account_names, want);
    let instance_names: BTreeSet<String> = instances
        .column("InstanceName")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let want: BTreeSet<String> = scenario["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| safe(i["name"].as_str().unwrap()))
        .collect();
    assert_eq!(instance_names, want);

    // Every user is in both stores with one email each: every email is a duplicate row
    // whose user name cell is the user name, neutralised.
    let duplicates = Csv::read(&dir.path().join("duplicated_users.csv"));
    let users = scenario["users"].as_array().unwrap();
    let want: BTreeSet<(String, String)> = users
        .iter()
        .map(|u| {
            let email = u["emails"][0].as_str().unwrap().trim().to_lowercase();
            (safe(&email), safe(u["user_name"].as_str().unwrap()))
        })
        .collect();
    let got: BTreeSet<(String, String)> = duplicates.rows.iter().map(|r| (r[0].clone(), r[3].clone())).collect();
    assert_eq!(got, want);

    // Application, group and user names in assignments.
    let assignments = Csv::read(&dir.path().join("application_assignments.csv"));
    let apps: BTreeSet<String> = assignments
        .column("ApplicationName")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let want: BTreeSet<String> = scenario["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| safe(a["name"].as_str().unwrap()))
        .collect();
    assert_eq!(apps, want);
    let groups: BTreeSet<String> = assignments
        .rows
        .iter()
        .filter(|r| r[assignments.col("PrincipalType")] == "GROUP")
        .map(|r| r[assignments.col("PrincipalName")].clone())
        .collect();
    assert_eq!(groups, BTreeSet::from([safe("=admins,\"all\""), safe("-empty")]));
    let user_names: BTreeSet<String> = assignments
        .column("UserName")
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let want: BTreeSet<String> = [
        "=cmd|' /C calc'!A0",
        "comma,user",
        "李雷",
        " =space",
        "newline\nuser",
        "emoji😀",
    ]
    .iter()
    .map(|n| safe(n))
    .collect();
    assert_eq!(user_names, want);

    // No cell of any report starts a formula.
    for report in [
        "idc_instances",
        "duplicated_users",
        "application_assignments",
        "account_errors",
    ] {
        let csv = Csv::read(&dir.path().join(format!("{report}.csv")));
        for cell in csv.rows.iter().flatten() {
            assert!(!formula_like(cell), "{report}: {cell:?}");
        }
    }

    // Logs at INFO: no email, no user name, no secret.
    for user in users {
        let name = user["user_name"].as_str().unwrap();
        if name.len() > 3 {
            assert!(!out.stderr.contains(name), "user name {name:?} in the logs");
        }
        assert!(
            !out.stderr.contains(user["emails"][0].as_str().unwrap().trim()),
            "email in the logs"
        );
    }
    assert!(!out.stderr.contains(secret));

    // Even at TRACE, no credential is logged: neither ours nor those AssumeRole returns.
    let out = run(
        &emu,
        &["--no-upload"],
        &[("AWS_SECRET_ACCESS_KEY", secret), ("RUST_LOG", "trace")],
    );
    assert!(out.status.success());
    assert!(out.stderr.lines().count() > 100, "trace logging was on");
    assert!(!out.stderr.contains(secret), "our secret key is in the trace logs");
    for needle in ["SecretAccessKey", "SessionToken>"] {
        assert!(!out.stderr.contains(needle), "{needle} in the trace logs");
    }
    // The SDK's own traces name credentials only redacted.
    for (i, _) in out.stderr.match_indices("secret_access_key: \"") {
        let rest = &out.stderr[i + "secret_access_key: \"".len()..];
        assert!(
            rest.starts_with("** redacted **"),
            "unredacted secret in the trace logs"
        );
    }
}

/// Unicode in emails: the same address written precomposed (`é`) in one store and
/// decomposed (`e` and a combining accent) in another is one person; different letters
/// (`ß` and `ss`) stay different people.
#[tokio::test(flavor = "multi_thread")]
async fn unicode_emails_match_in_nfc_and_distinct_letters_stay_distinct() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_edited("blog", dir.path(), |scenario| {
        let users = scenario["users"].as_array_mut().unwrap();
        for (store, name, email) in [
            ("d-111122223333", "rene.org", "Ren\u{e9}@example.com"),
            ("d-222222222222", "rene.acct", "rene\u{301}@example.com"),
            ("d-111122223333", "strauss.org", "stra\u{df}e@example.com"),
            ("d-222222222222", "strasse.acct", "strasse@example.com"),
        ] {
            users.push(json!({"store": store, "user_name": name, "display_name": name, "emails": [email]}));
        }
    });
    let out_dir = dir.path().join("out");
    let out = run(&emu, &["--no-upload", "--out-dir", out_dir.to_str().unwrap()], &[]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let duplicates = Csv::read(&out_dir.join("duplicated_users.csv"));
    let emails: BTreeSet<&str> = duplicates.column("User_email").into_iter().collect();
    assert!(emails.contains("ren\u{e9}@example.com"), "{emails:?}");
    assert!(!emails.iter().any(|e| e.contains("stra")), "{emails:?}");
    assert_eq!(
        out.summary["counts"]["duplicated_users"], 4,
        "the blog's three and René"
    );
}
