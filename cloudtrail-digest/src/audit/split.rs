//! An audit split across processes: a plan of units (one chain scope each: an account's
//! trail in one region, standard and backfill digests together), each unit read
//! anywhere into a part, and the parts merged and judged into exactly the report one
//! run over the whole scope gives.
//!
//! What one scope's digests and logs are found to be depends on that scope alone, so a
//! unit reads everything a verdict on its chains needs. Judging needs more (the trail
//! events in another region's logs explain a gap, several trails share a log folder),
//! and is therefore left to [`merge`], which has every part: a part holds what its unit
//! read (digests, log verdicts, the log folders' listings, each valid log's trail
//! events), never a verdict.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Write};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::placement::FolderListing;
use super::{Audit, AuditReport, Group, Judge, Reads};
use crate::error::Error;
use crate::layout::{chain_label, ChainScope};
use crate::plan::window;
use crate::plan::ChainFilter;
use crate::source::ObjectSource;

/// One unit of a plan: a chain scope over the plan's window, enough to run it alone
/// (with the source and keys given again). A line of the plan, as JSON.
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
    /// Digests listed in the window for this scope: the unit's size.
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
    /// The plan of this audit: one unit per chain scope with digests in the window,
    /// largest first (so that taking every Nth unit spreads the work evenly), ties in
    /// label order.
    pub fn plan(&self) -> Result<Vec<Unit>, Error> {
        let listed = window::digests_in_window(self.source, &self.buckets, &self.filter, self.window)?;
        let mut scopes: BTreeMap<String, (ChainScope, usize)> = BTreeMap::new();
        for l in listed {
            let label = chain_label(&l.name.scope, false);
            scopes.entry(label).or_insert_with(|| (l.name.scope.clone(), 0)).1 += 1;
        }
        let mut scopes: Vec<(String, ChainScope, usize)> = scopes
            .into_iter()
            .map(|(label, (scope, n))| (label, scope, n))
            .collect();
        scopes.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        let units = scopes.len();
        let mut plan: Vec<Unit> = scopes
            .into_iter()
            .enumerate()
            .map(|(i, (chain, scope, digests))| Unit {
                plan: String::new(),
                unit: i,
                units,
                chain,
                scope,
                buckets: self.buckets.clone(),
                start_time: self.window.0,
                end_time: self.window.1,
                now: self.now,
                delivery_allowance_seconds: self.allowance.num_seconds(),
                digests,
            })
            .collect();
        let id = plan_id(&plan);
        for u in &mut plan {
            u.plan = id.clone();
        }
        Ok(plan)
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
    Unit(Unit),
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
    audit.only_scope = Some(unit.scope.clone());
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
                        unit,
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
                        "{name}, line {number}: the part of unit {} ({}) is cut short",
                        p.unit.unit, p.unit.chain
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
                "{name}: the part of unit {} ({}) is cut short (no end line)",
                p.unit.unit, p.unit.chain
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
                "unit {} ({}) is of another plan than unit {} ({}): plan {} and plan {}",
                u.unit, u.chain, first.unit.unit, first.unit.chain, u.plan, plan
            )));
        }
        seen[u.unit] += 1;
    }
    let doubled: Vec<String> = parts
        .iter()
        .filter(|p| seen[p.unit.unit] > 1)
        .map(|p| format!("{} ({})", p.unit.unit, p.unit.chain))
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

    // Chains in label order, as one run holds them; listings re-pointed at them and
    // folded together where units share a log folder.
    let mut groups: Vec<Group> = Vec::new();
    let mut listings: Vec<(usize, FolderListing)> = Vec::new();
    for (u, part) in parts.into_iter().enumerate() {
        let base = groups.len();
        groups.extend(part.reads.groups);
        listings.extend(part.reads.listings.into_iter().map(|mut l| {
            for o in &mut l.owners {
                *o += base;
            }
            (u, l)
        }));
    }
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|a, b| groups[*a].label.cmp(&groups[*b].label));
    let mut position = vec![0; groups.len()];
    for (to, from) in order.iter().enumerate() {
        position[*from] = to;
    }
    let mut slots: Vec<Option<Group>> = groups.into_iter().map(Some).collect();
    let groups: Vec<Group> = order
        .iter()
        .map(|i| slots[*i].take().expect("each chain once"))
        .collect();
    let mut folded: BTreeMap<(String, String), FolderListing> = BTreeMap::new();
    for (_, mut l) in listings {
        for o in &mut l.owners {
            *o = position[*o];
        }
        match folded.get_mut(&(l.bucket.clone(), l.folder.clone())) {
            Some(f) => {
                f.owners.extend(l.owners);
                f.owners.sort_unstable();
                f.owners.dedup();
            }
            None => {
                folded.insert((l.bucket.clone(), l.folder.clone()), l);
            }
        }
    }
    let mut reads = Reads {
        groups,
        listings: folded.into_values().collect(),
    };
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
    /// and order, gives exactly the whole run's report, on every tree.
    #[test]
    fn parts_merge_to_the_whole_run_on_every_tree() {
        let mut split_somewhere = false;
        for (dir, window, now) in super::super::tests::trees() {
            let (mirror, keys) = super::super::tests::tree_source(&dir);
            let audit = Audit::new(&mirror, &keys, mirror.buckets(), window, now)
                .unwrap()
                .jobs(2);
            let whole = audit.run().unwrap();
            let plan = audit.plan().unwrap();
            let mut scopes: Vec<&str> = whole
                .chains
                .iter()
                .map(|c| c.chain.trim_end_matches("/backfill"))
                .collect();
            scopes.dedup();
            assert_eq!(
                plan.len(),
                scopes.len(),
                "{}: a unit for each scope",
                dir.display()
            );
            split_somewhere |= plan.len() > 1;
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
            assert_eq!(merge(parts).unwrap(), whole, "{}", dir.display());
            // In reverse order too.
            let mut parts = Part::read_all(&mut &written[..], "parts").unwrap();
            parts.reverse();
            assert_eq!(merge(parts).unwrap(), whole, "{}", dir.display());
        }
        assert!(split_somewhere, "some tree has several units");
    }
}
