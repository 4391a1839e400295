"""Organizations ListAccounts and Identity Store listing as AWS pages them (messy scenario)."""

from __future__ import annotations

import urllib.error

import pytest
from botocore.exceptions import ClientError

from conftest import all_pages, error_code, scenario_json

ORG_STORE = "d-9067000001"


def test_list_accounts_pages_state_and_empty_first_page(messy):
    org = messy.client("organizations")
    first = org.list_accounts()
    assert first["Accounts"] == [] and first["NextToken"]  # AWS may answer an empty page with a token
    accounts, pages = all_pages(org.list_accounts, "Accounts")
    assert pages == [0, 20, 20, 6]
    assert len(accounts) == 46 and len({a["Id"] for a in accounts}) == 46
    by_id = {a["Id"]: a for a in accounts}
    assert by_id["111100000007"]["State"] == "SUSPENDED" and by_id["111100000007"]["Status"] == "SUSPENDED"
    assert by_id["111100000013"]["State"] == "CLOSED" and by_id["111100000013"]["Status"] == "SUSPENDED"
    assert by_id["111122223333"]["State"] == "ACTIVE" and by_id["111122223333"]["Name"] == "Management"
    for a in accounts:
        assert set(a) >= {"Id", "Arn", "Email", "Name", "Status", "State", "JoinedMethod", "JoinedTimestamp"}
    via = [a for p in org.get_paginator("list_accounts").paginate() for a in p["Accounts"]]
    assert [a["Id"] for a in via] == [a["Id"] for a in accounts]
    with pytest.raises(ClientError) as exc:
        org.list_accounts(MaxResults=21)
    assert error_code(exc.value) == "InvalidInputException"
    assert org.describe_organization()["Organization"]["MasterAccountId"] == "111122223333"


def test_list_accounts_denied_to_members(messy):
    with pytest.raises(ClientError) as exc:
        messy.as_account("111100000001", "organizations").list_accounts()
    assert error_code(exc.value) == "AccessDeniedException"


def test_list_users_pages_and_emails(messy):
    ids = messy.client("identitystore")
    users, pages = all_pages(ids.list_users, "Users", IdentityStoreId=ORG_STORE, MaxResults=100)
    assert pages == [100, 100, 30] and len({u["UserId"] for u in users}) == 230
    by_name = {u["UserName"]: u for u in users}
    assert "Emails" not in by_name["no.email"]
    assert [e["Value"] for e in by_name["two.emails"]["Emails"]] == ["two.emails@corp.example.com",
                                                                       "two.alias@corp.example.com"]
    assert [e["Primary"] for e in by_name["two.emails"]["Emails"]] == [True, False]
    assert by_name["dup.case"]["Emails"][0]["Value"] == "Dup.Case@Example.com"  # stored as given
    assert by_name["unicode.name"]["DisplayName"] == "Zoë Müller"
    u = by_name["user0001"]
    assert u["UserArn"] == f"arn:aws:identitystore:::user/{u['UserId']}" and u["Revision"]
    assert u["IdentityStoreId"] == ORG_STORE and u["Name"]["GivenName"]
    default_pages = all_pages(ids.list_users, "Users", IdentityStoreId=ORG_STORE)[1]
    assert default_pages == [100, 100, 30]
    small = all_pages(ids.list_users, "Users", IdentityStoreId=ORG_STORE, MaxResults=33)
    assert [x["UserId"] for x in small[0]] == [x["UserId"] for x in users] and len(small[1]) == 7
    via = [x for p in ids.get_paginator("list_users").paginate(IdentityStoreId=ORG_STORE) for x in p["Users"]]
    assert len(via) == 230
    with pytest.raises(ClientError) as exc:
        ids.list_users(IdentityStoreId=ORG_STORE, MaxResults=101)
    assert error_code(exc.value) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ids.list_users(IdentityStoreId=ORG_STORE, NextToken="garbage")
    assert error_code(exc.value) == "ValidationException"
    # a token belongs to its store
    token = ids.list_users(IdentityStoreId=ORG_STORE, MaxResults=5)["NextToken"]
    other = messy.as_account("111100000002", "identitystore")
    with pytest.raises(ClientError) as exc:
        other.list_users(IdentityStoreId="d-9067000002", NextToken=token)
    assert error_code(exc.value) == "ValidationException"


def test_list_groups_and_memberships_page(messy):
    ids = messy.client("identitystore")
    groups, pages = all_pages(ids.list_groups, "Groups", IdentityStoreId=ORG_STORE)
    assert pages == [100, 5]
    g = {x["DisplayName"]: x for x in groups}
    assert g["team-002"]["GroupArn"].endswith(g["team-002"]["GroupId"])
    members, mpages = all_pages(ids.list_group_memberships, "GroupMemberships", IdentityStoreId=ORG_STORE,
                           GroupId=g["everyone-big"]["GroupId"])
    assert mpages == [100, 20] and len({m["MemberId"]["UserId"] for m in members}) == 120
    assert all(m["GroupId"] == g["everyone-big"]["GroupId"] and m["MembershipArn"] for m in members)
    empty = ids.list_group_memberships(IdentityStoreId=ORG_STORE, GroupId=g["team-010"]["GroupId"])
    assert empty["GroupMemberships"] == [] and "NextToken" not in empty
    expected = scenario_json("messy")["expected"]["stores"][ORG_STORE]
    total = sum(len(all_pages(ids.list_group_memberships, "GroupMemberships", IdentityStoreId=ORG_STORE,
                         GroupId=x["GroupId"])[0]) for x in groups)
    assert total == expected["memberships"] and len(groups) == expected["groups"]
    with pytest.raises(ClientError) as exc:
        ids.list_group_memberships(IdentityStoreId=ORG_STORE, GroupId="1234567890-00000000-0000-0000-0000-000000000000")
    assert error_code(exc.value) == "ResourceNotFoundException"
    # membership changes are seen by the next listing
    user = ids.list_users(IdentityStoreId=ORG_STORE, MaxResults=1)["Users"][0]
    mid = ids.create_group_membership(IdentityStoreId=ORG_STORE, GroupId=g["team-010"]["GroupId"],
                                      MemberId={"UserId": user["UserId"]})["MembershipId"]
    assert [m["MembershipId"] for m in ids.list_group_memberships(
        IdentityStoreId=ORG_STORE, GroupId=g["team-010"]["GroupId"])["GroupMemberships"]] == [mid]
    ids.delete_group_membership(IdentityStoreId=ORG_STORE, MembershipId=mid)
    assert ids.list_group_memberships(IdentityStoreId=ORG_STORE, GroupId=g["team-010"]["GroupId"])["GroupMemberships"] == []


def test_other_region_account_store(messy):
    eu = messy.as_account("111100000003", "identitystore", region="eu-west-1")
    users = eu.list_users(IdentityStoreId="d-9067000003")["Users"]
    spaced = [u for u in users if u["UserName"] == "spaced"][0]
    assert spaced["Emails"][0]["Value"] == " spaced@example.com "
    with pytest.raises(ClientError) as exc:  # the store is not in the caller's default Region
        messy.as_account("111100000003", "identitystore").list_users(IdentityStoreId="d-9067000003")
    assert error_code(exc.value) == "ResourceNotFoundException"


def test_admin_sets_a_users_status(blog):
    """Test-only admin route (AWS has no API that disables a user): ListUsers and
    DescribeUser answer the new UserStatus; unknown users and statuses are refused."""
    store = blog.client("identitystore")
    users = store.list_users(IdentityStoreId="d-111122223333")["Users"]
    maria = next(u for u in users if u["UserName"] == "maria.garcia")
    assert maria["UserStatus"] == "ENABLED"
    body = {"identity_store_id": "d-111122223333", "user_id": maria["UserId"], "status": "DISABLED"}
    try:
        assert blog.admin("POST", "/users/status", body)["status"] == "DISABLED"
        described = store.describe_user(IdentityStoreId="d-111122223333", UserId=maria["UserId"])
        assert described["UserStatus"] == "DISABLED"
        listed = store.list_users(IdentityStoreId="d-111122223333")["Users"]
        assert next(u for u in listed if u["UserId"] == maria["UserId"])["UserStatus"] == "DISABLED"
        for bad in ({**body, "status": "SUSPENDED"}, {**body, "user_id": "nope"},
                    {**body, "identity_store_id": "d-999999999999"}, {**body, "extra": 1}):
            with pytest.raises(urllib.error.HTTPError) as exc:
                blog.admin("POST", "/users/status", bad)
            assert exc.value.code == 400
    finally:
        blog.admin("POST", "/users/status", {**body, "status": "ENABLED"})
    assert store.describe_user(IdentityStoreId="d-111122223333", UserId=maria["UserId"])["UserStatus"] == "ENABLED"
