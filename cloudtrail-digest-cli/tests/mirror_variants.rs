//! The same scenario trees, copied the ways investigators receive them: signatures in
//! extended attributes instead of sidecars, no signature metadata at all, and runs that
//! leave the bucket for the tool to find.

mod tree;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tree::copy_tree;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/scenarios")
        .join(name)
}

fn case_args(scenario_dir: &Path, case: &str) -> Vec<String> {
    let spec: Value = serde_json::from_slice(&fs::read(scenario_dir.join("scenario.json")).unwrap()).unwrap();
    let case = spec["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == case)
        .unwrap()
        .clone();
    case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn without(args: &[String], option: &str) -> Vec<String> {
    let at = args.iter().position(|a| a == option).expect("option present");
    [&args[..at], &args[at + 2..]].concat()
}

fn run(mirror: &Path, keys: &Path, args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .arg("validate-logs")
        .args(args)
        .arg("--local-dir")
        .arg(mirror)
        .arg("--public-keys")
        .arg(keys)
        .output()
        .unwrap()
}

fn golden(dir: &Path, case: &str, ext: &str) -> String {
    fs::read_to_string(dir.join("expected").join(format!("{case}.{ext}"))).unwrap()
}

fn assert_golden(out: &Output, dir: &Path, case: &str) {
    assert_eq!(String::from_utf8_lossy(&out.stdout), golden(dir, case, "stdout"));
    assert_eq!(String::from_utf8_lossy(&out.stderr), golden(dir, case, "stderr"));
    assert_eq!(
        format!("{}\n", out.status.code().unwrap()),
        golden(dir, case, "exit")
    );
}

fn sidecars(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            sidecars(&p, out);
        } else if p.to_string_lossy().ends_with(".metadata.json") {
            out.push(p);
        }
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ctd-variants-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    d
}

#[test]
fn signatures_in_rclone_xattrs_validate_like_sidecars() {
    let dir = scenario("clean-chain");
    let mirror = scratch("xattr");
    copy_tree(&dir.join("mirror"), &mirror);
    let mut files = Vec::new();
    sidecars(&mirror, &mut files);
    assert!(!files.is_empty());
    for sidecar in files {
        let object = PathBuf::from(sidecar.to_string_lossy().trim_end_matches(".metadata.json"));
        let meta: Value = serde_json::from_slice(&fs::read(&sidecar).unwrap()).unwrap();
        for (name, value) in meta.as_object().unwrap() {
            if xattr::set(
                &object,
                format!("user.{name}"),
                value.as_str().unwrap().as_bytes(),
            )
            .is_err()
            {
                eprintln!("this filesystem has no user xattrs; nothing to test here");
                return;
            }
        }
        fs::remove_file(&sidecar).unwrap();
    }
    for case in ["default", "verbose"] {
        let out = run(&mirror, &dir.join("public-keys.json"), &case_args(&dir, case));
        assert_golden(&out, &dir, case);
    }
    fs::remove_dir_all(&mirror).unwrap();
}

#[test]
fn a_copy_without_metadata_fails_only_the_newest_digest_and_says_how_to_fix_it() {
    let dir = scenario("clean-chain");
    let mirror = scratch("nometa");
    copy_tree(&dir.join("mirror"), &mirror);
    let mut files = Vec::new();
    sidecars(&mirror, &mut files);
    for f in &files {
        fs::remove_file(f).unwrap();
    }
    let out = run(
        &mirror,
        &dir.join("public-keys.json"),
        &case_args(&dir, "default"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.ends_with("\n6/7 digest files valid, 1/7 digest files INVALID\n8/8 log files valid\n"),
        "{stdout}"
    );
    let first = stderr.lines().next().unwrap();
    assert!(
        first.ends_with("_20260301T071742Z.json.gz\tINVALID: signature verification failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("No signature was found for any digest under"),
        "{stderr}"
    );
    assert!(
        stderr.contains("aws s3api head-object --bucket BUCKET --key KEY --query Metadata"),
        "{stderr}"
    );
    fs::remove_dir_all(&mirror).unwrap();
}

#[test]
fn the_bucket_and_organization_folder_are_found_in_the_mirror() {
    for (name, case) in [
        ("clean-chain", "default"),
        ("prefix", "verbose"),
        ("organization-trail", "default"),
    ] {
        let dir = scenario(name);
        let mut args = without(&case_args(&dir, case), "--s3-bucket");
        if let Some(at) = args.iter().position(|a| a == "--s3-prefix") {
            args.drain(at..at + 2);
        }
        let out = run(&dir.join("mirror"), &dir.join("public-keys.json"), &args);
        assert_golden(&out, &dir, case);
    }
}

#[test]
fn several_candidate_places_are_listed_not_guessed() {
    let dir = scenario("moved-digest");
    let args = without(&case_args(&dir, "default"), "--s3-bucket");
    let out = run(&dir.join("mirror"), &dir.join("public-keys.json"), &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(255));
    assert!(stderr.contains("more than one place"), "{stderr}");
    assert!(
        stderr.contains("--s3-bucket ctd-moved-digest-bucket")
            && stderr.contains("--s3-bucket ctd-moved-digest-replica"),
        "{stderr}"
    );
}
