//! Where credentials come from, in the order the AWS SDKs look:
//! 1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), unless
//!    a profile other than `AWS_PROFILE` was chosen in the settings;
//! 2. the profile (`AWS_PROFILE`, else `default`) of the shared credentials file
//!    (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`) and config file
//!    (`AWS_CONFIG_FILE`, else `~/.aws/config`): static keys or a `credential_process`;
//! 3. web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), container
//!    credentials (ECS, EKS Pod Identity) and the instance role (IMDSv2), through
//!    object_store's providers, which refresh them before they expire. When an endpoint
//!    override points at this machine (loopback), the instance role is not looked up and
//!    requests go unsigned.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsCredential, AwsCredentialProvider};
use object_store::{BackoffConfig, RetryConfig, StaticCredentialProvider};

use super::{AwsError, AwsSettings};

/// Where a session's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// No credentials: requests are sent unsigned.
    Anonymous,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`.
    Environment,
    /// Static keys of a profile in the shared files.
    Profile(String),
    /// The `credential_process` of a profile.
    CredentialProcess(String),
    /// Web identity, container or instance role credentials.
    Roles,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Anonymous => write!(f, "anonymous"),
            CredentialSource::Environment => write!(f, "environment variables"),
            CredentialSource::Profile(p) => write!(f, "profile {p}"),
            CredentialSource::CredentialProcess(p) => write!(f, "credential_process of profile {p}"),
            CredentialSource::Roles => write!(f, "web identity, container or instance role"),
        }
    }
}

pub(crate) struct Resolved {
    pub provider: Option<AwsCredentialProvider>,
    pub source: CredentialSource,
    pub profile_region: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn static_provider(key_id: String, secret_key: String, token: Option<String>) -> AwsCredentialProvider {
    Arc::new(StaticCredentialProvider::new(AwsCredential {
        key_id,
        secret_key,
        token,
    }))
}

pub(crate) fn resolve(settings: &AwsSettings) -> Result<Resolved, AwsError> {
    let profile_name = settings.profile.clone().unwrap_or_else(|| "default".to_string());
    let profile = load_profile(&profile_name)?;
    let profile_region = profile.as_ref().and_then(|p| p.get("region").cloned());
    let done = |provider, source| {
        Ok(Resolved {
            provider,
            source,
            profile_region: profile_region.clone(),
        })
    };
    if settings.anonymous {
        return done(None, CredentialSource::Anonymous);
    }
    // A profile chosen explicitly (not merely AWS_PROFILE) wins over environment keys,
    // as the AWS CLI's --profile does.
    let explicit_profile = settings.profile.is_some() && settings.profile != env("AWS_PROFILE");
    if let (false, Some(id), Some(secret)) = (
        explicit_profile,
        env("AWS_ACCESS_KEY_ID"),
        env("AWS_SECRET_ACCESS_KEY"),
    ) {
        return done(
            Some(static_provider(id, secret, env("AWS_SESSION_TOKEN"))),
            CredentialSource::Environment,
        );
    }
    if let Some(p) = &profile {
        if let (Some(id), Some(secret)) = (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
            return done(
                Some(static_provider(
                    id.clone(),
                    secret.clone(),
                    p.get("aws_session_token").cloned(),
                )),
                CredentialSource::Profile(profile_name),
            );
        }
        if let Some(command) = p.get("credential_process") {
            let c = run_credential_process(command, &profile_name)?;
            return done(
                Some(static_provider(c.key_id, c.secret_key, c.token)),
                CredentialSource::CredentialProcess(profile_name),
            );
        }
        if let Some(kind) = ["role_arn", "sso_session", "sso_start_url", "login_session"]
            .into_iter()
            .find(|k| p.contains_key(*k))
        {
            return Err(AwsError::UnsupportedProfile {
                profile: profile_name,
                setting: kind.to_string(),
            });
        }
    } else if settings.profile.is_some() {
        return Err(AwsError::ProfileNotFound {
            profile: profile_name,
            credentials_file: credentials_file(),
            config_file: config_file(),
        });
    }
    // Roles: object_store's providers, configured from the environment alone.
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name("credentials")
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 2,
            retry_timeout: Duration::from_secs(20),
        });
    let role_vars = [
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_ENDPOINT_URL_STS",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_METADATA_ENDPOINT",
    ];
    let mut any_role_var = false;
    for name in role_vars {
        if let Some(value) = env(name) {
            let key: AmazonS3ConfigKey =
                name.to_ascii_lowercase()
                    .parse()
                    .map_err(|e| AwsError::RoleSetting {
                        name: name.to_string(),
                        source: Box::new(e),
                    })?;
            builder = builder.with_config(key, value);
            any_role_var = true;
        }
    }
    let local_server = [&settings.s3_endpoint, &settings.cloudtrail_endpoint]
        .into_iter()
        .flatten()
        .any(|u| is_loopback_url(u));
    if !any_role_var && local_server {
        // A server on this machine (a test or an S3-compatible store) gets no instance
        // role credentials, and nothing is sent off the machine to look for them.
        return done(None, CredentialSource::Anonymous);
    }
    if !any_role_var && env("AWS_EC2_METADATA_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        return Err(AwsError::NoCredentials);
    }
    let store = builder
        .build()
        .map_err(|e| AwsError::RoleCredentials(Box::new(e)))?;
    done(Some(Arc::clone(store.credentials())), CredentialSource::Roles)
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

fn home() -> PathBuf {
    env("HOME").map(PathBuf::from).unwrap_or_default()
}

fn credentials_file() -> PathBuf {
    env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".aws/credentials"))
}

fn config_file() -> PathBuf {
    env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".aws/config"))
}

/// The profile's settings: the config file's `[profile NAME]` (or `[default]`) section
/// under the credentials file's `[NAME]` section. `None` when neither file has it.
fn load_profile(name: &str) -> Result<Option<BTreeMap<String, String>>, AwsError> {
    let read = |path: PathBuf| match std::fs::read_to_string(&path) {
        Ok(text) => Ok(parse_ini(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(source) => Err(AwsError::ReadFile { path, source }),
    };
    let config = read(config_file())?;
    let credentials = read(credentials_file())?;
    let config_section = if name == "default" {
        config.get("default").or_else(|| config.get("profile default"))
    } else {
        config.get(&format!("profile {name}"))
    };
    let found = config_section.is_some() || credentials.contains_key(name);
    if !found {
        return Ok(None);
    }
    let mut merged = config_section.cloned().unwrap_or_default();
    if let Some(c) = credentials.get(name) {
        merged.extend(c.clone());
    }
    Ok(Some(merged))
}

/// Sections of an INI file as the AWS CLI writes them. Indented lines (nested
/// sub-settings such as `s3 =` blocks) are skipped.
fn parse_ini(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            sections.entry(name.clone()).or_default();
            current = Some(name);
        } else if let (Some(section), Some((k, v))) = (&current, line.split_once('=')) {
            sections
                .entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    sections
}

/// Runs a profile's `credential_process` and reads the JSON it prints.
fn run_credential_process(command: &str, profile: &str) -> Result<AwsCredential, AwsError> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|source| AwsError::CredentialProcessStart {
            profile: profile.to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(AwsError::CredentialProcessFailed {
            profile: profile.to_string(),
            status: out.status,
        });
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|source| AwsError::CredentialProcessOutput {
            profile: profile.to_string(),
            source,
        })?;
    let field = |name: &str| doc.get(name).and_then(|v| v.as_str()).map(str::to_string);
    match (field("AccessKeyId"), field("SecretAccessKey")) {
        (Some(key_id), Some(secret_key)) => Ok(AwsCredential {
            key_id,
            secret_key,
            token: field("SessionToken"),
        }),
        _ => Err(AwsError::CredentialProcessIncomplete {
            profile: profile.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn reads_aws_style_ini() {
        let ini = "[default]\nregion = eu-west-1\n\n[profile audit]\n# comment\naws_access_key_id=AK\n\
                   s3 =\n  max_concurrent_requests = 4\nAWS_Secret_Access_Key = SK \n";
        let s = parse_ini(ini);
        assert_eq!(s["default"]["region"], "eu-west-1");
        assert_eq!(s["profile audit"]["aws_access_key_id"], "AK");
        assert_eq!(s["profile audit"]["aws_secret_access_key"], "SK");
        assert!(!s["profile audit"].contains_key("max_concurrent_requests"));
    }
}
