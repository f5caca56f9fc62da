//! End to end: generate a large realistic trail with the project's generator, then, in
//! one run, time `cloudtrail-digest validate-logs --local-dir` against a floor (a minimal
//! loop that inflates and hashes every log with the same primitive on all cores), check
//! that time grows linearly with the number of logs, record peak memory, and compare
//! with the AWS CLI on a slice of the same files when it is installed.
//!
//! cargo bench -p cloudtrail-digest-benches --bench end_to_end -- [--gb 1] [--jobs N] [--rounds 3] [--reference-hours 2]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cloudtrail_digest_benches::{files_under, generate, measure, realistic_log, repo, trail_args};

const LOGS_PER_HOUR: u32 = 12; // CloudTrail delivers about every 5 minutes
const TRAIL_START: &str = "2026-03-01T00:17:42Z";

struct Options {
    gb: f64,
    jobs: usize,
    rounds: usize,
    reference_hours: u32,
}

fn options() -> Options {
    let get = cloudtrail_digest_benches::option;
    Options {
        gb: get("--gb").map_or(1.0, |v| v.parse().expect("--gb number")),
        jobs: get("--jobs").map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |v| v.parse().expect("--jobs number"),
        ),
        rounds: get("--rounds").map_or(3, |v| v.parse().expect("--rounds number")),
        reference_hours: get("--reference-hours").map_or(2, |v| v.parse().expect("--reference-hours number")),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Inflated size of a gzip file from its trailer (the files here are far below 4 GiB).
fn isize_of(path: &Path) -> u64 {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).unwrap();
    f.seek(SeekFrom::End(-4)).unwrap();
    let mut b = [0u8; 4];
    f.read_exact(&mut b).unwrap();
    u32::from_le_bytes(b) as u64
}

/// The floor: every log inflated and hashed with the validator's primitive, on `jobs`
/// threads, nothing else.
fn floor(files: &[PathBuf], jobs: usize) -> Duration {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let file = std::fs::File::open(path).unwrap();
                std::hint::black_box(cloudtrail_digest::internals::inflate_and_hash_log(file).unwrap());
            });
        }
    });
    start.elapsed()
}

fn end_time(hours: u32) -> String {
    let start = cloudtrail_digest::parse_utc(TRAIL_START).unwrap();
    cloudtrail_digest::internals::display(start + chrono_hours(hours))
}

fn chrono_hours(h: u32) -> chrono::Duration {
    chrono::Duration::hours(h as i64)
}

fn tool_command(binary: &Path, root: &Path, hours: u32, jobs: usize) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("validate-logs")
        .args(trail_args(&end_time(hours)))
        .arg("--local-dir")
        .arg(root.join("mirror"))
        .arg("--public-keys")
        .arg(root.join("public-keys.json"))
        .args(["--jobs", &jobs.to_string()]);
    cmd
}

/// `export` of the whole bench trail into partition folders under `out`.
fn export_command(binary: &Path, root: &Path, hours: u32, jobs: usize, out: &Path, format: &str) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("export")
        .arg("--local-dir")
        .arg(root.join("mirror"))
        .arg("--public-keys")
        .arg(root.join("public-keys.json"))
        .args([
            "--start-time",
            "2026-03-01T00:00:00Z",
            "--end-time",
            &end_time(hours),
        ])
        .args(["--jobs", &jobs.to_string(), "--format", format])
        .arg("--out")
        .arg(out);
    cmd
}

/// `N` of the `N/N log files valid` summary line; panics on anything but a clean run.
fn valid_logs(stdout: &[u8]) -> usize {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .find(|l| l.ends_with(" log files valid"))
        .unwrap_or_else(|| panic!("no summary:\n{text}"));
    let (valid, total) = line.split_once(' ').unwrap().0.split_once('/').unwrap();
    assert_eq!(valid, total, "{line}");
    valid.parse().unwrap()
}

fn main() {
    cloudtrail_digest_benches::spawner_mode();
    let o = options();
    let (gz, inflated) = realistic_log(200);
    let record_bytes = inflated.len() as f64 / 200.0;
    let hours = ((84.0 * o.gb).ceil() as u32).max(84); // >= 1,008 logs
    let per_log = o.gb * 1e9 / f64::from(hours * LOGS_PER_HOUR);
    let records = (per_log / record_bytes).round().max(1.0) as u32;
    println!(
        "trail: {hours} hours x {LOGS_PER_HOUR} logs x {records} records (~{:.0} KiB inflated per log, compression {:.1}x)",
        per_log / 1024.0,
        inflated.len() as f64 / gz.len() as f64
    );

    let root = generate(hours, LOGS_PER_HOUR, records);
    let logs: Vec<PathBuf> = files_under(&root.join("mirror"), ".json.gz")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/CloudTrail/"))
        .collect();
    let inflated_total: u64 = logs.iter().map(|p| isize_of(p)).sum();
    let stored_total: u64 = logs.iter().map(|p| p.metadata().unwrap().len()).sum();
    println!(
        "logs: {} files, {:.3} GB inflated, {:.3} GB stored (x{:.1})",
        logs.len(),
        inflated_total as f64 / 1e9,
        stored_total as f64 / 1e9,
        inflated_total as f64 / stored_total as f64
    );

    let binary = cloudtrail_digest_benches::release_binary();

    // Warm the page cache once, then alternate floor and tool.
    floor(&logs, o.jobs);
    let (mut floors, mut tools, mut rss) = (Vec::new(), Vec::new(), 0);
    for _ in 0..o.rounds {
        floors.push(floor(&logs, o.jobs));
        let m = measure(tool_command(&binary, &root, hours, o.jobs)).unwrap();
        assert!(
            m.status.success(),
            "{}",
            String::from_utf8_lossy(&m.output.stderr)
        );
        assert_eq!(valid_logs(&m.output.stdout), logs.len());
        rss = rss.max(m.max_rss_kib);
        tools.push(m.elapsed);
    }
    let (f, t) = (median(floors), median(tools));
    let mbs = |d: Duration| inflated_total as f64 / 1e6 / d.as_secs_f64();
    println!(
        "jobs: {} (machine: {} cores)",
        o.jobs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "floor (inflate+hash only): {:>8.1} files/s {:>8.1} MB/s inflated",
        logs.len() as f64 / f.as_secs_f64(),
        mbs(f)
    );
    println!(
        "validate-logs --local-dir: {:>8.1} files/s {:>8.1} MB/s inflated, peak RSS {:.1} MiB",
        logs.len() as f64 / t.as_secs_f64(),
        mbs(t),
        rss as f64 / 1024.0
    );
    println!(
        "throughput ratio tool/floor: {:.3}",
        f.as_secs_f64() / t.as_secs_f64()
    );

    // export: the same trail's records out as partitioned NDJSON and Parquet, in the
    // same pass as the audit's verification, against plain validate-logs of this run.
    let out = repo().join("target/bench-data/export-out");
    for format in ["ndjson", "parquet"] {
        let (mut exports, mut export_rss) = (Vec::new(), 0);
        for _ in 0..o.rounds {
            let _ = std::fs::remove_dir_all(&out);
            let m = measure(export_command(&binary, &root, hours, o.jobs, &out, format)).unwrap();
            let stderr = String::from_utf8_lossy(&m.output.stderr);
            assert!(m.status.success(), "{stderr}");
            assert!(
                stderr.contains(&format!(" records from {} logs", logs.len())),
                "{stderr}"
            );
            export_rss = export_rss.max(m.max_rss_kib);
            exports.push(m.elapsed);
        }
        let _ = std::fs::remove_dir_all(&out);
        let e = median(exports);
        println!(
            "export --format {format:<8} {:>8.1} files/s {:>8.1} MB/s inflated, peak RSS {:.1} MiB",
            logs.len() as f64 / e.as_secs_f64(),
            mbs(e),
            export_rss as f64 / 1024.0
        );
        println!(
            "throughput ratio export ({format})/validate-logs: {:.3}",
            t.as_secs_f64() / e.as_secs_f64()
        );
    }

    // Linearity: the same tool on 1/4, 1/2 and all of the trail.
    let mut per_file = Vec::new();
    for div in [4u32, 2, 1] {
        let h = hours / div;
        let mut times = Vec::new();
        let mut n = 0;
        for _ in 0..o.rounds {
            let m = measure(tool_command(&binary, &root, h, o.jobs)).unwrap();
            n = valid_logs(&m.output.stdout);
            times.push(m.elapsed);
        }
        let t = median(times);
        per_file.push((n, t));
        println!("scaling: {:>6} logs in {:>7.3}s", n, t.as_secs_f64());
    }
    let (n1, t1) = per_file[0];
    for (n, t) in &per_file[1..] {
        let expected = t1.as_secs_f64() * *n as f64 / n1 as f64;
        println!(
            "scaling: {:.2}x the logs took {:.3} of the time linear growth predicts",
            *n as f64 / n1 as f64,
            t.as_secs_f64() / expected
        );
    }

    // Digest handling: a year and more of one region (10,000 hourly digests) with no
    // logs, against the log work those hours carry in this trail.
    let digest_root = generate(10_000, 0, 1);
    let mut times = Vec::new();
    for _ in 0..o.rounds {
        let m = measure(tool_command(&binary, &digest_root, 10_000, o.jobs)).unwrap();
        let text = String::from_utf8_lossy(&m.output.stdout);
        assert!(text.contains("10000/10000 digest files valid"), "{text}");
        times.push(m.elapsed);
    }
    let per_digest = median(times).as_secs_f64() / 10_000.0;
    let log_work_per_hour = t.as_secs_f64() / f64::from(hours);
    println!(
        "digests: 10,000 digests validated in {:.3}s ({:.1} us each); per hour of trail that is {:.2}% of the log work here ({:.1} ms per hour)",
        per_digest * 10_000.0,
        per_digest * 1e6,
        100.0 * per_digest / log_work_per_hour,
        log_work_per_hour * 1e3
    );

    // The AWS CLI on a slice of the same files, when it is installed.
    let python = ["target/reference-venv/bin/python", "python3"]
        .iter()
        .map(|p| {
            if p.starts_with("target") {
                repo().join(p)
            } else {
                PathBuf::from(p)
            }
        })
        .find(|p| {
            Command::new(p)
                .args(["-c", "import awscli"])
                .output()
                .is_ok_and(|o| o.status.success())
        });
    match python {
        None => println!("reference: awscli not installed; skipped"),
        Some(python) => {
            let h = o.reference_hours.min(hours);
            let mut cmd = Command::new(&python);
            cmd.arg(repo().join("tools/reference/run_reference.py"))
                .arg("--mirror")
                .arg(root.join("mirror"))
                .arg("--public-keys")
                .arg(root.join("public-keys.json"))
                .arg("--")
                .args(trail_args(&end_time(h)));
            let r = measure(cmd).unwrap();
            let n = valid_logs(&r.output.stdout);
            let ours = measure(tool_command(&binary, &root, h, o.jobs)).unwrap();
            assert_eq!(ours.output.stdout, r.output.stdout, "same output as the AWS CLI");
            println!(
                "reference: AWS CLI {:.3}s, cloudtrail-digest {:.3}s on the same {} logs: {:.1}x faster, identical stdout",
                r.elapsed.as_secs_f64(),
                ours.elapsed.as_secs_f64(),
                n,
                r.elapsed.as_secs_f64() / ours.elapsed.as_secs_f64()
            );
        }
    }
}
