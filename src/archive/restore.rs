//! The plain SQL that `pg_restore -f -` prints for an archive: the banner and
//! fixed session state, one comment block and definition per TOC entry in
//! pg_restore's three passes (main, ACLs, post-ACL), the synthesised
//! `ALTER … OWNER TO`, tablespace and access-method switches, COPY data and
//! large objects streamed from the data source, and the footer.
//!
//! The output follows the pg_restore of the pg_dump version recorded in the
//! archive header: `SET transaction_timeout` from 17, `ALTER TABLE` for the
//! owner of views and sequences up to 15 and `ALTER VIEW`/`ALTER SEQUENCE`
//! from 16, the `Statistics for` prefix from 18. Archives without a
//! SEARCHPATH entry (before 1.13) get pg_restore's `SET search_path` in
//! front of each entry whose schema differs from the last one, and
//! archives before 1.12 create each large object where its data opens it.

use std::io::{Read, Write};

use super::data::{Holdback, pump};
use super::read::{Header, TocEntry};
use crate::error::{Error, Result};
use crate::sql::ident::quote_ident_bytes as fmt_id;

const REQ_SCHEMA: u8 = 1;
const REQ_DATA: u8 = 2;
const REQ_STATS: u8 = 4;
const REQ_SPECIAL: u8 = 8;

/// Does pg_restore restore (and list) an entry with these requirements?
pub fn wanted(reqs: u8) -> bool {
    reqs & (REQ_SCHEMA | REQ_DATA | REQ_STATS) != 0
}

const SECTION_NONE: i32 = 1;
const SECTION_PRE_DATA: i32 = 2;

/// `INV_WRITE`, the mode pg_restore opens large objects with.
const INV_WRITE: u32 = 0x20000;
/// pg_restore's large-object write buffer: one `lowrite` per this many bytes.
const LO_BUF: usize = 16384;

/// Where the data of data-bearing TOC entries comes from.
pub trait DataSource {
    /// Stream the (decompressed) data of `te` into `sink`. An entry whose
    /// data is absent from the archive gives no bytes.
    fn table_data(
        &mut self,
        te: &TocEntry,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<()>;
    /// Call `each(oid, data)` for every large object of the BLOBS entry `te`.
    fn blobs(
        &mut self,
        te: &TocEntry,
        each: &mut dyn FnMut(u32, &mut dyn Read) -> Result<()>,
    ) -> Result<()>;
    /// Called once every entry is printed, before the footer: check that
    /// the rest of the archive is whole, where the format allows it.
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Which entries pg_restore wants, per entry, with default options.
pub fn requirements(entries: &[TocEntry]) -> Vec<u8> {
    let mut cur = SECTION_PRE_DATA;
    entries
        .iter()
        .map(|te| {
            if te.section != SECTION_NONE {
                cur = te.section;
            }
            entry_reqs(te, cur)
        })
        .collect()
}

fn entry_reqs(te: &TocEntry, cur_section: i32) -> u8 {
    let desc = te.desc();
    let tag = te.tag();
    if matches!(desc, b"ENCODING" | b"STDSTRINGS" | b"SEARCHPATH") {
        return REQ_SPECIAL;
    }
    let mut res = REQ_SCHEMA | REQ_DATA;
    if desc == b"STATISTICS DATA" {
        res = REQ_STATS;
    }
    if matches!(desc, b"DATABASE" | b"DATABASE PROPERTIES") {
        return 0;
    }
    if !(2..=4).contains(&cur_section) {
        return 0;
    }
    if matches!(
        desc,
        b"ACL" | b"COMMENT" | b"STATISTICS DATA" | b"SECURITY LABEL"
    ) && tag.starts_with(b"DATABASE ")
    {
        return 0;
    }
    if !te.had_dumper {
        let lo_meta = matches!(desc, b"ACL" | b"COMMENT" | b"SECURITY LABEL")
            && tag.starts_with(b"LARGE OBJECT");
        if matches!(desc, b"SEQUENCE SET" | b"BLOB" | b"BLOB METADATA") || lo_meta {
            res &= REQ_DATA;
        } else {
            res &= !REQ_DATA;
        }
    }
    match &te.defn {
        Some(d) if !d.is_empty() && !d.starts_with(b"-- load via partition root ") => {}
        _ => res &= !REQ_SCHEMA,
    }
    if desc == b"<Init>" && tag == b"Max OID" {
        return 0;
    }
    res
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Pass {
    Main,
    Acl,
    PostAcl,
}

fn is_acl(te: &TocEntry) -> bool {
    matches!(te.desc(), b"ACL" | b"ACL LANGUAGE" | b"DEFAULT ACL")
}

fn restore_pass(te: &TocEntry, major: u32) -> Pass {
    let desc = te.desc();
    if is_acl(te) {
        return Pass::Acl;
    }
    if matches!(desc, b"EVENT TRIGGER" | b"MATERIALIZED VIEW DATA") {
        return Pass::PostAcl;
    }
    let labels = if major >= 17 {
        matches!(desc, b"COMMENT" | b"SECURITY LABEL")
    } else {
        desc == b"COMMENT"
    };
    if labels && te.tag().starts_with(b"EVENT TRIGGER ") {
        return Pass::PostAcl;
    }
    if desc == b"STATISTICS DATA" && te.section == 4 {
        return Pass::PostAcl;
    }
    Pass::Main
}

/// Options of the SQL rendering.
#[derive(Debug, Clone, Default)]
pub struct SqlOptions {
    /// The `\restrict` key; a fresh random one when `None`.
    pub restrict_key: Option<String>,
}

/// A fresh 63-character `[A-Za-z0-9]` key from /dev/urandom.
pub fn random_restrict_key() -> Result<String> {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut f = std::fs::File::open("/dev/urandom")
        .map_err(|e| Error::io("cannot open /dev/urandom", e))?;
    let mut key = String::with_capacity(63);
    let mut buf = [0u8; 128];
    while key.len() < 63 {
        f.read_exact(&mut buf)
            .map_err(|e| Error::io("cannot read /dev/urandom", e))?;
        for &b in &buf {
            // 248 = 4 * 62: reject the rest so every character is equally likely.
            if b < 248 && key.len() < 63 {
                key.push(ALNUM[(b % 62) as usize] as char);
            }
        }
    }
    Ok(key)
}

/// Is `key` acceptable to psql's `\restrict`?
pub fn valid_restrict_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Renders one archive.
pub struct Renderer<'o> {
    out: &'o mut dyn Write,
    major: u32,
    std_strings: bool,
    /// The archive has a SEARCHPATH entry, so entries need no
    /// `SET search_path` of their own.
    fixed_search_path: bool,
    /// Before 1.12 large objects have no entries of their own.
    old_lo_style: bool,
    curr_schema: Option<Vec<u8>>,
    curr_tablespace: Option<Vec<u8>>,
    curr_tableam: Option<Vec<u8>>,
}

impl<'o> Renderer<'o> {
    pub fn new(out: &'o mut dyn Write, header: &Header) -> Renderer<'o> {
        Renderer {
            out,
            major: header.dump_major(),
            std_strings: false,
            fixed_search_path: false,
            old_lo_style: header.version() < (1, 12),
            curr_schema: None,
            curr_tablespace: None,
            curr_tableam: None,
        }
    }

    fn w(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io("write error", e))
    }

    /// Print the whole script.
    pub fn render(
        &mut self,
        header: &Header,
        entries: &[TocEntry],
        src: &mut dyn DataSource,
        opts: &SqlOptions,
    ) -> Result<()> {
        let key = match &opts.restrict_key {
            Some(k) => k.clone(),
            None => random_restrict_key()?,
        };
        let reqs = requirements(entries);
        let mut encoding: Vec<u8> = b"SQL_ASCII".to_vec();
        let mut search_path: Option<Vec<u8>> = None;
        for te in entries {
            match te.desc() {
                b"ENCODING" => {
                    let defn = te.defn.as_deref().unwrap_or(b"");
                    let mut parts = defn.split(|&b| b == b'\'');
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some(_), Some(name), Some(_)) => encoding = name.to_vec(),
                        _ => {
                            return Err(super::read::corrupt(format!(
                                "invalid ENCODING item: {}",
                                String::from_utf8_lossy(defn)
                            )));
                        }
                    }
                }
                b"STDSTRINGS" => {
                    let defn = te.defn.as_deref().unwrap_or(b"");
                    let q = memchr::memchr(b'\'', defn).map(|i| &defn[i..]);
                    match q {
                        Some(q) if q.starts_with(b"'on'") => self.std_strings = true,
                        Some(q) if q.starts_with(b"'off'") => self.std_strings = false,
                        _ => {
                            return Err(super::read::corrupt(format!(
                                "invalid STDSTRINGS item: {}",
                                String::from_utf8_lossy(defn)
                            )));
                        }
                    }
                }
                b"SEARCHPATH" => {
                    search_path = te.defn.clone();
                    self.fixed_search_path = true;
                }
                _ => {}
            }
        }

        self.w(b"--\n-- PostgreSQL database dump\n--\n\n")?;
        self.w(format!("\\restrict {key}\n\n").as_bytes())?;
        if let Some(v) = &header.server_version {
            self.w(b"-- Dumped from database version ")?;
            self.w(v)?;
            self.w(b"\n")?;
        }
        if let Some(v) = &header.dump_version {
            self.w(b"-- Dumped by pg_dump version ")?;
            self.w(v)?;
            self.w(b"\n")?;
        }
        self.w(b"\n")?;

        // Fixed session state.
        self.w(b"SET statement_timeout = 0;\nSET lock_timeout = 0;\nSET idle_in_transaction_session_timeout = 0;\n")?;
        if self.major >= 17 {
            self.w(b"SET transaction_timeout = 0;\n")?;
        }
        self.w(b"SET client_encoding = '")?;
        self.w(&encoding)?;
        self.w(b"';\n")?;
        if self.std_strings {
            self.w(b"SET standard_conforming_strings = on;\n")?;
        } else {
            self.w(b"SET standard_conforming_strings = off;\n")?;
        }
        if let Some(sp) = &search_path {
            self.w(sp)?;
        }
        self.w(b"SET check_function_bodies = false;\nSET xmloption = content;\nSET client_min_messages = warning;\n")?;
        if !self.std_strings {
            self.w(b"SET escape_string_warning = off;\n")?;
        }
        self.w(b"SET row_security = off;\n\n")?;

        for pass in [Pass::Main, Pass::Acl, Pass::PostAcl] {
            for (te, &r) in entries.iter().zip(&reqs) {
                if !wanted(r) {
                    continue;
                }
                if restore_pass(te, self.major) != pass {
                    continue;
                }
                self.restore_entry(te, r, entries, src)?;
            }
        }

        src.finish()?;
        self.w(b"--\n-- PostgreSQL database dump complete\n--\n\n")?;
        self.w(format!("\\unrestrict {key}\n\n").as_bytes())?;
        Ok(())
    }

    fn restore_entry(
        &mut self,
        te: &TocEntry,
        reqs: u8,
        entries: &[TocEntry],
        src: &mut dyn DataSource,
    ) -> Result<()> {
        let mut defn_dumped = false;
        if reqs & REQ_SCHEMA != 0 {
            self.print_entry(te, b"", entries)?;
            defn_dumped = true;
        }
        if reqs & REQ_DATA != 0 {
            if te.had_dumper {
                self.print_entry(te, b"Data for ", entries)?;
                if te.desc() == b"BLOBS" {
                    self.select_schema(Some(b"pg_catalog"))?;
                    self.restore_blobs(te, src)?;
                } else if te.desc() == b"BLOB COMMENTS" {
                    // pg_dump before 8.4: the comments are SQL in a data block.
                    self.select_schema(Some(b"pg_catalog"))?;
                    src.table_data(te, &mut |d| write_all(&mut *self.out, d))?;
                } else {
                    let is_copy = te.copy_stmt.as_ref().is_some_and(|c| !c.is_empty());
                    if let Some(c) = te.copy_stmt.as_ref().filter(|c| !c.is_empty()) {
                        self.w(c)?;
                    }
                    let mut hold = Holdback::new(&mut *self.out);
                    src.table_data(te, &mut |d| hold.write(d))?;
                    if is_copy && !hold.tail().ends_with(b"\\.\n\n\n") {
                        return Err(Error::integrity(format!(
                            "archive is truncated: the COPY data of {} ends without its terminator",
                            te.describe()
                        )));
                    }
                    hold.finish()?;
                }
            } else if !defn_dumped {
                self.print_entry(te, b"", entries)?;
            }
        }
        if reqs & REQ_STATS != 0 {
            self.print_entry(te, b"Statistics for ", entries)?;
        }
        Ok(())
    }

    fn restore_blobs(&mut self, te: &TocEntry, src: &mut dyn DataSource) -> Result<()> {
        self.w(b"BEGIN;\n\n")?;
        let std_strings = self.std_strings;
        let out = &mut *self.out;
        let old_lo_style = self.old_lo_style;
        src.blobs(te, &mut |oid, data| {
            let open = if old_lo_style {
                format!("SELECT pg_catalog.lo_open(pg_catalog.lo_create('{oid}'), {INV_WRITE});\n")
            } else {
                format!("SELECT pg_catalog.lo_open('{oid}', {INV_WRITE});\n")
            };
            write_all(out, open.as_bytes())?;
            let mut buf = Vec::with_capacity(LO_BUF);
            let flush = |buf: &mut Vec<u8>, out: &mut dyn Write| -> Result<()> {
                let mut line = Vec::with_capacity(buf.len() * 2 + 48);
                line.extend_from_slice(b"SELECT pg_catalog.lowrite(0, ");
                bytea_literal(&mut line, buf, std_strings);
                line.extend_from_slice(b");\n");
                buf.clear();
                write_all(out, &line)
            };
            pump(data, &mut |mut d: &[u8]| {
                while buf.len() + d.len() > LO_BUF {
                    let take = LO_BUF - buf.len();
                    buf.extend_from_slice(&d[..take]);
                    d = &d[take..];
                    flush(&mut buf, out)?;
                }
                buf.extend_from_slice(d);
                Ok(())
            })?;
            if !buf.is_empty() {
                flush(&mut buf, out)?;
            }
            write_all(out, b"SELECT pg_catalog.lo_close(0);\n\n")
        })?;
        self.w(b"COMMIT;\n\n")
    }

    /// `_printTocEntry`: state switches, the comment block, the definition,
    /// the owner.
    fn print_entry(&mut self, te: &TocEntry, pfx: &[u8], entries: &[TocEntry]) -> Result<()> {
        let partitioned = te.relkind == b'p' as i32;
        self.select_schema(te.namespace.as_deref())?;
        // Tablespace.
        if let Some(want) = &te.tablespace
            && self.curr_tablespace.as_ref() != Some(want)
        {
            if want.is_empty() {
                self.w(b"SET default_tablespace = '';\n\n")?;
            } else {
                let q = fmt_id(want);
                self.w(b"SET default_tablespace = ")?;
                self.w(&q)?;
                self.w(b";\n\n")?;
            }
            self.curr_tablespace = Some(want.clone());
        }
        // Table access method.
        if !partitioned
            && let Some(want) = &te.tableam
            && self.curr_tableam.as_ref() != Some(want)
        {
            let q = fmt_id(want);
            self.w(b"SET default_table_access_method = ")?;
            self.w(&q)?;
            self.w(b";\n\n")?;
            self.curr_tableam = Some(want.clone());
        }

        // Comment block.
        let mut c = Vec::with_capacity(128);
        c.extend_from_slice(b"--\n-- ");
        c.extend_from_slice(pfx);
        c.extend_from_slice(b"Name: ");
        sanitize(&mut c, te.tag.as_deref(), false);
        c.extend_from_slice(b"; Type: ");
        c.extend_from_slice(te.desc.as_deref().unwrap_or(b"(null)"));
        c.extend_from_slice(b"; Schema: ");
        sanitize(&mut c, te.namespace.as_deref(), true);
        c.extend_from_slice(b"; Owner: ");
        sanitize(&mut c, te.owner.as_deref(), true);
        if let Some(ts) = te.tablespace.as_deref().filter(|t| !t.is_empty()) {
            c.extend_from_slice(b"; Tablespace: ");
            sanitize(&mut c, Some(ts), false);
        }
        c.extend_from_slice(b"\n--\n\n");
        self.w(&c)?;

        // Definition.
        let desc = te.desc();
        let defn = te.defn.as_deref().unwrap_or(b"");
        if desc == b"BLOB METADATA" {
            self.per_blob(te, b"SELECT pg_catalog.lo_create('", b"')")?;
        } else if desc == b"ACL" && te.tag().starts_with(b"LARGE OBJECTS") {
            self.acl_per_blob(te, entries)?;
        } else if !defn.is_empty() {
            self.w(defn)?;
            self.w(b"\n\n")?;
        }

        // Owner.
        let owner = te.owner.as_deref().unwrap_or(b"");
        let has_drop = te.drop_stmt.as_ref().is_some_and(|d| !d.is_empty());
        if !owner.is_empty() && has_drop {
            let qowner = fmt_id(owner);
            if desc == b"BLOB METADATA" {
                let mut end = b" OWNER TO ".to_vec();
                end.extend_from_slice(&qowner);
                self.per_blob(te, b"ALTER LARGE OBJECT ", &end)?;
            } else if let Some(obj) = self.object_description(te) {
                let mut line = b"ALTER ".to_vec();
                line.extend_from_slice(&obj);
                line.extend_from_slice(b" OWNER TO ");
                line.extend_from_slice(&qowner);
                line.extend_from_slice(b";\n\n");
                self.w(&line)?;
            }
        }

        // A partitioned table's access method, once the table exists.
        if partitioned && let Some(am) = &te.tableam {
            let mut line = b"ALTER TABLE ".to_vec();
            if let Some(ns) = te.namespace.as_deref().filter(|n| !n.is_empty()) {
                line.extend_from_slice(&fmt_id(ns));
                line.push(b'.');
            }
            line.extend_from_slice(&fmt_id(te.tag()));
            line.extend_from_slice(b" SET ACCESS METHOD ");
            line.extend_from_slice(&fmt_id(am));
            line.extend_from_slice(b";\n\n");
            self.w(&line)?;
        }
        Ok(())
    }

    /// `_selectOutputSchema`: in an archive without a SEARCHPATH entry, set
    /// the search path to `schema` (and pg_catalog) when it changes.
    fn select_schema(&mut self, schema: Option<&[u8]>) -> Result<()> {
        let Some(schema) = schema.filter(|s| !s.is_empty()) else {
            return Ok(());
        };
        if self.fixed_search_path || self.curr_schema.as_deref() == Some(schema) {
            return Ok(());
        }
        let mut line = b"SET search_path = ".to_vec();
        line.extend_from_slice(&fmt_id(schema));
        if schema != b"pg_catalog" {
            line.extend_from_slice(b", pg_catalog");
        }
        line.extend_from_slice(b";\n\n");
        self.w(&line)?;
        self.curr_schema = Some(schema.to_vec());
        Ok(())
    }

    /// `IssueCommandPerBlob`: one command per OID line of a BLOB METADATA defn.
    fn per_blob(&mut self, te: &TocEntry, begin: &[u8], end: &[u8]) -> Result<()> {
        let defn = te.defn.as_deref().unwrap_or(b"");
        let mut rest = defn;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let mut line = begin.to_vec();
            line.extend_from_slice(&rest[..i]);
            line.extend_from_slice(end);
            line.extend_from_slice(b";\n");
            self.w(&line)?;
            rest = &rest[i + 1..];
        }
        self.w(b"\n")
    }

    /// `IssueACLPerBlob`: the GRANT/REVOKE commands of a `LARGE OBJECTS a..b`
    /// ACL entry, applied to every OID of the BLOB METADATA entry it depends on.
    fn acl_per_blob(&mut self, te: &TocEntry, entries: &[TocEntry]) -> Result<()> {
        let first = te.deps.first().copied().unwrap_or(0);
        let meta = entries
            .iter()
            .find(|e| e.dump_id == first)
            .ok_or_else(|| {
                super::read::corrupt(format!(
                    "{} depends on entry {first}, which is not in the archive",
                    te.describe()
                ))
            })?
            .clone();
        let defn = te.defn.as_deref().unwrap_or(b"");
        let mut i = 0;
        let mut st = 0;
        let mut first_half: Option<(usize, usize)> = None;
        let mut second_start = 0;
        let mut inquotes = false;
        while i < defn.len() {
            if defn[i] == b'"' {
                inquotes = !inquotes;
            }
            if inquotes {
                i += 1;
                continue;
            }
            if defn[i..].starts_with(b"LARGE OBJECT ") {
                i += 13;
                first_half = Some((st, i));
                while i < defn.len() && defn[i].is_ascii_digit() {
                    i += 1;
                }
                second_start = i;
            } else if defn[i] == b';' {
                let (a, b) = first_half.ok_or_else(|| {
                    super::read::corrupt(format!(
                        "cannot parse the large-object ACL of {}",
                        te.describe()
                    ))
                })?;
                let begin = defn[a..b].to_vec();
                let end = defn[second_start..i].to_vec();
                self.per_blob(&meta, &begin, &end)?;
                i += 1;
                while i < defn.len() && defn[i].is_ascii_whitespace() {
                    i += 1;
                }
                st = i;
                first_half = None;
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    /// `_getObjectDescription`: what goes between `ALTER` and `OWNER TO`,
    /// or `None` for entries without an owner of their own.
    fn object_description(&mut self, te: &TocEntry) -> Option<Vec<u8>> {
        let desc = te.desc();
        let plain: &[&[u8]] = &[
            b"COLLATION",
            b"CONVERSION",
            b"DOMAIN",
            b"FOREIGN TABLE",
            b"MATERIALIZED VIEW",
            b"SEQUENCE",
            b"STATISTICS",
            b"TABLE",
            b"TEXT SEARCH DICTIONARY",
            b"TEXT SEARCH CONFIGURATION",
            b"TYPE",
            b"VIEW",
            b"DATABASE",
            b"PROCEDURAL LANGUAGE",
            b"SCHEMA",
            b"EVENT TRIGGER",
            b"FOREIGN DATA WRAPPER",
            b"SERVER",
            b"PUBLICATION",
            b"SUBSCRIPTION",
        ];
        if plain.contains(&desc) {
            let shown: &[u8] = if self.major <= 15
                && matches!(desc, b"VIEW" | b"SEQUENCE" | b"MATERIALIZED VIEW")
            {
                b"TABLE"
            } else {
                desc
            };
            let mut buf = shown.to_vec();
            buf.push(b' ');
            if let Some(ns) = te.namespace.as_deref().filter(|n| !n.is_empty()) {
                buf.extend_from_slice(&fmt_id(ns));
                buf.push(b'.');
            }
            buf.extend_from_slice(&fmt_id(te.tag()));
            return Some(buf);
        }
        if desc == b"BLOB" {
            let mut buf = b"LARGE OBJECT ".to_vec();
            buf.extend_from_slice(te.tag());
            return Some(buf);
        }
        if matches!(
            desc,
            b"AGGREGATE"
                | b"FUNCTION"
                | b"OPERATOR"
                | b"OPERATOR CLASS"
                | b"OPERATOR FAMILY"
                | b"PROCEDURE"
        ) {
            let drop = te.drop_stmt.as_deref().unwrap_or(b"");
            let mut s = drop.get(5..).unwrap_or(b"");
            while let Some((&last, head)) = s.split_last() {
                if last == b'\n' || last == b';' {
                    s = head;
                } else {
                    break;
                }
            }
            return Some(s.to_vec());
        }
        None
    }
}

fn write_all(out: &mut dyn Write, bytes: &[u8]) -> Result<()> {
    out.write_all(bytes)
        .map_err(|e| Error::io("write error", e))
}

/// `sanitize_line`: newlines become spaces; NULL prints `-` where wanted.
pub fn sanitize(out: &mut Vec<u8>, s: Option<&[u8]>, want_hyphen: bool) {
    match s {
        None => {
            if want_hyphen {
                out.push(b'-');
            }
        }
        Some(s) => out.extend(
            s.iter()
                .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }),
        ),
    }
}

/// A bytea literal in hex form: `'\x…'`, or `E'\\x…'` without
/// standard_conforming_strings.
pub fn bytea_literal(out: &mut Vec<u8>, data: &[u8], std_strings: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if std_strings {
        out.extend_from_slice(b"'\\x");
    } else {
        out.extend_from_slice(b"E'\\\\x");
    }
    for &b in data {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
    out.push(b'\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt_id_quotes_like_pg_dump() {
        assert_eq!(fmt_id(b"alice"), b"alice");
        assert_eq!(fmt_id(b"select"), b"\"select\"");
        assert_eq!(fmt_id(b"Bob Smith"), b"\"Bob Smith\"");
        assert_eq!(fmt_id(b"we\"ird"), b"\"we\"\"ird\"");
        assert_eq!(fmt_id(b"UPPER"), b"\"UPPER\"");
        assert_eq!(fmt_id(b"3f9a2c71"), b"\"3f9a2c71\"");
        assert_eq!(fmt_id(b"heap"), b"heap");
        assert_eq!(fmt_id(b"int"), b"\"int\"");
        assert_eq!(fmt_id(b"float"), b"\"float\"");
        assert_eq!(fmt_id(b"name"), b"name");
        assert_eq!(fmt_id(b""), b"\"\"");
        assert_eq!(fmt_id(b"caf\xe9"), b"\"caf\xe9\"");
    }

    #[test]
    fn restrict_keys_are_63_alnum() {
        let a = random_restrict_key().unwrap();
        let b = random_restrict_key().unwrap();
        assert_eq!(a.len(), 63);
        assert!(valid_restrict_key(&a));
        assert_ne!(a, b);
    }

    #[test]
    fn bytea_literals() {
        let mut v = Vec::new();
        bytea_literal(&mut v, b"\x00\xffa", true);
        assert_eq!(v, b"'\\x00ff61'");
        let mut v = Vec::new();
        bytea_literal(&mut v, b"a", false);
        assert_eq!(v, b"E'\\\\x61'");
    }
}
