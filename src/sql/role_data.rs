//! Role names inside table data: values of type `aclitem` and `regrole`
//! (and arrays of them), rewritten by their types' own quoting rules.
//!
//! A dump holds such a value in the type's text form, which names roles:
//! `"Bob Smith"=arw/alice` (an `aclitem`: grantee, privileges, grantor; an
//! empty grantee is PUBLIC), `"Bob Smith"` (a `regrole`), or an array of
//! either, `{"\"Bob Smith\"=arw/alice",=r/alice}`. [`rewrite`] parses one
//! value, asks what becomes of each role it names, and prints the value
//! again as the type's output function would: `aclitem` quotes a name
//! unless it is all ASCII letters, digits and `_` (it never folds case),
//! `regrole` quotes like any identifier, array elements are quoted when
//! they hold `"`, `\`, braces, the delimiter or white space. A value that
//! names no role to change comes back as `None` and is copied unchanged.
//!
//! Values of dropped roles: an array loses the items that name them (an
//! `aclitem` item is dropped when its grantee or its grantor is); a single
//! value naming one has no safe rewrite and is an error.
//!
//! [`copy_row`] applies this to the chosen fields of one COPY text row
//! (tab-separated, backslash escapes, `\N` for NULL), in the dump's client
//! encoding.

use std::borrow::Cow;

use pg_query::NodeEnum as N;
use pg_query::protobuf::{self as pb, Token};

use crate::sql::encoding;
use crate::sql::ident::{literal_value, quote_ident, quote_literal_with};
use crate::sql::role_columns::{Column, RoleType, Table};

/// What becomes of one role named by a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFate {
    Keep,
    Rename(String),
    Drop,
    /// Renamed to a name the dump's client encoding cannot write.
    Unwritable(String),
}

/// Why a value could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

type Names<'a> = dyn FnMut(&str) -> NameFate + 'a;

/// Rewrite one value of a role-typed column (its text form).
///
/// `names` says what becomes of each role the value names; `kept` is told
/// every role the rewritten value still names. `Ok(None)`: unchanged.
pub fn rewrite(
    value: &str,
    ty: RoleType,
    array: bool,
    names: &mut Names<'_>,
    kept: &mut dyn FnMut(&str),
) -> Result<Option<String>, ValueError> {
    if array {
        return rewrite_array(value, ty, names, kept);
    }
    match rewrite_scalar(value, ty, names, kept)? {
        Scalar::Same => Ok(None),
        Scalar::New(s) => Ok(Some(s)),
        Scalar::Dropped(role) => Err(ValueError(format!(
            "the {} value {value:?} names role {role:?}, which is dropped; a single value has \
             no safe rewrite",
            ty.name()
        ))),
    }
}

enum Scalar {
    Same,
    New(String),
    /// Names this dropped role.
    Dropped(String),
}

fn rewrite_scalar(
    value: &str,
    ty: RoleType,
    names: &mut Names<'_>,
    kept: &mut dyn FnMut(&str),
) -> Result<Scalar, ValueError> {
    match ty {
        RoleType::AclItem => {
            let item = AclItem::parse(value)
                .ok_or_else(|| ValueError(format!("{value:?} is not an aclitem")))?;
            let mut new = item.clone();
            // A role that no longer exists prints as its OID, which is also
            // a valid role name: the plan decides, and knows no such name.
            for slot in [&mut new.grantee, &mut new.grantor] {
                let Some(name) = slot.as_deref() else {
                    continue; // PUBLIC
                };
                match names(name) {
                    NameFate::Keep => kept(name),
                    NameFate::Rename(n) => {
                        kept(&n);
                        *slot = Some(n);
                    }
                    NameFate::Drop => return Ok(Scalar::Dropped(name.to_string())),
                    NameFate::Unwritable(n) => return Err(unwritable(&n)),
                }
            }
            if new == item {
                Ok(Scalar::Same)
            } else {
                Ok(Scalar::New(new.to_text()))
            }
        }
        RoleType::RegRole => {
            let Some(name) = regrole_name(value)? else {
                return Ok(Scalar::Same); // an OID, or `-`
            };
            match names(&name) {
                NameFate::Keep => {
                    kept(&name);
                    Ok(Scalar::Same)
                }
                NameFate::Rename(n) => {
                    kept(&n);
                    Ok(Scalar::New(quote_ident(&n)))
                }
                NameFate::Drop => Ok(Scalar::Dropped(name)),
                NameFate::Unwritable(n) => Err(unwritable(&n)),
            }
        }
    }
}

fn unwritable(name: &str) -> ValueError {
    ValueError(format!(
        "the new name {name:?} cannot be written in the dump's client encoding"
    ))
}

/// An OID in place of a name: what `regrole` prints for a role that no
/// longer exists (a name of digits would be quoted). It names no role.
fn is_oid(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

/// One `aclitem`: `None` as grantee is PUBLIC.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AclItem {
    grantee: Option<String>,
    privileges: String,
    grantor: Option<String>,
}

impl AclItem {
    fn parse(s: &str) -> Option<AclItem> {
        let s = s.trim_matches(|c: char| c.is_ascii_whitespace());
        let mut i = 0;
        let grantee = getid(s, &mut i)?;
        if s[i..].chars().next()? != '=' {
            return None;
        }
        i += 1;
        let slash = s[i..].find('/')? + i;
        let privileges = s[i..slash].to_string();
        if !privileges
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '*')
        {
            return None;
        }
        i = slash + 1;
        let grantor = getid(s, &mut i)?;
        if i != s.len() || grantor.is_empty() {
            return None;
        }
        Some(AclItem {
            grantee: (!grantee.is_empty()).then_some(grantee),
            privileges,
            grantor: Some(grantor),
        })
    }

    fn to_text(&self) -> String {
        let mut s = String::new();
        if let Some(g) = &self.grantee {
            putid(&mut s, g);
        }
        s.push('=');
        s.push_str(&self.privileges);
        s.push('/');
        if let Some(g) = &self.grantor {
            putid(&mut s, g);
        }
        s
    }
}

/// A role name as `aclitem` reads it: letters, digits, `_` and anything in
/// double quotes (`""` is one quote), up to `=` or `/`.
fn getid(s: &str, i: &mut usize) -> Option<String> {
    let mut out = String::new();
    let mut in_quotes = false;
    let mut chars = s[*i..].char_indices().peekable();
    let start = *i;
    let mut end = s.len();
    while let Some((j, c)) = chars.next() {
        if c == '"' {
            if in_quotes && chars.peek().is_some_and(|(_, n)| *n == '"') {
                chars.next();
                out.push('"');
            } else {
                in_quotes = !in_quotes;
            }
            continue;
        }
        if in_quotes || c.is_alphanumeric() || c == '_' {
            out.push(c);
            continue;
        }
        end = start + j;
        break;
    }
    if in_quotes {
        return None;
    }
    *i = end;
    Some(out)
}

/// `aclitem`'s output rule: bare when every character is an ASCII letter,
/// digit or `_`, else in double quotes with `"` doubled.
fn putid(out: &mut String, name: &str) {
    let safe = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if safe {
        out.push_str(name);
        return;
    }
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// The role a `regrole` value names: `None` for an OID or `-`.
fn regrole_name(value: &str) -> Result<Option<String>, ValueError> {
    let v = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if v == "-" || is_oid(v) {
        return Ok(None);
    }
    if let Some(inner) = v.strip_prefix('"') {
        let Some(inner) = inner.strip_suffix('"') else {
            return Err(ValueError(format!("{value:?} is not a regrole")));
        };
        if inner.replace("\"\"", "").contains('"') {
            return Err(ValueError(format!("{value:?} is not a regrole")));
        }
        return Ok(Some(inner.replace("\"\"", "\"")));
    }
    if v.is_empty() || v.contains(['"', '.', ' ']) {
        return Err(ValueError(format!("{value:?} is not a regrole")));
    }
    // Unquoted names are folded to lower case on input.
    Ok(Some(v.to_lowercase()))
}

// -- arrays ------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Elem<'a> {
    Null(&'a str),
    /// The element's text as written, and its value.
    Value(&'a str, String),
    Sub(Vec<Elem<'a>>),
}

fn rewrite_array(
    value: &str,
    ty: RoleType,
    names: &mut Names<'_>,
    kept: &mut dyn FnMut(&str),
) -> Result<Option<String>, ValueError> {
    let bad = || ValueError(format!("{value:?} is not a {}[] array", ty.name()));
    let s = value.trim_start_matches(|c: char| c.is_ascii_whitespace());
    // Optional dimensions: [1:2]={...}
    let (dims, body) = if s.starts_with('[') {
        let eq = s.find('=').ok_or_else(bad)?;
        (&s[..=eq], &s[eq + 1..])
    } else {
        ("", s)
    };
    let mut i = 0;
    let elems = parse_list(body, &mut i).ok_or_else(bad)?;
    if !body[i..]
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .is_empty()
    {
        return Err(bad());
    }
    let one_dimension = elems.iter().all(|e| !matches!(e, Elem::Sub(_)));
    let mut changed = false;
    let mut dropped = Vec::new();
    let out = rewrite_elems(&elems, ty, names, kept, &mut changed, &mut dropped)?;
    if !dropped.is_empty() && (!one_dimension || !dims.is_empty()) {
        return Err(ValueError(format!(
            "the array {value:?} names dropped role {:?}; removing an item from a \
             multi-dimensional array or one with explicit bounds has no safe rewrite",
            dropped[0]
        )));
    }
    if !changed {
        return Ok(None);
    }
    let mut text = String::with_capacity(value.len());
    text.push_str(dims);
    print_list(&mut text, &out);
    Ok(Some(text))
}

/// What one element became.
enum NewElem<'a> {
    Same(&'a Elem<'a>),
    Value(String),
    Sub(Vec<NewElem<'a>>),
}

fn rewrite_elems<'a>(
    elems: &'a [Elem<'a>],
    ty: RoleType,
    names: &mut Names<'_>,
    kept: &mut dyn FnMut(&str),
    changed: &mut bool,
    dropped: &mut Vec<String>,
) -> Result<Vec<NewElem<'a>>, ValueError> {
    let mut out = Vec::with_capacity(elems.len());
    for e in elems {
        match e {
            Elem::Null(_) => out.push(NewElem::Same(e)),
            Elem::Value(_, v) => match rewrite_scalar(v, ty, names, kept)? {
                Scalar::Same => out.push(NewElem::Same(e)),
                Scalar::New(n) => {
                    *changed = true;
                    out.push(NewElem::Value(n));
                }
                Scalar::Dropped(role) => {
                    *changed = true;
                    dropped.push(role);
                }
            },
            Elem::Sub(sub) => {
                let inner = rewrite_elems(sub, ty, names, kept, changed, dropped)?;
                out.push(NewElem::Sub(inner));
            }
        }
    }
    Ok(out)
}

fn print_list(out: &mut String, elems: &[NewElem<'_>]) {
    out.push('{');
    for (k, e) in elems.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        match e {
            NewElem::Same(Elem::Null(raw)) | NewElem::Same(Elem::Value(raw, _)) => {
                out.push_str(raw)
            }
            NewElem::Same(Elem::Sub(_)) => unreachable!("sub-arrays are rewritten as NewElem::Sub"),
            NewElem::Value(v) => quote_element(out, v),
            NewElem::Sub(inner) => print_list(out, inner),
        }
    }
    out.push('}');
}

/// `array_out`'s element rule.
fn quote_element(out: &mut String, v: &str) {
    let needs = v.is_empty()
        || v.eq_ignore_ascii_case("null")
        || v.chars()
            .any(|c| matches!(c, '"' | '\\' | '{' | '}' | ',') || is_array_space(c));
    if !needs {
        out.push_str(v);
        return;
    }
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn is_array_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

/// `{…}` starting at `s[*i]` (after white space).
fn parse_list<'a>(s: &'a str, i: &mut usize) -> Option<Vec<Elem<'a>>> {
    skip_space(s, i);
    if !s[*i..].starts_with('{') {
        return None;
    }
    *i += 1;
    let mut out = Vec::new();
    skip_space(s, i);
    if s[*i..].starts_with('}') {
        *i += 1;
        return Some(out);
    }
    loop {
        skip_space(s, i);
        let rest = &s[*i..];
        if rest.starts_with('{') {
            out.push(Elem::Sub(parse_list(s, i)?));
        } else if rest.starts_with('"') {
            let start = *i;
            let mut v = String::new();
            let mut chars = rest.char_indices().skip(1);
            let mut end = None;
            while let Some((j, c)) = chars.next() {
                match c {
                    '\\' => v.push(chars.next()?.1),
                    '"' => {
                        end = Some(j + 1);
                        break;
                    }
                    c => v.push(c),
                }
            }
            *i += end?;
            out.push(Elem::Value(&s[start..*i], v));
        } else {
            let start = *i;
            let mut v = String::new();
            let mut chars = rest.char_indices();
            let mut end = rest.len();
            while let Some((j, c)) = chars.next() {
                match c {
                    ',' | '}' => {
                        end = j;
                        break;
                    }
                    '\\' => v.push(chars.next()?.1),
                    '"' | '{' => return None,
                    c => v.push(c),
                }
            }
            let raw = s[start..start + end].trim_end_matches(is_array_space);
            *i = start + end;
            let v = v.trim_end_matches(is_array_space).to_string();
            if raw.is_empty() {
                return None;
            }
            if raw.eq_ignore_ascii_case("null") {
                out.push(Elem::Null(raw));
            } else {
                out.push(Elem::Value(raw, v));
            }
        }
        skip_space(s, i);
        match s[*i..].chars().next()? {
            ',' => *i += 1,
            '}' => {
                *i += 1;
                return Some(out);
            }
            _ => return None,
        }
    }
}

fn skip_space(s: &str, i: &mut usize) {
    while s[*i..].starts_with(is_array_space) {
        *i += 1;
    }
}

// -- INSERT statements -----------------------------------------------------------

/// Rewrite the role-typed values of an `INSERT INTO table … VALUES (…)`
/// statement (as pg_dump --inserts and --column-inserts write them: string
/// literals, possibly cast). `refuse` is asked about the text of each value
/// of a column whose type pgpipe cannot see into; true refuses the row.
pub fn insert(
    stmt: &[u8],
    table: &Table,
    encoding: &str,
    std_strings: bool,
    names: &mut Names<'_>,
    kept: &mut dyn FnMut(&str),
    refuse: &dyn Fn(&[u8]) -> bool,
) -> Result<Option<Vec<u8>>, ValueError> {
    let d = encoding::decode(stmt, encoding).map_err(|e| ValueError(e.message))?;
    let text: &str = &d.text;
    let parsed = pg_query::parse(text, 0)
        .map_err(|e| ValueError(format!("cannot parse the statement: {e}")))?;
    let Some(N::InsertStmt(ins)) = super::tree::first(&parsed) else {
        return Err(ValueError("not an INSERT statement".into()));
    };
    let cols: Vec<String> = ins
        .cols
        .iter()
        .filter_map(|c| match &c.node {
            Some(N::ResTarget(rt)) => Some(rt.name.clone()),
            _ => None,
        })
        .collect();
    let cols: Vec<&Column> = if cols.is_empty() {
        if table.positions_unknown {
            return Err(ValueError(
                "it lists no columns, and the positions of the table's role-typed columns are \
                 unknown (it inherits columns this dump did not show)"
                    .into(),
            ));
        }
        table.columns.iter().map(|(_, c)| c).collect()
    } else {
        cols.iter()
            .map(|n| table.column(n).unwrap_or(&Column::Plain))
            .collect()
    };
    let Some(N::SelectStmt(sel)) = ins.select_stmt.as_deref().and_then(|s| s.node.as_ref()) else {
        return Err(ValueError("it inserts no VALUES list".into()));
    };
    if sel.values_lists.is_empty() {
        return Err(ValueError(
            "it inserts the result of a query, not a VALUES list".into(),
        ));
    }
    let tokens = pg_query::scan_tokens(text)
        .map_err(|e| ValueError(format!("cannot scan the statement: {e}")))?;
    let mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)> = Vec::new();
    for row in &sel.values_lists {
        let Some(N::List(items)) = &row.node else {
            continue;
        };
        for (value, col) in items.items.iter().zip(&cols) {
            let (ty, array) = match col {
                Column::Plain => continue,
                Column::Role { ty, array } => (*ty, *array),
                Column::Opaque(why) => {
                    if let Some(loc) = literal_location(value)
                        && let Some(t) = token_at(&tokens, loc)
                        && refuse(&text.as_bytes()[t.start as usize..t.end as usize])
                    {
                        return Err(ValueError(format!(
                            "a value of {why}: pgpipe cannot rewrite or check role names \
                             inside it"
                        )));
                    }
                    continue;
                }
            };
            let Some(loc) = literal_location(value) else {
                if is_null(value) {
                    continue;
                }
                return Err(ValueError(format!(
                    "a {} value that is not a string literal",
                    ty.name()
                )));
            };
            let t = token_at(&tokens, loc)
                .filter(|t| t.token == Token::Sconst as i32)
                .ok_or_else(|| ValueError("cannot find a value's literal".into()))?;
            let lit = &text[t.start as usize..t.end as usize];
            let v = literal_value(lit, !std_strings)
                .ok_or_else(|| ValueError(format!("cannot decode the literal {lit}")))?;
            if let Some(new) = rewrite(&v, ty, array, names, kept)? {
                let quoted = quote_literal_with(&new, std_strings);
                let bytes = encoding::reencode(&quoted, encoding).ok_or_else(|| {
                    ValueError(format!(
                        "the new value {new:?} cannot be written in client encoding {encoding}"
                    ))
                })?;
                edits.push((
                    d.orig_range(t.start as usize..t.end as usize),
                    bytes.into_owned(),
                ));
            }
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(stmt.len() + 32);
    let mut at = 0;
    for (r, new) in edits {
        out.extend_from_slice(&stmt[at..r.start]);
        out.extend_from_slice(&new);
        at = r.end;
    }
    out.extend_from_slice(&stmt[at..]);
    Ok(Some(out))
}

/// The location of a string literal value (`'…'`, `'…'::type`).
fn literal_location(node: &pb::Node) -> Option<i32> {
    match node.node.as_ref()? {
        N::AConst(c) if !c.isnull && matches!(c.val, Some(pb::a_const::Val::Sval(_))) => {
            Some(c.location)
        }
        N::TypeCast(tc) => literal_location(tc.arg.as_deref()?),
        _ => None,
    }
}

fn is_null(node: &pb::Node) -> bool {
    match node.node.as_ref() {
        Some(N::AConst(c)) => c.isnull,
        Some(N::TypeCast(tc)) => tc.arg.as_deref().is_some_and(is_null),
        _ => false,
    }
}

fn token_at(tokens: &[pb::ScanToken], loc: i32) -> Option<&pb::ScanToken> {
    let i = tokens.binary_search_by_key(&loc, |t| t.start).ok()?;
    tokens.get(i)
}

// -- COPY text rows ------------------------------------------------------------

/// One role-typed field of a COPY block: its position in the row and type.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub index: usize,
    pub ty: RoleType,
    pub array: bool,
}

/// The fields of a COPY block that name roles.
#[derive(Debug, Clone, Default)]
pub struct CopyFields {
    pub fields: Vec<Field>,
    /// (index, column name) of each field in `fields`.
    pub names: Vec<(usize, String)>,
    /// Columns whose values may name roles in a form pgpipe does not
    /// rewrite: (index, column name, why).
    pub opaque: Vec<(usize, String, String)>,
}

/// Which fields of `COPY table (…) FROM stdin` rows name roles.
pub fn copy_fields(stmt: &[u8], encoding: &str, table: &Table) -> Result<CopyFields, ValueError> {
    let cols = copy_columns(stmt, encoding)
        .ok_or_else(|| ValueError("cannot read its column list".into()))?;
    let list: Vec<String> = if cols.is_empty() {
        if table.positions_unknown {
            return Err(ValueError(
                "it lists no columns, and the positions of the table's role-typed columns are \
                 unknown (it inherits columns this dump did not show)"
                    .into(),
            ));
        }
        table.columns.iter().map(|(n, _)| n.clone()).collect()
    } else {
        cols
    };
    let mut out = CopyFields::default();
    for (i, col) in list.iter().enumerate() {
        match table.column(col) {
            Some(Column::Role { ty, array }) => {
                out.fields.push(Field {
                    index: i,
                    ty: *ty,
                    array: *array,
                });
                out.names.push((i, col.clone()));
            }
            Some(Column::Opaque(why)) => out.opaque.push((i, col.clone(), why.clone())),
            _ => {}
        }
    }
    Ok(out)
}

/// The column list of a `COPY t (a, b) FROM stdin` statement (empty when
/// it has none); `None` when it does not parse.
fn copy_columns(stmt: &[u8], enc: &str) -> Option<Vec<String>> {
    let parsed = super::tree::parse(stmt, enc)?;
    let node = super::tree::first(&parsed)?;
    let N::CopyStmt(c) = node else { return None };
    Some(
        c.attlist
            .iter()
            .filter_map(|n| match &n.node {
                Some(N::String(s)) => Some(s.sval.clone()),
                _ => None,
            })
            .collect(),
    )
}

/// Rewrite the role-typed `fields` of one COPY text row (its bytes with the
/// line ending) in client encoding `encoding`. `Ok(None)` when nothing
/// changed. `what` names a field for errors (its index).
pub fn copy_row(
    row: &[u8],
    fields: &[Field],
    encoding: &str,
    names: &mut Names<'_>,
    kept: &mut dyn FnMut(&str),
) -> Result<Option<Vec<u8>>, (usize, ValueError)> {
    let body_len = row.len() - usize::from(row.ends_with(b"\n"));
    let body = &row[..body_len];
    // Field boundaries: tabs (a tab inside a value is written \t).
    let mut bounds = Vec::new();
    let mut start = 0;
    for (i, &b) in body.iter().enumerate() {
        if b == b'\t' {
            bounds.push(start..i);
            start = i + 1;
        }
    }
    bounds.push(start..body.len());
    let mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)> = Vec::new();
    for f in fields {
        let Some(range) = bounds.get(f.index).cloned() else {
            return Err((
                f.index,
                ValueError(format!(
                    "the row has {} fields, fewer than the COPY column list",
                    bounds.len()
                )),
            ));
        };
        let raw = &body[range.clone()];
        // A CRLF dump keeps its \r at the end of the last field.
        let (raw, cr) = match raw.strip_suffix(b"\r") {
            Some(r) if range.end == body.len() => (r, true),
            _ => (raw, false),
        };
        if raw == b"\\N" {
            continue;
        }
        let value = unescape(raw);
        let text =
            encoding::decode(&value, encoding).map_err(|e| (f.index, ValueError(e.message)))?;
        let new = rewrite(&text.text, f.ty, f.array, names, kept).map_err(|e| (f.index, e))?;
        if let Some(new) = new {
            let bytes: Cow<'_, [u8]> = encoding::reencode(&new, encoding).ok_or_else(|| {
                (
                    f.index,
                    ValueError(format!(
                        "the new value {new:?} cannot be written in client encoding {encoding}"
                    )),
                )
            })?;
            let mut out = escape(&bytes);
            if cr {
                out.push(b'\r');
            }
            edits.push((range, out));
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(row.len() + 16);
    let mut at = 0;
    for (r, new) in edits {
        out.extend_from_slice(&row[at..r.start]);
        out.extend_from_slice(&new);
        at = r.end;
    }
    out.extend_from_slice(&row[at..]);
    Ok(Some(out))
}

/// A COPY text field's value: `\b \f \n \r \t \v`, octal `\NNN`, hex `\xHH`
/// and `\c` for any other c.
fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 == raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let c = raw[i + 1];
        i += 2;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' if raw.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(d) if d.is_ascii_hexdigit() => {
                            v = v * 16 + (*d as char).to_digit(16).expect("hex digit");
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    out
}

/// COPY text output: backslash and the control characters escaped.
fn escape(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            8 => out.extend_from_slice(b"\\b"),
            12 => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            11 => out.extend_from_slice(b"\\v"),
            b => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str) -> NameFate {
        match name {
            "Regress Owner" => NameFate::Rename("synapse".into()),
            "alice" => NameFate::Rename("Alice B".into()),
            "rdsadmin" => NameFate::Drop,
            _ => NameFate::Keep,
        }
    }

    fn run(value: &str, ty: RoleType, array: bool) -> Result<Option<String>, ValueError> {
        rewrite(value, ty, array, &mut plan, &mut |_| {})
    }

    #[test]
    fn aclitems() {
        assert_eq!(
            run(
                "\"Regress Owner\"=UC/\"Regress Owner\"",
                RoleType::AclItem,
                false
            ),
            Ok(Some("synapse=UC/synapse".into()))
        );
        assert_eq!(
            run("=r*w/alice", RoleType::AclItem, false),
            Ok(Some("=r*w/\"Alice B\"".into()))
        );
        assert_eq!(run("bob=r/carol", RoleType::AclItem, false), Ok(None));
        // OIDs stand for roles that no longer exist: nothing to rewrite.
        assert_eq!(run("16384=r/16385", RoleType::AclItem, false), Ok(None));
        assert!(run("rdsadmin=r/bob", RoleType::AclItem, false).is_err());
        assert!(run("bob=r/rdsadmin", RoleType::AclItem, false).is_err());
        assert!(run("bob=r", RoleType::AclItem, false).is_err());
        assert!(run("\"bob=r/x", RoleType::AclItem, false).is_err());
        // Quotes inside a name are doubled.
        assert_eq!(
            run("\"we\"\"ird\"=r/alice", RoleType::AclItem, false),
            Ok(Some("\"we\"\"ird\"=r/\"Alice B\"".into()))
        );
    }

    #[test]
    fn aclitem_arrays() {
        assert_eq!(
            run(
                "{\"\\\"Regress Owner\\\"=UC/\\\"Regress Owner\\\"\",=r/alice,bob=r/rdsadmin,rdsadmin=a/bob,NULL}",
                RoleType::AclItem,
                true
            ),
            Ok(Some(
                "{synapse=UC/synapse,\"=r/\\\"Alice B\\\"\",NULL}".into()
            ))
        );
        assert_eq!(run("{}", RoleType::AclItem, true), Ok(None));
        assert_eq!(run("{bob=r/carol}", RoleType::AclItem, true), Ok(None));
        assert_eq!(
            run("{rdsadmin=r/bob}", RoleType::AclItem, true),
            Ok(Some("{}".into()))
        );
        assert!(run("{{rdsadmin=r/bob},{bob=r/bob}}", RoleType::AclItem, true).is_err());
        assert!(run("[0:0]={rdsadmin=r/bob}", RoleType::AclItem, true).is_err());
        assert_eq!(
            run("[0:0]={alice=r/bob}", RoleType::AclItem, true),
            Ok(Some("[0:0]={\"\\\"Alice B\\\"=r/bob\"}".into()))
        );
        assert!(run("{unterminated", RoleType::AclItem, true).is_err());
    }

    #[test]
    fn regroles() {
        assert_eq!(
            run("\"Regress Owner\"", RoleType::RegRole, false),
            Ok(Some("synapse".into()))
        );
        assert_eq!(
            run("alice", RoleType::RegRole, false),
            Ok(Some("\"Alice B\"".into()))
        );
        assert_eq!(run("pg_monitor", RoleType::RegRole, false), Ok(None));
        assert_eq!(run("16384", RoleType::RegRole, false), Ok(None));
        assert_eq!(run("-", RoleType::RegRole, false), Ok(None));
        assert!(run("rdsadmin", RoleType::RegRole, false).is_err());
        assert_eq!(
            run("{pg_monitor,alice,rdsadmin}", RoleType::RegRole, true),
            Ok(Some("{pg_monitor,\"\\\"Alice B\\\"\"}".into()))
        );
    }

    #[test]
    fn copy_rows() {
        let fields = [
            Field {
                index: 1,
                ty: RoleType::AclItem,
                array: false,
            },
            Field {
                index: 3,
                ty: RoleType::RegRole,
                array: true,
            },
        ];
        let row = b"1\t\"Regress Owner\"=UC/\"Regress Owner\"\ttext\\twith tab\t{\"\\\\\"Regress Owner\\\\\"\"}\n";
        let got = copy_row(row, &fields, "UTF8", &mut plan, &mut |_| {}).unwrap();
        assert_eq!(
            String::from_utf8(got.unwrap()).unwrap(),
            "1\tsynapse=UC/synapse\ttext\\twith tab\t{synapse}\n"
        );
        assert_eq!(
            copy_row(b"1\t\\N\tx\t\\N\n", &fields, "UTF8", &mut plan, &mut |_| {}),
            Ok(None)
        );
        // CRLF rows keep their \r.
        let got = copy_row(
            b"1\tx=r/alice\tt\t{}\r\n",
            &fields,
            "UTF8",
            &mut plan,
            &mut |_| {},
        );
        assert_eq!(got.unwrap().unwrap(), b"1\tx=r/\"Alice B\"\tt\t{}\r\n");
        assert!(copy_row(b"1\tx\n", &fields, "UTF8", &mut plan, &mut |_| {}).is_err());
    }

    #[test]
    fn copy_escapes_round_trip() {
        let v = b"a\\b\tc\nd\x08\x0b\x0c\re";
        assert_eq!(unescape(&escape(v)), v);
        assert_eq!(unescape(b"\\101\\x42\\q"), b"ABq");
    }

    #[test]
    fn names_in_other_encodings() {
        let fields = [Field {
            index: 0,
            ty: RoleType::AclItem,
            array: false,
        }];
        let mut fate = |n: &str| {
            if n == "r\u{f4}le" {
                NameFate::Rename("caf\u{e9}".into())
            } else {
                NameFate::Keep
            }
        };
        let got = copy_row(
            b"\"r\xf4le\"=r/x\n",
            &fields,
            "LATIN1",
            &mut fate,
            &mut |_| {},
        );
        assert_eq!(got.unwrap().unwrap(), b"\"caf\xe9\"=r/x\n");
        let mut fate = |_: &str| NameFate::Rename("\u{30ed}".into());
        assert!(copy_row(b"a=r/x\n", &fields, "LATIN1", &mut fate, &mut |_| {}).is_err());
    }
}
