//! A run with a ledger: the source every read goes through, answering from the ledger
//! what has not changed and noting what was read, what changed and what is gone.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::Range;
use std::sync::mpsc::Receiver;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Utc};

use super::{DigestEntry, Entries, Head, Ledger, LedgerError, LedgerScope, LogEntry};
use crate::check::digest::LogJob;
use crate::check::log::{verdict, LogRead};
use crate::error::Error;
use crate::fetch::log::read_log;
use crate::source::{
    ArchiveClass, Identity, Object, ObjectSource, RestoreOutcome, RestoreRequest, SourceError,
};
use crate::verdict::LogVerdict;

/// An object whose identity is not the one the ledger recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    pub bucket: String,
    pub key: String,
    /// The chain the ledger recorded it for.
    pub chain: String,
    /// Whether it is a digest (else a log).
    pub digest: bool,
    pub previous: Identity,
    /// `None`: gone from a folder the run listed.
    pub current: Option<Identity>,
}

/// What the ledger says of a log about to be read.
enum LogLookup {
    /// Unchanged since it was read: what reading it found then.
    Reuse(LogRead),
    /// New or changed: read it. The identity it has now (when the source gave one).
    Read(Option<Identity>),
}

#[derive(Default)]
struct Seen {
    /// What this run read (and the digests it reused, under the chain it found them
    /// for), as the next ledger records it.
    digests: Entries<DigestEntry>,
    logs: Entries<LogEntry>,
    changes: Vec<Change>,
    /// Objects answered from the ledger, and objects read from the source.
    reused: ObjectSet,
    read: ObjectSet,
    /// `(bucket, prefix)` listed in full, and the keys those listings held.
    folders: Vec<(String, String)>,
    listed: ObjectSet,
}

/// Objects by bucket and key, looked up by `&str` without building a key.
#[derive(Default)]
struct ObjectSet(HashMap<String, HashSet<String>>);

impl ObjectSet {
    fn insert(&mut self, bucket: &str, key: &str) {
        let keys = match self.0.get_mut(bucket) {
            Some(keys) => keys,
            None => self.0.entry(bucket.to_string()).or_default(),
        };
        if !keys.contains(key) {
            keys.insert(key.to_string());
        }
    }

    fn contains(&self, bucket: &str, key: &str) -> bool {
        self.0.get(bucket).is_some_and(|keys| keys.contains(key))
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .flat_map(|(b, keys)| keys.iter().map(move |k| (b.as_str(), k.as_str())))
    }
}

/// The ledger a run waits for: still being read (from S3, say) while the run lists its
/// folders, and the scope it must have been made for.
struct Arriving {
    ledger: Receiver<Ledger>,
    scope: LedgerScope,
}

/// The source of a run with a ledger.
pub(crate) struct Tracked<'a> {
    inner: &'a dyn ObjectSource,
    previous: OnceLock<Ledger>,
    arriving: Mutex<Option<Arriving>>,
    seen: Mutex<Seen>,
}

impl<'a> Tracked<'a> {
    /// A run's source, starting from `previous` (whose scope the caller has checked).
    pub fn new(inner: &'a dyn ObjectSource, previous: Ledger) -> Self {
        Tracked {
            inner,
            previous: OnceLock::from(previous),
            arriving: Mutex::new(None),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// A run's source whose ledger `ledger` will deliver (nothing delivered: it could
    /// not be read). Listings go through at once; [`Tracked::wait`] must have taken the
    /// ledger before any object is read or looked up.
    pub fn awaiting(inner: &'a dyn ObjectSource, ledger: Receiver<Ledger>, scope: LedgerScope) -> Self {
        Tracked {
            inner,
            previous: OnceLock::new(),
            arriving: Mutex::new(Some(Arriving { ledger, scope })),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Waits for the ledger and takes it, refusing one made for another scope. `Err`
    /// when it could not be read: the caller knows why.
    pub fn wait(&self) -> Result<(), Error> {
        let Some(arriving) = self.arriving.lock().expect("ledger state").take() else {
            return Ok(());
        };
        let unread = || {
            Error::from(LedgerError {
                ledger: "given".to_string(),
                reason: "could not be read".to_string(),
            })
        };
        let previous = arriving.ledger.recv().map_err(|_| unread())?;
        arriving.scope.admits(&previous)?;
        self.previous.set(previous).map_err(|_| unread())
    }

    /// The ledger the run started from.
    fn previous(&self) -> &Ledger {
        self.previous
            .get()
            .expect("the run waits for its ledger before it reads an object")
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().expect("ledger state")
    }

    /// How many of `objects` (digests when `digests`, else logs) the ledger cannot answer
    /// for, as far as the source knows without a request: those it does not hold, those
    /// with another identity now, and those whose identity takes a read to know (a
    /// copy's bytes). The threads that wait on the store are for these.
    pub fn unanswered<'k>(
        &self,
        objects: impl IntoIterator<Item = (&'k str, &'k str)>,
        digests: bool,
    ) -> usize {
        let previous = self.previous();
        objects
            .into_iter()
            .filter(|(bucket, key)| {
                let held = if digests {
                    previous.digest(bucket, key).map(|e| &e.identity)
                } else {
                    previous.log(bucket, key).map(|e| &e.identity)
                };
                match (held, self.inner.known_identity(bucket, key)) {
                    (Some(held), Some(now)) => !held.same_version(&now),
                    _ => true,
                }
            })
            .count()
    }

    /// Notes that `keys` are every key under `prefix` (a listing of that folder, or the
    /// part of a wider listing that covered it): the ledger's objects under `prefix`
    /// that `keys` lack are gone. (It needs no ledger yet: a listing may come before
    /// the ledger does.)
    pub fn listed_in_full(&self, bucket: &str, prefix: &str, keys: &[String]) {
        let mut seen = self.seen();
        seen.folders.push((bucket.to_string(), prefix.to_string()));
        for key in keys {
            seen.listed.insert(bucket, key);
        }
    }

    /// Whether the object was answered from the ledger.
    pub fn reused(&self, bucket: &str, key: &str) -> bool {
        self.seen().reused.contains(bucket, key)
    }

    /// What to do with a log: reuse what the ledger says of it, or read it.
    fn look_up_log(&self, bucket: &str, key: &str) -> LogLookup {
        let now = self.inner.identity(bucket, key).ok().flatten();
        let Some(entry) = self.previous().log(bucket, key) else {
            return LogLookup::Read(now);
        };
        match now {
            Some(now) if entry.identity.same_version(&now) => {
                // The next ledger carries the entry over as it is.
                self.seen().reused.insert(bucket, key);
                LogLookup::Reuse(entry.read.clone())
            }
            now => {
                if let Some(current) = &now {
                    self.changed(entry.chain.clone(), bucket, key, false, &entry.identity, current);
                }
                LogLookup::Read(now)
            }
        }
    }

    /// Notes what reading a log found, under the identity it had before the read: the
    /// identity of a copy's bytes is taken again, and nothing is noted when they changed
    /// during the read (the next run reads the log again). A log that could not be read,
    /// or whose reading depended on its digest, is not noted.
    fn record_log(
        &self,
        bucket: &str,
        key: &str,
        (chain, verdict): (&str, &str),
        read: &LogRead,
        before: Option<Identity>,
    ) {
        if *read != LogRead::Missing {
            self.seen().read.insert(bucket, key);
        }
        let reusable = matches!(
            read,
            LogRead::Inflated { .. }
                | LogRead::TrailingData
                | LogRead::NotGzip {
                    stored_sha256_hex: Some(_)
                }
        );
        let Some(before) = before.filter(|_| reusable) else {
            return;
        };
        if before.is_content() {
            match self.inner.identity(bucket, key) {
                Ok(Some(after)) if after.same_version(&before) => {}
                _ => return,
            }
        }
        self.seen().logs.insert(
            bucket,
            key.to_string(),
            LogEntry {
                bucket: bucket.to_string(),
                key: key.to_string(),
                chain: chain.to_string(),
                identity: before,
                verdict: verdict.to_string(),
                read: read.clone(),
            },
        );
    }

    /// A log's verdict: from what the ledger recorded of it when its identity has not
    /// changed (compared again with what its digest records), else read through `source`
    /// and noted for `chain`.
    pub fn check_log(
        &self,
        chain: &str,
        source: &dyn ObjectSource,
        job: &LogJob,
        accept_decompressed: bool,
    ) -> Result<LogVerdict, Error> {
        match self.look_up_log(&job.bucket, &job.key) {
            LogLookup::Reuse(read) => Ok(verdict(read, job.recorded.as_ref())),
            LogLookup::Read(before) => {
                let read = read_log(source, job, accept_decompressed, None)?;
                let found = verdict(read.clone(), job.recorded.as_ref());
                let word = if found.is_valid() { "valid" } else { "invalid" };
                self.record_log(&job.bucket, &job.key, (chain, word), &read, before);
                Ok(found)
            }
        }
    }

    /// Names the chain a digest was read for and what it was found to be.
    pub fn label_digest(&self, bucket: &str, key: &str, chain: &str, verdict: &str) {
        if let Some(entry) = self.seen().digests.get_mut(bucket, key) {
            entry.chain = chain.to_string();
            entry.verdict = verdict.to_string();
        }
    }

    fn changed(
        &self,
        chain: String,
        bucket: &str,
        key: &str,
        digest: bool,
        previous: &Identity,
        current: &Identity,
    ) {
        self.seen().changes.push(Change {
            bucket: bucket.to_string(),
            key: key.to_string(),
            chain,
            digest,
            previous: previous.clone(),
            current: Some(current.clone()),
        });
    }

    /// Objects the ledger held that changed, and those gone from folders this run
    /// listed in full (unless the run read them anyway), in key order.
    pub fn changes(&self) -> Vec<Change> {
        let seen = self.seen();
        let mut out = seen.changes.clone();
        // Only the ledger's objects under a listed folder can be gone.
        for (bucket, prefix) in &seen.folders {
            let previous = self.previous();
            let digests = previous
                .digests
                .under(bucket, prefix)
                .map(|(k, d)| (k, &d.chain, true, &d.identity));
            let logs = previous
                .logs
                .under(bucket, prefix)
                .map(|(k, l)| (k, &l.chain, false, &l.identity));
            for (key, chain, digest, identity) in digests.chain(logs) {
                if seen.listed.contains(bucket, key)
                    || seen.read.contains(bucket, key)
                    || seen.reused.contains(bucket, key)
                {
                    continue;
                }
                out.push(Change {
                    bucket: bucket.clone(),
                    key: key.to_string(),
                    chain: chain.clone(),
                    digest,
                    previous: identity.clone(),
                    current: None,
                });
            }
        }
        out.sort_by(|a, b| {
            (&a.bucket, &a.key, a.current.is_none()).cmp(&(&b.bucket, &b.key, b.current.is_none()))
        });
        // A folder listed twice, or inside another listed folder, finds its gone objects again.
        out.dedup_by(|a, b| {
            a.current.is_none() && b.current.is_none() && (&a.bucket, &a.key) == (&b.bucket, &b.key)
        });
        out
    }

    /// The ledger after this run: what it read or reused, and what the previous ledger
    /// held that this run neither read nor found gone (other days, other windows).
    pub fn into_ledger(
        self,
        window: (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
        public_keys: Vec<String>,
    ) -> Ledger {
        let gone: Vec<(String, String)> = self
            .changes()
            .into_iter()
            .filter(|c| c.current.is_none())
            .map(|c| (c.bucket, c.key))
            .collect();
        let seen = self.seen.into_inner().expect("ledger state");
        let Ledger {
            head,
            mut digests,
            mut logs,
            ..
        } = self.previous.into_inner().expect("the run waited for its ledger");
        // What the previous ledger said of objects gone or read again no longer holds;
        // what this run noted of them replaces it. Objects reused keep their entries.
        let dropped = gone
            .iter()
            .map(|(b, k)| (b.as_str(), k.as_str()))
            .chain(seen.read.iter());
        let (mut taken_digests, mut taken_logs) = (Entries::default(), Entries::default());
        for (bucket, key) in dropped {
            if let Some(entry) = digests.remove(bucket, key) {
                taken_digests.insert(bucket, key.to_string(), entry);
            }
            if let Some(entry) = logs.remove(bucket, key) {
                taken_logs.insert(bucket, key.to_string(), entry);
            }
        }
        // Both put back, each saying whether its entries are as they were.
        let same_digests = digests.put_back(seen.digests, &taken_digests);
        let same_logs = logs.put_back(seen.logs, &taken_logs);
        let next = Head::new(head.scope.clone(), [window.0, window.1], now, public_keys);
        // The same entries under the same head but for its time: the previous ledger,
        // which keeps its time (that of the run that wrote it).
        let unchanged = same_digests
            && same_logs
            && head.written().is_some()
            && Head {
                written_at: head.written_at,
                ..next.clone()
            } == head;
        Ledger {
            head: if unchanged { head } else { next },
            digests,
            logs,
            unchanged,
        }
    }
}

impl ObjectSource for Tracked<'_> {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.inner.list_until(bucket, prefix, start_after, stop)
    }

    /// Notes a full listing (see [`Tracked::listed_in_full`]).
    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        let keys = self.inner.list(bucket, prefix, start_after)?;
        if start_after.is_empty() {
            self.listed_in_full(bucket, prefix, &keys);
        }
        Ok(keys)
    }

    /// A digest the ledger holds with the identity the object still has comes from the
    /// ledger; any other is fetched, and noted with the identity of what was fetched.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let now = self.inner.identity(bucket, key).ok().flatten();
        let entry = self.previous().digest(bucket, key);
        if let (Some(entry), Some(now)) = (entry, &now) {
            if entry.identity.same_version(now) {
                if let Some(object) = entry.object() {
                    let mut seen = self.seen();
                    seen.reused.insert(bucket, key);
                    // Kept here to be labelled with the chain this run finds it for.
                    seen.digests.insert(bucket, key.to_string(), entry.clone());
                    return Ok(object);
                }
            }
        }
        let object = self.inner.get(bucket, key)?;
        self.seen().read.insert(bucket, key);
        let identity = match now {
            // A copy's identity is its bytes: those just read.
            Some(Identity::Content { .. }) => Identity::of_content(&object.body[..], &object.metadata).ok(),
            other => other,
        };
        if let Some(identity) = identity {
            if let Some(entry) = entry.filter(|e| !e.identity.same_version(&identity)) {
                self.changed(entry.chain.clone(), bucket, key, true, &entry.identity, &identity);
            }
            self.seen().digests.insert(
                bucket,
                key.to_string(),
                DigestEntry::new(bucket, key, identity, &object),
            );
        }
        Ok(object)
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.inner.open(bucket, key)
    }

    fn open_range(
        &self,
        bucket: &str,
        key: &str,
        range: Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        self.inner.open_range(bucket, key, range)
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        self.inner.size(bucket, key)
    }

    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        self.inner.identity(bucket, key)
    }

    fn known_identity(&self, bucket: &str, key: &str) -> Option<Identity> {
        self.inner.known_identity(bucket, key)
    }

    fn listing_is_paged(&self, bucket: &str) -> bool {
        self.inner.listing_is_paged(bucket)
    }

    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        self.inner.list_folders(bucket, prefix)
    }

    fn restore(
        &self,
        bucket: &str,
        key: &str,
        archive: &ArchiveClass,
        request: &RestoreRequest,
    ) -> Result<RestoreOutcome, SourceError> {
        self.inner.restore(bucket, key, archive, request)
    }
}
