//! The README cookbook runs: every recipe is a file in doc/recipes/, README.md
//! contains each file's text exactly, pgpipe(7) shows each recipe's commands,
//! and each recipe runs with bash, unchanged, against real PostgreSQL 15 and
//! 18 servers, with the built binaries first in PATH. The catalogs and table
//! contents afterwards are compared with the source.

use crate::support;

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
/// PATH for a recipe: our binaries, then `client`'s PostgreSQL programs,
/// then the system.
fn search_path(client: Version) -> String {
    format!(
        "{}:{}:/usr/local/bin:/usr/bin:/bin",
        support::release_dir().display(),
        client.bin_dir().display()
    )
}

/// Run a recipe file with bash in `dir`: libpq clients pointed at `server`,
/// PATH = [`search_path`]; `env` is applied last (it may replace PATH).
fn run_recipe(
    name: &str,
    dir: &Path,
    server: &Server,
    client: Version,
    env: &[(&str, &str)],
) -> Output {
    let out = try_recipe(name, dir, server, client, env);
    assert_eq!(
        exit_code(&out),
        0,
        "{name} failed:\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// [`run_recipe`] without the check: the output, whatever the exit code.
fn try_recipe(
    name: &str,
    dir: &Path,
    server: &Server,
    client: Version,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(recipe_path(name)).current_dir(dir);
    server.with_env(&mut cmd);
    cmd.env("PATH", search_path(client));
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd, None)
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

/// Recipe 1, from a PostgreSQL 15 managed host to a self-hosted 15 and 18:
/// the host's export is its pg_dump 15 directory archive in a zip file.
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
        // The managed host's export, as downloaded: its directory archive
        // zipped with a top folder.
        let folder = "UNIQUEID-live-example.org-synapse-database.dir";
        let mut dump = old.command("pg_dump");
        dump.args(["-Fd", "-j", "2", "-f"])
            .arg(dir.path().join(folder));
        assert!(run(dump.args(["-d", "demo_src"]), None).status.success());
        let mut zip = Command::new("zip");
        zip.args(["-q", "-r", "-m", "example.org-synapse-database.zip", folder]);
        assert!(run(zip.current_dir(dir.path()), None).status.success());
        let before = std::fs::read(dir.path().join("example.org-synapse-database.zip")).unwrap();
        let out = run_recipe("01-managed-export.sh", dir.path(), &new, new_version, &[]);
        // pgpipe-inspect's report was shown; nothing was extracted, and the
        // zip file is as it was.
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("rdsadmin"), "{stdout}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["example.org-synapse-database.zip"]);
        assert!(
            std::fs::read(dir.path().join("example.org-synapse-database.zip")).unwrap() == before
        );

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

/// demo/synapse.sql as a self-hosted server has it: database synapse owned
/// by the role synapse (the opaque role renamed), no grants to rdsadmin.
fn self_hosted(version: Version) -> Server {
    let server = managed_host(version);
    server.psql(
        "postgres",
        "ALTER DATABASE demo_src RENAME TO synapse; ALTER ROLE \"3f9a2c71\" RENAME TO synapse",
    );
    server.psql("synapse", "DROP OWNED BY rdsadmin; DROP ROLE rdsadmin");
    server
}

/// `name type` of every column of schema public's tables, and the
/// relations there.
fn shape(server: &Server, db: &str) -> Vec<String> {
    let mut v = server.lines(
        db,
        "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
         || ' ' || coalesce(column_default, '') \
         FROM information_schema.columns WHERE table_schema = 'public'",
    );
    v.extend(server.lines(
        db,
        "SELECT relkind::text || ' ' || relname FROM pg_class \
         WHERE relnamespace = 'public'::regnamespace",
    ));
    v
}

/// Write an executable script `name` into `dir`.
fn write_script(dir: &Path, name: &str, text: &str) {
    use std::os::unix::fs::PermissionsExt;
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

/// Recipe 2 on PostgreSQL 15 and 18: the appliance's installer schema (the
/// same tables in an older shape, with stale rows) is replaced by the
/// self-hosted database; the appliance's own table survives. `ssh` and
/// `kubectl` are shims: ssh runs the remote command here with bash -c, and
/// `kubectl exec -i appliance-0 --` runs its command in the pod's directory
/// (which holds restore.key) with the appliance server's libpq variables.
#[test]
fn recipe_02_kubernetes_appliance() {
    for version in Version::ALL {
        let source = self_hosted(version);
        // Hashes that compress poorly: the stream is several age chunks
        // long, so a cut stream delivers its beginning (the DROPs) to psql.
        source.psql(
            "synapse",
            "SET ROLE synapse; CREATE TABLE media_cache AS SELECT g AS id, \
             md5(g::text) || md5((-g)::text) AS hash FROM generate_series(1, 12000) g",
        );
        let appliance = Server::start(version);
        appliance.psql(
            "postgres",
            "CREATE ROLE synapse; CREATE DATABASE synapse OWNER synapse",
        );
        appliance.psql(
            "synapse",
            "SET ROLE synapse;
             CREATE TABLE rooms (room_id text PRIMARY KEY, creator text);
             CREATE TABLE events (stream_ordering serial PRIMARY KEY,
                                  room_id text REFERENCES rooms, body text);
             CREATE INDEX events_room ON events (room_id);
             CREATE TABLE schema_version (version integer NOT NULL, upgraded boolean NOT NULL);
             INSERT INTO rooms VALUES ('!stale:appliance', '@installer:appliance');
             INSERT INTO events (room_id, body) VALUES ('!stale:appliance', 'installer row');
             INSERT INTO schema_version VALUES (1, false);
             CREATE TABLE appliance_settings (name text PRIMARY KEY, value text);
             INSERT INTO appliance_settings VALUES ('installed', 'yes');",
        );
        let dir = tempfile::tempdir().unwrap();
        let (shims, pod) = (dir.path().join("shims"), dir.path().join("pod"));
        std::fs::create_dir(&shims).unwrap();
        std::fs::create_dir(&pod).unwrap();
        write_script(
            &shims,
            "ssh",
            "#!/bin/bash\n\
             # ssh HOST COMMAND: run COMMAND here, as sshd would with the user's shell,\n\
             # keeping a copy of the stream in ssh.bytes; with SSH_CUT=N the connection\n\
             # drops after N bytes.\n\
             [ \"$1\" = k8s.example.com ] || { echo \"ssh shim: host $1\" >&2; exit 255; }\n\
             shift\n\
             if [ -n \"${SSH_CUT:-}\" ]; then head -c \"$SSH_CUT\" | bash -c \"$*\"; exit; fi\n\
             tee ssh.bytes | bash -c \"$*\"\n",
        );
        write_script(
            &shims,
            "kubectl",
            &format!(
                "#!/bin/bash\n\
                 # kubectl cp FILE appliance-0:NAME: copy FILE into the pod's directory.\n\
                 if [ \"$1\" = cp ] && [ \"${{3%%:*}}\" = appliance-0 ]; then\n\
                   exec cp -p \"$2\" '{}'/\"${{3#appliance-0:}}\"\n\
                 fi\n\
                 # kubectl exec -i appliance-0 -- COMMAND...: run COMMAND in the pod.\n\
                 [ \"$1 $2 $3 $4\" = 'exec -i appliance-0 --' ] \
                 || {{ echo \"kubectl shim: $*\" >&2; exit 1; }}\n\
                 shift 4\n\
                 cd '{}'\n\
                 {}\
                 exec \"$@\"\n",
                pod.display(),
                pod.display(),
                exports(&appliance)
            ),
        );
        write_script(
            &shims,
            "scp",
            "#!/bin/bash\n\
             # scp FILE k8s.example.com:NAME: the ssh shim's remote directory is here.\n\
             [ \"${2%%:*}\" = k8s.example.com ] || { echo \"scp shim: $*\" >&2; exit 1; }\n\
             exec cp -p \"$1\" \"${2#k8s.example.com:}\"\n",
        );
        // The key pair: the identity in the pod, the recipient beside the recipe.
        let keygen = run(
            Command::new(support::release_dir().join("pgpipe-age"))
                .args(["--keygen", "-o"])
                .arg(pod.join("restore.key")),
            None,
        );
        assert_eq!(exit_code(&keygen), 0, "{keygen:?}");
        std::fs::write(dir.path().join("restore.pub"), &keygen.stdout).unwrap();

        let path = format!("{}:{}", shims.display(), search_path(version));
        run_recipe(
            "02-kubernetes-appliance.sh",
            dir.path(),
            &source,
            version,
            &[("PATH", &path)],
        );

        // The pod ran the binary copied into it, and the copy was cleaned up
        // on the way.
        let copied = pod.join("pgpipe");
        assert!(
            std::fs::read(&copied).unwrap() == std::fs::read(support::pgpipe::PGPIPE).unwrap(),
            "the pod's pgpipe is not the built binary"
        );
        assert!(
            !dir.path().join("pgpipe").exists(),
            "the copy on the way stayed"
        );

        let shape_with_settings = shape(&appliance, "synapse");
        let ours: Vec<String> = shape(&appliance, "synapse")
            .into_iter()
            .filter(|l| !l.contains("appliance_settings"))
            .collect();
        assert_eq!(ours, shape(&source, "synapse"), "PostgreSQL {version:?}");
        assert_eq!(
            owners(&appliance, "synapse")
                .into_iter()
                .filter(|o| !o.contains("appliance_settings"))
                .collect::<Vec<_>>(),
            owners(&source, "synapse")
        );
        assert_same_rows(&source, "synapse", &appliance, "synapse");
        assert_eq!(
            appliance.table_digest("synapse", "media_cache"),
            source.table_digest("synapse", "media_cache")
        );
        assert_eq!(
            appliance.psql(
                "synapse",
                "SELECT name || '=' || value FROM appliance_settings"
            ),
            "installed=yes"
        );

        // A connection that drops before the end commits nothing: the
        // appliance keeps what it had (here one more row), although the
        // stream begins with --clean's DROP statements.
        let carried = std::fs::metadata(dir.path().join("ssh.bytes"))
            .unwrap()
            .len();
        // pgpipe-age releases a 64 KiB chunk once the next one checks out.
        assert!(carried > 4 * 65_536, "{carried}: more than four age chunks");
        appliance.psql("synapse", "INSERT INTO schema_version VALUES (74, false)");
        let digests = || -> Vec<String> {
            TABLES
                .iter()
                .chain(&["public.media_cache"])
                .map(|t| appliance.table_digest("synapse", t))
                .collect()
        };
        let before = digests();
        let cut = (carried * 3 / 4).to_string();
        let out = try_recipe(
            "02-kubernetes-appliance.sh",
            dir.path(),
            &source,
            version,
            &[("PATH", &path), ("SSH_CUT", &cut)],
        );
        assert_ne!(exit_code(&out), 0, "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("pgpipe-guard: error") && !stderr.contains("input is empty"),
            "psql saw the start of the dump: {stderr}"
        );
        assert_eq!(digests(), before);
        assert_eq!(shape(&appliance, "synapse"), shape_with_settings);
    }
}

/// `name owner` of every database but the templates.
fn databases(server: &Server) -> Vec<String> {
    server.lines(
        "postgres",
        "SELECT datname || ' ' || pg_get_userbyid(datdba) FROM pg_database \
         WHERE NOT datistemplate",
    )
}

/// `name login superuser password-hash` of every role but the built-in ones.
fn roles(server: &Server) -> Vec<String> {
    server.lines(
        "postgres",
        "SELECT rolname || ' ' || rolcanlogin || ' ' || rolsuper || ' ' \
         || coalesce(rolpassword, '-') FROM pg_authid WHERE rolname !~ '^pg_'",
    )
}

/// Recipe 3: a PostgreSQL 15 cluster (demo/synapse.sql, and a second
/// database owned by a login role with a password) upgraded into a new 18
/// server where postgres and rdsadmin already exist, with pg_dumpall 18.
#[test]
fn recipe_03_major_upgrade() {
    let old = managed_host(Version::V15);
    old.psql(
        "postgres",
        "CREATE ROLE media LOGIN PASSWORD 'media secret'; CREATE DATABASE media OWNER media",
    );
    old.psql(
        "media",
        "SET ROLE media; CREATE TABLE uploads (id int PRIMARY KEY, name text);
         INSERT INTO uploads SELECT g, 'file ' || g FROM generate_series(1, 100) g",
    );
    let new = Server::start(Version::V18);
    new.psql("postgres", "CREATE ROLE rdsadmin NOLOGIN");
    let dir = tempfile::tempdir().unwrap();
    run_recipe(
        "03-major-upgrade.sh",
        dir.path(),
        &new,
        Version::V18,
        &[("OLD", &old.conninfo("postgres"))],
    );

    assert_eq!(databases(&new), databases(&old));
    assert_eq!(roles(&new), roles(&old));
    assert_eq!(owners(&new, "demo_src"), owners(&old, "demo_src"));
    // PostgreSQL 17 added the MAINTAIN privilege (m), which owners hold.
    assert_eq!(
        acl_text(&new, "demo_src").replace("=arwdDxtm/", "=arwdDxt/"),
        acl_text(&old, "demo_src")
    );
    assert_same_rows(&old, "demo_src", &new, "demo_src");
    let uploads = old.table_digest("media", "public.uploads");
    assert!(uploads.starts_with("100 "), "{uploads}");
    assert_eq!(new.table_digest("media", "public.uploads"), uploads);
}

/// Recipe 5 on PostgreSQL 15 and 18: out of a pg_dumpall file of a cluster
/// with two databases, only synapse arrives on a server that has its roles;
/// no role is created and the other database is not.
#[test]
fn recipe_05_extract_database() {
    for version in Version::ALL {
        let old = managed_host(version);
        old.psql(
            "postgres",
            "ALTER DATABASE demo_src RENAME TO synapse; CREATE ROLE media; \
             CREATE DATABASE media OWNER media",
        );
        old.psql(
            "media",
            "CREATE TABLE uploads (id int); INSERT INTO uploads VALUES (1)",
        );
        let new = Server::start(version);
        new.psql("postgres", "CREATE ROLE \"3f9a2c71\"; CREATE ROLE rdsadmin");
        let roles_before = roles(&new);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cluster.sql"), old.pg_dumpall(&[])).unwrap();
        run_recipe("05-extract-database.sh", dir.path(), &new, version, &[]);

        assert_eq!(
            databases(&new),
            ["postgres postgres", "synapse 3f9a2c71"],
            "PostgreSQL {version:?}"
        );
        assert_eq!(roles(&new), roles_before);
        assert_eq!(owners(&new, "synapse"), owners(&old, "synapse"));
        assert_eq!(acl_text(&new, "synapse"), acl_text(&old, "synapse"));
        assert_same_rows(&old, "synapse", &new, "synapse");
    }
}

/// The literal block scalars (`KEY: |`) of `key` in a YAML text, in order:
/// the lines indented deeper than the key, that indentation removed.
fn yaml_blocks(yaml: &str, key: &str) -> Vec<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = yaml.lines().collect();
    let mut blocks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != format!("{key}: |") {
            continue;
        }
        let body: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || indent(l) > indent(line))
            .copied()
            .collect();
        let strip = body.first().map_or(0, |l| indent(l));
        blocks.push(
            body.iter()
                .map(|l| format!("{}\n", l.get(strip..).unwrap_or("")))
                .collect::<String>()
                .trim_end()
                .to_owned()
                + "\n",
        );
    }
    blocks
}

/// The items of the `that:` list of the playbook's assert task.
fn yaml_that(yaml: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        if line.trim() == "that:" {
            inside = true;
        } else if inside {
            match line.trim().strip_prefix("- ") {
                Some(item) => items.push(item.to_owned()),
                None => break,
            }
        }
    }
    items
}

/// The Ansible restore tasks, without Ansible: README.md shows
/// doc/ansible/restore.yml verbatim; its three `shell` bodies run with bash in
/// a directory holding synapse.sql.zst (as `chdir` would), against a real
/// server, and the assert task's conditions are checked on the registered
/// JSON by the same rules, written out here. A dump that references a role
/// other than synapse fails the checks and the restore, and restores nothing.
#[test]
fn ansible_restore_tasks() {
    let yaml = std::fs::read_to_string(format!("{ROOT}/doc/ansible/restore.yml")).unwrap();
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    assert!(
        readme.contains(&format!("```yaml\n{yaml}```\n")),
        "README.md does not contain doc/ansible/restore.yml verbatim"
    );
    let shells = yaml_blocks(&yaml, "ansible.builtin.shell");
    assert_eq!(shells.len(), 3, "{shells:?}");
    for body in &shells {
        assert!(body.starts_with("set -o pipefail\n"), "{body}");
    }
    assert!(yaml.contains("executable: /bin/bash"));
    // The assert task's conditions, as checked below; change both together.
    assert_eq!(
        yaml_that(&yaml),
        [
            "(dump.stdout | from_json).complete",
            "(dump.stdout | from_json).roles_required | difference(['synapse']) | length == 0",
            "(dump.stdout | from_json).tables | length > 0",
            "(target.stdout | from_json).ready",
        ]
    );
    let checks_pass = |json: &serde_json::Value| {
        json["complete"] == serde_json::Value::Bool(true)
            && json["roles_required"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r == "synapse")
            && !json["tables"].as_array().unwrap().is_empty()
    };

    let version = Version::V18;
    let source = self_hosted(version);
    let target = Server::start(version);
    target.psql("postgres", "CREATE ROLE synapse");
    let dir = tempfile::tempdir().unwrap();
    let task = |body: &str| {
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(body).current_dir(dir.path());
        target.with_env(&mut cmd);
        cmd.env("PATH", search_path(version));
        run(&mut cmd, None)
    };
    let write_dump = || {
        let dump = source.pg_dump("synapse", &[]);
        let zst = run(Command::new("zstd").arg("-q").arg("-c"), Some(&dump));
        assert_eq!(exit_code(&zst), 0, "{zst:?}");
        std::fs::write(dir.path().join("synapse.sql.zst"), &zst.stdout).unwrap();
        target.psql(
            "postgres",
            "DROP DATABASE IF EXISTS synapse; CREATE DATABASE synapse OWNER synapse",
        );
    };

    write_dump();
    let inspect = task(&shells[0]);
    assert_eq!(exit_code(&inspect), 0, "{inspect:?}");
    let json: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert!(checks_pass(&json), "{json}");
    let checked = task(&shells[1]);
    assert_eq!(exit_code(&checked), 0, "{checked:?}");
    let json: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(json["ready"], true, "{json}");
    let restore = task(&shells[2]);
    assert_eq!(exit_code(&restore), 0, "{restore:?}");
    assert_same_rows(&source, "synapse", &target, "synapse");

    // A role the playbook does not expect: the checks fail, and so does the
    // restore on its own, committing nothing.
    source.psql(
        "synapse",
        "CREATE ROLE intruder; GRANT SELECT ON rooms TO intruder",
    );
    write_dump();
    let inspect = task(&shells[0]);
    assert_eq!(exit_code(&inspect), 0, "{inspect:?}");
    let json: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert!(!checks_pass(&json), "{json}");
    // The target has no role intruder: not ready, exit 4 (which the task
    // lets through to the assert).
    let checked = task(&shells[1]);
    assert_eq!(exit_code(&checked), 4, "{checked:?}");
    let json: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(json["ready"], false, "{json}");
    assert_eq!(json["problems"][0]["kind"], "missing_role", "{json}");
    let restore = task(&shells[2]);
    assert_ne!(exit_code(&restore), 0, "{restore:?}");
    let stderr = String::from_utf8_lossy(&restore.stderr);
    assert!(stderr.contains("intruder"), "{stderr}");
    assert_eq!(owners(&target, "synapse"), Vec::<String>::new());
}
