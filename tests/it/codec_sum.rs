//! pgpipe-sum against sha256sum and b3sum; --check and --seal/--unseal
//! withhold the tail when the digest does not match.

use crate::support;
use std::sync::LazyLock;

use std::process::Command;

static SUM: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-sum"));
const HOLD: usize = 64 * 1024;

fn run_in(
    dir: Option<&std::path::Path>,
    cmd: &str,
    args: &[&str],
    input: &[u8],
) -> (i32, Vec<u8>, String) {
    let mut c = Command::new(cmd);
    c.args(args);
    if let Some(d) = dir {
        c.current_dir(d);
    }
    support::outcome(&mut c, input)
}

fn run(cmd: &str, args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    run_in(None, cmd, args, input)
}

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

#[test]
fn digests_match_sha256sum_and_b3sum_for_boundary_sizes() {
    let big = data(3 * 1024 * 1024 + 5);
    let dir = tempfile::tempdir().unwrap();
    for len in [0, 1, HOLD - 1, HOLD, HOLD + 1, big.len()] {
        let bytes = &big[..len];
        std::fs::write(dir.path().join("d.bin"), bytes).unwrap();
        for (algo, tool) in [("sha256", "sha256sum"), ("blake3", "b3sum")] {
            let (code, out, err) = run_in(
                Some(dir.path()),
                *SUM,
                &["-a", algo, "--name", "d.bin"],
                bytes,
            );
            assert_eq!(code, 0);
            assert!(out == bytes, "passes through unchanged");
            let (_, theirs, _) = run_in(Some(dir.path()), tool, &["d.bin"], b"");
            assert_eq!(err.as_bytes(), &theirs[..], "{algo} {len}");
            // -o FILE holds the line and the tool's -c accepts it.
            let (code, _, _) = run_in(
                Some(dir.path()),
                *SUM,
                &["-a", algo, "-o", "d.sum", "d.bin"],
                b"",
            );
            assert_eq!(code, 0);
            let (code, out, err) = run_in(Some(dir.path()), tool, &["-c", "d.sum"], b"");
            assert_eq!(code, 0, "{tool} -c: {err}");
            assert_eq!(out, b"d.bin: OK\n");
            // And ours checks theirs, by file and by hex.
            std::fs::write(dir.path().join("t.sum"), &theirs).unwrap();
            let (code, out, err) =
                run_in(Some(dir.path()), *SUM, &["-a", algo, "-c", "t.sum"], bytes);
            assert_eq!(code, 0, "{err}");
            assert!(out == bytes);
            let hex = String::from_utf8_lossy(&theirs[..64]).into_owned();
            let (code, out, _) = run(*SUM, &["-a", algo, "-c", &hex], bytes);
            assert_eq!(code, 0);
            assert!(out == bytes);
        }
    }
}

#[test]
fn a_mismatch_exits_3_and_withholds_the_last_64_kib() {
    let plain = data(1024 * 1024);
    let (_, _, line) = run(*SUM, &[], &plain);
    let hex = &line[..64];
    let mut bad = plain.clone();
    bad[500_000] ^= 1;
    let (code, out, err) = run(*SUM, &["-c", hex], &bad);
    assert_eq!(code, 3);
    // At least 64 KiB are withheld (the window moves in 64 KiB steps).
    assert!(out.len() + HOLD <= plain.len() && out.len() + 2 * HOLD >= plain.len());
    assert!(out == bad[..out.len()]);
    assert!(
        err.starts_with("pgpipe-sum: error: sha256 mismatch after 1048576 bytes: expected "),
        "{err}"
    );
    let (code, out, _) = run(*SUM, &["-c", hex], &plain[..plain.len() - 1]);
    assert_eq!(code, 3);
    assert!(out.len() + HOLD <= plain.len());
    let (code, out, _) = run(*SUM, &["-c", hex], b"");
    assert_eq!((code, out.len()), (3, 0));
}

#[test]
fn seal_and_unseal() {
    for len in [0usize, 1, HOLD - 1, HOLD, HOLD + 1, 700_000] {
        let mut plain = data(len);
        for b in plain.iter_mut() {
            if *b == b'\n' {
                *b = b' ';
            }
        }
        for ends_with_newline in [false, true] {
            if ends_with_newline && len > 0 {
                *plain.last_mut().unwrap() = b'\n';
            }
            for algo in ["sha256", "blake3"] {
                let (code, sealed, _) = run(*SUM, &["-a", algo, "--seal"], &plain);
                assert_eq!(code, 0);
                assert!(sealed.starts_with(&plain));
                let line = String::from_utf8_lossy(&sealed[plain.len()..]).into_owned();
                let line = line.trim_start_matches('\n');
                assert!(
                    line.starts_with(&format!("-- pgpipe-seal v1 {algo} ")),
                    "{line}"
                );
                assert!(line.ends_with(&format!(" {len}\n")), "{line}");
                let (code, out, err) = run(*SUM, &["-a", algo, "--unseal"], &sealed);
                assert_eq!(code, 0, "{err}");
                assert!(out == plain, "{algo} {len}");
                // Truncated anywhere, or altered: exit 3 and a safe prefix.
                for cut in [sealed.len() - 1, sealed.len() - 30, sealed.len() / 2, 1] {
                    if cut >= sealed.len() {
                        continue;
                    }
                    let (code, out, _) = run(*SUM, &["-a", algo, "--unseal"], &sealed[..cut]);
                    assert_eq!(code, 3, "cut {cut} of {}", sealed.len());
                    assert!(out.len() + HOLD <= plain.len() || out.is_empty());
                    assert!(plain.starts_with(&out));
                }
                if len > 0 {
                    let mut bad = sealed.clone();
                    bad[len / 2] ^= 0x20;
                    let (code, out, err) = run(*SUM, &["-a", algo, "--unseal"], &bad);
                    assert_eq!(code, 3, "{err}");
                    assert!(out.len() + HOLD <= plain.len() || out.is_empty());
                }
            }
        }
    }
}

#[test]
fn unseal_messages() {
    let (code, out, err) = run(*SUM, &["--unseal"], b"select 1;\n");
    assert_eq!((code, out.len()), (3, 0));
    assert_eq!(
        err,
        "pgpipe-sum: error: no pgpipe seal at the end of the stream (10 bytes read); \
         the stream is truncated or was never sealed; the last 10 bytes were withheld\n"
    );
    let (_, sealed, _) = run(*SUM, &["-a", "blake3", "--seal"], b"select 1;\n");
    let (code, _, err) = run(*SUM, &["--unseal"], &sealed);
    assert_eq!(code, 3);
    assert_eq!(
        err,
        "pgpipe-sum: error: the seal uses blake3, but --unseal was asked for sha256\n\
         pgpipe-sum: hint: pass -a blake3\n"
    );
    let mut forged = b"select 2;\n".to_vec();
    forged.extend_from_slice(&sealed[10..]);
    let (code, out, err) = run(*SUM, &["-a", "blake3", "--unseal"], &forged);
    assert_eq!((code, out.len()), (3, 0));
    assert!(
        err.starts_with("pgpipe-sum: error: blake3 mismatch: the seal says "),
        "{err}"
    );
}
