//! What judging one family of chains (those sharing a log folder) needs of the chains
//! judged apart from it, when a merge judges family by family: the few references that
//! cross families, and the valid logs near a gap that other families hold.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::finding::TrailEvent;

/// Where a digest stands in a whole run's order: its chain's label, then its end,
/// bucket and key.
pub(super) type Place = (String, DateTime<Utc>, String, String);

/// What judging some chains needs of the chains judged apart from them (a merge judges
/// one family of chains sharing log folders at a time): the few references that cross
/// families. Empty when every chain is judged at once.
#[derive(Debug, Default)]
pub(super) struct Elsewhere {
    /// Logs that valid digests of other families list: bucket to keys (looked up for
    /// every key of a family's listings, without building a key to look up).
    pub referenced: HashMap<String, HashSet<String>>,
    /// Logs that digests failing verification in other families list, by `(bucket,
    /// key)`: the first such digest's place and key.
    pub unverified: HashMap<(String, String), (Place, String)>,
    /// The valid logs near a gap or truncation found in other families, by the
    /// query's chain label and place among its findings.
    pub near: HashMap<(String, usize), Near>,
}

/// The valid logs nearest a gap or truncation found so far, each side in the order they
/// are searched (nearest first).
#[derive(Debug, Clone, Default)]
pub(super) struct Near {
    pub before: Vec<Candidate>,
    pub after: Vec<Candidate>,
}

/// A valid log that may explain a gap: ordered by delivery time, key, then where it
/// was read (chain label, place among that chain's logs), as one sorted list of every
/// candidate orders them.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub time: DateTime<Utc>,
    pub key: String,
    pub label: String,
    pub pos: usize,
    pub bucket: String,
    /// Its events, when they were taken with it (else looked up at the end).
    pub events: Option<Vec<TrailEvent>>,
}

impl Candidate {
    pub fn order(&self, other: &Candidate) -> Ordering {
        (self.time, &self.key, &self.label, self.pos).cmp(&(other.time, &other.key, &other.label, other.pos))
    }
}
