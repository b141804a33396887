//! Reading a plain-format dump stream (pg_dump or pg_dumpall output), byte-exact.
//!
//! [`Reader`] splits any byte stream into [`Segment`]s whose concatenation is
//! the input; [`lexer`] decides where statements end exactly as psql does;
//! [`header`] reads pg_dump's `-- Name: …` object headers; [`drive`] is the
//! loop every SQL stage runs over the segments.

pub mod drive;
pub mod ending;
pub mod header;
pub mod lexer;
pub mod meta;
#[cfg(test)]
mod proptests;
pub mod reader;
pub mod session;

pub use drive::{Stage, Summary, drive};
pub use ending::{Ending, Producer};
pub use reader::{Cut, DEFAULT_STATEMENT_LIMIT, Kind, MAX_ROW, Reader, Segment};
