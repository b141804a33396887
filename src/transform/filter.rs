//! `pgpipe-filter`: choose what a plain dump restores, and make it restore
//! where it is going.
//!
//! One pass over the segments of the reader. Each statement is kept whole,
//! removed whole, or (for the restore helpers) replaced by a statement that
//! says so in the report; every kept byte is unchanged. What a statement
//! belongs to is decided by the statement analysis (PostgreSQL's parser),
//! never by the `-- Name:` comments; the comment block in front of a removed
//! statement goes with it.
//!
//! Memory stays bounded: COPY data streams through; the only buffers are the
//! comment lines in front of the next statement, one sequence's statements
//! until its `OWNED BY` says which table it belongs to, the opening lines of
//! a pg_dumpall database section until its name is known, and, with
//! `--clean`, the definitions between the first `CREATE` and the first data
//! (capped by [`CLEAN_BUFFER_LIMIT`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Write};

use pg_query::NodeEnum as N;
use pg_query::protobuf as pb;
use serde::Serialize;

use crate::cli::{Error, Progress, Result};
use crate::dump::reader::count_newlines;
use crate::dump::words::{first_words, qualified_name};
use crate::dump::{Kind, Reader, Segment, header};
use crate::sql::analysis::{
    self, Action, Analysis, AnalyzeOptions, ObjectKind, ObjectRef, RoleName, RoleRefKind,
};
use crate::sql::encoding;
use crate::transform::pattern::Pattern;

/// With `--clean`, definitions held before their drops are emitted; past this
/// size the drops known so far are emitted and holding starts again.
pub const CLEAN_BUFFER_LIMIT: usize = 64 << 20;

/// Everything `pgpipe-filter` can be asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub tables: Vec<Pattern>,
    pub exclude_tables: Vec<Pattern>,
    pub schemas: Vec<Pattern>,
    pub exclude_schemas: Vec<Pattern>,
    pub exclude_table_data: Vec<Pattern>,
    pub schema_only: bool,
    pub data_only: bool,
    pub no_comments: bool,
    pub no_extension_comments: bool,
    pub no_extensions: bool,
    pub no_publications: bool,
    pub no_subscriptions: bool,
    pub no_security_labels: bool,
    pub no_tablespaces: bool,
    pub databases: Vec<String>,
    pub exclude_databases: Vec<Pattern>,
    pub globals_only: bool,
    pub no_globals: bool,
    pub roles_if_not_exists: bool,
    pub skip_roles: Vec<String>,
    pub drop_grantor_if_missing: bool,
    pub clean: bool,
    pub target_version: Option<u32>,
    pub strip_restrict: bool,
    pub strict: bool,
    pub max_statement: usize,
}

impl Options {
    /// Contradictions and out-of-range values are usage errors.
    pub fn check(&self) -> Result<()> {
        if self.schema_only && self.data_only {
            return Err(Error::usage(
                "--schema-only and --data-only cannot be used together",
            ));
        }
        if self.globals_only && self.no_globals {
            return Err(Error::usage(
                "--globals-only and --no-globals cannot be used together",
            ));
        }
        if self.globals_only && !self.databases.is_empty() {
            return Err(Error::usage(
                "--globals-only and --database cannot be used together",
            ));
        }
        if let Some(v) = self.target_version
            && !(10..=99).contains(&v)
        {
            return Err(Error::usage(format!(
                "--target-version {v}: give a major version, 10 or later (e.g. 15)"
            )));
        }
        for r in &self.skip_roles {
            crate::transform::roles::check_name(r, "--skip-role", false)?;
        }
        for d in &self.databases {
            if d.is_empty() {
                return Err(Error::usage("--database needs a name"));
            }
        }
        Ok(())
    }

    /// Whether statements must be analysed to know what they belong to.
    fn needs_objects(&self) -> bool {
        !self.tables.is_empty()
            || !self.exclude_tables.is_empty()
            || !self.schemas.is_empty()
            || !self.exclude_schemas.is_empty()
            || !self.exclude_table_data.is_empty()
            || self.schema_only
            || self.data_only
            || self.no_comments
            || self.no_extension_comments
            || self.no_extensions
            || self.no_publications
            || self.no_subscriptions
            || self.no_security_labels
            || self.no_tablespaces
            || self.clean
    }

    fn needs_roles(&self) -> bool {
        self.roles_if_not_exists || !self.skip_roles.is_empty() || self.drop_grantor_if_missing
    }

    fn dumpall_only(&self) -> bool {
        !self.databases.is_empty()
            || !self.exclude_databases.is_empty()
            || self.globals_only
            || self.no_globals
    }
}

/// What was removed and why.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub statements_removed: u64,
    pub statements_replaced: u64,
    pub copy_blocks_removed: u64,
    pub copy_rows_removed: u64,
    /// Removals by reason, with a count and the first line.
    pub removed: BTreeMap<String, Removal>,
    /// Drops emitted by `--clean`.
    pub drops_emitted: u64,
    /// pg_dumpall databases in input order, and whether each was kept.
    pub databases: Vec<DatabaseEntry>,
    /// Patterns that matched nothing.
    pub unmatched_patterns: Vec<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Removal {
    pub count: u64,
    pub first_line: u64,
}

#[derive(Debug, Serialize)]
pub struct DatabaseEntry {
    pub name: String,
    pub kept: bool,
}

impl Report {
    /// The report as text, one line per reason.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "pgpipe-filter: {} bytes in, {} bytes out; {} statements removed, {} replaced; \
             {} COPY blocks ({} rows) removed; {} drops emitted\n",
            self.bytes_in,
            self.bytes_out,
            self.statements_removed,
            self.statements_replaced,
            self.copy_blocks_removed,
            self.copy_rows_removed,
            self.drops_emitted
        ));
        for (reason, r) in &self.removed {
            s.push_str(&format!(
                "  {:>8}  {reason} (first at line {})\n",
                r.count, r.first_line
            ));
        }
        for d in &self.databases {
            s.push_str(&format!(
                "  database {:?}: {}\n",
                d.name,
                if d.kept { "kept" } else { "removed" }
            ));
        }
        for p in &self.unmatched_patterns {
            s.push_str(&format!("  pattern {p:?} matched nothing\n"));
        }
        s
    }

    fn count(&mut self, reason: impl Into<String>, line: u64) {
        let e = self.removed.entry(reason.into()).or_default();
        if e.count == 0 {
            e.first_line = line;
        }
        e.count += 1;
    }
}

/// A relation name as (schema, name); the schema is empty when unqualified.
type Rel = (String, String);

fn rel(schema: Option<&str>, name: &str) -> Rel {
    (schema.unwrap_or("").to_string(), name.to_string())
}

fn rel_text(r: &Rel) -> String {
    if r.0.is_empty() {
        r.1.clone()
    } else {
        format!("{}.{}", r.0, r.1)
    }
}

/// Where the segments of a pg_dumpall dump are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Section {
    /// Roles, tablespaces: before the first database.
    Globals,
    /// A database section whose name is not known yet (held).
    Undecided,
    Database {
        keep: bool,
    },
    /// After `-- PostgreSQL database cluster dump complete`.
    Trailer,
}

/// A sequence whose `OWNED BY` may still come.
struct SeqHold {
    seq: Rel,
    keep: bool,
    /// Not selected by -t, but kept when its owning table is.
    rescuable: bool,
    bytes: Vec<u8>,
    statements: u64,
    line: u64,
}

/// What one statement becomes.
enum Fate {
    Keep,
    Drop(String),
    Replace(Vec<u8>, &'static str),
}

/// What a statement is, from a cheap look or from the analysis.
enum Class {
    /// SET, set_config, BEGIN/COMMIT and other session statements.
    Session,
    /// INSERT rows of a table.
    Rows(Rel),
    /// `setval` of a sequence.
    SeqValue(Rel),
    /// `pg_restore_relation_stats` / `pg_restore_attribute_stats`.
    Stats(Rel),
    /// `lo_open`, `lowrite`, `lo_close`: large-object data.
    LoData,
    /// `lo_create(oid)`: a large object.
    LoCreate(String),
    /// Anything the analysis looked at.
    Analysed(Box<Analysis>),
    /// Not looked at (no option needs it).
    Plain,
}

struct Filter<'o, 'w> {
    opts: &'o Options,
    out: &'w mut dyn Write,
    report: Report,
    needs_objects: bool,
    needs_roles: bool,
    /// Comment and blank lines (and `\unrestrict`) waiting for the next
    /// statement; `pending_header` is where the last TOC comment block in
    /// it begins.
    pending: Vec<u8>,
    pending_header: Option<usize>,
    pending_last_line: usize,
    dumpall: bool,
    kind_known: bool,
    section: Section,
    section_buf: Vec<u8>,
    section_name: Option<String>,
    // Per database.
    excluded: HashSet<Rel>,
    owned_seq: HashMap<Rel, Rel>,
    index_table: HashMap<Rel, Rel>,
    seq_hold: Option<SeqHold>,
    copy_keep: bool,
    copy_reason: String,
    // --clean
    clean_buffering: bool,
    clean_buf: Vec<u8>,
    /// The drops, in the dump's client encoding.
    clean_drops: Vec<Vec<u8>>,
    clean_seen: HashSet<Vec<u8>>,
    // What removing a table takes with it, as `DROP TABLE … CASCADE` would:
    // the tables that inherit from it or are attached as its partitions,
    // and the views that read it (per database).
    children: HashMap<Rel, Vec<Rel>>,
    readers: HashMap<Rel, Vec<Rel>>,
    // The statement that replaces a removed one, when removing it is not
    // enough (a partition created before its parent's removal was known).
    replacement: Option<Vec<u8>>,
    // Access methods whose CREATE was removed: a later
    // `SET default_table_access_method` to one would fail.
    removed_access_methods: HashSet<String>,
    // A `BEGIN;` (with its comment block) held until something it wraps is
    // kept: pg_dump wraps large-object data in BEGIN/COMMIT, and a filter
    // that removes that data must not leave an empty transaction behind.
    held_begin: Option<Vec<u8>>,
    // Roles the dump creates.
    created_roles: HashSet<String>,
    // Pattern hits, for --strict.
    hits: HashMap<String, bool>,
}

/// Filter `input` into `out` as `opts` say.
///
/// Errors: truncated input is an integrity error (exit 3) and the cut-off
/// tail is not written; databases missing from a pg_dumpall dump, and with
/// `strict` patterns that match nothing, are runtime errors (exit 1) raised
/// before the dump's final lines are written.
pub fn filter<R: Read>(
    input: R,
    out: &mut dyn Write,
    opts: &Options,
    progress: &Progress,
) -> Result<Report> {
    opts.check()?;
    let limit = if opts.max_statement == 0 {
        crate::dump::DEFAULT_STATEMENT_LIMIT
    } else {
        opts.max_statement
    };
    let mut reader = Reader::with_limit(input, limit);
    let mut hits = HashMap::new();
    for p in opts
        .tables
        .iter()
        .chain(&opts.exclude_tables)
        .chain(&opts.schemas)
        .chain(&opts.exclude_schemas)
        .chain(&opts.exclude_table_data)
        .chain(&opts.exclude_databases)
    {
        hits.insert(p.text.clone(), false);
    }
    let mut f = Filter {
        opts,
        out,
        report: Report::default(),
        needs_objects: opts.needs_objects(),
        needs_roles: opts.needs_roles(),
        pending: Vec::new(),
        pending_header: None,
        pending_last_line: 0,
        dumpall: false,
        kind_known: false,
        section: Section::Globals,
        section_buf: Vec::new(),
        section_name: None,
        excluded: HashSet::new(),
        owned_seq: HashMap::new(),
        index_table: HashMap::new(),
        seq_hold: None,
        copy_keep: true,
        copy_reason: String::new(),
        clean_buffering: false,
        clean_buf: Vec::new(),
        clean_drops: Vec::new(),
        clean_seen: HashSet::new(),
        children: HashMap::new(),
        readers: HashMap::new(),
        removed_access_methods: HashSet::new(),
        replacement: None,
        held_begin: None,
        created_roles: HashSet::new(),
        hits,
    };
    if opts.strip_restrict {
        f.report.warnings.push(
            "--strip-restrict: the output has no \\restrict protection; restore it only with a \
             trusted psql from a trusted source"
                .to_string(),
        );
    }
    let mut cut_at = None;
    while let Some(seg) = reader.next_segment()? {
        f.report.bytes_in += seg.bytes.len() as u64;
        if seg.kind == Kind::Incomplete {
            cut_at = Some(seg.line);
            break;
        }
        if seg.kind == Kind::Comment
            && progress.is_enabled()
            && let Some(h) = header::parse(seg.bytes)
        {
            progress.set_message(h.name);
        }
        f.segment(&seg)?;
    }
    if let Some(line) = cut_at {
        return Err(crate::transform::roles::incomplete(&reader, line));
    }
    f.finish()?;
    Ok(f.report)
}

impl Filter<'_, '_> {
    // -- output layers ------------------------------------------------------

    /// Bytes that are part of the output at this point of the input.
    fn emit(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        match self.section {
            Section::Undecided => {
                self.section_buf.extend_from_slice(bytes);
                Ok(())
            }
            Section::Database { keep: false } => Ok(()),
            _ => self.emit_kept(bytes),
        }
    }

    fn emit_kept(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(h) = &mut self.seq_hold {
            h.bytes.extend_from_slice(bytes);
            return Ok(());
        }
        if self.clean_buffering {
            self.clean_buf.extend_from_slice(bytes);
            if self.clean_buf.len() > CLEAN_BUFFER_LIMIT {
                self.clean_flush()?;
            }
            return Ok(());
        }
        self.write_out(bytes)
    }

    fn write_out(&mut self, bytes: &[u8]) -> Result<()> {
        self.report.bytes_out += bytes.len() as u64;
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io("write error", e))
    }

    fn flush_pending(&mut self) -> Result<()> {
        if let Some(b) = self.held_begin.take() {
            self.emit(&b)?;
        }
        let p = std::mem::take(&mut self.pending);
        self.pending_header = None;
        self.pending_last_line = 0;
        let r = self.emit(&p);
        self.pending = p;
        self.pending.clear();
        r
    }

    /// The pending lines in front of a removed statement: the TOC comment
    /// block goes with it, lines before it stay.
    fn drop_pending(&mut self) -> Result<()> {
        let keep = self.pending_header.unwrap_or(self.pending.len());
        let p = std::mem::take(&mut self.pending);
        self.pending_header = None;
        self.pending_last_line = 0;
        let r = self.emit(&p[..keep]);
        self.pending = p;
        self.pending.clear();
        r
    }

    fn clean_flush(&mut self) -> Result<()> {
        self.clean_buffering = false;
        let drops = std::mem::take(&mut self.clean_drops);
        if !drops.is_empty() {
            let mut text =
                b"\n-- pgpipe-filter --clean: drop what this dump creates, in reverse order\n"
                    .to_vec();
            for d in drops.iter().rev() {
                text.extend_from_slice(d);
                text.push(b'\n');
            }
            text.push(b'\n');
            self.report.drops_emitted += drops.len() as u64;
            self.write_out(&text)?;
        }
        let buf = std::mem::take(&mut self.clean_buf);
        self.write_out(&buf)
    }

    fn resolve_seq_hold(&mut self, keep_override: Option<bool>) -> Result<()> {
        let Some(h) = self.seq_hold.take() else {
            return Ok(());
        };
        let keep = keep_override.unwrap_or(h.keep);
        if keep {
            self.emit_kept(&h.bytes)?;
        } else {
            self.report.statements_removed += h.statements;
            for _ in 0..h.statements {
                self.report
                    .count("sequence of an excluded table or not selected", h.line);
            }
        }
        Ok(())
    }

    // -- segments -----------------------------------------------------------

    fn segment(&mut self, seg: &Segment<'_>) -> Result<()> {
        match seg.kind {
            Kind::Comment => self.comment(seg),
            Kind::Blank => {
                self.pending.extend_from_slice(seg.bytes);
                Ok(())
            }
            Kind::Meta => self.meta(seg),
            Kind::Statement => self.statement(seg),
            Kind::CopyStatement => self.copy_statement(seg),
            Kind::CopyData | Kind::CopyPart | Kind::CopyEnd => {
                if self.copy_keep {
                    self.emit(seg.bytes)
                } else {
                    if seg.kind == Kind::CopyData {
                        self.report.copy_rows_removed += count_newlines(seg.bytes);
                    }
                    Ok(())
                }
            }
            Kind::Incomplete => Ok(()),
        }
    }

    fn comment(&mut self, seg: &Segment<'_>) -> Result<()> {
        let line = seg.bytes;
        if !self.kind_known && line.trim_ascii_end() == b"-- PostgreSQL database cluster dump" {
            self.dumpall = true;
            self.kind_known = true;
        }
        if self.dumpall {
            let text = line.trim_ascii_end();
            if let Some(rest) = text.strip_prefix(b"-- Database \"")
                && rest.ends_with(b"\" dump")
            {
                return self.start_section(seg, Section::Undecided);
            }
            if text == b"-- PostgreSQL database cluster dump complete" {
                return self.start_section(seg, Section::Trailer);
            }
        }
        let start = self.pending.len();
        self.pending.extend_from_slice(line);
        if header::parse(line).is_some() {
            // The block opens with the `--` line before this one.
            self.pending_header = Some(self.pending_last_line.min(start));
        }
        self.pending_last_line = start;
        Ok(())
    }

    /// A pg_dumpall section boundary: the `--` line before `seg` opens it.
    fn start_section(&mut self, seg: &Segment<'_>, next: Section) -> Result<()> {
        let split = self.pending_last_line.min(self.pending.len());
        let tail = self.pending.split_off(split);
        self.flush_pending()?;
        self.end_section()?;
        if next == Section::Undecided {
            self.section_name = None;
            self.section_buf.clear();
        }
        self.section = next;
        self.pending = tail;
        self.pending_header = None;
        self.pending_last_line = self.pending.len();
        self.pending.extend_from_slice(seg.bytes);
        Ok(())
    }

    /// Close the current section: held statements go out, state resets.
    fn end_section(&mut self) -> Result<()> {
        self.resolve_seq_hold(None)?;
        if self.clean_buffering {
            self.clean_flush()?;
        }
        if self.section == Section::Undecided {
            // A section whose name never showed: keep it only when no
            // database selection is in force.
            let keep = self.opts.databases.is_empty()
                && self.opts.exclude_databases.is_empty()
                && !self.opts.globals_only;
            self.decide_section(keep, None)?;
        }
        self.excluded.clear();
        self.owned_seq.clear();
        self.index_table.clear();
        self.children.clear();
        self.readers.clear();
        self.copy_keep = true;
        Ok(())
    }

    fn decide_section(&mut self, keep: bool, name: Option<String>) -> Result<()> {
        if let Some(n) = name {
            self.report.databases.push(DatabaseEntry {
                name: n.clone(),
                kept: keep,
            });
            self.section_name = Some(n);
        }
        self.section = Section::Database { keep };
        let buf = std::mem::take(&mut self.section_buf);
        self.emit(&buf)
    }

    fn database_wanted(&mut self, name: &str) -> bool {
        let o = self.opts;
        if o.globals_only {
            return false;
        }
        if !o.databases.is_empty() && !o.databases.iter().any(|d| d == name) {
            return false;
        }
        let mut excluded = false;
        for p in &o.exclude_databases {
            if p.matches_name(name) {
                self.hits.insert(p.text.clone(), true);
                excluded = true;
            }
        }
        !excluded
    }

    /// The database a section is about, once a statement or `\connect`
    /// names it.
    fn name_section(&mut self, name: String) -> Result<()> {
        let keep = self.database_wanted(&name);
        self.decide_section(keep, Some(name))
    }

    fn meta(&mut self, seg: &Segment<'_>) -> Result<()> {
        let name = crate::dump::meta::parse(seg.bytes).name;
        if self.opts.strip_restrict && (name == b"restrict" || name == b"unrestrict") {
            self.report.count("--strip-restrict", seg.line);
            return Ok(());
        }
        if name == b"unrestrict" {
            // Part of the ending: held with the comments around it.
            self.pending_last_line = self.pending.len();
            self.pending.extend_from_slice(seg.bytes);
            return Ok(());
        }
        if name == b"connect" || name == b"c" {
            if self.section == Section::Undecided
                && let Some(db) = connect_target(seg.bytes)
            {
                self.name_section(db)?;
            }
            self.resolve_seq_hold(None)?;
            if self.clean_buffering {
                self.flush_pending()?;
                self.clean_flush()?;
            }
        }
        self.flush_pending()?;
        self.emit(seg.bytes)
    }

    fn copy_statement(&mut self, seg: &Segment<'_>) -> Result<()> {
        self.resolve_seq_hold(None)?;
        let target = crate::dump::words::copy_target(seg.bytes);
        let mut reason = None;
        if self.in_globals_dropped() {
            reason = Some("--no-globals".to_string());
        } else if let Some((s, n)) = &target {
            let r = rel(s.as_deref(), n);
            reason = self.data_fate(&r);
        }
        match reason {
            None => {
                self.copy_keep = true;
                if self.clean_buffering {
                    self.flush_pending()?;
                    self.clean_flush()?;
                }
                self.flush_pending()?;
                self.emit(seg.bytes)
            }
            Some(why) => {
                self.copy_keep = false;
                self.report.copy_blocks_removed += 1;
                self.report.statements_removed += 1;
                self.report.count(format!("COPY: {why}"), seg.line);
                self.copy_reason = why;
                self.drop_pending()
            }
        }
    }

    fn in_globals_dropped(&self) -> bool {
        self.dumpall && self.section == Section::Globals && self.opts.no_globals
    }

    // -- decisions ----------------------------------------------------------

    fn mark(&mut self, p: &Pattern) {
        if let Some(h) = self.hits.get_mut(&p.text) {
            *h = true;
        }
    }

    fn schema_selected(&mut self, schema: &str) -> bool {
        let o = self.opts;
        for p in &o.exclude_schemas {
            if p.matches_name(schema) {
                self.mark(p);
                return false;
            }
        }
        if o.schemas.is_empty() {
            return true;
        }
        let mut any = false;
        for p in &o.schemas {
            if p.matches_name(schema) {
                self.mark(p);
                any = true;
            }
        }
        any
    }

    /// Whether a relation (table, view, sequence…) is in the output, and
    /// if not, why.
    fn rel_fate(&mut self, r: &Rel) -> Option<String> {
        if let Some(owner) = self.owned_seq.get(r).cloned()
            && owner != *r
        {
            return self
                .rel_fate(&owner)
                .map(|why| format!("owned by {}: {why}", rel_text(&owner)));
        }
        if self.excluded.contains(r) {
            return Some(format!("{} was removed", rel_text(r)));
        }
        if !self.schema_selected(&r.0) {
            return Some("schema not selected (-n/-N)".to_string());
        }
        let o = self.opts;
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        for p in &o.exclude_tables {
            if p.matches(schema, &r.1) {
                self.mark(p);
                return Some("table excluded (-T)".to_string());
            }
        }
        if o.tables.is_empty() {
            return None;
        }
        let mut any = false;
        for p in &o.tables {
            if p.matches(schema, &r.1) {
                self.mark(p);
                any = true;
            }
        }
        if any {
            None
        } else {
            Some("table not selected (-t)".to_string())
        }
    }

    /// Whether a table's rows are in the output, and if not, why.
    fn data_fate(&mut self, r: &Rel) -> Option<String> {
        if self.opts.schema_only {
            return Some("--schema-only".to_string());
        }
        if let Some(why) = self.rel_fate(r) {
            return Some(why);
        }
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        let o = self.opts;
        for p in &o.exclude_table_data {
            if p.matches(schema, &r.1) {
                self.mark(p);
                return Some("table data excluded (--exclude-table-data)".to_string());
            }
        }
        None
    }

    /// Objects in a schema that are not relations (functions, types…).
    fn schema_object_fate(&mut self, schema: Option<&str>) -> Option<String> {
        if !self.opts.tables.is_empty() {
            return Some("only tables are selected (-t)".to_string());
        }
        if !self.schema_selected(schema.unwrap_or("")) {
            return Some("schema not selected (-n/-N)".to_string());
        }
        None
    }

    /// Objects outside any schema (extensions, casts, publications…).
    fn global_object_fate(&self) -> Option<String> {
        if !self.opts.tables.is_empty() {
            return Some("only tables are selected (-t)".to_string());
        }
        if !self.opts.schemas.is_empty() {
            return Some("only schemas are selected (-n)".to_string());
        }
        None
    }

    // -- statements ---------------------------------------------------------

    fn statement(&mut self, seg: &Segment<'_>) -> Result<()> {
        let stmt = seg.bytes;
        if !self.kind_known {
            self.kind_known = true;
            if self.opts.dumpall_only() && !self.dumpall {
                return Err(Error::runtime(
                    "--database, --exclude-database, --globals-only and --no-globals need \
                     pg_dumpall output, and this is not",
                )
                .at_line(seg.line)
                .with_hint("a pg_dump dump holds one database: drop those options"));
            }
        }
        if self.section == Section::Undecided
            && let Some(db) = create_database_name(stmt, seg.encoding)
        {
            self.name_section(db)?;
        }
        if matches!(self.section, Section::Database { keep: false }) {
            // Nothing of a removed database is written.
            self.pending.clear();
            self.pending_header = None;
            self.pending_last_line = 0;
            return Ok(());
        }
        let class = self.classify(seg)?;
        let fate = if self.in_globals_dropped() && !matches!(class, Class::Session) {
            Fate::Drop("--no-globals".to_string())
        } else {
            self.fate(seg, &class)?
        };
        // Sequence hold: statements about the held sequence join it.
        if let Some(h) = &self.seq_hold {
            let about = match &class {
                // `ALTER TABLE seq OWNER TO` (pg_dump 15) names it as a table.
                Class::Analysed(a) => a.object.as_ref().and_then(|o| match o.kind {
                    ObjectKind::Sequence => {
                        Some((rel(o.schema.as_deref(), &o.name), o.table.clone()))
                    }
                    ObjectKind::Table => Some((rel(o.schema.as_deref(), &o.name), None)),
                    _ => None,
                }),
                _ => None,
            };
            match about {
                Some((r, owner)) if r == h.seq => {
                    if let Some((ts, tn)) = owner {
                        let t = rel(ts.as_deref(), &tn);
                        self.owned_seq.insert(r.clone(), t.clone());
                        let owner_kept = self.rel_fate(&t).is_none();
                        let keep = self
                            .seq_hold
                            .as_ref()
                            .is_some_and(|h| owner_kept && (h.keep || h.rescuable));
                        self.flush_pending()?;
                        self.emit(stmt)?;
                        if let Some(h) = &mut self.seq_hold {
                            h.statements += 1;
                        }
                        return self.resolve_seq_hold(Some(keep));
                    }
                    self.flush_pending()?;
                    self.emit(stmt)?;
                    if let Some(h) = &mut self.seq_hold {
                        h.statements += 1;
                    }
                    return Ok(());
                }
                _ => self.resolve_seq_hold(None)?,
            }
        }
        // A new sequence: hold it until its OWNED BY (or anything else).
        if let Class::Analysed(a) = &class
            && a.action == Action::Create
            && let Some(o) = &a.object
            && o.kind == ObjectKind::Sequence
            && !matches!(
                self.section,
                Section::Database { keep: false } | Section::Undecided
            )
            && self.needs_objects
        {
            let keep = matches!(fate, Fate::Keep | Fate::Replace(..));
            let rescuable = matches!(&fate, Fate::Drop(why) if why == "table not selected (-t)");
            self.start_clean_if_create(seg, &class, &fate)?;
            let split = self.pending_header.unwrap_or(self.pending.len());
            let head = self.pending.split_off(split);
            self.flush_pending()?;
            let mut bytes = head;
            bytes.extend_from_slice(stmt);
            self.seq_hold = Some(SeqHold {
                seq: rel(o.schema.as_deref(), &o.name),
                keep,
                rescuable,
                bytes,
                statements: 1,
                line: seg.line,
            });
            return Ok(());
        }
        match fate {
            Fate::Keep
                if matches!(class, Class::Session)
                    && self.needs_objects
                    && first_words(stmt, 2).len() == 1 =>
            {
                let word = first_words(stmt, 1)[0];
                if word.eq_ignore_ascii_case(b"begin") && self.held_begin.is_none() {
                    // The lines before the block's header stay where they are.
                    let split = self.pending_header.unwrap_or(self.pending.len());
                    let mut held = self.pending.split_off(split);
                    self.flush_pending()?;
                    held.extend_from_slice(stmt);
                    self.held_begin = Some(held);
                    return Ok(());
                }
                if word.eq_ignore_ascii_case(b"commit")
                    && let Some(begin) = self.held_begin.take()
                {
                    self.report.statements_removed += 2;
                    let line = seg.line - count_newlines(&begin);
                    self.report
                        .count("BEGIN/COMMIT around removed statements only", line);
                    return self.drop_pending();
                }
                self.flush_pending()?;
                self.emit(stmt)
            }
            Fate::Keep => {
                self.start_clean_if_create(seg, &class, &fate)?;
                if self.is_data(&class) && self.clean_buffering {
                    self.flush_pending()?;
                    self.clean_flush()?;
                }
                self.flush_pending()?;
                self.emit(stmt)
            }
            Fate::Replace(bytes, why) => {
                self.start_clean_if_create(seg, &class, &Fate::Keep)?;
                self.report.statements_replaced += 1;
                self.report.count(format!("replaced: {why}"), seg.line);
                self.flush_pending()?;
                self.emit(&bytes)
            }
            Fate::Drop(why) => {
                if let Class::Analysed(a) = &class
                    && a.action == Action::Create
                    && let Some(o) = &a.object
                    && o.kind == ObjectKind::AccessMethod
                {
                    self.removed_access_methods.insert(o.name.clone());
                }
                self.report.statements_removed += 1;
                self.report.count(why, seg.line);
                self.drop_pending()
            }
        }
    }

    fn is_data(&self, class: &Class) -> bool {
        matches!(
            class,
            Class::Rows(_) | Class::SeqValue(_) | Class::Stats(_) | Class::LoData
        )
    }

    /// With `--clean`: the drop for an object this statement creates, and
    /// the start of holding definitions until their drops go out.
    fn start_clean_if_create(
        &mut self,
        seg: &Segment<'_>,
        class: &Class,
        fate: &Fate,
    ) -> Result<()> {
        if !self.opts.clean || !matches!(fate, Fate::Keep) {
            return Ok(());
        }
        if matches!(
            self.section,
            Section::Database { keep: false } | Section::Undecided
        ) && self.dumpall
        {
            // Undecided sections are decided by CREATE DATABASE before this.
            if self.section == Section::Undecided {
                return Ok(());
            }
        }
        let drop = match class {
            Class::Analysed(a) if a.action == Action::Create => {
                match drop_for(seg.bytes, seg.encoding) {
                    Ok(d) => d,
                    Err(e) => {
                        self.report.warnings.push(format!(
                            "line {}: --clean: no drop for this statement: {e}",
                            seg.line
                        ));
                        None
                    }
                }
            }
            Class::LoCreate(oid) => Some(format!(
                "SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = {oid};"
            )),
            _ => None,
        };
        if let Some(d) = drop {
            // The deparser wrote decoded text: back to the dump's bytes.
            let Some(d) = encoding::reencode(&d, seg.encoding).map(|b| b.into_owned()) else {
                self.report.warnings.push(format!(
                    "line {}: --clean: the drop for this statement cannot be written in {}",
                    seg.line, seg.encoding
                ));
                return Ok(());
            };
            if !self.clean_buffering {
                self.clean_buffering = true;
            }
            if self.clean_seen.insert(d.clone()) {
                self.clean_drops.push(d);
            }
        }
        Ok(())
    }

    fn classify(&mut self, seg: &Segment<'_>) -> Result<Class> {
        let stmt = seg.bytes;
        let words = first_words(stmt, 3);
        let w = |i: usize, s: &str| {
            words
                .get(i)
                .is_some_and(|x| x.eq_ignore_ascii_case(s.as_bytes()))
        };
        if w(0, "set") || w(0, "begin") || w(0, "commit") || w(0, "reset") {
            return Ok(Class::Session);
        }
        if w(0, "insert") && w(1, "into") {
            if let Some(r) = insert_target(stmt) {
                return Ok(Class::Rows(r));
            }
        }
        if w(0, "select") {
            if let Some(r) = setval_target(stmt) {
                return Ok(Class::SeqValue(r));
            }
            if let Some(r) = stats_target(stmt) {
                return Ok(Class::Stats(r));
            }
            for f in [&b"lo_open("[..], b"lowrite(", b"lo_close("] {
                if find_ci(stmt, f).is_some() {
                    return Ok(Class::LoData);
                }
            }
            if let Some(oid) = lo_create_oid(stmt) {
                return Ok(Class::LoCreate(oid));
            }
            return Ok(Class::Session);
        }
        let wanted = self.needs_objects
            || (self.needs_roles && analysis::may_reference_roles(stmt))
            || (self.opts.roles_if_not_exists && w(0, "create"));
        if !wanted {
            return Ok(Class::Plain);
        }
        let opts = AnalyzeOptions {
            standard_conforming_strings: seg.std_strings,
        };
        match analysis::analyze_with(stmt, seg.encoding, &opts) {
            Ok(a) => Ok(Class::Analysed(Box::new(a))),
            Err(e) => Err(Error::runtime(format!("cannot analyse this statement: {e}"))
                .at_line(seg.line)
                .with_hint("report it with the statement; pgpipe-filter cannot tell what it belongs to")),
        }
    }

    fn fate(&mut self, seg: &Segment<'_>, class: &Class) -> Result<Fate> {
        let stmt = seg.bytes;
        let o = self.opts;
        match class {
            Class::Session => return Ok(self.session_fate(stmt)),
            Class::Rows(r) => {
                return Ok(match self.data_fate(r) {
                    Some(why) => Fate::Drop(format!("INSERT: {why}")),
                    None => Fate::Keep,
                });
            }
            Class::SeqValue(r) => {
                if o.schema_only {
                    return Ok(Fate::Drop("setval: --schema-only".into()));
                }
                return Ok(match self.rel_fate(r) {
                    Some(why) => Fate::Drop(format!("setval: {why}")),
                    None => Fate::Keep,
                });
            }
            Class::Stats(r) => {
                if o.schema_only || o.data_only {
                    return Ok(Fate::Drop("statistics: --schema-only/--data-only".into()));
                }
                if o.target_version.is_some_and(|v| v < 18) {
                    return Ok(Fate::Drop(
                        "--target-version: statistics functions arrived in 18".into(),
                    ));
                }
                return Ok(match self.data_fate(r) {
                    Some(why) => Fate::Drop(format!("statistics: {why}")),
                    None => Fate::Keep,
                });
            }
            Class::LoData => {
                if o.schema_only {
                    return Ok(Fate::Drop("large object data: --schema-only".into()));
                }
                return Ok(match self.global_object_fate() {
                    Some(why) => Fate::Drop(format!("large object data: {why}")),
                    None => Fate::Keep,
                });
            }
            Class::LoCreate(_) => {
                // To pg_dump a large object is data: -s leaves it out, -a keeps it.
                if o.schema_only {
                    return Ok(Fate::Drop("large object: --schema-only".into()));
                }
                return Ok(match self.global_object_fate() {
                    Some(why) => Fate::Drop(format!("large object: {why}")),
                    None => Fate::Keep,
                });
            }
            Class::Plain => return Ok(self.target_edit(seg).unwrap_or(Fate::Keep)),
            Class::Analysed(_) => {}
        }
        let Class::Analysed(a) = class else {
            unreachable!()
        };
        if a.empty {
            return Ok(Fate::Keep);
        }
        if a.action == Action::Set {
            return Ok(self.session_fate(stmt));
        }
        let words = first_words(stmt, 4);
        let w = |i: usize, s: &str| {
            words
                .get(i)
                .is_some_and(|x| x.eq_ignore_ascii_case(s.as_bytes()))
        };

        // Roles.
        if let Some(obj) = &a.object
            && obj.kind == ObjectKind::Role
            && a.action == Action::Create
        {
            self.created_roles.insert(obj.name.clone());
        }
        if let Some(obj) = &a.object
            && obj.kind == ObjectKind::Role
            && matches!(a.action, Action::Create | Action::Alter | Action::Comment)
            && o.skip_roles.contains(&obj.name)
        {
            return Ok(Fate::Drop(format!("--skip-role {}", obj.name)));
        }

        // A large object's owner, comment, privileges and labels go with it,
        // as data.
        if let Some(obj) = &a.object
            && obj.kind == ObjectKind::LargeObject
        {
            if o.schema_only {
                return Ok(Fate::Drop("large object: --schema-only".into()));
            }
            if o.no_comments && w(0, "comment") {
                return Ok(Fate::Drop("--no-comments".into()));
            }
            if o.no_security_labels && w(0, "security") && w(1, "label") {
                return Ok(Fate::Drop("--no-security-labels".into()));
            }
            return Ok(match self.global_object_fate() {
                Some(why) => Fate::Drop(format!("large object: {why}")),
                None => Fate::Keep,
            });
        }
        // A materialized view's contents are neither schema nor data to
        // pg_dump: -s and -a both leave out its REFRESH.
        if (o.schema_only || o.data_only) && w(0, "refresh") && w(1, "materialized") {
            return Ok(Fate::Drop(
                "REFRESH MATERIALIZED VIEW: --schema-only/--data-only".into(),
            ));
        }
        if o.data_only {
            return Ok(Fate::Drop("--data-only".into()));
        }
        if o.no_comments && w(0, "comment") {
            return Ok(Fate::Drop("--no-comments".into()));
        }
        if o.no_security_labels && w(0, "security") && w(1, "label") {
            return Ok(Fate::Drop("--no-security-labels".into()));
        }
        if let Some(obj) = &a.object {
            let k = obj.kind;
            if o.no_extension_comments && w(0, "comment") && k == ObjectKind::Extension {
                return Ok(Fate::Drop("--no-extension-comments".into()));
            }
            let by_kind = [
                (o.no_extensions, ObjectKind::Extension, "--no-extensions"),
                (
                    o.no_publications,
                    ObjectKind::Publication,
                    "--no-publications",
                ),
                (
                    o.no_subscriptions,
                    ObjectKind::Subscription,
                    "--no-subscriptions",
                ),
                (o.no_tablespaces, ObjectKind::Tablespace, "--no-tablespaces"),
            ];
            for (on, kind, why) in by_kind {
                if on && k == kind {
                    return Ok(Fate::Drop(why.into()));
                }
            }
        }
        if let Some(why) = self.object_fate(seg, a)? {
            if let Some(b) = self.replacement.take() {
                return Ok(Fate::Replace(
                    b,
                    "a partition of a removed table goes with it (DROP TABLE … CASCADE)",
                ));
            }
            return Ok(Fate::Drop(why));
        }

        if let Some(f) = self.target_edit(seg) {
            return Ok(f);
        }
        // Restore helpers that rewrite a kept statement.
        if o.roles_if_not_exists
            && a.action == Action::Create
            && a.object
                .as_ref()
                .is_some_and(|x| x.kind == ObjectKind::Role)
            && crate::sql::blocks::recognise(stmt).is_none()
        {
            return Ok(Fate::Replace(
                crate::sql::blocks::if_not_exists(stmt),
                "--roles-if-not-exists",
            ));
        }
        if o.clean
            && a.action == Action::Create
            && a.object
                .as_ref()
                .is_some_and(|x| x.kind == ObjectKind::Schema)
            && let Some(b) = schema_if_not_exists(stmt)
        {
            return Ok(Fate::Replace(b, "--clean: CREATE SCHEMA IF NOT EXISTS"));
        }
        if o.drop_grantor_if_missing {
            let mut cut: Vec<std::ops::Range<usize>> = Vec::new();
            for r in &a.role_refs {
                if r.kind == RoleRefKind::GrantedBy
                    && let RoleName::Named(name) = &r.role
                    && !self.created_roles.contains(name)
                    && let Some(c) = &r.clause
                {
                    let mut start = c.start;
                    while start > 0 && stmt[start - 1].is_ascii_whitespace() {
                        start -= 1;
                    }
                    cut.push(start..c.end);
                }
            }
            if !cut.is_empty() {
                let mut b = Vec::with_capacity(stmt.len());
                let mut at = 0;
                for c in cut {
                    b.extend_from_slice(&stmt[at..c.start]);
                    at = c.end;
                }
                b.extend_from_slice(&stmt[at..]);
                return Ok(Fate::Replace(
                    b,
                    "--drop-grantor-if-missing: GRANTED BY a role the dump does not create",
                ));
            }
        }
        Ok(Fate::Keep)
    }

    /// `--target-version`: statements an older server rejects, removed or
    /// with the clause it rejects cut out.
    fn target_edit(&self, seg: &Segment<'_>) -> Option<Fate> {
        let v = self.opts.target_version?;
        let stmt = seg.bytes;
        let words = first_words(stmt, 3);
        let w = |i: usize, s: &str| {
            words
                .get(i)
                .is_some_and(|x| x.eq_ignore_ascii_case(s.as_bytes()))
        };
        if w(0, "alter") && w(1, "subscription") && v < 16 && find_ci(stmt, b" owner to ").is_some()
        {
            return Some(Fate::Drop(format!(
                "--target-version {v}: subscription owner (must be a superuser before 16)"
            )));
        }
        if w(0, "create") && w(1, "subscription") {
            let cut = subscription_options_after(stmt, seg.encoding, v);
            if !cut.is_empty() {
                return Some(Fate::Replace(
                    splice_out(stmt, &cut),
                    "--target-version: subscription options the target does not know",
                ));
            }
            return None;
        }
        if (w(0, "grant") || w(0, "revoke")) && v < 17 {
            return maintain_privilege(stmt).map(|r| match r {
                None => Fate::Drop(format!(
                    "--target-version {v}: MAINTAIN privilege (arrived in 17)"
                )),
                Some(b) => Fate::Replace(b, "--target-version: MAINTAIN privilege (arrived in 17)"),
            });
        }
        None
    }

    /// SET and friends: kept, unless the target version rejects them.
    fn session_fate(&mut self, stmt: &[u8]) -> Fate {
        let words = first_words(stmt, 2);
        if words.len() == 2 && words[0].eq_ignore_ascii_case(b"set") {
            let name = String::from_utf8_lossy(words[1]).to_lowercase();
            if let Some(v) = self.opts.target_version
                && let Some(since) = setting_since(&name)
                && v < since
            {
                return Fate::Drop(format!(
                    "--target-version {v}: SET {name} (arrived in {since})"
                ));
            }
            if name == "default_table_access_method"
                && let Some(val) =
                    crate::dump::reader::set_value(stmt, b"default_table_access_method")
                && self
                    .removed_access_methods
                    .contains(&String::from_utf8_lossy(val).to_lowercase())
            {
                return Fate::Drop(
                    "SET default_table_access_method to an access method that was removed".into(),
                );
            }
            if self.opts.no_tablespaces
                && name == "default_tablespace"
                && let Some(val) = crate::dump::reader::set_value(stmt, b"default_tablespace")
                && val != b"''"
            {
                return Fate::Drop("--no-tablespaces: SET default_tablespace".into());
            }
        }
        Fate::Keep
    }

    /// Selection by what the object belongs to.
    fn object_fate(&mut self, seg: &Segment<'_>, a: &Analysis) -> Result<Option<String>> {
        let Some(obj) = &a.object else {
            if first_words(seg.bytes, 2)
                .iter()
                .zip(["refresh", "materialized"])
                .filter(|(w, e)| w.eq_ignore_ascii_case(e.as_bytes()))
                .count()
                == 2
                && let Some(i) = find_ci(seg.bytes, b" view")
            {
                let mut at = i + 5;
                if let Some((s, n)) = qualified_name(seg.bytes, &mut at) {
                    return Ok(self.rel_fate(&rel(s.as_deref(), &n)));
                }
            }
            return Ok(None);
        };
        use ObjectKind as K;
        let stmt = seg.bytes;
        if obj.kind == K::Index
            && a.action == Action::Create
            && let Some((ts, tn)) = &obj.table
        {
            self.index_table.insert(
                rel(obj.schema.as_deref().or(ts.as_deref()), &obj.name),
                rel(ts.as_deref(), tn),
            );
        }
        if obj.kind == K::Table
            && a.action == Action::Alter
            && self.selecting()
            && find_ci(stmt, b"identity").is_some()
            && let Some(parsed) = parse(stmt, seg.encoding)
            && let Some(N::AlterTableStmt(s)) = first_node(&parsed)
            && let Some(rv) = &s.relation
        {
            for c in &s.cmds {
                if let Some(N::AlterTableCmd(cmd)) = &c.node
                    && let Some(N::Constraint(con)) =
                        cmd.def.as_deref().and_then(|d| d.node.as_ref())
                    && con.contype == pb::ConstrType::ConstrIdentity as i32
                    && let Some(seq) = identity_sequence(con)
                {
                    let t = rv_rel(rv);
                    let seq = if seq.0.is_empty() {
                        (t.0.clone(), seq.1)
                    } else {
                        seq
                    };
                    self.owned_seq.insert(seq, t);
                }
            }
        }
        let fate = match obj.kind {
            K::Table | K::View | K::MatView | K::Sequence => {
                let r = match (&obj.table, obj.kind) {
                    (Some((ts, tn)), K::Table) => rel(ts.as_deref(), tn),
                    _ => rel(obj.schema.as_deref(), &obj.name),
                };
                self.rel_fate(&r)
            }
            K::Index if obj.table.is_none() => {
                let r = rel(obj.schema.as_deref(), &obj.name);
                match self.index_table.get(&r).cloned() {
                    Some(t) => self.rel_fate(&t),
                    None => self.schema_object_fate(obj.schema.as_deref()),
                }
            }
            K::Index | K::Trigger | K::Rule | K::Policy | K::Default | K::Column => {
                let (ts, tn) = obj.table.clone().unwrap_or_default();
                self.rel_fate(&rel(ts.as_deref(), &tn))
            }
            K::Constraint => match &obj.table {
                Some((Some(ts), tn)) => self.rel_fate(&rel(Some(ts), tn)),
                _ => self.schema_object_fate(obj.schema.as_deref()),
            },
            K::Schema => {
                if !self.opts.tables.is_empty() {
                    Some("only tables are selected (-t)".to_string())
                } else if !self.schema_selected(&obj.name) {
                    Some("schema not selected (-n/-N)".to_string())
                } else {
                    None
                }
            }
            K::Function
            | K::Procedure
            | K::Aggregate
            | K::Type
            | K::Domain
            | K::Operator
            | K::Collation
            | K::TextSearch
            | K::Conversion => self.schema_object_fate(obj.schema.as_deref()),
            K::Statistics => {
                let r = rel(obj.schema.as_deref(), &obj.name);
                if self.excluded.contains(&r) {
                    Some(format!("statistics object {} was removed", rel_text(&r)))
                } else {
                    self.schema_object_fate(obj.schema.as_deref())
                }
            }
            K::Extension
            | K::Language
            | K::Cast
            | K::EventTrigger
            | K::ForeignDataWrapper
            | K::Server
            | K::UserMapping
            | K::Publication
            | K::Subscription
            | K::LargeObject
            | K::Transform
            | K::AccessMethod => self.global_object_fate(),
            // Default privileges in a schema go with it; the others with
            // the objects in no schema.
            K::Acl if obj.schema.is_some() => self.schema_object_fate(obj.schema.as_deref()),
            K::Acl => self.global_object_fate(),
            K::Database | K::Role | K::Tablespace | K::Parameter | K::Comment | K::Other => None,
        };
        if let Some(why) = fate {
            if obj.kind == K::Table
                && a.action == Action::Alter
                && self.selecting()
                && find_ci(stmt, b"attach partition").is_some()
            {
                self.attach_to_removed(seg, obj)?;
            }
            return Ok(Some(why));
        }
        if obj.kind == K::Table && a.action == Action::Create && self.selecting() {
            if let Some(why) = self.inherits_from_removed(seg, obj)? {
                return Ok(Some(why));
            }
        }
        // Kept so far: what it depends on.
        if !self.needs_objects {
            return Ok(None);
        }
        // Only statements that can point at another relation are parsed
        // again (cheap byte checks first: most DDL is not).
        let needs_tree = match obj.kind {
            K::View | K::MatView | K::Statistics => a.action == Action::Create,
            K::Constraint => find_ci(stmt, b"foreign key").is_some(),
            K::Table | K::Index => find_ci(stmt, b"attach partition").is_some(),
            K::Publication => find_ci(stmt, b"table").is_some(),
            _ => false,
        };
        if !needs_tree || !self.selecting() {
            return Ok(None);
        }
        let Some(parsed) = parse(stmt, seg.encoding) else {
            return Ok(None);
        };
        let Some(node) = first_node(&parsed) else {
            return Ok(None);
        };
        match node {
            N::AlterTableStmt(s) => {
                let this = s.relation.as_ref().map(rv_rel);
                for c in &s.cmds {
                    let Some(N::AlterTableCmd(cmd)) = &c.node else {
                        continue;
                    };
                    let def = cmd.def.as_deref().and_then(|d| d.node.as_ref());
                    match def {
                        Some(N::Constraint(con))
                            if con.contype == pb::ConstrType::ConstrForeign as i32 =>
                        {
                            if let Some(pk) = &con.pktable {
                                let pk = rv_rel(pk);
                                if let Some(why) = self.rel_fate(&pk) {
                                    let on = this.as_ref().map(rel_text).unwrap_or_default();
                                    self.report.warnings.push(format!(
                                        "line {}: removed foreign key {} on {on}: it references excluded table {}",
                                        seg.line,
                                        con.conname,
                                        rel_text(&pk)
                                    ));
                                    let _ = why;
                                    return Ok(Some("foreign key to a removed table".into()));
                                }
                            }
                        }
                        Some(N::Constraint(con))
                            if con.contype == pb::ConstrType::ConstrIdentity as i32 =>
                        {
                            if let (Some(t), Some(seq)) = (&this, identity_sequence(con)) {
                                self.owned_seq.insert(seq, t.clone());
                            }
                        }
                        Some(N::PartitionCmd(p)) => {
                            if let Some(child) = &p.name {
                                let child = rv_rel(child);
                                let child = if child.0.is_empty() {
                                    (
                                        this.as_ref().map(|t| t.0.clone()).unwrap_or_default(),
                                        child.1,
                                    )
                                } else {
                                    child
                                };
                                let fate = if obj.kind == K::Index {
                                    self.index_table
                                        .get(&child)
                                        .cloned()
                                        .and_then(|t| self.rel_fate(&t))
                                } else {
                                    self.rel_fate(&child)
                                };
                                if let Some(why) = fate {
                                    return Ok(Some(format!(
                                        "partition {} removed: {why}",
                                        rel_text(&child)
                                    )));
                                }
                                if obj.kind == K::Table
                                    && let Some(parent) = &this
                                {
                                    self.children.entry(parent.clone()).or_default().push(child);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            N::ViewStmt(_) | N::CreateTableAsStmt(_) if a.action == Action::Create => {
                let this = rel(obj.schema.as_deref(), &obj.name);
                let mut read = Vec::new();
                for (n, _, _, _) in parsed.protobuf.nodes() {
                    if let pg_query::NodeRef::RangeVar(rv) = n
                        && !rv.schemaname.is_empty()
                    {
                        let r = rv_rel(rv);
                        if r == this {
                            continue;
                        }
                        read.push(r.clone());
                        if let Some(why) = self.rel_fate(&r) {
                            self.excluded.insert(this.clone());
                            self.report.warnings.push(format!(
                                "line {}: removed view {}: it reads removed relation {} ({why})",
                                seg.line,
                                rel_text(&this),
                                rel_text(&r)
                            ));
                            return Ok(Some("view on a removed relation".into()));
                        }
                    }
                }
                for r in read {
                    self.readers.entry(r).or_default().push(this.clone());
                }
            }
            N::CreateStatsStmt(s) => {
                if let Some(N::RangeVar(rv)) = s.relations.first().and_then(|n| n.node.as_ref())
                    && let Some(why) = self.rel_fate(&rv_rel(rv))
                {
                    self.excluded.insert(rel(obj.schema.as_deref(), &obj.name));
                    return Ok(Some(format!("statistics object: {why}")));
                }
            }
            N::AlterPublicationStmt(s) => {
                for p in &s.pubobjects {
                    if let Some(N::PublicationObjSpec(spec)) = &p.node
                        && let Some(t) = &spec.pubtable
                        && let Some(rv) = &t.relation
                        && let Some(why) = self.rel_fate(&rv_rel(rv))
                    {
                        return Ok(Some(format!("publication table: {why}")));
                    }
                }
            }
            _ => {}
        }
        Ok(None)
    }

    /// `CREATE TABLE child (…) INHERITS (parent)` or `PARTITION OF parent`
    /// when a parent is not in the output: the child goes too, as `DROP
    /// TABLE parent CASCADE` takes it (its CREATE would fail without the
    /// parent). A kept child is remembered for a later removal of its parent.
    fn inherits_from_removed(
        &mut self,
        seg: &Segment<'_>,
        obj: &ObjectRef,
    ) -> Result<Option<String>> {
        let stmt = seg.bytes;
        if find_ci(stmt, b"inherits").is_none() && find_ci(stmt, b"partition of").is_none() {
            return Ok(None);
        }
        let Some(parsed) = parse(stmt, seg.encoding) else {
            return Ok(None);
        };
        let Some(N::CreateStmt(c)) = first_node(&parsed) else {
            return Ok(None);
        };
        let this = rel(obj.schema.as_deref(), &obj.name);
        for p in &c.inh_relations {
            let Some(N::RangeVar(rv)) = &p.node else {
                continue;
            };
            let parent = rv_rel(rv);
            if let Some(why) = self.rel_fate(&parent) {
                self.report.warnings.push(format!(
                    "line {}: removed table {}: it inherits from {}, which is not in the output ({why})",
                    seg.line,
                    rel_text(&this),
                    rel_text(&parent)
                ));
                self.remove_with_dependents(&this);
                return Ok(Some(format!(
                    "inherits from removed table {}",
                    rel_text(&parent)
                )));
            }
            self.children.entry(parent).or_default().push(this.clone());
        }
        Ok(None)
    }

    /// `ALTER TABLE ONLY parent ATTACH PARTITION child` when the parent was
    /// removed by an exclusion (-T, -N): pg_dump writes a partition as a
    /// table of its own, long before it attaches it, so the child is already
    /// in the output. `DROP TABLE … CASCADE` of the parent would take it:
    /// the ATTACH is replaced by that child's drop, and everything about the
    /// child (and what reads it) that follows is removed.
    fn attach_to_removed(&mut self, seg: &Segment<'_>, obj: &ObjectRef) -> Result<()> {
        let Some((ts, tn)) = &obj.table else {
            return Ok(());
        };
        let parent = rel(ts.as_deref(), tn);
        if !self.explicitly_removed(&parent) {
            return Ok(());
        }
        let Some(parsed) = parse(seg.bytes, seg.encoding) else {
            return Ok(());
        };
        let Some(N::AlterTableStmt(s)) = first_node(&parsed) else {
            return Ok(());
        };
        let mut text = String::new();
        for c in &s.cmds {
            let Some(N::AlterTableCmd(cmd)) = &c.node else {
                continue;
            };
            let Some(N::PartitionCmd(p)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) else {
                continue;
            };
            let Some(child) = &p.name else { continue };
            let mut child = rv_rel(child);
            if child.0.is_empty() {
                child.0 = parent.0.clone();
            }
            if self.rel_fate(&child).is_some() {
                continue;
            }
            self.report.warnings.push(format!(
                "line {}: removed partition {} of removed table {}: its CREATE TABLE was \
                 already written, so it is dropped here",
                seg.line,
                rel_text(&child),
                rel_text(&parent)
            ));
            let name = if child.0.is_empty() {
                crate::sql::quote_ident(&child.1)
            } else {
                format!(
                    "{}.{}",
                    crate::sql::quote_ident(&child.0),
                    crate::sql::quote_ident(&child.1)
                )
            };
            text.push_str(&format!(
                "-- pgpipe-filter: {} is a partition of removed table {}\nDROP TABLE IF EXISTS {name} CASCADE;\n",
                rel_text(&child),
                rel_text(&parent)
            ));
            self.remove_with_dependents(&child);
        }
        if !text.is_empty() {
            // Names the parser decoded: back to the dump's bytes.
            let bytes = encoding::reencode(&text, seg.encoding)
                .map(|b| b.into_owned())
                .ok_or_else(|| {
                    Error::runtime(format!(
                        "cannot write the drop of a partition in client encoding {}",
                        seg.encoding
                    ))
                    .at_line(seg.line)
                })?;
            self.replacement = Some(bytes);
        }
        Ok(())
    }

    /// Whether a relation was removed by an exclusion (-T, -N, or as a
    /// dependent of one), not merely left unselected by -t/-n.
    fn explicitly_removed(&mut self, r: &Rel) -> bool {
        if self.excluded.contains(r) {
            return true;
        }
        let o = self.opts;
        let schema = (!r.0.is_empty()).then_some(r.0.as_str());
        o.exclude_tables.iter().any(|p| p.matches(schema, &r.1))
            || o.exclude_schemas.iter().any(|p| p.matches_name(&r.0))
    }

    /// Remove a relation and, as CASCADE would, its inheritance children,
    /// its partitions and the views that read it.
    fn remove_with_dependents(&mut self, r: &Rel) {
        let mut todo = vec![r.clone()];
        while let Some(r) = todo.pop() {
            if !self.excluded.insert(r.clone()) {
                continue;
            }
            for d in self
                .children
                .remove(&r)
                .into_iter()
                .chain(self.readers.remove(&r))
                .flatten()
            {
                if d != r {
                    todo.push(d);
                }
            }
        }
    }

    /// Whether any option selects or removes objects.
    fn selecting(&self) -> bool {
        let o = self.opts;
        !o.tables.is_empty()
            || !o.exclude_tables.is_empty()
            || !o.schemas.is_empty()
            || !o.exclude_schemas.is_empty()
    }

    fn finish(&mut self) -> Result<()> {
        // Checks that fail the run come before the last lines go out.
        if self.dumpall {
            if self.section == Section::Undecided {
                self.end_section()?;
            }
            let present: Vec<&str> = self
                .report
                .databases
                .iter()
                .map(|d| d.name.as_str())
                .collect();
            let missing: Vec<&String> = self
                .opts
                .databases
                .iter()
                .filter(|d| !present.contains(&d.as_str()))
                .collect();
            if !missing.is_empty() {
                let list = present
                    .iter()
                    .map(|d| format!("{d:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Error::runtime(format!(
                    "database {} is not in this dump; it holds: {}",
                    missing
                        .iter()
                        .map(|d| format!("{d:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if list.is_empty() {
                        "no databases".to_string()
                    } else {
                        list
                    }
                ))
                .with_hint(
                    "the output was cut before its end; name a database that is in the dump",
                ));
            }
        }
        let mut unmatched: Vec<String> = self
            .hits
            .iter()
            .filter(|(_, hit)| !**hit)
            .map(|(p, _)| p.clone())
            .collect();
        unmatched.sort();
        if !unmatched.is_empty() && self.opts.strict {
            return Err(Error::runtime(format!(
                "pattern(s) matched nothing: {}",
                unmatched
                    .iter()
                    .map(|p| format!("{p:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .with_hint(
                "the output was cut before its end (--strict); check the names with pgpipe-inspect",
            ));
        }
        for p in &unmatched {
            self.report
                .warnings
                .push(format!("pattern {p:?} matched nothing"));
        }
        self.report.unmatched_patterns = unmatched;
        self.resolve_seq_hold(None)?;
        self.flush_pending()?;
        if self.clean_buffering {
            self.clean_flush()?;
        }
        if self.section == Section::Undecided {
            self.end_section()?;
        }
        self.out.flush().map_err(|e| Error::io("write error", e))
    }
}

// ---------------------------------------------------------------------------
// Small readers of statement text.

fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while let Some(i) = memchr::memchr2(lo, up, &hay[from..]) {
        let at = from + i;
        let end = at + needle.len();
        if end > hay.len() {
            return None;
        }
        if hay[at + 1..end].eq_ignore_ascii_case(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The contents of the string literal starting at `stmt[i]` (`'…'`, with
/// `''`), and the index after it.
fn literal_at(stmt: &[u8], mut i: usize) -> Option<(Vec<u8>, usize)> {
    while i < stmt.len() && stmt[i].is_ascii_whitespace() {
        i += 1;
    }
    if stmt.get(i) != Some(&b'\'') {
        return None;
    }
    i += 1;
    let mut v = Vec::new();
    loop {
        let j = i + memchr::memchr(b'\'', &stmt[i..])?;
        v.extend_from_slice(&stmt[i..j]);
        if stmt.get(j + 1) == Some(&b'\'') {
            v.push(b'\'');
            i = j + 2;
        } else {
            return Some((v, j + 1));
        }
    }
}

fn name_of(bytes: &[u8]) -> Option<Rel> {
    let mut i = 0;
    let (s, n) = qualified_name(bytes, &mut i)?;
    if bytes[i..].iter().any(|b| !b.is_ascii_whitespace()) {
        return None;
    }
    Some(rel(s.as_deref(), &n))
}

/// `INSERT INTO [schema.]table …`.
fn insert_target(stmt: &[u8]) -> Option<Rel> {
    let (s, n) = crate::dump::words::insert_target(stmt)?;
    Some(rel(s.as_deref(), &n))
}

/// `SELECT pg_catalog.setval('seq', …)`.
fn setval_target(stmt: &[u8]) -> Option<Rel> {
    let i = find_ci(stmt, b"setval(")? + 7;
    let (lit, _) = literal_at(stmt, i)?;
    name_of(&lit)
}

/// `SELECT * FROM pg_catalog.pg_restore_relation_stats('schemaname', 's', 'relname', 't', …)`.
fn stats_target(stmt: &[u8]) -> Option<Rel> {
    if find_ci(stmt, b"pg_restore_relation_stats(").is_none()
        && find_ci(stmt, b"pg_restore_attribute_stats(").is_none()
    {
        return None;
    }
    let arg = |key: &[u8]| -> Option<String> {
        let k = memchr::memmem::find(stmt, key)? + key.len();
        let mut i = k;
        while i < stmt.len() && (stmt[i].is_ascii_whitespace() || stmt[i] == b',') {
            i += 1;
        }
        let (v, _) = literal_at(stmt, i)?;
        Some(String::from_utf8_lossy(&v).into_owned())
    };
    let s = arg(b"'schemaname'")?;
    let n = arg(b"'relname'")?;
    Some((s, n))
}

fn lo_create_oid(stmt: &[u8]) -> Option<String> {
    let i = find_ci(stmt, b"lo_create(")? + 10;
    let (v, _) = literal_at(stmt, i)?;
    let s = String::from_utf8(v).ok()?;
    s.bytes().all(|b| b.is_ascii_digit()).then_some(s)
}

/// The database a `\connect` line connects to: `\connect db`,
/// `\connect "db"`, `\connect -reuse-previous=on "dbname='db'"`.
fn connect_target(line: &[u8]) -> Option<String> {
    let m = crate::dump::meta::parse(line);
    if m.name != b"connect" && m.name != b"c" {
        return None;
    }
    let first = m.args.into_iter().find(|a| !a.starts_with(b"-"))?;
    let first = String::from_utf8(first).ok()?;
    if first.contains('=') {
        // A connection string: dbname='…'.
        return conninfo_dbname(&first);
    }
    Some(first)
}

/// `dbname` from a libpq key/value connection string.
fn conninfo_dbname(s: &str) -> Option<String> {
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut val = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\'' => break,
                    '\\' => {
                        if let Some(n) = chars.next() {
                            val.push(n);
                        }
                    }
                    c => val.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '\\' {
                    chars.next();
                    if let Some(n) = chars.next() {
                        val.push(n);
                    }
                    continue;
                }
                val.push(c);
                chars.next();
            }
        }
        if key == "dbname" {
            return Some(val);
        }
        chars.peek()?;
    }
}

fn create_database_name(stmt: &[u8], enc: &str) -> Option<String> {
    let w = first_words(stmt, 2);
    if w.len() < 2
        || !w[0].eq_ignore_ascii_case(b"create")
        || !w[1].eq_ignore_ascii_case(b"database")
    {
        return None;
    }
    let parsed = parse(stmt, enc)?;
    match first_node(&parsed)? {
        N::CreatedbStmt(s) => Some(s.dbname.clone()),
        _ => None,
    }
}

/// The node of a parse's first (only) statement.
fn first_node(parsed: &pg_query::ParseResult) -> Option<&N> {
    parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|n| n.node.as_ref())
}

fn parse(stmt: &[u8], enc: &str) -> Option<pg_query::ParseResult> {
    let d = encoding::decode(stmt, enc).ok()?;
    pg_query::parse(&d.text, 0).ok()
}

fn rv_rel(rv: &pb::RangeVar) -> Rel {
    (rv.schemaname.clone(), rv.relname.clone())
}

fn identity_sequence(con: &pb::Constraint) -> Option<Rel> {
    for o in &con.options {
        if let Some(N::DefElem(d)) = &o.node
            && d.defname == "sequence_name"
            && let Some(N::List(l)) = d.arg.as_deref().and_then(|a| a.node.as_ref())
        {
            let parts: Vec<String> = l
                .items
                .iter()
                .filter_map(|n| match &n.node {
                    Some(N::String(s)) => Some(s.sval.clone()),
                    _ => None,
                })
                .collect();
            return match parts.as_slice() {
                [n] => Some((String::new(), n.clone())),
                [.., s, n] => Some((s.clone(), n.clone())),
                [] => None,
            };
        }
    }
    None
}

/// Remove byte ranges from a statement.
fn splice_out(stmt: &[u8], cuts: &[std::ops::Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stmt.len());
    let mut at = 0;
    for c in cuts {
        out.extend_from_slice(&stmt[at..c.start]);
        at = c.end;
    }
    out.extend_from_slice(&stmt[at..]);
    out
}

/// The spans (with their separating comma) of `CREATE SUBSCRIPTION` options
/// that a server of major version `v` does not accept.
fn subscription_options_after(stmt: &[u8], enc: &str, v: u32) -> Vec<std::ops::Range<usize>> {
    let Some(parsed) = parse(stmt, enc) else {
        return Vec::new();
    };
    if !stmt.is_ascii() {
        return Vec::new(); // offsets below are byte offsets of ASCII text
    }
    let Some(N::CreateSubscriptionStmt(s)) = first_node(&parsed) else {
        return Vec::new();
    };
    let mut cuts = Vec::new();
    for o in &s.options {
        let Some(N::DefElem(d)) = &o.node else {
            continue;
        };
        let since = match d.defname.as_str() {
            "two_phase" | "disable_on_error" => 15,
            "origin" | "password_required" | "run_as_owner" => 16,
            "failover" => 17,
            "streaming" => {
                let val =
                    String::from_utf8_lossy(option_text(stmt, d.location as usize)).to_lowercase();
                if val.contains("parallel") {
                    16
                } else {
                    continue;
                }
            }
            _ => continue,
        };
        if v >= since || d.location < 0 {
            continue;
        }
        let start = d.location as usize;
        let end = start + option_text(stmt, start).len();
        // Take the comma before it, or else the one after it.
        let mut s0 = start;
        while s0 > 0 && stmt[s0 - 1].is_ascii_whitespace() {
            s0 -= 1;
        }
        if s0 > 0 && stmt[s0 - 1] == b',' {
            cuts.push(s0 - 1..end);
        } else {
            let mut e = end;
            while e < stmt.len() && stmt[e].is_ascii_whitespace() {
                e += 1;
            }
            if stmt.get(e) == Some(&b',') {
                e += 1;
                while e < stmt.len() && stmt[e].is_ascii_whitespace() {
                    e += 1;
                }
            }
            cuts.push(start..e);
        }
    }
    cuts.sort_by_key(|c| c.start);
    cuts
}

/// One option's text from its first byte to the `,` or `)` that ends it.
fn option_text(stmt: &[u8], start: usize) -> &[u8] {
    let mut i = start;
    let mut depth = 0i32;
    while i < stmt.len() {
        match stmt[i] {
            b'\'' => {
                i += 1;
                while i < stmt.len() {
                    if stmt[i] == b'\'' {
                        if stmt.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            b',' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    let mut e = i.min(stmt.len());
    while e > start && stmt[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    &stmt[start..e]
}

/// `GRANT|REVOKE ...MAINTAIN... ON`: `None` when it is the only privilege
/// (drop the statement), the statement without it otherwise; no change
/// (outer `None`) when it is not there.
fn maintain_privilege(stmt: &[u8]) -> Option<Option<Vec<u8>>> {
    let on = find_ci(stmt, b" on ")?;
    let head = &stmt[..on];
    let at = find_ci(head, b"maintain")?;
    let end = at + 8;
    let boundary = |b: Option<&u8>| b.is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
    if !boundary(at.checked_sub(1).and_then(|i| head.get(i))) || !boundary(head.get(end)) {
        return None;
    }
    let before = head[..at].trim_ascii_end();
    let after = &head[end..];
    if before.ends_with(b",") {
        let s = before.len() - 1;
        let cut = s..end;
        return Some(Some(splice_out(stmt, std::slice::from_ref(&cut))));
    }
    let trimmed = after.trim_ascii_start();
    if trimmed.starts_with(b",") {
        let e = end + (after.len() - trimmed.len()) + 1;
        let cut = at..e;
        return Some(Some(splice_out(stmt, std::slice::from_ref(&cut))));
    }
    Some(None)
}

/// Which major version a header setting arrived in.
fn setting_since(name: &str) -> Option<u32> {
    Some(match name {
        "transaction_timeout" => 17,
        "default_toast_compression" => 14,
        "default_table_access_method" => 12,
        _ => return None,
    })
}

/// `CREATE SCHEMA x` becomes `CREATE SCHEMA IF NOT EXISTS x`.
fn schema_if_not_exists(stmt: &[u8]) -> Option<Vec<u8>> {
    let w = first_words(stmt, 5);
    if w.len() >= 4 && w[2].eq_ignore_ascii_case(b"if") {
        return None;
    }
    let second = w.get(1)?;
    let at = second.as_ptr() as usize - stmt.as_ptr() as usize + second.len();
    let mut out = stmt[..at].to_vec();
    out.extend_from_slice(b" IF NOT EXISTS");
    out.extend_from_slice(&stmt[at..]);
    Some(out)
}

/// The `DROP … IF EXISTS … CASCADE` for what a `CREATE` statement creates,
/// written by PostgreSQL's deparser from the parse tree. `None` for objects
/// that need no drop (table-bound objects go with their table; schemas are
/// created with IF NOT EXISTS; extensions already are; roles and
/// tablespaces are cluster-wide).
fn drop_for(stmt: &[u8], enc: &str) -> std::result::Result<Option<String>, String> {
    let d = encoding::decode(stmt, enc).map_err(|e| e.message)?;
    let parsed = pg_query::parse(&d.text, 0).map_err(|e| e.to_string())?;
    let Some(node) = first_node(&parsed) else {
        return Ok(None);
    };
    use pb::ObjectType as OT;
    let names = |rv: &pb::RangeVar| -> pb::Node {
        let mut items = Vec::new();
        if !rv.schemaname.is_empty() {
            items.push(string(&rv.schemaname));
        }
        items.push(string(&rv.relname));
        list(items)
    };
    let strings_list = |v: &[pb::Node]| list(v.to_vec());
    let (ty, obj): (OT, pb::Node) = match node {
        N::CreateStmt(s) => (
            OT::ObjectTable,
            names(s.relation.as_ref().ok_or("no name")?),
        ),
        N::CreateForeignTableStmt(s) => (
            OT::ObjectForeignTable,
            names(
                s.base_stmt
                    .as_ref()
                    .and_then(|b| b.relation.as_ref())
                    .ok_or("no name")?,
            ),
        ),
        N::ViewStmt(s) => (OT::ObjectView, names(s.view.as_ref().ok_or("no name")?)),
        N::CreateTableAsStmt(s) => {
            let rv = s
                .into
                .as_ref()
                .and_then(|i| i.rel.as_ref())
                .ok_or("no name")?;
            if s.objtype == OT::ObjectMatview as i32 {
                (OT::ObjectMatview, names(rv))
            } else {
                (OT::ObjectTable, names(rv))
            }
        }
        N::CreateSeqStmt(s) => (
            OT::ObjectSequence,
            names(s.sequence.as_ref().ok_or("no name")?),
        ),
        N::CompositeTypeStmt(s) => (
            OT::ObjectType,
            type_name(names(s.typevar.as_ref().ok_or("no name")?)),
        ),
        N::CreateEnumStmt(s) => (OT::ObjectType, type_name(strings_list(&s.type_name))),
        N::CreateRangeStmt(s) => (OT::ObjectType, type_name(strings_list(&s.type_name))),
        N::CreateDomainStmt(s) => (OT::ObjectDomain, type_name(strings_list(&s.domainname))),
        N::DefineStmt(s) => {
            let kind = s.kind;
            if kind == OT::ObjectType as i32 {
                (OT::ObjectType, type_name(strings_list(&s.defnames)))
            } else if kind == OT::ObjectAggregate as i32 {
                let args: Vec<pb::Node> = match s.args.first().and_then(|a| a.node.as_ref()) {
                    Some(N::List(l)) => l
                        .items
                        .iter()
                        .filter_map(|p| match &p.node {
                            Some(N::FunctionParameter(fp)) => {
                                fp.arg_type.clone().map(|t| pb::Node {
                                    node: Some(N::TypeName(t)),
                                })
                            }
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                (OT::ObjectAggregate, with_args(s.defnames.clone(), args))
            } else if kind == OT::ObjectCollation as i32
                || kind == OT::ObjectTsconfiguration as i32
                || kind == OT::ObjectTsdictionary as i32
                || kind == OT::ObjectTsparser as i32
                || kind == OT::ObjectTstemplate as i32
            {
                let ty = OT::try_from(kind).map_err(|_| "unknown object type")?;
                (ty, strings_list(&s.defnames))
            } else if kind == OT::ObjectOperator as i32 {
                let mut left = pb::Node { node: None };
                let mut right = pb::Node { node: None };
                for d in &s.definition {
                    if let Some(N::DefElem(d)) = &d.node
                        && let Some(N::TypeName(t)) = d.arg.as_deref().and_then(|a| a.node.as_ref())
                    {
                        let n = pb::Node {
                            node: Some(N::TypeName(t.clone())),
                        };
                        match d.defname.as_str() {
                            "leftarg" => left = n,
                            "rightarg" => right = n,
                            _ => {}
                        }
                    }
                }
                (
                    OT::ObjectOperator,
                    with_args(s.defnames.clone(), vec![left, right]),
                )
            } else {
                return Err("objects of this kind are not dropped by --clean".into());
            }
        }
        N::CreateFunctionStmt(s) => {
            // A function is named by its input arguments. A procedure's
            // OUT arguments are part of its signature too, and only the
            // argument modes tell `p(OUT int, IN int)` from `p(IN int, IN
            // int)`: its drop lists every argument with its mode, as
            // pg_dump --clean writes it.
            use pb::FunctionParameterMode as M;
            let mut types = Vec::new();
            let mut params = Vec::new();
            for p in &s.parameters {
                let Some(N::FunctionParameter(fp)) = &p.node else {
                    continue;
                };
                let output =
                    fp.mode == M::FuncParamOut as i32 || fp.mode == M::FuncParamTable as i32;
                if output && !s.is_procedure {
                    continue;
                }
                let Some(t) = fp.arg_type.clone() else {
                    continue;
                };
                types.push(pb::Node {
                    node: Some(N::TypeName(t.clone())),
                });
                if s.is_procedure {
                    let mode = if fp.mode == M::FuncParamDefault as i32 {
                        M::FuncParamIn as i32
                    } else {
                        fp.mode
                    };
                    params.push(pb::Node {
                        node: Some(N::FunctionParameter(Box::new(pb::FunctionParameter {
                            name: String::new(),
                            arg_type: Some(t),
                            mode,
                            defexpr: None,
                            location: -1,
                        }))),
                    });
                }
            }
            let ty = if s.is_procedure {
                OT::ObjectProcedure
            } else {
                OT::ObjectFunction
            };
            let mut obj = with_args(s.funcname.clone(), types);
            if let Some(N::ObjectWithArgs(o)) = &mut obj.node {
                o.objfuncargs = params;
            }
            (ty, obj)
        }
        N::CreateStatsStmt(s) => (OT::ObjectStatisticExt, strings_list(&s.defnames)),
        N::CreateAmStmt(s) => (OT::ObjectAccessMethod, string(&s.amname)),
        N::CreateTransformStmt(s) => {
            let t = s.type_name.clone().ok_or("no type")?;
            (
                OT::ObjectTransform,
                list(vec![
                    pb::Node {
                        node: Some(N::TypeName(t)),
                    },
                    string(&s.lang),
                ]),
            )
        }
        N::CreateEventTrigStmt(s) => (OT::ObjectEventTrigger, string(&s.trigname)),
        N::CreateFdwStmt(s) => (OT::ObjectFdw, string(&s.fdwname)),
        N::CreateForeignServerStmt(s) => (OT::ObjectForeignServer, string(&s.servername)),
        N::CreatePublicationStmt(s) => (OT::ObjectPublication, string(&s.pubname)),
        N::CreatePlangStmt(s) => {
            if s.replace {
                return Ok(None);
            }
            (OT::ObjectLanguage, string(&s.plname))
        }
        N::CreateConversionStmt(s) => (OT::ObjectConversion, strings_list(&s.conversion_name)),
        N::CreateCastStmt(s) => {
            let t = |x: &Option<pb::TypeName>| -> std::result::Result<pb::Node, String> {
                Ok(pb::Node {
                    node: Some(N::TypeName(x.clone().ok_or("no type")?)),
                })
            };
            (
                OT::ObjectCast,
                list(vec![t(&s.sourcetype)?, t(&s.targettype)?]),
            )
        }
        N::CreateOpClassStmt(s) => {
            let mut items = vec![string(&s.amname)];
            items.extend(s.opclassname.iter().cloned());
            (OT::ObjectOpclass, list(items))
        }
        N::CreateOpFamilyStmt(s) => {
            let mut items = vec![string(&s.amname)];
            items.extend(s.opfamilyname.iter().cloned());
            (OT::ObjectOpfamily, list(items))
        }
        N::CreateUserMappingStmt(s) => {
            let stmt = N::DropUserMappingStmt(pb::DropUserMappingStmt {
                user: s.user.clone(),
                servername: s.servername.clone(),
                missing_ok: true,
            });
            return deparse(stmt).map(Some);
        }
        N::CreatedbStmt(s) => {
            let stmt = N::DropdbStmt(pb::DropdbStmt {
                dbname: s.dbname.clone(),
                missing_ok: true,
                options: Vec::new(),
            });
            return deparse(stmt).map(Some);
        }
        N::CreateSubscriptionStmt(s) => {
            return Ok(Some(crate::sql::blocks::drop_subscription(&s.subname)));
        }
        _ => return Ok(None),
    };
    let stmt = N::DropStmt(pb::DropStmt {
        objects: vec![obj],
        remove_type: ty as i32,
        behavior: pb::DropBehavior::DropCascade as i32,
        missing_ok: true,
        concurrent: false,
    });
    deparse(stmt).map(Some)
}

fn string(s: &str) -> pb::Node {
    pb::Node {
        node: Some(N::String(pb::String {
            sval: s.to_string(),
        })),
    }
}

fn list(items: Vec<pb::Node>) -> pb::Node {
    pb::Node {
        node: Some(N::List(pb::List { items })),
    }
}

/// DROP TYPE/DOMAIN take a TypeName, built from a list of name strings.
fn type_name(names: pb::Node) -> pb::Node {
    let items = match names.node {
        Some(N::List(l)) => l.items,
        _ => Vec::new(),
    };
    pb::Node {
        node: Some(N::TypeName(pb::TypeName {
            names: items,
            typemod: -1,
            location: -1,
            ..Default::default()
        })),
    }
}

fn with_args(name: Vec<pb::Node>, args: Vec<pb::Node>) -> pb::Node {
    pb::Node {
        node: Some(N::ObjectWithArgs(pb::ObjectWithArgs {
            objname: name,
            objargs: args,
            objfuncargs: Vec::new(),
            args_unspecified: false,
        })),
    }
}

fn deparse(stmt: N) -> std::result::Result<String, String> {
    let node = pb::Node { node: Some(stmt) };
    let s = node
        .deparse(pg_query::DeparseOptions::default())
        .map_err(|e| e.to_string())?;
    let s = s.trim_end().trim_end_matches(';').to_string();
    Ok(s + ";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_forms() {
        assert_eq!(connect_target(b"\\connect db1\n"), Some("db1".into()));
        assert_eq!(
            connect_target(b"\\connect template1\n"),
            Some("template1".into())
        );
        assert_eq!(
            connect_target(b"\\connect \"weird db \"\"x\"\"\"\n"),
            Some("weird db \"x\"".into())
        );
        assert_eq!(
            connect_target(b"\\connect -reuse-previous=on \"dbname='weird db \"\"x\"\"'\"\n"),
            Some("weird db \"x\"".into())
        );
        assert_eq!(
            connect_target(b"\\connect -reuse-previous=on \"dbname='it\\'s'\"\n"),
            Some("it's".into())
        );
    }

    #[test]
    fn data_targets() {
        assert_eq!(
            setval_target(b"SELECT pg_catalog.setval('public.\"My Seq\"', 42, true);\n"),
            Some(("public".into(), "My Seq".into()))
        );
        assert_eq!(
            setval_target(b"SELECT pg_catalog.setval('public.it''s_seq', 1, false);"),
            None // a quote inside a bare name is not an identifier
        );
        assert_eq!(
            stats_target(
                b"SELECT * FROM pg_catalog.pg_restore_relation_stats(\n\t'version', '180006'::integer,\n\t'schemaname', 'public',\n\t'relname', 'T x',\n\t'relpages', '1'::integer\n);\n"
            ),
            Some(("public".into(), "T x".into()))
        );
        assert_eq!(
            insert_target(b"INSERT INTO public.\"Events\" (a) VALUES (1);"),
            Some(("public".into(), "Events".into()))
        );
        assert_eq!(
            lo_create_oid(b"SELECT pg_catalog.lo_create('16400');"),
            Some("16400".into())
        );
    }

    #[test]
    fn drops() {
        let d = |s: &str| drop_for(s.as_bytes(), "UTF8").unwrap();
        assert_eq!(
            d("CREATE TABLE public.\"My T\" (a integer);"),
            Some("DROP TABLE IF EXISTS public.\"My T\" CASCADE;".into())
        );
        assert_eq!(
            d(
                "CREATE FUNCTION public.f(a integer, OUT b text, VARIADIC c text[]) RETURNS text LANGUAGE sql AS $$ select 'x' $$;"
            ),
            Some("DROP FUNCTION IF EXISTS public.f(int, text[]) CASCADE;".into())
        );
        assert_eq!(
            d("CREATE TYPE public.mood AS ENUM ('a');"),
            Some("DROP TYPE IF EXISTS public.mood CASCADE;".into())
        );
        assert_eq!(d("CREATE INDEX i ON public.t USING btree (a);"), None);
        assert_eq!(
            d("CREATE OPERATOR app.=== (FUNCTION = app.f, LEFTARG = integer, RIGHTARG = integer);"),
            Some("DROP OPERATOR IF EXISTS app.===(int, int) CASCADE;".into())
        );
        assert_eq!(d("CREATE SCHEMA app;"), None);
        assert_eq!(
            d("CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;"),
            Some("DROP ACCESS METHOD IF EXISTS heap2 CASCADE;".into())
        );
        assert_eq!(
            d(
                "CREATE TRANSFORM FOR integer LANGUAGE sql (FROM SQL WITH FUNCTION prsd_lextype(internal), TO SQL WITH FUNCTION int4recv(internal));"
            ),
            Some("DROP TRANSFORM IF EXISTS FOR int LANGUAGE sql CASCADE;".into())
        );
        // Procedures: OUT arguments count, and only modes tell these apart.
        assert_eq!(
            d(
                "CREATE PROCEDURE public.ptest10(OUT a integer, IN b integer, IN c integer) LANGUAGE sql BEGIN ATOMIC SELECT b - c; END;"
            ),
            Some(
                "DROP PROCEDURE IF EXISTS public.ptest10(OUT int, IN int, IN int) CASCADE;".into()
            )
        );
        assert_eq!(
            d(
                "CREATE PROCEDURE public.ptest10(a integer, b integer, INOUT c integer, VARIADIC d integer[]) LANGUAGE sql AS $$ SELECT 1 $$;"
            ),
            Some(
                "DROP PROCEDURE IF EXISTS public.ptest10(IN int, IN int, INOUT int, VARIADIC int[]) CASCADE;"
                    .into()
            )
        );
    }

    #[test]
    fn target_version_edits() {
        let s = b"CREATE SUBSCRIPTION sub1 CONNECTION 'x' PUBLICATION p WITH (connect = false, slot_name = NONE, streaming = parallel, run_as_owner = true);\n";
        let cuts = subscription_options_after(s, "UTF8", 15);
        assert_eq!(
            String::from_utf8(splice_out(s, &cuts)).unwrap(),
            "CREATE SUBSCRIPTION sub1 CONNECTION 'x' PUBLICATION p WITH (connect = false, slot_name = NONE);\n"
        );
        assert!(subscription_options_after(s, "UTF8", 16).is_empty());
        assert_eq!(
            maintain_privilege(b"GRANT SELECT,MAINTAIN,UPDATE ON TABLE app.t1 TO x;"),
            Some(Some(b"GRANT SELECT,UPDATE ON TABLE app.t1 TO x;".to_vec()))
        );
        assert_eq!(
            maintain_privilege(b"GRANT MAINTAIN,UPDATE ON TABLE t TO x;"),
            Some(Some(b"GRANT UPDATE ON TABLE t TO x;".to_vec()))
        );
        assert_eq!(
            maintain_privilege(b"GRANT MAINTAIN ON TABLE t TO x;"),
            Some(None)
        );
        assert_eq!(
            maintain_privilege(b"GRANT SELECT ON TABLE maintain TO x;"),
            None
        );
    }

    #[test]
    fn schema_selection_leaves_out_objects_in_no_schema_and_empty_transactions() {
        let input = b"SET client_encoding = 'UTF8';
CREATE SCHEMA fkpart5;
CREATE OPERATOR FAMILY public.part_test_int4_ops USING hash;
ALTER OPERATOR FAMILY public.part_test_int4_ops USING hash ADD
    FUNCTION 2 (integer, integer) public.part_hashint4_noop(integer,bigint);
CREATE TRANSFORM FOR integer LANGUAGE sql (FROM SQL WITH FUNCTION prsd_lextype(internal), TO SQL WITH FUNCTION int4recv(internal));
CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;
ALTER DEFAULT PRIVILEGES FOR ROLE a IN SCHEMA public GRANT SELECT ON TABLES TO b;
ALTER DEFAULT PRIVILEGES FOR ROLE a IN SCHEMA fkpart5 GRANT SELECT ON TABLES TO b;
CREATE TABLE fkpart5.t (a integer);

--
-- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
--

BEGIN;

SELECT pg_catalog.lo_open('16385', 131072);
SELECT pg_catalog.lowrite(0, '\\x61');
SELECT pg_catalog.lo_close(0);

COMMIT;

BEGIN;
SELECT 1;
COMMIT;
";
        let opts = Options {
            schemas: vec![Pattern::simple("fkpart5").unwrap()],
            ..Options::default()
        };
        let mut out = Vec::new();
        filter(&input[..], &mut out, &opts, &Progress::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SET client_encoding = 'UTF8';
CREATE SCHEMA fkpart5;
ALTER DEFAULT PRIVILEGES FOR ROLE a IN SCHEMA fkpart5 GRANT SELECT ON TABLES TO b;
CREATE TABLE fkpart5.t (a integer);




BEGIN;
SELECT 1;
COMMIT;
"
        );
    }

    #[test]
    fn filter_reads_its_own_role_blocks() {
        let run = |input: &[u8], opts: &Options| {
            let mut out = Vec::new();
            filter(input, &mut out, opts, &Progress::default()).unwrap();
            out
        };
        let opts = Options {
            roles_if_not_exists: true,
            ..Options::default()
        };
        let once = run(b"CREATE ROLE a;\nCREATE ROLE b;\n", &opts);
        assert_eq!(run(&once, &opts), once, "wrapped twice");
        let skip = Options {
            roles_if_not_exists: true,
            skip_roles: vec!["a".into()],
            ..Options::default()
        };
        assert_eq!(
            String::from_utf8(run(&once, &skip)).unwrap(),
            "DO $pgpipe$BEGIN CREATE ROLE b; EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipe$;\n"
        );
    }

    #[test]
    fn rewrites() {
        assert_eq!(
            schema_if_not_exists(b"CREATE SCHEMA app;\n"),
            Some(b"CREATE SCHEMA IF NOT EXISTS app;\n".to_vec())
        );
    }
}
