//! Citizens' accounts and staff identity pages over real HTTP: registration with the SMS code
//! from the development outbox, sign-in by password and by code, the account page (masked data
//! only), CSRF and field checks; staff TOTP enrolment, the organisation switcher, 窗口实名核验
//! and the audit log. The app runs on port 0 with its own SQLite database (and PostgreSQL when
//! the test script provides one), the demo province and a clock the test moves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use yiwang_connectors::{PersonRecord, PopulationLibrary, fixed_residents};

use common::{App, Backend, Browser, Page, Time, pg_url};

const PHONE: &str = "13912341111";
const OTHER_PHONE: &str = "13912342222";
const PASSWORD: &str = "Xiaoming#2026";

impl App {
    /// Two generated residents of the built-in population library with three-character
    /// names (not the fixed demo people, whom the demo may have registered already).
    fn residents(&self) -> (PersonRecord, PersonRecord) {
        let PopulationLibrary::BuiltIn(lib) = &self.platform.outside.population else {
            panic!("the tests use the built-in population library");
        };
        let mut it = lib.residents()[fixed_residents().len()..]
            .iter()
            .filter(|r| r.name.chars().count() == 3 && r.name.chars().all(char::is_alphabetic));
        (it.next().unwrap().clone(), it.next().unwrap().clone())
    }

    /// The 6 digits of the newest message to `phone` in the development outbox.
    fn code_for(&self, phone: &str) -> String {
        let text = self.platform.outside.last_dev_message(phone).unwrap();
        let digits: Vec<char> = text.chars().collect();
        digits
            .windows(6)
            .find(|w| w.iter().all(char::is_ascii_digit))
            .map(|w| w.iter().collect())
            .unwrap_or_else(|| panic!("no code in {text}"))
    }
}

/// A form's fields as the HTTP client takes them.
fn refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The masked forms of a resident's name and ID number.
fn masks(r: &PersonRecord) -> (String, String) {
    (
        yiwang_crypto::mask::mask_name(&r.name),
        yiwang_crypto::mask::mask_id_number(&r.id_number),
    )
}

/// No page may show the full ID number, phone or name of the citizen.
fn masked_only(p: &Page, r: &PersonRecord) {
    for secret in [r.id_number.as_str(), PHONE, r.name.as_str()] {
        assert!(
            !p.body.contains(secret),
            "{secret} shown in full:\n{}",
            p.body
        );
    }
}

async fn journey(app: &App) {
    let me = app.browser();
    let (person, other_person) = app.residents();
    let (name_masked, id_masked) = masks(&person);

    // Registration form, a forged post, bad fields.
    let form = me.get("/account/register").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<label for=\"id_number\">"));
    let csrf = form.csrf();
    let fields = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("name", person.name.clone()),
            ("id_number", person.id_number.clone()),
            ("phone", PHONE.to_string()),
            ("password", PASSWORD.to_string()),
            ("password2", PASSWORD.to_string()),
        ]
    };
    let forged = me
        .post("/account/register", &refs(&fields(&"0".repeat(64))))
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(forged.body.contains("CSRF"));
    let bad = me
        .post(
            "/account/register",
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("id_number", "430104199005120136"),
                ("phone", "12345"),
                ("password", "abc"),
                ("password2", "abc"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    for (id, label) in [
        ("err-name", "姓名："),
        ("err-id_number", "居民身份证号码："),
        ("err-phone", "手机号码："),
        ("err-password", "密码："),
    ] {
        assert!(bad.body.contains(&format!("id=\"{id}\"")), "{id} missing");
        assert!(bad.body.contains(label), "{label} missing");
    }
    assert!(bad.body.contains("aria-describedby=\"err-phone\""));

    // Register: the code goes to the phone.
    let done = me.post("/account/register", &refs(&fields(&csrf))).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location.starts_with("/account/confirm?u="));
    let confirm = me.get(&done.location).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("139****1111"));
    masked_only(&confirm, &person);
    let user_id = done.location.trim_start_matches("/account/confirm?u=");
    let wrong = me
        .post(
            "/account/confirm",
            &[("csrf", &csrf), ("u", user_id), ("code", "abcdef")],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("验证码不正确"));
    let code = app.code_for(PHONE);
    let ok = me
        .post(
            "/account/confirm",
            &[("csrf", &csrf), ("u", user_id), ("code", &code)],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location, "/account?done=registered");

    // The account page: L2 from the population library, masked data only.
    let account = me.get("/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains("L2 人口库核验"), "{}", account.body);
    assert!(account.body.contains(&id_masked));
    assert!(account.body.contains("139****1111"));
    assert!(account.body.contains(&name_masked));
    assert!(account.body.contains("L3 窗口现场核验"));
    assert!(!account.body.contains("发起人口库核验"));
    masked_only(&account, &person);
    let home = me.get("/").await;
    assert!(home.body.contains(&name_masked) && home.body.contains("/account/logout"));
    assert!(!home.body.contains(&person.id_number) && !home.body.contains(PHONE));
    let session_csrf = account.csrf();

    // A forged password change changes nothing; mismatched and weak passwords are refused.
    let forged = me
        .post(
            "/account/password",
            &[
                ("csrf", "forged"),
                ("old_password", PASSWORD),
                ("new_password", "Other#Pass2026"),
                ("new_password2", "Other#Pass2026"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let mismatch = me
        .post(
            "/account/password",
            &[
                ("csrf", &session_csrf),
                ("old_password", PASSWORD),
                ("new_password", "Other#Pass2026"),
                ("new_password2", "Other#Pass2027"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 400);
    assert!(mismatch.body.contains("确认新密码：两次输入的新密码不一致"));
    let wrong_old = me
        .post(
            "/account/password",
            &[
                ("csrf", &session_csrf),
                ("old_password", "Wrong#Pass2026"),
                ("new_password", "Other#Pass2026"),
                ("new_password2", "Other#Pass2026"),
            ],
        )
        .await;
    assert_eq!(wrong_old.status, 400);
    assert!(wrong_old.body.contains("原密码：原密码不正确"));

    // Sign out; the account page then asks to sign in.
    let out = me.post("/account/logout", &[("csrf", &session_csrf)]).await;
    assert_eq!(out.status, 303);
    let gone = me.get("/account").await;
    assert_eq!(gone.status, 303);
    assert_eq!(gone.location, "/account/login?next=/account");
    let home = me.get("/").await;
    assert!(home.body.contains("/account/register") && !home.body.contains("/account/logout"));

    // Password sign-in (the old password still works: the forged change did nothing).
    let login = me.get("/account/login?next=/account").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("/admin/login"));
    let csrf = login.csrf();
    let wrong = me
        .post(
            "/account/login",
            &[
                ("csrf", &csrf),
                ("account", person.id_number.as_str()),
                ("password", "Wrong#Pass2026"),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("账号或密码不正确"));
    let good = me
        .post(
            "/account/login",
            &[
                ("csrf", &csrf),
                ("account", person.id_number.as_str()),
                ("password", PASSWORD),
                ("next", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(good.status, 303, "{}", good.body);
    assert_eq!(good.location, "/account");
    let account = me.get("/account").await;
    assert_eq!(account.status, 200);
    me.post("/account/logout", &[("csrf", &account.csrf())])
        .await;

    // SMS-code sign-in (a minute after the registration code: one code a minute per phone).
    app.clock().advance(chrono::Duration::seconds(61));
    let login = me.get("/account/login").await;
    let csrf = login.csrf();
    let sent = me
        .post(
            "/account/login/code/send",
            &[("csrf", &csrf), ("phone", PHONE), ("next", "/items")],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("139****1111") && sent.body.contains("name=\"code\""));
    let code = app.code_for(PHONE);
    let good = me
        .post(
            "/account/login/code",
            &[
                ("csrf", &csrf),
                ("phone", PHONE),
                ("code", &code),
                ("next", "/items"),
            ],
        )
        .await;
    assert_eq!(good.status, 303, "{}", good.body);
    assert_eq!(good.location, "/items");

    // A second registration with the same ID number and phone is refused.
    let other = app.browser();
    let csrf = other.get("/account/register").await.csrf();
    let dup = other
        .post(
            "/account/register",
            &[
                ("csrf", &csrf),
                ("name", person.name.as_str()),
                ("id_number", person.id_number.as_str()),
                ("phone", PHONE),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(dup.status, 400);
    assert!(dup.body.contains("该身份证号码已注册"));
    assert!(dup.body.contains("该手机号码已被其他账号使用"));

    // Another registration: 重新发送 at most once a minute.
    let reg = other
        .post(
            "/account/register",
            &[
                ("csrf", &csrf),
                ("name", other_person.name.as_str()),
                ("id_number", other_person.id_number.as_str()),
                ("phone", OTHER_PHONE),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reg.status, 303, "{}", reg.body);
    let u = reg.location.trim_start_matches("/account/confirm?u=");
    let soon = other
        .post("/account/confirm/resend", &[("csrf", &csrf), ("u", u)])
        .await;
    assert_eq!(soon.status, 429);
    assert!(soon.body.contains("验证码发送过于频繁"));
    app.clock().advance(chrono::Duration::seconds(61));
    let again = other
        .post("/account/confirm/resend", &[("csrf", &csrf), ("u", u)])
        .await;
    assert_eq!(again.status, 303);
    assert!(again.location.ends_with("&sent=1"));

    staff(app, &me, &person).await;
}

/// TOTP, the organisation switcher, 窗口实名核验 and the audit log.
async fn staff(app: &App, citizen: &Browser, person: &PersonRecord) {
    let (_, id_masked) = masks(person);
    // The system administrator must enrol TOTP before anything else.
    let admin = app.browser();
    let next = admin.staff_sign_in("admin").await;
    assert_eq!(next, "/admin/totp?next=/admin");
    let items = admin.get("/admin/audit").await;
    assert_eq!(items.status, 303);
    assert!(items.location.starts_with("/admin/totp"));
    let page = admin.get("/admin/totp?next=/admin").await;
    assert_eq!(page.status, 200);
    let secret = page.totp_secret();
    assert!(page.body.contains("otpauth://totp/"));
    let wrong = admin
        .post(
            "/admin/totp",
            &[
                ("csrf", &page.csrf()),
                ("code", "12345x"),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 400);
    // A wrong code during enrolment shows a new secret.
    let secret2 = wrong.totp_secret();
    assert_ne!(secret, secret2);
    let code = app.totp_code(&secret2);
    let ok = admin
        .post(
            "/admin/totp",
            &[("csrf", &page.csrf()), ("code", &code), ("next", "/admin")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location, "/admin?done=totp_enabled");
    assert_eq!(admin.get("/admin").await.status, 200);
    let audit = admin.get("/admin/audit").await;
    assert_eq!(audit.status, 200);
    assert!(audit.body.contains("staff.totp_enrol"));
    assert!(audit.body.contains("user.register"));
    let check = admin.get("/admin/audit?verify=1").await;
    assert_eq!(check.status, 200);
    assert!(check.body.contains("校验通过"), "{}", check.body);
    assert_eq!(admin.get("/admin/audit?before=x").await.status, 400);

    // The administrator registers a department's system; its secret is shown once.
    let clients = admin.get("/admin/clients").await;
    assert_eq!(clients.status, 200);
    let csrf = clients.csrf();
    let bad = admin
        .post(
            "/admin/clients",
            &[
                ("csrf", &csrf),
                ("name", "审批系统"),
                ("redirect_uris", "http://evil.example/cb"),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(!bad.body.contains("client_secret"));
    let forged = admin
        .post(
            "/admin/clients",
            &[
                ("csrf", "forged"),
                ("name", "审批系统"),
                ("redirect_uris", "https://spxt.example.gov.cn/cb"),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let added = admin
        .post(
            "/admin/clients",
            &[
                ("csrf", &csrf),
                ("name", "审批系统"),
                ("redirect_uris", "https://spxt.example.gov.cn/cb"),
                ("scope", "openid profile"),
            ],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("client_secret"));
    let again = admin.get("/admin/clients").await;
    assert!(again.body.contains("审批系统") && !again.body.contains("client_secret</dt>"));

    // An item manager sees neither the audit log nor the window check.
    let manager = app.browser();
    assert_eq!(manager.staff_sign_in("cs.scjg.manager").await, "/admin");
    assert_eq!(manager.get("/admin/audit").await.status, 403);
    assert_eq!(manager.get("/admin/identity/verify").await.status, 403);
    assert_eq!(manager.get("/admin/clients").await.status, 403);

    // Someone with roles in two organisations switches between them.
    let two = app.browser();
    two.staff_sign_in("cs.reviewer").await;
    let dash = two.get("/admin").await;
    assert!(dash.body.contains("action=\"/admin/org\""), "{}", dash.body);
    let csrf = dash.csrf();
    let forged = two
        .post("/admin/org", &[("csrf", "x"), ("org", "whatever")])
        .await;
    assert_eq!(forged.status, 403);
    let key = "<option value=\"";
    let orgs: Vec<String> = dash
        .body
        .match_indices(key)
        .map(|(i, _)| {
            dash.body[i + key.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(orgs.len(), 2);
    let switched = two
        .post("/admin/org", &[("csrf", &csrf), ("org", &orgs[1])])
        .await;
    assert_eq!(switched.status, 303, "{}", switched.body);
    let dash = two.get("/admin").await;
    assert!(
        dash.body
            .contains(&format!("<option value=\"{}\" selected", orgs[1]))
    );
    let not_mine = two
        .post(
            "/admin/org",
            &[("csrf", &csrf), ("org", "91430000000000000X")],
        )
        .await;
    assert_eq!(not_mine.status, 403);

    // The window clerk raises the citizen to L3.
    let clerk = app.browser();
    assert_eq!(clerk.staff_sign_in("yl.window").await, "/admin");
    let form = clerk.get("/admin/identity/verify").await;
    assert_eq!(form.status, 200);
    let bad = clerk
        .post(
            "/admin/identity/verify",
            &[("csrf", &form.csrf()), ("id_number", "123")],
        )
        .await;
    assert_eq!(bad.status, 400);
    let forged = clerk
        .post(
            "/admin/identity/verify",
            &[("csrf", "x"), ("id_number", person.id_number.as_str())],
        )
        .await;
    assert_eq!(forged.status, 403);
    let done = clerk
        .post(
            "/admin/identity/verify",
            &[
                ("csrf", &form.csrf()),
                ("id_number", person.id_number.as_str()),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("L3 窗口现场核验"));
    assert!(done.body.contains(&id_masked));
    masked_only(&done, person);
    let account = citizen.get("/account").await;
    assert!(
        account.body.contains("您已达到最高实名等级"),
        "{}",
        account.body
    );
}

#[tokio::test]
async fn accounts_on_sqlite() {
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    journey(&app).await;
}

#[tokio::test]
async fn accounts_on_postgres() {
    if pg_url().is_none() {
        return;
    }
    let app = common::spawn(Backend::Postgres, Time::Fixed).await;
    journey(&app).await;
}

/// The legal representative's enterprise page: the demo enterprise with its agent (masked),
/// a refused grant naming its fields, revocation, and someone else's attempts refused.
#[tokio::test]
async fn enterprise_pages_on_sqlite() {
    use yiwang_connectors::demo::{LIU_FANG_ID, XIANGJIANG_TECH_CREDIT_CODE};
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    let rep = app.browser();
    assert_eq!(
        rep.citizen_sign_in("13800000004", "/account/enterprise")
            .await,
        "/account/enterprise"
    );
    let page = rep.get("/account/enterprise").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("湖南湘江智能科技有限公司"));
    assert!(page.body.contains("刘*"), "{}", page.body);
    assert!(!page.body.contains(LIU_FANG_ID));
    let csrf = page.csrf();
    // A grant to a person below L2 (李华, L1) is refused with the field named; bad dates too.
    let refused = rep
        .post(
            "/account/enterprise/grant",
            &[
                ("csrf", &csrf),
                ("credit_code", XIANGJIANG_TECH_CREDIT_CODE),
                ("agent_name", "李华"),
                ("agent_id_number", yiwang_connectors::demo::LI_HUA_ID),
                ("scope", "all"),
                ("until", "2027-01-31"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("L2"));
    let bad_date = rep
        .post(
            "/account/enterprise/grant",
            &[
                ("csrf", &csrf),
                ("credit_code", XIANGJIANG_TECH_CREDIT_CODE),
                ("agent_name", "李华"),
                ("agent_id_number", yiwang_connectors::demo::LI_HUA_ID),
                ("scope", "all"),
                ("until", "明年"),
            ],
        )
        .await;
    assert_eq!(bad_date.status, 400);
    // Forged CSRF changes nothing; the real revocation ends the grant.
    let key = "action=\"/account/enterprise/grants/";
    let at = page.body.find(key).unwrap() + key.len();
    let grant = page.body[at..].split('/').next().unwrap().to_string();
    let forged = rep
        .post(
            &format!("/account/enterprise/grants/{grant}/revoke"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let done = rep
        .post(
            &format!("/account/enterprise/grants/{grant}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(
        rep.get("/account/enterprise?done=revoked")
            .await
            .body
            .contains("已失效")
    );
    // Another citizen may neither bind the enterprise nor revoke its grants.
    let other = app.browser();
    other.citizen_sign_in("13800000002", "/account").await;
    let theirs = other.get("/account/enterprise").await;
    assert!(!theirs.body.contains("湖南湘江智能科技有限公司"));
    let bind = other
        .post(
            "/account/enterprise/bind",
            &[
                ("csrf", &theirs.csrf()),
                ("credit_code", XIANGJIANG_TECH_CREDIT_CODE),
            ],
        )
        .await;
    assert_eq!(bind.status, 403, "{}", bind.body);
    let revoke = other
        .post(
            &format!("/account/enterprise/grants/{grant}/revoke"),
            &[("csrf", &theirs.csrf())],
        )
        .await;
    assert_eq!(revoke.status, 404);
    assert!(!revoke.body.contains("湖南湘江智能科技有限公司"));
    // Anonymous visitors are sent to sign in.
    let anon = app.browser().get("/account/enterprise").await;
    assert_eq!(anon.status, 303);
}

/// A staff member changes their own password: the form checks the current password, the
/// repetition and the policy; the change ends their other sessions and is audited.
#[tokio::test]
async fn staff_change_their_own_password() {
    use yiwang_services::identity::{audit, staff};
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    let me = app.browser();
    assert_eq!(me.staff_sign_in("yl.scjg.approver").await, "/admin");
    let (other_token, _) = staff::sign_in(
        &app.platform,
        "yl.scjg.approver",
        yiwang_services::demo::DEMO_PASSWORD,
        "10.0.0.2",
    )
    .await
    .unwrap();
    let form = me.get("/admin/password").await;
    assert_eq!(form.status, 200);
    let csrf = form.csrf();
    let post = |old: &'static str, new: &'static str, again: &'static str, csrf: String| {
        let me = &me;
        async move {
            me.post(
                "/admin/password",
                &[
                    ("csrf", &csrf),
                    ("old_password", old),
                    ("new_password", new),
                    ("new_password2", again),
                ],
            )
            .await
        }
    };
    let forged = post("Yiwang@2026", "Approver#2027", "Approver#2027", "x".into()).await;
    assert_eq!(forged.status, 403);
    let differ = post(
        "Yiwang@2026",
        "Approver#2027",
        "Approver#2028",
        csrf.clone(),
    )
    .await;
    assert_eq!(differ.status, 400);
    let wrong = post("not-it", "Approver#2027", "Approver#2027", csrf.clone()).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("原密码不正确"));
    let weak = post("Yiwang@2026", "short", "short", csrf.clone()).await;
    assert_eq!(weak.status, 400);
    let done = post("Yiwang@2026", "Approver#2027", "Approver#2027", csrf).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location, "/admin?done=password");
    // This session goes on; the other one ended; the new password works, the old one not.
    assert_eq!(me.get("/admin").await.status, 200);
    assert!(
        staff::session(&app.platform, &other_token)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        staff::sign_in(
            &app.platform,
            "yl.scjg.approver",
            "Approver#2027",
            "10.0.0.3"
        )
        .await
        .is_ok()
    );
    assert!(
        staff::sign_in(
            &app.platform,
            "yl.scjg.approver",
            yiwang_services::demo::DEMO_PASSWORD,
            "10.0.0.3"
        )
        .await
        .is_err()
    );
    let log = audit::recent(&app.platform, None, 50).await.unwrap();
    assert!(log.iter().any(|l| l.action == "staff.password_change"));
}

/// The e-mail address for notices on 我的账号: a bad address is named, a code goes to a good
/// one, a wrong code changes nothing, the right one confirms it (shown masked), and it can be
/// removed.
#[tokio::test]
async fn email_for_notices() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    let b = app.browser();
    b.citizen_sign_in("13800000003", "/account").await;
    let page = b.get("/account").await;
    assert!(page.body.contains("id=\"email-send\""), "{}", page.body);
    let csrf = page.csrf();
    let r = b
        .post(
            "/account/email/send",
            &[("csrf", csrf.as_str()), ("email", "chen@")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id=\"err-email\""), "{}", r.body);
    let r = b
        .post(
            "/account/email/send",
            &[("csrf", csrf.as_str()), ("email", "chen.jing@example.cn")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"email-confirm\""), "{}", r.body);
    let text = app
        .platform
        .outside
        .last_dev_message("chen.jing@example.cn")
        .expect("the code was e-mailed");
    let chars: Vec<char> = text.chars().collect();
    let code: String = chars
        .windows(6)
        .find(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = b
        .post(
            "/account/email/confirm",
            &[
                ("csrf", csrf.as_str()),
                ("email", "chen.jing@example.cn"),
                ("code", wrong),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id=\"err-code\""), "{}", r.body);
    let r = b
        .post(
            "/account/email/confirm",
            &[
                ("csrf", csrf.as_str()),
                ("email", "chen.jing@example.cn"),
                ("code", code.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get("/account?done=email").await;
    assert!(page.body.contains("c***@example.cn"), "{}", page.body);
    assert!(!page.body.contains("chen.jing@example.cn"), "shown masked");
    let r = b
        .post("/account/email/remove", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = b.get("/account").await;
    assert!(!page.body.contains("c***@example.cn"));
    // Without the form's token nothing happens.
    let r = b
        .post(
            "/account/email/send",
            &[("csrf", "x"), ("email", "chen.jing@example.cn")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}
