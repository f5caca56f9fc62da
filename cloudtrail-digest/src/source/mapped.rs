//! Reading buckets from somewhere else: a replica bucket, a log-archive account's bucket,
//! a prefix of another bucket, or a local directory, while every name stays the
//! ORIGINAL one. Digests record the bucket and key they were written to; reading the
//! original name through the mapping lets the validator's "moved" check pass for a
//! faithful copy, and reports name the original objects, as CloudTrail wrote them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::{
    ArchiveClass, Identity, LocalDir, Object, ObjectSource, RestoreOutcome, RestoreRequest, SourceError,
};

/// Where one original bucket is read from.
#[derive(Clone)]
pub struct MapTarget {
    /// The store holding the copy.
    pub source: Arc<dyn ObjectSource>,
    /// The bucket of the copy in that store.
    pub bucket: String,
    /// Prepended to every key (empty, or ending with `/`).
    pub prefix: String,
}

impl std::fmt::Debug for MapTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapTarget")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl MapTarget {
    /// A bucket (and key prefix, with or without its trailing `/`) of `source`.
    pub fn bucket(source: Arc<dyn ObjectSource>, bucket: &str, prefix: &str) -> MapTarget {
        let prefix = prefix.trim_matches('/');
        MapTarget {
            source,
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
        }
    }

    /// A local directory holding the bucket's objects: `s3://ORIGINAL/KEY` is `DIR/KEY`
    /// (with `KEY.metadata.json` sidecars, as in a mirror). Nothing outside `DIR` is ever
    /// read: every file is opened through a handle on `DIR` itself.
    pub fn directory(dir: &Path) -> std::io::Result<MapTarget> {
        let dir = std::fs::canonicalize(dir)?;
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a directory that can hold a bucket",
            ));
        };
        if !dir.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a directory",
            ));
        }
        Ok(MapTarget {
            source: Arc::new(LocalDir::one_bucket(&dir, name)?),
            bucket: name.to_string(),
            prefix: String::new(),
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Original bucket name → where it is read from.
pub type BucketMap = BTreeMap<String, MapTarget>;

/// An [`ObjectSource`] that reads mapped buckets from their targets and every other
/// bucket from a default source (if any), always under the original names.
pub struct MappedSource {
    default: Option<Arc<dyn ObjectSource>>,
    map: BucketMap,
}

impl MappedSource {
    /// Mapped buckets from `map`, the others from `default` (or no such bucket).
    pub fn new(default: Option<Arc<dyn ObjectSource>>, map: BucketMap) -> MappedSource {
        MappedSource { default, map }
    }

    /// The mapping.
    pub fn map(&self) -> &BucketMap {
        &self.map
    }

    fn route<'a>(&'a self, bucket: &'a str) -> Result<Route<'a>, SourceError> {
        match (self.map.get(bucket), &self.default) {
            (Some(t), _) => Ok(Route::Mapped(t)),
            (None, Some(d)) => Ok(Route::Direct(d.as_ref(), bucket)),
            (None, None) => Err(SourceError::new(
                super::SourceErrorKind::NoSuchBucket,
                bucket,
                "",
                "no --bucket-map for this bucket",
            )),
        }
    }
}

enum Route<'a> {
    Mapped(&'a MapTarget),
    Direct(&'a dyn ObjectSource, &'a str),
}

impl MapTarget {
    /// Puts the original names back into an error, saying where it was read.
    fn original(&self, mut e: SourceError, bucket: &str, key: &str) -> SourceError {
        e.detail = format!("{} (read from {}{key})", e.detail, self.describe());
        e.bucket = bucket.to_string();
        e.key = key.to_string();
        e
    }
}

impl MappedSource {
    /// A listing of `bucket` under `prefix` after `start_after`, through `list` (one of
    /// the target's listing methods, given the target bucket, prefix, start-after and a
    /// stop test on target keys) with the original names put back.
    fn listing(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Vec<String>, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => match stop {
                Some(stop) => s.list_until(b, prefix, start_after, stop),
                None => s.list(b, prefix, start_after),
            },
            Route::Mapped(t) => {
                let after = if start_after.is_empty() {
                    String::new()
                } else {
                    format!("{}{start_after}", t.prefix)
                };
                let inner_prefix = format!("{}{prefix}", t.prefix);
                let keys = match stop {
                    Some(stop) => t.source.list_until(&t.bucket, &inner_prefix, &after, &|k| {
                        k.strip_prefix(&t.prefix).is_some_and(stop)
                    }),
                    None => t.source.list(&t.bucket, &inner_prefix, &after),
                }
                .map_err(|e| t.original(e, bucket, prefix))?;
                Ok(keys
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(&t.prefix).map(str::to_string))
                    .collect())
            }
        }
    }
}

/// Every method is forwarded to the same method of the source below, so what a backend
/// answers itself (S3's delimiter listing, its HEAD for a size) is used through a map.
impl ObjectSource for MappedSource {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.listing(bucket, prefix, start_after, Some(stop))
    }

    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        self.listing(bucket, prefix, start_after, None)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => s.get(b, key),
            Route::Mapped(t) => t
                .source
                .get(&t.bucket, &format!("{}{key}", t.prefix))
                .map_err(|e| t.original(e, bucket, key)),
        }
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => s.open(b, key),
            Route::Mapped(t) => t
                .source
                .open(&t.bucket, &format!("{}{key}", t.prefix))
                .map_err(|e| t.original(e, bucket, key)),
        }
    }

    fn open_range(
        &self,
        bucket: &str,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => s.open_range(b, key, range),
            Route::Mapped(t) => t
                .source
                .open_range(&t.bucket, &format!("{}{key}", t.prefix), range)
                .map_err(|e| t.original(e, bucket, key)),
        }
    }

    fn listing_is_paged(&self, bucket: &str) -> bool {
        match self.route(bucket) {
            Ok(Route::Direct(s, b)) => s.listing_is_paged(b),
            Ok(Route::Mapped(t)) => t.source.listing_is_paged(&t.bucket),
            Err(_) => false,
        }
    }

    fn known_identity(&self, bucket: &str, key: &str) -> Option<Identity> {
        match self.route(bucket).ok()? {
            Route::Direct(s, b) => s.known_identity(b, key),
            Route::Mapped(t) => t.source.known_identity(&t.bucket, &format!("{}{key}", t.prefix)),
        }
    }

    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => s.identity(b, key),
            Route::Mapped(t) => t
                .source
                .identity(&t.bucket, &format!("{}{key}", t.prefix))
                .map_err(|e| t.original(e, bucket, key)),
        }
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => s.size(b, key),
            Route::Mapped(t) => t
                .source
                .size(&t.bucket, &format!("{}{key}", t.prefix))
                .map_err(|e| t.original(e, bucket, key)),
        }
    }

    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => s.list_folders(b, prefix),
            Route::Mapped(t) => {
                let folders = t
                    .source
                    .list_folders(&t.bucket, &format!("{}{prefix}", t.prefix))
                    .map_err(|e| t.original(e, bucket, prefix))?;
                Ok(folders
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(&t.prefix).map(str::to_string))
                    .collect())
            }
        }
    }

    fn restore(
        &self,
        bucket: &str,
        key: &str,
        archive: &ArchiveClass,
        request: &RestoreRequest,
    ) -> Result<RestoreOutcome, SourceError> {
        match self.route(bucket)? {
            Route::Direct(s, b) => s.restore(b, key, archive, request),
            Route::Mapped(t) => t
                .source
                .restore(&t.bucket, &format!("{}{key}", t.prefix), archive, request)
                .map_err(|e| t.original(e, bucket, key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::recorder::Recorder;
    use crate::source::SourceErrorKind;
    use std::fs;

    #[test]
    fn forwards_every_method_to_the_same_method_below() {
        let below = Arc::new(Recorder::default());
        let mut map = BucketMap::new();
        map.insert(
            "orig".into(),
            MapTarget::bucket(Arc::clone(&below) as Arc<dyn ObjectSource>, "copy", "pre"),
        );
        let src = MappedSource::new(Some(Arc::clone(&below) as Arc<dyn ObjectSource>), map);
        // Through the mapping and straight to the default source alike.
        for bucket in ["orig", "direct"] {
            assert_eq!(src.list(bucket, "a/", "").unwrap(), vec!["a/k"]);
            assert_eq!(below.take(), ["list"], "{bucket}");
            assert_eq!(src.list_until(bucket, "a/", "", &|_| true).unwrap(), vec!["a/k"]);
            assert_eq!(below.take(), ["list_until"], "{bucket}");
            assert_eq!(src.list_folders(bucket, "a/").unwrap(), vec!["a/f/"]);
            assert_eq!(below.take(), ["list_folders"], "{bucket}");
            assert_eq!(src.size(bucket, "k").unwrap(), Some(7));
            assert_eq!(below.take(), ["size"], "{bucket}");
            assert_eq!(src.identity(bucket, "k").unwrap().map(|i| i.size()), Some(7));
            assert_eq!(below.take(), ["identity"], "{bucket}");
            assert_eq!(src.known_identity(bucket, "k").map(|i| i.size()), Some(7));
            assert_eq!(below.take(), ["known_identity"], "{bucket}");
            assert!(src.listing_is_paged(bucket));
            assert_eq!(below.take(), ["listing_is_paged"], "{bucket}");
            src.get(bucket, "k").unwrap();
            assert_eq!(below.take(), ["get"], "{bucket}");
            src.open(bucket, "k").unwrap();
            assert_eq!(below.take(), ["open"], "{bucket}");
            let glacier = ArchiveClass {
                storage_class: Some("GLACIER".into()),
                access_tier: None,
            };
            let request = RestoreRequest {
                days: 1,
                tier: crate::source::RestoreTier::Bulk,
            };
            assert_eq!(
                src.restore(bucket, "k", &glacier, &request).unwrap(),
                RestoreOutcome::Started
            );
            assert_eq!(below.take(), ["restore"], "{bucket}");
        }
    }

    #[test]
    fn reads_original_names_from_a_prefix_of_another_bucket_and_a_directory() {
        let root = std::env::temp_dir().join(format!("ctd-mapped-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("replica/copies/AWSLogs/1")).unwrap();
        fs::create_dir_all(root.join("dircopy/AWSLogs/1")).unwrap();
        fs::create_dir_all(root.join("plain/x")).unwrap();
        for (f, body) in [
            ("replica/copies/AWSLogs/1/a", "A"),
            ("replica/copies/AWSLogs/1/b", "B"),
            ("replica/other", "O"),
            ("dircopy/AWSLogs/1/c", "C"),
            ("plain/x/p", "P"),
        ] {
            fs::write(root.join(f), body).unwrap();
        }
        let local: Arc<dyn ObjectSource> = Arc::new(LocalDir::new(&root).unwrap());
        let mut map = BucketMap::new();
        map.insert(
            "orig".into(),
            MapTarget::bucket(Arc::clone(&local), "replica", "/copies/"),
        );
        map.insert(
            "orig2".into(),
            MapTarget::directory(&root.join("dircopy")).unwrap(),
        );
        let src = MappedSource::new(Some(local), map);
        assert_eq!(
            src.list("orig", "AWSLogs/", "AWSLogs/1/a").unwrap(),
            vec!["AWSLogs/1/b"]
        );
        assert_eq!(
            src.list("orig", "", "").unwrap(),
            vec!["AWSLogs/1/a", "AWSLogs/1/b"]
        );
        assert_eq!(src.list_folders("orig", "AWSLogs/").unwrap(), vec!["AWSLogs/1/"]);
        assert_eq!(src.get("orig", "AWSLogs/1/a").unwrap().body, b"A");
        assert_eq!(src.size("orig2", "AWSLogs/1/c").unwrap(), Some(1));
        assert_eq!(src.get("plain", "x/p").unwrap().body, b"P");
        let err = src.get("orig", "AWSLogs/1/zz").unwrap_err();
        assert_eq!(
            (err.kind, err.bucket.as_str(), err.key.as_str()),
            (SourceErrorKind::NotFound, "orig", "AWSLogs/1/zz")
        );
        assert!(
            err.detail.contains("read from s3://replica/copies/AWSLogs/1/zz"),
            "{err}"
        );
        let unmapped = MappedSource::new(None, BucketMap::new());
        assert_eq!(
            unmapped.list("x", "", "").unwrap_err().kind,
            SourceErrorKind::NoSuchBucket
        );
        fs::remove_dir_all(&root).unwrap();
    }
}
