//! The audit's report: findings in order, one summary per chain, and the verdict.

use super::finding::{ChainSummary, DigestState, Finding, Status};
use super::{AuditReport, Group, Judge};

/// What a report's findings come to, counted a finding at a time (a report written as
/// it is made never holds them all): the exit code and the verdict in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    chains: usize,
    failure: bool,
    incomplete: bool,
    archived: usize,
    changed: usize,
}

impl Outcome {
    /// Nothing counted yet, for a report of `chains` chains.
    pub fn new(chains: usize) -> Outcome {
        Outcome {
            chains,
            ..Outcome::default()
        }
    }

    /// Counts one finding's status.
    pub fn count(&mut self, status: Status) {
        self.failure |= status.is_failure();
        self.incomplete |= matches!(status, Status::Warning | Status::Archived);
        self.archived += usize::from(status == Status::Archived);
    }

    /// Counts one finding: its status, and what kind of warning it is (an object
    /// changed since a ledger's run is told apart from incomplete coverage).
    pub fn note(&mut self, finding: &Finding) {
        if let Finding::Changed { .. } = finding {
            self.changed += 1;
        } else {
            self.count(finding.status());
        }
    }

    /// 1 when any integrity failure was found, 3 when coverage is incomplete (or no
    /// chain was found at all, or objects are archived and could not be checked), 0
    /// otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.failure {
            1
        } else if self.chains == 0 || self.incomplete || self.changed > 0 {
            3
        } else {
            0
        }
    }

    /// How many digests and logs are archived and not restored.
    pub fn archived(&self) -> usize {
        self.archived
    }

    /// The verdict in words.
    pub fn verdict(&self) -> &'static str {
        match self.exit_code() {
            0 => "every chain is complete and valid",
            1 => "INTEGRITY FAILURE: tampered, forged, missing or unverifiable files",
            _ if self.chains == 0 => "NO COVERAGE: no digest chain found in the window",
            _ if self.archived > 0 => {
                "INCOMPLETE: archived objects could not be checked until they are restored; everything read is valid"
            }
            _ if self.incomplete => {
                "INCOMPLETE COVERAGE: everything present is valid, but the chains do not cover the whole window"
            }
            _ => "CHANGED: objects are not those the ledger's run verified (each is reported); everything read is valid",
        }
    }
}

impl Judge {
    /// The report of judged chains (in label order).
    pub(super) fn assemble(&self, groups: Vec<Group>) -> AuditReport {
        let mut findings = Vec::new();
        let mut chains = Vec::new();
        for group in groups {
            let (summary, found) = summarise(group);
            chains.push(summary);
            findings.extend(found);
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

/// One judged chain's summary, and its findings in time order.
pub(super) fn summarise(mut group: Group) -> (ChainSummary, Vec<Finding>) {
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
    if let Some((read, reused)) = group.ledger_counts {
        s.objects_read = Some(read);
        s.objects_reused = Some(reused);
    }
    let mut status = Status::Valid;
    let mut findings = Vec::with_capacity(group.analysis.findings.len());
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
            Finding::MissingDigests { .. }
            | Finding::Changed { .. }
            | Finding::Removed { .. }
            | Finding::ChainSummary(_) => {}
        }
        if st.is_failure() {
            status = Status::Invalid;
        } else if matches!(st, Status::Warning | Status::Archived) && status == Status::Valid {
            status = Status::Warning;
        }
        findings.push(f);
    }
    s.status = Some(status);
    (s, findings)
}
