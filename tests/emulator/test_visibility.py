"""AWS's visibility rules: instances, Regions, identity stores, applications, AssumeRole."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from conftest import error_code

MGMT, DA, EU, PLAIN, NOROLE, SUSP, OTHERROLE = (
    "111122223333", "444455556666", "777788889999", "121212121212", "343434343434", "565656565656", "787878787878")
ORG_STORE, EU_STORE, DA_STORE = "d-aaaaaaaaaa", "d-bbbbbbbbbb", "d-cccccccccc"


@pytest.fixture(scope="module")
def org(server_factory, tmp_path_factory):
    scenario = {
        "management_account": MGMT, "home_region": "us-east-1", "delegated_admin": DA,
        "accounts": [
            {"id": MGMT, "name": "mgmt", "has_role": False},
            {"id": DA, "name": "identity-admin"},
            {"id": EU, "name": "eu"},
            {"id": PLAIN, "name": "plain"},
            {"id": NOROLE, "name": "norole", "has_role": False},
            {"id": SUSP, "name": "suspended", "state": "SUSPENDED"},
            {"id": OTHERROLE, "name": "other-role", "role_name": "SomethingElse"},
        ],
        "instances": [
            {"owner": MGMT, "region": "us-east-1", "identity_store_id": ORG_STORE, "name": "org"},
            {"owner": EU, "region": "eu-west-1", "identity_store_id": EU_STORE, "name": "eu"},
            {"owner": DA, "region": "us-east-1", "identity_store_id": DA_STORE, "name": "da-own"},
        ],
        "users": [
            {"store": ORG_STORE, "user_name": "alice", "emails": ["alice@x.com"]},
            {"store": EU_STORE, "user_name": "bob", "emails": ["bob@x.com", "robert@x.com"]},
            {"store": DA_STORE, "user_name": "carol", "emails": []},
        ],
        "groups": [{"store": ORG_STORE, "name": "admins", "members": ["alice"]}],
        "applications": [
            {"instance": ORG_STORE, "name": "org-app",
             "assignments": [{"principal_type": "USER", "principal": "alice"},
                             {"principal_type": "GROUP", "principal": "admins"}]},
            {"instance": EU_STORE, "name": "eu-app", "assignments": [{"principal_type": "USER", "principal": "bob"}]},
            # An application of the organization instance created from the delegated admin.
            {"instance": ORG_STORE, "name": "da-app", "account": DA, "assignments": []},
        ],
    }
    path = tmp_path_factory.mktemp("scenario") / "visibility.json"
    path.write_text(json.dumps(scenario))
    emu = server_factory(str(path))
    yield emu
    emu.clear_faults()


def stores(client, **kw):
    return sorted(i["IdentityStoreId"] for i in client.list_instances(**kw)["Instances"])


def test_no_default_instance_anywhere(org):
    # moto would invent one instance per account and Region; AWS has none unless created
    assert stores(org.as_account(PLAIN, "sso-admin", region="eu-west-1")) == []
    assert stores(org.as_account(PLAIN, "sso-admin", region="ap-southeast-2")) == []
    assert stores(org.client("sso-admin", region="eu-central-1")) == []


def test_org_instance_visible_to_members_account_instance_to_owner(org):
    assert stores(org.client("sso-admin")) == [ORG_STORE]
    assert stores(org.as_account(PLAIN, "sso-admin")) == [ORG_STORE]
    assert stores(org.as_account(DA, "sso-admin")) == [ORG_STORE, DA_STORE]
    # the eu account's own instance lives in eu-west-1: per Region, only there
    assert stores(org.as_account(EU, "sso-admin")) == [ORG_STORE]
    assert stores(org.as_account(EU, "sso-admin", region="eu-west-1")) == [EU_STORE]


def test_region_scope(org):
    eu = org.as_account(EU, "sso-admin")
    assert stores(eu, RegionScope="CURRENT_REGION") == [ORG_STORE]
    got = eu.list_instances(RegionScope="ALL_REGIONS")["Instances"]
    assert sorted(i["IdentityStoreId"] for i in got) == [ORG_STORE, EU_STORE]
    by_store = {i["IdentityStoreId"]: i for i in got}
    assert by_store[EU_STORE]["PrimaryRegion"] == "eu-west-1"
    assert by_store[EU_STORE]["Regions"] == [
        {"RegionName": "eu-west-1", "Status": "ACTIVE", "AddedDate": by_store[EU_STORE]["CreatedDate"],
         "IsPrimaryRegion": True}]
    assert by_store[ORG_STORE]["PrimaryRegion"] == "us-east-1"
    assert by_store[EU_STORE]["OwnerAccountId"] == EU and by_store[ORG_STORE]["OwnerAccountId"] == MGMT
    assert by_store[EU_STORE]["Name"] == "eu" and by_store[EU_STORE]["Status"] == "ACTIVE"
    # the same answer from any Region
    assert stores(org.as_account(EU, "sso-admin", region="ap-south-1"), RegionScope="ALL_REGIONS") == [ORG_STORE, EU_STORE]
    # ALL_REGIONS never shows another account's account instance
    assert stores(org.as_account(PLAIN, "sso-admin"), RegionScope="ALL_REGIONS") == [ORG_STORE]


def test_region_scope_unsupported_falls_back(org):
    org.set_faults({"faults": [], "region_scope_supported": False})
    eu = org.as_account(EU, "sso-admin")
    with pytest.raises(ClientError) as exc:
        eu.list_instances(RegionScope="ALL_REGIONS")
    assert error_code(exc.value) == "ValidationException"
    assert stores(eu) == [ORG_STORE]  # the per-Region scan still works
    assert stores(org.as_account(EU, "sso-admin", region="eu-west-1")) == [EU_STORE]
    org.clear_faults()
    assert len(stores(eu, RegionScope="ALL_REGIONS")) == 2


def test_identity_store_owner_and_delegated_admin_only(org):
    assert [u["UserName"] for u in org.client("identitystore").list_users(IdentityStoreId=ORG_STORE)["Users"]] == ["alice"]
    # the delegated admin reads the org store: the owner's data, not an empty store of its own
    da = org.as_account(DA, "identitystore")
    assert [u["UserName"] for u in da.list_users(IdentityStoreId=ORG_STORE)["Users"]] == ["alice"]
    gid = da.list_groups(IdentityStoreId=ORG_STORE)["Groups"][0]["GroupId"]
    members = da.list_group_memberships(IdentityStoreId=ORG_STORE, GroupId=gid)["GroupMemberships"]
    uid = da.list_users(IdentityStoreId=ORG_STORE)["Users"][0]["UserId"]
    assert members[0]["MemberId"] == {"UserId": uid}
    assert da.describe_user(IdentityStoreId=ORG_STORE, UserId=uid)["UserName"] == "alice"
    # ...also when the store is named by ARN
    arn = f"arn:aws:identitystore::{MGMT}:identitystore/{ORG_STORE}"
    assert da.list_users(IdentityStoreId=arn)["Users"][0]["UserId"] == uid
    for acct in (PLAIN, EU):
        with pytest.raises(ClientError) as exc:
            org.as_account(acct, "identitystore").list_users(IdentityStoreId=ORG_STORE)
        assert error_code(exc.value) == "AccessDeniedException"
    # an account store answers its owner only: not management, not the delegated admin
    eu = org.as_account(EU, "identitystore", region="eu-west-1")
    bob = eu.list_users(IdentityStoreId=EU_STORE)["Users"][0]
    assert [e["Value"] for e in bob["Emails"]] == ["bob@x.com", "robert@x.com"]
    for client in (org.client("identitystore", region="eu-west-1"), org.as_account(DA, "identitystore", region="eu-west-1")):
        with pytest.raises(ClientError) as exc:
            client.list_users(IdentityStoreId=EU_STORE)
        assert error_code(exc.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        org.client("identitystore").list_users(IdentityStoreId=DA_STORE)
    assert error_code(exc.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        org.client("identitystore").list_users(IdentityStoreId="d-0000000000")
    assert error_code(exc.value) == "ResourceNotFoundException"


def test_writes_land_in_the_owners_store(org):
    da = org.as_account(DA, "identitystore")
    uid = da.create_user(IdentityStoreId=ORG_STORE, UserName="dave", DisplayName="Dave D",
                         Name={"GivenName": "Dave", "FamilyName": "D"},
                         Emails=[{"Value": "dave@x.com", "Primary": True}])["UserId"]
    try:
        names = [u["UserName"] for u in org.client("identitystore").list_users(IdentityStoreId=ORG_STORE)["Users"]]
        assert names == ["alice", "dave"]
    finally:
        da.delete_user(IdentityStoreId=ORG_STORE, UserId=uid)


def test_applications_owner_and_delegated_admin_only(org):
    org_arn = [i for i in org.client("sso-admin").list_instances()["Instances"]][0]["InstanceArn"]
    apps = org.client("sso-admin").list_applications(InstanceArn=org_arn)["Applications"]
    assert sorted(a["Name"] for a in apps) == ["da-app", "org-app"]
    org_app = next(a for a in apps if a["Name"] == "org-app")
    da = org.as_account(DA, "sso-admin")
    # A member account (the delegated admin too) must filter by its own account and sees
    # only the applications created from it.
    for flt in (None, {"ApplicationAccount": MGMT}):
        with pytest.raises(ClientError) as exc:
            da.list_applications(InstanceArn=org_arn, **({"Filter": flt} if flt else {}))
        assert error_code(exc.value) == "AccessDeniedException"
    own = da.list_applications(InstanceArn=org_arn, Filter={"ApplicationAccount": DA})["Applications"]
    assert [a["Name"] for a in own] == ["da-app"]
    # The management account may filter by any account.
    mine = org.client("sso-admin").list_applications(InstanceArn=org_arn, Filter={"ApplicationAccount": MGMT})
    assert [a["Name"] for a in mine["Applications"]] == ["org-app"]
    assert len(da.list_application_assignments(ApplicationArn=org_app["ApplicationArn"])["ApplicationAssignments"]) == 2
    plain = org.as_account(PLAIN, "sso-admin")
    with pytest.raises(ClientError) as exc:
        plain.list_applications(InstanceArn=org_arn)
    assert error_code(exc.value) == "AccessDeniedException"
    with pytest.raises(ClientError) as exc:
        plain.list_application_assignments(ApplicationArn=org_app["ApplicationArn"])
    assert error_code(exc.value) == "AccessDeniedException"
    eu = org.as_account(EU, "sso-admin", region="eu-west-1")
    eu_inst = eu.list_instances()["Instances"][0]
    eu_apps = eu.list_applications(InstanceArn=eu_inst["InstanceArn"])["Applications"]
    assert [a["Name"] for a in eu_apps] == ["eu-app"] and eu_apps[0]["CreatedFrom"] == "eu-west-1"
    for client in (org.client("sso-admin", region="eu-west-1"), org.as_account(DA, "sso-admin", region="eu-west-1")):
        with pytest.raises(ClientError) as exc:
            client.list_applications(InstanceArn=eu_inst["InstanceArn"])
        assert error_code(exc.value) == "AccessDeniedException"


def test_assume_role_rules(org):
    sts = org.client("sts")
    ident = org.client("sts", creds=org.assume(PLAIN)).get_caller_identity()
    assert ident["Account"] == PLAIN and ident["Arn"].startswith(f"arn:aws:sts::{PLAIN}:assumed-role/idc-lambda-service-role/")
    assert org.client("sts").get_caller_identity()["Account"] == MGMT
    refused = [
        f"arn:aws:iam::{NOROLE}:role/idc-lambda-service-role",     # role not deployed
        f"arn:aws:iam::{OTHERROLE}:role/idc-lambda-service-role",  # role under another name
        f"arn:aws:iam::{SUSP}:role/idc-lambda-service-role",       # account not ACTIVE
        "arn:aws:iam::999999999999:role/idc-lambda-service-role",  # not an account of this world
        f"arn:aws:iam::{MGMT}:role/idc-lambda-service-role",        # StackSets skip the management account
        f"arn:aws:iam::{PLAIN}:role/SomeOtherRole",
    ]
    for arn in refused:
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=arn, RoleSessionName="audit")
        assert error_code(exc.value) == "AccessDenied", arn
        assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert sts.assume_role(RoleArn=f"arn:aws:iam::{OTHERROLE}:role/SomethingElse",
                           RoleSessionName="audit")["Credentials"]["AccessKeyId"]
