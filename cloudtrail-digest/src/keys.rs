//! Public keys: what `aws cloudtrail list-public-keys` prints, loaded, checked and looked
//! up by validity window.

use std::collections::BTreeMap;

use base64::Engine;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use md5::{Digest as _, Md5};
use serde_json::Value;

use crate::dateparse::parse_date;
use crate::error::Error;

/// One CloudTrail public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Lowercase hex MD5 of the DER bytes.
    pub fingerprint: String,
    /// The DER bytes (PKCS#1 `RSAPublicKey`, or SPKI in one AWS sample).
    pub der: Vec<u8>,
    /// Start of the key's validity window.
    pub valid_from: DateTime<Utc>,
    /// End of the key's validity window.
    pub valid_until: DateTime<Utc>,
}

/// Answers "which keys were valid between these times", as CloudTrail `ListPublicKeys` does.
pub trait PublicKeyProvider: Send + Sync {
    /// Keys whose validity window overlaps `[start, end]`, by fingerprint.
    fn keys_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, PublicKey>, Error>;
}

/// Keys loaded from one or more key files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicKeySet {
    keys: Vec<PublicKey>,
}

impl PublicKeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys, in file order.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// Adds a key.
    pub fn push(&mut self, key: PublicKey) {
        self.keys.push(key);
    }

    /// Reads the JSON `aws cloudtrail list-public-keys` prints: `{"PublicKeyList": [...]}`
    /// with validity times as epoch seconds (CLI v1) or ISO 8601 strings (CLI v2).
    /// Every key's fingerprint is checked against the MD5 of its bytes. `name` (the file
    /// path) is used in error messages.
    pub fn add_json(&mut self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let bad = |reason: String| Error::KeyFile {
            path: name.to_string(),
            reason,
            cause: None,
        };
        if crate::digest::decoded_size_estimate(bytes) > crate::digest::MAX_DECODED_DIGEST {
            return Err(bad(format!(
                "decoding its JSON would take more than {} bytes of memory",
                crate::digest::MAX_DECODED_DIGEST
            )));
        }
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| Error::KeyFile {
            path: name.to_string(),
            reason: format!("not JSON: {e}"),
            cause: Some(Box::new(e)),
        })?;
        let list = doc
            .get("PublicKeyList")
            .or_else(|| doc.get("publicKeyList"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad(
                    "no \"PublicKeyList\" array (expected the output of `aws cloudtrail list-public-keys`)"
                        .into(),
                )
            })?;
        for (i, entry) in list.iter().enumerate() {
            let key = parse_entry(entry).map_err(|why| bad(format!("key #{} ({why})", i + 1)))?;
            self.keys.push(key);
        }
        Ok(())
    }

    /// Reads a key file from disk (see [`PublicKeySet::add_json`]).
    /// Files larger than [`MAX_KEY_FILE`] are refused. A pipe works (`<(aws ...)`).
    pub fn add_file(&mut self, path: &std::path::Path) -> Result<(), Error> {
        use std::io::Read;
        let name = path.display().to_string();
        let fail = |reason: String| Error::KeyFile {
            path: name.clone(),
            reason,
            cause: None,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes))
            .map_err(|e| Error::KeyFile {
                path: name.clone(),
                reason: e.to_string(),
                cause: Some(Box::new(e)),
            })?;
        if bytes.len() as u64 > MAX_KEY_FILE {
            return Err(fail(format!(
                "larger than {MAX_KEY_FILE} bytes, so not a list-public-keys answer"
            )));
        }
        self.add_json(&name, &bytes)
    }
}

/// A `list-public-keys` answer holds about 1 KB per key; a key file beyond this size
/// is refused rather than read into memory (think `--public-keys /dev/zero`).
pub const MAX_KEY_FILE: u64 = 16 * 1024 * 1024;

impl PublicKeyProvider for PublicKeySet {
    fn keys_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, PublicKey>, Error> {
        Ok(self
            .keys
            .iter()
            .filter(|k| k.valid_from <= end && k.valid_until >= start)
            .map(|k| (k.fingerprint.clone(), k.clone()))
            .collect())
    }
}

fn parse_entry(entry: &Value) -> Result<PublicKey, String> {
    let field = |name: &str| entry.get(name).ok_or_else(|| format!("no {name}"));
    let value = field("Value")?.as_str().ok_or("Value is not a string")?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|e| format!("Value is not base64: {e}"))?;
    let fingerprint = field("Fingerprint")?
        .as_str()
        .ok_or("Fingerprint is not a string")?
        .to_string();
    let actual = hex::encode(Md5::digest(&der));
    if !actual.eq_ignore_ascii_case(&fingerprint) {
        return Err(format!(
            "Fingerprint {fingerprint} does not match its Value, whose MD5 is {actual}"
        ));
    }
    Ok(PublicKey {
        fingerprint,
        der,
        valid_from: parse_validity(field("ValidityStartTime")?)
            .map_err(|e| format!("ValidityStartTime: {e}"))?,
        valid_until: parse_validity(field("ValidityEndTime")?)
            .map_err(|e| format!("ValidityEndTime: {e}"))?,
    })
}

/// Epoch seconds (number or numeric string, CLI v1) or an ISO 8601 string (CLI v2).
fn parse_validity(v: &Value) -> Result<DateTime<Utc>, String> {
    let epoch = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => return Err(format!("not a time: {v}")),
    };
    if let Some(secs) = epoch {
        let whole = secs.floor();
        let nanos = ((secs - whole) * 1e9).round() as u32;
        return Utc
            .timestamp_opt(whole as i64, nanos.min(999_999_999))
            .single()
            .ok_or_else(|| format!("epoch seconds out of range: {v}"));
    }
    let text = v.as_str().unwrap_or_default();
    // A key file always carries full dates; the default date is never used.
    parse_date(text, NaiveDate::default())
        .map(|d| d.to_utc())
        .map_err(|_| format!("not a time: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rel: &str) -> PublicKeySet {
        let mut set = PublicKeySet::new();
        set.add_file(&crate::realdata::path(rel)).unwrap();
        set
    }

    #[test]
    fn loads_real_key_files_of_both_cli_shapes() {
        let v1 = load("aws-docs-sample-keys/list-public-keys_aws-cli-example.json");
        assert_eq!(v1.keys()[0].fingerprint, "7f3f401420072e50a65a141430817ab3");
        assert_eq!(v1.keys()[0].valid_from, Utc.timestamp_opt(1453076702, 0).unwrap());
        let guide = load("aws-docs-sample-keys/list-public-keys_userguide-sample.json");
        assert_eq!(guide.keys().len(), 3);
        assert_eq!(
            guide.keys()[0].valid_until,
            Utc.timestamp_opt(1438909441, 0).unwrap()
        );
    }

    #[test]
    fn loads_the_v2_shape_inside_a_capture() {
        let text = String::from_utf8(crate::realdata::read(
            "stackd-us-east-1-2026-09-22/digest_public_keys.json",
        ))
        .unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mut set = PublicKeySet::new();
        set.add_json("capture", doc["response"].to_string().as_bytes())
            .unwrap();
        let k = &set.keys()[0];
        assert_eq!(k.fingerprint, "28f6b7a258b62ece75008b18eaffc92b");
        assert_eq!(k.valid_from.to_rfc3339(), "2026-09-05T17:06:29+00:00");
    }

    #[test]
    fn looks_keys_up_by_overlapping_window() {
        let guide = load("aws-docs-sample-keys/list-public-keys_userguide-sample.json");
        let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap();
        let found = guide.keys_between(at(1437181400), at(1437181465)).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(guide
            .keys_between(at(1500000000), at(1500000001))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn rejects_a_fingerprint_that_does_not_match() {
        let doc = r#"{"PublicKeyList":[{"Value":"AAAA","Fingerprint":"00","ValidityStartTime":1,"ValidityEndTime":2}]}"#;
        let err = PublicKeySet::new()
            .add_json("k.json", doc.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("public key file k.json: key #1 (Fingerprint 00 does not match"),
            "{err}"
        );
        let err = PublicKeySet::new()
            .add_json("k.json", b"{}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("PublicKeyList"), "{err}");
    }
}

#[cfg(test)]
mod cause_tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn key_file_errors_name_the_file_and_carry_their_cause() {
        let mut keys = PublicKeySet::new();
        let missing = std::path::Path::new("/nonexistent/keys.json");
        let e = keys.add_file(missing).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("public key file /nonexistent/keys.json: "),
            "{e}"
        );
        let io = e
            .source()
            .and_then(|c| c.downcast_ref::<std::io::Error>())
            .expect("an io::Error cause");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        let e = keys.add_json("k.json", b"{not json").unwrap_err();
        assert!(e
            .source()
            .and_then(|c| c.downcast_ref::<serde_json::Error>())
            .is_some());
        let e = keys.add_json("k.json", b"{}").unwrap_err();
        assert!(e.source().is_none(), "nothing underneath a shape error");
    }
}
