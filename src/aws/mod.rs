//! The only place that builds AWS SDK clients: region, endpoint (`AWS_ENDPOINT_URL*`),
//! credentials, retries and timeouts; the async runtime they run on; and the sorting of
//! SDK errors into "AWS said no", "AWS was unreachable" and the rest.
//! Nothing here runs on the cached fast path.

pub mod ec2;
pub mod iam;
pub mod signin;
pub mod sts;

/// What AWS answered: the value, or its refusal (or no answer) for the caller to explain.
/// The outer `Result` of the calls is for failures before any request (no async runtime).
pub type Call<T> = std::result::Result<T, Failure>;

use std::time::Duration;

use aws_sdk_sts::config::Credentials;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

use crate::config::Sourced;
use crate::credentials::{LongTermKeys, Session};
use crate::error::{Error, Result};

/// The region calls go to when none is configured (STS and IAM are global there).
pub const FALLBACK_REGION: &str = "us-east-1";

/// The region calls go to: the profile's (or the environment's), else FALLBACK_REGION.
pub fn region(config: &ClientConfig) -> String {
    config.region.clone().unwrap_or_else(|| FALLBACK_REGION.to_string())
}

/// This layer's part of the plan: what every client is built from, resolved (and checked)
/// by `profile` from the flags, the environment and the AWS files.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// `--region`, AWS_REGION, AWS_DEFAULT_REGION or the profile's; None: FALLBACK_REGION.
    pub region: Option<String>,
    /// The endpoint override of each service that has one (AWS_ENDPOINT_URL_<SERVICE>,
    /// AWS_ENDPOINT_URL, endpoint_url), unless endpoint overrides are ignored.
    pub endpoints: Vec<(&'static str, String)>,
    /// The CA bundle to trust instead of the system's roots (AWS_CA_BUNDLE, `ca_bundle`).
    pub ca_bundle: Option<Sourced<String>>,
    /// The AWS CLI's `cli_connect_timeout` / `cli_read_timeout`: None when not set,
    /// Some(None) when set to 0 (no limit).
    pub connect_timeout: Option<Option<Duration>>,
    pub read_timeout: Option<Option<Duration>>,
}

impl ClientConfig {
    /// The endpoint override for `service` ("sts", "iam", "ec2", "signin"), if any.
    pub fn endpoint(&self, service: &str) -> Option<String> {
        self.endpoints.iter().find(|(s, _)| *s == service).map(|(_, url)| url.clone())
    }
}

/// Credentials to sign with.
pub enum Signer<'a> {
    LongTerm(&'a LongTermKeys),
    Session(&'a Session),
    /// Nothing: AWS Sign-In's token endpoint takes no signature.
    Unsigned,
}

impl Signer<'_> {
    fn credentials(&self) -> Result<Option<Credentials>> {
        Ok(Some(match self {
            Signer::Unsigned => return Ok(None),
            Signer::LongTerm(k) => Credentials::new(&k.access_key_id, k.secret()?.expose(), None, None, "awsmfa"),
            Signer::Session(s) => Credentials::new(
                &s.access_key_id,
                s.secret_access_key.expose(),
                Some(s.session_token.expose().to_string()),
                None,
                "awsmfa",
            ),
        }))
    }
}

/// Whether a call may be retried: never for a call that carries an MFA code (a retry would
/// send a spent code); the SDK's standard retries otherwise.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Retries {
    Never,
    Standard,
}

/// Limits for a silent endpoint, as the AWS CLI's `cli_connect_timeout` and
/// `cli_read_timeout` (whose own defaults, 60 s each, would hold a lock for minutes).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits in force, for the message of a timed-out call (set with the first client).
static LIMITS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// What every client needs, resolved from settings once.
#[derive(Clone)]
pub struct ClientSpec {
    region: String,
    endpoint: Option<String>,
    credentials: Option<Credentials>,
    retries: Retries,
    timeouts: TimeoutConfig,
    /// The HTTPS client: rustls with ring, trusting the system's roots or, when one is
    /// configured, only the CA bundle.
    http_client: SharedHttpClient,
}

impl ClientSpec {
    pub fn new(config: &ClientConfig, service: &str, signer: Signer<'_>, retries: Retries) -> Result<Self> {
        Ok(ClientSpec {
            region: region(config),
            endpoint: config.endpoint(service),
            credentials: signer.credentials()?,
            retries,
            timeouts: timeouts(config),
            http_client: https_client(config)?,
        })
    }

    /// The same credentials and region, for another service (its own endpoint override).
    pub fn with_service(&self, config: &ClientConfig, service: &str) -> Self {
        ClientSpec {
            region: self.region.clone(),
            endpoint: config.endpoint(service),
            credentials: self.credentials.clone(),
            retries: self.retries,
            timeouts: self.timeouts.clone(),
            http_client: self.http_client.clone(),
        }
    }

    /// Whether it signs with a session (temporary credentials).
    pub fn is_session(&self) -> bool {
        self.credentials.as_ref().is_some_and(|c| c.session_token().is_some())
    }

    /// Where the calls go, for messages: the endpoint override, or AWS's regional name.
    pub fn describe_endpoint(&self, service: &str) -> String {
        self.endpoint.clone().unwrap_or_else(|| format!("https://{service}.{}.amazonaws.com", self.region))
    }

    fn retry_config(&self) -> RetryConfig {
        match self.retries {
            Retries::Never => RetryConfig::disabled(),
            Retries::Standard => RetryConfig::standard().with_max_attempts(3),
        }
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        client!(aws_sdk_sts, self)
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        client!(aws_sdk_iam, self)
    }

    fn signin(&self) -> aws_sdk_signin::Client {
        client!(aws_sdk_signin, self)
    }
}

/// One client of service crate `$sdk`: each crate has its own (identical) config types.
macro_rules! client {
    ($sdk:ident, $spec:expr) => {{
        let spec = $spec;
        let mut b = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new(spec.region.clone()))
            .retry_config(spec.retry_config())
            .timeout_config(spec.timeouts.clone());
        if let Some(url) = &spec.endpoint {
            b = b.endpoint_url(url);
        }
        if let Some(credentials) = &spec.credentials {
            b = b.credentials_provider(credentials.clone());
        }
        b = b.http_client(spec.http_client.clone());
        $sdk::Client::from_conf(b.build())
    }};
}
use client;

/// Connect and read limits from the profile (0: none), else the defaults. A whole call,
/// retries included, ends when one attempt could have: a silent endpoint does not get
/// faster by being asked again, and the caller may hold a lock.
fn timeouts(config: &ClientConfig) -> TimeoutConfig {
    let connect = config.connect_timeout.unwrap_or(Some(DEFAULT_CONNECT_TIMEOUT));
    let read = config.read_timeout.unwrap_or(Some(DEFAULT_READ_TIMEOUT));
    let shown = |d: Option<Duration>| d.map(|d| format!("{}s", d.as_secs_f64())).unwrap_or_else(|| "none".into());
    let _ = LIMITS.set(format!("cli_connect_timeout {}, cli_read_timeout {}", shown(connect), shown(read)));
    let mut b = TimeoutConfig::builder();
    if let Some(c) = connect {
        b = b.connect_timeout(c);
    }
    if let Some(r) = read {
        b = b.read_timeout(r);
    }
    if let (Some(c), Some(r)) = (connect, read) {
        b = b.operation_attempt_timeout(c + r).operation_timeout(c + r);
    }
    b.build()
}

/// The HTTPS client every SDK client uses: rustls over ring, so that the build needs no C
/// toolchain for its TLS (aws-lc-sys needs cmake-like builds, nasm and, for macOS, zig).
/// With AWS_CA_BUNDLE (or the profile's `ca_bundle`), as the AWS CLI does, it trusts the
/// certificates of that PEM file and nothing else; otherwise the system's roots.
fn https_client(config: &ClientConfig) -> Result<SharedHttpClient> {
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring));
    let Some(bundle) = &config.ca_bundle else { return Ok(builder.build_https()) };
    let path = std::path::Path::new(&bundle.value);
    // Read like the AWS files: bounded, never blocking on a FIFO.
    let named = |e: Error| Error::config(format!("CA bundle: {} (from {})", e.message, bundle.origin));
    let pem = match crate::files::read::user_file(path, crate::files::read::CA_BUNDLE_LIMIT).map_err(named)? {
        Some(file) => file.text.into_bytes(),
        None => {
            return Err(Error::config(format!(
                "the CA bundle {} (from {}) does not exist",
                path.display(),
                bundle.origin
            )));
        }
    };
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(Error::config(format!("{} (from {}) holds no PEM certificate", path.display(), bundle.origin))
            .hint("AWS_CA_BUNDLE must name a PEM file of CA certificates"));
    }
    let trust = TrustStore::empty().with_native_roots(false).with_pem_certificate(pem);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| Error::config(format!("the CA bundle {} is unusable: {e}", path.display())))?;
    Ok(builder.tls_context(context).build_https())
}

/// Runs `future` on a single-threaded runtime made for this call: only the slow path pays.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::unexpected(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(future))
}

/// An SDK failure, sorted.
#[derive(Debug)]
pub enum Failure {
    /// AWS answered with an error code and message.
    Service { code: String, message: String },
    /// No answer within the connect or read limits.
    TimedOut,
    /// No answer: connection refused, DNS, TLS.
    Unreachable { why: String, cause: Box<dyn std::error::Error + Send + Sync + 'static> },
    /// Anything else (a response we could not read, a bug).
    Other { why: String, cause: Box<dyn std::error::Error + Send + Sync + 'static> },
}

pub fn classify<E, R>(err: SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            Failure::Service {
                code: e.code().unwrap_or("Unknown").to_string(),
                message: e.message().unwrap_or("").to_string(),
            }
        }
        SdkError::DispatchFailure(d) if d.is_timeout() => Failure::TimedOut,
        SdkError::TimeoutError(_) => Failure::TimedOut,
        SdkError::DispatchFailure(_) => Failure::Unreachable { why: source_chain(&err), cause: Box::new(err) },
        _ => Failure::Other { why: source_chain(&err), cause: Box::new(err) },
    }
}

/// The innermost cause of an error, which is the one that says what went wrong.
fn source_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current: &(dyn std::error::Error + 'static) = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

impl Failure {
    /// AWS refused the MFA part of a sign-in (device or code), not the request itself.
    pub fn is_mfa_refusal(&self) -> bool {
        matches!(self, Failure::Service { code, message } if code == "AccessDenied" && message.contains("MultiFactorAuthentication"))
    }

    /// The generic mapping to awsmfa errors, for calls without special cases.
    pub fn into_error(self, action: &str, endpoint: &str) -> Error {
        match self {
            Failure::Service { code, message } => {
                let hint = match code.as_str() {
                    "InvalidClientTokenId" | "SignatureDoesNotMatch" | "AuthFailure" => {
                        "check the access keys: they are unknown to AWS or the secret is wrong"
                    }
                    "ExpiredToken" | "RequestExpired" => "the session expired: run `awsmfa login --force`",
                    "UnauthorizedOperation" => {
                        "run `awsmfa verify` to check the MFA policy; `awsmfa login` if the session is missing"
                    }
                    _ => "",
                };
                let err = Error::denied(format!("{action} failed: {code}: {message}"));
                if hint.is_empty() { err } else { err.hint(hint) }
            }
            Failure::TimedOut => {
                let limits = LIMITS.get().map(String::as_str).unwrap_or("the default limits");
                Error::unreachable(format!("no answer from AWS at {endpoint} in time ({limits})")).hint(
                    "check the network and AWS_ENDPOINT_URL; on a slow link raise cli_connect_timeout / cli_read_timeout (seconds) in the profile",
                )
            }
            Failure::Unreachable { why, cause } => {
                let hint = if why.contains("certificate") {
                    "the endpoint's TLS certificate is not trusted: name your CA's PEM file in AWS_CA_BUNDLE (or ca_bundle in the profile), as for the AWS CLI"
                } else {
                    "check the network, the region and AWS_ENDPOINT_URL"
                };
                Error::unreachable(format!("cannot reach AWS at {endpoint}: {why}")).hint(hint).because(cause)
            }
            Failure::Other { why, cause } => Error::unexpected(format!("{action} failed: {why}")).because(cause),
        }
    }
}

/// The limits in force for calls (cli_connect_timeout, cli_read_timeout), once a client
/// was built.
pub fn limits() -> String {
    LIMITS.get().cloned().unwrap_or_else(|| "the default limits".into())
}
