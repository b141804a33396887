//! Statement analysis against every role-bearing form pg_dump and
//! pg_dumpall emit, quoting edge cases, client encodings, and the committed
//! pg_dump 17 fixture.

use crate::support;

use std::collections::BTreeSet;

use pgpipe::dump::{Kind, Reader};

use pgpipe::sql::analysis::{
    Action, Analysis, AnalyzeOptions, ObjectKind, ObjectRef, RoleName, RoleRefKind as K, analyze,
    analyze_with, may_reference_roles,
};
use pgpipe::sql::{quote_ident, quote_literal};

fn named(s: &str) -> RoleName {
    RoleName::Named(s.to_string())
}

/// The role a span's text denotes, computed independently of the library:
/// quoted identifiers and literals dequoted, bare words folded to lower case.
fn dequote(span: &str) -> String {
    let mut v = if let Some(inner) = span.strip_prefix('"') {
        inner.strip_suffix('"').unwrap().replace("\"\"", "\"")
    } else if let Some(inner) = span.strip_prefix('\'') {
        inner.strip_suffix('\'').unwrap().replace("''", "'")
    } else {
        span.to_ascii_lowercase()
    };
    // The server truncates names to 63 bytes.
    let mut cut = v.len().min(63);
    while !v.is_char_boundary(cut) {
        cut -= 1;
    }
    v.truncate(cut);
    v
}

/// Check the invariants every analysis must hold, for any statement:
/// spans are in bounds, their text denotes the role, and the prefilter
/// never hides a role reference.
fn check_invariants(stmt: &[u8], a: &Analysis, encoding: &str) {
    if !may_reference_roles(stmt) {
        assert!(
            a.role_refs.is_empty(),
            "prefilter said no roles but analysis found {:?} in {}",
            a.role_refs,
            String::from_utf8_lossy(stmt)
        );
    }
    for r in &a.role_refs {
        let bytes = &stmt[r.span.clone()];
        let text = decode_for_test(bytes, encoding);
        match &r.role {
            RoleName::Named(n) => assert_eq!(&dequote(&text), n, "span text {text:?}"),
            RoleName::Public => assert_eq!(dequote(&text), "public"),
            RoleName::CurrentUser => {
                assert!(["current_user", "user"].contains(&dequote(&text).as_str()))
            }
            RoleName::SessionUser => assert_eq!(dequote(&text), "session_user"),
            RoleName::CurrentRole => assert_eq!(dequote(&text), "current_role"),
        }
        assert_eq!(r.literal, text.starts_with('\'') || text.starts_with("E'"));
        if let Some(l) = &r.list {
            assert!(l.index < l.len);
            assert!(l.removal.start <= r.span.start && l.removal.end >= r.span.end);
        }
    }
}

fn decode_for_test(bytes: &[u8], encoding: &str) -> String {
    match encoding {
        "LATIN1" | "SQL_ASCII" => bytes.iter().map(|&b| char::from(b)).collect(),
        "SJIS" => encoding_rs::SHIFT_JIS.decode(bytes).0.into_owned(),
        _ => String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn analyze_ok(stmt: &str) -> Analysis {
    let a = analyze(stmt.as_bytes(), "UTF8").unwrap_or_else(|e| panic!("{stmt}: {e}"));
    check_invariants(stmt.as_bytes(), &a, "UTF8");
    a
}

/// (kind, role, span text, literal) for every reference.
fn refs(stmt: &str) -> Vec<(K, RoleName, String, bool)> {
    analyze_ok(stmt)
        .role_refs
        .into_iter()
        .map(|r| (r.kind, r.role, stmt[r.span].to_string(), r.literal))
        .collect()
}

fn r(kind: K, role: RoleName, text: &str) -> (K, RoleName, String, bool) {
    (kind, role, text.to_string(), false)
}

fn obj(kind: ObjectKind, schema: Option<&str>, name: &str) -> ObjectRef {
    ObjectRef {
        kind,
        schema: schema.map(str::to_string),
        name: name.to_string(),
        table: None,
    }
}

#[test]
fn alter_owner_forms() {
    for (stmt, kind, schema, name, role, text) in [
        (
            "ALTER TABLE \"Weird Schema\".\"My Table\" OWNER TO \"Bob Smith\";",
            ObjectKind::Table,
            Some("Weird Schema"),
            "My Table",
            "Bob Smith",
            "\"Bob Smith\"",
        ),
        (
            "ALTER SCHEMA app OWNER TO alice;",
            ObjectKind::Schema,
            None,
            "app",
            "alice",
            "alice",
        ),
        (
            "ALTER DOMAIN app.posint OWNER TO \"select\";",
            ObjectKind::Domain,
            Some("app"),
            "posint",
            "select",
            "\"select\"",
        ),
        (
            "ALTER FUNCTION app.f1(x integer) OWNER TO \"Bob Smith\";",
            ObjectKind::Function,
            Some("app"),
            "f1",
            "Bob Smith",
            "\"Bob Smith\"",
        ),
        (
            "ALTER OPERATOR app.=== (integer, integer) OWNER TO alice;",
            ObjectKind::Operator,
            Some("app"),
            "===",
            "alice",
            "alice",
        ),
        (
            "ALTER OPERATOR FAMILY app.myfam USING btree OWNER TO alice;",
            ObjectKind::Operator,
            Some("app"),
            "myfam",
            "alice",
            "alice",
        ),
        (
            "ALTER LARGE OBJECT 424242 OWNER TO alice;",
            ObjectKind::LargeObject,
            None,
            "424242",
            "alice",
            "alice",
        ),
        (
            "ALTER DATABASE db1 OWNER TO \"3f9a2c71\";",
            ObjectKind::Database,
            None,
            "db1",
            "3f9a2c71",
            "\"3f9a2c71\"",
        ),
        (
            "ALTER VIEW app.v1 OWNER TO \"UPPER\";",
            ObjectKind::View,
            Some("app"),
            "v1",
            "UPPER",
            "\"UPPER\"",
        ),
        (
            "ALTER SEQUENCE app.seq1 OWNER TO \"we\"\"ird\";",
            ObjectKind::Sequence,
            Some("app"),
            "seq1",
            "we\"ird",
            "\"we\"\"ird\"",
        ),
        (
            "ALTER MATERIALIZED VIEW app.mv1 OWNER TO alice;",
            ObjectKind::MatView,
            Some("app"),
            "mv1",
            "alice",
            "alice",
        ),
        (
            "ALTER TEXT SEARCH CONFIGURATION app.mycfg OWNER TO alice;",
            ObjectKind::TextSearch,
            Some("app"),
            "mycfg",
            "alice",
            "alice",
        ),
        (
            "ALTER PROCEDURAL LANGUAGE plsample OWNER TO postgres;",
            ObjectKind::Language,
            None,
            "plsample",
            "postgres",
            "postgres",
        ),
        (
            "ALTER EVENT TRIGGER evt OWNER TO \"new\nline\";",
            ObjectKind::EventTrigger,
            None,
            "evt",
            "new\nline",
            "\"new\nline\"",
        ),
        (
            "ALTER FOREIGN TABLE app.ft1 OWNER TO alice;",
            ObjectKind::Table,
            Some("app"),
            "ft1",
            "alice",
            "alice",
        ),
        (
            "ALTER SUBSCRIPTION sub1 OWNER TO alice;",
            ObjectKind::Subscription,
            None,
            "sub1",
            "alice",
            "alice",
        ),
    ] {
        let a = analyze_ok(stmt);
        assert_eq!(a.action, Action::Alter, "{stmt}");
        let o = a.object.clone().unwrap();
        assert_eq!(
            (o.kind, o.schema.as_deref(), o.name.as_str()),
            (kind, schema, name),
            "{stmt}"
        );
        assert_eq!(refs(stmt), vec![r(K::Owner, named(role), text)], "{stmt}");
    }
    // ALTER TABLE ... OWNER carries the table; the exact byte span.
    let s = "ALTER TABLE app.t1 OWNER TO alice;\n";
    let a = analyze_ok(s);
    assert_eq!(a.role_refs[0].span, 28..33);
    assert_eq!(
        a.object.unwrap().table,
        Some((Some("app".to_string()), "t1".to_string()))
    );
}

#[test]
fn leading_comments_and_trailing_newline_keep_offsets() {
    let s = "--\n-- Name: t1; Type: TABLE; Schema: app; Owner: alice\n--\n\nALTER TABLE app.t1 OWNER TO alice;\n";
    let a = analyze_ok(s);
    let span = a.role_refs[0].span.clone();
    assert_eq!(&s[span.clone()], "alice");
    assert_eq!(span.end, s.len() - 2);
}

#[test]
fn tablespace_and_schema_authorization() {
    assert_eq!(
        refs("CREATE TABLESPACE ts1 OWNER alice LOCATION '/path';"),
        vec![r(K::TablespaceOwner, named("alice"), "alice")]
    );
    assert_eq!(
        refs("CREATE SCHEMA s AUTHORIZATION \"Bob Smith\";"),
        vec![r(
            K::SchemaAuthorization,
            named("Bob Smith"),
            "\"Bob Smith\""
        )]
    );
    let a = analyze_ok("CREATE SCHEMA AUTHORIZATION alice;");
    assert_eq!(a.object, Some(obj(ObjectKind::Schema, None, "alice")));
    // A GRANT inside a schema element is found too.
    assert_eq!(
        refs("CREATE SCHEMA s AUTHORIZATION a GRANT SELECT ON t TO b;")
            .into_iter()
            .map(|x| x.0)
            .collect::<Vec<_>>(),
        vec![K::SchemaAuthorization, K::Grantee]
    );
}

#[test]
fn grants_and_revokes() {
    assert_eq!(
        refs(
            "GRANT SELECT,INSERT,REFERENCES,TRIGGER,TRUNCATE,UPDATE ON TABLE app.t1 TO \"select\";"
        ),
        vec![r(K::Grantee, named("select"), "\"select\"")]
    );
    assert_eq!(
        refs("REVOKE ALL ON FUNCTION app.f1(x integer) FROM PUBLIC;"),
        vec![r(K::Grantee, RoleName::Public, "PUBLIC")]
    );
    assert_eq!(
        refs("GRANT SELECT(name) ON TABLE app.t1 TO \"Bob Smith\";"),
        vec![r(K::Grantee, named("Bob Smith"), "\"Bob Smith\"")]
    );
    assert_eq!(
        refs("GRANT INSERT ON TABLE app.t1 TO \"we\"\"ird\" WITH GRANT OPTION;"),
        vec![r(K::Grantee, named("we\"ird"), "\"we\"\"ird\"")]
    );
    assert_eq!(
        refs("GRANT SET ON PARAMETER work_mem TO alice;"),
        vec![r(K::ParameterGrantee, named("alice"), "alice")]
    );
    assert_eq!(
        refs("GRANT ALTER SYSTEM ON PARAMETER shared_buffers TO \"Bob Smith\";"),
        vec![r(K::ParameterGrantee, named("Bob Smith"), "\"Bob Smith\"")]
    );
    let s = "GRANT SELECT ON TABLE t TO a, CURRENT_USER, \"Bob Smith\", SESSION_USER, CURRENT_ROLE GRANTED BY rdsadmin;";
    assert_eq!(
        refs(s),
        vec![
            r(K::Grantee, named("a"), "a"),
            r(K::Grantee, RoleName::CurrentUser, "CURRENT_USER"),
            r(K::Grantee, named("Bob Smith"), "\"Bob Smith\""),
            r(K::Grantee, RoleName::SessionUser, "SESSION_USER"),
            r(K::Grantee, RoleName::CurrentRole, "CURRENT_ROLE"),
            r(K::GrantedBy, named("rdsadmin"), "rdsadmin"),
        ]
    );
    let a = analyze_ok(s);
    // Removal spans drop one grantee and one comma.
    let removals: Vec<&str> = a
        .role_refs
        .iter()
        .filter_map(|r| r.list.as_ref().map(|l| &s[l.removal.clone()]))
        .collect();
    assert_eq!(
        removals,
        vec![
            "a, ",
            ", CURRENT_USER",
            ", \"Bob Smith\"",
            ", SESSION_USER",
            ", CURRENT_ROLE"
        ]
    );
    let gb = a.role_refs.last().unwrap();
    assert_eq!(&s[gb.clause.clone().unwrap()], "GRANTED BY rdsadmin");
    // Object and table of a grant.
    let a = analyze_ok("GRANT SELECT ON TABLE app.t1 TO readers;");
    assert_eq!(a.action, Action::Grant);
    let o = a.object.unwrap();
    assert_eq!(
        (o.kind, o.table),
        (ObjectKind::Table, Some((Some("app".into()), "t1".into())))
    );
    let a = analyze_ok("REVOKE CONNECT,TEMPORARY ON DATABASE db1 FROM PUBLIC;");
    assert_eq!(a.action, Action::Revoke);
    assert_eq!(a.object, Some(obj(ObjectKind::Database, None, "db1")));
}

#[test]
fn role_memberships() {
    let s = "GRANT readers TO \"Bob Smith\" WITH ADMIN OPTION, INHERIT TRUE GRANTED BY postgres;";
    assert_eq!(
        refs(s),
        vec![
            r(K::MembershipRole, named("readers"), "readers"),
            r(K::Member, named("Bob Smith"), "\"Bob Smith\""),
            r(K::GrantedBy, named("postgres"), "postgres"),
        ]
    );
    assert_eq!(
        &s[analyze_ok(s).role_refs[2].clause.clone().unwrap()],
        "GRANTED BY postgres"
    );
    assert_eq!(
        refs("GRANT pg_read_all_data, \"select\" TO \"UPPER\", admin;"),
        vec![
            r(
                K::MembershipRole,
                named("pg_read_all_data"),
                "pg_read_all_data"
            ),
            r(K::MembershipRole, named("select"), "\"select\""),
            r(K::Member, named("UPPER"), "\"UPPER\""),
            r(K::Member, named("admin"), "admin"),
        ]
    );
    assert_eq!(
        refs("REVOKE ADMIN OPTION FOR Readers FROM alice GRANTED BY \"3f9a2c71\" CASCADE;"),
        vec![
            r(K::MembershipRole, named("readers"), "Readers"),
            r(K::Member, named("alice"), "alice"),
            r(K::GrantedBy, named("3f9a2c71"), "\"3f9a2c71\""),
        ]
    );
    assert_eq!(
        refs("REVOKE /* c */ \"option\" FROM alice;"),
        vec![
            r(K::MembershipRole, named("option"), "\"option\""),
            r(K::Member, named("alice"), "alice"),
        ]
    );
}

#[test]
fn default_privileges_policies_user_mappings() {
    assert_eq!(
        refs(
            "ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA app GRANT SELECT ON TABLES TO readers;"
        ),
        vec![
            r(K::DefaultPrivilegesFor, named("alice"), "alice"),
            r(K::DefaultPrivilegesGrantee, named("readers"), "readers"),
        ]
    );
    assert_eq!(
        refs("ALTER DEFAULT PRIVILEGES FOR ROLE alice REVOKE ALL ON FUNCTIONS  FROM PUBLIC;"),
        vec![
            r(K::DefaultPrivilegesFor, named("alice"), "alice"),
            r(K::DefaultPrivilegesGrantee, RoleName::Public, "PUBLIC"),
        ]
    );
    let s = "CREATE POLICY pol1 ON app.t1 FOR SELECT TO \"Bob Smith\", readers USING (true);";
    assert_eq!(
        refs(s),
        vec![
            r(K::PolicyRole, named("Bob Smith"), "\"Bob Smith\""),
            r(K::PolicyRole, named("readers"), "readers"),
        ]
    );
    let o = analyze_ok(s).object.unwrap();
    assert_eq!(
        (o.kind, o.name.as_str(), o.table),
        (
            ObjectKind::Policy,
            "pol1",
            Some((Some("app".into()), "t1".into()))
        )
    );
    assert_eq!(
        refs("ALTER POLICY pol1 ON app.t1 TO alice;"),
        vec![r(K::PolicyRole, named("alice"), "alice")]
    );
    assert_eq!(
        refs(
            "CREATE USER MAPPING FOR \"Bob Smith\" SERVER srv1 OPTIONS (\n    password 'pw',\n    \"user\" 'bob'\n);"
        ),
        vec![r(K::UserMapping, named("Bob Smith"), "\"Bob Smith\"")]
    );
    assert_eq!(
        refs("CREATE USER MAPPING FOR public SERVER srv1;"),
        vec![r(K::UserMapping, RoleName::Public, "public")]
    );
    assert_eq!(
        refs("DROP USER MAPPING IF EXISTS FOR CURRENT_USER SERVER srv1;"),
        vec![r(K::UserMapping, RoleName::CurrentUser, "CURRENT_USER")]
    );
    assert_eq!(
        refs("ALTER USER MAPPING FOR USER SERVER srv1 OPTIONS (SET user 'alice');"),
        vec![r(K::UserMapping, RoleName::CurrentUser, "USER")]
    );
    assert_eq!(
        analyze_ok("CREATE USER MAPPING FOR public SERVER srv1;").object,
        Some(obj(ObjectKind::UserMapping, None, "srv1"))
    );
}

#[test]
fn session_authorization_and_set_role() {
    assert_eq!(
        refs("SET SESSION AUTHORIZATION 'Bob Smith';"),
        vec![(
            K::SessionAuthorization,
            named("Bob Smith"),
            "'Bob Smith'".into(),
            true
        )]
    );
    assert_eq!(
        refs("SET SESSION AUTHORIZATION 'it''s';"),
        vec![(
            K::SessionAuthorization,
            named("it's"),
            "'it''s'".into(),
            true
        )]
    );
    assert_eq!(
        refs("SET SESSION AUTHORIZATION alice;"),
        vec![r(K::SessionAuthorization, named("alice"), "alice")]
    );
    assert_eq!(
        refs("SET SESSION AUTHORIZATION \"Bob Smith\";"),
        vec![r(
            K::SessionAuthorization,
            named("Bob Smith"),
            "\"Bob Smith\""
        )]
    );
    assert!(refs("SET SESSION AUTHORIZATION DEFAULT;").is_empty());
    assert!(refs("RESET SESSION AUTHORIZATION;").is_empty());
    assert_eq!(
        refs("SET ROLE \"x\";"),
        vec![r(K::SetRole, named("x"), "\"x\"")]
    );
    assert_eq!(
        refs("SET ROLE admin;"),
        vec![r(K::SetRole, named("admin"), "admin")]
    );
    assert!(refs("SET ROLE NONE;").is_empty());
    assert!(refs("RESET ROLE;").is_empty());
    assert_eq!(
        analyze_ok("SET client_encoding = 'UTF8';").action,
        Action::Set
    );
}

#[test]
fn role_definitions_and_settings() {
    assert_eq!(
        refs("CREATE ROLE \"Bob Smith\";"),
        vec![r(K::RoleDefinition, named("Bob Smith"), "\"Bob Smith\"")]
    );
    assert_eq!(
        refs("CREATE USER alice IN ROLE readers, \"select\" ROLE m1 ADMIN m2 PASSWORD 'alice';"),
        vec![
            r(K::RoleDefinition, named("alice"), "alice"),
            r(K::MembershipRole, named("readers"), "readers"),
            r(K::MembershipRole, named("select"), "\"select\""),
            r(K::Member, named("m1"), "m1"),
            r(K::Member, named("m2"), "m2"),
        ]
    );
    assert_eq!(
        refs("CREATE GROUP /* x */ grp USER u1;"),
        vec![
            r(K::RoleDefinition, named("grp"), "grp"),
            r(K::Member, named("u1"), "u1"),
        ]
    );
    let s = "ALTER ROLE \"Bob Smith\" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'md5x';";
    assert_eq!(
        refs(s),
        vec![r(K::RoleDefinition, named("Bob Smith"), "\"Bob Smith\"")]
    );
    assert_eq!(
        analyze_ok(s).object,
        Some(obj(ObjectKind::Role, None, "Bob Smith"))
    );
    assert_eq!(
        refs("ALTER ROLE x RENAME TO \"Y\";"),
        vec![
            r(K::RoleDefinition, named("x"), "x"),
            r(K::RoleNewName, named("Y"), "\"Y\""),
        ]
    );
    assert_eq!(
        refs("ALTER ROLE alice SET search_path TO 'public', 'app';"),
        vec![r(K::RoleSetting, named("alice"), "alice")]
    );
    // The value of a role setting is not a role reference, even for `role`.
    assert_eq!(
        refs("ALTER ROLE readers SET role TO 'alice';"),
        vec![r(K::RoleSetting, named("readers"), "readers")]
    );
    assert_eq!(
        refs("ALTER ROLE \"Bob Smith\" IN DATABASE db1 SET statement_timeout TO '5s';"),
        vec![r(K::RoleInDatabase, named("Bob Smith"), "\"Bob Smith\"")]
    );
    assert_eq!(
        refs("DROP ROLE IF EXISTS a, \"Bob Smith\";"),
        vec![
            r(K::RoleDefinition, named("a"), "a"),
            r(K::RoleDefinition, named("Bob Smith"), "\"Bob Smith\""),
        ]
    );
    assert_eq!(
        refs("COMMENT ON ROLE readers IS E'back\\\\slash';"),
        vec![r(K::CommentOnRole, named("readers"), "readers")]
    );
    assert_eq!(
        refs("SECURITY LABEL FOR dummy ON ROLE \"we\"\"ird\" IS 'classified';"),
        vec![r(K::SecurityLabelOnRole, named("we\"ird"), "\"we\"\"ird\"")]
    );
    assert_eq!(
        refs("SECURITY LABEL ON ROLE x IS 'classified';"),
        vec![r(K::SecurityLabelOnRole, named("x"), "x")]
    );
    assert_eq!(
        refs("REASSIGN OWNED BY \"3f9a2c71\", rdsadmin TO synapse;"),
        vec![
            r(K::ReassignOwned, named("3f9a2c71"), "\"3f9a2c71\""),
            r(K::ReassignOwned, named("rdsadmin"), "rdsadmin"),
            r(K::ReassignOwnedTo, named("synapse"), "synapse"),
        ]
    );
    assert_eq!(
        refs("DROP OWNED BY a CASCADE;"),
        vec![r(K::DropOwned, named("a"), "a")]
    );
    assert_eq!(
        refs("ALTER GROUP g ADD USER u1, u2;"),
        vec![
            r(K::MembershipRole, named("g"), "g"),
            r(K::Member, named("u1"), "u1"),
            r(K::Member, named("u2"), "u2"),
        ]
    );
    assert_eq!(
        refs("CREATE DATABASE d WITH OWNER = alice ENCODING 'UTF8';"),
        vec![r(K::Owner, named("alice"), "alice")]
    );
}

#[test]
fn quoting_edge_cases_are_dequoted() {
    for (text, name) in [
        ("\"Bob Smith\"", "Bob Smith"),
        ("\"select\"", "select"),
        ("\"we\"\"ird\"", "we\"ird"),
        ("\"UPPER\"", "UPPER"),
        ("\"3f9a2c71\"", "3f9a2c71"),
        ("\"new\nline\"", "new\nline"),
        ("MiXeD", "mixed"),
        ("\"caf\u{e9}\"", "caf\u{e9}"),
    ] {
        let s = format!("ALTER TABLE t OWNER TO {text};");
        assert_eq!(refs(&s), vec![r(K::Owner, named(name), text)], "{s}");
        // pg_dump's own quoting of the name, spliced back, parses to the name.
        let q = quote_ident(name);
        let s2 = format!("GRANT SELECT ON t TO {q};");
        assert_eq!(refs(&s2)[0].1, named(name));
    }
    // Over-long names are truncated to 63 bytes as the server does.
    let long = "a".repeat(70);
    let s = format!("ALTER TABLE t OWNER TO {long};");
    let got = refs(&s);
    assert_eq!(got[0].1, named(&"a".repeat(63)));
    assert_eq!(got[0].2, long);
}

#[test]
fn not_role_references() {
    for s in [
        "ALTER SEQUENCE app.t1_id_seq OWNED BY app.t1.id;",
        "ALTER FUNCTION app.f() SET role TO 'x';",
        "ALTER FUNCTION app.f() SET session_authorization TO 'x';",
        "COMMENT ON TABLE t IS 'ALTER TABLE x OWNER TO alice;';",
        "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'GRANT x TO y'; END$$;",
        "ALTER SERVER srv1 OPTIONS (user 'bob');",
        "ALTER TABLE t /* OWNER TO alice */ ADD COLUMN c int; -- OWNER TO bob",
        "INSERT INTO t VALUES ('SET ROLE alice');",
        "SELECT pg_catalog.set_config('search_path', '', false);",
        "ALTER DATABASE db1 SET \"TimeZone\" TO 'UTC';",
        "ALTER SUBSCRIPTION s CONNECTION 'user=alice';",
    ] {
        assert!(refs(s).is_empty(), "{s}");
    }
}

/// (statement, action, object kind, schema, name, table)
type ObjectCase<'a> = (
    &'a str,
    Action,
    ObjectKind,
    Option<&'a str>,
    &'a str,
    Option<(Option<String>, String)>,
);

#[test]
fn objects_of_dump_statements() {
    let t = |s: &str| Some((Some(s.to_string()), "t1".to_string()));
    let cases: Vec<ObjectCase> = vec![
        (
            "CREATE TABLE app.t1 (id integer);",
            Action::Create,
            ObjectKind::Table,
            Some("app"),
            "t1",
            t("app"),
        ),
        (
            "CREATE INDEX t1_name_idx ON app.t1 USING btree (name);",
            Action::Create,
            ObjectKind::Index,
            Some("app"),
            "t1_name_idx",
            t("app"),
        ),
        (
            "CREATE TRIGGER t1_trg BEFORE INSERT ON app.t1 FOR EACH ROW EXECUTE FUNCTION app.trg();",
            Action::Create,
            ObjectKind::Trigger,
            Some("app"),
            "t1_trg",
            t("app"),
        ),
        (
            "CREATE RULE r1 AS ON UPDATE TO app.t1 DO INSTEAD NOTHING;",
            Action::Create,
            ObjectKind::Rule,
            Some("app"),
            "r1",
            t("app"),
        ),
        (
            "ALTER TABLE ONLY app.t1 ADD CONSTRAINT t1_pkey PRIMARY KEY (id);",
            Action::Alter,
            ObjectKind::Constraint,
            Some("app"),
            "t1_pkey",
            t("app"),
        ),
        (
            "ALTER TABLE ONLY app.t1 ALTER COLUMN id SET DEFAULT nextval('app.t1_id_seq'::regclass);",
            Action::Alter,
            ObjectKind::Default,
            Some("app"),
            "id",
            t("app"),
        ),
        (
            "COMMENT ON COLUMN app.t1.name IS 'col comment';",
            Action::Comment,
            ObjectKind::Column,
            Some("app"),
            "name",
            t("app"),
        ),
        (
            "COMMENT ON TABLE app.t1 IS 'x';",
            Action::Comment,
            ObjectKind::Table,
            Some("app"),
            "t1",
            t("app"),
        ),
        (
            "COMMENT ON EXTENSION postgres_fdw IS 'x';",
            Action::Comment,
            ObjectKind::Extension,
            None,
            "postgres_fdw",
            None,
        ),
        (
            "COPY app.t1 (id, name) FROM stdin;",
            Action::Copy,
            ObjectKind::Table,
            Some("app"),
            "t1",
            t("app"),
        ),
        (
            "INSERT INTO app.t1 VALUES (1);",
            Action::Insert,
            ObjectKind::Table,
            Some("app"),
            "t1",
            t("app"),
        ),
        (
            "ALTER SEQUENCE app.t1_id_seq OWNED BY app.t1.id;",
            Action::Alter,
            ObjectKind::Sequence,
            Some("app"),
            "t1_id_seq",
            t("app"),
        ),
        (
            "SELECT pg_catalog.setval('app.seq1', 42, true);",
            Action::Select,
            ObjectKind::Sequence,
            Some("app"),
            "seq1",
            None,
        ),
        (
            "SELECT pg_catalog.lo_create('424242');",
            Action::Select,
            ObjectKind::LargeObject,
            None,
            "424242",
            None,
        ),
        (
            "CREATE VIEW app.v1 AS SELECT 1;",
            Action::Create,
            ObjectKind::View,
            Some("app"),
            "v1",
            None,
        ),
        (
            "CREATE MATERIALIZED VIEW app.mv1 AS SELECT 1 WITH NO DATA;",
            Action::Create,
            ObjectKind::MatView,
            Some("app"),
            "mv1",
            None,
        ),
        (
            "CREATE FUNCTION app.f1(x integer) RETURNS integer LANGUAGE sql AS $$select 1$$;",
            Action::Create,
            ObjectKind::Function,
            Some("app"),
            "f1",
            None,
        ),
        (
            "CREATE PROCEDURE app.p1() LANGUAGE sql AS $$select 1$$;",
            Action::Create,
            ObjectKind::Procedure,
            Some("app"),
            "p1",
            None,
        ),
        (
            "CREATE TYPE app.mood AS ENUM ('ok');",
            Action::Create,
            ObjectKind::Type,
            Some("app"),
            "mood",
            None,
        ),
        (
            "CREATE DOMAIN app.posint AS integer;",
            Action::Create,
            ObjectKind::Domain,
            Some("app"),
            "posint",
            None,
        ),
        (
            "CREATE SCHEMA \"Weird Schema\";",
            Action::Create,
            ObjectKind::Schema,
            None,
            "Weird Schema",
            None,
        ),
        (
            "CREATE EXTENSION IF NOT EXISTS postgres_fdw WITH SCHEMA public;",
            Action::Create,
            ObjectKind::Extension,
            None,
            "postgres_fdw",
            None,
        ),
        (
            "DROP TABLE app.t1;",
            Action::Drop,
            ObjectKind::Table,
            Some("app"),
            "t1",
            t("app"),
        ),
    ];
    for (s, action, kind, schema, name, table) in cases {
        let a = analyze_ok(s);
        assert_eq!(a.action, action, "{s}");
        let o = a.object.unwrap_or_else(|| panic!("no object: {s}"));
        assert_eq!(
            (o.kind, o.schema.as_deref(), o.name.as_str(), o.table),
            (kind, schema, name, table),
            "{s}"
        );
    }
}

#[test]
fn errors_are_reported_not_guessed() {
    let e = analyze(b"GRANT SELECT ON TO;", "UTF8").unwrap_err();
    assert!(e.message.contains("syntax error"), "{e}");
    let e = analyze(b"SELECT 1; SELECT 2;", "UTF8").unwrap_err();
    assert!(e.message.contains("one statement"), "{e}");
    let e = analyze(b"SET ROLE a\0;", "UTF8").unwrap_err();
    assert_eq!(e.offset, Some(10));
    assert!(e.message.contains("NUL"), "{e}");
    let e = analyze(b"SET ROLE \"\xff\";", "UTF8").unwrap_err();
    assert_eq!(e.offset, Some(10));
    let e = analyze(b"SET ROLE \"\xa4\xa4\";", "MULE_INTERNAL").unwrap_err();
    assert!(e.message.contains("MULE_INTERNAL"), "{e}");
    // A comment-only segment is not an error.
    let a = analyze(b"-- nothing here\n", "UTF8").unwrap();
    assert!(a.empty && a.role_refs.is_empty());
}

#[test]
fn standard_conforming_strings_off() {
    let off = AnalyzeOptions {
        standard_conforming_strings: false,
        ..AnalyzeOptions::default()
    };
    // pg_dump with standard_conforming_strings off doubles backslashes.
    let s = br"SET SESSION AUTHORIZATION 'back\\slash';";
    let a = analyze_with(s, "UTF8", &off).unwrap();
    assert_eq!(a.role_refs[0].role, named(r"back\slash"));
    assert_eq!(&s[a.role_refs[0].span.clone()], br"'back\\slash'");
    let a = analyze(s, "UTF8").unwrap();
    assert_eq!(a.role_refs[0].role, named(r"back\\slash"));
    // A backslash-escaped quote would end the literal elsewhere on the
    // server than in the parser: refused, with the literal's offset.
    let s = br"SELECT 'a\', 'b';";
    assert!(analyze(s, "UTF8").is_ok());
    let e = analyze_with(s, "UTF8", &off).unwrap_err();
    assert_eq!(e.offset, Some(7), "{e}");
    // E'' literals read the same either way.
    assert!(analyze_with(br"SET ROLE E'a\'b';", "UTF8", &off).is_ok());
}

#[test]
fn latin1_spans_point_into_original_bytes() {
    // "José" and "Zoë" in LATIN1: one byte each for é and ë.
    let stmt: &[u8] = b"GRANT SELECT ON TABLE caf\xe9 TO \"Jos\xe9\", zo\xeb;";
    let a = analyze(stmt, "LATIN1").unwrap();
    check_invariants(stmt, &a, "LATIN1");
    assert_eq!(a.role_refs.len(), 2);
    assert_eq!(a.role_refs[0].role, named("Jos\u{e9}"));
    assert_eq!(&stmt[a.role_refs[0].span.clone()], b"\"Jos\xe9\"");
    assert_eq!(a.role_refs[0].span, 30..36);
    assert_eq!(a.role_refs[1].role, named("zo\u{eb}"));
    assert_eq!(&stmt[a.role_refs[1].span.clone()], b"zo\xeb");
    assert_eq!(
        a.object.unwrap().name,
        "caf\u{e9}",
        "object names are decoded too"
    );
    // Removal spans are in original bytes as well.
    let l = a.role_refs[1].list.clone().unwrap();
    assert_eq!(&stmt[l.removal], b", zo\xeb");
}

#[test]
fn sql_ascii_spans_point_into_original_bytes() {
    let stmt: &[u8] = b"-- \xff\xfe\nSET SESSION AUTHORIZATION 'r\xe9\xff';\n";
    let a = analyze(stmt, "SQL_ASCII").unwrap();
    check_invariants(stmt, &a, "SQL_ASCII");
    let r0 = &a.role_refs[0];
    assert!(r0.literal);
    assert_eq!(&stmt[r0.span.clone()], b"'r\xe9\xff'");
    assert_eq!(r0.role, named("r\u{e9}\u{ff}"));
}

#[test]
fn sjis_is_decoded_with_trail_backslash_kept() {
    // U+8868 (表) is 0x95 0x5C in Shift_JIS: the trail byte is a backslash.
    let stmt: &[u8] = b"ALTER TABLE t OWNER TO \"\x95\x5c\";";
    let a = analyze(stmt, "SJIS").unwrap();
    check_invariants(stmt, &a, "SJIS");
    assert_eq!(a.role_refs[0].role, named("\u{8868}"));
    assert_eq!(&stmt[a.role_refs[0].span.clone()], b"\"\x95\x5c\"");
    let stmt: &[u8] = b"SET SESSION AUTHORIZATION '\x95\x5c';";
    let a = analyze(stmt, "SJIS").unwrap();
    assert_eq!(&stmt[a.role_refs[0].span.clone()], b"'\x95\x5c'");
    // A lead byte without a valid trail byte is refused.
    assert!(analyze(b"SET ROLE '\x95';", "SJIS").is_err());
}

#[test]
fn spliced_rewrite_round_trips() {
    // Rewrite every reference to alice into "Bob Smith" by splicing at the
    // spans, back to front, and check a fresh analysis sees the new name in
    // the same places and nothing else changed.
    let stmts = [
        "GRANT SELECT ON TABLE t TO alice, \"alice\", readers GRANTED BY alice;",
        "SET SESSION AUTHORIZATION 'alice';",
        "ALTER DEFAULT PRIVILEGES FOR ROLE alice IN SCHEMA app GRANT SELECT ON TABLES TO alice;",
        "GRANT alice TO alice WITH ADMIN OPTION GRANTED BY alice;",
        "COMMENT ON ROLE alice IS 'alice';",
    ];
    for s in stmts {
        let before = analyze_ok(s);
        let mut out = s.to_string();
        for r in before.role_refs.iter().rev() {
            if r.role == named("alice") {
                let new = if r.literal {
                    quote_literal("Bob Smith")
                } else {
                    quote_ident("Bob Smith")
                };
                out.replace_range(r.span.clone(), &new);
            }
        }
        let after = analyze_ok(&out);
        let kinds = |a: &Analysis| {
            a.role_refs
                .iter()
                .map(|r| {
                    let role = if r.role == named("alice") {
                        named("Bob Smith")
                    } else {
                        r.role.clone()
                    };
                    (r.kind, role, r.literal)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&before), kinds(&after), "{s} -> {out}");
        assert!(!out.contains("alice;") || s.ends_with("'alice';"));
    }
}

// ---------------------------------------------------------------------------
// The committed pg_dump 17 fixture.

/// Split a plain dump into statements for this test: drop COPY data blocks
/// (the lines after `COPY ... FROM stdin;` up to `\.`) and psql meta-command
/// lines, then let pg_query split the rest (its parser-based splitter, as
/// the scanner-based one cuts `BEGIN ATOMIC ... END` bodies apart).
fn fixture_statements(dump: &str) -> Vec<String> {
    let mut sql = String::new();
    let mut in_copy = false;
    for line in dump.split_inclusive('\n') {
        if in_copy {
            if line == "\\.\n" {
                in_copy = false;
            }
            continue;
        }
        if line.starts_with('\\') {
            continue;
        }
        if line.starts_with("COPY ") && line.ends_with(" FROM stdin;\n") {
            in_copy = true;
        }
        sql.push_str(line);
    }
    pg_query::split_with_parser(&sql)
        .unwrap()
        .into_iter()
        .map(|s| format!("{s};\n"))
        .collect()
}

#[test]
fn fixture_pg17_every_statement() {
    let dump = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pg17/db1.plain.sql"
    ))
    .unwrap();
    let stmts = fixture_statements(&dump);
    assert!(stmts.len() > 150, "only {} statements", stmts.len());
    let mut found: BTreeSet<(K, RoleName)> = BTreeSet::new();
    let mut prefiltered = 0;
    for s in &stmts {
        let a = analyze(s.as_bytes(), "UTF8").unwrap_or_else(|e| panic!("{s}: {e}"));
        check_invariants(s.as_bytes(), &a, "UTF8");
        if may_reference_roles(s.as_bytes()) {
            prefiltered += 1;
        }
        for r in a.role_refs {
            found.insert((r.kind, r.role));
        }
    }
    assert!(prefiltered < stmts.len());
    let want = [
        (K::Owner, named("Bob Smith")),
        (K::Owner, named("alice")),
        (K::Owner, named("postgres")),
        (K::Owner, named("select")),
        (K::Owner, named("UPPER")),
        (K::UserMapping, named("Bob Smith")),
        (K::UserMapping, RoleName::Public),
        (K::PolicyRole, named("Bob Smith")),
        (K::PolicyRole, named("readers")),
        (K::Grantee, named("readers")),
        (K::Grantee, named("we\"ird")),
        (K::Grantee, named("select")),
        (K::Grantee, named("Bob Smith")),
        (K::Grantee, named("alice")),
        (K::Grantee, named("UPPER")),
        (K::Grantee, RoleName::Public),
        (K::SessionAuthorization, named("alice")),
        (K::DefaultPrivilegesFor, named("alice")),
        (K::DefaultPrivilegesFor, named("Bob Smith")),
        (K::DefaultPrivilegesGrantee, named("readers")),
        (K::DefaultPrivilegesGrantee, named("select")),
        (K::DefaultPrivilegesGrantee, RoleName::Public),
    ];
    for w in &want {
        assert!(found.contains(w), "missing {w:?}; found {found:?}");
    }
}

#[test]
fn fixture_pg17_timing() {
    // Not a benchmark: prints how long analysing every statement takes so
    // a quadratic slip shows up in the test log.
    let dump = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pg17/db1.plain.sql"
    ))
    .unwrap();
    let stmts = fixture_statements(&dump);
    let t = std::time::Instant::now();
    let rounds = 20;
    let mut n = 0;
    for _ in 0..rounds {
        for s in &stmts {
            n += analyze(s.as_bytes(), "UTF8").unwrap().role_refs.len();
        }
    }
    let all = t.elapsed();
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        for s in stmts.iter().filter(|s| may_reference_roles(s.as_bytes())) {
            n += analyze(s.as_bytes(), "UTF8").unwrap().role_refs.len();
        }
    }
    let filtered = t.elapsed();
    eprintln!(
        "analysis timing: {} statements; all analysed: {:?} per pass; prefiltered only: {:?} per pass ({} refs)",
        stmts.len(),
        all / rounds,
        filtered / rounds,
        n
    );
}

// ---------------------------------------------------------------------------
// Dumps made at test time by real PostgreSQL 15 and 18 servers and clients,
// read with the project's dump reader.

/// Analyse every statement of `dump` as the tools do (the reader's encoding
/// and standard_conforming_strings), check the invariants on each, and
/// return every (kind, role, literal) found.
fn analyse_dump(dump: &[u8]) -> BTreeSet<(K, RoleName, bool)> {
    let mut reader = Reader::new(dump);
    let mut found = BTreeSet::new();
    let mut statements = 0;
    while let Some(seg) = reader.next_segment().unwrap() {
        if !matches!(seg.kind, Kind::Statement | Kind::CopyStatement) {
            continue;
        }
        statements += 1;
        let opts = AnalyzeOptions {
            standard_conforming_strings: seg.std_strings,
            ..AnalyzeOptions::default()
        };
        let a = analyze_with(seg.bytes, seg.encoding, &opts).unwrap_or_else(|e| {
            panic!(
                "line {}: {e}\n{}",
                seg.line,
                String::from_utf8_lossy(seg.bytes)
            )
        });
        check_invariants(seg.bytes, &a, seg.encoding);
        for r in a.role_refs {
            found.insert((r.kind, r.role, r.literal));
        }
    }
    assert!(statements > 20, "only {statements} statements");
    found
}

fn real_dumps(version: support::Version) {
    let fx = support::fixture(version);
    let mut all = BTreeSet::new();
    for name in [
        "plain",
        "session-auth",
        "clean",
        "create",
        "dumpall",
        "globals",
    ] {
        all.extend(analyse_dump(fx.dump(name)));
    }
    let want = [
        (K::RoleDefinition, named("alice")),
        (K::RoleDefinition, named("Bob Smith")),
        (K::RoleDefinition, named("select")),
        (K::RoleDefinition, named("we\"ird")),
        (K::RoleDefinition, named("app_owner")),
        (K::RoleDefinition, named("readers")),
        (K::RoleDefinition, named("UPPER")),
        (K::MembershipRole, named("readers")),
        (K::MembershipRole, named("app_owner")),
        (K::Member, named("alice")),
        (K::Member, named("Bob Smith")),
        (K::Member, named("we\"ird")),
        (K::RoleSetting, named("alice")),
        (K::RoleSetting, named("Bob Smith")),
        (K::RoleInDatabase, named("Bob Smith")),
        (K::CommentOnRole, named("alice")),
        (K::TablespaceOwner, named("alice")),
        (K::Grantee, named("Bob Smith")),
        (K::Grantee, named("readers")),
        (K::Grantee, RoleName::Public),
        (K::Owner, named("alice")),
        (K::Owner, named("Bob Smith")),
        (K::Owner, named("select")),
        (K::Owner, named("UPPER")),
        (K::UserMapping, named("Bob Smith")),
        (K::UserMapping, RoleName::Public),
        (K::PolicyRole, named("Bob Smith")),
        (K::DefaultPrivilegesFor, named("alice")),
    ];
    let pairs: BTreeSet<(K, RoleName)> = all.iter().map(|(k, r, _)| (*k, r.clone())).collect();
    for w in &want {
        assert!(
            pairs.contains(w),
            "PostgreSQL {}: missing {w:?}; found {pairs:?}",
            version.major()
        );
    }
    // pg_dumpall prints GRANTED BY for memberships from these servers.
    assert!(pairs.iter().any(|(k, _)| *k == K::GrantedBy));
    // --use-set-session-authorization writes the owner as a literal; the
    // ACL wrappers write identifiers.
    assert!(all.contains(&(K::SessionAuthorization, named("Bob Smith"), true)));
    assert!(all.contains(&(K::SessionAuthorization, named("alice"), true)));
}

#[test]
fn real_dumps_pg15() {
    real_dumps(support::Version::V15);
}

#[test]
fn real_dumps_pg18() {
    real_dumps(support::Version::V18);
}

// ---------------------------------------------------------------------------
// Properties.

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Statements as token lists; any whitespace or comment may separate
    /// the tokens and bare words may be in any case.
    const TEMPLATES: &[&[&str]] = &[
        &[
            "ALTER",
            "TABLE",
            "app.t1",
            "OWNER",
            "TO",
            "\"Bob Smith\"",
            ";",
        ],
        &[
            "GRANT",
            "SELECT",
            "ON",
            "TABLE",
            "t",
            "TO",
            "alice",
            ",",
            "PUBLIC",
            ",",
            "\"we\"\"ird\"",
            "GRANTED",
            "BY",
            "rdsadmin",
            ";",
        ],
        &[
            "GRANT",
            "readers",
            ",",
            "\"select\"",
            "TO",
            "alice",
            "WITH",
            "ADMIN",
            "OPTION",
            "GRANTED",
            "BY",
            "postgres",
            ";",
        ],
        &[
            "REVOKE", "ADMIN", "OPTION", "FOR", "readers", "FROM", "alice", ";",
        ],
        &["CREATE", "ROLE", "\"UPPER\"", "IN", "ROLE", "readers", ";"],
        &[
            "ALTER",
            "ROLE",
            "alice",
            "RENAME",
            "TO",
            "\"3f9a2c71\"",
            ";",
        ],
        &["COMMENT", "ON", "ROLE", "alice", "IS", "'x'", ";"],
        &[
            "SECURITY", "LABEL", "FOR", "p", "ON", "ROLE", "alice", "IS", "'x'", ";",
        ],
        &["SET", "SESSION", "AUTHORIZATION", "'Bob Smith'", ";"],
        &["SET", "ROLE", "admin", ";"],
        &[
            "CREATE", "USER", "MAPPING", "FOR", "public", "SERVER", "s", ";",
        ],
        &[
            "ALTER",
            "DEFAULT",
            "PRIVILEGES",
            "FOR",
            "ROLE",
            "alice",
            "GRANT",
            "ALL",
            "ON",
            "TABLES",
            "TO",
            "readers",
            ";",
        ],
        &[
            "CREATE", "POLICY", "p", "ON", "t", "TO", "a", ",", "b", "USING", "(", "true", ")", ";",
        ],
        &["REASSIGN", "OWNED", "BY", "a", "TO", "b", ";"],
        &["CREATE", "DATABASE", "d", "OWNER", "=", "alice", ";"],
        &["ALTER", "SEQUENCE", "s", "OWNED", "BY", "t.c", ";"],
        &[
            "INSERT",
            "INTO",
            "t",
            "VALUES",
            "(",
            "'GRANT x TO y'",
            ")",
            ";",
        ],
        &["CREATE", "TABLE", "t", "(", "a", "int", ")", ";"],
    ];

    const SEPARATORS: &[&str] = &[" ", "\n", "\t", " /* c; 'x' */ ", " -- c ' \n", "/**/"];

    fn build(template: &[&str], seps: &[usize], upper: &[bool]) -> String {
        let mut out = String::from("--\n-- Name: x; Type: y\n--\n\n");
        for (i, tok) in template.iter().enumerate() {
            if i > 0 && *tok != ";" {
                let sep = SEPARATORS[seps[i % seps.len()] % SEPARATORS.len()];
                // A bare "/**/" cannot separate two words or dots.
                out.push_str(if sep == "/**/" { " /**/ " } else { sep });
            }
            let bare = tok
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if bare && upper[i % upper.len()] {
                out.push_str(&tok.to_ascii_uppercase());
            } else if bare {
                out.push_str(&tok.to_ascii_lowercase());
            } else {
                out.push_str(tok);
            }
        }
        out.push('\n');
        out
    }

    fn summary(a: &Analysis) -> Vec<(K, RoleName, bool)> {
        a.role_refs
            .iter()
            .map(|r| (r.kind, r.role.clone(), r.literal))
            .collect()
    }

    proptest! {
        #[test]
        fn layout_and_case_do_not_change_what_is_found(
            t in 0..TEMPLATES.len(),
            seps in proptest::collection::vec(0usize..SEPARATORS.len(), 1..8),
            upper in proptest::collection::vec(any::<bool>(), 1..8),
        ) {
            let canonical = TEMPLATES[t].join(" ");
            let want = summary(&analyze_ok(&canonical));
            let s = build(TEMPLATES[t], &seps, &upper);
            let a = analyze(s.as_bytes(), "UTF8").unwrap();
            check_invariants(s.as_bytes(), &a, "UTF8");
            prop_assert_eq!(summary(&a), want, "{}", s);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..120),
            enc in prop::sample::select(vec!["UTF8", "LATIN1", "SQL_ASCII", "SJIS", "EUC_JP", "BIG5", "GB18030", "WIN1252"]),
        ) {
            let _ = may_reference_roles(&bytes);
            if let Ok(a) = analyze(&bytes, enc) {
                for r in &a.role_refs {
                    prop_assert!(r.span.end <= bytes.len() && r.span.start < r.span.end);
                }
            }
        }

        #[test]
        fn role_like_statements_with_arbitrary_names(
            name in "[a-zA-Z0-9_ \"'$\\\\\u{e9}\u{8868}]{1,20}",
            t in 0..4usize,
        ) {
            let q = quote_ident(&name);
            let s = match t {
                0 => format!("ALTER TABLE t OWNER TO {q};"),
                1 => format!("GRANT {q} TO {q} GRANTED BY {q};"),
                2 => format!("SET SESSION AUTHORIZATION {};", quote_literal(&name)),
                _ => format!("CREATE ROLE {q};"),
            };
            let a = analyze_ok(&s);
            prop_assert!(!a.role_refs.is_empty());
            for r in &a.role_refs {
                prop_assert_eq!(&r.role, &named(&name));
            }
        }
    }
}
