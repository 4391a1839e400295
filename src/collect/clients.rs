//! AWS clients for one account and Region, built from one shared configuration.
//!
//! The base configuration comes from the standard credential chain (or the Lambda
//! role). Every client shares one HTTP connection pool; clients for another account use
//! the credentials AssumeRole returned for it. `AWS_ENDPOINT_URL` (the local emulator)
//! is honoured, with path-style S3 addressing when it is set.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::region::Region;

use crate::model::AccountId;

/// The credentials an account is read with.
#[derive(Clone, Debug)]
pub struct AccountSession {
    pub account_id: AccountId,
    /// `None`: the function's own credentials (the current account).
    credentials: Option<SharedCredentialsProvider>,
}

impl AccountSession {
    /// The current account, read with the function's own credentials.
    pub fn own(account_id: AccountId) -> Self {
        AccountSession {
            account_id,
            credentials: None,
        }
    }

    /// Another account, read with credentials from AssumeRole.
    pub fn assumed(account_id: AccountId, credentials: Credentials) -> Self {
        AccountSession {
            account_id,
            credentials: Some(SharedCredentialsProvider::new(credentials)),
        }
    }
}

/// Builds clients; cheap to clone.
#[derive(Clone, Debug)]
pub struct Clients {
    base: SdkConfig,
    home_region: String,
}

/// No AWS Region could be found for the run.
#[derive(Debug, thiserror::Error)]
#[error(
    "no AWS Region is configured: set AWS_REGION (or a region in your AWS profile) to the Region the audit calls home"
)]
pub struct NoRegion;

impl Clients {
    /// Loads the standard configuration (environment, profile, container or Lambda role).
    pub async fn load() -> Result<Self, NoRegion> {
        Self::from_loader(aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// Clients for a fixed endpoint, Region and static credentials: the local emulator
    /// in tests, without touching the process environment.
    pub async fn for_endpoint(endpoint: &str, region: &str, credentials: Credentials) -> Result<Self, NoRegion> {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials);
        Self::from_loader(loader).await
    }

    async fn from_loader(loader: aws_config::ConfigLoader) -> Result<Self, NoRegion> {
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .build_https();
        let base = loader
            .http_client(http_client)
            // One retry policy for the whole run lives in `call.rs`.
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            )
            .load()
            .await;
        let home_region = base.region().map(|r| r.to_string()).ok_or(NoRegion)?;
        Ok(Clients { base, home_region })
    }

    /// The Region the run calls home: Organizations, STS, S3 and ListInstances with
    /// `RegionScope=ALL_REGIONS` go there.
    pub fn home_region(&self) -> &str {
        &self.home_region
    }

    fn config(&self, session: Option<&AccountSession>, region: &str) -> SdkConfig {
        let mut builder = self.base.to_builder().region(Region::new(region.to_owned()));
        if let Some(credentials) = session.and_then(|s| s.credentials.clone()) {
            builder = builder.credentials_provider(credentials);
        }
        builder.build()
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.config(None, &self.home_region))
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config(None, &self.home_region))
    }

    pub fn sso_admin(&self, session: &AccountSession, region: &str) -> aws_sdk_ssoadmin::Client {
        aws_sdk_ssoadmin::Client::new(&self.config(Some(session), region))
    }

    pub fn identity_store(&self, session: &AccountSession, region: &str) -> aws_sdk_identitystore::Client {
        aws_sdk_identitystore::Client::new(&self.config(Some(session), region))
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = self.config(None, &self.home_region);
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        aws_sdk_s3::Client::from_conf(s3_config)
    }
}
