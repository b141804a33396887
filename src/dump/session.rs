//! The session settings that change how psql reads the rest of a stream:
//! `standard_conforming_strings` (whether a backslash escapes a quote in
//! `'…'`) and `client_encoding` (which bytes form one character).
//!
//! psql does not read these from the text: after every statement it asks
//! the server, so any statement that changes them changes how psql lexes
//! what follows. The forms a dump uses (`SET name = value`, `SET name TO
//! value`, `SET SESSION name …`, `SET NAMES …`, `RESET …`, `\connect`) are
//! followed here exactly; the forms whose effect cannot be known from the
//! text (`SET LOCAL`, which ends with the transaction; `set_config(…)`;
//! `RESET client_encoding`, which goes back to whatever psql negotiated)
//! are errors, so that no tool reads a stream differently from psql.

/// How a statement changes one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    /// `SET [SESSION] name {=|TO} value`: the value, quotes removed.
    Value(&'a [u8]),
    /// `SET name TO DEFAULT`, `RESET name`, `RESET ALL`.
    Default,
    /// `SET LOCAL name …`: until the end of the transaction.
    Local,
}

/// What `stmt` does to setting `name` (lower case), when it is a SET or
/// RESET statement about it. `SET NAMES x` counts as `client_encoding`.
pub fn change<'a>(stmt: &'a [u8], name: &[u8]) -> Option<Change<'a>> {
    let s = stmt.trim_ascii();
    let s = s.strip_suffix(b";").unwrap_or(s).trim_ascii_end();
    if let Some(rest) = crate::sql::words::strip_word(s, b"reset") {
        let rest = rest.trim_ascii();
        return (eq_name(rest, name) || rest.eq_ignore_ascii_case(b"all"))
            .then_some(Change::Default);
    }
    let rest = crate::sql::words::strip_word(s, b"set")?;
    let (rest, local) = match crate::sql::words::strip_word(rest, b"local") {
        Some(r) => (r, true),
        None => (
            crate::sql::words::strip_word(rest, b"session").unwrap_or(rest),
            false,
        ),
    };
    let rest = rest.trim_ascii();
    let value = if name == b"client_encoding"
        && let Some(v) = crate::sql::words::strip_word(rest, b"names")
    {
        v
    } else {
        let after = name_prefix(rest, name)?;
        let after = after.trim_ascii();
        match after.strip_prefix(b"=") {
            Some(r) => r,
            None => crate::sql::words::strip_word(after, b"to")?,
        }
    };
    if local {
        return Some(Change::Local);
    }
    let v = value.trim_ascii();
    if v.eq_ignore_ascii_case(b"default") {
        return Some(Change::Default);
    }
    let v = v
        .strip_prefix(b"'")
        .and_then(|v| v.strip_suffix(b"'"))
        .or_else(|| v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")))
        .unwrap_or(v);
    Some(Change::Value(v))
}

/// Whether the statement may call `set_config` on setting `name`.
pub fn calls_set_config(stmt: &[u8], name: &[u8]) -> bool {
    let lower = stmt.to_ascii_lowercase();
    memchr::memmem::find(&lower, b"set_config").is_some()
        && memchr::memmem::find(&lower, name).is_some()
}

/// PostgreSQL's boolean words for `standard_conforming_strings`.
pub fn boolean(v: &[u8]) -> Option<bool> {
    let v = v.to_ascii_lowercase();
    match v.as_slice() {
        b"on" | b"true" | b"yes" | b"1" | b"t" | b"y" => Some(true),
        b"off" | b"false" | b"no" | b"0" | b"f" | b"n" => Some(false),
        _ => None,
    }
}

/// `s` after `name` (as a bare or double-quoted identifier, any case).
fn name_prefix<'a>(s: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    if let Some(q) = s.strip_prefix(b"\"") {
        let end = memchr::memchr(b'"', q)?;
        return (q[..end] == *name).then(|| &q[end + 1..]);
    }
    if s.len() < name.len() || !s[..name.len()].eq_ignore_ascii_case(name) {
        return None;
    }
    let rest = &s[name.len()..];
    match rest.first() {
        None => Some(rest),
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => None,
        Some(_) => Some(rest),
    }
}

fn eq_name(s: &[u8], name: &[u8]) -> bool {
    name_prefix(s, name).is_some_and(|r| r.trim_ascii().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCS: &[u8] = b"standard_conforming_strings";

    #[test]
    fn forms() {
        assert_eq!(
            change(b"SET standard_conforming_strings = off;", SCS),
            Some(Change::Value(b"off"))
        );
        assert_eq!(
            change(b"set session Standard_Conforming_Strings to 'on';\n", SCS),
            Some(Change::Value(b"on"))
        );
        assert_eq!(
            change(b"SET \"standard_conforming_strings\" TO off;", SCS),
            Some(Change::Value(b"off"))
        );
        assert_eq!(
            change(b"SET standard_conforming_strings TO DEFAULT;", SCS),
            Some(Change::Default)
        );
        assert_eq!(
            change(b"RESET standard_conforming_strings;", SCS),
            Some(Change::Default)
        );
        assert_eq!(change(b"RESET ALL;", SCS), Some(Change::Default));
        assert_eq!(
            change(b"SET LOCAL standard_conforming_strings = off;", SCS),
            Some(Change::Local)
        );
        assert_eq!(
            change(b"SET standard_conforming_strings_x = off;", SCS),
            None
        );
        assert_eq!(change(b"SET search_path = x;", SCS), None);
        assert_eq!(
            change(b"SET NAMES 'LATIN1';", b"client_encoding"),
            Some(Change::Value(b"LATIN1"))
        );
        assert_eq!(
            change(b"SET client_encoding = 'UTF8';", b"client_encoding"),
            Some(Change::Value(b"UTF8"))
        );
        assert!(calls_set_config(
            b"SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);",
            SCS
        ));
        assert_eq!(boolean(b"OFF"), Some(false));
        assert_eq!(boolean(b"maybe"), None);
    }
}
