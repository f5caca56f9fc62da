//! Trees for `cloudtrail-digest audit` under `testdata/audit/`: tampering that
//! `validate-logs` cannot see, and larger trees (several accounts, regions and trails).
//!
//! Each tree holds `mirror/`, `public-keys.json` and `audit.json`:
//! `{"description": ..., "args": [...], "exit": N}`, where `args` are the audit's window
//! options (the runner adds `--local-dir` and `--public-keys`) and `exit` its exit code.
//! Unless a tree says otherwise: account 111122223333, trail `test-trail` (home and only
//! region us-east-1), bucket `ctd-audit-<name>-bucket`, seven hourly digests from
//! 2026-03-01T00:17:42Z with 0, 2, 1, 3, 0, 2, 1 logs, window 2026-03-01T00:00:00Z to
//! 08:00:00Z, audited as of 2026-03-02T00:00:00Z.

use std::fs;
use std::io;
use std::path::Path;

use chrono::Duration;

use crate::digest::{sha256_hex, string_to_sign};
use crate::gzip;
use crate::json::Json;
use crate::keys::KeyRing;
use crate::records::{generate_log, LogRequest, TrailCall};
use crate::rng::hash_str;
use crate::scenarios::{key1_covering, trail_start, ACCOUNT, HOME, MEMBER_ACCOUNT, ORG_ID, TRAIL_NAME};
use crate::times::{iso, utc};
use crate::trail::{Count, Trail, TrailPlan, TrailSpec};

/// Every audit tree, in generation order.
pub const NAMES: &[&str] = &[
    "multi-account-multi-region",
    "three-deleted-digests",
    "forged-log",
    "resigned-wrong-previous-hash",
    "resigned-wrong-previous-signature",
    "broken-contiguity",
    "misplaced-log",
    "gap-explained",
    "stopped-tail",
];

const WINDOW_START: &str = "2026-03-01T00:00:00Z";
const WINDOW_END: &str = "2026-03-01T08:00:00Z";
const NOW: &str = "2026-03-02T00:00:00Z";

/// One audit tree.
#[derive(Clone, Debug)]
pub struct AuditScenario {
    /// Directory name.
    pub name: String,
    /// What is injected and what the audit must find.
    pub description: String,
    /// Audit options besides the data source.
    pub args: Vec<String>,
    /// Expected exit code.
    pub exit: i32,
    /// Text of `public-keys.json`.
    pub public_keys: String,
    /// The mirror's content.
    pub trail: Trail,
}

impl AuditScenario {
    /// The text of `audit.json`.
    pub fn audit_json(&self) -> String {
        let doc = Json::obj([
            ("description", Json::str(self.description.clone())),
            ("args", Json::str_arr(&self.args)),
            ("exit", Json::Num(self.exit.to_string())),
        ]);
        let mut s = doc.pretty(2, true);
        s.push('\n');
        s
    }

    /// Writes the tree into `dir` (`mirror/` is deleted and rewritten).
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        crate::scenarios::write_tree(dir, &self.trail, &self.public_keys)?;
        fs::write(dir.join("audit.json"), self.audit_json())
    }
}

/// Builds one tree by name.
pub fn build(name: &str, keys: &KeyRing) -> Option<AuditScenario> {
    Some(match name {
        "multi-account-multi-region" => multi_account_multi_region(keys),
        "three-deleted-digests" => three_deleted_digests(keys),
        "forged-log" => forged_log(keys),
        "resigned-wrong-previous-hash" => resigned_wrong_previous_hash(keys),
        "resigned-wrong-previous-signature" => resigned_wrong_previous_signature(keys),
        "broken-contiguity" => broken_contiguity(keys),
        "misplaced-log" => misplaced_log(keys),
        "gap-explained" => gap_explained(keys),
        "stopped-tail" => stopped_tail(keys),
        _ => return None,
    })
}

/// Builds and writes the named trees (all when `only` is empty) under `out`.
pub fn write_all(out: &Path, only: &[String]) -> io::Result<Vec<String>> {
    if let Some(o) = only.iter().find(|o| !NAMES.contains(&o.as_str())) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown audit scenario {o:?}"),
        ));
    }
    let keys = KeyRing::test_keys();
    let mut written = Vec::new();
    for name in NAMES {
        if only.is_empty() || only.iter().any(|o| o == name) {
            build(name, &keys)
                .expect("every listed tree builds")
                .write(&out.join(name))?;
            written.push(name.to_string());
        }
    }
    Ok(written)
}

// ---------------------------------------------------------------------------------
// Building blocks

fn bucket_for(name: &str) -> String {
    format!("ctd-audit-{name}-bucket")
}

fn trail_arn(account: &str, trail: &str) -> String {
    format!("arn:aws:cloudtrail:{HOME}:{account}:trail/{trail}")
}

fn window_args(start: &str, end: &str) -> Vec<String> {
    ["--start-time", start, "--end-time", end, "--now", NOW]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn base_spec(name: &str) -> TrailSpec {
    let mut s = TrailSpec::new(ACCOUNT, TRAIL_NAME, &bucket_for(name), trail_start());
    s.hours = 7;
    s.logs_per_hour = Count::Pattern(vec![0, 2, 1, 3, 0, 2, 1]);
    s.records_per_log = Count::Range(2, 5);
    s.seed = hash_str(&format!("audit/{name}"));
    s
}

fn keys_for(keys: &KeyRing, plan: &TrailPlan) -> String {
    let (first, last) = plan.time_span().expect("digests planned");
    key1_covering(keys, first, last)
}

/// The base trail, adjusted as planned and damaged after sealing.
fn simple(
    name: &str,
    keys: &KeyRing,
    description: &str,
    exit: i32,
    adjust: impl FnOnce(&mut TrailPlan),
    damage: impl FnOnce(&mut Trail, &KeyRing),
) -> AuditScenario {
    let mut plan = base_spec(name).plan();
    adjust(&mut plan);
    let mut trail = plan.seal(keys);
    damage(&mut trail, keys);
    AuditScenario {
        name: name.to_string(),
        description: description.to_string(),
        args: window_args(WINDOW_START, WINDOW_END),
        exit,
        public_keys: keys_for(keys, &plan),
        trail,
    }
}

/// Replaces digest `i`'s inflated JSON by `edit` of it and signs it again with its key;
/// every digest that names it as previous is updated (its recorded hash and signature)
/// and signed again in turn, so the rest of the chain stays consistent.
pub fn resign(trail: &mut Trail, keys: &KeyRing, i: usize, edit: impl FnOnce(&str) -> String) {
    let text = String::from_utf8(trail.digests[i].inflated.clone()).expect("digest JSON is UTF-8");
    apply(trail, keys, i, edit(&text));
}

fn apply(trail: &mut Trail, keys: &KeyRing, i: usize, text: String) {
    let level = trail.gzip_level;
    let d = &mut trail.digests[i];
    let (old_hash, old_signature) = (sha256_hex(&d.inflated), d.signature.clone());
    let doc: serde_json::Value = serde_json::from_str(&text).expect("edited digest is JSON");
    d.previous_signature = doc["previousDigestSignature"].as_str().map(str::to_string);
    d.inflated = text.into_bytes();
    let to_sign = string_to_sign(
        &iso(d.end),
        &d.bucket,
        &d.key,
        &d.inflated,
        d.previous_signature.as_deref(),
    );
    d.signature = keys.get(d.key_id).sign_hex(to_sign.as_bytes());
    d.stored = Some(gzip::gzip_level(&d.inflated, level));
    let signature = d.signature.clone();
    let new_hash = sha256_hex(&d.inflated);
    if let Some(m) = &mut d.metadata {
        m.signature = signature.clone();
    }
    let next: Vec<usize> = (0..trail.digests.len())
        .filter(|&j| trail.digests[j].previous == Some(i))
        .collect();
    for j in next {
        let text = String::from_utf8(trail.digests[j].inflated.clone())
            .expect("digest JSON is UTF-8")
            .replace(&old_hash, &new_hash)
            .replace(&old_signature, &signature);
        apply(trail, keys, j, text);
    }
}

/// Index of the log of digest `i` delivered last (the "last log before" what follows).
fn last_log(plan: &TrailPlan, i: usize) -> usize {
    let logs = &plan.digests[i].logs;
    (0..logs.len())
        .max_by_key(|&j| logs[j].delivered)
        .expect("the digest has logs")
}

fn call(plan: &mut TrailPlan, i: usize, event_name: &str, trail: &str) {
    let j = last_log(plan, i);
    let content = &mut plan.digests[i].logs[j].content;
    content.trail_call = Some(TrailCall {
        event_name: event_name.to_string(),
        trail_arn: trail_arn(&content.account, trail),
        time: content.to,
    });
}

// ---------------------------------------------------------------------------------
// Trees

fn multi_account_multi_region(keys: &KeyRing) -> AuditScenario {
    let name = "multi-account-multi-region";
    let bucket = bucket_for(name);
    let org_bucket = "ctd-audit-org-bucket";
    let mut specs = Vec::new();
    let mut a = base_spec(name);
    a.regions = vec![HOME.into(), "eu-west-1".into(), "ap-southeast-2".into()];
    specs.push(a);
    let mut b = base_spec(name);
    b.account = MEMBER_ACCOUNT.into();
    b.regions = vec![HOME.into(), "eu-west-1".into()];
    b.start = utc(2026, 3, 1, 0, 3, 11);
    b.seed = hash_str("audit/multi/b");
    specs.push(b);
    let mut second = base_spec(name);
    second.trail_name = "second_trail.v2".into();
    second.start = utc(2026, 3, 1, 0, 41, 5);
    second.logs_per_hour = Count::Pattern(vec![1, 0, 2]);
    second.seed = hash_str("audit/multi/second");
    specs.push(second);
    for (i, account) in [ACCOUNT, MEMBER_ACCOUNT].iter().enumerate() {
        let mut org = base_spec(name);
        org.bucket = org_bucket.into();
        org.prefix = Some("org/trails".into());
        org.org_id = Some(ORG_ID.into());
        org.account = account.to_string();
        org.trail_name = "org-trail".into();
        org.start = utc(2026, 3, 1, 0, 12 + 7 * i as u32, 30);
        org.seed = hash_str(&format!("audit/multi/org/{account}"));
        specs.push(org);
    }
    let mut plan = specs[0].plan();
    for s in &specs[1..] {
        plan.append(s.plan());
    }
    let trail = plan.seal(keys);
    AuditScenario {
        name: name.into(),
        description: format!("Eight clean chains in one run. Bucket {bucket}: account {ACCOUNT}, trail test-trail (home us-east-1) delivering from us-east-1, eu-west-1 and ap-southeast-2; account {MEMBER_ACCOUNT}, trail test-trail from us-east-1 and eu-west-1; and a second trail second_trail.v2 of account {ACCOUNT} in us-east-1 whose logs share the folder AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/ with test-trail's. Bucket {org_bucket}, prefix org/trails: organization trail org-trail of {ORG_ID} with chains for accounts {ACCOUNT} and {MEMBER_ACCOUNT}. Seven hourly digests each. The audit must find all eight chains and exit 0; --account-id, --region and --trail-name narrow it."),
        args: window_args(WINDOW_START, WINDOW_END),
        exit: 0,
        public_keys: keys_for(keys, &plan),
        trail,
    }
}

fn three_deleted_digests(keys: &KeyRing) -> AuditScenario {
    simple(
        "three-deleted-digests",
        keys,
        "Three consecutive digests (ending 03:17:42, 04:17:42 and 05:17:42) and their sidecars were deleted. validate-logs names only the newest of them; the audit must report one missing_digests run of count 3 from 02:17:42 to 05:17:42 and each of the three keys as a missing digest, and the 4 log files those digests listed as unreferenced (unverifiable). Exit 1.",
        1,
        |_| {},
        |t, _| {
            for i in 2..5 {
                t.delete_digest(i);
            }
        },
    )
}

fn forged_log(keys: &KeyRing) -> AuditScenario {
    let name = "forged-log";
    simple(
        name,
        keys,
        "A forged log file, AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0340Z_FoRgEdLoGfIlE001.json.gz, well-formed gzip'd CloudTrail JSON, was placed beside the real logs of the hour 03:17:42-04:17:42. No digest lists it, so validate-logs never looks at it; every digest and listed log is valid. The audit must report it as an invalid unreferenced_log inside the hours of the valid digest ending 04:17:42. Exit 1.",
        1,
        |_| {},
        |t, _| {
            let delivered = utc(2026, 3, 1, 3, 40, 0);
            let content = generate_log(&LogRequest {
                seed: hash_str("audit/forged-log/forgery"),
                account: ACCOUNT.into(),
                region: HOME.into(),
                from: delivered - Duration::minutes(12),
                to: delivered - Duration::seconds(30),
                records: 4,
                trail_call: None,
            });
            let layout = base_spec(name).layout();
            t.put_object(
                &bucket_for(name),
                &layout.log_key(HOME, delivered, "FoRgEdLoGfIlE001"),
                gzip::gzip(&content.json),
            );
        },
    )
}

fn resigned_wrong_previous_hash(keys: &KeyRing) -> AuditScenario {
    simple(
        "resigned-wrong-previous-hash",
        keys,
        "The digest ending 04:17:42 was rewritten with a wrong previousDigestHashValue (64 zeros) and signed again with the test key, as someone holding the signing key could; the digests after it were updated to link to the rewritten bytes and signed again. Every signature verifies and validate-logs reports everything valid. The audit must report a chain_link (check previous_hash) on the digest ending 04:17:42 naming the digest ending 03:17:42. Exit 1.",
        1,
        |_| {},
        |t, keys| {
            let old = t.digests[2].inflated.clone();
            let hash = sha256_hex(&old);
            resign(t, keys, 3, |text| text.replace(&hash, &"0".repeat(64)));
        },
    )
}

fn resigned_wrong_previous_signature(keys: &KeyRing) -> AuditScenario {
    simple(
        "resigned-wrong-previous-signature",
        keys,
        "The digest ending 04:17:42 was rewritten with a previousDigestSignature that is not the previous digest's signature (the signature of the digest ending 02:17:42 instead) and signed again with the test key; the digests after it were updated and signed again. Every signature verifies. The audit must report a chain_link (check previous_signature) on the digest ending 04:17:42. Exit 1.",
        1,
        |_| {},
        |t, keys| {
            let (right, wrong) = (t.digests[2].signature.clone(), t.digests[1].signature.clone());
            resign(t, keys, 3, |text| text.replace(&right, &wrong));
        },
    )
}

fn broken_contiguity(keys: &KeyRing) -> AuditScenario {
    simple(
        "broken-contiguity",
        keys,
        "The digest ending 05:17:42 says it starts at 04:27:42, ten minutes after the previous digest ended (04:17:42); it is correctly signed and linked by hash and signature. The audit must report a chain_link (check contiguity) on it. Exit 1.",
        1,
        |p| p.digests[4].start += Duration::minutes(10),
        |_, _| {},
    )
}

fn misplaced_log(keys: &KeyRing) -> AuditScenario {
    let name = "misplaced-log";
    simple(
        name,
        keys,
        "The us-east-1 digest ending 04:17:42 lists, and correctly hashes, a log file whose key places it in region eu-west-1 (AWSLogs/111122223333/CloudTrail/eu-west-1/...). Its hash is valid, so validate-logs reports it valid; the audit must report that log invalid because it belongs to another region than the digest. Exit 1.",
        1,
        |p| {
            let layout = base_spec(name).layout();
            let log = &mut p.digests[3].logs[0];
            log.key = layout.log_key("eu-west-1", log.delivered, "MiSpLaCeDlOg0001");
        },
        |_, _| {},
    )
}

fn gap_explained(keys: &KeyRing) -> AuditScenario {
    let name = "gap-explained";
    let mut first = base_spec(name);
    first.hours = 4;
    first.logs_per_hour = Count::Pattern(vec![0, 2, 1, 3]);
    let mut plan = first.plan();
    call(&mut plan, 3, "StopLogging", TRAIL_NAME);
    let mut second = base_spec(name);
    second.start = utc(2026, 3, 1, 6, 5, 29);
    second.hours = 4;
    second.logs_per_hour = Count::Pattern(vec![0, 2, 1, 2]);
    second.seed = hash_str("audit/gap-explained/restart");
    plan.append(second.plan());
    let trail = plan.seal(keys);
    AuditScenario {
        name: name.into(),
        description: "Four chained digests (00:17:42 to 04:17:42), then no digests until a new starting digest at 06:05:29 followed by 3 chained digests. The last log file before the gap (listed by the digest ending 04:17:42) records StopLogging on test-trail by arn:aws:iam::111122223333:user/alice from 203.0.113.24. The audit must report the gap 04:17:42 to 06:05:29 as info, explained by that event, and exit 0.".into(),
        args: window_args(WINDOW_START, "2026-03-01T11:00:00Z"),
        exit: 0,
        public_keys: keys_for(keys, &plan),
        trail,
    }
}

fn stopped_tail(keys: &KeyRing) -> AuditScenario {
    let name = "stopped-tail";
    let mut spec = base_spec(name);
    spec.hours = 5;
    spec.logs_per_hour = Count::Pattern(vec![0, 2, 1, 3, 2]);
    let mut plan = spec.plan();
    call(&mut plan, 4, "StopLogging", TRAIL_NAME);
    let trail = plan.seal(keys);
    AuditScenario {
        name: name.into(),
        description: "Five chained digests (00:17:42 to 05:17:42) and nothing after: logging was stopped, as the last log file (listed by the digest ending 05:17:42) records (StopLogging by alice). The window runs to 08:00, so the chain's tail is truncated (3 hourly digests, ending 06:17:42, 07:17:42 and 08:17:42, overlap the window after 05:17:42); the audit must report the truncation with the StopLogging event as its explanation, and exit 3 (coverage incomplete, nothing invalid).".into(),
        args: window_args(WINDOW_START, WINDOW_END),
        exit: 3,
        public_keys: keys_for(keys, &plan),
        trail,
    }
}
