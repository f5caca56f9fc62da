//! What tells one stored version of an object from another, without checking it: the
//! store's own word where the store keeps one (S3's size, ETag, last-modified time and
//! version id), else the stored bytes themselves (size and BLAKE3 hash, and the user
//! metadata beside them). A ledger compares identities to know what changed.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::{Metadata, SourceError, SourceErrorKind};
use crate::gzip::read_some;

/// One stored version of an object, as its source tells it apart from any other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Identity {
    /// What S3 keeps of an object and lists with it. Any write (a new body, new user
    /// metadata, a copy over itself) gives a new last-modified time, and a new version
    /// id where versioning is on.
    Stored {
        /// Size in bytes.
        size: u64,
        /// The ETag, without quotes.
        etag: Option<String>,
        /// Last-modified time, to the second (a listing gives milliseconds, a HEAD
        /// seconds: both are compared at seconds).
        last_modified: Option<DateTime<Utc>>,
        /// Version id, where versioning is on and the store said it (a HEAD does, a
        /// listing of current objects does not).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version_id: Option<String>,
    },
    /// The object's bytes, for a copy whose file times prove nothing (anyone who can
    /// write a file can set them): its size, the BLAKE3 hash of its bytes as stored (not
    /// inflated), and of its user metadata when it has any. BLAKE3 is a cryptographic
    /// hash (no one can make other bytes with the same hash) several times faster than
    /// SHA-256: a re-check of a copy reads every file, and hashes it at the speed of the
    /// read.
    Content {
        /// Size in bytes.
        size: u64,
        /// Hex BLAKE3 of the stored bytes.
        blake3: String,
        /// Hex BLAKE3 of the user metadata (names and values, sorted), when there is any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metadata_blake3: Option<String>,
    },
}

impl Identity {
    /// The identity S3 gives an object: size, ETag (quotes dropped), last-modified time
    /// (to the second) and version id.
    pub fn stored(
        size: u64,
        etag: Option<&str>,
        last_modified: Option<DateTime<Utc>>,
        version_id: Option<&str>,
    ) -> Identity {
        Identity::Stored {
            size,
            etag: etag.map(|e| e.trim_matches('"').to_string()),
            last_modified: last_modified.map(|t| t.trunc_subsecs(0)),
            version_id: version_id.map(str::to_string),
        }
    }

    /// The identity of the bytes `reader` gives and the metadata beside them.
    pub fn of_content(reader: impl Read, metadata: &Metadata) -> std::io::Result<Identity> {
        let (size, blake3) = hash_counting(reader)?;
        Ok(Identity::Content {
            size,
            blake3,
            metadata_blake3: metadata_hash(&metadata.entries),
        })
    }

    /// Whether two identities name the same stored version: every field both give is
    /// equal (a version id counts only when both name one: a listing does not).
    pub fn same_version(&self, other: &Identity) -> bool {
        match (self, other) {
            (
                Identity::Stored {
                    size,
                    etag,
                    last_modified,
                    version_id,
                },
                Identity::Stored {
                    size: size2,
                    etag: etag2,
                    last_modified: last_modified2,
                    version_id: version_id2,
                },
            ) => {
                let versions_agree = match (version_id, version_id2) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                (size, etag, last_modified) == (size2, etag2, last_modified2) && versions_agree
            }
            (a, b) => a == b,
        }
    }

    /// Whether this identity was taken from the bytes (and so may have to be taken again
    /// around a read, to be sure the bytes read are the bytes named).
    pub fn is_content(&self) -> bool {
        matches!(self, Identity::Content { .. })
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Identity::Stored { size, .. } | Identity::Content { size, .. } => *size,
        }
    }
}

/// The content identity of an object a source reads through `open`, `None` when it is
/// not there: what [`super::ObjectSource::identity`] falls back on.
pub(crate) fn content_identity(
    opened: Result<Box<dyn Read + Send>, SourceError>,
    metadata: &Metadata,
    bucket: &str,
    key: &str,
) -> Result<Option<Identity>, SourceError> {
    let reader = match opened {
        Ok(r) => r,
        Err(e) if e.kind == SourceErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Identity::of_content(reader, metadata).map(Some).map_err(|e| {
        SourceError::new(SourceErrorKind::Other, bucket, key, format!("read failed: {e}")).with_cause(e)
    })
}

/// Size and hex BLAKE3 of what `reader` gives, read in large blocks (BLAKE3 hashes
/// the 1 KiB chunks of a block side by side) through one buffer per thread.
fn hash_counting(mut reader: impl Read) -> std::io::Result<(u64, String)> {
    thread_local! {
        static BLOCK: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 256 * 1024]);
    }
    BLOCK.with_borrow_mut(|block| {
        let mut hash = blake3::Hasher::new();
        let mut size = 0u64;
        loop {
            let n = read_some(&mut reader, block)?;
            if n == 0 {
                return Ok((size, hash.finalize().to_hex().to_string()));
            }
            size += n as u64;
            hash.update(&block[..n]);
        }
    })
}

/// Names and values, each length-prefixed so no two maps hash alike.
fn metadata_hash(entries: &BTreeMap<String, String>) -> Option<String> {
    if entries.is_empty() {
        return None;
    }
    let mut hash = blake3::Hasher::new();
    for (name, value) in entries {
        for part in [name, value] {
            hash.update(&(part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
    }
    Some(hash.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_and_headed_identities_of_one_version_agree() {
        let listed = Identity::stored(
            10,
            Some("\"abc\""),
            Some("2026-03-01T10:00:00.250Z".parse().unwrap()),
            None,
        );
        let headed = Identity::stored(
            10,
            Some("abc"),
            Some("2026-03-01T10:00:00Z".parse().unwrap()),
            Some("v1"),
        );
        assert!(listed.same_version(&headed) && headed.same_version(&listed));
        let rewritten = Identity::stored(
            10,
            Some("abc"),
            Some("2026-03-01T10:00:01Z".parse().unwrap()),
            None,
        );
        assert!(!listed.same_version(&rewritten));
        let other_version = Identity::stored(
            10,
            Some("abc"),
            Some("2026-03-01T10:00:00Z".parse().unwrap()),
            Some("v2"),
        );
        assert!(!headed.same_version(&other_version));
    }

    #[test]
    fn content_identities_see_bytes_and_metadata() {
        let none = Metadata::default();
        let a = Identity::of_content(&b"abc"[..], &none).unwrap();
        assert!(a.same_version(&Identity::of_content(&b"abc"[..], &none).unwrap()));
        assert!(!a.same_version(&Identity::of_content(&b"abd"[..], &none).unwrap()));
        let signed = Metadata {
            entries: BTreeMap::from([("signature".to_string(), "00".to_string())]),
            origin: None,
        };
        let b = Identity::of_content(&b"abc"[..], &signed).unwrap();
        assert!(!a.same_version(&b), "new metadata is a new version");
        assert_eq!(a.size(), 3);
    }
}
