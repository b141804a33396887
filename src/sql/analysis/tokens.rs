//! The walker over one statement: its text, its tokens from PostgreSQL's
//! scanner (read on first need), and the role references found so far,
//! each checked against the token that names it.

use super::*;

/// A role reference with spans still in decoded-text offsets.
pub(super) struct RawRef {
    pub(super) kind: RoleRefKind,
    pub(super) role: RoleName,
    pub(super) span: Range<usize>,
    pub(super) literal: bool,
    pub(super) list: Option<RawList>,
    pub(super) clause: Option<Range<usize>>,
}

pub(super) struct RawList {
    pub(super) index: usize,
    pub(super) len: usize,
    pub(super) removal: Range<usize>,
}

pub(super) struct Walk<'t> {
    pub(super) text: &'t str,
    /// Significant tokens (comments dropped), scanned on first need.
    pub(super) tokens: Option<Vec<ScanToken>>,
    pub(super) refs: Vec<RawRef>,
    /// `standard_conforming_strings`.
    pub(super) std_strings: bool,
}

/// What the analyser's steps return.
pub(super) type AnalysisResult<T> = Result<T, AnalysisError>;

impl<'t> Walk<'t> {
    pub(super) fn new(text: &'t str, std_strings: bool) -> Self {
        Walk {
            text,
            tokens: None,
            refs: Vec::new(),
            std_strings,
        }
    }

    /// With `standard_conforming_strings = off`, refuse a statement whose
    /// plain literals hold `\'`: the server would end the literal elsewhere
    /// than the parser did.
    pub(super) fn check_plain_literals_without_std_strings(&mut self) -> AnalysisResult<()> {
        let sconst = Token::Sconst as i32;
        let n = self.tokens()?.len();
        for i in 0..n {
            let t = self.tok(i)?;
            if t.token != sconst {
                continue;
            }
            let s = self.tok_text(&t);
            if !s.starts_with('\'') {
                continue; // E'...' reads the same either way
            }
            let mut chars = s.chars();
            while let Some(c) = chars.next() {
                if c == '\\' && chars.next() == Some('\'') {
                    return Err(AnalysisError {
                        message: "string literal with a backslash-escaped quote under \
                                  standard_conforming_strings = off cannot be analysed exactly"
                            .to_string(),
                        offset: Some(t.start as usize),
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) fn tokens(&mut self) -> AnalysisResult<&[ScanToken]> {
        if self.tokens.is_none() {
            let toks = pg_query::scan_tokens(self.text)
                .map_err(|e| err(format!("cannot scan statement: {e}")))?;
            let sql_comment = Token::SqlComment as i32;
            let c_comment = Token::CComment as i32;
            self.tokens = Some(
                toks.into_iter()
                    .filter(|t| t.token != sql_comment && t.token != c_comment)
                    .collect(),
            );
        }
        Ok(self.tokens.as_deref().expect("just set"))
    }

    pub(super) fn tok(&mut self, i: usize) -> AnalysisResult<ScanToken> {
        let toks = self.tokens()?;
        toks.get(i)
            .cloned()
            .ok_or_else(|| err("statement ended where a role name was expected"))
    }

    /// Index of the token starting exactly at byte `loc`.
    pub(super) fn tok_at(&mut self, loc: i32) -> AnalysisResult<usize> {
        if loc < 0 {
            return Err(err("parser gave no location for a role name"));
        }
        let toks = self.tokens()?;
        toks.binary_search_by_key(&loc, |t| t.start)
            .map_err(|_| err(format!("no token starts at byte {loc}")))
    }

    pub(super) fn tok_text(&self, t: &ScanToken) -> &'t str {
        self.text
            .get(t.start as usize..t.end as usize)
            .unwrap_or_default()
    }

    /// True when token `i` is the keyword `word` (any case).
    pub(super) fn is_kw(&mut self, i: usize, word: &str) -> AnalysisResult<bool> {
        let Some(t) = self.tokens()?.get(i).cloned() else {
            return Ok(false);
        };
        Ok(t.keyword_kind != KeywordKind::NoKeyword as i32
            && self.tok_text(&t).eq_ignore_ascii_case(word))
    }

    pub(super) fn is_comma(&mut self, i: usize) -> AnalysisResult<bool> {
        Ok(self
            .tokens()?
            .get(i)
            .is_some_and(|t| t.token == Token::Ascii44 as i32))
    }

    /// The name an identifier-like token denotes: quoted identifiers
    /// dequoted, bare words (identifiers and keywords) folded to lower case
    /// as the server does, both truncated to NAMEDATALEN-1 bytes. `None` for
    /// tokens that are not identifiers.
    pub(super) fn ident_value(&self, t: &ScanToken) -> Option<String> {
        let s = self.tok_text(t);
        let mut v = if t.token == Token::Ident as i32 {
            if let Some(inner) = s.strip_prefix('"') {
                inner.strip_suffix('"')?.replace("\"\"", "\"")
            } else {
                s.to_ascii_lowercase()
            }
        } else if t.keyword_kind != KeywordKind::NoKeyword as i32 {
            s.to_ascii_lowercase()
        } else {
            return None;
        };
        truncate_name(&mut v);
        Some(v)
    }

    /// The value of a string-literal token (`'..'`, `E'..'`), or `None`.
    pub(super) fn literal_value(&self, t: &ScanToken) -> Option<String> {
        if t.token != Token::Sconst as i32 {
            return None;
        }
        literal_value(self.tok_text(t), false)
    }

    pub(super) fn span(t: &ScanToken) -> Range<usize> {
        t.start as usize..t.end as usize
    }

    pub(super) fn push(
        &mut self,
        kind: RoleRefKind,
        role: RoleName,
        span: Range<usize>,
        literal: bool,
    ) {
        self.refs.push(RawRef {
            kind,
            role,
            span,
            literal,
            list: None,
            clause: None,
        });
    }

    /// Record a role named by token `i`, checking the token denotes `name`.
    pub(super) fn push_token(
        &mut self,
        kind: RoleRefKind,
        i: usize,
        name: &str,
    ) -> AnalysisResult<()> {
        let t = self.tok(i)?;
        match self.ident_value(&t) {
            Some(v) if v == name => {}
            _ => {
                return Err(err(format!(
                    "cannot locate role name {name:?} in the statement (found {:?})",
                    self.tok_text(&t)
                )));
            }
        }
        self.push(
            kind,
            RoleName::Named(name.to_string()),
            Self::span(&t),
            false,
        );
        Ok(())
    }

    /// Record the role of a `RoleSpec`, at the token its location names.
    pub(super) fn push_spec(
        &mut self,
        kind: RoleRefKind,
        spec: &pb::RoleSpec,
    ) -> AnalysisResult<()> {
        let i = self.tok_at(spec.location)?;
        let t = self.tok(i)?;
        let rt = spec.roletype;
        let role = if rt == pb::RoleSpecType::RolespecCstring as i32 {
            match self.ident_value(&t) {
                Some(v) if v == spec.rolename => {}
                _ => {
                    return Err(err(format!(
                        "role name {:?} does not match its token {:?}",
                        spec.rolename,
                        self.tok_text(&t)
                    )));
                }
            }
            RoleName::Named(spec.rolename.clone())
        } else if rt == pb::RoleSpecType::RolespecPublic as i32 {
            RoleName::Public
        } else if rt == pb::RoleSpecType::RolespecCurrentUser as i32 {
            RoleName::CurrentUser
        } else if rt == pb::RoleSpecType::RolespecSessionUser as i32 {
            RoleName::SessionUser
        } else if rt == pb::RoleSpecType::RolespecCurrentRole as i32 {
            RoleName::CurrentRole
        } else {
            return Err(err("unknown role specification"));
        };
        self.push(kind, role, Self::span(&t), false);
        Ok(())
    }

    /// Record a list of `RoleSpec` nodes and mark them as one list.
    pub(super) fn push_spec_list(
        &mut self,
        kind: RoleRefKind,
        nodes: &[pb::Node],
    ) -> AnalysisResult<()> {
        let first = self.refs.len();
        for n in nodes {
            match &n.node {
                Some(N::RoleSpec(spec)) => self.push_spec(kind, spec)?,
                _ => return Err(err("expected a role in a role list")),
            }
        }
        self.mark_list(first);
        Ok(())
    }

    /// Give the refs from `first` on list positions and removal spans.
    pub(super) fn mark_list(&mut self, first: usize) {
        let len = self.refs.len() - first;
        if len == 0 {
            return;
        }
        let spans: Vec<Range<usize>> = self.refs[first..].iter().map(|r| r.span.clone()).collect();
        for (index, r) in self.refs[first..].iter_mut().enumerate() {
            let removal = if len == 1 {
                r.span.clone()
            } else if index == 0 {
                spans[0].start..spans[1].start
            } else {
                spans[index - 1].end..spans[index].end
            };
            r.list = Some(RawList {
                index,
                len,
                removal,
            });
        }
    }

    /// `GRANTED BY r`: the role plus the span of the whole clause.
    pub(super) fn push_granted_by(&mut self, spec: &pb::RoleSpec) -> AnalysisResult<()> {
        self.push_spec(RoleRefKind::GrantedBy, spec)?;
        let i = self.tok_at(spec.location)?;
        if i >= 2 && self.is_kw(i - 1, "by")? && self.is_kw(i - 2, "granted")? {
            let start = self.tok(i - 2)?.start as usize;
            let last = self.refs.last_mut().expect("just pushed");
            last.clause = Some(start..last.span.end);
        }
        Ok(())
    }

    /// Index of the first significant token that is keyword `word`, at or
    /// after token `from`.
    pub(super) fn find_kw(&mut self, from: usize, word: &str) -> AnalysisResult<Option<usize>> {
        let n = self.tokens()?.len();
        for i in from..n {
            if self.is_kw(i, word)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

/// Truncate an identifier to NAMEDATALEN-1 bytes on a character boundary,
/// as the server does.
pub(super) fn truncate_name(v: &mut String) {
    if v.len() > crate::sql::ident::MAX_NAME {
        let mut cut = crate::sql::ident::MAX_NAME;
        while !v.is_char_boundary(cut) {
            cut -= 1;
        }
        v.truncate(cut);
    }
}
