//! `testgen` writes really signed AWS CloudTrail trails for tests and benchmarks.
//!
//! The output is what CloudTrail itself delivers to S3, byte for byte in format:
//! gzip'd digest files (compact JSON, fixed field order, `/` escaped as `\/`) signed
//! with RSASSA-PKCS1-v1_5 / SHA-256 over CloudTrail's string to sign, their S3 user
//! metadata as `KEY.metadata.json` sidecars, gzip'd log files whose SHA-256 the digests
//! record, and the matching `list-public-keys` answer. The layout of a mirror and of a
//! scenario tree is specified in `testdata/FORMAT.md`.
//!
//! Everything is deterministic: a small self-written PRNG ([`rng::Rng`]) seeded from
//! the spec drives all choices, gzip headers are fixed (mtime 0, no name, OS byte 0)
//! and PKCS#1 v1.5 signatures are deterministic, so regenerating rewrites identical
//! bytes.
//!
//! ```no_run
//! use testgen::{KeyRing, TrailSpec, times::utc};
//!
//! let keys = KeyRing::test_keys();
//! let mut spec = TrailSpec::new("111122223333", "test-trail", "my-bucket", utc(2026, 3, 1, 0, 17, 42));
//! spec.hours = 8;
//! let mut plan = spec.plan();
//! plan.digests[3].key = testgen::KeyId::Two; // sign one digest with the other key
//! let mut trail = plan.seal(&keys);
//! trail.delete_digest(5); // post-hoc damage
//! trail.write_to(std::path::Path::new("/tmp/mirror")).unwrap();
//! ```
//!
//! Modules: [`trail`] (spec, plan, seal, mutate, write), [`digest`] (digest JSON and
//! string to sign), [`records`] (log contents), [`layout`] (object keys), [`keys`]
//! (test keys, `public-keys.json`), [`scenarios`] (the scenario trees and the sample),
//! and the helpers [`rng`], [`json`], [`gzip`], [`times`].

#![warn(missing_docs)]

pub mod audit_scenarios;
pub mod digest;
pub mod gzip;
pub mod json;
pub mod keys;
pub mod layout;
pub mod query_results;
pub mod records;
pub mod rng;
pub mod scenarios;
pub mod times;
pub mod trail;

pub use keys::{render_public_keys, KeyId, KeyRing, PublicKeyEntry, PublicKeysShape, SigningKey};
pub use layout::Layout;
pub use trail::{
    Count, Digest, LogObject, Metadata, PlannedDigest, PlannedLog, Trail, TrailPlan, TrailSpec, WriteStats,
};
