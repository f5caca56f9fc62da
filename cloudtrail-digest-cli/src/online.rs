//! Setting up online access from the command line: the AWS session, the S3 source,
//! `--bucket-map` targets, CloudTrail keys and trail descriptions. Without the `s3`
//! feature every online request is refused with a clear message.

use std::path::Path;
use std::sync::Arc;
#[cfg(feature = "s3")]
use std::time::Duration;

use cloudtrail_digest::{
    BucketMap, LazySource, MapTarget, MappedSource, ObjectSource, PublicKeyProvider, SourceError,
};

use crate::cli::AwsArgs;

/// A trail's bucket, prefix and kind, as DescribeTrails tells them.
pub struct DescribedTrail {
    pub bucket: String,
    pub prefix: Option<String>,
    pub is_organization_trail: bool,
}

/// Online access, set up on first use.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub struct Online {
    aws: AwsArgs,
    cloudtrail_endpoint: Option<String>,
    #[cfg(feature = "s3")]
    session: Option<Arc<cloudtrail_digest::aws::AwsSession>>,
    /// One S3 source for every read and upload of the run: each bucket's region is
    /// looked up once.
    #[cfg(feature = "s3")]
    s3: Option<Arc<cloudtrail_digest::S3Source>>,
}

#[cfg(not(feature = "s3"))]
const NO_S3: &str =
    "this cloudtrail-digest was built without the `s3` feature: only --local-dir with --public-keys works";

impl Online {
    pub fn new(aws: &AwsArgs) -> Online {
        Online {
            aws: aws.clone(),
            cloudtrail_endpoint: None,
            #[cfg(feature = "s3")]
            session: None,
            #[cfg(feature = "s3")]
            s3: None,
        }
    }

    /// Sends CloudTrail calls to `url` (the `keys` command's --endpoint-url).
    #[cfg_attr(not(feature = "s3"), allow(dead_code))]
    pub fn with_cloudtrail_endpoint(mut self, url: Option<String>) -> Online {
        self.cloudtrail_endpoint = url;
        self
    }

    #[cfg(feature = "s3")]
    fn session(&mut self) -> Result<Arc<cloudtrail_digest::aws::AwsSession>, String> {
        if let Some(s) = &self.session {
            return Ok(Arc::clone(s));
        }
        let settings = self.settings()?;
        let session = cloudtrail_digest::aws::AwsSession::new(settings).map_err(|e| e.to_string())?;
        self.session = Some(Arc::clone(&session));
        Ok(session)
    }

    /// The session's settings: the environment's, then the command line's.
    #[cfg(feature = "s3")]
    fn settings(&self) -> Result<cloudtrail_digest::aws::AwsSettings, String> {
        let mut settings = cloudtrail_digest::aws::AwsSettings::from_env().map_err(|e| e.to_string())?;
        if let Some(e) = &self.aws.endpoint_url {
            settings.s3_endpoint = Some(e.clone());
        }
        if let Some(e) = &self.cloudtrail_endpoint {
            settings.cloudtrail_endpoint = Some(e.clone());
        }
        if let Some(p) = &self.aws.profile {
            settings.profile = Some(p.clone());
        }
        settings.anonymous = self.aws.no_sign_request;
        settings.max_concurrency = self.aws.max_concurrency.into();
        settings.read_timeout = Duration::from_secs(self.aws.timeouts.cli_read_timeout);
        settings.connect_timeout = Duration::from_secs(self.aws.timeouts.cli_connect_timeout);
        Ok(settings)
    }

    /// The S3 source (all buckets).
    #[cfg(feature = "s3")]
    pub fn s3(&mut self) -> Result<Arc<dyn ObjectSource>, String> {
        Ok(self.s3_source()?)
    }

    #[cfg(feature = "s3")]
    fn s3_source(&mut self) -> Result<Arc<cloudtrail_digest::S3Source>, String> {
        if let Some(s) = &self.s3 {
            return Ok(Arc::clone(s));
        }
        let source = Arc::new(cloudtrail_digest::S3Source::new(self.session()?));
        self.s3 = Some(Arc::clone(&source));
        Ok(source)
    }

    #[cfg(not(feature = "s3"))]
    pub fn s3(&mut self) -> Result<Arc<dyn ObjectSource>, String> {
        Err(NO_S3.to_string())
    }

    /// The S3 source, set up (and AWS credentials looked for) only when something is
    /// read from it: a run whose buckets all come from mapped directories never asks.
    #[cfg(feature = "s3")]
    pub fn s3_on_first_use(&self) -> Arc<dyn ObjectSource> {
        let settings = self.settings();
        Arc::new(LazySource::new(move || {
            let session =
                cloudtrail_digest::aws::AwsSession::new(settings.clone()?).map_err(|e| e.to_string())?;
            Ok(Arc::new(cloudtrail_digest::S3Source::new(session)) as Arc<dyn ObjectSource>)
        }))
    }

    #[cfg(not(feature = "s3"))]
    pub fn s3_on_first_use(&self) -> Arc<dyn ObjectSource> {
        Arc::new(LazySource::new(|| Err(NO_S3.to_string())))
    }

    /// CloudTrail's public keys of `region`.
    #[cfg(feature = "s3")]
    pub fn cloudtrail_keys(
        &mut self,
        region: &str,
    ) -> Result<Arc<cloudtrail_digest::aws::CloudTrailKeys>, String> {
        Ok(Arc::new(cloudtrail_digest::aws::CloudTrailKeys::new(
            self.session()?,
            region,
        )))
    }

    /// A key provider asking CloudTrail in `region`.
    #[cfg(feature = "s3")]
    pub fn key_provider(&mut self, region: &str) -> Result<Box<dyn PublicKeyProvider>, String> {
        Ok(Box::new(cloudtrail_digest::aws::CloudTrailKeys::new(
            self.session()?,
            region,
        )))
    }

    #[cfg(not(feature = "s3"))]
    pub fn key_provider(&mut self, _region: &str) -> Result<Box<dyn PublicKeyProvider>, String> {
        Err(NO_S3.to_string())
    }

    /// The region used when nothing names one (environment or profile).
    #[cfg(feature = "s3")]
    pub fn default_region(&mut self) -> Result<String, String> {
        Ok(self.session()?.default_region().to_string())
    }

    #[cfg(not(feature = "s3"))]
    pub fn default_region(&mut self) -> Result<String, String> {
        Err(NO_S3.to_string())
    }

    /// DescribeTrails in `region` for `arn`.
    #[cfg(feature = "s3")]
    pub fn describe_trail(&mut self, region: &str, arn: &str) -> Result<Option<DescribedTrail>, String> {
        let client = cloudtrail_digest::aws::CloudTrailKeys::new(self.session()?, region);
        Ok(client
            .describe_trail(arn)
            .map_err(|e| e.to_string())?
            .map(|t| DescribedTrail {
                bucket: t.bucket,
                prefix: t.prefix,
                is_organization_trail: t.is_organization_trail,
            }))
    }

    #[cfg(not(feature = "s3"))]
    pub fn describe_trail(&mut self, _region: &str, _arn: &str) -> Result<Option<DescribedTrail>, String> {
        Err(NO_S3.to_string())
    }

    /// `base` (a local mirror or S3) behind the `--bucket-map ORIGINAL=TARGET` mappings,
    /// if there are any.
    pub fn mapped(
        &mut self,
        base: Arc<dyn ObjectSource>,
        specs: &[String],
    ) -> Result<Arc<dyn ObjectSource>, String> {
        let map = self.bucket_map(specs)?;
        Ok(if map.is_empty() {
            base
        } else {
            Arc::new(MappedSource::new(Some(base), map))
        })
    }

    /// Writes what `write` writes to `s3://BUCKET/KEY` (`url`) without holding it all:
    /// in parts as it comes (see `S3Upload`), stored whole when `write` succeeds and
    /// not at all when it fails.
    #[cfg(feature = "s3")]
    pub fn upload<E: From<std::io::Error>>(
        &mut self,
        url: &str,
        write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), E>,
    ) -> Result<Result<(), String>, E> {
        let Some((bucket, key)) = s3_url(url).filter(|(_, k)| !k.is_empty() && !k.ends_with('/')) else {
            return Ok(Err(format!("{url}: not s3://BUCKET/KEY")));
        };
        let s3 = match self.s3_source() {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let mut upload = match s3.upload(bucket, key) {
            Ok(u) => u,
            Err(e) => return Ok(Err(format!("{url}: cannot be written ({e})"))),
        };
        write(&mut upload)?;
        Ok(upload
            .finish()
            .map_err(|e| format!("{url}: cannot be written ({e})")))
    }

    #[cfg(not(feature = "s3"))]
    pub fn upload<E: From<std::io::Error>>(
        &mut self,
        _url: &str,
        _write: impl FnOnce(&mut dyn std::io::Write) -> Result<(), E>,
    ) -> Result<Result<(), String>, E> {
        Ok(Err(NO_S3.to_string()))
    }

    /// Parses `--bucket-map ORIGINAL=TARGET` options.
    pub fn bucket_map(&mut self, specs: &[String]) -> Result<BucketMap, String> {
        let mut map = BucketMap::new();
        for spec in specs {
            let Some((original, target)) = spec.split_once('=') else {
                return Err(format!("--bucket-map {spec}: expected ORIGINAL=TARGET"));
            };
            if original.is_empty() || original.contains('/') || target.is_empty() {
                return Err(format!(
                    "--bucket-map {spec}: ORIGINAL must be a bucket name and TARGET s3://BUCKET[/PREFIX] or a directory"
                ));
            }
            let t = if target.starts_with("s3://") {
                let (bucket, prefix) =
                    s3_url(target).ok_or_else(|| format!("--bucket-map {spec}: no bucket in {target}"))?;
                MapTarget::bucket(self.s3()?, bucket, prefix)
            } else {
                MapTarget::directory(Path::new(target))
                    .map_err(|e| format!("--bucket-map {spec}: {target} is not a usable directory ({e})"))?
            };
            if map.insert(original.to_string(), t).is_some() {
                return Err(format!("--bucket-map: {original} is mapped twice"));
            }
        }
        Ok(map)
    }
}

/// The object `prefix` names in `bucket`, or else every object under it (names whose
/// last segment starts with a dot left out, as in a directory): what an `s3://BUCKET/PREFIX`
/// given for reading means.
pub fn s3_objects(s3: &dyn ObjectSource, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
    let keys = s3.list(bucket, prefix, "")?;
    if keys.iter().any(|k| k == prefix) {
        return Ok(vec![prefix.to_string()]);
    }
    Ok(keys
        .into_iter()
        .filter(|k| !k.rsplit('/').next().unwrap_or_default().starts_with('.'))
        .collect())
}

/// `s3://BUCKET/KEY` as `(BUCKET, KEY)` (the key may be empty or a prefix).
pub fn s3_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, key))
}
