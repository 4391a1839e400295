//! One policy for every AWS call: client-side rate limit, retries with backoff and
//! jitter, the service's requested wait honoured (Identity Store's `RetryAfterSeconds`
//! body member, or a `Retry-After` header), and errors classified into what the reports
//! need.
//!
//! The SDK's own retries are turned off (see `clients.rs`) so that this is the only
//! retry layer: there is no shared retry quota for a burst of throttling to drain, and
//! every retry can respect the Lambda deadline.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::model::{AccountId, ErrorCode};

/// The services the audit calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Service {
    Organizations,
    Sts,
    SsoAdmin,
    IdentityStore,
    S3,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Organizations => "organizations",
            Service::Sts => "sts",
            Service::SsoAdmin => "sso-admin",
            Service::IdentityStore => "identitystore",
            Service::S3 => "s3",
        }
    }

    /// Identity Center services have documented per-account rates (about 20/s); the
    /// client-side limiter keeps calls near them instead of provoking throttling.
    fn rate_limited(self) -> bool {
        matches!(self, Service::SsoAdmin | Service::IdentityStore)
    }
}

/// How a failed call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    Throttled,
    AccessDenied,
    /// 5xx, timeouts, connection failures: worth retrying.
    Transient,
    /// Anything else the service answered: not retried.
    Rejected,
    /// Retries were cut short because the run's deadline was near.
    DeadlineReached,
}

/// A call that failed for good.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{service}:{operation} failed after {attempts} attempt(s): {code}: {message}")]
pub struct CallError {
    pub service: &'static str,
    pub operation: &'static str,
    pub kind: FailureKind,
    /// The AWS error code, or a description of the transport failure.
    pub code: String,
    pub message: String,
    pub attempts: u32,
}

impl CallError {
    /// The stable report code for this failure.
    pub fn error_code(&self) -> ErrorCode {
        match self.kind {
            FailureKind::Throttled => ErrorCode::ThrottledRetriesExhausted,
            FailureKind::AccessDenied => ErrorCode::AccessDenied,
            FailureKind::Transient => ErrorCode::ServiceUnavailable,
            FailureKind::Rejected => ErrorCode::ServiceError,
            FailureKind::DeadlineReached => ErrorCode::DeadlineReached,
        }
    }
}

/// Retry settings.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// For report uploads: fewer, shorter retries, so a bucket that refuses every write
    /// fails the invocation within seconds, well inside the deadline margin.
    pub fn uploads() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(10),
        }
    }

    /// Full-jitter exponential backoff for the attempt that just failed (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.min(16));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }
}

/// How a call reaches its endpoint: a known one, one that may be unreachable (a
/// Region of a scan), or through a request slot reserved for it ([`SlotReservation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    Known,
    Probe,
    Reserved,
}

tokio::task_local! {
    /// The request permit a running unit keeps between its calls, so that its next
    /// page does not queue behind units that have not started (a chain of pages is
    /// often the run's critical path). Given back while the unit waits on a rate limit
    /// or a backoff, and when the unit ends.
    static HELD: RefCell<Option<OwnedSemaphorePermit>>;
}

/// Runs a unit of work so that its calls keep their request permit between them
/// (see `HELD`); calls outside such a scope take a permit per call.
pub async fn keeping_permit<F: Future>(unit: F) -> F::Output {
    HELD.scope(RefCell::new(None), unit).await
}

/// Gives back the permit the current unit holds, if any.
fn release_held() {
    let _ = HELD.try_with(|held| held.borrow_mut().take());
}

/// Keeps `permit` for the current unit's next call (dropped outside a unit).
fn keep_held(permit: Option<OwnedSemaphorePermit>) {
    if let Some(permit) = permit {
        let _ = HELD.try_with(move |held| *held.borrow_mut() = Some(permit));
    }
}

/// One of the `MAX_CONCURRENCY` request slots, set aside for a chain of calls that
/// is the run's critical path (the organization's listing, one page at a time) so
/// that it never queues behind other reads; given back when dropped.
#[derive(Debug)]
pub struct SlotReservation {
    calls: Option<Arc<Calls>>,
}

impl Drop for SlotReservation {
    fn drop(&mut self) {
        if let Some(in_flight) = self.calls.as_ref().and_then(|c| c.in_flight.as_ref()) {
            in_flight.add_permits(1);
        }
    }
}

/// Where one (account, service) rate limit stood when a checkpoint was taken.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RateSlot {
    pub account: AccountId,
    pub service: Service,
    /// Its next free slot, this long after the checkpoint.
    pub ahead_ms: u64,
}

/// Shared by every call of a run: the limiter state, the policy, the deadline, counters.
#[derive(Debug)]
pub struct Calls {
    policy: RetryPolicy,
    /// Requests per second per (account, service); `None` = no limit.
    rate: Option<f64>,
    /// Theoretical arrival time per (account, service) (a GCRA limiter).
    slots: Mutex<HashMap<(AccountId, Service), Instant>>,
    stop_at: Option<Instant>,
    /// At most this many requests in flight at once (`MAX_CONCURRENCY`); a call takes
    /// a permit only once its rate-limit slot has come, so a call waiting on one
    /// account's limit never holds back another account's.
    in_flight: Option<Arc<Semaphore>>,
    retries: AtomicU64,
    calls: AtomicU64,
}

impl Calls {
    pub fn new(policy: RetryPolicy, rate_per_second: f64, stop_at: Option<Instant>) -> Self {
        Calls {
            policy,
            rate: (rate_per_second > 0.0).then_some(rate_per_second),
            slots: Mutex::new(HashMap::new()),
            stop_at,
            in_flight: None,
            retries: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        }
    }

    /// Allows at most `requests` requests in flight at once.
    pub fn with_concurrency(mut self, requests: usize) -> Self {
        self.in_flight = Some(Arc::new(Semaphore::new(requests.max(1))));
        self
    }

    /// The rate-limit slots still ahead of now: what a checkpoint keeps, so that the
    /// next invocation goes on at the rate, not at a fresh burst.
    pub fn rate_slots(&self) -> Vec<RateSlot> {
        let now = Instant::now();
        let Ok(slots) = self.slots.lock() else {
            return Vec::new();
        };
        slots
            .iter()
            .filter(|(_, tat)| **tat > now)
            .map(|((account, service), tat)| RateSlot {
                account: account.clone(),
                service: *service,
                ahead_ms: u64::try_from((*tat - now).as_millis()).unwrap_or(u64::MAX),
            })
            .collect()
    }

    /// Takes up the slots a checkpoint kept, as if they were taken just now (the time
    /// between two invocations is not counted: never faster than the rate).
    pub fn restore_rate_slots(&self, saved: &[RateSlot]) {
        let now = Instant::now();
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        for slot in saved {
            let tat = now + Duration::from_millis(slot.ahead_ms.min(60_000));
            let entry = slots.entry((slot.account.clone(), slot.service)).or_insert(tat);
            *entry = (*entry).max(tat);
        }
    }

    /// Calls made and retries done so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.calls.load(Ordering::Relaxed), self.retries.load(Ordering::Relaxed))
    }

    /// Takes the next slot of the caller's rate limit: when it comes, or `None` when
    /// the call may go now.
    fn next_slot(&self, caller: &AccountId, service: Service) -> Option<Instant> {
        let rate = self.rate.filter(|_| service.rate_limited())?;
        let interval = Duration::from_secs_f64(1.0 / rate);
        // Allow a burst of about one second's worth of calls.
        let tolerance = interval.mul_f64(rate.max(1.0) - 1.0);
        let now = Instant::now();
        let Ok(mut slots) = self.slots.lock() else {
            return None;
        };
        let tat = slots.entry((caller.clone(), service)).or_insert(now);
        let earliest = tat.checked_sub(tolerance).unwrap_or(now);
        let start = earliest.max(now);
        *tat = (*tat).max(now) + interval;
        (start > now).then_some(start)
    }

    /// A request permit for the next call: the one this unit kept from its last call,
    /// or a new one (`None` without a concurrency bound).
    async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        let in_flight = self.in_flight.as_ref()?;
        match HELD.try_with(|held| held.borrow_mut().take()) {
            Ok(Some(permit)) => Some(permit),
            _ => Arc::clone(in_flight).acquire_owned().await.ok(),
        }
    }

    /// Runs `send` under the policy. `send` builds and sends the request afresh each time.
    pub async fn run<T, E, F, Fut>(
        &self,
        caller: &AccountId,
        service: Service,
        operation: &'static str,
        send: F,
    ) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        self.run_with(caller, service, operation, Reach::Known, send).await
    }

    /// Sets a request slot aside (waiting for one to be free) until the reservation is
    /// dropped; calls made with [`Calls::run_reserved`] meanwhile use it.
    pub async fn reserve_slot(self: &Arc<Self>) -> SlotReservation {
        match &self.in_flight {
            Some(in_flight) => match in_flight.acquire().await {
                Ok(permit) => {
                    permit.forget();
                    SlotReservation {
                        calls: Some(Arc::clone(self)),
                    }
                }
                Err(_) => SlotReservation { calls: None },
            },
            None => SlotReservation { calls: None },
        }
    }

    /// Like [`Calls::run`], in a slot set aside by [`Calls::reserve_slot`] (one call of
    /// the reservation at a time).
    pub async fn run_reserved<T, E, F, Fut>(
        &self,
        caller: &AccountId,
        service: Service,
        operation: &'static str,
        send: F,
    ) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        self.run_with(caller, service, operation, Reach::Reserved, send).await
    }

    /// Like [`Calls::run`], for a call to a Region that may not be reachable: a
    /// connection that cannot be made is final at once (a Region without an endpoint,
    /// or not enabled for the account), not retried ten times.
    pub async fn run_probe<T, E, F, Fut>(
        &self,
        caller: &AccountId,
        service: Service,
        operation: &'static str,
        send: F,
    ) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        self.run_with(caller, service, operation, Reach::Probe, send).await
    }

    async fn run_with<T, E, F, Fut>(
        &self,
        caller: &AccountId,
        service: Service,
        operation: &'static str,
        reach: Reach,
        mut send: F,
    ) -> Result<T, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(slot) = self.next_slot(caller, service) {
                // Waiting on this account's rate limit: the unit's permit goes back, for
                // other accounts' calls to use meanwhile.
                release_held();
                tokio::time::sleep_until(slot).await;
            }
            // A call in a reserved slot (the organization's listing) already holds one.
            let permit = match reach {
                Reach::Reserved => None,
                Reach::Known | Reach::Probe => self.permit().await,
            };
            self.calls.fetch_add(1, Ordering::Relaxed);
            let sent = send().await;
            let err = match sent {
                Ok(value) => {
                    keep_held(permit);
                    return Ok(value);
                }
                Err(err) => err,
            };
            // No permit is held through a backoff.
            drop(permit);
            let failure = classify(&err);
            let give_up = |failure: Failure| CallError {
                service: service.as_str(),
                operation,
                kind: failure.kind,
                code: failure.code,
                message: failure.message,
                attempts: attempt,
            };
            let unreachable = reach == Reach::Probe && failure.code == "DispatchFailure";
            let retryable = matches!(failure.kind, FailureKind::Throttled | FailureKind::Transient) && !unreachable;
            if !retryable || attempt >= self.policy.max_attempts {
                return Err(give_up(failure));
            }
            let mut delay = self.policy.backoff(attempt);
            if let Some(after) = failure.retry_after {
                delay = delay.max(after.min(self.policy.max_retry_after));
            }
            if self.stop_at.is_some_and(|stop| Instant::now() + delay >= stop) {
                // Not the service's last word: the run stopped retrying to write its
                // reports before the deadline.
                let mut stopped = give_up(failure);
                stopped.message = format!(
                    "retries stopped by the deadline ({} was the last answer): {}",
                    stopped.code, stopped.message
                );
                stopped.kind = FailureKind::DeadlineReached;
                return Err(stopped);
            }
            tracing::debug!(service = service.as_str(), operation, attempt, delay_ms = delay.as_millis() as u64, code = %failure.code, "retrying");
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }
}

struct Failure {
    kind: FailureKind,
    code: String,
    message: String,
    retry_after: Option<Duration>,
}

/// The code of a call that failed because no source of the credential chain had
/// credentials: not transient, so not retried.
pub const NO_CREDENTIALS: &str = "NoCredentials";

/// What the default credential chain tried, and what to set: the message of a
/// `NoCredentials` failure, on one line.
const NO_CREDENTIALS_HELP: &str = "tried the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), \
the profile AWS_PROFILE (or default) of ~/.aws/config and ~/.aws/credentials (SSO and credential_process \
included), web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN), the ECS container endpoint and EC2 \
instance metadata; set AWS_PROFILE to a configured profile (aws configure, or aws sso login), or \
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (RUST_LOG=debug shows each source's answer)";

/// The credentials error behind a failed call, if the call failed for want of
/// credentials (the SDK reports it as a dispatch or construction failure).
fn credentials_error<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a CredentialsError> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<CredentialsError>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// The AssumeRole failure behind a resumed session's credentials error, if it is one.
fn reopen_failure(err: &CredentialsError) -> Option<&CallError> {
    let mut current = StdError::source(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<CallError>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

/// An error and its sources on one line, without the `Debug` dump that
/// `DisplayErrorContext` appends.
fn one_line(err: &(dyn StdError + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        line.push_str(": ");
        line.push_str(&e.to_string());
        source = e.source();
    }
    line.replace(['\n', '\r'], " ")
}

const THROTTLING_CODES: [&str; 9] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
    "PriorRequestNotComplete",
];

const ACCESS_DENIED_CODES: [&str; 5] = [
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "UnauthorizedOperation",
    "AWSOrganizationsNotInUseException",
];

const TRANSIENT_CODES: [&str; 7] = [
    "InternalServerException",
    "InternalFailure",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ServiceException",
    "RequestTimeout",
];

/// The longest requested wait read from an answer; anything longer is read as this (the
/// policy caps it further). Keeps `Duration::from_secs_f64` away from its overflow panic.
const RETRY_AFTER_CEILING: Duration = Duration::from_secs(3600);

/// The wait a failed answer asks for before a retry. Identity Store puts it in the
/// error's JSON body (`RetryAfterSeconds`, an integer in its model; no header), as do
/// other services that model it; a `Retry-After` header in seconds is read otherwise.
/// `None` when absent, negative or not a number; huge values are capped.
fn requested_wait(body: Option<&[u8]>, header: Option<&str>) -> Option<Duration> {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(rename = "RetryAfterSeconds")]
        retry_after_seconds: Option<serde_json::Value>,
    }
    let from_body = body
        .and_then(|b| serde_json::from_slice::<ErrorBody>(b).ok())
        .and_then(|b| b.retry_after_seconds)
        .and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        });
    let seconds = from_body.or_else(|| header.and_then(|h| h.trim().parse::<f64>().ok()))?;
    (seconds.is_finite() && seconds >= 0.0)
        .then(|| Duration::from_secs_f64(seconds.min(RETRY_AFTER_CEILING.as_secs_f64())))
}

fn classify<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let retry_after = err
        .raw_response()
        .and_then(|r| requested_wait(r.body().bytes(), r.headers().get("retry-after")));
    let credentials = match err {
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
            StdError::source(err).and_then(credentials_error)
        }
        _ => None,
    };
    if let Some(assume) = credentials.and_then(reopen_failure) {
        // A resumed run could not assume an account's member role again (`reopen.rs`).
        return Failure {
            kind: match assume.kind {
                FailureKind::AccessDenied => FailureKind::AccessDenied,
                FailureKind::DeadlineReached => FailureKind::DeadlineReached,
                _ => FailureKind::Rejected,
            },
            code: assume.code.clone(),
            message: format!("the member role could not be assumed again to resume the run: {assume}"),
            retry_after: None,
        };
    }
    if let Some(cause) = credentials {
        // A missing or broken credential chain is not transient: retrying only repeats
        // the chain's time-outs. The SDK's detail goes to the debug log.
        tracing::debug!(error = ?err, "no credentials");
        return Failure {
            kind: FailureKind::Rejected,
            code: NO_CREDENTIALS.into(),
            message: format!("{NO_CREDENTIALS_HELP}; the last source said: {}", one_line(cause)),
            retry_after: None,
        };
    }
    match err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or("Unknown").to_owned();
            let message = ctx.err().message().unwrap_or("").to_owned();
            let kind = if THROTTLING_CODES.contains(&code.as_str()) || status == Some(429) {
                FailureKind::Throttled
            } else if ACCESS_DENIED_CODES.contains(&code.as_str()) {
                FailureKind::AccessDenied
            } else if TRANSIENT_CODES.contains(&code.as_str()) || status.is_some_and(|s| s >= 500) {
                FailureKind::Transient
            } else {
                FailureKind::Rejected
            };
            Failure {
                kind,
                code,
                message,
                retry_after,
            }
        }
        SdkError::TimeoutError(_) => Failure {
            kind: FailureKind::Transient,
            code: "Timeout".into(),
            message: DisplayErrorContext(err).to_string(),
            retry_after: None,
        },
        SdkError::DispatchFailure(_) => Failure {
            kind: FailureKind::Transient,
            code: "DispatchFailure".into(),
            message: DisplayErrorContext(err).to_string(),
            retry_after: None,
        },
        SdkError::ResponseError(_) => Failure {
            kind: if status.is_some_and(|s| s >= 500 || s == 429) {
                FailureKind::Transient
            } else {
                FailureKind::Rejected
            },
            code: format!("UnreadableResponse(HTTP {})", status.unwrap_or(0)),
            message: DisplayErrorContext(err).to_string(),
            retry_after,
        },
        _ => Failure {
            kind: FailureKind::Rejected,
            code: "ClientError".into(),
            message: DisplayErrorContext(err).to_string(),
            retry_after: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use std::sync::atomic::AtomicU32;

    /// A call whose connection can never be made (a Region with no endpoint).
    async fn unreachable(calls: &Calls, probe: bool) -> (CallError, u32) {
        let attempts = AtomicU32::new(0);
        let send = || {
            attempts.fetch_add(1, Ordering::Relaxed);
            async {
                Err::<(), SdkError<aws_sdk_ssoadmin::operation::list_instances::ListInstancesError, HttpResponse>>(
                    SdkError::dispatch_failure(ConnectorError::io("connection refused".into())),
                )
            }
        };
        let account = AccountId::from("111122223333");
        let err = if probe {
            calls
                .run_probe(&account, Service::SsoAdmin, "ListInstances", send)
                .await
        } else {
            calls.run(&account, Service::SsoAdmin, "ListInstances", send).await
        }
        .unwrap_err();
        (err, attempts.load(Ordering::Relaxed))
    }

    #[tokio::test]
    async fn a_probe_knows_an_unreachable_region_at_its_first_answer() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_retry_after: Duration::from_millis(2),
        };
        let calls = Calls::new(policy, 0.0, None);
        let (err, attempts) = unreachable(&calls, true).await;
        assert_eq!((attempts, err.code.as_str()), (1, "DispatchFailure"));
        // An ordinary call keeps retrying a connection failure.
        let (_, attempts) = unreachable(&calls, false).await;
        assert_eq!(attempts, 10);
    }
    use super::*;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    /// An Identity Store throttling answer with this body and headers, as the SDK sees it.
    fn throttled(body: &str, headers: &[(&'static str, &str)]) -> SdkError<ErrorMetadata, HttpResponse> {
        let mut raw = HttpResponse::new(StatusCode::try_from(400).unwrap(), SdkBody::from(body.to_owned()));
        for (name, value) in headers {
            raw.headers_mut().insert(*name, (*value).to_owned());
        }
        SdkError::service_error(ErrorMetadata::builder().code("ThrottlingException").build(), raw)
    }

    #[test]
    fn retry_after_seconds_is_read_from_the_json_body() {
        let f = classify(&throttled(
            r#"{"__type":"ThrottlingException","Message":"Rate exceeded","RetryAfterSeconds":3}"#,
            &[],
        ));
        assert_eq!(f.kind, FailureKind::Throttled);
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
        // The body wins over a header; the header alone still counts.
        let f = classify(&throttled(r#"{"RetryAfterSeconds":2}"#, &[("retry-after", "7")]));
        assert_eq!(f.retry_after, Some(Duration::from_secs(2)));
        let f = classify(&throttled("{}", &[("retry-after", "7")]));
        assert_eq!(f.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_missing_credential_chain_is_not_retried_and_says_what_to_set() {
        use aws_credential_types::provider::error::CredentialsError;
        use aws_smithy_runtime_api::client::result::ConnectorError;
        // How the SDK reports it: a dispatch failure caused by the identity resolver.
        let cause = CredentialsError::not_loaded("no providers in chain provided credentials");
        let err: SdkError<ErrorMetadata, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::other(Box::new(cause), None));
        let f = classify(&err);
        assert_eq!(f.kind, FailureKind::Rejected, "not retryable");
        assert_eq!(f.code, NO_CREDENTIALS);
        assert!(!f.message.contains('\n'), "{}", f.message);
        for source in [
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "SSO",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "ECS",
            "EC2 instance metadata",
        ] {
            assert!(f.message.contains(source), "{source} not named: {}", f.message);
        }
        assert!(
            f.message.contains("no providers in chain provided credentials"),
            "{}",
            f.message
        );
        assert!(
            !f.message.contains("CredentialsNotLoaded"),
            "no Debug dump: {}",
            f.message
        );
        // A connection failure is still transient.
        let err: SdkError<ErrorMetadata, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection refused".into()));
        assert_eq!(classify(&err).kind, FailureKind::Transient);
    }

    #[test]
    fn missing_negative_nan_and_huge_waits() {
        for body in [
            "{}",
            "",
            "not json",
            r#"{"RetryAfterSeconds":null}"#,
            r#"{"RetryAfterSeconds":-1}"#,
            r#"{"RetryAfterSeconds":"NaN"}"#,
            r#"{"RetryAfterSeconds":[]}"#,
        ] {
            assert_eq!(classify(&throttled(body, &[])).retry_after, None, "{body}");
        }
        for header in ["NaN", "-3", "inf", "soon"] {
            assert_eq!(
                classify(&throttled("{}", &[("retry-after", header)])).retry_after,
                None,
                "{header}"
            );
        }
        // Far beyond what a Duration holds: capped, no panic.
        for body in [
            r#"{"RetryAfterSeconds":1e300}"#,
            r#"{"RetryAfterSeconds":100000000000000000000}"#,
        ] {
            assert_eq!(
                classify(&throttled(body, &[])).retry_after,
                Some(RETRY_AFTER_CEILING),
                "{body}"
            );
        }
        assert_eq!(
            classify(&throttled("{}", &[("retry-after", "1e300")])).retry_after,
            Some(RETRY_AFTER_CEILING)
        );
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for attempt in 1..30 {
            assert!(p.backoff(attempt) <= p.max_delay);
        }
    }

    impl Calls {
        /// Waits for a slot of the caller's rate limit, as a call does.
        async fn pace(&self, caller: &AccountId, service: Service) {
            if let Some(slot) = self.next_slot(caller, service) {
                tokio::time::sleep_until(slot).await;
            }
        }
    }

    #[tokio::test]
    async fn the_limiter_spaces_calls_per_account_and_service() {
        let calls = Calls::new(RetryPolicy::default(), 50.0, None);
        let a = AccountId::from("111122223333");
        let b = AccountId::from("111122224444");
        let start = Instant::now();
        for _ in 0..70 {
            calls.pace(&a, Service::IdentityStore).await;
        }
        // A burst of 50, then 20 more at 50/s: at least 0.4 s.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(390), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        // Another account, and an unlimited service, are not held back.
        let t = Instant::now();
        calls.pace(&b, Service::IdentityStore).await;
        calls.pace(&a, Service::Sts).await;
        assert!(t.elapsed() < Duration::from_millis(50));
    }
}
