//! Zip containers: the central directory (Zip64 included) is read with the
//! `zip` crate; each member's local header is checked against it here, and
//! its bytes are read, inflated and checked against the recorded CRC-32 and
//! length by [`member`].

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::{Member, MemberKind, Slice, Stored, corrupt};
use crate::archive::data::StrictInflate;
use crate::error::{Error, Result};

const STORED: u16 = 0;
const DEFLATED: u16 = 8;
/// General-purpose flag bits: encrypted, and sizes in a data descriptor.
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const LOCAL_SIGNATURE: &[u8; 4] = b"PK\x03\x04";
const LOCAL_LEN: usize = 30;

/// Does the file end like a zip file: an end-of-central-directory record
/// whose comment runs to the end, pointing at a central directory header
/// (or a Zip64 locator just before it)? A zip file is found from its end;
/// its first bytes may be anything, like the stub of a self-extracting one.
pub(super) fn ends_like_zip(file: &File, len: u64) -> Result<bool> {
    let from = len.saturating_sub(END_LEN as u64 + u16::MAX as u64);
    let mut tail = vec![0u8; (len - from) as usize];
    let n = super::read_at_most(file, &mut tail, from)?;
    let tail = &tail[..n];
    for at in memchr::memmem::rfind_iter(tail, b"PK\x05\x06") {
        let field = |i: usize, w: usize| -> u64 {
            tail.get(at + i..at + i + w).map_or(u64::MAX, |b| {
                b.iter().rev().fold(0, |v, &x| v << 8 | u64::from(x))
            })
        };
        if field(20, 2) != (tail.len() - at).saturating_sub(END_LEN) as u64 {
            continue;
        }
        let (entries, directory) = (field(10, 2), field(16, 4));
        let zip64 = at >= 20 && &tail[at - 20..at - 16] == b"PK\x06\x07";
        let mut signature = [0u8; 4];
        if zip64
            || entries == 0
            || (super::read_at_most(file, &mut signature, directory)? == 4
                && &signature == b"PK\x01\x02")
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The fixed part of the end-of-central-directory record.
const END_LEN: usize = 22;

/// Index the members of the zip file `file`, called `name` in messages.
pub(super) fn index(file: &Arc<File>, name: &str) -> Result<Vec<Member>> {
    let handle = file
        .try_clone()
        .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    let mut zip = ::zip::ZipArchive::new(io::BufReader::new(handle)).map_err(|e| {
        Error::integrity(format!(
            "container is truncated or corrupt: {name} is not a whole zip file ({e})"
        ))
        .with_hint("a zip file cut short has lost its central directory, which is at its end")
    })?;
    let mut members = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| corrupt(format!("member {i} of {name}: {e}")))?;
        let member_name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let what = format!("the member {member_name} of {name}");
        // The number, to compare with the local header's and to name it in
        // a message; the crate's constants only cover the methods it decodes.
        #[allow(deprecated)]
        let method = entry.compression().to_u16();
        let kind = if entry.is_dir() {
            MemberKind::Folder
        } else if entry.is_symlink() {
            MemberKind::Other
        } else {
            MemberKind::File
        };
        let local = LocalHeader::read(file, entry.header_start(), &what)?;
        if local.name != entry.name_raw() || local.method != method {
            return Err(corrupt(format!(
                "{what}: its local header does not match the central directory"
            )));
        }
        if local.flags & FLAG_DESCRIPTOR == 0 && local.crc != entry.crc32() {
            return Err(corrupt(format!(
                "{what}: the CRC-32 in its local header does not match the central directory"
            )));
        }
        if entry.encrypted() != (local.flags & FLAG_ENCRYPTED != 0) {
            return Err(corrupt(format!(
                "{what}: its local header and the central directory disagree on whether it is encrypted"
            )));
        }
        if entry.encrypted() {
            return Err(Error::runtime(format!(
                "{what} is encrypted; pgpipe reads unencrypted zip files"
            ))
            .with_hint("encrypt the stream with pgpipe-age instead of the zip file"));
        }
        let deflated = match method {
            STORED => {
                if kind == MemberKind::File && entry.compressed_size() != entry.size() {
                    return Err(corrupt(format!(
                        "{what} is stored uncompressed but its two recorded sizes differ"
                    )));
                }
                false
            }
            DEFLATED => true,
            other => {
                return Err(Error::runtime(format!(
                    "{what} uses zip compression method {other}; pgpipe reads stored and deflated members"
                ))
                .with_hint("make the zip file again with `zip` (deflate) or `zip -0` (stored)"));
            }
        };
        members.push(Member {
            name: super::normalize(&member_name),
            size: entry.size(),
            kind,
            at: Stored::Zip {
                offset: entry.header_start() + local.len,
                compressed: entry.compressed_size(),
                deflated,
                crc: entry.crc32(),
            },
        });
    }
    Ok(members)
}

/// The fields of a local file header that must agree with the central
/// directory.
struct LocalHeader {
    flags: u16,
    method: u16,
    crc: u32,
    name: Vec<u8>,
    /// Header length: where the data starts, from the header's offset.
    len: u64,
}

impl LocalHeader {
    fn read(file: &File, offset: u64, what: &str) -> Result<LocalHeader> {
        let mut fixed = [0u8; LOCAL_LEN];
        read_exact_at(file, &mut fixed, offset, what)?;
        if &fixed[..4] != LOCAL_SIGNATURE {
            return Err(corrupt(format!(
                "{what}: no local header where the central directory puts it"
            )));
        }
        let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
        let name_len = u16_at(26) as usize;
        let extra_len = u16_at(28) as u64;
        let mut name = vec![0u8; name_len];
        read_exact_at(file, &mut name, offset + LOCAL_LEN as u64, what)?;
        Ok(LocalHeader {
            flags: u16_at(6),
            method: u16_at(8),
            crc: u32::from_le_bytes([fixed[14], fixed[15], fixed[16], fixed[17]]),
            name,
            len: LOCAL_LEN as u64 + name_len as u64 + extra_len,
        })
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], offset: u64, what: &str) -> Result<()> {
    file.read_exact_at(buf, offset).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            super::truncated(what)
        } else {
            Error::io(format!("cannot read {what}"), e)
        }
    })
}

/// The uncompressed bytes of a member: `raw` inflated when `deflated`,
/// checked against `size` and `crc` as the last byte is read.
pub(super) fn member(
    raw: Slice,
    deflated: bool,
    size: u64,
    crc: u32,
    what: String,
) -> Result<Box<dyn Read + Send>> {
    let inner: Box<dyn Read + Send> = if deflated {
        Box::new(StrictInflate::raw(raw, what.clone()))
    } else {
        Box::new(raw)
    };
    Ok(Box::new(Checked {
        inner,
        left: size,
        crc,
        hasher: crc32fast::Hasher::new(),
        what,
    }))
}

/// A member's bytes, failing on the read that delivers its last byte when
/// their CRC-32 is not the recorded one, and when there are fewer or more
/// bytes than recorded.
struct Checked {
    inner: Box<dyn Read + Send>,
    left: u64,
    crc: u32,
    hasher: crc32fast::Hasher,
    what: String,
}

impl Checked {
    fn verify(&self) -> io::Result<()> {
        if self.hasher.clone().finalize() != self.crc {
            return Err(corrupt(format!("{} does not match its CRC-32", self.what)).into());
        }
        Ok(())
    }
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            self.verify()?;
            let mut more = [0u8; 1];
            if self.inner.read(&mut more)? > 0 {
                return Err(corrupt(format!("{} is longer than recorded", self.what)).into());
            }
            return Ok(0);
        }
        let want = self.left.min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(corrupt(format!("{} is shorter than recorded", self.what)).into());
        }
        self.hasher.update(&buf[..n]);
        self.left -= n as u64;
        if self.left == 0 {
            self.verify()?;
        }
        Ok(n)
    }
}
