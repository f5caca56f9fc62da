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
//! therefore left to the merge ([`Merge`], or [`merge`] in memory), which sees every
//! part, one family of chains at a time: a part holds what its unit read (digests, log
//! verdicts, the log folders' listings, each valid log's trail events), never a verdict.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Audit, Judge, Slice};
use crate::error::Error;
use crate::layout::{chain_label, ChainScope};
use crate::plan::window;
use crate::plan::ChainFilter;
use crate::source::ObjectSource;

mod edges;
mod merge;
mod part;
mod survey;

#[cfg(test)]
pub(super) use merge::recorded_events;
pub use merge::{merge, Merge, PartInput};
pub use part::Part;
#[cfg(test)]
use survey::Ends;

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
            let start = |n: i64| stamps.0 + hours * (n as i32);
            for (i, (n, digests)) in counts.into_iter().enumerate() {
                let after = start(n);
                let until = (after + hours).min(stamps.1);
                let next = numbers.get(i + 1).map(|n| start(*n));
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
    pub(super) fn log_days(&self) -> Option<(NaiveDate, NaiveDate)> {
        let (first, last) = (
            self.window.0.date_naive(),
            self.window.1.min(self.now).date_naive(),
        );
        (first <= last).then_some((first, last))
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
    let reads = audit.read(&metered, &metered, None, None)?;
    Ok(Part {
        unit: unit.clone(),
        reads,
    })
}

#[cfg(test)]
mod tests;
