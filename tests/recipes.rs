//! The README cookbook runs: every recipe is a file in doc/recipes/, README.md
//! contains each file's text exactly, pgpipe(7) shows each recipe's commands,
//! and each recipe runs with bash, unchanged, against real PostgreSQL 15 and
//! 18 servers, with the built binaries first in PATH. The catalogs and table
//! contents afterwards are compared with the source.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{Server, Version, exit_code, run};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The tables of demo/synapse.sql.
const TABLES: &[&str] = &["public.rooms", "public.events", "public.schema_version"];

/// Every recipe file, sorted by name.
fn recipe_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(format!("{ROOT}/doc/recipes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    v.sort();
    assert!(v.len() >= 3, "{v:?}");
    v
}

fn recipe_path(name: &str) -> PathBuf {
    let path = PathBuf::from(format!("{ROOT}/doc/recipes/{name}"));
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

#[test]
fn readme_contains_every_recipe_verbatim() {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    for path in recipe_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            readme.contains(&format!("```sh\n{text}```\n")),
            "README.md does not contain {} verbatim in a ```sh block",
            path.display()
        );
    }
}

/// pgpipe(7)'s EXAMPLES show each recipe without its comment lines.
#[test]
fn man_page_shows_every_recipe() {
    let man = std::fs::read_to_string(format!("{ROOT}/man/pgpipe.7")).unwrap();
    let examples = &man[man.find(".Sh EXAMPLES").expect("EXAMPLES")..];
    // The text of the literal displays, roff escapes undone.
    let mut shown = String::new();
    let mut inside = false;
    for line in examples.lines() {
        match line {
            _ if line.starts_with(".Bd -literal") => inside = true,
            ".Ed" => {
                inside = false;
                shown.push_str("\n\n");
            }
            _ if inside => {
                shown.push_str(&line.replace("\\e", "\\"));
                shown.push('\n');
            }
            _ => {}
        }
    }
    for path in recipe_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let commands: String = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            shown.contains(&format!("{}\n\n", commands.trim())),
            "pgpipe.7 EXAMPLES do not show {}:\n{commands}",
            path.display()
        );
    }
}

/// The directory of the binaries this test run built.
fn release_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_pgpipe-inspect"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Run a recipe file with bash in `dir`: libpq clients pointed at `server`,
/// PATH = our binaries, then `client`'s PostgreSQL programs, then the system.
fn run_recipe(
    name: &str,
    dir: &Path,
    server: &Server,
    client: Version,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(recipe_path(name)).current_dir(dir);
    server.with_env(&mut cmd);
    let path = format!(
        "{}:{}:/usr/local/bin:/usr/bin:/bin",
        release_dir().display(),
        client.bin_dir().display()
    );
    cmd.env("PATH", path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd, None);
    assert_eq!(
        exit_code(&out),
        0,
        "{name} failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A private server with demo/synapse.sql loaded: database demo_src owned by
/// the opaque role 3f9a2c71, with grants to rdsadmin.
fn managed_host(version: Version) -> Server {
    let server = Server::start(version);
    let sql = std::fs::read_to_string(format!("{ROOT}/demo/synapse.sql")).unwrap();
    server.psql("postgres", &sql);
    server
}

/// `relname owner` of every relation in schema public.
fn owners(server: &Server, db: &str) -> Vec<String> {
    server.lines(
        db,
        "SELECT relname || ' ' || pg_get_userbyid(relowner) FROM pg_class \
         WHERE relnamespace = 'public'::regnamespace",
    )
}

/// Every role in `db`'s public-schema ACLs.
fn acl_text(server: &Server, db: &str) -> String {
    server.psql(
        db,
        "SELECT coalesce(string_agg(relacl::text, ' '), '') FROM pg_class \
         WHERE relnamespace = 'public'::regnamespace",
    )
}

fn assert_same_rows(a: &Server, a_db: &str, b: &Server, b_db: &str) {
    for table in TABLES {
        let left = a.table_digest(a_db, table);
        assert!(!left.starts_with("0 "), "{table} is empty");
        assert_eq!(left, b.table_digest(b_db, table), "{table}");
    }
}

/// Recipe 1, from a PostgreSQL 15 managed host to a self-hosted 15 and 18
/// (pg_dump of the target's version, as on the new host).
#[test]
fn recipe_01_managed_export() {
    for new_version in Version::ALL {
        let old = managed_host(Version::V15);
        let new = Server::start(new_version);
        new.psql(
            "postgres",
            "CREATE ROLE synapse LOGIN; CREATE DATABASE synapse OWNER synapse",
        );
        let dir = tempfile::tempdir().unwrap();
        let out = run_recipe(
            "01-managed-export.sh",
            dir.path(),
            &new,
            new_version,
            &[("OLD", &old.conninfo("demo_src"))],
        );
        // pgpipe-inspect's report was shown, and the archive was removed.
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("rdsadmin"), "{stdout}");
        assert!(!dir.path().join("synapse.dir").exists());

        let roles = new.lines(
            "postgres",
            "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1",
        );
        assert_eq!(roles, ["postgres", "synapse"], "PostgreSQL {new_version:?}");
        // Tables, their sequence and indexes: as many as on the old host.
        let owned = owners(&new, "synapse");
        assert!(owned.len() >= 7, "{owned:?}");
        assert!(owned.iter().all(|o| o.ends_with(" synapse")), "{owned:?}");
        assert_eq!(owners(&old, "demo_src").len(), owned.len());
        assert_same_rows(&old, "demo_src", &new, "synapse");
        // Chat rows that look like SQL came through untouched.
        assert_eq!(
            new.psql(
                "synapse",
                "SELECT count(*) FROM events WHERE content->>'body' IN \
                 ('ALTER TABLE x OWNER TO rdsadmin;', 'GRANT ALL ON TABLE t TO \"3f9a2c71\";')"
            ),
            "2"
        );
    }
}

/// Recipe 4 on PostgreSQL 15 and 18: the rewritten file restores with
/// synapse owning everything and no grant left to rdsadmin or 3f9a2c71.
#[test]
fn recipe_04_owner_rewrite() {
    for version in Version::ALL {
        let server = managed_host(version);
        server.psql("postgres", "CREATE ROLE synapse");
        let dir = tempfile::tempdir().unwrap();
        let dump = server.pg_dump("demo_src", &[]);
        std::fs::write(dir.path().join("dump.sql"), &dump).unwrap();
        let out = run_recipe("04-owner-rewrite.sh", dir.path(), &server, version, &[]);
        let report = String::from_utf8_lossy(&out.stderr);
        assert!(report.contains("rdsadmin"), "{report}");
        assert_eq!(std::fs::read(dir.path().join("dump.sql")).unwrap(), dump);
        let rewritten = std::fs::read(dir.path().join("synapse.sql")).unwrap();

        let db = server.create_db("restored");
        server.restore_plain(&db, &rewritten);
        let owned = owners(&server, &db);
        assert!(owned.len() >= 7, "{owned:?}");
        assert!(owned.iter().all(|o| o.ends_with(" synapse")), "{owned:?}");
        let before = owners(&server, "demo_src");
        assert_eq!(before.len(), owned.len());
        assert!(
            before.iter().all(|o| o.ends_with(" 3f9a2c71")),
            "{before:?}"
        );
        assert!(acl_text(&server, "demo_src").contains("rdsadmin"));
        let acl = acl_text(&server, &db);
        assert!(
            !acl.contains("rdsadmin") && !acl.contains("3f9a2c71"),
            "{acl}"
        );
        assert_same_rows(&server, "demo_src", &server, &db);
    }
}

/// Recipe 6 on PostgreSQL 15 and 18: the restored database equals the
/// source, and the backup file is what the reference tools expect
/// (`sha256sum -c`, `age -d`, `zstd -d`).
#[test]
fn recipe_06_encrypted_backup() {
    for version in Version::ALL {
        let server = managed_host(version);
        server.psql("postgres", "ALTER DATABASE demo_src RENAME TO synapse");
        let dir = tempfile::tempdir().unwrap();
        run_recipe("06-encrypted-backup.sh", dir.path(), &server, version, &[]);

        assert_eq!(
            owners(&server, "synapse_restored"),
            owners(&server, "synapse")
        );
        assert_eq!(
            acl_text(&server, "synapse_restored"),
            acl_text(&server, "synapse")
        );
        assert_same_rows(&server, "synapse", &server, "synapse_restored");

        let check = run(
            Command::new("sha256sum")
                .arg("-c")
                .arg("synapse.sql.zst.age.sha256")
                .current_dir(dir.path()),
            None,
        );
        assert_eq!(exit_code(&check), 0, "{check:?}");
        let plain = run(
            Command::new("bash")
                .arg("-c")
                .arg("set -o pipefail; age -d -i backup.key synapse.sql.zst.age | zstd -dc")
                .current_dir(dir.path()),
            None,
        );
        assert_eq!(exit_code(&plain), 0, "{plain:?}");
        let text = String::from_utf8_lossy(&plain.stdout);
        assert!(text.starts_with("--\n-- PostgreSQL database dump\n"));
        assert!(text.contains("\n-- PostgreSQL database dump complete\n"));
        assert!(text.contains("COPY public.events "));
    }
}
