//! A writer that never releases the last bytes it was given until told to.
//!
//! Decoders, decryptors and verifiers write their output through
//! [`Holdback`]. It passes bytes on only once at least [`HOLDBACK`] newer
//! bytes have arrived, so at any moment the final `HOLDBACK` bytes written so
//! far are still in memory. [`Holdback::release`] writes them after the caller
//! has verified the stream; dropping the writer (the error path) discards
//! them. A truncated or forged stream therefore never reaches the consumer
//! whole: the consumer sees a strict prefix that lacks at least its last
//! 64 KiB, which a downstream guard or `psql` detects as an incomplete dump.

use std::io::{self, Write};

/// How many trailing bytes are held back: 64 KiB, one age chunk.
pub const HOLDBACK: usize = 64 * 1024;

/// Extra bytes buffered beyond the held-back window before a flush, so small
/// writes do not move the window on every call. Kept at one window: a larger
/// slack would let a consumer see nothing at all of a short stream that fails.
const SLACK: usize = 64 * 1024;

/// A writer that keeps the last `keep` bytes unreleased.
///
/// Contract: call [`Holdback::release`] only after the whole stream has been
/// verified. Dropping a `Holdback` never writes the held bytes.
pub struct Holdback<W: Write> {
    inner: W,
    held: Vec<u8>,
    keep: usize,
    released: u64,
}

impl<W: Write> Holdback<W> {
    /// Hold back the last [`HOLDBACK`] bytes.
    pub fn new(inner: W) -> Holdback<W> {
        Holdback::with_window(inner, HOLDBACK)
    }

    /// Hold back the last `keep` bytes.
    pub fn with_window(inner: W, keep: usize) -> Holdback<W> {
        Holdback {
            inner,
            held: Vec::with_capacity(keep + SLACK),
            keep,
            released: 0,
        }
    }

    /// Bytes passed on to the inner writer so far.
    pub fn released(&self) -> u64 {
        self.released
    }

    /// Bytes written into this writer so far.
    pub fn total(&self) -> u64 {
        self.released + self.held.len() as u64
    }

    /// The inner writer (bytes written to it directly bypass the window).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The bytes currently held back.
    pub fn held(&self) -> &[u8] {
        &self.held
    }

    /// Take the inner writer and the held bytes apart, for callers that
    /// verify and release only a part of the held bytes (`--unseal`).
    pub fn into_parts(self) -> (W, Vec<u8>) {
        (self.inner, self.held)
    }

    /// Write the held bytes and return the inner writer (not flushed).
    /// Call only after verification succeeded.
    pub fn release(mut self) -> io::Result<W> {
        self.inner.write_all(&self.held)?;
        self.released += self.held.len() as u64;
        self.held.clear();
        Ok(self.inner)
    }
}

impl<W: Write> Write for Holdback<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let total = self.held.len() + data.len();
        if total <= self.keep + SLACK {
            self.held.extend_from_slice(data);
            return Ok(());
        }
        let out = total - self.keep;
        if out <= self.held.len() {
            self.inner.write_all(&self.held[..out])?;
            self.held.drain(..out);
            self.held.extend_from_slice(data);
        } else {
            let from_data = out - self.held.len();
            self.inner.write_all(&self.held)?;
            self.inner.write_all(&data[..from_data])?;
            self.held.clear();
            self.held.extend_from_slice(&data[from_data..]);
        }
        self.released += out as u64;
        Ok(())
    }

    /// Flushes what was released; never releases held bytes.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_window_until_release() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        for step in [1usize, 7, 4096, 65535, 65536, 65537, 300_000] {
            let mut hb = Holdback::new(Vec::new());
            for chunk in data.chunks(step) {
                hb.write_all(chunk).unwrap();
                let out = hb.get_mut().len();
                assert!(out <= (hb.total() as usize).saturating_sub(HOLDBACK));
            }
            let released = hb.released() as usize;
            assert_eq!(hb.get_mut().as_slice(), &data[..released]);
            let out = hb.release().unwrap();
            assert_eq!(out, data, "step {step}");
        }
    }

    #[test]
    fn dropping_never_writes_the_tail() {
        let mut sink = Vec::new();
        {
            let mut hb = Holdback::new(&mut sink);
            hb.write_all(&[7u8; 50_000]).unwrap();
            hb.flush().unwrap();
        }
        assert!(sink.is_empty());
    }
}
