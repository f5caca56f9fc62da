//! Where objects come from. One narrow trait, several backends; the traversal never
//! knows which one it reads.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

mod local;

pub use local::{parse_metadata_sidecar, LocalDir, TrailLocation};

/// Why an object could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceErrorKind {
    /// No such object (S3 `NoSuchKey`). A verdict, not a fatal error.
    NotFound,
    /// No such bucket.
    NoSuchBucket,
    /// The key cannot be mapped safely (for the local backend: it would leave the root).
    UnsafeKey,
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

    /// The whole object with its user metadata.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError>;

    /// A reader over the object's bytes, for objects too large to hold.
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError>;

    /// The distinct folder names directly under `prefix` (empty, or ending with `/`),
    /// sorted: what S3 `ListObjectsV2` with delimiter `/` returns as common prefixes,
    /// without `prefix` and the trailing `/`. Used to discover trails. The default lists
    /// every key under `prefix`; sources that can ask for folders directly should.
    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut folders: Vec<String> = self
            .list(bucket, prefix, "")?
            .iter()
            .filter_map(|k| {
                k.strip_prefix(prefix)?
                    .split_once('/')
                    .map(|(f, _)| f.to_string())
            })
            .filter(|f| !f.is_empty())
            .collect();
        folders.dedup();
        Ok(folders)
    }
}
