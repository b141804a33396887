//! `pgpipe-age`: age encryption and decryption in the pipe, with the `age`
//! crate doing all cryptography.
//!
//! Decryption reads through age's `StreamReader`, which authenticates every
//! 64 KiB chunk before returning its plaintext, and writes through a
//! [`Holdback`]: the last 64 KiB are released only after the final chunk has
//! authenticated. A truncated, modified or wrongly-keyed stream therefore
//! exits 3 without handing the end of the plaintext downstream.
//!
//! Passphrases come from `--passphrase-file`, `PGPIPE_PASSPHRASE`, or the
//! terminal; never from the command line.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use age::secrecy::{ExposeSecret, SecretString};
use age::{DecryptError, Decryptor, Encryptor, Identity, Recipient};

use super::{read_err, write_err};
use crate::BLOCK;
use crate::codec::holdback::Holdback;
use crate::error::{Error, Result};

mod keys;

use keys::StdinUse;

/// The environment variable a passphrase may come from.
pub const PASSPHRASE_ENV: &str = "PGPIPE_PASSPHRASE";

/// What to encrypt to.
pub enum EncryptKey {
    Recipients(Vec<Box<dyn Recipient + Send>>),
    Passphrase(SecretString),
}

/// Identities to decrypt with.
pub type Identities = Vec<Box<dyn Identity>>;

/// What to decrypt with.
pub enum DecryptKey {
    Identities(Identities),
    Passphrase(SecretString),
}

/// Parse `-r` recipient strings (`age1…`, `ssh-ed25519 …`, `ssh-rsa …`) and
/// `-R` recipients files.
pub fn load_recipients(
    recipients: Vec<String>,
    files: Vec<String>,
    input_is_stdin: bool,
) -> Result<Vec<Box<dyn Recipient + Send>>> {
    keys::read_recipients(&recipients, &files, &mut StdinUse::new(input_is_stdin))
}

/// Read `-i` identity files (age identity files, unencrypted ssh private
/// keys). Returns the identities and a warning for every file that group or
/// others may read.
pub fn load_identities(
    files: Vec<String>,
    input_is_stdin: bool,
) -> Result<(Identities, Vec<String>)> {
    let mut warnings = Vec::new();
    for f in &files {
        if let Ok(meta) = std::fs::metadata(f) {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if meta.is_file() && mode & 0o077 != 0 {
                warnings.push(format!(
                    "identity file {f} is readable by others (mode {:04o}); chmod 600 it",
                    mode & 0o7777
                ));
            }
        }
    }
    let ids = keys::read_identities(&files, &mut StdinUse::new(input_is_stdin))?;
    Ok((ids, warnings))
}

/// A passphrase from `file`, else `PGPIPE_PASSPHRASE`, else the terminal
/// (asked twice when `confirm`). Fails with a usage error when none of them
/// is available.
pub fn read_passphrase(file: Option<&Path>, confirm: bool) -> Result<SecretString> {
    let from_text = |mut s: String, what: &str| -> Result<SecretString> {
        if s.ends_with('\n') {
            s.pop();
            if s.ends_with('\r') {
                s.pop();
            }
        }
        if s.is_empty() {
            return Err(Error::usage(format!("the passphrase in {what} is empty")));
        }
        Ok(SecretString::from(s))
    };
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        return from_text(text, &path.display().to_string());
    }
    if let Ok(text) = std::env::var(PASSPHRASE_ENV) {
        return from_text(text, PASSPHRASE_ENV);
    }
    if std::fs::File::open("/dev/tty").is_err() {
        return Err(
            Error::usage("a passphrase is needed and there is no terminal to ask on").with_hint(
                format!("pass --passphrase-file FILE or set {PASSPHRASE_ENV}"),
            ),
        );
    }
    let secret = keys::read_secret("Passphrase", confirm.then_some("Confirm passphrase"))
        .map_err(|e| Error::usage(format!("could not read a passphrase: {e}")))?;
    if secret.expose_secret().is_empty() {
        return Err(Error::usage("the passphrase is empty"));
    }
    Ok(secret)
}

/// Encrypt `input` to `output`; `armor` writes PEM-style text. Flushes.
pub fn encrypt<R: Read, W: Write>(
    mut input: R,
    output: W,
    key: &EncryptKey,
    armor: bool,
) -> Result<u64> {
    let encryptor = match key {
        EncryptKey::Recipients(rs) => {
            if rs.is_empty() {
                return Err(Error::usage("no recipients"));
            }
            Encryptor::with_recipients(rs.iter().map(|r| r.as_ref() as &dyn Recipient))
                .map_err(|e| Error::usage(e.to_string()))?
        }
        EncryptKey::Passphrase(p) => Encryptor::with_user_passphrase(p.clone()),
    };
    let format = if armor {
        ArmorFormat::AsciiArmor
    } else {
        ArmorFormat::Binary
    };
    let armored = ArmoredWriter::wrap_output(output, format).map_err(write_err)?;
    let mut w = encryptor.wrap_output(armored).map_err(write_err)?;
    let total = super::pump(&mut input, &mut w)?;
    let mut out = w.finish().and_then(|a| a.finish()).map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(total)
}

fn decrypt_error(e: DecryptError) -> Error {
    match e {
        DecryptError::NoMatchingKeys => {
            Error::integrity("no identity matches this file: wrong key or wrong passphrase")
        }
        DecryptError::DecryptionFailed | DecryptError::KeyDecryptionFailed => {
            Error::integrity("the file key could not be decrypted: wrong passphrase or key")
        }
        DecryptError::InvalidMac => {
            Error::integrity("the age header was modified: its MAC does not verify")
        }
        DecryptError::InvalidHeader | DecryptError::UnknownFormat => {
            Error::integrity("the input is not an age file (its header does not parse)")
        }
        DecryptError::ExcessiveWork { required, target } => Error::runtime(format!(
            "the passphrase work factor 2^{required} is beyond this machine's limit 2^{target}"
        )),
        DecryptError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Error::integrity("the input ends inside the age header")
        }
        DecryptError::Io(e) if e.kind() == io::ErrorKind::InvalidData => {
            Error::integrity(format!("the input is not an age file: {e}"))
        }
        DecryptError::Io(e) => read_err(e),
        #[allow(unreachable_patterns)]
        other => Error::runtime(other.to_string()),
    }
}

/// Decrypt `input` (binary or armored) to `output`. Only authenticated
/// plaintext is written, and the last 64 KiB only after the final chunk
/// authenticated. Flushes.
pub fn decrypt<R: Read, W: Write>(input: R, output: W, key: &DecryptKey) -> Result<u64> {
    let mut input = BufReader::with_capacity(BLOCK, input);
    let head = input.fill_buf().map_err(read_err)?;
    if head.is_empty() {
        return Err(Error::integrity("the input is empty, not an age file"));
    }
    let text = head.trim_ascii_start();
    let looks_like = |magic: &[u8]| {
        let n = magic.len().min(text.len());
        !text.is_empty() && text[..n] == magic[..n]
    };
    if !looks_like(b"age-encryption.org/") && !looks_like(b"-----BEGIN AGE ENCRYPTED FILE-----") {
        return Err(Error::integrity(
            "the input is not an age file (it does not begin with an age header or armor line)",
        ));
    }
    // Binary input goes to the decryptor directly: the armor reader's
    // per-read checks cost a tenth of the time for nothing.
    let input: Box<dyn BufRead + '_> = if looks_like(b"age-encryption.org/") {
        Box::new(input)
    } else {
        Box::new(BufReader::with_capacity(BLOCK, ArmoredReader::new(input)))
    };
    let decryptor = Decryptor::new_buffered(input).map_err(decrypt_error)?;
    let scrypt;
    let ids: Vec<&dyn Identity> = match key {
        DecryptKey::Identities(ids) => {
            if decryptor.is_scrypt() {
                return Err(Error::usage(
                    "this file is encrypted with a passphrase, not to a recipient",
                )
                .with_hint(format!(
                    "pass --passphrase with --passphrase-file FILE or {PASSPHRASE_ENV}"
                )));
            }
            ids.iter().map(|i| i.as_ref()).collect()
        }
        DecryptKey::Passphrase(p) => {
            if !decryptor.is_scrypt() {
                return Err(Error::usage(
                    "this file is encrypted to recipients, not with a passphrase",
                )
                .with_hint("pass -i IDENTITY_FILE"));
            }
            scrypt = age::scrypt::Identity::new(p.clone());
            vec![&scrypt as &dyn Identity]
        }
    };
    let mut reader = decryptor.decrypt(ids.into_iter()).map_err(decrypt_error)?;
    let mut hb = Holdback::new(output);
    let mut buf = vec![0u8; BLOCK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ) =>
            {
                let at = hb.total();
                return Err(Error::integrity(format!(
                    "age payload chunk {} (plaintext byte {at}) failed: {}; \
                     the stream is truncated or modified; the last {} bytes were withheld",
                    at / (64 * 1024) + 1,
                    crate::error::io_message(&e),
                    hb.held().len()
                )));
            }
            Err(e) => return Err(read_err(e)),
        };
        hb.write_all(&buf[..n]).map_err(write_err)?;
    }
    let total = hb.total();
    let mut w = hb.release().map_err(write_err)?;
    w.flush().map_err(write_err)?;
    Ok(total)
}

/// A new X25519 identity as `age-keygen` writes it, and its public key.
pub fn keygen() -> (String, String) {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text = format!(
        "# created: {}\n# public key: {public}\n{}\n",
        rfc3339(secs),
        id.to_string().expose_secret()
    );
    (text, public)
}

/// Write a new identity to `path` (mode 0600, never overwriting). Returns
/// the public key.
pub fn keygen_to_file(path: &Path) -> Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let (text, public) = keygen();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                Error::usage(format!(
                    "{} exists; refusing to overwrite it",
                    path.display()
                ))
            } else {
                Error::io(format!("cannot create {}", path.display()), e)
            }
        })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    Ok(public)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn round_trip_and_truncation() {
        let (text, public) = keygen();
        let ids = age::IdentityFile::from_buffer(text.as_bytes())
            .unwrap()
            .into_identities()
            .unwrap();
        let rcpt: Box<dyn Recipient + Send> =
            Box::new(public.parse::<age::x25519::Recipient>().unwrap());
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 97) as u8).collect();
        let mut c = Vec::new();
        encrypt(
            &data[..],
            &mut c,
            &EncryptKey::Recipients(vec![rcpt]),
            false,
        )
        .unwrap();
        let key = DecryptKey::Identities(ids);
        let mut d = Vec::new();
        decrypt(&c[..], &mut d, &key).unwrap();
        assert_eq!(d, data);
        let mut d = Vec::new();
        let err = decrypt(&c[..c.len() - 100], &mut d, &key).unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(d.len() + 65536 <= data.len());
        assert_eq!(d, data[..d.len()]);
    }
}
