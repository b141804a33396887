//! `pgpipe-inspect`: report what a dump contains, which roles it needs, and
//! whether it is complete.

use clap::Parser;
use std::path::PathBuf;

use std::io::Write;

use crate::cli;
use crate::codec::holdback::Holdback;
use crate::error::{Error, Result};
use crate::inspect::target;

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
    /// With --require-complete or --target: accept whole statements after
    /// the dump's "dump complete" footer (what Rails or the Supabase CLI
    /// append). A cut between two of them cannot be seen.
    #[arg(long)]
    allow_after_footer: bool,
    /// Copy the dump to stdout (or -o FILE) unchanged; the report goes to stderr or --report.
    #[arg(long)]
    passthrough: bool,
    /// With --passthrough: write the report to FILE instead of stderr.
    #[arg(long, value_name = "FILE", requires = "passthrough")]
    report: Option<PathBuf>,
    /// Check the dump against the server it is restored into, by running
    /// `psql -X` with CONNINFO (a URI or key=value string; '' for the libpq
    /// environment alone). Exit 4 when the restore would fail.
    #[arg(long, value_name = "CONNINFO")]
    target: Option<String>,
    /// With --target: the target database's collation and ctype must be NAME.
    #[arg(long, value_name = "NAME", requires = "target")]
    require_collation: Option<String>,
    #[command(flatten)]
    limit: cli::StatementArgs,
}

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>("pgpipe-inspect", argv, run)
}

fn run(args: &Args) -> Result<()> {
    // The target is asked before the first byte of the dump is read, so in
    // a pipe nothing reaches psql when it cannot be reached.
    let facts = match &args.target {
        Some(conninfo) => Some(target::ask(conninfo)?),
        None => None,
    };
    let dump = args.io.open_dump()?;
    let mut out = match args.passthrough {
        true => Some(args.io.create_output()?),
        false => None,
    };
    // With --target, the end of the stream is withheld until the check
    // passes: pgpipe-guard downstream then sees a cut dump and rolls back.
    let mut held: Option<Holdback<&mut cli::Output>> = None;
    let passthrough: Option<&mut dyn Write> = match (&mut out, facts.is_some()) {
        (Some(o), true) => {
            held = Some(Holdback::new(o));
            held.as_mut().map(|h| h as &mut dyn Write)
        }
        (Some(o), false) => Some(o as &mut dyn Write),
        (None, _) => None,
    };
    let (report, needs) = crate::inspect::inspect_needs(
        dump.reader,
        passthrough,
        &dump.progress,
        args.limit.max_statement,
        facts.is_some(),
    )?;
    let checked = match (&args.target, facts, &needs) {
        (Some(conninfo), Some(facts), Some(needs)) => {
            let tables = target::created_tables(needs, &facts);
            let rows = match tables.is_empty() {
                true => Default::default(),
                false => target::tables_with_rows(conninfo, &tables)?,
            };
            let locales = target::database_locales(conninfo, needs, &facts)?;
            let opts = target::CheckOptions {
                require_collation: args.require_collation.clone(),
                allow_after_footer: args.allow_after_footer,
            };
            Some(target::check(&report, needs, facts, &rows, &locales, &opts))
        }
        _ => None,
    };
    let ready = checked.as_ref().is_none_or(|c| c.ready);
    if let Some(h) = held {
        if ready {
            h.release().map_err(|e| Error::io("write error", e))?;
        } else {
            drop(h.into_parts());
        }
    }
    let text = match (args.json, &checked) {
        (true, None) => cli::json(&report),
        (true, Some(c)) => cli::json(&WithTarget {
            report: &report,
            target: c,
        }),
        (false, None) => report.render_text(&dump.name),
        (false, Some(c)) => report.render_text(&dump.name) + &c.render_text(),
    };
    match (out, &args.report) {
        (Some(out), report_file) => {
            if ready {
                out.commit()?;
            }
            match report_file {
                Some(path) => cli::write_file(Some(path), text.as_bytes())?,
                None => cli::to_stderr(&text)?,
            }
        }
        (None, _) => cli::write_file(args.io.output.as_deref(), text.as_bytes())?,
    }
    let accepted = args.allow_after_footer
        && report
            .statements_after_footer
            .as_ref()
            .is_some_and(|a| a.otherwise_complete);
    if (args.require_complete || checked.is_some()) && !report.complete && !accepted {
        let mut err = Error::integrity(format!(
            "the dump is incomplete: {}",
            report
                .incomplete_reason
                .as_deref()
                .unwrap_or("unknown reason")
        ));
        if report.statements_after_footer.is_some() {
            err = err.with_hint(crate::dump::ending::AFTER_FOOTER_HINT);
        }
        return Err(err);
    }
    if let Some(c) = &checked
        && !c.ready
    {
        let first = &c.problems[0];
        return Err(Error::not_ready(format!(
            "the restore into the target would fail: {} problem(s), first: {}: {}",
            c.problems.len(),
            first.object,
            first.detail
        ))
        .with_hint(first.fix.clone()));
    }
    Ok(())
}

/// The report with what `--target` found, as one JSON object.
#[derive(serde::Serialize)]
struct WithTarget<'a> {
    #[serde(flatten)]
    report: &'a crate::inspect::Report,
    #[serde(flatten)]
    target: &'a target::TargetReport,
}
