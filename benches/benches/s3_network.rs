//! `validate-logs` in S3 under the network's limits: a generated trail in an
//! S3-compatible server on loopback (s3s-fs by default, `--server moto` for the test
//! server), reached through a proxy that adds a latency to every request and can cap the
//! bandwidth all connections share. For each shape of the link, in one run: the tool in
//! S3 mode on the whole trail and on its first hours, `mirror` then a local
//! `validate-logs`, and the AWS CLI (`tools/reference/run_reference.py --s3-endpoint`,
//! through the same proxy) on the first hours. Reports each time, the AWS CLI's time over
//! the tool's, requests and bytes per verified object, and the least time the network
//! alone allows (requests x latency / concurrency, or bytes / bandwidth, whichever is
//! longer), and the same with the round trips that must come one after another first,
//! against the tool's. On a machine the tool shares with the server and the proxy, the
//! CPU is a bound too: each run of the whole trail also reports the CPU time of the
//! three and the least time the machine's processors need for all of it.
//! Every output is checked byte for byte: the tool's against the AWS CLI's on the same
//! hours, and the S3 run's against the local run's on the mirror.
//!
//! cargo bench -p cloudtrail-digest-benches --bench s3_network -- [--hours 24] [--records 775] [--reference-hours 3] [--latencies 5,50] [--bandwidth-mbit 200] [--server s3s-fs|moto] [--max-concurrency 64]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use cloudtrail_digest_benches::network::{self, Proxy, Server, Shape, Traffic};
use cloudtrail_digest_benches::{
    generate, measure, option, own_cpu, release_binary, repo, trail_args, Measured,
};

const BUCKET: &str = "ctd-bench-bucket";

struct Options {
    hours: u32,
    records: u32,
    reference_hours: u32,
    latencies: Vec<u64>,
    bandwidth: u64,
    moto: bool,
    concurrency: usize,
}

fn options() -> Options {
    let number = |name: &str, default: u32| option(name).map_or(default, |v| v.parse().expect("a number"));
    Options {
        hours: number("--hours", 24),
        // About 1 MiB inflated per log, as the end_to_end bench's trail.
        records: number("--records", 775),
        reference_hours: number("--reference-hours", 3),
        latencies: option("--latencies")
            .unwrap_or_else(|| "5,50".into())
            .split(',')
            .map(|v| v.parse().expect("--latencies: milliseconds, comma-separated"))
            .collect(),
        bandwidth: u64::from(number("--bandwidth-mbit", 200)) * 1_000_000 / 8,
        moto: option("--server").is_some_and(|s| s == "moto"),
        concurrency: number("--max-concurrency", 64) as usize,
    }
}

/// The end of the trail's first `hours` hours.
fn end_time(hours: u32) -> String {
    let start = cloudtrail_digest::parse_utc("2026-03-01T00:00:00Z").unwrap();
    cloudtrail_digest::internals::display(start + chrono::Duration::hours(i64::from(hours)))
}

/// The tool's `validate-logs` in S3 through `endpoint`.
fn in_s3(binary: &Path, root: &Path, endpoint: &str, hours: u32, o: &Options) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("validate-logs")
        .args(trail_args(&end_time(hours)))
        .args(["--endpoint-url", endpoint])
        .arg("--public-keys")
        .arg(root.join("public-keys.json"))
        .args(["--max-concurrency", &o.concurrency.to_string()]);
    cmd
}

/// The tool's `validate-logs` of the mirror `dir` (the trail's own, or a copy).
fn locally(binary: &Path, root: &Path, dir: &Path, hours: u32) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("validate-logs")
        .args(trail_args(&end_time(hours)))
        .arg("--local-dir")
        .arg(dir)
        .arg("--public-keys")
        .arg(root.join("public-keys.json"));
    cmd
}

/// One timed run and the traffic it made through the proxy.
struct Run {
    time: Duration,
    traffic: Traffic,
    stdout: Vec<u8>,
    cpu: Cpu,
}

/// CPU time of a run: the command's own, the server's, and the proxy's (this process's
/// threads; the bench itself only waits meanwhile).
#[derive(Debug, Clone, Copy)]
struct Cpu {
    command: Duration,
    server: Duration,
    proxy: Duration,
}

impl Cpu {
    fn total(&self) -> Duration {
        self.command + self.server + self.proxy
    }
}

fn run(cmd: Command, proxy: &Proxy, server: &Server) -> Run {
    proxy.take();
    let (server_before, proxy_before) = (server.cpu(), own_cpu());
    let m: Measured = measure(cmd).unwrap();
    let cpu = Cpu {
        command: m.cpu,
        server: server.cpu().saturating_sub(server_before),
        proxy: own_cpu().saturating_sub(proxy_before),
    };
    assert!(
        m.status.success(),
        "{:?}\n{}",
        m.status,
        String::from_utf8_lossy(&m.output.stderr)
    );
    Run {
        time: m.elapsed,
        traffic: proxy.take(),
        stdout: m.output.stdout,
        cpu,
    }
}

/// Digests and logs a `validate-logs` report says it verified.
fn verified(stdout: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(stdout);
    let count = |suffix: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.ends_with(suffix))
            .unwrap_or_else(|| panic!("no `{suffix}` in:\n{text}"));
        let (valid, total) = line.split_once(' ').unwrap().0.split_once('/').unwrap();
        assert_eq!(valid, total, "{line}");
        valid.parse().unwrap()
    };
    count(" digest files valid") + count(" log files valid")
}

/// The least time the network alone allows for `traffic`: every request's latency,
/// `concurrency` at a time, or every byte through the link, whichever is longer (the
/// two overlap: bytes flow for some requests while others wait).
fn network_only(traffic: Traffic, shape: Shape, concurrency: usize) -> Duration {
    let waits = shape.latency.as_secs_f64() * traffic.requests as f64 / concurrency as f64;
    let transfer = shape
        .bandwidth
        .map_or(0.0, |b| traffic.bytes_down as f64 / b as f64);
    Duration::from_secs_f64(waits.max(transfer))
}

/// Round trips of `validate-logs` in S3 that wait on one another before the first log
/// can be asked for: the bucket's location, the listing of `AWSLogs/` (the account's
/// digest folder and its digests are listed beside it), the newest digest.
const ROUND_TRIPS_IN_A_ROW: u64 = 3;

/// [`network_only`] for a client that must first make [`ROUND_TRIPS_IN_A_ROW`] requests
/// one after another, as any client of this layout must: those, then the rest
/// `concurrency` at a time.
fn network_in_order(traffic: Traffic, shape: Shape, concurrency: usize) -> Duration {
    let serial = ROUND_TRIPS_IN_A_ROW.min(traffic.requests);
    let rest = Traffic {
        requests: traffic.requests - serial,
        ..traffic
    };
    shape.latency * serial as u32 + network_only(rest, shape, concurrency)
}

fn describe(shape: Shape) -> String {
    match shape.bandwidth {
        Some(b) => format!("{} ms, {} Mbit/s", shape.latency.as_millis(), b * 8 / 1_000_000),
        None => format!("{} ms, no cap", shape.latency.as_millis()),
    }
}

fn main() {
    cloudtrail_digest_benches::spawner_mode();
    let o = options();
    let binary = release_binary();
    let root = generate(o.hours, 12, o.records);
    network::test_credentials();
    let server = if o.moto {
        Server::moto()
    } else {
        Server::s3s_fs(&repo().join("target/bench-data/s3-network-store"))
    };
    let t = Instant::now();
    network::upload_mirror(&server.endpoint(), &root.join("mirror"), "ctd-bench-spare");
    println!(
        "{}: the trail ({} hours, 12 logs an hour of {} records) uploaded in {:.1}s",
        server.name,
        o.hours,
        o.records,
        t.elapsed().as_secs_f64()
    );
    let python = network::test_python();
    let processors = std::thread::available_parallelism().map_or(1, |n| n.get());
    let local_mirror = repo().join("target/bench-data/s3-network-mirror");

    // The local run every S3 run must print byte for byte.
    let local = {
        let m = measure(locally(&binary, &root, &root.join("mirror"), o.hours)).unwrap();
        assert!(m.status.success());
        m.output.stdout
    };
    let objects = verified(&local);

    let mut shapes = vec![Shape::default()];
    shapes.extend(o.latencies.iter().map(|&ms| Shape {
        latency: Duration::from_millis(ms),
        bandwidth: None,
    }));
    if let Some(&last) = o.latencies.last() {
        shapes.push(Shape {
            latency: Duration::from_millis(last),
            bandwidth: Some(o.bandwidth),
        });
    }
    println!(
        "tool: validate-logs in S3, --max-concurrency {}; whole trail {} digests and logs; AWS CLI and tool side by side on the first {} hours",
        o.concurrency, objects, o.reference_hours
    );
    for shape in shapes {
        let proxy = Proxy::start(server.port, shape);
        let endpoint = proxy.endpoint();
        let whole = run(in_s3(&binary, &root, &endpoint, o.hours, &o), &proxy, &server);
        assert_eq!(whole.stdout, local, "S3 output differs from the local run's");
        let net = network_only(whole.traffic, shape, o.concurrency);
        println!("link {}:", describe(shape));
        let against_network = if net.is_zero() {
            "the server's own rate".to_string()
        } else {
            let in_order = network_in_order(whole.traffic, shape, o.concurrency);
            format!(
                "network alone {:.3} s, the tool {:.2}x that; with {ROUND_TRIPS_IN_A_ROW} round trips in a row first {:.3} s, the tool {:.2}x that",
                net.as_secs_f64(),
                whole.time.as_secs_f64() / net.as_secs_f64(),
                in_order.as_secs_f64(),
                whole.time.as_secs_f64() / in_order.as_secs_f64(),
            )
        };
        println!(
            "  tool, whole trail:     {:>8.3} s  {:>6.1} objects/s  requests {} ({:.3}/object)  {:.1} MB  {against_network}",
            whole.time.as_secs_f64(),
            objects as f64 / whole.time.as_secs_f64(),
            whole.traffic.requests,
            whole.traffic.requests as f64 / objects as f64,
            whole.traffic.bytes_down as f64 / 1e6,
        );
        // What the machine allows: the three processes share its processors.
        let floor = whole.cpu.total().div_f64(processors as f64);
        let floor_in_order = shape.latency * ROUND_TRIPS_IN_A_ROW as u32 + floor;
        println!(
            "  CPU of that run:          tool {:.3} s, server {:.3} s, proxy {:.3} s; on {processors} processors at least {:.3} s, the tool {:.2}x that; with {ROUND_TRIPS_IN_A_ROW} round trips in a row first {:.3} s, the tool {:.2}x that",
            whole.cpu.command.as_secs_f64(),
            whole.cpu.server.as_secs_f64(),
            whole.cpu.proxy.as_secs_f64(),
            floor.as_secs_f64(),
            whole.time.as_secs_f64() / floor.as_secs_f64(),
            floor_in_order.as_secs_f64(),
            whole.time.as_secs_f64() / floor_in_order.as_secs_f64(),
        );
        // mirror, then validate the copy.
        let _ = std::fs::remove_dir_all(&local_mirror);
        let mut mirror = Command::new(&binary);
        mirror
            .arg("mirror")
            .args(["--s3-bucket", BUCKET, "--start-time", "2026-03-01T00:00:00Z"])
            .args(["--end-time", &end_time(o.hours), "--endpoint-url", &endpoint])
            .arg("--dest")
            .arg(&local_mirror);
        let copied = run(mirror, &proxy, &server);
        let checked = run(locally(&binary, &root, &local_mirror, o.hours), &proxy, &server);
        assert_eq!(
            checked.stdout, local,
            "the mirror's output differs from the local run's"
        );
        println!(
            "  mirror + local check:  {:>8.3} s  (mirror {:.3} s, {} requests; check {:.3} s)",
            (copied.time + checked.time).as_secs_f64(),
            copied.time.as_secs_f64(),
            copied.traffic.requests,
            checked.time.as_secs_f64(),
        );
        // The AWS CLI and the tool on the first hours.
        let mut reference = Command::new(&python);
        reference
            .arg(repo().join("tools/reference/run_reference.py"))
            .arg("--mirror")
            .arg(root.join("mirror"))
            .arg("--public-keys")
            .arg(root.join("public-keys.json"))
            .args(["--s3-endpoint", &endpoint, "--"])
            .args(trail_args(&end_time(o.reference_hours)));
        let cli = run(reference, &proxy, &server);
        let ours = run(
            in_s3(&binary, &root, &endpoint, o.reference_hours, &o),
            &proxy,
            &server,
        );
        assert_eq!(ours.stdout, cli.stdout, "output differs from the AWS CLI's");
        let n = verified(&ours.stdout);
        println!(
            "  first {} hours ({} objects): AWS CLI {:.3} s ({} requests), tool {:.3} s ({} requests): {:.1}x faster, identical stdout",
            o.reference_hours,
            n,
            cli.time.as_secs_f64(),
            cli.traffic.requests,
            ours.time.as_secs_f64(),
            ours.traffic.requests,
            cli.time.as_secs_f64() / ours.time.as_secs_f64(),
        );
    }
    let _ = std::fs::remove_dir_all(&local_mirror);
}
