//! A split audit: `plan`, every shard through `audit --plan --shard`, then `merge`, must
//! print exactly what one `audit` over the whole scope prints (stdout, stderr, exit
//! code), on every audit and scenario tree and for any number of shards; a missing,
//! doubled, cut-short or foreign part is refused by name.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod tree;

use tree::{on_tree, testdata, tree_args as window_of};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
}

fn trees() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for kind in ["audit", "scenarios"] {
        dirs.extend(
            std::fs::read_dir(testdata(kind))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.join("mirror").is_dir()),
        );
    }
    dirs.sort();
    assert!(dirs.len() > 20);
    dirs
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ctd-split-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn same(what: &str, want: &Output, got: &Output) {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(
        got.status.code(),
        want.status.code(),
        "{what}: exit code\n{}",
        text(&got.stderr)
    );
    if got.stdout != want.stdout {
        let (w, g) = (text(&want.stdout), text(&got.stdout));
        let line = w.lines().zip(g.lines()).position(|(a, b)| a != b);
        panic!(
            "{what}: stdout differs at line {:?}\n--- audit\n{}\n--- merge\n{}",
            line.map(|l| l + 1),
            line.and_then(|l| w.lines().nth(l)).unwrap_or("(end)"),
            line.and_then(|l| g.lines().nth(l)).unwrap_or("(end)")
        );
    }
    assert_eq!(text(&got.stderr), text(&want.stderr), "{what}: stderr");
}

/// Plans the tree (in units of `hours` hours, when given), runs `shards` shards (each
/// into its own file) and returns the part files and the number of units.
fn run_shards(dir: &Path, out: &Path, shards: usize, hours: Option<u32>) -> (Vec<PathBuf>, usize) {
    let mut plan_args = window_of(dir);
    if let Some(h) = hours {
        plan_args.extend(["--unit-hours".to_string(), h.to_string()]);
    }
    let plan = on_tree(dir, "plan", &plan_args);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let plan_file = out.join(format!("plan-{}.jsonl", hours.unwrap_or(0)));
    std::fs::write(&plan_file, &plan.stdout).unwrap();
    let units = plan
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count();
    let parts_dir = out.join(format!("parts-{shards}-{}", hours.unwrap_or(0)));
    std::fs::create_dir_all(&parts_dir).unwrap();
    let mut parts = Vec::new();
    for i in 0..shards {
        let part = parts_dir.join(format!("part-{i:03}.jsonl"));
        let args: Vec<String> = [
            "--plan",
            plan_file.to_str().unwrap(),
            "--shard",
            &format!("{i}/{shards}"),
            "--out",
            part.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let run = on_tree(dir, "audit", &args);
        assert_eq!(
            run.status.code(),
            Some(0),
            "shard {i}/{shards}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        parts.push(part);
    }
    (parts, units)
}

fn merge(parts: &[PathBuf], extra: &[&str]) -> Output {
    bin().arg("merge").args(parts).args(extra).output().unwrap()
}

#[test]
fn every_shard_count_merges_to_the_single_run_on_every_tree() {
    let mut several = 0;
    for dir in trees() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let out = scratch(&name);
        let window = window_of(&dir);
        let whole = on_tree(&dir, "audit", &window);
        let (_, units) = run_shards(&dir, &out, 1, None);
        several += usize::from(units > 1);
        for shards in [1, 2, 3, 7, units + 2] {
            let (parts, _) = run_shards(&dir, &out, shards, None);
            same(&format!("{name}, {shards} shards"), &whole, &merge(&parts, &[]));
            if shards == 3 {
                for format in ["json", "ndjson"] {
                    let mut args = window.clone();
                    args.extend(["--output".to_string(), format.to_string()]);
                    let whole = on_tree(&dir, "audit", &args);
                    let merged = merge(&parts, &["--output", format]);
                    same(&format!("{name}, {shards} shards, {format}"), &whole, &merged);
                }
                // A directory of parts is the same as its files.
                let dir_of_parts = parts[0].parent().unwrap().to_path_buf();
                same(
                    &format!("{name}, directory"),
                    &whole,
                    &merge(&[dir_of_parts], &[]),
                );
            }
        }
        let mut verbose = window.clone();
        verbose.push("--verbose".into());
        let (parts, _) = run_shards(&dir, &out, 2, None);
        same(
            &format!("{name}, verbose"),
            &on_tree(&dir, "audit", &verbose),
            &merge(&parts, &["--verbose"]),
        );
        let _ = std::fs::remove_dir_all(&out);
    }
    assert!(several >= 3, "trees with several units are among them");
}

/// Chains cut in time: in slices of one hour every link, missing run, gap and
/// truncation sits at a slice edge; of three hours, edges fall between them. Merged,
/// the shards print what one run prints.
#[test]
fn chains_split_in_time_merge_to_the_single_run_on_every_tree() {
    let mut sliced = 0;
    for dir in trees() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let out = scratch(&format!("{name}-hours"));
        let window = window_of(&dir);
        let whole = on_tree(&dir, "audit", &window);
        let (_, chains) = run_shards(&dir, &out, 1, None);
        for hours in [1, 3] {
            let (_, units) = run_shards(&dir, &out, 1, Some(hours));
            sliced += usize::from(units > chains);
            for shards in [1, 3, units + 1] {
                let (parts, _) = run_shards(&dir, &out, shards, Some(hours));
                let what = format!("{name}, {hours}-hour units, {shards} shards");
                same(&what, &whole, &merge(&parts, &[]));
                if shards == 3 {
                    let mut args = window.clone();
                    args.extend(["--output".to_string(), "ndjson".to_string()]);
                    same(
                        &format!("{what}, ndjson"),
                        &on_tree(&dir, "audit", &args),
                        &merge(&parts, &["--output", "ndjson"]),
                    );
                }
            }
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    assert!(sliced > 20, "chains were sliced in most trees ({sliced})");
}

#[test]
fn a_missing_doubled_cut_or_foreign_part_is_refused_by_name() {
    let dir = testdata("audit/multi-account-multi-region");
    let out = scratch("refused");
    let (parts, units) = run_shards(&dir, &out, 3, None);
    assert!(units >= 3);
    let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let missing = merge(&parts[..2], &[]);
    assert_eq!(missing.status.code(), Some(255));
    assert!(missing.stdout.is_empty());
    let third: Vec<String> = (2..units).step_by(3).map(|i| i.to_string()).collect();
    assert!(
        stderr(&missing).contains(&format!("units missing: {} (lines", third.join(", "))),
        "{}",
        stderr(&missing)
    );

    let doubled = merge(
        &[
            parts[0].clone(),
            parts[1].clone(),
            parts[2].clone(),
            parts[1].clone(),
        ],
        &[],
    );
    assert_eq!(doubled.status.code(), Some(255));
    assert!(
        stderr(&doubled).contains("units given more than once: 1 ("),
        "{}",
        stderr(&doubled)
    );

    let text = std::fs::read(&parts[1]).unwrap();
    let cut = out.join("cut.jsonl");
    std::fs::write(&cut, &text[..text.len() - 40]).unwrap();
    let cut_short = merge(&[parts[0].clone(), cut.clone(), parts[2].clone()], &[]);
    assert_eq!(cut_short.status.code(), Some(255));
    assert!(stderr(&cut_short).contains("cut.jsonl"), "{}", stderr(&cut_short));

    // A part of another plan (another window) is refused, naming both plans.
    let other_dir = out.join("other");
    std::fs::create_dir_all(&other_dir).unwrap();
    let mut window = window_of(&dir);
    window[3] = "2026-03-01T07:00:00Z".into();
    let plan = on_tree(&dir, "plan", &window);
    let line = String::from_utf8(plan.stdout)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let foreign = other_dir.join("foreign.jsonl");
    let run = on_tree(
        &dir,
        "audit",
        &[
            "--unit".into(),
            line,
            "--out".into(),
            foreign.to_str().unwrap().into(),
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let mixed = merge(&[parts[0].clone(), foreign, parts[2].clone()], &[]);
    assert_eq!(mixed.status.code(), Some(255));
    assert!(
        stderr(&mixed).contains("is of another plan"),
        "{}",
        stderr(&mixed)
    );

    // What a unit names may not be chosen again on the command line.
    let plan_file = out.join("plan-0.jsonl");
    let again = on_tree(
        &dir,
        "audit",
        &[
            "--plan",
            plan_file.to_str().unwrap(),
            "--shard",
            "0/2",
            "--out",
            "-",
            "--account-id",
            "1",
        ]
        .map(String::from),
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--account-id: not with --unit or --plan"));
    let line = std::fs::read_to_string(&plan_file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let region = on_tree(
        &dir,
        "audit",
        &["--unit", &line, "--out", "-", "--region", "eu-west-1"],
    );
    assert_eq!(region.status.code(), Some(2));
    assert!(
        stderr(&region).contains("--region: not with --unit or --plan"),
        "{}",
        stderr(&region)
    );
    // The report's form is merge's to choose.
    for extra in [&["--output", "json"][..], &["--verbose"][..]] {
        let mut args = vec!["--unit", &line, "--out", "-"];
        args.extend_from_slice(extra);
        let refused = on_tree(&dir, "audit", &args);
        assert_eq!(refused.status.code(), Some(2));
        assert!(
            stderr(&refused).contains(&format!("{}: not with --unit or --plan", extra[0])),
            "{}",
            stderr(&refused)
        );
        assert!(refused.stdout.is_empty());
    }
    let _ = std::fs::remove_dir_all(&out);
}
