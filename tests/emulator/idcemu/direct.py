"""Operations the gateway answers itself, without moto's Flask dispatch.

moto's dispatch (Flask request context, response-class setup, the botocore-model
serializer) costs about 1.5 to 2 ms of CPU per call, all of it under the GIL, which caps
the emulator at a few hundred calls a second whatever the client's concurrency. The
operations the emulator implements itself (the sso-admin instance and application
operations, the identitystore list and describe operations, organizations ListAccounts)
and STS AssumeRole are registered here instead and called with a `Call`: the few request
facts their handlers read. Every other operation still goes to moto.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from .errors import ServiceError, json_error

Triple = tuple[int, list[tuple[str, str]], bytes]
Handler = Callable[["Call"], Any]

_HANDLERS: dict[tuple[str, str], Handler] = {}


class Call:
    """One request as a directly called handler sees it (the attributes moto's response
    classes offer under the same names, so a handler runs the same under either)."""

    def __init__(self, service: str, operation: str, account: str, region: str, body: bytes,
                 form: dict[str, list[str]] | None = None, access_key: str | None = None):
        self.service = service
        self.operation = operation
        self.access_key = access_key
        self.current_account = account
        self.region = region
        self.body = body.decode("utf-8", "replace")
        self.form = form or {}
        self._params: dict[str, Any] | None = None

    @property
    def request_params(self) -> dict[str, Any]:
        if self._params is None:
            try:
                loaded = json.loads(self.body or "{}")
            except ValueError:
                raise ServiceError("SerializationException", "Request body is not valid JSON") from None
            self._params = loaded if isinstance(loaded, dict) else {}
        return self._params

    def _get_param(self, name: str, if_none: Any = None) -> Any:
        value = self.request_params.get(name)
        return if_none if value is None else value

    def _get_action(self) -> str:
        return self.operation

    def form_value(self, name: str) -> str | None:
        values = self.form.get(name)
        return values[0] if values else None


def register(service: str, operation: str, handler: Handler) -> None:
    _HANDLERS[(service, operation)] = handler


def operation_name(function_name: str) -> str:
    """`list_application_assignments` -> `ListApplicationAssignments`."""
    return "".join(word.capitalize() for word in function_name.split("_"))


def handler_for(service: str, operation: str) -> Handler | None:
    return _HANDLERS.get((service, operation))


def answer(handler: Handler, call: Call) -> Triple:
    """Run `handler` and turn its result, or the ServiceError it raised, into a response."""
    try:
        status, headers, body = handler(call)
    except ServiceError as exc:
        return json_error(exc.error_code, exc.code or 400, exc.message, exc.extra or None)
    items = list(headers.items()) if isinstance(headers, dict) else list(headers)
    return status, items, body if isinstance(body, bytes) else body.encode()
