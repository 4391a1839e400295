"""The files in events/: valid, of the documented shapes, each listed in events/README.md,
and the Scheduler input is exactly what the template's schedule sends. (Feeding them to
the handler against the emulator is a Rust test.)"""

from __future__ import annotations

import json
import re

from conftest import REPO

EVENTS = REPO / "events"
FILES = {"console-test.json", "scheduler-input.json", "scheduled-event.json", "override.json", "continue-run.json"}


def load(name: str):
    return json.loads((EVENTS / name).read_text())


def test_the_events_exist_and_nothing_else():
    assert {p.name for p in EVENTS.glob("*.json")} == FILES


def test_readme_documents_every_event():
    readme = (EVENTS / "README.md").read_text()
    for name in FILES:
        assert f"| `{name}` |" in readme, name


def test_console_test_is_empty():
    assert load("console-test.json") == {}


def test_scheduler_input_is_what_the_schedule_sends(template):
    schedule = template["Resources"]["AuditFunctionSchedule"]["Properties"]
    assert json.loads(schedule["Target"]["Input"]) == load("scheduler-input.json")
    assert set(load("scheduler-input.json")) <= {"accounts", "regions", "dry_run"}


def test_workflow_schedule_starts_what_the_console_starts(template):
    """Orchestration stepfunctions: the schedule starts an execution with the input the
    README tells a person to give in the console ({}, a full audit)."""
    (event,) = template["Resources"]["AuditStateMachine"]["Properties"]["Events"].values()
    assert json.loads(event["Properties"]["Input"]) == load("console-test.json") == {}


def test_classic_scheduled_event_envelope():
    event = load("scheduled-event.json")
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


def test_override():
    assert load("override.json") == {
        "accounts": ["111122221111", "111122225555"],
        "regions": ["us-east-1"],
        "dry_run": True,
    }


def test_continue_run_is_what_the_state_machine_sends():
    event = load("continue-run.json")
    assert set(event) == {"continue_run"}
    assert set(event["continue_run"]) == {"name", "started_at"}
    # Execution names the function accepts: 1 to 80 of A-Z a-z 0-9 - _.
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", event["continue_run"]["name"])
