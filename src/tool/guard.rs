//! `pgpipe-guard`: make a restore all-or-nothing.

use clap::Parser;

use crate::cli;
use crate::error::Result;
use crate::transform::guard::{self, Mode, Options};

/// Sit directly in front of psql and make a restore commit only a complete
/// dump: psql gets `\set ON_ERROR_STOP on` and one transaction, and `COMMIT`
/// only after the dump's complete ending; a dump cut short ends with a
/// statement that raises an error, so psql exits 3 and nothing is committed.
#[derive(Parser)]
#[command(name = "pgpipe-guard", version)]
pub struct Args {
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
    /// Also commit when whole statements follow the dump's "dump complete"
    /// footer (what Rails or the Supabase CLI append); a statement cut in
    /// the middle, or a stream without a footer, still commits nothing.
    #[arg(long)]
    allow_after_footer: bool,
    #[command(flatten)]
    limit: cli::StatementArgs,
}

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>("pgpipe-guard", argv, run)
}

fn run(args: &Args) -> Result<()> {
    let dump = args.io.open_dump()?;
    let mut out = args.io.create_output()?;
    let opts = Options {
        mode: if args.per_database {
            Mode::PerDatabase
        } else if args.no_transaction {
            Mode::NoTransaction
        } else {
            Mode::Single
        },
        require_seal: args.require_seal,
        allow_after_footer: args.allow_after_footer,
        max_statement: args.limit.max_statement,
    };
    match guard::guard(dump.reader, &mut out, &opts, &dump.progress) {
        Ok(()) => out.commit(),
        // Standard output is flushed (its last statement makes psql stop);
        // an uncommitted -o file is removed when `out` is dropped.
        Err(e) => {
            let _ = std::io::Write::flush(&mut out);
            Err(e)
        }
    }
}
