//! AWS Signature Version 4 for S3 requests (`Authorization` header, payload signed), written
//! from the published algorithm with `hmac` + `sha2` instead of pulling an AWS SDK.
//!
//! The signer is pure: the caller gives the method, the canonical path, the query, the headers
//! it will send (at least `host`, `x-amz-date` and `x-amz-content-sha256`) and the time, and
//! gets the `Authorization` value. Tests check it against the examples in the S3 documentation
//! ("Examples: Signature Calculations", access key `AKIAIOSFODNN7EXAMPLE`), so it is proven
//! without any server.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name that starts the string to sign and the `Authorization` value.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of the empty string: the payload hash of a request without a body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Lower-case hex SHA-256 of `bytes` (the `x-amz-content-sha256` value of a body).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What is signed: one HTTP request as it will be sent.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `GET`, `PUT`, `DELETE`, `HEAD`.
    pub method: &'a str,
    /// The path as sent, already URI-encoded (see [`encode_path`]), starting with `/`.
    pub path: &'a str,
    /// Query parameters, not encoded; signed sorted and encoded.
    pub query: &'a [(&'a str, &'a str)],
    /// Headers to sign (names in any case; values are trimmed and inner runs of spaces folded).
    pub headers: &'a [(&'a str, &'a str)],
    /// Lower-case hex SHA-256 of the body (also sent as `x-amz-content-sha256`).
    pub payload_sha256: &'a str,
}

/// Who signs, where, when.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `x-amz-date`, `YYYYMMDD'T'HHMMSS'Z'`.
    pub datetime: &'a str,
    /// The region, e.g. `us-east-1` (S3-compatible servers often accept any).
    pub region: &'a str,
    /// The service, `s3`.
    pub service: &'a str,
}

impl Scope<'_> {
    fn date(&self) -> &str {
        self.datetime.get(..8).unwrap_or(self.datetime)
    }

    /// `date/region/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date(),
            self.region,
            self.service
        )
    }
}

/// URI-encodes `s` as SigV4 wants: everything but `A-Z a-z 0-9 - . _ ~` as `%XX` (upper-case
/// hex); `/` too unless `keep_slash`.
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An object path `/{segments}` encoded once, slashes kept (S3 does not double-encode).
pub fn encode_path(path: &str) -> String {
    uri_encode(path, true)
}

/// The canonical request and the `SignedHeaders` list.
pub fn canonical_request(req: &Request<'_>) -> (String, String) {
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.trim().to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let path = if req.path.is_empty() { "/" } else { req.path };
    (
        format!(
            "{}\n{path}\n{query}\n{canonical_headers}\n{signed}\n{}",
            req.method, req.payload_sha256
        ),
        signed,
    )
}

/// The string to sign for a canonical request.
pub fn string_to_sign(scope: &Scope<'_>, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        scope.datetime,
        scope.credential_scope(),
        sha256_hex(canonical_request.as_bytes())
    )
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail; an empty MAC would only make the
    // server refuse the signature.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

/// The signing key: HMAC chain over date, region, service and `aws4_request`.
pub fn signing_key(secret_key: &str, scope: &Scope<'_>) -> [u8; 32] {
    let k_date = hmac(
        format!("AWS4{secret_key}").as_bytes(),
        scope.date().as_bytes(),
    );
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The signature (lower-case hex) of `req`.
pub fn signature(secret_key: &str, scope: &Scope<'_>, req: &Request<'_>) -> String {
    let (canonical, _) = canonical_request(req);
    let to_sign = string_to_sign(scope, &canonical);
    hex::encode(hmac(&signing_key(secret_key, scope), to_sign.as_bytes()))
}

/// The `Authorization` header value of `req`.
pub fn authorization(
    access_key: &str,
    secret_key: &str,
    scope: &Scope<'_>,
    req: &Request<'_>,
) -> String {
    let (_, signed) = canonical_request(req);
    format!(
        "{ALGORITHM} Credential={access_key}/{},SignedHeaders={signed},Signature={}",
        scope.credential_scope(),
        signature(secret_key, scope, req)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The S3 documentation's examples ("Examples: Signature Calculations in AWS Signature
    // Version 4", Authorization header): these credentials, this time, bucket examplebucket.
    const ACCESS: &str = "AKIAIOSFODNN7EXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const SCOPE: Scope<'static> = Scope {
        datetime: "20130524T000000Z",
        region: "us-east-1",
        service: "s3",
    };
    const HOST: &str = "examplebucket.s3.amazonaws.com";

    #[test]
    fn get_object_example() {
        let headers = [
            ("Host", HOST),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ];
        let req = Request {
            method: "GET",
            path: &encode_path("/test.txt"),
            query: &[],
            headers: &headers,
            payload_sha256: EMPTY_SHA256,
        };
        let (canonical, signed) = canonical_request(&req);
        assert_eq!(
            canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
             x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(signed, "host;range;x-amz-content-sha256;x-amz-date");
        assert_eq!(
            string_to_sign(&SCOPE, &canonical),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
             7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        assert_eq!(
            authorization(ACCESS, SECRET, &SCOPE, &req),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn put_object_example() {
        let body = b"Welcome to Amazon S3.";
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let headers = [
            ("Host", HOST),
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", hash.as_str()),
        ];
        let req = Request {
            method: "PUT",
            path: &encode_path("/test$file.text"),
            query: &[],
            headers: &headers,
            payload_sha256: &hash,
        };
        assert_eq!(req.path, "/test%24file.text");
        assert_eq!(
            signature(SECRET, &SCOPE, &req),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn list_objects_example_sorts_and_encodes_the_query() {
        let headers = [
            ("Host", HOST),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-content-sha256", EMPTY_SHA256),
        ];
        let req = Request {
            method: "GET",
            path: "/",
            query: &[("prefix", "J"), ("max-keys", "2")],
            headers: &headers,
            payload_sha256: EMPTY_SHA256,
        };
        assert_eq!(
            signature(SECRET, &SCOPE, &req),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("a b/c~d", false), "a%20b%2Fc~d");
        assert_eq!(encode_path("/bucket/键"), "/bucket/%E9%94%AE");
    }
}
