//! Inflation and hashing: zlib's answers, the fast path's agreement with them, and the
//! memory the fast path holds.

use super::*;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn big_text() -> Vec<u8> {
    (0..200_000u32)
        .flat_map(|i| format!("{{\"n\":{i}}},").into_bytes())
        .collect()
}

/// `n` bytes that do not compress.
fn noise(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Ten threads inflate `stored` three times each, every answer `text`'s hash.
fn inflate_on_ten_threads(text: &[u8], stored: &[u8]) {
    let expected = LogInflate::Inflated {
        sha256_hex: sha256_hex(text),
    };
    std::thread::scope(|s| {
        for _ in 0..10 {
            s.spawn(|| {
                for _ in 0..3 {
                    assert_eq!(inflate_and_hash_log(stored).unwrap(), expected);
                }
            });
        }
    });
}

#[test]
fn the_fast_path_buffers_of_all_threads_stay_within_one_budget() {
    // Each thread holds the stored bytes of the log it reads: ten threads of logs
    // stored in 6 MiB each would hold over 60 MiB; the budget of unit tests is
    // 40 MiB, so some must stream, with the same answers.
    let text = noise(6 << 20);
    let stored = gz(&text);
    assert!(stored.len() > 6 << 20);
    let streamed_before = BUDGET.refused.load(Ordering::Acquire);
    inflate_on_ten_threads(&text, &stored);
    assert!(BUDGET.peak.load(Ordering::Acquire) <= FAST_BUDGET);
    assert!(BUDGET.refused.load(Ordering::Acquire) > streamed_before);
}

#[test]
fn no_more_logs_inflate_at_once_than_there_are_processors() {
    // Ten threads of logs inflating to 8 MiB each: the inflated bytes are held by the
    // rooms, at most one per processor, not by each thread.
    let text: Vec<u8> = (0..8usize << 20)
        .map(|i| b"{\"eventName\":\"Get\"},"[i % 19])
        .collect();
    inflate_on_ten_threads(&text, &gz(&text));
    assert!(ROOMS.most_lent.load(Ordering::Acquire) <= most_rooms());
    let free = ROOMS.free.lock().unwrap();
    assert!(
        free.0.len() + free.1 <= most_rooms(),
        "{} rooms made",
        free.0.len() + free.1
    );
}

#[test]
fn a_digest_bomb_is_refused_not_loaded() {
    let zeros = vec![0u8; MAX_INFLATED_DIGEST + 1];
    assert_eq!(inflate_digest(&gz(&zeros)), Err(InflateError::TooLarge));
    assert_eq!(inflate_digest(&gz(&zeros[..1 << 20])).unwrap().len(), 1 << 20);
}

#[test]
fn digest_inflation_matches_zlib_one_shot() {
    let text = big_text();
    let z = gz(&text);
    assert_eq!(inflate_digest(&z).unwrap(), text);
    let mut with_tail = z.clone();
    with_tail.extend_from_slice(b"ignored trailing bytes");
    assert_eq!(inflate_digest(&with_tail).unwrap(), text);
    assert_eq!(inflate_digest(&z[..z.len() - 3]), Err(InflateError::Corrupt));
    assert_eq!(inflate_digest(b""), Err(InflateError::Corrupt));
    assert_eq!(inflate_digest(b"{\"plain\": true}"), Err(InflateError::Corrupt));
}

#[test]
fn log_outcomes() {
    let text = big_text();
    let z = gz(&text);
    let want = sha256_hex(&text);
    let run = |b: &[u8]| inflate_and_hash_log(b).unwrap();
    assert_eq!(
        run(&z),
        LogInflate::Inflated {
            sha256_hex: want.clone()
        }
    );
    let mut two = z.clone();
    two.extend_from_slice(&gz(b"more"));
    assert_eq!(run(&two), LogInflate::TrailingData);
    let mut one_zero = z.clone();
    one_zero.push(0);
    assert_eq!(run(&one_zero), LogInflate::TrailingData);
    assert!(matches!(run(&z[..z.len() / 2]), LogInflate::Inflated { sha256_hex } if sha256_hex != want));
    assert_eq!(run(b"{\"Records\":[]}"), LogInflate::Corrupt);
    // zlib needs two bytes before it can tell gzip from not-gzip
    assert_eq!(
        run(b"x"),
        LogInflate::Inflated {
            sha256_hex: sha256_hex(b"")
        }
    );
    assert_eq!(
        run(b""),
        LogInflate::Inflated {
            sha256_hex: sha256_hex(b"")
        }
    );
    let mut bad_crc = z.clone();
    let n = bad_crc.len();
    bad_crc[n - 6] ^= 0xff;
    assert_eq!(run(&bad_crc), LogInflate::Corrupt);
}

#[test]
fn the_fast_path_always_agrees_with_streaming() {
    let text: Vec<u8> = big_text()[..300_000].to_vec();
    let z = gz(&text);
    let mut named = flate2::GzBuilder::new()
        .filename("x.json")
        .write(Vec::new(), Compression::default());
    named.write_all(&text).unwrap();
    let named = named.finish().unwrap();
    let mut cases: Vec<Vec<u8>> = vec![z.clone(), named, Vec::new(), z[..10].to_vec()];
    let mut seed = 0x2545f4914f6cdd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..300 {
        let mut c = z.clone();
        match next() % 5 {
            0 => {
                let i = next() as usize % c.len();
                c[i] ^= 1 << (next() % 8);
            }
            1 => c.truncate(next() as usize % c.len()),
            2 => c.extend_from_slice(&z[..(next() as usize % z.len())]),
            3 => {
                // a trailer that lies about the size
                let n = c.len();
                let lie = (next() % (2 * text.len() as u64)) as u32;
                c[n - 4..].copy_from_slice(&lie.to_le_bytes());
            }
            _ => c.extend_from_within(c.len() - 8..), // appended bytes that look like a trailer
        }
        cases.push(c);
    }
    for c in &cases {
        assert_eq!(
            inflate_and_hash_log(&c[..]).unwrap(),
            inflate_and_hash_log_streaming(&c[..]).unwrap(),
            "{} bytes",
            c.len()
        );
    }
}

#[test]
fn logs_stream_through_one_byte_reads() {
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let text = big_text();
    let z = gz(&text);
    assert_eq!(
        inflate_and_hash_log(Trickle(&z)).unwrap(),
        LogInflate::Inflated {
            sha256_hex: sha256_hex(&text)
        }
    );
}
