//! Any bytes into the age decryptor with a fixed identity: an error or a
//! result, never a panic; a failure is always an integrity failure (exit 3).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgpipe::codec::age::{self as pgage, DecryptKey};

fn key() -> DecryptKey {
    let (text, _) = pgage::keygen();
    let ids = age::IdentityFile::from_buffer(text.as_bytes())
        .expect("a fresh identity parses")
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
