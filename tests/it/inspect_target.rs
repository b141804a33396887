//! `pgpipe-inspect --target`: each problem planted on a real PostgreSQL 15
//! or 18 target is reported with its kind and fix, a clean target is ready,
//! and the restore through `pgpipe-guard | psql` fails exactly when the
//! check said it would. Connections by URI, key=value, `PG*` variables and
//! `.pgpass` against a server that requires scram-sha-256; a locked table
//! does not make the check wait; the target's catalogs do not change.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support;
use support::{Server, Version, run};

/// `pgpipe-inspect --target CONNINFO --json [extra]` on `dump`, with
/// `server`'s psql first on PATH and no other libpq variable set: exit
/// code, the JSON report (when one was printed) and stderr.
fn check(
    server: &Server,
    conninfo: &str,
    dump: &[u8],
    extra: &[&str],
    env: &[(&str, &str)],
) -> (i32, serde_json::Value, String) {
    let mut cmd = Command::new(support::tool("pgpipe-inspect"));
    clean_env(&mut cmd, server);
    cmd.args(["--json", "--target", conninfo]).args(extra);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd, Some(dump));
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (
        support::exit_code(&out),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn clean_env(cmd: &mut Command, server: &Server) {
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PG") {
            cmd.env_remove(&key);
        }
    }
    cmd.env_remove("PSQLRC");
    cmd.env("LC_ALL", "C");
    cmd.env(
        "PATH",
        format!("{}:/usr/bin:/bin", server.version().bin_dir().display()),
    );
}

/// `sql` as the whole of a dump, with pg_dump's closing comment.
fn complete(sql: &[u8]) -> Vec<u8> {
    let mut d = sql.to_vec();
    d.extend_from_slice(b"\n--\n-- PostgreSQL database dump complete\n--\n\n");
    d
}

/// The problems' kinds, sorted.
fn kinds(json: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = json["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems array: {json}"))
        .iter()
        .map(|p| p["kind"].as_str().unwrap().to_string())
        .collect();
    k.sort();
    k
}

/// The problems' objects, in report order (of one kind, when given).
fn objects<'a>(json: &'a serde_json::Value, kind: Option<&str>) -> Vec<&'a str> {
    json["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems array: {json}"))
        .iter()
        .filter(|p| kind.is_none_or(|k| p["kind"] == k))
        .map(|p| p["object"].as_str().unwrap())
        .collect()
}

fn problem<'a>(json: &'a serde_json::Value, kind: &str) -> &'a serde_json::Value {
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} problem: {json}"))
}

/// The restore the check predicts: `pgpipe-guard | psql` into `db` as
/// `user`. True when psql committed.
/// `set -o pipefail`: true when guard and psql both succeeded.
fn restores(server: &Server, db: &str, user: &str, dump: &[u8]) -> bool {
    let mut guard = Command::new(support::tool("pgpipe-guard"));
    let guarded = run(&mut guard, Some(dump));
    let (code, _, err) = server.psql_status(db, &guarded.stdout, &["-q", "-U", user]);
    if code != 0 {
        eprintln!("restore into {db} as {user}: {err}");
    }
    support::exit_code(&guarded) == 0 && code == 0
}

/// A small application database on `src`: a role, a schema, a table with
/// rows, a sequence, a type and a function, owned by app_owner.
fn source(src: &Server) -> (String, Vec<u8>) {
    source_with_rows(src, 2)
}

/// [`source`] with `rows` rows in public.items.
fn source_with_rows(src: &Server, rows: usize) -> (String, Vec<u8>) {
    src.psql("postgres", "CREATE ROLE app_owner");
    let db = src.create_db("app");
    src.psql(
        &db,
        &format!(
            "SET ROLE postgres;
         CREATE SCHEMA inv AUTHORIZATION app_owner;
         CREATE TABLE public.items (id int PRIMARY KEY, body text);
         INSERT INTO public.items SELECT g, repeat('x', 100) FROM generate_series(1, {rows}) g;
         ALTER TABLE public.items OWNER TO app_owner;
         CREATE SEQUENCE inv.ticket;
         ALTER SEQUENCE inv.ticket OWNER TO app_owner;
         CREATE TYPE inv.mood AS ENUM ('sad', 'ok');
         ALTER TYPE inv.mood OWNER TO app_owner;
         CREATE FUNCTION inv.twice(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2';
         ALTER FUNCTION inv.twice(int) OWNER TO app_owner;"
        ),
    );
    let dump = src.pg_dump(&db, &[]);
    (db, dump)
}

fn catalog(server: &Server, db: &str) -> Vec<String> {
    let mut v = server.lines(
        db,
        "SELECT 'rel ' || oid::regclass || ' ' || relkind::text || ' ' || relowner::regrole FROM pg_class
         UNION ALL SELECT 'role ' || rolname || ' ' || rolsuper FROM pg_roles
         UNION ALL SELECT 'ext ' || extname FROM pg_extension
         UNION ALL SELECT 'nsp ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace
         UNION ALL SELECT 'db ' || datname || ' ' || coalesce(datacl::text, '') FROM pg_database",
    );
    v.extend(server.lines(db, "SELECT count(*) FROM public.items"));
    v
}

#[test]
fn planted_problems_are_reported_and_the_restore_agrees() {
    for version in Version::ALL {
        let src = Server::start(version);
        let (_, dump) = source(&src);
        let dst = Server::start(version);
        let v = version.major();

        // Missing role: the target has no app_owner.
        let db = dst.create_db("missing");
        let (code, json, err) = check(&dst, &dst.conninfo(&db), &dump, &[], &[]);
        assert_eq!(
            (code, kinds(&json)),
            (4, vec!["missing_role".to_string()]),
            "{v}: {err}"
        );
        let p = problem(&json, "missing_role");
        assert_eq!(p["object"], "app_owner");
        assert!(p["fix"].as_str().unwrap().contains("pgpipe-roles --map"));
        assert_eq!(json["ready"], false);
        assert!(
            err.contains("pgpipe-inspect: error: the restore into the target would fail"),
            "{err}"
        );
        assert!(
            !restores(&dst, &db, "postgres", &dump),
            "{v}: restored without app_owner"
        );

        // A clean target: ready, and the restore commits.
        dst.psql("postgres", "CREATE ROLE app_owner");
        let db = dst.create_db("clean");
        let before = catalog_without_items(&dst, &db);
        let (code, json, err) = check(&dst, &dst.conninfo(&db), &dump, &[], &[]);
        assert_eq!(
            (code, json["ready"].as_bool()),
            (0, Some(true)),
            "{v}: {json} {err}"
        );
        assert_eq!(kinds(&json), Vec::<String>::new());
        assert_eq!(
            json["target"]["version_num"].as_u64().unwrap() / 10000,
            v as u64
        );
        assert_eq!(
            catalog_without_items(&dst, &db),
            before,
            "the check changed the catalogs"
        );
        assert!(
            restores(&dst, &db, "postgres", &dump),
            "{v}: a ready target failed"
        );

        // The same database again: everything exists now, the table with rows.
        let (code, json, _) = check(&dst, &dst.conninfo(&db), &dump, &[], &[]);
        assert_eq!(
            (code, kinds(&json)),
            (4, vec!["object_exists".to_string(); 5]),
            "{v}: {json}"
        );
        let named = objects(&json, None);
        assert!(named.contains(&"public.items (holds rows)"), "{named:?}");
        assert!(named.contains(&"inv"), "{named:?}");
        assert!(
            problem(&json, "object_exists")["fix"]
                .as_str()
                .unwrap()
                .contains("--clean")
        );
        let snapshot = catalog(&dst, &db);
        assert!(
            !restores(&dst, &db, "postgres", &dump),
            "{v}: restored over existing objects"
        );
        assert_eq!(catalog(&dst, &db), snapshot);

        // An extension the target does not offer.
        let mut with_ext = b"CREATE EXTENSION IF NOT EXISTS pgpipe_no_such_extension;\n".to_vec();
        with_ext.extend_from_slice(&dump);
        let db = dst.create_db("ext");
        let (code, json, _) = check(&dst, &dst.conninfo(&db), &with_ext, &[], &[]);
        assert_eq!(
            (code, kinds(&json)),
            (4, vec!["extension_unavailable".to_string()]),
            "{v}: {json}"
        );
        assert_eq!(
            problem(&json, "extension_unavailable")["object"],
            "pgpipe_no_such_extension"
        );
        assert!(!restores(&dst, &db, "postgres", &with_ext));
        assert!(
            restores(&dst, &db, "postgres", &dump),
            "{v}: the database was left dirty"
        );

        // A non-owner restoring into public (PostgreSQL 15+).
        dst.psql(
            "postgres",
            "CREATE ROLE restorer LOGIN; GRANT app_owner TO restorer",
        );
        let db = dst.create_db("public");
        dst.psql(&db, &format!("GRANT CREATE ON DATABASE {db} TO restorer"));
        let as_restorer = format!("{} user=restorer", dst.conninfo(&db));
        let (code, json, _) = check(&dst, &as_restorer, &dump, &[], &[]);
        assert_eq!(
            (code, kinds(&json)),
            (4, vec!["privilege".to_string(); 2]),
            "{v}: {json}"
        );
        let named = objects(&json, None);
        assert_eq!(named, ["public", "app_owner"], "{v}");
        assert!(
            !restores(&dst, &db, "restorer", &dump),
            "{v}: restorer created in public"
        );
        // Allowed to create there, restorer still cannot give the table to
        // app_owner, who may not create in public.
        dst.psql(&db, "GRANT CREATE ON SCHEMA public TO restorer");
        let (code, json, _) = check(&dst, &as_restorer, &dump, &[], &[]);
        assert_eq!(
            (code, kinds(&json)),
            (4, vec!["privilege".to_string()]),
            "{v}: {json}"
        );
        assert_eq!(problem(&json, "privilege")["object"], "app_owner");
        assert!(
            !restores(&dst, &db, "restorer", &dump),
            "{v}: app_owner got a table in public"
        );
        dst.psql(&db, "GRANT CREATE ON SCHEMA public TO app_owner");
        let (code, json, _) = check(&dst, &as_restorer, &dump, &[], &[]);
        assert_eq!(code, 0, "{v}: {json}");
        assert!(
            restores(&dst, &db, "restorer", &dump),
            "{v}: restorer could not restore"
        );

        // --require-collation C on a C.UTF-8 database.
        dst.psql(
            "postgres",
            "CREATE DATABASE cutf8 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0",
        );
        let (code, json, _) = check(
            &dst,
            &dst.conninfo("cutf8"),
            &dump,
            &["--require-collation", "C"],
            &[],
        );
        assert_eq!(
            (code, kinds(&json)),
            (4, vec!["collation".to_string()]),
            "{v}: {json}"
        );
        assert_eq!(json["target"]["collate"], "C.UTF-8");
        let (code, _, _) = check(&dst, &dst.conninfo("cutf8"), &dump, &[], &[]);
        assert_eq!(
            code, 0,
            "without --require-collation the collation is no problem"
        );
        let (code, json, _) = check(
            &dst,
            &dst.conninfo(&dst.create_db("c")),
            &dump,
            &["--require-collation", "C"],
            &[],
        );
        assert_eq!(code, 0, "{json}");
    }
}

fn catalog_without_items(server: &Server, db: &str) -> Vec<String> {
    server.lines(
        db,
        "SELECT 'rel ' || oid::regclass || ' ' || relkind::text FROM pg_class
         UNION ALL SELECT 'role ' || rolname FROM pg_roles
         UNION ALL SELECT 'nsp ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace",
    )
}

/// A pg_dump 18 dump into a PostgreSQL 15 target: the settings 15 rejects
/// are reported with --target-version; pgpipe-filter's fix makes it ready.
/// PostgreSQL 15's ICU collations and lz4 columns into the PostgreSQL 18
/// build here, which has neither.
#[test]
fn version_and_server_features() {
    let src = Server::start(Version::V15);
    let (db, _) = source(&src);
    let dump18 = {
        let mut cmd = src.client_command(Version::V18, "pg_dump");
        let out = run(cmd.arg("-d").arg(&db), None);
        assert!(out.status.success());
        out.stdout
    };
    let dst15 = Server::start(Version::V15);
    dst15.psql("postgres", "CREATE ROLE app_owner");
    let t = dst15.create_db("old");
    let (code, json, _) = check(&dst15, &dst15.conninfo(&t), &dump18, &[], &[]);
    assert_eq!(
        (code, kinds(&json)),
        (4, vec!["version".to_string()]),
        "{json}"
    );
    let p = problem(&json, "version");
    assert_eq!(p["object"], "SET transaction_timeout");
    assert_eq!(p["fix"], "pgpipe-filter --target-version 15");
    assert!(!restores(&dst15, &t, "postgres", &dump18));
    let mut filter = Command::new(support::tool("pgpipe-filter"));
    let fixed = run(filter.args(["--target-version", "15"]), Some(&dump18)).stdout;
    let (code, json, _) = check(&dst15, &dst15.conninfo(&t), &fixed, &[], &[]);
    assert_eq!(code, 0, "{json}");
    assert!(restores(&dst15, &t, "postgres", &fixed));

    // ICU and lz4 from the Debian build of 15 into the embedded 18 build.
    let feat = src.create_db("feat");
    src.psql(
        &feat,
        "CREATE COLLATION und_icu (provider = icu, locale = 'und');
         CREATE TABLE packed (id int, body text COMPRESSION lz4);
         INSERT INTO packed VALUES (1, repeat('x', 10000));",
    );
    let dump = src.pg_dump(&feat, &[]);
    let dst18 = Server::start(Version::V18);
    let t = dst18.create_db("feat");
    let (code, json, _) = check(&dst18, &dst18.conninfo(&t), &dump, &[], &[]);
    assert_eq!(code, 4, "{json}");
    let named = objects(&json, Some("feature"));
    assert_eq!(named, ["ICU", "compression lz4"], "{json}");
    assert!(!restores(&dst18, &t, "postgres", &dump));
    // The same dump into 15 itself is ready and restores.
    let t = dst15.create_db("feat");
    let (code, json, _) = check(&dst15, &dst15.conninfo(&t), &dump, &[], &[]);
    assert_eq!(code, 0, "{json}");
    assert!(restores(&dst15, &t, "postgres", &dump));

    // xml data (the 18 build has no libxml) and a tablespace 18 lacks, each
    // on its own, so each restore fails for its own reason.
    support::create_tablespace(&src);
    for (sql, object) in [
        (
            "CREATE TABLE docs (d xml); INSERT INTO docs VALUES ('<a/>')",
            "xml",
        ),
        ("CREATE TABLE placed (id int) TABLESPACE ts1", "ts1"),
    ] {
        let db = src.create_db("feat");
        src.psql(&db, sql);
        let dump = src.pg_dump(&db, &[]);
        let t = dst18.create_db("feat");
        let (code, json, _) = check(&dst18, &dst18.conninfo(&t), &dump, &[], &[]);
        assert_eq!(code, 4, "{json}");
        assert_eq!(objects(&json, Some("feature")), [object], "{json}");
        assert!(!restores(&dst18, &t, "postgres", &dump), "{object}");
        if object == "ts1" {
            // The fix the report names: without the tablespace, ready.
            let fix = problem(&json, "feature")["fix"]
                .as_str()
                .unwrap()
                .to_string();
            assert_eq!(fix, "pgpipe-filter --no-tablespaces");
            let mut filter = Command::new(support::tool("pgpipe-filter"));
            let fixed = run(filter.arg("--no-tablespaces"), Some(&dump)).stdout;
            let t18 = dst18.create_db("feat");
            let (code, json, _) = check(&dst18, &dst18.conninfo(&t18), &fixed, &[], &[]);
            assert_eq!(code, 0, "{json}");
            assert!(restores(&dst18, &t18, "postgres", &fixed));
        } else {
            let t = dst15.create_db("feat");
            let (code, json, _) = check(&dst15, &dst15.conninfo(&t), &dump, &[], &[]);
            assert_eq!(code, 0, "{json}");
            assert!(restores(&dst15, &t, "postgres", &dump));
        }
    }
}

/// URI, key=value, PG* variables and .pgpass against scram-sha-256; each
/// with a wrong password fails with exit 1 and psql's reason. An
/// unreachable target exits 1 before any byte is read.
#[test]
fn connections_behave_as_in_the_restore() {
    let server = Server::start(Version::V18);
    server.psql(
        "postgres",
        "SET password_encryption = 'scram-sha-256'; ALTER ROLE postgres PASSWORD 'right pw'",
    );
    let db = server.create_db("auth");
    std::fs::write(
        server.data_dir().join("pg_hba.conf"),
        "local all all scram-sha-256\n",
    )
    .unwrap();
    server.psql("postgres", "SELECT pg_reload_conf()");
    std::thread::sleep(Duration::from_millis(500));
    let dump = complete(b"CREATE TABLE t (a int);\n");
    let host = server.socket_dir().display().to_string();
    let port = server
        .env()
        .into_iter()
        .find(|(k, _)| *k == "PGPORT")
        .unwrap()
        .1;
    let port = port.to_str().unwrap().to_string();
    let uri = |pw: &str| {
        format!(
            "postgresql:///{db}?host={}&port={port}&user=postgres&password={}",
            host.replace('/', "%2F"),
            pw.replace(' ', "%20")
        )
    };
    let kv =
        |pw: &str| format!("host={host} port={port} user=postgres dbname={db} password='{pw}'");
    let tmp = tempfile::tempdir().unwrap();
    let pgpass = |pw: &str| {
        let path = tmp.path().join(format!("pgpass-{}", pw.len()));
        std::fs::write(&path, format!("{host}:{port}:*:postgres:{pw}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path.display().to_string()
    };
    for pw in ["right pw", "wrong"] {
        let want = if pw == "right pw" { 0 } else { 1 };
        let env_vars = [
            ("PGHOST", host.as_str()),
            ("PGPORT", port.as_str()),
            ("PGUSER", "postgres"),
            ("PGDATABASE", db.as_str()),
            ("PGPASSWORD", pw),
        ];
        let pass = pgpass(pw);
        let no_pw = format!("host={host} port={port} user=postgres dbname={db}");
        let runs: Vec<(String, Vec<(&str, &str)>)> = vec![
            (uri(pw), vec![]),
            (kv(pw), vec![]),
            (String::new(), env_vars.to_vec()),
            (no_pw.clone(), vec![("PGPASSFILE", pass.as_str())]),
        ];
        for (conninfo, env) in runs {
            let (code, json, err) = check(&server, &conninfo, &dump, &[], &env);
            assert_eq!(code, want, "{conninfo} {env:?}: {err}");
            if want == 0 {
                assert_eq!(json["target"]["database"], db.as_str());
            } else {
                assert!(err.contains("password authentication failed"), "{err}");
                assert_eq!(json, serde_json::Value::Null, "a report was printed");
            }
        }
    }
    // Unreachable: psql's reason, exit 1, and a passthrough releases nothing.
    let mut cmd = Command::new(support::tool("pgpipe-inspect"));
    clean_env(&mut cmd, &server);
    let out = run(
        cmd.args([
            "--passthrough",
            "--target",
            "host=/nonexistent/socket port=5432 dbname=x",
        ]),
        Some(&dump),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(support::exit_code(&out), 1, "{err}");
    assert!(err.contains("/nonexistent/socket"), "{err}");
    assert!(out.stdout.is_empty());
}

/// A restore holding an exclusive lock on a table the dump creates: the
/// check finishes in a few seconds and says the rows are unknown.
#[test]
fn a_locked_target_does_not_make_the_check_wait() {
    let server = Server::start(Version::V15);
    let db = server.create_db("locked");
    server.psql(&db, "CREATE TABLE public.items (id int PRIMARY KEY, body text); INSERT INTO items VALUES (1, 'x')");
    let dump = complete(b"CREATE TABLE public.items (id int PRIMARY KEY, body text);\n");
    let mut holder = server.command("psql");
    let mut holder = holder
        .args(["-X", "-q", "-d", &db, "-c"])
        .arg("BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.psql(&db, "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'items'::regclass") != "1" {
        assert!(Instant::now() < deadline, "the lock was never taken");
        std::thread::sleep(Duration::from_millis(100));
    }
    let started = Instant::now();
    let (code, json, err) = check(&server, &server.conninfo(&db), &dump, &[], &[]);
    let took = started.elapsed();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(code, 4, "{err}");
    assert_eq!(
        problem(&json, "object_exists")["object"],
        "public.items (rows unknown: locked)"
    );
    assert!(took < Duration::from_secs(15), "the check took {took:?}");
}

/// --passthrough in the restore pipe: a ready target gets the dump
/// unchanged; a problem withholds the end, so pgpipe-guard rolls back.
#[test]
fn passthrough_withholds_the_end_when_not_ready() {
    let src = Server::start(Version::V18);
    // Larger than the 64 KiB held back, so the cut stream reaches psql.
    let (_, dump) = source_with_rows(&src, 3000);
    assert!(dump.len() > 200_000);
    let dst = Server::start(Version::V18);
    for ready in [false, true] {
        if ready {
            dst.psql("postgres", "CREATE ROLE app_owner");
        }
        let db = dst.create_db("pass");
        let mut cmd = Command::new(support::tool("pgpipe-inspect"));
        clean_env(&mut cmd, &dst);
        let out = run(
            cmd.args([
                "--passthrough",
                "--report",
                "/dev/null",
                "--target",
                &dst.conninfo(&db),
            ]),
            Some(&dump),
        );
        assert_eq!(support::exit_code(&out), if ready { 0 } else { 4 });
        if ready {
            assert!(out.stdout == dump, "passthrough changed the dump");
        } else {
            assert!(out.stdout.len() < dump.len(), "the end was released");
        }
        assert_eq!(restores(&dst, &db, "postgres", &out.stdout), ready);
        let tables = dst.psql(
            &db,
            "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'inv')",
        );
        assert_eq!(tables, if ready { "1" } else { "0" });
    }
}

/// A managed host's pg_dumpall creates its databases with `LOCALE
/// 'en_US.UTF-8'`: through the pipeline users run (`filter
/// --roles-if-not-exists --skip-role postgres --drop-grantor-if-missing
/// --no-tablespaces | roles --drop …`), `--target` against a server that
/// lacks that locale reports the database (exit 4), and PostgreSQL agrees:
/// the restore fails with `invalid LC_COLLATE locale name`. A server that
/// has the locale (compiled into the tests' LOCPATH) is ready, and the
/// restore succeeds. An ICU database on a server built without ICU (18
/// here) is reported, as PostgreSQL refuses it.
#[test]
fn database_locales_the_target_cannot_create() {
    let source = Server::start(Version::V18);
    source.psql(
        "postgres",
        "CREATE ROLE rdsadmin; CREATE ROLE app LOGIN; GRANT app TO rdsadmin",
    );
    source.psql(
        "postgres",
        "CREATE DATABASE shop LOCALE 'en_US.UTF-8' TEMPLATE template0 OWNER app",
    );
    source.psql(
        "shop",
        "CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2)",
    );
    let dumpall = source.pg_dumpall(&["--restrict-key=pgpipetestkey"]);
    let filtered = support::run_tool_ok(
        "pgpipe-filter",
        &[
            "--roles-if-not-exists",
            "--skip-role",
            "postgres",
            "--drop-grantor-if-missing",
            "--no-tablespaces",
        ],
        Some(&dumpall),
    )
    .unwrap();
    let dump =
        support::run_tool_ok("pgpipe-roles", &["--drop", "rdsadmin"], Some(&filtered)).unwrap();

    // Without the locale.
    let bare = Server::start_without_locales(Version::V18);
    let (code, json, stderr) = check(&bare, &bare.conninfo("postgres"), &dump, &[], &[]);
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(json["ready"], false);
    assert_eq!(kinds(&json), ["database_locale"], "{json:#}");
    let p = problem(&json, "database_locale");
    assert_eq!(p["object"], "shop");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("invalid LC_COLLATE locale name: \"en_US.UTF-8\""),
        "{detail}"
    );
    assert!(
        p["fix"]
            .as_str()
            .unwrap()
            .contains("localedef -i en_US -f UTF-8 en_US.UTF-8"),
        "{p:#}"
    );
    // PostgreSQL agrees: the restore fails there, on that locale.
    let guarded = support::run_tool_ok("pgpipe-guard", &["--per-database"], Some(&dump)).unwrap();
    let (code, _, err) = bare.psql_status("postgres", &guarded, &["-q"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("invalid LC_COLLATE locale name: \"en_US.UTF-8\""),
        "{err}"
    );

    // With it.
    let target = Server::start(Version::V18);
    let (code, json, stderr) = check(&target, &target.conninfo("postgres"), &dump, &[], &[]);
    assert_eq!(code, 0, "{stderr}\n{json:#}");
    assert_eq!(json["ready"], true);
    assert_eq!(json["dump_locales"][0]["collate"], "en_US.UTF-8");
    let (code, _, err) = target.psql_status("postgres", &guarded, &["-q"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(target.psql("shop", "SELECT count(*) FROM items"), "2");

    // An ICU database on a build without ICU.
    let icu = String::from_utf8_lossy(&dump).replace(
        "LOCALE_PROVIDER = libc LOCALE = 'en_US.UTF-8'",
        "LOCALE_PROVIDER = icu LOCALE = 'en_US.UTF-8' ICU_LOCALE = 'en-US'",
    );
    assert_ne!(
        icu.as_bytes(),
        &dump[..],
        "the dump's CREATE DATABASE has changed form"
    );
    let (code, json, _) = check(
        &target,
        &target.conninfo("postgres"),
        icu.as_bytes(),
        &[],
        &[],
    );
    assert_eq!(code, 4);
    let p = problem(&json, "database_locale");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("ICU is not supported in this build"),
        "{p:#}"
    );
    let (code, _, err) = bare.psql_status(
        "postgres",
        b"CREATE DATABASE icu_check LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C' TEMPLATE template0",
        &["-q", "-v", "ON_ERROR_STOP=1"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("ICU is not supported in this build"), "{err}");
}
