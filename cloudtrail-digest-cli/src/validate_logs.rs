//! `validate-logs`: argument checks in the reference's order, locating the trail in the
//! mirror, then the library run with the reference's text report.

use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;
use cloudtrail_digest::{
    ChainScope, DigestListing, LocalDir, ObjectSource, PublicKeyProvider, PublicKeySet, TextReport, TrailArn,
    TrailLocation, Validation,
};

use crate::cli::ValidateLogsArgs;
use crate::exit::Exit;
use crate::ledger;
use crate::locate::{locate, locate_online};
use crate::online::Online;
use crate::output::Stop;
use crate::progress::ValidationProgress;
use crate::window::{window, Wording};

pub fn run(args: &ValidateLogsArgs, region: Option<&str>) -> Exit {
    // Stderr stays unlocked: the progress bar draws on it from its own thread.
    let mut report = TextReport::new(BufWriter::new(io::stdout().lock()), io::stderr(), args.verbose);
    match validate(args, region, &mut report) {
        Ok(exit) => exit,
        Err(stop) => stop.report(|message| {
            let _ = report.fatal(message);
        }),
    }
}

fn validate<O: Write, E: Write>(
    args: &ValidateLogsArgs,
    region: Option<&str>,
    report: &mut TextReport<O, E>,
) -> Result<Exit, Stop> {
    let (start, end) = window(&args.window, Utc::now(), Wording::Reference).map_err(Stop::Fatal)?;
    let arn = TrailArn::parse(&args.trail_arn).map_err(Stop::fatal)?;
    let account_id = args.account_id.clone().unwrap_or_else(|| arn.account_id.clone());
    let source_region = region
        .filter(|r| !r.is_empty())
        .unwrap_or(&arn.home_region)
        .to_string();
    let bucket_map = &args.source.map.bucket_map;
    let mut online = Online::new(&args.aws);
    let scope_at = |location: &TrailLocation| ChainScope {
        prefix: location.prefix.clone(),
        organization_id: location.organization_id.clone(),
        account_id: account_id.clone(),
        source_region: source_region.clone(),
        trail_name: arn.trail_name.clone(),
        home_region: arn.home_region.clone(),
    };
    // In S3 the digests of the likeliest folder are listed while the listings that settle
    // the folder run: one round trip less before the first digest can be asked for. (A
    // run with a ledger lists through it.)
    let mut listed_ahead = None;
    let (source, keys, location): (Arc<dyn ObjectSource>, Box<dyn PublicKeyProvider>, TrailLocation) =
        match &args.source.local_dir {
            Some(local_dir) => {
                let mirror = LocalDir::new(local_dir).map_err(|e| {
                    Stop::Fatal(format!(
                        "--local-dir {}: not a readable directory ({e})",
                        local_dir.display()
                    ))
                })?;
                let keys = load_keys(&args.keys.public_keys).map_err(Stop::Fatal)?;
                let location = locate(args, &mirror, &account_id, &source_region).map_err(Stop::Fatal)?;
                let source = online.mapped(Arc::new(mirror), bucket_map).map_err(Stop::Fatal)?;
                (source, Box::new(keys), location)
            }
            None => {
                let s3 = online.s3().map_err(Stop::Fatal)?;
                let source = online.mapped(s3, bucket_map).map_err(Stop::Fatal)?;
                let mut list_ahead = |likeliest: &TrailLocation| {
                    if args.ledger.is_none() && start <= end {
                        let scope = scope_at(likeliest);
                        let listing = DigestListing::start(
                            Arc::clone(&source),
                            &scope,
                            &likeliest.bucket,
                            (start, end),
                        );
                        listed_ahead = Some(listing);
                    }
                };
                let location = locate_online(
                    args,
                    &mut online,
                    source.as_ref(),
                    &arn,
                    (&account_id, &source_region),
                    &mut list_ahead,
                )
                .map_err(Stop::Fatal)?;
                let keys: Box<dyn PublicKeyProvider> = if args.keys.public_keys.is_empty() {
                    online.key_provider(&source_region).map_err(Stop::Fatal)?
                } else {
                    Box::new(load_keys(&args.keys.public_keys).map_err(Stop::Fatal)?)
                };
                (source, keys, location)
            }
        };
    let mut validation = Validation::new(
        source.as_ref(),
        keys.as_ref(),
        scope_at(&location),
        &location.bucket,
        (start, end),
    )
    .map_err(Stop::fatal)?;
    if let Some(listing) = &listed_ahead {
        validation = validation.digests_listed_ahead(listing);
    }
    match (args.jobs, &args.source.local_dir) {
        (Some(jobs), _) => validation = validation.jobs(jobs.into()),
        // Reading S3 waits on the network: keep as many reads going as requests allowed.
        (None, None) => validation = validation.jobs(args.aws.max_concurrency.into()),
        (None, Some(_)) => {}
    }

    // The ledger says nothing of itself: the output stays the reference's.
    let previous = match &args.ledger {
        Some(given) => {
            let local = args.source.local_dir.is_some();
            let scope = ledger::reading_from(validation.ledger_scope(), local, bucket_map);
            Some(ledger::load(None, given, scope, &mut online)?)
        }
        None => None,
    };

    report.header(&arn.arn, start, end).map_err(Stop::output)?;
    let mut progress = ValidationProgress::new();
    let mut write_error = None;
    let mut emit = |event: &cloudtrail_digest::Event| {
        progress.event(event);
        // After a failed write (a closed pipe, say) the run stops: nothing more is read.
        match progress.write(event, args.verbose, || report.event(event)) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                write_error = Some(e);
                ControlFlow::Break(())
            }
        }
    };
    let outcome = match previous {
        Some(previous) => validation
            .run_with_ledger(previous, Utc::now(), &mut emit)
            .map(|(summary, next)| (summary, Some(next))),
        None => validation.run_while(&mut emit).map(|summary| (summary, None)),
    };
    progress.finish();
    if let Some(e) = write_error {
        return Err(Stop::output(e));
    }
    let (summary, next) = outcome.map_err(Stop::fatal)?;
    report.summary(start, end, &summary).map_err(Stop::output)?;
    if let (Some(given), Some(next)) = (&args.ledger, &next) {
        if let Some(staged) = ledger::stage(given, next)? {
            staged.commit(&mut online)?;
        }
    }
    if let Some(local_dir) = &args.source.local_dir {
        if summary.unsigned_digests > 0 && summary.digests_with_stored_signature == 0 {
            let (_, err) = report.streams();
            write!(err, "{}", missing_signature_hint(local_dir)).map_err(Stop::output)?;
        }
    }
    Ok(Exit::failures_if(summary.has_failures()))
}

fn load_keys(files: &[std::path::PathBuf]) -> Result<PublicKeySet, String> {
    if files.is_empty() {
        return Err(
            "--public-keys FILE is required with --local-dir: save the keys once with\n  \
             aws cloudtrail list-public-keys --region REGION --start-time START --end-time END > keys.json\n\
             (a window a little wider than the one you validate) and pass --public-keys keys.json"
                .to_string(),
        );
    }
    let mut keys = PublicKeySet::new();
    for f in files {
        keys.add_file(f).map_err(|e| e.to_string())?;
    }
    Ok(keys)
}

fn missing_signature_hint(root: &Path) -> String {
    format!(
        "\nNo signature was found for any digest under {root}. CloudTrail keeps each digest's \
         signature in the object's S3 metadata (x-amz-meta-signature), which plain copies such as \
         `aws s3 sync` leave behind. Save it beside each digest as KEY.metadata.json:\n    \
         aws s3api head-object --bucket BUCKET --key KEY --query Metadata > {root}/BUCKET/KEY.metadata.json\n\
         or copy the bucket with `rclone copy --metadata`, which keeps it in extended attributes.\n",
        root = root.display()
    )
}
