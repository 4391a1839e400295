//! An account: AssumeRole (its own credentials for the current account), then the
//! Identity Center instances it can see, in every Region or those configured.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::config::RegionSelection;
use crate::model::{Account, AccountError, AccountId, Instance, Stage};

use super::super::call::Service;
use super::super::clients::AccountSession;
use super::super::sso_admin::{self, Scope};
use super::super::state::{Context, State};
use super::super::{regions, sts};
use super::{Lane, Priority, Running, Unit, deadline_row, error_row, fold};

/// Reads one account of the organization.
pub struct ReadAccount(pub Account);

impl Unit for ReadAccount {
    fn lane(&self) -> Lane {
        (self.0.id.clone(), Service::SsoAdmin)
    }

    fn priority(&self) -> Priority {
        Priority::Account
    }

    fn not_reached(&self) -> AccountError {
        deadline_row(&self.0.id, "", Stage::ListInstances, String::new())
    }

    fn audited_account(&self) -> Option<&AccountId> {
        Some(&self.0.id)
    }

    fn run(self: Box<Self>, context: Arc<Context>) -> Running {
        Box::pin(async move {
            let account = self.0;
            let session = match open_session(&context, &account).await {
                Ok(session) => session,
                Err(row) => return fold(move |state: &mut State| state.account_failed(&account.id, row)),
            };
            let home = context.clients.home_region().to_owned();
            let (result, region_errors) = list_account_instances(&context, &session, &home).await;
            fold(move |state: &mut State| {
                for row in region_errors {
                    state.error(row);
                }
                match result {
                    Ok(instances) => state.account_audited(account.id, session, instances),
                    Err(row) => state.account_failed(&account.id, row),
                }
            })
        })
    }
}

/// The account's credentials: the function's own for the current account, else the
/// member role's.
pub(crate) async fn open_session(context: &Context, account: &Account) -> Result<AccountSession, AccountError> {
    let plan = &context.plan;
    if account.id == plan.current_account_id {
        return Ok(AccountSession::own(account.id.clone()));
    }
    let session_name = format!("idc-report-{}", plan.run_id);
    sts::assume_role(
        &context.clients.sts(),
        &context.calls,
        &plan.current_account_id,
        &plan.partition,
        &account.id,
        &plan.role_name,
        &session_name,
    )
    .await
    .map_err(|err| error_row(&account.id, "", Stage::AssumeRole, String::new(), &err))
}

/// ListInstances per the Region selection. With `ALL`, one call with
/// `RegionScope=ALL_REGIONS`; if the API refuses that, a scan of the partition's Regions.
pub(crate) async fn list_account_instances(
    context: &Context,
    session: &AccountSession,
    home: &str,
) -> (Result<Vec<Instance>, AccountError>, Vec<AccountError>) {
    let management = &context.management_account_id;
    let regions: Vec<String> = match &context.plan.regions {
        RegionSelection::All => {
            let client = context.clients.sso_admin(session, home);
            match sso_admin::list_instances(&client, &context.calls, session, home, Scope::AllRegions, management).await
            {
                Ok(instances) => return (Ok(instances), Vec::new()),
                Err(err) if regions::scope_refused(&err) => {
                    tracing::debug!(account = %session.account_id, code = %err.code, "RegionScope refused; scanning Regions");
                    regions::partition_regions(&context.plan.partition)
                        .iter()
                        .map(|r| (*r).to_owned())
                        .collect()
                }
                Err(err) => {
                    let row = error_row(&session.account_id, home, Stage::ListInstances, String::new(), &err);
                    return (Err(row), Vec::new());
                }
            }
        }
        RegionSelection::List(list) => list.clone(),
    };
    let fallback = matches!(context.plan.regions, RegionSelection::All);
    let mut instances = Vec::new();
    let mut errors = Vec::new();
    let mut any_ok = false;
    for region in &regions {
        let client = context.clients.sso_admin(session, region);
        match sso_admin::list_instances(&client, &context.calls, session, region, Scope::ThisRegion, management).await {
            Ok(found) => {
                any_ok = true;
                instances.extend(found);
            }
            // In a scan of every Region, Regions the account has not enabled answer
            // with an authentication error: they cannot hold an instance.
            Err(err) if fallback && regions::region_not_enabled(&err) => {}
            Err(err) => errors.push(error_row(
                &session.account_id,
                region,
                Stage::ListInstances,
                String::new(),
                &err,
            )),
        }
    }
    if !any_ok && !errors.is_empty() {
        let first = errors.remove(0);
        return (Err(first), errors);
    }
    let mut seen = BTreeSet::new();
    instances.retain(|i| seen.insert(i.arn.clone()));
    (Ok(instances), errors)
}
