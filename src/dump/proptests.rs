//! Properties of the dump reader on arbitrary bytes and on real dumps
//! (the repository's fixture and demo dumps).

use super::{Kind, Reader};
use proptest::prelude::*;

use super::reader::tests::Chunked;

/// The segments, and the error that stopped the reader (its exit code,
/// line and message) if one did.
type Read_ = (
    Vec<(Kind, Vec<u8>, u64, u64)>,
    Option<(i32, Option<u64>, String)>,
);

fn segments(data: &[u8], chunk: usize) -> Read_ {
    let mut r = Reader::new(Chunked { data, chunk });
    let mut out = Vec::new();
    loop {
        match r.next_segment() {
            Ok(Some(s)) => out.push((s.kind, s.bytes.to_vec(), s.offset, s.line)),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some((e.exit_code(), e.line, e.message))),
        }
    }
}

/// Segments concatenate to the input, or to the part before the one
/// error the reader may stop at: a NUL byte (integrity, exit 3), or a form
/// on which psql would send something else (exit 1). Neither depends on
/// how reads split the input.
fn check_identity(data: &[u8]) {
    let (whole, error) = segments(data, usize::MAX);
    let joined: Vec<u8> = whole.iter().flat_map(|s| s.1.iter().copied()).collect();
    match &error {
        None => assert_eq!(joined, data, "segments must concatenate to the input"),
        Some((code, _, message)) => {
            assert!(
                data.starts_with(&joined),
                "segments are a prefix of the input"
            );
            if let Some(nul) = memchr::memchr(0, data) {
                // Nothing at or after the NUL's segment is handed out.
                assert!(joined.len() <= nul, "a segment with a NUL was handed out");
            }
            assert!(
                (*code == 3 && message.contains("NUL byte"))
                    || (*code == 1
                        && [
                            "backslash",
                            "psql lexes",
                            "psql variable",
                            "what psql runs is not"
                        ]
                        .iter()
                        .any(|m| message.contains(m))),
                "unexpected error {code}: {message}"
            );
        }
    }
    let mut offset = 0u64;
    let mut line = 1u64;
    for s in &whole {
        assert_eq!(s.2, offset, "offsets are contiguous");
        assert_eq!(s.3, line, "line numbers follow the newlines");
        assert!(!s.1.is_empty(), "no empty segments");
        offset += s.1.len() as u64;
        line += s.1.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    for chunk in [1, 2, 3, 7, 4096] {
        assert_eq!(
            segments(data, chunk),
            (whole.clone(), error.clone()),
            "read size {chunk}"
        );
    }
}

/// Bytes that are mostly dump syntax, so the interesting paths are hit.
fn dumpish() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop::sample::select(vec![
        &b"SELECT 1;"[..],
        b"'",
        b"''",
        b"E'",
        b"\\",
        b"\"",
        b"$$",
        b"$a$",
        b"--",
        b"/*",
        b"*/",
        b";",
        b"\n",
        b"\r\n",
        b"(",
        b")",
        b"COPY t FROM stdin;\n",
        b"\\.\n",
        b"\\.",
        b"\\connect db\n",
        b"SET standard_conforming_strings = off;\n",
        b"CREATE FUNCTION f() BEGIN ATOMIC ",
        b"END",
        b"CASE",
        b" ",
        b"x",
        b"\xff\xfe",
        b"\0",
        b"\\g\n",
        b"\\; ",
        b"\\set x 1 \\\\ ",
        b"SET client_encoding = 'SJIS';\n",
        b"\x95\x5c",
        b"B'",
        b"RESET standard_conforming_strings;\n",
    ]);
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes_round_trip(data in prop::collection::vec(any::<u8>(), 0..3000)) {
        check_identity(&data);
    }

    #[test]
    fn dumpish_bytes_round_trip(data in dumpish()) {
        check_identity(&data);
    }
}

#[test]
fn committed_pg17_dump_round_trips_and_is_classified() {
    let dump = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pg17/db1.plain.sql"
    ))
    .unwrap();
    check_identity(&dump);
    let (segs, error) = segments(&dump, usize::MAX);
    assert_eq!(error, None);
    let count = |k: Kind| segs.iter().filter(|s| s.0 == k).count();
    assert_eq!(count(Kind::Incomplete), 0);
    assert_eq!(count(Kind::CopyStatement), count(Kind::CopyEnd));
    // The rows that look like dump syntax stay inside COPY data.
    let copy_data: Vec<u8> = segs
        .iter()
        .filter(|s| s.0 == Kind::CopyData)
        .flat_map(|s| s.1.clone())
        .collect();
    for needle in [
        &b"ALTER TABLE x OWNER TO alice;"[..],
        b"\\\\connect foo",
        b"-- Name: fake; Type: TABLE; Schema: app; Owner: alice",
    ] {
        assert!(
            memchr::memmem::find(&copy_data, needle).is_some(),
            "{:?} is COPY data",
            String::from_utf8_lossy(needle)
        );
    }
    // The BEGIN ATOMIC procedure is one statement.
    assert!(segs.iter().any(|s| s.0 == Kind::Statement
        && s.1.starts_with(b"CREATE PROCEDURE app.p1()")
        && s.1.ends_with(b"END;\n")));
}
