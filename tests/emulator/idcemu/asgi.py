"""The HTTP front of the emulator: an ASGI application around the gateway.

It runs on one event loop (uvicorn, HTTP/1.1 with keep-alive): each request is turned into
a WSGI environ, admitted by the gateway and answered. The answer is computed on the loop,
one request at a time, which is also what moto's lock required. With injected latency the
answer is computed on arrival and sent once the latency, counted from arrival, has passed,
with `asyncio.sleep` (no thread waits, so any number of callers overlap exactly as they
would against AWS, and the emulator's own handling time is inside the latency).
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from typing import Any, Awaitable, Callable

from .gateway import Gateway, is_admin, with_length

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def environ_for(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of an ASGI HTTP request."""
    server_host, server_port = scope.get("server") or ("127.0.0.1", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": scope["path"],
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server_host,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH":
            continue  # the body is already read whole; its length is set above
        key = "CONTENT_TYPE" if name == "CONTENT_TYPE" else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


async def read_body(receive: Receive) -> bytes | None:
    """The request's body; `None` when the client went away before sending all of it.
    Such a request is not served: AWS never acts on a request whose body did not
    arrive whole (S3 stores no object from a PutObject cut off mid-body)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def application(gateway: Gateway) -> Callable[[dict[str, Any], Receive, Send], Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        arrived = time.monotonic()
        body = await read_body(receive)
        if body is None:
            return
        environ = environ_for(scope, body)
        if is_admin(environ):
            status, headers, body = gateway.admin(environ)
        else:
            pending = gateway.admit(environ, arrived)
            # The answer is computed on arrival and sent when the injected latency, counted
            # from arrival, has passed: the emulator's own handling time is inside the
            # latency (as a service's work is inside an AWS round trip), and answers
            # falling due together are not computed one after another.
            status = 500
            try:
                status, headers, body = gateway.handle(pending)
                wait = pending.due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            except asyncio.CancelledError:
                gateway.abandon(pending)
                raise
            except BaseException:
                gateway.finish(pending, status)
                raise
            gateway.finish(pending, status)
        head = scope["method"] == "HEAD"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode("latin-1"), str(v).encode("latin-1"))
                                for k, v in with_length(headers, body, head)]})
        await send({"type": "http.response.body", "body": b"" if head else body})

    return app
