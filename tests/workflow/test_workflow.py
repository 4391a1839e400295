"""The Step Functions workflow, executed end to end offline by moto's ASL interpreter, each
Lambda task served by a process through the Lambda runtime API (see harness.py).

First against the stand-in function (standin_function.py: the contract, with a known
amount of work), which proves the interpreter, the routing, the loop and the Retry; then
against the real `idc-report` binary and the project's emulator."""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import pytest

from conftest import (BUCKET, ROOT, STANDIN, Emulator, definition_path, function_variables, real_binary,
                      substitutions_for)
from harness import OfflineStepFunctions, substitute


def start(offline: OfflineStepFunctions, definition: tuple[str, str], command: list[str], emu: Emulator,
          timeout: float, **variables: Any):
    host = offline.add_function("idc-report", command, function_variables(**variables), emu.sandbox_env(), timeout)
    text = definition[1]
    sm = offline.create_state_machine("idc-report-audit", text, substitutions_for(text, host.function_arn))
    return host, sm


def failures(history: list[dict[str, Any]]) -> list[str]:
    """The error of every failed Lambda task, in order."""
    out = []
    for e in history:
        for key in ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails"):
            if key in e:
                out.append(e[key].get("error", ""))
    return out


def explain(desc: dict[str, Any], host: Any) -> str:
    return json.dumps({"status": desc["status"], "error": desc.get("error"), "cause": desc.get("cause"),
                       "invocations": host.records,
                       "history": [e["type"] for e in desc["history"]]}, default=str, indent=1)[-8000:]


def test_definition_is_found_and_complete(definition):
    path, text = definition
    assert path == definition_path()
    json.loads(text)  # JSON, not YAML
    arn = "arn:aws:lambda:us-east-1:123456789012:function:idc-report"
    resolved = json.loads(substitute(text, substitutions_for(text, arn)))  # every ${...} resolved
    assert arn in json.dumps(resolved), f"{path} never names the function"


# ---------------------------------------------------------------------------------------
# The stand-in function: the contract with a known amount of work.
# ---------------------------------------------------------------------------------------

def standin_units(emu: Emulator, summary: dict[str, Any]) -> list[int]:
    key = summary["report"].split(f"s3://{BUCKET}/", 1)[1]
    return json.loads(emu.read(key))["units"]


def test_standin_loop_runs_to_the_summary(offline, definition, blog):
    # 12 units of 0.2 s, 1.5 s invocations with a 0.5 s margin (5 units each): 3 invocations
    host, sm = start(offline, definition, STANDIN, blog, timeout=1.5, STANDIN_UNITS=12, STANDIN_UNIT_SECONDS=0.2,
                     DEADLINE_MARGIN_SECONDS=0.5)
    desc = offline.run(sm, "{}")
    assert desc["status"] == "SUCCEEDED", explain(desc, host)
    output = json.loads(desc["output"])
    final = host.records[-1]["answer"]
    assert final["done"] is True
    assert output == final["summary"], "the execution's output is the run summary"
    assert len(host.records) >= 3, explain(desc, host)
    assert all(r["function_error"] is None for r in host.records)
    assert all(r["answer"]["done"] is False for r in host.records[:-1])
    # every invocation got the same event, named after the execution (a UUID: started with no name)
    events = {json.dumps(r["event"], sort_keys=True) for r in host.records}
    assert len(events) == 1, events
    run = host.records[0]["event"]["continue_run"]
    assert run["name"] == desc["name"] and len(run["name"]) == 36
    assert run["started_at"][:19] == desc["startDate"].isoformat()[:19]
    assert standin_units(blog, output) == list(range(12))
    assert host.records[0]["cold_start"] and not any(r["cold_start"] for r in host.records[1:])


@pytest.mark.parametrize("fault,error", [("kill", "Runtime.ExitError"), ("hang", "Sandbox.Timedout")])
def test_standin_failed_invocation_is_retried_from_the_checkpoint(offline, definition, blog, fault, error):
    host, sm = start(offline, definition, STANDIN, blog, timeout=1.5, STANDIN_UNITS=12, STANDIN_UNIT_SECONDS=0.2,
                     DEADLINE_MARGIN_SECONDS=0.5)
    # the second invocation: killed 0.7 s in, or told a deadline 5 s later than the 1.5 s timeout
    host.plan(2, fault, 0.7 if fault == "kill" else 5.0)
    desc = offline.run(sm, "{}", name=f"retry-{fault}")
    assert desc["status"] == "SUCCEEDED", explain(desc, host)
    assert host.records[1]["error_type"] == error, explain(desc, host)
    assert failures(desc["history"]) == [error], "the failure reached the definition, which retried it"
    assert host.records[2]["cold_start"], "a new process after Lambda's own error"
    assert host.records[2]["event"] == host.records[1]["event"], "the retry sends the same event"
    output = json.loads(desc["output"])
    assert standin_units(blog, output) == list(range(12)), "no unit lost or done twice"


def test_function_error_the_definition_does_not_retry_fails_the_execution(offline, definition, blog):
    host, sm = start(offline, definition, STANDIN, blog, timeout=1.5)
    desc = offline.run(sm, "{}", name="name.with.dots")  # a valid execution name the function refuses
    assert desc["status"] == "FAILED", explain(desc, host)
    assert desc.get("error") == "InvalidEvent", explain(desc, host)
    assert len(host.records) == 1, "InvalidEvent is not retried"


# ---------------------------------------------------------------------------------------
# The real binary against the project's emulator.
# ---------------------------------------------------------------------------------------

BINARY, WHY_NOT = real_binary()
# Skipped only when no usable binary was asked for: with IDC_REPORT_BIN set (scripts/test
# sets it) a missing or old binary fails the tests.
needs_binary = pytest.mark.skipif(BINARY is None and not os.environ.get("IDC_REPORT_BIN"), reason=WHY_NOT)
SCENARIOS = os.path.join(ROOT, "tests", "emulator", "scenarios")


def expected_assignment_rows(scenario: str) -> list[list[str]]:
    with open(os.path.join(SCENARIOS, f"{scenario}.json")) as fh:
        return sorted(json.load(fh)["expected"]["account_assignment_rows"])


def report_rows(emu: Emulator, url: str) -> tuple[list[str], list[list[str]]]:
    key = url.split(f"s3://{BUCKET}/", 1)[1]
    rows = list(csv.reader(io.StringIO(emu.read(key).decode("utf-8-sig"))))
    return rows[0], rows[1:]


def real_function(offline: OfflineStepFunctions, definition: tuple[str, str], emu: Emulator, prefix: str):
    # messy: about 13 s of work at API_RATE_LIMIT 20 (the management account's calls);
    # at 40 a second, 3 s invocations with a 1 s margin need at least 3 invocations
    assert BINARY is not None, WHY_NOT
    return start(offline, definition, [BINARY], emu, timeout=3, REPORT_PREFIX=prefix, DEADLINE_MARGIN_SECONDS=1,
                 CHECKPOINT_INTERVAL_SECONDS=1, API_RATE_LIMIT=40, MAX_CONCURRENCY=8, RUST_LOG="info")


def check_real_run(desc: dict[str, Any], host: Any, emu: Emulator) -> dict[str, Any]:
    assert desc["status"] == "SUCCEEDED", explain(desc, host)
    output = json.loads(desc["output"])
    answers = [r["answer"] for r in host.records if r["function_error"] is None]
    assert answers[-1]["done"] is True and output == answers[-1]["summary"], "the output is the run summary"
    assert all(a["done"] is False and a["checkpoint"]["bytes"] > 0 for a in answers[:-1]), explain(desc, host)
    assert len({a["run_id"] for a in answers}) == 1, "one run across the invocations"
    assert len({json.dumps(r["event"], sort_keys=True) for r in host.records}) == 1, "the same event every time"
    # messy as a one-shot run sees it: 42 audited, 2 skipped (not ACTIVE), 2 failed (AssumeRole
    # denied), so not `complete`; and nothing left unread by the deadlines of the invocations
    counts = output["counts"]
    assert (counts["accounts_audited"], counts["accounts_skipped"], counts["accounts_failed"]) == (42, 2, 2), counts
    codes = {e["error_code"] for e in output["account_errors"]}
    assert codes == {"ACCOUNT_NOT_ACTIVE", "ASSUME_ROLE_DENIED"}, output["account_errors"]
    assert output["accounts_not_reached"] == []
    columns, rows = report_rows(emu, output["reports"]["account_assignments"])
    assert sorted(rows) == expected_assignment_rows("messy"), "no row lost or duplicated across invocations"
    return output


@needs_binary
def test_real_binary_runs_the_workflow_to_the_summary(offline, definition, messy):
    host, sm = real_function(offline, definition, messy, "wf-loop")
    desc = offline.run(sm, "{}", timeout=100)
    check_real_run(desc, host, messy)
    assert len(host.records) >= 3, explain(desc, host)


@needs_binary
def test_real_binary_killed_invocation_is_retried_from_the_checkpoint(offline, definition, messy):
    host, sm = real_function(offline, definition, messy, "wf-kill")
    host.plan(2, "kill", 1.5)  # mid-way through the second invocation
    desc = offline.run(sm, "{}", timeout=100)
    assert host.records[1]["error_type"] == "Runtime.ExitError", explain(desc, host)
    assert failures(desc["history"]) == ["Runtime.ExitError"], explain(desc, host)
    check_real_run(desc, host, messy)
