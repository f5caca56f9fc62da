//! Shared pieces of the benchmarks: realistic inputs from the generator, the candidate
//! inflate-and-hash primitives, and peak-memory measurement of a child process.

pub mod network;

use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Output};
use std::time::{Duration, Instant};

use testgen::times::utc;
use testgen::{KeyRing, Trail, TrailSpec};

/// A trail of `hours` hourly digests with `logs_per_hour` logs of `records` records each.
pub fn trail_spec(hours: u32, logs_per_hour: u32, records: u32) -> TrailSpec {
    let mut spec = TrailSpec::new(
        "111122223333",
        "bench-trail",
        "ctd-bench-bucket",
        utc(2026, 3, 1, 0, 17, 42),
    );
    spec.hours = hours;
    spec.logs_per_hour = testgen::Count::Fixed(logs_per_hour);
    spec.records_per_log = testgen::Count::Fixed(records);
    spec
}

/// One sealed hour with one realistic log of `records` records: (gzip bytes, inflated bytes).
pub fn realistic_log(records: u32) -> (Vec<u8>, Vec<u8>) {
    let trail: Trail = trail_spec(1, 1, records).plan().seal(&KeyRing::test_keys());
    let log = trail.logs.iter().find(|l| l.stored.is_some()).expect("one log");
    let stored = log.stored.clone().expect("stored");
    let inflated = testgen::gzip::gunzip(&stored).expect("gzip");
    (stored, inflated)
}

/// zlib-rs through flate2, streaming (what the validator uses).
pub fn zlib_rs_stream(gz: &[u8]) -> String {
    match cloudtrail_digest::internals::inflate_and_hash_log(gz).expect("in memory") {
        cloudtrail_digest::internals::LogInflate::Inflated { sha256_hex } => sha256_hex,
        other => panic!("{other:?}"),
    }
}

/// libdeflate on the whole buffer, sized by the gzip trailer's ISIZE.
pub fn libdeflate_whole(gz: &[u8], out: &mut Vec<u8>) -> Option<String> {
    let isize = u32::from_le_bytes(gz.get(gz.len().checked_sub(4)?..)?.try_into().ok()?) as usize;
    out.clear();
    out.resize(isize, 0);
    let mut d = libdeflater::Decompressor::new();
    let n = d.gzip_decompress(gz, out).ok()?;
    Some(hex(
        ring::digest::digest(&ring::digest::SHA256, &out[..n]).as_ref()
    ))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Wall time, exit status, output and peak resident memory (KiB) of a child process.
pub struct Measured {
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Exit status.
    pub status: ExitStatus,
    /// Captured output.
    pub output: Output,
    /// Peak RSS of the child, in KiB.
    pub max_rss_kib: i64,
    /// CPU time of the child (user and system, its own threads and children).
    pub cpu: Duration,
}

const SPAWNER_FLAG: &str = "--spawn-and-report-peak-rss";

/// Call first in a bench's `main`: when the process was started as [`measure`]'s
/// spawner, runs the command, writes its peak RSS and exits.
///
/// Why a spawner: a child started from a large process (vfork/posix_spawn) is charged
/// with its parent's memory high-water mark at exec, so `wait4` from the bench itself
/// overstates the tool's peak. A freshly started, tiny spawner has nothing to pass on.
pub fn spawner_mode() {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == SPAWNER_FLAG) else {
        return;
    };
    let (report, program, rest) = (&args[at + 1], &args[at + 2], &args[at + 3..]);
    let status = Command::new(program)
        .args(rest)
        .status()
        .expect("spawn measured command");
    // SAFETY: rusage is plain data filled by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let cpu = cpu_of(&usage);
    std::fs::write(report, format!("{} {}", usage.ru_maxrss, cpu.as_micros())).expect("write report");
    std::process::exit(status.code().unwrap_or(255));
}

/// Runs a command to completion through a fresh spawner process (see [`spawner_mode`]),
/// measuring its wall time and its own peak RSS.
pub fn measure(cmd: Command) -> io::Result<Measured> {
    let report = std::env::temp_dir().join(format!("ctd-bench-rss-{}", std::process::id()));
    let mut wrapped = Command::new(std::env::current_exe()?);
    wrapped
        .arg(SPAWNER_FLAG)
        .arg(&report)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    let start = Instant::now();
    let output = wrapped.output()?;
    let elapsed = start.elapsed();
    let reported = std::fs::read_to_string(&report).unwrap_or_default();
    let mut fields = reported.split_whitespace();
    let max_rss_kib = fields.next().and_then(|v| v.parse().ok()).unwrap_or(-1);
    let cpu = Duration::from_micros(fields.next().and_then(|v| v.parse().ok()).unwrap_or(0));
    let _ = std::fs::remove_file(&report);
    Ok(Measured {
        elapsed,
        status: output.status,
        output,
        max_rss_kib,
        cpu,
    })
}

/// User plus system time of a `getrusage` answer.
fn cpu_of(usage: &libc::rusage) -> Duration {
    let time =
        |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// CPU time this process has used so far, all its threads (user plus system).
pub fn own_cpu() -> Duration {
    // SAFETY: rusage is plain data filled by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_of(&usage)
}

/// Every file under `dir` whose name ends with `suffix`, sorted.
pub fn files_under(dir: &Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The value after `name` on the bench's command line (`--gb 1`), if given.
pub fn option(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// The repository's root.
pub fn repo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the tool in release mode and returns the binary's path.
pub fn release_binary() -> std::path::PathBuf {
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "-p", "cloudtrail-digest-cli"])
        .current_dir(repo())
        .status()
        .expect("cargo build");
    assert!(status.success(), "cargo build --release failed");
    repo().join("target/release/cloudtrail-digest")
}

/// Writes (once, under `target/bench-data/`) a trail of `hours` digests with `logs` logs
/// of `records` records per hour, with its public keys, and returns its folder.
pub fn generate(hours: u32, logs: u32, records: u32) -> std::path::PathBuf {
    let root = repo().join(format!("target/bench-data/trail-{hours}h-{logs}l-{records}r"));
    if root.join("complete").exists() {
        return root;
    }
    let _ = std::fs::remove_dir_all(&root);
    let keys = KeyRing::test_keys();
    let spec = trail_spec(hours, logs, records);
    let t = std::time::Instant::now();
    let stats = spec
        .plan()
        .write_streaming(&keys, &root.join("mirror"))
        .expect("write trail");
    // 30-day key windows, overlapping, covering the whole trail.
    let first = testgen::times::utc(2026, 2, 20, 0, 0, 0);
    let entries: Vec<_> = (0..=(hours / (24 * 25)))
        .map(|i| {
            testgen::PublicKeyEntry::thirty_days(
                testgen::KeyId::One,
                first + chrono::Duration::days(25 * i64::from(i)),
            )
        })
        .collect();
    let pk = testgen::render_public_keys(&keys, &entries, testgen::PublicKeysShape::V1);
    std::fs::write(root.join("public-keys.json"), pk).unwrap();
    std::fs::write(root.join("complete"), b"").unwrap();
    println!(
        "generated {} logs, {} digests, {:.2} GB stored in {:.1}s",
        stats.logs,
        stats.digests,
        stats.bytes as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );
    root
}

/// The `validate-logs` arguments naming the bench trail from its start to `end_time`,
/// the same for our tool and the AWS CLI.
pub fn trail_args(end_time: &str) -> Vec<String> {
    [
        "--trail-arn",
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/bench-trail",
        "--s3-bucket",
        "ctd-bench-bucket",
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        end_time,
    ]
    .map(String::from)
    .to_vec()
}
