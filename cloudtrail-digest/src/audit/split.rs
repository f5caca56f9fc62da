//! An audit split across processes: a plan of units (one chain scope each: an account's
//! trail in one region, standard and backfill digests together; a long chain in time
//! slices of at most `unit_hours`), each unit read anywhere into a part, and the parts
//! merged and judged into exactly the report one run over the whole scope gives.
//!
//! What one scope's digests and logs are found to be depends on that scope alone, and a
//! slice of it reads what crosses its edges: past its end, the digests that record the
//! signatures its own digests lack (only when they lack them, and only as far as
//! needed); before its start, whether a predecessor its digests name is another slice's
//! (listing that day) or must be fetched. Each day of the scope's log folder is listed
//! by exactly one unit. Judging needs more (the links and gaps across slices, the trail
//! events in another region's logs, several trails sharing a log folder), and is
//! therefore left to [`merge`], which has every part: a part holds what its unit read
//! (digests, log verdicts, the log folders' listings, each valid log's trail events),
//! never a verdict.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::members::{self, Keys, State};
use super::placement::FolderListing;
use super::{Audit, AuditReport, Group, Judge, Reads, Slice};
use crate::error::Error;
use crate::layout::{chain_label, ChainScope};
use crate::plan::window::{self, day_folders, Listed};
use crate::plan::ChainFilter;
use crate::source::ObjectSource;

/// The default cap on the hours of one chain in one unit: a week.
pub const DEFAULT_UNIT_HOURS: u32 = 168;

/// One unit of a plan: a chain scope over a slice of the plan's window, enough to run it
/// alone (with the source and keys given again). A line of the plan, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// The plan's identity: a SHA-256 over everything the plan covers, the same in
    /// every unit of one plan.
    pub plan: String,
    /// This unit's place in the plan, from 0.
    pub unit: usize,
    /// How many units the plan has.
    pub units: usize,
    /// The chain label of the scope (its standard chain), for people.
    pub chain: String,
    /// The chains to read.
    pub scope: ChainScope,
    /// Every bucket of the audit (a scope's digests and logs may sit in several).
    pub buckets: Vec<String>,
    /// The window's start.
    pub start_time: DateTime<Utc>,
    /// The window's end.
    pub end_time: DateTime<Utc>,
    /// The time the audit takes as now.
    pub now: DateTime<Utc>,
    /// The delivery allowance, in seconds.
    pub delivery_allowance_seconds: i64,
    /// The unit reads the scope's digests whose stamps (end times) lie after this time...
    pub after: DateTime<Utc>,
    /// ...and up to this one.
    pub until: DateTime<Utc>,
    /// The days of the scope's log folder the unit lists, first and last (each day of
    /// the window is listed by one unit of the scope); `None`: none.
    pub log_days: Option<(NaiveDate, NaiveDate)>,
    /// Digests listed for this scope in the slice: the unit's size.
    pub digests: usize,
}

impl Unit {
    /// Reads one line of a plan.
    pub fn parse(line: &str) -> Result<Unit, Error> {
        serde_json::from_str(line.trim())
            .map_err(|e| plan_error(format!("not a unit of a plan ({e}): {}", clip(line))))
    }

    /// The unit as one line of JSON (no newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a unit serializes")
    }

    /// The unit in words, for messages: its place, chain and slice.
    pub fn title(&self) -> String {
        let at = |t: &DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ");
        format!(
            "{} ({}, {}/{})",
            self.unit,
            self.chain,
            at(&self.after),
            at(&self.until)
        )
    }

    fn judge(&self) -> Judge {
        Judge {
            window: (self.start_time, self.end_time),
            now: self.now,
            allowance: Duration::seconds(self.delivery_allowance_seconds),
        }
    }
}

fn clip(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(80) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

fn plan_error(reason: String) -> Error {
    Error::Split(reason)
}

impl Audit<'_> {
    /// The plan of this audit: for each chain scope with digests in the window, one
    /// unit per slice of at most `unit_hours` hours (counted from the window's start)
    /// that holds digests, largest first (so that taking every Nth unit spreads the work
    /// evenly), ties in label and time order.
    pub fn plan(&self, unit_hours: u32) -> Result<Vec<Unit>, Error> {
        let hours = Duration::hours(i64::from(unit_hours.max(1)));
        let stamps = window::stamps_of(self.window);
        let listed = window::digests_between(self.source, &self.buckets, &self.filter, stamps)?;
        // Scope, then slice (its number from the window's start), to its digest count.
        let mut slices: BTreeMap<String, (ChainScope, BTreeMap<i64, usize>)> = BTreeMap::new();
        for l in listed {
            let label = chain_label(&l.name.scope, false);
            let scope = slices
                .entry(label)
                .or_insert_with(|| (l.name.scope.clone(), BTreeMap::new()));
            // Stamps lie in (after, until]: a stamp on an edge is the earlier slice's.
            let from_start = l.end - stamps.0 - Duration::seconds(1);
            *scope
                .1
                .entry(from_start.num_seconds() / hours.num_seconds())
                .or_default() += 1;
        }
        let days = self.log_days();
        let mut plan: Vec<Unit> = Vec::new();
        for (chain, (scope, counts)) in slices {
            let numbers: Vec<i64> = counts.keys().copied().collect();
            for (i, (n, digests)) in counts.into_iter().enumerate() {
                let after = stamps.0 + hours * (n as i32);
                let until = (after + hours).min(stamps.1);
                let next = numbers.get(i + 1).map(|n| stamps.0 + hours * (*n as i32));
                plan.push(Unit {
                    plan: String::new(),
                    unit: 0,
                    units: 0,
                    chain: chain.clone(),
                    scope: scope.clone(),
                    buckets: self.buckets.clone(),
                    start_time: self.window.0,
                    end_time: self.window.1,
                    now: self.now,
                    delivery_allowance_seconds: self.allowance.num_seconds(),
                    after,
                    until,
                    log_days: days_of(days, (i > 0).then_some(after), next),
                    digests,
                });
            }
        }
        plan.sort_by(|a, b| (b.digests, &a.chain, a.after).cmp(&(a.digests, &b.chain, b.after)));
        let units = plan.len();
        for (i, u) in plan.iter_mut().enumerate() {
            u.unit = i;
            u.units = units;
        }
        let id = plan_id(&plan);
        for u in &mut plan {
            u.plan = id.clone();
        }
        Ok(plan)
    }

    /// The days whose log folders the whole run lists: the window's, up to now.
    fn log_days(&self) -> Option<(NaiveDate, NaiveDate)> {
        let (first, last) = (
            self.window.0.date_naive(),
            self.window.1.min(self.now).date_naive(),
        );
        (first <= last).then_some((first, last))
    }

    /// Reads on past the slice's end, in stamp order, only while some digest of the
    /// slice lacks a signature that no digest read so far records, and only as far as
    /// the window: what the whole run would have recovered them from.
    pub(super) fn read_on(
        &self,
        slice: &Slice,
        groups: &[Group],
        source: &dyn ObjectSource,
        keys: &Keys<'_>,
        recovered: &mut HashMap<String, HashMap<(String, String), String>>,
    ) -> Result<(), Error> {
        let label = chain_label(&slice.scope, false);
        let records = recovered.entry(label).or_default();
        let mut lacking: std::collections::HashSet<(String, String)> = groups
            .iter()
            .flat_map(|g| &g.members)
            .filter(|m| matches!(m.state, State::Unsigned(_)))
            .map(|m| (m.bucket.clone(), m.key.clone()))
            .filter(|id| !records.contains_key(id))
            .collect();
        let last = window::stamps_of(self.window).1;
        let mut from = slice.stamps.1;
        while !lacking.is_empty() && from < last {
            let to = (from + Duration::days(1)).min(last);
            let mut next: Vec<Listed> =
                window::digests_between(self.source, &self.buckets, &self.filter, (from, to))?
                    .into_iter()
                    .filter(|l| l.name.scope == slice.scope)
                    .collect();
            next.sort_by(|a, b| (a.end, &a.bucket, &a.key).cmp(&(b.end, &b.bucket, &b.key)));
            for l in next {
                let region = &slice.scope.source_region;
                let Some(m) =
                    members::fetch(source, keys, &l.bucket, &l.key, l.end, l.name.backfill, region)?
                else {
                    continue;
                };
                if let Some((b, k, sig)) = m.records_previous {
                    if lacking.remove(&(b.clone(), k.clone())) {
                        records.insert((b, k), sig);
                    }
                }
                if lacking.is_empty() {
                    break;
                }
            }
            from = to;
        }
        Ok(())
    }

    /// Whether a digest that a member names as its predecessor, outside the listing
    /// read, is listed in another slice of the window for chain `label` (so that the
    /// whole run holds it as a member, and this slice must not fetch it as a missing
    /// link). Lists the day of its stamp, once a day. Always false for a whole run.
    pub(super) fn listed_outside_slice(
        &self,
        label: &str,
        (bucket, key, end): &(String, String, DateTime<Utc>),
        listed_days: &mut HashMap<NaiveDate, Vec<Listed>>,
    ) -> Result<bool, Error> {
        let Some(slice) = &self.slice else {
            return Ok(false);
        };
        let whole = window::stamps_of(self.window);
        let inside = *end > slice.stamps.0 && *end <= slice.stamps.1;
        if inside || *end <= whole.0 || *end > whole.1 {
            return Ok(false);
        }
        let day = end.date_naive();
        if let std::collections::hash_map::Entry::Vacant(e) = listed_days.entry(day) {
            // The stamps of that day: from its midnight to the second before the next.
            let midnight = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            let second = Duration::seconds(1);
            let span = (
                (midnight - second).max(whole.0),
                (midnight + Duration::days(1) - second).min(whole.1),
            );
            e.insert(window::digests_between(
                self.source,
                &self.buckets,
                &self.filter,
                span,
            )?);
        }
        Ok(listed_days[&day].iter().any(|l| {
            l.bucket == *bucket && l.key == *key && chain_label(&l.name.scope, l.name.backfill) == label
        }))
    }

    /// The slice's days of its scope's log folder, in every bucket of the audit (merge
    /// keeps those where the chain has digests, as the whole run lists them).
    pub(super) fn list_log_days(&self, slice: &Slice) -> Result<Vec<FolderListing>, Error> {
        let folder = slice.scope.log_folder();
        let mut out = Vec::with_capacity(self.buckets.len());
        for bucket in &self.buckets {
            let mut keys = Vec::new();
            if let Some((first, last)) = slice.log_days {
                for day_folder in day_folders(&folder, first, last) {
                    keys.extend(self.source.list(bucket, &day_folder, "")?);
                }
            }
            out.push(FolderListing {
                bucket: bucket.clone(),
                folder: folder.clone(),
                owners: Vec::new(),
                keys,
            });
        }
        Ok(out)
    }
}

/// The days of `days` a unit lists: from the day its slice starts in (every earlier day
/// for a scope's first unit, `after` `None`) to the day before the one the scope's next
/// unit starts in (every later day for the last, `next` `None`).
fn days_of(
    days: Option<(NaiveDate, NaiveDate)>,
    after: Option<DateTime<Utc>>,
    next: Option<DateTime<Utc>>,
) -> Option<(NaiveDate, NaiveDate)> {
    let (mut first, mut last) = days?;
    if let Some(after) = after {
        first = first.max(first_day_from(after));
    }
    if let Some(next) = next {
        last = last.min(first_day_from(next).pred_opt()?);
    }
    (first <= last).then_some((first, last))
}

/// The first day whose midnight lies at or after `t`: the first day a slice starting at
/// `t` owns.
fn first_day_from(t: DateTime<Utc>) -> NaiveDate {
    let day = t.date_naive();
    if t.time() == chrono::NaiveTime::MIN {
        day
    } else {
        day.succ_opt().unwrap_or(day)
    }
}

/// A SHA-256 over every unit's contents but the id itself.
fn plan_id(units: &[Unit]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for u in units {
        let mut u = u.clone();
        u.plan = String::new();
        ctx.update(u.to_line().as_bytes());
        ctx.update(b"\n");
    }
    hex::encode(ctx.finish().as_ref())
}

/// What one unit read: written by [`read_unit`], taken by [`merge`].
pub struct Part {
    unit: Unit,
    reads: Reads,
}

/// One line of a part file, as read.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Unit(Box<Unit>),
    Group(Box<Group>),
    Listing(FolderListing),
    /// The unit's reads are complete: a part cut short lacks this.
    End {
        unit: usize,
        groups: usize,
        listings: usize,
    },
}

/// Reads one unit: every digest and log of its scope in its window, the log folders'
/// listings and each valid log's trail events. `jobs` objects are read at once; progress
/// goes to `progress`, when given.
pub fn read_unit(
    source: &dyn ObjectSource,
    keys: &dyn crate::keys::PublicKeyProvider,
    unit: &Unit,
    jobs: usize,
    progress: Option<&dyn super::Progress>,
) -> Result<Part, Error> {
    let filter = ChainFilter {
        accounts: vec![unit.scope.account_id.clone()],
        regions: vec![unit.scope.source_region.clone()],
        trail_names: vec![unit.scope.trail_name.clone()],
        home_regions: vec![unit.scope.home_region.clone()],
        organization_ids: unit.scope.organization_id.iter().cloned().collect(),
        prefix: Some(unit.scope.prefix.clone().unwrap_or_default()),
    };
    let mut audit = Audit::new(
        source,
        keys,
        unit.buckets.clone(),
        (unit.start_time, unit.end_time),
        unit.now,
    )?
    .delivery_allowance(Duration::seconds(unit.delivery_allowance_seconds))
    .filter(filter)
    .jobs(jobs);
    if let Some(progress) = progress {
        audit = audit.progress(progress);
    }
    audit.record_events = true;
    audit.slice = Some(Slice {
        scope: unit.scope.clone(),
        stamps: (unit.after, unit.until),
        log_days: unit.log_days,
    });
    let metered = crate::fetch::metered::Metered::new(source);
    let reads = audit.read(&metered, &metered, None)?;
    Ok(Part {
        unit: unit.clone(),
        reads,
    })
}

impl Part {
    /// The unit it is the part of.
    pub fn unit(&self) -> &Unit {
        &self.unit
    }

    /// Writes the part as JSON lines: the unit, its chains, its listings, and an end
    /// line that says the part is whole.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        fn line(out: &mut dyn Write, l: &LineRef<'_>) -> std::io::Result<()> {
            serde_json::to_writer(&mut *out, l)?;
            out.write_all(b"\n")
        }
        line(out, &LineRef::Unit(&self.unit))?;
        for g in &self.reads.groups {
            line(out, &LineRef::Group(g))?;
        }
        for l in &self.reads.listings {
            line(out, &LineRef::Listing(l))?;
        }
        line(
            out,
            &LineRef::End {
                unit: self.unit.unit,
                groups: self.reads.groups.len(),
                listings: self.reads.listings.len(),
            },
        )
    }

    /// Reads every part in one file (a shard's file holds several), `name` saying which
    /// file in messages.
    pub fn read_all(input: &mut dyn BufRead, name: &str) -> Result<Vec<Part>, Error> {
        let mut parts = Vec::new();
        let mut current: Option<Part> = None;
        let mut text = String::new();
        let mut number = 0usize;
        loop {
            text.clear();
            let n = input
                .read_line(&mut text)
                .map_err(|e| plan_error(format!("{name}: cannot be read ({e})")))?;
            if n == 0 {
                break;
            }
            number += 1;
            if text.trim().is_empty() {
                continue;
            }
            let line: Line = serde_json::from_str(&text)
                .map_err(|e| plan_error(format!("{name}, line {number}: not a line of a part ({e})")))?;
            match (line, current.as_mut()) {
                (Line::Unit(unit), None) => {
                    current = Some(Part {
                        unit: *unit,
                        reads: Reads {
                            groups: Vec::new(),
                            listings: Vec::new(),
                        },
                    })
                }
                (Line::Group(g), Some(p)) => p.reads.groups.push(*g),
                (Line::Listing(l), Some(p)) => p.reads.listings.push(l),
                (
                    Line::End {
                        unit,
                        groups,
                        listings,
                    },
                    Some(p),
                ) if unit == p.unit.unit
                    && groups == p.reads.groups.len()
                    && listings == p.reads.listings.len() =>
                {
                    parts.push(current.take().expect("a part is open"));
                }
                (Line::Unit(_), Some(p)) | (Line::End { .. }, Some(p)) => {
                    return Err(plan_error(format!(
                        "{name}, line {number}: the part of unit {} is cut short",
                        p.unit.title()
                    )))
                }
                (_, None) => {
                    return Err(plan_error(format!(
                        "{name}, line {number}: no unit line opens this part"
                    )))
                }
            }
        }
        if let Some(p) = current {
            return Err(plan_error(format!(
                "{name}: the part of unit {} is cut short (no end line)",
                p.unit.title()
            )));
        }
        Ok(parts)
    }
}

/// One line of a part file, borrowed from the part to write it ([`Line`] reads it).
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum LineRef<'a> {
    Unit(&'a Unit),
    Group(&'a Group),
    Listing(&'a FolderListing),
    End {
        unit: usize,
        groups: usize,
        listings: usize,
    },
}

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
    for part in parts {
        let first_day = part.unit.log_days.map(|d| d.0);
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
            let held: std::collections::HashSet<(String, String)> = merged
                .members
                .iter()
                .map(|m| (m.bucket.clone(), m.key.clone()))
                .collect();
            merged.members.extend(
                group
                    .members
                    .into_iter()
                    .filter(|m| !held.contains(&(m.bucket.clone(), m.key.clone()))),
            );
            merged.logs.extend(
                group
                    .logs
                    .into_iter()
                    .filter(|l| !held.contains(&(l.digest_bucket.clone(), l.digest_key.clone()))),
            );
        }
        for l in part.reads.listings {
            pieces
                .entry((l.bucket, l.folder))
                .or_default()
                .push((first_day, l.keys));
        }
    }
    let mut groups: Vec<Group> = chains.into_values().collect();
    for g in &mut groups {
        g.members
            .sort_by(|a, b| (a.end, &a.bucket, &a.key).cmp(&(b.end, &b.bucket, &b.key)));
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
            let mut seen = std::collections::HashSet::new();
            let keys = found
                .into_iter()
                .flat_map(|(_, keys)| keys)
                .filter(|k| seen.insert(k.clone()))
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

/// The trail events recorded while the logs were read, by `(bucket, key, trail)`.
pub(super) fn recorded_events(reads: &Reads) -> HashMap<(String, String, String), Vec<super::TrailEvent>> {
    let mut out = HashMap::new();
    for group in &reads.groups {
        for log in &group.logs {
            if let Some(events) = &log.events {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every unit read apart, written out and read back, then merged in any grouping
    /// and order, gives exactly the whole run's report, on every tree, whole chains and
    /// chains in slices (of an hour: every edge between two digests is a slice edge).
    #[test]
    fn parts_merge_to_the_whole_run_on_every_tree() {
        let (mut split_somewhere, mut sliced) = (false, false);
        for (dir, window, now) in super::super::tests::trees() {
            let (mirror, keys) = super::super::tests::tree_source(&dir);
            let audit = Audit::new(&mirror, &keys, mirror.buckets(), window, now)
                .unwrap()
                .jobs(2);
            let whole = audit.run().unwrap();
            let mut scopes: Vec<&str> = whole
                .chains
                .iter()
                .map(|c| c.chain.trim_end_matches("/backfill"))
                .collect();
            scopes.dedup();
            for hours in [DEFAULT_UNIT_HOURS, 1, 2, 7] {
                let plan = audit.plan(hours).unwrap();
                if hours == DEFAULT_UNIT_HOURS {
                    assert_eq!(
                        plan.len(),
                        scopes.len(),
                        "{}: a unit for each scope",
                        dir.display()
                    );
                    split_somewhere |= plan.len() > 1;
                } else {
                    sliced |= plan.len() > scopes.len();
                }
                let mut written = Vec::new();
                for line in &plan {
                    let unit = Unit::parse(&line.to_line()).unwrap();
                    assert_eq!(&unit, line);
                    read_unit(&mirror, &keys, &unit, 2, None)
                        .unwrap()
                        .write_to(&mut written)
                        .unwrap();
                }
                let parts = Part::read_all(&mut &written[..], "parts").unwrap();
                assert_eq!(parts.len(), plan.len());
                let at = format!("{} in units of {hours} hours", dir.display());
                assert_eq!(merge(parts).unwrap(), whole, "{at}");
                // In reverse order too.
                let mut parts = Part::read_all(&mut &written[..], "parts").unwrap();
                parts.reverse();
                assert_eq!(merge(parts).unwrap(), whole, "{at}, reversed");
            }
        }
        assert!(split_somewhere, "some tree has several units");
        assert!(sliced, "some chain is sliced");
    }
}
