//! `export` against a real query engine: DuckDB (PyPI `duckdb`, pinned in
//! tools/export-test/requirements.txt, installed by scripts/test-all) loads what the
//! command writes, through tools/export-test/duckdb_counts.py. On trees with forged,
//! tampered, misplaced and valid logs: every record of every verified log must be there
//! exactly once, counts by eventName and by log must match the logs themselves (read
//! here independently), no record of a log that did not verify may appear unless asked,
//! every record's bytes must be found at its offset in its inflated log, and the output
//! must be the same on every run. Without DuckDB the tests print why and skip, except
//! under CI, where they fail.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::{Digest, Sha256};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Trees with their windows: forged (unreferenced), tampered, misplaced, stored
/// decompressed, several accounts and regions, an organization trail.
const TREES: [(&str, &str, &str); 7] = [
    ("audit/forged-log", "2026-03-01T00:00:00Z", "2026-03-01T08:00:00Z"),
    (
        "audit/misplaced-log",
        "2026-03-01T00:00:00Z",
        "2026-03-01T08:00:00Z",
    ),
    (
        "audit/multi-account-multi-region",
        "2026-03-01T00:00:00Z",
        "2026-03-01T08:00:00Z",
    ),
    (
        "scenarios/tampered-log",
        "2026-03-01T00:00:00Z",
        "2026-03-01T08:00:00Z",
    ),
    (
        "scenarios/deleted-log",
        "2026-03-01T00:00:00Z",
        "2026-03-01T08:00:00Z",
    ),
    (
        "scenarios/log-stored-decompressed",
        "2026-03-01T00:00:00Z",
        "2026-03-01T08:00:00Z",
    ),
    (
        "scenarios/organization-trail",
        "2026-03-01T00:00:00Z",
        "2026-03-01T08:00:00Z",
    ),
];

fn run(command: &str, tree: &str, window: (&str, &str), extra: &[&str]) -> Output {
    let dir = repo().join("testdata").join(tree);
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .arg(command)
        .arg("--local-dir")
        .arg(dir.join("mirror"))
        .arg("--public-keys")
        .arg(dir.join("public-keys.json"))
        .args([
            "--start-time",
            window.0,
            "--end-time",
            window.1,
            "--now",
            "2026-03-02T00:00:00Z",
        ])
        .args(extra)
        .output()
        .expect("run cloudtrail-digest")
}

fn lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8(out.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The python with DuckDB, or `None` (with a note) outside CI.
fn duckdb() -> Option<PathBuf> {
    let python = std::env::var_os("CTD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/reference-venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    match ok {
        true => Some(python),
        false if std::env::var_os("CI").is_some() => {
            panic!(
                "DuckDB is required in CI (scripts/test-all installs it into {})",
                python.display()
            )
        }
        false => {
            eprintln!("SKIPPED: the export tests need DuckDB in {}", python.display());
            None
        }
    }
}

/// What DuckDB makes of `path`.
fn query(python: &Path, path: &str, hive: bool) -> Value {
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tools/export-test/duckdb_counts.py"))
        .arg(path);
    if hive {
        cmd.arg("--hive");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A log's content, inflated (or as stored, when it is not gzip).
fn content(tree: &str, bucket: &str, key: &str) -> Vec<u8> {
    let stored = std::fs::read(
        repo()
            .join("testdata")
            .join(tree)
            .join("mirror")
            .join(bucket)
            .join(key),
    )
    .unwrap();
    let mut inflated = Vec::new();
    match flate2::read::GzDecoder::new(&stored[..]).read_to_end(&mut inflated) {
        Ok(_) => inflated,
        Err(_) => stored,
    }
}

/// The audit's verdict on each log (`(bucket, key)` → status, digest key).
fn log_findings(tree: &str, window: (&str, &str)) -> BTreeMap<(String, String), (String, Option<String>)> {
    let out = run("audit", tree, window, &["--output", "ndjson"]);
    lines(&out.stdout)
        .into_iter()
        .filter(|f| f["kind"] == "log" || f["kind"] == "unreferenced_log")
        .map(|f| {
            let id = (
                f["bucket"].as_str().unwrap().to_string(),
                f["key"].as_str().unwrap().to_string(),
            );
            let status = if f["kind"] == "unreferenced_log" {
                "unreferenced".to_string()
            } else {
                f["status"].as_str().unwrap().to_string()
            };
            (id, (status, f["digest_key"].as_str().map(str::to_string)))
        })
        .collect()
}

/// Counts by eventName and by log key of the logs `wanted`, read here.
fn expected_counts(
    tree: &str,
    wanted: &BTreeSet<(String, String)>,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>, u64) {
    let (mut by_name, mut by_log, mut total) = (BTreeMap::new(), BTreeMap::new(), 0);
    for (bucket, key) in wanted {
        let log: Value = serde_json::from_slice(&content(tree, bucket, key)).unwrap();
        for r in log["Records"].as_array().unwrap() {
            *by_name
                .entry(r["eventName"].as_str().unwrap().to_string())
                .or_default() += 1;
            *by_log.entry(key.clone()).or_default() += 1;
            total += 1;
        }
    }
    (by_name, by_log, total)
}

fn as_counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

#[test]
fn exported_records_are_exactly_the_verified_logs_with_their_bytes_and_provenance() {
    let Some(python) = duckdb() else { return };
    let scratch = std::env::temp_dir().join(format!("ctd-export-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    for (tree, start, end) in TREES {
        let window = (start, end);
        let findings = log_findings(tree, window);
        let audit = run("audit", tree, window, &["--output", "ndjson"]);
        for include in [false, true] {
            let extra: &[&str] = if include { &["--include-unverified"] } else { &[] };
            let out = run("export", tree, window, extra);
            assert_eq!(
                out.status.code(),
                audit.status.code(),
                "{tree}: the audit's exit code"
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("exported ") && stderr.contains("\nverdict: "),
                "{stderr}"
            );
            let records = lines(&out.stdout);
            // Which logs must be there: the valid ones, and with --include-unverified
            // those that could be read (not missing).
            let wanted: BTreeSet<(String, String)> = findings
                .iter()
                .filter(|(id, (status, _))| {
                    status == "valid"
                        || (include
                            && status != "missing"
                            && repo()
                                .join("testdata")
                                .join(tree)
                                .join("mirror")
                                .join(&id.0)
                                .join(&id.1)
                                .is_file())
                })
                .map(|(id, _)| id.clone())
                .collect();
            for r in &records {
                let id = (
                    r["log_bucket"].as_str().unwrap().to_string(),
                    r["log_key"].as_str().unwrap().to_string(),
                );
                let (status, digest_key) = &findings[&id];
                assert_eq!(r["status"].as_str().unwrap(), status, "{tree}: {id:?}");
                assert!(
                    include || status == "valid",
                    "{tree}: an unverified record without asking: {id:?}"
                );
                assert_eq!(r["digest_key"].as_str(), digest_key.as_deref(), "{tree}");
                let bytes = content(tree, &id.0, &id.1);
                let (offset, length) = (
                    r["offset"].as_u64().unwrap() as usize,
                    r["length"].as_u64().unwrap() as usize,
                );
                assert_eq!(
                    &bytes[offset..offset + length],
                    r["raw"].as_str().unwrap().as_bytes(),
                    "{tree}: raw bytes at the offset"
                );
                if status == "valid" {
                    assert_eq!(
                        r["log_sha256"].as_str().unwrap(),
                        hex::encode(Sha256::digest(&bytes)),
                        "{tree}"
                    );
                    assert_eq!(r["digest_fingerprint"].as_str().map(str::len), Some(32), "{tree}");
                    assert!(r["signature_source"].is_string(), "{tree}");
                } else {
                    assert!(r["log_sha256"].is_null() || status == "invalid", "{tree}");
                }
            }
            let file = scratch.join(format!("{}-{include}.ndjson", tree.replace('/', "-")));
            std::fs::write(&file, &out.stdout).unwrap();
            let (by_name, by_log, total) = expected_counts(tree, &wanted);
            let loaded = query(&python, &file.display().to_string(), false);
            assert_eq!(
                loaded["records"].as_u64().unwrap(),
                total,
                "{tree} include={include}"
            );
            assert_eq!(records.len() as u64, total, "{tree}");
            if total > 0 {
                assert_eq!(as_counts(&loaded["by_event_name"]), by_name, "{tree}");
                assert_eq!(as_counts(&loaded["by_log"]), by_log, "{tree}");
                assert_eq!(loaded["types"]["eventTime"], "TIMESTAMP", "{tree}");
            }
            // The same input gives the same output.
            assert_eq!(
                run("export", tree, window, extra).stdout,
                out.stdout,
                "{tree}: deterministic"
            );
            // Parquet holds the same records.
            let dir = scratch.join(format!("{}-{include}-parquet", tree.replace('/', "-")));
            let dir_text = dir.display().to_string();
            let mut args = vec!["--format", "parquet", "--out", &dir_text];
            args.extend_from_slice(extra);
            let out = run("export", tree, window, &args);
            assert_eq!(
                out.status.code(),
                audit.status.code(),
                "{tree}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            if total > 0 {
                let loaded = query(&python, &format!("{dir_text}/**/*.parquet"), true);
                assert_eq!(loaded["records"].as_u64().unwrap(), total, "{tree} parquet");
                assert_eq!(as_counts(&loaded["by_event_name"]), by_name, "{tree} parquet");
                assert_eq!(as_counts(&loaded["by_log"]), by_log, "{tree} parquet");
                assert_eq!(loaded["types"]["eventTime"], "TIMESTAMP WITH TIME ZONE", "{tree}");
                assert_eq!(loaded["types"]["offset"], "BIGINT", "{tree}");
            }
        }
        // Bad logs are there to be left out: each tree has some, or is clean.
        let bad = findings.values().filter(|(s, _)| s != "valid").count();
        let stderr = String::from_utf8_lossy(&run("export", tree, window, &[]).stderr).into_owned();
        assert_eq!(bad > 0, stderr.contains("left out the logs:"), "{tree}: {stderr}");
    }
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn partition_folders_load_with_hive_partitioning_and_match_the_stream() {
    let Some(python) = duckdb() else { return };
    let tree = "audit/multi-account-multi-region";
    let window = ("2026-03-01T00:00:00Z", "2026-03-01T08:00:00Z");
    let scratch = std::env::temp_dir().join(format!("ctd-export-hive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let (a, b) = (scratch.join("a"), scratch.join("b"));
    for dir in [&a, &b] {
        let out = run(
            "export",
            tree,
            window,
            &["--out", &dir.display().to_string(), "--gzip"],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    // The same files, byte for byte, on every run.
    let tree_of = |root: &Path| -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.insert(
                        p.strip_prefix(root).unwrap().display().to_string(),
                        std::fs::read(&p).unwrap(),
                    );
                }
            }
        }
        files
    };
    let files = tree_of(&a);
    assert_eq!(files, tree_of(&b), "deterministic");
    assert!(
        files
            .keys()
            .all(|f| f.starts_with("account=") && f.ends_with(".ndjson.gz")),
        "{:?}",
        files.keys()
    );
    let stream = run("export", tree, window, &[]).stdout;
    let glob = format!("{}/**/*.ndjson.gz", a.display());
    let loaded = query(&python, &glob, true);
    assert_eq!(loaded["records"].as_u64().unwrap(), lines(&stream).len() as u64);
    // Each record's partition is its log's account, region and delivery date.
    for p in loaded["partitions"].as_array().unwrap() {
        let (key, account, region, date) = (p[0].as_str().unwrap(), &p[1], &p[2], &p[3]);
        let name = key.rsplit('/').next().unwrap();
        let parts: Vec<&str> = name.split('_').collect();
        assert_eq!(account.as_str().unwrap(), parts[0], "{key}");
        assert_eq!(region.as_str().unwrap(), parts[2], "{key}");
        let stamp = parts[3];
        let day = format!("{}-{}-{}", &stamp[0..4], &stamp[4..6], &stamp[6..8]);
        assert_eq!(date.as_str().unwrap(), day, "{key}");
    }
    // Parquet: the same records, the same files on every run, in the same partitions.
    let (pa, pb) = (scratch.join("pa"), scratch.join("pb"));
    for dir in [&pa, &pb] {
        let out = run(
            "export",
            tree,
            window,
            &["--format", "parquet", "--out", &dir.display().to_string()],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let parquet_files = tree_of(&pa);
    assert_eq!(parquet_files, tree_of(&pb), "deterministic");
    assert!(parquet_files.keys().all(|f| f.ends_with(".parquet")));
    let parquet = query(&python, &format!("{}/**/*.parquet", pa.display()), true);
    assert_eq!(parquet["records"], loaded["records"]);
    assert_eq!(parquet["partitions"], loaded["partitions"]);
    assert!(
        parquet_files.len() * 4 < lines(&stream).len(),
        "files hold many records, not one each"
    );
    // Parquet needs a directory, and is not gzip'd.
    for bad in [
        &["--format", "parquet"][..],
        &["--format", "parquet", "--out", "x", "--gzip"][..],
    ] {
        assert_eq!(run("export", tree, window, bad).status.code(), Some(2), "{bad:?}");
    }
    // An export never mixes with an earlier one.
    let again = run("export", tree, window, &["--out", &a.display().to_string()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    std::fs::remove_dir_all(&scratch).unwrap();
}
