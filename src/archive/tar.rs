//! Tar-format (`pg_dump -Ft`) archives: a ustar stream whose first member is
//! `toc.dat`, followed by the same data files as the directory format, read
//! forward in one pass.

use std::io::{self, Read};

use super::data::pump;
use super::read::TocEntry;
use super::read::{corrupt, truncated};
use super::restore::DataSource;
use crate::error::{Error, Result};

const BLOCK: usize = 512;

/// Does this 512-byte block look like a ustar header with a valid checksum?
pub fn is_tar_header(h: &[u8]) -> bool {
    h.len() >= BLOCK && checksum_ok(h)
}

fn checksum_ok(h: &[u8]) -> bool {
    let Some(stored) = octal(&h[148..156]) else {
        return false;
    };
    let sum: u64 = h[..BLOCK]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                b' ' as u64
            } else {
                b as u64
            }
        })
        .sum();
    sum == stored
}

fn octal(field: &[u8]) -> Option<u64> {
    let s: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| (b'0'..=b'7').contains(&b))
        .collect();
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for b in s {
        v = v.checked_mul(8)?.checked_add((b - b'0') as u64)?;
    }
    Some(v)
}

/// Members of a tar stream, one after another.
pub struct TarReader<R> {
    inner: R,
    /// Unread bytes of the current member's data.
    left: u64,
    /// Padding after the current member's data.
    pad: u64,
    ended: bool,
    /// The end-of-archive block (zeros) was seen.
    marker: bool,
}

/// A member being read; reading stops at its end.
pub struct Member<'a, R> {
    tar: &'a mut TarReader<R>,
    what: String,
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R) -> TarReader<R> {
        TarReader {
            inner,
            left: 0,
            pad: 0,
            ended: false,
            marker: false,
        }
    }

    fn skip(&mut self, mut n: u64, what: &str) -> Result<()> {
        let mut buf = [0u8; 8192];
        while n > 0 {
            let want = (n as usize).min(buf.len());
            let got = read_some(&mut self.inner, &mut buf[..want])?;
            if got == 0 {
                return Err(truncated(what.to_string()));
            }
            n -= got as u64;
        }
        Ok(())
    }

    /// The next member's name and size, or `None` at the end of the archive.
    pub fn next_member(&mut self) -> Result<Option<(Vec<u8>, u64)>> {
        if self.ended {
            return Ok(None);
        }
        let (left, pad) = (self.left, self.pad);
        self.skip(left + pad, "a tar member")?;
        self.left = 0;
        self.pad = 0;
        let mut h = [0u8; BLOCK];
        let mut n = 0;
        while n < BLOCK {
            let got = read_some(&mut self.inner, &mut h[n..])?;
            if got == 0 {
                if n == 0 {
                    self.ended = true;
                    return Ok(None);
                }
                return Err(truncated("a tar header".into()));
            }
            n += got;
        }
        if h.iter().all(|&b| b == 0) {
            // The end-of-archive marker is two blocks of zeros.
            self.ended = true;
            let mut second = [0u8; BLOCK];
            let mut n = 0;
            while n < BLOCK {
                let got = read_some(&mut self.inner, &mut second[n..])?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            self.marker = n == BLOCK && second.iter().all(|&b| b == 0);
            return Ok(None);
        }
        if !checksum_ok(&h) {
            return Err(corrupt("tar header checksum mismatch".into()));
        }
        let name_end = memchr::memchr(0, &h[..100]).unwrap_or(100);
        let name = h[..name_end].to_vec();
        let size = octal(&h[124..136]).ok_or_else(|| corrupt("bad size in a tar header".into()))?;
        self.left = size;
        self.pad = (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64;
        Ok(Some((name, size)))
    }

    /// Read the current member.
    pub fn member(&mut self, what: String) -> Member<'_, R> {
        Member { tar: self, what }
    }

    /// Find the member called `name`, skipping the ones before it.
    fn seek_member(&mut self, name: &[u8], what: &str) -> Result<()> {
        loop {
            match self.next_member()? {
                Some((n, _)) if n == name => return Ok(()),
                Some(_) => continue,
                None => {
                    return Err(Error::integrity(format!(
                        "archive is truncated: the tar member {} with the data of {what} is missing",
                        String::from_utf8_lossy(name)
                    )));
                }
            }
        }
    }
}

impl<R: Read> Read for Member<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.tar.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = (self.tar.left.min(buf.len() as u64)) as usize;
        let n = read_some(&mut self.tar.inner, &mut buf[..want])?;
        if n == 0 {
            return Err(truncated(format!("the data of {}", self.what)).into());
        }
        self.tar.left -= n as u64;
        Ok(n)
    }
}

fn read_some<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<usize> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// The data members of a tar archive, after `toc.dat`.
pub struct TarSource<R> {
    tar: TarReader<R>,
}

impl<R: Read> TarSource<R> {
    pub fn new(tar: TarReader<R>) -> TarSource<R> {
        TarSource { tar }
    }
}

impl<R: Read> DataSource for TarSource<R> {
    fn table_data(
        &mut self,
        te: &TocEntry,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let Some(name) = te.filename.as_deref().filter(|n| !n.is_empty()) else {
            return Ok(());
        };
        let what = te.describe();
        self.tar.seek_member(name, &what)?;
        let mut m = self.tar.member(what);
        pump(&mut m, sink)
    }

    /// Read the remaining members to the end-of-archive block: a tar
    /// stream cut after the last data member is still a cut archive.
    fn finish(&mut self) -> Result<()> {
        while self.tar.next_member()?.is_some() {}
        if !self.tar.marker {
            return Err(truncated(
                "the tar archive (its end-of-archive block is missing)".into(),
            ));
        }
        Ok(())
    }

    fn blobs(
        &mut self,
        te: &TocEntry,
        each: &mut dyn FnMut(u32, &mut dyn Read) -> Result<()>,
    ) -> Result<()> {
        if te.filename.as_deref().is_none_or(|n| n.is_empty()) {
            return Ok(());
        }
        let what = te.describe();
        let mut found = false;
        while let Some((name, _)) = self.tar.next_member()? {
            let oid = name.strip_prefix(b"blob_").map(|rest| {
                let digits: Vec<u8> = rest
                    .iter()
                    .copied()
                    .take_while(u8::is_ascii_digit)
                    .collect();
                std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .unwrap_or(0)
            });
            match oid {
                Some(oid) if oid != 0 => {
                    let mut m = self.tar.member(format!("large object {oid} of {what}"));
                    each(oid, &mut m)?;
                    found = true;
                }
                Some(_) => {}
                None => {
                    if found {
                        return Ok(());
                    }
                }
            }
        }
        if !self.tar.marker {
            return Err(truncated(format!(
                "the large objects of {what} (the tar archive ends)"
            )));
        }
        Ok(())
    }
}
