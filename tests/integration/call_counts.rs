//! The benchmark's small version (issue 6): a 100-account organization, and the exact
//! number of AWS calls per operation (and per calling account and service) the audit may
//! make for it: the fewest the APIs allow, each store read once by its reader, no call
//! made twice. The expectations are derived from the generated scenario itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::emulator::{BUCKET, Emulator, root, run};

/// Page sizes the APIs allow at most (the emulator applies the same).
const ACCOUNTS_PAGE: usize = 20;
const INSTANCES_PAGE: usize = 10;
const IDENTITY_STORE_PAGE: usize = 100;
const APPLICATIONS_PAGE: usize = 50;
const ASSIGNMENTS_PAGE: usize = 100;
/// Five CSV reports, `changes`, the summary and its page, each written dated and then as `latest/`.
const ARTIFACTS: u64 = 8;
/// Page size of the permission-set and account-assignment listings (every sso-admin
/// `MaxResults` is at most 100).
const ACCESS_PAGE: usize = 100;

/// Calls to list `n` items at `size` a page: an empty listing is still one call.
fn pages(n: usize, size: usize) -> u64 {
    n.div_ceil(size).max(1) as u64
}

fn python() -> PathBuf {
    std::env::var_os("IDC_EMULATOR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv/emulator/bin/python"))
}

/// Writes a generated organization to `path` with the emulator's generator and reads it.
fn generate(path: &std::path::Path, args: &[&str]) -> Value {
    let status = Command::new(python())
        .arg(root().join("tests/emulator/generate.py"))
        .args(args)
        .arg("-o")
        .arg(path)
        .status()
        .expect("run the generator");
    assert!(status.success(), "the generator failed");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read scenario")).expect("scenario json")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("scenario field {key} missing in {v}"))
}

/// What the audit must call for a scenario: by operation, and by `account:service`.
struct Expected {
    by_operation: BTreeMap<String, u64>,
    by_account_service: BTreeMap<String, u64>,
    audited: usize,
    skipped: usize,
    failed: usize,
    stores: usize,
    users: usize,
    applications: usize,
}

fn expected_calls(spec: &Value) -> Expected {
    let mgmt = s(spec, "management_account");
    let role = s(spec, "role_name");
    let accounts = spec["accounts"].as_array().expect("accounts");
    let active: Vec<&Value> = accounts.iter().filter(|a| s(a, "state") == "ACTIVE").collect();
    let audited: BTreeSet<&str> = active
        .iter()
        .filter(|a| {
            let id = s(a, "id");
            id == mgmt || (a["has_role"].as_bool().unwrap_or(true) && a["role_name"].as_str().unwrap_or(role) == role)
        })
        .map(|a| s(a, "id"))
        .collect();

    // Reachable instances and who reads them: the function itself for the organization
    // instance, the owner (AssumeRole) for an account instance whose owner is audited.
    let mut reader: HashMap<&str, &str> = HashMap::new();
    for i in spec["instances"].as_array().expect("instances") {
        let owner = s(i, "owner");
        if owner == mgmt || audited.contains(owner) {
            reader.insert(s(i, "identity_store_id"), owner);
        }
    }
    let mut users: HashMap<&str, usize> = reader.keys().map(|k| (*k, 0)).collect();
    for u in spec["users"].as_array().expect("users") {
        if let Some(n) = users.get_mut(s(u, "store")) {
            *n += 1;
        }
    }
    let mut groups: HashMap<&str, usize> = reader.keys().map(|k| (*k, 0)).collect();
    let mut members: HashMap<(&str, &str), usize> = HashMap::new();
    for g in spec["groups"].as_array().expect("groups") {
        let store = s(g, "store");
        if let Some(n) = groups.get_mut(store) {
            *n += 1;
            members.insert((store, s(g, "name")), g["members"].as_array().map_or(0, Vec::len));
        }
    }
    let mut apps: HashMap<&str, usize> = reader.keys().map(|k| (*k, 0)).collect();
    let mut assignment_pages: HashMap<&str, u64> = reader.keys().map(|k| (*k, 0)).collect();
    let mut assigned_groups: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for app in spec["applications"].as_array().expect("applications") {
        let store = s(app, "instance");
        let Some(n) = apps.get_mut(store) else { continue };
        *n += 1;
        let assignments = app["assignments"].as_array().expect("assignments");
        *assignment_pages.get_mut(store).unwrap() += pages(assignments.len(), ASSIGNMENTS_PAGE);
        for a in assignments.iter().filter(|a| s(a, "principal_type") == "GROUP") {
            assigned_groups.entry(store).or_default().insert(s(a, "principal"));
        }
    }

    let mut by_operation: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_account_service: BTreeMap<String, u64> = BTreeMap::new();
    let mut add = |account: &str, service: &str, operation: &str, n: u64| {
        *by_operation.entry(format!("{service}:{operation}")).or_default() += n;
        *by_account_service.entry(format!("{account}:{service}")).or_default() += n;
    };
    add(mgmt, "sts", "GetCallerIdentity", 1);
    add(mgmt, "organizations", "DescribeOrganization", 1);
    add(
        mgmt,
        "organizations",
        "ListAccounts",
        pages(accounts.len(), ACCOUNTS_PAGE),
    );
    // AssumeRole into every active account but the function's own (failures included).
    let assume = active.iter().filter(|a| s(a, "id") != mgmt).count() as u64;
    add(mgmt, "sts", "AssumeRole", assume);
    // Each audited account sees the organization instance and at most its own.
    for account in &audited {
        add(account, "sso-admin", "ListInstances", pages(2, INSTANCES_PAGE));
    }
    for (store, account) in &reader {
        add(
            account,
            "identitystore",
            "ListUsers",
            pages(users[store], IDENTITY_STORE_PAGE),
        );
        add(
            account,
            "identitystore",
            "ListGroups",
            pages(groups[store], IDENTITY_STORE_PAGE),
        );
        add(
            account,
            "sso-admin",
            "ListApplications",
            pages(apps[store], APPLICATIONS_PAGE),
        );
        add(
            account,
            "sso-admin",
            "ListApplicationAssignments",
            assignment_pages[store],
        );
    }
    // The organization instance's permission sets and where they are provisioned: per
    // permission set (more accounts than permission sets), then each pair's
    // assignments, each named permission set described once, and the members of
    // the groups account assignments name (once, with those applications name).
    let permission_sets = spec["permission_sets"].as_array().map_or(0, Vec::len);
    add(
        mgmt,
        "sso-admin",
        "ListPermissionSets",
        pages(permission_sets, ACCESS_PAGE),
    );
    let mut pairs: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for p in spec["provisioned"].as_array().into_iter().flatten() {
        pairs.entry((s(p, "account"), s(p, "permission_set"))).or_default();
    }
    let org_store = spec["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| s(i, "owner") == mgmt)
        .map(|i| s(i, "identity_store_id"))
        .expect("an organization instance");
    for a in spec["account_assignments"].as_array().into_iter().flatten() {
        *pairs.entry((s(a, "account"), s(a, "permission_set"))).or_default() += 1;
        if s(a, "principal_type") == "GROUP" {
            assigned_groups.entry(org_store).or_default().insert(s(a, "principal"));
        }
    }
    assert!(
        accounts.len() >= permission_sets,
        "this test expects discovery per permission set"
    );
    let mut accounts_per_set: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, set) in pairs.keys() {
        *accounts_per_set.entry(set).or_default() += 1;
    }
    let described: BTreeSet<&str> = pairs
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|((_, set), _)| *set)
        .collect();
    for p in spec["permission_sets"].as_array().into_iter().flatten() {
        let n = accounts_per_set.get(s(p, "name")).copied().unwrap_or(0);
        add(
            mgmt,
            "sso-admin",
            "ListAccountsForProvisionedPermissionSet",
            pages(n, ACCESS_PAGE),
        );
    }
    add(mgmt, "sso-admin", "DescribePermissionSet", described.len() as u64);
    for n in pairs.values() {
        add(mgmt, "sso-admin", "ListAccountAssignments", pages(*n, ACCESS_PAGE));
    }
    for (store, account) in &reader {
        // Members only of the groups that assignments name, each group once.
        let memberships: u64 = assigned_groups
            .get(store)
            .into_iter()
            .flatten()
            .map(|g| pages(members[&(*store, *g)], IDENTITY_STORE_PAGE))
            .sum();
        add(account, "identitystore", "ListGroupMemberships", memberships);
    }
    add(mgmt, "s3", "PutObject", 2 * ARTIFACTS);
    // The previous run's summary, looked for once (the bucket is new: NoSuchKey).
    add(mgmt, "s3", "GetObject", 1);
    by_operation.retain(|_, n| *n > 0);
    by_account_service.retain(|_, n| *n > 0);

    Expected {
        by_operation,
        by_account_service,
        audited: audited.len(),
        skipped: accounts.len() - active.len(),
        failed: active.len() - audited.len(),
        stores: reader.len(),
        users: users.values().sum(),
        applications: apps.values().sum(),
    }
}

fn counts(stats: &Value, field: &str) -> BTreeMap<String, u64> {
    stats[field]
        .as_object()
        .unwrap_or_else(|| panic!("stats without {field}: {stats}"))
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
        .collect()
}

/// Lines `key: got (want)` for every key where two count maps differ.
fn differences(got: &BTreeMap<String, u64>, want: &BTreeMap<String, u64>) -> Vec<String> {
    let keys: BTreeSet<&String> = got.keys().chain(want.keys()).collect();
    keys.into_iter()
        .filter(|k| got.get(*k) != want.get(*k))
        .map(|k| {
            let g = got.get(k).copied().unwrap_or(0);
            let w = want.get(k).copied().unwrap_or(0);
            format!("{k}: made {g}, expected {w} ({:+})", g as i64 - w as i64)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_makes_exactly_the_calls_the_organization_needs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org-100.json");
    // 100 accounts (3 suspended, 2 without the member role), 10 account instances (one in
    // eu-west-1); more than one page of accounts, users, groups' members (150 a group),
    // applications (51 an instance: two pages of ListApplications) and groups assigned
    // to several applications (their members must still be listed once); 12 permission
    // sets provisioned in 300 pairs with account assignments (groups among them).
    let spec = generate(
        &path,
        &[
            "--accounts",
            "100",
            "--account-instances",
            "10",
            "--users",
            "3000",
            "--groups",
            "60",
            "--apps-per-instance",
            "51",
            "--members-per-group",
            "150",
            "--suspended",
            "3",
            "--without-role",
            "2",
            "--permission-sets",
            "12",
            "--pairs",
            "300",
            "--seed",
            "11",
        ],
    );
    let want = expected_calls(&spec);
    let emu = Emulator::start(path.to_str().unwrap());
    let loaded = emu.scenario();
    assert_eq!(loaded["accounts"], 100, "{loaded}");
    emu.create_bucket(BUCKET).await;
    emu.reset_stats();

    // Debug logs of the audit itself name every retry (a loaded machine can drop a
    // connection); a retried call is counted once more, nothing else may differ.
    let out = run(
        &emu,
        &[],
        &[
            ("reports_bucket", BUCKET),
            ("CurrentAccountId", "111122223333"),
            ("RUST_LOG", "info,idc_report=debug"),
        ],
    );
    assert!(out.status.success(), "run failed: {}", out.stderr);
    let c = &out.summary["counts"];
    // Two accounts without the member role: not complete, two failed reads.
    assert_eq!(out.summary["complete"], false);
    assert_eq!(c["read_failures"], 2);
    assert_eq!(c["accounts_audited"], want.audited as u64);
    assert_eq!(c["accounts_skipped"], want.skipped as u64);
    assert_eq!(c["accounts_failed"], want.failed as u64);
    assert_eq!(c["identity_stores"], want.stores as u64);
    assert_eq!(c["users"], want.users as u64);
    assert_eq!(c["applications"], want.applications as u64);

    let stats = emu.stats();
    let by_operation = counts(&stats, "by_operation");
    let total: u64 = want.by_operation.values().sum();
    println!("calls by operation: {by_operation:?} (expected {total} in all)");
    let retries = retries_by_operation(&out.stderr);
    if !retries.is_empty() {
        println!("retries the audit logged (each is one more call): {retries:?}");
    }
    let mut want_by_operation = want.by_operation.clone();
    for (operation, n) in &retries {
        *want_by_operation.entry(operation.clone()).or_default() += n;
    }
    // S3: each of the run's objects is one PutObject, or a multipart upload when it is
    // large (its parts depend on the report's size, not on the organization's calls).
    let s3 = |m: &mut BTreeMap<String, u64>, op: &str| m.remove(&format!("s3:{op}")).unwrap_or(0);
    let mut by_operation = by_operation;
    let (put, create, complete, parts) = (
        s3(&mut by_operation, "PutObject"),
        s3(&mut by_operation, "CreateMultipartUpload"),
        s3(&mut by_operation, "CompleteMultipartUpload"),
        s3(&mut by_operation, "UploadPart"),
    );
    assert_eq!(
        put + create,
        s3(&mut want_by_operation, "PutObject"),
        "one upload per object"
    );
    assert_eq!(create, complete, "every multipart upload completed");
    // What multipart uploads add to the calls of the management account.
    let s3_extra = parts + complete;
    let total = total + s3_extra;
    let mut want = want;
    *want.by_account_service.entry("111122223333:s3".to_owned()).or_default() += s3_extra;
    let diff = differences(&by_operation, &want_by_operation);
    assert!(
        diff.is_empty(),
        "the audit's calls differ from the fewest the APIs allow:\n  {}",
        diff.join("\n  ")
    );
    // Each store read once, by its reader; each account listed once, with its own key.
    let diff = if retries.is_empty() {
        differences(&counts(&stats, "by_account_service"), &want.by_account_service)
    } else {
        Vec::new()
    };
    assert!(
        diff.is_empty(),
        "calls per account and service differ:\n  {}",
        diff.join("\n  ")
    );
    let retried: u64 = retries.values().sum();
    assert_eq!(stats["requests_total"], total + retried);
    if retried > 0 {
        return;
    }
    // No retries: every call answered 200 but AssumeRole into the accounts without the
    // role, and the previous run's summary, not in the new bucket (NoSuchKey, 404).
    let statuses = counts(&stats, "by_status");
    let denied = want.failed as u64;
    let mut want_status = BTreeMap::from([("200".to_owned(), total - denied - 1), ("404".to_owned(), 1)]);
    if denied > 0 {
        want_status.insert("403".to_owned(), denied);
    }
    assert_eq!(statuses, want_status, "statuses");
}

/// Retries the audit logged at debug level, by `service:Operation`.
fn retries_by_operation(stderr: &str) -> BTreeMap<String, u64> {
    let field = |line: &str, name: &str| -> Option<String> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let end = line[start..].find('"')? + start;
        Some(line[start..end].to_owned())
    };
    let mut retries = BTreeMap::new();
    for line in stderr.lines().filter(|l| l.contains("retrying")) {
        if let (Some(service), Some(operation)) = (field(line, "service"), field(line, "operation")) {
            *retries.entry(format!("{service}:{operation}")).or_default() += 1;
        }
    }
    retries
}
