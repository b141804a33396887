//! `--table-and-children`, `--exclude-table-and-children`: a partition's
//! `CREATE TABLE` does not name its
//! parent; pg_dump attaches it later (`ALTER TABLE ONLY parent ATTACH
//! PARTITION child`), still among the definitions. So with that option the
//! definitions are held until the first data (or the next database, or the
//! end), the parents they name are noted, and then they go through the
//! filter as if they had just arrived. Only definitions are held: the data
//! never is, so memory is bounded by the size of the schema, and past
//! [`PRESCAN_LIMIT`] the filter stops with an error that says so.

use super::*;

/// The most definition bytes held before the first data.
pub const PRESCAN_LIMIT: usize = 256 << 20;

/// A segment held, with what its borrowed fields pointed at.
pub(super) struct Held {
    kind: Kind,
    bytes: Vec<u8>,
    offset: u64,
    line: u64,
    encoding: String,
    std_strings: bool,
    copy_rows: u64,
}

/// The pre-scan's state.
pub(super) struct Prescan {
    /// Holding (the option is on and no data has come since the last start).
    pub active: bool,
    held: Vec<Held>,
    bytes: usize,
}

impl Prescan {
    /// Holding from the start when `on` (`--table-and-children`).
    pub fn new(on: bool) -> Prescan {
        Prescan {
            active: on,
            held: Vec::new(),
            bytes: 0,
        }
    }
}

impl Filter<'_, '_> {
    /// Whether `seg` ends the definitions the pre-scan holds: the first
    /// data, a `\connect` (the next database) — or the end of input, which
    /// [`Filter::finish`] handles.
    fn prescan_ends(seg: &Segment<'_>) -> bool {
        match seg.kind {
            Kind::CopyStatement | Kind::CopyData | Kind::CopyPart | Kind::CopyEnd => true,
            Kind::Meta => {
                let name = crate::dump::meta::parse(seg.bytes).name;
                name == b"connect" || name == b"c"
            }
            Kind::Statement => {
                let w = first_words(seg.bytes, 2);
                let is = |i: usize, s: &str| crate::sql::words::word_is(&w, i, s);
                is(0, "insert")
                    || (is(0, "select")
                        && (setval_target(seg.bytes).is_some()
                            || stats_target(seg.bytes).is_some()
                            || find_ci(seg.bytes, b"lo_").is_some()))
            }
            _ => false,
        }
    }

    /// The stage's entry: hold while pre-scanning, else filter.
    pub(super) fn take(&mut self, seg: &Segment<'_>) -> Result<()> {
        if self.prescan.active {
            if !Self::prescan_ends(seg) {
                return self.hold(seg);
            }
            self.replay()?;
        }
        self.process(seg)?;
        if self.opts.prescan() && seg.kind == Kind::Meta && Self::prescan_ends(seg) {
            // The next database's definitions.
            self.prescan.active = true;
        }
        Ok(())
    }

    fn hold(&mut self, seg: &Segment<'_>) -> Result<()> {
        self.prescan.bytes += seg.bytes.len();
        if self.prescan.bytes > PRESCAN_LIMIT {
            return Err(Error::runtime(format!(
                "--table-and-children and --exclude-table-and-children hold the dump's \
                 definitions until its first data, to learn each table's partitions; they pass {} MiB",
                PRESCAN_LIMIT >> 20
            ))
            .at_line(seg.line)
            .with_hint("name the partitions with -t, or filter a dump of fewer schemas"));
        }
        if seg.kind == Kind::Statement {
            self.note_parents(seg);
        }
        self.prescan.held.push(Held {
            kind: seg.kind,
            bytes: seg.bytes.to_vec(),
            offset: seg.offset,
            line: seg.line,
            encoding: seg.encoding.to_string(),
            std_strings: seg.std_strings,
            copy_rows: seg.copy_rows,
        });
        Ok(())
    }

    /// The parents a held statement names (`INHERITS`, `PARTITION OF`,
    /// `ATTACH PARTITION`): what makes a later table a child.
    fn note_parents(&mut self, seg: &Segment<'_>) {
        let s = seg.bytes;
        if find_ci(s, b"attach partition").is_none()
            && find_ci(s, b"inherits").is_none()
            && find_ci(s, b"partition of").is_none()
        {
            return;
        }
        let opts = AnalyzeOptions {
            standard_conforming_strings: seg.std_strings,
            keep_tree: true,
        };
        if let Ok(a) = analysis::analyze_with(s, seg.encoding, &opts) {
            self.note_relations(&a);
        }
    }

    /// Hand the held segments to the filter, in order.
    pub(super) fn replay(&mut self) -> Result<()> {
        self.prescan.active = false;
        self.prescan.bytes = 0;
        let held = std::mem::take(&mut self.prescan.held);
        for h in &held {
            let seg = Segment {
                kind: h.kind,
                bytes: &h.bytes,
                offset: h.offset,
                line: h.line,
                encoding: &h.encoding,
                std_strings: h.std_strings,
                copy_rows: h.copy_rows,
            };
            self.process(&seg)?;
        }
        Ok(())
    }
}
