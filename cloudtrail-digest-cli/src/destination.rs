//! Where `plan`, `audit --unit/--plan` and `merge` put what they write (`--out`):
//! standard output, a file written whole or not at all, or an S3 object stored in one
//! PUT (S3 keeps all of it or nothing), through the same session as every read.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::cli::AwsArgs;
use crate::online::Online;
use crate::output::Stop;

/// Writes what `write` writes to `out`: `-`, a file path, or `s3://BUCKET/KEY`.
pub fn write_whole(
    out: &str,
    aws: &AwsArgs,
    write: impl Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<(), Stop> {
    if out == "-" {
        let mut w = BufWriter::new(io::stdout().lock());
        write(&mut w).map_err(Stop::output)?;
        return w.flush().map_err(Stop::output);
    }
    if out.starts_with("s3://") {
        let mut body = Vec::new();
        write(&mut body).map_err(Stop::output)?;
        return Online::new(aws)
            .put(out, body)
            .map_err(|e| Stop::Fatal(format!("--out {e}")));
    }
    // A file: written under a temporary name beside it and renamed into place.
    let path = Path::new(out);
    let name = path
        .file_name()
        .ok_or_else(|| Stop::Usage(format!("--out {out}: not a file name")))?;
    let temporary = path.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    let written = (|| -> io::Result<()> {
        let mut w = BufWriter::new(std::fs::File::create(&temporary)?);
        write(&mut w)?;
        w.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(Stop::Fatal(format!("--out {out}: cannot be written ({e})")));
    }
    Ok(())
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

/// The text of `--plan` or another input: a file, or an `s3://BUCKET/KEY` object.
pub fn read_text(given: &str, aws: &AwsArgs) -> Result<String, String> {
    let bytes = match crate::online::s3_url(given) {
        Some((bucket, key)) => {
            let s3 = Online::new(aws).s3()?;
            s3.get(bucket, key)
                .map_err(|e| format!("{given}: cannot be read ({e})"))?
                .body
        }
        None => std::fs::read(given).map_err(|e| format!("{given}: cannot be read ({e})"))?,
    };
    String::from_utf8(bytes).map_err(|_| format!("{given}: not UTF-8 text"))
}
