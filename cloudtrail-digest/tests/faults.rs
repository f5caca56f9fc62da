//! I/O faults while reading: a source that fails, or whose files change, in the middle of
//! a run. Each must end as a verdict or as a fatal error that names the object, with one
//! worker or several, and the run must return (no hang, no panic).

use std::io::{self, Read};
use std::path::PathBuf;

mod common;

use cloudtrail_digest::Object;
use cloudtrail_digest::{
    parse_utc, ChainScope, Error, Event, LocalDir, LogVerdict, ObjectSource, PublicKeySet, SourceError,
    SourceErrorKind, TrailArn, Validation,
};
use common::{test_key_set, write_mirror};
use testgen::times::utc;
use testgen::{KeyRing, Trail, TrailSpec};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/fault-trail";
const BUCKET: &str = "fault-bucket";

/// What goes wrong, and with which object.
#[derive(Clone, Copy)]
enum Fault {
    /// The reader fails with EIO after the first bytes (a disk or network error).
    ReadErrorMidway,
    /// The file is truncated on disk after the first bytes were read.
    TruncatedWhileReading,
    /// The file is deleted between the listing (or digest) and the read.
    VanishesBeforeOpen,
    /// Reading the whole object fails (a connection reset).
    GetFails,
}

struct Faulty {
    inner: LocalDir,
    root: PathBuf,
    target: String,
    fault: Fault,
}

impl ObjectSource for Faulty {
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
        if key == self.target && matches!(self.fault, Fault::GetFails) {
            return Err(SourceError::new(
                SourceErrorKind::Other,
                bucket,
                key,
                "connection reset by peer",
            ));
        }
        self.inner.get(bucket, key)
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        if key != self.target {
            return self.inner.open(bucket, key);
        }
        let path = self.root.join(bucket).join(key);
        match self.fault {
            Fault::VanishesBeforeOpen => {
                std::fs::remove_file(&path).unwrap();
                self.inner.open(bucket, key)
            }
            Fault::ReadErrorMidway | Fault::TruncatedWhileReading => Ok(Box::new(Interrupted {
                inner: self.inner.open(bucket, key)?,
                path,
                fault: self.fault,
                served: 0,
            })),
            Fault::GetFails => self.inner.open(bucket, key),
        }
    }
}

/// Serves the first 64 bytes, then fails or truncates the file under itself.
struct Interrupted {
    inner: Box<dyn Read + Send>,
    path: PathBuf,
    fault: Fault,
    served: usize,
}

impl Read for Interrupted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.served >= 64 {
            match self.fault {
                Fault::ReadErrorMidway => return Err(io::Error::from_raw_os_error(5)), // EIO
                _ => {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&self.path)?
                        .set_len(0)?;
                }
            }
        }
        let want = if self.served < 64 {
            buf.len().min(64 - self.served)
        } else {
            buf.len()
        };
        let n = self.inner.read(&mut buf[..want])?;
        self.served += n;
        Ok(n)
    }
}

fn mirror(tag: &str) -> (PathBuf, Trail) {
    let keys = KeyRing::test_keys();
    let mut spec = TrailSpec::new("111122223333", "fault-trail", BUCKET, utc(2026, 3, 1, 0, 17, 42));
    spec.hours = 5;
    let trail = spec.plan().seal(&keys);
    let root = write_mirror(&trail, tag);
    (root, trail)
}

fn validate(source: &dyn ObjectSource, keys: &PublicKeySet, jobs: usize) -> (Vec<Event>, Result<(), Error>) {
    let arn = TrailArn::parse(ARN).unwrap();
    let window = (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-01T06:00:00Z").unwrap(),
    );
    let mut events = Vec::new();
    let result = Validation::new(source, keys, ChainScope::for_trail(&arn), BUCKET, window)
        .unwrap()
        .jobs(jobs)
        .run(&mut |e| events.push(e.clone()))
        .map(|_| ());
    (events, result)
}

fn log_verdict(events: &[Event], key: &str) -> Option<LogVerdict> {
    events.iter().find_map(|e| match e {
        Event::Log { key: k, verdict, .. } if k == key => Some(verdict.clone()),
        _ => None,
    })
}

/// Runs `fault` against one object (a log unless `on_digest`), with 1 and 4 jobs, each
/// on a fresh copy of the mirror.
fn with_fault(fault: Fault, on_digest: bool, check: impl Fn(&str, &[Event], Result<(), Error>)) {
    for jobs in [1, 4] {
        let tag = format!("fault-{}-{jobs}-{on_digest}", fault as u8);
        let (root, trail) = mirror(&tag);
        let target = if on_digest {
            trail.digests[2].key.clone()
        } else {
            trail
                .logs
                .iter()
                .find(|l| l.stored.is_some())
                .unwrap()
                .key
                .clone()
        };
        let source = Faulty {
            inner: LocalDir::new(&root).unwrap(),
            root: root.clone(),
            target: target.clone(),
            fault,
        };
        let (events, result) = validate(&source, &test_key_set(), jobs);
        check(&target, &events, result);
        std::fs::remove_dir_all(&root).unwrap();
    }
}

fn fatal_naming(result: Result<(), Error>, key: &str, words: &str) {
    let err = result.expect_err("a fatal error");
    let text = err.to_string();
    assert!(text.contains(&format!("s3://{BUCKET}/{key}")), "{text}");
    assert!(text.contains(words), "{text}");
}

#[test]
fn a_read_error_midway_through_a_log_is_fatal_and_names_it() {
    with_fault(Fault::ReadErrorMidway, false, |key, _, result| {
        fatal_naming(result, key, "read failed: Input/output error");
    });
}

#[test]
fn a_log_truncated_while_it_is_read_does_not_match_its_hash() {
    with_fault(Fault::TruncatedWhileReading, false, |key, events, result| {
        result.unwrap();
        assert_eq!(log_verdict(events, key), Some(LogVerdict::HashMismatch));
    });
}

#[test]
fn a_log_deleted_before_it_is_read_is_not_found() {
    with_fault(Fault::VanishesBeforeOpen, false, |key, events, result| {
        result.unwrap();
        assert_eq!(log_verdict(events, key), Some(LogVerdict::NotFound));
    });
}

#[test]
fn a_digest_whose_read_fails_stops_the_run_naming_it() {
    with_fault(Fault::GetFails, true, |key, _, result| {
        fatal_naming(result, key, "connection reset by peer");
    });
}
