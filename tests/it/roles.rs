//! pgpipe-roles against real PostgreSQL 15 and 18: identity, the fixture
//! round trip with every role renamed, drops and their widening checks,
//! the managed-hosting migration, pg_dumpall rename and merge, and the
//! pg_dump 17 fixture into 18.

use crate::support;
use std::sync::LazyLock;
use support::{create_roles, create_tablespace, first_difference, user_tables};

use std::process::Command;

use support::{RESTRICT_KEY, Server, Version, exit_code, fixture, pg17_plain, run};

fn roles(args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    let mut cmd = Command::new(support::tool("pgpipe-roles"));
    cmd.args(args).arg("--no-progress");
    let out = run(&mut cmd, Some(input));
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn roles_ok(args: &[&str], input: &[u8]) -> Vec<u8> {
    let (code, out, err) = roles(args, input);
    assert_eq!(code, 0, "pgpipe-roles {args:?} failed: {err}");
    out
}

/// Every fixture role and its new name: needs-no-quotes to keyword, upper
/// case, embedded quote and space, digit-leading.
const RENAMES: &[(&str, &str)] = &[
    ("alice", "alicia"),
    ("Bob Smith", "Robert Smith"),
    ("select", "table"),
    ("we\"ird", "we\"irder"),
    ("app_owner", "3f9a2c71"),
    ("readers", "Readers"),
    ("UPPER", "lower"),
];

fn map_args() -> Vec<String> {
    RENAMES
        .iter()
        .flat_map(|(a, b)| ["--map".to_string(), format!("{a}={b}")])
        .collect()
}

/// Catalog facts that name roles, for one database.
fn catalogs(server: &Server, db: &str) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("owners", server.owners(db)),
        ("acls", server.acls(db)),
        ("default_acls", server.default_acls(db)),
        ("policy_roles", server.policy_roles(db)),
        ("user_mappings", server.user_mappings(db)),
        ("comments", server.comments(db)),
    ]
}

/// `\restrict KEY` / `\unrestrict KEY` lines with the key blanked.
fn blank_restrict_keys(dump: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(dump.len());
    for line in dump.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"\\restrict ") {
            out.extend_from_slice(b"\\restrict KEY\n");
        } else if line.starts_with(b"\\unrestrict ") {
            out.extend_from_slice(b"\\unrestrict KEY\n");
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

#[test]
fn no_options_is_byte_identity() {
    for v in [Version::V15, Version::V18] {
        let fx = fixture(v);
        for name in [
            "plain",
            "inserts",
            "column-inserts",
            "session-auth",
            "clean",
            "create",
            "dumpall",
            "globals",
        ] {
            let dump = fx.dump(name);
            assert!(roles_ok(&[], dump) == dump, "{name} on {v:?} changed");
        }
    }
    let pg17 = pg17_plain();
    assert!(roles_ok(&[], &pg17) == pg17);
}

/// Dump, rename every fixture role, restore into a fresh cluster where
/// only the new roles exist; compare with the original restored and renamed
/// by the server itself (`ALTER ROLE … RENAME`), and with pg_dump.
fn round_trip(v: Version, dump_name: &str) {
    let fx = fixture(v);
    let dump = fx.dump(dump_name);
    let args = map_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let rewritten = roles_ok(&args, dump);
    assert_ne!(rewritten, dump);

    // The target: only the new roles exist.
    let target = Server::start(v);
    let new_names: Vec<&str> = RENAMES.iter().map(|(_, b)| *b).collect();
    create_roles(&target, &new_names);
    create_tablespace(&target);
    let db = target.create_db("roles");
    target.restore_plain(&db, &rewritten);

    // The reference: the original dump restored with the old roles, then
    // renamed by the server.
    let reference = Server::start(v);
    let old_names: Vec<&str> = RENAMES.iter().map(|(a, _)| *a).collect();
    create_roles(&reference, &old_names);
    create_tablespace(&reference);
    let rdb = reference.create_db("roles");
    reference.restore_plain(&rdb, dump);
    let mut sql = String::new();
    for (a, b) in RENAMES {
        sql.push_str(&format!(
            "ALTER ROLE {} RENAME TO {};\n",
            support::quote_ident(a),
            support::quote_ident(b)
        ));
    }
    reference.psql("postgres", &sql);

    for ((what, got), (_, want)) in catalogs(&target, &db)
        .into_iter()
        .zip(catalogs(&reference, &rdb))
    {
        assert_eq!(got, want, "{what} differ on {v:?} ({dump_name})");
        for line in &got {
            for (old, _) in RENAMES {
                let q = support::quote_ident(old);
                assert!(
                    !line.contains(&format!(": {q}")) && !line.contains(&format!("(grantor {q})")),
                    "{what} names old role {old}: {line}"
                );
            }
        }
    }
    assert!(!target.owners(&db).is_empty());
    assert!(!target.acls(&db).is_empty());

    // Every table's rows are identical to the source.
    let tables = user_tables(&fx.server, "db1");
    assert!(tables.len() > 5, "{tables:?}");
    assert_eq!(tables, user_tables(&target, &db));
    for t in &tables {
        assert_eq!(
            target.table_digest(&db, t),
            fx.server.table_digest("db1", t),
            "rows of {t} differ on {v:?}"
        );
    }

    // pg_dump of the restored database is the tool's output.
    let key = format!("--restrict-key={RESTRICT_KEY}");
    let again = target.pg_dump(&db, &[&key]);
    let (a, b) = (blank_restrict_keys(&again), blank_restrict_keys(&rewritten));
    assert!(
        a == b,
        "pg_dump of the restore differs from the rewritten dump on {v:?}: {}",
        first_difference(&a, &b)
    );
}

#[test]
fn fixture_round_trip_15() {
    round_trip(Version::V15, "plain");
}

#[test]
fn fixture_round_trip_18() {
    round_trip(Version::V18, "plain");
}

#[test]
fn mapping_quotes_like_pg_dump_and_refuses_bad_names() {
    let input = b"ALTER TABLE public.t OWNER TO \"3f9a2c71\";\n";
    assert_eq!(
        roles_ok(&["--map", "3f9a2c71=synapse"], input),
        b"ALTER TABLE public.t OWNER TO synapse;\n"
    );
    assert_eq!(
        roles_ok(&["--map", "3f9a2c71=Select"], input),
        b"ALTER TABLE public.t OWNER TO \"Select\";\n"
    );
    assert_eq!(
        roles_ok(&["-m", "3f9a2c71=x; DROP TABLE t"], input),
        b"ALTER TABLE public.t OWNER TO \"x; DROP TABLE t\";\n"
    );
    let long = format!("a={}", "x".repeat(64));
    for bad in [
        vec!["--map", "=x"],
        vec!["--map", "a="],
        vec!["--map", "a=PUBLIC"],
        vec!["--map", "a=pg_read_all_data"],
        vec!["--map", "a=b", "--map", "a=c"],
        vec!["--map", &long],
        vec!["--map", "a=b", "--drop", "a"],
    ] {
        let (code, out, err) = roles(&bad, input);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(out.is_empty());
        assert!(err.starts_with("pgpipe-roles: error: "), "{err}");
    }
    // A map file: comments, blank lines, CRLF.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("map");
    std::fs::write(&f, "# ids from the old host\r\n\n3f9a2c71=synapse\r\n").unwrap();
    assert_eq!(
        roles_ok(&["--map-file", f.to_str().unwrap()], input),
        b"ALTER TABLE public.t OWNER TO synapse;\n"
    );
    std::fs::write(&f, "3f9a2c71\n").unwrap();
    let (code, _, err) = roles(&["--map-file", f.to_str().unwrap()], input);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn unparsable_statement_naming_a_changed_role_is_an_error_with_its_line() {
    let input = b"SELECT 1;\nALTER TABLE t OWNER TO alice garbage;\n";
    let (code, out, err) = roles(&["--map", "alice=bob"], input);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("error: line 2: "), "{err}");
    assert!(!out.ends_with(b"garbage;\n"));
    // Not naming a changed role: copied as is.
    assert_eq!(roles_ok(&["--map", "carol=bob"], input), input);
}

#[test]
fn truncated_input_exits_3_and_keeps_the_tail() {
    let fx = fixture(Version::V18);
    let dump = fx.dump("plain");
    let cut = &dump[..dump.len() * 2 / 3];
    let (code, _, err) = roles(&["--map", "alice=alicia"], cut);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("not written"), "{err}");
    // Without options the output is a strict prefix: the tail is withheld.
    let (code, out, _) = roles(&[], cut);
    assert_eq!(code, 3);
    assert!(out.len() < cut.len() && cut.starts_with(&out));
}

#[test]
fn drop_widening_checks_force_drop_and_only_roles() {
    // A policy whose only role is the dropped one.
    let policy = b"SELECT 1;\nCREATE POLICY p ON public.t TO rdsadmin USING (true);\n";
    let (code, out, err) = roles(&["--drop", "rdsadmin"], policy);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: line 2: dropping role \"rdsadmin\""),
        "{err}"
    );
    assert!(err.contains("--map"), "{err}");
    assert!(!out.ends_with(b"USING (true);\n"));
    assert_eq!(
        roles_ok(&["--drop", "rdsadmin", "--force-drop"], policy),
        b"SELECT 1;\n"
    );
    // A policy with another role only loses the dropped one.
    assert_eq!(
        roles_ok(
            &["--drop", "rdsadmin"],
            b"CREATE POLICY p ON public.t TO alice, rdsadmin USING (true);\n"
        ),
        b"CREATE POLICY p ON public.t TO alice USING (true);\n"
    );
    // A REVOKE from the dropped owner of the object.
    let revoke = b"--\n-- Name: TABLE t; Type: ACL; Schema: public; Owner: rdsadmin\n--\n\nREVOKE ALL ON TABLE public.t FROM rdsadmin;\nGRANT SELECT ON TABLE public.t TO rdsadmin, alice;\n";
    let (code, _, err) = roles(&["--drop", "rdsadmin"], revoke);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("error: line 5: "), "{err}");
    assert_eq!(
        roles_ok(&["--drop", "rdsadmin", "--force-drop"], revoke),
        b"--\n-- Name: TABLE t; Type: ACL; Schema: public; Owner: rdsadmin\n--\n\nGRANT SELECT ON TABLE public.t TO alice;\n"
    );
    // Everything else of the role goes.
    let all = b"CREATE ROLE rdsadmin;\nALTER ROLE rdsadmin WITH SUPERUSER;\nALTER ROLE rdsadmin SET search_path TO x;\nGRANT rdsadmin TO alice;\nGRANT readers TO rdsadmin, alice GRANTED BY rdsadmin;\nALTER TABLE public.t OWNER TO rdsadmin;\nALTER DEFAULT PRIVILEGES FOR ROLE rdsadmin GRANT SELECT ON TABLES TO alice;\nSET SESSION AUTHORIZATION 'rdsadmin';\nCREATE DATABASE d WITH OWNER = rdsadmin ENCODING = 'UTF8';\nCREATE TABLESPACE ts OWNER rdsadmin LOCATION '/x';\nCOMMENT ON ROLE rdsadmin IS 'x';\n";
    assert_eq!(
        String::from_utf8(roles_ok(&["--drop", "rdsadmin"], all)).unwrap(),
        "GRANT readers TO alice;\nRESET SESSION AUTHORIZATION;\nCREATE DATABASE d WITH ENCODING = 'UTF8';\nCREATE TABLESPACE ts LOCATION '/x';\n"
    );

    // --only-roles on the fixture: fails naming lines, passes after mapping.
    let fx = fixture(Version::V18);
    let dump = fx.dump("plain");
    let (code, out, err) = roles(&["--only-roles", "postgres"], dump);
    assert_eq!(code, 1);
    assert!(out.len() <= dump.len());
    assert!(
        err.contains("role \"alice\" is not in --only-roles"),
        "{err}"
    );
    let first = err.lines().next().unwrap();
    assert!(first.starts_with("pgpipe-roles: error: line "), "{err}");
    let mut args = map_args();
    let mut allowed: Vec<String> = RENAMES.iter().map(|(_, b)| b.to_string()).collect();
    allowed.push("postgres".into());
    args.push("--only-roles".into());
    args.push(allowed.join(","));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    roles_ok(&args, dump);
}

/// The statements of a dump (COPY data left out).
fn statements(dump: &[u8]) -> Vec<String> {
    let mut reader = pgpipe::dump::Reader::new(dump);
    let mut out = Vec::new();
    while let Some(seg) = reader.next_segment().unwrap() {
        if matches!(
            seg.kind,
            pgpipe::dump::Kind::Statement | pgpipe::dump::Kind::CopyStatement
        ) {
            out.push(String::from_utf8_lossy(seg.bytes).into_owned());
        }
    }
    out
}

#[test]
fn owner_no_owner_no_acl() {
    let fx = fixture(Version::V18);
    let dump = fx.dump("plain");
    let target = Server::start(Version::V18);
    // Policies and user mappings still name the fixture roles.
    let mut names: Vec<&str> = RENAMES.iter().map(|(a, _)| *a).collect();
    names.push("synapse");
    create_roles(&target, &names);
    // Event triggers and foreign-data wrappers must be owned by superusers.
    target.psql("postgres", "ALTER ROLE synapse SUPERUSER");
    create_tablespace(&target);

    // --owner synapse --no-acl: every object belongs to synapse.
    let out = roles_ok(&["--owner", "synapse", "--no-acl"], dump);
    let db = target.create_db("owner");
    target.restore_plain(&db, &out);
    let owners = target.owners(&db);
    assert!(owners.len() > 10);
    // What the unchanged dump leaves to the restoring user (extensions, the
    // constructors a range type gets when created) stays with it; every
    // object a fixture role owns becomes synapse's.
    let plain_db = target.create_db("plain");
    target.restore_plain(&plain_db, dump);
    let plain = target.owners(&plain_db);
    assert_eq!(owners.len(), plain.len());
    let mut reassigned = 0;
    for (got, was) in owners.iter().zip(&plain) {
        let object = was.rsplit_once(": ").unwrap().0;
        if was.ends_with(": postgres") || was.ends_with(": pg_database_owner") {
            // ALTER … OWNER TO postgres in the dump becomes synapse too.
            assert!(got == was || *got == format!("{object}: synapse"), "{got}");
        } else {
            assert_eq!(*got, format!("{object}: synapse"));
            reassigned += 1;
        }
    }
    assert!(reassigned > 10, "{owners:?}");
    for s in statements(&out) {
        let t = s.trim_start();
        assert!(!t.starts_with("GRANT ") && !t.starts_with("REVOKE "), "{s}");
        assert!(!t.starts_with("ALTER DEFAULT PRIVILEGES"), "{s}");
    }
    // Only the public schema's ACL of a fresh database is left.
    let acls: Vec<String> = target
        .acls(&db)
        .into_iter()
        .filter(|l| !l.starts_with("schema public:"))
        .collect();
    assert!(acls.is_empty(), "{acls:?}");
    assert!(target.default_acls(&db).is_empty());

    // --no-owner on the session-authorization dump: objects belong to
    // whoever restores, like pg_dump -O.
    let out = roles_ok(&["--no-owner"], fx.dump("session-auth"));
    for s in statements(&out) {
        assert!(!s.contains("SESSION AUTHORIZATION"), "{s}");
        assert!(
            !(s.starts_with("ALTER ") && s.contains(" OWNER TO ")),
            "{s}"
        );
    }
    let db = target.create_db("noowner");
    target.restore_plain(&db, &out);
    for line in target.owners(&db) {
        assert!(
            line.ends_with(": postgres") || line.starts_with("schema public:"),
            "{line}"
        );
    }
}

/// The migration the tool exists for: a database from managed hosting owned
/// by an opaque per-customer role, with grants to rdsadmin, holding chat
/// rows whose text is SQL naming those roles.
#[test]
fn managed_hosting_migration() {
    const CHAT: &str = "CREATE TABLE chat (id int PRIMARY KEY, body text);
INSERT INTO chat VALUES (1, 'ALTER TABLE x OWNER TO rdsadmin;'),
  (2, 'GRANT ALL ON TABLE t TO \"3f9a2c71\";'),
  (3, 'rdsadmin and 3f9a2c71 in prose');
CREATE SCHEMA synapse_data;
CREATE TABLE synapse_data.events (id bigserial, note text);
INSERT INTO synapse_data.events (note) VALUES ('OWNER TO rdsadmin');
CREATE POLICY own ON chat TO \"3f9a2c71\", rdsadmin USING (true);
GRANT ALL ON TABLE chat TO rdsadmin;
GRANT SELECT ON TABLE synapse_data.events TO rdsadmin, PUBLIC;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO rdsadmin;";
    for v in [Version::V15, Version::V18] {
        let src = Server::start(v);
        src.psql(
            "postgres",
            "CREATE ROLE \"3f9a2c71\" LOGIN; CREATE ROLE rdsadmin; \
             CREATE DATABASE synapse OWNER \"3f9a2c71\";",
        );
        let (code, _, err) = src.psql_status(
            "synapse",
            format!("SET ROLE \"3f9a2c71\";\n{CHAT}").as_bytes(),
            &["-q", "-v", "ON_ERROR_STOP=1"],
        );
        assert_eq!(code, 0, "{err}");
        let dump = src.pg_dump("synapse", &[]);
        assert!(String::from_utf8_lossy(&dump).contains("OWNER TO \"3f9a2c71\";"));

        let out = roles_ok(&["--map", "3f9a2c71=synapse", "--drop", "rdsadmin"], &dump);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains("ALTER TABLE public.chat OWNER TO synapse;"),
            "{text}"
        );
        assert!(text.contains("CREATE POLICY own ON public.chat TO synapse USING (true);"));

        let dst = Server::start(v);
        create_roles(&dst, &["synapse"]);
        let db = dst.create_db("synapse");
        dst.restore_plain(&db, &out);
        for t in ["public.chat", "synapse_data.events"] {
            assert_eq!(
                dst.table_digest(&db, t),
                src.table_digest("synapse", t),
                "{t}"
            );
        }
        assert_eq!(
            dst.lines(&db, "SELECT body FROM chat ORDER BY id"),
            [
                "ALTER TABLE x OWNER TO rdsadmin;",
                "GRANT ALL ON TABLE t TO \"3f9a2c71\";",
                "rdsadmin and 3f9a2c71 in prose"
            ]
        );
        for line in dst.owners(&db) {
            assert!(
                line.ends_with(": synapse") || line.starts_with("schema public:"),
                "{line}"
            );
        }

        // The sed recipe people use instead: it restores, and corrupts the rows.
        let mut sed = Command::new("sed");
        sed.args([
            "-e",
            "s/\"3f9a2c71\"/synapse/g",
            "-e",
            "s/rdsadmin/synapse/g",
        ]);
        let sedded = run(&mut sed, Some(&dump)).stdout;
        let db2 = dst.create_db("sed");
        dst.restore_plain(&db2, &sedded);
        assert_ne!(
            dst.table_digest(&db2, "public.chat"),
            src.table_digest("synapse", "public.chat")
        );
        assert_eq!(
            dst.lines(&db2, "SELECT body FROM chat WHERE id = 1"),
            ["ALTER TABLE x OWNER TO synapse;"]
        );
    }
}

/// Finding: a pg_dumpall of a managed host (3f9a2c71 with a password,
/// readers NOLOGIN, synapse LOGIN without one), through
/// `pgpipe-filter --database synapse --roles-if-not-exists | pgpipe-roles
/// --map 3f9a2c71=synapse --map readers=synapse --drop rdsadmin`, into a
/// server whose synapse exists with its own password: the target's synapse
/// keeps its password and LOGIN (3f9a2c71's password and readers' NOLOGIN
/// used to be applied to it, whichever came last), and the data arrives.
#[test]
fn merged_roles_leave_the_target_role_alone() {
    static FILTER: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-filter"));
    for v in Version::ALL {
        let src = Server::start(v);
        src.psql(
            "postgres",
            "CREATE ROLE \"3f9a2c71\" LOGIN PASSWORD 'managed-secret'; \
             CREATE ROLE readers NOLOGIN; CREATE ROLE synapse LOGIN; CREATE ROLE rdsadmin; \
             GRANT readers TO \"3f9a2c71\"; \
             CREATE DATABASE synapse OWNER \"3f9a2c71\";",
        );
        let (code, _, err) = src.psql_status(
            "synapse",
            b"SET ROLE \"3f9a2c71\";\nCREATE TABLE events (id int, body text);\n\
              INSERT INTO events VALUES (1, 'ALTER ROLE readers WITH NOLOGIN;');\n\
              GRANT SELECT ON events TO readers;\nGRANT SELECT ON events TO rdsadmin;\n",
            &["-q", "-v", "ON_ERROR_STOP=1"],
        );
        assert_eq!(code, 0, "{err}");
        let dumpall = src.pg_dumpall(&[]);

        let mut filter = Command::new(*FILTER);
        filter.args([
            "--no-progress",
            "--database",
            "synapse",
            "--roles-if-not-exists",
        ]);
        let filtered = run(&mut filter, Some(&dumpall));
        assert_eq!(
            exit_code(&filtered),
            0,
            "{}",
            String::from_utf8_lossy(&filtered.stderr)
        );
        let (code, out, err) = roles(
            &[
                "--map",
                "3f9a2c71=synapse",
                "--map",
                "readers=synapse",
                "--drop",
                "rdsadmin",
                "--report",
            ],
            &filtered.stdout,
        );
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("left out: the dump defines synapse itself"),
            "{err}"
        );

        let dst = Server::start(v);
        dst.psql(
            "postgres",
            "CREATE ROLE synapse LOGIN PASSWORD 'target-secret';",
        );
        let before = dst.lines(
            "postgres",
            "SELECT rolname, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'synapse'",
        );
        let (code, _, stderr) = dst.psql_status("postgres", &out, &["-q", "-v", "ON_ERROR_STOP=1"]);
        assert_eq!(code, 0, "{stderr}");
        let after = dst.lines(
            "postgres",
            "SELECT rolname, rolcanlogin, rolpassword FROM pg_authid WHERE rolname = 'synapse'",
        );
        assert_eq!(after, before, "the target's synapse changed");
        assert_eq!(
            dst.lines(
                "postgres",
                "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1"
            ),
            ["postgres", "synapse"]
        );
        assert_eq!(
            dst.table_digest("synapse", "public.events"),
            src.table_digest("synapse", "public.events")
        );
        assert_eq!(
            dst.lines(
                "synapse",
                "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'events'"
            ),
            ["synapse"]
        );
    }
}

fn replace_tablespace_dir(dump: &[u8], from: &Server, fx_dir: &std::path::Path) -> Vec<u8> {
    let old = format!("LOCATION '{}';", fx_dir.display());
    let new = format!("LOCATION '{}';", from.new_dir("ts1").display());
    let text = String::from_utf8(dump.to_vec()).unwrap();
    assert_eq!(text.matches(&old).count(), 1);
    text.replace(&old, &new).into_bytes()
}

fn replay(server: &Server, dump: &[u8]) {
    // pg_dumpall prints CREATE ROLE for the role it ran as, which exists.
    let (code, _, stderr) = server.psql_status("postgres", dump, &["-q"]);
    assert_eq!(code, 0, "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("ERROR:")).collect();
    assert_eq!(
        errors,
        ["ERROR:  role \"postgres\" already exists"],
        "{stderr}"
    );
}

#[test]
fn pg_dumpall_rename_and_merge() {
    let v = Version::V18;
    let fx = fixture(v);
    let dump = fx.dump("dumpall");
    let args = map_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = roles_ok(&args, dump);

    let target = Server::start(v);
    replay(
        &target,
        &replace_tablespace_dir(&out, &target, &fx.tablespace_dir),
    );
    let reference = Server::start(v);
    replay(
        &reference,
        &replace_tablespace_dir(dump, &reference, &fx.tablespace_dir),
    );
    let mut sql = String::new();
    for (a, b) in RENAMES {
        sql.push_str(&format!(
            "ALTER ROLE {} RENAME TO {};\n",
            support::quote_ident(a),
            support::quote_ident(b)
        ));
    }
    reference.psql("postgres", &sql);
    assert_eq!(target.roles(), reference.roles());
    assert_eq!(target.memberships(), reference.memberships());
    assert_eq!(target.role_settings(), reference.role_settings());
    assert_eq!(target.cluster_owners(), reference.cluster_owners());
    assert_eq!(target.cluster_acls(), reference.cluster_acls());
    for (what, got) in catalogs(&target, "db1") {
        let want = catalogs(&reference, "db1")
            .into_iter()
            .find(|(w, _)| *w == what)
            .unwrap()
            .1;
        assert_eq!(got, want, "{what}");
    }
    let roles_now = target.roles().join("\n");
    assert!(!roles_now.contains("alice"), "{roles_now}");

    // Merge: two roles mapped onto one give one CREATE ROLE.
    let out = roles_ok(&["--map", "select=readers", "--map", "UPPER=readers"], dump);
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(text.matches("CREATE ROLE readers;").count(), 1, "{text}");
    let merged = Server::start(v);
    replay(
        &merged,
        &replace_tablespace_dir(&out, &merged, &fx.tablespace_dir),
    );
    let names = merged.roles().join("\n");
    assert!(
        !names.contains("UPPER") && !names.contains("\"select\""),
        "{names}"
    );
}

#[test]
fn passwords_md5_warning_report_and_dry_run() {
    let input = b"CREATE ROLE a;\nALTER ROLE a WITH LOGIN PASSWORD 'md5d5f2e2bd2bd5dbd3a7c2f0b5b8a9d1f0';\n";
    // The hash is salted with the old name: removed, as ALTER ROLE …
    // RENAME clears it, with a warning.
    let (code, out, err) = roles(&["--map", "a=b"], input);
    assert_eq!(code, 0);
    assert_eq!(out, b"CREATE ROLE b;\nALTER ROLE b WITH LOGIN;\n");
    assert!(
        err.contains("pgpipe-roles: warning: line 2: role \"a\""),
        "{err}"
    );
    assert!(err.contains("so it was removed"), "{err}");
    let (code, out, err) = roles(&["--map", "a=b", "--drop-passwords"], input);
    assert_eq!(code, 0);
    assert_eq!(out, b"CREATE ROLE b;\nALTER ROLE b WITH LOGIN;\n");
    assert!(err.is_empty(), "{err}");

    // On a real globals dump (SCRAM verifier): no password left, replays.
    let fx = fixture(Version::V15);
    let out = roles_ok(&["--drop-passwords"], fx.dump("globals"));
    assert!(!String::from_utf8_lossy(&out).contains("PASSWORD"));
    assert!(String::from_utf8_lossy(fx.dump("globals")).contains("PASSWORD 'SCRAM"));

    // --dry-run: report on stderr, nothing on stdout; --report-json.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let (code, out, err) = roles(
        &[
            "--map",
            "alice=alicia",
            "--dry-run",
            "--report-json",
            json.to_str().unwrap(),
        ],
        fx.dump("plain"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("alice: owner renamed to alicia: "), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["role"] == "alice"
            && c["kind"] == "owner"
            && c["count"].as_u64().unwrap() > 3)
    );
    assert!(v["headers_rewritten"].as_u64().unwrap() > 3);
}

#[test]
fn pg17_dump_into_18() {
    let dump = pg17_plain();
    let args = map_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = roles_ok(&args, &dump);
    // pg_dump prints the fixture's handler-less language as CREATE OR
    // REPLACE PROCEDURAL LANGUAGE, which 13+ runs as CREATE EXTENSION and
    // fails; give it a handler as the harness's LANGUAGE_FIXUP does.
    let out = String::from_utf8(out).unwrap().replacen(
        "CREATE OR REPLACE PROCEDURAL LANGUAGE plsample_nonexist;",
        "CREATE FUNCTION public.plsample_handler() RETURNS language_handler \
         LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';\n\
         CREATE PROCEDURAL LANGUAGE plsample_nonexist HANDLER public.plsample_handler;",
        1,
    );
    let target = Server::start(Version::V18);
    let new_names: Vec<&str> = RENAMES.iter().map(|(_, b)| *b).collect();
    create_roles(&target, &new_names);
    create_tablespace(&target);
    let db = target.create_db("pg17");
    target.restore_plain(&db, out.as_bytes());
    let owners = target.owners(&db);
    assert!(owners.iter().any(|l| l.ends_with(": alicia")), "{owners:?}");
    for line in owners.iter().chain(target.acls(&db).iter()) {
        assert!(
            !line.contains(": alice") && !line.contains("(grantor alice)"),
            "{line}"
        );
    }
    // The rows are the fixture's rows.
    let fx = fixture(Version::V15);
    for t in user_tables(&fx.server, "db1") {
        assert_eq!(
            target.table_digest(&db, &t),
            fx.server.table_digest("db1", &t),
            "{t}"
        );
    }
}

fn dequote(token: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(token).ok()?;
    if let Some(inner) = s.strip_prefix('"') {
        Some(inner.strip_suffix('"')?.replace("\"\"", "\""))
    } else if let Some(inner) = s.strip_prefix('\'') {
        Some(inner.strip_suffix('\'')?.replace("''", "'"))
    } else {
        Some(s.to_ascii_lowercase())
    }
}

/// New names that need every kind of quoting.
const NEW_NAMES: &[&str] = &[
    "synapse",
    "Select",
    "table",
    "x; DROP TABLE t",
    "3f9a2c71",
    "o'brien",
    "q\"q",
    "user_1",
    "Ünïcode",
    "a b",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]

    /// For random mappings over the fixtures: the output is the input with
    /// the reported edits applied, each edit replaces a token naming a
    /// mapped role by the pg_dump quoting of its new name, and every output
    /// statement parses.
    #[test]
    fn random_mappings_touch_only_reported_spans(
        picks in proptest::collection::vec((0..RENAMES.len(), 0..NEW_NAMES.len()), 1..6),
        which in 0..4usize,
    ) {
        use pgpipe::sql::ident::{quote_ident, quote_literal};
        let fx = fixture(Version::V18);
        let dump = fx.dump(["plain", "session-auth", "dumpall", "column-inserts"][which]);
        let mut map: Vec<(String, String)> = Vec::new();
        for (o, n) in picks {
            let old = RENAMES[o].0.to_string();
            // Distinct new names: merging is tested on its own.
            if map.iter().all(|(a, b)| *a != old && b != NEW_NAMES[n]) {
                map.push((old, NEW_NAMES[n].to_string()));
            }
        }
        let opts = pgpipe::transform::roles::Options {
            map: map.clone(),
            record_edits: true,
            ..Default::default()
        };
        let mut out = Vec::new();
        let rep = pgpipe::transform::roles::rewrite(dump, Some(&mut out), &opts, &Default::default()).unwrap();
        // Output = input with the edits applied.
        let mut rebuilt = Vec::new();
        let mut at = 0usize;
        for e in &rep.edits {
            let (s, t) = (e.start as usize, e.end as usize);
            proptest::prop_assert!(s >= at);
            rebuilt.extend_from_slice(&dump[at..s]);
            rebuilt.extend_from_slice(&e.new);
            at = t;
            let orig = &dump[s..t];
            let ok = map.iter().any(|(old, new)| {
                (e.new == quote_ident(new).as_bytes() && dequote(orig).as_deref() == Some(old.as_str()) && orig[0] != b'\'')
                    || (e.new == quote_literal(new).as_bytes() && orig == quote_literal(old).as_bytes())
                    || (e.new == new.as_bytes() && orig == old.as_bytes())
            });
            proptest::prop_assert!(ok, "edit {:?} of {:?}", e, String::from_utf8_lossy(orig));
        }
        rebuilt.extend_from_slice(&dump[at..]);
        proptest::prop_assert!(rebuilt == out);
        // Every output statement parses.
        let mut reader = pgpipe::dump::Reader::new(&out[..]);
        while let Some(seg) = reader.next_segment().unwrap() {
            if matches!(seg.kind, pgpipe::dump::Kind::Statement | pgpipe::dump::Kind::CopyStatement) {
                let text = std::str::from_utf8(seg.bytes).unwrap();
                proptest::prop_assert!(pg_query::parse(text, 0).is_ok(), "line {}: {}", seg.line, text);
            }
        }
    }
}

/// The byte forms a role name takes in the encoding tests.
struct EncodingCase {
    encoding: &'static str,
    /// The role's name as given on the command line (UTF-8).
    role: &'static str,
    /// How the role is created: from a session on `postgres` (UTF-8 bytes,
    /// the usual case) or from a session on the database in `encoding`.
    created_in_db: bool,
    /// A table name in the database's encoding.
    table: &'static [u8],
}

const ENCODING_CASES: &[EncodingCase] = &[
    EncodingCase {
        encoding: "LATIN1",
        role: "r\u{f4}le",
        created_in_db: false,
        table: b"caf\xe9",
    },
    EncodingCase {
        encoding: "WIN1252",
        role: "r\u{20ac}le",
        created_in_db: false,
        table: b"caf\xe9 \x80",
    },
    EncodingCase {
        encoding: "EUC_JP",
        role: "\u{30ed}\u{30fc}\u{30eb}",
        created_in_db: true,
        table: b"\xa5\xc6\xa1\xbc\xa5\xd6\xa5\xeb",
    },
    EncodingCase {
        encoding: "SQL_ASCII",
        role: "r\u{f4}le",
        created_in_db: false,
        table: b"caf\xc3\xa9",
    },
];

/// Finding: in a dump whose client encoding is not UTF-8, `--map OLD=NEW`
/// rewrote the `-- … Owner:` headers but not the statements. Each case is
/// checked against PostgreSQL: the original restored and then
/// `ALTER ROLE OLD RENAME TO synapse` gives the same database (pg_dump of
/// both, data included) as the rewritten dump restored; and no byte form of
/// the old name is left in the output.
#[test]
fn non_utf8_dumps_rename_like_alter_role() {
    for v in Version::ALL {
        let server = Server::start(v);
        for case in ENCODING_CASES {
            let enc = case.encoding;
            let src = format!("src_{}", enc.to_lowercase());
            server.psql(
                "postgres",
                &format!(
                    "CREATE DATABASE {src} ENCODING '{enc}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
                ),
            );
            // The role's bytes: UTF-8 from a session on postgres, or the
            // database's encoding from a session on it.
            let role_in_db = pgpipe::sql::encoding::encode(case.role, enc)
                .unwrap()
                .into_owned();
            let role_bytes: Vec<u8> = if case.created_in_db {
                role_in_db.clone()
            } else {
                case.role.as_bytes().to_vec()
            };
            let quoted = |b: &[u8]| [&b"\""[..], b, b"\""].concat();
            let db_for_role = if case.created_in_db {
                src.as_str()
            } else {
                "postgres"
            };
            let session = if case.created_in_db { enc } else { "SQL_ASCII" };
            let mut create_all =
                format!("SET client_encoding = '{session}';\nCREATE ROLE ").into_bytes();
            create_all.extend_from_slice(&quoted(&role_bytes));
            create_all.extend_from_slice(b" LOGIN;\n");
            let (code, _, err) =
                server.psql_status(db_for_role, &create_all, &["-q", "-v", "ON_ERROR_STOP=1"]);
            assert_eq!(code, 0, "{enc}: {err}");
            let mut sql = format!("SET client_encoding = '{enc}';\n").into_bytes();
            for part in [
                &b"CREATE TABLE public."[..],
                &quoted(case.table),
                b" (id int, note text);\nINSERT INTO public.",
                &quoted(case.table),
                b" VALUES (1, 'owner ",
                &role_bytes,
                b"');\nALTER TABLE public.",
                &quoted(case.table),
                b" OWNER TO ",
                &quoted(&role_bytes),
                b";\nGRANT SELECT ON public.",
                &quoted(case.table),
                b" TO ",
                &quoted(&role_bytes),
                b";\nALTER SCHEMA public OWNER TO ",
                &quoted(&role_bytes),
                b";\n",
            ] {
                sql.extend_from_slice(part);
            }
            let (code, _, err) = server.psql_status(&src, &sql, &["-q", "-v", "ON_ERROR_STOP=1"]);
            assert_eq!(code, 0, "{enc}: {err}");
            let dump = server.pg_dump(&src, &["--restrict-key=K"]);
            let text = String::from_utf8_lossy(&dump);
            assert!(
                text.contains(&format!("SET client_encoding = '{enc}';")),
                "{enc}"
            );

            let out = roles_ok(&["--map", &format!("{}=synapse", case.role)], &dump);
            // No form of the old name is left, except in the row's text.
            let row = [&b"owner "[..], &role_bytes].concat();
            let without_row =
                String::from_utf8_lossy(&out).replace(&*String::from_utf8_lossy(&row), "");
            for form in [case.role.as_bytes(), &role_in_db[..]] {
                assert!(
                    !without_row.contains(&*String::from_utf8_lossy(form)),
                    "{enc} v{}: {:?} left in:\n{without_row}",
                    v.major(),
                    String::from_utf8_lossy(form)
                );
            }

            // PostgreSQL's answer: restore the original, rename the role.
            let restore = |db: &str, bytes: &[u8]| {
                server.psql(
                    "postgres",
                    &format!(
                        "CREATE DATABASE {db} ENCODING '{enc}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
                    ),
                );
                let (code, _, err) =
                    server.psql_status(db, bytes, &["-q", "-v", "ON_ERROR_STOP=1"]);
                assert_eq!(code, 0, "{enc} restore into {db}: {err}");
            };
            let want_db = format!("want_{}", enc.to_lowercase());
            let got_db = format!("got_{}", enc.to_lowercase());
            restore(&want_db, &dump);
            let mut rename =
                format!("SET client_encoding = '{session}';\nALTER ROLE ").into_bytes();
            rename.extend_from_slice(&quoted(&role_bytes));
            rename.extend_from_slice(b" RENAME TO synapse;\n");
            let (code, _, err) =
                server.psql_status(db_for_role, &rename, &["-q", "-v", "ON_ERROR_STOP=1"]);
            assert_eq!(code, 0, "{enc}: {err}");
            restore(&got_db, &out);
            let want = server.pg_dump(&want_db, &["--restrict-key=K"]);
            let got = server.pg_dump(&got_db, &["--restrict-key=K"]);
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&want),
                "{enc} on {}",
                v.major()
            );
            assert!(String::from_utf8_lossy(&got).contains("OWNER TO synapse;"));
            server.psql("postgres", "ALTER ROLE synapse RENAME TO placeholder_role");
            server.psql(
                "postgres",
                &format!(
                    "DROP DATABASE {src}; DROP DATABASE {want_db}; DROP DATABASE {got_db}; DROP ROLE placeholder_role;"
                ),
            );
        }
    }
}
