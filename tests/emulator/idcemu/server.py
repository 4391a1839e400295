"""Assemble and run the emulator: load the scenario into moto, install handlers, serve.

`build(scenario_arg)` returns the WSGI application (gateway in front of moto's dispatcher)
with the scenario loaded; `serve(...)` binds 127.0.0.1, prints the endpoint line once the
scenario is loaded and serves until SIGTERM/SIGINT.

The HTTP server is uvicorn on one event loop (`asgi`): HTTP/1.1 with keep-alive, and
injected latency held with `asyncio.sleep`, so concurrent callers overlap as they would
against AWS. werkzeug's development server, which moto ships with, closes every connection
and spends a thread per request; under the GIL that capped the emulator at a few hundred
calls a second and added milliseconds to every call.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

log = logging.getLogger("emulator")


def _dispatcher_class() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    class CachedDispatcher(DomainDispatcherApplication):
        """moto's dispatcher, remembering which backend serves a host name.

        moto scans its service modules on disk for every request to find the backend;
        the answer never changes while the server runs.
        """

        _backend_cache: dict[Any, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            try:
                return self._backend_cache[host]
            except KeyError:
                backend = super().get_backend_for_host(host)
                self._backend_cache[host] = backend
                return backend

    return CachedDispatcher


def build(scenario_arg: str) -> tuple[Any, Any, Any]:
    """(gateway, world, control) with the scenario loaded."""
    # moto gives MOTO_ACCOUNT_ID precedence over the access key, which would put every
    # caller into one account. The gateway names the account on each request instead.
    os.environ.pop("MOTO_ACCOUNT_ID", None)
    from moto.moto_server.werkzeug_app import create_backend_app

    from . import identity_store, organizations, permission_sets, scenario, sso_admin, sts, world as world_mod
    from .control import Control
    from .gateway import Gateway

    CachedDispatcher = _dispatcher_class()
    t0 = time.perf_counter()
    spec = scenario.load(scenario_arg)
    t1 = time.perf_counter()
    control = Control()
    world = world_mod.load(spec)
    sso_admin.install(world, control)
    permission_sets.install(world)
    identity_store.install(world)
    organizations.install(world)
    sts.install(world)
    if spec.get("faults"):
        control.configure(spec["faults"])
    gateway = Gateway(world, control, CachedDispatcher(create_backend_app),
                      default_region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    summary = world.summary()
    log.info("scenario %s: read+checked in %.2fs, loaded in %.2fs: %d accounts, %d instances, "
             "%d users, %d groups, %d applications", scenario_arg, t1 - t0, world.load_seconds,
             summary["accounts"], summary["instances"], summary["users"], summary["groups"],
             summary["applications"])
    return gateway, world, control


# Idle keep-alive connections stay open this long: well past any pause of a client here,
# so a client never sends on a connection the server is closing.
KEEP_ALIVE_SECONDS = 300


def serve(scenario_arg: str, port: int = 0, region: str = "us-east-1", verbose: bool = False,
          exit_with_parent: bool = False) -> None:
    import socket

    import uvicorn

    from .asgi import application

    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    gateway, _, _ = build(scenario_arg)
    # The scenario is millions of long-lived objects; without this every full collection
    # would walk them all, in the middle of answering someone.
    gc.collect()
    gc.freeze()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)  # connections made before the loop runs wait in the backlog
    config = uvicorn.Config(application(gateway), loop="uvloop", http="httptools", lifespan="on",
                            access_log=verbose, log_level="info" if verbose else "warning",
                            timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=2,
                            server_header=False, date_header=False, proxy_headers=False)
    server = uvicorn.Server(config)

    # uvicorn handles SIGTERM and SIGINT itself: it stops accepting and lets the requests in
    # flight finish (at most timeout_graceful_shutdown); then it puts these handlers back
    # and raises the signal again, which ends the process with status 0.
    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if exit_with_parent:
        parent = os.getppid()

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            log.info("parent %d gone, exiting", parent)
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, daemon=True).start()

    endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    # Logged before the endpoint line (the socket already listens), so that whoever waits
    # for that line finds the log line written too.
    log.info("serving on %s (pid %d)", endpoint, os.getpid())
    sys.stdout.write(endpoint + "\n")
    sys.stdout.flush()
    # Nothing else goes to stdout: a reader may stop reading after the endpoint line.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        server.run(sockets=[sock])
    except SystemExit:
        pass
    finally:
        sock.close()
        log.info("stopped")
