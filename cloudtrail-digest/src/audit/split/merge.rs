//! Merging the parts of a plan: every unit once, each chain put back together from its
//! slices, the log folders' owners found as one run finds them, then judged.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use super::super::placement::FolderListing;
use super::super::{AuditReport, Group, Reads, TrailEvent};
use super::part::Part;
use super::plan_error;
use crate::error::Error;

/// Merges the parts of one plan into the report one audit over the whole scope gives.
/// Every unit must be present exactly once, from the same plan: a missing, doubled or
/// foreign part is refused by name.
pub fn merge(parts: Vec<Part>) -> Result<AuditReport, Error> {
    let Some(first) = parts.first() else {
        return Err(plan_error("no parts to merge".into()));
    };
    let plan = first.unit.plan.clone();
    let units = first.unit.units;
    let judge = first.unit.judge();
    let mut seen: Vec<usize> = vec![0; units];
    for p in &parts {
        let u = &p.unit;
        if u.plan != plan || u.units != units || u.judge() != judge || u.unit >= units {
            return Err(plan_error(format!(
                "unit {} is of another plan than unit {}: plan {} and plan {}",
                u.title(),
                first.unit.title(),
                u.plan,
                plan
            )));
        }
        seen[u.unit] += 1;
    }
    let doubled: Vec<String> = parts
        .iter()
        .filter(|p| seen[p.unit.unit] > 1)
        .map(|p| p.unit.title())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !doubled.is_empty() {
        return Err(plan_error(format!(
            "units given more than once: {}",
            doubled.join(", ")
        )));
    }
    let missing: Vec<usize> = (0..units).filter(|i| seen[*i] == 0).collect();
    if !missing.is_empty() {
        let list = |of: &dyn Fn(usize) -> usize| {
            missing
                .iter()
                .map(|i| of(*i).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(plan_error(format!(
            "{} of the plan's {units} units missing: {} (lines {} of the plan; run them, or give their parts)",
            missing.len(),
            list(&|i| i),
            list(&|i| i + 1),
        )));
    }

    let mut reads = combine(parts);
    let recorded = recorded_events(&reads);
    let events = |bucket: &str, key: &str, trail: &str| {
        recorded
            .get(&(bucket.to_string(), key.to_string(), trail.to_string()))
            .cloned()
            .unwrap_or_default()
    };
    judge.judge(&mut reads.groups, &reads.listings, &events);
    Ok(judge.assemble(reads.groups))
}

/// Some days of a log folder's listing: the first day, and the keys.
type Piece = (Option<NaiveDate>, Vec<String>);

/// The reads of one run over the whole scope, from the parts of its units: each chain's
/// digests from every slice in time order (a digest two slices read, once), the logs in
/// the order of their digests, and each log folder, in the buckets where the chains
/// that own it have digests, listed day by day.
fn combine(mut parts: Vec<Part>) -> Reads {
    parts.sort_by(|a, b| (&a.unit.chain, a.unit.after).cmp(&(&b.unit.chain, b.unit.after)));
    let mut chains: BTreeMap<String, Group> = BTreeMap::new();
    // Pieces of each log folder's listing: (bucket, folder) to (first day, keys).
    let mut pieces: BTreeMap<(String, String), Vec<Piece>> = BTreeMap::new();
    // The digests each chain holds so far.
    let mut held: HashMap<String, HashSet<(String, String)>> = HashMap::new();
    for part in parts {
        // A unit lists its own days in the audit's buckets, and every day of the window
        // in a bucket outside them.
        let first_day = |bucket: &str| match part.unit.buckets.iter().any(|b| b == bucket) {
            true => part.unit.log_days.map(|d| d.0),
            false => Some(part.unit.start_time.date_naive()),
        };
        for group in part.reads.groups {
            let merged = chains.entry(group.label.clone()).or_insert_with(|| Group {
                label: group.label.clone(),
                scope: group.scope.clone(),
                backfill: group.backfill,
                listed: Vec::new(),
                members: Vec::new(),
                logs: Vec::new(),
                analysis: Default::default(),
            });
            // A digest another slice already holds (read by both as a link) is taken once,
            // with its logs, from the earlier slice.
            let held = held.entry(group.label.clone()).or_default();
            let mut taken: HashSet<(String, String)> = HashSet::new();
            for m in group.members {
                let id = (m.bucket.clone(), m.key.clone());
                if held.insert(id.clone()) {
                    taken.insert(id);
                    merged.members.push(m);
                }
            }
            merged.logs.extend(
                group
                    .logs
                    .into_iter()
                    .filter(|l| taken.contains(&(l.digest_bucket.clone(), l.digest_key.clone()))),
            );
        }
        for l in part.reads.listings {
            let first = first_day(&l.bucket);
            pieces
                .entry((l.bucket, l.folder))
                .or_default()
                .push((first, l.keys));
        }
    }
    let mut groups: Vec<Group> = chains.into_values().collect();
    for g in &mut groups {
        g.members.sort_by(|a, b| a.order().cmp(&b.order()));
        let place: HashMap<(&str, &str), usize> = g
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| ((m.bucket.as_str(), m.key.as_str()), i))
            .collect();
        let mut logs = std::mem::take(&mut g.logs);
        logs.sort_by_key(|l| place[&(l.digest_bucket.as_str(), l.digest_key.as_str())]);
        g.logs = logs;
    }
    // Who owns each log folder, as a whole run finds it: the standard chains with
    // digests in that bucket.
    let mut owners: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (g, group) in groups.iter().enumerate() {
        if group.backfill {
            continue;
        }
        let buckets: std::collections::BTreeSet<&String> = group.members.iter().map(|m| &m.bucket).collect();
        for b in buckets {
            owners
                .entry((b.clone(), group.scope.log_folder()))
                .or_default()
                .push(g);
        }
    }
    let listings = owners
        .into_iter()
        .map(|((bucket, folder), owners)| {
            let mut found = pieces
                .remove(&(bucket.clone(), folder.clone()))
                .unwrap_or_default();
            // Day by day: each scope sharing the folder listed every day once, so the
            // first piece to hold a key holds it in the day's order.
            found.sort_by_key(|(first, _)| *first);
            // Which keys are first seen where, found on borrowed keys, then the keys
            // kept moved out.
            let first_seen: Vec<bool> = {
                let mut seen = HashSet::new();
                found
                    .iter()
                    .flat_map(|(_, keys)| keys)
                    .map(|k| seen.insert(k.as_str()))
                    .collect()
            };
            let keys = found
                .into_iter()
                .flat_map(|(_, keys)| keys)
                .zip(first_seen)
                .filter_map(|(k, first)| first.then_some(k))
                .collect();
            FolderListing {
                bucket,
                folder,
                owners,
                keys,
            }
        })
        .collect();
    Reads { groups, listings }
}

/// The trail events recorded while the logs were read, by `(bucket, key, trail)`: the
/// logs that hold any (a log recorded without is one without events).
pub(in crate::audit) fn recorded_events(reads: &Reads) -> HashMap<(String, String, String), Vec<TrailEvent>> {
    let mut out = HashMap::new();
    for group in &reads.groups {
        for log in &group.logs {
            if let Some(events) = log.events.as_ref().filter(|e| !e.is_empty()) {
                let id = (
                    log.job.bucket.clone(),
                    log.job.key.clone(),
                    group.scope.trail_name.clone(),
                );
                out.insert(id, events.clone());
            }
        }
    }
    out
}
