//! Evidence an attacker may have touched, run through the binary: links out of the
//! mirror, FIFOs and directories where objects should be, unreadable files, a giant
//! digest, names that are not UTF-8, truncated logs. Each run must end (a child still
//! running after two minutes fails the test), never panic, read nothing outside the
//! mirror, and say what is wrong with which object.
//!
//! The planted keys of a validly signed digest (`..`, absolute, backslash, NUL, ...)
//! are the `hostile-input` scenario, checked byte for byte in tests/scenarios.rs.

#![cfg(unix)]

mod tree;

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tree::copy_tree;

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail";
const BUCKET: &str = "ctd-sample-bucket";
const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01";
const DIGEST_DAY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01";
const LOG: &str = "111122223333_CloudTrail_us-east-1_20260301T0035Z_lCzpQaSXK679Ip5s.json.gz";
const DIGEST: &str =
    "111122223333_CloudTrail-Digest_us-east-1_sample-trail_us-east-1_20260301T021742Z.json.gz";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A private copy of the sample trail: `DIR/evidence/{mirror,public-keys.json}`, with
/// `DIR/outside/` beside it for things the tool must not reach.
struct Copy {
    dir: PathBuf,
}

impl Copy {
    fn new(tag: &str) -> Copy {
        let dir = std::env::temp_dir().join(format!("ctd-hostile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        copy_tree(&repo().join("testdata/sample"), &dir.join("evidence"));
        fs::create_dir_all(dir.join("outside")).unwrap();
        Copy { dir }
    }

    fn mirror(&self) -> PathBuf {
        self.dir.join("evidence/mirror")
    }

    fn object(&self, folder: &str, name: &str) -> PathBuf {
        self.mirror().join(BUCKET).join(folder).join(name)
    }

    fn outside(&self) -> PathBuf {
        self.dir.join("outside")
    }

    fn args(&self) -> Vec<String> {
        [
            "validate-logs",
            "--local-dir",
            &self.mirror().display().to_string(),
            "--public-keys",
            &self.dir.join("evidence/public-keys.json").display().to_string(),
            "--trail-arn",
            ARN,
            "--s3-bucket",
            BUCKET,
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-02T01:00:00Z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// `audit` of the whole copy, over the sample's window.
    fn audit_args(&self) -> Vec<String> {
        [
            "audit",
            "--local-dir",
            &self.mirror().display().to_string(),
            "--public-keys",
            &self.dir.join("evidence/public-keys.json").display().to_string(),
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            "2026-03-02T01:00:00Z",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn run(&self) -> Run {
        run_bounded(Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest")).args(self.args()))
    }

    /// Moves the us-east-1 digest folder to `outside/NAME` and leaves a link to it in its
    /// place; gives the folder and where it went.
    fn link_digest_folder_outside(&self, name: &str) -> (PathBuf, PathBuf) {
        let folder = self
            .mirror()
            .join(BUCKET)
            .join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1");
        let outside = self.outside().join(name);
        fs::rename(&folder, &outside).unwrap();
        symlink(&outside, &folder).unwrap();
        (folder, outside)
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The verdict printed for `s3://BUCKET/FOLDER/NAME`.
    fn verdict(&self, folder: &str, name: &str) -> &str {
        let target = format!("\ts3://{BUCKET}/{folder}/{name}\t");
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .find_map(|l| l.split_once(&target).map(|(_, v)| v))
            .unwrap_or_else(|| panic!("no verdict for {name} in\n{}\n{}", self.stdout, self.stderr))
    }
}

/// Runs the command to its end, killing it (and failing) if it takes over two minutes.
fn run_bounded(cmd: &mut Command) -> Run {
    let dir = std::env::temp_dir().join(format!(
        "ctd-hostile-out-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    fs::create_dir_all(&dir).unwrap();
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = cmd
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .expect("run cloudtrail-digest");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after two minutes: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = Run {
        code: status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&fs::read(&out).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&fs::read(&err).unwrap()).into_owned(),
    };
    fs::remove_dir_all(&dir).unwrap();
    assert_ne!(run.code, 101, "panic:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

#[test]
fn a_log_linked_to_a_copy_outside_the_mirror_is_refused() {
    let c = Copy::new("link-file");
    let log = c.object(DAY, LOG);
    // The copy outside is byte-identical: following the link would make it "valid".
    let outside = c.outside().join(LOG);
    fs::rename(&log, &outside).unwrap();
    symlink(&outside, &log).unwrap();
    let r = c.run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.verdict(DAY, LOG);
    assert!(
        v.starts_with("INVALID: refused: a link leads outside the mirror root"),
        "{v}"
    );
    assert!(
        r.stdout.contains("55/56 log files valid, 1/56 log files INVALID"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_day_folder_linked_outside_the_mirror_is_refused_log_by_log() {
    let c = Copy::new("link-dir");
    let day = c.mirror().join(BUCKET).join(DAY);
    let outside = c.outside().join("01");
    fs::rename(&day, &outside).unwrap();
    symlink(&outside, &day).unwrap();
    let r = c.run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r
        .verdict(DAY, LOG)
        .contains("a link leads outside the mirror root"));
    assert!(!r.stdout.contains("56/56 log files valid"), "{}", r.stdout);
}

#[test]
fn fifos_where_objects_should_be_are_refused_without_blocking() {
    let c = Copy::new("fifo");
    for path in [c.object(DAY, LOG), c.object(DIGEST_DAY, DIGEST)] {
        fs::remove_file(&path).unwrap();
        let status = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
        assert!(status.success());
    }
    let r = c.run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    for (folder, name) in [(DAY, LOG), (DIGEST_DAY, DIGEST)] {
        assert_eq!(
            r.verdict(folder, name),
            "INVALID: refused: not a regular file (a FIFO, socket or device)"
        );
    }
}

#[test]
fn a_fifo_metadata_sidecar_is_a_fatal_error_naming_it() {
    let c = Copy::new("fifo-sidecar");
    let sidecar = c.object(DIGEST_DAY, &format!("{DIGEST}.metadata.json"));
    fs::remove_file(&sidecar).unwrap();
    assert!(Command::new("mkfifo").arg(&sidecar).status().unwrap().success());
    let r = c.run();
    assert_eq!(r.code, 255);
    assert!(
        r.stderr
            .contains(&format!("metadata sidecar {} is not usable", sidecar.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
}

#[test]
fn a_directory_at_a_log_key_is_not_an_object() {
    let c = Copy::new("dir");
    let log = c.object(DAY, LOG);
    fs::remove_file(&log).unwrap();
    fs::create_dir(&log).unwrap();
    let r = c.run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.verdict(DAY, LOG), "INVALID: not found");
}

#[test]
fn a_giant_digest_is_refused_unread() {
    let c = Copy::new("giant");
    // Sparse: 200 MB on paper, nothing on disk, and nothing read.
    let f = fs::File::create(c.object(DIGEST_DAY, DIGEST)).unwrap();
    f.set_len(200 << 20).unwrap();
    let r = c.run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.verdict(DIGEST_DAY, DIGEST),
        "INVALID: refused: the object holds 209715200 bytes, more than the 67108864 a digest can take; not read"
    );
}

#[test]
fn a_truncated_log_does_not_match_its_hash() {
    let c = Copy::new("truncated");
    let log = c.object(DAY, LOG);
    let bytes = fs::read(&log).unwrap();
    fs::write(&log, &bytes[..bytes.len() / 2]).unwrap();
    let r = c.run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.verdict(DAY, LOG), "INVALID: hash value doesn't match");
}

#[test]
fn names_that_are_not_utf8_are_passed_over() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let c = Copy::new("non-utf8");
    let folder = c.mirror().join(BUCKET).join(DIGEST_DAY);
    let name = OsStr::from_bytes(b"111122223333_CloudTrail-Digest_\xff\xfe_20260301T021742Z.json.gz");
    if fs::write(folder.join(name), b"not a digest").is_err() {
        eprintln!("this filesystem refuses names that are not UTF-8; skipping");
        return;
    }
    let r = c.run();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("24/24 digest files valid"), "{}", r.stdout);
}

/// Permission denied: as root, the binary runs as `nobody` so that permissions apply.
#[test]
fn an_unreadable_log_is_a_fatal_error_naming_object_and_file() {
    let c = Copy::new("denied");
    let log = c.object(DAY, LOG);
    fs::set_permissions(&log, fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"));
    cmd.args(c.args());
    if fs::metadata("/proc/self").map(|m| m.uid()).ok() == Some(0) {
        cmd.uid(65534).gid(65534);
    }
    let r = run_bounded(&mut cmd);
    assert_eq!(r.code, 255, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "s3://{BUCKET}/{DAY}/{LOG}: {}: Permission denied",
            log.display()
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn public_key_files_that_are_endless_deep_or_binary_are_named() {
    let c = Copy::new("keyfiles");
    let deep = c.outside().join("deep.json");
    fs::write(&deep, format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))).unwrap();
    // 15 MB of text that would decode into about 1.3 GB.
    let amplifying = c.outside().join("amplifying.json");
    fs::write(&amplifying, format!("[{}{{}}]", "{\"a\":0},".repeat(1_900_000))).unwrap();
    let binary = c.outside().join("binary.json");
    fs::write(&binary, b"\xff\xfe{\x00").unwrap();
    for (file, reason) in [
        (
            PathBuf::from("/dev/zero"),
            "larger than 16777216 bytes, so not a list-public-keys answer",
        ),
        (deep, "not JSON: recursion limit exceeded"),
        (
            amplifying,
            "decoding its JSON would take more than 536870912 bytes of memory",
        ),
        (binary, "not JSON: expected value at line 1 column 1"),
    ] {
        let mut args = c.args();
        let at = args.iter().position(|a| a == "--public-keys").unwrap() + 1;
        args[at] = file.display().to_string();
        let r = run_bounded(Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest")).args(&args));
        assert_eq!(r.code, 255, "{}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("public key file {}: {reason}", file.display())),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_digest_whose_json_would_swell_in_memory_is_refused_undecoded() {
    let c = Copy::new("swelling");
    // 15 MB of JSON (15 KB gzip'd) that would take about 1.3 GB once decoded.
    let json = c.outside().join("swelling.json");
    fs::write(&json, format!("[{}{{}}]", "{\"a\":0},".repeat(1_900_000))).unwrap();
    let gz = Command::new("gzip").arg("-c").arg(&json).output().expect("gzip");
    assert!(gz.status.success());
    fs::write(c.object(DIGEST_DAY, DIGEST), gz.stdout).unwrap();
    let r = c.run();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.verdict(DIGEST_DAY, DIGEST),
        "INVALID: invalid format: decoding its JSON would take more than 536870912 bytes of memory; not loaded"
    );
}

#[test]
fn a_digest_folder_linked_outside_stops_validate_and_audit_naming_the_link() {
    let c = Copy::new("link-digests");
    let (folder, outside) = c.link_digest_folder_outside("digests");
    let expected = format!(
        "listing refused: a link leads outside the mirror root: {} -> {}",
        folder.display(),
        outside.canonicalize().unwrap().display()
    );
    let validate = c.run();
    assert_eq!(validate.code, 255, "{}", validate.stdout);
    assert!(validate.stderr.contains(&expected), "{}", validate.stderr);
    // Without --s3-bucket the tool finds the folder itself, and says the same.
    let mut args = c.args();
    let at = args.iter().position(|a| a == "--s3-bucket").unwrap();
    args.drain(at..at + 2);
    let found = run_bounded(Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest")).args(&args));
    assert_eq!(found.code, 255, "{}", found.stdout);
    assert!(found.stderr.contains(&expected), "{}", found.stderr);
    let audit = run_bounded(Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest")).args(c.audit_args()));
    assert_eq!(audit.code, 255, "{}", audit.stdout);
    assert!(audit.stderr.contains(&expected), "{}", audit.stderr);
}

/// `audit` never stops because of one object: an unusable sidecar (a FIFO, one too large)
/// and a log it may not read are findings on those objects, and every other object still
/// gets its verdict. (`validate-logs` keeps the reference's fatal errors: see above.)
#[test]
fn audit_reports_unreadable_objects_and_everything_else() {
    let c = Copy::new("audit-unreadable");
    let fifo = c.object(DIGEST_DAY, &format!("{DIGEST}.metadata.json"));
    fs::remove_file(&fifo).unwrap();
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let other = "111122223333_CloudTrail-Digest_us-east-1_sample-trail_us-east-1_20260301T051742Z.json.gz";
    let big = c.object(DIGEST_DAY, &format!("{other}.metadata.json"));
    fs::write(&big, vec![b' '; 70_000]).unwrap();
    let log = c.object(DAY, LOG);
    fs::set_permissions(&log, fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"));
    cmd.args(c.audit_args())
        .args(["--now", "2026-03-03T00:00:00Z", "--output", "ndjson"]);
    let as_root = fs::metadata("/proc/self").map(|m| m.uid()).ok() == Some(0);
    if as_root {
        cmd.uid(65534).gid(65534);
        // nobody must be able to read the rest of the copy.
        for dir in [&c.dir, &c.dir.join("evidence")] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    let r = run_bounded(&mut cmd);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.stderr, "", "nothing fatal");
    let findings: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let about = |name: &str| {
        findings
            .iter()
            .find(|f| f["key"].as_str().is_some_and(|k| k.ends_with(name)) && f["kind"] != "unreferenced_log")
            .unwrap_or_else(|| panic!("no finding for {name}"))
    };
    for (name, says) in [
        (DIGEST, "not a regular file"),
        (other, "larger than 65536 bytes"),
        (LOG, "Permission denied"),
    ] {
        let f = about(name);
        assert_eq!(f["status"], "invalid", "{f}");
        let reason = f["reason"].as_str().unwrap();
        assert!(
            reason.contains("unreadable: ") && reason.contains(says),
            "{name}: {reason}"
        );
    }
    // Every other object still has its verdict.
    let count = |kind: &str, status: &str| {
        findings
            .iter()
            .filter(|f| f["kind"] == kind && f["status"] == status)
            .count()
    };
    assert_eq!(count("digest", "invalid"), 2, "{}", r.stdout);
    assert_eq!(count("digest", "valid"), 46, "{}", r.stdout);
    let chains: Vec<&serde_json::Value> = findings.iter().filter(|f| f["kind"] == "chain_summary").collect();
    assert_eq!(chains.len(), 2);
    let logs: u64 = chains
        .iter()
        .map(|c| c["logs_valid"].as_u64().unwrap() + c["logs_invalid"].as_u64().unwrap())
        .sum();
    assert!(logs > 0 && count("log", "invalid") >= 1, "{}", r.stdout);
}

/// Names planted in the digest and log folders that a terminal would act on: ANSI
/// sequences that erase the line above, a terminal title, a carriage return, a
/// right-to-left override; beside each, a name that is not UTF-8. Each planted digest
/// parses as one of the trail's (its odd part sits before the stamp), so validate-logs
/// lists it and, newest of all, reports it.
struct Planted {
    copy: Copy,
    /// Digest file names as planted, and as the text output shows them.
    digests: Vec<(String, &'static str)>,
    /// Log file names as planted, and as the text output shows them.
    logs: Vec<(String, &'static str)>,
}

const NEXT_DIGEST_DAY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/02";
const HEAD: &str = "111122223333_CloudTrail-Digest_us-east-1_sample-trail_us-east-1_";

impl Planted {
    fn new(tag: &str) -> Planted {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let copy = Copy::new(tag);
        let digests: Vec<(String, &'static str)> = [
            (
                "a\u{1b}[1A\u{1b}[2K_20260302T004742Z",
                r"a\x1b[1A\x1b[2K_20260302T004742Z",
            ),
            (
                "b\u{1b}]0;title\u{7}_20260302T010742Z",
                r"b\x1b]0;title\x07_20260302T010742Z",
            ),
            ("c\rfake_20260302T013742Z", r"c\x0dfake_20260302T013742Z"),
            (
                "d\u{202e}zg.nosj_20260302T015742Z",
                r"d\u{202e}zg.nosj_20260302T015742Z",
            ),
        ]
        .into_iter()
        .map(|(odd, shown)| (format!("{HEAD}{odd}.json.gz"), shown))
        .collect();
        for (name, _) in &digests {
            fs::write(copy.object(NEXT_DIGEST_DAY, name), b"not a digest").unwrap();
        }
        let logs: Vec<(String, &'static str)> = [
            (
                "0340Z_\u{1b}[2K\u{1b}[1AAAAAAAAAAA",
                r"0340Z_\x1b[2K\x1b[1AAAAAAAAAAA",
            ),
            ("0350Z_BBBBBBBBBBBBBBB\r", r"0350Z_BBBBBBBBBBBBBBB\x0d"),
            ("0410Z_\u{202e}CCCCCCCCCCCCCCC", r"0410Z_\u{202e}CCCCCCCCCCCCCCC"),
        ]
        .into_iter()
        .map(|(odd, shown)| {
            (
                format!("111122223333_CloudTrail_us-east-1_20260301T{odd}.json.gz"),
                shown,
            )
        })
        .collect();
        for (name, _) in &logs {
            fs::write(copy.object(DAY, name), b"not a log").unwrap();
        }
        for (folder, name) in [
            (
                NEXT_DIGEST_DAY,
                [
                    format!("{HEAD}b\u{1b}[2K").as_bytes(),
                    b"\xff_20260302T011742Z.json.gz",
                ]
                .concat(),
            ),
            (
                DAY,
                b"111122223333_CloudTrail_us-east-1_20260301T0340Z_\x1b[2K\xfeDDDDDDDDDDDD.json.gz".to_vec(),
            ),
        ] {
            let path = copy
                .mirror()
                .join(BUCKET)
                .join(folder)
                .join(OsStr::from_bytes(&name));
            if fs::write(path, b"not UTF-8").is_err() {
                eprintln!("this filesystem refuses names that are not UTF-8; planting UTF-8 names only");
            }
        }
        Planted { copy, digests, logs }
    }

    fn run(&self, args: Vec<String>, extra: &[&str]) -> Run {
        run_bounded(
            Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
                .args(args)
                .args(extra),
        )
    }
}

const NOTE: &str = "Note: names above hold control, format or bidirectional characters; they are shown \
                    escaped, as \\xHH (below 0x80) or \\u{HHHH}. `audit --output json` gives them exactly.";

/// Nothing a terminal acts on, or that hides or reorders text, is written raw.
fn assert_no_raw_controls(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| c != '\n' && c != '\t' && cloudtrail_digest::is_unprintable(c))
        .collect();
    assert!(raw.is_empty(), "{what} holds {raw:?}:\n{text}");
    for c in ['\u{1b}', '\r', '\u{7}', '\u{202e}', '\u{fffd}'] {
        assert!(!text.contains(c), "{what} holds {c:?}:\n{text}");
    }
}

#[test]
fn validate_logs_shows_planted_names_escaped_and_every_verdict() {
    let p = Planted::new("escape-validate");
    for verbose in [false, true] {
        let mut extra = vec![];
        if verbose {
            extra.push("--verbose");
        }
        let r = p.run(p.copy.args(), &extra);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_no_raw_controls("stdout", &r.stdout);
        assert_no_raw_controls("stderr", &r.stderr);
        // Newest first, each planted digest is reported, escaped, on its own line.
        let invalid: Vec<&str> = r.stderr.lines().filter(|l| l.contains("\tINVALID: ")).collect();
        let expected: Vec<String> = p
            .digests
            .iter()
            .rev()
            .map(|(_, shown)| {
                format!("Digest file\ts3://{BUCKET}/{NEXT_DIGEST_DAY}/{HEAD}{shown}.json.gz\tINVALID: invalid format")
            })
            .collect();
        assert_eq!(invalid, expected, "{}", r.stderr);
        assert!(
            r.stdout.ends_with(
                "Results found for 2026-03-01T00:17:42Z to 2026-03-02T00:17:42Z:\n\n\
                 24/28 digest files valid, 4/28 digest files INVALID\n56/56 log files valid\n"
            ),
            "{}",
            r.stdout
        );
        // Said once, after the report.
        assert!(r.stderr.ends_with(&format!("\n\n{NOTE}\n")), "{}", r.stderr);
        assert_eq!(r.stderr.matches("Note: ").count(), 1, "{}", r.stderr);
        if verbose {
            let valid = r.stdout.lines().filter(|l| l.ends_with("\tvalid")).count();
            assert_eq!(valid, 24 + 56, "{}", r.stdout);
        }
    }
}

#[test]
fn audit_text_shows_planted_names_escaped_and_json_keeps_them_exact() {
    let p = Planted::new("escape-audit");
    let now = ["--now", "2026-03-03T00:00:00Z"];
    let text = p.run(p.copy.audit_args(), &now);
    assert_eq!(text.code, 1, "{}\n{}", text.stdout, text.stderr);
    assert_eq!(text.stderr, "");
    assert_no_raw_controls("audit text", &text.stdout);
    let ndjson = p.run(p.copy.audit_args(), &[&now[..], &["--output", "ndjson"]].concat());
    assert_eq!(ndjson.code, 1, "{}", ndjson.stderr);
    let findings: Vec<serde_json::Value> = ndjson
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let keys = |kind: &str, status: &str| -> Vec<String> {
        let mut keys: Vec<String> = findings
            .iter()
            .filter(|f| f["kind"] == kind && f["status"] == status)
            .map(|f| f["key"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
            .collect();
        keys.sort();
        keys
    };
    // JSON keeps the names exact; the names that are not UTF-8 are passed over.
    let planted = |names: &[(String, &str)]| {
        let mut v: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(keys("digest", "invalid"), planted(&p.digests));
    assert_eq!(keys("unreferenced_log", "invalid"), planted(&p.logs));
    assert_eq!(keys("digest", "valid").len(), 48, "{}", ndjson.stdout);
    let json = p.run(p.copy.audit_args(), &[&now[..], &["--output", "json"]].concat());
    assert_eq!(json.code, 1, "{}", json.stderr);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let as_ndjson: Vec<&serde_json::Value> =
        findings.iter().filter(|f| f["kind"] != "chain_summary").collect();
    assert_eq!(
        doc["findings"].as_array().unwrap().iter().collect::<Vec<_>>(),
        as_ndjson
    );

    // Every finding that is not valid has its line, names and reason escaped.
    let lines: Vec<&str> = text.stdout.lines().collect();
    let assert_line = |line: &str| assert!(lines.contains(&line), "no line {line:?} in\n{}", text.stdout);
    let shown: Vec<&serde_json::Value> = as_ndjson.into_iter().filter(|f| f["status"] != "valid").collect();
    let finding_lines = lines
        .iter()
        .filter(|l| {
            ["INVALID ", "WARNING ", "MISSING ", "INFO "]
                .iter()
                .any(|s| l.starts_with(s))
        })
        .count();
    assert_eq!(finding_lines, shown.len(), "{}", text.stdout);
    for f in &shown {
        let what = match (f["bucket"].as_str(), f["key"].as_str()) {
            (Some(b), Some(k)) => format!(
                "s3://{}/{}",
                cloudtrail_digest::escape_name(b),
                cloudtrail_digest::escape_name(k)
            ),
            _ => cloudtrail_digest::escape_name(f["chain"].as_str().unwrap()).into_owned(),
        };
        let line = format!(
            "{:<8} {:<16} {what}\t{}",
            f["status"].as_str().unwrap().to_uppercase(),
            f["kind"].as_str().unwrap(),
            cloudtrail_digest::escape_name(f["reason"].as_str().unwrap())
        );
        assert_line(&line);
    }
    for (_, escaped) in &p.digests {
        assert_line(&format!(
            "INVALID  digest           s3://{BUCKET}/{NEXT_DIGEST_DAY}/{HEAD}{escaped}.json.gz\tinvalid format"
        ));
    }
    for (name, escaped) in &p.logs {
        let start = format!(
            "INVALID  unreferenced_log s3://{BUCKET}/{DAY}/111122223333_CloudTrail_us-east-1_20260301T{escaped}.json.gz\t"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&start) && l.ends_with(": injected or forged")),
            "no line for {name:?} in\n{}",
            text.stdout
        );
    }
    // Chains named after a planted digest are escaped in the table too.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(r"111122223333/us-east-1/sample-trail_us-east-1@d\u{202e}zg.nosj ")),
        "{}",
        text.stdout
    );
    // Said once, above the verdict.
    let at = lines.iter().position(|l| *l == NOTE).expect("the note");
    assert!(
        lines[at + 1].starts_with("Verdict: INTEGRITY FAILURE"),
        "{}",
        text.stdout
    );
    assert_eq!(text.stdout.matches("Note: ").count(), 1);
}

/// A fatal error names the object or file escaped, keeps its own lines, and says so.
#[test]
fn a_fatal_error_shows_a_planted_link_target_escaped() {
    let c = Copy::new("escape-fatal");
    let (folder, _) = c.link_digest_folder_outside("\u{1b}[1A\u{1b}[2K\rdigests\u{202e}");
    // The escaped name, as the message shows it, within the real path of the folder.
    let target = format!(
        "{}/{}",
        c.outside().canonicalize().unwrap().display(),
        r"\x1b[1A\x1b[2K\x0ddigests\u{202e}"
    );
    let expected = format!(
        "listing refused: a link leads outside the mirror root: {} -> {target}",
        folder.display()
    );
    let validate = c.run();
    assert_eq!(validate.code, 255, "{}", validate.stdout);
    assert_no_raw_controls("stderr", &validate.stderr);
    assert!(validate.stderr.contains(&expected), "{}", validate.stderr);
    assert!(
        validate.stderr.ends_with(&format!("\n\n{NOTE}\n")),
        "{}",
        validate.stderr
    );
    let audit = run_bounded(Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest")).args(c.audit_args()));
    assert_eq!(audit.code, 255, "{}", audit.stdout);
    assert_no_raw_controls("stderr", &audit.stderr);
    assert!(audit.stderr.contains(&expected), "{}", audit.stderr);
    assert!(
        audit.stderr.ends_with(&format!("\n\n{NOTE}\n")),
        "{}",
        audit.stderr
    );
}
