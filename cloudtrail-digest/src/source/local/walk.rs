//! Listing a mirror folder: file keys under it, recursively, in no particular order
//! (the caller sorts), following links to folders inside the root once each.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{io_error, LocalDir};
use crate::source::SourceError;

/// One listing: file keys under a folder, recursively.
pub(super) struct Walk<'a> {
    pub mirror: &'a LocalDir,
    pub bucket: &'a str,
    pub prefix: &'a str,
    /// Real folders already entered through a link: each is entered so once, which ends
    /// loops and keeps planted link lattices from multiplying the work.
    pub followed: HashSet<PathBuf>,
    pub keys: Vec<String>,
}

impl Walk<'_> {
    /// Collects the keys of the files under `dir`, whose key prefix is `key_base`. Links
    /// to files are listed (and checked when read); links to folders inside the root are
    /// followed, links to folders outside it stop the listing.
    pub fn files(&mut self, dir: &Path, key_base: &str) -> Result<(), SourceError> {
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
