#!/usr/bin/env python3
"""Writes the shipped scenarios blog.json and messy.json, each with its `expected` block.

Run it after changing either organization below: `python3 tests/emulator/scenarios/build.py`.
The output is deterministic; the emulator reads the JSON files, never this script. The
`expected` block (what a correct audit reports) comes from idcemu/expect.py.
"""

from __future__ import annotations

import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from idcemu.expect import expected  # noqa: E402
from idcemu.scenario import check  # noqa: E402

ROLE = "idc-lambda-service-role"
P = "arn:aws:sso::aws:applicationProvider/"


def blog() -> dict:
    """The organization of the AWS Security Blog post on multiple Identity Center instances."""
    org, a1, a2 = "d-111122223333", "d-111111111111", "d-222222222222"

    def user(store: str, name: str, display: str, *emails: str) -> dict:
        return {"store": store, "user_name": name, "display_name": display, "emails": list(emails)}

    users = [
        user(org, "username", "Admin User", "username+adminuser@domain.com"),
        user(org, "username2", "Admin User Two", "username2+adminuser@domain.com"),
        user(org, "maria.garcia", "Maria Garcia", "maria.garcia@domain.com"),
        # left the company: access disabled, assignments (and the Slack app through
        # developers) still in place
        dict(user(org, "li.wei", "Li Wei", "li.wei@domain.com"), status="DISABLED"),
        user(a1, "username", "Admin User", "username+adminuser@domain.com"),
        user(a1, "username2", "Admin User Two", "username2+adminuser@domain.com"),
        user(a1, "username3", "Admin User Three", "username3+adminuser@domain.com"),
        user(a1, "sam.okafor", "Sam Okafor", "sam.okafor@domain.com"),
        user(a2, "username2", "Admin User Two", "username2+adminuser@domain.com"),
        user(a2, "username3", "Admin User Three", "username3+adminuser@domain.com"),
        user(a2, "jo.novak", "Jo Novak", "jo.novak@domain.com"),
    ]
    groups = [
        {"store": org, "name": "admins", "members": ["username", "username2"]},
        {"store": org, "name": "developers", "members": ["maria.garcia", "li.wei"]},
        {"store": a1, "name": "codecatalyst-users", "members": ["username3", "sam.okafor"]},
        {"store": a2, "name": "sandbox", "members": ["jo.novak", "username2"]},
    ]

    def asg(*pairs: tuple[str, str]) -> list[dict]:
        return [{"principal_type": t, "principal": p} for t, p in pairs]

    apps = [
        {"instance": org, "name": "Salesforce", "provider": P + "catalog/salesforce", "status": "ENABLED",
         "assignments": asg(("USER", "maria.garcia"), ("GROUP", "admins"))},
        {"instance": org, "name": "Slack", "provider": P + "catalog/slack", "status": "ENABLED",
         "assignments": asg(("GROUP", "developers"), ("USER", "username"))},
        {"instance": a1, "name": "CodeCatalyst", "provider": P + "codecatalyst", "status": "ENABLED",
         "assignments": asg(("USER", "username"), ("GROUP", "codecatalyst-users"))},
        {"instance": a2, "name": "CodeCatalyst sandbox", "provider": P + "codecatalyst", "status": "ENABLED",
         "assignments": asg(("USER", "username3"), ("GROUP", "sandbox"))},
    ]
    mgmt, work, sb1, sb2 = "111122223333", "111122224444", "111122221111", "111122225555"
    permission_sets = [
        {"name": "AdministratorAccess", "description": "Full access", "session_duration": "PT4H"},
        {"name": "ReadOnlyAccess", "description": "Read-only access to every service", "session_duration": "PT8H"},
        {"name": "Billing", "session_duration": "PT1H",
         "relay_state": "https://console.aws.amazon.com/billing/home"},
    ]

    def access(account: str, ps: str, ptype: str, principal: str) -> dict:
        return {"account": account, "permission_set": ps, "principal_type": ptype, "principal": principal}

    account_assignments = [access(a, "AdministratorAccess", "GROUP", "admins") for a in (mgmt, work, sb1, sb2)]
    account_assignments += [access(a, "ReadOnlyAccess", "GROUP", "developers") for a in (work, sb1)]
    account_assignments += [
        access(sb2, "ReadOnlyAccess", "USER", "maria.garcia"),
        access(work, "AdministratorAccess", "USER", "li.wei"),  # DISABLED, still assigned
        access(mgmt, "Billing", "USER", "username"),
    ]
    provisioned = [{"account": work, "permission_set": "Billing"}]  # provisioned, nobody assigned
    return {
        "description": "The AWS Security Blog organization: one organization instance, two account instances.",
        "management_account": "111122223333", "home_region": "us-east-1", "role_name": ROLE,
        "delegated_admin": None,
        "accounts": [
            # StackSets never deploy the member role to the management account.
            {"id": "111122223333", "name": "Management", "email": "management@domain.com", "state": "ACTIVE",
             "has_role": False},
            {"id": "111122224444", "name": "Workloads", "email": "workloads@domain.com", "state": "ACTIVE",
             "has_role": True},
            {"id": "111122221111", "name": "Sandbox-1", "email": "sandbox1@domain.com", "state": "ACTIVE",
             "has_role": True},
            {"id": "111122225555", "name": "Sandbox-2", "email": "sandbox2@domain.com", "state": "ACTIVE",
             "has_role": True},
        ],
        "instances": [
            {"owner": "111122223333", "region": "us-east-1", "name": "organization", "identity_store_id": org,
             "instance_id": "ssoins-7223111122223333"},
            {"owner": "111122221111", "region": "us-east-1", "name": "sandbox-1", "identity_store_id": a1,
             "instance_id": "ssoins-7223111111111111"},
            {"owner": "111122225555", "region": "us-east-1", "name": "sandbox-2", "identity_store_id": a2,
             "instance_id": "ssoins-7223222222222222"},
        ],
        "users": users, "groups": groups, "applications": apps,
        "permission_sets": permission_sets, "account_assignments": account_assignments,
        "provisioned": provisioned,
    }


def messy() -> dict:
    """What real organizations hold; every quirk below is listed in README.md."""
    mgmt = "111122223333"
    org, s2, s3, s5 = "d-9067000001", "d-9067000002", "d-9067000003", "d-9067000005"
    accounts = [{"id": mgmt, "name": "Management", "email": "aws-root@corp.example.com", "state": "ACTIVE",
                 "has_role": False}]
    for n in range(1, 46):
        aid = f"1111000000{n:02d}"
        acct = {"id": aid, "name": f"workload-{n:02d}", "email": f"aws+{n:02d}@corp.example.com",
                "state": "ACTIVE", "has_role": True}
        if n == 7:
            acct.update(state="SUSPENDED", name="suspended-07")
        if n == 13:
            acct.update(state="CLOSED", name="closed-13")
        if n == 21:
            acct.update(has_role=False, name="no-role-21")
        if n == 34:
            acct.update(role_name="OrganizationAccountAccessRole", name="other-role-34")
        accounts.append(acct)
    instances = [
        {"owner": mgmt, "region": "us-east-1", "name": "corp", "identity_store_id": org,
         "instance_id": "ssoins-9067000000000001"},
        {"owner": "111100000002", "region": "us-east-1", "name": "dev-tools", "identity_store_id": s2,
         "instance_id": "ssoins-9067000000000002"},
        {"owner": "111100000003", "region": "eu-west-1", "name": "eu-sandbox", "identity_store_id": s3,
         "instance_id": "ssoins-9067000000000003"},
        {"owner": "111100000005", "region": "us-east-1", "name": "lab", "identity_store_id": s5,
         "instance_id": "ssoins-9067000000000005"},
    ]

    def user(store: str, name: str, *emails: str, display: str | None = None) -> dict:
        return {"store": store, "user_name": name, "display_name": display or name.replace(".", " ").title(),
                "emails": list(emails)}

    users = [user(org, f"user{n:04d}", f"user{n:04d}@corp.example.com") for n in range(1, 225)]
    users += [
        user(org, "no.email"),
        user(org, "two.emails", "two.emails@corp.example.com", "two.alias@corp.example.com"),
        user(org, "dup.case", "Dup.Case@Example.com"),
        user(org, "spaced", "spaced@example.com"),
        user(org, "shared.person", "shared.person@example.com"),
        user(org, "unicode.name", "zoe.muller@corp.example.com", display="Zoë Müller"),
    ]
    users += [user(s2, f"dev{n:03d}", f"dev{n:03d}@dev.example.com") for n in range(1, 129)]
    users += [user(s2, "dup.case", "dup.case@example.com"), user(s2, "shared.person", "shared.person@example.com")]
    users += [user(s3, f"eu{n:02d}", f"eu{n:02d}@eu.example.com") for n in range(1, 11)]
    users += [user(s3, "spaced", " spaced@example.com "), user(s3, "upper.five", "USER0005@CORP.EXAMPLE.COM")]
    users += [user(s5, f"lab{n}") for n in range(1, 4)]  # lab users without email
    users += [user(s5, f"lab{n}", f"lab{n}@lab.example.com") for n in range(4, 7)]
    users += [user(s5, "shared.person", "shared.person@example.com"),
              user(s5, "two.alias", "two.alias@corp.example.com")]

    org_names = [u["user_name"] for u in users if u["store"] == org]
    groups = [{"store": org, "name": "everyone-big", "members": org_names[:120]}]
    for n in range(2, 106):
        members = [] if n % 10 == 0 else org_names[n % 200: n % 200 + (n % 5) + 1]
        groups.append({"store": org, "name": f"team-{n:03d}", "members": members})
    groups += [
        {"store": s2, "name": "dev-all", "members": [f"dev{n:03d}" for n in range(1, 129)]},
        {"store": s2, "name": "dev-leads", "members": ["dev001", "dev002", "dup.case"]},
        {"store": s2, "name": "dev-empty", "members": []},
        {"store": s3, "name": "eu-empty", "members": []},
        {"store": s5, "name": "lab-all", "members": ["lab1", "lab2", "lab4", "shared.person"]},
    ]
    providers = ["custom", "custom-saml", "catalog/slack", "catalog/salesforce"]
    big = [{"principal_type": "USER", "principal": n} for n in org_names[:110]]
    big += [{"principal_type": "GROUP", "principal": f"team-{n:03d}"} for n in range(2, 42)]
    apps = [{"instance": org, "name": "app-001-portal", "provider": P + "custom-saml", "status": "ENABLED",
             "assignments": big}]
    for n in range(2, 106):
        assignments = [] if n % 25 == 0 else [
            {"principal_type": "USER", "principal": org_names[n]},
            {"principal_type": "GROUP", "principal": f"team-{n:03d}"}]
        apps.append({"instance": org, "name": f"app-{n:03d}", "provider": P + providers[n % 4],
                     "status": "DISABLED" if n % 17 == 0 else "ENABLED", "assignments": assignments})
    apps += [
        {"instance": s2, "name": "CodeCatalyst", "provider": P + "codecatalyst", "status": "ENABLED",
         "assignments": [{"principal_type": "GROUP", "principal": "dev-all"},
                         {"principal_type": "USER", "principal": "dup.case"}]},
        {"instance": s2, "name": "Q Business", "provider": P + "qbusiness", "status": "ENABLED",
         "assignments": [{"principal_type": "GROUP", "principal": "dev-empty"}]},
        {"instance": s3, "name": "CodeCatalyst EU", "provider": P + "codecatalyst", "status": "ENABLED",
         "assignments": [{"principal_type": "USER", "principal": "spaced"},
                         {"principal_type": "GROUP", "principal": "eu-empty"}]},
        {"instance": s5, "name": "Lab app without assignments", "provider": P + "codecatalyst",
         "status": "ENABLED", "assignments": []},
    ]
    for u in users:  # disabled users who keep their access
        if u["store"] == org and u["user_name"] in ("user0042", "two.emails"):
            u["status"] = "DISABLED"
    named = ["AdministratorAccess", "ReadOnlyAccess", "ViewOnlyAccess", "PowerUserAccess", "Billing"]
    permission_sets = [{"name": n, "description": f"{n} for the whole organization", "session_duration": "PT2H"}
                       for n in named]
    permission_sets += [{"name": f"Team{n:03d}Access", "session_duration": "PT1H"} for n in range(6, 106)]

    def access(account: str, ps: str, ptype: str, principal: str) -> dict:
        return {"account": account, "permission_set": ps, "principal_type": ptype, "principal": principal}

    # 150 assignments on one pair: 2 pages of ListAccountAssignments
    assignments = [access("111100000011", "AdministratorAccess", "USER", n) for n in org_names[:110]]
    assignments += [access("111100000011", "AdministratorAccess", "GROUP", f"team-{n:03d}") for n in range(2, 42)]
    # groups on several accounts: the 120-member group and an empty one
    assignments += [access(a, "ReadOnlyAccess", "GROUP", "everyone-big")
                    for a in ("111100000001", "111100000002", "111100000003")]
    assignments += [access(a, "ViewOnlyAccess", "GROUP", "team-010") for a in ("111100000004", "111100000005")]
    assignments += [
        access("111100000006", "PowerUserAccess", "USER", "two.emails"),   # DISABLED, two emails
        access("111100000008", "Billing", "USER", "no.email"),
        access("111100000009", "ViewOnlyAccess", "USER", "unicode.name"),
        access("111100000007", "ReadOnlyAccess", "USER", "user0007"),      # SUSPENDED account
        access("111100000013", "ReadOnlyAccess", "GROUP", "team-013"),     # CLOSED account
        access("111100000021", "PowerUserAccess", "GROUP", "team-021"),    # account without member role
        access(mgmt, "AdministratorAccess", "GROUP", "team-002"),          # management account
        access(mgmt, "Billing", "USER", "user0001"),
    ]
    # every permission set provisioned to one account, nobody assigned there: 2 pages of
    # ListPermissionSetsProvisionedToAccount, and no report rows
    provisioned = [{"account": "111100000010", "permission_set": p["name"]} for p in permission_sets]
    return {
        "description": "A messy organization: non-ACTIVE accounts, missing roles, email quirks, "
                       "empty groups, more than one page of everything, an account instance in eu-west-1.",
        "management_account": mgmt, "home_region": "us-east-1", "role_name": ROLE, "delegated_admin": None,
        "quirks": {"list_accounts_empty_first_page": True},
        "accounts": accounts, "instances": instances, "users": users, "groups": groups, "applications": apps,
        "permission_sets": permission_sets, "account_assignments": assignments, "provisioned": provisioned,
    }


def main() -> int:
    for name, build in (("blog", blog), ("messy", messy)):
        scenario = build()
        scenario["expected"] = expected(check(copy.deepcopy(scenario)))
        path = os.path.join(HERE, f"{name}.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(scenario, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
