//! Which table columns hold role names, learnt from the DDL a dump has
//! shown so far.
//!
//! A value of type `aclitem` (`grantee=privileges/grantor`) or `regrole`
//! names roles by OID inside the database and by name in a dump, so
//! `ALTER ROLE … RENAME` changes what such a value says; arrays of them and
//! domains over them likewise. These are the one kind of table data a role
//! rewrite must touch. [`RoleColumns`] watches `CREATE TABLE`, `ALTER TABLE …
//! ADD COLUMN`, `CREATE DOMAIN` and `CREATE TYPE` go by and keeps, for the
//! tables that have such columns, every column in order (the columns a
//! table gets from `INHERITS`, `PARTITION OF` and `OF type` included), so a
//! COPY block or an INSERT can be matched to its columns.
//!
//! Tables without such columns pay nothing: a statement is parsed only when
//! its text can matter (it names `aclitem`, `regrole`, a type or table
//! already known to hold them, or inherits from one); nothing is kept for it.
//! A composite or range type that contains these types is recorded as such,
//! so a tool can refuse its values with a clear error instead of passing
//! them through unseen.

use std::collections::HashMap;

use pg_query::NodeEnum as N;
use pg_query::protobuf as pb;

use super::encoding;
use crate::sql::words::first_words;

/// The types whose text names roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleType {
    /// `grantee=privileges/grantor`; an empty grantee is PUBLIC.
    AclItem,
    /// A role name as an identifier (`"Bob Smith"`), or an OID when the role
    /// does not exist, or `-`.
    RegRole,
}

impl RoleType {
    pub fn name(self) -> &'static str {
        match self {
            RoleType::AclItem => "aclitem",
            RoleType::RegRole => "regrole",
        }
    }
}

/// What one column holds, as far as roles go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// Nothing that names a role.
    Plain,
    /// A role type, or an array of one (any number of dimensions).
    Role { ty: RoleType, array: bool },
    /// A composite or range type that contains a role type: its values may
    /// name roles in a form pgpipe does not rewrite. The text says which.
    Opaque(String),
}

/// A table with at least one column that is not [`Column::Plain`].
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Every column, in order: (name, what it holds).
    pub columns: Vec<(String, Column)>,
    /// The table inherits columns from a parent whose columns were not
    /// recorded (it names no role), so the positions of its own columns are
    /// unknown: only statements that name their columns can be matched.
    pub positions_unknown: bool,
}

impl Table {
    /// What the column called `name` holds.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

/// (schema, name); the schema is empty when the DDL did not name one.
pub type QualifiedName = (String, String);

/// What a type name stands for, when it is not plain.
#[derive(Debug, Clone)]
enum TypeClass {
    /// A domain over a role type (or an array of one).
    Domain(RoleType, bool),
    /// A composite or range type containing one.
    Opaque(String),
}

/// The tables and types seen so far whose values name roles.
#[derive(Debug, Default)]
pub struct RoleColumns {
    tables: HashMap<QualifiedName, Table>,
    types: HashMap<QualifiedName, TypeClass>,
}

impl RoleColumns {
    pub fn new() -> RoleColumns {
        RoleColumns::default()
    }

    /// Whether no table with role columns has been seen.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The table `schema.name`, when it has role columns.
    pub fn table(&self, schema: Option<&str>, name: &str) -> Option<&Table> {
        self.tables
            .get(&(schema.unwrap_or_default().to_string(), name.to_string()))
    }

    /// Learn from one statement. Cheap for statements that cannot matter.
    pub fn observe(&mut self, stmt: &[u8], encoding: &str) {
        let w = first_words(stmt, 3);
        let is = |i: usize, s: &str| {
            w.get(i)
                .is_some_and(|x| x.eq_ignore_ascii_case(s.as_bytes()))
        };
        let create_table = is(0, "create")
            && (is(1, "table")
                || (is(2, "table")
                    && (is(1, "unlogged")
                        || is(1, "foreign")
                        || is(1, "temporary")
                        || is(1, "temp"))));
        let alter_table =
            is(0, "alter") && (is(1, "table") || (is(1, "foreign") && is(2, "table")));
        let create_type = is(0, "create") && (is(1, "domain") || is(1, "type"));
        if !(create_table || alter_table || create_type) {
            return;
        }
        if !self.may_matter(stmt, create_table) {
            return;
        }
        let Ok(d) = encoding::decode(stmt, encoding) else {
            return;
        };
        let Ok(parsed) = pg_query::parse(&d.text, 0) else {
            return;
        };
        let Some(node) = super::tree::first(&parsed) else {
            return;
        };
        match node {
            N::CreateStmt(s) => self.create_table(s),
            N::CreateForeignTableStmt(s) => {
                if let Some(b) = &s.base_stmt {
                    self.create_table(b);
                }
            }
            N::AlterTableStmt(s) => self.alter_table(s),
            N::CreateDomainStmt(s) => {
                if let Some(t) = &s.type_name
                    && let Column::Role { ty, array } = self.classify(t)
                {
                    self.types
                        .insert(qualified(&s.domainname), TypeClass::Domain(ty, array));
                } else if let Some(t) = &s.type_name
                    && let Column::Opaque(why) = self.classify(t)
                {
                    self.types
                        .insert(qualified(&s.domainname), TypeClass::Opaque(why));
                }
            }
            N::CompositeTypeStmt(s) => {
                let Some(rv) = &s.typevar else { return };
                let name = (rv.schemaname.clone(), rv.relname.clone());
                for c in &s.coldeflist {
                    if let Some(N::ColumnDef(cd)) = &c.node
                        && let Some(t) = &cd.type_name
                        && let Some(why) = self.contains_roles(t)
                    {
                        let what = format!(
                            "composite type {} (its attribute {} is {why})",
                            text(&name),
                            cd.colname
                        );
                        self.types.insert(name, TypeClass::Opaque(what));
                        return;
                    }
                }
            }
            N::CreateRangeStmt(s) => {
                for p in &s.params {
                    if let Some(N::DefElem(de)) = &p.node
                        && de.defname.eq_ignore_ascii_case("subtype")
                        && let Some(N::TypeName(t)) =
                            de.arg.as_deref().and_then(|a| a.node.as_ref())
                        && let Some(why) = self.contains_roles(t)
                    {
                        let name = qualified(&s.type_name);
                        let what = format!("range type {} (of {why})", text(&name));
                        self.types.insert(name, TypeClass::Opaque(what));
                        return;
                    }
                }
            }
            _ => {}
        }
    }

    /// A cheap look at the text: could this statement add to what is known?
    fn may_matter(&self, stmt: &[u8], create_table: bool) -> bool {
        let lower = stmt.to_ascii_lowercase();
        let has = |needle: &[u8]| memchr::memmem::find(&lower, needle).is_some();
        if has(b"aclitem") || has(b"regrole") {
            return true;
        }
        if self
            .types
            .keys()
            .any(|(_, n)| has(n.to_ascii_lowercase().as_bytes()))
        {
            return true;
        }
        create_table && !self.tables.is_empty() && (has(b"inherits") || has(b"partition of"))
    }

    fn create_table(&mut self, s: &pb::CreateStmt) {
        let Some(rv) = &s.relation else { return };
        let name = (rv.schemaname.clone(), rv.relname.clone());
        let mut table = Table::default();
        for p in &s.inh_relations {
            let Some(N::RangeVar(prv)) = &p.node else {
                continue;
            };
            match self
                .tables
                .get(&(prv.schemaname.clone(), prv.relname.clone()))
            {
                Some(parent) => {
                    table.positions_unknown |= parent.positions_unknown;
                    for (n, c) in &parent.columns {
                        if !table.columns.iter().any(|(m, _)| m == n) {
                            table.columns.push((n.clone(), c.clone()));
                        }
                    }
                }
                None => table.positions_unknown = true,
            }
        }
        if let Some(of) = &s.of_typename {
            let key = qualified(&of.names);
            if let Some(TypeClass::Opaque(why)) = self.types.get(&key) {
                // The table's columns are the composite type's attributes:
                // the whole row shape is unknown here.
                table
                    .columns
                    .push((String::new(), Column::Opaque(why.clone())));
                table.positions_unknown = true;
            }
        }
        for e in &s.table_elts {
            let Some(N::ColumnDef(cd)) = &e.node else {
                continue;
            };
            let col = cd
                .type_name
                .as_ref()
                .map(|t| self.classify(t))
                .unwrap_or(Column::Plain);
            match table.columns.iter_mut().find(|(n, _)| *n == cd.colname) {
                // A column merged with an inherited one (PARTITION OF lists
                // constraints only: no type).
                Some((_, c)) => {
                    if cd.type_name.is_some() {
                        *c = col;
                    }
                }
                None => table.columns.push((cd.colname.clone(), col)),
            }
        }
        if table.columns.iter().any(|(_, c)| *c != Column::Plain) {
            self.tables.insert(name, table);
        }
    }

    fn alter_table(&mut self, s: &pb::AlterTableStmt) {
        let Some(rv) = &s.relation else { return };
        let name = (rv.schemaname.clone(), rv.relname.clone());
        for c in &s.cmds {
            let Some(N::AlterTableCmd(cmd)) = &c.node else {
                continue;
            };
            if cmd.subtype == pb::AlterTableType::AtAddColumn as i32
                && let Some(N::ColumnDef(cd)) = cmd.def.as_deref().and_then(|d| d.node.as_ref())
            {
                let col = cd
                    .type_name
                    .as_ref()
                    .map(|t| self.classify(t))
                    .unwrap_or(Column::Plain);
                if col == Column::Plain && !self.tables.contains_key(&name) {
                    continue;
                }
                let t = self.tables.entry(name.clone()).or_insert_with(|| Table {
                    columns: Vec::new(),
                    // Its earlier columns were not recorded.
                    positions_unknown: true,
                });
                t.columns.push((cd.colname.clone(), col));
            } else if cmd.subtype == pb::AlterTableType::AtDropColumn as i32
                && let Some(t) = self.tables.get_mut(&name)
            {
                t.columns.retain(|(n, _)| *n != cmd.name);
            }
        }
    }

    /// What a column of type `t` holds.
    fn classify(&self, t: &pb::TypeName) -> Column {
        let mut parts = super::tree::strings(&t.names);
        let mut array = !t.array_bounds.is_empty();
        let Some(last) = parts.pop() else {
            return Column::Plain;
        };
        let schema = parts.pop().unwrap_or_default();
        let builtin = schema.is_empty() || schema == "pg_catalog";
        let mut base = last.as_str();
        if builtin && let Some(elem) = base.strip_prefix('_') {
            array = true;
            base = elem;
        }
        if builtin {
            match base {
                "aclitem" => {
                    return Column::Role {
                        ty: RoleType::AclItem,
                        array,
                    };
                }
                "regrole" => {
                    return Column::Role {
                        ty: RoleType::RegRole,
                        array,
                    };
                }
                _ => {}
            }
        }
        match self.types.get(&(schema, last.clone())) {
            Some(TypeClass::Domain(ty, a)) => Column::Role {
                ty: *ty,
                array: array || *a,
            },
            Some(TypeClass::Opaque(why)) => Column::Opaque(why.clone()),
            None => Column::Plain,
        }
    }

    /// For a type inside a composite or range: which role type it contains.
    fn contains_roles(&self, t: &pb::TypeName) -> Option<String> {
        match self.classify(t) {
            Column::Plain => None,
            Column::Role { ty, array } => {
                Some(format!("{}{}", ty.name(), if array { "[]" } else { "" }))
            }
            Column::Opaque(why) => Some(why),
        }
    }
}

fn qualified(names: &[pb::Node]) -> QualifiedName {
    let mut parts = super::tree::strings(names);
    let name = parts.pop().unwrap_or_default();
    (parts.pop().unwrap_or_default(), name)
}

/// `schema.name` for messages.
pub fn text(q: &QualifiedName) -> String {
    if q.0.is_empty() {
        q.1.clone()
    } else {
        format!("{}.{}", q.0, q.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(stmts: &[&str]) -> RoleColumns {
        let mut rc = RoleColumns::new();
        for s in stmts {
            rc.observe(s.as_bytes(), "UTF8");
        }
        rc
    }

    fn role(ty: RoleType, array: bool) -> Column {
        Column::Role { ty, array }
    }

    #[test]
    fn tables_with_role_columns() {
        let rc = seen(&[
            "CREATE TABLE public.plain (a integer, b text);",
            "CREATE TABLE public.t (a integer, acl aclitem[], r pg_catalog.regrole, x text);",
            "CREATE DOMAIN public.d AS aclitem;",
            "CREATE DOMAIN public.d2 AS public.d;",
            "CREATE TABLE public.u (id integer, v public.d2[], w public.d);",
            "CREATE TABLE public.child (extra regrole) INHERITS (public.t);",
            "CREATE TABLE public.orphan (own aclitem) INHERITS (public.plain);",
            "ALTER TABLE ONLY public.plain2 ADD COLUMN late aclitem;",
            "CREATE TABLE public.late (a integer);",
            "ALTER TABLE public.t ADD COLUMN more regrole[];",
        ]);
        assert!(rc.table(Some("public"), "plain").is_none());
        assert!(rc.table(Some("public"), "late").is_none());
        let t = rc.table(Some("public"), "t").unwrap();
        assert_eq!(
            t.columns,
            vec![
                ("a".into(), Column::Plain),
                ("acl".into(), role(RoleType::AclItem, true)),
                ("r".into(), role(RoleType::RegRole, false)),
                ("x".into(), Column::Plain),
                ("more".into(), role(RoleType::RegRole, true)),
            ]
        );
        assert!(!t.positions_unknown);
        let u = rc.table(Some("public"), "u").unwrap();
        assert_eq!(u.column("v"), Some(&role(RoleType::AclItem, true)));
        assert_eq!(u.column("w"), Some(&role(RoleType::AclItem, false)));
        // The child's columns: the parent's as they were then, then its own.
        let c = rc.table(Some("public"), "child").unwrap();
        let names: Vec<&str> = c.columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "acl", "r", "x", "extra"]);
        let o = rc.table(Some("public"), "orphan").unwrap();
        assert!(o.positions_unknown);
        assert!(
            rc.table(Some("public"), "plain2")
                .unwrap()
                .positions_unknown
        );
    }

    #[test]
    fn composites_and_ranges_are_opaque() {
        let rc = seen(&[
            "CREATE TYPE public.c AS (who regrole, n integer);",
            "CREATE TABLE public.tc (id integer, v public.c);",
            "CREATE TABLE public.typed OF public.c;",
        ]);
        let t = rc.table(Some("public"), "tc").unwrap();
        assert!(
            matches!(t.column("v"), Some(Column::Opaque(w)) if w.contains("composite type public.c"))
        );
        assert!(rc.table(Some("public"), "typed").unwrap().positions_unknown);
    }

    #[test]
    fn partitions_take_their_parents_columns() {
        let rc = seen(&[
            "CREATE TABLE public.p (a integer, acl aclitem) PARTITION BY LIST (a);",
            "CREATE TABLE public.p1 PARTITION OF public.p (a WITH OPTIONS NOT NULL) FOR VALUES IN (1);",
        ]);
        let p1 = rc.table(Some("public"), "p1").unwrap();
        assert_eq!(p1.column("acl"), Some(&role(RoleType::AclItem, false)));
        assert_eq!(p1.columns.len(), 2);
    }
}
