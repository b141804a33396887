//! Recipients, identities and passphrases for `pgpipe-age`, read without the
//! age crate's command-line helpers. Those find `pinentry` through a lookup
//! of the home directory that links glibc's NSS (`getpwuid_r`), which a
//! static binary in a bare container cannot honour; here nothing is read but
//! the files named, standard input when `-` names it, and the terminal.

use std::io::{self, Read};

use age::secrecy::SecretString;
use age::{Identity, Recipient};

use super::Identities;
use crate::error::{Error, Result};

/// The largest key file read: identity and recipients files are a few
/// lines; anything bigger is not one.
const KEY_FILE_LIMIT: u64 = 1 << 20;

/// Standard input as a key file (`-`), at most once, and never when the
/// data comes from it.
pub struct StdinUse {
    data_from_stdin: bool,
    taken: bool,
}

impl StdinUse {
    /// `data_from_stdin`: the stream itself is read from standard input.
    pub fn new(data_from_stdin: bool) -> StdinUse {
        StdinUse {
            data_from_stdin,
            taken: false,
        }
    }

    /// The bytes of the key file `name` (`what` says which kind, for errors).
    fn read(&mut self, name: &str, what: &str) -> Result<Vec<u8>> {
        let mut bytes = Vec::new();
        let read = if name == "-" {
            if self.data_from_stdin || self.taken {
                return Err(Error::usage(format!(
                    "the {what} cannot come from standard input: {}",
                    if self.taken {
                        "another key file already does"
                    } else {
                        "the data does"
                    }
                )));
            }
            self.taken = true;
            io::stdin()
                .lock()
                .take(KEY_FILE_LIMIT + 1)
                .read_to_end(&mut bytes)
        } else {
            std::fs::File::open(name)
                .and_then(|f| f.take(KEY_FILE_LIMIT + 1).read_to_end(&mut bytes))
        };
        read.map_err(|e| {
            Error::usage(format!(
                "cannot read {what} {name}: {}",
                crate::error::io_message(&e)
            ))
        })?;
        if bytes.len() as u64 > KEY_FILE_LIMIT {
            return Err(Error::usage(format!(
                "{what} {name} is over 1 MiB: not a key file"
            )));
        }
        Ok(bytes)
    }
}

/// One recipient: `age1…` (X25519), `ssh-ed25519 …` or `ssh-rsa …`.
pub fn parse_recipient(text: &str) -> std::result::Result<Box<dyn Recipient + Send>, String> {
    use age::ssh::ParseRecipientKeyError as E;
    if let Ok(r) = text.parse::<age::x25519::Recipient>() {
        return Ok(Box::new(r));
    }
    match text.parse::<age::ssh::Recipient>() {
        Ok(r) => Ok(Box::new(r)),
        Err(E::Unsupported(kind)) => Err(format!("the ssh key type {kind} is not supported")),
        Err(E::RsaModulusTooSmall) => Err("the ssh-rsa key is shorter than 2048 bits".into()),
        Err(E::RsaModulusTooLarge) => Err("the ssh-rsa key is longer than supported".into()),
        Err(E::Ignore | E::Invalid(_)) => {
            Err("not a recipient (age1…, ssh-ed25519 … or ssh-rsa …)".into())
        }
    }
}

/// `-r` recipients and the recipients in `-R` files (one per line; blank
/// lines and lines starting with `#` are skipped).
pub fn read_recipients(
    recipients: &[String],
    files: &[String],
    stdin: &mut StdinUse,
) -> Result<Vec<Box<dyn Recipient + Send>>> {
    let mut out = Vec::new();
    for r in recipients {
        out.push(
            parse_recipient(r).map_err(|why| Error::usage(format!("recipient {r:?}: {why}")))?,
        );
    }
    for name in files {
        let bytes = stdin.read(name, "recipients file")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::usage(format!("recipients file {name} is not UTF-8 text")))?;
        let before = out.len();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // The line itself is not shown: it may be a secret pasted by mistake.
            let r = parse_recipient(line).map_err(|why| {
                Error::usage(format!("recipients file {name}, line {}: {why}", n + 1))
            })?;
            out.push(r);
        }
        if out.len() == before {
            return Err(Error::usage(format!(
                "recipients file {name} lists no recipient"
            )));
        }
    }
    Ok(out)
}

/// The identities in `-i` files: age identity files (`AGE-SECRET-KEY-1…`
/// lines) and unencrypted OpenSSH ed25519 or RSA private keys.
pub fn read_identities(files: &[String], stdin: &mut StdinUse) -> Result<Identities> {
    let mut out: Identities = Vec::new();
    for name in files {
        let bytes = stdin.read(name, "identity file")?;
        let start = bytes.trim_ascii_start();
        if start.starts_with(b"age-encryption.org/")
            || start.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
        {
            return Err(Error::usage(format!(
                "identity file {name} is itself encrypted with age"
            ))
            .with_hint("decrypt it to a file of mode 0600 first (age -d -o key.txt FILE) and pass that"));
        }
        if start.starts_with(b"-----BEGIN ") {
            out.push(ssh_identity(name, start)?);
            continue;
        }
        let file = age::IdentityFile::from_buffer(&bytes[..]).map_err(|e| {
            Error::usage(format!(
                "identity file {name}: {}",
                crate::error::io_message(&e)
            ))
        })?;
        let ids = file
            .into_identities()
            .map_err(|e| Error::usage(format!("identity file {name}: {e}")))?;
        if ids.is_empty() {
            return Err(Error::usage(format!(
                "identity file {name} holds no identity"
            )));
        }
        out.extend(ids);
    }
    Ok(out)
}

fn ssh_identity(name: &str, pem: &[u8]) -> Result<Box<dyn Identity>> {
    use age::ssh::Identity as Ssh;
    let id = Ssh::from_buffer(pem, Some(name.to_string())).map_err(|e| {
        Error::usage(format!(
            "identity file {name} is not an ssh private key age can use: {}",
            crate::error::io_message(&e)
        ))
    })?;
    match id {
        Ssh::Unencrypted(_) => Ok(Box::new(id)),
        Ssh::Encrypted(_) => Err(Error::usage(format!(
            "identity file {name} is a passphrase-protected ssh key"
        ))
        .with_hint("use an unencrypted copy of mode 0600 (ssh-keygen -p -N '' -f COPY)")),
        Ssh::Unsupported(_) => Err(Error::usage(format!(
            "identity file {name} is an ssh key of a kind age does not support (ed25519 and RSA are)"
        ))),
    }
}

/// Ask for a secret on the terminal (twice when `confirm` names the second
/// prompt). The prompt goes to the terminal, not to standard error.
pub fn read_secret(prompt: &str, confirm: Option<&str>) -> io::Result<SecretString> {
    let first = rpassword::prompt_password(format!("{prompt}: "))?;
    if let Some(again) = confirm {
        let second = rpassword::prompt_password(format!("{again}: "))?;
        if second != first {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the passphrases do not match",
            ));
        }
    }
    Ok(SecretString::from(first))
}
