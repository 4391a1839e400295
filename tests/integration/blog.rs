//! The blog's organization: the binary reproduces the blog's two tables and uploads
//! every report to S3, dated and as `latest/`.

use std::collections::BTreeSet;

use crate::emulator::{BUCKET, Csv, Emulator, expected, run};

#[tokio::test(flavor = "multi_thread")]
async fn blog_scenario_reproduces_the_blog_and_uploads_the_reports() {
    let emu = Emulator::start("blog");
    emu.create_bucket(BUCKET).await;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    let out = run(
        &emu,
        &["--out-dir", out_dir],
        &[("reports_bucket", BUCKET), ("CurrentAccountId", "111122223333")],
    );
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let summary = &out.summary;
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["counts"]["accounts_audited"], 4);
    assert_eq!(summary["counts"]["duplicated_users"], 3);
    assert_eq!(summary["account_errors"].as_array().unwrap().len(), 0);

    // The blog's instance table: every row of it is in ours.
    let instances = Csv::read(&dir.path().join("idc_instances.csv"));
    assert_eq!(
        instances.header,
        [
            "AccountId",
            "IdentityCenterInstance",
            "InstanceArn",
            "InstanceType",
            "OwnerAccountId",
            "Region",
            "InstanceName",
            "InstanceStatus",
            "AccountName"
        ]
    );
    let pairs: BTreeSet<(String, String, String)> = instances
        .rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[3].clone()))
        .collect();
    for (account, store) in [
        ("111122223333", "d-111122223333"),
        ("111122224444", "d-111122223333"),
        ("111122221111", "d-111111111111"),
    ] {
        assert!(
            pairs.iter().any(|(a, s, _)| a == account && s == store),
            "missing blog row {account},{store}"
        );
    }
    // And exactly what each account sees: the organization instance everywhere, plus
    // each member's own account instance.
    let want: BTreeSet<(String, String, String)> = [
        ("111122223333", "d-111122223333", "ORGANIZATION"),
        ("111122224444", "d-111122223333", "ORGANIZATION"),
        ("111122221111", "d-111122223333", "ORGANIZATION"),
        ("111122221111", "d-111111111111", "ACCOUNT"),
        ("111122225555", "d-111122223333", "ORGANIZATION"),
        ("111122225555", "d-222222222222", "ACCOUNT"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(pairs, want);

    // The blog's duplicated users, with the same sets of stores.
    let duplicates = Csv::read(&dir.path().join("duplicated_users.csv"));
    assert_eq!(&duplicates.header[..2], ["User_email", "IdentityStoreId"]);
    let got: Vec<(String, String)> = duplicates.rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(
        got,
        vec![
            (
                "username+adminuser@domain.com".to_owned(),
                "d-111111111111, d-111122223333".to_owned()
            ),
            (
                "username2+adminuser@domain.com".to_owned(),
                "d-111111111111, d-111122223333, d-222222222222".to_owned()
            ),
            (
                "username3+adminuser@domain.com".to_owned(),
                "d-111111111111, d-222222222222".to_owned()
            ),
        ]
    );
    let expected_dups = expected("blog")["duplicated_users"].clone();
    assert_eq!(expected_dups.as_object().unwrap().len(), 3);
    for row in &duplicates.rows {
        let stores: Vec<&str> = row[1].split(", ").collect();
        let want: Vec<&str> = expected_dups[&row[0]]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let (mut a, mut b) = (stores.clone(), want.clone());
        a.sort();
        b.sort();
        assert_eq!(a, b, "{}", row[0]);
    }

    // Assignments: a group assignment expands to its members, with types kept.
    let assignments = Csv::read(&dir.path().join("application_assignments.csv"));
    let salesforce: BTreeSet<(String, String, String)> = assignments
        .rows
        .iter()
        .filter(|r| r[assignments.col("ApplicationName")] == "Salesforce")
        .map(|r| {
            (
                r[assignments.col("PrincipalType")].clone(),
                r[assignments.col("PrincipalName")].clone(),
                r[assignments.col("UserName")].clone(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("USER", "maria.garcia", "maria.garcia"),
        ("GROUP", "admins", "username"),
        ("GROUP", "admins", "username2"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(salesforce, want);
    assert!(
        assignments.column("UserEmail").iter().all(|e| e.contains('@')),
        "every blog user has an email"
    );

    // S3: every report at its dated key with the same bytes as the local copy, and the
    // latest/ copies.
    let run_id = summary["run_id"].as_str().unwrap();
    let keys = emu.list_keys(BUCKET).await;
    for name in [
        "idc_instances",
        "duplicated_users",
        "application_assignments",
        "account_errors",
    ] {
        let url = summary["reports"][name].as_str().unwrap();
        let key = url.strip_prefix(&format!("s3://{BUCKET}/")).expect("s3 url");
        assert!(
            key.starts_with(&format!("idc-reports/{name}/date=")) && key.ends_with(&format!("/{run_id}.csv")),
            "{key}"
        );
        let local = std::fs::read(dir.path().join(format!("{name}.csv"))).unwrap();
        assert_eq!(
            emu.get_object(BUCKET, key).await.as_deref(),
            Some(local.as_slice()),
            "{key}"
        );
        let latest = format!("idc-reports/latest/{name}.csv");
        assert_eq!(
            emu.get_object(BUCKET, &latest).await.as_deref(),
            Some(local.as_slice()),
            "{latest}"
        );
    }
    assert!(
        keys.iter()
            .any(|k| k.starts_with("idc-reports/summary/date=") && k.ends_with(&format!("{run_id}.json")))
    );
    let latest_summary: serde_json::Value =
        serde_json::from_slice(&emu.get_object(BUCKET, "idc-reports/latest/summary.json").await.unwrap()).unwrap();
    assert_eq!(latest_summary["run_id"], run_id);
    // The page beside the summary, dated and latest, the same bytes as the local copy.
    let page = std::fs::read(dir.path().join("summary.html")).unwrap();
    let page_key = format!(
        "idc-reports/summary/date={}/{run_id}.html",
        &summary["started_at"].as_str().unwrap()[..10]
    );
    assert_eq!(summary["reports"]["summary_html"], format!("s3://{BUCKET}/{page_key}"));
    for key in [page_key.as_str(), "idc-reports/latest/summary.html"] {
        assert_eq!(
            emu.get_object(BUCKET, key).await.as_deref(),
            Some(page.as_slice()),
            "{key}"
        );
        let head = emu
            .clients()
            .await
            .s3()
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(head.content_type(), Some("text/html; charset=utf-8"), "{key}");
    }
    assert_eq!(keys.len(), 16, "{keys:?}");
}
