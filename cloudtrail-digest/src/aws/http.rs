//! Signed requests outside object_store (bucket location, CloudTrail JSON calls), with
//! retries and backoff on throttling, 5xx answers and transport failures.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use object_store::client::{HttpRequest, HttpRequestBody};

use super::{AwsSession, MAX_BACKOFF};

/// A request that got no answer, or could not be made, with the failure underneath as
/// its `source()`.
#[derive(Debug)]
pub(crate) struct RequestError {
    message: String,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl RequestError {
    /// `message`, caused by `cause`.
    pub(crate) fn new(message: String, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        RequestError {
            message,
            cause: Some(cause.into()),
        }
    }

    /// The same failure, its message followed by ` (more)`.
    fn with_note(mut self, more: &str) -> Self {
        self.message = format!("{} ({more})", self.message);
        self
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// An answer, whatever its status.
pub(crate) struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The error code of an AWS error answer (`<Code>` of S3's XML, `__type` of JSON).
    pub fn error_code(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.body);
        if let Some(code) = xml_text(&text, "Code") {
            return Some(code);
        }
        let doc: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        let t = doc.get("__type").and_then(|v| v.as_str())?;
        Some(t.rsplit('#').next().unwrap_or(t).to_string())
    }

    /// The error message of an AWS error answer.
    pub fn error_message(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        if let Some(m) = xml_text(&text, "Message") {
            return m;
        }
        if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&self.body) {
            for k in ["message", "Message"] {
                if let Some(m) = doc.get(k).and_then(|v| v.as_str()) {
                    return m.to_string();
                }
            }
        }
        format!("HTTP {}", self.status)
    }
}

/// The text of the first `<tag>...</tag>` (or empty for `<tag/>`), entities decoded.
pub(crate) fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}");
    let mut from = 0;
    while let Some(i) = doc[from..].find(&open) {
        let start = from + i + open.len();
        let rest = &doc[start..];
        match rest.chars().next() {
            Some('>') | Some(' ') | Some('/') => {}
            _ => {
                from = start;
                continue;
            }
        }
        let close_of_open = rest.find('>')?;
        if rest[..close_of_open].ends_with('/') {
            return Some(String::new());
        }
        let body = &rest[close_of_open + 1..];
        let end = body.find(&format!("</{tag}>"))?;
        return Some(decode_entities(&body[..end]));
    }
    None
}

fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "SlowDown"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "PriorRequestNotComplete"
            | "InternalError"
    )
}

/// Whether an answer asks for fewer requests: S3's `503 SlowDown`, a 429, or a
/// throttling error code.
fn slows_down(r: &Response) -> bool {
    r.status == 503
        || r.status == 429
        || r.error_code().is_some_and(|c| {
            is_throttling(&c)
                && !matches!(
                    c.as_str(),
                    "InternalError" | "RequestTimeout" | "RequestTimeoutException"
                )
        })
}

/// Whether an answer is worth another try.
fn retryable(r: &Response) -> bool {
    r.status >= 500
        || r.status == 429
        || (r.status == 400 && r.error_code().is_some_and(|c| is_throttling(&c)))
}

/// Delay before retry number `attempt` (1-based): exponential from 100 ms, capped at
/// [`MAX_BACKOFF`], with jitter so that many clients do not retry in step.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let cap = MAX_BACKOFF.as_millis() as u64;
    let base = 100u64.saturating_mul(1 << attempt.min(8)).min(cap);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    Duration::from_millis(base / 2 + nanos % (base / 2 + 1))
}

/// An error with every cause under it (`a: b: c`), each said once: transport errors say
/// what happened (reset, timed out, closed early) only in their causes.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

/// "after N attempts in S s", for the message of a request that gave up.
pub(crate) fn attempts_made(attempts: u32, started: std::time::Instant) -> String {
    let noun = if attempts == 1 { "attempt" } else { "attempts" };
    format!(
        "after {attempts} {noun} in {:.1} s",
        started.elapsed().as_secs_f64()
    )
}

/// Sends a request signed for `service` in `region`, retrying as the SDKs do: at most
/// `max_retries` times, and none once the settings' retry window has passed.
pub(crate) async fn send(
    session: &AwsSession,
    service: &str,
    region: &str,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Response, RequestError> {
    let retries = session.settings().max_retries as u32;
    let window = session.settings().retry_window();
    let started = std::time::Instant::now();
    let mut attempt = 0u32;
    loop {
        let credential = session.credential().await?;
        let mut builder = http::Request::builder().method(method.clone()).uri(url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let mut request: HttpRequest = builder
            .body(HttpRequestBody::from(body.clone()))
            .map_err(|e| RequestError::new(format!("bad request for {url}: {e}"), e))?;
        super::sign(credential.as_deref(), service, region, &mut request)?;
        let outgoing = session
            .http()
            .request(method.clone(), url)
            .headers(request.headers().clone())
            .body(body.clone());
        let outcome = match outgoing.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                match r.bytes().await {
                    Ok(body) => Ok(Response {
                        status,
                        headers,
                        body,
                    }),
                    Err(e) => {
                        let e = e.without_url();
                        Err(RequestError::new(
                            format!("{method} {url}: reading the answer failed: {}", error_chain(&e)),
                            e,
                        ))
                    }
                }
            }
            Err(e) => {
                let e = e.without_url();
                Err(RequestError::new(
                    format!("{method} {url}: {}", error_chain(&e)),
                    e,
                ))
            }
        };
        if let Ok(r) = &outcome {
            session.answered(slows_down(r));
        }
        attempt += 1;
        let exhausted = attempt > retries || started.elapsed() > window;
        match outcome {
            Ok(r) if !retryable(&r) || exhausted => return Ok(r),
            Err(e) if exhausted => return Err(e.with_note(&attempts_made(attempt, started))),
            _ => tokio::time::sleep(backoff(attempt)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_answers_ask_for_fewer_requests_and_failures_do_not() {
        let answer = |status: u16, code: &str| Response {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(format!("<Error><Code>{code}</Code></Error>")),
        };
        assert!(slows_down(&answer(503, "SlowDown")));
        assert!(slows_down(&answer(429, "TooManyRequestsException")));
        assert!(slows_down(&answer(400, "ThrottlingException")));
        assert!(!slows_down(&answer(500, "InternalError")));
        assert!(!slows_down(&answer(400, "RequestTimeout")));
        assert!(!slows_down(&answer(403, "AccessDenied")));
        assert!(!slows_down(&answer(200, "")));
    }

    #[test]
    fn reads_xml_text() {
        let doc = r#"<?xml version="1.0"?><LocationConstraint xmlns="x">eu-west-1</LocationConstraint>"#;
        assert_eq!(xml_text(doc, "LocationConstraint").unwrap(), "eu-west-1");
        assert_eq!(
            xml_text(r#"<LocationConstraint xmlns="x"/>"#, "LocationConstraint").unwrap(),
            ""
        );
        let err = "<Error><Code>NoSuchBucket</Code><Message>a &amp; b</Message></Error>";
        assert_eq!(xml_text(err, "Code").unwrap(), "NoSuchBucket");
        assert_eq!(xml_text(err, "Message").unwrap(), "a & b");
        assert_eq!(xml_text("<CodeX>1</CodeX>", "Code"), None);
    }

    #[test]
    fn error_chain_says_each_cause_once() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let reset = E("connection reset by peer", None);
        let e = E(
            "error sending request",
            Some(Box::new(E(
                "client error: connection reset by peer",
                Some(Box::new(reset)),
            ))),
        );
        assert_eq!(
            error_chain(&e),
            "error sending request: client error: connection reset by peer"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_millis(200));
        assert!(backoff(30) <= Duration::from_secs(20));
        assert!(backoff(30) >= Duration::from_secs(10));
    }
}
