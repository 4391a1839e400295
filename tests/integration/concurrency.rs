//! Bounded concurrency, proven by the emulator's count of requests in flight.

use serde_json::json;

use crate::emulator::{Emulator, run};

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_stays_within_max_concurrency_and_above_one() {
    let emu = Emulator::start("gen:accounts=40,account_instances=6,users=300,seed=3");
    // Latency makes overlapping calls visible.
    emu.set_faults(json!({"faults": [{"service": "*", "operation": "*", "account": "*", "kind": "latency", "latency_ms": 25, "probability": 1.0}]}));
    emu.reset_stats();
    let out = run(&emu, &["--no-upload"], &[("MAX_CONCURRENCY", "4")]);
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let scenario = emu.scenario();
    let counts = &out.summary["counts"];
    assert_eq!(counts["accounts_audited"], scenario["accounts"]);
    assert_eq!(counts["identity_stores"], scenario["stores"]);
    assert_eq!(counts["users"], scenario["users"]);
    assert_eq!(counts["applications"], scenario["applications"]);
    assert_eq!(counts["application_assignments"], scenario["assignments"]);
    let stats = emu.stats();
    let peak = stats["peak_in_flight"].as_u64().unwrap();
    let peak_accounts = stats["peak_accounts_in_flight"].as_u64().unwrap();
    println!("peak requests in flight {peak}, peak accounts in flight {peak_accounts}");
    assert!(peak <= 4, "more than MAX_CONCURRENCY requests at once: {peak}");
    assert!(peak > 1, "the run never overlapped calls: {peak}");
    assert!(peak_accounts <= 4 && peak_accounts > 1, "{peak_accounts}");
}
