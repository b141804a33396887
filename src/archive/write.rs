//! Custom-format archives rewritten in place of the stream: the header is
//! written back as read (same version, integer and offset sizes, format,
//! compression and creation time), each TOC entry is handed to the caller
//! to edit and then written back in the archive's own encoding, and the data
//! blocks are copied through byte for byte, never decompressed.
//!
//! One pass, bounded memory: only the TOC is held. The data blocks follow
//! the TOC directly, so when the TOC grows or shrinks by Δ bytes every block
//! moves by Δ. Offsets recorded in the input (`POS_SET`, from a pg_dump
//! that wrote to a file) are written back moved by Δ, and each block is
//! checked to start where its offset says while it is copied, so
//! `pg_restore -j` can seek straight to it. Offsets the input did not record
//! (`POS_NOT_SET`, from a pg_dump that wrote to a pipe) stay not set;
//! pg_restore then finds the blocks by scanning, which also works in
//! parallel mode on a file.
//!
//! The copy is checked as it goes: every entry with data must have exactly
//! one block, blocks must be whole, and the last [`super::data::HOLDBACK`] bytes of the
//! output are withheld until the end of the input is verified. The second
//! TOC that pg_dump 16+ appends when its standard output is a regular file
//! is read, checked and left out: it repeats the old roles, and pg_restore
//! never reads it.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};

use super::data::{Chunks, Holdback};
use super::read::{self, DataPos, ExtraToc, Header, Layout, Primitives, TocEntry, corrupt};
use crate::error::{Error, Result};

use super::custom::{BLK_BLOBS, BLK_DATA, block_header};

/// What a rewrite found.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub entries: usize,
    /// Data blocks copied.
    pub blocks: usize,
    /// Bytes of data blocks copied.
    pub data_bytes: u64,
    /// Δ: output TOC length minus input TOC length.
    pub toc_delta: i64,
    /// Offsets written (`true`) or left not set (`false`).
    pub offsets_set: bool,
    /// The trailing duplicate TOC of a pg_dump 16+ archive was left out.
    pub dropped_trailing_toc: bool,
}

impl Summary {
    /// One line for `--report`: what was copied and what moved.
    pub fn render_text(&self) -> String {
        format!(
            "archive: {} TOC entries, {} data blocks copied ({} bytes), TOC {:+} bytes, data offsets {}{}\n",
            self.entries,
            self.blocks,
            self.data_bytes,
            self.toc_delta,
            if self.offsets_set { "moved" } else { "not set" },
            if self.dropped_trailing_toc {
                "; the duplicate TOC after the data was left out"
            } else {
                ""
            }
        )
    }
}

/// An archive encoder with the header's integer and offset layout.
pub struct Encoder {
    pub buf: Vec<u8>,
    layout: Layout,
}

impl Encoder {
    pub fn new(header: &Header) -> Encoder {
        Encoder {
            buf: Vec::new(),
            layout: header.layout(),
        }
    }

    pub fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// Sign byte (not in 1.0), then the magnitude little-endian in
    /// `int_size` bytes.
    pub fn int(&mut self, v: i64) {
        if self.layout.signed {
            self.buf.push(u8::from(v < 0));
        }
        let mut m = v.unsigned_abs();
        for _ in 0..self.layout.int_size {
            self.buf.push(m as u8);
            m >>= 8;
        }
    }

    /// Length then bytes; NULL is length -1.
    pub fn string(&mut self, s: Option<&[u8]>) {
        match s {
            None => self.int(-1),
            Some(s) => {
                self.int(s.len() as i64);
                self.buf.extend_from_slice(s);
            }
        }
    }

    /// Flag byte, then the offset little-endian in `off_size` bytes; before
    /// 1.7 an integer (-1 not set, 0 no data).
    pub fn offset(&mut self, flag: u8, v: u64) {
        if self.layout.vmin < 7 {
            self.int(match flag {
                1 => -1,
                3 => 0,
                _ => v as i64,
            });
            return;
        }
        self.buf.push(flag);
        let mut m = v;
        for _ in 0..self.layout.off_size {
            self.buf.push(m as u8);
            m >>= 8;
        }
    }
}

/// Encode the header exactly as read.
pub fn encode_header(e: &mut Encoder, h: &Header) {
    e.buf.extend_from_slice(b"PGDMP");
    e.byte(h.vmaj);
    e.byte(h.vmin);
    if (h.vmaj, h.vmin) > (1, 0) {
        e.byte(h.vrev);
    }
    e.byte(h.int_size);
    if h.vmin >= 7 {
        e.byte(h.off_size);
    }
    e.byte(h.format);
    if h.vmin >= 15 {
        e.byte(match h.compression {
            read::Compression::None => 0,
            read::Compression::Gzip => 1,
            read::Compression::Lz4 => 2,
            read::Compression::Zstd => 3,
        });
    } else if h.vmin >= 4 {
        e.int(h.level.unwrap_or(0));
    } else if h.vmin >= 2 {
        e.byte(h.level.unwrap_or(0) as u8);
    }
    if h.vmin >= 4 {
        for c in h.created {
            e.int(c);
        }
        e.string(h.dbname.as_deref());
    }
    if h.vmin >= 10 {
        e.string(h.server_version.as_deref());
        e.string(h.dump_version.as_deref());
    }
}

/// Encode one custom-format TOC entry, with `pos` as its data offset.
pub fn encode_entry(e: &mut Encoder, h: &Header, te: &TocEntry, pos: DataPos) {
    let v = h.vmin;
    e.int(te.dump_id as i64);
    e.int(i64::from(te.had_dumper));
    if v >= 8 {
        e.string(te.tableoid.as_deref());
    }
    e.string(te.oid.as_deref());
    e.string(te.tag.as_deref());
    e.string(te.desc.as_deref());
    if v >= 11 {
        e.int(te.section as i64);
    }
    e.string(te.defn.as_deref());
    e.string(te.drop_stmt.as_deref());
    if v >= 3 {
        e.string(te.copy_stmt.as_deref());
    }
    if v >= 6 {
        e.string(te.namespace.as_deref());
    }
    if v >= 10 {
        e.string(te.tablespace.as_deref());
    }
    if v >= 14 {
        e.string(te.tableam.as_deref());
    }
    if v >= 16 {
        e.int(te.relkind as i64);
    }
    e.string(te.owner.as_deref());
    if v >= 9 {
        e.string(te.with_oids.as_deref());
    }
    if v >= 5 {
        for d in &te.dep_strings {
            e.string(Some(d));
        }
        e.string(None);
    }
    match pos {
        DataPos::NotSet => e.offset(1, 0),
        DataPos::Set(v) => e.offset(2, v),
        DataPos::NoData => e.offset(3, 0),
    }
    if v < 7 {
        e.int(te.legacy_data_len.unwrap_or(0));
    }
}

/// Reads through to the output while `on`, holding back the tail.
struct Tee<'w, R> {
    inner: R,
    out: Holdback<'w, dyn Write + 'w>,
    on: bool,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.on && n > 0 {
            self.out.write(&buf[..n]).map_err(io::Error::from)?;
        }
        Ok(n)
    }
}

/// The usage error for input that is not a custom-format archive.
fn not_custom(what: &str) -> Error {
    Error::usage(format!(
        "--keep-format reads a custom-format archive (pg_dump -Fc); the input is {what}"
    ))
    .with_hint("convert other forms with pg_restore -Fc, or drop --keep-format to get plain SQL")
}

/// Rewrite a custom-format archive from `input` into `out`: `edit` may change
/// any field of each TOC entry except its dump id and data position.
pub fn rewrite_custom(
    input: impl Read,
    out: &mut dyn Write,
    edit: &mut dyn FnMut(&Header, &mut TocEntry) -> Result<()>,
) -> Result<Summary> {
    let mut p = Primitives::new(BufReader::with_capacity(256 * 1024, input));
    let mut magic = [0u8; 5];
    if !p.fill(&mut magic, &|| "the archive header".into())? {
        return Err(Error::integrity("input is empty, not a pg_dump archive"));
    }
    if &magic != b"PGDMP" {
        if magic.starts_with(b"toc.d") {
            return Err(not_custom("a tar archive"));
        }
        return Err(not_custom("not a pg_dump archive"));
    }
    let mut p = Primitives::new(io::Cursor::new(magic).chain(p.into_inner()));
    let header = read::read_header(&mut p)?;
    if header.format != 1 {
        return Err(not_custom("the toc.dat of a directory or tar archive"));
    }
    let mut entries = read::read_toc(&mut p, &header, ExtraToc::Offset)?;
    let toc_end = p.pos;
    for te in entries.iter_mut() {
        let id = te.dump_id;
        let pos = te.data_pos;
        edit(&header, te)?;
        te.dump_id = id;
        te.data_pos = pos;
    }

    // The new header and TOC, to learn Δ; then again with moved offsets.
    let encode = |delta: i64| -> Result<Vec<u8>> {
        let mut e = Encoder::new(&header);
        encode_header(&mut e, &header);
        e.int(entries.len() as i64);
        for te in &entries {
            let pos = match te.data_pos.unwrap_or(DataPos::NoData) {
                DataPos::Set(v) => {
                    let moved = v as i64 + delta;
                    if v > i64::MAX as u64 || moved < 0 {
                        return Err(corrupt(format!(
                            "{}: data offset {v} is out of range",
                            te.describe()
                        )));
                    }
                    DataPos::Set(moved as u64)
                }
                other => other,
            };
            encode_entry(&mut e, &header, te, pos);
        }
        Ok(e.buf)
    };
    let first = encode(0)?;
    let delta = first.len() as i64 - toc_end as i64;
    let head = if delta == 0 { first } else { encode(delta)? };

    // Entries with a data block, by dump id: (index, expected input offset).
    let mut wanted: HashMap<i32, (usize, Option<u64>)> = HashMap::new();
    let mut any_set = false;
    for (i, te) in entries.iter().enumerate() {
        match te.data_pos {
            Some(DataPos::Set(v)) => {
                any_set = true;
                wanted.insert(te.dump_id, (i, Some(v)));
            }
            Some(DataPos::NotSet) => {
                wanted.insert(te.dump_id, (i, None));
            }
            _ => {}
        }
    }

    let mut summary = Summary {
        entries: entries.len(),
        toc_delta: delta,
        offsets_set: any_set,
        ..Summary::default()
    };
    let mut hold: Holdback<'_, dyn Write> = Holdback::new(out);
    hold.write(&head)?;
    let (layout, pos) = (p.layout, p.pos);
    let mut q = Primitives::with_layout(
        Tee {
            inner: p.into_inner(),
            out: hold,
            on: true,
        },
        layout,
    );
    q.pos = pos;

    while !wanted.is_empty() {
        let start = q.pos;
        let (kind, id) = match block_header(&mut q, &|| {
            format!("the data block header at byte {start}")
        })? {
            Some(header) => header,
            None => {
                let mut missing: Vec<_> = wanted.values().map(|(i, _)| *i).collect();
                missing.sort();
                let te = &entries[missing[0]];
                return Err(Error::integrity(format!(
                    "archive is truncated: the data block of {} is missing ({} block(s) missing)",
                    te.describe(),
                    missing.len()
                )));
            }
        };
        let Some((index, expected)) = i32::try_from(id).ok().and_then(|id| wanted.remove(&id))
        else {
            return Err(corrupt(format!(
                "data block at byte {start} belongs to dump id {id}, which has no data in the TOC or was already seen"
            )));
        };
        let te = &entries[index];
        if let Some(v) = expected
            && v != start
        {
            return Err(corrupt(format!(
                "{}: the TOC puts its data at byte {v}, but the block is at byte {start}",
                te.describe()
            )));
        }
        let what = te.describe();
        match kind {
            BLK_DATA => Chunks::new(&mut q, format!("the data of {what}")).finish()?,
            BLK_BLOBS => loop {
                let oid = q.int(&|| format!("the large objects of {what}"))?;
                if oid == 0 {
                    break;
                }
                Chunks::new(&mut q, format!("large object {oid} of {what}")).finish()?;
            },
            _ => {
                return Err(corrupt(format!(
                    "unrecognized data block type {kind} for {what}"
                )));
            }
        }
        summary.blocks += 1;
        summary.data_bytes += q.pos - start;
    }

    // Anything after the last block must be pg_dump 16+'s duplicate TOC.
    let mut tee = q;
    tee.inner_mut().on = false;
    let mut probe = [0u8; 1];
    let at = tee.pos;
    if tee.fill(&mut probe, &|| "the end of the archive".into())? {
        let mut rest =
            Primitives::with_layout(io::Cursor::new(probe).chain(tee.inner_mut()), layout);
        let again = read::read_toc(&mut rest, &header, ExtraToc::Offset).map_err(|e| {
            corrupt(format!(
                "unexpected bytes after the last data block (byte {at}): {}",
                e.message
            ))
        })?;
        let mut tail = [0u8; 1];
        if again.len() != entries.len()
            || rest.fill(&mut tail, &|| "the end of the archive".into())?
        {
            return Err(corrupt(format!(
                "unexpected bytes after the last data block (byte {at})"
            )));
        }
        summary.dropped_trailing_toc = true;
    }
    let tee = tee.into_inner();
    tee.out.finish()?;
    Ok(summary)
}
