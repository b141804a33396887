//! pgpipe-inspect: report what a dump contains, which roles it needs, and
//! whether it is complete.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use pgpipe::cli::{self, Error, Output, Progress};

/// Report what a PostgreSQL plain dump contains: producer and versions,
/// completeness, the roles it references and creates, schemas, extensions,
/// tables with row counts, databases, and what will fail on common targets.
#[derive(Parser, Debug)]
#[command(name = "pgpipe-inspect", version)]
struct Args {
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
    /// Largest statement accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = pgpipe::dump::DEFAULT_STATEMENT_LIMIT)]
    max_statement: usize,
}

fn main() {
    let args: Args = cli::parse_args();
    cli::run("pgpipe-inspect", || {
        pgpipe::archive::input::prefer_archive_error((|| {
            let input = pgpipe::archive::input::open_sql_input(args.io.input.as_deref())?;
            let name = input.name.clone();
            let progress = Progress::new(args.io.progress.enabled(), input.len);
            let reader = progress.reader(input);
            let (report, out) = if args.passthrough {
                let mut out = Output::create(args.io.output.as_deref())?;
                let report = pgpipe::inspect::inspect(
                    reader,
                    Some(&mut out),
                    &progress,
                    args.max_statement,
                )?;
                (report, Some(out))
            } else {
                let report = pgpipe::inspect::inspect(reader, None, &progress, args.max_statement)?;
                (report, None)
            };
            let text = if args.json {
                serde_json::to_string_pretty(&report).expect("a report serializes") + "\n"
            } else {
                report.render_text(&name)
            };
            match (out, &args.report) {
                (Some(out), Some(path)) => {
                    out.commit()?;
                    let mut rep = Output::create(Some(path))?;
                    rep.write_all(text.as_bytes())
                        .map_err(|e| Error::io("write error", e))?;
                    rep.commit()?;
                }
                (Some(out), None) => {
                    out.commit()?;
                    std::io::stderr()
                        .write_all(text.as_bytes())
                        .map_err(|e| Error::io("write error", e))?;
                }
                (None, _) => {
                    let mut rep = Output::create(args.io.output.as_deref())?;
                    rep.write_all(text.as_bytes())
                        .map_err(|e| Error::io("write error", e))?;
                    rep.commit()?;
                }
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
        })())
    })
}
