//! The messy organization: skipped and failed accounts are exactly the expected ones,
//! and no user, application or assignment is lost across page boundaries.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::emulator::{Csv, Emulator, expected, run};

#[tokio::test(flavor = "multi_thread")]
async fn messy_scenario_reports_every_account_store_and_assignment() {
    let emu = Emulator::start("messy");
    let want = expected("messy");
    let dir = tempfile::tempdir().unwrap();
    let out = run(&emu, &["--no-upload", "--out-dir", dir.path().to_str().unwrap()], &[]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let summary = &out.summary;
    let counts = &summary["counts"];

    // Accounts: audited, skipped with their state, failed with the reason.
    assert_eq!(counts["accounts_total"], want["accounts_total"]);
    assert_eq!(
        counts["accounts_audited"],
        want["audited_accounts"].as_array().unwrap().len()
    );
    let errors = Csv::read(&dir.path().join("account_errors.csv"));
    let by_code = |code: &str| -> BTreeMap<String, String> {
        errors
            .rows
            .iter()
            .filter(|r| r[3] == code)
            .map(|r| (r[0].clone(), r[4].clone()))
            .collect()
    };
    let skipped = by_code("ACCOUNT_NOT_ACTIVE");
    let want_skipped = want["skipped_accounts"].as_object().unwrap();
    assert_eq!(
        skipped.keys().collect::<Vec<_>>(),
        want_skipped.keys().collect::<Vec<_>>()
    );
    for (id, state) in want_skipped {
        assert!(skipped[id].contains(state.as_str().unwrap()), "{id}: {}", skipped[id]);
    }
    let failed = by_code("ASSUME_ROLE_DENIED");
    let want_failed = want["failed_accounts"].as_object().unwrap();
    assert_eq!(
        failed.keys().collect::<Vec<_>>(),
        want_failed.keys().collect::<Vec<_>>()
    );
    for message in failed.values() {
        assert!(
            message.contains("AssumeRole") && message.contains("AccessDenied"),
            "{message}"
        );
    }
    assert_eq!(
        errors.rows.len(),
        want_skipped.len() + want_failed.len(),
        "no other errors: {:?}",
        errors.rows
    );
    assert_eq!(counts["accounts_skipped"], want_skipped.len());
    assert_eq!(counts["accounts_failed"], want_failed.len());

    // Instances per account, exactly.
    let instances = Csv::read(&dir.path().join("idc_instances.csv"));
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &instances.rows {
        seen.entry(r[0].clone()).or_default().insert(r[1].clone());
    }
    let want_seen: BTreeMap<String, BTreeSet<String>> = want["instances_by_account"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(seen, want_seen);
    // The account instance in another Region is reported in its Region.
    let stores = want["stores"].as_object().unwrap();
    for r in &instances.rows {
        assert_eq!(
            r[instances.col("Region")],
            stores[&r[1]]["region"].as_str().unwrap(),
            "{r:?}"
        );
    }

    // Users: every one of every store, across pages.
    let sum = |field: &str| stores.values().map(|s| s[field].as_u64().unwrap()).sum::<u64>();
    assert_eq!(counts["users"], sum("users"));
    assert_eq!(counts["users_without_email"], sum("users_without_email"));
    assert_eq!(counts["groups"], sum("groups"));
    assert_eq!(counts["applications"], sum("applications"));
    assert_eq!(counts["application_assignments"], sum("assignments"));
    assert_eq!(counts["identity_stores"], stores.len());

    // Assignments: per store, every application and every (principal type, id) pair.
    let assignments = Csv::read(&dir.path().join("application_assignments.csv"));
    for (store_id, store) in stores {
        let rows: Vec<&Vec<String>> = assignments
            .rows
            .iter()
            .filter(|r| &r[assignments.col("IdentityStoreId")] == store_id)
            .collect();
        let apps: BTreeSet<&str> = rows
            .iter()
            .map(|r| r[assignments.col("ApplicationArn")].as_str())
            .collect();
        assert_eq!(
            apps.len() as u64,
            store["applications"].as_u64().unwrap(),
            "{store_id} applications"
        );
        let pairs: BTreeSet<(&str, &str, &str)> = rows
            .iter()
            .filter(|r| !r[assignments.col("PrincipalType")].is_empty())
            .map(|r| {
                (
                    r[assignments.col("ApplicationArn")].as_str(),
                    r[assignments.col("PrincipalType")].as_str(),
                    r[assignments.col("PrincipalId")].as_str(),
                )
            })
            .collect();
        let users = pairs.iter().filter(|p| p.1 == "USER").count() as u64;
        let groups = pairs.iter().filter(|p| p.1 == "GROUP").count() as u64;
        assert_eq!(
            users,
            store["user_assignments"].as_u64().unwrap(),
            "{store_id} user assignments"
        );
        assert_eq!(
            groups,
            store["group_assignments"].as_u64().unwrap(),
            "{store_id} group assignments"
        );
        // Every named principal resolved to a name from its store.
        for r in rows.iter().filter(|r| !r[assignments.col("PrincipalType")].is_empty()) {
            assert!(
                !r[assignments.col("PrincipalName")].is_empty(),
                "unresolved principal {r:?}"
            );
        }
    }

    // Duplicates: exactly the expected emails and stores (case and spaces folded).
    let duplicates = Csv::read(&dir.path().join("duplicated_users.csv"));
    let got: BTreeMap<String, Vec<String>> = duplicates
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].split(", ").map(str::to_owned).collect()))
        .collect();
    let want_dups: BTreeMap<String, Vec<String>> = want["duplicated_users"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let mut stores: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            stores.sort();
            (k.clone(), stores)
        })
        .collect();
    assert_eq!(got, want_dups);
    // Two accounts could not be audited (their member role is missing or misnamed):
    // the run is incomplete, and says so by stage.
    assert_eq!(summary["complete"], Value::Bool(false));
    assert_eq!(counts["read_failures"], 2);
    assert_eq!(counts["read_failures_by_stage"], serde_json::json!({"assume_role": 2}));
}
