//! Surviving real organizations: throttling, rate limits, denied accounts, deadlines and
//! a failing bucket, each checked on the reports' content.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use idc_report::config::{Config, RunMode};
use idc_report::handler::{App, handle};

use crate::emulator::{BUCKET, Csv, Emulator, expected, run};

const REPORTS: [&str; 4] = [
    "idc_instances",
    "duplicated_users",
    "application_assignments",
    "account_errors",
];

/// Runs the binary into a fresh folder and returns it with the summary.
fn audit(emu: &Emulator, env: &[(&str, &str)]) -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = run(emu, &["--no-upload", "--out-dir", dir.path().to_str().unwrap()], env);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    (dir, out.summary)
}

fn read(dir: &Path, report: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{report}.csv"))).unwrap()
}

fn assert_same_reports(a: &Path, b: &Path) {
    for report in REPORTS {
        assert_eq!(read(a, report), read(b, report), "{report} differs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_percent_throttling_changes_nothing_in_the_reports() {
    let emu = Emulator::start("messy");
    let (clean, _) = audit(&emu, &[]);
    emu.set_faults(json!({"faults": [
        {"service": "sso-admin", "operation": "*", "account": "*", "kind": "throttle", "probability": 0.3},
        {"service": "identitystore", "operation": "*", "account": "*", "kind": "throttle", "probability": 0.3}
    ]}));
    emu.reset_stats();
    let (throttled, summary) = audit(&emu, &[]);
    let stats = emu.stats();
    let injected = stats["faults_injected"]["throttle"].as_u64().unwrap();
    println!(
        "throttling answers injected: {injected} of {} requests",
        stats["requests_total"]
    );
    assert!(injected > 50, "too few throttles to prove anything: {injected}");
    assert_eq!(
        summary["counts"]["accounts_failed"], 2,
        "only the two role-less accounts fail"
    );
    assert_same_reports(clean.path(), throttled.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_twenty_per_second_rate_limit_fails_no_account() {
    let emu = Emulator::start("messy");
    let (clean, _) = audit(&emu, &[]);
    emu.set_faults(
        json!({"faults": [], "rate_limit": {"rps": 20, "burst": 20, "services": ["sso-admin", "identitystore"]}}),
    );
    emu.reset_stats();
    let (limited, summary) = audit(&emu, &[]);
    let stats = emu.stats();
    println!(
        "throttled by the emulator's rate limit: {} of {} requests",
        stats["throttled"], stats["requests_total"]
    );
    assert_eq!(
        summary["counts"]["accounts_failed"], 2,
        "only the two role-less accounts fail"
    );
    assert_same_reports(clean.path(), limited.path());
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_accounts_are_exactly_the_error_rows_and_the_rest_is_complete() {
    let emu = Emulator::start("messy");
    let want = expected("messy");
    let (clean, _) = audit(&emu, &[]);
    // About 10% of the audited accounts: members that own no instance.
    let denied: Vec<String> = want["instances_by_account"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, seen)| id.as_str() != "111122223333" && seen.as_array().unwrap().len() == 1)
        .map(|(id, _)| id.clone())
        .take(4)
        .collect();
    let faults: Vec<Value> = denied
        .iter()
        .map(|id| json!({"service": "sso-admin", "operation": "ListInstances", "account": id, "kind": "access_denied", "probability": 1.0}))
        .collect();
    emu.set_faults(json!({ "faults": faults }));
    let (faulty, summary) = audit(&emu, &[]);

    let errors = Csv::read(&faulty.path().join("account_errors.csv"));
    let rows: BTreeSet<(String, String, String)> = errors
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[2].clone(), r[3].clone()))
        .collect();
    let mut want_rows: BTreeSet<(String, String, String)> = BTreeSet::new();
    for id in &denied {
        want_rows.insert((id.clone(), "list_instances".into(), "ACCESS_DENIED".into()));
    }
    for id in want["failed_accounts"].as_object().unwrap().keys() {
        want_rows.insert((id.clone(), "assume_role".into(), "ASSUME_ROLE_DENIED".into()));
    }
    for id in want["skipped_accounts"].as_object().unwrap().keys() {
        want_rows.insert((id.clone(), "select".into(), "ACCOUNT_NOT_ACTIVE".into()));
    }
    assert_eq!(rows, want_rows);
    // Sorted by account, Region, stage (then the rest of the row), whatever order the
    // failures came in; the summary lists them in the same order.
    let mut sorted = errors.rows.clone();
    sorted.sort();
    assert_eq!(errors.rows, sorted, "account_errors.csv is not sorted");
    let listed: Vec<(String, String, String)> = summary["account_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_str().unwrap().to_owned();
            (field("account_id"), field("stage"), field("error_code"))
        })
        .collect();
    let in_csv: Vec<(String, String, String)> = errors
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[2].clone(), r[3].clone()))
        .collect();
    assert_eq!(listed, in_csv);
    for r in errors.rows.iter().filter(|r| r[3] == "ACCESS_DENIED") {
        assert!(
            r[4].contains("AccessDeniedException"),
            "the AWS code is in the message: {}",
            r[4]
        );
    }
    assert_eq!(summary["counts"]["accounts_failed"], 2 + denied.len());

    // Everything else is as in the clean run.
    assert_eq!(
        read(clean.path(), "duplicated_users"),
        read(faulty.path(), "duplicated_users")
    );
    assert_eq!(
        read(clean.path(), "application_assignments"),
        read(faulty.path(), "application_assignments")
    );
    let clean_instances = Csv::read(&clean.path().join("idc_instances.csv"));
    let faulty_instances = Csv::read(&faulty.path().join("idc_instances.csv"));
    let kept: Vec<&Vec<String>> = clean_instances
        .rows
        .iter()
        .filter(|r| !denied.contains(&r[0]))
        .collect();
    assert_eq!(faulty_instances.rows.iter().collect::<Vec<_>>(), kept);
}

fn lambda_config(extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![("CurrentAccountId", "111122223333"), ("reports_bucket", BUCKET)];
    vars.extend_from_slice(extra);
    Config::from_lookup(
        |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()),
        RunMode::Lambda,
    )
    .expect("config")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deadline_mid_run_writes_partial_reports_and_lists_the_unreached() {
    let emu = Emulator::start("gen:accounts=150,account_instances=5,users=400,seed=11");
    emu.create_bucket(BUCKET).await;
    emu.set_faults(json!({"faults": [{"service": "*", "operation": "*", "account": "*", "kind": "latency", "latency_ms": 50, "probability": 1.0}]}));
    let app = App {
        clients: emu.clients().await,
        config: lambda_config(&[("MAX_CONCURRENCY", "2"), ("DEADLINE_MARGIN_SECONDS", "5")]),
    };
    let started = SystemTime::now();
    // Work stops 5 s in; the other 5 s are the margin for writing the reports.
    let deadline = started + Duration::from_secs(10);
    let summary = handle(&app, &json!({}), Some(deadline))
        .await
        .expect("the run still succeeds");
    let finished = SystemTime::now();
    println!(
        "audited {} of {} accounts before the deadline; {} not reached; finished {:?} after start",
        summary.counts.accounts_audited,
        summary.counts.accounts_total,
        summary.accounts_not_reached.len(),
        finished.duration_since(started).unwrap()
    );
    assert!(
        finished < deadline,
        "the handler must return before the Lambda deadline"
    );
    assert!(!summary.complete);
    assert!(!summary.accounts_not_reached.is_empty());
    assert!(summary.counts.accounts_audited > 0);
    assert_eq!(summary.counts.accounts_total, 150);
    assert_eq!(
        summary.counts.accounts_audited + summary.counts.accounts_not_reached + summary.counts.accounts_failed,
        150
    );
    let unreached: BTreeSet<String> = summary.accounts_not_reached.iter().map(|a| a.to_string()).collect();
    let deadline_rows: BTreeSet<String> = summary
        .account_errors
        .iter()
        .filter(|e| e.error_code == "DEADLINE_REACHED" && e.stage == "list_instances")
        .map(|e| e.account_id.clone())
        .collect();
    assert_eq!(unreached, deadline_rows);

    // The partial reports are in S3, and say what they hold.
    let keys = emu.list_keys(BUCKET).await;
    assert_eq!(keys.len(), 16, "{keys:?}");
    // The page says the run is incomplete and which accounts were not reached.
    let page = String::from_utf8(emu.get_object(BUCKET, "idc-reports/latest/summary.html").await.unwrap()).unwrap();
    assert!(
        page.contains("accounts not reached before the deadline"),
        "no incomplete banner"
    );
    assert!(page.contains("Not reached before the deadline"));
    let first_unreached = unreached.iter().next().unwrap();
    assert!(
        page.contains(first_unreached.as_str()),
        "{first_unreached} not on the page"
    );
    let instances = Csv::parse(
        &emu.get_object(BUCKET, "idc-reports/latest/idc_instances.csv")
            .await
            .unwrap(),
    );
    let reported: BTreeSet<&str> = instances.column("AccountId").into_iter().collect();
    assert_eq!(reported.len(), summary.counts.accounts_audited);
    assert!(reported.iter().all(|a| !unreached.contains(*a)));
    let latest: Value =
        serde_json::from_slice(&emu.get_object(BUCKET, "idc-reports/latest/summary.json").await.unwrap()).unwrap();
    assert_eq!(latest["complete"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_failures_are_retried_and_a_dead_bucket_fails_without_touching_latest() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let app = App {
        clients: emu.clients().await,
        config: lambda_config(&[]),
    };
    let deadline = Some(SystemTime::now() + Duration::from_secs(900));

    // The first attempts fail, then S3 recovers: the run succeeds.
    emu.set_faults(json!({"faults": [{"service": "s3", "operation": "PutObject", "account": "*", "kind": "http500", "probability": 1.0, "count": 3}]}));
    let first = handle(&app, &json!({}), deadline)
        .await
        .expect("retried uploads succeed");
    assert_eq!(emu.stats()["faults_injected"]["http500"], 3);
    let latest_keys: Vec<String> = emu
        .list_keys(BUCKET)
        .await
        .into_iter()
        .filter(|k| k.starts_with("idc-reports/latest/"))
        .collect();
    assert_eq!(latest_keys.len(), 8); // five reports, changes, summary.json, summary.html
    let mut latest_before = Vec::new();
    for key in &latest_keys {
        latest_before.push(emu.get_object(BUCKET, key).await.unwrap());
    }

    // S3 fails for good: the invocation fails, naming the bucket and key; latest/ is untouched.
    emu.set_faults(json!({"faults": [{"service": "s3", "operation": "PutObject", "account": "*", "kind": "http500", "probability": 1.0}]}));
    let err = handle(&app, &json!({}), deadline)
        .await
        .expect_err("a dead bucket fails the run");
    let message = err.to_string();
    println!("{message}");
    assert!(message.contains(&format!("s3://{BUCKET}/idc-reports/")), "{message}");
    assert_eq!(err.error_type(), "ReportUploadFailed");
    for (key, before) in latest_keys.iter().zip(&latest_before) {
        assert_eq!(
            emu.get_object(BUCKET, key).await.as_ref(),
            Some(before),
            "{key} changed"
        );
    }
    let latest: Value =
        serde_json::from_slice(&emu.get_object(BUCKET, "idc-reports/latest/summary.json").await.unwrap()).unwrap();
    assert_eq!(latest["run_id"], first.run_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_store_retry_after_seconds_in_the_body_is_honoured() {
    // As AWS, the emulator sends RetryAfterSeconds in the error's JSON body only (no
    // Retry-After header). One throttled ListUsers asking for 3 s: the retry waits them
    // (the backoff alone would be at most 0.2 s) and the run is complete.
    let emu = Emulator::start("blog");
    let (clean, _) = audit(&emu, &[]);
    emu.set_faults(
        json!({"faults": [{"service": "identitystore", "operation": "ListUsers", "account": "*",
        "kind": "throttle", "probability": 1.0, "count": 1, "retry_after_seconds": 3}]}),
    );
    let started = std::time::Instant::now();
    let (throttled, summary) = audit(&emu, &[]);
    let elapsed = started.elapsed();
    assert_eq!(emu.stats()["faults_injected"]["throttle"], 1);
    assert!(
        elapsed >= Duration::from_millis(2900),
        "the retry did not wait RetryAfterSeconds: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    assert_eq!(summary["counts"]["accounts_failed"], 0);
    assert_same_reports(clean.path(), throttled.path());
}
