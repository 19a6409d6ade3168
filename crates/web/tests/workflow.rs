//! 审批流程 over real HTTP: the system administrator uploads BPMN files (problems listed by
//! element id, nothing deployed; a good file deploys and is drawn as SVG), the demo approver
//! works the inbox through the forms (claim, decide, refusal without an opinion refused, a
//! second decision on a done task a 409), forged forms change nothing, and the working-day
//! calendar accepts next year's dates. The app runs on port 0 with its own database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Browser, Page, Time, pg_url};

fn upload_body(boundary: &str, csrf: &str, xml: &str) -> String {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.bpmn\"\r\n\
         Content-Type: application/xml\r\n\r\n{xml}\r\n--{boundary}--\r\n"
    )
}

async fn upload(b: &Browser, xml: &str) -> Page {
    let page = b.get("/admin/processes").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let boundary = "----yiwang-wf";
    b.post_multipart(
        "/admin/processes",
        boundary,
        upload_body(boundary, &page.csrf(), xml),
    )
    .await
}

fn task_links(body: &str) -> Vec<String> {
    body.match_indices("href=\"/admin/tasks/")
        .map(|(i, m)| body[i + m.len()..].split('"').next().unwrap().to_string())
        .collect()
}

const BAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d">
  <bpmn:process id="Proc_Bad" isExecutable="true">
    <bpmn:startEvent id="S"/><bpmn:userTask id="T" camunda:candidateGroups="wizard"/><bpmn:task id="Plain_Task"/>
    <bpmn:endEvent id="E"/><bpmn:userTask id="Orphan" camunda:candidateGroups="approver"/>
    <bpmn:sequenceFlow id="a" sourceRef="S" targetRef="T"/><bpmn:sequenceFlow id="b" sourceRef="T" targetRef="E"/>
  </bpmn:process>
</bpmn:definitions>"#;

async fn journey(app: &App) {
    let admin = app.browser();
    admin.staff_sign_in("admin").await;
    admin.pass_totp(app).await;

    // The demo process is deployed and drawn.
    let list = admin.get("/admin/processes").await;
    assert!(list.body.contains("Process_Approval"), "{}", list.body);
    let v = admin.get("/admin/processes/Process_Approval:1").await;
    assert_eq!(v.status, 200);
    assert!(v.body.contains("<svg") && v.body.contains("data-element-id=\"Task_Handle\""));
    let svg = admin
        .get("/admin/processes/Process_Approval:1/diagram.svg")
        .await;
    assert_eq!(svg.status, 200);
    assert!(svg.body.starts_with("<svg") || svg.body.contains("<svg"));

    // A file that cannot be deployed: every problem by element id, nothing stored.
    let bad = upload(&admin, BAD).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    for id in ["Plain_Task", "Orphan", "T"] {
        assert!(
            bad.body.contains(&format!("<code>{id}</code>")),
            "{id} not listed: {}",
            bad.body
        );
    }
    assert!(
        !admin
            .get("/admin/processes")
            .await
            .body
            .contains("Proc_Bad")
    );
    let not_xml = upload(&admin, "这不是 XML").await;
    assert_eq!(not_xml.status, 422);

    // A good file deploys as version 1, then 2.
    let good = include_str!("../../workflow/tests/data/seq5.bpmn");
    let ok = upload(&admin, good).await;
    assert_eq!(
        (ok.status, ok.location.as_str()),
        (303, "/admin/processes/Process_Seq5:1?done=deployed")
    );
    let ok = upload(&admin, good).await;
    assert_eq!(ok.location, "/admin/processes/Process_Seq5:2?done=deployed");

    // The calendar: a bad date is a 400 naming it; a good year is saved.
    let cal = admin.get("/admin/calendar").await;
    assert_eq!(cal.status, 200);
    let bad_year = admin
        .post(
            "/admin/calendar",
            &[
                ("csrf", &cal.csrf()),
                ("year", "2027"),
                ("holidays", "2027-02-30 春节"),
                ("workdays", ""),
            ],
        )
        .await;
    assert_eq!(bad_year.status, 400);
    assert!(bad_year.body.contains("2027-02-30"), "{}", bad_year.body);
    let saved = admin
        .post(
            "/admin/calendar",
            &[
                ("csrf", &cal.csrf()),
                ("year", "2027"),
                ("holidays", "2027-01-01 元旦\n2027-02-06~2027-02-12 春节"),
                ("workdays", "2027-02-14"),
            ],
        )
        .await;
    assert_eq!(
        (saved.status, saved.location.as_str()),
        (303, "/admin/calendar?done=calendar")
    );
    assert!(app.platform.calendar().has_data(2027));

    // The approver's inbox has the three demo cases.
    let ap = app.browser();
    ap.staff_sign_in("yl.scjg.approver").await;
    let inbox = ap.get("/admin/inbox").await;
    assert_eq!(inbox.status, 200);
    assert_eq!(inbox.body.matches("DEMO-").count(), 3, "{}", inbox.body);
    let tasks = task_links(&inbox.body);
    assert_eq!(tasks.len(), 3);
    let t = &tasks[0];
    let page = ap.get(&format!("/admin/tasks/{t}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"));
    let csrf = page.csrf();
    // Forged: nothing happens.
    let forged = ap
        .post(
            &format!("/admin/tasks/{t}/claim"),
            &[("csrf", "0".repeat(64).as_str())],
        )
        .await;
    assert_eq!(forged.status, 403);
    let claim = ap
        .post(&format!("/admin/tasks/{t}/claim"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        (claim.status, claim.location.as_str()),
        (303, format!("/admin/tasks/{t}?done=claimed").as_str())
    );
    let again = ap
        .post(&format!("/admin/tasks/{t}/claim"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status, 409);
    let no_outcome = ap
        .post(&format!("/admin/tasks/{t}/complete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(no_outcome.status, 400);
    let no_opinion = ap
        .post(
            &format!("/admin/tasks/{t}/complete"),
            &[("csrf", &csrf), ("outcome", "reject"), ("opinion", " ")],
        )
        .await;
    assert_eq!(no_opinion.status, 400);
    assert!(
        no_opinion.body.contains("请填写意见"),
        "{}",
        no_opinion.body
    );
    let done = ap
        .post(
            &format!("/admin/tasks/{t}/complete"),
            &[("csrf", &csrf), ("outcome", "approve"), ("opinion", "同意")],
        )
        .await;
    assert_eq!(
        (done.status, done.location.as_str()),
        (303, "/admin/inbox?done=completed")
    );
    let twice = ap
        .post(
            &format!("/admin/tasks/{t}/complete"),
            &[("csrf", &csrf), ("outcome", "approve")],
        )
        .await;
    assert_eq!(twice.status, 409);
    // The next step (审核) arrived; the done one is listed under 已办.
    let inbox = ap.get("/admin/inbox").await;
    assert!(inbox.body.contains("审核"), "{}", inbox.body);
    assert!(inbox.body.contains("同意"));
    // Another approver's organisation sees nothing; an item manager can't open the task.
    let other = app.browser();
    other.staff_sign_in("cs.gaj.manager").await;
    assert_eq!(
        other
            .get("/admin/inbox")
            .await
            .body
            .matches("DEMO-")
            .count(),
        0
    );
    assert_eq!(
        other
            .get(&format!("/admin/tasks/{}", tasks[1]))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn designers_and_approvers_work_through_the_pages() {
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    journey(&app).await;
    if pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::Fixed).await;
        journey(&app).await;
    }
}
