//! Fetching digests ahead of a walk, into a small bounded cache.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex};

use super::Fetch;
use crate::source::{Object, ObjectSource, SourceError};

type ObjectId = (String, String);

/// Fetches digests ahead of the walk, into a small bounded cache.
pub(crate) struct Prefetcher<'a> {
    source: &'a dyn ObjectSource,
    depth: usize,
    state: Mutex<PrefetchState>,
    /// Signalled when a digest is wanted (or the prefetcher closes): the serving threads wait here.
    wanted: Condvar,
    /// Signalled when a digest lands: the walk waits here, and no serving thread wakes for it.
    landed: Condvar,
}

#[derive(Default)]
struct PrefetchState {
    wanted: VecDeque<ObjectId>,
    in_flight: HashSet<ObjectId>,
    done: HashMap<ObjectId, Result<Object, SourceError>>,
    closed: bool,
}

impl<'a> Prefetcher<'a> {
    pub fn new(source: &'a dyn ObjectSource, depth: usize) -> Self {
        Prefetcher {
            source,
            depth,
            state: Mutex::new(PrefetchState::default()),
            wanted: Condvar::new(),
            landed: Condvar::new(),
        }
    }

    pub fn serve(&self) {
        let mut state = self.state.lock().expect("prefetch lock");
        loop {
            if state.closed {
                return;
            }
            let Some(id) = state.wanted.pop_front() else {
                state = self.wanted.wait(state).expect("prefetch lock");
                continue;
            };
            state.in_flight.insert(id.clone());
            drop(state);
            let fetched = self.source.get(&id.0, &id.1);
            state = self.state.lock().expect("prefetch lock");
            state.in_flight.remove(&id);
            state.done.insert(id, fetched);
            self.landed.notify_all();
        }
    }

    pub fn close(&self) {
        self.state.lock().expect("prefetch lock").closed = true;
        self.wanted.notify_all();
        self.landed.notify_all();
    }
}

impl Fetch for Prefetcher<'_> {
    fn get(&self, bucket: &str, key: &str) -> Result<Object, SourceError> {
        let id = (bucket.to_string(), key.to_string());
        let mut state = self.state.lock().expect("prefetch lock");
        loop {
            if let Some(found) = state.done.remove(&id) {
                return found;
            }
            if state.closed || !state.in_flight.contains(&id) {
                break;
            }
            state = self.landed.wait(state).expect("prefetch lock");
        }
        state.wanted.retain(|w| *w != id);
        drop(state);
        self.source.get(bucket, key)
    }

    fn hint(&self, upcoming: Vec<(String, String)>) {
        let mut state = self.state.lock().expect("prefetch lock");
        let upcoming: Vec<ObjectId> = upcoming.into_iter().take(self.depth).collect();
        // Keep only what may still be needed, so the cache stays bounded.
        state.done.retain(|id, _| upcoming.contains(id));
        state.wanted.clear();
        for id in upcoming {
            if !state.done.contains_key(&id) && !state.in_flight.contains(&id) {
                state.wanted.push_back(id);
                self.wanted.notify_one();
            }
        }
    }
}
