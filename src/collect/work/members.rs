//! The members of one group that some assignment names, every page.

use std::sync::Arc;

use crate::model::{AccountError, GroupId, Instance, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::identity_store;
use super::super::state::{Context, State};
use super::{Lane, Running, Unit, deadline_row, error_row, fold};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReadMembers {
    pub instance: Instance,
    pub session: AccountSession,
    pub group: GroupId,
}

impl ReadMembers {
    fn resource(&self) -> String {
        format!("{}/{}", self.instance.identity_store_id, self.group)
    }
}

#[typetag::serde]
impl Unit for ReadMembers {
    fn lane(&self) -> Lane {
        (self.session.account_id.clone(), Service::IdentityStore)
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(
            &self.session.account_id,
            &self.instance.region,
            Stage::IdentityStore,
            self.resource(),
        )
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let client = context.clients.identity_store(&self.session, &self.instance.region);
            let store = self.instance.identity_store_id.clone();
            let result =
                identity_store::list_group_members(&client, &context.calls, &self.session, &store, &self.group).await;
            fold(move |state: &mut State| {
                match result {
                    Ok(members) => {
                        let contents = state.collected.inventory.stores.entry(store).or_default();
                        contents.group_members.insert(self.group, members);
                    }
                    // Left without a member list: the reports say its members were not read.
                    Err(err) => {
                        let row = error_row(
                            &self.session.account_id,
                            &self.instance.region,
                            Stage::IdentityStore,
                            self.resource(),
                            &err,
                        );
                        state.error(row);
                    }
                }
            })
        })
    }
}
