"""Fixtures of the offline workflow tests: the project's emulator (S3 for reports and
checkpoints, the organization the audit reads), the state machine definition, the
function's command (the stand-in or the real binary), and `OfflineStepFunctions`."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from typing import Any, Iterator

import boto3
import pytest
import yaml
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


TEMPLATE = os.path.join(ROOT, "template.yaml")
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": "123456789012",
          "AWS::URLSuffix": "amazonaws.com"}


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Sub, !GetAtt, ...) read as {"Fn::Sub": ...}."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def template_state_machine() -> tuple[str, dict[str, Any], dict[str, Any]] | None:
    """From template.yaml: the state machine's definition file, its DefinitionSubstitutions
    and the template's resources; None when the template deploys no state machine."""
    if not os.path.exists(TEMPLATE):
        return None
    with open(TEMPLATE) as fh:
        template = yaml.load(fh, Loader=_CfnLoader)
    resources = template.get("Resources", {})
    for res in resources.values():
        props = res.get("Properties", {})
        if res.get("Type") == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            return os.path.join(ROOT, props["DefinitionUri"]), props.get("DefinitionSubstitutions", {}), resources
    return None


def definition_path() -> str:
    """`IDC_WORKFLOW_DEFINITION`, else the state machine's DefinitionUri in template.yaml,
    else the fixture (a minimal continuation loop written to the contract)."""
    if os.environ.get("IDC_WORKFLOW_DEFINITION"):
        return os.environ["IDC_WORKFLOW_DEFINITION"]
    found = template_state_machine()
    return found[0] if found else FIXTURE_DEFINITION


def substitutions_for(definition: str, function_arn: str) -> dict[str, str]:
    """The template's DefinitionSubstitutions as CloudFormation resolves them (pseudo
    parameters of us-east-1; `!GetAtt <the function>.Arn` is the offline function's ARN).
    The fixture's only substitution is AuditFunctionArn."""
    found = template_state_machine()
    if found is None or os.environ.get("IDC_WORKFLOW_DEFINITION") or definition_path() == FIXTURE_DEFINITION:
        return {"AuditFunctionArn": function_arn}
    _, subs, resources = found
    out = {}
    for key, value in subs.items():
        if isinstance(value, str):
            out[key] = value
        elif isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            text = value["Fn::Sub"]
            for pseudo, resolved in PSEUDO.items():
                text = text.replace("${" + pseudo + "}", resolved)
            if "${" in text:
                raise ValueError(f"DefinitionSubstitutions {key}: cannot resolve {value} offline")
            out[key] = text
        elif isinstance(value, dict) and "Fn::GetAtt" in value:
            target, attr = value["Fn::GetAtt"]
            kind = resources.get(target, {}).get("Type")
            if attr != "Arn" or kind not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
                raise ValueError(f"DefinitionSubstitutions {key}: {value} is not a function's ARN")
            out[key] = function_arn
        else:
            raise ValueError(f"DefinitionSubstitutions {key}: cannot resolve {value} offline")
    return out


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
