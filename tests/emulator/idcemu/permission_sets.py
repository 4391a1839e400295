"""sso-admin: permission sets, their provisioning and account assignments, the emulator's own.

moto's permission-set handling is replaced: these operations are answered by the gateway
directly (`direct`) from the World (`World.permission_sets`, `provisioned`,
`account_assignments`), with request and response members from botocore's sso-admin model
and AWS's visibility:

- Only the organization instance has permission sets. Only its owner (the management
  account) and the scenario's delegated administrator may call these operations on it;
  any other account, or an instance unknown in the calling Region, is AccessDeniedException.
- The delegated administrator cannot manage the management account's access (AWS user
  guide, Delegated administration): ListAccountAssignments and
  ListPermissionSetsProvisionedToAccount for the management account's AccountId are
  AccessDeniedException, the management account is left out of
  ListAccountsForProvisionedPermissionSet and ListAccountAssignmentsForPrincipal (a
  Filter naming it is AccessDeniedException), and the delegated administrator may not
  create or delete an assignment there, nor delete a permission set provisioned there.
- Permission-set and account-assignment reads are served in the instance's primary Region
  only (AWS user guide: APIs supported in additional Regions); in another Region of the
  instance they are ValidationException.
- Choices where AWS documents no answer (README): an account instance ARN is
  ValidationException for its owner (AccessDeniedException for others); an unknown
  permission set, an AccountId outside the organization or an unknown principal is
  ResourceNotFoundException.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from . import direct, paging
from .errors import ServiceError, access_denied, conflict, json_ok, not_found, validation
from .world import Instance, PermissionSet, World

INSTANCE_ARN_RE = re.compile(r"arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}")
PS_ARN_RE = re.compile(r"arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}")
APP_ARN_RE = re.compile(r"arn:aws(-[a-z]{1,5}){0,3}:sso::\d{12}:application/(sso)?ins-[a-zA-Z0-9-.]{16}/apl-[a-zA-Z0-9]{16}")
ACCOUNT_RE = re.compile(r"\d{12}")
PRINCIPAL_ID_RE = re.compile(r"([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}")
PS_NAME_RE = re.compile(r"[\w+=,.@-]{1,32}")
PROVISIONING_STATUSES = ("LATEST_PERMISSION_SET_PROVISIONED", "LATEST_PERMISSION_SET_NOT_PROVISIONED")
PRINCIPAL_TYPES = ("USER", "GROUP")


def _bad_page(exc: Exception) -> ServiceError:
    if isinstance(exc, paging.BadMaxResults):
        return validation(paging.max_results_message(exc))
    return validation("Invalid NextToken")


def _member(name: str) -> str:
    return name[0].lower() + name[1:]


def _pattern(value: Any, regex: re.Pattern[str], member: str) -> str:
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise validation(f"1 validation error detected: Value '{value}' at '{_member(member)}' failed to "
                         f"satisfy constraint: Member must satisfy regular expression pattern: {regex.pattern}")
    return value


def _enum(value: Any, allowed: tuple[str, ...], member: str) -> str:
    if value not in allowed:
        raise validation(f"1 validation error detected: Value '{value}' at '{_member(member)}' failed to "
                         f"satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]")
    return value


def _require(p: dict[str, Any], name: str) -> Any:
    if p.get(name) in (None, ""):
        raise validation(f"1 validation error detected: Value null at '{_member(name)}' failed to satisfy "
                         "constraint: Member must not be null")
    return p[name]


def _denied(caller: str, resource: str) -> ServiceError:
    return access_denied(f"User: arn:aws:sts::{caller}:assumed-role is not authorized to perform this "
                         f"operation on resource: {resource}")


def install(world: World) -> None:
    # ---- who may call, on what ---------------------------------------------------------
    def instance(call: direct.Call, p: dict[str, Any], primary_only: bool = True) -> Instance:
        arn = _pattern(_require(p, "InstanceArn"), INSTANCE_ARN_RE, "InstanceArn")
        inst = world.instance(arn, call.region)
        if inst is None or not world.can_manage_instance(call.current_account, inst):
            raise _denied(call.current_account, arn)
        if primary_only and call.region != inst.region:
            raise validation(f"This operation is not supported in {call.region}, an additional Region of "
                             f"the instance: call it in the primary Region {inst.region}")
        return inst

    def org_instance(call: direct.Call, p: dict[str, Any]) -> Instance:
        inst = instance(call, p)
        if not inst.is_org:
            raise validation("Permission sets and account assignments are only available on an "
                             "organization instance of IAM Identity Center")
        return inst

    def delegated(call: direct.Call, inst: Instance) -> bool:
        """The caller is the delegated administrator, not the instance's owner."""
        return call.current_account != inst.owner

    def permission_set(p: dict[str, Any], inst: Instance) -> PermissionSet:
        arn = _pattern(_require(p, "PermissionSetArn"), PS_ARN_RE, "PermissionSetArn")
        ps = world.permission_sets.get(arn)
        if ps is None or ps.instance is not inst:
            raise not_found(f"Could not find PermissionSet with PermissionSetArn {arn}")
        return ps

    def account(call: direct.Call, inst: Instance, value: Any, member: str = "AccountId") -> str:
        acct = _pattern(value, ACCOUNT_RE, member)
        if delegated(call, inst) and acct == world.management:
            raise _denied(call.current_account, f"arn:aws:sso:::account/{acct}")
        if acct not in world.accounts:
            raise not_found(f"Account {acct} is not a member of the organization")
        return acct

    def principal(p: dict[str, Any], inst: Instance) -> tuple[str, str]:
        ptype = _enum(_require(p, "PrincipalType"), PRINCIPAL_TYPES, "PrincipalType")
        pid = _pattern(_require(p, "PrincipalId"), PRINCIPAL_ID_RE, "PrincipalId")
        data = world.store_data(inst)
        if pid not in (data.users if ptype == "USER" else data.groups):
            raise not_found(f"{ptype} {pid} not found in identity store {inst.store_id}")
        return ptype, pid

    def listed(key: str, items: list[Any], token: str | None) -> Any:
        out: dict[str, Any] = {key: items}
        if token:
            out["NextToken"] = token
        return json_ok(out)

    # ---- reads ---------------------------------------------------------------------------
    @paging.paged_handler(_bad_page)
    def list_permission_sets(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        arns = [ps.arn for ps in world.ps_by_instance[inst.arn]]
        items, token = paging.page(arns, p.get("NextToken"), p.get("MaxResults"), maximum=100, default=100,
                                   scope=("ListPermissionSets", inst.arn))
        return listed("PermissionSets", items, token)

    def describe_permission_set(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        return json_ok({"PermissionSet": permission_set(p, inst).describe()})

    def status_filter(p: dict[str, Any]) -> str | None:
        status = p.get("ProvisioningStatus")
        return None if status is None else _enum(status, PROVISIONING_STATUSES, "ProvisioningStatus")

    @paging.paged_handler(_bad_page)
    def list_accounts_for_provisioned_permission_set(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        ps = permission_set(p, inst)
        status = status_filter(p)
        # Every provisioned pair carries the latest version of its permission set.
        accounts = [] if status == "LATEST_PERMISSION_SET_NOT_PROVISIONED" else list(world.provisioned[ps.arn])
        if delegated(call, inst):
            accounts = [a for a in accounts if a != world.management]
        items, token = paging.page(accounts, p.get("NextToken"), p.get("MaxResults"), maximum=100, default=100,
                                   scope=("ListAccountsForProvisionedPermissionSet", ps.arn, status,
                                          call.current_account))
        return listed("AccountIds", items, token)

    @paging.paged_handler(_bad_page)
    def list_permission_sets_provisioned_to_account(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        acct = account(call, inst, _require(p, "AccountId"))
        status = status_filter(p)
        arns = [] if status == "LATEST_PERMISSION_SET_NOT_PROVISIONED" else [
            a for a in world.provisioned_to_account.get(acct, {}) if world.permission_sets[a].instance is inst]
        items, token = paging.page(arns, p.get("NextToken"), p.get("MaxResults"), maximum=100, default=100,
                                   scope=("ListPermissionSetsProvisionedToAccount", inst.arn, acct, status))
        return listed("PermissionSets", items, token)

    @paging.paged_handler(_bad_page)
    def list_account_assignments(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        acct = account(call, inst, _require(p, "AccountId"))
        ps = permission_set(p, inst)
        keys = list(world.account_assignments.get((acct, ps.arn), {}))
        items, token = paging.page(keys, p.get("NextToken"), p.get("MaxResults"), maximum=100, default=100,
                                   scope=("ListAccountAssignments", acct, ps.arn))
        return listed("AccountAssignments", [
            {"AccountId": acct, "PermissionSetArn": ps.arn, "PrincipalType": ptype, "PrincipalId": pid}
            for ptype, pid in items], token)

    @paging.paged_handler(_bad_page)
    def list_account_assignments_for_principal(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        # AWS API reference: "This action must be called from the management account
        # containing your organization instance of IAM Identity Center."
        if delegated(call, inst):
            raise access_denied(f"User: arn:aws:sts::{call.current_account}:assumed-role is not authorized to "
                                "perform ListAccountAssignmentsForPrincipal: it must be called from the "
                                "management account")
        ptype, pid = principal(p, inst)
        flt = p.get("Filter") or {}
        only = account(call, inst, flt["AccountId"], "Filter.AccountId") if flt.get("AccountId") else None
        pairs = [(a, ps) for a, ps in world.assignments_of_principal(ptype, pid)
                 if only is None or a == only]
        items, token = paging.page(pairs, p.get("NextToken"), p.get("MaxResults"), maximum=100, default=100,
                                   scope=("ListAccountAssignmentsForPrincipal", ptype, pid, only,
                                          call.current_account))
        return listed("AccountAssignments", [
            {"AccountId": a, "PermissionSetArn": ps, "PrincipalId": pid, "PrincipalType": ptype}
            for a, ps in items], token)

    @paging.paged_handler(_bad_page)
    def list_application_assignments_for_principal(call: direct.Call) -> Any:
        p = call.request_params
        inst = instance(call, p, primary_only=False)  # application reads: every Region of the instance
        ptype, pid = principal(p, inst)
        flt = p.get("Filter") or {}
        only = _pattern(flt["ApplicationArn"], APP_ARN_RE, "Filter.ApplicationArn") if flt.get("ApplicationArn") else None
        # AWS API reference: "You must provide a filter when calling this action from a member
        # account against your organization instance"; the error code is not documented (choice).
        if only is None and inst.is_org and delegated(call, inst):
            raise validation("A Filter with an ApplicationArn is required when this operation is called "
                             "from a member account against the organization instance")
        arns = [a.arn for a in world.apps_by_instance[inst.arn]
                if (ptype, pid) in a.assignments and (only is None or a.arn == only)]
        items, token = paging.page(arns, p.get("NextToken"), p.get("MaxResults"), maximum=100, default=100,
                                   scope=("ListApplicationAssignmentsForPrincipal", inst.arn, ptype, pid, only))
        return listed("ApplicationAssignments", [
            {"ApplicationArn": a, "PrincipalId": pid, "PrincipalType": ptype} for a in items], token)

    # ---- writes (enough for tests to change an organization) -------------------------------
    def create_permission_set(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        name = _pattern(_require(p, "Name"), PS_NAME_RE, "Name")
        if any(ps.name == name for ps in world.ps_by_instance[inst.arn]):
            raise conflict(f"PermissionSet with name {name} already exists")
        ps = world.add_permission_set(inst, name, description=p.get("Description"),
                                      session_duration=p.get("SessionDuration"), relay_state=p.get("RelayState"))
        return json_ok({"PermissionSet": ps.describe()})

    def delete_permission_set(call: direct.Call) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        ps = permission_set(p, inst)
        if delegated(call, inst) and world.management in world.provisioned[ps.arn]:
            raise _denied(call.current_account, ps.arn)
        world.remove_permission_set(ps)
        return json_ok({})

    def assignment_change(call: direct.Call, create: bool) -> Any:
        p = call.request_params
        inst = org_instance(call, p)
        _enum(_require(p, "TargetType"), ("AWS_ACCOUNT",), "TargetType")
        acct = account(call, inst, _require(p, "TargetId"), "TargetId")
        ps = permission_set(p, inst)
        ptype, pid = principal(p, inst)
        if create:
            world.assign(acct, ps.arn, ptype, pid)
        elif not world.unassign(acct, ps.arn, ptype, pid):
            raise not_found("Account assignment not found")
        status = {"Status": "SUCCEEDED", "RequestId": str(uuid.uuid4()), "TargetId": acct,
                  "TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps.arn, "PrincipalType": ptype,
                  "PrincipalId": pid, "CreatedDate": time.time()}
        key = "AccountAssignmentCreationStatus" if create else "AccountAssignmentDeletionStatus"
        return json_ok({key: status})

    def create_account_assignment(call: direct.Call) -> Any:
        return assignment_change(call, create=True)

    def delete_account_assignment(call: direct.Call) -> Any:
        return assignment_change(call, create=False)

    for fn in (list_permission_sets, describe_permission_set, list_accounts_for_provisioned_permission_set,
               list_permission_sets_provisioned_to_account, list_account_assignments,
               list_account_assignments_for_principal, list_application_assignments_for_principal,
               create_permission_set, delete_permission_set, create_account_assignment,
               delete_account_assignment):
        direct.register("sso-admin", direct.operation_name(fn.__name__), fn)
