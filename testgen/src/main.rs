//! `testgen`: writes the scenario trees, the sample trail, or a custom trail.
//!
//! ```text
//! testgen scenarios [--out DIR] [--only NAME[,NAME...]]
//! testgen sample [--out DIR]
//! testgen audit-scenarios [--out DIR] [--only NAME[,NAME...]]
//! testgen query-results [--out DIR]
//! testgen trail --out DIR [--hours H] [--logs-per-hour N|MIN-MAX]
//!               [--records-per-log M|MIN-MAX] [--regions R1,R2] [--start TIME]
//!               [--account ID] [--trail-name NAME] [--home-region R] [--bucket B]
//!               [--prefix P] [--org-id O] [--seed S] [--gzip-level L]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use testgen::scenarios::{self, key1_covering, trail_start, ACCOUNT, HOME, TRAIL_NAME};
use testgen::{times, Count, KeyRing, TrailSpec};

const USAGE: &str = "\
usage:
  testgen scenarios [--out DIR] [--only NAME[,NAME...]]
      regenerate testdata/scenarios/NAME/{mirror/,public-keys.json,scenario.json}
  testgen sample [--out DIR]
      regenerate testdata/sample/{mirror/,public-keys.json,README.md}
  testgen audit-scenarios [--out DIR] [--only NAME[,NAME...]]
      regenerate testdata/audit/NAME/{mirror/,public-keys.json,audit.json}
  testgen query-results [--out DIR]
      regenerate testdata/query-results/CASE/{export/,public-keys.json,expected-*}
  testgen trail --out DIR [options]
      write DIR/mirror/ and DIR/public-keys.json for a custom trail:
        --hours H                   hourly digests per region (default 24)
        --logs-per-hour N|MIN-MAX   logs per region and hour (default 0-4)
        --records-per-log M|MIN-MAX records per log (default 3-30)
        --regions R1,R2,...         source regions (default: the home region)
        --start TIME                first digestStartTime (default 2026-03-01T00:17:42Z)
        --account ID                account (default 111122223333)
        --trail-name NAME           trail name (default test-trail)
        --home-region R             home region (default us-east-1)
        --bucket B                  bucket (default ctd-trail-bucket)
        --prefix P                  S3 key prefix (default none)
        --org-id O                  organization id (default none)
        --seed S                    seed (default derived from the names)
        --gzip-level L              deflate level 0-9 (default 6)
";

/// `rel` inside the workspace root (the parent of this crate's directory).
fn workspace_path(rel: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).join(rel)
}

/// Splits `--name value` pairs; every option takes a value.
fn parse_options(args: &[String], allowed: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let name = a
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument {a:?}"))?;
        let (name, value) = match name.split_once('=') {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => {
                let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                (name.to_string(), v.clone())
            }
        };
        if !allowed.contains(&name.as_str()) {
            return Err(format!("unknown option --{name}"));
        }
        out.insert(name, value);
    }
    Ok(out)
}

fn run(args: &[String]) -> Result<(), String> {
    let Some(cmd) = args.first() else {
        return Err("missing command".into());
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "scenarios" => {
            let o = parse_options(rest, &["out", "only"])?;
            let out = o
                .get("out")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_path("testdata/scenarios"));
            let only: Vec<String> = o
                .get("only")
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            let t = Instant::now();
            let written = scenarios::write_all(&out, &only).map_err(|e| e.to_string())?;
            eprintln!(
                "wrote {} scenarios under {} in {:.1}s",
                written.len(),
                out.display(),
                t.elapsed().as_secs_f64()
            );
            Ok(())
        }
        "query-results" => {
            let o = parse_options(rest, &["out"])?;
            let out = o
                .get("out")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_path("testdata/query-results"));
            testgen::query_results::write_all(&out).map_err(|e| e.to_string())?;
            eprintln!("wrote the query-results cases under {}", out.display());
            Ok(())
        }
        "sample" => {
            let o = parse_options(rest, &["out"])?;
            let out = o
                .get("out")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_path("testdata/sample"));
            scenarios::write_sample(&out).map_err(|e| e.to_string())?;
            eprintln!("wrote the sample under {}", out.display());
            eprintln!("{}", scenarios::sample_command());
            Ok(())
        }
        "audit-scenarios" => {
            let o = parse_options(rest, &["out", "only"])?;
            let out = o
                .get("out")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_path("testdata/audit"));
            let only: Vec<String> = o
                .get("only")
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            let written = testgen::audit_scenarios::write_all(&out, &only).map_err(|e| e.to_string())?;
            eprintln!("wrote {} audit trees under {}", written.len(), out.display());
            Ok(())
        }
        "trail" => custom_trail(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}")),
    }
}

fn custom_trail(rest: &[String]) -> Result<(), String> {
    let o = parse_options(
        rest,
        &[
            "out",
            "hours",
            "logs-per-hour",
            "records-per-log",
            "regions",
            "start",
            "account",
            "trail-name",
            "home-region",
            "bucket",
            "prefix",
            "org-id",
            "seed",
            "gzip-level",
        ],
    )?;
    let out = PathBuf::from(o.get("out").ok_or("trail needs --out DIR")?);
    let get = |k: &str, d: &str| o.get(k).cloned().unwrap_or_else(|| d.to_string());
    let start = match o.get("start") {
        Some(s) => times::parse(s)?,
        None => trail_start(),
    };
    let mut spec = TrailSpec::new(
        &get("account", ACCOUNT),
        &get("trail-name", TRAIL_NAME),
        &get("bucket", "ctd-trail-bucket"),
        start,
    );
    spec.home_region = get("home-region", HOME);
    spec.regions = match o.get("regions") {
        Some(r) => r.split(',').map(str::to_string).collect(),
        None => vec![spec.home_region.clone()],
    };
    spec.hours = get("hours", "24")
        .parse()
        .map_err(|_| "bad --hours".to_string())?;
    spec.logs_per_hour = Count::parse(&get("logs-per-hour", "0-4"))?;
    spec.records_per_log = Count::parse(&get("records-per-log", "3-30"))?;
    spec.prefix = o.get("prefix").cloned();
    spec.org_id = o.get("org-id").cloned();
    if let Some(seed) = o.get("seed") {
        spec.seed = seed.parse().map_err(|_| "bad --seed".to_string())?;
    }
    spec.gzip_level = get("gzip-level", "6")
        .parse()
        .ok()
        .filter(|l| *l <= 9)
        .ok_or("bad --gzip-level")?;

    let keys = KeyRing::test_keys();
    let plan = spec.plan();
    let (first, last) = plan.time_span().ok_or("no digests (--hours 0?)")?;
    let mirror = out.join("mirror");
    if mirror.exists() {
        std::fs::remove_dir_all(&mirror).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(&mirror).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let stats = plan.write_streaming(&keys, &mirror).map_err(|e| e.to_string())?;
    std::fs::write(out.join("public-keys.json"), key1_covering(&keys, first, last))
        .map_err(|e| e.to_string())?;
    eprintln!(
        "wrote {} digests, {} logs ({} records), {} bytes in {:.1}s",
        stats.digests,
        stats.logs,
        stats.records,
        stats.bytes,
        t.elapsed().as_secs_f64()
    );
    let window_start = first
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    let window_end = last + chrono::Duration::hours(1);
    let mut cmd = format!(
        "cloudtrail-digest validate-logs --local-dir {} --public-keys {} --trail-arn arn:aws:cloudtrail:{}:{}:trail/{} --s3-bucket {} --start-time {} --end-time {}",
        mirror.display(),
        out.join("public-keys.json").display(),
        spec.home_region,
        spec.account,
        spec.trail_name,
        spec.bucket,
        times::iso(window_start),
        times::iso(window_end),
    );
    if spec.org_id.is_some() {
        cmd.push_str(&format!(" --account-id {}", spec.account));
    }
    if let Some(p) = &spec.prefix {
        cmd.push_str(&format!(" --s3-prefix {p}"));
    }
    println!("{cmd}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("testgen: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
