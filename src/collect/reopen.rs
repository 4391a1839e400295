//! Sessions of a resumed run. A checkpoint never holds credentials: an account's
//! session is saved as its account id and whether it was assumed, and a resumed run
//! assumes the member role again the first time a call needs it (once per account,
//! shared by every session of that account).
//!
//! The AssumeRole call made on a call's behalf has no request permit of its own (STS is
//! not rate limited by the run, and the call that needs the credentials already holds
//! a permit): taking one could deadlock a run whose every permit waits on credentials.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, future};
use tokio::sync::OnceCell;

use crate::model::AccountId;

use super::call::{CallError, Calls, RetryPolicy};
use super::clients::Clients;
use super::sts;

/// What assuming the member role again needs, and the credentials had so far.
#[derive(Debug)]
pub struct Reopener {
    sts: aws_sdk_sts::Client,
    calls: Calls,
    caller: AccountId,
    partition: String,
    role_name: String,
    session_name: String,
    opened: Mutex<HashMap<AccountId, Opened>>,
}

/// An account's credentials once the role is assumed again (or why it could not be).
type Opened = Arc<OnceCell<Result<Credentials, CallError>>>;

impl Reopener {
    pub fn new(
        clients: &Clients,
        stop_at: Option<tokio::time::Instant>,
        caller: AccountId,
        partition: String,
        role_name: String,
        session_name: String,
    ) -> Self {
        Reopener {
            sts: clients.sts(),
            calls: Calls::new(RetryPolicy::default(), 0.0, stop_at),
            caller,
            partition,
            role_name,
            session_name,
            opened: Mutex::new(HashMap::new()),
        }
    }

    /// Calls made (AssumeRole) and retries done.
    pub fn stats(&self) -> (u64, u64) {
        self.calls.stats()
    }

    async fn credentials(&self, account: &AccountId) -> Result<Credentials, CallError> {
        let cell = {
            let Ok(mut opened) = self.opened.lock() else {
                return Err(poisoned());
            };
            Arc::clone(opened.entry(account.clone()).or_default())
        };
        cell.get_or_init(|| async {
            sts::assume_role_credentials(
                &self.sts,
                &self.calls,
                &self.caller,
                &self.partition,
                account,
                &self.role_name,
                &self.session_name,
            )
            .await
        })
        .await
        .clone()
    }
}

fn poisoned() -> CallError {
    CallError {
        service: "sts",
        operation: "AssumeRole",
        kind: super::call::FailureKind::Rejected,
        code: "InternalError".into(),
        message: "the resumed session's credentials could not be kept".into(),
        attempts: 1,
    }
}

/// The credentials of an account of a resumed run: the member role, assumed again on
/// first use.
#[derive(Debug)]
pub struct Reopened {
    pub reopener: Arc<Reopener>,
    pub account: AccountId,
}

impl ProvideCredentials for Reopened {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.reopener
                .credentials(&self.account)
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

thread_local! {
    /// Set while a checkpoint is read: assumed sessions read from it are reopened with it.
    static READING: RefCell<Option<Arc<Reopener>>> = const { RefCell::new(None) };
}

/// Runs `read` (a checkpoint's deserialisation, on this thread) with assumed sessions
/// reopened by `reopener`.
pub fn reading_with<T>(reopener: &Arc<Reopener>, read: impl FnOnce() -> T) -> T {
    READING.with(|cell| *cell.borrow_mut() = Some(Arc::clone(reopener)));
    let result = read();
    READING.with(|cell| *cell.borrow_mut() = None);
    result
}

/// The reopener of the checkpoint being read, if one is.
pub fn current() -> Option<Arc<Reopener>> {
    READING.with(|cell| cell.borrow().clone())
}
