//! CloudTrail's JSON 1.1 API: `ListPublicKeys` (with `NextToken` paging) for
//! [`PublicKeyProvider`], and `DescribeTrails` for a trail's bucket and prefix.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::http::send;
use super::{aws_endpoint, AwsSession};
use crate::error::Error;
use crate::keys::{PublicKey, PublicKeyProvider, PublicKeySet};

const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";
/// Pages of one ListPublicKeys answer, at most.
const MAX_PAGES: usize = 1000;

/// CloudTrail's public keys of one region, fetched on demand and kept.
pub struct CloudTrailKeys {
    session: Arc<AwsSession>,
    region: String,
    endpoint: String,
    cache: Mutex<BTreeMap<(i64, i64), BTreeMap<String, PublicKey>>>,
}

impl std::fmt::Debug for CloudTrailKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudTrailKeys")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// What `DescribeTrails` says about where a trail delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailDescription {
    /// `S3BucketName`.
    pub bucket: String,
    /// `S3KeyPrefix`, if any.
    pub prefix: Option<String>,
    /// `IsOrganizationTrail`.
    pub is_organization_trail: bool,
}

impl CloudTrailKeys {
    /// Keys of `region` (the region that signed the digests), from the session's
    /// CloudTrail endpoint override or `https://cloudtrail.REGION.amazonaws.com`.
    pub fn new(session: Arc<AwsSession>, region: &str) -> CloudTrailKeys {
        let endpoint = session
            .settings()
            .cloudtrail_endpoint
            .clone()
            .unwrap_or_else(|| aws_endpoint("cloudtrail", region));
        CloudTrailKeys {
            session,
            region: region.to_string(),
            endpoint,
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// The region asked.
    pub fn region(&self) -> &str {
        &self.region
    }

    fn failure(&self, operation: &str, reason: impl Into<String>) -> Error {
        Error::Service {
            operation: format!("CloudTrail {operation} in {}", self.region),
            reason: reason.into(),
            cause: None,
        }
    }

    fn failure_from(
        &self,
        operation: &str,
        reason: String,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error::Service {
            operation: format!("CloudTrail {operation} in {}", self.region),
            reason,
            cause: Some(Box::new(cause)),
        }
    }

    /// One JSON 1.1 call.
    fn call(&self, operation: &str, body: &Value) -> Result<Value, Error> {
        let target = format!("{TARGET_PREFIX}{operation}");
        let url = format!("{}/", self.endpoint.trim_end_matches('/'));
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ];
        let response = self
            .session
            .block_on(send(
                &self.session,
                "cloudtrail",
                &self.region,
                http::Method::POST,
                &url,
                &headers,
                body.to_string().into_bytes(),
            ))
            .map_err(|e| self.failure_from(operation, e.to_string(), e))?;
        if response.status != 200 {
            let code = response
                .error_code()
                .unwrap_or_else(|| format!("HTTP {}", response.status));
            return Err(self.failure(
                operation,
                format!("An error occurred ({code}): {}", response.error_message()),
            ));
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| self.failure_from(operation, format!("answer is not JSON: {e}"), e))
    }

    /// The `PublicKeyList` entries for `[start, end]`, as CloudTrail returns them (all
    /// pages), in the shape `aws cloudtrail list-public-keys` (CLI v1) prints.
    pub fn list_public_keys(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Vec<Value>, Error> {
        let mut entries = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut body = json!({"StartTime": start.timestamp(), "EndTime": end.timestamp()});
            if let Some(t) = token.take() {
                body["NextToken"] = Value::String(t);
            }
            let answer = self.call("ListPublicKeys", &body)?;
            match answer.get("PublicKeyList") {
                Some(Value::Array(list)) => entries.extend(list.iter().cloned()),
                None | Some(Value::Null) => {}
                Some(other) => {
                    return Err(
                        self.failure("ListPublicKeys", format!("PublicKeyList is not a list: {other}"))
                    )
                }
            }
            match answer.get("NextToken").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(entries),
            }
        }
        Err(self.failure("ListPublicKeys", "paging did not end"))
    }

    /// Where the trail `arn` delivers (DescribeTrails in this region).
    pub fn describe_trail(&self, arn: &str) -> Result<Option<TrailDescription>, Error> {
        let answer = self.call("DescribeTrails", &json!({"trailNameList": [arn]}))?;
        let trails = answer
            .get("trailList")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(trails
            .iter()
            .find(|t| t.get("TrailARN").and_then(Value::as_str) == Some(arn))
            .and_then(|t| {
                Some(TrailDescription {
                    bucket: t.get("S3BucketName")?.as_str()?.to_string(),
                    prefix: t
                        .get("S3KeyPrefix")
                        .and_then(Value::as_str)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                    is_organization_trail: t
                        .get("IsOrganizationTrail")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            }))
    }
}

impl PublicKeyProvider for CloudTrailKeys {
    fn keys_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<BTreeMap<String, PublicKey>, Error> {
        let id = (start.timestamp(), end.timestamp());
        if let Some(found) = self.cache.lock().expect("key cache lock").get(&id) {
            return Ok(found.clone());
        }
        let entries = self.list_public_keys(start, end)?;
        let mut set = PublicKeySet::new();
        let name = format!("CloudTrail ListPublicKeys answer ({})", self.region);
        set.add_json(&name, json!({ "PublicKeyList": entries }).to_string().as_bytes())?;
        let found: BTreeMap<String, PublicKey> = set
            .keys()
            .iter()
            .map(|k| (k.fingerprint.clone(), k.clone()))
            .collect();
        self.cache
            .lock()
            .expect("key cache lock")
            .insert(id, found.clone());
        Ok(found)
    }
}
