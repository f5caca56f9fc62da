//! `merge`: the parts of a split audit joined into the report (and exit code) of one
//! audit over the whole scope.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cloudtrail_digest::audit::{Form, Merge, PartInput};

use crate::cli::{AuditOutput, MergeArgs};
use crate::destination::{write_whole, Failure};
use crate::exit::Exit;
use crate::online::{s3_objects, s3_url, Online};
use crate::output::{self, Stop};

pub fn run(args: &MergeArgs) -> Exit {
    output::finish(merge_parts(args), |m| {
        output::eprint(format_args!("cloudtrail-digest merge: {m}\n"))
    })
}

fn merge_parts(args: &MergeArgs) -> Result<Exit, Stop> {
    let mut inputs = Vec::new();
    let mut online = Online::new(&args.aws);
    for given in &args.parts {
        if let Some((bucket, prefix)) = s3_url(given) {
            let s3 = online.s3().map_err(Stop::Fatal)?;
            for key in s3_objects(s3.as_ref(), bucket, prefix).map_err(Stop::fatal)? {
                inputs.push(PartInput::Object {
                    source: Arc::clone(&s3),
                    bucket: bucket.to_string(),
                    key,
                });
            }
            continue;
        }
        inputs.extend(files(Path::new(given))?.into_iter().map(PartInput::File));
    }
    // Every part read once and every unit checked before anything is written.
    let merging = Merge::new(inputs).map_err(Stop::fatal)?;
    let form = match args.output {
        AuditOutput::Text => Form::Text {
            verbose: args.verbose,
        },
        AuditOutput::Json => Form::Json,
        AuditOutput::Ndjson => Form::Ndjson,
    };
    let mut outcome = None;
    write_whole(&args.out, &mut online, |out| match merging.write(out, form) {
        Ok(o) => {
            outcome = Some(o);
            Ok(())
        }
        Err(cloudtrail_digest::Error::Report(e)) => Err(Failure::Io(e)),
        Err(e) => Err(Failure::Stop(Stop::fatal(e))),
    })?;
    let outcome = outcome.expect("a merge written whole has its outcome");
    Ok(Exit::of_audit(outcome.exit_code()))
}

/// The file given, or the files of the directory given (in name order; names that start
/// with a dot, such as a part still being written, are left out).
fn files(p: &Path) -> Result<Vec<PathBuf>, Stop> {
    if !p.is_dir() {
        return Ok(vec![p.to_path_buf()]);
    }
    let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| Stop::Fatal(format!("{}: cannot be listed ({e})", p.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|f| f.is_file() && !hidden(f))
        .collect();
    inside.sort();
    Ok(inside)
}

fn hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}
