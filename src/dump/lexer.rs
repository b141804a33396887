//! Finding where a SQL statement ends, the way psql does.
//!
//! psql sends a statement to the server when it sees a semicolon outside
//! quotes, comments and parentheses (and, inside `CREATE FUNCTION|PROCEDURE`,
//! outside `BEGIN … END` blocks). This lexer reproduces exactly that
//! decision over raw bytes, without ever looking at encodings:
//!
//! * `'…'` with `''`; backslash escapes too when `standard_conforming_strings`
//!   is off; `E'…'` always with backslash escapes;
//! * `"…"` identifiers with `""`, raw newlines allowed;
//! * `$tag$…$tag$` dollar quotes (a `$` inside an identifier is not one);
//! * `--` comments and nested `/* */` comments;
//! * parenthesis depth, and the `BEGIN`/`CASE`/`END` depth of SQL-standard
//!   function bodies.
//!
//! The lexer is resumable: when the bytes run out it reports
//! [`Scan::NeedMore`] and keeps its position and state, so the caller can
//! read more input and call [`Lexer::scan`] again on the longer buffer. All
//! positions are relative to the start of the statement.

use memchr::{memchr, memchr2, memmem};

/// The outcome of one [`Lexer::scan`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// The statement ends just after this position (the byte after its `;`).
    End(usize),
    /// All bytes were consumed without finding the end.
    NeedMore,
    /// An unquoted backslash at this position: psql runs a backslash
    /// command there, in the middle of the statement (`\g` sends what came
    /// before, `\;` joins two statements into one query, `\set` runs
    /// between its lines), so what psql sends is not this statement.
    Backslash(usize),
    /// A psql variable reference at this position that psql substitutes
    /// before sending: `:'name'`, `:"name"`, `:{?name}`, or `:NAME` for a
    /// variable psql itself always sets (`:USER`, `:DBNAME`, …).
    Variable(usize),
}

/// The variables psql sets by itself (any of them may be set at restore
/// time): `:NAME` in SQL text is replaced by its value.
pub const PSQL_VARIABLES: &[&str] = &[
    "AUTOCOMMIT",
    "COMP_KEYWORD_CASE",
    "DBNAME",
    "ECHO",
    "ECHO_HIDDEN",
    "ENCODING",
    "ERROR",
    "FETCH_COUNT",
    "HIDE_TABLEAM",
    "HIDE_TOAST_COMPRESSION",
    "HISTCONTROL",
    "HISTFILE",
    "HISTSIZE",
    "HOST",
    "IGNOREEOF",
    "LASTOID",
    "LAST_ERROR_MESSAGE",
    "LAST_ERROR_SQLSTATE",
    "ON_ERROR_ROLLBACK",
    "ON_ERROR_STOP",
    "PIPELINE_COMMAND_COUNT",
    "PIPELINE_RESULT_COUNT",
    "PIPELINE_SYNC_COUNT",
    "PORT",
    "PROMPT1",
    "PROMPT2",
    "PROMPT3",
    "QUIET",
    "ROW_COUNT",
    "SERVER_VERSION_NAME",
    "SERVER_VERSION_NUM",
    "SERVICE",
    "SHELL_ERROR",
    "SHELL_EXIT_CODE",
    "SHOW_ALL_RESULTS",
    "SHOW_CONTEXT",
    "SINGLELINE",
    "SINGLESTEP",
    "SQLSTATE",
    "USER",
    "VERBOSITY",
    "VERSION",
    "VERSION_NAME",
    "VERSION_NUM",
    "WATCH_INTERVAL",
];

/// How psql finds the length of a character in the client encodings whose
/// multibyte characters can contain ASCII bytes (the backslash above all):
/// SJIS, SHIFT_JIS_2004, BIG5, GBK, UHC, GB18030 and JOHAB. psql lexes those
/// with every byte after a character's first masked, so a trailing byte
/// 0x5C is never a backslash; so does this lexer. `None` for every other
/// encoding, whose multibyte characters are made of bytes >= 0x80 only.
pub fn unsafe_char_len(encoding: &str) -> Option<fn(&[u8]) -> usize> {
    let key: String = encoding
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    fn sjis(s: &[u8]) -> usize {
        match s[0] {
            0xa1..=0xdf => 1,
            b if b >= 0x80 => 2,
            _ => 1,
        }
    }
    fn two(s: &[u8]) -> usize {
        if s[0] >= 0x80 { 2 } else { 1 }
    }
    fn gb18030(s: &[u8]) -> usize {
        if s[0] < 0x80 {
            1
        } else if s.get(1).is_some_and(|b| (0x30..=0x39).contains(b)) {
            4
        } else {
            2
        }
    }
    fn johab(s: &[u8]) -> usize {
        match s[0] {
            0x8e => 2,
            0x8f => 3,
            b if b >= 0x80 => 2,
            _ => 1,
        }
    }
    Some(match key.as_str() {
        "SJIS" | "SHIFTJIS" | "MSKANJI" | "SHIFTJIS2004" | "WIN932" => sjis,
        "BIG5" | "WIN950" | "GBK" | "WIN936" | "CP936" | "UHC" | "WIN949" => two,
        "GB18030" => gb18030,
        "JOHAB" => johab,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    /// Inside `'…'`; `escapes` when backslash escapes apply.
    Str {
        escapes: bool,
    },
    /// Inside `"…"`.
    Ident,
    /// Inside a dollar quote whose delimiter (with both `$`) is `tag_start..tag_end`
    /// of the statement.
    Dollar {
        tag_start: usize,
        tag_end: usize,
    },
    LineComment,
    BlockComment {
        depth: u32,
    },
}

/// The resumable statement lexer. One per statement: create it (or
/// [`Lexer::reset`] it) at the statement's first byte.
#[derive(Debug, Clone)]
pub struct Lexer {
    pos: usize,
    mode: Mode,
    paren_depth: u32,
    begin_depth: u32,
    /// First letters of the first identifiers, for `CREATE [OR REPLACE] FUNCTION|PROCEDURE`.
    first_words: [u8; 4],
    word_count: u32,
    /// Saw anything other than whitespace and comments.
    saw_token: bool,
    /// The previous significant token was the word FROM.
    prev_from: bool,
    first_word_copy: bool,
    copy_from_stdin: bool,
    std_strings: bool,
    /// Character lengths in a client encoding psql lexes byte-masked.
    char_len: Option<fn(&[u8]) -> usize>,
    /// Where an unquoted backslash was found.
    backslash: Option<usize>,
    /// Where a psql variable reference was found.
    variable: Option<usize>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_dolq_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_dolq_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The first `'` or `\\` that starts a character, stepping over the
/// trailing bytes of multibyte characters.
enum CharFind {
    At(usize),
    None,
    /// The bytes end inside a character that starts here.
    Cut(usize),
}

fn char_find(s: &[u8], len: fn(&[u8]) -> usize) -> CharFind {
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'\'' || b == b'\\' {
            return CharFind::At(i);
        }
        if b >= 0x80 {
            let n = len(&s[i..]);
            if i + n > s.len() {
                return CharFind::Cut(i);
            }
            i += n;
        } else {
            i += 1;
        }
    }
    CharFind::None
}

impl Lexer {
    /// A lexer at the start of a statement. `std_strings` is the current
    /// `standard_conforming_strings` setting.
    pub fn new(std_strings: bool) -> Lexer {
        Lexer::for_encoding(std_strings, "UTF8")
    }

    /// A lexer for a statement in client encoding `encoding`.
    pub fn for_encoding(std_strings: bool, encoding: &str) -> Lexer {
        Lexer {
            pos: 0,
            mode: Mode::Normal,
            paren_depth: 0,
            begin_depth: 0,
            first_words: [0; 4],
            word_count: 0,
            saw_token: false,
            prev_from: false,
            first_word_copy: false,
            copy_from_stdin: false,
            std_strings,
            char_len: unsafe_char_len(encoding),
            backslash: None,
            variable: None,
        }
    }

    /// Start over at a new statement.
    pub fn reset(&mut self, std_strings: bool, encoding: &str) {
        *self = Lexer::for_encoding(std_strings, encoding);
    }

    /// Whether the statement so far holds anything but whitespace and comments.
    pub fn saw_token(&self) -> bool {
        self.saw_token
    }

    /// Whether the statement is `COPY … FROM STDIN` (psql then reads data lines).
    pub fn is_copy_from_stdin(&self) -> bool {
        self.first_word_copy && self.copy_from_stdin
    }

    /// What the lexer is inside at the current position, for messages.
    pub fn inside(&self) -> &'static str {
        match self.mode {
            Mode::Normal if self.paren_depth > 0 => "parentheses",
            Mode::Normal if self.begin_depth > 0 => "a BEGIN ... END body",
            Mode::Normal => "a statement",
            Mode::Str { .. } => "a string literal",
            Mode::Ident => "a quoted identifier",
            Mode::Dollar { .. } => "a dollar-quoted string (function body)",
            Mode::LineComment => "a comment",
            Mode::BlockComment { .. } => "a /* */ comment",
        }
    }

    /// Scan `stmt` (the statement's bytes from its first byte to the end of
    /// what has been read so far) from where the last call stopped.
    pub fn scan(&mut self, stmt: &[u8]) -> Scan {
        let len = stmt.len();
        loop {
            if self.pos >= len {
                return Scan::NeedMore;
            }
            match self.mode {
                Mode::Normal => {
                    if let Some(end) = self.scan_normal(stmt) {
                        return Scan::End(end);
                    }
                    if let Some(at) = self.backslash {
                        return Scan::Backslash(at);
                    }
                    if let Some(at) = self.variable {
                        return Scan::Variable(at);
                    }
                    if self.mode == Mode::Normal {
                        // scan_normal stopped for more input.
                        return Scan::NeedMore;
                    }
                }
                Mode::Str { escapes } => {
                    let rest = &stmt[self.pos..];
                    let hit = match self.char_len {
                        // A trailing byte 0x5C is not a backslash: step by characters.
                        Some(len) if escapes => match char_find(rest, len) {
                            CharFind::At(i) => Some(i),
                            CharFind::None => None,
                            CharFind::Cut(i) => {
                                self.pos += i;
                                return Scan::NeedMore;
                            }
                        },
                        _ if escapes => memchr2(b'\'', b'\\', rest),
                        _ => memchr(b'\'', rest),
                    };
                    let Some(i) = hit else {
                        self.pos = len;
                        return Scan::NeedMore;
                    };
                    let at = self.pos + i;
                    if stmt[at] == b'\\' {
                        if at + 1 >= len {
                            self.pos = at;
                            return Scan::NeedMore;
                        }
                        // The backslash escapes the next character, all of it.
                        let n = match self.char_len {
                            Some(f) if stmt[at + 1] >= 0x80 => f(&stmt[at + 1..]),
                            _ => 1,
                        };
                        if at + 1 + n > len {
                            self.pos = at;
                            return Scan::NeedMore;
                        }
                        self.pos = at + 1 + n;
                        continue;
                    }
                    // A quote: doubled, or the end of the literal.
                    if at + 1 >= len {
                        self.pos = at;
                        return Scan::NeedMore;
                    }
                    if stmt[at + 1] == b'\'' {
                        self.pos = at + 2;
                    } else {
                        self.pos = at + 1;
                        self.mode = Mode::Normal;
                    }
                }
                Mode::Ident => {
                    let Some(i) = memchr(b'"', &stmt[self.pos..]) else {
                        self.pos = len;
                        return Scan::NeedMore;
                    };
                    let at = self.pos + i;
                    if at + 1 >= len {
                        self.pos = at;
                        return Scan::NeedMore;
                    }
                    if stmt[at + 1] == b'"' {
                        self.pos = at + 2;
                    } else {
                        self.pos = at + 1;
                        self.mode = Mode::Normal;
                    }
                }
                Mode::Dollar { tag_start, tag_end } => {
                    let tag = &stmt[tag_start..tag_end];
                    match memmem::find(&stmt[self.pos..], tag) {
                        Some(i) => {
                            self.pos += i + tag.len();
                            self.mode = Mode::Normal;
                        }
                        None => {
                            // Keep enough bytes to see a delimiter cut by the buffer end.
                            self.pos = self.pos.max(len.saturating_sub(tag.len() - 1));
                            return Scan::NeedMore;
                        }
                    }
                }
                // psql ends a `--` comment at a carriage return too.
                Mode::LineComment => match memchr2(b'\n', b'\r', &stmt[self.pos..]) {
                    Some(i) => {
                        self.pos += i + 1;
                        self.mode = Mode::Normal;
                    }
                    None => {
                        self.pos = len;
                        return Scan::NeedMore;
                    }
                },
                Mode::BlockComment { depth } => {
                    let Some(i) = memchr2(b'/', b'*', &stmt[self.pos..]) else {
                        self.pos = len;
                        return Scan::NeedMore;
                    };
                    let at = self.pos + i;
                    if at + 1 >= len {
                        self.pos = at;
                        return Scan::NeedMore;
                    }
                    match (stmt[at], stmt[at + 1]) {
                        (b'*', b'/') => {
                            self.pos = at + 2;
                            self.mode = if depth == 1 {
                                Mode::Normal
                            } else {
                                Mode::BlockComment { depth: depth - 1 }
                            };
                        }
                        (b'/', b'*') => {
                            self.pos = at + 2;
                            self.mode = Mode::BlockComment { depth: depth + 1 };
                        }
                        _ => self.pos = at + 1,
                    }
                }
            }
        }
    }

    /// Scan in normal mode. Returns `Some(end)` at a terminating semicolon;
    /// `None` when the mode changed (the caller loops) or when more input is
    /// needed (mode still Normal).
    fn scan_normal(&mut self, stmt: &[u8]) -> Option<usize> {
        let len = stmt.len();
        while self.pos < len {
            let b = stmt[self.pos];
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => self.pos += 1,
                b'\'' => {
                    self.token(false);
                    self.pos += 1;
                    self.mode = Mode::Str {
                        escapes: !self.std_strings,
                    };
                    return None;
                }
                b'"' => {
                    self.token(false);
                    self.pos += 1;
                    self.mode = Mode::Ident;
                    return None;
                }
                b'-' => {
                    if self.pos + 1 >= len {
                        return None;
                    }
                    if stmt[self.pos + 1] == b'-' {
                        self.pos += 2;
                        self.mode = Mode::LineComment;
                        return None;
                    }
                    self.token(false);
                    self.pos += 1;
                }
                b'/' => {
                    if self.pos + 1 >= len {
                        return None;
                    }
                    if stmt[self.pos + 1] == b'*' {
                        self.pos += 2;
                        self.mode = Mode::BlockComment { depth: 1 };
                        return None;
                    }
                    self.token(false);
                    self.pos += 1;
                }
                b'$' => {
                    // `$tag$` or `$$` starts a dollar quote; `$1` is a parameter.
                    let mut j = self.pos + 1;
                    if j < len && is_dolq_start(stmt[j]) {
                        j += 1;
                        while j < len && is_dolq_cont(stmt[j]) {
                            j += 1;
                        }
                    }
                    if j >= len {
                        return None;
                    }
                    self.token(false);
                    if stmt[j] == b'$' {
                        self.mode = Mode::Dollar {
                            tag_start: self.pos,
                            tag_end: j + 1,
                        };
                        self.pos = j + 1;
                        return None;
                    }
                    self.pos += 1;
                }
                b'(' => {
                    self.token(false);
                    self.paren_depth += 1;
                    self.pos += 1;
                }
                b')' => {
                    self.token(false);
                    self.paren_depth = self.paren_depth.saturating_sub(1);
                    self.pos += 1;
                }
                b';' => {
                    self.token(false);
                    self.pos += 1;
                    if self.paren_depth == 0 && self.begin_depth == 0 {
                        return Some(self.pos);
                    }
                }
                b'\\' => {
                    self.backslash = Some(self.pos);
                    return None;
                }
                b':' => {
                    // `::` is a cast; `:'x'`, `:"x"`, `:{?x}` and `:NAME` of a
                    // variable psql sets are substituted by psql.
                    if self.pos + 1 >= len {
                        return None;
                    }
                    let next = stmt[self.pos + 1];
                    if next == b':' {
                        self.token(false);
                        self.pos += 2;
                        continue;
                    }
                    if next == b'\'' || next == b'"' || next == b'{' {
                        self.variable = Some(self.pos);
                        return None;
                    }
                    if is_ident_start(next) {
                        let mut j = self.pos + 1;
                        while j < len && is_ident_cont(stmt[j]) {
                            j += 1;
                        }
                        if j >= len {
                            return None;
                        }
                        let name = &stmt[self.pos + 1..j];
                        if PSQL_VARIABLES.iter().any(|v| v.as_bytes() == name) {
                            self.variable = Some(self.pos);
                            return None;
                        }
                    }
                    self.token(false);
                    self.pos += 1;
                }
                _ if is_ident_start(b) => {
                    let mut j = self.pos;
                    while j < len && is_ident_cont(stmt[j]) {
                        match self.char_len {
                            // A multibyte character's trailing bytes belong to it.
                            Some(f) if stmt[j] >= 0x80 => {
                                let n = f(&stmt[j..]);
                                if j + n > len {
                                    return None;
                                }
                                j += n;
                            }
                            _ => j += 1,
                        }
                    }
                    if j >= len {
                        // The word may go on: wait for more bytes.
                        return None;
                    }
                    let word = &stmt[self.pos..j];
                    if stmt[j] == b'\'' && (word == b"E" || word == b"e") {
                        self.token(false);
                        self.pos = j + 1;
                        self.mode = Mode::Str { escapes: true };
                        return None;
                    }
                    if stmt[j] == b'\'' && matches!(word, b"B" | b"b" | b"X" | b"x") {
                        // Bit-string and hex-string constants have no
                        // backslash escapes, whatever the setting.
                        self.token(false);
                        self.pos = j + 1;
                        self.mode = Mode::Str { escapes: false };
                        return None;
                    }
                    self.word(word);
                    self.pos = j;
                }
                b'0'..=b'9' => {
                    // A number (possibly followed by letters, as in 1e5): not a word.
                    let mut j = self.pos + 1;
                    while j < len && (stmt[j].is_ascii_alphanumeric() || stmt[j] == b'_') {
                        j += 1;
                    }
                    if j >= len {
                        return None;
                    }
                    self.token(false);
                    self.pos = j;
                }
                _ => {
                    self.token(false);
                    self.pos += 1;
                }
            }
        }
        None
    }

    /// A significant token that is not the word FROM.
    fn token(&mut self, is_from: bool) {
        self.saw_token = true;
        self.prev_from = is_from;
    }

    fn word(&mut self, word: &[u8]) {
        let is_from = word.eq_ignore_ascii_case(b"from");
        if self.word_count == 0 && word.eq_ignore_ascii_case(b"copy") {
            self.first_word_copy = true;
        }
        if self.prev_from && word.eq_ignore_ascii_case(b"stdin") {
            self.copy_from_stdin = true;
        }
        self.token(is_from);
        // psql's heuristic for SQL-standard bodies: inside
        // CREATE [OR REPLACE] FUNCTION|PROCEDURE, outside parentheses,
        // BEGIN (and CASE within it) opens a block that END closes.
        let idx = self.word_count as usize;
        if idx < self.first_words.len() {
            for kw in [&b"create"[..], b"function", b"procedure", b"or", b"replace"] {
                if word.eq_ignore_ascii_case(kw) {
                    self.first_words[idx] = kw[0];
                }
            }
        }
        self.word_count = self.word_count.saturating_add(1);
        let w = &self.first_words;
        let in_routine = w[0] == b'c'
            && (w[1] == b'f'
                || w[1] == b'p'
                || (w[1] == b'o' && w[2] == b'r' && (w[3] == b'f' || w[3] == b'p')));
        if in_routine && self.paren_depth == 0 {
            if word.eq_ignore_ascii_case(b"begin") {
                self.begin_depth += 1;
            } else if word.eq_ignore_ascii_case(b"case") {
                if self.begin_depth >= 1 {
                    self.begin_depth += 1;
                }
            } else if word.eq_ignore_ascii_case(b"end") && self.begin_depth > 0 {
                self.begin_depth -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end_of(s: &str, std: bool) -> Option<usize> {
        let mut l = Lexer::new(std);
        match l.scan(s.as_bytes()) {
            Scan::End(e) => Some(e),
            Scan::NeedMore | Scan::Backslash(_) | Scan::Variable(_) => None,
        }
    }

    /// Feed the statement a byte at a time; the result must match one big scan.
    fn end_bytewise(s: &str, std: bool) -> Option<usize> {
        let mut l = Lexer::new(std);
        for n in 1..=s.len() {
            if let Scan::End(e) = l.scan(&s.as_bytes()[..n]) {
                return Some(e);
            }
        }
        None
    }

    fn check(s: &str, std: bool, want: Option<&str>) {
        let want = want.map(|w| w.len());
        assert_eq!(end_of(s, std), want, "one scan of {s:?}");
        assert_eq!(end_bytewise(s, std), want, "bytewise scan of {s:?}");
    }

    #[test]
    fn plain_statement() {
        check("SET a = 1;\nSET b = 2;\n", true, Some("SET a = 1;"));
    }

    #[test]
    fn quotes_hide_semicolons() {
        check("SELECT 'a;''b';x", true, Some("SELECT 'a;''b';"));
        check("SELECT \"a;\"\"b\";x", true, Some("SELECT \"a;\"\"b\";"));
        check("SELECT E'a\\';b';x", true, Some("SELECT E'a\\';b';"));
        check("SELECT e'a\\\\';x", true, Some("SELECT e'a\\\\';"));
    }

    #[test]
    fn standard_conforming_strings_off_makes_backslash_escape() {
        let s = "INSERT INTO t VALUES ('back\\';slash');x";
        check(s, false, Some("INSERT INTO t VALUES ('back\\';slash');"));
        // With it on the backslash is literal and the string ends at the first quote.
        check(
            "INSERT INTO t VALUES ('back\\');x",
            true,
            Some("INSERT INTO t VALUES ('back\\');"),
        );
    }

    #[test]
    fn dollar_quotes() {
        let s = "CREATE FUNCTION f() RETURNS int AS $_$ select ';' $$ $x$; $_$;\nnext";
        check(s, true, Some(&s[..s.find(";\n").unwrap() + 1]));
        check("SELECT $1;", true, Some("SELECT $1;"));
        // A $ inside an identifier does not start a dollar quote.
        check("SELECT a$b$ ;", true, Some("SELECT a$b$ ;"));
        check("SELECT $$a$$;", true, Some("SELECT $$a$$;"));
    }

    #[test]
    fn a_carriage_return_ends_a_line_comment() {
        check("SELECT 1 -- x\r;y", true, Some("SELECT 1 -- x\r;"));
        check("SELECT 1 -- x\r\n;y", true, Some("SELECT 1 -- x\r\n;"));
    }

    #[test]
    fn comments() {
        check("SELECT 1 -- ; no\n;", true, Some("SELECT 1 -- ; no\n;"));
        check(
            "SELECT /* a /* ; */ ; */ 1;",
            true,
            Some("SELECT /* a /* ; */ ; */ 1;"),
        );
        check("SELECT 1 - 2;", true, Some("SELECT 1 - 2;"));
        check("SELECT 4 / 2;", true, Some("SELECT 4 / 2;"));
    }

    #[test]
    fn parentheses() {
        check(
            "CREATE RULE r AS ON DELETE TO v DO INSTEAD (DELETE FROM a; DELETE FROM b);",
            true,
            Some("CREATE RULE r AS ON DELETE TO v DO INSTEAD (DELETE FROM a; DELETE FROM b);"),
        );
    }

    #[test]
    fn begin_atomic_bodies() {
        let s = "CREATE PROCEDURE app.p1()\n    LANGUAGE sql\n    BEGIN ATOMIC\n SELECT 1;\n SELECT CASE WHEN true THEN 1 END;\nEND;\nSELECT 2;";
        check(s, true, Some(&s[..s.rfind("END;\n").unwrap() + 4]));
        let s =
            "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;x";
        check(s, true, Some(&s[..s.len() - 1]));
        // BEGIN as a transaction command is an ordinary statement.
        check("BEGIN;\nSELECT 1;", true, Some("BEGIN;"));
    }

    #[test]
    fn copy_detection() {
        let mut l = Lexer::new(true);
        assert!(matches!(
            l.scan(b"COPY app.t1 (id, \"from\") FROM stdin;\n"),
            Scan::End(_)
        ));
        assert!(l.is_copy_from_stdin());
        let mut l = Lexer::new(true);
        let _ = l.scan(b"COPY t TO stdout;");
        assert!(!l.is_copy_from_stdin());
        let mut l = Lexer::new(true);
        let _ = l.scan(b"SELECT 1 FROM stdin;");
        assert!(!l.is_copy_from_stdin());
        let mut l = Lexer::new(true);
        let _ = l.scan(b"COPY \"we\"\"ird\" FROM -- x\n STDIN WITH (FORMAT text);");
        assert!(l.is_copy_from_stdin());
    }

    #[test]
    fn non_utf8_bytes_are_identifier_bytes() {
        let s = b"SELECT \xe9t\xe9 FROM t;rest";
        let mut l = Lexer::new(true);
        assert_eq!(l.scan(s), Scan::End(s.len() - 4));
    }

    #[test]
    fn backslash_commands_inside_statements_are_reported() {
        for (s, at) in [
            ("SELECT 1\n\\g\nGRANT SELECT ON t TO a;", 9),
            ("SELECT 1 \\; GRANT x TO y;", 9),
            ("SELECT :\\:x;", 8),
        ] {
            let mut l = Lexer::new(true);
            assert_eq!(l.scan(s.as_bytes()), Scan::Backslash(at), "{s:?}");
        }
        // Inside quotes, comments and dollar quotes a backslash is text.
        check(
            "SELECT '\\', $$\\$$ /* \\ */ -- \\\n;",
            true,
            Some("SELECT '\\', $$\\$$ /* \\ */ -- \\\n;"),
        );
    }

    #[test]
    fn psql_variables_are_reported() {
        for (s, at) in [
            ("SELECT :'x';", 7),
            ("GRANT ALL ON t TO :\"who\";", 18),
            ("SELECT :USER;", 7),
            ("SELECT :{?x};", 7),
        ] {
            let mut l = Lexer::new(true);
            assert_eq!(l.scan(s.as_bytes()), Scan::Variable(at), "{s:?}");
        }
        // Casts, slices and variables psql does not set pass.
        check(
            "SELECT a::int, b[1:2], c[lo:hi], ':USER';x",
            true,
            Some("SELECT a::int, b[1:2], c[lo:hi], ':USER';"),
        );
    }

    #[test]
    fn bit_and_hex_strings_have_no_escapes() {
        // With standard_conforming_strings off, '\'' escapes; in B'' and X'' not.
        check("SELECT X'\\';x", false, Some("SELECT X'\\';"));
        check("SELECT b'\\';x", false, Some("SELECT b'\\';"));
        check("SELECT 'a\\';';x", false, Some("SELECT 'a\\';';"));
    }

    #[test]
    fn sjis_trailing_backslashes_are_not_escapes() {
        // U+8868 is 0x95 0x5C in Shift_JIS: psql masks the trailing byte.
        let s = b"SELECT E'\x95\x5c';rest";
        let mut l = Lexer::for_encoding(true, "SJIS");
        assert_eq!(l.scan(s), Scan::End(s.len() - 4));
        // In UTF8 the same bytes are an escaped quote: the literal goes on.
        let mut l = Lexer::for_encoding(true, "UTF8");
        assert_eq!(l.scan(s), Scan::NeedMore);
        // An unquoted identifier: the trailing 0x5C belongs to its character.
        let s = b"SELECT \x95\x5c;rest";
        let mut l = Lexer::for_encoding(true, "SJIS");
        assert_eq!(l.scan(s), Scan::End(s.len() - 4));
        let mut l = Lexer::for_encoding(true, "UTF8");
        assert_eq!(l.scan(s), Scan::Backslash(8));
        // Fed a byte at a time, the same.
        let s = b"SELECT E'\x95\x5c\x95\x5c';rest";
        let mut l = Lexer::for_encoding(true, "BIG5");
        let mut got = None;
        for n in 1..=s.len() {
            if let Scan::End(e) = l.scan(&s[..n]) {
                got = Some(e);
                break;
            }
        }
        assert_eq!(got, Some(s.len() - 4));
    }

    #[test]
    fn incomplete_statements_need_more() {
        for s in [
            "SELECT 'abc",
            "SELECT $f$ body",
            "SELECT \"x",
            "SELECT (1;",
            "SELECT 1 /* ; ",
            "SELECT 1 -- ;",
        ] {
            assert_eq!(end_of(s, true), None, "{s:?}");
        }
    }
}
