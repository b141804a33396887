//! One segment at a time: what pgpipe-roles does to a header comment, a
//! statement, and the rows of a COPY block, given the [`Plan`].
//!
//! Rewriting is splicing: the output statement is the original bytes with
//! exactly the spans of the role references to change replaced, one list
//! item removed with its separating comma, or the whole statement dropped.
//! The statements pgpipe-filter wraps in a `DO` block are seen through
//! ([`crate::sql::blocks`]). Role-typed table data (`aclitem`, `regrole`)
//! is rewritten field by field ([`super::data`]); the columns come from the
//! DDL seen so far ([`RoleColumns`]).

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use pg_query::protobuf::Token;

use super::plan::{Fate, Merges, Plan};
use super::{Edit, Error, Report, Result, Tally};
use crate::dump::{Segment, header};
use crate::sql::analysis::{
    self, Action, Analysis, AnalyzeOptions, ObjectKind, RoleName, RoleRef, RoleRefKind,
};
use crate::sql::blocks::{self, OwnBlock};
use crate::sql::encoding;
use crate::sql::role_columns::RoleColumns;
use crate::sql::role_data::{self as data, Field, NameFate};
use crate::sql::words;

/// The decision for one statement.
pub enum Outcome {
    Keep,
    Drop,
    Replace(Vec<u8>),
}

/// A statement that defines a role (creates, alters, comments on, drops it).
#[derive(Debug, Clone)]
pub enum Definition {
    /// Of a mapped role: whether it reaches the output is the merge rules'
    /// decision, once the dump has shown whether NEW has its own.
    Mapped { old: String, new: String, line: u64 },
    /// Of any other role.
    Other,
}

/// What became of one statement.
pub struct Done {
    pub outcome: Outcome,
    pub definition: Option<Definition>,
    /// `GRANT role TO member`: membership statements are checked as a run.
    pub membership: bool,
}

impl Done {
    fn plain(outcome: Outcome) -> Done {
        Done {
            outcome,
            definition: None,
            membership: false,
        }
    }
}

/// The COPY block being read, when its table has role-typed columns.
struct CopyBlock {
    table: String,
    fields: Vec<Field>,
    /// (column index, column name)
    names: Vec<(usize, String)>,
    /// Columns whose values may name roles in a form pgpipe does not
    /// rewrite: (index, name, why).
    opaque: Vec<(usize, String, String)>,
    rows: u64,
}

/// Per stream.
pub struct State<'o> {
    pub plan: Plan<'o>,
    pub merges: Merges,
    pub tally: Tally,
    pub report: Report,
    /// Owner and type of the current pg_dump TOC entry (from its header).
    pub toc_owner: Option<Vec<u8>>,
    pub toc_type: Vec<u8>,
    /// Roles already warned about for md5 passwords.
    md5_warned: HashSet<String>,
    pub columns: RoleColumns,
    /// Whether role-typed data must be looked at (roles renamed, dropped or checked).
    pub data: bool,
    copy: Option<CopyBlock>,
    /// `--owner`: default-privilege statements already written (merged
    /// without duplicates).
    default_acls: HashSet<Vec<u8>>,
    /// Memberships in a merged role (GRANT r TO m, r merged into NEW):
    /// (line, role, new, member), reported together.
    pub members: Vec<(u64, String, String, String)>,
    /// With `--only-roles`: what runs code the stream does not show.
    watch: crate::sql::effects::Watch,
}

/// Line number of byte `at` of a segment.
fn line_at(seg: &Segment<'_>, at: usize) -> u64 {
    seg.line + crate::dump::reader::count_newlines(&seg.bytes[..at.min(seg.bytes.len())])
}

impl<'o> State<'o> {
    pub fn new(opts: &'o super::Options) -> State<'o> {
        let plan = Plan::new(opts);
        let data = plan.changes_names() || plan.checks_only();
        State {
            plan,
            merges: Merges::default(),
            tally: Tally::default(),
            report: Report::default(),
            toc_owner: None,
            toc_type: Vec::new(),
            md5_warned: HashSet::new(),
            columns: RoleColumns::new(),
            data,
            copy: None,
            default_acls: HashSet::new(),
            members: Vec::new(),
            watch: crate::sql::effects::Watch::new(),
        }
    }

    /// The statement is dropped whole: counted, recorded, and the verdict.
    fn dropped(
        &mut self,
        seg: &Segment<'_>,
        definition: Option<Definition>,
        membership: bool,
    ) -> Done {
        self.report.statements_dropped += 1;
        self.record(seg, &[(0..seg.bytes.len(), Vec::new())]);
        Done {
            outcome: Outcome::Drop,
            definition,
            membership,
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

    /// A name as the dump holds it (bytes in its client encoding), as text.
    fn dump_name(&self, bytes: &[u8]) -> Option<String> {
        encoding::decode(bytes, self.plan.encoding())
            .ok()
            .map(|d| d.text.into_owned())
    }

    /// Rewrite the owner field of a TOC header and a user mapping's role.
    pub fn comment(&mut self, seg: &Segment<'_>) -> Result<Option<Vec<u8>>> {
        let line = seg.bytes;
        let Some(h) = header::parse(line) else {
            return Ok(None);
        };
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
                let new = self.plan.encode(o, "--owner")?;
                if owner != new.as_slice() {
                    edits.push((r, new));
                }
            } else if let Some(name) = self.dump_name(owner)
                && let Fate::Rename(new) = self.plan.fate(&name)
            {
                edits.push((r, self.plan.encode(new, "--map")?));
            }
        }
        if h.kind == b"USER MAPPING"
            && let Some(rest) = h.name.strip_prefix(b"USER MAPPING ")
            && let Some(end) = memchr::memmem::find(rest, b" SERVER ")
        {
            let role = &rest[..end];
            let s = role.as_ptr() as usize - base;
            if let Some(name) = self.dump_name(role)
                && let Fate::Rename(new) = self.plan.fate(&name)
            {
                edits.push((s..s + role.len(), self.plan.encode(new, "--map")?));
            }
        }
        if edits.is_empty() {
            return Ok(None);
        }
        self.report.headers_rewritten += 1;
        self.record(seg, &edits);
        Ok(Some(crate::sql::splice(line, edits)))
    }

    /// With `--only-roles`: refuse a statement whose execution runs code
    /// the stream does not show, which no check of the text can vouch for.
    pub fn vouch(&mut self, seg: &Segment<'_>) -> Result<()> {
        if !self.plan.checks_only() {
            return Ok(());
        }
        if let Some(why) = self.watch.statement(seg.bytes, seg.encoding) {
            return Err(Error::runtime(format!(
                "--only-roles cannot vouch for {why}: it runs code the stream does not show, \
                 which may name any role"
            ))
            .at_line(seg.line)
            .with_hint(
                "pg_dump writes no such statement; check where the dump comes from, or drop \
                 --only-roles",
            ));
        }
        Ok(())
    }

    /// A psql meta-command line: one pg_dump does not write is refused
    /// under `--only-roles` and reported otherwise.
    pub fn meta(&mut self, seg: &Segment<'_>) -> Result<()> {
        let m = crate::dump::meta::parse(seg.bytes);
        if m.is_dump_form() {
            return Ok(());
        }
        let what = format!(
            "{}, a psql command pg_dump does not write (it can run SQL, read files or start \
             programs that the stream does not show)",
            m.display()
        );
        if self.plan.checks_only() {
            return Err(
                Error::runtime(format!("--only-roles cannot vouch for {what}"))
                    .at_line(seg.line)
                    .with_hint("check where the dump comes from, or drop --only-roles"),
            );
        }
        self.report
            .warnings
            .push(format!("line {}: {what}", seg.line));
        Ok(())
    }

    pub fn statement(&mut self, seg: &Segment<'_>) -> Result<Done> {
        let stmt = seg.bytes;
        let opts = self.plan.opts;
        self.vouch(seg)?;
        if self.data {
            self.columns.observe(stmt, seg.encoding);
            if !self.columns.is_empty()
                && let Some(done) = self.insert(seg)?
            {
                return Ok(done);
            }
        }
        if is_do(stmt) {
            return self.do_block(seg);
        }
        let session_auth = opts.no_owner && is_session_authorization(stmt);
        if !analysis::may_reference_roles(stmt) && !session_auth {
            return Ok(Done::plain(Outcome::Keep));
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
            return Ok(Done::plain(Outcome::Drop));
        }
        self.report.statements_analysed += 1;
        let a = match analysis::analyze_with(
            stmt,
            seg.encoding,
            &AnalyzeOptions {
                standard_conforming_strings: seg.std_strings,
                ..AnalyzeOptions::default()
            },
        ) {
            Ok(a) => a,
            Err(e) => {
                if is_global(opts) || self.plan.mentions_changed_role(stmt) {
                    return Err(Error::runtime(format!(
                        "cannot analyse a statement that may name a role to change: {e}"
                    ))
                    .at_line(seg.line)
                    .with_hint("nothing was guessed; fix the statement or report the form"));
                }
                return Ok(Done::plain(Outcome::Keep));
            }
        };
        let definition = self.definition(&a, seg);
        let membership = a.action == Action::Grant
            && a.role_refs
                .iter()
                .any(|r| r.kind == RoleRefKind::MembershipRole);
        if a.role_refs.is_empty() && !opts.drop_passwords {
            return Ok(Done {
                outcome: Outcome::Keep,
                definition,
                membership,
            });
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
        rw.rewrite_all()?;
        let Rewrite {
            edits,
            drop,
            replace,
            kept,
            ..
        } = rw;
        if drop {
            return Ok(self.dropped(seg, definition, membership));
        }
        for (line, name) in kept {
            if !self.plan.allowed(&name) {
                self.report.foreign_roles.push((line, name));
            }
        }
        let new = if let Some(r) = replace {
            Some(r)
        } else if edits.is_empty() {
            None
        } else {
            Some(crate::sql::splice(stmt, edits.clone()))
        };
        // --owner: default privileges of several old owners become the one
        // owner's; the same statement twice is written once.
        if opts.owner.is_some()
            && a.role_refs
                .iter()
                .any(|r| r.kind == RoleRefKind::DefaultPrivilegesFor)
        {
            let text = new.as_deref().unwrap_or(stmt).trim_ascii().to_vec();
            if !self.default_acls.insert(text) {
                if let Some(r) = a.role_refs.first() {
                    let line = line_at(seg, r.span.start);
                    self.tally.add(
                        &role_label(&r.role),
                        r.kind.as_str(),
                        "statement dropped (the same default privileges again, under --owner)"
                            .into(),
                        line,
                    );
                }
                return Ok(self.dropped(seg, definition, membership));
            }
        }
        let Some(new) = new else {
            return Ok(Done {
                outcome: Outcome::Keep,
                definition,
                membership,
            });
        };
        self.report.statements_changed += 1;
        if edits.is_empty() {
            self.record(seg, &[(0..stmt.len(), new.clone())]);
        } else {
            self.record(seg, &edits);
        }
        Ok(Done {
            outcome: Outcome::Replace(new),
            definition,
            membership,
        })
    }

    /// Whether an analysed statement defines a role, and which.
    fn definition(&mut self, a: &Analysis, seg: &Segment<'_>) -> Option<Definition> {
        if !matches!(
            a.action,
            Action::Create | Action::Alter | Action::Comment | Action::Drop
        ) || a.object.as_ref().is_none_or(|o| o.kind != ObjectKind::Role)
            || a.role_refs
                .iter()
                .any(|r| r.kind == RoleRefKind::RoleNewName)
        {
            return None;
        }
        let defs: Vec<&RoleRef> = a
            .role_refs
            .iter()
            .filter(|r| {
                matches!(
                    r.kind,
                    RoleRefKind::RoleDefinition
                        | RoleRefKind::RoleSetting
                        | RoleRefKind::RoleInDatabase
                        | RoleRefKind::CommentOnRole
                        | RoleRefKind::SecurityLabelOnRole
                )
            })
            .collect();
        let [r] = defs.as_slice() else {
            return defs.first().map(|_| Definition::Other);
        };
        let name = r.role.name()?;
        match self.plan.fate(name) {
            Fate::Rename(new) => Some(Definition::Mapped {
                old: name.to_string(),
                new: new.to_string(),
                line: line_at(seg, r.span.start),
            }),
            Fate::Keep => {
                self.merges.defines_own(&self.plan, name);
                Some(Definition::Other)
            }
            Fate::Drop => Some(Definition::Other),
        }
    }

    /// A `DO` block: pgpipe's own are seen through; others run code the
    /// stream does not show and are passed on unchanged.
    fn do_block(&mut self, seg: &Segment<'_>) -> Result<Done> {
        let stmt = seg.bytes;
        let Some(OwnBlock::IfNotExists { inner }) = blocks::recognise(stmt) else {
            return Ok(Done::plain(Outcome::Keep));
        };
        let inner_seg = Segment {
            bytes: &stmt[inner.clone()],
            offset: seg.offset + inner.start as u64,
            line: line_at(seg, inner.start),
            ..*seg
        };
        let done = self.statement(&inner_seg)?;
        let outcome = match done.outcome {
            Outcome::Keep => Outcome::Keep,
            Outcome::Drop => Outcome::Drop,
            Outcome::Replace(new) => {
                let end = stmt.trim_ascii_end().len();
                let mut wrapped = new;
                wrapped.push(b';');
                wrapped.extend_from_slice(&stmt[end..]);
                Outcome::Replace(blocks::if_not_exists(&wrapped))
            }
        };
        Ok(Done { outcome, ..done })
    }

    /// `INSERT INTO t …` into a table with role-typed columns.
    fn insert(&mut self, seg: &Segment<'_>) -> Result<Option<Done>> {
        let stmt = seg.bytes;
        let Some((schema, name)) = words::insert_target(stmt) else {
            return Ok(None);
        };
        let Some(table) = self.columns.table(schema.as_deref(), &name).cloned() else {
            return Ok(None);
        };
        let what = match &schema {
            Some(s) => format!("{s}.{name}"),
            None => name.clone(),
        };
        let mut kept: Vec<String> = Vec::new();
        let mut notes: Vec<(String, &'static str, String)> = Vec::new();
        let plan = &self.plan;
        let mut names = |n: &str| fate_of(plan, n, &mut notes);
        let refuse = |text: &[u8]| plan.mentions_changed_role(text) || plan.checks_only();
        let result = data::insert(
            stmt,
            &table,
            seg.encoding,
            seg.std_strings,
            &mut names,
            &mut |n| kept.push(n.to_string()),
            &refuse,
        );
        let new = result.map_err(|e| {
            Error::runtime(format!("INSERT INTO {what}: {}", e.0))
                .at_line(seg.line)
                .with_hint("map the role instead of dropping it, or remove the row")
        })?;
        for (role, kind, action) in notes {
            self.tally.add(&role, kind, action, seg.line);
        }
        for n in kept {
            if !self.plan.allowed(&n) {
                self.report.foreign_roles.push((seg.line, n));
            }
        }
        Ok(Some(match new {
            None => Done::plain(Outcome::Keep),
            Some(b) => {
                self.report.statements_changed += 1;
                self.record(seg, &[(0..stmt.len(), b.clone())]);
                Done::plain(Outcome::Replace(b))
            }
        }))
    }

    /// A `COPY … FROM stdin` statement: are its rows to be looked at?
    pub fn copy_statement(&mut self, seg: &Segment<'_>) -> Result<()> {
        self.copy = None;
        self.vouch(seg)?;
        if !self.data || self.columns.is_empty() {
            return Ok(());
        }
        let Some((schema, name)) = words::copy_target(seg.bytes) else {
            return Ok(());
        };
        let Some(table) = self.columns.table(schema.as_deref(), &name).cloned() else {
            return Ok(());
        };
        let what = match &schema {
            Some(s) => format!("{s}.{name}"),
            None => name.clone(),
        };
        let fields = data::copy_fields(seg.bytes, seg.encoding, &table)
            .map_err(|e| Error::runtime(format!("COPY {what}: {}", e.0)).at_line(seg.line))?;
        let block = CopyBlock {
            table: what,
            fields: fields.fields,
            names: fields.names,
            opaque: fields.opaque,
            rows: 0,
        };
        if !block.fields.is_empty() || !block.opaque.is_empty() {
            self.copy = Some(block);
        }
        Ok(())
    }

    /// COPY rows: rewritten when their table has role-typed columns.
    pub fn copy_data(&mut self, seg: &Segment<'_>) -> Result<Option<Vec<u8>>> {
        let Some(block) = self.copy.as_mut() else {
            return Ok(None);
        };
        if seg.kind == crate::dump::Kind::CopyPart {
            return Err(Error::runtime(format!(
                "a row of COPY {} is longer than {} bytes; rows of a table with role-typed \
                 columns must fit in that to be rewritten",
                block.table,
                crate::dump::MAX_ROW
            ))
            .at_line(seg.line));
        }
        let mut out: Option<Vec<u8>> = None;
        let mut at = 0;
        let mut line = seg.line;
        let plan = &self.plan;
        let mut notes: Vec<(String, &'static str, String)> = Vec::new();
        let mut kept: Vec<(u64, String)> = Vec::new();
        for row in seg.bytes.split_inclusive(|&b| b == b'\n') {
            block.rows += 1;
            for (i, col, why) in &block.opaque {
                let field = row
                    .strip_suffix(b"\n")
                    .unwrap_or(row)
                    .split(|&b| b == b'\t')
                    .nth(*i)
                    .unwrap_or_default();
                if field == b"\\N" || field.is_empty() {
                    continue;
                }
                if plan.mentions_changed_role(field) || plan.checks_only() {
                    return Err(Error::runtime(format!(
                        "COPY {}: row {}, column {col} is of {why}; pgpipe cannot rewrite or \
                         check role names inside such values",
                        block.table, block.rows
                    ))
                    .at_line(line));
                }
            }
            let fields = &block.fields;
            let mut names = |n: &str| fate_of(plan, n, &mut notes);
            let r = data::copy_row(row, fields, seg.encoding, &mut names, &mut |n| {
                kept.push((line, n.to_string()))
            });
            match r {
                Ok(None) => {
                    if let Some(o) = out.as_mut() {
                        o.extend_from_slice(row);
                    }
                }
                Ok(Some(new)) => {
                    let o = out.get_or_insert_with(|| {
                        let mut v = Vec::with_capacity(seg.bytes.len() + 64);
                        v.extend_from_slice(&seg.bytes[..at]);
                        v
                    });
                    o.extend_from_slice(&new);
                }
                Err((index, e)) => {
                    let col = block
                        .names
                        .iter()
                        .find(|(i, _)| *i == index)
                        .map_or("?", |(_, n)| n.as_str());
                    return Err(Error::runtime(format!(
                        "COPY {}: row {}, column {col}: {}",
                        block.table, block.rows, e.0
                    ))
                    .at_line(line)
                    .with_hint("map the role instead of dropping it, or remove the row"));
                }
            }
            at += row.len();
            line += 1;
        }
        for (role, kind, action) in notes {
            self.tally.add(&role, kind, action, seg.line);
        }
        for (line, n) in kept {
            if !self.plan.allowed(&n) {
                self.report.foreign_roles.push((line, n));
            }
        }
        if out.is_some() {
            self.report.data_rows_changed += 1;
        }
        Ok(out)
    }

    /// The end of COPY data.
    pub fn copy_end(&mut self) {
        self.copy = None;
    }
}

/// What the plan says of a role named by a value, noted for the report.
fn fate_of(
    plan: &Plan<'_>,
    name: &str,
    notes: &mut Vec<(String, &'static str, String)>,
) -> NameFate {
    match plan.fate(name) {
        Fate::Keep => NameFate::Keep,
        Fate::Rename(new) => {
            notes.push((name.to_string(), "data", format!("renamed to {new}")));
            // Beside the value's other (decoded) text, in the same form.
            match crate::sql::encoding::dump_text(new, plan.encoding()) {
                Some(t) => NameFate::Rename(t),
                None => NameFate::Unwritable(new.to_string()),
            }
        }
        Fate::Drop => {
            notes.push((name.to_string(), "data", "removed from an array".into()));
            NameFate::Drop
        }
    }
}

/// Whether the statement starts with the word DO.
fn is_do(stmt: &[u8]) -> bool {
    words::first_words(stmt, 1)
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case(b"do"))
}

fn role_label(r: &RoleName) -> String {
    match r {
        RoleName::Named(n) => n.clone(),
        other => format!("{other:?}").to_uppercase(),
    }
}

/// Options that touch every statement of some kind, whatever its roles.
fn is_global(opts: &super::Options) -> bool {
    opts.owner.is_some()
        || opts.no_owner
        || opts.no_acl
        || opts.only_roles.is_some()
        || opts.drop_passwords
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

/// The edits of one analysed statement.
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
fn is_list_kind(k: RoleRefKind) -> bool {
    matches!(
        k,
        RoleRefKind::Grantee
            | RoleRefKind::ParameterGrantee
            | RoleRefKind::DefaultPrivilegesGrantee
            | RoleRefKind::Member
            | RoleRefKind::MembershipRole
            | RoleRefKind::PolicyRole
            | RoleRefKind::RoleDefinition
    )
}

fn is_owner_kind(k: RoleRefKind) -> bool {
    matches!(
        k,
        RoleRefKind::Owner | RoleRefKind::TablespaceOwner | RoleRefKind::SessionAuthorization
    )
}

impl<'g> Rewrite<'_, '_, 'g, '_> {
    fn bytes(&self) -> &'g [u8] {
        self.seg.bytes
    }

    fn line(&self, r: &RoleRef) -> u64 {
        line_at(self.seg, r.span.start)
    }

    fn note(&mut self, r: &RoleRef, action: String) {
        let role = role_label(&r.role);
        let line = self.line(r);
        self.st.tally.add(&role, r.kind.as_str(), action, line);
    }

    fn drop_statement(&mut self, r: &RoleRef, why: &str) {
        self.note(r, format!("statement dropped ({why})"));
        self.drop = true;
    }

    fn new_name_bytes(&self, r: &RoleRef, new: &str) -> Result<Vec<u8>> {
        if r.literal {
            self.st.plan.literal_bytes(new, self.seg.std_strings)
        } else {
            self.st.plan.ident_bytes(new)
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
                RoleRefKind::DefaultPrivilegesFor
                    | RoleRefKind::DefaultPrivilegesGrantee
                    | RoleRefKind::ParameterGrantee
            )
        }) {
            return true;
        }
        matches!(self.a.action, Action::Grant | Action::Revoke)
            && !refs.iter().any(|r| r.kind == RoleRefKind::MembershipRole)
    }

    fn rewrite_all(&mut self) -> Result<()> {
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
        let mut lists: BTreeMap<RoleRefKind, Vec<(usize, bool)>> = BTreeMap::new();
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
                            text.extend_from_slice(&self.new_name_bytes(r, new)?);
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
            self.rewrite_ref(r)?;
            if self.drop {
                return Ok(());
            }
        }
        if matches!(a.action, Action::Grant | Action::Revoke) {
            self.memberships()?;
        }
        Ok(())
    }

    /// Role memberships after merging: a membership of a merged role in
    /// itself goes; a member of a role merged into NEW would become a
    /// member of NEW, which is refused unless asked for.
    fn memberships(&mut self) -> Result<()> {
        let a = self.a;
        let granted: Vec<&RoleRef> = a
            .role_refs
            .iter()
            .filter(|r| r.kind == RoleRefKind::MembershipRole)
            .collect();
        let members: Vec<&RoleRef> = a
            .role_refs
            .iter()
            .filter(|r| r.kind == RoleRefKind::Member)
            .collect();
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
            return Ok(());
        }
        if a.action != Action::Grant || self.st.plan.opts.grant_new_role_to_members {
            return Ok(());
        }
        for g in &granted {
            let Some(gname) = g.role.name() else { continue };
            let Fate::Rename(new) = self.st.plan.fate(gname) else {
                continue;
            };
            if !self.st.merges.is_merge(&self.st.plan, new) {
                continue;
            }
            for m in &members {
                let Some(mname) = m.role.name() else { continue };
                if self.st.plan.final_name(mname).is_none_or(|f| f == new) {
                    continue;
                }
                let line = self.line(m);
                self.st
                    .members
                    .push((line, gname.to_string(), new.to_string(), mname.to_string()));
            }
        }
        Ok(())
    }

    /// `--owner O`: the reference names O (noted when it named another role).
    fn name_owner(&mut self, r: &RoleRef, o: &str, note: impl FnOnce() -> String) -> Result<()> {
        if r.role.name() != Some(o) {
            let new = self.new_name_bytes(r, o)?;
            self.edits.push((r.span.clone(), new));
            self.note(r, note());
        }
        self.kept.push((self.line(r), o.to_string()));
        Ok(())
    }

    fn rewrite_ref(&mut self, r: &RoleRef) -> Result<()> {
        let opts = self.st.plan.opts;
        let a = self.a;
        // --no-owner and --owner act on owner references whoever they name.
        if is_owner_kind(r.kind) && (opts.no_owner || opts.owner.is_some()) {
            if let Some(o) = &opts.owner {
                return self.name_owner(r, o, || format!("owner set to {o}"));
            }
            return self.remove_owner(r, "--no-owner");
        }
        // --owner: every object is X's, so the default privileges of the old
        // owners are X's too (our rule; REASSIGN OWNED leaves them alone),
        // including what an old owner granted or revoked to itself.
        if let Some(o) = &opts.owner
            && (r.kind == RoleRefKind::DefaultPrivilegesFor
                || (r.kind == RoleRefKind::DefaultPrivilegesGrantee && self.is_for_role(r)))
        {
            return self.name_owner(r, o, || {
                format!("default privileges moved to {o} (--owner)")
            });
        }
        let Some(name) = r.role.name() else {
            return Ok(());
        };
        // --owner: the privileges an object's owner holds on it (pg_dump's
        // `REVOKE ALL … FROM owner; GRANT … TO owner` of an owner whose own
        // rights were narrowed) are the new owner's, as REASSIGN OWNED gives.
        if let Some(o) = &opts.owner
            && r.kind == RoleRefKind::Grantee
            && self.st.toc_type == b"ACL"
            && self.is_toc_owner(name)
        {
            if name != o {
                let new = self.new_name_bytes(r, o)?;
                self.edits.push((r.span.clone(), new));
                self.note(
                    r,
                    format!("the owner's own privileges moved to {o} (--owner)"),
                );
            }
            self.kept.push((self.line(r), o.clone()));
            return Ok(());
        }
        match self.st.plan.fate(name) {
            Fate::Keep => {
                self.kept.push((self.line(r), name.to_string()));
            }
            Fate::Rename(new) => {
                let bytes = self.new_name_bytes(r, new)?;
                self.edits.push((r.span.clone(), bytes));
                self.note(r, format!("renamed to {new}"));
                self.kept.push((self.line(r), new.to_string()));
            }
            Fate::Drop => match r.kind {
                RoleRefKind::Owner | RoleRefKind::TablespaceOwner => {
                    self.remove_owner(r, "--drop")?
                }
                RoleRefKind::SessionAuthorization => self.remove_owner(r, "--drop")?,
                RoleRefKind::SetRole => {
                    self.note(r, "replaced by RESET ROLE".into());
                    self.replace_statement("RESET ROLE;");
                }
                RoleRefKind::GrantedBy => {
                    let clause = r.clause.clone().unwrap_or(r.span.clone());
                    let clause = self.with_leading_space(clause);
                    self.edits.push((clause, Vec::new()));
                    self.note(r, "GRANTED BY clause removed".into());
                }
                RoleRefKind::PolicyRole => {
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
                RoleRefKind::Grantee if a.action == Action::Revoke => {
                    let owner_dropped = self.st.toc_type == b"ACL" && self.is_toc_owner(name);
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
                RoleRefKind::ReassignOwnedTo => {
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

    /// Whether `name` is the owner of the current TOC entry (as the dump
    /// named it, before any rewrite).
    fn is_toc_owner(&self, name: &str) -> bool {
        self.st
            .toc_owner
            .as_deref()
            .and_then(|o| encoding::decode(o, self.seg.encoding).ok())
            .is_some_and(|o| o.text == name)
    }

    /// A default-privileges grantee that is the role the statement is FOR.
    fn is_for_role(&self, r: &RoleRef) -> bool {
        self.a
            .role_refs
            .iter()
            .any(|f| f.kind == RoleRefKind::DefaultPrivilegesFor && f.role == r.role)
    }

    /// Remove an owner reference: `ALTER … OWNER TO` goes, `CREATE … OWNER r`
    /// loses the clause, session authorization is reset.
    fn remove_owner(&mut self, r: &RoleRef, why: &str) -> Result<()> {
        match r.kind {
            RoleRefKind::SessionAuthorization => {
                if self.st.plan.opts.no_owner {
                    self.drop_statement(r, why);
                } else {
                    self.note(r, "replaced by RESET SESSION AUTHORIZATION".into());
                    self.replace_statement("RESET SESSION AUTHORIZATION;");
                }
            }
            RoleRefKind::Owner if self.a.action != Action::Create => self.drop_statement(r, why),
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
    /// renamed role is removed with a warning (PostgreSQL's own rename
    /// clears it).
    fn passwords(&mut self) -> Result<()> {
        let Some(def) = self
            .a
            .role_refs
            .iter()
            .find(|r| r.kind == RoleRefKind::RoleDefinition)
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
            } else if value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .is_some_and(crate::sql::is_md5_hash)
                && let Fate::Rename(new) = self.st.plan.fate(&name)
            {
                // The hash is salted with the old name: it can never match
                // again, and ALTER ROLE … RENAME clears it the same way.
                let clause = self.with_leading_space(start..v.end as usize);
                self.edits.push((clause, Vec::new()));
                self.note(
                    &def,
                    "md5 password removed (salted with the old name)".into(),
                );
                if self.st.md5_warned.insert(name.clone()) {
                    self.st.report.warnings.push(format!(
                        "line {}: role {name:?} is renamed to {new:?}; its password is an md5 \
                         hash salted with the old name, so it was removed, as ALTER ROLE … RENAME \
                         clears it: set a new password after restoring",
                        line_at(self.seg, start)
                    ));
                }
            }
        }
        Ok(())
    }
}
