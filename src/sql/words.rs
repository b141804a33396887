//! Cheap looks at a statement's first words and names, without a parse:
//! for hot paths (INSERT-mode dumps hold one statement per row) and for
//! deciding which statements need the full parser at all.

/// The offset of the first byte at or after `i` that is neither
/// whitespace nor inside a comment. Comments are read as PostgreSQL's lexer
/// reads them: `--` to the end of the line (a newline or a carriage return),
/// `/* */` nested to any depth; an unclosed one runs to the end.
pub fn skip_blank(s: &[u8], mut i: usize) -> usize {
    loop {
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if s[i..].starts_with(b"--") {
            i = memchr::memchr2(b'\n', b'\r', &s[i..]).map_or(s.len(), |j| i + j + 1);
        } else if s[i..].starts_with(b"/*") {
            let mut depth = 0usize;
            while i < s.len() {
                if s[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if s[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            return i;
        }
    }
}

/// The first `n` bare words of a statement, after whitespace and comments.
pub fn first_words(stmt: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while out.len() < n && i < stmt.len() {
        i = skip_blank(stmt, i);
        let Some(&b) = stmt.get(i) else { break };
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < stmt.len() && (stmt[i].is_ascii_alphanumeric() || stmt[i] == b'_') {
                i += 1;
            }
            out.push(&stmt[start..i]);
        } else {
            break;
        }
    }
    out
}

/// `s` without surrounding white space, without its first word `word` (in
/// any case) and the white space after it; `None` when it does not start so.
pub fn strip_word<'a>(s: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    let s = s.trim_ascii();
    if s.len() > word.len()
        && s[..word.len()].eq_ignore_ascii_case(word)
        && s[word.len()].is_ascii_whitespace()
    {
        Some(&s[word.len()..])
    } else {
        None
    }
}

/// Whether word `i` of `words` (from [`first_words`]) is `word`, in any case.
pub fn word_is(words: &[&[u8]], i: usize, word: &str) -> bool {
    words
        .get(i)
        .is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

/// Whether the statement starts with these words (any case).
pub fn starts_with_words(stmt: &[u8], words: &[&str]) -> bool {
    let got = first_words(stmt, words.len());
    got.len() == words.len()
        && got
            .iter()
            .zip(words)
            .all(|(g, w)| g.eq_ignore_ascii_case(w.as_bytes()))
}

/// Skip whitespace, then read a possibly schema-qualified name
/// (`a`, `"A b"`, `s.t`, `"S"."T"`) starting at `*i`; bare names are folded
/// to lower case as PostgreSQL does. Advances `*i` past it.
pub fn qualified_name(stmt: &[u8], i: &mut usize) -> Option<(Option<String>, String)> {
    let mut idents: Vec<String> = Vec::new();
    loop {
        while *i < stmt.len() && stmt[*i].is_ascii_whitespace() {
            *i += 1;
        }
        if *i >= stmt.len() {
            return None;
        }
        if stmt[*i] == b'"' {
            let mut s = Vec::new();
            *i += 1;
            loop {
                let j = *i + memchr::memchr(b'"', &stmt[*i..])?;
                s.extend_from_slice(&stmt[*i..j]);
                if stmt.get(j + 1) == Some(&b'"') {
                    s.push(b'"');
                    *i = j + 2;
                } else {
                    *i = j + 1;
                    break;
                }
            }
            idents.push(String::from_utf8_lossy(&s).into_owned());
        } else {
            let start = *i;
            while *i < stmt.len()
                && (stmt[*i].is_ascii_alphanumeric()
                    || stmt[*i] == b'_'
                    || stmt[*i] == b'$'
                    || stmt[*i] >= 0x80)
            {
                *i += 1;
            }
            if *i == start {
                return None;
            }
            idents.push(String::from_utf8_lossy(&stmt[start..*i]).to_lowercase());
        }
        if stmt.get(*i) == Some(&b'.') {
            *i += 1;
            continue;
        }
        break;
    }
    match idents.len() {
        1 => Some((None, idents.pop()?)),
        2 => {
            let n = idents.pop()?;
            Some((idents.pop(), n))
        }
        _ => None,
    }
}

/// The table of a `COPY [schema.]table …` statement.
pub fn copy_target(stmt: &[u8]) -> Option<(Option<String>, String)> {
    let mut i = 0;
    while i < stmt.len() && stmt[i].is_ascii_whitespace() {
        i += 1;
    }
    if !stmt.get(i..i + 4)?.eq_ignore_ascii_case(b"copy") {
        return None;
    }
    i += 4;
    qualified_name(stmt, &mut i)
}

/// The table of an `INSERT INTO [schema.]table …` statement.
pub fn insert_target(stmt: &[u8]) -> Option<(Option<String>, String)> {
    insert_target_end(stmt).map(|(name, _)| name)
}

/// The table of an `INSERT INTO [schema.]table …` statement and the offset
/// just after its name.
pub fn insert_target_end(stmt: &[u8]) -> Option<((Option<String>, String), usize)> {
    let w = first_words(stmt, 2);
    if w.len() < 2 || !w[0].eq_ignore_ascii_case(b"insert") || !w[1].eq_ignore_ascii_case(b"into") {
        return None;
    }
    let mut i = w[1].as_ptr() as usize - stmt.as_ptr() as usize + 4;
    let name = qualified_name(stmt, &mut i)?;
    Some((name, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_names() {
        assert_eq!(
            first_words(b"-- x\n/* y */ COMMENT ON EXTENSION e IS 'z';", 3),
            vec![&b"COMMENT"[..], b"ON", b"EXTENSION"]
        );
        assert!(starts_with_words(
            b"create  Database x;",
            &["CREATE", "DATABASE"]
        ));
        assert!(!starts_with_words(b"create;", &["CREATE", "DATABASE"]));
        assert_eq!(
            copy_target(b"COPY \"Weird Schema\".\"My \"\"T\" (a) FROM stdin;"),
            Some((Some("Weird Schema".into()), "My \"T".into()))
        );
        assert_eq!(
            insert_target(b"-- x\nINSERT INTO public.\"T\" VALUES (1);"),
            Some((Some("public".into()), "T".into()))
        );
        assert_eq!(insert_target(b"INSERTINTO t VALUES (1);"), None);
        // Comments nest, as in PostgreSQL: the words after the outer one.
        assert_eq!(
            first_words(b"/* a /* b */ GRANT */ DROP ROLE x;", 2),
            vec![&b"DROP"[..], b"ROLE"]
        );
        assert_eq!(first_words(b"-- x\rGRANT a TO b;", 1), vec![&b"GRANT"[..]]);
        assert_eq!(first_words(b"/* unclosed GRANT", 1), Vec::<&[u8]>::new());
        assert_eq!(
            copy_target(b"COPY App.T1 FROM stdin;"),
            Some((Some("app".into()), "t1".into()))
        );
    }
}
