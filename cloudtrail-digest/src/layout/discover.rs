//! Finding trails in buckets: the folders `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail-Digest/REGION/`,
//! walked through [`ObjectSource::list_folders`] alike for every backend.

use crate::fetch::pool;
use crate::source::{ObjectSource, SourceError};

/// How deep a key prefix before `AWSLogs/` is searched for.
const PREFIX_DEPTH: usize = 4;

/// How many folders discovery lists at once.
pub(crate) const LISTINGS_AT_ONCE: usize = 16;

/// Where a trail's digests sit inside a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailLocation {
    /// Bucket.
    pub bucket: String,
    /// Key prefix before `AWSLogs/`, if any.
    pub prefix: Option<String>,
    /// Organization id folder (`o-...`) after `AWSLogs/`, if any.
    pub organization_id: Option<String>,
}

/// `[PREFIX/]AWSLogs/`, for a prefix with or without slashes around it.
pub(crate) fn awslogs_folder(prefix: Option<&str>) -> String {
    match prefix.map(|p| p.trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("{p}/AWSLogs/"),
        _ => "AWSLogs/".to_string(),
    }
}

/// Names of the folders directly under `prefix` (without it and the trailing `/`).
pub(crate) fn folder_names(
    source: &dyn ObjectSource,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, SourceError> {
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

/// `[PREFIX/]` folders of `bucket` holding an `AWSLogs/` folder (each empty or ending in
/// `/`), sorted: just `prefix` when one is given, else searched up to four folders deep.
pub(crate) fn awslogs_roots(
    source: &dyn ObjectSource,
    bucket: &str,
    prefix: Option<&str>,
) -> Result<Vec<String>, SourceError> {
    if let Some(p) = prefix {
        let p = p.trim_matches('/');
        return Ok(vec![if p.is_empty() {
            String::new()
        } else {
            format!("{p}/")
        }]);
    }
    // Level by level, each level's folders listed side by side: a listing waits on the
    // store, and a bucket can hold many prefixes.
    let mut found = Vec::new();
    let mut level = vec![String::new()];
    for depth in (1..=PREFIX_DEPTH).rev() {
        if level.is_empty() {
            break;
        }
        let listed = pool::map(&level, LISTINGS_AT_ONCE, |at| folder_names(source, bucket, at));
        let mut next = Vec::new();
        for (at, folders) in level.iter().zip(listed) {
            for f in folders? {
                if f == "AWSLogs" {
                    found.push(at.clone());
                } else if depth > 1 {
                    next.push(format!("{at}{f}/"));
                }
            }
        }
        level = next;
    }
    found.sort();
    Ok(found)
}

/// One account's folder under `AWSLogs/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountFolder {
    /// `o-...` for an organization trail's member account.
    pub organization_id: Option<String>,
    /// The account id (the folder's name).
    pub account_id: String,
    /// `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/`.
    pub path: String,
}

/// Every `ACCOUNT/` and `o-ORG/ACCOUNT/` folder under `awslogs` (`[PREFIX/]AWSLogs/`), in
/// S3 order; `keep_org` chooses which organization folders to enter, `plain` whether
/// accounts outside an organization are kept.
pub(crate) fn account_folders(
    source: &dyn ObjectSource,
    bucket: &str,
    awslogs: &str,
    keep_org: &(dyn Fn(&str) -> bool + Sync),
    plain: bool,
) -> Result<Vec<AccountFolder>, SourceError> {
    let tops = folder_names(source, bucket, awslogs)?;
    // The organizations' folders entered, listed side by side.
    let entered: Vec<bool> = tops
        .iter()
        .map(|top| top.starts_with("o-") && keep_org(top))
        .collect();
    let orgs: Vec<&String> = tops
        .iter()
        .zip(&entered)
        .filter(|(_, e)| **e)
        .map(|(t, _)| t)
        .collect();
    let mut members = pool::map(&orgs, LISTINGS_AT_ONCE, |org| {
        folder_names(source, bucket, &format!("{awslogs}{org}/"))
    })
    .into_iter();
    let mut out = Vec::new();
    for (top, entered) in tops.iter().zip(entered) {
        if top.starts_with("o-") {
            if !entered {
                continue;
            }
            let accounts = members.next().expect("one listing per organization entered");
            for account in accounts? {
                out.push(AccountFolder {
                    path: format!("{awslogs}{top}/{account}/"),
                    organization_id: Some(top.clone()),
                    account_id: account,
                });
            }
        } else if plain {
            out.push(AccountFolder {
                path: format!("{awslogs}{top}/"),
                organization_id: None,
                account_id: top.clone(),
            });
        }
    }
    Ok(out)
}

/// Where digests of `account_id` delivered by `source_region` sit in `buckets`: every
/// `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail-Digest/SOURCE_REGION/` folder, with a
/// prefix of up to three segments.
pub fn find_trail_locations(
    source: &dyn ObjectSource,
    buckets: &[String],
    account_id: &str,
    source_region: &str,
) -> Result<Vec<TrailLocation>, SourceError> {
    let mut found = Vec::new();
    for bucket in buckets {
        for root in awslogs_roots(source, bucket, None)? {
            let awslogs = format!("{root}AWSLogs/");
            for account in account_folders(source, bucket, &awslogs, &|_| true, true)? {
                if account.account_id != account_id {
                    continue;
                }
                let digests = format!("{}CloudTrail-Digest/", account.path);
                if folder_names(source, bucket, &digests)?
                    .iter()
                    .any(|r| r == source_region)
                {
                    found.push(TrailLocation {
                        bucket: bucket.clone(),
                        prefix: (!root.is_empty()).then(|| root.trim_end_matches('/').to_string()),
                        organization_id: account.organization_id,
                    });
                }
            }
        }
    }
    Ok(found)
}

/// The one `AWSLogs/o-ORG/` folder of `bucket` under `prefix` holding `account_id`, when
/// the account's own folder beside it holds no digests of `source_region` (or the trail
/// is known to be an organization trail); `None` when there is no such folder or several.
pub fn organization_folder(
    source: &dyn ObjectSource,
    bucket: &str,
    prefix: Option<&str>,
    (account_id, source_region): (&str, &str),
    organization_trail: bool,
) -> Result<Option<String>, SourceError> {
    let awslogs = awslogs_folder(prefix);
    // The account's own digest folder is listed while `AWSLogs/` is: in S3 each listing
    // is a round trip, and this one is needed whenever that folder exists. Its answer
    // counts only then, so a listing of a folder that is not there changes nothing.
    let own_digests = format!("{awslogs}{account_id}/CloudTrail-Digest/");
    let (accounts, own_regions) = std::thread::scope(|s| {
        let own = s.spawn(|| folder_names(source, bucket, &own_digests));
        let accounts = account_folders(source, bucket, &awslogs, &|_| true, true);
        (accounts, own.join().expect("listing thread"))
    });
    let accounts = accounts?;
    let mine: Vec<&AccountFolder> = accounts.iter().filter(|a| a.account_id == account_id).collect();
    let plain = match mine.iter().any(|a| a.organization_id.is_none()) {
        true => own_regions?.iter().any(|r| r == source_region),
        false => false,
    };
    let orgs: Vec<&String> = mine.iter().filter_map(|a| a.organization_id.as_ref()).collect();
    Ok(match orgs.as_slice() {
        [only] if !plain || organization_trail => Some((*only).clone()),
        _ => None,
    })
}

/// `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail-Digest/REGION/` of a digest key.
pub(crate) fn region_folder(key: &str) -> Option<String> {
    let i = key
        .find("/CloudTrail-Digest/")
        .map(|i| i + 1)
        .or_else(|| key.starts_with("CloudTrail-Digest/").then_some(0))?;
    let after = i + "CloudTrail-Digest/".len();
    let region_end = key[after..].find('/')?;
    Some(key[..after + region_end + 1].to_string())
}

/// The last segment of a key, for messages (JSON fields carry whole keys).
pub(crate) fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_region_folder_of_a_digest_key() {
        assert_eq!(
            region_folder("p/AWSLogs/o-1/2/CloudTrail-Digest/eu-west-1/2026/03/01/x.json.gz").unwrap(),
            "p/AWSLogs/o-1/2/CloudTrail-Digest/eu-west-1/"
        );
        assert_eq!(region_folder("AWSLogs/2/CloudTrail/eu-west-1/x"), None);
    }

    #[test]
    fn awslogs_folders_take_prefixes_with_or_without_slashes() {
        assert_eq!(awslogs_folder(None), "AWSLogs/");
        assert_eq!(awslogs_folder(Some("")), "AWSLogs/");
        assert_eq!(awslogs_folder(Some("/a/b/")), "a/b/AWSLogs/");
        assert_eq!(file_name("a/b/c.json.gz"), "c.json.gz");
    }
}
