//! Proves whether AWS CloudTrail log files are intact.
//!
//! CloudTrail delivers, every hour, a signed digest listing the SHA-256 of each log file
//! it delivered, plus the hash and signature of the previous digest. This crate walks
//! those chains from any [`ObjectSource`], verifies each digest's RSA signature and each
//! log's hash, and reports per-file verdicts as data ([`Event`]); only problems that stop
//! a run are [`Error`]s. The time window is always a parameter: nothing here reads the
//! clock.
//!
//! The walk reproduces `aws cloudtrail validate-logs` rule for rule, and [`TextReport`]
//! prints its output byte for byte.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod arn;
pub mod audit;
#[cfg(feature = "s3")]
pub mod aws;
pub mod dateparse;
mod digest;
mod error;
pub mod gzip;
pub mod keyname;
mod keys;
mod logcheck;
pub mod mirror;
mod pipeline;
#[cfg(test)]
mod realdata;
mod report;
pub mod source;
pub mod time;
mod validate;
mod verdict;
pub mod verify;

pub use arn::TrailArn;
pub use digest::{Digest, DigestParseError, LogFileRef};
pub use error::Error;
pub use keyname::{ChainScope, DigestKeyName};
pub use keys::{PublicKey, PublicKeyProvider, PublicKeySet};
pub use report::{status_line, TextReport};
#[cfg(feature = "s3")]
pub use source::S3Source;
pub use source::{
    BucketMap, LocalDir, MapTarget, MappedSource, MemorySource, MetadataOrigin, ObjectSource, SourceError,
    SourceErrorKind, MAX_WHOLE_OBJECT,
};
pub use validate::Validation;
pub use verdict::{DigestVerdict, Event, LogVerdict, Pass, SignatureSource, Summary};

/// Parses a complete date and time (for example `2026-03-01T00:00:00Z`) to UTC, converting
/// any offset. For user input with missing fields use [`dateparse::parse_date`].
pub fn parse_utc(text: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    dateparse::parse_date(text, chrono::NaiveDate::default())
        .map(|d| d.to_utc())
        .map_err(|_| Error::UnparseableDate(text.to_string()))
}
