//! Merging the parts of a plan: every unit once, each chain put back together from its
//! slices, the log folders' owners found as one run finds them, then judged.
//!
//! A merge holds one family of chains at a time (the chains whose label ranges meet:
//! in practice an account's trails in one region, which share a log folder), never the
//! whole estate: a first pass reads every part once, keeping where each unit lies and
//! the few references that cross families (logs listed under another account or
//! region); then each family's units are read again, judged and written out. A gap's
//! explanation may sit in another family's logs (its trail's home-region chains): those
//! families are searched before, and only for the gaps and truncations that need them.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;

use super::super::elsewhere::{Elsewhere, Near};
use super::super::explain::{self, is_home, trail_key, Query, TrailKey};
use super::super::judge::Judge;
use super::super::placement::FolderListing;
use super::super::summary::{summarise, Outcome};
use super::super::{AuditReport, Finding, Group, Reads, TrailEvent};
use super::part::Part;
use super::plan_error;
use super::survey::{check_units, crossing, families, Ends, Indexed};
use crate::error::Error;
use crate::sink::audit::{Form, ReportHead, ReportWriter};
use crate::source::ObjectSource;

/// Merges the parts of one plan into the report one audit over the whole scope gives.
/// Every unit must be present exactly once, from the same plan: a missing, doubled or
/// foreign part is refused by name. The whole report is held; [`Merge`] writes one as
/// it is made.
pub fn merge(parts: Vec<Part>) -> Result<AuditReport, Error> {
    let inputs = parts
        .iter()
        .map(|p| {
            let mut bytes = Vec::new();
            p.write_to(&mut bytes).expect("writing to memory");
            PartInput::Bytes {
                name: format!("the part of unit {}", p.unit.title()),
                bytes,
            }
        })
        .collect();
    let merging = Merge::new(inputs)?;
    let head = merging.head();
    let mut findings = Vec::new();
    let chains = merging.judge_all(&mut |f| {
        findings.push(f);
        Ok(())
    })?;
    Ok(AuditReport {
        window: head.window,
        now: head.now,
        allowance: head.allowance,
        findings,
        chains,
    })
}

/// Where a merge reads parts from: each input is read whole once, then the units it
/// holds are read again one by one.
#[non_exhaustive]
pub enum PartInput {
    /// A local file.
    File(PathBuf),
    /// An object (S3), read again with ranged GETs.
    Object {
        /// The store.
        source: Arc<dyn ObjectSource>,
        /// Its bucket.
        bucket: String,
        /// Its key.
        key: String,
    },
    /// Bytes in memory, with a name for messages.
    Bytes {
        /// What to call it.
        name: String,
        /// The part file's bytes.
        bytes: Vec<u8>,
    },
}

impl PartInput {
    /// The input as messages name it.
    pub fn name(&self) -> String {
        match self {
            PartInput::File(path) => path.display().to_string(),
            PartInput::Object { bucket, key, .. } => format!("s3://{bucket}/{key}"),
            PartInput::Bytes { name, .. } => name.clone(),
        }
    }

    /// A reader over the input, or over `range` of it.
    fn open(&self, range: Option<Range<u64>>) -> Result<Box<dyn BufRead + '_>, Error> {
        let cannot = |e: &dyn std::fmt::Display| plan_error(format!("{}: cannot be read ({e})", self.name()));
        Ok(match self {
            PartInput::File(path) => {
                let mut file = std::fs::File::open(path).map_err(|e| cannot(&e))?;
                match range {
                    Some(r) => {
                        file.seek(SeekFrom::Start(r.start)).map_err(|e| cannot(&e))?;
                        Box::new(BufReader::new(file.take(r.end - r.start)))
                    }
                    None => Box::new(BufReader::new(file)),
                }
            }
            PartInput::Object { source, bucket, key } => {
                let reader = match range {
                    Some(r) => source.open_range(bucket, key, r),
                    None => source.open(bucket, key),
                }
                .map_err(|e| cannot(&e))?;
                Box::new(BufReader::new(reader))
            }
            PartInput::Bytes { bytes, .. } => {
                let r = range.unwrap_or(0..bytes.len() as u64);
                let end = (r.end as usize).min(bytes.len());
                Box::new(&bytes[(r.start as usize).min(end)..end])
            }
        })
    }
}

/// A merge of the parts of one plan, written as it is made: [`Merge::new`] reads every
/// part once and checks that every unit is there exactly once; [`Merge::write`] then
/// judges one family of chains at a time and writes the report.
///
/// Memory: the chains of one family (one account's trails in one region, over the
/// window), a few hundred bytes for each unit and each chain, and the log references
/// that cross families; never the whole estate.
pub struct Merge {
    inputs: Vec<PartInput>,
    /// Every unit, in the order of the plan.
    units: Vec<Indexed>,
    judge: Judge,
    /// Each family's units (indexes into `units`), families in chain label order.
    families: Vec<Vec<usize>>,
    chains: usize,
    elsewhere: Elsewhere,
    /// The chains whose analysis may find a gap or a truncation to explain.
    explainable: HashSet<String>,
}

impl Merge {
    /// Reads every part of `inputs` once (one at a time), and checks that every unit
    /// of the plan is there exactly once: a missing, doubled or foreign part is refused
    /// by name, as is a part cut short or a file that holds no part.
    pub fn new(inputs: Vec<PartInput>) -> Result<Merge, Error> {
        let mut units: Vec<Indexed> = Vec::new();
        let mut elsewhere = Elsewhere::default();
        let mut ends: HashMap<String, Ends> = HashMap::new();
        for (i, input) in inputs.iter().enumerate() {
            let mut reader = input.open(None)?;
            Part::read_each(&mut *reader, &input.name(), &mut |part, range| {
                for g in &part.reads.groups {
                    crossing(g, &mut elsewhere);
                    ends.entry(g.label.clone()).or_default().note(g);
                }
                units.push(Indexed {
                    input: i,
                    range,
                    labels: part.reads.groups.iter().map(|g| g.label.clone()).collect(),
                    unit: part.unit,
                });
                Ok(())
            })?;
        }
        check_units(&units)?;
        units.sort_by_key(|u| u.unit.unit);
        let judge = units[0].unit.judge();
        let chains = units
            .iter()
            .flat_map(|u| &u.labels)
            .collect::<BTreeSet<_>>()
            .len();
        let families = families(&units);
        let explainable = ends
            .into_iter()
            .filter(|(_, e)| e.may_explain(judge.window, judge.now, judge.allowance))
            .map(|(label, _)| label)
            .collect();
        Ok(Merge {
            inputs,
            units,
            judge,
            families,
            chains,
            elsewhere,
            explainable,
        })
    }

    /// What the report says before its findings.
    pub fn head(&self) -> ReportHead {
        ReportHead {
            window: self.judge.window,
            now: self.judge.now,
            allowance: self.judge.allowance,
            chains: self.chains,
        }
    }

    /// Judges every family and writes the report in `form` to `out` as it goes (the
    /// JSON document's findings wait in a temporary file for the chains that precede
    /// them). Returns what the findings come to (the exit code and verdict).
    pub fn write(self, out: &mut dyn Write, form: Form) -> Result<Outcome, Error> {
        let mut w = ReportWriter::start(out, self.head(), form, None).map_err(Error::Report)?;
        let mut outcome = Outcome::new(self.chains);
        let chains = self.judge_all(&mut |f| {
            outcome.note(&f);
            w.finding(&f).map_err(Error::Report)
        })?;
        w.finish(&chains, &outcome).map_err(Error::Report)?;
        Ok(outcome)
    }

    /// Judges one family at a time, handing each finding to `each` in the report's
    /// order; returns the chain summaries.
    fn judge_all(
        mut self,
        each: &mut dyn FnMut(Finding) -> Result<(), Error>,
    ) -> Result<Vec<super::super::ChainSummary>, Error> {
        self.elsewhere.near = self.search_elsewhere()?;
        let mut chains = Vec::with_capacity(self.chains);
        for family in &self.families {
            let mut reads = self.read(family.iter().copied())?;
            let recorded = recorded_events(&reads);
            let events = |bucket: &str, key: &str, trail: &str| {
                recorded
                    .get(&(bucket.to_string(), key.to_string(), trail.to_string()))
                    .cloned()
                    .unwrap_or_default()
            };
            self.judge
                .judge(&mut reads.groups, &reads.listings, &events, &self.elsewhere);
            for group in reads.groups {
                let (summary, found) = summarise(group);
                for f in found {
                    each(f)?;
                }
                chains.push(summary);
            }
        }
        Ok(chains)
    }

    /// The reads of the units `units`, put together as one run's.
    fn read(&self, units: impl Iterator<Item = usize>) -> Result<Reads, Error> {
        let mut parts = Vec::new();
        for u in units {
            let at = &self.units[u];
            let input = &self.inputs[at.input];
            let mut reader = input.open(Some(at.range.clone()))?;
            Part::read_each(&mut *reader, &input.name(), &mut |part, _| {
                parts.push(part);
                Ok(())
            })?;
        }
        Ok(combine(parts))
    }

    /// For the gaps and truncations whose trail has home-region chains in other
    /// families: the valid logs nearest them in those chains. Only the families with
    /// such gaps are analysed, and only those home-region chains read again.
    fn search_elsewhere(&self) -> Result<HashMap<(String, usize), Near>, Error> {
        let family_of: HashMap<usize, usize> = self
            .families
            .iter()
            .enumerate()
            .flat_map(|(f, units)| units.iter().map(move |u| (*u, f)))
            .collect();
        // Each trail's home-region units, by family.
        let mut homes: HashMap<TrailKey, BTreeMap<usize, Vec<usize>>> = HashMap::new();
        for (u, at) in self.units.iter().enumerate() {
            if is_home(&at.unit.scope) {
                homes
                    .entry(trail_key(&at.unit.scope))
                    .or_default()
                    .entry(family_of[&u])
                    .or_default()
                    .push(u);
            }
        }
        let elsewhere =
            |trail: &TrailKey, f: usize| homes.get(trail).is_some_and(|h| h.keys().any(|g| *g != f));
        let mut queries: Vec<(usize, Query)> = Vec::new();
        for (f, units) in self.families.iter().enumerate() {
            let asks = |u: &usize| {
                let at = &self.units[*u];
                at.labels.iter().any(|l| self.explainable.contains(l))
                    && elsewhere(&trail_key(&at.unit.scope), f)
            };
            if !units.iter().any(asks) {
                continue;
            }
            let mut reads = self.read(units.iter().copied())?;
            self.judge.analyse(&mut reads.groups);
            queries.extend(
                self.judge
                    .queries(&reads.groups)
                    .into_iter()
                    .filter(|q| elsewhere(&q.trail, f))
                    .map(|q| (f, q)),
            );
        }
        let trails: BTreeSet<&TrailKey> = queries.iter().map(|(_, q)| &q.trail).collect();
        let mut searched: Vec<(TrailKey, usize, Vec<usize>)> = Vec::new();
        for trail in trails {
            for (f, units) in &homes[trail] {
                searched.push((trail.clone(), *f, units.clone()));
            }
        }
        for (trail, f, units) in searched {
            let reads = self.read(units.into_iter())?;
            let mut asking: Vec<&mut Query> = queries
                .iter_mut()
                .filter(|(qf, q)| *qf != f && q.trail == trail)
                .map(|(_, q)| q)
                .collect();
            explain::offer_reads(&mut asking, &reads.groups);
        }
        Ok(queries
            .into_iter()
            .map(|(_, q)| ((q.label, q.index), q.near))
            .collect())
    }
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
                ledger_counts: None,
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
