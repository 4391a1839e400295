"""The WSGI layer in front of moto: caller identity, faults, rate limit, stats, admin API.

For every AWS request it reads the SigV4 credential scope (access key, Region, service),
names the operation (`sso-admin:ListInstances`, `s3:PutObject`, ...), maps the access key
to its account (keys issued by AssumeRole belong to the role's account, any other key to
the management account) and hands that account to moto through its `x-moto-account-id`
header. It then applies latency, injected faults and the rate limit, refuses AssumeRole
into accounts that lack the role (as AWS does; moto accepts any role), and counts it all.
moto itself runs under one lock (its backends are not thread-safe); sleeps and counting
happen outside it, so concurrent requests overlap exactly as a client sends them.
Requests under /_emulator/ are the admin API and are not counted.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from http import HTTPStatus
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from . import errors
from .control import ConfigError, Control
from .world import World

log = logging.getLogger("emulator")

SIGNING_SERVICE = {"sso": "sso-admin", "identitystore": "identitystore", "organizations": "organizations",
                   "sts": "sts", "s3": "s3"}
CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

StartResponse = Callable[..., Any]


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def s3_operation(method: str, path: str, query: str, environ: dict[str, Any]) -> str:
    q = parse_qs(query, keep_blank_values=True)
    host = (environ.get("HTTP_HOST") or "").split(":")[0]
    parts = path.lstrip("/").split("/", 1)
    if host.endswith(".localhost"):  # virtual-hosted style: bucket in the host name
        bucket, key = host[: -len(".localhost")], path.lstrip("/")
    else:
        bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")

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


class Gateway:
    def __init__(self, world: World, control: Control, moto_app: Callable[..., Iterable[bytes]]):
        self.world = world
        self.control = control
        self.moto_app = moto_app

    # ---- WSGI entry -----------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_emulator" or path.startswith("/_emulator/"):
            return self.admin(environ, start_response)
        return self.aws(environ, start_response)

    def classify(self, environ: dict[str, Any]) -> tuple[str, str, str | None, dict[str, list[str]]]:
        """(service, operation, access key, form fields of a query-protocol body)."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        query = environ.get("QUERY_STRING", "")
        m = CREDENTIAL_RE.search(auth)
        if m is None and "X-Amz-Credential" in query:  # presigned URL
            cred = parse_qs(query).get("X-Amz-Credential", [""])[0]
            m = CREDENTIAL_RE.search("Credential=" + cred)
        access_key = m.group(1) if m else None
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
        return service, operation, access_key, form

    def aws(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        service, operation, access_key, form = self.classify(environ)
        account = self.world.account_for_key(access_key)
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        head = environ.get("REQUEST_METHOD") == "HEAD"
        control = self.control
        control.begin(service, operation, account)
        status = 500
        try:
            delay = control.latency_ms(service, operation, account)
            if delay:
                time.sleep(delay / 1000.0)
            answer = None
            kind = control.error_fault(service, operation, account)
            if kind:
                answer = errors.fault_response(service, kind, head=head)
            elif control.rate_limited(service, account):
                answer = errors.fault_response(service, "throttle", head=head)
            elif service == "sts" and operation == "AssumeRole":
                answer = self.assume_role_check(account, (form.get("RoleArn") or [""])[0])
            if answer is None:
                answer = self.call_moto(environ)
                if service == "sts" and operation == "AssumeRole" and answer[0] == 200:
                    self.remember_key(form, answer[2])
            status = answer[0]
            return self.send(start_response, *answer)
        finally:
            control.end(account, status)

    def assume_role_check(self, caller: str, role_arn: str) -> tuple[int, list[tuple[str, str]], bytes] | None:
        why = self.world.role_check(role_arn)
        if why is None:
            return None
        if why == "invalid":
            return errors.sts_error("ValidationError", 400, f"{role_arn} is invalid")
        log.info("AssumeRole into %s refused: %s", role_arn, why)
        return errors.sts_error("AccessDenied", 403, f"User: arn:aws:iam::{caller}:root is not authorized to "
                                f"perform: sts:AssumeRole on resource: {role_arn}")

    def remember_key(self, form: dict[str, list[str]], body: bytes) -> None:
        role_arn = (form.get("RoleArn") or [""])[0]
        m = re.search(rb"<AccessKeyId>([^<]+)</AccessKeyId>", body)
        if m and role_arn.count(":") >= 5:
            self.world.access_keys[m.group(1).decode()] = role_arn.split(":")[4]

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

    @staticmethod
    def send(start_response: StartResponse, status: int, headers: list[tuple[str, str]],
             body: bytes) -> Iterable[bytes]:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        hdrs = [(k, v) for k, v in headers if k.lower() != "content-length"]
        hdrs.append(("Content-Length", str(len(body))))
        start_response(f"{status} {reason}", hdrs)
        return [body]

    # ---- admin API ------------------------------------------------------------------
    def admin(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").rstrip("/")
        route = (method, path[len("/_emulator"):] or "/")
        try:
            if route == ("GET", "/stats"):
                return self.reply(start_response, 200, self.control.stats_json())
            if route == ("POST", "/stats/reset"):
                self.control.reset_stats()
                return self.reply(start_response, 200, self.control.stats_json())
            if route == ("GET", "/faults"):
                return self.reply(start_response, 200, self.control.config_json())
            if route in (("POST", "/faults"), ("PUT", "/faults")):
                raw = _read_body(environ)
                self.control.configure(json.loads(raw or b"{}"))
                return self.reply(start_response, 200, self.control.config_json())
            if route == ("DELETE", "/faults"):
                self.control.clear()
                return self.reply(start_response, 200, self.control.config_json())
            if route == ("GET", "/scenario"):
                with self.world.lock:
                    return self.reply(start_response, 200, self.world.summary())
            if route in (("GET", "/health"), ("GET", "/")):
                return self.reply(start_response, 200, {"ok": True})
            return self.reply(start_response, 404, {"error": f"no admin route {method} {path}"})
        except (ConfigError, ValueError, TypeError) as exc:
            return self.reply(start_response, 400, {"error": str(exc)})

    def reply(self, start_response: StartResponse, status: int, payload: Any) -> Iterable[bytes]:
        body = json.dumps(payload, sort_keys=True).encode()
        return self.send(start_response, status, [("Content-Type", "application/json")], body)
