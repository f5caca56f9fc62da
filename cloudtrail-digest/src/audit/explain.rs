//! Explaining gaps and truncations: the trail-control events (`StopLogging`, ...) found
//! in the valid logs next to them, and whether backfill digests cover a gap.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::elsewhere::{Candidate, Near};
use super::finding::{Finding, Side, TrailEvent};
use super::members::Member;
use super::{Group, Judge, ReadLog, Span, TrailEvents};
use crate::layout::{chain_label, ChainScope, LogKeyName};

/// How many valid logs on each side of a gap or truncation are searched for events.
const NEAR: usize = 2;

/// The trail a chain's gaps are explained from: its name, home region, prefix and
/// organization. Its home-region chains record the trail's own API calls.
pub(super) type TrailKey = (String, String, Option<String>, Option<String>);

/// The trail a scope belongs to.
pub(super) fn trail_key(scope: &ChainScope) -> TrailKey {
    (
        scope.trail_name.clone(),
        scope.home_region.clone(),
        scope.prefix.clone(),
        scope.organization_id.clone(),
    )
}

/// Whether a scope is its trail's home-region scope, whose logs explain every gap of
/// the trail.
pub(super) fn is_home(scope: &ChainScope) -> bool {
    scope.source_region == scope.home_region
}

/// A gap or truncation waiting for the trail events of the valid logs nearest it: of
/// its own chain's logs and its trail's home-region chains' logs (wherever those are
/// judged: a merge finds some in other families' parts), the latest [`NEAR`] delivered
/// at or before `before`, and the earliest [`NEAR`] delivered from five minutes before
/// `after` on.
pub(super) struct Query {
    /// Its chain's label, and its place among that chain's analysed findings.
    pub label: String,
    pub index: usize,
    pub trail: TrailKey,
    before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    /// For a gap: whether valid backfill digests cover it.
    covered: Option<bool>,
    pub near: Near,
}

impl Query {
    /// Offers one valid log: it is kept while it is among the nearest on a side.
    pub fn offer(&mut self, c: &Candidate) {
        if self.before.is_some_and(|t| c.time <= t) {
            // The latest first.
            keep(&mut self.near.before, c, |a, b| b.order(a));
        }
        if self.after.is_some_and(|t| c.time >= t) {
            // The earliest first.
            keep(&mut self.near.after, c, Candidate::order);
        }
    }

    /// Takes what another search found for this query.
    pub fn take(&mut self, near: &Near) {
        for c in near.before.iter().chain(&near.after) {
            self.offer(c);
        }
    }

    /// The events the nearest logs hold (each log once), in time order, events taken
    /// with a log or else looked up in `recorded`.
    fn events(&self, recorded: &TrailEvents<'_>) -> Vec<TrailEvent> {
        let mut seen = HashSet::new();
        let mut events: Vec<TrailEvent> = self
            .near
            .before
            .iter()
            .chain(&self.near.after)
            .filter(|c| seen.insert((c.bucket.as_str(), c.key.as_str())))
            .flat_map(|c| match &c.events {
                Some(events) => events.clone(),
                None => recorded(&c.bucket, &c.key, &self.trail.0),
            })
            .collect();
        events.sort_by(|a, b| (&a.time, &a.log_key).cmp(&(&b.time, &b.log_key)));
        events.dedup();
        events
    }
}

/// Puts `c` into `kept` (sorted by `first`, at most [`NEAR`]) if it belongs there.
fn keep(kept: &mut Vec<Candidate>, c: &Candidate, first: impl Fn(&Candidate, &Candidate) -> Ordering) {
    let at = kept
        .iter()
        .position(|k| first(c, k) == Ordering::Less)
        .unwrap_or(kept.len());
    if at < NEAR {
        kept.insert(at, c.clone());
        kept.truncate(NEAR);
    }
}

/// Whether the logs of a chain of `scope` (labelled `label`) may explain `q`: its own
/// chain's, and its trail's home-region chains'.
fn serves(q: &Query, label: &str, scope: &ChainScope) -> bool {
    label == q.label || (is_home(scope) && trail_key(scope) == q.trail)
}

/// A log of one chain as a search for explanations sees it: bucket, key, whether it is
/// valid, and its trail events when they were taken with it.
type SeenLog<'l> = (&'l str, &'l str, bool, Option<&'l Vec<TrailEvent>>);

/// Offers the valid logs with a log file name among `logs` of one chain (`label`, of
/// `scope`) to the queries they serve, each with its place among the chain's logs.
fn offer_chain<'l>(
    queries: &mut [&mut Query],
    label: &str,
    scope: &ChainScope,
    logs: impl Iterator<Item = SeenLog<'l>>,
) {
    let serving: Vec<usize> = (0..queries.len())
        .filter(|&i| serves(queries[i], label, scope))
        .collect();
    if serving.is_empty() {
        return;
    }
    for (pos, (bucket, key, valid, events)) in logs.enumerate() {
        let Some(name) = LogKeyName::parse(key).filter(|_| valid) else {
            continue;
        };
        let c = Candidate {
            time: name.delivered,
            key: key.to_string(),
            label: label.to_string(),
            pos,
            bucket: bucket.to_string(),
            events: events.cloned(),
        };
        for &i in &serving {
            queries[i].offer(&c);
        }
    }
}

/// Offers the valid logs of read (not yet judged) `groups` to the queries they serve,
/// with their recorded events (a log recorded without events has none): how a merge
/// searches other families' logs.
pub(super) fn offer_reads(queries: &mut [&mut Query], groups: &[Group]) {
    static NO_EVENTS: Vec<TrailEvent> = Vec::new();
    for g in groups {
        let logs = g.logs.iter().map(|l: &ReadLog| {
            let events = l.events.as_ref().unwrap_or(&NO_EVENTS);
            (
                l.job.bucket.as_str(),
                l.job.key.as_str(),
                l.verdict.is_valid(),
                Some(events),
            )
        });
        offer_chain(queries, &g.label, &g.scope, logs);
    }
}

impl Judge {
    /// Fills in the trail events near each gap and truncation (each log's, from
    /// `recorded`, and what `found` holds for a query from logs judged elsewhere), and
    /// marks gaps that backfill digests cover.
    pub(super) fn explain(
        &self,
        groups: &mut [Group],
        recorded: &TrailEvents<'_>,
        found: &HashMap<(String, usize), Near>,
    ) {
        let mut queries = self.queries(groups);
        if queries.is_empty() {
            return;
        }
        // Events are looked up in `recorded` once the nearest logs are known.
        let mut asking: Vec<&mut Query> = queries.iter_mut().collect();
        for g in groups.iter() {
            let logs = super::placement::chain_log_findings(g)
                .map(|(bucket, key, verdict)| (bucket, key, verdict.is_valid(), None));
            offer_chain(&mut asking, &g.label, &g.scope, logs);
        }
        let place: HashMap<&str, usize> = groups
            .iter()
            .enumerate()
            .map(|(g, group)| (group.label.as_str(), g))
            .collect();
        let mut filled = Vec::with_capacity(queries.len());
        for q in &mut queries {
            if let Some(near) = found.get(&(q.label.clone(), q.index)) {
                q.take(near);
            }
            filled.push((place[q.label.as_str()], q.index, q.events(recorded), q.covered));
        }
        for (g, i, events, covered) in filled {
            match &mut groups[g].analysis.findings[i].2 {
                Finding::Gap {
                    explanation,
                    covered_by_backfill,
                    ..
                } => {
                    *explanation = events;
                    if let Some(covered) = covered {
                        *covered_by_backfill = covered;
                    }
                }
                Finding::Truncation { explanation, .. } => *explanation = events,
                _ => {}
            }
        }
    }

    /// The gaps and truncations of analysed `groups`, as queries with nothing found yet.
    pub(super) fn queries(&self, groups: &[Group]) -> Vec<Query> {
        let needs = |f: &Finding| matches!(f, Finding::Gap { .. } | Finding::Truncation { .. });
        let mut out = Vec::new();
        if !groups
            .iter()
            .any(|g| g.analysis.findings.iter().any(|f| needs(&f.2)))
        {
            return out;
        }
        let backfill_spans: HashMap<String, Vec<Span>> = groups
            .iter()
            .filter(|g| g.backfill)
            .map(|g| {
                let spans = g
                    .members
                    .iter()
                    .filter(|m| m.verified().is_some())
                    .map(Member::span)
                    .collect();
                (chain_label(&g.scope, false), spans)
            })
            .collect();
        for group in groups {
            let scope = &group.scope;
            for (i, (_, _, f)) in group.analysis.findings.iter().enumerate() {
                let (before, after, covered) = match f {
                    Finding::Gap { from, to, .. } => {
                        let covered = backfill_spans
                            .get(&chain_label(scope, false))
                            .map(|spans| covers(spans, *from, *to));
                        (Some(*from), Some(*to), covered)
                    }
                    Finding::Truncation { side, from, to, .. } => match side {
                        Side::Tail => (Some(*from), None, None),
                        Side::Head => (None, Some(*to), None),
                    },
                    _ => continue,
                };
                out.push(Query {
                    label: group.label.clone(),
                    index: i,
                    trail: trail_key(scope),
                    before,
                    after: after.map(|t| t - Duration::minutes(5)),
                    covered,
                    near: Near::default(),
                });
            }
        }
        out
    }
}

/// Whether `spans` together cover `[from, to)`.
fn covers(spans: &[Span], from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    let mut sorted = spans.to_vec();
    sorted.sort();
    let mut reached = from;
    for (s, e) in sorted {
        if s <= reached && e > reached {
            reached = e;
        }
    }
    reached >= to
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_utc;

    fn t(s: &str) -> DateTime<Utc> {
        parse_utc(s).unwrap()
    }

    #[test]
    fn spans_cover_a_stretch_only_without_holes() {
        let spans = [
            (t("2026-03-01T02:00:00Z"), t("2026-03-01T03:00:00Z")),
            (t("2026-03-01T01:00:00Z"), t("2026-03-01T02:00:00Z")),
        ];
        assert!(covers(
            &spans,
            t("2026-03-01T01:30:00Z"),
            t("2026-03-01T03:00:00Z")
        ));
        assert!(!covers(
            &spans,
            t("2026-03-01T00:59:00Z"),
            t("2026-03-01T02:00:00Z")
        ));
        assert!(!covers(
            &spans[..1],
            t("2026-03-01T01:30:00Z"),
            t("2026-03-01T03:00:00Z")
        ));
    }
}
