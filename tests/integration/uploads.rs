//! Report uploads from the run's temporary folder: a report larger than one part goes up
//! in a multipart upload and reads back byte for byte, a part that fails for good aborts
//! the upload, and a bucket owned by another account is refused (ExpectedBucketOwner).

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use idc_report::collect::{Calls, Clients, RetryPolicy};
use idc_report::config::{Config, RunMode};
use idc_report::handler::{App, handle};
use idc_report::model::AccountId;
use idc_report::report;
use idc_report::sink::s3::{self as s3_sink, PART_SIZE};
use idc_report::sink::staging::{JSON_CONTENT_TYPE, Staging};
use idc_report::sink::{self, Artifact, Keys};

use crate::emulator::{BUCKET, Emulator, REGION};

/// The scenarios' management account: the emulator's default credentials act in it.
const MANAGEMENT: &str = "111122223333";

/// A CSV report of a little over two and a half parts, through the generic writer, with
/// cells to neutralise, quote and keep as they are.
fn big_report(staging: &Staging) -> Artifact {
    let target = 2 * PART_SIZE + PART_SIZE / 2;
    let row_bytes = 100;
    let rows = (0..target / row_bytes + 1).map(|n| {
        [
            format!("{n:012}"),
            match n % 4 {
                0 => format!("=cmd|'{n}'!A1"),
                1 => format!("name, \"quoted\" {n}"),
                2 => format!("Ωmega 名前 {n}\nsecond line"),
                _ => format!("user{n}@example.com"),
            },
            format!("arn:aws:sso::111122223333:application/ssoins-1/apl-{n:016x}"),
        ]
    });
    let artifact = staging
        .csv("big_report", |out| {
            report::write_csv("big_report", &["Id", "Name", "Arn"], rows, out)
        })
        .expect("stage the big report");
    assert!(artifact.len > 2 * PART_SIZE, "{} bytes", artifact.len);
    artifact
}

fn with_keys(artifacts: Vec<Artifact>) -> Vec<(Artifact, Keys)> {
    artifacts
        .into_iter()
        .map(|a| {
            let keys = sink::keys("idc-reports", a.name, a.extension, "2026-11-30", "run-1");
            (a, keys)
        })
        .collect()
}

fn count(stats: &Value, operation: &str) -> u64 {
    stats["by_operation"][format!("s3:{operation}")].as_u64().unwrap_or(0)
}

async fn open_uploads(clients: &Clients, bucket: &str) -> usize {
    let uploads = clients
        .s3()
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .expect("list multipart uploads");
    uploads.uploads().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_larger_than_a_part_goes_up_in_parts_and_reads_back_byte_identical() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let clients = emu.clients().await;
    let staging = Staging::new().unwrap();
    let big = big_report(&staging);
    let body = std::fs::read(&big.path).unwrap();
    let summary = staging
        .bytes("summary", "json", JSON_CONTENT_TYPE, b"{\"run_id\": \"run-1\"}")
        .unwrap();
    let artifacts = with_keys(vec![big, summary]);
    // Two transient failures of a part: the part is read again from the file and resent.
    emu.set_faults(json!({"faults": [{"service": "s3", "operation": "UploadPart", "account": "*", "kind": "http500", "probability": 1.0, "count": 2}]}));
    emu.reset_stats();
    let calls = Calls::new(RetryPolicy::uploads(), 0.0, None);
    s3_sink::write_all(
        &clients.s3(),
        &calls,
        &AccountId::from(MANAGEMENT),
        BUCKET,
        &artifacts,
        4,
    )
    .await
    .expect("upload");
    let stats = emu.stats();
    assert_eq!(stats["faults_injected"]["http500"], 2);
    // The report went up in three parts, twice (dated and latest/); the summary in one
    // PutObject, twice.
    assert_eq!(count(&stats, "CreateMultipartUpload"), 2);
    assert_eq!(count(&stats, "UploadPart"), 2 * 3 + 2);
    assert_eq!(count(&stats, "CompleteMultipartUpload"), 2);
    assert_eq!(count(&stats, "PutObject"), 2);
    assert_eq!(count(&stats, "AbortMultipartUpload"), 0);
    for key in [
        "idc-reports/big_report/date=2026-11-30/run-1.csv",
        "idc-reports/latest/big_report.csv",
    ] {
        let got = emu.get_object(BUCKET, key).await.expect(key);
        assert_eq!(got.len(), body.len(), "{key}");
        assert!(got == body, "{key} differs from the file");
    }
    assert_eq!(
        emu.get_object(BUCKET, "idc-reports/latest/summary.json").await.unwrap(),
        b"{\"run_id\": \"run-1\"}"
    );
    let head = clients
        .s3()
        .head_object()
        .bucket(BUCKET)
        .key("idc-reports/latest/big_report.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/csv; charset=utf-8"));
    assert_eq!(open_uploads(&clients, BUCKET).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_part_failing_for_good_aborts_the_upload_and_leaves_no_parts() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let clients = emu.clients().await;
    let staging = Staging::new().unwrap();
    let artifacts = with_keys(vec![big_report(&staging)]);
    emu.set_faults(json!({"faults": [{"service": "s3", "operation": "UploadPart", "account": "*", "kind": "http500", "probability": 1.0}]}));
    emu.reset_stats();
    let calls = Calls::new(RetryPolicy::uploads(), 0.0, None);
    let err = s3_sink::write_all(
        &clients.s3(),
        &calls,
        &AccountId::from(MANAGEMENT),
        BUCKET,
        &artifacts,
        4,
    )
    .await
    .expect_err("a part that always fails fails the upload");
    let message = err.to_string();
    println!("{message}");
    assert!(
        message.contains(&format!(
            "s3://{BUCKET}/idc-reports/big_report/date=2026-11-30/run-1.csv"
        )),
        "{message}"
    );
    assert!(message.contains("s3:UploadPart failed after 6 attempt(s)"), "{message}");
    let stats = emu.stats();
    assert_eq!(count(&stats, "CreateMultipartUpload"), 1);
    assert_eq!(count(&stats, "AbortMultipartUpload"), 1);
    assert_eq!(count(&stats, "CompleteMultipartUpload"), 0);
    assert_eq!(open_uploads(&clients, BUCKET).await, 0, "the upload was aborted");
    // The latest/ step never started.
    assert!(emu.list_keys(BUCKET).await.is_empty());
    // The staged file is still whole for a later attempt; the folder goes with `staging`.
    assert!(artifacts[0].0.path.exists());
    let folder = staging.path().to_owned();
    drop(staging);
    assert!(!folder.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_of_the_same_name_owned_by_another_account_gets_no_report() {
    let emu = Emulator::start("blog");
    // Someone else's bucket: created by a member account, under the configured name.
    let management = emu.clients().await;
    let assumed = management
        .sts()
        .assume_role()
        .role_arn("arn:aws:iam::111122224444:role/idc-lambda-service-role")
        .role_session_name("other-owner")
        .send()
        .await
        .expect("assume role");
    let c = assumed.credentials().expect("credentials");
    let other = Clients::for_endpoint(
        &emu.endpoint,
        REGION,
        aws_credential_types::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "other-owner",
        ),
    )
    .await
    .unwrap();
    other.s3().create_bucket().bucket(BUCKET).send().await.expect("bucket");

    let config = Config::from_lookup(
        |k| match k {
            "CurrentAccountId" => Some(MANAGEMENT.to_owned()),
            "reports_bucket" => Some(BUCKET.to_owned()),
            _ => None,
        },
        RunMode::Lambda,
    )
    .unwrap();
    let app = App {
        clients: management,
        config,
    };
    let deadline = Some(SystemTime::now() + Duration::from_secs(900));
    let err = handle(&app, &json!({}), deadline)
        .await
        .expect_err("another account's bucket is refused");
    let message = err.to_string();
    println!("{message}");
    assert_eq!(err.error_type(), "ReportUploadFailed");
    assert!(message.contains(&format!("s3://{BUCKET}/idc-reports/")), "{message}");
    assert!(message.contains("AccessDenied"), "{message}");
    assert!(
        message.contains(&format!("belongs to account {MANAGEMENT}")),
        "{message}"
    );
    let keys = other
        .s3()
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap()
        .contents()
        .len();
    assert_eq!(keys, 0, "nothing landed in the other account's bucket");
}
