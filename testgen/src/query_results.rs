//! Saved CloudTrail Lake query results, really signed with the test keys: result files
//! `result_N.csv.gz` and their sign file `result_sign.json` (the SHA-256 of each result
//! file's stored bytes, in order, joined by single spaces, signed with SHA256withRSA),
//! one folder per case with its `public-keys.json` and what `verify-query-results`
//! must print, read locally (`expected-local.*`) and in S3 (`expected-s3.*`).

use std::fs;
use std::io;
use std::path::Path;

use crate::digest::sha256_hex;
use crate::gzip::gzip;
use crate::json::Json;
use crate::keys::{render_public_keys, KeyId, KeyRing, PublicKeyEntry, PublicKeysShape};
use crate::times::{iso, utc};

/// The cases, each a folder of `testdata/query-results/`.
pub const CASES: [&str; 5] = [
    "valid",
    "tampered-result",
    "missing-result",
    "bad-signature",
    "unknown-key",
];

const SUCCESS: &str = "Successfully validated sign and query result files\n";

/// A result file's CSV rows: a header, then `rows` events.
fn result_csv(part: u32, rows: u32) -> Vec<u8> {
    let mut csv = String::from("eventTime,eventName,eventSource,awsRegion,sourceIPAddress\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "2026-03-01 {:02}:{:02}:{:02}.000,GetObject,s3.amazonaws.com,us-east-1,198.51.100.{}\n",
            (part * 3 + i / 60) % 24,
            i % 60,
            (i * 7) % 60,
            (i % 250) + 1
        ));
    }
    csv.into_bytes()
}

/// Writes every case under `out` (`out/CASE/{export/,public-keys.json,expected-*}`).
pub fn write_all(out: &Path) -> io::Result<()> {
    let keys = KeyRing::test_keys();
    let complete = utc(2026, 3, 2, 10, 15, 7);
    for case in CASES {
        let dir = out.join(case);
        let _ = fs::remove_dir_all(&dir);
        let export = dir.join("export");
        fs::create_dir_all(&export)?;
        let signer = if case == "unknown-key" {
            KeyId::Two
        } else {
            KeyId::One
        };
        let files: Vec<(String, Vec<u8>)> = (1..=2)
            .map(|n| (format!("result_{n}.csv.gz"), gzip(&result_csv(n, 40 * n))))
            .collect();
        let hashes: Vec<String> = files.iter().map(|(_, body)| sha256_hex(body)).collect();
        let signed = if case == "bad-signature" {
            // A real signature, over something else: the hashes in the other order.
            hashes.iter().rev().cloned().collect::<Vec<_>>().join(" ")
        } else {
            hashes.join(" ")
        };
        let key = keys.get(signer);
        let sign = Json::obj([
            ("version", Json::str("1.0")),
            ("region", Json::str("us-east-1")),
            (
                "files",
                Json::Arr(
                    files
                        .iter()
                        .zip(&hashes)
                        .map(|((name, _), hash)| {
                            Json::obj([
                                ("fileHashValue", Json::str(hash.clone())),
                                ("fileName", Json::str(name.clone())),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("hashAlgorithm", Json::str("SHA-256")),
            ("signatureAlgorithm", Json::str("SHA256withRSA")),
            ("queryCompleteTime", Json::str(iso(complete))),
            ("hashSignature", Json::str(key.sign_hex(signed.as_bytes()))),
            ("publicKeyFingerprint", Json::str(key.fingerprint.clone())),
        ]);
        fs::write(export.join("result_sign.json"), sign.pretty(2, false))?;
        for (i, (name, body)) in files.iter().enumerate() {
            let mut body = body.clone();
            if case == "tampered-result" && i == 1 {
                // The second file's rows rewritten after signing.
                body = gzip(&result_csv(2, 41));
            }
            if case == "missing-result" && i == 1 {
                continue;
            }
            fs::write(export.join(name), &body)?;
        }
        // Only key 1 is known: "unknown-key" was signed with key 2.
        let entry = PublicKeyEntry::thirty_days(KeyId::One, utc(2026, 2, 20, 0, 0, 0));
        fs::write(
            dir.join("public-keys.json"),
            render_public_keys(&keys, &[entry], PublicKeysShape::V2),
        )?;
        let failure = |message: String| format!("\n{message}\n");
        let (local, s3) = match case {
            "valid" => ((SUCCESS.to_string(), String::new(), 0), (SUCCESS.to_string(), String::new(), 0)),
            "tampered-result" => {
                let actual = sha256_hex(&fs::read(export.join(&files[1].0))?);
                let m = failure(format!(
                    "ValidationError: File {} has inconsistent hash value with hash value recorded in sign file, hash value in sign file is {} , but get {actual}",
                    files[1].0, hashes[1]
                ));
                ((String::new(), m.clone(), 255), (String::new(), m, 255))
            }
            "missing-result" => (
                (
                    String::new(),
                    failure(format!(
                        "[Errno 2] No such file or directory: 'testdata/query-results/{case}/export/{}'",
                        files[1].0
                    )),
                    255,
                ),
                (
                    String::new(),
                    failure(
                        "An error occurred (NoSuchKey) when calling the GetObject operation: The specified key does not exist."
                            .to_string(),
                    ),
                    254,
                ),
            ),
            "bad-signature" => {
                let m = failure("ValidationError: Invalid signature in sign file".to_string());
                ((String::new(), m.clone(), 255), (String::new(), m, 255))
            }
            _ => {
                let m = failure(format!(
                    "No public keys found for key with fingerprint: {}",
                    keys.get(KeyId::Two).fingerprint
                ));
                ((String::new(), m.clone(), 255), (String::new(), m, 255))
            }
        };
        for (mode, (stdout, stderr, exit)) in [("local", local), ("s3", s3)] {
            fs::write(dir.join(format!("expected-{mode}.stdout")), stdout)?;
            fs::write(dir.join(format!("expected-{mode}.stderr")), stderr)?;
            fs::write(dir.join(format!("expected-{mode}.exit")), format!("{exit}\n"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `dir`, relative name and bytes, sorted.
    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let name = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                    out.push((name, fs::read(&path).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_committed_cases_are_what_the_generator_writes() {
        let out = std::env::temp_dir().join(format!("testgen-query-results-{}", std::process::id()));
        write_all(&out).unwrap();
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/query-results");
        assert_eq!(files(&out), files(&committed));
        let _ = fs::remove_dir_all(&out);
    }
}
