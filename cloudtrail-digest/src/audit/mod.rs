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
//! per-chain summaries and the exit code, and its `write_text`, `write_json` and
//! `write_ndjson` (in the audit sink) write text, JSON or NDJSON. One object that cannot
//! be read is a finding on that object, never the end of the audit. The window and "now"
//! are parameters: nothing here reads the clock.
//!
//! The driver only orders the stages: `plan` lists the digests, `members`
//! fetches and checks them through `check`, `chain` analyses each chain,
//! `placement` accounts for log files, `explain` finds the trail events behind gaps, and
//! `summary` assembles the report. Everything is read first; `judge` then runs the
//! analysis, placement, explanations and summary without reading, so the reads of a
//! split run (`split`) can be judged together elsewhere.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

mod chain;
mod elsewhere;
mod events;
mod explain;
mod finding;
mod judge;
mod ledgered;
mod members;
mod placement;
mod split;

mod summary;

pub use crate::fetch::metered::Progress;
pub use crate::sink::audit::{Form, ReportHead, ReportWriter};
pub use finding::{ChainSummary, DigestState, Finding, LinkCheck, Side, Status, TrailEvent};
pub use ledgered::ReadAudit;
pub use split::{merge, read_unit, Merge, Part, PartInput, Unit, DEFAULT_UNIT_HOURS};
pub use summary::Outcome;

use self::chain::{rank, Analysis};
use self::elsewhere::Elsewhere;
use self::judge::Judge;
use self::members::{Keys, Member, State};
use self::placement::{EarlyListings, FolderListing};
use crate::check::digest::LogJob;
use crate::error::Error;
use crate::fetch::log::check_log_keeping;
use crate::fetch::metered::{Metered, NoProgress};
use crate::fetch::pool;
use crate::gzip::{inflate_and_hash_log_keeping, Kept};
use crate::keys::PublicKeyProvider;
use crate::layout::{chain_label, key_stamp, ChainScope};
use crate::ledger::{Change, Tracked};
use crate::plan::window::{self, parse_stamp, Listed};
use crate::plan::ChainFilter;
use crate::sink::export::{prepare, Export, Format, Provenance, MAX_EXPORTED_LOG};
use crate::source::ObjectSource;
use crate::verdict::LogVerdict;

/// A stretch of time, `[from, to)`.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// Default allowance for delivery delays: 90 minutes.
pub const DEFAULT_DELIVERY_ALLOWANCE: Duration = Duration::minutes(90);

/// One audit over a source, a set of buckets and a window.
///
/// ```
/// use cloudtrail_digest::audit::{Audit, Status};
/// use cloudtrail_digest::{parse_utc, LocalDir, PublicKeySet};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mirror = LocalDir::new("../testdata/sample/mirror")?;
/// let mut keys = PublicKeySet::new();
/// keys.add_file("../testdata/sample/public-keys.json".as_ref())?;
/// let window = (parse_utc("2026-03-01T00:00:00Z")?, parse_utc("2026-03-02T01:00:00Z")?);
/// let now = parse_utc("2026-03-03T00:00:00Z")?;
/// let report = Audit::new(&mirror, &keys, mirror.buckets(), window, now)?.run()?;
/// assert_eq!(report.exit_code(), 0, "{}", report.verdict());
/// assert!(report.findings.iter().all(|f| !f.status().is_failure()));
/// assert!(report.chains.iter().all(|c| c.status == Some(Status::Valid)));
/// # Ok(()) }
/// ```
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
    /// Whether reading a valid log also records its trail events, so that the reads
    /// can be judged where the logs cannot be read.
    record_events: bool,
    /// Read only one slice of one chain scope (a unit of a split run).
    slice: Option<Slice>,
}

/// What one unit of a split run reads: one chain scope's digests whose stamps lie in a
/// span (`(after, until]`), and the days of the scope's log folder that are the unit's
/// to list (each day of the window is one unit's).
#[derive(Debug, Clone)]
struct Slice {
    scope: ChainScope,
    stamps: Span,
    log_days: Option<(NaiveDate, NaiveDate)>,
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
    /// chain was found at all, or objects are archived and could not be checked), 0
    /// otherwise.
    pub fn exit_code(&self) -> i32 {
        self.outcome().exit_code()
    }

    /// How many digests and logs are archived and not restored: they need a restore
    /// before the audit can check them.
    pub fn archived(&self) -> usize {
        self.outcome().archived()
    }

    /// The verdict in words.
    pub fn verdict(&self) -> &'static str {
        self.outcome().verdict()
    }

    /// What the findings come to.
    pub fn outcome(&self) -> Outcome {
        let mut outcome = Outcome::new(self.chains.len());
        for f in &self.findings {
            outcome.note(f);
        }
        outcome
    }
}

/// Everything an audit reads before it judges: whatever read it, the same reads give
/// the same report.
#[derive(Serialize, Deserialize)]
struct Reads {
    groups: Vec<Group>,
    listings: Vec<FolderListing>,
}

/// A chain being assembled.
#[derive(Serialize, Deserialize)]
struct Group {
    label: String,
    scope: ChainScope,
    backfill: bool,
    /// Listed digest keys: `(bucket, key, end)`.
    listed: Vec<(String, String, DateTime<Utc>)>,
    members: Vec<Member>,
    /// The logs its valid members list, as read, in their order.
    logs: Vec<ReadLog>,
    /// With a ledger: how many of its digests and logs were read, and how many reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ledger_counts: Option<(usize, usize)>,
    #[serde(skip)]
    analysis: Analysis,
}

/// A log a valid digest lists, as read.
#[derive(Serialize, Deserialize)]
struct ReadLog {
    /// The digest that lists it, and that digest's end (the time its finding sorts by).
    digest_bucket: String,
    digest_key: String,
    end: DateTime<Utc>,
    job: LogJob,
    verdict: LogVerdict,
    /// Its trail events (for its chain's trail), when the run records them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    events: Option<Vec<TrailEvent>>,
}

/// A log's verdict, and its trail events when the run records them.
type LogRead = (LogVerdict, Option<Vec<TrailEvent>>);

/// Where the trail events recorded in a log come from: `(bucket, key, trail)` to the
/// events of that trail in that log.
type TrailEvents<'e> = dyn Fn(&str, &str, &str) -> Vec<TrailEvent> + 'e;

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
            jobs: pool::processors(),
            progress: &NoProgress,
            record_events: false,
            slice: None,
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
        self.run_with(None)
    }

    /// Runs the audit and hands every log it reads to `export`, with the content it
    /// verified (each log is read once for both), in the order of the log findings:
    /// chain by chain, digest by digest, in each digest's order. With
    /// [`Export::include_unverified`], the logs that no valid digest lists are read too,
    /// after the audit, in key order. A failure to write the export stops the run.
    pub fn run_exporting(&self, export: &mut Export<'_>) -> Result<AuditReport, Error> {
        self.run_with(Some(export))
    }

    fn run_with(&self, mut export: Option<&mut Export<'_>>) -> Result<AuditReport, Error> {
        let metered = Metered::new(self.source);
        let mut reads = self.read(&metered, &metered, export.as_deref_mut(), None)?;
        self.judge_reads(&mut reads, &metered, None);
        if let Some(ex) = export {
            export_unreferenced(ex, &reads.groups, &metered)?;
        }
        Ok(self.judge().assemble(reads.groups))
    }

    /// Judges what was read, reading only the trail events it looks up near gaps
    /// (through `source`), and reports the `changes` a ledger found on their chains.
    fn judge_reads(&self, reads: &mut Reads, source: &dyn ObjectSource, changes: Option<Vec<Change>>) {
        let events = |bucket: &str, key: &str, trail: &str| events::trail_events(source, bucket, key, trail);
        self.judge()
            .judge(&mut reads.groups, &reads.listings, &events, &Elsewhere::default());
        if let Some(changes) = changes {
            ledgered::report_changes(&mut reads.groups, changes, self.window.0);
        }
    }

    /// What judging this audit's reads takes.
    fn judge(&self) -> Judge {
        Judge {
            window: self.window,
            now: self.now,
            allowance: self.allowance,
        }
    }

    /// Reads what the audit judges: every digest of the window, every log the valid
    /// ones list, and the log folders' listings.
    fn read(
        &self,
        source: &dyn ObjectSource,
        metered: &Metered<'_>,
        export: Option<&mut Export<'_>>,
        ledger: Option<&Tracked<'_>>,
    ) -> Result<Reads, Error> {
        let stamps = self
            .slice
            .as_ref()
            .map_or(window::stamps_of(self.window), |s| s.stamps);
        let folders = window::digest_folders(self.source, &self.buckets, &self.filter, stamps)?;
        std::thread::scope(|s| {
            // The log folders are listed before the logs are read: in S3 the listing
            // gives each log's identity, which a ledger compares without a request per
            // log. Those of the chains the digest folders hold are listed beside the
            // digest folders, any other the listed digests point to while the digests
            // are read (a unit of a split run lists its own days afterwards).
            let join = |h: std::thread::ScopedJoinHandle<'_, EarlyListings>| {
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
            };
            let guessed = self.slice.is_none().then(|| {
                let days = self.guessed_log_days(&folders);
                let known: HashSet<(String, String)> = days.iter().cloned().collect();
                (known, s.spawn(move || self.list_days(days)))
            });
            // The digest day folders, listed side by side (a listing waits on the store).
            let lists = window::list_digest_folders(self.source, &folders, self.jobs, &|f, keys| {
                if let Some(ledger) = ledger {
                    ledger.listed_in_full(&f.bucket, &f.folder, keys);
                }
            })?;
            let mut listed = Vec::new();
            for (folder, keys) in folders.iter().zip(lists) {
                listed.extend(folder.digests(keys, &self.filter, stamps));
            }
            let mut groups = self.group(listed);
            if let Some(slice) = &self.slice {
                groups.retain(|g| g.scope == slice.scope);
            }
            let early = guessed.map(|(known, guessed)| {
                let days = self.early_log_days(&groups, &known);
                (guessed, s.spawn(move || self.list_days(days)))
            });
            let groups = self.read_digests(groups, source, metered, ledger);
            let early = early.map(|(guessed, rest)| {
                let mut listed = join(guessed);
                listed.extend(join(rest));
                listed
            });
            let mut groups = groups?;
            let listings = match &self.slice {
                Some(slice) => self.list_log_days(slice, &groups)?,
                None => self.list_log_folders(&groups, early.unwrap_or_default())?,
            };
            self.read_logs(&mut groups, source, metered, export, ledger)?;
            Ok(Reads { groups, listings })
        })
    }

    /// Fetches and checks every digest the groups listed, and those their links lead
    /// to outside the listing (waiting first for the ledger, when there is one: it
    /// decides what is read).
    fn read_digests(
        &self,
        mut groups: Vec<Group>,
        source: &dyn ObjectSource,
        metered: &Metered<'_>,
        ledger: Option<&Tracked<'_>>,
    ) -> Result<Vec<Group>, Error> {
        if let Some(ledger) = ledger {
            ledger.wait()?;
        }
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
        // A digest the ledger answers for is checked again without a request: threads
        // to wait on the store for the others, and one a processor for the checking.
        let threads = ledger.map_or(self.jobs, |l| {
            let objects = wanted.iter().map(|(_, b, k, _)| (b.as_str(), k.as_str()));
            self.jobs.min(l.unanswered(objects, true) + pool::processors())
        });
        let fetched = pool::map(&wanted, threads, |(g, bucket, key, end)| {
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
        // A signature is taken from digests of the same chain scope only, the earliest
        // record of it first, so that what a scope's digests are found to be depends on
        // that scope alone, and a slice of it finds the same by reading on past its end
        // only as far as the records it lacks.
        let mut recovered = recorded_signatures(&groups);
        let mut listed_days = HashMap::new();
        if let Some(slice) = &self.slice {
            self.read_on(slice, &groups, source, &keys, &mut recovered)?;
        }
        for group in &mut groups {
            let scope = recovered.entry(chain_label(&group.scope, false)).or_default();
            self.complete(group, source, &keys, scope, &mut listed_days)?;
            group.members.sort_by(|a, b| a.order().cmp(&b.order()));
        }
        Ok(groups)
    }

    /// Reads every log a valid digest lists, in parallel, and takes the verdicts in
    /// order (handing each log's content to `export`, when there is one).
    fn read_logs(
        &self,
        groups: &mut [Group],
        source: &dyn ObjectSource,
        metered: &Metered<'_>,
        export: Option<&mut Export<'_>>,
        ledger: Option<&Tracked<'_>>,
    ) -> Result<(), Error> {
        // Each valid member's log jobs are taken out of it: from here on a log is held
        // once, as the job and then as what reading it found.
        let mut taken: Vec<(usize, usize, LogJob)> = Vec::new();
        for (g, group) in groups.iter_mut().enumerate() {
            for (i, m) in group.members.iter_mut().enumerate() {
                if let State::Valid(v) = &mut m.state {
                    taken.extend(std::mem::take(&mut v.logs).into_iter().map(|j| (g, i, j)));
                }
            }
        }
        let held: &[Group] = groups;
        let jobs: Vec<(usize, &Member, LogJob)> = taken
            .into_iter()
            .map(|(g, i, job)| (g, &held[g].members[i], job))
            .collect();
        self.progress.planned(jobs.len() as u64);
        let keep = export.is_some();
        let keep_content = keep || self.record_events;
        let include = export.as_ref().is_some_and(|ex| ex.wants_unverified());
        let format = export.as_ref().map_or(Format::Ndjson, |ex| ex.format());
        // A log the ledger answers for takes microseconds: threads for the others.
        let threads = ledger.map_or(self.jobs, |l| {
            let objects = jobs.iter().map(|(_, _, j)| (j.bucket.as_str(), j.key.as_str()));
            self.jobs.min(l.unanswered(objects, false).max(1))
        });
        let read_one = |(g, member, job): &(usize, &Member, LogJob)| {
            let mut kept = keep_content.then(|| Kept::new(MAX_EXPORTED_LOG));
            let r = match ledger {
                Some(ledger) => ledger.check_log(&held[*g].label, source, job, true),
                None => check_log_keeping(source, job, true, kept.as_mut()),
            }
            .or_else(|e| members::unread(e).map(members::Unread::log_verdict));
            let recorded = match (&r, &kept) {
                (Ok(verdict), Some(kept)) if self.record_events && verdict.is_valid() => {
                    let trail = &held[*g].scope.trail_name;
                    Some(if kept.overflowed {
                        events::trail_events(source, &job.bucket, &job.key, trail)
                    } else {
                        events::trail_events_in(&kept.bytes, &job.bucket, &job.key, trail)
                    })
                }
                (Ok(_), _) if self.record_events => Some(Vec::new()),
                _ => None,
            };
            // The records are split and encoded here, on the thread that read them.
            let prepared = match (&r, kept) {
                (Ok(verdict), Some(kept)) if keep => {
                    let misplaced = placement::misplaced(&held[*g].scope, &job.key);
                    let status = finding::log_status(verdict, misplaced.is_some());
                    let provenance = listed_provenance(&held[*g].label, member, job, status.as_str());
                    Some(prepare(
                        include,
                        format,
                        &provenance,
                        Some(&kept.bytes),
                        kept.overflowed,
                    ))
                }
                _ => None,
            };
            metered.tick(self.progress);
            (r.map(|v| (v, recorded)), prepared)
        };
        let verdicts: Vec<Result<LogRead, Error>> = match export {
            // Nothing to stream: each verdict goes to its own slot, and no thread waits
            // on another for the order (a wake-up per log would cost more than a log the
            // ledger answers for).
            None => pool::map(&jobs, threads, |j| read_one(j).0),
            // What is exported holds a log's records, so few results wait to be taken.
            Some(ex) => {
                let mut verdicts = Vec::with_capacity(jobs.len());
                let mut export_failure: Option<std::io::Error> = None;
                pool::for_each_in_order(&jobs, threads, self.jobs * 2, read_one, |_, (r, prepared)| {
                    if let (Some(p), None) = (prepared, &export_failure) {
                        if let Err(e) = ex.take(p) {
                            export_failure = Some(e);
                        }
                    }
                    verdicts.push(r);
                });
                if let Some(e) = export_failure {
                    return Err(Error::Export(e));
                }
                verdicts
            }
        };
        let read: Vec<(usize, ReadLog)> = jobs
            .into_iter()
            .zip(verdicts)
            .map(|((g, m, job), read)| {
                let (verdict, events) = read?;
                Ok((
                    g,
                    ReadLog {
                        digest_bucket: m.bucket.clone(),
                        digest_key: m.key.clone(),
                        end: m.end,
                        job,
                        verdict,
                        events,
                    },
                ))
            })
            .collect::<Result<_, Error>>()?;
        for (g, log) in read {
            groups[g].logs.push(log);
        }
        Ok(())
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
                logs: Vec::new(),
                ledger_counts: None,
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
        listed_days: &mut HashMap<NaiveDate, Vec<Listed>>,
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
                    let end = parse_stamp(&key_stamp(&k))?;
                    (end > self.window.0).then_some((b, k, end))
                })
                .collect();
            let mut unlisted = Vec::with_capacity(wanted.len());
            for w in wanted {
                if !self.listed_outside_slice(&group.label, &w, listed_days)? {
                    unlisted.push(w);
                }
            }
            let wanted = unlisted;
            if wanted.is_empty() {
                return Ok(());
            }
            for (b, k, end) in wanted {
                tried.insert((b.clone(), k.clone()));
                if let Some(m) = members::fetch(source, keys, &b, &k, end, group.backfill, &region)? {
                    if let Some((pb, pk, sig)) = &m.records_previous {
                        recovered
                            .entry((pb.clone(), pk.clone()))
                            .or_insert_with(|| sig.clone());
                    }
                    group.members.push(m);
                }
            }
        }
    }
}

/// What each chain scope's digests record of their predecessors' signatures, by scope
/// label: `(bucket, key)` of the predecessor to the signature, the earliest digest's
/// record where several record one.
fn recorded_signatures(groups: &[Group]) -> HashMap<String, HashMap<(String, String), String>> {
    let mut by_scope: HashMap<String, Vec<&Member>> = HashMap::new();
    for g in groups {
        by_scope
            .entry(chain_label(&g.scope, false))
            .or_default()
            .extend(&g.members);
    }
    by_scope
        .into_iter()
        .map(|(scope, mut members)| {
            members.sort_by(|a, b| a.order().cmp(&b.order()));
            let mut records = HashMap::new();
            for m in members {
                if let Some((b, k, sig)) = &m.records_previous {
                    records
                        .entry((b.clone(), k.clone()))
                        .or_insert_with(|| sig.clone());
                }
            }
            (scope, records)
        })
        .collect()
}

/// The provenance of a log a verified digest lists.
fn listed_provenance(chain: &str, member: &Member, job: &LogJob, status: &'static str) -> Provenance {
    let verified = member.verified();
    Provenance {
        chain: chain.to_string(),
        log_bucket: job.bucket.clone(),
        log_key: job.key.clone(),
        log_sha256: job.recorded.as_ref().and_then(|v| v.as_str()).map(str::to_string),
        digest_bucket: Some(member.bucket.clone()),
        digest_key: Some(member.key.clone()),
        digest_fingerprint: verified.map(|v| v.fingerprint.clone()),
        signature_source: verified.map(|v| v.signature_source.word()),
        status,
    }
}

/// Hands the logs no valid digest lists to `export` as `unreferenced`, one at a time in
/// the order of the findings, read only when the export wants unverified records.
fn export_unreferenced(
    export: &mut Export<'_>,
    groups: &[Group],
    source: &dyn ObjectSource,
) -> Result<(), Error> {
    for group in groups {
        for (_, _, f) in &group.analysis.findings {
            let Finding::UnreferencedLog {
                chain, bucket, key, ..
            } = f
            else {
                continue;
            };
            let mut kept = Kept::new(MAX_EXPORTED_LOG);
            let content = match export.wants_unverified().then(|| source.open(bucket, key)) {
                Some(Ok(reader)) => inflate_and_hash_log_keeping(reader, Some(&mut kept))
                    .ok()
                    .map(|_| &kept.bytes[..]),
                _ => None,
            };
            let provenance = Provenance {
                chain: chain.clone(),
                log_bucket: bucket.clone(),
                log_key: key.clone(),
                log_sha256: None,
                digest_bucket: None,
                digest_key: None,
                digest_fingerprint: None,
                signature_source: None,
                status: "unreferenced",
            };
            let prepared = prepare(
                export.wants_unverified(),
                export.format(),
                &provenance,
                content,
                kept.overflowed,
            );
            export.take(prepared).map_err(Error::Export)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
