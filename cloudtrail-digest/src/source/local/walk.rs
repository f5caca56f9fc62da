//! Listing a mirror folder: file keys under it, recursively, in no particular order
//! (the caller sorts), following links to folders inside the root once each.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use super::{io_error, is_escape, open_error, LocalDir};
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
        // Read through the root's handle: a folder swapped for a link out is refused.
        let entries = match self.mirror.entries(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(20) => return Ok(()), // ENOTDIR
            Err(e) if is_escape(&e) => return Err(open_error(e, dir, self.bucket, self.prefix)),
            Err(e) => return Err(fail(e, dir)),
        };
        for (name, file_type) in entries {
            let Ok(name) = name.into_string() else {
                continue; // S3 keys are UTF-8; other names cannot be objects
            };
            let path = dir.join(&name);
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
                    None if self
                        .mirror
                        .contained(&path, |d, p| d.metadata(p))
                        .is_ok_and(|m| m.is_file()) =>
                    {
                        self.keys.push(key)
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }
}
