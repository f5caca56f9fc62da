//! A digest listing made ahead: taken by the run it was made for, in place of its own,
//! and left alone by any other.

use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

use super::*;
use crate::source::Object;
use crate::{parse_utc, Event, LocalDir, PublicKeySet, TrailArn, Validation};

/// A copy that notes the prefix of every key listing, and fails the listings of
/// `failing` when it is given.
struct Noting {
    inner: LocalDir,
    listed: Mutex<Vec<String>>,
    failing: Option<String>,
}

impl ObjectSource for Noting {
    fn list_until(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: &str,
        stop: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>, SourceError> {
        self.listed.lock().unwrap().push(prefix.to_string());
        if self.failing.as_deref() == Some(prefix) {
            return Err(SourceError::new(
                crate::SourceErrorKind::Other,
                bucket,
                prefix,
                "listing failed",
            ));
        }
        self.inner.list_until(bucket, prefix, start_after, stop)
    }
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        self.inner.get(bucket, key)
    }
    fn open(&self, bucket: &str, key: &str) -> Result<Box<dyn Read + Send>, SourceError> {
        self.inner.open(bucket, key)
    }
}

fn noting(failing: Option<String>) -> Arc<Noting> {
    let mirror = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample/mirror");
    Arc::new(Noting {
        inner: LocalDir::new(mirror).unwrap(),
        listed: Mutex::default(),
        failing,
    })
}

/// The events and the fatal error, if any, of a run over `scope`, taking `ahead`.
fn run(
    source: &dyn ObjectSource,
    scope: &ChainScope,
    window: (DateTime<Utc>, DateTime<Utc>),
    ahead: Option<&DigestListing>,
) -> (Vec<Event>, Option<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/sample");
    let mut keys = PublicKeySet::new();
    keys.add_file(&dir.join("public-keys.json")).unwrap();
    let mut validation = Validation::new(source, &keys, scope.clone(), "ctd-sample-bucket", window)
        .unwrap()
        .jobs(2);
    if let Some(ahead) = ahead {
        validation = validation.digests_listed_ahead(ahead);
    }
    let mut events = Vec::new();
    let end = validation.run(&mut |e| events.push(e.clone())).err();
    (events, end.map(|e| e.to_string()))
}

fn sample_scope() -> ChainScope {
    let arn = TrailArn::parse("arn:aws:cloudtrail:us-east-1:111122223333:trail/sample-trail").unwrap();
    ChainScope::for_trail(&arn)
}

fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (
        parse_utc("2026-03-01T00:00:00Z").unwrap(),
        parse_utc("2026-03-02T00:00:00Z").unwrap(),
    )
}

#[test]
fn the_run_it_was_made_for_takes_it_instead_of_listing() {
    let scope = sample_scope();
    let plain = noting(None);
    let (want, none) = run(plain.as_ref(), &scope, window(), None);
    assert!(none.is_none() && want.len() > 20);

    let source = noting(None);
    let shared: Arc<dyn ObjectSource> = source.clone();
    let ahead = DigestListing::start(shared, &scope, "ctd-sample-bucket", window());
    let (got, none) = run(source.as_ref(), &scope, window(), Some(&ahead));
    assert_eq!((got, none), (want, None));
    // One listing in all: the one made ahead.
    assert_eq!(*source.listed.lock().unwrap(), [scope.listing_prefix()]);
}

#[test]
fn its_failure_is_the_runs_as_if_the_run_had_listed() {
    let scope = sample_scope();
    let failing = Some(scope.listing_prefix());
    let (want, fatal) = run(noting(failing.clone()).as_ref(), &scope, window(), None);
    assert!(
        fatal.as_deref().is_some_and(|e| e.contains("listing failed")),
        "{fatal:?}"
    );

    let source = noting(failing);
    let shared: Arc<dyn ObjectSource> = source.clone();
    let ahead = DigestListing::start(shared, &scope, "ctd-sample-bucket", window());
    assert_eq!(
        run(source.as_ref(), &scope, window(), Some(&ahead)),
        (want, fatal)
    );
    assert_eq!(source.listed.lock().unwrap().len(), 1);
}

#[test]
fn a_run_over_another_folder_or_window_lists_its_own() {
    let scope = sample_scope();
    let elsewhere = ChainScope {
        organization_id: Some("o-exampleorgid".into()),
        ..scope.clone()
    };
    let later = (window().0 + Duration::hours(1), window().1);
    for (made_for, window_made_for) in [(&elsewhere, window()), (&scope, later)] {
        let (want, _) = run(noting(None).as_ref(), &scope, window(), None);
        let source = noting(None);
        let shared: Arc<dyn ObjectSource> = source.clone();
        let ahead = DigestListing::start(shared, made_for, "ctd-sample-bucket", window_made_for);
        let (got, fatal) = run(source.as_ref(), &scope, window(), Some(&ahead));
        assert_eq!((got, fatal), (want, None));
        let mut listed = source.listed.lock().unwrap().clone();
        listed.sort();
        let mut expected = vec![made_for.listing_prefix(), scope.listing_prefix()];
        expected.sort();
        assert_eq!(listed, expected, "the run listed its own");
    }
}
