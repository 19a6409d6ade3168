//! Timing figures of the OpenID Connect provider (for BENCHMARKS.md, "Identity"): access-token
//! verification (HMAC-SM3 + JSON claims + expiry, the userinfo path before the database),
//! ID-token signing (ES256) and the whole refresh grant on SQLite (client authentication with
//! the verified-secret cache, one transaction, new refresh token, access and ID tokens).
//!
//! `cargo run --release -p yiwang-services --example oidc_bench`

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use yiwang_services::identity::oidc::{self, AuthorizeRequest, ClientAuth};
use yiwang_services::identity::staff;
use yiwang_services::{Platform, SystemClock, demo};
use yiwang_store::Db;

fn report(what: &str, n: u32, started: Instant) {
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{what:<58} {:>10.1} µs/op {:>12.0} ops/s  (n = {n})",
        secs * 1e6 / f64::from(n),
        f64::from(n) / secs
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = std::env::temp_dir().join(format!("yiwang-oidc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = Db::open_data_dir(&dir).await?;
    db.migrate().await?;
    let p: Arc<Platform> = Platform::open(db, Arc::new(SystemClock)).await?;
    demo::load(&p).await?;
    let cb = "https://rp.example.gov.cn/cb".to_owned();
    let (client_id, client_secret) = oidc::add_client(
        &p,
        None,
        "bench",
        std::slice::from_ref(&cb),
        &[],
        "openid profile",
    )
    .await?;
    let auth = ClientAuth {
        client_id: client_id.clone(),
        client_secret,
    };
    let (session, _) =
        staff::sign_in(&p, "cs.scjg.manager", demo::DEMO_PASSWORD, "127.0.0.1").await?;
    let subject = oidc::subject_from_sessions(&p, None, Some(&session))
        .await?
        .ok_or("no subject")?;
    let verifier = "bench-verifier-bench-verifier-bench-verifier-42";
    let req = AuthorizeRequest {
        response_type: Some("code".into()),
        client_id: Some(client_id.clone()),
        redirect_uri: Some(cb.clone()),
        scope: Some("openid profile".into()),
        code_challenge: Some(Base64UrlUnpadded::encode_string(&Sha256::digest(
            verifier.as_bytes(),
        ))),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    };
    let code = oidc::authorize(&p, &req, Some(&subject))
        .await
        .map_err(|e| format!("{e:?}"))?
        .code;
    let first = oidc::exchange_code(&p, &auth, &code, &cb, verifier).await?;

    // 1. Access-token verification (no database).
    let n = 200_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(oidc::verify_access_token(&p, &first.access_token)?);
    }
    report("access token verify (HMAC-SM3 + JSON + exp)", n, t);

    // 2. ID-token signing (claims already loaded).
    let claims = oidc::claims(&p, &subject.sub, "openid profile")
        .await?
        .ok_or("no claims")?;
    let n = 2_000;
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(
            oidc::id_token(
                &p,
                &client_id,
                claims.clone(),
                subject.auth_time,
                &subject.sid,
                None,
            )
            .await?,
        );
    }
    report("ID token sign (ES256, profile claims)", n, t);

    // 3. The whole refresh grant on SQLite, one after another (each uses the previous token).
    let n = 1_000;
    let mut rt = first.refresh_token;
    let t = Instant::now();
    for _ in 0..n {
        rt = oidc::refresh(&p, &auth, &rt, None).await?.refresh_token;
    }
    report("refresh grant (SQLite, sequential, secret cached)", n, t);

    p.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
