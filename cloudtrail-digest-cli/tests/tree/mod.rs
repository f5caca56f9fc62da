//! Test trees: where they are, the window an audit of one uses, and copying them into
//! scratch directories. (Each test binary uses some of these.)
#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The window the audit tests use for a tree without its own `audit.json`.
pub const WINDOW: [&str; 6] = [
    "--start-time",
    "2026-03-01T00:00:00Z",
    "--end-time",
    "2026-03-01T08:00:00Z",
    "--now",
    "2026-03-02T00:00:00Z",
];

/// `testdata/REL`.
pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

/// The built binary's `command` over the tree's mirror and keys, with `args`.
pub fn on_tree<S: AsRef<OsStr>>(dir: &Path, command: &str, args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"))
        .arg(command)
        .arg("--local-dir")
        .arg(dir.join("mirror"))
        .arg("--public-keys")
        .arg(dir.join("public-keys.json"))
        .args(args)
        .output()
        .expect("run cloudtrail-digest")
}

/// The tree's own window (from audit.json), or the standard one.
pub fn tree_args(dir: &Path) -> Vec<String> {
    match fs::read(dir.join("audit.json")) {
        Ok(bytes) => {
            let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            doc["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect()
        }
        Err(_) => WINDOW.iter().map(|s| s.to_string()).collect(),
    }
}

/// Copies the directory tree `from` to `to` (files and folders; links are not expected).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}
