//! Where `validate-logs` finds the trail's digests: the bucket, prefix and organization
//! folder, from the options, the mirror's folders or DescribeTrails.

use cloudtrail_digest::{
    find_trail_locations, organization_folder, Error, LocalDir, ObjectSource, TrailArn, TrailLocation,
};

use crate::cli::ValidateLogsArgs;
use crate::online::Online;

/// Where the trail's digests sit in S3: the bucket named (organization folder found by
/// listing, as for local copies), or what DescribeTrails says, as the reference does.
/// `bucket_known` hears the likeliest location (the organization folder as given, if
/// any) as soon as the bucket is known, before the listings that settle it.
pub fn locate_online(
    args: &ValidateLogsArgs,
    online: &mut Online,
    source: &dyn ObjectSource,
    arn: &TrailArn,
    (account, source_region): (&str, &str),
    bucket_known: &mut dyn FnMut(&TrailLocation),
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
    bucket_known(&TrailLocation {
        bucket: bucket.clone(),
        prefix: prefix.clone(),
        organization_id: args.organization_id.clone(),
    });
    let organization_id = match (&args.organization_id, organization) {
        (Some(org), _) => Some(org.clone()),
        (None, Some(false)) => None,
        (None, _) => {
            // A listing error here is left for the validation run to report in its place.
            organization_folder(
                source,
                &bucket,
                prefix.as_deref(),
                (account, source_region),
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

/// Which bucket, prefix and organization folder of the mirror hold the trail's digests.
/// A listing that the mirror refuses (a link out of the root) stops the run, naming it.
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
            // An organization trail's digests sit under AWSLogs/o-ORG/ACCOUNT/: use that
            // folder when it is the only one and the account has no digests of its own.
            // A listing error here is left for the validation run to report in its place.
            None => organization_folder(mirror, bucket, prefix.as_deref(), (account, region), false)
                .unwrap_or(None),
        };
        return Ok(TrailLocation {
            bucket: bucket.clone(),
            prefix,
            organization_id,
        });
    }
    let candidates: Vec<TrailLocation> = find_trail_locations(mirror, &mirror.buckets(), account, region)
        .map_err(|e| Error::Source(e).to_string())?
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
