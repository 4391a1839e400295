#!/usr/bin/env python3
"""Command line of the local AWS emulator (moto plus Identity Center visibility and faults).

    emulator.py serve --scenario SCEN [--port 0] [--region us-east-1]
        Foreground. Loads the scenario, binds 127.0.0.1, prints exactly one line with the
        endpoint (http://127.0.0.1:PORT) on stdout once ready; logs go to stderr.
    emulator.py start --scenario SCEN --state-dir DIR [--port 0] [--region R]
        Starts `serve` in the background, waits until it is ready, writes DIR/emulator.pid,
        DIR/endpoint and DIR/emulator.log, prints the endpoint and exits 0.
    emulator.py stop --state-dir DIR
        Stops the server whose PID is in DIR/emulator.pid and removes that file.

SCEN is `blog`, `messy`, a path to a .json/.yaml scenario, or
`gen:accounts=N,account_instances=M,users=U,seed=S[,groups=G,apps_per_instance=A,members_per_group=K]`.
See tests/emulator/README.md for the admin API and the scenario schema.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_ours(pid: int) -> bool:
    """The PID still runs this emulator (not a recycled PID)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"emulator.py" in fh.read()
    except OSError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    from idcemu.server import serve
    serve(args.scenario, port=args.port, region=args.region, verbose=args.verbose,
          exit_with_parent=args.exit_with_parent)
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    state = os.path.abspath(args.state_dir)
    os.makedirs(state, exist_ok=True)
    pid_file = os.path.join(state, "emulator.pid")
    if os.path.exists(pid_file):
        with open(pid_file) as fh:
            old = int(fh.read().strip() or 0)
        if old and _pid_alive(old) and _is_ours(old):
            print(f"an emulator already runs with pid {old} (stop it first)", file=sys.stderr)
            return 1
        os.remove(pid_file)
    log_path = os.path.join(state, "emulator.log")
    cmd = [sys.executable, os.path.abspath(__file__), "serve", "--scenario", args.scenario,
           "--port", str(args.port), "--region", args.region]
    if args.verbose:
        cmd.append("--verbose")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    assert proc.stdout is not None
    with open(pid_file, "w") as fh:
        fh.write(f"{proc.pid}\n")
    deadline = time.monotonic() + args.timeout
    line = b""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        if not sel.select(timeout=0.5):
            if proc.poll() is not None:
                break
            continue
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            break
        line += chunk
    endpoint = line.decode().strip()
    if not endpoint.startswith("http://"):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.remove(pid_file)
        print(f"emulator did not become ready; see {log_path}", file=sys.stderr)
        return 1
    with open(os.path.join(state, "endpoint"), "w") as fh:
        fh.write(endpoint + "\n")
    print(endpoint, flush=True)
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    state = os.path.abspath(args.state_dir)
    pid_file = os.path.join(state, "emulator.pid")
    if not os.path.exists(pid_file):
        print(f"no {pid_file}: nothing to stop", file=sys.stderr)
        return 0
    with open(pid_file) as fh:
        pid = int(fh.read().strip() or 0)
    if pid and _pid_alive(pid) and _is_ours(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _pid_alive(pid):
                time.sleep(0.05)
    os.remove(pid_file)
    endpoint_file = os.path.join(state, "endpoint")
    if os.path.exists(endpoint_file):
        os.remove(endpoint_file)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emulator.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "start"):
        p = sub.add_parser(name)
        p.add_argument("--scenario", required=True)
        p.add_argument("--port", type=int, default=0)
        p.add_argument("--region", default="us-east-1")
        p.add_argument("--verbose", action="store_true", help="log every request to stderr")
        if name == "serve":
            p.add_argument("--exit-with-parent", action="store_true",
                           help="exit when the process that started this one exits")
        else:
            p.add_argument("--state-dir", required=True)
            p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for readiness")
    p = sub.add_parser("stop")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return {"serve": cmd_serve, "start": cmd_start, "stop": cmd_stop}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
