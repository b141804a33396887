//! The `DO` blocks pgpipe writes into a stream itself, written and
//! recognised in this one place.
//!
//! A `DO` block runs code the stream does not show as statements, so a tool
//! that vouches for what a stream does (`pgpipe-roles --only-roles`,
//! `pgpipe-inspect`'s role list) cannot see through an arbitrary one. The
//! blocks pgpipe's own tools write are the exception: their text is fixed
//! here, so a tool downstream recognises them exactly, byte for byte, and
//! treats what they wrap as the statement it is:
//!
//! * `pgpipe-filter --roles-if-not-exists`: `DO $pgpipe$BEGIN CREATE ROLE …;
//!   EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipe$;`
//! * `pgpipe-filter --clean`: the drop of a subscription, detached from its
//!   slot first;
//! * `pgpipe-guard`: the block that raises the error ending a cut stream.

use std::ops::Range;

use crate::sql::ident::quote_literal;

/// A `DO` block that pgpipe wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnBlock {
    /// `--roles-if-not-exists`: the wrapped statement (`CREATE ROLE …`,
    /// without its `;`) is `stmt[inner]`.
    IfNotExists { inner: Range<usize> },
    /// `--clean`'s drop of the subscription named.
    DropSubscription { name: String },
    /// pgpipe-guard's failure: raises an error, runs nothing else.
    GuardFailure,
}

const IF_NOT_EXISTS_TAIL: &[u8] = b"; EXCEPTION WHEN duplicate_object THEN NULL; END ";

/// `stmt` (a `CREATE ROLE …;` statement, possibly followed by the rest of
/// its line) inside a block that does nothing when the role exists already.
/// The dollar-quote tag is `$pgpipe$`, or `$pgpipeN$` when the statement
/// itself holds `$pgpipe$`.
pub fn if_not_exists(stmt: &[u8]) -> Vec<u8> {
    let body = stmt.trim_ascii_end();
    let body = body.strip_suffix(b";").unwrap_or(body);
    let trail = &stmt[stmt.trim_ascii_end().len()..];
    let tag = free_tag(body);
    let mut out = Vec::with_capacity(body.len() + 96);
    out.extend_from_slice(b"DO ");
    out.extend_from_slice(&tag);
    out.extend_from_slice(b"BEGIN ");
    out.extend_from_slice(body);
    out.extend_from_slice(IF_NOT_EXISTS_TAIL);
    out.extend_from_slice(&tag);
    out.push(b';');
    out.extend_from_slice(if trail.is_empty() { b"\n" } else { trail });
    out
}

/// The first of `$pgpipe$`, `$pgpipe1$`, … that `body` does not contain.
fn free_tag(body: &[u8]) -> Vec<u8> {
    let mut tag = b"$pgpipe$".to_vec();
    let mut n = 0;
    while memchr::memmem::find(body, &tag).is_some() {
        n += 1;
        tag = format!("$pgpipe{n}$").into_bytes();
    }
    tag
}

/// The statement that drops subscription `name` if it exists, detached
/// from its replication slot first so that dropping it never touches the
/// publisher.
pub fn drop_subscription(name: &str) -> String {
    let name = quote_literal(name);
    format!(
        "DO $pgpipe$BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_subscription \
         WHERE subname = {name} AND subdbid = (SELECT oid FROM pg_catalog.pg_database \
         WHERE datname = pg_catalog.current_database())) THEN \
         EXECUTE pg_catalog.format('ALTER SUBSCRIPTION %I DISABLE', {name}); \
         EXECUTE pg_catalog.format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', {name}); \
         EXECUTE pg_catalog.format('DROP SUBSCRIPTION %I', {name}); END IF; END $pgpipe$;"
    )
}

/// pgpipe-guard's failing statement, raising `message` (a single line).
pub fn guard_failure(message: &str) -> String {
    format!(
        "DO $pgpipe_guard$ BEGIN RAISE EXCEPTION '%', '{}'; END $pgpipe_guard$;",
        message.replace('\'', "''")
    )
}

/// Which of pgpipe's blocks `stmt` (one statement segment, from its first
/// token; trailing whitespace allowed) is, if it is one exactly.
pub fn recognise(stmt: &[u8]) -> Option<OwnBlock> {
    let s = stmt.trim_ascii_end();
    let s = s.strip_suffix(b";")?;
    let rest = s.strip_prefix(b"DO ")?;
    // $pgpipe$ / $pgpipeN$ … END $tag$
    if rest.starts_with(b"$pgpipe") && !rest.starts_with(b"$pgpipe_guard$") {
        let close = 1 + memchr::memchr(b'$', &rest[1..])?;
        let tag = &rest[..=close];
        let digits = &tag[7..tag.len() - 1];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let body = rest[tag.len()..].strip_prefix(b"BEGIN ")?;
        let body = body.strip_suffix(tag)?;
        let body = body.strip_suffix(b" END ")?;
        if let Some(inner) = body.strip_suffix(&IF_NOT_EXISTS_TAIL[..IF_NOT_EXISTS_TAIL.len() - 5])
        {
            // The tag the writer would choose for this body must be this one.
            if free_tag(inner) != tag {
                return None;
            }
            let start = inner.as_ptr() as usize - stmt.as_ptr() as usize;
            return Some(OwnBlock::IfNotExists {
                inner: start..start + inner.len(),
            });
        }
        if tag == b"$pgpipe$" {
            let name = subscription_name(s)?;
            if drop_subscription(&name).as_bytes().strip_suffix(b";") == Some(s) {
                return Some(OwnBlock::DropSubscription { name });
            }
        }
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let msg = text
        .strip_prefix("DO $pgpipe_guard$ BEGIN RAISE EXCEPTION '%', '")?
        .strip_suffix("'; END $pgpipe_guard$")?;
    if msg.contains('\n') {
        return None;
    }
    let unquoted = msg.replace("''", "'");
    (guard_failure(&unquoted) == format!("{text};")).then_some(OwnBlock::GuardFailure)
}

/// The subscription name literal of a [`drop_subscription`] block.
fn subscription_name(s: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(s).ok()?;
    let at = text.find("WHERE subname = '")? + "WHERE subname = ".len();
    let lit = &text[at..];
    // A literal as quote_literal writes it: '…' with '' (or E'…' with \\).
    let mut out = String::new();
    let mut chars = lit.char_indices().skip(1);
    while let Some((_, c)) = chars.next() {
        if c == '\'' {
            match chars.next() {
                Some((_, '\'')) => out.push('\''),
                _ => return Some(out),
            }
        } else {
            out.push(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_blocks_round_trip() {
        let made = if_not_exists(b"CREATE ROLE \"Bob\" WITH LOGIN;\n");
        assert_eq!(
            made,
            b"DO $pgpipe$BEGIN CREATE ROLE \"Bob\" WITH LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipe$;\n"
        );
        let Some(OwnBlock::IfNotExists { inner }) = recognise(&made) else {
            panic!("not recognised");
        };
        assert_eq!(&made[inner], b"CREATE ROLE \"Bob\" WITH LOGIN");
        // A role whose name holds the tag gets the next one.
        let made = if_not_exists(b"CREATE ROLE \"$pgpipe$\";");
        assert!(made.starts_with(b"DO $pgpipe1$BEGIN CREATE ROLE \"$pgpipe$\"; EXCEPTION"));
        let Some(OwnBlock::IfNotExists { inner }) = recognise(&made) else {
            panic!("not recognised");
        };
        assert_eq!(&made[inner], b"CREATE ROLE \"$pgpipe$\"");
    }

    #[test]
    fn look_alikes_are_not_recognised() {
        for s in [
            &b"DO $pgpipe$BEGIN DROP ROLE x; END $pgpipe$;"[..],
            b"DO $pgpipe$BEGIN CREATE ROLE x; EXCEPTION WHEN others THEN NULL; END $pgpipe$;",
            b"DO $pgpipe1$BEGIN CREATE ROLE x; EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipe1$;",
            b"DO $pgpipex$BEGIN CREATE ROLE x; EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipex$;",
            b"do $pgpipe$BEGIN CREATE ROLE x; EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipe$;",
            b"DO $$BEGIN CREATE ROLE x; EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
            b"DO $pgpipe_guard$ BEGIN RAISE EXCEPTION '%', 'x'; PERFORM f(); END $pgpipe_guard$;",
        ] {
            assert_eq!(recognise(s), None, "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn subscription_and_guard_blocks() {
        let d = drop_subscription("it's");
        assert_eq!(
            recognise(d.as_bytes()),
            Some(OwnBlock::DropSubscription {
                name: "it's".into()
            })
        );
        let tampered = d.replace("DISABLE", "ENABLE");
        assert_eq!(recognise(tampered.as_bytes()), None);
        let g = guard_failure("pgpipe-guard: it's cut; nothing was committed");
        assert_eq!(recognise(g.as_bytes()), Some(OwnBlock::GuardFailure));
        assert_eq!(
            recognise(format!("{g}\n").as_bytes()),
            Some(OwnBlock::GuardFailure)
        );
    }
}
