//! Unified identity on both databases: citizen registration and real-name levels, sign-in by
//! password and by SMS code, lockout with back-off, staff in several organisations, TOTP, the
//! hash-chained audit log and key rotation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends, platform};
use yiwang_connectors::PopulationLibrary;
use yiwang_services::identity::staff::{self, Role};
use yiwang_services::identity::users::{self, Level, Registration};
use yiwang_services::identity::{Keys, Outside, audit, rotate_keys, totp};
use yiwang_services::{Clock, Platform, ServiceError, demo};
use yiwang_store::Row;

const PHONE: &str = "13800001111";
const PASSWORD: &str = "Wxm#2026pass";

fn registration(name: &str, id: &str, phone: &str) -> Registration {
    Registration {
        name: name.into(),
        id_number: id.into(),
        phone: phone.into(),
        password: PASSWORD.into(),
    }
}

/// The 6-digit code in the newest development message to `phone`.
fn last_code(p: &Platform, phone: &str) -> String {
    let text = p
        .outside
        .last_dev_message(phone)
        .expect("a message was sent");
    let digits: Vec<char> = text.chars().collect();
    digits
        .windows(6)
        .find(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .unwrap_or_else(|| panic!("no code in {text}"))
}

/// The `n`th generated resident of the built-in population library (not a demo account).
fn resident(p: &Platform, n: usize) -> (String, String) {
    let PopulationLibrary::BuiltIn(lib) = &p.outside.population else {
        panic!("tests use the built-in library");
    };
    let r = &lib.residents()[10 + n];
    (r.name.clone(), r.id_number.clone())
}

fn invalid_fields(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

async fn registered(p: &Platform) -> String {
    let (name, id_number) = resident(p, 0);
    let id = users::register(p, &registration(&name, &id_number, PHONE), "10.1.1.1")
        .await
        .unwrap();
    let code = last_code(p, PHONE);
    users::confirm_phone(p, &id, &code, "10.1.1.1")
        .await
        .unwrap();
    id
}

async fn citizen_journey(b: Backend) {
    let t = platform(b).await;
    let p = &*t.p;
    // Every bad field at once, nothing stored.
    let bad = Registration {
        name: "".into(),
        id_number: "430104199005120136".into(),
        phone: "12345".into(),
        password: "short".into(),
    };
    let fields = invalid_fields(users::register(p, &bad, "10.1.1.1").await.unwrap_err());
    for f in ["name", "id_number", "phone", "password"] {
        assert!(fields.iter().any(|x| x == f), "{f} missing in {fields:?}");
    }
    let count = |p: &Platform| {
        let pool = p.db.pool().clone();
        async move {
            sqlx::query("SELECT COUNT(*) AS n FROM users")
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<i64, _>("n")
        }
    };
    let before = count(p).await;
    let (name, id_number) = resident(p, 0);
    let masked = format!("{}**********{}", &id_number[..4], &id_number[14..]);
    let id = users::register(p, &registration(&name, &id_number, PHONE), "10.1.1.1")
        .await
        .unwrap();
    // Pending until the phone is confirmed: no sign-in yet.
    assert!(
        users::sign_in_password(p, PHONE, PASSWORD, "10.1.1.1")
            .await
            .is_err()
    );
    // A wrong code is refused; the right one activates and checks the population library.
    let code = last_code(p, PHONE);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(
        users::confirm_phone(p, &id, wrong, "10.1.1.1")
            .await
            .is_err()
    );
    let (token, s) = users::confirm_phone(p, &id, &code, "10.1.1.1")
        .await
        .unwrap();
    assert_eq!(s.user.level, Level::L2);
    assert_eq!(s.user.id_number_masked, masked);
    assert_eq!(s.user.phone_masked, "138****1111");
    // The same code cannot be used twice.
    assert!(
        users::confirm_phone(p, &id, &code, "10.1.1.1")
            .await
            .is_err()
    );
    // Nothing personal is stored in the clear.
    let row = sqlx::query("SELECT * FROM users WHERE id = $1")
        .bind(&id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    for column in ["id_number_enc", "phone_enc", "id_number_bidx", "phone_bidx"] {
        let v: String = row.get(column);
        assert!(
            !v.contains(&id_number) && !v.contains(PHONE),
            "{column}: {v}"
        );
    }
    // Registering the same ID number or phone again is refused, naming the field.
    let again = users::register(
        p,
        &registration(&name, &id_number, "13900002222"),
        "10.1.1.1",
    )
    .await
    .unwrap_err();
    assert_eq!(invalid_fields(again), vec!["id_number"]);
    assert_eq!(count(p).await, before + 1);
    // Sign in by phone or by ID number, and by SMS code.
    users::sign_in_password(p, PHONE, PASSWORD, "10.1.1.1")
        .await
        .unwrap();
    users::sign_in_password(p, &id_number, PASSWORD, "10.1.1.1")
        .await
        .unwrap();
    t.clock.advance(chrono::Duration::seconds(61));
    users::send_sign_in_code(p, PHONE, "10.1.1.1")
        .await
        .unwrap();
    let code = last_code(p, PHONE);
    users::sign_in_code(p, PHONE, &code, "10.1.1.1")
        .await
        .unwrap();
    // A second code within the minute is refused (no SMS flooding).
    assert!(matches!(
        users::send_sign_in_code(p, PHONE, "10.1.1.1").await,
        Err(ServiceError::TooManyAttempts)
    ));
    // Five wrong passwords lock the account, even for the right one, for 15 minutes.
    for _ in 0..5 {
        assert!(matches!(
            users::sign_in_password(p, PHONE, "Wrong#pass1", "10.2.2.2").await,
            Err(ServiceError::Invalid(_))
        ));
    }
    assert!(matches!(
        users::sign_in_password(p, PHONE, PASSWORD, "10.3.3.3").await,
        Err(ServiceError::TooManyAttempts)
    ));
    // The owner is told by SMS.
    assert!(p.outside.last_dev_message(PHONE).unwrap().contains("锁定"));
    t.clock.advance(chrono::Duration::minutes(16));
    users::sign_in_password(p, PHONE, PASSWORD, "10.3.3.3")
        .await
        .unwrap();
    // Sessions end after the idle timeout.
    t.clock.advance(chrono::Duration::minutes(31));
    assert!(users::user_session(p, &token).await.unwrap().is_none());
    // A window clerk raises the citizen to L3; other staff may not.
    let manager = common::staff(p, "cs.scjg.manager").await;
    assert!(matches!(
        users::verify_in_person(p, &manager, &id_number, "10.9.9.9").await,
        Err(ServiceError::Forbidden(_))
    ));
    let clerk = common::staff(p, "yl.window").await;
    let u = users::verify_in_person(p, &clerk, &id_number, "10.9.9.9")
        .await
        .unwrap();
    assert_eq!(u.level, Level::L3);
    // Everything above is in the audit log, and the chain verifies.
    let v = audit::verify(p).await.unwrap();
    assert!(v.first_bad.is_none(), "{v:?}");
    assert!(v.entries > 10, "{v:?}");
}

#[tokio::test]
async fn citizen_registers_signs_in_and_is_locked_out_on_every_backend() {
    for b in backends() {
        citizen_journey(b).await;
    }
}

#[tokio::test]
async fn a_name_that_does_not_match_the_population_library_stays_at_l1() {
    let t = platform(Backend::Sqlite).await;
    let p = &*t.p;
    let (_, other_id) = resident(p, 1);
    let id = users::register(
        p,
        &registration("李四", &other_id, "13700003333"),
        "10.1.1.1",
    )
    .await
    .unwrap();
    let code = last_code(p, "13700003333");
    let (_, s) = users::confirm_phone(p, &id, &code, "10.1.1.1")
        .await
        .unwrap();
    assert_eq!(s.user.level, Level::L1);
}

async fn audit_tampering(b: Backend) {
    let t = platform(b).await;
    let p = &*t.p;
    registered(p).await;
    for _ in 0..3 {
        let _ = staff::sign_in(p, "reviewer", "wrong", "10.4.4.4").await;
    }
    let v = audit::verify(p).await.unwrap();
    assert!(v.first_bad.is_none());
    let n = v.entries as i64;
    // Changing one entry is found at that entry.
    sqlx::query("UPDATE audit_log SET ip = '1.2.3.4' WHERE seq = 2")
        .execute(p.db.writer())
        .await
        .unwrap();
    let v = audit::verify(p).await.unwrap();
    assert_eq!(v.first_bad.map(|b| b.seq), Some(2));
    sqlx::query("UPDATE audit_log SET ip = '10.1.1.1' WHERE seq = 2")
        .execute(p.db.writer())
        .await
        .unwrap();
    assert!(audit::verify(p).await.unwrap().first_bad.is_none());
    // Removing the newest entry is found through the chain's head.
    sqlx::query("DELETE FROM audit_log WHERE seq = $1")
        .bind(n)
        .execute(p.db.writer())
        .await
        .unwrap();
    let v = audit::verify(p).await.unwrap();
    assert_eq!(v.first_bad.map(|b| b.seq), Some(n));
}

#[tokio::test]
async fn audit_log_tampering_is_found_on_every_backend() {
    for b in backends() {
        audit_tampering(b).await;
    }
}

#[tokio::test]
async fn staff_act_in_one_of_their_organisations_at_a_time() {
    let t = platform(Backend::Sqlite).await;
    let p = &*t.p;
    let (token, s) = staff::sign_in(p, "cs.reviewer", demo::DEMO_PASSWORD, "10.5.5.5")
        .await
        .unwrap();
    assert_eq!(s.staff.assignments.len(), 2);
    assert_eq!(s.staff.region, "430100");
    assert_eq!(s.staff.roles, vec![Role::ItemReviewer]);
    let other = s
        .staff
        .assignments
        .iter()
        .find(|a| a.role == Role::Supervisor)
        .unwrap()
        .org
        .clone();
    let s = staff::switch_org(p, &token, &other).await.unwrap();
    assert_eq!(s.staff.region, "430104");
    assert_eq!(s.staff.roles, vec![Role::Supervisor]);
    // The choice holds for the session.
    let again = staff::session(p, &token).await.unwrap().unwrap();
    assert_eq!(again.staff.roles, vec![Role::Supervisor]);
    let home_of_someone_else = common::staff(p, "cs.gaj.manager").await.org;
    assert!(matches!(
        staff::switch_org(p, &token, &home_of_someone_else).await,
        Err(ServiceError::Forbidden(_))
    ));
}

#[tokio::test]
async fn administrators_need_totp_and_a_code_works_once() {
    let t = platform(Backend::Sqlite).await;
    let p = &*t.p;
    let (token, s) = staff::sign_in(p, "admin", demo::DEMO_PASSWORD, "10.6.6.6")
        .await
        .unwrap();
    assert!(s.staff.mfa_required && !s.complete());
    let e = totp::begin_enrolment(p, &s).await.unwrap();
    assert!(e.uri.starts_with("otpauth://totp/"));
    let secret = yiwang_crypto::totp::from_base32(&e.secret_base32).unwrap();
    let code = |t: &common::TestPlatform| {
        let now = t.clock.now().timestamp();
        format!(
            "{:06}",
            yiwang_crypto::totp::code_at(&secret, yiwang_crypto::totp::step_of(now))
        )
    };
    assert!(totp::verify(p, &token, "000000", "10.6.6.6").await.is_err() || code(&t) == "000000");
    let s = totp::verify(p, &token, &code(&t), "10.6.6.6")
        .await
        .unwrap();
    assert!(s.complete() && s.staff.totp_enabled);
    // A second session: the same code (same step) is refused, the next step's code works.
    let (token2, s2) = staff::sign_in(p, "admin", demo::DEMO_PASSWORD, "10.6.6.6")
        .await
        .unwrap();
    assert!(!s2.complete());
    assert!(
        totp::verify(p, &token2, &code(&t), "10.6.6.6")
            .await
            .is_err()
    );
    t.clock.advance(chrono::Duration::seconds(30));
    assert!(
        totp::verify(p, &token2, &code(&t), "10.6.6.6")
            .await
            .unwrap()
            .complete()
    );
    // Enrolment cannot be restarted once enabled.
    assert!(totp::begin_enrolment(p, &s2).await.is_err());
    // Non-administrative staff are complete after the password.
    let (_, m) = staff::sign_in(p, "cs.scjg.manager", demo::DEMO_PASSWORD, "10.6.6.6")
        .await
        .unwrap();
    assert!(m.complete());
}

#[tokio::test]
async fn one_address_failing_on_many_accounts_is_locked() {
    let t = platform(Backend::Sqlite).await;
    let p = &*t.p;
    for i in 0..20 {
        let _ = staff::sign_in(p, &format!("nobody{i}"), "wrong", "10.7.7.7").await;
    }
    assert!(matches!(
        staff::sign_in(p, "reviewer", demo::DEMO_PASSWORD, "10.7.7.7").await,
        Err(ServiceError::TooManyAttempts)
    ));
    // Another address is not affected.
    staff::sign_in(p, "reviewer", demo::DEMO_PASSWORD, "10.8.8.8")
        .await
        .unwrap();
}

#[tokio::test]
async fn rotating_keys_re_encrypts_and_lookups_keep_working() {
    use std::sync::Arc;
    let (db, _dir) = common::fresh_db(Backend::Sqlite).await;
    db.migrate().await.unwrap();
    let clock = Arc::new(yiwang_services::FixedClock::new(chrono::Utc::now()));
    let k1 = format!("k1:{}", yiwang_crypto::pii::KeyRing::generate_secret_hex());
    let open = |spec: String| {
        let (db, clock) = (db.clone(), clock.clone());
        async move {
            Platform::open_with(
                db,
                clock,
                Keys::from_spec(&spec).unwrap(),
                Outside::for_tests().unwrap(),
            )
            .await
            .unwrap()
        }
    };
    let p1 = open(k1.clone()).await;
    let user = registered(&p1).await;
    let old = sqlx::query("SELECT key_id, id_number_bidx FROM users WHERE id = $1")
        .bind(&user)
        .fetch_one(p1.db.pool())
        .await
        .unwrap();
    assert_eq!(old.get::<String, _>("key_id"), "k1");
    // Reopen with a new key first and the old one still in the ring.
    let p2 = open(format!(
        "k2:{},{k1}",
        yiwang_crypto::pii::KeyRing::generate_secret_hex()
    ))
    .await;
    // Before rotation the old rows are still found (blind indexes of every key are tried).
    let id = yiwang_domain::codes::IdCardNumber::parse(&resident(&p2, 0).1).unwrap();
    assert!(users::find_by_id_number(&p2, &id).await.unwrap().is_some());
    assert_eq!(rotate_keys(&p2).await.unwrap(), 1);
    let new = sqlx::query("SELECT key_id, id_number_bidx FROM users WHERE id = $1")
        .bind(&user)
        .fetch_one(p2.db.pool())
        .await
        .unwrap();
    assert_eq!(new.get::<String, _>("key_id"), "k2");
    assert_ne!(
        new.get::<String, _>("id_number_bidx"),
        old.get::<String, _>("id_number_bidx")
    );
    // After rotation the old key can go: a ring with only the new key reads everything.
    let k2_only = p2.keys.pii.current_id().to_owned();
    assert_eq!(k2_only, "k2");
    assert!(users::find_by_id_number(&p2, &id).await.unwrap().is_some());
    assert_eq!(rotate_keys(&p2).await.unwrap(), 0);
}

async fn citizen(p: &Platform, name: &str, id: &str, phone: &str) -> users::UserSession {
    let uid = users::register(p, &registration(name, id, phone), "10.1.1.1")
        .await
        .unwrap();
    let code = last_code(p, phone);
    users::confirm_phone(p, &uid, &code, "10.1.1.1")
        .await
        .unwrap()
        .1
}

async fn enterprise_and_agent(b: Backend) {
    use yiwang_connectors::demo::CHEN_JI_NOODLES_CREDIT_CODE as XIANGJIANG_TECH_CREDIT_CODE;
    use yiwang_services::identity::enterprises::{self, Scope};
    let t = platform(b).await;
    let p = &*t.p;
    // 陈静 (a demo citizen at L3) runs 陈记米粉店 according to the legal-person library.
    let (_, rep) = users::sign_in_password(p, "13800000003", demo::DEMO_PASSWORD, "10.1.1.1")
        .await
        .unwrap();
    let (agent_name, agent_id) = resident(p, 2);
    let agent = citizen(p, &agent_name, &agent_id, "13600000002").await;
    let (other_name, other_id) = resident(p, 3);
    let other = citizen(p, &other_name, &other_id, "13600000003").await;
    // Only the legal representative named by the legal-person library may bind.
    assert!(matches!(
        enterprises::bind(p, &other, XIANGJIANG_TECH_CREDIT_CODE, "10.1.1.1").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        enterprises::bind(p, &rep, "91430104MA4L7R2K17", "10.1.1.1").await,
        Err(ServiceError::Invalid(_))
    ));
    let e = enterprises::bind(p, &rep, XIANGJIANG_TECH_CREDIT_CODE, "10.1.1.1")
        .await
        .unwrap();
    assert_eq!(e.name, "湘潭市雨湖区陈记米粉店");
    assert!(matches!(
        enterprises::bind(p, &rep, XIANGJIANG_TECH_CREDIT_CODE, "10.1.1.1").await,
        Err(ServiceError::Conflict(_))
    ));
    let codes: Vec<String> =
        sqlx::query("SELECT basic_code FROM catalogue_items ORDER BY basic_code LIMIT 2")
            .fetch_all(p.db.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("basic_code"))
            .collect();
    let until = (t.clock.now() + chrono::Duration::days(30)).date_naive();
    // Bad grants name their fields and change nothing.
    let bad = enterprises::grant(
        p,
        &rep,
        XIANGJIANG_TECH_CREDIT_CODE,
        "123",
        &agent_name,
        Scope::Items(vec![]),
        (t.clock.now() - chrono::Duration::days(1)).date_naive(),
        "10.1.1.1",
    )
    .await
    .unwrap_err();
    let fields = invalid_fields(bad);
    for f in ["agent_id_number", "scope", "until"] {
        assert!(fields.iter().any(|x| x == f), "{f}: {fields:?}");
    }
    // Someone else cannot grant for the enterprise (and does not learn it exists).
    assert!(matches!(
        enterprises::grant(
            p,
            &other,
            XIANGJIANG_TECH_CREDIT_CODE,
            &agent_id,
            &agent_name,
            Scope::All,
            until,
            "10.1.1.1"
        )
        .await,
        Err(ServiceError::NotFound { .. })
    ));
    let g = enterprises::grant(
        p,
        &rep,
        XIANGJIANG_TECH_CREDIT_CODE,
        &agent_id,
        &agent_name,
        Scope::Items(vec![codes[0].clone()]),
        until,
        "10.1.1.1",
    )
    .await
    .unwrap();
    assert_eq!(
        g.agent_name_masked,
        yiwang_crypto::mask::mask_name(&agent_name)
    );
    let may = |user: &str, code: Option<&str>| {
        let user = user.to_owned();
        let code = code.map(str::to_owned);
        async move {
            enterprises::may_act_for(p, &user, XIANGJIANG_TECH_CREDIT_CODE, code.as_deref())
                .await
                .unwrap()
        }
    };
    assert!(may(&agent.user.id, Some(&codes[0])).await);
    assert!(!may(&agent.user.id, Some(&codes[1])).await);
    assert!(may(&rep.user.id, Some(&codes[1])).await);
    assert!(!may(&other.user.id, None).await);
    assert_eq!(enterprises::my_grants(p, &agent).await.unwrap().len(), 1);
    // The agent was told by SMS.
    assert!(
        p.outside
            .last_dev_message("13600000002")
            .unwrap()
            .contains("湘潭市雨湖区陈记米粉店")
    );
    // Expiry and revocation end the authority.
    t.clock.advance(chrono::Duration::days(31));
    assert!(!may(&agent.user.id, Some(&codes[0])).await);
    enterprises::revoke(p, &rep, &g.id, "10.1.1.1")
        .await
        .unwrap();
    assert!(matches!(
        enterprises::revoke(p, &rep, &g.id, "10.1.1.1").await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(
        enterprises::grants_of(p, &rep, XIANGJIANG_TECH_CREDIT_CODE)
            .await
            .unwrap()[0]
            .revoked_at
            .is_some()
    );
    assert!(audit::verify(p).await.unwrap().first_bad.is_none());
}

#[tokio::test]
async fn enterprises_authorise_agents_within_a_scope_on_every_backend() {
    for b in backends() {
        enterprise_and_agent(b).await;
    }
}

#[tokio::test]
async fn demo_citizens_sign_in_at_their_levels_and_the_agent_acts_for_the_enterprise() {
    use yiwang_services::identity::enterprises;
    let t = platform(Backend::Sqlite).await;
    let p = &*t.p;
    let mut agent = None;
    for (name, id, phone, level) in demo::DEMO_CITIZENS {
        let (_, s) = users::sign_in_password(p, phone, demo::DEMO_PASSWORD, "10.1.1.1")
            .await
            .unwrap();
        assert_eq!(s.user.level, *level, "{name}");
        users::sign_in_password(p, id, demo::DEMO_PASSWORD, "10.1.1.1")
            .await
            .unwrap();
        if *name == "刘芳" {
            agent = Some(s);
        }
    }
    let agent = agent.unwrap();
    let grants = enterprises::my_grants(p, &agent).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert!(
        enterprises::may_act_for(
            p,
            &agent.user.id,
            &grants[0].enterprise,
            Some("000000000000")
        )
        .await
        .unwrap()
    );
}
