//! An instance's applications, every page; each application's assignments are a unit
//! of their own, so an instance with many applications is read in parallel.

use std::sync::Arc;

use crate::model::{AccountError, AccountId, Instance, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin;
use super::super::state::{Context, State};
use super::application_assignments::ReadApplicationAssignments;
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReadApplications {
    pub instance: Instance,
    pub session: AccountSession,
    /// Only the applications created from this account (a delegated administrator's
    /// own view of the organization instance).
    pub created_from: Option<AccountId>,
}

#[typetag::serde]
impl Unit for ReadApplications {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::SsoAdmin)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.session.account_id,
            &self.instance.region,
            Stage::Applications,
            self.instance.arn.to_string(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self {
                instance,
                session,
                created_from,
            } = *self;
            let client = context.clients.sso_admin(&session, &instance.region);
            let result =
                sso_admin::list_applications(&client, &context.calls, &session, &instance.arn, created_from.as_ref())
                    .await;
            fold(move |state: &mut State| match result {
                Ok(applications) => {
                    for application in applications {
                        state.queue(ReadApplicationAssignments {
                            instance: instance.clone(),
                            session: session.clone(),
                            application,
                        });
                    }
                }
                Err(err) => state.error(error_row(
                    &session.account_id,
                    &instance.region,
                    Stage::Applications,
                    instance.arn.to_string(),
                    &err,
                )),
            })
        })
    }
}
