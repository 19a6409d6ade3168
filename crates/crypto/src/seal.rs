//! SM2 signatures of electronic seals (电子印章, GB/T 38540; SM2 with SM3, GB/T 32918):
//! signing keys, published public keys and a fast verifier.
//!
//! A seal signs with [`SealKey`]; anyone verifies with its [`SealPublicKey`], which exports the
//! SubjectPublicKeyInfo PEM that OpenSSL 3 reads
//! (`openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678`).
//! Signatures leave as DER (`SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER }`, what OpenSSL
//! writes and reads); both DER and the raw 64-byte `r ‖ s` are accepted on input.
//!
//! [`FastVerifier`] is the verification engine for licences: seal keys are few and verified
//! often, so each key gets a table of its multiples once (32 windows of 8 bits: every `[t]P` is
//! at most 32 mixed additions, no doublings), and the generator has one such table for the
//! process. Verification works on public data only, so the variable-time lookups leak nothing.
//! The RustCrypto `sm2` crate signs (deterministic nonces) and is the reference the tests hold
//! the fast path to.

use std::sync::LazyLock;

use sm2::dsa::signature::{Signer, Verifier};
use sm2::elliptic_curve::ff::PrimeField;
use sm2::elliptic_curve::ops::Reduce;
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::elliptic_curve::sec1::ToSec1Point;
use sm2::elliptic_curve::{BatchNormalize, Group};
use sm2::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};
use sm2::{AffinePoint, FieldBytes, ProjectivePoint, PublicKey, Scalar};
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

use crate::CryptoError;

/// The SM2 user ID of GB/T 35276 used when nothing else is configured.
pub const DEFAULT_DISTID: &str = "1234567812345678";

/// The longest distinguishing ID SM2 can hash (its length in bits is two bytes).
const MAX_DISTID: usize = 8191;

/// A seal's private key, with the distinguishing ID its signatures bind.
pub struct SealKey {
    inner: sm2::dsa::SigningKey,
    public: SealPublicKey,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKey")
            .field("public", &self.public.to_hex())
            .finish_non_exhaustive()
    }
}

impl SealKey {
    /// A new key from the operating system's randomness.
    pub fn generate(distid: &str) -> Result<SealKey, CryptoError> {
        check_distid(distid)?;
        // A random 256-bit string is a valid scalar in all but a negligible share of cases;
        // draw again in that case.
        for _ in 0..8 {
            let secret = Zeroizing::new(crate::random::try_random_bytes::<32>()?);
            if let Ok(key) = SealKey::from_secret(distid, &secret[..]) {
                return Ok(key);
            }
        }
        Err(CryptoError::Internal("no valid SM2 key drawn"))
    }

    /// The key of a 32-byte secret scalar.
    pub fn from_secret(distid: &str, secret: &[u8]) -> Result<SealKey, CryptoError> {
        check_distid(distid)?;
        let inner = sm2::dsa::SigningKey::from_slice(distid, secret)
            .map_err(|_| CryptoError::InvalidKey("not an SM2 private key".into()))?;
        let public = SealPublicKey::from_affine(distid, *inner.verifying_key().as_affine())?;
        Ok(SealKey { inner, public })
    }

    /// The key of a secret written as 64 hexadecimal digits (as [`SealKey::secret_hex`] gives it).
    pub fn from_secret_hex(distid: &str, hex_secret: &str) -> Result<SealKey, CryptoError> {
        let secret = Zeroizing::new(
            hex::decode(hex_secret.trim())
                .map_err(|_| CryptoError::InvalidKey("the secret is not hexadecimal".into()))?,
        );
        SealKey::from_secret(distid, &secret)
    }

    /// The secret scalar as 64 hexadecimal digits, for encryption at rest.
    pub fn secret_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.inner.to_bytes()))
    }

    /// The public half.
    pub fn public_key(&self) -> &SealPublicKey {
        &self.public
    }

    /// Signs `message` (SM3 over Z ‖ message); the signature is DER.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let sig: sm2::dsa::Signature = self.inner.sign(message);
        sig.to_der().to_vec()
    }
}

/// A seal's public key with its distinguishing ID and the SM2 hash `Z` of both.
#[derive(Clone)]
pub struct SealPublicKey {
    point: AffinePoint,
    distid: String,
    z: [u8; 32],
}

impl std::fmt::Debug for SealPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealPublicKey")
            .field("key", &self.to_hex())
            .field("distid", &self.distid)
            .finish()
    }
}

impl PartialEq for SealPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.point == other.point && self.distid == other.distid
    }
}

impl SealPublicKey {
    fn from_affine(distid: &str, point: AffinePoint) -> Result<SealPublicKey, CryptoError> {
        check_distid(distid)?;
        if bool::from(point.is_identity()) {
            return Err(CryptoError::InvalidKey("the point at infinity".into()));
        }
        let z = hash_z(distid, &point);
        Ok(SealPublicKey {
            point,
            distid: distid.to_owned(),
            z,
        })
    }

    /// A key from its SEC1 encoding (`04 ‖ x ‖ y`, or compressed), as hexadecimal.
    pub fn from_hex(distid: &str, hex_key: &str) -> Result<SealPublicKey, CryptoError> {
        let bytes = hex::decode(hex_key.trim())
            .map_err(|_| CryptoError::InvalidKey("the public key is not hexadecimal".into()))?;
        let key = PublicKey::from_sec1_bytes(&bytes)
            .map_err(|_| CryptoError::InvalidKey("not a point of the SM2 curve".into()))?;
        SealPublicKey::from_affine(distid, *key.as_affine())
    }

    /// A key from a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`), as OpenSSL writes it.
    pub fn from_pem(distid: &str, pem: &str) -> Result<SealPublicKey, CryptoError> {
        let key = PublicKey::from_public_key_pem(pem.trim())
            .map_err(|_| CryptoError::InvalidKey("not an SM2 public key PEM".into()))?;
        SealPublicKey::from_affine(distid, *key.as_affine())
    }

    /// The uncompressed SEC1 encoding as 130 hexadecimal digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.point.to_sec1_point(false).as_bytes())
    }

    /// The SubjectPublicKeyInfo PEM (id-ecPublicKey on curve 1.2.156.10197.1.301).
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        PublicKey::from_affine(self.point)
            .map_err(|_| CryptoError::Internal("public key"))?
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| CryptoError::Internal("public key PEM"))
    }

    /// The distinguishing ID signatures are bound to.
    pub fn distid(&self) -> &str {
        &self.distid
    }

    /// Verifies with the reference implementation (the `sm2` crate): no tables, slower; for
    /// keys seen once. [`FastVerifier`] gives the same answers.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let key = sm2::dsa::VerifyingKey::from_affine(&self.distid, self.point)
            .map_err(|_| CryptoError::InvalidKey("public key".into()))?;
        key.verify(message, &parse_signature(signature)?)
            .map_err(|_| CryptoError::BadSignature)
    }

    /// `e = SM3(Z ‖ message)` reduced modulo the group order.
    fn digest_scalar(&self, message: &[u8]) -> Scalar {
        let mut h = Sm3::new();
        h.update(self.z);
        h.update(message);
        let e: [u8; 32] = h.finalize().into();
        <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(e))
    }
}

/// A public key with its precomputed multiples: verification in about 64 mixed additions.
pub struct FastVerifier {
    key: SealPublicKey,
    table: CombTable,
}

impl std::fmt::Debug for FastVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastVerifier")
            .field("key", &self.key)
            .finish()
    }
}

impl FastVerifier {
    /// Builds the key's table (about 8,000 point additions and one batched inversion: a few
    /// milliseconds, once per key).
    pub fn new(key: SealPublicKey) -> FastVerifier {
        let table = CombTable::new(ProjectivePoint::from(key.point));
        FastVerifier { key, table }
    }

    /// The key this verifier checks.
    pub fn key(&self) -> &SealPublicKey {
        &self.key
    }

    /// Verifies a DER or raw `r ‖ s` signature over `message` (GB/T 32918.2 §7, steps B1–B7).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        // B1, B2: r and s in [1, n-1] (a parsed signature holds non-zero scalars below n).
        let (r, s) = parse_signature(signature)?.split_scalars();
        // B3, B4
        let e = self.key.digest_scalar(message);
        // B5
        let t = *r + *s;
        if bool::from(t.is_zero()) {
            return Err(CryptoError::BadSignature);
        }
        // B6: (x1, y1) = [s]G + [t]P, never the point at infinity.
        let point = GENERATOR.mul(&s) + self.table.mul(&t);
        if bool::from(point.is_identity()) {
            return Err(CryptoError::BadSignature);
        }
        let x = point.to_affine().x();
        // B7
        if *r == e + <Scalar as Reduce<FieldBytes>>::reduce(&x) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }
}

/// The generator's table, built on first use.
static GENERATOR: LazyLock<CombTable> =
    LazyLock::new(|| CombTable::new(ProjectivePoint::GENERATOR));

/// `rows[i][b - 1] = b · 256^i · P` for every byte `b` ≠ 0 and window `i` (0 = least significant).
struct CombTable {
    rows: Box<[AffinePoint]>,
}

const WINDOWS: usize = 32;
const ROW: usize = 255;

impl CombTable {
    fn new(point: ProjectivePoint) -> CombTable {
        let mut projective = Vec::with_capacity(WINDOWS * ROW);
        let mut base = point;
        for _ in 0..WINDOWS {
            let mut acc = base;
            projective.push(acc);
            for _ in 1..ROW {
                acc += base;
                projective.push(acc);
            }
            // 256 · base for the next window.
            base = acc + base;
        }
        let rows = <ProjectivePoint as BatchNormalize<[ProjectivePoint]>>::batch_normalize(
            projective.as_slice(),
        );
        CombTable {
            rows: rows.into_boxed_slice(),
        }
    }

    /// `k · P`, one mixed addition per non-zero byte of `k`.
    fn mul(&self, k: &Scalar) -> ProjectivePoint {
        let bytes = k.to_repr(); // big-endian
        let mut acc = ProjectivePoint::IDENTITY;
        for (window, byte) in bytes.iter().rev().enumerate() {
            if *byte != 0 {
                acc += &self.rows[window * ROW + usize::from(*byte) - 1];
            }
        }
        acc
    }
}

/// Parses a DER `SEQUENCE { r, s }` or a raw 64-byte `r ‖ s`; both scalars must lie in [1, n-1].
fn parse_signature(bytes: &[u8]) -> Result<sm2::dsa::Signature, CryptoError> {
    let parsed = if bytes.len() == 64 {
        sm2::dsa::Signature::from_slice(bytes)
    } else {
        sm2::dsa::Signature::from_der(bytes)
    };
    parsed.map_err(|_| CryptoError::Malformed("not an SM2 signature (DER or r‖s)"))
}

fn check_distid(distid: &str) -> Result<(), CryptoError> {
    if distid.is_empty() || distid.len() > MAX_DISTID {
        return Err(CryptoError::InvalidKey(
            "the SM2 distinguishing ID must have 1 to 8191 bytes".into(),
        ));
    }
    Ok(())
}

/// `Z = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)` (GB/T 32918.2 §5.5).
fn hash_z(distid: &str, point: &AffinePoint) -> [u8; 32] {
    const A: &str = "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC";
    const B: &str = "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93";
    const XG: &str = "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7";
    const YG: &str = "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";
    let bits = u16::try_from(distid.len() * 8).unwrap_or(u16::MAX);
    let mut h = Sm3::new();
    h.update(bits.to_be_bytes());
    h.update(distid.as_bytes());
    for constant in [A, B, XG, YG] {
        h.update(hex::decode(constant).unwrap_or_default());
    }
    let encoded = point.to_sec1_point(false);
    h.update(&encoded.as_bytes()[1..]);
    h.finalize().into()
}
