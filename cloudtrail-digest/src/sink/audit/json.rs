//! A finding as one JSON object: the NDJSON schema the README describes.

use serde_json::{json, Map, Value};

use chrono::{DateTime, Utc};

use crate::audit::{DigestState, Finding, Side, TrailEvent};
use crate::source::ArchiveClass;
use crate::time::display;
use crate::verdict::LogVerdict;

impl Finding {
    /// The finding as one JSON object (the NDJSON schema in the README).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("kind".into(), json!(self.kind()));
        o.insert("status".into(), json!(self.status().as_str()));
        o.insert("chain".into(), json!(self.chain()));
        if let Some((b, k)) = self.object() {
            o.insert("bucket".into(), json!(b));
            o.insert("key".into(), json!(k));
        }
        let t = |d: &DateTime<Utc>| json!(display(*d));
        match self {
            Finding::Digest { backfill, state, .. } => {
                o.insert("backfill".into(), json!(backfill));
                if let DigestState::Archived(class) = state {
                    archive_fields(&mut o, class);
                }
                if let DigestState::Valid {
                    start,
                    end,
                    fingerprint,
                    signature,
                } = state
                {
                    o.insert("from".into(), t(start));
                    o.insert("to".into(), t(end));
                    o.insert("fingerprint".into(), json!(fingerprint));
                    o.insert("signature_source".into(), json!(signature.word()));
                }
            }
            Finding::Log {
                digest_key, verdict, ..
            } => {
                o.insert("digest_key".into(), json!(digest_key));
                o.insert("verdict".into(), json!(verdict.to_string()));
                if let LogVerdict::Archived(class) = verdict {
                    archive_fields(&mut o, class);
                }
            }
            Finding::MissingDigests {
                bucket,
                from,
                to,
                count,
                keys,
                ..
            } => {
                o.insert("bucket".into(), json!(bucket));
                o.insert("from".into(), t(from));
                o.insert("to".into(), t(to));
                o.insert("count".into(), json!(count));
                o.insert("keys".into(), json!(keys));
            }
            Finding::Truncation {
                side,
                from,
                to,
                count,
                explanation,
                starting_digest,
                ..
            } => {
                o.insert("starting_digest".into(), json!(starting_digest));
                let side = match side {
                    Side::Head => "head",
                    Side::Tail => "tail",
                };
                o.insert("side".into(), json!(side));
                o.insert("from".into(), t(from));
                o.insert("to".into(), t(to));
                o.insert("count".into(), json!(count));
                o.insert(
                    "explanation".into(),
                    Value::Array(explanation.iter().map(TrailEvent::to_json).collect()),
                );
            }
            Finding::UnreferencedLog { time, .. } => {
                o.insert("time".into(), time.as_ref().map(t).unwrap_or(Value::Null));
            }
            Finding::ChainLink {
                previous_bucket,
                previous_key,
                check,
                recorded,
                actual,
                ..
            } => {
                o.insert("previous_bucket".into(), json!(previous_bucket));
                o.insert("previous_key".into(), json!(previous_key));
                o.insert("check".into(), json!(check.as_str()));
                o.insert("recorded".into(), json!(recorded));
                o.insert("actual".into(), json!(actual));
            }
            Finding::Gap {
                from,
                to,
                count,
                explanation,
                covered_by_backfill,
                ..
            } => {
                o.insert("from".into(), t(from));
                o.insert("to".into(), t(to));
                o.insert("count".into(), json!(count));
                o.insert("explained".into(), json!(!explanation.is_empty()));
                o.insert(
                    "explanation".into(),
                    Value::Array(explanation.iter().map(TrailEvent::to_json).collect()),
                );
                o.insert("covered_by_backfill".into(), json!(covered_by_backfill));
            }
            Finding::Changed {
                digest,
                previous,
                current,
                ..
            } => {
                o.insert("object".into(), json!(object_word(*digest)));
                o.insert("previous".into(), json!(previous));
                o.insert("current".into(), json!(current));
            }
            Finding::Removed { digest, previous, .. } => {
                o.insert("object".into(), json!(object_word(*digest)));
                o.insert("previous".into(), json!(previous));
            }
            Finding::ChainSummary(c) => {
                for (k, v) in [
                    ("buckets", json!(c.buckets)),
                    ("prefix", json!(c.prefix)),
                    ("organization_id", json!(c.organization_id)),
                    ("account_id", json!(c.account_id)),
                    ("source_region", json!(c.source_region)),
                    ("trail_name", json!(c.trail_name)),
                    ("home_region", json!(c.home_region)),
                    ("backfill", json!(c.backfill)),
                    ("digests_valid", json!(c.digests_valid)),
                    ("digests_invalid", json!(c.digests_invalid)),
                    ("digests_missing", json!(c.digests_missing)),
                    ("logs_valid", json!(c.logs_valid)),
                    ("logs_invalid", json!(c.logs_invalid)),
                    ("unreferenced_logs", json!(c.unreferenced_logs)),
                    ("chain_links_broken", json!(c.chain_links_broken)),
                    ("gaps", json!(c.gaps)),
                    ("gaps_unexplained", json!(c.gaps_unexplained)),
                    ("truncations", json!(c.truncations)),
                    ("archived", json!(c.archived)),
                    ("from", c.covered_from.as_ref().map(t).unwrap_or(Value::Null)),
                    ("to", c.covered_to.as_ref().map(t).unwrap_or(Value::Null)),
                ] {
                    o.insert(k.into(), v);
                }
                if let (Some(read), Some(reused)) = (c.objects_read, c.objects_reused) {
                    o.insert("objects_read".into(), json!(read));
                    o.insert("objects_reused".into(), json!(reused));
                }
            }
        }
        o.insert("reason".into(), json!(self.reason()));
        Value::Object(o)
    }
}

pub(super) fn object_word(digest: bool) -> &'static str {
    if digest {
        "digest"
    } else {
        "log"
    }
}

/// `storage_class` and `access_tier` (null when S3 did not name them) of an archived object.
fn archive_fields(o: &mut Map<String, Value>, class: &ArchiveClass) {
    o.insert("storage_class".into(), json!(class.storage_class));
    o.insert("access_tier".into(), json!(class.access_tier));
}

impl TrailEvent {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "event": self.name,
            "time": self.time,
            "actor": self.actor,
            "source_ip": self.source_ip,
            "region": self.region,
            "bucket": self.log_bucket,
            "key": self.log_key,
        })
    }
}
