//! pgpipe: small Unix filters for PostgreSQL dump streams.
//!
//! Data flows one way through every tool:
//!
//! ```text
//! bytes -> dump::Reader -> segments -> (sql::analysis) -> transform -> writer -> bytes
//! ```
//!
//! * [`dump`] splits a plain-format dump (pg_dump or pg_dumpall output) into
//!   segments whose concatenation is always the input, byte for byte:
//!   statements, comments, psql meta-commands and COPY data.
//! * [`sql`] says what a statement means, with PostgreSQL's own parser
//!   (`pg_query`): every role reference with its byte span, and the object
//!   the statement is about.
//! * [`transform`] holds the stages that rewrite or check a segment stream.
//! * [`codec`] holds the byte codecs (gzip/zstd, age, digests) that never look
//!   at SQL at all.
//! * [`inspect`] is the report of `pgpipe-inspect`.
//! * [`tool`] holds each tool's entry point: arguments to options to a call.
//! * [`cli`] is what every binary shares: arguments, input and output, the
//!   printing of errors.
//! * [`error`] (the error type and exit codes) and [`progress`] (the bar on
//!   stderr) are the ground every other module stands on.
//!
//! Imports run one way: binaries, then `cli`, then `transform` and `inspect`,
//! then `dump`, `archive` and `codec`, with `sql`, `error` and `progress` at
//! the ground.

pub mod archive;
pub mod cli;
pub mod codec;
pub mod dump;
pub mod error;
pub mod inspect;
pub mod progress;
pub mod sql;
pub mod tool;
pub mod transform;

/// Size of the I/O blocks the tools read and write.
pub const BLOCK: usize = 256 * 1024;
