//! Fatal errors: problems that stop a run. Per-file verdicts are never errors.

use crate::source::{SourceError, SourceErrorKind};

/// The underlying failure behind an [`Error`], where there is one.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// A problem that ends validation. Its `Display` text is what the command line prints;
/// [`std::error::Error::source`] gives the underlying failure where there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The trail ARN does not have the shape the reference accepts.
    #[error("Invalid trail ARN provided: {0}")]
    InvalidTrailArn(String),
    /// The start of the window lies after its end.
    #[error("Invalid time range specified: start-time must occur before end-time")]
    InvalidTimeRange,
    /// No public key is valid anywhere in the window the reference asks for.
    #[error("No public keys found between {start} and {end}")]
    NoPublicKeys {
        /// Window start, display format.
        start: String,
        /// Window end, display format.
        end: String,
    },
    /// A public-key file could not be used.
    #[error("public key file {path}: {reason}")]
    KeyFile {
        /// The file at fault.
        path: String,
        /// What is wrong with it.
        reason: String,
        /// The read or decoding error behind it.
        #[source]
        cause: Option<Cause>,
    },
    /// The object source failed in a way that is not a per-file verdict. A missing
    /// bucket reads as the AWS CLI words it.
    #[error("{}", source_message(.0))]
    Source(#[from] SourceError),
    /// A validly signed digest lacks a field the reference cannot do without
    /// (the reference aborts with the field name in quotes).
    #[error("'{field}'")]
    DigestField {
        /// The missing field, as the reference names it.
        field: &'static str,
    },
    /// A validly signed digest holds something the reference would crash on.
    #[error("digest s3://{bucket}/{key}: {reason}")]
    MalformedDigest {
        /// Bucket the digest was read from.
        bucket: String,
        /// Key the digest was read from.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A date could not be read (from a digest key name or a digest field).
    #[error("Unable to parse date value: {0}")]
    UnparseableDate(String),
    /// An AWS service call (other than reading objects) failed.
    #[error("{operation}: {reason}")]
    Service {
        /// The call, e.g. `CloudTrail ListPublicKeys in us-east-1`.
        operation: String,
        /// What went wrong.
        reason: String,
        /// The transport or decoding error behind it.
        #[source]
        cause: Option<Cause>,
    },
    /// A plan, a unit or a part of a split audit that cannot be used: what is wrong
    /// with it, naming the unit or file.
    #[error("{0}")]
    Split(String),

    /// A ledger that cannot be used (it does not parse, or was made for another scope).
    #[error("ledger {ledger}: {reason}")]
    Ledger {
        /// The ledger's name (its path or URL).
        ledger: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A report written as it is made could not be written.
    #[error("cannot write the report: {0}")]
    Report(#[source] std::io::Error),
    /// Exported records could not be written.
    #[error("cannot write the export: {0}")]
    Export(#[source] std::io::Error),
}

fn source_message(e: &SourceError) -> String {
    match e.kind {
        SourceErrorKind::NoSuchBucket => "An error occurred (NoSuchBucket) when calling the GetBucketLocation operation: The specified bucket does not exist".to_string(),
        _ => e.to_string(),
    }
}
