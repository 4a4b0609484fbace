//! The DynamoDB client: rustls with ring, timeouts sized for a phone call
//! (the functions) or for a person waiting at a terminal (the CLI), and the
//! root certificates it trusts.

use std::ffi::OsString;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

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
    /// The root certificates HTTPS connections are verified against.
    pub trust_roots: TrustRoots,
}

/// Which root certificates an HTTPS client trusts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TrustRoots {
    /// The system's store, as `rustls-native-certs` finds it (`SSL_CERT_FILE`,
    /// `SSL_CERT_DIR`, else the distribution's bundle and directory). The
    /// CLI's: an admin behind a TLS-inspecting proxy has its CA installed
    /// there.
    #[default]
    System,
    /// Mozilla's root certificates compiled into the binary
    /// (`webpki-root-certs`), which cover the public CAs DynamoDB's
    /// certificates chain to (Amazon Trust Services, and the older ones).
    /// The functions': reading and parsing the system's store (a bundle and
    /// a directory of the same ~140 certificates, each base64-decoded) was
    /// the largest part of building the client at init (`bench/coldstart.sh`).
    /// The cost: an extra CA installed in the image is not seen, so when
    /// `SSL_CERT_FILE` or `SSL_CERT_DIR` is set the system's store is read
    /// as with [`TrustRoots::System`] (a custom bundle keeps working), and
    /// the compiled-in set only changes when the binary is rebuilt.
    Bundled,
}

impl TrustRoots {
    /// `Bundled` gives way to the system's store when the environment
    /// (`env`: a variable's value by name) names one.
    fn effective(self, env: impl Fn(&str) -> Option<OsString>) -> TrustRoots {
        let named = |var| env(var).is_some_and(|v| !v.is_empty());
        match self {
            TrustRoots::Bundled if named("SSL_CERT_FILE") || named("SSL_CERT_DIR") => {
                TrustRoots::System
            }
            roots => roots,
        }
    }
}

/// The connect timeout of the functions: DynamoDB is in the same region.
pub const LAMBDA_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// The HTTPS client every AWS client here uses: rustls with ring (the SDK
/// crates are built without their default client), trusting `roots`.
pub fn https_client(roots: TrustRoots) -> SharedHttpClient {
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
    match roots.effective(|var| std::env::var_os(var)) {
        TrustRoots::System => builder.build_https(),
        TrustRoots::Bundled => SharedHttpClient::new(ConnectorOnRequest(
            builder.tls_context(bundled_roots()).build_https(),
        )),
    }
}

/// An HTTP client that builds its connector when a request needs one, not
/// also when each SDK client is created. The SDK's client checks its
/// configuration by building a throwaway connector (so that the system's
/// certificates, which it caches, load at client creation); with roots of
/// our own nothing is cached, so each check decoded and parsed them all
/// again: once for the DynamoDB client, once for the STS client the
/// credentials chain creates (and never calls in Lambda).
#[derive(Debug)]
struct ConnectorOnRequest(SharedHttpClient);

impl HttpClient for ConnectorOnRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// A TLS context trusting Mozilla's roots only. The SDK takes extra roots
/// as PEM alone, so the DER certificates are encoded here once per client;
/// that is a fraction of reading them from the system's files.
fn bundled_roots() -> TlsContext {
    let mut store = TrustStore::empty();
    store.add_pem_certificate(mozilla_roots_pem());
    TlsContext::builder()
        .with_trust_store(store)
        .build()
        // The builder cannot fail today (it only stores what it was given);
        // should it start to, the system's store is the safe answer.
        .unwrap_or_default()
}

/// Mozilla's root certificates as one PEM document.
fn mozilla_roots_pem() -> Vec<u8> {
    let mut pem = String::with_capacity(256 * 1024);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        // One long base64 line: PEM readers take any line length.
        STANDARD.encode_string(cert.as_ref(), &mut pem);
        pem.push_str("\n-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}

/// Builds a DynamoDB client from the standard SDK configuration chain.
pub async fn dynamodb_client(options: &ClientOptions) -> Client {
    let http_client = https_client(options.trust_roots);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_pem_carries_every_mozilla_root_unchanged() {
        let pem = String::from_utf8(mozilla_roots_pem()).expect("PEM is ASCII");
        let decoded: Vec<Vec<u8>> = pem
            .split("-----BEGIN CERTIFICATE-----\n")
            .skip(1)
            .map(|block| {
                let body = block
                    .strip_suffix("\n-----END CERTIFICATE-----\n")
                    .expect("each block ends with its END line");
                STANDARD.decode(body).expect("valid base64")
            })
            .collect();
        let roots: Vec<&[u8]> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|cert| cert.as_ref())
            .collect();
        assert!(roots.len() > 100, "Mozilla's set has over 100 roots");
        assert_eq!(decoded, roots);
    }

    #[test]
    fn a_certificate_file_or_directory_in_the_environment_selects_the_system_store() {
        let env = |set: &'static str, value: &'static str| {
            move |var: &str| (var == set).then(|| OsString::from(value))
        };
        let bundled = TrustRoots::Bundled;
        assert_eq!(bundled.effective(|_| None), TrustRoots::Bundled);
        assert_eq!(
            bundled.effective(env("SSL_CERT_FILE", "/ca.pem")),
            TrustRoots::System
        );
        assert_eq!(
            bundled.effective(env("SSL_CERT_DIR", "/certs")),
            TrustRoots::System
        );
        // Set but empty names nothing.
        assert_eq!(
            bundled.effective(env("SSL_CERT_FILE", "")),
            TrustRoots::Bundled
        );
        assert_eq!(TrustRoots::System.effective(|_| None), TrustRoots::System);
    }
}
