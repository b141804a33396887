//! The segment reader: a plain dump stream as statements, comments,
//! meta-commands and COPY data, byte for byte.
//!
//! Concatenating the `bytes` of every [`Segment`] gives back the input
//! exactly, whatever the input is (even arbitrary binary data), and the
//! segments do not depend on how the underlying reader splits its reads.
//!
//! Memory is bounded: COPY data streams through in blocks (rows are kept
//! whole up to [`MAX_ROW`], longer rows stream in [`Kind::CopyPart`]
//! pieces); one statement may grow the buffer up to the configured limit,
//! past which reading fails with an error naming the statement's line.

use std::io::{self, Read};

use memchr::{memchr, memmem, memrchr};

use super::lexer::{Lexer, Scan};
use crate::BLOCK;
use crate::error::{Error, Result};

/// Default limit for one statement: 1 GiB.
pub const DEFAULT_STATEMENT_LIMIT: usize = 1 << 30;

/// COPY rows up to this size are always delivered whole.
pub const MAX_ROW: usize = 8 << 20;

/// What a segment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A line holding only whitespace (or the whitespace before a mid-line segment).
    Blank,
    /// A `--` comment line (outside any statement), newline included.
    Comment,
    /// A psql meta-command line (`\connect`, `\restrict`, …), newline included.
    Meta,
    /// A complete SQL statement: from its first byte to its `;`, plus the
    /// rest of the line when that is only whitespace. Comments inside it are
    /// part of it.
    Statement,
    /// A complete `COPY … FROM stdin;` statement; COPY data follows.
    CopyStatement,
    /// COPY data: one or more complete rows, each ending in a newline.
    CopyData,
    /// A piece of a COPY row longer than [`MAX_ROW`]; the row goes on in the
    /// next segment.
    CopyPart,
    /// The `\.` line that ends COPY data, newline included.
    CopyEnd,
    /// Bytes cut off by the end of input: a statement without its end, or
    /// the last COPY row without its newline. See [`Reader::cut`].
    Incomplete,
}

/// One piece of the input.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub kind: Kind,
    pub bytes: &'a [u8],
    /// Byte offset of the first byte in the input.
    pub offset: u64,
    /// 1-based line number of the first byte.
    pub line: u64,
    /// The client encoding in force (as the dump set it; `UTF8` until it does).
    pub encoding: &'a str,
    /// The `standard_conforming_strings` setting in force after this segment.
    pub std_strings: bool,
    /// Complete rows so far in the current (or last) COPY block, this segment included.
    pub copy_rows: u64,
}

/// Where the input ended, when it did not end cleanly between statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// Inside a statement; `inside` says in what (a string, a function body…).
    Statement { line: u64, inside: &'static str },
    /// Inside COPY data (no `\.` seen), after `rows` complete rows.
    Copy { line: u64, rows: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between statements, at the start of a line.
    LineStart,
    /// Between statements, in the middle of a line (after a `;`).
    MidLine,
    /// In COPY data at the start of a row.
    Copy,
    /// In COPY data in the middle of a long row.
    CopyMidRow,
    Done,
}

/// Splits a plain-format dump into [`Segment`]s. See the module docs.
pub struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Unconsumed data is `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    state: State,
    lexer: Lexer,
    statement_limit: usize,
    /// Input offset of `buf[start]`.
    offset: u64,
    /// Line number of `buf[start]`.
    line: u64,
    std_strings: bool,
    encoding: String,
    copy_rows: u64,
    copy_line: u64,
    crlf_lines: u64,
    cut: Option<Cut>,
    ends_with_newline: bool,
    /// Input offset of the first NUL byte read, if any.
    nul_at: Option<u64>,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Reader<R> {
        Reader::with_limit(inner, DEFAULT_STATEMENT_LIMIT)
    }

    /// A reader whose statements may be at most `statement_limit` bytes
    /// (0 means [`DEFAULT_STATEMENT_LIMIT`]).
    pub fn with_limit(inner: R, statement_limit: usize) -> Reader<R> {
        Reader {
            inner,
            buf: vec![0; 2 * BLOCK],
            start: 0,
            end: 0,
            eof: false,
            state: State::LineStart,
            lexer: Lexer::new(true),
            statement_limit: if statement_limit == 0 {
                DEFAULT_STATEMENT_LIMIT
            } else {
                statement_limit
            },
            offset: 0,
            line: 1,
            std_strings: true,
            encoding: "UTF8".into(),
            copy_rows: 0,
            copy_line: 0,
            crlf_lines: 0,
            cut: None,
            ends_with_newline: true,
            nul_at: None,
        }
    }

    /// The current `standard_conforming_strings` setting, as the dump has set it.
    pub fn standard_conforming_strings(&self) -> bool {
        self.std_strings
    }

    /// The current client encoding, as the dump has set it (`UTF8` until it does).
    pub fn client_encoding(&self) -> &str {
        &self.encoding
    }

    /// Whether the reader is inside COPY data.
    pub fn in_copy(&self) -> bool {
        matches!(self.state, State::Copy | State::CopyMidRow)
    }

    /// Complete rows seen so far in the current (or last) COPY block.
    pub fn copy_rows(&self) -> u64 {
        self.copy_rows
    }

    /// Lines outside COPY rows (statements, comments, meta-commands, `\.`) that ended in `\r\n`.
    pub fn crlf_lines(&self) -> u64 {
        self.crlf_lines
    }

    /// Lines read so far: newline-terminated ones, plus a last unterminated one.
    pub fn lines(&self) -> u64 {
        self.line - 1 + u64::from(!self.ends_with_newline)
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// After the last segment: where the input was cut, or `None` when it
    /// ended between statements.
    pub fn cut(&self) -> Option<&Cut> {
        self.cut.as_ref()
    }

    /// A line (comment or meta-command) over the statement limit.
    fn line_too_long(&self) -> Error {
        Error::runtime(format!("a line longer than {} bytes", self.statement_limit))
            .at_line(self.line)
            .with_hint("raise the statement limit if the dump really holds such a line")
    }

    /// A statement over the limit, with what the lexer is inside.
    fn statement_too_long(&self) -> Error {
        Error::runtime(format!(
            "statement longer than the limit of {} bytes (inside {})",
            self.statement_limit,
            self.lexer.inside()
        ))
        .at_line(self.line)
        .with_hint("the dump may be damaged, or raise the limit with --max-statement")
    }

    /// Read more input into the buffer. Returns false at end of input.
    fn fill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 && (self.end == self.buf.len() || self.start >= BLOCK) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < BLOCK / 2 {
            let want = (self.end - self.start) + BLOCK;
            if want > self.buf.len() {
                let new_len = (self.buf.len() * 2).max(want);
                self.buf.resize(new_len, 0);
            }
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    // psql reads a NUL as the end of its line; PostgreSQL text
                    // cannot hold one. Remember the first: the segment that
                    // holds it is an error, not output.
                    if self.nul_at.is_none()
                        && let Some(i) = memchr(0, &self.buf[self.end..self.end + n])
                    {
                        self.nul_at = Some(self.offset + (self.end - self.start + i) as u64);
                    }
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read error", e)),
            }
        }
    }

    /// Hand out `buf[start..start+len]` as a segment and advance past it;
    /// an integrity error instead when it holds a NUL byte.
    fn emit(&mut self, kind: Kind, len: usize) -> Result<Segment<'_>> {
        if let Some(at) = self.nul_at
            && at < self.offset + len as u64
        {
            let i = (at - self.offset) as usize;
            let line = self.line + count_newlines(&self.buf[self.start..self.start + i]);
            self.state = State::Done;
            return Err(Error::integrity(format!(
                "a NUL byte at input offset {at}: PostgreSQL text cannot hold one, and psql \
                 would drop the rest of its line; the input is corrupt or has been tampered with"
            ))
            .at_line(line)
            .with_hint("nothing from this line on was written; make the dump again"));
        }
        let (from, to) = (self.start, self.start + len);
        let (offset, line) = (self.offset, self.line);
        let bytes = &self.buf[from..to];
        let newlines = count_newlines(bytes);
        self.ends_with_newline = bytes.last() == Some(&b'\n');
        if matches!(kind, Kind::CopyData) {
            self.copy_rows += newlines;
        } else if kind != Kind::CopyPart && newlines > 0 {
            self.crlf_lines += memmem::find_iter(bytes, b"\r\n").count() as u64;
        }
        self.line += newlines;
        self.offset += len as u64;
        self.start = to;
        Ok(Segment {
            kind,
            bytes: &self.buf[from..to],
            offset,
            line,
            encoding: &self.encoding,
            std_strings: self.std_strings,
            copy_rows: self.copy_rows,
        })
    }

    /// Make sure at least `n` unconsumed bytes are buffered, unless input ends.
    fn want(&mut self, n: usize) -> Result<bool> {
        while self.end - self.start < n {
            if !self.fill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Find a newline in the unconsumed data at or after `from` (relative),
    /// reading more as needed. Returns the relative index just past it, or
    /// the length of what remains at end of input.
    fn line_end(&mut self, from: usize) -> Result<usize> {
        let mut from = from;
        loop {
            if let Some(i) = memchr(b'\n', &self.buf[self.start + from..self.end]) {
                return Ok(from + i + 1);
            }
            from = self.end - self.start;
            if from > self.statement_limit {
                return Err(self.line_too_long());
            }
            if !self.fill()? {
                return Ok(self.end - self.start);
            }
        }
    }

    /// The end of a `--` comment starting at relative offset `from`: after
    /// the newline that ends its line, or after a carriage return that is
    /// not followed by one (then `true`: the line goes on with SQL).
    fn comment_end(&mut self, from: usize) -> Result<(usize, bool)> {
        let mut at = from;
        loop {
            let avail = &self.buf[self.start + at..self.end];
            match memchr::memchr2(b'\n', b'\r', avail) {
                Some(i) if avail[i] == b'\n' => return Ok((at + i + 1, false)),
                Some(i) => {
                    let cr = at + i;
                    if !self.want(cr + 2)? {
                        // The input ends at the carriage return.
                        return Ok((self.end - self.start, false));
                    }
                    return Ok(if self.buf[self.start + cr + 1] == b'\n' {
                        (cr + 2, false)
                    } else {
                        (cr + 1, true)
                    });
                }
                None => {
                    at = self.end - self.start;
                    if at > self.statement_limit {
                        return Err(self.line_too_long());
                    }
                    if !self.fill()? {
                        return Ok((self.end - self.start, false));
                    }
                }
            }
        }
    }

    /// The next segment, or `None` at end of input.
    ///
    /// A segment that holds a NUL byte is an integrity error (exit 3)
    /// naming its line and input offset; the segments before it are whole.
    pub fn next_segment(&mut self) -> Result<Option<Segment<'_>>> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Copy | State::CopyMidRow => return self.next_copy(),
                State::LineStart | State::MidLine => {}
            }
            if self.start == self.end && !self.fill()? {
                self.state = State::Done;
                return Ok(None);
            }
            // Whitespace before the next thing on this line.
            let avail = &self.buf[self.start..self.end];
            let ws = avail
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\x0c'))
                .unwrap_or(avail.len());
            if ws == avail.len() {
                // Only whitespace so far: read on to find what follows it.
                if self.fill()? {
                    continue;
                }
                self.state = State::Done;
                return self.emit(Kind::Blank, ws).map(Some);
            }
            let first = avail[ws];
            if first == b'\n' {
                self.state = State::LineStart;
                return self.emit(Kind::Blank, ws + 1).map(Some);
            }
            if first == b'-' || first == b'/' {
                if !self.want(ws + 2)? {
                    // One byte left: a statement cut short.
                    return self.statement(ws);
                }
                let second = self.buf[self.start + ws + 1];
                if first == b'-' && second == b'-' {
                    // psql ends a `--` comment at a carriage return as at a
                    // newline: what follows a lone CR is SQL.
                    let (len, mid_line) = self.comment_end(ws)?;
                    self.state = if mid_line {
                        State::MidLine
                    } else {
                        State::LineStart
                    };
                    return self.emit(Kind::Comment, len).map(Some);
                }
            }
            if first == b'\\' {
                let len = self.line_end(ws)?;
                self.state = State::LineStart;
                self.meta_command(ws, len)?;
                return self.emit(Kind::Meta, len).map(Some);
            }
            if self.state == State::MidLine && ws > 0 {
                // Keep mid-line whitespace out of the next statement, so a
                // statement segment always starts with its first token.
                return self.emit(Kind::Blank, ws).map(Some);
            }
            return self.statement(ws);
        }
    }

    /// Lex a statement that starts at relative offset `ws` (the bytes before
    /// it are the line's leading whitespace, included in the segment).
    fn statement(&mut self, ws: usize) -> Result<Option<Segment<'_>>> {
        self.lexer.reset(self.std_strings, &self.encoding);
        loop {
            match self.lexer.scan(&self.buf[self.start + ws..self.end]) {
                Scan::Variable(at) => {
                    let from = self.start + ws + at;
                    let line = self.line + count_newlines(&self.buf[self.start..from]);
                    return Err(Error::runtime(
                        "a psql variable reference inside a statement (:'name', :\"name\", \
                         :{?name} or a variable psql sets, such as :USER): psql substitutes it \
                         before sending, so it would not send this statement as written",
                    )
                    .at_line(line)
                    .with_hint("pg_dump never writes this; check where the dump comes from"));
                }
                Scan::Backslash(at) => {
                    let from = self.start + ws + at;
                    let line = self.line + count_newlines(&self.buf[self.start..from]);
                    return Err(Error::runtime(
                        "an unquoted backslash inside a statement: psql runs a backslash \
                         command there (\\g sends what came before, \\; joins two statements), \
                         so it would not send this statement as written",
                    )
                    .at_line(line)
                    .with_hint(
                        "pg_dump never writes this; check where the dump comes from, or end the \
                         statement before the backslash command",
                    ));
                }
                Scan::End(e) => {
                    if e > self.statement_limit {
                        return Err(self.statement_too_long());
                    }
                    let mut len = ws + e;
                    // Take trailing whitespace and the newline if the line ends here.
                    loop {
                        while self.start + len < self.end
                            && matches!(self.buf[self.start + len], b' ' | b'\t' | b'\r')
                        {
                            len += 1;
                        }
                        if self.start + len < self.end || !self.fill()? {
                            break;
                        }
                    }
                    if self.start + len < self.end && self.buf[self.start + len] == b'\n' {
                        len += 1;
                        self.state = State::LineStart;
                    } else if self.start + len == self.end {
                        self.state = State::LineStart;
                    } else {
                        // Something else follows on the same line: give the
                        // whitespace back to it.
                        while len > ws + e
                            && matches!(self.buf[self.start + len - 1], b' ' | b'\t' | b'\r')
                        {
                            len -= 1;
                        }
                        self.state = State::MidLine;
                    }
                    let is_copy = self.lexer.is_copy_from_stdin();
                    self.after_statement(ws, ws + e)?;
                    if is_copy {
                        self.state = State::Copy;
                        self.copy_rows = 0;
                        self.copy_line = self.line;
                        return self.emit(Kind::CopyStatement, len).map(Some);
                    }
                    return self.emit(Kind::Statement, len).map(Some);
                }
                Scan::NeedMore => {
                    let have = self.end - self.start - ws;
                    if have > self.statement_limit {
                        return Err(self.statement_too_long());
                    }
                    if !self.fill()? {
                        let len = self.end - self.start;
                        self.state = State::Done;
                        if !self.lexer.saw_token() {
                            // Only comments and whitespace: nothing was cut.
                            return self.emit(Kind::Comment, len).map(Some);
                        }
                        let line =
                            self.line + count_newlines(&self.buf[self.start..self.start + ws]);
                        self.cut = Some(Cut::Statement {
                            line,
                            inside: self.lexer.inside(),
                        });
                        return self.emit(Kind::Incomplete, len).map(Some);
                    }
                }
            }
        }
    }

    /// Track the settings that change how the dump must be lexed or
    /// decoded, exactly as far as the text tells ([`super::session`]).
    fn after_statement(&mut self, from: usize, to: usize) -> Result<()> {
        use super::session::{Change, boolean, calls_set_config, change};
        let stmt = &self.buf[self.start + from..self.start + to];
        let line = self.line + count_newlines(&self.buf[self.start..self.start + from]);
        let unknowable = |what: &str| {
            Error::runtime(format!(
                "{what}: psql lexes what follows with the server's new setting, which the text \
                 does not tell"
            ))
            .at_line(line)
            .with_hint("pg_dump never writes this; set it with a plain SET statement")
        };
        const SCS: &[u8] = b"standard_conforming_strings";
        match change(stmt, SCS) {
            Some(Change::Value(v)) => match boolean(v) {
                Some(on) => self.std_strings = on,
                None => {
                    return Err(unknowable(
                        "standard_conforming_strings set to an unknown value",
                    ));
                }
            },
            // The server's default; a database or role setting could differ.
            Some(Change::Default) => self.std_strings = true,
            Some(Change::Local) => {
                return Err(unknowable("SET LOCAL standard_conforming_strings"));
            }
            None if calls_set_config(stmt, SCS) => {
                return Err(unknowable("set_config of standard_conforming_strings"));
            }
            None => {}
        }
        const ENC: &[u8] = b"client_encoding";
        match change(stmt, ENC) {
            Some(Change::Value(v)) => self.encoding = String::from_utf8_lossy(v).into_owned(),
            Some(Change::Default)
                if stmt.trim_ascii_start()[..5].eq_ignore_ascii_case(b"reset")
                    && !stmt.to_ascii_lowercase().windows(3).any(|w| w == b"all") =>
            {
                return Err(unknowable("RESET client_encoding"));
            }
            Some(Change::Default) => {}
            Some(Change::Local) => return Err(unknowable("SET LOCAL client_encoding")),
            None if calls_set_config(stmt, ENC) => {
                return Err(unknowable("set_config of client_encoding"));
            }
            None => {}
        }
        Ok(())
    }

    /// Track `\connect` (a new session: settings back to their defaults) and
    /// `\encoding`; refuse a line on which psql would run more than one
    /// command, or SQL after `\\`, which would be unseen.
    fn meta_command(&mut self, from: usize, to: usize) -> Result<()> {
        let line = &self.buf[self.start + from..self.start + to];
        let m = super::meta::parse(line);
        if m.more.is_some() {
            return Err(Error::runtime(format!(
                "an unquoted backslash after {}: psql would run a second backslash command, \
                 or send the rest of the line as SQL after \\\\, unseen by pgpipe",
                m.display()
            ))
            .at_line(self.line)
            .with_hint("pg_dump never writes this; put each command on its own line"));
        }
        if let Some(why) = m.diverges() {
            return Err(Error::runtime(format!(
                "{}: {why}, so what psql runs is not what pgpipe reads",
                m.display()
            ))
            .at_line(self.line)
            .with_hint("pg_dump never writes this; check where the dump comes from"));
        }
        if m.name == b"connect" || m.name == b"c" {
            self.std_strings = true;
        } else if m.name == b"encoding"
            && let Some(enc) = m.args.first()
        {
            self.encoding = String::from_utf8_lossy(enc).into_owned();
        }
        Ok(())
    }

    /// COPY data. Segment boundaries depend only on the data, never on how
    /// reads split it: rows are handed out up to the last row that ends
    /// within [`BLOCK`] bytes, a row longer than that whole (up to
    /// [`MAX_ROW`]), and the `\.` line on its own.
    fn next_copy(&mut self) -> Result<Option<Segment<'_>>> {
        if self.state == State::Copy {
            self.want(4)?;
            let data = &self.buf[self.start..self.end];
            if let Some(rest) = data.strip_prefix(b"\\.") {
                if rest.starts_with(b"\n") {
                    return self.end_copy(3).map(Some);
                }
                if rest.starts_with(b"\r\n") {
                    return self.end_copy(4).map(Some);
                }
                if rest.is_empty() || rest == b"\r" {
                    // want(4) fell short: this is the end of input.
                    let n = data.len();
                    return self.end_copy(n).map(Some);
                }
            }
        }
        self.want(BLOCK + 4)?;
        let avail = self.end - self.start;
        if avail == 0 {
            self.set_copy_cut();
            self.state = State::Done;
            return Ok(None);
        }
        let data = &self.buf[self.start..self.end];
        let window = avail.min(BLOCK);
        // A terminator line starts after a newline within the window.
        let search = &data[..avail.min(window + 2)];
        let mut from = 0;
        while let Some(i) = memmem::find(&search[from..], b"\n\\.") {
            let at = from + i;
            let after = &data[at + 3..];
            let terminator = after.starts_with(b"\n")
                || after.starts_with(b"\r\n")
                || (self.eof && (after.is_empty() || after == b"\r"));
            if terminator {
                self.state = State::Copy;
                return self.emit(Kind::CopyData, at + 1).map(Some);
            }
            from = at + 1;
        }
        if let Some(i) = memrchr(b'\n', &data[..window]) {
            self.state = State::Copy;
            return self.emit(Kind::CopyData, i + 1).map(Some);
        }
        // One row longer than the window: keep it whole up to MAX_ROW.
        let mut from = window;
        loop {
            let avail = self.end - self.start;
            let limit = avail.min(MAX_ROW);
            if let Some(i) = memchr(b'\n', &self.buf[self.start + from..self.start + limit]) {
                self.state = State::Copy;
                return self.emit(Kind::CopyData, from + i + 1).map(Some);
            }
            if avail >= MAX_ROW {
                self.state = State::CopyMidRow;
                return self.emit(Kind::CopyPart, MAX_ROW).map(Some);
            }
            from = limit;
            if !self.fill()? {
                // End of input in the middle of a row.
                self.set_copy_cut();
                self.state = State::Done;
                let n = self.end - self.start;
                return self.emit(Kind::Incomplete, n).map(Some);
            }
        }
    }

    fn set_copy_cut(&mut self) {
        self.cut = Some(Cut::Copy {
            line: self.copy_line,
            rows: self.copy_rows,
        });
    }

    fn end_copy(&mut self, len: usize) -> Result<Segment<'_>> {
        self.state = State::LineStart;
        self.emit(Kind::CopyEnd, len)
    }
}

/// Count newline bytes (memchr's vectorised counter: AVX2 where the CPU has it).
pub fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// For `SET name = value;` / `SET name TO value;` (any case, any spacing),
/// the value with quotes removed.
pub fn set_value<'a>(stmt: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let s = stmt.trim_ascii();
    let s = s.strip_suffix(b";").unwrap_or(s);
    let rest = crate::sql::words::strip_word(s, b"set")?;
    let rest = crate::sql::words::strip_word(rest, b"session").unwrap_or(rest);
    let rest = rest.trim_ascii();
    if rest.len() < name.len() || !rest[..name.len()].eq_ignore_ascii_case(name) {
        return None;
    }
    let rest = rest[name.len()..].trim_ascii();
    let rest = if let Some(r) = rest.strip_prefix(b"=") {
        r
    } else {
        crate::sql::words::strip_word(rest, b"to")?
    };
    let v = rest.trim_ascii();
    let v = v
        .strip_prefix(b"'")
        .and_then(|v| v.strip_suffix(b"'"))
        .unwrap_or(v);
    Some(v)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Reads `chunk` bytes at a time.
    pub(crate) struct Chunked<'a> {
        pub(crate) data: &'a [u8],
        pub(crate) chunk: usize,
    }

    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn segments(data: &[u8], chunk: usize) -> Vec<(Kind, Vec<u8>, u64)> {
        let mut r = Reader::new(Chunked { data, chunk });
        let mut out = Vec::new();
        while let Some(s) = r.next_segment().unwrap() {
            out.push((s.kind, s.bytes.to_vec(), s.line));
        }
        out
    }

    fn kinds(data: &str) -> Vec<(Kind, String)> {
        segments(data.as_bytes(), 1 << 20)
            .into_iter()
            .map(|(k, b, _)| (k, String::from_utf8(b).unwrap()))
            .collect()
    }

    #[test]
    fn a_small_dump() {
        let dump = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\nSET a = 1;\nCOPY t (a) FROM stdin;\n1\n\\\\.\n\\.\n\n\nSELECT 1; SELECT 2;  \n";
        use Kind::*;
        assert_eq!(
            kinds(dump),
            vec![
                (Comment, "--\n".into()),
                (Comment, "-- PostgreSQL database dump\n".into()),
                (Comment, "--\n".into()),
                (Blank, "\n".into()),
                (Meta, "\\restrict abc\n".into()),
                (Blank, "\n".into()),
                (Statement, "SET a = 1;\n".into()),
                (CopyStatement, "COPY t (a) FROM stdin;\n".into()),
                (CopyData, "1\n\\\\.\n".into()),
                (CopyEnd, "\\.\n".into()),
                (Blank, "\n".into()),
                (Blank, "\n".into()),
                (Statement, "SELECT 1;".into()),
                (Blank, " ".into()),
                (Statement, "SELECT 2;  \n".into()),
            ]
        );
    }

    #[test]
    fn empty_copy_and_copy_at_eof() {
        use Kind::*;
        assert_eq!(
            kinds("COPY t FROM stdin;\n\\.\n"),
            vec![
                (CopyStatement, "COPY t FROM stdin;\n".into()),
                (CopyEnd, "\\.\n".into())
            ]
        );
        assert_eq!(
            kinds("COPY t FROM stdin;\n1\n\\."),
            vec![
                (CopyStatement, "COPY t FROM stdin;\n".into()),
                (CopyData, "1\n".into()),
                (CopyEnd, "\\.".into())
            ]
        );
    }

    #[test]
    fn truncation_is_reported() {
        let mut r = Reader::new(&b"SELECT 1;\nCREATE FUNCTION f() AS $$ body"[..]);
        let mut kinds = Vec::new();
        while let Some(s) = r.next_segment().unwrap() {
            kinds.push(s.kind);
        }
        assert_eq!(kinds, vec![Kind::Statement, Kind::Incomplete]);
        assert_eq!(
            r.cut(),
            Some(&Cut::Statement {
                line: 2,
                inside: "a dollar-quoted string (function body)"
            })
        );

        let mut r = Reader::new(&b"COPY t FROM stdin;\n1\n2\n3"[..]);
        let mut kinds = Vec::new();
        while let Some(s) = r.next_segment().unwrap() {
            kinds.push(s.kind);
        }
        assert_eq!(
            kinds,
            vec![Kind::CopyStatement, Kind::CopyData, Kind::Incomplete]
        );
        assert_eq!(r.cut(), Some(&Cut::Copy { line: 1, rows: 2 }));

        let mut r = Reader::new(&b"SELECT 1;\n-- only a comment"[..]);
        while r.next_segment().unwrap().is_some() {}
        assert_eq!(r.cut(), None);
    }

    #[test]
    fn standard_conforming_strings_is_tracked() {
        // With it off, the backslash escapes the quote, so the ; is inside the string.
        let dump = "SET standard_conforming_strings = off;\nINSERT INTO t VALUES ('a\\';b');\n\\connect db\nSELECT 'a\\';\n";
        use Kind::*;
        assert_eq!(
            kinds(dump),
            vec![
                (Statement, "SET standard_conforming_strings = off;\n".into()),
                (Statement, "INSERT INTO t VALUES ('a\\';b');\n".into()),
                (Meta, "\\connect db\n".into()),
                (Statement, "SELECT 'a\\';\n".into()),
            ]
        );
    }

    #[test]
    fn insert_literals_with_dump_syntax_inside() {
        let dump = "INSERT INTO t VALUES ('line\n\\.\n\\connect x\n-- Name: y', 1);\nSELECT 2;\n";
        use Kind::*;
        assert_eq!(
            kinds(dump),
            vec![
                (
                    Statement,
                    "INSERT INTO t VALUES ('line\n\\.\n\\connect x\n-- Name: y', 1);\n".into()
                ),
                (Statement, "SELECT 2;\n".into()),
            ]
        );
    }

    #[test]
    fn a_carriage_return_ends_a_comment_line() {
        use Kind::*;
        assert_eq!(
            kinds("-- x\rGRANT a TO b;\n-- y\r\nSELECT 1;\n"),
            vec![
                (Comment, "-- x\r".into()),
                (Statement, "GRANT a TO b;\n".into()),
                (Comment, "-- y\r\n".into()),
                (Statement, "SELECT 1;\n".into()),
            ]
        );
    }

    #[test]
    fn crlf_is_counted_and_kept() {
        let dump = b"SET a = 1;\r\nCOPY t FROM stdin;\r\n1\r\n\\.\r\nSELECT 1;\r\n";
        let mut r = Reader::new(&dump[..]);
        let mut all = Vec::new();
        let mut kinds = Vec::new();
        while let Some(s) = r.next_segment().unwrap() {
            all.extend_from_slice(s.bytes);
            kinds.push(s.kind);
        }
        assert_eq!(all, dump);
        use Kind::*;
        assert_eq!(
            kinds,
            vec![Statement, CopyStatement, CopyData, CopyEnd, Statement]
        );
        assert_eq!(r.crlf_lines(), 4);
    }

    #[test]
    fn long_rows_stream_in_parts() {
        let mut dump = b"COPY t FROM stdin;\n".to_vec();
        dump.extend(std::iter::repeat_n(b'x', 2 * MAX_ROW + 10));
        dump.extend_from_slice(b"\n2\n\\.\n");
        let segs = segments(&dump, 1 << 16);
        let kinds: Vec<_> = segs.iter().map(|s| s.0).collect();
        assert_eq!(kinds[0], Kind::CopyStatement);
        assert!(kinds.contains(&Kind::CopyPart));
        assert_eq!(*kinds.last().unwrap(), Kind::CopyEnd);
        let joined: Vec<u8> = segs.iter().flat_map(|s| s.1.clone()).collect();
        assert_eq!(joined, dump);
    }

    #[test]
    fn statement_limit_is_enforced() {
        let mut huge = b"SELECT 1;\nSELECT '".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 3 * BLOCK));
        let mut r = Reader::with_limit(&huge[..], 2 * BLOCK);
        assert!(r.next_segment().unwrap().is_some());
        let err = r.next_segment().unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("inside a string literal"), "{err}");
    }

    #[test]
    fn set_value_parses_forms() {
        assert_eq!(
            set_value(b"SET client_encoding = 'LATIN1';", b"client_encoding"),
            Some(&b"LATIN1"[..])
        );
        assert_eq!(
            set_value(
                b"set standard_conforming_strings to off;",
                b"standard_conforming_strings"
            ),
            Some(&b"off"[..])
        );
        assert_eq!(set_value(b"SET x = 1;", b"client_encoding"), None);
    }

    #[test]
    fn read_sizes_do_not_change_segments() {
        let dump = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/pg17/db1.plain.sql"
        ))
        .unwrap();
        let want = segments(&dump, 1 << 20);
        let joined: Vec<u8> = want.iter().flat_map(|s| s.1.clone()).collect();
        assert_eq!(joined, dump);
        for chunk in [1, 2, 3, 7, 4096] {
            assert_eq!(segments(&dump, chunk), want, "read size {chunk}");
        }
    }
}
