//! Explaining gaps and truncations: the trail-control events (`StopLogging`, ...) found
//! in the valid logs next to them, and whether backfill digests cover a gap.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::finding::{Finding, Side, TrailEvent};
use super::members::Member;
use super::{Group, Judge, Span, TrailEvents};
use crate::layout::{chain_label, ChainScope};

impl Judge {
    /// Fills in the trail events near each gap and truncation (each log's, from
    /// `recorded`), and marks gaps that backfill digests cover.
    pub(super) fn explain(
        &self,
        groups: &mut [Group],
        valid_logs: &[(usize, String, String, DateTime<Utc>)],
        recorded: &TrailEvents<'_>,
    ) {
        const NEAR: usize = 2;
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
        let scopes: Vec<(ChainScope, bool)> = groups.iter().map(|g| (g.scope.clone(), g.backfill)).collect();
        for (gi, group) in groups.iter_mut().enumerate() {
            let needs = |f: &(DateTime<Utc>, u8, Finding)| {
                matches!(f.2, Finding::Gap { .. } | Finding::Truncation { .. })
            };
            if !group.analysis.findings.iter().any(needs) {
                continue;
            }
            let scope = &scopes[gi].0;
            // Logs of this chain and of the trail's home-region chains (where the trail's
            // own API calls are recorded).
            let mut logs: Vec<&(usize, String, String, DateTime<Utc>)> = valid_logs
                .iter()
                .filter(|(g, ..)| {
                    let (s, _) = &scopes[*g];
                    *g == gi
                        || (s.trail_name == scope.trail_name
                            && s.home_region == scope.home_region
                            && s.prefix == scope.prefix
                            && s.organization_id == scope.organization_id
                            && s.source_region == s.home_region)
                })
                .collect();
            logs.sort_by_key(|l| (l.3, &l.2));
            let near = |before: Option<DateTime<Utc>>, after: Option<DateTime<Utc>>| {
                let mut picked: Vec<&(usize, String, String, DateTime<Utc>)> = Vec::new();
                if let Some(t) = before {
                    picked.extend(logs.iter().rev().filter(|l| l.3 <= t).take(NEAR));
                }
                if let Some(t) = after {
                    let from = t - Duration::minutes(5);
                    picked.extend(logs.iter().filter(|l| l.3 >= from).take(NEAR));
                }
                let mut seen = HashSet::new();
                let mut events: Vec<TrailEvent> = picked
                    .into_iter()
                    .filter(|l| seen.insert((&l.1, &l.2)))
                    .flat_map(|l| recorded(&l.1, &l.2, &scope.trail_name))
                    .collect();
                events.sort_by(|a, b| (&a.time, &a.log_key).cmp(&(&b.time, &b.log_key)));
                events.dedup();
                events
            };
            for (_, _, f) in &mut group.analysis.findings {
                match f {
                    Finding::Gap {
                        from,
                        to,
                        explanation,
                        covered_by_backfill,
                        ..
                    } => {
                        *explanation = near(Some(*from), Some(*to));
                        if let Some(spans) = backfill_spans.get(&chain_label(scope, false)) {
                            *covered_by_backfill = covers(spans, *from, *to);
                        }
                    }
                    Finding::Truncation {
                        side,
                        from,
                        to,
                        explanation,
                        ..
                    } => {
                        *explanation = match side {
                            Side::Tail => near(Some(*from), None),
                            Side::Head => near(None, Some(*to)),
                        }
                    }
                    _ => {}
                }
            }
        }
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
