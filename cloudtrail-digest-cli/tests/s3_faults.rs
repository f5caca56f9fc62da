//! S3 servers that misbehave: `validate-logs` against an S3 endpoint on 127.0.0.1 that
//! resets every connection, stalls on an object (before its headers or in the middle of
//! its body), cuts a body short, or answers 5xx every time. Each run must end on its own
//! (the test kills it after a generous bound and fails), exit with the fatal code, name
//! the object or bucket at fault and say what happened, and never panic.
//!
//! The server is written here with std::net and serves the clean-chain scenario's bucket
//! (listings, objects with their signature metadata, ranges), so a run without faults
//! prints the scenario's golden output. No moto: these tests run everywhere.

#![cfg(feature = "s3")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{cli_command, objects_of, repo, text};

const SCENARIO: &str = "clean-chain";
const BUCKET: &str = "ctd-clean-chain-bucket";
const DIGEST: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/111122223333_CloudTrail-Digest_us-east-1_test-trail_us-east-1_20260301T071742Z.json.gz";
const LOG: &str =
    "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0540Z_MlINJaaMoJ0q5Y6j.json.gz";

/// Exit code of a fatal error (the AWS CLI's).
const FATAL: i32 = 255;
/// A run still going after this long is killed and the test fails. Never a timing
/// assertion: the runs below end within seconds.
const KILL_AFTER: Duration = Duration::from_secs(60);
/// Attempts of each request in the runs below (AWS_MAX_ATTEMPTS).
const ATTEMPTS: usize = 2;

/// What the server does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Answers as S3 would.
    None,
    /// Resets the connection (RST) without answering.
    Reset,
    /// Never answers (holds the connection until the client gives up).
    Stall,
    /// Sends the headers and half the body, then holds the connection.
    StallBody,
    /// Sends the headers and half the body, then closes.
    Truncate,
    /// Answers 500 or 503 (alternately).
    ServerError,
    /// Answers with this status and S3 error document (code, message, further elements),
    /// as S3 refuses a read: a KMS denial, an archived object, a plain access denial.
    Refuse(&'static str, &'static str, &'static str, &'static str),
    /// Answers with this status and no body (a restore started: `202 Accepted`).
    Status(&'static str),
}

/// One request as the server read it.
#[derive(Debug)]
struct Request {
    method: String,
    /// The path, decoded, without its leading `/`.
    path: String,
    query: BTreeMap<String, String>,
    range: Option<String>,
    /// The request body, as text.
    body: String,
}

impl Request {
    fn bucket_and_key(&self) -> (&str, &str) {
        self.path.split_once('/').unwrap_or((&self.path, ""))
    }

    fn is_get_of(&self, key: &str) -> bool {
        self.method == "GET" && self.bucket_and_key() == (BUCKET, key)
    }

    fn is_restore_of(&self, key: &str) -> bool {
        self.method == "POST" && self.query.contains_key("restore") && self.bucket_and_key() == (BUCKET, key)
    }
}

/// An object of the served bucket: body and user metadata.
type Objects = BTreeMap<String, (Vec<u8>, BTreeMap<String, String>)>;

struct FaultyS3 {
    port: u16,
    /// "METHOD path?query" of every request, in arrival order.
    seen: Arc<Mutex<Vec<String>>>,
}

impl FaultyS3 {
    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves the scenario's bucket on 127.0.0.1, misbehaving as `policy` says. The server
/// lives as long as the test process.
fn serve(policy: impl Fn(&Request) -> Fault + Send + Sync + 'static) -> FaultyS3 {
    let dir = repo()
        .join("testdata/scenarios")
        .join(SCENARIO)
        .join("mirror")
        .join(BUCKET);
    let objects: Arc<Objects> = Arc::new(
        objects_of(&dir)
            .into_iter()
            .map(|(key, body, meta)| (key, (body, meta)))
            .collect(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let policy = Arc::new(policy);
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (objects, policy, log) = (Arc::clone(&objects), Arc::clone(&policy), Arc::clone(&log));
            std::thread::spawn(move || {
                let _ = connection(stream, &objects, &*policy, &log);
            });
        }
    });
    FaultyS3 { port, seen }
}

/// Serves the requests of one connection until it closes or a fault ends it.
fn connection(
    mut stream: TcpStream,
    objects: &Objects,
    policy: &dyn Fn(&Request) -> Fault,
    log: &Mutex<Vec<String>>,
) -> io::Result<()> {
    // Bounds this thread's life whatever the client does.
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut errors = 0;
    while let Some((line, request)) = read_request(&mut reader)? {
        log.lock().unwrap().push(line);
        let fault = policy(&request);
        match fault {
            Fault::Reset => {
                // Closing with a zero linger time sends RST instead of FIN.
                socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
            Fault::Stall => return drain(reader),
            Fault::ServerError => {
                errors += 1;
                let (status, code) = if errors % 2 == 0 {
                    ("500 Internal Server Error", "InternalError")
                } else {
                    ("503 Service Unavailable", "ServiceUnavailable")
                };
                let body =
                    format!("<Error><Code>{code}</Code><Message>injected by the test</Message></Error>");
                write_answer(&mut stream, status, &[], body.as_bytes(), body.len())?;
            }
            Fault::Refuse(status, code, message, more) => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{more}<RequestId>T1</RequestId></Error>"
                );
                write_answer(&mut stream, status, &[], body.as_bytes(), body.len())?;
            }
            Fault::Status(status) => write_answer(&mut stream, status, &[], &[], 0)?,
            Fault::None | Fault::StallBody | Fault::Truncate => {
                let (status, headers, body) = answer(&request, objects);
                let body: &[u8] = if request.method == "HEAD" { &[] } else { &body };
                let sent = if fault == Fault::None {
                    body.len()
                } else {
                    body.len() / 2
                };
                write_answer(&mut stream, status, &headers, body, sent)?;
                match fault {
                    Fault::StallBody => return drain(reader),
                    Fault::Truncate => return stream.shutdown(std::net::Shutdown::Both),
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// Reads and discards until the client closes (or the read timeout ends it).
fn drain(mut reader: BufReader<TcpStream>) -> io::Result<()> {
    io::copy(&mut reader, &mut io::sink()).map(|_| ())
}

/// The next request of a connection (its request line, and the request), or `None`
/// when the client closed it.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<(String, Request)>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    let mut range = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.trim_end().split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "range" => range = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    let request = Request {
        method: method.clone(),
        path: decode(path.trim_start_matches('/')),
        query,
        range,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    Ok(Some((format!("{method} {target}"), request)))
}

/// Percent-decoding (and `+` as a space, as form encoding writes it).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// What S3 answers: status line, headers and body.
fn answer(request: &Request, objects: &Objects) -> (&'static str, Vec<(String, String)>, Vec<u8>) {
    let (bucket, key) = request.bucket_and_key();
    let error = |status, code: &str| {
        let body = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{code}</Message></Error>");
        (status, Vec::new(), body.into_bytes())
    };
    if bucket != BUCKET {
        return error("404 Not Found", "NoSuchBucket");
    }
    if key.is_empty() {
        if request.query.contains_key("location") {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
            return ("200 OK", Vec::new(), body.as_bytes().to_vec());
        }
        if request.query.get("list-type").map(String::as_str) == Some("2") {
            return (
                "200 OK",
                Vec::new(),
                listing(&request.query, objects).into_bytes(),
            );
        }
        let headers = vec![("x-amz-bucket-region".to_string(), "us-east-1".to_string())];
        return ("200 OK", headers, Vec::new());
    }
    let Some((body, metadata)) = objects.get(key) else {
        return error("404 Not Found", "NoSuchKey");
    };
    let mut headers = vec![
        ("ETag".to_string(), format!("\"{}-{}\"", key.len(), body.len())),
        (
            "Last-Modified".to_string(),
            "Sun, 01 Mar 2026 08:00:00 GMT".to_string(),
        ),
        ("Content-Type".to_string(), "application/octet-stream".to_string()),
    ];
    headers.extend(
        metadata
            .iter()
            .map(|(k, v)| (format!("x-amz-meta-{k}"), v.clone())),
    );
    let range = request.range.as_deref().and_then(|r| {
        let (first, last) = r.strip_prefix("bytes=")?.split_once('-')?;
        let first: usize = first.parse().ok()?;
        let end = body.len().checked_sub(1)?;
        let last: usize = last.parse().map_or(end, |l: usize| l.min(end));
        (first <= last).then_some((first, last))
    });
    match range {
        Some((first, last)) => {
            headers.push((
                "Content-Range".to_string(),
                format!("bytes {first}-{last}/{}", body.len()),
            ));
            ("206 Partial Content", headers, body[first..=last].to_vec())
        }
        None => ("200 OK", headers, body.clone()),
    }
}

/// A ListObjectsV2 answer, in one page.
fn listing(query: &BTreeMap<String, String>, objects: &Objects) -> String {
    let get = |k: &str| query.get(k).map(String::as_str).unwrap_or("");
    let (prefix, delimiter, start_after) = (get("prefix"), get("delimiter"), get("start-after"));
    let mut contents = String::new();
    let mut folders = BTreeSet::new();
    let mut count = 0;
    for (key, (body, _)) in
        objects.range::<str, _>((std::ops::Bound::Excluded(start_after), std::ops::Bound::Unbounded))
    {
        let Some(rest) = key.strip_prefix(prefix) else {
            continue;
        };
        match rest.find(delimiter).filter(|_| !delimiter.is_empty()) {
            Some(i) => {
                folders.insert(format!("{prefix}{}", &rest[..i + delimiter.len()]));
            }
            None => {
                count += 1;
                contents.push_str(&format!(
                    "<Contents><Key>{}</Key><LastModified>2026-03-01T08:00:00.000Z</LastModified><ETag>&quot;{}-{}&quot;</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass></Contents>",
                    xml_escape(key),
                    key.len(),
                    body.len(),
                    body.len()
                ));
            }
        }
    }
    let folders: String = folders
        .iter()
        .map(|f| {
            format!(
                "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
                xml_escape(f)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>{BUCKET}</Name><Prefix>{}</Prefix><KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{contents}{folders}</ListBucketResult>",
        xml_escape(prefix),
        count + folders.len()
    )
}

/// Writes an answer promising `body.len()` bytes, and sends `sent` of them.
fn write_answer(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(String, String)],
    body: &[u8],
    sent: usize,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body[..sent])?;
    stream.flush()
}

/// `validate-logs` of the scenario's default case against the server, with short time
/// limits and few attempts, killed (and the test failed) if it has not ended after
/// [`KILL_AFTER`].
fn validate(server: &FaultyS3) -> Output {
    run_bounded(
        &validate_args(server),
        &[("AWS_MAX_ATTEMPTS", ATTEMPTS.to_string())],
    )
}

/// `validate-logs` of the scenario through `server`, unsigned.
fn validate_args(server: &FaultyS3) -> Vec<String> {
    let keys = repo()
        .join("testdata/scenarios")
        .join(SCENARIO)
        .join("public-keys.json");
    [
        "validate-logs",
        "--trail-arn",
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/test-trail",
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T08:00:00Z",
        "--s3-bucket",
        BUCKET,
        "--public-keys",
        &keys.display().to_string(),
        "--endpoint-url",
        &format!("http://127.0.0.1:{}", server.port),
        "--no-sign-request",
        "--cli-read-timeout",
        "2",
        "--cli-connect-timeout",
        "2",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

fn run_bounded(args: &[String], env: &[(&str, String)]) -> Output {
    let mut command = cli_command(args, env);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run cloudtrail-digest");
    let collect = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > KILL_AFTER {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "still running after {KILL_AFTER:?}: killed\nstderr: {}",
                text(&stderr.join().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The run ended with the fatal code, without a panic or a summary, naming `at_fault`
/// (in the fatal message only: no verdict for it) and saying one of `what` (lowercase);
/// returns stderr's last line, the fatal message.
fn assert_fatal(out: &Output, at_fault: &str, what: &[&str]) -> String {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(FATAL), "stderr: {stderr}");
    assert!(!stdout.contains("Results requested for"), "{stdout}");
    let message = stderr.trim_end().lines().last().unwrap_or_default().to_string();
    assert!(message.contains(at_fault), "{at_fault} not named: {stderr}");
    assert_eq!(
        (stdout + &stderr).matches(at_fault).count(),
        1,
        "{at_fault} named outside the fatal message: {stderr}"
    );
    let lower = message.to_lowercase();
    assert!(
        what.iter().any(|w| lower.contains(w)),
        "none of {what:?} said: {stderr}"
    );
    message
}

/// The run printed the scenario's golden stdout and stderr and exited with its code.
fn assert_golden(out: &Output) {
    let golden = |ext: &str| {
        std::fs::read_to_string(
            repo()
                .join("testdata/scenarios")
                .join(SCENARIO)
                .join("expected")
                .join(format!("default.{ext}")),
        )
        .unwrap()
    };
    assert_eq!(text(&out.stdout), golden("stdout"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), golden("stderr"));
    assert_eq!(format!("{}\n", out.status.code().unwrap()), golden("exit"));
}

#[test]
fn without_faults_the_server_is_s3_enough_for_the_golden_output() {
    let server = serve(|_| Fault::None);
    let out = validate(&server);
    assert_golden(&out);
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.contains("list-type=2")) && requests.iter().any(|r| r.contains(LOG)),
        "{requests:#?}"
    );
}

/// The system's trust roots are read at the first certificate to check, not when the
/// session is made: a run that speaks plain HTTP to the endpoint it was given, signed
/// with credentials from the environment, works where none can be read.
#[test]
fn plain_http_to_a_named_endpoint_needs_no_trust_roots() {
    let server = serve(|_| Fault::None);
    let no_roots = tempfile::tempdir().unwrap();
    let mut args = validate_args(&server);
    args.retain(|a| a != "--no-sign-request");
    let env = [
        ("AWS_MAX_ATTEMPTS", ATTEMPTS.to_string()),
        // Where rustls-native-certs looks instead of the system's folders.
        (
            "SSL_CERT_FILE",
            no_roots.path().join("none.pem").display().to_string(),
        ),
        ("SSL_CERT_DIR", no_roots.path().display().to_string()),
    ];
    let out = run_bounded(&args, &env);
    assert_golden(&out);
    assert!(
        server.requests().iter().any(|r| r.contains(LOG)),
        "{:#?}",
        server.requests()
    );
}

#[test]
fn the_digests_are_listed_once_while_awslogs_is_searched_for_an_organization_folder() {
    // `AWSLogs/` is answered only once the listing of the account's digests has arrived,
    // or after 1.5 seconds (within the run's read timeout of 2), which a run listing its
    // digests only after the folder is settled always sits out. Never a timing
    // assertion: the flag says which happened.
    let digests_listed = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let sat_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (listed, waited) = (Arc::clone(&digests_listed), Arc::clone(&sat_out));
    let server = serve(move |r| {
        let prefix = r.query.get("prefix").map(String::as_str).unwrap_or("");
        let delimited = r.query.contains_key("delimiter");
        if prefix == "AWSLogs/111122223333/CloudTrail-Digest/us-east-1" && !delimited {
            *listed.0.lock().unwrap() = true;
            listed.1.notify_all();
        }
        if prefix == "AWSLogs/" && delimited {
            let (arrived, _) = listed
                .1
                .wait_timeout_while(listed.0.lock().unwrap(), Duration::from_millis(1500), |l| !*l)
                .unwrap();
            waited.store(!*arrived, std::sync::atomic::Ordering::SeqCst);
        }
        Fault::None
    });
    let out = validate(&server);
    assert_golden(&out);
    assert!(!sat_out.load(std::sync::atomic::Ordering::SeqCst));
    let requests = server.requests();
    let digest_listings = requests
        .iter()
        .filter(|r| r.contains("prefix=AWSLogs%2F111122223333%2FCloudTrail-Digest%2Fus-east-1&"))
        .count();
    assert_eq!(digest_listings, 1, "{requests:#?}");
}

#[test]
fn every_request_slowed_down_once_is_retried_with_fewer_in_flight_to_the_golden_output() {
    // S3 answers each request `503 SlowDown` the first time it is made: every throttled
    // answer lowers the requests allowed in flight (permits in use are taken out as
    // they come back), and the run must still end, with the same output.
    let asked = Mutex::new(BTreeSet::new());
    let server = serve(move |r| {
        let first = asked
            .lock()
            .unwrap()
            .insert(format!("{} {} {:?}", r.method, r.path, r.query));
        match first {
            true => Fault::Refuse(
                "503 Slow Down",
                "SlowDown",
                "Please reduce your request rate.",
                "",
            ),
            false => Fault::None,
        }
    });
    let out = validate(&server);
    assert_golden(&out);
    let requests = server.requests();
    assert!(
        requests.iter().filter(|r| r.contains(LOG)).count() >= 2,
        "{requests:#?}"
    );
}

#[test]
fn connections_reset_on_every_request_are_fatal_and_name_the_bucket() {
    let server = serve(|_| Fault::Reset);
    let out = validate(&server);
    let message = assert_fatal(&out, &format!("bucket {BUCKET}"), &["connection reset"]);
    eprintln!("reset: {message}");
    // The bucket's location is the first request; AWS_MAX_ATTEMPTS bounds its attempts.
    assert_eq!(server.requests().len(), ATTEMPTS, "{:#?}", server.requests());
}

#[test]
fn a_server_that_stalls_on_an_object_times_out_and_names_it() {
    let cases = [
        ("digest, no answer", DIGEST, Fault::Stall),
        ("log, no answer", LOG, Fault::Stall),
        ("log, body stops halfway", LOG, Fault::StallBody),
    ];
    for (case, key, fault) in cases {
        let server = serve(move |r| if r.is_get_of(key) { fault } else { Fault::None });
        let out = validate(&server);
        let message = assert_fatal(&out, &format!("s3://{BUCKET}/{key}:"), &["timed out"]);
        eprintln!("{case}: {message}");
        let gets = server.requests().iter().filter(|r| r.contains(key)).count();
        // At most AWS_MAX_ATTEMPTS; fewer when the retry window closes first (a loaded
        // machine), which is not a failure.
        assert!((1..=ATTEMPTS).contains(&gets), "{case}: {:#?}", server.requests());
    }
}

#[test]
fn a_body_cut_short_is_fatal_and_names_the_object() {
    for key in [DIGEST, LOG] {
        let server = serve(move |r| {
            if r.is_get_of(key) {
                Fault::Truncate
            } else {
                Fault::None
            }
        });
        let out = validate(&server);
        let message = assert_fatal(
            &out,
            &format!("s3://{BUCKET}/{key}:"),
            &["end of file before message length reached", "connection closed"],
        );
        eprintln!("{key}: {message}");
        // The rest of the body is asked for again (a range), within AWS_MAX_ATTEMPTS.
        let gets: Vec<String> = server
            .requests()
            .into_iter()
            .filter(|r| r.contains(key))
            .collect();
        assert!((1..=ATTEMPTS).contains(&gets.len()), "{gets:#?}");
    }
}

#[test]
fn server_errors_until_the_attempts_run_out_are_fatal() {
    let server = serve(|_| Fault::ServerError);
    let out = validate(&server);
    let message = assert_fatal(&out, &format!("s3://{BUCKET}/"), &["503", "500"]);
    eprintln!("5xx: {message}");
    // Retried, but only as often as AWS_MAX_ATTEMPTS allows.
    let requests = server.requests();
    assert!(requests.len() >= ATTEMPTS, "{requests:#?}");
}

#[test]
fn a_zero_timeout_is_refused() {
    for option in ["--cli-read-timeout", "--cli-connect-timeout"] {
        let args: Vec<String> = [
            "validate-logs",
            "--trail-arn",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/test-trail",
            "--start-time",
            "2026-03-01",
            option,
            "0",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let out = run_bounded(&args, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("0 means no time limit in the AWS CLI"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// Reads that S3 refuses because of KMS say so and name the object, apart from a plain
/// access denial: the fix differs (a grant on the key, not on the bucket).
#[test]
fn kms_refusals_say_kms_and_name_the_object() {
    let cases = [
        (
            Fault::Refuse("403 Forbidden", "AccessDenied", "User: arn:aws:sts::111122223333:assumed-role/ro/i is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext because no identity-based policy allows the kms:Decrypt action", ""),
            &["KMS", "kms:Decrypt"][..],
        ),
        (
            Fault::Refuse("400 Bad Request", "KMS.DisabledException", "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab is disabled.", ""),
            &["KMS", "is disabled"][..],
        ),
        (
            Fault::Refuse("403 Forbidden", "AccessDenied", "Access Denied", ""),
            &["access denied for"][..],
        ),
    ];
    for (fault, says) in cases {
        let server = serve(move |r| if r.is_get_of(LOG) { fault } else { Fault::None });
        let out = validate(&server);
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(out.status.code(), Some(FATAL), "stderr: {stderr}");
        let message = stderr.trim_end().lines().last().unwrap_or_default().to_string();
        eprintln!("{fault:?}: {message}");
        assert!(message.contains(&format!("s3://{BUCKET}/{LOG}")), "{message}");
        for word in says {
            assert!(message.contains(word), "{word:?} not said: {message}");
        }
        assert_eq!(message.contains("KMS"), says.contains(&"KMS"), "{message}");
    }
}

/// An archived object (not restored) stops validate-logs as any read error stops the
/// reference, but the message names the object, its storage class and how to restore it.
#[test]
fn an_archived_log_names_its_storage_class_and_the_restore() {
    let cases = [
        (
            archived("<StorageClass>GLACIER</StorageClass>"),
            "archived in GLACIER",
            "--restore-request Days=7",
        ),
        (
            archived("<StorageClass>INTELLIGENT_TIERING</StorageClass><AccessTier>DEEP_ARCHIVE_ACCESS</AccessTier>"),
            "archived in INTELLIGENT_TIERING (DEEP_ARCHIVE_ACCESS)",
            "--restore-request '{}'",
        ),
    ];
    for (fault, class, restore) in cases {
        let server = serve(move |r| if r.is_get_of(LOG) { fault } else { Fault::None });
        let out = validate(&server);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(FATAL), "stderr: {stderr}");
        let message = stderr.trim_end().lines().last().unwrap_or_default().to_string();
        eprintln!("{message}");
        assert!(
            message.starts_with(&format!("s3://{BUCKET}/{LOG}: {class}, so it cannot be read")),
            "{message}"
        );
        assert!(
            message.contains(&format!("restore-object --bucket {BUCKET} --key {LOG} {restore}")),
            "{message}"
        );
    }
}

/// `mirror` copies what it can read and counts the archived objects it could not, so a
/// run after their restore completes the copy.
#[test]
fn mirror_copies_everything_readable_and_counts_archived_objects() {
    let fault = archived("<StorageClass>DEEP_ARCHIVE</StorageClass>");
    let server = serve(move |r| if r.is_get_of(LOG) { fault } else { Fault::None });
    let dest = temp_dest("mirror");
    let out = mirror(&server, &dest, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("1 archived objects (in an archive storage class, not restored) were not copied"),
        "{stderr}"
    );
    assert!(
        !dest.join(BUCKET).join(LOG).exists(),
        "nothing written for the archived log"
    );
    assert!(dest.join(BUCKET).join(DIGEST).exists(), "the digests are copied");
    let served = repo()
        .join("testdata/scenarios")
        .join(SCENARIO)
        .join("mirror")
        .join(BUCKET);
    let keys: Vec<String> = objects_of(&served).into_iter().map(|(k, ..)| k).collect();
    let logs = keys.iter().filter(|k| k.contains("/CloudTrail/")).count();
    let copied_logs = keys
        .iter()
        .filter(|k| k.contains("/CloudTrail/") && dest.join(BUCKET).join(k.as_str()).exists())
        .count();
    assert!(logs > 1);
    assert_eq!(copied_logs, logs - 1, "every other log is copied");
    std::fs::remove_dir_all(&dest).unwrap();
}

/// A fresh destination directory for a mirror run.
fn temp_dest(name: &str) -> std::path::PathBuf {
    let dest = std::env::temp_dir().join(format!("ctd-s3faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    dest
}

/// `mirror` of the scenario's window from the server into `dest`, with `extra` options.
fn mirror(server: &FaultyS3, dest: &std::path::Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = [
        "mirror",
        "--s3-bucket",
        BUCKET,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--end-time",
        "2026-03-01T08:00:00Z",
        "--dest",
        &dest.display().to_string(),
        "--endpoint-url",
        &format!("http://127.0.0.1:{}", server.port),
        "--no-sign-request",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    args.extend(extra.iter().map(|a| a.to_string()));
    run_bounded(&args, &[("AWS_MAX_ATTEMPTS", ATTEMPTS.to_string())])
}

/// S3's refusal to read an archived object; `more` names its storage class (and tier).
const fn archived(more: &'static str) -> Fault {
    Fault::Refuse(
        "403 Forbidden",
        "InvalidObjectState",
        "The operation is not valid for the object's storage class",
        more,
    )
}

/// `mirror --restore` sends one RestoreObject per archived object: without Days for an
/// Intelligent-Tiering archive tier, with them for Glacier; a restore already under way
/// (409) and one S3 calls done while the object still cannot be read are counted as in
/// progress; everything readable is copied.
#[test]
fn mirror_restore_asks_once_per_archived_object_and_counts_those_in_progress() {
    const TIERED: &str = LOG;
    const GLACIER: &str = DIGEST;
    const DONE_BUT_NOT_YET: &str =
        "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0205Z_rxE16730FEwVart2.json.gz";
    let bodies: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();
    let seen = Arc::clone(&bodies);
    let server = serve(move |r| {
        if r.method == "POST" {
            let (_, key) = r.bucket_and_key();
            seen.lock().unwrap().insert(key.to_string(), r.body.clone());
        }
        if r.is_get_of(TIERED) {
            archived("<StorageClass>INTELLIGENT_TIERING</StorageClass><AccessTier>DEEP_ARCHIVE_ACCESS</AccessTier>")
        } else if r.is_restore_of(TIERED) {
            Fault::Status("202 Accepted")
        } else if r.is_get_of(GLACIER) {
            archived("<StorageClass>GLACIER</StorageClass>")
        } else if r.is_restore_of(GLACIER) {
            Fault::Refuse(
                "409 Conflict",
                "RestoreAlreadyInProgress",
                "Object restore is already in progress",
                "",
            )
        } else if r.is_get_of(DONE_BUT_NOT_YET) {
            archived("<StorageClass>DEEP_ARCHIVE</StorageClass>")
        } else if r.is_restore_of(DONE_BUT_NOT_YET) {
            Fault::Status("200 OK")
        } else {
            Fault::None
        }
    });
    let dest = temp_dest("restore");
    let out = mirror(&server, &dest, &["--restore", "3", "--restore-tier", "Bulk"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains(", 3 archived (not restored)"), "{stdout}");
    assert!(
        stderr.contains(
            "3 archived objects wait for a restore (1 restores requested now, 2 already in progress)"
        ),
        "{stderr}"
    );
    let requests = server.requests();
    let restores: Vec<&String> = requests.iter().filter(|r| r.starts_with("POST ")).collect();
    assert_eq!(
        restores.len(),
        3,
        "one RestoreObject per archived object: {restores:?}"
    );
    for key in [TIERED, GLACIER, DONE_BUT_NOT_YET] {
        assert!(
            restores.contains(&&format!("POST /{BUCKET}/{key}?restore")),
            "{key}: {restores:?}"
        );
    }
    let gets = |key: &str| {
        requests
            .iter()
            .filter(|r| **r == format!("GET /{BUCKET}/{key}"))
            .count()
    };
    assert_eq!(
        gets(DONE_BUT_NOT_YET),
        2,
        "read again after S3 said it is restored"
    );
    assert_eq!(
        (gets(TIERED), gets(GLACIER)),
        (1, 1),
        "no read again while a restore runs"
    );
    let bodies = bodies.lock().unwrap();
    let tiered = &bodies[TIERED];
    assert!(
        !tiered.contains("<Days>"),
        "Intelligent-Tiering restores take no Days: {tiered}"
    );
    assert!(
        tiered.contains("<GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters>"),
        "{tiered}"
    );
    assert!(tiered.contains("<RestoreRequest"), "{tiered}");
    let glacier = &bodies[GLACIER];
    assert!(
        glacier.contains("<Days>3</Days><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters>"),
        "{glacier}"
    );
    let readable = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0150Z_BncfNOwiKcAtxnXw.json.gz";
    assert!(
        dest.join(BUCKET).join(readable).is_file(),
        "readable logs are copied"
    );
    for key in [TIERED, GLACIER, DONE_BUT_NOT_YET] {
        assert!(!dest.join(BUCKET).join(key).exists(), "{key} is not copied");
    }
    std::fs::remove_dir_all(&dest).unwrap();
}

/// An object S3 reports restored is read again and copied, in the same run.
#[test]
fn mirror_restore_copies_an_object_already_restored() {
    let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&reads);
    let server = serve(move |r| {
        if r.is_get_of(LOG) && counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            archived("<StorageClass>GLACIER</StorageClass>")
        } else if r.is_restore_of(LOG) {
            Fault::Status("200 OK")
        } else {
            Fault::None
        }
    });
    let dest = temp_dest("restored");
    let out = mirror(&server, &dest, &["--restore", "1"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("archived (not restored)"), "{stdout}");
    assert!(dest.join(BUCKET).join(LOG).is_file());
    let restores = server
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST "))
        .count();
    assert_eq!(restores, 1);
    std::fs::remove_dir_all(&dest).unwrap();
}

/// `--restore` needs S3: a bucket read from a directory is a usage error, and
/// `--restore-tier` needs `--restore`.
#[test]
fn restore_needs_s3_and_restore_tier_needs_restore() {
    let dir = std::env::temp_dir().display().to_string();
    let base = [
        "mirror",
        "--s3-bucket",
        BUCKET,
        "--start-time",
        "2026-03-01T00:00:00Z",
        "--dest",
        "/nonexistent/ctd-never-written",
    ];
    let map = format!("{BUCKET}={dir}");
    let mut local: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    local.extend(["--bucket-map".into(), map.clone(), "--restore".into(), "1".into()]);
    let out = run_bounded(&local, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("--restore: --bucket-map {map} reads a local directory")),
        "{stderr}"
    );
    let mut tier_alone: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    tier_alone.extend(["--restore-tier".into(), "Bulk".into()]);
    let out = run_bounded(&tier_alone, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--restore <DAYS>"),
        "{}",
        text(&out.stderr)
    );
}
