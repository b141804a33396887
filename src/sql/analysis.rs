//! What one SQL statement from a dump is about, and every role it names,
//! decided by PostgreSQL's own parser (`pg_query`).
//!
//! [`analyze`] takes exactly one statement's bytes (as the dump reader hands
//! them over: possibly with leading comments and a trailing newline) plus the
//! dump's client encoding, and returns an [`Analysis`]: the [`Action`], the
//! [`ObjectRef`] the statement is about, and every [`RoleRef`] with the byte
//! span of the token(s) naming the role **in the original bytes**, so a
//! rewriter can splice new bytes into exactly that span and leave everything
//! else identical.
//!
//! Where the parse tree records a location (most `RoleSpec`s, string
//! constants) the span starts there; where it does not (granted role names,
//! `CREATE ROLE name`, `COMMENT ON ROLE name`, role renames) the token is
//! found with `pg_query`'s scanner, walking the statement's grammar, never by
//! searching the text. Every span is checked: the token, dequoted the way
//! the server dequotes it, must equal the name in the parse tree, or the
//! statement is refused with an [`AnalysisError`] rather than answered with
//! a wrong span.
//!
//! [`may_reference_roles`] is the cheap prefilter: no allocation and no
//! parse; when it returns false, [`analyze`] finds no role reference.

use std::fmt;
use std::ops::Range;

use pg_query::NodeEnum as N;
use pg_query::protobuf::{self as pb, KeywordKind, ObjectType as OT, ScanToken, Token};

use super::encoding;
use super::ident::literal_value;

/// The syntactic role a role name plays in a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleRefKind {
    /// `ALTER <object> ... OWNER TO r`, `CREATE DATABASE d OWNER r`.
    Owner,
    /// A grantee of `GRANT ... ON ... TO r` / `REVOKE ... FROM r`.
    Grantee,
    /// Reserved for grantor forms other than `GRANTED BY` (none in SQL today).
    Grantor,
    /// A grantee of `GRANT SET|ALTER SYSTEM ON PARAMETER p TO r`.
    ParameterGrantee,
    /// The role granted in `GRANT r TO m`, the roles of `CREATE ROLE x IN
    /// ROLE r`, and the group of `ALTER GROUP g ADD|DROP USER m`.
    MembershipRole,
    /// The member in `GRANT r TO m`, `CREATE ROLE x ROLE m` / `ADMIN m`,
    /// `ALTER GROUP g ADD|DROP USER m`.
    Member,
    /// `GRANTED BY g` (object privileges and role memberships).
    GrantedBy,
    /// `ALTER DEFAULT PRIVILEGES FOR ROLE r`.
    DefaultPrivilegesFor,
    /// Grantee of `ALTER DEFAULT PRIVILEGES ... GRANT ... TO r`.
    DefaultPrivilegesGrantee,
    /// `CREATE|ALTER POLICY ... TO r`.
    PolicyRole,
    /// `CREATE|ALTER|DROP USER MAPPING FOR r`.
    UserMapping,
    /// `SET SESSION AUTHORIZATION r` (identifier or literal).
    SessionAuthorization,
    /// `SET ROLE r`.
    SetRole,
    /// The role of `CREATE|ALTER|DROP ROLE|USER|GROUP r` and the old name of
    /// `ALTER ROLE r RENAME TO n`.
    RoleDefinition,
    /// The new name of `ALTER ROLE r RENAME TO n`.
    RoleNewName,
    /// `ALTER ROLE r SET ...` / `RESET ...`.
    RoleSetting,
    /// `ALTER ROLE r IN DATABASE d SET ...`.
    RoleInDatabase,
    /// `COMMENT ON ROLE r IS ...`.
    CommentOnRole,
    /// `SECURITY LABEL [FOR p] ON ROLE r IS ...`.
    SecurityLabelOnRole,
    /// `CREATE TABLESPACE t OWNER r`.
    TablespaceOwner,
    /// `CREATE SCHEMA [s] AUTHORIZATION r`.
    SchemaAuthorization,
    /// An old owner in `REASSIGN OWNED BY r TO n`.
    ReassignOwned,
    /// The new owner in `REASSIGN OWNED BY r TO n`.
    ReassignOwnedTo,
    /// `DROP OWNED BY r`.
    DropOwned,
}

impl RoleRefKind {
    /// Stable snake_case name, used in JSON reports.
    pub fn as_str(&self) -> &'static str {
        use RoleRefKind::*;
        match self {
            Owner => "owner",
            Grantee => "grantee",
            Grantor => "grantor",
            ParameterGrantee => "parameter_grantee",
            MembershipRole => "membership_role",
            Member => "member",
            GrantedBy => "granted_by",
            DefaultPrivilegesFor => "default_privileges_for",
            DefaultPrivilegesGrantee => "default_privileges_grantee",
            PolicyRole => "policy_role",
            UserMapping => "user_mapping",
            SessionAuthorization => "session_authorization",
            SetRole => "set_role",
            RoleDefinition => "role_definition",
            RoleNewName => "role_new_name",
            RoleSetting => "role_setting",
            RoleInDatabase => "role_in_database",
            CommentOnRole => "comment_on_role",
            SecurityLabelOnRole => "security_label_on_role",
            TablespaceOwner => "tablespace_owner",
            SchemaAuthorization => "schema_authorization",
            ReassignOwned => "reassign_owned",
            ReassignOwnedTo => "reassign_owned_to",
            DropOwned => "drop_owned",
        }
    }
}

impl fmt::Display for RoleRefKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a role reference names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleName {
    /// A real role, by the name `pg_roles.rolname` holds (dequoted, UTF-8).
    Named(String),
    /// `PUBLIC` (also `public` in `USER MAPPING FOR public`).
    Public,
    /// `CURRENT_USER` (also `USER` in `USER MAPPING FOR USER`).
    CurrentUser,
    /// `SESSION_USER`.
    SessionUser,
    /// `CURRENT_ROLE`.
    CurrentRole,
}

impl RoleName {
    /// The real role name, if this is one.
    pub fn name(&self) -> Option<&str> {
        match self {
            RoleName::Named(n) => Some(n),
            _ => None,
        }
    }
}

/// Where a role reference sits in a comma-separated list, so a tool can
/// remove one item cleanly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPos {
    /// 0-based position in the list.
    pub index: usize,
    /// Number of items in the list.
    pub len: usize,
    /// Bytes to delete to remove this item and one separating comma (in the
    /// original statement): `, b` for a later item, `a, ` for the first
    /// one. For a list of one item, the item's span (removing it leaves the
    /// statement invalid; the caller must drop or rewrite the statement).
    pub removal: Range<usize>,
}

/// One role named by a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    /// What the role is to the statement.
    pub kind: RoleRefKind,
    /// The role named.
    pub role: RoleName,
    /// Byte span in the original statement bytes of the token naming it:
    /// `"Bob Smith"` including quotes, `alice`, `'Bob Smith'` for a literal.
    pub span: Range<usize>,
    /// True when the span is a string literal (`'x'`, `E'x'`) rather than an
    /// identifier.
    pub literal: bool,
    /// Position in a comma-separated list of roles, when the syntax is one
    /// (grantees, members, granted roles, policy roles, `DROP ROLE` names...).
    pub list: Option<ListPos>,
    /// For [`RoleRefKind::GrantedBy`]: the span of the whole `GRANTED BY r`
    /// clause, from `GRANTED` to the end of the role token.
    pub clause: Option<Range<usize>>,
}

/// The kind of object a statement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// A table (ordinary, partitioned or foreign).
    Table,
    /// A view.
    View,
    /// A materialized view.
    MatView,
    /// A sequence.
    Sequence,
    /// An index; `table` is its table.
    Index,
    /// A function (or routine).
    Function,
    /// A procedure.
    Procedure,
    /// An aggregate.
    Aggregate,
    /// A type (enum, range, composite, base).
    Type,
    /// A domain.
    Domain,
    /// A schema.
    Schema,
    /// An extension.
    Extension,
    /// A database.
    Database,
    /// A role.
    Role,
    /// A tablespace.
    Tablespace,
    /// A trigger; `table` is its table.
    Trigger,
    /// A rule; `table` is its table.
    Rule,
    /// A row-level security policy; `table` is its table.
    Policy,
    /// A table or domain constraint; `table` is its table (or domain).
    Constraint,
    /// A column default (`ALTER TABLE t ALTER COLUMN c SET DEFAULT ...`):
    /// `name` is the column.
    Default,
    /// A column (`COMMENT ON COLUMN`, column privileges): `name` is the column.
    Column,
    /// A publication.
    Publication,
    /// A subscription.
    Subscription,
    /// A foreign server.
    Server,
    /// A foreign-data wrapper.
    ForeignDataWrapper,
    /// `name` is the server; the role is in `role_refs`.
    UserMapping,
    /// `name` is the OID.
    LargeObject,
    /// Reserved for comment entries that name no object.
    Comment,
    /// Default privileges (`ALTER DEFAULT PRIVILEGES`).
    Acl,
    /// An event trigger.
    EventTrigger,
    /// Operators, operator classes and operator families.
    Operator,
    /// A collation.
    Collation,
    /// Text search configurations, dictionaries, parsers and templates.
    TextSearch,
    /// A conversion.
    Conversion,
    /// An extended statistics object.
    Statistics,
    /// A cast; `name` is `source AS target`.
    Cast,
    /// A procedural language.
    Language,
    /// A configuration parameter (`GRANT ... ON PARAMETER`).
    Parameter,
    /// A transform (`CREATE TRANSFORM FOR type LANGUAGE lang`): in no schema;
    /// `name` is `type LANGUAGE lang`.
    Transform,
    /// An access method (`CREATE ACCESS METHOD`): in no schema.
    AccessMethod,
    /// Anything else.
    Other,
}

impl ObjectKind {
    /// Stable snake_case name, used in JSON reports.
    pub fn as_str(&self) -> &'static str {
        use ObjectKind::*;
        match self {
            Table => "table",
            View => "view",
            MatView => "materialized_view",
            Sequence => "sequence",
            Index => "index",
            Function => "function",
            Procedure => "procedure",
            Aggregate => "aggregate",
            Type => "type",
            Domain => "domain",
            Schema => "schema",
            Extension => "extension",
            Database => "database",
            Role => "role",
            Tablespace => "tablespace",
            Trigger => "trigger",
            Rule => "rule",
            Policy => "policy",
            Constraint => "constraint",
            Default => "default",
            Column => "column",
            Publication => "publication",
            Subscription => "subscription",
            Server => "server",
            ForeignDataWrapper => "foreign_data_wrapper",
            UserMapping => "user_mapping",
            LargeObject => "large_object",
            Comment => "comment",
            Acl => "acl",
            EventTrigger => "event_trigger",
            Operator => "operator",
            Collation => "collation",
            TextSearch => "text_search",
            Conversion => "conversion",
            Statistics => "statistics",
            Cast => "cast",
            Language => "language",
            Parameter => "parameter",
            Transform => "transform",
            AccessMethod => "access_method",
            Other => "other",
        }
    }
}

/// The object a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// What kind of object.
    pub kind: ObjectKind,
    /// Its schema, when the statement names one (or, for objects that live
    /// in their table's schema such as indexes and triggers, the table's).
    pub schema: Option<String>,
    /// Its name (dequoted). Functions and operators: the name without
    /// arguments.
    pub name: String,
    /// The table a table-bound statement belongs to, as (schema, name):
    /// indexes, constraints, triggers, rules, policies, column defaults,
    /// `COMMENT ON COLUMN`, `GRANT ON TABLE`, `ALTER TABLE ... OWNER`,
    /// `COPY`/`INSERT` targets, and a sequence's `OWNED BY` table.
    pub table: Option<(Option<String>, String)>,
}

/// What a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `CREATE ...`.
    Create,
    /// `ALTER ...`, `REASSIGN OWNED`.
    Alter,
    /// `DROP ...`.
    Drop,
    /// `GRANT ...` (object privileges and role memberships).
    Grant,
    /// `REVOKE ...`.
    Revoke,
    /// `COMMENT ON` and `SECURITY LABEL`.
    Comment,
    /// `INSERT INTO ...`.
    Insert,
    /// `COPY ...`.
    Copy,
    /// `SELECT ...` (e.g. `setval`, `lo_create`).
    Select,
    /// `SET`, `RESET`.
    Set,
    /// Anything else.
    Other,
}

impl Action {
    /// Stable snake_case name, used in JSON reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Alter => "alter",
            Action::Drop => "drop",
            Action::Grant => "grant",
            Action::Revoke => "revoke",
            Action::Comment => "comment",
            Action::Insert => "insert",
            Action::Copy => "copy",
            Action::Select => "select",
            Action::Set => "set",
            Action::Other => "other",
        }
    }
}

/// Everything [`analyze`] found in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// What the statement does.
    pub action: Action,
    /// The object it is about, when there is one to name.
    pub object: Option<ObjectRef>,
    /// Every role it names, in statement order within each clause.
    pub role_refs: Vec<RoleRef>,
    /// True for a statement made only of comments (nothing to parse).
    pub empty: bool,
}

/// Why a statement could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisError {
    /// What went wrong (parse errors say why, in the parser's words).
    pub message: String,
    /// Byte offset in the original statement, when known.
    pub offset: Option<usize>,
}

impl fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(off) = self.offset {
            write!(f, " (at byte {off} of the statement)")?;
        }
        Ok(())
    }
}

impl std::error::Error for AnalysisError {}

fn err(message: impl Into<String>) -> AnalysisError {
    AnalysisError {
        message: message.into(),
        offset: None,
    }
}

/// Session state of the dump that changes how a statement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzeOptions {
    /// The dump's `standard_conforming_strings` (pg_dump sets it `on`
    /// unless the source session had it off). With `off`, backslashes in
    /// plain `'...'` literals are escapes.
    pub standard_conforming_strings: bool,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            standard_conforming_strings: true,
        }
    }
}

/// Analyse one SQL statement written in client encoding `encoding` (the
/// name as in `SET client_encoding`, e.g. `UTF8`, `LATIN1`, `SQL_ASCII`),
/// with `standard_conforming_strings = on` (what pg_dump sets).
///
/// Returns an error when the statement does not parse, holds more than one
/// statement, contains a NUL byte, cannot be decoded exactly, or names a
/// role whose span cannot be pinned to a token. All spans in the result are
/// byte ranges of `stmt`.
pub fn analyze(stmt: &[u8], encoding: &str) -> Result<Analysis, AnalysisError> {
    analyze_with(stmt, encoding, &AnalyzeOptions::default())
}

/// [`analyze`] with explicit session options.
///
/// With `standard_conforming_strings = off` a plain literal that holds a
/// backslash-escaped quote (`'a\'b'`) would be split differently by the
/// server than by the parser (which always reads literals as `on`), so such
/// a statement is refused; other literals are read with backslash escapes.
pub fn analyze_with(
    stmt: &[u8],
    encoding: &str,
    opts: &AnalyzeOptions,
) -> Result<Analysis, AnalysisError> {
    // pgpipe-filter --roles-if-not-exists wraps CREATE ROLE in a DO block:
    // the statement is what it wraps, with spans in the block's bytes.
    if let Some(super::blocks::OwnBlock::IfNotExists { inner }) = super::blocks::recognise(stmt) {
        let mut a = analyze_with(&stmt[inner.clone()], encoding, opts)?;
        let shift = |r: &mut Range<usize>| *r = r.start + inner.start..r.end + inner.start;
        for r in &mut a.role_refs {
            shift(&mut r.span);
            if let Some(l) = &mut r.list {
                shift(&mut l.removal);
            }
            if let Some(c) = &mut r.clause {
                shift(c);
            }
        }
        return Ok(a);
    }
    let decoded = encoding::decode(stmt, encoding).map_err(|e| AnalysisError {
        message: e.message,
        offset: e.offset,
    })?;
    let text: &str = &decoded.text;
    let parsed = pg_query::parse(text, 0).map_err(|e| match e {
        pg_query::Error::Parse(m) => err(format!("cannot parse statement: {m}")),
        other => err(format!("cannot parse statement: {other}")),
    })?;
    let stmts = &parsed.protobuf.stmts;
    if stmts.is_empty() {
        return Ok(Analysis {
            action: Action::Other,
            object: None,
            role_refs: Vec::new(),
            empty: true,
        });
    }
    if stmts.len() > 1 {
        return Err(err(format!(
            "expected one statement, found {} in one segment",
            stmts.len()
        )));
    }
    let Some(node) = stmts[0].stmt.as_ref().and_then(|n| n.node.as_ref()) else {
        return Err(err("parser returned an empty statement"));
    };
    let mut cx = Cx::new(text, opts.standard_conforming_strings);
    if !cx.std_strings {
        cx.check_plain_literals_without_std_strings()?;
    }
    let (action, object) = cx.statement(node)?;
    let role_refs = cx
        .refs
        .into_iter()
        .map(|r| RoleRef {
            kind: r.kind,
            role: r.role,
            span: decoded.orig_range(r.span),
            literal: r.literal,
            list: r.list.map(|l| ListPos {
                index: l.index,
                len: l.len,
                removal: decoded.orig_range(l.removal),
            }),
            clause: r.clause.map(|c| decoded.orig_range(c)),
        })
        .collect();
    Ok(Analysis {
        action,
        object,
        role_refs,
        empty: false,
    })
}

// ---------------------------------------------------------------------------
// The prefilter.

/// Cheap check (no allocation, no parse) whether a statement can name a role
/// at all, from its first keyword(s), case-insensitively, after leading
/// whitespace and `--` / `/* */` comments.
///
/// True for ALTER, GRANT, REVOKE, REASSIGN, SECURITY LABEL, RESET, CREATE
/// ROLE/USER/GROUP/POLICY/TABLESPACE/SCHEMA/DATABASE (USER covers USER
/// MAPPING), DROP ROLE/USER/GROUP/OWNED, COMMENT ON ROLE, and SET forms that
/// can set the role or session authorization. When this returns false,
/// [`analyze`] returns no role references.
pub fn may_reference_roles(stmt: &[u8]) -> bool {
    let mut pos = 0;
    let Some(first) = next_word(stmt, &mut pos) else {
        return false;
    };
    let is = |w: Word<'_>, s: &str| !w.quoted && w.text.eq_ignore_ascii_case(s.as_bytes());
    if is(first, "do") {
        return match super::blocks::recognise(stmt) {
            Some(super::blocks::OwnBlock::IfNotExists { inner }) => {
                may_reference_roles(&stmt[inner])
            }
            _ => false,
        };
    }
    if ["alter", "grant", "revoke", "reassign", "security", "reset"]
        .iter()
        .any(|k| is(first, k))
    {
        return true;
    }
    let second = next_word(stmt, &mut pos);
    if is(first, "create") {
        return second.is_some_and(|w| {
            [
                "role",
                "user",
                "group",
                "policy",
                "tablespace",
                "schema",
                "database",
            ]
            .iter()
            .any(|k| is(w, k))
        });
    }
    if is(first, "drop") {
        return second.is_some_and(|w| ["role", "user", "group", "owned"].iter().any(|k| is(w, k)));
    }
    if is(first, "comment") {
        return second.is_some_and(|w| is(w, "on"))
            && next_word(stmt, &mut pos).is_some_and(|w| is(w, "role"));
    }
    if is(first, "set") {
        let mut w = second;
        // SET [LOCAL | SESSION] ROLE ..., SET SESSION AUTHORIZATION ...
        if w.is_some_and(|w| is(w, "local") || is(w, "session")) {
            w = next_word(stmt, &mut pos);
        }
        return w.is_some_and(|w| {
            w.quoted
                || ["role", "authorization", "session_authorization"]
                    .iter()
                    .any(|k| is(w, k))
        });
    }
    false
}

#[derive(Clone, Copy)]
struct Word<'a> {
    text: &'a [u8],
    quoted: bool,
}

/// The next word after whitespace and comments: a run of ASCII letters,
/// digits and `_`, or a double-quoted identifier (reported as quoted).
fn next_word<'a>(s: &'a [u8], pos: &mut usize) -> Option<Word<'a>> {
    let mut i = *pos;
    loop {
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if s[i..].starts_with(b"--") {
            while i < s.len() && s[i] != b'\n' {
                i += 1;
            }
        } else if s[i..].starts_with(b"/*") {
            let mut depth = 0usize;
            while i < s.len() {
                if s[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if s[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            break;
        }
    }
    if i >= s.len() {
        *pos = i;
        return None;
    }
    if s[i] == b'"' {
        *pos = i + 1;
        return Some(Word {
            text: &s[i..i + 1],
            quoted: true,
        });
    }
    let start = i;
    while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
        i += 1;
    }
    *pos = i;
    if i == start {
        return None;
    }
    Some(Word {
        text: &s[start..i],
        quoted: false,
    })
}

// ---------------------------------------------------------------------------
// The analyser.

/// A role reference with spans still in decoded-text offsets.
struct RawRef {
    kind: RoleRefKind,
    role: RoleName,
    span: Range<usize>,
    literal: bool,
    list: Option<RawList>,
    clause: Option<Range<usize>>,
}

struct RawList {
    index: usize,
    len: usize,
    removal: Range<usize>,
}

struct Cx<'t> {
    text: &'t str,
    /// Significant tokens (comments dropped), scanned on first need.
    tokens: Option<Vec<ScanToken>>,
    refs: Vec<RawRef>,
    /// `standard_conforming_strings`.
    std_strings: bool,
}

type Res<T> = Result<T, AnalysisError>;

const NAMEDATALEN_MAX: usize = 63;

impl<'t> Cx<'t> {
    fn new(text: &'t str, std_strings: bool) -> Self {
        Cx {
            text,
            tokens: None,
            refs: Vec::new(),
            std_strings,
        }
    }

    /// With `standard_conforming_strings = off`, refuse a statement whose
    /// plain literals hold `\'`: the server would end the literal elsewhere
    /// than the parser did.
    fn check_plain_literals_without_std_strings(&mut self) -> Res<()> {
        let sconst = Token::Sconst as i32;
        let n = self.tokens()?.len();
        for i in 0..n {
            let t = self.tok(i)?;
            if t.token != sconst {
                continue;
            }
            let s = self.tok_text(&t);
            if !s.starts_with('\'') {
                continue; // E'...' reads the same either way
            }
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                if c == '\\' && chars.next() == Some('\'') {
                    return Err(AnalysisError {
                        message: "string literal with a backslash-escaped quote under \
                                  standard_conforming_strings = off cannot be analysed exactly"
                            .to_string(),
                        offset: Some(t.start as usize),
                    });
                }
            }
        }
        Ok(())
    }

    fn tokens(&mut self) -> Res<&[ScanToken]> {
        if self.tokens.is_none() {
            let toks = pg_query::scan_tokens(self.text)
                .map_err(|e| err(format!("cannot scan statement: {e}")))?;
            let sql_comment = Token::SqlComment as i32;
            let c_comment = Token::CComment as i32;
            self.tokens = Some(
                toks.into_iter()
                    .filter(|t| t.token != sql_comment && t.token != c_comment)
                    .collect(),
            );
        }
        Ok(self.tokens.as_deref().expect("just set"))
    }

    fn tok(&mut self, i: usize) -> Res<ScanToken> {
        let toks = self.tokens()?;
        toks.get(i)
            .cloned()
            .ok_or_else(|| err("statement ended where a role name was expected"))
    }

    /// Index of the token starting exactly at byte `loc`.
    fn tok_at(&mut self, loc: i32) -> Res<usize> {
        if loc < 0 {
            return Err(err("parser gave no location for a role name"));
        }
        let toks = self.tokens()?;
        toks.binary_search_by_key(&loc, |t| t.start)
            .map_err(|_| err(format!("no token starts at byte {loc}")))
    }

    fn tok_text(&self, t: &ScanToken) -> &'t str {
        self.text
            .get(t.start as usize..t.end as usize)
            .unwrap_or_default()
    }

    /// True when token `i` is the keyword `word` (any case).
    fn is_kw(&mut self, i: usize, word: &str) -> Res<bool> {
        let Some(t) = self.tokens()?.get(i).cloned() else {
            return Ok(false);
        };
        Ok(t.keyword_kind != KeywordKind::NoKeyword as i32
            && self.tok_text(&t).eq_ignore_ascii_case(word))
    }

    fn is_comma(&mut self, i: usize) -> Res<bool> {
        Ok(self
            .tokens()?
            .get(i)
            .is_some_and(|t| t.token == Token::Ascii44 as i32))
    }

    /// The name an identifier-like token denotes: quoted identifiers
    /// dequoted, bare words (identifiers and keywords) folded to lower case
    /// as the server does, both truncated to NAMEDATALEN-1 bytes. `None` for
    /// tokens that are not identifiers.
    fn ident_value(&self, t: &ScanToken) -> Option<String> {
        let s = self.tok_text(t);
        let mut v = if t.token == Token::Ident as i32 {
            if let Some(inner) = s.strip_prefix('"') {
                inner.strip_suffix('"')?.replace("\"\"", "\"")
            } else {
                s.to_ascii_lowercase()
            }
        } else if t.keyword_kind != KeywordKind::NoKeyword as i32 {
            s.to_ascii_lowercase()
        } else {
            return None;
        };
        truncate_name(&mut v);
        Some(v)
    }

    /// The value of a string-literal token (`'..'`, `E'..'`), or `None`.
    fn literal_value(&self, t: &ScanToken) -> Option<String> {
        if t.token != Token::Sconst as i32 {
            return None;
        }
        literal_value(self.tok_text(t), false)
    }

    fn span(t: &ScanToken) -> Range<usize> {
        t.start as usize..t.end as usize
    }

    fn push(&mut self, kind: RoleRefKind, role: RoleName, span: Range<usize>, literal: bool) {
        self.refs.push(RawRef {
            kind,
            role,
            span,
            literal,
            list: None,
            clause: None,
        });
    }

    /// Record a role named by token `i`, checking the token denotes `name`.
    fn push_token(&mut self, kind: RoleRefKind, i: usize, name: &str) -> Res<()> {
        let t = self.tok(i)?;
        match self.ident_value(&t) {
            Some(v) if v == name => {}
            _ => {
                return Err(err(format!(
                    "cannot locate role name {name:?} in the statement (found {:?})",
                    self.tok_text(&t)
                )));
            }
        }
        self.push(
            kind,
            RoleName::Named(name.to_string()),
            Self::span(&t),
            false,
        );
        Ok(())
    }

    /// Record the role of a `RoleSpec`, at the token its location names.
    fn push_spec(&mut self, kind: RoleRefKind, spec: &pb::RoleSpec) -> Res<()> {
        let i = self.tok_at(spec.location)?;
        let t = self.tok(i)?;
        let rt = spec.roletype;
        let role = if rt == pb::RoleSpecType::RolespecCstring as i32 {
            match self.ident_value(&t) {
                Some(v) if v == spec.rolename => {}
                _ => {
                    return Err(err(format!(
                        "role name {:?} does not match its token {:?}",
                        spec.rolename,
                        self.tok_text(&t)
                    )));
                }
            }
            RoleName::Named(spec.rolename.clone())
        } else if rt == pb::RoleSpecType::RolespecPublic as i32 {
            RoleName::Public
        } else if rt == pb::RoleSpecType::RolespecCurrentUser as i32 {
            RoleName::CurrentUser
        } else if rt == pb::RoleSpecType::RolespecSessionUser as i32 {
            RoleName::SessionUser
        } else if rt == pb::RoleSpecType::RolespecCurrentRole as i32 {
            RoleName::CurrentRole
        } else {
            return Err(err("unknown role specification"));
        };
        self.push(kind, role, Self::span(&t), false);
        Ok(())
    }

    /// Record a list of `RoleSpec` nodes and mark them as one list.
    fn push_spec_list(&mut self, kind: RoleRefKind, nodes: &[pb::Node]) -> Res<()> {
        let first = self.refs.len();
        for n in nodes {
            match &n.node {
                Some(N::RoleSpec(spec)) => self.push_spec(kind, spec)?,
                _ => return Err(err("expected a role in a role list")),
            }
        }
        self.mark_list(first);
        Ok(())
    }

    /// Give the refs from `first` on list positions and removal spans.
    fn mark_list(&mut self, first: usize) {
        let len = self.refs.len() - first;
        if len == 0 {
            return;
        }
        let spans: Vec<Range<usize>> = self.refs[first..].iter().map(|r| r.span.clone()).collect();
        for (index, r) in self.refs[first..].iter_mut().enumerate() {
            let removal = if len == 1 {
                r.span.clone()
            } else if index == 0 {
                spans[0].start..spans[1].start
            } else {
                spans[index - 1].end..spans[index].end
            };
            r.list = Some(RawList {
                index,
                len,
                removal,
            });
        }
    }

    /// `GRANTED BY r`: the role plus the span of the whole clause.
    fn push_granted_by(&mut self, spec: &pb::RoleSpec) -> Res<()> {
        self.push_spec(RoleRefKind::GrantedBy, spec)?;
        let i = self.tok_at(spec.location)?;
        if i >= 2 && self.is_kw(i - 1, "by")? && self.is_kw(i - 2, "granted")? {
            let start = self.tok(i - 2)?.start as usize;
            let last = self.refs.last_mut().expect("just pushed");
            last.clause = Some(start..last.span.end);
        }
        Ok(())
    }

    /// Index of the first significant token that is keyword `word`, at or
    /// after token `from`.
    fn find_kw(&mut self, from: usize, word: &str) -> Res<Option<usize>> {
        let n = self.tokens()?.len();
        for i in from..n {
            if self.is_kw(i, word)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    // -- statements ---------------------------------------------------------

    fn statement(&mut self, node: &N) -> Res<(Action, Option<ObjectRef>)> {
        use RoleRefKind as K;
        Ok(match node {
            N::AlterOwnerStmt(s) => {
                if let Some(owner) = &s.newowner {
                    self.push_spec(K::Owner, owner)?;
                }
                let obj = match &s.relation {
                    Some(rv) => Some(relation_object(kind_of(s.object_type), rv)),
                    None => s
                        .object
                        .as_deref()
                        .and_then(|o| object_from_node(s.object_type, o)),
                };
                (Action::Alter, obj)
            }
            N::AlterTableStmt(s) => self.alter_table(s)?,
            N::GrantStmt(s) => {
                let is_param = s.objtype == OT::ObjectParameterAcl as i32;
                let kind = if is_param {
                    K::ParameterGrantee
                } else {
                    K::Grantee
                };
                self.push_spec_list(kind, &s.grantees)?;
                if let Some(g) = &s.grantor {
                    self.push_granted_by(g)?;
                }
                let action = if s.is_grant {
                    Action::Grant
                } else {
                    Action::Revoke
                };
                (action, grant_object(s))
            }
            N::GrantRoleStmt(s) => self.grant_role(s)?,
            N::AlterDefaultPrivilegesStmt(s) => {
                let mut schema = None;
                for opt in &s.options {
                    if let Some(N::DefElem(d)) = &opt.node {
                        if d.defname == "roles" {
                            let items = list_items(d.arg.as_deref());
                            self.push_spec_list(K::DefaultPrivilegesFor, items)?;
                        } else if d.defname == "schemas" {
                            // pg_dump writes one schema; default privileges
                            // in a schema belong to it.
                            schema = strings(list_items(d.arg.as_deref())).into_iter().next();
                        }
                    }
                }
                if let Some(g) = &s.action {
                    self.push_spec_list(K::DefaultPrivilegesGrantee, &g.grantees)?;
                    if let Some(gb) = &g.grantor {
                        self.push_granted_by(gb)?;
                    }
                }
                (
                    Action::Alter,
                    Some(ObjectRef {
                        kind: ObjectKind::Acl,
                        schema,
                        name: "DEFAULT PRIVILEGES".to_string(),
                        table: None,
                    }),
                )
            }
            N::CreatePolicyStmt(s) => {
                // Without a TO clause the parser supplies PUBLIC with no
                // location: nothing in the text names a role then.
                let written: Vec<pb::Node> = s
                    .roles
                    .iter()
                    .filter(|n| !matches!(&n.node, Some(N::RoleSpec(r)) if r.location < 0))
                    .cloned()
                    .collect();
                self.push_spec_list(K::PolicyRole, &written)?;
                (
                    Action::Create,
                    Some(table_bound(
                        ObjectKind::Policy,
                        &s.policy_name,
                        s.table.as_ref(),
                    )),
                )
            }
            N::AlterPolicyStmt(s) => {
                self.push_spec_list(K::PolicyRole, &s.roles)?;
                (
                    Action::Alter,
                    Some(table_bound(
                        ObjectKind::Policy,
                        &s.policy_name,
                        s.table.as_ref(),
                    )),
                )
            }
            N::CreateUserMappingStmt(s) => {
                self.user_mapping(s.user.as_ref(), &s.servername, Action::Create)?
            }
            N::AlterUserMappingStmt(s) => {
                self.user_mapping(s.user.as_ref(), &s.servername, Action::Alter)?
            }
            N::DropUserMappingStmt(s) => {
                self.user_mapping(s.user.as_ref(), &s.servername, Action::Drop)?
            }
            N::VariableSetStmt(s) => {
                self.variable_set(s)?;
                (Action::Set, None)
            }
            N::CreateRoleStmt(s) => self.create_role(s)?,
            N::AlterRoleStmt(s) => {
                let is_group_members = s
                    .options
                    .iter()
                    .any(|o| matches!(&o.node, Some(N::DefElem(d)) if d.defname == "rolemembers"));
                if let Some(r) = &s.role {
                    let kind = if is_group_members {
                        K::MembershipRole
                    } else {
                        K::RoleDefinition
                    };
                    self.push_spec(kind, r)?;
                }
                self.role_options(&s.options)?;
                (Action::Alter, role_object(s.role.as_ref()))
            }
            N::AlterRoleSetStmt(s) => {
                if let Some(r) = &s.role {
                    let kind = if s.database.is_empty() {
                        K::RoleSetting
                    } else {
                        K::RoleInDatabase
                    };
                    self.push_spec(kind, r)?;
                }
                (Action::Alter, role_object(s.role.as_ref()))
            }
            N::DropRoleStmt(s) => {
                self.push_spec_list(K::RoleDefinition, &s.roles)?;
                let first = s.roles.first().and_then(|n| match &n.node {
                    Some(N::RoleSpec(r)) => Some(r),
                    _ => None,
                });
                (Action::Drop, role_object(first))
            }
            N::RenameStmt(s) => self.rename(s)?,
            N::CommentStmt(s) => {
                if s.objtype == OT::ObjectRole as i32 {
                    self.role_after_on_role(K::CommentOnRole, s.object.as_deref())?;
                }
                let obj = s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.objtype, o));
                (Action::Comment, obj)
            }
            N::SecLabelStmt(s) => {
                if s.objtype == OT::ObjectRole as i32 {
                    self.role_after_on_role(K::SecurityLabelOnRole, s.object.as_deref())?;
                }
                let obj = s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.objtype, o));
                (Action::Comment, obj)
            }
            N::CreateTableSpaceStmt(s) => {
                if let Some(o) = &s.owner {
                    self.push_spec(K::TablespaceOwner, o)?;
                }
                (
                    Action::Create,
                    Some(simple(ObjectKind::Tablespace, &s.tablespacename)),
                )
            }
            N::CreateSchemaStmt(s) => {
                let mut name = s.schemaname.clone();
                if let Some(a) = &s.authrole {
                    self.push_spec(K::SchemaAuthorization, a)?;
                    if name.is_empty() {
                        name = a.rolename.clone();
                    }
                }
                // Schema elements may themselves be GRANTs and the like.
                for elt in &s.schema_elts {
                    if let Some(n) = &elt.node {
                        self.statement(n)?;
                    }
                }
                (Action::Create, Some(simple(ObjectKind::Schema, &name)))
            }
            N::ReassignOwnedStmt(s) => {
                self.push_spec_list(K::ReassignOwned, &s.roles)?;
                if let Some(n) = &s.newrole {
                    self.push_spec(K::ReassignOwnedTo, n)?;
                }
                (Action::Alter, None)
            }
            N::DropOwnedStmt(s) => {
                self.push_spec_list(K::DropOwned, &s.roles)?;
                (Action::Drop, None)
            }
            N::CreatedbStmt(s) => {
                for opt in &s.options {
                    if let Some(N::DefElem(d)) = &opt.node {
                        if d.defname == "owner" {
                            self.createdb_owner(d)?;
                        }
                    }
                }
                (
                    Action::Create,
                    Some(simple(ObjectKind::Database, &s.dbname)),
                )
            }
            other => objects_only(other),
        })
    }

    fn alter_table(&mut self, s: &pb::AlterTableStmt) -> Res<(Action, Option<ObjectRef>)> {
        let Some(rv) = &s.relation else {
            return Ok((Action::Alter, None));
        };
        let (schema, name) = rv_name(rv);
        let mut obj: Option<ObjectRef> = None;
        for c in &s.cmds {
            let Some(N::AlterTableCmd(cmd)) = &c.node else {
                continue;
            };
            let st = cmd.subtype;
            if st == pb::AlterTableType::AtChangeOwner as i32 {
                if let Some(o) = &cmd.newowner {
                    self.push_spec(RoleRefKind::Owner, o)?;
                }
            } else if obj.is_none() && st == pb::AlterTableType::AtAddConstraint as i32 {
                if let Some(N::Constraint(con)) = cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
                    obj = Some(ObjectRef {
                        kind: ObjectKind::Constraint,
                        schema: schema.clone(),
                        name: con.conname.clone(),
                        table: Some((schema.clone(), name.clone())),
                    });
                }
            } else if obj.is_none() && st == pb::AlterTableType::AtColumnDefault as i32 {
                obj = Some(ObjectRef {
                    kind: ObjectKind::Default,
                    schema: schema.clone(),
                    name: cmd.name.clone(),
                    table: Some((schema.clone(), name.clone())),
                });
            }
        }
        let obj = obj.unwrap_or_else(|| relation_object(kind_of(s.objtype), rv));
        Ok((Action::Alter, Some(obj)))
    }

    fn grant_role(&mut self, s: &pb::GrantRoleStmt) -> Res<(Action, Option<ObjectRef>)> {
        use RoleRefKind as K;
        // The granted roles are AccessPriv nodes without locations: walk
        // the tokens `GRANT|REVOKE [opt OPTION FOR] r1, r2, ... TO|FROM`.
        let mut i = 1;
        if !s.is_grant && self.is_kw(2, "option")? && self.is_kw(3, "for")? {
            i = 4;
        }
        let first = self.refs.len();
        for (n, node) in s.granted_roles.iter().enumerate() {
            let Some(N::AccessPriv(p)) = &node.node else {
                return Err(err("unexpected granted role node"));
            };
            if n > 0 {
                if !self.is_comma(i)? {
                    return Err(err("cannot locate the granted role list"));
                }
                i += 1;
            }
            self.push_token(K::MembershipRole, i, &p.priv_name)?;
            i += 1;
        }
        self.mark_list(first);
        self.push_spec_list(K::Member, &s.grantee_roles)?;
        if let Some(g) = &s.grantor {
            self.push_granted_by(g)?;
        }
        let obj = s.granted_roles.first().and_then(|n| match &n.node {
            Some(N::AccessPriv(p)) => Some(simple(ObjectKind::Role, &p.priv_name)),
            _ => None,
        });
        let action = if s.is_grant {
            Action::Grant
        } else {
            Action::Revoke
        };
        Ok((action, obj))
    }

    fn user_mapping(
        &mut self,
        user: Option<&pb::RoleSpec>,
        server: &str,
        action: Action,
    ) -> Res<(Action, Option<ObjectRef>)> {
        if let Some(u) = user {
            self.push_spec(RoleRefKind::UserMapping, u)?;
        }
        Ok((action, Some(simple(ObjectKind::UserMapping, server))))
    }

    fn variable_set(&mut self, s: &pb::VariableSetStmt) -> Res<()> {
        if s.kind != pb::VariableSetKind::VarSetValue as i32 {
            return Ok(());
        }
        let kind = match s.name.as_str() {
            "session_authorization" => RoleRefKind::SessionAuthorization,
            "role" => RoleRefKind::SetRole,
            _ => return Ok(()),
        };
        let [arg] = s.args.as_slice() else {
            return Ok(());
        };
        let Some(N::AConst(c)) = &arg.node else {
            return Ok(());
        };
        let Some(pb::a_const::Val::Sval(v)) = &c.val else {
            return Ok(());
        };
        if kind == RoleRefKind::SetRole && v.sval == "none" {
            return Ok(());
        }
        let i = self.tok_at(c.location)?;
        let t = self.tok(i)?;
        let mut role = v.sval.clone();
        let (matches, literal) = if t.token == Token::Sconst as i32 {
            let ok = self.literal_value(&t).as_deref() == Some(v.sval.as_str());
            if ok && !self.std_strings {
                // The parser read the literal with standard_conforming_strings
                // on; the server of this dump reads backslash escapes.
                role = literal_value(self.tok_text(&t), true)
                    .ok_or_else(|| err("cannot decode the role name literal"))?;
            }
            (ok, true)
        } else {
            (
                self.ident_value(&t).as_deref() == Some(v.sval.as_str()),
                false,
            )
        };
        if !matches {
            return Err(err(format!(
                "role name {:?} does not match its token {:?}",
                v.sval,
                self.tok_text(&t)
            )));
        }
        self.push(kind, RoleName::Named(role), Self::span(&t), literal);
        Ok(())
    }

    fn create_role(&mut self, s: &pb::CreateRoleStmt) -> Res<(Action, Option<ObjectRef>)> {
        // CREATE ROLE|USER|GROUP name: the name is the third token.
        self.push_token(RoleRefKind::RoleDefinition, 2, &s.role)?;
        self.role_options(&s.options)?;
        Ok((Action::Create, Some(simple(ObjectKind::Role, &s.role))))
    }

    /// Role lists inside CREATE/ALTER ROLE options.
    fn role_options(&mut self, options: &[pb::Node]) -> Res<()> {
        for opt in options {
            let Some(N::DefElem(d)) = &opt.node else {
                continue;
            };
            let kind = match d.defname.as_str() {
                "addroleto" => RoleRefKind::MembershipRole,
                "rolemembers" | "adminmembers" => RoleRefKind::Member,
                _ => continue,
            };
            self.push_spec_list(kind, list_items(d.arg.as_deref()))?;
        }
        Ok(())
    }

    fn rename(&mut self, s: &pb::RenameStmt) -> Res<(Action, Option<ObjectRef>)> {
        if s.rename_type != OT::ObjectRole as i32 {
            let obj = match &s.relation {
                Some(rv) => Some(relation_object(kind_of(s.rename_type), rv)),
                None => s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.rename_type, o)),
            };
            return Ok((Action::Alter, obj));
        }
        // ALTER ROLE|USER|GROUP old RENAME TO new
        self.push_token(RoleRefKind::RoleDefinition, 2, &s.subname)?;
        if !(self.is_kw(3, "rename")? && self.is_kw(4, "to")?) {
            return Err(err("cannot locate the new role name"));
        }
        self.push_token(RoleRefKind::RoleNewName, 5, &s.newname)?;
        Ok((Action::Alter, Some(simple(ObjectKind::Role, &s.subname))))
    }

    /// `COMMENT ON ROLE r` / `SECURITY LABEL [FOR p] ON ROLE r`: the name is
    /// the token after the first `ON ROLE`.
    fn role_after_on_role(&mut self, kind: RoleRefKind, object: Option<&pb::Node>) -> Res<()> {
        let Some(N::String(name)) = object.and_then(|o| o.node.as_ref()) else {
            return Err(err("unexpected role object"));
        };
        let Some(on) = self.find_kw(0, "on")? else {
            return Err(err("cannot locate ON ROLE"));
        };
        if !self.is_kw(on + 1, "role")? {
            return Err(err("cannot locate ON ROLE"));
        }
        self.push_token(kind, on + 2, &name.sval)
    }

    /// `CREATE DATABASE d [WITH] OWNER [=] r`.
    fn createdb_owner(&mut self, d: &pb::DefElem) -> Res<()> {
        let Some(N::String(name)) = d.arg.as_deref().and_then(|a| a.node.as_ref()) else {
            return Ok(()); // OWNER = DEFAULT
        };
        let mut i = self.tok_at(d.location)?;
        if !self.is_kw(i, "owner")? {
            return Err(err("cannot locate the database owner"));
        }
        i += 1;
        if self.tok(i)?.token == Token::Ascii61 as i32 {
            i += 1;
        }
        self.push_token(RoleRefKind::Owner, i, &name.sval)
    }
}

/// Truncate an identifier to NAMEDATALEN-1 bytes on a character boundary,
/// as the server does.
fn truncate_name(v: &mut String) {
    if v.len() > NAMEDATALEN_MAX {
        let mut cut = NAMEDATALEN_MAX;
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        v.truncate(cut);
    }
}

// ---------------------------------------------------------------------------
// Objects.

fn simple(kind: ObjectKind, name: &str) -> ObjectRef {
    ObjectRef {
        kind,
        schema: None,
        name: name.to_string(),
        table: None,
    }
}

fn role_object(spec: Option<&pb::RoleSpec>) -> Option<ObjectRef> {
    let spec = spec?;
    let name = if spec.roletype == pb::RoleSpecType::RolespecCstring as i32 {
        spec.rolename.clone()
    } else {
        return None;
    };
    Some(simple(ObjectKind::Role, &name))
}

fn opt(s: &str) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s.to_string())
    }
}

fn rv_name(rv: &pb::RangeVar) -> (Option<String>, String) {
    (opt(&rv.schemaname), rv.relname.clone())
}

/// An object that is a relation: tables carry themselves as `table`.
fn relation_object(kind: ObjectKind, rv: &pb::RangeVar) -> ObjectRef {
    let (schema, name) = rv_name(rv);
    let table = (kind == ObjectKind::Table).then(|| (schema.clone(), name.clone()));
    ObjectRef {
        kind,
        schema,
        name,
        table,
    }
}

/// An object that belongs to a table and lives in the table's schema.
fn table_bound(kind: ObjectKind, name: &str, rv: Option<&pb::RangeVar>) -> ObjectRef {
    let table = rv.map(rv_name);
    ObjectRef {
        kind,
        schema: table.as_ref().and_then(|t| t.0.clone()),
        name: name.to_string(),
        table,
    }
}

fn list_items(arg: Option<&pb::Node>) -> &[pb::Node] {
    match arg.and_then(|a| a.node.as_ref()) {
        Some(N::List(l)) => &l.items,
        _ => &[],
    }
}

/// The string values of a list of `String` nodes.
fn strings(nodes: &[pb::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// `[catalog.][schema.]name` from name parts.
fn qualified(kind: ObjectKind, mut parts: Vec<String>) -> Option<ObjectRef> {
    let name = parts.pop()?;
    let schema = parts.pop();
    Some(ObjectRef {
        kind,
        schema,
        name,
        table: None,
    })
}

/// `[schema.]table.name`: an object attached to a table.
fn attached(kind: ObjectKind, mut parts: Vec<String>) -> Option<ObjectRef> {
    let name = parts.pop()?;
    let table = parts.pop()?;
    let schema = parts.pop();
    Some(ObjectRef {
        kind,
        schema: schema.clone(),
        name,
        table: Some((schema, table)),
    })
}

fn kind_of(objtype: i32) -> ObjectKind {
    use ObjectKind as K;
    let table: [(OT, ObjectKind); 40] = [
        (OT::ObjectAggregate, K::Aggregate),
        (OT::ObjectCast, K::Cast),
        (OT::ObjectColumn, K::Column),
        (OT::ObjectCollation, K::Collation),
        (OT::ObjectConversion, K::Conversion),
        (OT::ObjectDatabase, K::Database),
        (OT::ObjectDefault, K::Default),
        (OT::ObjectDefacl, K::Acl),
        (OT::ObjectDomain, K::Domain),
        (OT::ObjectDomconstraint, K::Constraint),
        (OT::ObjectEventTrigger, K::EventTrigger),
        (OT::ObjectExtension, K::Extension),
        (OT::ObjectFdw, K::ForeignDataWrapper),
        (OT::ObjectForeignServer, K::Server),
        (OT::ObjectForeignTable, K::Table),
        (OT::ObjectFunction, K::Function),
        (OT::ObjectIndex, K::Index),
        (OT::ObjectLanguage, K::Language),
        (OT::ObjectLargeobject, K::LargeObject),
        (OT::ObjectMatview, K::MatView),
        (OT::ObjectOpclass, K::Operator),
        (OT::ObjectOperator, K::Operator),
        (OT::ObjectOpfamily, K::Operator),
        (OT::ObjectParameterAcl, K::Parameter),
        (OT::ObjectPolicy, K::Policy),
        (OT::ObjectProcedure, K::Procedure),
        (OT::ObjectPublication, K::Publication),
        (OT::ObjectRole, K::Role),
        (OT::ObjectRoutine, K::Function),
        (OT::ObjectRule, K::Rule),
        (OT::ObjectSchema, K::Schema),
        (OT::ObjectSequence, K::Sequence),
        (OT::ObjectSubscription, K::Subscription),
        (OT::ObjectStatisticExt, K::Statistics),
        (OT::ObjectTabconstraint, K::Constraint),
        (OT::ObjectTable, K::Table),
        (OT::ObjectTablespace, K::Tablespace),
        (OT::ObjectTrigger, K::Trigger),
        (OT::ObjectType, K::Type),
        (OT::ObjectView, K::View),
    ];
    if [
        OT::ObjectTsconfiguration as i32,
        OT::ObjectTsdictionary as i32,
        OT::ObjectTsparser as i32,
        OT::ObjectTstemplate as i32,
    ]
    .contains(&objtype)
    {
        return K::TextSearch;
    }
    if objtype == OT::ObjectUserMapping as i32 {
        return K::UserMapping;
    }
    table
        .iter()
        .find(|(o, _)| *o as i32 == objtype)
        .map(|(_, k)| *k)
        .unwrap_or(K::Other)
}

fn type_name_parts(t: &pb::TypeName) -> Vec<String> {
    let mut parts = strings(&t.names);
    // Unqualified built-in types come back as pg_catalog.x; keep them.
    if parts.len() > 2 {
        parts.remove(0);
    }
    parts
}

/// The object a `COMMENT ON` / `ALTER ... OWNER` / `DROP` object node names;
/// a table carries itself as `table`.
fn object_from_node(objtype: i32, node: &pb::Node) -> Option<ObjectRef> {
    let mut obj = object_from_node_inner(objtype, node)?;
    if obj.kind == ObjectKind::Table && obj.table.is_none() {
        obj.table = Some((obj.schema.clone(), obj.name.clone()));
    }
    Some(obj)
}

fn object_from_node_inner(objtype: i32, node: &pb::Node) -> Option<ObjectRef> {
    let kind = kind_of(objtype);
    match node.node.as_ref()? {
        N::String(s) => Some(simple(kind, &s.sval)),
        N::Integer(i) => Some(simple(kind, &i.ival.to_string())),
        N::Float(f) => Some(simple(kind, &f.fval)),
        N::ObjectWithArgs(o) => qualified(kind, strings(&o.objname)),
        N::TypeName(t) => qualified(kind, type_name_parts(t)),
        N::RangeVar(rv) => Some(relation_object(kind, rv)),
        N::List(l) => {
            let parts = strings(&l.items);
            match kind {
                ObjectKind::Column
                | ObjectKind::Constraint
                | ObjectKind::Trigger
                | ObjectKind::Rule
                | ObjectKind::Policy => {
                    if objtype == OT::ObjectDomconstraint as i32 {
                        // [TypeName, conname]
                        let mut it = l.items.iter();
                        let dom = match it.next()?.node.as_ref()? {
                            N::TypeName(t) => type_name_parts(t),
                            _ => return None,
                        };
                        let con = strings(&l.items[1..]).pop()?;
                        let mut dom = dom;
                        let dname = dom.pop()?;
                        return Some(ObjectRef {
                            kind,
                            schema: dom.pop(),
                            name: con,
                            table: Some((None, dname)),
                        });
                    }
                    attached(kind, parts)
                }
                ObjectKind::Operator
                    if objtype == OT::ObjectOpfamily as i32
                        || objtype == OT::ObjectOpclass as i32 =>
                {
                    // [access method, schema?, name]
                    qualified(kind, parts.into_iter().skip(1).collect())
                }
                ObjectKind::Cast => {
                    let names: Vec<String> = l
                        .items
                        .iter()
                        .filter_map(|n| match &n.node {
                            Some(N::TypeName(t)) => Some(type_name_parts(t).join(".")),
                            _ => None,
                        })
                        .collect();
                    Some(simple(kind, &names.join(" AS ")))
                }
                _ if parts.is_empty() => {
                    // e.g. a list holding one TypeName
                    l.items.first().and_then(|n| object_from_node(objtype, n))
                }
                _ => qualified(kind, parts),
            }
        }
        _ => None,
    }
}

fn grant_object(s: &pb::GrantStmt) -> Option<ObjectRef> {
    let first = s.objects.first()?;
    if s.targtype == pb::GrantTargetType::AclTargetAllInSchema as i32 {
        return object_from_node(OT::ObjectSchema as i32, first);
    }
    let mut obj = object_from_node(s.objtype, first)?;
    if obj.kind == ObjectKind::Table && obj.table.is_none() {
        obj.table = Some((obj.schema.clone(), obj.name.clone()));
    }
    Some(obj)
}

/// Statements that name no roles: the action and the object only.
fn objects_only(node: &N) -> (Action, Option<ObjectRef>) {
    use ObjectKind as K;
    let create = Action::Create;
    match node {
        N::CreateStmt(s) => (
            create,
            s.relation.as_ref().map(|r| relation_object(K::Table, r)),
        ),
        N::CreateForeignTableStmt(s) => (
            create,
            s.base_stmt
                .as_ref()
                .and_then(|b| b.relation.as_ref())
                .map(|r| relation_object(K::Table, r)),
        ),
        N::ViewStmt(s) => (create, s.view.as_ref().map(|r| relation_object(K::View, r))),
        N::CreateTableAsStmt(s) => {
            let kind = if s.objtype == OT::ObjectMatview as i32 {
                K::MatView
            } else {
                K::Table
            };
            (
                create,
                s.into
                    .as_ref()
                    .and_then(|i| i.rel.as_ref())
                    .map(|r| relation_object(kind, r)),
            )
        }
        N::CreateSeqStmt(s) => {
            let obj = s.sequence.as_ref().map(|r| {
                let mut o = relation_object(K::Sequence, r);
                o.table = owned_by(&s.options);
                o
            });
            (create, obj)
        }
        N::AlterSeqStmt(s) => {
            let obj = s.sequence.as_ref().map(|r| {
                let mut o = relation_object(K::Sequence, r);
                o.table = owned_by(&s.options);
                o
            });
            (Action::Alter, obj)
        }
        N::IndexStmt(s) => (
            create,
            Some(table_bound(K::Index, &s.idxname, s.relation.as_ref())),
        ),
        N::CreateFunctionStmt(s) => {
            let kind = if s.is_procedure {
                K::Procedure
            } else {
                K::Function
            };
            (create, qualified(kind, strings(&s.funcname)))
        }
        N::DefineStmt(s) => (create, qualified(kind_of(s.kind), strings(&s.defnames))),
        N::CompositeTypeStmt(s) => (
            create,
            s.typevar.as_ref().map(|r| {
                let mut o = relation_object(K::Type, r);
                o.table = None;
                o
            }),
        ),
        N::CreateEnumStmt(s) => (create, qualified(K::Type, strings(&s.type_name))),
        N::CreateRangeStmt(s) => (create, qualified(K::Type, strings(&s.type_name))),
        N::CreateDomainStmt(s) => (create, qualified(K::Domain, strings(&s.domainname))),
        N::CreateExtensionStmt(s) => (create, Some(simple(K::Extension, &s.extname))),
        N::AlterDatabaseStmt(s) => (Action::Alter, Some(simple(K::Database, &s.dbname))),
        N::AlterDatabaseSetStmt(s) => (Action::Alter, Some(simple(K::Database, &s.dbname))),
        N::CreateTrigStmt(s) => (
            create,
            Some(table_bound(K::Trigger, &s.trigname, s.relation.as_ref())),
        ),
        N::RuleStmt(s) => (
            create,
            Some(table_bound(K::Rule, &s.rulename, s.relation.as_ref())),
        ),
        N::CreateEventTrigStmt(s) => (create, Some(simple(K::EventTrigger, &s.trigname))),
        N::CreateFdwStmt(s) => (create, Some(simple(K::ForeignDataWrapper, &s.fdwname))),
        N::CreateForeignServerStmt(s) => (create, Some(simple(K::Server, &s.servername))),
        N::CreatePublicationStmt(s) => (create, Some(simple(K::Publication, &s.pubname))),
        N::CreateSubscriptionStmt(s) => (create, Some(simple(K::Subscription, &s.subname))),
        N::CreateStatsStmt(s) => (create, qualified(K::Statistics, strings(&s.defnames))),
        N::CreateCastStmt(s) => {
            let name = [&s.sourcetype, &s.targettype]
                .iter()
                .filter_map(|t| t.as_ref().map(|t| type_name_parts(t).join(".")))
                .collect::<Vec<_>>()
                .join(" AS ");
            (create, Some(simple(K::Cast, &name)))
        }
        N::CreatePlangStmt(s) => (create, Some(simple(K::Language, &s.plname))),
        N::CreateConversionStmt(s) => (
            create,
            qualified(K::Conversion, strings(&s.conversion_name)),
        ),
        N::CreateOpFamilyStmt(s) => (create, qualified(K::Operator, strings(&s.opfamilyname))),
        N::CreateOpClassStmt(s) => (create, qualified(K::Operator, strings(&s.opclassname))),
        N::AlterOpFamilyStmt(s) => (
            Action::Alter,
            qualified(K::Operator, strings(&s.opfamilyname)),
        ),
        N::CreateTransformStmt(s) => {
            let ty = s
                .type_name
                .as_ref()
                .map(|t| type_name_parts(t).join("."))
                .unwrap_or_default();
            (
                create,
                Some(simple(K::Transform, &format!("{ty} LANGUAGE {}", s.lang))),
            )
        }
        N::CreateAmStmt(s) => (create, Some(simple(K::AccessMethod, &s.amname))),
        N::AlterFunctionStmt(s) => (
            Action::Alter,
            s.func
                .as_ref()
                .and_then(|f| qualified(kind_of(s.objtype), strings(&f.objname))),
        ),
        N::AlterDomainStmt(s) => (Action::Alter, qualified(K::Domain, strings(&s.type_name))),
        N::AlterEnumStmt(s) => (Action::Alter, qualified(K::Type, strings(&s.type_name))),
        N::AlterTsconfigurationStmt(s) => {
            (Action::Alter, qualified(K::TextSearch, strings(&s.cfgname)))
        }
        N::AlterExtensionStmt(s) => (Action::Alter, Some(simple(K::Extension, &s.extname))),
        N::AlterForeignServerStmt(s) => (Action::Alter, Some(simple(K::Server, &s.servername))),
        N::AlterFdwStmt(s) => (
            Action::Alter,
            Some(simple(K::ForeignDataWrapper, &s.fdwname)),
        ),
        N::AlterPublicationStmt(s) => (Action::Alter, Some(simple(K::Publication, &s.pubname))),
        N::AlterSubscriptionStmt(s) => (Action::Alter, Some(simple(K::Subscription, &s.subname))),
        N::AlterEventTrigStmt(s) => (Action::Alter, Some(simple(K::EventTrigger, &s.trigname))),
        N::AlterStatsStmt(s) => (
            Action::Alter,
            qualified(K::Statistics, strings(&s.defnames)),
        ),
        N::AlterTableSpaceOptionsStmt(s) => (
            Action::Alter,
            Some(simple(K::Tablespace, &s.tablespacename)),
        ),
        N::AlterObjectSchemaStmt(s) => {
            let kind = kind_of(s.object_type);
            let obj = match &s.relation {
                Some(rv) => Some(relation_object(kind, rv)),
                None => s
                    .object
                    .as_deref()
                    .and_then(|o| object_from_node(s.object_type, o)),
            };
            (Action::Alter, obj)
        }
        N::DropStmt(s) => (
            Action::Drop,
            s.objects
                .first()
                .and_then(|o| object_from_node(s.remove_type, o)),
        ),
        N::CopyStmt(s) => (
            Action::Copy,
            s.relation.as_ref().map(|r| relation_object(K::Table, r)),
        ),
        N::InsertStmt(s) => (
            Action::Insert,
            s.relation.as_ref().map(|r| relation_object(K::Table, r)),
        ),
        N::SelectStmt(s) => (Action::Select, select_object(s)),
        N::VariableSetStmt(_) => (Action::Set, None),
        _ => (Action::Other, None),
    }
}

/// The `OWNED BY [schema.]table.column` table of a sequence's options.
fn owned_by(options: &[pb::Node]) -> Option<(Option<String>, String)> {
    options.iter().find_map(|o| match &o.node {
        Some(N::DefElem(d)) if d.defname == "owned_by" => {
            let mut parts = strings(list_items(d.arg.as_deref()));
            if parts.len() < 2 {
                return None; // OWNED BY NONE
            }
            parts.pop();
            let table = parts.pop()?;
            Some((parts.pop(), table))
        }
        _ => None,
    })
}

/// `SELECT pg_catalog.setval('s.seq', ...)` names a sequence and
/// `SELECT pg_catalog.lo_create('oid')` a large object; other SELECTs none.
fn select_object(s: &pb::SelectStmt) -> Option<ObjectRef> {
    let [target] = s.target_list.as_slice() else {
        return None;
    };
    let Some(N::ResTarget(rt)) = &target.node else {
        return None;
    };
    let Some(N::FuncCall(f)) = rt.val.as_deref().and_then(|v| v.node.as_ref()) else {
        return None;
    };
    let fname = strings(&f.funcname).pop()?;
    let first = f.args.first()?;
    let text = match &first.node {
        Some(N::AConst(c)) => match &c.val {
            Some(pb::a_const::Val::Sval(v)) => v.sval.clone(),
            Some(pb::a_const::Val::Ival(i)) => i.ival.to_string(),
            Some(pb::a_const::Val::Fval(f)) => f.fval.clone(),
            _ => return None,
        },
        _ => return None,
    };
    match fname.as_str() {
        "setval" => qualified(ObjectKind::Sequence, split_qualified(&text)?),
        "lo_create" => Some(simple(ObjectKind::LargeObject, &text)),
        _ => None,
    }
}

/// Split a qualified name written as text (`app."My Seq"`) into its parts,
/// dequoting and folding case as the server's regclass input does.
fn split_qualified(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilter_keywords() {
        let yes: &[&[u8]] = &[
            b"ALTER TABLE t OWNER TO a;",
            b"  -- c\n/* x /* nested */ y */ grant x to y;",
            b"REVOKE ALL ON t FROM PUBLIC;",
            b"create role x;",
            b"CREATE USER MAPPING FOR a SERVER s;",
            b"CREATE POLICY p ON t TO a;",
            b"CREATE SCHEMA s AUTHORIZATION a;",
            b"CREATE TABLESPACE t OWNER a LOCATION '/x';",
            b"DROP ROLE IF EXISTS a;",
            b"DROP OWNED BY a;",
            b"DROP USER MAPPING FOR a SERVER s;",
            b"COMMENT ON ROLE a IS 'x';",
            b"SECURITY LABEL ON ROLE a IS 'x';",
            b"SET SESSION AUTHORIZATION 'a';",
            b"SET ROLE a;",
            b"SET LOCAL ROLE a;",
            b"SET session_authorization = a;",
            b"SET \"role\" TO a;",
            b"RESET SESSION AUTHORIZATION;",
            b"REASSIGN OWNED BY a TO b;",
        ];
        for s in yes {
            assert!(may_reference_roles(s), "{}", String::from_utf8_lossy(s));
        }
        let no: &[&[u8]] = &[
            b"INSERT INTO t VALUES ('ALTER TABLE x OWNER TO a');",
            b"COPY app.t1 (id) FROM stdin;",
            b"SELECT pg_catalog.set_config('search_path', '', false);",
            b"CREATE TABLE t (a int);",
            b"CREATE INDEX i ON t (a);",
            b"CREATE FUNCTION f() RETURNS int AS $$ GRANT $$ LANGUAGE sql;",
            b"CREATE VIEW v AS SELECT 1;",
            b"COMMENT ON TABLE t IS 'ROLE';",
            b"SET client_encoding = 'UTF8';",
            b"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;",
            b"DROP TABLE t;",
            b"-- only a comment\n",
            b"",
            b"/* unterminated",
        ];
        for s in no {
            assert!(!may_reference_roles(s), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn pgpipe_role_blocks_are_seen_through() {
        let stmt =
            crate::sql::blocks::if_not_exists(b"CREATE ROLE \"3f9a2c71\" IN ROLE readers;\n");
        assert!(may_reference_roles(&stmt));
        let a = analyze(&stmt, "UTF8").unwrap();
        assert_eq!(a.action, Action::Create);
        let spans: Vec<&[u8]> = a.role_refs.iter().map(|r| &stmt[r.span.clone()]).collect();
        assert_eq!(spans, [&b"\"3f9a2c71\""[..], b"readers"]);
        // Any other DO block is opaque.
        assert!(!may_reference_roles(b"DO $$BEGIN CREATE ROLE x; END $$;"));
    }

    #[test]
    fn literal_values() {
        assert_eq!(
            literal_value("'Bob Smith'", false).as_deref(),
            Some("Bob Smith")
        );
        assert_eq!(literal_value("'it''s'", false).as_deref(), Some("it's"));
        assert_eq!(
            literal_value("E'a\\\\b\\''", false).as_deref(),
            Some("a\\b'")
        );
        assert_eq!(literal_value("'a\\b'", false).as_deref(), Some("a\\b"));
        assert_eq!(literal_value("E'\\x41'", false), None);
    }

    #[test]
    fn qualified_text_names() {
        assert_eq!(
            split_qualified("app.\"My \"\"Seq\"\"\"").unwrap(),
            vec!["app".to_string(), "My \"Seq\"".to_string()]
        );
        assert_eq!(split_qualified("App.S").unwrap(), vec!["app", "s"]);
    }
}
