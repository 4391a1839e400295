"""The WSGI layer in front of moto: caller identity, faults, rate limit, stats, admin API.

For every AWS request it reads the SigV4 credential scope (access key, Region, service),
names the operation (`sso-admin:ListInstances`, `s3:PutObject`, ...), maps the access key
to its account (keys issued by AssumeRole belong to the role's account, any other key to
the management account) and hands that account to moto through its `x-moto-account-id`
header. It then applies latency, injected faults and the rate limit, and counts it all.
The operations the emulator implements itself (`direct`) are answered here without moto's
dispatch; the rest go to moto. Both run under one lock (moto's backends are not
thread-safe); sleeps and counting happen outside it, so concurrent requests overlap
exactly as a client sends them.
Requests under /_emulator/ are the admin API and are not counted.
"""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from moto.s3.models import s3_backends

from . import direct, errors
from .control import ConfigError, Control
from .world import World

log = logging.getLogger("emulator")

SIGNING_SERVICE = {"sso": "sso-admin", "identitystore": "identitystore", "organizations": "organizations",
                   "sts": "sts", "s3": "s3"}
CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

Triple = tuple[int, list[tuple[str, str]], bytes]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def is_admin(environ: dict[str, Any]) -> bool:
    """Requests under /_emulator/ are the admin API (not AWS, not counted)."""
    path = environ.get("PATH_INFO", "")
    return path == "/_emulator" or path.startswith("/_emulator/")


def with_length(headers: list[tuple[str, str]], body: bytes, head: bool = False) -> list[tuple[str, str]]:
    """The headers with exactly one Content-Length: the body's (a HEAD answer keeps the
    length of what a GET would send, when the handler gave one)."""
    if head and any(k.lower() == "content-length" for k, _ in headers):
        return list(headers)
    out = [(k, v) for k, v in headers if k.lower() != "content-length"]
    out.append(("Content-Length", str(len(body))))
    return out


def s3_bucket_key(path: str, environ: dict[str, Any]) -> tuple[str, str]:
    """(bucket, key) of an S3 request, path-style or virtual-hosted style."""
    host = (environ.get("HTTP_HOST") or "").split(":")[0]
    if host.endswith(".localhost"):  # virtual-hosted style: bucket in the host name
        return host[: -len(".localhost")], path.lstrip("/")
    parts = path.lstrip("/").split("/", 1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


def s3_owner_mismatch(environ: dict[str, Any]) -> bool:
    """True when the request names an `x-amz-expected-bucket-owner` that does not own the
    bucket: S3 answers 403 AccessDenied. moto ignores the header. A bucket moto does not
    know is left to moto (NoSuchBucket). Call under the world lock."""
    expected = environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER")
    if expected is None:
        return False
    bucket, _key = s3_bucket_key(environ.get("PATH_INFO", ""), environ)
    owner = s3_backends.bucket_accounts.get(bucket)
    return owner is not None and owner[1] != expected


def s3_operation(method: str, path: str, query: str, environ: dict[str, Any]) -> str:
    q = parse_qs(query, keep_blank_values=True)
    bucket, key = s3_bucket_key(path, environ)

    def sub(table: dict[str, str], default: str) -> str:
        for name, op in table.items():
            if name in q:
                return op
        return default

    if not bucket:
        return "ListBuckets"
    if not key:
        if method == "PUT":
            return sub({"policy": "PutBucketPolicy", "versioning": "PutBucketVersioning",
                        "tagging": "PutBucketTagging", "encryption": "PutBucketEncryption",
                        "acl": "PutBucketAcl", "lifecycle": "PutBucketLifecycleConfiguration",
                        "publicAccessBlock": "PutPublicAccessBlock"}, "CreateBucket")
        if method == "GET":
            if q.get("list-type") == ["2"]:
                return "ListObjectsV2"
            return sub({"location": "GetBucketLocation", "versioning": "GetBucketVersioning",
                        "policy": "GetBucketPolicy", "uploads": "ListMultipartUploads",
                        "versions": "ListObjectVersions", "tagging": "GetBucketTagging",
                        "acl": "GetBucketAcl", "encryption": "GetBucketEncryption"}, "ListObjects")
        if method == "HEAD":
            return "HeadBucket"
        if method == "DELETE":
            return sub({"policy": "DeleteBucketPolicy", "tagging": "DeleteBucketTagging"}, "DeleteBucket")
        if method == "POST" and "delete" in q:
            return "DeleteObjects"
        return f"{method}Bucket"
    if method == "PUT":
        if "partNumber" in q:
            return "UploadPartCopy" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "UploadPart"
        if environ.get("HTTP_X_AMZ_COPY_SOURCE"):
            return "CopyObject"
        return sub({"tagging": "PutObjectTagging", "acl": "PutObjectAcl"}, "PutObject")
    if method == "GET":
        return sub({"uploadId": "ListParts", "tagging": "GetObjectTagging", "acl": "GetObjectAcl"}, "GetObject")
    if method == "HEAD":
        return "HeadObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
    if method == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload"
        if "uploadId" in q:
            return "CompleteMultipartUpload"
    return f"{method}Object"


def request_members(environ: dict[str, Any], form: dict[str, list[str]]) -> dict[str, Any]:
    """The request's top-level members, for a fault's `when`: the JSON body's object, or the
    query-protocol parameters (first value of each)."""
    if form:
        return {k: v[0] for k, v in form.items() if v}
    try:
        loaded = json.loads(_read_body(environ) or b"{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


class Pending:
    """An admitted AWS request: who asks for what, when it arrived, when its answer is due."""

    __slots__ = ("environ", "service", "operation", "account", "access_key", "region", "form", "started",
                 "due", "head", "_members")

    def __init__(self, environ: dict[str, Any], service: str, operation: str, account: str,
                 access_key: str | None, region: str, form: dict[str, list[str]], started: float, due: float):
        self.environ = environ
        self.access_key = access_key
        self.service = service
        self.operation = operation
        self.account = account
        self.region = region
        self.form = form
        self.started = started
        # When the answer is due: the injected latency after the request arrived.
        self.due = due
        self.head = environ.get("REQUEST_METHOD") == "HEAD"
        self._members: dict[str, Any] | None = None

    def members(self) -> dict[str, Any]:
        if self._members is None:
            self._members = request_members(self.environ, self.form)
        return self._members


class Gateway:
    """Answers a request in steps, so that the server (`asgi`) can hold the answer for the
    injected latency without tying up a thread: `admit` (classify, count, set when the
    answer is due), `handle` (faults, rate limit, the handler), then `finish` when the
    answer goes out (or `abandon` if the caller left). The admin API is `admin`."""

    def __init__(self, world: World, control: Control, moto_app: Callable[..., Iterable[bytes]],
                 default_region: str = "us-east-1"):
        self.world = world
        self.control = control
        self.moto_app = moto_app
        self.default_region = default_region

    def classify(self, environ: dict[str, Any]) -> tuple[str, str, str | None, str, dict[str, list[str]]]:
        """(service, operation, access key, Region, form fields of a query-protocol body)."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        query = environ.get("QUERY_STRING", "")
        m = CREDENTIAL_RE.search(auth)
        if m is None and "X-Amz-Credential" in query:  # presigned URL
            cred = parse_qs(query).get("X-Amz-Credential", [""])[0]
            m = CREDENTIAL_RE.search("Credential=" + cred)
        access_key = m.group(1) if m else None
        region = m.group(3) if m else self.default_region
        signing = m.group(4) if m else ""
        service = SIGNING_SERVICE.get(signing, signing or "unsigned")
        method = environ.get("REQUEST_METHOD", "GET")
        form: dict[str, list[str]] = {}
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif service == "s3":
            operation = s3_operation(method, environ.get("PATH_INFO", ""), query, environ)
        else:
            ctype = environ.get("CONTENT_TYPE", "")
            if ctype.startswith("application/x-www-form-urlencoded"):
                form = parse_qs(_read_body(environ).decode("utf-8", "replace"), keep_blank_values=True)
            form = form or parse_qs(query)
            operation = (form.get("Action") or ["Unknown"])[0]
        return service, operation, access_key, region, form

    def admit(self, environ: dict[str, Any], arrived: float | None = None) -> Pending:
        """Counts a request in and decides its latency; `arrived` (monotonic) is when the
        front received it, the admission time if not given."""
        service, operation, access_key, region, form = self.classify(environ)
        account = self.world.account_for_key(access_key)
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        started = self.control.begin(service, operation, account)
        p = Pending(environ, service, operation, account, access_key, region, form, started, started)
        delay_ms = self.control.latency_ms(service, operation, account, p.members)
        p.due = (started if arrived is None else min(arrived, started)) + delay_ms / 1000.0
        return p

    def handle(self, p: Pending) -> Triple:
        """The answer to an admitted request (faults first); it is not counted answered
        until `finish`."""
        control = self.control
        # A Region the calling account has not enabled refuses its credentials at once,
        # as AWS does (before any throttling or fault).
        if p.service in ("sso-admin", "identitystore") and not self.world.region_enabled(p.account, p.region):
            return errors.json_error("UnrecognizedClientException", 400,
                                     "The security token included in the request is invalid.")
        fault = control.error_fault(p.service, p.operation, p.account, p.members)
        if fault:
            return errors.fault_response(p.service, fault.kind, head=p.head, retry_after=fault.retry_after_seconds)
        if control.rate_limited(p.service, p.account):
            return errors.fault_response(p.service, "throttle", head=p.head)
        if p.service == "s3":
            with self.world.lock:
                mismatch = s3_owner_mismatch(p.environ)
            if mismatch:
                return errors.fault_response("s3", "access_denied", head=p.head)
        handler = direct.handler_for(p.service, p.operation)
        if handler is None:
            return self.call_moto(p.environ)
        call = direct.Call(p.service, p.operation, p.account, p.region, _read_body(p.environ), p.form, p.access_key)
        with self.world.lock:
            return direct.answer(handler, call)

    def finish(self, p: Pending, status: int) -> None:
        """Counts an admitted request answered (its answer is about to be sent)."""
        self.control.end(p.account, status, p.started, p.service)

    def abandon(self, p: Pending) -> None:
        """The request was dropped while held (client gone, server stopping)."""
        self.control.end(p.account, 499, p.started, p.service)

    def call_moto(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers
            return chunks.append

        with self.world.lock:
            result = self.moto_app(environ, start)
            try:
                for chunk in result:
                    chunks.append(chunk)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
        return captured.get("status", 500), captured.get("headers", []), b"".join(chunks)

    # ---- admin API ------------------------------------------------------------------
    def admin(self, environ: dict[str, Any]) -> Triple:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").rstrip("/")
        route = (method, path[len("/_emulator"):] or "/")
        try:
            if route == ("GET", "/stats"):
                return self.reply(200, self.control.stats_json())
            if route == ("POST", "/stats/reset"):
                self.control.reset_stats()
                return self.reply(200, self.control.stats_json())
            if route == ("GET", "/faults"):
                return self.reply(200, self.control.config_json())
            if route in (("POST", "/faults"), ("PUT", "/faults")):
                raw = _read_body(environ)
                self.control.configure(json.loads(raw or b"{}"))
                return self.reply(200, self.control.config_json())
            if route == ("DELETE", "/faults"):
                self.control.clear()
                return self.reply(200, self.control.config_json())
            if route == ("GET", "/scenario"):
                with self.world.lock:
                    return self.reply(200, self.world.summary())
            if route == ("POST", "/users/status"):
                body = json.loads(_read_body(environ) or b"{}")
                with self.world.lock:
                    return self.reply(200, self.world.set_user_status(body))
            if route in (("GET", "/health"), ("GET", "/")):
                return self.reply(200, {"ok": True})
            return self.reply(404, {"error": f"no admin route {method} {path}"})
        except (ConfigError, ValueError, TypeError) as exc:
            return self.reply(400, {"error": str(exc)})

    @staticmethod
    def reply(status: int, payload: Any) -> Triple:
        body = json.dumps(payload, sort_keys=True).encode()
        return status, [("Content-Type", "application/json")], body
