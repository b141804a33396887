//! `pgpipe-roles`: map and drop roles and owners in a plain dump stream or a
//! custom-format archive.

use clap::Parser;
use std::path::PathBuf;

use crate::archive::container::{self, Found};
use crate::cli;
use crate::error::{Error, Result};
use crate::transform::roles::{self, Options, Report};

/// Rewrite exactly the role references of a plain SQL dump (pg_dump or
/// pg_dumpall): rename roles, drop them, set or remove owners and privileges.
/// Every other byte is copied unchanged; with no options the output is the input.
#[derive(Parser)]
#[command(name = "pgpipe-roles", version)]
pub struct Args {
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
    #[command(flatten)]
    limit: cli::StatementArgs,
}

const PROG: &str = "pgpipe-roles";

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>(PROG, argv, run)
}

fn run(args: &Args) -> Result<()> {
    let opts = options(args)?;
    opts.check()?;
    let (report, out, archive) = if args.keep_format {
        keep_format(args, &opts)?
    } else {
        let dump = args.io.open_dump()?;
        let mut out = match args.dry_run {
            true => None,
            false => Some(args.io.create_output()?),
        };
        let w = out.as_mut().map(|o| o as &mut dyn std::io::Write);
        let report = roles::rewrite(dump.reader, w, &opts, &dump.progress)?;
        (report, out, None)
    };
    for w in &report.warnings {
        cli::warn(PROG, w);
    }
    refuse_foreign_roles(&report)?;
    if let Some(out) = out {
        out.commit()?;
    }
    if let Some(summary) = archive.filter(|_| args.report || args.dry_run) {
        cli::to_stderr(&summary.render_text())?;
    }
    let text = (args.report || args.dry_run).then(|| report.render_text());
    cli::emit_report(text, args.report_json.as_deref(), &report)
}

fn options(args: &Args) -> Result<Options> {
    let mut map = Vec::new();
    for m in &args.map {
        map.push(roles::parse_mapping(m)?);
    }
    for f in &args.map_file {
        let text =
            std::fs::read(f).map_err(|e| Error::io(format!("cannot read {}", f.display()), e))?;
        map.extend(roles::parse_map_file(&text, &f.display().to_string())?);
    }
    Ok(Options {
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
        max_statement: args.limit.max_statement,
    })
}

/// `--only-roles`: every reference left to another role is an error, and
/// the output is not committed.
fn refuse_foreign_roles(report: &Report) -> Result<()> {
    if report.foreign_roles.is_empty() {
        return Ok(());
    }
    for (at, role) in &report.foreign_roles {
        cli::print_error(
            PROG,
            &Error::runtime(format!(
                "{} {at}: role {role:?} is not in --only-roles",
                report.place()
            )),
        );
    }
    Err(Error::runtime(format!(
        "{} reference(s) to roles not in --only-roles; the output was not committed",
        report.foreign_roles.len()
    ))
    .with_hint("map or drop those roles (--map OLD=NEW, --drop ROLE)"))
}

type Rewritten = (
    Report,
    Option<cli::Output>,
    Option<crate::archive::write::Summary>,
);

/// `--keep-format`: custom-format archive in, custom-format archive out.
fn keep_format(args: &Args, opts: &Options) -> Result<Rewritten> {
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
    // A zip or tar export holding one custom archive: that member.
    let mut member = None;
    if let Some(p) = args.io.input.as_deref()
        && !cli::is_stdio(Some(p))
        && let Ok(file) = std::fs::File::open(p)
    {
        member = match container::open_file(&file, &p.display().to_string())? {
            None => None,
            Some(Found::Custom(r, check)) => Some((r, check)),
            Some(other) => {
                let what = match other {
                    Found::Plain(_) => "a plain SQL script",
                    _ => "a directory archive",
                };
                return Err(Error::usage(format!(
                    "--keep-format reads a custom-format archive (pg_dump -Fc); {} holds {what}",
                    p.display()
                ))
                .with_hint("drop --keep-format to get plain SQL"));
            }
        };
    }
    let (input, len, check): (Box<dyn std::io::Read>, _, _) = match member {
        Some((r, check)) => (r, None, Some(check)),
        None => {
            let input = cli::open_input(args.io.input.as_deref())?;
            let len = input.len;
            (Box::new(input), len, None)
        }
    };
    let progress = cli::Progress::new(args.io.progress.enabled(), len);
    let mut out = match args.dry_run {
        true => None,
        false => {
            let out = args.io.create_output()?;
            out.refuse_terminal("a binary archive", "redirect it or use -o FILE")?;
            Some(out)
        }
    };
    let w = out.as_mut().map(|o| o as &mut dyn std::io::Write);
    let result = roles::archive::rewrite_archive(progress.reader(input), w, opts, &progress);
    let (report, summary) = match check {
        Some(check) => container::or_damaged(result, check),
        None => result,
    }?;
    Ok((report, out, Some(summary)))
}
