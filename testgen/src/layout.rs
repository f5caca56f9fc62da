//! Object keys, exactly as CloudTrail names them.
//!
//! ```text
//! [PREFIX/]AWSLogs/[ORG_ID/]ACCOUNT/CloudTrail-Digest/SRC_REGION/YYYY/MM/DD/
//!     ACCOUNT_CloudTrail-Digest_SRC_REGION_TRAILNAME_HOME_REGION_YYYYMMDDTHHMMSSZ[_backfill].json.gz
//! [PREFIX/]AWSLogs/[ORG_ID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/
//!     ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE16.json.gz
//! ```
//!
//! Digest folders and stamp use the digest's end time; log folders and stamp use the
//! delivery time.

use chrono::{DateTime, Utc};

use crate::times::{date_path, minute_stamp, stamp};

/// Where a trail writes for one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The trail's `S3KeyPrefix`, without leading or trailing `/`.
    pub prefix: Option<String>,
    /// Organization id (`o-...`) for organization trails.
    pub org_id: Option<String>,
    /// The account whose folder this is (the member account for organization trails).
    pub account: String,
    /// The trail's name.
    pub trail_name: String,
    /// The trail's home region.
    pub home_region: String,
}

impl Layout {
    /// `[PREFIX/]AWSLogs/[ORG_ID/]ACCOUNT`
    pub fn root(&self) -> String {
        let mut s = String::new();
        if let Some(p) = &self.prefix {
            s.push_str(p);
            s.push('/');
        }
        s.push_str("AWSLogs/");
        if let Some(o) = &self.org_id {
            s.push_str(o);
            s.push('/');
        }
        s.push_str(&self.account);
        s
    }

    /// Key of the digest delivered by `region` for the hour ending at `end`.
    pub fn digest_key(&self, region: &str, end: DateTime<Utc>, backfill: bool) -> String {
        format!(
            "{root}/CloudTrail-Digest/{region}/{ymd}/{acct}_CloudTrail-Digest_{region}_{name}_{home}_{stamp}{suffix}.json.gz",
            root = self.root(),
            ymd = date_path(end),
            acct = self.account,
            name = self.trail_name,
            home = self.home_region,
            stamp = stamp(end),
            suffix = if backfill { "_backfill" } else { "" },
        )
    }

    /// Key of a log file delivered by `region` at `delivered`.
    pub fn log_key(&self, region: &str, delivered: DateTime<Utc>, unique: &str) -> String {
        format!(
            "{root}/CloudTrail/{region}/{ymd}/{acct}_CloudTrail_{region}_{stamp}_{unique}.json.gz",
            root = self.root(),
            ymd = date_path(delivered),
            acct = self.account,
            stamp = minute_stamp(delivered),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::times::utc;

    #[test]
    fn keys_have_cloudtrail_shape() {
        let mut l = Layout {
            prefix: None,
            org_id: None,
            account: "111122223333".into(),
            trail_name: "my_trail.v2-prod_x".into(),
            home_region: "us-east-1".into(),
        };
        let end = utc(2026, 3, 1, 1, 17, 42);
        assert_eq!(
            l.digest_key("eu-west-1", end, false),
            "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/01/111122223333_CloudTrail-Digest_eu-west-1_my_trail.v2-prod_x_us-east-1_20260301T011742Z.json.gz"
        );
        let bf = l.digest_key("us-east-1", end, true);
        assert!(bf.ends_with("_us-east-1_20260301T011742Z_backfill.json.gz"));
        assert_eq!(&bf[bf.len() - 33..bf.len() - 17], "20260301T011742Z");
        l.prefix = Some("audit/trails".into());
        l.org_id = Some("o-a1b2c3d4e5".into());
        assert_eq!(
            l.log_key("us-east-1", utc(2026, 3, 1, 0, 25, 0), "AbCdEfGhIjKlMnOp"),
            "audit/trails/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/2026/03/01/111122223333_CloudTrail_us-east-1_20260301T0025Z_AbCdEfGhIjKlMnOp.json.gz"
        );
    }
}
