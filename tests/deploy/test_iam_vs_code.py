"""The IAM policies grant exactly what the code calls: every AWS operation called in src/
has its action in the function's or the member role's policy, and no action is granted
that the code does not call (a few runtime actions excepted, each with its reason)."""

from __future__ import annotations

import re

import pytest
from conftest import HERE, REPO, note

import iam_ops
from iam_ops import NOT_CODE_CALLS, compare, granted_actions, scan_source

FIXTURE_SRC = HERE / "fixtures" / "rust_src"
SRC = REPO / "src"

# What the contract says the code calls (the fixture calls exactly these).
CONTRACT_ACTIONS = {
    "organizations:ListAccounts",
    "organizations:DescribeOrganization",
    "sts:AssumeRole",
    "sso:ListInstances",
    "sso:ListApplications",
    "sso:ListApplicationAssignments",
    "identitystore:ListUsers",
    "identitystore:ListGroups",
    "identitystore:ListGroupMemberships",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
}
# Calls made in member accounts, through the assumed role.
MEMBER_SERVICES = {"sso", "identitystore"}
# IAM accepts only "*" for these (aws-facts.md; the Service Authorization Reference).
STAR_ONLY = {
    "organizations:ListAccounts",
    "organizations:DescribeOrganization",
    "sso:ListInstances",
    "sso:ListApplications",
}
# The state machine's role delivers its logs to CloudWatch Logs (vended logs): Step
# Functions documents these actions, and IAM accepts only "*" for them.
LOG_DELIVERY = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def all_granted(template, member_template) -> set[str]:
    return set(granted_actions(template, "AuditFunctionRole")) | set(granted_actions(member_template))


# ---------------------------------------------------------------- the scanner itself


def test_scanner_finds_every_call_in_the_fixture():
    scan = scan_source(FIXTURE_SRC)
    assert scan.files == 3
    # get_caller_identity is found but needs no permission; comments are ignored
    # (delete_organization, leave_organization); iter/map/collect are not SDK operations.
    assert scan.actions == CONTRACT_ACTIONS
    names = {op.name for op in scan.operations}
    assert "GetCallerIdentity" in names
    assert not {"DeleteOrganization", "LeaveOrganization"} & names
    assert not scan.ambiguous


def test_scanner_maps_services_to_iam_prefixes():
    assert iam_ops.iam_prefix("sso-admin") == "sso"
    assert iam_ops.iam_prefix("identitystore") == "identitystore"
    assert iam_ops.iam_prefix("organizations") == "organizations"
    ops = iam_ops.operations_by_snake_name()
    assert [o.name for o in ops["list_application_assignments"]] == ["ListApplicationAssignments"]
    assert iam_ops.Operation("s3", "CopyObject").actions == ["s3:GetObject", "s3:PutObject"]
    # A multipart upload needs s3:PutObject, and s3:AbortMultipartUpload to abort it.
    for op in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload"):
        assert iam_ops.Operation("s3", op).actions == ["s3:PutObject"]
    assert iam_ops.Operation("s3", "AbortMultipartUpload").actions == ["s3:AbortMultipartUpload"]


def test_compare_reports_missing_and_extra_actions():
    missing, extra = compare({"sso:ListInstances", "s3:PutObject"}, {"sso:ListInstances", "s3:GetObject", "logs:PutLogEvents"})
    assert missing == {"s3:PutObject"}
    assert extra == {"s3:GetObject"}  # logs:PutLogEvents is a runtime action, explained


def test_indirect_assume_role_provider_counts(tmp_path):
    (tmp_path / "a.rs").write_text("let p = aws_config::sts::AssumeRoleProvider::builder(arn).build().await;\n")
    assert scan_source(tmp_path).actions == {"sts:AssumeRole"}


# ---------------------------------------------------------------- templates vs code


def test_templates_grant_exactly_what_src_calls(template, member_template):
    sources = list(SRC.rglob("*.rs")) if SRC.is_dir() else []
    uses_sdk = any("aws_sdk_" in p.read_text(errors="replace") for p in sources)
    scan = scan_source(SRC) if sources else None
    if not uses_sdk and (scan is None or not scan.operations):
        pytest.skip("src/ makes no AWS SDK call yet: only the fixture is checked")
    assert len(scan.operations) > 5, (
        f"only {sorted(op.name for op in scan.operations)} found in src/: the scanner "
        "no longer sees the code's calls (moved to a helper or a macro?)"
    )
    for snake, candidates in scan.ambiguous.items():
        print(f"ambiguous call .{snake}(): {[f'{o.service}:{o.name}' for o in candidates]}")
    missing, extra = compare(scan.actions, all_granted(template, member_template))
    where = {a: sorted(f for s, fs in scan.where.items() for f in fs if a.split(":")[1] in _camel(s)) for a in missing}
    assert not missing, f"called in src/ but not granted: {where}"
    assert not extra, f"granted but not called in src/: {sorted(extra)}"
    note(f"IAM vs code: {len(scan.actions)} actions called in src/, each granted, none extra: {sorted(scan.actions)}")


def _camel(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


# ---------------------------------------------------------------- shape of the grants


def test_member_role_grants_only_member_calls(member_template):
    for action in granted_actions(member_template):
        service = action.split(":")[0]
        assert service in MEMBER_SERVICES or action in NOT_CODE_CALLS, action


def test_policies_attached_to_the_role_count_as_its_grants(template):
    # The reports key grant is an AWS::IAM::RolePolicy of its own (the key policy names the
    # role): the comparison with the code must see it too.
    kms = granted_actions(template, "AuditFunctionRole")
    assert "kms:GenerateDataKey" in kms and "kms:GenerateDataKey" in NOT_CODE_CALLS
    attached = [r for _, r in template["Resources"].items() if r["Type"] in ("AWS::IAM::RolePolicy", "AWS::IAM::Policy")]
    assert attached, "no attached policy: this test no longer tests anything"


def test_no_wildcard_actions(template, member_template):
    for tpl in (template, member_template):
        for action in granted_actions(tpl):
            assert "*" not in action, action


def test_star_resource_only_where_iam_requires_it(template, member_template):
    for tpl in (template, member_template):
        for action, statements in granted_actions(tpl).items():
            for statement in statements:
                if statement.get("Resource") == "*" or "*" in (statement.get("Resource") or []):
                    assert action in STAR_ONLY | LOG_DELIVERY, f"{action} granted on '*'"
    # The log-delivery actions, to the state machine's role only, and nothing else on "*".
    for action in LOG_DELIVERY:
        roles = {role for role, _, st in iam_ops.policy_statements(template) if action in iam_ops._as_list(st["Action"])}
        assert roles == {"AuditStateMachineRole"}, action
    starred = {
        a for a, sts in granted_actions(template, "AuditStateMachineRole").items() for s in sts if s["Resource"] == "*"
    }
    assert starred == LOG_DELIVERY
    granted_star = {
        a for a, sts in granted_actions(template, "AuditFunctionRole").items() for s in sts if s["Resource"] == "*"
    }
    assert granted_star == STAR_ONLY


def _sub(resource) -> str:
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        value = resource["Fn::Sub"]
        return value if isinstance(value, str) else value[0]
    raise AssertionError(f"expected a Fn::Sub ARN, got {resource!r}")


def test_assume_role_is_scoped_to_the_member_role_name(template):
    (statement,) = granted_actions(template, "AuditFunctionRole")["sts:AssumeRole"]
    assert _sub(statement["Resource"]) == "arn:${AWS::Partition}:iam::*:role/${CrossAccountRoleName}"


def test_report_writes_are_scoped_to_the_report_prefix(template):
    for action in ("s3:PutObject", "s3:AbortMultipartUpload", "s3:GetObject"):
        (statement,) = granted_actions(template, "AuditFunctionRole")[action]
        assert _sub(statement["Resource"]) == "arn:${AWS::Partition}:s3:::${Bucket}/${ReportPrefix}/*"


def test_identity_center_grants_are_scoped(template, member_template):
    fn = granted_actions(template, "AuditFunctionRole")
    member = granted_actions(member_template)
    (s,) = fn["sso:ListApplicationAssignments"]
    assert re.fullmatch(r"arn:\$\{AWS::Partition\}:sso::\*:application/\*/apl-\*", _sub(s["Resource"]))
    (s,) = member["sso:ListApplicationAssignments"]
    assert _sub(s["Resource"]) == "arn:${AWS::Partition}:sso::${AWS::AccountId}:application/*/apl-*"
    for grants, store in ((fn, "*"), (member, "${AWS::AccountId}")):
        for action in ("identitystore:ListUsers", "identitystore:ListGroups", "identitystore:ListGroupMemberships"):
            (s,) = grants[action]
            resources = sorted(_sub(r) for r in s["Resource"])
            assert resources == sorted(
                [
                    f"arn:${{AWS::Partition}}:identitystore::{store}:identitystore/d-*",
                    "arn:${AWS::Partition}:identitystore:::user/*",
                    "arn:${AWS::Partition}:identitystore:::group/*",
                    "arn:${AWS::Partition}:identitystore:::membership/*",
                ]
            ), action


ACCESS_READS = (
    "sso:ListPermissionSets",
    "sso:DescribePermissionSet",
    "sso:ListAccountsForProvisionedPermissionSet",
    "sso:ListPermissionSetsProvisionedToAccount",
    "sso:ListAccountAssignments",
)


def test_access_reads_are_scoped_to_instances_permission_sets_and_accounts(template, member_template):
    fn = granted_actions(template, "AuditFunctionRole")
    member = granted_actions(member_template)
    for action in ACCESS_READS:
        (s,) = fn[action]
        assert sorted(_sub(r) for r in s["Resource"]) == sorted(
            [
                "arn:${AWS::Partition}:sso:::instance/ssoins-*",
                "arn:${AWS::Partition}:sso:::permissionSet/ssoins-*/ps-*",
                "arn:${AWS::Partition}:sso:::account/*",
            ]
        ), action
        # Read with the function's own credentials only: member roles never need them.
        assert action not in member, action


def test_runtime_and_kms_actions_are_scoped_and_conditional(template, member_template):
    fn = granted_actions(template, "AuditFunctionRole")
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        (s,) = fn[action]
        assert s["Resource"] == {"Fn::GetAtt": ["AuditFunctionLogGroup", "Arn"]}
    for grants in (fn, granted_actions(member_template)):
        # Identity Center's key (the reports key's grant, through S3, is checked in test_template.py).
        (s,) = [s for s in grants["kms:Decrypt"] if "StringLike" in s.get("Condition", {})]
        assert s["Resource"] != "*"
        via = s["Condition"]["StringLike"]["kms:ViaService"]
        assert {_sub(v) for v in via} == {"identitystore.*.${AWS::URLSuffix}", "sso.*.${AWS::URLSuffix}"}
    # Only when a key is configured: the statement sits in the "true" side of an Fn::If.
    policies = template["Resources"]["AuditFunctionRole"]["Properties"]["Policies"]
    statements = next(p for p in policies if p["PolicyName"] == "idc-audit")["PolicyDocument"]["Statement"]
    kms = [s for s in statements if "Fn::If" in s]
    assert len(kms) == 1 and kms[0]["Fn::If"][0] == "HasIdentityCenterKey"
    assert kms[0]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
