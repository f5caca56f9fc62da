//! A mirror on disk: object `s3://BUCKET/KEY` is the file `ROOT/BUCKET/KEY`.
//!
//! User metadata comes from a `KEY.metadata.json` sidecar (what
//! `aws s3api head-object --query Metadata` prints) or, failing that, from the `user.*`
//! extended attributes `rclone copy --metadata` writes.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{
    too_large, Metadata, MetadataOrigin, Object, ObjectSource, SourceError, SourceErrorKind, MAX_KEY_BYTES,
    MAX_WHOLE_OBJECT,
};

/// Suffix of metadata sidecar files; such files are never listed as objects.
pub const SIDECAR_SUFFIX: &str = ".metadata.json";

/// A metadata sidecar holds a few hundred bytes; anything beyond this is refused.
const MAX_SIDECAR: u64 = 64 * 1024;

const XATTR_NAMES: [&str; 3] = [
    "signature",
    "signature-algorithm",
    "backfill-generation-timestamp",
];

/// A local mirror root.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
    /// Directories already resolved to a place inside the root (logs of one day share one).
    inside_dirs: Arc<Mutex<HashSet<PathBuf>>>,
}

impl LocalDir {
    /// A mirror rooted at `root`, which must be an existing directory.
    pub fn new(root: impl AsRef<Path>) -> io::Result<LocalDir> {
        let root = fs::canonicalize(root.as_ref())?;
        if !root.is_dir() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a directory"));
        }
        Ok(LocalDir {
            root,
            inside_dirs: Arc::default(),
        })
    }

    /// The (canonical) root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The bucket directories under the root, sorted.
    pub fn buckets(&self) -> Vec<String> {
        sorted_dir_names(&self.root)
    }

    fn bucket_dir(&self, bucket: &str) -> Result<PathBuf, SourceError> {
        let dir = self.root.join(safe_relative(bucket).map_err(|why| {
            SourceError::new(
                SourceErrorKind::Refused,
                bucket,
                "",
                format!("bucket name refused: {why}"),
            )
        })?);
        if bucket.contains('/') || !dir.is_dir() {
            return Err(SourceError::new(
                SourceErrorKind::NoSuchBucket,
                bucket,
                "",
                format!("no directory {} for this bucket", dir.display()),
            ));
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

    fn read_metadata(&self, path: &Path, bucket: &str, key: &str) -> Result<Metadata, SourceError> {
        let mut sidecar = path.as_os_str().to_owned();
        sidecar.push(SIDECAR_SUFFIX);
        let sidecar = PathBuf::from(sidecar);
        let unusable = |why: String| {
            SourceError::new(
                SourceErrorKind::Other,
                bucket,
                key,
                format!("metadata sidecar {} is not usable: {why}", sidecar.display()),
            )
        };
        match self.check_inside(&sidecar, bucket, key) {
            Err(e) if e.kind == SourceErrorKind::NotFound => {} // no sidecar: try xattrs
            Err(e) => {
                let why = unusable(e.detail.clone());
                return Err(why.with_cause(e));
            }
            Ok(()) => {
                let mut bytes = Vec::new();
                fs::File::open(&sidecar)
                    .and_then(|f| f.take(MAX_SIDECAR + 1).read_to_end(&mut bytes))
                    .map_err(|e| unusable(e.to_string()).with_cause(e))?;
                if bytes.len() as u64 > MAX_SIDECAR {
                    return Err(unusable(format!("larger than {MAX_SIDECAR} bytes")));
                }
                return Ok(Metadata {
                    entries: parse_metadata_sidecar(&bytes)
                        .map_err(|e| unusable(e.to_string()).with_cause(e))?,
                    origin: Some(MetadataOrigin::Sidecar),
                });
            }
        }
        let mut entries = BTreeMap::new();
        for name in XATTR_NAMES {
            // Filesystems without user xattrs answer with an error: that means "none".
            if let Ok(Some(value)) = xattr::get(path, format!("user.{name}")) {
                if let Ok(text) = String::from_utf8(value) {
                    entries.insert(name.to_string(), text);
                }
            }
        }
        let origin = (!entries.is_empty()).then_some(MetadataOrigin::Xattr);
        Ok(Metadata { entries, origin })
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
        let file = fs::File::open(&path).map_err(|e| io_error(e, &path, bucket, key))?;
        let size = file
            .metadata()
            .map_err(|e| io_error(e, &path, bucket, key))?
            .len();
        if size > MAX_WHOLE_OBJECT {
            return Err(too_large(bucket, key, size));
        }
        // The file may grow after the size was read: never take more than the cap.
        file.take(MAX_WHOLE_OBJECT + 1)
            .read_to_end(&mut body)
            .map_err(|e| io_error(e, &path, bucket, key))?;
        if body.len() as u64 > MAX_WHOLE_OBJECT {
            return Err(too_large(bucket, key, body.len() as u64));
        }
        let metadata = self.read_metadata(&path, bucket, key)?;
        Ok(Object { body, metadata })
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        let path = self.object_path(bucket, key)?;
        self.check_inside(&path, bucket, key)?;
        let file = fs::File::open(&path).map_err(|e| io_error(e, &path, bucket, key))?;
        Ok(Box::new(file))
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
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(_) => return Ok(Vec::new()), // nothing there (or not a folder)
        };
        let mut folders = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(e, &dir, bucket, prefix))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // S3 keys are UTF-8
            };
            if !name.starts_with(name_start) {
                continue;
            }
            let file_type = entry
                .file_type()
                .map_err(|e| io_error(e, &entry.path(), bucket, prefix))?;
            let is_folder = file_type.is_dir()
                || (file_type.is_symlink() && self.linked_folder(&entry.path(), bucket, prefix)?.is_some());
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
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) => match io_error(e, &path, bucket, key) {
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

/// Why a metadata sidecar cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SidecarError {
    /// The bytes are not JSON.
    #[error("not JSON ({0})")]
    NotJson(#[source] serde_json::Error),
    /// The JSON is not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// An entry's value is not a string.
    #[error("value of {name:?} is not a string: {value}")]
    NotAString {
        /// The entry's name.
        name: String,
        /// Its value, as JSON.
        value: String,
    },
}

/// Reads a metadata sidecar: a JSON object of string values (what
/// `aws s3api head-object --query Metadata` prints).
pub fn parse_metadata_sidecar(bytes: &[u8]) -> Result<BTreeMap<String, String>, SidecarError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(SidecarError::NotJson)?;
    let serde_json::Value::Object(map) = value else {
        return Err(SidecarError::NotAnObject);
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            other => Err(SidecarError::NotAString {
                name: k,
                value: other.to_string(),
            }),
        })
        .collect()
}

fn sorted_dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// One listing: file keys under a folder, recursively.
struct Walk<'a> {
    mirror: &'a LocalDir,
    bucket: &'a str,
    prefix: &'a str,
    /// Real folders already entered through a link: each is entered so once, which ends
    /// loops and keeps planted link lattices from multiplying the work.
    followed: HashSet<PathBuf>,
    keys: Vec<String>,
}

impl Walk<'_> {
    /// Collects the keys of the files under `dir`, whose key prefix is `key_base`. Links
    /// to files are listed (and checked when read); links to folders inside the root are
    /// followed, links to folders outside it stop the listing.
    fn files(&mut self, dir: &Path, key_base: &str) -> Result<(), SourceError> {
        let fail = |e: io::Error, at: &Path| io_error(e, at, self.bucket, self.prefix);
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(20) => return Ok(()), // ENOTDIR
            Err(e) => return Err(fail(e, dir)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| fail(e, dir))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue; // S3 keys are UTF-8; other names cannot be objects
            };
            let path = entry.path();
            let file_type = entry.file_type().map_err(|e| fail(e, &path))?;
            let key = format!("{key_base}{name}");
            if file_type.is_dir() {
                self.files(&path, &format!("{key}/"))?;
            } else if file_type.is_file() {
                self.keys.push(key);
            } else if file_type.is_symlink() {
                match self.mirror.linked_folder(&path, self.bucket, self.prefix)? {
                    Some(real) if self.followed.insert(real.clone()) => {
                        self.files(&path, &format!("{key}/"))?
                    }
                    Some(_) => {} // entered through another link already
                    None if path.is_file() => self.keys.push(key),
                    None => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ctd-local-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn refuses_keys_that_leave_the_root() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../../x",
            "a/./b",
            "a\\b",
            "a\0b",
            "a//b",
            "..",
            &"a".repeat(1025),
        ] {
            assert!(safe_relative(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            safe_relative("a/b.json.gz").unwrap(),
            PathBuf::from("a/b.json.gz")
        );
        assert!(safe_relative(&"a".repeat(1024)).is_ok());
    }

    #[test]
    fn sidecar_errors_say_what_is_wrong() {
        let text = |b: &[u8]| parse_metadata_sidecar(b).unwrap_err().to_string();
        assert!(text(b"{").starts_with("not JSON ("), "{}", text(b"{"));
        assert!(std::error::Error::source(&parse_metadata_sidecar(b"{").unwrap_err()).is_some());
        assert_eq!(text(b"[1]"), "not a JSON object");
        assert_eq!(
            text(br#"{"signature": 1}"#),
            r#"value of "signature" is not a string: 1"#
        );
        assert_eq!(
            parse_metadata_sidecar(br#"{"signature": "ab"}"#).unwrap()["signature"],
            "ab"
        );
    }

    #[test]
    fn errors_keep_their_cause_which_equality_ignores() {
        let root = tempdir("cause");
        fs::create_dir_all(root.join("bkt")).unwrap();
        let src = LocalDir::new(&root).unwrap();
        let err = src.get("bkt", "missing").unwrap_err();
        let cause = std::error::Error::source(&err).and_then(|c| c.downcast_ref::<io::Error>());
        assert_eq!(cause.map(io::Error::kind), Some(io::ErrorKind::NotFound));
        let plain = SourceError::new(err.kind, &err.bucket, &err.key, err.detail.clone());
        assert_eq!(plain, err);
        assert!(std::error::Error::source(&plain).is_none());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn lists_in_s3_order_after_the_marker_without_sidecars() {
        let root = tempdir("list");
        let b = root.join("bkt/p/AWSLogs/1/CloudTrail-Digest/r1/2026/03/01");
        fs::create_dir_all(&b).unwrap();
        fs::create_dir_all(root.join("bkt/p/AWSLogs/1/CloudTrail-Digest/r10")).unwrap();
        for f in ["b.json.gz", "a.json.gz", "c.json.gz", "c.json.gz.metadata.json"] {
            fs::write(b.join(f), b"x").unwrap();
        }
        fs::write(root.join("bkt/p/AWSLogs/1/CloudTrail-Digest/r10/z"), b"x").unwrap();
        let src = LocalDir::new(&root).unwrap();
        let keys = src
            .list(
                "bkt",
                "p/AWSLogs/1/CloudTrail-Digest/r1",
                "p/AWSLogs/1/CloudTrail-Digest/r1/2026/03/01/a.json.gz",
            )
            .unwrap();
        assert_eq!(
            keys,
            vec![
                "p/AWSLogs/1/CloudTrail-Digest/r1/2026/03/01/b.json.gz",
                "p/AWSLogs/1/CloudTrail-Digest/r1/2026/03/01/c.json.gz",
                "p/AWSLogs/1/CloudTrail-Digest/r10/z",
            ]
        );
        let err = src.list("nobucket", "x", "").unwrap_err();
        assert_eq!(err.kind, SourceErrorKind::NoSuchBucket);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn reads_sidecar_metadata_and_reports_missing_objects() {
        let root = tempdir("get");
        fs::create_dir_all(root.join("bkt/d")).unwrap();
        fs::write(root.join("bkt/d/k.json.gz"), b"body").unwrap();
        fs::write(
            root.join("bkt/d/k.json.gz.metadata.json"),
            br#"{"signature": "abcd", "signature-algorithm": "SHA256withRSA"}"#,
        )
        .unwrap();
        let src = LocalDir::new(&root).unwrap();
        let obj = src.get("bkt", "d/k.json.gz").unwrap();
        assert_eq!(obj.body, b"body");
        assert_eq!(obj.metadata.origin, Some(MetadataOrigin::Sidecar));
        assert_eq!(obj.metadata.entries["signature"], "abcd");
        assert_eq!(
            src.get("bkt", "d/missing").unwrap_err().kind,
            SourceErrorKind::NotFound
        );
        assert_eq!(
            src.get("bkt", "d/k.json.gz/deeper").unwrap_err().kind,
            SourceErrorKind::NotFound
        );
        assert_eq!(
            src.get("bkt", "../bkt/d/k.json.gz").unwrap_err().kind,
            SourceErrorKind::Refused
        );
        fs::write(root.join("bkt/d/k.json.gz.metadata.json"), b"[1]").unwrap();
        let err = src.get("bkt", "d/k.json.gz").unwrap_err();
        assert!(err.detail.contains("metadata sidecar"), "{err}");
        fs::write(root.join("bkt/d/k.json.gz.metadata.json"), vec![b' '; 70_000]).unwrap();
        let err = src.get("bkt", "d/k.json.gz").unwrap_err();
        assert!(err.detail.contains("larger than 65536 bytes"), "{err}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn reads_rclone_xattrs_when_there_is_no_sidecar() {
        let root = tempdir("xattr");
        fs::create_dir_all(root.join("bkt")).unwrap();
        let f = root.join("bkt/k");
        fs::write(&f, b"body").unwrap();
        if xattr::set(&f, "user.signature", b"beef").is_err() {
            eprintln!("filesystem without user xattrs; skipping");
            return;
        }
        xattr::set(&f, "user.signature-algorithm", b"SHA256withRSA").unwrap();
        let src = LocalDir::new(&root).unwrap();
        let obj = src.get("bkt", "k").unwrap();
        assert_eq!(obj.metadata.origin, Some(MetadataOrigin::Xattr));
        assert_eq!(obj.metadata.entries["signature"], "beef");
        assert_eq!(obj.metadata.entries["signature-algorithm"], "SHA256withRSA");
        fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn follows_links_to_folders_inside_the_root_once() {
        let root = tempdir("inner-links");
        fs::create_dir_all(root.join("bkt/real/day")).unwrap();
        fs::write(root.join("bkt/real/day/k"), b"x").unwrap();
        std::os::unix::fs::symlink("real", root.join("bkt/alias")).unwrap();
        // A loop: the folder links back to its own ancestor.
        std::os::unix::fs::symlink("..", root.join("bkt/real/day/up")).unwrap();
        let src = LocalDir::new(&root).unwrap();
        let keys = src.list("bkt", "alias/", "").unwrap();
        assert!(keys.contains(&"alias/day/k".to_string()), "{keys:?}");
        assert_eq!(src.get("bkt", "alias/day/k").unwrap().body, b"x");
        assert_eq!(src.list_folders("bkt", "").unwrap(), vec!["alias/", "real/"]);
        assert!(src
            .list("bkt", "", "")
            .unwrap()
            .contains(&"real/day/k".to_string()));
        fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn refuses_links_out_of_the_root() {
        let root = tempdir("link");
        let outside = tempdir("link-outside");
        fs::write(outside.join("secret"), b"s").unwrap();
        fs::create_dir_all(root.join("bkt")).unwrap();
        fs::write(root.join("bkt/ok"), b"fine").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), root.join("bkt/k")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("bkt/dir")).unwrap();
        let src = LocalDir::new(&root).unwrap();
        // The directory is known to be inside now; a link in it must still be resolved.
        assert_eq!(src.get("bkt", "ok").unwrap().body, b"fine");
        assert_eq!(src.get("bkt", "k").unwrap_err().kind, SourceErrorKind::Refused);
        assert_eq!(
            src.get("bkt", "dir/secret").unwrap_err().kind,
            SourceErrorKind::Refused
        );
        assert!(src.open("bkt", "k").is_err());
        // Not even the names behind a link out are listed.
        for err in [
            src.list("bkt", "dir/", "").unwrap_err(),
            src.list_folders("bkt", "dir/").unwrap_err(),
        ] {
            assert_eq!(err.kind, SourceErrorKind::Refused, "{err}");
            assert!(err.detail.starts_with("listing refused"), "{err}");
        }
        // A listing that meets the link on its way stops too, naming it.
        for err in [
            src.list("bkt", "", "").unwrap_err(),
            src.list_folders("bkt", "").unwrap_err(),
        ] {
            assert_eq!(err.kind, SourceErrorKind::Refused, "{err}");
            assert!(
                err.detail.starts_with("listing refused: a link leads outside"),
                "{err}"
            );
        }
        fs::remove_dir_all(&root).unwrap();
        fs::remove_dir_all(&outside).unwrap();
    }
}
