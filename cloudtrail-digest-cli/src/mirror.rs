//! `mirror`: a faithful local copy of a trail's digests (with signature metadata
//! sidecars) and log files, in the layout `validate-logs --local-dir` reads.

use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::Utc;
use cloudtrail_digest::mirror::{mirror, MirrorRequest};
use cloudtrail_digest::{MappedSource, ObjectSource, RestoreRequest, RestoreTier};

use crate::cli::{MirrorArgs, RestoreTierArg};
use crate::exit::Exit;
use crate::online::Online;
use crate::output::{self, Stop};
use crate::progress::MirrorProgress;
use crate::window::{window, Wording};

pub fn run(args: &MirrorArgs) -> Exit {
    output::finish(copy(args), |m| output::eprint(format_args!("\n{m}\n")))
}

fn copy(args: &MirrorArgs) -> Result<Exit, Stop> {
    let (start, end) = window(&args.window, Utc::now(), Wording::Reference).map_err(Stop::Fatal)?;
    let restore = restore_request(args)?;
    let mut online = Online::new(&args.aws);
    let map = online.bucket_map(&args.map.bucket_map).map_err(Stop::Fatal)?;
    let source: Arc<dyn ObjectSource> = if map.is_empty() {
        online.s3().map_err(Stop::Fatal)?
    } else {
        // Everything may come from mapped directories: S3 is set up only if an unmapped
        // bucket is read, and its failure then names that bucket.
        Arc::new(MappedSource::new(Some(online.s3_on_first_use()), map))
    };
    let request = MirrorRequest {
        bucket: args.s3_bucket.clone(),
        prefix: args.s3_prefix.clone(),
        account_id: args.account_id.clone(),
        start,
        end,
        restore,
    };
    let jobs = args.jobs.unwrap_or(args.aws.max_concurrency).into();
    let progress = MirrorProgress::new();
    let show = |s: &_| {
        progress.show(s);
        ControlFlow::Continue(())
    };
    let outcome = mirror(source.as_ref(), &request, &args.dest, jobs, &show);
    progress.finish();
    let stats = outcome.map_err(Stop::fatal)?;
    let place = match args.s3_prefix.as_deref().map(|p| p.trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("s3://{}/{p}", args.s3_bucket),
        _ => format!("s3://{}", args.s3_bucket),
    };
    output::print(format_args!(
        "Mirrored {place} into {}: {} digest files and {} log files; {} copied ({} bytes), {} already complete, {} missing in the source{}{}\n",
        args.dest.display(),
        stats.digests_done,
        stats.logs_done,
        stats.copied,
        stats.bytes,
        stats.skipped,
        stats.missing,
        if stats.refused > 0 {
            format!(", {} refused (keys that cannot be files under the destination, or objects unsafe to read)", stats.refused)
        } else {
            String::new()
        },
        if stats.archived > 0 {
            format!(", {} archived (not restored)", stats.archived)
        } else {
            String::new()
        }
    ))?;
    if stats.archived > 0 && restore.is_some() {
        output::eprint(format_args!(
            "\n{} archived objects wait for a restore ({} restores requested now, {} already in progress): \
             run the same mirror command again once they are restored (hours; up to 48 from DEEP_ARCHIVE) \
             to complete the copy.\n",
            stats.archived, stats.restores_started, stats.restores_in_progress
        ));
    } else if stats.archived > 0 {
        output::eprint(format_args!(
            "\n{} archived objects (in an archive storage class, not restored) were not copied: \
             restore them (run this command with --restore DAYS, or aws s3api restore-object) \
             and run the same mirror command again to complete the copy.\n",
            stats.archived
        ));
    }
    if stats.digests_found == 0 {
        let awslogs = match args.s3_prefix.as_deref().map(|p| p.trim_matches('/')) {
            Some(p) if !p.is_empty() => format!("{p}/AWSLogs/"),
            _ => "AWSLogs/".to_string(),
        };
        output::eprint(format_args!(
            "\nNo digest files were found under s3://{}/{awslogs}[o-ORG/]ACCOUNT/CloudTrail-Digest/REGION/ \
             for these dates{}; is --s3-prefix right?\n",
            args.s3_bucket,
            args.account_id
                .as_deref()
                .map(|a| format!(" and account {a}"))
                .unwrap_or_default()
        ));
    }
    Ok(Exit::failures_if(stats.refused > 0 || stats.archived > 0))
}

/// The restore `--restore` asks for. A bucket read from a directory (`--bucket-map
/// ORIGINAL=DIR`) has no archive to restore from: a usage error.
fn restore_request(args: &MirrorArgs) -> Result<Option<RestoreRequest>, Stop> {
    let Some(days) = args.restore else {
        return Ok(None);
    };
    if let Some(spec) = args.map.bucket_map.iter().find(|m| {
        m.split_once('=')
            .is_some_and(|(_, target)| !target.starts_with("s3://"))
    }) {
        return Err(Stop::Usage(format!(
            "--restore: --bucket-map {spec} reads a local directory, which has no archived objects to restore; \
             --restore works on S3 buckets only"
        )));
    }
    let tier = match args.restore_tier {
        RestoreTierArg::Bulk => RestoreTier::Bulk,
        RestoreTierArg::Standard => RestoreTier::Standard,
        RestoreTierArg::Expedited => RestoreTier::Expedited,
    };
    Ok(Some(RestoreRequest { days, tier }))
}
