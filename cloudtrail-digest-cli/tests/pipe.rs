//! Output into a closed pipe (`cloudtrail-digest ... | head -1` once `head` has gone)
//! ends quietly: nothing on stderr, no panic, and exit code 141 (128 + SIGPIPE), never a
//! success, since the output was cut short.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail";
const CLOSED_PIPE: i32 = 141;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample")
}

fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"));
    cmd.args(args).stdin(Stdio::null());
    cmd
}

/// The sample's mirror and keys, and a window holding all of it.
fn sample_args() -> Vec<String> {
    let root = sample();
    vec![
        "--local-dir".into(),
        root.join("mirror").display().to_string(),
        "--public-keys".into(),
        root.join("public-keys.json").display().to_string(),
        "--start-time".into(),
        "2026-03-01T00:00:00Z".into(),
        "--end-time".into(),
        "2026-03-02T01:00:00Z".into(),
    ]
}

fn with_sample(command: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = command.iter().map(|s| s.to_string()).collect();
    args.extend(sample_args());
    args
}

/// Runs `cmd` with stdout a pipe whose read end is closed before the program writes
/// (the program first reads its arguments, keys and mirror); stderr is captured.
fn stdout_closed(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cloudtrail-digest");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for cloudtrail-digest")
}

fn assert_quiet_stop(out: &Output) {
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "stderr of a closed pipe"
    );
    assert_eq!(out.status.code(), Some(CLOSED_PIPE));
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn validate_logs_stops_quietly() {
    let args = with_sample(&["validate-logs", "--verbose", "--trail-arn", ARN]);
    let out = stdout_closed(command(&strs(&args)));
    assert_quiet_stop(&out);
    // The same run into an open pipe succeeds: the code above is the pipe's doing.
    let out = command(&strs(&args)).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("56/56 log files valid"));
}

#[test]
fn validate_logs_stops_quietly_when_stderr_is_closed_too() {
    // `... 2>&1 | head -1`: both streams go into the closed pipe; no panic (101).
    let args = with_sample(&["validate-logs", "--verbose", "--trail-arn", ARN]);
    let mut child = command(&strs(&args))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(CLOSED_PIPE));
}

#[test]
fn audit_stops_quietly_in_every_format() {
    for output in [&["--verbose"][..], &["--output", "json"], &["--output", "ndjson"]] {
        let mut args = with_sample(&["audit"]);
        args.extend(output.iter().map(|s| s.to_string()));
        let out = stdout_closed(command(&strs(&args)));
        assert_quiet_stop(&out);
    }
}

#[test]
fn mirror_stops_quietly() {
    let dest = std::env::temp_dir().join(format!("ctd-pipe-mirror-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    let bucket = sample().join("mirror/ctd-sample-bucket");
    let args = [
        "mirror".to_string(),
        "--s3-bucket".into(),
        "ctd-sample-bucket".into(),
        "--bucket-map".into(),
        format!("ctd-sample-bucket={}", bucket.display()),
        "--dest".into(),
        dest.display().to_string(),
        "--start-time".into(),
        "2026-03-01T00:00:00Z".into(),
        "--end-time".into(),
        "2026-03-02T01:00:00Z".into(),
    ];
    let mut cmd = command(&strs(&args));
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    let out = stdout_closed(cmd);
    assert_quiet_stop(&out);
    // The copy itself was made; only its summary line found no reader.
    assert!(dest.join("ctd-sample-bucket/AWSLogs").is_dir());
    std::fs::remove_dir_all(&dest).unwrap();
}
