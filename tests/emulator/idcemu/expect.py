"""What a correct audit of a scenario reports, computed from the scenario itself.

Used to write the `expected` block of the shipped scenarios and by the emulator's tests.
The rules are AWS's: accounts whose State is not ACTIVE cannot be entered (skipped);
AssumeRole fails where the member role is missing or named otherwise (failed); the
management account is read with the caller's own credentials; every audited account sees
the organization instance plus its own account instance (ALL_REGIONS); a duplicated user
is one email, compared trimmed and case-insensitively, present in two or more stores.

Access (`access()`): the permission sets of the organization instance, the provisioned
(account, permission set) pairs, the account assignments as ListAccountAssignments lists
them, and `account_assignment_rows`, the exact rows of the audit's `account_assignments`
report (columns `ACCOUNT_ASSIGNMENT_COLUMNS`, sorted): one row per USER assignment, one
per member of an assigned GROUP (the principal columns name the group, the user columns
the member), one row with empty user columns for an assigned group without members, no
row for a pair provisioned without assignment, every account whatever its State.
"""

from __future__ import annotations

from typing import Any

from . import ids
from .scenario import norm_email

ACCOUNT_ASSIGNMENT_COLUMNS = [
    "InstanceArn", "IdentityStoreId", "AccountId", "AccountName", "PermissionSetArn", "PermissionSetName",
    "PrincipalType", "PrincipalId", "PrincipalName", "UserId", "UserName", "UserEmail", "UserStatus",
]


def user_email(emails: list[str]) -> str:
    """The UserEmail cell: every email of the user, trimmed, in stored order, joined with ", "."""
    return ", ".join(e.strip() for e in emails)


def access(s: dict[str, Any]) -> dict[str, Any]:
    """The access facts of a checked scenario (see the module's text)."""
    org = next((i for i in s["instances"] if i["owner"] == s["management_account"]), None)
    if org is None or not s.get("permission_sets"):
        return {"permission_sets": 0, "provisioned_pairs": 0, "account_assignments": 0,
                "account_assignment_columns": ACCOUNT_ASSIGNMENT_COLUMNS, "account_assignment_rows": []}
    store = org["identity_store_id"]
    ins_id = ids.instance_id(org)
    ins_arn = ids.instance_arn(ins_id)
    ps_arn = {p["name"]: ids.permission_set_arn(ins_id, ids.permission_set_id(ins_id, p["name"]))
              for p in s["permission_sets"]}
    account_name = {a["id"]: a["name"] for a in s["accounts"]}
    users = {u["user_name"]: u for u in s["users"] if u["store"] == store}
    groups = {g["name"]: g for g in s["groups"] if g["store"] == store}
    pairs = {(p["account"], p["permission_set"]) for p in s.get("provisioned", [])}
    pairs |= {(a["account"], a["permission_set"]) for a in s["account_assignments"]}

    def user_cells(u: dict[str, Any]) -> list[str]:
        return [ids.user_id(u), u["user_name"], user_email(u["emails"]), u.get("status", "ENABLED")]

    rows: list[list[str]] = []
    for a in s["account_assignments"]:
        head = [ins_arn, store, a["account"], account_name[a["account"]], ps_arn[a["permission_set"]],
                a["permission_set"], a["principal_type"]]
        if a["principal_type"] == "USER":
            u = users[a["principal"]]
            rows.append(head + [ids.user_id(u), u["user_name"]] + user_cells(u))
            continue
        g = groups[a["principal"]]
        principal = [ids.group_id(g), g["name"]]
        if not g["members"]:
            rows.append(head + principal + ["", "", "", ""])
        for m in g["members"]:
            rows.append(head + principal + user_cells(users[m]))
    rows.sort()
    return {
        "permission_sets": len(s["permission_sets"]),
        "provisioned_pairs": len(pairs),
        "account_assignments": len(s["account_assignments"]),
        "account_assignment_columns": ACCOUNT_ASSIGNMENT_COLUMNS,
        "account_assignment_rows": rows,
    }


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
    disabled: dict[str, list[str]] = {}
    for u in s["users"]:
        if u.get("status") == "DISABLED":
            disabled.setdefault(u["store"], []).append(u["user_name"])
    duplicates = {email: sorted(found) for email, found in sorted(seen.items()) if len(found) > 1}
    return {
        "accounts_total": len(s["accounts"]),
        "audited_accounts": audited,
        "skipped_accounts": skipped,
        "failed_accounts": failed,
        "instances_by_account": instances_by_account,
        "stores": stores,
        "duplicated_users": duplicates,
        "disabled_users": {st: sorted(names) for st, names in sorted(disabled.items())},
        **access(s),
    }
