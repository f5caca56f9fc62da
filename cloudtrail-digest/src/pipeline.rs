//! Parallel validation with the reference's output order.
//!
//! One walker thread runs the (inherently sequential) chain walk and emits an ordered
//! stream of items: digest events, and log files to check. Worker threads inflate and
//! hash logs; a small pool fetches the digests the listing says come next. The calling
//! thread consumes the stream in order, waiting for each log's verdict in its place, so
//! the output is identical to a single-threaded run. Every queue is bounded, so memory
//! does not grow with the trail.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Condvar, Mutex};
use std::thread;

use crate::logcheck::{check_log, LogJob};
use crate::source::{Object, ObjectSource, SourceError};
use crate::validate::{Fetch, Halt, Sink, Validation, Walk};
use crate::verdict::{Event, LogVerdict};
use crate::Error;

/// Items the walker may run ahead of what has been emitted.
const ITEMS_AHEAD: usize = 4096;

type Verdict = Result<LogVerdict, Error>;

enum Item {
    Event(Event),
    Log {
        bucket: String,
        key: String,
        verdict: Receiver<Verdict>,
    },
    End(Result<(), Halt>),
}

pub(crate) fn run(v: &Validation<'_>, deliver: &mut dyn FnMut(&Event)) -> Result<(), Error> {
    let cancelled = AtomicBool::new(false);
    let prefetcher = Prefetcher::new(v.source(), v.prefetch_depth());
    let (job_tx, job_rx) = mpsc::sync_channel::<(LogJob, SyncSender<Verdict>)>(v.job_count() * 2);
    let job_rx = Mutex::new(job_rx);
    let (item_tx, item_rx) = mpsc::sync_channel::<Item>(ITEMS_AHEAD);
    thread::scope(|s| {
        for _ in 0..v.job_count() {
            s.spawn(|| work(v, &job_rx, &cancelled));
        }
        if v.prefetch_depth() > 0 {
            for _ in 0..v.job_count().clamp(1, 4) {
                s.spawn(|| prefetcher.serve());
            }
        }
        let prefetcher = &prefetcher;
        s.spawn(move || {
            let mut sink = ChannelSink {
                items: item_tx,
                jobs: job_tx,
            };
            let outcome = Walk::new(v, &mut sink, prefetcher).run();
            // Sending fails only when the consumer has stopped already.
            let _ = sink.items.send(Item::End(outcome));
            prefetcher.close();
        });
        let result = consume(&item_rx, deliver);
        // Stop everyone: the walker's next send fails, workers skip what is queued.
        cancelled.store(true, Ordering::SeqCst);
        drop(item_rx);
        prefetcher.close();
        result
    })
}

fn consume(items: &Receiver<Item>, deliver: &mut dyn FnMut(&Event)) -> Result<(), Error> {
    for item in items.iter() {
        match item {
            Item::Event(e) => deliver(&e),
            Item::Log { bucket, key, verdict } => match verdict.recv() {
                Ok(Ok(verdict)) => deliver(&Event::Log { bucket, key, verdict }),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(()), // a worker gave up: only after cancellation
            },
            Item::End(Ok(())) | Item::End(Err(Halt::Cancelled)) => return Ok(()),
            Item::End(Err(Halt::Fatal(e))) => return Err(e),
        }
    }
    Ok(())
}

fn work(
    v: &Validation<'_>,
    jobs: &Mutex<mpsc::Receiver<(LogJob, SyncSender<Verdict>)>>,
    cancelled: &AtomicBool,
) {
    loop {
        let next = jobs.lock().expect("job queue lock").recv();
        let Ok((job, reply)) = next else {
            return; // the walker is done
        };
        if cancelled.load(Ordering::Relaxed) {
            continue; // keep draining so the walker never blocks
        }
        let _ = reply.send(check_log(v.source(), &job, v.accepts_decompressed_logs()));
    }
}

struct ChannelSink {
    items: SyncSender<Item>,
    jobs: SyncSender<(LogJob, SyncSender<Verdict>)>,
}

impl Sink for ChannelSink {
    fn event(&mut self, event: Event) -> Result<(), Halt> {
        self.items.send(Item::Event(event)).map_err(|_| Halt::Cancelled)
    }

    fn log(&mut self, job: LogJob) -> Result<(), Halt> {
        let (reply, verdict) = mpsc::sync_channel(1);
        let (bucket, key) = (job.bucket.clone(), job.key.clone());
        self.jobs.send((job, reply)).map_err(|_| Halt::Cancelled)?;
        self.items
            .send(Item::Log { bucket, key, verdict })
            .map_err(|_| Halt::Cancelled)
    }
}

type ObjectId = (String, String);

/// Fetches digests ahead of the walk, into a small bounded cache.
struct Prefetcher<'a> {
    source: &'a dyn ObjectSource,
    depth: usize,
    state: Mutex<PrefetchState>,
    changed: Condvar,
}

#[derive(Default)]
struct PrefetchState {
    wanted: VecDeque<ObjectId>,
    in_flight: HashSet<ObjectId>,
    done: HashMap<ObjectId, Result<Object, SourceError>>,
    closed: bool,
}

impl<'a> Prefetcher<'a> {
    fn new(source: &'a dyn ObjectSource, depth: usize) -> Self {
        Prefetcher {
            source,
            depth,
            state: Mutex::new(PrefetchState::default()),
            changed: Condvar::new(),
        }
    }

    fn serve(&self) {
        let mut state = self.state.lock().expect("prefetch lock");
        loop {
            if state.closed {
                return;
            }
            let Some(id) = state.wanted.pop_front() else {
                state = self.changed.wait(state).expect("prefetch lock");
                continue;
            };
            state.in_flight.insert(id.clone());
            drop(state);
            let fetched = self.source.get(&id.0, &id.1);
            state = self.state.lock().expect("prefetch lock");
            state.in_flight.remove(&id);
            state.done.insert(id, fetched);
            self.changed.notify_all();
        }
    }

    fn close(&self) {
        self.state.lock().expect("prefetch lock").closed = true;
        self.changed.notify_all();
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
            state = self.changed.wait(state).expect("prefetch lock");
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
            }
        }
        self.changed.notify_all();
    }
}
