//! `--ledger` on a local copy: the report of a run that reuses a ledger is the report
//! of one that reads everything, every change since the ledger is reported and only the
//! changed objects are read, a ledger that is damaged or was made for another scope is
//! refused by name, and a run that is stopped, or whose report cannot be written, leaves
//! the previous ledger as it was.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample")
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ctd-ledger-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn audit_args(mirror: &Path) -> Vec<String> {
    [
        "audit",
        "--local-dir",
        mirror.to_str().unwrap(),
        "--public-keys",
        sample().join("public-keys.json").to_str().unwrap(),
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-02T01:00:00Z",
        "--now",
        "2026-03-03T00:00:00Z",
        "--output",
        "ndjson",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run(args: &[String], extra: &[&str]) -> Output {
    bin().args(args).args(extra).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The findings without the ledger's own fields, as one without a ledger prints them.
fn without_ledger_fields(found: &[Value]) -> Vec<Value> {
    found
        .iter()
        .filter(|f| f["kind"] != "changed" && f["kind"] != "removed")
        .map(|f| {
            let mut f = f.clone();
            if f["kind"] == "chain_summary" {
                let o = f.as_object_mut().unwrap();
                o.remove("objects_read");
                o.remove("objects_reused");
                let reason: Vec<&str> = o["reason"]
                    .as_str()
                    .unwrap()
                    .split(", ")
                    .filter(|part| !part.ends_with("objects read") && !part.ends_with("from the ledger"))
                    .collect();
                o["reason"] = Value::from(reason.join(", "));
            }
            f
        })
        .collect()
}

fn totals(found: &[Value]) -> (u64, u64) {
    found
        .iter()
        .filter(|f| f["kind"] == "chain_summary")
        .fold((0, 0), |(r, u), f| {
            (
                r + f["objects_read"].as_u64().unwrap(),
                u + f["objects_reused"].as_u64().unwrap(),
            )
        })
}

fn sorted_names(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

/// A copy of the sample trail in a scratch folder (`tag`), the audit's arguments for it
/// and the ledger's path there.
fn sample_copy(tag: &str) -> (PathBuf, PathBuf, Vec<String>, PathBuf) {
    let dir = scratch(tag);
    let mirror = dir.join("mirror");
    copy_tree(&sample().join("mirror"), &mirror);
    let args = audit_args(&mirror);
    let ledger = dir.join("l");
    (dir, mirror, args, ledger)
}

/// Flips one bit in the middle of the `n`th log (in name order) of eu-west-1's first
/// day, keeping its size; its name.
fn flip_a_bit_of_log(mirror: &Path, n: usize) -> String {
    let logs = mirror.join("ctd-sample-bucket/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/01");
    let name = sorted_names(&logs, ".json.gz")[n].clone();
    let mut bytes = std::fs::read(logs.join(&name)).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(logs.join(&name), &bytes).unwrap();
    name
}

#[test]
fn a_re_audit_reads_only_what_changed_and_reports_every_change() {
    let (dir, mirror, args, ledger) = sample_copy("changes");
    let ledger_arg = ["--ledger", ledger.to_str().unwrap()];

    let plain = run(&args, &[]);
    let first = run(&args, &ledger_arg);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stderr),
        format!(
            "cloudtrail-digest audit: ledger {} does not exist yet: every object is read, and the ledger is written there\n",
            ledger.display()
        )
    );
    let found = lines(&first);
    assert_eq!(without_ledger_fields(&found), lines(&plain));
    let (read, reused) = totals(&found);
    assert_eq!(reused, 0);
    assert_eq!(read, 48 + 101, "every digest and log of the sample");

    let second = run(&args, &ledger_arg);
    assert_eq!(
        (second.status.code(), text(&second.stderr)),
        (Some(0), String::new())
    );
    let found = lines(&second);
    assert_eq!(without_ledger_fields(&found), lines(&plain));
    assert_eq!(totals(&found), (0, 149));

    // The changes the checks make: a log rewritten in place with the same size, a log
    // deleted, a forged log added, a digest replaced by another's bytes.
    let bucket = mirror.join("ctd-sample-bucket");
    let logs = bucket.join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01");
    let names = sorted_names(&logs, ".json.gz");
    let mut bytes = std::fs::read(logs.join(&names[3])).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(logs.join(&names[3]), &bytes).unwrap();
    std::fs::remove_file(logs.join(&names[7])).unwrap();
    let forged = names[9].replace(".json.gz", "0.json.gz");
    std::fs::copy(logs.join(&names[9]), logs.join(&forged)).unwrap();
    let digests = bucket.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01");
    let digest_names = sorted_names(&digests, ".json.gz");
    std::fs::copy(digests.join(&digest_names[10]), digests.join(&digest_names[11])).unwrap();
    let key = |folder: &Path, name: &str| {
        folder
            .join(name)
            .strip_prefix(&bucket)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };

    let third = run(&args, &ledger_arg);
    assert_eq!(third.status.code(), Some(1), "{}", text(&third.stderr));
    let found = lines(&third);
    let of_kind = |kind: &str| -> Vec<&Value> { found.iter().filter(|f| f["kind"] == kind).collect() };
    let changed: Vec<(String, String)> = of_kind("changed")
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        changed,
        [
            (key(&logs, &names[3]), "log".to_string()),
            (key(&digests, &digest_names[11]), "digest".to_string()),
        ]
    );
    for f in of_kind("changed") {
        assert_eq!(f["status"], "warning");
        assert_eq!(f["bucket"], "ctd-sample-bucket");
        assert_eq!(f["previous"]["kind"], "content");
        assert_ne!(f["previous"]["blake3"], f["current"]["blake3"]);
    }
    let rewritten = of_kind("changed")[0];
    assert_eq!(
        rewritten["previous"]["size"], rewritten["current"]["size"],
        "same size, other bytes"
    );
    let removed = of_kind("removed");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["key"], key(&logs, &names[7]));
    assert_eq!(removed[0]["status"], "missing");
    assert!(of_kind("unreferenced_log")
        .iter()
        .any(|f| f["key"] == key(&logs, &forged)));
    // What the changes come to is what a run without a ledger finds.
    let plain = run(&args, &[]);
    assert_eq!(without_ledger_fields(&found), lines(&plain));
    // Read again: the rewritten log, the replaced digest, the deleted log (now missing).
    let (read, reused) = totals(&found);
    assert_eq!(read, 3);
    let unlisted = lines(&second)
        .iter()
        .filter(|f| f["kind"] == "log" && f["digest_key"].as_str().unwrap().ends_with(&digest_names[11]))
        .count() as u64;
    assert_eq!(read + reused + unlisted, 149);

    // Reported once: the next run takes what it found as the ledger's.
    let fourth = run(&args, &ledger_arg);
    let found = lines(&fourth);
    assert!(found
        .iter()
        .all(|f| f["kind"] != "changed" && f["kind"] != "removed"));
    assert_eq!(without_ledger_fields(&found), lines(&plain));
    assert_eq!(totals(&found).0, 1, "only the missing log is looked for again");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A re-audit that finds nothing new, a day later, leaves the ledger file untouched (the
/// same file, not a copy renamed over it), its head still naming the first run's time;
/// after a change the ledger is made anew, under the time of the run that made it.
#[test]
fn a_re_audit_that_finds_nothing_new_leaves_the_ledger_untouched() {
    use std::os::unix::fs::MetadataExt;
    let (dir, mirror, mut args, ledger) = sample_copy("untouched");
    let ledger_arg = ["--ledger", ledger.to_str().unwrap()];
    let written_at = |bytes: &[u8]| {
        let head: Value = serde_json::from_slice(bytes.split(|b| *b == b'\n').next().unwrap()).unwrap();
        head["written_at"].as_str().unwrap().to_string()
    };
    let first = run(&args, &ledger_arg);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let bytes = std::fs::read(&ledger).unwrap();
    let inode = std::fs::metadata(&ledger).unwrap().ino();
    assert!(written_at(&bytes).starts_with("2026-03-03T00:00:00"));

    let now = args.iter().position(|a| a == "--now").unwrap() + 1;
    args[now] = "2026-03-04T00:00:00Z".to_string();
    let again = run(&args, &ledger_arg);
    assert_eq!(
        (again.status.code(), text(&again.stderr)),
        (Some(0), String::new())
    );
    assert_eq!(totals(&lines(&again)), (0, 149));
    assert_eq!(
        std::fs::metadata(&ledger).unwrap().ino(),
        inode,
        "not written again"
    );
    assert_eq!(std::fs::read(&ledger).unwrap(), bytes);
    assert_eq!(sorted_names(&dir, ""), ["l", "mirror"], "nothing left beside it");

    flip_a_bit_of_log(&mirror, 2);
    let changed = run(&args, &ledger_arg);
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed.stderr));
    let after = std::fs::read(&ledger).unwrap();
    assert_ne!(std::fs::metadata(&ledger).unwrap().ino(), inode);
    assert!(written_at(&after).starts_with("2026-03-04T00:00:00"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn damaged_and_foreign_ledgers_are_refused_by_name() {
    let dir = scratch("refused");
    let args = audit_args(&sample().join("mirror"));
    let ledger = dir.join("l");
    let ledger_arg = ["--ledger", ledger.to_str().unwrap()];
    assert_eq!(run(&args, &ledger_arg).status.code(), Some(0));
    let good = std::fs::read(&ledger).unwrap();
    let refused = |extra_args: &[String], what: &str| {
        let out = run(extra_args, &ledger_arg);
        assert_eq!(out.status.code(), Some(255), "{what}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{what}: nothing is reported");
        text(&out.stderr)
    };

    std::fs::write(&ledger, &good[..good.len() - 40]).unwrap();
    let said = refused(&args, "cut short");
    assert!(
        said.starts_with(&format!(
            "cloudtrail-digest audit: --ledger {}: ",
            ledger.display()
        )),
        "{said}"
    );
    assert!(
        said.contains("no end line") || said.contains("does not parse"),
        "{said}"
    );

    let edited = String::from_utf8(good.clone())
        .unwrap()
        .replacen("\"valid\"", "\"invalid\"", 1);
    std::fs::write(&ledger, edited).unwrap();
    assert!(refused(&args, "edited").contains("checksum does not match its content"));

    std::fs::write(&ledger, &good).unwrap();
    let mut narrower = args.clone();
    narrower.extend(["--account-id".to_string(), "111122223333".to_string()]);
    let said = refused(&narrower, "other scope");
    assert!(
        said.contains("made for another scope: accounts  (this run: 111122223333)"),
        "{said}"
    );

    let validate: Vec<String> = [
        "validate-logs",
        "--local-dir",
        sample().join("mirror").to_str().unwrap(),
        "--public-keys",
        sample().join("public-keys.json").to_str().unwrap(),
        "--trail-arn",
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail",
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-02T00:00:00Z",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let said = refused(&validate, "another command");
    assert!(said.contains("made for another scope"), "{said}");
    assert!(said.contains("command audit (this run: validate-logs)"), "{said}");
    assert_eq!(
        std::fs::read(&ledger).unwrap(),
        good,
        "a refused ledger is left as it was"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run killed at any point leaves either no ledger (a first run) or the previous one,
/// whole: never a ledger cut short. The run after it reports what a complete run would.
#[test]
fn a_stopped_run_leaves_the_previous_ledger_whole() {
    let (dir, mirror, args, ledger) = sample_copy("stopped");
    let ledger_arg = ["--ledger", ledger.to_str().unwrap()];
    let plain = lines(&run(&args, &[]));
    let kill_after = |delay: Duration| {
        let mut child = bin()
            .args(&args)
            .args(ledger_arg)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
    };
    // A first run stopped: no ledger, or a whole one.
    for ms in [0, 5, 20, 60] {
        let _ = std::fs::remove_file(&ledger);
        kill_after(Duration::from_millis(ms));
        if ledger.exists() {
            let out = run(&args, &ledger_arg);
            assert_eq!(out.status.code(), Some(0), "after {ms} ms: {}", text(&out.stderr));
        }
    }
    // What an interrupted write leaves beside the ledger is not read, and is replaced.
    let _ = std::fs::remove_file(&ledger);
    std::fs::write(
        dir.join(".l.partial"),
        b"{\"ledger\":\"cloudtrail-digest ledger\"",
    )
    .unwrap();
    let out = run(&args, &ledger_arg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(without_ledger_fields(&lines(&out)), plain);
    assert!(!dir.join(".l.partial").exists());
    let whole = std::fs::read(&ledger).unwrap();

    // A later run stopped: the ledger is the previous one or a new whole one, and the
    // run after it still reports the change unless the stopped run finished first.
    flip_a_bit_of_log(&mirror, 2);
    for ms in [0, 5, 20, 60] {
        std::fs::write(&ledger, &whole).unwrap();
        kill_after(Duration::from_millis(ms));
        let left = std::fs::read(&ledger).unwrap();
        let out = run(&args, &ledger_arg);
        assert_eq!(out.status.code(), Some(1), "after {ms} ms: {}", text(&out.stderr));
        let changed = lines(&out).iter().filter(|f| f["kind"] == "changed").count();
        if left == whole {
            assert_eq!(changed, 1, "after {ms} ms the change is still reported");
        } else {
            assert_eq!(changed, 0, "after {ms} ms the stopped run had finished");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run whose report cannot be written (standard output is a full device) leaves the
/// ledger as it was, a first run no ledger at all, and nothing beside it, although the
/// next ledger was being written while the run judged: the run after it reports the same
/// change again.
#[test]
fn a_report_that_cannot_be_written_leaves_the_ledger_as_it_was() {
    let (dir, mirror, args, ledger) = sample_copy("unwritten");
    let ledger_arg = ["--ledger", ledger.to_str().unwrap()];
    let beside = dir.join(".l.partial");
    let to_full_device = || {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        bin().args(&args).args(ledger_arg).stdout(full).output().unwrap()
    };

    let out = to_full_device();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!ledger.exists(), "no report, no ledger");
    assert!(!beside.exists());

    let out = run(&args, &ledger_arg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let whole = std::fs::read(&ledger).unwrap();
    let name = flip_a_bit_of_log(&mirror, 1);

    let out = to_full_device();
    assert_ne!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(&ledger).unwrap(),
        whole,
        "the previous ledger, as it was"
    );
    assert!(!beside.exists());

    let out = run(&args, &ledger_arg);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let changed: Vec<Value> = lines(&out)
        .into_iter()
        .filter(|f| f["kind"] == "changed")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:?}");
    assert!(changed[0]["key"].as_str().unwrap().ends_with(&name));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An object whose identity changed while it stays valid (here a log given metadata it
/// did not have) is a warning of its own: exit 3 with its own verdict, shown in the text
/// report with what each chain read and reused.
#[test]
fn a_change_that_leaves_everything_valid_is_its_own_warning() {
    let (dir, mirror, mut args, ledger) = sample_copy("valid-change");
    let at = args.iter().position(|a| a == "--output").unwrap();
    args.drain(at..at + 2);
    let ledger_arg = ["--ledger", ledger.to_str().unwrap()];
    assert_eq!(run(&args, &ledger_arg).status.code(), Some(0));
    let logs = mirror.join("ctd-sample-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01");
    let name = &sorted_names(&logs, ".json.gz")[0];
    std::fs::write(
        logs.join(format!("{name}.metadata.json")),
        br#"{"note": "added later"}"#,
    )
    .unwrap();

    let out = run(&args, &ledger_arg);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{report}");
    let line = report
        .lines()
        .find(|l| l.starts_with("WARNING  changed"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(line.contains(&format!("/2026/03/01/{name}\tthe log changed since the ledger's verification: it was 1677 bytes with BLAKE3 ")), "{line}");
    assert!(line.contains(" and metadata BLAKE3 "), "{line}");
    assert!(report.contains("READ  REUSED"), "{report}");
    assert!(
        report.ends_with("Verdict: CHANGED: objects are not those the ledger's run verified (each is reported); everything read is valid (exit code 3)\n"),
        "{report}"
    );
    // Without the ledger, the same run is valid.
    assert_eq!(run(&args, &[]).status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_ledger_is_not_for_a_unit_or_a_plan() {
    let out = run(
        &[
            "audit".to_string(),
            "--unit".to_string(),
            "{}".to_string(),
            "--out".to_string(),
            "x".to_string(),
            "--ledger".to_string(),
            "l".to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--ledger"), "{}", text(&out.stderr));
}
