//! Identity Store: users (with every email and their status), groups, and group members.

use crate::model::{Group, GroupId, IdentityStoreId, User, UserId, UserStatus};

use super::call::{CallError, Calls, Service};
use super::clients::AccountSession;
use super::pages::all_pages;

/// Every user of a store, every page.
pub async fn list_users(
    client: &aws_sdk_identitystore::Client,
    calls: &Calls,
    session: &AccountSession,
    store: &IdentityStoreId,
) -> Result<Vec<User>, CallError> {
    all_pages(Service::IdentityStore, "ListUsers", |token| async move {
        let request = client
            .list_users()
            .identity_store_id(store.as_str())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(&session.account_id, Service::IdentityStore, "ListUsers", || {
                request.clone().send()
            })
            .await?;
        let users = page
            .users()
            .iter()
            .map(|u| User {
                user_id: UserId::from(u.user_id()),
                user_name: u.user_name().unwrap_or("").to_owned(),
                emails: u.emails().iter().filter_map(|e| e.value().map(str::to_owned)).collect(),
                status: u.user_status().map(|s| UserStatus::parse(s.as_str())),
            })
            .collect();
        Ok((users, page.next_token().map(str::to_owned)))
    })
    .await
}

/// Every group of a store, every page.
pub async fn list_groups(
    client: &aws_sdk_identitystore::Client,
    calls: &Calls,
    session: &AccountSession,
    store: &IdentityStoreId,
) -> Result<Vec<Group>, CallError> {
    all_pages(Service::IdentityStore, "ListGroups", |token| async move {
        let request = client
            .list_groups()
            .identity_store_id(store.as_str())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(&session.account_id, Service::IdentityStore, "ListGroups", || {
                request.clone().send()
            })
            .await?;
        let groups = page
            .groups()
            .iter()
            .map(|g| Group {
                group_id: GroupId::from(g.group_id()),
                display_name: g.display_name().unwrap_or("").to_owned(),
            })
            .collect();
        Ok((groups, page.next_token().map(str::to_owned)))
    })
    .await
}

/// The user ids of a group's members, every page.
pub async fn list_group_members(
    client: &aws_sdk_identitystore::Client,
    calls: &Calls,
    session: &AccountSession,
    store: &IdentityStoreId,
    group: &GroupId,
) -> Result<Vec<UserId>, CallError> {
    all_pages(Service::IdentityStore, "ListGroupMemberships", |token| async move {
        let request = client
            .list_group_memberships()
            .identity_store_id(store.as_str())
            .group_id(group.as_str())
            .max_results(100)
            .set_next_token(token);
        let page = calls
            .run(
                &session.account_id,
                Service::IdentityStore,
                "ListGroupMemberships",
                || request.clone().send(),
            )
            .await?;
        let members = page
            .group_memberships()
            .iter()
            .filter_map(|m| m.member_id()?.as_user_id().ok())
            .map(|id| UserId::from(id.as_str()))
            .collect();
        Ok((members, page.next_token().map(str::to_owned)))
    })
    .await
}
