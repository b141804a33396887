//! The archive header and table of contents: the primitive encodings
//! (sign-and-magnitude integers, length-prefixed strings, offsets), read
//! one pass from any `Read`, with every short read reported as an integrity
//! error that names the field and the TOC entry it belongs to.

use std::io::{self, Read};

use crate::error::{Error, Result};

/// Oldest archive version we read: 1.0, as pg_restore 18 does (pg_dump 7.1
/// wrote it; 8.3 wrote 1.10, 9.0 wrote 1.12). Each field that a later
/// version added is read only from the version that has it.
pub const MIN_VERSION: (u8, u8) = (1, 0);
/// Newest archive version we read (pg_dump 17 and 18).
pub const MAX_VERSION: (u8, u8) = (1, 16);

/// The longest string we accept in a header or TOC field.
const MAX_STR: usize = 1 << 30;

/// Data-block compression of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Lz4,
    Zstd,
}

impl Compression {
    /// The name pg_restore prints for it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// The archive header.
#[derive(Debug, Clone)]
pub struct Header {
    pub vmaj: u8,
    pub vmin: u8,
    pub vrev: u8,
    pub int_size: u8,
    pub off_size: u8,
    /// 1 custom, 3 tar (directory archives also write 3).
    pub format: u8,
    pub compression: Compression,
    /// The zlib level stored by archives before 1.15.
    pub level: Option<i64>,
    /// `tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_isdst`.
    pub created: [i64; 7],
    pub dbname: Option<Vec<u8>>,
    pub server_version: Option<Vec<u8>>,
    pub dump_version: Option<Vec<u8>>,
}

impl Header {
    /// Archive version as (major, minor).
    pub fn version(&self) -> (u8, u8) {
        (self.vmaj, self.vmin)
    }

    /// Major version of the pg_dump that wrote the archive (from its version
    /// string, else guessed from the archive version).
    pub fn dump_major(&self) -> u32 {
        if let Some(v) = &self.dump_version {
            let digits: Vec<u8> = v
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .copied()
                .collect();
            if let Some(n) = std::str::from_utf8(&digits)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
            {
                return n;
            }
        }
        match self.vmin {
            16.. => 17,
            15 => 16,
            14 => 15,
            _ => 11,
        }
    }

    /// The integer and offset layout of the archive's primitives.
    pub fn layout(&self) -> Layout {
        Layout {
            int_size: self.int_size,
            off_size: self.off_size,
            vmin: self.vmin,
            signed: (self.vmaj, self.vmin) > (1, 0),
        }
    }
}

/// How an archive encodes its integers and offsets: sizes from the header,
/// a sign byte from 1.1 on, and offsets as plain integers before 1.7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub int_size: u8,
    pub off_size: u8,
    /// The archive's minor version (the major is 1).
    pub vmin: u8,
    /// Integers carry a sign byte (every version but 1.0).
    pub signed: bool,
}

impl Default for Layout {
    /// What the header itself starts with: 4-byte integers with a sign byte.
    fn default() -> Layout {
        Layout {
            int_size: 4,
            off_size: 8,
            vmin: 16,
            signed: true,
        }
    }
}

/// Where a custom-format entry's data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPos {
    /// Flag 1: the entry has data, position not recorded (written to a pipe).
    NotSet,
    /// Flag 2: absolute file offset of the data block.
    Set(u64),
    /// Flag 3: the entry has no data block.
    NoData,
}

/// One TOC entry, every field as stored (strings as raw bytes; `None` is a
/// NULL string).
#[derive(Debug, Clone, Default)]
pub struct TocEntry {
    pub dump_id: i32,
    pub had_dumper: bool,
    pub tableoid: Option<Vec<u8>>,
    pub oid: Option<Vec<u8>>,
    pub tag: Option<Vec<u8>>,
    pub desc: Option<Vec<u8>>,
    pub section: i32,
    pub defn: Option<Vec<u8>>,
    pub drop_stmt: Option<Vec<u8>>,
    pub copy_stmt: Option<Vec<u8>>,
    pub namespace: Option<Vec<u8>>,
    pub tablespace: Option<Vec<u8>>,
    pub tableam: Option<Vec<u8>>,
    pub relkind: i32,
    pub owner: Option<Vec<u8>>,
    /// The `withOids` field as stored (`"false"` from modern pg_dump).
    pub with_oids: Option<Vec<u8>>,
    pub deps: Vec<i32>,
    /// The dependency ids as stored (decimal text), for writing back.
    pub dep_strings: Vec<Vec<u8>>,
    /// Custom format: the data position.
    pub data_pos: Option<DataPos>,
    /// Custom format before 1.7: the data length stored after the offset
    /// (read and written back, never used).
    pub legacy_data_len: Option<i64>,
    /// Directory and tar formats: the data file name.
    pub filename: Option<Vec<u8>>,
}

impl TocEntry {
    pub fn desc(&self) -> &[u8] {
        self.desc.as_deref().unwrap_or(b"")
    }
    pub fn tag(&self) -> &[u8] {
        self.tag.as_deref().unwrap_or(b"")
    }
    /// A short description for messages: `entry 3432 (TABLE DATA app t1)`.
    pub fn describe(&self) -> String {
        let mut s = format!("TOC entry {}", self.dump_id);
        if self.desc.is_some() || self.tag.is_some() {
            s.push_str(" (");
            s.push_str(&String::from_utf8_lossy(self.desc()));
            if let Some(ns) = &self.namespace {
                s.push(' ');
                s.push_str(&String::from_utf8_lossy(ns));
            }
            s.push(' ');
            s.push_str(&String::from_utf8_lossy(self.tag()));
            s.push(')');
        }
        s
    }
}

/// Which format-specific field follows each TOC entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraToc {
    /// Custom format: a data offset.
    Offset,
    /// Directory and tar formats: a file name.
    Filename,
}

/// A byte reader that knows the archive's integer and offset sizes and turns
/// every short read into an integrity error naming what was being read.
pub struct Primitives<R> {
    inner: R,
    pub layout: Layout,
    /// Bytes consumed so far.
    pub pos: u64,
}

impl<R: Read> Primitives<R> {
    pub fn new(inner: R) -> Primitives<R> {
        Primitives {
            inner,
            layout: Layout::default(),
            pos: 0,
        }
    }

    /// A reader of `inner` with `layout` (an archive's, from its header).
    pub fn with_layout(inner: R, layout: Layout) -> Primitives<R> {
        Primitives {
            inner,
            layout,
            pos: 0,
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// One raw read, counted in [`Primitives::pos`].
    pub fn read_some(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Ok(n) => {
                    self.pos += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Fill `buf` completely; `Ok(false)` if the input ended before the
    /// first byte (a clean end), an error if it ended part way.
    pub fn fill(&mut self, buf: &mut [u8], what: &dyn Fn() -> String) -> Result<bool> {
        let mut n = 0;
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => {
                    if n == 0 {
                        return Ok(false);
                    }
                    return Err(truncated(what()));
                }
                Ok(k) => {
                    n += k;
                    self.pos += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(e, what())),
            }
        }
        Ok(true)
    }

    /// Exactly `buf.len()` bytes or a truncation error.
    pub fn exact(&mut self, buf: &mut [u8], what: &dyn Fn() -> String) -> Result<()> {
        if buf.is_empty() || self.fill(buf, what)? {
            Ok(())
        } else {
            Err(truncated(what()))
        }
    }

    pub fn byte(&mut self, what: &dyn Fn() -> String) -> Result<u8> {
        let mut b = [0u8; 1];
        self.exact(&mut b, what)?;
        Ok(b[0])
    }

    /// A byte, or `None` at a clean end of input.
    pub fn byte_or_eof(&mut self, what: &dyn Fn() -> String) -> Result<Option<u8>> {
        let mut b = [0u8; 1];
        Ok(if self.fill(&mut b, what)? {
            Some(b[0])
        } else {
            None
        })
    }

    /// `WriteInt`: a sign byte (not in 1.0), then `int_size` bytes of
    /// magnitude, little-endian.
    pub fn int(&mut self, what: &dyn Fn() -> String) -> Result<i64> {
        self.int_or_eof(what)?.ok_or_else(|| truncated(what()))
    }

    /// An integer, or `None` at a clean end of input before its first byte.
    pub fn int_or_eof(&mut self, what: &dyn Fn() -> String) -> Result<Option<i64>> {
        let mut buf = [0u8; 33];
        let sign = usize::from(self.layout.signed);
        let n = sign + self.layout.int_size as usize;
        if !self.fill(&mut buf[..n], what)? {
            return Ok(None);
        }
        let mut value: u64 = 0;
        for (i, &b) in buf[sign..n].iter().enumerate() {
            if b == 0 {
                continue;
            }
            if i >= 8 {
                return Err(corrupt(format!("{}: integer out of range", what())));
            }
            value |= (b as u64) << (8 * i);
        }
        if value > i32::MAX as u64 + 1 {
            return Err(corrupt(format!("{}: integer out of range", what())));
        }
        let v = value as i64;
        Ok(Some(if sign == 1 && buf[0] != 0 { -v } else { v }))
    }

    /// `WriteStr`: an int length (-1 is NULL), then the bytes.
    pub fn string(&mut self, what: &dyn Fn() -> String) -> Result<Option<Vec<u8>>> {
        let len = self.int(what)?;
        if len < 0 {
            if len == -1 {
                return Ok(None);
            }
            return Err(corrupt(format!("{}: negative string length {len}", what())));
        }
        let len = len as usize;
        if len > MAX_STR {
            return Err(corrupt(format!(
                "{}: string length {len} is too large",
                what()
            )));
        }
        // Grow as the bytes arrive, so a corrupt length on a short input
        // fails at the end of the input rather than allocating it up front.
        let mut out = Vec::with_capacity(len.min(1 << 16));
        let got = (&mut self.inner)
            .take(len as u64)
            .read_to_end(&mut out)
            .map_err(|e| read_error(e, what()))?;
        self.pos += got as u64;
        if got < len {
            return Err(truncated(what()));
        }
        Ok(Some(out))
    }

    /// `WriteOffset`: a flag byte, then `off_size` bytes little-endian;
    /// before 1.7 an integer (negative: not set, 0: no data).
    pub fn offset(&mut self, what: &dyn Fn() -> String) -> Result<DataPos> {
        if self.layout.vmin < 7 {
            let v = self.int(what)?;
            return Ok(match v {
                ..0 => DataPos::NotSet,
                0 => DataPos::NoData,
                v => DataPos::Set(v as u64),
            });
        }
        let flag = self.byte(what)?;
        let mut buf = [0u8; 256];
        let n = self.layout.off_size as usize;
        self.exact(&mut buf[..n], what)?;
        let mut value: u64 = 0;
        for (i, &b) in buf[..n].iter().enumerate() {
            if i < 8 {
                value |= (b as u64) << (8 * i);
            } else if b != 0 {
                return Err(corrupt(format!("{}: file offset too large", what())));
            }
        }
        match flag {
            1 => Ok(DataPos::NotSet),
            2 => Ok(DataPos::Set(value)),
            3 => Ok(DataPos::NoData),
            _ => Err(corrupt(format!(
                "{}: unexpected data offset flag {flag}",
                what()
            ))),
        }
    }
}

pub(crate) fn truncated(what: String) -> Error {
    Error::integrity(format!("archive is truncated: input ends inside {what}"))
}

pub(crate) fn corrupt(what: String) -> Error {
    Error::integrity(format!("archive is corrupt: {what}"))
}

fn read_error(e: io::Error, what: String) -> Error {
    let e: Error = e.into();
    match e.kind {
        crate::error::ErrorKind::Runtime => {
            Error::runtime(format!("reading {what}: {}", e.message))
        }
        _ => e,
    }
}

/// Read the header. The five magic bytes `PGDMP` come first.
pub fn read_header<R: Read>(p: &mut Primitives<R>) -> Result<Header> {
    let mut magic = [0u8; 5];
    if !p.fill(&mut magic, &|| "the archive header".into())? {
        return Err(Error::integrity("input is empty, not a pg_dump archive"));
    }
    if &magic != b"PGDMP" {
        return Err(Error::runtime(
            "input is not a pg_dump archive (no PGDMP magic in the header)",
        )
        .with_hint("plain SQL dumps need no conversion; feed them to psql or other pgpipe tools"));
    }
    let h = |f: &'static str| move || format!("the archive header ({f})");
    let vmaj = p.byte(&h("version"))?;
    let vmin = p.byte(&h("version"))?;
    let vrev = if (vmaj, vmin) > (1, 0) {
        p.byte(&h("version"))?
    } else {
        0
    };
    if (vmaj, vmin) > MAX_VERSION {
        return Err(Error::runtime(format!(
            "unsupported archive version {vmaj}.{vmin} in file header; the newest supported is {}.{} (pg_dump 17 and 18)",
            MAX_VERSION.0, MAX_VERSION.1
        )));
    }
    if (vmaj, vmin) < MIN_VERSION {
        return Err(Error::runtime(format!(
            "unsupported archive version {vmaj}.{vmin} in file header; the oldest supported is {}.{}",
            MIN_VERSION.0, MIN_VERSION.1
        )));
    }
    p.layout.vmin = vmin;
    p.layout.signed = (vmaj, vmin) > (1, 0);
    let int_size = p.byte(&h("integer size"))?;
    if int_size == 0 || int_size > 32 {
        return Err(corrupt(format!("integer size {int_size} in the header")));
    }
    p.layout.int_size = int_size;
    let off_size = if vmin >= 7 {
        p.byte(&h("offset size"))?
    } else {
        int_size
    };
    if off_size == 0 || off_size > 32 {
        return Err(corrupt(format!("offset size {off_size} in the header")));
    }
    p.layout.off_size = off_size;
    let format = p.byte(&h("format"))?;
    let (compression, level) = if vmin >= 15 {
        let algo = p.byte(&h("compression"))?;
        let c = match algo {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Lz4,
            3 => Compression::Zstd,
            _ => {
                return Err(corrupt(format!(
                    "unknown compression method {algo} in the header"
                )));
            }
        };
        (c, None)
    } else if vmin >= 2 {
        let level = if vmin >= 4 {
            p.int(&h("compression level"))?
        } else {
            i64::from(p.byte(&h("compression level"))?)
        };
        let c = if level != 0 {
            Compression::Gzip
        } else {
            Compression::None
        };
        (c, Some(level))
    } else {
        // Before 1.2 every archive was compressed.
        (Compression::Gzip, None)
    };
    let mut created = [0i64; 7];
    let mut dbname = None;
    if vmin >= 4 {
        for c in created.iter_mut() {
            *c = p.int(&h("creation time"))?;
        }
        dbname = p.string(&h("database name"))?;
    }
    let (server_version, dump_version) = if vmin >= 10 {
        (
            p.string(&h("server version"))?,
            p.string(&h("pg_dump version"))?,
        )
    } else {
        (None, None)
    };
    Ok(Header {
        vmaj,
        vmin,
        vrev,
        int_size,
        off_size,
        format,
        compression,
        level,
        created,
        dbname,
        server_version,
        dump_version,
    })
}

/// Read the whole TOC.
pub fn read_toc<R: Read>(
    p: &mut Primitives<R>,
    header: &Header,
    extra: ExtraToc,
) -> Result<Vec<TocEntry>> {
    let count = p.int(&|| "the TOC entry count".into())?;
    if count < 0 {
        return Err(corrupt(format!("negative TOC entry count {count}")));
    }
    let mut entries = Vec::with_capacity((count as usize).min(1 << 16));
    for i in 0..count {
        let te = read_entry(p, header, extra, i + 1, count)?;
        entries.push(te);
    }
    Ok(entries)
}

fn read_entry<R: Read>(
    p: &mut Primitives<R>,
    header: &Header,
    extra: ExtraToc,
    index: i64,
    count: i64,
) -> Result<TocEntry> {
    let mut te = TocEntry::default();
    macro_rules! what {
        ($field:expr) => {
            &|| {
                format!(
                    "{} (#{index} of {count}), {} field",
                    entry_name(index, &te),
                    $field
                )
            }
        };
    }
    let dump_id = p.int(what!("dump id"))?;
    if dump_id <= 0 {
        return Err(corrupt(format!(
            "TOC entry {index} of {count} has dump id {dump_id} (out of range)"
        )));
    }
    te.dump_id = dump_id as i32;
    te.had_dumper = p.int(what!("hadDumper"))? != 0;
    let v = header.vmin;
    if v >= 8 {
        te.tableoid = p.string(what!("tableoid"))?;
    }
    te.oid = p.string(what!("oid"))?;
    te.tag = p.string(what!("tag"))?;
    te.desc = p.string(what!("desc"))?;
    te.section = if v >= 11 {
        p.int(what!("section"))? as i32
    } else {
        legacy_section(te.desc())
    };
    te.defn = p.string(what!("defn"))?;
    te.drop_stmt = p.string(what!("dropStmt"))?;
    if v >= 3 {
        te.copy_stmt = p.string(what!("copyStmt"))?;
    }
    if v >= 6 {
        te.namespace = p.string(what!("namespace"))?;
    }
    if v >= 10 {
        te.tablespace = p.string(what!("tablespace"))?;
    }
    if v >= 14 {
        te.tableam = p.string(what!("tableam"))?;
    }
    if v >= 16 {
        te.relkind = p.int(what!("relkind"))? as i32;
    }
    te.owner = p.string(what!("owner"))?;
    if v >= 9 {
        te.with_oids = p.string(what!("withOids"))?;
    }
    // Dependencies since 1.5: strings ended by a NULL one.
    while v >= 5
        && let Some(d) = p.string(what!("dependency list"))?
    {
        let id = std::str::from_utf8(&d)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .unwrap_or(0);
        te.deps.push(id);
        te.dep_strings.push(d);
    }
    match extra {
        ExtraToc::Offset => {
            te.data_pos = Some(p.offset(what!("data offset"))?);
            if v < 7 {
                te.legacy_data_len = Some(p.int(what!("data length"))?);
            }
        }
        ExtraToc::Filename => te.filename = p.string(what!("file name"))?,
    }
    Ok(te)
}

/// The section pg_restore gives an entry of an archive from before 1.11
/// (pg_dump 8.3 and older), which did not record one.
fn legacy_section(desc: &[u8]) -> i32 {
    match desc {
        b"COMMENT" | b"ACL" | b"ACL LANGUAGE" => 1,
        b"TABLE DATA" | b"BLOBS" | b"BLOB COMMENTS" => 3,
        b"CONSTRAINT" | b"CHECK CONSTRAINT" | b"FK CONSTRAINT" | b"INDEX" | b"RULE"
        | b"TRIGGER" => 4,
        _ => 2,
    }
}

fn entry_name(index: i64, te: &TocEntry) -> String {
    if te.dump_id == 0 {
        format!("TOC entry #{index}")
    } else {
        te.describe()
    }
}
