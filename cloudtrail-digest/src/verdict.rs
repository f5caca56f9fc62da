//! Per-file verdicts and run events: plain data that tests compare and reports format.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::digest::DigestParseError;
use crate::source::{ArchiveClass, MetadataOrigin};

/// Which traversal produced an event: standard digests first, then backfill digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pass {
    /// Hourly digests.
    Standard,
    /// Backfill digests (`..._backfill.json.gz`).
    Backfill,
}

/// Where a verified digest's signature came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SignatureSource {
    /// The object's S3 user metadata (from the service, a sidecar file or xattrs).
    Metadata(MetadataOrigin),
    /// The `previousDigestSignature` recorded by the digest that follows it.
    RecoveredFromSuccessor,
}

impl SignatureSource {
    /// Its name in the audit's reports and in exports: `s3-metadata`, `sidecar`,
    /// `xattr`, `next-digest`.
    pub fn word(self) -> &'static str {
        match self {
            SignatureSource::Metadata(MetadataOrigin::Service) => "s3-metadata",
            SignatureSource::Metadata(MetadataOrigin::Sidecar) => "sidecar",
            SignatureSource::Metadata(MetadataOrigin::Xattr) => "xattr",
            SignatureSource::RecoveredFromSuccessor => "next-digest",
        }
    }
}

/// Why a digest is not valid. `Display` gives the reference's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DigestVerdict {
    /// No object at the key.
    NotFound,
    /// Not gzip, not JSON, missing a required field, or a backfill digest without its
    /// generation timestamp.
    InvalidFormat,
    /// The signature does not verify, or no signature was found at all.
    SignatureFailed {
        /// True when no signature was found anywhere (metadata, sidecar, xattrs, chain).
        no_signature: bool,
    },
    /// `digestS3Bucket`/`digestS3Object` differ from where the digest was read.
    Moved,
    /// No public key with the digest's fingerprint.
    UnknownFingerprint {
        /// The trail's home region (the reference names it, whatever region signed).
        region: String,
        /// The fingerprint the digest names.
        fingerprint: String,
    },
    /// The key with that fingerprint is not an RSA public key.
    KeyNotLoadable {
        /// The fingerprint the digest names.
        fingerprint: String,
    },
    /// The object is not read, or not loaded, because that would be unsafe: its key
    /// would leave the mirror root, it is not a regular file, it is larger than any
    /// digest, or it inflates beyond [`crate::gzip::MAX_INFLATED_DIGEST`] (a gzip bomb).
    Refused(String),
    /// A time the digest records cannot be read (`digestStartTime`, `digestEndTime`, or
    /// a backfill digest's generation time): the text as the reference quotes it.
    UnparseableDate(String),
    /// A time field holds something other than a string (its Python type name).
    DateNotAString {
        /// Python's name of the type found (`int`, `NoneType`, ...).
        #[serde(deserialize_with = "python_type_name")]
        type_name: Word,
    },
    /// The digest's JSON is not an object, so the reference cannot store the signature
    /// into it (its Python type name).
    NotAnObject {
        /// Python's name of the type found (`list`, `str`, ...).
        #[serde(deserialize_with = "python_type_name")]
        type_name: Word,
    },
    /// The signature is not hex (the reference's words for why).
    BadSignatureHex(#[serde(deserialize_with = "hex_error")] Word),
    /// The object could not be read (an I/O or transport failure, an unusable metadata
    /// sidecar): nothing about it can be verified. Only the audit reports this; for
    /// `validate-logs` such a failure is fatal, as in the reference.
    Unreadable(String),
    /// No public key is known around a backfill digest's generation time.
    NoPublicKeys {
        /// Start of the window looked up, display format.
        start: String,
        /// End of the window looked up, display format.
        end: String,
    },
}

/// One of a fixed set of words (Python's type names, the reference's reasons). Named so
/// that serde reads it through the functions below instead of borrowing it from the
/// input, which a `'static` string could not be.
type Word = &'static str;

/// Reads back one of the fixed words a verdict holds by reference: a word outside
/// `words` was not written by this crate.
fn one_of<'de, D: Deserializer<'de>>(d: D, words: &[&'static str]) -> Result<&'static str, D::Error> {
    let text = String::deserialize(d)?;
    words
        .iter()
        .find(|w| **w == text)
        .copied()
        .ok_or_else(|| serde::de::Error::custom(format!("unknown word {text:?}")))
}

fn python_type_name<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    one_of(d, &crate::check::python::TYPE_NAMES)
}

fn hex_error<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    one_of(d, &crate::verify::HEX_ERRORS)
}

impl From<DigestParseError> for DigestVerdict {
    fn from(e: DigestParseError) -> Self {
        match e {
            DigestParseError::TooLarge => DigestVerdict::Refused(format!(
                "invalid format: inflates to more than {} bytes (a gzip bomb?); not loaded",
                crate::gzip::MAX_INFLATED_DIGEST
            )),
            DigestParseError::TooManyValues => DigestVerdict::Refused(format!(
                "invalid format: decoding its JSON would take more than {} bytes of memory; not loaded",
                crate::digest::MAX_DECODED_DIGEST
            )),
            DigestParseError::NotGzip | DigestParseError::NotJson => DigestVerdict::InvalidFormat,
        }
    }
}

impl fmt::Display for DigestVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestVerdict::NotFound => f.write_str("not found"),
            DigestVerdict::InvalidFormat => f.write_str("invalid format"),
            DigestVerdict::SignatureFailed { .. } => f.write_str("signature verification failed"),
            DigestVerdict::Moved => f.write_str("has been moved from its original location"),
            DigestVerdict::UnknownFingerprint { region, fingerprint } => {
                write!(
                    f,
                    "public key not found in region {region} for fingerprint {fingerprint}"
                )
            }
            DigestVerdict::KeyNotLoadable { fingerprint } => {
                write!(f, "Unable to load PKCS #1 key with fingerprint {fingerprint}")
            }
            DigestVerdict::Refused(why) => f.write_str(why),
            DigestVerdict::UnparseableDate(text) => write!(f, "Unable to parse date value: {text}"),
            DigestVerdict::DateNotAString { type_name } => {
                write!(f, "Parser must be a string or character stream, not {type_name}")
            }
            DigestVerdict::NotAnObject { type_name: "list" } => {
                f.write_str("list indices must be integers or slices, not str")
            }
            DigestVerdict::NotAnObject { type_name } => {
                write!(f, "'{type_name}' object does not support item assignment")
            }
            DigestVerdict::BadSignatureHex(why) => f.write_str(why),
            DigestVerdict::Unreadable(why) => write!(f, "unreadable: {why}"),
            DigestVerdict::NoPublicKeys { start, end } => {
                write!(f, "No public keys found between {start} and {end}")
            }
        }
    }
}

/// A log file's verdict. `Display` gives the status text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LogVerdict {
    /// Inflates to bytes whose SHA-256 is the recorded value.
    Valid,
    /// Stored already decompressed, and its bytes hash to the recorded value.
    ValidStoredDecompressed,
    /// No object at the key.
    NotFound,
    /// Not gzip, or corrupt.
    InvalidFormat,
    /// The inflated bytes hash to something else (a truncated gzip lands here too).
    HashMismatch,
    /// Bytes follow the end of the first gzip member.
    TrailingData,
    /// The key cannot be read safely (it would leave the mirror root).
    Refused(String),
    /// The object could not be read (an I/O or transport failure): its content cannot be
    /// verified. Only the audit reports this; for `validate-logs` it is fatal.
    Unreadable(String),
    /// The object is archived and not restored, so it could not be read: not invalid,
    /// not yet verified. Only the audit reports this; for `validate-logs` it is fatal.
    Archived(ArchiveClass),
}

impl LogVerdict {
    /// Whether the log counts as valid.
    pub fn is_valid(&self) -> bool {
        matches!(self, LogVerdict::Valid | LogVerdict::ValidStoredDecompressed)
    }
}

impl fmt::Display for LogVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogVerdict::Valid => f.write_str("valid"),
            LogVerdict::ValidStoredDecompressed => {
                f.write_str("valid (stored decompressed; its bytes hash to the recorded value)")
            }
            LogVerdict::NotFound => f.write_str("INVALID: not found"),
            LogVerdict::InvalidFormat => f.write_str("INVALID: invalid format"),
            LogVerdict::HashMismatch => f.write_str("INVALID: hash value doesn't match"),
            LogVerdict::TrailingData => {
                f.write_str("INVALID: unexpected data after end of compressed stream")
            }
            LogVerdict::Refused(why) => write!(f, "INVALID: {why}"),
            LogVerdict::Unreadable(why) => write!(f, "INVALID: unreadable: {why}"),
            LogVerdict::Archived(class) => write!(f, "ARCHIVED: in {class}, not restored"),
        }
    }
}

/// One thing a run found, in the order the reference reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A digest whose signature verified.
    DigestValid {
        /// Standard or backfill.
        pass: Pass,
        /// Where it was read.
        bucket: String,
        /// Where it was read.
        key: String,
        /// `digestStartTime`.
        start: DateTime<Utc>,
        /// `digestEndTime`.
        end: DateTime<Utc>,
        /// Fingerprint of the key that verified it.
        fingerprint: String,
        /// Where its signature came from.
        signature: SignatureSource,
    },
    /// A digest that is missing or failed a check.
    DigestInvalid {
        /// Standard or backfill.
        pass: Pass,
        /// Where it was expected.
        bucket: String,
        /// Where it was expected.
        key: String,
        /// What is wrong.
        verdict: DigestVerdict,
    },
    /// A chain restarts (a starting digest) while older digests exist: a gap in coverage.
    Gap {
        /// Standard or backfill.
        pass: Pass,
        /// Stamp of the older digest found next (its end time).
        from: DateTime<Utc>,
        /// Start of the digest whose chain restarted.
        to: DateTime<Utc>,
    },
    /// A log file named by a valid digest.
    Log {
        /// Bucket the digest names.
        bucket: String,
        /// Key the digest names.
        key: String,
        /// What was found.
        verdict: LogVerdict,
    },
}

/// Totals of a run, and the span the valid digests cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Valid standard digests.
    pub valid_digests: usize,
    /// Invalid or missing standard digests.
    pub invalid_digests: usize,
    /// Valid backfill digests.
    pub valid_backfill_digests: usize,
    /// Invalid or missing backfill digests.
    pub invalid_backfill_digests: usize,
    /// Valid log files.
    pub valid_logs: usize,
    /// Invalid or missing log files.
    pub invalid_logs: usize,
    /// Earliest `max(digestStartTime, window start)` over valid digests.
    pub found_start: Option<DateTime<Utc>>,
    /// Latest `min(digestEndTime, window end)` over valid digests.
    pub found_end: Option<DateTime<Utc>>,
    /// Digests for which no signature was found anywhere.
    pub unsigned_digests: usize,
    /// Digests whose signature came from stored metadata (service, sidecar or xattrs).
    pub digests_with_stored_signature: usize,
}

impl Summary {
    /// True when any digest or log is invalid or missing (the reference exits 1).
    pub fn has_failures(&self) -> bool {
        self.invalid_digests + self.invalid_backfill_digests + self.invalid_logs > 0
    }

    /// Counts an event.
    pub fn record(&mut self, event: &Event, window: (DateTime<Utc>, DateTime<Utc>)) {
        match event {
            Event::DigestValid {
                pass,
                start,
                end,
                signature,
                ..
            } => {
                match pass {
                    Pass::Standard => self.valid_digests += 1,
                    Pass::Backfill => self.valid_backfill_digests += 1,
                }
                if matches!(signature, SignatureSource::Metadata(_)) {
                    self.digests_with_stored_signature += 1;
                }
                let from = (*start).max(window.0);
                let to = (*end).min(window.1);
                self.found_start = Some(self.found_start.map_or(from, |f| f.min(from)));
                self.found_end = Some(self.found_end.map_or(to, |f| f.max(to)));
            }
            Event::DigestInvalid { pass, verdict, .. } => {
                match pass {
                    Pass::Standard => self.invalid_digests += 1,
                    Pass::Backfill => self.invalid_backfill_digests += 1,
                }
                if matches!(verdict, DigestVerdict::SignatureFailed { no_signature: true }) {
                    self.unsigned_digests += 1;
                }
            }
            Event::Gap { .. } => {}
            Event::Log { verdict, .. } => {
                if verdict.is_valid() {
                    self.valid_logs += 1;
                } else {
                    self.invalid_logs += 1;
                }
            }
        }
    }
}
