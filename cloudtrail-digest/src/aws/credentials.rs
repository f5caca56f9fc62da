//! Credentials and the default region, from the AWS SDK for Rust's own providers
//! (`aws-config`); nothing here reads a credentials file or signs anything itself.
//!
//! - Without `--profile`: the SDK's default chain. Environment keys, then the profile
//!   (`AWS_PROFILE`, else `default`) of the shared config and credentials files with every
//!   kind the SDK knows (static keys, `credential_process`, IAM Identity Center sessions
//!   and legacy SSO, `role_arn` with `source_profile` or `credential_source`, chained
//!   roles, web identity), then web identity from the environment, container credentials
//!   (ECS, EKS Pod Identity) and the EC2 instance role (IMDSv2).
//! - With `--profile NAME` (not merely `AWS_PROFILE`): that profile alone, as the AWS
//!   CLI's `--profile` wins over environment keys.
//! - When an endpoint override points at this machine (loopback), the instance metadata
//!   service is not asked (for credentials or region) unless
//!   `AWS_EC2_METADATA_SERVICE_ENDPOINT` names it, and if nothing else yields
//!   credentials requests go unsigned: a local S3-compatible server or a test sends
//!   nothing off the machine.
//!
//! Credentials are fetched once when the session starts, so a broken set-up (an expired
//! SSO login, a role that cannot be assumed) is named before any work, and fetched again
//! whenever they are within [`REFRESH_BEFORE`] of their expiry: a long run outlives them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::ecs::EcsCredentialsProvider;
use aws_config::environment::{EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider};
use aws_config::imds::region::ImdsRegionProvider;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;
use object_store::aws::{AwsCredential, AwsCredentialProvider};
use object_store::CredentialProvider;
use tokio::sync::Mutex;

use super::http::error_chain;
use super::{AwsError, AwsSettings};

/// How long before their expiry credentials are fetched anew. Generous, so that no
/// request is signed with credentials about to lapse while it waits for a permit.
pub(crate) const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// Where a session's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// No credentials: requests are sent unsigned (`--no-sign-request`, or a server on
    /// this machine with no credentials configured).
    Anonymous,
    /// The SDK's default chain, with this profile for its shared-file step.
    DefaultChain {
        /// The profile (`AWS_PROFILE`, else `default`).
        profile: String,
        /// Whether the EC2 instance role is among the sources (not for a server on this
        /// machine).
        instance_role: bool,
    },
    /// Only this profile, named with `--profile`.
    Profile(String),
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Anonymous => write!(f, "anonymous"),
            CredentialSource::DefaultChain {
                profile,
                instance_role,
            } => {
                write!(
                    f,
                    "environment, profile {profile}, web identity, container credentials"
                )?;
                if *instance_role {
                    write!(f, " or the instance role")?;
                }
                Ok(())
            }
            CredentialSource::Profile(p) => write!(f, "profile {p}"),
        }
    }
}

/// What [`resolve`] found.
pub(crate) struct Resolved {
    /// Credentials for signing, `None` for unsigned requests.
    pub credentials: Option<Arc<SdkCredentials>>,
    /// Where they come from.
    pub source: CredentialSource,
    /// The region of the environment or the profile (or the instance), if any.
    pub region: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Settings for the SDK's own requests (STS, SSO, container and instance endpoints):
/// our TLS (rustls with ring), time limits and retry bound.
fn provider_config(settings: &AwsSettings) -> ProviderConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let attempts = u32::try_from(settings.max_retries.saturating_add(1)).unwrap_or(u32::MAX);
    ProviderConfig::without_region()
        .with_http_client(http)
        .with_timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(settings.connect_timeout)
                .read_timeout(settings.read_timeout)
                .operation_attempt_timeout(settings.request_timeout)
                .build(),
        )
        .with_retry_config(RetryConfig::standard().with_max_attempts(attempts))
}

/// A source of a credential chain made when the chain first asks it. Making the
/// web-identity source makes an STS client, which reads the system's trust roots; the
/// chain asks it only when the environment and the profile have no credentials.
struct Deferred {
    conf: ProviderConfig,
    make: fn(&ProviderConfig) -> SharedCredentialsProvider,
    made: std::sync::OnceLock<SharedCredentialsProvider>,
}

impl Deferred {
    fn new(conf: &ProviderConfig, make: fn(&ProviderConfig) -> SharedCredentialsProvider) -> Deferred {
        Deferred {
            conf: conf.clone(),
            make,
            made: std::sync::OnceLock::new(),
        }
    }
}

impl fmt::Debug for Deferred {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deferred")
            .field("made", &self.made.get())
            .finish()
    }
}

impl ProvideCredentials for Deferred {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        self.made
            .get_or_init(|| (self.make)(&self.conf))
            .provide_credentials()
    }
}

/// Finds credentials and the default region, fetching the credentials once.
pub(crate) async fn resolve(settings: &AwsSettings) -> Result<Resolved, AwsError> {
    let explicit = settings
        .profile
        .as_ref()
        .filter(|p| Some(*p) != env("AWS_PROFILE").as_ref());
    let profile = settings
        .profile
        .clone()
        .or_else(|| env("AWS_PROFILE"))
        .unwrap_or_else(|| "default".to_string());
    if settings.profile.is_some() {
        ensure_profile_exists(&profile).await?;
    }
    // An instance metadata endpoint named explicitly is asked even then.
    let local =
        settings.named_endpoints().any(is_loopback_url) && env("AWS_EC2_METADATA_SERVICE_ENDPOINT").is_none();
    let conf = provider_config(settings);
    let region = match &settings.region {
        Some(r) => Some(r.clone()),
        None => find_region(&conf, &profile, local).await,
    };
    if settings.anonymous {
        return Ok(Resolved {
            credentials: None,
            source: CredentialSource::Anonymous,
            region,
        });
    }
    let conf = conf.with_region(region.clone().map(Region::new));
    let (provider, source) = match explicit {
        Some(name) => (
            SharedCredentialsProvider::new(
                ProfileFileCredentialsProvider::builder()
                    .configure(&conf)
                    .profile_name(name)
                    .build(),
            ),
            CredentialSource::Profile(name.clone()),
        ),
        None if local => (
            SharedCredentialsProvider::new(
                CredentialsProviderChain::first_try(
                    "Environment",
                    EnvironmentVariableCredentialsProvider::new(),
                )
                .or_else(
                    "Profile",
                    ProfileFileCredentialsProvider::builder()
                        .configure(&conf)
                        .profile_name(&profile)
                        .build(),
                )
                .or_else(
                    "WebIdentityToken",
                    Deferred::new(&conf, |c| {
                        SharedCredentialsProvider::new(
                            WebIdentityTokenCredentialsProvider::builder()
                                .configure(c)
                                .build(),
                        )
                    }),
                )
                .or_else(
                    "EcsContainer",
                    Deferred::new(&conf, |c| {
                        SharedCredentialsProvider::new(EcsCredentialsProvider::builder().configure(c).build())
                    }),
                ),
            ),
            CredentialSource::DefaultChain {
                profile: profile.clone(),
                instance_role: false,
            },
        ),
        None => (
            SharedCredentialsProvider::new(
                DefaultCredentialsChain::builder()
                    .configure(conf)
                    .profile_name(&profile)
                    .build()
                    .await,
            ),
            CredentialSource::DefaultChain {
                profile: profile.clone(),
                instance_role: true,
            },
        ),
    };
    let credentials = SdkCredentials::new(provider, source.clone());
    match credentials.current().await {
        Ok(_) => {}
        // A server on this machine with nothing configured is asked unsigned.
        Err(CredentialsFailure::NotFound(_)) if local && explicit.is_none() => {
            return Ok(Resolved {
                credentials: None,
                source: CredentialSource::Anonymous,
                region,
            })
        }
        Err(CredentialsFailure::NotFound(cause)) => return Err(AwsError::NoCredentials(cause)),
        Err(CredentialsFailure::Failed(e)) => return Err(AwsError::Credentials(e)),
    }
    Ok(Resolved {
        credentials: Some(Arc::new(credentials)),
        source,
        region,
    })
}

/// The region of the environment, the profile, or (not for a local server) the
/// instance: the SDK's default region chain, with our client settings for IMDS.
async fn find_region(conf: &ProviderConfig, profile: &str, local: bool) -> Option<String> {
    let mut chain = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new()).or_else(
        ProfileFileRegionProvider::builder()
            .configure(conf)
            .profile_name(profile)
            .build(),
    );
    if !local {
        chain = chain.or_else(ImdsRegionProvider::builder().configure(conf).build());
    }
    chain.region().await.map(|r| r.to_string())
}

/// Fails with [`AwsError::ProfileNotFound`] when neither shared file has the profile.
async fn ensure_profile_exists(name: &str) -> Result<(), AwsError> {
    let profiles = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
        .await
        .map_err(|e| AwsError::ProfileFiles(Box::new(e)))?;
    if profiles.get_profile(name).is_some() {
        return Ok(());
    }
    Err(AwsError::ProfileNotFound {
        profile: name.to_string(),
        credentials_file: shared_file("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
        config_file: shared_file("AWS_CONFIG_FILE", "config"),
    })
}

/// Where a shared file is looked for (for messages): its variable, else `~/.aws/NAME`.
fn shared_file(variable: &str, name: &str) -> PathBuf {
    env(variable).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env("HOME").unwrap_or_default())
            .join(".aws")
            .join(name)
    })
}

/// Whether a URL's host is the loopback interface.
fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why credentials could not be had.
#[derive(Debug)]
pub(crate) enum CredentialsFailure {
    /// No source had any.
    NotFound(CredentialsProblem),
    /// A source was set up but failed (an expired SSO login, a refused role).
    Failed(CredentialsProblem),
}

/// One failure to get credentials: where from, the SDK's words, and its error as cause.
#[derive(Debug)]
pub struct CredentialsProblem {
    from: CredentialSource,
    detail: String,
    cause: CredentialsError,
}

impl CredentialsProblem {
    /// A problem for tests of the messages that carry one.
    #[cfg(test)]
    pub(crate) fn example() -> Self {
        let cause = CredentialsError::not_loaded("no providers in chain provided credentials");
        CredentialsProblem {
            from: CredentialSource::Profile("default".into()),
            detail: error_chain(&cause),
            cause,
        }
    }
}

impl fmt::Display for CredentialsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot get AWS credentials ({}): {}", self.from, self.detail)?;
        // The SDK says the token expired; the fix is a new sign-in, so say how.
        if self.detail.contains("SSO token") {
            let profile = match &self.from {
                CredentialSource::Profile(p) | CredentialSource::DefaultChain { profile: p, .. } => p,
                CredentialSource::Anonymous => return Ok(()),
            };
            write!(f, "; sign in again with: aws sso login --profile {profile}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CredentialsProblem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

/// Credentials from an SDK provider, kept until they near their expiry; one fetch at a
/// time, so many requests waiting on a refresh cause one STS or SSO call.
pub(crate) struct SdkCredentials {
    provider: SharedCredentialsProvider,
    source: CredentialSource,
    cached: Mutex<Option<Cached>>,
    /// The clock that expiry is judged by (a parameter, for tests).
    now: fn() -> SystemTime,
}

struct Cached {
    credential: Arc<AwsCredential>,
    expires: Option<SystemTime>,
}

impl fmt::Debug for SdkCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkCredentials")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl SdkCredentials {
    fn new(provider: SharedCredentialsProvider, source: CredentialSource) -> Self {
        SdkCredentials {
            provider,
            source,
            cached: Mutex::new(None),
            now: SystemTime::now,
        }
    }

    /// The credentials to sign with now: the kept ones, or new ones near their expiry.
    pub(crate) async fn current(&self) -> Result<Arc<AwsCredential>, CredentialsFailure> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            if still_fresh(c.expires, (self.now)()) {
                return Ok(Arc::clone(&c.credential));
            }
        }
        let got = self.provider.provide_credentials().await.map_err(|cause| {
            let problem = CredentialsProblem {
                from: self.source.clone(),
                detail: error_chain(&cause),
                cause,
            };
            match problem.cause {
                CredentialsError::CredentialsNotLoaded(_) => CredentialsFailure::NotFound(problem),
                _ => CredentialsFailure::Failed(problem),
            }
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: got.access_key_id().to_string(),
            secret_key: got.secret_access_key().to_string(),
            token: got.session_token().map(str::to_string),
        });
        *cached = Some(Cached {
            credential: Arc::clone(&credential),
            expires: got.expiry(),
        });
        Ok(credential)
    }

    /// This provider as object_store wants it.
    pub(crate) fn for_object_store(self: &Arc<Self>) -> AwsCredentialProvider {
        Arc::clone(self) as AwsCredentialProvider
    }
}

/// Whether credentials expiring at `expires` (never, for `None`) may still be used at
/// `now`.
fn still_fresh(expires: Option<SystemTime>, now: SystemTime) -> bool {
    expires.is_none_or(|at| at.duration_since(now).is_ok_and(|left| left > REFRESH_BEFORE))
}

#[async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        self.current()
            .await
            .map_err(|failure| object_store::Error::Generic {
                store: "S3",
                source: Box::new(failure.into_problem()),
            })
    }
}

impl CredentialsFailure {
    /// The failure underneath, whichever kind.
    pub(crate) fn into_problem(self) -> CredentialsProblem {
        match self {
            CredentialsFailure::NotFound(p) | CredentialsFailure::Failed(p) => p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::future;
    use aws_credential_types::Credentials;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn knows_loopback_urls() {
        for u in [
            "http://127.0.0.1:9000",
            "http://localhost/x",
            "http://[::1]:80/",
            "https://127.1.2.3",
        ] {
            assert!(is_loopback_url(u), "{u}");
        }
        for u in [
            "https://s3.amazonaws.com",
            "http://10.0.0.1:9000",
            "http://127.0.0.1.example.com",
        ] {
            assert!(!is_loopback_url(u), "{u}");
        }
    }

    #[test]
    fn credentials_are_renewed_before_they_lapse() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(still_fresh(None, now));
        assert!(still_fresh(Some(now + Duration::from_secs(3600)), now));
        assert!(!still_fresh(Some(now + REFRESH_BEFORE), now));
        assert!(!still_fresh(Some(now - Duration::from_secs(1)), now));
    }

    /// Hands out credentials numbered by call, expiring `lifetime` after a fixed epoch.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        lifetime: Option<Duration>,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = self.lifetime.map(|l| SystemTime::UNIX_EPOCH + l);
            future::ProvideCredentials::ready(Ok(Credentials::new(
                format!("AKID{n}"),
                "secret",
                Some("token".into()),
                expiry,
                "test",
            )))
        }
    }

    fn keys(lifetime: Option<Duration>, now: fn() -> SystemTime) -> (SdkCredentials, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut c = SdkCredentials::new(
            SharedCredentialsProvider::new(Counting {
                calls: Arc::clone(&calls),
                lifetime,
            }),
            CredentialSource::Profile("test".into()),
        );
        c.now = now;
        (c, calls)
    }

    #[test]
    fn kept_until_near_expiry_then_fetched_again() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let early = || SystemTime::UNIX_EPOCH;
        // An hour of life: fetched once, then kept.
        let (c, calls) = keys(Some(Duration::from_secs(3600)), early);
        for _ in 0..3 {
            assert_eq!(rt.block_on(c.current()).unwrap().key_id, "AKID0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Within the refresh margin: every use fetches anew.
        let (c, calls) = keys(Some(REFRESH_BEFORE / 2), early);
        let first = rt.block_on(c.current()).unwrap();
        let second = rt.block_on(c.current()).unwrap();
        assert_eq!(
            (first.key_id.as_str(), second.key_id.as_str()),
            ("AKID0", "AKID1")
        );
        assert_eq!(second.token.as_deref(), Some("token"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Static keys never expire.
        let (c, calls) = keys(None, SystemTime::now);
        rt.block_on(c.current()).unwrap();
        rt.block_on(c.current()).unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn failures_keep_the_sdk_words() {
        let e = CredentialsError::provider_error(std::io::Error::other(
            "The SSO session has expired; run aws sso login",
        ));
        // The SDK's outer words are general; the useful ones lie among the causes.
        let text = error_chain(&e);
        assert!(
            text.ends_with("The SSO session has expired; run aws sso login"),
            "{text}"
        );
        let problem = CredentialsProblem {
            from: CredentialSource::Profile("forensics".into()),
            detail: text,
            cause: e,
        };
        assert!(problem
            .to_string()
            .starts_with("cannot get AWS credentials (profile forensics): "));
    }
}
