//! Reading one log file: open, inflate and hash, streaming; the verdict is the check's.

use crate::check::digest::LogJob;
use crate::check::log::{verdict, LogRead};
use crate::error::Error;
use crate::gzip::{inflate_and_hash_log, sha256_hex_of, LogInflate};
use crate::source::{ObjectSource, SourceError, SourceErrorKind};
use crate::verdict::LogVerdict;

/// Reads the log `job` names. A log that is not gzip is hashed as stored when
/// `accept_decompressed` and its digest records a hash, so a log stored decompressed can
/// be recognised. Any failure to read other than "no such key" or a refusal is fatal, as
/// in the reference.
pub(crate) fn read_log(
    source: &dyn ObjectSource,
    job: &LogJob,
    accept_decompressed: bool,
) -> Result<LogRead, Error> {
    let (bucket, key) = (job.bucket.as_str(), job.key.as_str());
    let reader = match source.open(bucket, key) {
        Ok(r) => r,
        Err(e) => return super::source_verdict(e, LogRead::Missing, LogRead::Refused),
    };
    let outcome = inflate_and_hash_log(reader).map_err(|e| read_error(bucket, key, e))?;
    Ok(match outcome {
        LogInflate::TrailingData => LogRead::TrailingData,
        LogInflate::Inflated { sha256_hex } => LogRead::Inflated { sha256_hex },
        LogInflate::Corrupt => {
            let recorded_hash = matches!(job.recorded, Some(serde_json::Value::String(_)));
            let stored_sha256_hex = if accept_decompressed && recorded_hash {
                // A second read: what is there may have changed (been deleted, or
                // swapped for a link out) since the first, and gets its verdict.
                let reader = match source.open(bucket, key) {
                    Ok(r) => r,
                    Err(e) => return super::source_verdict(e, LogRead::Missing, LogRead::Refused),
                };
                Some(sha256_hex_of(reader).map_err(|e| read_error(bucket, key, e))?)
            } else {
                None
            };
            LogRead::NotGzip { stored_sha256_hex }
        }
    })
}

/// The verdict for one log, or the fatal error that stops the run.
pub(crate) fn check_log(
    source: &dyn ObjectSource,
    job: &LogJob,
    accept_decompressed: bool,
) -> Result<LogVerdict, Error> {
    Ok(verdict(
        read_log(source, job, accept_decompressed)?,
        job.recorded.as_ref(),
    ))
}

fn read_error(bucket: &str, key: &str, e: std::io::Error) -> Error {
    Error::Source(SourceError::new(
        SourceErrorKind::Other,
        bucket,
        key,
        format!("read failed: {e}"),
    ))
}
