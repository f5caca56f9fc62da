//! A walk's output in its own order, however many threads do the work.
//!
//! A walk (the reference's chain walk) emits an ordered stream of items: events, and log
//! files to check in their place. [`run_inline`] checks each log as it comes, on the
//! calling thread. [`run_parallel`] runs the walk on a thread of its own: worker threads
//! inflate and hash logs, a small pool fetches the digests the walk says come next, and
//! the calling thread consumes the stream in order, waiting for each log's verdict in its
//! place, so the output is identical to a single-threaded run. Every queue is bounded, so
//! memory does not grow with the trail.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Mutex;
use std::thread;

use super::log::check_log;
use super::prefetch::Prefetcher;
use super::{DirectFetch, Fetch, Halt, Sink};
use crate::check::digest::LogJob;
use crate::error::Error;
use crate::source::ObjectSource;
use crate::verdict::{Event, LogVerdict};

/// How logs are read and how many threads read them.
#[derive(Clone, Copy)]
pub(crate) struct Reading<'a> {
    /// Where logs and digests come from.
    pub source: &'a dyn ObjectSource,
    /// Threads checking logs; 1 runs everything on the calling thread.
    pub jobs: usize,
    /// Digests fetched ahead of need (0: none).
    pub prefetch: usize,
    /// Whether a log stored decompressed may be accepted.
    pub accept_decompressed: bool,
    /// How a log's verdict is found instead of reading it here (a run with a ledger).
    pub check: Option<&'a CheckLog<'a>>,
}

/// A log's verdict, found some other way than by reading it here.
pub(crate) type CheckLog<'a> = dyn Fn(&LogJob) -> Result<LogVerdict, Error> + Sync + 'a;

impl Reading<'_> {
    /// One log's verdict: read, or found as the run says.
    fn check(&self, job: &LogJob) -> Result<LogVerdict, Error> {
        match self.check {
            Some(check) => check(job),
            None => check_log(self.source, job, self.accept_decompressed),
        }
    }
}

/// The walk itself: given where to send its output and how to fetch digests, it runs to
/// its end or to the first halt.
pub(crate) type Walker<'w> = dyn FnOnce(&mut dyn Sink, &dyn Fetch) -> Result<(), Halt> + Send + 'w;

/// Receives a walk's events in order; `Break` stops the walk (no further reads start).
pub(crate) type Deliver<'d> = dyn FnMut(&Event) -> ControlFlow<()> + 'd;

/// Runs `walk` on the calling thread, checking each log as it comes.
pub(crate) fn run_inline(
    reading: Reading<'_>,
    walk: Box<Walker<'_>>,
    deliver: &mut Deliver<'_>,
) -> Result<(), Error> {
    let mut sink = InlineSink { reading, deliver };
    match walk(&mut sink, &DirectFetch(reading.source)) {
        Ok(()) | Err(Halt::Cancelled) => Ok(()),
        Err(Halt::Fatal(e)) => Err(e),
    }
}

/// Single-threaded: check each log as it comes.
struct InlineSink<'a, 'd> {
    reading: Reading<'a>,
    deliver: &'d mut Deliver<'d>,
}

impl Sink for InlineSink<'_, '_> {
    fn event(&mut self, event: Event) -> Result<(), Halt> {
        match (self.deliver)(&event) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(Halt::Cancelled),
        }
    }

    fn log(&mut self, job: LogJob) -> Result<(), Halt> {
        let verdict = self.reading.check(&job)?;
        self.event(Event::Log {
            bucket: job.bucket,
            key: job.key,
            verdict,
        })
    }
}

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

/// Runs `walk` on a thread of its own with `reading.jobs` log workers and a digest
/// prefetcher, delivering its events in the walk's order.
pub(crate) fn run_parallel(
    reading: Reading<'_>,
    walk: Box<Walker<'_>>,
    deliver: &mut Deliver<'_>,
) -> Result<(), Error> {
    let cancelled = AtomicBool::new(false);
    let prefetcher = Prefetcher::new(reading.source, reading.prefetch);
    let (job_tx, job_rx) = mpsc::sync_channel::<(LogJob, SyncSender<Verdict>)>(reading.jobs * 2);
    let job_rx = Mutex::new(job_rx);
    let (item_tx, item_rx) = mpsc::sync_channel::<Item>(ITEMS_AHEAD);
    thread::scope(|s| {
        for _ in 0..reading.jobs {
            s.spawn(|| work(reading, &job_rx, &cancelled));
        }
        if reading.prefetch > 0 {
            // A thread per digest wanted ahead, up to the jobs: in S3 these threads wait
            // on round trips, and four of them (as before) left the walk waiting on
            // digests once logs were read 64 at a time.
            for _ in 0..reading.prefetch.min(reading.jobs) {
                s.spawn(|| prefetcher.serve());
            }
        }
        let prefetcher = &prefetcher;
        s.spawn(move || {
            let mut sink = ChannelSink {
                items: item_tx,
                jobs: job_tx,
            };
            let outcome = walk(&mut sink, prefetcher);
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

fn consume(items: &Receiver<Item>, deliver: &mut Deliver<'_>) -> Result<(), Error> {
    for item in items.iter() {
        let flow = match item {
            Item::Event(e) => deliver(&e),
            Item::Log { bucket, key, verdict } => match verdict.recv() {
                Ok(Ok(verdict)) => deliver(&Event::Log { bucket, key, verdict }),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(()), // a worker gave up: only after cancellation
            },
            Item::End(Ok(())) | Item::End(Err(Halt::Cancelled)) => return Ok(()),
            Item::End(Err(Halt::Fatal(e))) => return Err(e),
        };
        if flow.is_break() {
            return Ok(()); // the caller stops everyone
        }
    }
    Ok(())
}

fn work(
    reading: Reading<'_>,
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
        let _ = reply.send(reading.check(&job));
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
