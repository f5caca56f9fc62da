//! The audit's reads, written out and read back, judge to the whole run's report.

use std::path::{Path, PathBuf};

use super::*;
use crate::{parse_utc, LocalDir, PublicKeySet};

/// Every audit and scenario tree, with its window and "now" (an audit tree's own, or
/// the standard one the audit tests use for scenario trees).
pub(super) fn trees() -> Vec<(PathBuf, Span, DateTime<Utc>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata");
    let mut out = Vec::new();
    for kind in ["audit", "scenarios"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("mirror").is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let mut args = vec![
                "--start-time".to_string(),
                "2026-03-01T00:00:00Z".into(),
                "--end-time".into(),
                "2026-03-01T08:00:00Z".into(),
                "--now".into(),
                "2026-03-02T00:00:00Z".into(),
            ];
            if let Ok(bytes) = std::fs::read(dir.join("audit.json")) {
                let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                args = doc["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect();
            }
            let option = |name: &str| {
                let at = args.iter().position(|a| a == name).unwrap();
                parse_utc(&args[at + 1]).unwrap()
            };
            out.push((
                dir,
                (option("--start-time"), option("--end-time")),
                option("--now"),
            ));
        }
    }
    assert!(out.len() > 20, "the trees are found");
    out
}

/// A tree's mirror and keys.
pub(super) fn tree_source(dir: &Path) -> (LocalDir, PublicKeySet) {
    let mirror = LocalDir::new(dir.join("mirror")).unwrap();
    let mut keys = PublicKeySet::new();
    keys.add_file(&dir.join("public-keys.json")).unwrap();
    (mirror, keys)
}

/// The bundled sample trail's mirror and keys, and the window of its two days.
pub(super) fn sample_trail() -> (LocalDir, PublicKeySet, (DateTime<Utc>, DateTime<Utc>)) {
    let (mirror, keys) = tree_source(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample"));
    let window = (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-02T01:00:00Z").unwrap(),
    );
    (mirror, keys, window)
}

/// Calls `check` with every tree, its mirror and keys, its audit (two jobs) and that
/// audit's whole-run report.
pub(super) fn on_every_tree(mut check: impl FnMut(&Path, &LocalDir, &PublicKeySet, &Audit<'_>, AuditReport)) {
    for (dir, window, now) in trees() {
        let (mirror, keys) = tree_source(&dir);
        let audit = Audit::new(&mirror, &keys, mirror.buckets(), window, now)
            .unwrap()
            .jobs(2);
        let whole = audit.run().unwrap();
        check(&dir, &mirror, &keys, &audit, whole);
    }
}

/// What one process reads, written out and read back, judges to exactly the report
/// of a whole run, on every tree: the reads lose nothing a verdict depends on.
#[test]
fn reads_written_and_read_back_judge_to_the_same_report() {
    on_every_tree(|dir, mirror, keys, audit, whole| {
        assert!(!whole.findings.is_empty(), "{}", dir.display());

        let metered = Metered::new(mirror);
        let written = serde_json::to_string(&audit.read(&metered, &metered, None, None).unwrap()).unwrap();
        let mut back: Reads = serde_json::from_str(&written).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            written,
            "{}",
            dir.display()
        );
        let events = |bucket: &str, key: &str, trail: &str| events::trail_events(mirror, bucket, key, trail);
        audit
            .judge()
            .judge(&mut back.groups, &back.listings, &events, &Default::default());
        assert_eq!(audit.judge().assemble(back.groups), whole, "{}", dir.display());

        // Recording the trail events while reading: judged without the mirror.
        let mut recording = Audit::new(mirror, keys, mirror.buckets(), audit.window, audit.now)
            .unwrap()
            .jobs(2);
        recording.record_events = true;
        let written =
            serde_json::to_string(&recording.read(&metered, &metered, None, None).unwrap()).unwrap();
        let mut back: Reads = serde_json::from_str(&written).unwrap();
        for log in back.groups.iter().flat_map(|g| &g.logs) {
            assert!(
                log.events.is_some(),
                "every log's events are recorded: {}",
                log.job.key
            );
        }
        let recorded = split::recorded_events(&back);
        let events = |bucket: &str, key: &str, trail: &str| {
            let id = (bucket.to_string(), key.to_string(), trail.to_string());
            recorded.get(&id).cloned().unwrap_or_default()
        };
        recording
            .judge()
            .judge(&mut back.groups, &back.listings, &events, &Default::default());
        assert_eq!(
            recording.judge().assemble(back.groups),
            whole,
            "{}",
            dir.display()
        );
    });
}

/// The log day folders of the chains whose digest day folders a run found are listed
/// beside those (in S3, one round of listings to wait for instead of two), and no day
/// folder is listed twice; the report is the one of a run whose listings do not wait.
#[test]
fn log_day_folders_are_listed_beside_the_digest_day_folders() {
    use crate::source::recorder::{KeyListing, Watching};
    let (mirror, keys, window) = sample_trail();
    let slow = Watching::new(&mirror, std::time::Duration::from_millis(40));
    let audit = |source| {
        Audit::new(source, &keys, mirror.buckets(), window, window.1)
            .unwrap()
            .jobs(8)
    };
    assert_eq!(audit(&slow).run().unwrap(), audit(&mirror).run().unwrap());

    let mut day_folders = Vec::new();
    for folder in ["CloudTrail-Digest", "CloudTrail"] {
        for region in ["eu-west-1", "us-east-1"] {
            for day in ["01", "02"] {
                day_folders.push(format!("AWSLogs/111122223333/{folder}/{region}/2026/03/{day}/"));
            }
        }
    }
    day_folders.sort();
    let listings = slow.take_key_listings();
    let mut before_any_ended: Vec<String> = listings.iter().map_while(KeyListing::started).collect();
    before_any_ended.sort();
    assert_eq!(before_any_ended, day_folders, "{listings:?}");
    let mut all: Vec<String> = listings.iter().filter_map(KeyListing::started).collect();
    all.sort();
    assert_eq!(all, day_folders, "each day folder listed once");
}

/// A store that lists in pages (S3) has the digest day folders of a region listed in
/// one listing, from the first day to the last; the report is the same.
#[test]
fn digest_day_folders_of_a_paged_store_are_listed_once_a_region() {
    use crate::source::recorder::{KeyListing, Watching};
    let (mirror, keys, window) = sample_trail();
    let paged = Watching::new(&mirror, std::time::Duration::ZERO).paging();
    let audit = |source| {
        Audit::new(source, &keys, mirror.buckets(), window, window.1)
            .unwrap()
            .jobs(8)
    };
    assert_eq!(audit(&paged).run().unwrap(), audit(&mirror).run().unwrap());
    let mut started: Vec<String> = paged
        .take_key_listings()
        .iter()
        .filter_map(KeyListing::started)
        .collect();
    started.sort();
    let mut expected = Vec::new();
    for region in ["eu-west-1", "us-east-1"] {
        expected.push(format!("AWSLogs/111122223333/CloudTrail-Digest/{region}/"));
        for day in ["01", "02"] {
            expected.push(format!("AWSLogs/111122223333/CloudTrail/{region}/2026/03/{day}/"));
        }
    }
    expected.sort();
    assert_eq!(started, expected);
}

#[test]
fn events_of_content_read_are_those_of_the_log() {
    let content =
        br#"{"Records":[{"eventName":"\u0053topLogging","eventTime":"t","requestParameters":{"name":"t"}}]}"#;
    let found = events::trail_events_in(content, "b", "k", "t");
    assert_eq!(found.len(), 1, "an escaped name is still found");
    assert_eq!(found[0].name, "StopLogging");
    let plain = br#"{"Records":[{"eventName":"DescribeTrails","requestParameters":{"name":"t"}}]}"#;
    assert!(events::trail_events_in(plain, "b", "k", "t").is_empty());
}

#[test]
fn a_fixed_word_that_this_crate_did_not_write_is_refused() {
    let ok: crate::verdict::DigestVerdict =
        serde_json::from_str(r#"{"NotAnObject":{"type_name":"list"}}"#).unwrap();
    assert_eq!(ok.to_string(), "list indices must be integers or slices, not str");
    let err = serde_json::from_str::<crate::verdict::DigestVerdict>(r#"{"BadSignatureHex":"made up"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("unknown word \"made up\""), "{err}");
}

/// The JSON document that the report writes a member at a time is the document
/// serde_json prints pretty from the whole report, and NDJSON its objects a line each,
/// on every tree and on a report without chains.
#[test]
fn json_written_a_member_at_a_time_is_the_whole_document_printed_pretty() {
    fn whole_document(report: &AuditReport) -> Vec<u8> {
        let (findings, chains): (Vec<serde_json::Value>, Vec<serde_json::Value>) = report
            .objects()
            .into_iter()
            .partition(|o| o["kind"] != "chain_summary");
        let doc = serde_json::json!({
            "window": {"from": crate::time::display(report.window.0), "to": crate::time::display(report.window.1)},
            "now": crate::time::display(report.now),
            "delivery_allowance_minutes": report.allowance.num_minutes(),
            "findings": findings,
            "chains": chains,
            "verdict": {"exit_code": report.exit_code(), "summary": report.verdict(), "archived": report.archived()},
        });
        let mut out = serde_json::to_vec_pretty(&doc).unwrap();
        out.push(b'\n');
        out
    }
    fn lines(report: &AuditReport) -> Vec<u8> {
        let mut out = Vec::new();
        for o in report.objects() {
            serde_json::to_writer(&mut out, &o).unwrap();
            out.push(b'\n');
        }
        out
    }
    let mut reports = vec![AuditReport {
        window: (
            parse_utc("2026-03-01T00:00:00Z").unwrap(),
            parse_utc("2026-03-01T08:00:00Z").unwrap(),
        ),
        now: parse_utc("2026-03-02T00:00:00Z").unwrap(),
        allowance: DEFAULT_DELIVERY_ALLOWANCE,
        findings: Vec::new(),
        chains: Vec::new(),
    }];
    on_every_tree(|_, _, _, _, whole| reports.push(whole));
    for report in &reports {
        let mut json = Vec::new();
        report.write_json(&mut json).unwrap();
        let expected = whole_document(report);
        assert!(
            json == expected,
            "{}\n---- expected ----\n{}",
            String::from_utf8_lossy(&json),
            String::from_utf8_lossy(&expected)
        );
        let mut ndjson = Vec::new();
        report.write_ndjson(&mut ndjson).unwrap();
        assert_eq!(ndjson, lines(report));
    }
}
