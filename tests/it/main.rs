//! The integration tests, one binary: each module tests one tool or one
//! part of the house against real PostgreSQL servers and the real tools.
//! The servers, the fixture cluster and its dumps are built once per run
//! and shared by every module (see [`support`]).
//!
//! `cargo test --test it MODULE::` runs one module; `make test-oracle` runs
//! the oracle modules' whole matrix.

mod support;

mod analysis;
mod archive_input;
mod archive_parity;
mod archive_truncation;
mod codec_age;
mod codec_sum;
mod codec_zip;
mod container;
mod corpus;
mod filter;
mod filter_switches;
mod guard;
mod harness;
mod inspect;
mod inspect_target;
mod install;
mod keep_format;
mod man;
mod man_examples;
mod oracle;
mod package;
mod psql_oracle;
mod recipes;
mod roles;
mod versions;
