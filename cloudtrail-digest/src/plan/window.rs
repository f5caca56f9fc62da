//! Every digest of a window in a set of buckets, for the audit: the trails' region folders
//! found through the layout, and the digest keys of the window's day folders, named by
//! their [`ChainScope`].

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::error::Error;
use crate::fetch::pool;
use crate::layout::{
    account_folders, awslogs_roots, folder_names, AccountFolder, DigestKeyName, LISTINGS_AT_ONCE,
};
use crate::source::{ObjectSource, SourceError};

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
    /// The region folder this day folder is in (the folder without `YYYY/MM/DD/`).
    fn region_folder(&self) -> &str {
        &self.folder[..self.folder.len() - "YYYY/MM/DD/".len()]
    }

    /// The log folder of the chains whose digests this folder holds
    /// (`[P/]AWSLogs/[ORG/]ACCOUNT/CloudTrail/REGION/`).
    pub fn log_folder(&self) -> Option<String> {
        let account = &self.folder[..self.folder.rfind("/CloudTrail-Digest/")? + 1];
        Some(format!("{account}CloudTrail/{}/", self.region))
    }

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
    let keep_org = |org: &str| ChainFilter::keeps(&filter.organization_ids, org);
    let plain = filter.organization_ids.is_empty();
    // Each stage's folders listed side by side: a listing waits on the store, and an
    // organization's bucket holds many accounts.
    let found = pool::map(buckets, LISTINGS_AT_ONCE, |bucket| {
        accounts_in(source, bucket, filter.prefix.as_deref(), &keep_org, plain)
    });
    let mut bases = Vec::new();
    for (bucket, accounts) in buckets.iter().zip(found) {
        for account in accounts? {
            if ChainFilter::keeps(&filter.accounts, &account.account_id) {
                bases.push((bucket, format!("{}CloudTrail-Digest/", account.path)));
            }
        }
    }
    let regions = pool::map(&bases, LISTINGS_AT_ONCE, |(bucket, base)| {
        folder_names(source, bucket, base)
    });
    let mut out = Vec::new();
    for ((bucket, base), found) in bases.iter().zip(regions) {
        for region in found? {
            if !ChainFilter::keeps(&filter.regions, &region) {
                continue;
            }
            for folder in day_folders(&format!("{base}{region}/"), after.date_naive(), last.date_naive()) {
                out.push(DigestFolder {
                    bucket: bucket.to_string(),
                    region: region.clone(),
                    folder,
                });
            }
        }
    }
    Ok(out)
}

/// The most day folders one listing covers: a month of one trail's hourly digests (744)
/// is one page of 1,000 keys, and the months of a longer window are listed side by side
/// (a bucket that several trails write to needs more pages a month, one after another).
const DAYS_A_LISTING: usize = 31;

/// The keys of each of `folders`, in their order, as a full listing of each gives them.
/// `shared` is told of each folder whose keys came from a listing of its region folder
/// (where that listing covered the folder whole).
///
/// Where a listing costs a request a page (S3), the day folders of one region folder
/// are listed together, [`DAYS_A_LISTING`] at a time, from the first day to the last:
/// one request for a month of one trail's hourly digests, where a request a day made 31.
/// Anything else lists each day folder alone: a local copy would walk every day its
/// region folder holds.
pub(crate) fn list_digest_folders(
    source: &dyn ObjectSource,
    folders: &[DigestFolder],
    jobs: usize,
    shared: &(dyn Fn(&DigestFolder, &[String]) + Sync),
) -> Result<Vec<Vec<String>>, SourceError> {
    // The folders of each region folder, in order; `day_folders` made them consecutive.
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for (i, f) in folders.iter().enumerate() {
        match runs.last_mut() {
            Some(run)
                if run.len() < DAYS_A_LISTING
                    && folders[run[0]].bucket == f.bucket
                    && folders[run[0]].region_folder() == f.region_folder()
                    && source.listing_is_paged(&f.bucket) =>
            {
                run.push(i)
            }
            _ => runs.push(vec![i]),
        }
    }
    let listed = pool::map(&runs, jobs, |run| {
        let first = &folders[run[0]];
        if run.len() == 1 {
            return Ok(vec![source.list(&first.bucket, &first.folder, "")?]);
        }
        let last = &folders[run[run.len() - 1]].folder;
        // Every key of a day folder sorts after the folder's own name, and every key
        // past the last one neither starts with it nor sorts before it.
        let keys = source.list_until(&first.bucket, first.region_folder(), &first.folder, &|k| {
            k > last.as_str() && !k.starts_with(last.as_str())
        })?;
        Ok(run
            .iter()
            .map(|&i| {
                let f = &folders[i];
                let mine: Vec<String> = keys
                    .iter()
                    .filter(|k| k.starts_with(&f.folder))
                    .cloned()
                    .collect();
                shared(f, &mine);
                mine
            })
            .collect())
    });
    let mut out = Vec::with_capacity(folders.len());
    for keys in listed {
        out.extend(keys?);
    }
    Ok(out)
}

/// Every account folder of `bucket`, under each `[PREFIX/]AWSLogs/` folder
/// ([`awslogs_roots`]), in root order. With no prefix given, the accounts of `AWSLogs/`
/// at the top of the bucket (where a trail writes by default) are listed while the
/// bucket is searched: one listing wasted when there is none, one wait saved when there
/// is.
fn accounts_in(
    source: &dyn ObjectSource,
    bucket: &str,
    prefix: Option<&str>,
    keep_org: &(dyn Fn(&str) -> bool + Sync),
    plain: bool,
) -> Result<Vec<AccountFolder>, Error> {
    let (roots, top) = std::thread::scope(|s| {
        let top = prefix
            .is_none()
            .then(|| s.spawn(|| account_folders(source, bucket, "AWSLogs/", keep_org, plain)));
        let roots = awslogs_roots(source, bucket, prefix);
        let top = top.map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (roots, top)
    });
    let roots = roots?;
    // The top of the bucket (root "") sorts first; its accounts are listed already.
    let (top, rest) = match (top, roots.split_first()) {
        (Some(top), Some((first, rest))) if first.is_empty() => (Some(top), rest),
        _ => (None, &roots[..]),
    };
    let listed = pool::map(rest, LISTINGS_AT_ONCE, |root| {
        account_folders(source, bucket, &format!("{root}AWSLogs/"), keep_org, plain)
    });
    let mut out = Vec::new();
    for accounts in top.into_iter().chain(listed) {
        out.extend(accounts?);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::recorder::Watching;
    use crate::source::MemorySource;

    fn digest(at: &str, account: &str, region: &str) -> String {
        format!(
            "{at}{account}/CloudTrail-Digest/{region}/2026/03/01/{account}_CloudTrail-Digest_{region}_t_us-east-1_20260301T010000Z.json.gz"
        )
    }

    /// A paged store's day folders are listed a region folder and up to 31 days at a
    /// time, and each folder gets exactly the keys a listing of it alone gives: not those
    /// of the days around it, nor of a folder whose name only starts like it.
    #[test]
    fn a_paged_stores_day_folders_are_listed_a_month_at_a_time_with_the_same_keys() {
        let store = MemorySource::new();
        store.create_bucket("b");
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let last = NaiveDate::from_ymd_opt(2026, 3, 11).unwrap(); // 70 days
        let mut folders = Vec::new();
        for region in ["eu-west-1", "us-east-1"] {
            let region_folder = format!("AWSLogs/1/CloudTrail-Digest/{region}/");
            // Days just outside the window, and a name that only starts like a day's.
            for day in day_folders(
                &region_folder,
                first.pred_opt().unwrap(),
                last.succ_opt().unwrap(),
            ) {
                store.put("b", &format!("{day}d.json.gz"), b"x".to_vec()).unwrap();
                store.put("b", &format!("{day}e.json.gz"), b"x".to_vec()).unwrap();
            }
            store
                .put("b", &format!("{region_folder}2026/01/011/x"), b"x".to_vec())
                .unwrap();
            for folder in day_folders(&region_folder, first, last) {
                folders.push(DigestFolder {
                    bucket: "b".into(),
                    region: region.into(),
                    folder,
                });
            }
        }
        let paged = Watching::new(&store, std::time::Duration::ZERO).paging();
        let listed = list_digest_folders(&paged, &folders, 4, &|_, _| {}).unwrap();
        let alone: Vec<Vec<String>> = folders
            .iter()
            .map(|f| store.list("b", &f.folder, "").unwrap())
            .collect();
        assert_eq!(listed, alone);
        assert!(alone.iter().all(|keys| keys.len() == 2));
        // 31 + 31 + 8 days for each of the two regions.
        assert_eq!(paged.take().len(), 6);
        // A store that walks folders lists each alone.
        let walking = Watching::new(&store, std::time::Duration::ZERO);
        assert_eq!(
            list_digest_folders(&walking, &folders, 4, &|_, _| {}).unwrap(),
            alone
        );
        assert_eq!(walking.take().len(), folders.len());
    }

    /// Discovery lists the folders of each stage side by side (prefixes, the
    /// organization's accounts, their regions) and finds what a walk one folder at a
    /// time finds, in the same order; with no prefix given, the accounts of `AWSLogs/`
    /// at the top are listed while the bucket is searched, and are not listed again.
    #[test]
    fn discovery_lists_each_stage_side_by_side_and_finds_every_folder_in_order() {
        let store = MemorySource::new();
        store.create_bucket("b");
        let mut keys = vec![
            digest("AWSLogs/", "111111111111", "us-east-1"),
            digest("AWSLogs/", "111111111111", "eu-west-1"),
            digest("p/q/AWSLogs/", "222222222222", "us-east-1"),
            "p/other/x.json".to_string(),
        ];
        for account in ["333333333333", "444444444444", "555555555555"] {
            keys.push(digest("AWSLogs/o-abc/", account, "us-east-1"));
        }
        for key in &keys {
            store.put("b", key, b"x".to_vec()).unwrap();
        }
        let slow = Watching::new(&store, std::time::Duration::from_millis(40));
        let day = parse_stamp("20260301T000000Z").unwrap();
        let found = digest_folders(
            &slow,
            &["b".to_string()],
            &ChainFilter::default(),
            (day, day + Duration::hours(2)),
        )
        .unwrap();
        let folders: Vec<&str> = found.iter().map(|f| f.folder.as_str()).collect();
        assert_eq!(
            folders,
            [
                "AWSLogs/111111111111/CloudTrail-Digest/eu-west-1/2026/03/01/",
                "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/03/01/",
                "AWSLogs/o-abc/333333333333/CloudTrail-Digest/us-east-1/2026/03/01/",
                "AWSLogs/o-abc/444444444444/CloudTrail-Digest/us-east-1/2026/03/01/",
                "AWSLogs/o-abc/555555555555/CloudTrail-Digest/us-east-1/2026/03/01/",
                "p/q/AWSLogs/222222222222/CloudTrail-Digest/us-east-1/2026/03/01/",
            ]
        );
        let most = slow.most_listings_at_once();
        assert!(most >= 3, "at most {most} listings at once");
        // The search (top, p/, p/q/, p/other/), AWSLogs/ and o-abc/ at the top,
        // p/q/AWSLogs/, and the five accounts' region folders: each listed once.
        assert_eq!(slow.take().len(), 4 + 2 + 1 + 5);
    }
}
