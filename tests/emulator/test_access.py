"""Who can reach which AWS account: permission sets, provisioning, account assignments,
UserStatus, the `AKIAACCOUNT` own-credentials key, the `when` fault filter, and the
generator's access options. boto3 over HTTP against `serve`."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import MANAGEMENT_KEYS, NO_RETRY, all_pages, error_code, scenario_json
from generate import generate
from idcemu import ids
from idcemu.expect import ACCOUNT_ASSIGNMENT_COLUMNS, expected, user_email
from idcemu.scenario import ScenarioError, check, parse_gen

PS_ARN_RE = r"arn:aws:sso:::permissionSet/ssoins-[0-9a-f]{16}/ps-[0-9a-f]{16}"
MGMT, DA, MEMBER, OWN, SUSP = "111122223333", "444455556666", "121212121212", "343434343434", "565656565656"
ORG_STORE, OWN_STORE = "d-aaaaaaaaaa", "d-bbbbbbbbbb"


def own_key(account: str) -> dict[str, str]:
    return {"aws_access_key_id": f"AKIAACCOUNT{account}", "aws_secret_access_key": "secret"}


def org_arn(emu: Any, store: str) -> str:
    return next(i["InstanceArn"] for i in emu.client("sso-admin").list_instances()["Instances"]
                if i["IdentityStoreId"] == store)


def reference_rows(emu: Any, store: str, sso: Any, ids_client: Any) -> list[list[str]]:
    """The account_assignments report, built the way the audit builds it (per permission set:
    its accounts, then each pair's assignments, groups expanded)."""
    inst = org_arn(emu, store)
    names = {a["Id"]: a["Name"] for p in emu.client("organizations").get_paginator("list_accounts").paginate()
             for a in p["Accounts"]}
    users = {u["UserId"]: u for p in ids_client.get_paginator("list_users").paginate(IdentityStoreId=store)
             for u in p["Users"]}
    groups = {g["GroupId"]: g for p in ids_client.get_paginator("list_groups").paginate(IdentityStoreId=store)
              for g in p["Groups"]}

    def user_cells(u: dict[str, Any]) -> list[str]:
        return [u["UserId"], u["UserName"], user_email([e["Value"] for e in u.get("Emails", [])]), u["UserStatus"]]

    rows = []
    for ps_arn in [a for p in sso.get_paginator("list_permission_sets").paginate(InstanceArn=inst)
                   for a in p["PermissionSets"]]:
        ps_name = sso.describe_permission_set(InstanceArn=inst, PermissionSetArn=ps_arn)["PermissionSet"]["Name"]
        accounts = [a for p in sso.get_paginator("list_accounts_for_provisioned_permission_set").paginate(
            InstanceArn=inst, PermissionSetArn=ps_arn) for a in p["AccountIds"]]
        for acct in accounts:
            for asg in [x for p in sso.get_paginator("list_account_assignments").paginate(
                    InstanceArn=inst, AccountId=acct, PermissionSetArn=ps_arn) for x in p["AccountAssignments"]]:
                head = [inst, store, acct, names[acct], ps_arn, ps_name, asg["PrincipalType"], asg["PrincipalId"]]
                if asg["PrincipalType"] == "USER":
                    u = users[asg["PrincipalId"]]
                    rows.append(head + [u["UserName"]] + user_cells(u))
                    continue
                g = groups[asg["PrincipalId"]]
                members = [m["MemberId"]["UserId"] for p in ids_client.get_paginator("list_group_memberships")
                           .paginate(IdentityStoreId=store, GroupId=g["GroupId"]) for m in p["GroupMemberships"]]
                if not members:
                    rows.append(head + [g["DisplayName"], "", "", "", ""])
                rows += [head + [g["DisplayName"]] + user_cells(users[m]) for m in members]
    return sorted(rows)


# ---- the shipped scenarios ---------------------------------------------------------------
def test_blog_permission_sets_shapes(blog):
    sso = blog.client("sso-admin")
    inst = org_arn(blog, "d-111122223333")
    arns = sso.list_permission_sets(InstanceArn=inst)["PermissionSets"]
    assert len(arns) == 3 and all(re.fullmatch(PS_ARN_RE, a) for a in arns)
    assert all(a.startswith(f"arn:aws:sso:::permissionSet/{inst.rsplit('/', 1)[1]}/") for a in arns)
    described = {d["Name"]: d for d in (sso.describe_permission_set(InstanceArn=inst, PermissionSetArn=a)
                                        ["PermissionSet"] for a in arns)}
    assert set(described) == {"AdministratorAccess", "ReadOnlyAccess", "Billing"}
    admin = described["AdministratorAccess"]
    assert set(admin) == {"Name", "PermissionSetArn", "Description", "CreatedDate", "SessionDuration"}
    assert admin["SessionDuration"] == "PT4H" and admin["Description"] == "Full access"
    assert set(described["Billing"]) == {"Name", "PermissionSetArn", "CreatedDate", "SessionDuration", "RelayState"}
    # the ARN is derived from the name: the same on every load
    ins_id = inst.rsplit("/", 1)[1]
    assert admin["PermissionSetArn"] == ids.permission_set_arn(ins_id, ids.permission_set_id(ins_id, "AdministratorAccess"))


def test_blog_assignments_and_provisioning(blog):
    sso = blog.client("sso-admin")
    inst = org_arn(blog, "d-111122223333")
    by_name = {sso.describe_permission_set(InstanceArn=inst, PermissionSetArn=a)["PermissionSet"]["Name"]: a
               for a in sso.list_permission_sets(InstanceArn=inst)["PermissionSets"]}
    got = sso.list_accounts_for_provisioned_permission_set(InstanceArn=inst, PermissionSetArn=by_name["Billing"])
    assert sorted(got["AccountIds"]) == ["111122223333", "111122224444"]
    assert sso.list_account_assignments(InstanceArn=inst, AccountId="111122224444",
                                        PermissionSetArn=by_name["Billing"])["AccountAssignments"] == []
    assert sorted(sso.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId="111122224444")
                  ["PermissionSets"]) == sorted(by_name.values())
    items = sso.list_account_assignments(InstanceArn=inst, AccountId="111122224444",
                                         PermissionSetArn=by_name["AdministratorAccess"])["AccountAssignments"]
    assert {(i["PrincipalType"], i["AccountId"], i["PermissionSetArn"]) for i in items} == {
        ("GROUP", "111122224444", by_name["AdministratorAccess"]), ("USER", "111122224444", by_name["AdministratorAccess"])}
    assert all(set(i) == {"AccountId", "PermissionSetArn", "PrincipalType", "PrincipalId"} for i in items)
    none = sso.list_accounts_for_provisioned_permission_set(
        InstanceArn=inst, PermissionSetArn=by_name["Billing"], ProvisioningStatus="LATEST_PERMISSION_SET_NOT_PROVISIONED")
    assert none["AccountIds"] == []
    with pytest.raises(ClientError) as exc:
        sso.list_accounts_for_provisioned_permission_set(InstanceArn=inst, PermissionSetArn=by_name["Billing"],
                                                         ProvisioningStatus="SOMETIMES")
    assert error_code(exc.value) == "ValidationException"


@pytest.mark.parametrize("name", ["blog", "messy"])
def test_expected_rows_are_what_the_api_gives(name, request):
    emu = request.getfixturevalue(name)
    exp = scenario_json(name)["expected"]
    store = next(st for st, v in exp["stores"].items() if v["organization_instance"])
    rows = reference_rows(emu, store, emu.client("sso-admin"), emu.client("identitystore"))
    assert exp["account_assignment_columns"] == ACCOUNT_ASSIGNMENT_COLUMNS
    assert rows == exp["account_assignment_rows"]
    arns, _ = all_pages(emu.client("sso-admin").list_permission_sets, "PermissionSets",
                        InstanceArn=org_arn(emu, store))
    assert exp["permission_sets"] == len(arns)
    summary = emu.admin("GET", "/scenario")
    assert (summary["permission_sets"], summary["provisioned_pairs"], summary["account_assignments"]) == (
        exp["permission_sets"], exp["provisioned_pairs"], exp["account_assignments"])


def test_blog_expected_facts():
    exp = scenario_json("blog")["expected"]
    assert (exp["permission_sets"], exp["provisioned_pairs"], exp["account_assignments"]) == (3, 9, 9)
    assert len(exp["account_assignment_rows"]) == 15
    assert exp["disabled_users"] == {"d-111122223333": ["li.wei"]}
    li = [r for r in exp["account_assignment_rows"] if r[10] == "li.wei"]
    # directly on Workloads, and through developers on two accounts
    assert sorted((r[2], r[6], r[12]) for r in li) == [
        ("111122221111", "GROUP", "DISABLED"), ("111122224444", "GROUP", "DISABLED"), ("111122224444", "USER", "DISABLED")]


def test_messy_pagination(messy):
    sso = messy.client("sso-admin")
    inst = org_arn(messy, "d-9067000001")
    arns, pages = all_pages(sso.list_permission_sets, "PermissionSets", InstanceArn=inst)
    assert len(arns) == 105 and pages == [100, 5]
    _, pages = all_pages(sso.list_permission_sets, "PermissionSets", InstanceArn=inst, MaxResults=50)
    assert pages == [50, 50, 5]
    unchecked = messy._session.client("sso-admin", endpoint_url=messy.endpoint, region_name="us-east-1",
                                      config=NO_RETRY.merge(Config(parameter_validation=False)), **MANAGEMENT_KEYS)
    for bad in (0, 101):  # botocore itself refuses 0: send it unchecked
        with pytest.raises(ClientError) as exc:
            unchecked.list_permission_sets(InstanceArn=inst, MaxResults=bad)
        assert error_code(exc.value) == "ValidationException"
    provisioned, pages = all_pages(sso.list_permission_sets_provisioned_to_account, "PermissionSets",
                                   InstanceArn=inst, AccountId="111100000010")
    assert pages == [100, 5] and sorted(provisioned) == sorted(arns)
    admin = arns[0]
    items, pages = all_pages(sso.list_account_assignments, "AccountAssignments", InstanceArn=inst,
                             AccountId="111100000011", PermissionSetArn=admin)
    assert pages == [100, 50] and len({(i["PrincipalType"], i["PrincipalId"]) for i in items}) == 150
    assert sum(i["PrincipalType"] == "GROUP" for i in items) == 40
    _, pages = all_pages(sso.list_account_assignments, "AccountAssignments", InstanceArn=inst,
                         AccountId="111100000011", PermissionSetArn=admin, MaxResults=7)
    assert pages[0] == 7 and sum(pages) == 150
    # a token belongs to its request; garbled tokens are refused
    token = sso.list_account_assignments(InstanceArn=inst, AccountId="111100000011", PermissionSetArn=admin,
                                         MaxResults=10)["NextToken"]
    for kwargs in ({"AccountId": "111100000011", "PermissionSetArn": arns[1], "NextToken": token},
                   {"AccountId": "111100000011", "PermissionSetArn": admin, "NextToken": "garbage"}):
        with pytest.raises(ClientError) as exc:
            sso.list_account_assignments(InstanceArn=inst, **kwargs)
        assert error_code(exc.value) == "ValidationException"
    # accounts of every state keep their assignments
    for acct in ("111100000007", "111100000013", "111100000021", MGMT):
        assert sso.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId=acct)["PermissionSets"]


def test_user_status(messy):
    ids_client = messy.client("identitystore")
    users = [u for p in ids_client.get_paginator("list_users").paginate(IdentityStoreId="d-9067000001")
             for u in p["Users"]]
    assert {u["UserName"] for u in users if u["UserStatus"] == "DISABLED"} == {"user0042", "two.emails"}
    assert {u["UserStatus"] for u in users} == {"ENABLED", "DISABLED"}
    two = next(u for u in users if u["UserName"] == "two.emails")
    assert ids_client.describe_user(IdentityStoreId="d-9067000001", UserId=two["UserId"])["UserStatus"] == "DISABLED"


# ---- visibility ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def org(server_factory, tmp_path_factory):
    scenario = {
        "management_account": MGMT, "delegated_admin": DA,
        "accounts": [{"id": MGMT, "name": "mgmt", "has_role": False}, {"id": DA, "name": "identity-admin"},
                     {"id": MEMBER, "name": "member"}, {"id": OWN, "name": "own-instance"},
                     {"id": SUSP, "name": "suspended", "state": "SUSPENDED"}],
        "instances": [{"owner": MGMT, "identity_store_id": ORG_STORE, "additional_regions": ["eu-west-1"]},
                      {"owner": OWN, "identity_store_id": OWN_STORE}],
        "users": [{"store": ORG_STORE, "user_name": "alice", "emails": ["alice@x.com"]},
                  {"store": ORG_STORE, "user_name": "bob", "emails": [], "status": "DISABLED"},
                  {"store": OWN_STORE, "user_name": "carol", "emails": []}],
        "groups": [{"store": ORG_STORE, "name": "admins", "members": ["alice", "bob"]},
                   {"store": ORG_STORE, "name": "nobody", "members": []}],
        "applications": [{"instance": ORG_STORE, "name": "app",
                          "assignments": [{"principal_type": "USER", "principal": "alice"}]}],
        "permission_sets": [{"name": "Admin"}, {"name": "Audit"}],
        "account_assignments": [
            {"account": MGMT, "permission_set": "Admin", "principal_type": "USER", "principal": "alice"},
            {"account": MEMBER, "permission_set": "Admin", "principal_type": "GROUP", "principal": "admins"},
            {"account": SUSP, "permission_set": "Audit", "principal_type": "USER", "principal": "alice"}],
        "provisioned": [{"account": DA, "permission_set": "Audit"}],
    }
    path = tmp_path_factory.mktemp("scenario") / "access.json"
    path.write_text(json.dumps(scenario))
    emu = server_factory(str(path))
    yield emu
    emu.clear_faults()


def _arns(emu):
    inst = org_arn(emu, ORG_STORE)
    sso = emu.client("sso-admin")
    by_name = {sso.describe_permission_set(InstanceArn=inst, PermissionSetArn=a)["PermissionSet"]["Name"]: a
               for a in sso.list_permission_sets(InstanceArn=inst)["PermissionSets"]}
    return inst, by_name


def test_own_credentials_key(org):
    sts = org.client("sts", creds=own_key(DA))
    me = sts.get_caller_identity()
    assert me["Account"] == DA and me["Arn"] == f"arn:aws:iam::{DA}:user/emulator"
    # digits of an account outside the scenario: the management account, as any other key
    assert org.client("sts", creds=own_key("999999999999")).get_caller_identity()["Account"] == MGMT
    assert org.client("sts").get_caller_identity()["Account"] == MGMT


def test_member_accounts_are_refused(org):
    inst, by_name = _arns(org)
    for sso in (org.as_account(MEMBER, "sso-admin"), org.client("sso-admin", creds=own_key(MEMBER)),
                org.as_account(OWN, "sso-admin")):
        for call in (lambda: sso.list_permission_sets(InstanceArn=inst),
                     lambda: sso.describe_permission_set(InstanceArn=inst, PermissionSetArn=by_name["Admin"]),
                     lambda: sso.list_accounts_for_provisioned_permission_set(InstanceArn=inst,
                                                                              PermissionSetArn=by_name["Admin"]),
                     lambda: sso.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId=MEMBER),
                     lambda: sso.list_account_assignments(InstanceArn=inst, AccountId=MEMBER,
                                                          PermissionSetArn=by_name["Admin"])):
            with pytest.raises(ClientError) as exc:
                call()
            assert error_code(exc.value) == "AccessDeniedException"


def test_delegated_admin_sees_all_but_the_management_account(org):
    inst, by_name = _arns(org)
    mine = org.client("sso-admin")
    da = org.client("sso-admin", creds=own_key(DA))
    assert da.list_permission_sets(InstanceArn=inst)["PermissionSets"] == list(by_name.values())
    assert mine.list_accounts_for_provisioned_permission_set(
        InstanceArn=inst, PermissionSetArn=by_name["Admin"])["AccountIds"] == [MGMT, MEMBER]
    assert da.list_accounts_for_provisioned_permission_set(
        InstanceArn=inst, PermissionSetArn=by_name["Admin"])["AccountIds"] == [MEMBER]
    assert len(da.list_account_assignments(InstanceArn=inst, AccountId=MEMBER,
                                           PermissionSetArn=by_name["Admin"])["AccountAssignments"]) == 1
    assert da.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId=DA)["PermissionSets"] == [
        by_name["Audit"]]
    for call in (lambda: da.list_account_assignments(InstanceArn=inst, AccountId=MGMT, PermissionSetArn=by_name["Admin"]),
                 lambda: da.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId=MGMT)):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc.value) == "AccessDeniedException"
    assert len(mine.list_account_assignments(InstanceArn=inst, AccountId=MGMT,
                                             PermissionSetArn=by_name["Admin"])["AccountAssignments"]) == 1
    # assumed-role credentials of the delegated administrator count the same
    assumed = org.as_account(DA, "sso-admin")
    assert assumed.list_accounts_for_provisioned_permission_set(
        InstanceArn=inst, PermissionSetArn=by_name["Admin"])["AccountIds"] == [MEMBER]
    # a suspended account keeps its assignments
    assert mine.list_account_assignments(InstanceArn=inst, AccountId=SUSP,
                                         PermissionSetArn=by_name["Audit"])["AccountAssignments"]


def test_errors_for_unknown_things(org):
    inst, by_name = _arns(org)
    sso = org.client("sso-admin")
    ins_id = inst.rsplit("/", 1)[1]
    ghost = f"arn:aws:sso:::permissionSet/{ins_id}/ps-0123456789abcdef"
    cases = [
        (lambda: sso.describe_permission_set(InstanceArn=inst, PermissionSetArn=ghost), "ResourceNotFoundException"),
        (lambda: sso.list_accounts_for_provisioned_permission_set(InstanceArn=inst, PermissionSetArn=ghost),
         "ResourceNotFoundException"),
        (lambda: sso.list_account_assignments(InstanceArn=inst, AccountId=MEMBER, PermissionSetArn=ghost),
         "ResourceNotFoundException"),
        (lambda: sso.list_account_assignments(InstanceArn=inst, AccountId="999999999999",
                                              PermissionSetArn=by_name["Admin"]), "ResourceNotFoundException"),
        (lambda: sso.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId="999999999999"),
         "ResourceNotFoundException"),
        (lambda: sso.list_permission_sets_provisioned_to_account(InstanceArn=inst, AccountId="12345678901a"),
         "ValidationException"),
        (lambda: sso.describe_permission_set(InstanceArn=inst, PermissionSetArn="arn:aws:sso:::permissionSet/x"),
         "ValidationException"),
        (lambda: sso.list_permission_sets(InstanceArn="arn:aws:sso:::instance/ssoins-0000000000000000"),
         "AccessDeniedException"),
        # additional Region of the organization instance: not served there
        (lambda: org.client("sso-admin", region="eu-west-1").list_permission_sets(InstanceArn=inst),
         "ValidationException"),
    ]
    for call, code in cases:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_code(exc.value) == code
    # an account instance has no permission sets (its owner is told so, others are refused)
    own_inst = next(i["InstanceArn"] for i in org.as_account(OWN, "sso-admin").list_instances()["Instances"]
                    if i["IdentityStoreId"] == OWN_STORE)
    with pytest.raises(ClientError) as exc:
        org.as_account(OWN, "sso-admin").list_permission_sets(InstanceArn=own_inst)
    assert error_code(exc.value) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        sso.list_permission_sets(InstanceArn=own_inst)
    assert error_code(exc.value) == "AccessDeniedException"
    # identity-store reads are served in the additional Region
    assert org.client("identitystore", region="eu-west-1").list_users(IdentityStoreId=ORG_STORE)["Users"]


def test_for_principal_operations(org):
    inst, by_name = _arns(org)
    sso = org.client("sso-admin")
    da = org.client("sso-admin", creds=own_key(DA))
    idc = org.client("identitystore")
    alice = idc.get_user_id(IdentityStoreId=ORG_STORE, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"}})["UserId"]
    assert idc.get_user_id(IdentityStoreId=ORG_STORE, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "emails.value", "AttributeValue": "alice@x.com"}})["UserId"] == alice
    with pytest.raises(ClientError) as exc:
        idc.get_user_id(IdentityStoreId=ORG_STORE, AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "nobody"}})
    assert error_code(exc.value) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as exc:
        idc.get_user_id(IdentityStoreId=ORG_STORE, AlternateIdentifier={
            "UniqueAttribute": {"AttributePath": "displayName", "AttributeValue": "alice"}})
    assert error_code(exc.value) == "ValidationException"
    got = sso.list_account_assignments_for_principal(InstanceArn=inst, PrincipalId=alice, PrincipalType="USER")
    assert sorted((a["AccountId"], a["PermissionSetArn"]) for a in got["AccountAssignments"]) == sorted(
        [(MGMT, by_name["Admin"]), (SUSP, by_name["Audit"])])
    # Only the management account may ask (AWS's API reference): the delegated admin may not.
    with pytest.raises(ClientError) as exc:
        da.list_account_assignments_for_principal(InstanceArn=inst, PrincipalId=alice, PrincipalType="USER")
    assert error_code(exc.value) == "AccessDeniedException"
    only = sso.list_account_assignments_for_principal(InstanceArn=inst, PrincipalId=alice, PrincipalType="USER",
                                                      Filter={"AccountId": SUSP})["AccountAssignments"]
    assert [a["AccountId"] for a in only] == [SUSP]
    with pytest.raises(ClientError) as exc:
        da.list_account_assignments_for_principal(InstanceArn=inst, PrincipalId=alice, PrincipalType="USER",
                                                  Filter={"AccountId": MGMT})
    assert error_code(exc.value) == "AccessDeniedException"
    memberships = idc.list_group_memberships_for_member(IdentityStoreId=ORG_STORE, MemberId={"UserId": alice})
    admins = memberships["GroupMemberships"][0]["GroupId"]
    assert len(memberships["GroupMemberships"]) == 1
    assert idc.describe_group(IdentityStoreId=ORG_STORE, GroupId=admins)["DisplayName"] == "admins"
    groups = sso.list_account_assignments_for_principal(InstanceArn=inst, PrincipalId=admins, PrincipalType="GROUP")
    assert [(a["AccountId"], a["PrincipalType"]) for a in groups["AccountAssignments"]] == [(MEMBER, "GROUP")]
    apps = sso.list_application_assignments_for_principal(InstanceArn=inst, PrincipalId=alice, PrincipalType="USER")
    assert len(apps["ApplicationAssignments"]) == 1
    assert set(apps["ApplicationAssignments"][0]) == {"ApplicationArn", "PrincipalId", "PrincipalType"}
    assert sso.list_application_assignments_for_principal(InstanceArn=inst, PrincipalId=admins,
                                                          PrincipalType="GROUP")["ApplicationAssignments"] == []
    with pytest.raises(ClientError) as exc:
        sso.list_account_assignments_for_principal(InstanceArn=inst, PrincipalType="USER",
                                                   PrincipalId="0000000000-00000000-0000-0000-0000-000000000000")
    assert error_code(exc.value) == "ResourceNotFoundException"


def test_application_assignments_for_principal_need_a_filter_from_a_member_account(org):
    """AWS API reference: from a member account against the organization instance the
    ApplicationArn filter is required; the management account needs none."""
    inst, _ = _arns(org)
    sso = org.client("sso-admin")
    da = org.client("sso-admin", creds=own_key(DA))
    alice = org.client("identitystore").get_user_id(IdentityStoreId=ORG_STORE, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"}})["UserId"]
    app = sso.list_applications(InstanceArn=inst)["Applications"][0]["ApplicationArn"]
    assert [a["ApplicationArn"] for a in sso.list_application_assignments_for_principal(
        InstanceArn=inst, PrincipalId=alice, PrincipalType="USER")["ApplicationAssignments"]] == [app]
    with pytest.raises(ClientError) as exc:
        da.list_application_assignments_for_principal(InstanceArn=inst, PrincipalId=alice, PrincipalType="USER")
    assert error_code(exc.value) == "ValidationException"
    got = da.list_application_assignments_for_principal(InstanceArn=inst, PrincipalId=alice, PrincipalType="USER",
                                                        Filter={"ApplicationArn": app})
    assert [a["ApplicationArn"] for a in got["ApplicationAssignments"]] == [app]


def test_writes(org):
    inst, by_name = _arns(org)
    sso = org.client("sso-admin")
    ps = sso.create_permission_set(InstanceArn=inst, Name="Temp", SessionDuration="PT2H")["PermissionSet"]
    assert re.fullmatch(PS_ARN_RE, ps["PermissionSetArn"]) and "RelayState" not in ps
    with pytest.raises(ClientError) as exc:
        sso.create_permission_set(InstanceArn=inst, Name="Temp")
    assert error_code(exc.value) == "ConflictException"
    bob = org.client("identitystore").get_user_id(IdentityStoreId=ORG_STORE, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "bob"}})["UserId"]
    kw = dict(InstanceArn=inst, TargetId=MEMBER, TargetType="AWS_ACCOUNT", PermissionSetArn=ps["PermissionSetArn"],
              PrincipalType="USER", PrincipalId=bob)
    assert sso.create_account_assignment(**kw)["AccountAssignmentCreationStatus"]["Status"] == "SUCCEEDED"
    assert sso.list_accounts_for_provisioned_permission_set(
        InstanceArn=inst, PermissionSetArn=ps["PermissionSetArn"])["AccountIds"] == [MEMBER]
    with pytest.raises(ClientError) as exc:
        org.client("sso-admin", creds=own_key(DA)).create_account_assignment(**{**kw, "TargetId": MGMT})
    assert error_code(exc.value) == "AccessDeniedException"
    assert sso.delete_account_assignment(**kw)["AccountAssignmentDeletionStatus"]["Status"] == "SUCCEEDED"
    sso.delete_permission_set(InstanceArn=inst, PermissionSetArn=ps["PermissionSetArn"])
    assert ps["PermissionSetArn"] not in sso.list_permission_sets(InstanceArn=inst)["PermissionSets"]


def test_stats_and_rate_limit_cover_the_new_operations(org):
    inst, by_name = _arns(org)
    da = org.client("sso-admin", creds=own_key(DA))
    org.reset_stats()
    da.list_account_assignments(InstanceArn=inst, AccountId=MEMBER, PermissionSetArn=by_name["Admin"])
    da.list_permission_sets(InstanceArn=inst)
    stats = org.stats()
    assert stats["by_operation"]["sso-admin:ListAccountAssignments"] == 1
    assert stats["by_operation"]["sso-admin:ListPermissionSets"] == 1
    assert stats["by_account_service"][f"{DA}:sso-admin"] == 2
    org.set_faults({"rate_limit": {"rps": 0.01, "burst": 2, "services": ["sso-admin"]}})
    da.list_permission_sets(InstanceArn=inst)
    da.list_permission_sets(InstanceArn=inst)
    with pytest.raises(ClientError) as exc:
        da.list_permission_sets(InstanceArn=inst)
    assert error_code(exc.value) == "ThrottlingException"
    org.clear_faults()


def test_fault_when_one_group(org):
    idc = org.client("identitystore")
    groups = {g["DisplayName"]: g["GroupId"] for g in idc.list_groups(IdentityStoreId=ORG_STORE)["Groups"]}
    cfg = org.set_faults({"faults": [{"service": "identitystore", "operation": "ListGroupMemberships",
                                      "kind": "access_denied", "when": {"GroupId": groups["admins"]}}]})
    assert cfg["faults"][0]["when"] == {"GroupId": groups["admins"]}
    with pytest.raises(ClientError) as exc:
        idc.list_group_memberships(IdentityStoreId=ORG_STORE, GroupId=groups["admins"])
    assert error_code(exc.value) == "AccessDeniedException"
    assert idc.list_group_memberships(IdentityStoreId=ORG_STORE, GroupId=groups["nobody"])["GroupMemberships"] == []
    assert org.admin("GET", "/faults")["faults"][0]["fired"] == 1
    # query-protocol parameters match too
    org.set_faults({"faults": [{"service": "sts", "operation": "AssumeRole", "kind": "throttle",
                                "when": {"RoleArn": f"arn:aws:iam::{MEMBER}:role/idc-lambda-service-role"}}]})
    with pytest.raises(ClientError):
        org.assume(MEMBER)
    org.assume(DA)
    import urllib.error
    with pytest.raises(urllib.error.HTTPError):
        org.set_faults({"faults": [{"kind": "throttle", "when": "GroupId"}]})
    org.clear_faults()


# ---- scenario checks and the generator ----------------------------------------------------
def test_scenario_access_checks():
    base = {"management_account": MGMT, "accounts": [{"id": MGMT}, {"id": MEMBER}],
            "instances": [{"owner": MGMT, "identity_store_id": ORG_STORE}],
            "users": [{"store": ORG_STORE, "user_name": "alice"}],
            "groups": [{"store": ORG_STORE, "name": "g", "members": []}],
            "permission_sets": [{"name": "Admin"}]}

    def asg(**kw):
        return {"account": MEMBER, "permission_set": "Admin", "principal_type": "USER", "principal": "alice", **kw}

    check(json.loads(json.dumps({**base, "account_assignments": [asg(), asg(principal_type="GROUP", principal="g")]})))
    bad = [
        ({"account_assignments": [asg(account="999999999999")]}, "not in accounts"),
        ({"account_assignments": [asg(permission_set="Nope")]}, "not in permission_sets"),
        ({"account_assignments": [asg(principal="ghost")]}, "not in the organization store"),
        ({"account_assignments": [asg(principal_type="ROLE")]}, "USER or GROUP"),
        ({"account_assignments": [asg(), asg()]}, "twice"),
        ({"provisioned": [{"account": MEMBER, "permission_set": "Admin"}] * 2}, "twice"),
        ({"permission_sets": [{"name": "Admin"}, {"name": "Admin"}]}, "twice"),
        ({"permission_sets": [{"name": "has space"}]}, "1-32"),
        ({"permission_sets": [{"name": "Long", "session_duration": "PT13H"}]}, "PT12H"),
        ({"users": [{"store": ORG_STORE, "user_name": "alice", "status": "GONE"}]}, "ENABLED or DISABLED"),
        ({"instances": [{"owner": MEMBER, "identity_store_id": ORG_STORE}]}, "organization instance"),
    ]
    for change, message in bad:
        with pytest.raises(ScenarioError, match=message):
            check(json.loads(json.dumps({**base, **change})))


def test_generator_access_options():
    plain = generate(accounts=40, account_instances=3, users=400, seed=5)
    assert plain == generate(accounts=40, account_instances=3, users=400, seed=5, permission_sets=0, pairs=0)
    assert "permission_sets" not in plain and "pairs" not in plain["generator"]
    raw = generate(accounts=200, account_instances=3, users=400, seed=5, permission_sets=10, pairs=600)
    # the rest of the organization is untouched by the access options
    same = generate(accounts=200, account_instances=3, users=400, seed=5)
    assert all(raw[k] == same[k] for k in ("accounts", "instances", "users", "groups", "applications"))
    s = check(raw)
    pairs: dict[str, set[str]] = {}
    per_pair: dict[tuple[str, str], int] = {}
    for a in s["account_assignments"]:
        pairs.setdefault(a["permission_set"], set()).add(a["account"])
        per_pair[(a["account"], a["permission_set"])] = per_pair.get((a["account"], a["permission_set"]), 0) + 1
    assert len(per_pair) == 600 and set(per_pair.values()) <= {1, 2, 3}
    assert max(len(v) for v in pairs.values()) > 100
    assert {a["principal_type"] for a in s["account_assignments"]} == {"USER", "GROUP"}
    exp = expected(s)
    assert exp["provisioned_pairs"] == 600 and exp["permission_sets"] == 10
    big = check(generate(accounts=12, account_instances=1, users=400, seed=5, permission_sets=3,
                         big_group=150, big_group_accounts=10, big_group_permission_sets=3))
    rows = expected(big)["account_assignment_rows"]
    assert sum(r[8] == "all-staff" for r in rows) == 150 * 10 * 3
    assert parse_gen("permission_sets=100,pairs=5000,big_group=1,big_group_accounts=2,big_group_permission_sets=3") == {
        "permission_sets": 100, "pairs": 5000, "big_group": 1, "big_group_accounts": 2, "big_group_permission_sets": 3}
    with pytest.raises(ValueError):
        generate(accounts=3, account_instances=0, users=10, permission_sets=1, pairs=4)


def test_load_1000_accounts_100_permission_sets_5000_pairs(server_factory, capsys):
    t0 = time.perf_counter()
    emu = server_factory("gen:accounts=1000,account_instances=100,users=20000,seed=7,permission_sets=100,pairs=5000")
    ready = time.perf_counter() - t0
    summary = emu.admin("GET", "/scenario")
    assert summary["permission_sets"] == 100 and summary["provisioned_pairs"] == 5000
    assert ready < 30 and summary["load_seconds"] < 10
    sso = emu.client("sso-admin")
    inst = sso.list_instances()["Instances"][0]["InstanceArn"]
    first = sso.list_permission_sets(InstanceArn=inst)["PermissionSets"][0]
    accounts, pages = all_pages(sso.list_accounts_for_provisioned_permission_set, "AccountIds",
                                InstanceArn=inst, PermissionSetArn=first)
    assert len(pages) >= 2 and len(accounts) > 100
    with capsys.disabled():
        print(f"\n[load] 1,000 accounts / 20,000 users / 100 permission sets / 5,000 pairs: ready in "
              f"{ready:.1f}s (scenario load {summary['load_seconds']:.1f}s)")
