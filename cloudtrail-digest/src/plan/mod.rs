//! Plans: which digests (and so which logs) a run reads, for a scope and a window.
//!
//! - [`listing`]: the reference's plan for one chain scope, listed per bucket as its walk
//!   needs it (`validate-logs`).
//! - [`window`]: every digest of the window in every chain of a set of buckets (`audit`),
//!   and the day folders a window spans (`audit`, `mirror`).

pub(crate) mod listing;
pub(crate) mod window;

pub use window::ChainFilter;
