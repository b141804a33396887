//! `pgpipe-roles`: rename, drop and reassign roles in a plain dump stream,
//! rewriting exactly the role references and nothing else.
//!
//! Rewriting is splicing. Every statement that [`analysis::may_reference_roles`]
//! is analysed; the output statement is the original bytes with exactly the
//! spans of the role references to change replaced (`quote_ident(new)` for an
//! identifier, `quote_literal(new)` for a string literal, in the dump's
//! client encoding), or one list item removed with its separating comma, or
//! the whole statement dropped. Statements that name no changed role are
//! written as they came, never re-serialized. COPY data is written straight
//! through, except the values of role-typed columns (`aclitem`, `regrole`
//! and arrays of them), which name roles and are rewritten ([`crate::sql::role_data`]).
//! pg_dump's `-- Name: …; Owner: X` headers and `USER MAPPING X SERVER Y`
//! tags get the new raw name so the output reads consistently.
//!
//! * [`plan`]: what becomes of each role, names across client encodings,
//!   and the merge rules (several roles onto one name).
//! * [`statement`]: one header, statement or COPY block at a time.
//! * [`archive`]: the same rules applied to the TOC of a custom archive.
//!
//! Where dropping a role would widen access (a policy whose only role is the
//! dropped one, a `REVOKE … FROM` the dropped owner of an object), the run
//! stops with an error naming the line, unless `force_drop` is set.

pub mod archive;
pub mod plan;
pub mod statement;

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};

use serde::Serialize;

pub use archive::EntryRewriter;
use statement::{Definition, Outcome, State};

use crate::dump::{Kind, Segment};
use crate::error::{Error, Result};
use crate::progress::Progress;
pub use crate::sql::ident::{MAX_NAME, check_name};

/// What to do to the roles of a dump. Build it, then call [`Options::check`]
/// (or let [`rewrite`] do it).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `OLD=NEW` renames, by real role name (not SQL-quoted).
    pub map: Vec<(String, String)>,
    /// Roles to remove from the dump.
    pub drop: Vec<String>,
    /// Drop even where that widens access.
    pub force_drop: bool,
    /// Every object owner becomes this role.
    pub owner: Option<String>,
    /// Remove ownership: `ALTER … OWNER TO`, owner clauses, session authorization.
    pub no_owner: bool,
    /// Remove privileges: GRANT/REVOKE on objects, default privileges, parameter grants.
    pub no_acl: bool,
    /// After rewriting, fail if any other role (besides PUBLIC) is referenced.
    pub only_roles: Option<Vec<String>>,
    /// Remove `PASSWORD` clauses of `CREATE ROLE` / `ALTER ROLE`.
    pub drop_passwords: bool,
    /// Let the members of a role merged into NEW (`GRANT old TO m`, old
    /// mapped onto a role that exists or that another role maps onto too)
    /// become members of NEW, with its privileges. Refused without it.
    pub grant_new_role_to_members: bool,
    /// Keep every edit in [`Report::edits`] (for tests and audits).
    pub record_edits: bool,
    /// Largest statement accepted.
    pub max_statement: usize,
}

/// Parse one `OLD=NEW` argument (the first `=` splits; names are raw).
pub fn parse_mapping(arg: &str) -> Result<(String, String)> {
    let Some((old, new)) = arg.split_once('=') else {
        return Err(Error::usage(format!(
            "--map {arg:?}: expected OLD=NEW (real role names, not SQL-quoted)"
        )));
    };
    let what = format!("--map {arg:?}");
    check_name(old, &what, false)?;
    check_name(new, &what, true)?;
    Ok((old.to_string(), new.to_string()))
}

/// Parse a map file: one `OLD=NEW` per line; blank lines and lines whose
/// first non-blank character is `#` are ignored; a trailing `\r` is dropped.
pub fn parse_map_file(text: &[u8], file: &str) -> Result<Vec<(String, String)>> {
    let text = std::str::from_utf8(text)
        .map_err(|_| Error::usage(format!("{file}: the map file is not UTF-8")))?;
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let m = parse_mapping(line)
            .map_err(|e| Error::usage(format!("{file}: line {}: {}", i + 1, e.message)))?;
        out.push(m);
    }
    Ok(out)
}

impl Options {
    /// Refuse contradictory or invalid options (usage errors, exit 2).
    pub fn check(&self) -> Result<()> {
        let mut seen = HashSet::new();
        for (old, new) in &self.map {
            check_name(old, &format!("--map {old}={new}"), false)?;
            check_name(new, &format!("--map {old}={new}"), true)?;
            if !seen.insert(old.as_str()) {
                return Err(Error::usage(format!(
                    "role {old:?} is mapped more than once"
                )));
            }
        }
        for d in &self.drop {
            check_name(d, &format!("--drop {d}"), false)?;
            if seen.contains(d.as_str()) {
                return Err(Error::usage(format!(
                    "role {d:?} is both mapped and dropped"
                )));
            }
        }
        if let Some(o) = &self.owner {
            check_name(o, "--owner", true)?;
            if self.no_owner {
                return Err(Error::usage("--owner and --no-owner contradict each other"));
            }
        }
        if let Some(list) = &self.only_roles {
            for r in list {
                check_name(r, "--only-roles", false)?;
            }
        }
        Ok(())
    }

    pub(crate) fn is_identity(&self) -> bool {
        self.map.is_empty()
            && self.drop.is_empty()
            && self.owner.is_none()
            && !self.no_owner
            && !self.no_acl
            && self.only_roles.is_none()
            && !self.drop_passwords
    }
}

/// One change made to the input, in input byte offsets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Input byte range replaced.
    pub start: u64,
    pub end: u64,
    /// What replaced it.
    #[serde(with = "lossy")]
    pub new: Vec<u8>,
}

mod lossy {
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(v))
    }
}

/// What a run changed, per role and kind of reference.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// `(role, kind, what) -> count`; `what` is `renamed to X`, `removed`,
    /// `statement dropped`, `owner set to X`, …
    pub changes: Vec<Change>,
    /// Header comments (`Owner:` fields, user mapping tags) rewritten.
    pub headers_rewritten: u64,
    /// Statements changed (spliced) and dropped.
    pub statements_changed: u64,
    pub statements_dropped: u64,
    /// Statements analysed (the rest were copied without a look).
    pub statements_analysed: u64,
    /// COPY data segments in which role-typed values were rewritten.
    pub data_rows_changed: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Warnings (also printed on stderr by the binary).
    pub warnings: Vec<String>,
    /// With `--only-roles`: `(line, role)` of every reference left to a role not listed.
    pub foreign_roles: Vec<(u64, String)>,
    /// Every edit, when [`Options::record_edits`] is set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
    /// The report is of an archive's TOC entries: where a line number would
    /// be, there is the entry's dump id.
    #[serde(skip)]
    pub archive: bool,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub role: String,
    pub kind: String,
    pub action: String,
    pub count: u64,
    /// Input line of the first occurrence.
    pub first_line: u64,
}

impl Report {
    /// What a position in this report counts: input lines, or the dump
    /// ids of an archive's TOC entries.
    pub fn place(&self) -> &'static str {
        if self.archive { "TOC entry" } else { "line" }
    }

    /// The report as text, one change per line.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        for c in &self.changes {
            s.push_str(&format!(
                "{}: {} {}: {} (first at {} {})\n",
                c.role,
                c.kind,
                c.action,
                c.count,
                self.place(),
                c.first_line
            ));
        }
        s.push_str(&format!(
            "statements analysed: {}, changed: {}, dropped: {}; headers rewritten: {}\n",
            self.statements_analysed,
            self.statements_changed,
            self.statements_dropped,
            self.headers_rewritten
        ));
        s
    }
}

#[derive(Default)]
pub struct Tally {
    map: BTreeMap<(String, String, String), (u64, u64)>,
    /// Archives: the dump id of the entry being rewritten, in place of lines.
    pub place: Option<u64>,
}

impl Tally {
    pub fn add(&mut self, role: &str, kind: &str, action: String, line: u64) {
        let line = self.place.unwrap_or(line);
        let e = self
            .map
            .entry((role.to_string(), kind.to_string(), action))
            .or_insert((0, line));
        e.0 += 1;
    }
}

/// How much of a run of role definitions may be held back while the merge
/// rules wait to see whether the dump defines a merge target itself.
pub const HOLD_LIMIT: usize = 64 << 20;

/// Rewrite `input` into `out` (or only report, with `out = None`).
///
/// Errors: a truncated input is an integrity error (exit 3) and its cut-off
/// tail is never written; a statement that names a changed role and cannot
/// be analysed, a widening drop without `force_drop`, a member of a merged
/// role without `grant_new_role_to_members`, role-typed data that cannot be
/// rewritten and `only_roles` violations are runtime errors (exit 1) naming
/// the line; a new name the dump's client encoding cannot represent is a
/// usage error (exit 2).
pub fn rewrite<R: Read>(
    input: R,
    out: Option<&mut dyn Write>,
    opts: &Options,
    progress: &Progress,
) -> Result<Report> {
    opts.check()?;
    let mut stage = Rewriter {
        st: State::new(opts),
        w: Writer {
            out,
            held: Vec::new(),
            held_bytes: 0,
        },
        identity: opts.is_identity(),
    };
    let summary = crate::dump::drive(input, opts.max_statement, progress, &mut stage)?;
    let Rewriter { mut st, mut w, .. } = stage;
    st.report.bytes = summary.bytes;
    summary.refuse_cut()?;
    finish_memberships(&mut st, false)?;
    w.release(&mut st)?;
    Ok(finish_report(st))
}

/// The rewrite as a stage of the stream driver.
struct Rewriter<'o, 'w> {
    st: State<'o>,
    w: Writer<'w>,
    /// Nothing to change: every byte is copied.
    identity: bool,
}

impl crate::dump::Stage for Rewriter<'_, '_> {
    fn segment(&mut self, seg: &Segment<'_>) -> Result<()> {
        let (st, w) = (&mut self.st, &mut self.w);
        if self.identity {
            if seg.kind != Kind::Incomplete {
                w.write(seg.bytes)?;
            }
            return Ok(());
        }
        st.plan.set_encoding(seg.encoding);
        match seg.kind {
            Kind::Comment => {
                let new = st.comment(seg)?;
                w.hold_or_write(new.as_deref().unwrap_or(seg.bytes))?;
            }
            Kind::Blank => w.hold_or_write(seg.bytes)?,
            Kind::Statement => {
                let done = st.statement(seg)?;
                finish_memberships(st, done.membership)?;
                let bytes = match &done.outcome {
                    Outcome::Keep => seg.bytes,
                    Outcome::Drop => &[][..],
                    Outcome::Replace(b) => b.as_slice(),
                };
                match done.definition {
                    Some(Definition::Mapped { old, new, line }) => {
                        w.hold(Held::Mapped {
                            old,
                            new,
                            line,
                            bytes: bytes.to_vec(),
                        })?;
                    }
                    Some(Definition::Other) if w.holding() => {
                        w.hold(Held::Bytes(bytes.to_vec()))?
                    }
                    _ => {
                        w.release(st)?;
                        w.write(bytes)?;
                    }
                }
                drop(done.outcome);
            }
            Kind::CopyStatement => {
                finish_memberships(st, false)?;
                w.release(st)?;
                st.copy_statement(seg)?;
                w.write(seg.bytes)?;
            }
            Kind::CopyData | Kind::CopyPart => {
                let new = st.copy_data(seg)?;
                w.write(new.as_deref().unwrap_or(seg.bytes))?;
            }
            Kind::CopyEnd => {
                st.copy_end();
                w.write(seg.bytes)?;
            }
            Kind::Meta => {
                st.meta(seg)?;
                finish_memberships(st, false)?;
                w.release(st)?;
                w.write(seg.bytes)?;
            }
            // The cut-off tail is never written: the driver's caller refuses it.
            Kind::Incomplete => {}
        }
        Ok(())
    }
}

/// The output, with the run of role definitions being held back.
struct Writer<'w> {
    out: Option<&'w mut dyn Write>,
    held: Vec<Held>,
    held_bytes: usize,
}

/// One held segment.
enum Held {
    Bytes(Vec<u8>),
    /// A mapped role's definition, written or left out by the merge rules.
    Mapped {
        old: String,
        new: String,
        line: u64,
        bytes: Vec<u8>,
    },
}

impl Writer<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        if let Some(w) = self.out.as_deref_mut() {
            w.write_all(bytes)
                .map_err(|e| Error::io("write error", e))?;
        }
        Ok(())
    }

    fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    fn hold(&mut self, h: Held) -> Result<()> {
        self.held_bytes += match &h {
            Held::Bytes(b) | Held::Mapped { bytes: b, .. } => b.len(),
        };
        if self.held_bytes > HOLD_LIMIT {
            return Err(Error::runtime(format!(
                "more than {} MiB of role definitions in one run; pgpipe-roles holds them \
                 until it knows which definition of a merged role to keep",
                HOLD_LIMIT >> 20
            )));
        }
        self.held.push(h);
        Ok(())
    }

    fn hold_or_write(&mut self, bytes: &[u8]) -> Result<()> {
        if self.holding() {
            self.hold(Held::Bytes(bytes.to_vec()))
        } else {
            self.write(bytes)
        }
    }

    /// The run of role definitions is over: write what the merge rules keep.
    fn release(&mut self, st: &mut State<'_>) -> Result<()> {
        let held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        for h in held {
            match h {
                Held::Bytes(b) => self.write(&b)?,
                Held::Mapped {
                    old,
                    new,
                    line,
                    bytes,
                } => match st.merges.verdict(&st.plan, &old, &new) {
                    plan::Verdict::Keep => self.write(&bytes)?,
                    plan::Verdict::LeaveOut(why) => {
                        if !bytes.is_empty() {
                            st.report.statements_dropped += 1;
                        }
                        st.tally.add(&old, "role_definition", why, line);
                    }
                },
            }
        }
        Ok(())
    }
}

/// Members of merged roles found in a run of `GRANT role TO member`
/// statements are reported together, when the run ends.
fn finish_memberships(st: &mut State<'_>, in_run: bool) -> Result<()> {
    if in_run || st.members.is_empty() {
        return Ok(());
    }
    let members = std::mem::take(&mut st.members);
    let list = members
        .iter()
        .map(|(line, role, new, member)| {
            format!("{member:?} (line {line}: member of {role:?}, which becomes {new:?})")
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::runtime(format!(
        "merging roles would hand their members the merged role's privileges: {list}"
    ))
    .at_line(members[0].0)
    .with_hint(
        "map or drop those members too, or pass --grant-new-role-to-members if they should \
         become members of the merged role",
    ))
}

pub(super) fn finish_report(st: State<'_>) -> Report {
    let mut report = st.report;
    let mut tally = st.tally;
    for (new, old) in st.merges.winners() {
        tally.add(
            new,
            "role_definition",
            format!("defined by {old}'s definition (the dump has none of its own)"),
            0,
        );
    }
    report.changes = tally
        .map
        .into_iter()
        .map(|((role, kind, action), (count, first_line))| Change {
            role,
            kind,
            action,
            count,
            first_line,
        })
        .collect();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8], opts: &Options) -> Result<(Vec<u8>, Report)> {
        let mut out = Vec::new();
        let rep = rewrite(input, Some(&mut out), opts, &Progress::default())?;
        Ok((out, rep))
    }

    fn map(pairs: &[(&str, &str)]) -> Options {
        Options {
            map: pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..Options::default()
        }
    }

    fn text(out: Vec<u8>) -> String {
        String::from_utf8(out).unwrap()
    }

    const ACL_TABLE: &str =
        "CREATE TABLE public.tab (id integer, a aclitem, b aclitem[], r regrole, t text);\n";

    #[test]
    fn role_typed_copy_data_is_rewritten_by_column() {
        let input = format!(
            "{ACL_TABLE}CREATE TABLE public.plain (t text);\n\
             COPY public.plain (t) FROM stdin;\n\"3f9a2c71\"=UC/\"3f9a2c71\"\n\\.\n\
             COPY public.tab (id, a, b, r, t) FROM stdin;\n\
             1\t\"3f9a2c71\"=UC/\"3f9a2c71\"\t{{\"=r/\\\\\"3f9a2c71\\\\\"\",\"rdsadmin=r/\\\\\"3f9a2c71\\\\\"\"}}\t\"3f9a2c71\"\t\"3f9a2c71\"=UC/x\n\
             2\t\\N\t\\N\tpg_monitor\tx\n\
             \\.\n"
        );
        let opts = Options {
            map: vec![("3f9a2c71".into(), "synapse".into())],
            drop: vec!["rdsadmin".into()],
            ..Options::default()
        };
        let (out, rep) = run(input.as_bytes(), &opts).unwrap();
        assert_eq!(
            text(out),
            format!(
                "{ACL_TABLE}CREATE TABLE public.plain (t text);\n\
                 COPY public.plain (t) FROM stdin;\n\"3f9a2c71\"=UC/\"3f9a2c71\"\n\\.\n\
                 COPY public.tab (id, a, b, r, t) FROM stdin;\n\
                 1\tsynapse=UC/synapse\t{{=r/synapse}}\tsynapse\t\"3f9a2c71\"=UC/x\n\
                 2\t\\N\t\\N\tpg_monitor\tx\n\
                 \\.\n"
            )
        );
        assert_eq!(rep.data_rows_changed, 1);
        // A single value naming a dropped role: an error naming table, column and row.
        let input = format!(
            "{ACL_TABLE}COPY public.tab (r, a) FROM stdin;\nx\t=r/x\nrdsadmin\t=r/x\n\\.\n"
        );
        let e = run(input.as_bytes(), &opts).unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(
            e.message.contains("COPY public.tab: row 2, column r"),
            "{e}"
        );
        assert!(e.message.contains("rdsadmin"), "{e}");
        // --only-roles sees the names in the data.
        let only = Options {
            only_roles: Some(vec!["x".into()]),
            ..Options::default()
        };
        let (_, rep) = run(input.as_bytes(), &only).unwrap();
        assert_eq!(rep.foreign_roles, vec![(4, "rdsadmin".to_string())]);
    }

    #[test]
    fn role_typed_insert_values_are_rewritten() {
        let input = format!(
            "{ACL_TABLE}INSERT INTO public.tab VALUES (1, '\"3f9a2c71\"=UC/\"3f9a2c71\"', '{{\"=r/\\\"3f9a2c71\\\"\"}}', 'pg_monitor', 'it''s \"3f9a2c71\"');\n\
             INSERT INTO public.tab (t, r) VALUES ('\"3f9a2c71\"', '\"3f9a2c71\"'), (NULL, NULL);\n"
        );
        let (out, _) = run(input.as_bytes(), &map(&[("3f9a2c71", "Syn Apse")])).unwrap();
        assert_eq!(
            text(out),
            format!(
                "{ACL_TABLE}INSERT INTO public.tab VALUES (1, '\"Syn Apse\"=UC/\"Syn Apse\"', '{{\"=r/\\\"Syn Apse\\\"\"}}', 'pg_monitor', 'it''s \"3f9a2c71\"');\n\
                 INSERT INTO public.tab (t, r) VALUES ('\"3f9a2c71\"', '\"Syn Apse\"'), (NULL, NULL);\n"
            )
        );
    }

    #[test]
    fn composite_types_holding_role_types_are_refused_when_they_may_matter() {
        let input = b"CREATE TYPE public.c AS (who regrole);\nCREATE TABLE public.t (v public.c);\nCOPY public.t (v) FROM stdin;\n(alice)\n\\.\n";
        let (out, _) = run(input, &map(&[("bob", "carol")])).unwrap();
        assert_eq!(out, input);
        let e = run(input, &map(&[("alice", "carol")])).unwrap_err();
        assert!(e.message.contains("composite type public.c"), "{e}");
    }

    #[test]
    fn keep_data_of_roles_untouched_without_changes() {
        // --owner changes no data.
        let input = format!("{ACL_TABLE}COPY public.tab (a) FROM stdin;\na=r/b\n\\.\n");
        let opts = Options {
            owner: Some("x".into()),
            ..Options::default()
        };
        let (out, _) = run(input.as_bytes(), &opts).unwrap();
        assert_eq!(text(out), input);
    }

    #[test]
    fn filter_role_blocks_are_seen_through() {
        let block = crate::sql::blocks::if_not_exists(b"CREATE ROLE \"3f9a2c71\";\n");
        let mut input = block.clone();
        input.extend_from_slice(&crate::sql::blocks::if_not_exists(
            b"CREATE ROLE rdsadmin;\n",
        ));
        let opts = Options {
            map: vec![("3f9a2c71".into(), "synapse".into())],
            drop: vec!["rdsadmin".into()],
            ..Options::default()
        };
        let (out, _) = run(&input, &opts).unwrap();
        assert_eq!(
            text(out),
            "DO $pgpipe$BEGIN CREATE ROLE synapse; EXCEPTION WHEN duplicate_object THEN NULL; END $pgpipe$;\n"
        );
        let only = Options {
            only_roles: Some(vec!["synapse".into()]),
            ..Options::default()
        };
        let (_, rep) = run(&block, &only).unwrap();
        assert_eq!(rep.foreign_roles, vec![(1, "3f9a2c71".to_string())]);
    }

    #[test]
    fn owner_takes_over_the_old_owners_own_privileges() {
        let input = b"-- Name: TABLE t; Type: ACL; Schema: public; Owner: pg_database_owner\n\
REVOKE ALL ON TABLE public.t FROM pg_database_owner;\n\
GRANT SELECT,INSERT ON TABLE public.t TO pg_database_owner;\n\
GRANT SELECT ON TABLE public.t TO readers;\n";
        let opts = Options {
            owner: Some("synapse".into()),
            ..Options::default()
        };
        let (out, _) = run(input, &opts).unwrap();
        assert_eq!(
            text(out),
            "-- Name: TABLE t; Type: ACL; Schema: public; Owner: synapse\n\
REVOKE ALL ON TABLE public.t FROM synapse;\n\
GRANT SELECT,INSERT ON TABLE public.t TO synapse;\n\
GRANT SELECT ON TABLE public.t TO readers;\n"
        );
    }

    #[test]
    fn owner_takes_over_default_privileges_without_duplicates() {
        let input = b"ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA app REVOKE ALL ON TABLES FROM app_owner;\n\
ALTER DEFAULT PRIVILEGES FOR ROLE app_owner GRANT SELECT ON TABLES TO readonly;\n\
ALTER DEFAULT PRIVILEGES FOR ROLE other GRANT SELECT ON TABLES TO readonly;\n\
ALTER DEFAULT PRIVILEGES FOR ROLE other GRANT USAGE ON SEQUENCES TO readonly;\n";
        let opts = Options {
            owner: Some("synapse".into()),
            ..Options::default()
        };
        let (out, _) = run(input, &opts).unwrap();
        assert_eq!(
            text(out),
            "ALTER DEFAULT PRIVILEGES FOR ROLE synapse IN SCHEMA app REVOKE ALL ON TABLES FROM synapse;\n\
ALTER DEFAULT PRIVILEGES FOR ROLE synapse GRANT SELECT ON TABLES TO readonly;\n\
ALTER DEFAULT PRIVILEGES FOR ROLE synapse GRANT USAGE ON SEQUENCES TO readonly;\n"
        );
        // --no-owner keeps FOR ROLE, as pg_restore -O does.
        let opts = Options {
            no_owner: true,
            ..Options::default()
        };
        let (out, _) = run(input, &opts).unwrap();
        assert_eq!(out, input);
    }

    const CLUSTER: &str = "CREATE ROLE \"3f9a2c71\";\n\
ALTER ROLE \"3f9a2c71\" WITH LOGIN PASSWORD 'managed';\n\
CREATE ROLE readers;\n\
ALTER ROLE readers WITH NOLOGIN;\n\
COMMENT ON ROLE readers IS 'r';\n\
CREATE ROLE synapse;\n\
ALTER ROLE synapse WITH LOGIN;\n\
\n\
--\n\
-- User Config \"3f9a2c71\"\n\
--\n\
\n\
ALTER ROLE \"3f9a2c71\" SET work_mem TO '1MB';\n\
\n\
GRANT readers TO synapse;\n\
";

    #[test]
    fn merged_roles_keep_only_the_targets_own_definition() {
        let opts = map(&[("3f9a2c71", "synapse"), ("readers", "synapse")]);
        let (out, rep) = run(CLUSTER.as_bytes(), &opts).unwrap();
        assert_eq!(
            text(out),
            "CREATE ROLE synapse;\n\
ALTER ROLE synapse WITH LOGIN;\n\
\n\
--\n\
-- User Config \"3f9a2c71\"\n\
--\n\
\n\
\n"
        );
        assert!(
            rep.render_text()
                .contains("left out: the dump defines synapse itself"),
            "{}",
            rep.render_text()
        );
        // Without a definition of its own, the first mapped role's is kept.
        let cluster = CLUSTER
            .replace("CREATE ROLE synapse;\nALTER ROLE synapse WITH LOGIN;\n", "")
            .replace("GRANT readers TO synapse;\n", "");
        let opts = map(&[("readers", "synapse"), ("3f9a2c71", "synapse")]);
        let (out, rep) = run(cluster.as_bytes(), &opts).unwrap();
        assert_eq!(
            text(out),
            "CREATE ROLE synapse;\n\
ALTER ROLE synapse WITH LOGIN PASSWORD 'managed';\n\
\n\
--\n\
-- User Config \"3f9a2c71\"\n\
--\n\
\n\
ALTER ROLE synapse SET work_mem TO '1MB';\n\
\n"
        );
        assert!(
            rep.render_text()
                .contains("defined by 3f9a2c71's definition (the dump has none of its own)"),
            "{}",
            rep.render_text()
        );
        // A pure rename keeps everything, memberships included.
        let (out, _) = run(CLUSTER.as_bytes(), &map(&[("readers", "readonly")])).unwrap();
        assert_eq!(text(out), CLUSTER.replace("readers", "readonly"));
    }

    #[test]
    fn members_of_a_merged_role_are_refused_unless_asked_for() {
        let input = format!(
            "{CLUSTER}GRANT readers TO alice;\nGRANT readers TO bob GRANTED BY synapse;\nSELECT 1;\n"
        );
        let e = run(input.as_bytes(), &map(&[("readers", "synapse")])).unwrap_err();
        assert!(e.message.contains("\"alice\" (line 16"), "{e}");
        assert!(e.message.contains("\"bob\" (line 17"), "{e}");
        let mut opts = map(&[("readers", "synapse")]);
        opts.grant_new_role_to_members = true;
        let (out, _) = run(input.as_bytes(), &opts).unwrap();
        assert!(text(out).contains("GRANT synapse TO alice;\n"));
    }

    #[test]
    fn names_in_a_latin1_dump_match_both_byte_forms() {
        // The role was created from a UTF-8 session: its name keeps UTF-8
        // bytes inside the LATIN1 dump; the table name is LATIN1.
        let input = b"SET client_encoding = 'LATIN1';\n\
-- Name: caf\xe9; Type: TABLE; Schema: public; Owner: r\xc3\xb4le\n\
ALTER TABLE public.\"caf\xe9\" OWNER TO \"r\xc3\xb4le\";\n\
-- Name: t; Type: TABLE; Schema: public; Owner: r\xf4le\n\
ALTER TABLE public.t OWNER TO \"r\xf4le\";\n";
        let (out, _) = run(input, &map(&[("r\u{f4}le", "synapse")])).unwrap();
        assert_eq!(
            out,
            b"SET client_encoding = 'LATIN1';\n\
-- Name: caf\xe9; Type: TABLE; Schema: public; Owner: synapse\n\
ALTER TABLE public.\"caf\xe9\" OWNER TO synapse;\n\
-- Name: t; Type: TABLE; Schema: public; Owner: synapse\n\
ALTER TABLE public.t OWNER TO synapse;\n"
        );
        // NEW is written in the dump's encoding; one it cannot hold is a usage error.
        let (out, _) = run(input, &map(&[("r\u{f4}le", "\u{e9}t\u{e9}")])).unwrap();
        assert!(out.ends_with(b"ALTER TABLE public.t OWNER TO \"\xe9t\xe9\";\n"));
        let e = run(input, &map(&[("r\u{f4}le", "\u{30ed}")])).unwrap_err();
        assert_eq!(e.exit_code(), 2, "{e}");
    }

    #[test]
    fn renames_with_pg_dump_quoting() {
        let input = b"ALTER TABLE public.t OWNER TO \"3f9a2c71\";\nGRANT SELECT ON TABLE public.t TO alice, \"3f9a2c71\";\nCOPY public.t (a) FROM stdin;\nALTER TABLE x OWNER TO \"3f9a2c71\";\n\\.\n";
        let (out, _) = run(input, &map(&[("3f9a2c71", "synapse"), ("alice", "Select")])).unwrap();
        assert_eq!(
            out,
            b"ALTER TABLE public.t OWNER TO synapse;\nGRANT SELECT ON TABLE public.t TO \"Select\", synapse;\nCOPY public.t (a) FROM stdin;\nALTER TABLE x OWNER TO \"3f9a2c71\";\n\\.\n"
        );
    }

    #[test]
    fn injection_is_quoted() {
        let (out, _) = run(
            b"ALTER SCHEMA s OWNER TO a;\n",
            &map(&[("a", "x; DROP TABLE t")]),
        )
        .unwrap();
        assert_eq!(out, b"ALTER SCHEMA s OWNER TO \"x; DROP TABLE t\";\n");
    }

    #[test]
    fn bad_mappings_are_usage_errors() {
        for m in [
            "=x",
            "x=",
            "a=public",
            "a=PUBLIC",
            "a=pg_monitor",
            "a=none",
            "noequals",
        ] {
            let e = parse_mapping(m).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{m}");
        }
        let long = "a".repeat(64);
        assert_eq!(
            parse_mapping(&format!("x={long}")).unwrap_err().exit_code(),
            2
        );
        assert!(parse_mapping(&format!("x={}", "a".repeat(63))).is_ok());
        let e = map(&[("a", "b"), ("a", "c")]).check().unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn drop_removes_one_grantee_and_granted_by() {
        let opts = Options {
            drop: vec!["rdsadmin".into()],
            ..Options::default()
        };
        let input = b"GRANT ALL ON TABLE t TO alice, rdsadmin, bob;\nGRANT ALL ON TABLE t TO rdsadmin;\nGRANT readers TO alice GRANTED BY rdsadmin;\nALTER TABLE t OWNER TO rdsadmin;\n";
        let (out, _) = run(input, &opts).unwrap();
        assert_eq!(
            out,
            b"GRANT ALL ON TABLE t TO alice, bob;\nGRANT readers TO alice;\n"
        );
    }

    #[test]
    fn drop_two_of_three_rebuilds_the_list() {
        let opts = Options {
            drop: vec!["a".into(), "b".into()],
            map: vec![("c".into(), "Z".into())],
            ..Options::default()
        };
        let (out, _) = run(b"GRANT SELECT ON TABLE t TO a, c, b;\n", &opts).unwrap();
        assert_eq!(out, b"GRANT SELECT ON TABLE t TO \"Z\";\n");
    }

    #[test]
    fn policy_widening_errors() {
        let opts = Options {
            drop: vec!["a".into()],
            ..Options::default()
        };
        let input = b"SELECT 1;\nCREATE POLICY p ON public.t TO a USING (true);\n";
        let e = run(input, &opts).unwrap_err();
        assert_eq!(e.line, Some(2));
        let opts = Options {
            force_drop: true,
            ..opts
        };
        let (out, _) = run(input, &opts).unwrap();
        assert_eq!(out, b"SELECT 1;\n");
    }

    #[test]
    fn truncated_input_is_integrity_error() {
        let e = run(
            b"ALTER TABLE t OWNER TO a;\nCREATE TABLE x (",
            &map(&[("a", "b")]),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 3);
    }

    #[test]
    fn session_authorization_literal() {
        let (out, _) = run(
            b"SET SESSION AUTHORIZATION 'Bob Smith';\n",
            &map(&[("Bob Smith", "bob's")]),
        )
        .unwrap();
        assert_eq!(out, b"SET SESSION AUTHORIZATION 'bob''s';\n");
    }

    #[test]
    fn headers_get_new_owner() {
        let (out, rep) = run(
            b"-- Name: t; Type: TABLE; Schema: public; Owner: Bob Smith\n-- Name: USER MAPPING Bob Smith SERVER s1; Type: USER MAPPING; Schema: -; Owner: -\n",
            &map(&[("Bob Smith", "bob")]),
        )
        .unwrap();
        assert_eq!(
            out,
            b"-- Name: t; Type: TABLE; Schema: public; Owner: bob\n-- Name: USER MAPPING bob SERVER s1; Type: USER MAPPING; Schema: -; Owner: -\n"
        );
        assert_eq!(rep.headers_rewritten, 2);
    }

    #[test]
    fn md5_hashes_of_renamed_roles_are_removed() {
        let hash = "CREATE ROLE alice;\nALTER ROLE alice WITH LOGIN PASSWORD 'md5f5e0e4e9a1c3b2d4f6a8c0e2b4d6f8a0';\n";
        let (out, rep) = run(hash.as_bytes(), &map(&[("alice", "bob")])).unwrap();
        // As ALTER ROLE … RENAME does: the hash is salted with the old name.
        assert_eq!(out, b"CREATE ROLE bob;\nALTER ROLE bob WITH LOGIN;\n");
        assert_eq!(rep.warnings.len(), 1, "{:?}", rep.warnings);
        assert!(
            rep.warnings[0].contains("md5 hash salted with the old name, so it was removed"),
            "{:?}",
            rep.warnings
        );
        // A role that is not renamed keeps its hash.
        let (out, _) = run(hash.as_bytes(), &map(&[("carol", "bob")])).unwrap();
        assert_eq!(out, hash.as_bytes());
        // A plain password that starts with "md5" is hashed by the server
        // with the new name: nothing breaks, nothing to warn about.
        let plain =
            "CREATE ROLE alice;\nALTER ROLE alice WITH LOGIN PASSWORD 'md5 was the old scheme';\n";
        let (out, rep) = run(plain.as_bytes(), &map(&[("alice", "bob")])).unwrap();
        assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
        assert_eq!(
            out,
            b"CREATE ROLE bob;\nALTER ROLE bob WITH LOGIN PASSWORD 'md5 was the old scheme';\n"
        );
    }
}
