//! 我要问 on a real database (SQLite, and PostgreSQL when the test script runs one): a citizen
//! asks about an item, the deadline is counted in working days on the injected clock, the
//! organisation answers (the asker gets a message, the audit log an entry), an item manager
//! publishes the answer as 常见问题 with personal details removed and takes it down; bad input,
//! wrong roles and organisations, stale revisions and racing answers change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::{Backend, backends};
use yiwang_services::identity::users;
use yiwang_services::questions::{self, QuestionState, QueueFilter};
use yiwang_services::{Platform, ServiceError, demo};

async fn citizen(p: &Platform, phone: &str) -> users::User {
    users::sign_in_password(p, phone, demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .unwrap()
        .1
        .user
}

/// A published, active item of the organisation.
async fn item_of(p: &Platform, org: &str) -> String {
    sqlx::query_scalar(
        "SELECT code FROM items WHERE org = $1 AND state = 'active' \
         AND published_version IS NOT NULL ORDER BY code LIMIT 1",
    )
    .bind(org)
    .fetch_one(p.db.pool())
    .await
    .unwrap()
}

fn fields(e: &ServiceError) -> Vec<String> {
    match e {
        ServiceError::Invalid(f) => f.iter().map(|x| x.field.clone()).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

async fn count(p: &Platform, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind)
        .fetch_one(p.db.pool())
        .await
        .unwrap()
}

async fn journey(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let manager = common::staff(p, "yl.rsj.manager").await;
    let approver = common::staff(p, "yl.rsj.approver").await;
    assert_eq!(manager.org, approver.org);
    let code = item_of(p, &manager.org).await;
    let wang = citizen(p, "13800000002").await;
    let li = citizen(p, "13800000001").await;

    // Bad input names each field; an unknown item is not found; nothing is stored.
    let e = questions::ask(p, &wang, "not-a-code", "请")
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["item", "text"]);
    let e = questions::ask(p, &wang, &code, "请问？").await.unwrap_err();
    assert_eq!(fields(&e), ["text"], "3 characters are too few");
    let e = questions::ask(p, &wang, &code, &"问".repeat(1001))
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["text"], "1,001 characters are too many");
    let unknown = format!("{}999", &code[..28]);
    assert!(yiwang_domain::codes::ImplementationCode::parse(&unknown).is_ok());
    if unknown != code {
        assert!(matches!(
            questions::ask(p, &wang, &unknown, "请问需要带什么材料？").await,
            Err(ServiceError::NotFound { .. })
        ));
    }
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM questions WHERE asker_user = $1",
            &wang.id
        )
        .await,
        0
    );

    // Asked on Friday 2026-11-27 09:00 (UTC+8): five working days from Monday end on Friday
    // 2026-12-04 at the end of office hours (17:30 UTC+8).
    let text = "我叫王小明，身份证430104199005120135，请问申领需要带哪些材料？";
    let q = questions::ask(p, &wang, &format!(" {code} "), &format!("  {text}\r\n"))
        .await
        .unwrap();
    assert_eq!(q.state, QuestionState::Open);
    assert_eq!(q.text, text);
    assert_eq!(q.item_code, code);
    assert_eq!(q.org, manager.org);
    assert_eq!(q.rev, 1);
    assert_eq!(q.limit_days, 5);
    assert_eq!(
        q.due_at,
        Utc.with_ymd_and_hms(2026, 12, 4, 9, 30, 0).unwrap()
    );
    assert_eq!(q.due_at, p.calendar().add_working_days(q.asked_at, 5));
    assert_eq!(q.asked_at, p.now());
    assert_eq!(q.contact_masked, "138****0002");
    assert!(q.asker_name_masked.contains('*'));
    // At rest the question and the contact are ciphertext.
    let stored: String = sqlx::query_scalar(
        "SELECT question_enc || '|' || contact_enc || '|' || asker_name_masked FROM questions WHERE id = $1",
    )
    .bind(&q.id)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    for secret in ["430104199005120135", "13800000002", "王小明", "申领"] {
        assert!(!stored.contains(secret), "{secret} stored in clear");
    }

    // Only the asker sees it among citizens.
    assert_eq!(questions::list_mine(p, &wang).await.unwrap().len(), 1);
    assert!(questions::list_mine(p, &li).await.unwrap().is_empty());
    assert!(matches!(
        questions::mine(p, &li, &q.id).await,
        Err(ServiceError::NotFound { .. })
    ));

    // Wrong role or organisation: refused, and nothing changes.
    let window = common::staff(p, "yl.window").await;
    let other = common::staff(p, "cs.scjg.manager").await;
    assert!(matches!(
        questions::queue(p, &window, QueueFilter::All).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        questions::answer(p, &window, &q.id, q.rev, "答复").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        questions::answer(p, &other, &q.id, q.rev, "答复").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(
        questions::queue(p, &other, QueueFilter::All)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        questions::publish(p, &manager, &q.id, q.rev, "请问需要哪些材料？", "身份证。").await,
        Err(ServiceError::Conflict(_))
    ));
    // Bad answers and a stale revision are refused.
    let e = questions::answer(p, &approver, &q.id, q.rev, "  ")
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["answer"]);
    assert!(matches!(
        questions::answer(p, &approver, &q.id, q.rev + 1, "答复").await,
        Err(ServiceError::Conflict(_))
    ));
    assert_eq!(questions::mine(p, &wang, &q.id).await.unwrap().rev, 1);

    // Eight days later it is overdue and leads the organisation's queue.
    t.clock.advance(Duration::days(8));
    let later = questions::ask(p, &wang, &code, "请问可以委托他人代办吗？")
        .await
        .unwrap();
    let queue = questions::queue(p, &approver, QueueFilter::Open)
        .await
        .unwrap();
    assert_eq!(
        queue.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
        [q.id.as_str(), later.id.as_str()]
    );
    assert!(queue[0].overdue(p.now()) && !queue[1].overdue(p.now()));

    // Two answers at once from the same page: exactly one wins.
    let audit_before = count(
        p,
        "SELECT COUNT(*) FROM audit_log WHERE action = $1",
        "question.answer",
    )
    .await;
    let (a, m) = tokio::join!(
        questions::answer(
            p,
            &approver,
            &q.id,
            q.rev,
            "王先生您好：请携带身份证原件和失业证明到窗口办理。"
        ),
        questions::answer(p, &manager, &q.id, q.rev, "请携带身份证。")
    );
    assert!(a.is_ok() != m.is_ok(), "exactly one wins: {a:?} / {m:?}");
    let answered = questions::mine(p, &wang, &q.id).await.unwrap();
    assert_eq!(answered.state, QuestionState::Answered);
    assert_eq!(answered.rev, 2);
    assert!(answered.answer.is_some() && answered.answered_at == Some(p.now()));
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM audit_log WHERE action = $1",
            "question.answer"
        )
        .await,
        audit_before + 1
    );
    // The asker was told in-site, without the answer's text.
    let messages = yiwang_services::cases::messages(p, &wang, 10)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].title, "您的提问已答复");
    assert!(messages[0].case_id.is_none());
    assert!(!messages[0].body.contains("身份证"));
    // Answering again is out of order.
    assert!(matches!(
        questions::answer(p, &manager, &q.id, answered.rev, "再答一次").await,
        Err(ServiceError::Conflict(_))
    ));

    // Publishing: approvers answer but do not publish; personal numbers are refused; the
    // manager's edited wording appears on the guide.
    assert!(questions::faq(p, &code).entries.is_empty());
    assert!(matches!(
        questions::publish(
            p,
            &approver,
            &q.id,
            answered.rev,
            "请问申领需要带哪些材料？",
            "请携带身份证原件。"
        )
        .await,
        Err(ServiceError::Forbidden(_))
    ));
    let e = questions::publish(
        p,
        &manager,
        &q.id,
        answered.rev,
        &answered.text,
        "请携带身份证原件。",
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e), ["faq_question"]);
    let published = questions::publish(
        p,
        &manager,
        &q.id,
        answered.rev,
        "请问申领需要带哪些材料？",
        "请携带身份证原件和失业证明到窗口办理。",
    )
    .await
    .unwrap();
    assert!(published.published);
    let faq = questions::faq(p, &code);
    assert_eq!(faq.entries.len(), 1);
    assert_eq!(faq.entries[0].question, "请问申领需要带哪些材料？");
    assert_ne!(faq.stamp, 0);
    // A stale page cannot publish over it; new wording changes the stamp.
    assert!(matches!(
        questions::publish(
            p,
            &manager,
            &q.id,
            answered.rev,
            "请问要带什么？",
            "身份证。"
        )
        .await,
        Err(ServiceError::Conflict(_))
    ));
    let reworded = questions::publish(
        p,
        &manager,
        &q.id,
        published.rev,
        "请问申领需要带哪些材料？",
        "请携带身份证原件、失业证明到任一窗口办理。",
    )
    .await
    .unwrap();
    assert_ne!(questions::faq(p, &code).stamp, faq.stamp);
    // The cache is what the database says after a restart.
    let before = questions::faq(p, &code);
    p.reload().await.unwrap();
    assert_eq!(*questions::faq(p, &code), *before);
    // Taken down, it leaves the guide.
    assert!(matches!(
        questions::unpublish(p, &other, &q.id, reworded.rev).await,
        Err(ServiceError::NotFound { .. })
    ));
    let down = questions::unpublish(p, &manager, &q.id, reworded.rev)
        .await
        .unwrap();
    assert!(!down.published);
    assert!(questions::faq(p, &code).entries.is_empty());
    assert!(matches!(
        questions::unpublish(p, &manager, &q.id, down.rev).await,
        Err(ServiceError::Conflict(_))
    ));

    // Staff close with a reason; the asker withdraws their own.
    let closed = questions::close(p, &manager, &later.id, later.rev, "请咨询12345热线")
        .await
        .unwrap();
    assert_eq!(closed.state, QuestionState::Closed);
    assert!(!closed.withdrawn);
    let third = questions::ask(p, &wang, &code, "请问周六可以办理吗？")
        .await
        .unwrap();
    assert!(matches!(
        questions::withdraw(p, &li, &third.id, third.rev).await,
        Err(ServiceError::NotFound { .. })
    ));
    let gone = questions::withdraw(p, &wang, &third.id, third.rev)
        .await
        .unwrap();
    assert!(gone.withdrawn && gone.state == QuestionState::Closed);
    assert_eq!(
        questions::queue(p, &manager, QueueFilter::All)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn ask_answer_publish_on_every_backend() {
    for b in backends() {
        journey(b).await;
    }
}

async fn limits(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let manager = common::staff(p, "yl.rsj.manager").await;
    let code = item_of(p, &manager.org).await;
    let li = citizen(p, "13800000001").await;
    for i in 0..questions::MAX_OPEN {
        questions::ask(p, &li, &code, &format!("第{i}个问题：请问如何办理？"))
            .await
            .unwrap();
    }
    assert!(matches!(
        questions::ask(p, &li, &code, "再问一个问题可以吗？").await,
        Err(ServiceError::TooManyAttempts)
    ));
    // An answer frees a place; the day's allowance still counts every question asked.
    let first = questions::queue(p, &manager, QueueFilter::Open)
        .await
        .unwrap()
        .remove(0);
    questions::answer(p, &manager, &first.id, first.rev, "已答复。")
        .await
        .unwrap();
    questions::ask(p, &li, &code, "再问一个问题可以吗？")
        .await
        .unwrap();
    // Asked on a Saturday: counting starts on Monday, the deadline is Friday's end.
    t.clock.advance(Duration::days(1));
    let wang = citizen(p, "13800000002").await;
    let q = questions::ask(p, &wang, &code, "周六提问，请问何时答复？")
        .await
        .unwrap();
    assert_eq!(
        q.due_at,
        Utc.with_ymd_and_hms(2026, 12, 4, 9, 30, 0).unwrap()
    );
}

#[tokio::test]
async fn open_question_limit_and_weekend_deadline_on_every_backend() {
    for b in backends() {
        limits(b).await;
    }
}

/// The asker hears of the answer by SMS; the organisation is reminded once of a question left
/// past its deadline (with several sweeps, and only while it is open).
async fn reminders(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let approver = common::staff(p, "yl.rsj.approver").await;
    let code = item_of(p, &approver.org).await;
    let wang = citizen(p, "13800000002").await;
    let late = questions::ask(p, &wang, &code, "请问失业金每月什么时候发放？")
        .await
        .unwrap();
    let answered = questions::ask(p, &wang, &code, "请问可以委托他人代办吗？")
        .await
        .unwrap();
    assert_eq!(
        questions::alert_overdue(p).await.unwrap(),
        0,
        "nothing is late yet"
    );
    questions::answer(
        p,
        &approver,
        &answered.id,
        answered.rev,
        "可以，需提供委托书。",
    )
    .await
    .unwrap();
    let sms = p.outside.last_dev_message("13800000002").unwrap();
    assert!(sms.contains("提问已由"), "{sms}");

    // The approver's mobile number, for reminders (as a department administrator sets it).
    let phone = "13900000009";
    sqlx::query("UPDATE staff SET phone_enc = $1 WHERE id = $2")
        .bind(p.keys.pii.encrypt("phone", phone).unwrap())
        .bind(&approver.id)
        .execute(p.db.writer())
        .await
        .unwrap();
    t.clock.advance(Duration::days(10));
    assert_eq!(
        questions::alert_overdue(p).await.unwrap(),
        1,
        "only the open one"
    );
    assert_eq!(questions::alert_overdue(p).await.unwrap(), 0, "once");
    let sms = p.outside.last_dev_message(phone).unwrap();
    assert!(sms.contains("超过答复期限"), "{sms}");
    // A reminder changes nothing of the question itself.
    assert_eq!(
        questions::mine(p, &wang, &late.id).await.unwrap().state,
        QuestionState::Open
    );
}

#[tokio::test]
async fn reminders_on_every_backend() {
    for b in backends() {
        reminders(b).await;
    }
}
