//! Why a session with AWS cannot be set up.

use std::path::PathBuf;

use super::credentials::CredentialsProblem;

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
    /// The shared config or credentials file cannot be read or parsed.
    #[error("cannot load the AWS config and credentials files: {0}")]
    ProfileFiles(#[source] Cause),
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
    /// No source had credentials (the SDK's answer is the cause).
    #[error(
        "Unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
         choose a profile with --profile or AWS_PROFILE, or use --no-sign-request for \
         public buckets"
    )]
    NoCredentials(#[source] CredentialsProblem),
    /// A source of credentials was found but failed: an expired SSO login, a role that
    /// cannot be assumed, a `credential_process` that failed.
    #[error(transparent)]
    Credentials(CredentialsProblem),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts the command line printed before these errors were typed.
    #[test]
    fn texts_are_unchanged() {
        assert_eq!(
            AwsError::NoCredentials(CredentialsProblem::example()).to_string(),
            "Unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, choose a \
             profile with --profile or AWS_PROFILE, or use --no-sign-request for public buckets"
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
    }
}
