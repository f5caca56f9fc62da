//! The walk, seen through the library API: verdicts are data, compared as such.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod common;

use cloudtrail_digest::{
    parse_utc, ChainScope, DigestVerdict, Event, LocalDir, MetadataOrigin, ObjectSource, Pass, PublicKeySet,
    SignatureSource, SourceError, SourceErrorKind, TrailArn, Validation,
};
use cloudtrail_digest::{Metadata, Object};
use common::{test_key_set, write_mirror};
use testgen::times::utc;
use testgen::{KeyRing, Trail, TrailSpec};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/lib-trail";
const BUCKET: &str = "lib-bucket";

fn trail(damage: impl FnOnce(&mut Trail)) -> (PathBuf, PublicKeySet, Trail) {
    let keys = KeyRing::test_keys();
    let mut spec = TrailSpec::new("111122223333", "lib-trail", BUCKET, utc(2026, 3, 1, 0, 17, 42));
    spec.hours = 7;
    let mut trail = spec.plan().seal(&keys);
    damage(&mut trail);
    let root = write_mirror(&trail, &format!("{:p}", &trail));
    (root, test_key_set(), trail)
}

fn run(source: &dyn ObjectSource, keys: &PublicKeySet, recover: bool) -> Vec<Event> {
    let arn = TrailArn::parse(ARN).unwrap();
    let window = (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-01T08:00:00Z").unwrap(),
    );
    let mut events = Vec::new();
    Validation::new(source, keys, ChainScope::for_trail(&arn), BUCKET, window)
        .unwrap()
        .recover_signatures(recover)
        .run(&mut |e| events.push(e.clone()))
        .unwrap();
    events
}

/// Digest events as (key, verdict) with `None` for valid; logs and gaps left out.
fn digests(events: &[Event]) -> Vec<(String, Option<DigestVerdict>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::DigestValid { key, .. } => Some((key.clone(), None)),
            Event::DigestInvalid { key, verdict, .. } => Some((key.clone(), Some(verdict.clone()))),
            _ => None,
        })
        .collect()
}

#[test]
fn of_two_consecutive_deleted_digests_only_the_newer_is_reported() {
    let (root, keys, t) = trail(|t| {
        t.delete_digest(3);
        t.delete_digest(4);
    });
    let events = run(&LocalDir::new(&root).unwrap(), &keys, true);
    let key = |i: usize| t.digests[i].key.clone();
    assert_eq!(
        digests(&events),
        vec![
            (key(6), None),
            (key(5), None),
            (key(4), Some(DigestVerdict::NotFound)),
            (key(2), None),
            (key(1), None),
            (key(0), None),
        ]
    );
    assert!(!events.iter().any(|e| matches!(e, Event::Gap { .. })));
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_missing_signature_is_recovered_from_the_next_digest_only_when_allowed() {
    let (root, keys, t) = trail(|t| t.delete_sidecar(2));
    let source = LocalDir::new(&root).unwrap();
    let recovered = run(&source, &keys, true);
    let signature_of = |events: &[Event]| {
        events.iter().find_map(|e| match e {
            Event::DigestValid { key, signature, .. } if *key == t.digests[2].key => Some(*signature),
            _ => None,
        })
    };
    assert_eq!(
        signature_of(&recovered),
        Some(SignatureSource::RecoveredFromSuccessor)
    );
    assert!(recovered
        .iter()
        .all(|e| !matches!(e, Event::DigestInvalid { .. })));

    let strict = run(&source, &keys, false);
    assert_eq!(signature_of(&strict), None);
    assert!(strict.contains(&Event::DigestInvalid {
        pass: Pass::Standard,
        bucket: BUCKET.into(),
        key: t.digests[2].key.clone(),
        verdict: DigestVerdict::SignatureFailed { no_signature: true },
    }));
    std::fs::remove_dir_all(root).unwrap();
}

/// An object store in memory: any backend only has to answer three questions.
struct Memory {
    objects: BTreeMap<(String, String), Object>,
    gets: Mutex<usize>,
}

impl ObjectSource for Memory {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        _stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        Ok(self
            .objects
            .keys()
            .filter(|(b, k)| b == bucket && k.starts_with(prefix) && k.as_str() > start_after)
            .map(|(_, k)| k.clone())
            .collect())
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        *self.gets.lock().unwrap() += 1;
        self.objects
            .get(&(bucket.to_string(), key.to_string()))
            .cloned()
            .ok_or_else(|| SourceError::new(SourceErrorKind::NotFound, bucket, key, "NoSuchKey"))
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        let object = self.get(bucket, key)?;
        Ok(Box::new(std::io::Cursor::new(object.body)))
    }
}

fn load_memory(root: &Path) -> Memory {
    let mut objects = BTreeMap::new();
    let local = LocalDir::new(root).unwrap();
    for bucket in std::fs::read_dir(root).unwrap() {
        let bucket = bucket.unwrap().file_name().into_string().unwrap();
        for key in local.list(&bucket, "", "").unwrap() {
            let mut object = local.get(&bucket, &key).unwrap();
            if object.metadata.origin.is_some() {
                object.metadata = Metadata {
                    entries: object.metadata.entries,
                    origin: Some(MetadataOrigin::Service),
                };
            }
            objects.insert((bucket.clone(), key), object);
        }
    }
    Memory {
        objects,
        gets: Mutex::new(0),
    }
}

#[test]
fn any_object_source_gives_the_same_verdicts() {
    let (root, keys, _) = trail(|t| t.delete_log(2));
    let from_disk = run(&LocalDir::new(&root).unwrap(), &keys, true);
    let memory = load_memory(&root);
    let from_memory = run(&memory, &keys, true);
    // Identical but for where the signature metadata came from.
    let normalise = |events: Vec<Event>| -> Vec<Event> {
        events
            .into_iter()
            .map(|mut e| {
                if let Event::DigestValid { signature, .. } = &mut e {
                    *signature = SignatureSource::Metadata(MetadataOrigin::Service);
                }
                e
            })
            .collect()
    };
    assert_eq!(normalise(from_disk), normalise(from_memory));
    assert!(*memory.gets.lock().unwrap() > 7);
    std::fs::remove_dir_all(root).unwrap();
}

fn run_jobs(
    root: &Path,
    keys: &PublicKeySet,
    jobs: usize,
) -> (Vec<Event>, Result<cloudtrail_digest::Summary, String>) {
    let arn = TrailArn::parse(ARN).unwrap();
    let window = (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-02T00:00:00Z").unwrap(),
    );
    let source = LocalDir::new(root).unwrap();
    let mut events = Vec::new();
    let outcome = Validation::new(&source, keys, ChainScope::for_trail(&arn), BUCKET, window)
        .unwrap()
        .jobs(jobs)
        .prefetch(3)
        .run(&mut |e| events.push(e.clone()))
        .map_err(|e| e.to_string());
    (events, outcome)
}

#[test]
fn parallel_runs_emit_exactly_the_sequential_events() {
    let keys = KeyRing::test_keys();
    let mut spec = TrailSpec::new("111122223333", "lib-trail", BUCKET, utc(2026, 3, 1, 0, 17, 42));
    spec.hours = 20;
    spec.logs_per_hour = testgen::Count::Range(3, 12);
    let mut trail = spec.plan().seal(&keys);
    trail.delete_log(5);
    trail.delete_digest(9);
    trail.delete_sidecar(12);
    trail.set_log_bytes(20, b"not gzip".to_vec());
    let root = write_mirror(&trail, "par");
    let set = test_key_set();
    let (sequential, s1) = run_jobs(&root, &set, 1);
    assert!(sequential.len() > 100, "{}", sequential.len());
    for jobs in [2, 4, 8] {
        let (parallel, s2) = run_jobs(&root, &set, jobs);
        assert_eq!(parallel, sequential, "jobs {jobs}");
        assert_eq!(s2, s1);
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_fatal_error_stops_parallel_runs_at_the_same_place() {
    let keys = KeyRing::test_keys();
    let mut spec = TrailSpec::new("111122223333", "lib-trail", BUCKET, utc(2026, 3, 1, 0, 17, 42));
    spec.hours = 12;
    spec.logs_per_hour = testgen::Count::Fixed(6);
    let mut plan = spec.plan();
    plan.digests[4].omit_fields = vec!["logFiles".to_string()];
    let trail = plan.seal(&keys);
    let root = write_mirror(&trail, "fatal");
    let set = test_key_set();
    let (sequential, s1) = run_jobs(&root, &set, 1);
    assert_eq!(s1, Err("'logFiles'".to_string()));
    assert!(
        matches!(sequential.last(), Some(Event::DigestValid { key, .. }) if *key == trail.digests[4].key)
    );
    for jobs in [2, 4] {
        let (parallel, s2) = run_jobs(&root, &set, jobs);
        assert_eq!(parallel, sequential);
        assert_eq!(s2, s1);
    }
    std::fs::remove_dir_all(root).unwrap();
}
