//! `--filter FILE`: pg_dump's filter files, read as pg_dump 17 and later
//! read them, so one file serves both.
//!
//! A line is `include|exclude OBJECT-TYPE PATTERN`; blank lines and lines
//! whose first non-blank character is `#` are skipped, and a `#` outside
//! quotes ends a pattern. The keywords are case-insensitive. A pattern is
//! copied as pg_dump copies it: unquoted words joined by one space, no
//! space kept around `.`, `(` and `)` (nor after a comma, which becomes
//! `, `), double-quoted parts kept with their quotes (`""` stays a pair,
//! `\n` is a newline and `\\` a backslash inside them) and allowed to run
//! over several lines. The errors are pg_dump's, with the line number.

use crate::error::{Error, Result};

/// The object types of a filter line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Table,
    TableAndChildren,
    TableData,
    TableDataAndChildren,
    Schema,
    Extension,
    ForeignData,
    Database,
    Function,
    Index,
    Trigger,
}

impl ObjectType {
    fn from_keyword(word: &str) -> Option<ObjectType> {
        use ObjectType::*;
        Some(match word.to_ascii_lowercase().as_str() {
            "table" => Table,
            "table_and_children" => TableAndChildren,
            "table_data" => TableData,
            "table_data_and_children" => TableDataAndChildren,
            "schema" => Schema,
            "extension" => Extension,
            "foreign_data" => ForeignData,
            "database" => Database,
            "function" => Function,
            "index" => Index,
            "trigger" => Trigger,
            _ => return None,
        })
    }

    /// The name pg_dump gives it in messages.
    pub fn display(self) -> &'static str {
        use ObjectType::*;
        match self {
            Table => "table",
            TableAndChildren => "table and children",
            TableData => "table data",
            TableDataAndChildren => "table data and children",
            Schema => "schema",
            Extension => "extension",
            ForeignData => "foreign data",
            Database => "database",
            Function => "function",
            Index => "index",
            Trigger => "trigger",
        }
    }
}

/// One line of a filter file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub include: bool,
    pub object: ObjectType,
    pub pattern: String,
    /// The line it was read on (its last line, for a pattern over several).
    pub line: usize,
}

/// Where a filter file came from, as pg_dump names it in messages.
pub enum Source<'a> {
    File(&'a str),
    Stdin,
}

/// Read the rules of a filter file. `text` is the whole file.
pub fn parse(text: &[u8], source: &Source<'_>) -> Result<Vec<Rule>> {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut rules = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut lineno = i + 1;
        let line = lines[i];
        i += 1;
        let err = |at: usize, msg: &str| invalid(source, at, msg);
        let rest = line.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let (command, rest) = word(rest);
        let include = if command.eq_ignore_ascii_case("include") {
            true
        } else if command.eq_ignore_ascii_case("exclude") {
            false
        } else {
            return Err(err(
                lineno,
                "invalid filter command (expected \"include\" or \"exclude\")",
            ));
        };
        let (kind, rest) = word(rest.trim_start());
        if kind.is_empty() {
            return Err(err(lineno, "missing filter object type"));
        }
        let Some(object) = ObjectType::from_keyword(kind) else {
            return Err(err(
                lineno,
                &format!("unsupported filter object type: \"{kind}\""),
            ));
        };
        let mut s: &str = rest.trim_start();
        if s.trim_end_matches(['\n', '\r']).is_empty() {
            return Err(err(lineno, "missing object name pattern"));
        }
        let mut pattern = String::new();
        let mut skip_space = true;
        let mut found_space = false;
        while let Some(c) = s.chars().next() {
            if c == '#' {
                break;
            }
            // An unquoted run.
            let run_end = s
                .find(|c: char| c.is_whitespace() || "#,.()\"".contains(c))
                .unwrap_or(s.len());
            if run_end > 0 {
                if !skip_space && found_space {
                    pattern.push(' ');
                }
                pattern.push_str(&s[..run_end]);
                s = &s[run_end..];
            }
            skip_space = false;
            match s.chars().next() {
                Some('"') => {
                    if found_space {
                        pattern.push(' ');
                    }
                    // A quoted part, over as many lines as it takes.
                    pattern.push('"');
                    s = &s[1..];
                    loop {
                        let Some(c) = s.chars().next() else {
                            if i >= lines.len() {
                                return Err(err(lineno, "unexpected end of file"));
                            }
                            s = lines[i];
                            i += 1;
                            lineno += 1;
                            pattern.push('\n');
                            continue;
                        };
                        match c {
                            '\r' | '\n' => s = &s[1..],
                            '"' => {
                                pattern.push('"');
                                s = &s[1..];
                                if s.starts_with('"') {
                                    pattern.push('"');
                                    s = &s[1..];
                                } else {
                                    break;
                                }
                            }
                            '\\' => {
                                s = &s[1..];
                                match s.chars().next() {
                                    Some('n') => pattern.push('\n'),
                                    Some('\\') => pattern.push('\\'),
                                    _ => {}
                                }
                                if let Some(c) = s.chars().next() {
                                    s = &s[c.len_utf8()..];
                                }
                            }
                            c => {
                                pattern.push(c);
                                s = &s[c.len_utf8()..];
                            }
                        }
                    }
                }
                Some(',') => {
                    pattern.push_str(", ");
                    skip_space = true;
                    s = &s[1..];
                }
                Some(c @ ('.' | '(' | ')')) => {
                    pattern.push(c);
                    skip_space = true;
                    s = &s[1..];
                }
                _ => {}
            }
            found_space = false;
            let trimmed = s.trim_start();
            if trimmed.len() != s.len() {
                found_space = true;
                s = trimmed;
            }
        }
        rules.push(Rule {
            include,
            object,
            pattern,
            line: lineno,
        });
    }
    Ok(rules)
}

/// The first whitespace-delimited word of `s` and the rest.
fn word(s: &str) -> (&str, &str) {
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// The error pg_dump gives for a rule it does not take: `include filter
/// for "table data" is not allowed`, in the file's line format.
pub fn not_allowed(rule: &Rule, source: &Source<'_>) -> Error {
    let msg = format!(
        "{} filter for \"{}\" is not allowed",
        if rule.include { "include" } else { "exclude" },
        rule.object.display()
    );
    invalid(source, rule.line, &msg)
}

/// pg_dump's error for line `at` of a filter file (its message part cut
/// at 255 bytes, as pg_dump cuts it).
fn invalid(source: &Source<'_>, at: usize, msg: &str) -> Error {
    let mut msg = msg.to_string();
    if msg.len() > 255 {
        let mut cut = 255;
        while !msg.is_char_boundary(cut) {
            cut -= 1;
        }
        msg.truncate(cut);
    }
    let from = match source {
        Source::File(name) => format!("file \"{name}\""),
        Source::Stdin => "standard input".to_string(),
    };
    Error::usage(format!(
        "invalid format in filter read from {from} on line {at}: {msg}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<Rule> {
        parse(line.as_bytes(), &Source::File("f")).map(|mut v| v.remove(0))
    }

    #[test]
    fn lines_as_pg_dump_reads_them() {
        let rules = parse(
            b"# a comment\n\n   \ninclude table public.t\nEXCLUDE Table_Data  t2 # why\n",
            &Source::File("f"),
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules[0],
            Rule {
                include: true,
                object: ObjectType::Table,
                pattern: "public.t".into(),
                line: 4
            }
        );
        assert_eq!(rules[1].object, ObjectType::TableData);
        assert_eq!(rules[1].pattern, "t2");
        // Words after a name stay in the pattern, spaces round dots go.
        assert_eq!(
            one("include table t extra words").unwrap().pattern,
            "t extra words"
        );
        assert_eq!(one("include table s1 .st").unwrap().pattern, "s1.st");
        assert_eq!(
            one("include table \"s1\" . \"st\"").unwrap().pattern,
            "\"s1\". \"st\""
        );
        assert_eq!(
            one("include table \"we\"\"ird\".\"a\\nb\"")
                .unwrap()
                .pattern,
            "\"we\"\"ird\".\"a\nb\""
        );
        assert_eq!(one("include table   # c").unwrap().pattern, "");
        // A quoted name over two lines.
        let r = parse(b"include table \"a\nb\"\n", &Source::Stdin).unwrap();
        assert_eq!(r[0].pattern, "\"a\nb\"");
        assert_eq!(r[0].line, 2);
    }

    #[test]
    fn pg_dumps_errors() {
        let msg = |text: &str| {
            parse(text.as_bytes(), &Source::File("f.txt"))
                .unwrap_err()
                .message
        };
        assert_eq!(
            msg("\nkeep table t\n"),
            "invalid format in filter read from file \"f.txt\" on line 2: invalid filter command (expected \"include\" or \"exclude\")"
        );
        assert_eq!(
            msg("include\n"),
            "invalid format in filter read from file \"f.txt\" on line 1: missing filter object type"
        );
        assert_eq!(
            msg("include view v\n"),
            "invalid format in filter read from file \"f.txt\" on line 1: unsupported filter object type: \"view\""
        );
        assert_eq!(
            msg("exclude table\n"),
            "invalid format in filter read from file \"f.txt\" on line 1: missing object name pattern"
        );
        assert_eq!(
            msg("include table \"open\n"),
            "invalid format in filter read from file \"f.txt\" on line 1: unexpected end of file"
        );
        let err = parse(b"exclude table \"x", &Source::Stdin)
            .unwrap_err()
            .message;
        assert!(err.starts_with("invalid format in filter read from standard input on line 1"));
        let rule = one("include table_data t").unwrap();
        assert_eq!(
            not_allowed(&rule, &Source::File("f")).message,
            "invalid format in filter read from file \"f\" on line 1: include filter for \"table data\" is not allowed"
        );
    }
}
