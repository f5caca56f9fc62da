//! `audit`: the forensic check over every chain of a mirror, with a progress bar on a
//! terminal and text, JSON or NDJSON on stdout.

use std::io::{self, BufWriter, Write};

use cloudtrail_digest::audit::AuditReport;

use crate::cli::{AuditArgs, AuditOutput};
use crate::exit::Exit;
use crate::ledger;
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
    let mut online = Online::new(&args.scope.aws);
    let prepared = prepare(&args.scope, region, &mut online)?;
    let progress = AuditProgress::new();
    let audit = prepared.audit(progress.as_ref())?;
    let Some(given) = &args.ledger else {
        let report = audit.run();
        if let Some(progress) = &progress {
            progress.finish();
        }
        let report = report.map_err(Stop::fatal)?;
        write(&report, args).map_err(Stop::output)?;
        return Ok(Exit::of_audit(report.exit_code()));
    };
    let scope = prepared.ledger_scope(&audit, &args.scope);
    // The ledger is read while the audit lists its folders.
    let reader = ledger::LedgerReader::new(given, &mut online)?;
    let read = audit.read_with_ledger_from(|| reader.load(Some("audit"), scope));
    if let Some(progress) = &progress {
        progress.finish();
    }
    let (read, next) = read?.map_err(Stop::fatal)?;
    // The next ledger is written beside its place while the audit judges what it read
    // and writes its report, and put in place once the report is out: a run whose
    // report could not be written leaves the ledger as it was, so the next run reports
    // the same changes again. A run that found nothing to change writes nothing.
    let (report, written, staged) = std::thread::scope(|s| {
        let staged = s.spawn(|| ledger::stage(given, &next));
        let report = read.judge();
        let written = write(&report, args);
        let staged = staged.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (report, written, staged)
    });
    written.map_err(Stop::output)?;
    if let Some(staged) = staged? {
        staged.commit(&mut online)?;
    }
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
