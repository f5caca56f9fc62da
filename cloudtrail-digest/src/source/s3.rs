//! Objects read from S3 or an S3-compatible server, through object_store.
//!
//! Each bucket is located once (GetBucketLocation, as the reference does; when that is
//! denied, the `x-amz-bucket-region` header of HeadBucket) and then read with a client
//! for its region. User metadata comes from the `x-amz-meta-*` headers of GetObject;
//! listings use ListObjectsV2 with `start-after`, in S3's (UTF-8 byte) order.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::stream::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::{
    Attribute, BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig,
};

use super::{
    too_large, ArchiveClass, Identity, Metadata, MetadataOrigin, Object, ObjectSource, RestoreOutcome,
    RestoreRequest, SourceError, SourceErrorKind, MAX_KEY_BYTES, MAX_WHOLE_OBJECT,
};
use crate::aws::http::{error_chain, send, xml_text, RequestError};
use crate::aws::{aws_endpoint, AwsSession, MAX_BACKOFF};

mod body;
use body::StreamReader;

/// Pages of a listing, at most (a guard against a server that never stops paging).
const MAX_PAGES: usize = 1_000_000;

/// An S3 (or S3-compatible) object store.
pub struct S3Source {
    session: Arc<AwsSession>,
    buckets: Mutex<HashMap<String, Arc<BucketCell>>>,
    /// What every listing so far said of each object, `(bucket, key)` to its identity:
    /// a ledger compares these without a request per object.
    listed: Mutex<HashMap<(String, String), Identity>>,
}

/// A bucket's client, made once on first use (or why it cannot be).
type BucketCell = OnceLock<Result<Bucket, SourceError>>;

impl std::fmt::Debug for S3Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Source")
            .field("session", &self.session)
            .finish()
    }
}

#[derive(Clone)]
struct Bucket {
    store: Arc<AmazonS3>,
    region: String,
    /// The URL of the bucket's objects (`BASE/KEY`), addressed as the store addresses
    /// them, for the requests object_store does not make (RestoreObject).
    base: String,
}

impl S3Source {
    /// Objects of any bucket the session's credentials can read.
    pub fn new(session: Arc<AwsSession>) -> S3Source {
        S3Source {
            session,
            buckets: Mutex::new(HashMap::new()),
            listed: Mutex::new(HashMap::new()),
        }
    }

    /// The session this source reads through.
    pub fn session(&self) -> &Arc<AwsSession> {
        &self.session
    }

    /// Stores `body` at `key` in one PUT: S3 keeps the whole object or none of it (for
    /// the parts of a split audit; the tool writes nothing else to S3).
    pub fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), SourceError> {
        let b = self.bucket(bucket)?;
        let path = object_path(bucket, key)?;
        self.session.block_on(async {
            b.store
                .put(&path, PutPayload::from(body))
                .await
                .map(|_| ())
                .map_err(|e| map_error(e, bucket, key))
        })
    }

    /// The store that addresses `bucket` (for uploads).
    pub(super) fn store_of(&self, bucket: &str) -> Result<Arc<AmazonS3>, SourceError> {
        self.bucket(bucket).map(|b| b.store)
    }

    /// The region of `bucket` (looked up once).
    pub fn bucket_region(&self, bucket: &str) -> Result<String, SourceError> {
        self.bucket(bucket).map(|b| b.region)
    }

    fn bucket(&self, name: &str) -> Result<Bucket, SourceError> {
        let cell = {
            let mut map = self.buckets.lock().expect("bucket map lock");
            Arc::clone(map.entry(name.to_string()).or_default())
        };
        cell.get_or_init(|| self.open_bucket(name)).clone()
    }

    /// A streaming GET with `options`, holding one of the session's request permits
    /// while it is read.
    fn open_with(
        &self,
        bucket: &str,
        key: &str,
        options: GetOptions,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        let b = self.bucket(bucket)?;
        let path = object_path(bucket, key)?;
        let permits = Arc::clone(self.session.permits());
        let (stream, permit) = self.session.runtime().block_on(async {
            let permit = permits.acquire_owned().await.expect("semaphore never closed");
            let result = b
                .store
                .get_opts(&path, options)
                .await
                .map_err(|e| map_error(e, bucket, key))?;
            Ok::<_, SourceError>((result.into_stream(), permit))
        })?;
        Ok(Box::new(StreamReader::new(
            stream,
            permit,
            self.session.runtime().handle(),
        )))
    }

    fn open_bucket(&self, name: &str) -> Result<Bucket, SourceError> {
        if name == "." || name == ".." {
            // In a path-style URL these would be resolved away, reaching another bucket.
            return Err(SourceError::new(
                SourceErrorKind::Refused,
                name,
                "",
                "bucket name refused: `.` or `..`",
            ));
        }
        if name.is_empty() || name.contains('/') {
            return Err(SourceError::new(
                SourceErrorKind::NoSuchBucket,
                name,
                "",
                "not a bucket name",
            ));
        }
        let region = self.session.block_on(locate(&self.session, name))?;
        let settings = self.session.settings();
        let mut options = ClientOptions::new()
            .with_timeout(settings.request_timeout)
            .with_connect_timeout(settings.connect_timeout)
            .with_read_timeout(settings.read_timeout);
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(name)
            .with_region(&region)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    max_backoff: MAX_BACKOFF,
                    ..BackoffConfig::default()
                },
                max_retries: settings.max_retries,
                retry_timeout: settings.retry_window(),
            });
        let base = match &settings.s3_endpoint {
            Some(endpoint) => {
                if endpoint.starts_with("http://") {
                    options = options.with_allow_http(true);
                }
                let endpoint = endpoint.trim_end_matches('/');
                builder = builder
                    .with_endpoint(endpoint)
                    .with_virtual_hosted_style_request(false);
                format!("{endpoint}/{name}")
            }
            None if region.starts_with("cn-") || name.contains('.') => {
                let endpoint = aws_endpoint("s3", &region);
                builder = builder.with_endpoint(&endpoint);
                format!("{endpoint}/{name}")
            }
            None => {
                builder = builder.with_virtual_hosted_style_request(true);
                format!("https://{name}.s3.{region}.amazonaws.com")
            }
        };
        builder = match self.session.credential_provider() {
            Some(p) => builder.with_credentials(p),
            None => builder.with_skip_signature(true),
        };
        let store = builder
            .with_client_options(options)
            .with_http_connector(self.session.watched_connector())
            .build()
            .map_err(|e| {
                SourceError::new(
                    SourceErrorKind::Other,
                    name,
                    "",
                    format!("cannot set up an S3 client: {e}"),
                )
                .with_cause(e)
            })?;
        Ok(Bucket {
            store: Arc::new(store),
            region,
            base,
        })
    }
}

/// The region of a bucket, as the reference finds it (GetBucketLocation), falling back
/// to the `x-amz-bucket-region` header S3 sends even with access denied.
async fn locate(session: &AwsSession, bucket: &str) -> Result<String, SourceError> {
    let lookup_region = session.default_region().to_string();
    let base = match &session.settings().s3_endpoint {
        Some(e) => e.trim_end_matches('/').to_string(),
        None => aws_endpoint("s3", &lookup_region),
    };
    let other =
        |e: RequestError| SourceError::new(SourceErrorKind::Other, bucket, "", e.to_string()).with_cause(e);
    let no_bucket = || {
        SourceError::new(
            SourceErrorKind::NoSuchBucket,
            bucket,
            "",
            "The specified bucket does not exist",
        )
    };
    let url = format!("{base}/{bucket}?location");
    let r = send(
        session,
        "s3",
        &lookup_region,
        http::Method::GET,
        &url,
        &[],
        Vec::new(),
    )
    .await
    .map_err(other)?;
    if r.status == 200 {
        let text = String::from_utf8_lossy(&r.body);
        let region = xml_text(&text, "LocationConstraint").unwrap_or_default();
        return Ok(match region.as_str() {
            "" => "us-east-1".to_string(),
            "EU" => "eu-west-1".to_string(),
            other => other.to_string(),
        });
    }
    if r.status == 404 && r.error_code().as_deref() != Some("NoSuchKey") {
        return Err(no_bucket());
    }
    let header = |r: &crate::aws::http::Response| {
        r.headers
            .get("x-amz-bucket-region")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if let Some(region) = header(&r) {
        return Ok(region);
    }
    let head = send(
        session,
        "s3",
        &lookup_region,
        http::Method::HEAD,
        &format!("{base}/{bucket}"),
        &[],
        Vec::new(),
    )
    .await
    .map_err(other)?;
    if head.status == 404 {
        return Err(no_bucket());
    }
    Ok(header(&head).unwrap_or(lookup_region))
}

pub(super) fn object_path(bucket: &str, key: &str) -> Result<Path, SourceError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(SourceError::new(
            SourceErrorKind::Refused,
            bucket,
            key,
            "key refused: longer than the 1024 bytes an S3 key can have",
        ));
    }
    match Path::parse(key) {
        Ok(p) if p.as_ref() == key => Ok(p),
        _ => Err(SourceError::new(
            SourceErrorKind::Refused,
            bucket,
            key,
            "key refused: object_store cannot address it (an empty, `.` or `..` segment, or a control character)",
        )),
    }
}

pub(super) fn map_error(e: object_store::Error, bucket: &str, key: &str) -> SourceError {
    use object_store::Error as E;
    let kind = match &e {
        E::NotFound { .. } => SourceErrorKind::NotFound,
        _ => SourceErrorKind::Other,
    };
    let chain = error_chain(&e);
    if let Some(class) = archived_in(&chain) {
        // Intelligent-Tiering's archive tiers restore into the tier itself (no Days);
        // Glacier classes restore a copy for the days asked.
        let how = if class.is_intelligent_tiering() {
            format!("aws s3api restore-object --bucket {bucket} --key {key} --restore-request '{{}}'")
        } else {
            format!("aws s3api restore-object --bucket {bucket} --key {key} --restore-request Days=7")
        };
        let detail = format!(
            "archived in {class}, so it cannot be read until it is restored: restore it ({how}; \
             from DEEP_ARCHIVE or a deep archive tier that takes up to 48 hours) and run again"
        );
        return SourceError::new(SourceErrorKind::Archived, bucket, key, detail)
            .with_archive(class)
            .with_cause(e);
    }
    if let Some(why) = kms_refusal(&chain) {
        let detail = format!(
            "encrypted with SSE-KMS, and KMS refused to decrypt it ({why}); \
             the reader needs kms:Decrypt on that key, and the key must be enabled"
        );
        return SourceError::new(kind, bucket, key, detail).with_cause(e);
    }
    // object_store types GET and HEAD refusals, but a refused listing comes back as a
    // generic error carrying S3's error document: its code tells.
    let refused = matches!(e, E::PermissionDenied { .. } | E::Unauthenticated { .. })
        || xml_text(&chain, "Code").is_some_and(|code| is_refusal(&code));
    let detail = match &e {
        _ if refused => {
            let what = if key.is_empty() {
                format!("s3://{bucket}")
            } else {
                format!("s3://{bucket}/{key}")
            };
            // S3's own words, on one line, where its error document came with the answer.
            match s3_error(&chain) {
                Some(said) => format!("access denied for {what} ({said})"),
                None => format!("access denied for {what} ({e})"),
            }
        }
        // Transport failures say what happened (reset, timed out, cut short) only in
        // their causes.
        _ => chain,
    };
    SourceError::new(kind, bucket, key, detail).with_cause(e)
}

/// `CODE: MESSAGE` of an S3 error document in `text` when it is a refusal by KMS (an
/// SSE-KMS object the caller may not decrypt, or whose key is disabled or pending
/// deletion): S3 answers those as `AccessDenied` naming `kms:`, or with a `KMS.*` code.
fn kms_refusal(text: &str) -> Option<String> {
    let code = xml_text(text, "Code")?;
    let message = xml_text(text, "Message").unwrap_or_default();
    let kms = code.starts_with("KMS.") || message.contains("kms:") || message.contains("KMS key");
    kms.then(|| format!("{code}: {message}"))
}

/// The storage class (and archive tier) of an object S3 will not read because it is
/// archived: its answer is `InvalidObjectState`, naming them.
fn archived_in(text: &str) -> Option<ArchiveClass> {
    if xml_text(text, "Code")? != "InvalidObjectState" {
        return None;
    }
    Some(ArchiveClass {
        storage_class: xml_text(text, "StorageClass"),
        access_tier: xml_text(text, "AccessTier"),
    })
}

/// Whether an S3 error code refuses the caller (its permissions or its credentials).
fn is_refusal(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "AllAccessDisabled"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "InvalidToken"
            | "ExpiredToken"
            | "TokenRefreshRequired"
    )
}

/// The RestoreObject request body: the days a Glacier restore lasts (none for an
/// Intelligent-Tiering archive tier, whose objects move back for good) and the tier.
fn restore_body(archive: &ArchiveClass, request: &RestoreRequest) -> String {
    let days = if archive.is_intelligent_tiering() {
        String::new()
    } else {
        format!("<Days>{}</Days>", request.days)
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RestoreRequest xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{days}<GlacierJobParameters><Tier>{}</Tier></GlacierJobParameters></RestoreRequest>",
        request.tier.as_str()
    )
}

/// A key as a URL path: every byte but unreserved ones and `/` percent-encoded, which is
/// also the canonical form SigV4 signs for S3.
fn url_path(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `CODE: MESSAGE` of an S3 error document in `text`, if there is one.
fn s3_error(text: &str) -> Option<String> {
    let code = xml_text(text, "Code")?;
    Some(match xml_text(text, "Message") {
        Some(message) => format!("{code}: {message}"),
        None => code,
    })
}

/// The identity S3 gives an object in a listing or a HEAD.
fn identity_of(meta: &object_store::ObjectMeta) -> Identity {
    Identity::stored(
        meta.size,
        meta.e_tag.as_deref(),
        Some(meta.last_modified),
        meta.version.as_deref(),
    )
}

fn metadata_of(attributes: &object_store::Attributes) -> Metadata {
    let entries: BTreeMap<String, String> = attributes
        .iter()
        .filter_map(|(a, v)| match a {
            Attribute::Metadata(name) => Some((name.to_ascii_lowercase(), v.to_string())),
            _ => None,
        })
        .collect();
    let origin = (!entries.is_empty()).then_some(MetadataOrigin::Service);
    Metadata { entries, origin }
}

impl S3Source {
    /// Lists `prefix` of `bucket` page by page, with the options `options` gives for
    /// each page token, handing every page to `take` until the listing ends or `take`
    /// returns true. A listing that never ends is cut off after `MAX_PAGES` pages.
    fn list_pages(
        &self,
        bucket: &str,
        prefix: &str,
        options: impl Fn(Option<String>) -> PaginatedListOptions,
        mut take: impl FnMut(object_store::ListResult) -> bool,
    ) -> Result<(), SourceError> {
        let b = self.bucket(bucket)?;
        self.session.block_on(async {
            let mut token: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let page = b
                    .store
                    .list_paginated((!prefix.is_empty()).then_some(prefix), options(token.take()))
                    .await
                    .map_err(|e| map_error(e, bucket, prefix))?;
                if take(page.result) {
                    return Ok(());
                }
                match page.page_token {
                    Some(t) => token = Some(t),
                    None => return Ok(()),
                }
            }
            Err(SourceError::new(
                SourceErrorKind::Other,
                bucket,
                prefix,
                "listing did not end",
            ))
        })
    }
}

impl ObjectSource for S3Source {
    /// ListObjectsV2 page by page, stopping after the page that holds a key `stop`
    /// accepts.
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        let mut keys = Vec::new();
        self.list_pages(
            bucket,
            prefix,
            |page_token| PaginatedListOptions {
                offset: (!start_after.is_empty()).then(|| start_after.to_string()),
                page_token,
                ..PaginatedListOptions::default()
            },
            |page| {
                let before = keys.len();
                let mut listed = self.listed.lock().expect("listed identities");
                for o in page.objects {
                    let key = o.location.to_string();
                    listed.insert((bucket.to_string(), key.clone()), identity_of(&o));
                    keys.push(key);
                }
                keys[before..].iter().any(|k| stop(k))
            },
        )?;
        keys.retain(|k| k.starts_with(prefix) && k.as_str() > start_after);
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let b = self.bucket(bucket)?;
        let path = object_path(bucket, key)?;
        self.session.block_on(async {
            let result = b
                .store
                .get_opts(&path, GetOptions::default())
                .await
                .map_err(|e| map_error(e, bucket, key))?;
            let metadata = metadata_of(&result.attributes);
            if result.meta.size > MAX_WHOLE_OBJECT {
                return Err(too_large(bucket, key, result.meta.size));
            }
            // The declared size is the server's word: count what actually arrives too.
            let mut body = Vec::with_capacity(result.meta.size as usize);
            let mut stream = result.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| map_error(e, bucket, key))?;
                if (body.len() + chunk.len()) as u64 > MAX_WHOLE_OBJECT {
                    return Err(too_large(bucket, key, (body.len() + chunk.len()) as u64));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Object { body, metadata })
        })
    }

    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.open_with(bucket, key, GetOptions::default())
    }

    /// A ranged GET: only the bytes asked for cross the network.
    fn open_range(
        &self,
        bucket: &str,
        key: &str,
        range: Range<u64>,
    ) -> Result<Box<dyn Read + Send>, SourceError> {
        if range.is_empty() {
            return Ok(Box::new(std::io::empty()));
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        self.open_with(bucket, key, options)
    }

    /// What the listing said of the object, or a HEAD when it was not listed.
    /// ListObjectsV2: up to 1,000 keys a request.
    fn listing_is_paged(&self, _bucket: &str) -> bool {
        true
    }

    fn known_identity(&self, bucket: &str, key: &str) -> Option<Identity> {
        let id = (bucket.to_string(), key.to_string());
        self.listed.lock().expect("listed identities").get(&id).cloned()
    }

    fn identity(&self, bucket: &str, key: &str) -> Result<Option<Identity>, SourceError> {
        let id = (bucket.to_string(), key.to_string());
        if let Some(listed) = self.listed.lock().expect("listed identities").get(&id) {
            return Ok(Some(listed.clone()));
        }
        let b = self.bucket(bucket)?;
        let path = object_path(bucket, key)?;
        self.session.block_on(async {
            match b.store.head(&path).await {
                Ok(meta) => Ok(Some(identity_of(&meta))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(map_error(e, bucket, key)),
            }
        })
    }

    fn size(&self, bucket: &str, key: &str) -> Result<Option<u64>, SourceError> {
        let b = self.bucket(bucket)?;
        let path = object_path(bucket, key)?;
        self.session.block_on(async {
            match b.store.head(&path).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(map_error(e, bucket, key)),
            }
        })
    }

    fn list_folders(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut folders = Vec::new();
        self.list_pages(
            bucket,
            prefix,
            |page_token| PaginatedListOptions {
                delimiter: Some("/".into()),
                page_token,
                ..PaginatedListOptions::default()
            },
            |page| {
                folders.extend(page.common_prefixes.into_iter().map(|p| format!("{p}/")));
                false
            },
        )?;
        folders.retain(|f| f.starts_with(prefix));
        folders.sort_unstable();
        folders.dedup();
        Ok(folders)
    }
    /// RestoreObject, signed and retried as every request (throttling, 5xx, resets).
    /// 202: started; 200: already restored; 409 `RestoreAlreadyInProgress`: under way; a
    /// 403 `InvalidObjectState` (the object is not, or no longer, archived): read it again.
    fn restore(
        &self,
        bucket: &str,
        key: &str,
        archive: &ArchiveClass,
        request: &RestoreRequest,
    ) -> Result<RestoreOutcome, SourceError> {
        let b = self.bucket(bucket)?;
        object_path(bucket, key)?;
        let url = format!("{}/{}?restore", b.base, url_path(key));
        let body = restore_body(archive, request).into_bytes();
        let answer = self
            .session
            .block_on(send(
                &self.session,
                "s3",
                &b.region,
                http::Method::POST,
                &url,
                &[("content-type", "application/xml")],
                body,
            ))
            .map_err(|e| {
                SourceError::new(
                    SourceErrorKind::Other,
                    bucket,
                    key,
                    format!("RestoreObject failed: {e}"),
                )
                .with_cause(e)
            })?;
        let code = answer.error_code();
        match (answer.status, code.as_deref()) {
            (202, _) => Ok(RestoreOutcome::Started),
            (200, _) | (403, Some("InvalidObjectState")) => Ok(RestoreOutcome::Restored),
            (409, Some("RestoreAlreadyInProgress")) => Ok(RestoreOutcome::InProgress),
            (status, code) => {
                let said = format!("{}: {}", code.unwrap_or("HTTP error"), answer.error_message());
                let detail = if status == 403 {
                    format!("RestoreObject refused ({said}); the caller needs s3:RestoreObject on the object")
                } else {
                    format!("RestoreObject failed: HTTP {status} ({said})")
                };
                Err(SourceError::new(SourceErrorKind::Other, bucket, key, detail))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESTORE: RestoreRequest = RestoreRequest {
        days: 3,
        tier: crate::source::RestoreTier::Bulk,
    };

    /// Bucket look-ups and every bucket's reads go through the session's one HTTP
    /// client: one connection, kept open, serves them all (and the system's trust roots
    /// are read once, not once more for each bucket).
    ///
    /// The server takes one connection and then closes its port. The client's pool may
    /// start a spare connection when a request is sent before the last one's connection
    /// is back in the pool (hyper races a new connect against the pool's checkout); that
    /// spare is refused here, and the request is served by the pooled connection or,
    /// if the refusal came first, by a retry. A client of its own per bucket would have
    /// no pooled connection to fall back on, and its reads would fail.
    #[test]
    fn every_bucket_is_read_through_the_sessions_one_client() {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            if let Some(stream) = listener.incoming().next() {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(listener);
                let stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                loop {
                    let mut first = String::new();
                    if reader.read_line(&mut first).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                        line.clear();
                    }
                    let body = if first.contains("?location") {
                        "<LocationConstraint>us-east-1</LocationConstraint>"
                    } else {
                        "ok"
                    };
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\netag: \"e\"\r\nlast-modified: Sun, 06 Dec 2026 00:00:00 GMT\r\n\r\n{body}",
                        body.len()
                    );
                    out.write_all(answer.as_bytes()).unwrap();
                }
            }
        });
        let session = AwsSession::new(crate::aws::AwsSettings {
            s3_endpoint: Some(endpoint),
            anonymous: true,
            ..Default::default()
        })
        .unwrap();
        let s3 = S3Source::new(session);
        for bucket in ["first", "second", "third"] {
            assert_eq!(s3.get(bucket, "k").unwrap().body, b"ok");
        }
        assert_eq!(connections.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn keys_are_percent_encoded_but_for_unreserved_bytes_and_slashes() {
        assert_eq!(
            url_path("AWSLogs/1/a b+c=é.json.gz"),
            "AWSLogs/1/a%20b%2Bc%3D%C3%A9.json.gz"
        );
    }

    #[test]
    fn kms_refusals_are_told_from_other_s3_errors() {
        let doc = |code: &str, message: &str| {
            format!("Client error: <?xml version=\"1.0\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>")
        };
        let denied = doc(
            "AccessDenied",
            "User: x is not authorized to perform: kms:Decrypt on y",
        );
        assert_eq!(
            kms_refusal(&denied).unwrap(),
            "AccessDenied: User: x is not authorized to perform: kms:Decrypt on y"
        );
        assert!(kms_refusal(&doc("KMS.KMSInvalidStateException", "pending deletion")).is_some());
        assert_eq!(kms_refusal(&doc("AccessDenied", "Access Denied")), None);
        assert_eq!(kms_refusal("connection reset by peer"), None);
        assert_eq!(
            s3_error(&doc("AccessDenied", "Access Denied")).unwrap(),
            "AccessDenied: Access Denied"
        );
        assert_eq!(s3_error("timed out"), None);
        let archived = doc(
            "InvalidObjectState",
            "The operation is not valid for the object's storage class",
        )
        .replace("</Message>", "</Message><StorageClass>GLACIER</StorageClass>");
        let glacier = archived_in(&archived).unwrap();
        assert_eq!(
            (glacier.storage_class.as_deref(), glacier.access_tier.as_deref()),
            (Some("GLACIER"), None)
        );
        assert_eq!(glacier.to_string(), "GLACIER");
        assert!(restore_body(&glacier, &RESTORE)
            .contains("<Days>3</Days><GlacierJobParameters><Tier>Bulk</Tier>"));
        let tiered = archived.replace(
            "<StorageClass>GLACIER</StorageClass>",
            "<StorageClass>INTELLIGENT_TIERING</StorageClass><AccessTier>ARCHIVE_ACCESS</AccessTier>",
        );
        let tiered = archived_in(&tiered).unwrap();
        assert_eq!(tiered.to_string(), "INTELLIGENT_TIERING (ARCHIVE_ACCESS)");
        assert!(tiered.is_intelligent_tiering());
        let body = restore_body(&tiered, &RESTORE);
        assert!(
            !body.contains("<Days>") && body.contains("<Tier>Bulk</Tier>"),
            "{body}"
        );
        assert_eq!(archived_in(&denied), None);
    }
}
