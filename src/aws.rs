//! The DynamoDB client: rustls with ring, timeouts sized for a phone call
//! (the functions) or for a person waiting at a terminal (the CLI).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// Where to send DynamoDB requests, beyond what the SDK reads from the
/// environment (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, credentials...).
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Overrides the region.
    pub region: Option<String>,
    /// Overrides the endpoint (a local DynamoDB-compatible server).
    pub endpoint_url: Option<String>,
    /// Bounds each HTTP attempt.
    pub attempt_timeout: Option<Duration>,
    /// Bounds a whole operation, its retries included. The functions leave
    /// it unset and bound the operation with their own deadline; the CLI,
    /// with nothing else to stop it, sets it.
    pub operation_timeout: Option<Duration>,
    /// Bounds opening a connection [default: [`LAMBDA_CONNECT_TIMEOUT`]].
    pub connect_timeout: Option<Duration>,
    /// Fixed credentials instead of the SDK's chain (local servers accept any).
    pub credentials: Option<Credentials>,
}

/// The connect timeout of the functions: DynamoDB is in the same region.
pub const LAMBDA_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// The HTTPS client every AWS client here uses: rustls with ring (the SDK
/// crates are built without their default client).
pub fn https_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// Builds a DynamoDB client from the standard SDK configuration chain.
pub async fn dynamodb_client(options: &ClientOptions) -> Client {
    let http_client = https_client();
    let mut timeouts = TimeoutConfig::builder()
        .connect_timeout(options.connect_timeout.unwrap_or(LAMBDA_CONNECT_TIMEOUT));
    if let Some(attempt) = options.attempt_timeout {
        timeouts = timeouts.operation_attempt_timeout(attempt);
    }
    if let Some(operation) = options.operation_timeout {
        timeouts = timeouts.operation_timeout(operation);
    }
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .timeout_config(timeouts.build())
        // A caller is waiting: retry throttles and 5xx quickly, not with the
        // SDK's default one-second backoff.
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(20))
                .with_max_backoff(Duration::from_millis(200)),
        );
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &options.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(credentials) = &options.credentials {
        loader = loader.credentials_provider(credentials.clone());
    }
    let shared = loader.load().await;
    Client::new(&shared)
}
