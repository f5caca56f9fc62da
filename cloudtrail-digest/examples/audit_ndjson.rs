//! Audits every chain in a local mirror and writes the findings as NDJSON (one JSON
//! object per line, then one `chain_summary` per chain), exiting with the audit's code
//! (0 complete and valid, 1 integrity failure, 3 incomplete coverage).
//!
//! ```text
//! cargo run -p cloudtrail-digest --example audit_ndjson -- \
//!     testdata/sample/mirror testdata/sample/public-keys.json \
//!     2026-03-01T00:00:00Z 2026-03-02T01:00:00Z 2026-03-03T00:00:00Z
//! ```
//!
//! The last argument is the time taken as "now": digests not yet due then are not missing.

use std::process::ExitCode;

use cloudtrail_digest::audit::Audit;
use cloudtrail_digest::{parse_utc, LocalDir, PublicKeySet};

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mirror, keys_file, start, end, now] = args.as_slice() else {
        return Err("usage: audit_ndjson MIRROR KEYS.json START END NOW".into());
    };
    let mirror = LocalDir::new(mirror)?;
    let mut keys = PublicKeySet::new();
    keys.add_file(keys_file.as_ref())?;
    let window = (parse_utc(start)?, parse_utc(end)?);

    let report = Audit::new(&mirror, &keys, mirror.buckets(), window, parse_utc(now)?)?.run()?;
    report.write_ndjson(&mut std::io::stdout().lock())?;
    Ok(ExitCode::from(report.exit_code() as u8))
}
