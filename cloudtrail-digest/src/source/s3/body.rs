//! A GetObject body as a blocking reader, handed over from the runtime in batches.

use std::collections::VecDeque;
use std::io::{self, Read};

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tokio::task::AbortHandle;

use crate::aws::http::error_chain;

/// Bytes of a body gathered on the runtime before the reading thread is woken to take
/// them: the network hands a body over a few KiB at a time, and waking a thread for
/// each of those reads cost more CPU than the hashing of the logs.
const HANDOVER: usize = 256 * 1024;

/// A blocking reader over a GetObject body. A task on the session's runtime reads the
/// body and hands it over [`HANDOVER`] bytes at a time, at most one batch waiting: a
/// body holds at most three batches (the one being read, the one waiting, the one
/// being gathered). Holds a request permit until dropped; dropping it stops the task
/// (and with it the body's connection). Like any blocking read of the session, not
/// for a thread of its runtime.
pub(super) struct StreamReader {
    batches: mpsc::Receiver<io::Result<VecDeque<Bytes>>>,
    batch: VecDeque<Bytes>,
    task: AbortHandle,
    _permit: OwnedSemaphorePermit,
}

impl StreamReader {
    pub(super) fn new(
        mut stream: BoxStream<'static, object_store::Result<Bytes>>,
        permit: OwnedSemaphorePermit,
        runtime: &tokio::runtime::Handle,
    ) -> StreamReader {
        let (tx, batches) = mpsc::channel(1);
        let task = runtime.spawn(async move {
            let mut batch = VecDeque::new();
            let mut gathered = 0;
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(chunk) => {
                        gathered += chunk.len();
                        batch.push_back(chunk);
                        if gathered >= HANDOVER {
                            gathered = 0;
                            if tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        // The bytes before the failure first, as they came.
                        if !batch.is_empty() && tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                            return;
                        }
                        let _ = tx.send(Err(io::Error::other(error_chain(&e)))).await;
                        return;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(Ok(batch)).await;
            }
        });
        StreamReader {
            batches,
            batch: VecDeque::new(),
            task: task.abort_handle(),
            _permit: permit,
        }
    }
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.batch.front_mut() {
                Some(chunk) if chunk.is_empty() => {
                    self.batch.pop_front();
                }
                Some(chunk) => {
                    let n = buf.len().min(chunk.len());
                    buf[..n].copy_from_slice(&chunk.split_to(n));
                    return Ok(n);
                }
                None => match self.batches.blocking_recv() {
                    None => return Ok(0),
                    Some(batch) => self.batch = batch?,
                },
            }
        }
    }
}

impl Drop for StreamReader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use tokio::sync::Semaphore;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn permit() -> OwnedSemaphorePermit {
        Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap()
    }

    /// Chunks of a few bytes to a few KiB, as a network hands them over.
    fn chunks(total: usize) -> Vec<Bytes> {
        let bytes: Vec<u8> = (0..total).map(|i| (i * 7 % 251) as u8).collect();
        let mut out = Vec::new();
        let mut at = 0;
        for size in [1, 4096, 3, 1500, 65_536, 7].iter().cycle() {
            if at == total {
                break;
            }
            let end = (at + size).min(total);
            out.push(Bytes::copy_from_slice(&bytes[at..end]));
            at = end;
        }
        out
    }

    #[test]
    fn a_body_of_many_small_chunks_reads_back_byte_for_byte() {
        let rt = runtime();
        let parts = chunks(3 * HANDOVER + 12_345);
        let whole: Vec<u8> = parts.iter().flat_map(|c| c.iter().copied()).collect();
        let stream = futures_util::stream::iter(parts.into_iter().map(Ok)).boxed();
        let mut reader = StreamReader::new(stream, permit(), rt.handle());
        let mut read = Vec::new();
        // Small reads too: a batch is served across many of them.
        let mut buf = [0u8; 1000];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            read.extend_from_slice(&buf[..n]);
        }
        assert_eq!(read.len(), whole.len());
        assert!(read == whole, "the bytes read are not the body's");
        assert_eq!(reader.read(&mut buf).unwrap(), 0, "the end is the end");
    }

    #[test]
    fn a_failure_in_the_body_is_an_error_after_the_bytes_before_it() {
        let rt = runtime();
        let items = vec![
            Ok(Bytes::from_static(b"first bytes")),
            Err(object_store::Error::Generic {
                store: "S3",
                source: "connection reset in the body".into(),
            }),
        ];
        let mut reader = StreamReader::new(futures_util::stream::iter(items).boxed(), permit(), rt.handle());
        let mut read = Vec::new();
        let err = reader.read_to_end(&mut read).unwrap_err();
        assert_eq!(read, b"first bytes");
        assert!(err.to_string().contains("connection reset in the body"), "{err}");
    }

    /// A body the thread reads no further is not read on into memory: at most the batch
    /// the thread holds, the one waiting for it and the one being gathered (each with
    /// the chunk that filled it).
    #[test]
    fn a_body_read_no_further_holds_at_most_three_batches() {
        let rt = runtime();
        let pulled = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&pulled);
        let endless = futures_util::stream::repeat_with(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok(Bytes::from(vec![0u8; 4096]))
        })
        .boxed();
        let mut reader = StreamReader::new(endless, permit(), rt.handle());
        let mut first = [0u8; 1];
        reader.read_exact(&mut first).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let held = pulled.load(Ordering::SeqCst) * 4096;
        assert!(
            held <= 3 * HANDOVER + 3 * 4096,
            "{held} bytes pulled from an unread body"
        );
    }

    /// Dropping the reader stops the task and with it the body (its connection).
    #[test]
    fn dropping_the_reader_drops_the_body() {
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let rt = runtime();
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = Flag(Arc::clone(&dropped));
        // A body whose next chunk never comes, holding the flag.
        let stalled = futures_util::stream::once(async { Ok(Bytes::from_static(b"x")) })
            .chain(futures_util::stream::pending())
            .map(move |chunk| {
                let _held = &flag;
                chunk
            })
            .boxed();
        let reader = StreamReader::new(stalled, permit(), rt.handle());
        std::thread::sleep(Duration::from_millis(50));
        assert!(!dropped.load(Ordering::SeqCst));
        drop(reader);
        let deadline = Instant::now() + Duration::from_secs(5);
        while !dropped.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the body outlived its reader");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
