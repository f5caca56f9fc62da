//! Audits with a ledger: the same report as without one, every change reported, and
//! only what changed read again.

use std::path::Path;

use super::super::tests::{on_every_tree, sample_trail};
use super::*;
use crate::audit::{ChainSummary, DigestState};
use crate::source::recorder::Watching;
use crate::{parse_utc, LocalDir, PublicKeySet};

/// The report without what only a run with a ledger says.
fn without_ledger_counts(mut report: AuditReport) -> AuditReport {
    for c in &mut report.chains {
        c.objects_read = None;
        c.objects_reused = None;
    }
    report
}

fn totals(chains: &[ChainSummary]) -> (usize, usize) {
    chains.iter().fold((0, 0), |(r, u), c| {
        (r + c.objects_read.unwrap(), u + c.objects_reused.unwrap())
    })
}

fn ledger_findings(report: &AuditReport) -> Vec<&Finding> {
    report
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::Changed { .. } | Finding::Removed { .. }))
        .collect()
}

type Time = chrono::DateTime<chrono::Utc>;

/// The sample trail's folder, its keys and window (as [`sample_trail`] gives them), and
/// the time to audit it at.
fn sample_run() -> (std::path::PathBuf, PublicKeySet, (Time, Time), Time) {
    let (_, keys, window) = sample_trail();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample");
    (sample, keys, window, parse_utc("2026-03-03T00:00:00Z").unwrap())
}

/// The key of each finding of `kind` (`changed` or `removed`), and whether it is a digest.
fn keys_and_kinds<'r>(report: &'r AuditReport, kind: &str) -> Vec<(&'r str, bool)> {
    report
        .findings
        .iter()
        .filter(|f| f.kind() == kind)
        .filter_map(|f| match f {
            Finding::Changed { key, digest, .. } | Finding::Removed { key, digest, .. } => {
                Some((key.as_str(), *digest))
            }
            _ => None,
        })
        .collect()
}

/// On every tree: a first run with an empty ledger and a second with the ledger it
/// wrote judge exactly as a run without one, the second reads only what cannot be
/// reused, and the ledger reads back as written.
#[test]
fn a_run_with_a_ledger_judges_as_one_without() {
    on_every_tree(|dir, _, _, audit, whole| {
        let scope = audit.ledger_scope().with("source", "local");
        let (first, ledger) = audit.run_with_ledger(Ledger::empty(scope.clone())).unwrap();
        let (read1, reused1) = totals(&first.chains);
        assert_eq!(reused1, 0, "{}", dir.display());
        // The ledger is made before the run judges: the keys it names are those of the
        // valid digests the report shows.
        let mut used: Vec<&str> = first
            .findings
            .iter()
            .filter_map(|f| match f {
                Finding::Digest {
                    state: DigestState::Valid { fingerprint, .. },
                    ..
                } => Some(fingerprint.as_str()),
                _ => None,
            })
            .collect();
        used.sort_unstable();
        used.dedup();
        assert_eq!(ledger.public_keys(), used, "{}", dir.display());
        assert_eq!(without_ledger_counts(first), whole, "{}", dir.display());

        let bytes = ledger.to_bytes();
        let back = Ledger::parse("l", &bytes, &scope).unwrap();
        assert_eq!(back, ledger, "{}", dir.display());

        let (second, next) = audit.run_with_ledger(back.clone()).unwrap();
        assert!(ledger_findings(&second).is_empty(), "{}", dir.display());
        let (read2, reused2) = totals(&second.chains);
        assert_eq!(read2 + reused2, read1, "the same objects, {}", dir.display());
        assert_eq!(reused2, ledger.digests() + ledger.logs(), "{}", dir.display());
        assert_eq!(without_ledger_counts(second), whole, "{}", dir.display());
        assert_eq!(next, ledger, "nothing changed, {}", dir.display());
        assert!(
            !ledger.is_unchanged(),
            "a first run makes its ledger, {}",
            dir.display()
        );
        assert!(next.is_unchanged(), "{}", dir.display());
    });
}

/// A run that finds nothing to change in its ledger hands back that ledger as it was,
/// head included (its time is still the first run's), and says so; another window, or
/// an object changed, makes a new one, timed by the run that made it.
#[test]
fn a_run_that_finds_nothing_new_hands_back_the_ledger_as_it_was() {
    let (sample, keys, window, now) = sample_run();
    let (dir, mirror) = mirror_copy(&sample);
    let audit_at = |window: (Time, Time), now: Time| {
        Audit::new(&mirror, &keys, mirror.buckets(), window, now)
            .unwrap()
            .jobs(2)
    };
    let scope = audit_at(window, now).ledger_scope();
    let (_, first) = audit_at(window, now)
        .run_with_ledger(Ledger::empty(scope.clone()))
        .unwrap();
    assert!(!first.is_unchanged());
    assert_eq!(first.written_at(), Some(now));
    let bytes = first.to_bytes();

    // A day later, nothing changed.
    let later = now + chrono::Duration::days(1);
    let (report, again) = audit_at(window, later)
        .run_with_ledger(Ledger::parse("l", &bytes, &scope).unwrap())
        .unwrap();
    assert_eq!(report.exit_code(), 0);
    assert!(again.is_unchanged());
    assert_eq!(again.written_at(), Some(now), "the time of the run that wrote it");
    assert_eq!(again.to_bytes(), bytes);

    // Another window: the same objects, but not the same ledger.
    let shorter = (window.0, window.1 - chrono::Duration::hours(1));
    let (_, other) = audit_at(shorter, later)
        .run_with_ledger(Ledger::parse("l", &bytes, &scope).unwrap())
        .unwrap();
    assert!(!other.is_unchanged());
    assert_eq!(other.written_at(), Some(later));
    assert_eq!(other.window(), Some(shorter));

    // A log rewritten in place: read again, and recorded anew.
    let logs = dir
        .path()
        .join("ctd-sample-bucket/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01");
    let mut names: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut log = std::fs::read(&names[0]).unwrap();
    let middle = log.len() / 2;
    log[middle] ^= 0x55;
    std::fs::write(&names[0], &log).unwrap();
    let (report, changed) = audit_at(window, later)
        .run_with_ledger(Ledger::parse("l", &bytes, &scope).unwrap())
        .unwrap();
    assert_eq!(keys_and_kinds(&report, "changed").len(), 1);
    assert!(!changed.is_unchanged());
    assert_eq!(changed.written_at(), Some(later));
    assert_ne!(changed.to_bytes(), bytes);
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the sample trail's mirror in a folder of its own (removed when dropped), and
/// the copy opened.
fn mirror_copy(sample: &Path) -> (tempfile::TempDir, LocalDir) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&sample.join("mirror"), dir.path());
    let mirror = LocalDir::new(dir.path()).unwrap();
    (dir, mirror)
}

/// The checks' scenario on a copy of the sample trail: a log rewritten with the same
/// size, a digest replaced, a forged log added and a log deleted are each reported,
/// and only those objects are read again.
#[test]
fn every_change_is_reported_and_only_changed_objects_are_read() {
    let (sample, keys, window, now) = sample_run();
    let (dir, mirror) = mirror_copy(&sample);
    let audit = Audit::new(&mirror, &keys, mirror.buckets(), window, now)
        .unwrap()
        .jobs(2);
    let scope = audit.ledger_scope();
    let (first, ledger) = audit.run_with_ledger(Ledger::empty(scope)).unwrap();
    assert_eq!(first.exit_code(), 0);

    let bucket = dir.path().join("ctd-sample-bucket");
    let logs = bucket.join("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01");
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // A log rewritten in place, same size.
    let rewritten = logs.join(&names[0]);
    let mut bytes = std::fs::read(&rewritten).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&rewritten, &bytes).unwrap();
    // A log deleted.
    std::fs::remove_file(logs.join(&names[1])).unwrap();
    // A forged log added.
    let forged = names[2].replace(".json.gz", "X.json.gz");
    std::fs::copy(logs.join(&names[2]), logs.join(&forged)).unwrap();
    // A digest replaced by another's bytes.
    let digests = bucket.join("AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/01");
    let mut digest_names: Vec<String> = std::fs::read_dir(&digests)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json.gz"))
        .collect();
    digest_names.sort();
    std::fs::copy(digests.join(&digest_names[4]), digests.join(&digest_names[5])).unwrap();

    let (second, _) = audit.run_with_ledger(ledger.clone()).unwrap();
    let key_of = |name: &str, folder: &Path| {
        folder
            .join(name)
            .strip_prefix(&bucket)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let changed = keys_and_kinds(&second, "changed");
    let mut expected_changed = vec![
        (key_of(&names[0], &logs), false),
        (key_of(&digest_names[5], &digests), true),
    ];
    expected_changed.sort();
    let mut changed_owned: Vec<(String, bool)> = changed.iter().map(|(k, d)| (k.to_string(), *d)).collect();
    changed_owned.sort();
    assert_eq!(changed_owned, expected_changed);
    let removed: Vec<&str> = second
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Removed {
                key, digest: false, ..
            } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(removed, [key_of(&names[1], &logs)]);
    assert!(second.findings.iter().any(|f| matches!(f,
        Finding::UnreferencedLog { key, .. } if *key == key_of(&forged, &logs))));
    // What the changes come to, as a run without a ledger finds it.
    let plain = Audit::new(&mirror, &keys, mirror.buckets(), window, now)
        .unwrap()
        .run()
        .unwrap();
    let mut judged = without_ledger_counts(second.clone());
    judged
        .findings
        .retain(|f| !matches!(f, Finding::Changed { .. } | Finding::Removed { .. }));
    assert_eq!(judged.findings, plain.findings);
    assert_eq!(second.exit_code(), 1);
    // Read again: the rewritten log, the replaced digest and the deleted log (found
    // missing); everything else came from the ledger.
    let (read, reused) = totals(&second.chains);
    assert_eq!(read, 3, "{:?}", second.chains);
    let (read1, _) = totals(&first.chains);
    // The replaced digest now fails, so the logs it listed are not checked at all.
    let unlisted = first
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::Log { digest_key, .. } if digest_key.ends_with(&digest_names[5])))
        .count();
    assert_eq!(read + reused + unlisted, read1);
    assert!(matches!(
        second.chains[0].status,
        Some(crate::audit::Status::Invalid)
    ));
}

/// A digest deleted since the last run is reported removed, whether its day folder was
/// listed alone (a local copy) or within its region folder's listing (a store that
/// lists in pages, S3).
#[test]
fn a_deleted_digest_is_reported_removed_however_its_folder_is_listed() {
    let (sample, keys, window, now) = sample_run();
    for paged in [false, true] {
        let (dir, mirror) = mirror_copy(&sample);
        let watching = Watching::new(&mirror, std::time::Duration::ZERO);
        let source = if paged { watching.paging() } else { watching };
        let audit = Audit::new(&source, &keys, mirror.buckets(), window, now)
            .unwrap()
            .jobs(2);
        let (_, ledger) = audit
            .run_with_ledger(Ledger::empty(audit.ledger_scope()))
            .unwrap();
        let folder = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/02";
        let deleted = std::fs::read_dir(dir.path().join("ctd-sample-bucket").join(folder))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".json.gz"))
            .min()
            .unwrap();
        std::fs::remove_file(dir.path().join("ctd-sample-bucket").join(folder).join(&deleted)).unwrap();
        let (second, _) = audit.run_with_ledger(ledger).unwrap();
        assert_eq!(
            keys_and_kinds(&second, "removed"),
            [(format!("{folder}/{deleted}").as_str(), true)],
            "paged: {paged}"
        );
    }
}

/// A ledger made for another audit's scope is refused before anything is read.
#[test]
fn a_ledger_of_another_scope_is_refused() {
    let (mirror, keys, window) = sample_trail();
    let audit = Audit::new(&mirror, &keys, mirror.buckets(), window, window.1).unwrap();
    let narrower = crate::plan::ChainFilter {
        accounts: vec!["111122223333".to_string()],
        ..Default::default()
    };
    let other = Ledger::empty(audit.ledger_scope());
    let narrow = Audit::new(&mirror, &keys, mirror.buckets(), window, window.1)
        .unwrap()
        .filter(narrower);
    match narrow.run_with_ledger(other) {
        Err(Error::Ledger { reason, .. }) => {
            assert_eq!(
                reason,
                "made for another scope: accounts  (this run: 111122223333)"
            )
        }
        other => panic!("{other:?}"),
    }
    // What the caller adds to the scope does not stand in the way.
    let (report, _) = audit
        .run_with_ledger(Ledger::empty(audit.ledger_scope().with("source", "local")))
        .unwrap();
    assert_eq!(report.exit_code(), 0);
}

/// The ledger read on its own thread while the audit lists (here slower than the
/// listings): the same report and the same next ledger as with the ledger given whole,
/// on every tree.
#[test]
fn a_ledger_read_while_the_audit_lists_gives_the_same_run() {
    on_every_tree(|dir, _, _, audit, _| {
        let scope = audit.ledger_scope().with("source", "local");
        let (_, ledger) = audit.run_with_ledger(Ledger::empty(scope)).unwrap();
        let given = audit.run_with_ledger(ledger.clone()).unwrap();
        let loaded = audit
            .run_with_ledger_from(|| {
                std::thread::sleep(std::time::Duration::from_millis(30));
                Ok::<_, ()>(ledger.clone())
            })
            .unwrap()
            .unwrap();
        assert_eq!(loaded, given, "{}", dir.display());
    });
}

/// A ledger that cannot be read stops the run before any object is read, and its
/// failure is what the caller gets, even when the run itself fails too; a ledger made
/// for another scope is refused before any object is read, however late it comes.
#[test]
fn a_ledger_is_waited_for_before_any_object_is_read() {
    let (mirror, keys, window) = sample_trail();
    let watched = Watching::new(&mirror, std::time::Duration::ZERO);
    let audit = Audit::new(&watched, &keys, mirror.buckets(), window, window.1).unwrap();

    let failed = audit.run_with_ledger_from(|| {
        std::thread::sleep(std::time::Duration::from_millis(30));
        Err::<Ledger, _>("cannot be read")
    });
    assert!(matches!(failed, Err("cannot be read")), "{failed:?}");
    let asked = watched.take();
    assert!(asked.contains(&"list"), "the listings went ahead: {asked:?}");
    assert!(!asked.contains(&"object"), "no object read: {asked:?}");

    let other = Ledger::empty(LedgerScope::new("validate-logs"));
    match audit.run_with_ledger_from(|| {
        std::thread::sleep(std::time::Duration::from_millis(30));
        Ok::<_, ()>(other)
    }) {
        Ok(Err(Error::Ledger { reason, .. })) => {
            assert!(reason.starts_with("made for another scope: "), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let asked = watched.take();
    assert!(!asked.contains(&"object"), "no object read: {asked:?}");

    // A run that fails on its own (a bucket that is not there) still gives the
    // ledger's failure.
    let missing = Audit::new(
        &watched,
        &keys,
        vec!["no-such-bucket".to_string()],
        window,
        window.1,
    )
    .unwrap();
    assert!(matches!(
        missing.run_with_ledger_from(|| Err::<Ledger, _>("cannot be read")),
        Err("cannot be read")
    ));
    assert!(matches!(
        missing.run_with_ledger_from(|| Ok::<_, ()>(Ledger::empty(missing.ledger_scope()))),
        Ok(Err(_))
    ));
}

/// Where the source knows identities without a request (S3), a log the ledger answers
/// for takes no thread of its own: a re-audit with nothing changed looks its logs up on
/// one thread, while a first run reads them on several; only what the ledger cannot
/// answer for is counted for the threads that wait on the store.
#[test]
fn logs_the_ledger_answers_for_take_no_thread_of_their_own() {
    let (mirror, keys, window) = sample_trail();
    let known = Watching::new(&mirror, std::time::Duration::ZERO).knowing_identities();
    let audit = Audit::new(&known, &keys, mirror.buckets(), window, window.1)
        .unwrap()
        .jobs(8);
    let scope = audit.ledger_scope().with("source", "local");
    let (first, ledger) = audit.run_with_ledger(Ledger::empty(scope)).unwrap();
    assert!(
        known.threads_asking_log_identities() > 1,
        "a first run reads its logs side by side"
    );
    let (second, _) = audit.run_with_ledger(ledger.clone()).unwrap();
    assert_eq!(known.threads_asking_log_identities(), 1);
    assert_eq!(without_ledger_counts(second), without_ledger_counts(first));

    let logs: Vec<(String, String)> = ledger
        .log_keys()
        .map(|(b, k)| (b.to_string(), k.to_string()))
        .collect();
    assert!(!logs.is_empty());
    let pairs = || logs.iter().map(|(b, k)| (b.as_str(), k.as_str()));
    let tracked = Tracked::new(&known, ledger.clone());
    assert_eq!(tracked.unanswered(pairs(), false), 0);
    assert_eq!(tracked.unanswered(pairs(), true), logs.len(), "not digests");
    // A copy's own identities take a read: every object counts.
    let unknown = Tracked::new(&mirror, ledger);
    assert_eq!(unknown.unanswered(pairs(), false), logs.len());
}
