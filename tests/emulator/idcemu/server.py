"""Assemble and run the emulator: load the scenario into moto, install handlers, serve.

`build(scenario_arg)` returns the WSGI application (gateway in front of moto's dispatcher)
with the scenario loaded; `serve(...)` binds 127.0.0.1 with a thread per connection,
prints the endpoint line once the scenario is loaded and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

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

    from . import identity_store, organizations, scenario, sso_admin, world as world_mod
    from .control import Control
    from .gateway import Gateway

    CachedDispatcher = _dispatcher_class()
    t0 = time.perf_counter()
    spec = scenario.load(scenario_arg)
    t1 = time.perf_counter()
    control = Control()
    world = world_mod.load(spec)
    sso_admin.install(world, control)
    identity_store.install(world)
    organizations.install(world)
    if spec.get("faults"):
        control.configure(spec["faults"])
    gateway = Gateway(world, control, CachedDispatcher(create_backend_app))
    summary = world.summary()
    log.info("scenario %s: read+checked in %.2fs, loaded in %.2fs: %d accounts, %d instances, "
             "%d users, %d groups, %d applications", scenario_arg, t1 - t0, world.load_seconds,
             summary["accounts"], summary["instances"], summary["users"], summary["groups"],
             summary["applications"])
    return gateway, world, control


def serve(scenario_arg: str, port: int = 0, region: str = "us-east-1", verbose: bool = False,
          exit_with_parent: bool = False) -> None:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    gateway, _, _ = build(scenario_arg)

    class Handler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if verbose:
                super().log_request(code, size)

    server = make_server("127.0.0.1", port, gateway, threaded=True, request_handler=Handler)
    server.daemon_threads = True

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

    endpoint = f"http://127.0.0.1:{server.server_port}"
    sys.stdout.write(endpoint + "\n")
    sys.stdout.flush()
    # Nothing else goes to stdout: a reader may stop reading after the endpoint line.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    log.info("serving on %s (pid %d)", endpoint, os.getpid())
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
        log.info("stopped")
