//! Where permission sets are provisioned, found one of two ways (the run picks the
//! cheaper, see `State::plan_pairs`): the accounts of one permission set, or the
//! permission sets of one account. Either way the pairs found are queued for their
//! assignments.

use std::sync::Arc;

use crate::model::{AccountError, AccountId, Instance, PermissionSetArn, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

/// `ListAccountsForProvisionedPermissionSet` for one permission set.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct AccountsForPermissionSet {
    pub instance: Instance,
    pub session: AccountSession,
    pub permission_set: PermissionSetArn,
}

#[typetag::serde]
impl Unit for AccountsForPermissionSet {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::SsoAdmin)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.session.account_id,
            &self.instance.region,
            Stage::PermissionSets,
            self.permission_set.to_string(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self {
                instance,
                session,
                permission_set,
            } = *self;
            let client = context.clients.sso_admin(&session, &instance.region);
            let result = sso_admin::list_accounts_for_provisioned_permission_set(
                &client,
                &context.calls,
                &session,
                &instance.arn,
                &permission_set,
            )
            .await;
            fold(move |state: &mut State| match result {
                Ok(accounts) => {
                    state.pairs_found(accounts.into_iter().map(|a| (a, permission_set.clone())).collect());
                }
                Err(err) => state.error(error_row(
                    &session.account_id,
                    &instance.region,
                    Stage::PermissionSets,
                    permission_set.to_string(),
                    &err,
                )),
            })
        })
    }
}

/// `ListPermissionSetsProvisionedToAccount` for one account.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct PermissionSetsForAccount {
    pub instance: Instance,
    pub session: AccountSession,
    pub account: AccountId,
}

#[typetag::serde]
impl Unit for PermissionSetsForAccount {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::SsoAdmin)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.account,
            &self.instance.region,
            Stage::AccountAssignments,
            self.instance.arn.to_string(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self {
                instance,
                session,
                account,
            } = *self;
            let client = context.clients.sso_admin(&session, &instance.region);
            let result = sso_admin::list_permission_sets_provisioned_to_account(
                &client,
                &context.calls,
                &session,
                &instance.arn,
                &account,
            )
            .await;
            fold(move |state: &mut State| match result {
                Ok(permission_sets) => {
                    state.pairs_found(permission_sets.into_iter().map(|p| (account.clone(), p)).collect());
                }
                Err(err) => state.error(error_row(
                    &account,
                    &instance.region,
                    Stage::AccountAssignments,
                    instance.arn.to_string(),
                    &err,
                )),
            })
        })
    }
}
