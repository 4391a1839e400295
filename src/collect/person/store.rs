//! One identity store of the leaver check: find each person in it, then read what each
//! user found can reach. Calls per store: one or two `GetUserId` per person, then per
//! user found a handful plus a few per group of theirs; a listing of the store's users
//! only when a scan was asked for and `GetUserId` found nobody.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::person::{AccountGrant, ApplicationGrant, PersonQuery, StoreMatch, Via};
use crate::model::{
    AccountError, Application, ApplicationArn, Group, Instance, InstanceType, PrincipalType, Stage, UserId,
};

use super::super::call::CallError;
use super::super::clients::AccountSession;
use super::super::state::Context;
use super::super::work::error_row;
use super::super::{identity_store, sso_admin};
use super::{Matcher, reads};

/// A store and who reads it.
#[derive(Clone, Debug)]
pub struct StoreReader {
    pub instance: Instance,
    pub session: AccountSession,
}

/// What the search of one store found.
#[derive(Default)]
pub struct StoreOutcome {
    pub matches: Vec<StoreMatch>,
    pub errors: Vec<AccountError>,
    /// Names learnt along the way (the organization instance's listing, when read).
    pub application_names: BTreeMap<ApplicationArn, String>,
    /// Read as a delegated administrator: the management account's assignments are left out.
    pub management_left_out: bool,
}

impl StoreReader {
    fn row(&self, stage: Stage, resource: String, err: &CallError) -> AccountError {
        error_row(&self.session.account_id, &self.instance.region, stage, resource, err)
    }

    fn store_row(&self, err: &CallError) -> AccountError {
        self.row(Stage::IdentityStore, self.instance.identity_store_id.to_string(), err)
    }
}

/// Searches one store for every person asked for.
pub async fn search(
    context: &Context,
    reader: &StoreReader,
    queries: &[PersonQuery],
    scan: Option<&Matcher>,
) -> StoreOutcome {
    let mut outcome = StoreOutcome::default();
    let (calls, session, instance) = (&context.calls, &reader.session, &reader.instance);
    let ids = context.clients.identity_store(session, &instance.region);
    let store = &instance.identity_store_id;

    let mut found: BTreeSet<(usize, UserId)> = BTreeSet::new();
    let mut unfound: Vec<usize> = Vec::new();
    for (index, query) in queries.iter().enumerate() {
        let before = found.len();
        for form in &query.forms {
            match reads::get_user_id(&ids, calls, session, store, query.key, form).await {
                Ok(Some(user)) => {
                    found.insert((index, user));
                }
                Ok(None) => {}
                Err(err) => {
                    outcome.errors.push(reader.store_row(&err));
                    return outcome;
                }
            }
        }
        if found.len() == before {
            unfound.push(index);
        }
    }
    if let Some(matcher) = scan.filter(|_| !unfound.is_empty()) {
        match identity_store::list_users(&ids, calls, session, store).await {
            Ok(users) => {
                for index in unfound {
                    for user in users.iter().filter(|u| matcher(&queries[index], u)) {
                        found.insert((index, user.user_id.clone()));
                    }
                }
            }
            Err(err) => {
                outcome.errors.push(reader.store_row(&err));
                return outcome;
            }
        }
    }
    if found.is_empty() {
        return outcome;
    }

    let organization = instance.instance_type == InstanceType::Organization;
    let delegated = organization && session.account_id != context.management_account_id;
    outcome.management_left_out = delegated;
    let sso = context.clients.sso_admin(session, &instance.region);
    // As a delegated administrator, application assignments of the organization instance
    // can only be asked application by application: list them once.
    let mut listed: Option<Vec<Application>> = None;
    for (index, user_id) in found {
        let user = match reads::describe_user(&ids, calls, session, store, &user_id).await {
            Ok(user) => user,
            Err(err) => {
                outcome.errors.push(reader.store_row(&err));
                continue;
            }
        };
        let mut groups: Vec<Group> = Vec::new();
        match reads::list_groups_of_member(&ids, calls, session, store, &user_id).await {
            Ok(group_ids) => {
                for group in group_ids {
                    match reads::describe_group(&ids, calls, session, store, &group).await {
                        Ok(described) => groups.push(described),
                        Err(err) => {
                            outcome.errors.push(reader.store_row(&err));
                            groups.push(Group {
                                group_id: group,
                                display_name: String::new(),
                            });
                        }
                    }
                }
            }
            Err(err) => outcome.errors.push(reader.store_row(&err)),
        }
        groups.sort_by(|a, b| (&a.display_name, &a.group_id).cmp(&(&b.display_name, &b.group_id)));
        let principals: Vec<(PrincipalType, &str, Via)> =
            std::iter::once((PrincipalType::User, user_id.as_str(), Via::Direct))
                .chain(groups.iter().map(|g| {
                    (
                        PrincipalType::Group,
                        g.group_id.as_str(),
                        Via::Group(g.group_id.clone()),
                    )
                }))
                .collect();

        let mut applications: Vec<ApplicationGrant> = Vec::new();
        if delegated && listed.is_none() {
            // A delegated administrator lists only the applications created from its
            // own account (AWS's rule for member accounts).
            let own = Some(&session.account_id);
            match sso_admin::list_applications(&sso, calls, session, &instance.arn, own).await {
                Ok(apps) => {
                    for app in &apps {
                        outcome.application_names.insert(app.arn.clone(), app.name.clone());
                    }
                    listed = Some(apps);
                }
                Err(err) => {
                    outcome
                        .errors
                        .push(reader.row(Stage::Applications, instance.arn.to_string(), &err));
                    listed = Some(Vec::new());
                }
            }
        }
        for (principal_type, principal_id, via) in &principals {
            let filters: Vec<Option<&ApplicationArn>> = match (&listed, delegated) {
                (Some(apps), true) => apps.iter().map(|a| Some(&a.arn)).collect(),
                _ => vec![None],
            };
            for only in filters {
                match reads::application_assignments_for(
                    &sso,
                    calls,
                    session,
                    &instance.arn,
                    *principal_type,
                    principal_id,
                    only,
                )
                .await
                {
                    Ok(arns) => applications.extend(arns.into_iter().map(|application_arn| ApplicationGrant {
                        application_arn,
                        via: via.clone(),
                    })),
                    Err(err) => outcome
                        .errors
                        .push(reader.row(Stage::Applications, instance.arn.to_string(), &err)),
                }
            }
        }
        applications.sort();
        applications.dedup();

        let mut accounts: Vec<AccountGrant> = Vec::new();
        if organization {
            for (principal_type, principal_id, via) in &principals {
                match reads::account_assignments_for(&sso, calls, session, &instance.arn, *principal_type, principal_id)
                    .await
                {
                    Ok(pairs) => {
                        accounts.extend(pairs.into_iter().map(|(account_id, permission_set_arn)| AccountGrant {
                            account_id,
                            permission_set_arn,
                            via: via.clone(),
                        }))
                    }
                    Err(err) => {
                        outcome
                            .errors
                            .push(reader.row(Stage::AccountAssignments, instance.arn.to_string(), &err))
                    }
                }
            }
        }
        accounts.sort();
        accounts.dedup();
        outcome.matches.push(StoreMatch {
            query: index,
            instance: instance.clone(),
            user,
            groups,
            applications,
            accounts,
        });
    }
    outcome
}
