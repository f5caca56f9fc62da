//! Digest and log key names, trail ARNs and dates: everything read from a name.
#![no_main]
use cloudtrail_digest::internals::{is_backfill_key, key_stamp};
use cloudtrail_digest::{parse_date, DigestKeyName, TrailArn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = (key_stamp(&text), is_backfill_key(&text));
    if let Some(name) = DigestKeyName::parse(&text) {
        // A name read from the right must be matched by the scope it yields.
        assert!(name.scope.matches(&text), "{text:?}");
        let _ = (
            name.scope.listing_prefix(),
            name.scope.start_marker(chrono::DateTime::UNIX_EPOCH),
        );
    }
    if let Ok(arn) = TrailArn::parse(&text) {
        assert!(!arn.trail_name.is_empty() || text.ends_with('/'));
    }
    let default = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    if let Ok(d) = parse_date(&text, default) {
        let _ = (d.to_utc(), d.to_utc_ignoring_offset());
    }
});
