"""The settings the issue asks of template.yaml and member-role.yaml, and their agreement
with the code (binary name, environment variables, defaults, report names, metric)."""

from __future__ import annotations

import re
import tomllib

import pytest
from conftest import REPO

SRC = REPO / "src"

ENV_VARS = {
    "CurrentAccountId",
    "reports_bucket",
    "CrossAccountRoleName",
    "REPORT_PREFIX",
    "REGIONS",
    "MAX_CONCURRENCY",
    "API_RATE_LIMIT",
    "DEADLINE_MARGIN_SECONDS",
    "RUST_LOG",
}
REPORTS = [
    "idc_instances",
    "duplicated_users",
    "application_assignments",
    "account_assignments",
    "account_errors",
    "changes",
    "summary",
    "lookups",
]


def src_text(*parts: str) -> str:
    path = SRC.joinpath(*parts)
    if path.is_dir():
        return "\n".join(p.read_text(errors="replace") for p in sorted(path.rglob("*.rs")))
    return path.read_text(errors="replace") if path.exists() else ""


def props(template, name):
    return template["Resources"][name]["Properties"]


# ---------------------------------------------------------------- the function


def test_function_is_built_by_cargo_lambda(function):
    p = function["Properties"]
    assert p["Runtime"] == "provided.al2023"
    assert p["Handler"] == "bootstrap"
    assert p["CodeUri"] == "."
    assert function["Metadata"]["BuildMethod"] == "rust-cargolambda"
    assert function["Metadata"]["BuildProperties"] == {"Binary": "idc-report"}


def test_binary_is_the_cargo_package_binary(function):
    cargo = tomllib.loads((REPO / "Cargo.toml").read_text())
    assert cargo["package"]["name"] == "idc-report"
    bins = [b["name"] for b in cargo.get("bin", [])] or [cargo["package"]["name"]]
    assert function["Metadata"]["BuildProperties"]["Binary"] in bins


def test_architecture_is_a_parameter_arm64_by_default(template, function):
    assert function["Properties"]["Architectures"] == [{"Ref": "Architecture"}]
    param = template["Parameters"]["Architecture"]
    assert param["Default"] == "arm64"
    assert sorted(param["AllowedValues"]) == ["arm64", "x86_64"]


def test_timeout_memory_concurrency_and_retries(template, function):
    p = function["Properties"]
    assert p["Timeout"] == 900
    assert p["MemorySize"] == {"Ref": "MemorySize"}
    # Reports are staged in /tmp, beside the previous run's for the changes report: room
    # for 5 million account_assignments rows twice by default.
    assert p["EphemeralStorage"] == {"Size": {"Ref": "EphemeralStorageSize"}}
    assert template["Parameters"]["EphemeralStorageSize"]["Default"] >= 4096
    assert template["Parameters"]["MemorySize"]["Default"] >= 512
    assert p["ReservedConcurrentExecutions"] == {"Fn::If": ["ReserveOne", 1, {"Ref": "AWS::NoValue"}]}
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == "one"
    assert p["EventInvokeConfig"]["MaximumRetryAttempts"] == 0


def test_environment_is_the_code_configuration(template, function):
    env = function["Properties"]["Environment"]["Variables"]
    assert set(env) == ENV_VARS
    assert env["CurrentAccountId"] == {"Ref": "AWS::AccountId"}
    assert env["reports_bucket"] == {
        "Fn::If": ["CreateReportsBucket", {"Ref": "ReportsBucket"}, {"Ref": "ExistingReportsBucketName"}]
    }
    for var, param in {
        "CrossAccountRoleName": "CrossAccountRoleName",
        "REPORT_PREFIX": "ReportPrefix",
        "REGIONS": "Regions",
        "MAX_CONCURRENCY": "MaxConcurrency",
        "API_RATE_LIMIT": "ApiRateLimit",
        "DEADLINE_MARGIN_SECONDS": "DeadlineMarginSeconds",
        "RUST_LOG": "LogLevel",
    }.items():
        assert env[var] == {"Ref": param}, var
    defaults = {p: template["Parameters"][p]["Default"] for p in template["Parameters"] if "Default" in template["Parameters"][p]}
    assert defaults["CrossAccountRoleName"] == "idc-lambda-service-role"
    assert defaults["ReportPrefix"] == "idc-reports"
    assert defaults["Regions"] == "ALL"
    assert defaults["MaxConcurrency"] == 16
    assert defaults["DeadlineMarginSeconds"] == 60
    assert defaults["LogLevel"] == "info"


def test_environment_names_are_read_by_the_code(function):
    config = src_text("config.rs")
    if not config:
        pytest.skip("src/config.rs not written yet")
    read = set(re.findall(r'get\("([A-Za-z_]+)"\)', config))
    env = set(function["Properties"]["Environment"]["Variables"]) - {"RUST_LOG"}
    assert env <= read, f"set in the template but never read by src/config.rs: {sorted(env - read)}"
    # Defaults agree where the code states them.
    consts = dict(re.findall(r"pub const (DEFAULT_[A-Z_]+): [^=]+= \"?([^\";]+)\"?;", config))
    expected = {
        "DEFAULT_ROLE_NAME": "idc-lambda-service-role",
        "DEFAULT_REPORT_PREFIX": "idc-reports",
        "DEFAULT_MAX_CONCURRENCY": "16",
        "DEFAULT_DEADLINE_MARGIN_SECONDS": "60",
        "DEFAULT_API_RATE_LIMIT": "20.0",
    }
    for name, value in expected.items():
        if name in consts:
            assert consts[name] == value, name


def test_log_group_with_retention(template, function):
    assert function["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "AuditFunctionLogGroup"}
    assert function["Properties"]["LoggingConfig"]["LogFormat"] == "Text"
    lg = props(template, "AuditFunctionLogGroup")
    assert lg["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] in template["Parameters"]["LogRetentionDays"]["AllowedValues"]


# ---------------------------------------------------------------- the schedule


def test_schedule_is_eventbridge_scheduler_with_parameters(template, function):
    # Orchestration function: a Scheduler schedule of its own that invokes the function
    # (the function has no event: SAM cannot make one event of a function conditional).
    assert "Events" not in function["Properties"]
    schedule = template["Resources"]["AuditFunctionSchedule"]
    assert (schedule["Type"], schedule["Condition"]) == ("AWS::Scheduler::Schedule", "UseFunctionOrchestration")
    p = schedule["Properties"]
    assert p["Target"]["Arn"] == {"Fn::GetAtt": ["AuditFunction", "Arn"]}
    assert p["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    # Orchestration stepfunctions: the state machine's ScheduleV2 event, same parameters.
    (event,) = props(template, "AuditStateMachine")["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    for q in (p, event["Properties"]):
        assert q["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
        assert q["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
        assert q["State"] == {"Ref": "ScheduleState"}
    # Switching Orchestration creates one schedule before it deletes the other: two names.
    assert p["Name"] != event["Properties"]["Name"]
    assert template["Parameters"]["ScheduleState"]["AllowedValues"] == ["ENABLED", "DISABLED"]
    assert re.fullmatch(r"(rate|cron)\(.+\)", template["Parameters"]["ScheduleExpression"]["Default"])


def test_orchestration_parameter(template):
    param = template["Parameters"]["Orchestration"]
    assert (param["Default"], param["AllowedValues"]) == ("function", ["function", "stepfunctions"])
    conditions = template["Conditions"]
    assert conditions["UseFunctionOrchestration"] == {"Fn::Equals": [{"Ref": "Orchestration"}, "function"]}
    assert conditions["UseStepFunctions"] == {"Fn::Equals": [{"Ref": "Orchestration"}, "stepfunctions"]}
    # Every resource of either orchestration is conditional on it; nothing else is.
    for name in ("AuditFunctionSchedule", "AuditFunctionScheduleRole"):
        assert template["Resources"][name]["Condition"] == "UseFunctionOrchestration", name
    for name in ("AuditStateMachine", "AuditStateMachineRole", "AuditStateMachineLogGroup", "WorkflowFailedAlarm"):
        assert template["Resources"][name]["Condition"] == "UseStepFunctions", name
    assert "Orchestration" in str(template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"])


# ---------------------------------------------------------------- the bucket


def test_bucket_is_private_encrypted_versioned(template):
    b = props(template, "ReportsBucket")
    assert template["Resources"]["ReportsBucket"]["Condition"] == "CreateReportsBucket"
    assert b["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    assert all(b["PublicAccessBlockConfiguration"][k] is True for k in (
        "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"))
    assert b["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert b["VersioningConfiguration"]["Status"] == "Enabled"


def test_bucket_lifecycle_expires_dated_runs_not_latest(template):
    rules = props(template, "ReportsBucket")["LifecycleConfiguration"]["Rules"]
    prefixes = {r["Prefix"]["Fn::Sub"] for r in rules if "ExpirationInDays" in r}
    # The reports, and the resumable runs' checkpoints (test_statemachine.py).
    assert prefixes == {f"${{ReportPrefix}}/{name}/" for name in REPORTS} | {"${ReportPrefix}/checkpoints/"}
    assert not any("latest" in p for p in prefixes)
    noncurrent = [r for r in rules if "NoncurrentVersionExpiration" in r and "Prefix" not in r]
    assert len(noncurrent) == 1


def test_report_folders_are_the_codes(template):
    code = src_text()
    if "date=" not in code:
        pytest.skip("the report writer is not in src/ yet")
    for name in REPORTS:
        assert f'"{name}"' in code or f"/{name}/" in code, f"lifecycle rule for {name}/ but src/ never names it"
    # And every report the code names has its rule (person_access lives under lookups/).
    named = set(re.findall(r'pub const [A-Z_]+: &str = "([a-z_]+)";', src_text("report")))
    assert named - {"person_access", "summary_html"} <= set(REPORTS), named - set(REPORTS)


def test_bucket_policy_denies_insecure_transport(template):
    statements = props(template, "ReportsBucketPolicy")["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny" and s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"]
    assert len(deny) == 1 and deny[0]["Principal"] == "*" and deny[0]["Action"] == "s3:*"


# ---------------------------------------------------------------- who can read the reports

S3_VIA = {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}}}
KEY_ARN = {"Fn::If": ["CreateReportsKey", {"Fn::GetAtt": ["ReportsKey", "Arn"]}, {"Ref": "ReportsKmsKeyArn"}]}
# What lets a principal read a report (or let another read it).
READ_ACTIONS = {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:CreateGrant",
                "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKeyWithoutPlaintext"}


def test_reports_are_encrypted_with_a_kms_key_the_stack_creates_or_is_given(template):
    assert template["Parameters"]["ReportsKmsKeyArn"]["Default"] == ""
    assert template["Parameters"]["ReportReaderRoleArn"]["Default"] == ""
    conditions = template["Conditions"]
    assert conditions["CreateReportsKey"] == {
        "Fn::And": [{"Condition": "CreateReportsBucket"}, {"Fn::Equals": [{"Ref": "ReportsKmsKeyArn"}, ""]}]
    }
    (rule,) = props(template, "ReportsBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN}
    assert rule["BucketKeyEnabled"] is True
    key = template["Resources"]["ReportsKey"]
    assert key["Condition"] == "CreateReportsKey"
    assert key["DeletionPolicy"] == key["UpdateReplacePolicy"] == "Retain", "kept with the retained bucket"
    assert key["Properties"]["EnableKeyRotation"] is True
    alias = template["Resources"]["ReportsKeyAlias"]
    assert alias["Properties"]["TargetKeyId"] == {"Ref": "ReportsKey"}


def _key_statements(template):
    for raw in props(template, "ReportsKey")["KeyPolicy"]["Statement"]:
        if isinstance(raw, dict) and "Fn::If" in raw:
            cond, yes, no = raw["Fn::If"]
            assert no == {"Ref": "AWS::NoValue"}
            yield cond, yes
        else:
            yield None, raw


def test_only_the_function_and_the_reader_role_may_decrypt(template):
    readers = {}
    for condition, st in _key_statements(template):
        assert st["Effect"] == "Allow"
        actions = set(st["Action"]) if isinstance(st["Action"], list) else {st["Action"]}
        assert not any(a.endswith("*") for a in actions), f"{st['Sid']}: no wildcard action in the key policy"
        principal = st["Principal"]["AWS"]
        if actions & READ_ACTIONS:
            assert st["Condition"] == S3_VIA, f"{st['Sid']}: only through S3"
            readers[json_key(principal)] = (condition, actions & READ_ACTIONS)
        else:
            # The account administers the key: it may change the policy, never read with it.
            assert principal == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} <= actions
    assert readers == {
        json_key({"Fn::GetAtt": ["AuditFunctionRole", "Arn"]}): (None, {"kms:GenerateDataKey", "kms:Decrypt"}),
        json_key({"Ref": "ReportReaderRoleArn"}): ("HasReportReader", {"kms:Decrypt"}),
    }


def json_key(value) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def test_function_may_use_only_the_reports_key_and_only_through_s3(template):
    policy = template["Resources"]["AuditFunctionReportsPolicy"]
    assert policy["Type"] == "AWS::IAM::RolePolicy" and "Condition" not in policy
    assert policy["Properties"]["RoleName"] == {"Ref": "AuditFunctionRole"}
    # The last two statements, s3:ListBucket for the keys read and the checkpoints'
    # s3:DeleteObject, are checked in test_statemachine.py.
    (put, read, conditional, _listing, _checkpoints) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert put["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload"]
    # The previous run, read back for the changes report: GetObject, on the prefix only.
    assert (read["Sid"], read["Action"], read["Resource"]) == ("ReadPreviousRun", "s3:GetObject", put["Resource"])
    condition, st, no = conditional["Fn::If"]
    assert (condition, no) == ("HasReportsKey", {"Ref": "AWS::NoValue"})
    assert (st["Effect"], sorted(st["Action"])) == ("Allow", ["kms:Decrypt", "kms:GenerateDataKey"])
    assert st["Resource"] == KEY_ARN
    assert st["Condition"] == S3_VIA
    assert template["Outputs"]["ReportsKeyArn"]["Value"] == KEY_ARN


def test_existing_bucket_parameter(template):
    assert template["Parameters"]["ExistingReportsBucketName"]["Default"] == ""
    assert template["Conditions"]["CreateReportsBucket"] == {"Fn::Equals": [{"Ref": "ExistingReportsBucketName"}, ""]}
    assert template["Resources"]["ReportsBucketPolicy"]["Condition"] == "CreateReportsBucket"


# ---------------------------------------------------------------- alarms and metric


def test_alarms_on_errors_and_failed_reads(template):
    errors = props(template, "FunctionErrorsAlarm")
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    failed = props(template, "ReadFailuresAlarm")
    assert (failed["Namespace"], failed["MetricName"]) == ("IdcReport", "ReadFailures")
    incomplete = props(template, "AuditIncompleteAlarm")
    assert (incomplete["Namespace"], incomplete["MetricName"]) == ("IdcReport", "AccountsNotReached")
    new_instances = props(template, "NewAccountInstancesAlarm")
    assert (new_instances["Namespace"], new_instances["MetricName"]) == ("IdcReport", "NewAccountInstances")
    assert (new_instances["Statistic"], new_instances["Threshold"], new_instances["ComparisonOperator"]) == (
        "Maximum",
        0,
        "GreaterThanThreshold",
    )
    for alarm in (errors, failed, incomplete, new_instances):
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "AuditFunction"}}]
        assert alarm["AlarmActions"] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def test_metric_is_the_one_the_code_emits():
    code = src_text()
    if "CloudWatchMetrics" not in code:
        pytest.skip("the embedded metric format line is not in src/ yet")
    for name in ("IdcReport", "ReadFailures", "AccountsNotReached", "NewAccountInstances", "FunctionName"):
        assert f'"{name}"' in code, name


# ---------------------------------------------------------------- member role and StackSet


def test_stackset_is_service_managed_with_auto_deployment(template, member_template):
    s = props(template, "MemberRoleStackSet")
    assert s["PermissionModel"] == "SERVICE_MANAGED"
    assert s["AutoDeployment"]["Enabled"] is True
    assert s["TemplateURL"] == "member-role.yaml" and (REPO / "member-role.yaml").exists()
    assert "CAPABILITY_NAMED_IAM" in s["Capabilities"]
    given = {p["ParameterKey"]: p["ParameterValue"] for p in s["Parameters"]}
    declared = member_template["Parameters"]
    assert set(given) == set(declared)
    assert given["AuditFunctionRoleArn"] == {"Fn::GetAtt": ["AuditFunctionRole", "Arn"]}
    assert given["AuditAccountId"] == {"Ref": "AWS::AccountId"}
    assert given["RoleName"] == {"Ref": "CrossAccountRoleName"}
    assert member_template["Parameters"]["RoleName"]["Default"] == template["Parameters"]["CrossAccountRoleName"]["Default"]


def test_member_role_trusts_only_the_function_role(member_template):
    role = props(member_template, "AuditReadRole")
    assert role["RoleName"] == {"Ref": "RoleName"}
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AuditAccountId}:root"}}
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": {"Ref": "AuditFunctionRoleArn"}}}


def test_assume_role_stays_inside_the_organization(template):
    """A role of the member role's name in an account outside the organization (anyone
    can create one and trust the function's account) is never assumed."""
    statements = template["Resources"]["AuditFunctionRole"]["Properties"]["Policies"]
    assume = [
        st
        for policy in statements
        for st in policy["PolicyDocument"]["Statement"]
        if isinstance(st, dict) and st.get("Action") == "sts:AssumeRole"
    ]
    assert len(assume) == 1
    assert assume[0]["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}


# ---------------------------------------------------------------- outputs, skips, config


def test_outputs(template):
    outputs = template["Outputs"]
    for name in ("FunctionName", "FunctionArn", "ReportsBucketName", "ReportsConsoleUrl"):
        assert name in outputs
    assert "s3/buckets/" in outputs["ReportsConsoleUrl"]["Value"]["Fn::Sub"][0]


def test_every_checkov_skip_is_justified(template, member_template):
    skips = 0
    for tpl in (template, member_template):
        for name, resource in tpl["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                skips += 1
                assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
                assert len(skip.get("comment", "").split()) >= 12, f"{name} {skip['id']}: say why it is skipped"
    assert skips > 0


def test_samconfig():
    cfg = tomllib.loads((REPO / "samconfig.toml").read_text())
    deploy = cfg["default"]["deploy"]["parameters"]
    assert cfg["default"]["global"]["parameters"]["stack_name"]
    assert deploy["resolve_s3"] is True
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    assert cfg["default"]["validate"]["parameters"]["lint"] is True
