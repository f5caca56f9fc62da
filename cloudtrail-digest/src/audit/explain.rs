//! Explaining gaps and truncations: the trail-control events (`StopLogging`, ...) found
//! in the valid logs next to them, and whether backfill digests cover a gap.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use super::chain::Ranked;
use super::finding::{Finding, Side, TrailEvent};
use super::members::Member;
use super::{Group, Judge, Span, TrailEvents};
use crate::layout::{chain_label, LogKeyName};

/// What explaining found for one gap or truncation: its chain, its index among the
/// chain's findings, the trail events near it, and for a gap whether backfill covers it.
type Explained = (usize, usize, Vec<TrailEvent>, Option<bool>);

impl Judge {
    /// Fills in the trail events near each gap and truncation (each log's, from
    /// `recorded`), and marks gaps that backfill digests cover.
    pub(super) fn explain(&self, groups: &mut [Group], recorded: &TrailEvents<'_>) {
        for (g, i, events, covered) in self.explanations(groups, recorded) {
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

    /// What [`Judge::explain`] fills in, found without changing anything: the valid
    /// logs it looks through are borrowed from the log findings.
    fn explanations(&self, groups: &[Group], recorded: &TrailEvents<'_>) -> Vec<Explained> {
        const NEAR: usize = 2;
        let needs = |f: &Ranked| matches!(f.2, Finding::Gap { .. } | Finding::Truncation { .. });
        let mut out = Vec::new();
        if !groups.iter().any(|g| g.analysis.findings.iter().any(needs)) {
            return out;
        }
        // The valid logs with a log file name: (chain, bucket, key, delivered).
        let valid_logs: Vec<(usize, &str, &str, DateTime<Utc>)> = super::placement::log_findings(groups)
            .filter(|(_, _, _, verdict)| verdict.is_valid())
            .filter_map(|(g, bucket, key, _)| Some((g, bucket, key, LogKeyName::parse(key)?.delivered)))
            .collect();
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
        for (gi, group) in groups.iter().enumerate() {
            if !group.analysis.findings.iter().any(needs) {
                continue;
            }
            let scope = &group.scope;
            // Logs of this chain and of the trail's home-region chains (where the trail's
            // own API calls are recorded).
            let mut logs: Vec<&(usize, &str, &str, DateTime<Utc>)> = valid_logs
                .iter()
                .filter(|(g, ..)| {
                    let s = &groups[*g].scope;
                    *g == gi
                        || (s.trail_name == scope.trail_name
                            && s.home_region == scope.home_region
                            && s.prefix == scope.prefix
                            && s.organization_id == scope.organization_id
                            && s.source_region == s.home_region)
                })
                .collect();
            logs.sort_by_key(|l| (l.3, l.2));
            let near = |before: Option<DateTime<Utc>>, after: Option<DateTime<Utc>>| {
                let mut picked: Vec<&(usize, &str, &str, DateTime<Utc>)> = Vec::new();
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
                    .filter(|l| seen.insert((l.1, l.2)))
                    .flat_map(|l| recorded(l.1, l.2, &scope.trail_name))
                    .collect();
                events.sort_by(|a, b| (&a.time, &a.log_key).cmp(&(&b.time, &b.log_key)));
                events.dedup();
                events
            };
            for (i, (_, _, f)) in group.analysis.findings.iter().enumerate() {
                match f {
                    Finding::Gap { from, to, .. } => {
                        let covered = backfill_spans
                            .get(&chain_label(scope, false))
                            .map(|spans| covers(spans, *from, *to));
                        out.push((gi, i, near(Some(*from), Some(*to)), covered));
                    }
                    Finding::Truncation { side, from, to, .. } => {
                        let events = match side {
                            Side::Tail => near(Some(*from), None),
                            Side::Head => near(None, Some(*to)),
                        };
                        out.push((gi, i, events, None));
                    }
                    _ => {}
                }
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
