"""A local stand-in for AWS Lambda's execution environment: the Lambda runtime API
(version 2018-06-01) on 127.0.0.1 and a host that runs one function process against it.

`RuntimeAPI` serves what a custom runtime calls: `GET /runtime/invocation/next` (held until
an invocation is queued; answered with the event and the `Lambda-Runtime-Aws-Request-Id`,
`Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn` and
`Lambda-Runtime-Trace-Id` headers), `POST /runtime/invocation/{id}/response`,
`POST /runtime/invocation/{id}/error` and `POST /runtime/init/error`. It records the time
of every `/next` (the benchmark times start-up with it).

`FunctionHost` is one execution environment: it starts the function's process on the
first invocation (a cold start), hands it each invocation with a deadline of `timeout`
seconds, and answers as Lambda's Invoke does: the function's result, or a function error
(`FunctionError: Unhandled`) whose payload is what the function posted to `/error`, or
Lambda's own `Runtime.ExitError` (the process exited or was killed during the invocation;
on a cold start, what it posted to `/init/error` if it did)
and `Sandbox.Timedout` (no answer by the deadline: the process is killed). After those two
the next invocation starts a new process, as Lambda resets the environment. A test can
plan a failure for the n-th invocation: `kill` (SIGKILL after some seconds) or `hang` (the
process is told a later deadline than the host enforces, so it is still working when the
timeout kills it).

Processes are stopped by PID. Only the standard library is used.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
INIT_LIMIT = 10.0  # seconds Lambda gives a runtime to start and ask for its first event


@dataclass
class Invocation:
    request_id: str
    payload: bytes
    told_seconds: float  # the deadline the function is told, from the moment it gets the event
    function_arn: str
    delivered_at: float | None = None  # time.monotonic() when /next handed it over
    deadline_ms: int = 0
    answered: threading.Event = field(default_factory=threading.Event)
    # "response" or "error" once the function posted; body as posted
    kind: str | None = None
    body: bytes = b""
    error_type: str | None = None


def _gone(sock: socket.socket) -> bool:
    """True when the peer closed the connection (a process that exited or was killed)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class RuntimeAPI:
    """The runtime API's HTTP side. `submit` queues an invocation for the next `/next`."""

    def __init__(self) -> None:
        self._pending: queue.Queue[Invocation | None] = queue.Queue()
        self._by_id: dict[str, Invocation] = {}
        self._lock = threading.Lock()
        self.next_arrivals: queue.Queue[float] = queue.Queue()  # perf_counter() of each GET /next
        self.init_errors: list[bytes] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._answer(404, b'{"errorMessage":"unknown path"}')
                    return
                api.next_arrivals.put(time.perf_counter())
                while True:  # held until an invocation comes, or the caller is gone
                    try:
                        inv = api._pending.get(timeout=0.05)
                    except queue.Empty:
                        if _gone(self.connection):
                            self.close_connection = True
                            return
                        continue
                    if inv is None:  # shutting down: leave the runtime waiting
                        api._pending.put(None)
                        self.close_connection = True
                        return
                    if _gone(self.connection):  # a killed process: keep the event for the next one
                        api._pending.put(inv)
                        self.close_connection = True
                        return
                    break
                inv.delivered_at = time.monotonic()
                inv.deadline_ms = int((time.time() + inv.told_seconds) * 1000)
                self._answer(200, inv.payload, {
                    "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": inv.function_arn,
                    "Lambda-Runtime-Trace-Id": f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0",
                })

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == f"{PREFIX}/init/error":
                    api.init_errors.append(body)
                    self._answer(202, b'{"status":"OK"}')
                    return
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
                    self._answer(404, b'{"errorMessage":"unknown path"}')
                    return
                with api._lock:
                    inv = api._by_id.get(parts[1])
                if inv is None or inv.answered.is_set():
                    self._answer(400, b'{"errorMessage":"unknown or already answered request id","errorType":"InvalidRequestID"}')
                    return
                inv.kind, inv.body = parts[2], body
                if parts[2] == "error":
                    inv.error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                inv.answered.set()
                self._answer(202, b'{"status":"OK"}')

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def submit(self, payload: bytes, told_seconds: float, function_arn: str) -> Invocation:
        inv = Invocation(str(uuid.uuid4()), payload, told_seconds, function_arn)
        with self._lock:
            self._by_id[inv.request_id] = inv
        self._pending.put(inv)
        return inv

    def withdraw(self, inv: Invocation) -> None:
        """An invocation nobody took (the process died first) must not reach the next one."""
        kept = []
        while True:
            try:
                item = self._pending.get_nowait()
            except queue.Empty:
                break
            if item is not inv:
                kept.append(item)
        for item in kept:
            self._pending.put(item)

    def close(self) -> None:
        self._pending.put(None)
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Outcome:
    """What Lambda's Invoke answers: `function_error` is None or "Unhandled"."""
    payload: bytes
    function_error: str | None
    error_type: str | None
    seconds: float
    cold_start: bool
    request_id: str


class FunctionHost:
    """One execution environment running `command` (a custom runtime) against a RuntimeAPI."""

    def __init__(self, command: list[str], env: dict[str, str], timeout: float, function_arn: str,
                 log_path: str, memory_mb: int = 128):
        self.command = command
        self.env = env
        self.timeout = timeout
        self.function_arn = function_arn
        self.log_path = log_path
        self.memory_mb = memory_mb
        self.api = RuntimeAPI()
        self.proc: subprocess.Popen[bytes] | None = None
        self.plans: dict[int, tuple[str, float]] = {}  # invocation number (1-based) -> (kind, seconds)
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # one invocation at a time, as one environment serves them

    def plan(self, invocation: int, kind: str, seconds: float = 0.0) -> None:
        """`kill`: SIGKILL `seconds` into that invocation; `hang`: tell the process a deadline
        `seconds` later than the timeout the host enforces."""
        if kind not in ("kill", "hang"):
            raise ValueError(kind)
        self.plans[invocation] = (kind, seconds)

    def _start(self) -> None:
        env = dict(self.env)
        name = self.function_arn.rsplit(":", 1)[-1]
        env.update({
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": uuid.uuid4().hex,
        })
        with open(self.log_path, "ab") as log:
            log.write(f"--- cold start {time.strftime('%H:%M:%S')}: {' '.join(self.command)}\n".encode())
            self.proc = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
        self.proc = None

    def invoke(self, payload: bytes) -> Outcome:
        with self._lock:
            number = len(self.records) + 1
            kind, seconds = self.plans.get(number, ("", 0.0))
            cold = self.proc is None or self.proc.poll() is not None
            if cold:
                self._kill()
                self._start()
            t0 = time.monotonic()
            # Lambda's timeout runs from the moment the function gets the event (its start-up,
            # the init phase, has a limit of its own: 10 s)
            told = self.timeout + (seconds if kind == "hang" else 0.0)
            inv = self.api.submit(payload, told, self.function_arn)
            enforced = t0 + INIT_LIMIT
            kill_at = None
            started = False
            outcome: tuple[str, bytes, str | None] | None = None
            while outcome is None:
                if inv.answered.wait(0.02):
                    if inv.kind == "response":
                        outcome = ("", inv.body, None)
                    else:
                        etype = inv.error_type
                        try:
                            etype = json.loads(inv.body).get("errorType") or etype
                        except (ValueError, AttributeError):
                            pass
                        outcome = ("Unhandled", inv.body, etype)
                    break
                now = time.monotonic()
                assert self.proc is not None
                if inv.delivered_at is not None and not started:
                    started = True
                    enforced = inv.delivered_at + self.timeout
                    kill_at = inv.delivered_at + seconds if kind == "kill" else None
                if kill_at is not None and now >= kill_at:
                    os.kill(self.proc.pid, signal.SIGKILL)
                    kill_at = None
                code = self.proc.poll()
                if code is not None:
                    self.api.withdraw(inv)
                    how = f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}" if code < 0 \
                        else f"exit status {code}"
                    if code == -signal.SIGKILL:
                        how = "signal: killed"
                    body = json.dumps({"errorType": "Runtime.ExitError",
                                       "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited with error: {how}"})
                    outcome = ("Unhandled", body.encode(), "Runtime.ExitError")
                    if cold and self.api.init_errors:  # the runtime said why it could not start
                        init = self.api.init_errors.pop()
                        try:
                            etype = json.loads(init).get("errorType") or "Runtime.Unknown"
                        except (ValueError, AttributeError):
                            etype = "Runtime.Unknown"
                        outcome = ("Unhandled", init, etype)
                    self.proc = None
                elif now >= enforced:
                    self._kill()
                    self.api.withdraw(inv)
                    body = json.dumps({"errorType": "Sandbox.Timedout",
                                       "errorMessage": f"RequestId: {inv.request_id} Error: Task timed out after {self.timeout:.2f} seconds"})
                    outcome = ("Unhandled", body.encode(), "Sandbox.Timedout")
            inv.answered.set()
            function_error, body, etype = outcome
            result = Outcome(body, function_error or None, etype, time.monotonic() - t0, cold, inv.request_id)
            try:
                event = json.loads(payload)
            except ValueError:
                event = payload.decode(errors="replace")
            try:
                answer = json.loads(body)
            except ValueError:
                answer = body.decode(errors="replace")
            self.records.append({"number": number, "request_id": inv.request_id, "event": event,
                                 "answer": answer, "function_error": result.function_error,
                                 "error_type": etype, "seconds": round(result.seconds, 3),
                                 "cold_start": cold, "planned": kind or None})
            return result

    def close(self) -> None:
        with self._lock:
            self._kill()
            self.api.close()
