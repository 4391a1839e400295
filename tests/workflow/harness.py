"""Runs a Step Functions definition offline: moto's ASL interpreter executes it, and each
Lambda task is served by a real process through the Lambda runtime API.

moto (5.2.x) has two Step Functions backends. The default one stores definitions and
answers every execution with canned data; the other, under `moto/stepfunctions/parser`
(derived from LocalStack's interpreter), parses the definition and executes it in a
thread. It is chosen per request by moto's user config
`{"stepfunctions": {"execute_state_machine": True}}` (`mock_aws(config=...)` in process;
`POST /moto-api/config` for a moto server) and needs `antlr4-python3-runtime` and
`jsonpath-ng`. Its Task states call Lambda with a boto3 client; inside `mock_aws` that
call reaches moto's Lambda backend in this process, which hands it to
`LambdaFunction.invoke`: `OfflineStepFunctions` replaces that method so a function
registered with `add_function` is invoked in a `FunctionHost` (a real process against a
fake runtime API, see tests/emulator/lambda_runtime.py) instead of docker.

Two corrections to moto, so that it behaves as Step Functions does (each documented in
tests/workflow/README.md):
- StartExecution without a name: Step Functions names the execution with a UUID; moto's
  interpreter leaves it `None` (the ARN ends in `:None` and `$$.Execution.Name` is null).
- Nothing else is changed: `$$.Execution.StartTime` stays as moto renders it
  (`2026-11-30T21:43:45.530653+00:00`; Step Functions: `2026-11-30T21:43:45.530Z`), both
  RFC 3339.

Requests to 127.0.0.1 (the project's emulator) pass through the mock untouched.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import time
import uuid
import zipfile
from typing import Any
from unittest import mock

import boto3
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "emulator"))
from lambda_runtime import FunctionHost  # noqa: E402

REGION = "us-east-1"
# moto's config replaces each top-level section whole: "core" is repeated with its defaults.
MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": True},  # never reached: LambdaFunction.invoke is replaced
    "core": {"mock_credentials": True, "reset_boto3_session": True, "service_whitelist": None,
             "passthrough": {"urls": [r"https?://127\.0\.0\.1(:\d+)?/.*"], "services": []}},
}
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def substitute(definition: str, substitutions: dict[str, str]) -> str:
    """CloudFormation's DefinitionSubstitutions: every `${Name}` replaced; none may remain."""
    missing = sorted({m for m in PLACEHOLDER.findall(definition) if m not in substitutions})
    if missing:
        raise ValueError(f"the definition names substitutions the test does not provide: {missing}")
    return PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], definition)


class OfflineStepFunctions:
    def __init__(self, log_dir: str):
        self.log_dir = log_dir
        self.hosts: dict[str, FunctionHost] = {}
        self._mock = mock_aws(config=MOTO_CONFIG)  # type: ignore[arg-type]
        self._patches: list[Any] = []
        self.role_arn = ""

    def __enter__(self) -> "OfflineStepFunctions":
        self._mock.start()
        hosts = self.hosts
        original_invoke = LambdaFunction.invoke

        def invoke(fn: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> bytes:
            host = hosts.get(fn.function_arn)
            if host is None:
                return original_invoke(fn, body, request_headers, response_headers)
            kind = request_headers.get("x-amz-invocation-type") or request_headers.get("X-Amz-Invocation-Type") \
                or "RequestResponse"
            if kind != "RequestResponse":
                raise NotImplementedError(f"offline invocation type {kind}")
            payload = body.encode() if isinstance(body, str) else (body or b"{}")
            outcome = host.invoke(payload)
            if outcome.function_error:
                response_headers["x-amz-function-error"] = outcome.function_error
            return outcome.payload

        original_start = StepFunctionsParserBackend.start_execution

        def start_execution(backend: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
                            trace_header: Any = None) -> Any:
            return original_start(backend, state_machine_arn, name or str(uuid.uuid4()), execution_input,
                                  trace_header)

        self._patches = [mock.patch.object(LambdaFunction, "invoke", invoke),
                         mock.patch.object(StepFunctionsParserBackend, "start_execution", start_execution)]
        for p in self._patches:
            p.start()
        iam = boto3.client("iam", region_name=REGION)
        self.role_arn = iam.create_role(
            RoleName="offline-workflow",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}}]}),
        )["Role"]["Arn"]
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.lam = boto3.client("lambda", region_name=REGION)
        return self

    def __exit__(self, *exc: Any) -> None:
        for host in self.hosts.values():
            host.close()
        for p in reversed(self._patches):
            p.stop()
        self._mock.stop()

    def add_function(self, name: str, command: list[str], variables: dict[str, str], sandbox_env: dict[str, str],
                     timeout: float, memory_mb: int = 256) -> FunctionHost:
        """Creates the function in moto's Lambda (its `Environment.Variables` = `variables`,
        its `Timeout`) and a host that runs `command` for it. The process gets `variables`,
        then `sandbox_env` (what Lambda's sandbox adds: credentials, endpoint, PATH), then
        the runtime's own variables. `timeout` may be fractional (Lambda: whole seconds)."""
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\n# not run: the offline host runs the real process\n")
        arn = self.lam.create_function(
            FunctionName=name, Runtime="provided.al2023", Role=self.role_arn, Handler="bootstrap",
            Code={"ZipFile": code.getvalue()}, Timeout=max(1, int(timeout)), MemorySize=memory_mb,
            Environment={"Variables": variables},
        )["FunctionArn"]
        env = dict(variables)
        env.update(sandbox_env)
        host = FunctionHost(command, env, timeout, arn, os.path.join(self.log_dir, f"{name}.log"), memory_mb)
        self.hosts[arn] = host
        return host

    def create_state_machine(self, name: str, definition: str, substitutions: dict[str, str]) -> str:
        return self.sfn.create_state_machine(name=name, definition=substitute(definition, substitutions),
                                             roleArn=self.role_arn, type="STANDARD")["stateMachineArn"]

    def run(self, state_machine_arn: str, execution_input: str = "{}", name: str | None = None,
            timeout: float = 90.0) -> dict[str, Any]:
        """Starts an execution, waits for its end; the DescribeExecution answer plus `history`."""
        kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn, "input": execution_input}
        if name:
            kwargs["name"] = name
        arn = self.sfn.start_execution(**kwargs)["executionArn"]
        end = time.monotonic() + timeout
        while True:
            desc = self.sfn.describe_execution(executionArn=arn)
            if desc["status"] != "RUNNING":
                break
            if time.monotonic() > end:
                self.sfn.stop_execution(executionArn=arn, error="OfflineTimeout", cause="the test stopped waiting")
                desc = self.sfn.describe_execution(executionArn=arn)
                desc["test_timed_out"] = True
                break
            time.sleep(0.1)
        desc["history"] = self.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return desc
