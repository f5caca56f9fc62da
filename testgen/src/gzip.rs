//! Deterministic gzip.
//!
//! Every member is written with a fixed header: no file name, mtime 0, XFL 0 and OS
//! byte 0 (what Java's `GZIPOutputStream` has always written), so the same input gives
//! the same bytes on every machine and every run.

use std::io::{self, Read, Write};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};

/// The default deflate level (6, like zlib's and Java's default).
pub const DEFAULT_LEVEL: u32 = 6;

/// Gzips `data` at the default level.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    gzip_level(data, DEFAULT_LEVEL)
}

/// Gzips `data` at deflate level `level` (0-9).
pub fn gzip_level(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = GzBuilder::new()
        .mtime(0)
        .operating_system(0)
        .write(Vec::with_capacity(data.len() / 6 + 64), Compression::new(level));
    enc.write_all(data).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Inflates the first gzip member of `data` (trailing bytes are ignored).
pub fn gunzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(data).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_header_and_round_trip() {
        let gz = gzip(b"hello hello hello");
        assert_eq!(&gz[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(gz, gzip(b"hello hello hello"));
        assert_eq!(gunzip(&gz).unwrap(), b"hello hello hello");
    }
}
