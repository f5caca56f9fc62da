//! Fixtures shared by the library's integration tests.

use std::path::PathBuf;

use cloudtrail_digest::PublicKeySet;
use testgen::times::utc;
use testgen::{render_public_keys, KeyId, KeyRing, PublicKeyEntry, PublicKeysShape, Trail};

/// Test key 1, valid for 30 days from 2026-02-20, as a key set.
pub fn test_key_set() -> PublicKeySet {
    let json = render_public_keys(
        &KeyRing::test_keys(),
        &[PublicKeyEntry::thirty_days(KeyId::One, utc(2026, 2, 20, 0, 0, 0))],
        PublicKeysShape::V1,
    );
    let mut set = PublicKeySet::new();
    set.add_json("test keys", json.as_bytes()).unwrap();
    set
}

/// Writes `trail` as a mirror under a fresh temporary root named after `tag`.
pub fn write_mirror(trail: &Trail, tag: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("ctd-lib-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    trail.write_to(&root).unwrap();
    root
}
