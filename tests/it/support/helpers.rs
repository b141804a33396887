//! Helpers several test modules share: roles and a tablespace on a
//! server, the user tables of a database, the first line where two
//! outputs differ, and directory archives re-encoded with lz4 or zstd.

use std::path::Path;
use std::process::Command;

use super::{Server, run};

pub fn create_roles(server: &Server, names: &[&str]) {
    let mut sql = String::new();
    for n in names {
        sql.push_str(&format!("CREATE ROLE {} LOGIN;\n", super::quote_ident(n)));
    }
    server.psql("postgres", &sql);
}

pub fn create_tablespace(server: &Server) {
    let dir = server.new_dir("ts1");
    server.psql(
        "postgres",
        &format!("CREATE TABLESPACE ts1 LOCATION '{}'", dir.display()),
    );
}

pub fn user_tables(server: &Server, db: &str) -> Vec<String> {
    server.lines(
        db,
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname !~ '^pg_toast'",
    )
}

pub fn first_difference(a: &[u8], b: &[u8]) -> String {
    let la: Vec<_> = a.split(|&c| c == b'\n').collect();
    let lb: Vec<_> = b.split(|&c| c == b'\n').collect();
    for i in 0..la.len().max(lb.len()) {
        let x = la.get(i).copied().unwrap_or_default();
        let y = lb.get(i).copied().unwrap_or_default();
        if x != y {
            return format!(
                "line {}:\n  left:  {}\n  right: {}",
                i + 1,
                String::from_utf8_lossy(x),
                String::from_utf8_lossy(y)
            );
        }
    }
    "no difference".into()
}

/// `make -C <repository> TARGET ARGS…`, run to success (the test fails with
/// make's output otherwise), without the MAKEFLAGS of a `make test` that may
/// be running this test.
pub fn make(target: &str, args: &[String]) -> std::process::Output {
    let out = std::process::Command::new("make")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .arg(target)
        .args(args)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .output()
        .expect("make runs");
    assert!(
        out.status.success(),
        "make {target} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Compress `data` with the real `lz4` or `zstd` program.
pub fn compress_with(tool: &str, data: &[u8]) -> Vec<u8> {
    let mut cmd = Command::new(tool);
    cmd.args(["-q", "-c"]);
    let out = run(&mut cmd, Some(data));
    assert!(out.status.success(), "{tool} failed");
    out.stdout
}

/// A directory archive with every data file re-encoded with `tool` (file
/// suffix `suffix`) and `algorithm` in the header of toc.dat.
pub fn recompress_directory(src: &Path, dst: &Path, tool: &str, suffix: &str, algorithm: u8) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        if name == "toc.dat" {
            let mut toc = bytes;
            toc[11] = algorithm;
            std::fs::write(dst.join(name), toc).unwrap();
        } else if name.ends_with(".dat") {
            std::fs::write(
                dst.join(format!("{name}{suffix}")),
                compress_with(tool, &bytes),
            )
            .unwrap();
        } else {
            std::fs::write(dst.join(name), bytes).unwrap();
        }
    }
}

/// Run `f`, with a panic turned into an `Err` holding its message: a check
/// of a table of checks fails alone, and the others still run.
pub fn catching<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}
