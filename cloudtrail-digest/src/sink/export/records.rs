//! A log's records, found in its content without re-serialising them: each one's exact
//! bytes, where they lie, and the few fields queries need, typed.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// One record of a log: its bytes exactly as they appear in the inflated log, where, and
/// its typed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Byte offset of the record in the inflated log.
    pub offset: usize,
    /// The record's bytes (a JSON object), exactly as in the log.
    pub raw: &'a str,
    /// Its fields for queries.
    pub fields: EventFields,
}

/// The fields of a record that queries need, each `None` when absent or not a string
/// (`eventTime` also when it is not an ISO 8601 time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFields {
    /// `eventTime`.
    pub event_time: Option<DateTime<Utc>>,
    /// `eventName`.
    pub event_name: Option<String>,
    /// `eventSource`.
    pub event_source: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `awsRegion`.
    pub aws_region: Option<String>,
    /// `recipientAccountId`.
    pub recipient_account_id: Option<String>,
    /// `userIdentity.type`.
    pub user_identity_type: Option<String>,
    /// `userIdentity.arn`.
    pub user_identity_arn: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip_address: Option<String>,
    /// `errorCode`.
    pub error_code: Option<String>,
}

/// Why a log's content yields no records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordsError {
    /// The content is not UTF-8.
    NotUtf8,
    /// The content is not a JSON object with a `Records` array of objects.
    NotALog(String),
}

#[derive(Deserialize)]
struct LogFile<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

/// The fields read from a record; anything else in it is skipped unread.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Wanted {
    #[serde(rename = "eventTime")]
    event_time: Option<Value>,
    #[serde(rename = "eventName")]
    event_name: Option<Value>,
    #[serde(rename = "eventSource")]
    event_source: Option<Value>,
    #[serde(rename = "eventID")]
    event_id: Option<Value>,
    #[serde(rename = "awsRegion")]
    aws_region: Option<Value>,
    #[serde(rename = "recipientAccountId")]
    recipient_account_id: Option<Value>,
    #[serde(rename = "userIdentity")]
    user_identity: Option<Value>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<Value>,
    #[serde(rename = "errorCode")]
    error_code: Option<Value>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

/// The records of a log's content (`{"Records": [...]}`), in order.
pub fn records(content: &[u8]) -> Result<Vec<Record<'_>>, RecordsError> {
    let text_of_log = std::str::from_utf8(content).map_err(|_| RecordsError::NotUtf8)?;
    let log: LogFile<'_> =
        serde_json::from_str(text_of_log).map_err(|e| RecordsError::NotALog(e.to_string()))?;
    let base = text_of_log.as_ptr() as usize;
    log.records
        .into_iter()
        .map(|raw| {
            let raw = raw.get();
            // A borrowed raw value is a slice of the content itself.
            let offset = raw.as_ptr() as usize - base;
            let wanted: Wanted =
                serde_json::from_str(raw).map_err(|e| RecordsError::NotALog(e.to_string()))?;
            let identity = wanted.user_identity.as_ref();
            let fields = EventFields {
                event_time: wanted
                    .event_time
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.to_utc()),
                event_name: text(wanted.event_name.as_ref()),
                event_source: text(wanted.event_source.as_ref()),
                event_id: text(wanted.event_id.as_ref()),
                aws_region: text(wanted.aws_region.as_ref()),
                recipient_account_id: text(wanted.recipient_account_id.as_ref()),
                user_identity_type: text(identity.and_then(|i| i.get("type"))),
                user_identity_arn: text(identity.and_then(|i| i.get("arn"))),
                source_ip_address: text(wanted.source_ip_address.as_ref()),
                error_code: text(wanted.error_code.as_ref()),
            };
            Ok(Record { offset, raw, fields })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_is_its_exact_bytes_at_its_offset() {
        let log = br#"{"Records": [ {"eventTime":"2026-03-01T00:05:00Z","eventName":"GetObject",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s"},
            "errorCode":"AccessDenied", "x": 1.50} ,{"eventName":"ListBuckets","eventTime":"bad","awsRegion":7}]}"#;
        let rs = records(log).unwrap();
        assert_eq!(rs.len(), 2);
        for r in &rs {
            assert_eq!(&log[r.offset..r.offset + r.raw.len()], r.raw.as_bytes());
            assert!(r.raw.starts_with('{') && r.raw.ends_with('}'));
        }
        assert!(rs[0].raw.contains("\"x\": 1.50"), "not re-serialised");
        let f = &rs[0].fields;
        assert_eq!(f.event_time.unwrap().to_rfc3339(), "2026-03-01T00:05:00+00:00");
        assert_eq!(f.user_identity_type.as_deref(), Some("AssumedRole"));
        assert_eq!(f.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(rs[1].fields.event_time, None, "unparseable time");
        assert_eq!(rs[1].fields.aws_region, None, "not a string");
        assert_eq!(rs[1].fields.event_name.as_deref(), Some("ListBuckets"));
    }

    #[test]
    fn content_that_is_not_a_log_says_so() {
        assert_eq!(records(b"\xff").unwrap_err(), RecordsError::NotUtf8);
        assert!(matches!(records(b"[1]"), Err(RecordsError::NotALog(_))));
        assert!(matches!(
            records(br#"{"Records":[1]}"#),
            Err(RecordsError::NotALog(_))
        ));
        assert!(records(br#"{"Records":[]}"#).unwrap().is_empty());
    }
}
