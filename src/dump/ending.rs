//! Whether a dump stream has its complete ending.
//!
//! A plain dump is complete when pg_dump's footer
//! (`-- PostgreSQL database dump complete`, or pg_dumpall's
//! `-- PostgreSQL database cluster dump complete`) has been seen with no
//! statement after it, every `\restrict KEY` has been closed by its
//! `\unrestrict KEY`, and the reader found nothing cut. [`Ending`] watches
//! the segments go by and says so; `pgpipe-inspect` reports it and
//! `pgpipe-guard` commits only when it holds.

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

/// Watches segments for the banner, footers and restrict keys.
#[derive(Debug, Default, Clone)]
pub struct Ending {
    producer: Option<Producer>,
    footer_seen: bool,
    cluster_footer_seen: bool,
    statements_after_footer: bool,
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
                        self.statements_after_footer = false;
                    }
                    b"-- PostgreSQL database cluster dump complete" => {
                        self.cluster_footer_seen = true;
                        self.footer_seen = true;
                        self.statements_after_footer = false;
                    }
                    _ => {}
                }
                None
            }
            Kind::Statement | Kind::CopyStatement => {
                if self.footer_seen {
                    self.statements_after_footer = true;
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
        if let Some(cut) = cut {
            return Some(match cut {
                Cut::Statement { line, inside } => format!(
                    "input ends inside the statement that starts at line {line} (inside {inside})"
                ),
                Cut::Copy { line, rows } => format!(
                    "input ends inside the COPY data that starts at line {line}, after {rows} complete rows"
                ),
            });
        }
        if self.bytes == 0 {
            return Some("input is empty".into());
        }
        if !self.ends_with_newline {
            return Some("input ends in the middle of a line".into());
        }
        if self.producer == Some(Producer::PgDumpall) && !self.cluster_footer_seen {
            return Some(
                "the \"-- PostgreSQL database cluster dump complete\" footer is missing".into(),
            );
        }
        if !self.footer_seen {
            return Some("the \"-- PostgreSQL database dump complete\" footer is missing".into());
        }
        if self.statements_after_footer {
            return Some("statements follow the last \"dump complete\" footer".into());
        }
        if let Some(key) = &self.open_restrict {
            return Some(format!("the final \\unrestrict {key} is missing"));
        }
        None
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
}
