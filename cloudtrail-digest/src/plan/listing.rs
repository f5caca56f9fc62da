//! The reference's plan: which digests of one chain scope it lists for a window, per
//! bucket, consumed newest first as the walk moves back.
//!
//! The reference lists a bucket once per (bucket, end of window) and keeps that listing:
//! a walk that follows a chain into another bucket lists it for the window ending at the
//! digest that led there, not the requested end.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::error::Error;
use crate::layout::{is_backfill_key, key_stamp, ChainScope};
use crate::source::ObjectSource;
use crate::time::{compact, parse_recorded};
use crate::verdict::Pass;

/// Listed digest keys of one bucket, standard and backfill, consumed from the end.
#[derive(Default)]
struct Listing {
    standard: Vec<String>,
    backfill: Vec<String>,
}

impl Listing {
    fn keys(&mut self, pass: Pass) -> &mut Vec<String> {
        match pass {
            Pass::Backfill => &mut self.backfill,
            _ => &mut self.standard,
        }
    }
}

/// Which listing a cursor reads: `(bucket, end of the window it was made for)`.
pub(crate) type ListingId = (String, DateTime<Utc>);

/// A listed key and the time its stamp says, or nothing left.
pub(crate) type Cursor = (Option<String>, Option<DateTime<Utc>>);

/// The listings of one walk.
pub(crate) struct Listings<'a> {
    source: &'a dyn ObjectSource,
    scope: &'a ChainScope,
    start: DateTime<Utc>,
    /// Fills fields that key stamps lack (the reference uses the window end's date).
    default_date: NaiveDate,
    cached: HashMap<ListingId, Listing>,
}

impl<'a> Listings<'a> {
    /// Listings of `scope`'s digests for windows starting at `start`.
    pub fn new(
        source: &'a dyn ObjectSource,
        scope: &'a ChainScope,
        start: DateTime<Utc>,
        default_date: NaiveDate,
    ) -> Self {
        Listings {
            source,
            scope,
            start,
            default_date,
            cached: HashMap::new(),
        }
    }

    /// Lists a bucket's digest keys of this scope for the window ending at `end`, once
    /// per (bucket, end). Returns the cache key.
    pub fn load(&mut self, bucket: &str, end: DateTime<Utc>) -> Result<ListingId, Error> {
        let id = (bucket.to_string(), end);
        if self.cached.contains_key(&id) {
            return Ok(id);
        }
        let scope = self.scope;
        let first = compact(self.start);
        let last = compact(end + Duration::hours(1));
        // As the reference's scan, the listing may stop at the first matching key past `last`.
        let keys = self.source.list_until(
            bucket,
            &scope.listing_prefix(),
            &scope.start_marker(self.start),
            &|k| scope.matches(k) && key_stamp(k) > last,
        )?;
        let mut listing = Listing::default();
        for key in keys {
            if !scope.matches(&key) {
                continue;
            }
            let stamp = key_stamp(&key);
            if stamp > last {
                break;
            }
            if stamp < first {
                continue;
            }
            if is_backfill_key(&key) {
                listing.backfill.push(key);
            } else {
                listing.standard.push(key);
            }
        }
        self.cached.insert(id.clone(), listing);
        Ok(id)
    }

    /// The keys still listed, newest first.
    pub fn upcoming(&self, id: &ListingId, pass: Pass) -> impl Iterator<Item = &String> {
        self.cached.get(id).into_iter().flat_map(move |l| {
            match pass {
                Pass::Backfill => &l.backfill,
                _ => &l.standard,
            }
            .iter()
            .rev()
        })
    }

    /// Pops listed keys until one is older (by stamp) than `before`; with no `before`,
    /// takes the newest.
    pub fn older(&mut self, id: &ListingId, pass: Pass, before: Option<&str>) -> Result<Cursor, Error> {
        let default_date = self.default_date;
        let stamp_time = |k: &str| parse_recorded(&key_stamp(k), default_date);
        let keys = self
            .cached
            .get_mut(id)
            .expect("listing loaded before use")
            .keys(pass);
        if keys.is_empty() {
            return Ok((None, None));
        }
        let Some(before) = before else {
            let k = keys.pop().expect("not empty");
            let t = stamp_time(&k)?;
            return Ok((Some(k), Some(t)));
        };
        let limit = stamp_time(before)?;
        while let Some(k) = keys.pop() {
            let t = stamp_time(&k)?;
            if t < limit {
                return Ok((Some(k), Some(t)));
            }
        }
        Ok((None, None))
    }
}
