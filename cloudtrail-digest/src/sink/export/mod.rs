//! Verified events out: every record of every log an audit read and verified, each with
//! its provenance (the chain, the log and its verified hash, the digest that lists it and
//! the key that signed that digest), for query engines.
//!
//! The audit hands each log it reads to an [`Export`] in a fixed order (see
//! [`crate::audit::Audit::run_exporting`]), with the content it hashed: a log is read
//! once for its verdict and its records. Each log's content is split into records
//! ([`records`]) and encoded ([`encode_ndjson`]) on the thread that read it, unless the
//! log did not verify and unverified records are not wanted; the export then hands the
//! encoded logs, in order, to a [`RecordWriter`] ([`NdjsonWriter`], streaming to any
//! writer or into partitioned files; [`ParquetWriter`], partitioned files) and counts
//! everything in an [`ExportSummary`].

use std::collections::BTreeMap;
use std::io;

mod ndjson;
mod parquet;
mod records;

pub use self::parquet::{batch as parquet_batch, schema as parquet_schema, ParquetWriter};
pub use ndjson::{encode_ndjson, NdjsonOutput, NdjsonWriter};
pub use records::{records, EventFields, Record, RecordsError};

/// Where a log's records come from and what vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The chain's label (as in the audit's findings).
    pub chain: String,
    /// The log's bucket.
    pub log_bucket: String,
    /// The log's key.
    pub log_key: String,
    /// The SHA-256 of its content, verified against the digest (`None` for a log that no
    /// digest lists or whose digest records no hash).
    pub log_sha256: Option<String>,
    /// The bucket of the digest that lists it (`None` for a log no valid digest lists).
    pub digest_bucket: Option<String>,
    /// The key of that digest.
    pub digest_key: Option<String>,
    /// The fingerprint of the public key that signed that digest.
    pub digest_fingerprint: Option<String>,
    /// Where that digest's signature was found: `s3-metadata`, `sidecar`, `xattr`,
    /// `next-digest`.
    pub signature_source: Option<&'static str>,
    /// The log's status: `valid`, else what the audit found (`invalid`, or
    /// `unreferenced` for a log no valid digest lists).
    pub status: &'static str,
}

/// Partition values of a log: its account, region and delivery date, from its key (or
/// `unknown`), as Hive-style folders name them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    /// Account the log belongs to.
    pub account: String,
    /// Region that delivered it.
    pub region: String,
    /// Delivery date, `YYYY-MM-DD`.
    pub date: String,
}

impl Partition {
    /// The partition of a log key; `unknown` values for a key that is no log name.
    pub fn of_key(key: &str) -> Partition {
        match crate::layout::LogKeyName::parse(key) {
            Some(n) => Partition {
                account: n.account_id,
                region: n.region,
                date: n.delivered.format("%Y-%m-%d").to_string(),
            },
            None => Partition {
                account: "unknown".into(),
                region: "unknown".into(),
                date: "unknown".into(),
            },
        }
    }

    /// `account=A/region=R/date=D`.
    pub fn folder(&self) -> String {
        format!(
            "account={}/region={}/date={}",
            self.account, self.region, self.date
        )
    }
}

/// One exported record: its provenance, its place in the log, its bytes and fields.
#[derive(Debug, Clone, Copy)]
pub struct ExportRecord<'a> {
    /// Where it comes from.
    pub provenance: &'a Provenance,
    /// Its log's partition.
    pub partition: &'a Partition,
    /// The record itself.
    pub record: &'a Record<'a>,
}

/// How a writer wants records encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// NDJSON lines ([`encode_ndjson`]).
    Ndjson,
    /// An Arrow batch for Parquet ([`parquet_batch`], schema [`parquet_schema`]).
    Parquet,
}

/// One log's records, encoded for the writer.
#[derive(Debug)]
#[non_exhaustive]
pub enum Encoded {
    /// NDJSON lines.
    Ndjson(Vec<u8>),
    /// One Arrow batch.
    Batch(arrow_array::RecordBatch),
}

/// Writes exported records somewhere, a log at a time: the records of one log arrive
/// encoded as [`RecordWriter::format`] asks, in the export's order.
pub trait RecordWriter {
    /// The encoding this writer takes.
    fn format(&self) -> Format;
    /// Writes the encoded records of one log of `partition`.
    fn write_log(&mut self, partition: &Partition, encoded: &Encoded) -> io::Result<()>;
    /// Writes what is still buffered and closes every file.
    fn finish(&mut self) -> io::Result<()>;
}

/// One log made ready for the writer (on a worker thread): its records encoded, or why
/// they are left out.
#[derive(Debug)]
pub(crate) enum Prepared {
    /// Written: the partition, the encoded records, how many.
    Records(Partition, Encoded, usize),
    /// Left out, and why.
    LeftOut(String),
}

/// What an export wrote and what it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Logs whose records were written.
    pub logs: usize,
    /// Records written.
    pub records: usize,
    /// Logs whose records were left out, by why: their status (`invalid`, `missing`,
    /// `archived`, `unreferenced`, ...), `unreadable content` (not a log's JSON), or `too
    /// large` (more than [`MAX_EXPORTED_LOG`] bytes inflated).
    pub left_out: BTreeMap<String, usize>,
}

/// The largest inflated log whose records are exported: its content is held in memory
/// from its read until its records are encoded (at most two logs per worker wait to be
/// written); a larger one is counted as `too large`.
pub const MAX_EXPORTED_LOG: usize = 256 << 20;

/// An export in progress: the writer, whether unverified logs are wanted, the counts.
pub struct Export<'w> {
    writer: &'w mut dyn RecordWriter,
    include_unverified: bool,
    summary: ExportSummary,
}

impl<'w> Export<'w> {
    /// Records of verified logs only, to `writer`.
    pub fn new(writer: &'w mut dyn RecordWriter) -> Self {
        Export {
            writer,
            include_unverified: false,
            summary: ExportSummary::default(),
        }
    }

    /// Also the records of logs that did not verify (invalid, or listed by no valid
    /// digest), each with its status.
    pub fn include_unverified(mut self, yes: bool) -> Self {
        self.include_unverified = yes;
        self
    }

    /// Whether unverified logs are wanted.
    pub fn wants_unverified(&self) -> bool {
        self.include_unverified
    }

    /// The encoding the writer takes.
    pub fn format(&self) -> Format {
        self.writer.format()
    }

    /// The counts so far.
    pub fn summary(&self) -> &ExportSummary {
        &self.summary
    }

    /// Finishes the writer and gives the counts.
    pub fn finish(self) -> io::Result<ExportSummary> {
        self.writer.finish()?;
        Ok(self.summary)
    }

    /// Takes one prepared log, in the export's order.
    pub(crate) fn take(&mut self, prepared: Prepared) -> io::Result<()> {
        match prepared {
            Prepared::Records(partition, encoded, n) => {
                self.writer.write_log(&partition, &encoded)?;
                self.summary.logs += 1;
                self.summary.records += n;
            }
            Prepared::LeftOut(why) => *self.summary.left_out.entry(why).or_default() += 1,
        }
        Ok(())
    }
}

/// Makes one log ready for a writer taking `format`: its status, its content when it
/// was read (`overflowed` when that was too large to keep). Pure, so that workers can do
/// it.
pub(crate) fn prepare(
    include_unverified: bool,
    format: Format,
    provenance: &Provenance,
    content: Option<&[u8]>,
    overflowed: bool,
) -> Prepared {
    let verified = provenance.status == "valid";
    if !verified && !include_unverified {
        return Prepared::LeftOut(provenance.status.to_string());
    }
    if overflowed {
        return Prepared::LeftOut("too large".into());
    }
    let Some(content) = content else {
        return Prepared::LeftOut(provenance.status.to_string());
    };
    let Ok(records) = records(content) else {
        return Prepared::LeftOut("unreadable content".into());
    };
    let partition = Partition::of_key(&provenance.log_key);
    let exported: Vec<ExportRecord<'_>> = records
        .iter()
        .map(|record| ExportRecord {
            provenance,
            partition: &partition,
            record,
        })
        .collect();
    let encoded = match format {
        Format::Ndjson => {
            let mut lines = Vec::with_capacity(content.len() + content.len() / 4);
            for r in &exported {
                encode_ndjson(r, &mut lines);
            }
            Encoded::Ndjson(lines)
        }
        Format::Parquet => Encoded::Batch(parquet_batch(&exported)),
    };
    Prepared::Records(partition.clone(), encoded, records.len())
}

/// The word for where a digest's signature was found.
impl RecordWriter for ParquetWriter {
    fn format(&self) -> Format {
        Format::Parquet
    }

    fn write_log(&mut self, partition: &Partition, encoded: &Encoded) -> io::Result<()> {
        match encoded {
            Encoded::Batch(b) => self.write_batch(partition, b),
            Encoded::Ndjson(_) => Err(io::Error::other("a Parquet writer takes Arrow batches")),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        ParquetWriter::finish(self)
    }
}
