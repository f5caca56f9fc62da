//! `--ledger`: the ledger a run starts from (a file or an `s3://BUCKET/KEY` object; none
//! yet on a first run) and the one it leaves, written whole or not at all.

use std::io::Read;
use std::sync::Arc;

use cloudtrail_digest::ledger::{Ledger, LedgerScope};
use cloudtrail_digest::{ObjectSource, SourceErrorKind};

use crate::destination::{stage_file, write_whole_as, StagedFile};
use crate::online::{s3_url, Online};
use crate::output::{self, Stop};

/// `scope` with where the run reads: S3 or a local copy (`local`), and the buckets
/// mapped elsewhere. Identities from one kind of source mean nothing to another.
pub fn reading_from(scope: LedgerScope, local: bool, bucket_map: &[String]) -> LedgerScope {
    let mut map = bucket_map.to_vec();
    map.sort();
    scope
        .with("source", if local { "local" } else { "s3" })
        .with("bucket_map", map.join(","))
}

/// The ledger at `given` for a run of `scope`: refused when it does not parse or was
/// made for another scope; empty when there is none yet (which `command`, when named,
/// says).
pub fn load(
    command: Option<&str>,
    given: &str,
    scope: LedgerScope,
    online: &mut Online,
) -> Result<Ledger, Stop> {
    LedgerReader::new(given, online)?.load(command, scope)
}

/// Where a ledger is read from, set up (an S3 source made) so that it can be read on
/// another thread.
pub struct LedgerReader {
    given: String,
    /// For `s3://BUCKET/KEY`: the S3 source, the bucket and the key.
    s3: Option<(Arc<dyn ObjectSource>, String, String)>,
}

impl LedgerReader {
    pub fn new(given: &str, online: &mut Online) -> Result<LedgerReader, Stop> {
        let s3 = match s3_url(given) {
            Some((bucket, key)) => Some((
                online.s3().map_err(Stop::Fatal)?,
                bucket.to_string(),
                key.to_string(),
            )),
            None => None,
        };
        Ok(LedgerReader {
            given: given.to_string(),
            s3,
        })
    }

    /// [`load`], from where this reader was set up.
    pub fn load(self, command: Option<&str>, scope: LedgerScope) -> Result<Ledger, Stop> {
        let given = self.given.as_str();
        let cannot = |e: String| Stop::Fatal(format!("--ledger {given}: cannot be read ({e})"));
        let bytes = match &self.s3 {
            Some((s3, bucket, key)) => match s3.open(bucket, key) {
                Ok(mut reader) => {
                    let mut bytes = Vec::new();
                    reader
                        .read_to_end(&mut bytes)
                        .map_err(|e| cannot(e.to_string()))?;
                    Some(bytes)
                }
                Err(e) if e.kind == SourceErrorKind::NotFound => None,
                Err(e) => return Err(cannot(e.to_string())),
            },
            None => match std::fs::read(given) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(cannot(e.to_string())),
            },
        };
        match bytes {
            Some(bytes) => Ledger::parse(given, &bytes, &scope).map_err(|e| Stop::Fatal(format!("--{e}"))),
            None => {
                if let Some(command) = command {
                    output::eprint(format_args!(
                        "cloudtrail-digest {command}: ledger {given} does not exist yet: every object is read, and the ledger is written there\n"
                    ));
                }
                Ok(Ledger::empty(scope))
            }
        }
    }
}

/// The next ledger, ready to be put in place: [`stage`] does the slow part (to bytes, and
/// for a file, written and synced beside its place) while the run goes on;
/// [`Staged::commit`] puts it in place once the report is out. A run whose report could
/// not be written drops it, which leaves the previous ledger as it was.
pub enum Staged {
    /// A file, written beside its place.
    File(StagedFile),
    /// An S3 object (or standard output), stored whole when committed.
    Whole { given: String, bytes: Vec<u8> },
}

/// Stages `next` for `given` (a file, or an `s3://BUCKET/KEY` object), unless it is the
/// ledger already there: a run that found nothing to change leaves that one as it is
/// (no write, no new S3 object version). Standard output is always written.
pub fn stage(given: &str, next: &Ledger) -> Result<Option<Staged>, Stop> {
    if next.is_unchanged() && given != "-" {
        return Ok(None);
    }
    stage_anew(given, next).map(Some)
}

fn stage_anew(given: &str, next: &Ledger) -> Result<Staged, Stop> {
    let bytes = next.to_bytes();
    if given == "-" || given.starts_with("s3://") {
        return Ok(Staged::Whole {
            given: given.to_string(),
            bytes,
        });
    }
    stage_file("--ledger", given, |w| Ok(w.write_all(&bytes)?)).map(Staged::File)
}

impl Staged {
    /// Puts the ledger in place: a rename, or one S3 object stored whole. An
    /// interrupted run leaves the previous ledger as it was.
    pub fn commit(self, online: &mut Online) -> Result<(), Stop> {
        match self {
            Staged::File(file) => file.commit(),
            Staged::Whole { given, bytes } => {
                write_whole_as("--ledger", &given, online, |w| Ok(w.write_all(&bytes)?))
            }
        }
    }
}
