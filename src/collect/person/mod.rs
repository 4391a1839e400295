//! The leaver check's collection: everything one person can reach, across every
//! instance, at a cost per store and per group of the person, never per user.
//!
//! Instances are discovered as the audit discovers them (accounts, AssumeRole,
//! ListInstances with the RegionScope fallback: `work::account`'s `open_session` and
//! `list_account_instances`). Then, per identity store and person: `GetUserId` with each
//! form of the email or user name, and for each user found `DescribeUser`,
//! `ListGroupMembershipsForMember` (and `DescribeGroup` per group), the application
//! assignments of the user and of each group, and on the organization instance their
//! account assignments. Names: `DescribeApplication` per application found and
//! `DescribePermissionSet` per permission set found, once each; account names come from
//! the organization listing. A failing read is an error row; the rest goes on.

mod reads;
mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;

use crate::model::person::{PersonLookup, PersonQuery};
use crate::model::{
    Account, AccountError, AccountId, ApplicationArn, ErrorCode, Instance, InstanceArn, InstanceType, PermissionSetArn,
    Stage, User,
};

use super::call::Calls;
use super::clients::{AccountSession, Clients};
use super::state::Context;
use super::work::account::{list_account_instances, open_session};
use super::work::error_row;
use super::{CollectError, Plan, organizations, sso_admin};

pub use store::StoreReader;

/// Decides whether a user listed in a scanned store is the person asked for (the
/// caller's normalisation rules; the collect layer does not define them).
pub type Matcher = dyn Fn(&PersonQuery, &User) -> bool + Send + Sync;

/// What to look up and how.
pub struct LookupRequest {
    pub queries: Vec<PersonQuery>,
    /// List the stores where `GetUserId` found nobody, and match every user with
    /// `matcher`: finds emails stored in any letter case, at one call per 100 users.
    pub scan: Option<Arc<Matcher>>,
}

/// Looks the people up in every store the organization's accounts can see. Fails only
/// when the organization cannot be read.
pub async fn find_people(
    clients: &Clients,
    calls: Arc<Calls>,
    plan: Plan,
    request: LookupRequest,
) -> Result<PersonLookup, CollectError> {
    let caller = plan.current_account_id.clone();
    let organizations_client = clients.organizations();
    let management = organizations::management_account_id(&organizations_client, &calls, &caller)
        .await
        .map_err(CollectError::Organization)?;
    let (pages_tx, mut pages) = mpsc::unbounded_channel();
    organizations::stream_accounts(&organizations_client, &calls, &caller, None, &pages_tx).await;
    drop(pages_tx);
    let mut accounts: Vec<Account> = Vec::new();
    while let Some(page) = pages.recv().await {
        accounts.extend(page.map_err(CollectError::Organization)?.0);
    }
    let context = Arc::new(Context {
        clients: clients.clone(),
        calls: Arc::clone(&calls),
        plan,
        management_account_id: management.clone(),
    });
    let mut lookup = PersonLookup {
        queries: request.queries,
        management_account_id: management,
        scanned: request.scan.is_some(),
        ..Default::default()
    };

    // Discovery: the audit's own account read, every active account at once (bounded).
    let width = context.plan.max_concurrency.max(1);
    let home = clients.home_region().to_owned();
    let mut sessions: HashMap<AccountId, AccountSession> = HashMap::new();
    let mut instances: BTreeMap<InstanceArn, Instance> = BTreeMap::new();
    let active: Vec<&Account> = accounts.iter().filter(|a| a.is_active()).collect();
    for account in accounts.iter().filter(|a| !a.is_active()) {
        lookup.errors.push(AccountError {
            account_id: account.id.clone(),
            region: String::new(),
            stage: Stage::Select,
            code: ErrorCode::AccountNotActive,
            resource: String::new(),
            message: format!("skipped: the account is {}", account.state),
        });
    }
    let mut discovered = stream::iter(active)
        .map(|account| {
            let (context, home) = (Arc::clone(&context), home.clone());
            async move {
                let session = open_session(&context, account).await?;
                let (found, region_errors) = list_account_instances(&context, &session, &home).await;
                Ok::<_, AccountError>((session, found, region_errors))
            }
        })
        .buffer_unordered(width);
    while let Some(result) = discovered.next().await {
        match result {
            Err(row) => lookup.errors.push(row),
            Ok((session, found, region_errors)) => {
                lookup.errors.extend(region_errors);
                match found {
                    Ok(found) => {
                        for instance in found {
                            instances.entry(instance.arn.clone()).or_insert(instance);
                        }
                    }
                    Err(row) => lookup.errors.push(row),
                }
                sessions.insert(session.account_id.clone(), session);
            }
        }
    }
    drop(discovered);
    lookup.accounts = accounts;

    // One reader per store: the function itself for the organization instance and what
    // the current account owns, the owner's session for another account's instance.
    let current = context.plan.current_account_id.clone();
    let mut readers: BTreeMap<String, StoreReader> = BTreeMap::new();
    for instance in instances.into_values() {
        let store_id = instance.identity_store_id.to_string();
        if readers.contains_key(&store_id) {
            continue;
        }
        let session = if instance.instance_type == InstanceType::Organization || instance.owner_account_id == current {
            Some(AccountSession::own(current.clone()))
        } else {
            sessions.get(&instance.owner_account_id).cloned()
        };
        match session {
            Some(session) => {
                readers.insert(store_id, StoreReader { instance, session });
            }
            None => lookup.errors.push(AccountError {
                account_id: instance.owner_account_id.clone(),
                region: instance.region.clone(),
                stage: Stage::IdentityStore,
                code: ErrorCode::OwnerNotAudited,
                resource: store_id.clone(),
                message: format!(
                    "identity store {store_id} of account instance {} not searched: its owner account could not be read",
                    instance.arn
                ),
            }),
        }
    }
    lookup.stores = readers.values().map(|r| r.instance.clone()).collect();
    tracing::info!(
        phase = "discover",
        accounts = lookup.accounts.len(),
        stores = readers.len(),
        "instances discovered"
    );

    // Search every store, side by side.
    let queries = &lookup.queries;
    let scan = request.scan.as_deref();
    let mut searched = stream::iter(readers.values())
        .map(|reader| store::search(&context, reader, queries, scan))
        .buffer_unordered(width);
    let mut found = Vec::new();
    while let Some(outcome) = searched.next().await {
        found.push(outcome);
    }
    drop(searched);
    let mut applications: BTreeMap<ApplicationArn, &StoreReader> = BTreeMap::new();
    let mut permission_sets: BTreeSet<PermissionSetArn> = BTreeSet::new();
    let mut names: BTreeMap<ApplicationArn, String> = BTreeMap::new();
    let mut refused_management = false;
    for outcome in found {
        lookup.errors.extend(outcome.errors);
        names.extend(outcome.application_names);
        refused_management |= outcome.management_left_out;
        for m in &outcome.matches {
            if let Some(reader) = readers.get(m.instance.identity_store_id.as_str()) {
                for grant in &m.applications {
                    applications.entry(grant.application_arn.clone()).or_insert(reader);
                }
            }
            permission_sets.extend(m.accounts.iter().map(|g| g.permission_set_arn.clone()));
        }
        lookup.matches.extend(outcome.matches);
    }
    if refused_management {
        let region = lookup
            .stores
            .iter()
            .find(|i| i.instance_type == InstanceType::Organization)
            .map(|i| i.region.clone())
            .unwrap_or_default();
        let management = lookup.management_account_id.clone();
        lookup.errors.push(AccountError {
            account_id: management,
            region,
            stage: Stage::AccountAssignments,
            code: ErrorCode::AccessDenied,
            resource: String::new(),
            message: "not read: AWS refuses a delegated administrator the management account's account assignments; run the lookup from the management account to include them".into(),
        });
    }

    // Names, once each.
    let missing: Vec<(&ApplicationArn, &StoreReader)> = applications
        .iter()
        .filter(|(arn, _)| !names.contains_key(*arn))
        .map(|(arn, reader)| (arn, *reader))
        .collect();
    let mut described = stream::iter(missing)
        .map(|(arn, reader)| {
            let context = Arc::clone(&context);
            async move {
                let client = context.clients.sso_admin(&reader.session, &reader.instance.region);
                let result = reads::application_name(&client, &context.calls, &reader.session, arn).await;
                (arn.clone(), reader, result)
            }
        })
        .buffer_unordered(width);
    while let Some((arn, reader, result)) = described.next().await {
        match result {
            Ok(name) => {
                names.insert(arn, name);
            }
            Err(err) => lookup.errors.push(error_row(
                &reader.session.account_id,
                &reader.instance.region,
                Stage::Applications,
                arn.to_string(),
                &err,
            )),
        }
    }
    drop(described);
    lookup.application_names = names;
    let organization = readers
        .values()
        .find(|r| r.instance.instance_type == InstanceType::Organization);
    if let Some(reader) = organization {
        let mut described = stream::iter(permission_sets)
            .map(|arn| {
                let context = Arc::clone(&context);
                async move {
                    let client = context.clients.sso_admin(&reader.session, &reader.instance.region);
                    let result = sso_admin::describe_permission_set(
                        &client,
                        &context.calls,
                        &reader.session,
                        &reader.instance.arn,
                        &arn,
                    )
                    .await;
                    (arn, result)
                }
            })
            .buffer_unordered(width);
        while let Some((arn, result)) = described.next().await {
            match result {
                Ok(permission_set) => {
                    lookup.permission_set_names.insert(arn, permission_set.name);
                }
                Err(err) => lookup.errors.push(error_row(
                    &reader.session.account_id,
                    &reader.instance.region,
                    Stage::PermissionSets,
                    arn.to_string(),
                    &err,
                )),
            }
        }
    }
    lookup.matches.sort_by(|a, b| {
        (a.query, &a.instance.identity_store_id, &a.user.user_id).cmp(&(
            b.query,
            &b.instance.identity_store_id,
            &b.user.user_id,
        ))
    });
    Ok(lookup)
}
