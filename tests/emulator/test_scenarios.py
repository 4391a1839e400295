"""The shipped scenarios answer what their `expected` block says, audited the way AWS allows.

`audit()` is a small reference audit in boto3: list accounts (every page), skip accounts
that are not ACTIVE, use the caller's own credentials in the management account and
AssumeRole elsewhere, list instances with RegionScope=ALL_REGIONS, read every store that
the account owns (or the org store from the management account), and group emails trimmed
and lower-cased across stores. It proves the emulator serves each scenario as documented.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from conftest import scenario_json


def audit(emu, management: str, role: str = "idc-lambda-service-role"):
    org = emu.client("organizations")
    accounts = [a for p in org.get_paginator("list_accounts").paginate() for a in p["Accounts"]]
    skipped, failed, audited, instances_by_account = {}, {}, [], {}
    store_home: dict[str, tuple[str, str]] = {}
    for acct in accounts:
        aid = acct["Id"]
        if acct["State"] != "ACTIVE":
            skipped[aid] = acct["State"]
            continue
        try:
            creds = None if aid == management else emu.assume(aid, role)
        except ClientError as exc:
            failed[aid] = exc.response["Error"]["Code"]
            continue
        audited.append(aid)
        sso = emu.client("sso-admin", creds=creds)
        insts = [i for p in sso.get_paginator("list_instances").paginate(RegionScope="ALL_REGIONS")
                 for i in p["Instances"]]
        instances_by_account[aid] = [i["IdentityStoreId"] for i in insts]
        for i in insts:
            if i["OwnerAccountId"] == aid:
                store_home[i["IdentityStoreId"]] = (aid, i["PrimaryRegion"])
    seen: dict[str, set[str]] = {}
    users_per_store = {}
    for store, (owner, region) in store_home.items():
        creds = None if owner == management else emu.assume(owner, role)
        ids = emu.client("identitystore", creds=creds, region=region)
        users = [u for p in ids.get_paginator("list_users").paginate(IdentityStoreId=store) for u in p["Users"]]
        users_per_store[store] = len(users)
        for u in users:
            for e in u.get("Emails", []):
                seen.setdefault(e["Value"].strip().lower(), set()).add(store)
    dups = {e: sorted(s) for e, s in sorted(seen.items()) if len(s) > 1}
    return skipped, failed, audited, instances_by_account, dups, users_per_store


@pytest.mark.parametrize("name", ["blog", "messy"])
def test_shipped_scenario_matches_expected(name, blog, messy):
    emu = {"blog": blog, "messy": messy}[name]
    scenario = scenario_json(name)
    exp = scenario["expected"]
    skipped, failed, audited, by_account, dups, users = audit(emu, scenario["management_account"])
    assert skipped == exp["skipped_accounts"]
    assert sorted(failed) == sorted(exp["failed_accounts"]) and set(failed.values()) <= {"AccessDenied"}
    assert audited == exp["audited_accounts"]
    assert {k: sorted(v) for k, v in by_account.items()} == {k: sorted(v) for k, v in exp["instances_by_account"].items()}
    assert dups == exp["duplicated_users"]
    assert users == {k: v["users"] for k, v in exp["stores"].items() if v["audited"]}


def test_blog_tables(blog):
    """The two tables of the blog post."""
    _, _, _, by_account, dups, _ = audit(blog, "111122223333")
    assert by_account["111122224444"] == ["d-111122223333"]
    assert "d-111111111111" in by_account["111122221111"]
    assert dups == {
        "username+adminuser@domain.com": ["d-111111111111", "d-111122223333"],
        "username2+adminuser@domain.com": ["d-111111111111", "d-111122223333", "d-222222222222"],
        "username3+adminuser@domain.com": ["d-111111111111", "d-222222222222"],
    }


def test_scenario_summary(blog, messy):
    s = blog.admin("GET", "/scenario")
    assert (s["accounts"], s["instances"], s["users"], s["groups"], s["applications"], s["assignments"]) == (4, 3, 11, 4, 4, 8)
    m = messy.admin("GET", "/scenario")
    exp = scenario_json("messy")["expected"]
    assert m["accounts"] == exp["accounts_total"] == 46
    assert m["users"] == sum(v["users"] for v in exp["stores"].values())
    assert m["assignments"] == sum(v["assignments"] for v in exp["stores"].values())
    assert m["accounts_by_state"] == {"ACTIVE": 44, "SUSPENDED": 1, "CLOSED": 1}
