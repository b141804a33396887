//! Statements that run code the stream does not show as statements.
//!
//! A tool that vouches for what a restore does (`pgpipe-roles
//! --only-roles`: no role but these is named) reads every statement, but
//! not the bodies of functions, nor what a `DO` block, a `CALL` or a query
//! calling a function executes. [`Watch`] finds, in one pass, the
//! statements whose execution runs such code during the restore:
//!
//! * a `DO` block (except pgpipe's own, [`super::blocks`]), `CALL`,
//!   `PREPARE`/`EXECUTE`, `COPY … PROGRAM`;
//! * a query (`SELECT`, `VALUES`, `WITH`, …) other than the calls pg_dump
//!   itself writes: `set_config('search_path', …)`, `setval`, the
//!   large-object functions and PostgreSQL 18's statistics functions;
//! * expressions evaluated while restoring that call a function outside
//!   `pg_catalog` (a function the dump defines), or `set_config`: in
//!   `INSERT` values, index expressions and predicates, `CHECK` and
//!   generated columns, defaults of added columns, the query of
//!   `CREATE TABLE AS` and of a materialized view being refreshed;
//! * data loaded into a table after a trigger or rule was created on it,
//!   and DDL after an event trigger was created (they fire on it).
//!
//! pg_dump's output has none of these except what it creates after the
//! data (triggers, rules, event triggers), so a dump passes; the check is
//! what makes "names no other role" hold for what the server executes, not
//! only for the text. Functions in `pg_catalog` are PostgreSQL's own and
//! trusted; so are extension scripts (`CREATE EXTENSION` runs what the
//! server's administrator installed).

use std::collections::HashSet;

use pg_query::NodeEnum as N;
use pg_query::NodeRef;

use super::blocks;
use super::encoding;
use crate::sql::words::{first_words, qualified_name};

/// (schema, name); the schema is empty when unqualified.
type Rel = (String, String);

/// What the stream has set up that later statements would trigger.
#[derive(Debug, Default)]
pub struct Watch {
    /// Tables with a trigger or rule: loading data into them runs it.
    fired: HashSet<Rel>,
    /// Materialized views (and views) whose query calls code outside
    /// `pg_catalog`, directly or through a view they read.
    calling: HashSet<Rel>,
    /// An event trigger exists: later DDL fires it.
    event_trigger: Option<String>,
    /// `search_path` was set to something: unqualified calls may then
    /// resolve to the dump's own functions.
    search_path_open: bool,
}

impl Watch {
    pub fn new() -> Watch {
        Watch::default()
    }

    /// Why executing `stmt` would run code the stream does not show;
    /// `None` when it would not. Learns what the statement sets up.
    pub fn statement(&mut self, stmt: &[u8], encoding: &str) -> Option<String> {
        let w = first_words(stmt, 4);
        let word = |i: usize| w.get(i).map(|x| x.to_ascii_lowercase()).unwrap_or_default();
        let (w0, w1, w2) = (word(0), word(1), word(2));
        let ddl = matches!(
            w0.as_slice(),
            b"create" | b"alter" | b"drop" | b"grant" | b"revoke" | b"comment" | b"security"
        );
        if let Some(evt) = &self.event_trigger
            && ddl
            && !(w1 == b"event" || (w0 == b"comment" && w2 == b"event"))
        {
            return Some(format!(
                "DDL after event trigger {evt} was created: it fires that trigger's function"
            ));
        }
        match w0.as_slice() {
            b"do" => {
                return match blocks::recognise(stmt) {
                    Some(_) => None,
                    None => Some("a DO block".into()),
                };
            }
            b"call" => return Some("CALL".into()),
            b"prepare" | b"execute" => {
                return Some(String::from_utf8_lossy(&w0).to_uppercase());
            }
            b"set" | b"reset" => {
                // (Role changes are role references the analysis sees.)
                if w1 == b"search_path" || (w1 == b"session" && w2 == b"search_path") {
                    self.search_path_open = true;
                }
                return None;
            }
            b"select" | b"values" | b"with" | b"table" | b"explain" => {
                if is_dump_call(stmt, encoding, &mut self.search_path_open) {
                    return None;
                }
                return Some("a query that calls functions".into());
            }
            b"insert" => {
                let target = insert_table(stmt);
                if let Some(t) = &target
                    && self.fired.contains(t)
                {
                    return Some(format!(
                        "INSERT into {}, which has a trigger or rule",
                        text(t)
                    ));
                }
                if insert_is_literals(stmt) {
                    return None;
                }
                return self.calls(stmt, encoding, "INSERT values");
            }
            b"copy" => {
                let lower = stmt.to_ascii_lowercase();
                if memchr::memmem::find(&lower, b"program").is_some()
                    && let Some(why) = copy_program(stmt, encoding)
                {
                    return Some(why);
                }
                if let Some((s, n)) = crate::sql::words::copy_target(stmt) {
                    let t = (s.unwrap_or_default(), n);
                    if self.fired.contains(&t) {
                        return Some(format!(
                            "COPY into {}, which has a trigger or rule",
                            text(&t)
                        ));
                    }
                }
                return None;
            }
            b"update" | b"delete" | b"merge" | b"truncate" => {
                return Some(format!(
                    "{} (it can fire triggers and run functions)",
                    String::from_utf8_lossy(&w0).to_uppercase()
                ));
            }
            b"refresh" => {
                let mut i = w
                    .get(2)
                    .map(|x| x.as_ptr() as usize - stmt.as_ptr() as usize + x.len())
                    .unwrap_or(stmt.len());
                if w.get(3)
                    .is_some_and(|x| x.eq_ignore_ascii_case(b"concurrently"))
                {
                    i = w[3].as_ptr() as usize - stmt.as_ptr() as usize + w[3].len();
                }
                if let Some((s, n)) = qualified_name(stmt, &mut i) {
                    let t = (s.unwrap_or_default(), n);
                    if self.calling.contains(&t) {
                        return Some(format!(
                            "REFRESH of {}, whose query calls functions outside pg_catalog",
                            text(&t)
                        ));
                    }
                }
                return None;
            }
            _ => {}
        }
        if w0 != b"create" && w0 != b"alter" {
            return None;
        }
        // DDL that evaluates expressions, or sets up code that later
        // statements fire.
        let kind = match (w1.as_slice(), w2.as_slice()) {
            (b"event", b"trigger") if w0 == b"create" => {
                let name = w
                    .get(3)
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .unwrap_or_default();
                self.event_trigger = Some(name);
                return None;
            }
            (b"index", _) | (b"unique", b"index") => "an index expression or predicate",
            (b"table", _) | (b"unlogged", b"table") | (b"temp" | b"temporary", b"table") => {
                "a column default, generated column or check constraint"
            }
            (b"domain", _) => "a domain check constraint",
            (b"materialized", b"view") | (b"view", _) | (b"recursive", _) => "a view",
            (b"or", b"replace") => "a view",
            (b"trigger", _) | (b"constraint", b"trigger") | (b"rule", _) => "a trigger or rule",
            (b"foreign", b"table") => "a column default or check constraint",
            _ => return None,
        };
        let parsed = super::tree::parse(stmt, encoding)?;
        let node = super::tree::first(&parsed)?;
        match node {
            N::CreateTrigStmt(t) => {
                if let Some(rv) = &t.relation {
                    self.fired
                        .insert((rv.schemaname.clone(), rv.relname.clone()));
                }
                None
            }
            N::RuleStmt(r) => {
                if let Some(rv) = &r.relation {
                    self.fired
                        .insert((rv.schemaname.clone(), rv.relname.clone()));
                }
                None
            }
            N::ViewStmt(v) => {
                let name = v
                    .view
                    .as_ref()
                    .map(|rv| (rv.schemaname.clone(), rv.relname.clone()));
                if let Some(name) = name
                    && self.query_calls(&parsed)
                {
                    self.calling.insert(name);
                }
                None
            }
            N::CreateTableAsStmt(c) => {
                let name = c
                    .into
                    .as_ref()
                    .and_then(|i| i.rel.as_ref())
                    .map(|rv| (rv.schemaname.clone(), rv.relname.clone()));
                let calls = self.query_calls(&parsed);
                if calls && let Some(n) = name {
                    self.calling.insert(n);
                }
                let skip_data = c.into.as_ref().is_some_and(|i| i.skip_data);
                (calls && !skip_data)
                    .then(|| "a query that calls functions outside pg_catalog".into())
            }
            N::IndexStmt(_) | N::CreateDomainStmt(_) | N::AlterDomainStmt(_) => {
                user_call_in(node, self.search_path_open).map(|f| format!("{kind} that calls {f}"))
            }
            N::CreateStmt(c) => self.evaluated_in_table(c, kind),
            N::CreateForeignTableStmt(c) => c
                .base_stmt
                .as_ref()
                .and_then(|b| self.evaluated_in_table(b, kind)),
            N::AlterTableStmt(a) => {
                use pg_query::protobuf::AlterTableType as T;
                for c in &a.cmds {
                    let Some(N::AlterTableCmd(cmd)) = &c.node else {
                        continue;
                    };
                    // Evaluated against the rows already there: an added
                    // column's default, a new constraint, a type change.
                    let evaluated = cmd.subtype == T::AtAddColumn as i32
                        || cmd.subtype == T::AtAddConstraint as i32
                        || cmd.subtype == T::AtAlterColumnType as i32;
                    if evaluated
                        && let Some(def) = cmd.def.as_deref().and_then(|d| d.node.as_ref())
                        && let Some(f) = user_call_in(def, self.search_path_open)
                    {
                        return Some(format!(
                            "ALTER TABLE evaluating an expression that calls {f}"
                        ));
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// The expressions a table evaluates as rows arrive: check
    /// constraints and generated columns (defaults of columns a COPY or
    /// INSERT supplies are not evaluated).
    fn evaluated_in_table(&self, c: &pg_query::protobuf::CreateStmt, kind: &str) -> Option<String> {
        use pg_query::protobuf::ConstrType as C;
        let evaluated = |n: &pg_query::protobuf::Node| match &n.node {
            Some(N::Constraint(con))
                if con.contype == C::ConstrCheck as i32
                    || con.contype == C::ConstrGenerated as i32 =>
            {
                con.raw_expr
                    .as_deref()
                    .and_then(|e| e.node.as_ref())
                    .and_then(|e| user_call_in(e, self.search_path_open))
            }
            _ => None,
        };
        for e in &c.table_elts {
            let found = match &e.node {
                Some(N::ColumnDef(cd)) => cd.constraints.iter().find_map(evaluated),
                Some(N::Constraint(_)) => evaluated(e),
                _ => None,
            };
            if let Some(f) = found {
                return Some(format!("{kind} that calls {f}"));
            }
        }
        c.constraints
            .iter()
            .find_map(evaluated)
            .map(|f| format!("{kind} that calls {f}"))
    }

    /// `stmt` parsed: does it call code outside pg_catalog?
    fn calls(&self, stmt: &[u8], encoding: &str, what: &str) -> Option<String> {
        let Ok(d) = encoding::decode(stmt, encoding) else {
            return Some(format!("{what} that cannot be read"));
        };
        let Ok(parsed) = pg_query::parse(&d.text, 0) else {
            return None;
        };
        user_call(&parsed, self.search_path_open).map(|f| format!("{what} that call {f}"))
    }

    /// Whether a view's query calls code outside pg_catalog or reads a
    /// relation that does.
    fn query_calls(&self, parsed: &pg_query::ParseResult) -> bool {
        if user_call(parsed, self.search_path_open).is_some() {
            return true;
        }
        parsed.protobuf.nodes().iter().any(|(n, _, _, _)| match n {
            NodeRef::RangeVar(rv) => self
                .calling
                .contains(&(rv.schemaname.clone(), rv.relname.clone())),
            _ => false,
        })
    }
}

fn text(r: &Rel) -> String {
    if r.0.is_empty() {
        r.1.clone()
    } else {
        format!("{}.{}", r.0, r.1)
    }
}

/// [`user_call`] over the whole statement.
fn user_call(parsed: &pg_query::ParseResult, open: bool) -> Option<String> {
    super::tree::first(parsed).and_then(|n| user_call_in(n, open))
}

/// The first call, under `node`, of a function outside `pg_catalog` (or
/// of `set_config`, which can change the role): its name. With `open` (a
/// search_path was set), unqualified names count too.
fn user_call_in(node: &N, open: bool) -> Option<String> {
    for parts in function_names(node) {
        let Some(last) = parts.last() else { continue };
        let schema = (parts.len() > 1).then(|| parts[parts.len() - 2].as_str());
        let builtin = match schema {
            Some(s) => s == "pg_catalog",
            None => !open,
        };
        if !builtin || last == "set_config" {
            return Some(parts.join("."));
        }
    }
    None
}

/// The names of every function called anywhere under `node`: the whole
/// tree, read through its serialized form (the parser's own node walker
/// visits only the parts that name tables).
fn function_names(node: &N) -> Vec<Vec<String>> {
    objects(node, "FuncCall")
        .iter()
        .map(|f| {
            f.get("funcname")
                .and_then(|n| n.as_array())
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|n| n.pointer("/node/String/sval").and_then(|s| s.as_str()))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Whether a query is one of the calls pg_dump writes, with literal
/// arguments: `set_config('search_path', …, false)`, `setval`,
/// `lo_create`, `lo_open`, `lowrite`, `lo_close`, `lo_unlink`, and
/// `SELECT * FROM pg_restore_relation_stats(…)` / `…_attribute_stats(…)`.
fn is_dump_call(stmt: &[u8], encoding: &str, search_path_open: &mut bool) -> bool {
    let Ok(d) = encoding::decode(stmt, encoding) else {
        return false;
    };
    let Ok(parsed) = pg_query::parse(&d.text, 0) else {
        return false;
    };
    let Some(N::SelectStmt(s)) = super::tree::first(&parsed) else {
        return false;
    };
    let Some(root) = parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|n| n.node.as_ref())
    else {
        return false;
    };
    // Read nothing but pg_catalog (a view could call anything).
    let reads_only_catalog = objects(root, "RangeVar")
        .iter()
        .all(|rv| rv.get("schemaname").and_then(|v| v.as_str()) == Some("pg_catalog"));
    // No call at all (`SELECT 1`), or exactly one (the parser's walker
    // below does not visit every part; this count does).
    match function_names(root).len() {
        0 => return reads_only_catalog,
        1 => {}
        _ => return false,
    }
    let mut calls = 0;
    let mut ok = true;
    for (n, _, _, _) in parsed.protobuf.nodes() {
        let NodeRef::FuncCall(f) = n else { continue };
        calls += 1;
        let parts: Vec<&str> = f
            .funcname
            .iter()
            .filter_map(|x| match &x.node {
                Some(N::String(s)) => Some(s.sval.as_str()),
                _ => None,
            })
            .collect();
        let name = match parts.as_slice() {
            ["pg_catalog", n] | [n] => *n,
            _ => {
                ok = false;
                continue;
            }
        };
        let literal_args = f.args.iter().all(|a| {
            matches!(&a.node, Some(N::AConst(_)) | Some(N::ColumnRef(_)))
                || matches!(&a.node, Some(N::TypeCast(tc)) if matches!(tc.arg.as_deref().and_then(|x| x.node.as_ref()), Some(N::AConst(_))))
        });
        if !literal_args {
            ok = false;
            continue;
        }
        match name {
            "set_config" => {
                let arg = |i: usize| match f.args.get(i).and_then(|a| a.node.as_ref()) {
                    Some(N::AConst(c)) => match &c.val {
                        Some(pg_query::protobuf::a_const::Val::Sval(v)) => Some(v.sval.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                if arg(0).as_deref() != Some("search_path") {
                    ok = false;
                } else if arg(1).as_deref() != Some("") {
                    *search_path_open = true;
                }
            }
            "setval"
            | "lo_create"
            | "lo_open"
            | "lowrite"
            | "lo_close"
            | "lo_unlink"
            | "pg_restore_relation_stats"
            | "pg_restore_attribute_stats" => {}
            _ => ok = false,
        }
    }
    let _ = s;
    ok && calls == 1 && reads_only_catalog
}

/// Every object of node type `key` anywhere under `node`, serialized.
fn objects(node: &N, key: &str) -> Vec<serde_json::Value> {
    fn walk(v: &serde_json::Value, key: &str, out: &mut Vec<serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    if k == key {
                        out.push(v.clone());
                    }
                    walk(v, key, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, key, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::to_value(node) {
        walk(&v, key, &mut out);
    }
    out
}

/// The table of `INSERT INTO t`.
fn insert_table(stmt: &[u8]) -> Option<Rel> {
    let (s, n) = crate::sql::words::insert_target(stmt)?;
    Some((s.unwrap_or_default(), n))
}

/// Whether an INSERT's VALUES hold only literals (as pg_dump --inserts
/// writes them): strings, numbers, NULL, TRUE, FALSE, DEFAULT.
fn insert_is_literals(stmt: &[u8]) -> bool {
    let lower = stmt.to_ascii_lowercase();
    let Some(v) = find_word(&lower, b"values") else {
        return false;
    };
    // The column list may only hold names; a function call there cannot be.
    let s = &stmt[v + 6..];
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        match b {
            b'\'' => {
                i += 1;
                loop {
                    match s.get(i) {
                        None => return false,
                        Some(b'\'') if s.get(i + 1) == Some(&b'\'') => i += 2,
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => i += 2,
                        Some(_) => i += 1,
                    }
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b',' | b';' | b'-' | b'+' | b'.' => i += 1,
            b'0'..=b'9' => i += 1,
            _ if b.is_ascii_alphabetic() => {
                let start = i;
                while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
                    i += 1;
                }
                let word = s[start..i].to_ascii_lowercase();
                let prefix = matches!(word.as_slice(), b"e" | b"b" | b"x" | b"n")
                    && s.get(i) == Some(&b'\'');
                // Numbers' exponents (1e5) and the NaN/Infinity words are in quotes.
                let number = start > 0 && s[start - 1].is_ascii_digit();
                if !(prefix
                    || number
                    || matches!(word.as_slice(), b"null" | b"true" | b"false" | b"default"))
                {
                    return false;
                }
            }
            _ => return false,
        }
    }
    true
}

fn find_word(hay: &[u8], word: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&hay[from..], word) {
        let at = from + i;
        let before = at.checked_sub(1).map(|j| hay[j]);
        let after = hay.get(at + word.len());
        let boundary =
            |b: Option<&u8>| b.is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
        if boundary(before.as_ref()) && boundary(after) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// `COPY … FROM PROGRAM` / `TO PROGRAM`: runs a command on the server.
fn copy_program(stmt: &[u8], encoding: &str) -> Option<String> {
    let parsed = super::tree::parse(stmt, encoding)?;
    let node = super::tree::first(&parsed)?;
    match node {
        N::CopyStmt(c) if c.is_program => {
            Some("COPY with PROGRAM (a command run on the server)".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(stmts: &[&str]) -> Vec<Option<String>> {
        let mut w = Watch::new();
        stmts
            .iter()
            .map(|s| w.statement(s.as_bytes(), "UTF8"))
            .collect()
    }

    #[test]
    fn pg_dump_forms_pass() {
        let ok = [
            "SELECT pg_catalog.set_config('search_path', '', false);",
            "SELECT pg_catalog.setval('public.s', 42, true);",
            "SELECT pg_catalog.lo_create('16385');",
            "SELECT pg_catalog.lo_open('16385', 131072);",
            "SELECT pg_catalog.lowrite(0, '\\x6869');",
            "SELECT pg_catalog.lo_close(0);",
            "SELECT 1;",
            "SELECT * FROM pg_catalog.pg_restore_relation_stats('version', '180000'::integer, 'schemaname', 'public', 'relname', 't');",
            "INSERT INTO public.t VALUES (1, 'a''b', NULL, -2.5e3, E'x\\\\y', true);",
            "INSERT INTO public.t (a, \"b\") VALUES (1, DEFAULT), (2, 'x');",
            "CREATE TABLE public.t (a integer DEFAULT nextval('public.s'::regclass), b text CHECK (length(b) > 0));",
            "CREATE INDEX i ON public.t USING btree (lower(b));",
            "CREATE MATERIALIZED VIEW public.mv AS SELECT public.f(a) FROM public.t WITH NO DATA;",
            "COPY public.t (a, b) FROM stdin;",
            "CREATE TRIGGER tr AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();",
            "CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION public.evt();",
            "ALTER EVENT TRIGGER e OWNER TO alice;",
        ];
        for (s, w) in ok.iter().zip(why(&ok)) {
            assert_eq!(w, None, "{s}");
        }
    }

    #[test]
    fn unseen_code_is_named() {
        let cases = [
            ("DO $$BEGIN GRANT ALL ON t TO canary; END$$;", "a DO block"),
            ("CALL public.p();", "CALL"),
            ("SELECT public.f();", "a query"),
            (
                "SELECT pg_catalog.set_config('role', 'canary', false);",
                "a query",
            ),
            ("SELECT 1 FROM public.t WHERE public.f(a);", "a query"),
            ("INSERT INTO public.t VALUES (public.f());", "public.f"),
            (
                "CREATE INDEX i ON public.t (public.f(a));",
                "an index expression",
            ),
            (
                "CREATE TABLE public.u (a integer CHECK (public.f(a)));",
                "public.f",
            ),
            (
                "ALTER TABLE public.t ADD COLUMN c integer DEFAULT public.f();",
                "public.f",
            ),
            (
                "CREATE TABLE public.x AS SELECT public.f();",
                "a query that calls",
            ),
            ("COPY public.t FROM PROGRAM 'id';", "PROGRAM"),
            ("UPDATE public.t SET a = 1;", "UPDATE"),
        ];
        for (s, want) in cases {
            let got = why(&[s]).remove(0);
            assert!(
                got.as_deref().is_some_and(|g| g.contains(want)),
                "{s}: {got:?}"
            );
        }
        // What a later statement fires.
        let w = why(&[
            "CREATE TRIGGER tr BEFORE INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();",
            "COPY public.t (a) FROM stdin;",
        ]);
        assert!(w[1].as_deref().unwrap().contains("trigger"));
        let w = why(&[
            "CREATE MATERIALIZED VIEW public.mv AS SELECT public.f() WITH NO DATA;",
            "REFRESH MATERIALIZED VIEW public.mv;",
        ]);
        assert!(w[1].as_deref().unwrap().contains("REFRESH"));
        let w = why(&[
            "CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION public.evt();",
            "GRANT SELECT ON public.t TO alice;",
        ]);
        assert!(w[1].as_deref().unwrap().contains("event trigger e"));
        // A search_path opens unqualified names.
        let w = why(&["SET search_path = public;", "CREATE INDEX i ON t (f(a));"]);
        assert!(w[1].is_some());
    }
}
