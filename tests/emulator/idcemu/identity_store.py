"""identitystore: route every call to the store owner's data and enforce who may read it.

moto keys Identity Store data by the calling account and Region; AWS keys it by the
identity store. Here the backend behind every identitystore operation is the one of the
account owning the store's instance, reached only by that account and, for the
organization instance, by the delegated administrator (anyone else: AccessDeniedException;
an unknown store: ResourceNotFoundException). The list and describe operations are the
emulator's own, answered by the gateway directly (`direct`): they page in O(page) with
AWS's shapes (UserArn, Revision, UserStatus, every email kept), where moto rebuilds and
scans the whole store on every page. GetUserId (UniqueAttribute `userName` or
`emails.value`, exact match; an ExternalId never matches: scenario users have none) and
ListGroupMembershipsForMember are the emulator's too.
"""

from __future__ import annotations

from typing import Any

from moto.identitystore.models import IdentityStoreBackend, IdentityStoreData, identitystore_backends
from moto.identitystore.responses import IdentityStoreResponse

from . import direct, paging
from .errors import ServiceError, access_denied, json_ok, not_found, validation
from .world import PARTITION, World

REVISION = "1"


def _bad_page(exc: Exception) -> ServiceError:
    if isinstance(exc, paging.BadMaxResults):
        return validation(paging.max_results_message(exc))
    return validation("The pagination token is invalid")


def store_id_of(value: str | None) -> Any:
    """Accept a store id or ARN (arn:aws:identitystore::ACCOUNT:identitystore/d-...)."""
    value = value or ""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], {})}


USER_OPTIONAL = ("UserName", "DisplayName", "NickName", "ProfileUrl", "Emails", "Addresses", "PhoneNumbers",
                 "UserType", "Title", "PreferredLanguage", "Locale", "Timezone")


def user_json(u: Any, status: str = "ENABLED") -> dict[str, Any]:
    """A user as ListUsers/DescribeUser answer it (empty members left out)."""
    out: dict[str, Any] = {
        "IdentityStoreId": u.IdentityStoreId,
        "UserId": u.UserId,
        "UserArn": f"arn:{PARTITION}:identitystore:::user/{u.UserId}",
        "Revision": REVISION,
        "UserStatus": status,
    }
    if u.Name:
        name = {k: v for k, v in zip(u.Name._fields, u.Name) if v not in (None, [], {})}
        if name:
            out["Name"] = name
    for key in USER_OPTIONAL:
        value = getattr(u, key)
        if value not in (None, [], {}):
            out[key] = value
    return out


def group_json(g: Any) -> dict[str, Any]:
    return _clean({
        "IdentityStoreId": g.IdentityStoreId,
        "GroupId": g.GroupId,
        "GroupArn": f"arn:{PARTITION}:identitystore:::group/{g.GroupId}",
        "Revision": REVISION,
        "DisplayName": g.DisplayName,
        "Description": g.Description,
    })


def membership_json(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "IdentityStoreId": m["IdentityStoreId"],
        "MembershipId": m["MembershipId"],
        "MembershipArn": f"arn:{PARTITION}:identitystore:::membership/{m['MembershipId']}",
        "GroupId": m["GroupId"],
        "MemberId": m["MemberId"],
    }


def memberships_of(data: IdentityStoreData, group_id: str) -> list[str]:
    """Membership ids of one group, from an index rebuilt only after memberships change."""
    gen = getattr(data, "_emu_gen", 0)
    if getattr(data, "_emu_index_gen", None) != gen:
        index: dict[str, list[str]] = {}
        for mid, m in data.group_memberships.items():
            index.setdefault(m["GroupId"], []).append(mid)
        data._emu_index = index  # type: ignore[attr-defined]
        data._emu_index_gen = gen  # type: ignore[attr-defined]
    return data._emu_index.get(group_id, [])  # type: ignore[attr-defined]


def memberships_for_member(data: IdentityStoreData, user_id: str) -> list[str]:
    """Membership ids of one user, from an index rebuilt only after memberships change."""
    gen = getattr(data, "_emu_gen", 0)
    if getattr(data, "_emu_member_index_gen", None) != gen:
        index: dict[str, list[str]] = {}
        for mid, m in data.group_memberships.items():
            index.setdefault((m.get("MemberId") or {}).get("UserId", ""), []).append(mid)
        data._emu_member_index = index  # type: ignore[attr-defined]
        data._emu_member_index_gen = gen  # type: ignore[attr-defined]
    return data._emu_member_index.get(user_id, [])  # type: ignore[attr-defined]


def _bump_on(method_name: str) -> None:
    """Wrap a moto backend method that changes memberships so the index is rebuilt."""
    original = getattr(IdentityStoreBackend, method_name)

    def wrapper(self: IdentityStoreBackend, identity_store_id: str, *args: Any, **kwargs: Any) -> Any:
        result = original(self, identity_store_id, *args, **kwargs)
        data = self.identity_stores.get(identity_store_id)
        if data is not None:
            data._emu_gen = getattr(data, "_emu_gen", 0) + 1  # type: ignore[attr-defined]
        return result

    wrapper.__name__ = method_name
    setattr(IdentityStoreBackend, method_name, wrapper)


def install(world: World) -> None:
    for name in ("create_group_membership", "delete_group_membership", "delete_group"):
        _bump_on(name)

    def routed_backend(self: IdentityStoreResponse) -> IdentityStoreBackend:
        store = store_id_of(self._get_param("IdentityStoreId"))
        inst = world.by_store.get(store)
        if inst is None or not inst.serves(self.region):
            raise not_found(f"Identity store {store} not found", ResourceType="IDENTITY_STORE",
                            ResourceId=store)
        if not world.can_manage_instance(self.current_account, inst):
            raise access_denied(
                f"User: arn:aws:sts::{self.current_account}:assumed-role is not authorized to "
                f"perform: identitystore:{self._get_action()} on resource: "
                f"arn:{PARTITION}:identitystore::{inst.owner}:identitystore/{store}")
        return identitystore_backends[inst.owner][inst.region]

    IdentityStoreResponse.identitystore_backend = property(routed_backend)  # type: ignore[assignment]

    def data_of(self: IdentityStoreResponse | direct.Call) -> tuple[str, IdentityStoreData]:
        backend = routed_backend(self)  # type: ignore[arg-type]
        store = store_id_of(self._get_param("IdentityStoreId"))
        return store, backend.identity_stores[store]

    def filter_value(filters: list[dict[str, str]] | None, path: str) -> str | None:
        for f in filters or []:
            if (f.get("AttributePath") or "").lower() == path.lower():
                return f.get("AttributeValue")
        return None

    @paging.paged_handler(_bad_page)
    def list_users(self: direct.Call) -> Any:
        with world.lock:
            store, data = data_of(self)
            wanted = filter_value(self._get_param("Filters"), "UserName")
            users = data.users.values()
            if wanted is not None:
                users = [u for u in users if u.UserName == wanted]
            items, token = paging.page(users, self._get_param("NextToken"), self._get_param("MaxResults"),
                                       maximum=100, default=100, total=len(users),
                                       scope=("ListUsers", store, wanted))
            body = {"Users": [user_json(u, world.user_status(u.UserId)) for u in items]}
        if token:
            body["NextToken"] = token
        return json_ok(body)

    @paging.paged_handler(_bad_page)
    def list_groups(self: direct.Call) -> Any:
        with world.lock:
            store, data = data_of(self)
            wanted = filter_value(self._get_param("Filters"), "DisplayName")
            groups = data.groups.values()
            if wanted is not None:
                groups = [g for g in groups if g.DisplayName == wanted]
            items, token = paging.page(groups, self._get_param("NextToken"), self._get_param("MaxResults"),
                                       maximum=100, default=100, total=len(groups),
                                       scope=("ListGroups", store, wanted))
            body = {"Groups": [group_json(g) for g in items]}
        if token:
            body["NextToken"] = token
        return json_ok(body)

    @paging.paged_handler(_bad_page)
    def list_group_memberships(self: direct.Call) -> Any:
        with world.lock:
            store, data = data_of(self)
            group_id = self._get_param("GroupId")
            if group_id not in data.groups:
                raise not_found("GROUP not found.", ResourceType="GROUP", ResourceId=group_id)
            ids = memberships_of(data, group_id)
            items, token = paging.page(ids, self._get_param("NextToken"), self._get_param("MaxResults"),
                                       maximum=100, default=100,
                                       scope=("ListGroupMemberships", store, group_id))
            body = {"GroupMemberships": [membership_json(data.group_memberships[m]) for m in items]}
        if token:
            body["NextToken"] = token
        return json_ok(body)

    def describe_user(self: direct.Call) -> Any:
        with world.lock:
            _, data = data_of(self)
            user = data.users.get(self._get_param("UserId"))
            if user is None:
                raise not_found("USER not found.", ResourceType="USER", ResourceId=self._get_param("UserId"))
            return json_ok(user_json(user, world.user_status(user.UserId)))

    def describe_group(self: direct.Call) -> Any:
        with world.lock:
            _, data = data_of(self)
            group = data.groups.get(self._get_param("GroupId"))
            if group is None:
                raise not_found("GROUP not found.", ResourceType="GROUP", ResourceId=self._get_param("GroupId"))
            return json_ok(group_json(group))

    @paging.paged_handler(_bad_page)
    def list_group_memberships_for_member(self: direct.Call) -> Any:
        with world.lock:
            store, data = data_of(self)
            member = self._get_param("MemberId")
            user_id = member.get("UserId") if isinstance(member, dict) else None
            if not user_id:
                raise validation("1 validation error detected: Value null at 'memberId' failed to satisfy "
                                 "constraint: Member must not be null")
            if user_id not in data.users:
                raise not_found("USER not found.", ResourceType="USER", ResourceId=user_id)
            ids = memberships_for_member(data, user_id)
            items, token = paging.page(ids, self._get_param("NextToken"), self._get_param("MaxResults"),
                                       maximum=100, default=100,
                                       scope=("ListGroupMembershipsForMember", store, user_id))
            body = {"GroupMemberships": [membership_json(data.group_memberships[m]) for m in items]}
        if token:
            body["NextToken"] = token
        return json_ok(body)

    def get_user_id(self: direct.Call) -> Any:
        with world.lock:
            store, data = data_of(self)
            alt = self._get_param("AlternateIdentifier")
            if not isinstance(alt, dict) or len(alt) != 1 or next(iter(alt)) not in ("UniqueAttribute", "ExternalId"):
                raise validation("AlternateIdentifier must hold exactly one of UniqueAttribute, ExternalId")
            found = None
            if "UniqueAttribute" in alt:
                attr = alt["UniqueAttribute"] or {}
                path, value = str(attr.get("AttributePath") or ""), attr.get("AttributeValue")
                if path.lower() not in ("username", "emails.value"):
                    raise validation(f"The attribute {path} is not a unique attribute")
                if not isinstance(value, str) or not value:
                    raise validation("attribute value cannot be empty or null for attribute path")
                for u in data.users.values():
                    if (u.UserName == value if path.lower() == "username"
                            else any(e.get("Value") == value for e in u.Emails or [])):
                        found = u
                        break
            if found is None:
                raise not_found("USER not found.", ResourceType="USER")
            return json_ok({"IdentityStoreId": store, "UserId": found.UserId,
                            "UserArn": f"arn:{PARTITION}:identitystore:::user/{found.UserId}"})

    for fn in (list_users, list_groups, list_group_memberships, describe_user, describe_group,
               list_group_memberships_for_member, get_user_id):
        direct.register("identitystore", direct.operation_name(fn.__name__), fn)

