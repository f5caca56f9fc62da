//! `merge`: the parts of a split audit joined into the report (and exit code) of one
//! audit over the whole scope.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use cloudtrail_digest::audit::{merge, Part};

use crate::audit::write_report;
use crate::cli::MergeArgs;
use crate::exit::Exit;
use crate::output::{self, Stop};

pub fn run(args: &MergeArgs) -> Exit {
    output::finish(merge_parts(args), |m| {
        output::eprint(format_args!("cloudtrail-digest merge: {m}\n"))
    })
}

fn merge_parts(args: &MergeArgs) -> Result<Exit, Stop> {
    let mut parts = Vec::new();
    for file in files(&args.parts)? {
        let name = file.display().to_string();
        let f =
            std::fs::File::open(&file).map_err(|e| Stop::Fatal(format!("{name}: cannot be read ({e})")))?;
        parts.extend(Part::read_all(&mut BufReader::new(f), &name).map_err(Stop::fatal)?);
    }
    let report = merge(parts).map_err(Stop::fatal)?;
    write_report(&report, args.output, args.verbose).map_err(Stop::output)?;
    Ok(Exit::of_audit(report.exit_code()))
}

/// The files given, and the files of the directories given (in name order; names that
/// start with a dot, such as a part still being written, are left out).
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Stop> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Stop::Fatal(format!("{}: cannot be listed ({e})", p.display())))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.is_file() && !hidden(f))
                .collect();
            inside.sort();
            out.extend(inside);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}
