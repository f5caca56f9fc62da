//! Command-line arguments. `validate-logs` spells its options as the AWS CLI does.

use std::path::PathBuf;

use clap::{Arg, Args, Parser, Subcommand};

/// Verify AWS CloudTrail digest chains and log files, online or from a local copy.
#[derive(Debug, Parser)]
#[command(name = "cloudtrail-digest", version, about, propagate_version = true)]
pub struct Cli {
    /// Region that delivered the digests to validate (default: the trail's home region).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate log files against digests, printing exactly what
    /// `aws cloudtrail validate-logs` prints.
    ValidateLogs(ValidateLogsArgs),
    /// Forensic check of every chain in a mirror: everything validate-logs reports, plus
    /// every missing digest, truncated chains, unreferenced (injected) log files, broken
    /// links between digests, and the trail events that explain gaps.
    Audit(AuditArgs),
    /// Print CloudTrail's public keys of a region (what `aws cloudtrail list-public-keys`
    /// prints), for offline use with --public-keys.
    Keys(KeysArgs),
    /// Copy a trail's digests (with their signature metadata) and log files from S3
    /// into a local mirror DEST/BUCKET/KEY, resumably.
    Mirror(MirrorArgs),
    /// Write every record of every verified log, with its provenance (the log, its
    /// verified hash, the digest and key that vouch for it), as NDJSON or Parquet for query
    /// engines.
    Export(ExportArgs),
    /// Split an audit into units (one chain scope each) and print them as JSON lines, for
    /// `audit --unit` or `audit --plan --shard` to run anywhere and `merge` to join.
    Plan(PlanArgs),
    /// Join the parts of a split audit into the report one `audit` over the whole scope
    /// prints, with its exit code; refuses a missing, doubled or foreign part.
    Merge(MergeArgs),
    /// Check CloudTrail Lake query results saved to S3 (or a downloaded copy): the sign
    /// file's signature and every result file's hash, printing what
    /// `aws cloudtrail verify-query-results` (AWS CLI v2) prints.
    VerifyQueryResults(VerifyQueryResultsArgs),
}

/// `verify-query-results` spells its options as the AWS CLI v2 command does.
#[derive(Debug, Args)]
pub struct VerifyQueryResultsArgs {
    /// Bucket holding the result files and their sign file (result_sign.json).
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// Key prefix of the result files and sign file in the bucket (a `/` is added when
    /// missing); default: the bucket's root.
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// A local folder holding the downloaded result files and sign file, instead of S3.
    #[arg(long, value_name = "DIR")]
    pub local_export_path: Option<String>,

    /// Public keys as printed by `aws cloudtrail list-public-keys` (repeatable); without
    /// it the keys come from CloudTrail `ListPublicKeys` in --region.
    #[arg(long = "public-keys", value_name = "FILE")]
    pub public_keys: Vec<PathBuf>,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// `validate-logs` words the window, the source and the key files as the AWS CLI's
/// command does.
#[derive(Debug, Args)]
#[command(mut_args(reword(&[
    ("start_time", "Validate logs delivered on or after this time (UTC unless an offset is given)"),
    ("end_time", "Validate logs delivered on or before this time (default: now)"),
])))]
pub struct ValidateLogsArgs {
    /// ARN of the trail, e.g. arn:aws:cloudtrail:us-east-1:111122223333:trail/name.
    #[arg(long, value_name = "ARN")]
    pub trail_arn: String,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Bucket holding the digests (with --local-dir: the directory under the root).
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: Option<String>,

    /// Key prefix of the trail inside the bucket (used together with --s3-bucket).
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// Account whose logs to validate (for organization trails, the member account).
    #[arg(long, value_name = "ACCOUNT")]
    pub account_id: Option<String>,

    /// Print every valid digest and log file too.
    #[arg(long)]
    pub verbose: bool,

    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub keys: KeyFileArgs,

    /// Organization id (o-...) of an organization trail; found in the mirror when omitted.
    #[arg(long, value_name = "ORG_ID")]
    pub organization_id: Option<String>,

    /// Log files checked at once (default: one per core). Output is the same for any value.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Re-read only the digests and logs that changed since the run that wrote this
    /// ledger (a file or s3://BUCKET/KEY; made on the first run); the output is the
    /// same as without it. The ledger is written anew at the end (left as it is when
    /// nothing changed).
    #[arg(long, value_name = "PATH")]
    pub ledger: Option<String>,
}

/// Gives the arguments named in `helps` a command's own help text, keeping their place (in
/// the help and in the usage line): a shared group is worded for what it means there.
fn reword(helps: &'static [(&'static str, &'static str)]) -> impl FnMut(Arg) -> Arg {
    move |arg| match helps.iter().find(|(id, _)| arg.get_id() == *id) {
        Some((_, help)) => arg.help(*help),
        None => arg,
    }
}

/// The time window: `--start-time` and `--end-time`, parsed by [`crate::window`]. Each
/// command words their help for what the window selects.
#[derive(Debug, Args, Clone)]
pub struct WindowArgs {
    /// Start of the window (UTC unless an offset is given).
    #[arg(long, value_name = "TIME", required = true)]
    pub start_time: Option<String>,

    /// End of the window (default: now).
    #[arg(long, value_name = "TIME")]
    pub end_time: Option<String>,
}

/// Where the buckets are read: a local copy, and buckets read from elsewhere.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Read a local copy of the bucket(s): object s3://BUCKET/KEY is ROOT/BUCKET/KEY.
    /// Without it, the buckets are read in S3.
    #[arg(long, value_name = "ROOT")]
    pub local_dir: Option<PathBuf>,

    #[command(flatten)]
    pub map: BucketMapArgs,
}

/// Buckets read from another bucket or a directory, under their original names.
#[derive(Debug, Args)]
pub struct BucketMapArgs {
    /// Read bucket ORIGINAL from TARGET (s3://BUCKET[/PREFIX] or a local directory
    /// holding its keys), still checking and naming the original objects (repeatable).
    #[arg(long, value_name = "ORIGINAL=TARGET")]
    pub bucket_map: Vec<String>,
}

/// CloudTrail's public keys, from files.
#[derive(Debug, Args)]
pub struct KeyFileArgs {
    /// Public keys as printed by `aws cloudtrail list-public-keys` (repeatable).
    #[arg(long = "public-keys", value_name = "FILE")]
    pub public_keys: Vec<PathBuf>,
}

/// How to reach S3 (and CloudTrail, for keys).
#[derive(Debug, Args, Clone, Default)]
pub struct AwsArgs {
    /// S3 endpoint of an S3-compatible server (path-style addressing); default:
    /// AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Named profile of the shared AWS config and credentials files (default: AWS_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Send unsigned requests (public buckets).
    #[arg(long)]
    pub no_sign_request: bool,

    /// S3 requests in flight at once, at most.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub max_concurrency: u16,

    #[command(flatten)]
    pub timeouts: TimeoutArgs,
}

/// Time limits of every request to AWS, spelled as the AWS CLI spells them. Unlike the
/// AWS CLI, 0 (no limit) is refused: every wait is bounded.
#[derive(Debug, Args, Clone)]
pub struct TimeoutArgs {
    /// Longest wait for the server, 1 to 600 seconds: for the answer to begin, and between
    /// any two pieces of it. A request that runs out of time is retried (AWS_MAX_ATTEMPTS).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT, value_parser = timeout_seconds)]
    pub cli_read_timeout: u64,

    /// Longest wait for a connection, 1 to 600 seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT, value_parser = timeout_seconds)]
    pub cli_connect_timeout: u64,
}

/// The AWS CLI's default read and connect timeouts, in seconds.
const DEFAULT_TIMEOUT: u64 = 60;

/// Longest timeout accepted, in seconds.
const MAX_TIMEOUT: u64 = 600;

impl Default for TimeoutArgs {
    fn default() -> Self {
        TimeoutArgs {
            cli_read_timeout: DEFAULT_TIMEOUT,
            cli_connect_timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A timeout in whole seconds, 1 to [`MAX_TIMEOUT`].
fn timeout_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err(format!(
            "0 means no time limit in the AWS CLI; this tool always bounds its waits: give 1 to {MAX_TIMEOUT} seconds"
        )),
        Ok(n) if n <= MAX_TIMEOUT => Ok(n),
        _ => Err(format!("expected whole seconds, 1 to {MAX_TIMEOUT}")),
    }
}

#[derive(Debug, Args)]
#[command(mut_args(reword(&[
    ("start_time", "Keys valid on or after this time"),
    ("end_time", "Keys valid on or before this time (default: now)"),
])))]
pub struct KeysArgs {
    #[command(flatten)]
    pub window: WindowArgs,

    /// CloudTrail endpoint; default: AWS_ENDPOINT_URL_CLOUDTRAIL, else AWS_ENDPOINT_URL,
    /// else https://cloudtrail.REGION.amazonaws.com.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Named profile of the shared AWS config and credentials files (default: AWS_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    #[command(flatten)]
    pub timeouts: TimeoutArgs,
}

#[derive(Debug, Args)]
#[command(mut_args(reword(&[
    ("start_time", "Start of the window to validate later"),
    ("end_time", "End of the window to validate later (default: now)"),
    ("bucket_map", "Read bucket ORIGINAL from TARGET (s3://BUCKET[/PREFIX] or a local directory); \
         the copy keeps the original names (repeatable)"),
])))]
pub struct MirrorArgs {
    /// The trail's bucket (its original name).
    #[arg(long, value_name = "BUCKET")]
    pub s3_bucket: String,

    /// Key prefix of the trail inside the bucket.
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// Only this account's digests and logs (default: every account in the bucket).
    #[arg(long, value_name = "ACCOUNT")]
    pub account_id: Option<String>,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Destination mirror root: object s3://BUCKET/KEY becomes DEST/BUCKET/KEY.
    #[arg(long, value_name = "DIR")]
    pub dest: PathBuf,

    #[command(flatten)]
    pub map: BucketMapArgs,

    /// Objects copied at once (default: --max-concurrency).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Ask S3 to restore every archived object of the window (GLACIER, DEEP_ARCHIVE: a
    /// copy readable for DAYS days; Intelligent-Tiering archive tiers: for good), once
    /// each; run the same command again once they are restored to complete the copy.
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub restore: Option<u32>,

    /// Retrieval tier of --restore.
    #[arg(
        long,
        value_enum,
        value_name = "TIER",
        default_value = "Standard",
        requires = "restore",
        ignore_case = true
    )]
    pub restore_tier: RestoreTierArg,

    #[command(flatten)]
    pub aws: AwsArgs,
}

/// S3's retrieval tiers, for `mirror --restore-tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RestoreTierArg {
    /// Cheapest, slowest (up to 48 hours from DEEP_ARCHIVE).
    #[value(name = "Bulk")]
    Bulk,
    /// S3's default (up to 12 hours from DEEP_ARCHIVE).
    #[value(name = "Standard")]
    Standard,
    /// Minutes; not offered for DEEP_ARCHIVE.
    #[value(name = "Expedited")]
    Expedited,
}

/// Output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditOutput {
    /// One line per finding, a table of chains and a verdict.
    Text,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
}

#[derive(Debug, Args)]
#[command(mut_args(reword(&[
    ("local_dir", "Read a local copy of the bucket(s): object s3://BUCKET/KEY is ROOT/BUCKET/KEY. \
         Every bucket directory under ROOT is searched unless --s3-bucket names some. \
         Without it, the buckets --s3-bucket names are read in S3"),
    ("public_keys", "Public keys as printed by `aws cloudtrail list-public-keys`, for every region audited (repeatable): a file, an s3://BUCKET/KEY, or every object under an s3://BUCKET/PREFIX/"),
])))]
/// What `audit` and `export` look at: the source, keys, window and which chains.
pub struct AuditScope {
    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub keys: KeyFileArgs,

    #[command(flatten)]
    pub window: WindowArgs,

    /// Take this time as now (default: the clock); digests not yet due are not missing.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,

    /// Only these buckets (repeatable, or comma-separated).
    #[arg(long, value_name = "BUCKET", value_delimiter = ',')]
    pub s3_bucket: Vec<String>,

    /// Only trails under this key prefix (default: any prefix up to four folders deep).
    #[arg(long, value_name = "PREFIX")]
    pub s3_prefix: Option<String>,

    /// Only these accounts (repeatable, or comma-separated).
    #[arg(long, value_name = "ACCOUNT", value_delimiter = ',')]
    pub account_id: Vec<String>,

    /// Only these trails (repeatable, or comma-separated).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub trail_name: Vec<String>,

    /// Only this trail: its name and home region narrow the audit (every account and
    /// delivering region of the trail is still audited).
    #[arg(long, value_name = "ARN")]
    pub trail_arn: Option<String>,

    /// Only chains of this organization (o-...).
    #[arg(long, value_name = "ORG_ID")]
    pub organization_id: Option<String>,

    /// How late a digest may arrive before its absence counts: minutes, or with a unit
    /// (90, 90m, 2h, 1h30m).
    #[arg(long, value_name = "DURATION", default_value = "90m")]
    pub delivery_allowance: String,

    /// Objects read at once (default: one per core for --local-dir, else
    /// --max-concurrency). Findings are the same for any value.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

impl AuditScope {
    /// `--jobs`, else as many reads at once as requests may be in flight when reading
    /// S3 (each read waits on the network); `None`: one per core.
    pub fn jobs(&self) -> Option<u16> {
        self.jobs.or_else(|| {
            self.source
                .local_dir
                .is_none()
                .then_some(self.aws.max_concurrency)
        })
    }
}

#[derive(Debug, Args)]
#[command(mut_arg("start_time", |a| a.required(false).required_unless_present_any(["unit", "plan"])))]
pub struct AuditArgs {
    #[command(flatten)]
    pub scope: AuditScope,

    /// Run one unit of a plan (a line `plan` printed) and write what it read to --out,
    /// for `merge`. The unit names the window and the chains; give the source, keys and
    /// S3 options again.
    #[arg(long, value_name = "LINE", conflicts_with = "plan", requires = "out")]
    pub unit: Option<String>,

    /// Run units of this plan (what `plan` wrote: a file or s3://BUCKET/KEY): those
    /// --shard picks.
    #[arg(long, value_name = "FILE", requires_all = ["shard", "out"])]
    pub plan: Option<String>,

    /// Which units of --plan: I/N runs units I, I+N, I+2N, ... (from 0); /N takes I from
    /// AWS_BATCH_JOB_ARRAY_INDEX or JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I/N", requires = "plan")]
    pub shard: Option<String>,

    /// Where a unit's or shard's part goes: a file (written whole or not at all), an
    /// s3://BUCKET/KEY (uploaded as it is written, stored whole or not at all), or - for
    /// standard output. Ending
    /// in /, a folder or prefix: the part is named unit-U.jsonl (--unit) or
    /// shard-I-of-N.jsonl (--shard) inside it.
    #[arg(long, value_name = "PATH")]
    pub out: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: AuditOutput,

    /// Text output: list valid digests and log files too.
    #[arg(long)]
    pub verbose: bool,

    /// Re-verify only what changed since the run that wrote this ledger (a file or
    /// s3://BUCKET/KEY; made on the first run), report what changed or is gone, and
    /// write the ledger anew (left as it is when nothing changed).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["unit", "plan"])]
    pub ledger: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub scope: AuditScope,

    /// The most hours of one chain in one unit: a longer chain is split into slices of
    /// at most H hours, counted from --start-time (1 at the least; default a week).
    #[arg(long, value_name = "H", default_value_t = cloudtrail_digest::audit::DEFAULT_UNIT_HOURS,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub unit_hours: u32,

    /// Where the plan goes: - (standard output), a file (written whole or not at all)
    /// or s3://BUCKET/KEY (stored whole or not at all), where Step Functions' ItemReader
    /// can read it.
    #[arg(long, value_name = "PATH", default_value = "-")]
    pub out: String,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The parts: files `audit --unit` or `audit --plan --shard` wrote, directories of
    /// them, or s3://BUCKET/PREFIX (every object under it).
    #[arg(required = true, value_name = "PARTS")]
    pub parts: Vec<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub output: AuditOutput,

    /// Text output: list valid digests and log files too.
    #[arg(long)]
    pub verbose: bool,

    /// Where the report goes: - (standard output), a file (written whole or not at
    /// all) or s3://BUCKET/KEY (stored whole or not at all). The exit code is the same
    /// either way.
    #[arg(long, value_name = "PATH", default_value = "-")]
    pub out: String,
}

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON object a line.
    Ndjson,
    /// Parquet files, Snappy-compressed.
    Parquet,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub scope: AuditScope,

    /// Output format: NDJSON (one record a line) or Parquet (Snappy; needs --out DIR).
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: ExportFormat,

    /// Where the records go: - for standard output, or a directory (empty or new) for
    /// Hive-style partition folders account=A/region=R/date=D.
    #[arg(long, value_name = "DIR", default_value = "-")]
    pub out: String,

    /// Gzip the NDJSON (the stream, or each part file).
    #[arg(long)]
    pub gzip: bool,

    /// Also the records of logs that did not verify (invalid, or listed by no valid
    /// digest), each with its status.
    #[arg(long)]
    pub include_unverified: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn shared_groups_keep_each_command_s_help() {
        let cli = Cli::command();
        let help = |command: &str, arg: &str| {
            let sub = cli.find_subcommand(command).expect(command);
            let arg = sub.get_arguments().find(|a| a.get_id() == arg).expect(arg);
            arg.get_help().map(ToString::to_string).unwrap_or_default()
        };
        assert_eq!(
            help("validate-logs", "start_time"),
            "Validate logs delivered on or after this time (UTC unless an offset is given)"
        );
        assert_eq!(
            help("audit", "start_time"),
            "Start of the window (UTC unless an offset is given)"
        );
        assert_eq!(
            help("keys", "end_time"),
            "Keys valid on or before this time (default: now)"
        );
        assert_eq!(
            help("mirror", "end_time"),
            "End of the window to validate later (default: now)"
        );
        assert!(help("audit", "local_dir").contains("Every bucket directory under ROOT is searched"));
        assert!(!help("validate-logs", "local_dir").contains("Every bucket directory"));
        assert!(help("mirror", "bucket_map").ends_with("the copy keeps the original names (repeatable)"));
    }
}
