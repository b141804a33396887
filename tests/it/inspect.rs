//! `pgpipe-inspect` on real dumps made by PostgreSQL 15 and 18, on the
//! committed pg_dump 17 dump, and on truncated copies of them.

use crate::support;

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;
use support::{Version, exit_code, fixture, pg17_plain, run};

fn inspect(dump: &[u8], args: &[&str]) -> (i32, Vec<u8>, String) {
    let out = run(
        Command::new(support::tool("pgpipe-inspect")).args(args),
        Some(dump),
    );
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn report(dump: &[u8]) -> Value {
    let (code, stdout, stderr) = inspect(dump, &["--json"]);
    assert_eq!(code, 0, "pgpipe-inspect failed: {stderr}");
    serde_json::from_slice(&stdout).expect("valid JSON")
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The roles db1's objects need: every role the fixture gives objects,
/// privileges, policies, default privileges or user mappings to.
const DB1_ROLES: &[&str] = &[
    "Bob Smith",
    "UPPER",
    "alice",
    "postgres",
    "readers",
    "select",
    "we\"ird",
];

fn table_rows(r: &Value, schema: &str, name: &str) -> (u64, u64) {
    let t = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["schema"] == schema && t["name"] == name)
        .unwrap_or_else(|| panic!("table {schema}.{name} not in report: {}", r["tables"]));
    (
        t["rows"].as_u64().unwrap(),
        t["data_bytes"].as_u64().unwrap(),
    )
}

#[test]
fn plain_dumps_of_both_versions() {
    for version in Version::ALL {
        let fx = fixture(version);
        for name in [
            "plain",
            "inserts",
            "column-inserts",
            "session-auth",
            "clean",
            "create",
        ] {
            let dump = fx.dump(name);
            let r = report(dump);
            let what = format!("PostgreSQL {} {name}", version.major());
            assert_eq!(r["schema"], 1);
            assert_eq!(r["producer"], "pg_dump", "{what}");
            assert!(
                r["dumped_by"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{}.", version.major())),
                "{what}: {}",
                r["dumped_by"]
            );
            assert_eq!(r["complete"], true, "{what}: {}", r["incomplete_reason"]);
            assert_eq!(r["encoding"], "UTF8");
            assert_eq!(r["standard_conforming_strings"], true);
            assert_eq!(r["line_endings"], "lf");
            assert_eq!(r["bytes"].as_u64().unwrap(), dump.len() as u64);
            assert_eq!(strings(&r["restrict_keys"]), set(&[support::RESTRICT_KEY]));
            assert_eq!(strings(&r["roles_required"]), set(DB1_ROLES), "{what}");
            assert_eq!(strings(&r["roles_created"]), set(&[]), "{what}");
            assert_eq!(
                strings(&r["schemas"]),
                set(&["Weird Schema", "app"]),
                "{what}"
            );
            assert!(strings(&r["extensions"]).contains("postgres_fdw"), "{what}");
            // Row counts match the server's.
            for (schema, table) in [
                ("app", "t1"),
                ("Weird Schema", "My Table"),
                ("app", "part1"),
            ] {
                let want: u64 = fx
                    .server
                    .psql(
                        "db1",
                        &format!(
                            "SELECT count(*) FROM {}.{}",
                            support::quote_ident(schema),
                            support::quote_ident(table)
                        ),
                    )
                    .parse()
                    .unwrap();
                let (rows, bytes) = table_rows(&r, schema, table);
                assert_eq!(rows, want, "{what}: rows of {schema}.{table}");
                assert!(bytes > 0, "{what}: data bytes of {schema}.{table}");
            }
            assert_eq!(table_rows(&r, "app", "empty_t"), (0, 0), "{what}");
            let warnings: Vec<&str> = r["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["code"].as_str().unwrap())
                .collect();
            assert!(
                warnings.contains(&"comment_on_extension"),
                "{what}: {warnings:?}"
            );
            assert_eq!(
                warnings.contains(&"transaction_timeout"),
                version == Version::V18,
                "{what}: {warnings:?}"
            );
            assert!(
                !warnings.contains(&"unparsed_statement"),
                "{what}: {}",
                r["warnings"]
            );
            if name == "create" {
                let dbs = r["databases"].as_array().unwrap();
                assert_eq!(dbs.len(), 1);
                assert_eq!(dbs[0]["name"], "db1");
                assert_eq!(dbs[0]["owner"], "alice");
            }
            if name == "session-auth" {
                let alice = r["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|x| x["name"] == "alice")
                    .unwrap();
                assert!(
                    alice["kinds"]["session_authorization"].as_u64().unwrap() > 0,
                    "{what}: {alice}"
                );
            }
        }
    }
}

#[test]
fn owners_and_grantees_match_the_catalogs() {
    for version in Version::ALL {
        let fx = fixture(version);
        let r = report(fx.dump("plain"));
        let kinds_of = |role: &str| -> BTreeSet<String> {
            r["roles"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == role)
                .map(|x| x["kinds"].as_object().unwrap().keys().cloned().collect())
                .unwrap_or_default()
        };
        // Owners according to the server, as role names.
        let owners: BTreeSet<String> = fx
            .server
            .psql(
                "db1",
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE oid >= 16384
                 UNION SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE oid >= 16384
                 UNION SELECT pg_get_userbyid(typowner) FROM pg_type WHERE oid >= 16384 AND typrelid = 0 AND typcategory <> 'A'
                 UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE oid >= 16384
                 UNION SELECT pg_get_userbyid(lomowner) FROM pg_largeobject_metadata",
            )
            .lines()
            .map(str::to_string)
            .collect();
        for owner in &owners {
            assert!(
                kinds_of(owner).contains("owner"),
                "PostgreSQL {}: {owner} owns objects but the report has no owner reference: {}",
                version.major(),
                r["roles"]
            );
        }
        // Grantees of object privileges, other than owners' own grants.
        let grantees: BTreeSet<String> = fx
            .server
            .psql(
                "db1",
                "SELECT DISTINCT pg_get_userbyid(e.grantee) FROM pg_class c,
                   aclexplode(c.relacl) e WHERE c.oid >= 16384 AND e.grantee <> 0 AND e.grantee <> c.relowner",
            )
            .lines()
            .map(str::to_string)
            .collect();
        assert!(!grantees.is_empty());
        for g in &grantees {
            assert!(
                kinds_of(g).contains("grantee"),
                "PostgreSQL {}: {g} has table privileges but no grantee reference",
                version.major()
            );
        }
        // Every role the report names with an owner reference owns something.
        for x in r["roles"].as_array().unwrap() {
            if x["kinds"].get("owner").is_some() {
                let name = x["name"].as_str().unwrap();
                assert!(
                    owners.contains(name)
                        || fx
                            .server
                            .psql("db1", &format!(
                                "SELECT count(*) FROM pg_foreign_server s, pg_roles r WHERE r.oid = s.srvowner AND r.rolname = {}
                                 UNION ALL SELECT count(*) FROM pg_foreign_data_wrapper f, pg_roles r WHERE r.oid = f.fdwowner AND r.rolname = {0}",
                                format!("'{}'", name.replace('\'', "''"))
                            ))
                            .lines()
                            .any(|n| n != "0")
                        || name == "postgres",
                    "{name} has owner references but owns nothing"
                );
            }
        }
    }
}

#[test]
fn pg_dumpall_reports_databases_and_created_roles() {
    for version in Version::ALL {
        let fx = fixture(version);
        let r = report(fx.dump("dumpall"));
        let what = format!("PostgreSQL {} pg_dumpall", version.major());
        assert_eq!(r["producer"], "pg_dumpall", "{what}");
        assert_eq!(r["complete"], true, "{what}: {}", r["incomplete_reason"]);
        let created = strings(&r["roles_created"]);
        for role in [
            "alice",
            "Bob Smith",
            "select",
            "we\"ird",
            "app_owner",
            "readers",
            "UPPER",
            "postgres",
        ] {
            assert!(
                created.contains(role),
                "{what}: {role} not created: {created:?}"
            );
        }
        assert_eq!(strings(&r["roles_required"]), set(&[]), "{what}");
        let dbs: BTreeSet<String> = r["databases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        assert!(dbs.contains("db1"), "{what}: {dbs:?}");
        let db1 = r["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == "db1")
            .unwrap();
        assert_eq!(db1["owner"], "alice");
        assert!(r["restrict_keys"].as_array().unwrap().len() >= 3, "{what}");
    }
}

#[test]
fn committed_pg17_dump() {
    let r = report(&pg17_plain());
    assert_eq!(r["producer"], "pg_dump");
    assert_eq!(r["dumped_by"], "17.11");
    assert_eq!(r["complete"], true);
    assert_eq!(strings(&r["roles_required"]), set(DB1_ROLES));
    assert_eq!(table_rows(&r, "app", "t1").0, 8);
    assert_eq!(r["lines"], 809);
    assert_eq!(r["statements"], 156);
}

/// Cut a dump at `at` bytes and check inspect calls it incomplete, and that
/// --require-complete exits 3 naming why.
fn assert_incomplete(dump: &[u8], at: usize, why: &str, what: &str) {
    let cut = &dump[..at];
    let r = report(cut);
    assert_eq!(
        r["complete"], false,
        "{what}: cut at {at} reported complete"
    );
    let reason = r["incomplete_reason"].as_str().unwrap();
    assert!(
        reason.contains(why),
        "{what}: reason {reason:?} lacks {why:?}"
    );
    let (code, _, stderr) = inspect(cut, &["--require-complete"]);
    assert_eq!(
        code, 3,
        "{what}: --require-complete exit code; stderr {stderr}"
    );
    assert!(
        stderr.starts_with("pgpipe-inspect: error: the dump is incomplete: "),
        "{what}: {stderr}"
    );
    // Passing through still copies every byte.
    let (code, out, _) = inspect(cut, &["--passthrough", "--require-complete"]);
    assert_eq!(code, 3);
    assert_eq!(out, cut, "{what}: passthrough changed bytes");
}

fn find(hay: &[u8], needle: &str) -> usize {
    memchr::memmem::find(hay, needle.as_bytes()).unwrap_or_else(|| panic!("{needle:?} not in dump"))
}

#[test]
fn truncated_dumps_are_incomplete() {
    for version in Version::ALL {
        for name in ["plain", "inserts"] {
            let dump = fixture(version).dump(name);
            let what = format!("PostgreSQL {} {name}", version.major());
            // Inside a function body.
            let body = find(dump, "RAISE NOTICE");
            assert_incomplete(dump, body, "dollar-quoted", &what);
            // Before the footer, between statements.
            let footer = find(dump, "-- PostgreSQL database dump complete");
            assert_incomplete(dump, footer, "footer is missing", &what);
            // After the footer, before the final \unrestrict.
            let unrestrict = memchr::memmem::rfind(dump, b"\\unrestrict").unwrap();
            assert_incomplete(dump, unrestrict, "\\unrestrict", &what);
            if name == "plain" {
                // Inside a COPY block, at a row boundary and inside a row.
                let copy = find(dump, "COPY app.t1 ");
                let row2 = copy + find(&dump[copy..], "\n2\t") + 1;
                assert_incomplete(dump, row2, "COPY data", &what);
                assert_incomplete(dump, row2 + 3, "after 1 complete rows", &what);
            } else {
                // Inside an INSERT.
                let insert = find(dump, "INSERT INTO app.t1 ");
                assert_incomplete(dump, insert + 25, "statement", &what);
            }
        }
    }
    // The complete dump passes --require-complete and passes through unchanged.
    let dump = fixture(Version::V18).dump("plain");
    let (code, out, stderr) = inspect(dump, &["--passthrough", "--require-complete"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out, dump);
    assert!(stderr.contains("complete: yes"), "{stderr}");
}

#[test]
fn crlf_and_latin1_dumps() {
    let dump = pg17_plain();
    let crlf: Vec<u8> = dump
        .split(|&b| b == b'\n')
        .collect::<Vec<_>>()
        .join(&b"\r\n"[..]);
    let r = report(&crlf);
    assert_eq!(r["line_endings"], "crlf");
    assert!(
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "crlf_line_endings"),
        "{}",
        r["warnings"]
    );
    // A LATIN1 dump with a role name that is not UTF-8 on the wire.
    let latin1 = b"SET client_encoding = 'LATIN1';\nALTER TABLE t OWNER TO \"r\xe9my\";\n-- PostgreSQL database dump complete\n";
    let r = report(latin1);
    assert_eq!(r["encoding"], "LATIN1");
    assert_eq!(strings(&r["roles_required"]), set(&["r\u{e9}my"]));
    assert_eq!(r["complete"], true);
}

#[test]
fn usage_and_io_errors() {
    let out = run(
        Command::new(support::tool("pgpipe-inspect")).arg("/nonexistent/dump.sql"),
        None,
    );
    assert_eq!(exit_code(&out), 1);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "pgpipe-inspect: error: cannot open /nonexistent/dump.sql: No such file or directory\n"
    );
    let out = run(
        Command::new(support::tool("pgpipe-inspect")).arg("--no-such-flag"),
        None,
    );
    assert_eq!(exit_code(&out), 2);
    let out = run(
        Command::new(support::tool("pgpipe-inspect")).args(["--report", "x"]),
        None,
    );
    assert_eq!(exit_code(&out), 2, "--report needs --passthrough");
}

/// `--max-statement` means the same in every SQL tool: 0 is the default
/// limit (inspect alone used to read it as a 1-byte limit and refuse any
/// statement longer than its read buffer), and a limit is exact (a
/// statement longer than it is refused even when it fits in the buffer).
#[test]
fn max_statement_is_the_same_limit_in_every_sql_tool() {
    // Complete dumps, so that the guard commits them.
    let dump = |body: &str| {
        format!(
            "--\n-- PostgreSQL database dump\n--\n\n{body}\n--\n-- PostgreSQL database dump complete\n--\n\n"
        )
    };
    let long = dump(&format!("SELECT '{}';\n", "x".repeat(700 * 1024)));
    let short = dump("SELECT 'a statement of forty-odd bytes';\n");
    for (tool, extra) in [
        (support::tool("pgpipe-inspect"), &["--json"][..]),
        (support::tool("pgpipe-roles"), &[][..]),
        (support::tool("pgpipe-filter"), &[][..]),
        (support::tool("pgpipe-guard"), &[][..]),
    ] {
        let out = run(
            Command::new(tool)
                .args(["--max-statement", "0"])
                .args(extra),
            Some(long.as_bytes()),
        );
        assert_eq!(
            exit_code(&out),
            0,
            "{tool} --max-statement 0: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run(
            Command::new(tool)
                .args(["--max-statement", "16"])
                .args(extra),
            Some(short.as_bytes()),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(
            exit_code(&out),
            0,
            "{tool} --max-statement 16 accepted a longer statement"
        );
        assert!(
            stderr.contains("statement longer than the limit of 16 bytes"),
            "{tool}: {stderr}"
        );
    }
}
