//! Identity Center (sso-admin): instances, applications and their assignments,
//! permission sets and account assignments.

use aws_sdk_ssoadmin::types::RegionScope;

use crate::model::{
    AccountId, Application, ApplicationArn, Assignment, IdentityStoreId, Instance, InstanceArn, InstanceType,
    PermissionSet, PermissionSetArn, PrincipalType,
};

use super::call::{CallError, Calls, Service};
use super::clients::AccountSession;
use super::pages::all_pages;

/// How ListInstances is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// `RegionScope=ALL_REGIONS`: every Region in one listing.
    AllRegions,
    /// The client's Region only (no `RegionScope` sent, so older endpoints answer too).
    ThisRegion,
}

/// Lists the instances `session` can see, every page. `region` is the client's Region;
/// with `Scope::ThisRegion` it is also the instances' Region.
pub async fn list_instances(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    region: &str,
    scope: Scope,
    management_account_id: &AccountId,
) -> Result<Vec<Instance>, CallError> {
    all_pages(Service::SsoAdmin, "ListInstances", |token| async move {
        let mut request = client.list_instances().max_results(100).set_next_token(token);
        if scope == Scope::AllRegions {
            request = request.region_scope(RegionScope::AllRegions);
        }
        let send = || request.clone().send();
        let page = match scope {
            Scope::AllRegions => {
                calls
                    .run(&session.account_id, Service::SsoAdmin, "ListInstances", send)
                    .await?
            }
            // A Region of a scan may be one the account has not enabled: known at once.
            Scope::ThisRegion => {
                calls
                    .run_probe(&session.account_id, Service::SsoAdmin, "ListInstances", send)
                    .await?
            }
        };
        let instances = page
            .instances()
            .iter()
            .filter_map(|meta| {
                // An instance being created (or whose creation failed) has no store yet:
                // it is still listed, with its status.
                let (arn, store) = (meta.instance_arn()?, meta.identity_store_id().unwrap_or(""));
                let owner = meta
                    .owner_account_id()
                    .map(AccountId::from)
                    .unwrap_or_else(|| session.account_id.clone());
                let primary = meta.primary_region().or_else(|| {
                    meta.regions()
                        .iter()
                        .find(|r| r.is_primary_region())
                        .and_then(|r| r.region_name())
                });
                // The instance's Region is the primary one the listing names; if it
                // names none, the Region is left unknown (empty) rather than taken for
                // the home Region or the Region scanned (a per-Region scan finds an
                // instance in each of its Regions): the scan records where it was found.
                let instance_region = primary.unwrap_or("").to_owned();
                let replicas = match (scope, primary) {
                    (Scope::ThisRegion, None) => vec![region.to_owned()],
                    _ => Vec::new(),
                };
                Some(Instance {
                    arn: InstanceArn::from(arn),
                    identity_store_id: IdentityStoreId::from(store),
                    instance_type: if &owner == management_account_id {
                        InstanceType::Organization
                    } else {
                        InstanceType::Account
                    },
                    owner_account_id: owner,
                    region: instance_region,
                    name: meta.name().unwrap_or("").to_owned(),
                    status: meta.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    replicas,
                })
            })
            .collect();
        Ok((instances, page.next_token().map(str::to_owned)))
    })
    .await
}

/// Lists the applications of an instance, every page, without assignments; with
/// `created_from`, only those created from that account (what a member account may
/// list of the organization instance).
pub async fn list_applications(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
    created_from: Option<&AccountId>,
) -> Result<Vec<Application>, CallError> {
    let filter = created_from.map(|account| {
        aws_sdk_ssoadmin::types::ListApplicationsFilter::builder()
            .application_account(account.as_str())
            .build()
    });
    let filter = &filter;
    all_pages(Service::SsoAdmin, "ListApplications", |token| async move {
        let request = client
            .list_applications()
            .instance_arn(instance.as_str())
            .set_filter(filter.clone())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(&session.account_id, Service::SsoAdmin, "ListApplications", || {
                request.clone().send()
            })
            .await?;
        let applications = page
            .applications()
            .iter()
            .filter_map(|app| {
                Some(Application {
                    arn: ApplicationArn::from(app.application_arn()?),
                    instance_arn: instance.clone(),
                    name: app.name().unwrap_or("").to_owned(),
                    status: app.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    assignments: Vec::new(),
                })
            })
            .collect();
        Ok((applications, page.next_token().map(str::to_owned)))
    })
    .await
}

/// Lists every assignment of an application, every page, with principal types kept.
pub async fn list_application_assignments(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    application: &ApplicationArn,
) -> Result<Vec<Assignment>, CallError> {
    all_pages(Service::SsoAdmin, "ListApplicationAssignments", |token| async move {
        let request = client
            .list_application_assignments()
            .application_arn(application.as_str())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(
                &session.account_id,
                Service::SsoAdmin,
                "ListApplicationAssignments",
                || request.clone().send(),
            )
            .await?;
        let assignments = page
            .application_assignments()
            .iter()
            .map(|a| Assignment {
                principal_type: principal_type(a.principal_type().as_str()),
                principal_id: a.principal_id().to_owned(),
            })
            .collect();
        Ok((assignments, page.next_token().map(str::to_owned)))
    })
    .await
}

/// The primary Region of an instance (`ListRegions`, asked in one of its Regions by
/// whoever administers it); `None` if no Region is marked primary.
pub async fn primary_region(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
) -> Result<Option<String>, CallError> {
    let regions = all_pages(Service::SsoAdmin, "ListRegions", |token| async move {
        let request = client
            .list_regions()
            .instance_arn(instance.as_str())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(&session.account_id, Service::SsoAdmin, "ListRegions", || {
                request.clone().send()
            })
            .await?;
        let regions = page
            .regions()
            .iter()
            .filter(|r| r.is_primary_region())
            .filter_map(|r| r.region_name().map(str::to_owned))
            .collect();
        Ok((regions, page.next_token().map(str::to_owned)))
    })
    .await?;
    Ok(regions.into_iter().next())
}

/// The ARNs of every permission set of an instance, every page.
pub async fn list_permission_sets(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
) -> Result<Vec<PermissionSetArn>, CallError> {
    all_pages(Service::SsoAdmin, "ListPermissionSets", |token| async move {
        let request = client
            .list_permission_sets()
            .instance_arn(instance.as_str())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(&session.account_id, Service::SsoAdmin, "ListPermissionSets", || {
                request.clone().send()
            })
            .await?;
        let arns = page
            .permission_sets()
            .iter()
            .map(|a| PermissionSetArn::from(a.as_str()))
            .collect();
        Ok((arns, page.next_token().map(str::to_owned)))
    })
    .await
}

/// A permission set's name, description and session duration.
pub async fn describe_permission_set(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
    permission_set: &PermissionSetArn,
) -> Result<PermissionSet, CallError> {
    let request = client
        .describe_permission_set()
        .instance_arn(instance.as_str())
        .permission_set_arn(permission_set.as_str());
    let answer = calls
        .run(&session.account_id, Service::SsoAdmin, "DescribePermissionSet", || {
            request.clone().send()
        })
        .await?;
    let described = answer.permission_set();
    let text = |value: Option<&str>| value.unwrap_or("").to_owned();
    Ok(PermissionSet {
        arn: permission_set.clone(),
        name: text(described.and_then(|p| p.name())),
        description: text(described.and_then(|p| p.description())),
        session_duration: text(described.and_then(|p| p.session_duration())),
    })
}

/// The accounts a permission set is provisioned to, every page.
pub async fn list_accounts_for_provisioned_permission_set(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
    permission_set: &PermissionSetArn,
) -> Result<Vec<AccountId>, CallError> {
    all_pages(
        Service::SsoAdmin,
        "ListAccountsForProvisionedPermissionSet",
        |token| async move {
            let request = client
                .list_accounts_for_provisioned_permission_set()
                .instance_arn(instance.as_str())
                .permission_set_arn(permission_set.as_str())
                .max_results(100)
                .set_next_token(token);
            let page = calls
                .run(
                    &session.account_id,
                    Service::SsoAdmin,
                    "ListAccountsForProvisionedPermissionSet",
                    || request.clone().send(),
                )
                .await?;
            let accounts = page.account_ids().iter().map(|a| AccountId::from(a.as_str())).collect();
            Ok((accounts, page.next_token().map(str::to_owned)))
        },
    )
    .await
}

/// The permission sets provisioned to an account, every page.
pub async fn list_permission_sets_provisioned_to_account(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
    account: &AccountId,
) -> Result<Vec<PermissionSetArn>, CallError> {
    all_pages(
        Service::SsoAdmin,
        "ListPermissionSetsProvisionedToAccount",
        |token| async move {
            let request = client
                .list_permission_sets_provisioned_to_account()
                .instance_arn(instance.as_str())
                .account_id(account.as_str())
                .max_results(100)
                .set_next_token(token);
            let page = calls
                .run(
                    &session.account_id,
                    Service::SsoAdmin,
                    "ListPermissionSetsProvisionedToAccount",
                    || request.clone().send(),
                )
                .await?;
            let arns = page
                .permission_sets()
                .iter()
                .map(|a| PermissionSetArn::from(a.as_str()))
                .collect();
            Ok((arns, page.next_token().map(str::to_owned)))
        },
    )
    .await
}

/// Every assignment of one (account, permission set) pair, every page.
pub async fn list_account_assignments(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
    account: &AccountId,
    permission_set: &PermissionSetArn,
) -> Result<Vec<Assignment>, CallError> {
    all_pages(Service::SsoAdmin, "ListAccountAssignments", |token| async move {
        let request = client
            .list_account_assignments()
            .instance_arn(instance.as_str())
            .account_id(account.as_str())
            .permission_set_arn(permission_set.as_str())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(&session.account_id, Service::SsoAdmin, "ListAccountAssignments", || {
                request.clone().send()
            })
            .await?;
        let assignments = page
            .account_assignments()
            .iter()
            .filter_map(|a| {
                Some(Assignment {
                    principal_type: principal_type(a.principal_type()?.as_str()),
                    principal_id: a.principal_id()?.to_owned(),
                })
            })
            .collect();
        Ok((assignments, page.next_token().map(str::to_owned)))
    })
    .await
}

/// The principal type as the API spells it.
fn principal_type(value: &str) -> PrincipalType {
    match value {
        "GROUP" => PrincipalType::Group,
        _ => PrincipalType::User,
    }
}
