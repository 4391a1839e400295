//! The account assignments of one (account, permission set) pair, every page.
//! Read with the credentials of the account that administers the organization
//! instance, so a member account whose role fails still has them reported.

use std::sync::Arc;

use crate::model::{AccountAssignments, AccountError, AccountId, Instance, PermissionSetArn, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReadAccountAssignments {
    pub instance: Instance,
    pub session: AccountSession,
    pub account: AccountId,
    pub permission_set: PermissionSetArn,
}

#[typetag::serde]
impl Unit for ReadAccountAssignments {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::SsoAdmin)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.account,
            &self.instance.region,
            Stage::AccountAssignments,
            self.permission_set.to_string(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self {
                instance,
                session,
                account,
                permission_set,
            } = *self;
            let client = context.clients.sso_admin(&session, &instance.region);
            let result = sso_admin::list_account_assignments(
                &client,
                &context.calls,
                &session,
                &instance.arn,
                &account,
                &permission_set,
            )
            .await;
            fold(move |state: &mut State| match result {
                Ok(assignments) => state.pair_read(AccountAssignments {
                    account_id: account,
                    permission_set_arn: permission_set,
                    assignments,
                }),
                Err(err) => state.error(error_row(
                    &account,
                    &instance.region,
                    Stage::AccountAssignments,
                    permission_set.to_string(),
                    &err,
                )),
            })
        })
    }
}
