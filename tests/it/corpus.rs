//! The corpus suite: real dumps nobody on the project wrote, taken byte for
//! byte from public repositories (`../shared/corpus/wild/`, described by its
//! `MANIFEST.tsv`: pg_dump 8.3 to 17; plain, pg_dumpall, custom and tar),
//! through every tool, with PostgreSQL 18 as the judge of every answer.
//!
//! Per file, in a private cluster for the originals (O, which also logs
//! every statement it receives) and one for the tools' output (T), both
//! with a bootstrap superuser of their own so that `postgres` is an
//! ordinary role a dump may need, rename or leave out:
//!
//! * `inspect`: `pgpipe-inspect --json` exits 0; on plain files the
//!   statements psql sends (the server's log) are exactly the reader's, the
//!   report's statement count is theirs, and its completeness is what psql
//!   runs: complete when psql sends nothing after the last footer, else the
//!   statements after it are counted as psql sends them.
//! * `passthrough`: `--passthrough` writes the input byte for byte (an
//!   archive: what `pgpipe-sql` prints, restrict keys aside).
//! * `sql` (archives): the bytes equal `pg_restore -f -` of the archive's
//!   own major where it can run here (13, 16, 18; pg_dump 17's archives
//!   print as 18's pg_restore prints them, archives of 12 and older as 13's
//!   and 15's), `\restrict` lines aside; and `pgpipe-sql` output and
//!   `pg_restore -f -` (18) output restored into fresh databases give the
//!   same errors, schema and table digests.
//! * `map`: `pgpipe-roles --map OLD=synapse` (OLD the role owning most
//!   objects) restored into T, where OLD does not exist, gives what the
//!   original restored into O followed by `ALTER ROLE OLD RENAME TO
//!   synapse` gives: schema (owners, ACLs, policies, default privileges),
//!   digests and errors; `keep-format`: the same through `--keep-format`
//!   and pg_restore 18, on custom archives.
//! * `guard`: `pgpipe-guard | psql` commits exactly when `psql -1 -v
//!   ON_ERROR_STOP=1` does, to the same database; statements after the
//!   footer are refused (difference by design, with the reason named)
//!   unless `--allow-after-footer`; `cuts`: the file cut at several
//!   offsets commits nothing.
//! * pg_dumpall files, in fresh clusters: `replay`: `pgpipe-filter
//!   --roles-if-not-exists --skip-role postgres | pgpipe-guard
//!   --per-database | psql` gives the roles, memberships, settings,
//!   databases, schemas and digests psql replaying the file gives;
//!   `database`: `--database D` of each database D restores D as the
//!   replay did; `globals`: `--globals-only` gives the replay's roles and
//!   `--no-globals --exclude-database` its databases but the excluded one;
//!   `map`: as above, the whole cluster.
//!
//! Some files need a base: the data-only dumps are restored onto the
//! schema they were dumped from (the corpus' own schema file, or the
//! table their COPY names), and the per-object dumps onto their schema. A
//! file PostgreSQL itself cannot restore as it is (a tablespace directory
//! of another host, PostGIS, a language that exists) gives errors on both
//! sides of every check; the tablespace case is asserted to fail as it is,
//! then checked with the locations moved to directories of the test
//! server. The suite prints a table of files and checks, and fails at the
//! end with every failing check's account.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use support::oracle::{
    RestoreError, State, cluster_state, compare_errors, compare_states, database_state,
    drop_database, first_difference, normalised, restore_located, state,
};
use support::{
    Server, Version, pg_restore_script as pg_restore, quote_ident, run, run_tool as tool,
    run_tool_ok as tool_ok, without_restrict,
};

/// The bootstrap superuser of the suite's clusters.
const ADMIN: &str = "pgpipe_admin";
/// The name `--map` gives the main owner.
const MAPPED: &str = "synapse";

fn full() -> bool {
    std::env::var_os("PGPIPE_ORACLE_FULL").is_some_and(|v| v == "1")
}

// -- the corpus -----------------------------------------------------------------

/// `$PGPIPE_CORPUS_DIR`, or `../shared/corpus/wild` beside the checkout.
fn corpus_dir() -> PathBuf {
    std::env::var_os("PGPIPE_CORPUS_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/wild"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Plain,
    Dumpall,
    Custom,
    Tar,
}

struct Item {
    name: String,
    format: Format,
    /// The pg_dump version the manifest gives (`8.3.0`, `(no banner; …)`).
    pg_dump: String,
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Item {
    fn archive(&self) -> bool {
        matches!(self.format, Format::Custom | Format::Tar)
    }

    /// The major of the pg_dump that wrote it (8 for 8.3, 10 for 10beta1).
    fn major(&self) -> u32 {
        let digits: String = self
            .pg_dump
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse().unwrap_or(0)
    }
}

/// Every file of the manifest, read; the directory holds no other dump.
fn corpus() -> Vec<Item> {
    let dir = corpus_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap_or_else(|e| {
        panic!(
            "the corpus of real dumps is missing ({}/MANIFEST.tsv: {e}); set PGPIPE_CORPUS_DIR \
             to the directory that holds it",
            dir.display()
        )
    });
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("MANIFEST.tsv has a header")
        .split('\t')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("MANIFEST.tsv has no column {name}"))
    };
    let (file, format, version) = (col("file"), col("format"), col("pg_dump_version"));
    let mut items = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let path = dir.join(f[file]);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let format = match f[format] {
            "plain" => Format::Plain,
            "dumpall" => Format::Dumpall,
            "custom" => Format::Custom,
            "tar" => Format::Tar,
            other => panic!("MANIFEST.tsv: unknown format {other:?} of {}", f[file]),
        };
        items.push(Item {
            name: f[file].to_owned(),
            format,
            pg_dump: f[version].to_owned(),
            path,
            bytes,
        });
    }
    let listed: BTreeSet<&str> = items.iter().map(|i| i.name.as_str()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "MANIFEST.tsv" && name != "README.md" {
            assert!(
                listed.contains(name.as_str()),
                "{name} is in the corpus but not in its MANIFEST.tsv"
            );
        }
    }
    items
}

/// What a file is restored onto: a data-only dump onto its schema, a
/// per-object dump into its schema.
fn base(item: &Item) -> Option<Vec<u8>> {
    let n = item.name.as_str();
    if n.contains("pagila-data") {
        // The schema file of the same commit.
        let schema = corpus_dir().join("devrimgunduz__pagila__pagila-schema.pg17.sql");
        return Some(std::fs::read(schema).expect("the pagila schema is in the corpus"));
    }
    if n.contains("osmtables.pozemek_osm_tags") {
        // The table its COPY names, with the columns it lists.
        return Some(
            b"CREATE SCHEMA osmtables;\nCREATE TABLE osmtables.pozemek_osm_tags (druh_kod text, \
              druh_nazev text, druh_zkratka text, zpusob_vyuziti_kod text, zpusob_vyuziti_nazev text, \
              zpusob_vyziti_zkratka text, osmtag_k text, osmtag_v text);\n"
                .to_vec(),
        );
    }
    if n.contains("import.make_allwarnings2") {
        return Some(b"CREATE SCHEMA import;\n".to_vec());
    }
    if n.contains("gis.cz_raster") {
        return Some(b"CREATE SCHEMA gis;\n".to_vec());
    }
    None
}

// -- running the tools ------------------------------------------------------------

/// What the file restores as in SQL: itself, or `pg_restore -f -` (18) of it.
fn script_of(item: &Item) -> Result<Vec<u8>, String> {
    if item.archive() {
        pg_restore(Version::V18, &item.path, &[])
    } else {
        Ok(item.bytes.clone())
    }
}

fn json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("the JSON does not parse: {e}"))
}

/// The roles a dump references, by pgpipe-inspect, without the built-in
/// ones; and the one `--map` renames: the owner of most objects (else the
/// most referenced role).
fn roles_of(report: &serde_json::Value) -> (Vec<String>, Option<String>) {
    let mut names = Vec::new();
    let mut best: Option<(u64, u64, String)> = None;
    for r in report["roles"].as_array().into_iter().flatten() {
        let name = r["name"].as_str().unwrap_or_default().to_owned();
        if name.starts_with("pg_") || name.is_empty() {
            continue;
        }
        let owner = r["kinds"]["owner"].as_u64().unwrap_or(0);
        let refs = r["references"].as_u64().unwrap_or(0);
        if best.as_ref().is_none_or(|(o, n, b)| {
            (owner, refs) > (*o, *n) || (owner, refs) == (*o, *n) && name < *b
        }) {
            best = Some((owner, refs, name.clone()));
        }
        names.push(name);
    }
    (names, best.map(|(_, _, n)| n))
}

// -- the clusters ------------------------------------------------------------------

fn quiet_options() -> &'static str {
    "-c autovacuum=off"
}

/// Create `roles`; `superuser` is the one that is a superuser, as
/// `postgres` is where the dumps were made.
fn create_roles(server: &Server, roles: &[String], superuser: &str) {
    let mut sql = String::new();
    for r in roles {
        let attrs = if r == superuser {
            "SUPERUSER"
        } else {
            "NOLOGIN"
        };
        sql.push_str(&format!("CREATE ROLE {} {attrs};\n", quote_ident(r)));
    }
    if !sql.is_empty() {
        server.psql("postgres", &sql);
    }
}

fn drop_roles(server: &Server, roles: &[String]) {
    for r in roles {
        server.psql(
            "postgres",
            &format!("DROP ROLE IF EXISTS {}", quote_ident(r)),
        );
    }
}

/// A fresh database of `server` with `base` restored in it (base errors
/// are the file's world, not the file's: they must not happen).
fn fresh_db(server: &Server, prefix: &str, base: Option<&[u8]>) -> String {
    let db = server.create_db(prefix);
    if let Some(b) = base {
        let errors = restore_located(server, &db, b);
        assert!(
            errors.is_empty(),
            "the base of {prefix} does not restore: {errors:?}"
        );
    }
    db
}

/// What one restore left.
struct Outcome {
    errors: Vec<RestoreError>,
    state: State,
}

fn restore(server: &Server, prefix: &str, base: Option<&[u8]>, script: &[u8]) -> (String, Outcome) {
    let db = fresh_db(server, prefix, base);
    let errors = restore_located(server, &db, script);
    let state = state(server, &db);
    (db, Outcome { errors, state })
}

/// Compare two outcomes: errors (messages, with `rename` applied to the
/// expected ones) and states.
fn same(expected: &Outcome, actual: &Outcome, rename: Option<(&str, &str)>) -> Result<(), String> {
    let mut want = normalised(&expected.errors);
    if let Some((from, to)) = rename {
        for m in want.iter_mut() {
            *m = m.replace(&format!("\"{from}\""), &format!("\"{to}\""));
        }
        want.sort();
    }
    let mut msg = String::new();
    if let Err(e) = compare_errors(&want, &normalised(&actual.errors)) {
        msg.push_str(&e);
    }
    if let Err(e) = compare_states(&expected.state, &actual.state) {
        msg.push_str(&e);
    }
    if msg.is_empty() { Ok(()) } else { Err(msg) }
}

/// `psql -X -q -1 -v ON_ERROR_STOP=1` of `script` into a fresh database:
/// (committed, database).
fn psql_single_transaction(server: &Server, base: Option<&[u8]>, script: &[u8]) -> (bool, String) {
    let db = fresh_db(server, "psql1", base);
    let (code, _, _) = server.psql_status(
        &db,
        script,
        &["-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", "-"],
    );
    (code == 0, db)
}

/// `pgpipe-guard ARGS < input | psql -X -q` into a fresh database:
/// (guard's exit code and stderr, psql's exit code, database).
fn through_guard(
    server: &Server,
    base: Option<&[u8]>,
    args: &[&str],
    input: &[u8],
) -> (i32, String, i32, String) {
    let (gcode, out, gerr) = tool("pgpipe-guard", args, Some(input));
    let db = fresh_db(server, "guard", base);
    let (pcode, _, _) = server.psql_status(&db, &out, &["-q"]);
    (gcode, gerr, pcode, db)
}

/// `Ok` when database `db` holds what `empty` (a fresh database with the
/// base) holds: nothing was committed. Sequence values are left out:
/// PostgreSQL never rolls back a `setval` (a data-only dump sets the
/// sequences of its base).
fn nothing_committed(server: &Server, empty: &State, db: &str) -> Result<(), String> {
    let sequences: BTreeSet<String> = server
        .lines(
            db,
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S'",
        )
        .into_iter()
        .collect();
    compare_states(
        &empty.without_tables(&sequences),
        &state(server, db).without_tables(&sequences),
    )
}

// -- the results ---------------------------------------------------------------------

/// The result of one check of one file: a short note for the table, or
/// the account of a disagreement.
type Check = Result<String, String>;

struct Row {
    file: String,
    checks: Vec<(&'static str, Check)>,
}

/// Run `f`, turning a panic into a failed check.
fn checked(what: &'static str, row: &mut Row, f: impl FnOnce() -> Check) {
    let started = Instant::now();
    let result = support::catching(f);
    eprintln!(
        "  {:<12} {:>6.1}s {}",
        what,
        started.elapsed().as_secs_f64(),
        match &result {
            Ok(note) => format!("ok {note}"),
            Err(e) => format!("FAILED\n{}", indent(e)),
        }
    );
    row.checks.push((what, result));
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      {l}\n")).collect()
}

// -- the checks of a plain file or an archive -----------------------------------------

struct Lab {
    o: Server,
    t: Server,
    /// O's statement log.
    csv: PathBuf,
    next_app: std::cell::Cell<usize>,
}

impl Lab {
    fn new() -> Lab {
        let o = Server::start_as(
            Version::V18,
            ADMIN,
            &format!(
                "{} -c logging_collector=on -c log_destination=csvlog -c log_directory=pglog \
                 -c log_filename=statements.log -c log_statement=all -c log_rotation_size=0 \
                 -c log_min_error_statement=error",
                quiet_options()
            ),
            true,
        );
        let t = Server::start_as(Version::V18, ADMIN, quiet_options(), true);
        let csv = o.data_dir().join("pglog/statements.csv");
        Lab {
            o,
            t,
            csv,
            next_app: std::cell::Cell::new(0),
        }
    }

    /// The statements psql sends for `script` (restored into a fresh
    /// database of O with `base`), from O's log.
    fn psql_statements(&self, base: Option<&[u8]>, script: &[u8]) -> Vec<Vec<u8>> {
        self.next_app.set(self.next_app.get() + 1);
        let app = format!("pgpipe_corpus_{}", self.next_app.get());
        let db = fresh_db(&self.o, "logged", base);
        let mut cmd = self.o.command("psql");
        cmd.args(["-X", "-q", "-d", &db]).env("PGAPPNAME", &app);
        let _ = run(&mut cmd, Some(script));
        let statements = support::psql_log::statements(&self.o, &self.csv, &db, &app);
        drop_database(&self.o, &db);
        statements
    }
}

fn check_file(lab: &Lab, item: &Item, row: &mut Row) {
    let base = base(item);
    let base = base.as_deref();
    let report =
        match tool_ok("pgpipe-inspect", &["--json", path(item)], None).and_then(|j| json(&j)) {
            Ok(r) => r,
            Err(e) => {
                row.checks.push(("inspect", Err(e)));
                return;
            }
        };
    let (mut roles, old) = roles_of(&report);
    if let Some(b) = base {
        let (code, out, err) = tool("pgpipe-inspect", &["--json"], Some(b));
        assert_eq!(code, 0, "{err}");
        for r in roles_of(&json(&out).unwrap()).0 {
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
    }
    create_roles(&lab.o, &roles, "postgres");

    checked("inspect", row, || check_inspect(lab, item, base, &report));
    checked("passthrough", row, || check_passthrough(item));
    // The original, restored: the oracle of the rows below.
    let script = match script_of(item) {
        Ok(s) => s,
        Err(e) => {
            row.checks.push(("sql", Err(e)));
            drop_roles(&lab.o, &roles);
            return;
        }
    };
    let (orig_db, orig) = restore(&lab.o, "orig", base, &script);
    if item.archive() {
        checked("sql", row, || check_sql(lab, item, base, &orig));
    }
    checked("guard", row, || {
        check_guard(lab, item, base, &script, &orig)
    });
    checked("cuts", row, || check_cuts(lab, item, base));
    checked("map", row, || {
        check_map(lab, item, base, &roles, old.as_deref(), &orig_db, &orig)
    });
    drop_database(&lab.o, &orig_db);
    for db in lab.o.lines(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname ~ '_[0-9]+$'",
    ) {
        drop_database(&lab.o, &db);
    }
    for db in lab.t.lines(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname ~ '_[0-9]+$'",
    ) {
        drop_database(&lab.t, &db);
    }
    drop_roles(&lab.o, &roles);
}

fn path(item: &Item) -> &str {
    item.path.to_str().expect("corpus paths are UTF-8")
}

fn check_inspect(lab: &Lab, item: &Item, base: Option<&[u8]>, report: &serde_json::Value) -> Check {
    if item.archive() {
        // An archive is read as the SQL pg_restore prints: always whole.
        if report["complete"] != true {
            return Err(format!(
                "an archive reads as incomplete: {}",
                report["incomplete_reason"]
            ));
        }
        return Ok(format!("{} statements", report["statements"]));
    }
    let sent = lab.psql_statements(base, &item.bytes);
    let read = support::psql_log::reader_statements(&item.bytes)?;
    if sent != read {
        return Err(format!(
            "psql sent other statements than pgpipe read:\n{}",
            support::psql_log::diff(&sent, &read)
        ));
    }
    let statements = report["statements"].as_u64().unwrap_or(0);
    if statements != sent.len() as u64 {
        return Err(format!(
            "inspect counts {statements} statements, psql sent {}",
            sent.len()
        ));
    }
    // What psql sends after the last footer line.
    let footer = b"-- PostgreSQL database dump complete";
    let cluster_footer = b"-- PostgreSQL database cluster dump complete";
    let last = memchr::memmem::rfind(&item.bytes, footer)
        .into_iter()
        .chain(memchr::memmem::rfind(&item.bytes, cluster_footer))
        .max();
    let Some(last) = last else {
        return if report["complete"] == false {
            Ok("no footer: incomplete".into())
        } else {
            Err("a file without a footer reads as complete".into())
        };
    };
    let tail = &item.bytes[last..];
    let tail = &tail[tail
        .iter()
        .position(|&b| b == b'\n')
        .map_or(tail.len(), |i| i + 1)..];
    let after = support::psql_log::reader_statements(tail)?.len() as u64;
    let reported = report["statements_after_footer"]["count"]
        .as_u64()
        .unwrap_or(0);
    if reported != after {
        return Err(format!(
            "psql sends {after} statements after the footer; inspect reports {reported}"
        ));
    }
    let complete = report["complete"] == true;
    if complete != (after == 0) {
        return Err(format!(
            "complete is {complete} with {after} statements after the footer: {}",
            report["incomplete_reason"]
        ));
    }
    if after > 0 && report["statements_after_footer"]["otherwise_complete"] != true {
        return Err(format!(
            "not otherwise complete: {}",
            report["incomplete_reason"]
        ));
    }
    Ok(if after == 0 {
        format!("{statements} = psql's; complete")
    } else {
        format!("{statements} = psql's; {after} after the footer")
    })
}

fn check_passthrough(item: &Item) -> Check {
    let (code, out, err) = tool(
        "pgpipe-inspect",
        &["--passthrough", "--report", "/dev/null", path(item)],
        None,
    );
    if code != 0 {
        return Err(format!("exit {code}: {err}"));
    }
    let want = if item.archive() {
        without_restrict(&tool_ok("pgpipe-sql", &[path(item)], None)?)
    } else {
        item.bytes.clone()
    };
    let got = if item.archive() {
        without_restrict(&out)
    } else {
        out
    };
    match first_difference(&want, &got) {
        None => Ok("identical".into()),
        Some(d) => Err(d),
    }
}

/// The pg_restore whose bytes pgpipe-sql prints for an archive of pg_dump
/// `major`, among those that run here.
fn restore_versions_for(major: u32) -> Vec<Version> {
    match major {
        0..=12 => vec![Version::V13, Version::V15],
        13 => vec![Version::V13],
        14 | 15 => vec![Version::V15],
        16 => vec![Version::V16],
        // pg_dump 17 writes archive 1.16 as 18 does; pg_restore 18 prints
        // them with 17's rules (no entry of 18's kinds is in them).
        _ => vec![Version::V18],
    }
}

fn check_sql(lab: &Lab, item: &Item, base: Option<&[u8]>, orig: &Outcome) -> Check {
    let ours = tool_ok("pgpipe-sql", &[path(item)], None)?;
    let mut notes = Vec::new();
    for v in restore_versions_for(item.major()) {
        let theirs = pg_restore(v, &item.path, &[])?;
        if let Some(d) = first_difference(&without_restrict(&theirs), &without_restrict(&ours)) {
            return Err(format!("not pg_restore {}'s bytes: {d}", v.major()));
        }
        notes.push(format!("= pg_restore {}", v.major()));
    }
    let (_, restored) = restore(&lab.o, "sql", base, &ours);
    same(orig, &restored, None)?;
    notes.push(format!("restores alike ({} errors)", orig.errors.len()));
    Ok(notes.join(", "))
}

fn check_guard(
    lab: &Lab,
    item: &Item,
    base: Option<&[u8]>,
    script: &[u8],
    orig: &Outcome,
) -> Check {
    let (committed, psql_db) = psql_single_transaction(&lab.o, base, script);
    // An archive goes to the guard as it is: it reads archives itself.
    let input: &[u8] = &item.bytes;
    let after_footer = !item.archive()
        && memchr::memmem::find(input, b"-- PostgreSQL database dump complete").is_some()
        && json(&tool_ok("pgpipe-inspect", &["--json"], Some(input))?)?["statements_after_footer"]
            .is_object();
    let mut notes = Vec::new();
    let empty = fresh_db(&lab.o, "empty", base);
    let empty_state = state(&lab.o, &empty);
    if after_footer {
        // By design: statements after the footer stop the commit unless
        // allowed.
        let (gcode, gerr, _, db) = through_guard(&lab.o, base, &[], input);
        if gcode != 3 || !gerr.contains("follow the last \"dump complete\" footer") {
            return Err(format!(
                "statements after the footer: guard exited {gcode}: {gerr}"
            ));
        }
        nothing_committed(&lab.o, &empty_state, &db)
            .map_err(|e| format!("guard refused but something was committed: {e}"))?;
        notes.push("refused by default (statements after the footer)".to_string());
    }
    let args: &[&str] = if after_footer {
        &["--allow-after-footer"]
    } else {
        &[]
    };
    let (gcode, gerr, pcode, db) = through_guard(&lab.o, base, args, input);
    let guard_committed = gcode == 0 && pcode == 0;
    if guard_committed != committed {
        return Err(format!(
            "psql -1 {} but guard{} {} (guard exit {gcode}: {gerr}; psql exit {pcode})",
            if committed {
                "commits"
            } else {
                "commits nothing"
            },
            if after_footer {
                " --allow-after-footer"
            } else {
                ""
            },
            if guard_committed {
                "commits"
            } else {
                "commits nothing"
            }
        ));
    }
    if committed {
        let guard_state = state(&lab.o, &db);
        compare_states(&state(&lab.o, &psql_db), &guard_state)?;
        compare_states(&orig.state, &guard_state)?;
        notes.push("commits, as psql -1 does".into());
    } else {
        nothing_committed(&lab.o, &empty_state, &db)
            .map_err(|e| format!("psql -1 committed nothing but after guard: {e}"))?;
        notes.push(format!(
            "commits nothing, as psql -1 ({})",
            orig.errors
                .first()
                .map_or("no error".into(), |e| e.message.clone())
        ));
    }
    Ok(notes.join("; "))
}

/// Offsets to cut a file at: spread over it, and a few bytes before its end.
fn cut_offsets(len: usize) -> Vec<usize> {
    let n = if full() { 12 } else { 3 };
    let mut v: Vec<usize> = (1..=n).map(|k| len * k / (n + 1)).collect();
    v.push(len.saturating_sub(7));
    v.retain(|&o| o > 0 && o < len);
    v.dedup();
    v
}

fn check_cuts(lab: &Lab, item: &Item, base: Option<&[u8]>) -> Check {
    let empty = fresh_db(&lab.o, "empty", base);
    let empty_state = state(&lab.o, &empty);
    let offsets = cut_offsets(item.bytes.len());
    for &at in &offsets {
        let (gcode, gerr, _, db) = through_guard(&lab.o, base, &[], &item.bytes[..at]);
        if gcode != 3 {
            return Err(format!("cut at byte {at}: guard exited {gcode}: {gerr}"));
        }
        nothing_committed(&lab.o, &empty_state, &db)
            .map_err(|e| format!("cut at byte {at}: something was committed: {e}"))?;
        drop_database(&lab.o, &db);
    }
    Ok(format!("{} cuts, nothing committed", offsets.len()))
}

fn check_map(
    lab: &Lab,
    item: &Item,
    base: Option<&[u8]>,
    roles: &[String],
    old: Option<&str>,
    orig_db: &str,
    orig: &Outcome,
) -> Check {
    let Some(old) = old else {
        // No role at all: mapping one changes nothing.
        let out = tool_ok(
            "pgpipe-roles",
            &["--map", "nobody=somebody", path(item)],
            None,
        )?;
        let want = script_of(item)?;
        return match first_difference(&without_restrict(&want), &without_restrict(&out)) {
            None => Ok("no role: output unchanged".into()),
            Some(d) => Err(format!("a map of an absent role changed the output: {d}")),
        };
    };
    let map = format!("{old}={MAPPED}");
    let tool_roles: Vec<String> = roles
        .iter()
        .map(|r| {
            if r == old {
                MAPPED.to_string()
            } else {
                r.clone()
            }
        })
        .collect();
    let superuser = if old == "postgres" {
        MAPPED
    } else {
        "postgres"
    };
    create_roles(&lab.t, &tool_roles, superuser);
    let result = (|| {
        // The oracle: the original, renamed.
        lab.o.rename_role(old, MAPPED);
        let renamed = Outcome {
            errors: orig.errors.clone(),
            state: state(&lab.o, orig_db),
        };
        lab.o.rename_role(MAPPED, old);
        let out = tool_ok("pgpipe-roles", &["--map", &map, path(item)], None)?;
        let (_, mapped) = restore(&lab.t, "map", base, &out);
        same(&renamed, &mapped, Some((old, MAPPED)))?;
        let mut note = format!("--map {map}");
        if item.format == Format::Custom {
            let archive = tool_ok(
                "pgpipe-roles",
                &["--map", &map, "--keep-format", path(item)],
                None,
            )?;
            if archive.get(..8) != item.bytes.get(..8) {
                return Err("--keep-format wrote another archive version".into());
            }
            let file = lab.t.root_dir().join("keep-format.dump");
            std::fs::write(&file, &archive).unwrap();
            let script = pg_restore(Version::V18, &file, &[])?;
            let (_, kept) = restore(&lab.t, "keep", base, &script);
            same(&renamed, &kept, Some((old, MAPPED)))
                .map_err(|e| format!("--keep-format: {e}"))?;
            note.push_str(", --keep-format too");
        }
        Ok(note)
    })();
    for db in lab.t.lines(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname ~ '_[0-9]+$'",
    ) {
        drop_database(&lab.t, &db);
    }
    drop_roles(&lab.t, &tool_roles);
    result
}

// -- pg_dumpall files -----------------------------------------------------------------

/// The tablespace locations a pg_dumpall file names.
fn tablespace_locations(dump: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(dump);
    let mut v = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("CREATE TABLESPACE ")) {
        if let Some(i) = line.find(" LOCATION '") {
            let rest = &line[i + 11..];
            if let Some(j) = rest.find('\'') {
                v.push(rest[..j].to_owned());
            }
        }
    }
    v
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(i) = memchr::memmem::find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// A database's state without its `CREATE DATABASE` and its properties:
/// what is in it.
fn without_database_entries(s: &State) -> State {
    s.without(|e| {
        e.kind() == "DATABASE"
            || e.kind() == "DATABASE PROPERTIES"
            || e.header.starts_with("-- Name: DATABASE ")
    })
}

/// PostgreSQL's error for a tablespace location that does not exist here.
fn missing_directory(message: &str) -> bool {
    message.contains("directory")
        && (message.contains("does not exist") || message.contains("could not set permissions"))
}

/// A fresh cluster for a pg_dumpall replay (its superuser is `postgres`,
/// as on a new server).
fn cluster() -> Server {
    Server::start_as(Version::V18, "postgres", quiet_options(), true)
}

/// `dump` with its tablespace locations moved into `server`.
fn relocated(server: &Server, dump: &[u8]) -> Vec<u8> {
    let mut out = dump.to_vec();
    for loc in tablespace_locations(dump) {
        let dir = server.new_dir("ts");
        out = replace_bytes(&out, loc.as_bytes(), dir.to_str().unwrap().as_bytes());
    }
    out
}

/// The databases of a cluster, but template0.
fn databases(server: &Server) -> Vec<String> {
    server.lines(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname <> 'template0'",
    )
}

/// Each database's state, by name.
fn database_states(server: &Server) -> BTreeMap<String, State> {
    databases(server)
        .into_iter()
        .map(|d| {
            let s = database_state(server, &d);
            (d, s)
        })
        .collect()
}

fn compare_clusters(
    want: &(Vec<String>, BTreeMap<String, State>),
    got: &(Vec<String>, BTreeMap<String, State>),
) -> Result<(), String> {
    let mut msg = String::new();
    if want.0 != got.0 {
        let (a, b) = support::oracle::multiset_difference(&want.0, &got.0);
        msg.push_str(&format!(
            "cluster state differs: only in psql's replay {a:?}; only in the tool's {b:?}\n"
        ));
    }
    let names: BTreeSet<&String> = want.1.keys().chain(got.1.keys()).collect();
    for n in names {
        match (want.1.get(n), got.1.get(n)) {
            (Some(a), Some(b)) => {
                if let Err(e) = compare_states(a, b) {
                    msg.push_str(&format!("database {n}: {e}"));
                }
            }
            (a, _) => msg.push_str(&format!(
                "database {n} only in {}\n",
                if a.is_some() {
                    "psql's replay"
                } else {
                    "the tool's"
                }
            )),
        }
    }
    if msg.is_empty() { Ok(()) } else { Err(msg) }
}

/// Replay `script` with psql into `server` (no ON_ERROR_STOP, as a user
/// replays a file): its errors.
fn replay(server: &Server, script: &[u8]) -> Vec<RestoreError> {
    // psql gives up (exit 2) at a \connect to a database that could not be
    // created: its errors so far are the answer.
    let (_, _, stderr) = server.psql_status("postgres", script, &["-q", "-f", "-"]);
    support::oracle::parse_errors(&stderr)
}

/// `pgpipe-filter ARGS | pgpipe-guard --per-database | psql -d postgres`.
fn pipeline(server: &Server, filter: &[&str], input: &[u8]) -> Result<(), String> {
    let filtered = tool_ok("pgpipe-filter", filter, Some(input))?;
    let guarded = tool_ok("pgpipe-guard", &["--per-database"], Some(&filtered))?;
    let (code, _, stderr) = server.psql_status("postgres", &guarded, &["-q"]);
    if code != 0 {
        return Err(format!("psql exited {code}: {stderr}"));
    }
    Ok(())
}

fn check_dumpall(item: &Item, row: &mut Row) {
    checked("inspect", row, || {
        let report = json(&tool_ok("pgpipe-inspect", &["--json", path(item)], None)?)?;
        // A cluster of its own that logs what psql sends.
        let logged = Server::start_as(
            Version::V18,
            "postgres",
            &format!("{} {}", quiet_options(), support::psql_log::LOG_OPTIONS),
            true,
        );
        let csv = logged.data_dir().join("pglog/statements.csv");
        let dump = relocated(&logged, &item.bytes);
        let mut cmd = logged.command("psql");
        cmd.args(["-X", "-q", "-d", "postgres"])
            .env("PGAPPNAME", "pgpipe_corpus");
        let _ = run(&mut cmd, Some(&dump));
        let sent = support::psql_log::statements(&logged, &csv, "postgres", "pgpipe_corpus");
        let read = support::psql_log::reader_statements(&dump)?;
        if sent != read {
            return Err(format!(
                "psql sent other statements than pgpipe read:\n{}",
                support::psql_log::diff(&sent, &read)
            ));
        }
        if report["statements"].as_u64() != Some(sent.len() as u64) || report["complete"] != true {
            return Err(format!(
                "inspect: {} statements (psql sent {}), complete {}: {}",
                report["statements"],
                sent.len(),
                report["complete"],
                report["incomplete_reason"]
            ));
        }
        Ok(format!("{} = psql's; complete", sent.len()))
    });
    checked("passthrough", row, || check_passthrough(item));
    checked("guard", row, || {
        // One transaction cannot hold CREATE DATABASE: psql -1 commits
        // nothing, and the guard refuses the dump (and so commits nothing).
        let fresh = cluster();
        let untouched = (cluster_state(&fresh), databases(&fresh));
        let p = cluster();
        let dump = relocated(&p, &item.bytes);
        let (code, _, _) = p.psql_status(
            "postgres",
            &dump,
            &["-q", "-1", "-v", "ON_ERROR_STOP=1", "-f", "-"],
        );
        if code == 0 || (cluster_state(&p), databases(&p)) != untouched {
            return Err(format!("psql -1 exited {code} and the cluster changed"));
        }
        let g = cluster();
        let dump = relocated(&g, &item.bytes);
        let (gcode, out, gerr) = tool("pgpipe-guard", &[], Some(&dump));
        let (pcode, _, _) = g.psql_status("postgres", &out, &["-q"]);
        if gcode == 0 || pcode == 0 || (cluster_state(&g), databases(&g)) != untouched {
            return Err(format!(
                "guard exited {gcode} ({gerr}), psql {pcode}, or the cluster changed"
            ));
        }
        Ok(format!(
            "commits nothing, as psql -1 ({})",
            gerr.lines().next().unwrap_or_default()
        ))
    });
    let locations = tablespace_locations(&item.bytes);
    if !locations.is_empty() {
        // As it is, PostgreSQL cannot restore it here: the directories are
        // another host's.
        checked("as-is", row, || {
            let a = cluster();
            let errors = replay(&a, &item.bytes);
            let missing = errors
                .iter()
                .filter(|e| missing_directory(&e.message))
                .count();
            if missing != locations.len() {
                return Err(format!(
                    "expected {} missing tablespace directories, psql says {errors:?}",
                    locations.len()
                ));
            }
            let guarded = tool_ok(
                "pgpipe-filter",
                &["--roles-if-not-exists", "--skip-role", "postgres"],
                Some(&item.bytes),
            )?;
            let guarded = tool_ok("pgpipe-guard", &["--per-database"], Some(&guarded))?;
            let b = cluster();
            let (code, _, stderr) = b.psql_status("postgres", &guarded, &["-q"]);
            if code == 0 || !stderr.lines().any(missing_directory) {
                return Err(format!(
                    "the pipeline did not stop at the tablespace: exit {code}: {stderr}"
                ));
            }
            Ok(format!(
                "PostgreSQL cannot restore it as it is: {} tablespace directories of another host",
                locations.len()
            ))
        });
    }
    let a = cluster();
    let dump = relocated(&a, &item.bytes);
    let replay_errors = replay(&a, &dump);
    let want = (cluster_state(&a), database_states(&a));
    checked("replay", row, || {
        let b = cluster();
        let dump_b = relocated(&b, &item.bytes);
        pipeline(
            &b,
            &["--roles-if-not-exists", "--skip-role", "postgres"],
            &dump_b,
        )?;
        compare_clusters(&want, &(cluster_state(&b), database_states(&b)))?;
        Ok(format!(
            "{} databases as psql's replay ({} errors there: {:?})",
            want.1.len(),
            replay_errors.len(),
            replay_errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
        ))
    });
    // A fresh cluster holding the file's roles, and the file with its
    // tablespaces moved there.
    let with_globals = || -> Result<(Server, Vec<u8>), String> {
        let c = cluster();
        let dump = relocated(&c, &item.bytes);
        pipeline(
            &c,
            &[
                "--globals-only",
                "--roles-if-not-exists",
                "--skip-role",
                "postgres",
            ],
            &dump,
        )?;
        Ok((c, dump))
    };
    checked("database", row, || {
        let (c, dump_c) = with_globals()?;
        // The globals are in: now each database without them.
        let mut done = Vec::new();
        for db in want.1.keys() {
            let filtered = tool_ok(
                "pgpipe-filter",
                &["--database", db, "--no-globals"],
                Some(&dump_c),
            );
            let filtered = match filtered {
                Ok(f) => f,
                // A database without a section of its own (template1 of a
                // modern pg_dumpall without template1 changes).
                Err(e) if e.contains("is not in this dump") => continue,
                Err(e) => return Err(e),
            };
            let guarded = tool_ok("pgpipe-guard", &["--per-database"], Some(&filtered))?;
            let (code, _, stderr) = c.psql_status("postgres", &guarded, &["-q"]);
            if code != 0 {
                return Err(format!("--database {db}: psql exited {code}: {stderr}"));
            }
            compare_states(&want.1[db], &database_state(&c, db))
                .map_err(|e| format!("--database {db}: {e}"))?;
            done.push(db.clone());
        }
        if done.is_empty() {
            return Err("no database could be extracted".into());
        }
        Ok(format!("each of {} extracted as replayed", done.join(", ")))
    });
    checked("globals", row, || {
        let (d, dump_d) = with_globals()?;
        let roles = |s: &Server| -> Vec<String> {
            cluster_state(s)
                .into_iter()
                .filter(|l| l.starts_with("role: ") || l.starts_with("membership: "))
                .collect()
        };
        let want_roles = roles(&a);
        if roles(&d) != want_roles {
            return Err(format!(
                "--globals-only: roles {:?}, psql's replay {want_roles:?}",
                roles(&d)
            ));
        }
        let user_dbs: Vec<&String> = want
            .1
            .keys()
            .filter(|d| !matches!(d.as_str(), "postgres" | "template1"))
            .collect();
        let Some(excluded) = user_dbs.first() else {
            return Ok("--globals-only: roles as replayed (no user database)".into());
        };
        pipeline(
            &d,
            &["--no-globals", "--exclude-database", excluded],
            &dump_d,
        )?;
        let got: Vec<String> = databases(&d);
        let expected: Vec<String> = want.1.keys().filter(|k| k != excluded).cloned().collect();
        if got != expected {
            return Err(format!(
                "--no-globals --exclude-database {excluded}: databases {got:?}, want {expected:?}"
            ));
        }
        for db in &expected {
            compare_states(&want.1[db], &database_state(&d, db))
                .map_err(|e| format!("--no-globals: database {db}: {e}"))?;
        }
        Ok(format!(
            "--globals-only roles, --no-globals --exclude-database {excluded} databases as replayed"
        ))
    });
    checked("cuts", row, || {
        // --per-database: every database is whole (as replayed) or empty,
        // never a part of itself.
        let mut notes = Vec::new();
        for at in cut_offsets(item.bytes.len()) {
            let c = cluster();
            let dump_c = relocated(&c, &item.bytes[..at]);
            let filtered = tool(
                "pgpipe-filter",
                &["--roles-if-not-exists", "--skip-role", "postgres"],
                Some(&dump_c),
            )
            .1;
            let (gcode, out, gerr) = tool("pgpipe-guard", &["--per-database"], Some(&filtered));
            if gcode != 3 {
                return Err(format!("cut at byte {at}: guard exited {gcode}: {gerr}"));
            }
            let _ = c.psql_status("postgres", &out, &["-q"]);
            let empty = {
                let e = c.create_db("empty");
                let s = without_database_entries(&database_state(&c, &e));
                drop_database(&c, &e);
                s
            };
            let (mut whole, mut blank) = (0, 0);
            for db in databases(&c) {
                let got = database_state(&c, &db);
                if want
                    .1
                    .get(&db)
                    .is_some_and(|w| compare_states(w, &got).is_ok())
                {
                    whole += 1;
                } else {
                    compare_states(&empty, &without_database_entries(&got)).map_err(|e| {
                        format!("cut at byte {at}: database {db} is neither whole nor empty: {e}")
                    })?;
                    blank += 1;
                }
            }
            notes.push(format!("{whole} whole, {blank} empty"));
        }
        Ok(format!("cuts: {}", notes.join("; ")))
    });
    checked("map", row, || {
        let report = json(&tool_ok("pgpipe-inspect", &["--json"], Some(&dump))?)?;
        // The bootstrap superuser cannot be renamed by its own session: the
        // owner of most objects but postgres.
        let mut best: Option<(u64, String)> = None;
        for r in report["roles"].as_array().into_iter().flatten() {
            let name = r["name"].as_str().unwrap_or_default().to_owned();
            let owner = r["kinds"]["owner"].as_u64().unwrap_or(0);
            if name != "postgres" && owner > 0 && best.as_ref().is_none_or(|(o, _)| owner > *o) {
                best = Some((owner, name));
            }
        }
        let Some((_, old)) = best else {
            return Ok("no owner but postgres".into());
        };
        let e = cluster();
        let dump_e = relocated(&e, &item.bytes);
        let mapped = tool_ok(
            "pgpipe-roles",
            &["--map", &format!("{old}={MAPPED}")],
            Some(&dump_e),
        )?;
        let errors = replay(&e, &mapped);
        a.rename_role(&old, MAPPED);
        let renamed = (cluster_state(&a), database_states(&a));
        a.rename_role(MAPPED, &old);
        compare_clusters(&renamed, &(cluster_state(&e), database_states(&e)))?;
        let mut want_errors = normalised(&replay_errors);
        for m in want_errors.iter_mut() {
            *m = m.replace(&format!("\"{old}\""), &format!("\"{MAPPED}\""));
        }
        want_errors.sort();
        compare_errors(&want_errors, &normalised(&errors))?;
        Ok(format!(
            "--map {old}={MAPPED}: the cluster as replayed and renamed"
        ))
    });
}

// -- the test -----------------------------------------------------------------------

#[test]
fn every_file_through_every_tool() {
    let started = Instant::now();
    let items = corpus();
    assert!(items.len() >= 21, "the corpus has {} files", items.len());
    let lab = Lab::new();
    let mut rows = Vec::new();
    for item in &items {
        let t = Instant::now();
        eprintln!(
            "{} ({:?}, pg_dump {}):",
            item.name, item.format, item.pg_dump
        );
        let mut row = Row {
            file: item.name.clone(),
            checks: Vec::new(),
        };
        if item.format == Format::Dumpall {
            check_dumpall(item, &mut row);
        } else {
            check_file(&lab, item, &mut row);
        }
        eprintln!("  ({:.1}s)", t.elapsed().as_secs_f64());
        rows.push(row);
    }
    // The table.
    let columns: Vec<&str> = {
        let mut v: Vec<&str> = Vec::new();
        for r in &rows {
            for (c, _) in &r.checks {
                if !v.contains(c) {
                    v.push(c);
                }
            }
        }
        v
    };
    let mut table = format!(
        "| file | {} |\n|---|{}\n",
        columns.join(" | "),
        "---|".repeat(columns.len())
    );
    let mut failures = String::new();
    for r in &rows {
        let cells: Vec<&str> = columns
            .iter()
            .map(|c| match r.checks.iter().find(|(n, _)| n == c) {
                None => "-",
                Some((_, Ok(_))) => "ok",
                Some((_, Err(_))) => "FAIL",
            })
            .collect();
        table.push_str(&format!("| {} | {} |\n", r.file, cells.join(" | ")));
        for (c, result) in &r.checks {
            if let Err(e) = result {
                failures.push_str(&format!("{} / {c}:\n{}\n", r.file, indent(e)));
            }
        }
    }
    eprintln!(
        "{table}corpus: {} files in {:.1}s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "corpus checks failed:\n{failures}");
}
