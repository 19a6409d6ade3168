//! Field encryption of personal data at rest (ID numbers, phone numbers) with SM4-GCM, and
//! blind indexes for looking encrypted fields up by equality.
//!
//! A [`KeyRing`] holds one or more secrets, newest (current) first. From each 32-byte secret
//! HKDF-SM3 derives, under distinct labels, an SM4 key for SM4-GCM and an HMAC-SM3 key for blind
//! indexes. A sealed value is `"<key id>$<base64url(nonce ‖ ciphertext ‖ tag)>"`: a 96-bit random
//! nonce, the SM4-GCM ciphertext and a 128-bit tag. The associated data binds the ciphertext to
//! its key id and to the column (`field`) it was written for, so a value copied into another
//! column does not decrypt.
//!
//! Key rotation: put a new secret first in the spec; old values keep decrypting, [`KeyRing::needs_rewrap`]
//! finds the ones to re-encrypt, and [`KeyRing::blind_indexes`] gives one index per key so that
//! lookups find rows written under any key until the rewrap is done.

use std::fmt;

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{AeadInOut, KeyInit};
use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use sm3::Sm3;
use sm4::Sm4;
use zeroize::Zeroize;

use crate::CryptoError;
use crate::kdf::derive;
use crate::random::try_random_bytes;

/// SM4 in Galois/Counter Mode with a 96-bit nonce and a 128-bit tag (as in RFC 8998).
type Sm4Gcm = AesGcm<Sm4, U12>;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// Version tag of the associated data; a future format changes it.
const AAD_PREFIX: &[u8] = b"yiwang-pii/v1";

/// One key of the ring: its id and the keys derived from its secret.
#[derive(Clone)]
struct RingKey {
    id: String,
    cipher: Sm4Gcm,
    /// HMAC-SM3 already keyed with the blind-index key; cloned for each use.
    blind: Hmac<Sm3>,
    #[cfg(test)]
    enc_key: [u8; 16],
}

/// The field-encryption keys: the current key first, then older ones still accepted for reading.
///
/// `Debug` prints the key ids only.
#[derive(Clone)]
pub struct KeyRing {
    current: RingKey,
    older: Vec<RingKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Whether `id` is a valid key id: 1 to 16 characters of `[a-z0-9]`.
fn valid_key_id(id: &str) -> bool {
    (1..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl KeyRing {
    /// Parses `"k2:<64 hex>,k1:<64 hex>"`: comma-separated `id:secret`, the current key first.
    /// Ids are `[a-z0-9]{1,16}` and unique; a secret is 32 bytes in hex. Spaces around items are
    /// ignored. Error messages name the item's position, never the secret.
    pub fn parse(spec: &str) -> Result<KeyRing, CryptoError> {
        let mut keys: Vec<RingKey> = Vec::new();
        for (n, item) in spec.split(',').enumerate() {
            let item = item.trim();
            let Some((id, hex_secret)) = item.split_once(':') else {
                return Err(CryptoError::KeySpec(format!(
                    "item {} is not `id:secret`",
                    n + 1
                )));
            };
            let id = id.trim();
            if !valid_key_id(id) {
                return Err(CryptoError::KeySpec(format!(
                    "item {}: key id must be 1-16 characters of a-z, 0-9",
                    n + 1
                )));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(CryptoError::KeySpec(format!("key id `{id}` appears twice")));
            }
            let mut secret = [0u8; 32];
            if hex::decode_to_slice(hex_secret.trim(), &mut secret).is_err() {
                return Err(CryptoError::KeySpec(format!(
                    "key `{id}`: the secret must be 64 hex digits (32 bytes)"
                )));
            }
            keys.push(RingKey::new(id, &secret));
            secret.zeroize();
        }
        let mut keys = keys.into_iter();
        let current = keys
            .next()
            .ok_or_else(|| CryptoError::KeySpec("no key".to_owned()))?;
        Ok(KeyRing {
            current,
            older: keys.collect(),
        })
    }

    /// A new secret for a key ring: 32 random bytes from the OS, hex (64 characters).
    pub fn generate_secret_hex() -> String {
        hex::encode(crate::random::random_bytes::<32>())
    }

    /// The id of the current key (the one new values are encrypted and indexed with).
    pub fn current_id(&self) -> &str {
        &self.current().id
    }

    /// The ids of all keys, current first.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys().map(|k| k.id.as_str())
    }

    fn keys(&self) -> impl Iterator<Item = &RingKey> {
        std::iter::once(&self.current).chain(&self.older)
    }

    fn current(&self) -> &RingKey {
        &self.current
    }

    fn key(&self, id: &str) -> Option<&RingKey> {
        self.keys().find(|k| k.id == id)
    }

    /// Encrypts `plaintext` for the column `field` under the current key:
    /// `"<key id>$<base64url(nonce ‖ ciphertext ‖ tag)>"`.
    pub fn encrypt(&self, field: &str, plaintext: &str) -> Result<String, CryptoError> {
        let key = self.current();
        let nonce = try_random_bytes::<NONCE_LEN>()?;
        let mut buf = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(plaintext.as_bytes());
        let aad = associated_data(&key.id, field);
        let tag = key
            .cipher
            .encrypt_inout_detached((&nonce).into(), &aad, (&mut buf[NONCE_LEN..]).into())
            .map_err(|_| CryptoError::Internal("SM4-GCM refused to encrypt"))?;
        buf.extend_from_slice(&tag);
        let mut out = String::with_capacity(key.id.len() + 1 + buf.len() * 4 / 3 + 4);
        out.push_str(&key.id);
        out.push('$');
        out.push_str(&Base64UrlUnpadded::encode_string(&buf));
        Ok(out)
    }

    /// Decrypts a value sealed by [`KeyRing::encrypt`] for the same `field` under any key of the
    /// ring. Unknown key id, malformed text, tampering and a wrong field are errors.
    pub fn decrypt(&self, field: &str, sealed: &str) -> Result<String, CryptoError> {
        let (id, body) = split_sealed(sealed).ok_or(CryptoError::Malformed(
            "a sealed value is `<key id>$<base64url>`",
        ))?;
        let key = self
            .key(id)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let mut buf = Base64UrlUnpadded::decode_vec(body)
            .map_err(|_| CryptoError::Malformed("sealed value: bad base64url"))?;
        const TOO_SHORT: CryptoError = CryptoError::Malformed("sealed value: too short");
        let (nonce, rest) = buf.split_first_chunk_mut::<NONCE_LEN>().ok_or(TOO_SHORT)?;
        let (ct, tag) = rest.split_last_chunk_mut::<TAG_LEN>().ok_or(TOO_SHORT)?;
        let aad = associated_data(id, field);
        key.cipher
            .decrypt_inout_detached((&*nonce).into(), &aad, ct.into(), (&*tag).into())
            .map_err(|_| CryptoError::Authentication)?;
        let pt_len = ct.len();
        buf.copy_within(NONCE_LEN..NONCE_LEN + pt_len, 0);
        buf.truncate(pt_len);
        String::from_utf8(buf).map_err(|_| CryptoError::Malformed("plaintext is not UTF-8"))
    }

    /// The key id a sealed value names, without checking anything else.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        split_sealed(sealed).map(|(id, _)| id)
    }

    /// Whether a sealed value should be re-encrypted: it is not under the current key (or is
    /// not a sealed value at all).
    pub fn needs_rewrap(&self, sealed: &str) -> bool {
        Self::key_id_of(sealed) != Some(self.current_id())
    }

    /// Re-encrypts `sealed` under the current key when [`KeyRing::needs_rewrap`]; otherwise
    /// returns `None`.
    pub fn rewrap(&self, field: &str, sealed: &str) -> Result<Option<String>, CryptoError> {
        if !self.needs_rewrap(sealed) {
            return Ok(None);
        }
        let plain = self.decrypt(field, sealed)?;
        self.encrypt(field, &plain).map(Some)
    }

    /// The blind index of a normalized value for `field` under the current key: HMAC-SM3 with
    /// the key's blind-index key over `field ‖ 0x00 ‖ normalized`, hex (64 characters).
    ///
    /// The caller normalizes (e.g. upper-case the ID number's check character, strip spaces and
    /// `+86`), so that equal values give equal indexes.
    pub fn blind_index(&self, field: &str, normalized: &str) -> String {
        self.current().blind_index(field, normalized)
    }

    /// One blind index per key of the ring, current first: query `IN (...)` with them while a
    /// key rotation is under way.
    pub fn blind_indexes(&self, field: &str, normalized: &str) -> Vec<String> {
        self.keys()
            .map(|k| k.blind_index(field, normalized))
            .collect()
    }
}

impl RingKey {
    fn new(id: &str, secret: &[u8; 32]) -> RingKey {
        let mut enc = derive::<16>(secret, "pii/sm4-gcm");
        let mut bi = derive::<32>(secret, "pii/blind-index");
        let cipher = Sm4Gcm::new((&enc).into());
        let blind = crate::kdf::hmac_sm3(&bi);
        #[cfg(test)]
        let enc_key = enc;
        enc.zeroize();
        bi.zeroize();
        RingKey {
            id: id.to_owned(),
            cipher,
            blind,
            #[cfg(test)]
            enc_key,
        }
    }

    fn blind_index(&self, field: &str, normalized: &str) -> String {
        let mut mac = self.blind.clone();
        mac.update(field.as_bytes());
        mac.update(&[0]);
        mac.update(normalized.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// `"yiwang-pii/v1" ‖ 0x00 ‖ key id ‖ 0x00 ‖ field`: neither ids nor field names contain NUL
/// in practice, and the id cannot (it is `[a-z0-9]`), so the encoding is unambiguous.
fn associated_data(id: &str, field: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + id.len() + field.len() + 2);
    aad.extend_from_slice(AAD_PREFIX);
    aad.push(0);
    aad.extend_from_slice(id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(field.as_bytes());
    aad
}

fn split_sealed(sealed: &str) -> Option<(&str, &str)> {
    let (id, body) = sealed.split_once('$')?;
    valid_key_id(id).then_some((id, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    const SPEC: &str = "k2:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f,\
                        k1:ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    #[test]
    fn debug_shows_ids_not_secrets() {
        let ring = KeyRing::parse(SPEC).unwrap();
        let dbg = format!("{ring:?}");
        assert!(dbg.contains("k2") && dbg.contains("k1"), "{dbg}");
        assert!(!dbg.contains("0001020304"), "{dbg}");
        assert!(!dbg.contains("ffeeddcc"), "{dbg}");
    }

    /// GCM with a 96-bit nonce encrypts with CTR mode starting at the counter block
    /// `nonce ‖ 00000002` (NIST SP 800-38D). `openssl enc` refuses AEAD modes, so OpenSSL checks
    /// the CTR part of our SM4-GCM: the ciphertext without its tag must decrypt with
    /// `openssl enc -d -sm4-ctr` under the derived key. The GHASH tag is checked against the
    /// RFC 8998 SM4-GCM vector in `tests/sm4_interop.rs`.
    #[test]
    fn ciphertext_decrypts_with_openssl_sm4_ctr() {
        let ring = KeyRing::parse(SPEC).unwrap();
        let plain = "430102199001011234 张三 — a longer text spanning several SM4 blocks";
        let sealed = ring.encrypt("citizen.id_number", plain).unwrap();
        let raw = Base64UrlUnpadded::decode_vec(sealed.split_once('$').unwrap().1).unwrap();
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let ct = &rest[..rest.len() - TAG_LEN];
        let mut iv = nonce.to_vec();
        iv.extend_from_slice(&[0, 0, 0, 2]);
        let mut child = Command::new("openssl")
            .args(["enc", "-d", "-sm4-ctr", "-K"])
            .arg(hex::encode(ring.current().enc_key))
            .arg("-iv")
            .arg(hex::encode(&iv))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("openssl is installed");
        child.stdin.take().unwrap().write_all(ct).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), plain);
    }
}
