//! Identity Center (sso-admin): instances, applications and their assignments.

use aws_sdk_ssoadmin::types::RegionScope;

use crate::model::{
    AccountId, Application, ApplicationArn, Assignment, IdentityStoreId, Instance, InstanceArn, InstanceType,
    PrincipalType,
};

use super::call::{CallError, Calls, Service};
use super::clients::AccountSession;

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
    let mut instances = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let mut request = client
            .list_instances()
            .max_results(100)
            .set_next_token(next_token.clone());
        if scope == Scope::AllRegions {
            request = request.region_scope(RegionScope::AllRegions);
        }
        let page = calls
            .run(&session.account_id, Service::SsoAdmin, "ListInstances", || {
                request.clone().send()
            })
            .await?;
        for meta in page.instances() {
            let (Some(arn), Some(store)) = (meta.instance_arn(), meta.identity_store_id()) else {
                continue;
            };
            let owner = meta
                .owner_account_id()
                .map(AccountId::from)
                .unwrap_or_else(|| session.account_id.clone());
            let instance_region = match scope {
                Scope::AllRegions => meta
                    .primary_region()
                    .map(str::to_owned)
                    .or_else(|| {
                        meta.regions()
                            .iter()
                            .find(|r| r.is_primary_region())
                            .and_then(|r| r.region_name().map(str::to_owned))
                    })
                    .unwrap_or_else(|| region.to_owned()),
                Scope::ThisRegion => region.to_owned(),
            };
            instances.push(Instance {
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
            });
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => break,
        }
    }
    Ok(instances)
}

/// Lists the applications of an instance, every page, without assignments.
pub async fn list_applications(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
) -> Result<Vec<Application>, CallError> {
    let mut applications = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .list_applications()
            .instance_arn(instance.as_str())
            .max_results(100)
            .set_next_token(next_token.clone());
        let page = calls
            .run(&session.account_id, Service::SsoAdmin, "ListApplications", || {
                request.clone().send()
            })
            .await?;
        for app in page.applications() {
            let Some(arn) = app.application_arn() else {
                continue;
            };
            applications.push(Application {
                arn: ApplicationArn::from(arn),
                instance_arn: instance.clone(),
                name: app.name().unwrap_or("").to_owned(),
                status: app.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                assignments: Vec::new(),
            });
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => break,
        }
    }
    Ok(applications)
}

/// Lists every assignment of an application, every page, with principal types kept.
pub async fn list_application_assignments(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    application: &ApplicationArn,
) -> Result<Vec<Assignment>, CallError> {
    let mut assignments = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .list_application_assignments()
            .application_arn(application.as_str())
            .max_results(100)
            .set_next_token(next_token.clone());
        let page = calls
            .run(
                &session.account_id,
                Service::SsoAdmin,
                "ListApplicationAssignments",
                || request.clone().send(),
            )
            .await?;
        for a in page.application_assignments() {
            let principal_type = match a.principal_type().as_str() {
                "GROUP" => PrincipalType::Group,
                _ => PrincipalType::User,
            };
            assignments.push(Assignment {
                principal_type,
                principal_id: a.principal_id().to_owned(),
            });
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => break,
        }
    }
    Ok(assignments)
}
