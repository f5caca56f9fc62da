//! The reference's text output: the header, one status line per event (stdout for valid
//! items in verbose mode, stderr for problems, with its blank-line rhythm), and the summary.
//! Names that did not come from a validly signed digest (the key of an invalid digest,
//! listed or named) and every reason (it may quote a link's target or a digest's field)
//! are shown through [`escape_name`], which leaves printable text unchanged; when
//! anything was escaped, [`ESCAPE_NOTE`] follows on stderr after the summary. The key of
//! a valid digest and the log keys it lists are signed, and printed as the reference
//! prints them.

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::{DateTime, Utc};

use crate::sink::names::{escape_name, escape_text, ESCAPE_NOTE};
use crate::time::display;
use crate::verdict::{Event, Pass, Summary};

/// Writes events as `aws cloudtrail validate-logs` does, byte for byte.
pub struct TextReport<O: Write, E: Write> {
    out: O,
    err: E,
    verbose: bool,
    /// Whether the last status line was followed by a blank line (true at the start).
    double_spaced: bool,
    /// Whether a line written so far showed a name escaped.
    escaped: bool,
}

impl<O: Write, E: Write> TextReport<O, E> {
    /// A report writing to `out` (stdout) and `err` (stderr).
    pub fn new(out: O, err: E, verbose: bool) -> Self {
        TextReport {
            out,
            err,
            verbose,
            double_spaced: true,
            escaped: false,
        }
    }

    /// `Validating log files for trail ARN between START and END`, then a blank line.
    pub fn header(&mut self, trail_arn: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> io::Result<()> {
        write!(
            self.out,
            "Validating log files for trail {trail_arn} between {} and {}\n\n",
            display(start),
            display(end)
        )?;
        self.out.flush()
    }

    /// One event's status line, if it has one in this mode.
    pub fn event(&mut self, event: &Event) -> io::Result<()> {
        let (line, is_error, escaped) = line_of(event);
        if !is_error && !self.verbose {
            return Ok(());
        }
        self.escaped |= escaped;
        if is_error {
            // Keep stdout and stderr in order when both go to one terminal.
            self.out.flush()?;
            let lead = if self.double_spaced { "" } else { "\n" };
            write!(self.err, "{lead}{line}\n\n")?;
            self.double_spaced = true;
            self.err.flush()
        } else {
            self.double_spaced = false;
            writeln!(self.out, "{line}")
        }
    }

    /// The closing summary, then (on stderr) [`ESCAPE_NOTE`] if a name was shown escaped.
    pub fn summary(&mut self, start: DateTime<Utc>, end: DateTime<Utc>, s: &Summary) -> io::Result<()> {
        if !self.double_spaced {
            writeln!(self.out)?;
        }
        writeln!(
            self.out,
            "Results requested for {} to {}",
            display(start),
            display(end)
        )?;
        let any_valid = s.valid_digests + s.valid_backfill_digests > 0;
        if !any_valid && s.invalid_digests + s.invalid_backfill_digests == 0 {
            writeln!(self.out, "No digests found")?;
            return self.note();
        }
        match (s.found_start, s.found_end) {
            (Some(from), Some(to)) => writeln!(
                self.out,
                "Results found for {} to {}:",
                display(from),
                display(to)
            )?,
            _ => writeln!(self.out, "No valid digests found in range")?,
        }
        for (valid, invalid, name) in [
            (s.valid_digests, s.invalid_digests, "digest"),
            (
                s.valid_backfill_digests,
                s.invalid_backfill_digests,
                "backfill digest",
            ),
            (s.valid_logs, s.invalid_logs, "log"),
        ] {
            let total = valid + invalid;
            if total > 0 {
                write!(self.out, "\n{valid}/{total} {name} files valid")?;
                if invalid > 0 {
                    write!(self.out, ", {invalid}/{total} {name} files INVALID")?;
                }
            }
        }
        writeln!(self.out)?;
        self.note()
    }

    /// A fatal error: a blank line, then the message, on stderr (escaped as
    /// [`escape_text`] does: its lines are kept), then [`ESCAPE_NOTE`] if a name was
    /// shown escaped.
    pub fn fatal(&mut self, message: &str) -> io::Result<()> {
        let message = escape_text(message);
        self.escaped |= matches!(message, Cow::Owned(_));
        self.out.flush()?;
        write!(self.err, "\n{message}\n")?;
        self.note()
    }

    /// Whether a name was shown escaped so far.
    pub fn escaped(&self) -> bool {
        self.escaped
    }

    /// Flushes stdout, then says on stderr that names were escaped, if any was.
    fn note(&mut self) -> io::Result<()> {
        self.out.flush()?;
        if self.escaped {
            write!(self.err, "\n{ESCAPE_NOTE}\n")?;
        }
        self.err.flush()
    }

    /// The writers, for output that follows the report.
    pub fn streams(&mut self) -> (&mut O, &mut E) {
        (&mut self.out, &mut self.err)
    }

    /// Gives the writers back.
    pub fn into_inner(self) -> (O, E) {
        (self.out, self.err)
    }
}

/// An event's status line and whether it goes to stderr. The bucket and key of an
/// invalid digest, and every reason, are shown through [`escape_name`]; the names of a
/// valid digest and of the log files it lists came from its signed content and are
/// shown as they are.
pub fn status_line(event: &Event) -> (String, bool) {
    let (line, is_error, _) = line_of(event);
    (line, is_error)
}

/// The status line, whether it goes to stderr, and whether anything in it was escaped.
fn line_of(event: &Event) -> (String, bool, bool) {
    let mut escaped = false;
    let mut show = |text: &str| {
        let shown = escape_name(text);
        escaped |= matches!(shown, Cow::Owned(_));
        shown.into_owned()
    };
    let (line, is_error) = status_of(event, &mut show);
    (line, is_error, escaped)
}

fn status_of(event: &Event, show: &mut dyn FnMut(&str) -> String) -> (String, bool) {
    let tag = |pass: &Pass| match pass {
        Pass::Standard => "",
        Pass::Backfill => "(backfill) ",
    };
    match event {
        Event::DigestValid {
            pass, bucket, key, ..
        } => (
            format!("{}Digest file\ts3://{bucket}/{key}\tvalid", tag(pass)),
            false,
        ),
        Event::DigestInvalid {
            pass,
            bucket,
            key,
            verdict,
        } => (
            format!(
                "{}Digest file\ts3://{}/{}\tINVALID: {}",
                tag(pass),
                show(bucket),
                show(key),
                show(&verdict.to_string())
            ),
            true,
        ),
        Event::Gap { pass, from, to } => (
            format!(
                "{}No log files were delivered by CloudTrail between {} and {}",
                tag(pass),
                display(*from),
                display(*to)
            ),
            true,
        ),
        Event::Log { bucket, key, verdict } => (
            format!("Log file\ts3://{bucket}/{key}\t{}", show(&verdict.to_string())),
            !verdict.is_valid(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::{DigestVerdict, LogVerdict};

    fn invalid_digest(key: &str, verdict: DigestVerdict) -> Event {
        Event::DigestInvalid {
            pass: Pass::Standard,
            bucket: "b".into(),
            key: key.into(),
            verdict,
        }
    }

    fn report(events: &[Event]) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = TextReport::new(&mut out, &mut err, false);
        for e in events {
            r.event(e).unwrap();
        }
        r.summary(Utc::now(), Utc::now(), &Summary::default()).unwrap();
        (String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[test]
    fn unsigned_names_and_reasons_are_escaped_and_noted_once() {
        let (_, err) = report(&[
            invalid_digest("d/\u{1b}[1A\u{1b}[2K.json.gz", DigestVerdict::InvalidFormat),
            invalid_digest(
                "d/x.json.gz",
                DigestVerdict::UnknownFingerprint {
                    region: "us-east-1".into(),
                    fingerprint: "ab\r\u{202e}".into(),
                },
            ),
        ]);
        assert_eq!(
            err,
            format!(
                "Digest file\ts3://b/d/\\x1b[1A\\x1b[2K.json.gz\tINVALID: invalid format\n\n\
                 Digest file\ts3://b/d/x.json.gz\tINVALID: public key not found in region us-east-1 \
                 for fingerprint ab\\x0d\\u{{202e}}\n\n\n{ESCAPE_NOTE}\n"
            )
        );
    }

    #[test]
    fn signed_and_printable_names_are_printed_as_they_are() {
        // A log key a valid digest lists is signed: printed as the reference prints it.
        let log = Event::Log {
            bucket: "b".into(),
            key: "l/log\0.json.gz".into(),
            verdict: LogVerdict::Refused("key refused: contains a NUL byte".into()),
        };
        let printable = invalid_digest(r"d/a\b/é/日本.json.gz", DigestVerdict::NotFound);
        let (_, err) = report(&[log, printable]);
        assert_eq!(
            err,
            "Log file\ts3://b/l/log\0.json.gz\tINVALID: key refused: contains a NUL byte\n\n\
             Digest file\ts3://b/d/a\\b/é/日本.json.gz\tINVALID: not found\n\n"
        );
    }

    #[test]
    fn a_fatal_message_is_escaped_keeping_its_lines() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        TextReport::new(&mut out, &mut err, false)
            .fatal("s3://b/k\u{1b}]0;t\u{7}: gone\n  next")
            .unwrap();
        assert_eq!(
            String::from_utf8(err).unwrap(),
            format!("\ns3://b/k\\x1b]0;t\\x07: gone\n  next\n\n{ESCAPE_NOTE}\n")
        );
    }
}
