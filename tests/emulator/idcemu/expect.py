"""What a correct audit of a scenario reports, computed from the scenario itself.

Used to write the `expected` block of the shipped scenarios and by the emulator's tests.
The rules are AWS's: accounts whose State is not ACTIVE cannot be entered (skipped);
AssumeRole fails where the member role is missing or named otherwise (failed); the
management account is read with the caller's own credentials; every audited account sees
the organization instance plus its own account instance (ALL_REGIONS); a duplicated user
is one email, compared trimmed and case-insensitively, present in two or more stores.
"""

from __future__ import annotations

from typing import Any

from .scenario import norm_email


def expected(s: dict[str, Any]) -> dict[str, Any]:
    mgmt = s["management_account"]
    role = s["role_name"]
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    audited: list[str] = []
    for a in s["accounts"]:
        if a["state"] != "ACTIVE":
            skipped[a["id"]] = a["state"]
        elif a["id"] == mgmt:
            audited.append(a["id"])
        elif not a.get("has_role", True):
            failed[a["id"]] = f"AssumeRole AccessDenied: no role {role}"
        elif a.get("role_name", role) != role:
            failed[a["id"]] = f"AssumeRole AccessDenied: the account's role is named {a['role_name']}"
        else:
            audited.append(a["id"])
    org = [i for i in s["instances"] if i["owner"] == mgmt]
    by_owner = {i["owner"]: i for i in s["instances"] if i["owner"] != mgmt}
    instances_by_account = {}
    for acct in audited:
        stores = [i["identity_store_id"] for i in org]
        if acct in by_owner:
            stores.append(by_owner[acct]["identity_store_id"])
        instances_by_account[acct] = stores
    reachable = {st for v in instances_by_account.values() for st in v}

    stores: dict[str, dict[str, Any]] = {}
    for i in s["instances"]:
        stores[i["identity_store_id"]] = {
            "owner": i["owner"], "region": i["region"], "organization_instance": i["owner"] == mgmt,
            "audited": i["identity_store_id"] in reachable,
            "users": 0, "users_without_email": 0, "users_with_several_emails": 0, "groups": 0,
            "empty_groups": 0, "memberships": 0, "applications": 0, "assignments": 0,
            "user_assignments": 0, "group_assignments": 0}
    seen: dict[str, set[str]] = {}
    for u in s["users"]:
        st = stores[u["store"]]
        st["users"] += 1
        if not u["emails"]:
            st["users_without_email"] += 1
        if len(u["emails"]) > 1:
            st["users_with_several_emails"] += 1
        if u["store"] in reachable:
            for e in u["emails"]:
                seen.setdefault(norm_email(e), set()).add(u["store"])
    for g in s["groups"]:
        st = stores[g["store"]]
        st["groups"] += 1
        st["memberships"] += len(g["members"])
        st["empty_groups"] += 0 if g["members"] else 1
    for app in s["applications"]:
        st = stores[app["instance"]]
        st["applications"] += 1
        st["assignments"] += len(app["assignments"])
        st["user_assignments"] += sum(1 for a in app["assignments"] if a["principal_type"] == "USER")
        st["group_assignments"] += sum(1 for a in app["assignments"] if a["principal_type"] == "GROUP")
    duplicates = {email: sorted(found) for email, found in sorted(seen.items()) if len(found) > 1}
    return {
        "accounts_total": len(s["accounts"]),
        "audited_accounts": audited,
        "skipped_accounts": skipped,
        "failed_accounts": failed,
        "instances_by_account": instances_by_account,
        "stores": stores,
        "duplicated_users": duplicates,
    }
