"""AWS error responses in each protocol's own shape.

The JSON services (sso-admin, identitystore, organizations) answer awsJson1_1 errors with
`__type` and `Message`; STS answers query-protocol XML; S3 answers its REST-XML `<Error>`.
`ServiceError` is raised from the emulator's handlers: the gateway turns it into the
answer for the ones it calls directly (`direct.answer`), moto's dispatcher for the checks
patched into moto (a werkzeug HTTPException); `fault_response` builds the raw triple the
gateway sends for injected faults and for checks made before moto sees the request.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from xml.sax.saxutils import escape

import orjson
from werkzeug.exceptions import HTTPException

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"

# kind -> service -> (code, http status, message)
FAULT_SHAPES: dict[str, dict[str, tuple[str, int, str]]] = {
    "throttle": {
        "sso-admin": ("ThrottlingException", 400, "Rate exceeded"),
        "identitystore": ("ThrottlingException", 400, "Rate exceeded"),
        "organizations": (
            "TooManyRequestsException",
            400,
            "AWS Organizations can't complete your request because the request rate is too high. Try again later.",
        ),
        "sts": ("Throttling", 400, "Rate exceeded"),
        "s3": ("SlowDown", 503, "Please reduce your request rate."),
    },
    "access_denied": {
        "sso-admin": ("AccessDeniedException", 400, "User is not authorized to perform this action"),
        "identitystore": ("AccessDeniedException", 400, "User is not authorized to perform this action"),
        "organizations": ("AccessDeniedException", 400, "You don't have permissions to access this resource."),
        "sts": ("AccessDenied", 403, "User is not authorized to perform: sts:AssumeRole"),
        "s3": ("AccessDenied", 403, "Access Denied"),
    },
    "http500": {
        "sso-admin": ("InternalServerException", 500, "An internal failure occurred."),
        "identitystore": ("InternalServerException", 500, "An internal failure occurred."),
        # Organizations models its 5xx error as ServiceException.
        "organizations": (
            "ServiceException",
            500,
            "AWS Organizations can't complete your request because of an internal service error. Try again later.",
        ),
        "sts": ("InternalFailure", 500, "An internal error occurred."),
        "s3": ("InternalError", 500, "We encountered an internal error. Please try again."),
    },
}

RETRY_AFTER_SECONDS = 1


def request_id() -> str:
    return str(uuid.uuid4())


def json_error(code: str, status: int, message: str, extra: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    rid = request_id()
    body: dict[str, Any] = {"__type": code, "Message": message}
    if extra:
        body.update(extra)
    hdrs = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", rid),
        ("x-amzn-ErrorType", code),
    ]
    for k, v in (headers or {}).items():
        hdrs.append((k, v))
    return status, hdrs, json.dumps(body).encode()


def sts_error(code: str, status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    rid = request_id()
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{STS_NS}">\n  <Error>\n    <Type>{kind}</Type>\n'
        f"    <Code>{escape(code)}</Code>\n    <Message>{escape(message)}</Message>\n  </Error>\n"
        f"  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n"
    )
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body.encode()


def s3_error(code: str, status: int, message: str, head: bool = False) -> tuple[int, list[tuple[str, str]], bytes]:
    rid = uuid.uuid4().hex[:16].upper()
    host_id = uuid.uuid4().hex
    hdrs = [("Content-Type", "application/xml"), ("x-amz-request-id", rid), ("x-amz-id-2", host_id)]
    if head:  # HEAD answers carry no body
        return status, hdrs, b""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{rid}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    return status, hdrs, body.encode()


def fault_response(service: str, kind: str, head: bool = False, message: str | None = None,
                   retry_after: int = RETRY_AFTER_SECONDS) -> tuple[int, list[tuple[str, str]], bytes]:
    """The error a real service answers for a fault of `kind` (throttle, access_denied, http500).
    `retry_after`: the `RetryAfterSeconds` of Identity Store's answers."""
    shapes = FAULT_SHAPES[kind]
    code, status, default_message = shapes.get(service, shapes["sso-admin"])
    msg = message or default_message
    if service == "sts":
        return sts_error(code, status, msg)
    if service == "s3":
        return s3_error(code, status, msg, head=head)
    if service == "identitystore" and code in ("ThrottlingException", "InternalServerException"):
        # Identity Store models RetryAfterSeconds as a member of these errors' JSON body
        # (botocore's identitystore model: no header binding), and sends no Retry-After
        # header. sso-admin's and Organizations' errors have no such member.
        return json_error(code, status, msg, {"RetryAfterSeconds": retry_after})
    return json_error(code, status, msg)


def json_ok(payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A 200 awsJson1_1 answer as (status, headers, body). orjson: a page of 100 users
    is about 40 KB of JSON, and the standard encoder spent more time on it than the
    handler did."""
    return 200, {"Content-Type": "application/x-amz-json-1.1"}, orjson.dumps(payload)


class ServiceError(HTTPException):
    """An awsJson1_1 error raised inside a handler running under moto's dispatcher."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__()
        self.code = status  # werkzeug's name for the HTTP status
        self.error_code = code
        self.message = message
        self.extra = {k: v for k, v in extra.items() if v is not None}
        body: dict[str, Any] = {"__type": code, "Message": message}
        body.update(self.extra)
        self.description = json.dumps(body)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", self.error_code)]


def access_denied(message: str, **extra: Any) -> ServiceError:
    return ServiceError("AccessDeniedException", message, **extra)


def validation(message: str, **extra: Any) -> ServiceError:
    return ServiceError("ValidationException", message, **extra)


def not_found(message: str, **extra: Any) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message, **extra)


def conflict(message: str) -> ServiceError:
    return ServiceError("ConflictException", message)
