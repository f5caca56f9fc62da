//! Kernels: RSA signature verification per digest, and inflate+hash throughput of the
//! candidate primitives on a realistic CloudTrail log.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use cloudtrail_digest::internals::RsaPublicKey;
use cloudtrail_digest_benches::{libdeflate_whole, realistic_log, trail_spec, zlib_rs_stream};
use testgen::KeyRing;

fn inflate_and_hash(c: &mut Criterion) {
    let mut group = c.benchmark_group("inflate_hash");
    for records in [50u32, 600] {
        let (gz, inflated) = realistic_log(records);
        let want = zlib_rs_stream(&gz);
        let mut buf = Vec::new();
        assert_eq!(libdeflate_whole(&gz, &mut buf).as_deref(), Some(want.as_str()));
        group.throughput(Throughput::Bytes(inflated.len() as u64));
        let label = format!(
            "{}KiB_x{:.1}",
            inflated.len() / 1024,
            inflated.len() as f64 / gz.len() as f64
        );
        group.bench_with_input(BenchmarkId::new("zlib-rs-stream", &label), &gz, |b, gz| {
            b.iter(|| zlib_rs_stream(gz))
        });
        group.bench_with_input(BenchmarkId::new("libdeflate-whole", &label), &gz, |b, gz| {
            b.iter(|| libdeflate_whole(gz, &mut buf))
        });
        group.bench_with_input(BenchmarkId::new("sha256-only", &label), &inflated, |b, data| {
            b.iter(|| ring::digest::digest(&ring::digest::SHA256, data))
        });
    }
    group.finish();
}

fn rsa_verify(c: &mut Criterion) {
    let keys = KeyRing::test_keys();
    let trail = trail_spec(2, 3, 5).plan().seal(&keys);
    let d = &trail.digests[1];
    let message = d.string_to_sign();
    let signature: Vec<u8> = (0..d.signature.len() / 2)
        .map(|i| u8::from_str_radix(&d.signature[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let der = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(keys.get(d.key_id).public_value())
            .unwrap()
    };
    let key = RsaPublicKey::from_der(&der).unwrap();
    assert!(key.verify(message.as_bytes(), &signature));
    c.bench_function("rsa_verify_digest", |b| {
        b.iter(|| key.verify(message.as_bytes(), &signature))
    });
    c.bench_function("rsa_key_parse", |b| {
        b.iter(|| RsaPublicKey::from_der(&der).unwrap())
    });
}

criterion_group!(benches, inflate_and_hash, rsa_verify);
criterion_main!(benches);
