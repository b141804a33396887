//! Tar containers: the `tar` crate walks the headers (GNU long names, pax
//! records, base-256 sizes), seeking over the data, so a tar of any size is
//! indexed with one read per member. The data of a tar member has no
//! checksum; a file that ends inside a member, or without the
//! end-of-archive block after the last one, is a truncated container.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::{Member, MemberKind, Stored, corrupt, truncated};
use crate::error::{Error, Result};

const BLOCK: u64 = 512;

/// Index the members of the tar file `file` (`len` bytes), called `name`
/// in messages.
pub(super) fn index(file: &Arc<File>, len: u64, name: &str) -> Result<Vec<Member>> {
    let handle = file
        .try_clone()
        .map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    let damaged = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            truncated(&format!("a tar header of {name}"))
        } else {
            corrupt(format!("{name}: {}", crate::error::io_message(&e)))
        }
    };
    let mut tar = ::tar::Archive::new(handle);
    let mut members = Vec::new();
    // Where the data of the last member ends, padded to a whole block.
    let mut end = 0u64;
    for entry in tar.entries_with_seek().map_err(damaged)? {
        let entry = entry.map_err(damaged)?;
        let member_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = match entry.header().entry_type() {
            t if t.is_file() => MemberKind::File,
            t if t.is_dir() => MemberKind::Folder,
            _ => MemberKind::Other,
        };
        let offset = entry.raw_file_position();
        let size = entry.size();
        let data_end = offset.saturating_add(size);
        if data_end > len {
            return Err(truncated(&format!("the member {member_name} of {name}")));
        }
        end = data_end.div_ceil(BLOCK) * BLOCK;
        let mut member_name = super::normalize(&member_name);
        if kind == MemberKind::Folder && !member_name.ends_with('/') && !member_name.is_empty() {
            member_name.push('/');
        }
        if member_name.is_empty() {
            // `./`, the folder `tar -C DIR .` starts with.
            continue;
        }
        members.push(Member {
            name: member_name,
            size,
            kind,
            at: Stored::Plain { offset },
        });
    }
    // The walk also stops at the end of the file: only the end-of-archive
    // blocks (two blocks of zeros) say nothing was cut after the last member.
    let mut marker = [0u8; 2 * BLOCK as usize];
    match file.read_exact_at(&mut marker, end) {
        Ok(()) if marker.iter().all(|&b| b == 0) => Ok(members),
        Ok(()) => Err(corrupt(format!(
            "{name}: the blocks after the last member are neither a header nor the end of the archive"
        ))),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(truncated(&format!(
            "{name} (its end-of-archive blocks are missing)"
        ))),
        Err(e) => Err(Error::io(format!("cannot read {name}"), e)),
    }
}
