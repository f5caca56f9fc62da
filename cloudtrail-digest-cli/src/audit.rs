//! `audit`: the forensic check over every chain of a mirror, with a progress bar on a
//! terminal and text, JSON or NDJSON on stdout.

use std::io::{self, BufWriter, Write};

use cloudtrail_digest::audit::AuditReport;

use crate::cli::{AuditArgs, AuditOutput};
use crate::exit::Exit;
use crate::online::Online;
use crate::output::{self, Stop};
use crate::progress::AuditProgress;
use crate::scope::prepare;

pub fn run(args: &AuditArgs, region: Option<&str>) -> Exit {
    output::finish(audit(args, region), |m| {
        output::eprint(format_args!("cloudtrail-digest audit: {m}\n"))
    })
}

fn audit(args: &AuditArgs, region: Option<&str>) -> Result<Exit, Stop> {
    if args.unit.is_some() || args.plan.is_some() {
        return crate::plan::run_units(args, region);
    }
    if args.out.is_some() {
        return Err(Stop::Usage(
            "--out is for the part of --unit or --plan; the report goes to standard output".into(),
        ));
    }
    let prepared = prepare(&args.scope, region, &mut Online::new(&args.scope.aws))?;
    let progress = AuditProgress::new();
    let report = prepared.audit(progress.as_ref())?.run();
    if let Some(progress) = &progress {
        progress.finish();
    }
    let report = report.map_err(Stop::fatal)?;
    write(&report, args).map_err(Stop::output)?;
    Ok(Exit::of_audit(report.exit_code()))
}

fn write(report: &AuditReport, args: &AuditArgs) -> io::Result<()> {
    write_report(report, args.output, args.verbose)
}

/// Writes the report to standard output.
fn write_report(report: &AuditReport, output: AuditOutput, verbose: bool) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    write_report_to(&mut out, report, output, verbose)?;
    out.flush()
}

/// Writes the report in the format asked for: the same for `audit` and `merge`.
fn write_report_to(
    out: &mut dyn Write,
    report: &AuditReport,
    output: AuditOutput,
    verbose: bool,
) -> io::Result<()> {
    match output {
        AuditOutput::Text => report.write_text(out, verbose),
        AuditOutput::Json => report.write_json(out),
        AuditOutput::Ndjson => report.write_ndjson(out),
    }
}
