//! A consumer that stops listening stops the run: no further object is read.

use std::io::Read;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use cloudtrail_digest::{
    parse_utc, ChainScope, Event, LocalDir, Object, ObjectSource, PublicKeySet, SourceError, TrailArn,
    Validation,
};

/// The sample mirror, counting the objects read.
struct Counting {
    inner: LocalDir,
    reads: AtomicUsize,
}

impl ObjectSource for Counting {
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
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.get(bucket, key)
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.open(bucket, key)
    }
}

fn sample() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample")
}

fn sample_keys() -> PublicKeySet {
    let mut keys = PublicKeySet::new();
    keys.add_file(&sample().join("public-keys.json")).unwrap();
    keys
}

/// The sample mirror, its reads counted from zero.
fn counting() -> Counting {
    Counting {
        inner: LocalDir::new(sample().join("mirror")).unwrap(),
        reads: AtomicUsize::new(0),
    }
}

/// The sample trail's validation over its whole day, reading `source`.
fn validation<'a>(source: &'a Counting, keys: &'a PublicKeySet) -> Validation<'a> {
    let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail").unwrap();
    let window = (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-02T01:00:00Z").unwrap(),
    );
    Validation::new(
        source,
        keys,
        ChainScope::for_trail(&arn),
        "ctd-sample-bucket",
        window,
    )
    .unwrap()
}

#[test]
fn breaking_out_of_a_run_stops_reading() {
    let keys = sample_keys();
    for jobs in [1, 4] {
        let source = counting();
        let validation = validation(&source, &keys).jobs(jobs);
        let full = validation.run(&mut |_| {}).unwrap();
        let all_reads = source.reads.swap(0, Ordering::SeqCst);
        assert_eq!((full.valid_digests, full.valid_logs), (24, 56));
        if jobs == 1 {
            assert_eq!(all_reads, 24 + 56, "every digest and log once");
        }

        let mut seen = Vec::new();
        let partial = validation
            .run_while(&mut |event| {
                seen.push(event.clone());
                ControlFlow::Break(())
            })
            .unwrap();
        let reads = source.reads.load(Ordering::SeqCst);
        assert_eq!(seen.len(), 1, "jobs {jobs}: nothing is delivered after Break");
        assert!(matches!(seen[0], Event::DigestValid { .. }));
        assert_eq!((partial.valid_digests, partial.valid_logs), (1, 0));
        if jobs == 1 {
            assert_eq!(reads, 1, "only the first digest was read");
        } else {
            // Reads already under way finish; the walk and the workers start no more than
            // their bounded queues hold.
            assert!(
                reads < all_reads,
                "jobs {jobs}: {reads} of {all_reads} objects read"
            );
        }
    }
}

/// Digests fetched ahead of the walk are the ones it reaches next: a parallel run reads
/// every digest and log once, as a run on one thread does.
#[test]
fn a_parallel_run_reads_each_object_once() {
    let keys = sample_keys();
    for (jobs, prefetch) in [(4, 16), (4, 4), (8, 1)] {
        let source = counting();
        let run = validation(&source, &keys)
            .jobs(jobs)
            .prefetch(prefetch)
            .run(&mut |_| {})
            .unwrap();
        assert_eq!((run.valid_digests, run.valid_logs), (24, 56));
        assert_eq!(
            source.reads.load(Ordering::SeqCst),
            24 + 56,
            "jobs {jobs}, prefetch {prefetch}: every digest and log once"
        );
    }
}
