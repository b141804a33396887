//! Helpers several test modules share: roles and a tablespace on a
//! server, the user tables of a database, and the first line where two
//! outputs differ.

use super::Server;

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
