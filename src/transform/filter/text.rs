//! Cheap reads of statement text the filter needs before (or instead of)
//! the analysis: data targets, names, literals, the parse tree's first
//! statement.

use super::*;

pub(super) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while let Some(i) = memchr::memchr2(lo, up, &hay[from..]) {
        let at = from + i;
        let end = at + needle.len();
        if end > hay.len() {
            return None;
        }
        if hay[at + 1..end].eq_ignore_ascii_case(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The contents of the string literal starting at `stmt[i]` (`'…'`, with
/// `''`), and the index after it.
pub(super) fn literal_at(stmt: &[u8], mut i: usize) -> Option<(Vec<u8>, usize)> {
    while i < stmt.len() && stmt[i].is_ascii_whitespace() {
        i += 1;
    }
    if stmt.get(i) != Some(&b'\'') {
        return None;
    }
    i += 1;
    let mut v = Vec::new();
    loop {
        let j = i + memchr::memchr(b'\'', &stmt[i..])?;
        v.extend_from_slice(&stmt[i..j]);
        if stmt.get(j + 1) == Some(&b'\'') {
            v.push(b'\'');
            i = j + 2;
        } else {
            return Some((v, j + 1));
        }
    }
}

pub(super) fn name_of(bytes: &[u8]) -> Option<Rel> {
    let mut i = 0;
    let (s, n) = qualified_name(bytes, &mut i)?;
    if bytes[i..].iter().any(|b| !b.is_ascii_whitespace()) {
        return None;
    }
    Some(rel(s.as_deref(), &n))
}

/// `INSERT INTO [schema.]table …`.
pub(super) fn insert_target(stmt: &[u8]) -> Option<Rel> {
    let (s, n) = crate::sql::words::insert_target(stmt)?;
    Some(rel(s.as_deref(), &n))
}

/// `SELECT pg_catalog.setval('seq', …)`.
pub(super) fn setval_target(stmt: &[u8]) -> Option<Rel> {
    let i = find_ci(stmt, b"setval(")? + 7;
    let (lit, _) = literal_at(stmt, i)?;
    name_of(&lit)
}

/// `SELECT * FROM pg_catalog.pg_restore_relation_stats('schemaname', 's', 'relname', 't', …)`.
pub(super) fn stats_target(stmt: &[u8]) -> Option<Rel> {
    if find_ci(stmt, b"pg_restore_relation_stats(").is_none()
        && find_ci(stmt, b"pg_restore_attribute_stats(").is_none()
    {
        return None;
    }
    let arg = |key: &[u8]| -> Option<String> {
        let k = memchr::memmem::find(stmt, key)? + key.len();
        let mut i = k;
        while i < stmt.len() && (stmt[i].is_ascii_whitespace() || stmt[i] == b',') {
            i += 1;
        }
        let (v, _) = literal_at(stmt, i)?;
        Some(String::from_utf8_lossy(&v).into_owned())
    };
    let s = arg(b"'schemaname'")?;
    let n = arg(b"'relname'")?;
    Some((s, n))
}

pub(super) fn lo_create_oid(stmt: &[u8]) -> Option<String> {
    let i = find_ci(stmt, b"lo_create(")? + 10;
    let (v, _) = literal_at(stmt, i)?;
    let s = String::from_utf8(v).ok()?;
    s.bytes().all(|b| b.is_ascii_digit()).then_some(s)
}

pub(super) fn rv_rel(rv: &pb::RangeVar) -> Rel {
    (rv.schemaname.clone(), rv.relname.clone())
}

pub(super) fn identity_sequence(con: &pb::Constraint) -> Option<Rel> {
    for o in &con.options {
        if let Some(N::DefElem(d)) = &o.node
            && d.defname == "sequence_name"
            && let Some(N::List(l)) = d.arg.as_deref().and_then(|a| a.node.as_ref())
        {
            let parts = crate::sql::tree::strings(&l.items);
            return match parts.as_slice() {
                [n] => Some((String::new(), n.clone())),
                [.., s, n] => Some((s.clone(), n.clone())),
                [] => None,
            };
        }
    }
    None
}

/// `stmt` without the byte ranges `cuts`.
pub(super) fn splice_out(stmt: &[u8], cuts: &[std::ops::Range<usize>]) -> Vec<u8> {
    crate::sql::splice(stmt, cuts.iter().map(|c| (c.clone(), Vec::new())).collect())
}
