#!/usr/bin/env python3
"""Deterministic generator of large organizations for the emulator (benchmarks, load tests).

    generate.py --accounts N --account-instances M --users U --seed S
                [--groups G] [--apps-per-instance A] [--members-per-group K]
                [--suspended X] [--without-role Y] [--permission-sets P --pairs Q]
                [--big-group B --big-group-accounts BA --big-group-permission-sets BP]
                [-o scenario.json]

The same arguments always give the same scenario. The management account owns the
organization instance; M member accounts own an account instance (every tenth of them in
another Region). Users are spread over the organization store (about half) and the account
stores; a share of account-store users reuse the email of an organization user (some with
other case or surrounding spaces), about 2% have no email and 5% two emails. Groups have
members from their own store, some groups are empty, and every instance has applications
with USER and GROUP assignments. Every account has the member role unless --without-role
says otherwise; --suspended accounts are SUSPENDED. With --permission-sets P the
organization instance has P permission sets and Q (--pairs) provisioned (account,
permission set) pairs: the first permission sets go to up to 150 and 120 accounts (more
than one page of ListAccountsForProvisionedPermissionSet), the rest are spread at random;
each pair has 1 to 3 assignments (users and groups of the organization store).
--big-group B adds an `all-staff` group of B organization users, assigned to the first BA
accounts under the first BP permission sets (B x BA x BP report rows: 50,000 x 20 x 5 is
the 5-million-row memory benchmark). Without these options the scenario is the same as
before they existed. `emulator.py --scenario gen:...` calls `generate()` in-process with
the same keys.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

PROVIDERS = [
    "arn:aws:sso::aws:applicationProvider/custom",
    "arn:aws:sso::aws:applicationProvider/custom-saml",
    "arn:aws:sso::aws:applicationProvider/catalog/slack",
    "arn:aws:sso::aws:applicationProvider/catalog/salesforce",
    "arn:aws:sso::aws:applicationProvider/codecatalyst",
]
FIRST = ["ana", "ben", "chen", "dana", "eli", "fatima", "goran", "hana", "ivan", "jo", "kai", "lena",
         "mo", "nina", "omar", "pia", "quinn", "rui", "sara", "tomas", "uma", "vik", "wen", "yara", "zoe"]
LAST = ["smith", "garcia", "kim", "novak", "okafor", "patel", "rossi", "silva", "tanaka", "weber",
        "ng", "haddad", "larsen", "moreau", "ivanova", "lopez", "singh", "chowdhury", "berg", "costa"]


def generate(accounts: int = 10, account_instances: int = 2, users: int = 100, seed: int = 7,
             groups: int | None = None, apps_per_instance: int | None = None,
             members_per_group: int | None = None, suspended: int = 0, without_role: int = 0,
             other_region: str = "eu-west-1", home_region: str = "us-east-1",
             management_account: str = "111122223333", permission_sets: int = 0, pairs: int = 0,
             big_group: int = 0, big_group_accounts: int = 0,
             big_group_permission_sets: int = 0) -> dict[str, Any]:
    if accounts < 1:
        raise ValueError("accounts must be >= 1 (the management account)")
    members = accounts - 1
    if account_instances > members:
        raise ValueError("account_instances cannot exceed the number of member accounts")
    if suspended + without_role > members:
        raise ValueError("suspended + without_role cannot exceed the number of member accounts")
    rng = random.Random(seed)
    groups = max(1, users // 50) if groups is None else groups
    apps_per_instance = 2 if apps_per_instance is None else apps_per_instance
    members_per_group = 10 if members_per_group is None else members_per_group

    mgmt = management_account
    member_ids = [f"{200000000000 + i:012d}" for i in range(1, members + 1)]
    accts = [{"id": mgmt, "name": "Management", "email": "aws-management@example.com",
              "state": "ACTIVE", "has_role": True}]
    # Which members own an account instance, are suspended or lack the role: fixed by seed.
    order = member_ids[:]
    rng.shuffle(order)
    with_instance = set(order[:account_instances])
    rest = order[account_instances:] + order[:account_instances]
    suspended_ids = set(rest[:suspended])
    no_role_ids = set(rest[suspended:suspended + without_role])
    for aid in member_ids:
        accts.append({"id": aid, "name": f"member-{aid[-6:]}", "email": f"aws+{aid}@example.com",
                      "state": "SUSPENDED" if aid in suspended_ids else "ACTIVE",
                      "has_role": aid not in no_role_ids})

    seen_stores: set[str] = set()

    def store_id(n: int) -> str:
        while True:
            sid = f"d-{rng.getrandbits(40):010x}"
            if sid not in seen_stores:
                seen_stores.add(sid)
                return sid

    instances = [{"owner": mgmt, "region": home_region, "name": "organization",
                  "identity_store_id": store_id(0), "instance_id": f"ssoins-{rng.getrandbits(64):016x}"}]
    for n, aid in enumerate(sorted(with_instance)):
        instances.append({"owner": aid, "region": other_region if n % 10 == 9 else home_region,
                          "name": f"acct-{aid[-6:]}", "identity_store_id": store_id(n + 1),
                          "instance_id": f"ssoins-{rng.getrandbits(64):016x}"})
    stores = [i["identity_store_id"] for i in instances]
    org_store = stores[0]

    # Users: half in the org store, the rest round-robin over the account stores.
    user_list: list[dict[str, Any]] = []
    per_store: dict[str, list[str]] = {s: [] for s in stores}
    org_emails: list[str] = []
    used_emails: dict[str, set[str]] = {s: set() for s in stores}
    for n in range(users):
        if len(stores) == 1 or n % 2 == 0:
            store = org_store
        else:
            store = stores[1 + (n // 2) % (len(stores) - 1)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first}.{last}.{n}"
        roll = rng.random()
        emails: list[str] = []
        if roll < 0.02:
            emails = []
        else:
            own = f"{name}@example.com"
            if store != org_store and org_emails and roll < 0.17:
                # the same person in a second store: same email, sometimes cased or padded
                dup = rng.choice(org_emails)
                style = rng.random()
                own = dup.upper() if style < 0.2 else (f" {dup} " if style < 0.3 else dup)
            emails = [own]
            if roll > 0.95:
                emails.append(f"{name}@alt.example.org")
        emails = [e for e in emails if e.strip().lower() not in used_emails[store]]
        for e in emails:
            used_emails[store].add(e.strip().lower())
        if store == org_store and emails:
            org_emails.append(emails[0])
        user_list.append({"store": store, "user_name": name, "display_name": f"{first.title()} {last.title()}",
                          "emails": emails})
        per_store[store].append(name)

    # Groups: spread like users; one in twenty is empty.
    group_list: list[dict[str, Any]] = []
    per_store_groups: dict[str, list[str]] = {s: [] for s in stores}
    for n in range(groups):
        store = org_store if (len(stores) == 1 or n % 2 == 0) else stores[1 + (n // 2) % (len(stores) - 1)]
        pool = per_store[store]
        k = 0 if n % 20 == 19 else min(members_per_group, len(pool))
        members_ = rng.sample(pool, k) if k else []
        gname = f"group-{n:05d}"
        group_list.append({"store": store, "name": gname, "members": members_})
        per_store_groups[store].append(gname)

    apps: list[dict[str, Any]] = []
    for inst in instances:
        store = inst["identity_store_id"]
        for a in range(apps_per_instance):
            assignments = []
            for u in rng.sample(per_store[store], min(3, len(per_store[store]))):
                assignments.append({"principal_type": "USER", "principal": u})
            for g in rng.sample(per_store_groups[store], min(2, len(per_store_groups[store]))):
                assignments.append({"principal_type": "GROUP", "principal": g})
            apps.append({"instance": store, "name": f"app-{a:03d}-{store[2:8]}",
                         "provider": PROVIDERS[(a + len(apps)) % len(PROVIDERS)], "status": "ENABLED",
                         "assignments": assignments})

    scenario = {
        "management_account": mgmt,
        "home_region": home_region,
        "role_name": "idc-lambda-service-role",
        "delegated_admin": None,
        "generator": {"accounts": accounts, "account_instances": account_instances, "users": users,
                      "seed": seed, "groups": groups, "apps_per_instance": apps_per_instance,
                      "members_per_group": members_per_group, "suspended": suspended,
                      "without_role": without_role},
        "accounts": accts,
        "instances": instances,
        "users": user_list,
        "groups": group_list,
        "applications": apps,
    }
    if permission_sets or pairs or big_group:
        _access(scenario, seed, permission_sets, pairs, big_group, big_group_accounts,
                big_group_permission_sets, per_store[org_store], per_store_groups[org_store], org_store)
    return scenario


# The first permission sets are provisioned to this many accounts (when there are that many).
HEAVY_PAIRS = (150, 120)


def _access(scenario: dict[str, Any], seed: int, permission_sets: int, pairs: int, big_group: int,
            big_group_accounts: int, big_group_permission_sets: int, org_users: list[str],
            org_groups: list[str], org_store: str) -> None:
    """Permission sets, provisioned pairs and account assignments (a random stream of its own,
    so that the rest of the scenario is the same with or without them)."""
    account_ids = [a["id"] for a in scenario["accounts"]]
    if pairs > permission_sets * len(account_ids):
        raise ValueError("pairs cannot exceed permission_sets x accounts")
    if big_group_permission_sets > permission_sets or big_group_accounts > len(account_ids):
        raise ValueError("big_group_permission_sets/big_group_accounts exceed permission_sets/accounts")
    if big_group > len(org_users):
        raise ValueError(f"big_group: the organization store has only {len(org_users)} users")
    if (pairs or big_group) and not org_users:
        raise ValueError("account assignments need users in the organization store")
    rng = random.Random(f"access-{seed}")
    names = [f"PermissionSet{n:04d}" for n in range(permission_sets)]
    scenario["permission_sets"] = [{"name": n, "session_duration": f"PT{1 + n_ % 12}H"}
                                   for n_, n in enumerate(names)]
    chosen: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(acct: str, ps: str) -> None:
        if len(chosen) < pairs and (acct, ps) not in seen:
            seen.add((acct, ps))
            chosen.append((acct, ps))

    for n, heavy in enumerate(HEAVY_PAIRS[:permission_sets]):
        for acct in account_ids[:heavy]:
            add(acct, names[n])
    if len(chosen) < pairs:
        # every remaining pair, in a seeded order (no rejection loop when pairs is near the total)
        rest = [(a, p) for p in names for a in account_ids if (a, p) not in seen]
        rng.shuffle(rest)
        for acct, ps in rest[:pairs - len(chosen)]:
            add(acct, ps)
    assignments: list[dict[str, Any]] = []
    for acct, ps in chosen:
        principals: set[tuple[str, str]] = set()
        for _ in range(rng.randint(1, 3)):
            if org_groups and rng.random() < 0.4:
                principals.add(("GROUP", rng.choice(org_groups)))
            else:
                principals.add(("USER", rng.choice(org_users)))
        for ptype, principal in sorted(principals):
            assignments.append({"account": acct, "permission_set": ps, "principal_type": ptype,
                                "principal": principal})
    if big_group:
        scenario["groups"].append({"store": org_store, "name": "all-staff", "members": org_users[:big_group]})
        for ps in names[:big_group_permission_sets]:
            for acct in account_ids[:big_group_accounts]:
                assignments.append({"account": acct, "permission_set": ps, "principal_type": "GROUP",
                                    "principal": "all-staff"})
    scenario["account_assignments"] = assignments
    scenario["generator"].update(permission_sets=permission_sets, pairs=pairs, big_group=big_group,
                                 big_group_accounts=big_group_accounts,
                                 big_group_permission_sets=big_group_permission_sets)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--accounts", type=int, required=True)
    p.add_argument("--account-instances", type=int, required=True)
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--groups", type=int)
    p.add_argument("--apps-per-instance", type=int)
    p.add_argument("--members-per-group", type=int)
    p.add_argument("--suspended", type=int, default=0)
    p.add_argument("--without-role", type=int, default=0)
    p.add_argument("--other-region", default="eu-west-1")
    p.add_argument("--permission-sets", type=int, default=0)
    p.add_argument("--pairs", type=int, default=0)
    p.add_argument("--big-group", type=int, default=0)
    p.add_argument("--big-group-accounts", type=int, default=0)
    p.add_argument("--big-group-permission-sets", type=int, default=0)
    p.add_argument("-o", "--output", help="write here instead of stdout")
    a = p.parse_args(argv)
    scenario = generate(accounts=a.accounts, account_instances=a.account_instances, users=a.users,
                        seed=a.seed, groups=a.groups, apps_per_instance=a.apps_per_instance,
                        members_per_group=a.members_per_group, suspended=a.suspended,
                        without_role=a.without_role, other_region=a.other_region,
                        permission_sets=a.permission_sets, pairs=a.pairs, big_group=a.big_group,
                        big_group_accounts=a.big_group_accounts,
                        big_group_permission_sets=a.big_group_permission_sets)
    text = json.dumps(scenario, indent=1)
    if a.output:
        with open(a.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
