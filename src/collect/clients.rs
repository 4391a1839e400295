//! AWS clients for one account and Region, built from one shared configuration.
//!
//! The base configuration comes from the standard credential chain (or the Lambda
//! role). Every client shares one HTTP connection pool; clients for another account use
//! the credentials AssumeRole returned for it. `AWS_ENDPOINT_URL` (the local emulator)
//! is honoured, with path-style S3 addressing when it is set.
//!
//! An audit builds a client per account it reads (the credentials differ), thousands in
//! a large organization. The SDK's HTTP client builds and discards a whole TLS connector,
//! root certificates included, each time a client is constructed (a warm-up, see
//! awslabs/aws-sdk-rust#975); that was a fifth of the audit's CPU. `SharedPool` hands
//! out the same cached connector without that warm-up.
//!
//! The credential chain is the SDK's default one, except for its last source, EC2
//! instance metadata (IMDS): the SDK's IMDS client waits a second to connect, four times,
//! which a laptop (where nothing answers at 169.254.169.254) paid on every run without
//! credentials. On EC2 the metadata service answers within milliseconds, so a short
//! connect timeout and two attempts cost nothing there.

use std::time::Duration;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
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

/// A session as a checkpoint holds it: never credentials, only whose they are.
#[derive(serde::Serialize, serde::Deserialize)]
struct SessionRecord {
    account_id: AccountId,
    assumed: bool,
}

impl serde::Serialize for AccountSession {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SessionRecord {
            account_id: self.account_id.clone(),
            assumed: self.credentials.is_some(),
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for AccountSession {
    /// An assumed session comes back reopened: the role is assumed again on first use
    /// (see `reopen.rs`); reading one outside a checkpoint's reading is an error.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let record = SessionRecord::deserialize(deserializer)?;
        if !record.assumed {
            return Ok(AccountSession::own(record.account_id));
        }
        let reopener = super::reopen::current().ok_or_else(|| {
            <D::Error as serde::de::Error>::custom("an assumed session can only be read back with a reopener")
        })?;
        let provider = super::reopen::Reopened {
            reopener,
            account: record.account_id.clone(),
        };
        Ok(AccountSession {
            account_id: record.account_id,
            credentials: Some(SharedCredentialsProvider::new(provider)),
        })
    }
}

/// The SDK's HTTP client minus its warm-up at client construction: connectors are still
/// built on first use and cached per timeout settings by the inner client, so every
/// client of the run shares one connection pool.
#[derive(Debug)]
struct SharedPool(SharedHttpClient);

impl HttpClient for SharedPool {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// How long the credential chain waits to connect to EC2 instance metadata, per attempt.
const IMDS_CONNECT_TIMEOUT: Duration = Duration::from_millis(250);
/// How long it waits for an answer once connected.
const IMDS_READ_TIMEOUT: Duration = Duration::from_secs(1);
const IMDS_ATTEMPTS: u32 = 2;

/// The one HTTP client (connection pool) of the run.
fn shared_http_client() -> SharedHttpClient {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .build_https();
    SharedHttpClient::new(SharedPool(http_client))
}

/// Builds clients; cheap to clone. The clients that use the run's own credentials in the
/// home Region are built once.
#[derive(Clone, Debug)]
pub struct Clients {
    base: SdkConfig,
    home_region: String,
    sts: aws_sdk_sts::Client,
    organizations: aws_sdk_organizations::Client,
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
        let http_client = shared_http_client();
        let imds = aws_config::imds::Client::builder()
            .connect_timeout(IMDS_CONNECT_TIMEOUT)
            .read_timeout(IMDS_READ_TIMEOUT)
            .max_attempts(IMDS_ATTEMPTS)
            .build();
        let provider_config = ProviderConfig::default()
            .with_http_client(http_client.clone())
            .with_behavior_version(Some(BehaviorVersion::latest()));
        let chain = DefaultCredentialsChain::builder()
            .configure(provider_config)
            .imds_client(imds)
            .build()
            .await;
        let loader = aws_config::defaults(BehaviorVersion::latest()).credentials_provider(chain);
        Self::from_loader(loader, http_client).await
    }

    /// Clients for a fixed endpoint, Region and static credentials: the local emulator
    /// in tests, without touching the process environment.
    pub async fn for_endpoint(endpoint: &str, region: &str, credentials: Credentials) -> Result<Self, NoRegion> {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(region.to_owned()))
            .credentials_provider(credentials);
        Self::from_loader(loader, shared_http_client()).await
    }

    async fn from_loader(loader: aws_config::ConfigLoader, http_client: SharedHttpClient) -> Result<Self, NoRegion> {
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
        let home = config(&base, None, &home_region);
        Ok(Clients {
            sts: aws_sdk_sts::Client::new(&home),
            organizations: aws_sdk_organizations::Client::new(&home),
            base,
            home_region,
        })
    }

    /// The Region the run calls home: Organizations, STS, S3 and ListInstances with
    /// `RegionScope=ALL_REGIONS` go there.
    pub fn home_region(&self) -> &str {
        &self.home_region
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        self.organizations.clone()
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        self.sts.clone()
    }

    pub fn sso_admin(&self, session: &AccountSession, region: &str) -> aws_sdk_ssoadmin::Client {
        aws_sdk_ssoadmin::Client::new(&config(&self.base, Some(session), region))
    }

    pub fn identity_store(&self, session: &AccountSession, region: &str) -> aws_sdk_identitystore::Client {
        aws_sdk_identitystore::Client::new(&config(&self.base, Some(session), region))
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = config(&self.base, None, &self.home_region);
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        aws_sdk_s3::Client::from_conf(s3_config)
    }
}

/// The base configuration for one Region, with an account's credentials when given.
fn config(base: &SdkConfig, session: Option<&AccountSession>, region: &str) -> SdkConfig {
    let mut builder = base.to_builder().region(Region::new(region.to_owned()));
    if let Some(credentials) = session.and_then(|s| s.credentials.clone()) {
        builder = builder.credentials_provider(credentials);
    }
    builder.build()
}
