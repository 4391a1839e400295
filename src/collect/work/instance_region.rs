//! The primary Region of an instance that a per-Region scan found in several Regions
//! without being told which is primary: its reader asks `ListRegions` once, then its
//! store and applications are read there.

use std::sync::Arc;

use crate::model::{AccountError, ErrorCode, Instance, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ResolveRegion {
    pub instance: Instance,
    pub session: AccountSession,
}

#[typetag::serde]
impl Unit for ResolveRegion {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::SsoAdmin)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.session.account_id,
            "",
            Stage::ListInstances,
            self.instance.arn.to_string(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self { mut instance, session } = *self;
            // Any Region it was found in serves the question.
            let asked = instance.replicas.first().cloned().unwrap_or_default();
            let client = context.clients.sso_admin(&session, &asked);
            let result = sso_admin::primary_region(&client, &context.calls, &session, &instance.arn).await;
            fold(move |state: &mut State| {
                match result {
                Ok(Some(primary)) => {
                    instance.region = primary;
                    instance.replicas.clear();
                    state.region_resolved(instance, session);
                }
                Ok(None) => state.error(AccountError {
                    account_id: session.account_id.clone(),
                    region: asked,
                    stage: Stage::ListInstances,
                    code: ErrorCode::RegionUnknown,
                    resource: instance.arn.to_string(),
                    message: format!(
                        "{}: found in {} but neither ListInstances nor ListRegions names its primary Region; its store and applications were not read",
                        instance.arn,
                        instance.replicas.join(", ")
                    ),
                }),
                Err(err) => {
                    let mut row = error_row(
                        &session.account_id,
                        &asked,
                        Stage::ListInstances,
                        instance.arn.to_string(),
                        &err,
                    );
                    row.message = format!(
                        "{} (the instance was found in {} and its primary Region could not be asked: its store and applications were not read)",
                        row.message,
                        instance.replicas.join(", ")
                    );
                    state.error(row);
                }
            }
            })
        })
    }
}
