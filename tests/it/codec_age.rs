//! pgpipe-age against the real age CLI: interop both ways for every
//! recipient type, armored and not; wrong keys and non-age input; and fault
//! injection (every failure exits 3 and releases only a strict prefix that
//! lacks at least the last 64 KiB).

use crate::support;
use std::sync::LazyLock;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use pgpipe::codec::age::{self as pgage, DecryptKey, EncryptKey};
use proptest::prelude::*;

static AGE: LazyLock<&str> = LazyLock::new(|| support::tool("pgpipe-age"));
const HOLD: usize = 64 * 1024;
const CHUNK: usize = 64 * 1024;

fn run_env(cmd: &str, args: &[&str], input: &[u8], env: &[(&str, &str)]) -> (i32, Vec<u8>, String) {
    let mut c = Command::new(cmd);
    c.args(args).env_remove("PGPIPE_PASSPHRASE");
    for (k, v) in env {
        c.env(k, v);
    }
    support::outcome(&mut c, input)
}

fn run(cmd: &str, args: &[&str], input: &[u8]) -> (i32, Vec<u8>, String) {
    run_env(cmd, args, input, &[])
}

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Keys {
    _dir: tempfile::TempDir,
    age_id: String,
    age_pub: String,
    ed_id: String,
    ed_pub: String,
    rsa_id: String,
    rsa_pub: String,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let age_id = dir.path().join("age.key");
    let st = Command::new("age-keygen")
        .arg("-o")
        .arg(&age_id)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::new("age-keygen")
        .arg("-y")
        .arg(&age_id)
        .output()
        .unwrap();
    let age_pub = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let ssh = |kind: &str, extra: &[&str]| {
        let p = dir.path().join(format!("id_{kind}"));
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", kind, "-N", "", "-C", "test", "-f"])
            .arg(&p)
            .args(extra)
            .status()
            .unwrap();
        assert!(st.success());
        let public = std::fs::read_to_string(p.with_extension("pub")).unwrap();
        (s(&p).to_string(), public.trim().to_string())
    };
    let (ed_id, ed_pub) = ssh("ed25519", &[]);
    let (rsa_id, rsa_pub) = ssh("rsa", &["-b", "2048"]);
    Keys {
        age_id: s(&age_id).to_string(),
        age_pub,
        ed_id,
        ed_pub,
        rsa_id,
        rsa_pub,
        _dir: dir,
    }
}

#[test]
fn interop_with_the_age_cli_for_every_recipient_type() {
    let k = keys();
    let plain = data(3 * CHUNK + 17);
    for (id, public) in [
        (&k.age_id, &k.age_pub),
        (&k.ed_id, &k.ed_pub),
        (&k.rsa_id, &k.rsa_pub),
    ] {
        for armor in [false, true] {
            let mut args = vec!["-r", public.as_str()];
            if armor {
                args.push("-a");
            }
            // ours -> age
            let (code, c, err) = run(*AGE, &args, &plain);
            assert_eq!(code, 0, "{err}");
            assert_eq!(c.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----"), armor);
            let (code, d, err) = run("age", &["-d", "-i", id], &c);
            assert_eq!(code, 0, "age -d {public} armor={armor}: {err}");
            assert!(d == plain);
            // age -> ours
            let (code, c, err) = run("age", &args, &plain);
            assert_eq!(code, 0, "{err}");
            let (code, d, err) = run(*AGE, &["-d", "-i", id], &c);
            assert_eq!(code, 0, "ours -d {public} armor={armor}: {err}");
            assert!(d == plain);
        }
    }
    // Several recipients, and a recipients file.
    let dir = tempfile::tempdir().unwrap();
    let rf = dir.path().join("recipients");
    std::fs::write(&rf, format!("# team\n{}\n{}\n", k.age_pub, k.ed_pub)).unwrap();
    let (code, c, err) = run(*AGE, &["-R", s(&rf), "-r", &k.rsa_pub], &plain);
    assert_eq!(code, 0, "{err}");
    for id in [&k.age_id, &k.ed_id, &k.rsa_id] {
        let (code, d, _) = run("age", &["-d", "-i", id], &c);
        assert_eq!(code, 0);
        assert!(d == plain);
    }
}

#[test]
fn passphrases_come_from_a_file_or_the_environment_never_argv() {
    let dir = tempfile::tempdir().unwrap();
    let pf = dir.path().join("pass");
    std::fs::write(&pf, "correct horse\n").unwrap();
    let plain = data(CHUNK + 1);
    let (code, c, err) = run(*AGE, &["-p", "--passphrase-file", s(&pf)], &plain);
    assert_eq!(code, 0, "{err}");
    let (code, d, err) = run_env(
        *AGE,
        &["-d", "-p"],
        &c,
        &[("PGPIPE_PASSPHRASE", "correct horse")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(d == plain);
    // Wrong passphrase.
    let (code, d, err) = run_env(*AGE, &["-d", "-p"], &c, &[("PGPIPE_PASSPHRASE", "wrong")]);
    assert_eq!((code, d.len()), (3, 0), "{err}");
    assert_eq!(
        err,
        "pgpipe-age: error: the file key could not be decrypted: wrong passphrase or key\n"
    );
    // No passphrase source and no terminal: a clear usage error.
    let out = Command::new("setsid")
        .args(["-w", *AGE, "-d", "-p"])
        .env_remove("PGPIPE_PASSPHRASE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "pgpipe-age: error: a passphrase is needed and there is no terminal to ask on\n\
         pgpipe-age: hint: pass --passphrase-file FILE or set PGPIPE_PASSPHRASE\n"
    );
    // A passphrase on the command line is not an option at all.
    let (code, _, _) = run(*AGE, &["-p", "secret"], b"x");
    assert_eq!(code, 2);
}

#[test]
fn wrong_key_non_age_and_empty_input_are_clear_errors() {
    let k = keys();
    let plain = data(1000);
    let (_, c, _) = run(*AGE, &["-r", &k.age_pub], &plain);
    let (code, d, err) = run(*AGE, &["-d", "-i", &k.ed_id], &c);
    assert_eq!((code, d.len()), (3, 0));
    assert_eq!(
        err,
        "pgpipe-age: error: no identity matches this file: wrong key or wrong passphrase\n"
    );
    let (code, d, err) = run(*AGE, &["-d", "-i", &k.age_id], b"COPY t FROM stdin;\n");
    assert_eq!((code, d.len()), (3, 0));
    assert!(err.contains("not an age file"), "{err}");
    let (code, d, err) = run(*AGE, &["-d", "-i", &k.age_id], b"");
    assert_eq!((code, d.len()), (3, 0), "{err}");
    let (code, _, err) = run(*AGE, &["-d"], &c);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(*AGE, &[], b"x");
    assert_eq!(code, 2, "{err}");
    // Empty plaintext round-trips.
    let (code, c, _) = run(*AGE, &["-r", &k.age_pub], b"");
    assert_eq!(code, 0);
    let (code, d, _) = run("age", &["-d", "-i", &k.age_id], &c);
    assert_eq!((code, d.len()), (0, 0));
}

#[test]
fn keygen_writes_a_private_file_once_and_warns_about_loose_modes() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("id.txt");
    let (code, out, err) = run(*AGE, &["--keygen", "-o", s(&f)], b"");
    assert_eq!(code, 0, "{err}");
    let public = String::from_utf8(out).unwrap();
    assert!(public.starts_with("age1") && public.ends_with('\n'));
    assert_eq!(
        std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let y = Command::new("age-keygen")
        .arg("-y")
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(y.stdout).unwrap(), public);
    let (code, _, err) = run(*AGE, &["--keygen", "-o", s(&f)], b"");
    assert_eq!(code, 2);
    assert!(err.contains("refusing to overwrite"), "{err}");
    let (_, c, _) = run("age", &["-r", public.trim()], b"hello");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, d, err) = run(*AGE, &["-d", "-i", s(&f)], &c);
    assert_eq!((code, d.as_slice()), (0, &b"hello"[..]));
    assert_eq!(
        err,
        format!(
            "pgpipe-age: warning: identity file {} is readable by others (mode 0644); chmod 600 it\n",
            f.display()
        )
    );
}

fn x25519() -> (EncryptKey, DecryptKey) {
    let (text, public) = pgage::keygen();
    let ids = age::IdentityFile::from_buffer(text.as_bytes())
        .unwrap()
        .into_identities()
        .unwrap();
    let r: Box<dyn age::Recipient + Send> =
        Box::new(public.parse::<age::x25519::Recipient>().unwrap());
    (EncryptKey::Recipients(vec![r]), DecryptKey::Identities(ids))
}

struct Slow<'a>(&'a [u8], usize);
impl Read for Slow<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.len().min(self.1).min(buf.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn boundary_sizes_and_small_reads() {
    let (ek, dk) = x25519();
    let big = data(4 * CHUNK + 3);
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, big.len()] {
        for armor in [false, true] {
            let mut c = Vec::new();
            pgage::encrypt(&big[..len], &mut c, &ek, armor).unwrap();
            for step in [1, 2, 3, 7, 1 << 20] {
                if step < 8 && len > 2 * CHUNK {
                    continue;
                }
                let mut d = Vec::new();
                pgage::decrypt(Slow(&c, step), &mut d, &dk).unwrap();
                assert!(d == big[..len], "len {len} armor {armor} step {step}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn decrypt_of_encrypt_is_identity(bytes in proptest::collection::vec(any::<u8>(), 0..150_000), armor: bool) {
        let (ek, dk) = x25519();
        let mut c = Vec::new();
        pgage::encrypt(&bytes[..], &mut c, &ek, armor).unwrap();
        let mut d = Vec::new();
        pgage::decrypt(&c[..], &mut d, &dk).unwrap();
        prop_assert_eq!(d, bytes);
    }
}

fn assert_fail_closed(plain: &[u8], out: &[u8], code: i32, what: &str) {
    assert_eq!(code, 3, "{what}: expected exit 3");
    assert!(
        out.len() + HOLD <= plain.len() || out.is_empty(),
        "{what}: released {} of {} bytes",
        out.len(),
        plain.len()
    );
    assert!(plain.starts_with(out), "{what}: output is not a prefix");
}

#[test]
fn truncated_or_modified_ciphertext_exits_3_and_releases_only_a_safe_prefix() {
    let (ek, dk) = x25519();
    let plain = data(5 * CHUNK + 1234);
    let mut c = Vec::new();
    pgage::encrypt(&plain[..], &mut c, &ek, false).unwrap();
    // The payload starts after the header's "--- MAC" line and the 16-byte nonce.
    let mac = c.windows(4).position(|w| w == b"\n---").unwrap() + 1;
    let header_end = mac + c[mac..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let payload = header_end + 16;
    let mut offsets: Vec<usize> = (0..40)
        .chain([mac, header_end - 1, header_end, payload - 1, payload])
        .collect();
    let mut b = payload;
    while b < c.len() {
        offsets.extend([b.saturating_sub(1), b, b + 1, b + 16, b + CHUNK / 2]);
        b += CHUNK + 16;
    }
    offsets.extend(c.len() - 17..c.len());
    offsets.retain(|&o| o < c.len());
    offsets.sort_unstable();
    offsets.dedup();
    for &cut in &offsets {
        let mut out = Vec::new();
        let err = pgage::decrypt(&c[..cut], &mut out, &dk).unwrap_err();
        assert_fail_closed(
            &plain,
            &out,
            err.exit_code(),
            &format!("cut at {cut}: {err}"),
        );
    }
    for &at in &offsets {
        let mut bad = c.clone();
        bad[at] ^= 0x01;
        let mut out = Vec::new();
        match pgage::decrypt(&bad[..], &mut out, &dk) {
            Err(err) => assert_fail_closed(
                &plain,
                &out,
                err.exit_code(),
                &format!("flip at {at}: {err}"),
            ),
            Ok(_) => panic!("flip at {at} went unnoticed"),
        }
    }
    // Through the binary, with the age CLI's own output.
    let k = keys();
    let (_, c, _) = run("age", &["-r", &k.age_pub], &plain);
    for cut in [c.len() - 1, c.len() - (CHUNK + 16), c.len() / 2] {
        let (code, out, err) = run(*AGE, &["-d", "-i", &k.age_id], &c[..cut]);
        assert_fail_closed(&plain, &out, code, &format!("binary cut at {cut}"));
        assert!(
            err.starts_with("pgpipe-age: error: age payload chunk "),
            "{err}"
        );
    }
}
