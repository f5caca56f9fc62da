//! Writing an audit report: human text, one JSON document, or NDJSON (one object per
//! line, for SIEM ingestion), a finding at a time ([`ReportWriter`]) or from a whole
//! [`AuditReport`](crate::audit::AuditReport). The JSON objects are described in the README.

mod json;
mod words;

use std::borrow::Cow;
use std::io::{self, Seek, SeekFrom, Write};

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::audit::{AuditReport, ChainSummary, Finding, Outcome, Status};
use crate::sink::names::{escape_name, ESCAPE_NOTE};
use crate::time::display;

impl AuditReport {
    /// Every finding, then one `chain_summary` per chain, as JSON objects.
    pub fn objects(&self) -> Vec<Value> {
        self.findings
            .iter()
            .map(Finding::to_json)
            .chain(self.chains.iter().map(summary_json))
            .collect()
    }

    /// What the report's head says: window, now, allowance and how many chains.
    pub fn head(&self) -> ReportHead {
        ReportHead {
            window: self.window,
            now: self.now,
            allowance: self.allowance,
            chains: self.chains.len(),
        }
    }

    /// Writes the report through a [`ReportWriter`] of `form`, a finding at a time.
    fn write_as(&self, out: &mut dyn Write, form: Form) -> io::Result<()> {
        let mut w = ReportWriter::start(out, self.head(), form, Some(&self.chains))?;
        for f in &self.findings {
            w.finding(f)?;
        }
        w.finish(&self.chains, &self.outcome())
    }

    /// One JSON object per line: each finding, then one `chain_summary` per chain,
    /// each made and written in turn.
    pub fn write_ndjson(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_as(out, Form::Ndjson)
    }

    /// One JSON document: the window, the objects of [`AuditReport::write_ndjson`]
    /// (findings, then chain summaries) and the verdict.
    ///
    /// It is the document `serde_json` prints pretty (keys in order, two spaces a
    /// level), written a member at a time, so that a finding's JSON lives only while it
    /// is written.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_as(out, Form::Json)
    }

    /// Human text: one line per finding (valid digests and logs only when `verbose`),
    /// a table of chains, and the verdict. Names, reasons and chain names are shown
    /// through [`escape_name`], and [`ESCAPE_NOTE`] is a line above
    /// the verdict when any was escaped; JSON and NDJSON keep them exact.
    pub fn write_text(&self, out: &mut dyn Write, verbose: bool) -> io::Result<()> {
        self.write_as(out, Form::Text { verbose })
    }
}

/// What a report says before its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportHead {
    /// The window audited.
    pub window: (DateTime<Utc>, DateTime<Utc>),
    /// The time the audit took as now.
    pub now: DateTime<Utc>,
    /// The delivery allowance.
    pub allowance: Duration,
    /// How many chains the report has.
    pub chains: usize,
}

/// The form a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Form {
    /// Human text; valid digests and logs listed only when `verbose`.
    Text {
        /// List valid digests and logs too.
        verbose: bool,
    },
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Writes an audit report a finding at a time, so that a report too large to hold is
/// written as it is made: [`ReportWriter::start`], a [`ReportWriter::finding`] for
/// each finding in the report's order, then [`ReportWriter::finish`] with the chain
/// summaries and the outcome. Text and NDJSON go straight out. The JSON document holds
/// the chains before the findings: when they are not known at the start, the findings'
/// JSON waits in an unnamed temporary file until the end.
pub struct ReportWriter<'w> {
    out: &'w mut dyn Write,
    head: ReportHead,
    form: Form,
    /// Text: whether any name was escaped; findings shown.
    escaped: bool,
    shown: usize,
    /// JSON: whether a finding was written, and where findings wait for the chains.
    first: bool,
    spool: Option<io::BufWriter<std::fs::File>>,
}

impl<'w> ReportWriter<'w> {
    /// Starts a report in `form` on `out`. `chains`, when already known, lets the JSON
    /// document be written straight out.
    pub fn start(
        out: &'w mut dyn Write,
        head: ReportHead,
        form: Form,
        chains: Option<&[ChainSummary]>,
    ) -> io::Result<Self> {
        let mut w = ReportWriter {
            out,
            head,
            form,
            escaped: false,
            shown: 0,
            first: true,
            spool: None,
        };
        match (form, chains) {
            (Form::Text { .. }, _) => {
                writeln!(
                    w.out,
                    "Audit of {} to {} (now {}, delivery allowance {} min): {} chain(s)",
                    display(head.window.0),
                    display(head.window.1),
                    display(head.now),
                    head.allowance.num_minutes(),
                    head.chains
                )?;
                writeln!(w.out)?;
            }
            (Form::Json, Some(chains)) => w.json_head(chains)?,
            (Form::Json, None) => w.spool = Some(io::BufWriter::new(tempfile::tempfile()?)),
            (Form::Ndjson, _) => {}
        }
        Ok(w)
    }

    /// The JSON document up to its findings.
    fn json_head(&mut self, chains: &[ChainSummary]) -> io::Result<()> {
        self.out.write_all(b"{\n  \"chains\": ")?;
        pretty_array(self.out, chains.iter().map(summary_json))?;
        write!(
            self.out,
            ",\n  \"delivery_allowance_minutes\": {}",
            self.head.allowance.num_minutes()
        )?;
        self.out.write_all(b",\n  \"findings\": ")
    }

    /// Writes the next finding.
    pub fn finding(&mut self, f: &Finding) -> io::Result<()> {
        match self.form {
            Form::Text { verbose } => {
                if f.status() == Status::Valid && !verbose {
                    return Ok(());
                }
                self.shown += 1;
                let escaped = &mut self.escaped;
                let mut show = |text: &str| shown(text, escaped);
                let what = match f.object() {
                    Some((b, k)) => format!("s3://{}/{}", show(b), show(k)),
                    None => show(f.chain()),
                };
                let status = f.status().as_str().to_uppercase();
                let reason = show(&f.reason());
                writeln!(self.out, "{status:<8} {:<16} {what}\t{reason}", f.kind())
            }
            Form::Json => {
                let first = std::mem::replace(&mut self.first, false);
                let out: &mut dyn Write = match &mut self.spool {
                    Some(spool) => spool,
                    None => &mut *self.out,
                };
                out.write_all(if first { b"[\n    " } else { b",\n    " })?;
                pretty(out, &f.to_json(), b"    ")
            }
            Form::Ndjson => {
                serde_json::to_writer(&mut *self.out, &f.to_json())?;
                self.out.write_all(b"\n")
            }
        }
    }

    /// Writes what follows the findings: the chain summaries (the table, in text) and
    /// the verdict of `outcome`.
    pub fn finish(mut self, chains: &[ChainSummary], outcome: &Outcome) -> io::Result<()> {
        match self.form {
            Form::Text { .. } => self.text_tail(chains, outcome)?,
            Form::Json => {
                if let Some(spool) = self.spool.take() {
                    self.json_head(chains)?;
                    let mut file = spool.into_inner().map_err(io::IntoInnerError::into_error)?;
                    file.seek(SeekFrom::Start(0))?;
                    io::copy(&mut file, &mut self.out)?;
                }
                self.out.write_all(if self.first { b"[]" } else { b"\n  ]" })?;
                let verdict = json!({"exit_code": outcome.exit_code(), "summary": outcome.verdict(), "archived": outcome.archived()});
                let window = json!({"from": display(self.head.window.0), "to": display(self.head.window.1)});
                self.out.write_all(b",\n  \"now\": ")?;
                pretty(self.out, &json!(display(self.head.now)), INDENT)?;
                self.out.write_all(b",\n  \"verdict\": ")?;
                pretty(self.out, &verdict, INDENT)?;
                self.out.write_all(b",\n  \"window\": ")?;
                pretty(self.out, &window, INDENT)?;
                self.out.write_all(b"\n}\n")?;
            }
            Form::Ndjson => {
                for c in chains {
                    serde_json::to_writer(&mut *self.out, &summary_json(c))?;
                    self.out.write_all(b"\n")?;
                }
            }
        }
        self.out.flush()
    }

    /// The text report's table of chains and its verdict.
    fn text_tail(&mut self, chains: &[ChainSummary], outcome: &Outcome) -> io::Result<()> {
        if self.shown > 0 {
            writeln!(self.out)?;
        }
        let escaped = &mut self.escaped;
        // With a ledger, what each chain read and what it took from the ledger.
        let ledger = chains.iter().any(|c| c.objects_read.is_some());
        let rows: Vec<Vec<String>> = chains
            .iter()
            .map(|c| {
                let covered = match (c.covered_from, c.covered_to) {
                    (Some(a), Some(b)) => format!("{} to {}", display(a), display(b)),
                    _ => "-".into(),
                };
                let mut row = vec![
                    shown(&c.chain, escaped),
                    c.status.unwrap_or(Status::Valid).as_str().to_string(),
                    format!(
                        "{}/{}",
                        c.digests_valid,
                        c.digests_valid + c.digests_invalid + c.digests_missing
                    ),
                    c.digests_missing.to_string(),
                    format!("{}/{}", c.logs_valid, c.logs_valid + c.logs_invalid),
                    c.unreferenced_logs.to_string(),
                    c.chain_links_broken.to_string(),
                    format!("{}/{}", c.gaps_unexplained, c.gaps),
                    c.truncations.to_string(),
                ];
                if ledger {
                    row.push(c.objects_read.unwrap_or(0).to_string());
                    row.push(c.objects_reused.unwrap_or(0).to_string());
                }
                row.push(covered);
                row
            })
            .collect();
        let mut head = vec![
            "CHAIN", "STATUS", "DIGESTS", "MISSING", "LOGS", "UNREF", "LINKS", "GAPS", "TRUNC",
        ];
        if ledger {
            head.extend(["READ", "REUSED"]);
        }
        head.push("COVERED");
        let mut widths: Vec<usize> = head.iter().map(|h| h.len()).collect();
        for r in &rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.len());
            }
        }
        let line = |cells: Vec<&str>| {
            let n = cells.len();
            cells
                .into_iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    if i + 1 == n {
                        c.to_string()
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect::<Vec<_>>()
                .join("  ")
        };
        writeln!(self.out, "{}", line(head.clone()))?;
        for r in &rows {
            writeln!(self.out, "{}", line(r.iter().map(String::as_str).collect()))?;
        }
        writeln!(self.out)?;
        if self.escaped {
            writeln!(self.out, "{ESCAPE_NOTE}")?;
        }
        let archived = outcome.archived();
        if archived > 0 {
            writeln!(
                self.out,
                "{archived} archived object(s) need a restore before they can be checked: restore them \
                 (cloudtrail-digest mirror --restore DAYS, or aws s3api restore-object) and audit again."
            )?;
        }
        writeln!(
            self.out,
            "Verdict: {} (exit code {})",
            outcome.verdict(),
            outcome.exit_code()
        )
    }
}

/// `text` as shown in text output, noting in `escaped` when it had to be escaped.
fn shown(text: &str, escaped: &mut bool) -> String {
    let shown = escape_name(text);
    *escaped |= matches!(shown, Cow::Owned(_));
    shown.into_owned()
}

/// A chain's summary as its `chain_summary` object.
fn summary_json(c: &ChainSummary) -> Value {
    Finding::ChainSummary(c.clone()).to_json()
}

/// One level of indentation in the JSON document.
const INDENT: &[u8] = b"  ";

/// `items` as a pretty JSON array that is the value of a member of the document (one
/// level in): `[]`, or one item a line, two levels in.
fn pretty_array(out: &mut dyn Write, items: impl Iterator<Item = Value>) -> io::Result<()> {
    let mut first = true;
    for item in items {
        out.write_all(if first { b"[\n    " } else { b",\n    " })?;
        pretty(out, &item, b"    ")?;
        first = false;
    }
    out.write_all(if first { b"[]" } else { b"\n  ]" })
}

/// `value` printed pretty as it is printed `indent` in: serde_json's pretty print with
/// `indent` after every line break (a JSON string holds none of its own).
fn pretty(out: &mut dyn Write, value: &Value, indent: &'static [u8]) -> io::Result<()> {
    let mut indented = Indented { out, indent };
    serde_json::to_writer_pretty(&mut indented, value).map_err(io::Error::from)
}

/// A writer that puts `indent` after every line break it passes on.
struct Indented<'w> {
    out: &'w mut dyn Write,
    indent: &'static [u8],
}

impl Write for Indented<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for line in buf.split_inclusive(|b| *b == b'\n') {
            self.out.write_all(line)?;
            if line.ends_with(b"\n") {
                self.out.write_all(self.indent)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
