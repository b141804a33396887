//! psql is the oracle for the reader: what psql sends to the server is
//! exactly what pgpipe's reader hands the tools as statements, or the
//! reader refuses the stream with a clear error.
//!
//! * The differential harness: a stream goes to
//!   `psql -X -q -v ON_ERROR_STOP=0 -d DB` (standard input, `LC_ALL=C`, no
//!   psqlrc) against a server that logs every statement it receives
//!   (`log_statement=all`, CSV log, plus the query of every error, which is
//!   how a statement that does not parse shows up), and the statements the
//!   log shows are compared, byte for byte after the leading and trailing
//!   white space psql does not send, with the `Statement` and
//!   `CopyStatement` segments of `pgpipe::dump::Reader` (empty lines aside,
//!   which psql leaves out of a statement). When the reader
//!   stops at an error, that error must be one of its documented refusals
//!   and the statements before it must agree. Two things psql decides from
//!   the server's answer are stated, not compared: a `COPY … FROM stdin`
//!   that the server refuses makes psql send its data lines as SQL (pgpipe
//!   reads them as data, and restores through pgpipe-guard stop at that
//!   error), and psql sends a statement cut by the end of input (pgpipe
//!   reports the cut and never writes it).
//!   The corpus: the fixture dumps, a generated set of the forms on which
//!   a reader and psql could disagree, and mutations of a real dump
//!   (inserted NUL bytes, lone `\r`, comment and quote openers at random
//!   offsets).
//! * The property: for any input, `pgpipe-roles --only-roles synapse`
//!   either fails, or its output, replayed with
//!   `psql -X -q -v ON_ERROR_STOP=1` into a server that holds `synapse`
//!   and every other role the input mentions (the canaries), leaves no
//!   catalog (owners, ACLs, default ACLs, policies, memberships, role
//!   settings) naming a canary. `ON_ERROR_STOP=1` is how pgpipe's
//!   pipelines restore (pgpipe-guard sets it): without it, a COPY the
//!   server refuses makes psql run the COPY's data as SQL, which no reader
//!   of the stream can vouch for.

use crate::support;
use std::sync::LazyLock;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use support::psql_log::{self, diff, reader_view};
use support::{Server, Version, exit_code, fixture, run};

static ROLES: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-roles"));

fn full() -> bool {
    std::env::var_os("PGPIPE_ORACLE_FULL").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A small deterministic generator (xorshift), so a failing case can be
/// reproduced from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// -- the logging server ----------------------------------------------------------

/// A private server that logs every statement to a CSV file.
struct Logged {
    server: Server,
    csv: PathBuf,
    next: usize,
}

impl Logged {
    fn start(v: Version) -> Logged {
        let server = Server::start_with(v, psql_log::LOG_OPTIONS);
        let csv = server.data_dir().join("pglog/statements.csv");
        Logged {
            server,
            csv,
            next: 0,
        }
    }

    /// Run `stream` through psql into a fresh database; the statements the
    /// server received, in order, each with whether it failed.
    fn statements(&mut self, stream: &[u8]) -> Vec<(Vec<u8>, bool)> {
        self.next += 1;
        let app = format!("pgpipe_case_{}", self.next);
        let db = self.server.create_db("psql");
        let mut cmd = self.server.command("psql");
        cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=0", "-d", &db])
            .env("PGAPPNAME", &app);
        let _ = run(&mut cmd, Some(stream));
        let got = psql_log::statements_with_errors(&self.server, &self.csv, &db, &app);
        support::oracle::drop_database(&self.server, &db);
        got
    }
}

// -- pgpipe's view -----------------------------------------------------------------

/// The reader's documented refusals: a NUL byte (exit 3), and the forms on
/// which psql would send something else (exit 1).
fn documented_refusal(code: i32, message: &str) -> bool {
    (code == 3 && message.contains("NUL byte"))
        || (code == 1
            && [
                "backslash",
                "psql variable",
                "psql lexes",
                "so what psql runs is not what pgpipe reads",
            ]
            .iter()
            .any(|m| message.contains(m)))
}

/// Outcome of one comparison.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    agreed: usize,
    refused: usize,
    copy_refused_by_server: usize,
}

fn compare(logged: &mut Logged, stream: &[u8], what: &str, tally: &mut Tally) {
    tally.cases += 1;
    let logged_statements = logged.statements(stream);
    let sent: Vec<Vec<u8>> = logged_statements.iter().map(|(s, _)| s.clone()).collect();
    let view = reader_view(stream);
    if let Some((code, message)) = &view.error {
        assert!(
            documented_refusal(*code, message),
            "{what}: the reader stopped with an undocumented error {code}: {message}"
        );
        let n = view.statements.len();
        assert!(
            sent.len() >= n && sent[..n] == view.statements[..],
            "{what}: before the reader's refusal ({message}), psql sent other statements:\n{}",
            diff(&sent, &view.statements)
        );
        tally.refused += 1;
        return;
    }
    let mut want = view.statements.clone();
    let mut got = sent.clone();
    // A COPY the server refused: psql sends its data as SQL from there on.
    for &i in &view.copies {
        if i < got.len() && got.get(i) == want.get(i) && logged_statements[i].1 {
            want.truncate(i + 1);
            got.truncate(i + 1);
            tally.copy_refused_by_server += 1;
            break;
        }
    }
    if view.cut && got.len() == want.len() + 1 {
        // psql sends the statement the end of input cut; pgpipe reports it.
        got.pop();
    }
    assert!(
        got == want,
        "{what}: psql sent other statements than pgpipe read:\n{}",
        diff(&got, &want)
    );
    tally.agreed += 1;
}

// -- the corpus ----------------------------------------------------------------------

/// The forms on which a reader and psql could disagree.
fn forms() -> Vec<(&'static str, Vec<u8>)> {
    let v = |s: &str| s.as_bytes().to_vec();
    vec![
        (
            "statements, comments, white space",
            v("-- c\n  /* x */ SELECT 1;  \nSELECT\n-- mid\n2 ; SELECT 3;\n"),
        ),
        (
            "nested comments",
            v("/* a /* b */ c */ SELECT 1; SELECT /* ; /* ; */ */ 2;\n"),
        ),
        (
            "\\g inside a statement",
            v("SELECT 1\n\\g\nGRANT SELECT ON t TO a;\n"),
        ),
        ("\\; joins statements", v("SELECT 1 \\; SELECT 2;\n")),
        (
            "NUL byte",
            b"SELECT 1;\0\nGRANT SELECT ON t TO a;\n".to_vec(),
        ),
        ("\\\\ then SQL", v("\\set x 1 \\\\ SELECT 2;\n")),
        (
            "a second command",
            v("\\connect postgres \\gexec\nSELECT 1;\n"),
        ),
        ("lone CR", v("SELECT 1;\rSELECT '\r';\rSELECT 2;\n")),
        ("CR LF", v("SELECT 1;\r\nSELECT 2;\r\n")),
        ("backslash at end of line", v("SELECT 1 \\\nSELECT 2;\n")),
        ("variable set by psql", v("SELECT :USER;\n")),
        ("quoted variable", v("SELECT :'foo';\n")),
        (
            "unset variable and casts",
            v("SELECT 1::int, (ARRAY[1,2])[1:2], :foo;\n"),
        ),
        (
            "\\if false",
            v("\\if false\nGRANT SELECT ON t TO a;\n\\endif\nSELECT 1;\n"),
        ),
        ("\\include", v("\\i /dev/null\nSELECT 1;\n")),
        ("\\copy", v("\\copy t from /dev/null\nSELECT 1;\n")),
        ("\\g alone", v("SELECT 1;\n\\g\nSELECT 2;\n")),
        ("\\set and :var", v("\\set who alice\nSELECT :who;\n")),
        (
            "\\echo and \\pset",
            v("\\echo hi\n\\pset pager off\nSELECT 1;\n"),
        ),
        (
            "standard_conforming_strings off",
            v(
                "SET standard_conforming_strings = off;\nSELECT 'a\\';';\nSELECT E'b\\\\';\nSET standard_conforming_strings = on;\nSELECT 'c\\';\n",
            ),
        ),
        (
            "RESET standard_conforming_strings",
            v(
                "SET standard_conforming_strings = off;\nRESET standard_conforming_strings;\nSELECT 'a\\';\n",
            ),
        ),
        (
            "SET LOCAL standard_conforming_strings",
            v("BEGIN;\nSET LOCAL standard_conforming_strings = off;\nSELECT 'a\\';';\nCOMMIT;\n"),
        ),
        (
            "set_config of standard_conforming_strings",
            v(
                "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);\nSELECT 'a\\';';\n",
            ),
        ),
        (
            "bit and hex strings",
            v("SET standard_conforming_strings = off;\nSELECT X'\\';\nSELECT 1;\n"),
        ),
        (
            "dollar quotes",
            v(
                "SELECT $a$x$$y;$a$; SELECT $_$ $a$ $_$; SELECT $ä$;$ä$;\nSELECT a$b$c FROM (SELECT 1 AS a$b$c) s;\n",
            ),
        ),
        (
            "BEGIN ATOMIC",
            v(
                "CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\nSELECT 3;\n",
            ),
        ),
        (
            "E strings with backslashes",
            v("SELECT E'\\'', e'\\\\';\nSELECT 'x' 'y';\n"),
        ),
        (
            "SJIS trailing backslash",
            b"SET client_encoding = 'SJIS';\nSELECT E'\x95\x5c';\nSELECT '\x95\x5c';\nSELECT 2;\n"
                .to_vec(),
        ),
        (
            "BIG5 trailing backslash",
            b"SET client_encoding = 'BIG5';\nSELECT E'\xa5\x5c';\nSELECT 2;\n".to_vec(),
        ),
        (
            "GBK trailing backslash",
            b"SET client_encoding = 'GBK';\nSELECT E'\x81\x5c';\nSELECT 2;\n".to_vec(),
        ),
        (
            "COPY from stdin",
            v("CREATE TEMP TABLE c (a text);\nCOPY c FROM stdin;\nGRANT x TO y;\n\\.\nSELECT 1;\n"),
        ),
        (
            "COPY the server refuses",
            v("COPY missing_table FROM stdin;\nSELECT 42;\n\\.\nSELECT 1;\n"),
        ),
        ("cut at the end", v("SELECT 1;\nSELECT 'cut")),
        (
            "parentheses and rules",
            v(
                "CREATE TEMP TABLE r (a int);\nCREATE RULE rr AS ON INSERT TO r DO INSTEAD (SELECT 1; SELECT 2);\n",
            ),
        ),
    ]
}

/// Random edits of a real dump: one byte sequence inserted at a random
/// offset.
fn mutations(dump: &[u8], n: usize, seed: u64) -> Vec<(String, Vec<u8>)> {
    const INSERTS: &[&[u8]] = &[
        b"\0", b"\r", b"'", b"\"", b"/*", b"--", b"$$", b"E'", b"\\g\n", b"*/", b";",
    ];
    let mut rng = Rng(seed);
    (0..n)
        .map(|_| {
            let at = rng.below(dump.len());
            let ins = INSERTS[rng.below(INSERTS.len())];
            let mut d = dump[..at].to_vec();
            d.extend_from_slice(ins);
            d.extend_from_slice(&dump[at..]);
            (
                format!("{:?} inserted at byte {at}", String::from_utf8_lossy(ins)),
                d,
            )
        })
        .collect()
}

fn statement_boundaries(v: Version) {
    let started = Instant::now();
    let mut logged = Logged::start(v);
    let mut tally = Tally::default();
    for (what, stream) in forms() {
        compare(&mut logged, &stream, what, &mut tally);
    }
    let fx = fixture(v);
    for name in [
        "plain",
        "inserts",
        "column-inserts",
        "clean",
        "session-auth",
    ] {
        compare(
            &mut logged,
            fx.dump(name),
            &format!("fixture dump {name}"),
            &mut tally,
        );
    }
    let n = if full() { 300 } else { 40 };
    for (what, stream) in mutations(fx.dump("plain"), n, 0x5eed_0000 + v.major() as u64) {
        compare(&mut logged, &stream, &what, &mut tally);
    }
    eprintln!(
        "psql {}: {} streams compared in {:.1} s: {} agreed statement for statement, {} \
         refused by the reader with a documented error (and agreed before it), {} with a \
         COPY the server refused (compared up to it)",
        v.major(),
        tally.cases,
        started.elapsed().as_secs_f64(),
        tally.agreed,
        tally.refused,
        tally.copy_refused_by_server
    );
    assert!(tally.agreed > 0 && tally.refused > 0);
}

#[test]
fn statement_boundaries_agree_with_psql_15() {
    statement_boundaries(Version::V15);
}

#[test]
fn statement_boundaries_agree_with_psql_18() {
    statement_boundaries(Version::V18);
}

// -- the findings ------------------------------------------------------------------

fn roles(args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let mut cmd = Command::new(*ROLES);
    cmd.args(args).arg("--no-progress");
    let out = run(&mut cmd, Some(input));
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Finding: a NUL byte hid the GRANT from the prefilter; psql then ran it.
/// Now every SQL tool stops there with exit 3 and releases nothing from
/// that line on.
#[test]
fn a_nul_byte_is_an_integrity_failure_in_every_sql_tool() {
    let input = b"SELECT 1;\0\nGRANT SELECT ON t TO a;\n";
    let (code, out, err) = roles(&["--map", "a=b", "--only-roles", "b"], input);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("line 1: a NUL byte at input offset 9"),
        "{err}"
    );
    // The statement before it is whole and released; nothing after.
    assert_eq!(out, b"SELECT 1;", "{:?}", String::from_utf8_lossy(&out));
    for (tool, args) in [
        (support::tool("pgpipe-inspect"), &["--require-complete"][..]),
        (support::tool("pgpipe-filter"), &["-T", "x"][..]),
        (support::tool("pgpipe-guard"), &[][..]),
    ] {
        let out = run(
            Command::new(tool).args(args).arg("--no-progress"),
            Some(input),
        );
        assert_eq!(
            exit_code(&out),
            3,
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("GRANT"),
            "{tool} released the line after the NUL"
        );
    }
}

/// Finding: `SELECT 1` + `\g` + a GRANT: psql sends both; pgpipe-roles
/// read one unparsable statement and left the GRANT to `a` alone. Now the
/// reader refuses it, and psql's own restore of the output cannot happen.
#[test]
fn a_backslash_command_inside_a_statement_is_refused() {
    let input = b"SELECT 1\n\\g\nGRANT SELECT ON t TO a;\n";
    let (code, out, err) = roles(&["--map", "a=b", "--only-roles", "b"], input);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("line 2: an unquoted backslash inside a statement"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out).contains("GRANT"));
}

/// Under --only-roles, statements that run code the stream does not show
/// are refused, pgpipe's own blocks excepted; without it they pass.
#[test]
fn only_roles_refuses_code_it_cannot_read() {
    for (input, says) in [
        (
            &b"DO $$BEGIN GRANT SELECT ON t TO canary; END$$;\n"[..],
            "a DO block",
        ),
        (b"CALL public.p();\n", "CALL"),
        (b"SELECT public.f();\n", "a query that calls functions"),
        (b"\\echo hi\n", "\\echo"),
        (b"CREATE INDEX i ON public.t (public.f(a));\n", "public.f"),
    ] {
        let (code, _, err) = roles(&["--only-roles", "synapse"], input);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(says), "{says}: {err}");
        let (code, out, err) = roles(&["--map", "x=y"], input);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, input);
    }
    // Without --only-roles a meta-command pg_dump does not write is reported.
    let (_, _, err) = roles(&["--map", "x=y"], b"\\echo hi\n");
    assert!(err.contains("warning: line 1: \\echo"), "{err}");
    // pgpipe's own blocks pass.
    let block = b"DO $pgpipe$BEGIN CREATE ROLE synapse; EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipe$;\n";
    let (code, _, err) = roles(&["--only-roles", "synapse"], block);
    assert_eq!(code, 0, "{err}");
}

// -- the property --------------------------------------------------------------------

/// Role names the generated inputs mention: synapse is allowed, the rest
/// are canaries.
const NAMES: &[&str] = &[
    "synapse",
    "canary",
    "rdsadmin",
    "Bob Smith",
    "3f9a2c71",
    "select",
];
const ALLOWED: &str = "synapse";

fn ident(name: &str) -> String {
    pgpipe::sql::quote_ident(name)
}

/// One fragment of input naming roles, plain or hidden in every way the
/// reader knows of.
fn fragment(rng: &mut Rng, n: usize) -> Vec<u8> {
    let r = ident(NAMES[rng.below(NAMES.len())]);
    let r2 = ident(NAMES[rng.below(NAMES.len())]);
    let lit = pgpipe::sql::quote_literal(NAMES[rng.below(NAMES.len())]);
    let forms: Vec<String> = vec![
        format!("GRANT SELECT ON public.t TO {r};\n"),
        format!("ALTER TABLE public.t OWNER TO {r};\n"),
        format!("CREATE POLICY p{n} ON public.t TO {r} USING (true);\n"),
        format!("ALTER DEFAULT PRIVILEGES FOR ROLE {r} GRANT SELECT ON TABLES TO {r2};\n"),
        format!("GRANT {r} TO {r2};\n"),
        format!("ALTER ROLE {r} SET work_mem = '1MB';\n"),
        format!("CREATE SCHEMA s{n} AUTHORIZATION {r};\n"),
        format!(
            "SET SESSION AUTHORIZATION {lit};\nCREATE TABLE public.o{n} (a int);\nRESET SESSION AUTHORIZATION;\n"
        ),
        format!("SET ROLE {r};\nCREATE TABLE public.q{n} (a int);\nRESET ROLE;\n"),
        format!("DO $$BEGIN GRANT SELECT ON public.t TO {r}; END$$;\n"),
        format!("SELECT 1\n\\g\nGRANT SELECT ON public.t TO {r};\n"),
        format!("SELECT 1;\0\nGRANT SELECT ON public.t TO {r};\n"),
        format!("-- GRANT SELECT ON public.t TO {r};\n/* {r} */ SELECT 1;\n"),
        format!("/* nested /* */ GRANT SELECT ON public.t TO {r}; */ SELECT 1;\n"),
        format!("SELECT 'x\n';GRANT SELECT ON public.t TO {r};\n"),
        format!("\\set who {r}\nGRANT SELECT ON public.t TO :who;\n"),
        format!("CALL public.grant_to({lit});\n"),
        format!("SELECT public.grant_fn({lit});\n"),
        format!(
            "SET standard_conforming_strings = off;\nSELECT 'a\\';GRANT SELECT ON public.t TO {r};--';\nSET standard_conforming_strings = on;\n"
        ),
        format!("SELECT 1 \\; GRANT SELECT ON public.t TO {r};\n"),
        format!("\\if true\nGRANT SELECT ON public.t TO {r};\n\\endif\n"),
        format!("COPY public.t (a) FROM stdin;\n1\n\\.\n"),
        format!("INSERT INTO public.t VALUES (public.grant_fn({lit}));\n"),
        format!(
            "CREATE TABLE public.c{n} (a text CHECK (public.grant_fn(a) IS NOT NULL));\nINSERT INTO public.c{n} VALUES ({lit});\n"
        ),
        format!("COMMENT ON TABLE public.t IS 'GRANT SELECT ON public.t TO {r}';\n"),
        format!(
            "SELECT pg_catalog.set_config('role', {lit}, false);\nCREATE TABLE public.z{n} (a int);\n"
        ),
    ];
    forms[rng.below(forms.len())].clone().into_bytes()
}

/// Catalog facts naming a canary, in the database and the cluster.
fn canaries_named(server: &Server, db: &str) -> Vec<String> {
    let canaries: BTreeSet<String> = NAMES
        .iter()
        .filter(|n| **n != ALLOWED)
        .map(|n| ident(n))
        .collect();
    let mut facts = Vec::new();
    for (what, lines) in [
        ("owner", server.owners(db)),
        ("acl", server.acls(db)),
        ("default acl", server.default_acls(db)),
        ("policy", server.policy_roles(db)),
        ("membership", server.memberships()),
        ("setting", server.role_settings()),
    ] {
        for l in lines {
            if canaries.iter().any(|c| l.contains(c.as_str())) {
                facts.push(format!("{what}: {l}"));
            }
        }
    }
    facts
}

const SETUP: &str = "CREATE TABLE public.t (a int);
CREATE FUNCTION public.grant_fn(r text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('GRANT SELECT ON public.t TO %I', r); RETURN 1; END $$;
CREATE PROCEDURE public.grant_to(r text) LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('GRANT SELECT ON public.t TO %I', r); END $$;";

#[test]
fn only_roles_leaves_no_canary_in_the_catalogs() {
    let v = Version::V18;
    let server = Server::start(v);
    let mut sql = String::new();
    for n in NAMES {
        sql.push_str(&format!("CREATE ROLE {};\n", ident(n)));
    }
    server.psql("postgres", &sql);
    let budget = if full() {
        Duration::from_secs(1200)
    } else {
        Duration::from_secs(150)
    };
    let started = Instant::now();
    let (mut cases, mut refused, mut replayed) = (0, 0, 0);
    let mut seed = 0x0dd_ba11_u64;
    while started.elapsed() < budget {
        seed += 1;
        let mut rng = Rng(seed);
        let mut input = Vec::new();
        for n in 0..1 + rng.below(5) {
            input.extend_from_slice(&fragment(&mut rng, n));
        }
        cases += 1;
        let (code, out, _) = roles(&["--only-roles", ALLOWED], &input);
        if code != 0 {
            refused += 1;
            continue;
        }
        replayed += 1;
        let db = server.create_db("canary");
        server.psql(&db, SETUP);
        let _ = server.psql_status(&db, &out, &["-q", "-v", "ON_ERROR_STOP=1"]);
        let named = canaries_named(&server, &db);
        assert!(
            named.is_empty(),
            "seed {seed}: pgpipe-roles --only-roles {ALLOWED} passed an input whose restore \
             names a canary:\n{}\ninput:\n{}",
            named.join("\n"),
            String::from_utf8_lossy(&input)
        );
        server.drop_db(&db);
        // Cluster-wide facts must not carry over to the next case.
        server.psql(
            "postgres",
            "DO $$DECLARE r record; BEGIN FOR r IN SELECT a.rolname AS role, m.rolname AS member \
             FROM pg_auth_members x JOIN pg_roles a ON a.oid = x.roleid \
             JOIN pg_roles m ON m.oid = x.member WHERE a.oid >= 16384 LOOP \
             EXECUTE format('REVOKE %I FROM %I', r.role, r.member); END LOOP; END$$; \
             DO $$DECLARE r record; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE oid >= 16384 LOOP \
             EXECUTE format('ALTER ROLE %I RESET ALL', r.rolname); END LOOP; END$$;",
        );
    }
    eprintln!(
        "only-roles property: {cases} generated inputs in {:.0} s: {refused} refused by \
         pgpipe-roles, {replayed} passed and replayed, none naming a canary",
        started.elapsed().as_secs_f64()
    );
    assert!(refused > 0 && replayed > 0, "{cases} {refused} {replayed}");
}
