//! `validate-logs`: argument checks in the reference's order, locating the trail in the
//! mirror, then the library run with the reference's text report.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Local, Utc};
use cloudtrail_digest::{
    find_trail_locations, organization_folder, parse_date, ChainScope, Error, LocalDir, ObjectSource,
    PublicKeyProvider, PublicKeySet, TextReport, TrailArn, TrailLocation, Validation,
};

use crate::cli::ValidateLogsArgs;
use crate::online::Online;

/// Exit code of a fatal error, as the AWS CLI uses it.
const FATAL: i32 = 255;

pub fn run(args: &ValidateLogsArgs, region: Option<&str>) -> i32 {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut report = TextReport::new(BufWriter::new(stdout.lock()), stderr.lock(), args.verbose);
    match validate(args, region, &mut report) {
        Ok(code) => code,
        Err(message) => {
            let _ = report.fatal(&message);
            FATAL
        }
    }
}

fn validate<O: Write, E: Write>(
    args: &ValidateLogsArgs,
    region: Option<&str>,
    report: &mut TextReport<O, E>,
) -> Result<i32, String> {
    let (start, end) = window_of(&args.start_time, args.end_time.as_deref())?;
    let arn = TrailArn::parse(&args.trail_arn).map_err(|e| e.to_string())?;
    let account_id = args.account_id.clone().unwrap_or_else(|| arn.account_id.clone());
    let source_region = region
        .filter(|r| !r.is_empty())
        .unwrap_or(&arn.home_region)
        .to_string();
    let mut online = Online::new(&args.aws);
    let (source, keys, location): (Arc<dyn ObjectSource>, Box<dyn PublicKeyProvider>, TrailLocation) =
        match &args.local_dir {
            Some(local_dir) => {
                let mirror = LocalDir::new(local_dir).map_err(|e| {
                    format!(
                        "--local-dir {}: not a readable directory ({e})",
                        local_dir.display()
                    )
                })?;
                let keys = load_keys(&args.public_keys)?;
                let location = locate(args, &mirror, &account_id, &source_region)?;
                let source = online.mapped(Arc::new(mirror), &args.bucket_map)?;
                (source, Box::new(keys), location)
            }
            None => {
                let s3 = online.s3()?;
                let source = online.mapped(s3, &args.bucket_map)?;
                let location = locate_online(
                    args,
                    &mut online,
                    source.as_ref(),
                    &arn,
                    (&account_id, &source_region),
                )?;
                let keys: Box<dyn PublicKeyProvider> = if args.public_keys.is_empty() {
                    online.key_provider(&source_region)?
                } else {
                    Box::new(load_keys(&args.public_keys)?)
                };
                (source, keys, location)
            }
        };
    let scope = ChainScope {
        prefix: location.prefix,
        organization_id: location.organization_id,
        account_id,
        source_region,
        trail_name: arn.trail_name.clone(),
        home_region: arn.home_region.clone(),
    };
    let mut validation = Validation::new(
        source.as_ref(),
        keys.as_ref(),
        scope,
        &location.bucket,
        (start, end),
    )
    .map_err(|e| e.to_string())?;
    match (args.jobs, &args.local_dir) {
        (Some(jobs), _) => validation = validation.jobs(jobs.into()),
        // Reading S3 waits on the network: keep as many reads going as requests allowed.
        (None, None) => validation = validation.jobs(args.aws.max_concurrency.into()),
        (None, Some(_)) => {}
    }

    report.header(&arn.arn, start, end).map_err(output_error)?;
    let mut write_error = None;
    let outcome = validation.run(&mut |event| {
        if let Err(e) = report.event(event) {
            write_error.get_or_insert(e);
        }
    });
    if let Some(e) = write_error {
        return Err(output_error(e));
    }
    let summary = outcome.map_err(|e| e.to_string())?;
    report.summary(start, end, &summary).map_err(output_error)?;
    if let Some(local_dir) = &args.local_dir {
        if summary.unsigned_digests > 0 && summary.digests_with_stored_signature == 0 {
            let (_, err) = report.streams();
            write!(err, "{}", missing_signature_hint(local_dir)).map_err(output_error)?;
        }
    }
    Ok(if summary.has_failures() { 1 } else { 0 })
}

/// Where the trail's digests sit in S3: the bucket named (organization folder found by
/// listing, as for local copies), or what DescribeTrails says, as the reference does.
fn locate_online(
    args: &ValidateLogsArgs,
    online: &mut Online,
    source: &dyn ObjectSource,
    arn: &TrailArn,
    (account, source_region): (&str, &str),
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

/// Start and end as the reference reads them: lenient dates, an empty or absent end means
/// now, start after end is an error. Unlike the reference, a UTC offset is converted.
pub fn window_of(start_time: &str, end_time: Option<&str>) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let today = Local::now().date_naive();
    let parse = |text: &str| {
        parse_date(text, today)
            .map(|d| d.to_utc())
            .map_err(|e| e.to_string())
    };
    let start = parse(start_time)?;
    let end = match end_time {
        None | Some("") => Utc::now(),
        Some(text) => parse(text)?,
    };
    if start > end {
        return Err(Error::InvalidTimeRange.to_string());
    }
    Ok((start, end))
}

fn load_keys(files: &[std::path::PathBuf]) -> Result<PublicKeySet, String> {
    if files.is_empty() {
        return Err(
            "--public-keys FILE is required with --local-dir: save the keys once with\n  \
             aws cloudtrail list-public-keys --region REGION --start-time START --end-time END > keys.json\n\
             (a window a little wider than the one you validate) and pass --public-keys keys.json"
                .to_string(),
        );
    }
    let mut keys = PublicKeySet::new();
    for f in files {
        keys.add_file(f).map_err(|e| e.to_string())?;
    }
    Ok(keys)
}

/// Which bucket, prefix and organization folder of the mirror hold the trail's digests.
/// A listing that the mirror refuses (a link out of the root) stops the run, naming it.
fn locate(
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
            // A listing error is left for the validation run to report in its place.
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

fn output_error(e: io::Error) -> String {
    format!("cannot write output: {e}")
}

fn missing_signature_hint(root: &Path) -> String {
    format!(
        "\nNo signature was found for any digest under {root}. CloudTrail keeps each digest's \
         signature in the object's S3 metadata (x-amz-meta-signature), which plain copies such as \
         `aws s3 sync` leave behind. Save it beside each digest as KEY.metadata.json:\n    \
         aws s3api head-object --bucket BUCKET --key KEY --query Metadata > {root}/BUCKET/KEY.metadata.json\n\
         or copy the bucket with `rclone copy --metadata`, which keeps it in extended attributes.\n",
        root = root.display()
    )
}
