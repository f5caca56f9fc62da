//! The scenario trees under `testdata/scenarios/` and the sample under `testdata/sample/`.
//!
//! Each [`Scenario`] is a sealed, possibly damaged [`Trail`] plus the `public-keys.json`
//! it is validated against and the `scenario.json` cases (see `testdata/FORMAT.md`).
//! Common ground: account 111122223333, home region us-east-1, trail `test-trail`,
//! bucket `ctd-<scenario>-bucket`, first digest starting 2026-03-01T00:17:42Z, seven
//! hourly digests with 0, 2, 1, 3, 0, 2, 1 logs of 2-5 records, the oldest a starting
//! digest. Faults sit on the middle digest (index 3, ending 04:17:42) or its logs
//! unless a scenario says otherwise.

use std::fs;
use std::io;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::gzip;
use crate::json::Json;
use crate::keys::{render_public_keys, KeyId, KeyRing, PublicKeyEntry, PublicKeysShape};
use crate::rng::hash_str;
use crate::times::{iso, utc};
use crate::trail::{Count, Metadata, Trail, TrailPlan, TrailSpec};

/// The account of every scenario trail (and the management account of the
/// organization scenario).
pub const ACCOUNT: &str = "111122223333";
/// Member account of the organization scenario.
pub const MEMBER_ACCOUNT: &str = "444455556666";
/// Organization id of the organization scenario.
pub const ORG_ID: &str = "o-a1b2c3d4e5";
/// Home region of every trail.
pub const HOME: &str = "us-east-1";
/// Default trail name.
pub const TRAIL_NAME: &str = "test-trail";

/// Every scenario name, in generation order.
pub const NAMES: &[&str] = &[
    "clean-chain",
    "starting-digest",
    "gap-stopped-logging",
    "key-rotation",
    "bucket-change",
    "prefix",
    "organization-trail",
    "multi-region",
    "odd-trail-name",
    "backfill",
    "tampered-log",
    "deleted-log",
    "log-appended-member",
    "log-not-gzip",
    "tampered-digest",
    "deleted-digest",
    "deleted-two-digests",
    "deleted-newest-digest",
    "moved-digest",
    "missing-signature-metadata",
    "recovered-signature",
    "wrong-signature",
    "unknown-fingerprint",
    "digest-not-gzip",
    "digest-missing-field",
    "log-stored-decompressed",
    "offset-dates",
    "digest-odd-json",
    "digest-without-logfiles",
    "backfill-key-missing",
    "hostile-input",
];

/// `digestStartTime` of the first digest of every scenario trail.
pub fn trail_start() -> DateTime<Utc> {
    utc(2026, 3, 1, 0, 17, 42)
}

const WINDOW_START: &str = "2026-03-01T00:00:00Z";
const WINDOW_END: &str = "2026-03-01T08:00:00Z";
/// Index of "the middle digest" of the seven-digest chain.
const MIDDLE: usize = 3;

/// The `trail` object of `scenario.json` (what the reference's DescribeTrails returns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrailInfo {
    /// `TrailARN`
    pub arn: String,
    /// `S3BucketName`
    pub bucket: String,
    /// `S3KeyPrefix`
    pub prefix: Option<String>,
    /// `IsOrganizationTrail`
    pub is_org: bool,
}

/// How to run the reference so that it prints what our tool must print.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reference {
    /// Replacement arguments.
    pub args: Option<Vec<String>>,
    /// S3 metadata the mirror lacks on purpose, by `BUCKET/KEY`.
    pub metadata: Vec<(String, Metadata)>,
}

/// One `validate-logs` run of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Case name (file stem under `expected/`).
    pub name: String,
    /// `validate-logs` arguments (without the data source).
    pub args: Vec<String>,
    /// How to run the reference instead, if different.
    pub reference: Option<Reference>,
    /// Why the reference cannot print our output, if it cannot.
    pub differs: Option<String>,
}

/// A complete scenario tree.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Directory name.
    pub name: String,
    /// What is injected and what the output must show.
    pub description: String,
    /// The trail as DescribeTrails would report it.
    pub trail_info: TrailInfo,
    /// Organization id for organization trails.
    pub organization_id: Option<String>,
    /// The cases.
    pub cases: Vec<Case>,
    /// Text of `public-keys.json`.
    pub public_keys: String,
    /// The mirror's content.
    pub trail: Trail,
}

impl Scenario {
    /// The text of `scenario.json` (2-space indentation, trailing newline).
    pub fn scenario_json(&self) -> String {
        let t = &self.trail_info;
        let cases = self
            .cases
            .iter()
            .map(|c| {
                let reference = match &c.reference {
                    None => Json::Null,
                    Some(r) => {
                        let mut fields = Vec::new();
                        if let Some(a) = &r.args {
                            fields.push(("args", Json::str_arr(a)));
                        }
                        if !r.metadata.is_empty() {
                            let m = r.metadata.iter().map(|(k, m)| (k.clone(), m.to_json())).collect();
                            fields.push(("metadata", Json::Obj(m)));
                        }
                        Json::obj(fields)
                    }
                };
                Json::obj([
                    ("name", Json::str(c.name.clone())),
                    ("args", Json::str_arr(&c.args)),
                    ("reference", reference),
                    ("differs", Json::opt_str(c.differs.clone())),
                ])
            })
            .collect();
        let doc = Json::obj([
            ("description", Json::str(self.description.clone())),
            (
                "trail",
                Json::obj([
                    ("TrailARN", Json::str(t.arn.clone())),
                    ("S3BucketName", Json::str(t.bucket.clone())),
                    ("S3KeyPrefix", Json::opt_str(t.prefix.clone())),
                    ("IsOrganizationTrail", Json::Bool(t.is_org)),
                ]),
            ),
            ("organization_id", Json::opt_str(self.organization_id.clone())),
            ("cases", Json::Arr(cases)),
        ]);
        let mut s = doc.pretty(2, true);
        s.push('\n');
        s
    }

    /// Writes the tree into `dir`: `mirror/` is deleted and rewritten,
    /// `public-keys.json` and `scenario.json` are rewritten, anything else (`expected/`,
    /// `reference/`) is left alone.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        write_tree(dir, &self.trail, &self.public_keys)?;
        fs::write(dir.join("scenario.json"), self.scenario_json())
    }
}

/// Writes a tree's `mirror/` (deleted and rewritten) and `public-keys.json` into `dir`.
pub(crate) fn write_tree(dir: &Path, trail: &Trail, public_keys: &str) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let mirror = dir.join("mirror");
    if mirror.exists() {
        fs::remove_dir_all(&mirror)?;
    }
    fs::create_dir_all(&mirror)?;
    trail.write_to(&mirror)?;
    fs::write(dir.join("public-keys.json"), public_keys)
}

/// Builds one scenario by name.
pub fn build(name: &str, keys: &KeyRing) -> Option<Scenario> {
    let s = match name {
        "clean-chain" => clean_chain(keys),
        "starting-digest" => starting_digest(keys),
        "gap-stopped-logging" => gap_stopped_logging(keys),
        "key-rotation" => key_rotation(keys),
        "bucket-change" => bucket_change(keys),
        "prefix" => prefix(keys),
        "organization-trail" => organization_trail(keys),
        "multi-region" => multi_region(keys),
        "odd-trail-name" => odd_trail_name(keys),
        "backfill" => backfill(keys),
        "tampered-log" => tampered_log(keys),
        "deleted-log" => deleted_log(keys),
        "log-appended-member" => log_appended_member(keys),
        "log-not-gzip" => log_not_gzip(keys),
        "tampered-digest" => tampered_digest(keys),
        "deleted-digest" => deleted_digest(keys),
        "deleted-two-digests" => deleted_two_digests(keys),
        "deleted-newest-digest" => deleted_newest_digest(keys),
        "moved-digest" => moved_digest(keys),
        "missing-signature-metadata" => missing_signature_metadata(keys),
        "recovered-signature" => recovered_signature(keys),
        "wrong-signature" => wrong_signature(keys),
        "unknown-fingerprint" => unknown_fingerprint(keys),
        "digest-not-gzip" => digest_not_gzip(keys),
        "digest-missing-field" => digest_missing_field(keys),
        "log-stored-decompressed" => log_stored_decompressed(keys),
        "offset-dates" => offset_dates(keys),
        "digest-odd-json" => digest_odd_json(keys),
        "backfill-key-missing" => backfill_key_missing(keys),
        "digest-without-logfiles" => digest_without_logfiles(keys),
        "hostile-input" => hostile_input(keys),
        _ => return None,
    };
    Some(s)
}

/// Builds and writes the named scenarios (all when `only` is empty) under `out`.
/// Returns the names written.
pub fn write_all(out: &Path, only: &[String]) -> io::Result<Vec<String>> {
    for o in only {
        if !NAMES.contains(&o.as_str()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unknown scenario {o:?}"),
            ));
        }
    }
    let keys = KeyRing::test_keys();
    let mut written = Vec::new();
    for name in NAMES {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        let s = build(name, &keys).expect("every listed scenario builds");
        s.write(&out.join(name))?;
        written.push(name.to_string());
    }
    Ok(written)
}

// ---------------------------------------------------------------------------------
// Building blocks

fn bucket_for(scenario: &str) -> String {
    format!("ctd-{scenario}-bucket")
}

fn arn(account: &str, trail_name: &str) -> String {
    format!("arn:aws:cloudtrail:{HOME}:{account}:trail/{trail_name}")
}

/// The common seven-hour spec of a scenario.
fn base_spec(scenario: &str) -> TrailSpec {
    let mut s = TrailSpec::new(ACCOUNT, TRAIL_NAME, &bucket_for(scenario), trail_start());
    s.hours = 7;
    s.logs_per_hour = Count::Pattern(vec![0, 2, 1, 3, 0, 2, 1]);
    s.records_per_log = Count::Range(2, 5);
    s.seed = hash_str(scenario);
    s
}

fn plain_info(bucket: &str) -> TrailInfo {
    TrailInfo {
        arn: arn(ACCOUNT, TRAIL_NAME),
        bucket: bucket.to_string(),
        prefix: None,
        is_org: false,
    }
}

/// Key 1 valid 2026-02-20 to 2026-03-22: covers every trail and every case window.
fn key1_entry() -> PublicKeyEntry {
    PublicKeyEntry::thirty_days(KeyId::One, utc(2026, 2, 20, 0, 0, 0))
}

fn key1_only(keys: &KeyRing) -> String {
    render_public_keys(keys, &[key1_entry()], PublicKeysShape::V1)
}

fn s(v: &str) -> String {
    v.to_string()
}

/// `--trail-arn A --start-time S --end-time E [--s3-bucket B]`
fn args(arn: &str, start: &str, end: &str, bucket: Option<&str>) -> Vec<String> {
    let mut v = vec![
        s("--trail-arn"),
        s(arn),
        s("--start-time"),
        s(start),
        s("--end-time"),
        s(end),
    ];
    if let Some(b) = bucket {
        v.push(s("--s3-bucket"));
        v.push(s(b));
    }
    v
}

fn plus(mut v: Vec<String>, extra: &[&str]) -> Vec<String> {
    v.extend(extra.iter().map(|e| s(e)));
    v
}

fn case(name: &str, args: Vec<String>) -> Case {
    Case {
        name: s(name),
        args,
        reference: None,
        differs: None,
    }
}

/// `default` and `verbose` with the same arguments.
fn default_and_verbose(args: Vec<String>) -> Vec<Case> {
    vec![
        case("default", args.clone()),
        case("verbose", plus(args, &["--verbose"])),
    ]
}

fn standard_window(bucket: &str) -> Vec<String> {
    args(&arn(ACCOUNT, TRAIL_NAME), WINDOW_START, WINDOW_END, Some(bucket))
}

/// A plain scenario over the base spec: seal `plan`, apply `damage`, default/verbose
/// cases over the standard window.
fn simple(
    name: &str,
    keys: &KeyRing,
    description: &str,
    adjust: impl FnOnce(&mut TrailPlan),
    damage: impl FnOnce(&mut Trail, &KeyRing),
) -> Scenario {
    let spec = base_spec(name);
    let mut plan = spec.plan();
    adjust(&mut plan);
    let mut trail = plan.seal(keys);
    damage(&mut trail, keys);
    Scenario {
        name: s(name),
        description: s(description),
        trail_info: plain_info(&spec.bucket),
        organization_id: None,
        cases: default_and_verbose(standard_window(&spec.bucket)),
        public_keys: key1_only(keys),
        trail,
    }
}

/// Changes one character of a log: the last digit of the first record's `eventTime`.
fn tamper_one_char(json: &[u8]) -> Vec<u8> {
    let needle = b"\"eventTime\":\"";
    let at = find(json, needle).expect("a record") + needle.len() + 18;
    let mut out = json.to_vec();
    out[at] = if out[at] == b'9' { b'8' } else { out[at] + 1 };
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn no_adjust(_: &mut TrailPlan) {}

fn no_damage(_: &mut Trail, _: &KeyRing) {}

// ---------------------------------------------------------------------------------
// Scenarios

fn clean_chain(keys: &KeyRing) -> Scenario {
    let mut sc = simple(
        "clean-chain",
        keys,
        "A clean chain of 7 hourly digests (2026-03-01T00:17:42Z to 07:17:42Z), the oldest a starting digest, two of them with no log files (logFiles []), 9 log files in all. Nothing is injected: every digest and log is valid and the exit code is 0. Extra cases: window-middle (02:00-05:00, also verbose) validates only the 4 digests ending 02:17:42 to 05:17:42 (the listing takes stamps up to end + 1 hour, and the walk stops after the first digest that starts before the window), results clipped to 02:00-05:00; window-before-newest ends at 05:17:42, two hours before the newest digest's end, so the newest digest is not listed (the one ending 06:17:42 still is: end + 1 hour) and results end at 05:17:42; window-empty (2026-03-02) has no digests at all and must print \"No digests found\".",
        no_adjust,
        no_damage,
    );
    let arn = arn(ACCOUNT, TRAIL_NAME);
    let b = bucket_for("clean-chain");
    sc.cases.push(case(
        "window-middle",
        args(&arn, "2026-03-01T02:00:00Z", "2026-03-01T05:00:00Z", Some(&b)),
    ));
    sc.cases.push(case(
        "window-middle-verbose",
        plus(
            args(&arn, "2026-03-01T02:00:00Z", "2026-03-01T05:00:00Z", Some(&b)),
            &["--verbose"],
        ),
    ));
    sc.cases.push(case(
        "window-before-newest",
        args(&arn, WINDOW_START, "2026-03-01T05:17:42Z", Some(&b)),
    ));
    sc.cases.push(case(
        "window-empty",
        args(&arn, "2026-03-02T00:00:00Z", "2026-03-02T06:00:00Z", Some(&b)),
    ));
    // Lenient date forms the reference accepts.
    sc.cases.push(case(
        "date-forms",
        args(&arn, "2026-03-01", "2026-03-01 08:00", Some(&b)),
    ));
    sc.cases.push(case(
        "date-compact",
        args(&arn, "20260301T00:00:00Z", "20260301T080000Z", Some(&b)),
    ));
    // Fatal errors, in the order the reference checks: dates, range, ARN, listing, keys.
    sc.cases.push(case(
        "error-bad-date",
        args(&arn, "yesterday", WINDOW_END, Some(&b)),
    ));
    sc.cases.push(case(
        "error-reversed-window",
        args(&arn, WINDOW_END, WINDOW_START, Some(&b)),
    ));
    sc.cases.push(case(
        "error-bad-arn",
        args(
            "arn:aws:cloudtrail:us-east-1:1111:trail/test-trail",
            WINDOW_START,
            WINDOW_END,
            Some(&b),
        ),
    ));
    sc.cases.push(case(
        "error-missing-bucket",
        args(&arn, WINDOW_START, WINDOW_END, Some("ctd-no-such-bucket")),
    ));
    sc.cases.push(case(
        "error-no-keys-in-window",
        args(&arn, "2025-06-01T00:00:00Z", "2025-06-02T00:00:00Z", Some(&b)),
    ));
    sc
}

fn starting_digest(keys: &KeyRing) -> Scenario {
    let name = "starting-digest";
    let spec = base_spec(name);
    let trail = spec.plan().seal(keys);
    Scenario {
        name: s(name),
        description: s("Logging (and validation) was turned on at 2026-03-01T01:17:42Z: the oldest digest (00:17:42-01:17:42, no log files) is a starting digest whose five previous* fields are null, followed by 6 chained digests. The window starts well before, at 2026-02-28T18:00:00Z. Everything is valid, no gap is reported (nothing older exists), and the results start at the starting digest's start time 00:17:42."),
        trail_info: plain_info(&spec.bucket),
        organization_id: None,
        cases: default_and_verbose(args(
            &arn(ACCOUNT, TRAIL_NAME),
            "2026-02-28T18:00:00Z",
            WINDOW_END,
            Some(&spec.bucket),
        )),
        public_keys: key1_only(keys),
        trail,
    }
}

fn gap_stopped_logging(keys: &KeyRing) -> Scenario {
    let name = "gap-stopped-logging";
    let mut first = base_spec(name);
    first.hours = 4;
    first.logs_per_hour = Count::Pattern(vec![0, 2, 1, 3]);
    let mut plan = first.plan();
    let mut second = base_spec(name);
    second.start = utc(2026, 3, 1, 6, 5, 29);
    second.hours = 4;
    second.logs_per_hour = Count::Pattern(vec![0, 2, 1, 2]);
    second.seed = hash_str("gap-stopped-logging/restart");
    plan.append(second.plan());
    let trail = plan.seal(keys);
    Scenario {
        name: s(name),
        description: s("Four chained digests (00:17:42 to 04:17:42), then logging stopped for about three hours (no digests at all), then logging restarted: a new starting digest (06:05:29-07:05:29, previous* null, no logs) followed by 3 chained digests up to 10:05:29. All 8 digests and their logs are valid; the reference reports the gap \"No log files were delivered by CloudTrail between 2026-03-01T04:17:42Z and 2026-03-01T06:05:29Z\" on stderr and the exit code stays 0."),
        trail_info: plain_info(&first.bucket),
        organization_id: None,
        cases: default_and_verbose(args(
            &arn(ACCOUNT, TRAIL_NAME),
            WINDOW_START,
            "2026-03-01T11:00:00Z",
            Some(&first.bucket),
        )),
        public_keys: key1_only(keys),
        trail,
    }
}

fn key_rotation(keys: &KeyRing) -> Scenario {
    let name = "key-rotation";
    let spec = base_spec(name);
    let mut plan = spec.plan();
    for d in &mut plan.digests[4..] {
        d.key = KeyId::Two;
    }
    let trail = plan.seal(keys);
    let entries = [
        key1_entry(),
        PublicKeyEntry::thirty_days(KeyId::Two, utc(2026, 3, 1, 3, 0, 0)),
    ];
    Scenario {
        name: s(name),
        description: s("Key rotation: the 4 oldest digests are signed by test key 1, the 3 newest (ending 05:17:42 to 07:17:42) by test key 2, and each digest names its signer in digestPublicKeyFingerprint. public-keys.json is in the AWS CLI v2 shape (ISO 8601 validity times) and holds both keys with overlapping 30-day windows (key 1 from 2026-02-20, key 2 from 2026-03-01T03:00). Everything is valid."),
        trail_info: plain_info(&spec.bucket),
        organization_id: None,
        cases: default_and_verbose(standard_window(&spec.bucket)),
        public_keys: render_public_keys(keys, &entries, PublicKeysShape::V2),
        trail,
    }
}

fn bucket_change(keys: &KeyRing) -> Scenario {
    let name = "bucket-change";
    let old = "ctd-bucket-change-bucket-a";
    let new = "ctd-bucket-change-bucket-b";
    let mut spec = base_spec(name);
    spec.bucket = s(new);
    let mut plan = spec.plan();
    for d in &mut plan.digests[..3] {
        d.set_bucket(old);
    }
    let trail = plan.seal(keys);
    Scenario {
        name: s(name),
        description: s("The trail's bucket was changed from ctd-bucket-change-bucket-a to ctd-bucket-change-bucket-b: the 3 oldest digests and their logs are in bucket A, the 4 newest and their logs in bucket B, and the oldest digest in B names the newest digest in A as previous (previousDigestS3Bucket = bucket A). Run with --s3-bucket B, validation must follow the chain into bucket A: all 7 digests and their logs valid."),
        trail_info: plain_info(new),
        organization_id: None,
        cases: default_and_verbose(standard_window(new)),
        public_keys: key1_only(keys),
        trail,
    }
}

fn prefix(keys: &KeyRing) -> Scenario {
    let name = "prefix";
    let mut spec = base_spec(name);
    spec.prefix = Some(s("audit/trails"));
    let trail = spec.plan().seal(keys);
    let mut info = plain_info(&spec.bucket);
    info.prefix = spec.prefix.clone();
    Scenario {
        name: s(name),
        description: s("The trail has S3KeyPrefix audit/trails: every digest and log key starts with audit/trails/AWSLogs/111122223333/. Cases pass --s3-prefix audit/trails; everything is valid."),
        trail_info: info,
        organization_id: None,
        cases: default_and_verbose(plus(
            standard_window(&spec.bucket),
            &["--s3-prefix", "audit/trails"],
        )),
        public_keys: key1_only(keys),
        trail,
    }
}

fn organization_trail(keys: &KeyRing) -> Scenario {
    let name = "organization-trail";
    let bucket = bucket_for(name);
    let mut member = base_spec(name);
    member.account = s(MEMBER_ACCOUNT);
    member.org_id = Some(s(ORG_ID));
    let mut plan = member.plan();
    let mut management = base_spec(name);
    management.org_id = Some(s(ORG_ID));
    management.start = utc(2026, 3, 1, 0, 21, 36);
    management.seed = hash_str("organization-trail/management");
    plan.append(management.plan());
    let trail = plan.seal(keys);
    let arn = arn(ACCOUNT, TRAIL_NAME);
    let ours = |account: &str| {
        plus(
            args(&arn, WINDOW_START, WINDOW_END, Some(&bucket)),
            &["--account-id", account],
        )
    };
    let theirs = |account: &str| {
        plus(
            args(&arn, WINDOW_START, WINDOW_END, None),
            &["--account-id", account],
        )
    };
    let with_ref = |name: &str, ours: Vec<String>, theirs: Vec<String>| Case {
        reference: Some(Reference {
            args: Some(theirs),
            metadata: Vec::new(),
        }),
        ..case(name, ours)
    };
    let cases = vec![
        with_ref("default", ours(MEMBER_ACCOUNT), theirs(MEMBER_ACCOUNT)),
        with_ref(
            "verbose",
            plus(ours(MEMBER_ACCOUNT), &["--verbose"]),
            plus(theirs(MEMBER_ACCOUNT), &["--verbose"]),
        ),
        with_ref("management-account", ours(ACCOUNT), theirs(ACCOUNT)),
    ];
    Scenario {
        name: s(name),
        description: s("An organization trail (o-a1b2c3d4e5) owned by management account 111122223333. Member account 444455556666 has its own chain under AWSLogs/o-a1b2c3d4e5/444455556666/ (digests' awsAccountId 444455556666, 7 digests from 00:17:42), and the management account its own under AWSLogs/o-a1b2c3d4e5/111122223333/ (7 digests from 00:21:36). Our tool is run with --s3-bucket and --account-id and must find the organization folder itself; the reference is run without --s3-bucket so that it resolves the folder through DescribeTrails (IsOrganizationTrail) and DescribeOrganization. Everything is valid; only the requested account's chain is validated."),
        trail_info: TrailInfo {
            arn: arn.clone(),
            bucket: bucket.clone(),
            prefix: None,
            is_org: true,
        },
        organization_id: Some(s(ORG_ID)),
        cases,
        public_keys: key1_only(keys),
        trail,
    }
}

fn multi_region(keys: &KeyRing) -> Scenario {
    let name = "multi-region";
    let mut spec = base_spec(name);
    spec.regions = vec![s("us-east-1"), s("eu-west-1")];
    let trail = spec.plan().seal(keys);
    let base = standard_window(&spec.bucket);
    let eu = plus(base.clone(), &["--region", "eu-west-1"]);
    let mut cases = default_and_verbose(base);
    cases.push(case("eu-west-1", eu.clone()));
    cases.push(case("eu-west-1-verbose", plus(eu, &["--verbose"])));
    Scenario {
        name: s(name),
        description: s("A multi-region trail (home us-east-1) delivering from us-east-1 (7 digests from 00:17:42) and eu-west-1 (7 digests from 00:24:55, keys .../CloudTrail-Digest/eu-west-1/.../111122223333_CloudTrail-Digest_eu-west-1_test-trail_us-east-1_STAMP.json.gz, logs under CloudTrail/eu-west-1/). Each region's chain is separate. default/verbose validate the home region only; eu-west-1 cases pass --region eu-west-1 and validate only the eu-west-1 chain. Everything is valid."),
        trail_info: plain_info(&spec.bucket),
        organization_id: None,
        cases,
        public_keys: key1_only(keys),
        trail,
    }
}

fn odd_trail_name(keys: &KeyRing) -> Scenario {
    let name = "odd-trail-name";
    let trail_name = "my_trail.v2-prod_x";
    let mut spec = base_spec(name);
    spec.trail_name = s(trail_name);
    let trail = spec.plan().seal(keys);
    let arn = arn(ACCOUNT, trail_name);
    Scenario {
        name: s(name),
        description: s("The trail is named my_trail.v2-prod_x (underscores, a dot and a hyphen), so digest file names must be parsed from the right. Everything is valid."),
        trail_info: TrailInfo {
            arn: arn.clone(),
            bucket: spec.bucket.clone(),
            prefix: None,
            is_org: false,
        },
        organization_id: None,
        cases: default_and_verbose(args(&arn, WINDOW_START, WINDOW_END, Some(&spec.bucket))),
        public_keys: key1_only(keys),
        trail,
    }
}

fn backfill(keys: &KeyRing) -> Scenario {
    backfill_named("backfill", keys, true)
}

/// The backfill trail under `name`; `with_key_two` puts key 2 in public-keys.json.
fn backfill_named(name: &str, keys: &KeyRing, with_key_two: bool) -> Scenario {
    let spec = base_spec(name);
    let mut plan = spec.plan();
    let mut bf = base_spec(name);
    bf.start = utc(2026, 3, 1, 1, 42, 9);
    bf.hours = 3;
    bf.logs_per_hour = Count::Pattern(vec![1, 2, 1]);
    bf.key = KeyId::Two;
    bf.backfill_generated = Some(utc(2026, 3, 3, 9, 41, 27));
    bf.seed = hash_str(&format!("{name}/backfill"));
    plan.append(bf.plan());
    let trail = plan.seal(keys);
    let mut entries = vec![key1_entry()];
    if with_key_two {
        entries.push(PublicKeyEntry::thirty_days(KeyId::Two, utc(2026, 3, 2, 12, 0, 0)));
    }
    Scenario {
        name: s(name),
        description: s("A normal chain of 7 digests signed by key 1, plus a separate chain of 3 backfill digests (keys ending _backfill.json.gz, 01:42:09 to 04:42:09, each with its own log files) signed by key 2 and generated on 2026-03-03T09:41:27Z (sidecars carry backfill-generation-timestamp). The backfill digests link to each other; the oldest has null previous* fields. public-keys.json holds key 1 (window covering the trail) and key 2 with a window (from 2026-03-02T12:00) that covers only the generation time, so the reference finds key 2 only through its lazy backfill key lookup. Everything is valid: the standard digests are reported first, then the backfill digests with the \"(backfill) \" prefix and a separate \"backfill digest files\" summary line."),
        trail_info: plain_info(&spec.bucket),
        organization_id: None,
        cases: default_and_verbose(standard_window(&spec.bucket)),
        public_keys: render_public_keys(keys, &entries, PublicKeysShape::V1),
        trail,
    }
}

fn tampered_log(keys: &KeyRing) -> Scenario {
    simple(
        "tampered-log",
        keys,
        "The first log file of the digest ending 04:17:42 was replaced by a valid gzip of its JSON with one character changed (a digit of the first record's eventTime). Its digest stays valid; the log must be reported \"INVALID: hash value doesn't match\" and the exit code is 1.",
        no_adjust,
        |t, _| {
            let j = t.digests[MIDDLE].logs[0];
            let changed = tamper_one_char(&t.log_inflated(j));
            let level = t.gzip_level;
            t.set_log_bytes(j, gzip::gzip_level(&changed, level));
        },
    )
}

fn deleted_log(keys: &KeyRing) -> Scenario {
    simple(
        "deleted-log",
        keys,
        "The second log file of the digest ending 04:17:42 was deleted. Its digest stays valid; the log must be reported \"INVALID: not found\" and the exit code is 1.",
        no_adjust,
        |t, _| {
            let j = t.digests[MIDDLE].logs[1];
            t.delete_log(j);
        },
    )
}

fn log_appended_member(keys: &KeyRing) -> Scenario {
    simple(
        "log-appended-member",
        keys,
        "The first log file of the digest ending 04:17:42 has a second gzip member (a gzip of {\"Records\":[]}) appended after its original, intact member. The log must be reported \"INVALID: unexpected data after end of compressed stream\" and the exit code is 1.",
        no_adjust,
        |t, _| {
            let j = t.digests[MIDDLE].logs[0];
            let mut bytes = t.logs[j].stored.clone().expect("log present");
            bytes.extend(gzip::gzip(b"{\"Records\":[]}"));
            t.set_log_bytes(j, bytes);
        },
    )
}

fn log_not_gzip(keys: &KeyRing) -> Scenario {
    simple(
        "log-not-gzip",
        keys,
        "Two damaged logs: the first log file of the digest ending 02:17:42 is stored as the plain (not gzip'd) bytes {\"Records\":[]}, which are not its original content, and must be reported \"INVALID: invalid format\"; the first log file of the digest ending 04:17:42 is truncated to the first half of its gzip bytes, which inflates to a prefix of the original, and must be reported \"INVALID: hash value doesn't match\". Exit code 1.",
        no_adjust,
        |t, _| {
            let a = t.digests[1].logs[0];
            t.set_log_bytes(a, b"{\"Records\":[]}".to_vec());
            let b = t.digests[MIDDLE].logs[0];
            let bytes = t.logs[b].stored.clone().expect("log present");
            t.set_log_bytes(b, bytes[..bytes.len() / 2].to_vec());
        },
    )
}

fn tampered_digest(keys: &KeyRing) -> Scenario {
    simple(
        "tampered-digest",
        keys,
        "The digest ending 04:17:42 was altered after signing: the last hex digit of its first logFiles hashValue was changed and the JSON re-gzipped; its sidecar (signature) is unchanged. It must be reported \"INVALID: signature verification failed\" and its logs are not checked; validation continues with the next older digest. Exit code 1.",
        no_adjust,
        |t, _| {
            let mut json = t.digests[MIDDLE].inflated.clone();
            let needle = b"\"hashValue\":\"";
            let at = find(&json, needle).expect("a log entry") + needle.len() + 63;
            json[at] = if json[at] == b'0' { b'1' } else { b'0' };
            t.replace_digest_json(MIDDLE, &json);
        },
    )
}

fn deleted_digest(keys: &KeyRing) -> Scenario {
    simple(
        "deleted-digest",
        keys,
        "The digest ending 04:17:42 and its sidecar were deleted. The newer digest still names it as previous, so it must be reported \"INVALID: not found\"; validation continues with the next older listed digest (its logs are never checked). Exit code 1.",
        no_adjust,
        |t, _| t.delete_digest(MIDDLE),
    )
}

fn deleted_two_digests(keys: &KeyRing) -> Scenario {
    simple(
        "deleted-two-digests",
        keys,
        "Two consecutive digests (ending 04:17:42 and 05:17:42) and their sidecars were deleted. The reference reports only the newer one (\"INVALID: not found\", named by its successor), then jumps to the next listed digest older than it, so the older deleted digest is never mentioned. Exit code 1.",
        no_adjust,
        |t, _| {
            t.delete_digest(MIDDLE);
            t.delete_digest(MIDDLE + 1);
        },
    )
}

fn deleted_newest_digest(keys: &KeyRing) -> Scenario {
    simple(
        "deleted-newest-digest",
        keys,
        "The newest digest (ending 07:17:42) and its sidecar were deleted. Nothing names it, so the reference does not notice: the 6 remaining digests and their logs are valid, results end at 06:17:42, and the exit code is 0.",
        no_adjust,
        |t, _| t.delete_digest(6),
    )
}

fn moved_digest(keys: &KeyRing) -> Scenario {
    let name = "moved-digest";
    let replica = "ctd-moved-digest-replica";
    let mut sc = simple(
        name,
        keys,
        "The object at the key of the digest ending 04:17:42 holds the bytes and sidecar of the digest ending 02:17:42 (copied over it), so its digestS3Object names another key: it must be reported \"INVALID: has been moved from its original location\" and validation continues with the next older digest. Exit code 1. Case replica-bucket: the whole bucket was also copied to ctd-moved-digest-replica and validated there with --s3-bucket ctd-moved-digest-replica; every digest names the original bucket, so every listed digest is reported as moved and no log is checked (\"No valid digests found in range\").",
        no_adjust,
        |t, _| {
            t.copy_digest_over(1, MIDDLE);
            t.replicate_bucket(&bucket_for("moved-digest"), replica);
        },
    );
    sc.cases.push(case(
        "replica-bucket",
        args(&arn(ACCOUNT, TRAIL_NAME), WINDOW_START, WINDOW_END, Some(replica)),
    ));
    sc
}

fn missing_signature_metadata(keys: &KeyRing) -> Scenario {
    simple(
        "missing-signature-metadata",
        keys,
        "The S3 metadata (sidecar) of the NEWEST digest (ending 07:17:42) was removed. Nothing newer holds its signature, so both tools must report it \"INVALID: signature verification failed\" and continue with the next older digest; the other 6 digests and their logs are valid. Exit code 1.",
        no_adjust,
        |t, _| t.delete_sidecar(6),
    )
}

fn recovered_signature(keys: &KeyRing) -> Scenario {
    let mut sc = simple(
        "recovered-signature",
        keys,
        "The S3 metadata (sidecars) of two consecutive middle digests (ending 04:17:42 and 05:17:42) were removed. Our tool recovers each missing signature from the previousDigestSignature of the following digest and must report every digest valid (exit code 0). The reference cannot do that, so it is given the removed metadata through the case's reference.metadata and then prints what we must print.",
        no_adjust,
        |t, _| {
            t.delete_sidecar(MIDDLE);
            t.delete_sidecar(MIDDLE + 1);
        },
    );
    let metadata: Vec<(String, Metadata)> = [MIDDLE, MIDDLE + 1]
        .iter()
        .map(|&i| {
            let d = &sc.trail.digests[i];
            (
                format!("{}/{}", d.bucket, d.key),
                Metadata {
                    signature: d.signature.clone(),
                    signature_algorithm: s("SHA256withRSA"),
                    backfill_generation_timestamp: None,
                },
            )
        })
        .collect();
    for c in &mut sc.cases {
        c.reference = Some(Reference {
            args: None,
            metadata: metadata.clone(),
        });
    }
    sc
}

fn wrong_signature(keys: &KeyRing) -> Scenario {
    simple(
        "wrong-signature",
        keys,
        "Three digests carry bad signatures in their S3 metadata: the digest ending 02:17:42 has a well-formed signature by the right key made over a different string (its string to sign with \"null\" as previous signature) and must be reported \"INVALID: signature verification failed\"; the digest ending 04:17:42 has the non-hex signature \"zz12\" and the one ending 06:17:42 the odd-length \"abc\", which the reference cannot hex-decode (it reports the decoder's message: \"INVALID: Non-hexadecimal digit found\" and \"INVALID: Odd-length string\"). The other digests and their logs are valid. Exit code 1.",
        no_adjust,
        |t, keys| {
            let d = &t.digests[1];
            let other = crate::digest::string_to_sign(
                &iso(d.end),
                &d.bucket,
                &d.key,
                &d.inflated,
                None,
            );
            let sig = keys.get(d.key_id).sign_hex(other.as_bytes());
            t.set_signature(1, &sig);
            t.set_signature(MIDDLE, "zz12");
            t.set_signature(5, "abc");
        },
    )
}

fn unknown_fingerprint(keys: &KeyRing) -> Scenario {
    let fp2 = keys.get(KeyId::Two).fingerprint.clone();
    simple(
        "unknown-fingerprint",
        keys,
        &format!("The digest ending 04:17:42 is correctly signed, but by test key 2 (digestPublicKeyFingerprint {fp2}), and public-keys.json holds only key 1. It must be reported \"INVALID: public key not found in region us-east-1 for fingerprint {fp2}\"; the other digests (key 1) and their logs are valid. Exit code 1."),
        |p| p.digests[MIDDLE].key = KeyId::Two,
        no_damage,
    )
}

fn digest_not_gzip(keys: &KeyRing) -> Scenario {
    simple(
        "digest-not-gzip",
        keys,
        "The digest ending 04:17:42 is stored as its plain inflated JSON (not gzip'd), sidecar unchanged. It must be reported \"INVALID: invalid format\" and validation continues with the next older digest. Exit code 1.",
        no_adjust,
        |t, _| t.store_digest_inflated(MIDDLE),
    )
}

fn digest_missing_field(keys: &KeyRing) -> Scenario {
    simple(
        "digest-missing-field",
        keys,
        "The digest ending 04:17:42 lacks the digestStartTime field; it is otherwise well-formed and correctly signed over its actual bytes (and the next digest links to those bytes). A required field is missing, so it must be reported \"INVALID: invalid format\". Exit code 1.",
        |p| p.digests[MIDDLE].omit_fields = vec![s("digestStartTime")],
        no_damage,
    )
}

fn backfill_key_missing(keys: &KeyRing) -> Scenario {
    let mut sc = backfill_named("backfill-key-missing", keys, false);
    sc.description = s("The backfill scenario with public-keys.json holding only key 1: the backfill digests are signed by key 2, so the reference's lazy key lookup around their generation time finds no key. In the backfill pass that is not fatal: each backfill digest is reported \"(backfill) ... INVALID: No public keys found between GEN-1h and GEN+1h\". The hourly digests are valid. Exit code 1.");
    sc
}

fn digest_odd_json(keys: &KeyRing) -> Scenario {
    simple(
        "digest-odd-json",
        keys,
        "Three digests hold gzip'd JSON that is not a digest object, sidecars unchanged: the digest ending 02:17:42 holds `[1]`, the one ending 04:17:42 holds `\"text\"`, the one ending 06:17:42 holds `{}`. The reference stores the signature into the decoded value, so a list or a string fails with Python's own words (\"INVALID: list indices must be integers or slices, not str\", \"INVALID: 'str' object does not support item assignment\"), and the empty object lacks required fields (\"INVALID: invalid format\"). Exit code 1.",
        no_adjust,
        |t, _| {
            t.replace_digest_json(1, b"[1]");
            t.replace_digest_json(MIDDLE, b"\"text\"");
            t.replace_digest_json(5, b"{}");
        },
    )
}

fn digest_without_logfiles(keys: &KeyRing) -> Scenario {
    simple(
        "digest-without-logfiles",
        keys,
        "The digest ending 04:17:42 has no logFiles field at all, and is correctly signed over its actual bytes. logFiles is not among the fields the reference requires, so the digest verifies (\"valid\" with --verbose), and then the reference aborts on the missing field: stderr \"\\n'logFiles'\\n\", exit code 255, no summary.",
        |p| p.digests[MIDDLE].omit_fields = vec![s("logFiles")],
        no_damage,
    )
}

fn log_stored_decompressed(keys: &KeyRing) -> Scenario {
    let mut sc = simple(
        "log-stored-decompressed",
        keys,
        "The first log file of the digest ending 04:17:42 is stored already decompressed: exactly the inflated bytes whose SHA-256 is the recorded hashValue. The reference runs every log through a gzip decoder and reports it \"INVALID: invalid format\" (exit code 1); our tool accepts an uncompressed log whose hash matches and reports everything valid (exit code 0).",
        no_adjust,
        |t, _| {
            let j = t.digests[MIDDLE].logs[0];
            let inflated = t.log_inflated(j);
            t.set_log_bytes(j, inflated);
        },
    );
    for c in &mut sc.cases {
        c.differs = Some(s("The log is stored uncompressed but byte-identical to what its digest hashed; the AWS CLI only accepts gzip'd logs and reports it \"invalid format\", while our tool verifies the hash of the stored bytes and reports it valid, so expected/ comes from our binary (reviewed by hand) and reference/ holds the AWS CLI's output."));
    }
    sc
}

fn offset_dates(keys: &KeyRing) -> Scenario {
    let mut sc = simple(
        "offset-dates",
        keys,
        "A clean chain validated with start and end times given with UTC offsets. Our tool converts them (2026-03-01T02:00:00+02:00 is 00:00:00Z, 2026-03-01T10:00:00+02:00 is 08:00:00Z; the negative-offset case uses -05:00 for the same instants) and must print the same as the reference run with the converted Z times (the reference itself would drop the offset instead of converting it). Everything is valid.",
        no_adjust,
        no_damage,
    );
    let arn = arn(ACCOUNT, TRAIL_NAME);
    let b = bucket_for("offset-dates");
    let zulu = args(&arn, WINDOW_START, WINDOW_END, Some(&b));
    let with_offsets = |name: &str, start: &str, end: &str, verbose: bool| {
        let extra: &[&str] = if verbose { &["--verbose"] } else { &[] };
        Case {
            reference: Some(Reference {
                args: Some(plus(zulu.clone(), extra)),
                metadata: Vec::new(),
            }),
            ..case(name, plus(args(&arn, start, end, Some(&b)), extra))
        }
    };
    sc.cases = vec![
        with_offsets(
            "default",
            "2026-03-01T02:00:00+02:00",
            "2026-03-01T10:00:00+02:00",
            false,
        ),
        with_offsets(
            "verbose",
            "2026-03-01T02:00:00+02:00",
            "2026-03-01T10:00:00+02:00",
            true,
        ),
        with_offsets(
            "negative-offset",
            "2026-02-28T19:00:00-05:00",
            "2026-03-01T03:00:00-05:00",
            false,
        ),
    ];
    sc
}

// ---------------------------------------------------------------------------------
// The sample

/// Name of the sample trail.
pub const SAMPLE_TRAIL: &str = "sample-trail";
/// Bucket of the sample trail.
pub const SAMPLE_BUCKET: &str = "ctd-sample-bucket";

/// The command line that validates the sample (from the repository root).
pub fn sample_command() -> String {
    format!(
        "cloudtrail-digest validate-logs --local-dir testdata/sample/mirror --public-keys testdata/sample/public-keys.json --trail-arn {} --s3-bucket {SAMPLE_BUCKET} --start-time 2026-03-01T00:00:00Z --end-time 2026-03-02T01:00:00Z",
        arn(ACCOUNT, SAMPLE_TRAIL)
    )
}

/// The sample trail: multi-region (us-east-1 home, eu-west-1), 24 hours from
/// 2026-03-01T00:17:42Z, 0-4 logs per hour of 3-30 records, signed by key 1.
pub fn sample_trail(keys: &KeyRing) -> Trail {
    let mut spec = TrailSpec::new(ACCOUNT, SAMPLE_TRAIL, SAMPLE_BUCKET, trail_start());
    spec.regions = vec![s("us-east-1"), s("eu-west-1")];
    spec.hours = 24;
    spec.logs_per_hour = Count::Range(0, 4);
    spec.records_per_log = Count::Range(3, 30);
    spec.seed = hash_str("sample");
    spec.plan().seal(keys)
}

fn sample_readme() -> String {
    let lines = [
        "# Sample trail".to_string(),
        String::new(),
        "A small, really signed CloudTrail trail for trying `cloudtrail-digest` without AWS.".into(),
        "Generated by `cargo run -p testgen -- sample` (deterministic; do not edit by hand).".into(),
        String::new(),
        format!("- Trail `{}`,", arn(ACCOUNT, SAMPLE_TRAIL)),
        format!("  multi-region (home region us-east-1, delivering from us-east-1 and eu-west-1), bucket `{SAMPLE_BUCKET}`."),
        "- 24 hourly digests per region from 2026-03-01T00:17:42Z (eu-west-1 from 00:24:55Z),".into(),
        "  0-4 log files per hour, signed with the test-only key `testdata/keys/test-signing-key-1.pem`.".into(),
        "  `public-keys.json` is what `aws cloudtrail list-public-keys` would print for it.".into(),
        "- `mirror/` holds the bucket as `mirror/BUCKET/KEY`, each digest's S3 metadata in".into(),
        "  `KEY.metadata.json` (see `testdata/FORMAT.md`).".into(),
        String::new(),
        "Validate it (from the repository root):".into(),
        String::new(),
        "```sh".into(),
        sample_command(),
        "```".into(),
        String::new(),
        "Add `--verbose` to list every file, or `--region eu-west-1` to validate the eu-west-1 chain.".into(),
    ];
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// Writes the sample into `out`: `mirror/` (deleted and rewritten), `public-keys.json`
/// and `README.md`.
pub fn write_sample(out: &Path) -> io::Result<()> {
    let keys = KeyRing::test_keys();
    let trail = sample_trail(&keys);
    fs::create_dir_all(out)?;
    let mirror = out.join("mirror");
    if mirror.exists() {
        fs::remove_dir_all(&mirror)?;
    }
    fs::create_dir_all(&mirror)?;
    trail.write_to(&mirror)?;
    fs::write(out.join("public-keys.json"), key1_only(&keys))?;
    fs::write(out.join("README.md"), sample_readme())?;
    Ok(())
}

/// Public keys covering `[start, end]` with key 1: consecutive 30-day windows from
/// the day before `start` (for custom trails).
pub fn key1_covering(keys: &KeyRing, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let day = start
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        - Duration::days(1);
    let mut entries = vec![PublicKeyEntry::thirty_days(KeyId::One, day)];
    while entries.last().expect("one entry").valid_to < end + Duration::hours(2) {
        let last = entries.last().expect("one entry").valid_to;
        // Real windows overlap; the same key is simply listed again.
        entries.push(PublicKeyEntry::thirty_days(KeyId::One, last - Duration::days(1)));
    }
    render_public_keys(keys, &entries, PublicKeysShape::V1)
}

/// Log keys an attacker would like a validly signed digest to name: each would read
/// outside the mirror root (or cannot name an S3 object at all) and must be refused.
/// `(s3Bucket, s3Object)`; the bucket's own name is `None`.
fn hostile_log_keys() -> Vec<(Option<&'static str>, String)> {
    vec![
        // From mirror/BUCKET/ up to the scenario directory: public-keys.json.
        (None, s("../../public-keys.json")),
        (None, s("/etc/passwd")),
        (None, s("..\\..\\public-keys.json")),
        (
            None,
            s("AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/log\0.json.gz"),
        ),
        (None, s("AWSLogs//111122223333/log.json.gz")),
        (None, s("AWSLogs/./../../../public-keys.json")),
        (None, format!("AWSLogs/{}.json.gz", "k".repeat(1100))),
        // One segment longer than any file name: no file, so no object.
        (None, format!("AWSLogs/{}.json.gz", "n".repeat(300))),
        // mirror/../public-keys.json: the bucket itself climbs out. Last, because the
        // AWS CLI stops at it (NoSuchBucket).
        (Some(".."), s("public-keys.json")),
    ]
}

fn hostile_input(keys: &KeyRing) -> Scenario {
    let mut sc = simple(
        "hostile-input",
        keys,
        "Input an attacker may have planted. The digest ending 04:17:42 is re-signed (and the chain after it) with nine extra logFiles entries whose keys climb out of the mirror (`../../public-keys.json`, which exists, recorded with the SHA-256 of its bytes so that reading it would pass as a log stored decompressed), are absolute, hold backslashes, a NUL byte, an empty or `.` segment, exceed S3's 1024-byte key limit, hold a 300-byte segment, or name the bucket `..`. Each must be refused with its reason (the 300-byte segment is simply not found) and nothing outside the mirror read. The digest ending 02:17:42 holds JSON nested 100,000 deep (reported \"invalid format\"), the one ending 06:17:42 is a gzip bomb inflating to 65 MiB of zeros (refused, not loaded). Exit code 1.",
        no_adjust,
        |t, keys| {
            let bucket = t.digests[MIDDLE].bucket.clone();
            let planted_hash = crate::digest::sha256_hex(key1_only(keys).as_bytes());
            crate::audit_scenarios::resign(t, keys, MIDDLE, |text| {
                let mut entries = String::new();
                for (b, key) in hostile_log_keys() {
                    entries.push_str("{\"s3Bucket\":");
                    crate::json::push_java_str(&mut entries, b.unwrap_or(&bucket));
                    entries.push_str(",\"s3Object\":");
                    crate::json::push_java_str(&mut entries, &key);
                    entries.push_str(&format!(
                        ",\"hashValue\":\"{planted_hash}\",\"hashAlgorithm\":\"SHA-256\",\"newestEventTime\":\"2026-03-01T04:00:00Z\",\"oldestEventTime\":\"2026-03-01T03:30:00Z\"}},"
                    ));
                }
                text.replacen("\"logFiles\":[", &format!("\"logFiles\":[{entries}"), 1)
            });
            let depth = 100_000;
            let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            t.replace_digest_json(1, nested.as_bytes());
            t.digests[5].stored = Some(gzip::gzip_level(&vec![0u8; 65 << 20], 9));
        },
    );
    for c in &mut sc.cases {
        c.differs = Some(s("The AWS CLI looks each planted key up in S3, where none exists, so it reports them \"not found\" and stops at the bucket `..` (NoSuchBucket); it inflates the bomb in full and reports \"invalid format\". Our tool refuses each key with its reason and never reads outside the mirror, and refuses the bomb unloaded, so expected/ comes from our binary (reviewed by hand) and reference/ holds the AWS CLI's output."));
    }
    sc
}
