//! Inflates one gzip member with libdeflate and reports how many input bytes it used.
//!
//! The safe `libdeflater` wrapper does not say where a member ends, so bytes appended
//! after it would go unseen. This crate wraps the one libdeflate call that does
//! (`libdeflate_gzip_decompress_ex`); all of its `unsafe` is in this file.

#![deny(missing_docs)]

use std::ptr::NonNull;

use libdeflate_sys as sys;

/// What inflating the member at the start of a buffer gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// A complete, valid member (CRC-32 and size checked): `output` bytes written,
    /// `input` bytes used.
    Complete {
        /// Bytes of the member, header and trailer included.
        input: usize,
        /// Inflated bytes written to the output buffer.
        output: usize,
    },
    /// Not gzip, corrupt, truncated, or a checksum mismatch.
    BadData,
    /// The output buffer is too small for the inflated member.
    OutputTooSmall,
}

/// A libdeflate decompressor (reusable; not shareable between threads at once).
pub struct Inflater(NonNull<sys::libdeflate_decompressor>);

// SAFETY: a libdeflate decompressor holds no thread-affine state; it only must not be
// used by two threads at once, which `&mut self` on `gzip_member` guarantees.
unsafe impl Send for Inflater {}

impl Inflater {
    /// A new decompressor.
    pub fn new() -> Inflater {
        // SAFETY: plain allocation; a null result (out of memory) is handled below.
        let p = unsafe { sys::libdeflate_alloc_decompressor() };
        Inflater(NonNull::new(p).expect("libdeflate could not allocate a decompressor"))
    }

    /// Inflates the gzip member at the start of `input` into `output`.
    pub fn gzip_member(&mut self, input: &[u8], output: &mut [u8]) -> Member {
        let mut used_in = 0usize;
        let mut written = 0usize;
        // SAFETY: pointers and lengths come from live slices; libdeflate reads at most
        // `input.len()` bytes, writes at most `output.len()` bytes, and fills the two
        // out-parameters, which point to locals.
        let r = unsafe {
            sys::libdeflate_gzip_decompress_ex(
                self.0.as_ptr(),
                input.as_ptr().cast(),
                input.len(),
                output.as_mut_ptr().cast(),
                output.len(),
                &mut used_in,
                &mut written,
            )
        };
        match r {
            sys::libdeflate_result_LIBDEFLATE_SUCCESS => Member::Complete {
                input: used_in,
                output: written,
            },
            sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Member::OutputTooSmall,
            _ => Member::BadData,
        }
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Inflater::new()
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor, freed once.
        unsafe { sys::libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // "hello\n" gzip'd by `gzip -n` (flags 0, mtime 0).
    const HELLO: [u8; 26] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02,
        0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn reports_exactly_what_it_used() {
        let mut out = [0u8; 16];
        let mut d = Inflater::new();
        assert_eq!(
            d.gzip_member(&HELLO, &mut out),
            Member::Complete { input: 26, output: 6 }
        );
        assert_eq!(&out[..6], b"hello\n");
        let mut tail = HELLO.to_vec();
        tail.extend_from_slice(b"appended");
        assert_eq!(
            d.gzip_member(&tail, &mut out),
            Member::Complete { input: 26, output: 6 }
        );
        assert_eq!(d.gzip_member(&HELLO[..20], &mut out), Member::BadData);
        assert_eq!(d.gzip_member(&HELLO, &mut out[..3]), Member::OutputTooSmall);
        assert_eq!(d.gzip_member(b"plain text", &mut out), Member::BadData);
    }
}
