//! The AWS reads of the leaver check, each through `Calls::run` (rate limit, retries,
//! deadline): resolve a user (`GetUserId`, `DescribeUser`), their groups
//! (`ListGroupMembershipsForMember`, `DescribeGroup`), what they are assigned
//! (`ListApplicationAssignmentsForPrincipal`, `ListAccountAssignmentsForPrincipal`) and
//! the names of what they reach (`DescribeApplication`).

use aws_sdk_identitystore::types::{AlternateIdentifier, MemberId, UniqueAttribute};
use aws_sdk_ssoadmin::types::{ListAccountAssignmentsFilter, ListApplicationAssignmentsFilter};
use aws_smithy_types::Document;

use crate::model::person::PersonKey;
use crate::model::{
    AccountId, ApplicationArn, Group, GroupId, IdentityStoreId, InstanceArn, PermissionSetArn, PrincipalType, User,
    UserId, UserStatus,
};

use super::super::call::{CallError, Calls, FailureKind, Service};
use super::super::clients::AccountSession;
use super::super::pages::all_pages;

/// The user holding `value` as `key` in the store, if any. `ResourceNotFoundException`
/// (nobody holds it) is `Ok(None)`.
pub async fn get_user_id(
    client: &aws_sdk_identitystore::Client,
    calls: &Calls,
    session: &AccountSession,
    store: &IdentityStoreId,
    key: PersonKey,
    value: &str,
) -> Result<Option<UserId>, CallError> {
    let path = match key {
        PersonKey::Email => "emails.value",
        PersonKey::UserName => "userName",
    };
    let attribute = UniqueAttribute::builder()
        .attribute_path(path)
        .attribute_value(Document::String(value.to_owned()))
        .build()
        .map_err(|err| CallError {
            service: Service::IdentityStore.as_str(),
            operation: "GetUserId",
            kind: FailureKind::Rejected,
            code: "ClientError".into(),
            message: err.to_string(),
            attempts: 0,
        })?;
    let request = client
        .get_user_id()
        .identity_store_id(store.as_str())
        .alternate_identifier(AlternateIdentifier::UniqueAttribute(attribute));
    match calls
        .run(&session.account_id, Service::IdentityStore, "GetUserId", || {
            request.clone().send()
        })
        .await
    {
        Ok(output) => Ok(Some(UserId::from(output.user_id()))),
        Err(err) if not_found(&err) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Whether a call answered that the thing asked for does not exist.
pub fn not_found(err: &CallError) -> bool {
    err.kind == FailureKind::Rejected && err.code == "ResourceNotFoundException"
}

/// A user's name, every email and status.
pub async fn describe_user(
    client: &aws_sdk_identitystore::Client,
    calls: &Calls,
    session: &AccountSession,
    store: &IdentityStoreId,
    user: &UserId,
) -> Result<User, CallError> {
    let request = client
        .describe_user()
        .identity_store_id(store.as_str())
        .user_id(user.as_str());
    let output = calls
        .run(&session.account_id, Service::IdentityStore, "DescribeUser", || {
            request.clone().send()
        })
        .await?;
    Ok(User {
        user_id: user.clone(),
        user_name: output.user_name().unwrap_or("").to_owned(),
        emails: output
            .emails()
            .iter()
            .filter_map(|e| e.value().map(str::to_owned))
            .collect(),
        status: output.user_status().map(|s| UserStatus::parse(s.as_str())),
    })
}

/// The ids of every group the user is a member of, every page.
pub async fn list_groups_of_member(
    client: &aws_sdk_identitystore::Client,
    calls: &Calls,
    session: &AccountSession,
    store: &IdentityStoreId,
    user: &UserId,
) -> Result<Vec<GroupId>, CallError> {
    all_pages(
        Service::IdentityStore,
        "ListGroupMembershipsForMember",
        |token| async move {
            let request = client
                .list_group_memberships_for_member()
                .identity_store_id(store.as_str())
                .member_id(MemberId::UserId(user.to_string()))
                .max_results(100)
                .set_next_token(token);
            let page = calls
                .run(
                    &session.account_id,
                    Service::IdentityStore,
                    "ListGroupMembershipsForMember",
                    || request.clone().send(),
                )
                .await?;
            let groups = page
                .group_memberships()
                .iter()
                .filter_map(|m| m.group_id().map(GroupId::from))
                .collect();
            Ok((groups, page.next_token().map(str::to_owned)))
        },
    )
    .await
}

/// A group's display name.
pub async fn describe_group(
    client: &aws_sdk_identitystore::Client,
    calls: &Calls,
    session: &AccountSession,
    store: &IdentityStoreId,
    group: &GroupId,
) -> Result<Group, CallError> {
    let request = client
        .describe_group()
        .identity_store_id(store.as_str())
        .group_id(group.as_str());
    let output = calls
        .run(&session.account_id, Service::IdentityStore, "DescribeGroup", || {
            request.clone().send()
        })
        .await?;
    Ok(Group {
        group_id: group.clone(),
        display_name: output.display_name().unwrap_or("").to_owned(),
    })
}

fn principal(principal_type: PrincipalType) -> aws_sdk_ssoadmin::types::PrincipalType {
    match principal_type {
        PrincipalType::User => aws_sdk_ssoadmin::types::PrincipalType::User,
        PrincipalType::Group => aws_sdk_ssoadmin::types::PrincipalType::Group,
    }
}

/// The applications a principal is assigned to directly, every page; `only` filters by
/// application (required from a member account against the organization instance).
pub async fn application_assignments_for(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
    principal_type: PrincipalType,
    principal_id: &str,
    only: Option<&ApplicationArn>,
) -> Result<Vec<ApplicationArn>, CallError> {
    all_pages(
        Service::SsoAdmin,
        "ListApplicationAssignmentsForPrincipal",
        |token| async move {
            let filter = only.map(|arn| {
                ListApplicationAssignmentsFilter::builder()
                    .application_arn(arn.as_str())
                    .build()
            });
            let request = client
                .list_application_assignments_for_principal()
                .instance_arn(instance.as_str())
                .principal_type(principal(principal_type))
                .principal_id(principal_id)
                .set_filter(filter)
                .max_results(100)
                .set_next_token(token);
            let page = calls
                .run(
                    &session.account_id,
                    Service::SsoAdmin,
                    "ListApplicationAssignmentsForPrincipal",
                    || request.clone().send(),
                )
                .await?;
            let arns = page
                .application_assignments()
                .iter()
                .filter_map(|a| a.application_arn().map(ApplicationArn::from))
                .collect();
            Ok((arns, page.next_token().map(str::to_owned)))
        },
    )
    .await
}

/// The (account, permission set) pairs a principal is assigned to directly, every page.
pub async fn account_assignments_for(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    instance: &InstanceArn,
    principal_type: PrincipalType,
    principal_id: &str,
) -> Result<Vec<(AccountId, PermissionSetArn)>, CallError> {
    all_pages(
        Service::SsoAdmin,
        "ListAccountAssignmentsForPrincipal",
        |token| async move {
            let request = client
                .list_account_assignments_for_principal()
                .instance_arn(instance.as_str())
                .principal_type(principal(principal_type))
                .principal_id(principal_id)
                .set_filter(None::<ListAccountAssignmentsFilter>)
                .max_results(100)
                .set_next_token(token);
            let page = calls
                .run(
                    &session.account_id,
                    Service::SsoAdmin,
                    "ListAccountAssignmentsForPrincipal",
                    || request.clone().send(),
                )
                .await?;
            let pairs = page
                .account_assignments()
                .iter()
                .filter_map(|a| {
                    Some((
                        AccountId::from(a.account_id()?),
                        PermissionSetArn::from(a.permission_set_arn()?),
                    ))
                })
                .collect();
            Ok((pairs, page.next_token().map(str::to_owned)))
        },
    )
    .await
}

/// An application's name.
pub async fn application_name(
    client: &aws_sdk_ssoadmin::Client,
    calls: &Calls,
    session: &AccountSession,
    application: &ApplicationArn,
) -> Result<String, CallError> {
    let request = client.describe_application().application_arn(application.as_str());
    let output = calls
        .run(&session.account_id, Service::SsoAdmin, "DescribeApplication", || {
            request.clone().send()
        })
        .await?;
    Ok(output.name().unwrap_or("").to_owned())
}
