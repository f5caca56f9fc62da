//! Finding every digest chain in a set of buckets: `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/`
//! folders are walked through [`ObjectSource::list_folders`], and the digest keys of the
//! window's days are grouped by their [`ChainScope`] (standard and backfill apart).

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::keyname::{ChainScope, DigestKeyName};
use crate::source::{ObjectSource, SourceError};
use crate::Error;

/// How deep a key prefix before `AWSLogs/` is searched for.
const PREFIX_DEPTH: usize = 4;

/// Which chains to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainFilter {
    /// Accounts to keep (all when empty).
    pub accounts: Vec<String>,
    /// Source regions to keep (all when empty).
    pub regions: Vec<String>,
    /// Trail names to keep (all when empty).
    pub trail_names: Vec<String>,
    /// Home regions to keep (all when empty).
    pub home_regions: Vec<String>,
    /// Organization ids to keep (all when empty; chains outside an organization are
    /// dropped when it is not).
    pub organization_ids: Vec<String>,
    /// Only this key prefix (`None`: search for `AWSLogs/` up to four folders deep;
    /// `Some("")`: only `AWSLogs/` at the top of the bucket).
    pub prefix: Option<String>,
}

impl ChainFilter {
    fn keeps(list: &[String], value: &str) -> bool {
        list.is_empty() || list.iter().any(|v| v == value)
    }
}

/// One listed digest key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub bucket: String,
    pub key: String,
    pub name: DigestKeyName,
    /// The key's stamp: the digest's end time.
    pub end: DateTime<Utc>,
}

/// Reads a 16-character digest stamp `YYYYMMDDTHHMMSSZ`.
pub(crate) fn parse_stamp(stamp: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

/// Every day from `first` to `last`, inclusive.
pub(crate) fn days(first: DateTime<Utc>, last: DateTime<Utc>) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = first.date_naive();
    while d <= last.date_naive() {
        out.push(d);
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out
}

/// `[PREFIX/]` folders of `bucket` holding an `AWSLogs/` folder (each empty or ending in `/`).
fn awslogs_roots(
    source: &dyn ObjectSource,
    bucket: &str,
    filter: &ChainFilter,
) -> Result<Vec<String>, Error> {
    if let Some(p) = &filter.prefix {
        let p = p.trim_matches('/');
        return Ok(vec![if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        }]);
    }
    let mut found = Vec::new();
    let mut stack = vec![(String::new(), PREFIX_DEPTH)];
    while let Some((at, depth)) = stack.pop() {
        let folders = folder_names(source, bucket, &at)?;
        for f in folders.iter().rev() {
            if f == "AWSLogs" {
                found.push(at.clone());
            } else if depth > 1 {
                stack.push((format!("{at}{f}/"), depth - 1));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Names of the folders directly under `prefix` (without it and the trailing `/`).
fn folder_names(source: &dyn ObjectSource, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
    Ok(source
        .list_folders(bucket, prefix)?
        .into_iter()
        .filter_map(|f| {
            f.strip_prefix(prefix)
                .and_then(|n| n.strip_suffix('/'))
                .map(str::to_string)
        })
        .collect())
}

/// Every digest key of the window in `buckets`: stamps (end times) after `window.0`
/// and up to `window.1` + 1 hour, the last digest that can overlap the window.
pub(crate) fn discover(
    source: &dyn ObjectSource,
    buckets: &[String],
    filter: &ChainFilter,
    window: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<Listed>, Error> {
    let last = window.1 + Duration::hours(1);
    let mut out = Vec::new();
    for bucket in buckets {
        for root in awslogs_roots(source, bucket, filter)? {
            let awslogs = format!("{root}AWSLogs/");
            let mut accounts = Vec::new();
            for f in folder_names(source, bucket, &awslogs)? {
                if f.starts_with("o-") {
                    if !ChainFilter::keeps(&filter.organization_ids, &f) {
                        continue;
                    }
                    for a in folder_names(source, bucket, &format!("{awslogs}{f}/"))? {
                        accounts.push(format!("{f}/{a}"));
                    }
                } else if filter.organization_ids.is_empty() {
                    accounts.push(f);
                }
            }
            for account_path in accounts {
                let account = account_path.rsplit('/').next().unwrap_or_default();
                if !ChainFilter::keeps(&filter.accounts, account) {
                    continue;
                }
                let base = format!("{awslogs}{account_path}/CloudTrail-Digest/");
                for region in folder_names(source, bucket, &base)? {
                    if !ChainFilter::keeps(&filter.regions, &region) {
                        continue;
                    }
                    for day in days(window.0, last) {
                        let folder = format!("{base}{region}/{}/", day.format("%Y/%m/%d"));
                        for key in source.list(bucket, &folder, "")? {
                            let Some(name) = DigestKeyName::parse(&key) else {
                                continue;
                            };
                            if name.scope.source_region != region
                                || !ChainFilter::keeps(&filter.trail_names, &name.scope.trail_name)
                                || !ChainFilter::keeps(&filter.home_regions, &name.scope.home_region)
                            {
                                continue;
                            }
                            let Some(end) = parse_stamp(&name.stamp) else {
                                continue;
                            };
                            if end <= window.0 || end > last {
                                continue;
                            }
                            out.push(Listed {
                                bucket: bucket.clone(),
                                key,
                                name,
                                end,
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A short, unique name for a chain: `[PREFIX:][ORG/]ACCOUNT/SOURCE_REGION/TRAIL@HOME_REGION[/backfill]`.
pub fn chain_label(scope: &ChainScope, backfill: bool) -> String {
    let mut s = String::new();
    if let Some(p) = scope.prefix.as_deref().filter(|p| !p.is_empty()) {
        s += p;
        s.push(':');
    }
    if let Some(o) = &scope.organization_id {
        s += o;
        s.push('/');
    }
    s += &format!(
        "{}/{}/{}@{}",
        scope.account_id, scope.source_region, scope.trail_name, scope.home_region
    );
    if backfill {
        s += "/backfill";
    }
    s
}
