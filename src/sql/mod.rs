//! What a statement means, decided by PostgreSQL's own parser (`pg_query`).
//!
//! * [`analysis`]: the action, the object a statement is about, and every
//!   role it names with the byte span of that name in the original bytes.
//! * [`role_columns`]: which table columns hold role names (`aclitem`,
//!   `regrole`), from the DDL seen so far.
//! * [`ident`]: identifier and literal quoting exactly as pg_dump writes it.
//! * [`blocks`]: the `DO` blocks pgpipe writes itself, recognised exactly.
//! * [`effects`]: statements that run code the stream does not show.
//! * [`encoding`]: statement bytes in a dump's client encoding as UTF-8 text
//!   for the parser, with a map back to the original bytes.

pub mod analysis;
pub mod blocks;
pub mod effects;
pub mod encoding;
pub mod ident;
pub mod role_columns;

pub use analysis::{
    Action, Analysis, AnalysisError, AnalyzeOptions, ListPos, ObjectKind, ObjectRef, RoleName,
    RoleRef, RoleRefKind, analyze, analyze_with, may_reference_roles,
};
pub use ident::{quote_ident, quote_literal};
