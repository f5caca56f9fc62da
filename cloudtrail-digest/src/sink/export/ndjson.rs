//! Exported records as NDJSON: one JSON object a line, streamed to a writer, or into
//! Hive-style partition folders (`account=A/region=R/date=D/part-NNNNN.ndjson[.gz]`).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::SecondsFormat;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Serialize;

use super::{Encoded, ExportRecord, Format, Partition, RecordWriter};

/// A part file is closed, and the next one of its partition begun, past this many bytes.
const PART_BYTES: u64 = 128 << 20;

/// One line: provenance, place, typed fields, and the record's exact bytes as a string.
#[derive(Serialize)]
struct Line<'a> {
    chain: &'a str,
    log_bucket: &'a str,
    log_key: &'a str,
    log_sha256: Option<&'a str>,
    digest_bucket: Option<&'a str>,
    digest_key: Option<&'a str>,
    digest_fingerprint: Option<&'a str>,
    signature_source: Option<&'a str>,
    status: &'a str,
    offset: usize,
    length: usize,
    #[serde(rename = "eventTime")]
    event_time: Option<String>,
    #[serde(rename = "eventName")]
    event_name: Option<&'a str>,
    #[serde(rename = "eventSource")]
    event_source: Option<&'a str>,
    #[serde(rename = "eventID")]
    event_id: Option<&'a str>,
    #[serde(rename = "awsRegion")]
    aws_region: Option<&'a str>,
    #[serde(rename = "recipientAccountId")]
    recipient_account_id: Option<&'a str>,
    #[serde(rename = "userIdentityType")]
    user_identity_type: Option<&'a str>,
    #[serde(rename = "userIdentityArn")]
    user_identity_arn: Option<&'a str>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<&'a str>,
    #[serde(rename = "errorCode")]
    error_code: Option<&'a str>,
    raw: &'a str,
}

/// Appends `record` to `out` as one NDJSON line.
pub fn encode_ndjson(record: &ExportRecord<'_>, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, &line(record)).expect("a line serialises to memory");
    out.push(b'\n');
}

fn line<'a>(r: &'a ExportRecord<'a>) -> Line<'a> {
    let (p, rec, f) = (r.provenance, r.record, &r.record.fields);
    Line {
        chain: &p.chain,
        log_bucket: &p.log_bucket,
        log_key: &p.log_key,
        log_sha256: p.log_sha256.as_deref(),
        digest_bucket: p.digest_bucket.as_deref(),
        digest_key: p.digest_key.as_deref(),
        digest_fingerprint: p.digest_fingerprint.as_deref(),
        signature_source: p.signature_source,
        status: p.status,
        offset: rec.offset,
        length: rec.raw.len(),
        event_time: f
            .event_time
            .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        event_name: f.event_name.as_deref(),
        event_source: f.event_source.as_deref(),
        event_id: f.event_id.as_deref(),
        aws_region: f.aws_region.as_deref(),
        recipient_account_id: f.recipient_account_id.as_deref(),
        user_identity_type: f.user_identity_type.as_deref(),
        user_identity_arn: f.user_identity_arn.as_deref(),
        source_ip_address: f.source_ip_address.as_deref(),
        error_code: f.error_code.as_deref(),
        raw: rec.raw,
    }
}

/// Where NDJSON goes.
pub enum NdjsonOutput {
    /// One stream (standard output, a file, a pipe), optionally gzip'd.
    Stream(Box<dyn Write>),
    /// Partition folders under a directory that is empty or new.
    Partitioned {
        /// The directory.
        dir: PathBuf,
    },
}

/// A stream or part file, plain or gzip'd (finished explicitly, so that a failure to
/// write the gzip trailer is an error, not lost in a drop).
enum Out {
    Plain(Box<dyn Write>),
    Gzip(Box<GzEncoder<Box<dyn Write>>>),
}

impl Out {
    fn new(w: Box<dyn Write>, gzip: bool) -> Out {
        if gzip {
            Out::Gzip(Box::new(GzEncoder::new(w, Compression::default())))
        } else {
            Out::Plain(w)
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Out::Plain(w) => w.write_all(bytes),
            Out::Gzip(w) => w.write_all(bytes),
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Out::Plain(mut w) => w.flush(),
            Out::Gzip(w) => w.finish()?.flush(),
        }
    }
}

/// Writes exported records as NDJSON.
pub struct NdjsonWriter {
    target: Target,
    gzip: bool,
}

enum Target {
    Stream(Option<Out>),
    Partitioned {
        dir: PathBuf,
        /// The part file being written: its partition, the file, bytes written.
        open: Option<(Partition, Out, u64)>,
        /// Part files begun, by partition.
        parts: BTreeMap<Partition, usize>,
    },
}

impl NdjsonWriter {
    /// NDJSON to `output`, gzip'd when `gzip` (each part file, or the stream, is one gzip
    /// member). A partition directory must be empty or not exist yet, so that no file of
    /// an earlier export mixes with this one.
    pub fn new(output: NdjsonOutput, gzip: bool) -> io::Result<NdjsonWriter> {
        let target = match output {
            NdjsonOutput::Stream(w) => Target::Stream(Some(Out::new(w, gzip))),
            NdjsonOutput::Partitioned { dir } => {
                empty_dir(&dir)?;
                Target::Partitioned {
                    dir,
                    open: None,
                    parts: BTreeMap::new(),
                }
            }
        };
        Ok(NdjsonWriter { target, gzip })
    }
}

/// Creates `dir`, or checks that it is empty.
pub(crate) fn empty_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    if fs::read_dir(dir)?.next().is_some() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} is not empty: an export writes into an empty directory",
                dir.display()
            ),
        ));
    }
    Ok(())
}

impl RecordWriter for NdjsonWriter {
    fn format(&self) -> Format {
        Format::Ndjson
    }

    fn write_log(&mut self, partition: &Partition, encoded: &Encoded) -> io::Result<()> {
        let Encoded::Ndjson(text) = encoded else {
            return Err(io::Error::other("an NDJSON writer takes NDJSON lines"));
        };
        if text.is_empty() {
            return Ok(());
        }
        match &mut self.target {
            Target::Stream(w) => w
                .as_mut()
                .ok_or_else(|| io::Error::other("the export is finished"))?
                .write_all(text),
            Target::Partitioned { dir, open, parts } => {
                let switch = match open {
                    Some((p, _, written)) => p != partition || *written >= PART_BYTES,
                    None => true,
                };
                if switch {
                    if let Some((_, w, _)) = open.take() {
                        w.finish()?;
                    }
                    let n = parts.entry(partition.clone()).or_default();
                    let folder = dir.join(partition.folder());
                    fs::create_dir_all(&folder)?;
                    let name = format!("part-{n:05}.ndjson{}", if self.gzip { ".gz" } else { "" });
                    *n += 1;
                    let file = BufWriter::new(fs::File::create(folder.join(name))?);
                    *open = Some((partition.clone(), Out::new(Box::new(file), self.gzip), 0));
                }
                let (_, w, written) = open.as_mut().expect("a part file is open");
                *written += text.len() as u64;
                w.write_all(text)
            }
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        let out = match &mut self.target {
            Target::Stream(w) => w.take(),
            Target::Partitioned { open, .. } => open.take().map(|(_, w, _)| w),
        };
        out.map_or(Ok(()), Out::finish)
    }
}
