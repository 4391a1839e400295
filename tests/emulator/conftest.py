"""pytest fixtures for the emulator's own tests: start `emulator.py serve` as a subprocess,
talk to it with boto3 over HTTP, stop it by PID.

`Emu` wraps one running server: boto3 clients as the management account or as an account
entered with AssumeRole, and the /_emulator/ admin API. Servers are module-scoped; faults
are cleared after every test that uses the `blog` or `messy` fixture.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any, Iterator

import boto3
import pytest
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
EMULATOR = os.path.join(HERE, "emulator.py")
ROLE = "idc-lambda-service-role"

# Any key not issued by AssumeRole is the management account's.
MANAGEMENT_KEYS = {"aws_access_key_id": "AKIAMANAGEMENT00000", "aws_secret_access_key": "secret"}
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def start_server(scenario: str, timeout: float = 120.0, extra: list[str] | None = None) -> tuple[subprocess.Popen, str, float]:
    """Spawn `serve`, wait for its single stdout line; (process, endpoint, seconds to ready)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, EMULATOR, "serve", "--scenario", scenario, "--port", "0"] + (extra or []),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = b""
    deadline = time.monotonic() + timeout
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        if sel.select(timeout=0.5):
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            line += chunk
        elif proc.poll() is not None:
            break
    if not line.endswith(b"\n"):
        stop_server(proc)
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"emulator did not start for {scenario}: {err[-3000:]}")
    # drain stderr in the background so the server never blocks on a full pipe
    import threading
    threading.Thread(target=lambda: proc.stderr.read() if proc.stderr else None, daemon=True).start()
    return proc, line.decode().strip(), time.perf_counter() - t0


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


class Emu:
    def __init__(self, proc: subprocess.Popen, endpoint: str, startup: float):
        self.proc = proc
        self.endpoint = endpoint
        self.startup = startup
        self._creds: dict[str, dict[str, str]] = {}
        self._clients: dict[tuple, Any] = {}
        self._session = boto3.Session(region_name="us-east-1", **MANAGEMENT_KEYS)

    # ---- boto3 ----------------------------------------------------------------------
    def client(self, service: str, creds: dict[str, str] | None = None, region: str = "us-east-1",
               retries: bool = False) -> Any:
        key = (service, tuple(sorted((creds or {}).items())), region, retries)
        if key not in self._clients:
            self._clients[key] = self._make_client(service, creds, region, retries)
        return self._clients[key]

    def _make_client(self, service: str, creds: dict[str, str] | None, region: str, retries: bool) -> Any:
        cfg = Config(retries={"total_max_attempts": 3, "mode": "standard"}) if retries else NO_RETRY
        if service == "s3":
            cfg = cfg.merge(Config(s3={"addressing_style": "path"}))
        # one shared session: its loader caches the service models, so clients come cheap
        return self._session.client(service, endpoint_url=self.endpoint, region_name=region, config=cfg,
                                    **(creds or MANAGEMENT_KEYS))

    def assume(self, account: str, role: str = ROLE) -> dict[str, str]:
        c = self.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}",
                                           RoleSessionName="emulator-test")["Credentials"]
        return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"]}

    def as_account(self, account: str, service: str, region: str = "us-east-1", management: str = "111122223333") -> Any:
        """A client acting in `account` (own credentials for the management account)."""
        if account == management:
            return self.client(service, region=region)
        if account not in self._creds:
            self._creds[account] = self.assume(account)
        return self.client(service, creds=self._creds[account], region=region)

    # ---- admin API ------------------------------------------------------------------
    def admin(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + "/_emulator" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        return self.admin("GET", "/stats")

    def reset_stats(self) -> None:
        self.admin("POST", "/stats/reset")

    def set_faults(self, body: dict[str, Any]) -> Any:
        return self.admin("POST", "/faults", body)

    def clear_faults(self) -> None:
        self.admin("DELETE", "/faults")


@pytest.fixture(scope="session")
def server_factory() -> Iterator[Any]:
    started: list[Emu] = []

    def make(scenario: str, extra: list[str] | None = None) -> Emu:
        proc, endpoint, startup = start_server(scenario, extra=extra)
        emu = Emu(proc, endpoint, startup)
        started.append(emu)
        return emu

    yield make
    for emu in started:
        stop_server(emu.proc)


@pytest.fixture(scope="session")
def _blog(server_factory: Any) -> Emu:
    return server_factory("blog")


@pytest.fixture(scope="session")
def _messy(server_factory: Any) -> Emu:
    return server_factory("messy")


@pytest.fixture
def blog(_blog: Emu) -> Iterator[Emu]:
    yield _blog
    _blog.clear_faults()


@pytest.fixture
def messy(_messy: Emu) -> Iterator[Emu]:
    yield _messy
    _messy.clear_faults()


def scenario_json(name: str) -> dict[str, Any]:
    with open(os.path.join(HERE, "scenarios", f"{name}.json"), encoding="utf-8") as fh:
        return json.load(fh)


def error_code(exc: Any) -> str:
    return exc.response["Error"]["Code"]


def all_pages(call, key, **kwargs):
    """Every item of a paginated call, and the size of each page (NextToken followed)."""
    items, pages, token = [], [], None
    while True:
        resp = call(**kwargs, **({"NextToken": token} if token else {}))
        pages.append(len(resp[key]))
        items += resp[key]
        token = resp.get("NextToken")
        if not token:
            return items, pages
