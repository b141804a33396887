//! What PostgreSQL says a restore produced, for the oracle tests
//! (`tests/oracle.rs`): restores that collect psql's errors instead of
//! stopping at the first, a [`State`] of a database (its `pg_dump -s` split
//! into entries, and a digest of every table's rows) that two databases can
//! be compared by, with readable differences, and catalog queries for the
//! roles a database references and its tables' row counts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::server::{Server, quote_ident};

/// One `ERROR:` psql printed during a restore: the input line it reported
/// and the message (from `ERROR:` on).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RestoreError {
    pub line: usize,
    pub message: String,
}

/// Restore `dump` into `db` with `psql -X -q -f -` and no `ON_ERROR_STOP`, so
/// every statement runs; return the errors psql printed, in input order.
///
/// psql may exit 0, or 3 when the dump itself sets `ON_ERROR_STOP` (as
/// pgpipe-guard's output does); anything else (a lost connection) panics.
pub fn restore_located(server: &Server, db: &str, dump: &[u8]) -> Vec<RestoreError> {
    // `-f -`: psql then prefixes each error with the input line.
    let (code, _, stderr) = server.psql_status(db, dump, &["-q", "-f", "-"]);
    if code != 0 && code != 3 {
        panic!(
            "psql on PostgreSQL {} database {db:?} exited {code}:\n{}",
            server.version().major(),
            tail(&stderr, 40)
        );
    }
    parse_errors(&stderr)
}

/// The messages of `errors`, sorted.
pub fn normalised(errors: &[RestoreError]) -> Vec<String> {
    let mut messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
    messages.sort();
    messages
}

/// The `ERROR:` lines of psql's standard error.
pub fn parse_errors(stderr: &str) -> Vec<RestoreError> {
    let mut errors = Vec::new();
    for line in stderr.lines() {
        let (number, rest) = match line.strip_prefix("psql:") {
            Some(located) => {
                // psql:<stdin>:1234: ERROR:  message (the file name may
                // hold colons; the line number is the last field before
                // the message).
                match located.find(": ERROR:") {
                    Some(at) => {
                        let before = &located[..at];
                        let number = before
                            .rsplit(':')
                            .next()
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0);
                        (number, &located[at + 2..])
                    }
                    None => continue,
                }
            }
            None if line.starts_with("ERROR:") => (0, line),
            None => continue,
        };
        errors.push(RestoreError {
            line: number,
            message: rest.to_owned(),
        });
    }
    errors
}

/// `Ok` when the error sets are equal, else which errors are new and which
/// are missing.
pub fn compare_errors(expected: &[String], actual: &[String]) -> Result<(), String> {
    let (missing, new) = multiset_difference(expected, actual);
    if missing.is_empty() && new.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "restore errors differ ({} expected, {} got)\n",
        expected.len(),
        actual.len()
    );
    list(
        &mut msg,
        "  new errors (not in the oracle's restore):",
        &new,
        15,
    );
    list(
        &mut msg,
        "  missing errors (the oracle's restore had them):",
        &missing,
        15,
    );
    Err(msg)
}

/// One entry of a `pg_dump -s` output: its `-- Name: …; Type: …; Schema: …;
/// Owner: …` header line and the SQL under it (blank lines and the `--`
/// framing lines removed). The preamble is the entry with an empty header.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub header: String,
    pub text: String,
}

impl Entry {
    /// The `Type:` of the header (`TABLE`, `ACL`, `DEFAULT ACL`, …).
    pub fn kind(&self) -> &str {
        self.field("Type").unwrap_or("")
    }

    /// The `Owner:` of the header.
    pub fn owner(&self) -> Option<&str> {
        self.field("Owner")
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.header
            .split("; ")
            .find_map(|f| f.strip_prefix(name)?.strip_prefix(": "))
    }

    /// The header without its owner: what pairs an entry with its
    /// counterpart in another dump.
    pub fn key(&self) -> String {
        self.header
            .split("; ")
            .filter(|f| !f.starts_with("Owner: "))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a database holds, as far as a restore can tell: its schema (the
/// `pg_dump -s` of this server's version, `\restrict` and `Dumped from/by`
/// lines removed), and per table (`schema.name`, quoted as needed) the row
/// count and md5 of its rows' sorted text, per sequence its value, and the
/// large objects' contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    pub schema: Vec<Entry>,
    pub tables: BTreeMap<String, String>,
}

impl State {
    /// The same state without the digests of `tables`.
    pub fn without_tables(&self, tables: &BTreeSet<String>) -> State {
        State {
            schema: self.schema.clone(),
            tables: self
                .tables
                .iter()
                .filter(|(t, _)| !tables.contains(*t))
                .map(|(t, d)| (t.clone(), d.clone()))
                .collect(),
        }
    }

    /// Same entries (in any order) and same digests.
    pub fn same_as(&self, other: &State) -> bool {
        self.tables == other.tables && sorted(&self.schema) == sorted(&other.schema)
    }

    /// This state without the schema entries for which `drop` is true.
    pub fn without(&self, drop: impl Fn(&Entry) -> bool) -> State {
        State {
            schema: self.schema.iter().filter(|e| !drop(e)).cloned().collect(),
            tables: self.tables.clone(),
        }
    }
}

fn sorted(entries: &[Entry]) -> Vec<&Entry> {
    let mut v: Vec<&Entry> = entries.iter().collect();
    v.sort();
    v
}

/// The [`State`] of database `db` (its schema without database-level
/// properties: `pg_dump -s`).
pub fn state(server: &Server, db: &str) -> State {
    state_with(server, db, &[])
}

/// The [`State`] of database `db` with its database-level properties
/// (`pg_dump -s -C`: CREATE DATABASE, its owner, settings, comment, ACL),
/// for comparing databases of the same name.
pub fn database_state(server: &Server, db: &str) -> State {
    state_with(server, db, &["-C"])
}

fn state_with(server: &Server, db: &str, extra: &[&str]) -> State {
    let key = server.version().restrict_key_args();
    let mut args = vec!["-s"];
    args.extend(key.iter().map(String::as_str));
    args.extend_from_slice(extra);
    let schema = server.pg_dump(db, &args);
    State {
        schema: schema_entries(&String::from_utf8_lossy(&schema)),
        tables: table_digests(server, db),
    }
}

/// Split a plain dump into [`Entry`]s.
pub fn schema_entries(dump: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut header = String::new();
    let mut text = String::new();
    let mut flush = |header: &mut String, text: &mut String| {
        entries.push(Entry {
            header: std::mem::take(header),
            text: text.trim().to_owned(),
        });
        text.clear();
    };
    for line in dump.lines() {
        if line.starts_with("\\restrict ")
            || line.starts_with("\\unrestrict ")
            || line.starts_with("-- Dumped from database version")
            || line.starts_with("-- Dumped by pg_dump version")
            || line == "--"
            || line.is_empty()
        {
            continue;
        }
        if line.starts_with("-- Name: ") || line.starts_with("-- Data for Name: ") {
            flush(&mut header, &mut text);
            header = line.to_owned();
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    flush(&mut header, &mut text);
    entries
}

/// Per table, sequence and the large objects: count and md5 of the sorted
/// rows (one psql run for all of them, with `\gexec`).
pub fn table_digests(server: &Server, db: &str) -> BTreeMap<String, String> {
    const SCRIPT: &str = r#"SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
SET bytea_output = 'hex';
SET extra_float_digits = 1;
SELECT CASE WHEN c.relkind = 'S' THEN
    format('SELECT %L || '' '' || last_value || '' '' || is_called FROM %s',
           format('%I.%I', n.nspname, c.relname), format('%I.%I', n.nspname, c.relname))
  ELSE
    format('SELECT %L || '' '' || count(*) || '' '' || md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text COLLATE "C"), '''')) FROM ONLY %s t',
           format('%I.%I', n.nspname, c.relname), format('%I.%I', n.nspname, c.relname))
  END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'S') AND c.relpersistence <> 't' AND c.relispopulated
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1
\gexec
SELECT '(large objects) ' || count(*) || ' ' || md5(coalesce(string_agg(loid || ':' || pageno || ':' || encode(data, 'hex'), E'\n' ORDER BY loid, pageno), '')) FROM pg_largeobject;
"#;
    let (code, stdout, stderr) = server.psql_status(
        db,
        SCRIPT.as_bytes(),
        &["-q", "-At", "-v", "ON_ERROR_STOP=1"],
    );
    if code != 0 {
        panic!(
            "digesting the tables of PostgreSQL {} database {db:?} failed (exit {code}):\n{stderr}",
            server.version().major()
        );
    }
    let mut tables = BTreeMap::new();
    for line in stdout.lines() {
        // NAME COUNT MD5 or NAME VALUE IS_CALLED; NAME may hold spaces.
        let mut fields = line.rsplitn(3, ' ');
        let (Some(b), Some(a), Some(name)) = (fields.next(), fields.next(), fields.next()) else {
            panic!("unexpected digest line {line:?}");
        };
        tables.insert(name.to_owned(), format!("{a} {b}"));
    }
    tables
}

/// `Ok` when the states are the same (schema entries in any order), else a
/// readable account of the differences: the schema entries only one side
/// has or that differ (with their first differing lines), and the tables
/// whose digests differ.
pub fn compare_states(expected: &State, actual: &State) -> Result<(), String> {
    match diff_states(expected, actual) {
        None => Ok(()),
        Some(diff) => Err(diff),
    }
}

/// The differences [`compare_states`] reports; `None` when there are none.
pub fn diff_states(expected: &State, actual: &State) -> Option<String> {
    if expected.same_as(actual) {
        return None;
    }
    let mut msg = String::new();

    let group = |entries: &[Entry]| {
        let mut map: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for e in entries {
            map.entry(e.key()).or_default().push(e.clone());
        }
        map
    };
    let exp = group(&expected.schema);
    let act = group(&actual.schema);
    let mut only_expected = Vec::new();
    let mut only_actual = Vec::new();
    let mut changed = Vec::new();
    for key in exp.keys().chain(act.keys()).collect::<BTreeSet<_>>() {
        let mut e = exp.get(key).cloned().unwrap_or_default();
        let mut a = act.get(key).cloned().unwrap_or_default();
        e.sort();
        a.sort();
        if e == a {
            continue;
        }
        let (e_only, a_only) = multiset_difference(&e, &a);
        match (e_only.len(), a_only.len()) {
            (1, 1) => changed.push((e_only[0].clone(), a_only[0].clone())),
            _ => {
                only_expected.extend(e_only);
                only_actual.extend(a_only);
            }
        }
    }
    let entries = only_expected.len() + only_actual.len() + changed.len();
    if entries > 0 {
        let _ = writeln!(
            msg,
            "schema: {} entries only in the oracle's, {} only in the tool's, {} differ",
            only_expected.len(),
            only_actual.len(),
            changed.len()
        );
    }
    let show = |msg: &mut String, title: &str, entries: &[Entry]| {
        if entries.is_empty() {
            return;
        }
        let _ = writeln!(msg, "  {title}");
        for e in entries.iter().take(12) {
            let _ = writeln!(msg, "    {}", header_or_preamble(e));
            for line in e.text.lines().take(4) {
                let _ = writeln!(msg, "        {}", clip(line));
            }
        }
        if entries.len() > 12 {
            let _ = writeln!(msg, "    ... and {} more", entries.len() - 12);
        }
    };
    show(
        &mut msg,
        "only in the oracle's (expected) schema:",
        &only_expected,
    );
    show(
        &mut msg,
        "only in the tool's (actual) schema:",
        &only_actual,
    );
    if !changed.is_empty() {
        let _ = writeln!(msg, "  differing entries (- oracle, + tool):");
        for (e, a) in changed.iter().take(12) {
            let _ = writeln!(msg, "    {}", header_or_preamble(e));
            if e.header != a.header {
                let _ = writeln!(msg, "      - {}", e.header);
                let _ = writeln!(msg, "      + {}", a.header);
            }
            let el: Vec<&str> = e.text.lines().collect();
            let al: Vec<&str> = a.text.lines().collect();
            let (minus, plus) = multiset_difference(&el, &al);
            for line in minus.iter().take(6) {
                let _ = writeln!(msg, "      - {}", clip(line));
            }
            for line in plus.iter().take(6) {
                let _ = writeln!(msg, "      + {}", clip(line));
            }
        }
        if changed.len() > 12 {
            let _ = writeln!(msg, "    ... and {} more", changed.len() - 12);
        }
    }
    if entries == 0 && sorted(&expected.schema) != sorted(&actual.schema) {
        let _ = writeln!(msg, "schema: the same entries, duplicated differently");
    }

    let mut missing = Vec::new();
    let mut extra = Vec::new();
    let mut differ = Vec::new();
    for (name, digest) in &expected.tables {
        match actual.tables.get(name) {
            None => missing.push(format!("{name} ({digest})")),
            Some(d) if d != digest => differ.push(format!("{name}: oracle {digest}, tool {d}")),
            Some(_) => {}
        }
    }
    for (name, digest) in &actual.tables {
        if !expected.tables.contains_key(name) {
            extra.push(format!("{name} ({digest})"));
        }
    }
    if !(missing.is_empty() && extra.is_empty() && differ.is_empty()) {
        let _ = writeln!(
            msg,
            "data: {} tables differ, {} missing, {} extra (count md5, or value is_called)",
            differ.len(),
            missing.len(),
            extra.len()
        );
        list(&mut msg, "  differing:", &differ, 15);
        list(&mut msg, "  only in the oracle's database:", &missing, 15);
        list(&mut msg, "  only in the tool's database:", &extra, 15);
    }
    Some(msg)
}

fn header_or_preamble(e: &Entry) -> &str {
    if e.header.is_empty() {
        "(preamble)"
    } else {
        &e.header
    }
}

fn clip(line: &str) -> String {
    if line.chars().count() > 160 {
        let cut: String = line.chars().take(160).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

fn list(msg: &mut String, title: &str, items: &[impl AsRef<str>], max: usize) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(msg, "{title}");
    for item in items.iter().take(max) {
        let _ = writeln!(msg, "    {}", clip(item.as_ref()));
    }
    if items.len() > max {
        let _ = writeln!(msg, "    ... and {} more", items.len() - max);
    }
}

/// (in `a` but not `b`, in `b` but not `a`), counting duplicates.
pub fn multiset_difference<T: Clone + Ord>(a: &[T], b: &[T]) -> (Vec<T>, Vec<T>) {
    let mut count: BTreeMap<&T, i64> = BTreeMap::new();
    for x in a {
        *count.entry(x).or_default() += 1;
    }
    for x in b {
        *count.entry(x).or_default() -= 1;
    }
    let mut only_a = Vec::new();
    let mut only_b = Vec::new();
    for (x, n) in count {
        for _ in 0..n.max(0) {
            only_a.push(x.clone());
        }
        for _ in 0..(-n).max(0) {
            only_b.push(x.clone());
        }
    }
    (only_a, only_b)
}

/// Where two byte strings first differ, by line, with two lines of context
/// on each side; `None` when they are equal.
pub fn first_difference(expected: &[u8], actual: &[u8]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let e: Vec<&[u8]> = expected.split_inclusive(|&b| b == b'\n').collect();
    let a: Vec<&[u8]> = actual.split_inclusive(|&b| b == b'\n').collect();
    let at = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let mut msg = format!(
        "first difference at line {} ({} lines expected, {} got):\n",
        at + 1,
        e.len(),
        a.len()
    );
    let show = |msg: &mut String, sign: &str, lines: &[&[u8]]| {
        for (i, line) in lines.iter().enumerate().skip(at.saturating_sub(2)).take(5) {
            let text = String::from_utf8_lossy(line);
            let _ = writeln!(
                msg,
                "  {sign}{:>7}: {}",
                i + 1,
                clip(text.trim_end_matches('\n'))
            );
        }
    };
    show(&mut msg, "expected ", &e);
    show(&mut msg, "got      ", &a);
    Some(msg)
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Cluster-wide facts a pg_dumpall restore creates, prefixed by kind:
/// roles with attributes, memberships, role and database settings,
/// database and tablespace owners, database and tablespace privileges.
pub fn cluster_state(server: &Server) -> Vec<String> {
    let mut lines = Vec::new();
    for (kind, facts) in [
        ("role", server.roles()),
        ("membership", server.memberships()),
        ("setting", server.role_settings()),
        ("owner", server.cluster_owners()),
        ("acl", server.cluster_acls()),
    ] {
        lines.extend(facts.into_iter().map(|f| format!("{kind}: {f}")));
    }
    lines.sort();
    lines
}

/// A CTE `o(classid, objid, owner)`: every ownable object of the current
/// database (relations but indexes and TOAST tables, functions, types but
/// arrays and row types, schemas, large objects, operators, operator
/// families and classes, collations, conversions, text search
/// configurations and dictionaries, extended statistics, foreign-data
/// wrappers and servers, event triggers, publications, the database's
/// subscriptions, languages) and its owner. Extensions are left out (pg_dump
/// does not name their owners), and so are shell operators (a commutator
/// not defined yet, which pg_dump does not dump).
pub const OWNED_OBJECTS: &str = "o(classid, objid, owner) AS (
  SELECT 'pg_class'::regclass, oid, relowner FROM pg_class WHERE relkind NOT IN ('i', 'I', 't')
  UNION ALL SELECT 'pg_proc'::regclass, oid, proowner FROM pg_proc
  UNION ALL SELECT 'pg_type'::regclass, oid, typowner FROM pg_type WHERE typcategory <> 'A' AND typrelid = 0
  UNION ALL SELECT 'pg_namespace'::regclass, oid, nspowner FROM pg_namespace WHERE nspname !~ '^pg_'
  UNION ALL SELECT 'pg_largeobject'::regclass, oid, lomowner FROM pg_largeobject_metadata
  UNION ALL SELECT 'pg_operator'::regclass, oid, oprowner FROM pg_operator WHERE oprcode <> 0
  UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfowner FROM pg_opfamily
  UNION ALL SELECT 'pg_opclass'::regclass, oid, opcowner FROM pg_opclass
  UNION ALL SELECT 'pg_collation'::regclass, oid, collowner FROM pg_collation
  UNION ALL SELECT 'pg_conversion'::regclass, oid, conowner FROM pg_conversion
  UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgowner FROM pg_ts_config
  UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictowner FROM pg_ts_dict
  UNION ALL SELECT 'pg_statistic_ext'::regclass, oid, stxowner FROM pg_statistic_ext
  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, fdwowner FROM pg_foreign_data_wrapper
  UNION ALL SELECT 'pg_foreign_server'::regclass, oid, srvowner FROM pg_foreign_server
  UNION ALL SELECT 'pg_event_trigger'::regclass, oid, evtowner FROM pg_event_trigger
  UNION ALL SELECT 'pg_publication'::regclass, oid, pubowner FROM pg_publication
  UNION ALL SELECT 'pg_subscription'::regclass, oid, subowner FROM pg_subscription
    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  UNION ALL SELECT 'pg_language'::regclass, oid, lanowner FROM pg_language
)";

/// SQL true for the user objects of [`OWNED_OBJECTS`] row `o`: OID at or
/// past 16384 or schema `public`, not an extension's member, and not made
/// implicitly with another object (an internal dependency: a range type's
/// constructor functions and multirange type, an identity sequence; but a
/// composite type's relation, which depends on its type, counts), which
/// pg_dump does not dump.
pub const USER_OBJECT: &str = "(o.objid >= 16384 OR (o.classid = 'pg_namespace'::regclass AND o.objid = 'public'::regnamespace))
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = o.classid AND d.objid = o.objid
                    AND (d.deptype = 'e' OR (d.deptype = 'i' AND NOT (o.classid = 'pg_class'::regclass
                                                                     AND d.refclassid = 'pg_type'::regclass))))";

/// The roles the catalogs of `db` reference for what a pg_dump of it
/// names: owners of the user objects (not extensions or their members, and
/// not `pg_database_owner` as the default owner of schema `public`), ACL
/// grantees on them apart from the initial privileges (`pg_init_privs`,
/// which pg_dump leaves out) and grantors other than the owner (which the
/// dump names to grant as them), default privileges (role,
/// grantees, grantors), policy roles and user mappings. PUBLIC is not a
/// role. Memberships are not here: pg_dump does not dump them. Besides the
/// catalogs, the roles that role-typed data names (columns of type regrole
/// or aclitem, or arrays of them, store role OIDs): restoring the dump needs
/// them as much.
pub fn referenced_roles(server: &Server, db: &str) -> BTreeSet<String> {
    let mut roles = catalog_roles(server, db);
    roles.extend(data_roles(server, db));
    roles
}

/// The roles that role-typed columns of the tables of `db` name.
pub fn data_roles(server: &Server, db: &str) -> BTreeSet<String> {
    const SCRIPT: &str = "SELECT format(CASE a.atttypid
    WHEN 'regrole'::regtype THEN 'SELECT r.rolname FROM pg_authid r WHERE r.oid IN (SELECT %2$I::oid FROM ONLY %1$s)'
    WHEN 'regrole[]'::regtype THEN 'SELECT r.rolname FROM pg_authid r WHERE r.oid IN (SELECT u::oid FROM ONLY %1$s t, unnest(t.%2$I) u)'
    WHEN 'aclitem'::regtype THEN 'SELECT r.rolname FROM pg_authid r WHERE r.oid IN (SELECT v.x FROM ONLY %1$s t, aclexplode(ARRAY[t.%2$I]) e, LATERAL (VALUES (e.grantee), (e.grantor)) v(x))'
    ELSE 'SELECT r.rolname FROM pg_authid r WHERE r.oid IN (SELECT v.x FROM ONLY %1$s t, aclexplode(t.%2$I) e, LATERAL (VALUES (e.grantee), (e.grantor)) v(x))'
  END, format('%I.%I', n.nspname, c.relname), a.attname)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND c.relispopulated AND a.attnum > 0 AND NOT a.attisdropped
  AND a.atttypid IN ('regrole'::regtype, 'regrole[]'::regtype, 'aclitem'::regtype, 'aclitem[]'::regtype)
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_'
\\gexec
";
    let (code, stdout, stderr) = server.psql_status(
        db,
        SCRIPT.as_bytes(),
        &["-q", "-At", "-v", "ON_ERROR_STOP=1"],
    );
    assert_eq!(code, 0, "roles in the data of {db}: {stderr}");
    stdout.lines().map(str::to_owned).collect()
}

/// The roles of [`referenced_roles`] that the catalogs name.
fn catalog_roles(server: &Server, db: &str) -> BTreeSet<String> {
    let sql = format!(
        "WITH {OWNED_OBJECTS},
a(classid, objid, subid, acl) AS (
  SELECT 'pg_class'::regclass, oid, 0, relacl FROM pg_class WHERE relacl IS NOT NULL
  UNION ALL SELECT 'pg_class'::regclass, attrelid, attnum::int, attacl FROM pg_attribute WHERE attacl IS NOT NULL
  UNION ALL SELECT 'pg_proc'::regclass, oid, 0, proacl FROM pg_proc WHERE proacl IS NOT NULL
  UNION ALL SELECT 'pg_type'::regclass, oid, 0, typacl FROM pg_type WHERE typacl IS NOT NULL
  UNION ALL SELECT 'pg_namespace'::regclass, oid, 0, nspacl FROM pg_namespace WHERE nspacl IS NOT NULL
  UNION ALL SELECT 'pg_largeobject'::regclass, oid, 0, lomacl FROM pg_largeobject_metadata WHERE lomacl IS NOT NULL
  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid, 0, fdwacl FROM pg_foreign_data_wrapper WHERE fdwacl IS NOT NULL
  UNION ALL SELECT 'pg_foreign_server'::regclass, oid, 0, srvacl FROM pg_foreign_server WHERE srvacl IS NOT NULL
  UNION ALL SELECT 'pg_language'::regclass, oid, 0, lanacl FROM pg_language WHERE lanacl IS NOT NULL
),
user_object(classid, objid) AS (SELECT classid, objid FROM o WHERE {USER_OBJECT}),
acl_item AS (
  SELECT a.classid, a.objid, a.subid, e.grantee, e.grantor, e.privilege_type, e.is_grantable
  FROM a CROSS JOIN LATERAL aclexplode(a.acl) e
  WHERE (a.classid, a.objid) IN (SELECT classid, objid FROM user_object)
  EXCEPT
  SELECT i.classoid, i.objoid, i.objsubid, e.grantee, e.grantor, e.privilege_type, e.is_grantable
  FROM pg_init_privs i CROSS JOIN LATERAL aclexplode(i.initprivs) e
),
r(oid) AS (
  SELECT o.owner FROM o JOIN user_object u USING (classid, objid)
  WHERE NOT (o.classid = 'pg_namespace'::regclass AND o.objid = 'public'::regnamespace
             AND o.owner = 'pg_database_owner'::regrole)
  UNION SELECT grantee FROM acl_item
  UNION SELECT i.grantor FROM acl_item i JOIN o USING (classid, objid) WHERE i.grantor <> o.owner
  UNION SELECT defaclrole FROM pg_default_acl
  UNION SELECT e.grantee FROM pg_default_acl CROSS JOIN LATERAL aclexplode(defaclacl) e
  UNION SELECT e.grantor FROM pg_default_acl CROSS JOIN LATERAL aclexplode(defaclacl) e
  UNION SELECT unnest(polroles) FROM pg_policy
  UNION SELECT umuser FROM pg_user_mapping
)
SELECT rolname FROM pg_authid WHERE oid IN (SELECT oid FROM r)"
    );
    server.lines(db, &sql).into_iter().collect()
}

/// `SELECT count(*) FROM ONLY` each of `tables` (schema, name) in `db`, in
/// one psql run; `None` for a table that does not exist.
pub fn count_rows(server: &Server, db: &str, tables: &[(String, String)]) -> Vec<Option<u64>> {
    let mut script = String::new();
    for (i, (schema, name)) in tables.iter().enumerate() {
        let _ = writeln!(
            script,
            "SELECT '{i} ' || count(*) FROM ONLY {}.{};",
            quote_ident(schema),
            quote_ident(name)
        );
    }
    let (_, stdout, _) = server.psql_status(db, script.as_bytes(), &["-q", "-At"]);
    let mut counts = vec![None; tables.len()];
    for line in stdout.lines() {
        if let Some((i, n)) = line.split_once(' ') {
            if let (Ok(i), Ok(n)) = (i.parse::<usize>(), n.parse::<u64>()) {
                counts[i] = Some(n);
            }
        }
    }
    counts
}

/// Drop database `db` of `server`, after dropping its subscriptions (which
/// would keep DROP DATABASE from running); a no-op when it does not exist.
pub fn drop_database(server: &Server, db: &str) {
    let exists = server.psql(
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{}'",
            db.replace('\'', "''")
        ),
    );
    if exists == "1" {
        server.psql(
            db,
            "DO $drop$
DECLARE s record;
BEGIN
  FOR s IN SELECT subname FROM pg_subscription
           WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  LOOP
    EXECUTE format('ALTER SUBSCRIPTION %I DISABLE', s.subname);
    EXECUTE format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', s.subname);
    EXECUTE format('DROP SUBSCRIPTION %I', s.subname);
  END LOOP;
END
$drop$;",
        );
    }
    server.drop_db(db);
}
