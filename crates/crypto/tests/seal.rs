//! SM2 seal signatures: the published GB/T 32918 example, the fast verifier against the
//! reference implementation, and OpenSSL 3 as an independent implementation both ways.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use proptest::prelude::*;
use yiwang_crypto::CryptoError;
use yiwang_crypto::seal::{DEFAULT_DISTID, FastVerifier, SealKey, SealPublicKey};

/// GB/T 32918.2 (and draft-shen-sm2-ecdsa) example over the recommended curve.
const VECTOR_SECRET: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
const VECTOR_PUBLIC: &str = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
const VECTOR_R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
const VECTOR_S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";

fn vector_signature() -> Vec<u8> {
    hex::decode(format!("{VECTOR_R}{VECTOR_S}")).unwrap()
}

#[test]
fn the_published_example_verifies_with_both_verifiers() {
    let key = SealKey::from_secret_hex(DEFAULT_DISTID, VECTOR_SECRET).unwrap();
    assert_eq!(key.public_key().to_hex(), VECTOR_PUBLIC.to_lowercase());
    let public = SealPublicKey::from_hex(DEFAULT_DISTID, VECTOR_PUBLIC).unwrap();
    let sig = vector_signature();
    public.verify(b"message digest", &sig).unwrap();
    let fast = FastVerifier::new(public.clone());
    fast.verify(b"message digest", &sig).unwrap();
    // Another message, another ID, a changed signature: all refused.
    assert_eq!(
        fast.verify(b"message digesT", &sig),
        Err(CryptoError::BadSignature)
    );
    let other_id =
        FastVerifier::new(SealPublicKey::from_hex("1234567812345679", VECTOR_PUBLIC).unwrap());
    assert_eq!(
        other_id.verify(b"message digest", &sig),
        Err(CryptoError::BadSignature)
    );
    let mut bent = sig.clone();
    bent[40] ^= 1;
    assert_eq!(
        fast.verify(b"message digest", &bent),
        Err(CryptoError::BadSignature)
    );
    assert_eq!(
        public.verify(b"message digest", &bent),
        Err(CryptoError::BadSignature)
    );
    // Our own signature of the example (deterministic nonce) verifies too.
    let ours = key.sign(b"message digest");
    fast.verify(b"message digest", &ours).unwrap();
}

#[test]
fn malformed_signatures_and_keys_are_refused_not_panicked_on() {
    let fast = FastVerifier::new(SealPublicKey::from_hex(DEFAULT_DISTID, VECTOR_PUBLIC).unwrap());
    for sig in [
        &b""[..],
        &[0u8; 64][..],
        &[0xffu8; 64][..],
        &[0x30, 0x02, 0x02, 0x00][..],
        &[1u8; 63][..],
    ] {
        assert!(
            matches!(fast.verify(b"m", sig), Err(CryptoError::Malformed(_))),
            "{sig:?}"
        );
    }
    assert!(SealPublicKey::from_hex(DEFAULT_DISTID, "04").is_err());
    assert!(SealPublicKey::from_hex(DEFAULT_DISTID, &VECTOR_PUBLIC.replace("13", "14")).is_err());
    assert!(SealPublicKey::from_hex("", VECTOR_PUBLIC).is_err());
    assert!(SealKey::from_secret_hex(DEFAULT_DISTID, &"0".repeat(64)).is_err());
    assert!(SealKey::from_secret_hex(DEFAULT_DISTID, "zz").is_err());
    assert!(
        SealPublicKey::from_pem(
            DEFAULT_DISTID,
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )
        .is_err()
    );
}

#[test]
fn keys_round_trip_through_hex_and_pem() {
    let key = SealKey::generate(DEFAULT_DISTID).unwrap();
    let again = SealKey::from_secret_hex(DEFAULT_DISTID, &key.secret_hex()).unwrap();
    assert_eq!(again.public_key(), key.public_key());
    let pem = key.public_key().to_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(
        &SealPublicKey::from_pem(DEFAULT_DISTID, &pem).unwrap(),
        key.public_key()
    );
    assert!(!format!("{key:?}").contains(key.secret_hex().as_str()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The fast verifier answers as the reference does: yes for the signed message, no for any
    /// other message or any changed signature byte.
    #[test]
    fn the_fast_verifier_agrees_with_the_reference(
        secret in proptest::array::uniform32(any::<u8>()),
        message in proptest::collection::vec(any::<u8>(), 0..200),
        flip in 0usize..64,
    ) {
        let Ok(key) = SealKey::from_secret(DEFAULT_DISTID, &secret) else { return Ok(()) };
        let fast = FastVerifier::new(key.public_key().clone());
        let sig = key.sign(&message);
        prop_assert!(fast.verify(&message, &sig).is_ok());
        prop_assert!(key.public_key().verify(&message, &sig).is_ok());
        let mut other = message.clone();
        other.push(0);
        prop_assert_eq!(fast.verify(&other, &sig).is_ok(), false);
        // Change one byte of r ‖ s.
        let raw = der_to_raw(&sig);
        let mut bent = raw.clone();
        bent[flip] ^= 0x20;
        prop_assert_eq!(fast.verify(&message, &bent).is_ok(), key.public_key().verify(&message, &bent).is_ok());
        prop_assert!(fast.verify(&message, &bent).is_err());
    }
}

/// DER `SEQUENCE { INTEGER r, INTEGER s }` to 64 bytes.
fn der_to_raw(der: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 2;
    for _ in 0..2 {
        assert_eq!(der[i], 0x02);
        let len = der[i + 1] as usize;
        let int = &der[i + 2..i + 2 + len];
        let int = if int.len() > 32 {
            &int[int.len() - 32..]
        } else {
            int
        };
        out.extend(std::iter::repeat_n(0, 32 - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    out
}

fn openssl(args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl 3 is installed by scripts/test.sh")
}

/// OpenSSL 3 verifies our signatures from the published PEM alone, and we verify OpenSSL's.
#[test]
fn openssl_verifies_our_signatures_and_we_verify_its() {
    let dir = std::env::temp_dir().join(format!(
        "yiwang-seal-{}",
        yiwang_crypto::random::random_token()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let message =
        "1.2.156.3005.2.11100000000000000X001.11430100000000000X.00000001.001.K 食品经营许可证"
            .as_bytes();
    std::fs::write(path("m"), message).unwrap();
    for distid in [DEFAULT_DISTID, "yiwang-seal@430000"] {
        let key = SealKey::generate(distid).unwrap();
        std::fs::write(path("pub.pem"), key.public_key().to_pem().unwrap()).unwrap();
        std::fs::write(path("sig"), key.sign(message)).unwrap();
        let distid_opt = format!("distid:{distid}");
        let verify = |message: &str| {
            openssl(&[
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                &path("pub.pem"),
                "-rawin",
                "-in",
                &path(message),
                "-sigfile",
                &path("sig"),
                "-digest",
                "sm3",
                "-pkeyopt",
                &distid_opt,
            ])
        };
        let out = verify("m");
        assert!(
            out.status.success(),
            "openssl: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"));
        // A changed message fails in OpenSSL too: the check above can fail.
        std::fs::write(path("m2"), b"another message").unwrap();
        assert!(!verify("m2").status.success());

        // OpenSSL signs; both our verifiers accept from its PEM.
        assert!(
            openssl(&["genpkey", "-algorithm", "SM2", "-out", &path("k.pem")])
                .status
                .success()
        );
        assert!(
            openssl(&[
                "pkey",
                "-in",
                &path("k.pem"),
                "-pubout",
                "-out",
                &path("kp.pem")
            ])
            .status
            .success()
        );
        let out = openssl(&[
            "pkeyutl",
            "-sign",
            "-inkey",
            &path("k.pem"),
            "-rawin",
            "-in",
            &path("m"),
            "-digest",
            "sm3",
            "-pkeyopt",
            &distid_opt,
            "-out",
            &path("osig"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs =
            SealPublicKey::from_pem(distid, &std::fs::read_to_string(path("kp.pem")).unwrap())
                .unwrap();
        let osig = std::fs::read(path("osig")).unwrap();
        theirs.verify(message, &osig).unwrap();
        FastVerifier::new(theirs.clone())
            .verify(message, &osig)
            .unwrap();
        assert!(
            FastVerifier::new(theirs)
                .verify(b"another message", &osig)
                .is_err()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
