//! An audit with a ledger: the logs the ledger vouches for are not read again, each
//! chain counts what it read and what it reused, and what changed since the ledger's
//! run, or is gone, is reported on the chain the ledger recorded it for.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::chain::{rank, Analysis, Ranked};
use super::finding::{Finding, Status};
use super::members::{Member, State};
use super::{Audit, AuditReport, Group, Reads};
use crate::error::Error;
use crate::fetch::metered::Metered;
use crate::layout::{chain_label, DigestKeyName};
use crate::ledger::{Change, Ledger, LedgerScope, Tracked};
use crate::verdict::LogVerdict;

impl Audit<'_> {
    /// What a ledger for this audit is made for: the command, the buckets and the chain
    /// filter. A caller adds what the audit cannot know (which kind of source it reads).
    pub fn ledger_scope(&self) -> LedgerScope {
        let list = |v: &[String]| v.join(",");
        let f = &self.filter;
        let mut buckets = self.buckets.clone();
        buckets.sort();
        LedgerScope::new("audit")
            .with("buckets", list(&buckets))
            .with("accounts", list(&f.accounts))
            .with("regions", list(&f.regions))
            .with("trail_names", list(&f.trail_names))
            .with("home_regions", list(&f.home_regions))
            .with("organization_ids", list(&f.organization_ids))
            .with("prefix", f.prefix.clone().unwrap_or_else(|| "(any)".to_string()))
    }

    /// Runs the audit with what `previous` recorded: logs whose identity has not changed
    /// since are not read again, digests not fetched again (their stored bytes come from
    /// the ledger and are checked again, signature included), and every object whose
    /// identity changed, or that is gone, is a finding ([`Finding::Changed`],
    /// [`Finding::Removed`]). Returns the report and the ledger to keep for the next run.
    /// `previous` must have been made for this audit's scope ([`Audit::ledger_scope`],
    /// plus what the caller added): a ledger made for another is refused.
    pub fn run_with_ledger(&self, previous: Ledger) -> Result<(AuditReport, Ledger), Error> {
        match self.run_with_ledger_from(|| Ok::<Ledger, std::convert::Infallible>(previous)) {
            Ok(run) => run,
            Err(never) => match never {},
        }
    }

    /// [`Audit::run_with_ledger`], with the ledger read by `load` on a thread of its own
    /// while the audit lists its folders (in S3 the ledger's own requests then cost no
    /// round trip of their own). `Err` when `load` fails, whatever else happened; else
    /// the run's own result.
    pub fn run_with_ledger_from<E: Send>(
        &self,
        load: impl FnOnce() -> Result<Ledger, E> + Send,
    ) -> Result<Result<(AuditReport, Ledger), Error>, E> {
        Ok(self
            .read_with_ledger_from(load)?
            .map(|(read, next)| (read.judge(), next)))
    }

    /// The reading half of [`Audit::run_with_ledger_from`]: everything read, and the
    /// ledger for the next run, which is complete before anything is judged. A caller
    /// can write the ledger out while [`ReadAudit::judge`] judges (and put it in place
    /// once the report is out).
    pub fn read_with_ledger_from<E: Send>(
        &self,
        load: impl FnOnce() -> Result<Ledger, E> + Send,
    ) -> Result<Result<(ReadAudit<'_>, Ledger), Error>, E> {
        let (deliver, delivered) = std::sync::mpsc::sync_channel(1);
        std::thread::scope(|s| {
            let loading = s.spawn(move || load().map(|ledger| drop(deliver.send(ledger))));
            let read = self.read_tracked(Tracked::awaiting(self.source, delivered, self.ledger_scope()));
            match loading.join() {
                Ok(loaded) => loaded.map(|()| read),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    fn read_tracked(&self, tracked: Tracked<'_>) -> Result<(ReadAudit<'_>, Ledger), Error> {
        let audit = Audit {
            source: &tracked,
            buckets: self.buckets.clone(),
            filter: self.filter.clone(),
            slice: self.slice.clone(),
            ..*self
        };
        let metered = Metered::new(&tracked);
        let mut reads = audit.read(&metered, &metered, None, Some(&tracked))?;
        count(&mut reads.groups, &tracked);
        let changes = tracked.changes();
        let next = tracked.into_ledger(self.window, self.now, fingerprints(&reads.groups));
        let read = ReadAudit {
            audit: self,
            reads,
            changes,
        };
        Ok((read, next))
    }
}

/// An audit with a ledger whose reading is done ([`Audit::read_with_ledger_from`]): what
/// it read and what changed since the ledger's run, to be judged.
pub struct ReadAudit<'r> {
    audit: &'r Audit<'r>,
    reads: Reads,
    changes: Vec<Change>,
}

impl ReadAudit<'_> {
    /// Judges what was read, as [`Audit::run_with_ledger`] reports it: reading nothing
    /// more than the trail events that explain gaps.
    pub fn judge(mut self) -> AuditReport {
        let audit = self.audit;
        audit.judge_reads(&mut self.reads, audit.source, Some(self.changes));
        audit.judge().assemble(self.reads.groups)
    }
}

/// The fingerprints of the keys that verified the groups' digests, sorted, each once:
/// what the next ledger records as the keys used.
fn fingerprints(groups: &[Group]) -> Vec<String> {
    let mut keys: Vec<String> = groups
        .iter()
        .flat_map(|g| &g.members)
        .filter_map(|m| m.verified().map(|v| v.fingerprint.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Each chain's count of objects read and reused, and the verdict of each digest for
/// the next ledger.
pub(super) fn count(groups: &mut [Group], ledger: &Tracked<'_>) {
    for group in groups {
        let (mut read, mut reused) = (0, 0);
        for m in &group.members {
            if ledger.reused(&m.bucket, &m.key) {
                reused += 1;
            } else if !m.archived() {
                read += 1;
            }
            ledger.label_digest(&m.bucket, &m.key, &group.label, digest_word(m));
        }
        for log in &group.logs {
            if ledger.reused(&log.job.bucket, &log.job.key) {
                reused += 1;
            } else if !matches!(log.verdict, LogVerdict::Archived(_)) {
                read += 1;
            }
        }
        group.ledger_counts = Some((read, reused));
    }
}

fn digest_word(m: &Member) -> &'static str {
    match m.state {
        State::Valid(_) => Status::Valid.as_str(),
        _ => Status::Invalid.as_str(),
    }
}

/// Reports each change on the chain the ledger recorded the object for, at the time of
/// the object's own finding (or the window's start). A chain the run no longer finds at
/// all is added, so that what is gone from it is still reported.
pub(super) fn report_changes(groups: &mut Vec<Group>, mut changes: Vec<Change>, start: DateTime<Utc>) {
    // Digests first: one of them names a chain that is gone as a whole.
    changes.sort_by_key(|c| !c.digest);
    let mut labels: HashSet<String> = groups.iter().map(|g| g.label.clone()).collect();
    let mut by_chain: HashMap<String, Vec<Change>> = HashMap::new();
    for c in changes {
        if !labels.contains(&c.chain) {
            let Some(group) = vanished_chain(&c) else {
                continue;
            };
            labels.insert(group.label.clone());
            let at = groups.partition_point(|g| g.label < group.label);
            groups.insert(at, group);
        }
        by_chain.entry(c.chain.clone()).or_default().push(c);
    }
    for group in groups.iter_mut() {
        let Some(changes) = by_chain.remove(&group.label) else {
            continue;
        };
        // Each object's own finding, looked up once per chain (a bucket copied over
        // itself changes every object at once).
        let mut times: HashMap<(&str, &str), DateTime<Utc>> = HashMap::new();
        for (t, _, f) in &group.analysis.findings {
            if let Some(object) = f.object() {
                times.entry(object).or_insert(*t);
            }
        }
        let found: Vec<Ranked> = changes
            .into_iter()
            .map(|c| {
                let at = times
                    .get(&(c.bucket.as_str(), c.key.as_str()))
                    .copied()
                    .unwrap_or(start);
                (at, rank::LEDGER, change_finding(c))
            })
            .collect();
        group.analysis.findings.extend(found);
    }
}

/// The finding of one change: `Changed` when the object is still there, else `Removed`.
fn change_finding(c: Change) -> Finding {
    match c.current {
        Some(current) => Finding::Changed {
            chain: c.chain,
            bucket: c.bucket,
            key: c.key,
            digest: c.digest,
            previous: c.previous,
            current,
        },
        None => Finding::Removed {
            chain: c.chain,
            bucket: c.bucket,
            key: c.key,
            digest: c.digest,
            previous: c.previous,
        },
    }
}

/// A chain found in an earlier run and not in this one, named by one of its digests.
fn vanished_chain(c: &Change) -> Option<Group> {
    let name = DigestKeyName::parse(&c.key).filter(|_| c.digest)?;
    let label = chain_label(&name.scope, name.backfill);
    (label == c.chain).then(|| Group {
        label,
        scope: name.scope,
        backfill: name.backfill,
        listed: Vec::new(),
        members: Vec::new(),
        logs: Vec::new(),
        ledger_counts: Some((0, 0)),
        analysis: Analysis::default(),
    })
}

#[cfg(test)]
mod tests;
