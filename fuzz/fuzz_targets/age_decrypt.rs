//! Any bytes into the age decryptor with a fixed identity: an error or a
//! result, never a panic; a failure is always an integrity failure (exit 3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgpipe::codec::age::{self as pgage, DecryptKey};

/// A fixed identity, used for nothing but fuzzing: `scripts/fuzz` seeds the
/// corpus with files encrypted to [`PUBLIC`], so mutations reach the payload
/// stream and its authentication, not only the header.
const SECRET: &str = "AGE-SECRET-KEY-1PWYZ79GUCTMAR37QUTCUVMG6TUU8870KMNDNZ3PW59RCKSA5QWNSJFFTE3";
#[allow(dead_code)]
const PUBLIC: &str = "age1jmh0h7832v3kt0se54hjpf4zvzqlkqa7d5v396gfpuk96xtf9a6q9nxul9";

fn key() -> DecryptKey {
    let ids = age::IdentityFile::from_buffer(SECRET.as_bytes())
        .expect("the fixed identity parses")
        .into_identities()
        .expect("x25519 needs no plugin");
    DecryptKey::Identities(ids)
}

thread_local! {
    static KEY: DecryptKey = key();
}

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    KEY.with(|key| {
        if let Err(err) = pgage::decrypt(data, &mut out, key) {
            assert!(matches!(err.exit_code(), 1 | 2 | 3), "{err}");
        }
    });
});
