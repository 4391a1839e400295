//! STS: who the function is, and credentials for the other accounts.

use aws_credential_types::Credentials;

use crate::model::AccountId;

use super::call::{CallError, Calls, FailureKind, Service};
use super::clients::AccountSession;

/// The caller's account and the partition of its ARN (`aws`, `aws-us-gov`, `aws-cn`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account_id: AccountId,
    pub partition: String,
}

/// The partition of an ARN: its second field.
pub fn partition_of(arn: &str) -> Option<&str> {
    let mut fields = arn.split(':');
    (fields.next() == Some("arn"))
        .then(|| fields.next())
        .flatten()
        .filter(|p| !p.is_empty())
}

pub async fn caller_identity(client: &aws_sdk_sts::Client, calls: &Calls) -> Result<CallerIdentity, CallError> {
    let request = client.get_caller_identity();
    // The account is unknown yet: the limiter does not apply to STS anyway.
    let unknown = AccountId::from("");
    let output = calls
        .run(&unknown, Service::Sts, "GetCallerIdentity", || request.clone().send())
        .await?;
    let malformed = |what: &str| CallError {
        service: Service::Sts.as_str(),
        operation: "GetCallerIdentity",
        kind: FailureKind::Rejected,
        code: "MalformedResponse".into(),
        message: format!("the answer has no {what}"),
        attempts: 1,
    };
    let account_id = output
        .account()
        .map(AccountId::from)
        .ok_or_else(|| malformed("Account"))?;
    let partition = output
        .arn()
        .and_then(partition_of)
        .map(str::to_owned)
        .ok_or_else(|| malformed("ARN partition"))?;
    Ok(CallerIdentity { account_id, partition })
}

/// Assumes `role_name` in `account`, from the current account.
pub async fn assume_role(
    client: &aws_sdk_sts::Client,
    calls: &Calls,
    caller: &AccountId,
    partition: &str,
    account: &AccountId,
    role_name: &str,
    session_name: &str,
) -> Result<AccountSession, CallError> {
    let credentials =
        assume_role_credentials(client, calls, caller, partition, account, role_name, session_name).await?;
    Ok(AccountSession::assumed(account.clone(), credentials))
}

/// The credentials of `role_name` in `account`, assumed from the current account.
pub async fn assume_role_credentials(
    client: &aws_sdk_sts::Client,
    calls: &Calls,
    caller: &AccountId,
    partition: &str,
    account: &AccountId,
    role_name: &str,
    session_name: &str,
) -> Result<Credentials, CallError> {
    let role_arn = format!("arn:{partition}:iam::{account}:role/{role_name}");
    let request = client.assume_role().role_arn(&role_arn).role_session_name(session_name);
    let output = calls
        .run(caller, Service::Sts, "AssumeRole", || request.clone().send())
        .await?;
    let Some(c) = output.credentials() else {
        return Err(CallError {
            service: Service::Sts.as_str(),
            operation: "AssumeRole",
            kind: FailureKind::Rejected,
            code: "MalformedResponse".into(),
            message: format!("no credentials returned for {role_arn}"),
            attempts: 1,
        });
    };
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        expiry,
        "AssumeRole",
    ))
}

#[cfg(test)]
mod tests {
    use super::partition_of;

    #[test]
    fn partition_comes_from_the_arn() {
        assert_eq!(partition_of("arn:aws:sts::111122223333:assumed-role/r/s"), Some("aws"));
        assert_eq!(
            partition_of("arn:aws-us-gov:iam::111122223333:user/x"),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of("arn:aws-cn:iam::111122223333:root"), Some("aws-cn"));
        assert_eq!(partition_of("nonsense"), None);
        assert_eq!(partition_of("arn::iam"), None);
    }
}
