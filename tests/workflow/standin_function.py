"""A stand-in for `idc-report` in Lambda mode, following the resumable-run contract, so the
workflow harness can be proven without the real binary: a custom runtime (runtime API
2018-06-01 client) whose "audit" is `STANDIN_UNITS` units of `STANDIN_UNIT_SECONDS` each.

Event: `{"continue_run": {"name": ..., "started_at": ...}}`. State under
`s3://{reports_bucket}/{REPORT_PREFIX}/checkpoints/{name}/`: `checkpoint.json` (saved after
every unit, so a killed invocation loses none) and `done.json` (the final answer, returned
again without work). A checkpoint of another `started_at` is another run's: ignored. Stops
starting units when the deadline is `DEADLINE_MARGIN_SECONDS` away and answers
`{"done": false, ...}`; the last invocation writes `{REPORT_PREFIX}/standin/{run_id}.json`
(the units done, in order, each once) and answers `{"done": true, "summary": ...}`.
A name outside [A-Za-z0-9_-]{1,80} is a function error `InvalidEvent`.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
import uuid

import boto3
from botocore.config import Config

API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
BUCKET = os.environ["reports_bucket"]
PREFIX = os.environ.get("REPORT_PREFIX", "idc-reports")
UNITS = int(os.environ.get("STANDIN_UNITS", "12"))
UNIT_SECONDS = float(os.environ.get("STANDIN_UNIT_SECONDS", "0.2"))
MARGIN = float(os.environ.get("DEADLINE_MARGIN_SECONDS", "0.5"))
NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")

s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION"),
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


class FunctionError(Exception):
    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def get_json(key: str) -> dict | None:
    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def put_json(key: str, value: dict) -> int:
    body = json.dumps(value).encode()
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return len(body)


def handle(event: dict, deadline: float) -> dict:
    run = event.get("continue_run")
    if not isinstance(run, dict) or not isinstance(run.get("name"), str) or not NAME.match(run["name"]) \
            or not isinstance(run.get("started_at"), str):
        raise FunctionError("InvalidEvent", f"continue_run needs a name of 1-80 [A-Za-z0-9_-] and started_at: {run!r}")
    base = f"{PREFIX}/checkpoints/{run['name']}"
    done = get_json(f"{base}/done.json")
    if done is not None and done.get("started_at") == run["started_at"]:
        return done["answer"]
    cp = get_json(f"{base}/checkpoint.json")
    if cp is None or cp.get("started_at") != run["started_at"]:
        cp = {"started_at": run["started_at"], "run_id": uuid.uuid4().hex, "units": [], "invocation": 0}
    cp["invocation"] += 1
    size = put_json(f"{base}/checkpoint.json", cp)
    while len(cp["units"]) < UNITS and deadline - time.time() > MARGIN + UNIT_SECONDS:
        time.sleep(UNIT_SECONDS)
        cp["units"].append(len(cp["units"]))
        size = put_json(f"{base}/checkpoint.json", cp)
    if len(cp["units"]) < UNITS:
        return {"done": False, "run_id": cp["run_id"], "invocation": cp["invocation"],
                "pending_units": UNITS - len(cp["units"]),
                "checkpoint": {"key": f"s3://{BUCKET}/{base}/checkpoint.json", "bytes": size}}
    report = f"{PREFIX}/standin/{cp['run_id']}.json"
    put_json(report, {"units": cp["units"]})
    answer = {"done": True, "run_id": cp["run_id"], "invocation": cp["invocation"],
              "summary": {"run_id": cp["run_id"], "units": len(cp["units"]), "report": f"s3://{BUCKET}/{report}",
                          "complete": True}}
    put_json(f"{base}/done.json", {"started_at": run["started_at"], "answer": answer})
    return answer


def post(path: str, body: dict, headers: dict | None = None) -> None:
    req = urllib.request.Request(f"{API}/{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    urllib.request.urlopen(req, timeout=30).read()


def main() -> None:
    while True:
        with urllib.request.urlopen(f"{API}/next", timeout=None) as resp:
            request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline = int(resp.headers["Lambda-Runtime-Deadline-Ms"]) / 1000
            event = json.loads(resp.read())
        try:
            answer = handle(event, deadline)
        except FunctionError as e:
            post(f"{request_id}/error", {"errorType": e.error_type, "errorMessage": str(e)},
                 {"Lambda-Runtime-Function-Error-Type": e.error_type})
            continue
        post(f"{request_id}/response", answer)


if __name__ == "__main__":
    main()
