//! Shared pieces of the benchmarks: realistic inputs from the generator, the candidate
//! inflate-and-hash primitives, and peak-memory measurement of a child process.

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
    match cloudtrail_digest::gzip::inflate_and_hash_log(gz).expect("in memory") {
        cloudtrail_digest::gzip::LogInflate::Inflated { sha256_hex } => sha256_hex,
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
}

/// Runs a command to completion, measuring its wall time and peak RSS (via `wait4`).
pub fn measure(mut cmd: Command) -> io::Result<Measured> {
    use std::os::unix::process::ExitStatusExt;
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id() as libc::pid_t;
    // Read output on threads so the child never blocks on a full pipe.
    let mut child = child;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        io::Read::read_to_end(&mut out, &mut v).map(|_| v)
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        io::Read::read_to_end(&mut err, &mut v).map(|_| v)
    });
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    let elapsed = start.elapsed();
    let status = ExitStatus::from_raw(status);
    let output = Output {
        status,
        stdout: out_t.join().expect("reader")?,
        stderr: err_t.join().expect("reader")?,
    };
    Ok(Measured {
        elapsed,
        status,
        output,
        max_rss_kib: usage.ru_maxrss,
    })
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
