//! The time window of every command, parsed in one place: lenient dates as the reference
//! reads them (UTC unless an offset is given, which is converted), an empty or absent end
//! meaning now, and a start after the end refused.

use chrono::{DateTime, Local, Utc};
use cloudtrail_digest::{parse_date, Error};

use crate::cli::WindowArgs;

/// How a command words a time it cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// The AWS CLI's messages (`validate-logs`, `keys`, `mirror`; fatal errors):
    /// `Unable to parse date value: TEXT`, `Invalid time range specified: ...`.
    Reference,
    /// Messages naming the option (`audit`; usage errors):
    /// `--end-time: unable to parse date value: TEXT`, `--start-time must not be after --end-time`.
    Options,
}

/// One time given on the command line, `option` naming it (`--now`, `--start-time`).
pub fn time(option: &str, text: &str, wording: Wording) -> Result<DateTime<Utc>, String> {
    let today = Local::now().date_naive();
    parse_date(text, today)
        .map(|d| d.to_utc())
        .map_err(|e| match wording {
            Wording::Reference => e.to_string(),
            Wording::Options => format!("{option}: unable to parse date value: {text}"),
        })
}

/// The window of `args`, an empty or absent end meaning `now`.
pub fn window(
    args: &WindowArgs,
    now: DateTime<Utc>,
    wording: Wording,
) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let start = args.start_time.as_deref().ok_or("--start-time is required")?;
    let start = time("--start-time", start, wording)?;
    let end = match args.end_time.as_deref() {
        None | Some("") => now,
        Some(text) => time("--end-time", text, wording)?,
    };
    if start > end {
        return Err(match wording {
            Wording::Reference => Error::InvalidTimeRange.to_string(),
            Wording::Options => "--start-time must not be after --end-time".to_string(),
        });
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(start: &str, end: Option<&str>) -> WindowArgs {
        WindowArgs {
            start_time: Some(start.to_string()),
            end_time: end.map(str::to_string),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        cloudtrail_digest::parse_utc(text).expect(text)
    }

    #[test]
    fn an_absent_or_empty_end_is_now() {
        let now = at("2026-03-05T12:00:00Z");
        for end in [None, Some("")] {
            for wording in [Wording::Reference, Wording::Options] {
                let w = window(&args("2026-03-01", end), now, wording).unwrap();
                assert_eq!(w, (at("2026-03-01T00:00:00Z"), now));
            }
        }
    }

    #[test]
    fn offsets_are_converted() {
        let w = window(
            &args("2026-03-01T02:00:00+02:00", Some("2026-03-01T05:00:00Z")),
            Utc::now(),
            Wording::Reference,
        );
        assert_eq!(
            w.unwrap(),
            (at("2026-03-01T00:00:00Z"), at("2026-03-01T05:00:00Z"))
        );
    }

    #[test]
    fn each_wording_names_the_fault_its_own_way() {
        let now = Utc::now();
        let bad_end = args("2026-03-01", Some("2026-13-45"));
        assert_eq!(
            window(&bad_end, now, Wording::Reference).unwrap_err(),
            "Unable to parse date value: 2026-13-45"
        );
        assert_eq!(
            window(&bad_end, now, Wording::Options).unwrap_err(),
            "--end-time: unable to parse date value: 2026-13-45"
        );
        let bad_start = args("yesterday", None);
        assert_eq!(
            window(&bad_start, now, Wording::Options).unwrap_err(),
            "--start-time: unable to parse date value: yesterday"
        );
        let reversed = args("2026-03-02", Some("2026-03-01"));
        assert_eq!(
            window(&reversed, now, Wording::Reference).unwrap_err(),
            "Invalid time range specified: start-time must occur before end-time"
        );
        assert_eq!(
            window(&reversed, now, Wording::Options).unwrap_err(),
            "--start-time must not be after --end-time"
        );
        assert_eq!(
            time("--now", "soon", Wording::Options).unwrap_err(),
            "--now: unable to parse date value: soon"
        );
    }
}
