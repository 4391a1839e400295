//! Every file in events/ fed to the handler (in-process) against the emulator, with
//! the result events/README.md documents.

use serde_json::Value;

use idc_report::config::{Config, RunMode};
use idc_report::handler::{Answer, App, handle, invoke};

use crate::emulator::{BUCKET, Emulator, root};

fn config() -> Config {
    let vars = [("CurrentAccountId", "111122223333"), ("reports_bucket", BUCKET)];
    Config::from_lookup(
        |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()),
        RunMode::Lambda,
    )
    .expect("config")
}

fn event(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("events").join(name)).expect("event file");
    serde_json::from_str(&text).expect("event json")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_file_gives_its_documented_result() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let app = App {
        clients: emu.clients().await,
        config: config(),
    };
    let deadline = Some(std::time::SystemTime::now() + std::time::Duration::from_secs(900));

    let mut files: Vec<String> = std::fs::read_dir(root().join("events"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "console-test.json",
            "continue-run.json",
            "override.json",
            "scheduled-event.json",
            "scheduler-input.json"
        ]
    );

    for name in ["console-test.json", "scheduler-input.json", "scheduled-event.json"] {
        let before = emu.list_keys(BUCKET).await.len();
        let summary = handle(&app, &event(name), deadline)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(summary.complete, "{name}");
        assert!(!summary.dry_run, "{name}");
        assert_eq!(summary.counts.accounts_audited, 4, "{name}");
        assert!(summary.account_errors.is_empty(), "{name}");
        assert_eq!(summary.reports.len(), 8, "{name}");
        // The first run is a baseline; the next ones compare with the run before.
        assert_eq!(summary.baseline, before == 0, "{name}");
        assert!(
            summary
                .reports
                .values()
                .all(|u| u.starts_with(&format!("s3://{BUCKET}/idc-reports/"))),
            "{name}"
        );
        let after = emu.list_keys(BUCKET).await.len();
        // Eight dated objects (five reports, changes, summary.json, summary.html) are
        // new; the eight latest/ copies exist after the first run.
        assert_eq!(after - before, if before == 0 { 16 } else { 8 }, "{name}");
    }

    let before = emu.list_keys(BUCKET).await;
    let summary = handle(&app, &event("override.json"), deadline).await.expect("override");
    assert!(summary.dry_run);
    assert!(summary.reports.is_empty());
    assert_eq!(summary.counts.accounts_audited, 2);
    assert_eq!(summary.counts.accounts_total, 2);
    assert_eq!(emu.list_keys(BUCKET).await, before, "a dry run writes nothing");

    // The state machine's event: one invocation of a resumable run, done at once here;
    // invoked again, the same answer from done.json.
    let answer = invoke(&app, &event("continue-run.json"), deadline)
        .await
        .expect("continue-run");
    let Answer::Continued(first) = answer else {
        panic!("not a continued run's answer: {answer:?}");
    };
    assert!(first.done);
    assert_eq!(first.invocation, 1);
    let summary = first.summary.as_ref().expect("the summary");
    assert_eq!(summary["counts"]["accounts_audited"], 4);
    assert_eq!(summary["complete"], true);
    let Answer::Continued(again) = invoke(&app, &event("continue-run.json"), deadline)
        .await
        .expect("again")
    else {
        panic!("not a continued run's answer");
    };
    assert!(
        first.ended.is_some(),
        "the invocation that ended the run has its summary: {first:?}"
    );
    assert!(
        again.ended.is_none(),
        "metrics once, by the invocation that ended the run"
    );
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&first).unwrap()
    );
    let keys = emu.list_keys(BUCKET).await;
    assert!(
        keys.contains(&"idc-reports/checkpoints/console-3f2c9d1e-8a4b-4c1e-9e3a-2b7d5c6f8a90/done.json".to_owned()),
        "{keys:?}"
    );
    let before = emu.list_keys(BUCKET).await;

    // A malformed event fails with the field named and writes nothing.
    let bad = serde_json::json!({"accounts": ["1234"]});
    let err = handle(&app, &bad, deadline).await.unwrap_err();
    assert!(err.to_string().contains("accounts"), "{err}");
    assert_eq!(emu.list_keys(BUCKET).await, before);
}
