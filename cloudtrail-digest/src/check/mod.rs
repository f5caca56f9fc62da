//! Checks: pure functions from what was fetched to verdicts. No source, no clock, no
//! thread: the digest check sequence in the reference's order with the signature source
//! it uses, and a log file's verdict from its hash.

pub(crate) mod digest;
pub(crate) mod log;
pub(crate) mod python;
