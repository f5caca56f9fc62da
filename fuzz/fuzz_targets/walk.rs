//! The validator over one digest of arbitrary bytes (and arbitrary metadata), as the
//! newest of a chain: whatever it holds, a verdict or a fatal error, never a panic.
#![no_main]
use std::io::Read;

use cloudtrail_digest::{
    ChainScope, MetadataOrigin, ObjectSource, PublicKeySet, SourceError, SourceErrorKind, TrailArn,
    Validation,
};
use cloudtrail_digest::{Metadata, Object};
use libfuzzer_sys::fuzz_target;

const KEY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20260301T011742Z.json.gz";

struct One {
    body: Vec<u8>,
    signature: String,
}

impl ObjectSource for One {
    fn list_until(
        &self,
        _: &str,
        prefix: &str,
        after: &str,
        _: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        Ok(if KEY.starts_with(prefix) && KEY > after {
            vec![KEY.to_string()]
        } else {
            Vec::new()
        })
    }
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        if key != KEY {
            return Err(SourceError::new(
                SourceErrorKind::NotFound,
                bucket,
                key,
                "NoSuchKey",
            ));
        }
        let entries = [
            ("signature", self.signature.as_str()),
            ("signature-algorithm", "SHA256withRSA"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Ok(Object {
            body: self.body.clone(),
            metadata: Metadata {
                entries,
                origin: Some(MetadataOrigin::Service),
            },
        })
    }
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        Err(SourceError::new(
            SourceErrorKind::NotFound,
            bucket,
            key,
            "NoSuchKey",
        ))
    }
}

fuzz_target!(|data: &[u8]| {
    let (signature, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            data[i + 1..].to_vec(),
        ),
        None => (String::new(), data.to_vec()),
    };
    let source = One { body, signature };
    let mut keys = PublicKeySet::new();
    keys.add_json(
        "k",
        include_bytes!("../../testdata/scenarios/clean-chain/public-keys.json"),
    )
    .unwrap();
    let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/t").unwrap();
    let window = (
        cloudtrail_digest::parse_utc("2026-03-01T00:00:00Z").unwrap(),
        cloudtrail_digest::parse_utc("2026-03-01T02:00:00Z").unwrap(),
    );
    let v = Validation::new(&source, &keys, ChainScope::for_trail(&arn), "b", window)
        .unwrap()
        .jobs(1);
    let _ = v.run(&mut |_| {});
});
