//! Whether a dump stream has its complete ending.
//!
//! A plain dump is complete when pg_dump's footer
//! (`-- PostgreSQL database dump complete`, or pg_dumpall's
//! `-- PostgreSQL database cluster dump complete`) has been seen with no
//! statement after it, every `\restrict KEY` has been closed by its
//! `\unrestrict KEY`, and the reader found nothing cut. [`Ending`] watches
//! the segments go by and says so; `pgpipe-inspect` reports it and
//! `pgpipe-guard` commits only when it holds.
//!
//! Statements after the footer are what other programs append to a dump
//! (Rails' `INSERT INTO schema_migrations`, the Supabase CLI's `RESET ALL`)
//! as well as what a cut between two whole statements of such a tail would
//! leave, which cannot be told apart: by default they make the dump
//! incomplete, and [`Ending::incomplete`] accepts them only when asked
//! (`--allow-after-footer`), still refusing a cut statement or a dump
//! without any footer.

use super::reader::{Cut, Kind, Segment};

/// Which program wrote the dump, from its banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Producer {
    PgDump,
    PgDumpall,
}

impl Producer {
    pub fn as_str(self) -> &'static str {
        match self {
            Producer::PgDump => "pg_dump",
            Producer::PgDumpall => "pg_dumpall",
        }
    }
}

/// The statements after the last footer: how many, and the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterFooter {
    pub statements: u64,
    /// The line the first one starts on.
    pub first_line: u64,
    /// Its first words (at most [`FIRST_WORDS_CHARS`] characters, whitespace
    /// folded).
    pub first: String,
}

/// How much of a statement's beginning names it in messages.
pub const FIRST_WORDS_CHARS: usize = 72;

/// Why a dump is not complete, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    pub reason: String,
    pub hint: Option<String>,
}

/// The hint for statements after the footer.
pub const AFTER_FOOTER_HINT: &str = "a program or a person added statements after pg_dump's footer (Rails, the Supabase CLI), or the stream holds more than one dump; pass --allow-after-footer to accept whole statements after the footer (a cut between two of them cannot be seen; pgpipe-sum --seal proves a whole file end to end)";

/// Watches segments for the banner, footers and restrict keys.
#[derive(Debug, Default, Clone)]
pub struct Ending {
    producer: Option<Producer>,
    footer_seen: bool,
    cluster_footer_seen: bool,
    after_footer: Option<AfterFooter>,
    open_restrict: Option<String>,
    restrict_keys: Vec<String>,
    bytes: u64,
    /// The last segment ended with a newline (pg_dump's output always does).
    ends_with_newline: bool,
}

/// A `\restrict`/`\unrestrict` pair that does not match: psql would stop there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestrictMismatch {
    pub line: u64,
    pub message: String,
}

impl Ending {
    pub fn new() -> Ending {
        Ending::default()
    }

    pub fn producer(&self) -> Option<Producer> {
        self.producer
    }

    /// The statements after the last footer seen, if any.
    pub fn after_footer(&self) -> Option<&AfterFooter> {
        self.after_footer.as_ref()
    }

    /// Keys of the `\restrict` lines seen, in order.
    pub fn restrict_keys(&self) -> &[String] {
        &self.restrict_keys
    }

    /// The key of a `\restrict` not yet closed.
    pub fn open_restrict(&self) -> Option<&str> {
        self.open_restrict.as_deref()
    }

    /// Look at the next segment.
    pub fn observe(&mut self, seg: &Segment<'_>) -> Option<RestrictMismatch> {
        self.bytes += seg.bytes.len() as u64;
        if let Some(&last) = seg.bytes.last() {
            self.ends_with_newline = last == b'\n';
        }
        match seg.kind {
            Kind::Comment => {
                match seg.bytes.trim_ascii_end() {
                    b"-- PostgreSQL database dump" => {
                        self.producer.get_or_insert(Producer::PgDump);
                        self.footer_seen = false;
                    }
                    b"-- PostgreSQL database cluster dump" => {
                        self.producer = Some(Producer::PgDumpall);
                    }
                    b"-- PostgreSQL database dump complete" => {
                        self.footer_seen = true;
                        self.after_footer = None;
                    }
                    b"-- PostgreSQL database cluster dump complete" => {
                        self.cluster_footer_seen = true;
                        self.footer_seen = true;
                        self.after_footer = None;
                    }
                    _ => {}
                }
                None
            }
            Kind::Statement | Kind::CopyStatement => {
                if self.footer_seen {
                    match &mut self.after_footer {
                        Some(a) => a.statements += 1,
                        None => self.after_footer = Some(first_statement(seg)),
                    }
                }
                None
            }
            // A meta-command cut by the end of input is not run.
            Kind::Meta if seg.bytes.ends_with(b"\n") => self.meta(seg.bytes, seg.line),
            _ => None,
        }
    }

    fn meta(&mut self, bytes: &[u8], line: u64) -> Option<RestrictMismatch> {
        let m = super::meta::parse(bytes);
        let cmd = m.name;
        let key = m
            .args
            .first()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        let mismatch = |message: String| Some(RestrictMismatch { line, message });
        match cmd {
            b"restrict" => {
                let prev = self.open_restrict.replace(key.clone());
                self.restrict_keys.push(key.clone());
                prev.and_then(|open| {
                    mismatch(format!(
                        "\\restrict {key} while \\restrict {open} is still open"
                    ))
                })
            }
            b"unrestrict" => match self.open_restrict.take() {
                Some(open) if open == key => None,
                Some(open) => {
                    let m = mismatch(format!(
                        "\\unrestrict {key} does not match \\restrict {open}"
                    ));
                    self.open_restrict = Some(open);
                    m
                }
                None => mismatch(format!("\\unrestrict {key} without a \\restrict")),
            },
            _ => None,
        }
    }

    /// Why the stream seen so far is not a complete dump, given where the
    /// reader found it cut; `None` when it is complete.
    pub fn incomplete_reason(&self, cut: Option<&Cut>) -> Option<String> {
        self.incomplete(cut, false).map(|i| i.reason)
    }

    /// [`Ending::incomplete_reason`] with a hint; with `allow_after_footer`,
    /// whole statements after the last footer do not make the dump
    /// incomplete.
    pub fn incomplete(&self, cut: Option<&Cut>, allow_after_footer: bool) -> Option<Incomplete> {
        let plain = |reason: String| Some(Incomplete { reason, hint: None });
        if let Some(cut) = cut {
            return plain(match cut {
                Cut::Statement { line, inside } => format!(
                    "input ends inside the statement that starts at line {line} (inside {inside})"
                ),
                Cut::Copy { line, rows } => format!(
                    "input ends inside the COPY data that starts at line {line}, after {rows} complete rows"
                ),
            });
        }
        if self.bytes == 0 {
            return plain("input is empty".into());
        }
        if !self.ends_with_newline {
            return plain("input ends in the middle of a line".into());
        }
        if self.producer == Some(Producer::PgDumpall) && !self.cluster_footer_seen {
            return plain(
                "the \"-- PostgreSQL database cluster dump complete\" footer is missing".into(),
            );
        }
        if !self.footer_seen {
            return plain("the \"-- PostgreSQL database dump complete\" footer is missing".into());
        }
        if let Some(a) = &self.after_footer
            && !allow_after_footer
        {
            let more = match a.statements {
                1 => "1 statement follows".to_string(),
                n => format!("{n} statements follow"),
            };
            return Some(Incomplete {
                reason: format!(
                    "{more} the last \"dump complete\" footer (the first at line {}: {})",
                    a.first_line, a.first
                ),
                hint: Some(AFTER_FOOTER_HINT.into()),
            });
        }
        if let Some(key) = &self.open_restrict {
            return plain(format!("the final \\unrestrict {key} is missing"));
        }
        None
    }
}

/// An [`AfterFooter`] for its first statement.
fn first_statement(seg: &Segment<'_>) -> AfterFooter {
    let start = crate::sql::words::skip_blank(seg.bytes, 0);
    let line = seg.line + super::reader::count_newlines(&seg.bytes[..start]);
    let text = String::from_utf8_lossy(&seg.bytes[start..]);
    let mut first = String::new();
    for word in text.split_whitespace() {
        if first.chars().count() + word.chars().count() + 1 > FIRST_WORDS_CHARS {
            if first.is_empty() {
                first = word.chars().take(FIRST_WORDS_CHARS).collect();
            }
            first.push_str(" ...");
            break;
        }
        if !first.is_empty() {
            first.push(' ');
        }
        first.push_str(word);
    }
    AfterFooter {
        statements: 1,
        first_line: line,
        first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::Reader;

    fn reason(dump: &[u8]) -> Option<String> {
        let mut r = Reader::new(dump);
        let mut e = Ending::new();
        while let Some(s) = r.next_segment().unwrap() {
            e.observe(&s);
        }
        e.incomplete_reason(r.cut())
    }

    const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict K1\n\nSET a = 1;\n\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict K1\n\n";

    #[test]
    fn complete_and_cut_dumps() {
        assert_eq!(reason(DUMP.as_bytes()), None);
        let cut = DUMP.find("\\unrestrict").unwrap();
        assert_eq!(
            reason(&DUMP.as_bytes()[..cut]),
            Some("the final \\unrestrict K1 is missing".into())
        );
        let cut = DUMP
            .find("--\n-- PostgreSQL database dump complete")
            .unwrap();
        assert!(
            reason(&DUMP.as_bytes()[..cut])
                .unwrap()
                .contains("footer is missing")
        );
        assert_eq!(reason(b""), Some("input is empty".into()));
        // Cut just before the last newline: the last line may be cut too.
        let cut = DUMP.trim_end().len();
        assert_eq!(
            reason(&DUMP.as_bytes()[..cut]),
            Some("input ends in the middle of a line".into())
        );
        let wrong = DUMP.replace("\\unrestrict K1", "\\unrestrict K2");
        assert!(
            reason(wrong.as_bytes())
                .unwrap()
                .contains("\\unrestrict K1")
        );
    }

    #[test]
    fn statements_after_the_footer() {
        let dump = DUMP.replace(
            "\\unrestrict K1\n\n",
            "\\unrestrict K1\n\n-- added\nINSERT INTO schema_migrations (version)\n  VALUES ('20171219001521'), ('20171230220225'), ('20180113211343');\nRESET ALL;\n",
        );
        let mut r = Reader::new(dump.as_bytes());
        let mut e = Ending::new();
        while let Some(s) = r.next_segment().unwrap() {
            e.observe(&s);
        }
        let strict = e.incomplete(r.cut(), false).unwrap();
        assert_eq!(
            strict.reason,
            "2 statements follow the last \"dump complete\" footer (the first at line 16: INSERT INTO schema_migrations (version) VALUES ('20171219001521'), ...)"
        );
        assert!(strict.hint.unwrap().contains("--allow-after-footer"));
        assert_eq!(e.incomplete(r.cut(), true), None);
        assert_eq!(e.after_footer().unwrap().statements, 2);
        // A cut statement after the footer, or no footer at all, is still
        // incomplete.
        let cut = &dump[..dump.len() - 3];
        assert!(
            reason(cut.as_bytes())
                .unwrap()
                .contains("inside the statement")
        );
        let no_footer = "SET a = 1;\nINSERT INTO t VALUES (1);\n";
        let mut r = Reader::new(no_footer.as_bytes());
        let mut e = Ending::new();
        while let Some(s) = r.next_segment().unwrap() {
            e.observe(&s);
        }
        assert!(
            e.incomplete(r.cut(), true)
                .unwrap()
                .reason
                .contains("footer is missing")
        );
    }
}
