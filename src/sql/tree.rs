//! Reading PostgreSQL's parse trees: one statement parsed from a dump's
//! bytes in its client encoding, the statement's node, and the strings of a
//! name list. Every module that looks into a tree starts here, so a
//! statement is decoded and parsed the same way everywhere.

use pg_query::NodeEnum as N;
use pg_query::protobuf as pb;

use super::encoding;

/// `stmt`, in client encoding `enc`, parsed; `None` when it cannot be
/// decoded exactly or does not parse.
pub fn parse(stmt: &[u8], enc: &str) -> Option<pg_query::ParseResult> {
    let d = encoding::decode(stmt, enc).ok()?;
    pg_query::parse(&d.text, 0).ok()
}

/// The node of the first statement of a parse.
pub fn first(parsed: &pg_query::ParseResult) -> Option<&N> {
    parsed
        .protobuf
        .stmts
        .first()
        .and_then(|s| s.stmt.as_ref())
        .and_then(|n| n.node.as_ref())
}

/// The string values of a list of `String` nodes (the parts of a name).
pub fn strings(nodes: &[pb::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(|n| match &n.node {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_statement_in_its_encoding() {
        let p = parse(b"DROP TABLE caf\xe9.t;", "LATIN1").unwrap();
        let Some(N::DropStmt(d)) = first(&p) else {
            panic!("not a DROP")
        };
        let Some(N::List(l)) = d.objects[0].node.as_ref() else {
            panic!("no name list")
        };
        assert_eq!(strings(&l.items), ["café", "t"]);
        assert!(parse(b"DROP TABLE caf\xe9.t;", "UTF8").is_none());
        assert!(parse(b"NOT SQL", "UTF8").is_none());
    }
}
