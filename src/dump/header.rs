//! pg_dump's object headers: `-- Name: X; Type: T; Schema: S; Owner: O`.
//!
//! pg_dump prints these fields raw, without quoting (a name may itself
//! contain `; Type: `), so they are parsed best effort and used only for
//! display and progress, never to decide what a statement is.

/// The fields of one `-- [Data for |Statistics for ]Name: …` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocComment<'a> {
    /// `""`, `"Data for "` or `"Statistics for "`.
    pub prefix: &'a [u8],
    pub name: &'a [u8],
    pub kind: &'a [u8],
    /// `None` when pg_dump printed `-`.
    pub schema: Option<&'a [u8]>,
    /// `None` when pg_dump printed `-`; may be empty.
    pub owner: Option<&'a [u8]>,
    pub tablespace: Option<&'a [u8]>,
}

impl TocComment<'_> {
    /// Whether this heads table data (`-- Data for Name: …; Type: TABLE DATA`).
    pub fn is_table_data(&self) -> bool {
        self.prefix == b"Data for " && self.kind == b"TABLE DATA"
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(hay, needle)
}

fn dash_none(v: &[u8]) -> Option<&[u8]> {
    if v == b"-" { None } else { Some(v) }
}

/// Parse a comment line (with or without its line ending).
pub fn parse(line: &[u8]) -> Option<TocComment<'_>> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let rest = line.strip_prefix(b"-- ")?;
    let (prefix, rest) = if let Some(r) = rest.strip_prefix(b"Data for ") {
        (&b"Data for "[..], r)
    } else if let Some(r) = rest.strip_prefix(b"Statistics for ") {
        (&b"Statistics for "[..], r)
    } else {
        (&b""[..], rest)
    };
    let rest = rest.strip_prefix(b"Name: ")?;
    // Owner and Schema are searched from the right, Type from the left:
    // role and schema names rarely hold these markers, object names might.
    let owner_at = rfind(rest, b"; Owner: ")?;
    let (before_owner, owner_part) = (&rest[..owner_at], &rest[owner_at + 9..]);
    let (owner, tablespace) = match rfind(owner_part, b"; Tablespace: ") {
        Some(t) => (&owner_part[..t], Some(&owner_part[t + 14..])),
        None => (owner_part, None),
    };
    let schema_at = rfind(before_owner, b"; Schema: ")?;
    let schema = &before_owner[schema_at + 10..];
    let before_schema = &before_owner[..schema_at];
    let type_at = find(before_schema, b"; Type: ")?;
    Some(TocComment {
        prefix,
        name: &before_schema[..type_at],
        kind: &before_schema[type_at + 8..],
        schema: dash_none(schema),
        owner: dash_none(owner),
        tablespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_header() {
        let h = parse(b"-- Name: t1; Type: TABLE; Schema: app; Owner: alice\n").unwrap();
        assert_eq!(h.name, b"t1");
        assert_eq!(h.kind, b"TABLE");
        assert_eq!(h.schema, Some(&b"app"[..]));
        assert_eq!(h.owner, Some(&b"alice"[..]));
        assert_eq!(h.tablespace, None);
        assert!(!h.is_table_data());
    }

    #[test]
    fn data_header_with_tablespace_and_odd_names() {
        let h = parse(
            b"-- Data for Name: My Table; Type: TABLE DATA; Schema: Weird Schema; Owner: Bob Smith; Tablespace: ts1",
        )
        .unwrap();
        assert!(h.is_table_data());
        assert_eq!(h.name, b"My Table");
        assert_eq!(h.schema, Some(&b"Weird Schema"[..]));
        assert_eq!(h.owner, Some(&b"Bob Smith"[..]));
        assert_eq!(h.tablespace, Some(&b"ts1"[..]));
    }

    #[test]
    fn dashes_and_empty_owner() {
        let h =
            parse(b"-- Name: EXTENSION postgres_fdw; Type: COMMENT; Schema: -; Owner: ").unwrap();
        assert_eq!(h.schema, None);
        assert_eq!(h.owner, Some(&b""[..]));
        assert!(parse(b"-- PostgreSQL database dump").is_none());
        assert!(parse(b"--").is_none());
    }
}
