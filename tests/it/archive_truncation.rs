//! Fail closed: an archive cut anywhere (every TOC field boundary and every
//! data block boundary included: we cut at every byte) is an integrity
//! error, exit 3, with a message naming where; the footer is never printed
//! and a COPY block's terminator never leaves a truncated block. Corrupt
//! data is exit 3 too; an archive version newer than we know is exit 1.

use crate::support;

use std::path::Path;
use std::process::Command;

use pgpipe::archive::{self, Source, SqlOptions};
use pgpipe::cli::ErrorKind;
use support::{Version, exit_code, fixture, fixture_file, run};

fn convert(bytes: &[u8]) -> (Result<(), pgpipe::cli::Error>, Vec<u8>) {
    let mut out = Vec::new();
    let opts = SqlOptions {
        restrict_key: Some("K".into()),
    };
    let r = archive::to_sql(Source::reader(bytes), &mut out, &opts);
    (r, out)
}

/// Cut `bytes` at every length below its own and expect an integrity error
/// each time; return how many cuts were checked.
fn every_cut_fails(label: &str, bytes: &[u8]) -> usize {
    let (full, full_out) = convert(bytes);
    full.unwrap_or_else(|e| panic!("{label}: the whole archive fails: {e}"));
    assert!(full_out.ends_with(b"\\unrestrict K\n\n"));
    for cut in 0..bytes.len() {
        let (r, out) = convert(&bytes[..cut]);
        match r {
            Err(e) if e.kind == ErrorKind::Integrity => {}
            Err(e) => panic!("{label}: cut at {cut}: wrong error class {:?}: {e}", e.kind),
            Ok(()) => panic!("{label}: cut at {cut} of {} was accepted", bytes.len()),
        }
        assert!(
            !contains(&out, b"PostgreSQL database dump complete"),
            "{label}: cut at {cut} printed the footer"
        );
        // Whatever was printed is a prefix of the real output.
        assert!(
            full_out.starts_with(&out),
            "{label}: cut at {cut} printed other bytes"
        );
    }
    bytes.len()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn every_cut_of_the_pg17_archives_is_an_integrity_error() {
    let n1 = every_cut_fails(
        "pg17 custom-file",
        &fixture_file("pg17/db1.custom-file.dump"),
    );
    let n2 = every_cut_fails(
        "pg17 custom-piped",
        &fixture_file("pg17/db1.custom-piped.dump"),
    );
    assert!(n1 > 20_000 && n2 > 20_000);
}

#[test]
fn every_cut_of_15_and_18_archives_is_an_integrity_error() {
    for version in Version::ALL {
        let fx = fixture(version);
        every_cut_fails(&format!("{} custom", version.major()), fx.dump("custom"));
        every_cut_fails(
            &format!("{} custom-file", version.major()),
            fx.dump("custom-file"),
        );
        every_cut_fails(&format!("{} tar", version.major()), fx.dump("tar"));
        let mut cmd = fx.server.command("pg_dump");
        cmd.args(["-Fc", "-Z", "0", "--inserts", "-d", "db1"]);
        let out = run(&mut cmd, None);
        assert!(out.status.success());
        every_cut_fails(
            &format!("{} custom --inserts -Z0", version.major()),
            &out.stdout,
        );
    }
}

/// The PG16+ archive with a second TOC after the data: cuts inside the
/// first copy fail, cuts in the trailing copy do not matter (pg_restore
/// never reads it either).
#[test]
fn duplicate_toc_archive_tolerates_its_trailer_only() {
    let bytes = fixture_file("pg17/db1.custom-redirect-duptoc.dump");
    let single = fixture_file("pg17/db1.custom-piped.dump");
    assert_eq!(&bytes[..single.len()], &single[..]);
    let (r, full) = convert(&bytes);
    r.unwrap();
    for cut in [single.len(), single.len() + 1, bytes.len() - 1] {
        let (r, out) = convert(&bytes[..cut]);
        r.unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(out, full);
    }
    for cut in (0..single.len()).step_by(97) {
        let (r, _) = convert(&bytes[..cut]);
        assert_eq!(r.unwrap_err().kind, ErrorKind::Integrity, "cut at {cut}");
    }
}

fn pgpipe_sql(args: &[&str], input: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    let mut cmd = Command::new(support::tool("pgpipe-sql"));
    cmd.args(args);
    let out = run(&mut cmd, input);
    (
        exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_binary_exits_3_and_names_the_entry() {
    let bytes = fixture_file("pg17/db1.custom-file.dump");
    // Cuts across the whole file, through the binary, from stdin.
    for cut in (0..bytes.len()).step_by(503).chain([bytes.len() - 1]) {
        let (code, out, err) = pgpipe_sql(&["--restrict-key", "K"], Some(&bytes[..cut]));
        assert_eq!(code, 3, "cut at {cut}: {err}");
        assert!(err.starts_with("pgpipe-sql: error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!contains(&out, b"dump complete"));
    }
    // Inside the TOC: the message names the entry and the field.
    let (code, _, err) = pgpipe_sql(&[], Some(&bytes[..2000]));
    assert_eq!(code, 3);
    assert!(err.contains("TOC entry") && err.contains("field"), "{err}");
    // Inside the data of app.t1: the message names it, and the rows printed
    // so far never include the COPY terminator of that table.
    let marker = b"TABLE DATA";
    assert!(contains(&bytes, marker));
    let (_, full, _) = pgpipe_sql(&["--restrict-key", "K"], Some(&bytes));
    let t1 = find(&full, b"COPY app.t1 ").unwrap();
    let mut saw_t1_error = false;
    for cut in (bytes.len() / 2..bytes.len()).step_by(61) {
        let (code, out, err) = pgpipe_sql(&["--restrict-key", "K"], Some(&bytes[..cut]));
        assert_eq!(code, 3, "cut at {cut}");
        if err.contains("TABLE DATA app t1") {
            saw_t1_error = true;
            assert!(out.len() < t1 + 300 && !contains(&out[t1.min(out.len())..], b"\n\\.\n"));
        }
    }
    assert!(saw_t1_error, "no cut landed in the data of app.t1");
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn corrupt_compressed_data_exits_3() {
    let bytes = fixture_file("pg17/db1.custom-file.dump");
    let (_, full, _) = pgpipe_sql(&["--restrict-key", "K"], Some(&bytes));
    // The zlib stream of a data block starts with 78 9c after its chunk length.
    let at = find(&bytes, &[0x78, 0x9c]).expect("a zlib stream");
    let mut bad = bytes.clone();
    for b in &mut bad[at + 2..at + 12] {
        *b ^= 0x5a;
    }
    let (code, out, err) = pgpipe_sql(&["--restrict-key", "K"], Some(&bad));
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("does not decode") || err.contains("corrupt"),
        "{err}"
    );
    assert!(out.len() < full.len());
}

#[test]
fn newer_archive_version_exits_1_naming_both_versions() {
    let mut bytes = fixture_file("pg17/db1.custom-file.dump");
    assert_eq!(&bytes[..7], b"PGDMP\x01\x10");
    bytes[6] = 17;
    let (code, out, err) = pgpipe_sql(&[], Some(&bytes));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "pgpipe-sql: error: unsupported archive version 1.17 in file header; the newest supported is 1.16 (pg_dump 17 and 18)\n"
    );
}

#[test]
fn not_an_archive_and_bad_key_are_errors() {
    let (code, _, err) = pgpipe_sql(&[], Some(b"--\n-- PostgreSQL database dump\n--\n"));
    assert_eq!(code, 1);
    assert!(err.contains("plain SQL dump"), "{err}");
    let (code, _, err) = pgpipe_sql(&[], Some(b""));
    assert_eq!(code, 3, "{err}");
    let bytes = fixture_file("pg17/db1.custom-file.dump");
    let (code, out, err) = pgpipe_sql(&["--restrict-key", "no-dashes"], Some(&bytes));
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
}

/// Directory archives: a missing or cut data file fails closed too.
#[test]
fn directory_archive_with_cut_or_missing_file_exits_3() {
    let fx = fixture(Version::V18);
    for z in ["gzip", "none"] {
        let dir = fx.server.new_dir("dircut").join("d");
        let mut cmd = fx.server.command("pg_dump");
        cmd.args(["-Fd", "-Z", z, "-f", dir.to_str().unwrap(), "-d", "db1"]);
        assert!(run(&mut cmd, None).status.success());
        let (code, full, err) = pgpipe_sql(&["--restrict-key", "K", dir.to_str().unwrap()], None);
        assert_eq!(code, 0, "{err}");
        // The largest data file holds app.t1.
        let biggest = largest_data_file(&dir);
        let bytes = std::fs::read(&biggest).unwrap();
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&biggest, &bytes[..cut]).unwrap();
            let (code, out, err) =
                pgpipe_sql(&["--restrict-key", "K", dir.to_str().unwrap()], None);
            assert_eq!(code, 3, "{z} cut {cut}: {err}");
            assert!(out.len() < full.len());
            assert!(!contains(&out, b"dump complete"));
        }
        std::fs::remove_file(&biggest).unwrap();
        let (code, _, err) = pgpipe_sql(&[dir.to_str().unwrap()], None);
        assert_eq!(code, 3, "{err}");
        assert!(err.contains("missing"), "{err}");
    }
}

fn largest_data_file(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.chars().next().unwrap().is_ascii_digit()
        })
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap()
}

/// Damage anywhere (one byte inverted at every 7th position of the pg17
/// archives): an error of class runtime or integrity, or a result; never a
/// panic, and never the footer after an error.
#[test]
fn damaged_bytes_never_panic() {
    for name in ["custom-file", "custom-piped"] {
        let bytes = fixture_file(&format!("pg17/db1.{name}.dump"));
        for at in (0..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0xff;
            let (r, out) = convert(&bad);
            if let Err(e) = r {
                assert!(
                    matches!(e.kind, ErrorKind::Integrity | ErrorKind::Runtime),
                    "{name} byte {at}: {e}"
                );
                assert!(!contains(&out, b"PostgreSQL database dump complete"));
            }
        }
    }
}
