"""sso-admin: the instance and application operations moto lacks, with AWS's visibility.

Answered by the gateway directly (`direct`); permission sets and account assignments are
the emulator's own too (`permission_sets`); the few other sso-admin operations go to moto. Request and
response members follow botocore's sso-admin service model. moto's automatic default
instance per account and Region is switched off: only the scenario's instances exist.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from moto.ssoadmin.models import SSOAdminBackend

from . import direct, paging
from .errors import ServiceError, access_denied, conflict, json_ok, not_found, validation
from .world import Application, Instance, World, _hex

# Identity Center answers ListInstances with at most 10 instances a page and
# ListApplications with at most 50 (the list shapes' maxima), whatever MaxResults says.
LIST_INSTANCES_CAP = 10
LIST_APPLICATIONS_CAP = 50

APPLICATION_PROVIDERS = [
    {"ApplicationProviderArn": "arn:aws:sso::aws:applicationProvider/custom",
     "FederationProtocol": "OAUTH",
     "DisplayData": {"DisplayName": "Customer managed OAuth 2.0 application",
                     "Description": "An OAuth 2.0 application you manage"}},
    {"ApplicationProviderArn": "arn:aws:sso::aws:applicationProvider/custom-saml",
     "FederationProtocol": "SAML",
     "DisplayData": {"DisplayName": "Customer managed SAML 2.0 application",
                     "Description": "A SAML 2.0 application you manage"}},
    {"ApplicationProviderArn": "arn:aws:sso::aws:applicationProvider/catalog/slack",
     "FederationProtocol": "SAML",
     "DisplayData": {"DisplayName": "Slack", "Description": "Catalog SAML application"}},
    {"ApplicationProviderArn": "arn:aws:sso::aws:applicationProvider/catalog/salesforce",
     "FederationProtocol": "SAML",
     "DisplayData": {"DisplayName": "Salesforce", "Description": "Catalog SAML application"}},
    {"ApplicationProviderArn": "arn:aws:sso::aws:applicationProvider/codecatalyst",
     "FederationProtocol": "OAUTH",
     "DisplayData": {"DisplayName": "Amazon CodeCatalyst", "Description": "AWS managed application"}},
    {"ApplicationProviderArn": "arn:aws:sso::aws:applicationProvider/qbusiness",
     "FederationProtocol": "OAUTH",
     "DisplayData": {"DisplayName": "Amazon Q Business", "Description": "AWS managed application"}},
]

INSTANCE_ARN_RE = re.compile(r"arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}")
APP_ARN_RE = re.compile(r"arn:aws(-[a-z]{1,5}){0,3}:sso::\d{12}:application/(sso)?ins-[a-zA-Z0-9-.]{16}/apl-[a-zA-Z0-9]{16}")


def _bad_page(exc: Exception) -> ServiceError:
    if isinstance(exc, paging.BadMaxResults):
        return validation(paging.max_results_message(exc))
    return validation("Invalid NextToken")


def install(world: World, control: Any) -> None:
    """Register the handlers with the gateway and drop moto's default instance."""

    original_init = SSOAdminBackend.__init__

    def backend_init(self: SSOAdminBackend, region_name: str, account_id: str) -> None:
        original_init(self, region_name, account_id)
        self.instances = []

    SSOAdminBackend.__init__ = backend_init  # type: ignore[method-assign]

    def params(self: direct.Call) -> dict[str, Any]:
        try:
            return json.loads(self.body or "{}")
        except ValueError:
            raise validation("Request body is not valid JSON") from None

    def require(p: dict[str, Any], name: str) -> Any:
        if p.get(name) in (None, ""):
            raise validation(f"1 validation error detected: Value null at '{name[0].lower() + name[1:]}' "
                             "failed to satisfy constraint: Member must not be null")
        return p[name]

    def instance_for(self: direct.Call, arn: str, missing: str = "denied") -> Instance:
        if not INSTANCE_ARN_RE.fullmatch(arn or ""):
            raise validation(f"1 validation error detected: Value '{arn}' at 'instanceArn' failed to "
                             "satisfy constraint: Member must satisfy regular expression pattern")
        inst = world.instance(arn, self.region)
        if inst is None:
            if missing == "not_found":
                raise not_found(f"Instance {arn} not found")
            raise access_denied(f"User: arn:aws:sts::{self.current_account}:assumed-role is not "
                                f"authorized to perform this operation on resource: {arn}")
        return inst

    def managed_instance(self: direct.Call, arn: str, missing: str = "denied") -> Instance:
        inst = instance_for(self, arn, missing)
        if not world.can_manage_instance(self.current_account, inst):
            raise access_denied(f"User: arn:aws:sts::{self.current_account}:assumed-role is not "
                                f"authorized to perform this operation on resource: {arn}")
        return inst

    def application_for(self: direct.Call, arn: str) -> Application:
        if not APP_ARN_RE.fullmatch(arn or ""):
            raise validation(f"1 validation error detected: Value '{arn}' at 'applicationArn' failed "
                             "to satisfy constraint: Member must satisfy regular expression pattern")
        app = world.apps.get(arn)
        if app is None or not app.instance.serves(self.region):
            raise not_found(f"Application {arn} not found")
        if not world.can_manage_instance(self.current_account, app.instance):
            raise access_denied(f"User: arn:aws:sts::{self.current_account}:assumed-role is not "
                                f"authorized to perform this operation on resource: {arn}")
        return app

    # ---- instances --------------------------------------------------------------------
    @paging.paged_handler(_bad_page)
    def list_instances(self: direct.Call) -> Any:
        p = params(self)
        scope = p.get("RegionScope")
        if scope is not None:
            if not control.region_scope_supported:
                raise validation("RegionScope is not supported")
            if scope not in ("CURRENT_REGION", "ALL_REGIONS"):
                raise validation(f"1 validation error detected: Value '{scope}' at 'regionScope' failed "
                                 "to satisfy constraint: Member must satisfy enum value set: "
                                 "[CURRENT_REGION, ALL_REGIONS]")
        caller = self.current_account
        all_regions = scope == "ALL_REGIONS"
        with world.lock:
            visible = [i for i in world.instances.values()
                       if world.can_see_instance(caller, i) and (all_regions or i.serves(self.region))]
        items, token = paging.page(visible, p.get("NextToken"), p.get("MaxResults"), maximum=100,
                                   default=LIST_INSTANCES_CAP, cap=LIST_INSTANCES_CAP,
                                   scope=("ListInstances", caller, self.region, scope))
        out: dict[str, Any] = {"Instances": [i.metadata(with_regions=all_regions) for i in items]}
        if token:
            out["NextToken"] = token
        return json_ok(out)

    def describe_instance(self: direct.Call) -> Any:
        p = params(self)
        inst = managed_instance(self, require(p, "InstanceArn"))
        out = inst.metadata(with_regions=True)
        out["EncryptionConfigurationDetails"] = {"KeyType": "AWS_OWNED_KMS_KEY", "EncryptionStatus": "ENABLED"}
        out["PermissionSetsEnabled"] = inst.is_org
        return json_ok(out)

    def create_instance(self: direct.Call) -> Any:
        p = params(self)
        caller = self.current_account
        name = p.get("Name") or ""
        if name and not re.fullmatch(r"[\w+=,.@-]+", name):
            raise validation("1 validation error detected: Value at 'name' failed to satisfy "
                             "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
        with world.lock:
            if caller == world.management:
                raise validation("An account instance can't be created in the organization's "
                                 "management account")
            if any(i.owner == caller for i in world.instances.values()):
                raise conflict("An instance of IAM Identity Center already exists in this account")
            seq = str(time.time_ns())
            store_id = f"d-{_hex('store', caller, seq, n=10)}"
            inst = world.add_instance(owner=caller, region=self.region, store_id=store_id,
                                      instance_id=f"ssoins-{_hex('ins', caller, seq, n=16)}", name=name)
        return json_ok({"InstanceArn": inst.arn})

    def delete_instance(self: direct.Call) -> Any:
        p = params(self)
        with world.lock:
            inst = instance_for(self, require(p, "InstanceArn"))
            if inst.owner != self.current_account:  # not even the delegated admin
                raise access_denied("Only the account that owns the instance can delete it")
            world.remove_instance(inst)
        return json_ok({})

    def update_instance(self: direct.Call) -> Any:
        p = params(self)
        with world.lock:
            inst = managed_instance(self, require(p, "InstanceArn"), missing="not_found")
            if p.get("Name") is not None:
                inst.name = p["Name"]
        return json_ok({})

    # ---- applications ---------------------------------------------------------------
    def provider_known(arn: str) -> bool:
        return any(pr["ApplicationProviderArn"] == arn for pr in APPLICATION_PROVIDERS)

    def create_application(self: direct.Call) -> Any:
        p = params(self)
        inst_arn = require(p, "InstanceArn")
        provider = require(p, "ApplicationProviderArn")
        name = require(p, "Name")
        status = p.get("Status", "ENABLED")
        if status not in ("ENABLED", "DISABLED"):
            raise validation("Status must be ENABLED or DISABLED")
        with world.lock:
            inst = managed_instance(self, inst_arn, missing="not_found")
            if not provider_known(provider):
                raise not_found(f"Application provider {provider} not found")
            if any(a.name == name for a in world.apps_by_instance[inst.arn]):
                raise conflict(f"An application named {name} already exists in this instance")
            app = world.add_application(inst, account=self.current_account, name=name,
                                        provider=provider, status=status,
                                        description=p.get("Description"),
                                        portal_options=p.get("PortalOptions"))
            app.region = self.region
        return json_ok({"ApplicationArn": app.arn})

    def describe_application(self: direct.Call) -> Any:
        p = params(self)
        with world.lock:
            app = application_for(self, require(p, "ApplicationArn"))
            return json_ok(app.describe())

    def delete_application(self: direct.Call) -> Any:
        p = params(self)
        with world.lock:
            world.remove_application(application_for(self, require(p, "ApplicationArn")))
        return json_ok({})

    @paging.paged_handler(_bad_page)
    def list_applications(self: direct.Call) -> Any:
        p = params(self)
        with world.lock:
            inst = managed_instance(self, require(p, "InstanceArn"))
            apps = list(world.apps_by_instance[inst.arn])
        flt = p.get("Filter") or {}
        # AWS: "When listing applications for an organization instance in the management
        # account, member accounts must use the applicationAccount parameter to filter the
        # list to only applications created from that account." The refusal's shape is not
        # documented: AccessDeniedException here.
        if inst.is_org and self.current_account != inst.owner and flt.get("ApplicationAccount") != self.current_account:
            raise access_denied(f"User: arn:aws:sts::{self.current_account}:assumed-role is not authorized to "
                                f"list the applications of {inst.arn} without Filter.ApplicationAccount "
                                f"set to its own account ({self.current_account})")
        if flt.get("ApplicationAccount"):
            apps = [a for a in apps if a.account == flt["ApplicationAccount"]]
        if flt.get("ApplicationProvider"):
            apps = [a for a in apps if a.provider == flt["ApplicationProvider"]]
        items, token = paging.page(apps, p.get("NextToken"), p.get("MaxResults"), maximum=100,
                                   default=LIST_APPLICATIONS_CAP, cap=LIST_APPLICATIONS_CAP,
                                   scope=("ListApplications", inst.arn, json.dumps(flt, sort_keys=True)))
        out: dict[str, Any] = {"Applications": [a.describe() for a in items]}
        if token:
            out["NextToken"] = token
        return json_ok(out)

    def _principal_exists(inst: Instance, ptype: str, pid: str) -> bool:
        data = world.store_data(inst)
        return pid in (data.users if ptype == "USER" else data.groups)

    def create_application_assignment(self: direct.Call) -> Any:
        p = params(self)
        ptype = require(p, "PrincipalType")
        pid = require(p, "PrincipalId")
        if ptype not in ("USER", "GROUP"):
            raise validation(f"1 validation error detected: Value '{ptype}' at 'principalType' failed "
                             "to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]")
        with world.lock:
            app = application_for(self, require(p, "ApplicationArn"))
            if not _principal_exists(app.instance, ptype, pid):
                raise not_found(f"{ptype} {pid} not found in {app.instance.store_id}")
            app.assignments[(ptype, pid)] = None
        return json_ok({})

    def delete_application_assignment(self: direct.Call) -> Any:
        p = params(self)
        with world.lock:
            app = application_for(self, require(p, "ApplicationArn"))
            key = (require(p, "PrincipalType"), require(p, "PrincipalId"))
            if key not in app.assignments:
                raise not_found("Application assignment not found")
            del app.assignments[key]
        return json_ok({})

    @paging.paged_handler(_bad_page)
    def list_application_assignments(self: direct.Call) -> Any:
        p = params(self)
        with world.lock:
            app = application_for(self, require(p, "ApplicationArn"))
            keys = list(app.assignments)
        items, token = paging.page(keys, p.get("NextToken"), p.get("MaxResults"), maximum=100,
                                   default=100, scope=("ListApplicationAssignments", app.arn))
        out: dict[str, Any] = {"ApplicationAssignments": [
            {"ApplicationArn": app.arn, "PrincipalId": pid, "PrincipalType": ptype} for ptype, pid in items]}
        if token:
            out["NextToken"] = token
        return json_ok(out)

    @paging.paged_handler(_bad_page)
    def list_application_providers(self: direct.Call) -> Any:
        p = params(self)
        items, token = paging.page(APPLICATION_PROVIDERS, p.get("NextToken"), p.get("MaxResults"),
                                   maximum=100, default=100, scope=("ListApplicationProviders",))
        out: dict[str, Any] = {"ApplicationProviders": items}
        if token:
            out["NextToken"] = token
        return json_ok(out)

    def describe_application_provider(self: direct.Call) -> Any:
        p = params(self)
        arn = require(p, "ApplicationProviderArn")
        for pr in APPLICATION_PROVIDERS:
            if pr["ApplicationProviderArn"] == arn:
                return json_ok(pr)
        raise not_found(f"Application provider {arn} not found")

    @paging.paged_handler(_bad_page)
    def list_regions(self: direct.Call) -> Any:
        """The instance's enabled Regions, the primary one marked (botocore's ListRegions):
        its owner (and, for the organization instance, the delegated admin) may ask, in
        any Region the instance is served in."""
        p = params(self)
        inst = managed_instance(self, require(p, "InstanceArn"))
        regions = [{"RegionName": r, "Status": "ACTIVE", "AddedDate": inst.created, "IsPrimaryRegion": r == inst.region}
                   for r in inst.regions()]
        items, token = paging.page(regions, p.get("NextToken"), p.get("MaxResults"), maximum=100, default=100,
                                   cap=100, scope=("ListRegions", inst.arn))
        out: dict[str, Any] = {"Regions": items}
        if token:
            out["NextToken"] = token
        return json_ok(out)

    for fn in (list_instances, list_regions, describe_instance, create_instance, delete_instance, update_instance,
               create_application, describe_application, delete_application, list_applications,
               create_application_assignment, delete_application_assignment,
               list_application_assignments, list_application_providers,
               describe_application_provider):
        direct.register("sso-admin", direct.operation_name(fn.__name__), fn)
