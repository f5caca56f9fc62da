//! An object's user metadata on disk: a `KEY.metadata.json` sidecar (what
//! `aws s3api head-object --query Metadata` prints) or, failing that, the `user.*`
//! extended attributes `rclone copy --metadata` writes.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use xattr::FileExt;

use super::LocalDir;
use crate::source::{Metadata, MetadataOrigin, SourceError, SourceErrorKind};

/// Suffix of metadata sidecar files; such files are never listed as objects.
pub const SIDECAR_SUFFIX: &str = ".metadata.json";

/// A metadata sidecar holds a few hundred bytes; anything beyond this is refused.
const MAX_SIDECAR: u64 = 64 * 1024;

const XATTR_NAMES: [&str; 3] = [
    "signature",
    "signature-algorithm",
    "backfill-generation-timestamp",
];

/// The user metadata of the object stored at `path` and opened as `file`: its sidecar
/// when there is one (contained like any object, at most [`MAX_SIDECAR`] bytes), else
/// the `user.*` xattrs of the file already open (so of what was read, not of whatever
/// the path names by now).
pub(super) fn read(
    mirror: &LocalDir,
    path: &Path,
    file: &fs::File,
    bucket: &str,
    key: &str,
) -> Result<Metadata, SourceError> {
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
    // Most objects have no sidecar: one look says so without building an error.
    let absent = matches!(fs::symlink_metadata(&sidecar), Err(e) if e.kind() == std::io::ErrorKind::NotFound);
    let checked = if absent {
        Err(SourceError::new(
            SourceErrorKind::NotFound,
            bucket,
            key,
            String::new(),
        ))
    } else {
        mirror.check_inside(&sidecar, bucket, key)
    };
    match checked {
        Err(e) if e.kind == SourceErrorKind::NotFound => {} // no sidecar: try xattrs
        Err(e) => {
            let why = unusable(e.detail.clone());
            return Err(why.with_cause(e));
        }
        Ok(()) => {
            let mut bytes = Vec::new();
            let opened = mirror.open_file(&sidecar, bucket, key).map_err(|e| {
                let why = unusable(e.detail.clone());
                why.with_cause(e)
            })?;
            opened
                .take(MAX_SIDECAR + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| unusable(e.to_string()).with_cause(e))?;
            if bytes.len() as u64 > MAX_SIDECAR {
                return Err(unusable(format!("larger than {MAX_SIDECAR} bytes")));
            }
            return Ok(Metadata {
                entries: parse_metadata_sidecar(&bytes).map_err(|e| unusable(e.to_string()).with_cause(e))?,
                origin: Some(MetadataOrigin::Sidecar),
            });
        }
    }
    let mut entries = BTreeMap::new();
    // One listing, then only the names present are read. Filesystems without user
    // xattrs answer with an error: that means "none".
    let present: Vec<std::ffi::OsString> = file.list_xattr().map(Iterator::collect).unwrap_or_default();
    for name in XATTR_NAMES {
        let full = format!("user.{name}");
        if !present.iter().any(|p| *p == *full) {
            continue;
        }
        if let Ok(Some(value)) = file.get_xattr(&full) {
            if let Ok(text) = String::from_utf8(value) {
                entries.insert(name.to_string(), text);
            }
        }
    }
    let origin = (!entries.is_empty()).then_some(MetadataOrigin::Xattr);
    Ok(Metadata { entries, origin })
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
