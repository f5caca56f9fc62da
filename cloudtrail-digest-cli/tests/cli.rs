//! Fatal errors of `validate-logs`: the reference's messages where it has one, a message
//! naming the argument or file at fault where it has none; never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .arg("validate-logs")
        .args(args)
        .output()
        .expect("run cloudtrail-digest")
}

fn sample_args(extra: &[&str]) -> Vec<String> {
    let root = repo().join("testdata/sample");
    let mut v: Vec<String> = vec![
        "--local-dir".into(),
        root.join("mirror").display().to_string(),
        "--public-keys".into(),
        root.join("public-keys.json").display().to_string(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_sample(extra: &[&str]) -> Output {
    let args = sample_args(extra);
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn assert_fatal(out: &Output, stdout: &str, stderr: &str) {
    assert_eq!(String::from_utf8_lossy(&out.stdout), stdout);
    assert_eq!(String::from_utf8_lossy(&out.stderr), stderr);
    assert_eq!(out.status.code(), Some(255));
}

#[test]
fn unparseable_dates_are_fatal_before_anything_else() {
    let out = run_sample(&["--trail-arn", "bad", "--start-time", "yesterday"]);
    assert_fatal(&out, "", "\nUnable to parse date value: yesterday\n");
    let out = run_sample(&[
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01",
        "--end-time",
        "2026-13-45",
    ]);
    assert_fatal(&out, "", "\nUnable to parse date value: 2026-13-45\n");
}

#[test]
fn a_reversed_window_is_fatal() {
    let out = run_sample(&[
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-02",
        "--end-time",
        "2026-03-01",
    ]);
    assert_fatal(
        &out,
        "",
        "\nInvalid time range specified: start-time must occur before end-time\n",
    );
}

#[test]
fn a_malformed_arn_is_fatal() {
    let out = run_sample(&[
        "--trail-arn",
        "arn:aws:cloudtrail:us-east-1:1234:trail/x",
        "--start-time",
        "2026-03-01",
    ]);
    assert_fatal(
        &out,
        "",
        "\nInvalid trail ARN provided: arn:aws:cloudtrail:us-east-1:1234:trail/x\n",
    );
}

#[test]
fn no_key_in_the_window_is_fatal_after_the_header() {
    let out = run_sample(&[
        "--trail-arn",
        ARN,
        "--s3-bucket",
        "ctd-sample-bucket",
        "--start-time",
        "2016-03-01T00:00:00Z",
        "--end-time",
        "2016-03-02T00:00:00Z",
    ]);
    assert_fatal(
        &out,
        &format!(
            "Validating log files for trail {ARN} between 2016-03-01T00:00:00Z and 2016-03-02T00:00:00Z\n\n"
        ),
        "\nNo public keys found between 2016-03-01T00:00:00Z and 2016-03-02T02:00:00Z\n",
    );
}

#[test]
fn missing_inputs_are_named() {
    let out = run(&[
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01",
        "--local-dir",
        "/nonexistent/mirror",
        "--public-keys",
        "k.json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--local-dir /nonexistent/mirror"), "{err}");
    assert_eq!(out.status.code(), Some(255));

    let mirror = repo().join("testdata/sample/mirror");
    let out = run(&[
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01",
        "--local-dir",
        mirror.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--public-keys FILE is required") && err.contains("aws cloudtrail list-public-keys"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(255));

    let out = run(&[
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01",
        "--local-dir",
        mirror.to_str().unwrap(),
        "--public-keys",
        "/nonexistent/keys.json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("public key file /nonexistent/keys.json"), "{err}");
    assert_eq!(out.status.code(), Some(255));
}

#[test]
fn a_key_whose_fingerprint_lies_is_refused() {
    let dir = std::env::temp_dir().join(format!("ctd-cli-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keys = std::fs::read_to_string(repo().join("testdata/sample/public-keys.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&keys).unwrap();
    let fingerprint = doc["PublicKeyList"][0]["Fingerprint"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = keys.replace(&fingerprint, "0123456789abcdef0123456789abcdef");
    let path = dir.join("forged.json");
    std::fs::write(&path, forged).unwrap();
    let args = [
        "--trail-arn",
        ARN,
        "--start-time",
        "2026-03-01",
        "--local-dir",
        dir.to_str().unwrap(),
        "--public-keys",
        path.to_str().unwrap(),
    ];
    let out = run(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "public key file {}: key #1 (Fingerprint 0123456789abcdef0123456789abcdef does not match",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(255));
    std::fs::remove_dir_all(&dir).unwrap();
}
