//! psql's backslash commands, read as psql reads them: the one
//! meta-command reader every tool uses.
//!
//! A line whose first non-blank byte is `\` is a command for psql, not SQL.
//! psql splits its arguments at white space, honours `'…'` (with backslash
//! escapes), `"…"` (no escapes) and `` `…` `` (a shell command whose output
//! becomes the argument), substitutes `:name`, `:'name'` and `:"name"` with
//! variables, and ends the command at an unquoted backslash: `\\` ends it
//! and the rest of the line is SQL, any other backslash starts a second
//! command. [`parse`] returns all of that, so a tool can refuse what it
//! cannot follow, and [`Meta::is_dump_form`] says whether the line is one
//! that pg_dump, pg_dumpall or a pgpipe tool writes.

/// One parsed meta-command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta<'a> {
    /// The command's name, without the backslash (`connect`, `g`, `!`).
    pub name: &'a [u8],
    /// The arguments, dequoted (for commands that take the whole line, one
    /// argument: the rest of the line).
    pub args: Vec<Vec<u8>>,
    /// Byte offset of an unquoted backslash after the arguments: `\\`
    /// (the rest of the line is SQL) or a second command.
    pub more: Option<usize>,
    /// An argument holds a backtick command.
    pub shell: bool,
    /// An argument holds a variable reference (`:x`, `:'x'`, `:"x"`).
    pub variables: bool,
}

/// Commands whose argument is the rest of the line, backslashes included.
const WHOLE_LINE: &[&[u8]] = &[b"!", b"copy", b"ef", b"ev", b"sf", b"sv", b"h", b"help"];

/// Parse a meta-command line (leading blanks allowed, newline optional).
pub fn parse(line: &[u8]) -> Meta<'_> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let start = line.len() - line.trim_ascii_start().len();
    let body = &line[start..];
    let body = body.strip_prefix(b"\\").unwrap_or(body);
    let base = start + 1;
    let name_len = body
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'\\')
        .unwrap_or(body.len());
    // A one-character command may be glued to its argument (`\!ls`).
    let name_len = if name_len == 0 && !body.is_empty() && body[0] != b'\\' {
        1
    } else {
        name_len
    };
    let name = &body[..name_len];
    let mut meta = Meta {
        name,
        args: Vec::new(),
        more: None,
        shell: false,
        variables: false,
    };
    let rest = &body[name_len..];
    if WHOLE_LINE.contains(&name) {
        let arg = rest.trim_ascii();
        if !arg.is_empty() {
            meta.args.push(arg.to_vec());
        }
        return meta;
    }
    let mut i = 0;
    while i < rest.len() {
        while i < rest.len() && rest[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= rest.len() {
            break;
        }
        if rest[i] == b'\\' {
            meta.more = Some(base + name_len + i);
            break;
        }
        let mut arg = Vec::new();
        while i < rest.len() && !rest[i].is_ascii_whitespace() {
            match rest[i] {
                b'\\' => break,
                b'\'' => {
                    i += 1;
                    while i < rest.len() {
                        match rest[i] {
                            b'\'' if rest.get(i + 1) == Some(&b'\'') => {
                                arg.push(b'\'');
                                i += 2;
                            }
                            b'\'' => {
                                i += 1;
                                break;
                            }
                            b'\\' if i + 1 < rest.len() => {
                                let c = rest[i + 1];
                                arg.push(match c {
                                    b'n' => b'\n',
                                    b't' => b'\t',
                                    b'b' => 8,
                                    b'r' => b'\r',
                                    b'f' => 12,
                                    c => c,
                                });
                                i += 2;
                            }
                            c => {
                                arg.push(c);
                                i += 1;
                            }
                        }
                    }
                }
                b'"' => {
                    i += 1;
                    while i < rest.len() {
                        match rest[i] {
                            b'"' if rest.get(i + 1) == Some(&b'"') => {
                                arg.push(b'"');
                                i += 2;
                            }
                            b'"' => {
                                i += 1;
                                break;
                            }
                            c => {
                                arg.push(c);
                                i += 1;
                            }
                        }
                    }
                }
                b'`' => {
                    meta.shell = true;
                    i += 1;
                    while i < rest.len() && rest[i] != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                b':' if rest.get(i + 1).is_some_and(|&n| {
                    n == b'\'' || n == b'"' || n.is_ascii_alphabetic() || n == b'_' || n >= 0x80
                }) =>
                {
                    meta.variables = true;
                    arg.push(b':');
                    i += 1;
                }
                c => {
                    arg.push(c);
                    i += 1;
                }
            }
        }
        meta.args.push(arg);
    }
    meta
}

impl Meta<'_> {
    /// Whether this is a line that pg_dump, pg_dumpall or a pgpipe tool
    /// writes: `\connect` (or `\c`) to a database, `\restrict KEY`,
    /// `\unrestrict KEY`, `\encoding NAME`, and pgpipe-guard's
    /// `\set ON_ERROR_STOP on`, with plain arguments (no shell command, no
    /// variable, no second command).
    pub fn is_dump_form(&self) -> bool {
        if self.more.is_some() || self.shell || self.variables {
            return false;
        }
        let n = self.args.len();
        match self.name {
            b"connect" | b"c" => (1..=2).contains(&n),
            b"restrict" | b"unrestrict" => n == 1,
            b"encoding" => n == 1,
            b"set" => n == 2 && self.args[0] == b"ON_ERROR_STOP" && self.args[1] == b"on",
            _ => false,
        }
    }

    /// Why psql would, at this command, send or skip statements that the
    /// stream does not show as statements (so no reader of the text can
    /// agree with psql): `None` for commands that send nothing and change
    /// nothing of what is sent (`\echo`, `\pset`, `\connect`, … and setting
    /// psql's own variables, whose references are refused anyway).
    pub fn diverges(&self) -> Option<&'static str> {
        if self.is_dump_form() {
            return None;
        }
        let own_variable = |a: Option<&Vec<u8>>| {
            a.is_some_and(|v| {
                super::lexer::PSQL_VARIABLES
                    .iter()
                    .any(|p| p.as_bytes() == v)
            })
        };
        match self.name {
            b"connect" | b"c" if !self.shell && !self.variables => None,
            b"restrict" | b"unrestrict" | b"encoding" => None,
            // Outside COPY data psql reports an invalid command and goes on.
            b"." => None,
            b"echo" | b"qecho" | b"warn" | b"pset" | b"a" | b"t" | b"x" | b"timing" | b"C"
            | b"f" | b"H" | b"T" | b"o" | b"out" | b"errverbose" | b"p" | b"print" | b"w"
            | b"write" => None,
            b"set" | b"unset" if own_variable(self.args.first()) => None,
            b"set" | b"unset" | b"getenv" | b"gset" => {
                Some("it sets a variable that psql then substitutes into the SQL that follows")
            }
            b"if" | b"elif" | b"else" | b"endif" => Some(
                "psql skips the lines of a false branch, and pgpipe does not evaluate conditions",
            ),
            b"i" | b"include" | b"ir" | b"include_relative" => {
                Some("psql reads and runs another file, which the stream does not hold")
            }
            b"q" | b"quit" => Some("psql stops reading there"),
            b"prompt" => Some("psql reads the next line as the answer"),
            b"copy" => Some("psql sends a COPY of its own, with data from a file"),
            name if name.starts_with(b"g") || name == b"watch" || name == b"crosstabview" => {
                Some("psql sends (or sends again) a query there")
            }
            _ => Some("psql sends queries or runs commands there that the stream does not show"),
        }
    }

    /// The name as text, for messages.
    pub fn display(&self) -> String {
        format!("\\{}", String::from_utf8_lossy(self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_forms() {
        for line in [
            &b"\\connect db1\n"[..],
            b"\\connect -reuse-previous=on \"dbname='my db'\"\n",
            b"\\restrict abcDEF123\n",
            b"\\unrestrict abcDEF123",
            b"\\set ON_ERROR_STOP on\n",
            b"  \\c \"We\"\"ird\"\r\n",
        ] {
            assert!(
                parse(line).is_dump_form(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        let m = parse(b"\\connect -reuse-previous=on \"dbname='my db'\"\n");
        assert_eq!(m.args[1], b"dbname='my db'");
    }

    #[test]
    fn other_forms() {
        let m = parse(b"\\set x 1 \\\\ GRANT ALL ON t TO a;\n");
        assert_eq!(m.name, b"set");
        assert_eq!(m.more, Some(9));
        assert!(!m.is_dump_form());
        let m = parse(b"\\connect db \\gexec\n");
        assert_eq!(m.more, Some(12));
        assert!(parse(b"\\connect `hostname`\n").shell);
        assert!(parse(b"\\connect :db\n").variables);
        assert!(parse(b"\\connect :'db'\n").variables);
        // Quoted backslashes are text.
        assert_eq!(parse(b"\\connect '\\\\x'\n").more, None);
        let m = parse(b"\\! psql -c 'GRANT x TO y' \\\\ z\n");
        assert_eq!(m.name, b"!");
        assert_eq!(m.more, None);
        assert!(!m.is_dump_form());
        for line in [
            &b"\\gexec\n"[..],
            b"\\i other.sql\n",
            b"\\if false\n",
            b"\\copy t from x\n",
        ] {
            assert!(
                !parse(line).is_dump_form(),
                "{}",
                String::from_utf8_lossy(line)
            );
            assert!(
                parse(line).diverges().is_some(),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        for line in [
            &b"\\echo hi\n"[..],
            b"\\set VERBOSITY verbose\n",
            b"\\pset pager off\n",
            b"\\connect db\n",
        ] {
            assert_eq!(
                parse(line).diverges(),
                None,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        assert!(parse(b"\\set who alice\n").diverges().is_some());
        assert!(parse(b"\\g\n").diverges().is_some());
        assert!(parse(b"\\dt\n").diverges().is_some());
    }
}
