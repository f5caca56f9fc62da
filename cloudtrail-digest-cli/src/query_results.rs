//! `verify-query-results`: argument checks in the AWS CLI v2 command's order, the
//! results' source (a local folder or S3) and keys, one library check, and the AWS
//! CLI's words for it.

use std::sync::Arc;

use chrono::Utc;
use cloudtrail_digest::query_results::{QueryResults, SIGN_FILE_NAME};
use cloudtrail_digest::{
    escape_text, query_results_outcome, LocalDir, ObjectSource, PublicKeyProvider, PublicKeySet,
};

use crate::cli::VerifyQueryResultsArgs;
use crate::exit::Exit;
use crate::online::Online;
use crate::output::{self, Stop};

/// The bucket name a local folder is read as (it names nothing the user sees).
const LOCAL_BUCKET: &str = "local-export";

pub fn run(args: &VerifyQueryResultsArgs, region: Option<&str>) -> Exit {
    match verify(args, region) {
        Ok(exit) => exit,
        Err((message, exit)) => {
            // Names and values come from the sign file: made safe for a terminal.
            if !message.is_empty() {
                output::eprint(format_args!("\n{}\n", output::escaped(&message)));
            }
            exit
        }
    }
}

/// An empty option counts as not given, as in the AWS CLI.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn verify(args: &VerifyQueryResultsArgs, region: Option<&str>) -> Result<Exit, (String, Exit)> {
    let (local, bucket, prefix) = (
        given(&args.local_export_path),
        given(&args.s3_bucket),
        given(&args.s3_prefix),
    );
    let refuse = |m: &str| (m.to_string(), Exit::ParamValidation);
    if local.is_none() && bucket.is_none() {
        return Err(refuse("Require parameter --s3-bucket or --local-export-path."));
    }
    if local.is_some() && (bucket.is_some() || prefix.is_some()) {
        return Err(refuse(
            "Parameter --local-export-path can not be specified with parameter --s3-bucket nor --s3-prefix.",
        ));
    }
    let fatal = |m: String| (m, Exit::Fatal);
    let mut online = Online::new(&args.aws);
    let (source, bucket, prefix): (Arc<dyn ObjectSource>, &str, &str) = match local {
        Some(dir) => match LocalDir::one_bucket(dir, LOCAL_BUCKET) {
            Ok(folder) => (Arc::new(folder), LOCAL_BUCKET, ""),
            // The AWS CLI opens the sign file first, and says so.
            Err(_) => {
                let sign = std::path::Path::new(dir).join(SIGN_FILE_NAME);
                return Err(fatal(format!(
                    "[Errno 2] No such file or directory: '{}'",
                    sign.display()
                )));
            }
        },
        None => (
            online.s3().map_err(fatal)?,
            bucket.unwrap_or_default(),
            prefix.unwrap_or_default(),
        ),
    };
    let keys: Box<dyn PublicKeyProvider> = if args.public_keys.is_empty() {
        let region = match region.filter(|r| !r.is_empty()) {
            Some(r) => r.to_string(),
            None => online.default_region().map_err(fatal)?,
        };
        online.key_provider(&region).map_err(fatal)?
    } else {
        let mut set = PublicKeySet::new();
        for file in &args.public_keys {
            set.add_file(file).map_err(|e| fatal(e.to_string()))?;
        }
        Box::new(set)
    };
    let report = QueryResults::new(source.as_ref(), keys.as_ref(), bucket, prefix, Utc::now())
        .verify()
        .map_err(|e| {
            // S3 answering an error is the AWS CLI's 254; anything else its 255.
            let exit = match local {
                None => Exit::ServiceError,
                Some(_) => Exit::Fatal,
            };
            (e.to_string(), exit)
        })?;
    let outcome = query_results_outcome(&report, local);
    // Beyond the AWS CLI: files beside the results that the sign file does not list
    // were put there after CloudTrail signed them. Said after the AWS CLI's words.
    let note = (!report.unlisted.is_empty()).then(|| {
        let names: Vec<&str> = report
            .unlisted
            .iter()
            .map(|k| k.rsplit('/').next().unwrap_or(k))
            .collect();
        format!(
            "Not listed in {SIGN_FILE_NAME}, so not signed by CloudTrail: {}",
            escape_text(&names.join(", "))
        )
    });
    match (outcome, note) {
        (Ok(line), note) => {
            output::print(format_args!("{line}\n")).map_err(|stop| match stop {
                Stop::ClosedPipe => (String::new(), Exit::ClosedPipe),
                other => other_message(other),
            })?;
            match note {
                None => Ok(Exit::Success),
                Some(note) => {
                    output::eprint(format_args!("\n{note}\n"));
                    Ok(Exit::Failures)
                }
            }
        }
        (Err((message, code)), note) => {
            let message = match note {
                Some(note) => format!("{message}\n\n{note}"),
                None => message,
            };
            Err((
                message,
                if code == 254 {
                    Exit::ServiceError
                } else {
                    Exit::Fatal
                },
            ))
        }
    }
}

fn other_message(stop: Stop) -> (String, Exit) {
    let mut said = String::new();
    let exit = stop.report(|m| said = m.to_string());
    (said, exit)
}
