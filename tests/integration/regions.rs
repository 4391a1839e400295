//! Regions: `RegionScope=ALL_REGIONS`, the per-Region scan when the API refuses it, and
//! an explicit `REGIONS` list.

use serde_json::json;

use crate::emulator::{Csv, Emulator, run};

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
