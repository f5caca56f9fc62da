//! Trails: plan, seal, mutate, write.
//!
//! 1. A [`TrailSpec`] describes a trail at a high level (account, name, regions,
//!    bucket, prefix, organization, start, hours, logs per hour, records per log, seed).
//! 2. [`TrailSpec::plan`] turns it into a [`TrailPlan`]: one [`PlannedDigest`] per
//!    region and hour, each with its [`PlannedLog`]s and its link to the previous
//!    digest. The plan is plain data: change buckets, signing keys, links (gaps,
//!    starting digests), omitted fields, or [`TrailPlan::append`] other plans (a
//!    restarted chain, a backfill chain, another account) before sealing.
//! 3. [`TrailPlan::seal`] generates every log, renders and signs every digest in chain
//!    order and returns a [`Trail`]: stored object bytes plus everything that was signed.
//!    [`TrailPlan::write_streaming`] does the same but writes each log as soon as it is
//!    made and keeps nothing, for very large trails.
//! 4. Post-hoc mutations on the [`Trail`] (delete, tamper, copy, replace metadata) model
//!    what happens to objects after CloudTrail delivered them; [`Trail::write_to`]
//!    writes the mirror (`ROOT/BUCKET/KEY`, sidecars `KEY.metadata.json`).
//!
//! Everything is deterministic: the same spec gives the same bytes.

use std::fs;
use std::io;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::digest::{self, DigestDoc, LogEntry, PreviousDigest, SIGNATURE_ALGORITHM};
use crate::gzip;
use crate::json::Json;
use crate::keys::{KeyId, KeyRing};
use crate::layout::Layout;
use crate::records::{generate_log, LogRequest};
use crate::rng::{hash_str, Rng};
use crate::times::iso;

/// How many items (logs in an hour, records in a log) to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Count {
    /// Always this many.
    Fixed(u32),
    /// Uniformly random in `min..=max`.
    Range(u32, u32),
    /// The i-th value of this list (cycled) for the i-th hour / log.
    Pattern(Vec<u32>),
}

impl Count {
    /// The count for item `index`.
    pub fn draw(&self, index: usize, rng: &mut Rng) -> u32 {
        match self {
            Count::Fixed(n) => *n,
            Count::Range(lo, hi) => rng.range(u64::from(*lo), u64::from(*hi)) as u32,
            Count::Pattern(p) if p.is_empty() => 0,
            Count::Pattern(p) => p[index % p.len()],
        }
    }

    /// Parses `N` or `MIN-MAX`.
    pub fn parse(s: &str) -> Result<Count, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|_| format!("bad count {s:?} (want N or MIN-MAX)"))
        };
        match s.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("bad range {s:?}: min > max"));
                }
                Ok(Count::Range(a, b))
            }
            None => Ok(Count::Fixed(num(s)?)),
        }
    }
}

/// High-level description of a trail.
#[derive(Clone, Debug)]
pub struct TrailSpec {
    /// The account whose folder the trail writes (member account for organization
    /// trails); also `awsAccountId` and the records' `recipientAccountId`.
    pub account: String,
    /// Trail name (may contain `_`, `.`, `-`).
    pub trail_name: String,
    /// The trail's home region.
    pub home_region: String,
    /// Source regions; each delivers its own digest chain and logs.
    pub regions: Vec<String>,
    /// Destination bucket.
    pub bucket: String,
    /// `S3KeyPrefix`, if any.
    pub prefix: Option<String>,
    /// Organization id for organization trails.
    pub org_id: Option<String>,
    /// `digestStartTime` of the first digest of the first region.
    pub start: DateTime<Utc>,
    /// Number of hourly digests per region.
    pub hours: u32,
    /// Logs delivered per hour (per region).
    pub logs_per_hour: Count,
    /// Records per log file.
    pub records_per_log: Count,
    /// Each further region's chain starts this much later than the previous region's.
    pub region_stagger: Duration,
    /// Key that signs the digests.
    pub key: KeyId,
    /// `Some(generation time)` makes every digest a backfill digest.
    pub backfill_generated: Option<DateTime<Utc>>,
    /// Seed of all randomness.
    pub seed: u64,
    /// Deflate level of the stored objects.
    pub gzip_level: u32,
}

impl TrailSpec {
    /// A spec with defaults: home region `us-east-1` (the only source region), no prefix,
    /// no organization, 6 hours, 0-3 logs per hour, 2-5 records per log, key 1, seed
    /// derived from the names.
    pub fn new(account: &str, trail_name: &str, bucket: &str, start: DateTime<Utc>) -> Self {
        TrailSpec {
            account: account.to_string(),
            trail_name: trail_name.to_string(),
            home_region: "us-east-1".to_string(),
            regions: vec!["us-east-1".to_string()],
            bucket: bucket.to_string(),
            prefix: None,
            org_id: None,
            start,
            hours: 6,
            logs_per_hour: Count::Range(0, 3),
            records_per_log: Count::Range(2, 5),
            region_stagger: Duration::seconds(7 * 60 + 13),
            key: KeyId::One,
            backfill_generated: None,
            seed: hash_str(&format!("{account}/{trail_name}/{bucket}")),
            gzip_level: gzip::DEFAULT_LEVEL,
        }
    }

    /// The key layout of this trail.
    pub fn layout(&self) -> Layout {
        Layout {
            prefix: self.prefix.clone(),
            org_id: self.org_id.clone(),
            account: self.account.clone(),
            trail_name: self.trail_name.clone(),
            home_region: self.home_region.clone(),
        }
    }

    /// Plans every digest and log: per region, `hours` contiguous hourly digests, the
    /// first a starting digest and each later one linked to its predecessor.
    pub fn plan(&self) -> TrailPlan {
        let layout = self.layout();
        let mut digests = Vec::new();
        for (r, region) in self.regions.iter().enumerate() {
            // An independent stream per region: adding a region changes no other region.
            let mut rng = Rng::new(self.seed ^ hash_str(region));
            let first_start = self.start + self.region_stagger * r as i32;
            for h in 0..self.hours {
                let start = first_start + Duration::hours(i64::from(h));
                let end = start + Duration::hours(1);
                let n = self.logs_per_hour.draw(h as usize, &mut rng);
                let logs = plan_logs(
                    &mut rng,
                    &layout,
                    region,
                    &self.bucket,
                    start,
                    end,
                    n,
                    &self.records_per_log,
                );
                let previous = if h == 0 { None } else { Some(digests.len() - 1) };
                digests.push(PlannedDigest {
                    layout: layout.clone(),
                    region: region.clone(),
                    bucket: self.bucket.clone(),
                    start,
                    end,
                    previous,
                    backfill_generated: self.backfill_generated,
                    key: self.key,
                    logs,
                    omit_fields: Vec::new(),
                });
            }
        }
        TrailPlan {
            digests,
            gzip_level: self.gzip_level,
        }
    }
}

/// Plans `n` logs delivered during `[start, end)`, at 5-minute delivery slots.
#[allow(clippy::too_many_arguments)]
fn plan_logs(
    rng: &mut Rng,
    layout: &Layout,
    region: &str,
    bucket: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    n: u32,
    records: &Count,
) -> Vec<PlannedLog> {
    let five = 300;
    let first = ((start + Duration::minutes(2)).timestamp() + five - 1) / five * five;
    let slots: Vec<i64> = (0..)
        .map(|i| first + i * five)
        .take_while(|&t| t < end.timestamp())
        .collect();
    let mut chosen: Vec<i64> = (0..n).map(|_| *rng.pick(&slots)).collect();
    chosen.sort_unstable();
    let mut logs: Vec<PlannedLog> = chosen
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            let delivered = DateTime::<Utc>::from_timestamp(slot, 0).expect("valid time");
            let unique = rng.alnum(16);
            let from = (delivered - Duration::minutes(12)).max(start);
            let to = (delivered - Duration::seconds(30)).max(from);
            PlannedLog {
                bucket: bucket.to_string(),
                key: layout.log_key(region, delivered, &unique),
                delivered,
                content: LogRequest {
                    seed: rng.next_u64(),
                    account: layout.account.clone(),
                    region: region.to_string(),
                    from,
                    to,
                    records: records.draw(i, rng).max(1),
                    trail_call: None,
                },
            }
        })
        .collect();
    // CloudTrail does not list a digest's log files in delivery order.
    rng.shuffle(&mut logs);
    logs
}

/// A log file to be generated.
#[derive(Clone, Debug)]
pub struct PlannedLog {
    /// Bucket it is delivered to.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// Delivery time (the key's stamp).
    pub delivered: DateTime<Utc>,
    /// What to put in it.
    pub content: LogRequest,
}

/// A digest to be rendered and signed.
#[derive(Clone, Debug)]
pub struct PlannedDigest {
    /// Key layout (prefix, organization, account, trail name, home region).
    pub layout: Layout,
    /// Source region.
    pub region: String,
    /// Bucket it is delivered to (`digestS3Bucket`).
    pub bucket: String,
    /// `digestStartTime`
    pub start: DateTime<Utc>,
    /// `digestEndTime` (and the key's stamp).
    pub end: DateTime<Utc>,
    /// Index (in the plan) of the previous digest; `None` makes a starting digest.
    /// Must be smaller than this digest's own index.
    pub previous: Option<usize>,
    /// `Some(generation time)` for a backfill digest.
    pub backfill_generated: Option<DateTime<Utc>>,
    /// Signing key.
    pub key: KeyId,
    /// Its log files, in `logFiles` order.
    pub logs: Vec<PlannedLog>,
    /// Top-level fields to leave out of the JSON.
    pub omit_fields: Vec<String>,
}

impl PlannedDigest {
    /// The digest's object key.
    pub fn object_key(&self) -> String {
        self.layout
            .digest_key(&self.region, self.end, self.backfill_generated.is_some())
    }

    /// Moves the digest and its logs to another bucket.
    pub fn set_bucket(&mut self, bucket: &str) {
        self.bucket = bucket.to_string();
        for l in &mut self.logs {
            l.bucket = bucket.to_string();
        }
    }
}

/// Every digest and log of a trail, before generation.
#[derive(Clone, Debug)]
pub struct TrailPlan {
    /// Digests in sealing order (a digest's predecessor always comes first).
    pub digests: Vec<PlannedDigest>,
    /// Deflate level of the stored objects.
    pub gzip_level: u32,
}

impl TrailPlan {
    /// Adds the digests of `other` (with their links re-indexed) after this plan's.
    pub fn append(&mut self, other: TrailPlan) {
        let offset = self.digests.len();
        for mut d in other.digests {
            d.previous = d.previous.map(|p| p + offset);
            self.digests.push(d);
        }
    }

    /// Indices of the standard (non-backfill) digests delivered by `region`, oldest first.
    pub fn chain(&self, region: &str) -> Vec<usize> {
        chain_of(
            self.digests
                .iter()
                .map(|d| (&d.region, d.backfill_generated.is_none())),
            region,
        )
    }

    /// Generates logs, renders and signs digests, and returns the trail in memory.
    pub fn seal(&self, keys: &KeyRing) -> Trail {
        let mut logs = Vec::new();
        let digests = self
            .seal_with(keys, |l| {
                logs.push(l);
                Ok(())
            })
            .expect("in-memory sealing cannot fail");
        Trail {
            digests,
            logs,
            extra: Vec::new(),
            gzip_level: self.gzip_level,
        }
    }

    /// Seals the plan, handing each log object to `on_log` as soon as it is made (in
    /// order; [`Digest::logs`] indices count these calls). Returns the digests.
    pub fn seal_with<F>(&self, keys: &KeyRing, mut on_log: F) -> io::Result<Vec<Digest>>
    where
        F: FnMut(LogObject) -> io::Result<()>,
    {
        let mut sealed: Vec<Digest> = Vec::with_capacity(self.digests.len());
        let mut log_count = 0usize;
        for (i, pd) in self.digests.iter().enumerate() {
            let generated = generate_logs(&pd.logs, self.gzip_level);
            let mut entries = Vec::with_capacity(pd.logs.len());
            let mut indices = Vec::with_capacity(pd.logs.len());
            for (pl, g) in pd.logs.iter().zip(generated) {
                entries.push(LogEntry {
                    bucket: pl.bucket.clone(),
                    object: pl.key.clone(),
                    hash: g.sha256.clone(),
                    newest: g.newest,
                    oldest: g.oldest,
                });
                indices.push(log_count);
                log_count += 1;
                on_log(LogObject {
                    bucket: pl.bucket.clone(),
                    key: pl.key.clone(),
                    inflated_sha256: g.sha256,
                    oldest: g.oldest,
                    newest: g.newest,
                    records: pl.content.records,
                    stored: Some(g.gz),
                })?;
            }
            let previous = pd.previous.map(|p| {
                assert!(
                    p < i,
                    "digest {i} links to digest {p}, which is not sealed before it"
                );
                let d = &sealed[p];
                PreviousDigest {
                    bucket: d.bucket.clone(),
                    object: d.key.clone(),
                    hash: digest::sha256_hex(&d.inflated),
                    signature: d.signature.clone(),
                }
            });
            let key = pd.object_key();
            let signer = keys.get(pd.key);
            let inflated = digest::render(&DigestDoc {
                account: &pd.layout.account,
                start: pd.start,
                end: pd.end,
                bucket: &pd.bucket,
                object: &key,
                fingerprint: &signer.fingerprint,
                previous: previous.as_ref(),
                logs: &entries,
                omit: &pd.omit_fields,
            })
            .into_bytes();
            let previous_signature = previous.map(|p| p.signature);
            let to_sign = digest::string_to_sign(
                &iso(pd.end),
                &pd.bucket,
                &key,
                &inflated,
                previous_signature.as_deref(),
            );
            let signature = signer.sign_hex(to_sign.as_bytes());
            let metadata = Metadata {
                signature: signature.clone(),
                signature_algorithm: SIGNATURE_ALGORITHM.to_string(),
                backfill_generation_timestamp: pd.backfill_generated.map(iso),
            };
            sealed.push(Digest {
                bucket: pd.bucket.clone(),
                key,
                region: pd.region.clone(),
                account: pd.layout.account.clone(),
                start: pd.start,
                end: pd.end,
                backfill_generated: pd.backfill_generated,
                key_id: pd.key,
                fingerprint: signer.fingerprint.clone(),
                stored: Some(gzip::gzip_level(&inflated, self.gzip_level)),
                inflated,
                signature,
                previous: pd.previous,
                previous_signature,
                logs: indices,
                metadata: Some(metadata),
            });
        }
        Ok(sealed)
    }

    /// Seals the plan straight into the mirror at `root`: each log is written as soon
    /// as it is generated and then dropped, so memory stays bounded by one hour of one
    /// region. Digests and sidecars are written at the end.
    pub fn write_streaming(&self, keys: &KeyRing, root: &Path) -> io::Result<WriteStats> {
        let mut stats = WriteStats::default();
        let digests = self.seal_with(keys, |log| {
            let bytes = log.stored.as_deref().unwrap_or_default();
            write_object(root, &log.bucket, &log.key, bytes)?;
            stats.logs += 1;
            stats.records += u64::from(log.records);
            stats.bytes += bytes.len() as u64;
            Ok(())
        })?;
        for d in &digests {
            if let Some(bytes) = &d.stored {
                write_object(root, &d.bucket, &d.key, bytes)?;
                stats.bytes += bytes.len() as u64;
            }
            if let Some(m) = &d.metadata {
                write_object(root, &d.bucket, &sidecar_key(&d.key), m.render().as_bytes())?;
            }
            stats.digests += 1;
        }
        Ok(stats)
    }

    /// Earliest `digestStartTime` and latest `digestEndTime` of the plan.
    pub fn time_span(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = self.digests.iter().map(|d| d.start).min()?;
        let end = self.digests.iter().map(|d| d.end).max()?;
        Some((start, end))
    }
}

fn chain_of<'a>(items: impl Iterator<Item = (&'a String, bool)>, region: &str) -> Vec<usize> {
    items
        .enumerate()
        .filter(|(_, (r, standard))| r.as_str() == region && *standard)
        .map(|(i, _)| i)
        .collect()
}

/// What [`TrailPlan::write_streaming`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Digest objects.
    pub digests: usize,
    /// Log objects.
    pub logs: usize,
    /// Records in all logs.
    pub records: u64,
    /// Bytes of digest and log objects (sidecars not counted).
    pub bytes: u64,
}

struct GeneratedLog {
    sha256: String,
    gz: Vec<u8>,
    oldest: DateTime<Utc>,
    newest: DateTime<Utc>,
}

fn generate_one(pl: &PlannedLog, level: u32) -> GeneratedLog {
    let c = generate_log(&pl.content);
    GeneratedLog {
        sha256: digest::sha256_hex(&c.json),
        gz: gzip::gzip_level(&c.json, level),
        oldest: c.oldest,
        newest: c.newest,
    }
}

/// Generates the logs of one digest, in parallel when there is enough work. Each log
/// depends only on its own seed, so the result is the same either way.
fn generate_logs(logs: &[PlannedLog], level: u32) -> Vec<GeneratedLog> {
    let records: u64 = logs.iter().map(|l| u64::from(l.content.records)).sum();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(logs.len());
    if threads <= 1 || records < 4000 {
        return logs.iter().map(|l| generate_one(l, level)).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    logs.iter()
                        .enumerate()
                        .skip(t)
                        .step_by(threads)
                        .map(|(i, l)| (i, generate_one(l, level)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out: Vec<Option<GeneratedLog>> = (0..logs.len()).map(|_| None).collect();
        for h in handles {
            for (i, g) in h.join().expect("log generator thread panicked") {
                out[i] = Some(g);
            }
        }
        out.into_iter().map(|g| g.expect("every log generated")).collect()
    })
}

/// A digest's S3 user metadata (`x-amz-meta-*`), written as `KEY.metadata.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// `signature` (hex, or anything a scenario puts there).
    pub signature: String,
    /// `signature-algorithm`
    pub signature_algorithm: String,
    /// `backfill-generation-timestamp`, on backfill digests.
    pub backfill_generation_timestamp: Option<String>,
}

impl Metadata {
    /// The metadata as a JSON object (`signature`, `signature-algorithm`, then
    /// `backfill-generation-timestamp` when present).
    pub fn to_json(&self) -> Json {
        let mut fields = vec![
            ("signature", Json::str(self.signature.clone())),
            ("signature-algorithm", Json::str(self.signature_algorithm.clone())),
        ];
        if let Some(ts) = &self.backfill_generation_timestamp {
            fields.push(("backfill-generation-timestamp", Json::str(ts.clone())));
        }
        Json::obj(fields)
    }

    /// The sidecar file's text: what `aws s3api head-object --query Metadata` prints
    /// (4-space indentation, trailing newline).
    pub fn render(&self) -> String {
        let mut s = self.to_json().pretty(4, false);
        s.push('\n');
        s
    }
}

/// The sidecar key of a digest key.
pub fn sidecar_key(key: &str) -> String {
    format!("{key}.metadata.json")
}

/// A sealed digest.
#[derive(Clone, Debug)]
pub struct Digest {
    /// `digestS3Bucket`: the bucket it was delivered to.
    pub bucket: String,
    /// `digestS3Object`: its key.
    pub key: String,
    /// Source region.
    pub region: String,
    /// `awsAccountId`
    pub account: String,
    /// `digestStartTime`
    pub start: DateTime<Utc>,
    /// `digestEndTime`
    pub end: DateTime<Utc>,
    /// Generation time, for backfill digests.
    pub backfill_generated: Option<DateTime<Utc>>,
    /// The key that signed it.
    pub key_id: KeyId,
    /// `digestPublicKeyFingerprint`
    pub fingerprint: String,
    /// The inflated JSON exactly as signed (mutations never change it).
    pub inflated: Vec<u8>,
    /// The real signature (hex).
    pub signature: String,
    /// Index of the previous digest in [`Trail::digests`].
    pub previous: Option<usize>,
    /// `previousDigestSignature`
    pub previous_signature: Option<String>,
    /// Indices of its logs in [`Trail::logs`], in `logFiles` order.
    pub logs: Vec<usize>,
    /// The stored object bytes (normally the gzip of `inflated`); `None` = deleted.
    pub stored: Option<Vec<u8>>,
    /// The sidecar; `None` = no S3 metadata.
    pub metadata: Option<Metadata>,
}

impl Digest {
    /// The string its signature covers.
    pub fn string_to_sign(&self) -> String {
        digest::string_to_sign(
            &iso(self.end),
            &self.bucket,
            &self.key,
            &self.inflated,
            self.previous_signature.as_deref(),
        )
    }

    /// Whether this is a starting digest (all `previous*` fields null).
    pub fn is_starting(&self) -> bool {
        self.previous_signature.is_none()
    }
}

/// A sealed log file.
#[derive(Clone, Debug)]
pub struct LogObject {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// `hashValue` recorded in its digest.
    pub inflated_sha256: String,
    /// `oldestEventTime`
    pub oldest: DateTime<Utc>,
    /// `newestEventTime`
    pub newest: DateTime<Utc>,
    /// Number of records.
    pub records: u32,
    /// Stored object bytes (normally gzip); `None` = deleted.
    pub stored: Option<Vec<u8>>,
}

/// Any further object of the mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtraObject {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Bytes.
    pub bytes: Vec<u8>,
}

/// A sealed trail: digests, logs and extra objects, ready to mutate and write.
#[derive(Clone, Debug)]
pub struct Trail {
    /// Digests, in plan order.
    pub digests: Vec<Digest>,
    /// Logs, in generation order.
    pub logs: Vec<LogObject>,
    /// Objects added after sealing (written last, so they win over same-named ones).
    pub extra: Vec<ExtraObject>,
    /// Deflate level used when a mutation re-compresses something.
    pub gzip_level: u32,
}

impl Trail {
    /// Indices of the standard digests of `region`, oldest first.
    pub fn chain(&self, region: &str) -> Vec<usize> {
        chain_of(
            self.digests
                .iter()
                .map(|d| (&d.region, d.backfill_generated.is_none())),
            region,
        )
    }

    /// Removes a digest object and its sidecar.
    pub fn delete_digest(&mut self, i: usize) {
        self.digests[i].stored = None;
        self.digests[i].metadata = None;
    }

    /// Removes a digest's sidecar (S3 metadata) only.
    pub fn delete_sidecar(&mut self, i: usize) {
        self.digests[i].metadata = None;
    }

    /// Stores a digest uncompressed (its inflated bytes).
    pub fn store_digest_inflated(&mut self, i: usize) {
        self.digests[i].stored = Some(self.digests[i].inflated.clone());
    }

    /// Stores `json` (gzip'd) in place of a digest; metadata unchanged.
    pub fn replace_digest_json(&mut self, i: usize, json: &[u8]) {
        self.digests[i].stored = Some(gzip::gzip_level(json, self.gzip_level));
    }

    /// Copies digest `from`'s object and sidecar over digest `to`'s key.
    pub fn copy_digest_over(&mut self, from: usize, to: usize) {
        self.digests[to].stored = self.digests[from].stored.clone();
        self.digests[to].metadata = self.digests[from].metadata.clone();
    }

    /// Replaces the `signature` in a digest's sidecar (creating the sidecar if absent).
    pub fn set_signature(&mut self, i: usize, signature: &str) {
        let d = &mut self.digests[i];
        match &mut d.metadata {
            Some(m) => m.signature = signature.to_string(),
            None => {
                d.metadata = Some(Metadata {
                    signature: signature.to_string(),
                    signature_algorithm: SIGNATURE_ALGORITHM.to_string(),
                    backfill_generation_timestamp: d.backfill_generated.map(iso),
                })
            }
        }
    }

    /// Removes a log object.
    pub fn delete_log(&mut self, j: usize) {
        self.logs[j].stored = None;
    }

    /// Replaces a log object's stored bytes.
    pub fn set_log_bytes(&mut self, j: usize, bytes: Vec<u8>) {
        self.logs[j].stored = Some(bytes);
    }

    /// The inflated content of a log as originally generated.
    pub fn log_inflated(&self, j: usize) -> Vec<u8> {
        let stored = self.logs[j].stored.as_deref().expect("log not deleted");
        gzip::gunzip(stored).expect("log is gzip")
    }

    /// Adds (or overrides) an arbitrary object.
    pub fn put_object(&mut self, bucket: &str, key: &str, bytes: Vec<u8>) {
        self.extra.push(ExtraObject {
            bucket: bucket.to_string(),
            key: key.to_string(),
            bytes,
        });
    }

    /// Copies every object (with sidecars) of bucket `from` into bucket `to`.
    pub fn replicate_bucket(&mut self, from: &str, to: &str) {
        let copies: Vec<ExtraObject> = self
            .objects()
            .into_iter()
            .filter(|o| o.bucket == from)
            .map(|o| ExtraObject {
                bucket: to.to_string(),
                ..o
            })
            .collect();
        self.extra.extend(copies);
    }

    /// Every object of the mirror, in write order (digests and sidecars, logs, extras).
    pub fn objects(&self) -> Vec<ExtraObject> {
        let mut out = Vec::new();
        let _ = self.for_each_object(|bucket, key, bytes| {
            out.push(ExtraObject {
                bucket: bucket.to_string(),
                key: key.to_string(),
                bytes: bytes.to_vec(),
            });
            Ok(())
        });
        out
    }

    fn for_each_object<F>(&self, mut f: F) -> io::Result<()>
    where
        F: FnMut(&str, &str, &[u8]) -> io::Result<()>,
    {
        for d in &self.digests {
            if let Some(bytes) = &d.stored {
                f(&d.bucket, &d.key, bytes)?;
            }
            if let Some(m) = &d.metadata {
                f(&d.bucket, &sidecar_key(&d.key), m.render().as_bytes())?;
            }
        }
        for l in &self.logs {
            if let Some(bytes) = &l.stored {
                f(&l.bucket, &l.key, bytes)?;
            }
        }
        for e in &self.extra {
            f(&e.bucket, &e.key, &e.bytes)?;
        }
        Ok(())
    }

    /// Writes the mirror under `root` (`root/BUCKET/KEY`). Existing files are
    /// overwritten; nothing is deleted (callers start from an empty directory).
    pub fn write_to(&self, root: &Path) -> io::Result<()> {
        self.for_each_object(|bucket, key, bytes| write_object(root, bucket, key, bytes))
    }
}

/// Writes one object of a mirror, creating its folders.
pub fn write_object(root: &Path, bucket: &str, key: &str, bytes: &[u8]) -> io::Result<()> {
    let path = root.join(bucket).join(key);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, bytes)
}
