//! Building parse-tree nodes for statements pgpipe writes itself (the
//! `DROP` statements of `pgpipe-filter --clean`), deparsed by PostgreSQL's
//! own deparser so that quoting and syntax are the server's.

use pg_query::NodeEnum as N;
use pg_query::protobuf as pb;

/// A string node (a name part).
pub fn string(s: &str) -> pb::Node {
    pb::Node {
        node: Some(N::String(pb::String {
            sval: s.to_string(),
        })),
    }
}

/// A list node.
pub fn list(items: Vec<pb::Node>) -> pb::Node {
    pb::Node {
        node: Some(N::List(pb::List { items })),
    }
}

/// DROP TYPE/DOMAIN take a TypeName, built from a list of name strings.
pub fn type_name(names: pb::Node) -> pb::Node {
    let items = match names.node {
        Some(N::List(l)) => l.items,
        _ => Vec::new(),
    };
    pb::Node {
        node: Some(N::TypeName(pb::TypeName {
            names: items,
            typemod: -1,
            location: -1,
            ..Default::default()
        })),
    }
}

/// A function, aggregate or operator signature (`name(args)`).
pub fn with_args(name: Vec<pb::Node>, args: Vec<pb::Node>) -> pb::Node {
    pb::Node {
        node: Some(N::ObjectWithArgs(pb::ObjectWithArgs {
            objname: name,
            objargs: args,
            objfuncargs: Vec::new(),
            args_unspecified: false,
        })),
    }
}

/// One statement as SQL text ending in `;`.
pub fn deparse(stmt: N) -> std::result::Result<String, String> {
    let node = pb::Node { node: Some(stmt) };
    let s = node
        .deparse(pg_query::DeparseOptions::default())
        .map_err(|e| e.to_string())?;
    let s = s.trim_end().trim_end_matches(';').to_string();
    Ok(s + ";")
}
