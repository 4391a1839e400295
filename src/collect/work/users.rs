//! A store's users, every page, with every email and their status.

use std::sync::Arc;

use crate::model::{AccountError, Instance, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::identity_store;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReadUsers {
    pub instance: Instance,
    pub session: AccountSession,
}

#[typetag::serde]
impl Unit for ReadUsers {
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
            let result = identity_store::list_users(&client, &context.calls, &session, &store).await;
            fold(move |state: &mut State| match result {
                Ok(users) => {
                    let contents = state.collected.inventory.stores.entry(store).or_default();
                    contents.users = users;
                    contents.users_read = true;
                }
                Err(err) => state.error(store_error(&instance, &session, &err)),
            })
        })
    }
}

/// The deadline row of a store read.
pub fn store_deadline_row(instance: &Instance, session: &AccountSession) -> AccountError {
    deadline_row(
        &session.account_id,
        &instance.region,
        Stage::IdentityStore,
        instance.identity_store_id.to_string(),
    )
}

/// The error row of a store that could not be read (users or groups).
pub fn store_error(instance: &Instance, session: &AccountSession, err: &super::super::call::CallError) -> AccountError {
    error_row(
        &session.account_id,
        &instance.region,
        Stage::IdentityStore,
        instance.identity_store_id.to_string(),
        err,
    )
}
