//! The digest checks, in the reference's order, once for every driver.
//!
//! A fetched digest object is first [`parse`]d (gzip, JSON, its stored signature and
//! metadata); the driver then picks its signature with [`select_signature`] (stored
//! metadata first, else the one its successor records) and runs [`check`]: JSON object,
//! backfill generation time, required fields, the place it was written to, the public
//! key, the RSA signature, the times. Nothing here reads a source or the clock; public
//! keys come through a [`KeyRing`] the driver supplies.
//!
//! Two drivers read the same sequence with different rules ([`Profile`]): `validate-logs`
//! must reproduce the reference to the letter, quirks included; the audit reads the same
//! facts more tolerantly where the reference's quirks would hide evidence.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::python;
use crate::digest::Digest;
use crate::error::Error;
use crate::keys::PublicKey;
use crate::source::{Metadata, Object};
use crate::time::{parse_recorded, parse_recorded_converting};
use crate::verdict::{DigestVerdict, SignatureSource};
use crate::verify::{decode_signature_hex, string_to_sign, RsaPublicKey};

/// Fields a digest must have before anything else is checked, in the reference's order.
const REQUIRED_FIELDS: [&str; 6] = [
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
];

/// Which rules a check follows where the reference's behaviour is a quirk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Exactly the reference: times read as its parser reads them, with `default_date`
    /// filling missing fields (it uses the date of the window's end), offsets dropped;
    /// a backfill digest needs its generation time whatever signed it.
    Reference {
        /// Date for recorded times that lack one.
        default_date: NaiveDate,
    },
    /// The audit's reading: times converted to UTC; a backfill digest whose signature the
    /// next digest recorded needs no generation time (a copy without metadata has none).
    Audit,
}

/// What a digest object's user metadata says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StoredMetadata {
    /// The signature it holds (with its algorithm), and where that was found.
    pub signature: Option<(String, SignatureSource)>,
    /// `backfill-generation-timestamp`.
    pub generation: Option<String>,
}

impl StoredMetadata {
    /// Reads the entries CloudTrail sets on a digest object.
    pub fn of(metadata: &Metadata) -> StoredMetadata {
        let meta = &metadata.entries;
        let signature = match (
            meta.get("signature"),
            meta.get("signature-algorithm"),
            metadata.origin,
        ) {
            (Some(sig), Some(_), Some(origin)) => Some((sig.clone(), SignatureSource::Metadata(origin))),
            _ => None,
        };
        StoredMetadata {
            signature,
            generation: meta.get("backfill-generation-timestamp").cloned(),
        }
    }
}

/// A digest object as fetched and parsed, before its signature is checked.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// The digest, bytes exactly as inflated.
    pub digest: Digest,
    /// Hex SHA-256 of the inflated bytes.
    pub sha256: String,
    /// What its metadata says.
    pub stored: StoredMetadata,
}

impl Parsed {
    /// What it records about its predecessor: `(bucket, key, previousDigestSignature)`.
    /// Kept whether or not the digest verifies: a recovered signature is checked
    /// against the key like any other, so where it came from cannot make a forgery pass.
    pub fn records_previous(&self) -> Option<(String, String, String)> {
        match (self.digest.previous_signature(), self.digest.previous()) {
            (Some(sig), Some((b, k))) => Some((b.to_string(), k.to_string(), sig.to_string())),
            _ => None,
        }
    }
}

/// Inflates and decodes a fetched digest object and reads its metadata.
pub(crate) fn parse(object: &Object) -> Result<Parsed, DigestVerdict> {
    let digest = Digest::from_gzip(&object.body)?;
    Ok(Parsed {
        sha256: digest.sha256_hex(),
        digest,
        stored: StoredMetadata::of(&object.metadata),
    })
}

/// The signature to check: the digest's own metadata, else (when allowed) what the
/// digest after it records as `previousDigestSignature`, else none at all.
pub(crate) fn select_signature(
    parsed: &Parsed,
    recorded_by_successor: Option<&str>,
    allow_recovery: bool,
) -> Result<(String, SignatureSource), DigestVerdict> {
    match (&parsed.stored.signature, recorded_by_successor) {
        (Some(stored), _) => Ok(stored.clone()),
        (None, Some(sig)) if allow_recovery => Ok((sig.to_string(), SignatureSource::RecoveredFromSuccessor)),
        _ => Err(DigestVerdict::SignatureFailed { no_signature: true }),
    }
}

/// Where a check finds the public key a digest names.
pub(crate) trait KeyRing {
    /// The keys to verify a digest with: the window's, or for a backfill digest whose
    /// key they lack, those valid around its generation time (`None` when it has none).
    /// `Ok(Err(_))`: the lookup itself is the digest's verdict.
    fn keys_for(
        &mut self,
        fingerprint: Option<&str>,
        backfill_generation: Option<&str>,
    ) -> Result<Result<&BTreeMap<String, PublicKey>, DigestVerdict>, Error>;
}

/// What a digest that passed every check states.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// `digestStartTime`, converted to UTC (falls back to the end where the reference
    /// reads the start its own way).
    pub start: DateTime<Utc>,
    /// `digestStartTime` as the walk compares it (the reference drops offsets).
    pub walk_start: DateTime<Utc>,
    /// `digestEndTime`.
    pub end: DateTime<Utc>,
    /// Fingerprint of the key that verified it.
    pub fingerprint: String,
    /// Where the signature came from.
    pub signature: SignatureSource,
}

/// Checks a parsed digest read at `(bucket, key)` with `signature`, in the reference's
/// order. `Ok(Err(_))` is the digest's verdict (an unknown key's names `region`);
/// `Err(_)` a fatal error of the key lookup.
pub(crate) fn check(
    parsed: &Parsed,
    (bucket, key): (&str, &str),
    (signature, origin): (&str, SignatureSource),
    backfill: bool,
    keys: &mut dyn KeyRing,
    profile: Profile,
    region: &str,
) -> Result<Result<Checked, DigestVerdict>, Error> {
    let Some(fields) = parsed.digest.fields() else {
        return Ok(Err(match profile {
            Profile::Reference { .. } => DigestVerdict::NotAnObject {
                type_name: python::type_name(parsed.digest.value()),
            },
            Profile::Audit => DigestVerdict::InvalidFormat,
        }));
    };
    let needs_generation = match profile {
        Profile::Reference { .. } => backfill,
        Profile::Audit => backfill && origin != SignatureSource::RecoveredFromSuccessor,
    };
    if needs_generation && parsed.stored.generation.is_none() {
        return Ok(Err(DigestVerdict::InvalidFormat));
    }
    if REQUIRED_FIELDS.iter().any(|f| !fields.contains_key(*f)) {
        return Ok(Err(DigestVerdict::InvalidFormat));
    }
    if fields["digestS3Bucket"].as_str() != Some(bucket) || fields["digestS3Object"].as_str() != Some(key) {
        return Ok(Err(DigestVerdict::Moved));
    }
    let generation = if backfill {
        parsed.stored.generation.as_deref()
    } else {
        None
    };
    let key_map = match keys.keys_for(fields["digestPublicKeyFingerprint"].as_str(), generation)? {
        Ok(k) => k,
        Err(verdict) => return Ok(Err(verdict)),
    };
    let public_key = match verify_signature(fields, &parsed.sha256, (bucket, key), signature, key_map, region)
    {
        Ok(k) => k,
        Err(verdict) => return Ok(Err(verdict)),
    };
    let times = match profile {
        Profile::Reference { default_date } => reference_times(fields, default_date),
        Profile::Audit => audit_times(fields),
    };
    Ok(times.map(|(start, walk_start, end)| Checked {
        start,
        walk_start,
        end,
        fingerprint: public_key.fingerprint.clone(),
        signature: origin,
    }))
}

type Times = (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>);

/// The end, then the start, as the reference reads them: offsets dropped, missing fields
/// from `default_date`, Python's words for what is not a date.
fn reference_times(fields: &Map<String, Value>, default_date: NaiveDate) -> Result<Times, DigestVerdict> {
    let read = |value: &Value| match value {
        Value::String(t) => {
            parse_recorded(t, default_date).map_err(|_| DigestVerdict::UnparseableDate(t.clone()))
        }
        other => Err(DigestVerdict::DateNotAString {
            type_name: python::type_name(other),
        }),
    };
    let end = read(&fields["digestEndTime"])?;
    let walk_start = read(&fields["digestStartTime"])?;
    // Reports show the start converted to UTC, as the reference compares it.
    let start = fields["digestStartTime"]
        .as_str()
        .and_then(|t| parse_recorded_converting(t, default_date).ok())
        .unwrap_or(end);
    Ok((start, walk_start, end))
}

/// Start and end converted to UTC; the first unreadable one, quoted as JSON, is the verdict.
fn audit_times(fields: &Map<String, Value>) -> Result<Times, DigestVerdict> {
    let read = |name: &str| {
        let text = fields[name].as_str().unwrap_or_default();
        parse_recorded_converting(text, NaiveDate::default())
            .map_err(|_| DigestVerdict::UnparseableDate(fields[name].to_string()))
    };
    let (start, end) = match (read("digestStartTime"), read("digestEndTime")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(v), _) | (_, Err(v)) => return Err(v),
    };
    Ok((start, start, end))
}

/// The signature check once the required fields are known to be present: the key named by
/// `digestPublicKeyFingerprint` must be in `public_keys` (else the verdict names
/// `region`) and load, the hex signature must
/// decode, and it must verify over the string to sign built from the digest's own fields
/// and `sha256_hex` of its inflated bytes. Returns the key that verified it.
fn verify_signature<'k>(
    fields: &Map<String, Value>,
    sha256_hex: &str,
    (bucket, key): (&str, &str),
    signature: &str,
    public_keys: &'k BTreeMap<String, PublicKey>,
    region: &str,
) -> Result<&'k PublicKey, DigestVerdict> {
    let fingerprint_value = &fields["digestPublicKeyFingerprint"];
    let fingerprint = python::str_of(fingerprint_value);
    let Some(public_key) = fingerprint_value.as_str().and_then(|f| public_keys.get(f)) else {
        return Err(DigestVerdict::UnknownFingerprint {
            region: region.to_string(),
            fingerprint,
        });
    };
    let Ok(rsa_key) = RsaPublicKey::from_der(&public_key.der) else {
        return Err(DigestVerdict::KeyNotLoadable { fingerprint });
    };
    let previous = match &fields["previousDigestSignature"] {
        Value::Null => None,
        other => Some(python::str_of(other)),
    };
    let message = string_to_sign(
        &python::str_of(&fields["digestEndTime"]),
        bucket,
        key,
        sha256_hex,
        previous.as_deref(),
    );
    let signature_bytes = decode_signature_hex(signature).map_err(DigestVerdict::BadSignatureHex)?;
    if !rsa_key.verify(message.as_bytes(), &signature_bytes) {
        return Err(DigestVerdict::SignatureFailed { no_signature: false });
    }
    Ok(public_key)
}

/// A log file a valid digest names.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct LogJob {
    /// Bucket the digest names.
    pub bucket: String,
    /// Key the digest names.
    pub key: String,
    /// `hashValue` as recorded (absent, or not a string, in malformed digests).
    pub recorded: Option<Value>,
}

/// The log files a verified digest lists, as the reference reads them: a missing
/// `logFiles` or a malformed entry is fatal (the reference aborts), an empty or false
/// value lists nothing.
pub(crate) fn listed_logs_strict(digest: &Digest, (bucket, key): (&str, &str)) -> Result<Vec<LogJob>, Error> {
    let malformed = |reason: String| Error::MalformedDigest {
        bucket: bucket.to_string(),
        key: key.to_string(),
        reason,
    };
    let fields = digest.fields().ok_or(Error::DigestField { field: "logFiles" })?;
    let entries = match fields.get("logFiles") {
        None => return Err(Error::DigestField { field: "logFiles" }),
        Some(v) if python::falsy(v) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(malformed(format!("logFiles is not a list: {other}"))),
    };
    entries
        .iter()
        .map(|entry| {
            let field = |name: &'static str| -> Result<String, Error> {
                match entry.get(name) {
                    None => Err(Error::DigestField { field: name }),
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(malformed(format!(
                        "a logFiles entry has a non-string {name}: {other}"
                    ))),
                }
            };
            Ok(LogJob {
                bucket: field("s3Bucket")?,
                key: field("s3Object")?,
                recorded: entry.get("hashValue").cloned(),
            })
        })
        .collect()
}

/// The log files a digest lists, skipping entries without a bucket and key (the audit
/// reports what it can rather than stopping).
pub(crate) fn listed_logs_lenient(digest: &Digest) -> Vec<LogJob> {
    match digest.value().get("logFiles") {
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
    }
}

/// The previous digest a valid digest names, if it names one (both fields non-null).
pub(crate) fn previous_link(
    digest: &Digest,
    (bucket, key): (&str, &str),
) -> Result<Option<(String, String)>, Error> {
    let Some(fields) = digest.fields() else {
        return Ok(None);
    };
    let get = |name| fields.get(name).filter(|v| !v.is_null());
    match (get("previousDigestS3Bucket"), get("previousDigestS3Object")) {
        (Some(Value::String(b)), Some(Value::String(k))) => Ok(Some((b.clone(), k.clone()))),
        (Some(_), Some(_)) => Err(Error::MalformedDigest {
            bucket: bucket.to_string(),
            key: key.to_string(),
            reason: "previousDigestS3Bucket/previousDigestS3Object are not strings".into(),
        }),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_for_digests_that_are_not_objects_use_pythons_words() {
        let text = |v: Value| {
            DigestVerdict::NotAnObject {
                type_name: python::type_name(&v),
            }
            .to_string()
        };
        assert_eq!(
            text(serde_json::json!([1])),
            "list indices must be integers or slices, not str"
        );
        assert_eq!(
            text(serde_json::json!("x")),
            "'str' object does not support item assignment"
        );
        assert_eq!(
            text(serde_json::json!(1.5)),
            "'float' object does not support item assignment"
        );
        assert_eq!(
            text(Value::Null),
            "'NoneType' object does not support item assignment"
        );
    }

    #[test]
    fn a_stored_signature_wins_over_a_recorded_one_and_recovery_can_be_refused() {
        let digest = Digest::from_inflated(br#"{"a": 1}"#.to_vec()).unwrap();
        let mut parsed = Parsed {
            sha256: digest.sha256_hex(),
            digest,
            stored: StoredMetadata::default(),
        };
        assert_eq!(
            select_signature(&parsed, Some("ab"), true).unwrap(),
            ("ab".to_string(), SignatureSource::RecoveredFromSuccessor)
        );
        assert_eq!(
            select_signature(&parsed, Some("ab"), false).unwrap_err(),
            DigestVerdict::SignatureFailed { no_signature: true }
        );
        let stored = (
            "cd".to_string(),
            SignatureSource::Metadata(crate::source::MetadataOrigin::Sidecar),
        );
        parsed.stored.signature = Some(stored.clone());
        assert_eq!(select_signature(&parsed, Some("ab"), true).unwrap(), stored);
    }
}
