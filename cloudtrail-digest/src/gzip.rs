//! Inflating gzip exactly as the reference's zlib calls do: digests in one shot (first
//! member must be complete, bytes after it ignored), logs as a stream (one member; bytes
//! after it reported), hashing the inflated bytes as they come.
//!
//! Logs take a fast path when it provably gives zlib's answer: a file read whole (up to
//! [`FAST_MAX_STORED`] bytes) holding exactly one member with no optional header fields,
//! whose trailer size fits [`FAST_MAX_INFLATED`], is inflated by libdeflate in one call
//! (about 1.6x faster here, see benches/README.md). Anything else, including every
//! failure, goes through the streaming zlib path, whose verdict is the reference's.
//!
//! Each thread reads a log's stored bytes into a buffer of its own; the inflating is done
//! in a room (decompressor and output buffer) lent by a pool that lends no more at once
//! than there are processors, so the inflated bytes held do not grow with the number of
//! threads (in S3 a run has one per request in flight). All these buffers are held within
//! one budget for the whole process ([`FAST_BUDGET`]): a log that would take them past it
//! streams instead.

use std::cell::RefCell;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use flate2::{Decompress, FlushDecompress, Status};
use ring::digest::{Context, SHA256};

const CHUNK: usize = 64 * 1024;

/// Largest inflated digest we load. A digest lists one hour's logs at a few hundred
/// bytes each (about 1 MB for a very busy hour); a larger one is a gzip bomb and is
/// reported as invalid format rather than loaded.
pub const MAX_INFLATED_DIGEST: usize = 64 * 1024 * 1024;

/// Why a digest could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// Not gzip, corrupt, or truncated before the end of the first member.
    Corrupt,
    /// Inflates to more than [`MAX_INFLATED_DIGEST`] bytes.
    TooLarge,
}

/// Inflates the first gzip member of `data` (what `zlib.decompress(data, 31)` returns).
pub fn inflate_digest(data: &[u8]) -> Result<Vec<u8>, InflateError> {
    let mut d = Decompress::new_gzip(15);
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(1 << 20));
    loop {
        if out.len() == out.capacity() {
            if out.len() >= MAX_INFLATED_DIGEST {
                return Err(InflateError::TooLarge);
            }
            out.reserve(out.len().max(CHUNK));
        }
        let consumed = d.total_in() as usize;
        let produced_before = out.len();
        let status = d
            .decompress_vec(&data[consumed..], &mut out, FlushDecompress::Finish)
            .map_err(|_| InflateError::Corrupt)?;
        match status {
            Status::StreamEnd => break,
            _ if out.len() == produced_before
                && d.total_in() as usize == consumed
                && out.len() < out.capacity() =>
            {
                // No progress with room to spare: the input ended inside the member.
                return Err(InflateError::Corrupt);
            }
            _ => {}
        }
    }
    if out.len() > MAX_INFLATED_DIGEST {
        return Err(InflateError::TooLarge);
    }
    Ok(out)
}

/// What streaming a log through the inflater found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogInflate {
    /// The bytes up to wherever the input ended inflated without error. A truncated
    /// member lands here too (the reference hashes what it got and reports a mismatch).
    Inflated {
        /// Lowercase hex SHA-256 of the inflated bytes.
        sha256_hex: String,
    },
    /// Not gzip or corrupt (zlib raised an error).
    Corrupt,
    /// A complete member was followed by more bytes.
    TrailingData,
}

/// Largest stored log that is read whole for the fast path (per worker thread).
pub const FAST_MAX_STORED: usize = 8 << 20;
/// Largest inflated log the fast path inflates in memory (per room, see the module).
pub const FAST_MAX_INFLATED: usize = 32 << 20;

/// Most bytes the fast path's buffers hold across all threads at once.
#[cfg(not(test))]
pub const FAST_BUDGET: usize = 512 << 20;
/// Most bytes the fast path's buffers hold across all threads at once (small in unit
/// tests, so that they reach it).
#[cfg(test)]
pub const FAST_BUDGET: usize = 40 << 20;

/// The bytes taken by every thread's fast-path buffers. Tests also count the bytes the
/// buffers really allocated, the most ever allocated at once, and the refusals.
struct Budget {
    held: AtomicUsize,
    #[cfg(test)]
    allocated: AtomicUsize,
    #[cfg(test)]
    peak: AtomicUsize,
    #[cfg(test)]
    refused: AtomicUsize,
}

static BUDGET: Budget = Budget {
    held: AtomicUsize::new(0),
    #[cfg(test)]
    allocated: AtomicUsize::new(0),
    #[cfg(test)]
    peak: AtomicUsize::new(0),
    #[cfg(test)]
    refused: AtomicUsize::new(0),
};

impl Budget {
    /// Takes `more` bytes from the budget, if that many are left.
    fn take(&self, more: usize) -> bool {
        let taken = self
            .held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(more).filter(|&total| total <= FAST_BUDGET)
            });
        #[cfg(test)]
        if taken.is_err() {
            self.refused.fetch_add(1, Ordering::AcqRel);
        }
        taken.is_ok()
    }

    fn give_back(&self, bytes: usize) {
        self.held.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Counts buffers growing from `before` to `after` bytes of capacity (tests).
    #[cfg(test)]
    fn allocated(&self, before: usize, after: usize) {
        let now = if after >= before {
            self.allocated.fetch_add(after - before, Ordering::AcqRel) + (after - before)
        } else {
            self.allocated.fetch_sub(before - after, Ordering::AcqRel) - (before - after)
        };
        self.peak.fetch_max(now, Ordering::AcqRel);
    }
}

/// A buffer of the fast path and the part of [`BUDGET`] it holds. Its length is the room
/// zeroed so far: it is zeroed once as it grows, not for every log.
#[derive(Default)]
struct Held {
    bytes: Vec<u8>,
    /// Bytes taken from the budget: at least the buffer's capacity.
    held: usize,
}

impl Held {
    /// Makes room for `want` bytes, if the budget allows; else leaves the buffer as it is.
    fn room_for(&mut self, want: usize) -> bool {
        let want = want.max(self.bytes.capacity());
        if want > self.held {
            if !BUDGET.take(want - self.held) {
                return false;
            }
            self.held = want;
        }
        #[cfg(test)]
        let before = self.bytes.capacity();
        self.bytes.reserve_exact(want.saturating_sub(self.bytes.len()));
        // An allocator may round a capacity up: count what is really held.
        let real = self.bytes.capacity();
        #[cfg(test)]
        BUDGET.allocated(before, real);
        if real > self.held && BUDGET.take(real - self.held) {
            self.held = real;
        }
        true
    }

    /// Zeroed room for `len` bytes, if the budget allows.
    fn zeroed(&mut self, len: usize) -> Option<&mut [u8]> {
        if self.bytes.len() < len {
            if !self.room_for(len) {
                return None;
            }
            self.bytes.resize(len, 0);
        }
        debug_assert!(self.bytes.capacity() <= self.held);
        Some(&mut self.bytes[..len])
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        #[cfg(test)]
        BUDGET.allocated(self.bytes.capacity(), 0);
        BUDGET.give_back(self.held);
    }
}

/// One thread's buffer for the bytes of the log it reads for the fast path.
#[derive(Default)]
struct Stored {
    /// The log read now is `buffer.bytes[..filled]`.
    buffer: Held,
    filled: usize,
}

impl Stored {
    /// Reads `reader` into the buffer while the budget allows, up to `limit` bytes; false
    /// when the budget stopped it short (what was read is in the buffer).
    fn read(&mut self, reader: &mut impl Read, limit: usize) -> io::Result<bool> {
        self.filled = 0;
        while self.filled < limit {
            if self.filled == self.buffer.bytes.len() {
                let more = self.buffer.bytes.len().clamp(CHUNK, 1 << 20);
                let want = (self.filled + more).min(limit);
                if self.buffer.zeroed(want).is_none() {
                    return Ok(false);
                }
            }
            let end = self.buffer.bytes.len().min(limit);
            match reader.read(&mut self.buffer.bytes[self.filled..end]) {
                Ok(0) => return Ok(true),
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn bytes(&self) -> &[u8] {
        &self.buffer.bytes[..self.filled]
    }
}

thread_local! {
    static STORED: RefCell<Option<Stored>> = const { RefCell::new(None) };
}

/// What inflating on the fast path takes: a decompressor and a buffer for the inflated
/// log, as large as the largest log inflated so far.
struct Room {
    inflater: fastgz::Inflater,
    inflated: Held,
}

/// The rooms, lent to one thread at a time. Inflating is CPU-bound, so no more rooms are
/// lent at once than there are processors: in S3 a run has a thread per request in
/// flight, and had each of them inflate in a room of its own, they would only take turns
/// on the same cores, each holding a buffer as large as its log (with 1 MiB logs, a run
/// in S3 with 64 threads peaked at 100 MiB resident that way, 40 MiB with 2 rooms).
struct Rooms {
    /// The rooms not lent, and how many are.
    free: Mutex<(Vec<Room>, usize)>,
    returned: Condvar,
    /// The most rooms ever lent at once (tests).
    #[cfg(test)]
    most_lent: AtomicUsize,
}

static ROOMS: Rooms = Rooms {
    free: Mutex::new((Vec::new(), 0)),
    returned: Condvar::new(),
    #[cfg(test)]
    most_lent: AtomicUsize::new(0),
};

/// Most rooms lent at once: the processors this process may use, asked once.
fn most_rooms() -> usize {
    static MOST: OnceLock<usize> = OnceLock::new();
    *MOST.get_or_init(crate::fetch::pool::processors)
}

/// A room lent until dropped.
struct Lent(Option<Room>);

impl Rooms {
    /// A free room, or a new one while fewer than [`most_rooms`] are lent; else waits.
    fn lend(&self) -> Lent {
        let mut free = self.free.lock().expect("rooms lock");
        while free.1 >= most_rooms() {
            free = self.returned.wait(free).expect("rooms lock");
        }
        free.1 += 1;
        #[cfg(test)]
        self.most_lent.fetch_max(free.1, Ordering::AcqRel);
        let room = free.0.pop().unwrap_or_else(|| Room {
            inflater: fastgz::Inflater::new(),
            inflated: Held::default(),
        });
        Lent(Some(room))
    }
}

impl std::ops::Deref for Lent {
    type Target = Room;
    fn deref(&self) -> &Room {
        self.0.as_ref().expect("lent until dropped")
    }
}

impl std::ops::DerefMut for Lent {
    fn deref_mut(&mut self) -> &mut Room {
        self.0.as_mut().expect("lent until dropped")
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let mut free = ROOMS.free.lock().expect("rooms lock");
        free.0.extend(self.0.take());
        free.1 -= 1;
        ROOMS.returned.notify_one();
    }
}

/// Inflates a log's single gzip member and hashes the output, with the reference's
/// verdicts, in bounded memory. I/O errors are returned as such.
pub fn inflate_and_hash_log<R: Read>(reader: R) -> io::Result<LogInflate> {
    inflate_and_hash_log_keeping(reader, None)
}

/// The inflated bytes of a log, kept while it is hashed (for export), up to a limit.
#[derive(Debug, Default)]
pub struct Kept {
    /// The bytes inflated so far.
    pub bytes: Vec<u8>,
    /// The most to keep; past it the bytes are dropped and `overflowed` is set.
    pub limit: usize,
    /// The log inflated to more than `limit` bytes: `bytes` is empty.
    pub overflowed: bool,
}

impl Kept {
    /// Nothing kept yet, at most `limit` bytes to keep.
    pub fn new(limit: usize) -> Self {
        Kept {
            bytes: Vec::new(),
            limit,
            overflowed: false,
        }
    }

    pub(crate) fn push(&mut self, more: &[u8]) {
        if self.overflowed {
            return;
        }
        if self.bytes.len() + more.len() > self.limit {
            self.overflowed = true;
            self.bytes = Vec::new();
            return;
        }
        self.bytes.extend_from_slice(more);
    }
}

/// [`inflate_and_hash_log`], keeping the inflated bytes in `keep` when it is given: the
/// log is read and inflated once for both its verdict and its content.
pub fn inflate_and_hash_log_keeping<R: Read>(
    reader: R,
    mut keep: Option<&mut Kept>,
) -> io::Result<LogInflate> {
    STORED.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| io::Error::other("re-entrant log hashing"))?;
        let stored = slot.get_or_insert_with(Stored::default);
        let mut reader = reader;
        let whole = stored.read(&mut reader, FAST_MAX_STORED + 1)?;
        if !whole || stored.filled > FAST_MAX_STORED {
            // Too large to hold, here or within the budget: stream what was read, then
            // the rest.
            return stream(io::Cursor::new(stored.bytes()).chain(reader), keep);
        }
        // All read: the reader (in S3 a connection and a request permit) goes back before
        // this thread waits for a room.
        drop(reader);
        if let Some(size) = fast_path_size(stored.bytes()) {
            let mut room = ROOMS.lend();
            if let Some((sha256_hex, output)) = fast_path(stored.bytes(), size, &mut room) {
                if let Some(k) = keep.as_deref_mut() {
                    k.push(&room.inflated.bytes[..output]);
                }
                return Ok(LogInflate::Inflated { sha256_hex });
            }
        }
        stream(stored.bytes(), keep)
    })
}

/// The size a log says it inflates to, when it may take the fast path: one member with
/// no optional header fields (zlib checks a header CRC; libdeflate does not), within
/// [`FAST_MAX_INFLATED`].
fn fast_path_size(data: &[u8]) -> Option<usize> {
    // ID1 ID2 CM=deflate FLG=0.
    if data.len() < 18 || data[..4] != [0x1f, 0x8b, 0x08, 0x00] {
        return None;
    }
    let isize = u32::from_le_bytes(data[data.len() - 4..].try_into().ok()?) as usize;
    (isize <= FAST_MAX_INFLATED).then_some(isize)
}

/// The libdeflate answer (hash, and bytes inflated into the room) when it is certainly
/// zlib's too, else `None`.
fn fast_path(data: &[u8], size: usize, room: &mut Room) -> Option<(String, usize)> {
    let out = room.inflated.zeroed(size)?;
    match room.inflater.gzip_member(data, out) {
        // The member must end exactly at the end of the file: anything after it is the
        // streaming path's to report.
        fastgz::Member::Complete { input, output } if input == data.len() => {
            Some((sha256_hex(&room.inflated.bytes[..output]), output))
        }
        _ => None,
    }
}

/// [`inflate_and_hash_log`] without the fast path: streams through zlib in 128 KiB of
/// buffers whatever the size.
pub fn inflate_and_hash_log_streaming<R: Read>(reader: R) -> io::Result<LogInflate> {
    stream(reader, None)
}

fn stream<R: Read>(mut reader: R, mut keep: Option<&mut Kept>) -> io::Result<LogInflate> {
    let mut d = Decompress::new_gzip(15);
    let mut hash = Context::new(&SHA256);
    let mut input = vec![0u8; CHUNK];
    let mut output = vec![0u8; CHUNK];
    loop {
        let n = read_some(&mut reader, &mut input)?;
        if n == 0 {
            break;
        }
        let mut pending = &input[..n];
        loop {
            let (in_before, out_before) = (d.total_in(), d.total_out());
            let status = match d.decompress(pending, &mut output, FlushDecompress::None) {
                Ok(s) => s,
                Err(_) => return Ok(LogInflate::Corrupt),
            };
            let consumed = (d.total_in() - in_before) as usize;
            let produced = (d.total_out() - out_before) as usize;
            hash.update(&output[..produced]);
            if let Some(k) = keep.as_deref_mut() {
                k.push(&output[..produced]);
            }
            pending = &pending[consumed..];
            if status == Status::StreamEnd {
                if !pending.is_empty() || read_some(&mut reader, &mut input)? > 0 {
                    return Ok(LogInflate::TrailingData);
                }
                return Ok(finish(hash));
            }
            let output_full = produced == output.len();
            if (pending.is_empty() && !output_full) || (consumed == 0 && produced == 0) {
                break;
            }
        }
    }
    Ok(finish(hash))
}

fn finish(hash: Context) -> LogInflate {
    LogInflate::Inflated {
        sha256_hex: hex::encode(hash.finish().as_ref()),
    }
}

/// Lowercase hex SHA-256 of a reader's raw bytes.
pub fn sha256_hex_of<R: Read>(mut reader: R) -> io::Result<String> {
    let mut hash = Context::new(&SHA256);
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = read_some(&mut reader, &mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hash.finish().as_ref()));
        }
        hash.update(&buf[..n]);
    }
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&SHA256, bytes).as_ref())
}

pub(crate) fn read_some<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests;
