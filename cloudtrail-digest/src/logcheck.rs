//! One log file's verdict: fetch, inflate, hash, compare. Pure with respect to the walk,
//! so workers can run it in any order.

use serde_json::Value;

use crate::gzip::{inflate_and_hash_log, sha256_hex_of, LogInflate};
use crate::source::{ObjectSource, SourceError, SourceErrorKind};
use crate::verdict::LogVerdict;
use crate::Error;

/// A log file a valid digest names.
#[derive(Debug, Clone)]
pub(crate) struct LogJob {
    pub bucket: String,
    pub key: String,
    /// `hashValue` as recorded (absent, or not a string, in malformed digests).
    pub recorded: Option<Value>,
}

/// The verdict for one log, or the fatal error that stops the run (as the reference,
/// any failure to read other than "no such key" is fatal).
pub(crate) fn check_log(
    source: &dyn ObjectSource,
    job: &LogJob,
    accept_decompressed: bool,
) -> Result<LogVerdict, Error> {
    let (bucket, key) = (job.bucket.as_str(), job.key.as_str());
    let reader = match source.open(bucket, key) {
        Ok(r) => r,
        Err(e) => return source_verdict(e, LogVerdict::NotFound, LogVerdict::Refused),
    };
    let outcome = inflate_and_hash_log(reader).map_err(|e| read_error(bucket, key, e))?;
    Ok(match outcome {
        LogInflate::TrailingData => LogVerdict::TrailingData,
        LogInflate::Inflated { sha256_hex } => match &job.recorded {
            None => LogVerdict::InvalidFormat,
            Some(Value::String(h)) if *h == sha256_hex => LogVerdict::Valid,
            Some(_) => LogVerdict::HashMismatch,
        },
        LogInflate::Corrupt => match &job.recorded {
            Some(Value::String(h)) if accept_decompressed => {
                let reader = source.open(bucket, key)?;
                let raw = sha256_hex_of(reader).map_err(|e| read_error(bucket, key, e))?;
                if raw == *h {
                    LogVerdict::ValidStoredDecompressed
                } else {
                    LogVerdict::InvalidFormat
                }
            }
            _ => LogVerdict::InvalidFormat,
        },
    })
}

/// Maps a source error to a verdict where the reference has one, else to a fatal error.
pub(crate) fn source_verdict<V>(
    e: SourceError,
    not_found: V,
    refused: impl Fn(String) -> V,
) -> Result<V, Error> {
    match e.kind {
        SourceErrorKind::NotFound => Ok(not_found),
        SourceErrorKind::Refused => Ok(refused(e.detail)),
        _ => Err(Error::Source(e)),
    }
}

fn read_error(bucket: &str, key: &str, e: std::io::Error) -> Error {
    Error::Source(SourceError::new(
        SourceErrorKind::Other,
        bucket,
        key,
        format!("read failed: {e}"),
    ))
}
