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

mod objects;
mod prefilter;
mod roles;
mod tokens;

use crate::sql::tree::strings;
use objects::*;
pub use prefilter::may_reference_roles;
use tokens::*;

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
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    /// What the statement does.
    pub action: Action,
    /// The object it is about, when there is one to name.
    pub object: Option<ObjectRef>,
    /// Every role it names, in statement order within each clause.
    pub role_refs: Vec<RoleRef>,
    /// True for a statement made only of comments (nothing to parse).
    pub empty: bool,
    /// The statement's parse tree, with [`AnalyzeOptions::keep_tree`]: the
    /// one parse of the statement, for callers that need more of it.
    pub tree: Option<Box<N>>,
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
    /// Keep the statement's parse tree in [`Analysis::tree`], for a caller
    /// that reads more of it (`pgpipe-filter`: foreign keys, parents,
    /// identity sequences) than the analysis reports.
    pub keep_tree: bool,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            standard_conforming_strings: true,
            keep_tree: false,
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
            tree: None,
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
    let mut cx = Walk::new(text, opts.standard_conforming_strings);
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
        tree: opts.keep_tree.then(|| Box::new(node.clone())),
    })
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
