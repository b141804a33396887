//! The integration tests' harness: real PostgreSQL 15 and 18 servers, the
//! fixture cluster and its dumps, and catalog snapshots.
//!
//! Use it with `use crate::support;` at the top of a test module:
//!
//! ```ignore
//! use crate::support;
//! use support::{Server, Version, fixture};
//!
//! let fx = fixture(Version::V18);
//! let db = fx.server.create_db("roles");
//! fx.server.restore_plain(&db, fx.dump("plain"));
//! assert_eq!(fx.server.owners(&db), fx.server.owners("db1"));
//! ```
//!
//! * [`server`]: [`Version`], [`bin`], [`Server`] (shared per version, or
//!   private), and helpers to run psql, pg_dump and pg_dumpall on it.
//! * [`catalog`]: sorted catalog snapshots (owners, ACLs, default ACLs,
//!   policies, user mappings, memberships, role settings, …).
//! * [`fixture`]: [`fixture`] and [`pg17_plain`].
//! * [`regression`]: PostgreSQL 15's regression database and its dumps,
//!   cached on disk, for the oracle tests.
//! * [`pgpipe`]: the multi-call binary under test and its `pgpipe-TOOL`
//!   links ([`tool`], [`release_dir`]).
//! * [`oracle`]: restores that collect their errors, database states and
//!   their readable differences, for the oracle tests.
//! * [`psql_log`]: what psql sent a server that logs every statement,
//!   beside what pgpipe's reader read.
//!
//! A missing PostgreSQL version panics with the command that installs it
//! (`scripts/deps test`); tests never skip silently.

pub mod catalog;
pub mod fixture;
pub mod helpers;
pub mod oracle;
pub mod pgpipe;
pub mod psql_log;
pub mod regression;
pub mod server;

pub use fixture::{
    DUMPS, LANGUAGE_FIXUP, fixture, fixture_file, fixture_path, pg17_plain, private_fixture,
};
pub use helpers::{
    catching, compress_with, create_roles, create_tablespace, first_difference,
    recompress_directory, user_tables,
};
pub use pgpipe::{release_dir, run_tool, run_tool_ok, tool};
pub use server::{
    RESTRICT_KEY, Server, Version, bin, exit_code, outcome, pg_restore_script, quote_ident, run,
    without_restrict,
};
