//! `merge`: the parts of a split audit joined into the report (and exit code) of one
//! audit over the whole scope.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use cloudtrail_digest::audit::{merge, Part};

use crate::audit::write_report_to;
use crate::cli::MergeArgs;
use crate::destination::write_whole;
use crate::exit::Exit;
use crate::online::{s3_objects, s3_url, Online};
use crate::output::{self, Stop};

pub fn run(args: &MergeArgs) -> Exit {
    output::finish(merge_parts(args), |m| {
        output::eprint(format_args!("cloudtrail-digest merge: {m}\n"))
    })
}

fn merge_parts(args: &MergeArgs) -> Result<Exit, Stop> {
    let mut parts = Vec::new();
    let mut online = Online::new(&args.aws);
    for given in &args.parts {
        if let Some((bucket, prefix)) = s3_url(given) {
            let s3 = online.s3().map_err(Stop::Fatal)?;
            for key in s3_objects(s3.as_ref(), bucket, prefix).map_err(Stop::fatal)? {
                let name = format!("s3://{bucket}/{key}");
                let reader = s3.open(bucket, &key).map_err(Stop::fatal)?;
                parts.extend(Part::read_all(&mut BufReader::new(reader), &name).map_err(Stop::fatal)?);
            }
            continue;
        }
        for file in files(Path::new(given))? {
            let name = file.display().to_string();
            let f = std::fs::File::open(&file)
                .map_err(|e| Stop::Fatal(format!("{name}: cannot be read ({e})")))?;
            parts.extend(Part::read_all(&mut BufReader::new(f), &name).map_err(Stop::fatal)?);
        }
    }
    let report = merge(parts).map_err(Stop::fatal)?;
    write_whole(&args.out, &args.aws, |out| {
        Ok(write_report_to(out, &report, args.output, args.verbose)?)
    })?;
    Ok(Exit::of_audit(report.exit_code()))
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
