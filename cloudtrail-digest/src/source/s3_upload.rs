//! Writing one object to S3 whole or not at all, of any size, without holding it: the
//! bytes go up in parts of [`PART_SIZE`] as they are written (a multipart upload, which
//! S3 shows as an object only when it is completed), or, when they fit in one part, in
//! one PUT at the end. An upload dropped before [`S3Upload::finish`] is aborted.

use std::io::{self, Write};

use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};

use super::s3::{map_error, object_path, S3Source};
use super::SourceError;

/// The size of each part of an upload: S3 takes parts of 5 MiB to 5 GiB, at most 10,000
/// of them, so objects of up to 160 GiB.
pub const PART_SIZE: usize = 16 * 1024 * 1024;

/// An object being written to S3 (see [`S3Source::upload`]).
pub struct S3Upload<'a> {
    source: &'a S3Source,
    bucket: String,
    key: String,
    path: Path,
    part_size: usize,
    buffer: Vec<u8>,
    multipart: Option<Box<dyn MultipartUpload>>,
}

impl S3Source {
    /// Starts writing `key` in `bucket`: nothing is there until [`S3Upload::finish`].
    pub fn upload(&self, bucket: &str, key: &str) -> Result<S3Upload<'_>, SourceError> {
        Ok(S3Upload {
            source: self,
            bucket: bucket.to_string(),
            key: key.to_string(),
            path: object_path(bucket, key)?,
            part_size: PART_SIZE,
            buffer: Vec::new(),
            multipart: None,
        })
    }
}

impl S3Upload<'_> {
    /// Parts of `bytes` instead of [`PART_SIZE`] (S3 refuses parts under 5 MiB but the
    /// last).
    pub fn part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    fn error(&self, e: object_store::Error) -> SourceError {
        map_error(e, &self.bucket, &self.key)
    }

    /// Sends the buffer as the next part, starting the multipart upload first if need be.
    fn send_part(&mut self) -> Result<(), SourceError> {
        let store = self.source.store_of(&self.bucket)?;
        if self.multipart.is_none() {
            let started = self.source.session().block_on(store.put_multipart(&self.path));
            self.multipart = Some(started.map_err(|e| self.error(e))?);
        }
        let part = PutPayload::from(std::mem::take(&mut self.buffer));
        let upload = self.multipart.as_mut().expect("started").put_part(part);
        self.source.session().block_on(upload).map_err(|e| self.error(e))
    }

    /// Stores what was written: the object appears whole, or the error says why not
    /// (and nothing appears).
    pub fn finish(mut self) -> Result<(), SourceError> {
        if self.multipart.is_none() {
            let body = std::mem::take(&mut self.buffer);
            return self.source.put(&self.bucket, &self.key, body);
        }
        if !self.buffer.is_empty() {
            self.send_part()?;
        }
        let mut multipart = self.multipart.take().expect("started");
        let completed = self.source.session().block_on(multipart.complete());
        if let Err(e) = completed {
            let _ = self.source.session().block_on(multipart.abort());
            return Err(self.error(e));
        }
        Ok(())
    }
}

impl Write for S3Upload<'_> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= self.part_size {
            self.send_part().map_err(io::Error::other)?;
        }
        Ok(bytes.len())
    }

    /// Parts go up when they are full: there is nothing to flush before [`S3Upload::finish`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for S3Upload<'_> {
    fn drop(&mut self) {
        if let Some(mut multipart) = self.multipart.take() {
            let _ = self.source.session().block_on(multipart.abort());
        }
    }
}
