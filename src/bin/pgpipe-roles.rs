//! pgpipe-roles: map and drop roles and owners in a plain dump stream or a
//! custom-format archive.

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use pgpipe::cli::{self, Error, Output, Progress};
use pgpipe::transform::roles::{self, Options};

/// Rewrite exactly the role references of a plain SQL dump (pg_dump or
/// pg_dumpall): rename roles, drop them, set or remove owners and privileges.
/// Every other byte is copied unchanged; with no options the output is the input.
#[derive(Parser, Debug)]
#[command(name = "pgpipe-roles", version)]
struct Args {
    #[command(flatten)]
    io: cli::IoArgs,
    /// Rename role OLD to NEW everywhere (real names, not SQL-quoted; repeatable).
    #[arg(short = 'm', long = "map", value_name = "OLD=NEW")]
    map: Vec<String>,
    /// Read OLD=NEW mappings from FILE, one per line (# comments).
    #[arg(long, value_name = "FILE")]
    map_file: Vec<PathBuf>,
    /// Remove ROLE from the dump: its grants, owner statements, memberships, settings (repeatable).
    #[arg(long = "drop", value_name = "ROLE")]
    drop: Vec<String>,
    /// With --drop: also drop where that widens access (policies, owner REVOKEs).
    #[arg(long)]
    force_drop: bool,
    /// Make ROLE the owner of every object.
    #[arg(long, value_name = "ROLE")]
    owner: Option<String>,
    /// Remove ownership: ALTER ... OWNER TO, OWNER clauses, SET SESSION AUTHORIZATION.
    #[arg(long)]
    no_owner: bool,
    /// Remove privileges: GRANT/REVOKE on objects, default privileges, parameter grants.
    #[arg(long)]
    no_acl: bool,
    /// Fail unless only these roles (comma-separated, besides PUBLIC) are referenced after rewriting.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    only_roles: Option<Vec<String>>,
    /// Remove PASSWORD clauses from CREATE ROLE and ALTER ROLE.
    #[arg(long)]
    drop_passwords: bool,
    /// When roles are merged into NEW (several map onto it, or it exists in the dump), let the members of a merged role become members of NEW, with NEW's privileges; refused without it.
    #[arg(long)]
    grant_new_role_to_members: bool,
    /// Print what was changed, per role and kind of reference, on stderr.
    #[arg(long)]
    report: bool,
    /// Write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Print the report and write no dump.
    #[arg(long)]
    dry_run: bool,
    /// Read a custom-format archive (pg_dump -Fc) and write one: rewrite the owners and SQL of its TOC entries, copy the data blocks unchanged.
    #[arg(long)]
    keep_format: bool,
    /// Largest statement accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = pgpipe::dump::DEFAULT_STATEMENT_LIMIT)]
    max_statement: usize,
}

const PROG: &str = "pgpipe-roles";

fn main() {
    let args: Args = cli::parse_args();
    cli::run(PROG, || {
        pgpipe::archive::input::prefer_archive_error((|| {
            let mut map = Vec::new();
            for m in &args.map {
                map.push(roles::parse_mapping(m)?);
            }
            for f in &args.map_file {
                let text = std::fs::read(f)
                    .map_err(|e| Error::io(format!("cannot read {}", f.display()), e))?;
                map.extend(roles::parse_map_file(&text, &f.display().to_string())?);
            }
            let opts = Options {
                map,
                drop: args.drop.clone(),
                force_drop: args.force_drop,
                owner: args.owner.clone(),
                no_owner: args.no_owner,
                no_acl: args.no_acl,
                only_roles: args.only_roles.clone(),
                drop_passwords: args.drop_passwords,
                grant_new_role_to_members: args.grant_new_role_to_members,
                record_edits: false,
                max_statement: args.max_statement,
            };
            opts.check()?;
            let (report, out) = if args.keep_format {
                keep_format(&args, &opts)?
            } else {
                let input = pgpipe::archive::input::open_sql_input(args.io.input.as_deref())?;
                let progress = Progress::new(args.io.progress.enabled(), input.len);
                let reader = progress.reader(input);
                let r = if args.dry_run {
                    (roles::rewrite(reader, None, &opts, &progress)?, None)
                } else {
                    let mut out = Output::create(args.io.output.as_deref())?;
                    let report = roles::rewrite(reader, Some(&mut out), &opts, &progress)?;
                    (report, Some(out))
                };
                progress.finish();
                r
            };
            for w in &report.warnings {
                cli::warn(PROG, w);
            }
            if !report.foreign_roles.is_empty() {
                let mut stderr = std::io::stderr().lock();
                let place = if args.keep_format {
                    "TOC entry"
                } else {
                    "line"
                };
                for (line, role) in &report.foreign_roles {
                    let _ = writeln!(
                        stderr,
                        "{PROG}: error: {place} {line}: role {role:?} is not in --only-roles"
                    );
                }
                return Err(Error::runtime(format!(
                    "{} reference(s) to roles not in --only-roles; the output was not committed",
                    report.foreign_roles.len()
                ))
                .with_hint("map or drop those roles (--map OLD=NEW, --drop ROLE)"));
            }
            if let Some(out) = out {
                out.commit()?;
            }
            if args.report || args.dry_run {
                let mut text = report.render_text();
                if args.keep_format {
                    // Archive reports count by TOC entry (dump id), not line.
                    text = text.replace("(first at line ", "(first at TOC entry ");
                }
                std::io::stderr()
                    .write_all(text.as_bytes())
                    .map_err(|e| Error::io("write error", e))?;
            }
            if let Some(path) = &args.report_json {
                let mut rep = Output::create(Some(path))?;
                let text =
                    serde_json::to_string_pretty(&report).expect("a report serializes") + "\n";
                rep.write_all(text.as_bytes())
                    .map_err(|e| Error::io("write error", e))?;
                rep.commit()?;
            }
            Ok(())
        })())
    })
}

/// `--keep-format`: custom-format archive in, custom-format archive out.
fn keep_format(args: &Args, opts: &Options) -> cli::Result<(roles::Report, Option<Output>)> {
    if args.drop_passwords {
        return Err(Error::usage(
            "--drop-passwords does not apply with --keep-format: pg_dump archives hold no CREATE ROLE",
        ));
    }
    if let Some(p) = args.io.input.as_deref()
        && !cli::is_stdio(Some(p))
        && p.is_dir()
    {
        return Err(Error::usage(format!(
            "--keep-format reads a custom-format archive (pg_dump -Fc); {} is a directory archive",
            p.display()
        ))
        .with_hint(
            "convert it with pg_restore -Fc -f FILE, or drop --keep-format to get plain SQL",
        ));
    }
    let input = cli::open_input(args.io.input.as_deref())?;
    let progress = Progress::new(args.io.progress.enabled(), input.len);
    let reader = progress.reader(input);
    let mut out = if args.dry_run {
        None
    } else {
        let out = Output::create(args.io.output.as_deref())?;
        if out.is_terminal() {
            return Err(Error::usage(
                "refusing to write a binary archive to a terminal; redirect it or use -o FILE",
            ));
        }
        Some(out)
    };
    let mut rw = roles::EntryRewriter::new(opts)?;
    let mut sink = std::io::sink();
    let w: &mut dyn Write = match out.as_mut() {
        Some(o) => o,
        None => &mut sink,
    };
    let summary = pgpipe::archive::write::rewrite_custom(reader, w, &mut |_, te| rw.entry(te))?;
    progress.finish();
    if args.report || args.dry_run {
        eprintln!(
            "archive: {} TOC entries, {} data blocks copied ({} bytes), TOC {:+} bytes, data offsets {}{}",
            summary.entries,
            summary.blocks,
            summary.data_bytes,
            summary.toc_delta,
            if summary.offsets_set {
                "moved"
            } else {
                "not set"
            },
            if summary.dropped_trailing_toc {
                "; the duplicate TOC after the data was left out"
            } else {
                ""
            }
        );
    }
    Ok((rw.finish(), out))
}
