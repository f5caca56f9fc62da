//! A source that records which of its methods were called, for testing that wrappers
//! forward every method to the same method below.

use std::io::Read;
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
