//! Cases end to end on a real database (SQLite, and PostgreSQL when the test script runs one):
//! a citizen applies online with materials, the window asks for a correction, the citizen
//! corrects, the window accepts, the item's approval process runs on the workflow engine, the
//! case is decided from its end and delivered; process records are chained with SM3 and
//! tampering is found; out-of-order, stale and unauthorised actions change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends};
use serde_json::Map;
use yiwang_domain::case::{CaseState, RecordAction};
use yiwang_domain::codes::CaseNumber;
use yiwang_services::cases::{self, Correction, apply, events, records, window};
use yiwang_services::identity::users;
use yiwang_services::workflow::inbox;
use yiwang_services::{Platform, ServiceError, demo};

use common::{PDF, fill, online_item};

async fn citizen(p: &Platform, phone: &str) -> users::User {
    users::sign_in_password(p, phone, demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .unwrap()
        .1
        .user
}

async fn journey(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let (code, required) = online_item(p).await;
    let wang = citizen(p, "13800000002").await;
    let clerk = common::staff(p, "yl.window").await;
    let org: String = sqlx::query_scalar("SELECT org FROM items WHERE code = $1")
        .bind(&code)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    let approver_name: String = sqlx::query_scalar(
        "SELECT s.username FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.role = 'approver' AND r.org = $1 ORDER BY s.username LIMIT 1",
    )
    .bind(&org)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    let approver = common::staff(p, &approver_name).await;

    // The applicant confirms an e-mail address with a code sent to it (a wrong code and a bad
    // address change nothing): case progress then comes by e-mail too.
    let session = users::UserSession {
        user: wang.clone(),
        csrf: String::new(),
    };
    let code_in = |to: &str| -> String {
        let text = p.outside.last_dev_message(to).unwrap();
        let chars: Vec<char> = text.chars().collect();
        chars
            .windows(6)
            .find(|w| w.iter().all(char::is_ascii_digit))
            .map(|w| w.iter().collect())
            .unwrap()
    };
    assert!(matches!(
        users::request_email(p, &session, "not an address", "127.0.0.1").await,
        Err(ServiceError::Invalid(_))
    ));
    users::request_email(p, &session, " wang@example.cn ", "127.0.0.1")
        .await
        .unwrap();
    let sent = code_in("wang@example.cn");
    let wrong = if sent == "000000" { "111111" } else { "000000" };
    assert!(matches!(
        users::confirm_email(p, &session, "wang@example.cn", wrong, "127.0.0.1").await,
        Err(ServiceError::Invalid(_))
    ));
    assert_eq!(users::email_of(p, &wang.id).await.unwrap(), None);
    users::confirm_email(p, &session, "wang@example.cn", &sent, "127.0.0.1")
        .await
        .unwrap();
    assert_eq!(
        users::email_of(p, &wang.id).await.unwrap().as_deref(),
        Some("wang@example.cn")
    );

    // A draft; submitting it without its materials lists every missing one and changes nothing.
    let draft = apply::start_draft(p, &wang, &code).await.unwrap();
    assert_eq!(draft.state, CaseState::Draft);
    assert_eq!(draft.applicant_name, "王小明");
    assert!(draft.applicant_id_masked.contains('*'));
    match apply::submit(p, &wang, &draft.id, "k1", None).await {
        Err(ServiceError::Invalid(e)) => {
            let materials = e
                .iter()
                .filter(|x| x.field.starts_with("material["))
                .count();
            assert_eq!(materials, required.len(), "{e:?}");
            assert!(e.iter().any(|x| x.field == "form.employer"), "{e:?}");
        }
        other => panic!("expected the missing materials and fields, got {other:?}"),
    }
    assert_eq!(
        cases::for_staff(p, &clerk, &draft.id)
            .await
            .unwrap()
            .0
            .state,
        CaseState::Draft
    );
    // A malformed or unknown value is refused even in a draft; good ones are kept.
    let spec = apply::form_spec(p, &code).await.unwrap();
    let mut bad = Map::new();
    bad.insert("no_such_field".into(), "x".into());
    bad.insert("ended_on".into(), "2099-01-01".into());
    match apply::save_form(p, &wang, &draft.id, &bad).await {
        Err(ServiceError::Invalid(e)) => assert_eq!(e.len(), 2, "{e:?}"),
        other => panic!("expected two field errors, got {other:?}"),
    }
    let values = fill(&spec);
    apply::save_form(p, &wang, &draft.id, &values)
        .await
        .unwrap();
    for slot in &required {
        apply::attach(p, &wang, &draft.id, *slot, "证明.pdf", PDF)
            .await
            .unwrap();
    }
    // Somebody else's case does not exist for this citizen.
    let chen = citizen(p, "13800000003").await;
    assert!(matches!(
        apply::attach(p, &chen, &draft.id, 0, "x.pdf", PDF).await,
        Err(ServiceError::NotFound { .. })
    ));

    // Submission: a case number in the national format; the same key again is the same case.
    let c = apply::submit(p, &wang, &draft.id, "k1", None)
        .await
        .unwrap();
    let mail = p.outside.last_dev_message("wang@example.cn").unwrap();
    assert!(
        mail.contains("已提交"),
        "the submission was e-mailed: {mail}"
    );
    assert_eq!(c.state, CaseState::Submitted);
    let no = CaseNumber::parse(c.case_no.as_deref().unwrap()).unwrap();
    assert_eq!(no.item(), code);
    assert_eq!(no.sequence(), 1);
    let again = apply::submit(p, &wang, &draft.id, "k1", None)
        .await
        .unwrap();
    assert_eq!(again.case_no, c.case_no);
    assert_eq!(again.rev, c.rev);

    // The window sees it in its queue (also by the applicant's ID number).
    let q = window::queue(p, &clerk, None).await.unwrap();
    assert!(q.iter().any(|x| x.id == c.id));
    let q = window::queue(p, &clerk, Some(yiwang_connectors::demo::WANG_XIAOMING_ID))
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
    // Out of order and stale actions change nothing.
    assert!(matches!(
        window::deliver(p, &clerk, &c.id, None, "window", "", "").await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        window::accept(p, &clerk, &c.id, Some(c.rev - 1), "").await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        window::refuse(p, &clerk, &c.id, Some(c.rev), "  ").await,
        Err(ServiceError::Invalid(_))
    ));
    // An approver is not a window.
    assert!(matches!(
        window::accept(p, &approver, &c.id, None, "").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        window::request_correction(p, &clerk, &c.id, Some(c.rev), Vec::new()).await,
        Err(ServiceError::Invalid(_))
    ));

    // 补正: every problem at once; the citizen is told in the site.
    let slot = required.first().copied().unwrap_or(0);
    let c = window::request_correction(
        p,
        &clerk,
        &c.id,
        Some(c.rev),
        vec![Correction {
            slot: Some(slot),
            field: None,
            subject: String::new(),
            problem: "复印件不清晰，请上传清晰的扫描件".into(),
        }],
    )
    .await
    .unwrap();
    assert_eq!(c.state, CaseState::Correction);
    assert_eq!(c.corrections.len(), 1);
    assert!(!c.corrections[0].subject.is_empty());
    let msgs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_messages WHERE user_id = $1")
        .bind(&wang.id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    assert_eq!(msgs, 2, "submitted, then asked for corrections");
    apply::attach(p, &wang, &c.id, slot, "清晰件.pdf", PDF)
        .await
        .unwrap();
    let c = apply::resubmit(p, &wang, &c.id, Some(c.rev)).await.unwrap();
    assert_eq!(c.state, CaseState::Submitted);
    assert!(c.corrections.is_empty());

    // 受理: a promised date in working days and the item's process started.
    let c = window::accept(p, &clerk, &c.id, Some(c.rev), "")
        .await
        .unwrap();
    assert_eq!(c.state, CaseState::Handling);
    assert!(c.due_at.is_some());
    let wf = c.wf_instance.clone().expect("the approval process started");

    // The approvers decide every step; the case is decided when the process ends.
    for _ in 0..10 {
        let open: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM wf_tasks WHERE instance_id = $1 AND state = 'open' ORDER BY id",
        )
        .bind(&wf)
        .fetch_all(p.db.pool())
        .await
        .unwrap();
        if open.is_empty() {
            break;
        }
        for task in open {
            inbox::complete_as(
                p,
                &wf,
                &task,
                &approver.username,
                inbox::Outcome::Approve,
                "同意",
            )
            .await
            .unwrap();
        }
    }
    events::drain(p).await.unwrap();
    let (c, _) = cases::for_staff(p, &clerk, &c.id).await.unwrap();
    assert_eq!(c.state, CaseState::Approved, "{c:?}");
    assert!(c.decided_at.is_some());
    // A second drain finds nothing left to do.
    assert_eq!(events::drain(p).await.unwrap(), 0);

    // The applicant chooses post with an address (too short first); it is kept encrypted.
    assert!(matches!(
        apply::choose_delivery(p, &wang, &c.id, "post", "长沙").await,
        Err(ServiceError::Invalid(_))
    ));
    let chosen = apply::choose_delivery(p, &wang, &c.id, "post", "长沙市岳麓区麓山南路932号")
        .await
        .unwrap();
    assert_eq!(
        chosen.delivery.address.as_deref(),
        Some("长沙市岳麓区麓山南路932号")
    );
    let raw: String = sqlx::query_scalar("SELECT delivery FROM cases WHERE id = $1")
        .bind(&c.id)
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    assert!(
        !raw.contains("麓山南路"),
        "the address is encrypted at rest"
    );
    let c = chosen;
    // 送达 by post needs the carrier and the tracking number.
    assert!(matches!(
        window::deliver(p, &clerk, &c.id, Some(c.rev), "post", "", "").await,
        Err(ServiceError::Invalid(_))
    ));
    let c = window::deliver(
        p,
        &clerk,
        &c.id,
        Some(c.rev),
        "post",
        "EMS",
        "1234567890123",
    )
    .await
    .unwrap();
    assert_eq!(c.state, CaseState::Delivered);
    assert_eq!(c.delivery.tracking_no.as_deref(), Some("1234567890123"));

    // The notices, as PDF, in the order they were issued; each is rendered when first read
    // and comes back intact.
    let docs = cases::notices::of_case(p, &c.id).await.unwrap();
    let kinds: Vec<&str> = docs.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["correction", "acceptance", "approval", "delivery"],
        "{docs:?}"
    );
    for d in &docs {
        let (_, kind, bytes) = apply::file(p, &c.id, &d.file_id).await.unwrap();
        assert_eq!(kind, "pdf");
        assert!(bytes.starts_with(b"%PDF-"), "{}", d.title);
        assert!(d.doc_no.contains('〔'), "{}", d.doc_no);
        // Rendered on the first read, then stored: the second read is the same document.
        let (_, _, again) = apply::file(p, &c.id, &d.file_id).await.unwrap();
        assert_eq!(again, bytes, "{}", d.title);
    }

    // 办件查询: the number and the ID's last digits show the status and nothing personal; a
    // wrong tail is the same answer as no case.
    let tail = &yiwang_connectors::demo::WANG_XIAOMING_ID[12..];
    let st = cases::public_status(p, no.as_str(), tail).await.unwrap();
    assert_eq!(st.state, CaseState::Delivered);
    assert!(st.steps.iter().any(|(s, _)| s == "受理"));
    let json = serde_json::to_string(&st).unwrap();
    assert!(!json.contains("王") && !json.contains(yiwang_connectors::demo::WANG_XIAOMING_ID));
    assert!(matches!(
        cases::public_status(p, no.as_str(), "999999").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        cases::public_status(p, "123", "12").await,
        Err(ServiceError::Invalid(e)) if e.len() == 2
    ));

    // The process records: every step in order, the approval steps among them.
    let recs = records::of_case(p, &c.id).await.unwrap();
    let steps: Vec<&str> = recs.iter().map(|r| r.step.as_str()).collect();
    assert_eq!(
        steps[..4],
        ["申请", "补正告知", "补正提交", "受理"],
        "{steps:?}"
    );
    assert!(
        steps.contains(&"承办") && steps.contains(&"批准"),
        "{steps:?}"
    );
    assert_eq!(steps[steps.len() - 2..], ["办结", "送达"]);
    assert!(recs.iter().all(|r| r.case_no == no.as_str()));
    assert_eq!(recs[1].action, RecordAction::Return);
    assert_eq!(recs.len() as i64, c.rseq);

    // The chains hold; a changed opinion or a removed record is found.
    let v = records::verify(p, None).await.unwrap();
    assert!(v.broken.is_empty(), "{:?}", v.broken);
    assert_eq!(v.records, recs.len() as u64);
    sqlx::query("UPDATE case_records SET opinion = '改过' WHERE case_id = $1 AND seq = 3")
        .bind(&c.id)
        .execute(p.db.writer())
        .await
        .unwrap();
    let v = records::verify(p, Some(no.as_str())).await.unwrap();
    assert_eq!(v.broken.len(), 1);
    assert_eq!(v.broken[0].at_seq, 3);
    sqlx::query("DELETE FROM case_records WHERE case_id = $1 AND seq = $2")
        .bind(&c.id)
        .bind(c.rseq)
        .execute(p.db.writer())
        .await
        .unwrap();
    sqlx::query("UPDATE case_records SET opinion = $2 WHERE case_id = $1 AND seq = 3")
        .bind(&c.id)
        .bind(&recs[2].opinion)
        .execute(p.db.writer())
        .await
        .unwrap();
    let v = records::verify(p, Some(&c.id)).await.unwrap();
    assert_eq!(v.broken.len(), 1, "a removed last record breaks the head");

    // The file behind a material comes back intact, and a changed file is refused.
    let files = apply::materials(p, &c.id).await.unwrap();
    if let Some(f) = files.first() {
        let (_, kind, bytes) = apply::file(p, &c.id, &f.file_id).await.unwrap();
        assert_eq!(kind, "pdf");
        assert_eq!(bytes, PDF);
    }
}

#[tokio::test]
async fn online_application_to_delivery_on_every_backend() {
    for b in backends() {
        journey(b).await;
    }
}

/// 王小明, a walk-in with an account, registered at the window for `code` (a draft).
async fn register_wang(
    p: &Platform,
    clerk: &yiwang_services::identity::staff::Staff,
    code: &str,
) -> cases::Case {
    window::register(
        p,
        clerk,
        code,
        apply::NewApplicant {
            kind: cases::ApplicantKind::Person,
            name: "王小明".into(),
            id: yiwang_connectors::demo::WANG_XIAOMING_ID.into(),
            phone: String::new(),
            user_id: None,
        },
    )
    .await
    .unwrap()
}

async fn window_case(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let (code, required) = online_item(p).await;
    let clerk = common::staff(p, "yl.window").await;
    // A walk-in with an account: the case is registered at the window and shows in 我的办件.
    let c = register_wang(p, &clerk, &code).await;
    let wang = citizen(p, "13800000002").await;
    assert_eq!(c.owner_user.as_deref(), Some(wang.id.as_str()));
    for slot in &required {
        window::attach(p, &clerk, &c.id, *slot, "scan.pdf", PDF)
            .await
            .unwrap();
    }
    // A PNG named .pdf is refused by its content.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde";
    assert!(matches!(
        window::attach(p, &clerk, &c.id, 0, "scan.pdf", png).await,
        Err(ServiceError::Invalid(_))
    ));
    let spec = apply::form_spec(p, &code).await.unwrap();
    window::save_form(p, &clerk, &c.id, &fill(&spec))
        .await
        .unwrap();
    let c = window::submit(p, &clerk, &c.id, "w1", None).await.unwrap();
    // Two at once on the same case: one wins, the other is told.
    let (a, r) = tokio::join!(
        window::accept(p, &clerk, &c.id, Some(c.rev), ""),
        window::refuse(p, &clerk, &c.id, Some(c.rev), "材料不全")
    );
    assert!(a.is_ok() != r.is_ok(), "exactly one wins: {a:?} / {r:?}");
    let mine = apply::list_mine(p, &wang).await.unwrap();
    assert_eq!(mine.len(), 1);
    // Refusal at the window is final.
    if r.is_ok() {
        assert_eq!(mine[0].state, CaseState::NotAccepted);
        assert_eq!(mine[0].decision_opinion, "材料不全");
    }
    // A bad ID number at registration is a field error.
    assert!(matches!(
        window::register(
            p,
            &clerk,
            &code,
            apply::NewApplicant {
                kind: cases::ApplicantKind::Person,
                name: "某人".into(),
                id: "430104199005120136".into(),
                phone: String::new(),
                user_id: None,
            },
        )
        .await,
        Err(ServiceError::Invalid(_))
    ));
}

#[tokio::test]
async fn window_registration_and_racing_decisions_on_every_backend() {
    for b in backends() {
        window_case(b).await;
    }
}

/// `yiwang keys rotate` covers cases: after rotation a ring with only the new key reads the
/// applicant's data, the form, the postal address and the notices, and the window still finds
/// the case by the applicant's ID number (its blind index was recomputed).
#[tokio::test]
async fn rotating_keys_re_encrypts_cases_and_notices() {
    use std::sync::Arc;
    use yiwang_services::identity::{Keys, Outside, rotate_keys};
    let (db, _dir) = common::fresh_db(Backend::Sqlite).await;
    db.migrate().await.unwrap();
    let clock = Arc::new(yiwang_services::FixedClock::new(
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 1, 0, 0).unwrap(),
    ));
    let files = Outside::for_tests().unwrap().files;
    let open = |spec: String| {
        let (db, clock, files) = (db.clone(), clock.clone(), files.clone());
        async move {
            Platform::open_with(
                db,
                clock,
                Keys::from_spec(&spec).unwrap(),
                Outside::for_tests().unwrap().with_files(files),
            )
            .await
            .unwrap()
        }
    };
    let k1 = format!("k1:{}", yiwang_crypto::pii::KeyRing::generate_secret_hex());
    let k2 = format!("k2:{}", yiwang_crypto::pii::KeyRing::generate_secret_hex());
    let p1 = open(k1.clone()).await;
    demo::load(&p1).await.unwrap();
    let (code, required) = online_item(&p1).await;
    let wang = citizen(&p1, "13800000002").await;
    let c = apply::start_draft(&p1, &wang, &code).await.unwrap();
    let values = fill(&apply::form_spec(&p1, &code).await.unwrap());
    apply::save_form(&p1, &wang, &c.id, &values).await.unwrap();
    apply::choose_delivery(&p1, &wang, &c.id, "post", "长沙市岳麓区麓山南路 1 号")
        .await
        .unwrap();
    for slot in &required {
        apply::attach(&p1, &wang, &c.id, *slot, "m.pdf", PDF)
            .await
            .unwrap();
    }
    let c = apply::submit(&p1, &wang, &c.id, "k", None).await.unwrap();
    let clerk = common::staff(&p1, "yl.window").await;
    window::refuse(&p1, &clerk, &c.id, Some(c.rev), "材料不属实")
        .await
        .unwrap();
    assert_eq!(cases::notices::of_case(&p1, &c.id).await.unwrap().len(), 1);

    let p2 = open(format!("{k2},{k1}")).await;
    assert!(
        rotate_keys(&p2).await.unwrap() >= 2,
        "the case and its notice"
    );
    assert_eq!(rotate_keys(&p2).await.unwrap(), 0, "nothing left under k1");
    let p3 = open(k2).await;
    let wang = citizen(&p3, "13800000002").await;
    let c = apply::mine(&p3, &wang, &c.id).await.unwrap();
    assert_eq!(
        c.delivery.address.as_deref(),
        Some("长沙市岳麓区麓山南路 1 号")
    );
    let form = cases::form_values(&p3, &c.id).await.unwrap();
    assert_eq!(form.as_object().unwrap().len(), values.len());
    let doc = &cases::notices::of_case(&p3, &c.id).await.unwrap()[0];
    if std::env::var_os("YIWANG_FONT").is_none_or(|f| std::path::Path::new(&f).exists()) {
        let (_, kind, bytes) = apply::file(&p3, &c.id, &doc.file_id).await.unwrap();
        assert_eq!(kind, "pdf");
        assert!(bytes.starts_with(b"%PDF-"));
    }
    let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE applicant_id_bidx = $1")
        .bind(
            p3.keys
                .pii
                .blind_index("applicant_id", yiwang_connectors::demo::WANG_XIAOMING_ID),
        )
        .fetch_one(p3.db.pool())
        .await
        .unwrap();
    assert_eq!(found, 1);
}

/// An active item handled online that serves legal persons only (`persons: false`), or persons
/// only (`persons: true`).
async fn item_serving(p: &Platform, persons: bool) -> String {
    let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM items ORDER BY code")
        .fetch_all(p.db.pool())
        .await
        .unwrap();
    for code in codes {
        let Ok(item) = yiwang_services::catalogue::published(p, &code).await else {
            continue;
        };
        let g = &item.guide;
        if g.handling_forms
            .contains(&yiwang_domain::dict::HandlingForm::Online)
            && item.summary.state == yiwang_domain::item::ItemState::Active
            && g.service_objects.iter().all(|o| o.is_person() == persons)
        {
            return code;
        }
    }
    panic!("the demo province has no such item (persons: {persons})");
}

/// 法人办事: a legal representative and an agent apply for their enterprise; nobody else may,
/// an item for persons takes no enterprise (nor the other way round), and an agent whose grant
/// was revoked after starting cannot submit.
async fn enterprise_applications(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let legal = item_serving(p, false).await;
    let personal = item_serving(p, true).await;
    let credit = yiwang_connectors::demo::XIANGJIANG_TECH_CREDIT_CODE;
    let rep = citizen(p, "13800000004").await;
    let agent = citizen(p, "13800000005").await;
    let wang = citizen(p, "13800000002").await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM cases")
            .fetch_one(p.db.pool())
            .await
            .unwrap()
    };
    let before = count().await;
    let as_ent = apply::ApplyAs::Enterprise(credit);
    assert!(matches!(
        apply::start_draft(p, &rep, &legal).await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        apply::start_draft_as(p, &rep, &personal, as_ent).await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        apply::start_draft_as(
            p,
            &rep,
            &legal,
            apply::ApplyAs::Enterprise("91430104MA4L7R2K1")
        )
        .await,
        Err(ServiceError::Invalid(_))
    ));
    assert!(matches!(
        apply::start_draft_as(p, &wang, &legal, as_ent).await,
        Err(ServiceError::Forbidden(_))
    ));
    // An enterprise of the legal-person library that nobody bound: the same refusal.
    let unbound = yiwang_connectors::fixed_enterprises()
        .into_iter()
        .find(|e| e.credit_code != credit)
        .expect("another enterprise in the demo library")
        .credit_code;
    assert!(matches!(
        apply::start_draft_as(p, &rep, &legal, apply::ApplyAs::Enterprise(&unbound)).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert_eq!(count().await, before, "refusals create nothing");

    let name = yiwang_services::identity::enterprises::enterprise(p, credit)
        .await
        .unwrap()
        .unwrap()
        .name;
    let by_rep = apply::start_draft_as(p, &rep, &legal, as_ent)
        .await
        .unwrap();
    assert_eq!(by_rep.applicant_kind, cases::ApplicantKind::Enterprise);
    assert_eq!(by_rep.applicant_name, name);
    assert_eq!(by_rep.owner_user.as_deref(), Some(rep.id.as_str()));
    assert!(
        !by_rep.applicant_id_masked.contains("MA4L7R2K"),
        "the credit code is masked"
    );
    let by_agent = apply::start_draft_as(p, &agent, &legal, as_ent)
        .await
        .unwrap();
    assert_eq!(by_agent.applicant_name, name);
    assert_eq!(by_agent.owner_user.as_deref(), Some(agent.id.as_str()));
    // The agent's case is the agent's; the representative does not see it as theirs.
    assert!(apply::mine(p, &rep, &by_agent.id).await.is_err());

    // Submitting checks the right to act again: with the grant revoked, the agent is refused
    // before anything else; the representative gets on to the missing materials.
    sqlx::query("UPDATE agent_grants SET revoked_at = $1, revoked_by = $2 WHERE agent_user = $3")
        .bind("2026-01-01T00:00:00.000Z")
        .bind(&rep.id)
        .bind(&agent.id)
        .execute(p.db.writer())
        .await
        .unwrap();
    assert!(matches!(
        apply::submit(p, &agent, &by_agent.id, "e-1", None).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        apply::start_draft_as(p, &agent, &legal, as_ent).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        apply::submit(p, &rep, &by_rep.id, "e-2", None).await,
        Err(ServiceError::Invalid(_))
    ));
    assert_eq!(
        apply::mine(p, &agent, &by_agent.id).await.unwrap().state,
        CaseState::Draft
    );
}

#[tokio::test]
async fn enterprise_applications_on_every_backend() {
    for b in backends() {
        enterprise_applications(b).await;
    }
}

/// 延长审批: a handler asks for working days with a reason; nobody decides their own request,
/// only an approver of the organisation decides; approved, the case's deadline and its
/// process's limit move by those working days and the applicant is told; refused, nothing
/// moves; bad input and a second request while one waits change nothing.
async fn extension(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let (code, required) = online_item(p).await;
    let clerk = common::staff(p, "yl.window").await;
    let c = register_wang(p, &clerk, &code).await;
    for slot in &required {
        window::attach(p, &clerk, &c.id, *slot, "scan.pdf", PDF)
            .await
            .unwrap();
    }
    let spec = apply::form_spec(p, &code).await.unwrap();
    window::save_form(p, &clerk, &c.id, &fill(&spec))
        .await
        .unwrap();
    let c = window::submit(p, &clerk, &c.id, "x1", None).await.unwrap();
    // Not being handled yet: nothing to extend.
    assert!(matches!(
        cases::extensions::request(p, &clerk, &c.id, None, "5", "需要现场核查").await,
        Err(ServiceError::Conflict(_))
    ));
    let c = window::accept(p, &clerk, &c.id, Some(c.rev), "")
        .await
        .unwrap();
    let due = c.due_at.expect("a 承诺件 has a deadline");
    let wf = c.wf_instance.clone().expect("its process started");
    let approver = common::staff(p, "yl.rsj.approver").await;
    assert_eq!(approver.org, c.org, "the item's organisation");

    for (days, reason, field) in [
        ("0", "理由", "days"),
        ("31", "理由", "days"),
        ("五", "理由", "days"),
        ("5", " ", "reason"),
    ] {
        match cases::extensions::request(p, &clerk, &c.id, Some(c.rev), days, reason).await {
            Err(ServiceError::Invalid(e)) => assert_eq!(e[0].field, field),
            other => panic!("{days}/{reason}: {other:?}"),
        }
    }
    let c = cases::extensions::request(p, &clerk, &c.id, Some(c.rev), "5", "需要现场核查")
        .await
        .unwrap();
    assert_eq!(c.state, CaseState::Handling, "the clock keeps running");
    assert_eq!(c.due_at, Some(due), "nothing moves before the decision");
    assert!(matches!(
        cases::extensions::request(p, &clerk, &c.id, Some(c.rev), "3", "再延长").await,
        Err(ServiceError::Conflict(_))
    ));
    // The window clerk is not an approver; a stale rev is a conflict.
    assert!(matches!(
        cases::extensions::decide(p, &clerk, &c.id, Some(c.rev), true, "").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        cases::extensions::decide(p, &approver, &c.id, Some(c.rev - 1), true, "").await,
        Err(ServiceError::Conflict(_))
    ));
    let c = cases::extensions::decide(p, &approver, &c.id, Some(c.rev), true, "同意")
        .await
        .unwrap();
    let moved = p.calendar().add_working_days(due, 5);
    assert_eq!(c.due_at, Some(moved));
    let inst = yiwang_services::workflow::runtime::get(p, &wf)
        .await
        .unwrap();
    assert_eq!(inst.due_at, Some(moved), "the process's limit moved too");
    let timer_due: String = sqlx::query_scalar(
        "SELECT due_at FROM wf_timers WHERE instance_id = $1 AND kind = 'due' AND state = 'pending'",
    )
    .bind(&wf)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    assert_eq!(timer_due, yiwang_store::fmt_time(moved), "and its timer");
    let wang = citizen(p, "13800000002").await;
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM user_messages WHERE user_id = $1 AND case_id = $2 AND title = '办理时限已延长'",
    )
    .bind(&wang.id)
    .bind(&c.id)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    assert_eq!(told, 1);

    // The approver's own request is somebody else's to decide; refusing needs an opinion and
    // moves nothing.
    let c = cases::extensions::request(p, &approver, &c.id, Some(c.rev), "3", "专家意见未到")
        .await
        .unwrap();
    assert!(matches!(
        cases::extensions::decide(p, &approver, &c.id, Some(c.rev), true, "").await,
        Err(ServiceError::Forbidden(_))
    ));
    let other_id: String =
        sqlx::query_scalar("SELECT id FROM staff WHERE username = 'yl.rsj.manager'")
            .fetch_one(p.db.pool())
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO staff_roles (staff_id, role, org, granted_by, granted_at) \
         VALUES ($1, 'approver', $2, NULL, '2026-01-01T00:00:00.000Z')",
    )
    .bind(&other_id)
    .bind(&c.org)
    .execute(p.db.writer())
    .await
    .unwrap();
    let head = common::staff(p, "yl.rsj.manager").await;
    assert!(matches!(
        cases::extensions::decide(p, &head, &c.id, Some(c.rev), false, " ").await,
        Err(ServiceError::Invalid(_))
    ));
    let c = cases::extensions::decide(p, &head, &c.id, Some(c.rev), false, "理由不充分")
        .await
        .unwrap();
    assert_eq!(c.due_at, Some(moved));
    let list = cases::extensions::of_case(p, &c.id).await.unwrap();
    let states: Vec<&str> = list.iter().map(|e| e.state.as_str()).collect();
    assert_eq!(states, ["approved", "refused"]);
    // Every step is a process record, and the chain still verifies.
    let steps: Vec<String> = sqlx::query_scalar(
        "SELECT step FROM case_records WHERE case_id = $1 AND step LIKE '%延长%' ORDER BY seq",
    )
    .bind(&c.id)
    .fetch_all(p.db.pool())
    .await
    .unwrap();
    assert_eq!(
        steps,
        ["申请延长审批", "延长审批", "申请延长审批", "延长审批"]
    );
    assert!(
        records::verify(p, Some(&c.id))
            .await
            .unwrap()
            .broken
            .is_empty()
    );
    // 延长审批 is no longer a clock-stopping special procedure.
    assert!(matches!(
        window::start_special(p, &approver, &c.id, Some(c.rev), "延长审批", "x").await,
        Err(ServiceError::Invalid(_))
    ));
}

#[tokio::test]
async fn extensions_need_approval_on_every_backend() {
    for b in backends() {
        extension(b).await;
    }
}
