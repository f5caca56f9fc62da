//! Validates one trail in a local mirror and prints what `aws cloudtrail validate-logs`
//! would print, exiting 1 when anything is invalid.
//!
//! ```text
//! cargo run -p cloudtrail-digest --example validate_mirror -- \
//!     testdata/sample/mirror testdata/sample/public-keys.json \
//!     arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail ctd-sample-bucket \
//!     2026-03-01T00:00:00Z 2026-03-02T01:00:00Z
//! ```

use std::process::ExitCode;

use cloudtrail_digest::{parse_utc, ChainScope, LocalDir, PublicKeySet, TextReport, TrailArn, Validation};

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mirror, keys_file, arn, bucket, start, end] = args.as_slice() else {
        return Err("usage: validate_mirror MIRROR KEYS.json TRAIL_ARN BUCKET START END".into());
    };
    let mirror = LocalDir::new(mirror)?;
    let mut keys = PublicKeySet::new();
    keys.add_file(keys_file.as_ref())?;
    let arn = TrailArn::parse(arn)?;
    let window = (parse_utc(start)?, parse_utc(end)?);

    let mut report = TextReport::new(std::io::stdout(), std::io::stderr(), false);
    report.header(&arn.arn, window.0, window.1)?;
    let validation = Validation::new(&mirror, &keys, ChainScope::for_trail(&arn), bucket, window)?;
    let mut failed_write = None;
    let summary = validation.run(&mut |event| {
        if let Err(e) = report.event(event) {
            failed_write.get_or_insert(e);
        }
    })?;
    if let Some(e) = failed_write {
        return Err(e.into());
    }
    report.summary(window.0, window.1, &summary)?;
    Ok(if summary.has_failures() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
