//! Where `plan`, `audit --unit/--plan` and `merge` put what they write (`--out`):
//! standard output, a file written whole or not at all, or an S3 object uploaded as it
//! is written and stored whole or not at all, through the same session as every read.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::online::Online;
use crate::output::Stop;

/// What writing to a destination can fail on: the writing, or the work that produces
/// what is written (a unit that cannot be read).
pub enum Failure {
    /// Writing failed.
    Io(io::Error),
    /// The work stopped.
    Stop(Stop),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

impl From<Stop> for Failure {
    fn from(s: Stop) -> Self {
        Failure::Stop(s)
    }
}

/// Writes what `write` writes to `out` as it is written: `-`, a file path (under a
/// temporary name, renamed when whole), or `s3://BUCKET/KEY` (uploaded in parts as it
/// comes, stored when whole, through the run's one session `online`). When `write`
/// fails, nothing is left at `out`.
pub fn write_whole(
    out: &str,
    online: &mut Online,
    write: impl FnOnce(&mut dyn Write) -> Result<(), Failure>,
) -> Result<(), Stop> {
    write_whole_as("--out", out, online, write)
}

/// [`write_whole`] for the option `option` (named in its messages).
pub fn write_whole_as(
    option: &str,
    out: &str,
    online: &mut Online,
    write: impl FnOnce(&mut dyn Write) -> Result<(), Failure>,
) -> Result<(), Stop> {
    let cannot = |e: io::Error| Stop::Fatal(format!("{option} {out}: cannot be written ({e})"));
    let settle = |r: Result<(), Failure>, io: &dyn Fn(io::Error) -> Stop| match r {
        Ok(()) => Ok(()),
        Err(Failure::Io(e)) => Err(io(e)),
        Err(Failure::Stop(s)) => Err(s),
    };
    if out == "-" {
        let mut w = BufWriter::new(io::stdout().lock());
        settle(write(&mut w), &Stop::output)?;
        return w.flush().map_err(Stop::output);
    }
    if out.starts_with("s3://") {
        return match online.upload(out, write) {
            Ok(stored) => stored.map_err(|e| Stop::Fatal(format!("{option} {e}"))),
            Err(failed) => settle(Err(failed), &cannot),
        };
    }
    stage_file(option, out, write)?.commit()
}

/// A file written whole under a temporary name beside its place and synced, not yet
/// renamed there: [`StagedFile::commit`] puts it in place; dropped uncommitted, it is
/// removed and whatever was at its place stays as it was.
pub struct StagedFile {
    option: String,
    out: String,
    temporary: PathBuf,
    in_place: bool,
}

/// Writes what `write` writes to the file `out` under a temporary name beside it, for
/// the option `option` (named in its messages), and syncs it: what a later
/// [`StagedFile::commit`] renames into place. When `write` fails, nothing is left.
pub fn stage_file(
    option: &str,
    out: &str,
    write: impl FnOnce(&mut dyn Write) -> Result<(), Failure>,
) -> Result<StagedFile, Stop> {
    let path = Path::new(out);
    let name = path
        .file_name()
        .ok_or_else(|| Stop::Usage(format!("{option} {out}: not a file name")))?;
    let staged = StagedFile {
        option: option.to_string(),
        out: out.to_string(),
        temporary: path.with_file_name(format!(".{}.partial", name.to_string_lossy())),
        in_place: false,
    };
    let written = (|| -> Result<(), Failure> {
        let mut w = BufWriter::new(std::fs::File::create(&staged.temporary)?);
        write(&mut w)?;
        Ok(w.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?)
    })();
    match written {
        Ok(()) => Ok(staged),
        Err(Failure::Io(e)) => Err(staged.cannot(e)),
        Err(Failure::Stop(s)) => Err(s),
    }
}

impl StagedFile {
    /// Renames the file into its place.
    pub fn commit(mut self) -> Result<(), Stop> {
        std::fs::rename(&self.temporary, &self.out).map_err(|e| self.cannot(e))?;
        self.in_place = true;
        Ok(())
    }

    fn cannot(&self, e: io::Error) -> Stop {
        Stop::Fatal(format!("{} {}: cannot be written ({e})", self.option, self.out))
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.in_place {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// `out`, or, when it ends in `/` (a folder or an S3 prefix), `name` inside it: a job
/// array's members can then share one `--out`.
pub fn named(out: &str, name: impl FnOnce() -> String) -> String {
    if out.ends_with('/') {
        format!("{out}{}", name())
    } else {
        out.to_string()
    }
}

/// The text of `--plan` or another input: a file, or an `s3://BUCKET/KEY` object (read
/// through the run's one session `online`).
pub fn read_text(given: &str, online: &mut Online) -> Result<String, String> {
    let bytes = match crate::online::s3_url(given) {
        Some((bucket, key)) => {
            let s3 = online.s3()?;
            s3.get(bucket, key)
                .map_err(|e| format!("{given}: cannot be read ({e})"))?
                .body
        }
        None => std::fs::read(given).map_err(|e| format!("{given}: cannot be read ({e})"))?,
    };
    String::from_utf8(bytes).map_err(|_| format!("{given}: not UTF-8 text"))
}
