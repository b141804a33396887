//! The oracle suite: what pgpipe's tools produce, restored into real
//! PostgreSQL 15 and 18 servers, against what PostgreSQL itself says the
//! answer is, on PostgreSQL's own regression database
//! (`tests/support/regression.rs`) and on the fixture database db1
//! (`tests/support/fixture.rs`).
//!
//! Each test takes one corpus onto one server version, in a private cluster
//! of its own (role renames and drops are cluster-wide), restores the
//! original dump once into a template database and clones it for each row.
//! A row runs a tool, restores its output, and compares the database
//! ([`State`]: `pg_dump -s` entries and per-table row digests) and psql's
//! error set with those of the row's oracle: the original restored and then
//! changed by SQL (`ALTER ROLE … RENAME`, `REASSIGN OWNED`, `DROP OWNED`,
//! `DROP TABLE … CASCADE`), or pg_dump / pg_restore with the same switches.
//! On 15 the original restores without errors and so must the tool's
//! output; on 18 (no ICU, lz4, libxml; regress.so was built for 15) the
//! tool's restore must have exactly the errors of the oracle's own restore
//! on the same server, or, in the rows where the tool removes statements by
//! design (pgpipe-filter), no error the oracle's restore does not have.
//! Differences by design are stated and asserted in the rows that have
//! them, and printed as notes.
//!
//! Every row runs even when an earlier one failed; each prints its time and
//! result, and the test fails at the end with every failing row's account.
//! `PGPIPE_ORACLE_FULL=1` (`make test-oracle`) adds more filter
//! combinations and the pg_dump 15 dumps restored into 18.

use crate::support;
use std::sync::LazyLock;

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

use support::oracle::{
    OWNED_OBJECTS, RestoreError, State, USER_OBJECT, cluster_state, compare_errors, compare_states,
    count_rows, database_state, drop_database, first_difference, multiset_difference, normalised,
    referenced_roles, restore_located, state, tail,
};
use support::regression::{self, regression};
use support::{RESTRICT_KEY, Server, Version, exit_code, fixture, quote_ident, run};

static ROLES: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-roles"));
static FILTER: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-filter"));
static INSPECT: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-inspect"));
static GUARD: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-guard"));
static SQL: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-sql"));

/// The name `--map` gives the main owner.
const MAPPED: &str = "synapse";
/// The role `--owner` makes the owner of everything (a superuser: foreign-
/// data wrappers must belong to one).
const NEW_OWNER: &str = "pgpipe_owner";
/// The number of cuts per dump in the pgpipe-guard row.
const CUTS: usize = 20;

fn full() -> bool {
    std::env::var_os("PGPIPE_ORACLE_FULL").is_some_and(|v| v == "1")
}

// -- the tools ----------------------------------------------------------------

/// One tool invocation.
#[derive(Clone, Debug)]
struct Tool {
    program: &'static str,
    args: Vec<String>,
}

impl Tool {
    fn new(program: &'static str, args: &[&str]) -> Tool {
        Tool {
            program,
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn roles(args: &[&str]) -> Tool {
        Tool::new(*ROLES, args)
    }

    fn filter(args: &[&str]) -> Tool {
        Tool::new(*FILTER, args)
    }

    /// `pgpipe-tool ARGS…`, for messages.
    fn label(&self) -> String {
        let name = self.program.rsplit('/').next().unwrap_or(self.program);
        let mut s = name.to_owned();
        for a in &self.args {
            s.push(' ');
            if a.is_empty() || a.contains([' ', '"', '*', '\'']) {
                s.push_str(&format!("'{a}'"));
            } else {
                s.push_str(a);
            }
        }
        s
    }

    /// Run on `input`: (exit code, stdout, stderr).
    fn run_any(&self, input: &[u8]) -> (i32, Vec<u8>, String) {
        let mut cmd = Command::new(self.program);
        cmd.args(&self.args);
        if self.program != *SQL {
            cmd.arg("--no-progress");
        }
        let out = run(&mut cmd, Some(input));
        (
            exit_code(&out),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Run on `input`, which must succeed; its output.
    fn run(&self, input: &[u8]) -> Result<Vec<u8>, String> {
        let (code, out, err) = self.run_any(input);
        if code != 0 {
            return Err(format!(
                "{} exited {code}:\n{}",
                self.label(),
                tail(&err, 30)
            ));
        }
        Ok(out)
    }
}

/// `input | tools[0] | tools[1] …`, each stage run to completion.
fn pipeline(tools: &[Tool], input: &[u8]) -> Result<Vec<u8>, String> {
    let mut bytes = input.to_vec();
    for tool in tools {
        bytes = tool.run(&bytes)?;
    }
    Ok(bytes)
}

fn pipeline_label(tools: &[Tool]) -> String {
    tools
        .iter()
        .map(Tool::label)
        .collect::<Vec<_>>()
        .join(" | ")
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

// -- what a test works on -----------------------------------------------------

/// Where the original database lives, for `pg_dump` with switches.
enum Source {
    /// The lab's own template (a restore of the original without errors).
    Template,
    /// A fixture cluster's db1 (kept for the process).
    Fixture(&'static Server),
    /// A private PostgreSQL 15 cluster, started by the lab, that restores
    /// the regression database's pg_dump 15 plain dump into `regression`.
    Regression15,
}

/// One corpus, dumped by one client version, restored into one server
/// version.
struct Subject {
    label: String,
    target: Version,
    client: Version,
    /// The database the dumps were made of.
    db: &'static str,
    /// The role owning most objects (renamed by `--map`).
    owner: &'static str,
    /// A role that owns and is granted things, for `--drop`.
    drop_role: Option<&'static str>,
    plain: &'static [u8],
    /// Archives for pgpipe-sql; the first is the custom archive for
    /// `pg_restore -O` and `-x`.
    archives: Vec<(&'static str, &'static [u8])>,
    create: &'static [u8],
    dumpall: &'static [u8],
    globals: &'static [u8],
    /// Tablespace locations the globals and the pg_dumpall dump name, to be
    /// replaced by fresh directories on the server that replays them.
    tablespace_dirs: Vec<PathBuf>,
    source: Source,
    /// pgpipe-filter switch sets compared with pg_dump's.
    filter_cases: Vec<Vec<&'static str>>,
    /// Tables for the `-T` rows.
    exclude_tables: Vec<&'static str>,
    /// The filter of the composition rows.
    pair_filter: Vec<&'static str>,
}

impl Subject {
    fn regression(target: Version, client: Version) -> Subject {
        let c = regression();
        let mut filter_cases = vec![
            vec!["-n", "public"],
            vec!["-N", "public"],
            // pg_dump keeps credit_card's foreign key to customer, which
            // then fails; pgpipe-filter removes it.
            vec!["-t", "public.credit_card"],
            vec!["--schema-only"],
            vec!["-N", "public", "--data-only"],
            // Also the filter of the composition rows, which share its
            // restores.
            vec!["--exclude-table-data", "public.tenk1"],
        ];
        let mut exclude_tables = vec!["public.a"];
        if full() {
            filter_cases.extend([
                vec!["-t", "public.tenk1"],
                vec!["-n", "public", "--exclude-table-data", "public.tenk1"],
                vec!["--data-only"],
                vec!["-n", "fkpart3"],
                vec!["-N", "fkpart*", "--schema-only"],
                vec!["-t", "public.a", "-t", "public.b", "--data-only"],
                vec!["-n", "public", "--schema-only"],
                vec!["-N", "public", "-N", "regress_indexing"],
            ]);
            exclude_tables.extend(["public.customer", "public.tenk1"]);
        }
        Subject {
            label: format!(
                "regression, pg_dump {} into {}",
                client.major(),
                target.major()
            ),
            target,
            client,
            db: "regression",
            owner: c.owner,
            // pg_regress drops every role it creates: no role but the owner
            // owns or is granted anything in the regression database, and the
            // built-in roles it references (pg_database_owner,
            // pg_read_all_settings, pg_signal_backend; pg_monitor in a
            // regrole column) cannot be dropped. The --drop row runs on the
            // fixture only.
            drop_role: None,
            plain: c.client_dump(client, "plain"),
            archives: vec![("custom", c.client_dump(client, "custom"))],
            create: c.client_dump(client, "create"),
            dumpall: c.client_dump(client, "dumpall"),
            globals: c.client_dump(client, "globals"),
            tablespace_dirs: Vec::new(),
            source: if target == Version::V15 && client == Version::V15 {
                Source::Template
            } else {
                Source::Regression15
            },
            filter_cases,
            exclude_tables,
            pair_filter: vec!["--exclude-table-data", "public.tenk1"],
        }
    }

    fn fixture(target: Version, client: Version) -> Subject {
        let fx = fixture(client);
        let mut filter_cases = vec![
            vec!["-n", "app"],
            vec!["-N", "app"],
            vec!["-t", "app.t1"],
            vec!["--exclude-table-data", "app.t1"],
            vec!["--schema-only"],
            vec!["--data-only"],
            vec!["-n", "app", "--schema-only"],
            vec!["-n", "app", "--data-only"],
        ];
        if full() {
            filter_cases.extend([
                vec!["-t", "app.t1", "-t", "app.part*"],
                vec!["-N", "\"Weird Schema\""],
                vec!["-n", "app", "--exclude-table-data", "app.t1"],
                vec!["-t", "app.v1"],
                vec!["-n", "public"],
                vec!["-N", "app", "--schema-only"],
            ]);
        }
        Subject {
            label: format!(
                "fixture, pg_dump {} into {}",
                client.major(),
                target.major()
            ),
            target,
            client,
            db: "db1",
            owner: "alice",
            drop_role: Some("Bob Smith"),
            plain: fx.dump("plain"),
            archives: vec![
                ("custom", fx.dump("custom")),
                ("custom-file", fx.dump("custom-file")),
                ("tar", fx.dump("tar")),
            ],
            create: fx.dump("create"),
            dumpall: fx.dump("dumpall"),
            globals: fx.dump("globals"),
            tablespace_dirs: vec![fx.tablespace_dir.clone()],
            source: Source::Fixture(&fx.server),
            filter_cases,
            exclude_tables: vec!["app.t1", "app.part"],
            pair_filter: vec!["--exclude-table-data", "app.t1"],
        }
    }
}

// -- the lab: a private cluster with the original restored ---------------------

/// What one restore left: psql's errors, in input order, and the database.
#[derive(Clone, Debug)]
struct Outcome {
    errors: Vec<RestoreError>,
    state: State,
}

impl Outcome {
    fn messages(&self) -> Vec<String> {
        normalised(&self.errors)
    }
}

/// Compare a tool's outcome with its oracle's: the same error set (on 15:
/// none) and the same state.
fn expect_same(oracle: &Outcome, tool: &Outcome) -> Result<(), String> {
    let mut msg = String::new();
    if let Err(e) = compare_errors(&oracle.messages(), &tool.messages()) {
        msg.push_str(&e);
    }
    if let Err(e) = compare_states(&oracle.state, &tool.state) {
        msg.push_str(&e);
    }
    if msg.is_empty() { Ok(()) } else { Err(msg) }
}

struct Report {
    name: String,
    secs: f64,
    result: RowResult,
}

/// The result of a row: notes (differences by design, facts worth
/// printing), or the account of a disagreement.
type RowResult = Result<Vec<String>, String>;

struct Lab {
    subject: Subject,
    server: Server,
    /// The private 15 cluster of [`Source::Regression15`].
    source_server: Option<Server>,
    /// The database holding the restored original.
    template: &'static str,
    baseline: Outcome,
    /// The state of a database nothing was restored into.
    empty: State,
    /// The template's subscriptions as SQL: CREATE DATABASE … TEMPLATE
    /// does not copy them (they live in a cluster-wide catalog), so each
    /// copy gets them from this.
    subscriptions: String,
    memo: RefCell<HashMap<(String, [u8; 32]), Outcome>>,
    next_db: RefCell<usize>,
    reports: RefCell<Vec<Report>>,
}

/// Renames a role back when dropped (also while a failing row unwinds).
struct Renamed<'a> {
    server: &'a Server,
    from: String,
    to: String,
}

impl Drop for Renamed<'_> {
    fn drop(&mut self) {
        let sql = format!(
            "ALTER ROLE {} RENAME TO {}",
            quote_ident(&self.to),
            quote_ident(&self.from)
        );
        let (code, _, err) =
            self.server
                .psql_status("postgres", sql.as_bytes(), &["-q", "-v", "ON_ERROR_STOP=1"]);
        if code != 0 {
            eprintln!("cannot rename {} back to {}: {err}", self.to, self.from);
        }
    }
}

impl Lab {
    fn new(subject: Subject) -> Lab {
        let started = Instant::now();
        let server = Server::start(subject.target);
        quiet(&server);
        replay_globals(&server, &subject, subject.globals);
        server.psql(
            "postgres",
            &format!("CREATE ROLE {NEW_OWNER} SUPERUSER LOGIN"),
        );
        let template = "tmpl";
        server.psql(
            "postgres",
            &format!("CREATE DATABASE {template} TEMPLATE template0"),
        );
        let errors = restore_located(&server, template, subject.plain);
        if subject.target == Version::V15 && !errors.is_empty() {
            panic!(
                "{}: the original dump does not restore into PostgreSQL 15 without errors:\n{}",
                subject.label,
                normalised(&errors).join("\n")
            );
        }
        let baseline = Outcome {
            errors,
            state: state(&server, template),
        };
        let subscriptions: String = baseline
            .state
            .schema
            .iter()
            .filter(|e| {
                e.kind() == "SUBSCRIPTION" || e.header.starts_with("-- Name: SUBSCRIPTION ")
            })
            .map(|e| format!("{}\n", e.text))
            .collect();
        let empty_db = server.create_db("empty");
        let empty = state(&server, &empty_db);
        drop_database(&server, &empty_db);

        let source_server = match subject.source {
            Source::Regression15 => {
                let s = Server::start(Version::V15);
                quiet(&s);
                replay_globals(
                    &s,
                    &subject,
                    regression().client_dump(Version::V15, "globals"),
                );
                s.psql("postgres", "CREATE DATABASE regression TEMPLATE template0");
                let errors = restore_located(
                    &s,
                    "regression",
                    regression().client_dump(Version::V15, "plain"),
                );
                assert!(
                    errors.is_empty(),
                    "the regression database's pg_dump 15 dump does not restore into 15:\n{}",
                    normalised(&errors).join("\n")
                );
                Some(s)
            }
            _ => None,
        };
        eprintln!(
            "[{}] lab ready in {:.1} s: {} restore errors, {} schema entries, {} tables",
            subject.label,
            started.elapsed().as_secs_f64(),
            baseline.errors.len(),
            baseline.state.schema.len(),
            baseline.state.tables.len()
        );
        Lab {
            subject,
            server,
            source_server,
            template,
            baseline,
            empty,
            subscriptions,
            memo: RefCell::new(HashMap::new()),
            next_db: RefCell::new(1),
            reports: RefCell::new(Vec::new()),
        }
    }

    /// (server, database) holding the original, for pg_dump with switches.
    fn source(&self) -> (&Server, &str) {
        match self.subject.source {
            Source::Template => (&self.server, self.template),
            Source::Fixture(server) => (server, "db1"),
            Source::Regression15 => (self.source_server.as_ref().unwrap(), "regression"),
        }
    }

    /// pg_dump of the subject's client version, with `args`, of the original.
    fn source_dump(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        let (server, db) = self.source();
        let mut cmd = server.client_command(self.subject.client, "pg_dump");
        cmd.args(args)
            .arg(format!("--restrict-key={RESTRICT_KEY}"))
            .arg("-d")
            .arg(db);
        let out = run(&mut cmd, None);
        if !out.status.success() {
            return Err(format!(
                "pg_dump {} {args:?} failed:\n{}",
                self.subject.client.major(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out.stdout)
    }

    fn unique(&self, prefix: &str) -> String {
        let mut n = self.next_db.borrow_mut();
        *n += 1;
        format!("{prefix}_{}", *n)
    }

    /// A new empty database.
    fn fresh(&self) -> String {
        let name = self.unique("row");
        self.server.psql(
            "postgres",
            &format!("CREATE DATABASE {name} TEMPLATE template0"),
        );
        name
    }

    /// A copy of the template (the restored original).
    fn clone_template(&self) -> String {
        let name = self.unique("copy");
        self.server.psql(
            "postgres",
            &format!("CREATE DATABASE {name} TEMPLATE {}", self.template),
        );
        if !self.subscriptions.is_empty() {
            self.server.psql(&name, &self.subscriptions);
        }
        name
    }

    /// Restore `dump` into a new database: its outcome. `env` names the
    /// cluster's role situation (outcomes are memoised per env and input).
    fn restore_fresh(&self, env: &str, dump: &[u8]) -> Outcome {
        let key = (env.to_owned(), sha(dump));
        if let Some(o) = self.memo.borrow().get(&key) {
            return o.clone();
        }
        let db = self.fresh();
        let errors = restore_located(&self.server, &db, dump);
        let outcome = Outcome {
            errors,
            state: state(&self.server, &db),
        };
        drop_database(&self.server, &db);
        self.memo.borrow_mut().insert(key, outcome.clone());
        outcome
    }

    /// Restore `prep` and then `dump` into one new database.
    fn restore_prepared(&self, prep: &[u8], dump: &[u8]) -> Outcome {
        let db = self.fresh();
        let mut errors = restore_located(&self.server, &db, prep);
        errors.extend(restore_located(&self.server, &db, dump));
        let outcome = Outcome {
            errors,
            state: state(&self.server, &db),
        };
        drop_database(&self.server, &db);
        outcome
    }

    fn rename(&self, from: &str, to: &str) -> Renamed<'_> {
        self.server.rename_role(from, to);
        Renamed {
            server: &self.server,
            from: from.to_owned(),
            to: to.to_owned(),
        }
    }

    /// Run one row: print its time and result, keep its report.
    fn row(&self, name: &str, f: impl FnOnce(&Lab) -> RowResult) {
        let started = Instant::now();
        let result = support::catching(|| f(self));
        let secs = started.elapsed().as_secs_f64();
        match &result {
            Ok(notes) => {
                eprintln!("[{}] ok     {secs:6.1} s  {name}", self.subject.label);
                for n in notes {
                    eprintln!(
                        "           note: {}",
                        n.replace('\n', "\n                 ")
                    );
                }
            }
            Err(msg) => eprintln!(
                "[{}] FAILED {secs:6.1} s  {name}\n{}",
                self.subject.label,
                indent(msg)
            ),
        }
        self.reports.borrow_mut().push(Report {
            name: name.to_owned(),
            secs,
            result,
        });
    }

    /// Panic with every failing row, after a table of times.
    fn finish(self, started: Instant) {
        let reports = self.reports.into_inner();
        let mut summary = format!(
            "[{}] {} rows in {:.1} s:\n",
            self.subject.label,
            reports.len(),
            started.elapsed().as_secs_f64()
        );
        for r in &reports {
            summary.push_str(&format!(
                "  {:6.1} s  {}  {}\n",
                r.secs,
                if r.result.is_ok() { "ok    " } else { "FAILED" },
                r.name
            ));
        }
        eprintln!("{summary}");
        let failures: Vec<String> = reports
            .iter()
            .filter_map(|r| {
                r.result
                    .as_ref()
                    .err()
                    .map(|e| format!("--- {}\n{}", r.name, indent(e)))
            })
            .collect();
        if !failures.is_empty() {
            panic!(
                "{}: {} of {} oracle rows disagree:\n{}\n{summary}",
                self.subject.label,
                failures.len(),
                reports.len(),
                failures.join("\n")
            );
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// No autovacuum: it would compete for the two cores and hold connections
/// to the template.
fn quiet(server: &Server) {
    server.psql(
        "postgres",
        "ALTER SYSTEM SET autovacuum = off;\nSELECT pg_reload_conf();",
    );
}

/// `dump` with each of the subject's tablespace locations replaced by a
/// fresh directory of `server`.
fn relocate(server: &Server, subject: &Subject, dump: &[u8]) -> Vec<u8> {
    let mut text = dump.to_vec();
    for dir in &subject.tablespace_dirs {
        let from = dir.to_string_lossy().into_owned();
        let to = server.new_dir("ts").to_string_lossy().into_owned();
        text = replace_bytes(&text, from.as_bytes(), to.as_bytes());
    }
    text
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

/// Create the roles (and tablespaces) a dump needs: replay pg_dumpall
/// --globals-only output. Only "already exists" errors are expected (the
/// bootstrap superuser, or roles of an earlier replay).
fn replay_globals(server: &Server, subject: &Subject, globals: &[u8]) {
    let globals = relocate(server, subject, globals);
    let errors = restore_located(server, "postgres", &globals);
    let unexpected: Vec<String> = normalised(&errors)
        .into_iter()
        .filter(|e| !e.ends_with("already exists"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{}: replaying the globals failed:\n{}",
        subject.label,
        unexpected.join("\n")
    );
}

/// The statement around input line `line` of `dump` (that line and the
/// two before it: psql reports a statement's last line).
fn statement_at(dump: &[u8], line: usize) -> String {
    let text = String::from_utf8_lossy(dump);
    text.lines()
        .skip(line.saturating_sub(3))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n")
}

// -- the rows ----------------------------------------------------------------

fn run_subject(subject: Subject) {
    let started = Instant::now();
    let lab = Lab::new(subject);
    lab.row(
        "oracle source: pg_dump of the restored original is the dump",
        row_source,
    );
    lab.row("pgpipe-sql = pg_restore -f -", row_sql);
    lab.row("pgpipe-inspect --json: row counts and roles", row_inspect);
    lab.row("pgpipe-roles --no-owner = pg_restore -O", |lab| {
        row_like_pg_restore(lab, "--no-owner", "-O")
    });
    lab.row("pgpipe-roles --no-acl = pg_restore -x", |lab| {
        row_like_pg_restore(lab, "--no-acl", "-x")
    });
    lab.row(
        &format!("pgpipe-roles --map {}={MAPPED}", lab.subject.owner),
        row_map,
    );
    lab.row(&format!("pgpipe-roles --owner {NEW_OWNER}"), row_owner);
    for case in lab.subject.filter_cases.clone() {
        lab.row(
            &format!("pgpipe-filter {} = pg_dump", case.join(" ")),
            |lab| row_filter(lab, &case),
        );
    }
    for table in lab.subject.exclude_tables.clone() {
        lab.row(
            &format!("pgpipe-filter -T {table} = DROP TABLE {table} CASCADE"),
            |lab| row_exclude_table(lab, table),
        );
    }
    row_pairs(&lab);
    // Three fresh clusters, each restoring the whole pg_dumpall: on the
    // regression database (half a minute) only with PGPIPE_ORACLE_FULL=1.
    if lab.subject.db != "regression" || full() {
        lab.row(
            "pgpipe-filter --roles-if-not-exists | pgpipe-roles --map, both orders, on pg_dumpall",
            row_dumpall_pair,
        );
    }
    lab.row(
        &format!(
            "pgpipe-filter --database {} --no-globals = pg_dump -C",
            lab.subject.db
        ),
        row_database,
    );
    lab.row("pgpipe-filter --clean over a restored copy", row_clean);
    lab.row(
        &format!("pgpipe-guard: {CUTS} cuts of each dump commit nothing"),
        row_guard,
    );
    if let Some(role) = lab.subject.drop_role {
        // Last: it drops the role cluster-wide and rebuilds the template.
        lab.row(&format!("pgpipe-roles --drop {role}"), |lab| {
            row_drop(lab, role)
        });
    }
    lab.finish(started);
}

/// pg_dump of the source, for the record: where it differs from the
/// subject's dump, the source (a restore of the original) is not a byte-
/// faithful copy and the pg_dump oracles inherit that difference. This is
/// PostgreSQL's own round trip (e.g. a dump and restore can reorder an
/// inheritance child's columns), so it is a note, not a failure.
fn row_source(lab: &Lab) -> RowResult {
    let again = lab.source_dump(&[])?;
    Ok(match first_difference(lab.subject.plain, &again) {
        None => vec!["pg_dump of the source is the subject's dump, byte for byte".to_owned()],
        Some(diff) => vec![format!(
            "pg_dump {} of the source (a restore of the original) differs from the subject's dump:\n{diff}",
            lab.subject.client.major()
        )],
    })
}

/// pgpipe-sql prints what pg_restore of the same version prints.
fn row_sql(lab: &Lab) -> RowResult {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut failures = String::new();
    let key = format!("--restrict-key={RESTRICT_KEY}");
    for (name, bytes) in &lab.subject.archives {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        let mut cmd = lab.server.client_command(lab.subject.client, "pg_restore");
        cmd.arg(&key).arg("-f").arg("-").arg(&path);
        let expected = run(&mut cmd, None);
        if !expected.status.success() {
            return Err(format!(
                "pg_restore of {name} failed: {}",
                String::from_utf8_lossy(&expected.stderr)
            ));
        }
        let mut cmd = Command::new(*SQL);
        cmd.arg(&key).arg(&path);
        let got = run(&mut cmd, None);
        if !got.status.success() {
            failures.push_str(&format!(
                "pgpipe-sql {name} exited {}: {}\n",
                exit_code(&got),
                String::from_utf8_lossy(&got.stderr)
            ));
            continue;
        }
        if let Some(diff) = first_difference(&expected.stdout, &got.stdout) {
            failures.push_str(&format!(
                "pgpipe-sql {name} differs from pg_restore {} -f -: {diff}",
                lab.subject.client.major()
            ));
        }
    }
    if failures.is_empty() {
        Ok(vec![])
    } else {
        Err(failures)
    }
}

/// pgpipe-inspect's row counts are `count(*) FROM ONLY` each table after the
/// restore, and its roles are those the restored catalogs reference.
fn row_inspect(lab: &Lab) -> RowResult {
    let json = Tool::new(*INSPECT, &["--json"]).run(lab.subject.plain)?;
    let report: serde_json::Value =
        serde_json::from_slice(&json).map_err(|e| format!("inspect --json: {e}"))?;
    // The restore of the original; where it had errors (18), the PostgreSQL
    // 15 copy the dump came from.
    let (server, db) = if lab.baseline.errors.is_empty() {
        (&lab.server, lab.template)
    } else {
        lab.source()
    };
    let mut msg = String::new();

    let tables: Vec<(String, String, u64)> = report["tables"]
        .as_array()
        .ok_or("inspect --json has no tables array")?
        .iter()
        .map(|t| {
            (
                t["schema"].as_str().unwrap_or_default().to_owned(),
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["rows"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    let names: Vec<(String, String)> = tables
        .iter()
        .map(|(s, n, _)| (s.clone(), n.clone()))
        .collect();
    let counts = count_rows(server, db, &names);
    let foreign: BTreeSet<(String, String)> = server
        .lines(
            db,
            "SELECT n.nspname || E'\\t' || c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'f'",
        )
        .into_iter()
        .filter_map(|l| {
            l.split_once('\t')
                .map(|(s, n)| (s.to_owned(), n.to_owned()))
        })
        .collect();
    let mut wrong = Vec::new();
    for ((schema, name, rows), count) in tables.iter().zip(&counts) {
        if foreign.contains(&(schema.clone(), name.clone())) {
            // A foreign table's rows are elsewhere: count(*) would ask the
            // remote server. The dump holds none.
            if *rows != 0 {
                wrong.push(format!(
                    "{schema}.{name}: a foreign table, inspect says {rows} rows"
                ));
            }
            continue;
        }
        match count {
            Some(c) if c == rows => {}
            Some(c) => wrong.push(format!(
                "{schema}.{name}: inspect says {rows}, count(*) FROM ONLY says {c}"
            )),
            None => wrong.push(format!(
                "{schema}.{name}: inspect says {rows}, the table does not exist"
            )),
        }
    }
    // Every table holding rows must be in the report.
    let listed: BTreeSet<(String, String)> = names.iter().cloned().collect();
    let db_tables: Vec<(String, String)> = server
        .lines(
            db,
            "SELECT n.nspname || E'\\t' || c.relname FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind = 'r' AND c.relpersistence <> 't'
               AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
               AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                               AND d.objid = c.oid AND d.deptype = 'e')",
        )
        .into_iter()
        .filter_map(|l| {
            l.split_once('\t')
                .map(|(s, n)| (s.to_owned(), n.to_owned()))
        })
        .collect();
    let db_counts = count_rows(server, db, &db_tables);
    let unlisted: Vec<String> = db_tables
        .iter()
        .zip(&db_counts)
        .filter(|(t, c)| c.is_some_and(|c| c > 0) && !listed.contains(*t))
        .map(|((s, n), c)| format!("{s}.{n} ({} rows)", c.unwrap_or(0)))
        .collect();
    if !wrong.is_empty() {
        msg.push_str(&format!(
            "{} of {} row counts differ:\n",
            wrong.len(),
            tables.len()
        ));
        for w in wrong.iter().take(20) {
            msg.push_str(&format!("    {w}\n"));
        }
    }
    if !unlisted.is_empty() {
        msg.push_str(&format!(
            "{} tables with rows are not in the report: {}\n",
            unlisted.len(),
            unlisted.join(", ")
        ));
    }

    let listed_roles: BTreeSet<String> = report["roles"]
        .as_array()
        .ok_or("inspect --json has no roles array")?
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .collect();
    let catalog_roles = referenced_roles(server, db);
    if listed_roles != catalog_roles {
        let l: Vec<String> = listed_roles.iter().cloned().collect();
        let c: Vec<String> = catalog_roles.iter().cloned().collect();
        let (only_listed, only_catalog) = multiset_difference(&l, &c);
        msg.push_str(&format!(
            "roles differ: inspect lists {l:?}, the catalogs reference {c:?}\n    \
             only inspect: {only_listed:?}; only the catalogs: {only_catalog:?}\n"
        ));
    }
    if msg.is_empty() {
        Ok(vec![format!(
            "{} tables, roles {:?}",
            tables.len(),
            listed_roles
        )])
    } else {
        Err(msg)
    }
}

/// `pgpipe-roles FLAG` on the plain dump restores like `pg_restore SWITCH`
/// of the custom archive.
fn row_like_pg_restore(lab: &Lab, flag: &str, switch: &str) -> RowResult {
    let out = Tool::roles(&[flag]).run(lab.subject.plain)?;
    let (_, archive) = lab.subject.archives[0];
    let mut cmd = lab.server.client_command(lab.subject.client, "pg_restore");
    cmd.arg(switch).arg("-f").arg("-");
    let restored = run(&mut cmd, Some(archive));
    if !restored.status.success() {
        return Err(format!(
            "pg_restore {switch} failed: {}",
            String::from_utf8_lossy(&restored.stderr)
        ));
    }
    let oracle = lab.restore_fresh("", &restored.stdout);
    let tool = lab.restore_fresh("", &out);
    expect_same(&oracle, &tool).map(|()| vec![])
}

/// `--map OWNER=synapse` restores like the original followed by `ALTER ROLE
/// OWNER RENAME TO synapse`. The tool's output is restored with the role
/// renamed: the old name no longer exists, as on a new server.
fn row_map(lab: &Lab) -> RowResult {
    let owner = lab.subject.owner;
    let tool = Tool::roles(&["--map", &format!("{owner}={MAPPED}")]);
    let out = tool.run(lab.subject.plain)?;
    let copy = lab.clone_template();
    let renamed = lab.rename(owner, MAPPED);
    let oracle = Outcome {
        errors: lab.baseline.errors.clone(),
        state: state(&lab.server, &copy),
    };
    let got = lab.restore_fresh(&format!("{owner}->{MAPPED}"), &out);
    drop(renamed);
    drop_database(&lab.server, &copy);
    expect_same(&oracle, &got).map(|()| vec![])
}

/// `--owner X` restores like the original followed by `REASSIGN OWNED BY`
/// every owner `TO X`. REASSIGN OWNED refuses the bootstrap superuser and
/// the built-in roles ("required by the database system"), so their user
/// objects get `ALTER … OWNER TO X` one by one, which is what REASSIGN
/// OWNED does to each object.
///
/// Difference by design: default privileges (`ALTER DEFAULT PRIVILEGES FOR
/// ROLE old …`) become X's under --owner (X owns everything new, so the
/// defaults must be X's to apply); REASSIGN OWNED leaves them with the old
/// roles. So the oracle also runs the original's default-privilege
/// statements, in dump order, with each old role (as the role, and as
/// itself in its grants) replaced by X; the old roles' DEFAULT ACL entries,
/// which REASSIGN OWNED kept, are left out of its state, and the tool's
/// restore must have no default privileges of an old role.
fn row_owner(lab: &Lab) -> RowResult {
    let out = Tool::roles(&["--owner", NEW_OWNER]).run(lab.subject.plain)?;
    let copy = lab.clone_template();
    let sql = format!(
        "WITH {OWNED_OBJECTS}
SELECT DISTINCT quote_ident(pg_get_userbyid(o.owner)) FROM o
WHERE {USER_OBJECT} AND o.owner >= 16384 AND o.owner <> '{NEW_OWNER}'::regrole"
    );
    let owners = lab.server.lines(&copy, &sql);
    let mut script = String::new();
    if !owners.is_empty() {
        script.push_str(&format!(
            "REASSIGN OWNED BY {} TO {NEW_OWNER};\n",
            owners.join(", ")
        ));
    }
    script.push_str(&format!(
        "DO $oracle$
DECLARE r record;
BEGIN
  FOR r IN
    WITH {OWNED_OBJECTS}
    SELECT i.type, i.identity FROM o, LATERAL pg_identify_object(o.classid, o.objid, 0) i
    WHERE {USER_OBJECT} AND o.owner < 16384 AND o.objid >= 16384
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO {NEW_OWNER}',
      CASE r.type WHEN 'foreign-data wrapper' THEN 'FOREIGN DATA WRAPPER'
                  WHEN 'statistics object' THEN 'STATISTICS'
                  WHEN 'composite type' THEN 'TYPE'
                  ELSE upper(r.type) END,
      r.identity);
  END LOOP;
END
$oracle$;\n"
    ));
    // The stated difference: the default privileges, moved to X.
    let mut moved = Vec::new();
    for entry in lab
        .baseline
        .state
        .schema
        .iter()
        .filter(|e| e.kind() == "DEFAULT ACL")
    {
        let Some(old) = entry.owner() else { continue };
        if old == NEW_OWNER {
            continue;
        }
        let old_ident = lab
            .server
            .psql("postgres", &format!("SELECT quote_ident({})", literal(old)));
        script.push_str(&rewrite_ident(&entry.text, &old_ident, NEW_OWNER));
        script.push('\n');
        moved.push(old.to_owned());
    }
    let (code, _, err) =
        lab.server
            .psql_status(&copy, script.as_bytes(), &["-q", "-v", "ON_ERROR_STOP=1"]);
    if code != 0 {
        drop_database(&lab.server, &copy);
        return Err(format!(
            "the oracle's reassignment failed:\n{script}\n{err}"
        ));
    }
    let full_oracle = state(&lab.server, &copy);
    drop_database(&lab.server, &copy);
    let old_default = |e: &support::oracle::Entry| {
        e.kind() == "DEFAULT ACL" && e.owner().is_some_and(|o| o != NEW_OWNER)
    };
    let kept: Vec<String> = full_oracle
        .schema
        .iter()
        .filter(|e| old_default(e))
        .map(|e| e.header.clone())
        .collect();
    let oracle = Outcome {
        errors: lab.baseline.errors.clone(),
        state: full_oracle.without(old_default),
    };
    let got = lab.restore_fresh("", &out);
    let mut msg = String::new();
    let left: Vec<&str> = got
        .state
        .schema
        .iter()
        .filter(|e| old_default(e))
        .map(|e| e.header.as_str())
        .collect();
    if !left.is_empty() {
        msg.push_str(&format!(
            "default privileges of old roles are left (they must become {NEW_OWNER}'s):\n    {}\n",
            left.join("\n    ")
        ));
    }
    if let Err(e) = expect_same(
        &oracle,
        &Outcome {
            errors: got.errors.clone(),
            state: got.state.without(old_default),
        },
    ) {
        msg.push_str(&e);
    }
    if msg.is_empty() {
        let moved: BTreeSet<String> = moved.into_iter().collect();
        Ok(vec![format!(
            "by design: the default privileges of {moved:?} are {NEW_OWNER}'s; \
             REASSIGN OWNED kept {} DEFAULT ACL entries of old roles",
            kept.len()
        )])
    } else {
        Err(msg)
    }
}

/// `sql` with the role `from` (as PostgreSQL quotes it) replaced by `to`
/// wherever it stands as a whole identifier.
fn rewrite_ident(sql: &str, from: &str, to: &str) -> String {
    let to = quote_ident_min(to);
    if from.starts_with('"') {
        return sql.replace(from, &to);
    }
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$' || c == '"';
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(word) || after.is_some_and(word) {
            out.push_str(from);
        } else {
            out.push_str(&to);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// `name` quoted only when it must be (lower-case letters, digits and `_`
/// need no quotes; [`NEW_OWNER`] and [`MAPPED`] are such names).
fn quote_ident_min(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
    {
        name.to_owned()
    } else {
        quote_ident(name)
    }
}

/// `pgpipe-filter SWITCHES` restores like `pg_dump SWITCHES` of the
/// original: the same database, and no error that pg_dump's output does not
/// have. `--data-only` dumps go into a database that has the schema
/// (pg_dump with `--schema-only` instead), on both sides.
///
/// Differences by design, which make pg_dump's restore fail where the
/// tool's does not (reported as notes): pg_dump keeps foreign keys that
/// reference tables it does not dump, and views, materialized views and
/// what hangs on them that reference objects it does not dump;
/// pgpipe-filter removes them. pg_dump -n public also writes `CREATE SCHEMA
/// public`, which fails (the schema exists); the full dump the tool reads
/// has no such statement.
fn row_filter(lab: &Lab, switches: &[&str]) -> RowResult {
    let mut out = Tool::filter(switches).run(lab.subject.plain)?;
    let mut oracle_dump = lab.source_dump(switches)?;
    let data_only = switches.contains(&"--data-only");
    if data_only {
        // By design: pg_dump -a sorts the tables' data by their foreign
        // keys; pgpipe-filter keeps the dump's order (one pass cannot
        // reorder the data), so its data-only output loads into tables
        // whose foreign keys are not checked yet. Both restores run so.
        for d in [&mut out, &mut oracle_dump] {
            let mut v = b"SET session_replication_role = replica;\n".to_vec();
            v.extend_from_slice(d);
            *d = v;
        }
    }
    let (oracle, got) = if data_only {
        let schema_switches: Vec<&str> = switches
            .iter()
            .map(|s| {
                if *s == "--data-only" {
                    "--schema-only"
                } else {
                    s
                }
            })
            .collect();
        let prep = lab.source_dump(&schema_switches)?;
        (
            lab.restore_prepared(&prep, &oracle_dump),
            lab.restore_prepared(&prep, &out),
        )
    } else {
        (
            lab.restore_fresh("", &oracle_dump),
            lab.restore_fresh("", &out),
        )
    };
    let mut msg = String::new();
    let (only_oracle, new) = multiset_difference(&oracle.messages(), &got.messages());
    if !new.is_empty() {
        msg.push_str(&format!(
            "new restore errors (not in pg_dump's restore):\n    {}\n",
            new.join("\n    ")
        ));
    }
    if let Err(e) = compare_states(&oracle.state, &got.state) {
        msg.push_str(&e);
    }
    if !msg.is_empty() {
        return Err(msg);
    }
    let mut notes = Vec::new();
    if data_only {
        notes.push(
            "by design: data in the dump's order, loaded with session_replication_role = replica \
             (pg_dump -a orders it by foreign keys)"
                .to_string(),
        );
    }
    if !only_oracle.is_empty() {
        let mut fk = Vec::new();
        let mut schema = Vec::new();
        let mut dangling = Vec::new();
        let mut remaining = only_oracle.clone();
        for e in &oracle.errors {
            let Some(i) = remaining.iter().position(|m| *m == e.message) else {
                continue;
            };
            remaining.remove(i);
            let statement = statement_at(&oracle_dump, e.line);
            if statement.contains("FOREIGN KEY") {
                fk.push(e.message.clone());
            } else if e.message.starts_with("ERROR:  schema ")
                && e.message.ends_with(" already exists")
            {
                schema.push(e.message.clone());
            } else {
                dangling.push(e.message.clone());
            }
        }
        for (what, errors) in [
            ("foreign keys to tables it did not dump", fk),
            ("CREATE SCHEMA of an existing schema", schema),
            (
                "statements on objects it did not dump (or that failed)",
                dangling,
            ),
        ] {
            if !errors.is_empty() {
                notes.push(format!(
                    "by design: pg_dump's {} {what} fail, the tool's output has none: {}",
                    errors.len(),
                    errors.join("; ")
                ));
            }
        }
    }
    Ok(notes)
}

/// `pgpipe-filter -T T` restores like the original followed by `DROP TABLE
/// T CASCADE` (pg_dump -T keeps the dependents, which then fail). The
/// tool's restore may lack some of the original's errors (from statements
/// it removed) but must have no others.
fn row_exclude_table(lab: &Lab, table: &str) -> RowResult {
    let out = Tool::filter(&["-T", table]).run(lab.subject.plain)?;
    let copy = lab.clone_template();
    let (code, _, notices) = lab.server.psql_status(
        &copy,
        format!("DROP TABLE {table} CASCADE").as_bytes(),
        &["-v", "ON_ERROR_STOP=1"],
    );
    if code != 0 {
        drop_database(&lab.server, &copy);
        return Err(format!("DROP TABLE {table} CASCADE failed: {notices}"));
    }
    let oracle = state(&lab.server, &copy);
    drop_database(&lab.server, &copy);
    let got = lab.restore_fresh("", &out);
    let mut msg = String::new();
    let (_, new) = multiset_difference(&lab.baseline.messages(), &got.messages());
    if !new.is_empty() {
        msg.push_str(&format!(
            "new restore errors (not in the original's restore):\n    {}\n",
            new.join("\n    ")
        ));
    }
    if let Err(e) = compare_states(&oracle, &got.state) {
        msg.push_str(&e);
        msg.push_str(&format!(
            "(DROP TABLE {table} CASCADE said: {})\n",
            notices.trim().replace('\n', "\n    ")
        ));
    }
    if msg.is_empty() { Ok(vec![]) } else { Err(msg) }
}

/// Every pair of SQL tools, in both orders: the pipeline restores like the
/// composition of the tools' oracles. roles --map: the role renamed after
/// the restore; filter: pg_dump with its switches; inspect --passthrough:
/// nothing; guard: nothing, or, when the restore has errors (18), nothing
/// committed and only the first error.
fn row_pairs(lab: &Lab) {
    let owner = lab.subject.owner;
    let map = format!("{owner}={MAPPED}");
    let tools = [
        ("roles", Tool::roles(&["--map", &map])),
        ("filter", Tool::filter(&lab.subject.pair_filter)),
        ("inspect", Tool::new(*INSPECT, &["--passthrough"])),
        ("guard", Tool::new(*GUARD, &[])),
    ];
    for i in 0..tools.len() {
        for j in i + 1..tools.len() {
            let (a, b) = (&tools[i], &tools[j]);
            let name = format!("{} and {}, both orders", a.1.label(), b.1.label());
            lab.row(&name, |lab| {
                let names = [a.0, b.0];
                let has = |t: &str| names.contains(&t);
                let outputs = [
                    pipeline(&[a.1.clone(), b.1.clone()], lab.subject.plain)?,
                    pipeline(&[b.1.clone(), a.1.clone()], lab.subject.plain)?,
                ];
                // The oracle's database: pg_dump with the filter's switches,
                // restored, or (no filter) the original: the template.
                let filtered = if has("filter") {
                    Some(lab.source_dump(&lab.subject.pair_filter)?)
                } else {
                    None
                };
                let (mut oracle, gots) = if has("roles") {
                    let (db, errors) = match &filtered {
                        Some(dump) => {
                            let db = lab.fresh();
                            let errors = restore_located(&lab.server, &db, dump);
                            (db, errors)
                        }
                        None => (lab.clone_template(), lab.baseline.errors.clone()),
                    };
                    let renamed = lab.rename(owner, MAPPED);
                    let oracle = Outcome {
                        errors,
                        state: state(&lab.server, &db),
                    };
                    let env = format!("{owner}->{MAPPED}");
                    let gots = [
                        lab.restore_fresh(&env, &outputs[0]),
                        lab.restore_fresh(&env, &outputs[1]),
                    ];
                    drop(renamed);
                    drop_database(&lab.server, &db);
                    (oracle, gots)
                } else {
                    let oracle = match &filtered {
                        Some(dump) => lab.restore_fresh("", dump),
                        None => lab.baseline.clone(),
                    };
                    (
                        oracle,
                        [
                            lab.restore_fresh("", &outputs[0]),
                            lab.restore_fresh("", &outputs[1]),
                        ],
                    )
                };
                if has("guard") && !oracle.errors.is_empty() {
                    oracle = Outcome {
                        errors: vec![oracle.errors[0].clone()],
                        state: lab.empty.clone(),
                    };
                }
                let mut msg = String::new();
                for (order, got) in [(a, b), (b, a)].iter().zip(&gots) {
                    if let Err(e) = expect_same(&oracle, got) {
                        msg.push_str(&format!(
                            "{}:\n{}\n",
                            pipeline_label(&[order.0.1.clone(), order.1.1.clone()]),
                            indent(&e)
                        ));
                    }
                }
                if msg.is_empty() { Ok(vec![]) } else { Err(msg) }
            });
        }
    }
}

/// On pg_dumpall output, in fresh clusters: `filter --roles-if-not-exists |
/// roles --map OWNER=synapse` and the other order restore like the
/// original followed by `ALTER ROLE OWNER RENAME TO synapse`: the same
/// roles, memberships, settings, and the same database. Difference by
/// design: the original's `CREATE ROLE postgres` fails (the role exists);
/// the tools' conditional one does not.
fn row_dumpall_pair(lab: &Lab) -> RowResult {
    let owner = lab.subject.owner;
    let map = format!("{owner}={MAPPED}");
    let db = lab.subject.db;
    let restore =
        |tools: &[Tool], rename: bool| -> Result<(Vec<String>, Vec<String>, State), String> {
            let server = Server::start(lab.subject.target);
            quiet(&server);
            let input = relocate(&server, &lab.subject, lab.subject.dumpall);
            let out = pipeline(tools, &input)?;
            let errors = restore_located(&server, "postgres", &out);
            if rename {
                server.rename_role(owner, MAPPED);
            }
            Ok((
                normalised(&errors),
                cluster_state(&server),
                database_state(&server, db),
            ))
        };
    let (mut oracle_errors, oracle_cluster, oracle_db) = restore(&[], true)?;
    let exists = "ERROR:  role \"postgres\" already exists".to_owned();
    let notes = if let Some(i) = oracle_errors.iter().position(|e| *e == exists) {
        oracle_errors.remove(i);
        vec![format!(
            "by design: the original's {exists} is not expected of the tools"
        )]
    } else {
        vec![]
    };
    let filter = Tool::filter(&["--roles-if-not-exists"]);
    let roles = Tool::roles(&["--map", &map]);
    let mut msg = String::new();
    for order in [[filter.clone(), roles.clone()], [roles, filter]] {
        let (errors, cluster, state) = restore(&order, false)?;
        let mut m = String::new();
        if let Err(e) = compare_errors(&oracle_errors, &errors) {
            m.push_str(&e);
        }
        if cluster != oracle_cluster {
            let (missing, extra) = multiset_difference(&oracle_cluster, &cluster);
            m.push_str(&format!(
                "cluster differs:\n    only the oracle's: {missing:?}\n    only the tools': {extra:?}\n"
            ));
        }
        if let Err(e) = compare_states(&oracle_db, &state) {
            m.push_str(&format!("database {db}: {e}"));
        }
        if !m.is_empty() {
            msg.push_str(&format!("{}:\n{}\n", pipeline_label(&order), indent(&m)));
        }
    }
    if msg.is_empty() { Ok(notes) } else { Err(msg) }
}

/// `pgpipe-filter --database D --no-globals` of the pg_dumpall dump restores
/// like `pg_dump -C D`, both through `psql -d postgres`.
fn row_database(lab: &Lab) -> RowResult {
    let db = lab.subject.db;
    let out = Tool::filter(&["--database", db, "--no-globals"]).run(lab.subject.dumpall)?;
    let restore = |dump: &[u8]| {
        let errors = restore_located(&lab.server, "postgres", dump);
        let st = database_state(&lab.server, db);
        drop_database(&lab.server, db);
        Outcome { errors, state: st }
    };
    let oracle = restore(lab.subject.create);
    let got = restore(&out);
    expect_same(&oracle, &got).map(|()| vec![])
}

/// `pgpipe-filter --clean` restored over a restored copy succeeds and
/// leaves what one restore leaves (the original's errors, on 18, again);
/// for reference, the same of `pg_dump --clean --if-exists`.
fn row_clean(lab: &Lab) -> RowResult {
    let out = Tool::filter(&["--clean"]).run(lab.subject.plain)?;
    let over_copy = |dump: &[u8]| {
        let copy = lab.clone_template();
        let errors = restore_located(&lab.server, &copy, dump);
        let st = state(&lab.server, &copy);
        drop_database(&lab.server, &copy);
        Outcome { errors, state: st }
    };
    let got = over_copy(&out);
    // The reference costs another restore: with PGPIPE_ORACLE_FULL=1 only.
    let reference_note = if full() {
        let reference = over_copy(&lab.source_dump(&["--clean", "--if-exists"])?);
        match expect_same(&lab.baseline, &reference) {
            Ok(()) => "pg_dump --clean --if-exists over a copy: the same as one restore".to_owned(),
            Err(e) => format!("pg_dump --clean --if-exists over a copy differs:\n{e}"),
        }
    } else {
        "pg_dump --clean --if-exists over a copy: not run (PGPIPE_ORACLE_FULL=1)".to_owned()
    };
    match expect_same(&lab.baseline, &got) {
        Ok(()) => Ok(vec![reference_note]),
        Err(e) => Err(format!("{e}({reference_note})")),
    }
}

/// pgpipe-guard on dumps cut at random (seeded) places: what it lets psql
/// run commits nothing, whatever guard's exit code.
fn row_guard(lab: &Lab) -> RowResult {
    let mut inputs = vec![("plain", lab.subject.plain)];
    inputs.extend(lab.subject.archives.iter().take(1).copied());
    let mut msg = String::new();
    let mut exits: BTreeSet<i32> = BTreeSet::new();
    // One database for every cut while it stays empty.
    let mut db = lab.fresh();
    for (name, dump) in inputs {
        let mut rng = SplitMix64(0x6f72_6163_6c65 ^ dump.len() as u64);
        for _ in 0..CUTS {
            let cut = 1 + (rng.next_u64() % (dump.len() as u64 - 1)) as usize;
            let (code, out, _) = Tool::new(*GUARD, &[]).run_any(&dump[..cut]);
            exits.insert(code);
            let _ = restore_located(&lab.server, &db, &out);
            let st = state(&lab.server, &db);
            if let Err(e) = compare_states(&lab.empty, &st) {
                drop_database(&lab.server, &db);
                db = lab.fresh();
                msg.push_str(&format!(
                    "{name} cut at byte {cut} of {} (guard exited {code}) committed something:\n{}\n",
                    dump.len(),
                    indent(&e)
                ));
            }
        }
    }
    drop_database(&lab.server, &db);
    if msg.is_empty() {
        Ok(vec![format!("guard exit codes seen: {exits:?}")])
    } else {
        Err(msg)
    }
}

/// `--drop R` restores like the original followed by `REASSIGN OWNED BY R
/// TO` the restoring role, `DROP OWNED BY R` and `DROP ROLE R`; the tool's
/// output is restored with R gone. Difference by design: role-typed data
/// (aclitem, regrole values) naming R shows R's bare OID after DROP ROLE;
/// the tables that differ must be exactly those.
fn row_drop(lab: &Lab, role: &str) -> RowResult {
    let out = Tool::roles(&["--drop", role]).run(lab.subject.plain)?;
    let r = quote_ident(role);
    let copy = lab.clone_template();
    let oid = lab.server.psql(
        "postgres",
        &format!("SELECT oid FROM pg_roles WHERE rolname = {}", literal(role)),
    );
    // The template holds R's objects too; it is rebuilt below.
    drop_database(&lab.server, lab.template);
    let script = format!("REASSIGN OWNED BY {r} TO postgres;\nDROP OWNED BY {r};\n");
    let result = (|| {
        for db in [copy.as_str(), "postgres"] {
            let (code, _, err) =
                lab.server
                    .psql_status(db, script.as_bytes(), &["-q", "-v", "ON_ERROR_STOP=1"]);
            if code != 0 {
                return Err(format!("the oracle's {script} in {db} failed: {err}"));
            }
        }
        lab.server.psql("postgres", &format!("DROP ROLE {r}"));
        let oracle = Outcome {
            errors: lab.baseline.errors.clone(),
            state: state(&lab.server, &copy),
        };
        let by_design = tables_showing(&lab.server, &copy, &oid);
        let got = lab.restore_fresh(&format!("without {role}"), &out);
        let mut msg = String::new();
        if let Err(e) = expect_same(
            &Outcome {
                errors: oracle.errors.clone(),
                state: oracle.state.without_tables(&by_design),
            },
            &Outcome {
                errors: got.errors.clone(),
                state: got.state.without_tables(&by_design),
            },
        ) {
            msg.push_str(&e);
        }
        let differing: BTreeSet<String> = by_design
            .iter()
            .filter(|t| oracle.state.tables.get(*t) != got.state.tables.get(*t))
            .cloned()
            .collect();
        if differing != by_design {
            msg.push_str(&format!(
                "role-typed data naming {role} (OID {oid}) should differ in {by_design:?}, differs in {differing:?}\n"
            ));
        }
        if msg.is_empty() {
            Ok(vec![format!(
                "by design: tables whose role-typed data shows {role}'s bare OID {oid}: {by_design:?}"
            )])
        } else {
            Err(msg)
        }
    })();
    // Put the role and the template back.
    drop_database(&lab.server, &copy);
    replay_globals(&lab.server, &lab.subject, lab.subject.globals);
    lab.server.psql(
        "postgres",
        &format!("CREATE DATABASE {} TEMPLATE template0", lab.template),
    );
    let errors = restore_located(&lab.server, lab.template, lab.subject.plain);
    assert_eq!(
        normalised(&errors),
        lab.baseline.messages(),
        "rebuilding the template"
    );
    result
}

/// The tables of `db` with a role-typed column (aclitem, regrole, or
/// arrays of them) whose rows show `oid` as a bare number.
fn tables_showing(server: &Server, db: &str, oid: &str) -> BTreeSet<String> {
    let script = format!(
        "SELECT format('SELECT %L FROM ONLY %I.%I t WHERE t::text ~ %L LIMIT 1',
  format('%I.%I', n.nspname, c.relname), n.nspname, c.relname, '\\m{oid}\\M')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm') AND c.relispopulated AND EXISTS (
  SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  AND a.atttypid IN ('aclitem'::regtype, 'aclitem[]'::regtype, 'regrole'::regtype, 'regrole[]'::regtype))
\\gexec\n"
    );
    let (_, stdout, _) = server.psql_status(db, script.as_bytes(), &["-q", "-At"]);
    stdout.lines().map(str::to_owned).collect()
}

fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A small seeded generator, so the cuts are the same in every run.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

// -- the tests ----------------------------------------------------------------

#[test]
fn regression_15() {
    run_subject(Subject::regression(Version::V15, Version::V15));
}

#[test]
fn regression_18() {
    run_subject(Subject::regression(Version::V18, Version::V18));
}

#[test]
fn fixture_15() {
    run_subject(Subject::fixture(Version::V15, Version::V15));
}

#[test]
fn fixture_18() {
    run_subject(Subject::fixture(Version::V18, Version::V18));
}

/// The pg_dump 15 dumps of the regression database restored into 18
/// (PGPIPE_ORACLE_FULL=1 only).
#[test]
fn regression_pg15_dump_into_18() {
    if !full() {
        eprintln!(
            "regression_pg15_dump_into_18: not run; set PGPIPE_ORACLE_FULL=1 (make test-oracle)"
        );
        return;
    }
    run_subject(Subject::regression(Version::V18, Version::V15));
}

/// The pg_dump 15 dumps of the fixture restored into 18
/// (PGPIPE_ORACLE_FULL=1 only).
#[test]
fn fixture_pg15_dump_into_18() {
    if !full() {
        eprintln!(
            "fixture_pg15_dump_into_18: not run; set PGPIPE_ORACLE_FULL=1 (make test-oracle)"
        );
        return;
    }
    run_subject(Subject::fixture(Version::V18, Version::V15));
}

/// The regression corpus is what pg_regress left, and its dumps name
/// regress.so where it is installed.
#[test]
fn regression_corpus() {
    let c = regression();
    let plain = String::from_utf8_lossy(c.dump("pg15-plain"));
    let so = c.regress_so.to_string_lossy().into_owned();
    assert!(
        plain.contains(&format!("'{so}'")),
        "the regression dump does not name {so}"
    );
    assert!(
        plain.contains(&format!("OWNER TO {};", quote_ident(regression::OWNER))),
        "the regression dump has no object owned by {}:\n{}",
        regression::OWNER,
        c.pg_regress_output
    );
}
