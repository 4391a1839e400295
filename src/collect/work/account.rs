//! An account: AssumeRole (its own credentials for the current account), then the
//! Identity Center instances it can see, in every Region or those configured.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::RegionSelection;
use crate::model::{Account, AccountError, AccountId, ErrorCode, Instance, InstanceArn, Stage};

use super::super::call::{CallError, Service};
use super::super::clients::AccountSession;
use super::super::sso_admin::{self, Scope};
use super::super::state::{Context, State};
use super::super::{regions, sts};
use super::{Lane, Priority, Running, Unit, deadline_row, error_row, fold};

/// Reads one account of the organization.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ReadAccount(pub Account);

#[typetag::serde]
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
    let mut answers = Vec::with_capacity(regions.len());
    for region in &regions {
        let client = context.clients.sso_admin(session, region);
        let answer =
            sso_admin::list_instances(&client, &context.calls, session, region, Scope::ThisRegion, management).await;
        answers.push((region.clone(), answer));
    }
    fold_region_answers(&session.account_id, fallback, answers)
}

/// Folds the answers of a per-Region scan into the account's instances and error rows.
/// Regions the account has not enabled (opt-in Regions) answer as such at once: in a
/// scan of every Region they are expected and say nothing; named explicitly (`REGIONS`
/// or the event) they are recorded once per account, as not enabled, not as a failure.
/// An account no Region answered is an error row, never "sees no instance".
fn fold_region_answers(
    account: &AccountId,
    fallback: bool,
    answers: Vec<(String, Result<Vec<Instance>, CallError>)>,
) -> (Result<Vec<Instance>, AccountError>, Vec<AccountError>) {
    let mut instances = Vec::new();
    let mut errors = Vec::new();
    let mut not_enabled = Vec::new();
    let mut answered = false;
    for (region, answer) in answers {
        match answer {
            Ok(found) => {
                answered = true;
                instances.extend(found);
            }
            Err(err) if regions::region_not_enabled(&err) => not_enabled.push(region),
            Err(err) => errors.push(error_row(account, &region, Stage::ListInstances, String::new(), &err)),
        }
    }
    if !answered {
        if !errors.is_empty() {
            let first = errors.remove(0);
            return (Err(first), errors);
        }
        if fallback {
            let row = AccountError {
                account_id: account.clone(),
                region: String::new(),
                stage: Stage::ListInstances,
                code: ErrorCode::AccessDenied,
                resource: String::new(),
                message: format!(
                    "no Region answered ListInstances: every Region refused the account's credentials as not enabled ({})",
                    not_enabled.join(", ")
                ),
            };
            return (Err(row), errors);
        }
    }
    if !fallback && !not_enabled.is_empty() {
        errors.push(AccountError {
            account_id: account.clone(),
            region: not_enabled.join(","),
            stage: Stage::ListInstances,
            code: ErrorCode::RegionNotEnabled,
            resource: String::new(),
            message: format!(
                "not enabled in this account (opt-in Regions), so they hold none of its instances: {}",
                not_enabled.join(", ")
            ),
        });
    }
    (Ok(merge_replicas(instances, fallback)), errors)
}

/// One instance per ARN, with every Region the scan found it in when the listing did
/// not name its primary Region. A scan of every Region that found it in one Region only
/// has found its primary Region; otherwise its reader asks (`ListRegions`).
fn merge_replicas(instances: Vec<Instance>, every_region: bool) -> Vec<Instance> {
    let mut merged: Vec<Instance> = Vec::new();
    let mut at: BTreeMap<InstanceArn, usize> = BTreeMap::new();
    for instance in instances {
        match at.get(&instance.arn) {
            Some(&i) => merged[i].replicas.extend(instance.replicas),
            None => {
                at.insert(instance.arn.clone(), merged.len());
                merged.push(instance);
            }
        }
    }
    for instance in &mut merged {
        if every_region && instance.region.is_empty() && instance.replicas.len() == 1 {
            instance.region = instance.replicas.remove(0);
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::call::FailureKind;

    fn refused(code: &str) -> Result<Vec<Instance>, CallError> {
        Err(CallError {
            service: "sso-admin",
            operation: "ListInstances",
            kind: FailureKind::Rejected,
            code: code.into(),
            message: "no".into(),
            attempts: 1,
        })
    }

    fn account() -> AccountId {
        AccountId::from("111122223333")
    }

    #[test]
    fn a_scan_skips_regions_not_enabled_silently() {
        let answers = vec![
            ("us-east-1".to_owned(), Ok(vec![])),
            ("af-south-1".to_owned(), refused("UnrecognizedClientException")),
        ];
        let (result, errors) = fold_region_answers(&account(), true, answers);
        assert_eq!(result, Ok(vec![]));
        assert!(errors.is_empty());
    }

    #[test]
    fn a_scan_no_region_answered_is_an_error_not_no_instance() {
        let answers = vec![
            ("af-south-1".to_owned(), refused("UnrecognizedClientException")),
            ("me-south-1".to_owned(), refused("UnrecognizedClientException")),
        ];
        let (result, _) = fold_region_answers(&account(), true, answers);
        let row = result.unwrap_err();
        assert!(row.message.contains("af-south-1, me-south-1"), "{}", row.message);
        assert!(row.code.is_read_failure());
    }

    #[test]
    fn named_regions_not_enabled_are_one_row_per_account_not_failures() {
        let answers = vec![
            ("us-east-1".to_owned(), Ok(vec![])),
            ("af-south-1".to_owned(), refused("UnrecognizedClientException")),
            ("me-south-1".to_owned(), refused("UnrecognizedClientException")),
        ];
        let (result, errors) = fold_region_answers(&account(), false, answers);
        assert_eq!(result, Ok(vec![]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, ErrorCode::RegionNotEnabled);
        assert_eq!(errors[0].region, "af-south-1,me-south-1");
        assert!(!errors[0].code.is_read_failure());
    }
}
