//! `mirror` over any object source (here a local scenario tree): faithful copies, the
//! chain followed into another bucket, interruptions that leave no partial object, and
//! resumption.

use std::io::{self, Read};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use cloudtrail_digest::mirror::{mirror, MirrorError, MirrorRequest, MirrorStats};
use cloudtrail_digest::{parse_utc, LocalDir, ObjectSource};
use cloudtrail_digest::{Object, SourceError};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/scenarios")
        .join(name)
        .join("mirror")
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ctd-mirror-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn request(bucket: &str) -> MirrorRequest {
    MirrorRequest {
        bucket: bucket.into(),
        prefix: None,
        account_id: None,
        start: parse_utc("2026-03-01T00:00:00Z").unwrap(),
        end: parse_utc("2026-03-01T08:00:00Z").unwrap(),
        restore: None,
    }
}

fn keep_going(_: &MirrorStats) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// (relative path, bytes) of every file under `dir`, sorted.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Every object file in `copy` has the bytes of the same file in `original`.
fn assert_subset(copy: &Path, original: &Path) -> usize {
    let mut objects = 0;
    for (rel, bytes) in tree(copy) {
        assert!(!rel.ends_with(".ctd-partial"), "temporary file left: {rel}");
        if !rel.ends_with(".metadata.json") {
            assert_eq!(bytes, std::fs::read(original.join(&rel)).unwrap(), "{rel}");
            objects += 1;
        }
    }
    objects
}

#[test]
fn copies_digests_with_sidecars_and_their_logs_following_the_chain_into_another_bucket() {
    let source = LocalDir::new(scenario("bucket-change")).unwrap();
    let dest = temp("bucket-change");
    let stats = mirror(
        &source,
        &request("ctd-bucket-change-bucket-b"),
        &dest,
        3,
        &keep_going,
    )
    .unwrap();
    assert_eq!((stats.digests_done, stats.missing, stats.refused), (7, 0, 0));
    assert_eq!(stats.copied, stats.digests_done + stats.logs_done);
    // Bucket A is reached only through the oldest digest of B naming its predecessor.
    assert!(dest.join("ctd-bucket-change-bucket-a").is_dir());
    assert_eq!(assert_subset(&dest, &scenario("bucket-change")), stats.copied);
    let again = mirror(
        &source,
        &request("ctd-bucket-change-bucket-b"),
        &dest,
        3,
        &keep_going,
    )
    .unwrap();
    assert_eq!((again.copied, again.skipped), (0, stats.copied));
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn an_interrupted_run_leaves_only_complete_objects_and_resumes() {
    let source = LocalDir::new(scenario("clean-chain")).unwrap();
    let dest = temp("interrupted");
    let calls = AtomicUsize::new(0);
    let stop_soon = |_: &MirrorStats| {
        if calls.fetch_add(1, Ordering::SeqCst) >= 6 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let err = mirror(&source, &request("ctd-clean-chain-bucket"), &dest, 2, &stop_soon).unwrap_err();
    assert!(matches!(err, MirrorError::Interrupted), "{err}");
    let partial = assert_subset(&dest, &scenario("clean-chain"));
    assert!(partial < 16, "{partial}");
    let done = mirror(&source, &request("ctd-clean-chain-bucket"), &dest, 2, &keep_going).unwrap();
    assert_eq!(done.copied + done.skipped, 16);
    assert_eq!(assert_subset(&dest, &scenario("clean-chain")), 16);
    std::fs::remove_dir_all(&dest).unwrap();
}

/// A source whose log reads fail halfway, as a dropped connection would.
struct Flaky(LocalDir);

struct HalfThenError(Vec<u8>, usize);

impl Read for HalfThenError {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let half = self.0.len() / 2;
        if self.1 >= half {
            return Err(io::Error::new(io::ErrorKind::ConnectionReset, "connection reset"));
        }
        let n = buf.len().min(half - self.1);
        buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
        self.1 += n;
        Ok(n)
    }
}

impl ObjectSource for Flaky {
    fn list_until(
        &self,
        b: &str,
        p: &str,
        s: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.0.list_until(b, p, s, stop)
    }
    fn get(&self, b: &str, k: &str) -> Result<Object, SourceError> {
        self.0.get(b, k)
    }
    fn open(&self, b: &str, k: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        let mut bytes = Vec::new();
        self.0.open(b, k)?.read_to_end(&mut bytes).unwrap();
        Ok(Box::new(HalfThenError(bytes, 0)))
    }
}

#[test]
fn a_transfer_failing_midway_leaves_nothing_under_the_object_name() {
    let dest = temp("flaky");
    let flaky = Flaky(LocalDir::new(scenario("clean-chain")).unwrap());
    let err = mirror(&flaky, &request("ctd-clean-chain-bucket"), &dest, 1, &keep_going).unwrap_err();
    assert!(matches!(err, MirrorError::Io { .. }), "{err}");
    // The digests are complete; no log (each failed halfway) and no temporary file is left.
    assert_eq!(assert_subset(&dest, &scenario("clean-chain")), 7);
    let source = LocalDir::new(scenario("clean-chain")).unwrap();
    let done = mirror(&source, &request("ctd-clean-chain-bucket"), &dest, 2, &keep_going).unwrap();
    assert_eq!((done.copied, done.skipped), (9, 7));
    std::fs::remove_dir_all(&dest).unwrap();
}

#[test]
fn planted_keys_are_refused_and_counted_never_written_outside() {
    let source = LocalDir::new(scenario("hostile-input")).unwrap();
    let dest = temp("hostile");
    for pass in 0..2 {
        let stats = mirror(
            &source,
            &request("ctd-hostile-input-bucket"),
            &dest,
            3,
            &keep_going,
        )
        .unwrap();
        // Eight keys cannot be files under DEST; the 300-byte segment names no file.
        assert_eq!((stats.refused, stats.missing), (8, 1), "pass {pass}");
        assert_eq!(stats.digests_done, 7);
    }
    assert!(!dest.join("public-keys.json").exists());
    assert!(!dest.parent().unwrap().join("public-keys.json").exists());
    // Every digest, and the logs of those that parse (not the deep-JSON one's two nor
    // the bomb's two): 7 + 9 - 4.
    assert_eq!(assert_subset(&dest, &scenario("hostile-input")), 12);
    std::fs::remove_dir_all(&dest).unwrap();
}
