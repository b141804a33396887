//! The rules of [`super::rewrite`] applied to the TOC entries of a
//! custom-format archive (`pgpipe-roles --keep-format`).
//!
//! Each entry's definition and drop statement are rewritten as plain SQL
//! (ACL, DEFAULT ACL, POLICY, USER MAPPING, DATABASE PROPERTIES, and any
//! other that names a role), its owner field (which pg_restore turns into
//! `ALTER … OWNER TO`) and a user mapping's tag. A statement dropped leaves
//! the entry in place with less SQL, so dependency ids stay whole; an entry
//! left with no SQL restores nothing.
//!
//! Data blocks are copied unchanged, so the data of a table with
//! role-typed columns (`aclitem`, `regrole`), whose values name roles, is
//! refused when roles are renamed, dropped or checked: copying it would
//! leave the old names in the restored rows.
//!
//! Report lines and `foreign_roles` carry the dump id of the entry in place
//! of a line number.

use super::statement::{Outcome, State};
use super::{Error, Options, Report, Result, finish_report, plan::Fate};
use crate::archive::read::TocEntry;
use crate::dump::{Kind, Reader};

/// Rewrites the TOC entries of an archive one at a time.
pub struct EntryRewriter<'o> {
    st: State<'o>,
    identity: bool,
    limit: usize,
    /// The session settings the archive's ENCODING and STDSTRINGS entries make,
    /// read ahead of each entry's SQL so literals lex as pg_restore sends them.
    session: Vec<u8>,
}

impl<'o> EntryRewriter<'o> {
    pub fn new(opts: &'o Options) -> Result<EntryRewriter<'o>> {
        opts.check()?;
        Ok(EntryRewriter {
            st: State::new(opts),
            identity: opts.is_identity(),
            limit: opts.max_statement,
            session: Vec::new(),
        })
    }

    /// Rewrite one TOC entry in place.
    pub fn entry(&mut self, te: &mut TocEntry) -> Result<()> {
        let desc = te.desc().to_vec();
        if matches!(&desc[..], b"ENCODING" | b"STDSTRINGS") {
            if let Some(d) = &te.defn {
                self.session.extend_from_slice(d);
                if !d.ends_with(b"\n") {
                    self.session.push(b'\n');
                }
            }
            return Ok(());
        }
        if self.identity {
            return Ok(());
        }
        let id = te.dump_id;
        let what = te.describe();
        self.st.tally.place = Some(id as u64);
        self.st.toc_owner = te.owner.clone();
        self.st.toc_type = desc.clone();
        if desc == b"TABLE DATA" && self.st.data {
            let schema = te
                .namespace
                .as_deref()
                .map(|n| String::from_utf8_lossy(n).into_owned());
            let name = String::from_utf8_lossy(te.tag()).into_owned();
            if self.st.columns.table(schema.as_deref(), &name).is_some() {
                return Err(Error::runtime(format!(
                    "{what}: the table has role-typed columns (aclitem, regrole), whose values \
                     name roles; --keep-format copies data blocks unchanged, so they would keep \
                     the old names"
                ))
                .with_hint("drop --keep-format: pgpipe-roles then rewrites the data as SQL"));
            }
        }
        // 17+ BLOB METADATA definitions are OID lists, not SQL.
        if !matches!(&desc[..], b"BLOB METADATA" | b"SEARCHPATH") {
            if let Some(new) = self.sql(te.defn.as_deref(), id, &what)? {
                te.defn = Some(new);
            }
            if let Some(new) = self.sql(te.drop_stmt.as_deref(), id, &what)? {
                te.drop_stmt = Some(new);
            }
        }
        let mut header_changed = false;
        if let Some(new) = self.owner_field(te.owner.as_deref(), id)? {
            te.owner = Some(new);
            header_changed = true;
        }
        if desc == b"USER MAPPING"
            && let Some(tag) = &te.tag
            && let Some(rest) = tag.strip_prefix(b"USER MAPPING ")
            && let Some(end) = memchr::memmem::find(rest, b" SERVER ")
            && let Some(name) = self.decoded(&rest[..end])
            && let Fate::Rename(new) = self.st.plan.fate(&name)
        {
            let mut t = b"USER MAPPING ".to_vec();
            t.extend_from_slice(&self.st.plan.encode(new, "--map")?);
            t.extend_from_slice(&rest[end..]);
            te.tag = Some(t);
            header_changed = true;
        }
        if header_changed {
            self.st.report.headers_rewritten += 1;
        }
        Ok(())
    }

    /// A name from the TOC, in the archive's encoding, as text.
    fn decoded(&self, bytes: &[u8]) -> Option<String> {
        crate::sql::encoding::decode(bytes, self.st.plan.encoding())
            .ok()
            .map(|d| d.text.into_owned())
    }

    /// The new owner field, when it changes: `--owner`, `--no-owner` and a
    /// dropped owner (the empty owner: pg_restore then sets none), a rename.
    fn owner_field(&mut self, owner: Option<&[u8]>, id: i32) -> Result<Option<Vec<u8>>> {
        let Some(owner) = owner.filter(|o| !o.is_empty()) else {
            return Ok(None);
        };
        let opts = self.st.plan.opts;
        let name = self
            .decoded(owner)
            .unwrap_or_else(|| String::from_utf8_lossy(owner).into_owned());
        let (new, action): (Option<String>, String) = if opts.no_owner {
            (Some(String::new()), "removed (--no-owner)".into())
        } else if let Some(o) = &opts.owner {
            (Some(o.clone()), format!("owner set to {o}"))
        } else {
            match self.st.plan.fate(&name) {
                Fate::Keep => (None, String::new()),
                Fate::Rename(n) => (Some(n.to_string()), format!("renamed to {n}")),
                Fate::Drop => (Some(String::new()), "removed (--drop)".into()),
            }
        };
        let final_name = new.clone().unwrap_or_else(|| name.clone());
        if !final_name.is_empty() && !self.st.plan.allowed(&final_name) {
            self.st.report.foreign_roles.push((id as u64, final_name));
        }
        let Some(new) = new else {
            return Ok(None);
        };
        let bytes = self.st.plan.encode(&new, "the new owner")?;
        if bytes == owner {
            return Ok(None);
        }
        self.st.tally.add(&name, "toc_owner", action, id as u64);
        Ok(Some(bytes))
    }

    /// Rewrite the SQL of one field; `None` when it is unchanged.
    fn sql(&mut self, sql: Option<&[u8]>, id: i32, what: &str) -> Result<Option<Vec<u8>>> {
        let Some(sql) = sql.filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let skip = self.session.len();
        let mut input = self.session.clone();
        input.extend_from_slice(sql);
        let mut reader = Reader::with_limit(&input[..], self.limit);
        let mut out = Vec::with_capacity(sql.len());
        let mut changed = false;
        let foreign_before = self.st.report.foreign_roles.len();
        let in_entry = |mut e: Error| {
            e.message = format!("{what}: {}", e.message);
            e.line = None;
            e
        };
        while let Some(seg) = reader.next_segment().map_err(in_entry)? {
            self.st.plan.set_encoding(seg.encoding);
            if (seg.offset as usize) < skip {
                continue;
            }
            let replaced = match seg.kind {
                Kind::Statement => {
                    let done = self.st.statement(&seg).map_err(in_entry)?;
                    let definition = done.definition.clone();
                    let outcome = done.outcome;
                    // No run of role definitions to wait for in an archive:
                    // the merge rules decide with what the TOC has shown.
                    let left_out = match definition {
                        Some(super::statement::Definition::Mapped { old, new, .. }) => {
                            match self.st.merges.verdict(&self.st.plan, &old, &new) {
                                super::plan::Verdict::Keep => false,
                                super::plan::Verdict::LeaveOut(why) => {
                                    self.st.tally.add(&old, "role_definition", why, id as u64);
                                    true
                                }
                            }
                        }
                        _ => false,
                    };
                    if left_out {
                        Some(Vec::new())
                    } else {
                        match outcome {
                            Outcome::Keep => None,
                            Outcome::Drop => Some(Vec::new()),
                            Outcome::Replace(b) => Some(b),
                        }
                    }
                }
                Kind::Incomplete if self.st.plan.mentions_changed_role(seg.bytes) => {
                    return Err(Error::runtime(format!(
                        "{what}: its SQL does not end with a complete statement and may name a role to change"
                    )));
                }
                _ => None,
            };
            changed |= replaced.is_some();
            out.extend_from_slice(replaced.as_deref().unwrap_or(seg.bytes));
        }
        for f in &mut self.st.report.foreign_roles[foreign_before..] {
            f.0 = id as u64;
        }
        let members = std::mem::take(&mut self.st.members);
        if let Some((_, role, new, member)) = members.first() {
            return Err(Error::runtime(format!(
                "{what}: merging roles would make {member:?} a member of {new:?} (it is a member \
                 of {role:?})"
            ))
            .with_hint("map or drop that member too, or pass --grant-new-role-to-members"));
        }
        Ok(changed.then_some(out))
    }

    /// What was changed, over every entry.
    pub fn finish(self) -> Report {
        let mut report = finish_report(self.st);
        report.archive = true;
        report
    }
}

/// `pgpipe-roles --keep-format`: read a custom-format archive and write it
/// to `out` with its TOC entries rewritten and its data blocks copied (with
/// `out = None`, only report).
pub fn rewrite_archive(
    input: impl std::io::Read,
    out: Option<&mut dyn std::io::Write>,
    opts: &Options,
    progress: &crate::progress::Progress,
) -> Result<(Report, crate::archive::write::Summary)> {
    let mut rw = EntryRewriter::new(opts)?;
    let mut sink = std::io::sink();
    let out: &mut dyn std::io::Write = match out {
        Some(o) => o,
        None => &mut sink,
    };
    let result = crate::archive::write::rewrite_custom(input, out, &mut |_, te| rw.entry(te));
    progress.finish();
    let summary = result?;
    Ok((rw.finish(), summary))
}
