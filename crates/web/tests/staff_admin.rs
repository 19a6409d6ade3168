//! 人员管理 over real HTTP: a department administrator (TOTP required) lists and creates staff
//! of their organisation, forged CSRF is refused with nothing created, an item manager gets
//! 403, and workbooks are imported whole or rejected with a row-by-row report. The app runs
//! on port 0 with its own SQLite database (and PostgreSQL when the test script provides one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use yiwang_store::Row;

use common::{App, Backend, Browser, Page, Time, pg_url};

impl Page {
    /// The value of the first `<option>` after `marker`.
    fn first_option_after(&self, marker: &str) -> String {
        let from = self.body.find(marker).expect("the marker") + marker.len();
        let key = "<option value=\"";
        let at = self.body[from..].find(key).unwrap() + from + key.len();
        self.body[at..].split('"').next().unwrap().to_string()
    }
}

impl App {
    async fn staff_exists(&self, username: &str) -> bool {
        sqlx::query("SELECT id FROM staff WHERE username = $1")
            .bind(username)
            .fetch_optional(self.platform.db.pool())
            .await
            .unwrap()
            .is_some()
    }

    async fn staff_count(&self) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM staff")
            .fetch_one(self.platform.db.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap()
    }
}

impl Browser {
    /// Posts a multipart form with the CSRF token and an .xlsx file.
    async fn upload(&self, path: &str, csrf: &str, file: &[u8]) -> Page {
        let boundary = "----yiwang-test-boundary-7d3f";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"staff.xlsx\"\r\nContent-Type: application/vnd.openxmlformats-\
                 officedocument.spreadsheetml.sheet\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.post_multipart(path, boundary, body).await
    }
}

/// A workbook with sheet 人员, the import header and these rows.
fn workbook(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("人员").unwrap();
    let header = [
        "用户名",
        "姓名",
        "所属单位统一社会信用代码",
        "角色",
        "角色所在单位统一社会信用代码",
        "初始密码",
    ];
    for (c, h) in (0u16..).zip(header) {
        sheet.write_string(0, c, h).unwrap();
    }
    for (r, row) in (1u32..).zip(rows) {
        for (c, v) in (0u16..).zip(row) {
            sheet.write_string(r, c, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn journey(app: &App) {
    // A department administrator must pass TOTP first.
    let dept = app.browser();
    assert_eq!(
        dept.staff_sign_in("cs.scjg.admin").await,
        "/admin/totp?next=/admin"
    );
    assert_eq!(dept.get("/admin/staff").await.status, 303);
    dept.pass_totp(app).await;

    // The list: own organisation only; the nav link is there.
    let list = dept.get("/admin/staff").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("href=\"/admin/staff\""));
    assert!(list.body.contains("人员管理"));
    assert!(list.body.contains("cs.scjg.manager"));
    assert!(!list.body.contains("yl.scjg.manager"));
    let found = dept.get("/admin/staff?q=manager").await;
    assert_eq!(found.status, 200);
    assert!(found.body.contains("cs.scjg.manager") && !found.body.contains("cs.scjg.admin<"));
    assert_eq!(dept.get("/admin/staff?page=x").await.status, 400);

    // The form offers only the own organisation and no administrative role.
    let form = dept.get("/admin/staff/new").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("for=\"username\""));
    assert!(form.body.contains("value=\"item_manager\""));
    assert!(!form.body.contains("value=\"system_admin\""));
    assert!(!form.body.contains("value=\"dept_admin\""));
    let org = form.first_option_after("id=\"home_org\"");
    assert_eq!(org.len(), 18, "{org}");

    // Forged CSRF: 403, nothing created.
    let fields = |csrf: &str, username: &str, password: &str| -> Vec<(String, String)> {
        vec![
            ("csrf".into(), csrf.into()),
            ("username".into(), username.into()),
            ("display_name".into(), "赵测试".into()),
            ("home_org".into(), org.clone()),
            ("roles".into(), "item_manager".into()),
            ("roles".into(), "window_clerk".into()),
            ("initial_password".into(), password.into()),
        ]
    };
    let refs = |v: &[(String, String)]| -> Vec<(String, String)> { v.to_vec() };
    let forged = fields("forged-token", "cs.scjg.zhao", "Zhao#2026pw");
    let r = Page::of(
        dept.http
            .post(format!("{}/admin/staff/new", dept.base))
            .form(&refs(&forged))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(!app.staff_exists("cs.scjg.zhao").await);

    // Bad fields: 400, the form again with the problem next to the field.
    let weak = fields(&form.csrf(), "cs.scjg.zhao", "weak");
    let r = Page::of(
        dept.http
            .post(format!("{}/admin/staff/new", dept.base))
            .form(&weak)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("initial_password-error"), "{}", r.body);
    assert!(r.body.contains("value=\"cs.scjg.zhao\""));
    assert!(!app.staff_exists("cs.scjg.zhao").await);

    // Created.
    let good = fields(&form.csrf(), "cs.scjg.zhao", "Zhao#2026pw");
    let r = Page::of(
        dept.http
            .post(format!("{}/admin/staff/new", dept.base))
            .form(&good)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.ends_with("?done=created"), "{}", r.location);
    let detail = dept.get(&r.location).await;
    assert_eq!(detail.status, 200);
    assert!(detail.body.contains("cs.scjg.zhao"));
    assert!(detail.body.contains("事项管理员") && detail.body.contains("窗口人员"));
    assert!(
        detail.body.contains("for=\"grant-role\"") && detail.body.contains("for=\"new_password\"")
    );
    let path = r.location.split('?').next().unwrap().to_string();

    // Disable from the page, then the account cannot sign in.
    let r = dept
        .post(&format!("{path}/disable"), &[("csrf", &detail.csrf())])
        .await;
    assert_eq!(r.status, 303);
    assert!(dept.get(&path).await.body.contains("已停用"));
    let r = dept
        .post(&format!("{path}/enable"), &[("csrf", "nope")])
        .await;
    assert_eq!(r.status, 403);

    // Someone outside the scope is not found; an unknown id neither.
    let sys_id: String = sqlx::query("SELECT id FROM staff WHERE username = 'admin'")
        .fetch_one(app.platform.db.pool())
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    assert_eq!(
        dept.get(&format!("/admin/staff/{sys_id}")).await.status,
        404
    );

    // Import: a good workbook, then a bad one (422, every problem listed, nothing written).
    let page = dept.get("/admin/staff/import").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("for=\"file\""));
    let template = dept.get("/admin/staff/template").await;
    assert_eq!(template.status, 200);
    let export = dept
        .http
        .get(format!("{}/admin/staff/export", dept.base))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 200);
    assert!(
        export.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );

    let ok = workbook(&[
        ["cs.scjg.qian", "钱一", &org, "窗口人员", "", "Qianyi#2026x"],
        [
            "cs.scjg.sun",
            "孙二",
            &org,
            "审批人员、事项管理员",
            &org,
            "Suner#2026x",
        ],
    ]);
    let r = dept.upload("/admin/staff/import", &page.csrf(), &ok).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location.contains("created=2"), "{}", r.location);
    assert!(app.staff_exists("cs.scjg.qian").await && app.staff_exists("cs.scjg.sun").await);
    let done = dept.get(&r.location).await;
    assert!(done.body.contains("导入完成"));

    let before = app.staff_count().await;
    let bad = workbook(&[
        [
            "cs.scjg.zhou",
            "周三",
            &org,
            "窗口人员",
            "",
            "Zhousan#2026x",
        ],
        ["cs.scjg.wu2", "吴四", &org, "系统管理员", "", "Wusi#2026xx"],
        ["cs.scjg.zheng", "郑五", &org, "窗口人员", "", "weak"],
    ]);
    let r = dept.upload("/admin/staff/import", &page.csrf(), &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("未导入任何数据"));
    assert!(r.body.contains("<td>3</td><td>角色</td>"), "{}", r.body);
    assert!(r.body.contains("<td>4</td><td>初始密码</td>"), "{}", r.body);
    assert_eq!(app.staff_count().await, before);
    assert!(!app.staff_exists("cs.scjg.zhou").await);
    // Forged token on upload, and no file.
    let r = dept.upload("/admin/staff/import", "forged", &ok).await;
    assert_eq!(r.status, 403);
    let r = dept.upload("/admin/staff/import", &page.csrf(), b"").await;
    assert_eq!(r.status, 400);
    let r = dept
        .upload("/admin/staff/import", &page.csrf(), b"not a workbook")
        .await;
    assert_eq!(r.status, 422);

    // An item manager manages nobody.
    let manager = app.browser();
    assert_eq!(manager.staff_sign_in("cs.scjg.manager").await, "/admin");
    let r = manager.get("/admin/staff").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("部门管理员"), "{}", r.body);
    assert!(
        !manager
            .get("/admin")
            .await
            .body
            .contains("href=\"/admin/staff\"")
    );
    assert_eq!(manager.get("/admin/staff/new").await.status, 403);
    assert_eq!(manager.get("/admin/staff/import").await.status, 403);
    let csrf = manager.get("/admin").await.csrf();
    let r = manager
        .post(&format!("{path}/enable"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn department_administrators_manage_their_staff_over_http() {
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    journey(&app).await;
    if pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::Fixed).await;
        journey(&app).await;
    }
}
