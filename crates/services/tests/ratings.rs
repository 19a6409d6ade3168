//! 好差评 on a real database (SQLite, and PostgreSQL when the test script runs one), on the test
//! clock (Friday 2026-11-27 09:00 Beijing time): a finished case is rated once per channel and
//! a second rating through the same channel is refused; an unfinished case, someone else's case
//! and bad values are refused and store nothing; a bad rating opens exactly one rectification
//! order due in the configured working days, whose answer reaches the rater (SMS and site
//! message) who then rates the fix; an appeal upheld excludes the rating and closes its order;
//! invitations go out once, three days after a case finished, never for a rated case, and their
//! link rates once and expires; the follow-up rate counts what it should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends};
use yiwang_services::cases::{self, window};
use yiwang_services::identity::users;
use yiwang_services::supervision::ratings::{
    self, InvitationStatus, Period, Rater, RatingInput, RatingQuery, RectificationQuery,
};
use yiwang_services::workflow::inbox;
use yiwang_services::{Platform, ServiceError, demo};

const CHEN_PHONE: &str = "13800000003";

/// An approver of the organisation (the demo gives each handling organisation one).
async fn approver_of(p: &Platform, org: &str) -> yiwang_services::identity::staff::Staff {
    let name: String = sqlx::query_scalar(
        "SELECT s.username FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.role = 'approver' AND r.org = $1 ORDER BY s.username LIMIT 1",
    )
    .bind(org)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    common::staff(p, &name).await
}

/// Gives the staff member a notification number (as an administrator does on /admin/staff).
async fn give_phone(p: &Platform, staff_id: &str, phone: &str) {
    let admin = common::staff(p, "admin").await;
    yiwang_services::identity::staff_admin::set_phone(p, &admin, staff_id, phone)
        .await
        .unwrap();
}

async fn citizen(p: &Platform, phone: &str) -> users::User {
    users::sign_in_password(p, phone, demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .unwrap()
        .1
        .user
}

/// A case of 陈静 (her account owns it: the window found it by her ID number), registered at
/// the window with its materials and form, submitted.
async fn submitted_case(p: &Platform, key: &str) -> cases::Case {
    let (code, required) = common::online_item(p).await;
    let clerk = common::staff(p, "yl.window").await;
    let c = common::register_person(
        p,
        &clerk,
        &code,
        "陈静",
        yiwang_connectors::demo::CHEN_JING_ID,
    )
    .await;
    for slot in &required {
        window::attach(p, &clerk, &c.id, *slot, "scan.pdf", common::PDF)
            .await
            .unwrap();
    }
    let spec = cases::apply::form_spec(p, &code).await.unwrap();
    window::save_form(p, &clerk, &c.id, &common::fill(&spec))
        .await
        .unwrap();
    window::submit(p, &clerk, &c.id, key, None).await.unwrap()
}

/// A case finished by 不予受理 (its finish time is `accepted_at`).
async fn refused_case(p: &Platform, key: &str) -> cases::Case {
    let clerk = common::staff(p, "yl.window").await;
    let c = submitted_case(p, key).await;
    window::refuse(
        p,
        &clerk,
        &c.id,
        Some(c.rev),
        "申请人不符合法定条件，依法不予受理",
    )
    .await
    .unwrap()
}

/// A case accepted and approved through its process (its finish time is `decided_at`).
async fn approved_case(p: &Platform, key: &str) -> cases::Case {
    let clerk = common::staff(p, "yl.window").await;
    let c = submitted_case(p, key).await;
    let c = window::accept(p, &clerk, &c.id, Some(c.rev), "材料齐全，予以受理")
        .await
        .unwrap();
    cases::events::drain(p).await.unwrap();
    let wf = c.wf_instance.clone().expect("the approval process started");
    let approver = approver_of(p, &c.org).await;
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
    cases::events::drain(p).await.unwrap();
    let (c, _) = cases::for_staff(p, &clerk, &c.id).await.unwrap();
    assert_eq!(c.state, yiwang_domain::case::CaseState::Approved, "{c:?}");
    assert!(c.decided_at.is_some());
    c
}

fn input(level: i64, scores: &[(&str, i64)], comment: &str) -> RatingInput {
    RatingInput {
        level: Some(level),
        scores: scores.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        comment: comment.into(),
    }
}

fn web(user: &users::User) -> Rater<'_> {
    Rater::Citizen {
        user,
        channel: "web",
    }
}

async fn count(p: &Platform, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind)
        .fetch_one(p.db.pool())
        .await
        .unwrap()
}

/// The SMS texts of `template` sent to `to` (anybody: empty) through the development
/// notifier, oldest first.
fn sms(p: &Platform, to: &str, template: &str) -> Vec<String> {
    let path = p.outside.dev_outbox.as_ref().expect("the dev notifier");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| (to.is_empty() || m["to"] == to) && m["template"] == template)
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn invalid_fields(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
        e => panic!("expected invalid input, got {e:?}"),
    }
}

async fn once_per_channel(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let chen = citizen(p, CHEN_PHONE).await;
    let wang = citizen(p, "13800000002").await;
    let clerk = common::staff(p, "yl.window").await;

    // Not finished: 409 with the reason, nothing stored.
    let open = submitted_case(p, "rt-open").await;
    match ratings::rate(p, web(&chen), &open.id, &input(5, &[], "")).await {
        Err(ServiceError::Conflict(m)) => assert!(m.contains("尚未办结"), "{m}"),
        r => panic!("{r:?}"),
    }

    let c = refused_case(p, "rt-1").await;
    let case_no = c.case_no.clone().unwrap();
    // Someone else's case: not found, whichever key is used.
    for key in [&c.id, &case_no] {
        assert!(matches!(
            ratings::rate(p, web(&wang), key, &input(5, &[], "")).await,
            Err(ServiceError::NotFound { .. })
        ));
    }
    // Bad values: every field named, nothing stored.
    let e = ratings::rate(
        p,
        web(&chen),
        &c.id,
        &input(6, &[("guide", 0), ("speed", 3)], ""),
    )
    .await
    .unwrap_err();
    assert_eq!(invalid_fields(e), ["level", "scores.guide", "scores.speed"]);
    let e = ratings::rate(p, web(&chen), &c.id, &input(2, &[], "  "))
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(e), ["comment"]);
    let e = ratings::rate(
        p,
        Rater::Citizen {
            user: &chen,
            channel: "window",
        },
        &c.id,
        &input(5, &[], ""),
    )
    .await
    .unwrap_err();
    assert_eq!(invalid_fields(e), ["channel"]);
    let none = RatingInput::default();
    assert_eq!(
        invalid_fields(
            ratings::rate(p, web(&chen), &c.id, &none)
                .await
                .unwrap_err()
        ),
        ["level"]
    );
    assert_eq!(
        count(p, "SELECT COUNT(*) FROM ratings WHERE case_id = $1", &c.id).await,
        0
    );

    // The web rating, with its facts from the case.
    let r = ratings::rate(
        p,
        web(&chen),
        &case_no,
        &input(5, &[("guide", 5), ("attitude", 4)], "窗口服务热情"),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.channel.as_str(), r.level, r.case_no.as_str()),
        ("web", 5, case_no.as_str())
    );
    assert_eq!(r.org, c.org);
    assert_eq!(r.item_code, c.item_code);
    assert_eq!(r.region, "430104", "the region of 岳麓区's organisation");
    assert!(r.real_name && r.rectification.is_none());
    assert_eq!(r.scores.get("attitude"), Some(&4));
    assert_eq!(r.rater_user.as_deref(), Some(chen.id.as_str()));
    // Once per channel.
    match ratings::rate(p, web(&chen), &c.id, &input(4, &[], "")).await {
        Err(ServiceError::Conflict(m)) => assert!(m.contains("已评价"), "{m}"),
        r => panic!("{r:?}"),
    }
    ratings::rate(
        p,
        Rater::Citizen {
            user: &chen,
            channel: "mobile",
        },
        &c.id,
        &input(4, &[], ""),
    )
    .await
    .unwrap();
    // The window's pad: a clerk who handles the case, for the applicant present.
    let approver = approver_of(p, &c.org).await;
    assert!(matches!(
        ratings::rate(
            p,
            Rater::Window {
                clerk: &approver,
                identified: true
            },
            &case_no,
            &input(5, &[], "")
        )
        .await,
        Err(ServiceError::Forbidden(_))
    ));
    let stranger = common::staff(p, "cs.gaj.manager").await;
    assert!(matches!(
        ratings::rate(
            p,
            Rater::Window {
                clerk: &stranger,
                identified: true
            },
            &case_no,
            &input(5, &[], "")
        )
        .await,
        Err(ServiceError::NotFound { .. })
    ));
    let w = ratings::rate(
        p,
        Rater::Window {
            clerk: &clerk,
            identified: false,
        },
        &case_no,
        &input(3, &[("process", 3)], ""),
    )
    .await
    .unwrap();
    assert_eq!(w.channel, "window");
    assert!(!w.real_name, "not identified: not real-name");
    assert!(w.rectification.is_none(), "基本满意 is not a bad rating");
    assert!(matches!(
        ratings::rate(
            p,
            Rater::Window {
                clerk: &clerk,
                identified: true
            },
            &case_no,
            &input(5, &[], "")
        )
        .await,
        Err(ServiceError::Conflict(_))
    ));
    assert_eq!(
        count(p, "SELECT COUNT(*) FROM ratings WHERE case_id = $1", &c.id).await,
        3
    );
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM rectifications WHERE case_id = $1",
            &c.id
        )
        .await,
        0,
        "levels 5, 4 and 3 open no order"
    );
    // The citizen sees them on the case; nothing is left to rate on the site.
    let mine = ratings::for_case(p, &chen, &c.id).await.unwrap();
    assert!(mine.finished);
    assert_eq!(mine.ratings.len(), 3);
    assert!(mine.open_channels.is_empty());
    assert!(matches!(
        ratings::for_case(p, &wang, &c.id).await,
        Err(ServiceError::NotFound { .. })
    ));
    // Staff within reach see them; another organisation's staff does not.
    let sup = common::staff(p, "supervisor").await;
    let seen = ratings::list(
        p,
        &sup,
        &RatingQuery {
            case_no: Some(case_no.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(seen.len(), 3);
    let dept = ratings::list(p, &approver, &RatingQuery::default())
        .await
        .unwrap();
    assert_eq!(dept.len(), 3);
    assert!(
        ratings::list(p, &stranger, &RatingQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        ratings::get(p, &stranger, &r.id).await,
        Err(ServiceError::NotFound { .. })
    ));
}

async fn rectification(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let chen = citizen(p, CHEN_PHONE).await;
    let wang = citizen(p, "13800000002").await;
    let stranger = common::staff(p, "cs.gaj.manager").await;
    let sup = common::staff(p, "supervisor").await;
    let c = refused_case(p, "rt-2").await;
    let approver = approver_of(p, &c.org).await;
    give_phone(p, &approver.id, "13900000099").await;

    // A good rating opens nothing; a bad one exactly one order, due in 5 working days.
    ratings::rate(p, web(&chen), &c.id, &input(4, &[], ""))
        .await
        .unwrap();
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM rectifications WHERE case_id = $1",
            &c.id
        )
        .await,
        0
    );
    let sms_before = sms(p, "13900000099", "rating_rectification").len();
    let bad = ratings::rate(
        p,
        Rater::Citizen {
            user: &chen,
            channel: "mobile",
        },
        &c.id,
        &input(1, &[("timeliness", 1)], "等了很久没人处理"),
    )
    .await
    .unwrap();
    let order = bad
        .rectification
        .clone()
        .expect("a bad rating opens an order");
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM rectifications WHERE rating_id = $1",
            &bad.id
        )
        .await,
        1
    );
    let due = p.calendar().add_working_days(p.now(), 5);
    assert_eq!(order.due_at, yiwang_store::fmt_time(due));
    // Friday 27 November + 5 working days: Friday 4 December, end of office hours.
    assert!(order.due_at.starts_with("2026-12-04T"), "{}", order.due_at);
    assert!(order.number.starts_with("ZG20261127"), "{}", order.number);
    assert_eq!((order.status.as_str(), order.late), ("open", false));
    assert_eq!(order.org, c.org);
    let texts = sms(p, "13900000099", "rating_rectification");
    assert_eq!(texts.len(), sms_before + 1, "the organisation is told once");
    assert!(texts.last().unwrap().contains(&order.number));

    // The deadline setting: system administrators only, 1 to 30.
    assert!(matches!(
        ratings::set_rectification_days(p, &sup, 10).await,
        Err(ServiceError::Forbidden(_))
    ));
    let admin = common::staff(p, "admin").await;
    assert!(matches!(
        ratings::set_rectification_days(p, &admin, 0).await,
        Err(ServiceError::Invalid(_))
    ));
    ratings::set_rectification_days(p, &admin, 10)
        .await
        .unwrap();
    assert_eq!(ratings::rectification_days(p).await.unwrap(), 10);
    let second = refused_case(p, "rt-3").await;
    let r2 = ratings::rate(p, web(&chen), &second.id, &input(2, &[], "态度不好"))
        .await
        .unwrap();
    assert_eq!(
        r2.rectification.unwrap().due_at,
        yiwang_store::fmt_time(p.calendar().add_working_days(p.now(), 10))
    );

    // Only the organisation rated answers; another one does not even see the order.
    assert!(matches!(
        ratings::answer(p, &stranger, &order.id, "return_visit", "已回访").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        ratings::answer(p, &sup, &order.id, "return_visit", "已回访").await,
        Err(ServiceError::Forbidden(_))
    ));
    let e = ratings::answer(p, &approver, &order.id, "ignored", "x")
        .await
        .unwrap_err();
    assert_eq!(invalid_fields(e), ["action", "outcome"]);
    // The fix cannot be rated before the answer.
    assert!(matches!(
        ratings::rate_fix(p, &chen, &order.id, Some(5), "").await,
        Err(ServiceError::Conflict(_))
    ));
    let outcome_before = sms(p, CHEN_PHONE, "rating_outcome").len();
    let answered = ratings::answer(
        p,
        &approver,
        &order.id,
        "return_visit",
        "已电话回访申请人，说明了不予受理的法定依据并致歉",
    )
    .await
    .unwrap();
    assert_eq!(answered.status, "answered");
    assert_eq!(answered.answered_by.as_deref(), Some(approver.id.as_str()));
    assert!(!answered.late);
    let outcome = sms(p, CHEN_PHONE, "rating_outcome");
    assert_eq!(
        outcome.len(),
        outcome_before + 1,
        "the rater is told by SMS"
    );
    assert!(outcome.last().unwrap().contains("回访"), "{outcome:?}");
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM user_messages WHERE user_id = $1 AND title = '您的评价已处理'",
            &chen.id
        )
        .await,
        1
    );
    assert!(matches!(
        ratings::answer(p, &approver, &order.id, "explained", "再答一次").await,
        Err(ServiceError::Conflict(_))
    ));
    // The citizen's case shows the outcome.
    let mine = ratings::for_case(p, &chen, &c.id).await.unwrap();
    let shown = mine
        .ratings
        .iter()
        .find_map(|r| r.rectification.clone())
        .unwrap();
    assert!(shown.outcome.unwrap().contains("致歉"));

    // The rater rates the fix, once; nobody else may.
    assert!(matches!(
        ratings::rate_fix(p, &wang, &order.id, Some(5), "").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert_eq!(
        invalid_fields(
            ratings::rate_fix(p, &chen, &order.id, Some(9), "")
                .await
                .unwrap_err()
        ),
        ["fix_level"]
    );
    let fixed = ratings::rate_fix(p, &chen, &order.id, Some(4), "满意")
        .await
        .unwrap();
    assert_eq!(fixed.fix_level, Some(4));
    assert!(matches!(
        ratings::rate_fix(p, &chen, &order.id, Some(5), "").await,
        Err(ServiceError::Conflict(_))
    ));

    // Lateness: the second order left open past its deadline, then answered late.
    t.clock.advance(chrono::Duration::days(20));
    let list = ratings::rectifications(
        p,
        &approver,
        &RectificationQuery {
            status: Some("open".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(list.len(), 1);
    let late = list[0].rectification.clone().unwrap();
    assert!(late.late, "open past its deadline");
    let late = ratings::answer(p, &approver, &late.id, "explained", "已说明情况")
        .await
        .unwrap();
    assert!(late.late, "answered after its deadline");
}

async fn appeal(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let chen = citizen(p, CHEN_PHONE).await;
    let stranger = common::staff(p, "cs.gaj.manager").await;
    let sup = common::staff(p, "supervisor").await;
    let c = refused_case(p, "rt-4").await;
    let approver = approver_of(p, &c.org).await;
    let good = ratings::rate(p, web(&chen), &c.id, &input(5, &[], ""))
        .await
        .unwrap();
    let bad = ratings::rate(
        p,
        Rater::Citizen {
            user: &chen,
            channel: "mobile",
        },
        &c.id,
        &input(1, &[], "骂人的话"),
    )
    .await
    .unwrap();

    // Only a bad rating, only by the organisation rated, once.
    assert!(matches!(
        ratings::appeal(p, &approver, &good.id, "恶意评价").await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        ratings::appeal(p, &stranger, &bad.id, "恶意评价").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        ratings::appeal(p, &sup, &bad.id, "恶意评价").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        ratings::appeal(p, &approver, &bad.id, " ").await,
        Err(ServiceError::Invalid(_))
    ));
    let pending = ratings::appeal(p, &approver, &bad.id, "评价内容为辱骂，与办件无关")
        .await
        .unwrap();
    assert_eq!(pending.appeal_status.as_deref(), Some("pending"));
    assert_eq!(pending.appealed_by.as_deref(), Some(approver.id.as_str()));
    assert!(matches!(
        ratings::appeal(p, &approver, &bad.id, "再次申诉").await,
        Err(ServiceError::Conflict(_))
    ));
    // Supervisors decide; the organisation does not.
    assert!(matches!(
        ratings::decide_appeal(p, &approver, &bad.id, true, "成立").await,
        Err(ServiceError::Forbidden(_))
    ));
    let decided = ratings::decide_appeal(p, &sup, &bad.id, true, "经核实为恶意评价")
        .await
        .unwrap();
    assert_eq!(decided.appeal_status.as_deref(), Some("upheld"));
    assert_eq!(decided.status, "closed");
    assert_eq!(decided.appeal_decided_by.as_deref(), Some(sup.id.as_str()));
    assert!(decided.appeal_decided_at.is_some());
    let r = ratings::get(p, &sup, &bad.id).await.unwrap();
    assert_eq!(r.status, "excluded");
    assert!(matches!(
        ratings::decide_appeal(p, &sup, &bad.id, false, "改判").await,
        Err(ServiceError::Conflict(_))
    ));
    // A closed order is not answered.
    assert!(matches!(
        ratings::answer(p, &approver, &decided.id, "explained", "说明").await,
        Err(ServiceError::Conflict(_))
    ));
    // Every step is in the audit log.
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM audit_log WHERE target = $1 AND action LIKE 'ratings.appeal%'",
            &bad.id
        )
        .await,
        2
    );

    // A rejected appeal leaves the rating valid and its order open.
    let c2 = refused_case(p, "rt-5").await;
    let bad2 = ratings::rate(p, web(&chen), &c2.id, &input(2, &[], "不满意"))
        .await
        .unwrap();
    ratings::appeal(p, &approver, &bad2.id, "申请人情绪原因")
        .await
        .unwrap();
    let rejected = ratings::decide_appeal(p, &sup, &bad2.id, false, "评价有事实依据")
        .await
        .unwrap();
    assert_eq!(rejected.appeal_status.as_deref(), Some("rejected"));
    assert_eq!(rejected.status, "open");
    assert_eq!(
        ratings::get(p, &sup, &bad2.id).await.unwrap().status,
        "valid"
    );
}

async fn invitations(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let chen = citizen(p, CHEN_PHONE).await;
    let refused = refused_case(p, "rt-6").await;
    let approved = approved_case(p, "rt-7").await;
    let rated = refused_case(p, "rt-8").await;
    ratings::rate(p, web(&chen), &rated.id, &input(5, &[], ""))
        .await
        .unwrap();
    let sent = || sms(p, CHEN_PHONE, "rating_invitation");
    assert_eq!(ratings::invite(p).await.unwrap(), 0);
    t.clock.advance(chrono::Duration::days(2));
    assert_eq!(ratings::invite(p).await.unwrap(), 0, "not yet 3 days");
    t.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(5));
    assert_eq!(
        ratings::invite(p).await.unwrap(),
        2,
        "the two unrated cases"
    );
    for _ in 0..2 {
        assert_eq!(ratings::invite(p).await.unwrap(), 0, "once");
    }
    t.clock.advance(chrono::Duration::days(1));
    assert_eq!(ratings::invite(p).await.unwrap(), 0, "once");
    let texts = sent();
    assert_eq!(texts.len(), 2, "{texts:?}");
    for (c, n) in [(&refused, 1), (&approved, 1), (&rated, 0)] {
        let no = c.case_no.clone().unwrap();
        assert_eq!(
            texts.iter().filter(|x| x.contains(&no)).count(),
            n,
            "{no}: {texts:?}"
        );
        assert_eq!(
            count(
                p,
                "SELECT COUNT(*) FROM rating_invitations WHERE case_id = $1",
                &c.id
            )
            .await,
            n as i64
        );
    }
    // Only the token's SHA-256 is stored.
    let token_of = |case_no: &str| {
        let text = texts.iter().find(|x| x.contains(case_no)).unwrap();
        let at = text.find("/rate/").unwrap() + "/rate/".len();
        text[at..at + 64].to_owned()
    };
    let token = token_of(refused.case_no.as_deref().unwrap());
    let stored: String =
        sqlx::query_scalar("SELECT token_hash FROM rating_invitations WHERE case_id = $1")
            .bind(&refused.id)
            .fetch_one(p.db.pool())
            .await
            .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);

    // The link rates once, through the sms channel, without an account.
    let inv = ratings::invitation(p, &token).await.unwrap();
    assert_eq!(inv.status, InvitationStatus::Open);
    assert_eq!(inv.case_no, refused.case_no.clone().unwrap());
    assert_eq!(inv.applicant_masked, "陈*");
    assert!(matches!(
        ratings::rate_by_invitation(p, &token, &input(0, &[], "")).await,
        Err(ServiceError::Invalid(_))
    ));
    let r = ratings::rate_by_invitation(p, &token, &input(3, &[("result", 3)], ""))
        .await
        .unwrap();
    assert_eq!(r.channel, "sms");
    assert_eq!(r.rater_user.as_deref(), Some(chen.id.as_str()));
    assert!(matches!(
        ratings::rate_by_invitation(p, &token, &input(5, &[], "")).await,
        Err(ServiceError::Conflict(_))
    ));
    assert_eq!(
        ratings::invitation(p, &token).await.unwrap().status,
        InvitationStatus::Used
    );
    assert!(matches!(
        ratings::invitation(p, &"0".repeat(64)).await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        ratings::invitation(p, "short").await,
        Err(ServiceError::NotFound { .. })
    ));
    // The other link expires after 30 days.
    let other = token_of(approved.case_no.as_deref().unwrap());
    t.clock.advance(chrono::Duration::days(31));
    assert_eq!(
        ratings::invitation(p, &other).await.unwrap().status,
        InvitationStatus::Expired
    );
    assert!(matches!(
        ratings::rate_by_invitation(p, &other, &input(5, &[], "")).await,
        Err(ServiceError::Conflict(_))
    ));
    // A case finished after a long gap is still found: the sweep reads from its cursor.
    let late = refused_case(p, "rt-9").await;
    t.clock
        .advance(chrono::Duration::days(3) + chrono::Duration::minutes(1));
    assert_eq!(ratings::invite(p).await.unwrap(), 1);
    assert_eq!(
        count(
            p,
            "SELECT COUNT(*) FROM rating_invitations WHERE case_id = $1",
            &late.id
        )
        .await,
        1
    );
}

async fn follow_up(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let chen = citizen(p, CHEN_PHONE).await;
    let clerk = common::staff(p, "yl.window").await;
    let stranger = common::staff(p, "cs.gaj.manager").await;
    let sup = common::staff(p, "supervisor").await;
    let c = refused_case(p, "rt-10").await;
    let approver = approver_of(p, &c.org).await;
    let c2 = refused_case(p, "rt-11").await;
    // Answered, left open, excluded on appeal, and one not real-name.
    let answered = ratings::rate(p, web(&chen), &c.id, &input(1, &[], "很差"))
        .await
        .unwrap();
    ratings::rate(
        p,
        Rater::Citizen {
            user: &chen,
            channel: "mobile",
        },
        &c.id,
        &input(2, &[], "不满意"),
    )
    .await
    .unwrap();
    ratings::rate(
        p,
        Rater::Window {
            clerk: &clerk,
            identified: false,
        },
        &c.id,
        &input(1, &[], "不满意"),
    )
    .await
    .unwrap();
    let excluded = ratings::rate(p, web(&chen), &c2.id, &input(1, &[], "恶意"))
        .await
        .unwrap();
    ratings::answer(
        p,
        &approver,
        &answered.rectification.unwrap().id,
        "rectified",
        "已整改窗口流程",
    )
    .await
    .unwrap();
    ratings::appeal(p, &approver, &excluded.id, "恶意评价")
        .await
        .unwrap();
    ratings::decide_appeal(p, &sup, &excluded.id, true, "属实")
        .await
        .unwrap();
    t.clock.advance(chrono::Duration::days(14));
    let period = Period::quarter_to_date(p);
    assert!(yiwang_store::fmt_time(period.from).starts_with("2026-09-30T16:00"));
    let f = ratings::follow_up(p, &sup, period).await.unwrap();
    assert_eq!(
        (f.total.bad, f.total.answered, f.total.open, f.total.overdue),
        (2, 1, 1, 1),
        "{f:?}"
    );
    assert!((f.rate - 50.0).abs() < 1e-9, "{}", f.rate);
    assert_eq!(f.rows.len(), 1);
    assert_eq!(f.rows[0].org, c.org);
    // The organisation sees its own; another organisation nothing (100%: nothing to do).
    let own = ratings::follow_up(p, &approver, period).await.unwrap();
    assert_eq!(own.total.bad, 2);
    let other = ratings::follow_up(p, &stranger, period).await.unwrap();
    assert_eq!((other.total.bad, other.rate), (0, 100.0));
    // A period before any rating counts nothing.
    let before = Period {
        from: period.from - chrono::Duration::days(90),
        to: period.from,
    };
    assert_eq!(
        ratings::follow_up(p, &sup, before).await.unwrap().total.bad,
        0
    );
}

#[tokio::test]
async fn a_finished_case_is_rated_once_per_channel_on_every_backend() {
    for b in backends() {
        once_per_channel(b).await;
    }
}

#[tokio::test]
async fn a_bad_rating_opens_one_rectification_answered_to_the_rater_on_every_backend() {
    for b in backends() {
        rectification(b).await;
    }
}

#[tokio::test]
async fn an_upheld_appeal_excludes_the_rating_on_every_backend() {
    for b in backends() {
        appeal(b).await;
    }
}

#[tokio::test]
async fn invitations_go_once_three_days_after_the_finish_on_every_backend() {
    for b in backends() {
        invitations(b).await;
    }
}

#[tokio::test]
async fn the_follow_up_rate_counts_real_name_bad_ratings_on_every_backend() {
    for b in backends() {
        follow_up(b).await;
    }
}
