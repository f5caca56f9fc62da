//! Talking to AWS (feature `s3`): one [`AwsSession`] holds the settings, the credentials
//! and an internal async runtime; [`crate::S3Source`] reads objects through it and
//! [`CloudTrailKeys`] asks CloudTrail for public keys.
//!
//! Everything here is synchronous to callers: requests run on the session's own runtime,
//! at most [`AwsSettings::max_concurrency`] at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AwsAuthorizer, AwsCredential, AwsCredentialProvider};

use self::credentials::SdkCredentials;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;

use self::throttle::Throttle;

use self::http::RequestError;

mod cloudtrail;
mod credentials;
mod error;
pub(crate) mod http;
mod throttle;
mod tls;

pub use cloudtrail::{CloudTrailKeys, TrailDescription};
pub use credentials::{CredentialSource, CredentialsProblem};
pub use error::AwsError;

/// Where and how to reach AWS.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// S3 endpoint of an S3-compatible server (path-style addressing is then used).
    pub s3_endpoint: Option<String>,
    /// CloudTrail endpoint override (for tests and private endpoints).
    pub cloudtrail_endpoint: Option<String>,
    /// Named profile of the shared config and credentials files.
    pub profile: Option<String>,
    /// Send unsigned requests (public buckets).
    pub anonymous: bool,
    /// Region used where no other region is known (bucket location lookups, signing
    /// for S3-compatible servers). Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, the
    /// profile's `region`, else `us-east-1`.
    pub region: Option<String>,
    /// Requests in flight at once, at most (default 64).
    pub max_concurrency: usize,
    /// Retries of a throttled, failed (5xx), reset or timed-out request (attempts are one
    /// more). No retry starts once [`AwsSettings::retry_window`] has passed.
    pub max_retries: usize,
    /// Time limit of establishing a connection (the AWS CLI's `--cli-connect-timeout`).
    pub connect_timeout: Duration,
    /// Longest wait for the server (the AWS CLI's `--cli-read-timeout`): from the start of
    /// an attempt until the answer's headers, and between any two pieces of its body.
    pub read_timeout: Duration,
    /// Time limit of one attempt as a whole, from connecting to the end of the body: the
    /// bound on a server that keeps sending, but too slowly.
    pub request_timeout: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        AwsSettings {
            s3_endpoint: None,
            cloudtrail_endpoint: None,
            profile: None,
            anonymous: false,
            region: None,
            max_concurrency: 64,
            max_retries: 6,
            connect_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10 * 60),
        }
    }
}

impl AwsSettings {
    /// Settings from the standard environment variables: `AWS_ENDPOINT_URL_S3` (else
    /// `AWS_ENDPOINT_URL`) for S3, `AWS_ENDPOINT_URL_CLOUDTRAIL` (else
    /// `AWS_ENDPOINT_URL`) for CloudTrail, `AWS_PROFILE`, `AWS_REGION` /
    /// `AWS_DEFAULT_REGION`, and `AWS_MAX_ATTEMPTS` (attempts of a request, retries
    /// plus one). Fails only on an `AWS_MAX_ATTEMPTS` that is not a number of 1 or more.
    pub fn from_env() -> Result<Self, AwsError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut settings = AwsSettings {
            s3_endpoint: var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL")),
            cloudtrail_endpoint: var("AWS_ENDPOINT_URL_CLOUDTRAIL").or_else(|| var("AWS_ENDPOINT_URL")),
            profile: var("AWS_PROFILE"),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            ..AwsSettings::default()
        };
        if let Some(v) = var("AWS_MAX_ATTEMPTS") {
            settings.max_retries = parse_max_attempts(&v)? - 1;
        }
        Ok(settings)
    }

    /// How long after a request's first attempt a retry may still start: one connection
    /// and one full wait for the server (`connect_timeout + read_timeout`). With the
    /// backoff before it (at most 20 s, `MAX_BACKOFF`) and the attempt itself (at most
    /// `request_timeout`), this bounds the time of any one request.
    pub fn retry_window(&self) -> Duration {
        self.connect_timeout + self.read_timeout
    }

    /// The endpoints named in place of AWS's own (S3's, CloudTrail's).
    pub(crate) fn named_endpoints(&self) -> impl Iterator<Item = &str> {
        [&self.s3_endpoint, &self.cloudtrail_endpoint]
            .into_iter()
            .flatten()
            .map(String::as_str)
    }
}

/// Longest pause before a retry.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// Attempts from an `AWS_MAX_ATTEMPTS` value: a whole number, 1 or more.
fn parse_max_attempts(value: &str) -> Result<usize, AwsError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(AwsError::MaxAttempts {
            value: value.to_string(),
        }),
    }
}

/// A connection to AWS: settings, resolved credentials, an HTTP client and a runtime.
pub struct AwsSession {
    settings: AwsSettings,
    runtime: Runtime,
    http: reqwest::Client,
    credentials: Option<Arc<SdkCredentials>>,
    credential_source: CredentialSource,
    default_region: String,
    /// The request permits, fewer while AWS throttles.
    throttle: Arc<Throttle>,
}

impl std::fmt::Debug for AwsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSession")
            .field("settings", &self.settings)
            .field("credentials", &self.credential_source)
            .field("default_region", &self.default_region)
            .finish()
    }
}

impl AwsSession {
    /// Starts the runtime and gets credentials and the default region from the AWS SDK's
    /// providers (see [`CredentialSource`]): credentials that need a request (SSO, an
    /// assumed role, a container or instance role) are fetched here once, so a set-up
    /// that cannot work fails before any other request; they are fetched again before
    /// they expire.
    pub fn new(settings: AwsSettings) -> Result<Arc<AwsSession>, AwsError> {
        // rustls with ring (already used for RSA here) for any client made without a
        // configuration of ours; the session's HTTP client gets its own (tls.rs).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ctd-aws")
            .enable_all()
            .build()
            .map_err(AwsError::Runtime)?;
        // Plain HTTP only to an endpoint named so.
        let plain = settings.named_endpoints().any(|e| e.starts_with("http://"));
        let tls = tls::client_config().map_err(|e| AwsError::HttpClient(Box::new(e)))?;
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(!plain)
            .timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            // Bodies as stored: object sizes and hashes are of the stored bytes.
            .no_gzip()
            .no_brotli()
            .no_zstd()
            .no_deflate()
            .build()
            .map_err(|e| AwsError::HttpClient(Box::new(e)))?;
        let resolved = runtime.block_on(credentials::resolve(&settings))?;
        let default_region = resolved.region.unwrap_or_else(|| "us-east-1".to_string());
        Ok(Arc::new(AwsSession {
            throttle: Arc::new(Throttle::new(settings.max_concurrency)),
            settings,
            runtime,
            http,
            credentials: resolved.credentials,
            credential_source: resolved.source,
            default_region,
        }))
    }

    /// The settings this session was made with.
    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// Where the credentials come from.
    pub fn credential_source(&self) -> &CredentialSource {
        &self.credential_source
    }

    /// The region used when nothing else names one.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The credentials as object_store signs with them; `None` for unsigned requests.
    pub(crate) fn credential_provider(&self) -> Option<AwsCredentialProvider> {
        self.credentials.as_ref().map(SdkCredentials::for_object_store)
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn permits(&self) -> &Arc<Semaphore> {
        self.throttle.permits()
    }

    /// Counts an answer from AWS, throttled or not, for the number of requests in flight.
    pub(crate) fn answered(&self, throttled: bool) {
        self.throttle.answered(throttled, self.runtime.handle());
    }

    /// An HTTP connector for object_store that counts every answer as [`Self::answered`] does.
    pub(crate) fn watched_connector(&self) -> throttle::Watched {
        throttle::Watched::new(
            self.http.clone(),
            Arc::clone(&self.throttle),
            self.runtime.handle().clone(),
        )
    }

    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Runs `fut` on the session's runtime, holding one request permit.
    pub(crate) fn block_on<T>(&self, fut: impl Future<Output = T>) -> T {
        let permits = Arc::clone(self.permits());
        self.runtime.block_on(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore never closed");
            fut.await
        })
    }

    /// Current credentials, or `None` for anonymous access.
    pub(crate) async fn credential(&self) -> Result<Option<Arc<AwsCredential>>, RequestError> {
        match &self.credentials {
            None => Ok(None),
            Some(c) => c.current().await.map(Some).map_err(|failure| {
                let problem = failure.into_problem();
                RequestError::new(problem.to_string(), problem)
            }),
        }
    }
}

/// Signs `request` with SigV4 for `service` in `region`, unless anonymous.
pub(crate) fn sign(
    credential: Option<&AwsCredential>,
    service: &str,
    region: &str,
    request: &mut object_store::client::HttpRequest,
) -> Result<(), RequestError> {
    if let Some(c) = credential {
        AwsAuthorizer::new(c, service, region)
            .try_authorize(request, None)
            .map_err(|e| RequestError::new(format!("cannot sign the request: {e}"), e))?;
    }
    Ok(())
}

/// The public endpoint of `service` in `region` (China regions use `amazonaws.com.cn`).
pub(crate) fn aws_endpoint(service: &str, region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{service}.{region}.{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The session's client (every bucket's too) speaks plain HTTP only when an
    /// endpoint was named with `http://`: with AWS's own endpoints a plain URL is refused
    /// before any connection.
    #[test]
    fn plain_http_goes_only_to_an_endpoint_named_so() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/b?location", listener.local_addr().unwrap());
        let ask = |settings: AwsSettings| {
            let session = AwsSession::new(settings).unwrap();
            let sent = session
                .runtime()
                .block_on(async { session.http().get(&url).send().await });
            sent.map(|r| r.status().as_u16())
        };
        let aws = ask(AwsSettings {
            anonymous: true,
            ..Default::default()
        });
        assert!(aws.is_err(), "{aws:?}");
        assert!(listener.accept().is_err(), "no connection was made");

        // Named plainly: the request goes out (and waits in vain for an answer).
        let named = AwsSettings {
            anonymous: true,
            s3_endpoint: Some(format!("http://{}", listener.local_addr().unwrap())),
            request_timeout: std::time::Duration::from_millis(300),
            ..Default::default()
        };
        assert!(ask(named).is_err());
        assert!(listener.accept().is_ok(), "the named endpoint was asked");
    }

    #[test]
    fn max_attempts_are_one_or_more() {
        assert_eq!(parse_max_attempts("1").unwrap(), 1);
        assert_eq!(parse_max_attempts(" 3 ").unwrap(), 3);
        for bad in ["0", "-1", "two", "1.5"] {
            let e = parse_max_attempts(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("AWS_MAX_ATTEMPTS={bad}:")), "{e}");
        }
    }

    #[test]
    fn retries_stop_after_one_connection_and_one_wait() {
        let s = AwsSettings {
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(3),
            ..AwsSettings::default()
        };
        assert_eq!(s.retry_window(), Duration::from_secs(5));
    }
}
