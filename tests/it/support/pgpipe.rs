//! The program under test: the one `pgpipe` binary cargo built, run through
//! a link `pgpipe-TOOL` beside it for every tool, the way users run it. The
//! links are made once per test process, next to the binary, so a recipe
//! that puts [`release_dir`] first on `PATH` finds every tool.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The multi-call binary itself.
pub const PGPIPE: &str = env!("CARGO_BIN_EXE_pgpipe");

/// Every tool's name after `pgpipe-`.
pub const TOOLS: [&str; 8] = [
    "inspect", "roles", "filter", "guard", "sql", "zip", "age", "sum",
];

struct Links {
    dir: PathBuf,
    paths: Vec<(String, &'static str)>,
}

fn links() -> &'static Links {
    static LINKS: OnceLock<Links> = OnceLock::new();
    LINKS.get_or_init(|| {
        let dir = Path::new(PGPIPE).parent().unwrap().to_path_buf();
        let paths = TOOLS
            .iter()
            .map(|t| {
                let name = format!("pgpipe-{t}");
                let link = dir.join(&name);
                // A fresh link renamed into place: another process may be
                // making the same one, and a stale file must not stay.
                let tmp = dir.join(format!(".{name}.{}", std::process::id()));
                let _ = std::fs::remove_file(&tmp);
                std::os::unix::fs::symlink("pgpipe", &tmp).unwrap();
                std::fs::rename(&tmp, &link).unwrap();
                let path: &'static str =
                    Box::leak(link.to_str().unwrap().to_string().into_boxed_str());
                (name, path)
            })
            .collect();
        Links { dir, paths }
    })
}

/// The directory that holds `pgpipe` and its `pgpipe-TOOL` links.
pub fn release_dir() -> PathBuf {
    links().dir.clone()
}

/// The path of `name` (`pgpipe-zip`): the link to the multi-call binary.
pub fn tool(name: &str) -> &'static str {
    links()
        .paths
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, p)| *p)
        .unwrap_or_else(|| panic!("{name} is not a pgpipe tool"))
}

/// `pgpipe-TOOL ARGS…` (`name` is `pgpipe-TOOL`) with `input` on standard
/// input, or none: (exit code, standard output, standard error).
pub fn run_tool(name: &str, args: &[&str], input: Option<&[u8]>) -> (i32, Vec<u8>, String) {
    let mut cmd = std::process::Command::new(tool(name));
    cmd.args(args);
    let out = super::run(&mut cmd, input);
    (
        super::exit_code(&out),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`run_tool`] that must exit 0: its standard output, or why not.
pub fn run_tool_ok(name: &str, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let (code, out, err) = run_tool(name, args, input);
    if code != 0 {
        return Err(format!("{name} {} exited {code}: {err}", args.join(" ")));
    }
    Ok(out)
}
