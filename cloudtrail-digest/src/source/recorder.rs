//! Sources for tests: one that records which of its methods were called (that wrappers
//! forward every method to the same method below), one that watches what a run asks of
//! a real source.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{ArchiveClass, Object, ObjectSource, RestoreOutcome, RestoreRequest, SourceError};

/// Answers every method itself and notes which one was asked.
#[derive(Default)]
pub(crate) struct Recorder(Mutex<Vec<&'static str>>);

impl Recorder {
    pub fn note(&self, method: &'static str) {
        self.0.lock().unwrap().push(method);
    }

    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl ObjectSource for Recorder {
    fn list_until(
        &self,
        _: &str,
        p: &str,
        _: &str,
        _: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.note("list_until");
        Ok(vec![format!("{p}k")])
    }
    fn list(&self, _: &str, p: &str, _: &str) -> Result<Vec<String>, SourceError> {
        self.note("list");
        Ok(vec![format!("{p}k")])
    }
    fn get(&self, _: &str, _: &str) -> Result<Object, SourceError> {
        self.note("get");
        Ok(Object {
            body: Vec::new(),
            metadata: Default::default(),
        })
    }
    fn open(&self, _: &str, _: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.note("open");
        Ok(Box::new(std::io::empty()))
    }
    fn open_range(
        &self,
        _: &str,
        _: &str,
        _: std::ops::Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        self.note("open_range");
        Ok(Box::new(std::io::empty()))
    }
    fn size(&self, _: &str, _: &str) -> Result<Option<u64>, SourceError> {
        self.note("size");
        Ok(Some(7))
    }
    fn identity(&self, _: &str, _: &str) -> Result<Option<super::Identity>, SourceError> {
        self.note("identity");
        Ok(Some(super::Identity::stored(7, Some("e"), None, None)))
    }
    fn known_identity(&self, _: &str, _: &str) -> Option<super::Identity> {
        self.note("known_identity");
        Some(super::Identity::stored(7, Some("e"), None, None))
    }
    fn listing_is_paged(&self, _: &str) -> bool {
        self.note("listing_is_paged");
        true
    }
    fn list_folders(&self, _: &str, p: &str) -> Result<Vec<String>, SourceError> {
        self.note("list_folders");
        Ok(vec![format!("{p}f/")])
    }
    fn restore(
        &self,
        _: &str,
        _: &str,
        _: &ArchiveClass,
        _: &RestoreRequest,
    ) -> Result<RestoreOutcome, SourceError> {
        self.note("restore");
        Ok(RestoreOutcome::Started)
    }
}

/// Passes every read on to `inner`, noting each as `list` (a listing) or `object` (an
/// object got, opened or identified), in order, and how many folder listings were under
/// way at once; each listing first waits `listing_delay`, so that listings made side by
/// side overlap. Key listings are noted by prefix as they start and end.
pub(crate) struct Watching<'a> {
    inner: &'a dyn ObjectSource,
    listing_delay: std::time::Duration,
    asked: Mutex<Vec<&'static str>>,
    key_listings: Mutex<Vec<KeyListing>>,
    listing_now: AtomicUsize,
    most_listings: AtomicUsize,
    knows_identities: bool,
    paged: bool,
    log_identity_threads: Mutex<std::collections::HashSet<std::thread::ThreadId>>,
}

/// A key listing's start or end, as [`Watching`] saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyListing {
    Started(String),
    Ended(String),
}

impl KeyListing {
    /// The prefix of a listing that started; `None` for one that ended.
    pub fn started(&self) -> Option<String> {
        match self {
            KeyListing::Started(prefix) => Some(prefix.clone()),
            KeyListing::Ended(_) => None,
        }
    }
}

impl<'a> Watching<'a> {
    pub fn new(inner: &'a dyn ObjectSource, listing_delay: std::time::Duration) -> Self {
        Watching {
            inner,
            listing_delay,
            asked: Mutex::default(),
            key_listings: Mutex::default(),
            listing_now: AtomicUsize::new(0),
            most_listings: AtomicUsize::new(0),
            knows_identities: false,
            paged: false,
            log_identity_threads: Mutex::default(),
        }
    }

    /// Knows every object's identity without a read, as an S3 listing makes it known,
    /// and notes the threads that ask for a log's identity (each ask then takes a
    /// millisecond, so that a run handing logs to several threads shows it).
    pub fn knowing_identities(mut self) -> Self {
        self.knows_identities = true;
        self
    }

    /// Says its listings come in pages, as S3's do (whatever the source below says).
    pub fn paging(mut self) -> Self {
        self.paged = true;
        self
    }

    /// How many threads asked for a log's identity since the last call.
    pub fn threads_asking_log_identities(&self) -> usize {
        std::mem::take(&mut *self.log_identity_threads.lock().unwrap()).len()
    }

    /// What was asked so far, in order, forgotten once told.
    pub fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.asked.lock().unwrap())
    }

    /// The key listings so far, as they started and ended, forgotten once told.
    pub fn take_key_listings(&self) -> Vec<KeyListing> {
        std::mem::take(&mut *self.key_listings.lock().unwrap())
    }

    /// The most folder listings that were under way at once.
    pub fn most_listings_at_once(&self) -> usize {
        self.most_listings.load(Ordering::SeqCst)
    }

    fn note(&self, what: &'static str) {
        self.asked.lock().unwrap().push(what);
    }
}

impl ObjectSource for Watching<'_> {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.note("list");
        let note = |l: KeyListing| self.key_listings.lock().unwrap().push(l);
        note(KeyListing::Started(prefix.to_string()));
        std::thread::sleep(self.listing_delay);
        let keys = self.inner.list_until(bucket, prefix, start_after, stop);
        note(KeyListing::Ended(prefix.to_string()));
        keys
    }
    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        self.note("list");
        let now = self.listing_now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_listings.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.listing_delay);
        self.listing_now.fetch_sub(1, Ordering::SeqCst);
        self.inner.list_folders(bucket, prefix)
    }
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        self.note("object");
        self.inner.get(bucket, key)
    }
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.note("object");
        self.inner.open(bucket, key)
    }
    fn identity(&self, bucket: &str, key: &str) -> Result<Option<super::Identity>, SourceError> {
        self.note("object");
        if self.knows_identities && key.contains("/CloudTrail/") {
            let mut threads = self.log_identity_threads.lock().unwrap();
            threads.insert(std::thread::current().id());
            drop(threads);
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        self.inner.identity(bucket, key)
    }
    fn listing_is_paged(&self, bucket: &str) -> bool {
        self.paged || self.inner.listing_is_paged(bucket)
    }
    fn known_identity(&self, bucket: &str, key: &str) -> Option<super::Identity> {
        match self.knows_identities {
            true => self.inner.identity(bucket, key).ok().flatten(),
            false => self.inner.known_identity(bucket, key),
        }
    }
}
