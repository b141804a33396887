//! The codec man pages stay in step with `--help`: every long option the
//! binary accepts is documented, and every page is lint-clean.

use std::process::Command;

fn long_options(help: &str) -> Vec<String> {
    let mut v = Vec::new();
    for word in
        help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=')
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

fn check(bin: &str, page: &str) {
    let help = Command::new(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let man =
        std::fs::read_to_string(format!("{}/man/{page}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let options = long_options(&help);
    assert!(options.len() >= 5, "{options:?}");
    for opt in options {
        assert!(
            man.contains(&format!("Fl -{opt}")),
            "{page} does not document --{opt}"
        );
    }
    let lint = Command::new("mandoc")
        .args(["-T", "lint", "-W", "warning"])
        .arg(format!("{}/man/{page}", env!("CARGO_MANIFEST_DIR")))
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
    assert!(
        lint.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}

#[test]
fn man_pages_match_help() {
    check(env!("CARGO_BIN_EXE_pgpipe-zip"), "pgpipe-zip.1");
    check(env!("CARGO_BIN_EXE_pgpipe-age"), "pgpipe-age.1");
    check(env!("CARGO_BIN_EXE_pgpipe-sum"), "pgpipe-sum.1");
}
