//! Every digest of a window in a set of buckets, for the audit: the trails' region folders
//! found through the layout, and the digest keys of the window's day folders, named by
//! their [`ChainScope`].

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::error::Error;
use crate::layout::{account_folders, awslogs_roots, folder_names, DigestKeyName};
use crate::source::ObjectSource;

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

/// The date folders `REGION_FOLDER/YYYY/MM/DD/` of every day from `first` to `last`,
/// inclusive.
pub(crate) fn day_folders(region_folder: &str, first: NaiveDate, last: NaiveDate) -> Vec<String> {
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| format!("{region_folder}{}/", d.format("%Y/%m/%d")))
        .collect()
}

/// The stamps (end times) of the digests a window reads: after its start, up to an hour
/// past its end (the last digest that can overlap the window).
pub(crate) fn stamps_of(window: (DateTime<Utc>, DateTime<Utc>)) -> (DateTime<Utc>, DateTime<Utc>) {
    (window.0, window.1 + Duration::hours(1))
}

/// One day folder of digests to list: `REGION_FOLDER/YYYY/MM/DD/` of a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DigestFolder {
    pub bucket: String,
    /// The source region whose folder it is.
    region: String,
    pub folder: String,
}

impl DigestFolder {
    /// The digests of `keys` (this folder's listing) that the filter keeps and whose
    /// stamps lie after `stamps.0` and up to `stamps.1`.
    pub fn digests(
        &self,
        keys: Vec<String>,
        filter: &ChainFilter,
        stamps: (DateTime<Utc>, DateTime<Utc>),
    ) -> Vec<Listed> {
        let (after, last) = stamps;
        let mut out = Vec::new();
        for key in keys {
            let Some(name) = DigestKeyName::parse(&key) else {
                continue;
            };
            if name.scope.source_region != self.region
                || !ChainFilter::keeps(&filter.trail_names, &name.scope.trail_name)
                || !ChainFilter::keeps(&filter.home_regions, &name.scope.home_region)
            {
                continue;
            }
            let Some(end) = parse_stamp(&name.stamp) else {
                continue;
            };
            if end <= after || end > last {
                continue;
            }
            out.push(Listed {
                bucket: self.bucket.clone(),
                key,
                name,
                end,
            });
        }
        out
    }
}

/// The digest day folders of every chain of `buckets` that the filter keeps, for the
/// days `stamps` (after `stamps.0`, up to `stamps.1`) fall in: found through the
/// layout, not yet listed.
pub(crate) fn digest_folders(
    source: &dyn ObjectSource,
    buckets: &[String],
    filter: &ChainFilter,
    stamps: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<DigestFolder>, Error> {
    let (after, last) = stamps;
    let mut out = Vec::new();
    for bucket in buckets {
        for root in awslogs_roots(source, bucket, filter.prefix.as_deref())? {
            let awslogs = format!("{root}AWSLogs/");
            let keep_org = |org: &str| ChainFilter::keeps(&filter.organization_ids, org);
            let plain = filter.organization_ids.is_empty();
            for account in account_folders(source, bucket, &awslogs, &keep_org, plain)? {
                if !ChainFilter::keeps(&filter.accounts, &account.account_id) {
                    continue;
                }
                let base = format!("{}CloudTrail-Digest/", account.path);
                for region in folder_names(source, bucket, &base)? {
                    if !ChainFilter::keeps(&filter.regions, &region) {
                        continue;
                    }
                    for folder in
                        day_folders(&format!("{base}{region}/"), after.date_naive(), last.date_naive())
                    {
                        out.push(DigestFolder {
                            bucket: bucket.clone(),
                            region: region.clone(),
                            folder,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

/// Every digest key in `buckets` whose stamp lies after `stamps.0` and up to `stamps.1`,
/// read from the day folders those stamps fall in, one folder after another.
pub(crate) fn digests_between(
    source: &dyn ObjectSource,
    buckets: &[String],
    filter: &ChainFilter,
    stamps: (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<Listed>, Error> {
    let mut out = Vec::new();
    for folder in digest_folders(source, buckets, filter, stamps)? {
        let keys = source.list(&folder.bucket, &folder.folder, "")?;
        out.extend(folder.digests(keys, filter, stamps));
    }
    Ok(out)
}
