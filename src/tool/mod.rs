//! The tools' entry points. Each module is one tool: its arguments, the
//! options it builds from them for the library, and the call. The programs
//! in `src/bin` are one line over these.

pub mod age;
pub mod filter;
pub mod guard;
pub mod inspect;
pub mod roles;
pub mod sql;
pub mod sum;
pub mod zip;
