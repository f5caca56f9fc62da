//! The forensic audit: every chain of a source, every digest of each chain, and what
//! `validate-logs` cannot see.
//!
//! [`Audit::run`] discovers every digest chain in the buckets given (organization,
//! account, source region, trail, home region; standard and backfill apart), fetches and
//! verifies every digest of the window (not only those on the reference's path), checks
//! the links between neighbours, counts missing hourly digests, notices chains that stop
//! short of the window's ends, re-hashes every log the valid digests list, lists the log
//! folders for objects no digest lists, and explains gaps and truncations with the
//! trail's own control events (`StopLogging`, ...) found in the logs next to them.
//!
//! Everything found is a [`Finding`] (plain data); [`AuditReport`] holds them with
//! per-chain summaries and the exit code, and [`report`] writes text, JSON or NDJSON.
//! The window and "now" are parameters: nothing here reads the clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, DurationRound, Utc};

mod chain;
mod discover;
mod events;
mod finding;
mod logname;
mod members;
pub mod report;

pub use discover::{chain_label, ChainFilter};
pub use finding::{ChainSummary, DigestState, Finding, LinkCheck, Side, Status, TrailEvent};
pub use logname::LogKeyName;

use self::chain::{rank, Analysis, Context, Cover};
use self::discover::{days, Listed};
use self::members::{Keys, Member};
use crate::keyname::{key_stamp, ChainScope};
use crate::keys::PublicKeyProvider;
use crate::logcheck::{check_log, LogJob};
use crate::source::{Object, ObjectSource, SourceError};
use crate::time::display;
use crate::Error;

/// A stretch of time, `[from, to)`.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Default allowance for delivery delays: 90 minutes.
pub const DEFAULT_DELIVERY_ALLOWANCE: Duration = Duration::minutes(90);

/// Hears how far an audit has come (for a progress bar). Called from worker threads.
pub trait Progress: Sync {
    /// `files` more objects will be read.
    fn planned(&self, files: u64);
    /// `bytes` more bytes were read.
    fn read(&self, bytes: u64);
    /// `files` more objects are done.
    fn done(&self, files: u64);
}

struct NoProgress;

impl Progress for NoProgress {
    fn planned(&self, _: u64) {}
    fn read(&self, _: u64) {}
    fn done(&self, _: u64) {}
}

/// A source that counts the bytes read through it.
struct Metered<'a> {
    inner: &'a dyn ObjectSource,
    bytes: Arc<AtomicU64>,
    reported: AtomicU64,
}

struct MeteredReader {
    inner: Box<dyn Read + Send>,
    bytes: Arc<AtomicU64>,
}

impl Read for MeteredReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Metered<'_> {
    /// Tells `progress` one more object is done, with the bytes read since last time.
    fn tick(&self, progress: &dyn Progress) {
        let total = self.bytes.load(Ordering::Relaxed);
        let before = self.reported.fetch_max(total, Ordering::Relaxed);
        progress.read(total.saturating_sub(before));
        progress.done(1);
    }
}

/// Every method is forwarded, so what the source below answers itself is kept.
impl ObjectSource for Metered<'_> {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.inner.list_until(bucket, prefix, start_after, stop)
    }

    fn list(&self, bucket: &str, prefix: &str, start_after: &str) -> Result<Vec<String>, SourceError> {
        self.inner.list(bucket, prefix, start_after)
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        self.inner.size(bucket, key)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let o = self.inner.get(bucket, key)?;
        self.bytes.fetch_add(o.body.len() as u64, Ordering::Relaxed);
        Ok(o)
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        Ok(Box::new(MeteredReader {
            inner: self.inner.open(bucket, key)?,
            bytes: Arc::clone(&self.bytes),
        }))
    }

    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        self.inner.list_folders(bucket, prefix)
    }
}

/// One audit over a source, a set of buckets and a window.
pub struct Audit<'a> {
    source: &'a dyn ObjectSource,
    keys: &'a dyn PublicKeyProvider,
    buckets: Vec<String>,
    window: (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    allowance: Duration,
    filter: ChainFilter,
    jobs: usize,
    progress: &'a dyn Progress,
}

/// Everything an audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// The window audited.
    pub window: (DateTime<Utc>, DateTime<Utc>),
    /// The time the audit took as now.
    pub now: DateTime<Utc>,
    /// The delivery allowance.
    pub allowance: Duration,
    /// Findings, chain by chain in label order, each chain's in time order.
    pub findings: Vec<Finding>,
    /// One summary per chain, in label order.
    pub chains: Vec<ChainSummary>,
}

impl AuditReport {
    /// 1 when any integrity failure was found, 3 when coverage is incomplete (or no
    /// chain was found at all), 0 otherwise.
    pub fn exit_code(&self) -> i32 {
        let statuses: Vec<Status> = self.findings.iter().map(Finding::status).collect();
        if statuses.iter().any(|s| s.is_failure()) {
            1
        } else if self.chains.is_empty() || statuses.contains(&Status::Warning) {
            3
        } else {
            0
        }
    }

    /// The verdict in words.
    pub fn verdict(&self) -> &'static str {
        match self.exit_code() {
            0 => "every chain is complete and valid",
            1 => "INTEGRITY FAILURE: tampered, forged, missing or unverifiable files",
            _ if self.chains.is_empty() => "NO COVERAGE: no digest chain found in the window",
            _ => "INCOMPLETE COVERAGE: everything present is valid, but the chains do not cover the whole window",
        }
    }
}

/// Runs `f` over `items` on up to `jobs` threads; results in item order.
fn parallel_map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { return };
        let r = f(item);
        results.lock().expect("results")[i] = Some(r);
    };
    let threads = jobs.clamp(1, items.len().max(1));
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    results
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every item done"))
        .collect()
}

/// A chain being assembled.
struct Group {
    label: String,
    scope: ChainScope,
    backfill: bool,
    /// Listed digest keys: `(bucket, key, end)`.
    listed: Vec<(String, String, DateTime<Utc>)>,
    members: Vec<Member>,
    analysis: Analysis,
}

impl<'a> Audit<'a> {
    /// An audit of `buckets` in `source` for `window` (inclusive), taking `now` as the
    /// present (digests ending within the delivery allowance of it are not yet due).
    pub fn new(
        source: &'a dyn ObjectSource,
        keys: &'a dyn PublicKeyProvider,
        buckets: Vec<String>,
        window: (DateTime<Utc>, DateTime<Utc>),
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        if window.0 > window.1 {
            return Err(Error::InvalidTimeRange);
        }
        Ok(Audit {
            source,
            keys,
            buckets,
            window,
            now,
            allowance: DEFAULT_DELIVERY_ALLOWANCE,
            filter: ChainFilter::default(),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            progress: &NoProgress,
        })
    }

    /// How late a digest may be delivered before its absence counts (default 90 minutes).
    pub fn delivery_allowance(mut self, allowance: Duration) -> Self {
        self.allowance = allowance;
        self
    }

    /// Which chains to audit (default: all).
    pub fn filter(mut self, filter: ChainFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Objects read at once (default: one per core). Findings are the same for any value.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// Where to report progress.
    pub fn progress(mut self, progress: &'a dyn Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Runs the audit. Only problems that stop it (a source that cannot be read, a key
    /// provider that fails) are errors; everything else is a finding.
    pub fn run(&self) -> Result<AuditReport, Error> {
        let metered = Metered {
            inner: self.source,
            bytes: Arc::new(AtomicU64::new(0)),
            reported: AtomicU64::new(0),
        };
        let source: &dyn ObjectSource = &metered;
        let listed = discover::discover(self.source, &self.buckets, &self.filter, self.window)?;
        let mut groups = self.group(listed);
        let keys = Keys::new(self.keys, self.window)?;

        // Every digest, fetched and (when it carries a signature) verified in parallel.
        let wanted: Vec<(usize, String, String, DateTime<Utc>)> = groups
            .iter_mut()
            .enumerate()
            .flat_map(|(g, group)| {
                std::mem::take(&mut group.listed)
                    .into_iter()
                    .map(move |(bucket, key, end)| (g, bucket, key, end))
            })
            .collect();
        self.progress.planned(wanted.len() as u64);
        let fetched = parallel_map(&wanted, self.jobs, |(g, bucket, key, end)| {
            let group = &groups[*g];
            let r = members::fetch(
                source,
                &keys,
                bucket,
                key,
                *end,
                group.backfill,
                &group.scope.source_region,
            );
            metered.tick(self.progress);
            r
        });
        for ((g, ..), member) in wanted.iter().zip(fetched) {
            if let Some(m) = member? {
                groups[*g].members.push(m);
            }
        }

        // Signatures recorded by successors, then links to digests outside the listing.
        let mut recovered: HashMap<(String, String), String> = HashMap::new();
        for m in groups.iter().flat_map(|g| &g.members) {
            if let Some((b, k, sig)) = &m.records_previous {
                recovered.insert((b.clone(), k.clone()), sig.clone());
            }
        }
        for group in &mut groups {
            self.complete(group, source, &keys, &mut recovered)?;
            group
                .members
                .sort_by(|a, b| (a.end, &a.bucket, &a.key).cmp(&(b.end, &b.bucket, &b.key)));
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

        // Every log a valid digest lists.
        let jobs: Vec<(usize, String, DateTime<Utc>, LogJob)> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, group)| {
                group.members.iter().filter_map(move |m| {
                    m.verified()
                        .map(|v| v.logs.iter().map(move |j| (g, m.key.clone(), m.end, j.clone())))
                })
            })
            .flatten()
            .collect();
        self.progress.planned(jobs.len() as u64);
        let verdicts = parallel_map(&jobs, self.jobs, |(_, _, _, job)| {
            let r = check_log(source, job, true);
            metered.tick(self.progress);
            r
        });
        let mut referenced: HashSet<(String, String)> = HashSet::new();
        let mut valid_logs: Vec<(usize, String, String, DateTime<Utc>)> = Vec::new();
        for ((g, digest_key, end, job), verdict) in jobs.into_iter().zip(verdicts) {
            let verdict = verdict?;
            let group = &mut groups[g];
            let misplaced = misplaced(&group.scope, &job.key);
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

        self.unreferenced(&mut groups, &referenced)?;
        self.explain(&mut groups, &valid_logs, source);
        Ok(self.assemble(groups))
    }

    fn group(&self, listed: Vec<Listed>) -> Vec<Group> {
        let mut by_label: BTreeMap<String, Group> = BTreeMap::new();
        for l in listed {
            let label = chain_label(&l.name.scope, l.name.backfill);
            let group = by_label.entry(label.clone()).or_insert_with(|| Group {
                label,
                scope: l.name.scope.clone(),
                backfill: l.name.backfill,
                listed: Vec::new(),
                members: Vec::new(),
                analysis: Analysis::default(),
            });
            group.listed.push((l.bucket, l.key, l.end));
        }
        by_label.into_values().collect()
    }

    /// Recovers signatures of unsigned members, and fetches digests that valid members
    /// name as previous but the listing did not hold (another bucket), while they lie in
    /// the window.
    fn complete(
        &self,
        group: &mut Group,
        source: &dyn ObjectSource,
        keys: &Keys<'_>,
        recovered: &mut HashMap<(String, String), String>,
    ) -> Result<(), Error> {
        let region = group.scope.source_region.clone();
        let mut tried: HashSet<(String, String)> = HashSet::new();
        loop {
            for m in &mut group.members {
                let id = (m.bucket.clone(), m.key.clone());
                members::recover(m, recovered.get(&id).map(String::as_str), keys, &region)?;
            }
            let present: HashSet<(String, String)> = group
                .members
                .iter()
                .map(|m| (m.bucket.clone(), m.key.clone()))
                .collect();
            let wanted: Vec<(String, String, DateTime<Utc>)> = group
                .members
                .iter()
                .filter_map(|m| m.verified()?.previous.clone())
                .filter(|id| !present.contains(id) && !tried.contains(id))
                .filter_map(|(b, k)| {
                    let end = discover::parse_stamp(&key_stamp(&k))?;
                    (end > self.window.0).then_some((b, k, end))
                })
                .collect();
            if wanted.is_empty() {
                return Ok(());
            }
            for (b, k, end) in wanted {
                tried.insert((b.clone(), k.clone()));
                if let Some(m) = members::fetch(source, keys, &b, &k, end, group.backfill, &region)? {
                    if let Some((pb, pk, sig)) = &m.records_previous {
                        recovered.insert((pb.clone(), pk.clone()), sig.clone());
                    }
                    group.members.push(m);
                }
            }
        }
    }

    /// Lists the log folders of every standard chain for the window's days and reports
    /// the objects that no valid digest lists.
    fn unreferenced(
        &self,
        groups: &mut [Group],
        referenced: &HashSet<(String, String)>,
    ) -> Result<(), Error> {
        let mut folders: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (g, group) in groups.iter().enumerate() {
            if group.backfill {
                continue;
            }
            let buckets: HashSet<&String> = group.members.iter().map(|m| &m.bucket).collect();
            for b in buckets {
                folders
                    .entry((b.clone(), group.scope.log_folder()))
                    .or_default()
                    .push(g);
            }
        }
        // Logs that only digests failing verification list.
        let mut unverified: HashMap<(String, String), String> = HashMap::new();
        for m in groups.iter().flat_map(|g| &g.members) {
            for id in &m.listed {
                unverified.entry(id.clone()).or_insert_with(|| m.key.clone());
            }
        }
        let reach = self.window.1.min(self.now);
        let first_minute = self
            .window
            .0
            .duration_trunc(Duration::minutes(1))
            .unwrap_or(self.window.0);
        for ((bucket, folder), owners) in folders {
            for day in days(self.window.0, reach) {
                let day_folder = format!("{folder}{}/", day.format("%Y/%m/%d"));
                for key in self.source.list(&bucket, &day_folder, "")? {
                    if referenced.contains(&(bucket.clone(), key.clone())) {
                        continue;
                    }
                    let name = LogKeyName::parse(&key);
                    let time = name.as_ref().map(|n| n.delivered);
                    if let Some(t) = time {
                        if t < first_minute || t > self.window.1 {
                            continue;
                        }
                    }
                    let listed_by = unverified.get(&(bucket.clone(), key.clone()));
                    let (g, status, reason) = match (time, listed_by) {
                        (_, Some(digest)) => (
                            owners[0],
                            Status::Invalid,
                            format!(
                                "listed only by {}, which failed verification: no valid digest lists this log file, so it cannot be verified",
                                chain::file_name(digest)
                            ),
                        ),
                        (None, None) => (
                            owners[0],
                            Status::Invalid,
                            "in the log folder, but its name is not a CloudTrail log file name (or its folders disagree with it), and no digest lists it".to_string(),
                        ),
                        (Some(t), None) => self.place(groups, &owners, t),
                    };
                    let group = &mut groups[g];
                    group.analysis.findings.push((
                        time.unwrap_or(self.window.1),
                        rank::UNREFERENCED,
                        Finding::UnreferencedLog {
                            chain: group.label.clone(),
                            bucket: bucket.clone(),
                            key,
                            time,
                            status,
                            reason,
                        },
                    ));
                }
            }
        }
        Ok(())
    }

    /// Which chain a log delivered at `t` belongs to, and how its absence from every
    /// digest weighs.
    fn place(&self, groups: &[Group], owners: &[usize], t: DateTime<Utc>) -> (usize, Status, String) {
        let minute = |d: DateTime<Utc>| d.duration_trunc(Duration::minutes(1)).unwrap_or(d);
        let mut unverified = None;
        for &g in owners {
            for (from, to, cover) in &groups[g].analysis.coverage {
                if minute(*from) <= t && t < *to {
                    match cover {
                        Cover::Valid(key) => {
                            return (
                                g,
                                Status::Invalid,
                                format!(
                                    "no digest lists this log file, though it was delivered at {} inside the hours of the valid digest {}: injected or forged",
                                    display(t),
                                    chain::file_name(key)
                                ),
                            )
                        }
                        Cover::Unverified(why) => unverified = unverified.or(Some((g, why.clone()))),
                    }
                }
            }
        }
        if let Some((g, why)) = unverified {
            return (
                g,
                Status::Invalid,
                format!(
                    "no valid digest lists this log file (delivered at {}, in the hours of {why}): it cannot be verified",
                    display(t)
                ),
            );
        }
        let spans: Vec<Span> = owners
            .iter()
            .flat_map(|&g| groups[g].members.iter().map(Member::span))
            .collect();
        let oldest = spans.iter().map(|s| s.0).min();
        let newest = spans.iter().map(|s| s.1).max();
        let g = owners[0];
        match (oldest, newest) {
            (_, Some(newest)) if t >= newest => {
                let hours = chain::round_hours(t - newest).max(0) + 1;
                let due = newest + Duration::hours(hours) + self.allowance;
                if due > self.now {
                    (
                        g,
                        Status::Info,
                        format!(
                            "delivered at {} after the newest digest (ends {}); the digest that lists it is not due until {}",
                            display(t),
                            display(newest),
                            display(due)
                        ),
                    )
                } else {
                    (
                        g,
                        Status::Warning,
                        format!(
                            "delivered at {} after the newest digest (ends {}): no digest lists it (see the truncation)",
                            display(t),
                            display(newest)
                        ),
                    )
                }
            }
            (Some(oldest), _) if t < oldest => (
                g,
                Status::Warning,
                format!(
                    "delivered at {} before the oldest digest of the window (starts {}): no digest lists it",
                    display(t),
                    display(oldest)
                ),
            ),
            _ => (
                g,
                Status::Warning,
                format!(
                    "delivered at {} while no digest chain covered that time (a gap): no digest lists it",
                    display(t)
                ),
            ),
        }
    }

    /// Fills in the trail events near each gap and truncation, and marks gaps that
    /// backfill digests cover.
    fn explain(
        &self,
        groups: &mut [Group],
        valid_logs: &[(usize, String, String, DateTime<Utc>)],
        source: &dyn ObjectSource,
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
                    .flat_map(|l| events::trail_events(source, &l.1, &l.2, &scope.trail_name))
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

    fn assemble(&self, groups: Vec<Group>) -> AuditReport {
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
                    },
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
                } else if st == Status::Warning && status == Status::Valid {
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

/// Why a listed log does not belong to the digest that lists it, if it does not.
fn misplaced(scope: &ChainScope, key: &str) -> Option<String> {
    match LogKeyName::parse(key) {
        None => Some("listed by the digest, but its key is not a CloudTrail log file name".into()),
        Some(n) if n.account_id != scope.account_id || n.region != scope.source_region => Some(format!(
            "listed by a digest of account {} and region {}, but its key places it in account {} and region {}",
            scope.account_id, scope.source_region, n.account_id, n.region
        )),
        Some(_) => None,
    }
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

    #[test]
    fn logs_of_another_account_or_region_are_misplaced() {
        let scope = ChainScope {
            prefix: None,
            organization_id: None,
            account_id: "111122223333".into(),
            source_region: "us-east-1".into(),
            trail_name: "t".into(),
            home_region: "us-east-1".into(),
        };
        let key = |acct: &str, region: &str| {
            format!("AWSLogs/{acct}/CloudTrail/{region}/2026/03/01/{acct}_CloudTrail_{region}_20260301T0125Z_AbCdEfGhIjKlMnOp.json.gz")
        };
        assert_eq!(misplaced(&scope, &key("111122223333", "us-east-1")), None);
        assert!(misplaced(&scope, &key("111122223333", "eu-west-1"))
            .unwrap()
            .contains("region eu-west-1"));
        assert!(misplaced(&scope, &key("444455556666", "us-east-1"))
            .unwrap()
            .contains("account 444455556666"));
        assert!(misplaced(&scope, "AWSLogs/x.json.gz").is_some());
    }
}
