"""The ecosystem's offline checks: sam validate --lint, cfn-lint (on both templates and on
the SAM-translated CloudFormation, for several parameter choices), checkov."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import REPO, note, tool

import sam_translate

TEMPLATES = ["template.yaml", "member-role.yaml"]

# Parameter sets that switch the template's conditions on and off.
VARIANTS = {
    "defaults": {},
    "existing-bucket-no-stackset": {"ExistingReportsBucketName": "my-reports", "DeployMemberRole": "false"},
    "kms-alarm-topic-x86": {
        "IdentityCenterKmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "ReportsKmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab",
        "AlarmTopicArn": "arn:aws:sns:us-east-1:111122223333:security-alerts",
        "Architecture": "x86_64",
        "MemberRoleKmsDecrypt": "true",
        "ReservedConcurrency": "unreserved",
        "StackSetCallAs": "DELEGATED_ADMIN",
        "ScheduleState": "DISABLED",
    },
    "no-athena-tables": {"AthenaTables": "false"},
    "reports-reader-role": {"ReportReaderRoleArn": "arn:aws:iam::111122223333:role/audit-readers"},
    "stepfunctions": {"Orchestration": "stepfunctions"},
    "stepfunctions-existing-bucket-kms-alarm-topic": {
        "Orchestration": "stepfunctions",
        "ExistingReportsBucketName": "my-reports",
        "ReportsKmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/5678abcd-12ab-34cd-56ef-1234567890ab",
        "AlarmTopicArn": "arn:aws:sns:us-east-1:111122223333:security-alerts",
        "DeployMemberRole": "false",
    },
}


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # Prove that no AWS credential is needed.
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(var, None)
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, **kw)
    print(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return proc


def test_sam_validate_lint():
    proc = run([tool("sam"), "validate", "--lint", "--template-file", "template.yaml"])
    assert proc.returncode == 0
    assert "is a valid SAM Template" in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", TEMPLATES)
def test_cfn_lint_templates(name):
    proc = run([tool("cfn-lint"), "--format", "parseable", name])
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cfn_lint_translated_template(variant, tmp_path):
    # The workflow definition inline, as CloudFormation reads it from S3: cfn-lint checks it
    # too (E3601), substitutions allowed for.
    out = sam_translate.translate(REPO / "template.yaml", VARIANTS[variant], inline_definitions=True)
    resources = out["Resources"]
    # What SAM generated is there: the function, its event invoke config, the state
    # machine, its schedule and the schedule's role (beside the function's schedule and
    # role, written in the template: the conditions choose at deployment).
    for logical_id, kind in {
        "AuditFunction": "AWS::Lambda::Function",
        "AuditFunctionEventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
        "AuditFunctionSchedule": "AWS::Scheduler::Schedule",
        "AuditFunctionScheduleRole": "AWS::IAM::Role",
        "AuditStateMachine": "AWS::StepFunctions::StateMachine",
        "AuditStateMachineSchedule": "AWS::Scheduler::Schedule",
        "AuditStateMachineScheduleRole": "AWS::IAM::Role",
    }.items():
        assert resources[logical_id]["Type"] == kind
    assert json.loads(resources["AuditStateMachine"]["Properties"]["DefinitionString"])["StartAt"]
    assert "Transform" not in out
    path = tmp_path / f"translated-{variant}.json"
    path.write_text(json.dumps(out, indent=1))
    proc = run([tool("cfn-lint"), "--format", "parseable", str(path)])
    assert proc.returncode == 0, proc.stdout


def test_translated_schedule_invokes_only_the_function():
    out = sam_translate.translate(REPO / "template.yaml")
    schedule = out["Resources"]["AuditFunctionSchedule"]["Properties"]
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": ["AuditFunction", "Arn"]}
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    role = out["Resources"]["AuditFunctionScheduleRole"]["Properties"]
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Resource"] == {"Fn::GetAtt": ["AuditFunction", "Arn"]}


def test_translated_workflow_schedule_starts_only_the_state_machine():
    out = sam_translate.translate(REPO / "template.yaml", {"Orchestration": "stepfunctions"})
    schedule = out["Resources"]["AuditStateMachineSchedule"]
    assert schedule["Condition"] == "UseStepFunctions"
    target = schedule["Properties"]["Target"]
    assert target["Arn"] == {"Ref": "AuditStateMachine"}
    assert json.loads(target["Input"]) == {}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 0
    role = out["Resources"]["AuditStateMachineScheduleRole"]
    assert role["Condition"] == "UseStepFunctions"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": ["scheduler.amazonaws.com"]}
    (policy,) = role["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "states:StartExecution")
    assert statement["Resource"] == {"Ref": "AuditStateMachine"}


def _checkov(paths: list[str]) -> dict:
    cmd = [tool("checkov"), "--skip-download", "--framework", "cloudformation", "--output", "json"]
    for p in paths:
        cmd += ["-f", p]
    proc = run(cmd)
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    assert not failed, [(c["check_id"], c["resource"], c["check_name"]) for c in failed]
    assert proc.returncode == 0
    return {"passed": sum(r["summary"]["passed"] for r in reports), "skipped": [
        (c["check_id"], c["resource"]) for r in reports for c in r["results"]["skipped_checks"]],
        "resources": {c["resource"] for r in reports for c in r["results"]["passed_checks"]}}


def test_checkov_templates():
    result = _checkov(TEMPLATES)
    assert result["passed"] >= 15
    note(f"checkov: {result['passed']} passed, skipped with a reason in the template: {sorted(set(c for c, _ in result['skipped']))}")


@pytest.mark.parametrize("orchestration", ["function", "stepfunctions"])
def test_checkov_translated_template(orchestration, tmp_path):
    path = tmp_path / "translated.json"
    out = sam_translate.translate(REPO / "template.yaml", {"Orchestration": orchestration}, inline_definitions=True)
    # checkov leaves out the resources whose condition is false with the parameters'
    # defaults: make this orchestration the default, so that its resources are checked.
    out["Parameters"]["Orchestration"]["Default"] = orchestration
    path.write_text(json.dumps(out, indent=1))
    result = _checkov([str(path)])
    assert result["passed"] >= 15
    checked = {resource for _, resource in result["skipped"]} | set(result["resources"])
    workflow = {"AWS::IAM::Role.AuditStateMachineRole", "AWS::Logs::LogGroup.AuditStateMachineLogGroup"}
    function_schedule = {"AWS::IAM::Role.AuditFunctionScheduleRole"}
    assert (workflow if orchestration == "stepfunctions" else function_schedule) <= checked
    assert not (function_schedule if orchestration == "stepfunctions" else workflow) & checked
