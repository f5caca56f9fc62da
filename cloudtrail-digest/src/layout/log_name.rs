//! Log file key names, read from the right:
//! `[PREFIX/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

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
        let (delivered, date) = delivery_stamp(stamp)?;
        let (account, region) = rest.split_once("_CloudTrail_")?;
        if segments[n - 4..n - 1] != date
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

/// The delivery time a log name's stamp (`YYYYMMDDTHHMMZ`) gives, and the date folders
/// (`YYYY`, `MM`, `DD`) that time belongs in. Every log name of an audit is read, so the
/// usual shape is read field by field; any other goes through chrono's parser, which
/// decides what else is accepted.
fn delivery_stamp(stamp: &str) -> Option<(DateTime<Utc>, [std::borrow::Cow<'_, str>; 3])> {
    let b = stamp.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() == 14 && digits(0..8) && b[8] == b'T' && digits(9..13) && b[13] == b'Z' {
        let field = |r: std::ops::Range<usize>| stamp[r].parse::<u32>().ok();
        let day = NaiveDate::from_ymd_opt(field(0..4)? as i32, field(4..6)?, field(6..8)?)?;
        let delivered = day.and_hms_opt(field(9..11)?, field(11..13)?, 0)?.and_utc();
        let folders = [&stamp[0..4], &stamp[4..6], &stamp[6..8]].map(std::borrow::Cow::Borrowed);
        return Some((delivered, folders));
    }
    let delivered = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ")
        .ok()?
        .and_utc();
    let folders = ["%Y", "%m", "%d"].map(|f| std::borrow::Cow::Owned(delivered.format(f).to_string()));
    Some((delivered, folders))
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

    /// Stamps read field by field give what chrono's parser gives, time and folders,
    /// and what it refuses is refused.
    #[test]
    fn stamps_read_as_chrono_reads_them() {
        let chrono_reads = |stamp: &str| {
            let t = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ")
                .ok()?
                .and_utc();
            Some((t, t.format("%Y/%m/%d").to_string()))
        };
        let mut stamps: Vec<String> = Vec::new();
        let start = NaiveDate::from_ymd_opt(2023, 12, 25).unwrap();
        for day in 0..800 {
            let d = start + chrono::Duration::days(day);
            let (h, m) = (day % 24, (day * 7) % 60);
            stamps.push(format!("{}T{h:02}{m:02}Z", d.format("%Y%m%d")));
        }
        for odd in [
            "20260229T0000Z",
            "20240229T2359Z",
            "20261301T0000Z",
            "20260001T0000Z",
            "20260100T0000Z",
            "20260132T0000Z",
            "20260431T0000Z",
            "20260301T2400Z",
            "20260301T0060Z",
            "00000101T0000Z",
            "99991231T2359Z",
            "2026030T10000Z",
            "20260301T000Z",
            "20260301T00000Z",
            "20260301t0000Z",
            "20260301T0000z",
            "2026+301T0000Z",
            "+20260301T0000Z",
            "20260301 0000Z",
            "202603010000Z",
            "20260301T0000ZZ",
            "",
            "T",
            "2026-03-01T0000Z",
            "２0260301T0000Z",
        ] {
            stamps.push(odd.to_string());
        }
        for stamp in &stamps {
            let ours = delivery_stamp(stamp).map(|(t, [y, m, d])| (t, format!("{y}/{m}/{d}")));
            assert_eq!(ours, chrono_reads(stamp), "{stamp}");
        }
    }
}
