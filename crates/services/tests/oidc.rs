//! The OpenID Connect provider's use-cases on SQLite and PostgreSQL: clients, authorization
//! code with PKCE, code replay, refresh rotation with reuse detection, expiry on the fixed
//! clock, tampered tokens, disabled clients, ID tokens against the JWKS, userinfo and logout.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use yiwang_services::Platform;
use yiwang_services::identity::oidc::{
    self, AuthorizeError, AuthorizeRequest, ClientAuth, ErrorCode, Subject,
};
use yiwang_services::identity::staff;
use yiwang_services::identity::users;

const CB: &str = "https://rp.example.gov.cn/callback";
const BYE: &str = "https://rp.example.gov.cn/bye";

fn challenge(verifier: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

fn request(client_id: &str, verifier: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        response_type: Some("code".into()),
        client_id: Some(client_id.into()),
        redirect_uri: Some(CB.into()),
        scope: Some("openid profile phone".into()),
        state: Some("st-1".into()),
        nonce: Some("n-0S6_WzA2Mj".into()),
        code_challenge: Some(challenge(verifier)),
        code_challenge_method: Some("S256".into()),
        prompt: None,
    }
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K9uhyHFZZ7sePEn4VJd5vjAV7s-extra-length-ok";

async fn staff_subject(p: &Platform, username: &str) -> Subject {
    let (token, _) = staff::sign_in(p, username, "Yiwang@2026", "127.0.0.1")
        .await
        .unwrap();
    oidc::subject_from_sessions(p, None, Some(&token))
        .await
        .unwrap()
        .expect("a staff subject")
}

async fn code_for(p: &Platform, client_id: &str, subject: &Subject) -> String {
    let a = oidc::authorize(p, &request(client_id, VERIFIER), Some(subject))
        .await
        .unwrap();
    assert!(a.redirect_to.starts_with(&format!("{CB}?code=")));
    assert!(a.redirect_to.ends_with("&state=st-1"));
    a.code
}

async fn audit_actions(p: &Platform) -> Vec<String> {
    use yiwang_store::Row;
    sqlx::query("SELECT action FROM audit_log ORDER BY seq")
        .fetch_all(p.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String, _>("action").unwrap())
        .collect()
}

async fn run(backend: common::Backend) {
    let t = common::platform(backend).await;
    let p = &t.p;
    p.oidc.set_issuer("https://zwfw.example.gov.cn/");
    assert_eq!(p.oidc.issuer(), "https://zwfw.example.gov.cn");

    // --- clients ---
    let manager = common::staff(p, "cs.scjg.manager").await;
    let err = oidc::add_client(p, Some(&manager), "x", &[CB.into()], &[], "")
        .await
        .unwrap_err();
    assert!(matches!(err, yiwang_services::ServiceError::Forbidden(_)));
    let bad = oidc::add_client(
        p,
        None,
        " ",
        &["http://rp.example.gov.cn/cb".into(), "https://a/b#c".into()],
        &[],
        "openid email",
    )
    .await
    .unwrap_err();
    let yiwang_services::ServiceError::Invalid(fields) = bad else {
        panic!("expected Invalid")
    };
    assert_eq!(fields.len(), 4, "{fields:?}");
    let (client_id, secret) = oidc::add_client(
        p,
        None,
        "市场监管业务系统",
        &[CB.into()],
        &[BYE.into()],
        "openid profile phone",
    )
    .await
    .unwrap();
    let auth = ClientAuth {
        client_id: client_id.clone(),
        client_secret: secret.clone(),
    };
    let clients = oidc::list_clients(p, None).await.unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].scopes, ["openid", "profile", "phone"]);

    // --- authorize: errors that never redirect, and those that do ---
    let subject = staff_subject(p, "cs.scjg.manager").await;
    let mut r = request("ywc_nobody", VERIFIER);
    assert!(matches!(
        oidc::authorize(p, &r, Some(&subject)).await,
        Err(AuthorizeError::Page(e)) if e.code == ErrorCode::InvalidClient
    ));
    r = request(&client_id, VERIFIER);
    r.redirect_uri = Some(format!("{CB}/other"));
    assert!(matches!(
        oidc::authorize(p, &r, Some(&subject)).await,
        Err(AuthorizeError::Page(_))
    ));
    r = request(&client_id, VERIFIER);
    r.response_type = Some("token".into());
    match oidc::authorize(p, &r, Some(&subject)).await {
        Err(AuthorizeError::Redirect(u)) => {
            assert!(u.starts_with(&format!("{CB}?error=unsupported_response_type")));
            assert!(u.ends_with("&state=st-1"));
        }
        other => panic!("{other:?}"),
    }
    r = request(&client_id, VERIFIER);
    r.scope = Some("profile".into());
    assert!(
        matches!(oidc::authorize(p, &r, Some(&subject)).await, Err(AuthorizeError::Redirect(u)) if u.contains("error=invalid_scope"))
    );
    r = request(&client_id, VERIFIER);
    r.code_challenge_method = Some("plain".into());
    assert!(
        matches!(oidc::authorize(p, &r, Some(&subject)).await, Err(AuthorizeError::Redirect(u)) if u.contains("error=invalid_request"))
    );
    r = request(&client_id, VERIFIER);
    r.code_challenge = None;
    assert!(
        matches!(oidc::authorize(p, &r, Some(&subject)).await, Err(AuthorizeError::Redirect(u)) if u.contains("error=invalid_request"))
    );
    r = request(&client_id, VERIFIER);
    assert!(matches!(
        oidc::authorize(p, &r, None).await,
        Err(AuthorizeError::LoginRequired)
    ));
    r.prompt = Some("none".into());
    assert!(
        matches!(oidc::authorize(p, &r, None).await, Err(AuthorizeError::Redirect(u)) if u.contains("error=login_required"))
    );

    // --- the full exchange ---
    let code = code_for(p, &client_id, &subject).await;
    let wrong_secret = ClientAuth {
        client_id: client_id.clone(),
        client_secret: "nope".into(),
    };
    let e = oidc::exchange_code(p, &wrong_secret, &code, CB, VERIFIER)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    let tokens = oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
        .await
        .unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 600);
    assert_eq!(tokens.scope, "openid profile phone");

    // The ID token verifies against the JWKS and carries the claims.
    let jwks = oidc::jwks(p).await.unwrap();
    assert_eq!(jwks.len(), 1);
    let claims = yiwang_crypto::verify_es256(&tokens.id_token, &jwks).unwrap();
    assert_eq!(claims["iss"], "https://zwfw.example.gov.cn");
    assert_eq!(claims["aud"], client_id.as_str());
    assert_eq!(claims["sub"], subject.sub.as_str());
    assert!(subject.sub.starts_with("staff:"));
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["sid"], subject.sid.as_str());
    assert_eq!(claims["user_type"], "staff");
    assert_eq!(claims["roles"][0], "item_manager");
    let now = p.now().timestamp();
    assert_eq!(claims["exp"].as_i64().unwrap(), now + 600);
    assert_eq!(claims["iat"].as_i64().unwrap(), now);
    assert!(claims["auth_time"].as_i64().unwrap() <= now);

    // Userinfo.
    let info = oidc::userinfo(p, &tokens.access_token).await.unwrap();
    assert_eq!(info["sub"], subject.sub.as_str());
    assert_eq!(info["name"], "长沙市市场监管局事项管理员 王磊");
    assert!(info["org"].as_str().unwrap().len() == 18);
    assert!(
        info.get("phone_number").is_none(),
        "staff have no released phone"
    );

    // A tampered access token fails.
    let mut tampered = tokens.access_token.clone().into_bytes();
    let i = 10;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(
        oidc::userinfo(p, &tampered).await.unwrap_err().code,
        ErrorCode::InvalidToken
    );
    assert!(oidc::userinfo(p, "garbage").await.is_err());

    // --- replayed code: fails and revokes the refresh token it gave ---
    let e = oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);
    let e = oidc::refresh(p, &auth, &tokens.refresh_token, None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);

    // --- wrong verifier, wrong redirect URI: refused, code burnt ---
    let code = code_for(p, &client_id, &subject).await;
    let e = oidc::exchange_code(
        p,
        &auth,
        &code,
        CB,
        "wrong-verifier-wrong-verifier-wrong-verifier-0",
    )
    .await
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);
    assert!(
        oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
            .await
            .is_err(),
        "a code is burnt by a failed attempt"
    );
    let code = code_for(p, &client_id, &subject).await;
    let e = oidc::exchange_code(p, &auth, &code, "https://rp.example.gov.cn/x", VERIFIER)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);

    // --- expired code ---
    let code = code_for(p, &client_id, &subject).await;
    t.clock.advance(chrono::Duration::seconds(61));
    let e = oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);
    assert!(e.description.contains("expired"));

    // --- refresh rotation and reuse detection ---
    let subject = staff_subject(p, "cs.scjg.manager").await;
    let code = code_for(p, &client_id, &subject).await;
    let first = oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
        .await
        .unwrap();
    let second = oidc::refresh(p, &auth, &first.refresh_token, None)
        .await
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let narrower = oidc::refresh(p, &auth, &second.refresh_token, Some("openid"))
        .await
        .unwrap();
    assert_eq!(narrower.scope, "openid");
    let c = yiwang_crypto::verify_es256(&narrower.id_token, &jwks).unwrap();
    assert!(c.get("name").is_none() && c.get("nonce").is_none());
    // The old token again: refused, and the family (including `narrower`'s) is revoked.
    let e = oidc::refresh(p, &auth, &first.refresh_token, None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);
    assert_eq!(
        oidc::refresh(p, &auth, &narrower.refresh_token, None)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidGrant
    );
    // A scope wider than granted.
    let code = code_for(p, &client_id, &subject).await;
    let t2 = oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
        .await
        .unwrap();
    assert_eq!(
        oidc::refresh(p, &auth, &t2.refresh_token, Some("openid email"))
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidScope
    );
    // ...changed nothing: the token still works.
    let t3 = oidc::refresh(p, &auth, &t2.refresh_token, None)
        .await
        .unwrap();

    // Access tokens expire after 10 minutes.
    t.clock.advance(chrono::Duration::seconds(601));
    assert_eq!(
        oidc::userinfo(p, &t3.access_token).await.unwrap_err().code,
        ErrorCode::InvalidToken
    );

    // --- logout: expired hint accepted, session ended, refresh tokens revoked ---
    let subject = staff_subject(p, "cs.scjg.manager").await;
    let code = code_for(p, &client_id, &subject).await;
    let t4 = oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
        .await
        .unwrap();
    t.clock.advance(chrono::Duration::seconds(700));
    assert!(
        oidc::end_session(p, Some(&t4.id_token), Some("https://evil.example/"), None)
            .await
            .is_err()
    );
    assert!(
        oidc::end_session(p, Some("a.b.c"), None, None)
            .await
            .is_err()
    );
    let to = oidc::end_session(p, Some(&t4.id_token), Some(BYE), Some("s2"))
        .await
        .unwrap();
    assert_eq!(
        to.as_deref(),
        Some("https://rp.example.gov.cn/bye?state=s2")
    );
    assert!(
        oidc::refresh(p, &auth, &t4.refresh_token, None)
            .await
            .is_err()
    );

    // --- rotate and disable ---
    let new_secret = oidc::rotate_secret(p, None, &client_id).await.unwrap();
    assert_eq!(
        oidc::refresh(p, &auth, &t4.refresh_token, None)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidClient,
        "the old secret stops working"
    );
    let auth = ClientAuth {
        client_id: client_id.clone(),
        client_secret: new_secret,
    };
    let subject = staff_subject(p, "cs.scjg.manager").await;
    let code = code_for(p, &client_id, &subject).await;
    let t5 = oidc::exchange_code(p, &auth, &code, CB, VERIFIER)
        .await
        .unwrap();
    oidc::disable_client(p, None, &client_id).await.unwrap();
    assert!(matches!(
        oidc::authorize(p, &request(&client_id, VERIFIER), Some(&subject)).await,
        Err(AuthorizeError::Page(e)) if e.code == ErrorCode::UnauthorizedClient
    ));
    assert_eq!(
        oidc::refresh(p, &auth, &t5.refresh_token, None)
            .await
            .unwrap_err()
            .code,
        ErrorCode::InvalidClient
    );

    // --- a citizen subject ---
    let (cid, csecret) = oidc::add_client(
        p,
        None,
        "公积金系统",
        &["http://127.0.0.1:9/cb".into()],
        &[],
        "openid profile phone",
    )
    .await
    .unwrap();
    // 王小明, a demo citizen at L2.
    let (user_token, session) = users::sign_in_password(
        p,
        "13800000002",
        yiwang_services::demo::DEMO_PASSWORD,
        "127.0.0.1",
    )
    .await
    .unwrap();
    let uid = session.user.id.clone();
    let citizen = oidc::subject_from_sessions(p, Some(&user_token), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(citizen.sub, format!("user:{uid}"));
    let mut r = request(&cid, VERIFIER);
    r.redirect_uri = Some("http://127.0.0.1:9/cb".into());
    let a = oidc::authorize(p, &r, Some(&citizen)).await.unwrap();
    let ct = oidc::exchange_code(
        p,
        &ClientAuth {
            client_id: cid,
            client_secret: csecret,
        },
        &a.code,
        "http://127.0.0.1:9/cb",
        VERIFIER,
    )
    .await
    .unwrap();
    let info = oidc::userinfo(p, &ct.access_token).await.unwrap();
    assert_eq!(info["user_type"], "person");
    assert_eq!(info["name"], "王小明");
    assert_eq!(info["phone_number"], "138****0002");
    assert!((1..=3).contains(&info["real_name_level"].as_i64().unwrap()));

    // --- the audit log saw it all, and its chain holds ---
    let actions = audit_actions(p).await;
    for a in [
        "oidc.client_add",
        "oidc.signing_key_create",
        "oidc.token.authorization_code",
        "oidc.code_replay",
        "oidc.refresh_reuse",
        "oidc.token.refresh_token",
        "oidc.logout",
        "oidc.client_rotate_secret",
        "oidc.client_disable",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} not audited");
    }
    let v = yiwang_services::identity::audit::verify(p).await.unwrap();
    assert!(v.first_bad.is_none());
}

#[tokio::test]
async fn oidc_provider_sqlite() {
    run(common::Backend::Sqlite).await;
}

#[tokio::test]
async fn oidc_provider_postgres() {
    if common::pg_url().is_some() {
        run(common::Backend::Postgres).await;
    }
}
