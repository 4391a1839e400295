"""The sso-admin operations moto lacks: shapes (per botocore's model) and pagination."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from conftest import all_pages, error_code, scenario_json

INSTANCE_ARN = re.compile(r"^arn:aws:sso:::instance/ssoins-[0-9a-z]{16}$")
APP_ARN = re.compile(r"^arn:aws:sso::(\d{12}):application/(ssoins-[0-9a-z]{16})/apl-[0-9a-f]{16}$")


def test_list_instances_shapes_and_pagination(blog):
    sso = blog.as_account("111122221111", "sso-admin")
    first = sso.list_instances(MaxResults=1)
    assert len(first["Instances"]) == 1 and first["NextToken"]
    second = sso.list_instances(MaxResults=1, NextToken=first["NextToken"])
    assert len(second["Instances"]) == 1 and "NextToken" not in second
    got = first["Instances"] + second["Instances"]
    assert {i["IdentityStoreId"] for i in got} == {"d-111122223333", "d-111111111111"}
    for inst in got:
        assert INSTANCE_ARN.match(inst["InstanceArn"])
        assert inst["Status"] == "ACTIVE" and inst["CreatedDate"]
        assert re.fullmatch(r"\d{12}", inst["OwnerAccountId"])
        assert inst["IdentityStoreArn"] == f"arn:aws:identitystore::{inst['OwnerAccountId']}:identitystore/{inst['IdentityStoreId']}"
    with pytest.raises(ClientError) as bad:
        sso.list_instances(NextToken="not-a-token")
    assert error_code(bad.value) == "ValidationException"
    with pytest.raises(ClientError) as big:
        sso.list_instances(MaxResults=101)
    assert error_code(big.value) == "ValidationException"


def test_describe_instance(blog):
    sso = blog.as_account("111122221111", "sso-admin")
    own = [i for i in sso.list_instances()["Instances"] if i["OwnerAccountId"] == "111122221111"][0]
    d = sso.describe_instance(InstanceArn=own["InstanceArn"])
    assert d["InstanceArn"] == own["InstanceArn"] and d["IdentityStoreId"] == "d-111111111111"
    assert d["OwnerAccountId"] == "111122221111" and d["Status"] == "ACTIVE" and d["Name"] == "sandbox-1"
    assert d["PrimaryRegion"] == "us-east-1" and d["Regions"][0]["IsPrimaryRegion"] is True
    org = [i for i in sso.list_instances()["Instances"] if i["OwnerAccountId"] == "111122223333"][0]
    with pytest.raises(ClientError) as denied:  # a member cannot describe the org instance
        sso.describe_instance(InstanceArn=org["InstanceArn"])
    assert error_code(denied.value) == "AccessDeniedException"


def test_create_and_delete_instance(blog):
    sso = blog.as_account("111122224444", "sso-admin")
    assert [i["OwnerAccountId"] for i in sso.list_instances()["Instances"]] == ["111122223333"]
    arn = sso.create_instance(Name="scratch")["InstanceArn"]
    try:
        assert INSTANCE_ARN.match(arn)
        d = sso.describe_instance(InstanceArn=arn)
        assert d["OwnerAccountId"] == "111122224444" and d["Name"] == "scratch"
        assert d["IdentityStoreId"].startswith("d-")
        ids = blog.as_account("111122224444", "identitystore")
        assert ids.list_users(IdentityStoreId=d["IdentityStoreId"])["Users"] == []
        # one account instance per account, in all Regions
        for region in ("us-east-1", "eu-west-1"):
            with pytest.raises(ClientError) as again:
                blog.as_account("111122224444", "sso-admin", region=region).create_instance(Name="second")
            assert error_code(again.value) == "ConflictException"
        # the instance is the owner's only
        other = blog.as_account("111122225555", "sso-admin")
        assert arn not in [i["InstanceArn"] for i in other.list_instances()["Instances"]]
        with pytest.raises(ClientError) as denied:
            other.delete_instance(InstanceArn=arn)
        assert error_code(denied.value) == "AccessDeniedException"
    finally:
        sso.delete_instance(InstanceArn=arn)
    assert arn not in [i["InstanceArn"] for i in sso.list_instances()["Instances"]]
    # the management account cannot create an account instance
    with pytest.raises(ClientError) as mgmt:
        blog.client("sso-admin").create_instance(Name="nope")
    assert error_code(mgmt.value) == "ValidationException"


def test_applications_shapes(blog):
    sso = blog.as_account("111122221111", "sso-admin")
    own = [i for i in sso.list_instances()["Instances"] if i["OwnerAccountId"] == "111122221111"][0]
    apps = sso.list_applications(InstanceArn=own["InstanceArn"])["Applications"]
    assert [a["Name"] for a in apps] == ["CodeCatalyst"]
    app = apps[0]
    m = APP_ARN.match(app["ApplicationArn"])
    assert m and m.group(1) == "111122221111" and own["InstanceArn"].endswith(m.group(2))
    assert app["ApplicationProviderArn"] == "arn:aws:sso::aws:applicationProvider/codecatalyst"
    assert app["ApplicationAccount"] == "111122221111" and app["InstanceArn"] == own["InstanceArn"]
    assert app["Status"] == "ENABLED" and app["CreatedDate"]
    assert app["PortalOptions"]["Visibility"] == "ENABLED"
    d = sso.describe_application(ApplicationArn=app["ApplicationArn"])
    for key in ("ApplicationArn", "ApplicationProviderArn", "Name", "ApplicationAccount", "InstanceArn", "Status"):
        assert d[key] == app[key]
    asg = sso.list_application_assignments(ApplicationArn=app["ApplicationArn"])["ApplicationAssignments"]
    assert sorted(a["PrincipalType"] for a in asg) == ["GROUP", "USER"]
    assert all(a["ApplicationArn"] == app["ApplicationArn"] for a in asg)
    users = blog.as_account("111122221111", "identitystore").list_users(IdentityStoreId="d-111111111111")["Users"]
    by_id = {u["UserId"]: u["UserName"] for u in users}
    assert by_id[[a for a in asg if a["PrincipalType"] == "USER"][0]["PrincipalId"]] == "username"


def test_create_application_and_assignments(blog):
    sso = blog.as_account("111122225555", "sso-admin")
    own = [i for i in sso.list_instances()["Instances"] if i["OwnerAccountId"] == "111122225555"][0]
    ids = blog.as_account("111122225555", "identitystore")
    users = ids.list_users(IdentityStoreId="d-222222222222")["Users"]
    groups = ids.list_groups(IdentityStoreId="d-222222222222")["Groups"]
    arn = sso.create_application(InstanceArn=own["InstanceArn"], Name="Scratch app",
                                 ApplicationProviderArn="arn:aws:sso::aws:applicationProvider/custom")["ApplicationArn"]
    try:
        assert APP_ARN.match(arn).group(1) == "111122225555"
        sso.create_application_assignment(ApplicationArn=arn, PrincipalId=users[0]["UserId"], PrincipalType="USER")
        sso.create_application_assignment(ApplicationArn=arn, PrincipalId=groups[0]["GroupId"], PrincipalType="GROUP")
        sso.create_application_assignment(ApplicationArn=arn, PrincipalId=users[0]["UserId"], PrincipalType="USER")
        got = sso.list_application_assignments(ApplicationArn=arn)["ApplicationAssignments"]
        assert {(a["PrincipalType"], a["PrincipalId"]) for a in got} == {
            ("USER", users[0]["UserId"]), ("GROUP", groups[0]["GroupId"])}
        with pytest.raises(ClientError) as missing:
            sso.create_application_assignment(ApplicationArn=arn, PrincipalType="USER",
                                              PrincipalId="1234567890-12345678-1234-1234-1234-123456789012")
        assert error_code(missing.value) == "ResourceNotFoundException"
        with pytest.raises(ClientError) as dup:
            sso.create_application(InstanceArn=own["InstanceArn"], Name="Scratch app",
                                   ApplicationProviderArn="arn:aws:sso::aws:applicationProvider/custom")
        assert error_code(dup.value) == "ConflictException"
        with pytest.raises(ClientError) as provider:
            sso.create_application(InstanceArn=own["InstanceArn"], Name="Other",
                                   ApplicationProviderArn="arn:aws:sso::aws:applicationProvider/nonexistent")
        assert error_code(provider.value) == "ResourceNotFoundException"
    finally:
        sso.delete_application(ApplicationArn=arn)
    with pytest.raises(ClientError) as gone:
        sso.describe_application(ApplicationArn=arn)
    assert error_code(gone.value) == "ResourceNotFoundException"


def test_list_applications_paginates(messy):
    sso = messy.client("sso-admin")
    org = sso.list_instances()["Instances"][0]
    apps, pages = all_pages(sso.list_applications, "Applications", InstanceArn=org["InstanceArn"], MaxResults=100)
    assert len(apps) == 105 and len({a["ApplicationArn"] for a in apps}) == 105
    assert pages == [50, 50, 5]  # Identity Center returns at most 50 a page
    apps20, pages20 = all_pages(sso.list_applications, "Applications", InstanceArn=org["InstanceArn"], MaxResults=20)
    assert [a["ApplicationArn"] for a in apps20] == [a["ApplicationArn"] for a in apps] and len(pages20) == 6
    assert {a["Status"] for a in apps} == {"ENABLED", "DISABLED"}
    via_paginator = [a for p in sso.get_paginator("list_applications").paginate(InstanceArn=org["InstanceArn"])
                     for a in p["Applications"]]
    assert len(via_paginator) == 105
    flt = sso.list_applications(InstanceArn=org["InstanceArn"],
                                Filter={"ApplicationProvider": "arn:aws:sso::aws:applicationProvider/custom-saml"})
    assert flt["Applications"] and all(a["ApplicationProviderArn"].endswith("custom-saml") for a in flt["Applications"])
    with pytest.raises(ClientError) as big:
        sso.list_applications(InstanceArn=org["InstanceArn"], MaxResults=101)
    assert error_code(big.value) == "ValidationException"


def test_list_application_assignments_paginates(messy):
    sso = messy.client("sso-admin")
    org = sso.list_instances()["Instances"][0]
    portal = [a for a in sso.list_applications(InstanceArn=org["InstanceArn"])["Applications"]
              if a["Name"] == "app-001-portal"][0]
    items, pages = all_pages(sso.list_application_assignments, "ApplicationAssignments",
                             ApplicationArn=portal["ApplicationArn"], MaxResults=100)
    assert pages == [100, 50]
    assert sum(a["PrincipalType"] == "USER" for a in items) == 110
    assert sum(a["PrincipalType"] == "GROUP" for a in items) == 40
    assert len({(a["PrincipalType"], a["PrincipalId"]) for a in items}) == 150
    via = [a for p in sso.get_paginator("list_application_assignments").paginate(
        ApplicationArn=portal["ApplicationArn"], PaginationConfig={"PageSize": 7}) for a in p["ApplicationAssignments"]]
    assert via == items
    expected_total = scenario_json("messy")["expected"]["stores"]["d-9067000001"]["assignments"]
    apps = [a for p in sso.get_paginator("list_applications").paginate(InstanceArn=org["InstanceArn"])
            for a in p["Applications"]]
    total = sum(len(a2) for a2 in (
        [x for p in sso.get_paginator("list_application_assignments").paginate(ApplicationArn=a["ApplicationArn"])
         for x in p["ApplicationAssignments"]] for a in apps))
    assert total == expected_total


def test_list_application_providers(blog):
    sso = blog.client("sso-admin")
    items, pages = all_pages(sso.list_application_providers, "ApplicationProviders", MaxResults=4)
    assert len(items) >= 5 and pages[0] == 4 and len(pages) >= 2
    arns = [p["ApplicationProviderArn"] for p in items]
    assert "arn:aws:sso::aws:applicationProvider/custom" in arns
    assert all(re.fullmatch(r"arn:aws:sso::aws:applicationProvider/[a-zA-Z0-9-/]+", a) for a in arns)
    assert {p["FederationProtocol"] for p in items} <= {"SAML", "OAUTH"}
    one = sso.describe_application_provider(ApplicationProviderArn=arns[0])
    assert one["ApplicationProviderArn"] == arns[0]


def test_create_and_delete_permission_set(blog):
    sso = blog.client("sso-admin")
    org = sso.list_instances()["Instances"][0]
    ps = sso.create_permission_set(InstanceArn=org["InstanceArn"], Name="ReadOnly")["PermissionSet"]
    assert ps["PermissionSetArn"] in sso.list_permission_sets(InstanceArn=org["InstanceArn"])["PermissionSets"]
    sso.delete_permission_set(InstanceArn=org["InstanceArn"], PermissionSetArn=ps["PermissionSetArn"])
