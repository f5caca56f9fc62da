//! `cloudtrail-digest audit` over the audit trees (`testdata/audit/`) and the
//! validate-logs scenario trees: exit codes, the exact objects and time ranges it names,
//! and the NDJSON schema documented in the README.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod tree;

use tree::{testdata, tree_args, WINDOW};

fn run(dir: &Path, args: &[&str]) -> Output {
    tree::on_tree(dir, "audit", args)
}

struct Audit {
    code: i32,
    objects: Vec<Value>,
}

impl Audit {
    fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    /// Objects that are not `valid` (chain summaries aside).
    fn problems(&self) -> Vec<&Value> {
        self.objects
            .iter()
            .filter(|o| o["kind"] != "chain_summary" && o["status"] != "valid")
            .collect()
    }

    fn chains(&self) -> BTreeSet<String> {
        self.of_kind("chain_summary")
            .iter()
            .map(|o| o["chain"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Runs the audit with NDJSON output; options in `extra` replace the tree's own.
fn audit(dir: &Path, extra: &[&str]) -> Audit {
    let base = tree_args(dir);
    let mut args: Vec<String> = base
        .chunks(2)
        .filter(|pair| !extra.contains(&pair[0].as_str()))
        .flatten()
        .cloned()
        .collect();
    args.extend(["--output".to_string(), "ndjson".to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = run(dir, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.stderr.is_empty(),
        "stderr must stay empty when not a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    Audit {
        code: out.status.code().unwrap(),
        objects,
    }
}

fn audit_tree(name: &str) -> Audit {
    audit(&testdata(&format!("audit/{name}")), &[])
}

fn scenario(name: &str) -> Audit {
    audit(&testdata(&format!("scenarios/{name}")), &[])
}

fn ends_with(v: &Value, suffix: &str) -> bool {
    v.as_str().is_some_and(|s| s.ends_with(suffix))
}

fn digest_key(stamp: &str) -> String {
    format!("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/111122223333_CloudTrail-Digest_us-east-1_test-trail_us-east-1_{stamp}.json.gz")
}

/// Every object has the fields the README promises, with the documented values.
fn check_schema(o: &Value) {
    let kinds = [
        "digest",
        "log",
        "missing_digests",
        "truncation",
        "unreferenced_log",
        "chain_link",
        "gap",
        "chain_summary",
    ];
    let statuses = ["valid", "invalid", "missing", "warning", "info"];
    let kind = o["kind"].as_str().unwrap_or_else(|| panic!("no kind: {o}"));
    assert!(kinds.contains(&kind), "{o}");
    assert!(statuses.contains(&o["status"].as_str().unwrap()), "{o}");
    assert!(o["chain"].is_string(), "{o}");
    assert!(o["reason"].as_str().is_some_and(|r| !r.is_empty()), "{o}");
    let time = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.len() == 20 && chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok()
        })
    };
    let object = || {
        assert!(o["bucket"].is_string() && o["key"].is_string(), "{o}");
    };
    let range = |with_count: bool| {
        assert!(time(&o["from"]) && time(&o["to"]), "{o}");
        if with_count {
            assert!(o["count"].is_u64(), "{o}");
        }
    };
    match kind {
        "digest" => {
            object();
            assert!(o["backfill"].is_boolean(), "{o}");
            if o["status"] == "valid" {
                range(false);
                assert_eq!(o["fingerprint"].as_str().map(str::len), Some(32), "{o}");
                assert!(
                    ["s3-metadata", "sidecar", "xattr", "next-digest"]
                        .contains(&o["signature_source"].as_str().unwrap()),
                    "{o}"
                );
            }
        }
        "log" => {
            object();
            assert!(o["digest_key"].is_string() && o["verdict"].is_string(), "{o}");
        }
        "missing_digests" => {
            range(true);
            assert!(o["bucket"].is_string(), "{o}");
            assert_eq!(
                o["keys"].as_array().unwrap().len() as u64,
                o["count"].as_u64().unwrap(),
                "{o}"
            );
        }
        "truncation" => {
            object();
            range(true);
            assert!(["head", "tail"].contains(&o["side"].as_str().unwrap()), "{o}");
            assert!(o["starting_digest"].is_boolean(), "{o}");
            assert!(o["explanation"].is_array(), "{o}");
        }
        "unreferenced_log" => {
            object();
            assert!(o["time"].is_null() || time(&o["time"]), "{o}");
        }
        "chain_link" => {
            object();
            assert!(
                o["previous_bucket"].is_string() && o["previous_key"].is_string(),
                "{o}"
            );
            assert!(
                [
                    "previous_hash",
                    "previous_signature",
                    "contiguity",
                    "previous_object"
                ]
                .contains(&o["check"].as_str().unwrap()),
                "{o}"
            );
            assert!(o["recorded"].is_string() && o["actual"].is_string(), "{o}");
        }
        "gap" => {
            object();
            range(true);
            assert!(
                o["explained"].is_boolean() && o["covered_by_backfill"].is_boolean(),
                "{o}"
            );
            for e in o["explanation"].as_array().unwrap() {
                for f in ["event", "time", "bucket", "key"] {
                    assert!(e[f].is_string(), "{o}");
                }
            }
        }
        "chain_summary" => {
            for f in ["account_id", "source_region", "trail_name", "home_region"] {
                assert!(o[f].is_string(), "{o}");
            }
            assert!(o["buckets"].is_array() && o["backfill"].is_boolean(), "{o}");
            for f in [
                "digests_valid",
                "digests_invalid",
                "digests_missing",
                "logs_valid",
                "logs_invalid",
                "unreferenced_logs",
                "chain_links_broken",
                "gaps",
                "gaps_unexplained",
                "truncations",
            ] {
                assert!(o[f].is_u64(), "{f}: {o}");
            }
            assert!(["valid", "invalid", "warning"].contains(&o["status"].as_str().unwrap()));
        }
        _ => unreachable!(),
    }
}

#[test]
fn every_audit_tree_exits_as_documented_and_follows_the_schema() {
    let root = testdata("audit");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("audit.json").is_file())
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    for dir in names {
        let doc: Value = serde_json::from_slice(&std::fs::read(dir.join("audit.json")).unwrap()).unwrap();
        let a = audit(&dir, &[]);
        assert_eq!(Some(a.code as i64), doc["exit"].as_i64(), "{}", dir.display());
        assert!(!a.chains().is_empty());
        for o in &a.objects {
            check_schema(o);
        }
    }
}

#[test]
fn every_scenario_tree_audits_to_the_schema_and_clean_ones_stay_silent() {
    let clean = [
        "backfill",
        "bucket-change",
        "clean-chain",
        "key-rotation",
        "log-stored-decompressed",
        "multi-region",
        "odd-trail-name",
        "offset-dates",
        "organization-trail",
        "prefix",
        "recovered-signature",
        "starting-digest",
    ];
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(testdata("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.json").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let a = audit(&dir, &[]);
        for o in &a.objects {
            check_schema(o);
        }
        if clean.contains(&name.as_str()) {
            assert_eq!(a.code, 0, "{name}: {:?}", a.problems());
            assert!(a.problems().is_empty(), "{name}: {:?}", a.problems());
        } else if name == "gap-stopped-logging" || name == "deleted-newest-digest" {
            assert_eq!(a.code, 3, "{name}");
        } else {
            assert_eq!(a.code, 1, "{name}: every other scenario holds a fault");
        }
    }
}

#[test]
fn two_consecutive_deleted_digests_are_both_named() {
    let a = scenario("deleted-two-digests");
    assert_eq!(a.code, 1);
    let runs = a.of_kind("missing_digests");
    assert_eq!(runs.len(), 1, "{runs:?}");
    let r = runs[0];
    assert_eq!(r["count"], 2);
    assert_eq!(r["from"], "2026-03-01T03:17:42Z");
    assert_eq!(r["to"], "2026-03-01T05:17:42Z");
    let keys = [digest_key("20260301T041742Z"), digest_key("20260301T051742Z")];
    assert_eq!(r["keys"], serde_json::json!(keys));
    let missing: Vec<&Value> = a
        .of_kind("digest")
        .into_iter()
        .filter(|o| o["status"] == "missing")
        .collect();
    assert_eq!(missing.len(), 2);
    for (o, k) in missing.iter().zip(&keys) {
        assert_eq!(o["key"], *k.as_str());
        assert_eq!(o["bucket"], "ctd-deleted-two-digests-bucket");
    }
}

#[test]
fn three_consecutive_deleted_digests_are_all_named() {
    let a = audit_tree("three-deleted-digests");
    assert_eq!(a.code, 1);
    let runs = a.of_kind("missing_digests");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["count"], 3);
    assert_eq!(runs[0]["from"], "2026-03-01T02:17:42Z");
    assert_eq!(runs[0]["to"], "2026-03-01T05:17:42Z");
    let missing: BTreeSet<String> = a
        .of_kind("digest")
        .iter()
        .filter(|o| o["status"] == "missing")
        .map(|o| o["key"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = ["031742", "041742", "051742"]
        .iter()
        .map(|t| digest_key(&format!("20260301T{t}Z")))
        .collect();
    assert_eq!(missing, want);
    // The logs those digests listed can no longer be verified.
    let unref = a.of_kind("unreferenced_log");
    assert_eq!(unref.len(), 4);
    assert!(unref.iter().all(|o| o["status"] == "invalid"));
    // Text output names each missing key too.
    let dir = testdata("audit/three-deleted-digests");
    let out = run(&dir, &WINDOW);
    let text = String::from_utf8(out.stdout).unwrap();
    for k in &want {
        assert!(text.contains(k.as_str()), "{text}");
    }
    assert!(text.contains("3 hourly digests missing between 2026-03-01T02:17:42Z and 2026-03-01T05:17:42Z"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_deleted_newest_digest_truncates_the_tail() {
    let a = scenario("deleted-newest-digest");
    assert_eq!(a.code, 3);
    let t = a.of_kind("truncation");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["side"], "tail");
    assert_eq!(t[0]["from"], "2026-03-01T06:17:42Z");
    assert_eq!(t[0]["to"], "2026-03-01T08:00:00Z");
    assert_eq!(t[0]["count"], 2);
    assert_eq!(t[0]["key"], digest_key("20260301T061742Z").as_str());
    // Its log is left without a digest.
    let u = a.of_kind("unreferenced_log");
    assert_eq!(u.len(), 1);
    assert_eq!(u[0]["status"], "warning");
    // A window that ends before the allowance runs out is not truncated.
    let dir = testdata("scenarios/deleted-newest-digest");
    let early = audit(
        &dir,
        &[
            "--end-time",
            "2026-03-01T07:00:00Z",
            "--delivery-allowance",
            "45m",
        ],
    );
    assert!(early.of_kind("truncation").is_empty(), "{:?}", early.problems());
    // Nor is a digest that is not due yet: now 07:40, allowance 90 minutes.
    let live = audit(&dir, &["--now", "2026-03-01T07:40:00Z"]);
    assert!(live.of_kind("truncation").is_empty(), "{:?}", live.problems());
    assert_eq!(live.of_kind("unreferenced_log")[0]["status"], "info");
    assert_eq!(live.code, 0);
}

#[test]
fn a_chain_that_begins_in_the_window_is_not_a_failure() {
    // Logging was turned on at 00:17:42: the oldest digest is a starting digest.
    let dir = testdata("scenarios/starting-digest");
    let a = audit(&dir, &["--start-time", "2026-02-28T18:00:00Z"]);
    assert_eq!(a.code, 0);
    let t = a.of_kind("truncation");
    assert_eq!(t.len(), 1);
    assert_eq!((&t[0]["side"], &t[0]["status"]), (&"head".into(), &"info".into()));
    assert_eq!(t[0]["starting_digest"], true);
    assert_eq!(t[0]["to"], "2026-03-01T00:17:42Z");
}

#[test]
fn a_forged_log_beside_real_ones_is_named() {
    let a = audit_tree("forged-log");
    assert_eq!(a.code, 1);
    let p = a.problems();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["kind"], "unreferenced_log");
    assert_eq!(p[0]["status"], "invalid");
    assert_eq!(p[0]["bucket"], "ctd-audit-forged-log-bucket");
    assert_eq!(
        p[0]["key"],
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0340Z_FoRgEdLoGfIlE001.json.gz"
    );
    assert_eq!(p[0]["time"], "2026-03-01T03:40:00Z");
    assert!(ends_with(&p[0]["reason"], "injected or forged"));
}

#[test]
fn re_signed_digests_with_wrong_links_break_the_chain() {
    for (tree, check) in [
        ("resigned-wrong-previous-hash", "previous_hash"),
        ("resigned-wrong-previous-signature", "previous_signature"),
    ] {
        let a = audit_tree(tree);
        assert_eq!(a.code, 1, "{tree}");
        let p = a.problems();
        assert_eq!(p.len(), 1, "{tree}: {p:?}");
        assert_eq!(p[0]["kind"], "chain_link");
        assert_eq!(p[0]["check"], check);
        assert_eq!(p[0]["key"], digest_key("20260301T041742Z").as_str());
        assert_eq!(p[0]["previous_key"], digest_key("20260301T031742Z").as_str());
        // Every signature verifies: only the link gives it away.
        assert!(a.of_kind("digest").iter().all(|d| d["status"] == "valid"));
    }
    let a = audit_tree("broken-contiguity");
    let p = a.problems();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["check"], "contiguity");
    assert_eq!(p[0]["recorded"], "2026-03-01T04:27:42Z");
    assert_eq!(p[0]["actual"], "2026-03-01T04:17:42Z");
    assert_eq!(p[0]["key"], digest_key("20260301T051742Z").as_str());
}

#[test]
fn a_log_of_another_region_listed_by_a_digest_is_invalid() {
    let a = audit_tree("misplaced-log");
    assert_eq!(a.code, 1);
    let p = a.problems();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["kind"], "log");
    assert_eq!(p[0]["verdict"], "valid");
    assert!(ends_with(&p[0]["key"], "_MiSpLaCeDlOg0001.json.gz"));
    assert!(p[0]["reason"].as_str().unwrap().contains("region eu-west-1"));
}

#[test]
fn a_gap_is_explained_by_stop_logging_in_the_last_log_before_it() {
    let a = audit_tree("gap-explained");
    assert_eq!(a.code, 0);
    let gaps = a.of_kind("gap");
    assert_eq!(gaps.len(), 1);
    let g = gaps[0];
    assert_eq!(g["status"], "info");
    assert_eq!(g["from"], "2026-03-01T04:17:42Z");
    assert_eq!(g["to"], "2026-03-01T06:05:29Z");
    assert_eq!(g["explained"], true);
    let e = &g["explanation"][0];
    assert_eq!(e["event"], "StopLogging");
    assert_eq!(e["actor"], "arn:aws:iam::111122223333:user/alice");
    assert_eq!(e["source_ip"], "203.0.113.24");
    assert!(e["time"].as_str().unwrap() < "2026-03-01T04:17:42Z");
    // The same gap without the event (the validate-logs scenario) is a warning.
    let plain = audit(
        &testdata("scenarios/gap-stopped-logging"),
        &["--end-time", "2026-03-01T11:00:00Z"],
    );
    assert_eq!(plain.code, 3);
    let g = plain.of_kind("gap");
    assert_eq!(g[0]["status"], "warning");
    assert_eq!(g[0]["explained"], false);
}

#[test]
fn a_stopped_tail_is_truncated_and_explained() {
    let a = audit_tree("stopped-tail");
    assert_eq!(a.code, 3);
    let t = a.of_kind("truncation");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["from"], "2026-03-01T05:17:42Z");
    assert_eq!(t[0]["count"], 3);
    assert_eq!(t[0]["explanation"][0]["event"], "StopLogging");
}

#[test]
fn every_chain_of_a_multi_account_multi_region_tree_in_one_run() {
    let a = audit_tree("multi-account-multi-region");
    assert_eq!(a.code, 0, "{:?}", a.problems());
    let want: BTreeSet<String> = [
        "111122223333/ap-southeast-2/test-trail@us-east-1",
        "111122223333/eu-west-1/test-trail@us-east-1",
        "111122223333/us-east-1/second_trail.v2@us-east-1",
        "111122223333/us-east-1/test-trail@us-east-1",
        "444455556666/eu-west-1/test-trail@us-east-1",
        "444455556666/us-east-1/test-trail@us-east-1",
        "org/trails:o-a1b2c3d4e5/111122223333/us-east-1/org-trail@us-east-1",
        "org/trails:o-a1b2c3d4e5/444455556666/us-east-1/org-trail@us-east-1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(a.chains(), want);
    for s in a.of_kind("chain_summary") {
        assert_eq!(s["digests_valid"], 7, "{s}");
        assert_eq!(s["status"], "valid");
    }
    let dir = testdata("audit/multi-account-multi-region");
    // test-trail from us-east-1 and eu-west-1, and org-trail.
    assert_eq!(audit(&dir, &["--account-id", "444455556666"]).chains().len(), 3);
    assert_eq!(audit(&dir, &["--region", "eu-west-1"]).chains().len(), 2);
    assert_eq!(audit(&dir, &["--trail-name", "org-trail"]).chains().len(), 2);
    assert_eq!(
        audit(
            &dir,
            &[
                "--trail-name",
                "test-trail",
                "--account-id",
                "111122223333",
                "--region",
                "us-east-1"
            ]
        )
        .chains()
        .len(),
        1
    );
    assert_eq!(
        audit(&dir, &["--s3-bucket", "ctd-audit-org-bucket"])
            .chains()
            .len(),
        2
    );
    assert_eq!(
        audit(&dir, &["--organization-id", "o-a1b2c3d4e5"]).chains().len(),
        2
    );
    // A trail ARN narrows to the trail's name and home region, over every account and region.
    let arn = audit(
        &dir,
        &[
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/test-trail",
        ],
    );
    assert_eq!(arn.chains().len(), 5);
    // The same findings whatever the parallelism.
    assert_eq!(audit(&dir, &["--jobs", "1"]).objects, a.objects);
    // The multi-region validate-logs scenario: both regions at once.
    assert_eq!(scenario("multi-region").chains().len(), 2);
    assert_eq!(scenario("organization-trail").chains().len(), 2);
}

#[test]
fn json_holds_the_same_objects_and_the_verdict() {
    let dir = testdata("audit/forged-log");
    let mut args: Vec<&str> = WINDOW.to_vec();
    args.extend(["--output", "json"]);
    let out = run(&dir, &args);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let nd = audit(&dir, &[]);
    let findings = doc["findings"].as_array().unwrap();
    let chains = doc["chains"].as_array().unwrap();
    assert_eq!(findings.len() + chains.len(), nd.objects.len());
    assert_eq!(doc["verdict"]["exit_code"], 1);
    assert_eq!(doc["window"]["from"], "2026-03-01T00:00:00Z");
    assert_eq!(doc["delivery_allowance_minutes"], 90);
}

#[test]
fn text_lists_problems_a_table_and_the_verdict_and_nothing_on_stderr() {
    let out = run(&testdata("scenarios/clean-chain"), &WINDOW);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("111122223333/us-east-1/test-trail@us-east-1  valid   7/7"),
        "{text}"
    );
    assert!(
        text.ends_with("Verdict: every chain is complete and valid (exit code 0)\n"),
        "{text}"
    );
    assert!(
        !text.contains("VALID "),
        "valid items only with --verbose: {text}"
    );
    let mut verbose: Vec<&str> = WINDOW.to_vec();
    verbose.push("--verbose");
    let text = String::from_utf8(run(&testdata("scenarios/clean-chain"), &verbose).stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("VALID")).count(), 7 + 9);
}

#[test]
fn usage_errors_exit_2() {
    let dir = testdata("scenarios/clean-chain");
    for args in [
        vec!["--start-time", "yesterday"],
        vec!["--start-time", "2026-03-02", "--end-time", "2026-03-01"],
        vec!["--start-time", "2026-03-01", "--delivery-allowance", "soon"],
        vec!["--start-time", "2026-03-01", "--output", "xml"],
        vec!["--start-time", "2026-03-01", "--s3-bucket", "no-such-bucket"],
        vec!["--start-time", "2026-03-01", "--s3-bucket", ".."],
        vec!["--start-time", "2026-03-01", "--trail-arn", "not-an-arn"],
    ] {
        let out = run(&dir, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .args([
            "audit",
            "--local-dir",
            "/nonexistent",
            "--public-keys",
            "k",
            "--start-time",
            "2026-03-01",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unusable_key_file_is_fatal() {
    let dir = testdata("scenarios/clean-chain");
    let out = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .arg("audit")
        .arg("--local-dir")
        .arg(dir.join("mirror"))
        .arg("--public-keys")
        .arg(dir.join("scenario.json"))
        .args(WINDOW)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PublicKeyList"));
}
