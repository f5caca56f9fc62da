//! Objects held in memory, answered as S3 answers: for tests, for tools that build a
//! trail before writing it anywhere, and for embedding programs that already hold the
//! objects.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{
    content_identity, too_large, Identity, Metadata, MetadataOrigin, Object, ObjectSource, SourceError,
    SourceErrorKind, MAX_KEY_BYTES, MAX_WHOLE_OBJECT,
};

/// One stored object. The bytes are shared, so that [`ObjectSource::open`] streams them
/// without a copy.
#[derive(Debug, Clone)]
struct Stored {
    body: Arc<[u8]>,
    metadata: BTreeMap<String, String>,
}

type Buckets = BTreeMap<String, BTreeMap<String, Stored>>;

/// An [`ObjectSource`] holding buckets of objects in memory, each with its bytes and
/// its S3 user metadata (found with origin [`MetadataOrigin::Service`], as S3's own).
///
/// It answers as S3 does: listings in S3 order (UTF-8 byte order), a missing object is
/// [`SourceErrorKind::NotFound`], a missing bucket [`SourceErrorKind::NoSuchBucket`], a
/// key longer than S3's 1024 bytes is refused, and [`ObjectSource::get`] refuses an
/// object larger than [`MAX_WHOLE_OBJECT`] as every source does. Objects can be added
/// and removed while the source is shared (`&self`).
///
/// ```
/// use cloudtrail_digest::{MemorySource, MetadataOrigin, ObjectSource, SourceErrorKind};
/// use std::collections::BTreeMap;
/// use std::io::Read;
///
/// let source = MemorySource::new();
/// source.create_bucket("trail-bucket");
/// let metadata = BTreeMap::from([("signature".to_string(), "00ff".to_string())]);
/// source.put_with_metadata("trail-bucket", "AWSLogs/111122223333/b", b"digest".to_vec(), metadata)?;
/// source.put("trail-bucket", "AWSLogs/111122223333/a", b"log".to_vec())?;
///
/// assert_eq!(
///     source.list("trail-bucket", "AWSLogs/", "")?,
///     ["AWSLogs/111122223333/a", "AWSLogs/111122223333/b"]
/// );
/// assert_eq!(source.list_folders("trail-bucket", "AWSLogs/")?, ["AWSLogs/111122223333/"]);
///
/// let digest = source.get("trail-bucket", "AWSLogs/111122223333/b")?;
/// assert_eq!(digest.body, b"digest");
/// assert_eq!(digest.metadata.entries["signature"], "00ff");
/// assert_eq!(digest.metadata.origin, Some(MetadataOrigin::Service));
///
/// let mut log = Vec::new();
/// source.open("trail-bucket", "AWSLogs/111122223333/a")?.read_to_end(&mut log)?;
/// assert_eq!(log, b"log");
///
/// let missing = source.get("trail-bucket", "AWSLogs/nothing").unwrap_err();
/// assert_eq!(missing.kind, SourceErrorKind::NotFound);
/// assert_eq!(source.list("other-bucket", "", "").unwrap_err().kind, SourceErrorKind::NoSuchBucket);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct MemorySource {
    buckets: RwLock<Buckets>,
}

impl MemorySource {
    /// A source without buckets.
    pub fn new() -> MemorySource {
        MemorySource::default()
    }

    /// Creates `bucket`, empty, unless it exists.
    pub fn create_bucket(&self, bucket: &str) {
        self.write().entry(bucket.to_string()).or_default();
    }

    /// The buckets, in order.
    pub fn buckets(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// Stores `body` under `s3://bucket/key` without user metadata, replacing any object
    /// there. Fails as S3 does for a bucket that does not exist and for a key that is
    /// empty or longer than 1024 bytes.
    pub fn put(&self, bucket: &str, key: &str, body: impl Into<Vec<u8>>) -> Result<(), SourceError> {
        self.put_with_metadata(bucket, key, body, BTreeMap::new())
    }

    /// Stores `body` with the user `metadata` (names without `x-amz-meta-`; S3 keeps
    /// them in lower case, and so does this) under `s3://bucket/key`, replacing any
    /// object there. Fails as [`MemorySource::put`] does.
    pub fn put_with_metadata(
        &self,
        bucket: &str,
        key: &str,
        body: impl Into<Vec<u8>>,
        metadata: BTreeMap<String, String>,
    ) -> Result<(), SourceError> {
        if key.is_empty() {
            return Err(SourceError::new(
                SourceErrorKind::Refused,
                bucket,
                key,
                "key refused: empty",
            ));
        }
        check_key(bucket, key)?;
        let stored = Stored {
            body: Arc::from(body.into()),
            metadata: metadata
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        };
        let mut buckets = self.write();
        let objects = buckets.get_mut(bucket).ok_or_else(|| no_bucket(bucket))?;
        objects.insert(key.to_string(), stored);
        Ok(())
    }

    /// Removes `s3://bucket/key`; whether there was such an object.
    pub fn remove(&self, bucket: &str, key: &str) -> bool {
        self.write()
            .get_mut(bucket)
            .is_some_and(|objects| objects.remove(key).is_some())
    }

    fn read(&self) -> RwLockReadGuard<'_, Buckets> {
        // Nothing panics while holding the lock in a way that leaves the map half-changed.
        self.buckets.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Buckets> {
        self.buckets.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored object, or why there is none.
    fn stored(&self, bucket: &str, key: &str) -> Result<Stored, SourceError> {
        check_key(bucket, key)?;
        let buckets = self.read();
        let objects = buckets.get(bucket).ok_or_else(|| no_bucket(bucket))?;
        objects.get(key).cloned().ok_or_else(|| {
            SourceError::new(
                SourceErrorKind::NotFound,
                bucket,
                key,
                "The specified key does not exist.",
            )
        })
    }
}

fn no_bucket(bucket: &str) -> SourceError {
    SourceError::new(
        SourceErrorKind::NoSuchBucket,
        bucket,
        "",
        "The specified bucket does not exist",
    )
}

/// Refuses keys no S3 object can have (longer than 1024 bytes), as the S3 source does.
fn check_key(bucket: &str, key: &str) -> Result<(), SourceError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(SourceError::new(
            SourceErrorKind::Refused,
            bucket,
            key,
            "key refused: longer than the 1024 bytes an S3 key can have",
        ));
    }
    Ok(())
}

impl ObjectSource for MemorySource {
    /// Every key: the listing is in memory, so `stop` is not needed.
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        _stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        let buckets = self.read();
        let objects = buckets.get(bucket).ok_or_else(|| no_bucket(bucket))?;
        // The first key wanted is the greater of the prefix itself and what follows
        // `start_after`; from there every key with the prefix is contiguous.
        let from = if start_after >= prefix {
            Bound::Excluded(start_after)
        } else {
            Bound::Included(prefix)
        };
        Ok(objects
            .range::<str, _>((from, Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let stored = self.stored(bucket, key)?;
        if stored.body.len() as u64 > MAX_WHOLE_OBJECT {
            return Err(too_large(bucket, key, stored.body.len() as u64));
        }
        let origin = (!stored.metadata.is_empty()).then_some(MetadataOrigin::Service);
        Ok(Object {
            body: stored.body.to_vec(),
            metadata: Metadata {
                entries: stored.metadata,
                origin,
            },
        })
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        Ok(Box::new(Cursor::new(self.stored(bucket, key)?.body)))
    }

    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        let stored = match self.stored(bucket, key) {
            Ok(stored) => stored,
            Err(e) if e.kind == SourceErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let metadata = Metadata {
            entries: stored.metadata,
            origin: None,
        };
        content_identity(Ok(Box::new(Cursor::new(stored.body))), &metadata, bucket, key)
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        match self.stored(bucket, key) {
            Ok(stored) => Ok(Some(stored.body.len() as u64)),
            Err(e) if e.kind == SourceErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_as_s3_would_take_them() {
        let m = MemorySource::new();
        assert_eq!(
            m.put("b", "k", b"x".to_vec()).unwrap_err().kind,
            SourceErrorKind::NoSuchBucket
        );
        m.create_bucket("b");
        assert_eq!(
            m.put("b", "", b"x".to_vec()).unwrap_err().kind,
            SourceErrorKind::Refused
        );
        assert_eq!(
            m.put("b", &"k".repeat(1025), b"x".to_vec()).unwrap_err().kind,
            SourceErrorKind::Refused
        );
        let meta = BTreeMap::from([("Signature".to_string(), "ab".to_string())]);
        m.put_with_metadata("b", "k", b"x".to_vec(), meta).unwrap();
        assert_eq!(m.get("b", "k").unwrap().metadata.entries["signature"], "ab");
        // Replaced, then removed, while shared.
        let shared: Arc<dyn ObjectSource> = Arc::new(m);
        let m2 = MemorySource::new();
        m2.create_bucket("b");
        m2.put("b", "k", b"first".to_vec()).unwrap();
        m2.put("b", "k", b"second".to_vec()).unwrap();
        assert_eq!(m2.get("b", "k").unwrap().body, b"second");
        assert!(m2.remove("b", "k"));
        assert!(!m2.remove("b", "k"));
        assert_eq!(m2.size("b", "k").unwrap(), None);
        assert_eq!(m2.buckets(), ["b"]);
        assert_eq!(shared.list("b", "", "").unwrap(), ["k"]);
    }
}
