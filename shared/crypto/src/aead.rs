//! AES-256-GCM on a reusable OpenSSL context: the key schedule is set up once, each message only
//! sets a fresh nonce. Everything that encrypts in this crate goes through here.

use openssl::cipher::Cipher;
use openssl::cipher_ctx::CipherCtx;

use crate::{CryptoError, Key256, TAG_LEN};

pub(crate) const NONCE_LEN: usize = 12;

pub(crate) struct Aead {
    ctx: CipherCtx,
}

impl Aead {
    /// A context that seals (encrypts and tags).
    pub(crate) fn sealer(key: &Key256) -> Result<Self, CryptoError> {
        let mut ctx = CipherCtx::new()?;
        ctx.encrypt_init(Some(Cipher::aes_256_gcm()), Some(key.as_bytes()), None)?;
        Ok(Aead { ctx })
    }

    /// A context that opens (verifies and decrypts).
    pub(crate) fn opener(key: &Key256) -> Result<Self, CryptoError> {
        let mut ctx = CipherCtx::new()?;
        ctx.decrypt_init(Some(Cipher::aes_256_gcm()), Some(key.as_bytes()), None)?;
        Ok(Aead { ctx })
    }

    /// Writes `ciphertext || tag` of `plain` to `out`, which must be exactly `plain.len() + TAG_LEN` long.
    pub(crate) fn seal(
        &mut self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plain: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        if out.len() != plain.len() + TAG_LEN {
            return Err(CryptoError::malformed(
                "seal output buffer has the wrong size",
            ));
        }
        let (body, tag) = out.split_at_mut(plain.len());
        self.ctx.encrypt_init(None, None, Some(nonce))?;
        self.ctx.cipher_update(aad, None)?;
        if !plain.is_empty() {
            self.ctx.cipher_update(plain, Some(body))?;
        }
        // GCM is a stream mode: finalising produces no bytes, only the tag.
        self.ctx.cipher_final(&mut [])?;
        self.ctx.tag(tag)?;
        Ok(())
    }

    /// Verifies `sealed = ciphertext || tag` and writes the plaintext to `out` (exactly
    /// `sealed.len() - TAG_LEN` long). On `Authentication` failure `out` holds unverified bytes:
    /// callers must discard it.
    pub(crate) fn open(
        &mut self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let body_len = sealed
            .len()
            .checked_sub(TAG_LEN)
            .ok_or_else(|| CryptoError::malformed("sealed data shorter than its tag"))?;
        if out.len() != body_len {
            return Err(CryptoError::malformed(
                "open output buffer has the wrong size",
            ));
        }
        let (body, tag) = sealed.split_at(body_len);
        self.ctx.decrypt_init(None, None, Some(nonce))?;
        self.ctx.set_tag(tag)?;
        self.ctx.cipher_update(aad, None)?;
        if !body.is_empty() {
            self.ctx.cipher_update(body, Some(out))?;
        }
        self.ctx
            .cipher_final(&mut [])
            .map_err(|_| CryptoError::Authentication)?;
        Ok(())
    }
}
