//! `pgpipe-filter`: choose what a restore contains, and make it restore where it goes.

use clap::Parser;
use std::path::PathBuf;

use crate::cli;
use crate::error::Result;
use crate::transform::filter::{self, Options};
use crate::transform::pattern::Pattern;

/// Choose what a plain SQL dump (pg_dump or pg_dumpall) restores: tables,
/// schemas, data, databases; and make it restore where it is going (existing
/// roles, an existing copy, an older server). Kept bytes are unchanged; with
/// no options the output is the input.
#[derive(Parser)]
#[command(name = "pgpipe-filter", version)]
pub struct Args {
    #[command(flatten)]
    io: cli::IoArgs,
    /// Keep only matching tables (also views, sequences) and what belongs to them (repeatable).
    #[arg(short = 't', long = "table", value_name = "PATTERN")]
    table: Vec<String>,
    /// Remove matching tables and everything that belongs to them (repeatable).
    #[arg(short = 'T', long = "exclude-table", value_name = "PATTERN")]
    exclude_table: Vec<String>,
    /// Keep only objects in matching schemas (repeatable).
    #[arg(short = 'n', long = "schema", value_name = "PATTERN")]
    schema: Vec<String>,
    /// Remove matching schemas and everything in them (repeatable).
    #[arg(short = 'N', long = "exclude-schema", value_name = "PATTERN")]
    exclude_schema: Vec<String>,
    /// Keep matching tables but remove their rows (repeatable).
    #[arg(long, value_name = "PATTERN")]
    exclude_table_data: Vec<String>,
    /// Remove all data: rows, sequence values, statistics.
    #[arg(long)]
    schema_only: bool,
    /// Keep only data: rows, sequence values, large-object data.
    #[arg(long)]
    data_only: bool,
    /// Remove COMMENT statements.
    #[arg(long)]
    no_comments: bool,
    /// Remove COMMENT ON EXTENSION (fails for non-superusers on managed servers).
    #[arg(long)]
    no_extension_comments: bool,
    /// Remove extensions.
    #[arg(long)]
    no_extensions: bool,
    /// Remove publications.
    #[arg(long)]
    no_publications: bool,
    /// Remove subscriptions.
    #[arg(long)]
    no_subscriptions: bool,
    /// Remove SECURITY LABEL statements.
    #[arg(long)]
    no_security_labels: bool,
    /// Remove tablespaces and SET default_tablespace (objects go to the default).
    #[arg(long)]
    no_tablespaces: bool,
    /// pg_dumpall: keep only this database (exact name; repeatable).
    #[arg(long = "database", value_name = "NAME")]
    database: Vec<String>,
    /// pg_dumpall: remove matching databases (repeatable).
    #[arg(long, value_name = "PATTERN")]
    exclude_database: Vec<String>,
    /// pg_dumpall: keep only roles, tablespaces and other cluster-wide objects.
    #[arg(long)]
    globals_only: bool,
    /// pg_dumpall: remove roles, tablespaces and other cluster-wide objects.
    #[arg(long)]
    no_globals: bool,
    /// Create each role only if it does not exist yet (ALTER ROLE still applies).
    #[arg(long)]
    roles_if_not_exists: bool,
    /// Remove a role's CREATE ROLE, ALTER ROLE and COMMENT ON ROLE (repeatable).
    #[arg(long, value_name = "NAME")]
    skip_role: Vec<String>,
    /// Remove GRANTED BY clauses naming roles the dump does not create.
    #[arg(long)]
    drop_grantor_if_missing: bool,
    /// Drop everything the dump creates (IF EXISTS ... CASCADE) before creating it.
    #[arg(long)]
    clean: bool,
    /// Remove what a server of major version N rejects.
    #[arg(long, value_name = "N")]
    target_version: Option<u32>,
    /// Remove \restrict and \unrestrict (for psql older than August 2025; weakens a protection).
    #[arg(long)]
    strip_restrict: bool,
    /// Fail (exit 1) when a pattern matches nothing, instead of warning.
    #[arg(long)]
    strict: bool,
    /// Print what was removed and why on stderr.
    #[arg(long)]
    report: bool,
    /// Write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    #[command(flatten)]
    limit: cli::StatementArgs,
}

const PROG: &str = "pgpipe-filter";

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>(PROG, argv, run)
}

fn run(args: &Args) -> Result<()> {
    let opts = options(args)?;
    opts.check()?;
    let dump = args.io.open_dump()?;
    let mut out = args.io.create_output()?;
    let report = filter::filter(dump.reader, &mut out, &opts, &dump.progress)?;
    for w in &report.warnings {
        cli::warn(PROG, w);
    }
    out.commit()?;
    let text = args.report.then(|| report.render_text());
    cli::emit_report(text, args.report_json.as_deref(), &report)
}

fn options(args: &Args) -> Result<Options> {
    Ok(Options {
        tables: patterns(&args.table, false)?,
        exclude_tables: patterns(&args.exclude_table, false)?,
        schemas: patterns(&args.schema, true)?,
        exclude_schemas: patterns(&args.exclude_schema, true)?,
        exclude_table_data: patterns(&args.exclude_table_data, false)?,
        schema_only: args.schema_only,
        data_only: args.data_only,
        no_comments: args.no_comments,
        no_extension_comments: args.no_extension_comments,
        no_extensions: args.no_extensions,
        no_publications: args.no_publications,
        no_subscriptions: args.no_subscriptions,
        no_security_labels: args.no_security_labels,
        no_tablespaces: args.no_tablespaces,
        databases: args.database.clone(),
        exclude_databases: patterns(&args.exclude_database, true)?,
        globals_only: args.globals_only,
        no_globals: args.no_globals,
        roles_if_not_exists: args.roles_if_not_exists,
        skip_roles: args.skip_role.clone(),
        drop_grantor_if_missing: args.drop_grantor_if_missing,
        clean: args.clean,
        target_version: args.target_version,
        strip_restrict: args.strip_restrict,
        strict: args.strict,
        max_statement: args.limit.max_statement,
    })
}

fn patterns(v: &[String], simple: bool) -> Result<Vec<Pattern>> {
    v.iter()
        .map(|p| {
            if simple {
                Pattern::simple(p)
            } else {
                Pattern::qualified(p)
            }
        })
        .collect()
}
