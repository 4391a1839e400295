"""Faults (each kind in each protocol's shape), the rate limit and the statistics."""

from __future__ import annotations

import concurrent.futures as cf
import json
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

MEMBER = "111122224444"


def calls(emu, account="111122223333"):
    """One cheap call per service, made as `account`."""
    return {
        "sso-admin": lambda: emu.as_account(account, "sso-admin").list_instances(),
        "identitystore": lambda: emu.client("identitystore").list_users(IdentityStoreId="d-111122223333"),
        "organizations": lambda: emu.client("organizations").list_accounts(),
        "sts": lambda: emu.client("sts").get_caller_identity(),
        "s3": lambda: emu.client("s3").list_buckets(),
    }


EXPECTED = {
    "throttle": {"sso-admin": ("ThrottlingException", 400), "identitystore": ("ThrottlingException", 400),
                 "organizations": ("TooManyRequestsException", 400), "sts": ("Throttling", 400),
                 "s3": ("SlowDown", 503)},
    "access_denied": {"sso-admin": ("AccessDeniedException", 400), "identitystore": ("AccessDeniedException", 400),
                      "organizations": ("AccessDeniedException", 400), "sts": ("AccessDenied", 403),
                      "s3": ("AccessDenied", 403)},
    "http500": {"sso-admin": ("InternalServerException", 500), "identitystore": ("InternalServerException", 500),
                "organizations": ("ServiceException", 500), "sts": ("InternalFailure", 500),
                "s3": ("InternalError", 500)},
}


@pytest.mark.parametrize("kind", ["throttle", "access_denied", "http500"])
def test_fault_kinds_in_each_protocol(blog, kind):
    blog.set_faults({"faults": [{"service": "*", "operation": "*", "account": "*", "kind": kind}]})
    for service, call in calls(blog).items():
        with pytest.raises(ClientError) as exc:
            call()
        code, status = EXPECTED[kind][service]
        assert (error_code(exc.value), exc.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), service
    stats = blog.stats()
    assert stats["faults_injected"][kind] >= 5
    blog.clear_faults()
    for call in calls(blog).values():
        call()


def _raw_list_users(blog) -> urllib.error.HTTPError:
    req = urllib.request.Request(blog.endpoint + "/", method="POST", data=b"{}", headers={
        "X-Amz-Target": "AWSIdentityStore.ListUsers", "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/identitystore/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    with pytest.raises(urllib.error.HTTPError) as raw:
        urllib.request.urlopen(req)
    return raw.value


def test_identitystore_throttle_carries_retry_after_in_the_body_only(blog):
    # As AWS: RetryAfterSeconds is a member of the error's JSON body (botocore's model
    # binds it to no header), and no Retry-After header is sent.
    blog.set_faults({"faults": [{"service": "identitystore", "operation": "ListUsers", "kind": "throttle"}]})
    with pytest.raises(ClientError) as exc:
        blog.client("identitystore").list_users(IdentityStoreId="d-111122223333")
    assert "retry-after" not in exc.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert exc.value.response["RetryAfterSeconds"] == 1
    answer = _raw_list_users(blog)
    assert answer.headers.get("Retry-After") is None
    body = json.loads(answer.read())
    assert body["__type"] == "ThrottlingException" and body["RetryAfterSeconds"] == 1


@pytest.mark.parametrize("kind", ["throttle", "http500"])
def test_a_fault_sets_its_retry_after_seconds(blog, kind):
    blog.set_faults({"faults": [{"service": "identitystore", "operation": "ListUsers", "kind": kind,
                                 "retry_after_seconds": 10**20}]})
    body = json.loads(_raw_list_users(blog).read())
    assert body["RetryAfterSeconds"] == 10**20
    assert blog.admin("GET", "/faults")["faults"][0]["retry_after_seconds"] == 10**20


def test_sso_admin_throttle_has_no_retry_after(blog):
    # sso-admin's ThrottlingException models Message and Reason only.
    blog.set_faults({"faults": [{"service": "sso-admin", "operation": "ListInstances", "kind": "throttle"}]})
    with pytest.raises(ClientError) as exc:
        blog.client("sso-admin").list_instances()
    assert "RetryAfterSeconds" not in exc.value.response
    assert "retry-after" not in exc.value.response["ResponseMetadata"]["HTTPHeaders"]


@pytest.mark.parametrize("value", [-1, 1.5, "1", True])
def test_retry_after_seconds_must_be_a_whole_number(blog, value):
    with pytest.raises(Exception):
        blog.set_faults({"faults": [{"service": "identitystore", "kind": "throttle", "retry_after_seconds": value}]})


def test_fault_scoping_count_probability(blog):
    blog.set_faults({"faults": [
        {"service": "sso-admin", "operation": "ListApplications", "account": MEMBER, "kind": "http500"},
        {"service": "sso-admin", "operation": "ListInstances", "account": "111122221111", "kind": "throttle", "count": 2},
        {"service": "identitystore", "operation": "*", "account": "*", "kind": "access_denied", "probability": 0.0},
    ]})
    blog.reset_stats()
    blog.as_account(MEMBER, "sso-admin").list_instances()  # other operation: untouched
    blog.client("sso-admin").list_instances()               # other account: untouched
    blog.client("identitystore").list_users(IdentityStoreId="d-111122223333")  # probability 0
    a1 = blog.as_account("111122221111", "sso-admin")
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            a1.list_instances()
        assert error_code(exc.value) == "ThrottlingException"
    a1.list_instances()  # count exhausted
    current = blog.admin("GET", "/faults")
    assert [f["fired"] for f in current["faults"]] == [0, 2, 0]
    assert current["region_scope_supported"] is True and current["rate_limit"] is None
    stats = blog.stats()
    assert stats["throttled"] == 2 and stats["faults_injected"]["throttle"] == 2


def test_sdk_retries_through_a_counted_throttle(blog):
    blog.set_faults({"faults": [{"service": "sso-admin", "operation": "ListInstances", "kind": "throttle", "count": 1}]})
    blog.reset_stats()
    assert blog.client("sso-admin", retries=True).list_instances()["Instances"]
    assert blog.stats()["by_operation"]["sso-admin:ListInstances"] == 2


def test_latency(blog):
    blog.set_faults({"faults": [{"service": "organizations", "kind": "latency", "latency_ms": 300}]})
    org = blog.client("organizations")
    t0 = time.perf_counter()
    org.list_accounts()
    assert time.perf_counter() - t0 >= 0.3
    t0 = time.perf_counter()
    blog.client("sts").get_caller_identity()
    assert time.perf_counter() - t0 < 0.3


def test_latency_holds_fault_answers_too(blog):
    blog.set_faults({"faults": [
        {"service": "sso-admin", "operation": "ListInstances", "kind": "latency", "latency_ms": 300},
        {"service": "sso-admin", "operation": "ListInstances", "kind": "access_denied"}]})
    blog.reset_stats()
    t0 = time.perf_counter()
    with pytest.raises(ClientError) as caught:
        blog.client("sso-admin").list_instances()
    assert time.perf_counter() - t0 >= 0.3
    assert error_code(caught.value) == "AccessDeniedException"
    stats = blog.stats()
    assert stats["by_status"] == {"400": 1} and stats["in_flight"] == 0
    assert stats["request_seconds"] >= 0.29


def test_rate_limit_per_account_and_service(blog):
    blog.set_faults({"faults": [], "rate_limit": {"rps": 2, "burst": 3, "services": ["sso-admin"]}})
    blog.reset_stats()
    sso = blog.client("sso-admin")
    outcomes = []
    for _ in range(6):
        try:
            sso.list_instances()
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(error_code(exc))
    assert outcomes[:3] == ["ok", "ok", "ok"] and "ThrottlingException" in outcomes[3:]
    # other accounts have their own bucket; other services are not limited
    blog.as_account(MEMBER, "sso-admin").list_instances()
    for _ in range(5):
        blog.client("organizations").list_accounts()
    time.sleep(1.1)  # refills at rps
    sso.list_instances()
    stats = blog.stats()
    assert stats["throttled"] == stats["rate_limited"] == outcomes.count("ThrottlingException")


def test_bad_fault_config_rejected(blog):
    with pytest.raises(urllib.error.HTTPError) as exc:
        blog.set_faults({"faults": [{"kind": "explode"}]})
    assert exc.value.code == 400


def test_stats_counts(blog):
    member_sso = blog.as_account(MEMBER, "sso-admin")  # AssumeRole before the reset
    blog.reset_stats()
    blog.client("sso-admin").list_instances()
    member_sso.list_instances()
    s3 = blog.client("s3")
    s3.create_bucket(Bucket="reports-stats")
    s3.put_object(Bucket="reports-stats", Key="sample/instances.csv", Body=b"AccountId,IdentityCenterInstance\n")
    s3.head_object(Bucket="reports-stats", Key="sample/instances.csv")
    s3.get_object(Bucket="reports-stats", Key="sample/instances.csv")["Body"].read()
    s3.list_objects_v2(Bucket="reports-stats")
    blog.stats()  # admin calls are not counted
    stats = blog.stats()
    ops = stats["by_operation"]
    assert ops["sso-admin:ListInstances"] == 2
    for op in ("CreateBucket", "PutObject", "HeadObject", "GetObject", "ListObjectsV2"):
        assert ops[f"s3:{op}"] == 1
    assert stats["by_account"] == {"111122223333": 6, MEMBER: 1}
    assert stats["by_account_service"][f"{MEMBER}:sso-admin"] == 1
    assert stats["requests_total"] == sum(ops.values())
    assert stats["in_flight"] == 0


def test_lane_times(blog):
    """Per (account, service): first and last arrival, last answer (seconds from the first
    request since the reset) and throttling answers; a lane's answers after the other's."""
    blog.set_faults({"faults": [{"service": "sso-admin", "account": MEMBER, "kind": "latency",
                                 "latency_ms": 300}],
                     "rate_limit": {"rps": 1, "burst": 1, "services": ["sso-admin"]}})
    member_sso = blog.as_account(MEMBER, "sso-admin")  # AssumeRole before the reset
    sso = blog.client("sso-admin")
    blog.reset_stats()
    sso.list_instances()
    with pytest.raises(ClientError):
        sso.list_instances()  # the bucket (1 token, 1/s) is empty: throttled
    member_sso.list_instances()
    lanes = blog.stats()["by_account_service_times"]
    mgmt, member = lanes["111122223333:sso-admin"], lanes[f"{MEMBER}:sso-admin"]
    assert mgmt["first_arrival"] == 0.0 and mgmt["throttled"] == 1
    assert 0 < mgmt["last_arrival"] <= mgmt["last_answer"] < member["first_arrival"]
    assert member["throttled"] == 0 and member["first_arrival"] == member["last_arrival"]
    assert member["last_answer"] - member["last_arrival"] >= 0.29  # the latency is inside
    assert set(lanes) == {"111122223333:sso-admin", f"{MEMBER}:sso-admin"}
    blog.reset_stats()
    assert blog.stats()["by_account_service_times"] == {}


def test_peak_in_flight_with_concurrency_and_latency(blog):
    blog.set_faults({"faults": [{"service": "sso-admin", "kind": "latency", "latency_ms": 400}]})
    accounts = ["111122223333", MEMBER, "111122221111", "111122225555"]
    clients = [blog.as_account(a, "sso-admin") for a in accounts]
    blog.reset_stats()
    with cf.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda c: c.list_instances(), clients * 2))
    stats = blog.stats()
    assert stats["peak_in_flight"] >= 6  # 8 requests sleeping 400 ms, sent at once
    assert stats["peak_accounts_in_flight"] == 4
    assert stats["in_flight"] == 0
    blog.reset_stats()
    for c in clients[:2]:
        c.list_instances()
    stats = blog.stats()
    assert stats["peak_in_flight"] == 1 and stats["peak_accounts_in_flight"] == 1


def test_scenario_faults_loaded_at_start(server_factory, tmp_path):
    scenario = json.load(open(__file__.replace("test_faults_stats.py", "scenarios/blog.json")))
    scenario["faults"] = {"faults": [{"service": "organizations", "operation": "ListAccounts", "kind": "throttle",
                                      "count": 1}], "rate_limit": None}
    path = tmp_path / "blog-faults.yaml"
    import yaml
    path.write_text(yaml.safe_dump(scenario))
    emu = server_factory(str(path))
    with pytest.raises(ClientError) as exc:
        emu.client("organizations").list_accounts()
    assert error_code(exc.value) == "TooManyRequestsException"
    assert [a["Id"] for a in emu.client("organizations").list_accounts()["Accounts"]][0] == "111122223333"
    summary = emu.admin("GET", "/scenario")
    assert summary["accounts"] == 4 and summary["users"] == 11 and summary["instances"] == 3
