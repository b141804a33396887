//! What becomes of each role: the options resolved against the names a dump
//! actually holds, and the rules for roles merged into one.
//!
//! Names on the command line are UTF-8; a dump may be in another client
//! encoding, and a role's name may even be held in bytes of a third (a role
//! created from a UTF-8 session keeps its UTF-8 bytes in the shared catalog,
//! and pg_dump of a LATIN1 database prints them unconverted). A name given
//! as `OLD` therefore matches a name in the dump when the dump's bytes are
//! either OLD written in the dump's client encoding or OLD's UTF-8 bytes
//! ([`encoding::dump_forms`]); a `NEW` name is always written in the dump's
//! client encoding, and one that encoding cannot represent is a usage error.
//!
//! Merging: when several roles map onto one name, or a role maps onto a role
//! the dump defines itself, only one definition of the result may reach the
//! target: the dump's own definition of NEW, or, when it has none, the first
//! mapped role's (in dump order). The others' `CREATE ROLE`, `ALTER ROLE …
//! WITH`, `ALTER ROLE … SET`, comments and drops are left out, so a merge
//! never changes the target role's password or attributes by accident.

use std::collections::{HashMap, HashSet};

use super::{Error, Options, Result};
use crate::sql::encoding;
use crate::sql::ident::{quote_ident, quote_literal_with};

/// What becomes of one named role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate<'o> {
    Keep,
    Rename(&'o str),
    Drop,
}

/// The options, resolved for the dump's current client encoding.
pub struct Plan<'o> {
    pub opts: &'o Options,
    encoding: String,
    /// Dump forms of each mapped name -> its new name.
    map: HashMap<String, &'o str>,
    drop: HashSet<String>,
    only: Option<HashSet<String>>,
    /// Byte needles for "may this unparsable text name a changed role".
    needles: Vec<Vec<u8>>,
    /// NEW -> the OLDs that map onto it, in command-line order.
    sources: HashMap<&'o str, Vec<&'o str>>,
}

impl<'o> Plan<'o> {
    pub fn new(opts: &'o Options) -> Plan<'o> {
        let mut sources: HashMap<&str, Vec<&str>> = HashMap::new();
        for (old, new) in &opts.map {
            sources.entry(new.as_str()).or_default().push(old.as_str());
        }
        let mut plan = Plan {
            opts,
            encoding: String::new(),
            map: HashMap::new(),
            drop: HashSet::new(),
            only: None,
            needles: Vec::new(),
            sources,
        };
        plan.set_encoding("UTF8");
        plan
    }

    /// Resolve the names for client encoding `enc` (cheap when unchanged).
    pub fn set_encoding(&mut self, enc: &str) {
        if self.encoding == enc {
            return;
        }
        self.encoding = enc.to_string();
        self.map.clear();
        self.drop.clear();
        self.needles.clear();
        let opts = self.opts;
        for (old, new) in &opts.map {
            for f in encoding::dump_forms(old, enc) {
                self.map.insert(f, new.as_str());
            }
        }
        for d in &opts.drop {
            self.drop.extend(encoding::dump_forms(d, enc));
        }
        self.only = opts.only_roles.as_ref().map(|l| {
            l.iter()
                .flat_map(|n| encoding::dump_forms(n, enc))
                .collect()
        });
        for form in self.map.keys().chain(self.drop.iter()) {
            let Some(bytes) = encoding::encode(form, enc) else {
                continue;
            };
            let lower = bytes.to_ascii_lowercase();
            let mut doubled_dq = Vec::new();
            let mut doubled_sq = Vec::new();
            for &b in &lower {
                doubled_dq.push(b);
                doubled_sq.push(b);
                if b == b'"' {
                    doubled_dq.push(b);
                }
                if b == b'\'' {
                    doubled_sq.push(b);
                }
            }
            self.needles.push(lower);
            self.needles.push(doubled_dq);
            self.needles.push(doubled_sq);
        }
    }

    pub fn encoding(&self) -> &str {
        &self.encoding
    }

    /// What becomes of the role a dump names `name` (decoded text).
    pub fn fate(&self, name: &str) -> Fate<'o> {
        if let Some(new) = self.map.get(name) {
            Fate::Rename(new)
        } else if self.drop.contains(name) {
            Fate::Drop
        } else {
            Fate::Keep
        }
    }

    /// The name the output uses for `name`; `None` when it is dropped.
    pub fn final_name<'a>(&self, name: &'a str) -> Option<&'a str>
    where
        'o: 'a,
    {
        match self.fate(name) {
            Fate::Keep => Some(name),
            Fate::Rename(n) => Some(n),
            Fate::Drop => None,
        }
    }

    /// With `--only-roles`: whether a final name is one of those listed.
    pub fn allowed(&self, name: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(name))
    }

    pub fn checks_only(&self) -> bool {
        self.only.is_some()
    }

    /// Whether any role is renamed or dropped.
    pub fn changes_names(&self) -> bool {
        !self.opts.map.is_empty() || !self.opts.drop.is_empty()
    }

    /// Whether raw text may name a role that is renamed or dropped.
    pub fn mentions_changed_role(&self, text: &[u8]) -> bool {
        if self.needles.is_empty() {
            return false;
        }
        let lower = text.to_ascii_lowercase();
        self.needles
            .iter()
            .any(|n| memchr::memmem::find(&lower, n).is_some())
    }

    /// The roles that map onto `new`.
    pub fn sources(&self, new: &str) -> &[&'o str] {
        self.sources.get(new).map_or(&[], |v| v.as_slice())
    }

    /// `new` in the dump's client encoding: a usage error when it cannot be.
    pub fn encode(&self, new: &str, what: &str) -> Result<Vec<u8>> {
        encoding::encode(new, &self.encoding)
            .map(|b| b.into_owned())
            .ok_or_else(|| {
                Error::usage(format!(
                    "{what}: the dump's client encoding {} cannot represent {new:?}",
                    self.encoding
                ))
                .with_hint("choose a new name that encoding can write")
            })
    }

    /// A new role name as an identifier, in the dump's client encoding.
    pub fn ident_bytes(&self, new: &str) -> Result<Vec<u8>> {
        self.encode(&quote_ident(new), &format!("role {new:?}"))
    }

    /// A new role name as a string literal, in the dump's client encoding.
    pub fn literal_bytes(&self, new: &str, std_strings: bool) -> Result<Vec<u8>> {
        self.encode(
            &quote_literal_with(new, std_strings),
            &format!("role {new:?}"),
        )
    }
}

/// The merge rules' memory: which final names the dump defines itself, and
/// whose definition a merge target without one takes.
#[derive(Default)]
pub struct Merges {
    /// Final names of mapped roles that the dump also defines under that
    /// name itself (an unmapped role's definition).
    own: HashSet<String>,
    /// For a merge target that has no definition of its own: the mapped
    /// role whose definition it takes.
    winner: HashMap<String, String>,
}

/// What a definition of a mapped role becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Left out, and why (for the report).
    LeaveOut(String),
}

impl Merges {
    /// A role-definition statement of a role that is not renamed: when a
    /// mapped role's new name is this, the dump defines it itself.
    pub fn defines_own(&mut self, plan: &Plan<'_>, name: &str) {
        if !plan.sources(name).is_empty() {
            self.own.insert(name.to_string());
        }
    }

    /// Whether `new` is the target of a merge (several roles, or a role
    /// the dump defines itself, become it), as far as the dump has shown.
    pub fn is_merge(&self, plan: &Plan<'_>, new: &str) -> bool {
        plan.sources(new).len() > 1 || self.own.contains(new)
    }

    /// The verdict on a definition of mapped role `old` (renamed to `new`).
    pub fn verdict(&mut self, plan: &Plan<'_>, old: &str, new: &str) -> Verdict {
        if self.own.contains(new) {
            return Verdict::LeaveOut(format!(
                "left out: the dump defines {new} itself, and that definition is kept"
            ));
        }
        if plan.sources(new).len() < 2 {
            return Verdict::Keep;
        }
        let w = self
            .winner
            .entry(new.to_string())
            .or_insert_with(|| old.to_string());
        if w == old {
            Verdict::Keep
        } else {
            Verdict::LeaveOut(format!(
                "left out: {new} takes the definition of {w}, the first role mapped onto it"
            ))
        }
    }

    /// Merge targets that took a mapped role's definition: (new, old).
    pub fn winners(&self) -> impl Iterator<Item = (&String, &String)> {
        self.winner.iter()
    }
}
