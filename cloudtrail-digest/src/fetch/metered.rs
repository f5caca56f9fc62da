//! Counting what a run reads, so that a progress bar can show files and bytes.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::source::{
    ArchiveClass, Identity, Object, ObjectSource, RestoreOutcome, RestoreRequest, SourceError,
};

/// Hears how far a run has come (for a progress bar). Called from worker threads.
pub trait Progress: Sync {
    /// `files` more objects will be read.
    fn planned(&self, files: u64);
    /// `bytes` more bytes were read.
    fn read(&self, bytes: u64);
    /// `files` more objects are done.
    fn done(&self, files: u64);
}

/// Progress nobody listens to.
pub(crate) struct NoProgress;

impl Progress for NoProgress {
    fn planned(&self, _: u64) {}
    fn read(&self, _: u64) {}
    fn done(&self, _: u64) {}
}

/// A source that counts the bytes read through it, forwarding every method.
pub(crate) struct Metered<'a> {
    inner: &'a dyn ObjectSource,
    bytes: Arc<AtomicU64>,
    reported: AtomicU64,
}

struct MeteredReader {
    inner: Box<dyn Read + Send>,
    bytes: Arc<AtomicU64>,
}

impl Read for MeteredReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<'a> Metered<'a> {
    /// Counts what is read from `inner`.
    pub fn new(inner: &'a dyn ObjectSource) -> Self {
        Metered {
            inner,
            bytes: Arc::new(AtomicU64::new(0)),
            reported: AtomicU64::new(0),
        }
    }

    /// Tells `progress` one more object is done, with the bytes read since last time.
    pub fn tick(&self, progress: &dyn Progress) {
        let total = self.bytes.load(Ordering::Relaxed);
        let before = self.reported.fetch_max(total, Ordering::Relaxed);
        progress.read(total.saturating_sub(before));
        progress.done(1);
    }
}

impl ObjectSource for Metered<'_> {
    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        self.inner.list(bucket, prefix, start_after)
    }

    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.inner.list_until(bucket, prefix, start_after, stop)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let o = self.inner.get(bucket, key)?;
        self.bytes.fetch_add(o.body.len() as u64, Ordering::Relaxed);
        Ok(o)
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        Ok(Box::new(MeteredReader {
            inner: self.inner.open(bucket, key)?,
            bytes: Arc::clone(&self.bytes),
        }))
    }

    fn open_range(
        &self,
        bucket: &str,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        Ok(Box::new(MeteredReader {
            inner: self.inner.open_range(bucket, key, range)?,
            bytes: Arc::clone(&self.bytes),
        }))
    }

    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        self.inner.identity(bucket, key)
    }

    fn known_identity(&self, bucket: &str, key: &str) -> Option<Identity> {
        self.inner.known_identity(bucket, key)
    }

    fn listing_is_paged(&self, bucket: &str) -> bool {
        self.inner.listing_is_paged(bucket)
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        self.inner.size(bucket, key)
    }

    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        self.inner.list_folders(bucket, prefix)
    }

    fn restore(
        &self,
        bucket: &str,
        key: &str,
        archive: &ArchiveClass,
        request: &RestoreRequest,
    ) -> Result<RestoreOutcome, SourceError> {
        self.inner.restore(bucket, key, archive, request)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::source::recorder::Recorder;

    #[derive(Default)]
    struct Seen(Mutex<(u64, u64, u64)>);

    impl Progress for Seen {
        fn planned(&self, files: u64) {
            self.0.lock().unwrap().0 += files;
        }
        fn read(&self, bytes: u64) {
            self.0.lock().unwrap().1 += bytes;
        }
        fn done(&self, files: u64) {
            self.0.lock().unwrap().2 += files;
        }
    }

    #[test]
    fn forwards_every_method_to_the_same_method_below_and_counts_bytes() {
        let below = Recorder::default();
        let metered = Metered::new(&below);
        metered.list("b", "a/", "").unwrap();
        assert_eq!(below.take(), ["list"]);
        metered.list_until("b", "a/", "", &|_| true).unwrap();
        assert_eq!(below.take(), ["list_until"]);
        metered.list_folders("b", "a/").unwrap();
        assert_eq!(below.take(), ["list_folders"]);
        metered.size("b", "k").unwrap();
        assert_eq!(below.take(), ["size"]);
        metered.identity("b", "k").unwrap();
        assert_eq!(below.take(), ["identity"]);
        metered.known_identity("b", "k").unwrap();
        assert_eq!(below.take(), ["known_identity"]);
        assert!(metered.listing_is_paged("b"));
        assert_eq!(below.take(), ["listing_is_paged"]);
        metered.get("b", "k").unwrap();
        assert_eq!(below.take(), ["get"]);
        let mut bytes = Vec::new();
        metered.open("b", "k").unwrap().read_to_end(&mut bytes).unwrap();
        assert_eq!(below.take(), ["open"]);
        let archive = ArchiveClass {
            storage_class: Some("DEEP_ARCHIVE".into()),
            access_tier: None,
        };
        let request = RestoreRequest {
            days: 2,
            tier: crate::source::RestoreTier::Standard,
        };
        metered.restore("b", "k", &archive, &request).unwrap();
        assert_eq!(below.take(), ["restore"]);

        let seen = Seen::default();
        metered.bytes.fetch_add(5, Ordering::Relaxed);
        metered.tick(&seen);
        metered.tick(&seen);
        assert_eq!(*seen.0.lock().unwrap(), (0, 5, 2), "bytes are reported once");
    }
}
