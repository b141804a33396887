//! `pgpipe-roles --keep-format`: a custom-format archive in, a custom-format
//! archive out, restored by the real `pg_restore -j 2` of PostgreSQL 15 and
//! 18 into clusters where only the new roles exist; byte identity with no
//! options; the same SQL as the plain rewrite; truncation and usage errors.

use crate::support;
use std::sync::LazyLock;
use support::{create_roles, create_tablespace, user_tables};

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Server, Version, exit_code, fixture, fixture_file, run};

static ROLES: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-roles"));
static SQL: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-sql"));

/// Every fixture role and its new name (quoting, case, keyword, digits).
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

fn roles(args: &[&str], input: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    let mut cmd = Command::new(*ROLES);
    cmd.arg("--keep-format").arg("--no-progress").args(args);
    let out = run(&mut cmd, input);
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn keep(args: &[&str], input: &[u8]) -> Vec<u8> {
    let (code, out, err) = roles(args, Some(input));
    assert_eq!(code, 0, "pgpipe-roles --keep-format {args:?} failed: {err}");
    out
}

fn pg17(name: &str) -> Vec<u8> {
    fixture_file(&format!("pg17/db1.{name}.dump"))
}

/// `pg_restore -j 2 --exit-on-error -d DB FILE` of the server's version.
fn restore_parallel(server: &Server, db: &str, file: &Path) {
    let out = run(
        server
            .command("pg_restore")
            .args(["-j", "2", "--exit-on-error", "-d", db])
            .arg(file),
        None,
    );
    assert_eq!(
        exit_code(&out),
        0,
        "pg_restore -j 2 {} into PostgreSQL {} failed:\n{}",
        file.display(),
        server.version().major(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn catalogs(server: &Server, db: &str) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("owners", server.owners(db)),
        ("acls", server.acls(db)),
        ("default_acls", server.default_acls(db)),
        ("policy_roles", server.policy_roles(db)),
        ("user_mappings", server.user_mappings(db)),
    ]
}

/// `pg_restore -l FILE` of the server's version, which must succeed.
fn pg_restore_list(server: &Server, file: &Path) -> String {
    let out = run(server.command("pg_restore").arg("-l").arg(file), None);
    assert_eq!(
        exit_code(&out),
        0,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Rewrite the fixture's custom archives (offsets set by `-f`, and not set
/// from a pipe) with every role renamed, restore them with `pg_restore -j 2`
/// into a cluster with only the new roles, and compare the catalogs with the
/// original archive restored with the old roles and renamed by the server.
fn parallel_round_trip(v: Version) {
    let fx = fixture(v);
    let args = map_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let target = Server::start(v);
    let new_names: Vec<&str> = RENAMES.iter().map(|(_, b)| *b).collect();
    create_roles(&target, &new_names);
    create_tablespace(&target);
    let reference = Server::start(v);
    let old_names: Vec<&str> = RENAMES.iter().map(|(a, _)| *a).collect();
    create_roles(&reference, &old_names);
    create_tablespace(&reference);
    let dir = target.new_dir("archives");

    let tables = user_tables(&fx.server, "db1");
    assert!(tables.len() > 5, "{tables:?}");

    for name in ["custom-file", "custom"] {
        let archive = fx.dump(name);
        // Written by -o (a regular file, renamed into place).
        let out = dir.join(format!("{name}.mapped.dump"));
        let src = write_file(&dir, &format!("{name}.dump"), archive);
        let mut full: Vec<&str> = args.clone();
        full.extend(["-o", out.to_str().unwrap(), src.to_str().unwrap()]);
        let (code, stdout, err) = roles(&full, None);
        assert_eq!(code, 0, "{err}");
        assert!(stdout.is_empty());
        let rewritten = std::fs::read(&out).unwrap();
        // Same header (version, sizes, format, compression, time, names).
        assert_eq!(rewritten[..5], archive[..5]);
        assert_eq!(rewritten[5..13], archive[5..13], "{name} on {v:?}");
        // stdout gives the same bytes.
        assert!(keep(&args, archive) == rewritten, "{name} on {v:?}");

        let list = pg_restore_list(&target, &out);
        for (old, _) in RENAMES {
            assert!(
                !list.lines().any(|l| l.ends_with(&format!(" {old}"))),
                "{name} on {v:?}: TOC still lists owner {old}:\n{list}"
            );
        }

        // DATABASE PROPERTIES (restored only with --create) names the new role.
        let created = run(
            target
                .command("pg_restore")
                .args(["--create", "-f", "-"])
                .arg(&out),
            None,
        );
        assert_eq!(exit_code(&created), 0);
        let created = String::from_utf8_lossy(&created.stdout).into_owned();
        assert!(
            created.contains(
                "ALTER ROLE \"Robert Smith\" IN DATABASE db1 SET statement_timeout TO '5s';"
            ),
            "{name} on {v:?}: no renamed role setting"
        );
        assert!(
            !created.contains("ALTER ROLE \"Bob Smith\""),
            "{name} on {v:?}"
        );

        let db = target.create_db("kf");
        restore_parallel(&target, &db, &out);

        let rdb = reference.create_db("kf");
        restore_parallel(&reference, &rdb, &src);

        // Rename in the reference after its restore: compare by new names.
        let mut rename = String::new();
        for (a, b) in RENAMES {
            rename.push_str(&format!(
                "ALTER ROLE {} RENAME TO {};\n",
                support::quote_ident(a),
                support::quote_ident(b)
            ));
        }
        let mut back = String::new();
        for (a, b) in RENAMES {
            back.push_str(&format!(
                "ALTER ROLE {} RENAME TO {};\n",
                support::quote_ident(b),
                support::quote_ident(a)
            ));
        }
        reference.psql("postgres", &rename);
        let want_renamed = catalogs(&reference, &rdb);
        reference.psql("postgres", &back);

        let got = catalogs(&target, &db);
        for ((what, got), (_, want)) in got.iter().zip(&want_renamed) {
            assert_eq!(got, want, "{what} differ on {v:?} ({name})");
            for line in got {
                for (old, _) in RENAMES {
                    let q = support::quote_ident(old);
                    assert!(
                        !line.contains(&format!(": {q}"))
                            && !line.contains(&format!("(grantor {q})")),
                        "{what} names old role {old}: {line}"
                    );
                }
            }
        }
        assert!(!target.owners(&db).is_empty());
        assert!(!target.acls(&db).is_empty());
        assert!(!target.default_acls(&db).is_empty());
        assert!(!target.policy_roles(&db).is_empty());

        assert_eq!(tables, user_tables(&target, &db));
        for t in &tables {
            assert_eq!(
                target.table_digest(&db, t),
                fx.server.table_digest("db1", t),
                "rows of {t} differ on {v:?} ({name})"
            );
        }
    }
}

#[test]
fn parallel_restore_with_roles_mapped_15() {
    parallel_round_trip(Version::V15);
}

#[test]
fn parallel_restore_with_roles_mapped_18() {
    parallel_round_trip(Version::V18);
}

/// `--owner`, `--no-acl` and `--no-owner` archives restore in parallel too,
/// with what they promise in the catalogs.
#[test]
fn owner_and_no_acl_restore_in_parallel() {
    for v in Version::ALL {
        let fx = fixture(v);
        let target = Server::start(v);
        // Foreign-data wrappers and event triggers need a superuser owner.
        target.psql("postgres", "CREATE ROLE newowner SUPERUSER LOGIN");
        // User mappings and policies still name the fixture roles.
        let old_names: Vec<&str> = RENAMES.iter().map(|(a, _)| *a).collect();
        create_roles(&target, &old_names);
        create_tablespace(&target);
        let dir = target.new_dir("archives");
        let archive = fx.dump("custom-file");

        let out = write_file(
            &dir,
            "owner.dump",
            &keep(&["--owner", "newowner", "--no-acl"], archive),
        );
        let db = target.create_db("kfo");
        restore_parallel(&target, &db, &out);
        let owners = target.owners(&db);
        assert!(owners.len() > 10, "{owners:?}");
        // Extensions, the public schema and the range type's constructor
        // functions and multirange type (made by CREATE TYPE, not all moved by
        // ALTER TYPE … OWNER on 15)
        // keep the restoring user.
        let others: Vec<&String> = owners
            .iter()
            .filter(|l| {
                !l.ends_with(": newowner")
                    && !l.starts_with("extension ")
                    && !l.starts_with("schema public:")
                    && !l.starts_with("function app.rng")
                    && !l.starts_with("type app.rng_multirange")
            })
            .collect();
        assert!(others.is_empty(), "{v:?}: {others:?}");
        assert!(target.default_acls(&db).is_empty(), "{v:?}");
        // No grant to or by a fixture role is left.
        for line in target.acls(&db) {
            for (old, _) in RENAMES {
                let q = support::quote_ident(old);
                assert!(
                    !line.contains(&format!(": {q} ")) && !line.contains(&format!("grantor {q})")),
                    "{v:?}: {line}"
                );
            }
        }

        let out = write_file(&dir, "noowner.dump", &keep(&["--no-owner"], archive));
        let (code, _, err) = {
            let db = target.create_db("kfn");
            let o = run(
                target
                    .command("pg_restore")
                    .args(["-j", "2", "-d", &db])
                    .arg(&out),
                None,
            );
            (
                exit_code(&o),
                target.owners(&db),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        // The old roles do not exist here: their grants fail, nothing else.
        assert!(code == 0 || code == 1, "{err}");
        for line in err.lines().filter(|l| l.contains("error:")) {
            assert!(
                line.contains("does not exist") && line.contains("role"),
                "{v:?}: {line}"
            );
        }
    }
}

#[test]
fn no_options_is_byte_identity() {
    for v in Version::ALL {
        let fx = fixture(v);
        for name in ["custom", "custom-file"] {
            let archive = fx.dump(name);
            assert!(keep(&[], archive) == archive, "{name} on {v:?}");
            // A rename of a role that is not there changes nothing either.
            assert!(keep(&["--map", "nobody=somebody"], archive) == archive);
        }
    }
    for name in ["custom-file", "custom-piped"] {
        let a = pg17(name);
        assert!(keep(&[], &a) == a, "pg17 {name}");
    }
    // pg_dump 16+ to a redirected stdout appends a second TOC after the
    // data; it is left out, the rest is the same bytes.
    let a = pg17("custom-redirect-duptoc");
    let out = keep(&[], &a);
    assert!(out.len() < a.len() && a.starts_with(&out), "{}", out.len());
}

/// The SQL of the rewritten archive is the plain rewrite of the original's
/// SQL, for renames and `--owner` (options that keep every TOC entry's
/// header fields meaningful).
#[test]
fn same_sql_as_the_plain_rewrite() {
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for v in Version::ALL {
        let fx = fixture(v);
        for name in ["custom", "custom-file"] {
            inputs.push((format!("{name} {v:?}"), fx.dump(name).to_vec()));
        }
    }
    inputs.push(("pg17".into(), pg17("custom-file")));
    let mapped = map_args();
    let mapped: Vec<&str> = mapped.iter().map(String::as_str).collect();
    for (name, archive) in &inputs {
        for args in [&mapped[..], &["--owner", "newowner"][..]] {
            let rewritten = keep(args, archive);
            let a = run(
                Command::new(*SQL).args(["--restrict-key", "K"]),
                Some(&rewritten),
            );
            assert_eq!(exit_code(&a), 0);
            let sql = run(
                Command::new(*SQL).args(["--restrict-key", "K"]),
                Some(archive),
            );
            let b = run(
                Command::new(*ROLES).arg("--no-progress").args(args),
                Some(&sql.stdout),
            );
            assert_eq!(exit_code(&b), 0);
            assert!(a.stdout == b.stdout, "{name} {args:?}: SQL differs");
        }
    }
}

#[test]
fn truncated_archives_exit_3_and_leave_no_file() {
    let a = pg17("custom-file");
    let dir = std::env::temp_dir().join(format!("pgpipe-kf-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("out.dump");
    let out_s = out.to_str().unwrap();
    let mut cuts: Vec<usize> = (0..a.len()).step_by(37).collect();
    cuts.extend(a.len() - 64..a.len());
    for cut in cuts {
        let (code, stdout, err) = roles(&["--map", "alice=alicia", "-o", out_s], Some(&a[..cut]));
        assert_eq!(code, 3, "cut at {cut}: {err}");
        assert!(stdout.is_empty());
        assert!(!out.exists(), "cut at {cut} left {out_s}");
        assert!(err.contains("pgpipe-roles: error:"), "{err}");
    }
    // To stdout, the held-back tail is never written: a cut archive gives
    // fewer bytes than the whole one, and no more than the input's prefix.
    let whole = keep(&["--map", "alice=alicia"], &a);
    let (code, part, _) = roles(&["--map", "alice=alicia"], Some(&a[..a.len() - 1]));
    assert_eq!(code, 3);
    assert!(whole.starts_with(&part));
    assert!(part.is_empty() || whole.len() - part.len() >= 64 * 1024);
    // Corrupt: a data block header naming an entry with no data.
    let mut bad = a.clone();
    let pos = find_first_block(&a);
    bad[pos + 2] ^= 0x40;
    let (code, _, err) = roles(&[], Some(&bad));
    assert_eq!(code, 3, "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Byte position of the first data block, from the first TOC entry with a
/// set data offset (flag 2), read back from pg_dump's own offsets: the first
/// `0x02` flag followed by 8 offset bytes pointing inside the file at a
/// `0x01` block type byte.
fn find_first_block(a: &[u8]) -> usize {
    let mut best = usize::MAX;
    for i in 0..a.len().saturating_sub(9) {
        if a[i] == 2 {
            let v = u64::from_le_bytes(a[i + 1..i + 9].try_into().unwrap()) as usize;
            if v > i && v < a.len() && a[v] == 1 && a[v + 1] == 0 {
                best = best.min(v);
            }
        }
    }
    assert!(best != usize::MAX);
    best
}

#[test]
fn other_forms_and_options_are_usage_errors() {
    let fx = fixture(Version::V18);
    let (code, _, err) = roles(&[], Some(fx.dump("tar")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("custom-format archive (pg_dump -Fc)"), "{err}");
    let (code, _, err) = roles(&[], Some(fx.dump("plain")));
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = roles(&["--drop-passwords"], Some(fx.dump("custom")));
    assert_eq!(code, 2, "{err}");
    let dir = fx.server.new_dir("dirarchive");
    let d = dir.join("a");
    let o = run(
        fx.server
            .command("pg_dump")
            .args(["-Fd", "-f"])
            .arg(&d)
            .arg("db1"),
        None,
    );
    assert_eq!(exit_code(&o), 0);
    let (code, _, err) = roles(&[d.to_str().unwrap()], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("directory archive"), "{err}");
    // --only-roles checks the owners and SQL of the rewritten entries.
    let (code, _, err) = roles(&["--only-roles", "alice"], Some(fx.dump("custom")));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("TOC entry") && err.contains("not in --only-roles"),
        "{err}"
    );
}
