//! Exported records as Parquet (arrow-rs), in Hive-style partition folders
//! (`account=A/region=R/date=D/part-NNNNN.parquet`), Snappy-compressed: what Athena
//! partition projection and DuckDB's `hive_partitioning` read directly.
//!
//! Each log's records become one Arrow batch on the thread that read the log
//! ([`batch`]); the writer appends the batches of a partition to its open file, in
//! order, and closes it when the next log belongs elsewhere or the file is full.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::ndjson::empty_dir;
use super::{ExportRecord, Partition};

/// Rows in one row group; a part file is closed past [`PART_ROWS`].
const ROW_GROUP_ROWS: usize = 128 * 1024;
const PART_ROWS: usize = 4 * 1024 * 1024;

/// The string columns, in order, after the provenance and place columns.
const TEXT_FIELDS: [&str; 9] = [
    "eventName",
    "eventSource",
    "eventID",
    "awsRegion",
    "recipientAccountId",
    "userIdentityType",
    "userIdentityArn",
    "sourceIPAddress",
    "errorCode",
];

/// The schema of every file: provenance, place, typed fields, the raw record.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    Arc::clone(SCHEMA.get_or_init(|| {
        let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
        let mut fields = vec![
            text("chain", false),
            text("log_bucket", false),
            text("log_key", false),
            text("log_sha256", true),
            text("digest_bucket", true),
            text("digest_key", true),
            text("digest_fingerprint", true),
            text("signature_source", true),
            text("status", false),
            Field::new("offset", DataType::Int64, false),
            Field::new("length", DataType::Int64, false),
            Field::new(
                "eventTime",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ];
        fields.extend(TEXT_FIELDS.iter().map(|n| text(n, true)));
        fields.push(text("raw", false));
        Arc::new(Schema::new(fields))
    }))
}

/// A string column of `records`.
fn strings<'r>(
    records: &'r [ExportRecord<'r>],
    f: impl Fn(&'r ExportRecord<'r>) -> Option<&'r str>,
) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(records.len(), records.len() * 16);
    for r in records {
        b.append_option(f(r));
    }
    Arc::new(b.finish())
}

/// An integer column of `records`.
fn numbers(records: &[ExportRecord<'_>], f: impl Fn(&ExportRecord<'_>) -> usize) -> ArrayRef {
    let mut b = Int64Builder::with_capacity(records.len());
    for r in records {
        b.append_value(f(r) as i64);
    }
    Arc::new(b.finish())
}

/// One log's records as one batch (with the schema of [`schema`]).
pub fn batch(records: &[ExportRecord<'_>]) -> RecordBatch {
    let mut times = TimestampMicrosecondBuilder::with_capacity(records.len()).with_timezone("UTC");
    for r in records {
        times.append_option(r.record.fields.event_time.map(|t| t.timestamp_micros()));
    }
    let columns: Vec<ArrayRef> = vec![
        strings(records, |r| Some(&r.provenance.chain)),
        strings(records, |r| Some(&r.provenance.log_bucket)),
        strings(records, |r| Some(&r.provenance.log_key)),
        strings(records, |r| r.provenance.log_sha256.as_deref()),
        strings(records, |r| r.provenance.digest_bucket.as_deref()),
        strings(records, |r| r.provenance.digest_key.as_deref()),
        strings(records, |r| r.provenance.digest_fingerprint.as_deref()),
        strings(records, |r| r.provenance.signature_source),
        strings(records, |r| Some(r.provenance.status)),
        numbers(records, |r| r.record.offset),
        numbers(records, |r| r.record.raw.len()),
        Arc::new(times.finish()),
        strings(records, |r| r.record.fields.event_name.as_deref()),
        strings(records, |r| r.record.fields.event_source.as_deref()),
        strings(records, |r| r.record.fields.event_id.as_deref()),
        strings(records, |r| r.record.fields.aws_region.as_deref()),
        strings(records, |r| r.record.fields.recipient_account_id.as_deref()),
        strings(records, |r| r.record.fields.user_identity_type.as_deref()),
        strings(records, |r| r.record.fields.user_identity_arn.as_deref()),
        strings(records, |r| r.record.fields.source_ip_address.as_deref()),
        strings(records, |r| r.record.fields.error_code.as_deref()),
        strings(records, |r| Some(r.record.raw)),
    ];
    RecordBatch::try_new(schema(), columns).expect("columns follow the schema")
}

/// Writes exported records as Parquet partition files under a directory that is empty
/// or new.
pub struct ParquetWriter {
    dir: PathBuf,
    /// The part file being written: its partition, the writer, rows written.
    open: Option<(Partition, ArrowWriter<BufWriter<File>>, usize)>,
    /// Part files begun, by partition.
    parts: BTreeMap<Partition, usize>,
}

impl ParquetWriter {
    /// Parquet files under `dir`, which must be empty or not exist yet.
    pub fn new(dir: PathBuf) -> io::Result<ParquetWriter> {
        empty_dir(&dir)?;
        Ok(ParquetWriter {
            dir,
            open: None,
            parts: BTreeMap::new(),
        })
    }

    fn close_open(&mut self) -> io::Result<()> {
        if let Some((_, w, _)) = self.open.take() {
            w.close().map_err(io::Error::other)?;
        }
        Ok(())
    }

    /// Appends one log's batch to its partition's file.
    pub(crate) fn write_batch(&mut self, partition: &Partition, batch: &RecordBatch) -> io::Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let switch = match &self.open {
            Some((p, _, rows)) => p != partition || *rows >= PART_ROWS,
            None => true,
        };
        if switch {
            self.close_open()?;
            let n = self.parts.entry(partition.clone()).or_default();
            let folder = self.dir.join(partition.folder());
            fs::create_dir_all(&folder)?;
            let file = BufWriter::new(File::create(folder.join(format!("part-{n:05}.parquet")))?);
            *n += 1;
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .set_created_by(format!("cloudtrail-digest {}", env!("CARGO_PKG_VERSION")))
                .build();
            let writer = ArrowWriter::try_new(file, schema(), Some(props)).map_err(io::Error::other)?;
            self.open = Some((partition.clone(), writer, 0));
        }
        let (_, w, rows) = self.open.as_mut().expect("a part file is open");
        *rows += batch.num_rows();
        w.write(batch).map_err(io::Error::other)
    }

    /// Closes the open file.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.close_open()
    }
}
