"""Shared helpers for the deployment checks (run by scripts/check-deploy.sh)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

# Offline: a Region for the tools that want one, no telemetry, no update check.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])
os.environ["SAM_CLI_TELEMETRY"] = "0"
os.environ.setdefault("SAM_CLI_DISABLE_UPDATE_CHECK", "1")


def load_template(path: Path) -> dict:
    """A CloudFormation/SAM template with its short tags (!Ref, !Sub ...) turned into
    their long form, the way sam itself reads it."""
    from samcli.yamlhelper import yaml_parse

    return yaml_parse(path.read_text())


def tool(name: str) -> str:
    """A command from this venv (the one pytest runs in), else from PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: run scripts/setup-deploy-tools.sh")
    return found


@pytest.fixture(scope="session")
def template() -> dict:
    return load_template(REPO / "template.yaml")


@pytest.fixture(scope="session")
def member_template() -> dict:
    return load_template(REPO / "member-role.yaml")


@pytest.fixture(scope="session")
def function(template) -> dict:
    return template["Resources"]["AuditFunction"]


# Facts worth seeing in the test command's output (architecture built, timings), printed
# at the end of the run whatever pytest captures.
NOTES: list[str] = []


def note(message: str) -> None:
    NOTES.append(message)
    print(message)


def pytest_terminal_summary(terminalreporter):
    if NOTES:
        terminalreporter.section("deployment check notes")
        for message in NOTES:
            terminalreporter.write_line(message)
