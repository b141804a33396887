//! The tools' entry points and the one program that runs them. Each module
//! is one tool: its arguments, the options it builds from them for the
//! library, and the call. [`dispatch`] is the `pgpipe` binary: it runs a tool
//! named by the name it was invoked as (`pgpipe-zip`, a link to it) or by
//! its first argument (`pgpipe zip`), and both forms hand the tool the same
//! arguments, so they print the same bytes and exit with the same code.

use std::ffi::OsString;
use std::io;
use std::path::Path;

use clap::CommandFactory;

use crate::cli;
use crate::error::{Error, exit};

pub mod age;
pub mod filter;
pub mod guard;
pub mod inspect;
pub mod roles;
pub mod sql;
pub mod sum;
pub mod zip;

/// One tool of the multi-call binary.
pub struct Tool {
    /// The name after `pgpipe-` (`zip` for `pgpipe-zip`).
    pub name: &'static str,
    /// One line for `pgpipe --help`.
    pub summary: &'static str,
    /// The tool's entry point, given `argv` with the program's name first.
    pub main: fn(Vec<OsString>) -> !,
    /// The tool's arguments, for help and completion scripts.
    pub command: fn() -> clap::Command,
}

/// Every tool, in the order `pgpipe --help` lists them.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "inspect",
        summary: "report what a dump contains and what will fail where",
        main: inspect::main,
        command: inspect::Args::command,
    },
    Tool {
        name: "roles",
        summary: "rename, drop or reassign the roles a dump names",
        main: roles::main,
        command: roles::Args::command,
    },
    Tool {
        name: "filter",
        summary: "choose what a dump restores and make it fit the target",
        main: filter::main,
        command: filter::Args::command,
    },
    Tool {
        name: "guard",
        summary: "let psql commit only a complete dump",
        main: guard::main,
        command: guard::Args::command,
    },
    Tool {
        name: "sql",
        summary: "turn a pg_dump archive into plain SQL",
        main: sql::main,
        command: sql::Args::command,
    },
    Tool {
        name: "zip",
        summary: "compress or decompress (zstd, gzip), fail-closed",
        main: zip::main,
        command: zip::Args::command,
    },
    Tool {
        name: "age",
        summary: "encrypt or decrypt with age, fail-closed",
        main: age::main,
        command: age::Args::command,
    },
    Tool {
        name: "sum",
        summary: "digest, verify or seal a stream",
        main: sum::main,
        command: sum::Args::command,
    },
];

/// The multi-call binary's own name.
pub const PROG: &str = "pgpipe";

/// The tool called `name` (`zip`), if there is one.
pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

/// Run the tool `argv` names and exit: by the program's file name when it is
/// `pgpipe-TOOL`, else by the first argument. `pgpipe --help`, `--version`
/// and `--generate-completions SHELL` are the binary's own; no tool, or an
/// unknown one, is a usage error that lists the tools.
pub fn dispatch(argv: Vec<OsString>) -> ! {
    let invoked = argv.first().map(Path::new).and_then(Path::file_name);
    if let Some(tool) = invoked
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("pgpipe-"))
        .and_then(find)
    {
        (tool.main)(argv)
    }
    let mut rest = argv.into_iter().skip(1);
    let Some(first) = rest.next() else {
        usage_error("no tool given".to_string())
    };
    let first_str = first.to_string_lossy().into_owned();
    match first_str.as_str() {
        "-h" | "--help" | "-V" | "--version" => {
            match command().try_get_matches_from([OsString::from(PROG), first.clone()]) {
                Err(err) => cli::exit_with(&err),
                Ok(_) => usage_error(format!("unknown tool {first_str:?}")),
            }
        }
        "help" => match rest.next() {
            None => dispatch(vec![PROG.into(), "--help".into()]),
            Some(name) => dispatch(vec![PROG.into(), name, "--help".into()]),
        },
        cli::COMPLETIONS_FLAG => {
            let rest: Vec<OsString> = rest.collect();
            let code = match cli::print_completions(command(), &rest, &mut io::stdout().lock()) {
                Ok(()) => exit::OK,
                Err(err) => {
                    cli::print_error(PROG, &err);
                    err.exit_code()
                }
            };
            std::process::exit(code)
        }
        name => match find(name) {
            Some(tool) => {
                let argv = std::iter::once(OsString::from(format!("{PROG}-{}", tool.name)));
                (tool.main)(argv.chain(rest).collect())
            }
            None => usage_error(format!("unknown tool '{name}'")),
        },
    }
}

/// The multi-call binary's arguments: one subcommand per tool, each with the
/// tool's own arguments (for `--help` and completion scripts; the tools
/// parse their arguments themselves).
pub fn command() -> clap::Command {
    let tools = TOOLS
        .iter()
        .map(|t| (t.command)().name(t.name).about(t.summary).long_about(None));
    clap::Command::new(PROG)
        .version(env!("CARGO_PKG_VERSION"))
        .about("Unix filters for PostgreSQL dump streams, in one binary")
        .long_about(
            "Unix filters for PostgreSQL dump streams, in one binary. \
             `pgpipe TOOL [ARGS]` runs a tool; so does this binary invoked as \
             `pgpipe-TOOL` (a link to it), with the same output and exit code. \
             `pgpipe TOOL --help` shows a tool's arguments.",
        )
        .override_usage("pgpipe TOOL [ARGS]\n       pgpipe-TOOL [ARGS]\n       pgpipe help TOOL")
        .disable_help_subcommand(true)
        .subcommand_value_name("TOOL")
        .subcommand_help_heading("Tools")
        .subcommands(tools)
}

fn usage_error(what: String) -> ! {
    let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
    let err = Error::usage(what).with_hint(format!(
        "usage: {PROG} TOOL [ARGS]; the tools are {}; see {PROG} --help",
        names.join(", ")
    ));
    cli::print_error(PROG, &err);
    std::process::exit(err.exit_code())
}
