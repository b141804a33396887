//! pgpipe-zip against the real gzip, pigz and zstd: round trips, interop
//! both ways, and fault injection (every failure exits 3 and never releases
//! the last 64 KiB; a truncated stream releases a strict prefix).

use crate::support;
use std::sync::LazyLock;

use std::io::Read;
use std::process::Command;

use pgpipe::codec::zip::{self, Format};
use proptest::prelude::*;

static ZIP: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-zip"));
const HOLD: usize = 64 * 1024;

fn run(cmd: &str, args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    support::outcome(Command::new(cmd).args(args), input)
}

/// Compressible but not trivial bytes, like a dump.
fn dumpish(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 100);
    let mut x = 0x2545_f491_u64;
    let mut row = 0u64;
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let line = format!(
            "{row}\t{{\"user\": \"@u{}:example.org\", \"v\": {}}}\n",
            x % 5000,
            x >> 40
        );
        v.extend_from_slice(line.as_bytes());
        row += 1;
    }
    v.truncate(len);
    v
}

/// Decode with the library in reads of at most `step` bytes.
struct Slow<'a>(&'a [u8], usize);
impl Read for Slow<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn lib_compress(data: &[u8], format: Format, level: i32) -> Vec<u8> {
    let mut c = Vec::new();
    zip::compress(data, &mut c, format, level, 2).unwrap();
    c
}

/// The fail-closed property: an error of class 3, and output that is a
/// prefix of the plaintext lacking at least its last 64 KiB.
fn assert_fail_closed(plain: &[u8], out: &[u8], code: i32, what: &str) {
    assert_eq!(code, 3, "{what}: expected exit 3");
    assert!(
        out.len() + HOLD <= plain.len() || out.is_empty(),
        "{what}: released {} of {} bytes",
        out.len(),
        plain.len()
    );
    assert!(plain.starts_with(out), "{what}: output is not a prefix");
}

/// The property for corruption: gzip and zstd check their CRC32/checksum
/// only at the end of a member or frame, so bytes decoded from a corrupted
/// block before that point may already have been released; what is never
/// released is the end of the stream (its last 64 KiB).
fn assert_tail_withheld(plain: &[u8], out: &[u8], code: i32, what: &str) {
    assert_eq!(code, 3, "{what}: expected exit 3");
    let tail = &plain[plain.len() - plain.len().min(HOLD)..];
    assert!(
        out.is_empty() || !out.ends_with(tail),
        "{what}: the last 64 KiB reached the output"
    );
}

#[test]
fn round_trips_at_boundary_sizes_through_the_binary() {
    let big = dumpish(3 * 1024 * 1024 + 7);
    for len in [0, 1, HOLD - 1, HOLD, HOLD + 1, 1 << 20, big.len()] {
        let data = &big[..len];
        for fmt in ["zstd", "gzip"] {
            let (code, c, err) = run(*ZIP, &["-F", fmt], data);
            assert_eq!(code, 0, "{err}");
            let (code, d, err) = run(*ZIP, &["-d"], &c);
            assert_eq!(code, 0, "{fmt} {len}: {err}");
            assert!(d == data, "{fmt} {len}: round trip differs");
        }
    }
}

#[test]
fn small_reads_decode_the_same() {
    let data = dumpish(200_000);
    for format in [Format::Gzip, Format::Zstd] {
        let c = lib_compress(&data, format, format.default_level());
        for step in 1..=7 {
            let mut d = Vec::new();
            zip::decompress(Slow(&c, step), &mut d, false).unwrap();
            assert!(d == data, "{format:?} step {step}");
            let mut c2 = Vec::new();
            zip::compress(Slow(&data, step), &mut c2, format, 3, 2).unwrap();
            let mut d2 = Vec::new();
            zip::decompress(&c2[..], &mut d2, false).unwrap();
            assert!(d2 == data);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn decode_of_encode_is_identity(
        data in proptest::collection::vec(any::<u8>(), 0..70_000),
        gz_level in 0i32..=9,
        zstd_level in 1i32..=19,
        threads in 1usize..=3,
    ) {
        for (format, level) in [(Format::Gzip, gz_level), (Format::Zstd, zstd_level)] {
            let mut c = Vec::new();
            zip::compress(&data[..], &mut c, format, level, threads).unwrap();
            let mut d = Vec::new();
            zip::decompress(&c[..], &mut d, false).unwrap();
            prop_assert_eq!(&d, &data);
        }
    }
}

#[test]
fn interop_with_gzip_pigz_and_zstd_both_ways() {
    let data = dumpish(5 * 1024 * 1024 + 123);
    let (_, ours_gz, _) = run(*ZIP, &["-F", "gzip", "-T", "2"], &data);
    let (_, ours_zst, _) = run(*ZIP, &["-F", "zstd"], &data);
    // gzip has exactly one member and checks its CRC and length.
    for (tool, args) in [
        ("gzip", &["-dc"][..]),
        ("pigz", &["-dc"]),
        ("zstd", &["-dc"]),
    ] {
        let (code, out, err) = run(tool, args, &ours_gz);
        assert_eq!(code, 0, "{tool}: {err}");
        assert!(out == data, "{tool} decodes our gzip");
        assert!(err.is_empty(), "{tool}: {err}");
    }
    let (code, out, err) = run("gzip", &["-tv"], &ours_gz);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let (code, out, _) = run("zstd", &["-dc"], &ours_zst);
    assert_eq!(code, 0);
    assert!(out == data, "zstd decodes ours");
    // Our zstd frames carry a content checksum: `zstd -lv` says so.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.zst");
    std::fs::write(&f, &ours_zst).unwrap();
    let info = Command::new("zstd").args(["-lv"]).arg(&f).output().unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(text.contains("Check: XXH64"), "{text}");
    // Their output decodes with ours, including several members and frames.
    for (tool, args) in [
        ("gzip", &["-c", "-6"][..]),
        ("gzip", &["-c", "-1"]),
        ("pigz", &["-c", "-6"]),
        ("pigz", &["-c", "-i", "-9"]),
        ("zstd", &["-c", "-3"]),
        ("zstd", &["-c", "-19", "-T2"]),
        ("zstd", &["-c", "--no-check"]),
    ] {
        let (code, c, _) = run(tool, args, &data);
        assert_eq!(code, 0);
        let (code, d, err) = run(*ZIP, &["-d"], &c);
        assert_eq!(code, 0, "{tool} {args:?}: {err}");
        assert!(d == data, "ours decodes {tool} {args:?}");
        let mut two = c.clone();
        two.extend_from_slice(&c);
        let (code, d, err) = run(*ZIP, &["-d"], &two);
        assert_eq!(code, 0, "{err}");
        assert_eq!(d.len(), 2 * data.len());
        assert!(d[..data.len()] == data[..] && d[data.len()..] == data[..]);
    }
    // gzip with a file name and comment in the header.
    std::fs::write(dir.path().join("named.sql"), &data[..1000]).unwrap();
    let st = Command::new("gzip")
        .arg("-k")
        .arg(dir.path().join("named.sql"))
        .status()
        .unwrap();
    assert!(st.success());
    let c = std::fs::read(dir.path().join("named.sql.gz")).unwrap();
    let (code, d, _) = run(*ZIP, &["-d"], &c);
    assert_eq!(code, 0);
    assert!(d == data[..1000]);
}

#[test]
fn input_that_is_not_compressed_fails_unless_allowed() {
    let (code, out, err) = run(*ZIP, &["-d"], b"COPY t FROM stdin;\n");
    assert_eq!(code, 3);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "pgpipe-zip: error: the input is neither gzip nor zstd (it starts with bytes 43 4f 50 59)\n\
         pgpipe-zip: hint: pass --allow-plain to pass uncompressed input through\n"
    );
    let (code, out, _) = run(*ZIP, &["-d", "--allow-plain"], b"COPY t FROM stdin;\n");
    assert_eq!(code, 0);
    assert_eq!(out, b"COPY t FROM stdin;\n");
    let (code, out, err) = run(*ZIP, &["-d"], b"");
    assert_eq!(code, 3, "{err}");
    assert!(out.is_empty());
    let (code, out, _) = run(*ZIP, &["-d", "--allow-plain"], b"");
    assert_eq!((code, out.len()), (0, 0));
    let (code, _, err) = run(*ZIP, &["-l", "10", "-F", "gzip"], b"x");
    assert_eq!(code, 2, "{err}");
}

/// Offsets worth cutting or flipping at in a compressed stream of `len`
/// bytes: every header byte, a sample through the body, every trailer byte.
fn offsets(len: usize, boundaries: &[usize]) -> Vec<usize> {
    let mut v: Vec<usize> = (0..len.min(24)).collect();
    let stride = (len / 40).max(1);
    v.extend((0..len).step_by(stride));
    for &b in boundaries {
        v.extend(b.saturating_sub(2)..(b + 3).min(len));
    }
    v.extend(len.saturating_sub(12)..len);
    v.sort_unstable();
    v.dedup();
    v
}

fn fault_inject(plain: &[u8], c: &[u8], name: &str, boundaries: &[usize], undetectable: &[usize]) {
    for cut in offsets(c.len(), boundaries) {
        if boundaries.contains(&cut) {
            continue; // a cut exactly between members/frames is a valid stream
        }
        let mut out = Vec::new();
        let err = zip::decompress(&c[..cut], &mut out, false).unwrap_err();
        assert_fail_closed(
            plain,
            &out,
            err.exit_code(),
            &format!("{name} cut at {cut}: {err}"),
        );
    }
    let mut unnoticed = Vec::new();
    for at in offsets(c.len(), boundaries) {
        if undetectable.contains(&at) {
            continue;
        }
        let mut bad = c.to_vec();
        bad[at] ^= 0x5a;
        let mut out = Vec::new();
        match zip::decompress(&bad[..], &mut out, false) {
            Err(err) => assert_tail_withheld(
                plain,
                &out,
                err.exit_code(),
                &format!("{name} flip at {at}: {err}"),
            ),
            // Bits no decoder reads (the padding after the final deflate
            // block) may flip unnoticed, and then the output is exact.
            Ok(_) => {
                assert!(out == plain, "{name}: flip at {at} went unnoticed");
                unnoticed.push(at);
            }
        }
    }
    assert!(
        unnoticed.len() <= 2,
        "{name}: flips unnoticed at {unnoticed:?}"
    );
}

#[test]
fn corrupted_or_truncated_input_exits_3_and_withholds_the_tail() {
    let plain = dumpish(2 * 1024 * 1024 + 999);
    // gzip header bytes 4..10 (mtime, extra flags, OS) carry no check at all.
    let gz_free: Vec<usize> = (4..10).collect();
    let ours = lib_compress(&plain, Format::Gzip, 6);
    fault_inject(&plain, &ours, "our gzip", &[], &gz_free);
    let (_, pigz, _) = run("pigz", &["-c", "-n"], &plain);
    fault_inject(&plain, &pigz, "pigz", &[], &gz_free);
    let ours = lib_compress(&plain, Format::Zstd, 3);
    fault_inject(&plain, &ours, "our zstd", &[], &[]);
    // Two zstd frames: cuts around the frame boundary.
    let half = plain.len() / 2;
    let mut two = lib_compress(&plain[..half], Format::Zstd, 3);
    let b = two.len();
    two.extend(lib_compress(&plain[half..], Format::Zstd, 3));
    fault_inject(&plain, &two, "two zstd frames", &[b], &[]);
    // Two gzip members.
    let mut two = lib_compress(&plain[..half], Format::Gzip, 6);
    let b = two.len();
    two.extend(lib_compress(&plain[half..], Format::Gzip, 6));
    let mut free = gz_free.clone();
    free.extend((4..10).map(|i| b + i));
    fault_inject(&plain, &two, "two gzip members", &[b], &free);
}

#[test]
fn the_binary_reports_where_and_releases_nothing_of_the_tail() {
    let plain = dumpish(1024 * 1024);
    for fmt in ["gzip", "zstd"] {
        let (_, c, _) = run(*ZIP, &["-F", fmt], &plain);
        for cut in [3, c.len() / 3, c.len() - 1] {
            let (code, out, err) = run(*ZIP, &["-d"], &c[..cut]);
            assert_fail_closed(&plain, &out, code, &format!("{fmt} cut {cut}"));
            assert!(err.starts_with("pgpipe-zip: error: "), "{err}");
            assert!(
                err.contains(&format!("at byte {cut}")) || err.contains("near byte"),
                "{err}"
            );
        }
        let mut bad = c.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        let (code, out, _) = run(*ZIP, &["-d"], &bad);
        assert_tail_withheld(&plain, &out, code, &format!("{fmt} flip"));
    }
    let (_, c, _) = run(*ZIP, &["-F", "gzip"], &plain);
    let (code, _, err) = run(*ZIP, &["-d"], &c[..c.len() - 3]);
    assert_eq!(code, 3);
    assert_eq!(
        err,
        format!(
            "pgpipe-zip: error: gzip stream truncated in the trailer of member 1 at byte {}\n",
            c.len() - 3
        )
    );
    // -o FILE is not created when decoding fails.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.sql");
    let (code, _, _) = run(
        *ZIP,
        &["-d", "-o", target.to_str().unwrap()],
        &c[..c.len() - 3],
    );
    assert_eq!(code, 3);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
