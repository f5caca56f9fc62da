//! What each finding means, in the words the text report and the JSON `reason` field use.

use crate::audit::{DigestState, Finding, LinkCheck, Side, TrailEvent};
use crate::layout::file_name;
use crate::source::{ArchiveClass, Identity};
use crate::time::display;
use crate::verdict::LogVerdict;

impl Finding {
    /// What it means, in words.
    pub fn reason(&self) -> String {
        match self {
            Finding::Digest { state, .. } => match state {
                DigestState::Valid { fingerprint, signature, .. } => format!(
                    "signature verified with key {fingerprint} (signature from {})",
                    signature.word()
                ),
                DigestState::Invalid(v) => v.to_string(),
                DigestState::Missing { reason } => reason.clone(),
                DigestState::Archived(class) => archived(class),
            },
            Finding::Log { verdict, misplaced, .. } => {
                let hash = match verdict {
                    LogVerdict::Valid => "hash matches the digest".to_string(),
                    LogVerdict::Archived(class) => archived(class),
                    v => v.to_string().trim_start_matches("INVALID: ").to_string(),
                };
                match misplaced {
                    Some(m) => format!("{m} ({hash})"),
                    None => hash,
                }
            }
            Finding::MissingDigests {
                from, to, count, reason, ..
            } => format!(
                "{} missing between {} and {} ({reason})",
                hours(*count),
                display(*from),
                display(*to)
            ),
            Finding::Truncation {
                side,
                from,
                to,
                count,
                explanation,
                starting_digest,
                ..
            } => {
                if *starting_digest {
                    let mut s = format!(
                        "the chain begins at {}, after {}: its oldest digest is a starting digest (logging or log file validation was turned on then), so nothing before it was removed",
                        display(*to),
                        display(*from)
                    );
                    if !explanation.is_empty() {
                        s += &format!("; near it: {}", explained(explanation));
                    }
                    return s;
                }
                let mut s = match side {
                    Side::Tail => format!(
                        "the newest digest ends at {}, well before {}: {} missing or never delivered between {} and {}",
                        display(*from),
                        display(*to),
                        hours(*count),
                        display(*from),
                        display(*to)
                    ),
                    Side::Head => format!(
                        "the oldest digest starts at {}, well after {}: {} missing or never delivered between {} and {}",
                        display(*to),
                        display(*from),
                        hours(*count),
                        display(*from),
                        display(*to)
                    ),
                };
                if !explanation.is_empty() {
                    s += &format!("; near it: {}", explained(explanation));
                }
                s
            }
            Finding::UnreferencedLog { reason, .. } => reason.clone(),
            Finding::ChainLink {
                check,
                previous_key,
                recorded,
                actual,
                ..
            } => match check {
                LinkCheck::PreviousHash => format!(
                    "previousDigestHashValue {recorded} is not the SHA-256 of the previous digest {} ({actual})",
                    file_name(previous_key)
                ),
                LinkCheck::PreviousSignature => format!(
                    "previousDigestSignature is not the signature of the previous digest {}",
                    file_name(previous_key)
                ),
                LinkCheck::Contiguity => format!(
                    "digestStartTime {recorded} is not the end of the previous digest {} ({actual})",
                    file_name(previous_key)
                ),
                LinkCheck::PreviousObject => format!(
                    "names {recorded} as its previous digest, but the digest before it is {actual}"
                ),
            },
            Finding::Gap {
                from,
                to,
                explanation,
                covered_by_backfill,
                ..
            } => {
                let mut s = format!(
                    "no digests between {} and {}: the chain restarts (logging or log file validation was off)",
                    display(*from),
                    display(*to)
                );
                if !explanation.is_empty() {
                    s += &format!("; explained by {}", explained(explanation));
                } else if !covered_by_backfill {
                    s += "; no StopLogging, StartLogging, DeleteTrail, UpdateTrail or PutEventSelectors event of the trail found near it";
                }
                if *covered_by_backfill {
                    s += "; backfill digests cover it";
                }
                s
            }
            Finding::Changed {
                digest,
                previous,
                current,
                ..
            } => format!(
                "the {} changed since the ledger's verification: it was {}, it is {}",
                super::json::object_word(*digest),
                identity(previous),
                identity(current)
            ),
            Finding::Removed { digest, previous, .. } => format!(
                "the {} the ledger recorded ({}) is gone",
                super::json::object_word(*digest),
                identity(previous)
            ),
            Finding::ChainSummary(c) => {
                let mut parts = vec![format!(
                    "{}/{} digests valid",
                    c.digests_valid,
                    c.digests_valid + c.digests_invalid + c.digests_missing
                )];
                parts.push(format!(
                    "{}/{} log files valid",
                    c.logs_valid,
                    c.logs_valid + c.logs_invalid
                ));
                for (n, what) in [
                    (c.digests_missing, "missing digests"),
                    (c.unreferenced_logs, "unreferenced log files"),
                    (c.chain_links_broken, "broken links"),
                    (c.gaps, "gaps"),
                    (c.truncations, "truncated ends"),
                    (c.archived, "archived objects (not restored)"),
                ] {
                    if n > 0 {
                        parts.push(format!("{n} {what}"));
                    }
                }
                if let (Some(read), Some(reused)) = (c.objects_read, c.objects_reused) {
                    parts.push(format!("{read} objects read, {reused} verdicts from the ledger"));
                }
                parts.join(", ")
            }
        }
    }
}

/// An identity in words: `1234 bytes, ETag e, modified T` or `1234 bytes with BLAKE3 h`.
fn identity(id: &Identity) -> String {
    match id {
        Identity::Stored {
            size,
            etag,
            last_modified,
            version_id,
        } => {
            let mut s = format!("{size} bytes");
            if let Some(etag) = etag {
                s += &format!(", ETag {etag}");
            }
            if let Some(t) = last_modified {
                s += &format!(", modified {}", display(*t));
            }
            if let Some(v) = version_id {
                s += &format!(", version {v}");
            }
            s
        }
        Identity::Content {
            size,
            blake3,
            metadata_blake3,
        } => {
            let mut s = format!("{size} bytes with BLAKE3 {blake3}");
            if let Some(m) = metadata_blake3 {
                s += &format!(" and metadata BLAKE3 {m}");
            }
            s
        }
    }
}

/// Why an archived object was not checked, and what to do.
fn archived(class: &ArchiveClass) -> String {
    format!(
        "archived in {class} and not restored, so it was not read: restore it (cloudtrail-digest mirror --restore DAYS, or aws s3api restore-object) and audit again"
    )
}

fn hours(n: usize) -> String {
    if n == 1 {
        "1 hourly digest".to_string()
    } else {
        format!("{n} hourly digests")
    }
}

fn explained(events: &[TrailEvent]) -> String {
    events
        .iter()
        .map(TrailEvent::describe)
        .collect::<Vec<_>>()
        .join("; ")
}
