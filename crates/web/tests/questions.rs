//! 我要问 over real HTTP, pages only: the guide's question form (its CSRF token filled in for a
//! signed-in citizen only, a visitor sent to sign in), bad and forged posts, 我的提问, the
//! department's queue and answer form (stale revision 409), the asker's message, publishing
//! the edited answer as 常见问题 on the guide (personal numbers refused) and taking it down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Time};

/// A published, active item of the organisation of `username`.
async fn item_of(app: &App, username: &str) -> String {
    sqlx::query_scalar(
        "SELECT i.code FROM items i JOIN staff_roles r ON r.org = i.org \
         JOIN staff s ON s.id = r.staff_id WHERE s.username = $1 AND i.state = 'active' \
         AND i.published_version IS NOT NULL ORDER BY i.code LIMIT 1",
    )
    .bind(username)
    .fetch_one(app.platform.db.pool())
    .await
    .unwrap()
}

/// The text after `marker` up to the next `"` or `<`.
fn attr(body: &str, marker: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the page"))
        + marker.len();
    body[at..].split(['"', '<']).next().unwrap().to_string()
}

async fn journey(app: &App) {
    let code = item_of(app, "yl.rsj.manager").await;
    let guide = format!("/items/{code}");
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM questions")
            .fetch_one(app.platform.db.pool())
            .await
            .unwrap()
    };

    // A visitor sees the form with the token slot, and is sent to sign in when sending it.
    let anon = app.browser();
    let page = anon.get(&guide).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"ask\"") && page.body.contains("暂无常见问题"));
    assert!(page.body.contains("value=\"yw-csrf-slot\""));
    let r = anon
        .post(
            "/account/questions",
            &[
                ("csrf", "yw-csrf-slot"),
                ("item", &code),
                ("text", "请问需要带什么材料？"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.location,
        format!("/account/login?next=/account/questions/new%3Fitem%3D{code}")
    );
    assert_eq!(count().await, 0);

    // Signed in, the guide's form carries the session's token (and the page is not cached).
    let wang = app.browser();
    wang.citizen_sign_in("13800000002", "/account").await;
    let r = wang
        .http
        .get(format!("{}{guide}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = common::Page::of(r).await;
    assert!(!page.body.contains("yw-csrf-slot"));
    let token = attr(
        &page.body[page.body.find("action=\"/account/questions\"").unwrap()..],
        "name=\"csrf\" value=\"",
    );
    assert_eq!(token, wang.get("/account").await.csrf());
    // The visitor's cached copy still holds only the slot.
    assert!(anon.get(&guide).await.body.contains("yw-csrf-slot"));

    // Forged: 403; too short: the form again with the problem and the text kept.
    for forged in ["", "yw-csrf-slot", &"0".repeat(64)] {
        let r = wang
            .post(
                "/account/questions",
                &[
                    ("csrf", forged),
                    ("item", &code),
                    ("text", "请问需要带什么材料？"),
                ],
            )
            .await;
        assert_eq!(r.status, 403, "{forged}");
    }
    let r = wang
        .post(
            "/account/questions",
            &[("csrf", &token), ("item", &code), ("text", "请问？")],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("至少5个字") && r.body.contains(">请问？</textarea>"));
    assert_eq!(count().await, 0);
    // The question page of the item works on its own too.
    let own = wang
        .get(&format!("/account/questions/new?item={code}"))
        .await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains("id=\"text\""));

    let text = "我是王小明，电话13800000002，请问申领需要带哪些材料？";
    let r = wang
        .post(
            "/account/questions",
            &[("csrf", &token), ("item", &code), ("text", text)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/account/questions?done=asked");
    let mine = wang.get("/account/questions?done=asked").await;
    assert!(mine.body.contains(text) && mine.body.contains("待答复"));
    assert!(mine.body.contains("答复期限"));
    let other = app.browser();
    other.citizen_sign_in("13800000001", "/account").await;
    assert!(!other.get("/account/questions").await.body.contains(text));

    // The department: the approver sees it in the queue and answers.
    let approver = app.browser();
    approver.staff_sign_in("yl.rsj.approver").await;
    let queue = approver.get("/admin/questions").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(queue.body.contains("href=\"/admin/questions\""), "nav link");
    let id = attr(&queue.body, "href=\"/admin/questions/");
    let detail = approver.get(&format!("/admin/questions/{id}")).await;
    assert!(detail.body.contains(text) && detail.body.contains("138****0002"));
    assert!(
        !detail
            .body
            .contains("action=\"/admin/questions/{id}/publish\"")
    );
    let csrf = detail.csrf();
    let rev = attr(&detail.body, "name=\"rev\" value=\"");
    let answer_url = format!("/admin/questions/{id}/answer");
    let r = approver
        .post(
            &answer_url,
            &[("csrf", &csrf), ("rev", &rev), ("answer", " ")],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = approver
        .post(
            &answer_url,
            &[("csrf", &csrf), ("rev", "99"), ("answer", "请带身份证。")],
        )
        .await;
    assert_eq!(r.status, 409);
    let r = approver
        .post(&answer_url, &[("rev", &rev), ("answer", "请带身份证。")])
        .await;
    assert_eq!(r.status, 403);
    let r = approver
        .post(
            &answer_url,
            &[
                ("csrf", &csrf),
                ("rev", &rev),
                ("answer", "王先生您好：请携带身份证原件和解除劳动合同证明。"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, format!("/admin/questions/{id}?done=answered"));
    // Approvers answer; publishing is for the item managers.
    let detail = approver.get(&r.location).await;
    assert!(detail.body.contains("已答复") && !detail.body.contains("name=\"rev\""));
    let rev = "2".to_string();
    let r = approver
        .post(
            &format!("/admin/questions/{id}/publish"),
            &[
                ("csrf", &csrf),
                ("rev", &rev),
                ("faq_question", "申领需要带哪些材料？"),
                ("faq_answer", "请携带身份证原件。"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);

    // The asker sees the answer and a message.
    assert!(
        wang.get("/account/questions")
            .await
            .body
            .contains("解除劳动合同证明")
    );
    assert!(
        wang.get("/account/cases")
            .await
            .body
            .contains("您的提问已答复")
    );

    // Another organisation's manager does not find it.
    let stranger = app.browser();
    stranger.staff_sign_in("cs.scjg.manager").await;
    assert_eq!(
        stranger.get(&format!("/admin/questions/{id}")).await.status,
        404
    );

    // The manager publishes the edited wording; the guide shows it to everyone.
    let manager = app.browser();
    manager.staff_sign_in("yl.rsj.manager").await;
    let detail = manager.get(&format!("/admin/questions/{id}")).await;
    assert!(
        detail
            .body
            .contains(&format!("action=\"/admin/questions/{id}/publish\""))
    );
    let csrf = detail.csrf();
    let publish = format!("/admin/questions/{id}/publish");
    let r = manager
        .post(
            &publish,
            &[
                ("csrf", &csrf),
                ("rev", &rev),
                ("faq_question", text),
                ("faq_answer", "请携带身份证原件。"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "the phone number is still in");
    assert!(r.body.contains("aria-invalid=\"true\""));
    let r = manager
        .post(
            &publish,
            &[
                ("csrf", &csrf),
                ("rev", &rev),
                ("faq_question", "申领失业保险金需要带哪些材料？"),
                ("faq_answer", "请携带身份证原件和解除劳动合同证明。"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = anon.get(&guide).await;
    assert!(page.body.contains("申领失业保险金需要带哪些材料？"));
    assert!(!page.body.contains("13800000002") && !page.body.contains("王先生"));
    let page = app.browser().get(&format!("{guide}?lang=en")).await;
    assert!(page.body.contains("Frequently asked") && page.body.contains("申领失业保险金"));

    // Taken down, it leaves the guide.
    let detail = manager.get(&format!("/admin/questions/{id}")).await;
    let rev = attr(&detail.body, "name=\"rev\" value=\"");
    let r = manager
        .post(
            &format!("/admin/questions/{id}/unpublish"),
            &[("csrf", &csrf), ("rev", &rev)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        !anon
            .get(&guide)
            .await
            .body
            .contains("申领失业保险金需要带哪些材料？")
    );

    // The citizen withdraws a second question; a stale withdrawal is refused.
    let r = wang
        .post(
            "/account/questions",
            &[
                ("csrf", &token),
                ("item", &code),
                ("text", "请问周六可以办理吗？"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let mine = wang.get("/account/questions").await;
    let second = attr(&mine.body, "action=\"/account/questions/");
    let second = second.trim_end_matches("/withdraw").to_string();
    let url = format!("/account/questions/{second}/withdraw");
    assert_eq!(
        other
            .post(
                &url,
                &[("csrf", &other.get("/account").await.csrf()), ("rev", "1")]
            )
            .await
            .status,
        404
    );
    assert_eq!(
        wang.post(&url, &[("csrf", &token), ("rev", "7")])
            .await
            .status,
        409
    );
    let r = wang.post(&url, &[("csrf", &token), ("rev", "1")]).await;
    assert_eq!(r.location, "/account/questions?done=withdrawn");
    assert!(
        wang.get("/account/questions")
            .await
            .body
            .contains("您已撤回该提问")
    );
}

#[tokio::test]
async fn ask_answer_publish_through_the_pages_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    journey(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::Fixed).await;
        journey(&app).await;
    }
}
