//! Judging what an audit read, without reading: each chain's analysis, the verdict of
//! every log, the objects no valid digest lists, and the trail events that explain gaps.

use chrono::{DateTime, Duration, Utc};

use super::chain::{rank, Context};
use super::elsewhere::Elsewhere;
use super::finding::Finding;
use super::placement::{self, FolderListing};
use super::{Group, ReadLog, Span, TrailEvents};

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
    pub fn judge(
        &self,
        groups: &mut [Group],
        listings: &[FolderListing],
        events: &TrailEvents<'_>,
        elsewhere: &Elsewhere,
    ) {
        self.analyse(groups);
        for group in groups.iter_mut() {
            // Each read becomes its finding (moved, not copied): what judging looks up
            // later (the logs referenced, the valid ones near a gap) it borrows from there.
            for log in std::mem::take(&mut group.logs) {
                let ReadLog {
                    digest_key,
                    end,
                    job,
                    verdict,
                    ..
                } = log;
                let misplaced = placement::misplaced(&group.scope, &job.key);
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
        self.unreferenced(groups, listings, elsewhere);
        self.explain(groups, events, &elsewhere.near);
    }

    /// Each chain's own analysis: links, missing runs, gaps and truncations.
    pub fn analyse(&self, groups: &mut [Group]) {
        for group in groups.iter_mut() {
            let ctx = Context {
                label: &group.label,
                scope: &group.scope,
                backfill: group.backfill,
                window: self.window,
                now: self.now,
                allowance: self.allowance,
            };
            group.analysis = ctx.analyse(&group.members);
        }
    }
}
