"""SQL over the history, offline: the template's Glue tables and Athena named queries, and a
DuckDB stand-in for Athena over a folder laid out like the reports bucket.

The translation layer is thin on purpose, and this is all of it:
  - each Glue table becomes a DuckDB view of the same name over
    `{root}/{prefix}/{report}/date=*/*.csv`, with the table's own columns (all VARCHAR, as
    OpenCSVSerde reads them), the header line skipped (skip.header.line.count=1), missing
    trailing cells read as NULL, the `date` folder renamed `run_date` (the partition key,
    projected from the same folders in Athena) and the file's path as `"$path"` (Athena's
    pseudo-column; only its file name, the run id, is used by the queries);
  - the session time zone is UTC, as Athena's;
  - the `?` execution parameters are bound by DuckDB's own placeholders.
The named queries' SQL runs as the template holds it, unchanged.

The bucket layout comes from the real binary: `audit_and_download` runs it against the
emulator with uploads on and copies the run's objects out of the emulator's S3.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import REPO

BINARY = REPO / "target" / "debug" / "idc-report"
EMULATOR = REPO / "tests" / "emulator" / "emulator.py"
EMULATOR_PYTHON = Path(os.environ.get("IDC_EMULATOR_PYTHON", REPO / ".venv" / "emulator" / "bin" / "python"))
SCENARIOS = REPO / "tests" / "emulator" / "scenarios"
MANAGEMENT = "111122223333"
BUCKET = "idc-reports-test"
PREFIX = "idc-reports"


# ---------------------------------------------------------------- the template


def glue_tables(template: dict) -> dict[str, dict]:
    """Glue table name -> its TableInput, for every AWS::Glue::Table of the template."""
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Glue::Table"
    }


def named_queries(template: dict) -> dict[str, dict]:
    """Logical id -> Properties of every AWS::Athena::NamedQuery of the template."""
    return {
        name: r["Properties"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Athena::NamedQuery"
    }


def columns(table_input: dict) -> list[str]:
    return [c["Name"] for c in table_input["StorageDescriptor"]["Columns"]]


# ---------------------------------------------------------------- DuckDB as Athena


def duckdb_over(root: Path, tables: dict[str, dict], prefix: str = PREFIX):
    """A DuckDB connection with one view per Glue table over `root/prefix/{table}/`."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables.items():
        cols = columns(table)
        assert [k["Name"] for k in table["PartitionKeys"]] == ["run_date"]
        folder = root / prefix / name
        if any(folder.glob("date=*/*.csv")):
            spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
            con.execute(
                f'CREATE VIEW {name} AS SELECT * EXCLUDE (filename, "date"), filename AS "$path", "date" AS run_date '
                f"FROM read_csv('{folder}/date=*/*.csv', columns = {spec}, header = false, skip = 1, "
                "delim = ',', quote = '\"', escape = '\"', null_padding = true, auto_detect = false, "
                "hive_partitioning = true, hive_types = {'date': 'VARCHAR'}, filename = true)"
            )
        else:  # no run wrote this report yet: an empty table, as Athena would show
            select = ", ".join(f'CAST(NULL AS VARCHAR) AS "{c}"' for c in cols + ["$path", "run_date"])
            con.execute(f"CREATE VIEW {name} AS SELECT {select} WHERE false")
    return con


def query(con, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


# ---------------------------------------------------------------- emulator and binary


@contextmanager
def emulator(scenario: str) -> Iterator[str]:
    """`emulator.py serve --scenario SCENARIO --port 0` on 127.0.0.1; yields the endpoint,
    stops the server by PID."""
    if not EMULATOR_PYTHON.exists():
        raise RuntimeError(f"{EMULATOR_PYTHON} is missing: run scripts/setup-emulator.sh")
    proc = subprocess.Popen([str(EMULATOR_PYTHON), str(EMULATOR), "serve", "--scenario", scenario, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        # The endpoint is the one line the server prints on stdout once ready.
        timer = threading.Timer(180, lambda: proc.poll() is None and os.kill(proc.pid, signal.SIGKILL))
        timer.start()
        endpoint = proc.stdout.readline().strip()
        timer.cancel()
        if not endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the emulator did not start for {scenario} (exit {proc.poll()})")
        yield endpoint
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()


def client(endpoint: str, service: str, key: str = "testing"):
    """A boto3 client of the emulator: "testing" is the management account; an access key
    `AKIAACCOUNT` + 12 digits is that account's own credentials."""
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key="testing", config=Config(s3={"addressing_style": "path"}))


def audit(endpoint: str, out_dir: Path | None = None, upload: bool = True) -> dict:
    """Runs the binary once against the emulator; returns its run summary."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/nonexistent/aws-config", AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        CurrentAccountId=MANAGEMENT, reports_bucket=BUCKET, REPORT_PREFIX=PREFIX, RUST_LOG="error",
    )
    args = [str(BINARY), "run"]
    if not upload:
        args.append("--no-upload")
    if out_dir is not None:
        args += ["--out-dir", str(out_dir)]
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"idc-report exited {proc.returncode}: {proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


DATED = re.compile(r"^(?P<prefix>.+)/(?P<report>[a-z_]+)/date=(?P<date>\d{4}-\d{2}-\d{2})/(?P<run>[^/]+)\.(?P<ext>csv|json|html)$")


def run_objects(summary: dict) -> list[re.Match]:
    """The dated objects the run wrote, parsed from the summary's report URLs."""
    found = []
    for url in summary["reports"].values():
        assert url.startswith(f"s3://{BUCKET}/"), url
        m = DATED.match(url[len(f"s3://{BUCKET}/"):])
        assert m, url
        found.append(m)
    return found


def download_run(endpoint: str, summary: dict, root: Path, date: str | None = None, run_id: str | None = None) -> None:
    """Copies the run's dated objects from the emulator's bucket into `root`, at the same
    keys, or under another date folder and run id (a run of another day)."""
    s3 = client(endpoint, "s3")
    for m in run_objects(summary):
        key = m.string
        dest = root / m["prefix"] / m["report"] / f"date={date or m['date']}" / f"{run_id or m['run']}.{m['ext']}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def scenario(name: str) -> dict:
    return json.loads((SCENARIOS / f"{name}.json").read_text())


if __name__ == "__main__":  # exploration: python athena.py SCENARIO DIR
    with emulator(sys.argv[1]) as ep:
        client(ep, "s3").create_bucket(Bucket=BUCKET)
        s = audit(ep, out_dir=Path(sys.argv[2]) / "out")
        download_run(ep, s, Path(sys.argv[2]))
        print(json.dumps(s["counts"]))
