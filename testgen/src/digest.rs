//! Digest documents and their signatures.
//!
//! [`render`] writes the inflated digest exactly as CloudTrail does: compact JSON,
//! fields in CloudTrail's fixed order, every `/` escaped as `\/`. [`string_to_sign`]
//! builds the text the signature covers:
//!
//! ```text
//! digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(inflated)) \n previousDigestSignature|null
//! ```

use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::json::push_java_str;
use crate::times::iso;

/// `digestSignatureAlgorithm` and the sidecar's `signature-algorithm`.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
/// `hashAlgorithm` / `previousDigestHashAlgorithm`.
pub const HASH_ALGORITHM: &str = "SHA-256";

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The link to the previous digest of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviousDigest {
    /// `previousDigestS3Bucket`
    pub bucket: String,
    /// `previousDigestS3Object`
    pub object: String,
    /// `previousDigestHashValue`: hex SHA-256 of the previous digest's inflated bytes.
    pub hash: String,
    /// `previousDigestSignature`: the previous digest's signature (hex).
    pub signature: String,
}

/// One `logFiles[]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// `s3Bucket`
    pub bucket: String,
    /// `s3Object`
    pub object: String,
    /// `hashValue`: hex SHA-256 of the inflated log.
    pub hash: String,
    /// `newestEventTime`
    pub newest: DateTime<Utc>,
    /// `oldestEventTime`
    pub oldest: DateTime<Utc>,
}

/// Everything a digest document states.
#[derive(Clone, Debug)]
pub struct DigestDoc<'a> {
    /// `awsAccountId`
    pub account: &'a str,
    /// `digestStartTime`
    pub start: DateTime<Utc>,
    /// `digestEndTime`
    pub end: DateTime<Utc>,
    /// `digestS3Bucket`
    pub bucket: &'a str,
    /// `digestS3Object`
    pub object: &'a str,
    /// `digestPublicKeyFingerprint`
    pub fingerprint: &'a str,
    /// The previous digest, `None` for a starting digest (five `previous*` nulls).
    pub previous: Option<&'a PreviousDigest>,
    /// `logFiles`, in this order.
    pub logs: &'a [LogEntry],
    /// Top-level field names to leave out (to build malformed digests).
    pub omit: &'a [String],
}

/// Renders the inflated digest JSON (no trailing newline).
pub fn render(doc: &DigestDoc<'_>) -> String {
    let mut out = String::with_capacity(1200 + doc.logs.len() * 420);
    let mut first = true;
    let mut key = |out: &mut String, name: &str| -> bool {
        if doc.omit.iter().any(|o| o == name) {
            return false;
        }
        if !first {
            out.push(',');
        }
        first = false;
        push_java_str(out, name);
        out.push(':');
        true
    };
    let opt = |out: &mut String, v: Option<&str>| match v {
        Some(s) => push_java_str(out, s),
        None => out.push_str("null"),
    };
    let newest = doc.logs.iter().map(|l| l.newest).max().map(iso);
    let oldest = doc.logs.iter().map(|l| l.oldest).min().map(iso);
    let prev = doc.previous;

    out.push('{');
    if key(&mut out, "awsAccountId") {
        push_java_str(&mut out, doc.account);
    }
    if key(&mut out, "digestStartTime") {
        push_java_str(&mut out, &iso(doc.start));
    }
    if key(&mut out, "digestEndTime") {
        push_java_str(&mut out, &iso(doc.end));
    }
    if key(&mut out, "digestS3Bucket") {
        push_java_str(&mut out, doc.bucket);
    }
    if key(&mut out, "digestS3Object") {
        push_java_str(&mut out, doc.object);
    }
    if key(&mut out, "digestPublicKeyFingerprint") {
        push_java_str(&mut out, doc.fingerprint);
    }
    if key(&mut out, "digestSignatureAlgorithm") {
        push_java_str(&mut out, SIGNATURE_ALGORITHM);
    }
    if key(&mut out, "newestEventTime") {
        opt(&mut out, newest.as_deref());
    }
    if key(&mut out, "oldestEventTime") {
        opt(&mut out, oldest.as_deref());
    }
    if key(&mut out, "previousDigestS3Bucket") {
        opt(&mut out, prev.map(|p| p.bucket.as_str()));
    }
    if key(&mut out, "previousDigestS3Object") {
        opt(&mut out, prev.map(|p| p.object.as_str()));
    }
    if key(&mut out, "previousDigestHashValue") {
        opt(&mut out, prev.map(|p| p.hash.as_str()));
    }
    if key(&mut out, "previousDigestHashAlgorithm") {
        opt(&mut out, prev.map(|_| HASH_ALGORITHM));
    }
    if key(&mut out, "previousDigestSignature") {
        opt(&mut out, prev.map(|p| p.signature.as_str()));
    }
    if key(&mut out, "logFiles") {
        out.push('[');
        for (i, l) in doc.logs.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"s3Bucket\":");
            push_java_str(&mut out, &l.bucket);
            out.push_str(",\"s3Object\":");
            push_java_str(&mut out, &l.object);
            out.push_str(",\"hashValue\":");
            push_java_str(&mut out, &l.hash);
            out.push_str(",\"hashAlgorithm\":");
            push_java_str(&mut out, HASH_ALGORITHM);
            out.push_str(",\"newestEventTime\":");
            push_java_str(&mut out, &iso(l.newest));
            out.push_str(",\"oldestEventTime\":");
            push_java_str(&mut out, &iso(l.oldest));
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// The string a digest signature covers (UTF-8, no trailing newline).
pub fn string_to_sign(
    end_time: &str,
    bucket: &str,
    object: &str,
    inflated: &[u8],
    previous_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{object}\n{}\n{}",
        sha256_hex(inflated),
        previous_signature.unwrap_or("null")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::times::utc;

    #[test]
    fn starting_digest_has_null_previous_fields() {
        let doc = DigestDoc {
            account: "111122223333",
            start: utc(2026, 3, 1, 0, 17, 42),
            end: utc(2026, 3, 1, 1, 17, 42),
            bucket: "b",
            object: "AWSLogs/x.json.gz",
            fingerprint: "ff",
            previous: None,
            logs: &[],
            omit: &[],
        };
        assert_eq!(
            render(&doc),
            r#"{"awsAccountId":"111122223333","digestStartTime":"2026-03-01T00:17:42Z","digestEndTime":"2026-03-01T01:17:42Z","digestS3Bucket":"b","digestS3Object":"AWSLogs\/x.json.gz","digestPublicKeyFingerprint":"ff","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}"#
        );
        let omit = vec!["digestStartTime".to_string()];
        let s = render(&DigestDoc { omit: &omit, ..doc });
        assert!(s.starts_with(r#"{"awsAccountId":"111122223333","digestEndTime":"#));
    }

    #[test]
    fn string_to_sign_layout() {
        let s = string_to_sign("2026-03-01T01:17:42Z", "b", "k/x", b"{}", None);
        assert_eq!(
            s,
            "2026-03-01T01:17:42Z\nb/k/x\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\nnull"
        );
    }
}
