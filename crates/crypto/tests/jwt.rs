//! ES256 ID tokens: our JWS verified by OpenSSL, OpenSSL's signature verified by us, key
//! persistence, the JWK thumbprint, and every rejection the verifier promises.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use base64ct::{Base64UrlUnpadded, Encoding};
use proptest::prelude::*;
use serde_json::{Value, json};
use yiwang_crypto::{CryptoError, EcSigningKey, verify_es256};

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn unb64(s: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(s).unwrap()
}

/// A fresh scratch folder per test.
fn scratch() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "yiwang-crypto-jwt-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// DER INTEGER of an unsigned big-endian number.
fn der_int(mut n: &[u8]) -> Vec<u8> {
    while n.len() > 1 && n[0] == 0 {
        n = &n[1..];
    }
    let mut v = vec![0x02];
    if n[0] & 0x80 != 0 {
        v.push(n.len() as u8 + 1);
        v.push(0);
    } else {
        v.push(n.len() as u8);
    }
    v.extend_from_slice(n);
    v
}

/// JWS `r ‖ s` → DER `SEQUENCE { r INTEGER, s INTEGER }` as OpenSSL wants it.
fn rs_to_der(sig: &[u8]) -> Vec<u8> {
    let mut body = der_int(&sig[..32]);
    body.extend(der_int(&sig[32..]));
    let mut v = vec![0x30, body.len() as u8];
    v.extend(body);
    v
}

/// DER ECDSA signature → JWS `r ‖ s`.
fn der_to_rs(der: &[u8]) -> Vec<u8> {
    assert_eq!(der[0], 0x30);
    let mut i = 2;
    let mut out = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[i], 0x02);
        let len = der[i + 1] as usize;
        let mut n = &der[i + 2..i + 2 + len];
        while n.len() > 32 {
            n = &n[1..];
        }
        out.extend(std::iter::repeat_n(0u8, 32 - n.len()));
        out.extend_from_slice(n);
        i += 2 + len;
    }
    out
}

/// SubjectPublicKeyInfo DER of a P-256 JWK, built from `x` and `y` alone: checks the JWK
/// independently of our PEM export.
fn jwk_to_spki_der(jwk: &Value) -> Vec<u8> {
    let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d03010703420004").unwrap();
    der.extend(unb64(jwk["x"].as_str().unwrap()));
    der.extend(unb64(jwk["y"].as_str().unwrap()));
    der
}

fn claims() -> Value {
    json!({
        "iss": "https://yiwang.example.invalid",
        "sub": "citizen-42",
        "aud": "client-a",
        "iat": 1_800_000_000,
        "exp": 1_800_000_600,
        "name": "张三",
    })
}

#[test]
fn openssl_verifies_our_id_token_with_the_jwk() {
    let key = EcSigningKey::generate();
    let token = key.sign(&claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&unb64(parts[0])).unwrap();
    assert_eq!(
        header,
        json!({"alg": "ES256", "typ": "JWT", "kid": key.kid()})
    );
    let sig = unb64(parts[2]);
    assert_eq!(sig.len(), 64);

    let dir = scratch();
    let jwk = key.public_jwk();
    std::fs::write(dir.join("pub.der"), jwk_to_spki_der(&jwk)).unwrap();
    std::fs::write(dir.join("sig.der"), rs_to_der(&sig)).unwrap();
    let d = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    openssl(
        &[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            &d("pub.der"),
            "-out",
            &d("pub.pem"),
        ],
        b"",
    );
    // The PEM we export is the same key as the JWK.
    assert_eq!(
        std::fs::read_to_string(d("pub.pem")).unwrap(),
        key.public_key_pem().unwrap()
    );
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    let out = openssl(
        &[
            "dgst",
            "-sha256",
            "-verify",
            &d("pub.pem"),
            "-signature",
            &d("sig.der"),
        ],
        signing_input.as_bytes(),
    );
    assert_eq!(String::from_utf8_lossy(&out).trim(), "Verified OK");
    std::fs::remove_dir_all(dir).unwrap();

    assert_eq!(verify_es256(&token, &[jwk]).unwrap(), claims());
}

#[test]
fn we_verify_a_token_signed_by_openssl_with_a_key_it_generated() {
    let dir = scratch();
    let d = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &d("key.pem"),
        ],
        b"",
    );
    let key =
        EcSigningKey::from_pkcs8_pem(&std::fs::read_to_string(d("key.pem")).unwrap()).unwrap();
    let header = b64(format!(r#"{{"alg":"ES256","kid":"{}"}}"#, key.kid()).as_bytes());
    let payload = b64(br#"{"sub":"x"}"#);
    let signing_input = format!("{header}.{payload}");
    let der = openssl(
        &["dgst", "-sha256", "-sign", &d("key.pem")],
        signing_input.as_bytes(),
    );
    let token = format!("{signing_input}.{}", b64(&der_to_rs(&der)));
    assert_eq!(
        verify_es256(&token, &[key.public_jwk()]).unwrap(),
        json!({"sub": "x"})
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn kid_is_the_rfc_7638_thumbprint() {
    let key = EcSigningKey::generate();
    let jwk = key.public_jwk();
    let canonical = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        jwk["x"].as_str().unwrap(),
        jwk["y"].as_str().unwrap()
    );
    let digest = openssl(&["dgst", "-sha256", "-binary"], canonical.as_bytes());
    assert_eq!(key.kid(), b64(&digest));
    assert_eq!(jwk["kid"], key.kid());
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "ES256");
    assert_eq!(unb64(jwk["x"].as_str().unwrap()).len(), 32);
    assert!(!format!("{key:?}").contains("BEGIN"));
}

#[test]
fn pkcs8_pem_round_trip_keeps_the_key() {
    let key = EcSigningKey::generate();
    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let back = EcSigningKey::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(back.kid(), key.kid());
    let token = back.sign(&claims()).unwrap();
    assert!(verify_es256(&token, &[key.public_jwk()]).is_ok());
    assert!(matches!(
        EcSigningKey::from_pkcs8_pem(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
        ),
        Err(CryptoError::InvalidKey(_))
    ));
}

#[test]
fn verifier_rejects_what_it_must() {
    let key = EcSigningKey::generate();
    let other = EcSigningKey::generate();
    let jwks = [other.public_jwk(), key.public_jwk()];
    let token = key.sign(&claims()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert!(verify_es256(&token, &jwks).is_ok(), "picks the key by kid");

    let with_header = |h: &str| format!("{}.{}.{}", b64(h.as_bytes()), parts[1], parts[2]);
    let kid = key.kid();
    // alg none, HS256 (key confusion), another EC algorithm, a missing alg.
    for (h, alg) in [
        (format!(r#"{{"alg":"none","kid":"{kid}"}}"#), "none"),
        (format!(r#"{{"alg":"HS256","kid":"{kid}"}}"#), "HS256"),
        (format!(r#"{{"alg":"ES384","kid":"{kid}"}}"#), "ES384"),
        (format!(r#"{{"kid":"{kid}"}}"#), ""),
    ] {
        assert_eq!(
            verify_es256(&with_header(&h), &jwks),
            Err(CryptoError::Algorithm(alg.to_owned())),
            "{h}"
        );
    }
    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none"}"#), parts[1]);
    assert!(verify_es256(&unsigned, &jwks).is_err());
    // Same header, other payload: the signature no longer matches.
    let forged = format!("{}.{}.{}", parts[0], b64(br#"{"sub":"admin"}"#), parts[2]);
    assert_eq!(verify_es256(&forged, &jwks), Err(CryptoError::BadSignature));
    // Signed by a key whose kid is claimed by another.
    let stolen_kid = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        other.sign(&claims()).unwrap().split('.').nth(2).unwrap()
    );
    assert_eq!(
        verify_es256(&stolen_kid, &jwks),
        Err(CryptoError::BadSignature)
    );
    // Unknown kid, and no kid with several keys.
    assert!(matches!(
        verify_es256(&token, &[other.public_jwk()]),
        Err(CryptoError::UnknownKid(_))
    ));
    let no_kid = with_header(r#"{"alg":"ES256"}"#);
    assert!(matches!(
        verify_es256(&no_kid, &jwks),
        Err(CryptoError::UnknownKid(_))
    ));
    // No kid and exactly one key: that key is tried (and here the signature input changed).
    assert_eq!(
        verify_es256(&no_kid, &[key.public_jwk()]),
        Err(CryptoError::BadSignature)
    );
    // A JWK that is not for ES256 signatures is not used.
    let mut enc_jwk = key.public_jwk();
    enc_jwk["use"] = json!("enc");
    assert!(matches!(
        verify_es256(&token, &[enc_jwk]),
        Err(CryptoError::UnknownKid(_))
    ));
    // Shape and encoding.
    for bad in [
        "",
        "a.b",
        "a.b.c.d",
        &format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
        &format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        &format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]),
        &format!("{}.{}.{}", parts[0], parts[1], b64(&[0u8; 64])),
        &with_header(&format!(
            r#"{{"alg":"ES256","kid":"{kid}","crit":["exp"]}}"#
        )),
        &format!("{}.{}.{}", parts[0], b64(b"[1,2]"), parts[2]),
    ] {
        assert!(verify_es256(bad, &jwks).is_err(), "{bad}");
    }
    assert!(matches!(
        key.sign(&json!([1, 2])),
        Err(CryptoError::Malformed(_))
    ));
}

proptest! {
    #[test]
    fn arbitrary_tokens_never_panic(text in any::<String>()) {
        let key = EcSigningKey::generate();
        let _ = verify_es256(&text, &[key.public_jwk()]);
    }

    #[test]
    fn arbitrary_parts_never_panic(h in any::<Vec<u8>>(), p in any::<Vec<u8>>(), s in any::<Vec<u8>>()) {
        let key = EcSigningKey::generate();
        let token = format!("{}.{}.{}", b64(&h), b64(&p), b64(&s));
        prop_assert!(verify_es256(&token, &[key.public_jwk()]).is_err());
    }
}
