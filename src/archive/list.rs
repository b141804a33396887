//! The table of contents as `pg_restore -l` prints it.

use std::io::Write;

use super::Format;
use super::read::{Header, TocEntry};
use super::restore::{requirements, sanitize, wanted};
use crate::error::{Error, Result};

/// `PGDUMP_STRFTIME_FMT` applied to the header's creation time, read as
/// local time the way pg_restore does (mktime, then localtime).
fn created_stamp(h: &Header) -> String {
    let c = h.created;
    // SAFETY: tm is plain data, fully initialised by zeroing and the
    // assignments below; the libc calls get valid pointers.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        tm.tm_sec = c[0] as i32;
        tm.tm_min = c[1] as i32;
        tm.tm_hour = c[2] as i32;
        tm.tm_mday = c[3] as i32;
        tm.tm_mon = c[4] as i32;
        tm.tm_year = c[5] as i32;
        tm.tm_isdst = c[6] as i32;
        let mut t = libc::mktime(&mut tm);
        if t == -1 {
            tm.tm_isdst = -1;
            t = libc::mktime(&mut tm);
        }
        let mut out: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut out).is_null() {
            return "[unknown]".into();
        }
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y-%m-%d %H:%M:%S %Z".as_ptr(),
            &out,
        );
        if n == 0 {
            return "[unknown]".into();
        }
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

fn oid_number(s: &Option<Vec<u8>>) -> u32 {
    s.as_deref()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| {
            let d: String = t
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            d.parse::<u32>().ok()
        })
        .unwrap_or(0)
}

/// Print the listing.
pub fn print_list(
    out: &mut dyn Write,
    header: &Header,
    entries: &[TocEntry],
    format: Format,
) -> Result<()> {
    let major = header.dump_major();
    let mut s = Vec::new();
    s.extend_from_slice(format!(";\n; Archive created at {}\n", created_stamp(header)).as_bytes());
    s.extend_from_slice(b";     dbname: ");
    sanitize(&mut s, header.dbname.as_deref(), false);
    s.extend_from_slice(format!("\n;     TOC Entries: {}\n", entries.len()).as_bytes());
    if major >= 16 {
        s.extend_from_slice(
            format!(";     Compression: {}\n", header.compression.name()).as_bytes(),
        );
    } else {
        let level = header.level.unwrap_or(match header.compression {
            super::read::Compression::None => 0,
            _ => -1,
        });
        s.extend_from_slice(format!(";     Compression: {level}\n").as_bytes());
    }
    s.extend_from_slice(
        format!(
            ";     Dump Version: {}.{}-{}\n;     Format: {}\n;     Integer: {} bytes\n;     Offset: {} bytes\n",
            header.vmaj,
            header.vmin,
            header.vrev,
            match format {
                Format::Custom => "CUSTOM",
                Format::Directory => "DIRECTORY",
                Format::Tar => "TAR",
            },
            header.int_size,
            header.off_size
        )
        .as_bytes(),
    );
    if let Some(v) = &header.server_version {
        s.extend_from_slice(b";     Dumped from database version: ");
        s.extend_from_slice(v);
        s.push(b'\n');
    }
    if let Some(v) = &header.dump_version {
        s.extend_from_slice(b";     Dumped by pg_dump version: ");
        s.extend_from_slice(v);
        s.push(b'\n');
    }
    s.extend_from_slice(b";\n;\n; Selected TOC Entries:\n;\n");
    let reqs = requirements(entries);
    for (te, r) in entries.iter().zip(reqs) {
        if !wanted(r) {
            continue;
        }
        s.extend_from_slice(
            format!(
                "{}; {} {} ",
                te.dump_id,
                oid_number(&te.tableoid),
                oid_number(&te.oid)
            )
            .as_bytes(),
        );
        s.extend_from_slice(te.desc.as_deref().unwrap_or(b"(null)"));
        s.push(b' ');
        sanitize(&mut s, te.namespace.as_deref(), true);
        s.push(b' ');
        sanitize(&mut s, te.tag.as_deref(), false);
        s.push(b' ');
        sanitize(&mut s, te.owner.as_deref(), false);
        s.push(b'\n');
    }
    out.write_all(&s).map_err(|e| Error::io("write error", e))
}
