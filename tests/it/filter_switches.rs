//! `pgpipe-filter` speaks pg_dump 18: for each of pg_dump 18's switches that
//! choose or reshape objects, `pgpipe-filter S FULL` (FULL a plain dump made
//! with `--statistics`) against `pg_dump --statistics S` of the same
//! database (`--statistics` left out where pg_dump refuses it: with `-s`,
//! `-a`, `--no-statistics`), with PostgreSQL as the judge:
//!
//! * the TOC entries kept (the `-- Name:`, `-- Data for Name:` and `--
//!   Statistics for Name:` headers, the tablespace suffix aside): the
//!   filter keeps no entry pg_dump leaves out, and every entry only pg_dump
//!   keeps has one of the stated reasons below;
//! * both outputs restored into fresh databases: the filter's restore has
//!   no error pg_dump's lacks, and the same schema (`pg_dump -s`), table
//!   digests and statistics (`pg_dump --statistics-only`) — but for the
//!   removals by `DROP TABLE … CASCADE`, which `oracle.rs` checks against
//!   that statement.
//!
//! The differences by design (also in pgpipe-filter(1)):
//!
//! * `-t` and `-n`: pg_dump keeps a foreign key that references a table it
//!   does not dump, a view that reads one, and a partition's attachment to
//!   a parent it does not dump (its restore then fails there); the filter
//!   removes them.
//! * `-T` and `-N`: the filter removes what `DROP TABLE … CASCADE` removes
//!   (views, foreign keys, partitions and children, what hangs on them);
//!   pg_dump keeps them and they fail, or stay as tables of their own.
//! * `-n public`: pg_dump writes `CREATE SCHEMA public` (and the schema's
//!   comment), which a full dump does not hold.
//! * Statistics of an index belong to its table: pg_dump also writes those
//!   of the indexes of a table it only names through a partition or a
//!   serial sequence (`-t partition`, `-T t` of a table with a serial).
//!
//! `--filter FILE` is checked against the same switches on the command line
//! (the same bytes) and against pg_dump with the same file (the same
//! entries), and a bad line against pg_dump's own error.
//!
//! `make test` runs one row per switch (and a few pairs) on the fixture
//! dumped by 18; `PGPIPE_ORACLE_FULL=1` adds more pairs, a Synapse-shaped
//! database with partitions, policies, an unlogged table and large
//! objects, and the regression database dumped by 15 and by 18.

use crate::support;

use std::collections::BTreeSet;
use std::time::Instant;

use support::oracle::{
    State, compare_states, multiset_difference, normalised, restore_located, schema_entries, state,
};
use support::{
    Server, Version, fixture, fixture_file, private_fixture, run, run_tool, run_tool_ok,
};

fn full() -> bool {
    std::env::var_os("PGPIPE_ORACLE_FULL").is_some_and(|v| v == "1")
}

/// A database to dump and filter.
struct Corpus<'a> {
    label: String,
    server: &'a Server,
    db: String,
    /// The pg_dump that makes both the full dump and the reference dumps.
    client: Version,
    /// The full dump (`pg_dump --statistics` where the client has it).
    full: Vec<u8>,
    /// Where the restores go (a server holding the roles).
    target: &'a Server,
}

impl Corpus<'_> {
    /// `pg_dump ARGS` of the database (with the restrict key).
    fn pg_dump(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        let mut cmd = self.server.client_command(self.client, "pg_dump");
        cmd.args(self.client.restrict_key_args())
            .args(args)
            .arg("-d")
            .arg(&self.db);
        let out = run(&mut cmd, None);
        if !out.status.success() {
            return Err(format!(
                "pg_dump {} {args:?}: {}",
                self.client.major(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out.stdout)
    }

    fn with_statistics(&self) -> bool {
        self.client.major() >= 18
    }
}

/// The TOC entry headers of a plain dump, the tablespace suffix aside.
fn headers(dump: &[u8]) -> Vec<String> {
    let mut v: Vec<String> = String::from_utf8_lossy(dump)
        .lines()
        .filter(|l| {
            l.starts_with("-- Name: ")
                || l.starts_with("-- Data for Name: ")
                || l.starts_with("-- Statistics for Name: ")
        })
        .map(|l| match l.find("; Tablespace: ") {
            Some(i) => l[..i].to_string(),
            None => l.to_string(),
        })
        .collect();
    v.sort();
    v
}

/// A header's `Type:` and `Name:`.
fn kind_and_name(h: &str) -> (&str, &str) {
    let field = |k: &str| {
        h.split("; ")
            .find_map(|f| f.split_once(k).map(|(_, v)| v))
            .unwrap_or("")
    };
    (field("Type: "), field("Name: "))
}

/// The names of the relations whose definitions `dump` keeps.
fn relations(headers: &[String]) -> BTreeSet<String> {
    headers
        .iter()
        .filter_map(|h| {
            let (kind, name) = kind_and_name(h);
            matches!(
                kind,
                "TABLE" | "MATERIALIZED VIEW" | "VIEW" | "FOREIGN TABLE"
            )
            .then(|| name.to_string())
        })
        .collect()
}

/// Why pg_dump keeps an entry the filter does not, when the difference is
/// one by design; `None` when it is not.
fn explained(
    switches: &[&str],
    entry: &str,
    ours: &[String],
    full: &[String],
    indexed: &[(String, String)],
) -> Option<&'static str> {
    let (kind, name) = kind_and_name(entry);
    let has = |s: &str| switches.contains(&s);
    let cascades = has("-T") || has("-N");
    if cascades {
        return Some("-T/-N remove what DROP TABLE ... CASCADE removes");
    }
    let selecting = has("-t") || has("-n") || has("--table-and-children");
    if selecting && kind == "FK CONSTRAINT" {
        return Some("a foreign key to a table that is not dumped");
    }
    if selecting && kind == "TABLE ATTACH" {
        return Some("a partition's attachment to a parent that is not dumped");
    }
    let view = |n: &str| {
        full.iter().any(|h| {
            let (k, name) = kind_and_name(h);
            matches!(k, "VIEW" | "MATERIALIZED VIEW") && name == n
        })
    };
    let object = name.rsplit(' ').next().unwrap_or(name);
    let object = match kind {
        // An index of a materialized view: the view it is on.
        "INDEX" => indexed
            .iter()
            .find(|(i, _)| i == object)
            .map_or(object, |(_, t)| t),
        _ => object,
    };
    if selecting && view(object) && !relations(ours).contains(object) {
        return Some("a view that reads a table that is not dumped");
    }
    if has("-n")
        && !full.iter().any(|h| h == entry)
        && (name == "public" || name == "SCHEMA public")
    {
        return Some("pg_dump -n public writes CREATE SCHEMA public and its comment");
    }
    if kind == "STATISTICS DATA" && !relations(ours).contains(name) {
        return Some("statistics of a relation that is not kept (an index's go with its table)");
    }
    None
}

/// (index, relation) of each `CREATE [UNIQUE] INDEX name ON [ONLY]
/// schema.relation` of a plain dump (unquoted names, as the tests' are).
fn indexes(dump: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(dump)
        .lines()
        .filter_map(|l| {
            let rest = l
                .strip_prefix("CREATE INDEX ")
                .or_else(|| l.strip_prefix("CREATE UNIQUE INDEX "))?;
            let (name, rest) = rest.split_once(" ON ")?;
            let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
            let rel = rest.split(' ').next()?;
            let table = rel.rsplit('.').next()?;
            Some((name.to_string(), table.to_string()))
        })
        .collect()
}

/// Restore `dump` into a fresh database of `server`: its errors and state
/// (schema, digests, and statistics as pg_dump 18 writes them).
fn restore(server: &Server, dump: &[u8], stats: bool) -> (Vec<String>, State, Vec<String>) {
    let db = server.create_db("switch");
    let errors = normalised(&restore_located(server, &db, dump));
    let st = state(server, &db);
    // Statistics as pg_dump 18 writes them; a server before 18 has no
    // pg_restore_*_stats to have run them with.
    let stats = if stats && server.version() == Version::V18 {
        let key = server.version().restrict_key_args();
        let mut args: Vec<&str> = key.iter().map(String::as_str).collect();
        args.push("--statistics-only");
        let out = server.pg_dump(&db, &args);
        schema_entries(&String::from_utf8_lossy(&out))
            .into_iter()
            .map(|e| format!("{}\n{}", e.header, e.text))
            .collect()
    } else {
        Vec::new()
    };
    support::oracle::drop_database(server, &db);
    (errors, st, stats)
}

/// One switch set on one corpus: `Ok(note)` or the account of what differs.
fn case(c: &Corpus<'_>, switches: &[&str], restores: bool) -> Result<String, String> {
    let mut args: Vec<&str> = Vec::new();
    let refuses_stats = switches
        .iter()
        .any(|s| matches!(*s, "-s" | "-a" | "--no-statistics" | "--statistics-only"));
    if c.with_statistics() && !refuses_stats {
        args.push("--statistics");
    }
    args.extend_from_slice(switches);
    let want = c.pg_dump(&args)?;
    let got = run_tool_ok("pgpipe-filter", switches, Some(&c.full))?;
    let (w, g, f) = (headers(&want), headers(&got), headers(&c.full));
    let indexed = indexes(&c.full);
    let (only_theirs, only_ours) = multiset_difference(&w, &g);
    let mut msg = String::new();
    if !only_ours.is_empty() {
        msg.push_str(&format!(
            "entries the filter keeps and pg_dump does not:\n    {}\n",
            only_ours.join("\n    ")
        ));
    }
    let mut reasons = BTreeSet::new();
    for e in &only_theirs {
        match explained(switches, e, &g, &f, &indexed) {
            Some(r) => {
                reasons.insert(r);
            }
            None => msg.push_str(&format!("only pg_dump keeps (no stated reason): {e}\n")),
        }
    }
    let cascades = switches.iter().any(|s| matches!(*s, "-T" | "-N"));
    if restores && msg.is_empty() && !cascades {
        let stats = c.with_statistics();
        let (their_errors, their_state, their_stats) = restore(c.target, &want, stats);
        let (our_errors, our_state, our_stats) = restore(c.target, &got, stats);
        let (_, new) = multiset_difference(&their_errors, &our_errors);
        if !new.is_empty() {
            msg.push_str(&format!(
                "errors pg_dump's restore does not have: {new:?}\n"
            ));
        }
        if let Err(e) = compare_states(&their_state, &our_state) {
            msg.push_str(&e);
        }
        if their_stats != our_stats {
            let (a, b) = multiset_difference(&their_stats, &our_stats);
            msg.push_str(&format!(
                "statistics differ: {} only pg_dump's, {} only the filter's; first: {:?}\n",
                a.len(),
                b.len(),
                a.first().or(b.first())
            ));
        }
    }
    if !msg.is_empty() {
        return Err(msg);
    }
    let mut note = format!("{} entries as pg_dump", g.len());
    if !only_theirs.is_empty() {
        note.push_str(&format!(
            "; {} only pg_dump's, by design: {}",
            only_theirs.len(),
            reasons.into_iter().collect::<Vec<_>>().join("; ")
        ));
    }
    if restores && !cascades {
        note.push_str("; restores alike");
    }
    Ok(note)
}

/// The switches that take no pattern, one case each.
const PLAIN_SWITCHES: &[&str] = &[
    "-B",
    "-s",
    "-a",
    "--no-data",
    "--no-schema",
    "--no-statistics",
    "--statistics-only",
    "--no-policies",
    "--no-comments",
    "--no-publications",
    "--no-subscriptions",
    "--no-security-labels",
    "--no-tablespaces",
    "--no-table-access-method",
    "--no-toast-compression",
    "--no-unlogged-table-data",
];

/// `cases`, then one case per switch of [`PLAIN_SWITCHES`].
fn with_plain_switches(mut cases: Vec<Vec<&'static str>>) -> Vec<Vec<&'static str>> {
    cases.extend(PLAIN_SWITCHES.iter().map(|s| vec![*s]));
    cases
}

/// The switch sets of the fixture database db1 (schemas app and "Weird
/// Schema"; app.t1 with a serial, policies, a publication; the
/// partitioned app.part; a materialized view; a large object; an
/// extension; a tablespace).
fn fixture_cases() -> Vec<Vec<&'static str>> {
    let mut v = with_plain_switches(vec![
        vec!["-t", "app.t1"],
        vec!["-T", "app.t1"],
        vec!["-n", "app"],
        vec!["-N", "app"],
        vec!["--table-and-children", "app.part"],
        vec!["--exclude-table-and-children", "app.part"],
        vec!["--exclude-table-data", "app.t1"],
        vec!["--exclude-table-data-and-children", "app.part"],
        vec!["-e", "postgres_fdw"],
        vec!["--exclude-extension", "postgres_fdw"],
        vec!["-b", "-n", "app"],
    ]);
    v.extend([
        // Pairs.
        vec!["-n", "app", "--no-data"],
        vec!["-t", "app.t1", "--statistics-only"],
        vec!["--exclude-table-data", "app.t1", "--no-statistics"],
    ]);
    if full() {
        v.extend([
            vec!["-t", "app.part1"],
            vec!["-t", "app.mv1", "--no-data"],
            vec!["-n", "app", "-B"],
            vec!["-n", "public"],
            vec!["-e", "postgres_fdw", "--no-schema"],
            vec!["--no-policies", "--no-comments"],
            vec!["--table-and-children", "app.part", "--no-statistics"],
            vec!["--exclude-table-data-and-children", "app.part", "-s"],
            vec!["-n", "\"Weird Schema\"", "--statistics-only"],
            vec!["-B", "--no-schema"],
        ]);
    }
    v
}

/// Run every case of `cases` on `c`; print a row each; the failures.
fn run_cases(c: &Corpus<'_>, cases: &[Vec<&str>], restores: bool) -> Vec<String> {
    let mut failures = Vec::new();
    for s in cases {
        let started = Instant::now();
        let r = case(c, s, restores);
        eprintln!(
            "[{}] {:<58} {:>5.1}s {}",
            c.label,
            s.join(" "),
            started.elapsed().as_secs_f64(),
            match &r {
                Ok(n) => format!("ok: {n}"),
                Err(e) => format!("FAILED\n{e}"),
            }
        );
        if let Err(e) = r {
            failures.push(format!("[{}] {}:\n{e}", c.label, s.join(" ")));
        }
    }
    failures
}

/// The fixture database on its 18 cluster, analysed and dumped with
/// --statistics.
fn fixture_corpus() -> Corpus<'static> {
    let fx = fixture(Version::V18);
    fx.server.psql("db1", "ANALYZE");
    let mut c = Corpus {
        label: "fixture 18".into(),
        server: &fx.server,
        db: "db1".into(),
        client: Version::V18,
        full: Vec::new(),
        target: &fx.server,
    };
    c.full = c.pg_dump(&["--statistics"]).unwrap();
    c
}

#[test]
fn every_switch_on_the_fixture() {
    let c = fixture_corpus();
    let failures = run_cases(&c, &fixture_cases(), true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `--filter FILE` is the same switches: the same bytes as on the command
/// line, the same entries as pg_dump with the same file, and pg_dump's
/// error for a line it does not take.
#[test]
fn filter_files_as_pg_dump_reads_them() {
    let c = fixture_corpus();
    let dir = c.server.new_dir("filters");
    let cases: &[(&str, &[&str])] = &[
        ("include table app.t1\n", &["-t", "app.t1"]),
        (
            "# data of the table, not the table\nexclude table_data app.t1\nexclude schema \"Weird Schema\"\n",
            &["--exclude-table-data", "app.t1", "-N", "\"Weird Schema\""],
        ),
        (
            "include table_and_children app . part # spaces round the dot go\n",
            &["--table-and-children", "app.part"],
        ),
        (
            "exclude extension postgres_fdw\n",
            &["--exclude-extension", "postgres_fdw"],
        ),
    ];
    let mut failures = Vec::new();
    for (n, (text, switches)) in cases.iter().enumerate() {
        let file = dir.join(format!("f{n}"));
        std::fs::write(&file, text).unwrap();
        let file = file.to_str().unwrap();
        let by_file = run_tool_ok("pgpipe-filter", &["--filter", file], Some(&c.full)).unwrap();
        let by_switches = run_tool_ok("pgpipe-filter", switches, Some(&c.full)).unwrap();
        if by_file != by_switches {
            failures.push(format!("{text:?}: not the bytes of {switches:?}"));
        }
        let want = c.pg_dump(&["--statistics", "--filter", file]).unwrap();
        let (only_theirs, only_ours) = multiset_difference(&headers(&want), &headers(&by_file));
        let f = headers(&c.full);
        let indexed = indexes(&c.full);
        let unexplained: Vec<&String> = only_theirs
            .iter()
            .filter(|e| explained(switches, e, &headers(&by_file), &f, &indexed).is_none())
            .collect();
        if !only_ours.is_empty() || !unexplained.is_empty() {
            failures.push(format!(
                "{text:?}: against pg_dump --filter: only ours {only_ours:?}, only pg_dump's {unexplained:?}"
            ));
        }
    }
    // Bad lines: pg_dump's own messages.
    for text in [
        "keep table t\n",
        "include view v\n",
        "include table_data app.t1\n",
        "exclude function f\n",
        "\n\ninclude table \"open\n",
        "exclude table\n",
    ] {
        let file = dir.join("bad");
        std::fs::write(&file, text).unwrap();
        let file = file.to_str().unwrap();
        let mut cmd = c.server.command("pg_dump");
        cmd.args(["--filter", file, "-d", "db1"]);
        let out = run(&mut cmd, None);
        let theirs = String::from_utf8_lossy(&out.stderr);
        let theirs = theirs
            .lines()
            .next()
            .and_then(|l| l.split_once("error: "))
            .map(|(_, m)| m.to_string())
            .unwrap_or_default();
        let (code, _, ours) = run_tool("pgpipe-filter", &["--filter", file], Some(&c.full));
        let ours = ours
            .lines()
            .next()
            .and_then(|l| l.split_once("error: "))
            .map(|(_, m)| m.to_string())
            .unwrap_or_default();
        if out.status.success() || code != 2 || ours != theirs {
            failures.push(format!(
                "{text:?}: pg_dump says {theirs:?}, pgpipe-filter (exit {code}) {ours:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a stream cannot say is refused, not approximated.
#[test]
fn what_a_dump_does_not_hold_is_refused() {
    let c = fixture_corpus();
    let dir = c.server.new_dir("refused");
    let file = dir.join("foreign");
    std::fs::write(&file, "include foreign_data srv1\n").unwrap();
    let (code, _, err) = run_tool(
        "pgpipe-filter",
        &["--filter", file.to_str().unwrap()],
        Some(&c.full),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be honoured from a dump"), "{err}");
    // A data-only dump does not say which tables are unlogged.
    let data_only = c.pg_dump(&["-a"]).unwrap();
    let (code, _, err) = run_tool(
        "pgpipe-filter",
        &["--no-unlogged-table-data"],
        Some(&data_only),
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("whether it is unlogged is not in the dump"),
        "{err}"
    );
    // pg_dump's conflicts, in its words.
    let (code, _, err) = run_tool("pgpipe-filter", &["-s", "--statistics-only"], Some(&c.full));
    assert_eq!(code, 2);
    assert!(
        err.contains("options -s/--schema-only and --statistics-only cannot be used together"),
        "{err}"
    );
    let (code, _, err) = run_tool("pgpipe-filter", &["-n", "db1.app"], Some(&c.full));
    assert_eq!(code, 2);
    assert!(
        err.contains("cross-database references are not implemented: db1.app"),
        "{err}"
    );
}

/// The Synapse-shaped database with what the fixture lacks: an unlogged
/// table, a policy with row security, a changed comment on schema public,
/// large objects (PGPIPE_ORACLE_FULL=1).
#[test]
fn every_switch_on_a_synapse_shaped_database() {
    if !full() {
        eprintln!("every_switch_on_a_synapse_shaped_database: not run; set PGPIPE_ORACLE_FULL=1");
        return;
    }
    let fx = fixture(Version::V18);
    let db = fx.server.create_db("switches_synapse");
    let mut script = fixture_file("synapse_shape.sql");
    script.extend_from_slice(
        b"COMMENT ON SCHEMA public IS 'Synapse tables';
CREATE UNLOGGED TABLE public.ulog (id serial PRIMARY KEY, a int);
INSERT INTO public.ulog (a) VALUES (1), (2);
CREATE POLICY own_rooms ON public.rooms USING (creator = current_user);
ALTER TABLE public.rooms ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.rooms ALTER COLUMN creator SET COMPRESSION pglz;
SELECT lo_from_bytea(0, 'media blob');
ANALYZE;
",
    );
    let (code, _, err) = fx
        .server
        .psql_status(&db, &script, &["-q", "-v", "ON_ERROR_STOP=1"]);
    assert_eq!(code, 0, "{err}");
    let mut c = Corpus {
        label: "synapse 18".into(),
        server: &fx.server,
        db,
        client: Version::V18,
        full: Vec::new(),
        target: &fx.server,
    };
    c.full = c.pg_dump(&["--statistics"]).unwrap();
    let mut cases = with_plain_switches(vec![
        vec!["-t", "public.events"],
        vec!["-t", "public.state_groups_state"],
        vec!["--table-and-children", "public.state_groups_state"],
        vec!["--exclude-table-and-children", "public.state_groups_state"],
        vec!["--exclude-table-data", "public.event_json"],
        vec![
            "--exclude-table-data-and-children",
            "public.state_groups_state",
        ],
        vec!["-T", "public.events"],
        vec!["-n", "public"],
        vec!["-N", "media"],
        vec!["-b", "-n", "media"],
    ]);
    cases.extend([
        vec!["-t", "public.rooms", "--no-policies"],
        vec!["-n", "public", "--no-unlogged-table-data"],
    ]);
    let failures = run_cases(&c, &cases, true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The regression database dumped by pg_dump 15 and by 18 with
/// --statistics: every switch, entries and restores (into the 15 server
/// that holds it) against pg_dump's (PGPIPE_ORACLE_FULL=1).
#[test]
fn every_switch_on_the_regression_database() {
    if !full() {
        eprintln!("every_switch_on_the_regression_database: not run; set PGPIPE_ORACLE_FULL=1");
        return;
    }
    let r = support::regression::regression();
    let server = Server::start(Version::V15);
    let globals = r.client_dump(Version::V15, "globals");
    let _ = server.psql_status("postgres", globals, &["-q"]);
    server.psql("postgres", "CREATE DATABASE regression TEMPLATE template0");
    let errors = restore_located(&server, "regression", r.client_dump(Version::V15, "plain"));
    assert!(errors.is_empty(), "{errors:?}");
    server.psql("regression", "ANALYZE");
    let mut cases = with_plain_switches(vec![
        vec!["-t", "public.tenk1"],
        vec!["-n", "public"],
        vec!["-N", "public"],
        vec!["-T", "public.tenk1"],
        vec!["--table-and-children", "public.a"],
        vec!["--exclude-table-and-children", "public.a"],
        vec!["--exclude-table-data", "public.tenk1"],
        vec!["--exclude-table-data-and-children", "public.a"],
    ]);
    cases.push(vec!["-n", "public", "--statistics-only"]);
    let mut failures = Vec::new();
    for client in [Version::V15, Version::V18] {
        let mut c = Corpus {
            label: format!("regression, pg_dump {}", client.major()),
            server: &server,
            db: "regression".into(),
            client,
            full: Vec::new(),
            target: &server,
        };
        let mut args = Vec::new();
        if c.with_statistics() {
            args.push("--statistics");
        }
        c.full = c.pg_dump(&args).unwrap();
        let cases: Vec<Vec<&str>> = cases
            .iter()
            .filter(|s| {
                c.with_statistics()
                    || !s.iter().any(|a| {
                        matches!(
                            *a,
                            "--no-statistics"
                                | "--statistics-only"
                                | "--no-data"
                                | "--no-schema"
                                | "--no-policies"
                                | "--table-and-children"
                                | "--exclude-table-and-children"
                                | "--exclude-table-data-and-children"
                                | "--no-table-access-method"
                                | "--no-toast-compression"
                        )
                    })
            })
            .cloned()
            .collect();
        failures.extend(run_cases(&c, &cases, true));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The same switches on the custom archive (read as pgpipe-sql prints it)
/// and on pg_dumpall output, where they apply to each database's section:
/// db1's section keeps what `pg_dump -C` with the switch keeps.
#[test]
fn switches_on_archives_and_pg_dumpall() {
    let c = fixture_corpus();
    let archive = c.server.pg_dump(&c.db, &["--statistics", "-Fc"]);
    let mut failures = Vec::new();
    for switches in [
        &["-t", "app.t1"][..],
        &["--table-and-children", "app.part"][..],
        &["--statistics-only"][..],
        &["--exclude-table-data", "app.t1", "--no-policies"][..],
    ] {
        let from_archive = run_tool_ok("pgpipe-filter", switches, Some(&archive)).unwrap();
        let from_plain = run_tool_ok("pgpipe-filter", switches, Some(&c.full)).unwrap();
        if headers(&from_archive) != headers(&from_plain) {
            let (a, b) = multiset_difference(&headers(&from_plain), &headers(&from_archive));
            failures.push(format!(
                "archive {switches:?}: only from the plain dump {a:?}, only from the archive {b:?}"
            ));
        }
    }
    // pg_dumpall on a cluster of its own: other tests create and drop
    // databases on the shared fixture server while it runs.
    let own = private_fixture(Version::V18);
    own.psql("db1", "ANALYZE");
    let c = Corpus {
        label: "fixture 18, own cluster".into(),
        server: &own,
        target: &own,
        ..c
    };
    let dumpall = c.server.pg_dumpall(
        &c.client
            .restrict_key_args()
            .iter()
            .map(String::as_str)
            .chain(["--statistics"])
            .collect::<Vec<_>>(),
    );
    for switches in [
        &["--table-and-children", "app.part"][..],
        &["-n", "app", "--no-data"][..],
        &["--no-statistics", "-B"][..],
    ] {
        let mut args = vec!["--database", "db1", "--no-globals"];
        args.extend_from_slice(switches);
        let got = run_tool_ok("pgpipe-filter", &args, Some(&dumpall)).unwrap();
        let mut pg_args = vec!["-C"];
        if !switches.contains(&"--no-statistics") {
            pg_args.push("--statistics");
        }
        pg_args.extend_from_slice(switches);
        let want = c.pg_dump(&pg_args).unwrap();
        let (a, b) = multiset_difference(&headers(&want), &headers(&got));
        if !a.is_empty() || !b.is_empty() {
            failures.push(format!(
                "pg_dumpall --database db1 {switches:?}: only pg_dump -C's {a:?}, only the filter's {b:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
