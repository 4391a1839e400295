//! A newcomer's first run, without any AWS credentials: it fails at once, on one
//! readable line that says what was tried and what to set (no SDK dump, no retries).

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn no_credentials_fails_at_once_on_one_line_saying_what_to_set() {
    // Instance metadata points at a closed port of 127.0.0.1 so that the machine's own
    // network (an EC2 host, a proxy) cannot change the outcome.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let imds = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_idc-report"))
        .args(["run", "--no-upload"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", "/nonexistent")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
        .output()
        .expect("run idc-report");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{elapsed:?}: {stderr}");
    assert_eq!(output.status.code(), Some(1), "a failed run exits 1: {stderr}");
    assert!(output.stdout.is_empty());
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, no SDK dump: {stderr}");
    let line = lines[0];
    assert!(line.starts_with("idc-report: no AWS credentials found"), "{line}");
    for needed in [
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "aws sso login",
        "EC2 instance metadata",
    ] {
        assert!(line.contains(needed), "{needed} not named: {line}");
    }
    assert!(elapsed < Duration::from_secs(2), "not retried: {elapsed:?}");
}
