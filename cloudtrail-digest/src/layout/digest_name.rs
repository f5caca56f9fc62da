//! Digest key names: building the listing prefix and start marker, filtering listed keys
//! the way the reference does, and reading a name from the right.

use chrono::{DateTime, Duration, Utc};

use crate::time::compact;

/// Which digests belong to one chain: everything a digest key name encodes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChainScope {
    /// Key prefix of the trail (`S3KeyPrefix`), if any.
    pub prefix: Option<String>,
    /// Organization id (`o-...`) for organization trails.
    pub organization_id: Option<String>,
    /// Account whose digests these are (for organization trails, the member account).
    pub account_id: String,
    /// Region that delivered and signed the digests.
    pub source_region: String,
    /// Trail name.
    pub trail_name: String,
    /// Trail home region.
    pub home_region: String,
}

impl ChainScope {
    /// The scope the reference validates for a trail: its account, name and home region,
    /// delivered by the home region, no prefix, no organization.
    pub fn for_trail(arn: &crate::arn::TrailArn) -> ChainScope {
        ChainScope {
            prefix: None,
            organization_id: None,
            account_id: arn.account_id.clone(),
            source_region: arn.home_region.clone(),
            trail_name: arn.trail_name.clone(),
            home_region: arn.home_region.clone(),
        }
    }

    fn with_prefix(&self, key: String) -> String {
        match self.prefix.as_deref() {
            Some(p) if !p.is_empty() => format!("{p}/{key}"),
            _ => key,
        }
    }

    fn awslogs_account(&self) -> String {
        match &self.organization_id {
            Some(org) => format!("AWSLogs/{org}/{}", self.account_id),
            None => format!("AWSLogs/{}", self.account_id),
        }
    }

    /// The prefix the reference lists under: `[P/]AWSLogs/[ORG/]ACCOUNT/CloudTrail-Digest/SRC`
    /// (no trailing slash, so it also lists regions that merely start the same way).
    pub fn listing_prefix(&self) -> String {
        self.with_prefix(format!(
            "{}/CloudTrail-Digest/{}",
            self.awslogs_account(),
            self.source_region
        ))
    }

    /// The folder of the logs these digests list: `[P/]AWSLogs/[ORG/]ACCOUNT/CloudTrail/SRC/`.
    pub fn log_folder(&self) -> String {
        self.with_prefix(format!(
            "{}/CloudTrail/{}/",
            self.awslogs_account(),
            self.source_region
        ))
    }

    /// The key a digest ending at `t` would have.
    pub fn digest_key(&self, t: DateTime<Utc>) -> String {
        let a = &self.account_id;
        let s = &self.source_region;
        self.with_prefix(format!(
            "{}/CloudTrail-Digest/{s}/{}/{a}_CloudTrail-Digest_{s}_{}_{}_{}.json.gz",
            self.awslogs_account(),
            t.format("%Y/%m/%d"),
            self.trail_name,
            self.home_region,
            compact(t)
        ))
    }

    /// The listing starts after the key of a digest ending one minute before `start`.
    pub fn start_marker(&self, start: DateTime<Utc>) -> String {
        self.digest_key(start - Duration::minutes(1))
    }

    /// Whether a listed key is a digest of this chain (standard or backfill), by the
    /// reference's pattern `^[P/]AWSLogs/[ORG/]A/CloudTrail-Digest/S/\d+/\d+/\d+/A_CloudTrail-Digest_S_N_H_.+\.json\.gz$`.
    pub fn matches(&self, key: &str) -> bool {
        let head = match self.prefix.as_deref() {
            Some(p) if !p.is_empty() => format!("{p}/"),
            _ => String::new(),
        };
        let head = format!(
            "{head}{}/CloudTrail-Digest/{}/",
            self.awslogs_account(),
            self.source_region
        );
        let Some(rest) = key.strip_prefix(&head) else {
            return false;
        };
        let mut parts = rest.splitn(4, '/');
        for _ in 0..3 {
            match parts.next() {
                Some(d) if !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()) => {}
                _ => return false,
            }
        }
        let Some(name) = parts.next() else {
            return false;
        };
        let file_head = format!(
            "{a}_CloudTrail-Digest_{s}_{n}_{h}_",
            a = self.account_id,
            s = self.source_region,
            n = self.trail_name,
            h = self.home_region
        );
        let Some(tail) = name.strip_prefix(&file_head) else {
            return false;
        };
        // `.+` before `.json.gz`: at least one character, none a newline
        // (Python's `$` also allows one final newline; keys never end in one).
        match tail.strip_suffix(".json.gz") {
            Some(stamp_part) => !stamp_part.is_empty() && !stamp_part.contains('\n'),
            None => false,
        }
    }
}

/// Whether a key names a backfill digest.
pub fn is_backfill_key(key: &str) -> bool {
    key.ends_with("_backfill.json.gz")
}

/// The 16 characters where the stamp sits, counted from the end of the key as the
/// reference does (`key[-24:-8]`, or `key[-33:-17]` for backfill keys), in characters.
pub fn key_stamp(key: &str) -> String {
    if is_backfill_key(key) {
        py_slice(key, -33, -17)
    } else {
        py_slice(key, -24, -8)
    }
}

/// Python's `s[start:end]` for negative indices, over characters; never panics.
fn py_slice(s: &str, start: i64, end: i64) -> String {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let clamp = |i: i64| (if i < 0 { n + i } else { i }).clamp(0, n) as usize;
    let (a, b) = (clamp(start), clamp(end));
    if a >= b {
        String::new()
    } else {
        chars[a..b].iter().collect()
    }
}

/// `YYYYMMDDTHHMMSSZ`, in ASCII digits.
fn is_stamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 16 && b[8] == b'T' && b[15] == b'Z' && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

/// A digest key name read from the right (trail names may hold `_`, `.` and `-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestKeyName {
    /// The chain the key belongs to.
    pub scope: ChainScope,
    /// The 16-character stamp (`YYYYMMDDTHHMMSSZ`), the digest's end time.
    pub stamp: String,
    /// Whether this is a backfill digest.
    pub backfill: bool,
}

impl DigestKeyName {
    /// Reads `[P/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail-Digest/SRC/YYYY/MM/DD/ACCOUNT_CloudTrail-Digest_SRC_NAME_HOME_STAMP[_backfill].json.gz`.
    /// Returns `None` for anything else.
    pub fn parse(key: &str) -> Option<DigestKeyName> {
        let (body, backfill) = match key.strip_suffix("_backfill.json.gz") {
            Some(b) => (b, true),
            None => (key.strip_suffix(".json.gz")?, false),
        };
        let segments: Vec<&str> = body.split('/').collect();
        // .../AWSLogs/[ORG/]ACCOUNT/CloudTrail-Digest/SRC/YYYY/MM/DD/FILE
        if segments.len() < 8 {
            return None;
        }
        let n = segments.len();
        let file = segments[n - 1];
        let (yyyy, mm, dd) = (segments[n - 4], segments[n - 3], segments[n - 2]);
        if ![yyyy, mm, dd]
            .iter()
            .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        let source_region = segments[n - 5];
        if segments[n - 6] != "CloudTrail-Digest" {
            return None;
        }
        let account_id = segments[n - 7];
        let (organization_id, awslogs_at) =
            if segments[n - 8].starts_with("o-") && n >= 9 && segments[n - 9] == "AWSLogs" {
                (Some(segments[n - 8].to_string()), n - 9)
            } else if segments[n - 8] == "AWSLogs" {
                (None, n - 8)
            } else {
                return None;
            };
        let prefix = (awslogs_at > 0).then(|| segments[..awslogs_at].join("/"));
        // An empty prefix is no prefix to the reference, so `/AWSLogs/...` is nobody's key.
        if prefix.as_deref() == Some("") {
            return None;
        }
        // FILE = ACCOUNT_CloudTrail-Digest_SRC_NAME_HOME_STAMP; read from the right.
        let (rest, stamp) = file.rsplit_once('_')?;
        if !is_stamp(stamp) {
            return None;
        }
        let (rest, home_region) = rest.rsplit_once('_')?;
        let head = format!("{account_id}_CloudTrail-Digest_{source_region}_");
        let trail_name = rest.strip_prefix(&head)?;
        if trail_name.is_empty() || home_region.is_empty() {
            return None;
        }
        Some(DigestKeyName {
            scope: ChainScope {
                prefix,
                organization_id,
                account_id: account_id.to_string(),
                source_region: source_region.to_string(),
                trail_name: trail_name.to_string(),
                home_region: home_region.to_string(),
            },
            stamp: stamp.to_string(),
            backfill,
        })
    }
}

/// A short, unique name for a chain: `[PREFIX:][ORG/]ACCOUNT/SOURCE_REGION/TRAIL@HOME_REGION[/backfill]`.
pub fn chain_label(scope: &ChainScope, backfill: bool) -> String {
    let mut s = String::new();
    if let Some(p) = scope.prefix.as_deref().filter(|p| !p.is_empty()) {
        s += p;
        s.push(':');
    }
    if let Some(o) = &scope.organization_id {
        s += o;
        s.push('/');
    }
    s += &format!(
        "{}/{}/{}@{}",
        scope.account_id, scope.source_region, scope.trail_name, scope.home_region
    );
    if backfill {
        s += "/backfill";
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn scope() -> ChainScope {
        ChainScope {
            prefix: None,
            organization_id: None,
            account_id: "111122223333".into(),
            source_region: "eu-west-1".into(),
            trail_name: "my_trail.v2-prod_x".into(),
            home_region: "us-east-1".into(),
        }
    }

    #[test]
    fn builds_prefix_and_marker() {
        let mut s = scope();
        assert_eq!(
            s.listing_prefix(),
            "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1"
        );
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 30).unwrap();
        assert_eq!(
            s.start_marker(t),
            "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/02/28/111122223333_CloudTrail-Digest_eu-west-1_my_trail.v2-prod_x_us-east-1_20260228T235930Z.json.gz"
        );
        assert_eq!(s.log_folder(), "AWSLogs/111122223333/CloudTrail/eu-west-1/");
        s.prefix = Some("a/b".into());
        s.organization_id = Some("o-abc".into());
        assert_eq!(
            s.listing_prefix(),
            "a/b/AWSLogs/o-abc/111122223333/CloudTrail-Digest/eu-west-1"
        );
        assert_eq!(
            s.log_folder(),
            "a/b/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/"
        );
    }

    #[test]
    fn matches_like_the_reference_pattern() {
        let s = scope();
        let k = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/01/111122223333_CloudTrail-Digest_eu-west-1_my_trail.v2-prod_x_us-east-1_20260301T011742Z.json.gz";
        assert!(s.matches(k));
        assert!(s.matches(&k.replace(".json.gz", "_backfill.json.gz")));
        assert!(!s.matches(&k.replace("us-east-1_2026", "us-west-2_2026")));
        assert!(!s.matches(&k.replace("/03/", "/3a/")));
        assert!(!s.matches(&k.replace(".json.gz", ".json")));
        assert!(!s.matches(&format!("x/{k}")));
    }

    #[test]
    fn stamps_come_from_fixed_offsets() {
        let k = "AWSLogs/1/CloudTrail-Digest/r/2026/03/01/1_CloudTrail-Digest_r_n_h_20260301T011742Z.json.gz";
        assert_eq!(key_stamp(k), "20260301T011742Z");
        assert_eq!(
            key_stamp(&k.replace(".json.gz", "_backfill.json.gz")),
            "20260301T011742Z"
        );
        assert_eq!(key_stamp("short"), "");
        assert_eq!(key_stamp("ééééééééééééééééééééééééé.json.gz"), "éééééééééééééééé");
    }

    #[test]
    fn parses_names_from_the_right() {
        let k = "audit/x/AWSLogs/o-a1b2c3d4e5/444455556666/CloudTrail-Digest/eu-west-1/2026/03/01/444455556666_CloudTrail-Digest_eu-west-1_my_trail.v2-prod_x_us-east-1_20260301T011742Z_backfill.json.gz";
        let n = DigestKeyName::parse(k).unwrap();
        assert!(n.backfill);
        assert_eq!(n.stamp, "20260301T011742Z");
        assert_eq!(n.scope.trail_name, "my_trail.v2-prod_x");
        assert_eq!(n.scope.home_region, "us-east-1");
        assert_eq!(n.scope.prefix.as_deref(), Some("audit/x"));
        assert_eq!(n.scope.organization_id.as_deref(), Some("o-a1b2c3d4e5"));
        assert!(n.scope.matches(k));
        assert!(DigestKeyName::parse("AWSLogs/1/CloudTrail/r/2026/03/01/x.json.gz").is_none());
        // Found by the key_names fuzz target: 16 characters that are not a stamp.
        let odd = k.replace("20260301T011742Z_backfill", "20260301T\0\n1742Z");
        assert!(DigestKeyName::parse(&odd).is_none());
        assert!(!n.scope.matches(&odd));
        // Found by the key_names fuzz target: a leading slash.
        let plain =
            "AWSLogs/1/CloudTrail-Digest/r/2026/03/01/1_CloudTrail-Digest_r_n_h_20260301T011742Z.json.gz";
        assert!(DigestKeyName::parse(&format!("/{plain}")).is_none());
        let doubled = format!("a//{plain}");
        let d = DigestKeyName::parse(&doubled).unwrap();
        assert_eq!(d.scope.prefix.as_deref(), Some("a/"));
        assert!(d.scope.matches(&doubled));
    }
}
