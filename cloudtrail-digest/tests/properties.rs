//! Property: over random chains with random faults, the walk reports exactly what a
//! small model of the reference's rules predicts, and parallel runs say the same as
//! sequential ones.

use std::collections::BTreeSet;

mod common;

use cloudtrail_digest::{parse_utc, ChainScope, Event, LocalDir, LogVerdict, TrailArn, Validation};
use common::{test_key_set, write_mirror};
use proptest::prelude::*;
use testgen::times::utc;
use testgen::{KeyRing, TrailSpec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    DeleteDigest,
    TamperDigest,
    DropSignature,
    DeleteLog,
    TamperLog,
}

fn fault() -> impl Strategy<Value = Option<Fault>> {
    prop_oneof![
        6 => Just(None),
        1 => Just(Some(Fault::DeleteDigest)),
        1 => Just(Some(Fault::TamperDigest)),
        1 => Just(Some(Fault::DropSignature)),
        1 => Just(Some(Fault::DeleteLog)),
        1 => Just(Some(Fault::TamperLog)),
    ]
}

/// What the reference reports, by its rules: the walk starts at the newest listed
/// digest; a verified digest leads to its predecessor, so a deleted predecessor is
/// reported; anything else that fails leads to the next older listed digest, so deleted
/// digests after it are skipped in silence. A digest without its own signature metadata
/// is recovered from its successor's record unless it is the newest present.
/// (digest index, reason) of every invalid digest, and likewise for logs.
type Findings = (BTreeSet<(usize, String)>, BTreeSet<(usize, String)>);

fn model(faults: &[Option<Fault>]) -> Findings {
    let n = faults.len();
    let mut digests = BTreeSet::new();
    let mut logs = BTreeSet::new();
    let newest_present = (0..n).rev().find(|&i| faults[i] != Some(Fault::DeleteDigest));
    let mut reached_by_link = false;
    for i in (0..n).rev() {
        let f = faults[i];
        if f == Some(Fault::DeleteDigest) {
            if reached_by_link {
                digests.insert((i, "not found".to_string()));
            }
            reached_by_link = false;
            continue;
        }
        let valid = match f {
            Some(Fault::TamperDigest) => false,
            // Recovered from the successor's record, unless nothing follows it. A deleted
            // successor recorded nothing we could read.
            Some(Fault::DropSignature) => {
                Some(i) != newest_present && faults.get(i + 1) != Some(&Some(Fault::DeleteDigest))
            }
            _ => true,
        };
        if !valid {
            digests.insert((i, "signature verification failed".to_string()));
            reached_by_link = false;
            continue;
        }
        match f {
            Some(Fault::DeleteLog) => {
                logs.insert((i, "INVALID: not found".to_string()));
            }
            Some(Fault::TamperLog) => {
                logs.insert((i, "INVALID: hash value doesn't match".to_string()));
            }
            _ => {}
        }
        reached_by_link = i > 0; // the oldest is a starting digest: no link
    }
    (digests, logs)
}

fn run(faults: &[Option<Fault>], jobs: usize) -> (Findings, Vec<Event>) {
    let keys = KeyRing::test_keys();
    let mut spec = TrailSpec::new(
        "111122223333",
        "prop-trail",
        "prop-bucket",
        utc(2026, 3, 1, 0, 17, 42),
    );
    spec.hours = faults.len() as u32;
    spec.logs_per_hour = testgen::Count::Fixed(1);
    spec.records_per_log = testgen::Count::Fixed(2);
    let mut trail = spec.plan().seal(&keys);
    let log_of = |t: &testgen::Trail, i: usize| t.digests[i].logs.first().copied();
    for (i, f) in faults.iter().enumerate() {
        match f {
            Some(Fault::DeleteDigest) => trail.delete_digest(i),
            Some(Fault::TamperDigest) => {
                let mut json = trail.digests[i].inflated.clone();
                let at = json.iter().position(|&b| b == b'Z').unwrap();
                json[at - 1] = if json[at - 1] == b'9' {
                    b'8'
                } else {
                    json[at - 1] + 1
                };
                trail.replace_digest_json(i, &json);
            }
            Some(Fault::DropSignature) => trail.delete_sidecar(i),
            Some(Fault::DeleteLog) => {
                if let Some(j) = log_of(&trail, i) {
                    trail.delete_log(j)
                }
            }
            Some(Fault::TamperLog) => {
                if let Some(j) = log_of(&trail, i) {
                    let mut bytes = trail.log_inflated(j);
                    bytes.push(b' ');
                    trail.set_log_bytes(j, testgen::gzip::gzip(&bytes));
                }
            }
            None => {}
        }
    }
    let root = write_mirror(&trail, &format!("prop-{}", rand_suffix()));
    let set = test_key_set();
    let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/prop-trail").unwrap();
    let window = (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-05T00:00:00Z").unwrap(),
    );
    let source = LocalDir::new(&root).unwrap();
    let mut events = Vec::new();
    Validation::new(&source, &set, ChainScope::for_trail(&arn), "prop-bucket", window)
        .unwrap()
        .jobs(jobs)
        .run(&mut |e| events.push(e.clone()))
        .unwrap();
    std::fs::remove_dir_all(&root).unwrap();
    let index_of_digest = |key: &str| trail.digests.iter().position(|d| d.key == key).unwrap();
    let index_of_log = |key: &str| {
        trail
            .digests
            .iter()
            .position(|d| d.logs.iter().any(|&j| trail.logs[j].key == key))
            .unwrap()
    };
    let mut digests = BTreeSet::new();
    let mut logs = BTreeSet::new();
    for e in &events {
        match e {
            Event::DigestInvalid { key, verdict, .. } => {
                digests.insert((index_of_digest(key), verdict.to_string()));
            }
            Event::Log { key, verdict, .. } if *verdict != LogVerdict::Valid => {
                logs.insert((index_of_log(key), verdict.to_string()));
            }
            _ => {}
        }
    }
    ((digests, logs), events)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_walk_reports_what_the_reference_rules_predict(faults in proptest::collection::vec(fault(), 2..12)) {
        let ((digests, logs), sequential) = run(&faults, 1);
        let (want_digests, want_logs) = model(&faults);
        prop_assert_eq!(&digests, &want_digests, "faults {:?}", faults);
        prop_assert_eq!(&logs, &want_logs, "faults {:?}", faults);
        let (_, parallel) = run(&faults, 3);
        prop_assert_eq!(parallel, sequential);
    }
}
