"""The emulator as a child process, for the scripts that drive it (scripts/bench.py,
scripts/compare-reports.py): `emulator.py serve` on a free port of 127.0.0.1, ready once it
prints its endpoint, its admin API, and a stop by PID (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
import urllib.request
from typing import Any

EMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator.py")


class EmulatorProcess:
    def __init__(self, python: str, scenario: str, log_path: str, timeout: float = 600):
        self.log = open(log_path, "ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [python, EMULATOR, "serve", "--scenario", scenario, "--port", "0", "--exit-with-parent"],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        line = self._first_line(timeout)
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the emulator did not start (see {log_path})")
        self.endpoint = line
        self.port = int(line.rsplit(":", 1)[1])
        self.ready_seconds = time.perf_counter() - t0

    def _first_line(self, timeout: float) -> str:
        result: queue.Queue[str] = queue.Queue()
        stdout = self.proc.stdout
        assert stdout is not None
        threading.Thread(target=lambda: result.put(stdout.readline().decode().strip()), daemon=True).start()
        try:
            return result.get(timeout=timeout)
        except queue.Empty:
            return ""

    def admin(self, path: str, body: Any = None, method: str | None = None) -> Any:
        """The admin API (`/_emulator/{path}`): GET, or POST of `body` as JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.endpoint}/_emulator/{path}", data=data,
                                     method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # by PID
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
