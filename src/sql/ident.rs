//! Identifier and literal quoting exactly as pg_dump 17/18 writes them.
//!
//! A rewriter that splices a new role name into a statement must produce the
//! same text pg_dump would have produced for that name, so that a rewritten
//! dump diffs cleanly against a fresh dump made with the new names.
//! [`quote_ident`] follows pg_dump's `fmtId` rule: a name stays bare only if
//! it is all `[a-z0-9_]`, starts with `[a-z_]`, and is not a keyword of any
//! category other than unreserved. The keyword table is PostgreSQL 18's
//! (identical to 17's); a unit test checks it against the keyword categories
//! reported by `pg_query`'s own scanner.

use crate::error::{Error, Result};

/// Longest name PostgreSQL keeps (NAMEDATALEN - 1 bytes); the server
/// truncates a longer one.
pub const MAX_NAME: usize = 63;

/// Check a role name given on the command line. `target` names are what the
/// output will create or reference, so reserved names are refused.
pub fn check_name(name: &str, what: &str, target: bool) -> Result<()> {
    if name.is_empty() {
        return Err(Error::usage(format!("{what}: empty role name")));
    }
    if name.len() > MAX_NAME {
        return Err(Error::usage(format!(
            "{what}: role name {name:?} is {} bytes; PostgreSQL allows at most {MAX_NAME}",
            name.len()
        )));
    }
    if name.contains('\0') {
        return Err(Error::usage(format!(
            "{what}: role name {name:?} holds a NUL byte"
        )));
    }
    let lower = name.to_ascii_lowercase();
    if lower == "public" {
        return Err(Error::usage(format!(
            "{what}: PUBLIC is not a role and cannot be renamed or mapped onto"
        )));
    }
    if target {
        if [
            "none",
            "current_user",
            "session_user",
            "current_role",
            "user",
        ]
        .contains(&&*lower)
        {
            return Err(Error::usage(format!(
                "{what}: role name {name:?} is reserved"
            )));
        }
        if lower.starts_with("pg_") {
            return Err(Error::usage(format!(
                "{what}: role name {name:?} is reserved (the pg_ prefix belongs to built-in roles)"
            )));
        }
    }
    Ok(())
}

/// Keywords whose category is not UNRESERVED (reserved, column-name and
/// type/function-name keywords) in PostgreSQL 17 and 18, sorted. pg_dump
/// quotes an otherwise bare identifier that equals one of these.
pub const NON_UNRESERVED_KEYWORDS: [&str; 164] = [
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "json",
    "json_array",
    "json_arrayagg",
    "json_exists",
    "json_object",
    "json_objectagg",
    "json_query",
    "json_scalar",
    "json_serialize",
    "json_table",
    "json_value",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "merge_action",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "system_user",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

/// True when `word` (already lower case) is a keyword that pg_dump must quote.
pub fn is_non_unreserved_keyword(word: &str) -> bool {
    NON_UNRESERVED_KEYWORDS.binary_search(&word).is_ok()
}

/// Quote `name` as an SQL identifier the way pg_dump 17/18's `fmtId` does:
/// bare when it is a plain lower-case name that is not a reserved,
/// column-name or type/function-name keyword; otherwise wrapped in double
/// quotes with every `"` doubled.
pub fn quote_ident(name: &str) -> String {
    String::from_utf8(quote_ident_bytes(name.as_bytes()))
        .expect("quoting adds only ASCII double quotes to UTF-8 text")
}

/// [`quote_ident`] for a name in any client encoding (archives store names
/// in the dump's encoding): the rule only looks at ASCII bytes, so the bytes
/// of a multibyte character are copied as they are.
pub fn quote_ident_bytes(name: &[u8]) -> Vec<u8> {
    let plain = match name.first() {
        Some(&first) => {
            (first.is_ascii_lowercase() || first == b'_')
                && name
                    .iter()
                    .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        }
        None => false,
    };
    // A plain name is ASCII, so it is a `str`.
    if plain && !is_non_unreserved_keyword(std::str::from_utf8(name).unwrap_or_default()) {
        return name.to_vec();
    }
    let mut out = Vec::with_capacity(name.len() + 2);
    out.push(b'"');
    for &b in name {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
    out
}

/// Quote `s` as an SQL string literal for a session with
/// `standard_conforming_strings = on` (what pg_dump always sets): wrapped in
/// single quotes with every `'` doubled; backslashes are left alone.
pub fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Quote `s` as a string literal for a session with the given
/// `standard_conforming_strings`, as pg_dump's `appendStringLiteral` does:
/// with it off, a value holding a backslash is written `E'…'` with every
/// backslash doubled.
pub fn quote_literal_with(s: &str, std_strings: bool) -> String {
    if std_strings || !s.contains('\\') {
        return quote_literal(s);
    }
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("E'");
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// The value of a string literal token: `'...'` with `''`, or `E'...'` with
/// backslash escapes (also plain literals when `plain_escapes`, i.e. with
/// `standard_conforming_strings = off`). `None` for forms this does not
/// decode (octal, hex and Unicode escapes, literals split across lines).
pub fn literal_value(s: &str, plain_escapes: bool) -> Option<String> {
    let (escapes, body) = if let Some(rest) = s.strip_prefix(['E', 'e']) {
        (true, rest)
    } else {
        (plain_escapes, s)
    };
    let inner = body.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                // Doubled quote; a lone quote means the literal was split
                // (`'a' 'b'` continuation), which we do not decode.
                if chars.next() != Some('\'') {
                    return None;
                }
                out.push('\'');
            }
            '\\' if escapes => match chars.next()? {
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                c @ ('0'..='7' | 'x' | 'u' | 'U') => {
                    let _ = c;
                    return None;
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pg_query::protobuf::KeywordKind;

    #[test]
    fn literals_for_both_string_settings() {
        assert_eq!(quote_literal_with("a\\'b", true), "'a\\''b'");
        assert_eq!(quote_literal_with("a\\'b", false), "E'a\\\\''b'");
        assert_eq!(quote_literal_with("ab", false), "'ab'");
    }

    #[test]
    fn quote_ident_known_cases() {
        let cases = [
            ("select", "\"select\""),
            ("public", "public"),
            ("3f9a2c71", "\"3f9a2c71\""),
            ("Select", "\"Select\""),
            ("x; DROP TABLE t", "\"x; DROP TABLE t\""),
            ("json", "\"json\""),
            ("system_user", "\"system_user\""),
            ("merge_action", "\"merge_action\""),
            ("admin", "admin"),
            ("alice", "alice"),
            ("user", "\"user\""),
            ("none", "\"none\""),
            ("authorization", "\"authorization\""),
            ("current_user", "\"current_user\""),
            ("Bob Smith", "\"Bob Smith\""),
            ("we\"ird", "\"we\"\"ird\""),
            ("UPPER", "\"UPPER\""),
            ("new\nline", "\"new\nline\""),
            ("_x9", "_x9"),
            ("a$b", "\"a$b\""),
            ("caf\u{e9}", "\"caf\u{e9}\""),
            ("", "\"\""),
            ("rdsadmin", "rdsadmin"),
        ];
        for (name, want) in cases {
            assert_eq!(quote_ident(name), want, "quote_ident({name:?})");
        }
    }

    #[test]
    fn quote_literal_doubles_quotes_only() {
        assert_eq!(quote_literal("Bob Smith"), "'Bob Smith'");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("back\\slash"), "'back\\slash'");
        assert_eq!(quote_literal(""), "''");
    }

    #[test]
    fn keyword_table_is_sorted_and_matches_the_parser() {
        assert!(NON_UNRESERVED_KEYWORDS.windows(2).all(|w| w[0] < w[1]));
        for word in NON_UNRESERVED_KEYWORDS {
            let tokens = pg_query::scan_tokens(word).unwrap();
            assert_eq!(tokens.len(), 1, "{word}");
            let kind = tokens[0].keyword_kind;
            assert!(
                kind != KeywordKind::NoKeyword as i32
                    && kind != KeywordKind::UnreservedKeyword as i32,
                "{word} is not a non-unreserved keyword for the parser"
            );
        }
        // A few unreserved keywords and plain names stay bare.
        for word in ["admin", "role", "owner", "public", "alice", "data", "name"] {
            let tokens = pg_query::scan_tokens(word).unwrap();
            let kind = tokens[0].keyword_kind;
            assert!(
                kind == KeywordKind::NoKeyword as i32
                    || kind == KeywordKind::UnreservedKeyword as i32,
                "{word}"
            );
            assert!(!is_non_unreserved_keyword(word));
        }
    }
}
