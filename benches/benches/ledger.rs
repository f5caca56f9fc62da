//! Re-verifying with a ledger: a generated trail is audited in full, then with
//! `--ledger` (the run that writes it), then again with the ledger and nothing changed,
//! then after a few objects are changed (two logs rewritten with the same size, a digest
//! replaced by another's bytes, a forged log added, a log deleted). Each is timed (medians
//! of `--rounds`, the runs of a round side by side) and reported as a ratio to the full
//! audit, with the objects each run read (fetched, inflated and hashed) and reused, and
//! what the changed run reported. With `--s3`, the same against an S3-compatible server
//! on loopback (s3s-fs by default, `--server moto` for the test server) through a
//! counting proxy: requests per verified object; `--latency-ms` has the proxy hold every
//! request that long first, as a distant S3 would. The runs in S3 take the tool's own
//! concurrency unless `--s3-jobs` sets `--jobs`.
//!
//! cargo bench -p cloudtrail-digest-benches --bench ledger -- [--gb 1] [--hours H] [--logs 12] [--records R] [--rounds 3] [--s3] [--server s3s-fs|moto] [--s3-hours H] [--latency-ms 0] [--s3-jobs N]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cloudtrail_digest_benches::network::{self, Proxy, Server, Shape};
use cloudtrail_digest_benches::{
    files_under, generate, measure, option, realistic_log, release_binary, repo, Measured,
};
use serde_json::Value;

struct Options {
    hours: u32,
    logs: u32,
    records: u32,
    rounds: usize,
    s3: bool,
    s3_hours: u32,
    /// Added to every request through the proxy (S3's own first-byte latency is tens of
    /// milliseconds; the local server answers in a few).
    latency: Duration,
    jobs: usize,
    /// `--jobs` of the runs in S3 (default: none given, so the tool's own, its
    /// `--max-concurrency`).
    s3_jobs: Option<usize>,
    /// The S3 test server (moto) instead of s3s-fs.
    moto: bool,
}

fn options() -> Options {
    let number = |name: &str, default: u32| option(name).map_or(default, |v| v.parse().expect("a number"));
    // By default the end_to_end bench's trail (`--gb 1`): logs of about 1 MiB inflated,
    // 12 an hour, for 84 hours; the same files when both benches run.
    let gb: f64 = option("--gb").map_or(1.0, |v| v.parse().expect("--gb number"));
    let logs = number("--logs", 12);
    let hours = number("--hours", ((84.0 * gb).ceil() as u32).max(84));
    let (_, inflated) = realistic_log(200);
    let record_bytes = inflated.len() as f64 / 200.0;
    let per_log = gb * 1e9 / f64::from(hours * logs);
    Options {
        hours,
        logs,
        records: number("--records", (per_log / record_bytes).round().max(1.0) as u32),
        rounds: number("--rounds", 3) as usize,
        s3: std::env::args().any(|a| a == "--s3"),
        s3_hours: number("--s3-hours", hours),
        latency: Duration::from_millis(number("--latency-ms", 0).into()),
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        s3_jobs: option("--s3-jobs").map(|v| v.parse().expect("--s3-jobs number")),
        moto: option("--server").is_some_and(|s| s == "moto"),
    }
}

fn window(hours: u32) -> [String; 3] {
    let start = cloudtrail_digest::parse_utc("2026-03-01T00:00:00Z").unwrap();
    let show = cloudtrail_digest::internals::display;
    [
        show(start),
        show(start + chrono::Duration::hours(i64::from(hours) + 1)),
        show(start + chrono::Duration::hours(i64::from(hours) + 24)),
    ]
}

/// What a run reported: objects read and reused, `changed` and `removed` findings, and
/// every digest and log verified.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    read: u64,
    reused: u64,
    changed: usize,
    removed: usize,
    verified: usize,
}

fn found(m: &Measured) -> Found {
    assert!(
        matches!(m.status.code(), Some(0 | 1 | 3)),
        "{:?}\n{}",
        m.status,
        String::from_utf8_lossy(&m.output.stderr)
    );
    let mut f = Found::default();
    for line in String::from_utf8_lossy(&m.output.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        match v["kind"].as_str().unwrap() {
            "chain_summary" => {
                f.read += v["objects_read"].as_u64().unwrap_or(0);
                f.reused += v["objects_reused"].as_u64().unwrap_or(0);
            }
            "changed" => f.changed += 1,
            "removed" => f.removed += 1,
            "digest" | "log" => f.verified += 1,
            _ => {}
        }
    }
    f
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let status = Command::new("cp").arg("-a").arg(from).arg(to).status().unwrap();
    assert!(status.success());
}

/// The changes a check makes, as file operations: two logs rewritten in place with the
/// same size, a digest replaced by another's bytes, a forged log added, a log deleted.
/// Returns how many objects are new or changed.
struct Changes {
    rewritten: Vec<PathBuf>,
    deleted: PathBuf,
    forged: (PathBuf, PathBuf),
    replaced: (PathBuf, PathBuf),
}

fn pick_changes(mirror: &Path) -> Changes {
    let logs: Vec<PathBuf> = files_under(mirror, ".json.gz")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/CloudTrail/"))
        .collect();
    let digests: Vec<PathBuf> = files_under(mirror, ".json.gz")
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("/CloudTrail-Digest/"))
        .collect();
    let n = logs.len();
    Changes {
        rewritten: vec![logs[n / 5].clone(), logs[n / 2].clone()],
        deleted: logs[3 * n / 4].clone(),
        forged: (
            logs[n / 3].clone(),
            PathBuf::from(logs[n / 3].to_string_lossy().replace(".json.gz", "0.json.gz")),
        ),
        replaced: (
            digests[digests.len() / 2].clone(),
            digests[digests.len() / 2 + 1].clone(),
        ),
    }
}

fn flipped(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    bytes
}

fn change_files(c: &Changes) {
    for p in &c.rewritten {
        std::fs::write(p, flipped(p)).unwrap();
    }
    std::fs::remove_file(&c.deleted).unwrap();
    std::fs::copy(&c.forged.0, &c.forged.1).unwrap();
    std::fs::copy(&c.replaced.0, &c.replaced.1).unwrap();
}

fn audit(
    binary: &Path,
    source: &[String],
    keys: &Path,
    w: &[String; 3],
    jobs: Option<usize>,
    ledger: Option<&str>,
) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("audit")
        .args(source)
        .arg("--public-keys")
        .arg(keys)
        .args(["--start-time", &w[0], "--end-time", &w[1], "--now", &w[2]])
        .args(["--output", "ndjson"]);
    if let Some(jobs) = jobs {
        cmd.args(["--jobs", &jobs.to_string()]);
    }
    if let Some(l) = ledger {
        cmd.args(["--ledger", l]);
    }
    cmd
}

/// The four runs of a round, in order: the full audit, the first run (writing the
/// ledger), the re-audit with nothing changed, and the re-audit after the changes.
const RUNS: [&str; 4] = [
    "full audit, no ledger",
    "first run, writing the ledger",
    "re-audit, nothing changed",
    "re-audit after the changes",
];

/// Each run of [`RUNS`] in one round: its time and what it reported.
type Round = [(Duration, Found); 4];

fn report(what: &str, rounds: &[Round], extra: impl Fn(usize) -> String) {
    let full = median(rounds.iter().map(|r| r[0].0).collect());
    println!("{what}: medians of {} rounds", rounds.len());
    for (i, name) in RUNS.iter().enumerate() {
        let t = median(rounds.iter().map(|r| r[i].0).collect());
        let f = rounds[0][i].1;
        println!(
            "  {name:<31} {:>8.3} s  {:>6.1}% of full  read {:>6}  reused {:>6}  changed {} removed {}{}",
            t.as_secs_f64(),
            100.0 * t.as_secs_f64() / full.as_secs_f64(),
            f.read,
            f.reused,
            f.changed,
            f.removed,
            extra(i)
        );
    }
}

fn local(binary: &Path, root: &Path, o: &Options) {
    let work = repo().join("target/bench-data/ledger-work");
    let w = window(o.hours);
    let keys = root.join("public-keys.json");
    let ledger = work.join("audit.ledger");
    let kept = work.join("unchanged.ledger");
    let mut rounds = Vec::new();
    for _ in 0..o.rounds {
        copy_tree(&root.join("mirror"), &work);
        let source = vec!["--local-dir".to_string(), work.display().to_string()];
        let run = |ledger: Option<&Path>| {
            let m = measure(audit(
                binary,
                &source,
                &keys,
                &w,
                Some(o.jobs),
                ledger.map(|l| l.to_str().unwrap()),
            ))
            .unwrap();
            (m.elapsed, found(&m))
        };
        let _ = std::fs::remove_file(&ledger);
        let full = run(None);
        let first = run(Some(&ledger));
        std::fs::copy(&ledger, &kept).unwrap();
        let unchanged = run(Some(&ledger));
        change_files(&pick_changes(&work));
        std::fs::copy(&kept, &ledger).unwrap();
        let changed = run(Some(&ledger));
        rounds.push([full, first, unchanged, changed]);
    }
    let size = std::fs::metadata(&kept).unwrap().len();
    let f = rounds[0][0].1;
    println!(
        "local copy: {} digests and logs verified by the full audit; ledger {:.1} MiB",
        f.verified,
        size as f64 / (1024.0 * 1024.0)
    );
    report("local copy (--local-dir)", &rounds, |_| String::new());
    let _ = std::fs::remove_dir_all(&work);
}

/// Puts files (`KEY=PATH`, with the sidecar's metadata when it has one) and deletes keys
/// (`KEY`) in the bucket `sys.argv[2]`.
const CHANGE: &str = r#"
for op in sys.argv[3:]:
    if '=' in op:
        key, path = op.split('=', 1)
        meta = json.load(open(path + '.metadata.json')) if os.path.exists(path + '.metadata.json') else {}
        c.put_object(Bucket=sys.argv[2], Key=key, Body=open(path, 'rb').read(), Metadata=meta)
    else:
        c.delete_object(Bucket=sys.argv[2], Key=op)
"#;

fn in_s3(binary: &Path, root: &Path, o: &Options) {
    // The tool runs through a spawner (for its peak memory), which passes on this
    // process's environment: the test server's credentials, and nothing of the caller's.
    network::test_credentials();
    let store = repo().join("target/bench-data/ledger-s3-store");
    let server = if o.moto {
        Server::moto()
    } else {
        Server::s3s_fs(&store)
    };
    let proxy = Proxy::start(
        server.port,
        Shape {
            latency: o.latency,
            bandwidth: None,
        },
    );
    let t = Instant::now();
    network::upload_mirror(&server.endpoint(), &root.join("mirror"), "ctd-bench-ledgers");
    println!(
        "S3: uploaded the trail to {} in {:.1}s",
        server.name,
        t.elapsed().as_secs_f64()
    );
    let w = window(o.hours.min(o.s3_hours));
    let keys = root.join("public-keys.json");
    let source = vec![
        "--endpoint-url".to_string(),
        proxy.endpoint(),
        "--s3-bucket".to_string(),
        "ctd-bench-bucket".to_string(),
    ];
    let bucket_root = root.join("mirror").join("ctd-bench-bucket");
    let key_of = |p: &Path| {
        p.strip_prefix(&bucket_root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let changes = pick_changes(&root.join("mirror"));
    let scratch = repo().join("target/bench-data/ledger-s3-scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut rounds = Vec::new();
    let mut requests = Vec::new();
    // The CPU each run took in the tool and in the server: in a re-audit the server's
    // listings (s3s-fs reads every folder of the bucket for each) weigh as much as the tool.
    let mut cpu: [Vec<(Duration, Duration)>; 4] = Default::default();
    for round in 0..o.rounds {
        let run = |ledger: Option<&str>, cpu: &mut Vec<(Duration, Duration)>| {
            let before = server.cpu();
            let m = measure(audit(binary, &source, &keys, &w, o.s3_jobs, ledger)).unwrap();
            cpu.push((m.cpu, server.cpu().saturating_sub(before)));
            let f = found(&m);
            (m.elapsed, f, proxy.take().requests)
        };
        let ledger = format!("s3://ctd-bench-ledgers/round-{round}");
        let full = run(None, &mut cpu[0]);
        let first = run(Some(&ledger), &mut cpu[1]);
        let unchanged = run(Some(&ledger), &mut cpu[2]);
        // The changes, made in S3; the ledger put back as the unchanged run left it.
        let mut ops: Vec<String> = Vec::new();
        for (i, p) in changes.rewritten.iter().enumerate() {
            let file = scratch.join(format!("rewritten-{i}"));
            std::fs::write(&file, flipped(p)).unwrap();
            ops.push(format!("{}={}", key_of(p), file.display()));
        }
        ops.push(key_of(&changes.deleted));
        ops.push(format!(
            "{}={}",
            key_of(&changes.forged.1),
            changes.forged.0.display()
        ));
        ops.push(format!(
            "{}={}",
            key_of(&changes.replaced.1),
            changes.replaced.0.display()
        ));
        let mut args = vec!["ctd-bench-bucket"];
        args.extend(ops.iter().map(String::as_str));
        network::boto3(&server.endpoint(), CHANGE, &args);
        proxy.take();
        let changed = run(Some(&ledger), &mut cpu[3]);
        // Back as it was for the next round.
        let mut undo = vec![
            format!("{}={}", key_of(&changes.deleted), changes.deleted.display()),
            key_of(&changes.forged.1),
            format!("{}={}", key_of(&changes.replaced.1), changes.replaced.1.display()),
        ];
        undo.extend(
            changes
                .rewritten
                .iter()
                .map(|p| format!("{}={}", key_of(p), p.display())),
        );
        let mut args = vec!["ctd-bench-bucket"];
        args.extend(undo.iter().map(String::as_str));
        network::boto3(&server.endpoint(), CHANGE, &args);
        proxy.take();
        requests.push([full.2, first.2, unchanged.2, changed.2]);
        rounds.push([
            (full.0, full.1),
            (first.0, first.1),
            (unchanged.0, unchanged.1),
            (changed.0, changed.1),
        ]);
    }
    let verified = rounds[0][0].1.verified as f64;
    println!(
        "S3 ({}, {} hours, {} ms added to each request, --jobs {}): {} digests and logs verified by the full audit",
        server.name,
        o.hours.min(o.s3_hours),
        o.latency.as_millis(),
        o.s3_jobs.map_or("as the tool sets it".to_string(), |j| j.to_string()),
        verified
    );
    let per_object = |i: usize| {
        let tool = median(cpu[i].iter().map(|c| c.0).collect());
        let served = median(cpu[i].iter().map(|c| c.1).collect());
        format!(
            "  requests {} ({:.3}/object)  CPU: tool {:.3} s, {} {:.2} s",
            requests[0][i],
            requests[0][i] as f64 / verified,
            tool.as_secs_f64(),
            server.name,
            served.as_secs_f64()
        )
    };
    report("S3 (--endpoint-url)", &rounds, per_object);
    let _ = std::fs::remove_dir_all(&scratch);
    drop(proxy);
    drop(server);
    let _ = std::fs::remove_dir_all(&store);
}

fn main() {
    cloudtrail_digest_benches::spawner_mode();
    let o = options();
    let binary = release_binary();
    let root = generate(o.hours, o.logs, o.records);
    local(&binary, &root, &o);
    if o.s3 {
        let root = if o.s3_hours < o.hours {
            generate(o.s3_hours, o.logs, o.records)
        } else {
            root
        };
        in_s3(&binary, &root, &o);
    }
}
