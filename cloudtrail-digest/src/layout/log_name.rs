//! Log file key names, read from the right:
//! `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz`.

use chrono::{DateTime, NaiveDateTime, Utc};

/// What a log key says about where and when the log was delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKeyName {
    /// Key prefix before `AWSLogs/`.
    pub prefix: Option<String>,
    /// Organization id folder.
    pub organization_id: Option<String>,
    /// Account (folder and file name agree).
    pub account_id: String,
    /// Region (folder and file name agree).
    pub region: String,
    /// Delivery time, to the minute.
    pub delivered: DateTime<Utc>,
}

impl LogKeyName {
    /// Reads a log key; `None` when it is not a CloudTrail log name or its folders and
    /// file name disagree.
    pub fn parse(key: &str) -> Option<LogKeyName> {
        let body = key.strip_suffix(".json.gz")?;
        let segments: Vec<&str> = body.split('/').collect();
        let n = segments.len();
        if n < 8 {
            return None;
        }
        let file = segments[n - 1];
        let (rest, unique) = file.rsplit_once('_')?;
        if unique.is_empty() {
            return None;
        }
        let (rest, stamp) = rest.rsplit_once('_')?;
        let delivered = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ")
            .ok()?
            .and_utc();
        let (account, region) = rest.split_once("_CloudTrail_")?;
        let date = delivered.format("%Y/%m/%d").to_string();
        if segments[n - 4..n - 1].join("/") != date
            || segments[n - 5] != region
            || segments[n - 6] != "CloudTrail"
            || segments[n - 7] != account
        {
            return None;
        }
        let (organization_id, awslogs_at) = if segments[n - 8] == "AWSLogs" {
            (None, n - 8)
        } else if n >= 9 && segments[n - 8].starts_with("o-") && segments[n - 9] == "AWSLogs" {
            (Some(segments[n - 8].to_string()), n - 9)
        } else {
            return None;
        };
        Some(LogKeyName {
            prefix: (awslogs_at > 0).then(|| segments[..awslogs_at].join("/")),
            organization_id,
            account_id: account.to_string(),
            region: region.to_string(),
            delivered,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_log_keys_from_the_right() {
        let k = "a/b/AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/03/01/111122223333_CloudTrail_eu-west-1_20260301T0125Z_AbCdEfGhIjKlMnOp.json.gz";
        let n = LogKeyName::parse(k).unwrap();
        assert_eq!(n.prefix.as_deref(), Some("a/b"));
        assert_eq!(n.organization_id.as_deref(), Some("o-abc"));
        assert_eq!(n.account_id, "111122223333");
        assert_eq!(n.region, "eu-west-1");
        assert_eq!(n.delivered.to_rfc3339(), "2026-03-01T01:25:00+00:00");
        let plain = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/10/15/111122223333_CloudTrail_us-east-1_20231015T2205Z_iRIoDMA9l9Q4kmFy.json.gz";
        assert_eq!(LogKeyName::parse(plain).unwrap().prefix, None);
        // folders that disagree with the file name
        assert!(LogKeyName::parse(&plain.replace("/us-east-1/", "/eu-west-1/")).is_none());
        assert!(LogKeyName::parse(&plain.replace("/15/", "/16/")).is_none());
        assert!(LogKeyName::parse("AWSLogs/1/CloudTrail/r/2026/03/01/x.json.gz").is_none());
    }
}
