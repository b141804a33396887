//! What psql sent to a server, from the server's own statement log, beside
//! what pgpipe's reader read: the two views the psql oracle compares.
//!
//! A server started with [`LOG_OPTIONS`] logs every statement it receives
//! (`log_statement=all`, CSV) and the query of every error (how a
//! statement that does not parse shows up). [`statements`] reads the
//! statements one psql session (known by its application name) sent;
//! [`reader_statements`] gives pgpipe's `Statement` and `CopyStatement`
//! segments in the same form: trimmed, in the server's encoding (UTF8),
//! without the empty lines psql leaves out.

use std::path::Path;
use std::time::{Duration, Instant};

use pgpipe::dump::{Kind, Reader};

use super::{Server, exit_code, run};

/// Server options that log every statement to `pglog/statements.csv` of
/// the data directory.
pub const LOG_OPTIONS: &str = "-c logging_collector=on -c log_destination=csvlog \
     -c log_directory=pglog -c log_filename=statements.log -c log_statement=all \
     -c log_rotation_size=0 -c log_min_error_statement=error";

/// Columns of PostgreSQL's CSV log (13 to 18 share these positions).
const SEVERITY: usize = 11;
const MESSAGE: usize = 13;
const QUERY: usize = 19;
const APPLICATION: usize = 22;

/// The statements the psql session with application name `app` sent to
/// `server` (logging to `csv`) in database `db`, in order, each with
/// whether it failed. Waits until the log holds everything before a marker
/// statement sent after that session ended.
pub fn statements_with_errors(
    server: &Server,
    csv: &Path,
    db: &str,
    app: &str,
) -> Vec<(Vec<u8>, bool)> {
    // A marker statement from another session: once it is in the log, so
    // is everything before it (one log file, written in order).
    let marker = format!("SELECT 'marker {app}'");
    let mut cmd = server.command("psql");
    cmd.args(["-X", "-q", "-d", db, "-c", &marker])
        .env("PGAPPNAME", format!("{app}_marker"));
    let out = run(&mut cmd, None);
    assert_eq!(
        exit_code(&out),
        0,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let started = Instant::now();
    let rows = loop {
        let text = std::fs::read(csv).unwrap_or_default();
        let rows = csv_rows(&text);
        if rows.iter().any(|r| {
            r.get(MESSAGE)
                .is_some_and(|m| m.ends_with(marker.as_bytes()))
        }) {
            break rows;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the log lacks {marker}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut got: Vec<(Vec<u8>, bool)> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.get(APPLICATION).is_some_and(|a| *a == app.as_bytes()))
    {
        let (Some(severity), Some(message)) = (r.get(SEVERITY), r.get(MESSAGE)) else {
            continue;
        };
        if severity == b"LOG" {
            if let Some(s) = message.strip_prefix(b"statement: ") {
                got.push((without_empty_lines(s), false));
            }
        } else if severity == b"ERROR"
            && let Some(q) = r.get(QUERY)
            && !q.is_empty()
        {
            let q = without_empty_lines(q);
            match got.last_mut() {
                Some((last, failed)) if *last == q => *failed = true,
                // A statement that did not parse is logged only with its error.
                _ => got.push((q, true)),
            }
        }
    }
    got
}

/// [`statements_with_errors`] without the errors.
pub fn statements(server: &Server, csv: &Path, db: &str, app: &str) -> Vec<Vec<u8>> {
    statements_with_errors(server, csv, db, app)
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// A statement without its empty lines: psql leaves out the empty lines of
/// a statement that are not inside a quote or a comment (and keeps those
/// that are; no test input has one), so they are not compared.
pub fn without_empty_lines(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if b == b'\n' && out.last() == Some(&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

/// Rows of a CSV file (quoted fields, `""` inside quotes, newlines allowed).
fn csv_rows(text: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if quoted {
            if b == b'"' {
                if text.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    quoted = false;
                }
            } else {
                field.push(b);
            }
        } else {
            match b {
                b'"' => quoted = true,
                b',' => row.push(std::mem::take(&mut field)),
                b'\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(b),
            }
        }
        i += 1;
    }
    rows
}

/// What the reader made of a stream.
#[derive(Debug)]
pub struct ReaderView {
    pub statements: Vec<Vec<u8>>,
    /// Indexes of the COPY statements among [`ReaderView::statements`].
    pub copies: Vec<usize>,
    /// The stream was cut inside a statement (psql sends that too).
    pub cut: bool,
    /// The error the reader stopped at: (exit code, message).
    pub error: Option<(i32, String)>,
}

/// The reader's statements of `stream`, as psql sends them.
pub fn reader_view(stream: &[u8]) -> ReaderView {
    let mut r = Reader::new(stream);
    let mut v = ReaderView {
        statements: Vec::new(),
        copies: Vec::new(),
        cut: false,
        error: None,
    };
    loop {
        match r.next_segment() {
            Ok(Some(seg)) => match seg.kind {
                Kind::Statement | Kind::CopyStatement => {
                    if seg.kind == Kind::CopyStatement {
                        v.copies.push(v.statements.len());
                    }
                    // What psql sends: the statement from its first token to
                    // its `;`, as text in the server's encoding (UTF8).
                    let text = pgpipe::sql::encoding::decode(seg.bytes.trim_ascii(), seg.encoding)
                        .map(|d| d.text.into_owned().into_bytes())
                        .unwrap_or_else(|_| seg.bytes.trim_ascii().to_vec());
                    v.statements.push(without_empty_lines(&text));
                }
                Kind::Incomplete => v.cut = seg.bytes.iter().any(|b| !b.is_ascii_whitespace()),
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                v.error = Some((e.exit_code(), e.message));
                break;
            }
        }
    }
    v
}

/// The reader's statements of a stream it reads whole, or its error.
pub fn reader_statements(stream: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let v = reader_view(stream);
    match v.error {
        Some((code, message)) => Err(format!("the reader refused the stream ({code}): {message}")),
        None => Ok(v.statements),
    }
}

/// Where two statement lists first differ, with up to three statements of
/// each from there.
pub fn diff(got: &[Vec<u8>], want: &[Vec<u8>]) -> String {
    let i = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let show = |v: &[Vec<u8>]| {
        v.iter()
            .skip(i)
            .take(3)
            .map(|s| format!("    {:?}", String::from_utf8_lossy(s)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "  statement {i} of {} (psql) / {} (pgpipe)\n  psql sent:\n{}\n  pgpipe read:\n{}",
        got.len(),
        want.len(),
        show(got),
        show(want)
    )
}
