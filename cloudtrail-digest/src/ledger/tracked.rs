//! A run with a ledger: the source every read goes through, answering from the ledger
//! what has not changed and noting what was read, what changed and what is gone.

use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::{DigestEntry, Entries, Head, Ledger, LedgerScope, LogEntry};
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
    digests: Entries<DigestEntry>,
    logs: Entries<LogEntry>,
    changes: Vec<Change>,
    /// Objects answered from the ledger, and objects read from the source.
    reused: HashSet<(String, String)>,
    read: HashSet<(String, String)>,
    /// `(bucket, prefix)` listed in full, and the ledger's objects those listings held.
    folders: HashSet<(String, String)>,
    present: HashSet<(String, String)>,
}

/// The source of a run with a ledger.
pub(crate) struct Tracked<'a> {
    inner: &'a dyn ObjectSource,
    previous: &'a Ledger,
    seen: Mutex<Seen>,
}

fn id(bucket: &str, key: &str) -> (String, String) {
    (bucket.to_string(), key.to_string())
}

impl<'a> Tracked<'a> {
    pub fn new(inner: &'a dyn ObjectSource, previous: &'a Ledger) -> Self {
        Tracked {
            inner,
            previous,
            seen: Mutex::new(Seen::default()),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().expect("ledger state")
    }

    /// Whether the object was answered from the ledger.
    pub fn reused(&self, bucket: &str, key: &str) -> bool {
        self.seen().reused.contains(&id(bucket, key))
    }

    /// What to do with a log: reuse what the ledger says of it, or read it.
    fn look_up_log(&self, bucket: &str, key: &str) -> LogLookup {
        let now = self.inner.identity(bucket, key).ok().flatten();
        let Some(entry) = self.previous.log(bucket, key) else {
            return LogLookup::Read(now);
        };
        match now {
            Some(now) if entry.identity.same_version(&now) => {
                let mut seen = self.seen();
                seen.reused.insert(id(bucket, key));
                seen.logs.insert(id(bucket, key), entry.clone());
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
            self.seen().read.insert(id(bucket, key));
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
            id(bucket, key),
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
        if let Some(entry) = self.seen().digests.get_mut(&id(bucket, key)) {
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
        let looked_at = |bucket: &str, key: &str| {
            key.match_indices('/')
                .any(|(i, _)| seen.folders.contains(&id(bucket, &key[..=i])))
        };
        let gone = |(bucket, key): &(String, String)| {
            let k = id(bucket, key);
            looked_at(bucket, key)
                && !seen.present.contains(&k)
                && !seen.read.contains(&k)
                && !seen.reused.contains(&k)
        };
        let digests = self
            .previous
            .digests
            .iter()
            .map(|(k, d)| (k, &d.chain, true, &d.identity));
        let logs = self
            .previous
            .logs
            .iter()
            .map(|(k, l)| (k, &l.chain, false, &l.identity));
        for (k, chain, digest, identity) in digests.chain(logs).filter(|(k, ..)| gone(k)) {
            out.push(Change {
                bucket: k.0.clone(),
                key: k.1.clone(),
                chain: chain.clone(),
                digest,
                previous: identity.clone(),
                current: None,
            });
        }
        out.sort_by(|a, b| (&a.bucket, &a.key).cmp(&(&b.bucket, &b.key)));
        out
    }

    /// The ledger after this run: what it read or reused, and what the previous ledger
    /// held that this run neither looked at nor found gone (other days, other windows).
    pub fn into_ledger(
        self,
        scope: LedgerScope,
        window: (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
        public_keys: Vec<String>,
    ) -> Ledger {
        let gone: HashSet<(String, String)> = self
            .changes()
            .into_iter()
            .filter(|c| c.current.is_none())
            .map(|c| (c.bucket, c.key))
            .collect();
        let seen = self.seen.into_inner().expect("ledger state");
        let touched =
            |k: &(String, String)| gone.contains(k) || seen.read.contains(k) || seen.reused.contains(k);
        // What the previous ledger held and this run did not touch, then this run's.
        fn carried<T: Clone>(
            previous: &Entries<T>,
            touched: impl Fn(&(String, String)) -> bool,
            now: Entries<T>,
        ) -> Entries<T> {
            let mut out: Entries<T> = previous
                .iter()
                .filter(|(k, _)| !touched(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.extend(now);
            out
        }
        let digests = carried(&self.previous.digests, touched, seen.digests);
        let logs = carried(&self.previous.logs, touched, seen.logs);
        Ledger {
            head: Head::new(scope, [window.0, window.1], now, public_keys),
            digests,
            logs,
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

    /// Notes a full listing: the ledger's objects under `prefix` that it lacks are gone.
    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        let keys = self.inner.list(bucket, prefix, start_after)?;
        if start_after.is_empty() {
            let mut seen = self.seen();
            seen.folders.insert(id(bucket, prefix));
            for key in &keys {
                if self.previous.digest(bucket, key).is_some() || self.previous.log(bucket, key).is_some() {
                    seen.present.insert(id(bucket, key));
                }
            }
        }
        Ok(keys)
    }

    /// A digest the ledger holds with the identity the object still has comes from the
    /// ledger; any other is fetched, and noted with the identity of what was fetched.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let now = self.inner.identity(bucket, key).ok().flatten();
        let entry = self.previous.digest(bucket, key);
        if let (Some(entry), Some(now)) = (entry, &now) {
            if entry.identity.same_version(now) {
                if let Some(object) = entry.object() {
                    let mut seen = self.seen();
                    seen.reused.insert(id(bucket, key));
                    seen.digests.insert(id(bucket, key), entry.clone());
                    return Ok(object);
                }
            }
        }
        let object = self.inner.get(bucket, key)?;
        self.seen().read.insert(id(bucket, key));
        let identity = match now {
            // A copy's identity is its bytes: those just read.
            Some(Identity::Content { .. }) => Identity::of_content(&object.body[..], &object.metadata).ok(),
            other => other,
        };
        if let Some(identity) = identity {
            if let Some(entry) = entry.filter(|e| !e.identity.same_version(&identity)) {
                self.changed(entry.chain.clone(), bucket, key, true, &entry.identity, &identity);
            }
            self.seen()
                .digests
                .insert(id(bucket, key), DigestEntry::new(bucket, key, identity, &object));
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
