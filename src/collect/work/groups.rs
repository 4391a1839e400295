//! A store's groups, every page.

use std::sync::Arc;

use crate::model::{AccountError, Instance};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::identity_store;
use super::super::state::{Context, State};
use super::users::{store_deadline_row, store_error};
use super::{Lane, Running, Unit, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReadGroups {
    pub instance: Instance,
    pub session: AccountSession,
}

#[typetag::serde]
impl Unit for ReadGroups {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::IdentityStore)
    }

    fn not_reached(&self) -> AccountError {
        store_deadline_row(&self.instance, &self.session)
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let Self { instance, session } = *self;
            let client = context.clients.identity_store(&session, &instance.region);
            let store = instance.identity_store_id.clone();
            let result = identity_store::list_groups(&client, &context.calls, &session, &store).await;
            fold(move |state: &mut State| match result {
                Ok(groups) => state.collected.inventory.stores.entry(store).or_default().groups = groups,
                Err(err) => state.error(store_error(&instance, &session, &err)),
            })
        })
    }
}
