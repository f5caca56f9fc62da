//! What a slice of a chain reads across its edges: past its end, the records of the
//! signatures its digests lack; before its start, whether a predecessor is another
//! slice's digest; and the days of the log folder that are its to list.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::super::members::{self, Keys, State};
use super::super::placement::FolderListing;
use super::super::{Audit, Group, Slice};
use crate::error::Error;
use crate::layout::chain_label;
use crate::plan::window::{self, day_folders, Listed};
use crate::source::ObjectSource;

impl Audit<'_> {
    /// Reads on past the slice's end, in stamp order, only while some digest of the
    /// slice lacks a signature that no digest read so far records, and only as far as
    /// the window: what the whole run would have recovered them from.
    pub(in crate::audit) fn read_on(
        &self,
        slice: &Slice,
        groups: &[Group],
        source: &dyn ObjectSource,
        keys: &Keys<'_>,
        recovered: &mut HashMap<String, HashMap<(String, String), String>>,
    ) -> Result<(), Error> {
        let label = chain_label(&slice.scope, false);
        let records = recovered.entry(label).or_default();
        let mut lacking: std::collections::HashSet<(String, String)> = groups
            .iter()
            .flat_map(|g| &g.members)
            .filter(|m| matches!(m.state, State::Unsigned(_)))
            .map(|m| (m.bucket.clone(), m.key.clone()))
            .filter(|id| !records.contains_key(id))
            .collect();
        let last = window::stamps_of(self.window).1;
        let mut from = slice.stamps.1;
        while !lacking.is_empty() && from < last {
            let to = (from + Duration::days(1)).min(last);
            let mut next: Vec<Listed> =
                window::digests_between(self.source, &self.buckets, &self.filter, (from, to))?
                    .into_iter()
                    .filter(|l| l.name.scope == slice.scope)
                    .collect();
            next.sort_by(|a, b| (a.end, &a.bucket, &a.key).cmp(&(b.end, &b.bucket, &b.key)));
            for l in next {
                let region = &slice.scope.source_region;
                let Some(m) =
                    members::fetch(source, keys, &l.bucket, &l.key, l.end, l.name.backfill, region)?
                else {
                    continue;
                };
                if let Some((b, k, sig)) = m.records_previous {
                    if lacking.remove(&(b.clone(), k.clone())) {
                        records.insert((b, k), sig);
                    }
                }
                if lacking.is_empty() {
                    break;
                }
            }
            from = to;
        }
        Ok(())
    }

    /// Whether a digest that a member names as its predecessor, outside the listing
    /// read, is listed in another slice of the window for chain `label` (so that the
    /// whole run holds it as a member, and this slice must not fetch it as a missing
    /// link). Lists the day of its stamp, once a day. Always false for a whole run.
    pub(in crate::audit) fn listed_outside_slice(
        &self,
        label: &str,
        (bucket, key, end): &(String, String, DateTime<Utc>),
        listed_days: &mut HashMap<NaiveDate, Vec<Listed>>,
    ) -> Result<bool, Error> {
        let Some(slice) = &self.slice else {
            return Ok(false);
        };
        let whole = window::stamps_of(self.window);
        let inside = *end > slice.stamps.0 && *end <= slice.stamps.1;
        if inside || *end <= whole.0 || *end > whole.1 {
            return Ok(false);
        }
        let day = end.date_naive();
        if let std::collections::hash_map::Entry::Vacant(e) = listed_days.entry(day) {
            // The stamps of that day: from its midnight to the second before the next.
            let midnight = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
            let second = Duration::seconds(1);
            let span = (
                (midnight - second).max(whole.0),
                (midnight + Duration::days(1) - second).min(whole.1),
            );
            e.insert(window::digests_between(
                self.source,
                &self.buckets,
                &self.filter,
                span,
            )?);
        }
        Ok(listed_days[&day].iter().any(|l| {
            l.bucket == *bucket && l.key == *key && chain_label(&l.name.scope, l.name.backfill) == label
        }))
    }

    /// The slice's days of its scope's log folder in every bucket of the audit, and
    /// every day of the window in each bucket outside the audit where the slice's chain
    /// has a digest (a predecessor fetched from there): merge keeps the buckets where
    /// the chain has digests, as the whole run lists them.
    pub(in crate::audit) fn list_log_days(
        &self,
        slice: &Slice,
        groups: &[Group],
    ) -> Result<Vec<FolderListing>, Error> {
        let folder = slice.scope.log_folder();
        let foreign: std::collections::BTreeSet<&String> = groups
            .iter()
            .filter(|g| !g.backfill && g.scope == slice.scope)
            .flat_map(|g| g.members.iter().map(|m| &m.bucket))
            .filter(|b| !self.buckets.contains(b))
            .collect();
        let days = self
            .buckets
            .iter()
            .map(|b| (b, slice.log_days))
            .chain(foreign.into_iter().map(|b| (b, self.log_days())));
        let mut out = Vec::with_capacity(self.buckets.len());
        for (bucket, days) in days {
            let mut keys = Vec::new();
            if let Some((first, last)) = days {
                for day_folder in day_folders(&folder, first, last) {
                    keys.extend(self.source.list(bucket, &day_folder, "")?);
                }
            }
            out.push(FolderListing {
                bucket: bucket.clone(),
                folder: folder.clone(),
                owners: Vec::new(),
                keys,
            });
        }
        Ok(out)
    }
}
