//! The organization instance's permission sets, every page (ARNs only: details are
//! read for the permission sets that some assignment names).

use std::sync::Arc;

use crate::model::{AccountError, Instance, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ListPermissionSets {
    pub instance: Instance,
    pub session: AccountSession,
}

#[typetag::serde]
impl Unit for ListPermissionSets {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::SsoAdmin)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.session.account_id,
            &self.instance.region,
            Stage::PermissionSets,
            self.instance.arn.to_string(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self { instance, session } = *self;
            let client = context.clients.sso_admin(&session, &instance.region);
            let result = sso_admin::list_permission_sets(&client, &context.calls, &session, &instance.arn).await;
            fold(move |state: &mut State| match result {
                Ok(arns) => state.permission_sets_listed(arns),
                Err(err) => state.error(error_row(
                    &session.account_id,
                    &instance.region,
                    Stage::PermissionSets,
                    instance.arn.to_string(),
                    &err,
                )),
            })
        })
    }
}
