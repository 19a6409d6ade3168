//! 绩效评估 over real HTTP: the supervisor's report page (with the platform's own ECharts, the
//! figures in a table for those without JavaScript), its Excel export, a query with mistakes
//! (422, every problem named), the scoring page read-only for a supervisor and editable by a
//! system administrator (an impossible formula refused with nothing saved, a good one saved
//! as version 1), the API's report with a token; a window clerk is refused everywhere. The app
//! runs on port 0 with its own SQLite database (and PostgreSQL when the test script gives one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Time};
use yiwang_services::supervision::performance;

async fn journey(app: &App) {
    let p = &app.platform;
    performance::refresh(p).await.unwrap();

    let sup = app.browser();
    sup.staff_sign_in("supervisor").await;
    let page = sup.get("/admin/performance?period=2026&by=region").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("绩效评估"));
    assert!(page.body.contains("/static/echarts-5.6.0.min.js"));
    assert!(page.body.contains("id=\"units\"") || page.body.contains("该期间没有数据"));
    assert!(
        page.body.contains("href=\"/admin/performance\""),
        "nav link"
    );
    let page = sup.get("/admin/performance").await;
    assert_eq!(page.status, 200, "the last quarter by default");

    // The query's mistakes, each named; nothing else happens.
    let bad = sup.get("/admin/performance?period=2026Q7&by=street").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("统计期间应为") && bad.body.contains("分组应为"));
    let outside = sup.get("/admin/performance?region=440000").await;
    assert_eq!(outside.status, 403, "{}", outside.body);

    // The export: a workbook.
    let r = sup
        .http
        .get(format!(
            "{}/admin/performance/export.xlsx?period=2026&by=org",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));

    // ECharts from the platform itself, compressed.
    let js = sup
        .http
        .get(format!("{}/static/echarts-5.6.0.min.js", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(js.status().as_u16(), 200);
    assert_eq!(js.headers()["content-encoding"], "gzip");

    // The scoring page: read-only for a supervisor; a POST refused.
    let scoring = sup.get("/admin/performance/scoring").await;
    assert_eq!(scoring.status, 200);
    assert!(scoring.body.contains("on_time_rate") && !scoring.body.contains("保存为新版本"));
    let refused = sup
        .post(
            "/admin/performance/scoring",
            &[
                ("csrf", &scoring.csrf()),
                ("formula", "on_time_rate"),
                ("excellent", "90"),
                ("good", "80"),
                ("pass", "60"),
                ("note", "试试"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);

    // A system administrator (with the second factor) edits it.
    let admin = app.browser();
    admin.staff_sign_in("admin").await;
    admin.pass_totp(app).await;
    let form = admin.get("/admin/performance/scoring").await;
    assert!(form.body.contains("保存为新版本"));
    let wrong = admin
        .post(
            "/admin/performance/scoring",
            &[
                ("csrf", &form.csrf()),
                ("formula", "on_time_rate * (2"),
                ("excellent", "高"),
                ("good", "80"),
                ("pass", "90"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    for e in ["e-formula", "e-excellent", "e-good", "e-note"] {
        assert!(wrong.body.contains(e), "{e} marked: {}", wrong.body);
    }
    assert_eq!(performance::current_scoring(p).await.unwrap().0, 0);
    let saved = admin
        .post(
            "/admin/performance/scoring",
            &[
                ("csrf", &form.csrf()),
                ("formula", "clamp(on_time_rate - red, 0, 100)"),
                ("excellent", "95"),
                ("good", "85"),
                ("pass", "60"),
                ("note", "只看按时办结和红牌"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (v, s) = performance::current_scoring(p).await.unwrap();
    assert_eq!((v, s.excellent), (1, 95.0));
    let rolled = admin
        .post("/admin/performance/refresh", &[("csrf", &form.csrf())])
        .await;
    assert_eq!(rolled.status, 303, "{}", rolled.body);

    // A window clerk reads no report.
    let clerk = app.browser();
    clerk.staff_sign_in("yl.window").await;
    assert_eq!(clerk.get("/admin/performance").await.status, 403);
    assert_eq!(clerk.get("/admin/performance/scoring").await.status, 403);
    assert_eq!(
        clerk
            .get("/admin/performance/export.xlsx?period=2026")
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn performance_pages_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    journey(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::Fixed).await;
        journey(&app).await;
    }
}
