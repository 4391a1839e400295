//! One refused read of a store never throws away the rest of what was read from it
//! (a member role customised without `identitystore:ListGroups`, an SCP denying one
//! action): users, groups, each group's members and each application stand alone.

use serde_json::json;

use crate::emulator::{Csv, Emulator, run, start_edited};

#[tokio::test(flavor = "multi_thread")]
async fn a_store_whose_groups_are_refused_keeps_its_users_and_members() {
    let emu = Emulator::start("blog");
    // 111122221111 owns d-111111111111; its role may not list groups.
    emu.set_faults(json!({"faults": [{
        "service": "identitystore", "operation": "ListGroups", "account": "111122221111",
        "kind": "access_denied", "probability": 1.0
    }]}));
    let dir = tempfile::tempdir().unwrap();
    let out = run(&emu, &["--no-upload", "--out-dir", dir.path().to_str().unwrap()], &[]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let counts = &out.summary["counts"];
    // The store's users were read: it still counts, and its people are still compared.
    assert_eq!(counts["identity_stores"], 3);
    assert_eq!(counts["identity_stores_failed"], 0);
    assert_eq!(counts["duplicated_users"], 3);
    let duplicates = Csv::read(&dir.path().join("duplicated_users.csv"));
    assert!(
        duplicates.rows.iter().any(|r| r[1].contains("d-111111111111")),
        "{:?}",
        duplicates.rows
    );
    // Its application's assignments still name the user, and the group's members
    // (read by a separate call) are still listed; only the group's name is unknown.
    let assignments = Csv::read(&dir.path().join("application_assignments.csv"));
    let store_rows: Vec<&Vec<String>> = assignments.rows.iter().filter(|r| r[1] == "d-111111111111").collect();
    assert!(
        store_rows.iter().any(|r| r[7] == "USER" && !r[11].is_empty()),
        "{store_rows:?}"
    );
    let group_rows: Vec<&&Vec<String>> = store_rows.iter().filter(|r| r[7] == "GROUP").collect();
    assert!(!group_rows.is_empty());
    assert!(
        group_rows.iter().all(|r| !r[10].is_empty() && !r[11].is_empty()),
        "{group_rows:?}"
    );
    // And the refusal is a row of its own.
    let errors = Csv::read(&dir.path().join("account_errors.csv"));
    assert_eq!(errors.rows.len(), 1, "{:?}", errors.rows);
    let row = &errors.rows[0];
    assert_eq!(
        (row[0].as_str(), row[2].as_str(), row[3].as_str()),
        ("111122221111", "identity_store", "ACCESS_DENIED")
    );
    assert!(row[4].contains("ListGroups"), "{}", row[4]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_whose_users_are_refused_is_counted_failed_but_keeps_its_groups() {
    let emu = Emulator::start("blog");
    emu.set_faults(json!({"faults": [{
        "service": "identitystore", "operation": "ListUsers", "account": "111122221111",
        "kind": "access_denied", "probability": 1.0
    }]}));
    let dir = tempfile::tempdir().unwrap();
    let out = run(&emu, &["--no-upload", "--out-dir", dir.path().to_str().unwrap()], &[]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let counts = &out.summary["counts"];
    assert_eq!(counts["identity_stores"], 2);
    assert_eq!(counts["identity_stores_failed"], 1);
    // Left out of the duplicate analysis: its users could not be read.
    let duplicates = Csv::read(&dir.path().join("duplicated_users.csv"));
    assert!(duplicates.rows.iter().all(|r| !r[1].contains("d-111111111111")));
    // Its groups were read: the group assignment still names the group.
    let assignments = Csv::read(&dir.path().join("application_assignments.csv"));
    assert!(
        assignments
            .rows
            .iter()
            .any(|r| r[1] == "d-111111111111" && r[7] == "GROUP" && !r[9].is_empty()),
        "{:?}",
        assignments.rows
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_being_deleted_is_listed_with_its_status_and_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_edited("blog", dir.path(), |scenario| {
        for instance in scenario["instances"].as_array_mut().unwrap() {
            if instance["identity_store_id"] == "d-111111111111" {
                instance["status"] = json!("DELETE_IN_PROGRESS");
            }
        }
    });
    let out_dir = dir.path().join("out");
    let out = run(&emu, &["--no-upload", "--out-dir", out_dir.to_str().unwrap()], &[]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    // Listed, with its status; not an error; its store and applications not read.
    let instances = Csv::read(&out_dir.join("idc_instances.csv"));
    let row = instances
        .rows
        .iter()
        .find(|r| r[1] == "d-111111111111")
        .expect("the instance is listed");
    assert_eq!(row[7], "DELETE_IN_PROGRESS");
    assert_eq!(out.summary["account_errors"], json!([]));
    assert_eq!(out.summary["complete"], true);
    assert_eq!(out.summary["counts"]["identity_stores"], 2);
    let duplicates = Csv::read(&out_dir.join("duplicated_users.csv"));
    assert!(duplicates.rows.iter().all(|r| !r[1].contains("d-111111111111")));
    let applications = Csv::read(&out_dir.join("application_assignments.csv"));
    assert!(applications.rows.iter().all(|r| r[1] != "d-111111111111"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_being_created_without_a_store_yet_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let emu = start_edited("blog", dir.path(), |scenario| {
        for instance in scenario["instances"].as_array_mut().unwrap() {
            if instance["identity_store_id"] == "d-222222222222" {
                instance["status"] = json!("CREATE_IN_PROGRESS");
            }
        }
    });
    let out_dir = dir.path().join("out");
    let out = run(&emu, &["--no-upload", "--out-dir", out_dir.to_str().unwrap()], &[]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    // 111122225555 sees the organization instance and its own, still being created,
    // which ListInstances names without a store: listed with its status, not an error.
    let instances = Csv::read(&out_dir.join("idc_instances.csv"));
    let own: Vec<&Vec<String>> = instances
        .rows
        .iter()
        .filter(|r| r[0] == "111122225555" && r[3] == "ACCOUNT")
        .collect();
    assert_eq!(own.len(), 1, "{:?}", instances.rows);
    assert_eq!((own[0][1].as_str(), own[0][7].as_str()), ("", "CREATE_IN_PROGRESS"));
    assert_eq!(out.summary["account_errors"], json!([]));
    assert_eq!(out.summary["complete"], true);
}
