//! The ledger: what earlier runs verified, so that a later run reads only what changed.
//!
//! A [`Ledger`] holds, for every digest and log a run read, the object's identity as
//! its source gave it ([`Identity`]: S3's size, ETag, last-modified time and version id,
//! or the size and BLAKE3 hash of a local copy's bytes) and what reading it found. A later
//! run with the ledger asks its source for each object's identity (in S3, from the
//! listing it makes anyway) and reads again only the objects that are new or whose
//! identity differs; objects the ledger holds that are gone from folders the run listed
//! are reported. A digest the ledger holds is not fetched again: its stored bytes and
//! metadata come from the ledger and are checked again, signature included, so a ledger
//! cannot make a forged digest pass. A log's entry is the SHA-256 of its inflated
//! content, compared again with what the (checked) digest records.
//!
//! The file is JSON lines: a head (format, tool version, command and scope, window,
//! public-key fingerprints), one line per object, and an end line with the counts and
//! the SHA-256 of every byte before it. A ledger that does not parse, whose end does not
//! match, or that was made for another scope, is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::check::log::LogRead;
use crate::gzip::sha256_hex;
use crate::source::{Identity, Metadata, MetadataOrigin, Object};

mod tracked;

pub(crate) use tracked::{Change, Tracked};

/// What the first line of a ledger says it is.
const MARK: &str = "cloudtrail-digest ledger";

/// The ledger format this build reads and writes. A change in what an entry means
/// (identities, what a log's entry records) is a new format: older ledgers are refused,
/// never read with the new meaning.
pub const LEDGER_FORMAT: u32 = 1;

/// What a ledger was made for: the command, and every option that decides which objects
/// it covers. A ledger made for another scope is refused.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LedgerScope(BTreeMap<String, String>);

impl LedgerScope {
    /// The scope of `command` (`audit`, `validate-logs`).
    pub fn new(command: &str) -> LedgerScope {
        LedgerScope(BTreeMap::from([("command".to_string(), command.to_string())]))
    }

    /// The scope with `name` set to `value` (buckets, filters, the kind of source).
    pub fn with(mut self, name: &str, value: impl Into<String>) -> LedgerScope {
        self.0.insert(name.to_string(), value.into());
        self
    }

    /// Refuses `ledger` unless it holds every one of this scope's settings alike (it may
    /// hold more: what the caller added), naming the first that differs as
    /// `name theirs (this run: ours)`.
    pub(crate) fn admits(&self, ledger: &Ledger) -> Result<(), crate::error::Error> {
        let theirs = &ledger.scope().0;
        let difference = self.0.iter().find_map(|(name, ours)| {
            let their = theirs.get(name);
            (their != Some(ours)).then(|| {
                format!(
                    "{name} {} (this run: {ours})",
                    their.map_or("not set", String::as_str)
                )
            })
        });
        match difference {
            None => Ok(()),
            Some(difference) => Err(crate::error::Error::from(LedgerError {
                ledger: "given".to_string(),
                reason: format!("made for another scope: {difference}"),
            })),
        }
    }

    /// The first difference from `other`, as `name ours (this run: theirs)`.
    fn difference(&self, other: &LedgerScope) -> Option<String> {
        // The command first: it says the most.
        let names: BTreeSet<&String> = self.0.keys().chain(other.0.keys()).collect();
        let (command, rest): (Vec<&String>, Vec<&String>) = names.into_iter().partition(|n| *n == "command");
        command.into_iter().chain(rest).find_map(|name| {
            let (a, b) = (self.0.get(name), other.0.get(name));
            (a != b).then(|| {
                format!(
                    "{name} {} (this run: {})",
                    a.map_or("not set", String::as_str),
                    b.map_or("not set", String::as_str)
                )
            })
        })
    }
}

impl fmt::Display for LedgerScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(" "))
    }
}

/// A ledger that cannot be used, and why (naming the ledger).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger {ledger}: {reason}")]
pub struct LedgerError {
    /// The ledger's name (its path or URL).
    pub ledger: String,
    /// What is wrong with it.
    pub reason: String,
}

impl From<LedgerError> for crate::error::Error {
    fn from(e: LedgerError) -> Self {
        crate::error::Error::Ledger {
            ledger: e.ledger,
            reason: e.reason,
        }
    }
}

/// The head of a ledger file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    ledger: String,
    format: u32,
    tool_version: String,
    scope: LedgerScope,
    window: [DateTime<Utc>; 2],
    written_at: DateTime<Utc>,
    /// Fingerprints of the public keys the run held.
    public_keys: Vec<String>,
}

impl Head {
    /// The head of a ledger this build writes.
    fn new(
        scope: LedgerScope,
        window: [DateTime<Utc>; 2],
        written_at: DateTime<Utc>,
        public_keys: Vec<String>,
    ) -> Head {
        Head {
            ledger: MARK.to_string(),
            format: LEDGER_FORMAT,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            scope,
            window,
            written_at,
            public_keys,
        }
    }

    /// When the run that wrote the ledger took place; `None` for an empty ledger, whose
    /// head no run wrote.
    fn written(&self) -> Option<DateTime<Utc>> {
        (self.written_at != DateTime::<Utc>::MIN_UTC).then_some(self.written_at)
    }
}

/// A digest as a run read it: its identity, its stored bytes and metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DigestEntry {
    pub bucket: String,
    pub key: String,
    pub chain: String,
    pub identity: Identity,
    /// `valid`, or what was wrong with it, as the run found it.
    pub verdict: String,
    /// The stored bytes, base64.
    body: String,
    metadata: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata_origin: Option<MetadataOrigin>,
}

impl DigestEntry {
    pub fn new(bucket: &str, key: &str, identity: Identity, object: &Object) -> DigestEntry {
        DigestEntry {
            bucket: bucket.to_string(),
            key: key.to_string(),
            chain: String::new(),
            identity,
            verdict: String::new(),
            body: base64::engine::general_purpose::STANDARD.encode(&object.body),
            metadata: object.metadata.entries.clone(),
            metadata_origin: object.metadata.origin,
        }
    }

    /// The object as it was read.
    pub fn object(&self) -> Option<Object> {
        Some(Object {
            body: base64::engine::general_purpose::STANDARD
                .decode(&self.body)
                .ok()?,
            metadata: Metadata {
                entries: self.metadata.clone(),
                origin: self.metadata_origin,
            },
        })
    }
}

/// A log as a run read it: its identity and what reading it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogEntry {
    pub bucket: String,
    pub key: String,
    pub chain: String,
    pub identity: Identity,
    /// `valid`, or what was wrong with it, as the run found it.
    pub verdict: String,
    pub read: LogRead,
}

/// One line of a ledger after the head.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Digest(Box<DigestEntry>),
    Log(Box<LogEntry>),
    End(End),
}

/// One line of a ledger as written, borrowing what it writes (the same JSON as [`Line`]).
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum LineOut<'a> {
    Digest(&'a DigestEntry),
    Log(&'a LogEntry),
    End(&'a End),
}

#[derive(Debug, Serialize, Deserialize)]
struct End {
    digests: usize,
    logs: usize,
    /// Hex SHA-256 of every byte of the ledger before this line.
    sha256: String,
}

/// Objects by bucket, then key, in key order: looked up by `&str` without building a
/// key (a re-check looks up every object it lists and every object it reuses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entries<T> {
    by_bucket: BTreeMap<String, BTreeMap<String, T>>,
    len: usize,
}

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries {
            by_bucket: BTreeMap::new(),
            len: 0,
        }
    }
}

impl<T> Entries<T> {
    pub(crate) fn get(&self, bucket: &str, key: &str) -> Option<&T> {
        self.by_bucket.get(bucket)?.get(key)
    }

    pub(crate) fn get_mut(&mut self, bucket: &str, key: &str) -> Option<&mut T> {
        self.by_bucket.get_mut(bucket)?.get_mut(key)
    }

    pub(crate) fn insert(&mut self, bucket: &str, key: String, entry: T) {
        let keys = match self.by_bucket.get_mut(bucket) {
            Some(keys) => keys,
            None => self.by_bucket.entry(bucket.to_string()).or_default(),
        };
        if keys.insert(key, entry).is_none() {
            self.len += 1;
        }
    }

    pub(crate) fn remove(&mut self, bucket: &str, key: &str) -> Option<T> {
        let removed = self.by_bucket.get_mut(bucket)?.remove(key);
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every entry, by bucket and key.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.by_bucket.values().flat_map(BTreeMap::values)
    }

    /// The keys and entries of `bucket` under `prefix`, in key order.
    pub(crate) fn under<'s>(
        &'s self,
        bucket: &str,
        prefix: &'s str,
    ) -> impl Iterator<Item = (&'s str, &'s T)> {
        self.by_bucket
            .get(bucket)
            .into_iter()
            .flat_map(move |keys| {
                keys.range::<str, _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
            })
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v))
    }
}

impl<T: PartialEq> Entries<T> {
    /// Moves every entry of `other` in, over any of the same object, and tells whether
    /// that leaves these entries as they were before `taken` was taken out of them: each
    /// entry moved in equal to the one it replaces (here or in `taken`), and each one
    /// taken put back.
    pub(crate) fn put_back(&mut self, other: Entries<T>, taken: &Entries<T>) -> bool {
        let mut same = true;
        for (bucket, keys) in other.by_bucket {
            for (key, entry) in keys {
                let before = self.get(&bucket, &key).or_else(|| taken.get(&bucket, &key));
                same &= before == Some(&entry);
                self.insert(&bucket, key, entry);
            }
        }
        same && taken
            .by_bucket
            .iter()
            .all(|(bucket, keys)| keys.keys().all(|key| self.get(bucket, key).is_some()))
    }
}

/// What earlier runs verified: each object's identity and what reading it found.
/// Two ledgers are equal when they hold the same: head, digests and logs.
#[derive(Debug, Clone)]
pub struct Ledger {
    head: Head,
    digests: Entries<DigestEntry>,
    logs: Entries<LogEntry>,
    /// Made by a run that found nothing to change in the ledger it started from: it is
    /// that ledger, head included.
    unchanged: bool,
}

impl PartialEq for Ledger {
    fn eq(&self, other: &Ledger) -> bool {
        (&self.head, &self.digests, &self.logs) == (&other.head, &other.digests, &other.logs)
    }
}

impl Eq for Ledger {}

impl Ledger {
    /// A ledger holding nothing, for a first run of `scope`.
    pub fn empty(scope: LedgerScope) -> Ledger {
        Ledger {
            head: Head::new(
                scope,
                [DateTime::<Utc>::MIN_UTC; 2],
                DateTime::<Utc>::MIN_UTC,
                Vec::new(),
            ),
            digests: Entries::default(),
            logs: Entries::default(),
            unchanged: false,
        }
    }

    /// Reads the ledger `name` (a path or URL, for messages) from its bytes, for a run of
    /// `scope`. Refused: anything that does not parse, an end line that does not match
    /// what comes before it (a ledger cut short or edited), another format, another
    /// scope.
    pub fn parse(name: &str, bytes: &[u8], scope: &LedgerScope) -> Result<Ledger, LedgerError> {
        let refuse = |reason: String| LedgerError {
            ledger: name.to_string(),
            reason,
        };
        let text = std::str::from_utf8(bytes).map_err(|_| refuse("not a ledger: not UTF-8 text".into()))?;
        let mut lines = text.split_inclusive('\n');
        let first = lines.next().unwrap_or_default();
        let head: Head = serde_json::from_str(first)
            .ok()
            .filter(|h: &Head| h.ledger == MARK)
            .ok_or_else(|| {
                refuse("not a cloudtrail-digest ledger (its first line is not a ledger head)".into())
            })?;
        if head.format != LEDGER_FORMAT {
            return Err(refuse(format!(
                "written in ledger format {} by cloudtrail-digest {}; this build reads format {LEDGER_FORMAT}: move it aside, and the next run with --ledger makes a new one",
                head.format, head.tool_version
            )));
        }
        if let Some(difference) = head.scope.difference(scope) {
            return Err(refuse(format!(
                "made for another scope: {difference}; use a ledger per scope"
            )));
        }
        let mut ledger = Ledger {
            head,
            digests: Entries::default(),
            logs: Entries::default(),
            unchanged: false,
        };
        let mut offset = first.len();
        for (n, line) in lines.enumerate() {
            let number = n + 2;
            let parsed: Line = serde_json::from_str(line).map_err(|e| {
                refuse(format!(
                    "line {number} does not parse ({e}): the ledger is corrupt"
                ))
            })?;
            match parsed {
                Line::Digest(d) => {
                    if d.object().is_none() {
                        return Err(refuse(format!(
                            "line {number}: a digest's stored bytes are not base64"
                        )));
                    }
                    let (bucket, key) = (d.bucket.clone(), d.key.clone());
                    ledger.digests.insert(&bucket, key, *d);
                }
                Line::Log(l) => {
                    let (bucket, key) = (l.bucket.clone(), l.key.clone());
                    ledger.logs.insert(&bucket, key, *l);
                }
                Line::End(end) => {
                    let expected = sha256_hex(&bytes[..offset]);
                    if end.sha256 != expected {
                        return Err(refuse(
                            "its checksum does not match its content: the ledger was edited or damaged"
                                .into(),
                        ));
                    }
                    if (end.digests, end.logs) != (ledger.digests.len(), ledger.logs.len()) {
                        return Err(refuse(format!(
                            "its end counts {} digests and {} logs, it holds {} and {}: the ledger is corrupt",
                            end.digests,
                            end.logs,
                            ledger.digests.len(),
                            ledger.logs.len()
                        )));
                    }
                    if offset + line.len() != bytes.len() {
                        return Err(refuse(
                            "something follows its end line: the ledger is corrupt".into(),
                        ));
                    }
                    return Ok(ledger);
                }
            }
            offset += line.len();
        }
        Err(refuse(
            "it has no end line: the ledger was cut short (an interrupted write?)".into(),
        ))
    }

    /// The ledger as it is written: head, digests and logs in key order, end.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec(&self.head).expect("a ledger head serializes");
        out.push(b'\n');
        let line = |out: &mut Vec<u8>, l: LineOut<'_>| {
            serde_json::to_writer(&mut *out, &l).expect("a ledger line serializes");
            out.push(b'\n');
        };
        for d in self.digests.values() {
            line(&mut out, LineOut::Digest(d));
        }
        for l in self.logs.values() {
            line(&mut out, LineOut::Log(l));
        }
        let end = End {
            digests: self.digests.len(),
            logs: self.logs.len(),
            sha256: sha256_hex(&out),
        };
        line(&mut out, LineOut::End(&end));
        out
    }

    /// Whether the run that made this ledger found nothing to change in the one it
    /// started from: the same entries (nothing recorded anew, changed or gone; objects
    /// looked for again because they are never recorded, such as missing logs, change
    /// nothing), under the same window, public keys and tool version. It is then that
    /// ledger, head included (the time it names is still that of the run that wrote it),
    /// and need not be written again: in S3 that saves a PUT, and a versioned bucket
    /// keeps no copy of it per run.
    pub fn is_unchanged(&self) -> bool {
        self.unchanged
    }

    /// When the run that wrote it took place (`None` for an empty ledger).
    pub fn written_at(&self) -> Option<DateTime<Utc>> {
        self.head.written()
    }

    /// What the ledger was made for.
    pub fn scope(&self) -> &LedgerScope {
        &self.head.scope
    }

    /// The window of the run that wrote it (`None` for an empty ledger).
    pub fn window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.head
            .written()
            .map(|_| (self.head.window[0], self.head.window[1]))
    }

    /// The version of the tool that wrote it.
    pub fn tool_version(&self) -> &str {
        &self.head.tool_version
    }

    /// Fingerprints of the public keys the run that wrote it held.
    pub fn public_keys(&self) -> &[String] {
        &self.head.public_keys
    }

    /// How many digests it holds.
    pub fn digests(&self) -> usize {
        self.digests.len()
    }

    /// How many logs it holds.
    pub fn logs(&self) -> usize {
        self.logs.len()
    }

    pub(crate) fn digest(&self, bucket: &str, key: &str) -> Option<&DigestEntry> {
        self.digests.get(bucket, key)
    }

    pub(crate) fn log(&self, bucket: &str, key: &str) -> Option<&LogEntry> {
        self.logs.get(bucket, key)
    }

    /// The bucket and key of every log held.
    #[cfg(test)]
    pub(crate) fn log_keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.logs.values().map(|l| (l.bucket.as_str(), l.key.as_str()))
    }
}

#[cfg(test)]
mod tests;
