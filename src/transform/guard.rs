//! `pgpipe-guard`: make a restore all-or-nothing.
//!
//! psql commits whatever it was given when a dump ends early, even with
//! `ON_ERROR_STOP` and `--single-transaction`. The guard sits directly in
//! front of psql and changes what psql sees:
//!
//! * first `\set ON_ERROR_STOP on` (before the dump's `\restrict`, where psql
//!   still accepts meta-commands), then `BEGIN;`;
//! * the dump itself, but only complete statements, complete COPY rows and
//!   complete lines: what the end of input cut is withheld;
//! * `COMMIT;` only once the reader has seen the dump's complete ending
//!   (footer, and the final `\unrestrict` with the key the dump opened with),
//!   and with `--require-seal` a valid `pgpipe-sum --seal` line; with
//!   `--allow-after-footer` whole statements after the footer do not stop
//!   the commit;
//! * otherwise, after ending any open COPY with `\.`, a statement that raises
//!   an error naming the cause, so psql stops (exit 3) and the server rolls
//!   the transaction back. The guard itself exits 3.
//!
//! `--per-database` wraps each database's section (the parts between
//! `\connect` lines) in its own transaction, for pg_dumpall output and
//! `pg_dump -C`; statements that cannot run in a transaction block
//! (`CREATE DATABASE`, `CREATE TABLESPACE`, …) run between transactions.
//! `--no-transaction` adds no transaction at all and only injects the
//! failing statement, and poisons a cut COPY so its rows are not committed.

use std::io::{Read, Write};

use crate::codec::digest::{Algorithm, Hasher};
use crate::dump::{Ending, Kind, Segment};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Progress;
use crate::sql::words::{copy_target, first_words, starts_with_words};

/// How the guard wraps the dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One transaction around the whole dump (the default).
    #[default]
    Single,
    /// One transaction per database section.
    PerDatabase,
    /// No transaction: completeness check and failing statement only.
    NoTransaction,
}

/// Options of [`guard`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub mode: Mode,
    /// Demand a valid `pgpipe-sum --seal` line at the end before committing.
    pub require_seal: bool,
    /// Commit whole statements after the dump's footer too.
    pub allow_after_footer: bool,
    /// Largest statement accepted, in bytes.
    pub max_statement: usize,
}

/// What the guard adds before the dump.
pub const PREAMBLE: &str = "\\set ON_ERROR_STOP on\n";

/// A COPY row that no table accepts (more fields than a table can have
/// columns), sent before `\.` when a COPY is cut in `--no-transaction`
/// mode, so the server rejects the whole COPY instead of committing the
/// rows received.
fn poison_row() -> Vec<u8> {
    let mut row = vec![b'\t'; 1700];
    row.push(b'\n');
    row
}

struct Guard<'a, W: Write> {
    out: W,
    opts: &'a Options,
    ending: Ending,
    seal: SealCheck,
    last_byte: u8,
    copy_table: Option<String>,
    copy_rows: u64,
    mid_row: bool,
    in_transaction: bool,
}

/// Run the guard from `input` to `out`. On an incomplete or unverifiable
/// dump the output ends with a failing statement and the error returned is
/// an integrity error (exit 3); a dump that cannot be restored in the
/// chosen mode gives a runtime error (exit 1), also after a failing
/// statement.
pub fn guard<R: Read, W: Write>(
    input: R,
    out: W,
    opts: &Options,
    progress: &Progress,
) -> Result<()> {
    let mut g = Guard {
        out,
        opts,
        ending: Ending::new(),
        seal: SealCheck::default(),
        last_byte: b'\n',
        copy_table: None,
        copy_rows: 0,
        mid_row: false,
        in_transaction: false,
    };
    g.write(PREAMBLE.as_bytes())?;
    if opts.mode != Mode::NoTransaction {
        g.write(b"BEGIN;\n")?;
        g.in_transaction = true;
    }
    let summary = crate::dump::drive(input, opts.max_statement, progress, &mut g)?;
    // End of input: commit only a complete, verified dump.
    let mut incomplete = g
        .ending
        .incomplete(summary.cut.as_ref(), opts.allow_after_footer);
    if incomplete.is_none() && opts.require_seal {
        incomplete = g
            .seal
            .verdict()
            .map(|reason| crate::dump::ending::Incomplete { reason, hint: None });
    }
    if let Some(incomplete) = incomplete {
        let reason = match (&g.copy_table, summary.cut.as_ref()) {
            (Some(table), Some(crate::dump::Cut::Copy { rows, .. })) => {
                format!("input ended inside COPY {table} after {rows} rows")
            }
            _ => incomplete.reason,
        };
        let mut err = Error::integrity(reason);
        if let Some(hint) = incomplete.hint {
            err = err.with_hint(hint);
        }
        return g.fail(err);
    }
    if g.in_transaction {
        g.write(b"COMMIT;\n")?;
    }
    g.out.flush().map_err(|e| Error::io("write error", e))?;
    Ok(())
}

impl<W: Write> crate::dump::Stage for Guard<'_, W> {
    fn segment(&mut self, seg: &Segment<'_>) -> Result<()> {
        if let Some(m) = self.ending.observe(seg) {
            // psql would refuse this \unrestrict: stop here, still restricted,
            // with a statement that fails.
            return self.fail(Error::integrity(format!("line {}: {}", m.line, m.message)));
        }
        if self.opts.require_seal && seg.kind != Kind::Incomplete {
            self.seal.observe(seg);
        }
        match seg.kind {
            Kind::Blank | Kind::Comment => {
                if seg.kind == Kind::Comment && ends_unterminated(seg.bytes) {
                    // A last line without its newline: a cut line, or the
                    // real end. Hold it: the end of input decides.
                    return self.write_last_line(seg.bytes);
                }
                self.write(seg.bytes)
            }
            Kind::Meta => {
                if ends_unterminated(seg.bytes) {
                    // A meta-command cut by the end of input must not run.
                    return self.write_last_line(seg.bytes);
                }
                let cmd = crate::dump::meta::parse(seg.bytes).name;
                if cmd == b"connect" || cmd == b"c" {
                    match self.opts.mode {
                        Mode::Single => {
                            return self.refuse(
                                seg.line,
                                "the dump connects to another database (\\connect)",
                            );
                        }
                        // Everything before this line arrived whole: commit it.
                        Mode::PerDatabase => return self.between_transactions(seg.bytes),
                        Mode::NoTransaction => {}
                    }
                }
                self.write(seg.bytes)
            }
            Kind::Statement => {
                let words = first_words(seg.bytes, 2);
                if self.opts.mode != Mode::NoTransaction && is_transaction_control(&words) {
                    // The guard commits once, at the end: the dump's own
                    // transaction control would commit early.
                    let first = String::from_utf8_lossy(seg.bytes.trim_ascii());
                    let first = first.lines().next().unwrap_or_default();
                    return self.inject(&format!(
                        "-- pgpipe-guard: left out \"{}\": the guard commits once, at the end\n",
                        sanitize(first)
                    ));
                }
                if let Some(what) = non_transactional(seg.bytes) {
                    match self.opts.mode {
                        Mode::Single => return self.refuse(seg.line, what),
                        Mode::PerDatabase => return self.between_transactions(seg.bytes),
                        Mode::NoTransaction => {}
                    }
                }
                self.write(seg.bytes)
            }
            Kind::CopyStatement => {
                self.copy_table = Some(match copy_target(seg.bytes) {
                    Some((Some(s), t)) => format!("{s}.{t}"),
                    Some((None, t)) => t,
                    None => "(unknown table)".into(),
                });
                self.copy_rows = 0;
                self.write(seg.bytes)
            }
            Kind::CopyData => {
                self.mid_row = false;
                self.copy_rows = seg.copy_rows;
                self.write(seg.bytes)
            }
            Kind::CopyPart => {
                self.mid_row = true;
                self.write(seg.bytes)
            }
            Kind::CopyEnd => {
                self.copy_table = None;
                if ends_unterminated(seg.bytes) {
                    return self.write_last_line(seg.bytes);
                }
                self.write(seg.bytes)
            }
            // Never send what the end of input cut.
            Kind::Incomplete => Ok(()),
        }
    }

    /// Input the reader refuses is input psql must not commit.
    fn read_error(&mut self, err: Error) -> Result<()> {
        if err.kind == ErrorKind::BrokenPipe {
            return Err(err);
        }
        let why = err.to_string();
        self.fail(Error::integrity(why))
    }
}

impl<W: Write> Guard<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(&b) = bytes.last() {
            self.last_byte = b;
        }
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io("write error", e))
    }

    /// `--per-database`: commit what came before, write `bytes` outside any
    /// transaction, and open the next one.
    fn between_transactions(&mut self, bytes: &[u8]) -> Result<()> {
        self.inject("COMMIT;\n")?;
        self.write(bytes)?;
        self.inject("BEGIN;\n")
    }

    /// Write a line of our own, on a line of its own.
    fn inject(&mut self, line: &str) -> Result<()> {
        if self.last_byte != b'\n' {
            self.write(b"\n")?;
        }
        self.write(line.as_bytes())
    }

    /// A last line without a newline: only pass it on when it is harmless
    /// (a comment). Meta-commands and `\.` without their newline are
    /// treated as cut: [`guard`] decides at the end of input whether the
    /// dump is complete anyway.
    fn write_last_line(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.trim_ascii_start().starts_with(b"--") {
            self.write(bytes)
        } else {
            Ok(())
        }
    }

    /// Stop a dump that cannot be restored in the chosen mode.
    fn refuse(&mut self, line: u64, what: &str) -> Result<()> {
        let err = Error::runtime(format!(
            "{what} at line {line}: it cannot run inside one transaction, so the dump cannot be restored all-or-nothing"
        ))
        .with_hint(
            "pass --per-database (one transaction per database) for pg_dumpall output and pg_dump -C dumps",
        );
        self.fail(err)
    }

    /// End the stream with a statement that makes psql stop, and return `err`.
    fn fail(&mut self, err: Error) -> Result<()> {
        let mut tail = Vec::new();
        if self.copy_table.is_some() {
            if self.mid_row {
                tail.push(b'\n');
            }
            if self.opts.mode == Mode::NoTransaction {
                tail.extend_from_slice(&poison_row());
            }
            tail.extend_from_slice(b"\\.\n");
        }
        let outcome = match self.opts.mode {
            Mode::Single => "nothing was committed",
            Mode::PerDatabase => {
                "this database's section was rolled back; databases completed before stay committed"
            }
            Mode::NoTransaction => {
                "statements before this point were already committed (--no-transaction)"
            }
        };
        let message = sanitize(&format!("pgpipe-guard: {}; {outcome}", err.message));
        let stmt = crate::sql::blocks::guard_failure(&message) + "\n";
        if self.copy_table.is_none() {
            if self.last_byte != b'\n' {
                self.write(b"\n")?;
            }
            // psql drops the rest of a line after a NUL byte and joins the
            // next line to it: a blank line first, so a damaged line before
            // cannot swallow the failing statement (e.g. into a comment).
            self.write(b"\n")?;
        }
        self.write(&tail)?;
        self.write(stmt.as_bytes())?;
        let _ = self.out.flush();
        let mut err = err;
        if err.kind == ErrorKind::Integrity || err.kind == ErrorKind::Runtime {
            err.message = format!("{}; {outcome}", err.message);
        }
        Err(err)
    }
}

fn ends_unterminated(bytes: &[u8]) -> bool {
    bytes.last() != Some(&b'\n')
}

fn is_transaction_control(words: &[&[u8]]) -> bool {
    let Some(first) = words.first() else {
        return false;
    };
    let is = |w: &str| first.eq_ignore_ascii_case(w.as_bytes());
    if is("begin") || is("commit") || is("end") || is("rollback") || is("abort") {
        // Not `BEGIN ATOMIC` bodies (those are inside CREATE statements).
        return true;
    }
    is("start")
        && words
            .get(1)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"transaction"))
}

/// Statements PostgreSQL refuses inside a transaction block.
fn non_transactional(stmt: &[u8]) -> Option<&'static str> {
    const FORMS: &[(&[&str], &str)] = &[
        (&["create", "database"], "CREATE DATABASE"),
        (&["drop", "database"], "DROP DATABASE"),
        (&["create", "tablespace"], "CREATE TABLESPACE"),
        (&["drop", "tablespace"], "DROP TABLESPACE"),
        (&["alter", "system"], "ALTER SYSTEM"),
        (&["vacuum"], "VACUUM"),
        (
            &["create", "index", "concurrently"],
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            &["create", "unique", "index", "concurrently"],
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            &["drop", "index", "concurrently"],
            "DROP INDEX CONCURRENTLY",
        ),
        (&["reindex", "database"], "REINDEX DATABASE"),
        (&["reindex", "system"], "REINDEX SYSTEM"),
    ];
    FORMS
        .iter()
        .find(|(words, _)| starts_with_words(stmt, words))
        .map(|(_, what)| *what)
}

/// Printable ASCII only (the message goes into a SQL literal in whatever
/// client encoding and `standard_conforming_strings` the dump set).
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '\\' && c != '$' || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Checks the `pgpipe-sum --seal` line at the end of the stream.
#[derive(Default)]
struct SealCheck {
    hashers: Option<[Hasher; 2]>,
    /// The last byte seen, not yet hashed (a seal may cover all but a
    /// newline that `--seal` added).
    pending: Option<u8>,
    bytes: u64,
    /// The last seal line and the state just before it, if it was the last thing.
    seal: Option<SealSeen>,
}

struct SealSeen {
    line: Vec<u8>,
    /// Hashers over all bytes before the seal except the last one.
    hashers: [Hasher; 2],
    pending: Option<u8>,
    bytes_before: u64,
}

const SEAL_PREFIX: &[u8] = b"-- pgpipe-seal v1 ";

impl SealCheck {
    fn observe(&mut self, seg: &Segment<'_>) {
        let hashers = self
            .hashers
            .get_or_insert_with(|| [Algorithm::Sha256.hasher(), Algorithm::Blake3.hasher()]);
        if seg.kind == Kind::Comment && seg.bytes.starts_with(SEAL_PREFIX) {
            self.seal = Some(SealSeen {
                line: seg.bytes.to_vec(),
                hashers: hashers.clone(),
                pending: self.pending,
                bytes_before: self.bytes,
            });
        } else if !seg.bytes.is_empty() {
            self.seal = None;
        }
        if let Some(&last) = seg.bytes.last() {
            let mut feed = Vec::new();
            if let Some(p) = self.pending {
                feed.push(p);
            }
            for h in hashers.iter_mut() {
                h.update(&feed);
                h.update(&seg.bytes[..seg.bytes.len() - 1]);
            }
            self.pending = Some(last);
        }
        self.bytes += seg.bytes.len() as u64;
    }

    /// `None` when the stream ends with a seal that matches what precedes it.
    fn verdict(&self) -> Option<String> {
        let Some(seen) = &self.seal else {
            return Some("no pgpipe-sum seal at the end of the stream (--require-seal)".into());
        };
        let line = seen.line.trim_ascii_end();
        let fields: Vec<&[u8]> = line[SEAL_PREFIX.len()..].split(|&b| b == b' ').collect();
        let malformed = || {
            Some(format!(
                "malformed seal line: {}",
                String::from_utf8_lossy(line)
            ))
        };
        let [algo, hex, count] = fields.as_slice() else {
            return malformed();
        };
        let which = match *algo {
            b"sha256" => 0,
            b"blake3" => 1,
            _ => return malformed(),
        };
        let Some(count) = std::str::from_utf8(count)
            .ok()
            .and_then(|c| c.parse::<u64>().ok())
        else {
            return malformed();
        };
        let mut h = seen.hashers[which].clone();
        let got = if count == seen.bytes_before {
            if let Some(p) = seen.pending {
                h.update(&[p]);
            }
            h.hex()
        } else if count + 1 == seen.bytes_before && seen.pending == Some(b'\n') {
            h.hex()
        } else {
            return Some(format!(
                "the seal covers {count} bytes but {} bytes precede it",
                seen.bytes_before
            ));
        };
        if got.as_bytes() != *hex {
            return Some(format!(
                "{} mismatch: the seal says {}, the stream hashes to {got}",
                String::from_utf8_lossy(algo),
                String::from_utf8_lossy(hex)
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], opts: &Options) -> (Vec<u8>, Option<Error>) {
        let mut out = Vec::new();
        let r = guard(input, &mut out, opts, &Progress::default());
        (out, r.err())
    }

    const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict K1\n\nSET a = 1;\nCOPY public.t (a) FROM stdin;\n1\n2\n\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict K1\n\n";

    #[test]
    fn complete_dump_gets_begin_and_commit_only() {
        let (out, err) = run(DUMP.as_bytes(), &Options::default());
        assert!(err.is_none());
        let want = format!("{PREAMBLE}BEGIN;\n{DUMP}COMMIT;\n");
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn cut_inside_copy_ends_copy_and_raises() {
        let cut = DUMP.find("2\n\\.").unwrap() + 1;
        let (out, err) = run(&DUMP.as_bytes()[..cut], &Options::default());
        let err = err.unwrap();
        assert_eq!(err.kind, ErrorKind::Integrity);
        assert_eq!(
            err.message,
            "input ended inside COPY public.t after 1 rows; nothing was committed"
        );
        let out = String::from_utf8(out).unwrap();
        let want_tail = "COPY public.t (a) FROM stdin;\n1\n\\.\nDO $pgpipe_guard$ BEGIN RAISE EXCEPTION '%', 'pgpipe-guard: input ended inside COPY public.t after 1 rows; nothing was committed'; END $pgpipe_guard$;\n";
        assert!(out.ends_with(want_tail), "{out}");
        assert!(!out.contains("COMMIT"));
    }

    #[test]
    fn cut_statement_is_withheld() {
        let dump = "\\restrict K\nSET a = 1;\nCREATE TABLE t (a int";
        let (out, err) = run(dump.as_bytes(), &Options::default());
        assert!(err.is_some());
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("CREATE TABLE"), "{out}");
        assert!(
            out.contains("inside the statement that starts at line 3"),
            "{out}"
        );
    }

    #[test]
    fn cut_meta_command_and_empty_input() {
        let cut = DUMP.rfind("K1").unwrap();
        let (out, err) = run(&DUMP.as_bytes()[..cut], &Options::default());
        assert!(
            err.unwrap()
                .message
                .contains("input ends in the middle of a line")
        );
        let out = String::from_utf8(out).unwrap();
        assert!(
            !out.contains("\\unrestrict"),
            "a cut meta-command must not run: {out}"
        );
        let (out, err) = run(b"", &Options::default());
        assert!(err.unwrap().message.starts_with("input is empty"));
        assert!(String::from_utf8(out).unwrap().contains("RAISE EXCEPTION"));
    }

    #[test]
    fn connect_is_refused_in_single_mode_and_split_per_database() {
        let dump = "SET a = 1;\n\\connect db1\nSET b = 2;\n-- PostgreSQL database dump complete\n";
        let (out, err) = run(dump.as_bytes(), &Options::default());
        let err = err.unwrap();
        assert_eq!(err.kind, ErrorKind::Runtime);
        assert!(err.message.contains("at line 2"), "{}", err.message);
        assert!(!String::from_utf8(out).unwrap().contains("\\connect"));
        let opts = Options {
            mode: Mode::PerDatabase,
            ..Options::default()
        };
        let (out, err) = run(dump.as_bytes(), &opts);
        assert!(err.is_none());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "{PREAMBLE}BEGIN;\nSET a = 1;\nCOMMIT;\n\\connect db1\nBEGIN;\nSET b = 2;\n-- PostgreSQL database dump complete\nCOMMIT;\n"
            )
        );
    }

    #[test]
    fn non_transactional_statements() {
        let dump = "CREATE DATABASE x;\n-- PostgreSQL database dump complete\n";
        let (_, err) = run(dump.as_bytes(), &Options::default());
        assert!(
            err.unwrap()
                .message
                .starts_with("CREATE DATABASE at line 1")
        );
        let opts = Options {
            mode: Mode::PerDatabase,
            ..Options::default()
        };
        let (out, err) = run(dump.as_bytes(), &opts);
        assert!(err.is_none());
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("COMMIT;\nCREATE DATABASE x;\nBEGIN;\n")
        );
    }

    #[test]
    fn no_transaction_poisons_a_cut_copy() {
        let cut = DUMP.find("2\n\\.").unwrap() + 1;
        let opts = Options {
            mode: Mode::NoTransaction,
            ..Options::default()
        };
        let (out, err) = run(&DUMP.as_bytes()[..cut], &opts);
        assert!(err.is_some());
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("BEGIN;"));
        assert!(out.contains(&format!("1\n{}\\.\n", "\t".repeat(1700) + "\n")));
    }

    #[test]
    fn seals_are_verified() {
        let mut sealed = Vec::new();
        crate::codec::digest::seal(DUMP.as_bytes(), &mut sealed, Algorithm::Sha256).unwrap();
        let opts = Options {
            require_seal: true,
            ..Options::default()
        };
        let (out, err) = run(&sealed, &opts);
        assert!(err.is_none(), "{err:?}");
        assert!(String::from_utf8(out).unwrap().ends_with("COMMIT;\n"));
        // Unsealed, or sealed over other bytes: no commit.
        let (_, err) = run(DUMP.as_bytes(), &opts);
        assert!(err.unwrap().message.contains("no pgpipe-sum seal"));
        let mut tampered = sealed.clone();
        let i = memchr::memmem::find(&tampered, b"SET a = 1").unwrap();
        tampered[i + 8] = b'2';
        let (_, err) = run(&tampered, &opts);
        assert!(err.unwrap().message.contains("sha256 mismatch"));
        // A dump without a final newline: --seal adds one before the seal line.
        let mut sealed = Vec::new();
        let bare = DUMP.trim_end();
        crate::codec::digest::seal(bare.as_bytes(), &mut sealed, Algorithm::Blake3).unwrap();
        let (_, err) = run(&sealed, &opts);
        assert!(err.is_none(), "{err:?}");
    }

    #[test]
    fn own_transaction_control_is_left_out() {
        let dump = "BEGIN;\nSET a = 1;\nCOMMIT;\n-- PostgreSQL database dump complete\n";
        let (out, err) = run(dump.as_bytes(), &Options::default());
        assert!(err.is_none());
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.matches("COMMIT;\n").count(), 1, "{out}");
        assert!(out.ends_with("-- PostgreSQL database dump complete\nCOMMIT;\n"));
    }
}
