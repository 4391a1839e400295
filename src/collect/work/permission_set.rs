//! One permission set's details: name, description, session duration.

use std::sync::Arc;

use crate::model::{AccountError, Instance, PermissionSetArn, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct DescribePermissionSet {
    pub instance: Instance,
    pub session: AccountSession,
    pub permission_set: PermissionSetArn,
}

#[typetag::serde]
impl Unit for DescribePermissionSet {
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
            let result =
                sso_admin::describe_permission_set(&client, &context.calls, &session, &instance.arn, &permission_set)
                    .await;
            fold(move |state: &mut State| match result {
                Ok(described) => state.permission_set_described(described),
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
