//! Every EXAMPLE of every man/pgpipe-*.1 page runs: the examples are taken
//! from the pages themselves (each `.Bd -literal` display and each `.Dl`
//! line), must be exactly the ones listed in [`CASES`] (so a new or changed
//! example fails until it is given its setup here), and each runs with
//! `bash -c` under `set -eo pipefail` (one noted exception) against real
//! PostgreSQL 15 and 18 servers, with the built binaries first in PATH; a non-zero
//! exit, or a wrong result where a case checks one, fails the test.
//!
//! The world the examples assume, built by the test:
//!
//! * server A, "the old host": demo/synapse.sql, its database renamed to
//!   synapse (owned by the opaque role 3f9a2c71, grants to rdsadmin), with
//!   Synapse's event_json and a stream_positions table added, and a copy
//!   named db that also grants to synapse_ro.
//! * server B, "the new host", where the libpq `PG*` variables point: the
//!   same roles, databases created (or dropped) by each case's [`Prep`].
//! * shims first in PATH: `pg_dump` and `pg_dumpall` read server A (dropping
//!   a `-h old.example.com` argument), and `ssh HOST COMMAND` runs COMMAND
//!   here with `bash -c` (so `ssh backup 'cat > db.sql'` writes into the
//!   working directory).
//! * files in the working directory: dump.sql (pg_dump synapse), its
//!   zstd-compressed dump.sql.zst, structure.sql (dump.sql with a table
//!   and a row appended after its footer, as Rails appends
//!   schema_migrations), cluster.sql (pg_dumpall), export.dump
//!   (custom format), export.dir/ (directory format) and
//!   DOMAIN-synapse-database.zip (export.dir/ zipped, as managed hosts
//!   offer it).

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Server, Version, exit_code, run};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// What server B needs before an example runs.
#[derive(Clone, Copy, Debug)]
enum Prep {
    /// Nothing.
    None,
    /// This database exists and is empty (dropped and created again).
    EmptyDb(&'static str),
    /// This database does not exist (the example's dump creates it).
    NoDb(&'static str),
    /// No database but postgres and the templates (a whole cluster arrives).
    EmptyCluster,
}

/// One example: its page, its exact text (roff escapes undone), what B
/// needs first, and optionally a query on B with its expected output after.
struct Case {
    page: &'static str,
    text: &'static str,
    prep: Prep,
    check: Option<(&'static str, &'static str, &'static str)>,
    /// Run under `set -o pipefail` (every example but one).
    pipefail: bool,
}

const fn case(page: &'static str, text: &'static str, prep: Prep) -> Case {
    Case {
        page,
        text,
        prep,
        check: None,
        pipefail: true,
    }
}

/// Rows of events on A (demo/synapse.sql: 3 + 5000).
const EVENTS: &str = "5003";
const COUNT_EVENTS: &str = "SELECT count(*) FROM events";

const CASES: &[Case] = &[
    case(
        "pgpipe-age.1",
        "pgpipe-age --keygen -o backup.key > backup.pub",
        Prep::None,
    ),
    case(
        "pgpipe-age.1",
        "pg_dump db | pgpipe-zip | pgpipe-age -R backup.pub -o db.sql.zst.age",
        Prep::None,
    ),
    Case {
        check: Some(("newdb", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-age.1",
            "pgpipe-age -d -i backup.key db.sql.zst.age | pgpipe-zip -d | pgpipe-guard | psql -X newdb",
            Prep::EmptyDb("newdb"),
        )
    },
    Case {
        check: Some(("synapse", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-filter.1",
            "pgpipe-filter --database synapse --no-globals < cluster.sql |\n  \
             pgpipe-guard --per-database | psql -X -d postgres",
            Prep::NoDb("synapse"),
        )
    },
    Case {
        check: Some(("synapse", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-filter.1",
            "pg_dump synapse | pgpipe-filter --clean |\n  pgpipe-guard | psql -X -d synapse",
            Prep::None,
        )
    },
    Case {
        check: Some((
            "synapse",
            "SELECT (SELECT count(*) FROM event_json) || ' ' \
             || (to_regclass('stream_positions') IS NULL)",
            "0 true",
        )),
        ..case(
            "pgpipe-filter.1",
            "pg_dump synapse |\n  \
             pgpipe-filter --exclude-table-data event_json -T 'stream_*' |\n  \
             psql -X -v ON_ERROR_STOP=1 --single-transaction -d synapse",
            Prep::EmptyDb("synapse"),
        )
    },
    Case {
        check: Some(("db", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-filter.1",
            "pg_dumpall | pgpipe-filter --roles-if-not-exists --skip-role postgres \\\n    \
             --target-version 15 | psql -X -v ON_ERROR_STOP=1 -d postgres",
            Prep::EmptyCluster,
        )
    },
    Case {
        check: Some(("synapse", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-guard.1",
            "set -o pipefail\npgpipe-zip -d < dump.sql.zst | pgpipe-guard | psql -X synapse",
            Prep::EmptyDb("synapse"),
        )
    },
    Case {
        check: Some(("db", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-guard.1",
            "pg_dumpall | pgpipe-filter --roles-if-not-exists --skip-role postgres |\n  \
             pgpipe-guard --per-database | psql -X -d postgres",
            Prep::EmptyCluster,
        )
    },
    Case {
        check: Some(("db", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-guard.1",
            "pg_dump db | pgpipe-sum --seal | ssh new 'pgpipe-guard --require-seal | psql -X db'",
            Prep::EmptyDb("db"),
        )
    },
    Case {
        check: Some((
            "app",
            "SELECT (SELECT count(*) FROM events) || ' ' || (SELECT version FROM schema_migrations)",
            "5003 20260101000000",
        )),
        ..case(
            "pgpipe-guard.1",
            "pgpipe-guard --allow-after-footer structure.sql | psql -X -d app",
            Prep::EmptyDb("app"),
        )
    },
    case("pgpipe-inspect.1", "pgpipe-inspect dump.sql", Prep::None),
    case(
        "pgpipe-inspect.1",
        "pgpipe-inspect --json --require-complete dump.sql",
        Prep::None,
    ),
    case(
        "pgpipe-inspect.1",
        "pgpipe-inspect --require-complete --allow-after-footer structure.sql",
        Prep::None,
    ),
    case(
        "pgpipe-inspect.1",
        "pg_dump synapse | pgpipe-inspect --passthrough --report r.txt | gzip > d.gz",
        Prep::None,
    ),
    Case {
        check: Some((
            "synapse",
            "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class \
             WHERE relnamespace = 'public'::regnamespace",
            "synapse",
        )),
        ..case(
            "pgpipe-roles.1",
            "pg_dump -h old.example.com synapse |\n  \
             pgpipe-roles --map 3f9a2c71=synapse --drop rdsadmin \\\n    \
             --only-roles synapse |\n  \
             psql -X -v ON_ERROR_STOP=1 --single-transaction -d synapse",
            Prep::EmptyDb("synapse"),
        )
    },
    case(
        "pgpipe-roles.1",
        "pg_dumpall | pgpipe-roles --map synapse_user=synapse \\\n    \
         --map synapse_ro=synapse --drop-passwords > cluster.sql",
        Prep::None,
    ),
    Case {
        check: Some((
            "synapse",
            "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class \
             WHERE relnamespace = 'public'::regnamespace",
            "synapse",
        )),
        ..case(
            "pgpipe-roles.1",
            "pgpipe-roles --keep-format --map 3f9a2c71=synapse --drop rdsadmin \\\n    \
             -o synapse.dump export.dump\n\
             pg_restore -j 4 --exit-on-error -d synapse synapse.dump",
            Prep::EmptyDb("synapse"),
        )
    },
    Case {
        check: Some(("target", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-sql.1",
            "pgpipe-sql export.dump | psql -X -v ON_ERROR_STOP=1 -d target",
            Prep::EmptyDb("target"),
        )
    },
    case(
        "pgpipe-sql.1",
        "pgpipe-sql export.dir/ > export.sql",
        Prep::None,
    ),
    Case {
        check: Some(("synapse", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-sql.1",
            "pgpipe-sql DOMAIN-synapse-database.zip \\\n  \
             | pgpipe-roles --map 3f9a2c71=synapse --drop rdsadmin \\\n  \
             | pgpipe-guard | psql -X -q -d synapse",
            Prep::EmptyDb("synapse"),
        )
    },
    // pgpipe-sql --list stops reading after the table of contents, so
    // pg_dump upstream dies of SIGPIPE and pipefail would report 141; without
    // it the status is pgpipe-sql's.
    Case {
        pipefail: false,
        ..case(
            "pgpipe-sql.1",
            "ssh host pg_dump -Fc db | pgpipe-sql --list",
            Prep::None,
        )
    },
    case(
        "pgpipe-sum.1",
        "pg_dump db | pgpipe-sum -o db.sql.sha256 > db.sql",
        Prep::None,
    ),
    Case {
        check: Some(("newdb", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-sum.1",
            "pgpipe-sum -c db.sql.sha256 db.sql | pgpipe-guard | psql -X newdb",
            Prep::EmptyDb("newdb"),
        )
    },
    case(
        "pgpipe-sum.1",
        "pg_dump db | pgpipe-sum --seal | ssh backup 'cat > db.sql'",
        Prep::None,
    ),
    Case {
        check: Some(("newdb", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-sum.1",
            "ssh backup 'cat db.sql' | pgpipe-sum --unseal | pgpipe-guard | psql -X newdb",
            Prep::EmptyDb("newdb"),
        )
    },
    case(
        "pgpipe-zip.1",
        "pg_dump db | pgpipe-zip -F gzip -o db.sql.gz",
        Prep::None,
    ),
    Case {
        check: Some(("newdb", COUNT_EVENTS, EVENTS)),
        ..case(
            "pgpipe-zip.1",
            "pgpipe-zip -d db.sql.gz | psql -X -v ON_ERROR_STOP=1 -1 newdb",
            Prep::EmptyDb("newdb"),
        )
    },
];

/// The examples of a page: the text of each `.Bd -literal` display and of
/// each `.Dl` line in its EXAMPLES section, with `\e` undone.
fn examples(page: &str) -> Vec<String> {
    let section = &page[page.find("\n.Sh EXAMPLES").expect("an EXAMPLES section")..];
    let section = &section[..section[1..].find("\n.Sh ").map_or(section.len(), |i| i + 1)];
    let unescape = |l: &str| l.replace("\\e", "\\");
    let mut out = Vec::new();
    let mut display: Option<Vec<String>> = None;
    for line in section.lines() {
        if let Some(lines) = display.as_mut() {
            if line == ".Ed" {
                out.push(lines.join("\n"));
                display = None;
            } else {
                lines.push(unescape(line));
            }
        } else if line.starts_with(".Bd -literal") {
            display = Some(Vec::new());
        } else if let Some(text) = line.strip_prefix(".Dl ") {
            out.push(unescape(text));
        } else {
            assert!(
                !line.starts_with(".Bd") && !line.starts_with(".D1"),
                "an example this test cannot read: {line}"
            );
        }
    }
    assert!(display.is_none(), "unterminated .Bd");
    out
}

/// Every man/pgpipe-*.1 page, sorted: (file name, examples).
fn all_examples() -> Vec<(String, Vec<String>)> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(format!("{ROOT}/man"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with("pgpipe-") && name.ends_with(".1")
        })
        .collect();
    pages.sort();
    assert!(pages.len() >= 8, "{pages:?}");
    pages
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            let ex = examples(&text);
            assert!(!ex.is_empty(), "{name} has no example");
            (name, ex)
        })
        .collect()
}

/// The directory of the binaries this test run built.
fn write_script(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `export K='V'` lines for the libpq variables of `server`.
fn exports(server: &Server) -> String {
    server
        .env()
        .iter()
        .map(|(k, v)| format!("export {k}='{}'\n", v.to_str().unwrap()))
        .collect()
}

/// A `pg_dump`/`pg_dumpall` shim that reads server `a`.
fn dump_shim(a: &Server, program: &str) -> String {
    format!(
        "#!/bin/bash\n\
         # {program} of the old host: server A (drops -h old.example.com).\n\
         args=()\n\
         while [ $# -gt 0 ]; do\n\
         \x20 if [ \"$1\" = -h ] && [ \"$2\" = old.example.com ]; then shift 2; continue; fi\n\
         \x20 args+=(\"$1\"); shift\n\
         done\n\
         {}exec '{}' \"${{args[@]}}\"\n",
        exports(a),
        a.version().bin_dir().join(program).display()
    )
}

/// Run `script` with bash (`set -e`, and pipefail if asked) in `dir` with
/// `env`; panic with its output unless
/// it exits 0.
fn bash(script: &str, pipefail: bool, dir: &Path, env: &[(String, String)], what: &str) -> String {
    let set = if pipefail {
        "set -eo pipefail"
    } else {
        "set -e"
    };
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("{set}\n{script}"))
        .current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("PG") {
            cmd.env_remove(&k);
        }
    }
    cmd.env_remove("PSQLRC");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(&mut cmd, None);
    assert_eq!(
        exit_code(&out),
        0,
        "{what} exited {}:\n{script}\nstdout:\n{}\nstderr:\n{}",
        exit_code(&out),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_example_is_listed() {
    let found: Vec<(String, String)> = all_examples()
        .into_iter()
        .flat_map(|(page, ex)| ex.into_iter().map(move |e| (page.clone(), e)))
        .collect();
    let listed: Vec<(String, String)> = CASES
        .iter()
        .map(|c| (c.page.to_owned(), c.text.to_owned()))
        .collect();
    for f in &found {
        assert!(
            listed.contains(f),
            "{}: example not run by this test (add a Case):\n{}",
            f.0,
            f.1
        );
    }
    assert_eq!(listed, found, "CASES is not in page order");
}

/// Roles both servers have (B's as a new host would after its own setup).
const ROLES: &str = "CREATE ROLE \"3f9a2c71\" NOLOGIN; CREATE ROLE rdsadmin NOLOGIN; \
                     CREATE ROLE synapse; CREATE ROLE synapse_user LOGIN PASSWORD 'x'; \
                     CREATE ROLE synapse_ro";

#[test]
fn every_example_runs() {
    for version in Version::ALL {
        run_examples(version);
    }
}

/// Every case in order with servers A and B and the client programs of
/// `version`.
fn run_examples(version: Version) {
    let a = Server::start(version);
    let demo = std::fs::read_to_string(format!("{ROOT}/demo/synapse.sql")).unwrap();
    a.psql("postgres", &demo);
    a.psql(
        "postgres",
        "ALTER DATABASE demo_src RENAME TO synapse; CREATE ROLE synapse; \
         CREATE ROLE synapse_user LOGIN PASSWORD 'x'; CREATE ROLE synapse_ro",
    );
    a.psql(
        "synapse",
        "SET ROLE \"3f9a2c71\";
         CREATE TABLE event_json (event_id text PRIMARY KEY, json text);
         INSERT INTO event_json SELECT 'e' || g, '{}' FROM generate_series(1, 50) g;
         CREATE TABLE stream_positions (stream_name text, stream_id bigint);
         INSERT INTO stream_positions VALUES ('events', 5003);",
    );
    a.psql(
        "postgres",
        "CREATE DATABASE db TEMPLATE synapse OWNER \"3f9a2c71\"",
    );
    a.psql("db", "GRANT SELECT ON rooms TO synapse_ro");
    let b = Server::start(version);
    b.psql("postgres", ROLES);

    let dir = tempfile::tempdir().unwrap();
    let shims = dir.path().join("shims");
    let work = dir.path().join("work");
    std::fs::create_dir(&shims).unwrap();
    std::fs::create_dir(&work).unwrap();
    write_script(&shims, "pg_dump", &dump_shim(&a, "pg_dump"));
    write_script(&shims, "pg_dumpall", &dump_shim(&a, "pg_dumpall"));
    write_script(
        &shims,
        "ssh",
        "#!/bin/bash\n# ssh HOST COMMAND: run COMMAND here, as sshd would.\nshift\nexec bash -c \"$*\"\n",
    );
    let mut env: Vec<(String, String)> = b
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_string().unwrap()))
        .collect();
    env.push((
        "PATH".into(),
        format!(
            "{}:{}:{}:/usr/local/bin:/usr/bin:/bin",
            shims.display(),
            support::release_dir().display(),
            version.bin_dir().display()
        ),
    ));
    bash(
        "pg_dump synapse > dump.sql\n\
         zstd -q dump.sql\n\
         { cat dump.sql; printf '%s\\n' 'CREATE TABLE public.schema_migrations (version text PRIMARY KEY);' \
           \"INSERT INTO public.schema_migrations (version) VALUES ('20260101000000');\"; } > structure.sql\n\
         pg_dumpall > cluster.sql\n\
         pg_dump -Fc -f export.dump synapse\n\
         pg_dump -Fd -f export.dir synapse\n\
         zip -q -r DOMAIN-synapse-database.zip export.dir\n",
        true,
        &work,
        &env,
        "the files' setup",
    );

    for (n, c) in CASES.iter().enumerate() {
        let sql = match c.prep {
            Prep::None => String::new(),
            Prep::EmptyDb(db) => {
                format!("DROP DATABASE IF EXISTS {db} WITH (FORCE);\nCREATE DATABASE {db};")
            }
            Prep::NoDb(db) => format!("DROP DATABASE IF EXISTS {db} WITH (FORCE);"),
            Prep::EmptyCluster => b
                .lines(
                    "postgres",
                    "SELECT datname FROM pg_database \
                     WHERE NOT datistemplate AND datname <> 'postgres'",
                )
                .iter()
                .map(|d| format!("DROP DATABASE \"{d}\" WITH (FORCE);\n"))
                .collect(),
        };
        if !sql.is_empty() {
            // One statement per psql call: DROP DATABASE cannot run in a
            // transaction block.
            for stmt in sql.lines() {
                b.psql("postgres", stmt);
            }
        }
        let what = format!("PostgreSQL {}: example {n} of {}", version.major(), c.page);
        bash(c.text, c.pipefail, &work, &env, &what);
        if let Some((db, query, expected)) = c.check {
            assert_eq!(b.psql(db, query), expected, "{what}:\n{}", c.text);
        }
    }
}
