//! `pgpipe-inspect`: report what a dump contains, which roles it needs, and
//! whether it is complete.

use clap::Parser;
use std::path::PathBuf;

use crate::cli;
use crate::error::{Error, Result};

/// Report what a PostgreSQL plain dump contains: producer and versions,
/// completeness, the roles it references and creates, schemas, extensions,
/// tables with row counts, databases, and what will fail on common targets.
#[derive(Parser)]
#[command(name = "pgpipe-inspect", version)]
pub struct Args {
    #[command(flatten)]
    io: cli::IoArgs,
    /// Print the report as JSON (a stable schema; see the man page).
    #[arg(long)]
    json: bool,
    /// Exit 3 when the dump is incomplete (cut short, footer or final \unrestrict missing).
    #[arg(long)]
    require_complete: bool,
    /// Copy the dump to stdout (or -o FILE) unchanged; the report goes to stderr or --report.
    #[arg(long)]
    passthrough: bool,
    /// With --passthrough: write the report to FILE instead of stderr.
    #[arg(long, value_name = "FILE", requires = "passthrough")]
    report: Option<PathBuf>,
    #[command(flatten)]
    limit: cli::StatementArgs,
}

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>("pgpipe-inspect", argv, run)
}

fn run(args: &Args) -> Result<()> {
    let dump = args.io.open_dump()?;
    let mut out = match args.passthrough {
        true => Some(args.io.create_output()?),
        false => None,
    };
    let passthrough = out.as_mut().map(|o| o as &mut dyn std::io::Write);
    let report = crate::inspect::inspect(
        dump.reader,
        passthrough,
        &dump.progress,
        args.limit.max_statement,
    )?;
    let text = match args.json {
        true => cli::json(&report),
        false => report.render_text(&dump.name),
    };
    match (out, &args.report) {
        (Some(out), Some(path)) => {
            out.commit()?;
            cli::write_file(Some(path), text.as_bytes())?;
        }
        (Some(out), None) => {
            out.commit()?;
            cli::to_stderr(&text)?;
        }
        (None, _) => cli::write_file(args.io.output.as_deref(), text.as_bytes())?,
    }
    if args.require_complete && !report.complete {
        return Err(Error::integrity(format!(
            "the dump is incomplete: {}",
            report
                .incomplete_reason
                .as_deref()
                .unwrap_or("unknown reason")
        )));
    }
    Ok(())
}
