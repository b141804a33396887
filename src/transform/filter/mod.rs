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

use crate::dump::reader::count_newlines;
use crate::dump::{Kind, Segment, header};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sql::analysis::{
    self, Action, Analysis, AnalyzeOptions, ObjectKind, ObjectRef, RoleName, RoleRefKind,
};
use crate::sql::encoding;
use crate::sql::words::{first_words, qualified_name};
use crate::transform::pattern::Pattern;

mod clean;
mod prescan;
pub mod rules;
mod sections;
mod selection;
mod target;
mod text;

use crate::sql::build::{deparse, list, string, type_name, with_args};
use crate::sql::tree::{first as first_node, parse};
use clean::schema_if_not_exists;
use sections::{connect_target, create_database_name, database_statement_name};
use text::*;

/// With `--clean`, definitions held before their drops are emitted; past this
/// size the drops known so far are emitted and holding starts again.
pub const CLEAN_BUFFER_LIMIT: usize = 64 << 20;

/// Everything `pgpipe-filter` can be asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub tables: Vec<Pattern>,
    /// `--table-and-children`: the tables, their partitions and
    /// inheritance children, at any depth.
    pub tables_and_children: Vec<Pattern>,
    pub exclude_tables: Vec<Pattern>,
    /// `--exclude-table-and-children` (`-T` already takes the children, as
    /// `DROP TABLE … CASCADE` does).
    pub exclude_tables_and_children: Vec<Pattern>,
    pub schemas: Vec<Pattern>,
    pub exclude_schemas: Vec<Pattern>,
    pub exclude_table_data: Vec<Pattern>,
    pub exclude_table_data_and_children: Vec<Pattern>,
    /// `-e`: keep only these extensions (and every schema).
    pub extensions: Vec<Pattern>,
    /// A filter file's `include extension`: these extensions only, but
    /// unlike `-e` everything else stays.
    pub extensions_listed: Vec<Pattern>,
    pub exclude_extensions: Vec<Pattern>,
    /// `-b`: keep large objects even with `-t`, `-n` or `-e`.
    pub large_objects: bool,
    /// `-B`: remove large objects.
    pub no_large_objects: bool,
    pub schema_only: bool,
    pub data_only: bool,
    pub no_data: bool,
    pub no_schema: bool,
    pub no_statistics: bool,
    pub statistics_only: bool,
    pub no_policies: bool,
    pub no_table_access_method: bool,
    pub no_toast_compression: bool,
    pub no_unlogged_table_data: bool,
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
    /// Contradictions and out-of-range values are usage errors (pg_dump's
    /// own messages where pg_dump has the same switches).
    pub fn check(&self) -> Result<()> {
        let conflicts = [
            (
                self.schema_only && self.data_only,
                "options -s/--schema-only and -a/--data-only cannot be used together",
            ),
            (
                self.schema_only && self.statistics_only,
                "options -s/--schema-only and --statistics-only cannot be used together",
            ),
            (
                self.data_only && self.statistics_only,
                "options -a/--data-only and --statistics-only cannot be used together",
            ),
            (
                self.data_only && self.no_data,
                "options -a/--data-only and --no-data cannot be used together",
            ),
            (
                self.schema_only && self.no_schema,
                "options -s/--schema-only and --no-schema cannot be used together",
            ),
            (
                self.statistics_only && self.no_statistics,
                "options --statistics-only and --no-statistics cannot be used together",
            ),
            (
                self.data_only && self.clean,
                "options -c/--clean and -a/--data-only cannot be used together",
            ),
        ];
        if let Some((_, msg)) = conflicts.iter().find(|(on, _)| *on) {
            return Err(Error::usage(*msg));
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
            crate::sql::ident::check_name(r, "--skip-role", false)?;
        }
        for d in &self.databases {
            if d.is_empty() {
                return Err(Error::usage("--database needs a name"));
            }
        }
        Ok(())
    }

    /// pg_dump's dumpSchema: object definitions are kept.
    pub fn keep_schema(&self) -> bool {
        (!self.data_only && !self.statistics_only || self.schema_only) && !self.no_schema
    }

    /// pg_dump's dumpData: rows, sequence values, large objects are kept.
    pub fn keep_data(&self) -> bool {
        (!self.schema_only && !self.statistics_only || self.data_only) && !self.no_data
    }

    /// pg_dump's dumpStatistics, for a dump that has statistics (pg_dump 18
    /// `--statistics`): `-s` and `-a` leave them out, as pg_dump does.
    pub fn keep_statistics(&self) -> bool {
        (!self.schema_only && !self.data_only || self.statistics_only) && !self.no_statistics
    }

    /// The switch that removes data, for the report.
    fn no_data_reason(&self) -> &'static str {
        if self.schema_only {
            "--schema-only"
        } else if self.statistics_only {
            "--statistics-only"
        } else {
            "--no-data"
        }
    }

    /// The switch that removes definitions, for the report.
    fn no_schema_reason(&self) -> &'static str {
        if self.data_only {
            "--data-only"
        } else if self.statistics_only {
            "--statistics-only"
        } else {
            "--no-schema"
        }
    }

    /// The switch that removes statistics, for the report.
    fn no_statistics_reason(&self) -> &'static str {
        if self.no_statistics {
            "--no-statistics"
        } else if self.schema_only {
            "--schema-only"
        } else {
            "--data-only"
        }
    }

    /// The definitions must be held until the first data to learn each
    /// table's partitions (see `prescan`).
    fn prescan(&self) -> bool {
        !self.tables_and_children.is_empty() || !self.exclude_tables_and_children.is_empty()
    }

    /// A table selection (`-t`, `--table-and-children`) is in force.
    fn table_selection(&self) -> bool {
        !self.tables.is_empty() || !self.tables_and_children.is_empty()
    }

    /// Whether statements must be analysed to know what they belong to.
    fn needs_objects(&self) -> bool {
        !self.tables.is_empty()
            || !self.tables_and_children.is_empty()
            || !self.exclude_tables.is_empty()
            || !self.exclude_tables_and_children.is_empty()
            || !self.schemas.is_empty()
            || !self.exclude_schemas.is_empty()
            || !self.exclude_table_data.is_empty()
            || !self.exclude_table_data_and_children.is_empty()
            || !self.extensions.is_empty()
            || !self.extensions_listed.is_empty()
            || !self.exclude_extensions.is_empty()
            || self.large_objects
            || self.no_large_objects
            || !self.keep_schema()
            || !self.keep_data()
            || !self.keep_statistics()
            || self.no_policies
            || self.no_table_access_method
            || self.no_toast_compression
            || self.no_unlogged_table_data
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
enum Outcome {
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
    /// A table's parents (inheritance, partitioning), as the dump says.
    parents: HashMap<Rel, Vec<Rel>>,
    /// Tables and sequences the dump creates, and those created unlogged.
    created_relations: HashSet<Rel>,
    unlogged: HashSet<Rel>,
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
    /// `--table-and-children`: definitions held until the parents are known.
    prescan: prescan::Prescan,
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
    let mut hits = HashMap::new();
    for p in opts
        .tables
        .iter()
        .chain(&opts.tables_and_children)
        .chain(&opts.exclude_tables)
        .chain(&opts.exclude_tables_and_children)
        .chain(&opts.schemas)
        .chain(&opts.exclude_schemas)
        .chain(&opts.exclude_table_data)
        .chain(&opts.exclude_table_data_and_children)
        .chain(&opts.extensions)
        .chain(&opts.extensions_listed)
        .chain(&opts.exclude_extensions)
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
        parents: HashMap::new(),
        created_relations: HashSet::new(),
        unlogged: HashSet::new(),
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
        prescan: prescan::Prescan::new(opts.prescan()),
        hits,
    };
    if opts.strip_restrict {
        f.report.warnings.push(
            "--strip-restrict: the output has no \\restrict protection; restore it only with a \
             trusted psql from a trusted source"
                .to_string(),
        );
    }
    let summary = crate::dump::drive(input, opts.max_statement, progress, &mut f)?;
    f.report.bytes_in = summary.bytes;
    summary.refuse_cut()?;
    f.finish()?;
    Ok(f.report)
}

impl crate::dump::Stage for Filter<'_, '_> {
    fn segment(&mut self, seg: &Segment<'_>) -> Result<()> {
        self.take(seg)
    }
}

impl Filter<'_, '_> {
    /// One segment, through the filter.
    fn process(&mut self, seg: &Segment<'_>) -> Result<()> {
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
            if self.dumpall
                && let Some(db) = connect_target(seg.bytes)
            {
                self.connect_opens_section(db)?;
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
        let target = crate::sql::words::copy_target(seg.bytes);
        let mut reason = None;
        if self.in_globals_dropped() {
            reason = Some("--no-globals".to_string());
        } else if let Some((s, n)) = &target {
            let r = rel(s.as_deref(), n);
            reason = self.data_fate(&r).map_err(|e| e.at_line(seg.line))?;
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

    // -- decisions ----------------------------------------------------------

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
        // Old pg_dumpall: database statements among the globals go with
        // their database.
        let mut database_statement = false;
        if self.dumpall
            && self.section == Section::Globals
            && let Some(db) = database_statement_name(stmt, seg.encoding)
        {
            if !self.database_wanted(&db) {
                self.report.statements_removed += 1;
                self.report
                    .count(format!("database {db} not selected"), seg.line);
                return self.drop_pending();
            }
            database_statement = true;
        }
        let class = self.classify(seg)?;
        if let Class::Analysed(a) = &class {
            self.note_relations(a);
        }
        let fate =
            if self.in_globals_dropped() && !database_statement && !matches!(class, Class::Session)
            {
                Outcome::Drop("--no-globals".to_string())
            } else {
                self.outcome(seg, &class)?
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
            let keep = matches!(fate, Outcome::Keep | Outcome::Replace(..));
            let rescuable = matches!(&fate, Outcome::Drop(why) if why == "table not selected (-t)");
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
            Outcome::Keep
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
            Outcome::Keep => {
                self.start_clean_if_create(seg, &class, &fate)?;
                if self.is_data(&class) && self.clean_buffering {
                    self.flush_pending()?;
                    self.clean_flush()?;
                }
                self.flush_pending()?;
                self.emit(stmt)
            }
            Outcome::Replace(bytes, why) => {
                self.start_clean_if_create(seg, &class, &Outcome::Keep)?;
                self.report.statements_replaced += 1;
                self.report.count(format!("replaced: {why}"), seg.line);
                self.flush_pending()?;
                self.emit(&bytes)
            }
            Outcome::Drop(why) => {
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

    fn classify(&mut self, seg: &Segment<'_>) -> Result<Class> {
        let stmt = seg.bytes;
        let words = first_words(stmt, 3);
        let w = |i: usize, s: &str| crate::sql::words::word_is(&words, i, s);
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
            keep_tree: true,
        };
        match analysis::analyze_with(stmt, seg.encoding, &opts) {
            Ok(a) => Ok(Class::Analysed(Box::new(a))),
            Err(e) => Err(Error::runtime(format!("cannot analyse this statement: {e}"))
                .at_line(seg.line)
                .with_hint("report it with the statement; pgpipe-filter cannot tell what it belongs to")),
        }
    }

    fn outcome(&mut self, seg: &Segment<'_>, class: &Class) -> Result<Outcome> {
        let stmt = seg.bytes;
        let o = self.opts;
        match class {
            Class::Session => return Ok(self.session_outcome(stmt)),
            Class::Rows(r) => {
                return Ok(match self.data_fate(r)? {
                    Some(why) => Outcome::Drop(format!("INSERT: {why}")),
                    None => Outcome::Keep,
                });
            }
            Class::SeqValue(r) => {
                return Ok(match self.data_fate(r)? {
                    Some(why) => Outcome::Drop(format!("setval: {why}")),
                    None => Outcome::Keep,
                });
            }
            Class::Stats(r) => {
                if o.target_version.is_some_and(|v| v < 18) {
                    return Ok(Outcome::Drop(
                        "--target-version: statistics functions arrived in 18".into(),
                    ));
                }
                return Ok(match self.stats_fate(r) {
                    Some(why) => Outcome::Drop(format!("statistics: {why}")),
                    None => Outcome::Keep,
                });
            }
            Class::LoData => {
                return Ok(match self.lo_fate() {
                    Some(why) => Outcome::Drop(format!("large object data: {why}")),
                    None => Outcome::Keep,
                });
            }
            Class::LoCreate(_) => {
                // To pg_dump a large object is data: -s leaves it out, -a keeps it.
                return Ok(match self.lo_fate() {
                    Some(why) => Outcome::Drop(format!("large object: {why}")),
                    None => Outcome::Keep,
                });
            }
            Class::Plain => return Ok(self.target_edit(seg).unwrap_or(Outcome::Keep)),
            Class::Analysed(_) => {}
        }
        let Class::Analysed(a) = class else {
            unreachable!()
        };
        if a.empty {
            return Ok(Outcome::Keep);
        }
        if a.action == Action::Set {
            return Ok(self.session_outcome(stmt));
        }
        let words = first_words(stmt, 4);
        let w = |i: usize, s: &str| crate::sql::words::word_is(&words, i, s);

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
            return Ok(Outcome::Drop(format!("--skip-role {}", obj.name)));
        }

        // A large object's owner, comment, privileges and labels go with it,
        // as data.
        if let Some(obj) = &a.object
            && obj.kind == ObjectKind::LargeObject
        {
            if o.no_comments && w(0, "comment") {
                return Ok(Outcome::Drop("--no-comments".into()));
            }
            if o.no_security_labels && w(0, "security") && w(1, "label") {
                return Ok(Outcome::Drop("--no-security-labels".into()));
            }
            return Ok(match self.lo_fate() {
                Some(why) => Outcome::Drop(format!("large object: {why}")),
                None => Outcome::Keep,
            });
        }
        // A materialized view's contents are neither schema nor data to
        // pg_dump: its REFRESH is there only when both are.
        if (!o.keep_schema() || !o.keep_data()) && w(0, "refresh") && w(1, "materialized") {
            let why = if o.keep_schema() {
                o.no_data_reason()
            } else {
                o.no_schema_reason()
            };
            return Ok(Outcome::Drop(format!("REFRESH MATERIALIZED VIEW: {why}")));
        }
        if !o.keep_schema() {
            return Ok(Outcome::Drop(o.no_schema_reason().into()));
        }
        if let Some(why) = self.reshape_fate(a) {
            return Ok(Outcome::Drop(why));
        }
        if o.no_comments && w(0, "comment") {
            return Ok(Outcome::Drop("--no-comments".into()));
        }
        if o.no_security_labels && w(0, "security") && w(1, "label") {
            return Ok(Outcome::Drop("--no-security-labels".into()));
        }
        if let Some(obj) = &a.object {
            let k = obj.kind;
            if o.no_extension_comments && w(0, "comment") && k == ObjectKind::Extension {
                return Ok(Outcome::Drop("--no-extension-comments".into()));
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
                    return Ok(Outcome::Drop(why.into()));
                }
            }
        }
        if let Some(why) = self.object_fate(seg, a)? {
            if let Some(b) = self.replacement.take() {
                return Ok(Outcome::Replace(
                    b,
                    "a partition of a removed table goes with it (DROP TABLE … CASCADE)",
                ));
            }
            return Ok(Outcome::Drop(why));
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
            return Ok(Outcome::Replace(
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
            return Ok(Outcome::Replace(b, "--clean: CREATE SCHEMA IF NOT EXISTS"));
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
                return Ok(Outcome::Replace(
                    b,
                    "--drop-grantor-if-missing: GRANTED BY a role the dump does not create",
                ));
            }
        }
        Ok(Outcome::Keep)
    }

    fn finish(&mut self) -> Result<()> {
        if self.prescan.active {
            self.replay()?;
        }
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

#[cfg(test)]
mod tests {
    use super::clean::drop_for;
    use super::target::{maintain_privilege, multirange_option, subscription_options_after};
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
        let d = |s: &str| {
            let opts = AnalyzeOptions {
                keep_tree: true,
                ..AnalyzeOptions::default()
            };
            let a = analysis::analyze_with(s.as_bytes(), "UTF8", &opts).unwrap();
            drop_for(a.tree.as_deref().unwrap()).unwrap()
        };
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
        // pg_dump 18 into 13: binary and streaming arrived in 14.
        let s = b"CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false, slot_name = NONE, binary = true, streaming = off);\n";
        let cuts = subscription_options_after(s, "UTF8", 13);
        assert_eq!(
            String::from_utf8(splice_out(s, &cuts)).unwrap(),
            "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false, slot_name = NONE);\n"
        );
        assert!(subscription_options_after(s, "UTF8", 14).is_empty());
        // pg_dump 14 and later into 13: no multiranges.
        let s = b"CREATE TYPE app.floatrange AS RANGE (\n    subtype = double precision,\n    multirange_type_name = app.floatmultirange,\n    subtype_diff = float8mi\n);\n";
        let cut = multirange_option(s, "UTF8").unwrap();
        assert_eq!(
            String::from_utf8(splice_out(s, std::slice::from_ref(&cut))).unwrap(),
            "CREATE TYPE app.floatrange AS RANGE (\n    subtype = double precision,\n    subtype_diff = float8mi\n);\n"
        );
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
