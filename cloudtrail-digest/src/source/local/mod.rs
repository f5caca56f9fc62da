//! A mirror on disk: object `s3://BUCKET/KEY` is the file `ROOT/BUCKET/KEY`.
//!
//! User metadata comes from a `KEY.metadata.json` sidecar (what
//! `aws s3api head-object --query Metadata` prints) or, failing that, from the `user.*`
//! extended attributes `rclone copy --metadata` writes.
//!
//! Containment has two lines. The path checks (`check_inside`, `check_listable`,
//! `linked_folder`) come first and explain a refusal: which link leads where. Then every
//! file and folder is opened through a handle on the root (cap-std: `openat2` with
//! `RESOLVE_BENEATH` on Linux, a component-by-component `O_NOFOLLOW` walk elsewhere), so
//! the kernel refuses a way out that appeared after the check (a link swapped in while
//! the run reads). Files are opened non-blocking and must be regular files once open, so
//! a FIFO swapped in cannot stall the run either.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use cap_std::fs::{Dir, OpenOptions, OpenOptionsExt};

mod metadata;
mod walk;

pub use self::metadata::{parse_metadata_sidecar, SidecarError, SIDECAR_SUFFIX};
use self::walk::Walk;
use super::{
    content_identity, too_large, Identity, Object, ObjectSource, SourceError, SourceErrorKind, MAX_KEY_BYTES,
    MAX_WHOLE_OBJECT,
};

/// A local mirror root.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
    /// The root, opened: every read goes through it.
    handle: Arc<Dir>,
    /// When the root is one bucket's directory (a `--bucket-map` target), its name.
    only_bucket: Option<String>,
    /// Directories already resolved to a place inside the root (logs of one day share one).
    inside_dirs: Arc<Mutex<HashSet<PathBuf>>>,
    /// Buckets whose directory was found (every object asks; one look each is enough).
    bucket_dirs: Arc<Mutex<HashSet<String>>>,
}

impl LocalDir {
    /// A mirror rooted at `root`, which must be an existing directory: bucket `B` is the
    /// folder `ROOT/B`.
    pub fn new(root: impl AsRef<Path>) -> io::Result<LocalDir> {
        Self::open(root.as_ref(), None)
    }

    /// The directory `dir` holding the objects of bucket `name` (`s3://NAME/KEY` is
    /// `DIR/KEY`): nothing outside `dir` is read.
    pub fn one_bucket(dir: impl AsRef<Path>, name: &str) -> io::Result<LocalDir> {
        Self::open(dir.as_ref(), Some(name.to_string()))
    }

    fn open(root: &Path, only_bucket: Option<String>) -> io::Result<LocalDir> {
        let root = fs::canonicalize(root)?;
        if !root.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a directory"));
        }
        let handle = Dir::open_ambient_dir(&root, cap_std::ambient_authority())?;
        Ok(LocalDir {
            root,
            handle: Arc::new(handle),
            only_bucket,
            inside_dirs: Arc::default(),
            bucket_dirs: Arc::default(),
        })
    }

    /// The (canonical) root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The bucket directories under the root, sorted.
    pub fn buckets(&self) -> Vec<String> {
        if let Some(only) = &self.only_bucket {
            return vec![only.clone()];
        }
        let mut names: Vec<String> = self
            .entries(&self.root)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, t)| t.is_dir())
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// `path` (under the root) as the root's handle takes it: relative, `.` for the root.
    fn relative<'p>(&self, path: &'p Path) -> &'p Path {
        match path.strip_prefix(&self.root) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel,
            _ => Path::new("."),
        }
    }

    /// Runs `op` on `path` through the root's handle, which refuses every way out. The
    /// handle takes no absolute link, even one that leads back inside (which the path
    /// checks accept): such a path is tried once more as what it resolves to, when that
    /// is inside the root, and again through the handle.
    fn contained<T>(&self, path: &Path, op: impl Fn(&Dir, &Path) -> io::Result<T>) -> io::Result<T> {
        match op(&self.handle, self.relative(path)) {
            Err(e) if is_escape(&e) => match fs::canonicalize(path) {
                Ok(real) if real.starts_with(&self.root) => op(&self.handle, self.relative(&real)),
                _ => Err(e),
            },
            other => other,
        }
    }

    /// The names and kinds of the entries of the folder `dir`, read through the handle.
    fn entries(&self, dir: &Path) -> io::Result<Vec<(OsString, cap_std::fs::FileType)>> {
        self.contained(dir, |d, p| {
            d.read_dir(p)?
                .map(|entry| {
                    let entry = entry?;
                    Ok((entry.file_name(), entry.file_type()?))
                })
                .collect()
        })
    }

    /// Opens the regular file at `path` for reading, through the handle.
    fn open_file(&self, path: &Path, bucket: &str, key: &str) -> Result<fs::File, SourceError> {
        let mut options = OpenOptions::new();
        // Non-blocking, so that a FIFO put there after the checks does not wait for a
        // writer; a regular file reads the same either way.
        options.read(true).custom_flags(libc::O_NONBLOCK);
        let file = self
            .contained(path, |d, p| d.open_with(p, &options))
            .map_err(|e| open_error(e, path, bucket, key))?
            .into_std();
        let meta = file.metadata().map_err(|e| io_error(e, path, bucket, key))?;
        regular_file(&meta, bucket, key)?;
        Ok(file)
    }

    fn bucket_dir(&self, bucket: &str) -> Result<PathBuf, SourceError> {
        if let Some(only) = &self.only_bucket {
            return if bucket == only {
                Ok(self.root.clone())
            } else {
                Err(SourceError::new(
                    SourceErrorKind::NoSuchBucket,
                    bucket,
                    "",
                    format!("{} holds bucket {only} only", self.root.display()),
                ))
            };
        }
        let dir = self.root.join(safe_relative(bucket).map_err(|why| {
            SourceError::new(
                SourceErrorKind::Refused,
                bucket,
                "",
                format!("bucket name refused: {why}"),
            )
        })?);
        if self.bucket_dirs.lock().is_ok_and(|d| d.contains(bucket)) {
            return Ok(dir);
        }
        if bucket.contains('/') || !dir.is_dir() {
            return Err(SourceError::new(
                SourceErrorKind::NoSuchBucket,
                bucket,
                "",
                format!("no directory {} for this bucket", dir.display()),
            ));
        }
        if let Ok(mut dirs) = self.bucket_dirs.lock() {
            dirs.insert(bucket.to_string());
        }
        Ok(dir)
    }

    /// The file for `s3://bucket/key`, refusing keys that could leave the root.
    fn object_path(&self, bucket: &str, key: &str) -> Result<PathBuf, SourceError> {
        let dir = self.bucket_dir(bucket)?;
        let rel = safe_relative(key).map_err(|why| {
            SourceError::new(
                SourceErrorKind::Refused,
                bucket,
                key,
                format!("key refused: {why}"),
            )
        })?;
        Ok(dir.join(rel))
    }

    /// Fails unless `path`, with every link resolved, is a regular file still inside the
    /// root. The parent directory's answer is cached; a final component that is a link
    /// is always resolved in full.
    fn check_inside(&self, path: &Path, bucket: &str, key: &str) -> Result<(), SourceError> {
        let meta = fs::symlink_metadata(path).map_err(|e| io_error(e, path, bucket, key))?;
        let parent = path.parent().unwrap_or(path);
        let parent_known = self
            .inside_dirs
            .lock()
            .map(|d| d.contains(parent))
            .unwrap_or(false);
        if parent_known && !meta.file_type().is_symlink() {
            return regular_file(&meta, bucket, key);
        }
        match fs::canonicalize(path) {
            Ok(real) if real.starts_with(&self.root) => {
                if meta.file_type().is_symlink() {
                    let target = fs::metadata(&real).map_err(|e| io_error(e, &real, bucket, key))?;
                    return regular_file(&target, bucket, key);
                }
                // `real`'s parent is `parent` resolved: the directory itself is inside.
                if let Ok(mut dirs) = self.inside_dirs.lock() {
                    dirs.insert(parent.to_path_buf());
                }
                regular_file(&meta, bucket, key)
            }
            Ok(real) => Err(SourceError::new(
                SourceErrorKind::Refused,
                bucket,
                key,
                format!(
                    "refused: a link leads outside the mirror root, to {}",
                    real.display()
                ),
            )),
            Err(e) => Err(io_error(e, path, bucket, key)),
        }
    }

    /// Where the link `path` leads when that is a folder inside the root; `None` when it
    /// leads to anything but a folder (or nowhere). A link to a folder outside the root
    /// stops the listing: a planted escape is shown, not skipped.
    fn linked_folder(&self, path: &Path, bucket: &str, prefix: &str) -> Result<Option<PathBuf>, SourceError> {
        let Ok(real) = fs::canonicalize(path) else {
            return Ok(None); // dangling
        };
        if !real.is_dir() {
            return Ok(None);
        }
        if !real.starts_with(&self.root) {
            return Err(SourceError::new(
                SourceErrorKind::Refused,
                bucket,
                prefix,
                listing_refused(path, &real),
            ));
        }
        Ok(Some(real))
    }

    /// Fails when the folder to be listed is a link (or lies behind one) leading out
    /// of the root: even the names outside are not for this run to read.
    fn check_listable(&self, dir: &Path, bucket: &str, prefix: &str) -> Result<(), SourceError> {
        match fs::canonicalize(dir) {
            Ok(real) if !real.starts_with(&self.root) => Err(SourceError::new(
                SourceErrorKind::Refused,
                bucket,
                prefix,
                listing_refused(dir, &real),
            )),
            _ => Ok(()), // inside, or nothing there to list
        }
    }
}

impl ObjectSource for LocalDir {
    /// Every key: a directory is listed in one go, so `stop` is not needed.
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        _stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        let dir = self.bucket_dir(bucket)?;
        // Walk only the deepest directory the prefix names.
        let dir_part = prefix.rfind('/').map(|i| &prefix[..i]).unwrap_or("");
        let (walk_root, key_base) = if dir_part.is_empty() {
            (dir.clone(), String::new())
        } else {
            match safe_relative(dir_part) {
                Ok(rel) => (dir.join(rel), format!("{dir_part}/")),
                Err(_) => return Ok(Vec::new()),
            }
        };
        self.check_listable(&walk_root, bucket, prefix)?;
        let mut walk = Walk {
            mirror: self,
            bucket,
            prefix,
            followed: HashSet::new(),
            keys: Vec::new(),
        };
        walk.files(&walk_root, &key_base)?;
        let mut keys = walk.keys;
        keys.retain(|k| k.starts_with(prefix) && k.as_str() > start_after && !k.ends_with(SIDECAR_SUFFIX));
        keys.sort_unstable();
        Ok(keys)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let path = self.object_path(bucket, key)?;
        self.check_inside(&path, bucket, key)?;
        let mut body = Vec::new();
        let file = self.open_file(&path, bucket, key)?;
        let size = file
            .metadata()
            .map_err(|e| io_error(e, &path, bucket, key))?
            .len();
        if size > MAX_WHOLE_OBJECT {
            return Err(too_large(bucket, key, size));
        }
        // The file may grow after the size was read: never take more than the cap.
        (&file)
            .take(MAX_WHOLE_OBJECT + 1)
            .read_to_end(&mut body)
            .map_err(|e| io_error(e, &path, bucket, key))?;
        if body.len() as u64 > MAX_WHOLE_OBJECT {
            return Err(too_large(bucket, key, body.len() as u64));
        }
        let metadata = metadata::read(self, &path, &file, bucket, key)?;
        Ok(Object { body, metadata })
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        let path = self.object_path(bucket, key)?;
        self.check_inside(&path, bucket, key)?;
        Ok(Box::new(self.open_file(&path, bucket, key)?))
    }

    /// Size and BLAKE3 of the file's bytes and of its metadata (sidecar or xattrs): a
    /// file's times are the attacker's to set, its bytes are not.
    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        let path = self.object_path(bucket, key)?;
        let file = match self
            .check_inside(&path, bucket, key)
            .and_then(|()| self.open_file(&path, bucket, key))
        {
            Ok(f) => f,
            Err(e) if e.kind == SourceErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let metadata = metadata::read(self, &path, &file, bucket, key)?;
        content_identity(Ok(Box::new(file)), &metadata, bucket, key)
    }

    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let dir = self.bucket_dir(bucket)?;
        // The folder the prefix ends in, and the start of the names wanted in it (empty
        // when the prefix ends with `/`).
        let (dir_part, name_start) = match prefix.rfind('/') {
            Some(i) => (&prefix[..=i], &prefix[i + 1..]),
            None => ("", prefix),
        };
        let dir = match dir_part.strip_suffix('/') {
            None => dir,
            Some(p) => match safe_relative(p) {
                Ok(rel) => dir.join(rel),
                Err(_) => return Ok(Vec::new()),
            },
        };
        self.check_listable(&dir, bucket, prefix)?;
        let entries = match self.entries(&dir) {
            Ok(e) => e,
            Err(e) if is_escape(&e) => return Err(open_error(e, &dir, bucket, prefix)),
            Err(_) => return Ok(Vec::new()), // nothing there (or not a folder)
        };
        let mut folders = Vec::new();
        for (name, file_type) in entries {
            let Ok(name) = name.into_string() else {
                continue; // S3 keys are UTF-8
            };
            if !name.starts_with(name_start) {
                continue;
            }
            let is_folder = file_type.is_dir()
                || (file_type.is_symlink()
                    && self.linked_folder(&dir.join(&name), bucket, prefix)?.is_some());
            if is_folder {
                folders.push(format!("{dir_part}{name}/"));
            }
        }
        folders.sort();
        Ok(folders)
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        let path = self.object_path(bucket, key)?;
        match self.check_inside(&path, bucket, key) {
            Err(e) if e.kind == SourceErrorKind::NotFound => return Ok(None),
            other => other?,
        }
        match self.contained(&path, |d, p| d.metadata(p)) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) => match open_error(e, &path, bucket, key) {
                e if e.kind == SourceErrorKind::NotFound => Ok(None),
                e => Err(e),
            },
        }
    }
}

fn listing_refused(path: &Path, real: &Path) -> String {
    format!(
        "listing refused: a link leads outside the mirror root: {} -> {}",
        path.display(),
        real.display()
    )
}

/// Only regular files are objects. A directory is what S3 calls a common prefix, so
/// there is no object at its key; a FIFO, socket or device would block or never end, so
/// it is refused rather than read.
fn regular_file(meta: &fs::Metadata, bucket: &str, key: &str) -> Result<(), SourceError> {
    let t = meta.file_type();
    if t.is_file() {
        Ok(())
    } else if t.is_dir() {
        Err(SourceError::new(
            SourceErrorKind::NotFound,
            bucket,
            key,
            "a directory, not an object",
        ))
    } else {
        Err(SourceError::new(
            SourceErrorKind::Refused,
            bucket,
            key,
            "refused: not a regular file (a FIFO, socket or device)",
        ))
    }
}

/// The error for `s3://bucket/key`, naming the local file at fault.
fn io_error(e: io::Error, path: &Path, bucket: &str, key: &str) -> SourceError {
    let kind = match e.kind() {
        // A missing parent directory is as missing as a missing file.
        io::ErrorKind::NotFound => SourceErrorKind::NotFound,
        _ if e.raw_os_error() == Some(20) => SourceErrorKind::NotFound, // ENOTDIR
        // ENAMETOOLONG: no file can have this name, so no object is stored under it.
        _ if e.raw_os_error() == Some(36) => SourceErrorKind::NotFound,
        _ => SourceErrorKind::Other,
    };
    SourceError::new(kind, bucket, key, format!("{}: {e}", path.display())).with_cause(e)
}

/// Whether the root's handle refused `e` because the path led out of the root (cap-std's
/// own error, carrying no OS error code).
fn is_escape(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied && e.raw_os_error().is_none()
}

/// [`io_error`], except that a way out refused by the handle (a link that appeared after
/// the path checks passed) is a refusal, like one the checks find.
fn open_error(e: io::Error, path: &Path, bucket: &str, key: &str) -> SourceError {
    if is_escape(&e) {
        return SourceError::new(
            SourceErrorKind::Refused,
            bucket,
            key,
            format!(
                "refused: {} leads outside the mirror root (a link changed while it was read)",
                path.display()
            ),
        )
        .with_cause(e);
    }
    io_error(e, path, bucket, key)
}

/// Turns a key into a relative path, refusing anything that could name a file outside
/// the directory it is joined to, or two keys onto one file.
pub(crate) fn safe_relative(key: &str) -> Result<PathBuf, &'static str> {
    if key.is_empty() {
        return Err("empty");
    }
    if key.len() > MAX_KEY_BYTES {
        return Err("longer than the 1024 bytes an S3 key can have");
    }
    if key.contains('\0') {
        return Err("contains a NUL byte");
    }
    if key.contains('\\') {
        return Err("contains a backslash");
    }
    if key.starts_with('/') {
        return Err("absolute path");
    }
    let mut rel = PathBuf::new();
    for segment in key.split('/') {
        match segment {
            "" => return Err("empty path segment"),
            "." | ".." => return Err("`.` or `..` path segment"),
            s => rel.push(s),
        }
    }
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err("not a plain relative path");
    }
    Ok(rel)
}

#[cfg(test)]
mod tests;
