//! The reference's plan: which digests of one chain scope it lists for a window, per
//! bucket, consumed newest first as the walk moves back.
//!
//! The reference lists a bucket once per (bucket, end of window) and keeps that listing:
//! a walk that follows a chain into another bucket lists it for the window ending at the
//! digest that led there, not the requested end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::error::Error;
use crate::layout::{is_backfill_key, key_stamp, ChainScope};
use crate::source::{ObjectSource, SourceError};
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

/// The listing a walk starts from, asked of the source the way the reference asks: the
/// keys after the start marker, up to the page holding the first key of this scope past
/// the window's end.
fn list_digests(
    source: &dyn ObjectSource,
    scope: &ChainScope,
    bucket: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Listed {
    let last = compact(end + Duration::hours(1));
    source.list_until(
        bucket,
        &scope.listing_prefix(),
        &scope.start_marker(start),
        &|k| scope.matches(k) && key_stamp(k) > last,
    )
}

/// The digest listing a [`Validation`](crate::Validation) starts from, made on a thread
/// of its own before the run asks for it.
///
/// In S3 each listing is a round trip, and a walk cannot list its digests before the
/// chain's folder is settled (`validate-logs` first lists `AWSLogs/` for an organization
/// folder). Start this with the likeliest scope as soon as the bucket is known and hand
/// it to [`Validation::digests_listed_ahead`](crate::Validation::digests_listed_ahead):
/// a run over that scope, bucket and window takes its answer (keys or error) instead of
/// listing; any other run lists as it would have. Dropping it waits for the listing.
pub struct DigestListing {
    scope: ChainScope,
    bucket: String,
    window: (DateTime<Utc>, DateTime<Utc>),
    listed: Mutex<Option<JoinHandle<Listed>>>,
}

/// What a listing answered.
type Listed = Result<Vec<String>, SourceError>;

impl DigestListing {
    /// Starts listing the digests of `scope` in `bucket` that a run over `window` =
    /// (start, end) lists first.
    pub fn start(
        source: Arc<dyn ObjectSource>,
        scope: &ChainScope,
        bucket: &str,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> DigestListing {
        let (thread_scope, thread_bucket) = (scope.clone(), bucket.to_string());
        let listed =
            std::thread::spawn(move || list_digests(source.as_ref(), &thread_scope, &thread_bucket, window));
        DigestListing {
            scope: scope.clone(),
            bucket: bucket.to_string(),
            window,
            listed: Mutex::new(Some(listed)),
        }
    }

    /// The listing's answer, once, when it is the one a run over `scope`, `bucket` and
    /// `window` makes first.
    fn take(
        &self,
        scope: &ChainScope,
        bucket: &str,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Option<Listed> {
        if (scope, bucket, window) != (&self.scope, self.bucket.as_str(), self.window) {
            return None;
        }
        let handle = self.listed.lock().expect("listing lock").take()?;
        Some(handle.join().expect("listing thread"))
    }
}

impl Drop for DigestListing {
    fn drop(&mut self) {
        if let Some(handle) = self.listed.get_mut().expect("listing lock").take() {
            let _ = handle.join();
        }
    }
}

/// The listings of one walk.
pub(crate) struct Listings<'a> {
    source: &'a dyn ObjectSource,
    scope: &'a ChainScope,
    start: DateTime<Utc>,
    /// Fills fields that key stamps lack (the reference uses the window end's date).
    default_date: NaiveDate,
    cached: HashMap<ListingId, Listing>,
    /// The first listing, made ahead.
    ahead: Option<&'a DigestListing>,
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
            ahead: None,
        }
    }

    /// Takes the listing `ahead` made when it is the one asked for.
    pub fn listed_ahead(mut self, ahead: Option<&'a DigestListing>) -> Self {
        self.ahead = ahead;
        self
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
        let window = (self.start, end);
        let keys = match self.ahead.and_then(|a| a.take(scope, bucket, window)) {
            Some(listed) => listed?,
            None => list_digests(self.source, scope, bucket, window)?,
        };
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

#[cfg(test)]
mod tests;
