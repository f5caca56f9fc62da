//! `verify-query-results` on the signed exports of `testdata/query-results/` (made by
//! `testgen query-results` with the test key): valid, a tampered result file, a missing
//! one, a signature over something else, a key that is not among the known ones. Each
//! is verified from the folder and from S3 (moto on loopback, see tests/support), and
//! must print its golden (`expected-local.*`, `expected-s3.*`: the AWS CLI v2 command's
//! words and exit codes). Then the argument checks and hostile sign files.

mod support;

use std::path::{Path, PathBuf};

use support::{cli_command, outcome, repo};

const CASES: [&str; 5] = [
    "valid",
    "tampered-result",
    "missing-result",
    "bad-signature",
    "unknown-key",
];

fn case_dir(case: &str) -> PathBuf {
    repo().join("testdata/query-results").join(case)
}

/// Runs the binary from the repository root (the goldens name folders relative to it).
fn run(args: &[&str]) -> (String, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = cli_command(&args, &[])
        .current_dir(repo())
        .output()
        .expect("run cloudtrail-digest");
    outcome(&out)
}

fn golden(case: &str, mode: &str) -> (String, String, String) {
    let read =
        |ext: &str| std::fs::read_to_string(case_dir(case).join(format!("expected-{mode}.{ext}"))).unwrap();
    (read("stdout"), read("stderr"), read("exit"))
}

#[test]
fn every_case_prints_its_golden_from_a_local_folder() {
    for case in CASES {
        let export = format!("testdata/query-results/{case}/export");
        let keys = format!("testdata/query-results/{case}/public-keys.json");
        let got = run(&[
            "verify-query-results",
            "--local-export-path",
            &export,
            "--public-keys",
            &keys,
        ]);
        assert_eq!(got, golden(case, "local"), "{case}");
    }
}

#[cfg(feature = "s3")]
#[test]
fn every_case_prints_its_golden_from_s3() {
    let Some(m) = support::moto() else { return };
    for (i, case) in CASES.iter().enumerate() {
        let bucket = format!("ctd-query-results-{i}");
        // Under a prefix given without its trailing `/`, which the command adds.
        support::upload_dir(
            m,
            &case_dir(case).join("export"),
            &bucket,
            "AWSLogs/111122223333/CloudTrail-Lake/Query/2026/03/02/q1/",
        );
        let keys = case_dir(case).join("public-keys.json");
        let got = run(&[
            "verify-query-results",
            "--s3-bucket",
            &bucket,
            "--s3-prefix",
            "AWSLogs/111122223333/CloudTrail-Lake/Query/2026/03/02/q1",
            "--endpoint-url",
            &m.endpoint(),
            "--region",
            "us-east-1",
            "--public-keys",
            keys.to_str().unwrap(),
        ]);
        assert_eq!(got, golden(case, "s3"), "{case}");
    }
}

#[test]
fn the_source_must_be_one_folder_or_one_bucket() {
    let refused = |message: &str| (String::new(), format!("\n{message}\n"), "252\n".to_string());
    let neither = refused("Require parameter --s3-bucket or --local-export-path.");
    assert_eq!(run(&["verify-query-results"]), neither);
    // An empty value counts as none, and a prefix alone names no bucket.
    assert_eq!(run(&["verify-query-results", "--s3-bucket", ""]), neither);
    assert_eq!(run(&["verify-query-results", "--s3-prefix", "p/"]), neither);
    let both = refused(
        "Parameter --local-export-path can not be specified with parameter --s3-bucket nor --s3-prefix.",
    );
    assert_eq!(
        run(&[
            "verify-query-results",
            "--local-export-path",
            "x",
            "--s3-bucket",
            "b"
        ]),
        both
    );
    assert_eq!(
        run(&[
            "verify-query-results",
            "--local-export-path",
            "x",
            "--s3-prefix",
            "p"
        ]),
        both
    );
}

/// A folder removed when dropped, derefs to the export folder in it.
struct Scratch {
    _dir: tempfile::TempDir,
    export: PathBuf,
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.export
    }
}

/// A scratch folder under the system's temporary folder, `ctd-query-NAME-` and a random tail.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("ctd-query-{name}-"))
        .tempdir()
        .unwrap()
}

/// A copy of the valid case's folder with its sign file replaced by `sign`.
fn hostile(name: &str, sign: &[u8]) -> Scratch {
    let scratch = scratch(name);
    let dir = scratch.path();
    let export = dir.join("export");
    std::fs::create_dir_all(&export).unwrap();
    for f in ["result_1.csv.gz", "result_2.csv.gz"] {
        std::fs::copy(case_dir("valid").join("export").join(f), export.join(f)).unwrap();
    }
    std::fs::write(dir.join("secret.csv.gz"), b"outside the folder").unwrap();
    std::fs::write(export.join("result_sign.json"), sign).unwrap();
    Scratch {
        _dir: scratch,
        export,
    }
}

fn run_on(export: &Path) -> (String, String, String) {
    let keys = case_dir("valid").join("public-keys.json");
    run(&[
        "verify-query-results",
        "--local-export-path",
        export.to_str().unwrap(),
        "--public-keys",
        keys.to_str().unwrap(),
    ])
}

#[test]
fn hostile_sign_files_get_clear_messages_and_nothing_outside_the_folder_is_read() {
    let valid = std::fs::read_to_string(case_dir("valid").join("export/result_sign.json")).unwrap();
    // A listed name that leaves the folder is refused, not read.
    let escaping = valid.replacen("\"result_1.csv.gz\"", "\"../secret.csv.gz\"", 1);
    let (stdout, stderr, exit) = run_on(&hostile("escape", escaping.as_bytes()));
    assert_eq!((stdout.as_str(), exit.as_str()), ("", "255\n"));
    assert!(stderr.contains("../secret.csv.gz: not read"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let no_time = valid.replacen("\"queryCompleteTime\"", "\"completed\"", 1);
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "not-json",
            b"123 oops",
            "InformationCollectionError: Unable to load result_sign.json file, due to ",
        ),
        ("number", b"123", "ValidationError: Invalid sign file provided."),
        (
            "no-files",
            br#"{"files": []}"#,
            "ValidationError: No export file was found in sign file.",
        ),
        // The files are checked first, as by the AWS CLI: a bad one is said before.
        (
            "bad-file-first",
            br#"{"files": [{"fileName": "result_1.csv.gz", "fileHashValue": "00"}]}"#,
            "ValidationError: File result_1.csv.gz has inconsistent hash value",
        ),
        ("no-time", no_time.as_bytes(), "'queryCompleteTime'"),
    ];
    for (name, sign, says) in cases {
        let (stdout, stderr, exit) = run_on(&hostile(name, sign));
        assert_eq!(
            (stdout.as_str(), exit.as_str()),
            ("", "255\n"),
            "{name}: {stderr}"
        );
        assert!(stderr.starts_with(&format!("\n{says}")), "{name}: {stderr}");
    }
    // A file put beside the results after signing: the AWS CLI's success line, then
    // the file named, and exit 1.
    let added = hostile("added", valid.as_bytes());
    std::fs::write(added.join("result_3.csv.gz"), b"added later").unwrap();
    let (stdout, stderr, exit) = run_on(&added);
    assert_eq!(stdout, "Successfully validated sign and query result files\n");
    assert_eq!(
        (stderr.as_str(), exit.as_str()),
        (
            "\nNot listed in result_sign.json, so not signed by CloudTrail: result_3.csv.gz\n",
            "1\n"
        )
    );
    // A name with a terminal escape in it is shown escaped, never sent to the terminal.
    let escape = valid.replacen("\"result_1.csv.gz\"", "\"result_\\u001b[2J.csv.gz\"", 1);
    let (_, stderr, exit) = run_on(&hostile("terminal", escape.as_bytes()));
    assert_eq!(exit, "255\n");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(
        stderr.contains("[Errno 2] No such file or directory") || stderr.contains("not read"),
        "{stderr}"
    );
    // A sign file that is not there, in a folder that is.
    let empty = scratch("empty");
    let (_, stderr, exit) = run_on(empty.path());
    assert_eq!(exit, "255\n");
    assert!(
        stderr.contains("[Errno 2] No such file or directory: '"),
        "{stderr}"
    );
}
