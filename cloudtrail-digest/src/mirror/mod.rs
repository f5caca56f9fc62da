//! A faithful offline copy of a trail's evidence: every digest of a time window (for
//! every account, organization folder and region under the bucket's `AWSLogs/`), each
//! with a `KEY.metadata.json` sidecar holding its user metadata, and every log file they
//! name, into the mirror layout `DEST/BUCKET/KEY` that [`crate::LocalDir`] reads.
//!
//! - Bytes are never altered: objects are written exactly as the source returns them.
//! - Resumable: an object whose file exists with the source's size (and, for a digest,
//!   its sidecar) is not fetched again. Every file is written to a temporary name in its
//!   directory and renamed into place, so an interrupted run leaves no partial object.
//! - Which digests: those in the date folders from the day before the window's start to
//!   the day after its end + 1 hour (a superset of what validation lists), plus every
//!   previous digest they name within those days, in whatever bucket (a trail whose
//!   bucket changed), and then that bucket's digests of the same days too.
//! - Keys that could leave `DEST` (`..`, empty segments, ...), and objects the source
//!   refuses to read (see [`SourceErrorKind::Refused`]), are refused and counted.
//! - Archived objects ([`SourceErrorKind::Archived`]) are counted and not copied; once
//!   restored, running the mirror again completes the copy. With
//!   [`MirrorRequest::restore`], each archived object is asked to be restored, once
//!   ([`ObjectSource::restore`]); one already restored is read again and copied.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::io;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::check::digest::listed_logs_lenient;
use crate::digest::Digest;
use crate::fetch::pool;
use crate::layout::{account_folders, awslogs_folder, key_stamp, region_folder};
use crate::plan::window::day_folders;
use crate::sink::mirror::{sidecar_json, with_suffix, Destination, WriteError};
use crate::source::{
    ObjectSource, RestoreOutcome, RestoreRequest, SourceError, SourceErrorKind, SIDECAR_SUFFIX,
};

pub use crate::sink::mirror::PARTIAL_SUFFIX;

/// Days a window may span, at most.
const MAX_DAYS: i64 = 366 * 30;

/// What to copy.
#[derive(Debug, Clone)]
pub struct MirrorRequest {
    /// The trail's bucket (its original name; read it through a
    /// [`crate::MappedSource`] to copy from a replica).
    pub bucket: String,
    /// Key prefix of the trail, if any.
    pub prefix: Option<String>,
    /// Only this account's digests (member account of an organization trail too).
    pub account_id: Option<String>,
    /// Start of the validation window this copy is for.
    pub start: DateTime<Utc>,
    /// End of the validation window this copy is for.
    pub end: DateTime<Utc>,
    /// Ask for a restore of every archived object met (`None`: only count them).
    pub restore: Option<RestoreRequest>,
}

/// Counts so far (and in the end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorStats {
    /// Digests found (listed or named as a previous digest).
    pub digests_found: usize,
    /// Digests handled (copied, already present or missing).
    pub digests_done: usize,
    /// Log files named by the digests.
    pub logs_found: usize,
    /// Log files handled.
    pub logs_done: usize,
    /// Objects fetched and written.
    pub copied: usize,
    /// Objects already complete in the destination.
    pub skipped: usize,
    /// Objects named but not in the source (`NoSuchKey`).
    pub missing: usize,
    /// Objects whose key cannot be a path inside the destination.
    pub refused: usize,
    /// Objects in an archive storage class, not restored: not copied (restore them and
    /// run the mirror again to complete the copy).
    pub archived: usize,
    /// Of the archived objects, those whose restore this run started.
    pub restores_started: usize,
    /// Of the archived objects, those whose restore was already under way.
    pub restores_in_progress: usize,
    /// Bytes written.
    pub bytes: u64,
}

impl From<WriteError> for MirrorError {
    fn from(e: WriteError) -> Self {
        MirrorError::Io {
            path: e.path,
            error: e.error,
        }
    }
}

/// Why a mirror run stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MirrorError {
    /// Reading from the source failed (other than a missing object).
    #[error("{}", crate::error::Error::Source(.0.clone()))]
    Source(#[source] SourceError),
    /// Writing to the destination failed.
    #[error("{path}: {error}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What failed.
        #[source]
        error: io::Error,
    },
    /// The progress callback asked to stop.
    #[error("interrupted")]
    Interrupted,
    /// The window is not usable.
    #[error("{0}")]
    Window(String),
}

/// Copies the evidence `request` names from `source` into `dest`, with `jobs` transfers
/// at once. `progress` is called after each object with the counts so far; returning
/// `ControlFlow::Break` stops the run (files already renamed into place stay).
pub fn mirror(
    source: &dyn ObjectSource,
    request: &MirrorRequest,
    dest: &Path,
    jobs: usize,
    progress: &(dyn Fn(&MirrorStats) -> ControlFlow<()> + Sync),
) -> Result<MirrorStats, MirrorError> {
    if request.start > request.end {
        return Err(MirrorError::Window(
            "Invalid time range specified: start-time must occur before end-time".into(),
        ));
    }
    let first_day = (request.start - Duration::days(1)).date_naive();
    let last_day = (request.end + Duration::hours(1) + Duration::days(1)).date_naive();
    if (last_day - first_day).num_days() > MAX_DAYS {
        return Err(MirrorError::Window(format!(
            "the window spans more than {MAX_DAYS} days; mirror it in parts"
        )));
    }
    fs::create_dir_all(dest).map_err(|error| MirrorError::Io {
        path: dest.to_path_buf(),
        error,
    })?;
    let dest = Destination::new(dest).map_err(|error| MirrorError::Io {
        path: dest.to_path_buf(),
        error,
    })?;
    let run = Run {
        source,
        restore: request.restore,
        dest,
        jobs: jobs.max(1),
        first_day,
        last_day,
        stats: Mutex::new(MirrorStats::default()),
        progress,
        stop: AtomicBool::new(false),
    };
    run.go(request)?;
    let stats = run.stats.lock().expect("stats lock").clone();
    Ok(stats)
}

type ObjectId = (String, String);

struct Run<'a> {
    source: &'a dyn ObjectSource,
    restore: Option<RestoreRequest>,
    dest: Destination<'a>,
    jobs: usize,
    first_day: NaiveDate,
    last_day: NaiveDate,
    stats: Mutex<MirrorStats>,
    progress: &'a (dyn Fn(&MirrorStats) -> ControlFlow<()> + Sync),
    stop: AtomicBool,
}

/// Which kind of object a read is for, to count it as done.
#[derive(Clone, Copy)]
enum Kind {
    Digest,
    Log,
}

/// What one digest leads to.
#[derive(Default)]
struct DigestLinks {
    logs: Vec<ObjectId>,
    previous: Option<ObjectId>,
}

impl Run<'_> {
    fn go(&self, request: &MirrorRequest) -> Result<(), MirrorError> {
        let awslogs = awslogs_folder(request.prefix.as_deref());
        let mut folders: BTreeSet<ObjectId> = BTreeSet::new();
        let accounts = account_folders(self.source, &request.bucket, &awslogs, &|_| true, true)
            .map_err(MirrorError::Source)?;
        let wanted = request.account_id.as_deref();
        for account in accounts
            .iter()
            .filter(|a| wanted.is_none_or(|w| w == a.account_id))
        {
            for region in self.folders(&request.bucket, &format!("{}CloudTrail-Digest/", account.path))? {
                folders.insert((request.bucket.clone(), region));
            }
        }
        let mut listed: HashSet<ObjectId> = HashSet::new();
        let mut seen: HashSet<ObjectId> = HashSet::new();
        let mut logs: BTreeSet<ObjectId> = BTreeSet::new();
        let mut wave: Vec<ObjectId> = self.list_days(&folders, &mut listed)?;
        while !wave.is_empty() {
            wave.retain(|d| seen.insert(d.clone()));
            self.count(|s| s.digests_found += wave.len());
            let links = self.parallel(&wave, |(b, k)| self.copy_digest(b, k))?;
            let mut next = Vec::new();
            let mut new_folders = BTreeSet::new();
            for l in links.into_iter().flatten() {
                logs.extend(l.logs);
                if let Some((b, k)) = l.previous {
                    if !self.in_days(&k) {
                        continue;
                    }
                    if let Some(folder) = region_folder(&k) {
                        if !listed.contains(&(b.clone(), folder.clone())) {
                            new_folders.insert((b.clone(), folder));
                        }
                    }
                    if !seen.contains(&(b.clone(), k.clone())) {
                        next.push((b, k));
                    }
                }
            }
            next.extend(self.list_days(&new_folders, &mut listed)?);
            next.sort();
            next.dedup();
            wave = next;
        }
        let logs: Vec<ObjectId> = logs.into_iter().collect();
        self.count(|s| s.logs_found = logs.len());
        self.parallel(&logs, |(b, k)| self.copy_log(b, k))?;
        Ok(())
    }

    fn folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, MirrorError> {
        self.source
            .list_folders(bucket, prefix)
            .map_err(MirrorError::Source)
    }

    /// Digest keys in the date folders of the mirrored days, for each region folder.
    fn list_days(
        &self,
        folders: &BTreeSet<ObjectId>,
        listed: &mut HashSet<ObjectId>,
    ) -> Result<Vec<ObjectId>, MirrorError> {
        let mut day_prefixes = Vec::new();
        for (bucket, folder) in folders {
            if !listed.insert((bucket.clone(), folder.clone())) {
                continue;
            }
            for prefix in day_folders(folder, self.first_day, self.last_day) {
                day_prefixes.push((bucket.clone(), prefix));
            }
        }
        let pages = self.parallel(&day_prefixes, |(b, prefix)| {
            let keys = self.source.list(b, prefix, "").map_err(MirrorError::Source)?;
            Ok(keys
                .into_iter()
                .filter(|k| k.ends_with(".json.gz"))
                .map(|k| (b.clone(), k))
                .collect::<Vec<_>>())
        })?;
        Ok(pages.into_iter().flatten().flatten().collect())
    }

    fn in_days(&self, key: &str) -> bool {
        let stamp = key_stamp(key);
        let from = format!("{}T000000Z", self.first_day.format("%Y%m%d"));
        let to = format!("{}T235959Z", self.last_day.format("%Y%m%d"));
        stamp.len() == 16 && stamp >= from && stamp <= to
    }

    /// Runs `f` over `items` on up to `jobs` threads. Stops early on the first error or
    /// when asked to; `None` marks items not run.
    fn parallel<T: Sync, R: Send>(
        &self,
        items: &[T],
        f: impl Fn(&T) -> Result<R, MirrorError> + Sync,
    ) -> Result<Vec<Option<R>>, MirrorError> {
        let results = pool::try_map(items, self.jobs, &self.stop, f)?;
        if self.stop.load(Ordering::SeqCst) {
            return Err(MirrorError::Interrupted);
        }
        Ok(results)
    }

    fn count(&self, change: impl FnOnce(&mut MirrorStats)) {
        let mut stats = self.stats.lock().expect("stats lock");
        change(&mut stats);
        if (self.progress)(&stats).is_break() {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    fn target(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        self.dest.target(bucket, key)
    }

    fn copy_digest(&self, bucket: &str, key: &str) -> Result<DigestLinks, MirrorError> {
        let Some(path) = self.target(bucket, key) else {
            self.count(|s| {
                s.refused += 1;
                s.digests_done += 1;
            });
            return Ok(DigestLinks::default());
        };
        let sidecar = with_suffix(&path, SIDECAR_SUFFIX);
        let existing = self.dest.file_size(&path);
        let body = match existing {
            Some(len)
                if self.dest.file_size(&sidecar).is_some() && self.remote_size(bucket, key)? == Some(len) =>
            {
                let body = self.dest.read(&path).map_err(|error| MirrorError::Io {
                    path: path.clone(),
                    error,
                })?;
                self.count(|s| {
                    s.skipped += 1;
                    s.digests_done += 1;
                });
                body
            }
            _ => match self.read(bucket, key, Kind::Digest, || self.source.get(bucket, key))? {
                Some(object) => {
                    self.dest
                        .write_atomically(&sidecar, &mut sidecar_json(&object.metadata.entries).as_slice())?;
                    self.dest.write_atomically(&path, &mut object.body.as_slice())?;
                    let n = object.body.len() as u64;
                    self.count(|s| {
                        s.copied += 1;
                        s.digests_done += 1;
                        s.bytes += n;
                    });
                    object.body
                }
                None => return Ok(DigestLinks::default()),
            },
        };
        Ok(links(&body))
    }

    fn copy_log(&self, bucket: &str, key: &str) -> Result<(), MirrorError> {
        let Some(path) = self.target(bucket, key) else {
            self.count(|s| {
                s.refused += 1;
                s.logs_done += 1;
            });
            return Ok(());
        };
        if let Some(len) = self.dest.file_size(&path) {
            if self.remote_size(bucket, key)? == Some(len) {
                self.count(|s| {
                    s.skipped += 1;
                    s.logs_done += 1;
                });
                return Ok(());
            }
        }
        if let Some(mut reader) = self.read(bucket, key, Kind::Log, || self.source.open(bucket, key))? {
            let n = self.dest.write_atomically(&path, &mut reader)?;
            self.count(|s| {
                s.copied += 1;
                s.logs_done += 1;
                s.bytes += n;
            });
        }
        Ok(())
    }

    /// Reads an object with `read`. An object that is missing, refused or archived is
    /// counted as done (of its `kind`) and gives `None`; any other failure stops the run.
    /// With a restore asked for, an archived object's restore is requested (once: each
    /// object is read once per run); one already restored is read again.
    fn read<T>(
        &self,
        bucket: &str,
        key: &str,
        kind: Kind,
        read: impl Fn() -> Result<T, SourceError>,
    ) -> Result<Option<T>, MirrorError> {
        let mut e = match read() {
            Ok(v) => return Ok(Some(v)),
            Err(e) => e,
        };
        let done = |s: &mut MirrorStats| match kind {
            Kind::Digest => s.digests_done += 1,
            Kind::Log => s.logs_done += 1,
        };
        if let (SourceErrorKind::Archived, Some(request), Some(archive)) =
            (e.kind, self.restore, e.archive().cloned())
        {
            let outcome = self
                .source
                .restore(bucket, key, &archive, &request)
                .map_err(MirrorError::Source)?;
            if outcome == RestoreOutcome::Restored {
                match read() {
                    Ok(v) => return Ok(Some(v)),
                    Err(again) => e = again,
                }
            }
            if e.kind == SourceErrorKind::Archived {
                // Restored by S3's word but not readable yet: still under way.
                self.count(|s| {
                    s.archived += 1;
                    match outcome {
                        RestoreOutcome::Started => s.restores_started += 1,
                        _ => s.restores_in_progress += 1,
                    }
                    done(s);
                });
                return Ok(None);
            }
        }
        let counter: fn(&mut MirrorStats) -> &mut usize = match e.kind {
            SourceErrorKind::NotFound => |s| &mut s.missing,
            SourceErrorKind::Refused => |s| &mut s.refused,
            SourceErrorKind::Archived => |s| &mut s.archived,
            _ => return Err(MirrorError::Source(e)),
        };
        self.count(|s| {
            *counter(s) += 1;
            done(s);
        });
        Ok(None)
    }

    /// The source object's size; `None` also when the source refuses the object, so that
    /// the copy is attempted, refused again, and counted as refused.
    fn remote_size(&self, bucket: &str, key: &str) -> Result<Option<u64>, MirrorError> {
        match self.source.size(bucket, key) {
            Err(e) if e.kind == SourceErrorKind::Refused => Ok(None),
            other => other.map_err(MirrorError::Source),
        }
    }
}

/// The logs and the previous digest a stored digest names (nothing when it does not parse).
fn links(stored: &[u8]) -> DigestLinks {
    let Ok(digest) = Digest::from_gzip(stored) else {
        return DigestLinks::default();
    };
    let logs = listed_logs_lenient(&digest)
        .into_iter()
        .map(|l| (l.bucket, l.key))
        .collect();
    let previous = digest.previous().map(|(b, k)| (b.to_string(), k.to_string()));
    DigestLinks { logs, previous }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_come_from_a_stored_digest_and_nothing_from_garbage() {
        assert!(links(b"not gzip").logs.is_empty());
        assert!(links(b"not gzip").previous.is_none());
    }
}
