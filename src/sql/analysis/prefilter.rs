//! The prefilter: a cheap look at a statement's first words that says
//! whether it can name a role at all, so that most statements of a dump
//! never reach the parser.

/// Cheap check (no allocation, no parse) whether a statement can name a role
/// at all, from its first keyword(s), case-insensitively, after leading
/// whitespace and `--` / `/* */` comments.
///
/// True for ALTER, GRANT, REVOKE, REASSIGN, SECURITY LABEL, RESET, CREATE
/// ROLE/USER/GROUP/POLICY/TABLESPACE/SCHEMA/DATABASE (USER covers USER
/// MAPPING), DROP ROLE/USER/GROUP/OWNED, COMMENT ON ROLE, and SET forms that
/// can set the role or session authorization. When this returns false,
/// [`analyze`] returns no role references.
pub fn may_reference_roles(stmt: &[u8]) -> bool {
    let mut pos = 0;
    let Some(first) = next_word(stmt, &mut pos) else {
        return false;
    };
    let is = |w: Word<'_>, s: &str| !w.quoted && w.text.eq_ignore_ascii_case(s.as_bytes());
    if is(first, "do") {
        return match crate::sql::blocks::recognise(stmt) {
            Some(crate::sql::blocks::OwnBlock::IfNotExists { inner }) => {
                may_reference_roles(&stmt[inner])
            }
            _ => false,
        };
    }
    if ["alter", "grant", "revoke", "reassign", "security", "reset"]
        .iter()
        .any(|k| is(first, k))
    {
        return true;
    }
    let second = next_word(stmt, &mut pos);
    if is(first, "create") {
        return second.is_some_and(|w| {
            [
                "role",
                "user",
                "group",
                "policy",
                "tablespace",
                "schema",
                "database",
            ]
            .iter()
            .any(|k| is(w, k))
        });
    }
    if is(first, "drop") {
        return second.is_some_and(|w| ["role", "user", "group", "owned"].iter().any(|k| is(w, k)));
    }
    if is(first, "comment") {
        return second.is_some_and(|w| is(w, "on"))
            && next_word(stmt, &mut pos).is_some_and(|w| is(w, "role"));
    }
    if is(first, "set") {
        let mut w = second;
        // SET [LOCAL | SESSION] ROLE ..., SET SESSION AUTHORIZATION ...
        if w.is_some_and(|w| is(w, "local") || is(w, "session")) {
            w = next_word(stmt, &mut pos);
        }
        return w.is_some_and(|w| {
            w.quoted
                || ["role", "authorization", "session_authorization"]
                    .iter()
                    .any(|k| is(w, k))
        });
    }
    false
}

#[derive(Clone, Copy)]
pub(super) struct Word<'a> {
    pub(super) text: &'a [u8],
    pub(super) quoted: bool,
}

/// The next word after whitespace and comments: a run of ASCII letters,
/// digits and `_`, or a double-quoted identifier (reported as quoted).
pub(super) fn next_word<'a>(s: &'a [u8], pos: &mut usize) -> Option<Word<'a>> {
    let mut i = crate::sql::words::skip_blank(s, *pos);
    if i >= s.len() {
        *pos = i;
        return None;
    }
    if s[i] == b'"' {
        *pos = i + 1;
        return Some(Word {
            text: &s[i..i + 1],
            quoted: true,
        });
    }
    let start = i;
    while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
        i += 1;
    }
    *pos = i;
    if i == start {
        return None;
    }
    Some(Word {
        text: &s[start..i],
        quoted: false,
    })
}
