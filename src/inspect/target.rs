//! `pgpipe-inspect --target`: what a dump needs from the server it is about
//! to be restored into, asked of that server, and what it lacks there.
//!
//! The dump side ([`Needs`]) is collected while the inspection reads the
//! stream. The server side ([`Facts`]) comes from `psql -X`, so the
//! connection string, the `PG*` variables, `.pgpass`, services and TLS
//! behave exactly as in the restore that follows and nothing here links
//! libpq. Every query runs in a `READ ONLY` transaction with a short
//! `lock_timeout` and `statement_timeout`: the check changes nothing and
//! never waits behind a restore's locks.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::{QualifiedName, Report};
use crate::error::{Error, Result};
use crate::sql::analysis::{Action, Analysis, ObjectKind, RoleName, RoleRefKind};
use crate::sql::ident::quote_ident;

/// How long one catalog query may wait for a lock, and run.
const LOCK_TIMEOUT: &str = "2s";
const STATEMENT_TIMEOUT: &str = "30s";
/// At most this many names are shown per problem.
const FIRST_NAMES: usize = 5;

/// The kinds of objects whose existence on the target makes a `CREATE` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Schema,
    Table,
    Sequence,
    Type,
    Function,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::Schema => "schemas",
            Kind::Table => "tables",
            Kind::Sequence => "sequences",
            Kind::Type => "types",
            Kind::Function => "functions",
        }
    }

    fn of(kind: ObjectKind) -> Option<Kind> {
        Some(match kind {
            ObjectKind::Schema => Kind::Schema,
            ObjectKind::Table => Kind::Table,
            ObjectKind::Sequence => Kind::Sequence,
            ObjectKind::Type | ObjectKind::Domain => Kind::Type,
            ObjectKind::Function | ObjectKind::Procedure | ObjectKind::Aggregate => Kind::Function,
            _ => return None,
        })
    }
}

/// The locale and encoding a dump records for a database it creates
/// (`CREATE DATABASE` of `pg_dump -C` and `pg_dumpall`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DumpLocale {
    pub database: String,
    pub encoding: Option<String>,
    pub collate: Option<String>,
    pub ctype: Option<String>,
    pub provider: Option<String>,
    /// `ICU_LOCALE` (PostgreSQL 15+, with `LOCALE_PROVIDER = icu`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icu_locale: Option<String>,
    /// `BUILTIN_LOCALE` (PostgreSQL 17+, with `LOCALE_PROVIDER = builtin`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builtin_locale: Option<String>,
    /// The line of the `CREATE DATABASE`.
    #[serde(skip_serializing)]
    pub line: u64,
}

/// What the dump needs from its target, collected statement by statement.
#[derive(Default)]
pub struct Needs {
    /// Objects created unconditionally (no `IF NOT EXISTS`, `OR REPLACE`),
    /// and not dropped by the dump first: the first line of each.
    created: BTreeMap<(Kind, QualifiedName), u64>,
    dropped: BTreeSet<(Kind, QualifiedName)>,
    /// Roles the dump makes objects owned by (`ALTER … OWNER TO`).
    owners: BTreeMap<String, u64>,
    /// Roles made owners of objects in schema public.
    owners_in_public: BTreeMap<String, u64>,
    tablespaces: BTreeMap<String, u64>,
    /// Tablespaces the dump creates itself (pg_dumpall).
    tablespaces_created: BTreeSet<String>,
    /// Roles created only if missing (`pgpipe-filter --roles-if-not-exists`).
    roles_if_missing: BTreeSet<String>,
    icu: Option<u64>,
    compression: BTreeMap<String, u64>,
    xml: Option<u64>,
    /// Settings and statements a server older than the version rejects.
    versioned: Vec<(u32, String, u64)>,
    /// The first object created in schema `public`.
    in_public: Option<u64>,
    /// The first `CREATE SCHEMA`.
    creates_schema: Option<u64>,
    locales: Vec<DumpLocale>,
}

impl Needs {
    /// Note what one analysed statement needs: objects it creates or drops,
    /// owners it sets, databases it creates.
    pub fn analysed(&mut self, stmt: &[u8], line: u64, a: &Analysis) {
        let words = crate::sql::words::first_words(stmt, 6);
        let w = |i: usize, s: &str| crate::sql::words::word_is(&words, i, s);
        if let Some(o) = &a.object
            && let Some(kind) = Kind::of(o.kind)
        {
            let name = QualifiedName {
                schema: o.schema.clone(),
                name: o.name.clone(),
            };
            match a.action {
                Action::Create => {
                    let conditional =
                        w(1, "or") || words.windows(3).any(|x| ieq(x, &["if", "not", "exists"]));
                    if kind == Kind::Schema {
                        self.creates_schema.get_or_insert(line);
                    } else if name.schema.as_deref() == Some("public") {
                        self.in_public.get_or_insert(line);
                    }
                    if !conditional && !self.dropped.contains(&(kind, name.clone())) {
                        self.created.entry((kind, name)).or_insert(line);
                    }
                }
                Action::Drop => {
                    self.dropped.insert((kind, name));
                }
                _ => {}
            }
        }
        if let Some(o) = &a.object
            && a.action == Action::Create
            && o.kind == ObjectKind::Database
        {
            let mut l = database_locale(stmt, &o.name);
            l.line = line;
            self.locales.push(l);
        }
        for r in &a.role_refs {
            if r.kind == RoleRefKind::Owner
                && a.action == Action::Alter
                && let RoleName::Named(n) = &r.role
            {
                self.owners.entry(n.clone()).or_insert(line);
                let schema = a.object.as_ref().and_then(|o| {
                    o.table
                        .as_ref()
                        .map_or(o.schema.as_deref(), |t| t.0.as_deref())
                });
                if schema == Some("public") {
                    self.owners_in_public.entry(n.clone()).or_insert(line);
                }
            }
        }
    }

    /// Note what a statement's text alone shows it needs: ICU collations,
    /// column compression, type xml, tablespaces, the MAINTAIN privilege.
    pub fn text(&mut self, stmt: &[u8], line: u64) {
        use crate::sql::words::strip_word;
        if let Some(crate::sql::blocks::OwnBlock::IfNotExists { inner }) =
            crate::sql::blocks::recognise(stmt)
            && let Some(rest) =
                strip_word(&stmt[inner], b"create").and_then(|r| strip_word(r, b"role"))
            && let Some((None, role)) = crate::sql::words::qualified_name(rest, &mut 0)
        {
            self.roles_if_missing.insert(role);
            return;
        }
        let words = crate::sql::words::first_words(stmt, 2);
        let w = |i: usize, s: &str| crate::sql::words::word_is(&words, i, s);
        if !(w(0, "create") || w(0, "alter") || w(0, "grant") || w(0, "revoke")) {
            return;
        }
        let lower = stmt.to_ascii_lowercase();
        if w(0, "create") && w(1, "collation") && has_option(&lower, b"provider", b"icu") {
            self.icu.get_or_insert(line);
        }
        if (w(0, "create") || w(0, "alter")) && (w(1, "table") || w(1, "foreign")) {
            for method in ["lz4", "pglz"] {
                if contains_words(&lower, &[b"compression", method.as_bytes()]) {
                    self.compression.entry(method.into()).or_insert(line);
                }
            }
            if w(0, "create") && contains_word(&lower, b"xml") {
                self.xml.get_or_insert(line);
            }
        }
        if w(0, "create") && w(1, "tablespace") {
            let mut j = crate::sql::words::skip_blank(stmt, 0);
            j += 6;
            j = crate::sql::words::skip_blank(stmt, j) + "tablespace".len();
            if let Some((None, ts)) = crate::sql::words::qualified_name(&stmt[j..], &mut 0) {
                self.tablespaces_created.insert(ts);
            }
        } else if w(0, "create")
            && let Some(i) = find(&lower, b" tablespace ")
        {
            let rest = &stmt[i + b" tablespace ".len()..];
            if let Some((None, ts)) = crate::sql::words::qualified_name(rest, &mut 0) {
                self.tablespaces.entry(ts).or_insert(line);
            }
        }
        if (w(0, "grant") || w(0, "revoke"))
            && let Some(on) = find(&lower, b" on ")
            && contains_word(&lower[..on], b"maintain")
        {
            self.versioned
                .push((17, "the MAINTAIN privilege".into(), line));
        }
    }

    /// Note a `SET name = value` of the dump's header.
    pub fn setting(&mut self, stmt: &[u8], line: u64) {
        let words = crate::sql::words::first_words(stmt, 2);
        if words.len() < 2 || !words[0].eq_ignore_ascii_case(b"set") {
            return;
        }
        let name = String::from_utf8_lossy(words[1]).to_ascii_lowercase();
        if name == "default_tablespace"
            && let Some(v) = crate::dump::reader::set_value(stmt, b"default_tablespace")
        {
            let v = String::from_utf8_lossy(v);
            let v = v.trim_matches('\'');
            if !v.is_empty() {
                self.tablespaces.entry(v.to_string()).or_insert(line);
            }
        }
        if let Some(since) = crate::sql::versions::setting_since(&name) {
            self.versioned.push((since, format!("SET {name}"), line));
        }
    }
}

fn ieq(words: &[&[u8]], want: &[&str]) -> bool {
    words.len() == want.len()
        && words
            .iter()
            .zip(want)
            .all(|(a, b)| a.eq_ignore_ascii_case(b.as_bytes()))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `word` appears in lower-cased `text` as a whole word.
fn contains_word(text: &[u8], word: &[u8]) -> bool {
    memchr::memmem::find_iter(text, word).any(|i| {
        (i == 0 || !is_word_byte(text[i - 1]))
            && text.get(i + word.len()).is_none_or(|&b| !is_word_byte(b))
    })
}

/// The words appear in this order, separated by blanks only.
fn contains_words(text: &[u8], words: &[&[u8]]) -> bool {
    let Some((first, rest)) = words.split_first() else {
        return true;
    };
    memchr::memmem::find_iter(text, first).any(|i| {
        if i > 0 && is_word_byte(text[i - 1]) {
            return false;
        }
        let mut at = i + first.len();
        for w in rest {
            let start = at;
            while text.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            if at == start || !text[at..].starts_with(w) {
                return false;
            }
            at += w.len();
        }
        text.get(at).is_none_or(|&b| !is_word_byte(b))
    })
}

/// `key = value` (value quoted or not) in lower-cased option text.
fn has_option(text: &[u8], key: &[u8], value: &[u8]) -> bool {
    memchr::memmem::find_iter(text, key).any(|i| {
        let mut at = i + key.len();
        let skip = |at: &mut usize| {
            while text.get(*at).is_some_and(u8::is_ascii_whitespace) {
                *at += 1;
            }
        };
        skip(&mut at);
        if text.get(at) != Some(&b'=') {
            return false;
        }
        at += 1;
        skip(&mut at);
        if matches!(text.get(at), Some(b'\'' | b'"')) {
            at += 1;
        }
        text[at..].starts_with(value)
    })
}

/// ENCODING, LOCALE, LC_COLLATE, LC_CTYPE and LOCALE_PROVIDER of a
/// `CREATE DATABASE` as pg_dump writes it (`key = 'value'` options).
fn database_locale(stmt: &[u8], name: &str) -> DumpLocale {
    let text = String::from_utf8_lossy(stmt);
    let lower = text.to_ascii_lowercase();
    let get = |key: &str| -> Option<String> {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let at = from + i;
            from = at + key.len();
            let before_ok = at == 0 || !is_word_byte(lower.as_bytes()[at - 1]);
            let rest = lower[from..].trim_start();
            if !before_ok || !rest.starts_with('=') {
                continue;
            }
            let off = text.len() - rest.len() + 1;
            let value = text[off..].trim_start();
            return Some(match value.strip_prefix('\'') {
                Some(v) => v.split('\'').next().unwrap_or("").to_string(),
                None => value
                    .split(|c: char| c.is_whitespace() || c == ';')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            });
        }
        None
    };
    let locale = get("locale");
    let provider = get("locale_provider").map(|p| p.to_ascii_lowercase());
    // With ICU or builtin, LOCALE sets the provider's locale too.
    let provider_locale = |key: &str, name: &str| {
        get(key).or_else(|| {
            (provider.as_deref() == Some(name))
                .then(|| locale.clone())
                .flatten()
        })
    };
    DumpLocale {
        database: name.to_string(),
        encoding: get("encoding"),
        collate: get("lc_collate").or_else(|| locale.clone()),
        ctype: get("lc_ctype").or_else(|| locale.clone()),
        icu_locale: provider_locale("icu_locale", "icu"),
        builtin_locale: provider_locale("builtin_locale", "builtin"),
        provider,
        line: 0,
    }
}

/// Why the target cannot create the databases the dump creates, with
/// their locales: per entry of [`Needs`]' locales (by index), the error
/// `CREATE DATABASE` would raise there.
///
/// Each locale is tried by creating a temporary collation with it, in a
/// transaction that is rolled back (the server loads a locale for a
/// collation as for a database, and reports a missing one or one whose
/// encoding does not match the database's); the provider's server version
/// and build (ICU) are checked first. A target that does not let us create
/// temporary objects answers nothing.
pub fn database_locales(
    conninfo: &str,
    needs: &Needs,
    facts: &Facts,
) -> Result<BTreeMap<usize, String>> {
    let mut failures = BTreeMap::new();
    let mut probes: Vec<(usize, &'static str, String, String)> = Vec::new();
    for (i, l) in needs.locales.iter().enumerate() {
        let version = facts.version_num / 10000;
        match l.provider.as_deref() {
            Some("icu") if version < 15 => {
                failures.insert(
                    i,
                    format!(
                        "LOCALE_PROVIDER icu needs PostgreSQL 15 or later; the target is {version}"
                    ),
                );
                continue;
            }
            Some("icu") if !facts.icu => {
                failures.insert(i, "ICU is not supported in this build".into());
                continue;
            }
            Some("builtin") if version < 17 => {
                failures.insert(i, format!("LOCALE_PROVIDER builtin needs PostgreSQL 17 or later; the target is {version}"));
                continue;
            }
            _ => {}
        }
        if l.collate.is_some() || l.ctype.is_some() {
            let collate = l
                .collate
                .clone()
                .or_else(|| l.ctype.clone())
                .unwrap_or_default();
            let ctype = l
                .ctype
                .clone()
                .or_else(|| l.collate.clone())
                .unwrap_or_default();
            probes.push((
                i,
                "libc",
                format!(
                    "LC_COLLATE = {}, LC_CTYPE = {}",
                    crate::sql::ident::quote_literal(&collate),
                    crate::sql::ident::quote_literal(&ctype)
                ),
                collate,
            ));
        }
        if let Some(icu) = &l.icu_locale {
            probes.push((
                i,
                "icu",
                format!(
                    "provider = icu, locale = {}",
                    crate::sql::ident::quote_literal(icu)
                ),
                icu.clone(),
            ));
        }
        if let Some(b) = &l.builtin_locale {
            probes.push((
                i,
                "builtin",
                format!(
                    "provider = builtin, locale = {}",
                    crate::sql::ident::quote_literal(b)
                ),
                b.clone(),
            ));
        }
    }
    if probes.is_empty() {
        return Ok(failures);
    }
    let mut script = format!(
        "\\set ON_ERROR_STOP off\nBEGIN;\nSET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\nSET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}';\n"
    );
    for (n, (_, _, options, _)) in probes.iter().enumerate() {
        script.push_str(&format!(
            "DO $pgpipe$DECLARE d text; BEGIN\n  CREATE COLLATION pg_temp.pgpipe_probe_{n} ({options});\n  PERFORM set_config('pgpipe.probe', 'ok', true);\n\
             EXCEPTION WHEN OTHERS THEN\n  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;\n  \
             PERFORM set_config('pgpipe.probe', SQLSTATE || ' ' || replace(SQLERRM || CASE WHEN d <> '' THEN ' (' || d || ')' ELSE '' END, E'\\n', ' '), true);\nEND$pgpipe$;\n\
             SELECT '{n} ' || current_setting('pgpipe.probe');\n"
        ));
    }
    script.push_str("ROLLBACK;\n");
    let out = run_psql(conninfo, &script, "check the databases' locales")?;
    for line in out.lines() {
        let Some((n, answer)) = line.split_once(' ') else {
            continue;
        };
        let Some((i, provider, _, name)) = n.parse::<usize>().ok().and_then(|n| probes.get(n))
        else {
            continue;
        };
        if answer == "ok" {
            continue;
        }
        let (state, message) = answer.split_once(' ').unwrap_or((answer, ""));
        // 42501: no right to create temporary objects; 25006: a read-only
        // server: the probe cannot tell.
        if state == "42501" || state == "25006" {
            continue;
        }
        let l = &needs.locales[*i];
        let why = if message.contains("does not match locale") {
            // Checked against the database psql is in; it matters only
            // when the dump's database has that encoding.
            let theirs = l.encoding.as_deref().unwrap_or(&facts.encoding);
            if !theirs.eq_ignore_ascii_case(&facts.encoding) {
                continue;
            }
            message.to_string()
        } else if *provider == "libc" && message.contains("could not create locale") {
            let which = if l.collate.is_some() {
                "LC_COLLATE"
            } else {
                "LC_CTYPE"
            };
            format!(
                "invalid {which} locale name: \"{name}\" (the target's operating system has no such locale)"
            )
        } else {
            message.to_string()
        };
        failures.entry(*i).or_insert(why);
    }
    Ok(failures)
}

/// What the target said about itself.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Facts {
    pub version_num: u32,
    pub version: String,
    pub user: String,
    pub superuser: bool,
    pub database: String,
    pub encoding: String,
    pub collate: String,
    pub ctype: String,
    #[serde(default)]
    pub locale_provider: Option<String>,
    #[serde(skip_serializing)]
    pub db_create: bool,
    #[serde(skip_serializing)]
    pub public_create: Option<bool>,
    /// The roles that may create in schema public.
    #[serde(skip_serializing, default)]
    pub public_creators: Vec<String>,
    #[serde(skip_serializing, default)]
    pub roles: Vec<String>,
    #[serde(skip_serializing, default)]
    pub member_of: Vec<String>,
    #[serde(skip_serializing, default)]
    pub objects: Vec<(Kind, Option<String>, String)>,
    #[serde(skip_serializing, default)]
    pub extensions: Vec<String>,
    /// Available extensions: name, needs a superuser, trusted.
    #[serde(skip_serializing, default)]
    pub available: Vec<(String, bool, bool)>,
    #[serde(skip_serializing, default)]
    pub tablespaces: Vec<String>,
    #[serde(skip_serializing)]
    pub icu: bool,
    #[serde(skip_serializing, default)]
    pub toast_compression: Vec<String>,
    #[serde(skip_serializing)]
    pub xml: bool,
}

/// The catalog query: one JSON document. Server-version differences are
/// handled with psql's `\if`, so one script serves PostgreSQL 12 to 18.
/// Build features (ICU, libxml) are tried, not looked up: a build without
/// ICU still lists the `unicode` collation as ICU's.
fn facts_sql() -> String {
    format!(
        r#"\set ON_ERROR_STOP on
BEGIN READ ONLY;
SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';
SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}';
SELECT current_setting('server_version_num')::int >= 150000 AS v15,
       current_setting('server_version_num')::int >= 170000 AS v17 \gset pgpipe_
\if :pgpipe_v15
SELECT datlocprovider::text AS provider FROM pg_database WHERE datname = current_database() \gset pgpipe_
\else
SELECT 'c' AS provider \gset pgpipe_
\endif
DO $$BEGIN PERFORM '<a/>'::xml; PERFORM set_config('pgpipe.xml', 'on', true);
EXCEPTION WHEN OTHERS THEN PERFORM set_config('pgpipe.xml', 'off', true); END$$;
DO $$DECLARE c name; BEGIN
  PERFORM set_config('pgpipe.icu', 'off', true);
  SELECT collname INTO c FROM pg_collation WHERE collprovider = 'i' LIMIT 1;
  IF c IS NOT NULL THEN
    EXECUTE format('SELECT %L::text < %L::text COLLATE pg_catalog.%I', 'a', 'b', c);
    PERFORM set_config('pgpipe.icu', 'on', true);
  END IF;
EXCEPTION WHEN OTHERS THEN PERFORM set_config('pgpipe.icu', 'off', true); END$$;
SELECT json_build_object(
  'version_num', current_setting('server_version_num')::int,
  'version', current_setting('server_version'),
  'user', current_user,
  'superuser', (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
  'database', current_database(),
  'encoding', (SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()),
  'collate', (SELECT datcollate FROM pg_database WHERE datname = current_database()),
  'ctype', (SELECT datctype FROM pg_database WHERE datname = current_database()),
  'locale_provider', CASE :'pgpipe_provider' WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END,
  'db_create', has_database_privilege(current_database(), 'CREATE'),
  'public_create', (SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = 'public'),
  'roles', (SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]') FROM pg_roles),
  'public_creators', (SELECT coalesce(json_agg(r.rolname), '[]') FROM pg_roles r, pg_namespace n
                      WHERE n.nspname = 'public' AND has_schema_privilege(r.oid, n.oid, 'CREATE')),
  'member_of', (SELECT coalesce(json_agg(rolname ORDER BY rolname), '[]') FROM pg_roles
                WHERE pg_has_role(current_user, oid, 'MEMBER')),
  'objects', (SELECT coalesce(json_agg(json_build_array(kind, nsp, name)), '[]') FROM (
      SELECT 'schema' AS kind, NULL AS nsp, nspname::text AS name FROM pg_namespace
       WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
      UNION ALL
      SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, n.nspname, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'f', 'S', 'v', 'm')
         AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
      UNION ALL
      SELECT 'type', n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r', 'm') AND t.typelem = 0 AND t.typname !~ '^_'
         AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
         AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
      UNION ALL
      SELECT 'function', n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')) o),
  'extensions', (SELECT coalesce(json_agg(extname), '[]') FROM pg_extension),
  'available', (SELECT coalesce(json_agg(json_build_array(e.name, v.superuser, v.trusted)), '[]')
                  FROM pg_available_extensions e
                  JOIN pg_available_extension_versions v ON v.name = e.name AND v.version = e.default_version),
  'tablespaces', (SELECT coalesce(json_agg(spcname), '[]') FROM pg_tablespace),
  'icu', current_setting('pgpipe.icu') = 'on',
  'toast_compression', coalesce((SELECT to_json(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'), '[]'::json),
  'xml', current_setting('pgpipe.xml') = 'on');
COMMIT;
"#
    )
}

/// The `psql -X` command for `conninfo` (`''`: the libpq environment alone).
fn psql(conninfo: &str) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]);
    if !conninfo.is_empty() {
        cmd.arg("-d").arg(conninfo);
    }
    if std::env::var_os("PGCONNECT_TIMEOUT").is_none() {
        cmd.env("PGCONNECT_TIMEOUT", "10");
    }
    cmd.env("PGAPPNAME", "pgpipe-inspect --target");
    cmd
}

/// Run `script` on the target; its standard output.
fn run_psql(conninfo: &str, script: &str, what: &str) -> Result<String> {
    let mut child = psql(conninfo)
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::io("cannot run psql for --target", e)
                .with_hint("install the PostgreSQL client (psql) or put it on PATH")
        })?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let script = script.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(script.as_bytes());
    });
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io("psql for --target failed", e))?;
    let _ = feeder.join();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if !out.status.success() {
        return Err(Error::runtime(format!(
            "cannot {what} on the target: {}",
            if stderr.is_empty() {
                format!("psql exited with {}", out.status)
            } else {
                stderr.replace('\n', "; ")
            }
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Ask the target about itself. Fails (exit 1) with psql's reason when it
/// cannot be reached.
pub fn ask(conninfo: &str) -> Result<Facts> {
    let out = run_psql(conninfo, &facts_sql(), "read the catalogs")?;
    let json = out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| Error::runtime("the target's catalog query returned nothing"))?;
    serde_json::from_str(json)
        .map_err(|e| Error::runtime(format!("the target's catalog answer does not parse: {e}")))
}

fn local_psql_version() -> Option<(u32, u32)> {
    let out = Command::new("psql").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// Whether the tables hold rows: `(schema, name) -> Some(bool)`, `None`
/// where the table could not be read in time (locked by a restore).
pub fn tables_with_rows(
    conninfo: &str,
    tables: &[QualifiedName],
) -> Result<BTreeMap<QualifiedName, Option<bool>>> {
    let mut script = format!(
        "\\set ON_ERROR_STOP off\n\\set ON_ERROR_ROLLBACK on\nBEGIN READ ONLY;\n\
         SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';\nSET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}';\n"
    );
    for (i, t) in tables.iter().enumerate() {
        let name = match &t.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&t.name)),
            None => quote_ident(&t.name),
        };
        script.push_str(&format!(
            "SELECT '{i} ' || EXISTS (SELECT 1 FROM ONLY {name});\n"
        ));
    }
    script.push_str("COMMIT;\n");
    let out = run_psql(conninfo, &script, "check which tables hold rows")?;
    let mut answers = BTreeMap::new();
    for line in out.lines() {
        if let Some((i, v)) = line.split_once(' ')
            && let Ok(i) = i.parse::<usize>()
            && let Some(t) = tables.get(i)
        {
            answers.insert(t.clone(), Some(v == "true"));
        }
    }
    Ok(tables
        .iter()
        .map(|t| (t.clone(), answers.get(t).copied().flatten()))
        .collect())
}

/// One thing the target lacks, and how to fix it.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub kind: String,
    pub object: String,
    pub detail: String,
    pub fix: String,
}

/// What `--target` adds to the report.
#[derive(Debug, Serialize)]
pub struct TargetReport {
    pub ready: bool,
    pub problems: Vec<Problem>,
    pub target: Facts,
    /// The locales the dump records for the databases it creates.
    pub dump_locales: Vec<DumpLocale>,
}

/// Options of the check.
#[derive(Default)]
pub struct CheckOptions {
    /// `--require-collation`: the target database's collation and ctype.
    pub require_collation: Option<String>,
    /// `--allow-after-footer`: whole statements after the footer do not
    /// make the dump incomplete.
    pub allow_after_footer: bool,
}

fn shown(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(FIRST_NAMES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > FIRST_NAMES {
        s.push_str(&format!(" and {} more", names.len() - FIRST_NAMES));
    }
    s
}

fn display(q: &QualifiedName) -> String {
    match &q.schema {
        Some(s) => format!("{s}.{}", q.name),
        None => q.name.clone(),
    }
}

/// Compare what the dump needs with what the target has. `rows` answers,
/// for tables that already exist, whether they hold rows.
pub fn check(
    report: &Report,
    needs: &Needs,
    facts: Facts,
    rows: &BTreeMap<QualifiedName, Option<bool>>,
    locales: &BTreeMap<usize, String>,
    opts: &CheckOptions,
) -> TargetReport {
    let mut problems = Vec::new();
    let mut add = |kind: &str, object: String, detail: String, fix: &str| {
        problems.push(Problem {
            kind: kind.into(),
            object,
            detail,
            fix: fix.into(),
        })
    };
    let roles: BTreeSet<&str> = facts.roles.iter().map(String::as_str).collect();

    // Roles.
    let missing: Vec<String> = report
        .roles_required
        .iter()
        .filter(|r| !roles.contains(r.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        add(
            "missing_role",
            shown(&missing),
            format!(
                "{} role(s) the dump references do not exist on the target (role \"{}\" does not exist)",
                missing.len(),
                missing[0]
            ),
            "map them to existing roles with pgpipe-roles --map OLD=NEW, remove them with --drop, or create them first",
        );
    }
    let existing_created: Vec<String> = report
        .roles_created
        .iter()
        .filter(|r| roles.contains(r.as_str()) && !needs.roles_if_missing.contains(*r))
        .cloned()
        .collect();
    if !existing_created.is_empty() {
        add(
            "role_exists",
            shown(&existing_created),
            format!(
                "the dump creates {} role(s) that exist on the target (role \"{}\" already exists)",
                existing_created.len(),
                existing_created[0]
            ),
            "pgpipe-filter --roles-if-not-exists, or --skip-role NAME",
        );
    }

    // Objects that already exist.
    let existing: BTreeSet<(Kind, Option<&str>, &str)> = facts
        .objects
        .iter()
        .map(|(k, s, n)| (*k, s.as_deref(), n.as_str()))
        .collect();
    // Per kind: the names shown (tables with whether they hold rows), and
    // the first plain name, as PostgreSQL's error would name it.
    let mut by_kind: BTreeMap<Kind, (Vec<String>, String)> = BTreeMap::new();
    for (kind, q) in needs.created.keys() {
        // An unqualified name in a dump is in public (pg_dump qualifies
        // everything else).
        let schema = match kind {
            Kind::Schema => None,
            _ => Some(q.schema.as_deref().unwrap_or("public")),
        };
        if existing.contains(&(*kind, schema, q.name.as_str())) {
            let mut name = display(q);
            if *kind == Kind::Table {
                match rows.get(q) {
                    Some(Some(true)) => name.push_str(" (holds rows)"),
                    Some(Some(false)) => name.push_str(" (empty)"),
                    Some(None) => name.push_str(" (rows unknown: locked)"),
                    None => {}
                }
            }
            by_kind
                .entry(*kind)
                .or_insert_with(|| (Vec::new(), display(q)))
                .0
                .push(name);
        }
    }
    for (kind, (names, first)) in &by_kind {
        add(
            "object_exists",
            shown(names),
            format!(
                "{} {} the dump creates already exist on the target (\"{first}\" already exists)",
                names.len(),
                kind.plural(),
            ),
            "pgpipe-filter --clean (drops what the dump creates first), or restore into a fresh database",
        );
    }

    // Extensions.
    let installed: BTreeSet<&str> = facts.extensions.iter().map(String::as_str).collect();
    let available: BTreeMap<&str, (bool, bool)> = facts
        .available
        .iter()
        .map(|(n, s, t)| (n.as_str(), (*s, *t)))
        .collect();
    for ext in &report.extensions {
        if installed.contains(ext.as_str()) {
            continue;
        }
        match available.get(ext.as_str()) {
            None => add(
                "extension_unavailable",
                ext.clone(),
                format!(
                    "the target does not offer extension \"{ext}\" (extension \"{ext}\" is not available)"
                ),
                "install the extension's package on the target server, or leave it out (pgpipe-filter cannot drop extensions; remove its CREATE EXTENSION and the objects that use it)",
            ),
            Some((true, false)) if !facts.superuser => add(
                "extension_privilege",
                ext.clone(),
                format!(
                    "extension \"{ext}\" needs a superuser to create and {} is not one (permission denied to create extension)",
                    facts.user
                ),
                "have a superuser run CREATE EXTENSION on the target first",
            ),
            _ => {}
        }
    }

    // Privileges.
    if needs.creates_schema.is_some() && !facts.db_create && !facts.superuser {
        add(
            "privilege",
            facts.database.clone(),
            format!(
                "the dump creates schemas and {} may not create in database {} (permission denied for database)",
                facts.user, facts.database
            ),
            "GRANT CREATE ON DATABASE to the restoring role, or restore as the database owner",
        );
    }
    if needs.in_public.is_some() && facts.public_create == Some(false) && !facts.superuser {
        add(
            "privilege",
            "public".into(),
            format!(
                "the dump creates objects in schema public and {} may not create there (permission denied for schema public; PostgreSQL 15+ no longer lets every role create in public)",
                facts.user
            ),
            "restore as the owner of schema public, or GRANT CREATE ON SCHEMA public to the restoring role",
        );
    }
    if !facts.superuser {
        let member: BTreeSet<&str> = facts.member_of.iter().map(String::as_str).collect();
        let foreign: Vec<String> = needs
            .owners
            .keys()
            .filter(|r| !member.contains(r.as_str()) && roles.contains(r.as_str()))
            .cloned()
            .collect();
        let creators: BTreeSet<&str> = facts.public_creators.iter().map(String::as_str).collect();
        let barred: Vec<String> = needs
            .owners_in_public
            .keys()
            .filter(|r| !creators.contains(r.as_str()) && roles.contains(r.as_str()))
            .cloned()
            .collect();
        if !barred.is_empty() && facts.public_create.is_some() {
            add(
                "privilege",
                shown(&barred),
                format!(
                    "the dump gives objects in schema public to {} role(s) that may not create there (permission denied for schema public: a new owner needs CREATE on the schema)",
                    barred.len()
                ),
                "GRANT CREATE ON SCHEMA public to those roles, or pgpipe-roles --no-owner",
            );
        }
        if !foreign.is_empty() {
            add(
                "privilege",
                shown(&foreign),
                format!(
                    "the dump gives objects to {} role(s) {} is not a member of (must be able to SET ROLE \"{}\")",
                    foreign.len(),
                    facts.user,
                    foreign[0]
                ),
                "pgpipe-roles --no-owner (the restoring role owns everything), or --owner ROLE",
            );
        }
    }

    // Version.
    let major = facts.version_num / 10000;
    let mut rejected: BTreeMap<(u32, &str), u64> = BTreeMap::new();
    for (since, what, line) in &needs.versioned {
        if major < *since {
            rejected.entry((*since, what.as_str())).or_insert(*line);
        }
    }
    for ((since, what), line) in rejected {
        add(
            "version",
            what.to_string(),
            format!(
                "line {line}: {what} needs PostgreSQL {since} and the target is {}",
                facts.version
            ),
            &format!("pgpipe-filter --target-version {major}"),
        );
    }
    if !report.restrict_keys.is_empty()
        && let Some((pmaj, pmin)) = local_psql_version()
        && !psql_knows_restrict(pmaj, pmin)
    {
        add(
            "psql_restrict",
            format!("psql {pmaj}.{pmin}"),
            "the dump uses \\restrict, which this psql does not know (invalid command \\restrict)"
                .into(),
            "use psql 18, or a 13.22, 14.19, 15.14, 16.10, 17.6 or later minor release",
        );
    }

    // Encoding and locale.
    if let Some(want) = &opts.require_collation
        && (facts.collate != *want || facts.ctype != *want)
    {
        add(
            "collation",
            facts.database.clone(),
            format!(
                "database {} has LC_COLLATE {} and LC_CTYPE {}, not {want}",
                facts.database, facts.collate, facts.ctype
            ),
            &format!(
                "create the database with LC_COLLATE '{want}' LC_CTYPE '{want}' TEMPLATE template0 and restore into that"
            ),
        );
    }
    if let Some(enc) = report.encoding.as_deref()
        && !enc.eq_ignore_ascii_case(&facts.encoding)
        && !facts.encoding.eq_ignore_ascii_case("UTF8")
        && !facts.encoding.eq_ignore_ascii_case("SQL_ASCII")
    {
        add(
            "encoding",
            facts.database.clone(),
            format!(
                "the dump's encoding is {enc} and database {} is {}: characters it cannot hold fail the restore (character has no equivalent in encoding)",
                facts.database, facts.encoding
            ),
            "restore into a database created with ENCODING 'UTF8'",
        );
    }

    for (i, why) in locales {
        let l = &needs.locales[*i];
        let shown =
            |v: &Option<String>| v.clone().unwrap_or_else(|| "(the target's default)".into());
        add(
            "database_locale",
            l.database.clone(),
            format!(
                "line {}: CREATE DATABASE {} (encoding {}, collate {}, ctype {}{}) fails on the target: {why}",
                l.line,
                quote_ident(&l.database),
                shown(&l.encoding),
                shown(&l.collate),
                shown(&l.ctype),
                match (&l.provider, &l.icu_locale, &l.builtin_locale) {
                    (Some(p), Some(icu), _) => format!(", provider {p}, ICU locale {icu}"),
                    (Some(p), _, Some(b)) => format!(", provider {p}, builtin locale {b}"),
                    (Some(p), _, _) => format!(", provider {p}"),
                    _ => String::new(),
                }
            ),
            &locale_fix(l, why),
        );
    }

    // Server features.
    if let Some(line) = needs.icu
        && !facts.icu
    {
        add(
            "feature",
            "ICU".into(),
            format!(
                "line {line}: the dump creates ICU collations and the target was built without ICU (ICU is not supported in this build)"
            ),
            "restore into a server built with ICU, or replace the collations",
        );
    }
    for (method, line) in &needs.compression {
        if !facts.toast_compression.iter().any(|m| m == method) {
            add(
                "feature",
                format!("compression {method}"),
                format!(
                    "line {line}: the dump sets column compression {method} and the target was built without it (compression method {method} not supported)"
                ),
                "remove the SET COMPRESSION clauses (the data restores with the default method), or use a server built with it",
            );
        }
    }
    let spaces: BTreeSet<&str> = facts.tablespaces.iter().map(String::as_str).collect();
    let absent: Vec<String> = needs
        .tablespaces
        .keys()
        .filter(|t| !spaces.contains(t.as_str()) && !needs.tablespaces_created.contains(*t))
        .cloned()
        .collect();
    if !absent.is_empty() {
        add(
            "feature",
            shown(&absent),
            format!(
                "the dump puts objects in {} tablespace(s) the target lacks (tablespace \"{}\" does not exist)",
                absent.len(),
                absent[0]
            ),
            "pgpipe-filter --no-tablespaces",
        );
    }
    if let Some(line) = needs.xml
        && !facts.xml
    {
        add(
            "feature",
            "xml".into(),
            format!(
                "line {line}: the dump uses type xml and the target was built without libxml (unsupported XML feature)"
            ),
            "restore into a server built with libxml",
        );
    }

    let complete = report.complete
        || opts.allow_after_footer
            && report
                .statements_after_footer
                .as_ref()
                .is_some_and(|a| a.otherwise_complete);
    TargetReport {
        ready: problems.is_empty() && complete,
        problems,
        target: facts,
        dump_locales: needs.locales.clone(),
    }
}

/// How to get a locale the target lacks.
fn locale_fix(l: &DumpLocale, why: &str) -> String {
    let create_first = format!(
        "create database {} beforehand with a locale the target has (SELECT collname FROM pg_collation) and leave the dump's CREATE DATABASE out",
        quote_ident(&l.database)
    );
    if !why.starts_with("invalid ") {
        return format!(
            "restore into a server that has the dump's locale provider (ICU needs a build with ICU, builtin PostgreSQL 17), or {create_first}"
        );
    }
    let name = l.collate.as_deref().or(l.ctype.as_deref()).unwrap_or("");
    // ll_CC.CODESET, as Debian and most distributions name them.
    let generate = match name.split_once('.') {
        Some((lang, codeset))
            if !lang.is_empty()
                && lang
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
                && !codeset.is_empty() =>
        {
            format!("localedef -i {lang} -f {codeset} {name}")
        }
        _ => "localedef or locale-gen".to_string(),
    };
    format!(
        "generate the locale on the target's host ({generate}) and restart PostgreSQL, or {create_first}"
    )
}

/// psql releases that know `\restrict` (pg-dump-format.md 1.4).
fn psql_knows_restrict(major: u32, minor: u32) -> bool {
    match major {
        0..=12 => false,
        13 => minor >= 22,
        14 => minor >= 19,
        15 => minor >= 14,
        16 => minor >= 10,
        17 => minor >= 6,
        _ => true,
    }
}

/// The tables the dump creates unconditionally, for [`tables_with_rows`].
pub fn created_tables(needs: &Needs, facts: &Facts) -> Vec<QualifiedName> {
    let existing: BTreeSet<(Option<&str>, &str)> = facts
        .objects
        .iter()
        .filter(|(k, _, _)| *k == Kind::Table)
        .map(|(_, s, n)| (s.as_deref(), n.as_str()))
        .collect();
    needs
        .created
        .keys()
        .filter(|(k, q)| {
            *k == Kind::Table
                && existing.contains(&(
                    Some(q.schema.as_deref().unwrap_or("public")),
                    q.name.as_str(),
                ))
        })
        .map(|(_, q)| q.clone())
        .collect()
}

impl TargetReport {
    /// The human report's part about the target.
    pub fn render_text(&self) -> String {
        let t = &self.target;
        let mut s = format!(
            "target: PostgreSQL {} as {}{}, database {} ({}, collate {}, ctype {})\n",
            t.version,
            t.user,
            if t.superuser { " (superuser)" } else { "" },
            t.database,
            t.encoding,
            t.collate,
            t.ctype
        );
        for l in &self.dump_locales {
            s.push_str(&format!(
                "  the dump creates database {} with encoding {}, collate {}, ctype {}\n",
                l.database,
                l.encoding.as_deref().unwrap_or("(default)"),
                l.collate.as_deref().unwrap_or("(default)"),
                l.ctype.as_deref().unwrap_or("(default)")
            ));
        }
        if self.ready {
            s.push_str("ready: the target has what this dump needs\n");
        } else if self.problems.is_empty() {
            s.push_str("not ready: the dump is incomplete\n");
        } else {
            s.push_str(&format!(
                "not ready: {} problem(s) would make the restore fail\n",
                self.problems.len()
            ));
            for p in &self.problems {
                s.push_str(&format!(
                    "  [{}] {}: {}\n    fix: {}\n",
                    p.kind, p.object, p.detail, p.fix
                ));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_options() {
        assert!(contains_word(b"a xml b", b"xml"));
        assert!(!contains_word(b"a xmlb", b"xml"));
        assert!(contains_words(
            b"alter column c set compression  lz4;",
            &[b"compression", b"lz4"]
        ));
        assert!(!contains_words(
            b"compression lz45",
            &[b"compression", b"lz4"]
        ));
        assert!(has_option(
            b"(provider = icu, locale = 'und')",
            b"provider",
            b"icu"
        ));
        assert!(has_option(b"(provider = 'icu')", b"provider", b"icu"));
        assert!(!has_option(b"(provider = libc)", b"provider", b"icu"));
    }

    #[test]
    fn database_locales() {
        let l = database_locale(
            b"CREATE DATABASE s WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE_PROVIDER = libc LOCALE = 'C.UTF-8';",
            "s",
        );
        assert_eq!(l.encoding.as_deref(), Some("UTF8"));
        assert_eq!(l.collate.as_deref(), Some("C.UTF-8"));
        assert_eq!(l.ctype.as_deref(), Some("C.UTF-8"));
        assert_eq!(l.provider.as_deref(), Some("libc"));
        let l = database_locale(
            b"CREATE DATABASE s WITH TEMPLATE = template0 ENCODING = 'UTF8' LC_COLLATE = 'C' LC_CTYPE = 'en_US.UTF-8';",
            "s",
        );
        assert_eq!(l.collate.as_deref(), Some("C"));
        assert_eq!(l.ctype.as_deref(), Some("en_US.UTF-8"));
    }

    #[test]
    fn roles_created_only_if_missing() {
        let mut n = Needs::default();
        let block = crate::sql::blocks::if_not_exists(b"CREATE ROLE \"Alice B\";");
        n.text(&block, 1);
        n.text(b"CREATE ROLE carol;", 2);
        assert_eq!(n.roles_if_missing, BTreeSet::from(["Alice B".to_string()]));
    }

    #[test]
    fn restrict_releases() {
        assert!(!psql_knows_restrict(15, 13));
        assert!(psql_knows_restrict(15, 14));
        assert!(psql_knows_restrict(18, 0));
        assert!(!psql_knows_restrict(12, 30));
    }
}
