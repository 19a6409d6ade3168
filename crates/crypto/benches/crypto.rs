//! Criterion benchmark of `yiwang-crypto`: one operation per measurement, on one core.
//!
//! ```text
//! CARGO_TARGET_DIR=... cargo bench -p yiwang-crypto -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Figures are recorded in `crates/crypto/README.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use yiwang_crypto::{EcSigningKey, KeyRing, TokenKey, verify_es256};

fn pii(c: &mut Criterion) {
    let ring = KeyRing::parse(&format!(
        "k2:{},k1:{}",
        KeyRing::generate_secret_hex(),
        KeyRing::generate_secret_hex()
    ))
    .unwrap();
    let id = "430102199001011234";
    let sealed = ring.encrypt("citizen.id_number", id).unwrap();
    c.bench_function("pii encrypt (18-char ID number)", |b| {
        b.iter(|| {
            ring.encrypt(black_box("citizen.id_number"), black_box(id))
                .unwrap()
        })
    });
    c.bench_function("pii decrypt (18-char ID number)", |b| {
        b.iter(|| {
            ring.decrypt(black_box("citizen.id_number"), black_box(&sealed))
                .unwrap()
        })
    });
    c.bench_function("pii blind_index", |b| {
        b.iter(|| ring.blind_index(black_box("citizen.id_number"), black_box(id)))
    });
}

fn token(c: &mut Criterion) {
    let key = TokenKey::from_secret(&[9u8; 32]);
    // A typical access token's claims (about 120 bytes).
    let payload = br#"{"sub":"c-0192837465","sid":"9f1c2b7e4a3d","scope":"openid profile","iat":1800000000,"exp":1800000900}"#;
    let token = key.sign(payload);
    c.bench_function("token sign (~110-byte claims)", |b| {
        b.iter(|| key.sign(black_box(payload)))
    });
    c.bench_function("token verify (~110-byte claims)", |b| {
        b.iter(|| key.verify(black_box(&token)).unwrap())
    });
}

fn jwt(c: &mut Criterion) {
    let key = EcSigningKey::generate();
    let jwks = [EcSigningKey::generate().public_jwk(), key.public_jwk()];
    let claims = json!({
        "iss": "https://yiwang.example.invalid",
        "sub": "c-0192837465",
        "aud": "client-a",
        "nonce": "n-0S6_WzA2Mj",
        "iat": 1_800_000_000,
        "exp": 1_800_000_600,
        "auth_time": 1_800_000_000,
    });
    let token = key.sign(&claims).unwrap();
    c.bench_function("jwt sign (ES256 ID token)", |b| {
        b.iter(|| key.sign(black_box(&claims)).unwrap())
    });
    c.bench_function("jwt verify (ES256, JWKS of 2)", |b| {
        b.iter(|| verify_es256(black_box(&token), black_box(&jwks)).unwrap())
    });
}

fn seal(c: &mut Criterion) {
    use yiwang_crypto::seal::{DEFAULT_DISTID, FastVerifier, SealKey};
    let key = SealKey::generate(DEFAULT_DISTID).unwrap();
    let message =
        "1.2.156.3005.2.11430000MB1234567X001.11430100MB1234567X.00000001.001.K".as_bytes();
    let sig = key.sign(message);
    let fast = FastVerifier::new(key.public_key().clone());
    c.bench_function("sm2 sign (seal, DER out)", |b| {
        b.iter(|| key.sign(black_box(message)))
    });
    c.bench_function("sm2 verify, reference (sm2 crate)", |b| {
        b.iter(|| {
            key.public_key()
                .verify(black_box(message), black_box(&sig))
                .unwrap()
        })
    });
    c.bench_function("sm2 verify, fast (per-key tables)", |b| {
        b.iter(|| fast.verify(black_box(message), black_box(&sig)).unwrap())
    });
    c.bench_function("sm2 verifier table build (once per key)", |b| {
        b.iter(|| FastVerifier::new(black_box(key.public_key().clone())))
    });
}

criterion_group!(benches, pii, token, jwt, seal);
criterion_main!(benches);
