//! What a statement means, decided by PostgreSQL's own parser (`pg_query`).
//!
//! * [`analysis`]: the action, the object a statement is about, and every
//!   role it names with the byte span of that name in the original bytes.
//! * [`role_columns`]: which table columns hold role names (`aclitem`,
//!   `regrole`), from the DDL seen so far.
//! * [`role_data`]: role names inside table data (`aclitem`, `regrole`
//!   values in COPY rows and INSERTs), rewritten by their types' own rules.
//! * [`ident`]: identifier and literal quoting exactly as pg_dump writes it.
//! * [`tree`]: one statement parsed in its encoding, and reading its tree.
//! * [`build`]: parse-tree nodes for the statements pgpipe writes itself.
//! * [`blocks`]: the `DO` blocks pgpipe writes itself, recognised exactly.
//! * [`effects`]: statements that run code the stream does not show.
//! * [`words`]: cheap looks at a statement's first words and names, with
//!   the one comment-aware cursor every such look uses.
//! * [`encoding`]: statement bytes in a dump's client encoding as UTF-8 text
//!   for the parser, with a map back to the original bytes.

pub mod analysis;
pub mod blocks;
pub mod build;
pub mod effects;
pub mod encoding;
pub mod ident;
pub mod role_columns;
pub mod role_data;
pub mod tree;
pub mod versions;
pub mod words;

pub use analysis::{
    Action, Analysis, AnalysisError, AnalyzeOptions, ListPos, ObjectKind, ObjectRef, RoleName,
    RoleRef, RoleRefKind, analyze, analyze_with, may_reference_roles,
};
pub use ident::{quote_ident, quote_literal};

/// Copy `src` with each range replaced (ranges sorted here, must not overlap).
pub fn splice(src: &[u8], mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)>) -> Vec<u8> {
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = Vec::with_capacity(src.len() + 64);
    let mut at = 0;
    for (r, new) in edits {
        debug_assert!(r.start >= at, "overlapping edits");
        let start = r.start.max(at);
        out.extend_from_slice(&src[at..start]);
        out.extend_from_slice(&new);
        at = r.end.max(at);
    }
    out.extend_from_slice(&src[at..]);
    out
}

/// Whether a password's value is an md5 hash as PostgreSQL stores one:
/// `md5` and 32 lower-case hex digits, the rule of the server's
/// `get_password_type`. Such a hash is salted with the role's name, so it
/// stops matching when the role is renamed. Anything else is a SCRAM secret
/// or a plain password the server hashes itself.
pub fn is_md5_hash(password: &str) -> bool {
    password.len() == 35
        && password.starts_with("md5")
        && password[3..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn md5_hashes_are_what_the_server_calls_md5() {
        assert!(super::is_md5_hash("md5f5e0e4e9a1c3b2d4f6a8c0e2b4d6f8a0"));
        // Plain passwords that start with "md5" are hashed by the server.
        assert!(!super::is_md5_hash("md5 is what the old system used"));
        assert!(!super::is_md5_hash("md5F5E0E4E9A1C3B2D4F6A8C0E2B4D6F8A0"));
        assert!(!super::is_md5_hash("md5zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"));
        assert!(!super::is_md5_hash("SCRAM-SHA-256$4096:abc"));
    }
}
