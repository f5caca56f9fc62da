//! Where `plan`, `audit --unit/--plan` and `merge` put what they write (`--out`):
//! standard output, a file written whole or not at all, or an S3 object uploaded as it
//! is written and stored whole or not at all, through the same session as every read.

use std::io::{self, BufWriter, Write};
use std::path::Path;

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
    // A file: written under a temporary name beside it and renamed into place.
    let path = Path::new(out);
    let name = path
        .file_name()
        .ok_or_else(|| Stop::Usage(format!("{option} {out}: not a file name")))?;
    let temporary = path.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    let written = (|| -> Result<(), Failure> {
        let mut w = BufWriter::new(std::fs::File::create(&temporary)?);
        write(&mut w)?;
        w.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        Ok(std::fs::rename(&temporary, path)?)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    settle(written, &cannot)
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
