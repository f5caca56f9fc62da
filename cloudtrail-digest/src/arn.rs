//! Trail ARNs, read the way the reference reads them.

use crate::error::Error;

/// The parts of a trail ARN that validation needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    /// The ARN as given.
    pub arn: String,
    /// Home region of the trail (fourth `:` field).
    pub home_region: String,
    /// Account that owns the trail (fifth `:` field).
    pub account_id: String,
    /// Trail name (after the last `/`).
    pub trail_name: String,
}

impl TrailArn {
    /// Accepts what the reference's pattern `arn:.+:cloudtrail:.+:\d{12}:trail/.+` matches
    /// at the start of the string, then splits fields naively, as the reference does.
    pub fn parse(arn: &str) -> Result<TrailArn, Error> {
        if !matches_reference_pattern(arn) {
            return Err(Error::InvalidTrailArn(arn.to_string()));
        }
        let fields: Vec<&str> = arn.split(':').collect();
        Ok(TrailArn {
            arn: arn.to_string(),
            home_region: fields[3].to_string(),
            account_id: fields[4].to_string(),
            trail_name: arn.rsplit('/').next().unwrap_or_default().to_string(),
        })
    }
}

/// `re.match(r'arn:.+:cloudtrail:.+:\d{12}:trail/.+', s)` without a regex engine:
/// `.` never matches a newline, and the match is anchored only at the start.
fn matches_reference_pattern(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let no_newline = |t: &str| !t.is_empty() && !t.contains('\n');
    for (i, _) in rest.match_indices(":cloudtrail:") {
        if !no_newline(&rest[..i]) {
            continue;
        }
        let after = &rest[i + ":cloudtrail:".len()..];
        for (j, _) in after.match_indices(":trail/") {
            let head = &after[..j];
            // head = Y ":" 12 digits, Y non-empty
            // 12 ASCII digits end `head`; a split inside a multi-byte character cannot be that.
            if head.len() < 14 || !head.is_char_boundary(head.len() - 12) {
                continue;
            }
            let (y_colon, digits) = head.split_at(head.len() - 12);
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Some(y) = y_colon.strip_suffix(':') else {
                continue;
            };
            if !no_newline(y) {
                continue;
            }
            let tail = &after[j + ":trail/".len()..];
            if tail.chars().next().is_some_and(|c| c != '\n') {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_plain_arn() {
        let t = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/my_trail.v2").unwrap();
        assert_eq!(t.home_region, "us-east-1");
        assert_eq!(t.account_id, "111122223333");
        assert_eq!(t.trail_name, "my_trail.v2");
    }

    #[test]
    fn accepts_other_partitions_and_paths() {
        let t = TrailArn::parse("arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/a/b").unwrap();
        assert_eq!(t.home_region, "us-gov-west-1");
        assert_eq!(t.trail_name, "b");
    }

    #[test]
    fn rejects_what_the_reference_rejects() {
        for bad in [
            "",
            "arn:aws:cloudtrail:us-east-1:11112222333:trail/x",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/",
            "arn::cloudtrail:us-east-1:111122223333:trail/x",
            "arn:aws:s3:us-east-1:111122223333:trail/x",
            "my-trail",
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/\nx",
        ] {
            assert!(
                matches!(TrailArn::parse(bad), Err(Error::InvalidTrailArn(s)) if s == bad),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn non_ascii_is_rejected_not_a_panic() {
        // Found by the key_names fuzz target: a multi-byte character where digits go.
        let arn = "arn:aws:cloudtrail:o\0\0\0us-e_bac\u{95a2}l.json.gz2:trail/my_trail.v2";
        assert!(matches!(TrailArn::parse(arn), Err(Error::InvalidTrailArn(_))));
        assert!(TrailArn::parse("arn:aws:cloudtrail:us-east-1:11112222333\u{e9}:trail/x").is_err());
        assert!(TrailArn::parse("arn:é:cloudtrail:ré:111122223333:trail/ñ").is_ok());
    }

    #[test]
    fn anchored_only_at_the_start_like_re_match() {
        assert!(TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/x\nmore").is_ok());
    }
}
