//! Walking digest chains the way the reference does, verifying each digest and the logs
//! it lists.
//!
//! The walk reproduces the reference's rules exactly, quirks included: the newest listed
//! digest starts the walk; valid digests lead to the previous one they name; missing or
//! invalid ones lead to the next older *listed* key; a starting digest with older keys
//! listed is a gap. The listing of a bucket is cached per (bucket, end) and consumed as
//! the walk moves back, as the reference's is.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::digest::Digest;
use crate::keyname::{is_backfill_key, key_stamp, ChainScope};
use crate::keys::{PublicKey, PublicKeyProvider};
use crate::logcheck::{check_log, source_verdict, LogJob};
use crate::source::{Object, ObjectSource, SourceError};
use crate::time::{compact, display, parse_recorded, parse_recorded_converting};
use crate::verdict::{DigestVerdict, Event, Pass, SignatureSource, Summary};
use crate::verify::{decode_signature_hex, string_to_sign, RsaPublicKey};
use crate::Error;

/// Fields a digest must have before anything else is checked, in the reference's order.
pub(crate) const REQUIRED_FIELDS: [&str; 6] = [
    "digestPublicKeyFingerprint",
    "digestS3Bucket",
    "digestS3Object",
    "previousDigestSignature",
    "digestEndTime",
    "digestStartTime",
];

/// One validation run over one chain scope and time window.
///
/// ```no_run
/// # use cloudtrail_digest::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mirror = LocalDir::new("evidence")?;
/// let mut keys = PublicKeySet::new();
/// keys.add_file("keys.json".as_ref())?;
/// let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/t")?;
/// let window = (parse_utc("2026-03-01T00:00:00Z")?, parse_utc("2026-03-02T00:00:00Z")?);
/// let summary = Validation::new(&mirror, &keys, ChainScope::for_trail(&arn), "my-bucket", window)?
///     .run(&mut |event| println!("{event:?}"))?;
/// assert!(!summary.has_failures());
/// # Ok(()) }
/// ```
pub struct Validation<'a> {
    source: &'a dyn ObjectSource,
    keys: &'a dyn PublicKeyProvider,
    scope: ChainScope,
    bucket: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    recover_signatures: bool,
    accept_decompressed_logs: bool,
    jobs: usize,
    prefetch: usize,
}

impl<'a> Validation<'a> {
    /// A run over digests of `scope` starting in `bucket`, for `window` = (start, end),
    /// both inclusive. Fails when start is after end.
    pub fn new(
        source: &'a dyn ObjectSource,
        keys: &'a dyn PublicKeyProvider,
        scope: ChainScope,
        bucket: &str,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Self, Error> {
        if window.0 > window.1 {
            return Err(Error::InvalidTimeRange);
        }
        Ok(Validation {
            source,
            keys,
            scope,
            bucket: bucket.to_string(),
            start: window.0,
            end: window.1,
            recover_signatures: true,
            accept_decompressed_logs: true,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            prefetch: 16,
        })
    }

    /// Whether a digest without signature metadata may use the `previousDigestSignature`
    /// recorded by the digest that follows it (default: yes). The signature is
    /// verified all the same.
    pub fn recover_signatures(mut self, yes: bool) -> Self {
        self.recover_signatures = yes;
        self
    }

    /// Whether a log stored already decompressed is accepted when its bytes hash to the
    /// recorded value (default: yes). The reference reports it as invalid format.
    pub fn accept_decompressed_logs(mut self, yes: bool) -> Self {
        self.accept_decompressed_logs = yes;
        self
    }

    /// How many log files are read, inflated and hashed at once (default: one per
    /// core). With 1 everything runs on the calling thread. Output is the same either way.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// How many digests, by the listing's order, are fetched ahead of need when running
    /// with more than one job (default 16).
    pub fn prefetch(mut self, digests: usize) -> Self {
        self.prefetch = digests;
        self
    }

    pub(crate) fn source(&self) -> &dyn ObjectSource {
        self.source
    }

    pub(crate) fn job_count(&self) -> usize {
        self.jobs
    }

    pub(crate) fn prefetch_depth(&self) -> usize {
        self.prefetch
    }

    pub(crate) fn accepts_decompressed_logs(&self) -> bool {
        self.accept_decompressed_logs
    }

    /// Walks standard digests, then backfill digests, calling `emit` for each event in
    /// the reference's order. Returns the totals, or the fatal error that stopped the run
    /// (events emitted before it stand).
    pub fn run(&self, emit: &mut dyn FnMut(&Event)) -> Result<Summary, Error> {
        let window = (self.start, self.end);
        let mut summary = Summary::default();
        let mut deliver = |event: &Event| {
            summary.record(event, window);
            emit(event);
        };
        if self.jobs <= 1 {
            let mut sink = InlineSink {
                v: self,
                deliver: &mut deliver,
            };
            match Walk::new(self, &mut sink, &DirectFetch(self.source)).run() {
                Ok(()) | Err(Halt::Cancelled) => {}
                Err(Halt::Fatal(e)) => return Err(e),
            }
        } else {
            crate::pipeline::run(self, &mut deliver)?;
        }
        Ok(summary)
    }
}

/// Why a walk stopped before its end.
pub(crate) enum Halt {
    /// A fatal error, to be reported.
    Fatal(Error),
    /// Whoever consumes the walk's output stopped listening (after a fatal error of its own).
    Cancelled,
}

impl From<Error> for Halt {
    fn from(e: Error) -> Self {
        Halt::Fatal(e)
    }
}

/// Where a walk's output goes, in order.
pub(crate) trait Sink {
    /// A digest or gap event.
    fn event(&mut self, event: Event) -> Result<(), Halt>;
    /// A log file to check; its event must come out in this position.
    fn log(&mut self, job: LogJob) -> Result<(), Halt>;
}

/// How a walk gets digest objects.
pub(crate) trait Fetch {
    /// The object, now.
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError>;
    /// The digests likely needed next, soonest first.
    fn hint(&self, _upcoming: Vec<(String, String)>) {}
}

struct DirectFetch<'a>(&'a dyn ObjectSource);

impl Fetch for DirectFetch<'_> {
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        self.0.get(bucket, key)
    }
}

/// Single-threaded: check each log as it comes.
struct InlineSink<'a, 'd> {
    v: &'a Validation<'a>,
    deliver: &'d mut dyn FnMut(&Event),
}

impl Sink for InlineSink<'_, '_> {
    fn event(&mut self, event: Event) -> Result<(), Halt> {
        (self.deliver)(&event);
        Ok(())
    }

    fn log(&mut self, job: LogJob) -> Result<(), Halt> {
        let verdict = check_log(self.v.source, &job, self.v.accept_decompressed_logs)?;
        (self.deliver)(&Event::Log {
            bucket: job.bucket,
            key: job.key,
            verdict,
        });
        Ok(())
    }
}

impl ChainScope {
    /// The scope the reference validates for a trail: its account, name and home region,
    /// delivered by the home region, no prefix, no organization.
    pub fn for_trail(arn: &crate::TrailArn) -> ChainScope {
        ChainScope {
            prefix: None,
            organization_id: None,
            account_id: arn.account_id.clone(),
            source_region: arn.home_region.clone(),
            trail_name: arn.trail_name.clone(),
            home_region: arn.home_region.clone(),
        }
    }
}

/// A digest that passed every check.
struct VerifiedDigest {
    digest: Digest,
    end: DateTime<Utc>,
    fingerprint: String,
    signature: SignatureSource,
}

impl VerifiedDigest {
    fn fields(&self) -> &Map<String, Value> {
        self.digest.fields().expect("only JSON objects verify")
    }
}

/// Listed digest keys of one bucket, standard and backfill, consumed from the end.
#[derive(Default)]
struct Listing {
    standard: Vec<String>,
    backfill: Vec<String>,
}

pub(crate) struct Walk<'v, 's> {
    v: &'v Validation<'v>,
    /// Listings by (bucket, end time they were made for), as the reference caches them.
    listings: HashMap<(String, DateTime<Utc>), Listing>,
    /// Signatures that digests record for their predecessors.
    recovered: HashMap<(String, String), String>,
    sink: &'s mut dyn Sink,
    fetch: &'s dyn Fetch,
}

type Cursor = (Option<String>, Option<DateTime<Utc>>);

impl<'v, 's> Walk<'v, 's> {
    pub(crate) fn new(v: &'v Validation<'v>, sink: &'s mut dyn Sink, fetch: &'s dyn Fetch) -> Self {
        Walk {
            v,
            listings: HashMap::new(),
            recovered: HashMap::new(),
            sink,
            fetch,
        }
    }

    /// Standard digests, then backfill digests.
    pub(crate) fn run(&mut self) -> Result<(), Halt> {
        self.traverse(Pass::Standard)?;
        self.traverse(Pass::Backfill)
    }

    fn report(&mut self, event: Event) -> Result<(), Halt> {
        self.sink.event(event)
    }

    /// Tells the fetcher which listed digests come next (the listing is consumed from
    /// its end, newest first).
    /// The digest needed now comes first: it may already be popped from the listing.
    fn hint_upcoming(&self, now: (&str, &str), listing: &(String, DateTime<Utc>), pass: Pass) {
        let depth = self.v.prefetch;
        if depth == 0 {
            return;
        }
        let Some(entry) = self.listings.get(listing) else {
            return;
        };
        let keys = match pass {
            Pass::Standard => &entry.standard,
            Pass::Backfill => &entry.backfill,
        };
        let current = (now.0.to_string(), now.1.to_string());
        let upcoming = std::iter::once(current.clone())
            .chain(
                keys.iter()
                    .rev()
                    .map(|k| (listing.0.clone(), k.clone()))
                    .filter(|id| *id != current),
            )
            .take(depth)
            .collect();
        self.fetch.hint(upcoming);
    }

    fn default_date(&self) -> NaiveDate {
        self.v.end.date_naive()
    }

    fn traverse(&mut self, pass: Pass) -> Result<(), Halt> {
        let start = self.v.start;
        let mut bucket = self.v.bucket.clone();
        let mut listing = self.load_listing(&bucket, self.v.end)?;
        let mut public_keys = match pass {
            Pass::Standard => self.keys_or_fail(start, self.v.end + Duration::hours(2))?,
            Pass::Backfill => BTreeMap::new(),
        };
        let (mut key, mut last_start) = self.older_listed(&listing, pass, None)?;
        while let (Some(k), Some(ls)) = (key.clone(), last_start) {
            if start > ls {
                break;
            }
            self.hint_upcoming((&bucket, &k), &listing, pass);
            let verdict = match self.load_and_verify(&mut public_keys, &bucket, &k, pass)? {
                Ok(digest) => {
                    let start_text = digest.fields().get("digestStartTime");
                    match start_text
                        .and_then(Value::as_str)
                        .map(|t| parse_recorded(t, self.default_date()))
                    {
                        Some(Ok(s)) => {
                            last_start = Some(s);
                            self.accept(pass, &bucket, &k, &digest)?;
                            match previous_link(digest.fields(), &bucket, &k)? {
                                None => {
                                    let next_date;
                                    (key, next_date) = self.older_listed(&listing, pass, Some(&k))?;
                                    if let (Some(_), Some(from)) = (&key, next_date) {
                                        self.report(Event::Gap { pass, from, to: s })?;
                                    }
                                }
                                Some((prev_bucket, prev_key)) => {
                                    key = Some(prev_key);
                                    if prev_bucket != bucket {
                                        // The reference relists for the window ending at
                                        // this digest's end, not the requested end.
                                        bucket = prev_bucket;
                                        listing = self.load_listing(&bucket, digest.end)?;
                                    }
                                }
                            }
                            continue;
                        }
                        Some(Err(_)) => DigestVerdict::Other(format!(
                            "Unable to parse date value: {}",
                            start_text.map(python_str).unwrap_or_default()
                        )),
                        None => DigestVerdict::Other(format!(
                            "Parser must be a string or character stream, not {}",
                            start_text.map(python_type).unwrap_or("NoneType")
                        )),
                    }
                }
                Err(verdict) => verdict,
            };
            self.report(Event::DigestInvalid {
                pass,
                bucket: bucket.clone(),
                key: k.clone(),
                verdict,
            })?;
            (key, _) = self.older_listed(&listing, pass, Some(&k))?;
        }
        Ok(())
    }

    /// Reports a verified digest and checks its logs.
    fn accept(&mut self, pass: Pass, bucket: &str, key: &str, digest: &VerifiedDigest) -> Result<(), Halt> {
        let start = digest
            .fields()
            .get("digestStartTime")
            .and_then(Value::as_str)
            .and_then(|t| parse_recorded_converting(t, self.default_date()).ok())
            .unwrap_or(digest.end);
        self.report(Event::DigestValid {
            pass,
            bucket: bucket.to_string(),
            key: key.to_string(),
            start,
            end: digest.end,
            fingerprint: digest.fingerprint.clone(),
            signature: digest.signature,
        })?;
        let logs = match digest.fields().get("logFiles") {
            None => return Err(Error::DigestField { field: "logFiles" }.into()),
            Some(v) if python_falsy(v) => return Ok(()),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(Error::MalformedDigest {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    reason: format!("logFiles is not a list: {other}"),
                }
                .into())
            }
        };
        for entry in logs {
            let job = log_job(bucket, key, entry)?;
            self.sink.log(job)?;
        }
        Ok(())
    }

    /// Fetches and checks one digest in the reference's order. `Ok(Err(_))` is a verdict.
    fn load_and_verify(
        &mut self,
        public_keys: &mut BTreeMap<String, PublicKey>,
        bucket: &str,
        key: &str,
        pass: Pass,
    ) -> Result<Result<VerifiedDigest, DigestVerdict>, Error> {
        let object = match self.fetch.get(bucket, key) {
            Ok(o) => o,
            Err(e) => {
                return source_verdict(e, DigestVerdict::NotFound, DigestVerdict::Refused).map(Err);
            }
        };
        let digest = match Digest::from_gzip(&object.body) {
            Ok(d) => d,
            Err(e) => return Ok(Err(e.into())),
        };
        // Remember the signature this digest records for its predecessor, verified or not:
        // a recovered signature is checked against the key like any other, so where it
        // came from cannot make a forgery pass.
        if let (Some(sig), Some((b, k))) = (digest.previous_signature(), digest.previous()) {
            self.recovered
                .insert((b.to_string(), k.to_string()), sig.to_string());
        }
        let meta = &object.metadata.entries;
        let (signature, source) = match (
            meta.get("signature"),
            meta.get("signature-algorithm"),
            object.metadata.origin,
        ) {
            (Some(sig), Some(_), Some(origin)) => (sig.clone(), SignatureSource::Metadata(origin)),
            _ => match self.recovered.get(&(bucket.to_string(), key.to_string())) {
                Some(sig) if self.v.recover_signatures => {
                    (sig.clone(), SignatureSource::RecoveredFromSuccessor)
                }
                _ => return Ok(Err(DigestVerdict::SignatureFailed { no_signature: true })),
            },
        };
        let Some(fields) = digest.fields() else {
            return Ok(Err(DigestVerdict::Other(python_item_assignment_error(
                digest.value(),
            ))));
        };
        let generation_time = if is_backfill_key(key) {
            match meta.get("backfill-generation-timestamp") {
                Some(t) => Some(t.clone()),
                None => return Ok(Err(DigestVerdict::InvalidFormat)),
            }
        } else {
            None
        };
        if REQUIRED_FIELDS.iter().any(|f| !fields.contains_key(*f)) {
            return Ok(Err(DigestVerdict::InvalidFormat));
        }
        if fields["digestS3Bucket"].as_str() != Some(bucket) || fields["digestS3Object"].as_str() != Some(key)
        {
            return Ok(Err(DigestVerdict::Moved));
        }
        let fingerprint_value = &fields["digestPublicKeyFingerprint"];
        let known = |keys: &BTreeMap<String, PublicKey>| {
            fingerprint_value.as_str().is_some_and(|f| keys.contains_key(f))
        };
        if !known(public_keys) && pass == Pass::Backfill {
            // Backfill digests look keys up lazily around their generation time.
            let text = generation_time.unwrap_or_default();
            let Ok(at) = parse_recorded(&text, self.default_date()) else {
                return Ok(Err(DigestVerdict::Other(format!(
                    "Unable to parse date value: {text}"
                ))));
            };
            match self.keys_or_fail(at - Duration::hours(1), at + Duration::hours(1)) {
                Ok(found) => public_keys.extend(found),
                Err(e @ Error::NoPublicKeys { .. }) => return Ok(Err(DigestVerdict::Other(e.to_string()))),
                Err(e) => return Err(e),
            }
        }
        let public_key = match verify_signature(
            fields,
            &digest.sha256_hex(),
            (bucket, key),
            &signature,
            public_keys,
            &self.v.scope.home_region,
        ) {
            Ok(k) => k,
            Err(verdict) => return Ok(Err(verdict)),
        };
        let end = match &fields["digestEndTime"] {
            Value::String(t) => match parse_recorded(t, self.default_date()) {
                Ok(end) => end,
                Err(_) => {
                    return Ok(Err(DigestVerdict::Other(format!(
                        "Unable to parse date value: {t}"
                    ))))
                }
            },
            other => {
                return Ok(Err(DigestVerdict::Other(format!(
                    "Parser must be a string or character stream, not {}",
                    python_type(other)
                ))))
            }
        };
        Ok(Ok(VerifiedDigest {
            digest,
            end,
            fingerprint: public_key.fingerprint.clone(),
            signature: source,
        }))
    }

    fn keys_or_fail(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, PublicKey>, Error> {
        let keys = self.v.keys.keys_between(start, end)?;
        if keys.is_empty() {
            return Err(Error::NoPublicKeys {
                start: display(start),
                end: display(end),
            });
        }
        Ok(keys)
    }

    /// Lists a bucket's digest keys of this scope for the window ending at `end`, once
    /// per (bucket, end). Returns the cache key.
    fn load_listing(&mut self, bucket: &str, end: DateTime<Utc>) -> Result<(String, DateTime<Utc>), Error> {
        let id = (bucket.to_string(), end);
        if self.listings.contains_key(&id) {
            return Ok(id);
        }
        let scope = &self.v.scope;
        let first = compact(self.v.start);
        let last = compact(end + Duration::hours(1));
        // As the reference's scan, the listing may stop at the first matching key past `last`.
        let keys = self.v.source.list_until(
            bucket,
            &scope.listing_prefix(),
            &scope.start_marker(self.v.start),
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
        self.listings.insert(id.clone(), listing);
        Ok(id)
    }

    /// Pops listed keys until one is older (by stamp) than `before`; with no `before`,
    /// takes the newest.
    fn older_listed(
        &mut self,
        listing: &(String, DateTime<Utc>),
        pass: Pass,
        before: Option<&str>,
    ) -> Result<Cursor, Error> {
        let default_date = self.default_date();
        let stamp_time = |k: &str| {
            let stamp = key_stamp(k);
            parse_recorded(&stamp, default_date)
        };
        let entry = self.listings.get_mut(listing).expect("listing loaded before use");
        let keys = match pass {
            Pass::Standard => &mut entry.standard,
            Pass::Backfill => &mut entry.backfill,
        };
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

/// Checks a digest's signature once its required fields are known to be present: the
/// key named by `digestPublicKeyFingerprint` must be in `public_keys` (else the verdict
/// names `region`) and load, the hex signature must decode, and it must verify over the
/// string to sign built from the digest's own fields and `sha256_hex` of its inflated
/// bytes. Returns the key that verified it.
pub(crate) fn verify_signature<'k>(
    fields: &Map<String, Value>,
    sha256_hex: &str,
    (bucket, key): (&str, &str),
    signature: &str,
    public_keys: &'k BTreeMap<String, PublicKey>,
    region: &str,
) -> Result<&'k PublicKey, DigestVerdict> {
    let fingerprint_value = &fields["digestPublicKeyFingerprint"];
    let fingerprint = python_str(fingerprint_value);
    let Some(public_key) = fingerprint_value.as_str().and_then(|f| public_keys.get(f)) else {
        return Err(DigestVerdict::UnknownFingerprint {
            region: region.to_string(),
            fingerprint,
        });
    };
    let Ok(rsa_key) = RsaPublicKey::from_der(&public_key.der) else {
        return Err(DigestVerdict::KeyNotLoadable { fingerprint });
    };
    let previous = match &fields["previousDigestSignature"] {
        Value::Null => None,
        other => Some(python_str(other)),
    };
    let message = string_to_sign(
        &python_str(&fields["digestEndTime"]),
        bucket,
        key,
        sha256_hex,
        previous.as_deref(),
    );
    let signature_bytes =
        decode_signature_hex(signature).map_err(|why| DigestVerdict::Other(why.to_string()))?;
    if !rsa_key.verify(message.as_bytes(), &signature_bytes) {
        return Err(DigestVerdict::SignatureFailed { no_signature: false });
    }
    Ok(public_key)
}

/// The previous digest a valid digest names, if it names one (both fields non-null).
fn previous_link(
    fields: &Map<String, Value>,
    bucket: &str,
    key: &str,
) -> Result<Option<(String, String)>, Error> {
    let get = |name| fields.get(name).filter(|v| !v.is_null());
    match (get("previousDigestS3Bucket"), get("previousDigestS3Object")) {
        (Some(Value::String(b)), Some(Value::String(k))) => Ok(Some((b.clone(), k.clone()))),
        (Some(_), Some(_)) => Err(Error::MalformedDigest {
            bucket: bucket.to_string(),
            key: key.to_string(),
            reason: "previousDigestS3Bucket/previousDigestS3Object are not strings".into(),
        }),
        _ => Ok(None),
    }
}

/// The log a `logFiles` entry names. A missing bucket or key is fatal, as in the reference.
fn log_job(digest_bucket: &str, digest_key: &str, entry: &Value) -> Result<LogJob, Error> {
    let field = |name: &'static str| -> Result<String, Error> {
        match entry.get(name) {
            None => Err(Error::DigestField { field: name }),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(Error::MalformedDigest {
                bucket: digest_bucket.to_string(),
                key: digest_key.to_string(),
                reason: format!("a logFiles entry has a non-string {name}: {other}"),
            }),
        }
    };
    Ok(LogJob {
        bucket: field("s3Bucket")?,
        key: field("s3Object")?,
        recorded: entry.get("hashValue").cloned(),
    })
}

/// Python's truthiness of a JSON value.
fn python_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Python's type name of a decoded JSON value.
fn python_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// What Python says when the reference stores its signature into a digest that is not a
/// JSON object.
fn python_item_assignment_error(v: &Value) -> String {
    match v {
        Value::Array(_) => "list indices must be integers or slices, not str".to_string(),
        other => format!("'{}' object does not support item assignment", python_type(other)),
    }
}

/// `str()` of a decoded JSON value, for the scalars digests hold.
fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_views_of_json() {
        assert!(python_falsy(&Value::Null));
        assert!(python_falsy(&serde_json::json!([])));
        assert!(!python_falsy(&serde_json::json!([1])));
        assert_eq!(
            python_item_assignment_error(&serde_json::json!([1])),
            "list indices must be integers or slices, not str"
        );
        assert_eq!(
            python_item_assignment_error(&serde_json::json!("x")),
            "'str' object does not support item assignment"
        );
        assert_eq!(
            python_item_assignment_error(&serde_json::json!(1.5)),
            "'float' object does not support item assignment"
        );
        assert_eq!(
            python_item_assignment_error(&Value::Null),
            "'NoneType' object does not support item assignment"
        );
        assert_eq!(python_str(&Value::Null), "None");
    }
}
