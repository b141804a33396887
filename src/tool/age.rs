//! `pgpipe-age`: age encryption in the pipe; decryption releases only
//! authenticated plaintext and withholds the last 64 KiB until the end verifies.

use clap::Parser;
use std::path::PathBuf;

use crate::cli::{self, IoArgs, Output};
use crate::codec::age::{self, DecryptKey, EncryptKey};
use crate::error::{Error, Result};

/// Encrypt to age recipients or a passphrase; decrypt (-d) fail-closed; --keygen.
#[derive(Parser)]
#[command(name = "pgpipe-age", version)]
pub struct Args {
    #[command(flatten)]
    io: IoArgs,
    /// Decrypt.
    #[arg(short = 'd', long = "decrypt")]
    decrypt: bool,
    /// Encrypt to RECIPIENT (age1…, ssh-ed25519 …, ssh-rsa …); repeatable.
    #[arg(short = 'r', long = "recipient", value_name = "RECIPIENT")]
    recipient: Vec<String>,
    /// Encrypt to the recipients listed in FILE; repeatable.
    #[arg(short = 'R', long = "recipients-file", value_name = "FILE")]
    recipients_file: Vec<String>,
    /// Decrypt with the identity file FILE (age or unencrypted ssh key); repeatable.
    #[arg(short = 'i', long = "identity", value_name = "FILE")]
    identity: Vec<String>,
    /// Use a passphrase (scrypt): from --passphrase-file, PGPIPE_PASSPHRASE, or the terminal.
    #[arg(short = 'p', long = "passphrase")]
    passphrase: bool,
    /// Read the passphrase from FILE (first line).
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Write PEM-style armored text.
    #[arg(short = 'a', long = "armor")]
    armor: bool,
    /// Write binary ciphertext to a terminal anyway.
    #[arg(short = 'f', long)]
    force: bool,
    /// Write a new identity (to -o FILE, mode 0600, never overwriting) and print its public key.
    #[arg(long, conflicts_with_all = ["decrypt", "recipient", "recipients_file", "identity", "passphrase"])]
    keygen: bool,
}

/// The tool's entry point: `argv` as the program got it, its name first.
pub fn main(argv: Vec<std::ffi::OsString>) -> ! {
    cli::main::<Args>("pgpipe-age", argv, run)
}

fn run(args: &Args) -> Result<()> {
    if args.keygen {
        return keygen(args);
    }
    let stdin = cli::is_stdio(args.io.input.as_deref());
    let use_pass = args.passphrase || args.passphrase_file.is_some();
    if args.decrypt {
        let key = if use_pass {
            DecryptKey::Passphrase(age::read_passphrase(
                args.passphrase_file.as_deref(),
                false,
            )?)
        } else if args.identity.is_empty() {
            return Err(Error::usage("-d needs -i IDENTITY_FILE or --passphrase"));
        } else {
            let (ids, warnings) = age::load_identities(args.identity.clone(), stdin)?;
            warnings.iter().for_each(|w| cli::warn("pgpipe-age", w));
            DecryptKey::Identities(ids)
        };
        let input = cli::open_input(args.io.input.as_deref())?;
        let progress = cli::Progress::new(args.io.progress.enabled(), input.len);
        let mut out = Output::create(args.io.output.as_deref())?;
        age::decrypt(progress.reader(input), &mut out, &key)?;
        progress.finish();
        return out.commit();
    }
    let key = match (
        use_pass,
        args.recipient.is_empty() && args.recipients_file.is_empty(),
    ) {
        (true, true) => {
            EncryptKey::Passphrase(age::read_passphrase(args.passphrase_file.as_deref(), true)?)
        }
        (false, false) => EncryptKey::Recipients(age::load_recipients(
            args.recipient.clone(),
            args.recipients_file.clone(),
            stdin,
        )?),
        (true, false) => {
            return Err(Error::usage(
                "use either recipients or a passphrase, not both",
            ));
        }
        (false, true) => {
            return Err(Error::usage("nothing to encrypt to")
                .with_hint("pass -r RECIPIENT, -R FILE or --passphrase"));
        }
    };
    let input = cli::open_input(args.io.input.as_deref())?;
    let progress = cli::Progress::new(args.io.progress.enabled(), input.len);
    let mut out = Output::create(args.io.output.as_deref())?;
    if !args.armor && !args.force {
        out.refuse_terminal(
            "binary ciphertext",
            "redirect the output, use -o FILE, --armor, or --force",
        )?;
    }
    age::encrypt(progress.reader(input), &mut out, &key, args.armor)?;
    progress.finish();
    out.commit()
}

fn keygen(args: &Args) -> Result<()> {
    match &args.io.output {
        Some(path) if !cli::is_stdio(Some(path)) => {
            println!("{}", age::keygen_to_file(path)?);
        }
        _ => {
            let (text, public) = age::keygen();
            print!("{text}");
            eprintln!("Public key: {public}");
        }
    }
    Ok(())
}
