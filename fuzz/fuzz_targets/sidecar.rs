//! Metadata sidecars beside a digest in a mirror.
#![no_main]
use cloudtrail_digest::internals::parse_metadata_sidecar;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = parse_metadata_sidecar(data) {
        for (k, v) in &entries {
            let _ = (k.len(), v.len());
        }
    }
});
