"""Opt-in Regions: a Region an account has not enabled refuses its credentials at once
(UnrecognizedClientException), before any throttling or fault; enabled ones answer."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import error_code
from idcemu.scenario import ScenarioError, check

MGMT, OPTED, PLAIN = "111122223333", "111122225555", "111122224444"


def scenario() -> dict:
    return {
        "management_account": MGMT, "home_region": "us-east-1",
        "accounts": [{"id": MGMT, "name": "mgmt", "has_role": False},
                     {"id": OPTED, "name": "opted", "enabled_regions": ["ap-southeast-3"]},
                     {"id": PLAIN, "name": "plain"}],
        "instances": [{"owner": MGMT, "region": "us-east-1", "identity_store_id": "d-1111111111"},
                      {"owner": OPTED, "region": "ap-southeast-3", "identity_store_id": "d-2222222222"}],
        "users": [], "groups": [], "applications": [],
    }


@pytest.fixture(scope="module")
def emu(server_factory, tmp_path_factory):
    path = tmp_path_factory.mktemp("scenario") / "opt-in.json"
    path.write_text(json.dumps(scenario()))
    return server_factory(str(path))


def test_a_region_not_enabled_refuses_the_credentials_at_once(emu):
    plain = emu.as_account(PLAIN, "sso-admin", region="ap-southeast-3")
    with pytest.raises(ClientError) as exc:
        plain.list_instances()
    assert error_code(exc.value) == "UnrecognizedClientException"
    with pytest.raises(ClientError) as exc:
        emu.as_account(PLAIN, "identitystore", region="me-south-1").list_users(IdentityStoreId="d-2222222222")
    assert error_code(exc.value) == "UnrecognizedClientException"


def test_an_enabled_opt_in_region_and_every_default_region_answer(emu):
    opted = emu.as_account(OPTED, "sso-admin", region="ap-southeast-3")
    arns = [i["IdentityStoreId"] for i in opted.list_instances()["Instances"]]
    assert "d-2222222222" in arns
    assert emu.as_account(PLAIN, "sso-admin", region="eu-west-1").list_instances()["Instances"] == []


def test_an_instance_in_a_region_its_owner_has_not_enabled_is_refused():
    s = scenario()
    s["accounts"][1]["enabled_regions"] = []
    with pytest.raises(ScenarioError, match="opt-in Region"):
        check(s)


def test_list_regions_marks_the_primary_for_the_owner_only(server_factory, tmp_path):
    s = scenario()
    s["instances"][1]["additional_regions"] = ["us-east-1"]
    path = tmp_path / "replicated.json"
    path.write_text(json.dumps(s))
    emu = server_factory(str(path))
    owner = emu.as_account(OPTED, "sso-admin", region="us-east-1")
    arn = next(i["InstanceArn"] for i in owner.list_instances()["Instances"] if i["IdentityStoreId"] == "d-2222222222")
    # Listed in one Region without RegionScope: no primary Region is named.
    assert "PrimaryRegion" not in owner.list_instances()["Instances"][0]
    regions = owner.list_regions(InstanceArn=arn)["Regions"]
    assert {(r["RegionName"], r["IsPrimaryRegion"]) for r in regions} == {("ap-southeast-3", True), ("us-east-1", False)}
    with pytest.raises(ClientError) as exc:
        emu.as_account(PLAIN, "sso-admin", region="us-east-1").list_regions(InstanceArn=arn)
    assert error_code(exc.value) == "AccessDeniedException"
