//! Every man page stays in step with `--help`: every
//! long option the binary accepts is documented, every option the page
//! documents exists, and every page is lint-clean.

use crate::support;
use std::process::Command;

fn long_options(text: &str) -> Vec<String> {
    let mut v = Vec::new();
    for word in
        text.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=')
    {
        if let Some(name) = word.strip_prefix("--") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !name.is_empty() && !v.contains(&name) {
                v.push(name);
            }
        }
    }
    v
}

/// Options a page documents: `Fl -name`.
fn page_options(man: &str) -> Vec<String> {
    let mut v = Vec::new();
    for (i, _) in man.match_indices("Fl -") {
        let name: String = man[i + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !name.is_empty() && !v.contains(&name) {
            v.push(name);
        }
    }
    v
}

/// `both_ways`: also fail when the page documents an option `--help` lacks
/// (off for pages that cite other tools' options, such as `pgpipe-sum --seal`).
fn check(bin: &str, page: &str, both_ways: bool) {
    let help = Command::new(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let path = format!("{}/man/{page}", env!("CARGO_MANIFEST_DIR"));
    let man = std::fs::read_to_string(&path).unwrap();
    let in_help = long_options(&help);
    assert!(in_help.len() >= 5, "{in_help:?}");
    for opt in &in_help {
        assert!(
            man.contains(&format!("Fl -{opt}")),
            "{page} does not document --{opt}"
        );
    }
    for opt in page_options(&man).into_iter().filter(|_| both_ways) {
        assert!(
            in_help.contains(&opt),
            "{page} documents --{opt}, which --help does not list"
        );
    }
    lint(&path);
}

/// `mandoc -T lint -W warning` finds nothing in the page at `path`.
fn lint(path: &str) {
    let lint = Command::new("mandoc")
        .args(["-T", "lint", "-W", "warning"])
        .arg(path)
        .output()
        .expect("mandoc is installed (scripts/deps test)");
    assert!(
        lint.status.success() && lint.stdout.is_empty() && lint.stderr.is_empty(),
        "{path}: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

/// The toolkit page is lint-clean, lists every binary in src/bin (under
/// The tools and in SEE ALSO) and every exit code.
#[test]
fn toolkit_page() {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = format!("{root}/man/pgpipe.7");
    lint(&path);
    let man = std::fs::read_to_string(&path).unwrap();
    let tools: Vec<String> = support::pgpipe::TOOLS
        .iter()
        .map(|t| format!("pgpipe-{t}"))
        .collect();
    for tool in &tools {
        assert!(
            man.contains(&format!(".It Xr {tool} 1\n")),
            "pgpipe.7 does not list {tool} under The tools"
        );
        assert!(
            man.contains(&format!(".Xr {tool} 1 ,\n")),
            "pgpipe.7 SEE ALSO lacks {tool}"
        );
    }
    for code in ["0", "1", "2", "3", "141"] {
        assert!(man.contains(&format!("\n.It {code}\n")), "exit code {code}");
    }
}

/// pgpipe(1) lists every tool with its page, and its options are those of
/// `pgpipe --help`.
#[test]
fn multi_call_page() {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = format!("{root}/man/pgpipe.1");
    lint(&path);
    let man = std::fs::read_to_string(&path).unwrap();
    for t in support::pgpipe::TOOLS {
        assert!(
            man.contains(&format!(".It Cm {t}\n")) && man.contains(&format!(".Xr pgpipe-{t} 1\n")),
            "pgpipe.1 does not list {t}"
        );
    }
    let help = Command::new(support::pgpipe::PGPIPE)
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    for t in support::pgpipe::TOOLS {
        assert!(
            help.contains(&format!("\n  {t} ")),
            "pgpipe --help lacks {t}:\n{help}"
        );
    }
    for opt in long_options(&help) {
        assert!(
            man.contains(&format!("Fl -{opt}")),
            "pgpipe.1 does not document --{opt}"
        );
    }
}

#[test]
fn inspect_page() {
    check(support::tool("pgpipe-inspect"), "pgpipe-inspect.1", true);
}

#[test]
fn guard_page() {
    check(support::tool("pgpipe-guard"), "pgpipe-guard.1", true);
}

#[test]
fn roles_page() {
    check(support::tool("pgpipe-roles"), "pgpipe-roles.1", true);
}

#[test]
fn sql_page() {
    check(support::tool("pgpipe-sql"), "pgpipe-sql.1", true);
}

#[test]
fn filter_page() {
    check(support::tool("pgpipe-filter"), "pgpipe-filter.1", true);
}

#[test]
fn codec_pages() {
    check(support::tool("pgpipe-zip"), "pgpipe-zip.1", false);
    check(support::tool("pgpipe-age"), "pgpipe-age.1", false);
    check(support::tool("pgpipe-sum"), "pgpipe-sum.1", false);
}
