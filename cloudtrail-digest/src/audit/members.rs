//! Every digest of a chain as the audit holds it: fetched, parsed, and verified through
//! the shared digest checks (audit rules), whatever the reference's walk would skip.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::check::digest::{self, KeyRing, LogJob, Parsed, Profile, StoredMetadata};
use crate::error::Error;
use crate::fetch::source_verdict;
use crate::keys::{PublicKey, PublicKeyProvider};
use crate::source::{ArchiveClass, ObjectSource, SourceErrorKind};
use crate::time::parse_recorded_converting;
use crate::verdict::{DigestVerdict, LogVerdict, SignatureSource};

/// What a verified digest states.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Verified {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub fingerprint: String,
    pub signature_source: SignatureSource,
    /// `previousDigestS3Bucket`/`previousDigestS3Object`, when not null.
    pub previous: Option<(String, String)>,
    pub previous_hash: Option<String>,
    pub previous_signature: Option<String>,
    /// The logs it lists, until the audit reads them (then each is held as its read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogJob>,
}

/// A digest as found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum State {
    Valid(Box<Verified>),
    Invalid(DigestVerdict),
    /// Parsed, but no stored signature: waits for the next digest's record of it.
    /// Signatures are recovered before anything is handed on, so this is never written.
    #[serde(skip)]
    Unsigned(Box<Parsed>),
    /// Archived and not restored: not read.
    Archived(ArchiveClass),
}

/// One digest object of a chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Member {
    pub bucket: String,
    pub key: String,
    /// The key's stamp (end time).
    pub end: DateTime<Utc>,
    pub backfill: bool,
    pub state: State,
    /// Hex SHA-256 of the inflated bytes, when it inflates.
    pub sha256: Option<String>,
    /// The signature its metadata holds, if any.
    pub stored_signature: Option<String>,
    /// `backfill-generation-timestamp` metadata.
    pub generation: Option<String>,
    /// What it records about its predecessor: `(bucket, key, previousDigestSignature)`.
    pub records_previous: Option<(String, String, String)>,
    /// The logs it lists, kept only while it is not verified (valid digests carry
    /// theirs as log jobs).
    pub listed: Vec<(String, String)>,
}

impl Member {
    /// The signature its metadata holds (a recovered one is, by construction, what the
    /// next digest records, so there is nothing to compare it with).
    pub fn signature(&self) -> Option<&str> {
        self.stored_signature.as_deref()
    }

    /// The order of a chain's members: by end stamp, then bucket and key.
    pub fn order(&self) -> (DateTime<Utc>, &str, &str) {
        (self.end, &self.bucket, &self.key)
    }

    pub fn archived(&self) -> bool {
        matches!(self.state, State::Archived(_))
    }

    pub fn verified(&self) -> Option<&Verified> {
        match &self.state {
            State::Valid(v) => Some(v),
            _ => None,
        }
    }

    /// Start and end: the digest's own when verified, else one hour before the key's stamp.
    pub fn span(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        match self.verified() {
            Some(v) => (v.start, v.end),
            None => (self.end - Duration::hours(1), self.end),
        }
    }
}

/// Public keys for the window, and backfill lookups around generation times, cached.
pub(crate) struct Keys<'a> {
    provider: &'a dyn PublicKeyProvider,
    standard: BTreeMap<String, PublicKey>,
    backfill: Mutex<HashMap<String, BTreeMap<String, PublicKey>>>,
}

impl<'a> Keys<'a> {
    pub fn new(
        provider: &'a dyn PublicKeyProvider,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Self, Error> {
        Ok(Keys {
            provider,
            standard: provider.keys_between(window.0 - Duration::hours(2), window.1 + Duration::hours(3))?,
            backfill: Mutex::new(HashMap::new()),
        })
    }

    fn around(&self, generation: &str) -> Result<BTreeMap<String, PublicKey>, Error> {
        if let Some(found) = self.backfill.lock().expect("key cache").get(generation) {
            return Ok(found.clone());
        }
        let found = match parse_recorded_converting(generation, NaiveDate::default()) {
            Ok(at) => self
                .provider
                .keys_between(at - Duration::hours(1), at + Duration::hours(1))?,
            Err(_) => BTreeMap::new(),
        };
        self.backfill
            .lock()
            .expect("key cache")
            .insert(generation.to_string(), found.clone());
        Ok(found)
    }
}

/// The keys for one digest: the window's, or those around a backfill digest's generation
/// time when the window's lack its key (none found reads as an unknown key).
struct MemberKeys<'k, 'a> {
    keys: &'k Keys<'a>,
    lazy: BTreeMap<String, PublicKey>,
}

impl KeyRing for MemberKeys<'_, '_> {
    fn keys_for(
        &mut self,
        fingerprint: Option<&str>,
        backfill_generation: Option<&str>,
    ) -> Result<Result<&BTreeMap<String, PublicKey>, DigestVerdict>, Error> {
        match backfill_generation {
            Some(generation) if !self.keys.standard.contains_key(fingerprint.unwrap_or_default()) => {
                self.lazy = self.keys.around(generation)?;
                Ok(Ok(&self.lazy))
            }
            _ => Ok(Ok(&self.keys.standard)),
        }
    }
}

/// Fetches and parses one digest; verifies it when its metadata holds a signature.
/// `Ok(None)`: there is no such object.
pub(crate) fn fetch(
    source: &dyn ObjectSource,
    keys: &Keys<'_>,
    bucket: &str,
    key: &str,
    end: DateTime<Utc>,
    backfill: bool,
    region: &str,
) -> Result<Option<Member>, Error> {
    let mut member = Member {
        bucket: bucket.to_string(),
        key: key.to_string(),
        end,
        backfill,
        state: State::Invalid(DigestVerdict::InvalidFormat),
        sha256: None,
        stored_signature: None,
        generation: None,
        records_previous: None,
        listed: Vec::new(),
    };
    let object = match source.get(bucket, key) {
        Ok(o) => o,
        Err(e) => {
            let state = match e.kind {
                SourceErrorKind::NoSuchBucket => return Err(Error::Source(e)),
                _ => match source_verdict(e, None, |why| Some(State::Invalid(DigestVerdict::Refused(why)))) {
                    Ok(state) => state,
                    Err(fatal) => Some(match unread(fatal)? {
                        Unread::Archived(class) => State::Archived(class),
                        Unread::Unreadable(why) => State::Invalid(DigestVerdict::Unreadable(why)),
                    }),
                },
            };
            return match state {
                None => Ok(None),
                Some(state) => {
                    member.state = state;
                    Ok(Some(member))
                }
            };
        }
    };
    let stored = StoredMetadata::of(&object.metadata);
    member.stored_signature = stored.signature.as_ref().map(|s| s.0.clone());
    member.generation = stored.generation.clone();
    let parsed = match digest::parse(&object) {
        Ok(p) => p,
        Err(verdict) => {
            member.state = State::Invalid(verdict);
            return Ok(Some(member));
        }
    };
    member.sha256 = Some(parsed.sha256.clone());
    member.records_previous = parsed.records_previous();
    member.state = match digest::select_signature(&parsed, None, false) {
        Ok(signature) => verify(&parsed, &member, signature, keys, region)?,
        Err(_) => State::Unsigned(Box::new(parsed.clone())),
    };
    if member.verified().is_none() {
        member.listed = parsed
            .digest
            .log_files()
            .into_iter()
            .map(|l| (l.bucket, l.key))
            .collect();
    }
    Ok(Some(member))
}

/// Why the audit could not read an object.
pub(crate) enum Unread {
    /// Archived and not restored: not checked, neither valid nor invalid.
    Archived(ArchiveClass),
    /// Any other failure to read it (the detail): nothing about it can be verified.
    Unreadable(String),
}

impl Unread {
    /// A log's verdict when it could not be read.
    pub fn log_verdict(self) -> LogVerdict {
        match self {
            Unread::Archived(class) => LogVerdict::Archived(class),
            Unread::Unreadable(why) => LogVerdict::Unreadable(why),
        }
    }
}

/// What the audit says of an object it could not read: one object's failure is a finding
/// on that object, so the audit goes on with every other. A missing bucket, or anything
/// that is not about one object, still stops it.
pub(crate) fn unread(e: Error) -> Result<Unread, Error> {
    match e {
        Error::Source(s) if s.kind == SourceErrorKind::Archived && !s.key.is_empty() => {
            Ok(Unread::Archived(s.archive().cloned().unwrap_or_default()))
        }
        Error::Source(s) if s.kind != SourceErrorKind::NoSuchBucket && !s.key.is_empty() => {
            Ok(Unread::Unreadable(s.detail))
        }
        other => Err(other),
    }
}

/// Verifies an unsigned member with a signature recovered from the next digest, or
/// fails it for want of any signature.
pub(crate) fn recover(
    member: &mut Member,
    recovered: Option<&str>,
    keys: &Keys<'_>,
    region: &str,
) -> Result<(), Error> {
    if let State::Unsigned(parsed) = &member.state {
        member.state = match digest::select_signature(parsed, recovered, true) {
            Ok(signature) => verify(parsed, member, signature, keys, region)?,
            Err(verdict) => State::Invalid(verdict),
        };
        if member.verified().is_some() {
            member.listed = Vec::new();
        }
    }
    Ok(())
}

fn verify(
    parsed: &Parsed,
    member: &Member,
    (signature, origin): (String, SignatureSource),
    keys: &Keys<'_>,
    region: &str,
) -> Result<State, Error> {
    let mut ring = MemberKeys {
        keys,
        lazy: BTreeMap::new(),
    };
    let checked = match digest::check(
        parsed,
        (&member.bucket, &member.key),
        (&signature, origin),
        member.backfill,
        &mut ring,
        Profile::Audit,
        region,
    )? {
        Ok(c) => c,
        Err(verdict) => return Ok(State::Invalid(verdict)),
    };
    let d = &parsed.digest;
    Ok(State::Valid(Box::new(Verified {
        start: checked.start,
        end: checked.end,
        fingerprint: checked.fingerprint,
        signature_source: origin,
        previous: d.previous().map(|(b, k)| (b.to_string(), k.to_string())),
        previous_hash: d.previous_hash().map(str::to_string),
        previous_signature: d.previous_signature().map(str::to_string),
        logs: digest::listed_logs_lenient(d),
    })))
}
