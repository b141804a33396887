//! pgpipe-filter against real PostgreSQL 15 and 18: identity without
//! options; every selection option on a Synapse-shaped database and on the
//! fixture database, restored with `ON_ERROR_STOP=1 --single-transaction`
//! into a fresh database and checked in the catalogs (relations, constraints,
//! triggers, comments, grants, defaults, partitions) and by per-table row
//! digests; foreign keys to an excluded table and their warnings; extracting
//! each database of a pg_dumpall into a fresh cluster; replaying roles into a
//! cluster that has them; `--clean` twice; `--target-version 15` for the 17
//! and 18 dumps; usage and pattern errors; truncated input.

use crate::support;
use std::sync::LazyLock;
use support::first_difference;

use std::process::Command;
use std::sync::OnceLock;

use support::{
    LANGUAGE_FIXUP, RESTRICT_KEY, Server, Version, exit_code, fixture, fixture_file, pg17_plain,
    run,
};

static FILTER: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-filter"));

/// The md5 of no rows at all, as [`Server::table_digest`] prints it.
const EMPTY_DIGEST: &str = "0 d41d8cd98f00b204e9800998ecf8427e";

// -- running the tool ---------------------------------------------------------

/// Run pgpipe-filter with `args` on `input`: (exit code, stdout, stderr).
fn filter(args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let mut cmd = Command::new(*FILTER);
    cmd.args(args).arg("--no-progress");
    let out = run(&mut cmd, Some(input));
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run pgpipe-filter, which must succeed; (stdout, stderr).
fn filter_ok(args: &[&str], input: &[u8]) -> (Vec<u8>, String) {
    let (code, out, err) = filter(args, input);
    assert_eq!(code, 0, "pgpipe-filter {args:?} exited {code}:\n{err}");
    (out, err)
}

/// Every line of `output` is a line of `input`, in the same order: the tool
/// removed statements and changed no byte of what it kept.
fn assert_kept_lines(input: &[u8], output: &[u8], what: &str) {
    let mut lines = input.split_inclusive(|&b| b == b'\n');
    for (i, line) in output.split_inclusive(|&b| b == b'\n').enumerate() {
        assert!(
            lines.any(|l| l == line),
            "{what}: output line {} is not the next kept input line: {:?}",
            i + 1,
            String::from_utf8_lossy(line)
        );
    }
}

/// The 1-based number of the line `first` that is followed by a line
/// containing `next` (a two-line statement of pg_dump's).
fn statement_line(dump: &[u8], first: &str, next: &str) -> usize {
    let text = String::from_utf8_lossy(dump);
    let lines: Vec<&str> = text.lines().collect();
    let found: Vec<usize> = (0..lines.len().saturating_sub(1))
        .filter(|&i| lines[i] == first && lines[i + 1].contains(next))
        .collect();
    assert_eq!(found.len(), 1, "{first:?} then {next:?}: {found:?}");
    found[0] + 1
}

/// The lines of `stderr` that report a removed foreign key.
fn fk_warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("removed foreign key"))
        .map(str::to_owned)
        .collect()
}

// -- restoring ----------------------------------------------------------------

/// Restore `dump` into `db` with `psql -X -q -v ON_ERROR_STOP=1
/// --single-transaction -f -`; panics with `what`, psql's stderr and the
/// failing statement's lines on failure.
fn restore(server: &Server, db: &str, dump: &[u8], what: &str) {
    psql_script(server, db, dump, &["--single-transaction"], what);
}

/// Replay a pg_dumpall script (or part of one) connected to `postgres`, with
/// ON_ERROR_STOP but not as one transaction (CREATE DATABASE cannot be).
fn replay(server: &Server, script: &[u8], what: &str) {
    psql_script(server, "postgres", script, &[], what);
}

fn psql_script(server: &Server, db: &str, script: &[u8], extra: &[&str], what: &str) {
    let mut args = vec!["-q", "-v", "ON_ERROR_STOP=1", "-f", "-"];
    args.extend_from_slice(extra);
    let (code, _, stderr) = server.psql_status(db, script, &args);
    if code != 0 {
        panic!(
            "{what}: psql into PostgreSQL {} database {db:?} exited {code}:\n{stderr}{}",
            server.version().major(),
            failing_statement(script, &stderr)
        );
    }
}

/// The input lines psql's first error points at (`psql:<stdin>:N: ERROR:`),
/// the few lines before included.
fn failing_statement(script: &[u8], stderr: &str) -> String {
    let Some(n) = stderr.lines().find_map(|l| {
        let rest = l.strip_prefix("psql:<stdin>:")?;
        let (n, tail) = rest.split_once(':')?;
        tail.trim_start()
            .starts_with("ERROR")
            .then(|| n.parse::<usize>().ok())?
    }) else {
        return String::new();
    };
    let lines: Vec<&[u8]> = script.split(|&b| b == b'\n').collect();
    let mut out = format!("input lines {}..={n}:\n", n.saturating_sub(4).max(1));
    for line in &lines[n.saturating_sub(5)..n.min(lines.len())] {
        out.push_str("  | ");
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out
}

/// Drop a database a dump was restored into. The fixture's subscription
/// (created without a slot) keeps DROP DATABASE away: drop it first.
fn drop_restored(server: &Server, db: &str) {
    server.psql(
        db,
        "DO $$DECLARE s text; BEGIN
           FOR s IN SELECT quote_ident(subname) FROM pg_subscription
                    WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           LOOP
             EXECUTE 'ALTER SUBSCRIPTION ' || s || ' DISABLE';
             EXECUTE 'ALTER SUBSCRIPTION ' || s || ' SET (slot_name = NONE)';
             EXECUTE 'DROP SUBSCRIPTION ' || s;
           END LOOP;
         END$$;",
    );
    server.drop_db(db);
}

/// Replay an unfiltered `pg_dumpall --globals-only` into a fresh cluster:
/// the only error allowed is the bootstrap superuser's CREATE ROLE.
fn replay_globals(server: &Server, globals: &[u8]) {
    let (code, _, stderr) = server.psql_status("postgres", globals, &["-q"]);
    assert_eq!(code, 0, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ERROR:")).collect();
    assert_eq!(
        errors,
        ["ERROR:  role \"postgres\" already exists"],
        "{stderr}"
    );
}

// -- catalog facts --------------------------------------------------------------

/// One catalog fact about a database: the relation (or schema) it belongs
/// to, the relation it references (foreign keys; empty otherwise), and its
/// text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Fact {
    owner: String,
    refs: String,
    text: String,
}

/// Facts about the relations and schemas users created. Indexes and owned
/// sequences (serial, identity) belong to their table; everything else to
/// the relation it is on.
const FACTS: &str = r#"
WITH rel AS (
  SELECT c.oid, c.relkind, c.relacl, c.relowner, format('%I.%I', n.nspname, c.relname) AS name,
    coalesce(
      (SELECT format('%I.%I', tn.nspname, t.relname)
         FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
         JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')),
      (SELECT format('%I.%I', tn.nspname, t.relname)
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE i.indexrelid = c.oid),
      format('%I.%I', n.nspname, c.relname)) AS owner
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp)'
)
SELECT r.owner || '||relation ' || r.relkind::text || ' ' || r.name || ' owner ' || quote_ident(pg_get_userbyid(r.relowner))
  || CASE WHEN r.relkind IN ('v', 'm') THEN ' as ' || regexp_replace(pg_get_viewdef(r.oid), '\s+', ' ', 'g') ELSE '' END
  FROM rel r
UNION ALL
SELECT r.owner || '|' || coalesce(f.name, '') || '|constraint ' || con.conname || ' on ' || r.name || ' '
  || pg_get_constraintdef(con.oid) || CASE WHEN con.convalidated THEN '' ELSE ' (not validated)' END
  FROM pg_constraint con JOIN rel r ON r.oid = con.conrelid LEFT JOIN rel f ON f.oid = con.confrelid
UNION ALL
SELECT r.owner || '||trigger ' || t.tgname || ' on ' || r.name || ' ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
UNION ALL
SELECT r.owner || '||comment on ' || r.name || ' column ' || d.objsubid || ': ' || d.description
  FROM pg_description d JOIN rel r ON r.oid = d.objoid WHERE d.classoid = 'pg_class'::regclass
UNION ALL
SELECT r.owner || '||acl on ' || r.name || ': ' || r.relacl::text FROM rel r WHERE r.relacl IS NOT NULL
UNION ALL
SELECT r.owner || '||acl on ' || r.name || '.' || quote_ident(a.attname) || ': ' || a.attacl::text
  FROM pg_attribute a JOIN rel r ON r.oid = a.attrelid WHERE a.attacl IS NOT NULL
UNION ALL
SELECT r.owner || '||default of ' || r.name || '.' || quote_ident(a.attname) || ': ' || pg_get_expr(ad.adbin, ad.adrelid)
  FROM pg_attrdef ad JOIN rel r ON r.oid = ad.adrelid
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
UNION ALL
SELECT r.owner || '||identity of ' || r.name || '.' || quote_ident(a.attname) || ': ' || a.attidentity::text
  FROM pg_attribute a JOIN rel r ON r.oid = a.attrelid WHERE a.attidentity <> ''
UNION ALL
SELECT r.owner || '||' || r.name || ' inherits from ' || p.name
  FROM pg_inherits i JOIN rel r ON r.oid = i.inhrelid JOIN rel p ON p.oid = i.inhparent
UNION ALL
SELECT n.nspname || '||schema ' || quote_ident(n.nspname) || ' owner ' || quote_ident(pg_get_userbyid(n.nspowner))
  || coalesce(' acl ' || n.nspacl::text, '') || coalesce(' comment ' || obj_description(n.oid, 'pg_namespace'), '')
  FROM pg_namespace n WHERE n.nspname NOT IN ('information_schema') AND n.nspname !~ '^pg_'
"#;

fn facts(server: &Server, db: &str) -> Vec<Fact> {
    let mut facts: Vec<Fact> = server
        .lines(db, FACTS)
        .into_iter()
        .map(|line| {
            let mut parts = line.splitn(3, '|');
            let owner = parts.next().unwrap_or_default().to_owned();
            let refs = parts.next().unwrap_or_default().to_owned();
            let text = parts
                .next()
                .unwrap_or_else(|| panic!("bad fact line {line:?}"))
                .to_owned();
            Fact { owner, refs, text }
        })
        .collect();
    facts.sort();
    facts
}

/// The names of the relations of `kind` (`r` tables, `S` sequences) among `facts`.
fn relations_of(facts: &[Fact], kind: char) -> Vec<String> {
    let prefix = format!("relation {kind} ");
    facts
        .iter()
        .filter_map(|f| f.text.strip_prefix(&prefix))
        .map(|rest| rest.split(" owner ").next().unwrap().to_owned())
        .collect()
}

/// Per-table row digests (the formula of [`Server::table_digest`]) and
/// sequence states, one line each, from one psql call:
/// `rows of public.events: 3000 <md5>`, `sequence public.s: 1234 t`.
fn data(server: &Server, db: &str, facts: &[Fact]) -> Vec<String> {
    let mut sql = String::from(
        "SET timezone = 'UTC'; SET datestyle = 'ISO, YMD'; SET bytea_output = 'hex';\n",
    );
    for t in relations_of(facts, 'r') {
        sql.push_str(&format!(
            "SELECT 'rows of ' || {lit} || ': ' || count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' \
             ORDER BY t::text COLLATE \"C\"), '')) FROM {t} t;\n",
            lit = sql_literal(&t)
        ));
    }
    for s in relations_of(facts, 'S') {
        sql.push_str(&format!(
            "SELECT 'sequence ' || {lit} || ': ' || last_value || ' ' || CASE WHEN is_called THEN 't' ELSE 'f' END FROM {s};\n",
            lit = sql_literal(&s)
        ));
    }
    server.lines(db, &sql)
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Facts and data of one database.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Snapshot {
    facts: Vec<Fact>,
    data: Vec<String>,
}

fn snapshot(server: &Server, db: &str) -> Snapshot {
    let facts = facts(server, db);
    let data = data(server, db, &facts);
    Snapshot { facts, data }
}

/// Assert two fact lists are equal, printing what differs.
fn assert_facts_eq(got: &[Fact], want: &[Fact], what: &str) {
    if got != want {
        let missing: Vec<&Fact> = want.iter().filter(|f| !got.contains(f)).collect();
        let extra: Vec<&Fact> = got.iter().filter(|f| !want.contains(f)).collect();
        panic!("{what}: catalogs differ\nmissing: {missing:#?}\nunexpected: {extra:#?}");
    }
}

fn assert_data_eq(got: &[String], want: &[String], what: &str) {
    if got != want {
        let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).collect();
        let extra: Vec<&String> = got.iter().filter(|l| !want.contains(l)).collect();
        panic!("{what}: data differ\nmissing: {missing:#?}\nunexpected: {extra:#?}");
    }
}

// -- the Synapse-shaped database ------------------------------------------------

/// The Synapse-shaped database on the shared server of one version, its
/// dumps by that version's pg_dump, and its snapshot.
struct Synapse {
    /// (name, dump): `plain` and `inserts`.
    dumps: Vec<(&'static str, Vec<u8>)>,
    snapshot: Snapshot,
}

impl Synapse {
    fn dump(&self, name: &str) -> &[u8] {
        &self.dumps.iter().find(|(n, _)| *n == name).unwrap().1
    }
}

fn synapse(v: Version) -> &'static Synapse {
    static SYNAPSE: [OnceLock<Synapse>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = &SYNAPSE[usize::from(v == Version::V18)];
    slot.get_or_init(|| {
        let server = Server::shared(v);
        let db = server.create_db("synapse_src");
        load_synapse(server, &db);
        let key = format!("--restrict-key={RESTRICT_KEY}");
        let dumps = vec![
            ("plain", server.pg_dump(&db, &[&key])),
            ("inserts", server.pg_dump(&db, &[&key, "--inserts"])),
        ];
        let snapshot = snapshot(server, &db);
        Synapse { dumps, snapshot }
    })
}

fn load_synapse(server: &Server, db: &str) {
    let (code, _, stderr) = server.psql_status(
        db,
        &fixture_file("synapse_shape.sql"),
        &["-q", "-v", "ON_ERROR_STOP=1"],
    );
    assert_eq!(code, 0, "synapse_shape.sql failed in {db:?}:\n{stderr}");
}

/// The relations of the Synapse-shaped database, to check that the fixture
/// has what the cases below rely on.
const SYNAPSE_TABLES: &[&str] = &[
    "media.local_media_repository",
    "media.local_media_thumbnails",
    "public.access_tokens",
    "public.device_lists_stream",
    "public.event_json",
    "public.events",
    "public.room_memberships",
    "public.rooms",
    "public.state_groups_state_p0",
    "public.state_groups_state_p1",
    "public.users",
];

/// One selection case: the options, and what the restore must contain.
struct Case {
    args: &'static [&'static str],
    /// Whether facts belonging to this relation or schema (`public.events`,
    /// `media`) are kept; a foreign key is kept when both its table and the
    /// table it references are.
    keep: fn(&str) -> bool,
    /// Tables whose rows are not restored.
    no_rows: fn(&str) -> bool,
    /// Sequences are at their start (no setval restored).
    sequences_reset: bool,
    /// The foreign keys the warnings must name, exactly:
    /// (constraint, on table, referenced table); None: not checked.
    fk_warnings: Option<&'static [(&'static str, &'static str, &'static str)]>,
    /// Other warnings: each must appear in some line of stderr.
    other_warnings: &'static [&'static str],
}

fn in_media(r: &str) -> bool {
    r == "media" || r.starts_with("media.")
}

const SELECTION_CASES: &[Case] = &[
    // Patterns with a wildcard; event* also matches the free sequence.
    Case {
        args: &["-t", "event*", "-t", "rooms"],
        keep: |r| {
            matches!(
                r,
                "public"
                    | "public.events"
                    | "public.event_json"
                    | "public.event_auth_chain_id"
                    | "public.rooms"
            )
        },
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
    // One table: its key to rooms, which is not restored, must go.
    Case {
        args: &["-t", "public.events"],
        keep: |r| matches!(r, "public" | "public.events"),
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: None,
        other_warnings: &[],
    },
    // The big table: the keys of event_json and room_memberships to it go,
    // and so does the view that reads it.
    Case {
        args: &["-T", "events"],
        keep: |r| !matches!(r, "public.events" | "public.room_event_counts"),
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[
            (
                "event_json_event_id_fkey",
                "public.event_json",
                "public.events",
            ),
            (
                "room_memberships_event_id_fkey",
                "public.room_memberships",
                "public.events",
            ),
        ]),
        other_warnings: &["public.room_event_counts"],
    },
    // A serial and an identity column: their sequences and setval go.
    Case {
        args: &["-T", "access_tokens", "-T", "public.device_lists_stream"],
        keep: |r| !matches!(r, "public.access_tokens" | "public.device_lists_stream"),
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
    Case {
        args: &["-n", "media"],
        keep: |r| r == "public" || in_media(r),
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
    Case {
        args: &["-N", "media"],
        keep: |r| !in_media(r),
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
    Case {
        args: &["--exclude-table-data", "events"],
        keep: |_| true,
        no_rows: |t| t == "public.events",
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
    Case {
        args: &["--schema-only"],
        keep: |_| true,
        no_rows: |_| true,
        sequences_reset: true,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
];

/// `-T rooms`: two tables reference rooms.
const EXCLUDE_REFERENCED: Case = Case {
    args: &["-T", "rooms"],
    keep: |r| r != "public.rooms",
    no_rows: |_| false,
    sequences_reset: false,
    fk_warnings: Some(&[
        ("events_room_id_fkey", "public.events", "public.rooms"),
        (
            "room_memberships_room_id_fkey",
            "public.room_memberships",
            "public.rooms",
        ),
    ]),
    other_warnings: &[],
};

/// What a restore of `source` filtered by `case` must contain.
fn expected(source: &Snapshot, case: &Case) -> Snapshot {
    let facts: Vec<Fact> = source
        .facts
        .iter()
        .filter(|f| (case.keep)(&f.owner) && (f.refs.is_empty() || (case.keep)(&f.refs)))
        .cloned()
        .collect();
    let tables = relations_of(&facts, 'r');
    let sequences = relations_of(&facts, 'S');
    let mut data: Vec<String> = source
        .data
        .iter()
        .filter_map(|line| {
            if let Some(rest) = line.strip_prefix("rows of ") {
                let name = rest.split(": ").next().unwrap();
                if !tables.iter().any(|t| t == name) {
                    return None;
                }
                if (case.no_rows)(name) {
                    return Some(format!("rows of {name}: {EMPTY_DIGEST}"));
                }
            } else if let Some(rest) = line.strip_prefix("sequence ") {
                let name = rest.split(": ").next().unwrap();
                if !sequences.iter().any(|s| s == name) {
                    return None;
                }
                if case.sequences_reset {
                    return Some(format!("sequence {name}: 1 f"));
                }
            }
            Some(line.clone())
        })
        .collect();
    data.sort();
    Snapshot { facts, data }
}

/// Filter the Synapse dump `dump_name` of version `v` with `case`, restore
/// it into a fresh database, compare with what `case` expects.
fn run_case(v: Version, dump_name: &str, case: &Case) {
    let syn = synapse(v);
    let server = Server::shared(v);
    let dump = syn.dump(dump_name);
    let what = format!("{dump_name} dump | pgpipe-filter {:?} on {v:?}", case.args);
    let (out, stderr) = filter_ok(case.args, dump);
    assert_kept_lines(dump, &out, &what);

    let db = server.create_db("filter_sel");
    restore(server, &db, &out, &what);
    let got = snapshot(server, &db);
    let want = expected(&syn.snapshot, case);
    assert_facts_eq(&got.facts, &want.facts, &what);
    assert_data_eq(&got.data, &want.data, &what);

    if let Some(fks) = case.fk_warnings {
        let mut want: Vec<String> = fks
            .iter()
            .map(|(con, on, refs)| {
                let line = statement_line(
                    dump,
                    &format!("ALTER TABLE ONLY {on}"),
                    &format!("ADD CONSTRAINT {con} FOREIGN KEY"),
                );
                // Every case with keys removed excludes the referenced
                // table with -T, which is the reason the warning gives.
                format!(
                    "pgpipe-filter: warning: line {line}: removed foreign key {con} on {on}: \
                     it references excluded table {refs} (table excluded (-T))"
                )
            })
            .collect();
        want.sort();
        let mut got = fk_warnings(&stderr);
        got.sort();
        assert_eq!(got, want, "{what}: foreign-key warnings; stderr:\n{stderr}");
    }
    for w in case.other_warnings {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("pgpipe-filter: warning: ") && l.contains(w)),
            "{what}: no warning naming {w}; stderr:\n{stderr}"
        );
    }
    server.drop_db(&db);
}

/// `--data-only` restored into a database that has the `--schema-only`
/// output: the same as the source.
fn run_data_only(v: Version, dump_name: &str) {
    let syn = synapse(v);
    let server = Server::shared(v);
    let dump = syn.dump(dump_name);
    let what = format!("{dump_name} dump, --schema-only then --data-only, on {v:?}");
    let (schema, _) = filter_ok(&["--schema-only"], dump);
    let (data, _) = filter_ok(&["--data-only"], dump);
    assert_kept_lines(dump, &data, &what);
    assert!(
        !String::from_utf8_lossy(&data)
            .lines()
            .any(|l| l == "CREATE TABLE public.events ("),
        "{what}: --data-only kept a CREATE TABLE"
    );
    let db = server.create_db("filter_data");
    restore(server, &db, &schema, &format!("{what} (schema)"));
    // pg_dump orders table data by name, not by foreign key (access_tokens
    // before users): load it the way pg_restore --disable-triggers does.
    let mut script = b"SET session_replication_role = replica;\n".to_vec();
    script.extend_from_slice(&data);
    restore(server, &db, &script, &what);
    let got = snapshot(server, &db);
    assert_facts_eq(&got.facts, &syn.snapshot.facts, &what);
    assert_data_eq(&got.data, &syn.snapshot.data, &what);
    server.drop_db(&db);
}

fn selection(v: Version) {
    let syn = synapse(v);
    let tables = relations_of(&syn.snapshot.facts, 'r');
    assert_eq!(tables, SYNAPSE_TABLES, "the Synapse-shaped fixture changed");
    assert!(
        syn.snapshot
            .data
            .iter()
            .any(|l| l.starts_with("rows of public.events: 3000 ")),
        "{:?}",
        syn.snapshot.data
    );
    assert_eq!(relations_of(&syn.snapshot.facts, 'S').len(), 3);
    // The data that looks like dump structure is in both dumps.
    let plain = String::from_utf8_lossy(syn.dump("plain"));
    assert!(plain.contains("\t\\\\connect db1\t"));
    let inserts = String::from_utf8_lossy(syn.dump("inserts"));
    assert!(
        inserts.contains("\n\\connect db1\nCREATE TABLE evil (x int);\n\\.\nCOPY public.rooms")
    );

    let mut failures = Failures::default();
    for dump_name in ["plain", "inserts"] {
        for case in SELECTION_CASES {
            failures.run(|| run_case(v, dump_name, case));
        }
        failures.run(|| run_data_only(v, dump_name));
    }
    failures.check();
}

/// Failures of independent checks, reported together at the end so that
/// one failure does not hide the others.
#[derive(Default)]
struct Failures {
    runs: usize,
    messages: Vec<String>,
}

impl Failures {
    /// Run `f`; remember its panic message if it panics.
    fn run(&mut self, f: impl FnOnce()) {
        self.runs += 1;
        if let Err(e) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            self.messages.push(
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(no message)".into()),
            );
        }
    }

    /// Panic with every failure, if any.
    fn check(self) {
        assert!(
            self.messages.is_empty(),
            "{} of {} checks failed:\n\n{}",
            self.messages.len(),
            self.runs,
            self.messages.join("\n\n")
        );
    }
}

#[test]
fn selection_on_synapse_shape_15() {
    selection(Version::V15);
}

#[test]
fn selection_on_synapse_shape_18() {
    selection(Version::V18);
}

fn exclude_referenced(v: Version) {
    let mut failures = Failures::default();
    for dump_name in ["plain", "inserts"] {
        failures.run(|| run_case(v, dump_name, &EXCLUDE_REFERENCED));
    }
    failures.check();
}

#[test]
fn excluding_a_referenced_table_removes_and_names_its_foreign_keys_15() {
    exclude_referenced(Version::V15);
}

#[test]
fn excluding_a_referenced_table_removes_and_names_its_foreign_keys_18() {
    exclude_referenced(Version::V18);
}

// -- the fixture database ---------------------------------------------------------

/// `-T app.t1` on the fixture: its views (and the rule on one), policies,
/// trigger, statistics object, publication membership, column grants,
/// sequence and rows all go; the rest restores as it was.
fn fixture_exclude_table(v: Version) {
    let fx = fixture(v);
    let source = snapshot(&fx.server, "db1");
    let case = Case {
        args: &["-T", "app.t1"],
        keep: |r| !matches!(r, "app.t1" | "app.v1" | "app.mv1"),
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &["app.v1", "app.mv1"],
    };
    let want = expected(&source, &case);
    let mut failures = Failures::default();
    for dump_name in ["plain", "column-inserts"] {
        failures.run(|| {
            let dump = fx.dump(dump_name);
            let what = format!("fixture {dump_name} dump | pgpipe-filter -T app.t1 on {v:?}");
            let (out, stderr) = filter_ok(case.args, dump);
            assert_kept_lines(dump, &out, &what);
            let db = fx.server.create_db("filter_fx");
            restore(&fx.server, &db, &out, &what);
            let got = snapshot(&fx.server, &db);
            assert_facts_eq(&got.facts, &want.facts, &what);
            assert_data_eq(&got.data, &want.data, &what);
            assert_eq!(fx.server.policy_roles(&db), Vec::<String>::new(), "{what}");
            assert_eq!(
                fx.server.lines(
                    &db,
                    "SELECT 'publication tables ' || count(*) FROM pg_publication_rel \
                 UNION ALL SELECT 'statistics objects ' || count(*) FROM pg_statistic_ext"
                ),
                ["publication tables 0", "statistics objects 0"],
                "{what}"
            );
            // What does not belong to t1 keeps its owner.
            let owners: Vec<String> = fx
                .server
                .owners("db1")
                .into_iter()
                .filter(|l| {
                    !["app.t1", "app.v1", "app.mv1", "app.st1"]
                        .iter()
                        .any(|n| l.contains(&format!(" {n}:")) || l.contains(&format!(" {n}_")))
                })
                .collect();
            assert_eq!(fx.server.owners(&db), owners, "{what}");
            for w in case.other_warnings {
                assert!(
                    stderr
                        .lines()
                        .any(|l| l.contains("warning") && l.contains(w)),
                    "{what}: no warning naming {w}:\n{stderr}"
                );
            }
            drop_restored(&fx.server, &db);
        });
    }
    for case in QUOTED_CASES {
        failures.run(|| fixture_case(v, &source, case));
    }
    failures.check();
}

/// Patterns with double quotes (exact case, a space) on the fixture.
const QUOTED_CASES: &[Case] = &[
    Case {
        args: &["-T", "\"Weird Schema\".\"My Table\""],
        keep: |r| r != "\"Weird Schema\".\"My Table\"",
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
    Case {
        args: &["-n", "\"Weird Schema\""],
        keep: |r| r == "public" || r == "Weird Schema" || r.starts_with("\"Weird Schema\"."),
        no_rows: |_| false,
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
    Case {
        args: &["--exclude-table-data", "\"Weird Schema\".*"],
        keep: |_| true,
        no_rows: |t| t.starts_with("\"Weird Schema\"."),
        sequences_reset: false,
        fk_warnings: Some(&[]),
        other_warnings: &[],
    },
];

/// The fixture's plain dump filtered by `case`, restored into a fresh
/// database of the fixture cluster, compared with what `case` expects.
fn fixture_case(v: Version, source: &Snapshot, case: &Case) {
    let fx = fixture(v);
    let dump = fx.dump("plain");
    let what = format!(
        "fixture plain dump | pgpipe-filter {:?} on {v:?}",
        case.args
    );
    let (out, stderr) = filter_ok(case.args, dump);
    assert_kept_lines(dump, &out, &what);
    assert!(
        !stderr.contains("matches nothing") && !stderr.contains("matched nothing"),
        "{what}: {stderr}"
    );
    let db = fx.server.create_db("filter_fxq");
    restore(&fx.server, &db, &out, &what);
    let got = snapshot(&fx.server, &db);
    let want = expected(source, case);
    assert_facts_eq(&got.facts, &want.facts, &what);
    assert_data_eq(&got.data, &want.data, &what);
    drop_restored(&fx.server, &db);
}

#[test]
fn exclude_table_on_fixture_15() {
    fixture_exclude_table(Version::V15);
}

#[test]
fn exclude_table_on_fixture_18() {
    fixture_exclude_table(Version::V18);
}

// -- identity -----------------------------------------------------------------

#[test]
fn no_options_is_byte_identity() {
    for v in Version::ALL {
        let fx = fixture(v);
        for name in [
            "plain",
            "inserts",
            "column-inserts",
            "session-auth",
            "dumpall",
            "globals",
            "clean",
            "create",
        ] {
            let dump = fx.dump(name);
            let (out, err) = filter_ok(&[], dump);
            assert!(
                out == dump,
                "{name} on {v:?} changed: {}",
                first_difference(&out, dump)
            );
            assert_eq!(err, "", "{name} on {v:?}");
        }
        let syn = synapse(v);
        for (name, dump) in &syn.dumps {
            let (out, _) = filter_ok(&[], dump);
            assert!(out == *dump, "synapse {name} on {v:?} changed");
        }
    }
    let pg17 = pg17_plain();
    let (out, _) = filter_ok(&[], &pg17);
    assert!(
        out == pg17,
        "pg17 plain changed: {}",
        first_difference(&out, &pg17)
    );
}

// -- pg_dumpall -------------------------------------------------------------------

/// A cluster with changes in template1 and postgres, databases
/// `weird db "x"` (the Synapse-shaped schema) and `db1` (rows that look like
/// pg_dumpall's structure), and roles; its pg_dumpall dumps.
struct DumpallSource {
    server: Server,
    /// (name, dump): `plain` (COPY) and `inserts` (pg_dumpall --inserts:
    /// the rows' text lands at the start of lines).
    dumps: Vec<(&'static str, Vec<u8>)>,
    globals: Vec<u8>,
}

const DATABASES: &[&str] = &["template1", "postgres", "weird db \"x\"", "db1"];

const CLUSTER_SETUP: &str = r#"
CREATE ROLE synapse LOGIN PASSWORD 'synapse-pw' CONNECTION LIMIT 10;
CREATE ROLE "Media Reader" NOLOGIN;
GRANT "Media Reader" TO synapse GRANTED BY postgres;
ALTER ROLE synapse SET statement_timeout = '1min';
COMMENT ON ROLE synapse IS 'the homeserver';
CREATE DATABASE "weird db ""x""" OWNER synapse TEMPLATE template0;
CREATE DATABASE db1 TEMPLATE template0;
ALTER DATABASE db1 SET work_mem = '8MB';
CREATE TABLE public.postgres_notes (id int PRIMARY KEY, note text);
INSERT INTO public.postgres_notes VALUES (1, 'kept in postgres'), (2, E'\\connect template1');
"#;

const TEMPLATE1_SETUP: &str = "
CREATE TABLE public.template_marker (id int PRIMARY KEY, note text);
INSERT INTO public.template_marker VALUES (1, 'template1 was changed');
COMMENT ON TABLE public.template_marker IS 'a change in template1';
";

const DB1_SETUP: &str = r#"
CREATE TABLE public.tricky (id int PRIMARY KEY, body text);
INSERT INTO public.tricky VALUES
 (1, E'\\connect db1'),
 (2, E'--\n-- Database "x" dump\n--\n'),
 (3, E'\n--\n-- Database "postgres" dump\n--\n\n\\connect postgres\n\nCREATE TABLE public.injected (x int);\n'),
 (4, E'\\connect -reuse-previous=on "dbname=''weird db ""x""''"'),
 (5, E'\\unrestrict pgpipetestkey\n\\connect db1\n'),
 (6, E'--\n-- PostgreSQL database cluster dump complete\n--\n');
"#;

fn dumpall_source(v: Version) -> &'static DumpallSource {
    static SOURCES: [OnceLock<DumpallSource>; 2] = [OnceLock::new(), OnceLock::new()];
    SOURCES[usize::from(v == Version::V18)].get_or_init(|| {
        let server = Server::start(v);
        server.psql("postgres", CLUSTER_SETUP);
        server.psql("template1", TEMPLATE1_SETUP);
        server.psql("db1", DB1_SETUP);
        load_synapse(&server, "weird db \"x\"");
        server.psql(
            "weird db \"x\"",
            "GRANT SELECT ON media.local_media_thumbnails TO \"Media Reader\";\n\
             ALTER TABLE public.rooms OWNER TO synapse;",
        );
        let key = format!("--restrict-key={RESTRICT_KEY}");
        let dumps = vec![
            ("plain", server.pg_dumpall(&[&key])),
            ("inserts", server.pg_dumpall(&[&key, "--inserts"])),
        ];
        let globals = server.pg_dumpall(&[&key, "--globals-only"]);
        DumpallSource {
            server,
            dumps,
            globals,
        }
    })
}

/// Compare database `db` of `got` with the same database of `want`:
/// catalogs, rows, and pg_dump's output.
fn assert_same_database(got: &Server, want: &Server, db: &str, what: &str) {
    let (g, w) = (snapshot(got, db), snapshot(want, db));
    assert!(!w.facts.is_empty(), "{what}: nothing to compare in {db}");
    assert_facts_eq(&g.facts, &w.facts, what);
    assert_data_eq(&g.data, &w.data, what);
    let key = format!("--restrict-key={RESTRICT_KEY}");
    let (a, b) = (got.pg_dump(db, &[&key]), want.pg_dump(db, &[&key]));
    assert!(
        a == b,
        "{what}: pg_dump of {db:?} differs: {}",
        first_difference(&a, &b)
    );
}

fn dumpall_extraction(v: Version) {
    let src = dumpall_source(v);
    for (dump_name, dump) in &src.dumps {
        let target = Server::start(v);
        replay_globals(&target, &src.globals);
        let mut failures = Failures::default();
        for db in DATABASES {
            failures.run(|| {
                let what =
                    format!("pg_dumpall {dump_name} | pgpipe-filter --database {db:?} on {v:?}");
                let (out, _) = filter_ok(&["--database", db, "--no-globals"], dump);
                assert_kept_lines(dump, &out, &what);
                let text = String::from_utf8_lossy(&out);
                assert!(
                    text.contains(&format!("--\n-- Database \"{db}\" dump\n--\n")),
                    "{what}: no section header"
                );
                // (Rows of db1 and of the Synapse schema hold fake section
                // headers, at the start of a line in the --inserts dump.)
                let fakes = *dump_name == "inserts";
                for other in DATABASES.iter().filter(|o| *o != db && !fakes) {
                    assert!(
                        !text.contains(&format!("\n-- Database \"{other}\" dump\n")),
                        "{what}: has the section of {other}"
                    );
                }
                replay(&target, &out, &what);
                assert_same_database(&target, &src.server, db, &what);
            });
        }
        failures.check();
        // Nothing else landed anywhere: the rows that look like sections
        // created nothing.
        assert_eq!(
            target.lines(
                "postgres",
                "SELECT datname FROM pg_database WHERE datname <> 'template0'"
            ),
            src.server.lines(
                "postgres",
                "SELECT datname FROM pg_database WHERE datname <> 'template0'"
            )
        );
        for db in DATABASES {
            assert_eq!(
                target.lines(db, "SELECT to_regclass('public.injected')::text IS NULL"),
                ["t"],
                "{db}"
            );
        }
    }
}

#[test]
fn dumpall_extract_each_database_15() {
    dumpall_extraction(Version::V15);
}

#[test]
fn dumpall_extract_each_database_18() {
    dumpall_extraction(Version::V18);
}

fn dumpall_selection(v: Version) {
    let src = dumpall_source(v);
    let dump = &src.dumps[0].1;

    // A database that is not there: exit 1, listing those that are.
    let (code, _, err) = filter(&["--database", "nosuchdb"], dump);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nosuchdb"), "{err}");
    for db in ["template1", "postgres", "db1", "weird db"] {
        assert!(err.contains(db), "the error does not list {db}: {err}");
    }

    // --globals-only: roles, no database.
    let (globals, _) = filter_ok(&["--globals-only"], dump);
    assert_kept_lines(dump, &globals, "--globals-only");
    let text = String::from_utf8_lossy(&globals);
    assert!(
        !text.lines().any(|l| l.starts_with("\\connect")),
        "--globals-only has \\connect:\n{text}"
    );
    assert!(text.contains("CREATE ROLE synapse;"), "{text}");
    let fresh = Server::start(v);
    replay_globals(&fresh, &globals);
    assert_eq!(fresh.roles(), src.server.roles());
    assert_eq!(fresh.memberships(), src.server.memberships());
    assert_eq!(
        fresh.lines("postgres", "SELECT datname FROM pg_database"),
        ["postgres", "template0", "template1"]
    );

    // --no-globals: every database, no role.
    let (no_globals, _) = filter_ok(&["--no-globals"], dump);
    assert_kept_lines(dump, &no_globals, "--no-globals");
    let text = String::from_utf8_lossy(&no_globals);
    assert!(
        !text.lines().any(|l| l.starts_with("CREATE ROLE")),
        "--no-globals has CREATE ROLE"
    );
    for db in DATABASES {
        assert!(
            text.contains(&format!("\n-- Database \"{db}\" dump\n")),
            "--no-globals lost {db}"
        );
    }

    // --exclude-database with a pattern.
    let (out, _) = filter_ok(&["--exclude-database", "weird*"], dump);
    let text = String::from_utf8_lossy(&out);
    assert!(
        !text.contains("-- Database \"weird db"),
        "--exclude-database"
    );
    assert!(text.contains("CREATE ROLE synapse;"));
    for db in ["template1", "postgres", "db1"] {
        assert!(text.contains(&format!("\n-- Database \"{db}\" dump\n")));
    }
}

#[test]
fn dumpall_missing_database_globals_only_no_globals_15() {
    dumpall_selection(Version::V15);
}

#[test]
fn dumpall_missing_database_globals_only_no_globals_18() {
    dumpall_selection(Version::V18);
}

/// `--roles-if-not-exists --skip-role postgres`: the globals replay twice,
/// with ON_ERROR_STOP, into a cluster where the roles exist (without their
/// attributes); then the whole pg_dumpall replays there once.
fn roles_if_not_exists(v: Version) {
    let src = dumpall_source(v);
    let args = ["--roles-if-not-exists", "--skip-role", "postgres"];
    let (globals, _) = filter_ok(&args, &src.globals);
    let text = String::from_utf8_lossy(&globals);
    assert!(
        !text.contains("CREATE ROLE postgres") && !text.contains("ALTER ROLE postgres"),
        "{text}"
    );

    let target = Server::start(v);
    target.psql(
        "postgres",
        "CREATE ROLE synapse; CREATE ROLE \"Media Reader\";",
    );
    for round in 1..=2 {
        replay(
            &target,
            &globals,
            &format!("globals, round {round}, on {v:?}"),
        );
        assert_eq!(target.roles(), src.server.roles(), "round {round}");
        assert_eq!(
            target.memberships(),
            src.server.memberships(),
            "round {round}"
        );
        // Settings of roles; those of databases come with the databases.
        let role_settings = |server: &Server| -> Vec<String> {
            server
                .role_settings()
                .into_iter()
                .filter(|l| l.starts_with("role "))
                .collect()
        };
        assert_eq!(
            role_settings(&target),
            role_settings(&src.server),
            "round {round}"
        );
    }
    assert_eq!(
        target.lines(
            "postgres",
            "SELECT shobj_description('synapse'::regrole, 'pg_authid')"
        ),
        ["the homeserver"]
    );

    let (all, _) = filter_ok(&args, &src.dumps[0].1);
    replay(&target, &all, &format!("the whole pg_dumpall on {v:?}"));
    for db in DATABASES {
        assert_same_database(&target, &src.server, db, &format!("{db} after the replay"));
    }
    assert_eq!(target.role_settings(), src.server.role_settings());
    assert_eq!(target.cluster_owners(), src.server.cluster_owners());
}

#[test]
fn roles_if_not_exists_replays_twice_15() {
    roles_if_not_exists(Version::V15);
}

#[test]
fn roles_if_not_exists_replays_twice_18() {
    roles_if_not_exists(Version::V18);
}

// -- --clean --------------------------------------------------------------------

/// Restore the `--clean` output twice into a database that also has a table
/// of its own; compare with one plain restore.
fn clean_twice(server: &Server, dump: &[u8], what: &str) {
    let (clean, _) = filter_ok(&["--clean"], dump);
    let text = String::from_utf8_lossy(&clean);
    assert!(
        !text.contains("DROP SCHEMA IF EXISTS public"),
        "{what}: --clean drops public"
    );

    let reference = server.create_db("filter_ref");
    restore(server, &reference, dump, &format!("{what} (reference)"));
    let want = snapshot(server, &reference);

    let db = server.create_db("filter_clean");
    server.psql(
        &db,
        "CREATE TABLE public.not_in_dump (id int PRIMARY KEY, note text);
         INSERT INTO public.not_in_dump VALUES (1, 'survives'), (2, 'too');",
    );
    for round in 1..=2 {
        let what = format!("{what} --clean, round {round}");
        restore(server, &db, &clean, &what);
        let got = snapshot(server, &db);
        let mine: Vec<Fact> = got
            .facts
            .iter()
            .filter(|f| f.owner == "public.not_in_dump")
            .cloned()
            .collect();
        assert!(
            mine.iter().any(|f| f.text.starts_with("relation r ")),
            "{what}: not_in_dump is gone"
        );
        let facts: Vec<Fact> = got
            .facts
            .into_iter()
            .filter(|f| f.owner != "public.not_in_dump")
            .collect();
        assert_facts_eq(&facts, &want.facts, &what);
        let (mut data, mut want_data) = (got.data, want.data.clone());
        assert!(
            data.iter()
                .any(|l| l.starts_with("rows of public.not_in_dump: 2 ")),
            "{what}: {data:?}"
        );
        data.retain(|l| !l.starts_with("rows of public.not_in_dump: "));
        want_data.sort();
        assert_data_eq(&data, &want_data, &what);
    }
    drop_restored(server, &db);
    drop_restored(server, &reference);
}

fn clean(v: Version) {
    let syn = synapse(v);
    let mut failures = Failures::default();
    for dump_name in ["plain", "inserts"] {
        failures.run(|| {
            clean_twice(
                Server::shared(v),
                syn.dump(dump_name),
                &format!("synapse {dump_name} on {v:?}"),
            )
        });
    }
    let fx = fixture(v);
    failures.run(|| {
        clean_twice(
            &fx.server,
            fx.dump("plain"),
            &format!("fixture plain on {v:?}"),
        )
    });
    failures.check();
}

#[test]
fn clean_restores_twice_15() {
    clean(Version::V15);
}

#[test]
fn clean_restores_twice_18() {
    clean(Version::V18);
}

// -- --target-version ------------------------------------------------------------

/// pg_dump prints the fixture's language as CREATE OR REPLACE PROCEDURAL
/// LANGUAGE when dumping from 15 (see [`LANGUAGE_FIXUP`]); give it its
/// handler so the 17 dump restores at all.
fn fix_pg17_language(dump: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(dump.to_vec()).expect("the pg17 fixture is UTF-8");
    let from = "CREATE OR REPLACE PROCEDURAL LANGUAGE plsample_nonexist;";
    assert_eq!(text.matches(from).count(), 1);
    // The fixup without its DROP LANGUAGE.
    let to = LANGUAGE_FIXUP
        .lines()
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    text.replacen(from, &to, 1).into_bytes()
}

fn target_version_15(source_version: Version, dump: &[u8], what: &str) {
    let fx15 = fixture(Version::V15);
    let server = &fx15.server;

    // Without the option the 15 server refuses the dump: the test can fail.
    let db = server.create_db("filter_tv_raw");
    let (code, _, stderr) = server.psql_status(
        &db,
        dump,
        &["-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
    );
    assert_ne!(code, 0, "{what} restores into 15 as it is");
    assert!(stderr.contains("transaction_timeout"), "{what}: {stderr}");
    drop_restored(server, &db);

    // (Not assert_kept_lines: a statement may be rewritten for 15.)
    let (out, stderr) = filter_ok(&["--target-version", "15", "--report"], dump);
    assert!(
        stderr.contains("transaction_timeout"),
        "{what}: the report does not count SET transaction_timeout:\n{stderr}"
    );
    let db = server.create_db("filter_tv");
    restore(
        server,
        &db,
        &out,
        &format!("{what} | pgpipe-filter --target-version 15"),
    );
    // Every table has the rows of the database that was dumped.
    let source = snapshot(&fixture(source_version).server, "db1");
    let got = snapshot(server, &db);
    let tables = relations_of(&source.facts, 'r');
    assert_eq!(relations_of(&got.facts, 'r'), tables, "{what}");
    assert_data_eq(&got.data, &source.data, what);
    drop_restored(server, &db);
}

#[test]
fn target_version_15_restores_the_18_dump() {
    let fx18 = fixture(Version::V18);
    target_version_15(
        Version::V18,
        fx18.dump("plain"),
        "the pg_dump 18 fixture dump",
    );
}

#[test]
fn target_version_15_restores_the_17_dump() {
    let dump = fix_pg17_language(&pg17_plain());
    // The 17 dump was made of the fixture on a 15 server.
    target_version_15(Version::V15, &dump, "the pg_dump 17 fixture dump");
}

// -- errors ----------------------------------------------------------------------

#[test]
fn usage_errors_and_patterns_matching_nothing() {
    let dump = synapse(Version::V15).dump("plain");

    let (code, out, err) = filter(&["--schema-only", "--data-only"], dump);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.starts_with("pgpipe-filter: "), "{err}");

    let (code, out, err) = filter(&["-t", "a.b.c.d"], dump);
    assert_eq!(code, 2, "a pattern with too many dots: {err}");
    assert!(out.is_empty());

    let (code, _, err) = filter(&["--strict", "-t", "nosuchtable"], dump);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nosuchtable"), "{err}");

    let (code, _, err) = filter(&["-t", "nosuchtable"], dump);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("pgpipe-filter: warning: ") && l.contains("nosuchtable")),
        "{err}"
    );

    // One pattern matches, one does not: still a warning for the other.
    let (code, _, err) = filter(&["-t", "rooms", "-T", "nosuch*"], dump);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nosuch*"), "{err}");
    let (code, _, err) = filter(&["--strict", "-t", "rooms", "-T", "nosuch*"], dump);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn truncated_input_exits_3_and_withholds_the_cut_row() {
    let syn = synapse(Version::V15);

    // Plain: cut in the middle of an events row of the COPY data.
    let dump = syn.dump("plain");
    let row = b"\n1500\t500\t$ev1500:example.org\t";
    let at = dump
        .windows(row.len())
        .position(|w| w == row)
        .expect("row 1500 in the dump")
        + 12;
    let cut = &dump[..at];
    for args in [
        &[][..],
        &["-T", "users"][..],
        &["--exclude-table-data", "rooms"][..],
        &["-N", "media", "--clean"][..],
    ] {
        let (code, out, err) = filter(args, cut);
        assert_eq!(code, 3, "{args:?}: {err}");
        assert!(
            !out.windows(6).any(|w| w == b"\n1500\t"),
            "{args:?}: the cut row was written"
        );
        if args.is_empty() {
            assert!(
                out.len() < cut.len() && cut.starts_with(&out),
                "not a prefix"
            );
        }
    }

    // --inserts: cut inside a string literal whose next lines look like
    // complete statements (event_json, before it, has the same text with
    // its newlines escaped).
    let dump = syn.dump("inserts");
    let text = b"\nCREATE TABLE evil (x int);\n";
    let at = dump
        .windows(text.len())
        .position(|w| w == text)
        .expect("the first evil row")
        + text.len();
    let cut = &dump[..at];
    let row = b"INSERT INTO public.events VALUES (31,";
    assert!(cut.windows(row.len()).any(|w| w == row));
    for args in [&[][..], &["-T", "users"][..], &["-t", "events"][..]] {
        let (code, out, err) = filter(args, cut);
        assert_eq!(code, 3, "{args:?}: {err}");
        assert!(
            !out.windows(row.len()).any(|w| w == row),
            "{args:?}: the cut INSERT was written"
        );
        assert!(
            !out.windows(text.len()).any(|w| w == text),
            "{args:?}: a line of the cut INSERT was written"
        );
    }
}
