//! Trail-control events in a log file, read as a stream: one record in memory at a time.

use std::fmt;
use std::io::BufReader;

use flate2::read::GzDecoder;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::finding::TrailEvent;
use crate::source::ObjectSource;

/// Events that explain a stop, a restart or a change of what a trail records.
pub const TRAIL_EVENTS: [&str; 5] = [
    "StopLogging",
    "StartLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Identity {
    arn: Option<String>,
    invoked_by: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    event_name: Option<String>,
    event_time: Option<String>,
    user_identity: Option<Identity>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
    aws_region: Option<String>,
    request_parameters: Option<Value>,
}

/// Whether a `name`/`trailName` request parameter names the trail (by name or ARN).
fn names_trail(value: Option<&Value>, trail: &str) -> bool {
    value
        .and_then(Value::as_str)
        .is_some_and(|v| v == trail || v.ends_with(&format!(":trail/{trail}")))
}

struct Collect<'a> {
    trail: &'a str,
    bucket: &'a str,
    key: &'a str,
    out: &'a mut Vec<TrailEvent>,
}

impl Collect<'_> {
    fn take(&mut self, r: Record) {
        let Some(name) = r.event_name.filter(|n| TRAIL_EVENTS.contains(&n.as_str())) else {
            return;
        };
        let params = r.request_parameters.as_ref();
        let named = |field| params.and_then(|p| p.get(field));
        if !names_trail(named("name"), self.trail) && !names_trail(named("trailName"), self.trail) {
            return;
        }
        let actor = r.user_identity.and_then(|u| u.arn.or(u.invoked_by).or(u.kind));
        self.out.push(TrailEvent {
            name,
            time: r.event_time.unwrap_or_default(),
            actor,
            source_ip: r.source_ip_address,
            region: r.aws_region,
            log_bucket: self.bucket.to_string(),
            log_key: self.key.to_string(),
        });
    }
}

impl<'de> DeserializeSeed<'de> for &mut Collect<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for &mut Collect<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail log: {\"Records\": [...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(field) = map.next_key::<String>()? {
            if field == "Records" {
                map.next_value_seed(Records(&mut *self))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Records<'c, 'a>(&'c mut Collect<'a>);

impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(r) = seq.next_element::<Record>()? {
            self.0.take(r);
        }
        Ok(())
    }
}

/// Whether `content` may record one of [`TRAIL_EVENTS`]: it holds one of the names, or
/// a `\u` escape (the names are letters only, so a name written with escapes shows one).
fn may_record_trail_events(content: &[u8]) -> bool {
    memchr::memmem::find(content, b"\\u").is_some()
        || TRAIL_EVENTS
            .iter()
            .any(|name| memchr::memmem::find(content, name.as_bytes()).is_some())
}

/// [`trail_events`] of a log's content already read (inflated, or as stored when it
/// was stored decompressed): the same events, without reading the log again.
pub(crate) fn trail_events_in(content: &[u8], bucket: &str, key: &str, trail: &str) -> Vec<TrailEvent> {
    let mut out = Vec::new();
    if may_record_trail_events(content) {
        let mut collect = Collect {
            trail,
            bucket,
            key,
            out: &mut out,
        };
        let _ = (&mut collect).deserialize(&mut serde_json::Deserializer::from_slice(content));
    }
    out
}

/// Events of `trail` ([`TRAIL_EVENTS`]) recorded in one log. A log that cannot be read
/// or parsed yields what was found before the problem: the log's integrity is judged
/// elsewhere.
pub(crate) fn trail_events(
    source: &dyn ObjectSource,
    bucket: &str,
    key: &str,
    trail: &str,
) -> Vec<TrailEvent> {
    let mut out = Vec::new();
    let Ok(reader) = source.open(bucket, key) else {
        return out;
    };
    let mut collect = Collect {
        trail,
        bucket,
        key,
        out: &mut out,
    };
    let mut gz = BufReader::new(GzDecoder::new(reader));
    let mut de = serde_json::Deserializer::from_reader(&mut gz);
    if (&mut collect).deserialize(&mut de).is_err() && collect.out.is_empty() {
        // Perhaps stored decompressed: read it as it is.
        if let Ok(plain) = source.open(bucket, key) {
            let mut de = serde_json::Deserializer::from_reader(BufReader::new(plain));
            let _ = (&mut collect).deserialize(&mut de);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_trail_events_naming_the_trail() {
        let log = br#"{"Records":[
            {"eventName":"DescribeInstances","eventTime":"2026-03-01T00:01:00Z","requestParameters":{"name":"t"}},
            {"eventName":"StopLogging","eventTime":"2026-03-01T00:02:00Z","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice"},"sourceIPAddress":"203.0.113.24","awsRegion":"us-east-1","requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:1:trail/t"}},
            {"eventName":"StopLogging","eventTime":"2026-03-01T00:03:00Z","requestParameters":{"name":"other"}},
            {"eventName":"PutEventSelectors","eventTime":"2026-03-01T00:04:00Z","userIdentity":{"invokedBy":"x"},"requestParameters":{"trailName":"t","eventSelectors":[]}}
        ],"extra":1}"#;
        let mut out = Vec::new();
        let mut c = Collect {
            trail: "t",
            bucket: "b",
            key: "k",
            out: &mut out,
        };
        (&mut c)
            .deserialize(&mut serde_json::Deserializer::from_slice(log))
            .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "StopLogging");
        assert_eq!(out[0].actor.as_deref(), Some("arn:aws:iam::1:user/alice"));
        assert_eq!(out[0].source_ip.as_deref(), Some("203.0.113.24"));
        assert_eq!(out[1].name, "PutEventSelectors");
        assert_eq!(out[1].actor.as_deref(), Some("x"));
    }
}
