"""The scale benchmark of idc-report (issue 6). Run it through `scripts/bench`.

For each scenario it loads a generated organization into the local emulator, measures
what the emulator can serve to a trivial client, runs the release binary against it with
injected latency at MAX_CONCURRENCY=16 (the default) and 1, and prints per run the
organization's size, the AWS calls by operation (the emulator's counts), wall time,
calls/s, peak concurrency, peak RSS of the audit process, the speedup and the wall time
against a lower bound. Scenario (d) instead has the emulator enforce 20 requests/s per
(calling account, service) on Identity Center and Identity Store and compares the wall time
with the floor that rate sets; (e) writes 5 million account_assignments rows and reports
the peak RSS. It also prints the release binary's size and the start-up time to the first
Lambda event. Every figure is printed with its target and PASS/FAIL.

Processes this script starts are stopped by their PID; servers bind 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import math
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR_DIR = os.path.join(ROOT, "tests", "emulator")
sys.path.insert(0, EMULATOR_DIR)

from generate import generate  # noqa: E402  (the emulator's generator, same code `gen:` runs)
from lambda_runtime import RuntimeAPI  # noqa: E402  (the fake Lambda runtime API, shared with tests/workflow)
from emulator_process import EmulatorProcess  # noqa: E402  (the emulator as a child process)

PYTHON = sys.executable
BINARY = os.path.join(ROOT, "target", "release", "idc-report")
LAMBDA_ARTEFACT = os.path.join(ROOT, "target", "lambda", "idc-report", "bootstrap")
DEPLOY_VENV_BIN = os.path.join(ROOT, ".venv", "deploy", "bin")
BUCKET = "idc-bench-reports"
MGMT_KEY = "testing"

# Page sizes the APIs allow at most (and the emulator applies).
PAGE = {"ListAccounts": 20, "ListInstances": 10, "ListUsers": 100, "ListGroups": 100,
        "ListGroupMemberships": 100, "ListApplications": 50, "ListApplicationAssignments": 100,
        "ListPermissionSets": 100, "ListAccountsForProvisionedPermissionSet": 100,
        "ListPermissionSetsProvisionedToAccount": 100, "ListAccountAssignments": 100}
# S3: the objects a run wrote are listed under the run's own REPORT_PREFIX afterwards; the
# fewest calls are one PutObject each (S3 takes up to 5 GB in one), a streaming upload
# spends more (CreateMultipartUpload, its parts, CompleteMultipartUpload) to hold less.
S3_WRITES = ("s3:PutObject", "s3:CompleteMultipartUpload")
# The services whose calls the audit paces (API_RATE_LIMIT, per calling account and service).
RATE_LIMITED = ("sso-admin", "identitystore")
# What the emulator enforces in the rate-limited scenario: AWS documents about 20/s for
# Identity Center's APIs and 20/s per API per identity store for Identity Store; the
# emulator's bucket is per (calling account, service), a little stricter for identitystore.
EMULATOR_RATE_LIMIT = {"rps": 20, "burst": 20, "services": list(RATE_LIMITED)}
AUDIT_RATE = 20.0             # the audit's API_RATE_LIMIT default

# kind: "latency" (wall time against the latency and chain bound, MAX_CONCURRENCY 16 and
# 1), "rate" (the emulator enforces the rate limit; wall time against the floor it sets),
# "memory" (no latency; the peak RSS of a run that writes millions of rows).
SCENARIOS: dict[str, dict[str, Any]] = {
    "a": {"title": "(a) 100 accounts", "kind": "latency",
          "gen": {"accounts": 100, "account_instances": 10, "users": 2000, "seed": 7}},
    "b": {"title": "(b) 1,000 accounts, 100 account instances, 20,000 users", "kind": "latency",
          "gen": {"accounts": 1000, "account_instances": 100, "users": 20000, "seed": 7}},
    "c": {"title": "(c) 5,000 accounts, 500 account instances, 100,000 users in total", "kind": "latency",
          "gen": {"accounts": 5000, "account_instances": 500, "users": 100000, "seed": 7}},
    "d": {"title": "(d) 1,000 accounts, 100 permission sets, 5,000 provisioned pairs, 20,000 users, "
                   "20 requests/s enforced", "kind": "rate",
          "gen": {"accounts": 1000, "account_instances": 100, "users": 20000, "seed": 7,
                  "permission_sets": 100, "pairs": 5000}},
    # No account instance, so all 50,000 users sit in the organization store (with account
    # instances the generator puts half the users in them: 100,000 users would be needed).
    "e": {"title": "(e) 5 million account_assignments rows: all-staff (50,000 users) on 20 accounts "
                   "under 5 permission sets", "kind": "memory",
          "gen": {"accounts": 20, "account_instances": 0, "users": 50000, "seed": 7, "permission_sets": 5,
                  "big_group": 50000, "big_group_accounts": 20, "big_group_permission_sets": 5}},
    # Issue 14: (d)'s organization audited across invocations of a shortened deadline, and
    # (c)'s size for the memory of an invocation that loads and saves a checkpoint.
    "f": {"title": "(f) (d) resumed: its audit in at least 5 invocations of a shortened deadline, against its "
                   "one-shot run", "kind": "resume", "invocations": 6,
          "gen": {"accounts": 1000, "account_instances": 100, "users": 20000, "seed": 7,
                  "permission_sets": 100, "pairs": 5000}},
    # (g) measures memory: the audit's own pace is raised (API_RATE_LIMIT 1000, no emulator
    # limit), or the organization store's 500 ListUsers pages at 20/s (25 s) would be the
    # whole run and no shorter invocation could end them (NoProgress).
    "g": {"title": "(g) 5,000 accounts, 100,000 users, resumed: peak memory of an invocation, checkpoint included",
          "kind": "resume-memory", "invocations": 5, "env": {"API_RATE_LIMIT": "1000"},
          "gen": {"accounts": 5000, "account_instances": 500, "users": 100000, "seed": 7}},
}
DEFAULT_SCENARIOS = "a,b,c"   # d (about 5 min) and e (about 2 min): --scenarios a,b,c,d,e

TARGET_BOUND_RATIO = 1.3      # (b): wall time within 1.3x of the lower bound
TARGET_SPEEDUP = 15.0         # (b): at least 15x faster than MAX_CONCURRENCY=1
TARGET_WALL_C = 300.0         # (c): under 300 s
TARGET_RSS_MB = 128.0         # (c): under 128 MB (the Lambda default); shown for every run
TARGET_FLOOR_RATIO = 1.15     # (d): wall time within 1.15x of the rate limit's floor
TARGET_RSS_ROWS_MB = 256.0    # (e): 5 million account_assignments rows under 256 MB
TARGET_INVOCATIONS = 5        # (f): the resumed run takes at least this many invocations
TARGET_RSS_RESUMED_MB = 256.0 # (f), (g): peak RSS of every invocation, checkpoint included
RESUME_MARGIN_S = 5           # (f), (g): DEADLINE_MARGIN_SECONDS of the resumed invocations
TARGET_BINARY_MB = 15.0       # arm64 release binary
TARGET_STARTUP_MS = 50.0      # start-up to ready for the first event


def say(text: str = "") -> None:
    print(text, flush=True)


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("PASS" if ok else "FAIL")


def pages(n: int, size: int) -> int:
    """Calls to list n items at `size` a page: an empty listing is still one call."""
    return max(1, math.ceil(n / size))


def fmt_s(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds:.0f} s ({seconds / 60:.1f} min)"
    return f"{seconds:.2f} s"


# ----------------------------------------------------------------------------------------
# What a scenario needs: the fewest calls the APIs allow, and the longest dependent chain.
# ----------------------------------------------------------------------------------------

def analyse(spec: dict[str, Any], upload: bool = True) -> dict[str, Any]:
    mgmt = spec["management_account"]
    role = spec["role_name"]
    accounts = spec["accounts"]
    active = [a for a in accounts if a["state"] == "ACTIVE"]
    audited = [a["id"] for a in active
               if a["id"] == mgmt or (a.get("has_role", True) and a.get("role_name", role) == role)]
    audited_set = set(audited)
    page_of = {a["id"]: i // PAGE["ListAccounts"] + 1 for i, a in enumerate(accounts)}
    account_pages = pages(len(accounts), PAGE["ListAccounts"])

    # Stores the audit can reach: the organization's, and account instances whose owner
    # is audited (only the owner sees an account instance).
    instances = [i for i in spec["instances"] if i["owner"] == mgmt or i["owner"] in audited_set]
    reachable = {i["identity_store_id"] for i in instances}
    users: dict[str, int] = {s: 0 for s in reachable}
    for u in spec["users"]:
        if u["store"] in reachable:
            users[u["store"]] += 1
    groups: dict[str, int] = {s: 0 for s in reachable}
    members: dict[tuple[str, str], int] = {}
    for g in spec["groups"]:
        if g["store"] in reachable:
            groups[g["store"]] += 1
            members[(g["store"], g["name"])] = len(g["members"])
    apps: dict[str, int] = {s: 0 for s in reachable}
    assignment_pages = 0
    assigned_groups: dict[str, set[str]] = {s: set() for s in reachable}
    max_assignment_pages: dict[str, int] = {s: 0 for s in reachable}
    assignments = 0
    for app in spec["applications"]:
        s = app["instance"]
        if s not in reachable:
            continue
        apps[s] += 1
        n = len(app["assignments"])
        assignments += n
        p = pages(n, PAGE["ListApplicationAssignments"])
        assignment_pages += p
        max_assignment_pages[s] = max(max_assignment_pages[s], p)
        for a in app["assignments"]:
            if a["principal_type"] == "GROUP":
                assigned_groups[s].add(a["principal"])
    membership_pages = {s: [pages(members[(s, g)], PAGE["ListGroupMemberships"]) for g in gs]
                        for s, gs in assigned_groups.items()}
    assignment_pages_of: dict[str, int] = {s: 0 for s in reachable}
    for app in spec["applications"]:
        if app["instance"] in reachable:
            assignment_pages_of[app["instance"]] += pages(len(app["assignments"]), PAGE["ListApplicationAssignments"])

    # Access: permission sets, provisioned pairs and account assignments, read with the
    # management account's own credentials from the organization instance. Every account
    # of these scenarios is in scope (listed, active, with the role).
    org = next(i["identity_store_id"] for i in instances if i["owner"] == mgmt)
    ps_names = [ps["name"] for ps in spec.get("permission_sets", [])]
    pair_assignments: dict[tuple[str, str], int] = {}
    for entry in spec.get("provisioned", []):
        pair_assignments.setdefault((str(entry["account"]), entry["permission_set"]), 0)
    account_groups: set[str] = set()
    rows = 0
    for asg in spec.get("account_assignments", []):
        pair = (str(asg["account"]), asg["permission_set"])
        pair_assignments[pair] = pair_assignments.get(pair, 0) + 1
        if asg["principal_type"] == "GROUP":
            account_groups.add(asg["principal"])
            rows += max(1, members[(org, asg["principal"])])  # an empty group is one row
        else:
            rows += 1
    per_account = len(accounts) < len(ps_names)  # the audit's choice (src/collect/state.rs plan_pairs)
    if per_account:
        n_of = {a["id"]: 0 for a in accounts}
        for acct, _ in pair_assignments:
            n_of[acct] += 1
        discovery_op = "sso-admin:ListPermissionSetsProvisionedToAccount"
    else:
        n_of = {ps: 0 for ps in ps_names}
        for _, ps in pair_assignments:
            n_of[ps] += 1
        discovery_op = "sso-admin:ListAccountsForProvisionedPermissionSet"
    discovery_calls = sum(pages(n, 100) for n in n_of.values())
    described = len({ps for (_, ps), n in pair_assignments.items() if n > 0})
    access_calls = {
        "sso-admin:ListPermissionSets": pages(len(ps_names), PAGE["ListPermissionSets"]),
        "sso-admin:DescribePermissionSet": described,
        discovery_op: discovery_calls,
        "sso-admin:ListAccountAssignments": sum(pages(n, PAGE["ListAccountAssignments"])
                                                for n in pair_assignments.values()),
    }
    # Each group that an application or account assignment names is read once per run.
    read_groups = {st: set(gs) for st, gs in assigned_groups.items()}
    read_groups[org] |= account_groups
    all_membership_pages = {st: sum(pages(members[(st, g)], PAGE["ListGroupMemberships"]) for g in gs)
                            for st, gs in read_groups.items()}

    # Calls per rate-limited lane (calling account, service): the management account reads
    # the organization store and every access call; an account instance's owner its store.
    def lane_calls(st: str) -> tuple[int, int]:
        sso = 1 + pages(apps[st], PAGE["ListApplications"]) + assignment_pages_of[st]
        ids = pages(users[st], PAGE["ListUsers"]) + pages(groups[st], PAGE["ListGroups"]) + all_membership_pages[st]
        return sso, ids

    mgmt_sso, mgmt_ids = lane_calls(org)
    mgmt_sso += sum(access_calls.values())
    member_lanes = [max(lane_calls(i["identity_store_id"])) for i in instances if i["owner"] != mgmt]

    calls = {
        "sts:GetCallerIdentity": 1,
        "organizations:DescribeOrganization": 1,
        "organizations:ListAccounts": account_pages,
        "sts:AssumeRole": sum(1 for a in active if a["id"] != mgmt),
        # Each audited account sees the organization instance and at most its own.
        "sso-admin:ListInstances": len(audited) * pages(2, PAGE["ListInstances"]),
        "identitystore:ListUsers": sum(pages(n, PAGE["ListUsers"]) for n in users.values()),
        "identitystore:ListGroups": sum(pages(n, PAGE["ListGroups"]) for n in groups.values()),
        "sso-admin:ListApplications": sum(pages(n, PAGE["ListApplications"]) for n in apps.values()),
        "sso-admin:ListApplicationAssignments": assignment_pages,
        "identitystore:ListGroupMemberships": sum(all_membership_pages.values()),
    }
    calls.update({op: n for op, n in access_calls.items() if n or op == "sso-admin:ListPermissionSets"})

    # The longest chain of calls that must wait for one another (data dependencies only):
    # - a store's work: its ListUsers pages, its ListGroups pages, and its applications
    #   (ListApplications pages, then an application's assignment pages, then an assigned
    #   group's membership pages) run side by side; the longest of the three counts;
    # - the organization store: ListInstances with the function's own credentials, then
    #   its work (nothing else is needed to find it);
    # - an account store: the ListAccounts pages up to its owner's page, AssumeRole,
    #   ListInstances, then its work;
    # - every account: all ListAccounts pages, AssumeRole, ListInstances;
    # - then the reports: the dated objects (side by side), then the latest/ copies.
    def work(s: str) -> int:
        app_chain = pages(apps[s], PAGE["ListApplications"]) + max_assignment_pages[s] + \
            max(membership_pages[s], default=0)
        return max(pages(users[s], PAGE["ListUsers"]), pages(groups[s], PAGE["ListGroups"]), app_chain)

    candidates = []
    for inst in instances:
        s = inst["identity_store_id"]
        if inst["owner"] == mgmt:
            candidates.append((1 + work(s), f"ListInstances (own credentials) + {work(s)} calls of "
                               f"organization store {s} ({users[s]} users = {pages(users[s], 100)} ListUsers pages)"))
        else:
            k = page_of[inst["owner"]]
            candidates.append((k + 2 + work(s), f"{k} ListAccounts pages + AssumeRole + ListInstances + "
                               f"{work(s)} calls of account store {s}"))
    last_member_page = max((page_of[a] for a in audited if a != mgmt), default=0)
    if last_member_page:
        candidates.append((last_member_page + 2, f"{last_member_page} ListAccounts pages + AssumeRole + "
                           "ListInstances of an account on the last page"))
    longest, why = max(candidates)
    writes = 2 if upload else 0
    chain = longest + writes
    chain_text = f"{why}" + (" + 2 S3 writes (dated reports side by side, then latest/ copies)" if upload else "")

    # The same path as this implementation orders it (informational; src/collect and
    # src/sink at the time of writing): GetCallerIdentity; the ListAccounts pages up to
    # the one that holds the management account (DescribeOrganization goes alongside the
    # first); its ListInstances; the organization store's longest chain (its users, its
    # groups and its applications are separate units); then three S3 steps (the dated
    # objects side by side, the latest/ reports side by side, the latest/ summary).
    implementation_chain = 1 + page_of[mgmt] + 1 + work(org) + (3 if upload else 0)

    return {
        "accounts": len(accounts), "audited": len(audited), "active": len(active),
        "instances": len(instances), "stores": len(reachable),
        "users": sum(users.values()), "groups": sum(groups.values()),
        "memberships": sum(members.values()), "applications": sum(apps.values()),
        "assignments": assignments, "largest_store_users": max(users.values()),
        "calls": calls, "total_calls": sum(calls.values()),  # reads; S3 writes are counted per run
        "chain": chain, "chain_text": chain_text, "implementation_chain": implementation_chain,
        "management": mgmt, "permission_sets": len(ps_names), "pairs": len(pair_assignments),
        "account_assignments": len(spec.get("account_assignments", [])), "rows": rows,
        "described": described, "discovery": "per account" if per_account else "per permission set",
        "discovery_op": discovery_op, "account_groups": len(account_groups),
        "groups_read": sum(len(v) for v in read_groups.values()),
        "mgmt_sso_calls": mgmt_sso, "mgmt_identitystore_calls": mgmt_ids,
        "member_lane_calls": max(member_lanes, default=0),
    }


# ----------------------------------------------------------------------------------------
# Processes: the emulator, the audit, the fake Lambda runtime API.
# ----------------------------------------------------------------------------------------

class Emulator(EmulatorProcess):
    def __init__(self, scenario: str, log_path: str):
        super().__init__(PYTHON, scenario, log_path)

    def latency(self, ms: float, rate_limit: dict[str, Any] | None = None) -> None:
        """Injects `ms` of latency into every call; with `rate_limit`, also enforces it."""
        faults = [] if ms <= 0 else [{"service": "*", "operation": "*", "account": "*", "kind": "latency",
                                      "latency_ms": ms, "probability": 1.0}]
        self.admin("faults", {"faults": faults, "rate_limit": rate_limit})


def base_env(endpoint: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("CurrentAccountId", "reports_bucket", "REGIONS",
                                                     "MAX_CONCURRENCY", "API_RATE_LIMIT", "REPORT_PREFIX",
                                                     "CrossAccountRoleName", "RUST_LOG")}
    env.update({"AWS_ACCESS_KEY_ID": MGMT_KEY, "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                "AWS_EC2_METADATA_DISABLED": "true",
                # info, and each retry (a debug line of the call policy) to count them by cause
                "RUST_LOG": "info,idc_report::collect::call=debug"})
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def retries(stderr_path: str) -> dict[str, Any]:
    """The retries the audit counted (its `reports built` log line) and, from its
    `retrying` debug lines, by operation and error code."""
    found: dict[str, Any] = {"total": None, "by": {}}
    with open(stderr_path, errors="replace") as fh:
        for line in fh:
            m = re.search(r"\bretries[=\"\s:]+(\d+)", line)
            if m and "reports built" in line:
                found["total"] = int(m.group(1))
            if "retrying" in line:
                op = re.search(r"operation[=\"\s:]+\"?(\w+)", line)
                code = re.search(r"code[=\"\s:]+\"?(\w+)", line)
                key = f"{op.group(1) if op else '?'} {code.group(1) if code else '?'}"
                found["by"][key] = found["by"].get(key, 0) + 1
    return found


def phases(stderr_path: str) -> dict[str, float]:
    """Phase durations (s) from the audit's log lines (`phase=... duration_ms=...`)."""
    out: dict[str, float] = {}
    with open(stderr_path, errors="replace") as fh:
        for line in fh:
            m = re.search(r"phase[=\"\s:]+\"?(\w+)", line)
            d = re.search(r"duration_ms[=\"\s:]+(\d+)", line)
            if m and d:
                out[m.group(1)] = int(d.group(1)) / 1000
    return out


def run_audit(emu: Emulator, concurrency: int, work_dir: str, label: str,
              expected_calls: int, out_dir: str | None = None, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs `idc-report run` once (with `--out-dir` when given, besides the upload); wall
    time, peak RSS (wait4), exit status, summary."""
    env = base_env(emu.endpoint)
    prefix = f"bench/{label}"
    env.update({"MAX_CONCURRENCY": str(concurrency), "reports_bucket": BUCKET,
                "CurrentAccountId": "111122223333", "REPORT_PREFIX": prefix})
    env.update(extra_env or {})
    out_path = os.path.join(work_dir, f"{label}.stdout.json")
    err_path = os.path.join(work_dir, f"{label}.stderr.log")
    rss_path = os.path.join(work_dir, f"{label}.rusage")
    load = os.getloadavg()[0]
    emu_cpu0 = cpu_seconds(emu.proc.pid)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        # Through the small launcher: a Python parent's size would count in the child's peak RSS.
        command = [CLIENT_BIN, "rss", rss_path, BINARY, "run"] + (["--out-dir", out_dir] if out_dir else [])
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        next_note = t0 + 60
        while True:
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now >= next_note:
                done = emu.admin("stats")["requests_total"]
                rate = done / (now - t0)
                left = max(0, expected_calls - done) / rate if rate else float("nan")
                say(f"    ... {label}: {now - t0:.0f} s, {done}/{expected_calls} calls, about {left:.0f} s to go")
                next_note = now + 60
            time.sleep(0.02)
        wall = time.perf_counter() - t0
    emu_cpu = cpu_seconds(emu.proc.pid) - emu_cpu0
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(rss_path) as fh:
        code, maxrss_kb, user_s, system_s = fh.read().split()
    with open(out_path, "rb") as fh:
        try:
            summary = json.loads(fh.read() or b"null")
        except json.JSONDecodeError:
            summary = None
    stats = emu.admin("stats")  # before listing the objects (that listing is counted too)
    return {"concurrency": concurrency, "wall": wall, "exit": int(code),
            "rss_mb": int(maxrss_kb) / 1024.0, "summary": summary, "stderr": err_path,
            "cpu": float(user_s) + float(system_s), "emulator_cpu": emu_cpu, "load_before": load,
            "phases": phases(err_path), "retries": retries(err_path), "stats": stats,
            "objects": list_objects(emu, prefix + "/")}


def run_resumed(emu: Emulator, concurrency: int, work_dir: str, label: str, collect_s: float,
                max_invocations: int = 60, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs one resumable run (`continue_run`), an `idc-report run --event` process per
    invocation, each `collect_s` seconds of collection plus RESUME_MARGIN_S of margin before
    its deadline, until the run answers done; each invocation's wall time, peak RSS and
    answer."""
    env = base_env(emu.endpoint)
    prefix = f"bench/{label}"
    env.update({"MAX_CONCURRENCY": str(concurrency), "reports_bucket": BUCKET,
                "CurrentAccountId": "111122223333", "REPORT_PREFIX": prefix,
                "DEADLINE_MARGIN_SECONDS": str(RESUME_MARGIN_S)})
    env.update(extra_env or {})
    event_path = os.path.join(work_dir, f"{label}.event.json")
    with open(event_path, "w") as fh:
        json.dump({"continue_run": {"name": label, "started_at": dt.datetime.now(dt.timezone.utc).isoformat()}}, fh)
    deadline_s = collect_s + RESUME_MARGIN_S
    invocations = []
    t0 = time.perf_counter()
    for n in range(1, max_invocations + 1):
        out_path = os.path.join(work_dir, f"{label}-{n}.stdout.json")
        err_path = os.path.join(work_dir, f"{label}-{n}.stderr.log")
        rss_path = os.path.join(work_dir, f"{label}-{n}.rusage")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t1 = time.perf_counter()
            command = [CLIENT_BIN, "rss", rss_path, BINARY, "run", "--event", event_path,
                       "--stop-after", f"{deadline_s:.3f}"]
            code = subprocess.run(command, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL).returncode
            wall = time.perf_counter() - t1
        with open(rss_path) as fh:
            _, maxrss_kb, _, _ = fh.read().split()
        with open(out_path, "rb") as fh:
            try:
                answer = json.loads(fh.read() or b"null")
            except json.JSONDecodeError:
                answer = None
        invocations.append({"n": n, "exit": code, "wall": wall, "rss_mb": int(maxrss_kb) / 1024.0,
                            "answer": answer, "stderr": err_path, "deadline_s": deadline_s})
        say(f"    ... {label}: invocation {n}: exit {code}, {wall:.1f} s, peak RSS {int(maxrss_kb) / 1024:.1f} MB, "
            + ("done" if answer and answer.get("done") else
               f"pending units {(answer or {}).get('pending_units')}, checkpoint "
               f"{((answer or {}).get('checkpoint') or {}).get('bytes', 0) / 1e6:.1f} MB"))
        if code != 0 or not answer or answer.get("done"):
            break
    total = time.perf_counter() - t0
    stats = emu.admin("stats")
    last = invocations[-1]["answer"] or {}
    return {"invocations": invocations, "wall": total, "summary": last.get("summary"), "done": bool(last.get("done")),
            "stats": stats, "prefix": prefix, "collect_s": collect_s}


def latest_reports(emu: "Emulator", prefix: str) -> dict[str, bytes]:
    """The CSV reports a run left under `{prefix}/latest/`, by name."""
    import boto3  # in the emulator's venv (moto depends on it)
    s3 = boto3.client("s3", endpoint_url=emu.endpoint, region_name="us-east-1",
                      aws_access_key_id=MGMT_KEY, aws_secret_access_key="testing")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{prefix}/latest/"):
        for o in page.get("Contents", []):
            if o["Key"].endswith(".csv"):
                name = o["Key"].rsplit("/", 1)[1][:-4]
                out[name] = s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
    return out


def list_objects(emu: "Emulator", prefix: str) -> list[int]:
    """Sizes of the objects under `prefix` in the bench bucket."""
    import boto3  # in the emulator's venv (moto depends on it)
    s3 = boto3.client("s3", endpoint_url=emu.endpoint, region_name="us-east-1",
                      aws_access_key_id=MGMT_KEY, aws_secret_access_key="testing")
    sizes = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        sizes += [o["Size"] for o in page.get("Contents", [])]
    return sizes


# ----------------------------------------------------------------------------------------
# The trivial client: raw HTTP over sockets, one request replayed, N threads.
# ----------------------------------------------------------------------------------------

def sigv4_request(port: int, service: str, body: bytes, content_type: str,
                  target: str | None = None) -> bytes:
    """A SigV4-signed POST / (signed once, replayed: the emulator checks no signature)."""
    now = dt.datetime.now(dt.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = f"127.0.0.1:{port}"
    headers = {"content-type": content_type, "host": host, "x-amz-date": amz_date}
    if target:
        headers["x-amz-target"] = target
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["POST", "/", "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)), signed,
                           hashlib.sha256(body).hexdigest()])
    scope = f"{day}/us-east-1/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + "testing").encode()
    for part in (day, "us-east-1", service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    lines = ["POST / HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()] + [
        f"authorization: AWS4-HMAC-SHA256 Credential={MGMT_KEY}/{scope}, SignedHeaders={signed}, "
        f"Signature={signature}",
        f"content-length: {len(body)}", "connection: keep-alive"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def get_caller_identity_request(port: int) -> bytes:
    return sigv4_request(port, "sts", b"Action=GetCallerIdentity&Version=2011-06-15",
                         "application/x-www-form-urlencoded; charset=utf-8")


def list_users_request(port: int, store: str) -> bytes:
    body = json.dumps({"IdentityStoreId": store, "MaxResults": 100}).encode()
    return sigv4_request(port, "identitystore", body, "application/x-amz-json-1.1",
                         target="AWSIdentityStore.ListUsers")


CLIENT_SRC = os.path.join(ROOT, "scripts", "bench_client.rs")
CLIENT_BIN = os.path.join(ROOT, "target", "bench", "bench_client")


def build_client() -> None:
    """The trivial client is a std-only Rust program (scripts/bench_client.rs): a Python
    client on two busy cores could itself be the limit."""
    if os.path.exists(CLIENT_BIN) and os.path.getmtime(CLIENT_BIN) >= os.path.getmtime(CLIENT_SRC):
        return
    os.makedirs(os.path.dirname(CLIENT_BIN), exist_ok=True)
    subprocess.run(["rustc", "-O", "--edition", "2021", "-o", CLIENT_BIN, CLIENT_SRC], check=True)


def hammer(port: int, request: bytes, concurrency: int, seconds: float) -> dict[str, Any]:
    """`concurrency` threads send `request` back to back for `seconds` (keep-alive when
    the server keeps the connection open). Returns completed calls/s and errors."""
    with tempfile.NamedTemporaryFile(prefix="bench-request-", delete=False) as fh:
        fh.write(request)
        path = fh.name
    try:
        out = subprocess.run([CLIENT_BIN, "hammer", str(port), path, str(concurrency), str(seconds)],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.remove(path)
    return json.loads(out)


def client_self_check(latency_ms: float, concurrency: int) -> dict[str, Any]:
    """The trivial client against a null HTTP server (another process): how fast it can go
    with the same latency and concurrency, and with none."""
    out = {}
    for ms in (latency_ms, 0.0):
        proc = subprocess.Popen([CLIENT_BIN, "null-server", str(ms)], stdout=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        try:
            assert proc.stdout is not None
            port = int(proc.stdout.readline())
            # Long enough that the call cut off at the end weighs little (about 1/50).
            out[ms] = hammer(port, get_caller_identity_request(port), concurrency, max(3.0, latency_ms / 20))
        finally:
            proc.terminate()  # by PID
            proc.wait()
    return out


def measure_capacity(emu: Emulator, latency_ms: float, concurrencies: list[int],
                     org_store: str) -> dict[str, Any]:
    """Calls/s the emulator serves to the trivial client, with the benchmark's latency."""
    cheap = get_caller_identity_request(emu.port)
    heavy = list_users_request(emu.port, org_store)
    out: dict[str, Any] = {}
    emu.latency(latency_ms)
    for c in concurrencies:
        emu.admin("stats/reset", {})
        cpu0 = cpu_seconds(emu.proc.pid)
        r = hammer(emu.port, cheap, c, max(5.0 if c > 1 else 3.0, latency_ms / 20))
        r["emulator_cpu_ms_per_call"] = (cpu_seconds(emu.proc.pid) - cpu0) * 1000 / max(r["calls"], 1)
        r["peak_in_flight"] = emu.admin("stats")["peak_in_flight"]
        out[("sts", c)] = r
    top = max(concurrencies)
    out[("ListUsers", top)] = hammer(emu.port, heavy, top, max(4.0, latency_ms / 20))
    emu.latency(0)
    out[("sts-nolatency", top)] = hammer(emu.port, cheap, top, 3.0)
    out[("ListUsers-nolatency", top)] = hammer(emu.port, heavy, top, 3.0)
    emu.admin("stats/reset", {})
    return out


def create_bucket(emu: Emulator) -> None:
    import boto3  # in the emulator's venv (moto depends on it)
    s3 = boto3.client("s3", endpoint_url=emu.endpoint, region_name="us-east-1",
                      aws_access_key_id=MGMT_KEY, aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)


# ----------------------------------------------------------------------------------------
# Binary size and start-up to the first event.
# ----------------------------------------------------------------------------------------

def build(skip: bool) -> None:
    if skip:
        if not os.path.exists(BINARY):
            sys.exit(f"{BINARY} is missing: run without --no-build")
        return
    say("building the release binary: cargo build --release --bin idc-report")
    subprocess.run(["cargo", "build", "--release", "--bin", "idc-report"], cwd=ROOT, check=True)


def binary_size(skip_build: bool) -> dict[str, Any]:
    cargo_lambda = os.path.join(DEPLOY_VENV_BIN, "cargo-lambda")
    x86 = os.path.getsize(BINARY)
    if os.path.exists(cargo_lambda):
        if not skip_build:
            say("building the arm64 artefact: cargo lambda build --release --arm64 --bin idc-report")
            env = dict(os.environ)
            env["PATH"] = DEPLOY_VENV_BIN + os.pathsep + env.get("PATH", "")
            subprocess.run([cargo_lambda, "lambda", "build", "--release", "--arm64", "--bin", "idc-report"],
                           cwd=ROOT, env=env, check=True)
        if os.path.exists(LAMBDA_ARTEFACT):
            arch = subprocess.run(["file", "-b", LAMBDA_ARTEFACT], capture_output=True, text=True).stdout.strip() \
                if shutil.which("file") else ""
            return {"size": os.path.getsize(LAMBDA_ARTEFACT), "what": f"arm64 ({os.path.relpath(LAMBDA_ARTEFACT, ROOT)}"
                    f"{', ' + arch.split(',')[1].strip() if ',' in arch else ''})", "x86": x86, "arm64": True}
    return {"size": x86, "what": f"x86_64 release binary (FALLBACK: cargo-lambda not in .venv/deploy; "
            f"{os.path.relpath(BINARY, ROOT)})", "x86": x86, "arm64": False}


def startup_times(runs: int) -> list[float]:
    """Spawns the binary in Lambda mode against the fake runtime API (the one the workflow
    tests use) and times the arrival of its first GET /2018-06-01/runtime/invocation/next,
    in ms from spawn. No invocation is ever queued: the function waits for an event."""
    api = RuntimeAPI()
    env = base_env(None)
    env.update({"AWS_LAMBDA_RUNTIME_API": api.address, "CurrentAccountId": "111122223333",
                "reports_bucket": BUCKET, "AWS_LAMBDA_FUNCTION_NAME": "idc-report",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
                "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/idc-report", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
                "AWS_SESSION_TOKEN": "bench"})
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL)
        try:
            t = api.next_arrivals.get(timeout=10)
            times.append((t - t0) * 1000)
        except queue.Empty:
            times.append(float("inf"))
        finally:
            proc.kill()  # by PID
            proc.wait()
    api.close()
    return times


# ----------------------------------------------------------------------------------------
# One scenario.
# ----------------------------------------------------------------------------------------

def gen_arg(params: dict[str, Any]) -> str:
    return "gen:" + ",".join(f"{k}={v}" for k, v in params.items())


def estimate(a: dict[str, Any], latency_s: float, concurrency: int, serial: bool) -> dict[str, float]:
    """Rough durations, printed up front: the emulator (Python) serves about 120 of the
    audit's calls/s at most on a 2-core machine and adds ~10 ms to each serial call."""
    load = 5 + a["accounts"] * 0.003 + a["users"] * 0.00006 + a["pairs"] * 0.001
    par = max(a["total_calls"] * (latency_s + 0.005) / concurrency, a["total_calls"] / 120,
              a["implementation_chain"] * latency_s, max(a["mgmt_sso_calls"], a["mgmt_identitystore_calls"]) / AUDIT_RATE,
              a["rows"] / 100_000)
    ser = a["total_calls"] * (latency_s + 0.010) if serial else 0.0
    return {"load": load, "parallel": par, "serial": ser, "total": load + 25 + par + ser}


def run_scenario(key: str, latency_ms: float, concurrency: int, serial: bool, work_dir: str,
                 a: dict[str, Any]) -> dict[str, Any]:
    sc = SCENARIOS[key]
    kind = sc["kind"]
    scen_arg = gen_arg(sc["gen"])
    say()
    say("=" * 100)
    say(f"{sc['title']}   --scenario {scen_arg}")
    say("=" * 100)
    emu = Emulator(scen_arg, os.path.join(work_dir, f"emulator-{key}.log"))
    cap: dict[Any, Any] = {}
    rows_written = None
    try:
        loaded = emu.admin("scenario")
        say(f"emulator ready in {emu.ready_seconds:.1f} s (scenario loaded in {loaded['load_seconds']:.1f} s); "
            f"{loaded['accounts']} accounts, {loaded['instances']} instances, {loaded['users']} users, "
            f"{loaded['groups']} groups, {loaded['memberships']} memberships, {loaded['applications']} applications, "
            f"{loaded['assignments']} assignments, {loaded.get('permission_sets', 0)} permission sets, "
            f"{loaded.get('provisioned_pairs', 0)} provisioned pairs, {loaded.get('account_assignments', 0)} "
            f"account assignments")
        # Every store is reachable in these scenarios (every account active, with the role).
        for field in ("accounts", "instances", "users", "groups", "memberships", "applications", "assignments",
                      "permission_sets", "account_assignments"):
            if loaded.get(field, 0) != a[field]:
                say(f"  WARNING: the emulator holds {loaded.get(field)} {field}, the audit can reach {a[field]}")
        if loaded.get("provisioned_pairs", 0) != a["pairs"]:
            say(f"  WARNING: the emulator holds {loaded.get('provisioned_pairs')} provisioned pairs, "
                f"the analysis counts {a['pairs']}")
        create_bucket(emu)
        if kind != "memory":
            org_store = next(iter(sorted(a["org_store"])))
            cap = measure_capacity(emu, latency_ms, sorted({1, concurrency}), org_store)
            ideal = concurrency / (latency_ms / 1000)
            c_top = cap[("sts", concurrency)]
            say(f"emulator capacity, trivial client (sts:GetCallerIdentity, raw HTTP, "
                f"{'keep-alive' if c_top['keep_alive'] else 'a connection per call: the server closes each'}):")
            for c in sorted({1, concurrency}):
                r = cap[("sts", c)]
                say(f"  {latency_ms:.0f} ms latency, concurrency {c:>2}: {r['rate']:7.1f} calls/s "
                    f"(ideal {c / (latency_ms / 1000):.0f}/s; peak in flight {r['peak_in_flight']}; errors {r['errors']}; "
                    f"emulator CPU {r['emulator_cpu_ms_per_call']:.1f} ms a call)")
            say(f"  identitystore:ListUsers, 100 users a page, {latency_ms:.0f} ms, concurrency {concurrency}: "
                f"{cap[('ListUsers', concurrency)]['rate']:7.1f} calls/s")
            say(f"  no latency, concurrency {concurrency}: GetCallerIdentity {cap[('sts-nolatency', concurrency)]['rate']:.0f} "
                f"calls/s, ListUsers {cap[('ListUsers-nolatency', concurrency)]['rate']:.0f} calls/s "
                f"(the emulator's own service time: {1000 / max(cap[('sts-nolatency', concurrency)]['rate'], 1e-9):.1f} / "
                f"{1000 / max(cap[('ListUsers-nolatency', concurrency)]['rate'], 1e-9):.1f} ms a call)")
        else:
            ideal = 0.0
            say("no latency and no emulator rate limit (the audit still paces itself at API_RATE_LIMIT 20/s): "
                "this run measures memory")

        if kind in ("rate", "resume"):
            emu.latency(latency_ms, EMULATOR_RATE_LIMIT)
            say(f"emulator: {latency_ms:.0f} ms latency and a rate limit of {EMULATOR_RATE_LIMIT['rps']:.0f} requests/s "
                f"(burst {EMULATOR_RATE_LIMIT['burst']}) per (calling account, service) on "
                f"{' and '.join(EMULATOR_RATE_LIMIT['services'])}, throttling errors beyond it. AWS documents about "
                f"20/s for Identity Center's APIs (scope not stated) and 20/s per API per identity store for Identity "
                f"Store: the emulator's identitystore limit, per account and service, is a little stricter than AWS's.")
            say(f"no MAX_CONCURRENCY=1 run: the floor here is the rate limit ({a['mgmt_sso_calls']} sso-admin calls of "
                f"the management account at 20/s), not the latency")
        elif kind == "latency":
            emu.latency(latency_ms)
        else:
            emu.latency(0)
            if kind == "resume-memory":
                say("no latency and no emulator rate limit: this run measures the memory of resumed invocations")
        runs = {}
        for c in ([concurrency, 1] if serial and kind == "latency" else [concurrency]):
            emu.admin("stats/reset", {})
            say(f"running the audit, MAX_CONCURRENCY={c} ...")
            out_dir = os.path.join(work_dir, f"{key}-c{c}-reports") if kind == "memory" else None
            runs[c] = run_audit(emu, c, work_dir, f"{key}-c{c}", a["total_calls"], out_dir, sc.get("env"))
            if out_dir:
                rows_written = count_rows(os.path.join(out_dir, "account_assignments.csv"))
                shutil.rmtree(out_dir, ignore_errors=True)  # about 1.5 GB at 5 million rows
        resumed = None
        if kind.startswith("resume"):
            one_shot = runs[concurrency]["wall"]
            # Collection time per invocation: the one-shot run's, split so that the run
            # needs more invocations than the target asks.
            collect_s = max(2.0, one_shot / sc["invocations"])
            emu.admin("stats/reset", {})
            say(f"running the audit resumed: invocations of {collect_s:.1f} s of collection + "
                f"{RESUME_MARGIN_S} s margin (DEADLINE_MARGIN_SECONDS) each, MAX_CONCURRENCY={concurrency} ...")
            if sc.get("env"):
                say(f"  settings of this scenario, for both runs: {sc['env']}")
            resumed = run_resumed(emu, concurrency, work_dir, f"{key}-resumed", collect_s, extra_env=sc.get("env"))
            resumed["identical"] = {}
            one = latest_reports(emu, f"bench/{key}-c{concurrency}")
            two = latest_reports(emu, resumed["prefix"])
            for name in sorted(set(one) | set(two)):
                resumed["identical"][name] = (one.get(name) is not None and one.get(name) == two.get(name),
                                              len(one.get(name) or b""), len(two.get(name) or b""))
        emu.latency(0)
    finally:
        emu.stop()
    return {"key": key, "kind": kind, "title": sc["title"], "scenario": scen_arg, "analysis": a, "capacity": cap,
            "runs": runs, "ideal_rate": ideal, "rows_written": rows_written, "resumed": resumed}


def count_rows(path: str) -> dict[str, int] | None:
    """Data rows (lines less the header; no cell of this report holds a newline) and bytes
    of a CSV report."""
    if not os.path.exists(path):
        return None
    lines = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            lines += chunk.count(b"\n")
    return {"rows": max(0, lines - 1), "bytes": os.path.getsize(path)}


def report_scenario(res: dict[str, Any], latency_ms: float, concurrency: int,
                    targets: list[tuple[str, str, str, bool | None]]) -> None:
    a = res["analysis"]
    key = res["key"]
    kind = res["kind"]
    rss_target = TARGET_RSS_ROWS_MB if kind == "memory" else TARGET_RSS_MB
    say()
    say(f"--- {res['title']}: results")
    say(f"organization: {a['accounts']} accounts ({a['audited']} audited), {a['stores']} identity stores "
        f"(largest {a['largest_store_users']} users), {a['users']} users, {a['groups']} groups, "
        f"{a['applications']} applications, {a['assignments']} assignments")
    if a["permission_sets"]:
        say(f"access: {a['permission_sets']} permission sets, {a['pairs']} provisioned pairs, "
            f"{a['account_assignments']} account assignments naming {a['account_groups']} groups, "
            f"{a['rows']} account_assignments rows expected; pairs found {a['discovery']} "
            f"({a['discovery_op'].split(':')[1]}: {a['accounts']} accounts in scope, "
            f"{a['permission_sets']} permission sets); DescribePermissionSet for the {a['described']} permission "
            f"sets that a pair with assignments names; ListGroupMemberships for the {a['groups_read']} groups "
            f"that application or account assignments name, each once")
    runs = res["runs"]
    objects = max((len(r["objects"]) for r in runs.values()), default=0)
    ops = sorted(set(a["calls"]) | {op for r in runs.values() for op in r["stats"]["by_operation"]})
    header = f"  {'operation':50} {'minimum':>9}" + "".join(f" {'C=' + str(c):>9}" for c in runs)
    say("AWS calls by operation (emulator counts; minimum = what the APIs allow for this organization; "
        "S3: one PutObject per object written):")
    say(header)
    for op in ops:
        minimum = str(a["calls"].get(op, 0)) if not op.startswith("s3:") else "-"
        line = f"  {op:50} {minimum:>9}"
        for r in runs.values():
            n = r["stats"]["by_operation"].get(op, 0)
            line += f" {n:>9}"
        say(line)
    say(f"  {'s3 objects written (PutObject, CompleteMultipart)':50} {objects:>9}" + "".join(
        f" {sum(r['stats']['by_operation'].get(op, 0) for op in S3_WRITES):>9}" for r in runs.values()))
    say(f"  {'total':50} {a['total_calls'] + objects:>9}" + "".join(f" {r['stats']['requests_total']:>9}"
                                                                    for r in runs.values()))
    for c, r in runs.items():
        s = r["summary"] or {}
        counts = s.get("counts", {})
        st = r["stats"]
        total = st["requests_total"]
        mean_in_flight = st["in_flight_seconds"] / st["active_seconds"] if st.get("active_seconds") else 0.0
        mean_call_ms = st["request_seconds"] * 1000 / total if total else 0.0
        say(f"run MAX_CONCURRENCY={c}: exit {r['exit']}, wall {fmt_s(r['wall'])}, {total} calls, "
            f"{total / r['wall']:.1f} calls/s, mean in flight {mean_in_flight:.1f}, mean call at the emulator "
            f"{mean_call_ms:.1f} ms (latency included), peak in flight {st['peak_in_flight']} "
            f"(accounts {st['peak_accounts_in_flight']}), peak RSS {r['rss_mb']:.1f} MB, "
            f"statuses {st['by_status']}, throttled {st['throttled']}, retries (audit's log) "
            f"{r['retries']['total']}{' ' + str(r['retries']['by']) if r['retries']['by'] else ''}")
        ph = ", ".join(f"{k} {v:.2f} s" for k, v in r["phases"].items())
        say(f"  CPU: audit {r['cpu']:.1f} s ({r['cpu'] / r['wall'] * 100:.0f}% of a core, "
            f"{r['cpu'] * 1000 / total:.2f} ms a call), emulator {r['emulator_cpu']:.1f} s "
            f"({r['emulator_cpu'] / r['wall'] * 100:.0f}% of a core, {r['emulator_cpu'] * 1000 / total:.2f} ms a call; "
            f"Python, one event loop); "
            f"load average before {r['load_before']:.2f}; audit phases (its log): {ph or 'none logged'}")
        say(f"  summary: accounts_audited {counts.get('accounts_audited')}, identity_stores "
            f"{counts.get('identity_stores')}, users {counts.get('users')}, applications "
            f"{counts.get('applications')}, application_assignments {counts.get('application_assignments')}, "
            f"permission_sets {counts.get('permission_sets')}, account_assignments "
            f"{counts.get('account_assignments')}, account_assignment_rows {counts.get('account_assignment_rows')}, "
            f"complete {s.get('complete')}")
        ok = (r["exit"] == 0 and counts.get("accounts_audited") == a["audited"]
              and counts.get("identity_stores") == a["stores"] and counts.get("users") == a["users"]
              and counts.get("applications") == a["applications"] and s.get("complete") is True
              and counts.get("permission_sets", 0) == a["permission_sets"]
              and counts.get("account_assignments", 0) == a["account_assignments"]
              and counts.get("account_assignment_rows", 0) == a["rows"])
        targets.append((f"{key} C={c}: run complete, counts match the organization",
                        f"exit {r['exit']}, audited {counts.get('accounts_audited')}/{a['audited']}, "
                        f"users {counts.get('users')}/{a['users']}", "all", ok))
        s3_calls = sum(n for op, n in st["by_operation"].items() if op.startswith("s3:"))
        writes = sum(st["by_operation"].get(op, 0) for op in S3_WRITES)
        reads = total - s3_calls
        parts = s3_calls - writes - st["by_operation"].get("s3:CreateMultipartUpload", 0)
        if s3_calls > len(r["objects"]):
            say(f"  S3: {len(r['objects'])} objects ({sum(r['objects']) / 1e6:.1f} MB) in {s3_calls} calls: "
                f"{st['by_operation'].get('s3:CreateMultipartUpload', 0)} multipart uploads with {parts} parts "
                f"(streaming: memory over calls; one PutObject each is the fewest)")
        # Under an enforced rate limit a throttled answer is retried: the reads the
        # organization needs are the answered ones; the throttled ones are shown beside.
        answered = reads - st["throttled"]
        targets.append((f"{key} C={c}: AWS calls vs the minimum the APIs allow",
                        f"{answered} answered reads vs {a['total_calls']} (+{st['throttled']} throttled, retried), "
                        f"{writes} writes vs {len(r['objects'])} objects",
                        "= minimum", answered == a["total_calls"] and writes == len(r["objects"])))
        targets.append((f"{key} C={c}: peak RSS of the audit", f"{r['rss_mb']:.1f} MB", f"< {rss_target:.0f} MB",
                        r["rss_mb"] < rss_target))
        if c > 1:
            targets.append((f"{key} C={c}: peak requests in flight", str(st["peak_in_flight"]), f"<= {c}",
                            st["peak_in_flight"] <= c))
    if kind in ("rate", "resume"):
        report_rate(res, concurrency, targets)
    if kind.startswith("resume"):
        report_resumed(res, concurrency, targets)
    elif kind == "rate":
        pass
    elif kind == "memory":
        report_memory(res, concurrency, targets)
    else:
        report_latency(res, latency_ms, concurrency, targets)


def report_latency(res: dict[str, Any], latency_ms: float, concurrency: int,
                   targets: list[tuple[str, str, str, bool | None]]) -> None:
    """Wall time against max(latency, chain, emulator capacity, rate limit); the speedup."""
    a = res["analysis"]
    key = res["key"]
    runs = res["runs"]
    lat = latency_ms / 1000
    cap_rate = res["capacity"][("sts", concurrency)]["rate"]
    if concurrency in runs:
        r = runs[concurrency]
        total = r["stats"]["requests_total"]
        by_latency = total * lat / concurrency
        by_chain = a["chain"] * lat
        by_capacity = total / cap_rate
        busiest = max(a["mgmt_sso_calls"], a["mgmt_identitystore_calls"], a["member_lane_calls"])
        by_rate = busiest / AUDIT_RATE
        bound = max(by_latency, by_chain, by_capacity, by_rate)
        ratio = r["wall"] / bound
        say(f"lower bound at MAX_CONCURRENCY={concurrency}: max(")
        say(f"    total calls x latency / concurrency = {total} x {latency_ms:.0f} ms / {concurrency} = {by_latency:.2f} s,")
        say(f"    longest chain of dependent calls x latency = {a['chain']} x {latency_ms:.0f} ms = {by_chain:.2f} s,")
        say(f"        chain = {a['chain_text']}")
        say(f"    total calls / emulator capacity = {total} / {cap_rate:.1f} calls/s = {by_capacity:.2f} s"
            f"  (capacity: trivial client, concurrency {concurrency}, {latency_ms:.0f} ms)")
        say(f"    calls of the busiest rate-limited lane / API_RATE_LIMIT = {busiest} / {AUDIT_RATE:.0f} per s = "
            f"{by_rate:.2f} s  (management account: sso-admin {a['mgmt_sso_calls']}, identitystore "
            f"{a['mgmt_identitystore_calls']}; the audit paces itself, the emulator enforces nothing here)")
        say(f"  ) = {bound:.2f} s; the audit took {r['wall']:.2f} s = {ratio:.2f}x the bound")
        say(f"  (this implementation's own critical path through the organization store: "
            f"{a['implementation_chain']} calls x {latency_ms:.0f} ms = {a['implementation_chain'] * lat:.2f} s: "
            f"GetCallerIdentity, the ListAccounts pages up to the management account's (DescribeOrganization "
            f"alongside), ListInstances, the longest of the store's users, groups and applications chains, then "
            f"3 S3 steps: the dated objects, the latest/ reports, the latest/ summary)")
        ideal = concurrency / lat
        emu_ms = r["emulator_cpu"] * 1000 / total
        say(f"  emulator: the trivial client gets {cap_rate:.0f} of the {ideal:.0f} calls/s that {concurrency} calls in "
            f"flight at {latency_ms:.0f} ms allow ({cap_rate / ideal * 100:.0f}%)"
            + ("; the emulator, not the latency, limits this concurrency" if cap_rate < 0.9 * ideal else ""))
        say(f"  emulator CPU per audit call {emu_ms:.2f} ms (trivial call "
            f"{res['capacity'][('sts', concurrency)]['emulator_cpu_ms_per_call']:.2f} ms): one Python core serves at most "
            f"{1000 / emu_ms:.0f} of the audit's calls/s, i.e. {total * emu_ms / 1000:.1f} s for this run's calls")
        trivial_ms = res["capacity"][("sts", concurrency)]["emulator_cpu_ms_per_call"]
        if cap_rate < 0.9 * ideal:
            # Only where the emulator is the limit: its capacity scales with its CPU per call.
            cap_mix = cap_rate * trivial_ms / emu_ms
            bound_mix = max(by_latency, by_chain, total / cap_mix)
            say(f"  estimate, not a target: scaled by CPU per call, the emulator serves about {cap_mix:.0f} of this "
                f"audit's calls/s; with that capacity the bound is {bound_mix:.2f} s and the audit took "
                f"{r['wall'] / bound_mix:.2f}x it")
            targets.append((f"{key} C={concurrency}: wall time vs bound at the emulator's capacity for the audit's mix",
                            f"{r['wall'] / bound_mix:.2f}x ({r['wall']:.1f} s vs {bound_mix:.1f} s)",
                            "none (estimate)", None))
            res["bound_mix"] = {"capacity": cap_mix, "bound": bound_mix, "ratio": r["wall"] / bound_mix}
        res["bound"] = {"latency": by_latency, "chain": by_chain, "capacity": by_capacity, "rate": by_rate,
                        "bound": bound, "ratio": ratio}
        targets.append((f"{key} C={concurrency}: wall time vs lower bound", f"{ratio:.2f}x ({r['wall']:.1f} s vs "
                        f"{bound:.1f} s)", f"<= {TARGET_BOUND_RATIO}x" if key == "b" else
                        f"none here ({TARGET_BOUND_RATIO}x at 1,000 accounts)",
                        ratio <= TARGET_BOUND_RATIO if key == "b" else None))
        if key == "c":
            targets.append((f"{key} C={concurrency}: wall time", f"{r['wall']:.1f} s", f"< {TARGET_WALL_C:.0f} s",
                            r["wall"] < TARGET_WALL_C))
    if concurrency in runs and 1 in runs and concurrency != 1:
        speedup = runs[1]["wall"] / runs[concurrency]["wall"]
        say(f"speedup MAX_CONCURRENCY={concurrency} over 1: {runs[1]['wall']:.1f} s / {runs[concurrency]['wall']:.1f} s "
            f"= {speedup:.1f}x (at most {concurrency}x)")
        res["speedup"] = speedup
        if "bound" in res:
            best = runs[1]["wall"] / res["bound"]["bound"]
            say(f"  the largest speedup the lower bound allows here: {runs[1]['wall']:.1f} s / "
                f"{res['bound']['bound']:.1f} s = {best:.1f}x")
            targets.append((f"{key}: largest speedup the lower bound allows", f"{best:.1f}x",
                            "none (context)", None))
        targets.append((f"{key}: speedup C={concurrency} over C=1", f"{speedup:.1f}x",
                        f">= {TARGET_SPEEDUP:.0f}x" if key == "b" else
                        f"none here ({TARGET_SPEEDUP:.0f}x at 1,000 accounts)",
                        speedup >= TARGET_SPEEDUP if key == "b" else None))
    elif concurrency in runs:
        say(f"speedup: not measured (MAX_CONCURRENCY=1 skipped for {res['title']})")
        targets.append((f"{key}: speedup C={concurrency} over C=1", "not measured (skipped)",
                        f">= {TARGET_SPEEDUP:.0f}x", False if key == "b" else None))


def report_rate(res: dict[str, Any], concurrency: int, targets: list[tuple[str, str, str, bool | None]]) -> None:
    """Wall time against the floor the rate limit sets, and whether the member accounts'
    reads ended inside it (the emulator's per-lane times)."""
    a = res["analysis"]
    key = res["key"]
    r = res["runs"][concurrency]
    st = r["stats"]
    mgmt = a["management"]
    rps, burst = EMULATOR_RATE_LIMIT["rps"], EMULATOR_RATE_LIMIT["burst"]
    lanes = st.get("by_account_service_times", {})
    made = st["by_account_service"].get(f"{mgmt}:sso-admin", 0)
    floor = a["mgmt_sso_calls"] / rps
    exact = (a["mgmt_sso_calls"] - burst) / rps
    ratio = r["wall"] / floor
    say(f"floor set by the rate limit: the management account's Identity Center calls (the busiest lane; the "
        f"fewest the APIs allow) / {rps} per s = {a['mgmt_sso_calls']} / {rps} = {floor:.1f} s "
        f"(with the burst of {burst} the first {burst} need not wait: {exact:.1f} s at the least); "
        f"the lane made {made} calls")
    say(f"  the audit took {r['wall']:.1f} s = {ratio:.3f}x the floor (wall time from spawn to exit)")
    res["floor"] = {"floor": floor, "ratio": ratio}
    ml = lanes.get(f"{mgmt}:sso-admin")
    mid = lanes.get(f"{mgmt}:identitystore")
    if not ml:
        say("  the emulator gave no per-lane times (by_account_service_times): cannot tell when lanes ended")
        targets.append((f"{key} C={concurrency}: wall time vs the rate limit's floor",
                        f"{ratio:.2f}x ({r['wall']:.1f} s vs {floor:.1f} s)", f"<= {TARGET_FLOOR_RATIO}x",
                        ratio <= TARGET_FLOOR_RATIO))
        return
    span = ml["last_answer"] - ml["first_arrival"]
    say("  times below are seconds after the run's first request reached the emulator")
    say(f"  management account, sso-admin: first call {ml['first_arrival']:.2f} s, last answer {ml['last_answer']:.2f} s; "
        f"{made} calls in {span:.1f} s = {made / span:.2f} calls/s (the limit: {rps}/s); throttled {ml['throttled']}")
    if mid:
        n = st["by_account_service"].get(f"{mgmt}:identitystore", 0)
        say(f"  management account, identitystore: first call {mid['first_arrival']:.2f} s, last answer "
            f"{mid['last_answer']:.2f} s; {n} calls; throttled {mid['throttled']}")
    members = {k: v for k, v in lanes.items() if not k.startswith(f"{mgmt}:") and v["last_answer"] is not None}
    last_key = max(members, key=lambda k: members[k]["last_answer"], default=None)
    member_end = members[last_key]["last_answer"] if last_key else 0.0
    member_throttled = sum(v["throttled"] for v in members.values())
    accounts = len({k.split(":")[0] for k in members})
    say(f"  member accounts ({accounts} calling, {len(members)} lanes): the last answer at {member_end:.2f} s "
        f"({last_key}), {member_end / floor * 100:.0f}% of the floor; the management account's last sso-admin "
        f"answer at {ml['last_answer']:.2f} s; member lanes throttled {member_throttled}")
    targets.append((f"{key} C={concurrency}: wall time vs the rate limit's floor",
                    f"{ratio:.2f}x ({r['wall']:.1f} s vs {floor:.1f} s)", f"<= {TARGET_FLOOR_RATIO}x",
                    ratio <= TARGET_FLOOR_RATIO))
    targets.append((f"{key} C={concurrency}: member accounts' reads end inside the floor",
                    f"last at {member_end:.1f} s (mgmt {ml['last_answer']:.1f} s)",
                    "before the management lane's end", member_end <= ml["last_answer"]))
    targets.append((f"{key} C={concurrency}: throttling answers (emulator)", str(st["throttled"]),
                    "none (each is a call above the minimum)", None))
    res["lanes"] = {"mgmt_sso": ml, "mgmt_identitystore": mid, "member_end": member_end, "member_lane": last_key}


def report_resumed(res: dict[str, Any], concurrency: int, targets: list[tuple[str, str, str, bool | None]]) -> None:
    """The resumed run against the one-shot run: invocations, checkpoint size and save/load
    time per continuation, wall time, memory, identical reports."""
    key = res["key"]
    one = res["runs"][concurrency]
    rr = res["resumed"]
    inv = rr["invocations"]
    say(f"resumed run: {len(inv)} invocations of at most {rr['collect_s']:.1f} s of collection "
        f"(+{RESUME_MARGIN_S} s margin), each a new process (as a cold Lambda invocation)")
    say(f"  {'#':>3} {'exit':>4} {'wall s':>7} {'deadline s':>10} {'RSS MB':>7} {'pending':>8} {'ckpt MB':>8} "
        f"{'save ms':>8} {'load ms':>8}")
    for i in inv:
        a = i["answer"] or {}
        c = a.get("checkpoint") or {}
        load = c.get("load_ms")
        if a.get("done"):
            load = None
        say(f"  {i['n']:>3} {i['exit']:>4} {i['wall']:>7.1f} {i['deadline_s']:>10.1f} {i['rss_mb']:>7.1f} "
            f"{str(a.get('pending_units', '-')):>8} {c.get('bytes', 0) / 1e6:>8.2f} {str(c.get('save_ms', '-')):>8} "
            f"{str(load if load is not None else '-'):>8}")
    # The load time of invocation n is reported by n (the checkpoint of n-1); the last one
    # (done) reports none in its answer: read it from its log.
    last_load = None
    with open(inv[-1]["stderr"], errors="replace") as fh:
        for line in fh:
            m = re.search(r"load_ms[=\"\s:]+(\d+)", line)
            if m and "goes on" in line:
                last_load = int(m.group(1))
    if last_load is not None:
        say(f"  the last invocation read its checkpoint in {last_load} ms (its log)")
    st = rr["stats"]
    total = st["requests_total"]
    say(f"  wall time: resumed {rr['wall']:.1f} s (the sum of the invocations, process start-ups included) vs "
        f"one-shot {one['wall']:.1f} s = {rr['wall'] / one['wall']:.2f}x; {total} calls (one-shot "
        f"{one['stats']['requests_total']}), throttled {st['throttled']}, rate-limited {st.get('rate_limited')}")
    summary = rr["summary"] or {}
    counts, one_counts = summary.get("counts", {}), (one["summary"] or {}).get("counts", {})
    say(f"  summary counts equal to the one-shot run's: {counts == one_counts}; complete {summary.get('complete')}")
    same = all(v[0] for v in rr["identical"].values())
    for name, (equal, n1, n2) in rr["identical"].items():
        say(f"  {name + '.csv':32} one-shot {n1:>10} bytes, resumed {n2:>10} bytes: "
            f"{'identical' if equal else 'DIFFERENT'}")
    peak = max(i["rss_mb"] for i in inv)
    biggest = max(((i["answer"] or {}).get("checkpoint") or {}).get("bytes", 0) for i in inv)
    late = [i["n"] for i in inv if i["wall"] > i["deadline_s"]]
    # (f)'s target; (g) measures memory, its count is context.
    wanted = TARGET_INVOCATIONS if res["kind"] == "resume" else 2
    targets.append((f"{key}: invocations of the resumed run", str(len(inv)), f">= {wanted}, ending done",
                    len(inv) >= wanted and rr["done"]))
    targets.append((f"{key}: reports identical to the one-shot run's", f"{len(rr['identical'])} CSV reports, "
                    + ("all identical" if same else "DIFFERENT"), "identical", same and len(rr["identical"]) >= 6
                    and counts == one_counts))
    targets.append((f"{key}: peak RSS of an invocation (largest checkpoint {biggest / 1e6:.1f} MB)",
                    f"{peak:.1f} MB", f"< {TARGET_RSS_RESUMED_MB:.0f} MB", peak < TARGET_RSS_RESUMED_MB))
    targets.append((f"{key}: invocations ending after their deadline", str(late or "none"), "none", not late))
    targets.append((f"{key}: wall time resumed vs one-shot", f"{rr['wall'] / one['wall']:.2f}x "
                    f"({rr['wall']:.0f} s vs {one['wall']:.0f} s)", "none (context)", None))


def report_memory(res: dict[str, Any], concurrency: int, targets: list[tuple[str, str, str, bool | None]]) -> None:
    """The rows written and the peak RSS that writing them took."""
    a = res["analysis"]
    key = res["key"]
    r = res["runs"][concurrency]
    counts = (r["summary"] or {}).get("counts", {})
    written = res["rows_written"] or {}
    rows = written.get("rows")
    say(f"account_assignments rows: {rows} written (lines of DIR/account_assignments.csv from --out-dir, less the "
        f"header; {written.get('bytes', 0) / 1e6:.0f} MB), summary counts.account_assignment_rows "
        f"{counts.get('account_assignment_rows')}, expected {a['rows']}; uploaded to S3 as well (the Lambda's path)")
    if rows:
        say(f"  peak RSS of the audit {r['rss_mb']:.1f} MB for {rows} rows "
            f"({r['rss_mb'] * 2**20 / rows:.0f} bytes a row; the report is {written['bytes'] / rows:.0f} bytes a row)")
    targets.append((f"{key} C={concurrency}: account_assignments rows written", str(rows), f"= {a['rows']}",
                    rows == a["rows"]))


# ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenarios", default=DEFAULT_SCENARIOS,
                   help="comma list of a (100 accounts), b (1,000 accounts, 100 account instances, 20,000 users), "
                        "c (5,000 accounts, 100,000 users), d (1,000 accounts, 100 permission sets, 5,000 "
                        "provisioned pairs, 20 requests/s enforced by the emulator; about 5 min), e (5 million "
                        "account_assignments rows: the memory figure; about 2 min), f ((d) resumed across at least 5 invocations "
                        "against its one-shot run; about 10 min), g (5,000 accounts, 100,000 users resumed: memory "
                        "per invocation; about 5 min), or none (binary size and "
                        f"start-up only); default: {DEFAULT_SCENARIOS} (a,b,c,d,e for everything)")
    p.add_argument("--quick", action="store_true", help="only scenario a (100 accounts)")
    p.add_argument("--skip-serial-at", type=int, metavar="ACCOUNTS",
                   help="skip the MAX_CONCURRENCY=1 run for scenarios of at least this many accounts "
                        "(default: run it everywhere, as the issue requires)")
    p.add_argument("--latency-ms", type=float, default=50.0, help="latency injected per call (default 50)")
    p.add_argument("--concurrency", type=int, default=16, help="the default MAX_CONCURRENCY (16)")
    p.add_argument("--no-build", action="store_true", help="use the binaries already built")
    p.add_argument("--startup-runs", type=int, default=21, help="start-up measurements (median; default 21)")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    p.add_argument("--work-dir", help="keep logs and outputs here (default: a temporary folder)")
    args = p.parse_args(argv)

    keys = ["a"] if args.quick else [k.strip() for k in args.scenarios.split(",")
                                      if k.strip() and k.strip() != "none"]
    for k in keys:
        if k not in SCENARIOS:
            p.error(f"unknown scenario {k!r}: choose from {', '.join(SCENARIOS)}")
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="idc-bench-")
    os.makedirs(work_dir, exist_ok=True)
    lat_s = args.latency_ms / 1000

    started = dt.datetime.now(dt.timezone.utc)
    say(f"idc-report scale benchmark, {started:%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB")
    say(f"latency injected per call: {args.latency_ms:.0f} ms (none in (e)); MAX_CONCURRENCY {args.concurrency}, "
        f"and 1 in (a), (b), (c); work dir {work_dir}")
    build(args.no_build)
    build_client()
    subprocess.run([CLIENT_BIN, "rss", os.path.join(work_dir, "floor.rusage"), "/bin/true"], check=True)
    with open(os.path.join(work_dir, "floor.rusage")) as fh:
        floor_mb = int(fh.read().split()[1]) / 1024
    say(f"peak RSS is measured through a small launcher (getrusage of its child); its floor (/bin/true) is "
        f"{floor_mb:.1f} MB")

    # Expectations first, so the durations can be estimated up front.
    analyses = {}
    for k in keys:
        spec = generate(**SCENARIOS[k]["gen"])
        a = analyse(spec)
        a["org_store"] = [i["identity_store_id"] for i in spec["instances"] if i["owner"] == spec["management_account"]]
        analyses[k] = a
        del spec
    say()
    say("estimated durations (rough; the serial runs dominate):")
    grand = 0.0
    for k in keys:
        a = analyses[k]
        serial = SCENARIOS[k]["kind"] == "latency" and not (args.skip_serial_at and a["accounts"] >= args.skip_serial_at)
        e = estimate(a, lat_s, args.concurrency, serial)
        grand += e["total"]
        say(f"  {SCENARIOS[k]['title']}: {a['total_calls']} calls; load ~{e['load']:.0f} s, "
            f"MAX_CONCURRENCY={args.concurrency} ~{e['parallel']:.0f} s, "
            + (f"MAX_CONCURRENCY=1 ~{fmt_s(e['serial'])}" if serial else "MAX_CONCURRENCY=1 skipped"
               if SCENARIOS[k]["kind"] == "latency" else "no MAX_CONCURRENCY=1 run"))
    say(f"  and ~2-5 min for the builds and start-up; about {fmt_s(grand + 180)} in all")

    targets: list[tuple[str, str, str, bool | None]] = []

    say()
    say("trivial client self-check: the same client against a null HTTP server (another process)")
    check = client_self_check(args.latency_ms, args.concurrency)
    ideal = args.concurrency / lat_s
    say(f"  {args.latency_ms:.0f} ms, concurrency {args.concurrency}: {check[args.latency_ms]['rate']:.1f} calls/s "
        f"(ideal {ideal:.0f}/s); no latency: {check[0.0]['rate']:.0f} calls/s")
    targets.append(("trivial client keeps up (null server, same latency and concurrency)",
                    f"{check[args.latency_ms]['rate'] / ideal * 100:.0f}% of {ideal:.0f}/s", ">= 95%",
                    check[args.latency_ms]["rate"] >= 0.95 * ideal))

    results = []
    for k in keys:
        a = analyses[k]
        serial = SCENARIOS[k]["kind"] == "latency" and not (args.skip_serial_at and a["accounts"] >= args.skip_serial_at)
        res = run_scenario(k, args.latency_ms, args.concurrency, serial, work_dir, a)
        report_scenario(res, args.latency_ms, args.concurrency, targets)
        results.append(res)

    say()
    say("=" * 100)
    size = binary_size(args.no_build)
    mb = size["size"] / 1e6
    say(f"release binary: {mb:.2f} MB, {size['what']}; x86_64 release binary {size['x86'] / 1e6:.2f} MB")
    targets.append(("release binary size" + (" (arm64)" if size["arm64"] else " (x86_64 fallback, not arm64)"),
                    f"{mb:.2f} MB", f"< {TARGET_BINARY_MB:.0f} MB (arm64)",
                    (mb < TARGET_BINARY_MB) if size["arm64"] else None))  # the target is the arm64 artefact's
    times = startup_times(args.startup_runs)
    med = statistics.median(times)
    say(f"start-up to the first GET /runtime/invocation/next (x86_64 release binary, Lambda mode, fake runtime "
        f"API on 127.0.0.1, from spawn): median {med:.1f} ms of {len(times)} runs "
        f"(min {min(times):.1f}, max {max(times):.1f})")
    targets.append(("start-up to ready for the first event (median)", f"{med:.1f} ms", f"< {TARGET_STARTUP_MS:.0f} ms",
                    med < TARGET_STARTUP_MS))

    say()
    say("=" * 100)
    say("figures against targets")
    width = max(len(t[0]) for t in targets)
    for name, value, target, ok in targets:
        say(f"  {name:{width}}  {value:>28}  target {target:<34} {verdict(ok)}")
    failed = [t for t in targets if t[3] is False]
    passed = [t for t in targets if t[3] is True]
    say(f"{len(passed)} PASS, {len(failed)} FAIL, {len(targets) - len(passed) - len(failed)} info; finished in "
        f"{fmt_s((dt.datetime.now(dt.timezone.utc) - started).total_seconds())}")

    if args.json:
        def clean(res: dict[str, Any]) -> dict[str, Any]:
            out = {k: v for k, v in res.items() if k != "capacity"}
            out["capacity"] = {f"{k[0]}@{k[1]}": v for k, v in res["capacity"].items()}
            out["runs"] = {str(c): {kk: vv for kk, vv in r.items() if kk != "summary"} | {
                "counts": (r["summary"] or {}).get("counts")} for c, r in res["runs"].items()}
            return out
        with open(args.json, "w") as fh:
            json.dump({"started": started.isoformat(), "latency_ms": args.latency_ms,
                       "concurrency": args.concurrency, "scenarios": [clean(r) for r in results],
                       "binary": size, "startup_ms": times,
                       "targets": [{"figure": n, "value": v, "target": t, "pass": ok} for n, v, t, ok in targets]},
                      fh, indent=1, default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
