//! The kernel crypto API transform an ESP SA runs on, and its key blob,
//! exactly as Linux's `esp_init_aead` / `esp_init_authenc` compose them:
//! an AEAD is wrapped in its IV generator (`seqiv(rfc4106(gcm(aes)))`);
//! a cipher plus an HMAC become `[geniv(]authenc(hmac(..),cbc(..))[)]`
//! keyed with an rtattr-framed `crypto_authenc_key_param` blob, or
//! `authencesn` for an SA with extended sequence numbers (which moves the
//! high half, given after the SPI, behind the payload for the HMAC).

use crate::logic::algs::AlgDesc;
use crate::seam::{AllocError, Vec};

/// Longest transform name rxfrm composes, NUL included.
pub const NAME_MAX: usize = 128;

/// `CRYPTO_AUTHENC_KEYA_PARAM` (include/crypto/authenc.h).
const AUTHENC_KEYA_PARAM: u16 = 1;

/// Why no transform can be composed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SuiteError {
    /// An algorithm has no kernel implementation, or an AEAD was paired
    /// with an authentication algorithm.
    Unsupported,
    /// The name would not fit [`NAME_MAX`].
    NameTooLong,
    /// Out of memory for the key.
    NoMem,
}

impl From<AllocError> for SuiteError {
    fn from(_: AllocError) -> Self {
        SuiteError::NoMem
    }
}

/// A transform name (NUL-terminated) and the key to set on it.
pub struct Suite {
    name: [u8; NAME_MAX],
    len: usize,
    /// Key blob for `crypto_aead_setkey`. Zeroize it after use.
    pub key: Vec<u8>,
}

impl Suite {
    /// The name without its NUL.
    pub fn name(&self) -> &str {
        self.name
            .get(..self.len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The name with its NUL, for the C API.
    pub fn name_nul(&self) -> &[u8] {
        self.name.get(..=self.len).unwrap_or(&[0])
    }
}

struct NameBuf {
    buf: [u8; NAME_MAX],
    len: usize,
}

impl core::fmt::Write for NameBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        // Keep one byte for the NUL.
        if end >= NAME_MAX {
            return Err(core::fmt::Error);
        }
        self.buf
            .get_mut(self.len..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Composes the transform for `enc` (+ `auth` unless `enc` is an AEAD)
/// with these keys (the AEAD's salt at the end of `enc_key`); `esn` for
/// 64-bit sequence numbers (AEADs take them as 12 bytes of associated
/// data as they are).
pub fn compose(
    enc: &AlgDesc,
    auth: Option<&AlgDesc>,
    enc_key: &[u8],
    auth_key: &[u8],
    esn: bool,
) -> Result<Suite, SuiteError> {
    use core::fmt::Write;
    let ecrypto = enc.crypto.ok_or(SuiteError::Unsupported)?;
    let mut n = NameBuf {
        buf: [0; NAME_MAX],
        len: 0,
    };
    let mut key = Vec::new();
    if enc.aead {
        if auth.is_some_and(|a| a.crypto != Some("digest_null")) {
            return Err(SuiteError::Unsupported);
        }
        let r = match enc.geniv {
            Some(g) => write!(n, "{g}({ecrypto})"),
            None => write!(n, "{ecrypto}"),
        };
        r.map_err(|_| SuiteError::NameTooLong)?;
        key.extend_from_slice(enc_key)?;
    } else {
        let acrypto = match auth {
            Some(a) => a.crypto.ok_or(SuiteError::Unsupported)?,
            None => "digest_null",
        };
        let ae = if esn { "authencesn" } else { "authenc" };
        let r = match enc.geniv {
            Some(g) => write!(n, "{g}({ae}({acrypto},{ecrypto}))"),
            None => write!(n, "{ae}({acrypto},{ecrypto})"),
        };
        r.map_err(|_| SuiteError::NameTooLong)?;
        // struct rtattr { u16 len; u16 type; } (host order) + __be32
        // enckeylen, then the authentication key, then the cipher key.
        let enclen = u32::try_from(enc_key.len()).map_err(|_| SuiteError::Unsupported)?;
        key.reserve(8 + auth_key.len() + enc_key.len())?;
        key.extend_from_slice(&8u16.to_ne_bytes())?;
        key.extend_from_slice(&AUTHENC_KEYA_PARAM.to_ne_bytes())?;
        key.extend_from_slice(&enclen.to_be_bytes())?;
        key.extend_from_slice(auth_key)?;
        key.extend_from_slice(enc_key)?;
    }
    Ok(Suite {
        name: n.buf,
        len: n.len,
        key,
    })
}

#[cfg(test)]
mod tests;
