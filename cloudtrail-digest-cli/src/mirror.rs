//! `mirror`: a faithful local copy of a trail's digests (with signature metadata
//! sidecars) and log files, in the layout `validate-logs --local-dir` reads.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudtrail_digest::mirror::{mirror, MirrorRequest, MirrorStats};
use cloudtrail_digest::{MappedSource, ObjectSource};

use crate::cli::MirrorArgs;
use crate::online::Online;

/// Exit code of a fatal error, as the AWS CLI uses it.
const FATAL: i32 = 255;

pub fn run(args: &MirrorArgs) -> i32 {
    match copy(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("\n{message}");
            FATAL
        }
    }
}

fn copy(args: &MirrorArgs) -> Result<i32, String> {
    let (start, end) = crate::validate_logs::window_of(&args.start_time, args.end_time.as_deref())?;
    let mut online = Online::new(&args.aws);
    let map = online.bucket_map(&args.bucket_map)?;
    let source: Arc<dyn ObjectSource> = match (online.s3(), map.is_empty()) {
        (Ok(s3), true) => s3,
        (Ok(s3), false) => Arc::new(MappedSource::new(Some(s3), map)),
        // Everything may come from mapped directories; unmapped buckets then fail by name.
        (Err(_), false) => Arc::new(MappedSource::new(None, map)),
        (Err(e), true) => return Err(e),
    };
    let request = MirrorRequest {
        bucket: args.s3_bucket.clone(),
        prefix: args.s3_prefix.clone(),
        account_id: args.account_id.clone(),
        start,
        end,
    };
    let jobs = args.jobs.unwrap_or(args.aws.max_concurrency).into();
    let terminal = std::io::stderr().is_terminal();
    let last_shown = Mutex::new(None::<Instant>);
    let show = |s: &MirrorStats| {
        if terminal {
            let mut last = last_shown.lock().expect("progress lock");
            if last.is_none_or(|t| t.elapsed() >= Duration::from_millis(200)) {
                *last = Some(Instant::now());
                eprint!("\r{}\x1b[K", progress_line(s));
                let _ = std::io::stderr().flush();
            }
        }
        ControlFlow::Continue(())
    };
    let outcome = mirror(source.as_ref(), &request, &args.dest, jobs, &show);
    if terminal {
        eprint!("\r\x1b[K");
    }
    let stats = outcome.map_err(|e| e.to_string())?;
    let place = match args.s3_prefix.as_deref().map(|p| p.trim_matches('/')) {
        Some(p) if !p.is_empty() => format!("s3://{}/{p}", args.s3_bucket),
        _ => format!("s3://{}", args.s3_bucket),
    };
    println!(
        "Mirrored {place} into {}: {} digest files and {} log files; {} copied ({} bytes), {} already complete, {} missing in the source{}",
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
        }
    );
    if stats.digests_found == 0 {
        let awslogs = match args.s3_prefix.as_deref().map(|p| p.trim_matches('/')) {
            Some(p) if !p.is_empty() => format!("{p}/AWSLogs/"),
            _ => "AWSLogs/".to_string(),
        };
        eprintln!(
            "\nNo digest files were found under s3://{}/{awslogs}[o-ORG/]ACCOUNT/CloudTrail-Digest/REGION/ \
             for these dates{}; is --s3-prefix right?",
            args.s3_bucket,
            args.account_id
                .as_deref()
                .map(|a| format!(" and account {a}"))
                .unwrap_or_default()
        );
    }
    Ok(if stats.refused > 0 { 1 } else { 0 })
}

fn progress_line(s: &MirrorStats) -> String {
    format!(
        "digests {}/{}  logs {}/{}  {:.1} MiB written",
        s.digests_done,
        s.digests_found,
        s.logs_done,
        s.logs_found,
        s.bytes as f64 / (1024.0 * 1024.0)
    )
}
