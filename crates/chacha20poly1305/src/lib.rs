//! ChaCha20-Poly1305 (RFC 8439) behind the `aead` 0.5 traits, computed by
//! ring.
//!
//! age and age-core name `chacha20poly1305::ChaCha20Poly1305` and use it
//! through `KeyInit::new` and the `Aead` methods that `aead` derives from
//! [`AeadInPlace`]. This crate provides that type, so the age crate keeps
//! doing all of age's format and key handling while the cipher itself runs on
//! ring's vectorised implementation. Only the 96-bit-nonce construction is
//! offered: it is the only one age uses.
#![forbid(unsafe_code)]

pub use aead::{self, consts, AeadCore, AeadInPlace, Error, KeyInit, KeySizeUser};

use aead::consts::{U0, U12, U16, U32};
use aead::generic_array::GenericArray;
use ring::aead as ring_aead;

/// A ChaCha20-Poly1305 key.
pub type Key = GenericArray<u8, U32>;
/// A ChaCha20-Poly1305 nonce.
pub type Nonce = GenericArray<u8, U12>;
/// A Poly1305 tag.
pub type Tag = GenericArray<u8, U16>;

const TAG_LEN: usize = 16;

/// The ChaCha20-Poly1305 AEAD with a 96-bit nonce.
pub struct ChaCha20Poly1305 {
    key: ring_aead::LessSafeKey,
    // ring's key cannot be copied out again, so `Clone` rebuilds from this.
    raw: Key,
}

impl ChaCha20Poly1305 {
    fn nonce(nonce: &Nonce) -> ring_aead::Nonce {
        ring_aead::Nonce::assume_unique_for_key((*nonce).into())
    }
}

impl KeySizeUser for ChaCha20Poly1305 {
    type KeySize = U32;
}

impl KeyInit for ChaCha20Poly1305 {
    fn new(key: &Key) -> Self {
        let unbound = ring_aead::UnboundKey::new(&ring_aead::CHACHA20_POLY1305, key.as_slice())
            .expect("a 32-byte ChaCha20-Poly1305 key is always accepted");
        ChaCha20Poly1305 {
            key: ring_aead::LessSafeKey::new(unbound),
            raw: *key,
        }
    }
}

impl Clone for ChaCha20Poly1305 {
    fn clone(&self) -> Self {
        <Self as KeyInit>::new(&self.raw)
    }
}

impl Drop for ChaCha20Poly1305 {
    fn drop(&mut self) {
        // Clear our copy of the key; ring's own copy is its to manage.
        for b in self.raw.iter_mut() {
            *b = 0;
        }
        std::hint::black_box(&self.raw);
    }
}

impl AeadCore for ChaCha20Poly1305 {
    type NonceSize = U12;
    type TagSize = U16;
    type CiphertextOverhead = U0;
}

impl AeadInPlace for ChaCha20Poly1305 {
    fn encrypt_in_place_detached(
        &self,
        nonce: &Nonce,
        associated_data: &[u8],
        buffer: &mut [u8],
    ) -> aead::Result<Tag> {
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Self::nonce(nonce),
                ring_aead::Aad::from(associated_data),
                buffer,
            )
            .map_err(|_| Error)?;
        Ok(GenericArray::clone_from_slice(tag.as_ref()))
    }

    /// Ciphertext and tag lie together in `buffer` here, which is what ring
    /// opens in place, so this (the path `Aead::decrypt` takes) copies nothing.
    fn decrypt_in_place(
        &self,
        nonce: &Nonce,
        associated_data: &[u8],
        buffer: &mut dyn aead::Buffer,
    ) -> aead::Result<()> {
        if buffer.len() < TAG_LEN {
            return Err(Error);
        }
        let len = self
            .key
            .open_in_place(
                Self::nonce(nonce),
                ring_aead::Aad::from(associated_data),
                buffer.as_mut(),
            )
            .map_err(|_| Error)?
            .len();
        buffer.truncate(len);
        Ok(())
    }

    fn decrypt_in_place_detached(
        &self,
        nonce: &Nonce,
        associated_data: &[u8],
        buffer: &mut [u8],
        tag: &Tag,
    ) -> aead::Result<()> {
        // ring opens ciphertext and tag from one buffer; age never takes
        // this path, so a copy is fine.
        let mut sealed = Vec::with_capacity(buffer.len() + TAG_LEN);
        sealed.extend_from_slice(buffer);
        sealed.extend_from_slice(tag);
        let plain = self
            .key
            .open_in_place(
                Self::nonce(nonce),
                ring_aead::Aad::from(associated_data),
                &mut sealed,
            )
            .map_err(|_| Error)?;
        buffer.copy_from_slice(plain);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aead::{Aead, Payload};

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // RFC 8439, section 2.8.2.
    const KEY: &str = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
    const NONCE: &str = "070000004041424344454647";
    const AAD: &str = "50515253c0c1c2c3c4c5c6c7";
    const PLAIN: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
    const CIPHER: &str = "d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6
        3dbea45e8ca9671282fafb69da92728b 1a71de0a9e060b2905d6a5b67ecd3b36
        92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc
        3ff4def08e4b7a9de576d26586cec64b 6116";
    const TAG: &str = "1ae10b594f09e26a7e902ecbd0600691";

    fn cipher() -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(Key::from_slice(&hex(KEY)))
    }

    #[test]
    fn seals_the_rfc_8439_vector() {
        let out = cipher()
            .encrypt(
                Nonce::from_slice(&hex(NONCE)),
                Payload {
                    msg: PLAIN,
                    aad: &hex(AAD),
                },
            )
            .unwrap();
        let mut want = hex(CIPHER);
        want.extend(hex(TAG));
        assert_eq!(out, want);
    }

    #[test]
    fn opens_the_rfc_8439_vector_and_rejects_any_flipped_bit() {
        let mut sealed = hex(CIPHER);
        sealed.extend(hex(TAG));
        let nonce = hex(NONCE);
        let aad = hex(AAD);
        let open = |msg: &[u8], aad: &[u8]| {
            cipher().decrypt(Nonce::from_slice(&nonce), Payload { msg, aad })
        };
        assert_eq!(open(&sealed, &aad).unwrap(), PLAIN);
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(open(&bad, &aad), Err(Error), "byte {i}");
        }
        let mut bad_aad = aad.clone();
        bad_aad[0] ^= 0x80;
        assert_eq!(open(&sealed, &bad_aad), Err(Error));
        assert_eq!(open(&sealed[..TAG_LEN - 1], &aad), Err(Error));
        assert_eq!(open(&sealed[..TAG_LEN], &aad), Err(Error));
    }

    #[test]
    fn detached_and_cloned_agree_with_the_vector() {
        let c = cipher().clone();
        let nonce = Nonce::clone_from_slice(&hex(NONCE));
        let mut buf = PLAIN.to_vec();
        let tag = c
            .encrypt_in_place_detached(&nonce, &hex(AAD), &mut buf)
            .unwrap();
        assert_eq!(buf, hex(CIPHER));
        assert_eq!(tag.to_vec(), hex(TAG));
        c.decrypt_in_place_detached(&nonce, &hex(AAD), &mut buf, &tag)
            .unwrap();
        assert_eq!(buf, PLAIN);
        let mut bad = Tag::clone_from_slice(&hex(TAG));
        bad[15] ^= 1;
        let mut buf = hex(CIPHER);
        assert_eq!(
            c.decrypt_in_place_detached(&nonce, &hex(AAD), &mut buf, &bad),
            Err(Error)
        );
    }

    #[test]
    fn empty_message_round_trips() {
        let c = cipher();
        let nonce = Nonce::default();
        let sealed = c.encrypt(&nonce, &b""[..]).unwrap();
        assert_eq!(sealed.len(), TAG_LEN);
        assert_eq!(c.decrypt(&nonce, &sealed[..]).unwrap(), b"");
    }
}
