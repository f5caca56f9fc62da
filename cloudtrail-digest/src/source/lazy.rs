//! A source set up on first use: a run that never reads from it never pays for it (an
//! S3 session that would look for AWS credentials, for a run whose buckets are all
//! mapped to directories).

use std::io::Read;
use std::sync::{Arc, OnceLock};

use super::{
    ArchiveClass, Identity, Object, ObjectSource, RestoreOutcome, RestoreRequest, SourceError,
    SourceErrorKind,
};

/// What sets the source up, and why it could not.
type Setup = Box<dyn Fn() -> Result<Arc<dyn ObjectSource>, String> + Send + Sync>;

/// An [`ObjectSource`] made by `setup` when it is first asked anything. If `setup` fails,
/// every call fails with its message (kind [`SourceErrorKind::Other`]), naming the bucket
/// and key asked for; it is not tried again.
pub struct LazySource {
    setup: Setup,
    made: OnceLock<Result<Arc<dyn ObjectSource>, String>>,
}

impl std::fmt::Debug for LazySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.made.get() {
            None => "not set up",
            Some(Ok(_)) => "set up",
            Some(Err(_)) => "failed",
        };
        f.debug_struct("LazySource").field("state", &state).finish()
    }
}

impl LazySource {
    /// A source that `setup` makes on first use.
    pub fn new(setup: impl Fn() -> Result<Arc<dyn ObjectSource>, String> + Send + Sync + 'static) -> Self {
        LazySource {
            setup: Box::new(setup),
            made: OnceLock::new(),
        }
    }

    fn inner(&self, bucket: &str, key: &str) -> Result<&dyn ObjectSource, SourceError> {
        match self.made.get_or_init(|| (self.setup)()) {
            Ok(source) => Ok(source.as_ref()),
            Err(why) => Err(SourceError::new(SourceErrorKind::Other, bucket, key, why.clone())),
        }
    }
}

impl ObjectSource for LazySource {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.inner(bucket, prefix)?
            .list_until(bucket, prefix, start_after, stop)
    }

    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        self.inner(bucket, prefix)?.list(bucket, prefix, start_after)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        self.inner(bucket, key)?.get(bucket, key)
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.inner(bucket, key)?.open(bucket, key)
    }

    fn open_range(
        &self,
        bucket: &str,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        self.inner(bucket, key)?.open_range(bucket, key, range)
    }

    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        self.inner(bucket, key)?.identity(bucket, key)
    }

    fn listing_is_paged(&self, bucket: &str) -> bool {
        // Made here if need be: the listing asked next would make it anyway.
        self.inner(bucket, "").is_ok_and(|s| s.listing_is_paged(bucket))
    }

    fn known_identity(&self, bucket: &str, key: &str) -> Option<Identity> {
        // Nothing is known of a source not yet made.
        match self.made.get()? {
            Ok(source) => source.known_identity(bucket, key),
            Err(_) => None,
        }
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        self.inner(bucket, key)?.size(bucket, key)
    }

    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        self.inner(bucket, prefix)?.list_folders(bucket, prefix)
    }

    fn restore(
        &self,
        bucket: &str,
        key: &str,
        archive: &ArchiveClass,
        request: &RestoreRequest,
    ) -> Result<RestoreOutcome, SourceError> {
        self.inner(bucket, key)?.restore(bucket, key, archive, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn set_up_once_on_first_use_and_failures_name_the_object() {
        let made = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&made);
        let lazy = LazySource::new(move || {
            count.fetch_add(1, Ordering::SeqCst);
            let m = MemorySource::new();
            m.create_bucket("b");
            m.put("b", "k", b"body".to_vec()).unwrap();
            Ok(Arc::new(m) as Arc<dyn ObjectSource>)
        });
        assert_eq!(made.load(Ordering::SeqCst), 0, "nothing made before use");
        assert_eq!(lazy.get("b", "k").unwrap().body, b"body");
        assert_eq!(lazy.list("b", "", "").unwrap(), ["k"]);
        assert_eq!(made.load(Ordering::SeqCst), 1);

        let tries = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&tries);
        let failing = LazySource::new(move || {
            count.fetch_add(1, Ordering::SeqCst);
            Err("no credentials".to_string())
        });
        for _ in 0..2 {
            let e = failing.get("b", "k").unwrap_err();
            assert_eq!(
                (e.bucket.as_str(), e.key.as_str(), e.detail.as_str()),
                ("b", "k", "no credentials")
            );
        }
        assert_eq!(tries.load(Ordering::SeqCst), 1, "not tried again");
    }

    /// Whether listings come in pages is the made source's answer; a source that could
    /// not be made has none to give.
    #[test]
    fn says_whether_listings_are_paged_as_the_source_it_makes() {
        let below = Arc::new(crate::source::recorder::Recorder::default());
        let made = Arc::clone(&below);
        let lazy = LazySource::new(move || Ok(Arc::clone(&made) as Arc<dyn ObjectSource>));
        assert!(lazy.listing_is_paged("b"));
        assert_eq!(below.take(), ["listing_is_paged"]);
        let failing = LazySource::new(|| Err("no credentials".to_string()));
        assert!(!failing.listing_is_paged("b"));
    }
}
