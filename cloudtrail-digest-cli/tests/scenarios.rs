//! Runs the built binary over every scenario case under `testdata/scenarios/` and
//! compares stdout, stderr and the exit code with the golden files, byte for byte.
//! The goldens come from the real AWS CLI (see testdata/FORMAT.md).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn scenarios_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/scenarios")
}

struct Outcome {
    stdout: String,
    stderr: String,
    exit: String,
}

fn run_case(dir: &Path, args: &[String], extra: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .arg("validate-logs")
        .args(args)
        .arg("--local-dir")
        .arg(dir.join("mirror"))
        .arg("--public-keys")
        .arg(dir.join("public-keys.json"))
        .args(extra)
        .output()
        .expect("run cloudtrail-digest");
    Outcome {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        exit: format!("{}\n", out.status.code().unwrap_or(-1)),
    }
}

/// A readable account of where two texts part.
fn diff(name: &str, want: &str, got: &str) -> Option<String> {
    if want == got {
        return None;
    }
    let (w, g): (Vec<&str>, Vec<&str>) = (
        want.split_inclusive('\n').collect(),
        got.split_inclusive('\n').collect(),
    );
    let first = w
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(w.len().min(g.len()));
    let show = |lines: &[&str]| {
        lines[first.min(lines.len())..(first + 4).min(lines.len())]
            .iter()
            .map(|l| format!("    {l:?}\n"))
            .collect::<String>()
    };
    Some(format!(
        "  {name} differs from line {}:\n  expected:\n{}  actual:\n{}",
        first + 1,
        show(&w),
        show(&g)
    ))
}

fn golden(dir: &Path, case: &str, ext: &str) -> String {
    let p = dir.join("expected").join(format!("{case}.{ext}"));
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("golden file {} missing: {e}", p.display()))
}

/// Where a run's stdout, stderr and exit code differ from the case's golden files.
fn against_golden(dir: &Path, name: &str, got: &Outcome) -> Vec<String> {
    [
        diff("stdout", &golden(dir, name, "stdout"), &got.stdout),
        diff("stderr", &golden(dir, name, "stderr"), &got.stderr),
        diff("exit code", &golden(dir, name, "exit"), &got.exit),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn cases() -> Vec<(PathBuf, String, Vec<String>)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(scenarios_root())
        .expect("testdata/scenarios exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.json").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let spec: Value = serde_json::from_slice(&fs::read(dir.join("scenario.json")).unwrap()).unwrap();
        for case in spec["cases"].as_array().expect("cases") {
            let name = case["name"].as_str().unwrap().to_string();
            let args = case["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            out.push((dir.clone(), name, args));
        }
    }
    out
}

#[test]
fn every_scenario_matches_its_golden_output() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "expected the full scenario set, found {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for (dir, name, args) in &cases {
        // The same bytes whatever the parallelism.
        for jobs in ["1", "4"] {
            let got = run_case(dir, args, &["--jobs", jobs]);
            let report = against_golden(dir, name, &got);
            if !report.is_empty() {
                failures.push(format!(
                    "{}/{name} (--jobs {jobs}):\n{}",
                    dir.file_name().unwrap().to_string_lossy(),
                    report.join("")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs differ from their goldens:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
}

/// With `--ledger`, every case prints its golden output twice over: on the run that
/// writes the ledger and on the run that reuses it (which reads only what the ledger
/// cannot vouch for). The ledger never shows in the output.
#[test]
fn every_scenario_matches_its_golden_output_with_a_ledger() {
    let scratch = std::env::temp_dir().join(format!("ctd-scenario-ledgers-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).unwrap();
    let mut failures = Vec::new();
    let cases = cases();
    for (n, (dir, name, args)) in cases.iter().enumerate() {
        let ledger = scratch.join(format!("{n}.ledger"));
        for run in ["writing", "reusing"] {
            let got = run_case(dir, args, &["--ledger", ledger.to_str().unwrap()]);
            let report = against_golden(dir, name, &got);
            if !report.is_empty() {
                failures.push(format!(
                    "{}/{name} ({run} the ledger):\n{}",
                    dir.file_name().unwrap().to_string_lossy(),
                    report.join("")
                ));
            }
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    assert!(
        failures.is_empty(),
        "{} of {} runs differ from their goldens:\n{}",
        failures.len(),
        cases.len() * 2,
        failures.join("\n")
    );
}
