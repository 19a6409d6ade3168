//! The OpenID Connect endpoints over real HTTP (SQLite, and PostgreSQL when the test script
//! provides one): discovery, JWKS, authorize with a staff session cookie, the token endpoint
//! with both client authentication methods and its RFC 6749 errors, userinfo, refresh, logout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;
use sha2::{Digest, Sha256};
use yiwang_services::identity::{oidc, staff};

mod common;

use common::{Backend, Time, pg_url};

const CB: &str = "http://127.0.0.1:9/cb";
const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier-0123";

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

async fn run(backend: Backend) {
    let app = common::spawn_with(backend, Time::System, |base| yiwang_web::WebConfig {
        public_url: base.to_owned(),
        ..Default::default()
    })
    .await;
    let (base, p) = (app.base.clone(), app.platform.clone());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Discovery and JWKS.
    let d: Value = http
        .get(format!("{base}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], base.as_str());
    assert_eq!(d["token_endpoint"], format!("{base}/oidc/token"));
    assert_eq!(d["code_challenge_methods_supported"][0], "S256");
    assert_eq!(d["id_token_signing_alg_values_supported"][0], "ES256");
    for k in [
        "authorization_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "response_types_supported",
        "grant_types_supported",
        "subject_types_supported",
        "scopes_supported",
        "claims_supported",
        "token_endpoint_auth_methods_supported",
    ] {
        assert!(!d[k].is_null(), "{k} missing");
    }
    let jwks: Value = http
        .get(format!("{base}/oidc/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap().clone();
    assert_eq!(keys[0]["alg"], "ES256");

    let (client_id, secret) = oidc::add_client(
        &p,
        None,
        "测试系统",
        &[CB.into()],
        &["http://127.0.0.1:9/bye".into()],
        "openid profile",
    )
    .await
    .unwrap();
    let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(VERIFIER.as_bytes()));
    let authorize = format!(
        "{base}/oidc/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20profile&state=xyz&nonce=n1&code_challenge={challenge}&code_challenge_method=S256",
        oidc::urlencode(CB)
    );

    // Not signed in: to the citizens' sign-in page, coming back here afterwards.
    let r = http.get(&authorize).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        loc.starts_with("/account/login?next=/oidc/authorize%3F"),
        "{loc}"
    );
    // Unknown client: a page, never a redirect.
    let r = http
        .get(format!(
            "{base}/oidc/authorize?response_type=code&client_id=nobody&redirect_uri={}",
            oidc::urlencode(CB)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());

    // Signed in as staff (session made through the service layer).
    let (token, _) = staff::sign_in(&p, "cs.scjg.manager", "Yiwang@2026", "127.0.0.1")
        .await
        .unwrap();
    let cookie = format!("yw_session={token}");
    let r = http
        .get(&authorize)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(loc.starts_with(CB), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("xyz"));
    let code = query_param(&loc, "code").unwrap();
    // An error for the client goes back to it.
    let r = http
        .get(authorize.replace("code_challenge_method=S256", "code_challenge_method=plain"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        loc.starts_with(&format!("{CB}?error=invalid_request")),
        "{loc}"
    );

    // Token endpoint errors.
    let r = http
        .post(format!("{base}/oidc/token"))
        .basic_auth(&client_id, Some("wrong"))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.headers().contains_key("www-authenticate"));
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "invalid_client");
    let r = http
        .post(format!("{base}/oidc/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );

    // The exchange with client_secret_basic.
    let r = http
        .post(format!("{base}/oidc/token"))
        .basic_auth(&client_id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 600);
    let claims = yiwang_crypto::verify_es256(t["id_token"].as_str().unwrap(), &keys).unwrap();
    assert_eq!(claims["iss"], base.as_str());
    assert_eq!(claims["aud"], client_id.as_str());
    assert_eq!(claims["nonce"], "n1");

    // Userinfo.
    let at = t["access_token"].as_str().unwrap();
    let r = http
        .get(format!("{base}/oidc/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let info: Value = r.json().await.unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["user_type"], "staff");
    let r = http
        .post(format!("{base}/oidc/userinfo"))
        .bearer_auth(format!("{at}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer error=\"invalid_token\"")
    );
    let r = http
        .get(format!("{base}/oidc/userinfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Refresh with client_secret_post; the old refresh token is then refused.
    let rt = t["refresh_token"].as_str().unwrap();
    let r = http
        .post(format!("{base}/oidc/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t2: Value = r.json().await.unwrap();
    assert_ne!(t2["refresh_token"], t["refresh_token"]);
    let r = http
        .post(format!("{base}/oidc/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    // Logout: back to the registered URI with state; the session cookie is gone.
    let r = http
        .get(format!(
            "{base}/oidc/logout?id_token_hint={}&post_logout_redirect_uri={}&state=s9",
            t2["id_token"].as_str().unwrap(),
            oidc::urlencode("http://127.0.0.1:9/bye")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "http://127.0.0.1:9/bye?state=s9");
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("yw_session=;"))
    );
    assert!(staff::session(&p, &token).await.unwrap().is_none());
    let r = http
        .get(format!("{base}/oidc/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn oidc_endpoints_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test]
async fn oidc_endpoints_postgres() {
    if pg_url().is_some() {
        run(Backend::Postgres).await;
    }
}
