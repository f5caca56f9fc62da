//! Writing a mirror: object `s3://BUCKET/KEY` becomes `DEST/BUCKET/KEY`, its bytes exactly
//! as read, each file written under a temporary name and renamed into place, so an
//! interrupted run never leaves a partial object. Every file and folder under `DEST` is
//! reached through a handle on `DEST` (cap-std), so nothing is written, read or renamed
//! outside it, whatever links appear there.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use cap_std::fs::Dir;

use crate::source::safe_relative;

/// Suffix of temporary files (`.NAME.ctd-partial` beside `NAME`).
pub const PARTIAL_SUFFIX: &str = ".ctd-partial";

/// A file that could not be written, and why.
#[derive(Debug)]
pub(crate) struct WriteError {
    /// The file concerned.
    pub path: PathBuf,
    /// What failed.
    pub error: io::Error,
}

/// The destination root of a mirror.
pub(crate) struct Destination<'a> {
    root: &'a Path,
    handle: Dir,
}

impl<'a> Destination<'a> {
    /// Writes under `root`, an existing directory.
    pub fn new(root: &'a Path) -> io::Result<Self> {
        let handle = Dir::open_ambient_dir(root, cap_std::ambient_authority())?;
        Ok(Destination { root, handle })
    }

    /// The file for `s3://bucket/key`; `None` when the names could leave the root.
    pub fn target(&self, bucket: &str, key: &str) -> Option<PathBuf> {
        let b = safe_relative(bucket).ok().filter(|_| !bucket.contains('/'))?;
        let k = safe_relative(key).ok()?;
        Some(self.root.join(b).join(k))
    }

    /// `path` (a [`Destination::target`] or a name beside one) relative to the root.
    fn relative<'p>(&self, path: &'p Path) -> &'p Path {
        path.strip_prefix(self.root)
            .expect("destination paths are made under the root")
    }

    /// The size of the regular file at `path`, if there is one.
    pub fn file_size(&self, path: &Path) -> Option<u64> {
        self.handle
            .metadata(self.relative(path))
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }

    /// The bytes of the file at `path`.
    pub fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.handle.read(self.relative(path))
    }

    /// Writes `reader` to `path` through `.NAME.ctd-partial` beside it and a rename.
    pub fn write_atomically(&self, path: &Path, reader: &mut dyn Read) -> Result<u64, WriteError> {
        let io_err = |error| WriteError {
            path: path.to_path_buf(),
            error,
        };
        let rel = self.relative(path);
        let dir = rel.parent().expect("a file under the destination");
        self.handle.create_dir_all(dir).map_err(io_err)?;
        let name = rel.file_name().expect("a file name").to_string_lossy();
        let temp = dir.join(format!(".{name}{PARTIAL_SUFFIX}"));
        let written = (|| {
            let mut file = self.handle.create(&temp)?;
            let n = io::copy(reader, &mut file)?;
            file.flush()?;
            file.sync_all()?;
            Ok(n)
        })();
        match written {
            Ok(n) => {
                self.handle.rename(&temp, &self.handle, rel).map_err(io_err)?;
                Ok(n)
            }
            Err(e) => {
                let _ = self.handle.remove_file(&temp);
                Err(io_err(e))
            }
        }
    }
}

/// The metadata as `aws s3api head-object --query Metadata` prints it.
pub(crate) fn sidecar_json(entries: &std::collections::BTreeMap<String, String>) -> Vec<u8> {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    entries.serialize(&mut ser).expect("strings serialise");
    out.push(b'\n');
    out
}

pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
