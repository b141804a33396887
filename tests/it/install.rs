//! `make install` and `make uninstall` put the binary, its links, man pages and shell
//! completions where the README and pgpipe(7) say, and take them away again;
//! `--generate-completions` is hidden, strict about its argument, and
//! describes every option.
//!
//! The install runs with `NO_BUILD=1` and `RELEASE_DIR` set to the directory
//! of the binaries this test run built: `cargo test` holds cargo's build lock
//! while tests run, so the `all` prerequisite (`cargo build --release`) would
//! wait for it forever. [`install_still_builds_first`] checks that a plain
//! `make install` does build first.

use crate::support;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The names the installed binary answers to: `pgpipe` and its links.
fn tools() -> Vec<String> {
    let mut tools = vec!["pgpipe".to_string()];
    tools.extend(support::pgpipe::TOOLS.iter().map(|t| format!("pgpipe-{t}")));
    tools
}

/// The man pages in man/ with the given section suffix (`1`, `7`).
fn pages(section: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("{ROOT}/man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(&format!(".{section}")))
        .collect();
    v.sort();
    v
}

fn make(target: &str, destdir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        format!("DESTDIR={}", destdir.display()),
        "PREFIX=/usr".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    support::helpers::make(target, &args)
}

/// Every regular file under `dir`, relative to it.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap();
                found.insert(rel.to_str().unwrap().to_owned());
            }
        }
    }
    found
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Long options `--help` lists.
fn help_options(bin: &Path) -> Vec<String> {
    let help = Command::new(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let mut v = Vec::new();
    // Only the option column: lines that start with `-x, --name` or `--name`
    // (descriptions may cite other tools' options).
    for line in help.lines().filter(|l| l.trim_start().starts_with('-')) {
        let word = line
            .split_whitespace()
            .find(|w| w.starts_with("--"))
            .unwrap_or("");
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

#[test]
fn install_and_uninstall() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path();
    let release = support::release_dir();
    make(
        "install",
        dest,
        &["NO_BUILD=1", &format!("RELEASE_DIR={}", release.display())],
    );

    let usr = dest.join("usr");
    let mut expected = BTreeSet::new();
    for tool in tools() {
        let bin = usr.join("bin").join(&tool);
        if tool == "pgpipe" {
            assert_eq!(mode(&bin), 0o755, "{}", bin.display());
            assert!(
                std::fs::read(&bin).unwrap() == std::fs::read(release.join(&tool)).unwrap(),
                "{} is not the built binary",
                bin.display()
            );
        } else {
            assert_eq!(
                std::fs::read_link(&bin).unwrap(),
                Path::new("pgpipe"),
                "{} is not a link to pgpipe",
                bin.display()
            );
        }
        expected.insert(format!("usr/bin/{tool}"));

        let bash = usr.join("share/bash-completion/completions").join(&tool);
        let zsh = usr
            .join("share/zsh/site-functions")
            .join(format!("_{tool}"));
        let fish = usr
            .join("share/fish/vendor_completions.d")
            .join(format!("{tool}.fish"));
        for file in [&bash, &zsh, &fish] {
            assert_eq!(mode(file), 0o644, "{}", file.display());
            expected.insert(
                file.strip_prefix(dest)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned(),
            );
        }

        // bash: valid syntax, and sourcing it registers a completion for the tool.
        let syntax = Command::new("bash").arg("-n").arg(&bash).output().unwrap();
        assert!(
            syntax.status.success(),
            "bash -n {}: {}",
            bash.display(),
            String::from_utf8_lossy(&syntax.stderr)
        );
        let registered = Command::new("bash")
            .arg("-c")
            .arg(r#"source "$1" && complete -p "$2""#)
            .arg("bash")
            .arg(&bash)
            .arg(&tool)
            .output()
            .unwrap();
        assert!(
            registered.status.success()
                && String::from_utf8_lossy(&registered.stdout)
                    .trim_end()
                    .ends_with(&tool),
            "sourcing {} does not complete {tool}: {}{}",
            bash.display(),
            String::from_utf8_lossy(&registered.stdout),
            String::from_utf8_lossy(&registered.stderr)
        );
        let bash_text = std::fs::read_to_string(&bash).unwrap();
        for opt in help_options(&release.join(&tool)) {
            assert!(
                bash_text.contains(&format!("--{opt}")),
                "bash completion for {tool} lacks --{opt}"
            );
        }

        // zsh and fish: the script is for this binary.
        let zsh_text = std::fs::read_to_string(&zsh).unwrap();
        assert!(
            zsh_text.starts_with(&format!("#compdef {tool}\n")),
            "{}",
            zsh.display()
        );
        let fish_text = std::fs::read_to_string(&fish).unwrap();
        assert!(
            fish_text.contains(&format!("complete -c {tool} ")),
            "{}",
            fish.display()
        );
    }
    for (section, pages) in [("1", pages("1")), ("7", pages("7"))] {
        assert!(!pages.is_empty(), "no man{section} pages");
        for page in pages {
            let installed = usr.join(format!("share/man/man{section}")).join(&page);
            assert_eq!(mode(&installed), 0o644, "{}", installed.display());
            assert_eq!(
                std::fs::read(&installed).unwrap(),
                std::fs::read(format!("{ROOT}/man/{page}")).unwrap(),
                "{}",
                installed.display()
            );
            expected.insert(format!("usr/share/man/man{section}/{page}"));
        }
    }
    assert!(expected.contains("usr/share/man/man7/pgpipe.7"));
    // Nothing else was installed.
    assert_eq!(files_under(dest), expected);

    make("uninstall", dest, &[]);
    let left = files_under(dest);
    assert!(left.is_empty(), "make uninstall left {left:?}");
}

/// Without NO_BUILD, `make install` builds the release binary first.
#[test]
fn install_still_builds_first() {
    let tmp = tempfile::tempdir().unwrap();
    let out = make("install", tmp.path(), &["-n"]);
    let plan = String::from_utf8(out.stdout).unwrap();
    let build = plan
        .find("cargo build --release --locked")
        .unwrap_or_else(|| panic!("make -n install does not build:\n{plan}"));
    let first_install = plan.find("install -d").unwrap();
    assert!(build < first_install, "{plan}");
    assert!(
        files_under(tmp.path()).is_empty(),
        "make -n installed something"
    );
}

/// The completion flag is hidden from `--help`, works only as the first
/// argument, and rejects a missing, unknown or extra shell name with exit 2.
#[test]
fn generate_completions_flag() {
    for tool in tools() {
        let bin = support::release_dir().join(&tool);
        let help = Command::new(&bin).arg("--help").output().unwrap();
        assert!(
            !String::from_utf8_lossy(&help.stdout).contains("completions"),
            "{tool} --help mentions completions"
        );
        let run = |args: &[&str]| Command::new(&bin).args(args).output().unwrap();

        let ok = run(&["--generate-completions", "bash"]);
        assert_eq!(ok.status.code(), Some(0), "{tool}");
        assert!(ok.stderr.is_empty());
        assert!(String::from_utf8_lossy(&ok.stdout).contains(&format!(" {tool}\n")));
        let zsh = run(&["--generate-completions", "ZSH"]);
        assert_eq!(zsh.status.code(), Some(0), "{tool}");

        for bad in [
            &["--generate-completions"][..],
            &["--generate-completions", "tcsh"],
            &["--generate-completions", "bash", "extra"],
        ] {
            let out = run(bad);
            assert_eq!(out.status.code(), Some(2), "{tool} {bad:?}");
            assert!(out.stdout.is_empty(), "{tool} {bad:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.starts_with(&format!("{tool}: error: --generate-completions")),
                "{tool} {bad:?}: {err}"
            );
        }
        // Not the first argument: an ordinary unknown option.
        let late = run(&["-o", "/nonexistent/x", "--generate-completions", "bash"]);
        assert_eq!(late.status.code(), Some(2), "{tool}");
        assert!(late.stdout.is_empty());
    }
}
