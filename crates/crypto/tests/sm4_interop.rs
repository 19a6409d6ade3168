//! SM4 against published vectors: the GB/T 32907 block vector through the `sm4` crate and the
//! RFC 8998 SM4-GCM vector through the same SM4-GCM construction `pii` uses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aes_gcm::AesGcm;
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use sm4::Sm4;
use sm4::cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn gb_t_32907_block_vector() {
    let key = h("0123456789abcdeffedcba9876543210");
    let cipher = Sm4::new_from_slice(&key).unwrap();
    let mut block = Array::try_from(key.as_slice()).unwrap();
    cipher.encrypt_block(&mut block);
    assert_eq!(hex::encode(block), "681edf34d206965e86b3e94f536e4246");
    cipher.decrypt_block(&mut block);
    assert_eq!(block.as_slice(), key.as_slice());
}

/// RFC 8998 Appendix A.1 (SM4-GCM). `openssl enc` cannot run AEAD modes, so the tag (GHASH) is
/// checked here against the published vector; the CTR part is also checked against
/// `openssl enc -sm4-ctr` in `src/pii.rs`.
#[test]
fn rfc_8998_sm4_gcm_vector() {
    let key = h("0123456789ABCDEFFEDCBA9876543210");
    let nonce = h("00001234567800000000ABCD");
    let aad = h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2");
    let plain = h(concat!(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    ));
    let expected_ct = h(concat!(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735",
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    ));
    let expected_tag = h("83DE3541E4C2B58177E065A9BF7B62EC");
    let gcm = AesGcm::<Sm4, U12>::new_from_slice(&key).unwrap();
    let nonce = Array::try_from(nonce.as_slice()).unwrap();
    let out = gcm
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(hex::encode(&out[..plain.len()]), hex::encode(&expected_ct));
    assert_eq!(hex::encode(&out[plain.len()..]), hex::encode(&expected_tag));
    let back = gcm
        .decrypt(
            &nonce,
            Payload {
                msg: &out,
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(back, plain);
}

/// The same block vector through OpenSSL's SM4-ECB, to be sure both agree on the cipher.
#[test]
fn openssl_agrees_on_the_block_vector() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("openssl")
        .args([
            "enc",
            "-sm4-ecb",
            "-nopad",
            "-K",
            "0123456789abcdeffedcba9876543210",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&h("0123456789abcdeffedcba9876543210"))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(hex::encode(out.stdout), "681edf34d206965e86b3e94f536e4246");
}
