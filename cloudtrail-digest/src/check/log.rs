//! A log file's verdict from what reading it produced and the hash its digest records.

use serde_json::Value;

use crate::verdict::LogVerdict;

/// What reading a log file produced (see `fetch::log`), before any comparison. A ledger
/// keeps it, to compare again with what a digest records.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LogRead {
    /// No object at the key.
    Missing,
    /// The source would not read it, and why.
    Refused(String),
    /// One whole gzip member, inflated; the hex SHA-256 of its content.
    Inflated {
        /// Hex SHA-256 of the inflated bytes.
        sha256_hex: String,
    },
    /// Bytes follow the end of the first gzip member.
    TrailingData,
    /// Not gzip (or corrupt); the hex SHA-256 of the stored bytes when they were hashed
    /// (only where a log stored decompressed may be accepted).
    NotGzip {
        /// Hex SHA-256 of the bytes as stored.
        stored_sha256_hex: Option<String>,
    },
}

/// The verdict the reference gives, plus acceptance of a log stored decompressed whose
/// bytes hash to the recorded value.
pub(crate) fn verdict(read: LogRead, recorded: Option<&Value>) -> LogVerdict {
    match read {
        LogRead::Missing => LogVerdict::NotFound,
        LogRead::Refused(why) => LogVerdict::Refused(why),
        LogRead::TrailingData => LogVerdict::TrailingData,
        LogRead::Inflated { sha256_hex } => match recorded {
            None => LogVerdict::InvalidFormat,
            Some(Value::String(h)) if *h == sha256_hex => LogVerdict::Valid,
            Some(_) => LogVerdict::HashMismatch,
        },
        LogRead::NotGzip { stored_sha256_hex } => match (recorded, stored_sha256_hex) {
            (Some(Value::String(h)), Some(raw)) if *h == raw => LogVerdict::ValidStoredDecompressed,
            _ => LogVerdict::InvalidFormat,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_compare_the_recorded_hash() {
        let h = Value::String("ab".into());
        let inflated = |s: &str| LogRead::Inflated {
            sha256_hex: s.to_string(),
        };
        assert_eq!(verdict(inflated("ab"), Some(&h)), LogVerdict::Valid);
        assert_eq!(verdict(inflated("cd"), Some(&h)), LogVerdict::HashMismatch);
        assert_eq!(
            verdict(inflated("ab"), Some(&Value::Null)),
            LogVerdict::HashMismatch
        );
        assert_eq!(verdict(inflated("ab"), None), LogVerdict::InvalidFormat);
        let raw = |s: Option<&str>| LogRead::NotGzip {
            stored_sha256_hex: s.map(str::to_string),
        };
        assert_eq!(
            verdict(raw(Some("ab")), Some(&h)),
            LogVerdict::ValidStoredDecompressed
        );
        assert_eq!(verdict(raw(Some("cd")), Some(&h)), LogVerdict::InvalidFormat);
        assert_eq!(verdict(raw(None), Some(&h)), LogVerdict::InvalidFormat);
        assert_eq!(verdict(LogRead::Missing, Some(&h)), LogVerdict::NotFound);
        assert_eq!(verdict(LogRead::TrailingData, Some(&h)), LogVerdict::TrailingData);
    }
}
