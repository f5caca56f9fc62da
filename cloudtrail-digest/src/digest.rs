//! The digest document: the exact inflated bytes CloudTrail signed, and read-only views
//! of the fields inside them. Nothing is ever re-serialised.

use serde_json::{Map, Value};

use crate::gzip::{inflate_digest, sha256_hex, InflateError};

/// Why bytes are not a digest document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestParseError {
    /// Not gzip, or truncated.
    NotGzip,
    /// Inflates beyond [`MAX_INFLATED_DIGEST`](crate::MAX_INFLATED_DIGEST) bytes.
    TooLarge,
    /// The inflated bytes are not JSON.
    NotJson,
    /// Decoding the JSON would take more than [`MAX_DECODED_DIGEST`] bytes of memory.
    TooManyValues,
}

/// Decoded JSON takes more memory than its text: each value about 32 bytes and each
/// object a tree node of about 640, so `[0,0,...]` needs 16 times its size and
/// `[{"a":0},...]` 80 times, while a real digest (one six-field object per ~370 bytes)
/// needs about 4 times. A digest whose estimate exceeds this is refused undecoded.
pub const MAX_DECODED_DIGEST: usize = 512 << 20;

/// An upper estimate of the memory `serde_json::Value` takes for `json`, from one pass
/// over its bytes that allocates nothing. Strings (most of a digest) are skipped to
/// their closing quote; only the bytes between them are looked at one by one.
pub(crate) fn decoded_size_estimate(json: &[u8]) -> usize {
    let (mut values, mut objects) = (1usize, 0usize);
    let mut count = |between: &[u8]| {
        for &b in between {
            match b {
                b',' | b':' | b'[' => values += 1,
                b'{' => {
                    values += 1;
                    objects += 1;
                }
                _ => {}
            }
        }
    };
    let mut at = 0;
    while at < json.len() {
        let Some(open) = memchr::memchr(b'"', &json[at..]) else {
            count(&json[at..]);
            break;
        };
        count(&json[at..at + open]);
        at += open + 1;
        // Inside the string, to its closing quote (or the end): an escape takes the
        // byte after it along.
        loop {
            let Some(i) = memchr::memchr2(b'"', b'\\', &json[at..]) else {
                at = json.len();
                break;
            };
            let quote = json[at + i] == b'"';
            at = (at + i + if quote { 1 } else { 2 }).min(json.len());
            if quote {
                break;
            }
        }
    }
    json.len()
        .saturating_add(values.saturating_mul(32))
        .saturating_add(objects.saturating_mul(640))
}

/// A digest as stored: inflated bytes plus the decoded JSON value.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    raw: Vec<u8>,
    value: Value,
}

/// A log file entry of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFileRef {
    /// `s3Bucket`.
    pub bucket: String,
    /// `s3Object`.
    pub key: String,
    /// `hashValue`: lowercase hex SHA-256 of the inflated log.
    pub hash_value: String,
}

impl Digest {
    /// Inflates the first gzip member of a stored digest object and decodes its JSON.
    pub fn from_gzip(stored: &[u8]) -> Result<Digest, DigestParseError> {
        let raw = inflate_digest(stored).map_err(|e| match e {
            InflateError::Corrupt => DigestParseError::NotGzip,
            InflateError::TooLarge => DigestParseError::TooLarge,
        })?;
        Digest::from_inflated(raw)
    }

    /// Decodes already inflated digest bytes, keeping them as they are.
    pub fn from_inflated(raw: Vec<u8>) -> Result<Digest, DigestParseError> {
        if decoded_size_estimate(&raw) > MAX_DECODED_DIGEST {
            return Err(DigestParseError::TooManyValues);
        }
        let value = serde_json::from_slice(&raw).map_err(|_| DigestParseError::NotJson)?;
        Ok(Digest { raw, value })
    }

    /// The inflated bytes, exactly as CloudTrail wrote them.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Lowercase hex SHA-256 of the inflated bytes (what the next digest records as
    /// `previousDigestHashValue`, and what the signature covers).
    pub fn sha256_hex(&self) -> String {
        sha256_hex(&self.raw)
    }

    /// The decoded JSON value (normally an object).
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The top-level fields, when the document is a JSON object.
    pub fn fields(&self) -> Option<&Map<String, Value>> {
        self.value.as_object()
    }

    /// A top-level string field.
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.value.get(name).and_then(Value::as_str)
    }

    /// `digestStartTime`, as written.
    pub fn start_time(&self) -> Option<&str> {
        self.str_field("digestStartTime")
    }

    /// `digestEndTime`, as written.
    pub fn end_time(&self) -> Option<&str> {
        self.str_field("digestEndTime")
    }

    /// `digestPublicKeyFingerprint`.
    pub fn fingerprint(&self) -> Option<&str> {
        self.str_field("digestPublicKeyFingerprint")
    }

    /// `previousDigestS3Bucket` and `previousDigestS3Object`, when both are strings.
    pub fn previous(&self) -> Option<(&str, &str)> {
        Some((
            self.str_field("previousDigestS3Bucket")?,
            self.str_field("previousDigestS3Object")?,
        ))
    }

    /// `previousDigestSignature`, when it is a string.
    pub fn previous_signature(&self) -> Option<&str> {
        self.str_field("previousDigestSignature")
    }

    /// `previousDigestHashValue`, when it is a string.
    pub fn previous_hash(&self) -> Option<&str> {
        self.str_field("previousDigestHashValue")
    }

    /// The well-formed entries of `logFiles` (entries lacking a string bucket, key or
    /// hash are skipped; the validator reports those its own way).
    pub fn log_files(&self) -> Vec<LogFileRef> {
        let Some(Value::Array(items)) = self.value.get("logFiles") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|e| {
                Some(LogFileRef {
                    bucket: e.get("s3Bucket")?.as_str()?.to_string(),
                    key: e.get("s3Object")?.as_str()?.to_string(),
                    hash_value: e.get("hashValue")?.as_str()?.to_string(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "llm-guard-ap-northeast-1-2023-10-15/327878933619_CloudTrail-Digest_ap-northeast-1_llm-guard-trail_us-west-2_20231015T230404Z.json";

    #[test]
    fn reads_a_real_digest_and_keeps_its_bytes() {
        let raw = crate::realdata::read(REAL);
        let d = Digest::from_inflated(raw.clone()).unwrap();
        assert_eq!(d.raw(), &raw[..]);
        assert_eq!(d.end_time(), Some("2023-10-15T23:04:04Z"));
        assert_eq!(d.fingerprint(), Some("be2f0b997552f44942837300ba1aba9d"));
        let (b, k) = d.previous().unwrap();
        assert_eq!(b, "llm-guard-trail");
        // `\/` in the stored JSON reads as `/`
        assert!(k.starts_with("AWSLogs/327878933619/CloudTrail-Digest/ap-northeast-1/2023/10/15/"));
        assert_eq!(
            d.previous_hash(),
            Some("8f953371d3e85eddb89b05ed6b9e680791055315c73e1025ab5dba7bb2aee189")
        );
        let logs = d.log_files();
        assert!(logs.len() >= 4);
        assert!(logs[0].key.ends_with("_20231015T2205Z_iRIoDMA9l9Q4kmFy.json.gz"));
        assert_eq!(d.sha256_hex(), sha256_hex(&raw));
        assert!(
            raw.windows(2).any(|w| w == b"\\/"),
            "hashing covers the escaped bytes"
        );
    }

    #[test]
    fn a_real_digest_decodes_in_about_four_times_its_size() {
        let raw = crate::realdata::read(REAL);
        let ratio = decoded_size_estimate(&raw) as f64 / raw.len() as f64;
        // A real digest of the 64 MiB inflation cap stays well inside the budget.
        assert!((2.0..5.0).contains(&ratio), "{ratio}");
        assert!(5.0 * crate::gzip::MAX_INFLATED_DIGEST as f64 <= MAX_DECODED_DIGEST as f64 * 0.7);
    }

    #[test]
    fn json_that_would_decode_into_too_much_memory_is_refused_undecoded() {
        // 16 MiB of text each; decoded, [0,...] would take ~256 MiB, [{"a":0},...] ~1.4 GiB.
        let zeros = format!("[{}0]", "0,".repeat(8 << 20));
        let objects = format!("[{}{{}}]", "{\"a\":0},".repeat(2 << 20));
        assert!(decoded_size_estimate(zeros.as_bytes()) > 256 << 20);
        assert_eq!(
            Digest::from_inflated(objects.into_bytes()),
            Err(DigestParseError::TooManyValues)
        );
        // Strings hide their commas and brackets; escapes do not end them early.
        let text = br#"["a,[{:\"]",1]"#;
        assert_eq!(decoded_size_estimate(text), text.len() + 32 * 3);
    }

    /// The estimate byte by byte, as plainly as it can be written: what the skipping
    /// one must give for any input.
    fn estimate_byte_by_byte(json: &[u8]) -> usize {
        let (mut values, mut objects) = (1usize, 0usize);
        let (mut in_string, mut escaped) = (false, false);
        for &b in json {
            if in_string {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_string = false,
                    _ => {}
                }
            } else if b == b'"' {
                in_string = true;
            } else if matches!(b, b',' | b':' | b'[') {
                values += 1;
            } else if b == b'{' {
                values += 1;
                objects += 1;
            }
        }
        json.len() + values * 32 + objects * 640
    }

    #[test]
    fn the_estimate_skips_strings_as_a_byte_by_byte_pass_would() {
        let real = crate::realdata::read(REAL);
        let mut cases: Vec<Vec<u8>> = vec![real.clone(), Vec::new()];
        for text in [
            &br#"["a,[{:\"]",1]"#[..],
            br#"{"a":"b\\","c":[1,{"d":"\"{"}]}"#,
            br#""unclosed, [{:"#,
            br#"["ends in an escape\"#,
            br#"\",{,"#,
            br#""""",,"\\\"","#,
        ] {
            cases.push(text.to_vec());
        }
        // Every cut of the real digest: strings left open at every point.
        for end in (0..real.len()).step_by(7) {
            cases.push(real[..end].to_vec());
        }
        for case in &cases {
            assert_eq!(
                decoded_size_estimate(case),
                estimate_byte_by_byte(case),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_digest() {
        assert_eq!(Digest::from_gzip(b"{}"), Err(DigestParseError::NotGzip));
        assert_eq!(
            Digest::from_inflated(b"{".to_vec()),
            Err(DigestParseError::NotJson)
        );
    }
}
