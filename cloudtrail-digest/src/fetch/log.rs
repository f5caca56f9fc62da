//! Reading one log file: open, inflate and hash, streaming; the verdict is the check's.

use crate::check::digest::LogJob;
use crate::check::log::{verdict, LogRead};
use crate::error::Error;
use crate::gzip::{inflate_and_hash_log_keeping, sha256_hex_of, Kept, LogInflate};
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
    mut keep: Option<&mut Kept>,
) -> Result<LogRead, Error> {
    let (bucket, key) = (job.bucket.as_str(), job.key.as_str());
    let reader = match source.open(bucket, key) {
        Ok(r) => r,
        Err(e) => return super::source_verdict(e, LogRead::Missing, LogRead::Refused),
    };
    let outcome =
        inflate_and_hash_log_keeping(reader, keep.as_deref_mut()).map_err(|e| read_error(bucket, key, e))?;
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
                // Stored decompressed, the log's content is its stored bytes.
                match keep {
                    Some(k) => {
                        k.bytes.clear();
                        k.overflowed = false;
                        let mut kept = KeepReader {
                            inner: reader,
                            keep: k,
                        };
                        Some(sha256_hex_of(&mut kept).map_err(|e| read_error(bucket, key, e))?)
                    }
                    None => Some(sha256_hex_of(reader).map_err(|e| read_error(bucket, key, e))?),
                }
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
    check_log_keeping(source, job, accept_decompressed, None)
}

/// [`check_log`], keeping the log's content (inflated, or as stored when it was stored
/// decompressed) in `keep` when it is given.
pub(crate) fn check_log_keeping(
    source: &dyn ObjectSource,
    job: &LogJob,
    accept_decompressed: bool,
    keep: Option<&mut Kept>,
) -> Result<LogVerdict, Error> {
    Ok(verdict(
        read_log(source, job, accept_decompressed, keep)?,
        job.recorded.as_ref(),
    ))
}

/// Passes reads through, keeping what was read.
struct KeepReader<'k, R> {
    inner: R,
    keep: &'k mut Kept,
}

impl<R: std::io::Read> std::io::Read for KeepReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.keep.push(&buf[..n]);
        Ok(n)
    }
}

/// A failed read of `s3://bucket/key` after it was opened: fatal, naming the object.
pub(crate) fn read_error(bucket: &str, key: &str, e: std::io::Error) -> Error {
    Error::Source(SourceError::new(
        SourceErrorKind::Other,
        bucket,
        key,
        format!("read failed: {e}"),
    ))
}
