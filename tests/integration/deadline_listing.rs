//! The deadline while the organization is still being listed: partial reports like any
//! other deadline, not a failed run; retries the deadline cut short say so.

use std::time::{Duration, SystemTime};

use serde_json::json;

use idc_report::config::{Config, RunMode};
use idc_report::handler::{App, handle};

use crate::emulator::{BUCKET, Emulator};

fn config() -> Config {
    let vars = [
        ("CurrentAccountId", "111122223333"),
        ("reports_bucket", BUCKET),
        ("DEADLINE_MARGIN_SECONDS", "5"),
    ];
    Config::from_lookup(
        |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()),
        RunMode::Lambda,
    )
    .expect("config")
}

async fn run_with_deadline(emu: &Emulator) -> (idc_report::report::RunSummary, SystemTime, SystemTime) {
    let app = App {
        clients: emu.clients().await,
        config: config(),
    };
    let started = SystemTime::now();
    let deadline = started + Duration::from_secs(10);
    let summary = handle(&app, &json!({}), Some(deadline))
        .await
        .expect("the run still succeeds");
    (summary, deadline, SystemTime::now())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_listing_stops_at_the_deadline_with_partial_reports() {
    // 150 accounts: 8 pages of ListAccounts, 2 s each; work stops 5 s in.
    let emu = Emulator::start("gen:accounts=150,account_instances=5,users=400,seed=11");
    emu.create_bucket(BUCKET).await;
    emu.set_faults(
        json!({"faults": [{"service": "organizations", "operation": "ListAccounts", "account": "*",
                                     "kind": "latency", "latency_ms": 2000, "probability": 1.0}]}),
    );
    let (summary, deadline, finished) = run_with_deadline(&emu).await;
    assert!(
        finished < deadline,
        "the handler must return before the Lambda deadline"
    );
    assert!(!summary.complete);
    assert!(summary.counts.accounts_audited > 0, "{:?}", summary.counts);
    assert!(summary.counts.accounts_total < 150, "{:?}", summary.counts);
    let row = summary
        .account_errors
        .iter()
        .find(|e| e.stage == "select" && e.error_code == "DEADLINE_REACHED")
        .expect("a row says the listing stopped");
    assert!(row.message.contains("listing stopped"), "{}", row.message);
    // The reports of what was listed are written.
    assert_eq!(emu.list_keys(BUCKET).await.len(), 16);
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_cut_short_by_the_deadline_is_deadline_reached_not_throttled() {
    let emu = Emulator::start("gen:accounts=150,account_instances=5,users=400,seed=11");
    emu.create_bucket(BUCKET).await;
    // Every page is throttled: retries go on until the deadline stops them.
    emu.set_faults(
        json!({"faults": [{"service": "organizations", "operation": "ListAccounts", "account": "*",
                                     "kind": "throttle", "probability": 1.0}]}),
    );
    let (summary, deadline, finished) = run_with_deadline(&emu).await;
    assert!(finished < deadline);
    assert!(!summary.complete);
    let codes: Vec<&str> = summary.account_errors.iter().map(|e| e.error_code).collect();
    assert!(!codes.contains(&"THROTTLED"), "{codes:?}");
    let row = summary
        .account_errors
        .iter()
        .find(|e| e.stage == "select" && e.error_code == "DEADLINE_REACHED")
        .expect("a row says the listing stopped");
    assert!(
        row.message.contains("retries stopped by the deadline"),
        "{}",
        row.message
    );
    assert_eq!(summary.counts.accounts_total, 0, "nothing was listed");
    assert_eq!(emu.list_keys(BUCKET).await.len(), 16, "the (empty) reports are written");
}
