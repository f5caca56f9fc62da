//! What `audit`, `export` and `plan` look at, from the command line: the scope options
//! checked in order, and the source, keys, window and chain filter set up from them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use cloudtrail_digest::audit::Audit;
use cloudtrail_digest::ledger::LedgerScope;
use cloudtrail_digest::{ChainFilter, LocalDir, ObjectSource, PublicKeySet, TrailArn};

use crate::cli::AuditScope;
use crate::online::{s3_objects, s3_url, Online};
use crate::output::Stop;
use crate::progress::AuditProgress;
use crate::window::{self, Wording};

/// Everything an audit needs, from the command line: shared by `audit`, `export` and `plan`.
pub struct Prepared {
    source: Arc<dyn ObjectSource>,
    keys: PublicKeySet,
    buckets: Vec<String>,
    window: (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    allowance: Duration,
    filter: ChainFilter,
    jobs: Option<u16>,
}

impl Prepared {
    /// The audit, reporting to `progress`.
    pub fn audit<'a>(&'a self, progress: Option<&'a AuditProgress>) -> Result<Audit<'a>, Stop> {
        let mut audit = Audit::new(
            self.source.as_ref(),
            &self.keys,
            self.buckets.clone(),
            self.window,
            self.now,
        )
        .map_err(|e| Stop::Usage(e.to_string()))?
        .delivery_allowance(self.allowance)
        .filter(self.filter.clone());
        if let Some(progress) = progress {
            audit = audit.progress(progress);
        }
        if let Some(jobs) = self.jobs {
            audit = audit.jobs(jobs.into());
        }
        Ok(audit)
    }
}

impl Prepared {
    /// What a ledger of `audit` covers: the audit's own scope, and where it reads.
    pub fn ledger_scope(&self, audit: &Audit<'_>, args: &AuditScope) -> LedgerScope {
        crate::ledger::reading_from(
            audit.ledger_scope(),
            args.source.local_dir.is_some(),
            &args.source.map.bucket_map,
        )
    }
}

/// Checks the scope options in order and sets up the source and keys, online through
/// `online` (the run's one AWS session).
pub fn prepare(args: &AuditScope, region: Option<&str>, online: &mut Online) -> Result<Prepared, Stop> {
    let usage = Stop::Usage;
    let now = match &args.now {
        Some(t) => window::time("--now", t, Wording::Options).map_err(usage)?,
        None => Utc::now(),
    };
    let (start, end) = window::window(&args.window, now, Wording::Options).map_err(usage)?;
    let allowance = parse_allowance(&args.delivery_allowance).ok_or_else(|| {
        usage(format!(
            "--delivery-allowance: not a duration: {}",
            args.delivery_allowance
        ))
    })?;
    let (source, buckets, keys) = open(args, true, online)?;
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
    Ok(Prepared {
        source,
        keys,
        buckets,
        window: (start, end),
        now,
        allowance,
        filter,
        jobs: args.jobs(),
    })
}

/// Where an audit reads, the buckets it audits and the keys it checks with.
pub type Opened = (Arc<dyn ObjectSource>, Vec<String>, PublicKeySet);

/// The source and the keys of `args`, and the buckets to audit (`need_buckets`: S3 needs
/// them named; a unit names its own), online through `online`.
pub fn open(args: &AuditScope, need_buckets: bool, online: &mut Online) -> Result<Opened, Stop> {
    let usage = Stop::Usage;
    if args.keys.public_keys.is_empty() {
        return Err(usage(
            "--public-keys FILE is required: save CloudTrail's keys for each region once with\n  \
             aws cloudtrail list-public-keys --region REGION --start-time START --end-time END > keys-REGION.json"
                .into(),
        ));
    }
    // Buckets mapped elsewhere are audited under their original names.
    let mapped: Vec<String> = args
        .source
        .map
        .bucket_map
        .iter()
        .filter_map(|m| m.split_once('=').map(|(original, _)| original.to_string()))
        .collect();
    let (source, buckets) = match &args.source.local_dir {
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
            let source = online
                .mapped(Arc::new(mirror), &args.source.map.bucket_map)
                .map_err(usage)?;
            (source, buckets)
        }
        None => {
            let buckets: Vec<String> = args.s3_bucket.iter().chain(&mapped).cloned().collect();
            if buckets.is_empty() && need_buckets {
                return Err(usage(
                    "name the buckets to audit with --s3-bucket (S3 has no folders to discover them from), \
                     or audit a local copy with --local-dir"
                        .into(),
                ));
            }
            let s3 = online.s3().map_err(Stop::Fatal)?;
            let source = online.mapped(s3, &args.source.map.bucket_map).map_err(usage)?;
            (source, buckets)
        }
    };
    let mut buckets = buckets;
    buckets.sort();
    buckets.dedup();
    let mut keys = PublicKeySet::new();
    for f in &args.keys.public_keys {
        let given = f.to_string_lossy();
        let Some((bucket, prefix)) = s3_url(&given) else {
            keys.add_file(f).map_err(Stop::fatal)?;
            continue;
        };
        // In S3 (where a job array's containers find them): one key file, or every
        // object under a prefix, as merge reads its parts.
        let s3 = online.s3().map_err(Stop::Fatal)?;
        let unreadable = |e: cloudtrail_digest::SourceError| {
            Stop::Fatal(format!("--public-keys {given}: cannot be read ({e})"))
        };
        let objects = s3_objects(s3.as_ref(), bucket, prefix).map_err(unreadable)?;
        if objects.is_empty() {
            return Err(Stop::Fatal(format!("--public-keys {given}: no key files there")));
        }
        for key in objects {
            let object = s3.get(bucket, &key).map_err(unreadable)?;
            keys.add_json(&format!("s3://{bucket}/{key}"), &object.body)
                .map_err(Stop::fatal)?;
        }
    }
    Ok((source, buckets, keys))
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
