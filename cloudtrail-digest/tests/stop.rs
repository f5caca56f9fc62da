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

#[test]
fn breaking_out_of_a_run_stops_reading() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample");
    let mut keys = PublicKeySet::new();
    keys.add_file(&root.join("public-keys.json")).unwrap();
    let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail").unwrap();
    let window = (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-02T01:00:00Z").unwrap(),
    );
    for jobs in [1, 4] {
        let source = Counting {
            inner: LocalDir::new(root.join("mirror")).unwrap(),
            reads: AtomicUsize::new(0),
        };
        let validation = Validation::new(
            &source,
            &keys,
            ChainScope::for_trail(&arn),
            "ctd-sample-bucket",
            window,
        )
        .unwrap()
        .jobs(jobs);
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
