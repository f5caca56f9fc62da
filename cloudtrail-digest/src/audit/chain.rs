//! One chain's digests side by side: links between neighbours, runs of missing digests,
//! restarts (gaps) and ends that fall short of the window (truncation).

use chrono::{DateTime, Duration, Utc};

use super::finding::{DigestState, Finding, LinkCheck, Side};
use super::members::{Member, State};
use crate::layout::{file_name, ChainScope};
use crate::time::display;

/// What a stretch of time is covered by, for placing log files that no digest lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cover {
    /// A valid digest (its key).
    Valid(String),
    /// An invalid digest, or digests that are missing: nothing there can be verified.
    Unverified(String),
    /// An archived digest (its key): nothing there can be verified until it is restored.
    Archived(String),
}

/// A finding with the time it sorts by and its rank among findings at that time.
pub(crate) type Ranked = (DateTime<Utc>, u8, Finding);

/// The analysis of one chain.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    /// Findings with the time they sort by and a rank for ties.
    pub findings: Vec<Ranked>,
    /// Covered stretches `[from, to)`.
    pub coverage: Vec<(DateTime<Utc>, DateTime<Utc>, Cover)>,
}

/// Rank of each kind among findings at the same time.
pub(crate) mod rank {
    pub const MISSING: u8 = 0;
    pub const GAP: u8 = 1;
    pub const LINK: u8 = 2;
    pub const DIGEST: u8 = 3;
    pub const LOG: u8 = 4;
    pub const UNREFERENCED: u8 = 5;
    pub const TRUNCATION: u8 = 6;
    /// A change since the ledger's run: after what is found of the object now.
    pub const LEDGER: u8 = 7;
}

/// Whole hours in `d`, rounded to the nearest.
pub(crate) fn round_hours(d: Duration) -> i64 {
    (d.num_seconds() + 1800).div_euclid(3600)
}

/// The digest before `members[i]` in time: of those in the latest hourly slot before
/// it (copies in several buckets share a slot), the one it names, else a valid one.
fn previous<'m>(members: &'m [Member], i: usize, named: Option<&(String, String)>) -> Option<&'m Member> {
    let end = members[i].end;
    let slot = members[..i].iter().rev().find(|m| m.end < end)?.end;
    let in_slot: Vec<&Member> = members[..i].iter().filter(|m| m.end == slot).collect();
    in_slot
        .iter()
        .find(|m| named.is_some_and(|(b, k)| m.bucket == *b && m.key == *k))
        .or_else(|| in_slot.iter().find(|m| m.verified().is_some()))
        .or(in_slot.first())
        .copied()
}

/// Hours in `d`, rounded up.
fn ceil_hours(d: Duration) -> i64 {
    (d.num_seconds() + 3599).div_euclid(3600)
}

pub(crate) struct Context<'a> {
    pub label: &'a str,
    pub scope: &'a ChainScope,
    pub backfill: bool,
    pub window: (DateTime<Utc>, DateTime<Utc>),
    pub now: DateTime<Utc>,
    pub allowance: Duration,
}

impl Context<'_> {
    /// The key of this chain's digest ending at `end`.
    fn key_ending(&self, end: DateTime<Utc>) -> String {
        let key = self.scope.digest_key(end);
        match key.strip_suffix(".json.gz") {
            Some(stem) if self.backfill => format!("{stem}_backfill.json.gz"),
            _ => key,
        }
    }

    fn missing_run(
        &self,
        out: &mut Analysis,
        bucket: &str,
        newest_key: Option<&str>,
        newest_end: DateTime<Utc>,
        count: i64,
        reason: String,
    ) {
        let count = count.max(1);
        let from = newest_end - Duration::hours(count);
        let mut keys = Vec::new();
        for k in 0..count {
            let end = newest_end - Duration::hours(k);
            let key = match newest_key {
                Some(named) if k == 0 => named.to_string(),
                _ => self.key_ending(end),
            };
            let why = if k == 0 && newest_key.is_some() {
                format!("not found; {reason}")
            } else {
                format!(
                    "not found; hourly digests are contiguous, so a digest ending {} must exist ({reason})",
                    display(end)
                )
            };
            out.findings.push((
                end,
                rank::MISSING,
                Finding::Digest {
                    chain: self.label.to_string(),
                    bucket: bucket.to_string(),
                    key: key.clone(),
                    backfill: self.backfill,
                    state: DigestState::Missing { reason: why },
                },
            ));
            keys.push(key);
        }
        keys.reverse();
        out.coverage.push((
            from,
            newest_end,
            Cover::Unverified(format!("{} missing digest(s)", count)),
        ));
        out.findings.push((
            newest_end,
            rank::MISSING,
            Finding::MissingDigests {
                chain: self.label.to_string(),
                bucket: bucket.to_string(),
                from,
                to: newest_end,
                count: count as usize,
                keys,
                reason,
            },
        ));
    }

    /// Analyses `members` (present digests, sorted by end time).
    pub fn analyse(&self, members: &[Member]) -> Analysis {
        let mut out = Analysis::default();
        let (w0, w1) = self.window;
        for (i, n) in members.iter().enumerate() {
            let named = n.verified().and_then(|v| v.previous.as_ref());
            let prev = previous(members, i, named);
            let (n_start, n_end) = n.span();
            self.report_digest(&mut out, n);
            match n.verified() {
                Some(v) => match &v.previous {
                    Some((pb, pk)) => {
                        let is_named = |m: &Member| m.bucket == *pb && m.key == *pk;
                        if let Some(p) = prev.filter(|p| is_named(p)) {
                            self.check_link(&mut out, p, n);
                        } else if let Some(other) = members[..i].iter().find(|m| is_named(m)) {
                            let p = prev.expect("an older member exists");
                            out.findings.push(self.broken_link(
                                n,
                                (&other.bucket, &other.key),
                                LinkCheck::PreviousObject,
                                format!("s3://{pb}/{pk}"),
                                format!("s3://{}/{}", p.bucket, p.key),
                            ));
                        } else {
                            let named_end = crate::plan::window::parse_stamp(&crate::layout::key_stamp(pk));
                            match prev {
                                Some(p) => {
                                    let p_end = p.span().1;
                                    let count = round_hours(n_start - p_end);
                                    if count < 1 {
                                        out.findings.push(self.broken_link(
                                            n,
                                            (pb, pk),
                                            LinkCheck::PreviousObject,
                                            format!("s3://{pb}/{pk}"),
                                            format!("s3://{}/{}", p.bucket, p.key),
                                        ));
                                    }
                                    self.missing_run(
                                        &mut out,
                                        pb,
                                        Some(pk),
                                        n_start,
                                        count,
                                        format!(
                                            "between {} (ends {}) and {} (starts {}), which names {} as its previous digest",
                                            file_name(&p.key),
                                            display(p_end),
                                            file_name(&n.key),
                                            display(n_start),
                                            file_name(pk)
                                        ),
                                    );
                                }
                                None if named_end.is_some_and(|e| e > w0) => {
                                    let count = ceil_hours(n_start - w0);
                                    self.missing_run(
                                        &mut out,
                                        pb,
                                        Some(pk),
                                        n_start,
                                        count,
                                        format!(
                                            "named as previous digest by {}; no older digest in the window, so up to {} hourly digest(s) from the window's start are missing",
                                            file_name(&n.key),
                                            count.max(1)
                                        ),
                                    );
                                }
                                None => {}
                            }
                        }
                    }
                    None => match prev {
                        Some(p) => {
                            let from = p.span().1;
                            out.findings.push((
                                n_start,
                                rank::GAP,
                                Finding::Gap {
                                    chain: self.label.to_string(),
                                    from,
                                    to: n_start,
                                    count: round_hours(n_start - from).max(0) as usize,
                                    bucket: n.bucket.clone(),
                                    key: n.key.clone(),
                                    explanation: Vec::new(),
                                    covered_by_backfill: false,
                                },
                            ));
                        }
                        None if i == 0 => self.head(&mut out, n, n_start),
                        None => {}
                    },
                },
                None => match prev {
                    Some(p) => {
                        let p_end = p.span().1;
                        let missing = round_hours(n_end - p_end) - 1;
                        if missing >= 1 {
                            self.missing_run(
                                &mut out,
                                &n.bucket,
                                None,
                                n_end - Duration::hours(1),
                                missing,
                                format!(
                                    "inferred from hourly contiguity between {} (ends {}) and the {} digest {} (ends {})",
                                    file_name(&p.key),
                                    display(p_end),
                                    if n.archived() { "archived" } else { "invalid" },
                                    file_name(&n.key),
                                    display(n_end)
                                ),
                            );
                        }
                    }
                    None if i == 0 => self.head(&mut out, n, n_start),
                    None => {}
                },
            }
        }
        if let Some(last) = members.last() {
            self.tail(&mut out, last, w1);
        }
        out
    }

    fn report_digest(&self, out: &mut Analysis, n: &Member) {
        let (start, end) = n.span();
        let (state, cover) = match &n.state {
            State::Valid(v) => (
                DigestState::Valid {
                    start: v.start,
                    end: v.end,
                    fingerprint: v.fingerprint.clone(),
                    signature: v.signature_source,
                },
                Cover::Valid(n.key.clone()),
            ),
            State::Invalid(verdict) => (
                DigestState::Invalid(verdict.clone()),
                Cover::Unverified(format!("the invalid digest {}", file_name(&n.key))),
            ),
            State::Archived(class) => (
                DigestState::Archived(class.clone()),
                Cover::Archived(n.key.clone()),
            ),
            State::Unsigned(_) => unreachable!("signatures are recovered before analysis"),
        };
        out.coverage.push((start, end, cover));
        out.findings.push((
            n.end,
            rank::DIGEST,
            Finding::Digest {
                chain: self.label.to_string(),
                bucket: n.bucket.clone(),
                key: n.key.clone(),
                backfill: self.backfill,
                state,
            },
        ));
    }

    /// The finding that `n`'s link to `previous` fails `check`.
    fn broken_link(
        &self,
        n: &Member,
        previous: (&str, &str),
        check: LinkCheck,
        recorded: String,
        actual: String,
    ) -> (DateTime<Utc>, u8, Finding) {
        (
            n.end,
            rank::LINK,
            Finding::ChainLink {
                chain: self.label.to_string(),
                bucket: n.bucket.clone(),
                key: n.key.clone(),
                previous_bucket: previous.0.to_string(),
                previous_key: previous.1.to_string(),
                check,
                recorded,
                actual,
            },
        )
    }

    fn check_link(&self, out: &mut Analysis, p: &Member, n: &Member) {
        if p.archived() {
            // Its bytes and signature are not known until it is restored: nothing to
            // compare, and nothing broken.
            return;
        }
        let v = n.verified().expect("checked by the caller");
        let mut broken = |check, recorded: String, actual: String| {
            out.findings
                .push(self.broken_link(n, (&p.bucket, &p.key), check, recorded, actual))
        };
        let recorded_hash = v.previous_hash.clone().unwrap_or_else(|| "null".into());
        match &p.sha256 {
            Some(actual) if *actual != recorded_hash => {
                broken(LinkCheck::PreviousHash, recorded_hash, actual.clone())
            }
            None => broken(
                LinkCheck::PreviousHash,
                recorded_hash,
                "unreadable (not a gzip'd digest)".into(),
            ),
            _ => {}
        }
        if let (Some(actual), recorded) = (p.signature(), v.previous_signature.as_deref()) {
            if recorded != Some(actual) {
                broken(
                    LinkCheck::PreviousSignature,
                    recorded.unwrap_or("null").to_string(),
                    actual.to_string(),
                );
            }
        }
        let p_end = p.span().1;
        if v.start != p_end {
            broken(LinkCheck::Contiguity, display(v.start), display(p_end));
        }
    }

    fn head(&self, out: &mut Analysis, oldest: &Member, start: DateTime<Utc>) {
        let w0 = self.window.0;
        if self.backfill || start - w0 <= self.allowance {
            return;
        }
        out.findings.push((
            w0,
            rank::TRUNCATION,
            Finding::Truncation {
                chain: self.label.to_string(),
                side: Side::Head,
                from: w0,
                to: start,
                count: ceil_hours(start - w0).max(1) as usize,
                bucket: oldest.bucket.clone(),
                key: oldest.key.clone(),
                explanation: Vec::new(),
                starting_digest: oldest.verified().is_some_and(|v| v.previous.is_none()),
            },
        ));
    }

    fn tail(&self, out: &mut Analysis, newest: &Member, w1: DateTime<Utc>) {
        let end = newest.span().1;
        let reach = w1.min(self.now);
        if self.backfill || reach - end <= self.allowance {
            return;
        }
        // Digests that overlap the window after `end` and should have been delivered by now.
        let mut count = 0;
        while end + Duration::hours(count) < w1 && end + Duration::hours(count + 1) <= self.now {
            count += 1;
        }
        out.findings.push((
            reach,
            rank::TRUNCATION,
            Finding::Truncation {
                chain: self.label.to_string(),
                side: Side::Tail,
                from: end,
                to: reach,
                count: count.max(1) as usize,
                bucket: newest.bucket.clone(),
                key: newest.key.clone(),
                explanation: Vec::new(),
                starting_digest: false,
            },
        ));
    }
}
