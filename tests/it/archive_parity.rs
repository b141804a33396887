//! Parity: `pgpipe-sql ARCHIVE` prints exactly what `pg_restore -f - ARCHIVE`
//! of the same PostgreSQL version prints (with the same `--restrict-key`;
//! 16.2 predates it and writes no `\restrict` lines, so for 16 those lines
//! are set aside), for the fixture database dumped by pg_dump 13, 15, 16
//! and 18 in every archive format and compression, and for the committed
//! pg_dump 17 archives. The same for `--list` against `pg_restore -l`, and
//! for archives read from a pipe. Archive versions older than any pg_dump
//! at hand (1.1 to 1.13, the layouts of pg_dump 7.1 to 11) are made from a
//! pg_dump 15 archive field by field, and must print what pg_restore 13 and
//! 15 print for them, through `--keep-format` too.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{
    Version, bin, compress_with, exit_code, fixture, fixture_path, recompress_directory, run,
    run_tool_ok, without_restrict,
};

const KEY: &str = "ParityKey0123456789";

fn pgpipe_sql() -> Command {
    Command::new(support::tool("pgpipe-sql"))
}

/// Run pgpipe-sql with `args`, the archive as a path or on stdin.
fn ours(args: &[&str], path: &Path, piped: bool) -> (i32, Vec<u8>, String) {
    let mut cmd = pgpipe_sql();
    cmd.args(args);
    let out = if piped {
        let bytes = std::fs::read(path).unwrap();
        run(&mut cmd, Some(&bytes))
    } else {
        cmd.arg(path);
        run(&mut cmd, None)
    };
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn theirs(version: Version, args: &[&str], path: &Path) -> Vec<u8> {
    let mut cmd = Command::new(bin(version, "pg_restore"));
    cmd.args(args).arg(path);
    let out = run(&mut cmd, None);
    assert!(
        out.status.success(),
        "pg_restore {} {args:?} {} failed: {}",
        version.major(),
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Compare one archive both ways; return a one-line result per comparison.
fn compare(version: Version, label: &str, path: &Path, pipe_too: bool) -> Vec<(String, bool)> {
    let mut results = Vec::new();
    // 16.2 has no --restrict-key and prints no \restrict lines.
    let keyed = version != Version::V16;
    let want = if keyed {
        theirs(version, &["-f", "-", "--restrict-key", KEY], path)
    } else {
        theirs(version, &["-f", "-"], path)
    };
    let modes: &[bool] = if pipe_too { &[false, true] } else { &[false] };
    for &piped in modes {
        let (code, got, err) = ours(&["--restrict-key", KEY], path, piped);
        let got = if keyed { got } else { without_restrict(&got) };
        let ok = code == 0 && got == want;
        if !ok {
            let dir = std::env::temp_dir().join("pgpipe-parity");
            std::fs::create_dir_all(&dir).unwrap();
            let base = format!(
                "{}-{label}{}",
                version.major(),
                if piped { "-pipe" } else { "" }
            );
            std::fs::write(dir.join(format!("{base}.ours.sql")), &got).unwrap();
            std::fs::write(dir.join(format!("{base}.theirs.sql")), &want).unwrap();
            eprintln!(
                "MISMATCH {base}: exit {code}, stderr {err}; outputs in {}",
                dir.display()
            );
        }
        results.push((
            format!(
                "pg_restore {} parity {label}{}",
                version.major(),
                if piped { " (stdin)" } else { "" }
            ),
            ok,
        ));
    }
    let want = theirs(version, &["-l"], path);
    let (code, got, _) = ours(&["--list"], path, false);
    results.push((
        format!("pg_restore {} --list parity {label}", version.major()),
        code == 0 && got == want,
    ));
    results
}

fn report(results: &[(String, bool)]) {
    for (what, ok) in results {
        eprintln!("{}: {what}", if *ok { "ok" } else { "FAIL" });
    }
    let failed: Vec<_> = results
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(w, _)| w)
        .collect();
    assert!(failed.is_empty(), "parity failures: {failed:#?}");
}

/// Make the archives of db1 with this version's pg_dump; (label, path, is a stream).
fn archives(version: Version) -> (PathBuf, Vec<(String, PathBuf, bool)>) {
    let fx = fixture(version);
    let dir = fx.server.new_dir("archives");
    let mut made = Vec::new();
    let compressions: &[(&str, &str)] = match version {
        Version::V13 | Version::V15 => &[("none", "0"), ("gzip", "6")],
        // The PostgreSQL 18 build at hand has zlib only; lz4 and zstd
        // archives are made from the uncompressed ones below.
        Version::V16 | Version::V18 => &[("none", "none"), ("gzip", "gzip")],
    };
    let dump = |args: &[&str]| {
        let mut cmd = fx.server.command("pg_dump");
        cmd.args(args).arg("-d").arg("db1");
        let out = run(&mut cmd, None);
        assert!(
            out.status.success(),
            "pg_dump {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for (name, z) in compressions {
        let f = dir.join(format!("custom-{name}.dump"));
        dump(&["-Fc", "-Z", z, "-f", f.to_str().unwrap()]);
        made.push((format!("custom-{name}"), f, true));
        let d = dir.join(format!("dir-{name}"));
        dump(&["-Fd", "-Z", z, "-f", d.to_str().unwrap()]);
        made.push((format!("directory-{name}"), d, false));
    }
    // Written to a pipe: no data offsets in the TOC.
    let piped = dir.join("custom-piped.dump");
    {
        let mut cmd = fx.server.command("pg_dump");
        cmd.args(["-Fc", "-d", "db1"]);
        let out = run(&mut cmd, None);
        assert!(out.status.success());
        std::fs::write(&piped, out.stdout).unwrap();
    }
    made.push(("custom-piped".into(), piped, true));
    let inserts = dir.join("custom-inserts.dump");
    dump(&["-Fc", "--inserts", "-f", inserts.to_str().unwrap()]);
    made.push(("custom-inserts".into(), inserts, true));
    let tar = dir.join("db1.tar");
    dump(&["-Ft", "-f", tar.to_str().unwrap()]);
    made.push(("tar".into(), tar, true));
    (dir, made)
}

fn parity_for(version: Version) {
    let (_dir, made) = archives(version);
    let mut results = Vec::new();
    for (label, path, stream) in &made {
        results.extend(compare(version, label, path, *stream));
    }
    report(&results);
}

/// A custom archive whose data blocks are re-encoded with `tool` and whose
/// header says `algorithm` (2 lz4, 3 zstd): what pg_dump 18 built with that
/// library writes, as the uncompressed archive's data in frames.
fn recompress_custom(src: &[u8], tool: &str, algorithm: u8) -> Vec<u8> {
    use pgpipe::archive::read::{ExtraToc, Primitives, read_header, read_toc};
    let mut p = Primitives::new(src);
    let header = read_header(&mut p).unwrap();
    assert_eq!(header.compression, pgpipe::archive::read::Compression::None);
    read_toc(&mut p, &header, ExtraToc::Offset).unwrap();
    let data_start = p.pos as usize;
    let mut out = src[..data_start].to_vec();
    out[11] = algorithm;
    let int = |b: &[u8], at: &mut usize| -> i64 {
        let v = i64::from(u32::from_le_bytes(b[*at + 1..*at + 5].try_into().unwrap()));
        let v = if b[*at] != 0 { -v } else { v };
        *at += 5;
        v
    };
    let put_int = |out: &mut Vec<u8>, v: i64| {
        out.push(u8::from(v < 0));
        out.extend_from_slice(&(v.unsigned_abs() as u32).to_le_bytes());
    };
    let chunks = |b: &[u8], at: &mut usize| -> Vec<u8> {
        let mut payload = Vec::new();
        loop {
            let len = int(b, at) as usize;
            if len == 0 {
                return payload;
            }
            payload.extend_from_slice(&b[*at..*at + len]);
            *at += len;
        }
    };
    let put_chunks = |out: &mut Vec<u8>, payload: &[u8]| {
        for piece in payload.chunks(4096) {
            put_int(out, piece.len() as i64);
            out.extend_from_slice(piece);
        }
        put_int(out, 0);
    };
    let mut at = data_start;
    while at < src.len() {
        let kind = src[at];
        at += 1;
        out.push(kind);
        let id = int(src, &mut at);
        put_int(&mut out, id);
        match kind {
            1 => {
                let payload = chunks(src, &mut at);
                put_chunks(&mut out, &compress_with(tool, &payload));
            }
            3 => loop {
                let oid = int(src, &mut at);
                put_int(&mut out, oid);
                if oid == 0 {
                    break;
                }
                let payload = chunks(src, &mut at);
                put_chunks(&mut out, &compress_with(tool, &payload));
            },
            other => panic!("block type {other}"),
        }
    }
    out
}

/// lz4 and zstd archives: the output must equal pg_restore's output for the
/// same archive uncompressed.
#[test]
fn lz4_and_zstd_archives_print_the_same_sql() {
    let fx = fixture(Version::V18);
    let dir = fx.server.new_dir("recompress");
    let plain_custom = {
        let mut cmd = fx.server.command("pg_dump");
        cmd.args(["-Fc", "-Z", "none", "-d", "db1"]);
        let out = run(&mut cmd, None);
        assert!(out.status.success());
        out.stdout
    };
    let none_path = dir.join("none.dump");
    std::fs::write(&none_path, &plain_custom).unwrap();
    let none_dir = dir.join("none-dir");
    {
        let mut cmd = fx.server.command("pg_dump");
        cmd.args([
            "-Fd",
            "-Z",
            "none",
            "-f",
            none_dir.to_str().unwrap(),
            "-d",
            "db1",
        ]);
        assert!(run(&mut cmd, None).status.success());
    }
    let want = theirs(
        Version::V18,
        &["-f", "-", "--restrict-key", KEY],
        &none_path,
    );
    let want_dir = theirs(Version::V18, &["-f", "-", "--restrict-key", KEY], &none_dir);
    let mut results = Vec::new();
    for (tool, suffix, algorithm) in [("lz4", ".lz4", 2u8), ("zstd", ".zst", 3u8)] {
        let custom = dir.join(format!("{tool}.dump"));
        std::fs::write(&custom, recompress_custom(&plain_custom, tool, algorithm)).unwrap();
        for piped in [false, true] {
            let (code, got, err) = ours(&["--restrict-key", KEY], &custom, piped);
            results.push((
                format!(
                    "18 custom-{tool}{} equals pg_restore of custom-none",
                    if piped { " (stdin)" } else { "" }
                ),
                code == 0 && got == want,
            ));
            if code != 0 {
                eprintln!("{tool}: {err}");
            }
        }
        let d = dir.join(format!("dir-{tool}"));
        recompress_directory(&none_dir, &d, tool, suffix, algorithm);
        let (code, got, err) = ours(&["--restrict-key", KEY], &d, false);
        results.push((
            format!("18 directory-{tool} equals pg_restore of directory-none"),
            code == 0 && got == want_dir,
        ));
        if code != 0 {
            eprintln!("{tool} dir: {err}");
        }
    }
    report(&results);
}

#[test]
fn parity_with_pg_restore_13() {
    parity_for(Version::V13);
}

#[test]
fn parity_with_pg_restore_15() {
    parity_for(Version::V15);
}

#[test]
fn parity_with_pg_restore_16() {
    parity_for(Version::V16);
}

#[test]
fn parity_with_pg_restore_18() {
    parity_for(Version::V18);
}

/// The committed pg_dump 17.11 archives, compared with pg_restore 18 (no 17
/// binaries are at hand) and with pg_dump 17's own plain output.
#[test]
fn parity_pg17_archives() {
    let mut results = Vec::new();
    for name in ["custom-file", "custom-piped", "custom-redirect-duptoc"] {
        let path = fixture_path(&format!("pg17/db1.{name}.dump"));
        results.extend(compare(Version::V18, &format!("pg17-{name}"), &path, true));
        // pg_dump 17 -Fp printed the same script (its own restrict key).
        let (code, got, _) = ours(&["--restrict-key", "KEY"], &path, false);
        assert_eq!(code, 0);
        let plain = support::pg17_plain();
        results.push((
            format!("pg17 {name} equals pg_dump 17 plain output"),
            normalise_key(&got) == normalise_key(&plain),
        ));
    }
    report(&results);
}

fn normalise_key(sql: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in sql.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"\\restrict ") {
            out.extend_from_slice(b"\\restrict K\n");
        } else if line.starts_with(b"\\unrestrict ") {
            out.extend_from_slice(b"\\unrestrict K\n");
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Without `--restrict-key` every run prints a fresh 63-character key, and
/// the rest is unchanged.
#[test]
fn fresh_restrict_key_each_run() {
    let path = fixture_path("pg17/db1.custom-file.dump");
    let (c1, a, _) = ours(&[], &path, false);
    let (c2, b, _) = ours(&[], &path, false);
    assert_eq!((c1, c2), (0, 0));
    let key = |sql: &[u8]| -> String {
        let text = String::from_utf8_lossy(sql);
        let line = text.lines().find(|l| l.starts_with("\\restrict ")).unwrap();
        let key = line["\\restrict ".len()..].to_string();
        let unline = format!("\\unrestrict {key}");
        assert!(
            text.lines().any(|l| l == unline),
            "unrestrict uses the same key"
        );
        key
    };
    let (ka, kb) = (key(&a), key(&b));
    assert_eq!(ka.len(), 63);
    assert!(ka.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_ne!(ka, kb);
    assert_eq!(normalise_key(&a), normalise_key(&b));
}

/// The version pg_restore of `v` prints as its own.
fn pg_restore_version(v: Version) -> String {
    let out = run(Command::new(bin(v, "pg_restore")).arg("--version"), None);
    let text = String::from_utf8_lossy(&out.stdout);
    // "pg_restore (PostgreSQL) 13.23 (Debian 13.23-0+deb11u4)"
    text.trim()
        .split_once(") ")
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default()
}

/// A script without its `-- Dumped by pg_dump version` line.
fn without_dumped_by(script: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in script.split_inclusive(|&b| b == b'\n') {
        if !line.starts_with(b"-- Dumped by pg_dump version ") {
            out.extend_from_slice(line);
        }
    }
    out
}

/// `src`, a custom archive with every data offset not set (as from a pipe),
/// written again as archive version 1.`minor`: the header and TOC fields
/// that version has (pgpipe's own encoder, which follows the archive's
/// layout), and the data blocks with its integers (before 1.3 without a
/// block type, so the large objects, whose block needs one, are left out).
/// pg_restore is the judge of whether the result is such an archive.
fn downgrade(src: &[u8], minor: u8) -> Vec<u8> {
    use pgpipe::archive::read::{DataPos, ExtraToc, Primitives, read_header, read_toc};
    use pgpipe::archive::write::{Encoder, encode_entry, encode_header};
    let mut p = Primitives::new(src);
    let mut header = read_header(&mut p).unwrap();
    let mut entries = read_toc(&mut p, &header, ExtraToc::Offset).unwrap();
    let source = p.layout;
    header.vmin = minor;
    header.vrev = 0;
    if minor < 4 {
        // 1.2 and 1.3 store the zlib level in a byte: no -1 (default).
        header.level = Some(6);
    }
    let mut e = Encoder::new(&header);
    encode_header(&mut e, &header);
    e.int(entries.len() as i64);
    let blobs_block = minor >= 3;
    for te in entries.iter_mut() {
        if !blobs_block && te.desc() == b"BLOBS" {
            te.had_dumper = false;
            te.data_pos = Some(DataPos::NoData);
        }
        if minor < 7 {
            te.legacy_data_len = Some(0);
        }
        let pos = match te.data_pos {
            Some(DataPos::NoData) | None => DataPos::NoData,
            _ => DataPos::NotSet,
        };
        encode_entry(&mut e, &header, te, pos);
    }
    // The data blocks, read with the source's layout.
    let mut r = Primitives::with_layout(&src[p.pos as usize..], source);
    let what = || "a data block".to_string();
    let chunks = |r: &mut Primitives<&[u8]>, e: &mut Encoder, keep: bool| loop {
        let len = r.int(&what).unwrap();
        let mut buf = vec![0u8; len as usize];
        r.exact(&mut buf, &what).unwrap();
        if keep {
            e.int(len);
            e.buf.extend_from_slice(&buf);
        }
        if len == 0 {
            break;
        }
    };
    while let Some(kind) = r.byte_or_eof(&what).unwrap() {
        let id = r.int(&what).unwrap();
        let keep = kind == 1 || blobs_block;
        if keep {
            if blobs_block {
                e.byte(kind);
            }
            e.int(id);
        }
        match kind {
            1 => chunks(&mut r, &mut e, keep),
            3 => loop {
                let oid = r.int(&what).unwrap();
                if keep {
                    e.int(oid);
                }
                if oid == 0 {
                    break;
                }
                chunks(&mut r, &mut e, keep);
            },
            other => panic!("block type {other}"),
        }
    }
    e.buf
}

/// Archive versions 1.1 to 1.13, made from pg_dump 15's archive of db1:
/// pgpipe-sql prints what pg_restore 13 and 15 print, and `pgpipe-roles
/// --keep-format` writes the same version back, which pg_restore prints as
/// it prints the input with the role renamed.
#[test]
fn every_older_archive_version_prints_as_pg_restore() {
    let fx = fixture(Version::V15);
    let dir = fx.server.new_dir("old-versions");
    let src = fx.dump("custom");
    let mut results = Vec::new();
    for minor in 1..=13u8 {
        let path = dir.join(format!("v1.{minor}.dump"));
        let bytes = downgrade(src, minor);
        std::fs::write(&path, &bytes).unwrap();
        let (code, got, err) = ours(&["--restrict-key", KEY], &path, false);
        for v in [Version::V13, Version::V15] {
            let mut want = theirs(v, &["-f", "-", "--restrict-key", KEY], &path);
            if minor < 10 {
                // The difference by design: before 1.10 the archive does not
                // record pg_dump's version, and pg_restore prints its own
                // there; pgpipe-sql prints no such line.
                let line = format!("-- Dumped by pg_dump version {}", pg_restore_version(v));
                let at = memchr::memmem::find(&want, line.as_bytes())
                    .unwrap_or_else(|| panic!("pg_restore {} prints no {line:?}", v.major()));
                want.drain(at..at + line.len() + 1);
            }
            let ok = code == 0 && got == want;
            if !ok {
                eprintln!(
                    "1.{minor}: pgpipe-sql exit {code} {err}\n{}",
                    support::oracle::first_difference(&want, &got).unwrap_or_default()
                );
            }
            results.push((format!("archive 1.{minor}: = pg_restore {}", v.major()), ok));
        }
        let kept = run_tool_ok(
            "pgpipe-roles",
            &["--map", "alice=synapse", "--keep-format"],
            Some(&bytes),
        );
        let ok = match kept {
            Ok(kept) => {
                let kept_path = dir.join(format!("v1.{minor}.kept.dump"));
                std::fs::write(&kept_path, &kept).unwrap();
                let printed = theirs(
                    Version::V15,
                    &["-f", "-", "--restrict-key", KEY],
                    &kept_path,
                );
                if minor >= 3 {
                    let plain = theirs(Version::V15, &["-f", "-", "--restrict-key", KEY], &path);
                    let mapped =
                        run_tool_ok("pgpipe-roles", &["--map", "alice=synapse"], Some(&plain))
                            .unwrap();
                    kept[..8] == bytes[..8] && printed == mapped
                } else {
                    // Before 1.3 table data has no COPY statement: pg_restore
                    // prints bare rows, which no SQL reader takes. The kept
                    // archive must be read by pg_restore as pgpipe-sql reads
                    // it, and list alice's entries as synapse's.
                    let (code, ours_kept, _) = ours(&["--restrict-key", KEY], &kept_path, false);
                    let list =
                        |p: &Path| String::from_utf8(theirs(Version::V15, &["-l"], p)).unwrap();
                    let want_list: String = list(&path)
                        .lines()
                        .map(|l| match l.strip_suffix(" alice") {
                            Some(head) if !l.starts_with(';') => format!("{head} synapse\n"),
                            _ => format!("{l}\n"),
                        })
                        .collect();
                    kept[..7] == bytes[..7]
                        && code == 0
                        && without_dumped_by(&printed) == ours_kept
                        && list(&kept_path) == want_list
                }
            }
            Err(e) => {
                eprintln!("1.{minor}: {e}");
                false
            }
        };
        results.push((format!("archive 1.{minor}: --keep-format"), ok));
    }
    report(&results);
}
