//! Sinks: where verdicts go once checked.
//!
//! - [`text`]: the reference's text report, byte for byte (`validate-logs`).
//! - [`audit`]: the audit's text, JSON and NDJSON reports.
//! - [`mirror`]: the mirror writer (exact bytes, metadata sidecars, atomic renames).
//! - [`export`]: verified events with their provenance, as NDJSON.
//! - [`names`]: names from evidence made safe for a terminal (the text sinks use it).

pub(crate) mod audit;
pub mod export;
pub(crate) mod mirror;
pub(crate) mod names;
pub(crate) mod query_text;
pub(crate) mod text;
