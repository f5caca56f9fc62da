//! End-to-end checks of what testgen writes: determinism, signatures verified through an
//! independent path (stored bytes -> parse -> string to sign -> rsa verify with the key
//! from public-keys.json), chain links, log hashes, digest shape, fingerprints, and the
//! scenario.json contract.

mod common;

use common::tree;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use md5::{Digest as _, Md5};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;
use testgen::scenarios::{self, Scenario};
use testgen::trail::ExtraObject;
use testgen::{gzip, times::utc, Count, KeyId, KeyRing, TrailSpec};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("testgen-test-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Objects of a scenario's mirror by `bucket/key`.
fn objects(s: &Scenario) -> BTreeMap<String, Vec<u8>> {
    s.trail
        .objects()
        .into_iter()
        .map(|ExtraObject { bucket, key, bytes }| (format!("{bucket}/{key}"), bytes))
        .collect()
}

fn public_keys(text: &str) -> BTreeMap<String, RsaPublicKey> {
    let v: Value = serde_json::from_str(text).unwrap();
    v["PublicKeyList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let der = base64::engine::general_purpose::STANDARD
                .decode(k["Value"].as_str().unwrap())
                .unwrap();
            let fp = k["Fingerprint"].as_str().unwrap().to_string();
            assert_eq!(fp, hex::encode(Md5::digest(&der)), "fingerprint = MD5(DER)");
            (fp, RsaPublicKey::from_pkcs1_der(&der).unwrap())
        })
        .collect()
}

/// Verifies every intact digest of a scenario from its stored bytes alone.
fn verify_all_digests(s: &Scenario) -> usize {
    let objs = objects(s);
    let keys = public_keys(&s.public_keys);
    let mut verified = 0;
    for d in &s.trail.digests {
        let path = format!("{}/{}", d.bucket, d.key);
        let (Some(stored), Some(meta)) = (objs.get(&path), objs.get(&format!("{path}.metadata.json"))) else {
            continue;
        };
        let Ok(inflated) = gzip::gunzip(stored) else {
            continue;
        };
        let doc: Value = serde_json::from_slice(&inflated).unwrap();
        let meta: Value = serde_json::from_slice(meta).unwrap();
        assert_eq!(meta["signature-algorithm"], "SHA256withRSA");
        let to_sign = format!(
            "{}\n{}/{}\n{}\n{}",
            doc["digestEndTime"].as_str().unwrap(),
            doc["digestS3Bucket"].as_str().unwrap(),
            doc["digestS3Object"].as_str().unwrap(),
            sha256_hex(&inflated),
            doc["previousDigestSignature"].as_str().unwrap_or("null"),
        );
        let Some(key) = keys.get(doc["digestPublicKeyFingerprint"].as_str().unwrap()) else {
            continue;
        };
        let Ok(sig) = hex::decode(meta["signature"].as_str().unwrap()) else {
            continue;
        };
        let ok = key
            .verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(to_sign.as_bytes()),
                &sig,
            )
            .is_ok();
        let untouched = inflated == d.inflated && meta["signature"] == d.signature.as_str();
        assert_eq!(ok, untouched, "{path}: verifies iff untouched");
        verified += usize::from(ok);
    }
    verified
}

#[test]
fn generation_is_deterministic() {
    let keys = KeyRing::test_keys();
    for name in ["clean-chain", "backfill", "moved-digest", "organization-trail"] {
        let a = scenarios::build(name, &keys).unwrap();
        let b = scenarios::build(name, &keys).unwrap();
        assert_eq!(objects(&a), objects(&b), "{name}");
        assert_eq!(a.scenario_json(), b.scenario_json());
        assert_eq!(a.public_keys, b.public_keys);
    }
    let d1 = temp_dir("det1");
    let d2 = temp_dir("det2");
    scenarios::build("multi-region", &keys)
        .unwrap()
        .write(&d1)
        .unwrap();
    scenarios::build("multi-region", &keys)
        .unwrap()
        .write(&d2)
        .unwrap();
    let (t1, t2) = (tree(&d1), tree(&d2));
    assert!(t1.len() > 40);
    assert_eq!(t1, t2);
    // Regenerating over an existing tree keeps expected/ and rewrites the rest.
    fs::create_dir_all(d1.join("expected")).unwrap();
    fs::write(d1.join("expected/default.stdout"), "keep me").unwrap();
    fs::write(d1.join("mirror/stale"), "stale").unwrap();
    scenarios::build("multi-region", &keys)
        .unwrap()
        .write(&d1)
        .unwrap();
    let t3 = tree(&d1);
    assert_eq!(
        t3.get("expected/default.stdout").map(Vec::as_slice),
        Some(&b"keep me"[..])
    );
    assert!(!t3.contains_key("mirror/stale"));
    fs::remove_dir_all(&d1).unwrap();
    fs::remove_dir_all(&d2).unwrap();
}

#[test]
fn signatures_verify_with_rsa_over_the_string_to_sign() {
    let keys = KeyRing::test_keys();
    let cases = [
        ("clean-chain", 7),
        ("key-rotation", 7),
        ("backfill", 10),
        ("bucket-change", 7),
        ("organization-trail", 14),
        ("multi-region", 14),
        ("tampered-digest", 6),
        ("wrong-signature", 4),
        ("unknown-fingerprint", 6),
        ("digest-missing-field", 7),
    ];
    for (name, expected) in cases {
        let s = scenarios::build(name, &keys).unwrap();
        assert_eq!(verify_all_digests(&s), expected, "{name}");
    }
    // The library's own view agrees.
    let s = scenarios::build("key-rotation", &keys).unwrap();
    for d in &s.trail.digests {
        let k = keys.get(d.key_id);
        assert!(k.verify(d.string_to_sign().as_bytes(), &hex::decode(&d.signature).unwrap()));
        assert_eq!(d.fingerprint, k.fingerprint);
    }
    assert_eq!(s.trail.digests[3].key_id, KeyId::One);
    assert_eq!(s.trail.digests[4].key_id, KeyId::Two);
}

#[test]
fn chains_link_and_logs_hash() {
    let keys = KeyRing::test_keys();
    let s = scenarios::build("gap-stopped-logging", &keys).unwrap();
    let objs = objects(&s);
    let mut starting = 0;
    for (i, d) in s.trail.digests.iter().enumerate() {
        let doc: Value = serde_json::from_slice(&d.inflated).unwrap();
        match d.previous {
            None => {
                starting += 1;
                for f in [
                    "previousDigestS3Bucket",
                    "previousDigestS3Object",
                    "previousDigestHashValue",
                    "previousDigestHashAlgorithm",
                    "previousDigestSignature",
                ] {
                    assert!(doc[f].is_null(), "{f}");
                }
            }
            Some(p) => {
                assert!(p < i);
                let prev = &s.trail.digests[p];
                assert_eq!(doc["previousDigestS3Bucket"], prev.bucket.as_str());
                assert_eq!(doc["previousDigestS3Object"], prev.key.as_str());
                assert_eq!(
                    doc["previousDigestHashValue"],
                    sha256_hex(&prev.inflated).as_str()
                );
                assert_eq!(doc["previousDigestHashAlgorithm"], "SHA-256");
                assert_eq!(doc["previousDigestSignature"], prev.signature.as_str());
                // Contiguous hours within a chain.
                assert_eq!(doc["digestStartTime"], testgen::times::iso(prev.end).as_str());
            }
        }
        let logs = doc["logFiles"].as_array().unwrap();
        assert_eq!(logs.len(), d.logs.len());
        if logs.is_empty() {
            assert!(doc["newestEventTime"].is_null() && doc["oldestEventTime"].is_null());
        }
        for l in logs {
            let path = format!(
                "{}/{}",
                l["s3Bucket"].as_str().unwrap(),
                l["s3Object"].as_str().unwrap()
            );
            let inflated = gzip::gunzip(&objs[&path]).unwrap();
            assert_eq!(l["hashValue"], sha256_hex(&inflated).as_str());
            assert_eq!(l["hashAlgorithm"], "SHA-256");
            let recs: Value = serde_json::from_slice(&inflated).unwrap();
            let times: Vec<&str> = recs["Records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["eventTime"].as_str().unwrap())
                .collect();
            assert_eq!(l["oldestEventTime"], *times.iter().min().unwrap());
            assert_eq!(l["newestEventTime"], *times.iter().max().unwrap());
            assert!(doc["oldestEventTime"].as_str().unwrap() <= l["oldestEventTime"].as_str().unwrap());
        }
    }
    assert_eq!(starting, 2, "two chains: before and after the gap");
}

/// Top-level and `logFiles[]` key order of CloudTrail's digest files.
const TOP_KEYS: &[&str] = &[
    "awsAccountId",
    "digestStartTime",
    "digestEndTime",
    "digestS3Bucket",
    "digestS3Object",
    "digestPublicKeyFingerprint",
    "digestSignatureAlgorithm",
    "newestEventTime",
    "oldestEventTime",
    "previousDigestS3Bucket",
    "previousDigestS3Object",
    "previousDigestHashValue",
    "previousDigestHashAlgorithm",
    "previousDigestSignature",
    "logFiles",
];
const LOG_KEYS: &[&str] = &[
    "s3Bucket",
    "s3Object",
    "hashValue",
    "hashAlgorithm",
    "newestEventTime",
    "oldestEventTime",
];

/// The object keys of compact JSON in document order (a string followed by `:`).
fn keys_in_order(json: &str) -> Vec<String> {
    let b = json.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i + 1;
            i += 1;
            while b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            if b.get(i + 1) == Some(&b':') {
                out.push(json[start..i].to_string());
            }
        }
        i += 1;
    }
    out
}

fn expected_keys(logs: usize) -> Vec<String> {
    let mut v: Vec<String> = TOP_KEYS.iter().map(|s| s.to_string()).collect();
    for _ in 0..logs {
        v.extend(LOG_KEYS.iter().map(|s| s.to_string()));
    }
    v
}

#[test]
fn digest_json_has_cloudtrail_shape() {
    let keys = KeyRing::test_keys();
    let s = scenarios::build("prefix", &keys).unwrap();
    for d in &s.trail.digests {
        let text = std::str::from_utf8(&d.inflated).unwrap();
        assert_eq!(keys_in_order(text), expected_keys(d.logs.len()));
        // Compact, every slash escaped, Java style.
        assert!(!text.contains(' ') && !text.contains('\n'));
        assert!(!text.replace("\\/", "").contains('/'));
        assert!(text.contains("\"digestS3Object\":\"audit\\/trails\\/AWSLogs\\/111122223333\\/CloudTrail-Digest\\/us-east-1\\/2026\\/03\\/01\\/"));
        assert!(text.contains("\"digestSignatureAlgorithm\":\"SHA256withRSA\""));
        let doc: Value = serde_json::from_str(text).unwrap();
        assert_eq!(doc["digestS3Object"], d.key.as_str());
        for t in ["digestStartTime", "digestEndTime"] {
            let v = doc[t].as_str().unwrap();
            assert_eq!(v.len(), 20);
            assert!(v.ends_with('Z') && &v[10..11] == "T");
        }
    }
    // The same shape as a real digest (the real AWS material beside the repository, as
    // the library's tests read it).
    let real_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/realdata/llm-guard-ap-northeast-1-2023-10-15");
    let entries = fs::read_dir(&real_dir).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the real AWS test data is expected in shared/realdata beside the repository",
            real_dir.display()
        )
    });
    for e in entries {
        let text = fs::read_to_string(e.unwrap().path()).unwrap();
        let text = text.trim_end();
        let real: Value = serde_json::from_str(text).unwrap();
        let n = real["logFiles"].as_array().unwrap().len();
        assert_eq!(keys_in_order(text), expected_keys(n));
        assert!(!text.replace("\\/", "").contains('/'));
    }
}

#[test]
fn sidecars_and_public_keys() {
    let keys = KeyRing::test_keys();
    let s = scenarios::build("backfill", &keys).unwrap();
    let objs = objects(&s);
    let mut backfill = 0;
    for d in &s.trail.digests {
        let meta: Value =
            serde_json::from_slice(&objs[&format!("{}/{}.metadata.json", d.bucket, d.key)]).unwrap();
        assert_eq!(meta["signature"], d.signature.as_str());
        assert_eq!(meta["signature-algorithm"], "SHA256withRSA");
        if d.key.ends_with("_backfill.json.gz") {
            backfill += 1;
            assert_eq!(meta["backfill-generation-timestamp"], "2026-03-03T09:41:27Z");
            assert_eq!(d.key_id, KeyId::Two);
        } else {
            assert!(meta.get("backfill-generation-timestamp").is_none());
        }
    }
    assert_eq!(backfill, 3);
    let pk = public_keys(&s.public_keys);
    assert!(pk.contains_key(&keys.get(KeyId::One).fingerprint));
    assert!(pk.contains_key(&keys.get(KeyId::Two).fingerprint));
    let v: Value = serde_json::from_str(&s.public_keys).unwrap();
    assert_eq!(
        v["PublicKeyList"][0]["ValidityStartTime"].as_f64(),
        Some(1_771_545_600.0)
    );
    assert!(s.public_keys.contains("\"ValidityEndTime\": 1774137600.0,"));
    let rot = scenarios::build("key-rotation", &keys).unwrap();
    assert!(rot
        .public_keys
        .contains("\"ValidityStartTime\": \"2026-03-01T03:00:00+00:00\","));
}

#[test]
fn every_scenario_follows_the_contract() {
    let keys = KeyRing::test_keys();
    for name in scenarios::NAMES {
        let s = scenarios::build(name, &keys).unwrap();
        let v: Value = serde_json::from_str(&s.scenario_json()).unwrap();
        assert!(v["description"].as_str().unwrap().len() > 40, "{name}");
        let t = &v["trail"];
        assert!(t["TrailARN"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:cloudtrail:us-east-1:111122223333:trail/"));
        assert!(t["S3BucketName"].is_string() && t["IsOrganizationTrail"].is_boolean());
        assert!(t.get("S3KeyPrefix").is_some() && v.get("organization_id").is_some());
        let cases = v["cases"].as_array().unwrap();
        let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"default") && names.contains(&"verbose"), "{name}");
        for c in cases {
            let args: Vec<&str> = c["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            for a in ["--trail-arn", "--start-time", "--end-time", "--s3-bucket"] {
                assert!(args.contains(&a), "{name}/{}: {a}", c["name"]);
            }
            assert!(c.get("reference").is_some() && c.get("differs").is_some());
        }
        // Under ~200 KB of objects per scenario.
        let size: usize = s.trail.objects().iter().map(|o| o.bytes.len()).sum();
        assert!(size < 200_000, "{name}: {size} bytes");
    }
}

#[test]
fn streaming_writes_the_same_bytes_as_in_memory() {
    let keys = KeyRing::test_keys();
    let mut spec = TrailSpec::new(
        "111122223333",
        "bench",
        "bench-bucket",
        utc(2026, 3, 1, 0, 17, 42),
    );
    spec.regions = vec!["us-east-1".into(), "eu-west-1".into()];
    spec.hours = 2;
    spec.logs_per_hour = Count::Fixed(3);
    spec.records_per_log = Count::Fixed(1500); // enough to take the parallel path
    let plan = spec.plan();
    let a = temp_dir("stream-a");
    let b = temp_dir("stream-b");
    plan.seal(&keys).write_to(&a).unwrap();
    let stats = plan.write_streaming(&keys, &b).unwrap();
    assert_eq!(stats.digests, 4);
    assert_eq!(stats.logs, 12);
    assert_eq!(stats.records, 12 * 1500);
    let (ta, tb) = (tree(&a), tree(&b));
    assert_eq!(ta, tb);
    // Realistic compression ratio of the logs (~8x).
    let (mut raw, mut packed) = (0usize, 0usize);
    for (k, v) in &ta {
        if k.contains("/CloudTrail/") {
            raw += gzip::gunzip(v).unwrap().len();
            packed += v.len();
        }
    }
    let ratio = raw as f64 / packed as f64;
    assert!((6.0..12.0).contains(&ratio), "compression ratio {ratio}");
    fs::remove_dir_all(&a).unwrap();
    fs::remove_dir_all(&b).unwrap();
}
