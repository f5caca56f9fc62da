//! Where objects come from. One narrow trait, several backends; the traversal never
//! knows which one it reads.
//!
//! [`ObjectSource`] has one required listing method, [`ObjectSource::list_until`]; the
//! other listings ([`ObjectSource::list`], [`ObjectSource::list_folders`]) and
//! [`ObjectSource::size`] are provided on top of it and of [`ObjectSource::open`].
//! Backends: [`MemorySource`] (objects held in memory), [`LocalDir`] (a mirror on
//! disk), [`MappedSource`] (original bucket names read from elsewhere) and, with the
//! `s3` feature, `S3Source`.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

mod identity;
mod lazy;
mod local;
mod mapped;
mod memory;
#[cfg(test)]
pub(crate) mod recorder;
#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "s3")]
mod s3_upload;

pub(crate) use identity::content_identity;
pub use identity::Identity;
pub use lazy::LazySource;
pub(crate) use local::safe_relative;
pub use local::{parse_metadata_sidecar, LocalDir, SidecarError, SIDECAR_SUFFIX};
pub use mapped::{BucketMap, MapTarget, MappedSource};
pub use memory::MemorySource;
#[cfg(feature = "s3")]
pub use s3::S3Source;
#[cfg(feature = "s3")]
pub use s3_upload::{S3Upload, PART_SIZE};

/// The most [`ObjectSource::get`] reads. Whole objects are digests and public keys,
/// a few megabytes at most; a larger one is refused before it is read, so a planted
/// giant cannot exhaust memory. (Log files are streamed through
/// [`ObjectSource::open`] and may have any size.)
pub const MAX_WHOLE_OBJECT: u64 = 64 * 1024 * 1024;

/// S3 keys are at most 1024 bytes of UTF-8; a longer one cannot name an object.
pub(crate) const MAX_KEY_BYTES: usize = 1024;

/// Why an object could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The object sits in an archive storage class (S3 Glacier Flexible Retrieval, Deep
    /// Archive, an Intelligent-Tiering archive tier) and is not restored: it cannot be
    /// read until someone restores it. The detail names the storage class, and
    /// [`SourceError::archive`] holds it as data.
    Archived,
    /// The source cannot do what was asked: a local copy or objects in memory have no
    /// archive to restore from ([`ObjectSource::restore`]).
    Unsupported,
    /// Anything else (permissions, I/O, transport).
    Other,
}

/// Where an archived object sits: its storage class (`GLACIER`, `DEEP_ARCHIVE`,
/// `INTELLIGENT_TIERING`) and, for Intelligent-Tiering, its archive access tier
/// (`ARCHIVE_ACCESS`, `DEEP_ARCHIVE_ACCESS`), as S3 names them when it refuses a read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct ArchiveClass {
    /// The storage class, when the store named it.
    pub storage_class: Option<String>,
    /// The Intelligent-Tiering archive access tier, when the store named one.
    pub access_tier: Option<String>,
}

impl ArchiveClass {
    /// Whether the object is in an Intelligent-Tiering archive tier: restoring it moves
    /// it back into the Frequent Access tier for good, so a restore names no days.
    pub fn is_intelligent_tiering(&self) -> bool {
        self.storage_class.as_deref() == Some("INTELLIGENT_TIERING")
    }
}

impl fmt::Display for ArchiveClass {
    /// `GLACIER`, `INTELLIGENT_TIERING (DEEP_ARCHIVE_ACCESS)`, or `an archive storage
    /// class` when the store did not say which.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            self.storage_class
                .as_deref()
                .unwrap_or("an archive storage class"),
        )?;
        match &self.access_tier {
            Some(tier) => write!(f, " ({tier})"),
            None => Ok(()),
        }
    }
}

/// How fast (and at what price) an archived object is restored: S3's retrieval tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RestoreTier {
    /// The cheapest and slowest (hours; up to 48 from Deep Archive).
    Bulk,
    /// S3's default (hours; up to 12 from Deep Archive).
    #[default]
    Standard,
    /// Minutes; not offered for Deep Archive.
    Expedited,
}

impl RestoreTier {
    /// The tier as S3 spells it (`Bulk`, `Standard`, `Expedited`).
    pub fn as_str(self) -> &'static str {
        match self {
            RestoreTier::Bulk => "Bulk",
            RestoreTier::Standard => "Standard",
            RestoreTier::Expedited => "Expedited",
        }
    }
}

/// A restore to ask for ([`ObjectSource::restore`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreRequest {
    /// Days the restored copy of a Glacier object stays readable (Intelligent-Tiering
    /// archive tiers take none: their objects move back for good).
    pub days: u32,
    /// The retrieval tier.
    pub tier: RestoreTier,
}

/// What a restore request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreOutcome {
    /// The restore has started (S3 answered 202): the object is readable once it ends.
    Started,
    /// A restore of the object was already under way (S3 `RestoreAlreadyInProgress`).
    InProgress,
    /// The object is already restored, or no longer archived (S3 answered 200): read it
    /// again.
    Restored,
}

/// The error underneath a [`SourceError`], shared so that the error stays `Clone`.
type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// An error from an object source, naming the object.
///
/// Its [`std::error::Error::source`] is the failure underneath, when there is one (the
/// `std::io::Error` of a local file, the object store's or the HTTP client's error);
/// its text is already part of [`SourceError::detail`]. Equality compares kind, bucket,
/// key and detail, not the cause (nor the archive class, which the detail names).
#[derive(Debug, Clone)]
pub struct SourceError {
    /// What kind of failure.
    pub kind: SourceErrorKind,
    /// Bucket concerned.
    pub bucket: String,
    /// Key concerned (empty for bucket-level failures).
    pub key: String,
    /// Human-readable detail.
    pub detail: String,
    cause: Option<Cause>,
    /// Boxed: errors travel in `Result`s everywhere and should stay small.
    archive: Option<Box<ArchiveClass>>,
}

impl SourceError {
    /// Builds an error for `s3://bucket/key`.
    pub fn new(kind: SourceErrorKind, bucket: &str, key: &str, detail: impl Into<String>) -> Self {
        SourceError {
            kind,
            bucket: bucket.to_string(),
            key: key.to_string(),
            detail: detail.into(),
            cause: None,
            archive: None,
        }
    }

    /// The same error, saying where the object is archived (for
    /// [`SourceErrorKind::Archived`]).
    pub fn with_archive(mut self, archive: ArchiveClass) -> Self {
        self.archive = Some(Box::new(archive));
        self
    }

    /// Where the object is archived, when this error is about an archived object and the
    /// store said so.
    pub fn archive(&self) -> Option<&ArchiveClass> {
        self.archive.as_deref()
    }

    /// The same error, with `cause` as its [`std::error::Error::source`]. The detail is
    /// not changed: it should already say what the cause says.
    pub fn with_cause(mut self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.cause = Some(Arc::from(cause.into()));
        self
    }
}

impl PartialEq for SourceError {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, &self.bucket, &self.key, &self.detail)
            == (other.kind, &other.bucket, &other.key, &other.detail)
    }
}

impl Eq for SourceError {}

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

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Where an object's user metadata was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
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
///
/// A backend implements one listing, [`ObjectSource::list_until`], and the two reads,
/// [`ObjectSource::get`] and [`ObjectSource::open`]; [`ObjectSource::list`],
/// [`ObjectSource::list_folders`] and [`ObjectSource::size`] are provided on top of them
/// and may be overridden where the store answers them faster (S3 lists folders with a
/// delimiter and asks a size with HEAD). A source that wraps another forwards every
/// method, provided ones included, so that an override underneath is never lost.
pub trait ObjectSource: Send + Sync {
    /// Keys of `bucket` that start with `prefix` and sort strictly after `start_after`,
    /// in S3 order (UTF-8 byte order), but a store that fetches the listing in pages may
    /// stop after the page holding the first key for which `stop` holds: the keys up to
    /// and including that one are always returned, and what is returned is always the
    /// start of the full listing, in order. A store that does not page returns
    /// everything, as [`ObjectSource::list`] does. `prefix` need not end with `/`.
    ///
    /// This is the one listing a backend must implement.
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError>;

    /// Keys of `bucket` that start with `prefix` and sort strictly after `start_after`,
    /// in S3 order (UTF-8 byte order): all of them. The default is
    /// [`ObjectSource::list_until`] with a `stop` that never holds.
    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        self.list_until(bucket, prefix, start_after, &|_| false)
    }

    /// The whole object with its user metadata. Objects larger than
    /// [`MAX_WHOLE_OBJECT`] are refused ([`SourceErrorKind::Refused`]) unread.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError>;

    /// A reader over the object's bytes, for objects too large to hold.
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError>;

    /// A reader over the bytes `range` of the object (fewer where the object ends
    /// first). The default reads from the start and skips what lies before the range;
    /// stores that can ask for a range (S3) should.
    fn open_range(
        &self,
        bucket: &str,
        key: &str,
        range: Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        let mut reader = self.open(bucket, key)?;
        std::io::copy(&mut (&mut reader).take(range.start), &mut std::io::sink()).map_err(|e| {
            SourceError::new(SourceErrorKind::Other, bucket, key, e.to_string()).with_cause(e)
        })?;
        Ok(Box::new(reader.take(range.end.saturating_sub(range.start))))
    }

    /// The object's size in bytes, or `None` when it does not exist. The default reads
    /// the whole object; stores that can ask for the size alone should.
    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        match self.open(bucket, key) {
            Ok(mut r) => {
                let n = std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| {
                    SourceError::new(SourceErrorKind::Other, bucket, key, e.to_string()).with_cause(e)
                })?;
                Ok(Some(n))
            }
            Err(e) if e.kind == SourceErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The object's identity as stored now, `None` when there is no such object: what a
    /// ledger compares to know whether it changed since it was verified. The default
    /// reads the bytes [`ObjectSource::open`] gives and hashes them (see
    /// [`Identity::Content`]); a store that keeps its own word for a version (S3) gives
    /// that, from its listing when the object was listed.
    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        content_identity(self.open(bucket, key), &Metadata::default(), bucket, key)
    }

    /// The object's identity when this source knows it without asking the store or
    /// reading the object (S3: from a listing it made), else `None`. A run with a ledger
    /// counts with it how many objects it will have to read.
    fn known_identity(&self, _bucket: &str, _key: &str) -> Option<Identity> {
        None
    }

    /// Whether a listing of `bucket` costs a request a page of keys (S3) rather than a
    /// walk of every folder under the prefix (a local copy). Where it does, a caller that
    /// wants many neighbouring folders lists their parent once, from the first to the
    /// last, instead of each folder alone. The default: it does not.
    fn listing_is_paged(&self, _bucket: &str) -> bool {
        false
    }

    /// The "folders" directly under `prefix` (which should end with `/`): every distinct
    /// `prefix + SEGMENT + "/"` that starts some key, in S3 order, as S3 lists common
    /// prefixes with the delimiter `/`. The default derives them from
    /// [`ObjectSource::list`].
    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        Ok(folders_of(&self.list(bucket, prefix, "")?, prefix))
    }

    /// Asks the store to restore an archived object (S3 `RestoreObject`), once; it does
    /// not wait for the restore. `archive` is where the object sits, as the failed read
    /// said ([`SourceError::archive`]): Intelligent-Tiering archive tiers are restored
    /// without days. The default refuses with [`SourceErrorKind::Unsupported`]: a local
    /// copy or objects in memory have nothing to restore from.
    fn restore(
        &self,
        bucket: &str,
        key: &str,
        archive: &ArchiveClass,
        request: &RestoreRequest,
    ) -> Result<RestoreOutcome, SourceError> {
        let _ = (archive, request);
        Err(SourceError::new(
            SourceErrorKind::Unsupported,
            bucket,
            key,
            "this source cannot restore archived objects (only S3 can)",
        ))
    }
}

/// The distinct folders directly under `prefix` that start the keys `keys` (sorted, each
/// starting with `prefix`), in order.
pub(crate) fn folders_of(keys: &[String], prefix: &str) -> Vec<String> {
    let mut folders: Vec<String> = Vec::new();
    for key in keys {
        if let Some(i) = key[prefix.len()..].find('/') {
            let folder = &key[..prefix.len() + i + 1];
            if folders.last().map(String::as_str) != Some(folder) {
                folders.push(folder.to_string());
            }
        }
    }
    folders
}
