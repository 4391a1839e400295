"""Scenario files: resolve a scenario argument, read it, fill defaults and check it.

A scenario argument is a shipped name (`blog`, `messy`: tests/emulator/scenarios/NAME.json),
a path to a .json/.yaml/.yml file, or `gen:key=value,...` for the deterministic generator.
`check` rejects what AWS itself would never hold (two account instances in one account,
duplicate user names or emails in one store, members that do not exist, permission sets
without an organization instance, assignments to unknown accounts or principals, ...), so a test
never runs against an organization that cannot exist.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from .regions import OPT_IN_REGIONS

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO_DIR = os.path.join(os.path.dirname(HERE), "scenarios")

ACCOUNT_STATES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE", "CLOSED", "PENDING_ACTIVATION")
DEFAULT_ROLE = "idc-lambda-service-role"
DEFAULT_PROVIDER = "arn:aws:sso::aws:applicationProvider/custom"
GEN_KEYS = {
    "accounts": int, "account_instances": int, "users": int, "seed": int, "groups": int,
    "apps_per_instance": int, "members_per_group": int, "suspended": int, "without_role": int,
    "other_region": str, "home_region": str, "management_account": str,
    "permission_sets": int, "pairs": int, "big_group": int, "big_group_accounts": int,
    "big_group_permission_sets": int,
}
PRINCIPAL_TYPES = ("USER", "GROUP")
USER_STATUSES = ("ENABLED", "DISABLED")
# botocore's sso-admin model: PermissionSetName, Duration (AWS accepts 1 to 12 hours)
PS_NAME_RE = re.compile(r"[\w+=,.@-]{1,32}")
DURATION_RE = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?")


class ScenarioError(ValueError):
    pass


def parse_gen(spec: str) -> dict[str, Any]:
    """`accounts=1000,users=20000,...` -> keyword arguments for generate.generate()."""
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise ScenarioError(f"gen: expects key=value pairs, got {part!r}")
        key, value = (s.strip() for s in part.split("=", 1))
        if key not in GEN_KEYS:
            raise ScenarioError(f"gen: unknown key {key!r} (known: {', '.join(sorted(GEN_KEYS))})")
        try:
            out[key] = GEN_KEYS[key](value)
        except ValueError:
            raise ScenarioError(f"gen: {key} must be {GEN_KEYS[key].__name__}, got {value!r}") from None
    return out


def read(arg: str) -> dict[str, Any]:
    """The raw scenario dict for a scenario argument."""
    if arg.startswith("gen:"):
        import sys
        sys.path.insert(0, os.path.dirname(HERE))
        from generate import generate  # tests/emulator/generate.py
        return generate(**parse_gen(arg[4:]))
    path = arg
    if not os.path.exists(path) and re.fullmatch(r"[A-Za-z0-9_-]+", arg):
        path = os.path.join(SCENARIO_DIR, f"{arg}.json")
    if not os.path.exists(path):
        raise ScenarioError(f"no scenario {arg!r} (not a shipped name, a file or gen:...)")
    with open(path, encoding="utf-8") as fh:
        if path.endswith((".yaml", ".yml")):
            import yaml
            data = yaml.safe_load(fh)
        else:
            data = json.load(fh)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a JSON/YAML object")
    return data


def norm_email(value: str) -> str:
    return value.strip().lower()


def check(s: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults in place and raise ScenarioError on anything AWS could not hold."""
    def fail(msg: str) -> None:
        raise ScenarioError(msg)

    mgmt = str(s.get("management_account") or "")
    if not re.fullmatch(r"\d{12}", mgmt):
        fail("management_account must be a 12-digit account id")
    s["management_account"] = mgmt
    s.setdefault("home_region", "us-east-1")
    s.setdefault("role_name", DEFAULT_ROLE)
    s.setdefault("delegated_admin", None)
    for key in ("accounts", "instances", "users", "groups", "applications", "permission_sets",
                "account_assignments", "provisioned"):
        s.setdefault(key, [])
        if not isinstance(s[key], list):
            fail(f"{key} must be a list")

    accounts: dict[str, dict[str, Any]] = {}
    for a in s["accounts"]:
        aid = str(a.get("id", ""))
        if not re.fullmatch(r"\d{12}", aid):
            fail(f"account id {aid!r} is not 12 digits")
        if aid in accounts:
            fail(f"account {aid} listed twice")
        a["id"] = aid
        a.setdefault("name", f"account-{aid}")
        a.setdefault("email", f"aws+{aid}@example.com")
        a["state"] = str(a.get("state", "ACTIVE")).upper()
        if a["state"] not in ACCOUNT_STATES:
            fail(f"account {aid}: state {a['state']} not one of {ACCOUNT_STATES}")
        a.setdefault("has_role", True)
        accounts[aid] = a
    if mgmt not in accounts:
        fail("the management account must be listed in accounts")
    if accounts[mgmt]["state"] != "ACTIVE":
        fail("the management account must be ACTIVE")
    da = s["delegated_admin"]
    if da is not None:
        da = s["delegated_admin"] = str(da)
        if da not in accounts or da == mgmt:
            fail("delegated_admin must be a member account listed in accounts")

    stores: dict[str, dict[str, Any]] = {}
    owners_with_account_instance: set[str] = set()
    org_instances = 0
    for i in s["instances"]:
        owner = str(i.get("owner", ""))
        if owner not in accounts:
            fail(f"instance owner {owner!r} is not in accounts")
        i["owner"] = owner
        i.setdefault("region", s["home_region"])
        store = i.get("identity_store_id")
        if not store or not re.fullmatch(r"d-[0-9a-z]{10,12}", store):
            fail(f"instance of {owner}: identity_store_id must look like d-xxxxxxxxxx")
        if store in stores:
            fail(f"identity store {store} used by two instances")
        i.setdefault("name", "")
        i.setdefault("status", "ACTIVE")
        i.setdefault("additional_regions", [])
        for region in [i["region"], *i["additional_regions"]]:
            if region in OPT_IN_REGIONS and region not in accounts[owner].get("enabled_regions", []):
                fail(f"instance of {owner} in {region}: an opt-in Region its owner has not enabled "
                     f"(list it in the account's enabled_regions)")
        if i.get("instance_id") and not re.fullmatch(r"ssoins-[0-9a-z]{16}", i["instance_id"]):
            fail(f"instance_id {i['instance_id']} must look like ssoins- and 16 hex digits")
        if owner == mgmt:
            org_instances += 1
        else:
            if owner in owners_with_account_instance:
                fail(f"account {owner} owns two account instances (AWS allows one in all Regions)")
            owners_with_account_instance.add(owner)
        stores[store] = i
    if org_instances > 1:
        fail("the management account owns at most one (organization) instance")

    users_by_store: dict[str, set[str]] = {k: set() for k in stores}
    emails_by_store: dict[str, set[str]] = {k: set() for k in stores}
    for u in s["users"]:
        store = u.get("store")
        if store not in stores:
            fail(f"user {u.get('user_name')!r}: unknown store {store!r}")
        name = u.get("user_name")
        if not name:
            fail(f"a user in {store} has no user_name")
        if name in users_by_store[store]:
            fail(f"user_name {name} twice in {store}")
        users_by_store[store].add(name)
        u.setdefault("display_name", name)
        u["status"] = str(u.get("status", "ENABLED")).upper()
        if u["status"] not in USER_STATUSES:
            fail(f"user {name} in {store}: status must be ENABLED or DISABLED")
        emails = u.get("emails") or []
        if isinstance(emails, str):
            emails = [emails]
        u["emails"] = emails
        for e in emails:
            key = norm_email(e)
            if key in emails_by_store[store]:
                fail(f"email {e!r} twice in {store} (emails are unique within a store)")
            emails_by_store[store].add(key)

    groups_by_store: dict[str, set[str]] = {k: set() for k in stores}
    for g in s["groups"]:
        store = g.get("store")
        if store not in stores:
            fail(f"group {g.get('name')!r}: unknown store {store!r}")
        if not g.get("name"):
            fail(f"a group in {store} has no name")
        if g["name"] in groups_by_store[store]:
            fail(f"group {g['name']} twice in {store}")
        groups_by_store[store].add(g["name"])
        g.setdefault("members", [])
        for m in g["members"]:
            if m not in users_by_store[store]:
                fail(f"group {g['name']} in {store}: member {m!r} is not a user of that store")

    for app in s["applications"]:
        store = app.get("instance")
        if store not in stores:
            fail(f"application {app.get('name')!r}: instance {store!r} is not an identity store id of an instance")
        if not app.get("name"):
            fail(f"an application of {store} has no name")
        app.setdefault("provider", DEFAULT_PROVIDER)
        if not re.fullmatch(r"arn:aws:sso::aws:applicationProvider/[a-zA-Z0-9-/]+", app["provider"]):
            fail(f"application {app['name']}: provider must be an ApplicationProviderArn")
        app.setdefault("status", "ENABLED")
        app.setdefault("assignments", [])
        for asg in app["assignments"]:
            ptype = asg.get("principal_type")
            if ptype not in ("USER", "GROUP"):
                fail(f"application {app['name']}: principal_type must be USER or GROUP")
            pool = users_by_store[store] if ptype == "USER" else groups_by_store[store]
            if asg.get("principal") not in pool:
                fail(f"application {app['name']}: {ptype} {asg.get('principal')!r} not in {store}")
    _check_access(s, accounts, stores, users_by_store, groups_by_store, fail)
    return s


def _check_access(s: dict[str, Any], accounts: dict[str, Any], stores: dict[str, Any],
                  users_by_store: dict[str, set[str]], groups_by_store: dict[str, set[str]], fail: Any) -> None:
    """Permission sets, provisioned pairs and account assignments: organization instance only."""
    if not (s["permission_sets"] or s["account_assignments"] or s["provisioned"]):
        return
    org = [st for st, i in stores.items() if i["owner"] == s["management_account"]]
    if not org:
        fail("permission sets and account assignments need an organization instance "
             "(account instances have none)")
    org_store = org[0]
    names: set[str] = set()
    for ps in s["permission_sets"]:
        name = ps.get("name")
        if not isinstance(name, str) or not PS_NAME_RE.fullmatch(name):
            fail(f"permission set name {name!r} must be 1-32 characters of [\\w+=,.@-]")
        if name in names:
            fail(f"permission set {name} listed twice (names are unique in an instance)")
        names.add(name)
        ps.setdefault("session_duration", "PT1H")
        m = DURATION_RE.fullmatch(str(ps["session_duration"]))
        seconds = (int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60) if m else 0
        if not m or not 3600 <= seconds <= 43200:
            fail(f"permission set {name}: session_duration {ps['session_duration']!r} must be an ISO 8601 "
                 "duration from PT1H to PT12H")
        desc = ps.get("description")
        if desc is not None and not 1 <= len(desc) <= 700:
            fail(f"permission set {name}: description must be 1-700 characters")

    def pair_of(entry: dict[str, Any], what: str) -> tuple[str, str]:
        acct, ps = str(entry.get("account", "")), entry.get("permission_set")
        if acct not in accounts:
            fail(f"{what}: account {acct!r} is not in accounts")
        if ps not in names:
            fail(f"{what}: permission set {ps!r} is not in permission_sets")
        entry["account"] = acct
        return acct, ps

    seen_pairs: set[tuple[str, str]] = set()
    for entry in s["provisioned"]:
        pair = pair_of(entry, "provisioned")
        if pair in seen_pairs:
            fail(f"provisioned: {pair[1]} on {pair[0]} listed twice")
        seen_pairs.add(pair)
    seen: set[tuple[str, str, str, str]] = set()
    for asg in s["account_assignments"]:
        acct, ps = pair_of(asg, "account assignment")
        ptype = asg.get("principal_type")
        if ptype not in PRINCIPAL_TYPES:
            fail(f"account assignment of {ps} on {acct}: principal_type must be USER or GROUP")
        pool = users_by_store[org_store] if ptype == "USER" else groups_by_store[org_store]
        if asg.get("principal") not in pool:
            fail(f"account assignment of {ps} on {acct}: {ptype} {asg.get('principal')!r} is not in the "
                 f"organization store {org_store}")
        key = (acct, ps, ptype, asg["principal"])
        if key in seen:
            fail(f"account assignment of {ps} on {acct} to {ptype} {asg['principal']} listed twice")
        seen.add(key)


def load(arg: str) -> dict[str, Any]:
    return check(read(arg))
