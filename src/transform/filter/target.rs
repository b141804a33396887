//! `--target-version`: the statements, clauses and settings an older server
//! rejects, removed or cut out.

use super::*;

impl Filter<'_, '_> {
    /// `--target-version`: statements an older server rejects, removed or
    /// with the clause it rejects cut out.
    pub(super) fn target_edit(&self, seg: &Segment<'_>) -> Option<Outcome> {
        let v = self.opts.target_version?;
        let stmt = seg.bytes;
        let words = first_words(stmt, 3);
        let w = |i: usize, s: &str| crate::sql::words::word_is(&words, i, s);
        if w(0, "alter") && w(1, "subscription") && v < 16 && find_ci(stmt, b" owner to ").is_some()
        {
            return Some(Outcome::Drop(format!(
                "--target-version {v}: subscription owner (must be a superuser before 16)"
            )));
        }
        if w(0, "create") && w(1, "subscription") {
            let cut = subscription_options_after(stmt, seg.encoding, v);
            if !cut.is_empty() {
                return Some(Outcome::Replace(
                    splice_out(stmt, &cut),
                    "--target-version: subscription options the target does not know",
                ));
            }
            return None;
        }
        if w(0, "create") && w(1, "type") && v < 14 {
            return multirange_option(stmt, seg.encoding).map(|cut| {
                Outcome::Replace(
                    splice_out(stmt, std::slice::from_ref(&cut)),
                    "--target-version: multirange_type_name (multiranges arrived in 14)",
                )
            });
        }
        if (w(0, "grant") || w(0, "revoke")) && v < 17 {
            return maintain_privilege(stmt).map(|r| match r {
                None => Outcome::Drop(format!(
                    "--target-version {v}: MAINTAIN privilege (arrived in 17)"
                )),
                Some(b) => {
                    Outcome::Replace(b, "--target-version: MAINTAIN privilege (arrived in 17)")
                }
            });
        }
        None
    }

    /// SET and friends: kept, unless the target version rejects them.
    pub(super) fn session_outcome(&mut self, stmt: &[u8]) -> Outcome {
        let words = first_words(stmt, 2);
        if words.len() == 2 && words[0].eq_ignore_ascii_case(b"set") {
            let name = String::from_utf8_lossy(words[1]).to_lowercase();
            if let Some(v) = self.opts.target_version
                && let Some(since) = crate::sql::versions::setting_since(&name)
                && v < since
            {
                return Outcome::Drop(format!(
                    "--target-version {v}: SET {name} (arrived in {since})"
                ));
            }
            if name == "default_table_access_method" && self.opts.no_table_access_method {
                return Outcome::Drop("--no-table-access-method".into());
            }
            if name == "default_table_access_method"
                && let Some(val) =
                    crate::dump::reader::set_value(stmt, b"default_table_access_method")
                && self
                    .removed_access_methods
                    .contains(&String::from_utf8_lossy(val).to_lowercase())
            {
                return Outcome::Drop(
                    "SET default_table_access_method to an access method that was removed".into(),
                );
            }
            if self.opts.no_tablespaces
                && name == "default_tablespace"
                && let Some(val) = crate::dump::reader::set_value(stmt, b"default_tablespace")
                && val != b"''"
            {
                return Outcome::Drop("--no-tablespaces: SET default_tablespace".into());
            }
        }
        Outcome::Keep
    }
}

/// The spans (with their separating comma) of `CREATE SUBSCRIPTION` options
/// that a server of major version `v` does not accept.
pub(super) fn subscription_options_after(
    stmt: &[u8],
    enc: &str,
    v: u32,
) -> Vec<std::ops::Range<usize>> {
    let Some(parsed) = parse(stmt, enc) else {
        return Vec::new();
    };
    if !stmt.is_ascii() {
        return Vec::new(); // offsets below are byte offsets of ASCII text
    }
    let Some(N::CreateSubscriptionStmt(s)) = first_node(&parsed) else {
        return Vec::new();
    };
    let mut cuts = Vec::new();
    for o in &s.options {
        let Some(N::DefElem(d)) = &o.node else {
            continue;
        };
        let since = match d.defname.as_str() {
            "binary" => 14,
            "two_phase" | "disable_on_error" => 15,
            "origin" | "password_required" | "run_as_owner" => 16,
            "failover" => 17,
            // on and off arrived in 14 (off is what a server without the
            // option does), parallel in 16.
            "streaming" => {
                let val =
                    String::from_utf8_lossy(option_text(stmt, d.location as usize)).to_lowercase();
                if val.contains("parallel") { 16 } else { 14 }
            }
            _ => continue,
        };
        if v >= since || d.location < 0 {
            continue;
        }
        cuts.push(option_span(stmt, d.location as usize));
    }
    cuts.sort_by_key(|c| c.start);
    cuts
}

/// The span of the option of a parenthesised list that starts at `start`,
/// with the comma before it (or else the one after it), so that cutting it
/// leaves a well-formed list.
pub(super) fn option_span(stmt: &[u8], start: usize) -> std::ops::Range<usize> {
    let end = start + option_text(stmt, start).len();
    let mut s0 = start;
    while s0 > 0 && stmt[s0 - 1].is_ascii_whitespace() {
        s0 -= 1;
    }
    if s0 > 0 && stmt[s0 - 1] == b',' {
        return s0 - 1..end;
    }
    let mut e = end;
    while e < stmt.len() && stmt[e].is_ascii_whitespace() {
        e += 1;
    }
    if stmt.get(e) == Some(&b',') {
        e += 1;
        while e < stmt.len() && stmt[e].is_ascii_whitespace() {
            e += 1;
        }
    }
    start..e
}

/// `CREATE TYPE … AS RANGE (…, multirange_type_name = …)`: the span of the
/// option a server before 14 (without multiranges) rejects.
pub(super) fn multirange_option(stmt: &[u8], enc: &str) -> Option<std::ops::Range<usize>> {
    if !stmt.is_ascii() || find_ci(stmt, b"multirange_type_name").is_none() {
        return None;
    }
    let parsed = parse(stmt, enc)?;
    let Some(N::CreateRangeStmt(r)) = first_node(&parsed) else {
        return None;
    };
    r.params.iter().find_map(|p| match &p.node {
        Some(N::DefElem(d)) if d.defname == "multirange_type_name" && d.location >= 0 => {
            Some(option_span(stmt, d.location as usize))
        }
        _ => None,
    })
}

/// One option's text from its first byte to the `,` or `)` that ends it.
pub(super) fn option_text(stmt: &[u8], start: usize) -> &[u8] {
    let mut i = start;
    let mut depth = 0i32;
    while i < stmt.len() {
        match stmt[i] {
            b'\'' => {
                i += 1;
                while i < stmt.len() {
                    if stmt[i] == b'\'' {
                        if stmt.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' if depth == 0 => break,
            b')' => depth -= 1,
            b',' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    let mut e = i.min(stmt.len());
    while e > start && stmt[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    &stmt[start..e]
}

/// `GRANT|REVOKE ...MAINTAIN... ON`: `None` when it is the only privilege
/// (drop the statement), the statement without it otherwise; no change
/// (outer `None`) when it is not there.
pub(super) fn maintain_privilege(stmt: &[u8]) -> Option<Option<Vec<u8>>> {
    let on = find_ci(stmt, b" on ")?;
    let head = &stmt[..on];
    let at = find_ci(head, b"maintain")?;
    let end = at + 8;
    let boundary = |b: Option<&u8>| b.is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
    if !boundary(at.checked_sub(1).and_then(|i| head.get(i))) || !boundary(head.get(end)) {
        return None;
    }
    let before = head[..at].trim_ascii_end();
    let after = &head[end..];
    if before.ends_with(b",") {
        let s = before.len() - 1;
        let cut = s..end;
        return Some(Some(splice_out(stmt, std::slice::from_ref(&cut))));
    }
    let trimmed = after.trim_ascii_start();
    if trimmed.starts_with(b",") {
        let e = end + (after.len() - trimmed.len()) + 1;
        let cut = at..e;
        return Some(Some(splice_out(stmt, std::slice::from_ref(&cut))));
    }
    Some(None)
}
