//! Archives everywhere: pgpipe-inspect, -roles, -filter and -guard take a
//! custom-format archive on standard input (by its PGDMP magic) or a
//! directory-format archive as FILE, and behave as if given pgpipe-sql's
//! output. A truncated archive fails closed through each of them.

use crate::support;
use std::sync::LazyLock;

use std::process::Command;

use support::{Server, Version, exit_code, fixture, run};

static SQL: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-sql"));
static TOOLS: LazyLock<[&str; 4]> = LazyLock::new(|| {
    [
        support::tool("pgpipe-inspect"),
        support::tool("pgpipe-roles"),
        support::tool("pgpipe-filter"),
        support::tool("pgpipe-guard"),
    ]
});

/// Replace the random `\restrict` key of converted SQL with `K`.
fn fixed_key(sql: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(sql).into_owned();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("\\restrict "))
        .expect("converted SQL has a \\restrict line")
        .to_string();
    text.replace(&key, "K").into_bytes()
}

fn tool(path: &str, args: &[&str], input: Option<&[u8]>) -> std::process::Output {
    run(Command::new(path).args(args), input)
}

fn tables(server: &Server, db: &str) -> Vec<String> {
    server.lines(
        db,
        "SELECT n.nspname || '.' || c.relname FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg_toast%'",
    )
}

fn quoted(qualified: &str) -> String {
    qualified
        .split('.')
        .map(support::quote_ident)
        .collect::<Vec<_>>()
        .join(".")
}

#[test]
fn custom_archive_on_stdin_reads_as_its_sql() {
    for version in Version::ALL {
        let fx = fixture(version);
        for name in ["custom", "custom-file"] {
            let archive = fx.dump(name);
            let sql = tool(*SQL, &[], Some(archive));
            assert_eq!(exit_code(&sql), 0);
            let sql = fixed_key(&sql.stdout);
            // No options: roles and filter print exactly pgpipe-sql's output.
            for t in [TOOLS[1], TOOLS[2]] {
                let out = tool(t, &[], Some(archive));
                assert_eq!(exit_code(&out), 0, "{t} {name}: {:?}", out.stderr);
                assert!(fixed_key(&out.stdout) == sql, "{t} {name}: output differs");
            }
            // inspect reports the same tables and rows as for the SQL.
            let a = tool(TOOLS[0], &["--json"], Some(archive));
            let b = tool(TOOLS[0], &["--json"], Some(&sql));
            let ja: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
            let jb: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
            assert_eq!(ja["tables"], jb["tables"], "{name}");
            assert_eq!(ja["roles"], jb["roles"], "{name}");
            assert_eq!(ja["complete"], serde_json::Value::Bool(true));
        }
    }
}

#[test]
fn directory_archive_restores_through_guard_and_filter() {
    for version in Version::ALL {
        let fx = fixture(version);
        let server = &fx.server;
        let dir = server.new_dir("db1-dir");
        let archive = dir.join("db1.dir");
        let mut cmd = server.command("pg_dump");
        cmd.args(["-Fd", "-d", "db1", "-f"]).arg(&archive);
        assert_eq!(exit_code(&run(&mut cmd, None)), 0);
        let path = archive.to_str().unwrap();

        // Guard: the whole database, all-or-nothing.
        let out = tool(TOOLS[3], &[path], None);
        assert_eq!(
            exit_code(&out),
            0,
            "{:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        let db = server.create_db("archdir");
        let (code, _, err) = server.psql_status(&db, &out.stdout, &["-q", "-v", "ON_ERROR_STOP=1"]);
        assert_eq!(code, 0, "{err}");
        let all = tables(server, "db1");
        assert_eq!(tables(server, &db), all);
        for t in &all {
            assert_eq!(
                server.table_digest(&db, &quoted(t)),
                server.table_digest("db1", &quoted(t)),
                "{t}"
            );
        }

        // Filter: one table out, the rest restored as they were.
        // app.t1 is referenced by others: they stay, their keys to it go.
        let victim = "app.t1".to_string();
        assert!(all.contains(&victim));
        let out = tool(TOOLS[2], &["-T", &victim, path], None);
        assert_eq!(
            exit_code(&out),
            0,
            "{:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        let db = server.create_db("archdir_t");
        let (code, _, err) = server.psql_status(
            &db,
            &out.stdout,
            &["-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
        );
        assert_eq!(code, 0, "{err}");
        let expected: Vec<String> = all.iter().filter(|t| **t != victim).cloned().collect();
        assert_eq!(tables(server, &db), expected);
    }
}

#[test]
fn truncated_archive_fails_closed_through_every_tool() {
    let fx = fixture(Version::V18);
    let archive = fx.dump("custom");
    // Cut inside the data area: well past the TOC, before the end.
    let cut = &archive[..archive.len() * 3 / 4];
    for t in *TOOLS {
        let out = tool(t, &[], Some(cut));
        assert_eq!(
            exit_code(&out),
            3,
            "{t}: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("archive is truncated"), "{t}: {err}");
    }
    // Through the guard into psql: nothing is committed.
    let out = tool(TOOLS[3], &[], Some(cut));
    let server = &fx.server;
    let db = server.create_db("archcut");
    let (code, _, _) = server.psql_status(&db, &out.stdout, &["-q"]);
    assert_eq!(code, 3);
    assert!(tables(server, &db).is_empty());
}

/// A compressed or encrypted dump fed to a SQL tool is named for what it is,
/// with the command that reads it; it is never lexed as SQL (which said
/// "the input ends inside a statement (parentheses)").
#[test]
fn binary_input_is_named_with_the_command_that_reads_it() {
    let fx = fixture(Version::V18);
    let plain = fx.dump("plain");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dump.sql");
    std::fs::write(&file, plain).unwrap();
    let made = |prog: &str, args: &[&str]| -> Vec<u8> {
        let out = run(Command::new(prog).args(args), Some(plain));
        assert_eq!(exit_code(&out), 0, "{prog} failed");
        out.stdout
    };
    let key = dir.path().join("key");
    let keygen = run(Command::new("age-keygen").arg("-o").arg(&key), None);
    assert_eq!(exit_code(&keygen), 0);
    let recipient =
        String::from_utf8(run(Command::new("age-keygen").arg("-y").arg(&key), None).stdout)
            .unwrap();
    let recipient = recipient.trim();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("gzip", made("gzip", &["-c"]), "gzip-compressed data"),
        ("zstd", made("zstd", &["-c", "-q"]), "zstd-compressed data"),
        (
            "age",
            made("age", &["-r", recipient]),
            "an age-encrypted file",
        ),
        (
            "age -a",
            made("age", &["-a", "-r", recipient]),
            "an age-encrypted file",
        ),
    ];
    for (what, bytes, says) in &cases {
        for t in *TOOLS {
            let out = tool(t, &["--no-progress"], Some(bytes));
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(exit_code(&out), 1, "{t} on {what}: {err}");
            assert!(out.stdout.is_empty(), "{t} on {what} wrote output");
            assert!(
                err.contains(&format!("<stdin> is not a SQL dump: it looks like {says}")),
                "{t} on {what}: {err}"
            );
            assert!(err.contains("hint: "), "{t} on {what}: {err}");
        }
    }
    let zst = made("zstd", &["-c", "-q"]);
    let out = tool(
        TOOLS[1],
        &["--no-progress", "--map", "alice=bob"],
        Some(&zst),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pgpipe-zip -d"), "{err}");
}

/// A pg_dump tar archive on standard input is read like the custom format.
#[test]
fn tar_archive_on_stdin_reads_as_its_sql() {
    let fx = fixture(Version::V18);
    let tar = fx.dump("tar");
    let want = tool(*SQL, &[], Some(tar));
    assert_eq!(exit_code(&want), 0);
    let out = tool(TOOLS[1], &["--no-progress"], Some(tar));
    assert_eq!(
        exit_code(&out),
        0,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fixed_key(&out.stdout), fixed_key(&want.stdout));
}
