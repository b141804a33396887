//! `pgpipe-filter`: choose what a restore contains, and make it restore where it goes.

use clap::Parser;
use std::path::PathBuf;

use crate::cli;
use crate::error::{Error, Result};
use crate::transform::filter::rules::{self, ObjectType, Rule};
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
    /// As -t, and the matching tables' partitions and inheritance children (repeatable).
    #[arg(long, value_name = "PATTERN")]
    table_and_children: Vec<String>,
    /// Remove matching tables and everything that belongs to them, as DROP TABLE ... CASCADE (repeatable).
    #[arg(short = 'T', long = "exclude-table", value_name = "PATTERN")]
    exclude_table: Vec<String>,
    /// As -T, and the matching tables' partitions and inheritance children (repeatable).
    #[arg(long, value_name = "PATTERN")]
    exclude_table_and_children: Vec<String>,
    /// Keep only objects in matching schemas (repeatable).
    #[arg(short = 'n', long = "schema", value_name = "PATTERN")]
    schema: Vec<String>,
    /// Remove matching schemas and everything in them (repeatable).
    #[arg(short = 'N', long = "exclude-schema", value_name = "PATTERN")]
    exclude_schema: Vec<String>,
    /// Keep matching tables but remove their rows (repeatable).
    #[arg(long, value_name = "PATTERN")]
    exclude_table_data: Vec<String>,
    /// As --exclude-table-data, and the rows of their partitions and children (repeatable).
    #[arg(long, value_name = "PATTERN")]
    exclude_table_data_and_children: Vec<String>,
    /// Keep only matching extensions (every schema stays; repeatable).
    #[arg(short = 'e', long = "extension", value_name = "PATTERN")]
    extension: Vec<String>,
    /// Remove matching extensions (repeatable).
    #[arg(long, value_name = "PATTERN")]
    exclude_extension: Vec<String>,
    /// Keep large objects even with -t, -n or -e.
    #[arg(short = 'b', long = "large-objects", visible_alias = "blobs")]
    large_objects: bool,
    /// Remove large objects.
    #[arg(short = 'B', long = "no-large-objects", visible_alias = "no-blobs")]
    no_large_objects: bool,
    /// Keep only definitions: remove rows, sequence values, large objects and statistics.
    #[arg(short = 's', long)]
    schema_only: bool,
    /// Keep only data: rows, sequence values, large objects.
    #[arg(short = 'a', long)]
    data_only: bool,
    /// Remove data (rows, sequence values, large objects); keep the rest.
    #[arg(long)]
    no_data: bool,
    /// Remove definitions; keep data and statistics.
    #[arg(long)]
    no_schema: bool,
    /// Remove statistics (pg_dump 18 --statistics).
    #[arg(long)]
    no_statistics: bool,
    /// Keep only statistics.
    #[arg(long)]
    statistics_only: bool,
    /// Remove row-level security policies and ENABLE ROW LEVEL SECURITY.
    #[arg(long)]
    no_policies: bool,
    /// Remove SET default_table_access_method and ALTER TABLE ... SET ACCESS METHOD.
    #[arg(long)]
    no_table_access_method: bool,
    /// Remove ALTER TABLE ... SET COMPRESSION of columns.
    #[arg(long)]
    no_toast_compression: bool,
    /// Remove the rows of unlogged tables and the values of unlogged sequences.
    #[arg(long)]
    no_unlogged_table_data: bool,
    /// Read include and exclude patterns from FILE, in pg_dump's --filter format ('-': standard input; repeatable).
    #[arg(long, value_name = "FILE")]
    filter: Vec<PathBuf>,
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
    let mut o = Options {
        tables: patterns(&args.table, false)?,
        tables_and_children: patterns(&args.table_and_children, false)?,
        exclude_tables: patterns(&args.exclude_table, false)?,
        exclude_tables_and_children: patterns(&args.exclude_table_and_children, false)?,
        schemas: schema_patterns(&args.schema)?,
        exclude_schemas: schema_patterns(&args.exclude_schema)?,
        exclude_table_data: patterns(&args.exclude_table_data, false)?,
        exclude_table_data_and_children: patterns(&args.exclude_table_data_and_children, false)?,
        extensions: patterns(&args.extension, true)?,
        exclude_extensions: patterns(&args.exclude_extension, true)?,
        large_objects: args.large_objects,
        no_large_objects: args.no_large_objects,
        schema_only: args.schema_only,
        data_only: args.data_only,
        no_data: args.no_data,
        no_schema: args.no_schema,
        no_statistics: args.no_statistics,
        statistics_only: args.statistics_only,
        no_policies: args.no_policies,
        no_table_access_method: args.no_table_access_method,
        no_toast_compression: args.no_toast_compression,
        no_unlogged_table_data: args.no_unlogged_table_data,
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
        ..Options::default()
    };
    for file in &args.filter {
        add_filter_file(&mut o, file, args)?;
    }
    Ok(o)
}

/// `--filter FILE`: each rule becomes the switch it stands for, as in
/// pg_dump (and pg_dumpall, for `exclude database`).
fn add_filter_file(o: &mut Options, file: &std::path::Path, args: &Args) -> Result<()> {
    let stdin = file.as_os_str() == "-";
    let name = file.to_string_lossy().into_owned();
    let text = if stdin {
        if args.io.input.as_ref().is_none_or(|i| i.as_os_str() == "-") {
            return Err(Error::usage(
                "--filter - reads the filter from standard input, which is the dump's input here",
            )
            .with_hint("give the dump as FILE, or the filter as a file"));
        }
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)
            .map_err(|e| Error::io("could not read the filter from standard input", e))?;
        v
    } else {
        std::fs::read(file)
            .map_err(|e| Error::runtime(format!("could not open filter file \"{name}\": {e}")))?
    };
    let source = if stdin {
        rules::Source::Stdin
    } else {
        rules::Source::File(&name)
    };
    for rule in rules::parse(&text, &source)? {
        let Rule {
            include,
            object,
            ref pattern,
            ..
        } = rule;
        let qualified = || Pattern::qualified(pattern);
        let simple = || Pattern::simple(pattern);
        match (include, object) {
            (true, ObjectType::Table) => o.tables.push(qualified()?),
            (true, ObjectType::TableAndChildren) => o.tables_and_children.push(qualified()?),
            (true, ObjectType::Schema) => o.schemas.push(Pattern::schema(pattern)?),
            // Unlike -e, an include extension line leaves the other
            // objects in (pg_dump's own difference).
            (true, ObjectType::Extension) => o.extensions_listed.push(simple()?),
            (true, ObjectType::ForeignData) => {
                return Err(Error::usage(format!(
                    "line {}: include foreign_data (--include-foreign-data) cannot be honoured \
                     from a dump: foreign tables' rows are in a dump only if pg_dump read them",
                    rule.line
                ))
                .with_hint("run pg_dump with --include-foreign-data, then filter its output"));
            }
            (false, ObjectType::Table) => o.exclude_tables.push(qualified()?),
            (false, ObjectType::TableAndChildren) => {
                o.exclude_tables_and_children.push(qualified()?)
            }
            (false, ObjectType::TableData) => o.exclude_table_data.push(qualified()?),
            (false, ObjectType::TableDataAndChildren) => {
                o.exclude_table_data_and_children.push(qualified()?)
            }
            (false, ObjectType::Schema) => o.exclude_schemas.push(Pattern::schema(pattern)?),
            (false, ObjectType::Extension) => o.exclude_extensions.push(simple()?),
            (false, ObjectType::Database) => o.exclude_databases.push(simple()?),
            _ => return Err(rules::not_allowed(&rule, &source)),
        }
    }
    Ok(())
}

fn schema_patterns(v: &[String]) -> Result<Vec<Pattern>> {
    v.iter().map(|p| Pattern::schema(p)).collect()
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
