//! A split audit of a generated organisation: trees of growing size (accounts x regions
//! x hours), each audited once whole and once as a plan, every unit and a merge, with
//! peak memory of each; time against the number of shards run side by side as local
//! processes; and the requests (object-store calls) per verified object of a whole run
//! and of a split one.
//!
//! cargo bench -p cloudtrail-digest-benches --bench split -- [--accounts 16] [--regions 3]
//!     [--hours 72] [--logs 6] [--records 20] [--unit-hours 24] [--shards 1,2,4]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use cloudtrail_digest::audit::{read_unit, Audit, Finding, Status};
use cloudtrail_digest::{parse_utc, LocalDir, Object, ObjectSource, PublicKeySet, SourceError};
use cloudtrail_digest_benches::{files_under, measure, repo, Measured};
use testgen::{Count, KeyRing, TrailSpec};

const REGIONS: [&str; 5] = [
    "us-east-1",
    "eu-west-1",
    "ap-southeast-2",
    "us-west-2",
    "eu-central-1",
];
const BUCKET: &str = "ctd-bench-org-bucket";

struct Options {
    accounts: u32,
    regions: usize,
    hours: u32,
    logs: u32,
    records: u32,
    unit_hours: u32,
    shards: Vec<usize>,
}

fn options() -> Options {
    let get = cloudtrail_digest_benches::option;
    let number = |name: &str, default: u32| get(name).map_or(default, |v| v.parse().expect(name));
    Options {
        accounts: number("--accounts", 16).max(1),
        regions: (number("--regions", 3) as usize).clamp(1, REGIONS.len()),
        hours: number("--hours", 72).max(2),
        logs: number("--logs", 6),
        records: number("--records", 20).max(1),
        unit_hours: number("--unit-hours", 24).max(1),
        shards: get("--shards")
            .unwrap_or_else(|| "1,2,4".into())
            .split(',')
            .map(|n| n.parse().expect("--shards N,N,..."))
            .collect(),
    }
}

/// The window and "now" of every tree: the trail's hours, and a day after.
fn window(hours: u32) -> [String; 3] {
    let start = parse_utc("2026-03-01T00:00:00Z").unwrap();
    let end = start + chrono::Duration::hours(i64::from(hours));
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    [at(start), at(end), at(end + chrono::Duration::days(1))]
}

/// Writes (once) an organisation's tree: `accounts` accounts, each a trail delivering
/// from `regions` regions for `hours` hours, `logs` logs of `records` records an hour.
fn generate(o: &Options, accounts: u32) -> PathBuf {
    let name = format!(
        "org-{accounts}a-{}r-{}h-{}l-{}rec",
        o.regions, o.hours, o.logs, o.records
    );
    let root = repo().join("target/bench-data").join(name);
    if root.join("complete").exists() {
        return root;
    }
    let _ = std::fs::remove_dir_all(&root);
    let keys = KeyRing::test_keys();
    let t = Instant::now();
    let (mut logs, mut digests) = (0, 0);
    for a in 0..accounts {
        let account = format!("{:012}", 100_000_000_000u64 + u64::from(a));
        let mut spec = TrailSpec::new(
            &account,
            "org-trail",
            BUCKET,
            testgen::times::utc(2026, 3, 1, 0, 17, 42),
        );
        spec.regions = REGIONS[..o.regions].iter().map(|r| r.to_string()).collect();
        spec.hours = o.hours;
        spec.logs_per_hour = Count::Fixed(o.logs);
        spec.records_per_log = Count::Fixed(o.records);
        let stats = spec
            .plan()
            .write_streaming(&keys, &root.join("mirror"))
            .expect("write trail");
        logs += stats.logs;
        digests += stats.digests;
    }
    let entries = [testgen::PublicKeyEntry::thirty_days(
        testgen::KeyId::One,
        testgen::times::utc(2026, 2, 20, 0, 0, 0),
    )];
    let pk = testgen::render_public_keys(&keys, &entries, testgen::PublicKeysShape::V1);
    std::fs::write(root.join("public-keys.json"), pk).unwrap();
    std::fs::write(root.join("complete"), b"").unwrap();
    println!(
        "generated {accounts} accounts: {digests} digests, {logs} logs in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    root
}

fn mib(m: &Measured) -> f64 {
    m.max_rss_kib as f64 / 1024.0
}

fn tool(binary: &Path, root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .arg("--local-dir")
        .arg(root.join("mirror"))
        .arg("--public-keys")
        .arg(root.join("public-keys.json"));
    cmd
}

fn scoped(binary: &Path, root: &Path, command: &str, w: &[String; 3], extra: &[&str]) -> Command {
    let mut cmd = tool(binary, root, &[command]);
    cmd.args(["--start-time", &w[0], "--end-time", &w[1], "--now", &w[2]])
        .args(extra);
    cmd
}

fn ok(what: &str, m: &Measured) {
    assert!(
        matches!(m.status.code(), Some(0 | 1 | 3)),
        "{what}: {:?}\n{}",
        m.status,
        String::from_utf8_lossy(&m.output.stderr)
    );
}

/// An object store that counts the calls made of it as S3 requests: one per object
/// read, size asked or listing page of up to 1,000 keys.
struct Counting<'a> {
    inner: &'a dyn ObjectSource,
    requests: AtomicU64,
}

impl Counting<'_> {
    fn pages(&self, n: usize) {
        self.requests
            .fetch_add((n as u64).div_ceil(1000).max(1), Ordering::Relaxed);
    }
}

impl ObjectSource for Counting<'_> {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        let keys = self.inner.list_until(bucket, prefix, start_after, stop)?;
        self.pages(keys.len());
        Ok(keys)
    }
    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        let keys = self.inner.list(bucket, prefix, start_after)?;
        self.pages(keys.len());
        Ok(keys)
    }
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.get(bucket, key)
    }
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.open(bucket, key)
    }
    fn open_range(
        &self,
        bucket: &str,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.open_range(bucket, key, range)
    }
    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.inner.size(bucket, key)
    }
    /// Listings are counted as S3 answers them, a request a page, so they are made as
    /// in S3 too.
    fn listing_is_paged(&self, _bucket: &str) -> bool {
        true
    }
    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let folders = self.inner.list_folders(bucket, prefix)?;
        self.pages(folders.len());
        Ok(folders)
    }
}

/// Requests per verified object (valid digests and logs) of one whole run and of a
/// split run (the plan and every unit), through the library.
fn requests(root: &Path, w: &[String; 3], unit_hours: u32) -> (f64, f64, usize) {
    let mirror = LocalDir::new(root.join("mirror")).unwrap();
    let mut keys = PublicKeySet::new();
    keys.add_file(&root.join("public-keys.json")).unwrap();
    let t = |s: &str| parse_utc(s).unwrap();
    let counting = Counting {
        inner: &mirror,
        requests: AtomicU64::new(0),
    };
    let audit = Audit::new(&counting, &keys, mirror.buckets(), (t(&w[0]), t(&w[1])), t(&w[2])).unwrap();
    let report = audit.run().unwrap();
    let verified = report
        .findings
        .iter()
        .filter(|f| matches!(f, Finding::Digest { .. } | Finding::Log { .. }) && f.status() == Status::Valid)
        .count();
    let whole = counting.requests.swap(0, Ordering::Relaxed);
    let plan = audit.plan(unit_hours).unwrap();
    for unit in &plan {
        read_unit(&counting, &keys, unit, 2, None).unwrap();
    }
    let split = counting.requests.load(Ordering::Relaxed);
    (
        whole as f64 / verified as f64,
        split as f64 / verified as f64,
        verified,
    )
}

fn main() {
    cloudtrail_digest_benches::spawner_mode();
    let o = options();
    let binary = cloudtrail_digest_benches::release_binary();
    let w = window(o.hours);
    let unit_hours = o.unit_hours.to_string();
    let mut sizes: Vec<u32> = [o.accounts / 4, o.accounts / 2, o.accounts]
        .into_iter()
        .filter(|a| *a > 0)
        .collect();
    sizes.dedup();

    println!(
        "trees: {:?} accounts x {} regions x {} hours, {} logs of {} records an hour; units of {} hours",
        sizes, o.regions, o.hours, o.logs, o.records, o.unit_hours
    );
    println!();
    println!("| accounts | objects | audit s | audit MiB | units | largest unit MiB | parts MB | merge s | merge MiB | same report |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut largest = PathBuf::new();
    for accounts in &sizes {
        let root = generate(&o, *accounts);
        largest = root.clone();
        let objects = files_under(&root.join("mirror"), ".json.gz").len();
        let audit = measure(scoped(&binary, &root, "audit", &w, &["--output", "ndjson"])).unwrap();
        ok("audit", &audit);
        let plan = measure(scoped(&binary, &root, "plan", &w, &["--unit-hours", &unit_hours])).unwrap();
        ok("plan", &plan);
        let lines: Vec<String> = String::from_utf8(plan.output.stdout.clone())
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let parts = root.join("parts");
        let _ = std::fs::remove_dir_all(&parts);
        std::fs::create_dir_all(&parts).unwrap();
        let mut unit_rss = 0.0f64;
        for line in &lines {
            let out = format!("{}/", parts.display());
            let m = measure(tool(&binary, &root, &["audit", "--unit", line, "--out", &out])).unwrap();
            ok("unit", &m);
            unit_rss = unit_rss.max(mib(&m));
        }
        let part_bytes: u64 = files_under(&parts, ".jsonl")
            .iter()
            .map(|p| p.metadata().unwrap().len())
            .sum();
        let mut merge = Command::new(&binary);
        merge.arg("merge").arg(&parts).args(["--output", "ndjson"]);
        let merged = measure(merge).unwrap();
        ok("merge", &merged);
        let same = merged.output.stdout == audit.output.stdout && merged.status.code() == audit.status.code();
        println!(
            "| {accounts} | {objects} | {:.2} | {:.1} | {} | {:.1} | {:.1} | {:.2} | {:.1} | {} |",
            audit.elapsed.as_secs_f64(),
            mib(&audit),
            lines.len(),
            unit_rss,
            part_bytes as f64 / 1e6,
            merged.elapsed.as_secs_f64(),
            mib(&merged),
            if same { "yes" } else { "NO" }
        );
        assert!(same, "the merged report differs from the single run's");
    }

    // Shards side by side on the largest tree.
    println!();
    let root = largest;
    let plan = measure(scoped(&binary, &root, "plan", &w, &["--unit-hours", &unit_hours])).unwrap();
    let plan_file = root.join("plan.jsonl");
    std::fs::write(&plan_file, &plan.output.stdout).unwrap();
    let single = measure(scoped(&binary, &root, "audit", &w, &["--output", "ndjson"])).unwrap();
    println!(
        "shards side by side on the largest tree ({} cores; each shard reads with the default jobs):",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!("| shards | shards' wall s | + merge s | time / single audit |");
    println!("| --- | --- | --- | --- |");
    let mut times: BTreeMap<usize, f64> = BTreeMap::new();
    for n in &o.shards {
        let parts = root.join(format!("parts-{n}"));
        let _ = std::fs::remove_dir_all(&parts);
        std::fs::create_dir_all(&parts).unwrap();
        let start = Instant::now();
        let children: Vec<_> = (0..*n)
            .map(|i| {
                let (plan, shard, out) = (
                    plan_file.display().to_string(),
                    format!("{i}/{n}"),
                    format!("{}/", parts.display()),
                );
                let mut cmd = tool(
                    &binary,
                    &root,
                    &["audit", "--plan", &plan, "--shard", &shard, "--out", &out],
                );
                cmd.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                cmd.spawn().unwrap()
            })
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        let shards = start.elapsed().as_secs_f64();
        let mut merge = Command::new(&binary);
        merge.arg("merge").arg(&parts).args(["--output", "ndjson"]);
        let merged = measure(merge).unwrap();
        assert_eq!(merged.output.stdout, single.output.stdout, "{n} shards");
        let total = shards + merged.elapsed.as_secs_f64();
        times.insert(*n, total);
        println!(
            "| {n} | {shards:.2} | {total:.2} | {:.2} |",
            total / single.elapsed.as_secs_f64()
        );
    }
    println!("single audit: {:.2} s", single.elapsed.as_secs_f64());

    let (whole, split, verified) = requests(&root, &w, o.unit_hours);
    println!();
    println!(
        "requests per verified object ({verified} verified): whole run {whole:.3}, split in units of {} hours {split:.3} ({:+.1}%)",
        o.unit_hours,
        (split / whole - 1.0) * 100.0
    );
}
