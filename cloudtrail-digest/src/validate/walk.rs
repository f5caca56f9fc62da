//! The reference's chain walk, rule for rule, quirks included: the newest listed digest
//! starts the walk; valid digests lead to the previous one they name; missing or invalid
//! ones lead to the next older *listed* key; a starting digest with older keys listed is
//! a gap.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::Validation;
use crate::check::digest::{self, Checked, KeyRing, Parsed, Profile};
use crate::error::Error;
use crate::fetch::{source_verdict, Fetch, Halt, Sink};
use crate::keys::{PublicKey, PublicKeyProvider};
use crate::layout::is_backfill_key;
use crate::plan::listing::{Cursor, ListingId, Listings};
use crate::time::{display, parse_recorded};
use crate::verdict::{DigestVerdict, Event, Pass};

/// A digest that passed every check.
struct VerifiedDigest {
    parsed: Parsed,
    checked: Checked,
}

pub(super) struct Walk<'v, 's> {
    v: &'v Validation<'v>,
    listings: Listings<'v>,
    /// Signatures that digests record for their predecessors.
    recovered: HashMap<(String, String), String>,
    sink: &'s mut dyn Sink,
    fetch: &'s dyn Fetch,
}

/// The keys of one pass: the window's for hourly digests; for backfill digests, those
/// around each one's generation time, looked up as the reference does when first needed.
struct PassKeys<'a> {
    provider: &'a dyn PublicKeyProvider,
    pass: Pass,
    default_date: NaiveDate,
    keys: BTreeMap<String, PublicKey>,
}

impl KeyRing for PassKeys<'_> {
    fn keys_for(
        &mut self,
        fingerprint: Option<&str>,
        backfill_generation: Option<&str>,
    ) -> Result<Result<&BTreeMap<String, PublicKey>, DigestVerdict>, Error> {
        let known = fingerprint.is_some_and(|f| self.keys.contains_key(f));
        if !known && self.pass == Pass::Backfill {
            let text = backfill_generation.unwrap_or_default();
            let Ok(at) = parse_recorded(text, self.default_date) else {
                return Ok(Err(DigestVerdict::UnparseableDate(text.to_string())));
            };
            match keys_or_fail(self.provider, at - Duration::hours(1), at + Duration::hours(1)) {
                Ok(found) => self.keys.extend(found),
                Err(Error::NoPublicKeys { start, end }) => {
                    return Ok(Err(DigestVerdict::NoPublicKeys { start, end }))
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Ok(&self.keys))
    }
}

/// The keys valid between `start` and `end`; none at all is fatal, as in the reference.
fn keys_or_fail(
    provider: &dyn PublicKeyProvider,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<BTreeMap<String, PublicKey>, Error> {
    let keys = provider.keys_between(start, end)?;
    if keys.is_empty() {
        return Err(Error::NoPublicKeys {
            start: display(start),
            end: display(end),
        });
    }
    Ok(keys)
}

impl<'v, 's> Walk<'v, 's> {
    pub(super) fn new(v: &'v Validation<'v>, sink: &'s mut dyn Sink, fetch: &'s dyn Fetch) -> Self {
        Walk {
            v,
            listings: Listings::new(v.source, &v.scope, v.start, v.end.date_naive())
                .listed_ahead(v.listed_ahead),
            recovered: HashMap::new(),
            sink,
            fetch,
        }
    }

    /// Standard digests, then backfill digests.
    pub(super) fn run(&mut self) -> Result<(), Halt> {
        self.traverse(Pass::Standard)?;
        self.traverse(Pass::Backfill)
    }

    fn report(&mut self, event: Event) -> Result<(), Halt> {
        self.sink.event(event)
    }

    /// Tells the fetcher which listed digests come next: the digest needed now, then the
    /// listed ones older than it, newest first, as the walk goes. A walk that follows
    /// each digest's link to the previous one does not pop the listing, so the keys
    /// newer than the one needed now (already walked) are skipped: hinting them again
    /// fetched them again and left the walk to fetch every older digest itself, one
    /// round trip at a time.
    fn hint_upcoming(&self, now: (&str, &str), listing: &ListingId, pass: Pass) {
        let depth = self.v.prefetch;
        if depth == 0 {
            return;
        }
        let current = (now.0.to_string(), now.1.to_string());
        let upcoming = std::iter::once(current)
            .chain(
                self.listings
                    .upcoming(listing, pass)
                    .skip_while(|k| k.as_str() >= now.1)
                    .map(|k| (listing.0.clone(), k.clone())),
            )
            .take(depth)
            .collect();
        self.fetch.hint(upcoming);
    }

    fn traverse(&mut self, pass: Pass) -> Result<(), Halt> {
        let start = self.v.start;
        let mut bucket = self.v.bucket.clone();
        let mut listing = self.listings.load(&bucket, self.v.end)?;
        let mut keys = PassKeys {
            provider: self.v.keys,
            pass,
            default_date: self.v.end.date_naive(),
            keys: match pass {
                Pass::Standard => keys_or_fail(self.v.keys, start, self.v.end + Duration::hours(2))?,
                _ => BTreeMap::new(),
            },
        };
        let (mut key, mut last_start): Cursor = self.listings.older(&listing, pass, None)?;
        while let (Some(k), Some(ls)) = (key.clone(), last_start) {
            if start > ls {
                break;
            }
            self.hint_upcoming((&bucket, &k), &listing, pass);
            let digest = match self.load_and_check(&mut keys, &bucket, &k)? {
                Ok(digest) => digest,
                Err(verdict) => {
                    self.report(Event::DigestInvalid {
                        pass,
                        bucket: bucket.clone(),
                        key: k.clone(),
                        verdict,
                    })?;
                    (key, _) = self.listings.older(&listing, pass, Some(&k))?;
                    continue;
                }
            };
            last_start = Some(digest.checked.walk_start);
            self.accept(pass, &bucket, &k, &digest)?;
            match digest::previous_link(&digest.parsed.digest, (&bucket, &k))? {
                None => {
                    let next_date;
                    (key, next_date) = self.listings.older(&listing, pass, Some(&k))?;
                    if let (Some(_), Some(from)) = (&key, next_date) {
                        let to = digest.checked.walk_start;
                        self.report(Event::Gap { pass, from, to })?;
                    }
                }
                Some((prev_bucket, prev_key)) => {
                    key = Some(prev_key);
                    if prev_bucket != bucket {
                        // The reference relists for the window ending at this digest's
                        // end, not the requested end.
                        bucket = prev_bucket;
                        listing = self.listings.load(&bucket, digest.checked.end)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Reports a verified digest and checks its logs.
    fn accept(&mut self, pass: Pass, bucket: &str, key: &str, digest: &VerifiedDigest) -> Result<(), Halt> {
        self.report(Event::DigestValid {
            pass,
            bucket: bucket.to_string(),
            key: key.to_string(),
            start: digest.checked.start,
            end: digest.checked.end,
            fingerprint: digest.checked.fingerprint.clone(),
            signature: digest.checked.signature,
        })?;
        for job in digest::listed_logs_strict(&digest.parsed.digest, (bucket, key))? {
            self.sink.log(job)?;
        }
        Ok(())
    }

    /// Fetches one digest and runs the checks in the reference's order. `Ok(Err(_))` is
    /// a verdict.
    fn load_and_check(
        &mut self,
        keys: &mut PassKeys<'_>,
        bucket: &str,
        key: &str,
    ) -> Result<Result<VerifiedDigest, DigestVerdict>, Error> {
        let object = match self.fetch.get(bucket, key) {
            Ok(o) => o,
            Err(e) => return source_verdict(e, DigestVerdict::NotFound, DigestVerdict::Refused).map(Err),
        };
        let parsed = match digest::parse(&object) {
            Ok(p) => p,
            Err(verdict) => return Ok(Err(verdict)),
        };
        if let Some((b, k, sig)) = parsed.records_previous() {
            self.recovered.insert((b, k), sig);
        }
        let recorded = self.recovered.get(&(bucket.to_string(), key.to_string()));
        let signature = match digest::select_signature(
            &parsed,
            recorded.map(String::as_str),
            self.v.recover_signatures,
        ) {
            Ok(s) => s,
            Err(verdict) => return Ok(Err(verdict)),
        };
        let profile = Profile::Reference {
            default_date: self.v.end.date_naive(),
        };
        let checked = digest::check(
            &parsed,
            (bucket, key),
            (&signature.0, signature.1),
            is_backfill_key(key),
            keys,
            profile,
            &self.v.scope.home_region,
        )?;
        Ok(checked.map(|checked| VerifiedDigest { parsed, checked }))
    }
}
