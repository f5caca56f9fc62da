//! Writing an [`AuditReport`](crate::audit::AuditReport): human text, one JSON document, or NDJSON (one object per
//! line, for SIEM ingestion). The JSON objects are described in the README.

mod json;
mod words;

use std::borrow::Cow;
use std::cell::Cell;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::audit::{AuditReport, Finding, Status};
use crate::sink::names::{escape_name, ESCAPE_NOTE};
use crate::time::display;

impl AuditReport {
    /// Every finding, then one `chain_summary` per chain, as JSON objects.
    pub fn objects(&self) -> Vec<Value> {
        self.each_object().collect()
    }

    /// The objects of [`AuditReport::objects`], each made when it is asked for.
    fn each_object(&self) -> impl Iterator<Item = Value> + '_ {
        self.findings.iter().map(Finding::to_json).chain(self.summaries())
    }

    /// One `chain_summary` object per chain, each made when it is asked for.
    fn summaries(&self) -> impl Iterator<Item = Value> + '_ {
        self.chains
            .iter()
            .map(|c| Finding::ChainSummary(c.clone()).to_json())
    }

    /// One JSON object per line: each finding, then one `chain_summary` per chain,
    /// each made and written in turn.
    pub fn write_ndjson(&self, out: &mut dyn Write) -> io::Result<()> {
        for o in self.each_object() {
            serde_json::to_writer(&mut *out, &o)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// One JSON document: the window, the objects of [`AuditReport::write_ndjson`]
    /// (findings, then chain summaries) and the verdict.
    ///
    /// It is the document `serde_json` prints pretty (keys in order, two spaces a
    /// level), written a member at a time, so that a finding's JSON lives only while it
    /// is written.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        let verdict =
            json!({"exit_code": self.exit_code(), "summary": self.verdict(), "archived": self.archived()});
        let window = json!({"from": display(self.window.0), "to": display(self.window.1)});
        out.write_all(b"{\n  \"chains\": ")?;
        pretty_array(out, self.summaries())?;
        write!(
            out,
            ",\n  \"delivery_allowance_minutes\": {}",
            self.allowance.num_minutes()
        )?;
        out.write_all(b",\n  \"findings\": ")?;
        pretty_array(out, self.findings.iter().map(Finding::to_json))?;
        out.write_all(b",\n  \"now\": ")?;
        pretty(out, &json!(display(self.now)), INDENT)?;
        out.write_all(b",\n  \"verdict\": ")?;
        pretty(out, &verdict, INDENT)?;
        out.write_all(b",\n  \"window\": ")?;
        pretty(out, &window, INDENT)?;
        out.write_all(b"\n}\n")?;
        out.flush()
    }

    /// Human text: one line per finding (valid digests and logs only when `verbose`),
    /// a table of chains, and the verdict. Names, reasons and chain names are shown
    /// through [`escape_name`], and [`ESCAPE_NOTE`] is a line above
    /// the verdict when any was escaped; JSON and NDJSON keep them exact.
    pub fn write_text(&self, out: &mut dyn Write, verbose: bool) -> io::Result<()> {
        let escaped = Cell::new(false);
        let show = |text: &str| {
            let shown = escape_name(text);
            escaped.set(escaped.get() | matches!(shown, Cow::Owned(_)));
            shown.into_owned()
        };
        writeln!(
            out,
            "Audit of {} to {} (now {}, delivery allowance {} min): {} chain(s)",
            display(self.window.0),
            display(self.window.1),
            display(self.now),
            self.allowance.num_minutes(),
            self.chains.len()
        )?;
        writeln!(out)?;
        let mut shown = 0;
        for f in &self.findings {
            if f.status() == Status::Valid && !verbose {
                continue;
            }
            shown += 1;
            let what = match f.object() {
                Some((b, k)) => format!("s3://{}/{}", show(b), show(k)),
                None => show(f.chain()),
            };
            writeln!(
                out,
                "{:<8} {:<16} {what}\t{}",
                f.status().as_str().to_uppercase(),
                f.kind(),
                show(&f.reason())
            )?;
        }
        if shown > 0 {
            writeln!(out)?;
        }
        let rows: Vec<[String; 10]> = self
            .chains
            .iter()
            .map(|c| {
                let covered = match (c.covered_from, c.covered_to) {
                    (Some(a), Some(b)) => format!("{} to {}", display(a), display(b)),
                    _ => "-".into(),
                };
                [
                    show(&c.chain),
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
                    covered,
                ]
            })
            .collect();
        let head = [
            "CHAIN", "STATUS", "DIGESTS", "MISSING", "LOGS", "UNREF", "LINKS", "GAPS", "TRUNC", "COVERED",
        ];
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
        writeln!(out, "{}", line(head.to_vec()))?;
        for r in &rows {
            writeln!(out, "{}", line(r.iter().map(String::as_str).collect()))?;
        }
        writeln!(out)?;
        if escaped.get() {
            writeln!(out, "{ESCAPE_NOTE}")?;
        }
        let archived = self.archived();
        if archived > 0 {
            writeln!(
                out,
                "{archived} archived object(s) need a restore before they can be checked: restore them \
                 (cloudtrail-digest mirror --restore DAYS, or aws s3api restore-object) and audit again."
            )?;
        }
        writeln!(
            out,
            "Verdict: {} (exit code {})",
            self.verdict(),
            self.exit_code()
        )?;
        out.flush()
    }
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
