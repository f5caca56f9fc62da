//! Fetching and verifying every digest of a chain, whatever the reference's walk would
//! skip. The signature checks themselves are the validator's.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::Value;

use crate::digest::Digest;
use crate::keys::{PublicKey, PublicKeyProvider};
use crate::logcheck::{source_verdict, LogJob};
use crate::source::ObjectSource;
use crate::time::parse_recorded_converting;
use crate::validate::{verify_signature, REQUIRED_FIELDS};
use crate::verdict::{DigestVerdict, SignatureSource};
use crate::Error;

/// What a verified digest states.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub fingerprint: String,
    pub signature_source: SignatureSource,
    /// `previousDigestS3Bucket`/`previousDigestS3Object`, when not null.
    pub previous: Option<(String, String)>,
    pub previous_hash: Option<String>,
    pub previous_signature: Option<String>,
    pub logs: Vec<LogJob>,
}

/// A digest as found.
#[derive(Debug, Clone)]
pub(crate) enum State {
    Valid(Box<Verified>),
    Invalid(DigestVerdict),
    /// Parsed, but no stored signature: waits for the next digest's record of it.
    Unsigned(Box<Digest>),
}

/// One digest object of a chain.
#[derive(Debug, Clone)]
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
    let object = match source.get(bucket, key) {
        Ok(o) => o,
        Err(e) => {
            return match source_verdict(e, None, |why| Some(DigestVerdict::Refused(why)))? {
                None => Ok(None),
                Some(v) => Ok(Some(Member {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    end,
                    backfill,
                    state: State::Invalid(v),
                    sha256: None,
                    stored_signature: None,
                    generation: None,
                    records_previous: None,
                    listed: Vec::new(),
                })),
            }
        }
    };
    let meta = &object.metadata.entries;
    let stored = match (
        meta.get("signature"),
        meta.get("signature-algorithm"),
        object.metadata.origin,
    ) {
        (Some(sig), Some(_), Some(origin)) => Some((sig.clone(), SignatureSource::Metadata(origin))),
        _ => None,
    };
    let mut member = Member {
        bucket: bucket.to_string(),
        key: key.to_string(),
        end,
        backfill,
        state: State::Invalid(DigestVerdict::InvalidFormat),
        sha256: None,
        stored_signature: stored.as_ref().map(|s| s.0.clone()),
        generation: meta.get("backfill-generation-timestamp").cloned(),
        records_previous: None,
        listed: Vec::new(),
    };
    let digest = match Digest::from_gzip(&object.body) {
        Ok(d) => d,
        Err(e) => {
            member.state = State::Invalid(e.into());
            return Ok(Some(member));
        }
    };
    member.sha256 = Some(digest.sha256_hex());
    if let (Some(sig), Some((b, k))) = (digest.previous_signature(), digest.previous()) {
        member.records_previous = Some((b.to_string(), k.to_string(), sig.to_string()));
    }
    member.state = match stored {
        Some(sig) => verify(&digest, &member, sig, keys, region)?,
        None => State::Unsigned(Box::new(digest.clone())),
    };
    if member.verified().is_none() {
        member.listed = digest
            .log_files()
            .into_iter()
            .map(|l| (l.bucket, l.key))
            .collect();
    }
    Ok(Some(member))
}

/// Verifies an unsigned member with a signature recovered from the next digest, or
/// fails it for want of any signature.
pub(crate) fn recover(
    member: &mut Member,
    recovered: Option<&str>,
    keys: &Keys<'_>,
    region: &str,
) -> Result<(), Error> {
    if let State::Unsigned(digest) = &member.state {
        member.state = match recovered {
            Some(sig) => verify(
                digest,
                member,
                (sig.to_string(), SignatureSource::RecoveredFromSuccessor),
                keys,
                region,
            )?,
            None => State::Invalid(DigestVerdict::SignatureFailed { no_signature: true }),
        };
        if member.verified().is_some() {
            member.listed = Vec::new();
        }
    }
    Ok(())
}

fn verify(
    digest: &Digest,
    member: &Member,
    (signature, origin): (String, SignatureSource),
    keys: &Keys<'_>,
    region: &str,
) -> Result<State, Error> {
    let invalid = |v| Ok(State::Invalid(v));
    let Some(fields) = digest.fields() else {
        return invalid(DigestVerdict::InvalidFormat);
    };
    if member.backfill && origin != SignatureSource::RecoveredFromSuccessor && member.generation.is_none() {
        return invalid(DigestVerdict::InvalidFormat);
    }
    if REQUIRED_FIELDS.iter().any(|f| !fields.contains_key(*f)) {
        return invalid(DigestVerdict::InvalidFormat);
    }
    if fields["digestS3Bucket"].as_str() != Some(member.bucket.as_str())
        || fields["digestS3Object"].as_str() != Some(member.key.as_str())
    {
        return invalid(DigestVerdict::Moved);
    }
    let fingerprint = fields["digestPublicKeyFingerprint"].as_str().unwrap_or_default();
    let lazy;
    let key_map = match &member.generation {
        Some(generation) if member.backfill && !keys.standard.contains_key(fingerprint) => {
            lazy = keys.around(generation)?;
            &lazy
        }
        _ => &keys.standard,
    };
    let sha = member.sha256.clone().unwrap_or_default();
    let public_key = match verify_signature(
        fields,
        &sha,
        (&member.bucket, &member.key),
        &signature,
        key_map,
        region,
    ) {
        Ok(k) => k,
        Err(v) => return invalid(v),
    };
    let time = |name: &str| -> Result<DateTime<Utc>, DigestVerdict> {
        let text = fields[name].as_str().unwrap_or_default();
        parse_recorded_converting(text, NaiveDate::default())
            .map_err(|_| DigestVerdict::Other(format!("Unable to parse date value: {}", fields[name])))
    };
    let (start, end) = match (time("digestStartTime"), time("digestEndTime")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(v), _) | (_, Err(v)) => return invalid(v),
    };
    let logs = match fields.get("logFiles") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|e| {
                Some(LogJob {
                    bucket: e.get("s3Bucket")?.as_str()?.to_string(),
                    key: e.get("s3Object")?.as_str()?.to_string(),
                    recorded: e.get("hashValue").cloned(),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(State::Valid(Box::new(Verified {
        start,
        end,
        fingerprint: public_key.fingerprint.clone(),
        signature_source: origin,
        previous: digest.previous().map(|(b, k)| (b.to_string(), k.to_string())),
        previous_hash: digest.previous_hash().map(str::to_string),
        previous_signature: digest.previous_signature().map(str::to_string),
        logs,
    })))
}
