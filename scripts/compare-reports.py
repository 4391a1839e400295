#!/usr/bin/env python3
"""Are the reports of an organization WITHOUT permission sets unchanged by issue 11?

Issue 11 ("Who can reach which AWS account") is done when, for an organization without
permission sets, the existing reports are byte-identical to before apart from the new
`UserStatus` column. This script checks that claim by running two builds of `idc-report`
(the one before issue 11's work, aa6f8dd, and the one under test) against the same local
emulator and comparing what they write.

How to rerun it (from the repository root, on a machine with Rust and Python 3):

    git worktree add /tmp/idc-old aa6f8dd --detach          # the tree before issue 11
    cp -a target /tmp/idc-old/target                        # optional: reuse compiled deps
    (cd /tmp/idc-old && cargo build --release --bin idc-report)
    cargo build --release --bin idc-report                  # the tree under test
    scripts/setup-emulator.sh                               # .venv/emulator
    .venv/emulator/bin/python scripts/compare-reports.py \\
        /tmp/idc-old/target/release/idc-report target/release/idc-report
    git worktree remove --force /tmp/idc-old

Options: `--scenarios blog,messy,gen:accounts=200,account_instances=20,users=2000`
(default), `--keep DIR` to keep every run's output folder, `--python` the emulator's
interpreter (default .venv/emulator/bin/python of this tree, else the one running this).

What it does, per scenario:
- `blog` and `messy` are the shipped scenarios (tests/emulator/scenarios) with their
  `permission_sets`, `account_assignments` and `provisioned` removed; `gen:...` is made by
  tests/emulator/generate.py with its default of no permission sets. The emulator (this
  tree's tests/emulator/emulator.py, on a free port of 127.0.0.1, stopped by its PID) is
  asked to confirm it holds no permission set, pair or account assignment.
- Each binary runs `idc-report run --no-upload --out-dir DIR` (a fresh DIR each time, so
  the new binary's `changes` has no previous run) with the environment the integration
  tests give it (tests/integration/emulator.rs `command()`): AWS_ENDPOINT_URL, fake keys,
  AWS_REGION=us-east-1, no AWS config files, CurrentAccountId=111122223333. Each binary
  runs twice (old, new, old, new), so a difference can be told apart from a binary that
  does not write the same thing twice.
- Every CSV the old binary writes must be byte-identical in the new binary's output,
  except `application_assignments.csv`, where the new file may only add the last column
  `UserStatus`: its header and parsed rows without that column must equal the old file's,
  and, re-serialised with Python's csv module in the writer's dialect (RFC 4180, minimal
  quoting, CRLF) they must equal the old file's bytes. That the re-serialisation is
  faithful is itself checked on both sides: each file, parsed and re-serialised the same
  way, must give its own bytes back (so the new file is byte for byte the old one with
  `,UserStatus` before each CRLF). `UserStatus` must hold each user's status as the
  scenario gives it.
- A difference another issue made on purpose after aa6f8dd is shown as KNOWN with its
  commit and does not fail the run: `complete` in summary.json (16a8640, issue 15 point
  11) and cells newly prefixed with `'` by the wider formula rule (8c31809, issue 15 point
  16; the bytes must be the old file's once those cells are put back). Anything else that
  differs is FAIL.
- `summary.json` is compared field by field: every field of the old summary must hold the
  same value in the new one, except `run_id`, `started_at`, `finished_at` and the report
  locations (`reports`); fields only in the new summary are listed.
- Files only the new binary writes (account_assignments.csv, changes.csv, summary.html,
  ...) are listed as new, not compared.

Prints a PASS/FAIL table; exits 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMULATOR_DIR = os.path.join(ROOT, "tests", "emulator")
sys.path.insert(0, EMULATOR_DIR)
from emulator_process import EmulatorProcess  # noqa: E402  (the emulator as a child process, shared with scripts/bench.py)
# Shipped scenarios: the emulator's (blog, messy) and the integration tests' (hostile).
SCENARIO_DIRS = (os.path.join(EMULATOR_DIR, "scenarios"), os.path.join(ROOT, "tests", "integration", "scenarios"))
DEFAULT_SCENARIOS = "blog,messy,hostile,gen:accounts=200,account_instances=20,users=2000"
CURRENT_ACCOUNT = "111122223333"
ACCESS_KEYS = ("permission_sets", "account_assignments", "provisioned")
# What the new application_assignments may add, and which values UserStatus may take where
# every read succeeds (MEMBERS_NOT_READ marks a group whose members could not be read).
NEW_COLUMN = "UserStatus"
STATUS_VALUES = {"ENABLED", "DISABLED", "", "MEMBERS_NOT_READ"}
# Summary fields that differ from run to run by nature.
SUMMARY_VOLATILE = {"run_id", "started_at", "finished_at", "reports"}
# Differences in summary.json that other issues made on purpose after aa6f8dd: path ->
# (whether this difference is the explained one, why). A difference listed here is shown as
# KNOWN (with its reason) and does not fail the comparison; any other difference fails.
KNOWN_SUMMARY_CHANGES: dict[str, tuple[Any, str]] = {
    "complete": (
        lambda old, new: old["complete"] is True and new["complete"] is False
        and new.get("counts", {}).get("read_failures", 0) > 0,
        "16a8640 (issue 15 point 11, not issue 11): `complete` is now false when any read failed "
        "(counts.read_failures > 0); before, only when the Lambda deadline cut the run short",
    ),
}
# A change of CSV cells made on purpose after aa6f8dd by another issue: formula
# neutralisation (issue 15 point 16, commit 8c31809) also prefixes with `'` a cell whose
# first non-blank character is a formula start, and the full-width ＝＋－＠; before, only a
# cell whose very first character was = + - @ tab or CR. A cell that differs exactly so is
# KNOWN; any other changed cell fails.
OLD_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEW_FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NEUTRALISATION_CHANGE = "8c31809 (issue 15 point 16, not issue 11): formula prefix after blanks and full-width"


def newly_neutralised(old: str, new: str) -> bool:
    """Whether `new` is `old` as issue 15's wider formula rule writes it and the old rule did not."""
    return (new == "'" + old and not old.startswith(OLD_FORMULA_STARTS)
            and old.lstrip().startswith(NEW_FORMULA_STARTS))


ENV_DROP = ("CurrentAccountId", "reports_bucket", "REGIONS", "MAX_CONCURRENCY", "API_RATE_LIMIT",
            "REPORT_PREFIX", "CrossAccountRoleName", "RUST_LOG")


PASS, FAIL, KNOWN, INFO, NEW = "PASS", "FAIL", "KNOWN", "info", "NEW"


def status(ok: bool) -> str:
    return PASS if ok else FAIL


def say(text: str = "") -> None:
    print(text, flush=True)


# ----------------------------------------------------------------------------------------
# Scenarios and the emulator
# ----------------------------------------------------------------------------------------

def scenario_without_access(name: str) -> dict[str, Any]:
    """A shipped or generated scenario with no permission set, pair or account assignment."""
    if name.startswith("gen:"):
        from generate import generate  # the emulator's generator, as `serve --scenario gen:` runs it
        params: dict[str, int] = {}
        for part in name[4:].split(","):
            key, _, value = part.partition("=")
            params[key.strip()] = int(value)
        spec = generate(**params)
    else:
        path = name
        if not name.endswith(".json"):
            shipped = [os.path.join(d, f"{name}.json") for d in SCENARIO_DIRS]
            path = next((f for f in shipped if os.path.exists(f)), shipped[0])
        with open(path, encoding="utf-8") as fh:
            spec = json.load(fh)
    removed = {k: len(spec.get(k) or []) for k in ACCESS_KEYS}
    for key in ACCESS_KEYS:
        spec.pop(key, None)
    spec["_removed_for_comparison"] = removed  # unknown keys are ignored by the loader
    return spec


def run_binary(binary: str, endpoint: str, out_dir: str, log_path: str) -> tuple[int, float]:
    """`binary run --no-upload --out-dir out_dir` with the integration tests' environment."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ENV_DROP}
    env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": "/nonexistent/aws-config",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
                "AWS_EC2_METADATA_DISABLED": "true", "RUST_LOG": "info",
                "CurrentAccountId": CURRENT_ACCOUNT})
    os.makedirs(out_dir)
    t0 = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.run([binary, "run", "--no-upload", "--out-dir", out_dir], env=env,
                              stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=1800)
    return proc.returncode, time.perf_counter() - t0


# ----------------------------------------------------------------------------------------
# Comparisons. Each returns (ok, detail).
# ----------------------------------------------------------------------------------------

def read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def serialise(rows: list[list[str]]) -> bytes:
    """The writer's dialect: the Rust csv crate with Terminator::CRLF and its default
    QuoteStyle::Necessary (quotes only around fields holding a comma, a quote, CR or LF)."""
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buf.getvalue().encode("utf-8")


def first_difference(old: bytes, new: bytes, limit: int = 12) -> str:
    """A short unified diff of two CSV files (lines as written, CRLF shown as-is)."""
    a = old.decode("utf-8", "replace").splitlines(keepends=True)
    b = new.decode("utf-8", "replace").splitlines(keepends=True)
    diff = list(difflib.unified_diff(a, b, "old", "new", n=0, lineterm=""))
    shown = [repr(line) if not line.startswith(("---", "+++", "@@")) else line.rstrip() for line in diff[:limit]]
    more = f"\n      ... {len(diff) - limit} more diff lines" if len(diff) > limit else ""
    return f"{len(a)} vs {len(b)} lines; first differences:\n      " + "\n      ".join(shown) + more


def explain_cells(old_rows: list[list[str]], new_rows: list[list[str]]) -> tuple[list[str], list[str], list[list[str]]]:
    """Cells of `new_rows` that differ from `old_rows`: those explained by issue 15's wider
    formula rule, the rest, and `new_rows` with the explained cells put back as the old
    binary wrote them (to compare bytes). Rows are compared in order, as written."""
    if len(old_rows) != len(new_rows):
        return [], [f"{len(old_rows) - 1} old rows vs {len(new_rows) - 1} new rows"], new_rows
    known, unexplained, reverted = [], [], []
    for i, (o, n) in enumerate(zip(old_rows, new_rows)):
        if len(o) != len(n):
            unexplained.append(f"row {i}: {len(o)} vs {len(n)} columns")
            reverted.append(n)
            continue
        back = list(n)
        for j, (a, b) in enumerate(zip(o, n)):
            if a == b:
                continue
            where = f"row {i} {old_rows[0][j] if old_rows and j < len(old_rows[0]) else j}: {a!r} -> {b!r}"
            if newly_neutralised(a, b):
                known.append(where)
                back[j] = a
            else:
                unexplained.append(where)
        reverted.append(back)
    return known, unexplained, reverted


def compare_bytes(old_path: str, new_path: str) -> tuple[str, str]:
    old, new = read(old_path), read(new_path)
    old_rows = parse(old)
    if old == new:
        return PASS, f"{len(old)} bytes, {max(len(old_rows) - 1, 0)} rows"
    new_rows = parse(new)
    known, unexplained, reverted = explain_cells(old_rows, new_rows)
    # Both files round-trip through the csv module, so putting the known cells back and
    # re-serialising compares every byte of the new file.
    faithful = serialise(old_rows) == old and serialise(new_rows) == new
    if not unexplained and known and faithful and serialise(reverted) == old:
        return KNOWN, (f"differs only in {len(known)} cell(s) changed on purpose by {NEUTRALISATION_CHANGE}; "
                       "with them put back the bytes are the old file's: " + "; ".join(known))
    return FAIL, ((f"unexplained cells: {unexplained[:5]}; " if unexplained else "")
                  + first_difference(old, new))


def compare_application_assignments(old_path: str, new_path: str,
                                    spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    old, new = read(old_path), read(new_path)
    old_rows, new_rows = parse(old), parse(new)
    checks: list[tuple[str, str, str]] = []

    # 1. The new file is the old one plus a last column UserStatus.
    header_ok = bool(new_rows) and bool(old_rows) and new_rows[0] == old_rows[0] + [NEW_COLUMN]
    checks.append(("header = old header + UserStatus", status(header_ok),
                   f"new header ends with {new_rows[0][-2:] if new_rows else None}"))
    widths = {len(r) for r in new_rows}
    want_width = len(old_rows[0]) + 1 if old_rows else None
    checks.append(("every new row has one column more", status(widths == {want_width}),
                   f"new row widths {sorted(widths)}, old header width {want_width - 1 if want_width else None}"))
    stripped = [r[:-1] for r in new_rows]
    known, unexplained, reverted = explain_cells(old_rows, stripped)
    if stripped == old_rows:
        checks.append(("rows without UserStatus = old rows (parsed)", PASS,
                       f"{len(old_rows) - 1} rows, same order"))
    elif known and not unexplained:
        checks.append(("rows without UserStatus = old rows (parsed)", KNOWN,
                       f"{len(old_rows) - 1} rows, same order; {len(known)} cell(s) changed on purpose by "
                       f"{NEUTRALISATION_CHANGE}: " + "; ".join(known)))
    else:
        detail = f"{len(old_rows) - 1} old rows vs {len(new_rows) - 1} new rows"
        old_set = {tuple(r) for r in old_rows[1:]}
        new_set = {tuple(r) for r in stripped[1:]}
        if old_set == new_set:
            detail += "; same rows, other order"
        else:
            only_old = [short(r) for r in sorted(old_set - new_set)[:2]]
            only_new = [short(r) for r in sorted(new_set - old_set)[:2]]
            detail += (f"; {len(old_set - new_set)} only in old, e.g. {only_old}; "
                       f"{len(new_set - old_set)} only in new, e.g. {only_new}")
        checks.append(("rows without UserStatus = old rows (parsed)", FAIL, detail))

    # 2. Bytes: the re-serialisation is faithful (the old file round-trips), and the new
    #    file without the column, re-serialised, is the old file byte for byte.
    round_trip = serialise(old_rows) == old
    checks.append(("old file round-trips through the csv module", status(round_trip),
                   "parsed and re-serialised: the old bytes again (the dialect matches the writer)"
                   if round_trip else first_difference(old, serialise(old_rows))))
    # The new file's own bytes in the same dialect (CRLF, minimal quoting): together with
    # the next check, the new file is the old one with `,UserStatus` before each CRLF.
    new_trip = serialise(new_rows) == new
    checks.append(("new file round-trips through the csv module", status(new_trip),
                   "parsed and re-serialised: the new bytes again" if new_trip
                   else first_difference(serialise(new_rows), new)))
    rebuilt = serialise(stripped)
    if rebuilt == old:
        checks.append(("new minus UserStatus, re-serialised = old bytes", PASS, f"{len(old)} bytes"))
    elif known and not unexplained and serialise(reverted) == old:
        checks.append(("new minus UserStatus, re-serialised = old bytes", KNOWN,
                       f"{len(old)} bytes once the {len(known)} cell(s) above are put back as the old rule wrote them"))
    else:
        checks.append(("new minus UserStatus, re-serialised = old bytes", FAIL, first_difference(old, rebuilt)))

    # 3. What the new column holds: each user's status as the scenario gives it (ENABLED by
    #    default), empty on rows that name no user (an application without assignments, an
    #    empty group), MEMBERS_NOT_READ on a group whose members could not be read.
    values: dict[str, int] = {}
    for r in new_rows[1:]:
        values[r[-1]] = values.get(r[-1], 0) + 1
    unknown = set(values) - STATUS_VALUES
    shown = ", ".join(f"{k or '(empty)'}: {v}" for k, v in sorted(values.items()))
    checks.append(("UserStatus values", status(not unknown), shown or "no rows"))
    if new_rows and header_ok:
        col = {name: i for i, name in enumerate(new_rows[0])}
        want_status = {(u["store"], u["user_name"]): u.get("status", "ENABLED") for u in spec["users"]}
        wrong = []
        for r in new_rows[1:]:
            if r[col["UserId"]]:
                store, name = r[col["IdentityStoreId"]], r[col["UserName"]]
                if (store, name) not in want_status and name.startswith("'"):
                    name = name[1:]  # a name the report neutralised as a formula
                want = want_status.get((store, name), "(user not in scenario)")
            else:
                want = "" if r[-1] != "MEMBERS_NOT_READ" else "MEMBERS_NOT_READ"
            if r[-1] != want:
                wrong.append(f"{r[col['IdentityStoreId']]}/{r[col['UserName']]}: {r[-1]!r}, want {want!r}")
        disabled = sorted({f"{s_}/{n}" for (s_, n), v in want_status.items() if v == "DISABLED"})
        checks.append(("UserStatus = the scenario's user status", status(not wrong),
                       f"{len(new_rows) - 1} rows checked; DISABLED in the scenario: {disabled or 'none'}"
                       + (f"; wrong: {wrong[:5]}" if wrong else "")))
    return checks


def short(row: tuple[str, ...], width: int = 240) -> str:
    text = ",".join(row)
    return text if len(text) <= width else text[:width] + "..."


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves of a JSON value by path (`counts.users`, `account_errors[0].Stage`)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
    elif isinstance(value, list):
        if not value:
            out[prefix] = []
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def compare_summary(old_path: str, new_path: str) -> list[tuple[str, bool, str]]:
    with open(old_path, encoding="utf-8") as fh:
        old = json.load(fh)
    with open(new_path, encoding="utf-8") as fh:
        new = json.load(fh)
    old_leaves, new_leaves = flatten(old), flatten(new)

    def volatile(path: str) -> bool:
        return path.split(".")[0].split("[")[0] in SUMMARY_VOLATILE

    checks: list[tuple[str, str, str]] = []
    differing = []
    known = []
    missing = []
    for path, value in old_leaves.items():
        if volatile(path):
            continue
        if path not in new_leaves:
            # An empty list/object in the old summary may have become a non-empty one.
            if any(p.startswith(path + ".") or p.startswith(path + "[") for p in new_leaves):
                differing.append(f"{path}: {value!r} -> (now non-empty)")
            else:
                missing.append(path)
        elif new_leaves[path] != value:
            change = f"{path}: {value!r} -> {new_leaves[path]!r}"
            rule = KNOWN_SUMMARY_CHANGES.get(path)
            if rule and rule[0](old, new):
                known.append(f"{change}, changed on purpose by {rule[1]}")
            else:
                differing.append(change)
    kept = len([p for p in old_leaves if not volatile(p)])
    checks.append(("old fields hold the same values", status(not differing and not missing),
                   f"{kept} fields compared (all but {', '.join(sorted(SUMMARY_VOLATILE))})"
                   + (f"; {len(known)} known difference(s) below" if known else "")
                   + (f"; differ: {differing}" if differing else "")
                   + (f"; missing in new: {missing}" if missing else "")))
    for item in known:
        checks.append(("old field changed by another issue", KNOWN, item))
    old_reports = set(old.get("reports", {}))
    new_reports = set(new.get("reports", {}))
    checks.append(("reports map keeps the old reports", status(old_reports <= new_reports),
                   f"old {sorted(old_reports)}; new adds {sorted(new_reports - old_reports)}"))
    added = sorted(p for p in new_leaves if p not in old_leaves and not volatile(p)
                   and not any(p.startswith(q + ".") or p.startswith(q + "[") for q in old_leaves))
    checks.append(("fields added", INFO,
                   "; ".join(f"{p}={new_leaves[p]!r}" for p in added) or "none"))
    return checks


def same_outputs(dir_a: str, dir_b: str) -> tuple[str, str]:
    """Whether two runs of one binary wrote the same CSV files. summary.json and
    summary.html name the run's id, times and folder, so they are left out."""
    names = sorted(n for n in set(os.listdir(dir_a)) | set(os.listdir(dir_b)) if n.endswith(".csv"))
    differ = [n for n in names
              if not (os.path.exists(os.path.join(dir_a, n)) and os.path.exists(os.path.join(dir_b, n))
                      and read(os.path.join(dir_a, n)) == read(os.path.join(dir_b, n)))]
    return status(not differ), (f"{len(names)} CSV files identical" if not differ else f"differ: {differ}")


# ----------------------------------------------------------------------------------------

Row = tuple[str, str, str, str]  # report, check, result, detail


def compare_scenario(name: str, old_bin: str, new_bin: str, python: str, work: str) -> list[Row]:
    rows: list[Row] = []
    safe = name.replace(":", "_").replace(",", "_").replace("=", "").replace("/", "_")
    base = os.path.join(work, safe)
    os.makedirs(base)
    spec = scenario_without_access(name)
    scenario_path = os.path.join(base, "scenario.json")
    with open(scenario_path, "w", encoding="utf-8") as fh:
        json.dump(spec, fh)
    say(f"== {name}: removed from the scenario {spec['_removed_for_comparison']}")
    emu = EmulatorProcess(python, scenario_path, os.path.join(base, "emulator.log"), timeout=300)
    dirs: dict[str, str] = {}
    runs: list[str] = []
    try:
        counts = emu.admin("scenario")
        access = {k: counts.get(k) for k in ("permission_sets", "provisioned_pairs", "account_assignments")}
        rows.append(("(scenario)", "no permission sets in the emulator", status(all(v == 0 for v in access.values())),
                     f"{access}; accounts {counts.get('accounts')}, stores {counts.get('stores')}, "
                     f"users {counts.get('users')} (disabled {counts.get('disabled_users')}), "
                     f"groups {counts.get('groups')}, applications {counts.get('applications')}"))
        failed_runs = []
        for label, binary in (("old", old_bin), ("new", new_bin), ("old-2", old_bin), ("new-2", new_bin)):
            out = os.path.join(base, label)
            rc, secs = run_binary(binary, emu.endpoint, out, os.path.join(base, f"{label}.log"))
            say(f"   {label:6} exit {rc} in {secs:.1f} s")
            runs.append(f"{label} {secs:.1f} s")
            if rc != 0:
                failed_runs.append(f"{label} exit {rc} (see {label}.log)")
            dirs[label] = out
        rows.append(("(runs)", "old, new, old, new: each exits 0", status(not failed_runs),
                     "; ".join(failed_runs) or ", ".join(runs)))
    finally:
        emu.stop()

    for label in ("old", "new"):
        result, detail = same_outputs(dirs[label], dirs[f"{label}-2"])
        rows.append(("(runs)", f"{label} binary writes the same CSVs twice", result, detail))

    old_dir, new_dir = dirs["old"], dirs["new"]
    old_files, new_files = set(os.listdir(old_dir)), set(os.listdir(new_dir))
    for fname in sorted(old_files):
        old_path, new_path = os.path.join(old_dir, fname), os.path.join(new_dir, fname)
        if fname not in new_files:
            rows.append((fname, "written by the new binary", FAIL, "missing"))
        elif fname == "application_assignments.csv":
            for check, result, detail in compare_application_assignments(old_path, new_path, spec):
                rows.append((fname, check, result, detail))
        elif fname == "summary.json":
            for check, result, detail in compare_summary(old_path, new_path):
                rows.append((fname, check, result, detail))
        else:
            result, detail = compare_bytes(old_path, new_path)
            rows.append((fname, "byte-identical", result, detail))
    for fname in sorted(new_files - old_files):
        size = os.path.getsize(os.path.join(new_dir, fname))
        rows.append((fname, "new report, not compared", NEW, f"{size} bytes"))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("old_binary", help="idc-report built at aa6f8dd (before issue 11)")
    p.add_argument("new_binary", help="idc-report under test")
    p.add_argument("--scenarios", default=DEFAULT_SCENARIOS,
                   help="comma-separated: blog, messy, a scenario .json path, gen:k=v,... (a gen: "
                        f"spec takes the rest of the list; default {DEFAULT_SCENARIOS})")
    p.add_argument("--keep", metavar="DIR", help="keep every run's output under DIR (must not exist)")
    venv_python = os.path.join(ROOT, ".venv", "emulator", "bin", "python")
    p.add_argument("--python", default=venv_python if os.path.exists(venv_python) else sys.executable,
                   help="the emulator's Python (default .venv/emulator/bin/python)")
    args = p.parse_args()

    old_bin, new_bin = os.path.abspath(args.old_binary), os.path.abspath(args.new_binary)
    for b in (old_bin, new_bin):
        if not os.access(b, os.X_OK):
            p.error(f"{b} is not an executable")
    # "blog,messy,gen:a=1,b=2": a gen: spec takes the rest of the list (it holds commas).
    scenarios: list[str] = []
    parts = args.scenarios.split(",")
    while parts:
        part = parts.pop(0)
        if part.startswith("gen:"):
            scenarios.append(",".join([part] + parts))
            break
        scenarios.append(part)

    def version(b: str) -> str:
        return subprocess.run([b, "--version"], capture_output=True, text=True).stdout.strip()

    say("compare-reports: reports of organizations without permission sets, old binary against new")
    say(f"old: {old_bin} ({version(old_bin)}, sha256 {sha256(old_bin)[:16]})")
    say(f"new: {new_bin} ({version(new_bin)}, sha256 {sha256(new_bin)[:16]})")
    say(f"emulator and scenarios from: {ROOT} at {git_head()}")
    say(f"scenarios: {scenarios}")
    say()

    if args.keep:
        os.makedirs(args.keep)
        work = os.path.abspath(args.keep)
    else:
        work = tempfile.mkdtemp(prefix="compare-reports-")
    table: list[tuple[str, str, str, str, str]] = []
    try:
        for name in scenarios:
            for report, check, result, detail in compare_scenario(name, old_bin, new_bin, args.python, work):
                table.append((name, report, check, result, detail))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    say()
    w_r = max(len(r[1]) for r in table)
    w_c = max(len(r[2]) for r in table)
    for scenario in scenarios:
        say(f"scenario {scenario}")
        say(f"  {'report':<{w_r}}  {'check':<{w_c}}  result  detail")
        for name, report, check, result, detail in table:
            if name == scenario:
                say(f"  {report:<{w_r}}  {check:<{w_c}}  {result:<6}  {detail}")
        say()
    failed = [r for r in table if r[3] == FAIL]
    known = [r for r in table if r[3] == KNOWN]
    checked = [r for r in table if r[3] in (PASS, FAIL, KNOWN)]
    say(f"{FAIL if failed else PASS}: {len(checked) - len(failed) - len(known)} of {len(checked)} checks passed"
        + (f", {len(known)} known difference(s) made on purpose by other issues (KNOWN rows)" if known else "")
        + (f"; failed: {[f'{r[0]} {r[1]}: {r[2]}' for r in failed]}" if failed else ""))
    if args.keep:
        say(f"outputs kept in {work}")
    return 1 if failed else 0


def sha256(path: str) -> str:
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_head() -> str:
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
