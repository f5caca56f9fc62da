//! Time formatting in the handful of layouts CloudTrail uses, and parsing of the
//! generator's own command-line times.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};

/// `YYYY-MM-DDTHH:MM:SSZ`, the layout of every time inside digests and records.
pub fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `YYYY-MM-DDTHH:MM:SS+00:00`, the layout AWS CLI v2 prints for timestamps.
pub fn iso_offset(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// `YYYYMMDDTHHMMSSZ`, the stamp at the end of a digest key.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// `YYYYMMDDTHHMMZ`, the stamp in a log file key.
pub fn minute_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%MZ").to_string()
}

/// `YYYY/MM/DD`, the date folders of a key.
pub fn date_path(t: DateTime<Utc>) -> String {
    t.format("%Y/%m/%d").to_string()
}

/// A UTC instant from its parts; panics on an impossible date (callers use literals).
pub fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(
        &NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, s))
            .expect("valid literal date"),
    )
}

/// Parses an RFC 3339 time (`2026-03-01T00:17:42Z`, or with an offset) into UTC.
pub fn parse(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("cannot parse time {s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let t = utc(2026, 3, 1, 0, 17, 42);
        assert_eq!(iso(t), "2026-03-01T00:17:42Z");
        assert_eq!(iso_offset(t), "2026-03-01T00:17:42+00:00");
        assert_eq!(stamp(t), "20260301T001742Z");
        assert_eq!(minute_stamp(t), "20260301T0017Z");
        assert_eq!(date_path(t), "2026/03/01");
        assert_eq!(parse("2026-03-01T02:17:42+02:00").unwrap(), t);
        assert_eq!(t.timestamp(), 1_772_324_262);
    }
}
