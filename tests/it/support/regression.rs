//! PostgreSQL's own regression database as a test corpus, for the oracle
//! tests (`tests/oracle.rs`).
//!
//! [`regression`] runs Debian's `pg_regress` with PostgreSQL 15's parallel
//! schedule (installed by `scripts/deps test` under `$PGPIPE_REGRESS_DIR`,
//! default `/opt/pgpipe-test/regress15`) against a private 15 server, as the
//! superuser `"Regress Owner"` (a name that needs quoting), and keeps the
//! database `regression` it leaves behind: about 1,500 relations of every
//! kind, owned by that role. pg_dump and pg_dumpall of versions 15 and 18
//! then dump it (see [`REGRESSION_DUMPS`]); the dumps are cached under
//! `$CARGO_TARGET_TMPDIR/oracle/regression-<stamp>/`, so the 40 seconds of
//! `pg_regress` are spent once per machine. The stamp covers the suite's
//! version and directory, both pg_dump versions and [`RECIPE`]; a cache with
//! another stamp is rebuilt.
//!
//! The C functions in the dumps name `<regress dir>/lib/regress.so` by its
//! absolute path, which stays valid: the library directory does not move.
//! regress.so is built for 15 and does not load into 18, so restores into
//! 18 have errors (see `tests/support/oracle.rs`).

use std::fs::{self, File};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::server::{RESTRICT_KEY, Server, Version, bin, run, server_user_command};

/// The role that runs `pg_regress` and owns the regression database's
/// objects: a superuser other than the bootstrap one, whose name needs quoting.
pub const OWNER: &str = "Regress Owner";

/// The version of the recipe below; bump it when the dumps change, so old
/// caches are rebuilt.
pub const RECIPE: &str = "1";

/// The names of [`Corpus::dump`] and how each was made (`pgN` is the client
/// version; every one against the PostgreSQL 15 server that ran pg_regress).
/// Plain dumps use `--restrict-key` [`RESTRICT_KEY`], so their bytes are
/// repeatable (except the SCRAM verifiers' salts in pg_dumpall output).
pub const REGRESSION_DUMPS: &[(&str, &str)] = &[
    ("pg15-plain", "pg_dump 15 regression"),
    ("pg15-custom", "pg_dump 15 -Fc regression"),
    ("pg15-create", "pg_dump 15 -C regression"),
    ("pg15-dumpall", "pg_dumpall 15"),
    ("pg15-globals", "pg_dumpall 15 --globals-only"),
    ("pg18-plain", "pg_dump 18 regression"),
    ("pg18-custom", "pg_dump 18 -Fc regression"),
    ("pg18-create", "pg_dump 18 -C regression"),
    ("pg18-dumpall", "pg_dumpall 18"),
    ("pg18-globals", "pg_dumpall 18 --globals-only"),
];

/// The regression database's dumps, loaded from the cache.
pub struct Corpus {
    /// The role owning the objects ([`OWNER`]).
    pub owner: &'static str,
    /// `<regress dir>/lib/regress.so`, which the dumps' C functions name.
    pub regress_so: PathBuf,
    /// What pg_regress printed when the cache was built.
    pub pg_regress_output: String,
    dumps: Vec<(&'static str, Vec<u8>)>,
}

impl Corpus {
    /// The dump called `name` (one of [`REGRESSION_DUMPS`]).
    pub fn dump(&self, name: &str) -> &[u8] {
        self.dumps
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, bytes)| bytes.as_slice())
            .unwrap_or_else(|| {
                panic!(
                    "no regression dump {name:?}; there are: {:?}",
                    REGRESSION_DUMPS.iter().map(|(n, _)| n).collect::<Vec<_>>()
                )
            })
    }

    /// The dump of `kind` (`plain`, `custom`, `create`, `dumpall`,
    /// `globals`) made by the client of `client`.
    pub fn client_dump(&self, client: Version, kind: &str) -> &[u8] {
        self.dump(&format!("pg{}-{kind}", client.major()))
    }
}

/// The regression corpus, built (or loaded from the cache) on first use.
///
/// Panics, saying how to install it, when the regression suite is missing.
pub fn regression() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(load_or_build)
}

/// The installed regression suite: `$PGPIPE_REGRESS_DIR` or
/// `/opt/pgpipe-test/regress15`. Panics when it is missing or incomplete.
pub fn regress_dir() -> PathBuf {
    let dir = std::env::var_os("PGPIPE_REGRESS_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/pgpipe-test/regress15"));
    for rel in [
        "stamp",
        "src/parallel_schedule",
        "src/sql",
        "src/expected",
        "lib/regress.so",
        "lib/autoinc.so",
        "lib/refint.so",
    ] {
        let path = dir.join(rel);
        if !path.exists() {
            panic!(
                "PostgreSQL 15's regression suite is not installed: {} is missing \
                 (PGPIPE_REGRESS_DIR={}); install it with `scripts/deps test` \
                 (run as root from the repository root)",
                path.display(),
                dir.display()
            );
        }
    }
    dir
}

fn load_or_build() -> Corpus {
    let regress = regress_dir();
    let stamp = stamp_text(&regress);
    let hash: String = Sha256::digest(stamp.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("oracle");
    fs::create_dir_all(&root).unwrap_or_else(|e| panic!("cannot create {}: {e}", root.display()));
    let dir = root.join(format!("regression-{hash}"));

    // One builder at a time across processes; the lock is released when
    // the file is closed.
    let lock_path = root.join("regression.lock");
    let lock = File::create(&lock_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", lock_path.display()));
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        panic!(
            "cannot lock {}: {}",
            lock_path.display(),
            std::io::Error::last_os_error()
        );
    }

    if fs::read_to_string(dir.join("stamp")).ok().as_deref() != Some(stamp.as_str()) {
        let started = Instant::now();
        eprintln!(
            "regression corpus: building {} (pg_regress and dumps, about a minute)",
            dir.display()
        );
        let tmp = root.join(format!("regression-{hash}.tmp-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir(&tmp).unwrap_or_else(|e| panic!("cannot create {}: {e}", tmp.display()));
        build(&regress, &tmp);
        write(&tmp.join("stamp"), stamp.as_bytes());
        let _ = fs::remove_dir_all(&dir);
        fs::rename(&tmp, &dir).unwrap_or_else(|e| {
            panic!("cannot rename {} to {}: {e}", tmp.display(), dir.display())
        });
        eprintln!(
            "regression corpus: built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        // Caches of other stamps, and what interrupted builders left.
        for entry in fs::read_dir(&root).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("regression-") && path != dir && path.is_dir() {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }

    let dumps = REGRESSION_DUMPS
        .iter()
        .map(|(name, _)| (*name, read(&dir.join(format!("{name}.dump")))))
        .collect();
    drop(lock);
    Corpus {
        pg_regress_output: String::from_utf8_lossy(&read(&dir.join("pg_regress.out"))).into_owned(),
        regress_so: regress.join("lib/regress.so"),
        owner: OWNER,
        dumps,
    }
}

/// Everything the cached dumps depend on.
fn stamp_text(regress: &Path) -> String {
    let suite = String::from_utf8_lossy(&read(&regress.join("stamp")))
        .trim()
        .to_owned();
    let version = |v: Version| {
        let out = run(Command::new(bin(v, "pg_dump")).arg("--version"), None);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    format!(
        "recipe {RECIPE}\nregression suite {suite} in {}\n{}\n{}\n",
        regress.display(),
        version(Version::V15),
        version(Version::V18)
    )
}

/// Run pg_regress on a private 15 server and write every dump into `out`.
fn build(regress: &Path, out: &Path) {
    let server = Server::start(Version::V15);
    server.psql(
        "postgres",
        &format!(
            "CREATE ROLE {} SUPERUSER LOGIN",
            super::server::quote_ident(OWNER)
        ),
    );
    let results = server.new_dir("regress-out");
    let started = Instant::now();
    let mut cmd = server_user_command(&pg_regress(), &results);
    cmd.arg(format!("--host={}", server.socket_dir().display()))
        .arg(format!("--port={}", super::server::PORT))
        .arg(format!("--user={OWNER}"))
        .arg(format!("--inputdir={}", regress.join("src").display()))
        .arg(format!("--outputdir={}", results.display()))
        .arg(format!("--dlpath={}", regress.join("lib").display()))
        .arg(format!("--bindir={}", Version::V15.bin_dir().display()))
        .arg(format!(
            "--schedule={}",
            regress.join("src/parallel_schedule").display()
        ))
        .arg("--max-connections=20");
    // pg_regress fails a test or two here (their expected output assumes
    // its own user name and build); the database it leaves is what counts.
    let output = run(&mut cmd, None);
    let mut log = String::from_utf8_lossy(&output.stdout).into_owned();
    log.push_str(&String::from_utf8_lossy(&output.stderr));
    log.push_str(&format!(
        "\n(pg_regress exited with {} after {:.1} s)\n",
        output.status,
        started.elapsed().as_secs_f64()
    ));
    write(&out.join("pg_regress.out"), log.as_bytes());

    let exists = server.psql(
        "postgres",
        "SELECT count(*) FROM pg_database WHERE datname = 'regression'",
    );
    if exists != "1" {
        panic!("pg_regress left no database `regression`:\n{log}");
    }
    let relations: u64 = server
        .psql(
            "regression",
            "SELECT count(*) FROM pg_class WHERE oid >= 16384",
        )
        .parse()
        .unwrap();
    if relations <= 900 {
        panic!("pg_regress left only {relations} relations in `regression`:\n{log}");
    }

    let key = format!("--restrict-key={RESTRICT_KEY}");
    for (name, _) in REGRESSION_DUMPS {
        let (client, kind) = name.split_once('-').unwrap();
        let client = match client {
            "pg15" => Version::V15,
            "pg18" => Version::V18,
            other => unreachable!("client {other}"),
        };
        let (program, args): (&str, Vec<&str>) = match kind {
            "plain" => ("pg_dump", vec![&key, "regression"]),
            "custom" => ("pg_dump", vec!["-Fc", "regression"]),
            "create" => ("pg_dump", vec![&key, "-C", "regression"]),
            "dumpall" => ("pg_dumpall", vec![&key]),
            "globals" => ("pg_dumpall", vec![&key, "--globals-only"]),
            other => unreachable!("regression dump {other} has no recipe"),
        };
        let mut cmd = server.client_command(client, program);
        cmd.args(&args);
        let dumped = run(&mut cmd, None);
        if !dumped.status.success() {
            panic!(
                "{program} {} {args:?} of the regression database failed ({}):\n{}",
                client.major(),
                dumped.status,
                String::from_utf8_lossy(&dumped.stderr)
            );
        }
        write(&out.join(format!("{name}.dump")), &dumped.stdout);
    }
}

/// Debian's pg_regress for 15 (in `postgresql-client-15`).
fn pg_regress() -> PathBuf {
    let path = Version::V15
        .bin_dir()
        .parent()
        .expect("the bin directory has a parent")
        .join("lib/pgxs/src/test/regress/pg_regress");
    if !path.is_file() {
        panic!(
            "pg_regress is missing ({}); install it with `scripts/deps test` \
             (run as root from the repository root)",
            path.display()
        );
    }
    path
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) {
    fs::write(path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()))
}
