//! Cases over real HTTP, pages only: a citizen applies online (form with a bad value first,
//! a material of the wrong type, then the right one), the window asks for a correction, the
//! citizen corrects and resubmits, the window accepts, the approver completes every step, the
//! window delivers, the citizen sees the decision and downloads a file, and anybody finds the
//! status with the case number and the ID's last digits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Time};
use sqlx::Row;

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";

fn multipart(csrf: &str, slot: usize, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "yiwangboundary7MA4YWxkTrZu0gW".to_string();
    let mut body = Vec::new();
    for (k, v) in [("csrf", csrf.to_string()), ("slot", slot.to_string())] {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (b, body)
}

/// The case id in a `/account/cases/{id}?…` location.
fn case_id(location: &str) -> String {
    location
        .trim_start_matches("/account/cases/")
        .trim_start_matches("/admin/cases/")
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

async fn journey(app: &App) {
    let p = &app.platform;
    // The item: 失业保险金申领 of 岳麓区人社局 (a form of its own, bound to the demo process).
    let item: String = sqlx::query(
        "SELECT i.code FROM items i JOIN item_forms f ON f.item_code = i.code \
         JOIN wf_bindings b ON b.item_code = i.code ORDER BY i.code LIMIT 1",
    )
    .fetch_one(p.db.pool())
    .await
    .unwrap()
    .get("code");
    let required: Vec<usize> = yiwang_services::catalogue::published(p, &item)
        .await
        .unwrap()
        .guide
        .materials
        .iter()
        .enumerate()
        .filter(|(_, m)| m.required && m.condition.is_none())
        .map(|(i, _)| i)
        .collect();

    // Anonymous: 在线办理 asks for a sign-in first.
    let citizen = app.browser();
    let r = citizen
        .get(&format!("/account/cases/new?item={item}"))
        .await;
    assert_eq!(r.status, 303);
    assert!(
        r.location.starts_with("/account/login?next="),
        "{}",
        r.location
    );
    citizen
        .citizen_sign_in("13800000002", "/account/cases")
        .await;
    let start = citizen
        .get(&format!("/account/cases/new?item={item}"))
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(start.body.contains("失业保险金申领"));
    let r = citizen
        .post(
            "/account/cases/new",
            &[("csrf", &start.csrf()), ("item", &item)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = case_id(&r.location);
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("失业前工作单位"), "the item's own form");
    let csrf = page.csrf();

    // A date in the future and an unknown field: both named, nothing saved.
    let r = citizen
        .post(
            &format!("/account/cases/{id}/save"),
            &[
                ("csrf", &csrf),
                ("employer", "长沙某公司"),
                ("ended_on", "2099-01-01"),
                ("bogus", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("aria-invalid=\"true\""),
        "the bad field is marked"
    );
    let r = citizen
        .post(
            &format!("/account/cases/{id}/save"),
            &[
                ("csrf", &csrf),
                ("employer", "长沙某科技有限公司"),
                ("ended_on", "2026-10-31"),
                ("reason", "contract_end"),
                ("amount", "4500"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // A table field (需供养的直系亲属): blank rows to fill in; a bad cell is named with its row;
    // saved rows come back with more blank rows.
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    assert!(page.body.contains("id=\"t-dependants\""), "{}", page.body);
    assert!(page.body.contains("name=\"dependants[1].name\""));
    assert!(page.body.contains("aria-label=\"姓名（第1行）\""));
    let good = [
        ("csrf", csrf.as_str()),
        ("employer", "长沙某科技有限公司"),
        ("ended_on", "2026-10-31"),
        ("reason", "contract_end"),
        ("amount", "4500"),
        ("dependants[0].name", "王小红"),
        ("dependants[0].relation", "child"),
    ];
    let mut bad = good.to_vec();
    bad.push(("dependants[0].id_number", "4301042010"));
    let r = citizen
        .post(&format!("/account/cases/{id}/save"), &bad)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("id=\"err-f-dependants-0-id_number\""),
        "the cell's error is shown: {}",
        r.body
    );
    let mut fixed = good.to_vec();
    fixed.push((
        "dependants[0].id_number",
        yiwang_connectors::demo::LI_HUA_ID,
    ));
    fixed.push(("dependants[1].name", ""));
    let r = citizen
        .post(&format!("/account/cases/{id}/save"), &fixed)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    assert!(page.body.contains("value=\"王小红\""), "{}", page.body);
    assert!(
        page.body.contains("name=\"dependants[2].name\""),
        "two blank rows after it"
    );

    // A PNG called .pdf is refused by its content; PDFs are taken.
    let (b, body) = multipart(&csrf, required[0], "证明.pdf", PNG);
    let r = citizen
        .post_multipart(&format!("/account/cases/{id}/upload"), &b, body)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    for slot in &required {
        let (b, body) = multipart(&csrf, *slot, "证明.pdf", PDF);
        let r = citizen
            .post_multipart(&format!("/account/cases/{id}/upload"), &b, body)
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    let rev = attr(&page.body, "name=\"rev\" value=\"");
    let key = attr(&page.body, "name=\"key\" value=\"");
    let submit = [
        ("csrf", csrf.as_str()),
        ("rev", rev.as_str()),
        ("key", key.as_str()),
    ];
    let r = citizen
        .post(&format!("/account/cases/{id}/submit"), &submit)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The same form sent twice (a double click): the same case, no error.
    let again = citizen
        .post(&format!("/account/cases/{id}/submit"), &submit)
        .await;
    assert_eq!(again.status, 303, "{}", again.body);
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    let case_no = attr(&page.body, "id=\"case-no\">");
    assert_eq!(case_no.len(), 43, "{case_no}");

    // The window: queue, a correction for the first material.
    let window = app.browser();
    window.staff_sign_in("yl.window").await;
    let q = window.get("/admin/cases").await;
    assert!(q.body.contains(&case_no), "{}", q.body);
    let cp = window.get(&format!("/admin/cases/{id}")).await;
    assert_eq!(cp.status, 200);
    let wcsrf = cp.csrf();
    let rev = attr(&cp.body, "name=\"rev\" value=\"");
    let slot = required[0].to_string();
    let r = window
        .post(
            &format!("/admin/cases/{id}/correct"),
            &[
                ("csrf", wcsrf.as_str()),
                ("rev", rev.as_str()),
                ("slot", slot.as_str()),
                (&format!("problem_{slot}"), "扫描件不清晰，请重新上传"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The citizen sees the list, uploads again, resubmits.
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    assert!(page.body.contains("扫描件不清晰"));
    let (b, body) = multipart(&csrf, required[0], "清晰件.pdf", PDF);
    let r = citizen
        .post_multipart(&format!("/account/cases/{id}/upload"), &b, body)
        .await;
    assert_eq!(r.status, 303);
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    let rev = attr(&page.body, "name=\"rev\" value=\"");
    let r = citizen
        .post(
            &format!("/account/cases/{id}/resubmit"),
            &[("csrf", &csrf), ("rev", &rev)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // 受理 with a stale rev is a conflict; with the current one it starts the process.
    let r = window
        .post(
            &format!("/admin/cases/{id}/accept"),
            &[("csrf", &wcsrf), ("rev", "1")],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let cp = window.get(&format!("/admin/cases/{id}")).await;
    let rev = attr(&cp.body, "name=\"rev\" value=\"");
    let r = window
        .post(
            &format!("/admin/cases/{id}/accept"),
            &[("csrf", &wcsrf), ("rev", &rev)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // 延长审批 on the case page: the window asks (a bad number of days is named), the approver
    // of the organisation approves.
    let cp = window.get(&format!("/admin/cases/{id}")).await;
    assert!(cp.body.contains("id=\"extension-request\""), "{}", cp.body);
    assert!(!cp.body.contains("<option>延长审批</option>"));
    let rev = attr(&cp.body, "name=\"rev\" value=\"");
    let r = window
        .post(
            &format!("/admin/cases/{id}/extension_request"),
            &[
                ("csrf", &wcsrf),
                ("rev", &rev),
                ("days", "99"),
                ("reason", "需要现场核查"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("延长天数"), "{}", r.body);
    let r = window
        .post(
            &format!("/admin/cases/{id}/extension_request"),
            &[
                ("csrf", &wcsrf),
                ("rev", &rev),
                ("days", "3"),
                ("reason", "需要现场核查"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let cp = window.get(&format!("/admin/cases/{id}")).await;
    assert!(cp.body.contains("id=\"extensions\""));
    assert!(
        !cp.body.contains("id=\"extension-decide\""),
        "not the window's to decide"
    );
    let approver = app.browser();
    approver.staff_sign_in("yl.rsj.approver").await;
    let ap = approver.get(&format!("/admin/cases/{id}")).await;
    assert!(ap.body.contains("id=\"extension-decide\""), "{}", ap.body);
    let r = approver
        .post(
            &format!("/admin/cases/{id}/extension_decide"),
            &[
                ("csrf", &ap.csrf()),
                ("rev", &attr(&ap.body, "name=\"rev\" value=\"")),
                ("approve", "1"),
                ("opinion", "同意"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let ap = approver.get(&format!("/admin/cases/{id}")).await;
    assert!(ap.body.contains("已批准"), "{}", ap.body);

    // The approver decides every step from the inbox.
    for _ in 0..10 {
        let inbox = approver.get("/admin/inbox").await;
        // Only the 待办 part of the page (已办 follows it).
        let open = inbox.body.split("id=\"h-done\"").next().unwrap();
        let Some(at) = open.find("href=\"/admin/tasks/") else {
            break;
        };
        let task = open[at + 19..].split('"').next().unwrap().to_string();
        let tp = approver.get(&format!("/admin/tasks/{task}")).await;
        // The task names the case by its number and links to the case page.
        assert!(tp.body.contains(&case_no), "the task shows the case number");
        assert!(tp.body.contains(&format!("/admin/cases/{id}")));
        let r = approver
            .post(
                &format!("/admin/tasks/{task}/complete"),
                &[
                    ("csrf", &tp.csrf()),
                    ("outcome", "approve"),
                    ("opinion", "同意"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let cp = window.get(&format!("/admin/cases/{id}")).await;
    assert!(cp.body.contains("data-state=\"approved\""), "{}", cp.body);
    let rev = attr(&cp.body, "name=\"rev\" value=\"");
    let r = window
        .post(
            &format!("/admin/cases/{id}/deliver"),
            &[
                ("csrf", wcsrf.as_str()),
                ("rev", rev.as_str()),
                ("method", "post"),
                ("carrier", "EMS"),
                ("tracking_no", "1186012345678"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The citizen: the decision, the timeline, the messages, a file back intact.
    let page = citizen.get(&format!("/account/cases/{id}")).await;
    assert!(page.body.contains("data-state=\"delivered\""));
    for step in ["申请", "补正告知", "受理", "承办", "办结", "送达"] {
        assert!(page.body.contains(step), "timeline has {step}");
    }
    let materials = page.body.split("id=\"materials\"").nth(1).unwrap();
    let at = materials
        .find(&format!("/account/cases/{id}/files/"))
        .unwrap();
    let link = materials[at..].split('"').next().unwrap().to_string();
    let file = citizen
        .http
        .get(format!("{}{link}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(file.headers()["content-type"], "application/pdf");
    assert_eq!(file.bytes().await.unwrap().as_ref(), PDF);
    // The decision as a PDF the citizen downloads.
    let at = page
        .body
        .find("id=\"documents\"")
        .expect("documents listed");
    assert!(page.body[at..].contains("准予许可决定书"));
    let href = page.body[at..]
        .split("href=\"")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let pdf = citizen
        .http
        .get(format!("{}{href}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    let list = citizen.get("/account/cases").await;
    assert!(list.body.contains("申请已受理"), "in-site message");
    // Another citizen cannot see it.
    let other = app.browser();
    other.citizen_sign_in("13800000003", "/account").await;
    assert_eq!(other.get(&format!("/account/cases/{id}")).await.status, 404);

    // 办件查询: right tail shows the status and nothing personal; wrong tail is not found.
    let tail = &yiwang_connectors::demo::WANG_XIAOMING_ID[12..];
    let anon = app.browser();
    let q = anon
        .get(&format!("/cases/query?case_no={case_no}&id_tail={tail}"))
        .await;
    assert_eq!(q.status, 200, "{}", q.body);
    assert!(q.body.contains("已送达") && !q.body.contains("王小明"));
    let q = anon
        .get(&format!("/cases/query?case_no={case_no}&id_tail=000000"))
        .await;
    assert_eq!(q.status, 404);
}

/// The text after `marker` up to the next `"` or `<`.
fn attr(body: &str, marker: &str) -> String {
    let at = body
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the page"))
        + marker.len();
    body[at..].split(['"', '<']).next().unwrap().to_string()
}

#[tokio::test]
async fn online_application_through_the_pages_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    journey(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::System).await;
        journey(&app).await;
    }
}

/// 法人办事 through the pages: for an item serving legal persons, the start page offers the
/// enterprises the citizen may act for (and not themself); starting for one makes a case of
/// the enterprise; a citizen who may act for none is told how to get there.
async fn enterprise_start(app: &App) {
    let p = &app.platform;
    let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM items ORDER BY code")
        .fetch_all(p.db.pool())
        .await
        .unwrap();
    let mut legal = None;
    for code in codes {
        let item = yiwang_services::catalogue::published(p, &code)
            .await
            .unwrap();
        let g = &item.guide;
        if g.handling_forms
            .contains(&yiwang_domain::dict::HandlingForm::Online)
            && item.summary.state == yiwang_domain::item::ItemState::Active
            && g.service_objects.iter().all(|o| !o.is_person())
        {
            legal = Some(code);
            break;
        }
    }
    let legal = legal.expect("an online item for legal persons");
    let credit = yiwang_connectors::demo::XIANGJIANG_TECH_CREDIT_CODE;

    let agent = app.browser();
    agent.citizen_sign_in("13800000005", "/account/cases").await;
    let start = agent.get(&format!("/account/cases/new?item={legal}")).await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(
        start.body.contains(&format!("value=\"{credit}\"")),
        "{}",
        start.body
    );
    assert!(
        !start.body.contains("value=\"self\""),
        "the item is not for persons"
    );
    // Applying for oneself anyway: a readable refusal, nothing created.
    let r = agent
        .post(
            "/account/cases/new",
            &[
                ("csrf", &start.csrf()),
                ("item", &legal),
                ("applicant", "self"),
            ],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("以企业身份办理"), "{}", r.body);
    let r = agent
        .post(
            "/account/cases/new",
            &[
                ("csrf", &start.csrf()),
                ("item", &legal),
                ("applicant", credit),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let id = case_id(&r.location);
    let (kind, name): (String, String) =
        sqlx::query_as("SELECT applicant_kind, applicant_name FROM cases WHERE id = $1")
            .bind(&id)
            .fetch_one(p.db.pool())
            .await
            .unwrap();
    assert_eq!(kind, "enterprise");
    assert!(name.contains("湘江"), "{name}");

    let other = app.browser();
    other.citizen_sign_in("13800000002", "/account/cases").await;
    let start = other.get(&format!("/account/cases/new?item={legal}")).await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(start.body.contains("/account/enterprise"), "{}", start.body);
    assert!(!start.body.contains("id=\"start\""));
    let r = other
        .post(
            "/account/cases/new",
            &[
                ("csrf", &start.csrf()),
                ("item", &legal),
                ("applicant", credit),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
}

#[tokio::test]
async fn enterprise_applications_through_the_pages() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    enterprise_start(&app).await;
}
