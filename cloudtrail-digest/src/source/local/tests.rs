//! The local mirror's containment, listing and metadata, on real directories.

use super::*;
use crate::source::MetadataOrigin;

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
