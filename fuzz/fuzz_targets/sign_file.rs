//! CloudTrail Lake sign files: any bytes as `result_sign.json` beside two result files,
//! checked and worded, locally in memory (keys: the test key 1).
#![no_main]
use cloudtrail_digest::query_results::QueryResults;
use cloudtrail_digest::{query_results_outcome, MemorySource, PublicKeySet};
use libfuzzer_sys::fuzz_target;

const KEYS: &[u8] = include_bytes!("../../testdata/query-results/valid/public-keys.json");

fuzz_target!(|data: &[u8]| {
    let source = MemorySource::new();
    source.create_bucket("b");
    let _ = source.put("b", "q/result_sign.json", data.to_vec());
    let _ = source.put("b", "q/result_1.csv.gz", b"one".to_vec());
    let _ = source.put("b", "q/result_2.csv.gz", b"two".to_vec());
    let mut keys = PublicKeySet::new();
    keys.add_json("keys", KEYS).unwrap();
    let now = cloudtrail_digest::parse_utc("2026-12-06T00:00:00Z").unwrap();
    if let Ok(report) = QueryResults::new(&source, &keys, "b", "q", now).verify() {
        let _ = query_results_outcome(&report, None);
        let _ = query_results_outcome(&report, Some("dir"));
    }
});
