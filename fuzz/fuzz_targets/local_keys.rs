//! Arbitrary bucket names and keys against a local mirror that has links leading out
//! of it and a file beside it: whatever the names, nothing outside the root is read.
#![no_main]
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use cloudtrail_digest::{LocalDir, ObjectSource};
use libfuzzer_sys::fuzz_target;

const OUTSIDE: &[u8] = b"OUTSIDE THE ROOT";

const PREFIX: &str = "ctd-fuzz-local-";

/// Removes the mirrors earlier runs left (libFuzzer ends a run with `exit`, so nothing
/// of this process can remove its own): those whose process is gone.
fn remove_stale_mirrors() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// `BASE/root` is the mirror (buckets `b` and `c`); `BASE/outside/secret` and
/// `BASE/secret` must stay unread. `b/link` and `b/dirlink` lead out.
fn mirror() -> &'static LocalDir {
    static DIR: OnceLock<LocalDir> = OnceLock::new();
    DIR.get_or_init(|| {
        remove_stale_mirrors();
        let base = std::env::temp_dir().join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        for dir in ["root/b/d", "root/c", "outside"] {
            std::fs::create_dir_all(base.join(dir)).unwrap();
        }
        std::fs::write(base.join("outside/secret"), OUTSIDE).unwrap();
        std::fs::write(base.join("secret"), OUTSIDE).unwrap();
        std::fs::write(root.join("b/inside"), b"inside").unwrap();
        std::fs::write(root.join("b/d/x.json.gz"), b"inside").unwrap();
        std::fs::write(root.join("c/f"), b"inside").unwrap();
        std::os::unix::fs::symlink("../../outside/secret", root.join("b/link")).unwrap();
        std::os::unix::fs::symlink("../../outside", root.join("b/dirlink")).unwrap();
        std::os::unix::fs::symlink("d/x.json.gz", root.join("b/inner-link")).unwrap();
        LocalDir::new(PathBuf::from(&root)).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let at = (split as usize).min(rest.len());
    let bucket = String::from_utf8_lossy(&rest[..at]);
    let key = String::from_utf8_lossy(&rest[at..]);
    let src = mirror();
    if let Ok(object) = src.get(&bucket, &key) {
        assert_ne!(object.body, OUTSIDE, "read outside the root: {bucket:?} {key:?}");
    }
    if let Ok(mut reader) = src.open(&bucket, &key) {
        let mut body = Vec::new();
        let _ = reader.read_to_end(&mut body);
        assert_ne!(body, OUTSIDE, "read outside the root: {bucket:?} {key:?}");
    }
    if let Ok(Some(size)) = src.size(&bucket, &key) {
        assert_ne!(
            size,
            OUTSIDE.len() as u64,
            "sized outside the root: {bucket:?} {key:?}"
        );
    }
    for listed in src.list(&bucket, &key, "").into_iter().flatten() {
        assert!(
            !listed.contains("secret"),
            "listed outside the root: {bucket:?} {key:?} {listed:?}"
        );
    }
    for folder in src.list_folders(&bucket, &key).into_iter().flatten() {
        assert!(!folder.contains("secret"), "{bucket:?} {key:?} {folder:?}");
    }
});
