"""Fixtures of the offline workflow tests: the project's emulator (S3 for reports and
checkpoints, the organization the audit reads), the state machine definition, the
function's command (the stand-in or the real binary), and `OfflineStepFunctions`."""

from __future__ import annotations

import glob
import importlib.util
import os
import subprocess
import sys
import tempfile
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from harness import OfflineStepFunctions  # noqa: E402

_spec = importlib.util.spec_from_file_location("emulator_fixtures", os.path.join(ROOT, "tests", "emulator", "conftest.py"))
assert _spec and _spec.loader
emulator_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(emulator_fixtures)

BUCKET = "idc-reports-workflow"
MANAGEMENT = "111122223333"  # the blog and messy scenarios' management account
FIXTURE_DEFINITION = os.path.join(HERE, "fixtures", "continuation.asl.json")


def definition_path() -> str:
    """`IDC_WORKFLOW_DEFINITION`, else the repository's statemachine/*.asl.json, else the
    fixture (a minimal continuation loop written to the contract)."""
    if os.environ.get("IDC_WORKFLOW_DEFINITION"):
        return os.environ["IDC_WORKFLOW_DEFINITION"]
    real = sorted(glob.glob(os.path.join(ROOT, "statemachine", "*.asl.json")))
    return real[0] if real else FIXTURE_DEFINITION


def substitutions_for(definition: str, function_arn: str) -> dict[str, str]:
    """The template's DefinitionSubstitutions: each `${...Function...}` is the function's ARN."""
    from harness import PLACEHOLDER
    subs = {}
    for name in set(PLACEHOLDER.findall(definition)):
        if "function" in name.lower():
            subs[name] = function_arn
    return subs


class Emulator:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                               aws_access_key_id="AKIAMANAGEMENT00000", aws_secret_access_key="secret",
                               config=Config(s3={"addressing_style": "path"}))

    def keys(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def sandbox_env(self) -> dict[str, str]:
        """What Lambda's sandbox gives the process besides the function's variables: here
        credentials any emulator account accepts (the management account's), the endpoint."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                "AWS_ACCESS_KEY_ID": "AKIAMANAGEMENT00000", "AWS_SECRET_ACCESS_KEY": "secret",
                "AWS_SESSION_TOKEN": "offline", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_CONFIG_FILE": "/nonexistent/aws-config",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials", "AWS_EC2_METADATA_DISABLED": "true"}


def _serve(scenario: str) -> Iterator[Emulator]:
    proc, endpoint, _ = emulator_fixtures.start_server(scenario)
    try:
        emu = Emulator(endpoint)
        emu.s3.create_bucket(Bucket=BUCKET)
        yield emu
    finally:
        emulator_fixtures.stop_server(proc)


@pytest.fixture(scope="module")
def blog() -> Iterator[Emulator]:
    yield from _serve("blog")


@pytest.fixture(scope="module")
def messy() -> Iterator[Emulator]:
    yield from _serve("messy")


@pytest.fixture
def offline() -> Iterator[OfflineStepFunctions]:
    with tempfile.TemporaryDirectory(prefix="workflow-") as logs:
        with OfflineStepFunctions(logs) as sfn:
            yield sfn
            for host in sfn.hosts.values():  # the function's log, for a failing test's report
                if os.path.exists(host.log_path):
                    with open(host.log_path, errors="replace") as fh:
                        sys.stderr.write(fh.read()[-6000:])


@pytest.fixture(scope="session")
def definition() -> tuple[str, str]:
    path = definition_path()
    with open(path) as fh:
        return path, fh.read()


def real_binary() -> tuple[str | None, str]:
    """The newest built idc-report (IDC_REPORT_BIN overrides), and why it cannot be used."""
    candidates = [os.environ["IDC_REPORT_BIN"]] if os.environ.get("IDC_REPORT_BIN") else \
        [os.path.join(ROOT, "target", d, "idc-report") for d in ("debug", "release")]
    built = [c for c in candidates if os.path.exists(c)]
    if not built:
        return None, "no built idc-report (cargo build)"
    binary = max(built, key=os.path.getmtime)
    helptext = subprocess.run([binary, "run", "--help"], capture_output=True, text=True).stdout
    if "--event" not in helptext:
        return None, f"{binary} predates resumable runs (no `run --event`): build the current source"
    return binary, ""


STANDIN = [sys.executable, os.path.join(HERE, "standin_function.py")]


def function_variables(**extra: Any) -> dict[str, str]:
    env = {"CurrentAccountId": MANAGEMENT, "reports_bucket": BUCKET, "REPORT_PREFIX": "idc-reports"}
    env.update({k: str(v) for k, v in extra.items()})
    return env
