//! Fetching: every read of a source during a run, on a bounded number of threads.
//!
//! - [`pool`]: one executor for lists of independent reads (audit, mirror), results in
//!   item order.
//! - [`pipeline`]: a sequential walk's output kept in its order while logs are read in
//!   parallel (validate-logs), with [`prefetch`] fetching the digests it will need.
//! - [`log`]: reading one log file (open, inflate, hash).
//! - [`metered`]: counting what was read, for progress.

pub(crate) mod log;
pub(crate) mod metered;
pub(crate) mod pipeline;
pub(crate) mod pool;
mod prefetch;

use crate::check::digest::LogJob;
use crate::error::Error;
use crate::source::{Object, ObjectSource, SourceError, SourceErrorKind};
use crate::verdict::Event;

/// Why a walk stopped before its end.
pub(crate) enum Halt {
    /// A fatal error, to be reported.
    Fatal(Error),
    /// Whoever consumes the walk's output stopped listening (after a fatal error of its own).
    Cancelled,
}

impl From<Error> for Halt {
    fn from(e: Error) -> Self {
        Halt::Fatal(e)
    }
}

/// Where a walk's output goes, in order.
pub(crate) trait Sink {
    /// A digest or gap event.
    fn event(&mut self, event: Event) -> Result<(), Halt>;
    /// A log file to check; its event must come out in this position.
    fn log(&mut self, job: LogJob) -> Result<(), Halt>;
}

/// How a walk gets digest objects.
pub(crate) trait Fetch {
    /// The object, now.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError>;
    /// The digests likely needed next, soonest first.
    fn hint(&self, _upcoming: Vec<(String, String)>) {}
}

/// Fetching straight from the source, nothing ahead.
struct DirectFetch<'a>(&'a dyn ObjectSource);

impl Fetch for DirectFetch<'_> {
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        self.0.get(bucket, key)
    }
}

/// Maps a source error to a verdict where the reference has one (no such key; a refusal
/// to read), else to a fatal error.
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
