//! Judging what an audit read, without reading: each chain's analysis, the verdict of
//! every log, the objects no valid digest lists, and the trail events that explain gaps.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};

use super::chain::{rank, Context};
use super::finding::Finding;
use super::placement::{self, FolderListing};
use super::{Group, ReadLog, Span, TrailEvents};
use crate::layout::LogKeyName;

/// What judging needs of an audit: its window, "now" and delivery allowance. Judging
/// reads nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Judge {
    pub window: Span,
    pub now: DateTime<Utc>,
    pub allowance: Duration,
}

impl Judge {
    /// Judges what was read: each chain's analysis, the verdict of every log, the
    /// objects no valid digest lists, and the trail events (from `events`) that explain
    /// gaps and truncations. Reads nothing itself.
    pub fn judge(&self, groups: &mut [Group], listings: &[FolderListing], events: &TrailEvents<'_>) {
        let mut referenced: HashSet<(String, String)> = HashSet::new();
        let mut valid_logs: Vec<(usize, String, String, DateTime<Utc>)> = Vec::new();
        for (g, group) in groups.iter_mut().enumerate() {
            let ctx = Context {
                label: &group.label,
                scope: &group.scope,
                backfill: group.backfill,
                window: self.window,
                now: self.now,
                allowance: self.allowance,
            };
            group.analysis = ctx.analyse(&group.members);
            for log in std::mem::take(&mut group.logs) {
                let ReadLog {
                    digest_key,
                    end,
                    job,
                    verdict,
                    ..
                } = log;
                let misplaced = placement::misplaced(&group.scope, &job.key);
                referenced.insert((job.bucket.clone(), job.key.clone()));
                if verdict.is_valid() {
                    if let Some(name) = LogKeyName::parse(&job.key) {
                        valid_logs.push((g, job.bucket.clone(), job.key.clone(), name.delivered));
                    }
                }
                group.analysis.findings.push((
                    end,
                    rank::LOG,
                    Finding::Log {
                        chain: group.label.clone(),
                        bucket: job.bucket,
                        key: job.key,
                        digest_key,
                        verdict,
                        misplaced,
                    },
                ));
            }
        }
        self.unreferenced(groups, &referenced, listings);
        self.explain(groups, &valid_logs, events);
    }
}
