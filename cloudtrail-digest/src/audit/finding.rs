//! What an audit finds: plain data that tests compare and reports format.

use crate::source::{ArchiveClass, Identity};
use crate::verdict::{DigestVerdict, LogVerdict, SignatureSource};
use chrono::{DateTime, Utc};

/// How a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Verified.
    Valid,
    /// An integrity failure: something present is wrong, forged or unverifiable.
    Invalid,
    /// An integrity failure: something that must exist does not.
    Missing,
    /// Coverage is incomplete (truncation, unexplained gap, log outside any digest's hours).
    Warning,
    /// Worth knowing, not a failure (an explained gap, a digest not yet due).
    Info,
    /// Not checked: the object is archived (GLACIER, DEEP_ARCHIVE, an Intelligent-Tiering
    /// archive tier) and not restored. Neither valid nor invalid until it is restored.
    Archived,
}

impl Status {
    /// The word used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Missing => "missing",
            Status::Warning => "warning",
            Status::Info => "info",
            Status::Archived => "archived",
        }
    }

    /// Whether this is an integrity failure (exit code 1).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Invalid | Status::Missing)
    }
}

/// Which end of the window a chain fails to reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Side {
    /// The oldest digest starts well after the window's start.
    Head,
    /// The newest digest ends well before the window's end (or now).
    Tail,
}

/// A trail-control event found in a log near a gap or truncation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrailEvent {
    /// `eventName` (`StopLogging`, `StartLogging`, `DeleteTrail`, `UpdateTrail`, `PutEventSelectors`).
    pub name: String,
    /// `eventTime`, as written.
    pub time: String,
    /// `userIdentity.arn` (or `userIdentity.invokedBy`, `userIdentity.type`).
    pub actor: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// Bucket of the (validated) log that records it.
    pub log_bucket: String,
    /// Key of the log that records it.
    pub log_key: String,
}

impl TrailEvent {
    /// `StopLogging by ARN at TIME from IP`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} by {}",
            self.name,
            self.actor.as_deref().unwrap_or("unknown principal")
        );
        s += &format!(" at {}", self.time);
        if let Some(ip) = &self.source_ip {
            s += &format!(" from {ip}");
        }
        s
    }
}

/// A digest's state as the audit found it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestState {
    /// Signature verified.
    Valid {
        /// `digestStartTime`.
        start: DateTime<Utc>,
        /// `digestEndTime`.
        end: DateTime<Utc>,
        /// Fingerprint of the key that verified it.
        fingerprint: String,
        /// Where the signature came from.
        signature: SignatureSource,
    },
    /// Present but failing a check.
    Invalid(DigestVerdict),
    /// Not there: named as previous by a valid digest, or inferred from hourly contiguity.
    Missing {
        /// Why it must exist.
        reason: String,
    },
    /// Present, but archived and not restored: not read, so not checked.
    Archived(ArchiveClass),
}

/// Check of the link between two consecutive digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkCheck {
    /// `previousDigestHashValue` is not the SHA-256 of the previous digest's bytes.
    PreviousHash,
    /// `previousDigestSignature` is not the previous digest's signature.
    PreviousSignature,
    /// `digestStartTime` is not the previous digest's `digestEndTime`.
    Contiguity,
    /// The digest names another previous digest than the one before it in time.
    PreviousObject,
}

impl LinkCheck {
    /// The check's name in JSON (`previous_hash`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkCheck::PreviousHash => "previous_hash",
            LinkCheck::PreviousSignature => "previous_signature",
            LinkCheck::Contiguity => "contiguity",
            LinkCheck::PreviousObject => "previous_object",
        }
    }
}

/// Per-chain totals and verdict.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainSummary {
    /// Chain label (see [`crate::audit::chain_label`]).
    pub chain: String,
    /// Buckets the chain's digests were found in.
    pub buckets: Vec<String>,
    /// Key prefix before `AWSLogs/`.
    pub prefix: Option<String>,
    /// Organization id.
    pub organization_id: Option<String>,
    /// Account.
    pub account_id: String,
    /// Region that delivered the digests.
    pub source_region: String,
    /// Trail name.
    pub trail_name: String,
    /// Trail home region.
    pub home_region: String,
    /// Backfill chain.
    pub backfill: bool,
    /// Valid digests.
    pub digests_valid: usize,
    /// Invalid digests.
    pub digests_invalid: usize,
    /// Missing digests (named or inferred).
    pub digests_missing: usize,
    /// Valid logs.
    pub logs_valid: usize,
    /// Invalid or missing logs.
    pub logs_invalid: usize,
    /// Unreferenced log objects attributed to this chain.
    pub unreferenced_logs: usize,
    /// Broken links.
    pub chain_links_broken: usize,
    /// Gaps (chain restarts).
    pub gaps: usize,
    /// Gaps with no explanation.
    pub gaps_unexplained: usize,
    /// Truncated ends.
    pub truncations: usize,
    /// Digests and logs archived and not restored (not checked).
    pub archived: usize,
    /// With a ledger: digests and logs read from the source (new, changed, or not
    /// reusable).
    pub objects_read: Option<usize>,
    /// With a ledger: digests and logs whose verdict came from the ledger (unchanged).
    pub objects_reused: Option<usize>,
    /// Start of the oldest present digest.
    pub covered_from: Option<DateTime<Utc>>,
    /// End of the newest present digest.
    pub covered_to: Option<DateTime<Utc>>,
    /// `Valid`, `Invalid` (any integrity failure) or `Warning` (coverage incomplete, or
    /// objects archived and not checked).
    pub status: Option<Status>,
}

/// One thing an audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// A digest: valid, invalid or missing.
    Digest {
        /// Chain label.
        chain: String,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Backfill digest.
        backfill: bool,
        /// What was found.
        state: DigestState,
    },
    /// A log file a valid digest lists.
    Log {
        /// Chain label.
        chain: String,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The digest that lists it.
        digest_key: String,
        /// Hash check.
        verdict: LogVerdict,
        /// Why the log does not belong to the digest that lists it (other account or region).
        misplaced: Option<String>,
    },
    /// A run of consecutive missing digests.
    MissingDigests {
        /// Chain label.
        chain: String,
        /// Bucket where they belong.
        bucket: String,
        /// Start of the oldest missing digest.
        from: DateTime<Utc>,
        /// End of the newest missing digest.
        to: DateTime<Utc>,
        /// How many hourly digests are missing.
        count: usize,
        /// Their keys (the newest exactly as named, older ones by hourly contiguity).
        keys: Vec<String>,
        /// How the run was found.
        reason: String,
    },
    /// The chain does not reach an end of the window.
    Truncation {
        /// Chain label.
        chain: String,
        /// Which end.
        side: Side,
        /// Start of the uncovered time.
        from: DateTime<Utc>,
        /// End of the uncovered time.
        to: DateTime<Utc>,
        /// Hourly digests expected there and not found.
        count: usize,
        /// Bucket of the digest at the edge.
        bucket: String,
        /// The digest at the edge (newest for the tail, oldest for the head).
        key: String,
        /// Trail-control events near the edge.
        explanation: Vec<TrailEvent>,
        /// The oldest digest is a verified starting digest (its `previous*` fields are
        /// null): the chain began there, nothing before it was removed (then `Info`).
        starting_digest: bool,
    },
    /// A log object that no valid digest lists.
    UnreferencedLog {
        /// Chain label.
        chain: String,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// Delivery time from its name, when it parses.
        time: Option<DateTime<Utc>>,
        /// `Invalid` inside digest coverage, `Warning` outside it, `Info` when its digest is not due yet.
        status: Status,
        /// Why.
        reason: String,
    },
    /// A broken link between two digests.
    ChainLink {
        /// Chain label.
        chain: String,
        /// Bucket of the later digest.
        bucket: String,
        /// Key of the later digest.
        key: String,
        /// Bucket of the previous digest.
        previous_bucket: String,
        /// Key of the previous digest.
        previous_key: String,
        /// Which check failed.
        check: LinkCheck,
        /// What the later digest records.
        recorded: String,
        /// What the previous digest actually is.
        actual: String,
    },
    /// The chain restarted (a starting digest after older ones): logging or validation was off.
    Gap {
        /// Chain label.
        chain: String,
        /// End of the digest before the gap.
        from: DateTime<Utc>,
        /// Start of the digest after it.
        to: DateTime<Utc>,
        /// Hours without digests.
        count: usize,
        /// Bucket of the restarting digest.
        bucket: String,
        /// Key of the restarting digest.
        key: String,
        /// Trail-control events near the gap.
        explanation: Vec<TrailEvent>,
        /// Valid backfill digests cover the whole gap.
        covered_by_backfill: bool,
    },
    /// An object whose identity is not the one the ledger recorded when it was last
    /// verified. Reported whatever it is found to be now (its own finding says that):
    /// CloudTrail writes each object once.
    Changed {
        /// Chain label.
        chain: String,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// A digest (else a log file).
        digest: bool,
        /// Its identity as the ledger recorded it.
        previous: Identity,
        /// Its identity now.
        current: Identity,
    },
    /// An object the ledger recorded that is gone from its folder.
    Removed {
        /// Chain label.
        chain: String,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// A digest (else a log file).
        digest: bool,
        /// Its identity as the ledger recorded it.
        previous: Identity,
    },
    /// A chain's totals and verdict.
    ChainSummary(ChainSummary),
}

impl Finding {
    /// The `kind` word.
    pub fn kind(&self) -> &'static str {
        match self {
            Finding::Digest { .. } => "digest",
            Finding::Log { .. } => "log",
            Finding::MissingDigests { .. } => "missing_digests",
            Finding::Truncation { .. } => "truncation",
            Finding::UnreferencedLog { .. } => "unreferenced_log",
            Finding::ChainLink { .. } => "chain_link",
            Finding::Gap { .. } => "gap",
            Finding::Changed { .. } => "changed",
            Finding::Removed { .. } => "removed",
            Finding::ChainSummary(_) => "chain_summary",
        }
    }

    /// The chain label.
    pub fn chain(&self) -> &str {
        match self {
            Finding::Digest { chain, .. }
            | Finding::Log { chain, .. }
            | Finding::MissingDigests { chain, .. }
            | Finding::Truncation { chain, .. }
            | Finding::UnreferencedLog { chain, .. }
            | Finding::ChainLink { chain, .. }
            | Finding::Gap { chain, .. }
            | Finding::Changed { chain, .. }
            | Finding::Removed { chain, .. } => chain,
            Finding::ChainSummary(s) => &s.chain,
        }
    }

    /// How it weighs.
    pub fn status(&self) -> Status {
        match self {
            Finding::Digest { state, .. } => match state {
                DigestState::Valid { .. } => Status::Valid,
                DigestState::Invalid(_) => Status::Invalid,
                DigestState::Missing { .. } => Status::Missing,
                DigestState::Archived(_) => Status::Archived,
            },
            Finding::Log {
                verdict, misplaced, ..
            } => log_status(verdict, misplaced.is_some()),
            Finding::MissingDigests { .. } => Status::Missing,
            Finding::Truncation { starting_digest, .. } => {
                if *starting_digest {
                    Status::Info
                } else {
                    Status::Warning
                }
            }
            Finding::UnreferencedLog { status, .. } => *status,
            Finding::ChainLink { .. } => Status::Invalid,
            Finding::Gap {
                explanation,
                covered_by_backfill,
                ..
            } => {
                if explanation.is_empty() && !covered_by_backfill {
                    Status::Warning
                } else {
                    Status::Info
                }
            }
            Finding::Changed { .. } => Status::Warning,
            Finding::Removed { .. } => Status::Missing,
            Finding::ChainSummary(s) => s.status.unwrap_or(Status::Valid),
        }
    }

    /// The object concerned, if one is.
    pub fn object(&self) -> Option<(&str, &str)> {
        match self {
            Finding::Digest { bucket, key, .. }
            | Finding::Log { bucket, key, .. }
            | Finding::Truncation { bucket, key, .. }
            | Finding::UnreferencedLog { bucket, key, .. }
            | Finding::ChainLink { bucket, key, .. }
            | Finding::Gap { bucket, key, .. }
            | Finding::Changed { bucket, key, .. }
            | Finding::Removed { bucket, key, .. } => Some((bucket, key)),
            Finding::MissingDigests { .. } | Finding::ChainSummary(_) => None,
        }
    }
}

/// The status of a log a valid digest lists: its verdict, and whether it lies outside
/// the digest's account or region.
pub(crate) fn log_status(verdict: &LogVerdict, misplaced: bool) -> Status {
    match verdict {
        LogVerdict::NotFound => Status::Missing,
        LogVerdict::Archived(_) => Status::Archived,
        v if !v.is_valid() => Status::Invalid,
        _ if misplaced => Status::Invalid,
        _ => Status::Valid,
    }
}
