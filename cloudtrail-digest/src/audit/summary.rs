//! The audit's report: findings in order, one summary per chain, and the verdict.

use super::finding::{ChainSummary, DigestState, Finding, Status};
use super::{AuditReport, Group, Judge};

impl Judge {
    pub(super) fn assemble(&self, groups: Vec<Group>) -> AuditReport {
        let mut findings = Vec::new();
        let mut chains = Vec::new();
        for mut group in groups {
            group.analysis.findings.sort_by_key(|(t, r, _)| (*t, *r));
            let mut s = ChainSummary {
                chain: group.label.clone(),
                prefix: group.scope.prefix.clone(),
                organization_id: group.scope.organization_id.clone(),
                account_id: group.scope.account_id.clone(),
                source_region: group.scope.source_region.clone(),
                trail_name: group.scope.trail_name.clone(),
                home_region: group.scope.home_region.clone(),
                backfill: group.backfill,
                ..ChainSummary::default()
            };
            let mut buckets: Vec<String> = group.members.iter().map(|m| m.bucket.clone()).collect();
            buckets.sort();
            buckets.dedup();
            s.buckets = buckets;
            s.covered_from = group.members.iter().map(|m| m.span().0).min();
            s.covered_to = group.members.iter().map(|m| m.span().1).max();
            let mut status = Status::Valid;
            for (_, _, f) in group.analysis.findings {
                let st = f.status();
                match &f {
                    Finding::Digest { state, .. } => match state {
                        DigestState::Valid { .. } => s.digests_valid += 1,
                        DigestState::Invalid(_) => s.digests_invalid += 1,
                        DigestState::Missing { .. } => s.digests_missing += 1,
                        DigestState::Archived(_) => s.archived += 1,
                    },
                    Finding::Log { .. } if st == Status::Archived => s.archived += 1,
                    Finding::Log { .. } if st == Status::Valid => s.logs_valid += 1,
                    Finding::Log { .. } => s.logs_invalid += 1,
                    Finding::UnreferencedLog { .. } => s.unreferenced_logs += 1,
                    Finding::ChainLink { .. } => s.chain_links_broken += 1,
                    Finding::Gap { .. } => {
                        s.gaps += 1;
                        if st == Status::Warning {
                            s.gaps_unexplained += 1;
                        }
                    }
                    Finding::Truncation { .. } if st == Status::Warning => s.truncations += 1,
                    Finding::Truncation { .. } => {}
                    Finding::MissingDigests { .. } | Finding::ChainSummary(_) => {}
                }
                if st.is_failure() {
                    status = Status::Invalid;
                } else if matches!(st, Status::Warning | Status::Archived) && status == Status::Valid {
                    status = Status::Warning;
                }
                findings.push(f);
            }
            s.status = Some(status);
            chains.push(s);
        }
        AuditReport {
            window: self.window,
            now: self.now,
            allowance: self.allowance,
            findings,
            chains,
        }
    }
}
