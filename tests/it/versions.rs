//! PostgreSQL 13 and 16 beside 15 and 18: the fixture database and the
//! Synapse-shaped one, made on a server of 13 or 16 and dumped by that
//! version's pg_dump in all four formats (plain, custom, directory, tar),
//! through the tools, with that version's PostgreSQL as the judge:
//!
//! * `map`: `pgpipe-roles --map OWNER=synapse` of the plain dump is, byte
//!   for byte, what the same pg_dump writes after `ALTER ROLE OWNER RENAME
//!   TO synapse`; of each archive, what that version's `pg_restore -f -`
//!   prints of the archive pg_dump makes after the rename (`\restrict`
//!   lines aside); and `--keep-format` writes a custom archive that
//!   pg_restore prints as that archive.
//! * `sql`: `pgpipe-sql` of each archive is what that version's
//!   `pg_restore -f -` prints (`\restrict` lines aside).
//! * `target 13`: the dump of the same database by pg_dump 18, through
//!   `pgpipe-filter --target-version 13`, restores into a PostgreSQL 13
//!   server as this version's own dump through the same filter does: the
//!   same errors (those of what 13 cannot hold) and the same schema and
//!   table digests, and no error of a setting or option 13 does not know.
//! * `into 18`: every dump restores into PostgreSQL 18 through `pgpipe-zip
//!   | pgpipe-zip -d | pgpipe-guard | psql` (archives: the guard reads them
//!   itself) as `pg_restore` 18 restores the custom archive: the same
//!   errors, schema and digests, committed exactly when that restore has no
//!   error.
//!
//! `make test` runs one row per version (the fixture on 13, the Synapse
//! shape on 16); `PGPIPE_ORACLE_FULL=1` (`make test-oracle`) all four.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use support::oracle::{
    RestoreError, State, compare_errors, compare_states, first_difference, normalised,
    restore_located, state,
};
use support::{
    Server, Version, fixture, fixture_file, pg_restore_script, run_tool, run_tool_ok,
    without_restrict,
};

/// The name `--map` gives the owner.
const MAPPED: &str = "synapse";
/// The bootstrap superuser of the Synapse-shaped database's cluster, so
/// that `postgres`, its owner, can be renamed.
const ADMIN: &str = "pgpipe_admin";

fn full() -> bool {
    std::env::var_os("PGPIPE_ORACLE_FULL").is_some_and(|v| v == "1")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Fixture,
    Synapse,
}

/// One database on one server of the version under test, and its dumps.
struct Subject<'a> {
    version: Version,
    server: &'a Server,
    db: String,
    /// The role owning its objects.
    owner: &'static str,
    dir: PathBuf,
}

impl Subject<'_> {
    fn pg_dump(&self, args: &[&str]) -> Vec<u8> {
        let key = self.version.restrict_key_args();
        let mut all: Vec<&str> = key.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        self.server.pg_dump(&self.db, &all)
    }

    /// The four dumps, as files: plain, custom, directory, tar.
    fn dumps(&self, tag: &str) -> Vec<(&'static str, PathBuf)> {
        let mut made = Vec::new();
        let plain = self.dir.join(format!("{tag}.sql"));
        std::fs::write(&plain, self.pg_dump(&[])).unwrap();
        made.push(("plain", plain));
        for (format, flag, name) in [
            ("custom", "-Fc", format!("{tag}.dump")),
            ("directory", "-Fd", format!("{tag}.dir")),
            ("tar", "-Ft", format!("{tag}.tar")),
        ] {
            let path = self.dir.join(name);
            let file = format!("--file={}", path.display());
            self.server.pg_dump(&self.db, &[flag, &file]);
            made.push((format, path));
        }
        made
    }

    fn rename(&self, from: &str, to: &str) {
        self.server.rename_role(from, to);
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The result of one check.
type Check = Result<String, String>;

fn checked(results: &mut Vec<(String, Check)>, what: String, f: impl FnOnce() -> Check) {
    let started = Instant::now();
    let r = support::catching(f);
    eprintln!(
        "  {what:<44} {:>5.1}s {}",
        started.elapsed().as_secs_f64(),
        match &r {
            Ok(n) => format!("ok {n}"),
            Err(e) => format!("FAILED\n{e}"),
        }
    );
    results.push((what, r));
}

/// `map`: the tool's rename against PostgreSQL's, byte for byte.
fn check_map(s: &Subject<'_>, before: &[(&'static str, PathBuf)]) -> Check {
    s.rename(s.owner, MAPPED);
    let after = s.dumps("renamed");
    s.rename(MAPPED, s.owner);
    let map = format!("{}={MAPPED}", s.owner);
    let mut notes = Vec::new();
    for ((format, input), (_, renamed)) in before.iter().zip(&after) {
        let ours = run_tool_ok("pgpipe-roles", &["--map", &map, path_str(input)], None)?;
        let theirs = if *format == "plain" {
            std::fs::read(renamed).unwrap()
        } else {
            pg_restore_script(s.version, renamed, &[])?
        };
        let (ours_cmp, theirs_cmp) = if *format == "plain" {
            (ours, theirs)
        } else {
            (without_restrict(&ours), without_restrict(&theirs))
        };
        if let Some(d) = first_difference(&theirs_cmp, &ours_cmp) {
            return Err(format!(
                "{format}: --map {map} is not pg_dump's renamed dump: {d}"
            ));
        }
        notes.push(*format);
        if *format == "custom" {
            let kept = run_tool_ok(
                "pgpipe-roles",
                &["--map", &map, "--keep-format", path_str(input)],
                None,
            )?;
            let kept_path = s.dir.join("kept.dump");
            std::fs::write(&kept_path, kept).unwrap();
            let printed = pg_restore_script(s.version, &kept_path, &[])?;
            if let Some(d) =
                first_difference(&without_restrict(&theirs_cmp), &without_restrict(&printed))
            {
                return Err(format!("--keep-format: {d}"));
            }
            notes.push("--keep-format");
        }
    }
    Ok(format!("--map {map}, byte for byte: {}", notes.join(", ")))
}

/// `sql`: pgpipe-sql prints what this version's pg_restore prints.
fn check_sql(s: &Subject<'_>, dumps: &[(&'static str, PathBuf)]) -> Check {
    let mut done = Vec::new();
    for (format, path) in dumps.iter().filter(|(f, _)| *f != "plain") {
        let ours = run_tool_ok("pgpipe-sql", &[path_str(path)], None)?;
        let theirs = pg_restore_script(s.version, path, &[])?;
        if let Some(d) = first_difference(&without_restrict(&theirs), &without_restrict(&ours)) {
            return Err(format!("{format}: {d}"));
        }
        done.push(*format);
    }
    Ok(format!(
        "= pg_restore {}: {}",
        s.version.major(),
        done.join(", ")
    ))
}

/// What one restore left.
struct Outcome {
    errors: Vec<RestoreError>,
    state: State,
}

fn same(want: &Outcome, got: &Outcome) -> Result<(), String> {
    let mut msg = String::new();
    if let Err(e) = compare_errors(&normalised(&want.errors), &normalised(&got.errors)) {
        msg.push_str(&e);
    }
    if let Err(e) = compare_states(&want.state, &got.state) {
        msg.push_str(&e);
    }
    if msg.is_empty() { Ok(()) } else { Err(msg) }
}

/// A private cluster of `version` holding the roles (and the tablespace)
/// the subject's dumps name, with the source's bootstrap superuser (the
/// default privileges of schema public before 15 are that role's).
fn target_cluster(s: &Subject<'_>, which: Which, version: Version) -> Server {
    let bootstrap = match which {
        Which::Fixture => "postgres",
        Which::Synapse => ADMIN,
    };
    let target = Server::start_as(version, bootstrap, "-c autovacuum=off", true);
    match which {
        Which::Fixture => {
            let globals = s
                .server
                .pg_dumpall(&["--globals-only", "--no-role-passwords"]);
            let fx = fixture(s.version);
            let dir = target.new_dir("ts1");
            let globals = String::from_utf8_lossy(&globals)
                .replace(fx.tablespace_dir.to_str().unwrap(), dir.to_str().unwrap());
            // Without ON_ERROR_STOP: postgres exists, and a newer server
            // has roles the older one does not.
            let _ = target.psql_status("postgres", globals.as_bytes(), &["-q"]);
        }
        Which::Synapse => {
            target.psql("postgres", "CREATE ROLE postgres SUPERUSER");
        }
    }
    target
}

/// `target 13`: pg_dump 18's dump through --target-version 13 restores into
/// 13 as this version's own dump does.
fn check_target_13(s: &Subject<'_>, which: Which) -> Check {
    let own = s.pg_dump(&[]);
    let key = Version::V18.restrict_key_args();
    let mut args: Vec<&str> = key.iter().map(String::as_str).collect();
    args.extend(["-d", s.db.as_str()]);
    let mut cmd = s.server.client_command(Version::V18, "pg_dump");
    cmd.args(&args);
    let out = support::run(&mut cmd, None);
    if !out.status.success() {
        return Err(format!(
            "pg_dump 18: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let filtered = run_tool_ok(
        "pgpipe-filter",
        &["--target-version", "13"],
        Some(&out.stdout),
    )?;
    let own = run_tool_ok("pgpipe-filter", &["--target-version", "13"], Some(&own))?;
    let target = target_cluster(s, which, Version::V13);
    let restore = |dump: &[u8]| {
        let db = target.create_db("t13");
        let errors = restore_located(&target, &db, dump);
        Outcome {
            errors,
            state: state(&target, &db),
        }
    };
    let want = restore(&own);
    let got = restore(&filtered);
    same(&want, &got)?;
    // What pg_dump 18 writes and 13 does not know (settings, options):
    // the filter's to remove. Objects 13 cannot hold (an SQL-standard
    // function body of a 16 database) fail alike on both sides.
    if let Some(e) = got
        .errors
        .iter()
        .find(|e| e.message.contains("unrecognized"))
    {
        return Err(format!("an error of what 13 does not know: {}", e.message));
    }
    Ok(format!(
        "pg_dump 18 | --target-version 13 restores into 13 as pg_dump {}'s ({} errors: {})",
        s.version.major(),
        want.errors.len(),
        want.errors
            .first()
            .map_or("none".into(), |e| e.message.clone())
    ))
}

/// `into 18`: every dump through the pipeline into 18, as pg_restore 18
/// restores the custom archive.
fn check_into_18(s: &Subject<'_>, which: Which, dumps: &[(&'static str, PathBuf)]) -> Check {
    let target = target_cluster(s, which, Version::V18);
    let custom = &dumps.iter().find(|(f, _)| *f == "custom").unwrap().1;
    let reference = {
        let db = target.create_db("ref");
        let script = pg_restore_script(Version::V18, custom, &[])?;
        let errors = restore_located(&target, &db, &script);
        Outcome {
            errors,
            state: state(&target, &db),
        }
    };
    let mut notes = Vec::new();
    for (format, path) in dumps {
        let input = if *format == "plain" {
            let plain = std::fs::read(path).unwrap();
            let z = run_tool_ok("pgpipe-zip", &[], Some(&plain))?;
            run_tool_ok("pgpipe-zip", &["-d"], Some(&z))?
        } else {
            Vec::new()
        };
        let (gcode, out, gerr) = if *format == "plain" {
            run_tool("pgpipe-guard", &[], Some(&input))
        } else {
            run_tool("pgpipe-guard", &[path_str(path)], None)
        };
        let db = target.create_db("into18");
        let (pcode, _, perr) = target.psql_status(&db, &out, &["-q"]);
        let committed = gcode == 0 && pcode == 0;
        if committed != reference.errors.is_empty() {
            return Err(format!(
                "{format}: guard exit {gcode} ({gerr}), psql exit {pcode} ({perr}); pg_restore 18's restore has {} errors",
                reference.errors.len()
            ));
        }
        if committed {
            compare_states(&reference.state, &state(&target, &db))
                .map_err(|e| format!("{format}: {e}"))?;
        } else {
            // Nothing committed; and without the guard the same errors and
            // the same database as pg_restore 18's.
            let script = if *format == "plain" {
                input
            } else {
                run_tool_ok("pgpipe-sql", &[path_str(path)], None)?
            };
            let db = target.create_db("into18_psql");
            let errors = restore_located(&target, &db, &script);
            same(
                &reference,
                &Outcome {
                    errors,
                    state: state(&target, &db),
                },
            )
            .map_err(|e| format!("{format}: {e}"))?;
        }
        notes.push(*format);
    }
    Ok(format!(
        "{} into 18 as pg_restore 18 ({})",
        notes.join(", "),
        if reference.errors.is_empty() {
            "committed".to_string()
        } else {
            format!(
                "{} errors, nothing committed through the guard: {}",
                reference.errors.len(),
                reference.errors[0].message
            )
        }
    ))
}

fn row(version: Version, which: Which) {
    let started = Instant::now();
    eprintln!("PostgreSQL {}, {which:?}:", version.major());
    // The Synapse-shaped database lives in a cluster of its own whose
    // bootstrap superuser is not postgres, so postgres (its owner) can be
    // renamed; the fixture's owner is alice.
    let own;
    let (server, db, owner): (&Server, String, &'static str) = match which {
        Which::Fixture => (&fixture(version).server, "db1".to_string(), "alice"),
        Which::Synapse => {
            own = Server::start_as(version, ADMIN, "-c autovacuum=off", true);
            own.psql("postgres", "CREATE ROLE postgres SUPERUSER");
            let db = own.create_db("synapse");
            let mut script = b"SET ROLE postgres;\n".to_vec();
            script.extend_from_slice(&fixture_file("synapse_shape.sql"));
            let (code, _, err) = own.psql_status(&db, &script, &["-q", "-v", "ON_ERROR_STOP=1"]);
            assert_eq!(code, 0, "synapse_shape.sql: {err}");
            own.psql(&db, "ANALYZE");
            (&own, db, "postgres")
        }
    };
    let s = Subject {
        version,
        server,
        db,
        owner,
        dir: server.new_dir("versions"),
    };
    let dumps = s.dumps("orig");
    let mut results = Vec::new();
    let v = version.major();
    checked(&mut results, format!("{v} map"), || check_map(&s, &dumps));
    checked(&mut results, format!("{v} sql"), || check_sql(&s, &dumps));
    checked(&mut results, format!("{v} target 13"), || {
        check_target_13(&s, which)
    });
    checked(&mut results, format!("{v} into 18"), || {
        check_into_18(&s, which, &dumps)
    });
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(w, r)| r.as_ref().err().map(|e| format!("{w}:\n{e}")))
        .collect();
    eprintln!("  ({:.1}s)", started.elapsed().as_secs_f64());
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn fixture_on_13() {
    row(Version::V13, Which::Fixture);
}

#[test]
fn synapse_on_16() {
    row(Version::V16, Which::Synapse);
}

/// The other two rows (PGPIPE_ORACLE_FULL=1 only).
#[test]
fn synapse_on_13_and_fixture_on_16() {
    if !full() {
        eprintln!(
            "synapse_on_13_and_fixture_on_16: not run; set PGPIPE_ORACLE_FULL=1 (make test-oracle)"
        );
        return;
    }
    row(Version::V13, Which::Synapse);
    row(Version::V16, Which::Fixture);
}

/// Every version the tests install is the major it says it is.
#[test]
fn the_four_majors_are_installed() {
    for v in Version::EVERY {
        assert_eq!(Version::of_major(v.major()), Some(v));
        let server = Server::start(v);
        assert_eq!(server.server_version_num() / 10000, v.major());
    }
}
