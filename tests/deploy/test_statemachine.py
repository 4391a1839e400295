"""The audit workflow of Orchestration stepfunctions: statemachine/audit.asl.json, deployed by
template.yaml, validated by asl-validator (as written, and as CloudFormation substitutes it),
held to the resume contract's event and answer and to README.md (its steps, the errors it
retries and the ones it catches, the invocation guard); the IAM of the state machine, of its
schedule and of the checkpoint prefix; the checkpoints' lifecycle rule; and Orchestration
function deploying what it did before the parameter existed."""

from __future__ import annotations

import copy
import json
import re
import subprocess

import pytest
from conftest import REPO

import iam_ops
import sam_translate
from test_iam_vs_code import LOG_DELIVERY

DEFINITION = REPO / "statemachine" / "audit.asl.json"
README = REPO / "README.md"
ASL_VALIDATOR = REPO / ".venv" / "deploy" / "node" / "node_modules" / ".bin" / "asl-validator"

# What CloudFormation puts for the DefinitionSubstitutions, in an example stack.
EXAMPLE_SUBSTITUTIONS = {
    "LambdaInvoke": "arn:aws:states:::lambda:invoke",
    "AuditFunctionArn": "arn:aws:lambda:us-east-1:111122223333:function:idc-report-AuditFunction-AbCdEf123456",
}
STATES = {"StartRun", "InvokeAudit", "IsDone", "AuditComplete", "AuditRefused", "TooManyInvocations"}
# The guard: a run still not done after this many invocations fails.
MAX_INVOCATIONS = 48
# The function's errors that no retry can fix (README.md, Errors you may see).
REFUSED = {"InvalidEvent", "InvalidConfiguration", "NoCredentials", "OrganizationUnreadable", "NoProgress"}
FUNCTION_TIMEOUT = 900


def definition() -> dict:
    return json.loads(DEFINITION.read_text())


def substituted_text() -> str:
    text = DEFINITION.read_text()
    for key, value in EXAMPLE_SUBSTITUTIONS.items():
        text = text.replace("${" + key + "}", value)
    return text


def task() -> dict:
    return definition()["States"]["InvokeAudit"]


def props(template, name):
    return template["Resources"][name]["Properties"]


def validate(path) -> subprocess.CompletedProcess:
    if not ASL_VALIDATOR.exists():
        pytest.fail(f"{ASL_VALIDATOR} not found: run scripts/setup-deploy-tools.sh")
    proc = subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=120)
    print(f"$ asl-validator --json-path {path}\n{proc.stdout}{proc.stderr}")
    return proc


# ---------------------------------------------------------------- the file and the template


def test_template_deploys_the_definition_file(template):
    machine = template["Resources"]["AuditStateMachine"]
    assert machine["Type"] == "AWS::Serverless::StateMachine"
    assert machine["Condition"] == "UseStepFunctions"
    p = machine["Properties"]
    assert p["Type"] == "STANDARD"
    assert p["DefinitionUri"] == "statemachine/audit.asl.json"
    assert (REPO / p["DefinitionUri"]).resolve() == DEFINITION.resolve()
    assert "Definition" not in p, "the definition lives in its own file"
    assert p["Role"] == {"Fn::GetAtt": ["AuditStateMachineRole", "Arn"]}
    subs = p["DefinitionSubstitutions"]
    assert subs["AuditFunctionArn"] == {"Fn::GetAtt": ["AuditFunction", "Arn"]}
    assert subs["LambdaInvoke"] == {"Fn::Sub": "arn:${AWS::Partition}:states:::lambda:invoke"}
    assert template["Outputs"]["StateMachineArn"] == {
        "Condition": "UseStepFunctions",
        "Description": template["Outputs"]["StateMachineArn"]["Description"],
        "Value": {"Ref": "AuditStateMachine"},
    }


def test_substitutions_are_exactly_the_placeholders_of_the_file(template):
    placeholders = set(re.findall(r"\$\{([^}]+)\}", DEFINITION.read_text()))
    assert placeholders == set(props(template, "AuditStateMachine")["DefinitionSubstitutions"])
    assert placeholders == set(EXAMPLE_SUBSTITUTIONS)
    assert "${" not in substituted_text()


def test_translated_state_machine_reads_the_definition_from_s3():
    """What `sam deploy` sends: the file uploaded, its S3 location in the template."""
    out = sam_translate.translate(REPO / "template.yaml", {"Orchestration": "stepfunctions"})
    p = out["Resources"]["AuditStateMachine"]["Properties"]
    assert p["DefinitionS3Location"] == {"Bucket": "example-deployment-bucket", "Key": "AuditStateMachine.asl.json"}
    assert p["StateMachineType"] == "STANDARD"
    assert set(p["DefinitionSubstitutions"]) == set(EXAMPLE_SUBSTITUTIONS)


# ---------------------------------------------------------------- asl-validator


@pytest.mark.parametrize("form", ["as-written", "substituted"])
def test_asl_validator_accepts_the_definition(form, tmp_path):
    path = DEFINITION
    if form == "substituted":
        path = tmp_path / "audit.asl.json"
        path.write_text(substituted_text())
    proc = validate(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is valid" in proc.stdout


@pytest.mark.parametrize(
    "breakage, expected",
    [
        (lambda d: d["States"]["IsDone"].update(Default="Nowhere"), "Nowhere"),
        (lambda d: d["States"]["InvokeAudit"]["Retry"][0].update(BackoffRate="twice"), "BackoffRate"),
        (lambda d: d["States"]["InvokeAudit"].update(ResultPath="last"), "ResultPath"),
        (lambda d: d["States"]["InvokeAudit"].update(Resource="lambda:invoke"), "Resource"),
    ],
    ids=["missing-target", "backoff-not-a-number", "bad-path", "bad-resource"],
)
def test_asl_validator_refuses_a_broken_definition(breakage, expected, tmp_path):
    """The validator is not a rubber stamp: each defect of a copy is refused."""
    broken = json.loads(substituted_text())
    breakage(broken)
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken))
    proc = validate(path)
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr


# ---------------------------------------------------------------- the loop and the contract


def test_states_and_transitions():
    d = definition()
    assert set(d["States"]) == STATES
    assert d["StartAt"] == "StartRun"
    s = d["States"]
    assert (s["StartRun"]["Type"], s["StartRun"]["Next"]) == ("Pass", "InvokeAudit")
    assert (s["InvokeAudit"]["Type"], s["InvokeAudit"]["Next"]) == ("Task", "IsDone")
    is_done = s["IsDone"]
    assert is_done["Type"] == "Choice"
    assert is_done["Choices"] == [
        {"Variable": "$.last.answer.done", "BooleanEquals": True, "Next": "AuditComplete"},
        {"Variable": "$.last.answer.invocation", "NumericGreaterThanEquals": MAX_INVOCATIONS, "Next": "TooManyInvocations"},
    ]
    # Not done: the same task again (a loop, not a Map).
    assert is_done["Default"] == "InvokeAudit"
    assert not any(state["Type"] in ("Map", "Parallel") for state in s.values())
    # Done: the execution's output is the run summary of the last answer.
    assert s["AuditComplete"] == {**s["AuditComplete"], "Type": "Pass", "OutputPath": "$.last.answer.summary", "End": True}
    assert s["TooManyInvocations"]["Type"] == "Fail" and s["TooManyInvocations"]["Error"] == "TooManyInvocations"
    assert str(MAX_INVOCATIONS) in s["TooManyInvocations"]["Cause"]
    # The refused run's error and cause are the function's errorType and message.
    assert s["AuditRefused"] == {**s["AuditRefused"], "Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_every_state_is_reachable():
    d = definition()
    seen, todo = set(), [d["StartAt"]]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        state = d["States"][name]
        todo += [x for x in (state.get("Next"), state.get("Default")) if x]
        todo += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
    assert seen == set(d["States"])


def json_merge(first: dict, second: dict) -> dict:
    """States.JsonMerge(first, second, false): a shallow merge, the second's keys win."""
    return {**first, **second}


@pytest.mark.parametrize(
    "execution_input",
    [{}, {"accounts": ["111122221111"], "regions": ["us-east-1"], "dry_run": True}],
    ids=["full-audit", "narrowed"],
)
def test_every_invocation_gets_the_contracts_event(execution_input):
    """The event of the resume contract, the same for every invocation of an execution:
    continue_run named after the execution and its start time, and the execution input's
    options (honoured by the first invocation)."""
    start = definition()["States"]["StartRun"]
    assert start["Parameters"] == {
        "options.$": "$",
        "run": {"continue_run": {"name.$": "$$.Execution.Name", "started_at.$": "$$.Execution.StartTime"}},
    }
    t = task()
    assert t["Resource"] == "${LambdaInvoke}"
    assert t["Parameters"] == {"FunctionName": "${AuditFunctionArn}", "Payload.$": "States.JsonMerge($.options, $.run, false)"}
    # The answer is kept beside the options and the run, so the next invocation's event is
    # built from the same two: identical.
    assert (t["ResultSelector"], t["ResultPath"]) == ({"answer.$": "$.Payload"}, "$.last")
    context = {"name": "0b7c9e3e-5b1c-4c55-9a43-2f1d0e6a7b21", "started_at": "2026-11-30T06:00:01.403Z"}
    state = {"options": execution_input, "run": {"continue_run": context}}
    event = json_merge(state["options"], state["run"])
    assert event == {**execution_input, "continue_run": context}
    state["last"] = {"answer": {"done": False, "run_id": "r", "invocation": 1, "pending_units": 9}}
    assert json_merge(state["options"], state["run"]) == event


def test_task_timeout_and_execution_timeout(function):
    assert function["Properties"]["Timeout"] == FUNCTION_TIMEOUT
    # Step Functions waits longer than Lambda lets the function run: a timed-out invocation
    # is Lambda's Sandbox.Timedout, States.Timeout only if the answer never comes.
    assert FUNCTION_TIMEOUT < task()["TimeoutSeconds"] <= FUNCTION_TIMEOUT + 120
    # The whole execution outlasts the guard's invocations.
    assert definition()["TimeoutSeconds"] >= MAX_INVOCATIONS * FUNCTION_TIMEOUT


# ---------------------------------------------------------------- retries and catches vs README


def readme_orchestration() -> str:
    text = README.read_text()
    return text.split("### Orchestration", 1)[1].split("\n### ", 1)[0]


def readme_error_rows() -> list[tuple[set[str], str]]:
    """(error names, what the workflow does) for each row of the README's failure table."""
    lines = readme_orchestration().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| error "))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        first, second = line.strip().strip("|").split(" | ", 1)
        rows.append((set(re.findall(r"`([A-Za-z][A-Za-z.]*)`", first)), second.strip()))
    assert len(rows) >= 5
    return rows


def test_retries_are_the_readmes():
    retriers = task()["Retry"]
    rows = [(names, what) for names, what in readme_error_rows() if what.startswith("retried")]
    assert len(rows) == len(retriers)
    for names, what in rows:
        (retrier,) = [r for r in retriers if set(r["ErrorEquals"]) == names]
        assert f"up to {retrier['MaxAttempts']} times" in what, what
        assert f"{retrier['IntervalSeconds']} s apart at first" in what, what
        assert ("doubling" in what) == (retrier.get("BackoffRate") == 2), what
        assert ("with jitter" in what) == (retrier.get("JitterStrategy") == "FULL"), what
        if "MaxDelaySeconds" in retrier:
            assert f"up to {retrier['MaxDelaySeconds']} s" in what, what


def test_catches_are_the_readmes():
    rows = readme_error_rows()
    (caught,) = [names for names, what in rows if what.startswith("never retried")]
    (rest_row,) = [(names, what) for names, what in rows if not what.startswith(("retried", "never retried"))]
    (catcher,) = task()["Catch"]
    assert set(catcher["ErrorEquals"]) == caught == REFUSED
    assert (catcher["Next"], catcher["ResultPath"]) == ("AuditRefused", "$.error")
    assert f"`{catcher['Next']}`" in dict((frozenset(n), w) for n, w in rows)[frozenset(caught)]
    # What is neither retried nor caught fails the execution in the task (so it can be
    # redriven from its checkpoint): no catch-all.
    names, what = rest_row
    retried = {e for r in task()["Retry"] for e in r["ErrorEquals"]}
    assert names and not names & (retried | caught)
    assert "`InvokeAudit`" in what


def test_retries_have_backoff_and_never_retry_what_cannot_succeed():
    retried = set()
    for retrier in task()["Retry"]:
        assert retrier["MaxAttempts"] >= 1 and retrier["IntervalSeconds"] >= 1 and retrier["BackoffRate"] >= 1
        retried |= set(retrier["ErrorEquals"])
    # Wildcards would retry a refused run too.
    assert not retried & {"States.ALL", "States.TaskFailed"}
    assert not retried & REFUSED
    # Lambda's transient errors, a killed invocation, the contract's transient errors.
    assert {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Sandbox.Timedout",
        "Runtime.ExitError",
        "Lambda.Unknown",
        "States.Timeout",
        "CheckpointFailed",
        "ReportUploadFailed",
    } <= retried
    assert all("States.ALL" not in c["ErrorEquals"] for c in task()["Catch"])


def test_every_error_type_of_the_function_is_in_the_readme_table():
    handler = REPO / "src" / "handler.rs"
    if not handler.exists():
        pytest.skip("src/handler.rs not written yet")
    text = handler.read_text()
    # error_type and the helpers it calls, up to the end of their impl block.
    body = text.split("fn error_type", 1)[1].split("\n}\n", 1)[0] if "fn error_type" in text else ""
    types = set(re.findall(r'=>\s*"([A-Za-z.]+)"', body))
    assert REFUSED <= types, "the function no longer names these errors: the workflow's catch is stale"
    documented = set().union(*(names for names, _ in readme_error_rows()))
    assert types <= documented, f"errorTypes of src/handler.rs the README's failure table does not place: {sorted(types - documented)}"


def test_guard_is_documented():
    section = readme_orchestration()
    assert f"`invocation` {MAX_INVOCATIONS} or more" in section
    assert "`TooManyInvocations`" in section
    for state in ("InvokeAudit", "IsDone", "AuditRefused"):
        assert f"`{state}`" in section, state


# ---------------------------------------------------------------- IAM


def test_state_machine_role_may_only_invoke_the_function_and_deliver_logs(template):
    role = template["Resources"]["AuditStateMachineRole"]
    assert role["Condition"] == "UseStepFunctions"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert (trust["Effect"], trust["Action"], trust["Principal"]) == ("Allow", "sts:AssumeRole", {"Service": "states.amazonaws.com"})
    # Only this stack's state machine may use it: its name, as the template gives it.
    name = props(template, "AuditStateMachine")["Name"]["Fn::Sub"]
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:stateMachine:{name}"}},
    }
    grants = iam_ops.granted_actions(template, "AuditStateMachineRole")
    assert set(grants) == {"lambda:InvokeFunction"} | LOG_DELIVERY
    (invoke,) = grants["lambda:InvokeFunction"]
    # The unqualified function the definition names: no version, no alias, no wildcard.
    assert invoke["Resource"] == {"Fn::GetAtt": ["AuditFunction", "Arn"]}
    for action in LOG_DELIVERY:
        assert [s["Resource"] for s in grants[action]] == ["*"]


def test_function_schedule_role_may_only_invoke_the_function(template):
    role = template["Resources"]["AuditFunctionScheduleRole"]
    assert role["Condition"] == "UseFunctionOrchestration"
    grants = iam_ops.granted_actions(template, "AuditFunctionScheduleRole")
    assert set(grants) == {"lambda:InvokeFunction"}
    assert [s["Resource"] for s in grants["lambda:InvokeFunction"]] == [{"Fn::GetAtt": ["AuditFunction", "Arn"]}]


def test_lambda_invoke_only_by_the_schedules_and_the_state_machine(template):
    roles = {role for role, _, st in iam_ops.policy_statements(template) if "lambda:InvokeFunction" in iam_ops._as_list(st["Action"])}
    assert roles == {"AuditFunctionScheduleRole", "AuditStateMachineRole"}


def _checkpoint_statement(template):
    statements = props(template, "AuditFunctionReportsPolicy")["PolicyDocument"]["Statement"]
    found = [s for s in statements if isinstance(s, dict) and "Fn::If" in s and s["Fn::If"][1].get("Sid") == "DeleteCheckpoints"]
    assert len(found) == 1
    return found[0]["Fn::If"]


def test_checkpoint_prefix_grants(template):
    condition, statement, otherwise = _checkpoint_statement(template)
    # Only with the workflow; nothing in Orchestration function.
    assert (condition, otherwise) == ("UseStepFunctions", {"Ref": "AWS::NoValue"})
    assert (statement["Effect"], statement["Action"]) == ("Allow", "s3:DeleteObject")
    assert statement["Resource"]["Fn::Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}/${ReportPrefix}/checkpoints/*"
    # s3:DeleteObject nowhere else; GetObject, PutObject, AbortMultipartUpload of the
    # checkpoint are those of the report prefix (which holds checkpoints/), and only those.
    fn = iam_ops.granted_actions(template, "AuditFunctionRole")
    assert fn["s3:DeleteObject"] == [statement]
    assert not {a for a in fn if a.startswith("s3:")} - {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListBucket"}
    # s3:ListBucket (ListObjectsV2 of a run's checkpoint folder) only for that prefix.
    (listing,) = fn["s3:ListBucket"]
    assert listing["Resource"]["Fn::Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}"
    assert listing["Condition"]["StringLike"]["s3:prefix"] == {"Fn::Sub": "${ReportPrefix}/checkpoints/*"}
    for action in ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"):
        (s,) = fn[action]
        prefix = s["Resource"]["Fn::Sub"][0].removesuffix("*")
        assert "arn:${AWS::Partition}:s3:::${Bucket}/${ReportPrefix}/checkpoints/".startswith(prefix), action


def test_checkpoint_lifecycle_rule(template):
    rules = props(template, "ReportsBucket")["LifecycleConfiguration"]["Rules"]
    (rule,) = [r for r in rules if isinstance(r, dict) and r.get("Prefix") == {"Fn::Sub": "${ReportPrefix}/checkpoints/"}]
    assert rule["Status"] == "Enabled"
    days = rule["ExpirationInDays"]
    assert 1 <= days <= 14
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert f"expires them after {days} days" in readme_orchestration()


def test_logging_as_a_security_team_wants_it(template):
    p = props(template, "AuditStateMachine")
    assert p["Logging"]["Level"] == "ERROR"
    (destination,) = p["Logging"]["Destinations"]
    assert destination == {"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["AuditStateMachineLogGroup", "Arn"]}}}
    group = template["Resources"]["AuditStateMachineLogGroup"]
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")
    alarm = props(template, "WorkflowFailedAlarm")
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in metrics.values() if "MetricStat" in m} == {"ExecutionsFailed", "ExecutionsTimedOut"}
    for m in metrics.values():
        if "MetricStat" in m:
            assert m["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "AuditStateMachine"}}]


# ---------------------------------------------------------------- Orchestration function: as before


def _holds(condition, conditions: dict, params: dict) -> bool:
    def ev(node):
        if isinstance(node, dict):
            ((fn, arg),) = node.items()
            if fn == "Fn::Equals":
                return ev(arg[0]) == ev(arg[1])
            if fn == "Fn::And":
                return all(ev(a) for a in arg)
            if fn == "Fn::Or":
                return any(ev(a) for a in arg)
            if fn == "Fn::Not":
                return not ev(arg[0])
            if fn == "Condition":
                return ev(conditions[arg])
            if fn == "Ref":
                return params[arg]
            raise AssertionError(f"cannot evaluate {fn}")
        return node

    return ev(conditions[condition])


def deployed(out: dict, params: dict) -> dict:
    """The translated template's resources as CloudFormation creates them for these
    parameters: conditional resources dropped, Fn::If resolved."""
    conditions = out["Conditions"]

    def resolve(node):
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                cond, yes, no = node["Fn::If"]
                return resolve(yes if _holds(cond, conditions, params) else no)
            return {k: resolve(v) for k, v in node.items() if resolve(v) != {"Ref": "AWS::NoValue"}}
        if isinstance(node, list):
            return [resolve(v) for v in node if resolve(v) != {"Ref": "AWS::NoValue"}]
        return node

    return {
        name: resolve({k: v for k, v in r.items() if k != "Condition"})
        for name, r in out["Resources"].items()
        if "Condition" not in r or _holds(r["Condition"], conditions, params)
    }


def parameters(template, **overrides) -> dict:
    params = {n: str(p["Default"]) for n, p in template["Parameters"].items() if "Default" in p}
    return {**params, **overrides}


def test_function_orchestration_deploys_no_workflow(template):
    out = sam_translate.translate(REPO / "template.yaml")
    resources = deployed(out, parameters(template))
    assert not [n for n, r in resources.items() if r["Type"].startswith("AWS::StepFunctions::")]
    assert not [n for n in resources if "StateMachine" in n or n == "WorkflowFailedAlarm"]
    (schedule,) = [r for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert schedule["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": ["AuditFunction", "Arn"]}
    assert json.loads(schedule["Properties"]["Target"]["Input"]) == {"dry_run": False}
    # The function's grants are today's: nothing on the checkpoint prefix but what the
    # report prefix already had.
    actions = {a for st in resources["AuditFunctionReportsPolicy"]["Properties"]["PolicyDocument"]["Statement"] for a in iam_ops._as_list(st["Action"])}
    assert "s3:DeleteObject" not in actions
    assert resources["AuditFunction"]["Properties"]["Timeout"] == FUNCTION_TIMEOUT
    # And stepfunctions deploys the workflow and its schedule, not the function's schedule.
    resources = deployed(out, parameters(template, Orchestration="stepfunctions"))
    schedules = [r for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert [s["Properties"]["Target"]["Arn"] for s in schedules] == [{"Ref": "AuditStateMachine"}]
    assert resources["AuditStateMachine"]["Type"] == "AWS::StepFunctions::StateMachine"
    assert resources["AuditFunction"]["Properties"]["Timeout"] == FUNCTION_TIMEOUT


def test_function_schedule_is_what_sam_generated_before(template, tmp_path):
    """The function's schedule and its role, now written in the template, are exactly what
    SAM generated for the function's ScheduleV2 event before Orchestration existed (same
    logical ids, name, target, policy): a stack deployed then updates with no change."""
    before = copy.deepcopy(template)
    schedule = before["Resources"].pop("AuditFunctionSchedule")["Properties"]
    before["Resources"].pop("AuditFunctionScheduleRole")
    target = schedule["Target"]
    before["Resources"]["AuditFunction"]["Properties"]["Events"] = {
        "Schedule": {
            "Type": "ScheduleV2",
            "Properties": {
                "Name": schedule["Name"],
                "Description": schedule["Description"],
                "ScheduleExpression": schedule["ScheduleExpression"],
                "ScheduleExpressionTimezone": schedule["ScheduleExpressionTimezone"],
                "State": schedule["State"],
                "Input": target["Input"],
                "RetryPolicy": target["RetryPolicy"],
            },
        }
    }
    path = tmp_path / "template-before.json"
    path.write_text(json.dumps(before))
    generated = sam_translate.translate(path)["Resources"]
    written = sam_translate.translate(REPO / "template.yaml")["Resources"]
    for name in ("AuditFunctionSchedule", "AuditFunctionScheduleRole"):
        resource = dict(written[name])
        assert resource.pop("Condition") == "UseFunctionOrchestration"
        assert resource == generated[name], name
    assert json.loads(target["Input"]) == json.loads((REPO / "events" / "scheduler-input.json").read_text())

