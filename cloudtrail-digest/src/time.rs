//! Time formats the reference prints and compares, and reading times found in digests.

use chrono::{DateTime, NaiveDate, Utc};

use crate::dateparse::parse_date;
use crate::error::Error;

/// `%Y-%m-%dT%H:%M:%SZ`: how the reference prints times.
pub fn display(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `%Y%m%dT%H%M%SZ`: the stamp format of digest key names.
pub fn compact(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Reads a time found in a key name or a digest field the way the reference does:
/// leniently, and keeping the wall-clock fields as UTC when an offset is present.
/// `default_date` fills fields the text lacks (the reference uses today's date).
pub fn parse_recorded(text: &str, default_date: NaiveDate) -> Result<DateTime<Utc>, Error> {
    parse_date(text, default_date)
        .map(|d| d.to_utc_ignoring_offset())
        .map_err(|_| Error::UnparseableDate(text.to_string()))
}

/// Like [`parse_recorded`], but converting an offset to UTC (the reference does this where
/// it compares times without normalising them first).
pub fn parse_recorded_converting(text: &str, default_date: NaiveDate) -> Result<DateTime<Utc>, Error> {
    parse_date(text, default_date)
        .map(|d| d.to_utc())
        .map_err(|_| Error::UnparseableDate(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 0, 17, 42).unwrap();
        assert_eq!(display(t), "2026-03-01T00:17:42Z");
        assert_eq!(compact(t), "20260301T001742Z");
    }

    #[test]
    fn offsets_in_recorded_times_are_dropped_not_converted() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let t = parse_recorded("2026-03-01T05:00:00+02:00", d).unwrap();
        assert_eq!(display(t), "2026-03-01T05:00:00Z");
        let t = parse_recorded_converting("2026-03-01T05:00:00+02:00", d).unwrap();
        assert_eq!(display(t), "2026-03-01T03:00:00Z");
    }
}
