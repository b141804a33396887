//! pgpipe-guard: make a restore all-or-nothing.

use std::io::Write;

use clap::Parser;
use pgpipe::cli::{self, Output, Progress};
use pgpipe::transform::guard::{self, Mode, Options};

/// Sit directly in front of psql and make a restore commit only a complete
/// dump: psql gets `\set ON_ERROR_STOP on` and one transaction, and `COMMIT`
/// only after the dump's complete ending; a dump cut short ends with a
/// statement that raises an error, so psql exits 3 and nothing is committed.
#[derive(Parser, Debug)]
#[command(name = "pgpipe-guard", version)]
struct Args {
    #[command(flatten)]
    io: cli::IoArgs,
    /// One transaction per database section (pg_dumpall output, pg_dump -C);
    /// databases completed before a failure stay committed.
    #[arg(long, conflicts_with = "no_transaction")]
    per_database: bool,
    /// No transaction: only check completeness and inject the failing
    /// statement (statements already run stay committed).
    #[arg(long)]
    no_transaction: bool,
    /// Commit only when the stream ends with a valid `pgpipe-sum --seal` line.
    #[arg(long)]
    require_seal: bool,
    /// Largest statement accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = pgpipe::dump::DEFAULT_STATEMENT_LIMIT)]
    max_statement: usize,
}

fn main() {
    let args: Args = cli::parse_args();
    cli::run("pgpipe-guard", || {
        pgpipe::archive::input::prefer_archive_error((|| {
            let input = pgpipe::archive::input::open_sql_input(args.io.input.as_deref())?;
            let progress = Progress::new(args.io.progress.enabled(), input.len);
            let mut out = Output::create(args.io.output.as_deref())?;
            let opts = Options {
                mode: if args.per_database {
                    Mode::PerDatabase
                } else if args.no_transaction {
                    Mode::NoTransaction
                } else {
                    Mode::Single
                },
                require_seal: args.require_seal,
                max_statement: args.max_statement,
            };
            let result = guard::guard(progress.reader(input), &mut out, &opts, &progress);
            progress.finish();
            match result {
                Ok(()) => out.commit(),
                // Dropping the output flushes standard output (whose last
                // statement makes psql stop) and removes an uncommitted -o file.
                Err(e) => {
                    let _ = out.flush();
                    Err(e)
                }
            }
        })())
    })
}
