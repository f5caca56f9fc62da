//! Containment by construction: a log swapped for a link out of the mirror while runs
//! read it (many times, racing the reads), and every open under the root seen through
//! strace. The copy outside is the genuine log, so a single read through the link would
//! make that log "valid": it never may be.

#![cfg(target_os = "linux")]

mod tree;

use std::fs;
use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudtrail_digest::{LocalDir, ObjectSource, SourceErrorKind};
use tree::copy_tree;

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail";
const BUCKET: &str = "ctd-sample-bucket";
const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01";
const LOG: &str = "111122223333_CloudTrail_us-east-1_20260301T0035Z_lCzpQaSXK679Ip5s.json.gz";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A copy of the sample trail whose log `LOG` is, turn by turn, a tampered regular file
/// and a link to the genuine log outside the mirror, swapped by rename (atomically) from
/// a staging folder beside the mirror until the copy is dropped.
struct Racing {
    dir: PathBuf,
    genuine: Vec<u8>,
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicUsize>,
    racer: Option<std::thread::JoinHandle<()>>,
}

impl Racing {
    fn new(tag: &str) -> Racing {
        let dir = std::env::temp_dir().join(format!("ctd-contain-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        copy_tree(&repo().join("testdata/sample"), &dir.join("evidence"));
        let log = dir.join("evidence/mirror").join(BUCKET).join(DAY).join(LOG);
        let genuine = fs::read(&log).unwrap();
        fs::create_dir_all(dir.join("outside")).unwrap();
        fs::create_dir_all(dir.join("staging")).unwrap();
        let outside = dir.join("outside").join(LOG);
        fs::write(&outside, &genuine).unwrap();
        let mut tampered = genuine.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0xff;
        fs::write(&log, &tampered).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicUsize::new(0));
        let (staging, flag, count) = (dir.join("staging"), Arc::clone(&stop), Arc::clone(&swaps));
        let racer = std::thread::spawn(move || {
            let (link, file) = (staging.join("link"), staging.join("file"));
            // Bounded in count and time: the runs take seconds.
            let started = Instant::now();
            for _ in 0..2_000_000 {
                if flag.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(300) {
                    break;
                }
                let _ = fs::remove_file(&link);
                symlink(&outside, &link).unwrap();
                fs::rename(&link, &log).unwrap();
                fs::write(&file, &tampered).unwrap();
                fs::rename(&file, &log).unwrap();
                count.fetch_add(2, Ordering::Relaxed);
            }
        });
        Racing {
            dir,
            genuine,
            stop,
            swaps,
            racer: Some(racer),
        }
    }

    fn mirror(&self) -> PathBuf {
        self.dir.join("evidence/mirror")
    }

    fn keys(&self) -> String {
        self.dir.join("evidence/public-keys.json").display().to_string()
    }
}

impl Drop for Racing {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.racer.take() {
            let _ = r.join();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_racing_link_swap_never_leads_a_read_outside_the_root() {
    let r = Racing::new("source");
    let source = LocalDir::new(r.mirror()).unwrap();
    let key = format!("{DAY}/{LOG}");
    let (mut read, mut refused) = (0, 0);
    // At least 4,000 reads, and on until the racer (which a busy machine may starve) has
    // swapped more than 100 times and both states were met; bounded in time.
    let started = Instant::now();
    let raced =
        |read: usize, refused: usize| read > 0 && refused > 0 && r.swaps.load(Ordering::Relaxed) > 100;
    for i in 0.. {
        if i >= 4_000 && (raced(read, refused) || started.elapsed() > Duration::from_secs(120)) {
            break;
        }
        // Both ways in: streamed (logs) and whole (digests, sidecars).
        let body = if i % 2 == 0 {
            source.open(BUCKET, &key).map(|mut f| {
                let mut body = Vec::new();
                f.read_to_end(&mut body).unwrap();
                body
            })
        } else {
            source.get(BUCKET, &key).map(|o| o.body)
        };
        match body {
            Ok(body) => {
                assert!(body != r.genuine, "read the file outside the root (attempt {i})");
                read += 1;
            }
            Err(e) => {
                assert!(
                    matches!(e.kind, SourceErrorKind::Refused | SourceErrorKind::NotFound),
                    "{e}"
                );
                refused += 1;
            }
        }
    }
    // The race was run: both states were met.
    assert!(read > 0 && refused > 0, "read {read}, refused {refused}");
    let swaps = r.swaps.load(Ordering::Relaxed);
    assert!(
        swaps > 100,
        "only {swaps} swaps in {read} reads and {refused} refusals"
    );
}

/// `cmd` with nothing of the caller's AWS set-up, and no instance metadata lookups.
fn offline(mut cmd: Command) -> Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// Runs the binary to its end (killed, and the test failed, after two minutes), its
/// output going to files, so that a full pipe cannot stall it.
fn run(args: &[String]) -> Output {
    let dir = std::env::temp_dir().join(format!(
        "ctd-contain-out-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    fs::create_dir_all(&dir).unwrap();
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = offline(Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest")))
        .args(args)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after two minutes: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: fs::read(&out).unwrap(),
        stderr: fs::read(&err).unwrap(),
    };
    fs::remove_dir_all(&dir).unwrap();
    output
}

fn window() -> Vec<String> {
    [
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-02T01:00:00Z",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn runs_racing_a_link_swap_end_with_a_verdict_and_never_read_outside() {
    let r = Racing::new("runs");
    let mirror = r.mirror().display().to_string();
    let mut validate: Vec<String> = [
        "validate-logs",
        "--local-dir",
        &mirror,
        "--public-keys",
        &r.keys(),
    ]
    .map(String::from)
    .to_vec();
    validate.extend(["--trail-arn", ARN, "--s3-bucket", BUCKET, "--verbose"].map(String::from));
    validate.extend(window());
    let mut audit: Vec<String> = ["audit", "--local-dir", &mirror, "--public-keys", &r.keys()]
        .map(String::from)
        .to_vec();
    audit.extend(["--output", "ndjson"].map(String::from));
    audit.extend(window());
    let target = format!("s3://{BUCKET}/{DAY}/{LOG}");
    for round in 0..20 {
        let out = run(&validate);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(out.status.code(), Some(1), "round {round}: {stderr}");
        let line = stdout
            .lines()
            .chain(stderr.lines())
            .find(|l| l.contains(&target))
            .unwrap_or_else(|| panic!("no verdict for the log:\n{stdout}\n{stderr}"));
        assert!(line.contains("INVALID"), "round {round}: {line}");
        assert!(
            stdout.contains("55/56 log files valid, 1/56 log files INVALID"),
            "{stdout}"
        );

        let out = run(&audit);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
        assert_eq!(out.status.code(), Some(1), "round {round}");
        let finding: serde_json::Value = stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|f| f["kind"] == "log" && f["key"].as_str().is_some_and(|k| k.ends_with(LOG)))
            .unwrap_or_else(|| panic!("no finding for the log:\n{stdout}"));
        assert_eq!(finding["status"], "invalid", "round {round}: {finding}");
    }
}

/// The path argument and the rest of one traced open (`open`, `openat`, `openat2`).
fn opens(trace: &str) -> Vec<(String, String)> {
    trace
        .lines()
        .filter(|l| l.contains("open"))
        .filter_map(|l| {
            let call = l.split_whitespace().nth(1)?;
            let name = call.split('(').next()?;
            if !matches!(name, "open" | "openat" | "openat2") {
                return None;
            }
            let path = l.split('"').nth(1)?.to_string();
            Some((path, l.to_string()))
        })
        .collect()
}

/// `strace`, or `None` (with a note) outside CI when it is not installed.
fn strace() -> Option<&'static str> {
    let found = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    match found {
        true => Some("strace"),
        false if std::env::var_os("CI").is_some() => {
            panic!("strace is required in CI (scripts/test-all installs it)")
        }
        false => {
            eprintln!("SKIPPED: strace is not installed");
            None
        }
    }
}

#[test]
fn under_strace_every_open_inside_the_root_is_contained() {
    let Some(strace) = strace() else { return };
    let dir = std::env::temp_dir().join(format!("ctd-contain-strace-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    copy_tree(&repo().join("testdata/sample"), &dir.join("evidence"));
    let mirror = dir.join("evidence/mirror");
    let dest = dir.join("copy");
    fs::create_dir_all(&dest).unwrap();
    let keys = dir.join("evidence/public-keys.json").display().to_string();
    let m = mirror.display().to_string();
    let mut runs: Vec<(Vec<String>, &Path)> = Vec::new();
    let mut validate: Vec<String> = ["validate-logs", "--local-dir", &m, "--public-keys", &keys]
        .map(String::from)
        .to_vec();
    validate.extend(["--trail-arn", ARN, "--s3-bucket", BUCKET].map(String::from));
    validate.extend(window());
    runs.push((validate, &mirror));
    let mut audit: Vec<String> = ["audit", "--local-dir", &m, "--public-keys", &keys]
        .map(String::from)
        .to_vec();
    audit.extend(window());
    runs.push((audit, &mirror));
    // mirror reads a directory standing in for the bucket, and writes the copy.
    let bucket_dir = mirror.join(BUCKET).display().to_string();
    let mut copy: Vec<String> = [
        "mirror",
        "--s3-bucket",
        BUCKET,
        "--dest",
        &dest.display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    copy.extend(["--bucket-map".to_string(), format!("{BUCKET}={bucket_dir}")]);
    copy.extend(window());
    let bucket_root = mirror.join(BUCKET);
    runs.push((copy.clone(), &bucket_root));
    runs.push((copy, &dest));
    for (i, (args, root)) in runs.iter().enumerate() {
        let trace = dir.join(format!("trace-{i}"));
        let out = offline(Command::new(strace))
            .args(["-f", "-qq", "-e", "trace=open,openat,openat2", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_cloudtrail-digest"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0) | Some(1)),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let trace = fs::read_to_string(&trace).unwrap();
        let root = root.display().to_string();
        let mut contained = 0;
        for (path, line) in opens(&trace) {
            if line.contains("openat2(") {
                assert!(line.contains("RESOLVE_BENEATH"), "{line}");
                contained += 1;
            } else if path.starts_with(&root) {
                // The root itself is opened once by name, to hold it as a handle.
                assert!(
                    path == root || path.trim_end_matches('/') == root,
                    "an open by name inside the root: {line}"
                );
            } else if !path.starts_with('/') {
                // Relative to a directory handle (never to the working directory).
                assert!(!line.contains("AT_FDCWD"), "{line}");
            }
        }
        assert!(
            contained > 10,
            "{args:?}: {contained} contained opens in\n{trace}"
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}
