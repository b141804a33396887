//! Stages over a segment stream: each rewrites or checks a dump on its way through.

pub mod filter;
pub mod guard;
pub mod pattern;
pub mod roles;
