//! Exports read where they lie: a pg_dump directory archive inside a zip
//! file (made by Debian's `zip`: stored, deflated, with and without a top
//! folder, with Zip64 records) or a tar file (GNU tar) is read in place and
//! gives exactly the bytes that `pg_restore -f -` prints for the extracted
//! directory. Cut containers exit 3; a flipped byte exits 3 or changes
//! nothing; a container holding no archive or two is refused with what it
//! holds; a container on standard input is refused with the reason.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{LazyLock, OnceLock};

use support::{Version, bin, exit_code, fixture, fixture_file, recompress_directory, run};

const KEY: &str = "ContainerKey0123";

/// The folder name of the managed host's export.
const EXPORT: &str = "UNIQUEID-live-example.org-synapse-database.dir";

static SQL: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-sql"));

/// One directory archive, and what pg_restore prints for it.
struct Export {
    /// `db1-gzip`, `synapse-none`, …
    label: String,
    /// The archive directory, named [`EXPORT`], alone in its parent.
    dir: PathBuf,
    /// `pg_restore -f - --restrict-key KEY` of the directory.
    want: Vec<u8>,
}

impl Export {
    fn parent(&self) -> &Path {
        self.dir.parent().unwrap()
    }
}

/// The fixture database and the Synapse-shaped one, dumped with `pg_dump
/// -Fd` by `version` uncompressed and gzip (what pg_dump offers here), and
/// on 18 with lz4 and zstd members made from the uncompressed export.
fn exports(version: Version) -> &'static [Export] {
    static EXPORTS: [OnceLock<Vec<Export>>; 2] = [OnceLock::new(), OnceLock::new()];
    EXPORTS[usize::from(version == Version::V18)].get_or_init(|| {
        let fx = fixture(version);
        let server = &fx.server;
        let synapse = server.create_db("container_synapse");
        let (code, _, err) = server.psql_status(
            &synapse,
            &fixture_file("synapse_shape.sql"),
            &["-q", "-v", "ON_ERROR_STOP=1"],
        );
        assert_eq!(code, 0, "{err}");
        let levels: &[(&str, &str)] = match version {
            Version::V13 | Version::V15 => &[("none", "0"), ("gzip", "6")],
            Version::V16 | Version::V18 => &[("none", "none"), ("gzip", "gzip")],
        };
        let mut made = Vec::new();
        for (db, label) in [("db1", "db1"), (synapse.as_str(), "synapse")] {
            for (name, z) in levels {
                let dir = server.new_dir(&format!("{label}-{name}")).join(EXPORT);
                let mut cmd = server.command("pg_dump");
                cmd.args(["-Fd", "-Z", z, "-f"]).arg(&dir).args(["-d", db]);
                let out = run(&mut cmd, None);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                made.push((format!("{label}-{name}"), dir));
            }
            if version == Version::V18 {
                let none = made[made.len() - 2].1.clone();
                for (tool, suffix, algorithm) in [("lz4", ".lz4", 2u8), ("zstd", ".zst", 3u8)] {
                    let dir = server.new_dir(&format!("{label}-{tool}")).join(EXPORT);
                    recompress_directory(&none, &dir, tool, suffix, algorithm);
                    made.push((format!("{label}-{tool}"), dir));
                }
            }
        }
        // pg_restore 18 here was built without lz4 and zstd: those exports
        // are held to pg_restore's output for the uncompressed one they were
        // made from, as the parity tests hold pgpipe-sql's.
        let mut wants: Vec<(String, Vec<u8>)> = Vec::new();
        made.into_iter()
            .map(|(label, dir)| {
                let want = if label.ends_with("lz4") || label.ends_with("zstd") {
                    let none = label.rsplit_once('-').unwrap().0.to_string() + "-none";
                    wants.iter().find(|(l, _)| *l == none).unwrap().1.clone()
                } else {
                    let mut cmd = Command::new(bin(version, "pg_restore"));
                    cmd.args(["-f", "-", "--restrict-key", KEY]).arg(&dir);
                    let out = run(&mut cmd, None);
                    assert!(
                        out.status.success(),
                        "pg_restore {label}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                    out.stdout
                };
                wants.push((label.clone(), want.clone()));
                Export { label, dir, want }
            })
            .collect()
    })
}

/// The export of `version` called `label`.
fn export(version: Version, label: &str) -> &'static Export {
    exports(version)
        .iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no export {label}"))
}

/// `pgpipe-sql --restrict-key KEY PATH`: exit code, stdout, stderr.
fn pgpipe_sql(path: &Path) -> (i32, Vec<u8>, String) {
    let out = run(
        Command::new(*SQL).args(["--restrict-key", KEY]).arg(path),
        None,
    );
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// How a container is made from an export.
#[derive(Clone, Copy)]
struct Shape {
    name: &'static str,
    /// `zip` or `tar`.
    tool: &'static str,
    args: &'static [&'static str],
    /// The export's folder is in the container (else its files are at the top).
    folder: bool,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "zip deflated",
        tool: "zip",
        args: &[],
        folder: true,
    },
    Shape {
        name: "zip stored",
        tool: "zip",
        args: &["-0"],
        folder: true,
    },
    Shape {
        name: "zip deflated, no folder",
        tool: "zip",
        args: &[],
        folder: false,
    },
    Shape {
        name: "zip stored, no folder",
        tool: "zip",
        args: &["-0"],
        folder: false,
    },
    Shape {
        name: "zip deflated, Zip64 records",
        tool: "zip",
        args: &["-fz"],
        folder: true,
    },
    Shape {
        name: "zip stored, Zip64 records",
        tool: "zip",
        args: &["-0", "-fz"],
        folder: false,
    },
    Shape {
        name: "tar",
        tool: "tar",
        args: &[],
        folder: true,
    },
    Shape {
        name: "tar, no folder",
        tool: "tar",
        args: &[],
        folder: false,
    },
    Shape {
        name: "tar, pax headers",
        tool: "tar",
        args: &["--format=posix"],
        folder: true,
    },
];

fn shape(name: &str) -> Shape {
    *SHAPES.iter().find(|s| s.name == name).unwrap()
}

/// Pack `export` into `out` with the real `zip` or `tar`.
fn pack(export: &Export, shape: Shape, out: &Path) {
    assert!(
        !out.exists(),
        "{} exists: zip would add to it",
        out.display()
    );
    let (cwd, what) = if shape.folder {
        (export.parent(), EXPORT)
    } else {
        (export.dir.as_path(), ".")
    };
    let mut cmd = Command::new(shape.tool);
    match shape.tool {
        "zip" => cmd.args(["-q", "-r"]).args(shape.args).arg(out).arg(what),
        _ => cmd.arg("-cf").arg(out).args(shape.args).arg(what),
    };
    let done = run(cmd.current_dir(cwd), None);
    assert!(
        done.status.success(),
        "{} {}: {}",
        shape.tool,
        shape.name,
        String::from_utf8_lossy(&done.stderr)
    );
}

/// A scratch directory for containers, on the fixture server of `version`.
fn scratch(version: Version, name: &str) -> PathBuf {
    fixture(version).server.new_dir(name)
}

#[test]
fn every_container_reads_as_the_extracted_directory() {
    let mut failed = Vec::new();
    for version in Version::ALL {
        let work = scratch(version, "containers");
        for export in exports(version) {
            let (code, sql, err) = pgpipe_sql(&export.dir);
            assert!(
                code == 0 && sql == export.want,
                "{} directory: {err}",
                export.label
            );
            for (i, shape) in SHAPES.iter().enumerate() {
                let out = work.join(format!("{}-{i}.{}", export.label, shape.tool));
                pack(export, *shape, &out);
                let (code, sql, err) = pgpipe_sql(&out);
                if code != 0 || sql != export.want {
                    failed.push(format!(
                        "{} {} {}: exit {code}, {}",
                        version.major(),
                        export.label,
                        shape.name,
                        if code == 0 {
                            "output differs".to_string()
                        } else {
                            err
                        }
                    ));
                }
                std::fs::remove_file(&out).unwrap();
            }
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// inspect, roles, filter and guard take the container as FILE as they
/// take the directory, and the guarded restore of it is the database.
#[test]
fn every_tool_reads_a_container_as_file() {
    let version = Version::V18;
    let fx = fixture(version);
    let export = export(version, "synapse-gzip");
    let zip = scratch(version, "tools").join("example.org-synapse-database.zip");
    pack(export, shape("zip deflated"), &zip);
    for tool in [
        "pgpipe-inspect",
        "pgpipe-roles",
        "pgpipe-filter",
        "pgpipe-guard",
    ] {
        let args: &[&str] = if tool == "pgpipe-inspect" {
            &["--json"]
        } else {
            &[]
        };
        let from_dir = run(
            Command::new(support::tool(tool))
                .args(args)
                .arg(&export.dir),
            None,
        );
        let from_zip = run(Command::new(support::tool(tool)).args(args).arg(&zip), None);
        assert_eq!(
            exit_code(&from_zip),
            0,
            "{tool}: {}",
            String::from_utf8_lossy(&from_zip.stderr)
        );
        if tool == "pgpipe-inspect" {
            // The same report but for the random \restrict key of each conversion.
            let report = |bytes: &[u8]| {
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                assert_eq!(v["restrict_keys"].as_array().unwrap().len(), 1);
                v["restrict_keys"] = serde_json::Value::Null;
                v
            };
            let zip_report = report(&from_zip.stdout);
            assert_eq!(zip_report, report(&from_dir.stdout), "{tool}");
            assert_eq!(zip_report["complete"], serde_json::Value::Bool(true));
        } else {
            // The random \restrict key differs between runs: compare the rest.
            assert_eq!(
                without_key(&from_zip.stdout),
                without_key(&from_dir.stdout),
                "{tool}"
            );
        }
    }
    // pgpipe-guard FILE | psql restores the database the export was made of.
    let db = fx.server.create_db("from_zip");
    let mut guard = Command::new(support::tool("pgpipe-guard"));
    let sql = run(guard.arg(&zip), None);
    assert!(sql.status.success());
    let (code, _, err) = fx
        .server
        .psql_status(&db, &sql.stdout, &["-q", "-v", "ON_ERROR_STOP=1"]);
    assert_eq!(code, 0, "{err}");
    let source = fx.server.lines(
        "postgres",
        "SELECT datname FROM pg_database WHERE datname LIKE 'container_synapse%'",
    );
    for table in ["public.events", "public.rooms", "public.event_json"] {
        assert_eq!(
            fx.server.table_digest(&db, table),
            fx.server.table_digest(&source[0], table),
            "{table}"
        );
    }
}

fn without_key(sql: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(sql);
    text.lines()
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

/// Every cut of a container exits 3, from pgpipe-sql and through the
/// archive input of the other tools.
#[test]
fn cut_containers_exit_3() {
    let version = Version::V18;
    let work = scratch(version, "cuts");
    let export = export(version, "db1-gzip");
    for name in [
        "zip deflated",
        "zip stored, Zip64 records",
        "tar",
        "tar, pax headers",
    ] {
        // A new file for each shape: zip adds to a file that exists.
        let whole = work.join(format!("{name}.{}", shape(name).tool));
        pack(export, shape(name), &whole);
        let bytes = std::fs::read(&whole).unwrap();
        let cut = work.join(format!("{name} cut.{}", shape(name).tool));
        // Where the archive ends: after the two zero blocks of a tar (GNU
        // tar pads to 10 KiB after them), at the last byte of a zip.
        let end = if name.starts_with("tar") {
            tar_end(&bytes)
        } else {
            bytes.len()
        };
        // 60 cuts through the file, the last 1100 bytes before its end one
        // by one, and 600 bytes of the padding after it. (A file shorter
        // than a tar header is not known to be a tar.) Every tenth cut runs
        // the binaries, the others the library pgpipe-sql runs.
        let mut at: Vec<usize> = (1..60).map(|i| (i * end / 60).max(512)).collect();
        at.extend(end.saturating_sub(1100)..(end + 600).min(bytes.len()));
        at.push(bytes.len());
        at.dedup();
        let options = pgpipe::archive::SqlOptions {
            restrict_key: Some(KEY.into()),
        };
        for (k, &n) in at.iter().enumerate() {
            std::fs::write(&cut, &bytes[..n]).unwrap();
            let (code, out, err) = if k % 10 == 0 {
                let (tool, key): (_, &[&str]) = if k % 20 == 0 {
                    ("pgpipe-sql", &["--restrict-key", KEY])
                } else {
                    ("pgpipe-roles", &[])
                };
                let out = run(Command::new(support::tool(tool)).args(key).arg(&cut), None);
                let err = format!("{tool}: {}", String::from_utf8_lossy(&out.stderr));
                let sql = if tool == "pgpipe-sql" {
                    out.stdout.clone()
                } else {
                    export.want.clone()
                };
                (exit_code(&out), sql, err)
            } else {
                let mut sql = Vec::new();
                match pgpipe::archive::Source::path(&cut)
                    .and_then(|source| pgpipe::archive::to_sql(source, &mut sql, &options))
                {
                    Ok(()) => (0, sql, String::new()),
                    Err(e) => (e.exit_code(), sql, e.message),
                }
            };
            if n < end {
                assert_eq!(code, 3, "{name} cut at {n} of {end}: {err}");
            } else {
                // Only the padding after the end-of-archive blocks is gone.
                assert_eq!(code, 0, "{name} cut at {n} after the end {end}: {err}");
                assert!(out == export.want, "{name} cut at {n}");
            }
        }
    }
}

/// The end of a tar's two end-of-archive blocks.
fn tar_end(bytes: &[u8]) -> usize {
    let last_header = (0..bytes.len() / 512)
        .rfind(|&b| pgpipe::archive::tar::is_tar_header(&bytes[b * 512..(b + 1) * 512]))
        .unwrap();
    let mut at = (last_header + 1) * 512;
    // The last member's data, then two zero blocks.
    while bytes[at..at + 1024].iter().any(|&b| b != 0) {
        at += 512;
    }
    at + 1024
}

/// Flip every byte of a zip file's headers and directory and a spread of its
/// members' bytes, and every byte of a tar file's headers: the reading fails
/// as corrupt (exit 3) or prints exactly what it printed before. (A tar
/// records no checksum of member data: a changed byte there is read as it is.)
#[test]
fn flipped_bytes_exit_3_or_change_nothing() {
    use pgpipe::archive::{self, Source};
    let version = Version::V18;
    let work = scratch(version, "flips");
    let mut counts = Vec::new();
    for (label, name) in [
        ("db1-none", "zip deflated"),
        ("db1-gzip", "zip stored, Zip64 records"),
        ("db1-gzip", "tar"),
    ] {
        let export = exports(version).iter().find(|e| e.label == label).unwrap();
        let path = work.join(format!("{label}.{}", shape(name).tool));
        pack(export, shape(name), &path);
        let original = std::fs::read(&path).unwrap();
        let positions = structure(&original, shape(name).tool == "zip");
        let options = archive::SqlOptions {
            restrict_key: Some(KEY.into()),
        };
        let read = |p: &Path| -> Result<Vec<u8>, pgpipe::error::Error> {
            let mut out = Vec::new();
            archive::to_sql(Source::path(p)?, &mut out, &options)?;
            Ok(out)
        };
        assert_eq!(read(&path).unwrap(), export.want, "{label} {name}");
        let (mut failed, mut same) = (0, 0);
        let mut wrong = Vec::new();
        let mut bytes = original.clone();
        for &i in &positions {
            bytes[i] ^= 0x5a;
            std::fs::write(&path, &bytes).unwrap();
            match read(&path) {
                Err(e) if e.exit_code() == 3 => failed += 1,
                Ok(out) if out == export.want => same += 1,
                Ok(_) => wrong.push(format!("byte {i}: different output, exit 0")),
                Err(e) => wrong.push(format!("byte {i}: exit {}: {}", e.exit_code(), e.message)),
            }
            bytes[i] = original[i];
        }
        assert!(
            wrong.is_empty(),
            "{label} {name}: {} of {} flips: {wrong:#?}",
            wrong.len(),
            positions.len()
        );
        assert!(
            failed > positions.len() / 2,
            "{label} {name}: {failed} failures"
        );
        counts.push(format!(
            "{label} {name}: {} flips, {failed} exit 3, {same} unchanged",
            positions.len()
        ));
    }
    eprintln!("{counts:#?}");
}

/// The byte positions to flip: for a zip, every byte outside member data
/// and every 7th byte inside it; for a tar, every byte of every header
/// block and of the end-of-archive blocks.
fn structure(bytes: &[u8], zip: bool) -> Vec<usize> {
    if zip {
        // Member data runs from the end of each local header to the next
        // signature; data bytes are sampled.
        let mut data = vec![false; bytes.len()];
        let mut i = 0;
        while i + 30 <= bytes.len() && &bytes[i..i + 4] == b"PK\x03\x04" {
            let u16_at = |k: usize| u16::from_le_bytes([bytes[k], bytes[k + 1]]) as usize;
            let start = i + 30 + u16_at(i + 26) + u16_at(i + 28);
            let size = u32::from_le_bytes(bytes[i + 18..i + 22].try_into().unwrap()) as usize;
            let size = if size == u32::MAX as usize {
                // Zip64: the sizes are in the extra field 0x0001, the
                // uncompressed one first.
                let mut at = i + 30 + u16_at(i + 26);
                while u16_at(at) != 1 {
                    at += 4 + u16_at(at + 2);
                }
                u64::from_le_bytes(bytes[at + 12..at + 20].try_into().unwrap()) as usize
            } else {
                size
            };
            data[start..start + size].iter_mut().for_each(|d| *d = true);
            i = start + size;
        }
        assert!(i > 0, "no local header at the start");
        (0..bytes.len())
            .filter(|&k| !data[k] || k % 7 == 0)
            .collect()
    } else {
        let blocks = bytes.len() / 512;
        let block = |b: usize| &bytes[b * 512..(b + 1) * 512];
        let last_header = (0..blocks)
            .rfind(|&b| pgpipe::archive::tar::is_tar_header(block(b)))
            .expect("a tar header");
        (0..blocks)
            .filter(|&b| pgpipe::archive::tar::is_tar_header(block(b)) || b > last_header)
            .flat_map(|b| b * 512..(b + 1) * 512)
            .collect()
    }
}

/// A container that holds no archive, or two, is refused (exit 1) with a
/// listing of what it holds; one custom archive, `.sql` or `.sql.gz` in a
/// zip is read like the file itself.
#[test]
fn a_container_holds_exactly_one_archive() {
    let version = Version::V18;
    let fx = fixture(version);
    let work = scratch(version, "holdings");
    let exports = exports(version);
    let (a, b) = (&exports[0], &exports[4]);
    // Two exports side by side in one zip and in one tar.
    let both = work.join("both");
    std::fs::create_dir(&both).unwrap();
    for (e, name) in [(a, "one.dir"), (b, "two.dir")] {
        let mut cp = Command::new("cp");
        assert!(
            run(cp.arg("-r").arg(&e.dir).arg(both.join(name)), None)
                .status
                .success()
        );
    }
    let zip = work.join("two.zip");
    assert!(
        run(
            Command::new("zip")
                .args(["-q", "-r"])
                .arg(&zip)
                .arg(".")
                .current_dir(&both),
            None
        )
        .status
        .success()
    );
    let tar = work.join("two.tar");
    assert!(
        run(
            Command::new("tar")
                .arg("-cf")
                .arg(&tar)
                .arg("-C")
                .arg(&both)
                .arg("."),
            None
        )
        .status
        .success()
    );
    for path in [&zip, &tar] {
        let (code, out, err) = pgpipe_sql(path);
        assert_eq!(code, 1, "{err}");
        assert!(out.is_empty());
        assert!(err.contains("holds 2 pg_dump archives: one.dir/ (directory archive), two.dir/ (directory archive)"), "{err}");
        // The listing counts what zip and tar list.
        let listed = if path == &zip {
            run(Command::new("unzip").arg("-Z1").arg(path), None)
        } else {
            run(Command::new("tar").arg("-tf").arg(path), None)
        };
        let n = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter(|l| *l != "./")
            .count();
        assert!(
            err.contains(&format!("it holds {n} members: ")),
            "{n} members: {err}"
        );
    }
    // No archive: two text files.
    std::fs::write(work.join("README.txt"), "export of example.org\n").unwrap();
    std::fs::write(work.join("notes.txt"), "nothing\n").unwrap();
    let none = work.join("none.zip");
    assert!(
        run(
            Command::new("zip")
                .args(["-q"])
                .arg(&none)
                .args(["README.txt", "notes.txt"])
                .current_dir(&work),
            None
        )
        .status
        .success()
    );
    let (code, _, err) = pgpipe_sql(&none);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("holds no pg_dump archive; it holds 2 members: README.txt (22 bytes), notes.txt (8 bytes)"), "{err}");

    // One custom archive beside a README; one .sql; one .sql.gz.
    let custom = work.join("db1.dump");
    std::fs::write(&custom, fx.dump("custom-file")).unwrap();
    let plain = work.join("db1.sql");
    std::fs::write(&plain, fx.dump("plain")).unwrap();
    let gz = run(Command::new("gzip").args(["-n", "-k"]).arg(&plain), None);
    assert!(gz.status.success());
    for (members, want) in [
        (&["db1.dump", "README.txt"][..], pgpipe_sql(&custom).1),
        (&["db1.sql"][..], fx.dump("plain").to_vec()),
        (&["db1.sql.gz", "README.txt"][..], fx.dump("plain").to_vec()),
    ] {
        let path = work.join(format!("{}.zip", members[0]));
        assert!(
            run(
                Command::new("zip")
                    .arg("-q")
                    .arg(&path)
                    .args(members)
                    .current_dir(&work),
                None
            )
            .status
            .success()
        );
        let out = run(
            Command::new(*SQL)
                .arg(&path)
                .args(if members[0] == "db1.dump" {
                    &["--restrict-key", KEY][..]
                } else {
                    &[]
                }),
            None,
        );
        assert_eq!(
            exit_code(&out),
            0,
            "{members:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout == want, "{members:?}: output differs");
        // And through the archive input of a SQL tool.
        let roles = run(Command::new(support::tool("pgpipe-roles")).arg(&path), None);
        assert_eq!(
            exit_code(&roles),
            0,
            "{members:?}: {}",
            String::from_utf8_lossy(&roles.stderr)
        );
        assert_eq!(
            without_key(&roles.stdout),
            without_key(&want),
            "{members:?}"
        );
    }
    // --keep-format rewrites the custom archive in a zip as it does the file.
    let keep = |input: &Path, out: &Path| {
        let mut cmd = Command::new(support::tool("pgpipe-roles"));
        cmd.args(["--keep-format", "--map", "alice=bob", "-o"])
            .arg(out)
            .arg(input);
        let done = run(&mut cmd, None);
        assert_eq!(
            exit_code(&done),
            0,
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        std::fs::read(out).unwrap()
    };
    let from_zip = keep(&work.join("db1.dump.zip"), &work.join("from-zip.dump"));
    assert!(from_zip == keep(&custom, &work.join("from-file.dump")));
    let mut cmd = Command::new(support::tool("pgpipe-roles"));
    cmd.args(["--keep-format", "--map", "alice=bob", "-o"])
        .arg(work.join("x.dump"));
    let refused = run(cmd.arg(work.join("db1.sql.zip")), None);
    assert_eq!(exit_code(&refused), 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("holds a plain SQL script"));
}

/// A container on standard input is refused with the reason, by pgpipe-sql
/// and by the SQL tools; a missing data file or a damaged member exits 3
/// with the member's name.
#[test]
fn containers_from_pipes_and_damaged_members() {
    let version = Version::V18;
    let work = scratch(version, "damaged");
    let export = export(version, "db1-gzip");
    let zip = work.join("export.zip");
    pack(export, shape("zip deflated"), &zip);
    let tar = work.join("export.tar");
    pack(export, shape("tar"), &tar);
    for path in [&zip, &tar] {
        let bytes = std::fs::read(path).unwrap();
        for tool in ["pgpipe-sql", "pgpipe-roles", "pgpipe-inspect"] {
            let out = run(&mut Command::new(support::tool(tool)), Some(&bytes));
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(exit_code(&out), 1, "{tool} < {}: {err}", path.display());
            assert!(err.contains("only from a file"), "{tool}: {err}");
            assert!(err.contains("give the file's name"), "{tool}: {err}");
        }
    }
    // The largest data file, removed from each container.
    let largest = std::fs::read_dir(&export.dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".dat.gz"))
        .max_by_key(|e| e.metadata().unwrap().len())
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    let member = format!("{EXPORT}/{largest}");
    let cut_zip = work.join("missing.zip");
    std::fs::copy(&zip, &cut_zip).unwrap();
    assert!(
        run(
            Command::new("zip")
                .args(["-q", "-d"])
                .arg(&cut_zip)
                .arg(&member),
            None
        )
        .status
        .success()
    );
    let cut_tar = work.join("missing.tar");
    std::fs::copy(&tar, &cut_tar).unwrap();
    assert!(
        run(
            Command::new("tar")
                .arg("--delete")
                .arg("-f")
                .arg(&cut_tar)
                .arg(&member),
            None
        )
        .status
        .success()
    );
    let stem = largest.trim_end_matches(".gz");
    for path in [&cut_zip, &cut_tar] {
        let (code, _, err) = pgpipe_sql(path);
        assert_eq!(code, 3, "{err}");
        assert!(
            err.contains(&format!("the data file {stem} of TOC entry")),
            "{err}"
        );
        assert!(err.contains("is missing from"), "{err}");
    }
    // A changed byte in the middle of that member's compressed bytes.
    let mut bytes = std::fs::read(&zip).unwrap();
    let name_at = memchr_find(&bytes, member.as_bytes());
    let data_at = name_at
        + member.len()
        + u16::from_le_bytes([bytes[name_at - 2], bytes[name_at - 1]]) as usize;
    let size = u32::from_le_bytes(bytes[name_at - 12..name_at - 8].try_into().unwrap()) as usize;
    bytes[data_at + size / 2] ^= 0x01;
    let damaged = work.join("damaged.zip");
    std::fs::write(&damaged, &bytes).unwrap();
    let (code, _, err) = pgpipe_sql(&damaged);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains(&member), "the member is named: {err}");
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the member's name")
}

/// PostgreSQL's own regression database, a database we did not write: its
/// custom archives (pg_dump 15 and 18) in a zip and a tar read as
/// `pg_restore -f -` prints the archive file; and restored into a 15 server
/// and dumped with `pg_dump -Fd`, its directory archive zipped (deflated)
/// and tarred reads as `pg_restore -f -` prints the directory.
#[test]
fn the_regression_database_in_containers() {
    let corpus = support::regression::regression();
    let fx = fixture(Version::V15);
    let work = scratch(Version::V15, "regression");
    let pg_restore = |version: Version, path: &Path| {
        let mut cmd = Command::new(bin(version, "pg_restore"));
        let out = run(cmd.args(["-f", "-", "--restrict-key", KEY]).arg(path), None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let same = |path: &Path, want: &[u8], what: &str| {
        let (code, got, err) = pgpipe_sql(path);
        assert_eq!(code, 0, "{what}: {err}");
        assert!(
            got == want,
            "{what}: {}",
            support::first_difference(want, &got)
        );
    };
    for version in Version::ALL {
        let name = format!("regression-pg{}.dump", version.major());
        let custom = work.join(&name);
        std::fs::write(&custom, corpus.client_dump(version, "custom")).unwrap();
        let want = pg_restore(version, &custom);
        let zip = work.join(format!("{name}.zip"));
        let zipped = run(
            Command::new("zip")
                .arg("-q")
                .arg(&zip)
                .arg(&name)
                .current_dir(&work),
            None,
        );
        assert!(zipped.status.success());
        same(&zip, &want, &format!("{name} in a zip"));
        let tar = work.join(format!("{name}.tar"));
        let tarred = run(
            Command::new("tar")
                .arg("-cf")
                .arg(&tar)
                .arg("-C")
                .arg(&work)
                .arg(&name),
            None,
        );
        assert!(tarred.status.success());
        same(&tar, &want, &format!("{name} in a tar"));
    }
    // The directory archive of the restored database. Without owners and
    // privileges (pg_regress's roles are not in this cluster); statements
    // that fail here leave a smaller database, which is still theirs.
    let db = fx.server.create_db("regression_copy");
    let mut restore = fx.server.command("pg_restore");
    restore
        .args(["-O", "-x", "-d", &db])
        .arg(work.join("regression-pg15.dump"));
    run(&mut restore, None);
    let tables = fx.server.psql(&db, "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace");
    assert!(
        tables.parse::<u32>().unwrap() > 100,
        "{tables} tables restored"
    );
    let parent = work.join("dir");
    std::fs::create_dir(&parent).unwrap();
    let dir = parent.join(EXPORT);
    let mut dump = fx.server.command("pg_dump");
    let dumped = run(dump.args(["-Fd", "-f"]).arg(&dir).args(["-d", &db]), None);
    assert!(
        dumped.status.success(),
        "{}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let want = pg_restore(Version::V15, &dir);
    let export = Export {
        label: "regression".into(),
        dir,
        want,
    };
    for name in ["zip deflated", "tar, no folder"] {
        let path = work.join(format!("regression {name}.{}", shape(name).tool));
        pack(&export, shape(name), &path);
        same(
            &path,
            &export.want,
            &format!("regression directory, {name}"),
        );
    }
}
