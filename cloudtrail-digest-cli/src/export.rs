//! `export`: an audit whose verified logs' records are written out with their
//! provenance, as NDJSON on stdout or in partition folders; the audit's verdict and what
//! was left out go to stderr.

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use cloudtrail_digest::{Export, ExportSummary, NdjsonOutput, NdjsonWriter, ParquetWriter, RecordWriter};

use crate::cli::{ExportArgs, ExportFormat};
use crate::exit::Exit;
use crate::online::Online;
use crate::output::{self, Stop};
use crate::progress::AuditProgress;
use crate::scope::prepare;

pub fn run(args: &ExportArgs, region: Option<&str>) -> Exit {
    output::finish(export(args, region), |m| {
        output::eprint(format_args!("cloudtrail-digest export: {m}\n"))
    })
}

fn export(args: &ExportArgs, region: Option<&str>) -> Result<Exit, Stop> {
    let to_stdout = args.out == "-";
    if to_stdout && io::stdout().is_terminal() && args.gzip {
        return Err(Stop::Usage(
            "--gzip to a terminal: redirect standard output, or give --out DIR".into(),
        ));
    }
    if args.format == ExportFormat::Parquet {
        if to_stdout {
            return Err(Stop::Usage(
                "--format parquet writes partition folders: give --out DIR".into(),
            ));
        }
        if args.gzip {
            return Err(Stop::Usage(
                "--gzip is for NDJSON: Parquet files are compressed with Snappy".into(),
            ));
        }
    }
    let prepared = prepare(&args.scope, region, &mut Online::new(&args.scope.aws))?;
    let out_error = |e: io::Error| Stop::Usage(format!("--out {}: {e}", args.out));
    let mut writer: Box<dyn RecordWriter> = match (args.format, to_stdout) {
        (ExportFormat::Parquet, _) => {
            Box::new(ParquetWriter::new(PathBuf::from(&args.out)).map_err(out_error)?)
        }
        (ExportFormat::Ndjson, true) => Box::new(
            NdjsonWriter::new(
                NdjsonOutput::Stream(Box::new(io::BufWriter::new(io::stdout()))),
                args.gzip,
            )
            .map_err(out_error)?,
        ),
        (ExportFormat::Ndjson, false) => Box::new(
            NdjsonWriter::new(
                NdjsonOutput::Partitioned {
                    dir: PathBuf::from(&args.out),
                },
                args.gzip,
            )
            .map_err(out_error)?,
        ),
    };
    let mut export = Export::new(writer.as_mut()).include_unverified(args.include_unverified);
    let progress = AuditProgress::new();
    let report = prepared.audit(progress.as_ref())?.run_exporting(&mut export);
    if let Some(progress) = &progress {
        progress.finish();
    }
    let report = report.map_err(|e| match e {
        cloudtrail_digest::Error::Export(io) => Stop::output(io),
        e => Stop::fatal(e),
    })?;
    let summary = export.finish().map_err(Stop::output)?;
    output::eprint(format_args!(
        "{}\nverdict: {}\n",
        said(&summary, args.include_unverified),
        report.verdict()
    ));
    Ok(Exit::of_audit(report.exit_code()))
}

/// `exported N records from M logs`, and what was left out, by why.
fn said(s: &ExportSummary, include_unverified: bool) -> String {
    let mut text = format!("exported {} records from {} logs", s.records, s.logs);
    if !s.left_out.is_empty() {
        let parts: Vec<String> = s.left_out.iter().map(|(why, n)| format!("{n} {why}")).collect();
        text.push_str(&format!("; left out the logs: {}", parts.join(", ")));
        if !include_unverified {
            text.push_str(
                " (--include-unverified adds the records of those that could be read, with their status)",
            );
        }
    }
    text
}
