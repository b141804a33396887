//! Data streams: the chunked blocks of a custom archive, the decompressors
//! (zlib/gzip, lz4 frames, zstd) that must see the end of their stream, and
//! a writer that holds back the tail of a stream until the stream is known
//! to be complete.

use std::io::{self, Read, Write};

use flate2::{Decompress, FlushDecompress, Status};

use super::read::{Compression, Primitives, corrupt, truncated};
use crate::error::{Error, Result};

/// Bytes of each data stream kept back until its end has been verified.
pub const HOLDBACK: usize = 64 * 1024;

/// Size of the read buffers of the decompressors.
const IN_BUF: usize = 64 * 1024;

/// The chunk sequence of one custom-format data block (or one large object
/// inside a BLOBS block): `int len, len bytes`, ... ended by `int 0`.
pub struct Chunks<'a, R> {
    p: &'a mut Primitives<R>,
    remaining: usize,
    done: bool,
    what: String,
}

impl<'a, R: Read> Chunks<'a, R> {
    pub fn new(p: &'a mut Primitives<R>, what: String) -> Chunks<'a, R> {
        Chunks {
            p,
            remaining: 0,
            done: false,
            what,
        }
    }

    /// Read and discard whatever is left up to and including the end marker.
    pub fn finish(&mut self) -> Result<()> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = self.read(&mut buf).map_err(Error::from)?;
            if n == 0 {
                return Ok(());
            }
        }
    }
}

impl<R: Read> Read for Chunks<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        while self.remaining == 0 {
            let what = &self.what;
            let len = self.p.int(&|| format!("the data of {what}"))?;
            if len == 0 {
                self.done = true;
                return Ok(0);
            }
            if len < 0 {
                return Err(corrupt(format!("negative chunk length in the data of {what}")).into());
            }
            self.remaining = len as usize;
        }
        let want = self.remaining.min(buf.len());
        let n = self.p.read_some(&mut buf[..want])?;
        if n == 0 {
            return Err(truncated(format!("the data of {}", self.what)).into());
        }
        self.remaining -= n;
        Ok(n)
    }
}

/// A zlib or gzip decoder that fails when its input ends before the
/// compressed stream does.
pub struct StrictInflate<R> {
    inner: R,
    dec: Decompress,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
    what: String,
}

impl<R: Read> StrictInflate<R> {
    pub fn zlib(inner: R, what: String) -> StrictInflate<R> {
        Self::with(inner, Decompress::new(true), what)
    }
    pub fn gzip(inner: R, what: String) -> StrictInflate<R> {
        Self::with(inner, Decompress::new_gzip(15), what)
    }
    /// Raw deflate, without a zlib or gzip header (a zip member).
    pub fn raw(inner: R, what: String) -> StrictInflate<R> {
        Self::with(inner, Decompress::new(false), what)
    }
    fn with(inner: R, dec: Decompress, what: String) -> StrictInflate<R> {
        StrictInflate {
            inner,
            dec,
            buf: vec![0u8; IN_BUF].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            done: false,
            what,
        }
    }
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for StrictInflate<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.start == self.end && !self.eof {
                let n = self.inner.read(&mut self.buf)?;
                self.start = 0;
                self.end = n;
                if n == 0 {
                    self.eof = true;
                }
            }
            let before_in = self.dec.total_in();
            let before_out = self.dec.total_out();
            let status = self
                .dec
                .decompress(&self.buf[self.start..self.end], out, FlushDecompress::None)
                .map_err(|e| {
                    io::Error::from(corrupt(format!(
                        "compressed data of {} does not decode: {e}",
                        self.what
                    )))
                })?;
            let consumed = (self.dec.total_in() - before_in) as usize;
            let produced = (self.dec.total_out() - before_out) as usize;
            self.start += consumed;
            if status == Status::StreamEnd {
                self.done = true;
                return Ok(produced);
            }
            if produced > 0 {
                return Ok(produced);
            }
            if self.eof && consumed == 0 {
                return Err(truncated(format!("the compressed data of {}", self.what)).into());
            }
        }
    }
}

/// Wrap a raw data stream in the decoder for `compression`. `gzip_files`
/// selects the gzip container (directory-format files) over zlib (custom
/// format blocks).
pub fn decoder<'a>(
    compression: Compression,
    raw: Box<dyn Read + 'a>,
    gzip_files: bool,
    what: String,
) -> Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => raw,
        Compression::Gzip if gzip_files => Box::new(StrictInflate::gzip(raw, what)),
        Compression::Gzip => Box::new(StrictInflate::zlib(raw, what)),
        Compression::Lz4 => Box::new(Lz4(lz4_flex::frame::FrameDecoder::new(raw), what)),
        Compression::Zstd => Box::new(Zstd(
            zstd::stream::read::Decoder::new(raw)
                .map_err(|e| Error::runtime(format!("cannot start a zstd decoder: {e}")))?,
            what,
        )),
    })
}

struct Lz4<R: Read>(lz4_flex::frame::FrameDecoder<R>, String);

impl<R: Read> Read for Lz4<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| codec_error(e, &self.1))
    }
}

struct Zstd<'a, R: io::BufRead>(zstd::stream::read::Decoder<'a, R>, String);

impl<R: io::BufRead> Read for Zstd<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| codec_error(e, &self.1))
    }
}

/// A decoder error: our own errors (truncation of the container) pass
/// through, anything else is corrupt or truncated compressed data.
fn codec_error(e: io::Error, what: &str) -> io::Error {
    if e.get_ref().is_some_and(|i| i.is::<Error>()) {
        return e;
    }
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return truncated(format!("the compressed data of {what}")).into();
    }
    corrupt(format!("compressed data of {what} does not decode: {e}")).into()
}

/// Copy a whole stream into `sink`, in blocks.
pub fn pump(src: &mut dyn Read, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
    let mut buf = vec![0u8; 128 * 1024];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        sink(&buf[..n])?;
    }
}

/// Writes through to `out` but keeps the last [`HOLDBACK`] bytes until
/// [`Holdback::finish`]; dropping it unfinished discards them.
pub struct Holdback<'w, W: Write + ?Sized> {
    out: &'w mut W,
    pending: Vec<u8>,
}

impl<'w, W: Write + ?Sized> Holdback<'w, W> {
    pub fn new(out: &'w mut W) -> Holdback<'w, W> {
        Holdback {
            out,
            pending: Vec::with_capacity(HOLDBACK),
        }
    }

    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        self.pending.extend_from_slice(data);
        // Release in large steps so small writes (one COPY row per chunk in
        // uncompressed archives) do not move the window every time.
        if self.pending.len() >= 2 * HOLDBACK {
            let release = self.pending.len() - HOLDBACK;
            self.out
                .write_all(&self.pending[..release])
                .map_err(|e| Error::io("write error", e))?;
            self.pending.drain(..release);
        }
        Ok(())
    }

    /// The bytes still held back (the end of the stream so far).
    pub fn tail(&self) -> &[u8] {
        &self.pending
    }

    /// Release the held-back bytes: call only once the stream is verified.
    pub fn finish(self) -> Result<()> {
        self.out
            .write_all(&self.pending)
            .map_err(|e| Error::io("write error", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdback_releases_all_but_the_tail_until_finished() {
        let mut out = Vec::new();
        let held;
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        {
            let mut h = Holdback::new(&mut out);
            for piece in data.chunks(7777) {
                h.write(piece).unwrap();
            }
            assert!(h.tail().len() >= HOLDBACK && data.ends_with(h.tail()));
            held = h.tail().len();
        }
        assert_eq!(out, &data[..data.len() - held]);
        let mut out = Vec::new();
        let mut h = Holdback::new(&mut out);
        for piece in data.chunks(3) {
            h.write(piece).unwrap();
        }
        h.finish().unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn truncated_zlib_stream_is_an_integrity_error() {
        use flate2::write::ZlibEncoder;
        let mut enc = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[b'x'; 100_000]).unwrap();
        let z = enc.finish().unwrap();
        for cut in [0, 1, 2, z.len() / 2, z.len() - 1] {
            let mut d = StrictInflate::zlib(&z[..cut], "t".into());
            let mut sink = Vec::new();
            let err = d.read_to_end(&mut sink).unwrap_err();
            assert_eq!(Error::from(err).exit_code(), 3, "cut {cut}");
        }
        let mut d = StrictInflate::zlib(&z[..], "t".into());
        let mut sink = Vec::new();
        d.read_to_end(&mut sink).unwrap();
        assert_eq!(sink.len(), 100_000);
    }
}
