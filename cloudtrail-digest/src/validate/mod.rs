//! `validate-logs`: the reference's validation of one chain scope over a window, as a
//! driver over the shared stages: the reference's listing plan, the chain walk, the
//! digest and log checks, and the ordered pipeline that fetches logs in parallel.

mod ledgered;
mod walk;

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};

use self::walk::Walk;
use crate::error::Error;
use crate::fetch::pipeline::{run_inline, run_parallel, CheckLog, Reading, Walker};
use crate::keys::PublicKeyProvider;
use crate::layout::ChainScope;
use crate::plan::listing::DigestListing;
use crate::source::ObjectSource;
use crate::verdict::{Event, Summary};

/// One validation run over one chain scope and time window.
///
/// ```
/// # use cloudtrail_digest::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mirror = LocalDir::new("../testdata/sample/mirror")?;
/// let mut keys = PublicKeySet::new();
/// keys.add_file("../testdata/sample/public-keys.json".as_ref())?;
/// let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail")?;
/// let window = (parse_utc("2026-03-01T00:00:00Z")?, parse_utc("2026-03-02T00:00:00Z")?);
/// let mut invalid = Vec::new();
/// let summary = Validation::new(&mirror, &keys, ChainScope::for_trail(&arn), "ctd-sample-bucket", window)?
///     .jobs(2)
///     .run(&mut |event| {
///         if let Event::Log { key, verdict, .. } = event {
///             if !verdict.is_valid() {
///                 invalid.push(key.clone());
///             }
///         }
///     })?;
/// assert!(invalid.is_empty() && !summary.has_failures());
/// # Ok(()) }
/// ```
pub struct Validation<'a> {
    pub(crate) source: &'a dyn ObjectSource,
    pub(crate) keys: &'a dyn PublicKeyProvider,
    pub(crate) scope: ChainScope,
    pub(crate) bucket: String,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) recover_signatures: bool,
    accept_decompressed_logs: bool,
    jobs: usize,
    prefetch: usize,
    pub(crate) listed_ahead: Option<&'a DigestListing>,
}

impl<'a> Validation<'a> {
    /// A run over digests of `scope` starting in `bucket`, for `window` = (start, end),
    /// both inclusive. Fails when start is after end.
    pub fn new(
        source: &'a dyn ObjectSource,
        keys: &'a dyn PublicKeyProvider,
        scope: ChainScope,
        bucket: &str,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Self, Error> {
        if window.0 > window.1 {
            return Err(Error::InvalidTimeRange);
        }
        Ok(Validation {
            source,
            keys,
            scope,
            bucket: bucket.to_string(),
            start: window.0,
            end: window.1,
            recover_signatures: true,
            accept_decompressed_logs: true,
            jobs: crate::fetch::pool::processors(),
            prefetch: 16,
            listed_ahead: None,
        })
    }

    /// Whether a digest without signature metadata may use the `previousDigestSignature`
    /// recorded by the digest that follows it (default: yes). The signature is
    /// verified all the same.
    pub fn recover_signatures(mut self, yes: bool) -> Self {
        self.recover_signatures = yes;
        self
    }

    /// Whether a log stored already decompressed is accepted when its bytes hash to the
    /// recorded value (default: yes). The reference reports it as invalid format.
    pub fn accept_decompressed_logs(mut self, yes: bool) -> Self {
        self.accept_decompressed_logs = yes;
        self
    }

    /// How many log files are read, inflated and hashed at once (default: one per
    /// core). With 1 everything runs on the calling thread. Output is the same either way.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// How many digests, by the listing's order, are fetched ahead of need when running
    /// with more than one job (default 16).
    pub fn prefetch(mut self, digests: usize) -> Self {
        self.prefetch = digests;
        self
    }

    /// Takes the digests `listing` listed, when it listed what this run lists first,
    /// instead of listing them (see [`DigestListing`]). A run with a ledger lists its own.
    pub fn digests_listed_ahead(mut self, listing: &'a DigestListing) -> Self {
        self.listed_ahead = Some(listing);
        self
    }

    /// Walks standard digests, then backfill digests, calling `emit` for each event in
    /// the reference's order. Returns the totals, or the fatal error that stopped the run
    /// (events emitted before it stand).
    pub fn run(&self, emit: &mut dyn FnMut(&Event)) -> Result<Summary, Error> {
        self.run_while(&mut |event| {
            emit(event);
            ControlFlow::Continue(())
        })
    }

    /// Like [`Validation::run`], but `emit` may stop the run by returning `Break` (its
    /// output went nowhere, say): no further object is read, and the totals of what was
    /// emitted until then are returned.
    pub fn run_while(&self, emit: &mut dyn FnMut(&Event) -> ControlFlow<()>) -> Result<Summary, Error> {
        self.run_reading(None, emit)
    }

    /// Runs the validation, with each log's verdict found by `check` when it is given (a
    /// run with a ledger).
    fn run_reading(
        &self,
        check: Option<&CheckLog<'_>>,
        emit: &mut dyn FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<Summary, Error> {
        let window = (self.start, self.end);
        let mut summary = Summary::default();
        let mut deliver = |event: &Event| {
            summary.record(event, window);
            emit(event)
        };
        let reading = Reading {
            source: self.source,
            jobs: self.jobs,
            prefetch: self.prefetch,
            accept_decompressed: self.accept_decompressed_logs,
            check,
        };
        let walk: Box<Walker<'_>> = Box::new(|sink, fetch| Walk::new(self, sink, fetch).run());
        if self.jobs <= 1 {
            run_inline(reading, walk, &mut deliver)?;
        } else {
            run_parallel(reading, walk, &mut deliver)?;
        }
        Ok(summary)
    }
}
