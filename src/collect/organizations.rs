//! Organizations: the management account and every account, every page.

use tokio::sync::mpsc::UnboundedSender;

use crate::model::{Account, AccountId};

use super::call::{CallError, Calls, Service};
use super::pages::all_pages_from;

/// The management account of the caller's organization.
pub async fn management_account_id(
    client: &aws_sdk_organizations::Client,
    calls: &Calls,
    caller: &AccountId,
) -> Result<AccountId, CallError> {
    let request = client.describe_organization();
    let output = calls
        .run(caller, Service::Organizations, "DescribeOrganization", || {
            request.clone().send()
        })
        .await?;
    output
        .organization()
        .and_then(|o| o.master_account_id())
        .map(AccountId::from)
        .ok_or_else(|| CallError {
            service: Service::Organizations.as_str(),
            operation: "DescribeOrganization",
            kind: super::call::FailureKind::Rejected,
            code: "MissingManagementAccount".into(),
            message: "the organization has no management account id".into(),
            attempts: 1,
        })
}

/// A page of the organization's accounts, and the token of the next page.
pub type AccountPage = (Vec<Account>, Option<String>);

/// Every account, in the order Organizations lists them, from the page `start` names
/// (the first when `None`), sent page by page so that work on the first accounts starts
/// while later pages are still being listed. An empty page that still carries a
/// `NextToken` is not the end. A failure is sent too.
pub async fn stream_accounts(
    client: &aws_sdk_organizations::Client,
    calls: &Calls,
    caller: &AccountId,
    start: Option<String>,
    pages: &UnboundedSender<Result<AccountPage, CallError>>,
) {
    let listed = all_pages_from(start, Service::Organizations, "ListAccounts", |token| async move {
        let request = client.list_accounts().max_results(20).set_next_token(token);
        let page = calls
            .run_reserved(caller, Service::Organizations, "ListAccounts", || {
                request.clone().send()
            })
            .await?;
        let accounts = page
            .accounts()
            .iter()
            .filter_map(|account| {
                let id = account.id()?;
                let state = account
                    .state()
                    .map(|s| s.as_str().to_owned())
                    .or_else(|| account.status().map(|s| s.as_str().to_owned()))
                    .unwrap_or_else(|| "UNKNOWN".to_owned());
                Some(Account {
                    id: AccountId::from(id),
                    name: account.name().unwrap_or("").to_owned(),
                    state,
                })
            })
            .collect();
        let next = page.next_token().filter(|t| !t.is_empty()).map(str::to_owned);
        // A closed receiver means the run stopped listening: nothing left to do.
        let _ = pages.send(Ok((accounts, next.clone())));
        Ok((Vec::<()>::new(), next))
    })
    .await;
    if let Err(err) = listed {
        let _ = pages.send(Err(err));
    }
}
