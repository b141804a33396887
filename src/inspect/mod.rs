//! The report of `pgpipe-inspect`: what a plain dump contains, which roles it
//! needs, and whether it is complete.
//!
//! [`inspect`] reads a dump once (optionally copying it through unchanged)
//! and returns a [`Report`], which renders as text ([`Report::render_text`])
//! or as JSON (the `Serialize` impl; the schema is documented in
//! `man/pgpipe-inspect.1` and versioned by [`Report::schema`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{Read, Write};

use serde::Serialize;

use crate::dump::{Cut, Ending, Kind, Segment};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sql::analysis::{self, Action, ObjectKind, RoleName, RoleRefKind};
use crate::sql::words::first_words;

pub mod target;

/// Version of the JSON schema. Bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything `pgpipe-inspect` reports about a dump.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// JSON schema version ([`SCHEMA_VERSION`]).
    pub schema: u32,
    /// `pg_dump`, `pg_dumpall`, or null when the banner is missing.
    pub producer: Option<String>,
    /// `-- Dumped from database version …` (the first one).
    pub dumped_from: Option<String>,
    /// `-- Dumped by pg_dump version …` (the first one).
    pub dumped_by: Option<String>,
    /// The first `SET client_encoding` of the dump (null if none).
    pub encoding: Option<String>,
    /// The first `SET standard_conforming_strings` (null if none).
    pub standard_conforming_strings: Option<bool>,
    /// Keys of the `\restrict` lines, in order.
    pub restrict_keys: Vec<String>,
    /// The complete ending was seen: the footer, every `\restrict` closed
    /// by its `\unrestrict`, and nothing cut.
    pub complete: bool,
    /// Why the dump is not complete (null when it is).
    pub incomplete_reason: Option<String>,
    /// Statements after the last "dump complete" footer (null when there
    /// are none): added by another program, or a second dump appended.
    pub statements_after_footer: Option<AfterFooterReport>,
    /// `lf`, `crlf`, `mixed` or `none` (no line ends at all).
    pub line_endings: String,
    pub bytes: u64,
    pub lines: u64,
    pub statements: u64,
    /// Every role referenced, by name, with counts per kind of reference.
    pub roles: Vec<RoleReport>,
    /// Roles the dump creates (`CREATE ROLE`).
    pub roles_created: Vec<String>,
    /// Roles referenced but not created by the dump: they must exist on the
    /// target, or be mapped.
    pub roles_required: Vec<String>,
    /// References to PUBLIC, CURRENT_USER, SESSION_USER, CURRENT_ROLE.
    pub special_role_references: BTreeMap<String, u64>,
    pub schemas: Vec<String>,
    pub extensions: Vec<String>,
    pub tables: Vec<TableReport>,
    pub sequences: Vec<QualifiedName>,
    pub functions: Vec<QualifiedName>,
    pub databases: Vec<DatabaseReport>,
    pub warnings: Vec<Warning>,
}

/// The statements after the last footer.
#[derive(Debug, Clone, Serialize, Default)]
pub struct AfterFooterReport {
    /// How many statements (COPY included).
    pub count: u64,
    /// The line the first starts on.
    pub first_line: u64,
    /// The first one's first words.
    pub first: String,
    /// Everything else about the ending is complete: with
    /// `--allow-after-footer` the dump counts as complete.
    pub otherwise_complete: bool,
}

/// One referenced role.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RoleReport {
    pub name: String,
    /// Whether the dump creates it.
    pub created: bool,
    /// All references.
    pub references: u64,
    /// References per kind (`owner`, `grantee`, `granted_by`, …).
    pub kinds: BTreeMap<String, u64>,
}

/// A schema-qualified object name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualifiedName {
    pub schema: Option<String>,
    pub name: String,
}

impl QualifiedName {
    fn display(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A table and its data.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TableReport {
    pub schema: Option<String>,
    pub name: String,
    /// Rows in COPY data or INSERT statements.
    pub rows: u64,
    /// Bytes of COPY data or INSERT statements.
    pub data_bytes: u64,
}

/// A database of a pg_dumpall (or `pg_dump -C`) dump.
#[derive(Debug, Clone, Serialize, Default)]
pub struct DatabaseReport {
    pub name: String,
    pub owner: Option<String>,
}

/// Something that will fail, or may, on common targets.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    /// Input line, where there is one.
    pub line: Option<u64>,
    /// Stable code: `comment_on_extension`, `transaction_timeout`,
    /// `granted_by_missing_role`, `md5_password`, `unparsed_statement`, `unparsed_data`,
    /// `unseen_code`, `meta_command`,
    /// `crlf_line_endings`, `restrict_mismatch`.
    pub code: String,
    pub message: String,
}

#[derive(Default)]
struct RoleCounts {
    references: u64,
    kinds: BTreeMap<&'static str, u64>,
}

#[derive(Default)]
struct State {
    report: Report,
    roles: BTreeMap<String, RoleCounts>,
    created: BTreeSet<String>,
    granted_by: Vec<(String, u64)>,
    schemas: BTreeSet<String>,
    extensions: BTreeSet<String>,
    tables: BTreeMap<QualifiedName, TableReport>,
    sequences: BTreeSet<QualifiedName>,
    functions: BTreeSet<QualifiedName>,
    databases: Vec<DatabaseReport>,
    db_index: HashMap<String, usize>,
    ending: Ending,
    copy_table: Option<QualifiedName>,
    lf_lines: u64,
    /// Tables whose columns name roles (aclitem, regrole), and the fields
    /// of the COPY block being read when its table is one.
    role_columns: crate::sql::role_columns::RoleColumns,
    copy_roles: Option<crate::sql::role_data::CopyFields>,
    /// Statements that run code the dump does not show.
    watch: crate::sql::effects::Watch,
    /// What the dump needs from a target (`--target`), when asked.
    needs: Option<target::Needs>,
}

/// Read a dump, copying it unchanged to `passthrough` when given, and
/// report on it. Incompleteness is reported, not returned as an error.
pub fn inspect<R: Read>(
    input: R,
    passthrough: Option<&mut dyn Write>,
    progress: &Progress,
    max_statement: usize,
) -> Result<Report> {
    inspect_needs(input, passthrough, progress, max_statement, false).map(|(r, _)| r)
}

/// [`inspect`], and with `needs` also what the dump needs from the server
/// it is restored into (for `--target`).
pub fn inspect_needs<R: Read>(
    input: R,
    passthrough: Option<&mut dyn Write>,
    progress: &Progress,
    max_statement: usize,
    needs: bool,
) -> Result<(Report, Option<target::Needs>)> {
    let mut stage = Inspector {
        st: State {
            needs: needs.then(target::Needs::default),
            ..State::default()
        },
        passthrough,
    };
    let summary = crate::dump::drive(input, max_statement, progress, &mut stage)?;
    let mut st = stage.st;
    if let (Some(Cut::Copy { rows, .. }), Some(t)) = (summary.cut.as_ref(), st.copy_table.take())
        && let Some(tr) = st.tables.get_mut(&t)
    {
        tr.rows += rows;
    }
    st.report.lines = summary.lines;
    let crlf = summary.crlf_lines;
    st.report.line_endings = if st.lf_lines == 0 {
        "none"
    } else if crlf == 0 {
        "lf"
    } else if crlf >= st.lf_lines {
        "crlf"
    } else {
        "mixed"
    }
    .into();
    if crlf > 0 {
        st.warn(
            None,
            "crlf_line_endings",
            format!(
                "{crlf} lines end in CR LF (a dump passed through a terminal, as with docker exec -t?); psql keeps the CR in COPY data"
            ),
        );
    }
    let incomplete = st.ending.incomplete_reason(summary.cut.as_ref());
    st.report.statements_after_footer = st.ending.after_footer().map(|a| AfterFooterReport {
        count: a.statements,
        first_line: a.first_line,
        first: a.first.clone(),
        otherwise_complete: st.ending.incomplete(summary.cut.as_ref(), true).is_none(),
    });
    st.report.producer = st.ending.producer().map(|p| p.as_str().to_string());
    st.report.restrict_keys = st.ending.restrict_keys().to_vec();
    let needs = st.needs.take();
    Ok((st.finish(incomplete), needs))
}

/// The inspection as a stage of the stream driver.
struct Inspector<'a> {
    st: State,
    passthrough: Option<&'a mut dyn Write>,
}

impl crate::dump::Stage for Inspector<'_> {
    fn segment(&mut self, seg: &Segment<'_>) -> Result<()> {
        if let Some(out) = self.passthrough.as_deref_mut() {
            out.write_all(seg.bytes)
                .map_err(|e| Error::io("write error", e))?;
        }
        self.st.report.bytes += seg.bytes.len() as u64;
        let line = seg.line;
        if let Some(m) = self.st.ending.observe(seg) {
            self.st.warn(Some(m.line), "restrict_mismatch", m.message);
        }
        match seg.kind {
            Kind::Blank => {}
            Kind::Comment => self.st.comment(seg.bytes),
            Kind::Meta => {
                let m = crate::dump::meta::parse(seg.bytes);
                if !m.is_dump_form() {
                    self.st.warn(
                        Some(line),
                        "meta_command",
                        format!(
                            "{}: a psql command pg_dump does not write; it can run SQL, read files or start programs that the dump does not show",
                            m.display()
                        ),
                    );
                }
            }
            Kind::Statement | Kind::CopyStatement => {
                self.st.report.statements += 1;
                self.st
                    .statement(seg.bytes, line, seg.encoding, seg.std_strings, seg.kind);
            }
            Kind::CopyData | Kind::CopyPart => {
                if let Some(t) = &self.st.copy_table
                    && let Some(tr) = self.st.tables.get_mut(t)
                {
                    tr.data_bytes += seg.bytes.len() as u64;
                }
                if seg.kind == Kind::CopyData {
                    self.st.copy_roles(seg.bytes, seg.encoding, line);
                }
            }
            Kind::CopyEnd => {
                self.st.copy_roles = None;
                if let Some(t) = self.st.copy_table.take()
                    && let Some(tr) = self.st.tables.get_mut(&t)
                {
                    tr.rows += seg.copy_rows;
                }
            }
            Kind::Incomplete => {}
        }
        if seg.kind != Kind::CopyData && seg.kind != Kind::CopyPart {
            self.st.lf_lines += crate::dump::reader::count_newlines(seg.bytes);
        }
        Ok(())
    }
}

impl State {
    fn warn(&mut self, line: Option<u64>, code: &str, message: String) {
        self.report.warnings.push(Warning {
            line,
            code: code.into(),
            message,
        });
    }

    fn comment(&mut self, bytes: &[u8]) {
        let text = bytes.trim_ascii_end();
        if let Some(v) = text.strip_prefix(b"-- Dumped from database version ") {
            self.report.dumped_from.get_or_insert_with(|| lossy(v));
        } else if let Some(v) = text
            .strip_prefix(b"-- Dumped by pg_dump version ")
            .or_else(|| text.strip_prefix(b"-- Dumped by pg_dumpall version "))
        {
            self.report.dumped_by.get_or_insert_with(|| lossy(v));
        }
    }

    /// A role named by table data (an aclitem or regrole value).
    fn data_role(&mut self, name: &str) {
        let c = self.roles.entry(name.to_string()).or_default();
        c.references += 1;
        *c.kinds.entry("data").or_default() += 1;
    }

    /// The roles named by the role-typed fields of COPY rows.
    fn copy_roles(&mut self, rows: &[u8], encoding: &str, line: u64) {
        let Some(cf) = self.copy_roles.take() else {
            return;
        };
        let mut named = Vec::new();
        for row in rows.split_inclusive(|&b| b == b'\n') {
            let mut keep = |_: &str| crate::sql::role_data::NameFate::Keep;
            let r =
                crate::sql::role_data::copy_row(row, &cf.fields, encoding, &mut keep, &mut |n| {
                    named.push(n.to_string())
                });
            if let Err((_, e)) = r {
                self.warn(
                    Some(line),
                    "unparsed_data",
                    format!("a role-typed value was not read: {}", e.0),
                );
                break;
            }
        }
        for n in named {
            self.data_role(&n);
        }
        self.copy_roles = Some(cf);
    }

    fn statement(&mut self, stmt: &[u8], line: u64, encoding: &str, std_strings: bool, kind: Kind) {
        if let Some(why) = self.watch.statement(stmt, encoding) {
            self.warn(
                Some(line),
                "unseen_code",
                format!("{why}: it runs code the dump does not show, which may name any role"),
            );
        }
        self.role_columns.observe(stmt, encoding);
        if kind == Kind::CopyStatement
            && !self.role_columns.is_empty()
            && let Some((schema, name)) = crate::sql::words::copy_target(stmt)
            && let Some(table) = self.role_columns.table(schema.as_deref(), &name)
        {
            self.copy_roles = crate::sql::role_data::copy_fields(stmt, encoding, table).ok();
        }

        if self.report.encoding.is_none()
            && let Some(v) = crate::dump::reader::set_value(stmt, b"client_encoding")
        {
            self.report.encoding = Some(lossy(v));
        }
        if self.report.standard_conforming_strings.is_none()
            && let Some(v) = crate::dump::reader::set_value(stmt, b"standard_conforming_strings")
        {
            self.report.standard_conforming_strings = Some(v.eq_ignore_ascii_case(b"on"));
        }
        if let Some(n) = self.needs.as_mut() {
            n.setting(stmt, line);
            n.text(stmt, line);
        }
        if crate::dump::reader::set_value(stmt, b"transaction_timeout").is_some() {
            self.warn(
                Some(line),
                "transaction_timeout",
                "SET transaction_timeout fails on servers older than PostgreSQL 17 (unrecognized configuration parameter)".into(),
            );
            return;
        }
        let words = first_words(stmt, 3);
        let is = |i: usize, w: &str| {
            words
                .get(i)
                .is_some_and(|x| x.eq_ignore_ascii_case(w.as_bytes()))
        };
        if is(0, "insert") && is(1, "into") {
            if !self.role_columns.is_empty()
                && let Some((schema, name)) = crate::sql::words::insert_target(stmt)
                && let Some(table) = self.role_columns.table(schema.as_deref(), &name)
            {
                let mut named = Vec::new();
                let mut keep = |_: &str| crate::sql::role_data::NameFate::Keep;
                let r = crate::sql::role_data::insert(
                    stmt,
                    table,
                    encoding,
                    std_strings,
                    &mut keep,
                    &mut |n| named.push(n.to_string()),
                    &|_| false,
                );
                if let Err(e) = r {
                    self.warn(
                        Some(line),
                        "unparsed_data",
                        format!("a role-typed value was not read: {}", e.0),
                    );
                }
                for n in named {
                    self.data_role(&n);
                }
            }
            if let Some((name, rows)) = insert_target(stmt, std_strings) {
                let t = self
                    .tables
                    .entry(name.clone())
                    .or_insert_with(|| TableReport {
                        schema: name.schema.clone(),
                        name: name.name.clone(),
                        ..TableReport::default()
                    });
                t.rows += rows;
                t.data_bytes += stmt.len() as u64;
            }
            return;
        }
        if is(0, "comment") && is(1, "on") && is(2, "extension") {
            self.warn(
                Some(line),
                "comment_on_extension",
                "COMMENT ON EXTENSION fails unless the restoring role owns the extension (must be owner of extension), as on managed targets".into(),
            );
        }
        let wants_object = kind == Kind::CopyStatement
            || is(0, "create")
            || (is(0, "alter") && is(1, "database"))
            || (self.needs.is_some() && is(0, "drop"));
        if !wants_object && !analysis::may_reference_roles(stmt) {
            return;
        }
        let opts = analysis::AnalyzeOptions {
            standard_conforming_strings: std_strings,
            ..analysis::AnalyzeOptions::default()
        };
        let a = match analysis::analyze_with(stmt, encoding, &opts) {
            Ok(a) => a,
            Err(e) => {
                self.warn(
                    Some(line),
                    "unparsed_statement",
                    format!("statement not analysed: {e}"),
                );
                return;
            }
        };
        if let Some(n) = self.needs.as_mut() {
            n.analysed(stmt, line, &a);
        }
        for r in &a.role_refs {
            match &r.role {
                RoleName::Named(n) => {
                    let c = self.roles.entry(n.clone()).or_default();
                    c.references += 1;
                    *c.kinds.entry(r.kind.as_str()).or_default() += 1;
                    if r.kind == RoleRefKind::GrantedBy {
                        self.granted_by.push((n.clone(), line));
                    }
                    if r.kind == RoleRefKind::RoleDefinition && a.action == Action::Create {
                        self.created.insert(n.clone());
                    }
                }
                other => {
                    let key = match other {
                        RoleName::Public => "PUBLIC",
                        RoleName::CurrentUser => "CURRENT_USER",
                        RoleName::SessionUser => "SESSION_USER",
                        _ => "CURRENT_ROLE",
                    };
                    *self
                        .report
                        .special_role_references
                        .entry(key.into())
                        .or_default() += 1;
                }
            }
        }
        if let Some(o) = &a.object {
            let qn = QualifiedName {
                schema: o.schema.clone(),
                name: o.name.clone(),
            };
            match (a.action, o.kind) {
                (Action::Create, ObjectKind::Schema) => {
                    self.schemas.insert(o.name.clone());
                }
                (Action::Create, ObjectKind::Extension) => {
                    self.extensions.insert(o.name.clone());
                }
                (Action::Create, ObjectKind::Table) => {
                    self.tables
                        .entry(qn.clone())
                        .or_insert_with(|| TableReport {
                            schema: qn.schema.clone(),
                            name: qn.name.clone(),
                            ..TableReport::default()
                        });
                }
                (Action::Create, ObjectKind::Sequence) => {
                    self.sequences.insert(qn);
                }
                (
                    Action::Create,
                    ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Aggregate,
                ) => {
                    self.functions.insert(qn);
                }
                (Action::Create, ObjectKind::Database) => {
                    self.database(&o.name);
                }
                (Action::Alter, ObjectKind::Database) => {
                    let owner = a
                        .role_refs
                        .iter()
                        .find(|r| r.kind == RoleRefKind::Owner)
                        .and_then(|r| r.role.name().map(str::to_string));
                    if let Some(owner) = owner {
                        let i = self.database(&o.name);
                        self.databases[i].owner = Some(owner);
                    }
                }
                (Action::Create | Action::Alter, ObjectKind::Role) => {
                    if let Some(msg) = md5_password(stmt) {
                        self.warn(Some(line), "md5_password", msg);
                    }
                }
                (Action::Copy, _) => {
                    let table = o
                        .table
                        .clone()
                        .map_or(qn, |(schema, name)| QualifiedName { schema, name });
                    self.tables
                        .entry(table.clone())
                        .or_insert_with(|| TableReport {
                            schema: table.schema.clone(),
                            name: table.name.clone(),
                            ..TableReport::default()
                        });
                    self.copy_table = Some(table);
                }
                _ => {}
            }
        }
    }

    fn database(&mut self, name: &str) -> usize {
        if let Some(&i) = self.db_index.get(name) {
            return i;
        }
        self.databases.push(DatabaseReport {
            name: name.to_string(),
            owner: None,
        });
        self.db_index
            .insert(name.to_string(), self.databases.len() - 1);
        self.databases.len() - 1
    }

    fn finish(mut self, incomplete: Option<String>) -> Report {
        for (name, line) in std::mem::take(&mut self.granted_by) {
            if !self.created.contains(&name) {
                self.warn(
                    Some(line),
                    "granted_by_missing_role",
                    format!(
                        "GRANTED BY {name}: the dump does not create this role; on PostgreSQL 16+ the grant fails (permission denied to grant privileges as role \"{name}\") unless it exists"
                    ),
                );
            }
        }
        let mut r = self.report;
        r.schema = SCHEMA_VERSION;
        r.complete = incomplete.is_none();
        r.incomplete_reason = incomplete;
        r.roles = self
            .roles
            .into_iter()
            .map(|(name, c)| RoleReport {
                created: self.created.contains(&name),
                name,
                references: c.references,
                kinds: c
                    .kinds
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            })
            .collect();
        r.roles_required = r
            .roles
            .iter()
            .filter(|x| !x.created)
            .map(|x| x.name.clone())
            .collect();
        r.roles_created = self.created.into_iter().collect();
        r.schemas = self.schemas.into_iter().collect();
        r.extensions = self.extensions.into_iter().collect();
        r.tables = self.tables.into_values().collect();
        r.sequences = self.sequences.into_iter().collect();
        r.functions = self.functions.into_iter().collect();
        r.databases = self.databases;
        r.warnings.sort_by_key(|w| w.line.unwrap_or(0));
        r
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// For `INSERT INTO [schema.]table [(cols)] [OVERRIDING …] VALUES (…)[, (…)]…`:
/// the table and the number of rows, read without a full parse (INSERT-mode
/// dumps hold one statement per row).
pub fn insert_target(stmt: &[u8], std_strings: bool) -> Option<(QualifiedName, u64)> {
    let ((schema, name), i) = crate::sql::words::insert_target_end(stmt)?;
    let name = QualifiedName { schema, name };
    // Rows: top-level parenthesised groups after VALUES (the column list
    // comes before it).
    let values = find_word(stmt, i, b"values")?;
    let mut depth = 0u32;
    let mut rows = 0u64;
    let mut j = values;
    while j < stmt.len() {
        match stmt[j] {
            b'\'' => {
                let escapes = !std_strings || (j > 0 && matches!(stmt[j - 1], b'E' | b'e'));
                j = skip_quoted(stmt, j, b'\'', escapes)?;
                continue;
            }
            b'"' => {
                j = skip_quoted(stmt, j, b'"', false)?;
                continue;
            }
            b'(' => {
                if depth == 0 {
                    rows += 1;
                }
                depth += 1;
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        j += 1;
    }
    Some((name, rows))
}

fn find_word(stmt: &[u8], from: usize, word: &[u8]) -> Option<usize> {
    let mut i = from;
    while i + word.len() <= stmt.len() {
        match stmt[i] {
            b'(' => {
                // The column list: skip it (column names may be quoted).
                let mut depth = 0;
                while i < stmt.len() {
                    match stmt[i] {
                        b'"' => {
                            i = skip_quoted(stmt, i, b'"', false)?;
                            continue;
                        }
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ if stmt[i..i + word.len()].eq_ignore_ascii_case(word) => return Some(i + word.len()),
            _ => i += 1,
        }
    }
    None
}

/// Skip a quoted token starting at `i` (the opening quote); returns the index after it.
fn skip_quoted(s: &[u8], i: usize, q: u8, escapes: bool) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let b = *s.get(j)?;
        if escapes && b == b'\\' {
            j += 2;
        } else if b == q {
            if s.get(j + 1) == Some(&q) {
                j += 2;
            } else {
                return Some(j + 1);
            }
        } else {
            j += 1;
        }
    }
}

/// A warning when `CREATE|ALTER ROLE` sets an md5 password (salted with the
/// role name, so renaming the role breaks it).
fn md5_password(stmt: &[u8]) -> Option<String> {
    let parsed = crate::sql::tree::parse(stmt, "UTF8")?;
    let node = crate::sql::tree::first(&parsed)?;
    let (role, options) = match node {
        pg_query::NodeEnum::CreateRoleStmt(s) => (s.role.clone(), &s.options),
        pg_query::NodeEnum::AlterRoleStmt(s) => (
            s.role
                .as_ref()
                .map(|r| r.rolename.clone())
                .unwrap_or_default(),
            &s.options,
        ),
        _ => return None,
    };
    for opt in options {
        if let Some(pg_query::NodeEnum::DefElem(d)) = &opt.node
            && d.defname == "password"
            && let Some(arg) = &d.arg
            && let Some(pg_query::NodeEnum::String(s)) = &arg.node
            && crate::sql::is_md5_hash(&s.sval)
        {
            return Some(format!(
                "role {role} has an md5 password: it is salted with the role name, so it breaks if the role is renamed, and PostgreSQL 18 deprecates md5"
            ));
        }
    }
    None
}

impl Report {
    /// The human-readable summary.
    pub fn render_text(&self, name: &str) -> String {
        let mut o = String::new();
        let _ = writeln!(o, "dump: {name}");
        let producer = self.producer.as_deref().unwrap_or("unknown producer");
        let by = self
            .dumped_by
            .as_deref()
            .map(|v| format!(" {v}"))
            .unwrap_or_default();
        let from = self
            .dumped_from
            .as_deref()
            .map(|v| format!(", from server {v}"))
            .unwrap_or_default();
        let _ = writeln!(o, "producer: {producer}{by}{from}");
        let _ = writeln!(
            o,
            "encoding: {}, standard_conforming_strings {}, line endings {}",
            self.encoding.as_deref().unwrap_or("not set"),
            match self.standard_conforming_strings {
                Some(true) => "on",
                Some(false) => "off",
                None => "not set",
            },
            self.line_endings
        );
        let _ = writeln!(
            o,
            "size: {} bytes, {} lines, {} statements",
            self.bytes, self.lines, self.statements
        );
        match &self.incomplete_reason {
            None => {
                let restrict = if self.restrict_keys.is_empty() {
                    String::new()
                } else {
                    ", every \\restrict closed by its \\unrestrict".into()
                };
                let _ = writeln!(o, "complete: yes (footer seen{restrict})");
            }
            Some(why) => {
                let _ = writeln!(o, "complete: NO: {why}");
                if self
                    .statements_after_footer
                    .as_ref()
                    .is_some_and(|a| a.otherwise_complete)
                {
                    let _ = writeln!(
                        o,
                        "  (complete up to them: --allow-after-footer accepts whole statements after the footer)"
                    );
                }
            }
        }
        let _ = writeln!(o);
        if self.roles_required.is_empty() {
            let _ = writeln!(o, "roles that must exist on the target: none");
        } else {
            let _ = writeln!(
                o,
                "roles that must exist on the target (or be mapped with pgpipe-roles):"
            );
            for r in self.roles.iter().filter(|r| !r.created) {
                let _ = writeln!(o, "  {:<24} {}", r.name, kinds_text(&r.kinds));
            }
        }
        if !self.roles_created.is_empty() {
            let _ = writeln!(o, "roles the dump creates:");
            for r in self.roles.iter().filter(|r| r.created) {
                let _ = writeln!(o, "  {:<24} {}", r.name, kinds_text(&r.kinds));
            }
        }
        list(&mut o, "schemas", &self.schemas);
        list(&mut o, "extensions", &self.extensions);
        if !self.databases.is_empty() {
            let _ = writeln!(o, "databases:");
            for d in &self.databases {
                let owner = d
                    .owner
                    .as_deref()
                    .map(|x| format!(" (owner {x})"))
                    .unwrap_or_default();
                let _ = writeln!(o, "  {}{owner}", d.name);
            }
        }
        if !self.tables.is_empty() {
            let _ = writeln!(o, "tables: {} (rows, data bytes)", self.tables.len());
            for t in &self.tables {
                let qn = QualifiedName {
                    schema: t.schema.clone(),
                    name: t.name.clone(),
                };
                let _ = writeln!(
                    o,
                    "  {:<40} {:>12} {:>14}",
                    qn.display(),
                    t.rows,
                    t.data_bytes
                );
            }
        }
        let seqs: Vec<String> = self.sequences.iter().map(QualifiedName::display).collect();
        list(&mut o, "sequences", &seqs);
        let funcs: Vec<String> = self.functions.iter().map(QualifiedName::display).collect();
        list(&mut o, "functions", &funcs);
        if !self.warnings.is_empty() {
            let _ = writeln!(o, "warnings:");
            for w in &self.warnings {
                match w.line {
                    Some(l) => {
                        let _ = writeln!(o, "  line {l}: {}", w.message);
                    }
                    None => {
                        let _ = writeln!(o, "  {}", w.message);
                    }
                }
            }
        }
        o
    }
}

fn kinds_text(kinds: &BTreeMap<String, u64>) -> String {
    kinds
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(o: &mut String, title: &str, items: &[String]) {
    if items.is_empty() {
        let _ = writeln!(o, "{title}: none");
    } else {
        let _ = writeln!(o, "{title}: {}", items.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_targets_and_rows() {
        let (n, rows) = insert_target(
            b"INSERT INTO app.t1 (id, \"Mixed Col\") VALUES (1, 'a(b'), (2, 'x''y');",
            true,
        )
        .unwrap();
        assert_eq!(
            n,
            QualifiedName {
                schema: Some("app".into()),
                name: "t1".into()
            }
        );
        assert_eq!(rows, 2);
        let (n, rows) = insert_target(
            b"INSERT INTO \"Weird Schema\".\"My Table\" VALUES (1, E'a\\')(');",
            true,
        )
        .unwrap();
        assert_eq!(n.schema.as_deref(), Some("Weird Schema"));
        assert_eq!(n.name, "My Table");
        assert_eq!(rows, 1);
        let (_, rows) = insert_target(b"INSERT INTO t VALUES ('a\\'(', 1);", false).unwrap();
        assert_eq!(rows, 1);
        let (_, rows) = insert_target(
            b"INSERT INTO public.t OVERRIDING SYSTEM VALUE VALUES\n\t(1),\n\t(2),\n\t(3);",
            true,
        )
        .unwrap();
        assert_eq!(rows, 3);
    }
}
