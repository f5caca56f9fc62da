//! Test access to the real AWS material (keys, signatures, a digest body) that sits in
//! `../shared/realdata`, beside the repository; it is not part of the repository.

use std::path::PathBuf;

/// The file `rel` of the real-data folder.
pub(crate) fn path(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/realdata")).join(rel)
}

/// The bytes of `rel`, or a panic that says where the folder is expected.
pub(crate) fn read(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the real AWS test data is expected in shared/realdata beside the repository",
            p.display()
        )
    })
}
