//! Where objects come from. One narrow trait, several backends; the traversal never
//! knows which one it reads.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

mod local;
mod mapped;
#[cfg(feature = "s3")]
mod s3;

pub(crate) use local::safe_relative;
pub use local::{parse_metadata_sidecar, LocalDir, SIDECAR_SUFFIX};
pub use mapped::{BucketMap, MapTarget, MappedSource};
#[cfg(feature = "s3")]
pub use s3::S3Source;

/// The most [`ObjectSource::get`] reads. Whole objects are digests and public keys,
/// a few megabytes at most; a larger one is refused before it is read, so a planted
/// giant cannot exhaust memory. (Log files are streamed through
/// [`ObjectSource::open`] and may have any size.)
pub const MAX_WHOLE_OBJECT: u64 = 64 * 1024 * 1024;

/// S3 keys are at most 1024 bytes of UTF-8; a longer one cannot name an object.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Why an object could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceErrorKind {
    /// No such object (S3 `NoSuchKey`). A verdict, not a fatal error.
    NotFound,
    /// No such bucket.
    NoSuchBucket,
    /// The object is not read because reading it would be unsafe: its key would leave
    /// the local root, it is not a regular file (a FIFO would block), or it is larger
    /// than [`MAX_WHOLE_OBJECT`] where the whole object was asked for. A verdict, not a
    /// fatal error.
    Refused,
    /// Anything else (permissions, I/O, transport).
    Other,
}

/// An error from an object source, naming the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// What kind of failure.
    pub kind: SourceErrorKind,
    /// Bucket concerned.
    pub bucket: String,
    /// Key concerned (empty for bucket-level failures).
    pub key: String,
    /// Human-readable detail.
    pub detail: String,
}

impl SourceError {
    /// Builds an error for `s3://bucket/key`.
    pub fn new(kind: SourceErrorKind, bucket: &str, key: &str, detail: impl Into<String>) -> Self {
        SourceError {
            kind,
            bucket: bucket.to_string(),
            key: key.to_string(),
            detail: detail.into(),
        }
    }
}

/// The refusal of an object larger than [`MAX_WHOLE_OBJECT`].
pub(crate) fn too_large(bucket: &str, key: &str, size: u64) -> SourceError {
    SourceError::new(
        SourceErrorKind::Refused,
        bucket,
        key,
        format!(
            "refused: the object holds {size} bytes, more than the {MAX_WHOLE_OBJECT} a digest can take; not read"
        ),
    )
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "bucket {}: {}", self.bucket, self.detail)
        } else {
            write!(f, "s3://{}/{}: {}", self.bucket, self.key, self.detail)
        }
    }
}

impl std::error::Error for SourceError {}

/// Where an object's user metadata was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataOrigin {
    /// The object store itself (S3 `x-amz-meta-*` headers).
    Service,
    /// A `KEY.metadata.json` file beside the object.
    Sidecar,
    /// `user.*` extended attributes on the file (as `rclone copy --metadata` writes them).
    Xattr,
}

/// An object's S3 user metadata (names without the `x-amz-meta-` prefix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Metadata entries.
    pub entries: BTreeMap<String, String>,
    /// Where they came from; `None` when the object has none.
    pub origin: Option<MetadataOrigin>,
}

/// A whole object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    /// Bytes exactly as stored.
    pub body: Vec<u8>,
    /// User metadata.
    pub metadata: Metadata,
}

/// A store of objects addressed by bucket and key, as S3 addresses them.
pub trait ObjectSource: Send + Sync {
    /// Keys of `bucket` that start with `prefix` and sort strictly after `start_after`,
    /// in S3 order (UTF-8 byte order).
    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError>;

    /// Like [`ObjectSource::list`], but a store that fetches the listing in pages may
    /// stop after the page holding the first key for which `stop` holds (the keys up to
    /// and including that one are always returned). The default lists everything.
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        let _ = stop;
        self.list(bucket, prefix, start_after)
    }

    /// The whole object with its user metadata. Objects larger than
    /// [`MAX_WHOLE_OBJECT`] are refused ([`SourceErrorKind::Refused`]) unread.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError>;

    /// A reader over the object's bytes, for objects too large to hold.
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError>;

    /// The object's size in bytes, or `None` when it does not exist. The default reads
    /// the whole object; stores that can ask for the size alone should.
    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        match self.open(bucket, key) {
            Ok(mut r) => {
                let n = std::io::copy(&mut r, &mut std::io::sink())
                    .map_err(|e| SourceError::new(SourceErrorKind::Other, bucket, key, e.to_string()))?;
                Ok(Some(n))
            }
            Err(e) if e.kind == SourceErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The "folders" directly under `prefix` (which should end with `/`): every distinct
    /// `prefix + SEGMENT + "/"` that starts some key, in S3 order, as S3 lists common
    /// prefixes with the delimiter `/`. The default derives them from a full listing.
    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut folders: Vec<String> = Vec::new();
        for key in self.list(bucket, prefix, "")? {
            if let Some(i) = key[prefix.len()..].find('/') {
                let folder = &key[..prefix.len() + i + 1];
                if folders.last().map(String::as_str) != Some(folder) {
                    folders.push(folder.to_string());
                }
            }
        }
        Ok(folders)
    }
}
