//! Placing log files in chains: logs a digest lists under another account or region,
//! and objects in the log folders that no valid digest lists (injected, forged, or not
//! yet covered), with how much their absence from every digest weighs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::chain::{self, Cover, Ranked};
use super::elsewhere::{Elsewhere, Place};
use super::finding::{Finding, Status};
use super::members::Member;
use super::{rank, Audit, Group, Judge, Span};
use crate::error::Error;
use crate::fetch::pool;
use crate::layout::{file_name, ChainScope, LogKeyName};
use crate::plan::window::{day_folders, DigestFolder};
use crate::source::SourceError;
use crate::time::display;
use crate::verdict::LogVerdict;

/// The keys of one chain log folder for the window's days, and the chains that write
/// there (several trails of one account and region share a folder).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct FolderListing {
    pub bucket: String,
    /// The chain log folder (`[P/]AWSLogs/[ORG/]ACCOUNT/CloudTrail/REGION/`).
    pub folder: String,
    /// Indexes of the standard chains with members in this bucket that use the folder.
    pub owners: Vec<usize>,
    /// Every key of the window's day folders, day by day, in listing order.
    pub keys: Vec<String>,
}

/// Listings of log day folders made ahead of need, by `(bucket, day folder)`: each
/// one's error is raised only if the folder turns out to be needed.
pub(super) type EarlyListings = HashMap<(String, String), Result<Vec<String>, SourceError>>;

/// Chain log folders `(bucket, folder)` with the standard chains that write there.
type ChainFolders = BTreeMap<(String, String), Vec<usize>>;

/// Log day folders `(bucket, day folder)`, each with the index of its chain folder.
type DayFolders = Vec<(usize, (String, String))>;

impl Audit<'_> {
    /// The chain log folders of every standard chain of `groups`, in the buckets
    /// `buckets_of` gives for each, and their day folders for the window's days.
    fn chain_log_days<'g>(
        &self,
        groups: &'g [Group],
        buckets_of: impl Fn(&'g Group) -> HashSet<&'g String>,
    ) -> (ChainFolders, DayFolders) {
        let mut folders = ChainFolders::new();
        for (g, group) in groups.iter().enumerate() {
            if group.backfill {
                continue;
            }
            for b in buckets_of(group) {
                folders
                    .entry((b.clone(), group.scope.log_folder()))
                    .or_default()
                    .push(g);
            }
        }
        let days = folders
            .keys()
            .enumerate()
            .flat_map(|(f, (bucket, folder))| {
                self.window_log_days(folder)
                    .into_iter()
                    .map(move |day| (f, (bucket.clone(), day)))
            })
            .collect();
        (folders, days)
    }

    /// The day folders of the chain log folder `folder` for the window's days.
    fn window_log_days(&self, folder: &str) -> Vec<String> {
        let reach = self.window.1.min(self.now);
        day_folders(folder, self.window.0.date_naive(), reach.date_naive())
    }

    /// The log day folders of the chains whose digest day folders `folders` are, before
    /// those are listed: listed beside them, so that in S3 a re-audit waits on one
    /// round of listings instead of two. A folder whose chains turn out to need no
    /// logs (no digest of the window, or backfill only) is listed for nothing.
    pub(super) fn guessed_log_days(&self, folders: &[DigestFolder]) -> Vec<(String, String)> {
        let chains: BTreeSet<(&str, String)> = folders
            .iter()
            .filter_map(|f| Some((f.bucket.as_str(), f.log_folder()?)))
            .collect();
        chains
            .into_iter()
            .flat_map(|(bucket, folder)| {
                self.window_log_days(&folder)
                    .into_iter()
                    .map(move |day| (bucket.to_string(), day))
            })
            .collect()
    }

    /// The log day folders `(bucket, day folder)` the digests listed so far point to,
    /// but for those of `known`, to be listed while the digests are read
    /// ([`Audit::list_days`]), so that in S3 these listings wait on the store beside the
    /// digests' fetches.
    pub(super) fn early_log_days(
        &self,
        groups: &[Group],
        known: &HashSet<(String, String)>,
    ) -> Vec<(String, String)> {
        let (_, days) = self.chain_log_days(groups, |g| g.listed.iter().map(|(b, ..)| b).collect());
        days.into_iter()
            .map(|(_, day)| day)
            .filter(|day| !known.contains(day))
            .collect()
    }

    /// Lists the day folders `days` side by side (a listing waits on the store).
    pub(super) fn list_days(&self, days: Vec<(String, String)>) -> EarlyListings {
        let listed = pool::map(&days, self.jobs, |(bucket, day)| {
            self.source.list(bucket, day, "")
        });
        days.into_iter().zip(listed).collect()
    }

    /// Lists the log folders of every standard chain for the window's days, taking the
    /// day folders already listed from `early`.
    pub(super) fn list_log_folders(
        &self,
        groups: &[Group],
        mut early: EarlyListings,
    ) -> Result<Vec<FolderListing>, Error> {
        let (folders, days) = self.chain_log_days(groups, |g| g.members.iter().map(|m| &m.bucket).collect());
        let missing: Vec<(String, String)> = days
            .iter()
            .map(|(_, day)| day)
            .filter(|day| !early.contains_key(*day))
            .cloned()
            .collect();
        early.extend(self.list_days(missing));
        let mut out: Vec<FolderListing> = folders
            .into_iter()
            .map(|((bucket, folder), owners)| FolderListing {
                bucket,
                folder,
                owners,
                keys: Vec::new(),
            })
            .collect();
        for (f, day) in &days {
            let keys = early.remove(day).expect("every day folder listed");
            out[*f].keys.extend(keys?);
        }
        Ok(out)
    }
}

impl Judge {
    /// Reports the objects of the log folders that no valid digest lists.
    pub(super) fn unreferenced(
        &self,
        groups: &mut [Group],
        listings: &[FolderListing],
        elsewhere: &Elsewhere,
    ) {
        let found = self.find_unreferenced(groups, listings, elsewhere);
        for (g, finding) in found {
            groups[g].analysis.findings.push(finding);
        }
    }

    /// The findings [`Judge::unreferenced`] adds, with the chain each goes to, in the
    /// order it adds them; what it looks up is borrowed from the findings so far.
    fn find_unreferenced(
        &self,
        groups: &[Group],
        listings: &[FolderListing],
        elsewhere: &Elsewhere,
    ) -> Vec<(usize, Ranked)> {
        // The logs that digests list: as valid digests' log findings, and those that only
        // digests failing verification list (here or, for a family judged apart, in
        // another family).
        let referenced: HashSet<(&str, &str)> = log_findings(groups)
            .map(|(_, bucket, key, _)| (bucket, key))
            .collect();
        let is_referenced = |bucket: &str, key: &str| {
            referenced.contains(&(bucket, key))
                || elsewhere
                    .referenced
                    .get(bucket)
                    .is_some_and(|keys| keys.contains(key))
        };
        let mut unverified: HashMap<(&str, &str), &str> = HashMap::new();
        let mut places: HashMap<(&str, &str), Place> = HashMap::new();
        for g in groups {
            for m in &g.members {
                for (bucket, key) in &m.listed {
                    let id = (bucket.as_str(), key.as_str());
                    if let std::collections::hash_map::Entry::Vacant(e) = unverified.entry(id) {
                        e.insert(m.key.as_str());
                        if !elsewhere.unverified.is_empty() {
                            places.insert(id, (g.label.clone(), m.end, m.bucket.clone(), m.key.clone()));
                        }
                    }
                }
            }
        }
        // The first digest to list a log, in a whole run's order, wherever it was judged.
        let listed_only_by = |bucket: &str, key: &str| -> Option<String> {
            let id = (bucket, key);
            let there = elsewhere.unverified.get(&(bucket.to_string(), key.to_string()));
            match (unverified.get(&id), there) {
                (Some(_), Some((place, digest))) if *place < places[&id] => Some(digest.clone()),
                (Some(here), _) => Some(here.to_string()),
                (None, Some((_, digest))) => Some(digest.clone()),
                (None, None) => None,
            }
        };
        let first_minute = self
            .window
            .0
            .duration_trunc(Duration::minutes(1))
            .unwrap_or(self.window.0);
        let mut found = Vec::new();
        for FolderListing {
            bucket, owners, keys, ..
        } in listings
        {
            for key in keys {
                if is_referenced(bucket, key) {
                    continue;
                }
                let name = LogKeyName::parse(key);
                let time = name.as_ref().map(|n| n.delivered);
                if let Some(t) = time {
                    if t < first_minute || t > self.window.1 {
                        continue;
                    }
                }
                let listed_by = listed_only_by(bucket, key);
                let (g, status, reason) = match (time, listed_by) {
                    (_, Some(digest)) => (
                        owners[0],
                        Status::Invalid,
                        format!(
                            "listed only by {}, which failed verification: no valid digest lists this log file, so it cannot be verified",
                            file_name(&digest)
                        ),
                    ),
                    (None, None) => (
                        owners[0],
                        Status::Invalid,
                        "in the log folder, but its name is not a CloudTrail log file name (or its folders disagree with it), and no digest lists it".to_string(),
                    ),
                    (Some(t), None) => self.place(groups, owners, t),
                };
                found.push((
                    g,
                    (
                        time.unwrap_or(self.window.1),
                        rank::UNREFERENCED,
                        Finding::UnreferencedLog {
                            chain: groups[g].label.clone(),
                            bucket: bucket.clone(),
                            key: key.clone(),
                            time,
                            status,
                            reason,
                        },
                    ),
                ));
            }
        }
        found
    }

    /// Which chain a log delivered at `t` belongs to, and how its absence from every
    /// digest weighs.
    fn place(&self, groups: &[Group], owners: &[usize], t: DateTime<Utc>) -> (usize, Status, String) {
        let minute = |d: DateTime<Utc>| d.duration_trunc(Duration::minutes(1)).unwrap_or(d);
        let mut unverified = None;
        let mut archived = None;
        for &g in owners {
            for (from, to, cover) in &groups[g].analysis.coverage {
                if minute(*from) <= t && t < *to {
                    match cover {
                        Cover::Valid(key) => {
                            return (
                                g,
                                Status::Invalid,
                                format!(
                                    "no digest lists this log file, though it was delivered at {} inside the hours of the valid digest {}: injected or forged",
                                    display(t),
                                    file_name(key)
                                ),
                            )
                        }
                        Cover::Unverified(why) => unverified = unverified.or(Some((g, why.clone()))),
                        Cover::Archived(key) => archived = archived.or(Some((g, key.clone()))),
                    }
                }
            }
        }
        if let Some((g, why)) = unverified {
            return (
                g,
                Status::Invalid,
                format!(
                    "no valid digest lists this log file (delivered at {}, in the hours of {why}): it cannot be verified",
                    display(t)
                ),
            );
        }
        if let Some((g, key)) = archived {
            return (
                g,
                Status::Warning,
                format!(
                    "no digest read lists this log file (delivered at {}, in the hours of the archived digest {}): it can be verified once that digest is restored",
                    display(t),
                    file_name(&key)
                ),
            );
        }
        let spans: Vec<Span> = owners
            .iter()
            .flat_map(|&g| groups[g].members.iter().map(Member::span))
            .collect();
        let oldest = spans.iter().map(|s| s.0).min();
        let newest = spans.iter().map(|s| s.1).max();
        let g = owners[0];
        match (oldest, newest) {
            (_, Some(newest)) if t >= newest => {
                let hours = chain::round_hours(t - newest).max(0) + 1;
                let due = newest + Duration::hours(hours) + self.allowance;
                if due > self.now {
                    (
                        g,
                        Status::Info,
                        format!(
                            "delivered at {} after the newest digest (ends {}); the digest that lists it is not due until {}",
                            display(t),
                            display(newest),
                            display(due)
                        ),
                    )
                } else {
                    (
                        g,
                        Status::Warning,
                        format!(
                            "delivered at {} after the newest digest (ends {}): no digest lists it (see the truncation)",
                            display(t),
                            display(newest)
                        ),
                    )
                }
            }
            (Some(oldest), _) if t < oldest => (
                g,
                Status::Warning,
                format!(
                    "delivered at {} before the oldest digest of the window (starts {}): no digest lists it",
                    display(t),
                    display(oldest)
                ),
            ),
            _ => (
                g,
                Status::Warning,
                format!(
                    "delivered at {} while no digest chain covered that time (a gap): no digest lists it",
                    display(t)
                ),
            ),
        }
    }
}

/// Every log finding of `groups`, with the index of its group: `(group, bucket, key,
/// verdict)`, chain by chain in the order they were read.
pub(super) fn log_findings(groups: &[Group]) -> impl Iterator<Item = (usize, &str, &str, &LogVerdict)> {
    groups.iter().enumerate().flat_map(|(g, group)| {
        chain_log_findings(group).map(move |(bucket, key, verdict)| (g, bucket, key, verdict))
    })
}

/// The log findings of one chain, `(bucket, key, verdict)`, in the order they were read.
pub(super) fn chain_log_findings(group: &Group) -> impl Iterator<Item = (&str, &str, &LogVerdict)> {
    group.analysis.findings.iter().filter_map(|(_, _, f)| match f {
        Finding::Log {
            bucket, key, verdict, ..
        } => Some((bucket.as_str(), key.as_str(), verdict)),
        _ => None,
    })
}

/// Why a listed log does not belong to the digest that lists it, if it does not.
pub(super) fn misplaced(scope: &ChainScope, key: &str) -> Option<String> {
    match LogKeyName::parse(key) {
        None => Some("listed by the digest, but its key is not a CloudTrail log file name".into()),
        Some(n) if n.account_id != scope.account_id || n.region != scope.source_region => Some(format!(
            "listed by a digest of account {} and region {}, but its key places it in account {} and region {}",
            scope.account_id, scope.source_region, n.account_id, n.region
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_of_another_account_or_region_are_misplaced() {
        let scope = ChainScope {
            prefix: None,
            organization_id: None,
            account_id: "111122223333".into(),
            source_region: "us-east-1".into(),
            trail_name: "t".into(),
            home_region: "us-east-1".into(),
        };
        let key = |acct: &str, region: &str| {
            format!("AWSLogs/{acct}/CloudTrail/{region}/2026/03/01/{acct}_CloudTrail_{region}_20260301T0125Z_AbCdEfGhIjKlMnOp.json.gz")
        };
        assert_eq!(misplaced(&scope, &key("111122223333", "us-east-1")), None);
        assert!(misplaced(&scope, &key("111122223333", "eu-west-1"))
            .unwrap()
            .contains("region eu-west-1"));
        assert!(misplaced(&scope, &key("444455556666", "us-east-1"))
            .unwrap()
            .contains("account 444455556666"));
        assert!(misplaced(&scope, "AWSLogs/x.json.gz").is_some());
    }
}
