//! pg_dumpall's sections: the globals, then one section per database,
//! kept or left out whole (`--database`, `--exclude-database`,
//! `--globals-only`, `--no-globals`).
//!
//! Two layouts exist. pg_dumpall 11 and later opens each database's
//! section with a `-- Database "NAME" dump` comment and creates the
//! database inside it (`pg_dump -C`). pg_dumpall 10 and older writes every
//! `CREATE DATABASE` (with the databases' grants, settings and per-database
//! role settings) among the globals, then one `\connect NAME` section per
//! database without any such comment (9.2 and older print no version
//! banner either). In that layout a `\connect` to another database opens a
//! section, and the database statements among the globals belong to their
//! database: kept with it, and left out with it or by `--globals-only`,
//! whatever `--no-globals` says.

use super::*;

impl Filter<'_, '_> {
    /// A pg_dumpall section boundary: the `--` line before `seg` opens it.
    pub(super) fn start_section(&mut self, seg: &Segment<'_>, next: Section) -> Result<()> {
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
    pub(super) fn end_section(&mut self) -> Result<()> {
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
        self.parents.clear();
        self.created_relations.clear();
        self.unlogged.clear();
        self.children.clear();
        self.readers.clear();
        self.copy_keep = true;
        Ok(())
    }

    pub(super) fn decide_section(&mut self, keep: bool, name: Option<String>) -> Result<()> {
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

    pub(super) fn database_wanted(&mut self, name: &str) -> bool {
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

    /// `\connect DB` in pg_dumpall output: in the old layout (no `--
    /// Database "…" dump` comments) a connection to another database than
    /// the section's opens that database's section.
    pub(super) fn connect_opens_section(&mut self, db: String) -> Result<()> {
        match &self.section {
            Section::Undecided => return self.name_section(db),
            Section::Globals => {}
            Section::Database { .. } if self.section_name.as_deref() != Some(db.as_str()) => {}
            _ => return Ok(()),
        }
        self.resolve_seq_hold(None)?;
        if self.clean_buffering {
            self.flush_pending()?;
            self.clean_flush()?;
        }
        self.flush_pending()?;
        self.end_section()?;
        self.section = Section::Undecided;
        self.section_name = None;
        self.section_buf.clear();
        self.name_section(db)
    }

    /// The database a section is about, once a statement or `\connect`
    /// names it.
    pub(super) fn name_section(&mut self, name: String) -> Result<()> {
        let keep = self.database_wanted(&name);
        self.decide_section(keep, Some(name))
    }

    pub(super) fn in_globals_dropped(&self) -> bool {
        self.dumpall && self.section == Section::Globals && self.opts.no_globals
    }
}

/// The database a `\connect` line connects to: `\connect db`,
/// `\connect "db"`, `\connect -reuse-previous=on "dbname='db'"`.
pub(super) fn connect_target(line: &[u8]) -> Option<String> {
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
pub(super) fn conninfo_dbname(s: &str) -> Option<String> {
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

/// The database a database-level statement is about: `CREATE`, `DROP`,
/// `ALTER DATABASE`, `GRANT`/`REVOKE … ON DATABASE`, `COMMENT` or `SECURITY
/// LABEL ON DATABASE`, `ALTER ROLE … IN DATABASE`, as old pg_dumpall writes
/// them among the globals.
pub(super) fn database_statement_name(stmt: &[u8], enc: &str) -> Option<String> {
    let w = first_words(stmt, 3);
    let is = |i: usize, word: &str| crate::sql::words::word_is(&w, i, word);
    let candidate = (is(0, "create") || is(0, "drop") || is(0, "alter")) && is(1, "database")
        || is(0, "grant")
        || is(0, "revoke")
        || is(0, "comment")
        || (is(0, "security") && is(1, "label"))
        || (is(0, "alter") && (is(1, "role") || is(1, "user")));
    if !candidate {
        return None;
    }
    let parsed = parse(stmt, enc)?;
    let object_string = |n: &Option<Box<pb::Node>>| match n.as_deref().and_then(|n| n.node.as_ref())
    {
        Some(N::String(s)) => Some(s.sval.clone()),
        _ => None,
    };
    let is_db = |t: i32| t == pb::ObjectType::ObjectDatabase as i32;
    match first_node(&parsed)? {
        N::CreatedbStmt(s) => Some(s.dbname.clone()),
        N::DropdbStmt(s) => Some(s.dbname.clone()),
        N::AlterDatabaseStmt(s) => Some(s.dbname.clone()),
        N::AlterDatabaseSetStmt(s) => Some(s.dbname.clone()),
        N::AlterRoleSetStmt(s) if !s.database.is_empty() => Some(s.database.clone()),
        N::AlterOwnerStmt(s) if is_db(s.object_type) => object_string(&s.object),
        N::RenameStmt(s) if is_db(s.rename_type) => Some(s.subname.clone()),
        N::CommentStmt(s) if is_db(s.objtype) => object_string(&s.object),
        N::SecLabelStmt(s) if is_db(s.objtype) => object_string(&s.object),
        N::GrantStmt(s) if is_db(s.objtype) => s.objects.iter().find_map(|o| match &o.node {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        }),
        _ => None,
    }
}

pub(super) fn create_database_name(stmt: &[u8], enc: &str) -> Option<String> {
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
