//! `validate-logs` with a ledger: the same events in the same order, with digests the
//! ledger holds unchanged taken from it (and checked again) and logs it vouches for not
//! read again.

use std::ops::ControlFlow;

use chrono::{DateTime, Duration, Utc};

use super::Validation;
use crate::check::digest::LogJob;
use crate::error::Error;
use crate::fetch::pool;
use crate::layout::{chain_label, is_backfill_key};
use crate::ledger::{Ledger, LedgerScope, Tracked};
use crate::plan::window::day_folders;
use crate::source::ObjectSource;
use crate::verdict::{Event, Summary};

impl Validation<'_> {
    /// What a ledger for this validation is made for: the command, the chain scope, the
    /// bucket the walk starts in, and whether logs stored decompressed are accepted (a
    /// log's entry holds what reading it found under that rule). A caller adds what the
    /// validation cannot know (which kind of source it reads).
    pub fn ledger_scope(&self) -> LedgerScope {
        LedgerScope::new("validate-logs")
            .with("chain", chain_label(&self.scope, false))
            .with("bucket", self.bucket.clone())
            .with(
                "accept_decompressed_logs",
                self.accept_decompressed_logs.to_string(),
            )
    }

    /// Runs the validation with what `previous` recorded, emitting exactly the events a
    /// run without it emits: digests whose identity has not changed come from the
    /// ledger and are checked again (signature included) without being fetched; logs
    /// whose identity has not changed are not read again, their recorded content hash
    /// compared with what their digest records. Returns the totals and the ledger to keep
    /// (`now` is when it is written). `previous` must have been made for this
    /// validation's scope ([`Validation::ledger_scope`] plus what the caller added).
    pub fn run_with_ledger(
        &self,
        previous: Ledger,
        now: DateTime<Utc>,
        emit: &mut dyn FnMut(&Event) -> ControlFlow<()>,
    ) -> Result<(Summary, Ledger), Error> {
        self.ledger_scope().admits(&previous)?;
        let tracked = Tracked::new(self.source, previous);
        // The log folders of the window, listed once, the days side by side (a listing
        // waits on the store): in S3 the listing gives each log's identity, which the
        // ledger compares without a request per log. Logs the listings do not hold are
        // asked for one at a time.
        let last = self.end + Duration::hours(1);
        let days = day_folders(
            &self.scope.log_folder(),
            self.start.date_naive(),
            last.date_naive(),
        );
        pool::map(&days, self.jobs, |day| {
            // A day that cannot be listed leaves its logs to be asked for.
            let _ = tracked.list(&self.bucket, day, "");
        });
        let run = Validation {
            source: &tracked,
            keys: self.keys,
            scope: self.scope.clone(),
            bucket: self.bucket.clone(),
            // Its listings go through the ledger's source, which notes what they hold.
            listed_ahead: None,
            ..*self
        };
        let chain = chain_label(&self.scope, false);
        let accept = self.accept_decompressed_logs;
        let check = |job: &LogJob| tracked.check_log(&chain, &tracked, job, accept);
        let mut fingerprints = Vec::new();
        let summary = run.run_reading(Some(&check), &mut |event| {
            match event {
                Event::DigestValid {
                    bucket,
                    key,
                    fingerprint,
                    ..
                } => {
                    tracked.label_digest(
                        bucket,
                        key,
                        &chain_label(&self.scope, is_backfill_key(key)),
                        "valid",
                    );
                    fingerprints.push(fingerprint.clone());
                }
                Event::DigestInvalid { bucket, key, .. } => {
                    tracked.label_digest(
                        bucket,
                        key,
                        &chain_label(&self.scope, is_backfill_key(key)),
                        "invalid",
                    );
                }
                _ => {}
            }
            emit(event)
        })?;
        fingerprints.sort();
        fingerprints.dedup();
        let ledger = tracked.into_ledger((self.start, self.end), now, fingerprints);
        Ok((summary, ledger))
    }
}
