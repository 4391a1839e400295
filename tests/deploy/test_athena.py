"""SQL over the history: the template's Glue tables and Athena named queries.

- The Glue tables: one per report, each over its report's `date=` folders with partition
  projection, OpenCSVSerde, the header skipped; their columns are the CSV headers the real
  binary writes (it runs against the emulator's `blog` organization).
- The named queries: each runs, as the template holds it, with DuckDB over folders laid
  out like the bucket, made by the binary uploading to the emulator's S3 (`blog` twice, an
  account instance created in between; `messy` once, copied under earlier dates), and
  returns the rows the scenarios' `expected` blocks (or their definitions) say.
  tests/deploy/athena.py holds the thin DuckDB translation layer.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO, note

import athena
from athena import BUCKET, MANAGEMENT, PREFIX, columns, glue_tables, named_queries, query


REPORTS = ["idc_instances", "duplicated_users", "application_assignments", "account_assignments", "account_errors", "changes"]

# Columns that README.md's Reports table documents (and the Glue tables hold) but the binary
# of this commit does not write yet: the whole report (None) or trailing columns. Athena
# reads a missing trailing cell as NULL. The header test fails as soon as the binary writes
# them (remove the entry then), and on any other difference.
NOT_WRITTEN_YET: dict[str, list[str] | None] = {}

PROJECTION = {
    "projection.enabled": "true",
    "projection.run_date.type": "date",
    "projection.run_date.format": "yyyy-MM-dd",
    "projection.run_date.interval": "1",
    "projection.run_date.interval.unit": "DAYS",
    "skip.header.line.count": "1",
}
BUCKET_REF = {"Fn::If": ["CreateReportsBucket", {"Ref": "ReportsBucket"}, {"Ref": "ExistingReportsBucketName"}]}


# ---------------------------------------------------------------- the template


def test_athena_tables_parameter_and_condition(template):
    p = template["Parameters"]["AthenaTables"]
    assert p["Default"] == "true" and sorted(p["AllowedValues"]) == ["false", "true"]
    assert template["Conditions"]["CreateAthenaTables"] == {"Fn::Equals": [{"Ref": "AthenaTables"}, "true"]}
    kinds = {"AWS::Glue::Database", "AWS::Glue::Table", "AWS::Athena::NamedQuery"}
    new = {n: r for n, r in template["Resources"].items() if r["Type"] in kinds}
    assert len(new) == 1 + len(REPORTS) + 5
    assert all(r.get("Condition") == "CreateAthenaTables" for r in new.values())
    db = template["Resources"]["AthenaDatabase"]["Properties"]
    assert db["DatabaseInput"]["Name"] == {"Ref": "AthenaDatabaseName"}
    # Athena wants lower-case names without hyphens.
    assert re.fullmatch(template["Parameters"]["AthenaDatabaseName"]["AllowedPattern"],
                        template["Parameters"]["AthenaDatabaseName"]["Default"])
    out = template["Outputs"]["GlueDatabaseName"]
    assert out["Value"] == {"Ref": "AthenaDatabase"} and out["Condition"] == "CreateAthenaTables"


def test_one_table_per_report_over_its_date_folders(template):
    tables = glue_tables(template)
    assert sorted(tables) == sorted(REPORTS)
    for name, t in tables.items():
        assert t["TableType"] == "EXTERNAL_TABLE"
        params = t["Parameters"]
        for key, value in PROJECTION.items():
            assert params[key] == value, (name, key)
        start, end = params["projection.run_date.range"].split(",")
        assert dt.date.fromisoformat(start) and end == "NOW", name
        assert t["PartitionKeys"] == [{"Name": "run_date", "Type": "string", "Comment": t["PartitionKeys"][0]["Comment"]}]
        sd = t["StorageDescriptor"]
        assert sd["Location"] == {"Fn::Sub": [f"s3://${{Bucket}}/${{ReportPrefix}}/{name}/", {"Bucket": BUCKET_REF}]}
        # The projected partition is the date= folder under the table's location.
        assert params["storage.location.template"] == {
            "Fn::Sub": [f"s3://${{Bucket}}/${{ReportPrefix}}/{name}/date=${{!run_date}}/", {"Bucket": BUCKET_REF}]}
        serde = sd["SerdeInfo"]
        assert serde["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
        assert serde["Parameters"] == {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}
        assert sd["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
        # OpenCSVSerde reads strings: every column is one.
        assert {c["Type"] for c in sd["Columns"]} == {"string"}, name
        names = [c.lower() for c in columns(t)]
        assert len(set(names)) == len(names) and "run_date" not in names, name


def test_table_columns_are_the_readme_reports(template):
    readme = (REPO / "README.md").read_text()
    documented = dict(re.findall(r"^\| `([a-z_]+)` \| `([A-Za-z_,]+)` \|", readme, re.M))
    for name, t in glue_tables(template).items():
        if name in documented:
            assert ",".join(columns(t)) == documented[name], name
    assert set(documented) - {"changes"} <= set(glue_tables(template))


def test_named_queries(template):
    queries = named_queries(template)
    assert len(queries) == 5
    tables = set(glue_tables(template))
    for name, q in queries.items():
        assert q["Database"] == {"Ref": "AthenaDatabase"}, name
        assert q["Name"].startswith("idc-report - ") and len(q["Name"]) <= 128, name
        assert 0 < len(q["Description"]) <= 1024, name
        sql = q["QueryString"]
        # Only the report tables; `date` (reserved in Athena) is never a column.
        ctes = set(re.findall(r"\b([a-z_]+) AS \(", sql))
        used = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)\b", sql)) - ctes
        assert used and used <= tables, (name, used)
        assert not re.search(r"\bdate\s*[=<>]", sql), name
        # A parameter is announced where it is asked for; no "?" hides in a literal.
        marks = sql.count("?")
        assert ("parameter" in q["Description"].lower()) and (
            (marks == 0) == ("no parameter" in q["Description"].lower())), name
        assert all("?" not in lit for lit in re.findall(r"'[^']*'", sql)), name


# ---------------------------------------------------------------- the binary's headers


@pytest.fixture(scope="session")
def binary() -> Path:
    """target/debug/idc-report, built if missing or stale (`cargo build` is a no-op after the
    test command's `cargo test`)."""
    t0 = time.perf_counter()
    proc = subprocess.run(["cargo", "build", "--locked", "--bin", "idc-report"], cwd=REPO,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert athena.BINARY.exists()
    note(f"athena: cargo build of the binary took {time.perf_counter() - t0:.1f} s")
    return athena.BINARY


def header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def test_glue_columns_are_the_csv_headers_the_binary_writes(binary, template, tmp_path):
    with athena.emulator("blog") as endpoint:
        athena.audit(endpoint, out_dir=tmp_path, upload=False)
    written = {p.stem: header(p) for p in tmp_path.glob("*.csv")}
    tables = glue_tables(template)
    assert set(written) <= set(tables), f"reports without a Glue table: {sorted(set(written) - set(tables))}"
    for name, table in tables.items():
        glue = [c.lower() for c in columns(table)]  # Glue keeps names lower-cased
        pending = NOT_WRITTEN_YET.get(name, [])
        if name not in written:
            assert name in NOT_WRITTEN_YET and pending is None, f"the binary wrote no {name}.csv"
            continue
        got = [c.lower() for c in written[name]]
        assert pending is not None, f"the binary writes {name}.csv now: remove it from NOT_WRITTEN_YET"
        if got == glue:
            assert not pending, f"{name} has every column now: remove it from NOT_WRITTEN_YET"
        else:
            assert pending and got + [c.lower() for c in pending] == glue, (name, written[name], columns(table))


# ---------------------------------------------------------------- histories for the queries


def iso(day: dt.date) -> str:
    return day.isoformat()


@pytest.fixture(scope="session")
def histories(binary, tmp_path_factory) -> dict:
    """Folders laid out like the bucket, from real runs:

    blog: run 1 (moved to two days before today), then an account instance created in
      Workloads (111122224444), then run 2 (today);
    messy: one run (today), its objects also copied as runs of 6 days ago (inside the last
      7 days) and 7 days ago (outside).
    """
    t0 = time.perf_counter()
    today = dt.datetime.now(dt.timezone.utc).date()
    facts: dict = {"today": today}

    blog = tmp_path_factory.mktemp("blog-bucket")
    with athena.emulator("blog") as endpoint:
        athena.client(endpoint, "s3").create_bucket(Bucket=BUCKET)
        run1 = athena.audit(endpoint)
        athena.download_run(endpoint, run1, blog, date=iso(today - dt.timedelta(days=2)))
        sso = athena.client(endpoint, "sso-admin", key="AKIAACCOUNT111122224444")
        new = sso.create_instance(Name="workloads-own")["InstanceArn"]
        # Run ids start with the run's UTC second: the second run must start in a later one.
        time.sleep(1.05 - time.time() % 1)
        run2 = athena.audit(endpoint)
        assert run_id(run1) < run_id(run2)
        athena.download_run(endpoint, run2, blog)
    facts["blog"] = {"root": blog, "run1": run1, "run2": run2, "new_instance": new,
                     "run2_date": athena.run_objects(run2)[0]["date"]}

    messy = tmp_path_factory.mktemp("messy-bucket")
    with athena.emulator("messy") as endpoint:
        athena.client(endpoint, "s3").create_bucket(Bucket=BUCKET)
        run = athena.audit(endpoint)
        athena.download_run(endpoint, run, messy)
        for days in (6, 7):
            day = today - dt.timedelta(days=days)
            athena.download_run(endpoint, run, messy, date=iso(day), run_id=f"{day:%Y%m%d}T060000Z-0000000{days}")
    facts["messy"] = {"root": messy, "run": run, "run_date": athena.run_objects(run)[0]["date"]}
    note(f"athena: histories (3 runs of the binary against the emulator) built in {time.perf_counter() - t0:.1f} s")
    return facts


@pytest.fixture(scope="session")
def sql(template) -> dict[str, str]:
    return {name: q["QueryString"] for name, q in named_queries(template).items()}


@pytest.fixture(scope="session")
def blog_db(histories, template):
    return athena.duckdb_over(histories["blog"]["root"], glue_tables(template))


@pytest.fixture(scope="session")
def messy_db(histories, template):
    return athena.duckdb_over(histories["messy"]["root"], glue_tables(template))


def run_id(summary: dict) -> str:
    return athena.run_objects(summary)[0]["run"]


def test_layout_is_the_buckets(histories):
    """The folders hold what the binary uploaded, at the keys it chose."""
    root = histories["blog"]["root"]
    keys = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert len(keys) == 2 * len(histories["blog"]["run2"]["reports"])
    for key in keys:
        assert re.fullmatch(rf"{PREFIX}/[a-z_]+/date=\d{{4}}-\d{{2}}-\d{{2}}/\d{{8}}T\d{{6}}Z-[0-9a-f]{{8}}\.(csv|json|html)", key), key


# ---------------------------------------------------------------- the named queries


ACCESS_COLUMNS = ["AccountId", "AccountName", "PermissionSetName", "PrincipalType", "PrincipalName",
                  "UserName", "UserEmail", "UserStatus", "IdentityStoreId"]


def expected_account_rows(name: str, **match) -> list[dict]:
    exp = athena.scenario(name)["expected"]
    rows = [dict(zip(exp["account_assignment_columns"], r)) for r in exp["account_assignment_rows"]]
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


@pytest.mark.parametrize("scenario_name,account", [
    ("blog", "111122224444"), ("blog", "111122221111"), ("blog", MANAGEMENT),
    ("messy", MANAGEMENT), ("messy", "111100000001"), ("messy", "111100000007"), ("messy", "999999999999"),
])
def test_who_can_reach_account(scenario_name, account, sql, histories, blog_db, messy_db):
    db = blog_db if scenario_name == "blog" else messy_db
    got = query(db, sql["WhoCanReachAccountQuery"], [account])
    want = expected_account_rows(scenario_name, AccountId=account)
    key = lambda r: (r["PermissionSetName"], r["PrincipalType"], r["PrincipalName"], r["UserName"])
    assert [{c: r[c] or "" for c in ACCESS_COLUMNS} for r in got] == sorted(
        [{c: r[c] for c in ACCESS_COLUMNS} for r in want], key=key)
    latest = histories["blog"]["run2"] if scenario_name == "blog" else histories["messy"]["run"]
    assert {r["run_id"] for r in got} <= {run_id(latest)}  # the latest run only, never twice
    if scenario_name == "blog" and account != MANAGEMENT:
        assert got, "blog gives every member account some access"


def expected_application_access(name: str, email: str) -> set[tuple]:
    """(ApplicationName, PrincipalType, PrincipalName, IdentityStoreId, UserName) from the
    scenario's own definitions: applications, their assignments, groups, users."""
    s = athena.scenario(name)
    users = {(u["store"], u["user_name"]): u for u in s["users"]}
    groups = {(g["store"], g["name"]): g for g in s["groups"]}
    store_of = {i["identity_store_id"]: i for i in s["instances"]}
    want = set()
    for app in s["applications"]:
        store = app["instance"]
        assert store in store_of
        for a in app.get("assignments", []):
            if a["principal_type"] == "USER":
                members = [a["principal"]]
            else:
                members = groups[(store, a["principal"])].get("members", [])
            for m in members:
                emails = [e.strip().lower() for e in users[(store, m)].get("emails", [])]
                if email in emails:
                    want.add((app["name"], a["principal_type"], a["principal"], store, m))
    return want


@pytest.mark.parametrize("scenario_name,person,rows", [
    ("blog", "username2+adminuser@domain.com", 6), ("blog", "  Li.Wei@Domain.com ", 4),
    ("blog", "sam.okafor@domain.com", 1), ("blog", "nobody@domain.com", 0),
    ("messy", "shared.person@example.com", 0), ("messy", "User0031@corp.example.com", 12),
    # the second email of a user with two; a stored upper-case email; one stored with spaces
    ("messy", "two.alias@corp.example.com", 1), ("messy", "DUP.CASE@example.com", 1), ("messy", "spaced@example.com", 1),
])
def test_everything_person_can_reach(scenario_name, person, rows, sql, blog_db, messy_db):
    db = blog_db if scenario_name == "blog" else messy_db
    email = person.strip().lower()
    got = query(db, sql["PersonAccessQuery"], [person])
    accounts = [r for r in got if r["Access"] == "account"]
    apps = [r for r in got if r["Access"] == "application"]
    assert len(accounts) + len(apps) == len(got)
    want_accounts = [r for r in expected_account_rows(scenario_name)
                     if email in [e.strip().lower() for e in r["UserEmail"].split(", ")]]
    acc = lambda r, target: (r[target], r["PermissionSetName"], r["PrincipalType"], r["PrincipalName"], r["IdentityStoreId"], r["UserName"])
    assert sorted(acc(r, "Target") for r in accounts) == sorted(acc(r, "AccountId") for r in want_accounts)
    assert {(r["TargetName"], r["PrincipalType"], r["PrincipalName"], r["IdentityStoreId"], r["UserName"]) for r in apps} \
        == expected_application_access(scenario_name, email)
    assert len({tuple(r.values()) for r in apps}) == len(apps)  # the latest run only
    assert len(got) == rows  # the count, written out: the cases above cover people with and without access


def test_account_instances_created_since(sql, histories, blog_db):
    h = histories["blog"]
    today, run1_date = h["run2_date"], iso(histories["today"] - dt.timedelta(days=2))
    s = athena.scenario("blog")
    old = {f"arn:aws:sso:::instance/{i['instance_id']}": i for i in s["instances"] if i["owner"] != s["management_account"]}

    since_today = query(blog_db, sql["AccountInstancesSinceQuery"], [today])
    assert [(r["InstanceArn"], r["OwnerAccountId"], r["InstanceName"], r["FirstSeen"]) for r in since_today] == [
        (h["new_instance"], "111122224444", "workloads-own", today)]

    since_run1 = query(blog_db, sql["AccountInstancesSinceQuery"], [run1_date])
    assert {r["InstanceArn"] for r in since_run1} == set(old) | {h["new_instance"]}
    for r in since_run1:
        assert r["HistoryStarts"] == run1_date and r["LastSeen"] == today
        if r["InstanceArn"] in old:
            i = old[r["InstanceArn"]]
            assert (r["FirstSeen"], r["OwnerAccountId"], r["Region"], r["IdentityStoreId"]) == (
                run1_date, i["owner"], i["region"], i["identity_store_id"])
    # Ordered by first seen: the old ones first.
    assert since_run1[-1]["InstanceArn"] == h["new_instance"]

    tomorrow = iso(dt.date.fromisoformat(today) + dt.timedelta(days=1))
    assert query(blog_db, sql["AccountInstancesSinceQuery"], [tomorrow]) == []


@pytest.mark.parametrize("scenario_name", ["blog", "messy"])
def test_duplicated_people_per_store(scenario_name, sql, blog_db, messy_db):
    db = blog_db if scenario_name == "blog" else messy_db
    got = query(db, sql["DuplicatedPeoplePerStoreQuery"])
    per_store: dict[str, list[str]] = {}
    for email, stores in athena.scenario(scenario_name)["expected"]["duplicated_users"].items():
        for store in stores:
            per_store.setdefault(store, []).append(email)
    want = [(store, len(per_store[store]), email) for store in sorted(per_store) for email in sorted(per_store[store])]
    assert [(r["IdentityStoreId"], r["DuplicatedPeople"], r["User_email"]) for r in got] == want
    for r in got:
        assert r["IdentityStoreId"] in r["AllStores"].split(", ") and int(r["StoreCount"]) == len(r["AllStores"].split(", "))


def test_failed_accounts_in_the_last_7_days(sql, histories, messy_db, blog_db):
    h = histories["messy"]
    got = query(messy_db, sql["FailedAccountsQuery"])
    failed = athena.scenario("messy")["expected"]["failed_accounts"]
    six_days_ago = iso(histories["today"] - dt.timedelta(days=6))
    # Two runs inside the window (today's and the copy of 6 days ago), the copy of 7 days
    # ago outside; the skipped accounts (suspended, closed) are not failures.
    assert [(r["AccountId"], r["Stage"], r["ErrorCode"], r["FailedRuns"], r["FirstFailed"], r["LastFailed"]) for r in got] == [
        (a, "assume_role", "ASSUME_ROLE_DENIED", 2, six_days_ago, h["run_date"]) for a in sorted(failed)]
    for r in got:
        assert f"arn:aws:iam::{r['AccountId']}:role/" in r["LastMessage"]
    assert query(blog_db, sql["FailedAccountsQuery"]) == []


def test_every_named_query_is_tested(sql):
    tested = {"WhoCanReachAccountQuery", "PersonAccessQuery", "AccountInstancesSinceQuery",
              "DuplicatedPeoplePerStoreQuery", "FailedAccountsQuery"}
    assert set(sql) == tested


# ---------------------------------------------------------------- README


def test_readme_shows_each_named_query(sql):
    readme = (REPO / "README.md").read_text()
    section = readme.split("## SQL over the history (Athena)", 1)
    assert len(section) == 2, "README.md lacks the section 'SQL over the history (Athena)'"
    body = section[1].split("\n## ", 1)[0]
    shown = [block.strip() for block in re.findall(r"```sql\n(.*?)```", body, re.S)]
    for name, text in sql.items():
        assert text.strip() in shown, f"README.md does not show {name}'s SQL as the template holds it"
    params = readme.split("### Parameters", 1)[1]
    assert "| `AthenaTables` | `true` |" in params
