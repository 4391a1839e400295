"""The organization the emulator serves, and its fast insertion into moto's backends.

`World` holds what moto has no model for (Identity Center instances, applications,
application assignments, permission sets, their provisioning and account assignments,
user status, which account may see what, which access keys belong to which account) and puts the rest straight into moto's in-process backends: the organization and
its accounts (with their State) into moto's Organizations backend, users, groups and
memberships into moto's Identity Store backend of the instance owner's account and Region.
Nothing goes through HTTP, so 1,000 accounts and 50,000 users load in seconds.
Identifiers derive from a hash of the scenario's names, so they are the same on every load.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from moto.identitystore.models import Group as MotoGroup
from moto.identitystore.models import IdentityStoreData, Name, identitystore_backends
from moto.identitystore.models import User as MotoUser
from moto.organizations.models import FakeAccount, organizations_backends

from . import ids as ids_mod
from .ids import (PARTITION, _hex, instance_arn, permission_set_arn, permission_set_id,  # noqa: F401
                  principal_id)
from .regions import OPT_IN_REGIONS

EPOCH = dt.datetime(2023, 11, 15)  # naive UTC, as moto keeps its timestamps
EPOCH_SECONDS = (EPOCH - dt.datetime(1970, 1, 1)).total_seconds()

# Organizations' Account.Status (being retired) for each Account.State.
STATUS_FOR_STATE = {
    "ACTIVE": "ACTIVE",
    "PENDING_ACTIVATION": "ACTIVE",
    "SUSPENDED": "SUSPENDED",
    "PENDING_CLOSURE": "PENDING_CLOSURE",
    "CLOSED": "SUSPENDED",
}




def plain_uuid(*parts: str) -> str:
    h = _hex(*parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# An access key id `AKIAACCOUNT` + 12 digits belongs to that account (when it is in the
# scenario): the "own credentials" of an account other than the management account.
ACCOUNT_KEY_RE = re.compile(r"AKIAACCOUNT(\d{12})")


def store_arn(owner: str, store_id: str) -> str:
    return f"arn:{PARTITION}:identitystore::{owner}:identitystore/{store_id}"


@dataclass


class Instance:
    instance_id: str
    owner: str
    region: str
    name: str
    store_id: str
    status: str
    created: float
    is_org: bool
    additional_regions: list[str] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return instance_arn(self.instance_id)

    @property
    def store_arn(self) -> str:
        return store_arn(self.owner, self.store_id)

    def regions(self) -> list[str]:
        return [self.region] + [r for r in self.additional_regions if r != self.region]

    def serves(self, region: str) -> bool:
        return region in self.regions()

    def metadata(self, with_regions: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "InstanceArn": self.arn,
            "IdentityStoreId": self.store_id,
            "IdentityStoreArn": self.store_arn,
            "OwnerAccountId": self.owner,
            "Name": self.name,
            "CreatedDate": self.created,
            "Status": self.status,
        }
        # An instance still being created (or whose creation failed) has no identity
        # store to name yet (botocore's model makes both members optional).
        if self.status in ("CREATE_IN_PROGRESS", "CREATE_FAILED"):
            del out["IdentityStoreId"], out["IdentityStoreArn"]
        if with_regions:
            out["PrimaryRegion"] = self.region
            out["Regions"] = [
                {"RegionName": r, "Status": "ACTIVE", "AddedDate": self.created,
                 "IsPrimaryRegion": r == self.region}
                for r in self.regions()
            ]
        return out


@dataclass
class Application:
    app_id: str
    instance: Instance
    account: str
    name: str
    provider: str
    status: str
    created: float
    region: str
    description: str | None = None
    portal_options: dict[str, Any] = field(default_factory=lambda: {
        "SignInOptions": {"Origin": "IDENTITY_CENTER"}, "Visibility": "ENABLED"})
    # (principal_type, principal_id) -> None, in insertion order
    assignments: dict[tuple[str, str], None] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:{PARTITION}:sso::{self.account}:application/{self.instance.instance_id}/{self.app_id}"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ApplicationArn": self.arn,
            "ApplicationProviderArn": self.provider,
            "Name": self.name,
            "ApplicationAccount": self.account,
            "InstanceArn": self.instance.arn,
            "IdentityStoreArn": self.instance.store_arn,
            "Status": self.status,
            "PortalOptions": self.portal_options,
            "CreatedDate": self.created,
            "CreatedFrom": self.region,
        }
        if self.description:
            out["Description"] = self.description
        return out


@dataclass
class PermissionSet:
    ps_id: str
    instance: Instance
    name: str
    created: float
    description: str | None = None
    session_duration: str = "PT1H"
    relay_state: str | None = None

    @property
    def arn(self) -> str:
        return permission_set_arn(self.instance.instance_id, self.ps_id)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name, "PermissionSetArn": self.arn, "CreatedDate": self.created,
                               "SessionDuration": self.session_duration}
        if self.description:
            out["Description"] = self.description
        if self.relay_state:
            out["RelayState"] = self.relay_state
        return out


@dataclass(frozen=True)
class AssumedSession:
    """Temporary credentials AssumeRole issued, and whose they are."""

    account: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: str
    user_id: str
    arn: str


class World:
    """Everything the scenario holds that moto does not model, plus who may see what."""

    def __init__(self, scenario: dict[str, Any]):
        self.scenario = scenario
        self.management: str = scenario["management_account"]
        self.home_region: str = scenario["home_region"]
        self.role_name: str = scenario["role_name"]
        self.delegated_admin: str | None = scenario["delegated_admin"]
        self.quirks: dict[str, Any] = dict(scenario.get("quirks") or {})
        self.accounts: dict[str, dict[str, Any]] = {a["id"]: a for a in scenario["accounts"]}
        self.instances: dict[str, Instance] = {}          # by instance ARN
        self.by_store: dict[str, Instance] = {}           # by identity store id
        self.apps: dict[str, Application] = {}            # by application ARN
        self.apps_by_instance: dict[str, list[Application]] = {}
        self.sessions: dict[str, AssumedSession] = {}     # AssumeRole access key -> session
        self.permission_sets: dict[str, PermissionSet] = {}  # by permission set ARN
        self.ps_by_instance: dict[str, list[PermissionSet]] = {}
        # permission set ARN -> accounts it is provisioned to, in provisioning order; and
        # the same pairs by account
        self.provisioned: dict[str, dict[str, None]] = {}
        self.provisioned_to_account: dict[str, dict[str, None]] = {}
        # (account, permission set ARN) -> {(principal_type, principal_id): None}, in order
        self.account_assignments: dict[tuple[str, str], dict[tuple[str, str], None]] = {}
        self.disabled_users: set[str] = set()             # UserIds whose UserStatus is DISABLED
        self._by_principal: dict[tuple[str, str], list[tuple[str, str]]] | None = None
        self.lock = threading.RLock()                     # guards moto and the maps above
        self.load_seconds = 0.0

    # ---- accounts and credentials -------------------------------------------------
    def account_for_key(self, access_key: str | None) -> str:
        """Keys issued by AssumeRole belong to the role's account; `AKIAACCOUNT` + 12 digits
        to that account when it is in the scenario; any other key is management's."""
        if access_key:
            session = self.sessions.get(access_key)
            if session is not None:
                return session.account
            own = ACCOUNT_KEY_RE.fullmatch(access_key)
            if own is not None and own.group(1) in self.accounts:
                return own.group(1)
        return self.management

    def region_enabled(self, account: str, region: str) -> bool:
        """Whether `account` may call `region`: every Region enabled by default, and the
        opt-in Regions the scenario's `enabled_regions` lists for the account."""
        if region not in OPT_IN_REGIONS:
            return True
        info = self.accounts.get(account) or {}
        return region in info.get("enabled_regions", [])

    def role_check(self, role_arn: str) -> str | None:
        """Why AssumeRole into `role_arn` fails, or None when it succeeds."""
        parts = role_arn.split(":")
        if len(parts) < 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
            return "invalid"
        acct = parts[4]
        role = parts[5].split("/")[-1]
        info = self.accounts.get(acct)
        if info is None:
            return "unknown account"
        if info["state"] != "ACTIVE":
            return f"account {info['state']}"
        if not info.get("has_role", True):
            return "no role"
        if role != info.get("role_name", self.role_name):
            return "no such role"
        return None

    def member(self, acct: str) -> bool:
        return acct in self.accounts

    # ---- visibility -------------------------------------------------------------
    def can_see_instance(self, caller: str, inst: Instance) -> bool:
        """ListInstances: the org instance shows in every org account, an account instance to its owner."""
        return inst.owner == caller or (inst.is_org and self.member(caller))

    def can_manage_instance(self, caller: str, inst: Instance) -> bool:
        """Read the instance's store and applications: its owner, and for the org instance the delegated admin."""
        return inst.owner == caller or (inst.is_org and caller == self.delegated_admin)

    def instance(self, arn: str | None, region: str) -> Instance | None:
        inst = self.instances.get(arn or "")
        return inst if inst is not None and inst.serves(region) else None

    # ---- building -----------------------------------------------------------------
    def add_instance(self, owner: str, region: str, store_id: str, instance_id: str,
                     name: str = "", status: str = "ACTIVE", created: float | None = None,
                     additional_regions: list[str] | None = None) -> Instance:
        inst = Instance(instance_id=instance_id, owner=owner, region=region, name=name,
                        store_id=store_id, status=status,
                        created=created if created is not None else time.time(),
                        is_org=owner == self.management,
                        additional_regions=list(additional_regions or []))
        self.instances[inst.arn] = inst
        self.by_store[store_id] = inst
        self.apps_by_instance[inst.arn] = []
        self.ps_by_instance[inst.arn] = []
        store_backend = identitystore_backends[owner][region]
        store_backend.identity_stores.setdefault(store_id, IdentityStoreData())
        return inst

    def remove_instance(self, inst: Instance) -> None:
        for app in self.apps_by_instance.pop(inst.arn, []):
            self.apps.pop(app.arn, None)
        for ps in list(self.ps_by_instance.get(inst.arn, [])):
            self.remove_permission_set(ps)
        self.ps_by_instance.pop(inst.arn, None)
        self.instances.pop(inst.arn, None)
        self.by_store.pop(inst.store_id, None)
        identitystore_backends[inst.owner][inst.region].identity_stores.pop(inst.store_id, None)

    def add_application(self, inst: Instance, account: str, name: str, provider: str,
                        status: str = "ENABLED", app_id: str | None = None,
                        created: float | None = None, description: str | None = None,
                        portal_options: dict[str, Any] | None = None) -> Application:
        app = Application(app_id=app_id or f"apl-{_hex('app', inst.instance_id, name, str(time.time_ns()), n=16)}",
                          instance=inst, account=account, name=name, provider=provider,
                          status=status, created=created if created is not None else time.time(),
                          region=inst.region, description=description)
        if portal_options:
            app.portal_options = portal_options
        self.apps[app.arn] = app
        self.apps_by_instance[inst.arn].append(app)
        return app

    def remove_application(self, app: Application) -> None:
        self.apps.pop(app.arn, None)
        lst = self.apps_by_instance.get(app.instance.arn, [])
        if app in lst:
            lst.remove(app)

    # ---- permission sets and account assignments -------------------------------------
    def add_permission_set(self, inst: Instance, name: str, description: str | None = None,
                           session_duration: str | None = None, relay_state: str | None = None,
                           created: float | None = None) -> PermissionSet:
        ps = PermissionSet(ps_id=permission_set_id(inst.instance_id, name), instance=inst, name=name,
                           created=created if created is not None else time.time(),
                           description=description, session_duration=session_duration or "PT1H",
                           relay_state=relay_state)
        self.permission_sets[ps.arn] = ps
        self.ps_by_instance[inst.arn].append(ps)
        self.provisioned[ps.arn] = {}
        return ps

    def remove_permission_set(self, ps: PermissionSet) -> None:
        for acct in self.provisioned.pop(ps.arn, {}):
            self.provisioned_to_account.get(acct, {}).pop(ps.arn, None)
            self.account_assignments.pop((acct, ps.arn), None)
        self._by_principal = None
        self.permission_sets.pop(ps.arn, None)
        lst = self.ps_by_instance.get(ps.instance.arn, [])
        if ps in lst:
            lst.remove(ps)

    def assignments_of_principal(self, principal_type: str, principal: str) -> list[tuple[str, str]]:
        """(account, permission set ARN) of every account assignment of one principal, from an
        index rebuilt only after assignments change."""
        if self._by_principal is None:
            index: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for pair, principals in self.account_assignments.items():
                for key in principals:
                    index.setdefault(key, []).append(pair)
            self._by_principal = index
        return self._by_principal.get((principal_type, principal), [])

    def unassign(self, account: str, ps_arn: str, principal_type: str, principal: str) -> bool:
        found = self.account_assignments.get((account, ps_arn), {}).pop((principal_type, principal), 0) is None
        self._by_principal = None
        return found

    def provision(self, account: str, ps_arn: str) -> None:
        self.provisioned[ps_arn][account] = None
        self.provisioned_to_account.setdefault(account, {})[ps_arn] = None

    def assign(self, account: str, ps_arn: str, principal_type: str, principal: str) -> None:
        """An account assignment; like CreateAccountAssignment it provisions the pair."""
        self.provision(account, ps_arn)
        self.account_assignments.setdefault((account, ps_arn), {})[(principal_type, principal)] = None
        self._by_principal = None

    def set_user_status(self, body: Any) -> dict[str, Any]:
        """Test-only (admin API): set a user's UserStatus. AWS has no public API for it
        (Identity Store's model has UserStatus on ListUsers/DescribeUser answers only;
        users are disabled in the console or by the external identity provider)."""
        if not isinstance(body, dict) or set(body) - {"identity_store_id", "user_id", "status"}:
            raise ValueError("body: {\"identity_store_id\": ..., \"user_id\": ..., \"status\": \"ENABLED\"|\"DISABLED\"}")
        store, user_id, status = body.get("identity_store_id"), body.get("user_id"), body.get("status")
        if status not in ("ENABLED", "DISABLED"):
            raise ValueError("status must be ENABLED or DISABLED")
        inst = self.by_store.get(store or "")
        if inst is None or user_id not in self.store_data(inst).users:
            raise ValueError(f"no user {user_id!r} in identity store {store!r}")
        if status == "DISABLED":
            self.disabled_users.add(user_id)
        else:
            self.disabled_users.discard(user_id)
        return {"identity_store_id": store, "user_id": user_id, "status": status}

    def user_status(self, user_id: str) -> str:
        return "DISABLED" if user_id in self.disabled_users else "ENABLED"

    def store_data(self, inst: Instance) -> IdentityStoreData:
        return identitystore_backends[inst.owner][inst.region].identity_stores[inst.store_id]

    def summary(self) -> dict[str, Any]:
        stores = [self.store_data(i) for i in self.instances.values()]
        states: dict[str, int] = {}
        for a in self.accounts.values():
            states[a["state"]] = states.get(a["state"], 0) + 1
        return {
            "management_account": self.management,
            "delegated_admin": self.delegated_admin,
            "home_region": self.home_region,
            "role_name": self.role_name,
            "accounts": len(self.accounts),
            "accounts_by_state": states,
            "accounts_without_role": sum(1 for a in self.accounts.values() if not a.get("has_role", True)),
            "instances": len(self.instances),
            "organization_instances": sum(1 for i in self.instances.values() if i.is_org),
            "account_instances": sum(1 for i in self.instances.values() if not i.is_org),
            "stores": len(stores),
            "users": sum(len(s.users) for s in stores),
            "groups": sum(len(s.groups) for s in stores),
            "memberships": sum(len(s.group_memberships) for s in stores),
            "applications": len(self.apps),
            "assignments": sum(len(a.assignments) for a in self.apps.values()),
            "permission_sets": len(self.permission_sets),
            "provisioned_pairs": sum(len(v) for v in self.provisioned.values()),
            "account_assignments": sum(len(v) for v in self.account_assignments.values()),
            "disabled_users": len(self.disabled_users),
            "load_seconds": round(self.load_seconds, 3),
        }


def _split_name(display: str) -> Name:
    parts = display.split()
    given = parts[0] if parts else display
    family = " ".join(parts[1:]) if len(parts) > 1 else display
    return Name(Formatted=display, FamilyName=family, GivenName=given, MiddleName=None,
                HonorificPrefix=None, HonorificSuffix=None)


def _load_organization(world: World, s: dict[str, Any]) -> None:
    mgmt = world.management
    backend = organizations_backends[mgmt][PARTITION]
    backend.create_organization(region=world.home_region, FeatureSet="ALL")
    org = backend.org
    assert org is not None
    master = backend.accounts[0]
    template = master.__dict__
    for idx, a in enumerate(s["accounts"]):
        joined = EPOCH + dt.timedelta(minutes=idx)
        if a["id"] == mgmt:
            acc = master
        else:
            acc = FakeAccount.__new__(FakeAccount)  # skip moto's per-account IAM role creation
            acc.__dict__.update(template)
            acc.id = a["id"]
            acc.create_account_status_id = f"car-{_hex('car', a['id'], n=8)}"
            acc.attached_policies = []
            acc.tags = {}
            acc.joined_method = a.get("joined_method", "INVITED")
            backend.accounts.append(acc)
            organizations_backends.master_accounts[a["id"]] = (mgmt, PARTITION)
        acc.name = a["name"]
        acc.email = a["email"]
        acc.state = a["state"]
        acc.status = STATUS_FOR_STATE[a["state"]]
        acc.create_time = joined
    org.master_account_email = world.accounts[mgmt]["email"]


def load(scenario: dict[str, Any]) -> World:
    """Build the World and fill moto's backends from a checked scenario."""
    t0 = time.perf_counter()
    world = World(scenario)
    with world.lock:
        _load_organization(world, scenario)
        created = EPOCH_SECONDS
        for i in scenario["instances"]:
            world.add_instance(
                owner=i["owner"], region=i["region"], store_id=i["identity_store_id"],
                instance_id=ids_mod.instance_id(i),
                name=i["name"], status=i["status"], created=created,
                additional_regions=i.get("additional_regions"))
        user_ids: dict[tuple[str, str], str] = {}
        for u in scenario["users"]:
            store = u["store"]
            data = world.store_data(world.by_store[store])
            uid = ids_mod.user_id(u)
            user_ids[(store, u["user_name"])] = uid
            if u.get("status") == "DISABLED":
                world.disabled_users.add(uid)
            emails = [{"Value": e, "Type": "work", "Primary": n == 0} for n, e in enumerate(u["emails"])]
            data.users[uid] = MotoUser(
                UserId=uid, IdentityStoreId=store, UserName=u["user_name"],
                Name=_split_name(u["display_name"]), DisplayName=u["display_name"],
                NickName=None, ProfileUrl=None, Emails=emails, Addresses=None, PhoneNumbers=None,
                UserType=None, Title=None, PreferredLanguage=None, Locale=None, Timezone=None)
        group_ids: dict[tuple[str, str], str] = {}
        for g in scenario["groups"]:
            store = g["store"]
            data = world.store_data(world.by_store[store])
            gid = ids_mod.group_id(g)
            group_ids[(store, g["name"])] = gid
            data.groups[gid] = MotoGroup(GroupId=gid, DisplayName=g["name"], ExternalIds=[],
                                         Description=g.get("description"), IdentityStoreId=store)
            for m in g["members"]:
                mid = plain_uuid("membership", store, g["name"], m)
                data.group_memberships[mid] = {
                    "IdentityStoreId": store, "MembershipId": mid, "GroupId": gid,
                    "MemberId": {"UserId": user_ids[(store, m)]}}
        for app_spec in scenario["applications"]:
            inst = world.by_store[app_spec["instance"]]
            app = world.add_application(
                inst, account=app_spec.get("account", inst.owner), name=app_spec["name"],
                provider=app_spec["provider"], status=app_spec["status"], created=created,
                app_id=app_spec.get("application_id") or f"apl-{_hex('app', inst.store_id, app_spec['name'], n=16)}",
                description=app_spec.get("description"))
            for asg in app_spec["assignments"]:
                key = (asg["principal_type"], asg["principal"])
                ids = user_ids if key[0] == "USER" else group_ids
                app.assignments[(key[0], ids[(inst.store_id, key[1])])] = None
        org = next((i for i in world.instances.values() if i.is_org), None)
        ps_by_name: dict[str, PermissionSet] = {}
        for spec in scenario.get("permission_sets", []):
            assert org is not None  # checked: permission sets need the organization instance
            ps_by_name[spec["name"]] = world.add_permission_set(
                org, spec["name"], description=spec.get("description"),
                session_duration=spec.get("session_duration"), relay_state=spec.get("relay_state"),
                created=created)
        for pair in scenario.get("provisioned", []):
            world.provision(pair["account"], ps_by_name[pair["permission_set"]].arn)
        for asg in scenario.get("account_assignments", []):
            assert org is not None
            ids = user_ids if asg["principal_type"] == "USER" else group_ids
            world.assign(asg["account"], ps_by_name[asg["permission_set"]].arn, asg["principal_type"],
                         ids[(org.store_id, asg["principal"])])
    world.load_seconds = time.perf_counter() - t0
    return world

