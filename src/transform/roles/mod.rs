//! `pgpipe-roles`: rename, drop and reassign roles in a plain dump stream,
//! rewriting exactly the role references and nothing else.
//!
//! Rewriting is splicing. Every statement that [`analysis::may_reference_roles`]
//! is analysed; the output statement is the original bytes with exactly the
//! spans of the role references to change replaced (`quote_ident(new)` for an
//! identifier, `quote_literal(new)` for a string literal), or one list item
//! removed with its separating comma, or the whole statement dropped.
//! Statements that name no changed role are written as they came, never
//! re-serialized; COPY data is written straight through. pg_dump's
//! `-- Name: …; Owner: X` headers and `USER MAPPING X SERVER Y` tags get the
//! new raw name so the output reads consistently.
//!
//! Where dropping a role would widen access (a policy whose only role is the
//! dropped one, a `REVOKE … FROM` the dropped owner of an object), the run
//! stops with an error naming the line, unless `force_drop` is set.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};
use std::ops::Range;

use pg_query::protobuf::Token;
use serde::Serialize;

use crate::cli::{Error, Progress, Result};
use crate::dump::{Kind, Reader, Segment, header};
use crate::sql::analysis::{
    self, Action, Analysis, AnalyzeOptions, RoleName, RoleRef, RoleRefKind as K,
};
use crate::sql::ident::{quote_ident, quote_literal};

/// Longest role name PostgreSQL keeps (NAMEDATALEN - 1).
pub const MAX_NAME: usize = 63;

/// What to do to the roles of a dump. Build it, then call [`Options::check`]
/// (or let [`rewrite`] do it).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `OLD=NEW` renames, by real role name (not SQL-quoted).
    pub map: Vec<(String, String)>,
    /// Roles to remove from the dump.
    pub drop: Vec<String>,
    /// Drop even where that widens access.
    pub force_drop: bool,
    /// Every object owner becomes this role.
    pub owner: Option<String>,
    /// Remove ownership: `ALTER … OWNER TO`, owner clauses, session authorization.
    pub no_owner: bool,
    /// Remove privileges: GRANT/REVOKE on objects, default privileges, parameter grants.
    pub no_acl: bool,
    /// After rewriting, fail if any other role (besides PUBLIC) is referenced.
    pub only_roles: Option<Vec<String>>,
    /// Remove `PASSWORD` clauses of `CREATE ROLE` / `ALTER ROLE`.
    pub drop_passwords: bool,
    /// Keep every edit in [`Report::edits`] (for tests and audits).
    pub record_edits: bool,
    /// Largest statement accepted.
    pub max_statement: usize,
}

/// Check a role name given on the command line. `target` names are what the
/// output will create or reference, so reserved names are refused.
pub fn check_name(name: &str, what: &str, target: bool) -> Result<()> {
    if name.is_empty() {
        return Err(Error::usage(format!("{what}: empty role name")));
    }
    if name.len() > MAX_NAME {
        return Err(Error::usage(format!(
            "{what}: role name {name:?} is {} bytes; PostgreSQL allows at most {MAX_NAME}",
            name.len()
        )));
    }
    if name.contains('\0') {
        return Err(Error::usage(format!(
            "{what}: role name {name:?} holds a NUL byte"
        )));
    }
    let lower = name.to_ascii_lowercase();
    if lower == "public" {
        return Err(Error::usage(format!(
            "{what}: PUBLIC is not a role and cannot be renamed or mapped onto"
        )));
    }
    if target {
        if [
            "none",
            "current_user",
            "session_user",
            "current_role",
            "user",
        ]
        .contains(&&*lower)
        {
            return Err(Error::usage(format!(
                "{what}: role name {name:?} is reserved"
            )));
        }
        if lower.starts_with("pg_") {
            return Err(Error::usage(format!(
                "{what}: role name {name:?} is reserved (the pg_ prefix belongs to built-in roles)"
            )));
        }
    }
    Ok(())
}

/// Parse one `OLD=NEW` argument (the first `=` splits; names are raw).
pub fn parse_mapping(arg: &str) -> Result<(String, String)> {
    let Some((old, new)) = arg.split_once('=') else {
        return Err(Error::usage(format!(
            "--map {arg:?}: expected OLD=NEW (real role names, not SQL-quoted)"
        )));
    };
    let what = format!("--map {arg:?}");
    check_name(old, &what, false)?;
    check_name(new, &what, true)?;
    Ok((old.to_string(), new.to_string()))
}

/// Parse a map file: one `OLD=NEW` per line; blank lines and lines whose
/// first non-blank character is `#` are ignored; a trailing `\r` is dropped.
pub fn parse_map_file(text: &[u8], file: &str) -> Result<Vec<(String, String)>> {
    let text = std::str::from_utf8(text)
        .map_err(|_| Error::usage(format!("{file}: the map file is not UTF-8")))?;
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let m = parse_mapping(line)
            .map_err(|e| Error::usage(format!("{file}: line {}: {}", i + 1, e.message)))?;
        out.push(m);
    }
    Ok(out)
}

impl Options {
    /// Refuse contradictory or invalid options (usage errors, exit 2).
    pub fn check(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for (old, new) in &self.map {
            check_name(old, &format!("--map {old}={new}"), false)?;
            check_name(new, &format!("--map {old}={new}"), true)?;
            if !seen.insert(old.as_str()) {
                return Err(Error::usage(format!(
                    "role {old:?} is mapped more than once"
                )));
            }
        }
        for d in &self.drop {
            check_name(d, &format!("--drop {d}"), false)?;
            if seen.contains(d.as_str()) {
                return Err(Error::usage(format!(
                    "role {d:?} is both mapped and dropped"
                )));
            }
        }
        if let Some(o) = &self.owner {
            check_name(o, "--owner", true)?;
            if self.no_owner {
                return Err(Error::usage("--owner and --no-owner contradict each other"));
            }
        }
        if let Some(list) = &self.only_roles {
            for r in list {
                check_name(r, "--only-roles", false)?;
            }
        }
        Ok(())
    }

    /// The longest statement the reader accepts (0 means the default).
    fn statement_limit(&self) -> usize {
        if self.max_statement == 0 {
            crate::dump::DEFAULT_STATEMENT_LIMIT
        } else {
            self.max_statement
        }
    }

    fn is_identity(&self) -> bool {
        self.map.is_empty()
            && self.drop.is_empty()
            && self.owner.is_none()
            && !self.no_owner
            && !self.no_acl
            && self.only_roles.is_none()
            && !self.drop_passwords
    }

    /// Options that touch every statement of some kind, whatever its roles.
    fn is_global(&self) -> bool {
        self.owner.is_some()
            || self.no_owner
            || self.no_acl
            || self.only_roles.is_some()
            || self.drop_passwords
    }
}

/// One change made to the input, in input byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Input byte range replaced.
    pub start: u64,
    pub end: u64,
    /// What replaced it.
    #[serde(with = "lossy")]
    pub new: Vec<u8>,
}

mod lossy {
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(v))
    }
}

/// What a run changed, per role and kind of reference.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// `(role, kind, what) -> count`; `what` is `renamed to X`, `removed`,
    /// `statement dropped`, `owner set to X`, …
    pub changes: Vec<Change>,
    /// Header comments (`Owner:` fields, user mapping tags) rewritten.
    pub headers_rewritten: u64,
    /// Statements changed (spliced) and dropped.
    pub statements_changed: u64,
    pub statements_dropped: u64,
    /// Statements analysed (the rest were copied without a look).
    pub statements_analysed: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Warnings (also printed on stderr by the binary).
    pub warnings: Vec<String>,
    /// With `--only-roles`: `(line, role)` of every reference left to a role not listed.
    pub foreign_roles: Vec<(u64, String)>,
    /// Every edit, when [`Options::record_edits`] is set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub role: String,
    pub kind: String,
    pub action: String,
    pub count: u64,
    /// Input line of the first occurrence.
    pub first_line: u64,
}

impl Report {
    /// The report as text, one change per line.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        for c in &self.changes {
            s.push_str(&format!(
                "{}: {} {}: {} (first at line {})\n",
                c.role, c.kind, c.action, c.count, c.first_line
            ));
        }
        s.push_str(&format!(
            "statements analysed: {}, changed: {}, dropped: {}; headers rewritten: {}\n",
            self.statements_analysed,
            self.statements_changed,
            self.statements_dropped,
            self.headers_rewritten
        ));
        s
    }
}

#[derive(Default)]
struct Tally {
    map: BTreeMap<(String, String, String), (u64, u64)>,
    /// Archives: the dump id of the entry being rewritten, in place of lines.
    place: Option<u64>,
}

impl Tally {
    fn add(&mut self, role: &str, kind: &str, action: String, line: u64) {
        let line = self.place.unwrap_or(line);
        let e = self
            .map
            .entry((role.to_string(), kind.to_string(), action))
            .or_insert((0, line));
        e.0 += 1;
    }
}

/// What becomes of one named role.
enum Fate<'a> {
    Keep,
    Rename(&'a str),
    Drop,
}

struct Plan<'o> {
    opts: &'o Options,
    map: HashMap<&'o str, &'o str>,
    drop: HashSet<&'o str>,
    only: Option<HashSet<&'o str>>,
    /// Needles for the "does this unparsable statement name a changed role" check.
    needles: Vec<Vec<u8>>,
}

impl<'o> Plan<'o> {
    fn new(opts: &'o Options) -> Plan<'o> {
        let map: HashMap<&str, &str> = opts
            .map
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let drop: HashSet<&str> = opts.drop.iter().map(|s| s.as_str()).collect();
        let mut needles = Vec::new();
        for name in map.keys().chain(drop.iter()) {
            needles.push(name.to_ascii_lowercase().into_bytes());
            needles.push(name.replace('"', "\"\"").to_ascii_lowercase().into_bytes());
            needles.push(name.replace('\'', "''").to_ascii_lowercase().into_bytes());
        }
        Plan {
            opts,
            map,
            drop,
            only: opts
                .only_roles
                .as_ref()
                .map(|l| l.iter().map(|s| s.as_str()).collect()),
            needles,
        }
    }

    fn fate(&self, name: &str) -> Fate<'o> {
        if let Some(new) = self.map.get(name) {
            Fate::Rename(new)
        } else if self.drop.contains(name) {
            Fate::Drop
        } else {
            Fate::Keep
        }
    }

    fn final_name<'a>(&self, name: &'a str) -> Option<&'a str>
    where
        'o: 'a,
    {
        match self.fate(name) {
            Fate::Keep => Some(name),
            Fate::Rename(n) => Some(n),
            Fate::Drop => None,
        }
    }

    fn mentions_changed_role(&self, stmt: &[u8]) -> bool {
        if self.needles.is_empty() {
            return false;
        }
        let lower = stmt.to_ascii_lowercase();
        self.needles
            .iter()
            .any(|n| memchr::memmem::find(&lower, n).is_some())
    }
}

/// The decision for one statement.
enum Outcome {
    Keep,
    Drop,
    Replace(Vec<u8>),
}

struct State<'o> {
    plan: Plan<'o>,
    tally: Tally,
    report: Report,
    /// Owner and type of the current pg_dump TOC entry (from its header).
    toc_owner: Option<Vec<u8>>,
    toc_type: Vec<u8>,
    /// Roles created so far (final names), to merge mapped-together roles.
    created: HashSet<String>,
    /// Roles already warned about for md5 passwords.
    md5_warned: HashSet<String>,
}

/// Rewrite `input` into `out` (or only report, with `out = None`).
///
/// Errors: a truncated input is an integrity error (exit 3) and its cut-off
/// tail is never written; a statement that names a changed role and cannot
/// be analysed, a widening drop without `force_drop`, and `only_roles`
/// violations are runtime errors (exit 1) naming the line.
pub fn rewrite<R: Read>(
    input: R,
    mut out: Option<&mut dyn Write>,
    opts: &Options,
    progress: &Progress,
) -> Result<Report> {
    opts.check()?;
    let mut reader = Reader::with_limit(input, opts.statement_limit());
    let identity = opts.is_identity();
    let mut st = State::new(opts);
    let mut cut_at = None;
    while let Some(seg) = reader.next_segment()? {
        st.report.bytes += seg.bytes.len() as u64;
        if seg.kind == Kind::Incomplete {
            cut_at = Some(seg.line);
            break;
        }
        let replaced = if identity {
            None
        } else {
            match seg.kind {
                Kind::Comment => st.comment(&seg),
                Kind::Statement => match st.statement(&seg)? {
                    Outcome::Keep => None,
                    Outcome::Drop => Some(Vec::new()),
                    Outcome::Replace(b) => Some(b),
                },
                _ => None,
            }
        };
        if let Some(w) = out.as_deref_mut() {
            let bytes = replaced.as_deref().unwrap_or(seg.bytes);
            w.write_all(bytes)
                .map_err(|e| Error::io("write error", e))?;
        }
        if seg.kind == Kind::Comment
            && progress.is_enabled()
            && let Some(h) = header::parse(seg.bytes)
        {
            progress.set_message(h.name);
        }
    }
    if let Some(line) = cut_at {
        return Err(incomplete(&reader, line));
    }
    Ok(finish_report(st))
}

/// Rewrites the TOC entries of a pg_dump archive one at a time with the
/// rules [`rewrite`] applies to a plain dump: the SQL of each entry's
/// definition and drop statement (ACL, DEFAULT ACL, POLICY, USER MAPPING,
/// DATABASE PROPERTIES, and any other that names a role), its owner field
/// (which pg_restore turns into `ALTER … OWNER TO`) and a user mapping's
/// tag. A statement dropped leaves the entry in place with less SQL, so
/// dependency ids stay whole; an entry left with no SQL restores nothing.
///
/// Report lines and `foreign_roles` carry the dump id of the entry in place
/// of a line number.
pub struct EntryRewriter<'o> {
    st: State<'o>,
    identity: bool,
    limit: usize,
    /// The session settings the archive's ENCODING and STDSTRINGS entries make,
    /// read ahead of each entry's SQL so literals lex as pg_restore sends them.
    session: Vec<u8>,
}

impl<'o> EntryRewriter<'o> {
    pub fn new(opts: &'o Options) -> Result<EntryRewriter<'o>> {
        opts.check()?;
        Ok(EntryRewriter {
            st: State::new(opts),
            identity: opts.is_identity(),
            limit: opts.statement_limit(),
            session: Vec::new(),
        })
    }

    /// Rewrite one TOC entry in place.
    pub fn entry(&mut self, te: &mut crate::archive::read::TocEntry) -> Result<()> {
        let desc = te.desc().to_vec();
        if matches!(&desc[..], b"ENCODING" | b"STDSTRINGS") {
            if let Some(d) = &te.defn {
                self.session.extend_from_slice(d);
                if !d.ends_with(b"\n") {
                    self.session.push(b'\n');
                }
            }
            return Ok(());
        }
        if self.identity {
            return Ok(());
        }
        let id = te.dump_id;
        self.st.tally.place = Some(id as u64);
        self.st.toc_owner = te.owner.clone();
        self.st.toc_type = desc.clone();
        let what = te.describe();
        // 17+ BLOB METADATA definitions are OID lists, not SQL.
        if !matches!(&desc[..], b"BLOB METADATA" | b"SEARCHPATH") {
            if let Some(new) = self.sql(te.defn.as_deref(), id, &what)? {
                te.defn = Some(new);
            }
            if let Some(new) = self.sql(te.drop_stmt.as_deref(), id, &what)? {
                te.drop_stmt = Some(new);
            }
        }
        let mut header_changed = false;
        if let Some(new) = self.owner_field(te.owner.as_deref(), id) {
            te.owner = Some(new);
            header_changed = true;
        }
        if desc == b"USER MAPPING"
            && let Some(tag) = &te.tag
            && let Some(rest) = tag.strip_prefix(b"USER MAPPING ")
            && let Some(end) = memchr::memmem::find(rest, b" SERVER ")
            && let Ok(name) = std::str::from_utf8(&rest[..end])
            && let Fate::Rename(new) = self.st.plan.fate(name)
        {
            let mut t = b"USER MAPPING ".to_vec();
            t.extend_from_slice(new.as_bytes());
            t.extend_from_slice(&rest[end..]);
            te.tag = Some(t);
            header_changed = true;
        }
        if header_changed {
            self.st.report.headers_rewritten += 1;
        }
        Ok(())
    }

    /// The new owner field, when it changes: `--owner`, `--no-owner` and a
    /// dropped owner (the empty owner: pg_restore then sets none), a rename.
    fn owner_field(&mut self, owner: Option<&[u8]>, id: i32) -> Option<Vec<u8>> {
        let owner = owner.filter(|o| !o.is_empty())?;
        let opts = self.st.plan.opts;
        let name = String::from_utf8_lossy(owner).into_owned();
        let (new, action): (Option<String>, String) = if opts.no_owner {
            (Some(String::new()), "removed (--no-owner)".into())
        } else if let Some(o) = &opts.owner {
            (Some(o.clone()), format!("owner set to {o}"))
        } else {
            match self.st.plan.fate(&name) {
                Fate::Keep => (None, String::new()),
                Fate::Rename(n) => (Some(n.to_string()), format!("renamed to {n}")),
                Fate::Drop => (Some(String::new()), "removed (--drop)".into()),
            }
        };
        let final_name = new.clone().unwrap_or_else(|| name.clone());
        if let Some(only) = &self.st.plan.only
            && !final_name.is_empty()
            && !only.contains(final_name.as_str())
        {
            self.st.report.foreign_roles.push((id as u64, final_name));
        }
        let new = new?;
        if new.as_bytes() == owner {
            return None;
        }
        self.st.tally.add(&name, "toc_owner", action, id as u64);
        Some(new.into_bytes())
    }

    /// Rewrite the SQL of one field; `None` when it is unchanged.
    fn sql(&mut self, sql: Option<&[u8]>, id: i32, what: &str) -> Result<Option<Vec<u8>>> {
        let Some(sql) = sql.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let skip = self.session.len();
        let mut input = self.session.clone();
        input.extend_from_slice(sql);
        let mut reader = Reader::with_limit(&input[..], self.limit);
        let mut out = Vec::with_capacity(sql.len());
        let mut changed = false;
        let foreign_before = self.st.report.foreign_roles.len();
        let in_entry = |mut e: Error| {
            e.message = format!("{what}: {}", e.message);
            e.line = None;
            e
        };
        while let Some(seg) = reader.next_segment().map_err(in_entry)? {
            if (seg.offset as usize) < skip {
                continue;
            }
            let replaced = match seg.kind {
                Kind::Statement => match self.st.statement(&seg).map_err(in_entry)? {
                    Outcome::Keep => None,
                    Outcome::Drop => Some(Vec::new()),
                    Outcome::Replace(b) => Some(b),
                },
                Kind::Incomplete if self.st.plan.mentions_changed_role(seg.bytes) => {
                    return Err(Error::runtime(format!(
                        "{what}: its SQL does not end with a complete statement and may name a role to change"
                    )));
                }
                _ => None,
            };
            changed |= replaced.is_some();
            out.extend_from_slice(replaced.as_deref().unwrap_or(seg.bytes));
        }
        for f in &mut self.st.report.foreign_roles[foreign_before..] {
            f.0 = id as u64;
        }
        Ok(changed.then_some(out))
    }

    /// What was changed, over every entry.
    pub fn finish(self) -> Report {
        finish_report(self.st)
    }
}

fn finish_report(st: State<'_>) -> Report {
    let mut report = st.report;
    report.changes = st
        .tally
        .map
        .into_iter()
        .map(|((role, kind, action), (count, first_line))| Change {
            role,
            kind,
            action,
            count,
            first_line,
        })
        .collect();
    report
}

pub(crate) fn incomplete<R: Read>(reader: &Reader<R>, line: u64) -> Error {
    let what = match reader.cut() {
        Some(crate::dump::Cut::Statement { inside, .. }) => {
            format!("the input ends inside a statement ({inside})")
        }
        Some(crate::dump::Cut::Copy { rows, .. }) => {
            format!("the input ends inside COPY data after {rows} complete rows")
        }
        None => "the input is cut short".to_string(),
    };
    Error::integrity(format!("{what}; the cut-off tail was not written"))
        .at_line(line)
        .with_hint("the dump is truncated: make it again, or check how it was transferred")
}

/// Line number of byte `at` of a segment.
fn line_at(seg: &Segment<'_>, at: usize) -> u64 {
    seg.line + crate::dump::reader::count_newlines(&seg.bytes[..at.min(seg.bytes.len())])
}

impl<'o> State<'o> {
    fn new(opts: &'o Options) -> State<'o> {
        State {
            plan: Plan::new(opts),
            tally: Tally::default(),
            report: Report::default(),
            toc_owner: None,
            toc_type: Vec::new(),
            created: HashSet::new(),
            md5_warned: HashSet::new(),
        }
    }

    /// Keep the edits of one segment in input offsets, when asked to.
    fn record(&mut self, seg: &Segment<'_>, edits: &[(Range<usize>, Vec<u8>)]) {
        if !self.plan.opts.record_edits {
            return;
        }
        let mut e: Vec<_> = edits
            .iter()
            .map(|(r, new)| Edit {
                start: seg.offset + r.start as u64,
                end: seg.offset + r.end as u64,
                new: new.clone(),
            })
            .collect();
        e.sort_by_key(|e| e.start);
        self.report.edits.extend(e);
    }

    /// Rewrite the owner field of a TOC header and a user mapping's role.
    fn comment(&mut self, seg: &Segment<'_>) -> Option<Vec<u8>> {
        let line = seg.bytes;
        let h = header::parse(line)?;
        let base = line.as_ptr() as usize;
        let owner_range = h.owner.map(|o| {
            let s = o.as_ptr() as usize - base;
            s..s + o.len()
        });
        self.toc_owner = h.owner.map(|o| o.to_vec());
        self.toc_type = h.kind.to_vec();
        let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
        let opts = self.plan.opts;
        if let Some(r) = owner_range.clone()
            && !r.is_empty()
        {
            let owner = &line[r.clone()];
            if let Some(o) = &opts.owner {
                if owner != o.as_bytes() {
                    edits.push((r, o.as_bytes().to_vec()));
                }
            } else if let Ok(name) = std::str::from_utf8(owner)
                && let Fate::Rename(new) = self.plan.fate(name)
            {
                edits.push((r, new.as_bytes().to_vec()));
            }
        }
        if h.kind == b"USER MAPPING"
            && let Some(rest) = h.name.strip_prefix(b"USER MAPPING ")
            && let Some(end) = memchr::memmem::find(rest, b" SERVER ")
        {
            let role = &rest[..end];
            let s = role.as_ptr() as usize - base;
            if let Ok(name) = std::str::from_utf8(role)
                && let Fate::Rename(new) = self.plan.fate(name)
            {
                edits.push((s..s + role.len(), new.as_bytes().to_vec()));
            }
        }
        if edits.is_empty() {
            return None;
        }
        self.report.headers_rewritten += 1;
        self.record(seg, &edits);
        Some(splice(line, edits))
    }

    fn statement(&mut self, seg: &Segment<'_>) -> Result<Outcome> {
        let stmt = seg.bytes;
        let opts = self.plan.opts;
        let session_auth = opts.no_owner && is_session_authorization(stmt);
        if !analysis::may_reference_roles(stmt) && !session_auth {
            return Ok(Outcome::Keep);
        }
        if session_auth {
            // SET SESSION AUTHORIZATION x / DEFAULT, RESET SESSION AUTHORIZATION.
            self.tally.add(
                "*",
                "session_authorization",
                "statement dropped (--no-owner)".into(),
                seg.line,
            );
            self.report.statements_dropped += 1;
            self.record(seg, &[(0..stmt.len(), Vec::new())]);
            return Ok(Outcome::Drop);
        }
        self.report.statements_analysed += 1;
        let a = match analysis::analyze_with(
            stmt,
            seg.encoding,
            &AnalyzeOptions {
                standard_conforming_strings: seg.std_strings,
            },
        ) {
            Ok(a) => a,
            Err(e) => {
                if opts.is_global() || self.plan.mentions_changed_role(stmt) {
                    return Err(Error::runtime(format!(
                        "cannot analyse a statement that may name a role to change: {e}"
                    ))
                    .at_line(seg.line)
                    .with_hint("nothing was guessed; fix the statement or report the form"));
                }
                return Ok(Outcome::Keep);
            }
        };
        if a.role_refs.is_empty() && !opts.drop_passwords {
            return Ok(Outcome::Keep);
        }
        let mut rw = Rewrite {
            st: self,
            seg,
            a: &a,
            edits: Vec::new(),
            drop: false,
            replace: None,
            kept: Vec::new(),
        };
        rw.run()?;
        let Rewrite {
            edits,
            drop,
            replace,
            kept,
            ..
        } = rw;
        if drop {
            self.report.statements_dropped += 1;
            self.record(seg, &[(0..stmt.len(), Vec::new())]);
            return Ok(Outcome::Drop);
        }
        if let Some(only) = &self.plan.only {
            for (line, name) in kept {
                if !only.contains(name.as_str()) {
                    self.report.foreign_roles.push((line, name));
                }
            }
        }
        if let Some(r) = replace {
            self.report.statements_changed += 1;
            self.record(seg, &[(0..stmt.len(), r.clone())]);
            return Ok(Outcome::Replace(r));
        }
        if edits.is_empty() {
            return Ok(Outcome::Keep);
        }
        self.report.statements_changed += 1;
        self.record(seg, &edits);
        Ok(Outcome::Replace(splice(stmt, edits)))
    }
}

/// Copy `src` with each range replaced (ranges sorted here, must not overlap).
fn splice(src: &[u8], mut edits: Vec<(Range<usize>, Vec<u8>)>) -> Vec<u8> {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = Vec::with_capacity(src.len() + 64);
    let mut at = 0;
    for (r, new) in edits {
        debug_assert!(r.start >= at, "overlapping edits");
        let start = r.start.max(at);
        out.extend_from_slice(&src[at..start]);
        out.extend_from_slice(&new);
        at = r.end.max(at);
    }
    out.extend_from_slice(&src[at..]);
    out
}

/// Whether the statement is `SET SESSION AUTHORIZATION …` or `RESET SESSION AUTHORIZATION`.
fn is_session_authorization(stmt: &[u8]) -> bool {
    let mut words = stmt
        .split(|b| b.is_ascii_whitespace() || *b == b';')
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or_default();
    let second = words.next().unwrap_or_default();
    let third = words.next().unwrap_or_default();
    (first.eq_ignore_ascii_case(b"set") || first.eq_ignore_ascii_case(b"reset"))
        && second.eq_ignore_ascii_case(b"session")
        && third.eq_ignore_ascii_case(b"authorization")
}

struct Rewrite<'s, 'o, 'g, 'a> {
    st: &'s mut State<'o>,
    seg: &'g Segment<'g>,
    a: &'a Analysis,
    edits: Vec<(Range<usize>, Vec<u8>)>,
    drop: bool,
    replace: Option<Vec<u8>>,
    /// Named roles the output statement still references: (line, final name).
    kept: Vec<(u64, String)>,
}

/// Kinds whose references sit in a comma-separated list a drop can shorten.
fn is_list_kind(k: K) -> bool {
    matches!(
        k,
        K::Grantee
            | K::ParameterGrantee
            | K::DefaultPrivilegesGrantee
            | K::Member
            | K::MembershipRole
            | K::PolicyRole
            | K::RoleDefinition
    )
}

fn is_owner_kind(k: K) -> bool {
    matches!(k, K::Owner | K::TablespaceOwner | K::SessionAuthorization)
}

impl<'g> Rewrite<'_, '_, 'g, '_> {
    fn bytes(&self) -> &'g [u8] {
        self.seg.bytes
    }

    fn line(&self, r: &RoleRef) -> u64 {
        line_at(self.seg, r.span.start)
    }

    fn note(&mut self, r: &RoleRef, action: String) {
        let role = match &r.role {
            RoleName::Named(n) => n.clone(),
            other => format!("{other:?}").to_uppercase(),
        };
        let line = self.line(r);
        self.st.tally.add(&role, r.kind.as_str(), action, line);
    }

    fn drop_statement(&mut self, r: &RoleRef, why: &str) {
        self.note(r, format!("statement dropped ({why})"));
        self.drop = true;
    }

    fn new_name_bytes(r: &RoleRef, new: &str) -> Vec<u8> {
        if r.literal {
            quote_literal(new).into_bytes()
        } else {
            quote_ident(new).into_bytes()
        }
    }

    fn widening(&self, r: &RoleRef, what: String) -> Error {
        Error::runtime(format!(
            "dropping role {:?} here would widen access: {what}",
            r.role.name().unwrap_or_default()
        ))
        .at_line(self.line(r))
        .with_hint("map the role to one that exists instead (--map OLD=NEW), or pass --force-drop")
    }

    /// The range of ` OWNER [=] r` before a role span, for owner clauses of CREATE.
    fn owner_clause(&self, span: &Range<usize>) -> Option<Range<usize>> {
        let b = self.bytes();
        let mut i = span.start;
        while i > 0 && b[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        if i > 0 && b[i - 1] == b'=' {
            i -= 1;
            while i > 0 && b[i - 1].is_ascii_whitespace() {
                i -= 1;
            }
        }
        if i < 5 || !b[i - 5..i].eq_ignore_ascii_case(b"OWNER") {
            return None;
        }
        let mut s = i - 5;
        if s == 0 || !b[s - 1].is_ascii_whitespace() {
            return None;
        }
        while s > 0 && b[s - 1].is_ascii_whitespace() {
            s -= 1;
        }
        Some(s..span.end)
    }

    /// A clause range widened to take the whitespace before it.
    fn with_leading_space(&self, r: Range<usize>) -> Range<usize> {
        let b = self.bytes();
        let mut s = r.start;
        while s > 0 && b[s - 1].is_ascii_whitespace() {
            s -= 1;
        }
        s..r.end
    }

    /// The statement replaced by `text` plus what followed its `;`.
    fn replace_statement(&mut self, text: &str) {
        let b = self.bytes();
        let tail = match memchr::memrchr(b';', b) {
            Some(i) => &b[i + 1..],
            None => &b[b.len()..],
        };
        let mut v = text.as_bytes().to_vec();
        v.extend_from_slice(tail);
        self.replace = Some(v);
    }

    fn is_acl_statement(&self) -> bool {
        let refs = &self.a.role_refs;
        if refs.iter().any(|r| {
            matches!(
                r.kind,
                K::DefaultPrivilegesFor | K::DefaultPrivilegesGrantee | K::ParameterGrantee
            )
        }) {
            return true;
        }
        matches!(self.a.action, Action::Grant | Action::Revoke)
            && !refs.iter().any(|r| r.kind == K::MembershipRole)
    }

    fn run(&mut self) -> Result<()> {
        let opts = self.st.plan.opts;
        let a = self.a;
        if opts.no_acl
            && self.is_acl_statement()
            && let Some(r) = a.role_refs.first().cloned()
        {
            self.drop_statement(&r, "--no-acl");
            return Ok(());
        }
        if opts.drop_passwords || !opts.map.is_empty() {
            self.passwords()?;
        }
        // Lists touched by drops, by kind: (index of ref, dropped?).
        let mut lists: BTreeMap<K, Vec<(usize, bool)>> = BTreeMap::new();
        for (i, r) in a.role_refs.iter().enumerate() {
            if is_list_kind(r.kind)
                && let Some(l) = &r.list
                && l.len > 1
            {
                let dropped = r
                    .role
                    .name()
                    .is_some_and(|n| matches!(self.st.plan.fate(n), Fate::Drop));
                lists.entry(r.kind).or_default().push((i, dropped));
            }
        }
        let mut handled = vec![false; a.role_refs.len()];
        for (kind, items) in &lists {
            if !items.iter().any(|(_, d)| *d) {
                continue;
            }
            let len = a.role_refs[items[0].0].list.as_ref().map_or(0, |l| l.len);
            if items.len() != len {
                return Err(Error::runtime(format!(
                    "cannot remove a role from a list of {} ({len} items, {} found)",
                    kind,
                    items.len()
                ))
                .at_line(self.seg.line));
            }
            let ndropped = items.iter().filter(|(_, d)| *d).count();
            if ndropped == len {
                continue; // every item goes: handled below as a whole-list drop
            }
            if ndropped == 1 {
                // One item goes with its comma; the others are handled one by one.
                let (i, _) = items.iter().find(|(_, d)| *d).expect("one dropped");
                handled[*i] = true;
                let r = &a.role_refs[*i];
                self.note(r, "removed from list".into());
                let rem = r.list.as_ref().expect("list").removal.clone();
                self.edits.push((rem, Vec::new()));
            } else {
                // Rebuild the list from the kept items (renamed as needed).
                let first = a.role_refs[items[0].0].span.start;
                let last = a.role_refs[items[items.len() - 1].0].span.end;
                let mut text = Vec::new();
                for (i, d) in items {
                    handled[*i] = true;
                    let r = &a.role_refs[*i];
                    if *d {
                        self.note(r, "removed from list".into());
                        continue;
                    }
                    if let Some(n) = r.role.name() {
                        let fin = self.st.plan.final_name(n).unwrap_or(n).to_string();
                        self.kept.push((self.line(r), fin));
                    }
                    if !text.is_empty() {
                        text.extend_from_slice(b", ");
                    }
                    match r.role.name().map(|n| self.st.plan.fate(n)) {
                        Some(Fate::Rename(new)) => {
                            text.extend_from_slice(&Self::new_name_bytes(r, new));
                            self.note(r, format!("renamed to {new}"));
                        }
                        _ => text.extend_from_slice(&self.bytes()[r.span.clone()]),
                    }
                }
                self.edits.push((first..last, text));
            }
        }
        for (i, r) in a.role_refs.iter().enumerate() {
            if handled[i] {
                continue;
            }
            self.one(r)?;
            if self.drop {
                return Ok(());
            }
        }
        // Merging roles: a second CREATE ROLE of the same final name goes.
        if a.action == Action::Create
            && let Some(def) = a.role_refs.iter().find(|r| r.kind == K::RoleDefinition)
            && let Some(n) = def.role.name()
            && let Some(fin) = self.st.plan.final_name(n)
        {
            let fin = fin.to_string();
            if !self.st.created.insert(fin.clone()) {
                self.edits.clear();
                self.replace = None;
                self.drop_statement(def, &format!("{fin} is already created: roles merged"));
                return Ok(());
            }
        }
        // Merging roles can make a membership of a role in itself.
        if matches!(a.action, Action::Grant | Action::Revoke) {
            let granted: Vec<_> = a
                .role_refs
                .iter()
                .filter(|r| r.kind == K::MembershipRole)
                .collect();
            let members: Vec<_> = a.role_refs.iter().filter(|r| r.kind == K::Member).collect();
            if granted.len() == 1
                && members.len() == 1
                && let (Some(g), Some(m)) = (granted[0].role.name(), members[0].role.name())
                && g != m
                && self.st.plan.final_name(g) == self.st.plan.final_name(m)
            {
                let r = granted[0].clone();
                self.edits.clear();
                self.replace = None;
                self.drop_statement(&r, "membership of a merged role in itself");
            }
        }
        Ok(())
    }

    fn one(&mut self, r: &RoleRef) -> Result<()> {
        let opts = self.st.plan.opts;
        let a = self.a;
        // --no-owner and --owner act on owner references whoever they name.
        if is_owner_kind(r.kind) && (opts.no_owner || opts.owner.is_some()) {
            if let Some(o) = &opts.owner {
                if r.role.name() != Some(o.as_str()) {
                    self.edits
                        .push((r.span.clone(), Self::new_name_bytes(r, o)));
                    self.note(r, format!("owner set to {o}"));
                }
                self.kept.push((self.line(r), o.clone()));
                return Ok(());
            }
            return self.remove_owner(r, "--no-owner");
        }
        let Some(name) = r.role.name() else {
            return Ok(());
        };
        match self.st.plan.fate(name) {
            Fate::Keep => {
                self.kept.push((self.line(r), name.to_string()));
            }
            Fate::Rename(new) => {
                self.edits
                    .push((r.span.clone(), Self::new_name_bytes(r, new)));
                self.note(r, format!("renamed to {new}"));
                self.kept.push((self.line(r), new.to_string()));
            }
            Fate::Drop => match r.kind {
                K::Owner | K::TablespaceOwner => self.remove_owner(r, "--drop")?,
                K::SessionAuthorization => self.remove_owner(r, "--drop")?,
                K::SetRole => {
                    self.note(r, "replaced by RESET ROLE".into());
                    self.replace_statement("RESET ROLE;");
                }
                K::GrantedBy => {
                    let clause = r.clause.clone().unwrap_or(r.span.clone());
                    let clause = self.with_leading_space(clause);
                    self.edits.push((clause, Vec::new()));
                    self.note(r, "GRANTED BY clause removed".into());
                }
                K::PolicyRole => {
                    if !opts.force_drop {
                        return Err(self.widening(
                            r,
                            "it is the only role of this policy; without it the policy \
                             would apply to PUBLIC, and dropping the policy changes who \
                             sees which rows"
                                .into(),
                        ));
                    }
                    self.drop_statement(r, "--drop --force-drop");
                }
                K::Grantee if a.action == Action::Revoke => {
                    let owner_dropped = self.st.toc_type == b"ACL"
                        && self.st.toc_owner.as_deref() == Some(name.as_bytes());
                    if owner_dropped && !opts.force_drop {
                        return Err(self.widening(
                            r,
                            "this REVOKE takes privileges from the object's owner; without \
                             it whoever restores (and then owns the object) keeps them"
                                .into(),
                        ));
                    }
                    self.drop_statement(r, "--drop");
                }
                K::ReassignOwnedTo => {
                    return Err(Error::runtime(format!(
                        "REASSIGN OWNED … TO {name:?} cannot be kept without the role"
                    ))
                    .at_line(self.line(r))
                    .with_hint("map the role instead of dropping it"));
                }
                _ => self.drop_statement(r, "--drop"),
            },
        }
        Ok(())
    }

    /// Remove an owner reference: `ALTER … OWNER TO` goes, `CREATE … OWNER r`
    /// loses the clause, session authorization is reset.
    fn remove_owner(&mut self, r: &RoleRef, why: &str) -> Result<()> {
        match r.kind {
            K::SessionAuthorization => {
                if self.st.plan.opts.no_owner {
                    self.drop_statement(r, why);
                } else {
                    self.note(r, "replaced by RESET SESSION AUTHORIZATION".into());
                    self.replace_statement("RESET SESSION AUTHORIZATION;");
                }
            }
            K::Owner if self.a.action != Action::Create => self.drop_statement(r, why),
            _ => match self.owner_clause(&r.span) {
                Some(clause) => {
                    self.edits.push((clause, Vec::new()));
                    self.note(r, format!("owner clause removed ({why})"));
                }
                None => {
                    return Err(Error::runtime(format!(
                        "cannot find the OWNER clause naming {:?}",
                        r.role.name().unwrap_or_default()
                    ))
                    .at_line(self.line(r)));
                }
            },
        }
        Ok(())
    }

    /// `PASSWORD` clauses: removed with `--drop-passwords`; an md5 hash of a
    /// renamed role is warned about.
    fn passwords(&mut self) -> Result<()> {
        let Some(def) = self
            .a
            .role_refs
            .iter()
            .find(|r| r.kind == K::RoleDefinition)
            .cloned()
        else {
            return Ok(());
        };
        if !matches!(self.a.action, Action::Create | Action::Alter) {
            return Ok(());
        }
        let b = self.bytes();
        if memchr::memmem::find(&b.to_ascii_lowercase(), b"password").is_none() {
            return Ok(());
        }
        let Ok(text) = std::str::from_utf8(b) else {
            return Err(Error::runtime(
                "a role statement with a password is not UTF-8; cannot edit it exactly",
            )
            .at_line(self.seg.line));
        };
        let toks = pg_query::scan_tokens(text).map_err(|e| {
            Error::runtime(format!("cannot scan statement: {e}")).at_line(self.seg.line)
        })?;
        let toks: Vec<_> = toks
            .into_iter()
            .filter(|t| t.token != Token::SqlComment as i32 && t.token != Token::CComment as i32)
            .collect();
        for (i, t) in toks.iter().enumerate() {
            if t.token != Token::Password as i32 {
                continue;
            }
            let Some(v) = toks.get(i + 1) else { continue };
            if v.token != Token::Sconst as i32 && v.token != Token::NullP as i32 {
                continue;
            }
            let mut start = t.start as usize;
            if i > 0
                && (toks[i - 1].token == Token::Encrypted as i32
                    || toks[i - 1].token == Token::Unencrypted as i32)
            {
                start = toks[i - 1].start as usize;
            }
            let value = &text[v.start as usize..v.end as usize];
            let name = def.role.name().unwrap_or_default().to_string();
            if self.st.plan.opts.drop_passwords {
                let clause = self.with_leading_space(start..v.end as usize);
                self.edits.push((clause, Vec::new()));
                self.note(&def, "password removed".into());
            } else if value.starts_with("'md5")
                && matches!(self.st.plan.fate(&name), Fate::Rename(_))
                && self.st.md5_warned.insert(name.clone())
            {
                let new = self.st.plan.map[name.as_str()];
                self.st.report.warnings.push(format!(
                    "line {}: role {name:?} is renamed to {new:?} but its password is an md5 \
                     hash salted with the old name, so it will not match: use --drop-passwords \
                     or reset the password after restoring",
                    line_at(self.seg, start)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], opts: &Options) -> Result<(Vec<u8>, Report)> {
        let mut out = Vec::new();
        let rep = rewrite(input, Some(&mut out), opts, &Progress::default())?;
        Ok((out, rep))
    }

    fn map(pairs: &[(&str, &str)]) -> Options {
        Options {
            map: pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..Options::default()
        }
    }

    #[test]
    fn renames_with_pg_dump_quoting() {
        let input = b"ALTER TABLE public.t OWNER TO \"3f9a2c71\";\nGRANT SELECT ON TABLE public.t TO alice, \"3f9a2c71\";\nCOPY public.t (a) FROM stdin;\nALTER TABLE x OWNER TO \"3f9a2c71\";\n\\.\n";
        let (out, _) = run(input, &map(&[("3f9a2c71", "synapse"), ("alice", "Select")])).unwrap();
        assert_eq!(
            out,
            b"ALTER TABLE public.t OWNER TO synapse;\nGRANT SELECT ON TABLE public.t TO \"Select\", synapse;\nCOPY public.t (a) FROM stdin;\nALTER TABLE x OWNER TO \"3f9a2c71\";\n\\.\n"
        );
    }

    #[test]
    fn injection_is_quoted() {
        let (out, _) = run(
            b"ALTER SCHEMA s OWNER TO a;\n",
            &map(&[("a", "x; DROP TABLE t")]),
        )
        .unwrap();
        assert_eq!(out, b"ALTER SCHEMA s OWNER TO \"x; DROP TABLE t\";\n");
    }

    #[test]
    fn bad_mappings_are_usage_errors() {
        for m in [
            "=x",
            "x=",
            "a=public",
            "a=PUBLIC",
            "a=pg_monitor",
            "a=none",
            "noequals",
        ] {
            let e = parse_mapping(m).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{m}");
        }
        let long = "a".repeat(64);
        assert_eq!(
            parse_mapping(&format!("x={long}")).unwrap_err().exit_code(),
            2
        );
        assert!(parse_mapping(&format!("x={}", "a".repeat(63))).is_ok());
        let e = map(&[("a", "b"), ("a", "c")]).check().unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn drop_removes_one_grantee_and_granted_by() {
        let opts = Options {
            drop: vec!["rdsadmin".into()],
            ..Options::default()
        };
        let input = b"GRANT ALL ON TABLE t TO alice, rdsadmin, bob;\nGRANT ALL ON TABLE t TO rdsadmin;\nGRANT readers TO alice GRANTED BY rdsadmin;\nALTER TABLE t OWNER TO rdsadmin;\n";
        let (out, _) = run(input, &opts).unwrap();
        assert_eq!(
            out,
            b"GRANT ALL ON TABLE t TO alice, bob;\nGRANT readers TO alice;\n"
        );
    }

    #[test]
    fn drop_two_of_three_rebuilds_the_list() {
        let opts = Options {
            drop: vec!["a".into(), "b".into()],
            map: vec![("c".into(), "Z".into())],
            ..Options::default()
        };
        let (out, _) = run(b"GRANT SELECT ON TABLE t TO a, c, b;\n", &opts).unwrap();
        assert_eq!(out, b"GRANT SELECT ON TABLE t TO \"Z\";\n");
    }

    #[test]
    fn policy_widening_errors() {
        let opts = Options {
            drop: vec!["a".into()],
            ..Options::default()
        };
        let input = b"SELECT 1;\nCREATE POLICY p ON public.t TO a USING (true);\n";
        let e = run(input, &opts).unwrap_err();
        assert_eq!(e.line, Some(2));
        let opts = Options {
            force_drop: true,
            ..opts
        };
        let (out, _) = run(input, &opts).unwrap();
        assert_eq!(out, b"SELECT 1;\n");
    }

    #[test]
    fn truncated_input_is_integrity_error() {
        let e = run(
            b"ALTER TABLE t OWNER TO a;\nCREATE TABLE x (",
            &map(&[("a", "b")]),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn session_authorization_literal() {
        let (out, _) = run(
            b"SET SESSION AUTHORIZATION 'Bob Smith';\n",
            &map(&[("Bob Smith", "bob's")]),
        )
        .unwrap();
        assert_eq!(out, b"SET SESSION AUTHORIZATION 'bob''s';\n");
    }

    #[test]
    fn headers_get_new_owner() {
        let (out, rep) = run(
            b"-- Name: t; Type: TABLE; Schema: public; Owner: Bob Smith\n-- Name: USER MAPPING Bob Smith SERVER s1; Type: USER MAPPING; Schema: -; Owner: -\n",
            &map(&[("Bob Smith", "bob")]),
        )
        .unwrap();
        assert_eq!(
            out,
            b"-- Name: t; Type: TABLE; Schema: public; Owner: bob\n-- Name: USER MAPPING bob SERVER s1; Type: USER MAPPING; Schema: -; Owner: -\n"
        );
        assert_eq!(rep.headers_rewritten, 2);
    }
}
