//! An S3-compatible server on loopback for the tests: moto's server (PyPI
//! `moto[server]`, installed by scripts/test-all into target/reference-venv), started
//! once per test binary by `tools/s3test/moto_server.py` on 127.0.0.1 with a free port.
//! It stops when this process exits (it watches its standard input).
//!
//! Without the server the tests print why and skip, unless `CI` is set: then they fail.
//! Python is `CTD_TEST_PYTHON`, else `target/reference-venv/bin/python`.

#![allow(dead_code)]

pub mod scenarios;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub struct Moto {
    pub port: u16,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
}

impl Moto {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn start() -> Result<Moto, String> {
    let python = std::env::var_os("CTD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/reference-venv/bin/python"));
    if !python.exists() {
        return Err(format!(
            "{} not found (scripts/test-all installs it)",
            python.display()
        ));
    }
    let mut child = Command::new(&python)
        .arg(repo().join("tools/s3test/moto_server.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let stdin = child.stdin.take().expect("piped stdin");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(90)).unwrap_or_default();
    match line.trim().strip_prefix("PORT ").and_then(|p| p.parse().ok()) {
        Some(port) => Ok(Moto {
            port,
            _child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
        }),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "moto server did not start (is moto[server] installed in {}?)",
                python.display()
            ))
        }
    }
}

/// The shared server, or `None` (with a message) when it cannot run outside CI.
pub fn moto() -> Option<&'static Moto> {
    static SERVER: OnceLock<Result<Moto, String>> = OnceLock::new();
    match SERVER.get_or_init(start) {
        Ok(m) => Some(m),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("the S3-compatible test server is required in CI: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED: S3 tests need moto's server: {why}");
            None
        }
    }
}

fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One unsigned request (moto accepts them for writes); returns status and body.
pub fn request(
    m: &Moto,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", m.port)).expect("connect to moto");
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n",
        m.port,
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body_at = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |i| i + 4);
    (status, response[body_at..].to_vec())
}

pub fn create_bucket(m: &Moto, bucket: &str) {
    let (status, body) = request(m, "PUT", &format!("/{bucket}"), &[], b"");
    assert_eq!(
        status,
        200,
        "create bucket {bucket}: {}",
        String::from_utf8_lossy(&body)
    );
}

pub fn put_object(m: &Moto, bucket: &str, key: &str, body: &[u8], metadata: &BTreeMap<String, String>) {
    put_object_as(m, bucket, key, body, metadata, None);
}

/// Uploads an object in `storage_class` (`GLACIER`, `DEEP_ARCHIVE`, ...; `None`: STANDARD).
pub fn put_object_as(
    m: &Moto,
    bucket: &str,
    key: &str,
    body: &[u8],
    metadata: &BTreeMap<String, String>,
    storage_class: Option<&str>,
) {
    let mut headers: Vec<(String, String)> = metadata
        .iter()
        .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone()))
        .collect();
    if let Some(class) = storage_class {
        headers.push(("x-amz-storage-class".into(), class.into()));
    }
    let (status, answer) = request(
        m,
        "PUT",
        &format!("/{bucket}/{}", encode_key(key)),
        &headers,
        body,
    );
    assert_eq!(
        status,
        200,
        "put s3://{bucket}/{key}: {}",
        String::from_utf8_lossy(&answer)
    );
}

fn files(dir: &Path, base: &str, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let key = if base.is_empty() {
            name
        } else {
            format!("{base}/{name}")
        };
        if p.is_dir() {
            files(&p, &key, out);
        } else {
            out.push((key, p));
        }
    }
}

/// The objects of a bucket directory (`DIR/KEY`, sidecars as metadata).
pub fn objects_of(dir: &Path) -> Vec<(String, Vec<u8>, BTreeMap<String, String>)> {
    let mut all = Vec::new();
    files(dir, "", &mut all);
    all.into_iter()
        .filter(|(k, _)| !k.ends_with(".metadata.json"))
        .map(|(key, path)| {
            let mut sidecar = path.clone().into_os_string();
            sidecar.push(".metadata.json");
            let metadata = std::fs::read(&sidecar)
                .map(|b| serde_json::from_slice(&b).expect("sidecar JSON"))
                .unwrap_or_default();
            (key, std::fs::read(&path).unwrap(), metadata)
        })
        .collect()
}

/// Uploads the bucket directory `dir` into `bucket` (created), keys under `prefix`.
pub fn upload_dir(m: &Moto, dir: &Path, bucket: &str, prefix: &str) {
    create_bucket(m, bucket);
    for (key, body, metadata) in objects_of(dir) {
        put_object(m, bucket, &format!("{prefix}{key}"), &body, &metadata);
    }
}

/// Uploads every bucket of a mirror root under its own name.
pub fn upload_mirror(m: &Moto, root: &Path) {
    let mut buckets: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    buckets.sort();
    for b in buckets.into_iter().filter(|p| p.is_dir()) {
        let name = b.file_name().unwrap().to_str().unwrap().to_string();
        upload_dir(m, &b, &name, "");
    }
}

/// Runs the binary with fixed test credentials and nothing of the caller's AWS set-up.
pub fn run_cli(args: &[String], env: &[(&str, String)]) -> Output {
    cli_command(args, env).output().expect("run cloudtrail-digest")
}

/// The binary with `args`, fixed test credentials and nothing of the caller's AWS set-up.
pub fn cli_command(args: &[String], env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloudtrail-digest"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args);
    cmd
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// (stdout, stderr, exit code line) of a run, as the goldens store them.
pub fn outcome(o: &Output) -> (String, String, String) {
    (
        text(&o.stdout),
        text(&o.stderr),
        format!("{}\n", o.status.code().unwrap_or(-1)),
    )
}

/// A proxy on 127.0.0.1 in front of the test server that notes the request line
/// (`METHOD PATH`) of every request passing through it, to count what a run asks S3.
pub struct CountingProxy {
    pub port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    pub fn start(m: &Moto) -> CountingProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let (target, noted) = (m.port, Arc::clone(&seen));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (mut from_server, mut to_client) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Write);
                });
                let noted = Arc::clone(&noted);
                std::thread::spawn(move || {
                    let (mut to_server, mut client) = (server, client);
                    let mut partial: Vec<u8> = Vec::new();
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n @ 1..) = client.read(&mut buf) {
                        for &b in &buf[..n] {
                            if b != b'\n' {
                                if partial.len() < 16 * 1024 {
                                    partial.push(b);
                                }
                                continue;
                            }
                            let text = String::from_utf8_lossy(&partial);
                            let words: Vec<&str> = text.split_whitespace().collect();
                            if words.len() == 3
                                && words[2] == "HTTP/1.1"
                                && ["GET", "HEAD", "PUT", "POST", "DELETE"].contains(&words[0])
                            {
                                noted.lock().unwrap().push(format!("{} {}", words[0], words[1]));
                            }
                            partial.clear();
                        }
                        if to_server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        CountingProxy { port, seen }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// A change to make in S3: a body and metadata to put at a key, or none (delete it).
pub type Change<'a> = (&'a str, Option<(&'a [u8], &'a BTreeMap<String, String>)>);

/// Overwrites or deletes objects as an S3 client signed in would (the test server lets
/// unsigned requests create objects, not replace or delete them), through boto3 in the
/// test Python: `(key, Some((body, metadata)))` puts, `(key, None)` deletes.
pub fn signed_changes(m: &Moto, bucket: &str, changes: &[Change<'_>]) {
    let python = std::env::var_os("CTD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/reference-venv/bin/python"));
    let work = std::env::temp_dir().join(format!("ctd-signed-{}-{bucket}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let mut ops = Vec::new();
    for (n, (key, put)) in changes.iter().enumerate() {
        ops.push(match put {
            Some((body, metadata)) => {
                let file = work.join(n.to_string());
                std::fs::write(&file, body).unwrap();
                serde_json::json!({"key": key, "body": file, "metadata": metadata})
            }
            None => serde_json::json!({"key": key}),
        });
    }
    let script = r#"
import boto3, json, sys
c = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',
                 aws_access_key_id='testing', aws_secret_access_key='testing')
for op in json.loads(sys.argv[3]):
    if 'body' in op:
        c.put_object(Bucket=sys.argv[2], Key=op['key'], Body=open(op['body'], 'rb').read(), Metadata=op['metadata'])
    else:
        c.delete_object(Bucket=sys.argv[2], Key=op['key'])
"#;
    let out = Command::new(python)
        .args([
            "-c",
            script,
            &m.endpoint(),
            bucket,
            &serde_json::Value::from(ops).to_string(),
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&work);
    assert!(
        out.status.success(),
        "signed changes: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
