//! Logs: the fast (libdeflate) and streaming (zlib) paths must always agree.
#![no_main]
use cloudtrail_digest::internals::{inflate_and_hash_log, inflate_and_hash_log_streaming};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fast = inflate_and_hash_log(data).expect("reading memory cannot fail");
    let streaming = inflate_and_hash_log_streaming(data).expect("reading memory cannot fail");
    assert_eq!(fast, streaming);
});
