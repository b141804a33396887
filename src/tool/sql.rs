//! `pgpipe-sql`: a pg_dump archive (custom, directory or tar, also inside a
//! zip or tar export) as the plain SQL that `pg_restore -f -` prints, without
//! pg_restore.

use clap::Parser;
use std::path::PathBuf;

use crate::error::Result;
use crate::{archive, cli};

/// Turn a pg_dump archive into plain SQL, like `pg_restore -f -`.
#[derive(Parser)]
#[command(name = "pgpipe-sql", version)]
pub struct Args {
    /// Archive file, directory-format archive, zip or tar export holding one
    /// (read in place), or `-`/nothing for standard input.
    #[arg(value_name = "ARCHIVE")]
    input: Option<PathBuf>,
    /// Print the table of contents like `pg_restore -l` instead.
    #[arg(short = 'l', long)]
    list: bool,
    /// Use KEY in `\restrict`/`\unrestrict` instead of a fresh random key.
    #[arg(long, value_name = "KEY")]
    restrict_key: Option<String>,
    /// Write the output to FILE (atomically: a temporary file renamed on success).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>("pgpipe-sql", argv, run)
}

fn run(args: &Args) -> Result<()> {
    let source = match args.input.as_deref() {
        Some(p) if !cli::is_stdio(Some(p)) => archive::Source::path(p)?,
        _ => archive::Source::reader(cli::open_input(None)?),
    };
    let mut out = cli::Output::create(args.output.as_deref())?;
    if args.list {
        archive::list(source, &mut out)?;
    } else {
        let options = archive::SqlOptions {
            restrict_key: args.restrict_key.clone(),
        };
        archive::to_sql(source, &mut out, &options)?;
    }
    out.commit()
}
