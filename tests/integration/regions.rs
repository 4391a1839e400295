//! Regions: `RegionScope=ALL_REGIONS`, the per-Region scan when the API refuses it, and
//! an explicit `REGIONS` list.

use serde_json::json;

use crate::emulator::{Csv, Emulator, run, start_edited};

fn instances(emu: &Emulator, env: &[(&str, &str)]) -> (Csv, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = run(emu, &["--no-upload", "--out-dir", dir.path().to_str().unwrap()], env);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    (Csv::read(&dir.path().join("idc_instances.csv")), out.summary)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_region_scan_finds_what_all_regions_finds_and_a_list_narrows_it() {
    let emu = Emulator::start("messy");
    let (all, _) = instances(&emu, &[]);
    assert!(
        all.column("Region").contains(&"eu-west-1"),
        "messy has an instance in eu-west-1"
    );

    // The endpoint refuses RegionScope: every Region of the partition is scanned instead.
    emu.set_faults(json!({"faults": [], "region_scope_supported": false}));
    emu.reset_stats();
    let (scanned, summary) = instances(&emu, &[]);
    assert_eq!(scanned.rows, all.rows);
    assert_eq!(summary["counts"]["accounts_failed"], 2, "only the role-less accounts");
    let calls = emu.stats()["by_operation"]["sso-admin:ListInstances"].as_u64().unwrap();
    let audited = summary["counts"]["accounts_audited"].as_u64().unwrap();
    assert!(calls > audited * 20, "one refused call and a scan per account: {calls}");

    // An explicit list scans only those Regions, without RegionScope.
    let (us_only, _) = instances(&emu, &[("REGIONS", "us-east-1")]);
    assert!(!us_only.column("Region").contains(&"eu-west-1"));
    let owner_of_eu = all.rows.iter().find(|r| r[5] == "eu-west-1").unwrap()[0].clone();
    let eu_rows: Vec<&Vec<String>> = us_only.rows.iter().filter(|r| r[0] == owner_of_eu).collect();
    assert_eq!(
        eu_rows.len(),
        1,
        "the eu-west-1 owner still sees the organization instance"
    );
    assert_eq!(eu_rows[0][3], "ORGANIZATION");
}

/// The blog organization, with 111122225555's account instance moved to the opt-in
/// Region ap-southeast-3, which only that account has enabled.
fn blog_with_an_opt_in_region(dir: &std::path::Path) -> Emulator {
    start_edited("blog", dir, |scenario| {
        for account in scenario["accounts"].as_array_mut().unwrap() {
            if account["id"] == "111122225555" {
                account["enabled_regions"] = json!(["ap-southeast-3"]);
            }
        }
        for instance in scenario["instances"].as_array_mut().unwrap() {
            if instance["owner"] == "111122225555" {
                instance["region"] = json!("ap-southeast-3");
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn opt_in_regions_are_known_at_their_first_answer_and_skipped_in_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let emu = blog_with_an_opt_in_region(dir.path());
    emu.set_faults(json!({"faults": [], "region_scope_supported": false}));
    emu.reset_stats();
    let (scanned, summary) = instances(&emu, &[]);
    // The instance in the opt-in Region is found (its owner enabled it), and the Regions
    // the other accounts have not enabled are no errors at all.
    assert!(
        scanned
            .rows
            .iter()
            .any(|r| r[0] == "111122225555" && r[5] == "ap-southeast-3"),
        "{:?}",
        scanned.rows
    );
    assert_eq!(summary["account_errors"], json!([]), "{summary}");
    assert_eq!(summary["complete"], true);
    // Each Region of each scan is asked once: a Region that is not enabled answers at
    // once and is not retried.
    let stats = emu.stats();
    let calls = stats["by_operation"]["sso-admin:ListInstances"].as_u64().unwrap();
    let regions = 32;
    assert_eq!(
        calls,
        4 * (1 + regions),
        "one refused ALL_REGIONS call and one per Region, per account"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn named_regions_not_enabled_are_recorded_once_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let emu = blog_with_an_opt_in_region(dir.path());
    let (listed, summary) = instances(&emu, &[("REGIONS", "us-east-1,ap-southeast-3,me-south-1")]);
    assert!(listed.rows.iter().any(|r| r[5] == "ap-southeast-3"));
    let rows: Vec<&serde_json::Value> = summary["account_errors"].as_array().unwrap().iter().collect();
    // One row per account that has not enabled them: not a SERVICE_ERROR per Region.
    assert_eq!(rows.len(), 4, "{rows:?}");
    for row in &rows {
        assert_eq!(row["error_code"], "REGION_NOT_ENABLED");
    }
    let for_5555 = rows.iter().find(|r| r["account_id"] == "111122225555").unwrap();
    assert_eq!(for_5555["region"], "me-south-1");
    let for_4444 = rows.iter().find(|r| r["account_id"] == "111122224444").unwrap();
    assert_eq!(for_4444["region"], "ap-southeast-3,me-south-1");
    // Not failures: every account audited, the run complete.
    assert_eq!(summary["counts"]["accounts_failed"], 0);
    assert_eq!(summary["counts"]["accounts_audited"], 4);
    assert_eq!(summary["complete"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_keeps_an_instances_primary_region_not_the_first_replica_scanned() {
    // 111122221111's account instance lives in us-east-2 and is replicated to us-east-1,
    // which a scan reaches first; ListInstances without RegionScope names no primary.
    let dir = tempfile::tempdir().unwrap();
    let emu = start_edited("blog", dir.path(), |scenario| {
        for instance in scenario["instances"].as_array_mut().unwrap() {
            if instance["owner"] == "111122221111" {
                instance["region"] = json!("us-east-2");
                instance["additional_regions"] = json!(["us-east-1"]);
            }
        }
    });
    let (all, _) = instances(&emu, &[]);
    emu.set_faults(json!({"faults": [], "region_scope_supported": false}));
    let (scanned, summary) = instances(&emu, &[]);
    let region_of = |csv: &Csv| -> String { csv.rows.iter().find(|r| r[1] == "d-111111111111").unwrap()[5].clone() };
    assert_eq!(region_of(&all), "us-east-2");
    assert_eq!(region_of(&scanned), "us-east-2");
    assert_eq!(scanned.rows, all.rows);
    assert_eq!(summary["account_errors"], json!([]), "{summary}");
    // Its store is still read: the blog's duplicates are all found.
    assert_eq!(summary["counts"]["duplicated_users"], 3);
}
