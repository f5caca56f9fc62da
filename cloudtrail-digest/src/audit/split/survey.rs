//! The first pass of a merge: every part read once, in turn, for where each unit lies,
//! whether every unit of the plan is there once, which units are judged together (a
//! family), what crosses families, and which chains may have a gap or truncation to
//! explain.

use std::collections::{btree_map, hash_map, BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use chrono::{DateTime, Duration, Utc};

use super::super::elsewhere::Elsewhere;
use super::super::Group;
use super::{plan_error, Unit};
use crate::error::Error;

/// A unit's part as the first pass found it: where it lies, and its chains.
pub(super) struct Indexed {
    pub input: usize,
    pub range: Range<u64>,
    pub unit: Unit,
    pub labels: Vec<String>,
}

/// What the first pass notes of a chain to tell whether its analysis may find a gap or
/// a truncation (those are explained from logs that may lie in other families). A
/// digest two slices read is noted twice, which can only say "may" more often.
#[derive(Default)]
pub(super) struct Ends {
    /// Verified digests without a predecessor: after the chain's first, each is a gap.
    starting: usize,
    /// The chain's first digest in its order: a head truncation when it starts a chain
    /// (or does not verify) late.
    first: Option<Edge>,
    /// Its last: a tail truncation when it ends early.
    last: Option<Edge>,
}

/// A digest at one end of a chain: its place in the chain's order (end stamp, bucket,
/// key), its span, and whether it starts a chain or did not verify.
struct Edge {
    order: (DateTime<Utc>, String, String),
    span: (DateTime<Utc>, DateTime<Utc>),
    starting: bool,
    unverified: bool,
}

impl Edge {
    fn place(&self) -> (DateTime<Utc>, &str, &str) {
        (self.order.0, &self.order.1, &self.order.2)
    }
}

impl Ends {
    pub(super) fn note(&mut self, group: &Group) {
        for m in &group.members {
            let starting = m.verified().is_some_and(|v| v.previous.is_none());
            self.starting += usize::from(starting);
            let (end, bucket, key) = m.order();
            let edge = || Edge {
                order: (end, bucket.to_string(), key.to_string()),
                span: m.span(),
                starting,
                unverified: m.verified().is_none(),
            };
            if self.first.as_ref().is_none_or(|e| (end, bucket, key) < e.place()) {
                self.first = Some(edge());
            }
            if self.last.as_ref().is_none_or(|e| (end, bucket, key) > e.place()) {
                self.last = Some(edge());
            }
        }
    }

    /// Whether the chain's analysis may find a gap (a starting digest after its first)
    /// or a truncation (a first digest that starts a chain, or does not verify, more
    /// than `allowance` after the window's start; a last one that ends more than
    /// `allowance` before the window's end or `now`).
    pub(super) fn may_explain(
        &self,
        window: (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
        allowance: Duration,
    ) -> bool {
        let first_starting = self.first.as_ref().is_some_and(|e| e.starting);
        let late_start = self
            .first
            .as_ref()
            .is_some_and(|e| (e.starting || e.unverified) && e.span.0 - window.0 > allowance);
        let early_end = self
            .last
            .as_ref()
            .is_some_and(|e| window.1.min(now) - e.span.1 > allowance);
        self.starting > usize::from(first_starting) || late_start || early_end
    }
}

/// Notes what a chain's reads hold that a family judged apart needs: logs its valid
/// digests list, and logs its failing digests list, outside its own log folder.
pub(super) fn crossing(group: &Group, elsewhere: &mut Elsewhere) {
    let own = group.scope.log_folder();
    for log in &group.logs {
        if !log.job.key.starts_with(&own) {
            elsewhere
                .referenced
                .entry(log.job.bucket.clone())
                .or_default()
                .insert(log.job.key.clone());
        }
    }
    for m in &group.members {
        for (bucket, key) in m.listed.iter().filter(|(_, k)| !k.starts_with(&own)) {
            let place = (group.label.clone(), m.end, m.bucket.clone(), m.key.clone());
            match elsewhere.unverified.entry((bucket.clone(), key.clone())) {
                hash_map::Entry::Occupied(mut e) => {
                    if place < e.get().0 {
                        e.insert((place, m.key.clone()));
                    }
                }
                hash_map::Entry::Vacant(e) => {
                    e.insert((place, m.key.clone()));
                }
            }
        }
    }
}

/// Every unit once, of one plan; else what is wrong, naming the units.
pub(super) fn check_units(parts: &[Indexed]) -> Result<(), Error> {
    let Some(first) = parts.first() else {
        return Err(plan_error("no parts to merge".into()));
    };
    let plan = &first.unit.plan;
    let units = first.unit.units;
    let judge = first.unit.judge();
    let mut seen: Vec<usize> = vec![0; units];
    for p in parts {
        let u = &p.unit;
        if u.plan != *plan || u.units != units || u.judge() != judge || u.unit >= units {
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
        .collect::<BTreeSet<_>>()
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
    Ok(())
}

/// The units judged together, in chain label order: those of one log folder (a
/// family), and, should the labels of several families interleave, all of those, so
/// that findings come out in label order.
pub(super) fn families(units: &[Indexed]) -> Vec<Vec<usize>> {
    // Each log folder's first and last chain label.
    let mut spans: BTreeMap<String, (String, String)> = BTreeMap::new();
    for at in units {
        let folder = at.unit.scope.log_folder();
        let labels = std::iter::once(&at.unit.chain).chain(&at.labels);
        for label in labels {
            match spans.entry(folder.clone()) {
                btree_map::Entry::Vacant(e) => {
                    e.insert((label.clone(), label.clone()));
                }
                btree_map::Entry::Occupied(mut e) => {
                    let (first, last) = e.get_mut();
                    if label < first {
                        *first = label.clone();
                    }
                    if label > last {
                        *last = label.clone();
                    }
                }
            }
        }
    }
    let mut by_first: Vec<(String, String, String)> = spans
        .into_iter()
        .map(|(folder, (first, last))| (first, last, folder))
        .collect();
    by_first.sort();
    // Folders whose spans meet are judged together.
    let mut group_of: HashMap<String, usize> = HashMap::new();
    let mut reach: Option<String> = None;
    let mut count = 0;
    for (first, last, folder) in by_first {
        match &mut reach {
            Some(r) if first <= *r => {
                if last > *r {
                    *r = last;
                }
            }
            _ => {
                count += 1;
                reach = Some(last);
            }
        }
        group_of.insert(folder, count - 1);
    }
    let mut out = vec![Vec::new(); count];
    for (u, at) in units.iter().enumerate() {
        out[group_of[&at.unit.scope.log_folder()]].push(u);
    }
    out
}
