//! One conformance suite for every `ObjectSource` backend: the same objects are put in
//! each, and each case asks every backend the same questions and expects the same
//! answers, except where a backend differs by design (said at the case).
//!
//! Backends: `MemorySource`; `LocalDir`; `MappedSource` onto a local directory
//! (`MapTarget::directory`) and onto a bucket and prefix of another source (a
//! `MemorySource`); and, when moto's server can run (see tests/support; it needs
//! `CTD_TEST_PYTHON` or target/reference-venv, and is required when `CI` is set),
//! `S3Source` against it and a `MappedSource` onto a bucket read through that
//! `S3Source`.
//!
//! The suite lives in the CLI crate's tests because the S3 server support is here; the
//! library's own feature `s3` is on in this crate's build.

mod support;

use std::collections::BTreeMap;
use std::error::Error as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cloudtrail_digest::aws::{AwsSession, AwsSettings};
use cloudtrail_digest::SIDECAR_SUFFIX;
use cloudtrail_digest::{
    BucketMap, LocalDir, MapTarget, MappedSource, MemorySource, MetadataOrigin, ObjectSource, S3Source,
    SourceError, SourceErrorKind, MAX_WHOLE_OBJECT,
};

/// The bucket every backend answers for (under a mapping: the original name).
const BUCKET: &str = "ctd-conf-bucket";
/// The bucket on the S3 server (read directly, and as `BUCKET` through a map).
const S3_COPY: &str = "ctd-conf-copy";
/// A bucket no backend has.
const MISSING_BUCKET: &str = "ctd-conf-no-such-bucket";
const DIGEST: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/d1.json.gz";
const LOG: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/l1.json.gz";
const BINARY: &str = "AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/binary";
const BIG: &str = "big/object";
/// Keys in the `many/` folder: more than one S3 page (1000 keys).
const MANY: usize = 1003;

/// One object of the fixture.
struct Fixture {
    key: String,
    body: Vec<u8>,
    metadata: BTreeMap<String, String>,
}

fn signature_metadata() -> BTreeMap<String, String> {
    [("signature", "00ff"), ("signature-algorithm", "SHA256withRSA")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Every object but the big one (which each backend stores its own cheap way).
fn fixture() -> &'static [Fixture] {
    static FIXTURE: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let plain = |key: &str, body: &[u8]| Fixture {
            key: key.to_string(),
            body: body.to_vec(),
            metadata: BTreeMap::new(),
        };
        let mut all = vec![
            Fixture {
                key: DIGEST.into(),
                body: b"digest one".to_vec(),
                metadata: signature_metadata(),
            },
            plain(LOG, b"log one"),
            // Bytes of every value, more than one read buffer long.
            plain(
                BINARY,
                &(0..300_000u32).map(|i| (i * 7 % 256) as u8).collect::<Vec<_>>(),
            ),
            // UTF-8 byte order: `-` < `/` < `Z` < `a` < `z` < `~` < `é`.
            plain("order/a-b", b"1"),
            plain("order/a/b", b"2"),
            plain("order/Z", b"3"),
            plain("order/a", b"4"),
            plain("order/z", b"5"),
            plain("order/~", b"6"),
            plain("order/é", b"7"),
            plain("order/with space", b"8"),
            plain("d/r1/2026/k", b"9"),
            plain("d/r10/z", b"10"),
            plain("top.txt", b"top"),
            plain("empty", b""),
        ];
        // `order/a` is a file and `order/a/b` needs a folder `order/a`: no local mirror
        // can hold both, so the file is `order/a-b`'s neighbour under another name.
        all.retain(|f| f.key != "order/a");
        all.push(plain("order/a.", b"4"));
        all.extend((0..MANY).map(|i| plain(&format!("many/{i:05}"), b"m")));
        all
    })
}

/// Every key a full listing of the bucket shows, in S3 order.
fn all_keys() -> Vec<String> {
    let mut keys: Vec<String> = fixture().iter().map(|f| f.key.clone()).collect();
    keys.push(BIG.to_string());
    keys.sort();
    keys
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Memory,
    Local,
    MappedDirectory,
    MappedPrefix,
    S3,
    MappedS3,
}

struct Backend {
    kind: Kind,
    source: Arc<dyn ObjectSource>,
    /// The bucket holding the fixture, as this backend names it.
    bucket: &'static str,
}

impl Backend {
    fn name(&self) -> String {
        format!("{:?}", self.kind)
    }

    /// Where a digest's metadata is found: a mirror on disk keeps it in sidecars.
    fn metadata_origin(&self) -> MetadataOrigin {
        match self.kind {
            Kind::Local | Kind::MappedDirectory => MetadataOrigin::Sidecar,
            _ => MetadataOrigin::Service,
        }
    }

    /// Whether keys are file names under a root (which must never be left).
    fn keys_are_files(&self) -> bool {
        matches!(self.kind, Kind::Local | Kind::MappedDirectory)
    }

    /// Whether keys go through object_store's paths (which cannot hold empty, `.` or `..`
    /// segments or control characters).
    fn keys_are_object_store_paths(&self) -> bool {
        matches!(self.kind, Kind::S3 | Kind::MappedS3)
    }
}

/// A folder for the backends of this test process. They live in a static, which is
/// never dropped, so they go under cargo's folder for test files (`target/tmp/`), not
/// the system's temporary folder.
fn temp_root(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the fixture as a bucket directory `dir` (sidecars for metadata).
fn write_dir(dir: &Path) {
    for f in fixture() {
        let path = dir.join(&f.key);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &f.body).unwrap();
        if !f.metadata.is_empty() {
            let mut sidecar = path.into_os_string();
            sidecar.push(SIDECAR_SUFFIX);
            fs::write(sidecar, serde_json::to_vec(&f.metadata).unwrap()).unwrap();
        }
    }
    // Sparse: one byte over the limit costs no disk.
    let big = dir.join(BIG);
    fs::create_dir_all(big.parent().unwrap()).unwrap();
    fs::File::create(&big)
        .unwrap()
        .set_len(MAX_WHOLE_OBJECT + 1)
        .unwrap();
}

fn memory_with(bucket: &str, prefix: &str) -> MemorySource {
    let m = MemorySource::new();
    m.create_bucket(bucket);
    for f in fixture() {
        m.put_with_metadata(
            bucket,
            &format!("{prefix}{}", f.key),
            f.body.clone(),
            f.metadata.clone(),
        )
        .unwrap();
    }
    m.put(
        bucket,
        &format!("{prefix}{BIG}"),
        vec![0u8; MAX_WHOLE_OBJECT as usize + 1],
    )
    .unwrap();
    m
}

fn s3_source(m: &support::Moto) -> S3Source {
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    let settings = AwsSettings {
        s3_endpoint: Some(m.endpoint()),
        region: Some("us-east-1".into()),
        max_retries: 1,
        ..AwsSettings::default()
    };
    S3Source::new(AwsSession::new(settings).unwrap())
}

fn upload(m: &support::Moto, bucket: &str) {
    support::create_bucket(m, bucket);
    // One request at a time takes a while for a thousand keys: a few at once.
    let objects = fixture();
    std::thread::scope(|scope| {
        for part in objects.chunks(objects.len().div_ceil(6)) {
            scope.spawn(move || {
                for f in part {
                    support::put_object(m, bucket, &f.key, &f.body, &f.metadata);
                }
            });
        }
    });
    support::put_object(
        m,
        bucket,
        BIG,
        &vec![0u8; MAX_WHOLE_OBJECT as usize + 1],
        &BTreeMap::new(),
    );
}

/// Every backend, set up once for all cases.
fn backends() -> &'static [Backend] {
    static BACKENDS: OnceLock<Vec<Backend>> = OnceLock::new();
    BACKENDS.get_or_init(|| {
        let mut all = Vec::new();
        all.push(Backend {
            kind: Kind::Memory,
            source: Arc::new(memory_with(BUCKET, "")),
            bucket: BUCKET,
        });

        let root = temp_root("local");
        write_dir(&root.join(BUCKET));
        all.push(Backend {
            kind: Kind::Local,
            source: Arc::new(LocalDir::new(&root).unwrap()),
            bucket: BUCKET,
        });

        // A copy in a directory named otherwise: reads must go through the mapping.
        let copy = temp_root("directory").join("copy-of-bucket");
        write_dir(&copy);
        let map = BucketMap::from([(BUCKET.to_string(), MapTarget::directory(&copy).unwrap())]);
        all.push(Backend {
            kind: Kind::MappedDirectory,
            source: Arc::new(MappedSource::new(None, map)),
            bucket: BUCKET,
        });

        let replica = memory_with("replica", "copies/");
        // Beside the prefix: never part of the mapped bucket.
        replica
            .put("replica", "copies", b"not under the prefix".to_vec())
            .unwrap();
        replica
            .put("replica", "other/key", b"elsewhere".to_vec())
            .unwrap();
        let replica: Arc<dyn ObjectSource> = Arc::new(replica);
        let map = BucketMap::from([(
            BUCKET.to_string(),
            MapTarget::bucket(replica, "replica", "copies/"),
        )]);
        all.push(Backend {
            kind: Kind::MappedPrefix,
            source: Arc::new(MappedSource::new(None, map)),
            bucket: BUCKET,
        });

        if let Some(m) = support::moto() {
            // One bucket on the server, read directly under its own name and through a
            // mapping under the original name (which the server does not have).
            upload(m, S3_COPY);
            let s3 = Arc::new(s3_source(m));
            all.push(Backend {
                kind: Kind::S3,
                source: Arc::clone(&s3) as Arc<dyn ObjectSource>,
                bucket: S3_COPY,
            });
            let map = BucketMap::from([(BUCKET.to_string(), MapTarget::bucket(s3, S3_COPY, ""))]);
            all.push(Backend {
                kind: Kind::MappedS3,
                source: Arc::new(MappedSource::new(None, map)),
                bucket: BUCKET,
            });
        } else {
            eprintln!("S3 and mapped-S3 backends skipped: no S3-compatible test server (see above)");
        }
        all
    })
}

/// Runs `case` over every backend, naming the backend in any failure.
fn each(case: impl Fn(&Backend)) {
    for b in backends() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(b)));
        if let Err(e) = result {
            eprintln!("failed for backend {}", b.name());
            std::panic::resume_unwind(e);
        }
    }
}

fn kind(r: Result<impl Sized, SourceError>) -> SourceErrorKind {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.kind,
    }
}

#[test]
fn lists_in_s3_order_after_start_after() {
    let all = all_keys();
    each(|b| {
        let s = &b.source;
        assert_eq!(s.list(b.bucket, "", "").unwrap(), all, "{}", b.name());
        assert_eq!(
            s.list(b.bucket, "order/", "").unwrap(),
            [
                "order/Z",
                "order/a-b",
                "order/a.",
                "order/a/b",
                "order/with space",
                "order/z",
                "order/~",
                "order/é"
            ],
            "{}",
            b.name()
        );
        // After a key that exists, after one that does not, after everything.
        assert_eq!(
            s.list(b.bucket, "order/", "order/with space").unwrap(),
            ["order/z", "order/~", "order/é"],
            "{}",
            b.name()
        );
        assert_eq!(
            s.list(b.bucket, "order/", "order/b").unwrap(),
            ["order/with space", "order/z", "order/~", "order/é"],
            "{}",
            b.name()
        );
        assert!(s.list(b.bucket, "order/", "order/ö").unwrap().is_empty());
        // A start-after before the prefix lists the whole prefix.
        assert_eq!(s.list(b.bucket, "order/", "a").unwrap().len(), 8, "{}", b.name());
        // Across S3 pages.
        let many = s.list(b.bucket, "many/", "").unwrap();
        assert_eq!(many.len(), MANY, "{}", b.name());
        assert!(many.windows(2).all(|w| w[0] < w[1]), "{}", b.name());
        assert_eq!(
            s.list(b.bucket, "many/", "many/01000").unwrap(),
            ["many/01001", "many/01002"],
            "{}",
            b.name()
        );
        assert!(s.list(b.bucket, "nothing/", "").unwrap().is_empty());
    });
}

#[test]
fn prefixes_need_not_end_in_a_slash() {
    each(|b| {
        let s = &b.source;
        assert_eq!(
            s.list(b.bucket, "d/r1", "").unwrap(),
            ["d/r1/2026/k", "d/r10/z"],
            "{}",
            b.name()
        );
        assert_eq!(
            s.list(b.bucket, "d/r1/", "").unwrap(),
            ["d/r1/2026/k"],
            "{}",
            b.name()
        );
        assert_eq!(
            s.list(b.bucket, "order/a", "").unwrap(),
            ["order/a-b", "order/a.", "order/a/b"],
            "{}",
            b.name()
        );
        assert_eq!(s.list(b.bucket, "top", "").unwrap(), ["top.txt"], "{}", b.name());
        assert_eq!(
            s.list(b.bucket, "order/é", "").unwrap(),
            ["order/é"],
            "{}",
            b.name()
        );
        assert_eq!(
            s.list(b.bucket, "d/r1", "d/r1/2026/k").unwrap(),
            ["d/r10/z"],
            "{}",
            b.name()
        );
    });
}

#[test]
fn list_until_returns_at_least_everything_up_to_the_stop_key() {
    each(|b| {
        let s = &b.source;
        for (prefix, stop_at) in [
            ("many/", "many/00003"),
            ("many/", "many/01001"),
            ("", DIGEST),
            ("order/", "order/é"),
        ] {
            let full = s.list(b.bucket, prefix, "").unwrap();
            let got = s.list_until(b.bucket, prefix, "", &|k| k == stop_at).unwrap();
            let needed = full.iter().position(|k| k == stop_at).unwrap() + 1;
            assert!(
                got.len() >= needed && got.len() <= full.len(),
                "{}: {prefix} until {stop_at}: {} of {}",
                b.name(),
                got.len(),
                full.len()
            );
            assert_eq!(got[..], full[..got.len()], "{}: {prefix}", b.name());
        }
        // A stop that never holds is a full listing; one after start-after holds later.
        assert_eq!(
            s.list_until(b.bucket, "many/", "many/00010", &|_| false).unwrap(),
            s.list(b.bucket, "many/", "many/00010").unwrap(),
            "{}",
            b.name()
        );
        let got = s
            .list_until(b.bucket, "many/", "many/00010", &|k| k == "many/00011")
            .unwrap();
        assert_eq!(
            got.first().map(String::as_str),
            Some("many/00011"),
            "{}",
            b.name()
        );
    });
}

#[test]
fn lists_folders_as_common_prefixes() {
    each(|b| {
        let s = &b.source;
        assert_eq!(
            s.list_folders(b.bucket, "").unwrap(),
            ["AWSLogs/", "big/", "d/", "many/", "order/"],
            "{}",
            b.name()
        );
        assert_eq!(
            s.list_folders(b.bucket, "AWSLogs/").unwrap(),
            ["AWSLogs/111122223333/", "AWSLogs/o-abc123/"],
            "{}",
            b.name()
        );
        assert_eq!(
            s.list_folders(b.bucket, "order/").unwrap(),
            ["order/a/"],
            "{}",
            b.name()
        );
        // A prefix that ends inside a name: the folders whose names start so.
        assert_eq!(
            s.list_folders(b.bucket, "AWSLogs/o-").unwrap(),
            ["AWSLogs/o-abc123/"],
            "{}",
            b.name()
        );
        assert_eq!(
            s.list_folders(b.bucket, "d/r").unwrap(),
            ["d/r1/", "d/r10/"],
            "{}",
            b.name()
        );
        assert!(
            s.list_folders(b.bucket, "many/").unwrap().is_empty(),
            "{}",
            b.name()
        );
        assert!(
            s.list_folders(b.bucket, "nothing/").unwrap().is_empty(),
            "{}",
            b.name()
        );
    });
}

#[test]
fn gets_whole_objects_with_their_metadata() {
    each(|b| {
        let s = &b.source;
        let digest = s.get(b.bucket, DIGEST).unwrap();
        assert_eq!(digest.body, b"digest one", "{}", b.name());
        assert_eq!(digest.metadata.entries, signature_metadata(), "{}", b.name());
        assert_eq!(digest.metadata.origin, Some(b.metadata_origin()), "{}", b.name());
        for f in fixture().iter().filter(|f| f.metadata.is_empty()) {
            let o = s.get(b.bucket, &f.key).unwrap();
            assert_eq!(o.body, f.body, "{}: {}", b.name(), f.key);
            assert!(o.metadata.entries.is_empty(), "{}: {}", b.name(), f.key);
            assert_eq!(o.metadata.origin, None, "{}: {}", b.name(), f.key);
        }
    });
}

#[test]
fn opens_streams_of_the_exact_bytes() {
    each(|b| {
        let s = &b.source;
        for key in [DIGEST, LOG, BINARY, "empty", "order/é"] {
            let want = &fixture().iter().find(|f| f.key == key).unwrap().body;
            let mut got = Vec::new();
            s.open(b.bucket, key).unwrap().read_to_end(&mut got).unwrap();
            assert_eq!(&got, want, "{}: {key}", b.name());
        }
        // The object too big to get whole is opened as any other.
        let mut head = [1u8; 16];
        s.open(b.bucket, BIG).unwrap().read_exact(&mut head).unwrap();
        assert_eq!(head, [0u8; 16], "{}", b.name());
    });
}

#[test]
fn opens_ranges_of_the_exact_bytes() {
    each(|b| {
        let s = &b.source;
        let binary = &fixture().iter().find(|f| f.key == BINARY).unwrap().body;
        let len = binary.len() as u64;
        // Inside, across a read buffer's end, to the end, past the end, and empty.
        for range in [3..10, 65_000..140_000, len - 5..len, len - 5..len + 100, 7..7] {
            let mut got = Vec::new();
            s.open_range(b.bucket, BINARY, range.clone())
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            let end = range.end.min(len) as usize;
            assert_eq!(got, binary[range.start as usize..end], "{}: {range:?}", b.name());
        }
        assert_eq!(
            kind(s.open_range(b.bucket, "missing", 0..4).map(|_| ())),
            SourceErrorKind::NotFound,
            "{}",
            b.name()
        );
    });
}

#[test]
fn sizes_present_and_absent() {
    each(|b| {
        let s = &b.source;
        assert_eq!(s.size(b.bucket, BINARY).unwrap(), Some(300_000), "{}", b.name());
        assert_eq!(s.size(b.bucket, "empty").unwrap(), Some(0), "{}", b.name());
        assert_eq!(
            s.size(b.bucket, BIG).unwrap(),
            Some(MAX_WHOLE_OBJECT + 1),
            "{}",
            b.name()
        );
        assert_eq!(s.size(b.bucket, "order/missing").unwrap(), None, "{}", b.name());
        // A folder is no object.
        assert_eq!(s.size(b.bucket, "order/a").unwrap(), None, "{}", b.name());
    });
}

#[test]
fn missing_objects_are_not_found_and_name_the_object() {
    each(|b| {
        let s = &b.source;
        for key in ["order/missing", "order/a", "top.txt/below"] {
            for e in [
                s.get(b.bucket, key).map(|_| ()).unwrap_err(),
                s.open(b.bucket, key).map(|_| ()).unwrap_err(),
            ] {
                assert_eq!(e.kind, SourceErrorKind::NotFound, "{}: {key}: {e}", b.name());
                assert_eq!(
                    (e.bucket.as_str(), e.key.as_str()),
                    (b.bucket, key),
                    "{}",
                    b.name()
                );
            }
        }
        // The failure underneath is kept as the error's source where there is one.
        let e = s.get(b.bucket, "order/missing").unwrap_err();
        match b.kind {
            Kind::Local | Kind::MappedDirectory => {
                let io = e.source().and_then(|c| c.downcast_ref::<std::io::Error>());
                assert_eq!(
                    io.map(std::io::Error::kind),
                    Some(std::io::ErrorKind::NotFound),
                    "{}",
                    b.name()
                );
            }
            Kind::S3 | Kind::MappedS3 => assert!(e.source().is_some(), "{}", b.name()),
            // Nothing failed underneath: the map simply has no such key.
            Kind::Memory | Kind::MappedPrefix => assert!(e.source().is_none(), "{}", b.name()),
        }
    });
}

#[test]
fn missing_buckets_are_no_such_bucket() {
    each(|b| {
        let s = &b.source;
        let results = [
            kind(s.list(MISSING_BUCKET, "", "")),
            kind(s.list_until(MISSING_BUCKET, "", "", &|_| true)),
            kind(s.list_folders(MISSING_BUCKET, "")),
            kind(s.get(MISSING_BUCKET, DIGEST)),
            kind(s.open(MISSING_BUCKET, DIGEST)),
            kind(s.size(MISSING_BUCKET, DIGEST)),
        ];
        assert_eq!(results, [SourceErrorKind::NoSuchBucket; 6], "{}", b.name());
    });
}

#[test]
fn whole_objects_over_the_limit_are_refused() {
    each(|b| {
        let e = b.source.get(b.bucket, BIG).unwrap_err();
        assert_eq!(e.kind, SourceErrorKind::Refused, "{}: {e}", b.name());
        assert!(
            e.detail
                .contains(&format!("holds {} bytes", MAX_WHOLE_OBJECT + 1)),
            "{}: {e}",
            b.name()
        );
    });
}

#[test]
fn keys_that_cannot_be_addressed_are_refused() {
    let long = format!("order/{}", "k".repeat(1020));
    each(|b| {
        let s = &b.source;
        // (key, refused as a local file name, refused as an object_store path)
        let cases: [(&str, bool, bool); 9] = [
            ("order/../order/z", true, true),
            ("order/", true, true),
            ("order/./z", true, true),
            ("order//z", true, true),
            ("order/a\\b", true, false),
            ("order/a\0b", true, true),
            ("/order/z", true, true),
            (long.as_str(), true, true),
            ("order/fine", false, false),
        ];
        for (key, as_file, as_path) in cases {
            // Every store refuses a key longer than S3 allows; a store whose keys are
            // file names or object_store paths also refuses what those cannot name.
            // Elsewhere (memory) such keys are plain S3 keys that no object has.
            let refused = key.len() > 1024
                || (b.keys_are_files() && as_file)
                || (b.keys_are_object_store_paths() && as_path);
            let want = if refused {
                SourceErrorKind::Refused
            } else {
                SourceErrorKind::NotFound
            };
            assert_eq!(kind(s.get(b.bucket, key)), want, "{}: get {key:?}", b.name());
            assert_eq!(kind(s.open(b.bucket, key)), want, "{}: open {key:?}", b.name());
            match s.size(b.bucket, key) {
                Err(e) => assert!(refused && e.kind == SourceErrorKind::Refused, "{}: {e}", b.name()),
                Ok(size) => assert!(!refused && size.is_none(), "{}: size {key:?}", b.name()),
            }
        }
    });
}

#[test]
fn every_backend_is_exercised() {
    let kinds: Vec<Kind> = backends().iter().map(|b| b.kind).collect();
    let mut want = vec![
        Kind::Memory,
        Kind::Local,
        Kind::MappedDirectory,
        Kind::MappedPrefix,
    ];
    if support::moto().is_some() {
        want.extend([Kind::S3, Kind::MappedS3]);
    }
    assert_eq!(kinds, want);
}
