//! Identity Center (sso-admin): instances, applications and their assignments.

use aws_sdk_ssoadmin::types::RegionScope;

use crate::model::{
    AccountId, Application, ApplicationArn, Assignment, IdentityStoreId, Instance, InstanceArn, InstanceType,
    PrincipalType,
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
        let page = calls
            .run(&session.account_id, Service::SsoAdmin, "ListInstances", || {
                request.clone().send()
            })
            .await?;
        let instances = page
            .instances()
            .iter()
            .filter_map(|meta| {
                let (arn, store) = (meta.instance_arn()?, meta.identity_store_id()?);
                let owner = meta
                    .owner_account_id()
                    .map(AccountId::from)
                    .unwrap_or_else(|| session.account_id.clone());
                let instance_region = match scope {
                    Scope::AllRegions => meta
                        .primary_region()
                        .or_else(|| {
                            meta.regions()
                                .iter()
                                .find(|r| r.is_primary_region())
                                .and_then(|r| r.region_name())
                        })
                        .unwrap_or(region)
                        .to_owned(),
                    Scope::ThisRegion => region.to_owned(),
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
                })
            })
            .collect();
        Ok((instances, page.next_token().map(str::to_owned)))
    })
    .await
}

/// Lists the applications of an instance, every page, without assignments.
pub async fn list_applications(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
) -> Result<Vec<Application>, CallError> {
    all_pages(Service::SsoAdmin, "ListApplications", |token| async move {
        let request = client
            .list_applications()
            .instance_arn(instance.as_str())
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
                principal_type: match a.principal_type().as_str() {
                    "GROUP" => PrincipalType::Group,
                    _ => PrincipalType::User,
                },
                principal_id: a.principal_id().to_owned(),
            })
            .collect();
        Ok((assignments, page.next_token().map(str::to_owned)))
    })
    .await
}
