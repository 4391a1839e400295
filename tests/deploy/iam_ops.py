"""Hold the IAM policies of the templates against the AWS operations the Rust code calls.

Two sides:
- `called_actions(src_dir)`: scans Rust source for fluent SDK calls (`.list_users(`,
  `.assume_role(` ...) whose name is an operation of one of the services the code uses,
  according to botocore's service models, and maps each to its IAM action
  (`sso-admin` ListInstances -> `sso:ListInstances`).
- `granted_actions(template)`: every action Allowed by the inline policies of the IAM roles
  of a CloudFormation/SAM template, with `Fn::If` branches both taken.

Kept apart from the tests so a fixture can prove it finds what it should.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import botocore.session
from botocore import xform_name

# The SDK crates the code depends on -> botocore service model names.
SERVICES = ("organizations", "sts", "sso-admin", "identitystore", "s3")

# Operations that need no IAM permission at all.
NO_PERMISSION = {("sts", "GetCallerIdentity")}

# Operations whose IAM action is not "<prefix>:<OperationName>".
ACTION_EXCEPTIONS = {
    ("s3", "ListObjectsV2"): ["s3:ListBucket"],
    ("s3", "ListObjects"): ["s3:ListBucket"],
    ("s3", "HeadBucket"): ["s3:ListBucket"],
    ("s3", "HeadObject"): ["s3:GetObject"],
    ("s3", "CopyObject"): ["s3:GetObject", "s3:PutObject"],
    ("s3", "DeleteObjects"): ["s3:DeleteObject"],
    ("s3", "CreateMultipartUpload"): ["s3:PutObject"],
    ("s3", "UploadPart"): ["s3:PutObject"],
    ("s3", "CompleteMultipartUpload"): ["s3:PutObject"],
    ("s3", "ListObjectVersions"): ["s3:ListBucketVersions"],
}

# SDK helpers that call an operation without the fluent name appearing in the source.
INDIRECT_CALLS = {
    "AssumeRoleProvider": ("sts", "AssumeRole"),
}

# Actions in a function policy that the code never calls itself, each with the reason it
# is there. The test also checks they are scoped, never on "*".
NOT_CODE_CALLS = {
    "logs:CreateLogStream": "the Lambda service writes the function's logs with the role",
    "logs:PutLogEvents": "the Lambda service writes the function's logs with the role",
    "kms:Decrypt": "called by Identity Center / Identity Store on the code's behalf "
    "(kms:ViaService), only when a customer managed key is configured; and by S3 with "
    "the reports key for a multipart upload of a report and to read the previous run's "
    "reports back (the changes report)",
    "kms:GenerateDataKey": "called by S3 on the code's behalf (kms:ViaService s3) when a "
    "report is put into the bucket encrypted with the reports key (SSE-KMS)",
}

CALL_RE = re.compile(r"\.\s*([a-z][a-z0-9_]*)\s*\(")
LINE_COMMENT_RE = re.compile(r"//[^\n]*")
BLOCK_COMMENT_RE = re.compile(r"/\*.*?\*/", re.S)


@dataclass(frozen=True)
class Operation:
    service: str  # botocore model name, e.g. "sso-admin"
    name: str  # API operation name, e.g. "ListInstances"

    @property
    def actions(self) -> list[str]:
        if (self.service, self.name) in ACTION_EXCEPTIONS:
            return ACTION_EXCEPTIONS[(self.service, self.name)]
        return [f"{iam_prefix(self.service)}:{self.name}"]


_PREFIX: dict[str, str] = {}
_OPS_BY_SNAKE: dict[str, list[Operation]] = {}


def _load() -> None:
    if _OPS_BY_SNAKE:
        return
    session = botocore.session.get_session()
    for service in SERVICES:
        model = session.get_service_model(service)
        # The IAM service prefix is the SigV4 signing name (sso-admin signs as "sso").
        _PREFIX[service] = model.signing_name
        for op in model.operation_names:
            _OPS_BY_SNAKE.setdefault(xform_name(op), []).append(Operation(service, op))


def iam_prefix(service: str) -> str:
    _load()
    return _PREFIX[service]


def operations_by_snake_name() -> dict[str, list[Operation]]:
    _load()
    return _OPS_BY_SNAKE


def _strip_comments(text: str) -> str:
    return LINE_COMMENT_RE.sub("", BLOCK_COMMENT_RE.sub("", text))


@dataclass
class Scan:
    operations: set[Operation] = field(default_factory=set)
    # snake name -> files, for messages
    where: dict[str, set[str]] = field(default_factory=dict)
    ambiguous: dict[str, list[Operation]] = field(default_factory=dict)
    files: int = 0

    @property
    def actions(self) -> set[str]:
        out: set[str] = set()
        for op in self.operations:
            if (op.service, op.name) in NO_PERMISSION:
                continue
            out.update(op.actions)
        return out


def scan_source(src_dir: Path) -> Scan:
    """Every SDK operation called in the .rs files under src_dir."""
    ops = operations_by_snake_name()
    scan = Scan()
    for path in sorted(src_dir.rglob("*.rs")):
        scan.files += 1
        text = _strip_comments(path.read_text(encoding="utf-8", errors="replace"))
        found: list[tuple[str, list[Operation]]] = []
        for match in CALL_RE.finditer(text):
            snake = match.group(1)
            if snake in ops:
                found.append((snake, ops[snake]))
        for marker, (service, name) in INDIRECT_CALLS.items():
            if re.search(rf"\b{marker}\b", text):
                found.append((marker, [Operation(service, name)]))
        for snake, candidates in found:
            scan.where.setdefault(snake, set()).add(str(path))
            if len(candidates) > 1:
                # The same name in several services (e.g. tag_resource): count them all, so
                # the check errs towards "must be granted" and reports it.
                scan.ambiguous[snake] = candidates
            scan.operations.update(candidates)
    return scan


# ---------------------------------------------------------------- templates


def _branches(node):
    """Yield the possible values of a node, taking both sides of every Fn::If."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        _cond, yes, no = node["Fn::If"]
        yield from _branches(yes)
        yield from _branches(no)
    elif isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] == "AWS::NoValue":
        return
    else:
        yield node


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _attached_roles(resource: dict) -> list[str]:
    """Logical ids of the template's roles an AWS::IAM::RolePolicy or AWS::IAM::Policy
    is attached to (by `Ref`)."""
    props = resource.get("Properties", {})
    refs = [props.get("RoleName")] if resource.get("Type") == "AWS::IAM::RolePolicy" else _as_list(props.get("Roles", []))
    return [r["Ref"] for r in refs if isinstance(r, dict) and "Ref" in r]


def policy_statements(template: dict, role_logical_id: str | None = None):
    """(role, policy name, statement) for every policy statement of the AWS::IAM::Role
    resources of the template (or one of them): their inline policies, and the
    AWS::IAM::RolePolicy and AWS::IAM::Policy resources attached to them."""
    for name, resource in template.get("Resources", {}).items():
        kind = resource.get("Type")
        if kind == "AWS::IAM::Role":
            roles, policies = [name], resource.get("Properties", {}).get("Policies", [])
        elif kind in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy"):
            roles, policies = _attached_roles(resource), [resource.get("Properties", {})]
        else:
            continue
        for role in roles:
            if role_logical_id and role != role_logical_id:
                continue
            for policy in policies:
                for doc in _branches(policy.get("PolicyDocument", {})):
                    for raw in _as_list(doc.get("Statement", [])):
                        for statement in _branches(raw):
                            yield role, policy.get("PolicyName"), statement


def granted_actions(template: dict, role_logical_id: str | None = None) -> dict[str, list[dict]]:
    """Allowed action -> the statements that allow it."""
    out: dict[str, list[dict]] = {}
    for _role, _policy, statement in policy_statements(template, role_logical_id):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action", [])):
            out.setdefault(action, []).append(statement)
    return out


def compare(called: set[str], granted: set[str]) -> tuple[set[str], set[str]]:
    """(called but not granted, granted but neither called nor explained)."""
    missing = called - granted
    extra = granted - called - set(NOT_CODE_CALLS)
    return missing, extra
