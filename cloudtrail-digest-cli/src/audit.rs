//! `audit`: the forensic check over every chain of a mirror, with a progress bar on a
//! terminal and text, JSON or NDJSON on stdout.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Local, Utc};
use cloudtrail_digest::audit::{Audit, AuditReport, Progress};
use cloudtrail_digest::{parse_date, ChainFilter};
use cloudtrail_digest::{LocalDir, PublicKeySet, TrailArn};

use crate::cli::{AuditArgs, AuditOutput};
use crate::online::Online;

/// Exit code of a usage error.
const USAGE: i32 = 2;
/// Exit code of a fatal error.
const FATAL: i32 = 255;

enum Failure {
    Usage(String),
    Fatal(String),
}

pub fn run(args: &AuditArgs, region: Option<&str>) -> i32 {
    match audit(args, region) {
        Ok(code) => code,
        Err(Failure::Usage(m)) => {
            eprintln!("cloudtrail-digest audit: {m}");
            USAGE
        }
        Err(Failure::Fatal(m)) => {
            eprintln!("cloudtrail-digest audit: {m}");
            FATAL
        }
    }
}

fn audit(args: &AuditArgs, region: Option<&str>) -> Result<i32, Failure> {
    let usage = |m: String| Failure::Usage(m);
    let today = Local::now().date_naive();
    let time = |what: &str, text: &str| {
        parse_date(text, today)
            .map(|d| d.to_utc())
            .map_err(|_| usage(format!("{what}: unable to parse date value: {text}")))
    };
    let clock = Utc::now();
    let now = match &args.now {
        Some(t) => time("--now", t)?,
        None => clock,
    };
    let start = time("--start-time", &args.start_time)?;
    let end = match args.end_time.as_deref() {
        None | Some("") => now,
        Some(t) => time("--end-time", t)?,
    };
    if start > end {
        return Err(usage("--start-time must not be after --end-time".into()));
    }
    let allowance = parse_allowance(&args.delivery_allowance).ok_or_else(|| {
        usage(format!(
            "--delivery-allowance: not a duration: {}",
            args.delivery_allowance
        ))
    })?;
    if args.public_keys.is_empty() {
        return Err(usage(
            "--public-keys FILE is required: save CloudTrail's keys for each region once with\n  \
             aws cloudtrail list-public-keys --region REGION --start-time START --end-time END > keys-REGION.json"
                .into(),
        ));
    }
    let mut online = Online::new(&args.aws);
    // Buckets mapped elsewhere are audited under their original names.
    let mapped: Vec<String> = args
        .bucket_map
        .iter()
        .filter_map(|m| m.split_once('=').map(|(original, _)| original.to_string()))
        .collect();
    let (source, buckets) = match &args.local_dir {
        Some(dir) => {
            let mirror = LocalDir::new(dir).map_err(|e| {
                usage(format!(
                    "--local-dir {}: not a readable directory ({e})",
                    dir.display()
                ))
            })?;
            let present = mirror.buckets();
            let buckets = if args.s3_bucket.is_empty() {
                present.iter().chain(&mapped).cloned().collect::<Vec<_>>()
            } else {
                for b in args.s3_bucket.iter().filter(|b| !mapped.contains(b)) {
                    if !present.contains(b) {
                        return Err(usage(format!(
                            "--s3-bucket {b}: no such bucket directory under {}",
                            mirror.root().display()
                        )));
                    }
                }
                args.s3_bucket.clone()
            };
            let source = online.mapped(Arc::new(mirror), &args.bucket_map).map_err(usage)?;
            (source, buckets)
        }
        None => {
            let buckets: Vec<String> = args.s3_bucket.iter().chain(&mapped).cloned().collect();
            if buckets.is_empty() {
                return Err(usage(
                    "name the buckets to audit with --s3-bucket (S3 has no folders to discover them from), \
                     or audit a local copy with --local-dir"
                        .into(),
                ));
            }
            let s3 = online.s3().map_err(Failure::Fatal)?;
            let source = online.mapped(s3, &args.bucket_map).map_err(usage)?;
            (source, buckets)
        }
    };
    let mut buckets = buckets;
    buckets.sort();
    buckets.dedup();
    let mut keys = PublicKeySet::new();
    for f in &args.public_keys {
        keys.add_file(f).map_err(|e| Failure::Fatal(e.to_string()))?;
    }
    let split = |v: &str| {
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut filter = ChainFilter {
        accounts: args.account_id.clone(),
        regions: region.map(split).unwrap_or_default(),
        trail_names: args.trail_name.clone(),
        prefix: args.s3_prefix.clone(),
        organization_ids: args.organization_id.iter().cloned().collect(),
        ..ChainFilter::default()
    };
    if let Some(arn) = &args.trail_arn {
        let arn = TrailArn::parse(arn).map_err(|e| usage(e.to_string()))?;
        filter.trail_names.push(arn.trail_name);
        filter.home_regions.push(arn.home_region);
    }
    let bar = io::stderr().is_terminal().then(Bar::new);
    let mut audit = Audit::new(source.as_ref(), &keys, buckets, (start, end), now)
        .map_err(|e| usage(e.to_string()))?
        .delivery_allowance(allowance)
        .filter(filter);
    if let Some(bar) = &bar {
        audit = audit.progress(bar);
    }
    if let Some(jobs) = args.jobs {
        audit = audit.jobs(jobs.into());
    }
    let report = audit.run();
    if let Some(bar) = &bar {
        bar.clear();
    }
    let report = report.map_err(|e| Failure::Fatal(e.to_string()))?;
    write(&report, args).map_err(|e| Failure::Fatal(format!("cannot write output: {e}")))?;
    Ok(report.exit_code())
}

fn write(report: &AuditReport, args: &AuditArgs) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    match args.output {
        AuditOutput::Text => report.write_text(&mut out, args.verbose),
        AuditOutput::Json => report.write_json(&mut out),
        AuditOutput::Ndjson => report.write_ndjson(&mut out),
    }
}

/// `90`, `90m`, `2h`, `1h30m`, `45s`.
fn parse_allowance(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(minutes) = text.parse::<i64>() {
        return (minutes >= 0).then(|| Duration::minutes(minutes));
    }
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        total += match c {
            'h' => Duration::hours(n),
            'm' => Duration::minutes(n),
            's' => Duration::seconds(n),
            _ => return None,
        };
    }
    number.is_empty().then_some(total).filter(|_| !text.is_empty())
}

/// A one-line progress bar on stderr: files done, bytes, throughput, ETA.
struct Bar {
    started: Instant,
    planned: AtomicU64,
    done: AtomicU64,
    bytes: AtomicU64,
    drawn: Mutex<Option<Instant>>,
}

impl Bar {
    fn new() -> Self {
        Bar {
            started: Instant::now(),
            planned: AtomicU64::new(0),
            done: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            drawn: Mutex::new(None),
        }
    }

    fn draw(&self, force: bool) {
        let Ok(mut drawn) = self.drawn.lock() else { return };
        if !force && drawn.is_some_and(|t| t.elapsed() < StdDuration::from_millis(100)) {
            return;
        }
        *drawn = Some(Instant::now());
        let (done, planned) = (
            self.done.load(Ordering::Relaxed),
            self.planned.load(Ordering::Relaxed),
        );
        let bytes = self.bytes.load(Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let width = 24;
        let filled = (done * width).checked_div(planned).unwrap_or(0).min(width) as usize;
        let eta = if done == 0 || planned <= done {
            "--:--".to_string()
        } else {
            let left = secs / done as f64 * (planned - done) as f64;
            format!("{}:{:02}", left as u64 / 60, left as u64 % 60)
        };
        let _ = write!(
            io::stderr(),
            "\r\x1b[2K[{}{}] {done}/{planned} files  {}  {}/s  ETA {eta}",
            "=".repeat(filled),
            " ".repeat(width as usize - filled),
            size(bytes as f64),
            size(bytes as f64 / secs),
        );
    }

    fn clear(&self) {
        let _ = write!(io::stderr(), "\r\x1b[2K");
    }
}

fn size(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", units[i])
}

impl Progress for Bar {
    fn planned(&self, files: u64) {
        self.planned.fetch_add(files, Ordering::Relaxed);
        self.draw(true);
    }

    fn read(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    fn done(&self, files: u64) {
        self.done.fetch_add(files, Ordering::Relaxed);
        self.draw(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowances() {
        assert_eq!(parse_allowance("90"), Some(Duration::minutes(90)));
        assert_eq!(parse_allowance("90m"), Some(Duration::minutes(90)));
        assert_eq!(parse_allowance("1h30m"), Some(Duration::minutes(90)));
        assert_eq!(parse_allowance("2h"), Some(Duration::hours(2)));
        assert_eq!(parse_allowance(""), None);
        assert_eq!(parse_allowance("1x"), None);
        assert_eq!(parse_allowance("5h3"), None);
    }
}
