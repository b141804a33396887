//! Object-name patterns with pg_dump's rules: `*` and `?` are wildcards, a
//! dot separates schema from name, unquoted letters fold to lower case, and
//! double quotes match their contents exactly (`""` is one quote; `*`, `?`
//! and `.` inside quotes are literal). An unqualified table pattern matches
//! the relations pg_dump's would: those visible on the default search path,
//! which in a dump is schema `public` (or no schema named at all, in a
//! dump from before 9.6.8 that sets `search_path` instead). pg_dump also
//! passes other regular-expression characters through (`|`, `+`, `[…]`,
//! …); pgpipe refuses them rather than read them another way, and refuses
//! `db.schema.name`, since a dump does not say which database pg_dump was
//! connected to. The dotted-name errors are pg_dump's.

use crate::error::{Error, Result};

/// One part of a pattern, as a sequence of literal characters and wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    Char(char),
    /// `?`: any one character.
    One,
    /// `*`: any run of characters.
    Any,
}

/// A compiled pattern: `name` alone, or `schema.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The pattern as given, for messages.
    pub text: String,
    schema: Option<Vec<Atom>>,
    name: Vec<Atom>,
}

impl Pattern {
    /// Compile a pattern for objects inside schemas (`[schema.]name`).
    pub fn qualified(text: &str) -> Result<Pattern> {
        let mut parts = split(text)?;
        match parts.len() {
            3 => Err(Error::usage(format!(
                "{text}: a database.schema.name pattern cannot be checked against a dump, which does not say which database pg_dump was connected to"
            ))
            .with_hint("give schema.name (pgpipe-filter --database picks a database of pg_dumpall output)")),
            1 => Ok(Pattern {
                text: text.to_string(),
                schema: None,
                name: parts.pop().unwrap_or_default(),
            }),
            2 => {
                let name = parts.pop().unwrap_or_default();
                let schema = parts.pop();
                Ok(Pattern {
                    text: text.to_string(),
                    schema,
                    name,
                })
            }
            _ => Err(Error::usage(format!(
                "improper relation name (too many dotted names): {text}"
            ))),
        }
    }

    /// Compile a pattern for a schema (`-n`, `-N`), with pg_dump's errors
    /// for dotted names.
    pub fn schema(text: &str) -> Result<Pattern> {
        match split(text)?.len() {
            1 => Pattern::simple(text),
            2 => Err(Error::usage(format!(
                "cross-database references are not implemented: {text}"
            ))),
            _ => Err(Error::usage(format!(
                "improper qualified name (too many dotted names): {text}"
            ))),
        }
    }

    /// Compile a pattern for a single name (an extension, a database).
    pub fn simple(text: &str) -> Result<Pattern> {
        let mut parts = split(text)?;
        if parts.len() != 1 {
            return Err(Error::usage(format!(
                "improper qualified name (too many dotted names): {text}"
            ))
            .with_hint("quote a name that holds a dot: \"a.b\""));
        }
        Ok(Pattern {
            text: text.to_string(),
            schema: None,
            name: parts.pop().unwrap_or_default(),
        })
    }

    /// Whether the pattern matches an object `name` in `schema` (an
    /// unqualified pattern: in schema `public`, or where the dump names no
    /// schema).
    pub fn matches(&self, schema: Option<&str>, name: &str) -> bool {
        match (&self.schema, schema) {
            (Some(sp), Some(s)) if glob(sp, s) => {}
            (Some(_), _) => return false,
            (None, None | Some("" | "public")) => {}
            (None, Some(_)) => return false,
        }
        glob(&self.name, name)
    }

    /// Whether a single-name pattern matches `name`.
    pub fn matches_name(&self, name: &str) -> bool {
        self.schema.is_none() && glob(&self.name, name)
    }
}

/// Split a pattern into dot-separated parts of atoms.
fn split(text: &str) -> Result<Vec<Vec<Atom>>> {
    if text.is_empty() {
        return Err(Error::usage("empty pattern"));
    }
    let mut parts = vec![Vec::new()];
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let cur = parts.last_mut().expect("one part at least");
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push(Atom::Char('"'));
                } else {
                    quoted = false;
                }
            } else {
                cur.push(Atom::Char(c));
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '.' => parts.push(Vec::new()),
            '*' => cur.push(Atom::Any),
            '?' => cur.push(Atom::One),
            '|' | '+' | '(' | ')' | '[' | ']' | '{' | '}' | '^' | '\\' => {
                return Err(Error::usage(format!(
                    "pattern {text:?}: {c:?} is regular-expression syntax, which pg_dump passes through and pgpipe-filter does not read"
                ))
                .with_hint("use * and ?, or quote the character to match it literally"));
            }
            c => cur.extend(c.to_lowercase().map(Atom::Char)),
        }
    }
    if quoted {
        return Err(Error::usage(format!(
            "pattern {text:?} has an unterminated double quote"
        )));
    }
    if parts.iter().any(|p| p.is_empty()) {
        return Err(Error::usage(format!("pattern {text:?} has an empty part")));
    }
    Ok(parts)
}

/// Glob match of atoms against a string (iterative, with backtracking to
/// the last `*`).
fn glob(pat: &[Atom], s: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(Atom::Any) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Atom::One) => {
                p += 1;
                i += 1;
            }
            Some(Atom::Char(c)) if *c == s[i] => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|a| *a == Atom::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_dump_rules() {
        let p = Pattern::qualified("events").unwrap();
        assert!(p.matches(Some("public"), "events"));
        // Unqualified: what the default search path sees.
        assert!(!p.matches(Some("other"), "events"));
        assert!(p.matches(Some(""), "events"));
        assert!(!p.matches(Some("public"), "Events"));
        let p = Pattern::qualified("Events").unwrap();
        assert!(p.matches(None, "events"));
        let p = Pattern::qualified("\"Events\"").unwrap();
        assert!(p.matches(None, "Events") && !p.matches(None, "events"));
        let p = Pattern::qualified("public.ev*").unwrap();
        assert!(p.matches(Some("public"), "events"));
        assert!(p.matches(Some("public"), "ev"));
        assert!(!p.matches(Some("app"), "events"));
        assert!(!p.matches(None, "events"));
        let p = Pattern::qualified("*.e?ents").unwrap();
        assert!(p.matches(Some("x"), "events") && !p.matches(Some("x"), "evvents"));
        let p = Pattern::qualified("\"a.b*\"").unwrap();
        assert!(p.matches(None, "a.b*") && !p.matches(None, "a.bc"));
        // pg_dump's errors for dotted names; regular expressions refused.
        let err = |r: Result<Pattern>| r.unwrap_err().message;
        assert_eq!(
            err(Pattern::qualified("a.b.c.d")),
            "improper relation name (too many dotted names): a.b.c.d"
        );
        assert!(err(Pattern::qualified("db.s.t")).contains("database.schema.name"));
        assert_eq!(
            err(Pattern::schema("db.s")),
            "cross-database references are not implemented: db.s"
        );
        assert_eq!(
            err(Pattern::schema("a.b.c")),
            "improper qualified name (too many dotted names): a.b.c"
        );
        assert_eq!(
            err(Pattern::simple("x.y")),
            "improper qualified name (too many dotted names): x.y"
        );
        assert!(err(Pattern::qualified("event(s|_json)")).contains("regular-expression"));
        assert!(Pattern::qualified("\"a|b\"").unwrap().matches(None, "a|b"));
        let p = Pattern::qualified("\"we\"\"ird\"").unwrap();
        assert!(p.matches(None, "we\"ird"));
        let p = Pattern::qualified("*a*b").unwrap();
        assert!(p.matches(None, "xxaxxbxb") && !p.matches(None, "xxaxxbxc"));
        assert!(Pattern::qualified("").is_err());
        assert!(Pattern::qualified("\"open").is_err());
        assert!(Pattern::qualified("a.").is_err());
        assert!(Pattern::simple("a.b").is_err());
        assert!(Pattern::simple("weird*").unwrap().matches_name("weird db"));
    }
}
