//! Against a real S3-compatible server on loopback (moto, see tests/support): metadata
//! round trip, start-after listing, `validate-logs` in S3 equal to the local goldens for
//! every scenario, bucket mapping from a replica bucket and from a directory, `mirror`
//! round trip and resume, and public keys from a ListPublicKeys endpoint served here.

#![cfg(feature = "s3")]

mod support;
mod tree;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cloudtrail_digest::aws::{AwsSession, AwsSettings};
use cloudtrail_digest::{MetadataOrigin, ObjectSource, S3Source, SourceErrorKind};
use serde_json::Value;
use support::scenarios::{case_args, golden, scenarios, spec};
use support::*;

/// Kept out of the uploads by name, so the mapping tests can show that reads go to the
/// mapped target: nothing else holds this bucket.
const MAPPED_ONLY: &str = "gap-stopped-logging";

/// Its planted keys are refused because they would leave a local mirror; S3 holds keys
/// like `a\\b` as it holds any other, so there the verdicts differ (see
/// `planted_keys_are_refused_or_missing_in_s3`).
const LOCAL_ONLY: &str = "hostile-input";

fn arg_value(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).map(|i| args[i + 1].clone())
}

/// Uploads a scenario's buckets once per test binary.
fn ensure_uploaded(m: &Moto, name: &str) {
    static DONE: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let done = DONE.get_or_init(Default::default);
    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
    if done.insert(name.to_string()) {
        upload_mirror(m, &scenarios().join(name).join("mirror"));
    }
}

fn s3_args(m: &Moto, name: &str, case: &str) -> Vec<String> {
    let mut args = vec!["validate-logs".to_string()];
    args.extend(case_args(name, case));
    args.extend([
        "--endpoint-url".into(),
        m.endpoint(),
        "--public-keys".into(),
        scenarios()
            .join(name)
            .join("public-keys.json")
            .display()
            .to_string(),
    ]);
    args
}

fn source(m: &Moto) -> S3Source {
    let settings = AwsSettings {
        s3_endpoint: Some(m.endpoint()),
        region: Some("us-east-1".into()),
        max_retries: 1,
        ..AwsSettings::default()
    };
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    S3Source::new(AwsSession::new(settings).unwrap())
}

#[test]
fn metadata_round_trip_start_after_listing_and_errors() {
    let Some(m) = moto() else { return };
    let bucket = "ctd-test-listing";
    create_bucket(m, bucket);
    let meta: BTreeMap<String, String> = [
        ("signature", "00ff"),
        ("signature-algorithm", "SHA256withRSA"),
        ("backfill-generation-timestamp", "2026-03-01T05:00:00Z"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    put_object(m, bucket, "d/r1/k.json.gz", b"digest bytes", &meta);
    put_object(m, bucket, "d/r10/z", b"z", &BTreeMap::new());
    // More than one page (S3 and moto return at most 1000 keys per page).
    for i in 0..1005 {
        put_object(m, bucket, &format!("d/r1/2026/{i:04}"), b"x", &BTreeMap::new());
    }
    let s3 = source(m);
    let object = s3.get(bucket, "d/r1/k.json.gz").unwrap();
    assert_eq!(object.body, b"digest bytes");
    assert_eq!(object.metadata.entries, meta);
    assert_eq!(object.metadata.origin, Some(MetadataOrigin::Service));
    let plain = s3.get(bucket, "d/r10/z").unwrap();
    assert_eq!((plain.metadata.origin, plain.metadata.entries.len()), (None, 0));
    let mut streamed = Vec::new();
    s3.open(bucket, "d/r1/k.json.gz")
        .unwrap()
        .read_to_end(&mut streamed)
        .unwrap();
    assert_eq!(streamed, b"digest bytes");
    assert_eq!(s3.size(bucket, "d/r1/k.json.gz").unwrap(), Some(12));
    assert_eq!(s3.size(bucket, "d/r1/nothing").unwrap(), None);

    // Prefix without a trailing slash lists r10 too; start-after skips through the marker.
    let keys = s3.list(bucket, "d/r1", "d/r1/2026/0999").unwrap();
    let want: Vec<String> = (1000..1005)
        .map(|i| format!("d/r1/2026/{i:04}"))
        .chain(["d/r1/k.json.gz".to_string(), "d/r10/z".to_string()])
        .collect();
    assert_eq!(keys, want);
    assert_eq!(s3.list(bucket, "d/", "").unwrap().len(), 1007);
    // Listing may stop after the page where the scan would stop.
    let first_page = s3
        .list_until(bucket, "d/", "", &|k| k.starts_with("d/r1/2026/0"))
        .unwrap();
    assert!(
        first_page.len() < 1007 && first_page[0] == "d/r1/2026/0000",
        "{}",
        first_page.len()
    );
    assert_eq!(s3.list_folders(bucket, "d/").unwrap(), vec!["d/r1/", "d/r10/"]);

    assert_eq!(
        s3.get(bucket, "d/missing").unwrap_err().kind,
        SourceErrorKind::NotFound
    );
    assert_eq!(
        s3.get("ctd-test-no-such-bucket", "k").unwrap_err().kind,
        SourceErrorKind::NoSuchBucket
    );
    assert_eq!(
        s3.list("ctd-test-no-such-bucket", "", "").unwrap_err().kind,
        SourceErrorKind::NoSuchBucket
    );
    assert_eq!(s3.bucket_region(bucket).unwrap(), "us-east-1");
}

#[test]
fn access_denied_is_named_clearly() {
    let Some(m) = moto() else { return };
    ensure_uploaded(m, "clean-chain");
    // Unsigned requests to a private bucket are refused.
    let mut args = s3_args(m, "clean-chain", "default");
    args.push("--no-sign-request".into());
    let out = run_cli(&args, &[]);
    let (_, stderr, exit) = outcome(&out);
    assert_eq!(exit, "255\n", "{stderr}");
    assert!(
        stderr.contains("access denied for s3://ctd-clean-chain-bucket"),
        "{stderr}"
    );
    // Without any credentials, a server on loopback is asked unsigned: nothing goes to
    // the instance metadata service.
    let env = [
        ("AWS_ACCESS_KEY_ID", String::new()),
        ("AWS_EC2_METADATA_DISABLED", String::new()),
    ];
    let (_, stderr, exit) = outcome(&run_cli(&s3_args(m, "clean-chain", "default"), &env));
    assert_eq!(exit, "255\n", "{stderr}");
    assert!(stderr.contains("access denied for s3://"), "{stderr}");
}

#[test]
fn validation_in_s3_prints_the_local_goldens_for_every_scenario() {
    let Some(m) = moto() else { return };
    let mut names: Vec<String> = std::fs::read_dir(scenarios())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != MAPPED_ONLY && n != LOCAL_ONLY)
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut runs = 0;
    for name in &names {
        ensure_uploaded(m, name);
        for case in spec(name)["cases"].as_array().unwrap() {
            let case = case["name"].as_str().unwrap();
            let got = outcome(&run_cli(&s3_args(m, name, case), &[]));
            runs += 1;
            if got != golden(name, case) {
                failures.push(format!(
                    "{name}/{case}:\n{got:#?}\nexpected\n{:#?}",
                    golden(name, case)
                ));
            }
        }
    }
    assert!(runs >= 60, "only {runs} cases");
    assert!(
        failures.is_empty(),
        "{} of {runs} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_replica_bucket_validates_under_the_original_names() {
    let Some(m) = moto() else { return };
    let original = "ctd-gap-stopped-logging-bucket";
    let tree = scenarios().join(MAPPED_ONLY).join("mirror").join(original);
    upload_dir(m, &tree, "ctd-test-replica", "archive/copy/");
    // Nothing holds the original bucket: every read must go through the mapping.
    assert_eq!(
        request(m, "GET", &format!("/{original}?location"), &[], b"").0,
        404
    );
    for case in ["default", "verbose"] {
        let mut args = s3_args(m, MAPPED_ONLY, case);
        args.extend([
            "--bucket-map".into(),
            format!("{original}=s3://ctd-test-replica/archive/copy"),
        ]);
        assert_eq!(outcome(&run_cli(&args, &[])), golden(MAPPED_ONLY, case), "{case}");
    }
    // A mirror of the replica keeps the original names and validates the same.
    let dest = temp_dir("replica-mirror");
    let mut args = mirror_args(m, MAPPED_ONLY, &dest);
    args.extend([
        "--bucket-map".into(),
        format!("{original}=s3://ctd-test-replica/archive/copy"),
    ]);
    let out = run_cli(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_faithful(&dest, &scenarios().join(MAPPED_ONLY).join("mirror"));
    assert_eq!(
        outcome(&run_cli(&local_args(MAPPED_ONLY, "verbose", &dest), &[])),
        golden(MAPPED_ONLY, "verbose")
    );
    std::fs::remove_dir_all(&dest).unwrap();
    // Without the mapping, the replica is what the reference sees: every digest moved.
    let mut args = s3_args(m, MAPPED_ONLY, "default");
    let i = args.iter().position(|a| a == original).unwrap();
    args[i] = "ctd-test-replica".into();
    args.extend(["--s3-prefix".into(), "archive/copy".into()]);
    let (stdout, stderr, exit) = outcome(&run_cli(&args, &[]));
    assert_eq!(exit, "1\n");
    assert!(stdout.contains("No valid digests found in range"), "{stdout}");
    assert!(
        stderr.contains("INVALID: has been moved from its original location"),
        "{stderr}"
    );
}

#[test]
fn a_directory_can_stand_in_for_a_bucket() {
    let Some(m) = moto() else { return };
    let original = "ctd-gap-stopped-logging-bucket";
    let tree = scenarios().join(MAPPED_ONLY).join("mirror").join(original);
    for case in ["default", "verbose"] {
        let mut args = s3_args(m, MAPPED_ONLY, case);
        args.extend(["--bucket-map".into(), format!("{original}={}", tree.display())]);
        assert_eq!(outcome(&run_cli(&args, &[])), golden(MAPPED_ONLY, case), "{case}");
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ctd-s3-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn mirror_args(m: &Moto, name: &str, dest: &Path) -> Vec<String> {
    let args = case_args(name, "default");
    let mut out: Vec<String> = vec![
        "mirror".into(),
        "--s3-bucket".into(),
        arg_value(&args, "--s3-bucket").unwrap(),
        "--start-time".into(),
        arg_value(&args, "--start-time").unwrap(),
        "--end-time".into(),
        arg_value(&args, "--end-time").unwrap(),
        "--dest".into(),
        dest.display().to_string(),
        "--endpoint-url".into(),
        m.endpoint(),
    ];
    if let Some(p) = arg_value(&args, "--s3-prefix") {
        out.extend(["--s3-prefix".into(), p]);
    }
    out
}

fn local_args(name: &str, case: &str, root: &Path) -> Vec<String> {
    let mut args = vec!["validate-logs".to_string()];
    args.extend(case_args(name, case));
    args.extend([
        "--local-dir".into(),
        root.display().to_string(),
        "--public-keys".into(),
        scenarios()
            .join(name)
            .join("public-keys.json")
            .display()
            .to_string(),
    ]);
    args
}

/// Every file of the copy is byte for byte the scenario's (sidecars: the same JSON).
fn assert_faithful(copy: &Path, original: &Path) {
    let mut stack = vec![copy.to_path_buf()];
    let mut n = 0;
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p.strip_prefix(copy).unwrap();
            assert!(
                !rel.to_string_lossy().ends_with(".ctd-partial"),
                "temporary file left: {rel:?}"
            );
            let theirs = original.join(rel);
            if rel.to_string_lossy().ends_with(".metadata.json") {
                let a: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                let b: Value = std::fs::read(&theirs)
                    .map(|b| serde_json::from_slice(&b).unwrap())
                    .unwrap_or(Value::Object(Default::default()));
                assert_eq!(a, b, "{rel:?}");
            } else {
                assert_eq!(
                    std::fs::read(&p).unwrap(),
                    std::fs::read(&theirs).unwrap(),
                    "{rel:?}"
                );
                n += 1;
            }
        }
    }
    assert!(n > 0, "nothing copied into {}", copy.display());
}

#[test]
fn mirror_copies_what_validation_reads_faithfully() {
    let Some(m) = moto() else { return };
    let cases: [(&str, &[&str]); 7] = [
        ("clean-chain", &["default", "verbose"]),
        ("bucket-change", &["default", "verbose"]),
        ("multi-region", &["default", "eu-west-1-verbose"]),
        ("deleted-log", &["verbose"]),
        ("backfill", &["verbose"]),
        ("prefix", &["verbose"]),
        ("organization-trail", &["verbose", "management-account"]),
    ];
    for (name, runs) in cases {
        ensure_uploaded(m, name);
        let dest = temp_dir(&format!("mirror-{name}"));
        let out = run_cli(&mirror_args(m, name, &dest), &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with("Mirrored s3://"),
            "{}",
            text(&out.stdout)
        );
        assert_faithful(&dest, &scenarios().join(name).join("mirror"));
        for case in runs {
            let local = outcome(&run_cli(&local_args(name, case, &dest), &[]));
            let online = outcome(&run_cli(&s3_args(m, name, case), &[]));
            assert_eq!(local, online, "{name}/{case}: the copy and the bucket differ");
            assert_eq!(local, golden(name, case), "{name}/{case}");
        }
        std::fs::remove_dir_all(&dest).unwrap();
    }
}

#[test]
fn an_interrupted_mirror_resumes_where_it_stopped() {
    let Some(m) = moto() else { return };
    let name = "clean-chain";
    ensure_uploaded(m, name);
    let dest = temp_dir("resume");
    let first = run_cli(&mirror_args(m, name, &dest), &[]);
    assert!(
        text(&first.stdout).contains("16 copied (19541 bytes), 0 already complete"),
        "{}",
        text(&first.stdout)
    );
    // What an interrupted run (or another tool) can leave: objects not yet renamed into
    // place (with a stale temporary file), a digest without its sidecar, a short file.
    let bucket = dest.join("ctd-clean-chain-bucket/AWSLogs/111122223333");
    let digest_dir = bucket.join("CloudTrail-Digest/us-east-1/2026/03/01");
    let log_dir = bucket.join("CloudTrail/us-east-1/2026/03/01");
    let digest = digest_dir
        .join("111122223333_CloudTrail-Digest_us-east-1_test-trail_us-east-1_20260301T041742Z.json.gz");
    std::fs::remove_file(&digest).unwrap();
    std::fs::write(
        digest_dir.join(".111122223333_CloudTrail-Digest_us-east-1_test-trail_us-east-1_20260301T041742Z.json.gz.ctd-partial"),
        b"partial",
    )
    .unwrap();
    std::fs::remove_file(digest_dir.join(
        "111122223333_CloudTrail-Digest_us-east-1_test-trail_us-east-1_20260301T051742Z.json.gz.metadata.json",
    ))
    .unwrap();
    let log = log_dir.join("111122223333_CloudTrail_us-east-1_20260301T0540Z_MlINJaaMoJ0q5Y6j.json.gz");
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(
        log_dir.join("111122223333_CloudTrail_us-east-1_20260301T0205Z_rxE16730FEwVart2.json.gz"),
    )
    .unwrap();

    let again = run_cli(&mirror_args(m, name, &dest), &[]);
    assert!(
        text(&again.stdout).contains("4 copied") && text(&again.stdout).contains("12 already complete"),
        "{}",
        text(&again.stdout)
    );
    assert_faithful(&dest, &scenarios().join(name).join("mirror"));
    for case in ["default", "verbose"] {
        assert_eq!(
            outcome(&run_cli(&local_args(name, case, &dest), &[])),
            golden(name, case)
        );
    }
    std::fs::remove_dir_all(&dest).unwrap();
}

/// Headers and JSON body of one request.
type Recorded = (BTreeMap<String, String>, Value);

/// A ListPublicKeys endpoint on loopback answering from a key file, two keys per page.
struct FakeCloudTrail {
    port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Requests still to be answered with throttling (400) or a server error (503).
    throttle: Arc<std::sync::atomic::AtomicUsize>,
}

/// Epoch seconds of a key file time (CLI v1 numbers or CLI v2 ISO 8601 strings).
fn epoch(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .or_else(|| {
            v.as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.timestamp() as f64)
        })
        .expect("a key file time")
}

/// Key file entries as CloudTrail sends them (times as epoch seconds).
fn wire_keys(keys_file: &Path) -> Vec<Value> {
    let doc: Value = serde_json::from_slice(&std::fs::read(keys_file).unwrap()).unwrap();
    doc["PublicKeyList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let mut k = k.clone();
            for f in ["ValidityStartTime", "ValidityEndTime"] {
                k[f] = serde_json::json!(epoch(&k[f]));
            }
            k
        })
        .collect()
}

fn fake_cloudtrail(keys_file: &Path) -> FakeCloudTrail {
    fake_cloudtrail_with(keys_file, None)
}

/// Also answers DescribeTrails with `trail` (a scenario's `trail`).
fn fake_cloudtrail_with(keys_file: &Path, trail: Option<Value>) -> FakeCloudTrail {
    let keys = wire_keys(keys_file);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
    let seen = Arc::clone(&requests);
    let throttle: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
    let throttling = Arc::clone(&throttle);
    std::thread::spawn(move || {
        // Bounded: a test makes a handful of calls.
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let len: usize = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let left = throttling.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                throttling.store(left - 1, std::sync::atomic::Ordering::SeqCst);
                let (status, answer) = if left.is_multiple_of(2) {
                    (
                        "400 Bad Request",
                        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
                    )
                } else {
                    (
                        "503 Service Unavailable",
                        r#"{"__type":"ServiceUnavailableException"}"#,
                    )
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                continue;
            }
            let target = headers.get("x-amz-target").cloned().unwrap_or_default();
            if target.ends_with(".DescribeTrails") {
                let wanted = body["trailNameList"].as_array().cloned().unwrap_or_default();
                let found: Vec<Value> = trail
                    .iter()
                    .filter(|t| wanted.contains(&t["TrailARN"]))
                    .cloned()
                    .collect();
                let answer = serde_json::json!({ "trailList": found }).to_string();
                seen.lock().unwrap().push((headers, body));
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                continue;
            }
            let (start, end) = (epoch(&body["StartTime"]), epoch(&body["EndTime"]));
            let matching: Vec<&Value> = keys
                .iter()
                .filter(|k| epoch(&k["ValidityStartTime"]) <= end && epoch(&k["ValidityEndTime"]) >= start)
                .collect();
            let from: usize = body["NextToken"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
            let page: Vec<&Value> = matching.iter().skip(from).take(2).copied().collect();
            let mut answer = serde_json::json!({ "PublicKeyList": page });
            if from + 2 < matching.len() {
                answer["NextToken"] = Value::String((from + 2).to_string());
            }
            seen.lock().unwrap().push((headers, body));
            let answer = answer.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    FakeCloudTrail {
        port,
        requests,
        throttle,
    }
}

#[test]
fn public_keys_come_from_cloudtrail_when_no_file_is_given() {
    let Some(m) = moto() else { return };
    for name in ["key-rotation", "backfill"] {
        ensure_uploaded(m, name);
        let ct = fake_cloudtrail(&scenarios().join(name).join("public-keys.json"));
        let endpoint = format!("http://127.0.0.1:{}", ct.port);
        for case in ["default", "verbose"] {
            let mut args = vec!["validate-logs".to_string()];
            args.extend(case_args(name, case));
            args.extend(["--endpoint-url".into(), m.endpoint()]);
            let got = outcome(&run_cli(
                &args,
                &[("AWS_ENDPOINT_URL_CLOUDTRAIL", endpoint.clone())],
            ));
            assert_eq!(got, golden(name, case), "{name}/{case}");
        }
        let requests = ct.requests.lock().unwrap();
        assert!(!requests.is_empty());
        for (headers, body) in requests.iter() {
            assert_eq!(
                headers["x-amz-target"],
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys"
            );
            assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
            assert!(
                headers["authorization"].starts_with("AWS4-HMAC-SHA256 Credential=testing/")
                    && headers["authorization"].contains("/us-east-1/cloudtrail/aws4_request"),
                "{headers:?}"
            );
            assert!(body["StartTime"].is_i64() && body["EndTime"].is_i64(), "{body}");
        }
    }
}

/// `keys` for 2020 to 2030 in us-east-1, asking the CloudTrail served on `port`.
fn keys_args(port: u16) -> Vec<String> {
    [
        "--region",
        "us-east-1",
        "keys",
        "--start-time",
        "2020-01-01T00:00:00Z",
        "--end-time",
        "2030-01-01T00:00:00Z",
        "--endpoint-url",
    ]
    .into_iter()
    .map(String::from)
    .chain([format!("http://127.0.0.1:{port}")])
    .collect()
}

#[test]
fn the_keys_command_writes_a_key_file() {
    let keys_file = scenarios().join("key-rotation/public-keys.json");
    let ct = fake_cloudtrail(&keys_file);
    // Throttled and failing answers are retried with backoff.
    ct.throttle.store(2, std::sync::atomic::Ordering::SeqCst);
    let dir = temp_dir("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let args = keys_args(ct.port);
    let out = run_cli(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = wire_keys(&keys_file);
    assert_eq!(got["PublicKeyList"], Value::Array(want.clone()));
    // Pages of two keys: every page was asked for, with its NextToken.
    let pages = ct.requests.lock().unwrap().len();
    assert_eq!(pages, want.len().div_ceil(2).max(1));
    // The file loads for offline use.
    let saved = dir.join("keys.json");
    std::fs::write(&saved, &out.stdout).unwrap();
    cloudtrail_digest::PublicKeySet::new().add_file(&saved).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_keys_command_stops_quietly_into_a_closed_pipe() {
    let ct = fake_cloudtrail(&scenarios().join("key-rotation/public-keys.json"));
    let args = keys_args(ct.port);
    let mut child = cli_command(&args, &[])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the keys are asked for, so before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stderr), "");
    assert_eq!(out.status.code(), Some(141));
}

#[test]
fn credentials_come_from_profiles_and_credential_processes() {
    let keys_file = scenarios().join("clean-chain/public-keys.json");
    let ct = fake_cloudtrail(&keys_file);
    let dir = temp_dir("profiles");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        "[audit]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = secret\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("config"),
        "[default]\nregion = ap-south-1\n[profile audit]\nregion = eu-west-1\n[profile proc]\ncredential_process = echo '{\"Version\": 1, \
         \"AccessKeyId\": \"AKIDFROMPROCESS\", \"SecretAccessKey\": \"s\"}'\n",
    )
    .unwrap();
    let files = [
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("credentials").display().to_string(),
        ),
        ("AWS_CONFIG_FILE", dir.join("config").display().to_string()),
    ];
    let keys_args = |extra: &[&str]| -> Vec<String> {
        [
            "keys",
            "--start-time",
            "2026-03-01",
            "--end-time",
            "2026-03-02",
            "--endpoint-url",
        ]
        .into_iter()
        .map(String::from)
        .chain([format!("http://127.0.0.1:{}", ct.port)])
        .chain(extra.iter().map(|s| s.to_string()))
        .collect()
    };
    let last_authorization = || {
        let r = ct.requests.lock().unwrap();
        r.last().unwrap().0["authorization"].clone()
    };
    // --profile wins over environment keys; its region is the default region.
    let out = run_cli(&keys_args(&["--profile", "audit"]), &files);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let auth = last_authorization();
    assert!(
        auth.contains("Credential=AKIDFROMPROFILE/") && auth.contains("/eu-west-1/cloudtrail/"),
        "{auth}"
    );
    // AWS_PROFILE yields to environment keys, and is used without them.
    let mut env = files.to_vec();
    env.push(("AWS_PROFILE", "proc".to_string()));
    run_cli(&keys_args(&[]), &env);
    assert!(last_authorization().contains("Credential=testing/"));
    env.push(("AWS_ACCESS_KEY_ID", String::new()));
    let out = run_cli(&keys_args(&[]), &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(last_authorization().contains("Credential=AKIDFROMPROCESS/"));
    // A profile that does not exist is named.
    let out = run_cli(&keys_args(&["--profile", "nosuch"]), &files);
    assert_eq!(out.status.code(), Some(255));
    assert!(
        text(&out.stderr).contains("(nosuch) could not be found"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_s3_bucket_the_trail_is_found_through_describe_trails() {
    let Some(m) = moto() else { return };
    for (name, cases) in [
        ("clean-chain", &["default", "verbose"][..]),
        ("organization-trail", &["default", "management-account"][..]),
    ] {
        ensure_uploaded(m, name);
        let ct = fake_cloudtrail_with(
            &scenarios().join(name).join("public-keys.json"),
            Some(spec(name)["trail"].clone()),
        );
        let env = [(
            "AWS_ENDPOINT_URL_CLOUDTRAIL",
            format!("http://127.0.0.1:{}", ct.port),
        )];
        for case in cases {
            let mut args = s3_args(m, name, case);
            let i = args.iter().position(|a| a == "--s3-bucket").unwrap();
            args.drain(i..i + 2);
            assert_eq!(
                outcome(&run_cli(&args, &env)),
                golden(name, case),
                "{name}/{case}"
            );
        }
        if name == "organization-trail" {
            let mut args = s3_args(m, name, "default");
            let i = args.iter().position(|a| a == "--s3-bucket").unwrap();
            args.drain(i..i + 2);
            let i = args.iter().position(|a| a == "--account-id").unwrap();
            args.drain(i..i + 2);
            let (stdout, stderr, exit) = outcome(&run_cli(&args, &env));
            assert_eq!(
                (stdout.as_str(), stderr.as_str(), exit.as_str()),
                (
                    "",
                    "\nMissing required parameter for organization trail: '--account-id'\n",
                    "255\n"
                )
            );
        }
        // An unknown trail is named as the reference names it.
        let mut args = s3_args(m, name, cases[0]);
        let i = args.iter().position(|a| a == "--s3-bucket").unwrap();
        args.drain(i..i + 2);
        let arn = args.iter().position(|a| a == "--trail-arn").unwrap() + 1;
        args[arn] = args[arn].replace("trail/test-trail", "trail/other");
        let (_, stderr, exit) = outcome(&run_cli(&args, &env));
        assert_eq!(exit, "255\n");
        assert!(
            stderr.contains("A trail could not be found for arn:aws:cloudtrail"),
            "{stderr}"
        );
    }
}

/// `audit` over the bucket in S3, and over a replica through `--bucket-map`, finds
/// exactly what it finds in the local mirror: the same NDJSON, byte for byte.
#[test]
fn audit_in_s3_and_through_a_replica_matches_the_local_audit() {
    let Some(m) = moto() else { return };
    let name = "deleted-two-digests";
    ensure_uploaded(m, name);
    let bucket = "ctd-deleted-two-digests-bucket";
    let window = [
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T08:00:00Z",
        "--now",
        "2026-03-01T08:30:00Z",
        "--output",
        "ndjson",
    ];
    let keys = scenarios()
        .join(name)
        .join("public-keys.json")
        .display()
        .to_string();
    let audit = |source: &[String]| {
        let mut args: Vec<String> = vec!["audit".into(), "--public-keys".into(), keys.clone()];
        args.extend(window.iter().map(|s| s.to_string()));
        args.extend(source.iter().cloned());
        outcome(&run_cli(&args, &[]))
    };
    let local = audit(&[
        "--local-dir".into(),
        scenarios().join(name).join("mirror").display().to_string(),
    ]);
    assert_eq!(local.2, "1\n", "{}", local.1);
    // Same findings; only where the signatures came from differs.
    let local = (
        local
            .0
            .replace(
                "\"signature_source\":\"sidecar\"",
                "\"signature_source\":\"s3-metadata\"",
            )
            .replace("(signature from sidecar)", "(signature from s3-metadata)"),
        local.1,
        local.2,
    );
    assert!(local.0.contains("\"kind\":\"missing_digests\""), "{}", local.0);
    let in_s3 = audit(&[
        "--endpoint-url".into(),
        m.endpoint(),
        "--s3-bucket".into(),
        bucket.into(),
    ]);
    assert_eq!(in_s3, local);
    let tree = scenarios().join(name).join("mirror").join(bucket);
    upload_dir(m, &tree, "ctd-audit-replica", "copy/");
    let via_replica = audit(&[
        "--endpoint-url".into(),
        m.endpoint(),
        "--bucket-map".into(),
        format!("{bucket}=s3://ctd-audit-replica/copy"),
    ]);
    assert_eq!(via_replica, local);
    // Without --local-dir, S3 buckets must be named.
    let (_, stderr, exit) = audit(&["--endpoint-url".into(), m.endpoint()]);
    assert_eq!(exit, "2\n");
    assert!(stderr.contains("--s3-bucket"), "{stderr}");
}

#[test]
fn planted_keys_are_refused_or_missing_in_s3() {
    let Some(m) = moto() else { return };
    ensure_uploaded(m, LOCAL_ONLY);
    let (stdout, stderr, exit) = outcome(&run_cli(&s3_args(m, LOCAL_ONLY, "verbose"), &[]));
    assert_eq!(exit, "1\n", "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("Results found for"),
        "the run must finish:\n{stdout}"
    );
    let (_, local_stderr, _) = golden(LOCAL_ONLY, "verbose");
    let planted: Vec<&str> = local_stderr
        .lines()
        .filter(|l| l.starts_with("Log file\t"))
        .map(|l| l.rsplit_once('\t').unwrap().0)
        .collect();
    assert_eq!(planted.len(), 9, "{local_stderr}");
    for line in &planted {
        let got = stderr
            .lines()
            .find(|l| l.starts_with(&format!("{line}\t")))
            .unwrap_or_else(|| panic!("no verdict for {line:?} in\n{stderr}"));
        let verdict = got.rsplit_once('\t').unwrap().1;
        // S3 can hold `a\b` or a NUL byte, so those keys are simply absent there.
        assert!(
            verdict.starts_with("INVALID: key refused")
                || verdict.starts_with("INVALID: bucket name refused")
                || verdict == "INVALID: not found",
            "{got}"
        );
    }
    for must_refuse in [
        "/../../public-keys.json\t",
        "s3://../public-keys.json\t",
        "kkkk.json.gz\t",
    ] {
        let line = stderr.lines().find(|l| l.contains(must_refuse)).unwrap();
        assert!(line.contains("refused"), "{line}");
    }
    assert!(
        stderr.contains("inflates to more than 67108864 bytes"),
        "{stderr}"
    );
}

/// Objects stored in GLACIER and DEEP_ARCHIVE on the S3 server (a replica of the
/// clean-chain bucket with one digest and one log archived): `audit` reports them as
/// `archived` with their storage class, exits 3 and finds everything else as it does in
/// the local copy; `validate-logs` stops, naming the object, its storage class and the
/// restore; `mirror --restore` asks for their restore and says they wait (moto restores
/// at once, but a started restore is not read again in the same run), and a second run
/// completes the copy, which then validates as the bucket does.
#[test]
fn archived_objects_are_reported_restored_and_then_copied() {
    let Some(m) = moto() else { return };
    let name = "clean-chain";
    let bucket = "ctd-clean-chain-bucket";
    let replica = "ctd-archived-replica";
    let day = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/";
    let glacier = format!(
        "{day}111122223333_CloudTrail-Digest_us-east-1_test-trail_us-east-1_20260301T041742Z.json.gz"
    );
    let deep = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0540Z_MlINJaaMoJ0q5Y6j.json.gz";
    let tree = scenarios().join(name).join("mirror").join(bucket);
    create_bucket(m, replica);
    for (key, body, metadata) in objects_of(&tree) {
        let class = if key == glacier {
            Some("GLACIER")
        } else if key == deep {
            Some("DEEP_ARCHIVE")
        } else {
            None
        };
        put_object_as(m, replica, &key, &body, &metadata, class);
    }
    let map = ["--bucket-map".to_string(), format!("{bucket}=s3://{replica}")];
    let keys = scenarios()
        .join(name)
        .join("public-keys.json")
        .display()
        .to_string();
    let audit = |source: &[String], output: &str| {
        let mut args: Vec<String> = [
            "audit",
            "--public-keys",
            &keys,
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-01T08:00:00Z",
            "--now",
            "2026-03-02T00:00:00Z",
            "--output",
            output,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(source.iter().cloned());
        outcome(&run_cli(&args, &[]))
    };
    let mut online = vec!["--endpoint-url".to_string(), m.endpoint()];
    online.extend(map.iter().cloned());
    let (stdout, stderr, exit) = audit(&online, "ndjson");
    assert_eq!(exit, "3\n", "{stdout}{stderr}");
    let objects: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let archived: Vec<&Value> = objects.iter().filter(|o| o["status"] == "archived").collect();
    assert_eq!(archived.len(), 2, "{stdout}");
    for (kind, key, class) in [
        ("digest", glacier.as_str(), "GLACIER"),
        ("log", deep, "DEEP_ARCHIVE"),
    ] {
        let o = archived
            .iter()
            .find(|o| o["key"] == key)
            .unwrap_or_else(|| panic!("{key} not archived: {stdout}"));
        assert_eq!(o["kind"], kind, "{o}");
        assert_eq!(o["storage_class"], class, "{o}");
        assert!(o["access_tier"].is_null(), "{o}");
        assert!(
            o["reason"]
                .as_str()
                .unwrap()
                .starts_with(&format!("archived in {class} and not restored")),
            "{o}"
        );
    }
    // The logs only the archived digest lists cannot be placed until it is restored.
    let local = audit(
        &[
            "--local-dir".to_string(),
            scenarios().join(name).join("mirror").display().to_string(),
        ],
        "ndjson",
    );
    assert_eq!(local.2, "0\n", "{}", local.1);
    let local: Vec<Value> = local
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let behind_archive: Vec<String> = local
        .iter()
        .filter(|o| o["kind"] == "log" && o["digest_key"] == glacier.as_str())
        .map(|o| o["key"].as_str().unwrap().to_string())
        .collect();
    assert!(!behind_archive.is_empty());
    for o in &objects {
        let key = o["key"].as_str().unwrap_or_default();
        if behind_archive.iter().any(|k| k == key) {
            assert_eq!(
                (&o["kind"], &o["status"]),
                (&json_str("unreferenced_log"), &json_str("warning")),
                "{o}"
            );
            assert!(o["reason"].as_str().unwrap().contains("archived digest"), "{o}");
        } else if o["kind"] != "chain_summary" && key != glacier && key != deep {
            let mut same = o.clone();
            if same["signature_source"] == "s3-metadata" {
                same["signature_source"] = json_str("sidecar");
                let reason = same["reason"].as_str().unwrap().replace("s3-metadata", "sidecar");
                same["reason"] = json_str(&reason);
            }
            assert!(
                local.contains(&same),
                "found in S3 but not in the local copy: {o}"
            );
        }
    }
    let summary = objects.iter().find(|o| o["kind"] == "chain_summary").unwrap();
    assert_eq!(
        (&summary["archived"], &summary["status"]),
        (&Value::from(2), &json_str("warning")),
        "{summary}"
    );
    assert_eq!(summary["digests_invalid"], 0, "{summary}");
    assert_eq!(summary["logs_invalid"], 0, "{summary}");
    let (text_out, _, exit) = audit(&online, "text");
    assert_eq!(exit, "3\n");
    assert!(
        text_out.contains(&format!(
            "ARCHIVED digest           s3://{bucket}/{glacier}\tarchived in GLACIER"
        )),
        "{text_out}"
    );
    assert!(
        text_out.contains("\n2 archived object(s) need a restore before they can be checked: restore them"),
        "{text_out}"
    );
    assert!(
        text_out.ends_with("Verdict: INCOMPLETE: archived objects could not be checked until they are restored; everything read is valid (exit code 3)\n"),
        "{text_out}"
    );
    let (json_out, _, _) = audit(&online, "json");
    let doc: Value = serde_json::from_str(&json_out).unwrap();
    assert_eq!(
        (&doc["verdict"]["exit_code"], &doc["verdict"]["archived"]),
        (&Value::from(3), &Value::from(2))
    );

    // validate-logs stops where the reference stops, naming what to do.
    let mut validate = s3_args(m, name, "default");
    validate.extend(map.iter().cloned());
    let (_, stderr, exit) = outcome(&run_cli(&validate, &[]));
    assert_eq!(exit, "255\n", "{stderr}");
    let message = stderr.trim_end().lines().last().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "s3://{bucket}/{deep}: archived in DEEP_ARCHIVE, so it cannot be read until it is restored"
        )),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "aws s3api restore-object --bucket {replica} --key {deep} --restore-request Days=7"
        )),
        "{message}"
    );

    // mirror --restore: restores asked for, then a second run completes the copy.
    let dest = temp_dir("archived");
    let mut mirror = mirror_args(m, name, &dest);
    mirror.extend(map.iter().cloned());
    mirror.extend(["--restore", "1", "--restore-tier", "Bulk"].map(String::from));
    let (stdout, stderr, exit) = outcome(&run_cli(&mirror, &[]));
    assert_eq!(exit, "1\n", "{stdout}{stderr}");
    assert!(stdout.contains(", 2 archived (not restored)"), "{stdout}");
    assert!(
        stderr.contains(
            "2 archived objects wait for a restore (2 restores requested now, 0 already in progress)"
        ),
        "{stderr}"
    );
    assert!(!dest.join(bucket).join(&glacier).exists() && !dest.join(bucket).join(deep).exists());
    let (stdout, stderr, exit) = outcome(&run_cli(&mirror, &[]));
    assert_eq!(exit, "0\n", "{stdout}{stderr}");
    assert!(
        !stdout.contains("archived (not restored)") && !stderr.contains("wait for a restore"),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("5 copied"),
        "the restored digest, its 3 logs and the restored log: {stdout}"
    );
    assert_faithful(&dest, &scenarios().join(name).join("mirror"));
    for case in ["default", "verbose"] {
        assert_eq!(
            outcome(&run_cli(&local_args(name, case, &dest), &[])),
            golden(name, case),
            "{case}"
        );
    }
    std::fs::remove_dir_all(&dest).unwrap();
}

fn json_str(s: &str) -> Value {
    Value::String(s.to_string())
}

/// A split audit in S3: plan, shards that write their parts into a bucket through the
/// same S3 client, and a merge that reads them from the bucket, equal one audit in S3.
#[test]
fn a_split_audit_writes_and_merges_its_parts_in_s3() {
    let Some(m) = moto() else { return };
    let name = "multi-region";
    ensure_uploaded(m, name);
    create_bucket(m, "ctd-split-parts");
    let keys = scenarios()
        .join(name)
        .join("public-keys.json")
        .display()
        .to_string();
    let s3 = |command: &str, extra: &[&str]| {
        let mut args: Vec<String> = vec![command.into(), "--endpoint-url".into(), m.endpoint()];
        args.extend(extra.iter().map(|s| s.to_string()));
        run_cli(&args, &[])
    };
    let mut scope: Vec<&str> = vec!["--public-keys", &keys, "--s3-bucket", "ctd-multi-region-bucket"];
    scope.extend(tree::WINDOW);
    let whole = outcome(&s3("audit", &scope));
    assert_eq!(whole.2, "0\n", "{}", whole.1);

    let plan = s3("plan", &scope);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    assert_eq!(text(&plan.stdout).lines().count(), 2, "a unit for each region");
    let scratch = temp_dir("split");
    std::fs::create_dir_all(&scratch).unwrap();
    let plan_file = scratch.join("plan.jsonl");
    std::fs::write(&plan_file, &plan.stdout).unwrap();
    let shard = |i: usize, out: &str| {
        let shard = format!("{i}/2");
        let plan = plan_file.to_str().unwrap();
        outcome(&s3(
            "audit",
            &[
                "--public-keys",
                &keys,
                "--plan",
                plan,
                "--shard",
                &shard,
                "--out",
                out,
            ],
        ))
    };
    for i in 0..2 {
        let run = shard(i, &format!("s3://ctd-split-parts/run/part-{i}.jsonl"));
        assert_eq!(run.2, "0\n", "{}", run.1);
    }
    assert_eq!(outcome(&s3("merge", &["s3://ctd-split-parts/run/"])), whole);
    // One object named exactly is that part alone: the other unit is missing.
    let alone = outcome(&s3("merge", &["s3://ctd-split-parts/run/part-0.jsonl"]));
    assert_eq!(alone.2, "255\n");
    assert!(
        alone.1.contains("1 of the plan's 2 units missing: 1"),
        "{}",
        alone.1
    );
    // Parts from S3 and from a file merge alike.
    let local = scratch.join("part-1.jsonl");
    let run = shard(1, local.to_str().unwrap());
    assert_eq!(run.2, "0\n", "{}", run.1);
    let mixed = outcome(&s3(
        "merge",
        &["s3://ctd-split-parts/run/part-0.jsonl", local.to_str().unwrap()],
    ));
    assert_eq!(mixed, whole);
    // An unwritable destination is fatal and says where.
    let refused = shard(0, "s3://ctd-no-such-bucket/p.jsonl");
    assert_eq!(refused.2, "255\n");
    assert!(
        refused.1.contains("s3://ctd-no-such-bucket/p.jsonl"),
        "{}",
        refused.1
    );

    // In slices of two hours, three shards of the sliced plan merge to the same.
    let mut sliced = scope.clone();
    sliced.extend(["--unit-hours", "2"]);
    let plan = s3("plan", &sliced);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    assert!(text(&plan.stdout).lines().count() > 2, "each region in slices");
    std::fs::write(&plan_file, &plan.stdout).unwrap();
    for i in 0..3 {
        let run = outcome(&s3(
            "audit",
            &[
                "--public-keys",
                &keys,
                "--plan",
                plan_file.to_str().unwrap(),
                "--shard",
                &format!("{i}/3"),
                "--out",
                &format!("s3://ctd-split-parts/sliced/part-{i}.jsonl"),
            ],
        ));
        assert_eq!(run.2, "0\n", "{}", run.1);
    }
    assert_eq!(outcome(&s3("merge", &["s3://ctd-split-parts/sliced/"])), whole);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// An upload goes up in parts as it is written and appears only when whole: nothing is
/// there before `finish`, an upload dropped after a part was sent leaves nothing, and
/// one smaller than a part is one PUT.
#[test]
fn uploads_go_up_in_parts_and_appear_only_when_whole() {
    let Some(m) = moto() else { return };
    let bucket = "ctd-uploads";
    create_bucket(m, bucket);
    let s3 = source(m);
    let part = 5 * 1024 * 1024;
    // 12 MiB and a little, in uneven writes: two full parts and a last, shorter one.
    let body: Vec<u8> = (0..(12 * 1024 * 1024 + 4321u32))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let mut upload = s3.upload(bucket, "parts/big.bin").unwrap().part_size(part);
    for chunk in body.chunks(999_983) {
        upload.write_all(chunk).unwrap();
    }
    assert_eq!(
        s3.get(bucket, "parts/big.bin").unwrap_err().kind,
        SourceErrorKind::NotFound,
        "nothing before finish"
    );
    // The parts went up while it was written: a multipart upload is in progress.
    let uploads = || text(&request(m, "GET", &format!("/{bucket}?uploads"), &[], b"").1);
    assert!(uploads().contains("<Key>parts/big.bin</Key>"), "{}", uploads());
    upload.finish().unwrap();
    assert_eq!(s3.get(bucket, "parts/big.bin").unwrap().body, body);

    let mut dropped = s3.upload(bucket, "parts/dropped.bin").unwrap().part_size(part);
    dropped.write_all(&body[..part + 10]).unwrap();
    assert!(
        uploads().contains("<Key>parts/dropped.bin</Key>"),
        "{}",
        uploads()
    );
    drop(dropped);
    assert!(!uploads().contains("parts/dropped.bin"), "aborted: {}", uploads());
    assert_eq!(
        s3.get(bucket, "parts/dropped.bin").unwrap_err().kind,
        SourceErrorKind::NotFound,
        "an upload never finished leaves nothing"
    );

    let mut small = s3.upload(bucket, "parts/small.bin").unwrap();
    small.write_all(b"one line\n").unwrap();
    small.finish().unwrap();
    assert_eq!(s3.get(bucket, "parts/small.bin").unwrap().body, b"one line\n");
}

#[path = "s3/deploy.rs"]
mod deploy;

/// Each command of a split run in S3 (the plan written to S3, a shard reading its plan
/// from S3 and writing its part there, the merge reading parts from S3 and writing the
/// report there) sets up one AWS session: its credentials are resolved once, not once
/// per object it reads or writes (with a role profile, once per AssumeRole).
#[test]
fn a_split_run_in_s3_resolves_its_credentials_once_per_command() {
    let Some(m) = moto() else { return };
    let name = "multi-region";
    ensure_uploaded(m, name);
    create_bucket(m, "ctd-split-once");
    let dir = temp_dir("once");
    std::fs::create_dir_all(&dir).unwrap();
    let count = dir.join("resolved");
    let script = dir.join("credentials.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho . >> '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"testing\", \"SecretAccessKey\": \"testing\"}}'\n",
            count.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.join("config"),
        format!(
            "[profile counted]\nregion = us-east-1\ncredential_process = {}\n",
            script.display()
        ),
    )
    .unwrap();
    let env = [
        ("AWS_CONFIG_FILE", dir.join("config").display().to_string()),
        ("AWS_PROFILE", "counted".to_string()),
        ("AWS_ACCESS_KEY_ID", String::new()),
    ];
    let keys = scenarios()
        .join(name)
        .join("public-keys.json")
        .display()
        .to_string();
    let resolved = || {
        let n = std::fs::read_to_string(&count).map_or(0, |t| t.lines().count());
        let _ = std::fs::remove_file(&count);
        n
    };
    let run = |command: &str, extra: &[&str]| {
        let mut args: Vec<String> = vec![command.into(), "--endpoint-url".into(), m.endpoint()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = run_cli(&args, &env);
        assert_eq!(out.status.code(), Some(0), "{command}: {}", text(&out.stderr));
        resolved()
    };
    let mut plan: Vec<&str> = vec!["--public-keys", &keys, "--s3-bucket", "ctd-multi-region-bucket"];
    plan.extend(tree::WINDOW);
    plan.extend(["--out", "s3://ctd-split-once/run/plan.jsonl"]);
    assert_eq!(run("plan", &plan), 1, "plan");
    let shard = [
        "--public-keys",
        &keys,
        "--plan",
        "s3://ctd-split-once/run/plan.jsonl",
        "--shard",
        "0/1",
        "--out",
        "s3://ctd-split-once/run/parts/",
    ];
    assert_eq!(run("audit", &shard), 1, "a shard");
    let merge = [
        "s3://ctd-split-once/run/parts/",
        "--out",
        "s3://ctd-split-once/run/report.txt",
    ];
    assert_eq!(run("merge", &merge), 1, "merge");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--ledger` in S3, the ledger itself an S3 object: the run after the first asks S3
/// for listings only (every identity comes from them: no GET or HEAD of a digest or a
/// log), a change made in S3 (a log rewritten with the same size, a digest replaced, a
/// forged log added, a log deleted) is reported with S3's identities, and only the
/// changed objects are fetched. `validate-logs` with a ledger prints what it prints
/// without one, and asks for no object that has not changed.
#[test]
fn a_ledger_in_s3_turns_a_re_audit_into_listings() {
    let Some(m) = moto() else { return };
    let sample = repo().join("testdata/sample");
    let bucket = "ctd-sample-bucket";
    upload_dir(m, &sample.join("mirror").join(bucket), bucket, "");
    create_bucket(m, "ctd-ledger-state");
    let proxy = CountingProxy::start(m);
    let keys = sample.join("public-keys.json").display().to_string();
    let audit_args: Vec<String> = [
        "audit",
        "--endpoint-url",
        &proxy.endpoint(),
        "--s3-bucket",
        bucket,
        "--public-keys",
        &keys,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-02T01:00:00Z",
        "--now",
        "2026-03-03T00:00:00Z",
        "--output",
        "ndjson",
        "--ledger",
        "s3://ctd-ledger-state/audit.ledger",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let audit = || {
        let out = run_cli(&audit_args, &[]);
        let found: Vec<Value> = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (out.status.code(), found, text(&out.stderr), proxy.take())
    };
    let totals = |found: &[Value]| {
        found
            .iter()
            .filter(|f| f["kind"] == "chain_summary")
            .fold((0, 0), |(r, u), f| {
                (
                    r + f["objects_read"].as_u64().unwrap(),
                    u + f["objects_reused"].as_u64().unwrap(),
                )
            })
    };
    // Reads of objects: GETs and HEADs that are not listings, and not of the ledger.
    let object_reads = |requests: &[String]| -> Vec<String> {
        requests
            .iter()
            .filter(|r| r.starts_with("GET ") || r.starts_with("HEAD "))
            .filter(|r| {
                !r.contains("list-type=2") && !r.contains("?location") && !r.contains("/ctd-ledger-state")
            })
            .cloned()
            .collect()
    };

    let (exit, found, stderr, requests) = audit();
    assert_eq!(exit, Some(0), "{stderr}");
    assert_eq!(totals(&found), (149, 0));
    assert_eq!(object_reads(&requests).len(), 149, "every digest and log, once");
    assert!(requests
        .iter()
        .any(|r| r.starts_with("PUT /ctd-ledger-state/audit.ledger")));

    let (exit, again, stderr, requests) = audit();
    assert_eq!((exit, stderr), (Some(0), String::new()));
    assert_eq!(totals(&again), (0, 149));
    assert_eq!(object_reads(&requests), Vec::<String>::new(), "listings only");
    let listings = requests.iter().filter(|r| r.contains("list-type=2")).count();
    assert!(listings > 0 && listings < 20, "{requests:?}");
    // Nothing new: the ledger stays as it was, not stored again.
    assert!(!requests.iter().any(|r| r.starts_with("PUT ")), "{requests:?}");

    // Changes made in S3.
    let logs = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/";
    let digests = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/";
    let s3 = source(m);
    let log_keys = s3.list(bucket, logs, "").unwrap();
    let digest_keys = s3.list(bucket, digests, "").unwrap();
    let rewritten = &log_keys[3];
    let mut body = s3.get(bucket, rewritten).unwrap().body;
    let middle = body.len() / 2;
    body[middle] ^= 1;
    let deleted = &log_keys[7];
    let forged = log_keys[9].replace(".json.gz", "0.json.gz");
    let forged_body = s3.get(bucket, &log_keys[9]).unwrap().body;
    let replaced = &digest_keys[11];
    let other = s3.get(bucket, &digest_keys[10]).unwrap();
    let none = BTreeMap::new();
    signed_changes(
        m,
        bucket,
        &[
            (rewritten, Some((&body, &none))),
            (deleted, None),
            (&forged, Some((&forged_body, &none))),
            (replaced, Some((&other.body, &other.metadata.entries))),
        ],
    );

    let (exit, found, stderr, requests) = audit();
    assert_eq!(exit, Some(1), "{stderr}");
    assert!(requests
        .iter()
        .any(|r| r.starts_with("PUT /ctd-ledger-state/audit.ledger")));
    let of_kind = |kind: &str| -> Vec<&Value> { found.iter().filter(|f| f["kind"] == kind).collect() };
    let changed: Vec<&str> = of_kind("changed")
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(changed, [rewritten.as_str(), replaced.as_str()]);
    for f in of_kind("changed") {
        assert_eq!(f["previous"]["kind"], "stored", "{f}");
        assert!(
            f["current"]["etag"].is_string() && f["current"]["last_modified"].is_string(),
            "{f}"
        );
        assert_ne!(f["previous"], f["current"]);
    }
    assert_eq!(
        of_kind("changed")[0]["previous"]["size"],
        of_kind("changed")[0]["current"]["size"]
    );
    let removed: Vec<&str> = of_kind("removed")
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(removed, [deleted.as_str()]);
    assert!(of_kind("unreferenced_log")
        .iter()
        .any(|f| f["key"] == forged.as_str()));
    assert_eq!(totals(&found).0, 3);
    // Objects asked for (a log that does not inflate is read a second time, to hash it as
    // stored; the deleted one is looked for with a HEAD too, not being listed).
    let asked: BTreeSet<String> = object_reads(&requests)
        .iter()
        .map(|r| r.split_once(' ').unwrap().1.to_string())
        .collect();
    let expected: BTreeSet<String> = [rewritten, deleted, replaced]
        .iter()
        .map(|k| format!("/{bucket}/{k}"))
        .collect();
    assert_eq!(asked, expected, "only the changed objects are fetched");

    // validate-logs with a ledger: the output without one, and no object asked for
    // again once the ledger holds it.
    let validate = |ledger: bool| {
        let mut args: Vec<String> = [
            "validate-logs",
            "--endpoint-url",
            &proxy.endpoint(),
            "--s3-bucket",
            bucket,
            "--public-keys",
            &keys,
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail",
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-02T00:00:00Z",
            "--verbose",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if ledger {
            args.extend([
                "--ledger".to_string(),
                "s3://ctd-ledger-state/validate.ledger".to_string(),
            ]);
        }
        let out = run_cli(&args, &[]);
        (outcome(&out), proxy.take())
    };
    let (plain, _) = validate(false);
    assert_eq!(plain.2, "1\n", "{}", plain.1);
    let (first, _) = validate(true);
    assert_eq!(first, plain);
    let (second, requests) = validate(true);
    assert_eq!(second, plain);
    assert!(!requests.iter().any(|r| r.starts_with("PUT ")), "{requests:?}");
    let asked: BTreeSet<String> = object_reads(&requests)
        .iter()
        .map(|r| r.split_once(' ').unwrap().1.to_string())
        .collect();
    assert_eq!(
        asked,
        BTreeSet::from([format!("/{bucket}/{deleted}")]),
        "only the missing log is asked for again"
    );
}
