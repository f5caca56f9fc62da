//! Where `validate-logs` finds the trail's digests: the bucket, prefix and organization
//! folder, from the options, the mirror's folders or DescribeTrails.

use cloudtrail_digest::source::TrailLocation;
use cloudtrail_digest::{LocalDir, ObjectSource, SourceError, TrailArn};

use crate::cli::ValidateLogsArgs;
use crate::online::Online;

/// Where the trail's digests sit in S3: the bucket named (organization folder found by
/// listing, as for local copies), or what DescribeTrails says, as the reference does.
pub fn locate_online(
    args: &ValidateLogsArgs,
    online: &mut Online,
    source: &dyn ObjectSource,
    arn: &TrailArn,
    account: &str,
) -> Result<TrailLocation, String> {
    let (bucket, prefix, organization) = match &args.s3_bucket {
        Some(bucket) => (bucket.clone(), args.s3_prefix.clone(), None),
        None => {
            let trail = online
                .describe_trail(&arn.home_region, &arn.arn)?
                .ok_or_else(|| format!("A trail could not be found for {}", arn.arn))?;
            if trail.is_organization_trail && args.account_id.is_none() {
                return Err("Missing required parameter for organization trail: '--account-id'".to_string());
            }
            (trail.bucket, trail.prefix, Some(trail.is_organization_trail))
        }
    };
    let organization_id = match (&args.organization_id, organization) {
        (Some(org), _) => Some(org.clone()),
        (None, Some(false)) => None,
        (None, _) => {
            // A listing error here is left for the validation run to report in its place.
            organization_folder(
                source,
                &bucket,
                prefix.as_deref(),
                account,
                organization == Some(true),
            )
            .unwrap_or(None)
        }
    };
    Ok(TrailLocation {
        bucket,
        prefix,
        organization_id,
    })
}

/// Which bucket, prefix and organization folder hold the trail's digests.
pub fn locate(
    args: &ValidateLogsArgs,
    mirror: &LocalDir,
    account: &str,
    region: &str,
) -> Result<TrailLocation, String> {
    if let Some(bucket) = &args.s3_bucket {
        let prefix = args.s3_prefix.clone();
        let organization_id = match &args.organization_id {
            Some(org) => Some(org.clone()),
            None => {
                // An organization trail's digests sit under AWSLogs/o-ORG/ACCOUNT/: use that
                // folder when it is the only one and the account has no plain folder.
                let orgs = mirror.organization_folders(bucket, prefix.as_deref(), account);
                let plain = mirror
                    .find_trail_locations(Some(bucket), account, region)
                    .into_iter()
                    .any(|l| l.organization_id.is_none() && l.prefix == prefix);
                match orgs.as_slice() {
                    [only] if !plain => Some(only.clone()),
                    _ => None,
                }
            }
        };
        return Ok(TrailLocation {
            bucket: bucket.clone(),
            prefix,
            organization_id,
        });
    }
    let candidates: Vec<TrailLocation> = mirror
        .find_trail_locations(None, account, region)
        .into_iter()
        .filter(|l| args.organization_id.is_none() || l.organization_id == args.organization_id)
        .filter(|l| args.s3_prefix.is_none() || l.prefix == args.s3_prefix)
        .collect();
    match candidates.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(format!(
            "No digests of account {account} delivered by {region} were found under {}; name the bucket with --s3-bucket (and --s3-prefix)",
            mirror.root().display()
        )),
        many => Err(format!(
            "Digests of account {account} delivered by {region} sit in more than one place under {}; choose one with --s3-bucket, --s3-prefix or --organization-id:\n{}",
            mirror.root().display(),
            many.iter().map(describe).collect::<Vec<_>>().join("\n")
        )),
    }
}

/// The one `AWSLogs/o-ORG/` folder holding `account`, when the account has no plain
/// folder (or the trail is known to be an organization trail).
fn organization_folder(
    source: &dyn ObjectSource,
    bucket: &str,
    prefix: Option<&str>,
    account: &str,
    organization_trail: bool,
) -> Result<Option<String>, SourceError> {
    let awslogs = match prefix.filter(|p| !p.is_empty()) {
        Some(p) => format!("{p}/AWSLogs/"),
        None => "AWSLogs/".to_string(),
    };
    let tops = source.list_folders(bucket, &awslogs)?;
    let plain = tops.contains(&format!("{awslogs}{account}/"));
    let mut orgs = Vec::new();
    for top in tops.iter().filter(|t| t[awslogs.len()..].starts_with("o-")) {
        if source
            .list_folders(bucket, top)?
            .contains(&format!("{top}{account}/"))
        {
            orgs.push(top[awslogs.len()..top.len() - 1].to_string());
        }
    }
    Ok(match orgs.as_slice() {
        [only] if !plain || organization_trail => Some(only.clone()),
        _ => None,
    })
}

fn describe(l: &TrailLocation) -> String {
    let mut s = format!("  --s3-bucket {}", l.bucket);
    if let Some(p) = &l.prefix {
        s += &format!(" --s3-prefix {p}");
    }
    if let Some(o) = &l.organization_id {
        s += &format!(" --organization-id {o}");
    }
    s
}
