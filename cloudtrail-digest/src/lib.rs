//! Proves whether AWS CloudTrail log files are intact.
//!
//! CloudTrail delivers, every hour, a signed *digest* listing the SHA-256 of each log file
//! it delivered, plus the hash and signature of the previous digest: a signed hash chain.
//! This crate reads those chains from any [`ObjectSource`] (a local mirror, S3, a replica,
//! memory), verifies each digest's RSA signature and each log's hash, and reports what it
//! found as data. Only problems that stop a run are [`Error`]s; every per-file outcome is
//! a verdict ([`DigestVerdict`], [`LogVerdict`]). The time window, and for the audit "now",
//! are always parameters: nothing here reads the clock.
//!
//! # The main types
//!
//! - [`Validation`]: `aws cloudtrail validate-logs`, rule for rule: one chain scope
//!   ([`ChainScope`]) over a window, emitting [`Event`]s in the reference's order, which
//!   [`TextReport`] prints byte for byte.
//! - [`audit::Audit`]: the forensic check of every chain in a set of buckets: every digest,
//!   every missing one, broken links, truncations, log files no digest lists, and the trail
//!   events that explain gaps, as [`audit::Finding`]s in an [`audit::AuditReport`]. Split
//!   for a job array: [`audit::Audit::plan`] into units, [`audit::read_unit`] each into a
//!   part, and [`audit::Merge`] the parts, one family of chains at a time, into the same
//!   report, written a finding at a time ([`audit::ReportWriter`]).
//! - [`mirror::mirror`]: a faithful offline copy of a trail's evidence.
//! - [`ObjectSource`] and its backends: [`LocalDir`] (a mirror on disk), [`MappedSource`]
//!   (buckets read from replicas under their original names), `S3Source` (feature `s3`).
//! - [`PublicKeySet`] and [`PublicKeyProvider`]: CloudTrail's public keys.
//!
//! # The data flow
//!
//! Every command runs the same stages, each a module with one job:
//!
//! **layout** (where CloudTrail puts digests and logs, and their names) → **plan** (which
//! digests to read for a scope and window) → **fetch** (bounded threads; ordered where the
//! reference's output needs order) → **check** (pure: the digest checks in the reference's
//! order, log verdicts) → **verdicts** ([`Event`], [`audit::Finding`]) → **sinks** (the
//! reference's text report, the audit reports, the mirror writer). `ARCHITECTURE.md` in the
//! repository draws it.
//!
//! # Example
//!
//! Validate the sample trail that ships with the repository:
//!
//! ```
//! use cloudtrail_digest::{parse_utc, ChainScope, LocalDir, PublicKeySet, TrailArn, Validation};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mirror = LocalDir::new("../testdata/sample/mirror")?;
//! let mut keys = PublicKeySet::new();
//! keys.add_file("../testdata/sample/public-keys.json".as_ref())?;
//! let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail")?;
//! let window = (parse_utc("2026-03-01T00:00:00Z")?, parse_utc("2026-03-02T01:00:00Z")?);
//! let mut events = 0;
//! let summary = Validation::new(&mirror, &keys, ChainScope::for_trail(&arn), "ctd-sample-bucket", window)?
//!     .run(&mut |_event| events += 1)?;
//! assert!(!summary.has_failures());
//! assert_eq!((summary.valid_digests, summary.valid_logs), (24, 56));
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod arn;
pub mod audit;
#[cfg(feature = "s3")]
pub mod aws;
mod check;
mod dateparse;
mod digest;
mod error;
mod fetch;
mod gzip;
mod keys;
mod layout;
pub mod ledger;
pub mod mirror;
mod plan;
pub mod query_results;
#[cfg(test)]
mod realdata;
mod sink;
mod source;
mod time;
mod validate;
mod verdict;
mod verify;

pub use arn::TrailArn;
pub use dateparse::{parse_date, DateParseError, ParsedDate};
pub use digest::{Digest, DigestParseError, LogFileRef, MAX_DECODED_DIGEST};
pub use error::{Cause, Error};
pub use gzip::MAX_INFLATED_DIGEST;

pub use keys::{PublicKey, PublicKeyProvider, PublicKeySet, MAX_KEY_FILE};
pub use layout::{
    chain_label, find_trail_locations, organization_folder, ChainScope, DigestKeyName, LogKeyName,
    TrailLocation,
};
pub use plan::listing::DigestListing;
pub use plan::ChainFilter;
pub use sink::export::{
    encode_ndjson, parquet_batch, parquet_schema, records, Encoded, EventFields, Export, ExportRecord,
    ExportSummary, Format, NdjsonOutput, NdjsonWriter, ParquetWriter, Partition, Provenance, Record,
    RecordWriter, RecordsError, MAX_EXPORTED_LOG,
};
pub use sink::names::{escape_name, escape_text, is_unprintable, ESCAPE_NOTE};
pub use sink::query_text::reference_outcome as query_results_outcome;
pub use sink::text::{status_line, TextReport};
pub use source::{
    ArchiveClass, BucketMap, Identity, LazySource, LocalDir, MapTarget, MappedSource, MemorySource, Metadata,
    MetadataOrigin, Object, ObjectSource, RestoreOutcome, RestoreRequest, RestoreTier, SidecarError,
    SourceError, SourceErrorKind, MAX_WHOLE_OBJECT, SIDECAR_SUFFIX,
};
#[cfg(feature = "s3")]
pub use source::{S3Source, S3Upload, PART_SIZE};
pub use validate::Validation;
pub use verdict::{DigestVerdict, Event, LogVerdict, Pass, SignatureSource, Summary};

/// Parses a complete date and time (for example `2026-03-01T00:00:00Z`) to UTC, converting
/// any offset. For user input with missing fields use [`parse_date`].
pub fn parse_utc(text: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    dateparse::parse_date(text, chrono::NaiveDate::default())
        .map(|d| d.to_utc())
        .map_err(|_| Error::UnparseableDate(text.to_string()))
}

/// Internals that the fuzz targets, benchmarks and the test generator exercise directly.
/// Not part of the supported API: names and signatures here may change at any time.
#[doc(hidden)]
pub mod internals {
    pub use crate::gzip::{inflate_and_hash_log, inflate_and_hash_log_streaming, sha256_hex, LogInflate};
    pub use crate::layout::{is_backfill_key, key_stamp};
    pub use crate::source::parse_metadata_sidecar;
    pub use crate::time::display;
    pub use crate::verify::RsaPublicKey;
}
