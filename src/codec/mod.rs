//! Byte codecs that never look at SQL: compression, encryption, digests.
//!
//! Every decoding or verifying path writes through a [`holdback::Holdback`],
//! which keeps the last [`holdback::HOLDBACK`] bytes of output unreleased until
//! the stream's trailer, final chunk or digest has been verified. A stage that
//! fails therefore never hands the end of a stream downstream.

pub mod age;
pub mod digest;
pub mod holdback;
pub mod zip;

use std::io::{self, Read};

use crate::error::{Error, Result};

/// A read error, as every codec reports it.
pub(crate) fn read_err(e: io::Error) -> Error {
    Error::io("read error", e)
}

/// A write error, as every codec reports it.
pub(crate) fn write_err(e: io::Error) -> Error {
    Error::io("write error", e)
}

/// Copy `input` into `w` in [`BLOCK`](crate::BLOCK)-sized reads; returns the
/// bytes copied.
pub(crate) fn pump<R: Read + ?Sized, W: io::Write + ?Sized>(
    input: &mut R,
    w: &mut W,
) -> Result<u64> {
    let mut buf = vec![0u8; crate::BLOCK];
    let mut total = 0u64;
    loop {
        let n = read_some(input, &mut buf)?;
        if n == 0 {
            return Ok(total);
        }
        w.write_all(&buf[..n]).map_err(write_err)?;
        total += n as u64;
    }
}

/// One read into `buf`, retried when interrupted; 0 at the end of input.
pub(crate) fn read_some<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> Result<usize> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_err(e)),
        }
    }
}

/// Read until `buf` is full or the input ends; returns how many bytes were read.
pub(crate) fn read_full<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
