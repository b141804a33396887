//! The fixture cluster and its dumps, made at test time by each version's
//! own server and client from `tests/fixtures/setup.sql` and `db1.sql`.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::server::{Server, Version};

/// A private cluster loaded with the fixture scripts, and the dumps its own
/// version's pg_dump and pg_dumpall made of it. Kept for the whole process.
pub struct Fixture {
    pub version: Version,
    /// The fixture cluster: roles `alice`, `"Bob Smith"`, `"select"`,
    /// `"we""ird"`, `app_owner`, `readers`, `"UPPER"`, tablespace `ts1`,
    /// database `db1`. Tests may create databases in it (to restore dumps
    /// with the roles present) but must not change `db1` or cluster-wide state.
    pub server: Server,
    /// The directory of tablespace `ts1` (the path inside the dumps'
    /// `CREATE TABLESPACE`). A replay of the pg_dumpall dump into another
    /// cluster must substitute a fresh directory ([`Server::new_dir`]).
    pub tablespace_dir: PathBuf,
    /// What psql printed on stderr while running `db1.sql` (which has
    /// statements that fail by design on some versions).
    pub db1_stderr: String,
    /// The dumps, by name (see [`DUMPS`]).
    pub dumps: Vec<(&'static str, Vec<u8>)>,
}

/// Run in db1 after `db1.sql`, before the dumps are made.
///
/// `db1.sql` creates language `plsample_nonexist` with the handler
/// `pg_catalog.plpgsql_call_handler`. pg_dump prints a language whose handler
/// lives in `pg_catalog` as `CREATE OR REPLACE PROCEDURAL LANGUAGE name;`,
/// which PostgreSQL 13 and later run as `CREATE EXTENSION IF NOT EXISTS name`,
/// and no such extension is installed: every dump of db1 would fail to
/// restore. Recreating the language (same name, same owner) with a handler
/// of its own in `public` keeps the PROCEDURAL LANGUAGE entry and its
/// `ALTER PROCEDURAL LANGUAGE … OWNER TO` in the dumps, and they restore.
pub const LANGUAGE_FIXUP: &str = "DROP LANGUAGE plsample_nonexist;
CREATE FUNCTION public.plsample_handler() RETURNS language_handler
  LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE LANGUAGE plsample_nonexist HANDLER public.plsample_handler;";

/// The names of [`Fixture::dumps`] and how each was made. Plain dumps use
/// `--restrict-key` [`super::server::RESTRICT_KEY`] where the version has it
/// (16.2 writes no key at all), so they are the same bytes in every run
/// of one version (except `dumpall` and `globals`: alice's SCRAM verifier has
/// a random salt).
pub const DUMPS: &[(&str, &str)] = &[
    ("plain", "pg_dump db1"),
    ("inserts", "pg_dump --inserts db1"),
    ("column-inserts", "pg_dump --column-inserts db1"),
    (
        "session-auth",
        "pg_dump --use-set-session-authorization db1",
    ),
    ("clean", "pg_dump --clean --if-exists db1"),
    ("create", "pg_dump -C db1"),
    ("dumpall", "pg_dumpall"),
    ("globals", "pg_dumpall --globals-only"),
    (
        "custom",
        "pg_dump -Fc db1 > FILE (to a pipe: no data offsets)",
    ),
    ("custom-file", "pg_dump -Fc -f FILE db1 (data offsets set)"),
    ("tar", "pg_dump -Ft db1"),
];

impl Fixture {
    /// The dump called `name` (one of [`DUMPS`]). Panics on an unknown name.
    pub fn dump(&self, name: &str) -> &[u8] {
        self.dumps
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| bytes.as_slice())
            .unwrap_or_else(|| {
                panic!(
                    "no fixture dump {name:?}; there are: {:?}",
                    DUMPS.iter().map(|(n, _)| n).collect::<Vec<_>>()
                )
            })
    }
}

/// The fixture of `version`, built on first use (a private cluster, the
/// fixture scripts, every dump in [`DUMPS`]) and kept for the process.
pub fn fixture(version: Version) -> &'static Fixture {
    static FIXTURES: [OnceLock<Fixture>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    FIXTURES[version.index()].get_or_init(|| build(version))
}

/// A server of its own with the fixture loaded (setup.sql, db1.sql and
/// [`LANGUAGE_FIXUP`]) and no dumps made: for a test that needs the whole
/// cluster to itself, as `pg_dumpall` does while other tests create and
/// drop databases on the shared fixture server.
pub fn private_fixture(version: Version) -> Server {
    let server = Server::start(version);
    load(&server);
    server
}

/// Loads the fixture into `server`; returns the tablespace directory and
/// what psql printed on stderr while running `db1.sql`.
fn load(server: &Server) -> (PathBuf, String) {
    let version = server.version();
    let tablespace_dir = server.new_dir("ts1");

    let setup = String::from_utf8(fixture_file("setup.sql"))
        .expect("setup.sql is UTF-8")
        .replace("@TABLESPACE_DIR@", &tablespace_dir.to_string_lossy());
    let (code, _, stderr) = server.psql_status(
        "postgres",
        setup.as_bytes(),
        &["-q", "-v", "ON_ERROR_STOP=1"],
    );
    assert_eq!(
        code,
        0,
        "setup.sql failed on PostgreSQL {}:\n{stderr}",
        version.major()
    );

    // Without ON_ERROR_STOP: some statements fail by design on some versions.
    let (code, _, db1_stderr) = server.psql_status("db1", &fixture_file("db1.sql"), &["-q"]);
    assert_eq!(
        code,
        0,
        "psql could not run db1.sql on PostgreSQL {}:\n{db1_stderr}",
        version.major()
    );

    server.psql("db1", LANGUAGE_FIXUP);
    (tablespace_dir, db1_stderr)
}

fn build(version: Version) -> Fixture {
    let server = Server::start(version);
    let (tablespace_dir, db1_stderr) = load(&server);

    let key_args = version.restrict_key_args();
    let with_key = |extra: &[&str]| -> Vec<u8> {
        let mut args: Vec<&str> = key_args.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        server.pg_dump("db1", &args)
    };
    let dumpall_with_key = |extra: &[&str]| -> Vec<u8> {
        let mut args: Vec<&str> = key_args.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        server.pg_dumpall(&args)
    };
    let custom_file = server.root_dir().join("db1.custom-file.dump");
    let custom_file_arg = format!("--file={}", custom_file.display());
    let mut dumps = Vec::new();
    for (name, _) in DUMPS {
        let bytes = match *name {
            "plain" => with_key(&[]),
            "inserts" => with_key(&["--inserts"]),
            "column-inserts" => with_key(&["--column-inserts"]),
            "session-auth" => with_key(&["--use-set-session-authorization"]),
            "clean" => with_key(&["--clean", "--if-exists"]),
            "create" => with_key(&["-C"]),
            "dumpall" => dumpall_with_key(&[]),
            "globals" => dumpall_with_key(&["--globals-only"]),
            "custom" => server.pg_dump("db1", &["-Fc"]),
            "custom-file" => {
                server.pg_dump("db1", &["-Fc", &custom_file_arg]);
                let bytes = std::fs::read(&custom_file)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", custom_file.display()));
                std::fs::remove_file(&custom_file).ok();
                bytes
            }
            "tar" => server.pg_dump("db1", &["-Ft"]),
            other => unreachable!("fixture dump {other} has no recipe"),
        };
        dumps.push((*name, bytes));
    }

    Fixture {
        version,
        server,
        tablespace_dir,
        db1_stderr,
        dumps,
    }
}

/// The path of `tests/fixtures/<rel>`.
pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The bytes of `tests/fixtures/<rel>`.
pub fn fixture_file(rel: &str) -> Vec<u8> {
    let path = fixture_path(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The plain dump pg_dump 17.11 made of db1 on a 15.18 server
/// (`tests/fixtures/pg17/db1.plain.sql`).
pub fn pg17_plain() -> Vec<u8> {
    fixture_file("pg17/db1.plain.sql")
}
