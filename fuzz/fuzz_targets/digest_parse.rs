//! Digest objects: gzip + JSON, then every field view.
#![no_main]
use cloudtrail_digest::Digest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for parsed in [Digest::from_gzip(data), Digest::from_inflated(data.to_vec())] {
        if let Ok(d) = parsed {
            let _ = (
                d.start_time(),
                d.end_time(),
                d.fingerprint(),
                d.previous(),
                d.previous_signature(),
            );
            let _ = (
                d.previous_hash(),
                d.log_files(),
                d.sha256_hex(),
                d.fields().map(|f| f.len()),
            );
        }
    }
});
