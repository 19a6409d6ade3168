//! 电子印章 and 证照目录 pages over real HTTP: the system administrator lists every seal, makes
//! one, rotates it and revokes it (not without a reason); a department administrator sees and
//! touches only their organisation's seals; other staff get 403, a form without the session's
//! CSRF token 403, anonymous visitors the sign-in page; a licence type with mistakes is refused
//! with every problem marked and nothing saved, a good one is saved and listed. The app runs on
//! port 0 with its own SQLite database (and PostgreSQL when the test script provides one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use yiwang_services::licences::{self, seals};

use common::{App, Backend, Browser, Time, pg_url};

impl App {
    async fn seals(&self) -> Vec<seals::Seal> {
        seals::list(&self.platform, None).await.unwrap()
    }

    async fn seal(&self, id: &str) -> seals::Seal {
        seals::get(&self.platform, id).await.unwrap()
    }

    async fn type_count(&self) -> usize {
        licences::licence_types(&self.platform).await.unwrap().len()
    }
}

impl Browser {
    /// Posts a multipart form with the CSRF token and an .xlsx file.
    async fn upload(&self, path: &str, csrf: &str, file: &[u8]) -> common::Page {
        let boundary = "----yiwang-licence-import-5c1e";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"licences.xlsx\"\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.post_multipart(path, boundary, body).await
    }

    /// A signed-in administrator past TOTP.
    async fn administrator(app: &App, username: &str) -> Browser {
        let b = app.browser();
        assert!(b.staff_sign_in(username).await.starts_with("/admin/totp"));
        b.pass_totp(app).await;
        b
    }
}

async fn seal_pages(app: &App, admin: &Browser, dept: &Browser) {
    // Anonymous visitors sign in first.
    let anon = app.browser();
    for path in ["/admin/seals", "/admin/licence-types"] {
        let r = anon.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(
            r.location.starts_with("/admin/login?next="),
            "{}",
            r.location
        );
    }

    // The system administrator sees every organisation's seals, with their public keys.
    let demo = app.seals().await;
    assert!(demo.len() >= 2, "the demo seals: {demo:?}");
    let list = admin.get("/admin/seals").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("href=\"/admin/seals\""));
    assert!(list.body.contains("href=\"/admin/licence-types\""));
    for s in &demo {
        assert!(list.body.contains(&s.name), "{} listed", s.name);
        assert!(
            list.body
                .contains(&format!("/api/v1/seals/{}/public-key.pem", s.id))
        );
    }
    assert!(list.body.contains("在用"));
    let csrf = list.csrf();
    let org = demo[0].org_code.clone();

    // A new seal: mistakes first (nothing made), then made.
    let r = admin
        .post(
            "/admin/seals",
            &[
                ("csrf", &csrf),
                ("org_code", &org),
                ("name", "岳麓区测试合同章"),
                ("seal_type", "04"),
                ("valid_years", "十年"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body
            .contains("name=\"valid_years\" value=\"十年\" aria-invalid=\"true\"")
    );
    assert!(
        r.body.contains("value=\"岳麓区测试合同章\""),
        "kept as typed"
    );
    assert_eq!(app.seals().await.len(), demo.len());
    let r = admin
        .post(
            "/admin/seals",
            &[
                ("csrf", &csrf),
                ("org_code", &org),
                ("name", "岳麓区测试合同章"),
                ("seal_type", "04"),
                ("valid_years", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/admin/seals?done=seal_created");
    let made = app
        .seals()
        .await
        .into_iter()
        .find(|s| s.name == "岳麓区测试合同章")
        .expect("the new seal");
    assert_eq!(
        (made.seal_type.as_str(), made.status.as_str()),
        ("04", "active")
    );
    let list = admin.get(&r.location).await;
    assert!(list.body.contains("印章已新建"));
    assert!(list.body.contains("合同专用章"));

    // Rotated: the seal retires, a successor with a new key takes its place.
    let r = admin
        .post(
            &format!("/admin/seals/{}/rotate", made.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/admin/seals?done=seal_rotated");
    assert_eq!(app.seal(&made.id).await.status, "retired");
    let successor = app
        .seals()
        .await
        .into_iter()
        .find(|s| s.name == made.name && s.status == "active")
        .expect("the successor");
    assert_ne!(successor.public_key, made.public_key);
    assert!(admin.get(&r.location).await.body.contains("已停用"));

    // Revoked: not without a reason (the page again, the reason marked, nothing changed), and
    // never without the session's token.
    let path = format!("/admin/seals/{}/revoke", successor.id);
    let r = admin.post(&path, &[("csrf", &csrf), ("reason", " ")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("请填写吊销印章的原因"));
    assert!(r.body.contains(&format!(
        "id=\"reason-{}\" name=\"reason\" value=\" \" maxlength=\"200\" required aria-invalid=\"true\"",
        successor.id
    )));
    assert_eq!(app.seal(&successor.id).await.status, "active");
    let r = admin.post(&path, &[("reason", "密钥泄露")]).await;
    assert_eq!(r.status, 403);
    let r = admin
        .post(&path, &[("csrf", "forged"), ("reason", "密钥泄露")])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(app.seal(&successor.id).await.status, "active");
    let r = admin
        .post(&path, &[("csrf", &csrf), ("reason", "密钥泄露")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/admin/seals?done=seal_revoked");
    let revoked = app.seal(&successor.id).await;
    assert_eq!(revoked.status, "revoked");
    assert_eq!(revoked.revoked_reason.as_deref(), Some("密钥泄露"));
    let page = admin.get(&format!("/admin/seals/{}", successor.id)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("已吊销") && page.body.contains("密钥泄露"));
    assert!(page.body.contains("使用记录"));

    // A department administrator: only their organisation's seals.
    let list = dept.get("/admin/seals").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains("href=\"/admin/seals\""));
    assert!(!list.body.contains("href=\"/admin/licence-types\""));
    for s in &demo {
        assert!(!list.body.contains(&s.id), "{} hidden", s.name);
        assert!(!list.body.contains(&s.name), "{} hidden", s.name);
    }
    let csrf = list.csrf();
    let other = &demo[0];
    assert_eq!(
        dept.get(&format!("/admin/seals/{}", other.id)).await.status,
        403
    );
    for (action, fields) in [
        ("rotate", vec![("csrf", csrf.as_str())]),
        ("revoke", vec![("csrf", csrf.as_str()), ("reason", "越权")]),
    ] {
        let r = dept
            .post(&format!("/admin/seals/{}/{action}", other.id), &fields)
            .await;
        assert_eq!(r.status, 403, "{action}");
    }
    assert_eq!(app.seal(&other.id).await.status, "active");
    let r = dept
        .post(
            "/admin/seals",
            &[
                ("csrf", &csrf),
                ("org_code", &other.org_code),
                ("name", "越权的印章"),
                ("seal_type", "99"),
                ("valid_years", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(!app.seals().await.iter().any(|s| s.name == "越权的印章"));

    // Other staff: 403, and no links.
    let manager = app.browser();
    assert_eq!(manager.staff_sign_in("cs.scjg.manager").await, "/admin");
    let home = manager.get("/admin").await;
    assert!(!home.body.contains("href=\"/admin/seals\""));
    assert!(!home.body.contains("href=\"/admin/licence-types\""));
    for path in [
        "/admin/seals",
        "/admin/licence-types",
        "/admin/licence-types/new",
    ] {
        assert_eq!(manager.get(path).await.status, 403, "{path}");
    }
    let r = manager
        .post(
            &format!("/admin/seals/{}/rotate", other.id),
            &[("csrf", &home.csrf())],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(app.seal(&other.id).await.status, "active");
}

async fn catalogue_pages(app: &App, admin: &Browser, dept: &Browser) {
    let stored = licences::licence_types(&app.platform).await.unwrap();
    let demo = stored.first().expect("the demo licence type");
    let list = admin.get("/admin/licence-types").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(list.body.contains(&demo.code) && list.body.contains(&demo.name));
    assert!(
        list.body
            .contains(&format!("href=\"/admin/licence-types/{}\"", demo.code))
    );
    let edit = admin
        .get(&format!("/admin/licence-types/{}", demo.code))
        .await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    assert!(edit.body.contains("value=\"case:applicant_name\""));
    let form = admin.get("/admin/licence-types/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("name=\"fields[2][source]\""),
        "3 spare rows"
    );
    assert!(!form.body.contains("name=\"fields[3][key]\""));
    let csrf = form.csrf();

    // More rows, nothing saved.
    let r = admin
        .post(
            "/admin/licence-types",
            &[
                ("csrf", &csrf),
                ("action", "add_rows"),
                ("code", "12345"),
                ("fields[0][key]", "a"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("name=\"fields[3][key]\""));
    assert!(r.body.contains("name=\"code\" value=\"12345\""));

    // A bad code and a bad source: both marked at once, nothing saved.
    let before = app.type_count().await;
    let r = admin
        .post(
            "/admin/licence-types",
            &[
                ("csrf", &csrf),
                ("code", "12345"),
                ("name", "测试证"),
                ("holder_kind", "person"),
                ("fields[0][key]", "a"),
                ("fields[0][label]", "甲"),
                ("fields[0][source]", "db:x"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("id=\"error-summary\""));
    assert!(
        r.body
            .contains("id=\"f-code\" name=\"code\" value=\"12345\" aria-invalid=\"true\""),
        "{}",
        r.body
    );
    assert!(r.body.contains("证照类型代码须为"));
    assert!(r.body.contains("<fieldset class=\"row invalid\">"));
    assert!(r.body.contains("id=\"f-fields-0-err\""));
    assert!(
        r.body.contains(
            "name=\"fields[0][source]\" value=\"db:x\" aria-describedby=\"f-fields-0-err\""
        )
    );
    assert!(r.body.contains("字段来源须为"));
    assert!(r.body.contains("href=\"#f-fields-0-key\""));
    assert_eq!(app.type_count().await, before);

    // The new form does not replace a stored type.
    let r = admin
        .post(
            "/admin/licence-types",
            &[
                ("csrf", &csrf),
                ("code", &demo.code),
                ("name", "替换"),
                ("holder_kind", "person"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        licences::licence_type(&app.platform, &demo.code)
            .await
            .unwrap()
            .name,
        demo.name
    );

    // A good type: saved (the row without a key dropped) and listed.
    let code = format!("{}002", &demo.code[..18]);
    let item = demo.items.first().expect("a bound item").clone();
    let r = admin
        .post(
            "/admin/licence-types",
            &[
                ("csrf", &csrf),
                ("action", "save"),
                ("code", &code),
                ("name", "测试经营许可证"),
                ("holder_kind", "legal_person"),
                ("validity_years", ""),
                ("fields[0][key]", "operator"),
                ("fields[0][label]", "经营者名称"),
                ("fields[0][source]", "case:applicant_name"),
                ("fields[1][key]", ""),
                ("fields[1][label]", "不保存"),
                ("fields[2][key]", "premises"),
                ("fields[2][label]", "经营场所"),
                ("fields[2][source]", "form:address"),
                ("items", &format!("{item}\n")),
                ("layout_title", "测试经营许可证"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location, "/admin/licence-types?done=saved");
    let saved = licences::licence_type(&app.platform, &code).await.unwrap();
    let keys: Vec<&str> = saved.fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["operator", "premises"]);
    assert_eq!(saved.validity_years, None);
    assert_eq!(saved.items, [item]);
    assert_eq!(saved.layout["title"], "测试经营许可证");
    let list = admin.get(&r.location).await;
    assert!(list.body.contains("证照类型已保存"));
    assert!(list.body.contains(&code) && list.body.contains("测试经营许可证"));
    assert!(list.body.contains("长期"));

    // Its own form: a second save with a mistake marks the row it came from.
    let path = format!("/admin/licence-types/{code}");
    let r = admin
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("name", "测试经营许可证"),
                ("holder_kind", "legal_person"),
                ("validity_years", "5"),
                ("fields[0][key]", ""),
                ("fields[1][key]", "operator"),
                ("fields[1][label]", "经营者名称"),
                ("fields[1][source]", "nowhere"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("href=\"#f-fields-1-key\""), "{}", r.body);
    assert_eq!(
        licences::licence_type(&app.platform, &code)
            .await
            .unwrap()
            .validity_years,
        None
    );

    // The catalogue is the system administrators'.
    assert_eq!(dept.get("/admin/licence-types").await.status, 403);
    let csrf = dept.get("/admin").await.csrf();
    let r = dept
        .post(
            &path,
            &[("csrf", &csrf), ("name", "越权"), ("holder_kind", "person")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        licences::licence_type(&app.platform, &code)
            .await
            .unwrap()
            .name,
        "测试经营许可证"
    );
}

/// 导入存量证照: a workbook of three rows — one good, one with two mistakes, one of a type the
/// catalogue lacks — imports the good row (signed again, verifiable, its old number kept) and
/// reports the others by column; the same file again adds nothing; a department administrator
/// imports only their own organisation's licences; others may not import; JSON rows bring
/// their own PDF.
async fn import_pages(app: &App, admin: &Browser, dept: &Browser) {
    let p = &app.platform;
    let t = licences::licence_types(p)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.holder_kind == "legal_person" && !t.items.is_empty())
        .expect("the demo's licence type");
    let issuer: String = sqlx::query_scalar("SELECT org FROM items WHERE code = $1")
        .bind(&t.items[0])
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    let holder =
        yiwang_domain::codes::CreditCode::generate('9', '1', "430104", "MA4L1234").unwrap();
    let mut header: Vec<String> = licences::import::COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    header.extend(t.fields.iter().map(|f| f.label.clone()));
    let field_values = |first: &str| -> Vec<String> {
        t.fields
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i == 0 {
                    first.to_owned()
                } else {
                    format!("值{i}")
                }
            })
            .collect()
    };
    let row = |ty: &str, number: &str, code: &str, issued: &str| -> Vec<String> {
        let mut r = vec![
            ty.to_owned(),
            number.to_owned(),
            "长沙某餐饮有限公司".to_owned(),
            code.to_owned(),
            issuer.clone(),
            issued.to_owned(),
            String::new(),
            String::new(),
        ];
        r.extend(field_values("长沙某餐饮有限公司"));
        r
    };
    let rows = [
        row(&t.code, "JY14301040000001", holder.as_str(), "2024-03-01"),
        row(
            &t.code,
            "JY14301040000002",
            "91430104MA4L12345X",
            "2024-13-01",
        ),
        row(
            "914300000000000000999",
            "JY14301040000003",
            holder.as_str(),
            "2024-03-01",
        ),
    ];
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in (0u16..).zip(&header) {
        sheet.write_string(0, c, h).unwrap();
    }
    for (r, cells) in (1u32..).zip(&rows) {
        for (c, v) in (0u16..).zip(cells) {
            sheet.write_string(r, c, v).unwrap();
        }
    }
    let xlsx = wb.save_to_buffer().unwrap();

    // The form and its template are the administrators'.
    let form = admin.get("/admin/licences/import").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form.body.contains("<label for=\"file\">"));
    let template = admin.get("/admin/licences/import/template.xlsx").await;
    assert_eq!(template.status, 200);
    let clerk = app.browser();
    clerk.staff_sign_in("yl.window").await;
    assert_eq!(clerk.get("/admin/licences/import").await.status, 403);

    let imported = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM licences WHERE type_code = $1 AND source_number LIKE 'JY1430104%'",
        )
        .bind(&t.code)
        .fetch_one(p.db.pool())
        .await
        .unwrap()
    };
    let csrf = form.csrf();
    let r = admin.upload("/admin/licences/import", &csrf, &xlsx).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("已导入"), "{}", r.body);
    assert!(
        r.body.contains("持证主体代码：") && r.body.contains("颁证日期："),
        "both mistakes of row 3, by column: {}",
        r.body
    );
    assert!(r.body.contains("证照类型代码："), "{}", r.body);
    assert_eq!(imported().await, 1);
    let id: String = sqlx::query_scalar(
        "SELECT id FROM licences WHERE type_code = $1 AND source_number = 'JY14301040000001'",
    )
    .bind(&t.code)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    assert!(r.body.contains(&id), "{}", r.body);
    let v = licences::verify(p, &id).await.unwrap();
    assert_eq!(v.outcome, licences::Outcome::Valid, "{v:?}");
    let shown = v.licence.unwrap();
    assert_eq!(shown.number, "JY14301040000001");
    assert_eq!(shown.issued_on, "2024-03-01");
    // The same workbook again: the good row was imported before, nothing is added.
    let r = admin.upload("/admin/licences/import", &csrf, &xlsx).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("此前已导入"), "{}", r.body);
    assert_eq!(imported().await, 1);
    // Not a workbook.
    let r = admin
        .upload("/admin/licences/import", &csrf, b"not a workbook")
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    // A department administrator of another organisation imports nothing of this issuer.
    let dcsrf = dept.get("/admin/licences/import").await.csrf();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in (0u16..).zip(&header) {
        sheet.write_string(0, c, h).unwrap();
    }
    for (c, v) in (0u16..).zip(&row(
        &t.code,
        "JY14301040000009",
        holder.as_str(),
        "2024-03-01",
    )) {
        sheet.write_string(1, c, v).unwrap();
    }
    let r = dept
        .upload(
            "/admin/licences/import",
            &dcsrf,
            &wb.save_to_buffer().unwrap(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("只能导入本机构颁发的证照"), "{}", r.body);
    assert_eq!(imported().await, 1);

    // JSON rows (the API's body) bring their own document; one that is not a PDF is refused.
    let staff = yiwang_services::identity::staff::sign_in(p, "admin", "Yiwang@2026", "127.0.0.1")
        .await
        .unwrap()
        .1
        .staff;
    use base64ct::Encoding;
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    let json_row = |number: &str, document: &[u8]| licences::import::ImportRow {
        type_code: t.code.clone(),
        source_number: number.into(),
        holder_name: "长沙某餐饮有限公司".into(),
        holder_code: holder.as_str().into(),
        issuer_code: issuer.clone(),
        issued_on: "2025-01-02".into(),
        valid_to: Some("2030-01-01".into()),
        fields: t
            .fields
            .iter()
            .map(|f| (f.key.clone(), "值".to_owned()))
            .collect(),
        document: Some(base64ct::Base64::encode_string(document)),
        ..Default::default()
    };
    let report = licences::import::import(
        p,
        &staff,
        vec![
            (1, json_row("JY14301040000010", pdf)),
            (2, json_row("JY14301040000011", b"GIF89a not a pdf")),
        ],
    )
    .await
    .unwrap();
    assert_eq!((report.imported, report.rejected), (1, 1), "{report:?}");
    assert_eq!(report.rows[1].errors[0].field, "document");
    let size: i64 = sqlx::query_scalar(
        "SELECT f.size FROM licences l JOIN files f ON f.id = l.file_id WHERE l.source_number = $1",
    )
    .bind("JY14301040000010")
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    assert_eq!(
        usize::try_from(size).unwrap(),
        pdf.len(),
        "the document as given"
    );
}

async fn journey(app: &App) {
    // Each administrator signs in once (a TOTP code is accepted once).
    let admin = Browser::administrator(app, "admin").await;
    let dept = Browser::administrator(app, "cs.scjg.admin").await;
    seal_pages(app, &admin, &dept).await;
    catalogue_pages(app, &admin, &dept).await;
    import_pages(app, &admin, &dept).await;
}

#[tokio::test]
async fn seals_and_the_licence_catalogue_are_managed_over_http() {
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    journey(&app).await;
    if pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::Fixed).await;
        journey(&app).await;
    }
}
