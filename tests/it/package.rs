//! The binary that ships: one static `pgpipe`, run as `pgpipe TOOL` or as
//! `pgpipe-TOOL` with the same bytes and exit code; it runs in a root that
//! holds nothing but itself and a static busybox; `make dist` gives the same
//! bytes twice; `make deb` builds a package that installs, runs and passes
//! lintian; NOTICE names every crate the binary contains.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;
use support::pgpipe::{PGPIPE, TOOLS};
use support::{fixture_file, fixture_path, pg17_plain, run};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn outcome(o: &Output) -> (Option<i32>, String, String) {
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `pgpipe TOOL args` and `pgpipe-TOOL args` on `input`: both outputs.
fn both_forms(tool: &str, args: &[&str], input: &[u8]) -> (Output, Output) {
    let multi = run(Command::new(PGPIPE).arg(tool).args(args), Some(input));
    let link = run(
        Command::new(support::tool(&format!("pgpipe-{tool}"))).args(args),
        Some(input),
    );
    (multi, link)
}

fn keypair(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("key.txt");
    let out = run(
        Command::new(PGPIPE)
            .args(["age", "--keygen", "-o"])
            .arg(&key),
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        key,
        String::from_utf8(out.stdout).unwrap().trim().to_string(),
    )
}

/// For every tool: a run that succeeds, a usage error and an integrity
/// failure give identical stdout, stderr and exit code in both forms.
#[test]
fn both_invocation_forms_agree_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keypair(tmp.path());
    let key = key.to_str().unwrap();
    let dump = pg17_plain();
    // Cut inside a statement: the reader sees a statement without its end.
    let at = memchr::memmem::find(&dump, b"CREATE TABLE app.t1 (").unwrap() + 10;
    let cut = &dump[..at];
    let archive = fixture_file("pg17/db1.custom-file.dump");
    let zst = run(Command::new("zstd").arg("-c"), Some(&dump)).stdout;
    let sealed = run(Command::new(PGPIPE).args(["sum", "--seal"]), Some(&dump)).stdout;
    let encrypted = run(Command::new("age").args(["-r", &public]), Some(&dump)).stdout;
    let bad_sum = "0".repeat(64);
    type Case<'a> = (&'a str, Vec<&'a str>, &'a [u8], i32);
    let cases: Vec<Case> = vec![
        ("inspect", vec!["--json"], &dump, 0),
        ("inspect", vec!["--no-such-flag"], &dump, 2),
        ("inspect", vec!["--require-complete"], cut, 3),
        ("roles", vec!["--map", "alice=alicia"], &dump, 0),
        ("roles", vec!["--map"], &dump, 2),
        ("roles", vec!["--map", "alice=alicia"], cut, 3),
        ("filter", vec!["-T", "app.t1"], &dump, 0),
        ("filter", vec!["--no-such-option"], &dump, 2),
        ("filter", vec![], cut, 3),
        ("guard", vec![], &dump, 0),
        ("guard", vec!["--bogus"], &dump, 2),
        ("guard", vec![], cut, 3),
        ("sql", vec!["--restrict-key", "K"], &archive, 0),
        ("sql", vec!["--restrict-key"], &archive, 2),
        (
            "sql",
            vec!["--restrict-key", "K"],
            &archive[..archive.len() / 2],
            3,
        ),
        ("zip", vec!["-d"], &zst, 0),
        ("zip", vec!["-l", "x"], &dump, 2),
        ("zip", vec!["-d"], &zst[..zst.len() - 9], 3),
        ("age", vec!["-d", "-i", key], &encrypted, 0),
        ("age", vec!["-d"], &encrypted, 2),
        (
            "age",
            vec!["-d", "-i", key],
            &encrypted[..encrypted.len() - 20],
            3,
        ),
        ("sum", vec!["--unseal"], &sealed, 0),
        ("sum", vec!["-a", "md5"], &dump, 2),
        ("sum", vec!["-c", &bad_sum], &dump, 3),
    ];
    for t in TOOLS {
        assert!(cases.iter().any(|c| c.0 == t), "no case for {t}");
        for args in [&["--help"][..], &["-h"], &["--version"]] {
            let (a, b) = both_forms(t, args, b"");
            assert_eq!(outcome(&a), outcome(&b), "{t} {args:?}");
            assert_eq!(a.status.code(), Some(0), "{t} {args:?}");
        }
        let help = run(Command::new(PGPIPE).args(["help", t]), None);
        let link_help = run(
            Command::new(support::tool(&format!("pgpipe-{t}"))).arg("--help"),
            None,
        );
        assert_eq!(outcome(&help), outcome(&link_help), "pgpipe help {t}");
    }
    for (tool, args, input, code) in &cases {
        let (a, b) = both_forms(tool, args, input);
        assert_eq!(outcome(&a), outcome(&b), "{tool} {args:?}");
        assert_eq!(
            a.status.code(),
            Some(*code),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        if *code == 3 {
            assert!(
                String::from_utf8_lossy(&a.stderr).contains(&format!("pgpipe-{tool}")),
                "{tool} {args:?}: the message does not name the tool"
            );
        }
    }
}

/// `pgpipe` alone: --help lists every tool on one line, --version, and no
/// tool or an unknown one is a usage error that lists them.
#[test]
fn the_dispatcher_lists_its_tools() {
    let help = run(Command::new(PGPIPE).arg("--help"), None);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8(help.stdout).unwrap();
    let listed: Vec<&str> = help
        .split("\nTools:\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(listed, TOOLS, "{help}");
    let version = run(Command::new(PGPIPE).arg("--version"), None);
    assert_eq!(
        outcome(&version),
        (
            Some(0),
            format!("pgpipe {}\n", env!("CARGO_PKG_VERSION")),
            String::new()
        )
    );
    let listing = format!("the tools are {}", TOOLS.join(", "));
    for args in [&[][..], &["nope"], &["-d"], &["pgpipe-zip"]] {
        let out = run(Command::new(PGPIPE).args(args), Some(b"x"));
        let (code, stdout, stderr) = outcome(&out);
        assert_eq!((code, stdout.as_str()), (Some(2), ""), "{args:?}");
        assert!(stderr.starts_with("pgpipe: error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(&listing), "{args:?}: {stderr}");
    }
    // A link under an unknown name is the dispatcher, not a tool.
    let tmp = tempfile::tempdir().unwrap();
    let odd = tmp.path().join("pgpipe-nosuch");
    std::os::unix::fs::symlink(PGPIPE, &odd).unwrap();
    let out = run(Command::new(&odd).args(["zip", "--version"]), None);
    assert_eq!(
        outcome(&out),
        (
            Some(0),
            format!("pgpipe-zip {}\n", env!("CARGO_PKG_VERSION")),
            String::new()
        )
    );
}

/// The binary cargo built is the one that ships: static, small, and it
/// opens no system file (NSS, locales, iconv modules, certificates).
#[test]
fn the_binary_is_static_and_reads_nothing_from_the_system() {
    let ldd = run(Command::new("ldd").arg(PGPIPE), None);
    let text =
        String::from_utf8_lossy(&ldd.stdout).into_owned() + &String::from_utf8_lossy(&ldd.stderr);
    assert!(
        text.contains("statically linked") || text.contains("not a dynamic executable"),
        "ldd: {text}"
    );
    let headers = run(
        Command::new("readelf").args(["-lW", "-d"]).arg(PGPIPE),
        None,
    );
    let headers = String::from_utf8(headers.stdout).unwrap();
    assert!(!headers.contains("INTERP"), "{headers}");
    assert!(!headers.contains("(NEEDED)"), "{headers}");
    let size = std::fs::metadata(PGPIPE).unwrap().len();
    assert!(size <= 12_000_000, "pgpipe is {size} bytes");
    let bytes = std::fs::read(PGPIPE).unwrap();
    for needle in [
        "nsswitch.conf",
        "libnss_",
        "getpwuid",
        "locale-archive",
        "/etc/ssl",
    ] {
        assert!(
            memchr::memmem::find(&bytes, needle.as_bytes()).is_none(),
            "the binary contains {needle:?}"
        );
    }
    // Every file a tool asks the kernel for, across a pipeline's worth of
    // tools: only what it was given.
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keypair(tmp.path());
    let dump = tmp.path().join("dump.sql");
    std::fs::write(&dump, pg17_plain()).unwrap();
    let log = tmp.path().join("strace");
    let script = format!(
        "set -e; p={PGPIPE}; d={dump}; \
         $p roles --map alice=alicia $d | $p filter -T public.t1 | $p zip | $p zip -d \
         | $p age -r {public} | $p age -d -i {key} | $p sum --seal | $p sum --unseal \
         | $p guard > /dev/null; $p inspect --json $d > /dev/null; $p sql {archive} > /dev/null",
        dump = dump.display(),
        key = key.display(),
        archive = fixture_path("pg17/db1.custom-file.dump").display(),
    );
    let traced = run(
        Command::new("strace")
            .args(["-f", "-qq", "-s", "4096", "-e", "trace=%file", "-o"])
            .arg(&log)
            .args(["sh", "-c", &script]),
        None,
    );
    assert_eq!(
        traced.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&traced.stderr)
    );
    let log = std::fs::read_to_string(&log).unwrap();
    // The shell's own lookups happen before it execs pgpipe; only calls made
    // by a process that is pgpipe count.
    let mut pgpipe_pids = std::collections::BTreeSet::new();
    for line in log.lines() {
        if line.contains(&format!("execve(\"{PGPIPE}\"")) {
            pgpipe_pids.insert(line.split_whitespace().next().unwrap().to_string());
        }
    }
    assert!(
        pgpipe_pids.len() >= 10,
        "{} pgpipe processes",
        pgpipe_pids.len()
    );
    let allowed = |path: &str| {
        path.starts_with(tmp.path().to_str().unwrap())
            || path == PGPIPE
            || path.starts_with(&format!("{ROOT}/tests/fixtures/"))
            // The kernel's own files, which every container has.
            || path.starts_with("/proc/")
            || path.starts_with("/sys/")
            || ["/dev/null", "/dev/urandom", "/dev/tty"].contains(&path)
    };
    for line in log.lines() {
        let pid = line.split_whitespace().next().unwrap();
        if !pgpipe_pids.contains(pid) || line.contains("execve(") || line.contains(" resumed>") {
            continue;
        }
        let Some(start) = line.find('"') else {
            continue;
        };
        let path = &line[start + 1..];
        let path = &path[..path.find('"').unwrap_or(path.len())];
        assert!(
            path.is_empty() || allowed(path),
            "pgpipe asked for {path}: {line}"
        );
    }
}

fn busybox() -> &'static str {
    ["/bin/busybox", "/usr/bin/busybox"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("busybox-static is installed (scripts/deps test)")
}

/// A root holding only pgpipe, its links and a static busybox as /bin/sh:
/// the restore pipeline and a role rewrite give the bytes they give outside.
#[test]
fn runs_in_a_bare_root() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = keypair(tmp.path());
    let root = tmp.path().join("root");
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(PGPIPE, bin.join("pgpipe")).unwrap();
    for t in TOOLS {
        std::os::unix::fs::symlink("pgpipe", bin.join(format!("pgpipe-{t}"))).unwrap();
    }
    std::fs::copy(busybox(), bin.join("sh")).unwrap();
    let ldd = run(Command::new("ldd").arg(bin.join("sh")), None);
    assert!(!ldd.status.success() || String::from_utf8_lossy(&ldd.stdout).contains("statically"));
    std::fs::copy(&key, root.join("key")).unwrap();

    // Made outside with the reference tools.
    let dump = pg17_plain();
    let encrypted = run(Command::new("age").args(["-r", &public]), Some(&dump)).stdout;
    let stream = run(Command::new("zstd").arg("-c"), Some(&encrypted)).stdout;
    let outside = run(
        Command::new("sh").arg("-c").arg(format!(
            "{z} -d | {a} -d -i {k} | {g}",
            z = support::tool("pgpipe-zip"),
            a = support::tool("pgpipe-age"),
            k = key.display(),
            g = support::tool("pgpipe-guard")
        )),
        Some(&stream),
    );
    assert_eq!(
        outside.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&outside.stderr)
    );
    let inside = |script: &str, input: &[u8]| {
        run(
            Command::new("/usr/sbin/chroot")
                .arg(&root)
                .args(["/bin/sh", "-c", script])
                .env_clear()
                .env("PATH", "/bin"),
            Some(input),
        )
    };
    let restored = inside(
        "pgpipe-zip -d | pgpipe-age -d -i /key | pgpipe-guard",
        &stream,
    );
    assert_eq!(
        outcome(&restored).0,
        Some(0),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(
        restored.stdout == outside.stdout,
        "the bare root's restore stream differs"
    );

    let roles_outside = run(
        Command::new(PGPIPE).args(["roles", "--map", "alice=alicia"]),
        Some(&dump),
    );
    let roles_inside = inside("pgpipe roles --map alice=alicia", &dump);
    assert_eq!(outcome(&roles_inside), outcome(&roles_outside));
    assert_ne!(roles_inside.stdout, dump, "--map changed nothing");

    // Nothing else got into the root.
    let mut entries: Vec<String> = walk(&root)
        .into_iter()
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    entries.sort();
    let mut expected: Vec<String> = vec![
        "bin".into(),
        "bin/pgpipe".into(),
        "bin/sh".into(),
        "key".into(),
    ];
    expected.extend(TOOLS.iter().map(|t| format!("bin/pgpipe-{t}")));
    expected.sort();
    assert_eq!(entries, expected);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && !p.is_symlink() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

fn make(target: &str, extra: &[String]) -> Output {
    let mut args = vec![
        "-s".to_string(),
        "NO_BUILD=1".into(),
        format!("RELEASE_DIR={}", support::release_dir().display()),
    ];
    args.extend_from_slice(extra);
    support::helpers::make(target, &args)
}

/// `make dist` twice gives the same bytes, the checksum file verifies, and
/// the unpacked tree runs.
#[test]
fn dist_is_reproducible_and_runs_unpacked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dist");
    let name = format!("pgpipe-{}-x86_64-linux", env!("CARGO_PKG_VERSION"));
    let tarball = dir.join(format!("{name}.tar.gz"));
    let distdir = format!("DISTDIR={}", dir.display());
    make("dist", std::slice::from_ref(&distdir));
    let first = std::fs::read(&tarball).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    make("dist", &[distdir]);
    assert!(
        std::fs::read(&tarball).unwrap() == first,
        "make dist is not reproducible"
    );
    let check = run(
        Command::new("sha256sum")
            .arg("-c")
            .arg(format!("{name}.tar.gz.sha256"))
            .current_dir(&dir),
        None,
    );
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    let list = run(Command::new("tar").arg("-tvzf").arg(&tarball), None);
    let list = String::from_utf8(list.stdout).unwrap();
    for member in [
        "bin/pgpipe",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "NOTICE",
        "share/man/man1/pgpipe.1",
        "share/man/man7/pgpipe.7",
        "share/bash-completion/completions/pgpipe",
        "share/zsh/site-functions/_pgpipe-zip",
    ] {
        assert!(
            list.contains(&format!(" {name}/{member}\n")),
            "{member} missing:\n{list}"
        );
    }
    for t in TOOLS {
        assert!(
            list.contains(&format!(" {name}/bin/pgpipe-{t} -> pgpipe\n")),
            "{t}:\n{list}"
        );
        assert!(
            list.contains(&format!(" {name}/share/man/man1/pgpipe-{t}.1\n")),
            "{t}"
        );
    }
    for line in list.lines() {
        assert!(line.contains(" 0/0 "), "not owned by root: {line}");
    }
    let unpacked = tmp.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let x = run(
        Command::new("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&unpacked),
        None,
    );
    assert!(x.status.success());
    let zip = unpacked.join(&name).join("bin/pgpipe-zip");
    let dump = pg17_plain();
    let packed = run(&mut Command::new(&zip), Some(&dump));
    let back = run(
        Command::new("zstd").args(["-d", "-c"]),
        Some(&packed.stdout),
    );
    assert!(back.stdout == dump);
}

/// `make deb`: control fields, Debian's file places, no lintian error or
/// warning, and the unpacked package runs.
#[test]
fn deb_installs_and_passes_lintian() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dist");
    make("deb", &[format!("DISTDIR={}", dir.display())]);
    let deb = dir.join(format!("pgpipe_{}_amd64.deb", env!("CARGO_PKG_VERSION")));
    let info = run(Command::new("dpkg-deb").arg("-I").arg(&deb), None);
    let info = String::from_utf8(info.stdout).unwrap();
    for field in [
        " Package: pgpipe\n",
        &format!(" Version: {}\n", env!("CARGO_PKG_VERSION")),
        " Architecture: amd64\n",
        " Suggests: postgresql-client\n",
        " Section: database\n",
    ] {
        assert!(info.contains(field), "{field:?} missing:\n{info}");
    }
    assert!(!info.contains("Depends:"), "{info}");
    let contents = run(Command::new("dpkg-deb").arg("-c").arg(&deb), None);
    let contents = String::from_utf8(contents.stdout).unwrap();
    let mut wanted = vec![
        "./usr/bin/pgpipe\n".to_string(),
        "./usr/share/man/man1/pgpipe.1.gz\n".into(),
        "./usr/share/man/man7/pgpipe.7.gz\n".into(),
        "./usr/share/doc/pgpipe/copyright\n".into(),
        "./usr/share/doc/pgpipe/changelog.gz\n".into(),
        "./usr/share/lintian/overrides/pgpipe\n".into(),
        "./usr/share/bash-completion/completions/pgpipe\n".into(),
        "./usr/share/zsh/vendor-completions/_pgpipe\n".into(),
        "./usr/share/fish/vendor_completions.d/pgpipe.fish\n".into(),
    ];
    for t in TOOLS {
        wanted.push(format!("./usr/bin/pgpipe-{t} -> pgpipe\n"));
        wanted.push(format!("./usr/share/man/man1/pgpipe-{t}.1.gz\n"));
        wanted.push(format!(
            "./usr/share/bash-completion/completions/pgpipe-{t}\n"
        ));
    }
    for w in &wanted {
        assert!(
            contents.contains(&format!(" {w}")),
            "{w:?} missing:\n{contents}"
        );
    }

    let x = tmp.path().join("x");
    let out = run(Command::new("dpkg").arg("-x").arg(&deb).arg(&x), None);
    assert!(out.status.success());
    let sum = run(
        &mut Command::new(x.join("usr/bin/pgpipe-sum")),
        Some(b"abc"),
    );
    assert_eq!(
        outcome(&sum),
        (
            Some(0),
            "abc".into(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  -\n".into()
        )
    );

    let lintian = run(
        Command::new("lintian")
            .args(["--tag-display-limit", "0"])
            .arg(&deb),
        None,
    );
    let report = String::from_utf8_lossy(&lintian.stdout).into_owned();
    assert!(
        !report
            .lines()
            .any(|l| l.starts_with("E:") || l.starts_with("W:")),
        "lintian:\n{report}{}",
        String::from_utf8_lossy(&lintian.stderr)
    );
    assert_eq!(lintian.status.code(), Some(0), "{report}");
}

/// NOTICE lists exactly the crates the binary is built from.
#[test]
fn notice_names_every_crate_in_the_binary() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let tree = run(
        Command::new(cargo)
            .current_dir(ROOT)
            .args([
                "tree",
                "--locked",
                "--offline",
                "-e",
                "normal,no-proc-macro",
            ])
            .args(["--target", "x86_64-unknown-linux-gnu", "--prefix", "none"])
            .args(["--format", "{p}"]),
        None,
    );
    assert!(
        tree.status.success(),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    let mut crates: Vec<String> = String::from_utf8(tree.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("pgpipe v"))
        .map(|l| {
            let mut w = l.split_whitespace();
            format!(
                "{} {}",
                w.next().unwrap(),
                w.next().unwrap().trim_start_matches('v')
            )
        })
        .collect();
    crates.sort();
    crates.dedup();
    let notice = std::fs::read_to_string(format!("{ROOT}/NOTICE")).unwrap();
    let mut listed: Vec<String> = notice
        .split("\nRust crates")
        .nth(1)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("* "))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, crates, "NOTICE is stale: run scripts/notice");
    for c in ["pg_query", "zstd-sys", "ring", "age"] {
        assert!(
            crates.iter().any(|l| l.starts_with(&format!("{c} "))),
            "{c}"
        );
    }
}
