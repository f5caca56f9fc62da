//! Why a session with AWS cannot be set up.

use std::path::PathBuf;

/// A boxed error from a library underneath (the HTTP client, object_store, serde_json),
/// kept as the cause without making its type part of this crate's API.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why [`super::AwsSettings::from_env`] or [`super::AwsSession::new`] failed. The
/// `Display` text is what the command line prints; the failure underneath, when there
/// is one, is the error's `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// `AWS_MAX_ATTEMPTS` is not a whole number of 1 or more.
    #[error("AWS_MAX_ATTEMPTS={value}: expected a whole number of attempts, 1 or more")]
    MaxAttempts {
        /// The value found.
        value: String,
    },
    /// The runtime that runs requests could not be started.
    #[error("cannot start the AWS client runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The HTTP client could not be made.
    #[error("cannot create the HTTP client: {0}")]
    HttpClient(#[source] Cause),
    /// A shared config or credentials file exists but cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The profile named explicitly is in neither shared file.
    #[error(
        "the config profile ({profile}) could not be found in {} or {}",
        credentials_file.display(),
        config_file.display()
    )]
    ProfileNotFound {
        /// The profile.
        profile: String,
        /// The shared credentials file looked in.
        credentials_file: PathBuf,
        /// The shared config file looked in.
        config_file: PathBuf,
    },
    /// The profile gets its credentials in a way this crate does not resolve (an
    /// assumed role, SSO, a console login).
    #[error(
        "profile {profile} uses {setting}, which this tool does not resolve; export temporary \
         credentials first, for example: eval \"$(aws configure export-credentials --profile \
         {profile} --format env)\""
    )]
    UnsupportedProfile {
        /// The profile.
        profile: String,
        /// The setting that asks for it (`role_arn`, `sso_session`, ...).
        setting: String,
    },
    /// The profile's `credential_process` could not be run.
    #[error("profile {profile}: cannot run credential_process: {source}")]
    CredentialProcessStart {
        /// The profile.
        profile: String,
        /// Why.
        source: std::io::Error,
    },
    /// The profile's `credential_process` ended with a failure.
    #[error("profile {profile}: credential_process failed ({status})")]
    CredentialProcessFailed {
        /// The profile.
        profile: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// The profile's `credential_process` printed something other than JSON.
    #[error("profile {profile}: credential_process did not print JSON: {source}")]
    CredentialProcessOutput {
        /// The profile.
        profile: String,
        /// Why it is not JSON.
        source: serde_json::Error,
    },
    /// The profile's `credential_process` printed JSON without the keys.
    #[error("profile {profile}: credential_process printed no AccessKeyId/SecretAccessKey")]
    CredentialProcessIncomplete {
        /// The profile.
        profile: String,
    },
    /// No credentials anywhere, and the instance metadata service is disabled.
    #[error(
        "Unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
         choose a profile with --profile or AWS_PROFILE, or use --no-sign-request for \
         public buckets"
    )]
    NoCredentials,
    /// A role credential variable (`AWS_ROLE_ARN`, ...) cannot be used.
    #[error("{name}: {source}")]
    RoleSetting {
        /// The environment variable.
        name: String,
        /// Why.
        source: Cause,
    },
    /// Role credentials (web identity, container, instance) could not be set up.
    #[error("cannot set up role credentials: {0}")]
    RoleCredentials(#[source] Cause),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts the command line printed before these errors were typed.
    #[test]
    fn texts_are_unchanged() {
        assert_eq!(
            AwsError::NoCredentials.to_string(),
            "Unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, choose a \
             profile with --profile or AWS_PROFILE, or use --no-sign-request for public buckets"
        );
        let e = AwsError::UnsupportedProfile {
            profile: "p".into(),
            setting: "role_arn".into(),
        };
        assert_eq!(
            e.to_string(),
            "profile p uses role_arn, which this tool does not resolve; export temporary credentials \
             first, for example: eval \"$(aws configure export-credentials --profile p --format env)\""
        );
        let e = AwsError::ProfileNotFound {
            profile: "p".into(),
            credentials_file: "/c".into(),
            config_file: "/f".into(),
        };
        assert_eq!(
            e.to_string(),
            "the config profile (p) could not be found in /c or /f"
        );
        let e = AwsError::ReadFile {
            path: "/f".into(),
            source: std::io::Error::other("denied"),
        };
        assert_eq!(e.to_string(), "cannot read /f: denied");
        assert_eq!(
            std::error::Error::source(&e).map(ToString::to_string),
            Some("denied".to_string())
        );
    }
}
