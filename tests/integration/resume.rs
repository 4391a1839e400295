//! Resumable runs (`continue_run`, the Step Functions workflow): the real binary, one
//! process per invocation, each with a short deadline, against the emulator. The
//! reports of a run that took many invocations, or whose invocations were killed at
//! random points, are the reports of a one-shot run of the same organization.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::emulator::{BUCKET, Emulator, run};

const MANAGEMENT: &str = "111122223333";

/// The CSV reports compared (the run id and times live in the summary only).
const REPORTS: [&str; 6] = [
    "idc_instances",
    "duplicated_users",
    "application_assignments",
    "account_assignments",
    "account_errors",
    "changes",
];

fn env(prefix: &str) -> Vec<(&'static str, String)> {
    vec![
        ("reports_bucket", BUCKET.to_owned()),
        ("CurrentAccountId", MANAGEMENT.to_owned()),
        ("REPORT_PREFIX", prefix.to_owned()),
        ("MAX_CONCURRENCY", "2".to_owned()),
        ("DEADLINE_MARGIN_SECONDS", "0".to_owned()),
        ("CHECKPOINT_INTERVAL_SECONDS", "1".to_owned()),
    ]
}

fn continue_event(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.json"));
    let event = json!({"continue_run": {"name": name, "started_at": "2026-11-30T12:00:00Z"}});
    std::fs::write(&path, event.to_string()).expect("write event");
    path
}

fn invocation(emu: &Emulator, prefix: &str, event: &std::path::Path, stop_after: &str) -> Command {
    let mut cmd = emu.command();
    cmd.arg("run")
        .arg("--event")
        .arg(event)
        .arg("--stop-after")
        .arg(stop_after);
    for (k, v) in env(prefix) {
        cmd.env(k, v);
    }
    cmd
}

/// Invokes until the run says it is done, with `extra` settings beside the test's; the
/// answers in order.
fn invoke_until_done(
    emu: &Emulator,
    prefix: &str,
    event: &std::path::Path,
    stop_after: &str,
    extra: &[(&str, &str)],
) -> Vec<Value> {
    let mut answers = Vec::new();
    for _ in 0..80 {
        let mut cmd = invocation(emu, prefix, event, stop_after);
        cmd.envs(extra.iter().copied());
        let output = cmd.output().expect("run idc-report");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "invocation failed: {stderr}");
        let answer: Value = serde_json::from_slice(&output.stdout).expect("answer JSON");
        let done = answer["done"] == json!(true);
        answers.push(answer);
        if done {
            return answers;
        }
    }
    panic!("the run did not end in 80 invocations: {answers:?}");
}

async fn latest_reports(emu: &Emulator, prefix: &str) -> Vec<(String, String)> {
    let mut reports = Vec::new();
    for name in REPORTS {
        let key = format!("{prefix}/latest/{name}.csv");
        let body = emu.get_object(BUCKET, &key).await.unwrap_or_else(|| panic!("no {key}"));
        reports.push((name.to_owned(), String::from_utf8(body).expect("UTF-8 report")));
    }
    reports
}

fn one_shot(emu: &Emulator, prefix: &str) -> Value {
    let env = env(prefix);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(emu, &[], &env);
    assert!(out.status.success(), "{}", out.stderr);
    out.summary
}

/// The answer's summary lists the first 20 error rows of the one-shot run's, and their
/// total (Step Functions keeps 256 KiB of state; summary.json has them all).
fn same_errors(answer: &Value, one_shot: &Value) {
    let all = one_shot["account_errors"].as_array().unwrap();
    assert_eq!(answer["account_errors_total"], json!(all.len()));
    assert_eq!(
        answer["account_errors"].as_array().unwrap()[..],
        all[..all.len().min(20)]
    );
}

fn slow(emu: &Emulator) {
    emu.set_faults(json!({"faults": [{"service": "*", "operation": "*", "account": "*",
                                      "kind": "latency", "latency_ms": 40, "probability": 1.0}]}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_of_many_invocations_writes_the_reports_of_a_one_shot_run() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start("messy");
    emu.create_bucket(BUCKET).await;
    slow(&emu);
    let expected = one_shot(&emu, "oneshot");

    let event = continue_event(dir.path(), "run-many");
    let answers = invoke_until_done(&emu, "resumed", &event, "1.5", &[]);
    assert!(answers.len() >= 3, "only {} invocations", answers.len());
    for (n, answer) in answers.iter().enumerate() {
        assert_eq!(answer["invocation"], json!(n + 1), "{answer}");
    }
    let first = &answers[0];
    assert!(first["pending_units"].as_u64().unwrap() > 0, "{first}");
    assert!(first["checkpoint"]["bytes"].as_u64().unwrap() > 0, "{first}");
    let last = answers.last().unwrap();
    assert!(answers.iter().all(|a| a["run_id"] == first["run_id"]), "one run id");
    let summary = &last["summary"];
    assert_eq!(summary["run_id"], first["run_id"]);
    assert_eq!(summary["counts"], expected["counts"], "the same counts");
    assert_eq!(summary["complete"], expected["complete"]);
    same_errors(summary, &expected);

    assert_eq!(
        latest_reports(&emu, "resumed").await,
        latest_reports(&emu, "oneshot").await
    );

    // The run has ended: invoked again, it answers the same without reading AWS again,
    // and its checkpoint is gone (done.json stays until the lifecycle rule expires it).
    emu.reset_stats();
    let again = invoke_until_done(&emu, "resumed", &event, "1.5", &[]);
    assert_eq!(again, vec![last.clone()]);
    let stats = emu.stats();
    let reads: u64 = stats["by_operation"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(op, _)| !op.starts_with("s3:") && !op.starts_with("sts:GetCallerIdentity"))
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(reads, 0, "{stats}");
    let keys = emu.list_keys(BUCKET).await;
    assert!(
        keys.contains(&"resumed/checkpoints/run-many/done.json".to_owned()),
        "{keys:?}"
    );
    assert!(
        !keys.contains(&"resumed/checkpoints/run-many/checkpoint.json".to_owned()),
        "{keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invocations_killed_at_random_points_lose_and_repeat_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start("messy");
    emu.create_bucket(BUCKET).await;
    slow(&emu);
    let expected = one_shot(&emu, "oneshot");

    let event = continue_event(dir.path(), "run-killed");
    let mut rng = fastrand::Rng::with_seed(14);
    let mut kills = 0;
    let mut last = None;
    for _ in 0..120 {
        let mut child = invocation(&emu, "killed", &event, "1.5")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start idc-report");
        // Every other invocation is killed (SIGKILL: no chance to save anything) at a
        // random point of its life, from start-up to its last upload.
        if rng.bool() {
            std::thread::sleep(Duration::from_millis(rng.u64(50..2_000)));
            if child.try_wait().expect("wait").is_none() {
                child.kill().expect("kill");
                let _ = child.wait();
                kills += 1;
                continue;
            }
        }
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let answer: Value = serde_json::from_slice(&output.stdout).expect("answer JSON");
        if answer["done"] == json!(true) {
            last = Some(answer);
            break;
        }
    }
    let last = last.expect("the run ended");
    assert!(kills >= 3, "only {kills} invocations were killed");
    assert_eq!(
        latest_reports(&emu, "killed").await,
        latest_reports(&emu, "oneshot").await
    );
    assert_eq!(last["summary"]["counts"], expected["counts"]);
    same_errors(&last["summary"], &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_never_share_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    slow(&emu);
    // A run of the same name started at another time (an execution name reused) does
    // not go on from the other's checkpoint, nor return its answer.
    let event = continue_event(dir.path(), "same-name");
    let first = invoke_until_done(&emu, "shared", &event, "60", &[]);
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        json!({"continue_run": {"name": "same-name", "started_at": "2026-12-01T12:00:00Z"}}).to_string(),
    )
    .unwrap();
    let second = invoke_until_done(&emu, "shared", &other, "60", &[]);
    assert_ne!(first[0]["run_id"], second[0]["run_id"]);
    assert_eq!(second[0]["invocation"], json!(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_holds_across_invocations() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start("messy");
    emu.create_bucket(BUCKET).await;
    // Identity Center's quota as a token bucket per (account, service), at the rate the
    // function is told to keep (with two tokens of slack for the network's jitter), and
    // calls fast enough that the rate, not the latency, bounds the run. An invocation
    // that forgot where its predecessor's limits stood would start with a fresh burst
    // into an empty bucket, and be throttled.
    emu.set_faults(json!({
        "faults": [{"service": "*", "operation": "*", "account": "*", "kind": "latency", "latency_ms": 20, "probability": 1.0}],
        "rate_limit": {"rps": 8, "burst": 10, "services": ["sso-admin", "identitystore"]}
    }));
    let event = continue_event(dir.path(), "run-rate");
    let answers = invoke_until_done(
        &emu,
        "rate",
        &event,
        "1.2",
        &[("API_RATE_LIMIT", "8"), ("MAX_CONCURRENCY", "4")],
    );
    assert!(answers.len() >= 5, "only {} invocations", answers.len());
    assert_eq!(answers.last().unwrap()["done"], json!(true));
    let stats = emu.stats();
    assert_eq!(
        stats["rate_limited"],
        json!(0),
        "throttled by the rate limit: {}",
        stats["by_account_service"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_that_ends_no_unit_says_so_instead_of_looping() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    // Every read is quick but a store's users, which take longer than an invocation's
    // window: the first invocation gets somewhere (the accounts), the next ends nothing.
    emu.set_faults(
        json!({"faults": [{"service": "identitystore", "operation": "ListUsers", "account": "*",
                                      "kind": "latency", "latency_ms": 4000, "probability": 1.0}]}),
    );
    let event = continue_event(dir.path(), "run-stuck");
    let mut outputs = Vec::new();
    for _ in 0..8 {
        let output = invocation(&emu, "stuck", &event, "1.5")
            .output()
            .expect("run idc-report");
        let failed = !output.status.success();
        outputs.push(output);
        if failed {
            break;
        }
    }
    let first: Value = serde_json::from_slice(&outputs[0].stdout).expect("the first answer");
    assert_eq!(first["done"], json!(false), "{first}");
    let last = outputs.last().unwrap();
    assert!(!last.status.success(), "{} invocations, none failed", outputs.len());
    // Every invocation before it answered, not done (the store's users never fit).
    for output in &outputs[..outputs.len() - 1] {
        let answer: Value = serde_json::from_slice(&output.stdout).expect("an answer");
        assert_eq!(answer["done"], json!(false), "{answer}");
    }
    let stderr = String::from_utf8_lossy(&last.stderr);
    assert!(
        stderr.contains("no progress: this invocation ended no unit of work"),
        "{stderr}"
    );
    assert!(stderr.contains("longer timeout"), "{stderr}");
}
