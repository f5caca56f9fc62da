//! The audit through the library: findings are data, the same whatever the parallelism
//! and whether the source answers `list_folders` itself or through the default.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use cloudtrail_digest::audit::{
    Audit, AuditReport, DigestState, Finding, Progress, Status, DEFAULT_UNIT_HOURS,
};
use cloudtrail_digest::Object;
use cloudtrail_digest::{parse_utc, LocalDir, ObjectSource, PublicKeySet, SourceError};
use testgen::scenarios::key1_covering;
use testgen::times::utc;
use testgen::{Count, KeyRing, TrailSpec};

const BUCKET: &str = "ctd-lib-audit-bucket";

fn mirror(tag: &str) -> (PathBuf, PublicKeySet) {
    let root = std::env::temp_dir().join(format!("ctd-lib-audit-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let keys = KeyRing::test_keys();
    let mut spec = TrailSpec::new("111122223333", "lib-trail", BUCKET, utc(2026, 3, 1, 0, 17, 42));
    spec.hours = 7;
    spec.logs_per_hour = Count::Pattern(vec![0, 2, 1, 3, 0, 2, 1]);
    let plan = spec.plan();
    let mut trail = plan.seal(&keys);
    trail.delete_digest(3);
    trail.delete_digest(4);
    trail.write_to(&root.join("mirror")).unwrap();
    let (first, last) = plan.time_span().unwrap();
    let mut set = PublicKeySet::new();
    set.add_json("keys", key1_covering(&keys, first, last).as_bytes())
        .unwrap();
    (root, set)
}

/// A source that only lists, gets and opens: discovery goes through the default
/// `list_folders`.
struct Plain(LocalDir);

impl ObjectSource for Plain {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.0.list_until(bucket, prefix, start_after, stop)
    }
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        self.0.get(bucket, key)
    }
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.0.open(bucket, key)
    }
}

#[derive(Default)]
struct Counter {
    planned: AtomicU64,
    done: AtomicU64,
    bytes: AtomicU64,
}

impl Progress for Counter {
    fn planned(&self, files: u64) {
        self.planned.fetch_add(files, Ordering::Relaxed);
    }
    fn read(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
    fn done(&self, files: u64) {
        self.done.fetch_add(files, Ordering::Relaxed);
    }
}

fn t(s: &str) -> DateTime<Utc> {
    parse_utc(s).unwrap()
}

#[test]
fn missing_digests_are_data_and_runs_agree() {
    let (root, keys) = mirror("missing");
    let local = LocalDir::new(root.join("mirror")).unwrap();
    let window = (t("2026-03-01T00:00:00Z"), t("2026-03-01T08:00:00Z"));
    let now = t("2026-03-02T00:00:00Z");
    let progress = Counter::default();
    let report = Audit::new(&local, &keys, local.buckets(), window, now)
        .unwrap()
        .progress(&progress)
        .run()
        .unwrap();
    assert_eq!(report.exit_code(), 1);
    // 5 digests and the 6 logs they list were read.
    assert_eq!(progress.planned.load(Ordering::Relaxed), 5 + 6);
    assert_eq!(progress.done.load(Ordering::Relaxed), 5 + 6);
    assert!(progress.bytes.load(Ordering::Relaxed) > 0);

    let chain = "111122223333/us-east-1/lib-trail@us-east-1";
    let key = |stamp: &str| {
        format!("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/111122223333_CloudTrail-Digest_us-east-1_lib-trail_us-east-1_{stamp}.json.gz")
    };
    let runs: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::MissingDigests { .. }))
        .collect();
    let [Finding::MissingDigests {
        chain: c,
        bucket,
        from,
        to,
        count,
        keys: missing,
        ..
    }] = runs.as_slice()
    else {
        panic!("one run expected: {runs:?}");
    };
    assert_eq!((c.as_str(), bucket.as_str(), *count), (chain, BUCKET, 2));
    assert_eq!(
        (*from, *to),
        (t("2026-03-01T03:17:42Z"), t("2026-03-01T05:17:42Z"))
    );
    assert_eq!(missing, &vec![key("20260301T041742Z"), key("20260301T051742Z")]);
    let missing_digests: Vec<&String> = report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::Digest {
                key,
                state: DigestState::Missing { .. },
                ..
            } => Some(key),
            _ => None,
        })
        .collect();
    assert_eq!(
        missing_digests,
        vec![&key("20260301T041742Z"), &key("20260301T051742Z")]
    );
    assert_eq!(report.chains.len(), 1);
    assert_eq!(report.chains[0].digests_missing, 2);
    assert_eq!(report.chains[0].status, Some(Status::Invalid));

    // The same report single-threaded, and through the default list_folders.
    let single = Audit::new(&local, &keys, local.buckets(), window, now)
        .unwrap()
        .jobs(1)
        .run()
        .unwrap();
    assert_eq!(single, report);
    let plain = Plain(LocalDir::new(root.join("mirror")).unwrap());
    let through_default = Audit::new(&plain, &keys, vec![BUCKET.to_string()], window, now)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(through_default, report);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_reversed_window_is_refused_and_an_empty_one_finds_nothing() {
    let (root, keys) = mirror("empty");
    let local = LocalDir::new(root.join("mirror")).unwrap();
    let now = t("2026-03-02T00:00:00Z");
    assert!(Audit::new(
        &local,
        &keys,
        local.buckets(),
        (now, t("2026-03-01T00:00:00Z")),
        now
    )
    .is_err());
    let report = Audit::new(
        &local,
        &keys,
        local.buckets(),
        (t("2026-02-01T00:00:00Z"), t("2026-02-02T00:00:00Z")),
        now,
    )
    .unwrap()
    .run()
    .unwrap();
    assert!(report.chains.is_empty() && report.findings.is_empty());
    assert_eq!(report.exit_code(), 3);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A fresh scratch folder for one test.
fn scratch(tag: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("ctd-lib-audit-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    root
}

/// A trail of account 111122223333 in `BUCKET` with one log an hour.
fn hourly(trail: &str, start: DateTime<Utc>, hours: u32) -> TrailSpec {
    let mut spec = TrailSpec::new("111122223333", trail, BUCKET, start);
    spec.hours = hours;
    spec.logs_per_hour = Count::Fixed(1);
    spec
}

/// The test key, valid from `start` to `end`.
fn key_between(keys: &KeyRing, start: DateTime<Utc>, end: DateTime<Utc>) -> PublicKeySet {
    let mut set = PublicKeySet::new();
    set.add_json("keys", key1_covering(keys, start, end).as_bytes())
        .unwrap();
    set
}

/// Runs every unit of the audit's plan in units of each of `hours`, writes the parts
/// out, reads them back and merges them: each time, the whole run's report.
fn split_merges_to(
    audit: &Audit<'_>,
    source: &LocalDir,
    keys: &PublicKeySet,
    whole: &AuditReport,
    hours: &[u32],
) {
    use cloudtrail_digest::audit::{merge, read_unit, Part};
    for hours in hours {
        let plan = audit.plan(*hours).unwrap();
        let mut written = Vec::new();
        for unit in &plan {
            read_unit(source, keys, unit, 2, None)
                .unwrap()
                .write_to(&mut written)
                .unwrap();
        }
        let parts = Part::read_all(&mut &written[..], "parts").unwrap();
        assert_eq!(&merge(parts).unwrap(), whole, "in units of {hours} hours");
    }
}

/// Two trails of one account and region share a log folder. A log no digest lists,
/// delivered while only the second trail runs, is judged against that trail's digests;
/// a split audit (one unit per trail) must fold the shared folder's listing back together
/// to say the same.
#[test]
fn a_split_audit_judges_a_shared_log_folder_as_one_run_does() {
    let root = scratch("shared");
    let keys = KeyRing::test_keys();
    let first = hourly("first-trail", utc(2026, 3, 1, 0, 17, 42), 3);
    let second = hourly("second-trail", utc(2026, 3, 1, 4, 21, 7), 3);
    let (a, b) = (first.plan(), second.plan());
    a.seal(&keys).write_to(&root.join("mirror")).unwrap();
    b.seal(&keys).write_to(&root.join("mirror")).unwrap();
    // Planted in the shared folder at 05:30, inside the second trail's hours only.
    let planted = root.join(format!(
        "mirror/{BUCKET}/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0530Z_PlantedPlantedPl.json.gz"
    ));
    std::fs::write(&planted, b"not even gzip").unwrap();
    let (start, _) = a.time_span().unwrap();
    let (_, end) = b.time_span().unwrap();
    let set = key_between(&keys, start, end);

    let local = LocalDir::new(root.join("mirror")).unwrap();
    let window = (t("2026-03-01T00:00:00Z"), t("2026-03-01T08:00:00Z"));
    let now = t("2026-03-02T00:00:00Z");
    let audit = Audit::new(&local, &set, local.buckets(), window, now).unwrap();
    let whole = audit.run().unwrap();
    let injected = whole
        .findings
        .iter()
        .find_map(|f| match f {
            Finding::UnreferencedLog {
                chain, key, reason, ..
            } if key.contains("Planted") => Some((chain.clone(), reason.clone())),
            _ => None,
        })
        .expect("the planted log is found");
    assert!(injected.0.contains("second-trail"), "{injected:?}");
    assert!(injected.1.contains("injected or forged"), "{injected:?}");

    assert_eq!(
        audit.plan(DEFAULT_UNIT_HOURS).unwrap().len(),
        2,
        "one unit per trail"
    );
    // Whole chains, and chains in slices of an hour and of five.
    split_merges_to(&audit, &local, &set, &whole, &[DEFAULT_UNIT_HOURS, 1, 5]);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A chain over three days whose first digests sit in a bucket the audit is not given
/// (the trail's bucket changed), with logs no digest lists planted on two days (one in
/// the other bucket, on a day none of the chain's digests there is from). Split
/// in slices of an hour, five hours and a day, the parts merge to the whole run's
/// report: the slice that holds the first digest of the audited bucket fetches its
/// predecessors from the other bucket as the whole run does, the slices after it do not
/// (their predecessors are other slices' digests), each day of the log folder is
/// listed by one unit, and the other bucket's folder is listed as the whole run lists it.
#[test]
fn a_chain_split_in_time_merges_to_the_whole_run() {
    let root = scratch("sliced");
    let keys = KeyRing::test_keys();
    let mut plan = hourly("long-trail", utc(2026, 3, 1, 20, 17, 42), 30).plan();
    for d in &mut plan.digests[..4] {
        d.set_bucket("ctd-lib-audit-old-bucket");
    }
    let trail = plan.seal(&keys);
    trail.write_to(&root.join("mirror")).unwrap();
    let folder = |bucket: &str| {
        root.join(format!(
            "mirror/{bucket}/AWSLogs/111122223333/CloudTrail/us-east-1"
        ))
    };
    // Two in the audited bucket, and one on the last day in the other bucket, whose log
    // folder the whole run lists because the chain has digests there.
    for (bucket, day, stamp) in [
        (BUCKET, "02", "20260302T1130Z"),
        (BUCKET, "03", "20260303T0105Z"),
        ("ctd-lib-audit-old-bucket", "03", "20260303T0215Z"),
    ] {
        let dir = folder(bucket).join(format!("2026/03/{day}"));
        std::fs::create_dir_all(&dir).unwrap();
        let name = format!("111122223333_CloudTrail_us-east-1_{stamp}_PlantedPlantedPl.json.gz");
        std::fs::write(dir.join(name), b"not even gzip").unwrap();
    }
    let (start, end) = plan.time_span().unwrap();
    let set = key_between(&keys, start, end);

    let local = LocalDir::new(root.join("mirror")).unwrap();
    let window = (t("2026-03-01T00:00:00Z"), t("2026-03-03T06:00:00Z"));
    let now = t("2026-03-04T00:00:00Z");
    let audit = Audit::new(&local, &set, vec![BUCKET.to_string()], window, now).unwrap();
    let whole = audit.run().unwrap();
    let from_old = whole
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::Digest { bucket, .. } if bucket == "ctd-lib-audit-old-bucket"))
        .count();
    assert_eq!(from_old, 4, "the predecessors in the other bucket are read");
    let planted = whole
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::UnreferencedLog { key, .. } if key.contains("Planted")))
        .count();
    assert_eq!(planted, 3, "the planted logs are found, in both buckets");

    assert_eq!(audit.plan(DEFAULT_UNIT_HOURS).unwrap().len(), 1);
    for hours in [1, 5, 24] {
        assert!(audit.plan(hours).unwrap().len() > 1, "{hours} hours");
    }
    split_merges_to(&audit, &local, &set, &whole, &[1, 5, 24]);
    std::fs::remove_dir_all(&root).unwrap();
}
