//! What the S3 benches put between the tool and a store: S3-compatible servers on
//! loopback (moto, from the test Python; s3s-fs, built from crates.io for speed), and a
//! proxy in front that counts requests and bytes and shapes the link as a distant S3
//! would: a latency added to every request, a bandwidth shared by every connection.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::repo;

/// How the proxy shapes the link.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shape {
    /// Held before each request goes on (S3's first-byte latency is tens of
    /// milliseconds from a laptop, a few inside the region).
    pub latency: Duration,
    /// Bytes per second the answers share, all connections together; `None`: no cap.
    pub bandwidth: Option<u64>,
}

/// Requests and answer bytes that went through the proxy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub requests: u64,
    pub bytes_down: u64,
}

/// A proxy on loopback in front of `127.0.0.1:target`.
pub struct Proxy {
    port: u16,
    traffic: Arc<Mutex<Traffic>>,
}

impl Proxy {
    /// Starts the proxy; it serves until the process ends.
    pub fn start(target: u16, shape: Shape) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let traffic = Arc::new(Mutex::new(Traffic::default()));
        let counted = Arc::clone(&traffic);
        // When the shared link is next free.
        let link = Arc::new(Mutex::new(Instant::now()));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (to_client, from_server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (counted_down, link) = (Arc::clone(&counted), Arc::clone(&link));
                std::thread::spawn(move || answers(from_server, to_client, shape, &link, &counted_down));
                let counted = Arc::clone(&counted);
                std::thread::spawn(move || requests(client, server, shape, &counted));
            }
        });
        Proxy { port, traffic }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What went through since the last call.
    pub fn take(&self) -> Traffic {
        std::mem::take(&mut *self.traffic.lock().unwrap())
    }
}

/// Client to server: each request held `shape.latency` as it starts.
fn requests(mut client: TcpStream, mut server: TcpStream, shape: Shape, counted: &Mutex<Traffic>) {
    let mut lines = RequestLines::default();
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n @ 1..) = client.read(&mut buf) {
        let found = lines.count(&buf[..n]);
        if found > 0 && !shape.latency.is_zero() {
            std::thread::sleep(shape.latency);
        }
        counted.lock().unwrap().requests += found;
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}

/// Server to client, through the shared link. The server's socket is told to acknowledge
/// at once before each read: a server that writes an answer's head and body apart, with
/// Nagle's algorithm on, otherwise waits for the delayed acknowledgement (40 ms) on
/// every answer, and that, not the server, would set the pace.
fn answers(
    mut server: TcpStream,
    mut client: TcpStream,
    shape: Shape,
    link: &Mutex<Instant>,
    counted: &Mutex<Traffic>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        quick_ack(&server);
        let n = match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(rate) = shape.bandwidth {
            // This chunk's turn on the link: after what is already on it.
            let done = {
                let mut free = link.lock().unwrap();
                let start = (*free).max(Instant::now());
                *free = start + Duration::from_secs_f64(n as f64 / rate as f64);
                *free
            };
            let now = Instant::now();
            if done > now {
                std::thread::sleep(done - now);
            }
        }
        counted.lock().unwrap().bytes_down += n as u64;
        if client.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Write);
}

fn quick_ack(socket: &TcpStream) {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a c_int option of the right size.
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// Finds HTTP request lines in a byte stream as it passes, whatever the chunks.
#[derive(Default)]
struct RequestLines {
    partial: Vec<u8>,
}

impl RequestLines {
    /// Request lines completed by `chunk`.
    fn count(&mut self, chunk: &[u8]) -> u64 {
        let mut found = 0;
        for &b in chunk {
            if b == b'\n' {
                let text = String::from_utf8_lossy(&self.partial);
                if text.ends_with(" HTTP/1.1\r")
                    && ["GET ", "HEAD ", "PUT ", "POST ", "DELETE "]
                        .iter()
                        .any(|m| text.starts_with(m))
                {
                    found += 1;
                }
                self.partial.clear();
            } else if self.partial.len() < 16 * 1024 {
                self.partial.push(b);
            }
        }
        found
    }
}

/// The test Python (with boto3, moto and awscli: `scripts/test-all` makes it).
pub fn test_python() -> PathBuf {
    std::env::var_os("CTD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/reference-venv/bin/python"))
}

/// An S3-compatible server on loopback, stopped when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    pub name: &'static str,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// moto's server (a Python process).
    pub fn moto() -> Server {
        let mut child = Command::new(test_python())
            .arg(repo().join("tools/s3test/moto_server.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the S3 test server (scripts/test-all installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .expect("PORT line")
            .parse()
            .unwrap();
        Server {
            child,
            port,
            name: "moto",
        }
    }

    /// s3s-fs (crates.io, a server written in Rust over a folder), serving an empty
    /// folder `root`. Built once into `target/s3s-fs/` (0.14.1: the last release that
    /// builds with this toolchain; a few minutes the first time).
    pub fn s3s_fs(root: &Path) -> Server {
        let binary = repo().join("target/s3s-fs/bin/s3s-fs");
        if !binary.exists() {
            println!("building s3s-fs 0.14.1 from crates.io into target/s3s-fs (once)");
            let status = Command::new(env!("CARGO"))
                .args([
                    "install",
                    "--quiet",
                    "s3s-fs@0.14.1",
                    "--features",
                    "binary",
                    "--root",
                ])
                .arg(repo().join("target/s3s-fs"))
                .status()
                .expect("cargo install");
            assert!(status.success(), "cargo install s3s-fs failed");
        }
        let _ = std::fs::remove_dir_all(root);
        std::fs::create_dir_all(root).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", "testing", "--secret-key", "testing"])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child,
            port,
            name: "s3s-fs",
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// CPU time the server's process has used so far (user plus system, from
    /// `/proc/PID/stat`, in clock ticks).
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command name, which is in parentheses and may hold spaces.
        let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // utime and stime: fields 14 and 15 of the line, 11 and 12 (from 0) after the name.
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Duration::from_secs_f64((ticks(11) + ticks(12)) as f64 / per_second)
    }
}

/// The environment the tool and the AWS CLI need to reach a test server: its
/// credentials, and nothing of the caller's (set in this process, which the runs inherit).
pub fn test_credentials() {
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
        std::env::remove_var(k);
    }
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(k, v);
    }
}

/// Runs a boto3 script (signed in with the test credentials, `c` the S3 client of
/// `endpoint`) with `args` after the endpoint.
pub fn boto3(endpoint: &str, script: &str, args: &[&str]) {
    let prelude = "import boto3, json, os, sys\nc = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n";
    let status = Command::new(test_python())
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .arg(endpoint)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Uploads every object of a mirror's bucket folders (sidecars as user metadata), and
/// makes the bucket `extra`.
pub fn upload_mirror(endpoint: &str, mirror: &Path, extra: &str) {
    const UPLOAD: &str = r#"
root = sys.argv[2]
for bucket in sorted(os.listdir(root)):
    c.create_bucket(Bucket=bucket)
    base = os.path.join(root, bucket)
    for folder, _, files in os.walk(base):
        for name in files:
            if name.endswith('.metadata.json'):
                continue
            path = os.path.join(folder, name)
            meta = {}
            if os.path.exists(path + '.metadata.json'):
                meta = json.load(open(path + '.metadata.json'))
            c.put_object(Bucket=bucket, Key=os.path.relpath(path, base), Body=open(path, 'rb').read(), Metadata=meta)
c.create_bucket(Bucket=sys.argv[3])
"#;
    boto3(endpoint, UPLOAD, &[mirror.to_str().unwrap(), extra]);
}
