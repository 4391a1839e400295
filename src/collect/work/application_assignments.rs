//! One application's assignments, every page, principal types kept; the members of
//! assigned groups are queued.

use std::sync::Arc;

use crate::model::{AccountError, Application, Instance, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReadApplicationAssignments {
    pub instance: Instance,
    pub session: AccountSession,
    pub application: Application,
}

#[typetag::serde]
impl Unit for ReadApplicationAssignments {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::SsoAdmin)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.session.account_id,
            &self.instance.region,
            Stage::Applications,
            self.application.arn.to_string(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self {
                instance,
                session,
                mut application,
            } = *self;
            let client = context.clients.sso_admin(&session, &instance.region);
            let result =
                sso_admin::list_application_assignments(&client, &context.calls, &session, &application.arn).await;
            fold(move |state: &mut State| match result {
                Ok(assignments) => {
                    application.assignments = assignments;
                    state.queue_assigned_groups(&instance, &session, &application.assignments);
                    state.collected.inventory.applications.push(application);
                }
                Err(err) => state.error(error_row(
                    &session.account_id,
                    &instance.region,
                    Stage::Applications,
                    application.arn.to_string(),
                    &err,
                )),
            })
        })
    }
}
