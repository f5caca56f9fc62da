//! The reference's text output: the header, one status line per event (stdout for valid
//! items in verbose mode, stderr for problems, with its blank-line rhythm), and the summary.
//! Names and reasons are shown through [`escape_name`]: unchanged when printable, and
//! then said once, on stderr after the summary ([`ESCAPE_NOTE`]), when any was escaped.

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

/// An event's status line and whether it goes to stderr. Bucket, key and reason are
/// shown through [`escape_name`].
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
            format!(
                "{}Digest file\ts3://{}/{}\tvalid",
                tag(pass),
                show(bucket),
                show(key)
            ),
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
            format!(
                "Log file\ts3://{}/{}\t{}",
                show(bucket),
                show(key),
                show(&verdict.to_string())
            ),
            !verdict.is_valid(),
        ),
    }
}
