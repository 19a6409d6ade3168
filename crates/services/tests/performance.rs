//! 绩效评估 on a real database (SQLite, and PostgreSQL when the test script runs one), on the
//! test clock: cases walked through the window and the approvers — one decided the same day,
//! one past its promised limit after the sweep raised its signals — and a bad real-name
//! rating with its rectification; the rollup counts each exactly once however often it runs,
//! rolls again a day whose case was delivered later, and the report sums it by organisation,
//! region and window within the reader's reach, scored by the configured formula.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends};
use yiwang_services::cases::{self, window};
use yiwang_services::supervision::formula::{Grade, Scoring};
use yiwang_services::supervision::performance::{self, By, Period, Report, ReportQuery};
use yiwang_services::workflow::inbox;
use yiwang_services::{Platform, ServiceError, supervision};

/// A case registered at the window for 陈静, submitted and accepted.
async fn accepted_case(p: &Platform, key: &str) -> cases::Case {
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
    let c = window::submit(p, &clerk, &c.id, key, None).await.unwrap();
    window::accept(p, &clerk, &c.id, Some(c.rev), "材料齐全，予以受理")
        .await
        .unwrap()
}

/// Every approval step approved; the case decided.
async fn approve(p: &Platform, c: &cases::Case) -> cases::Case {
    let approver: String = sqlx::query_scalar(
        "SELECT s.username FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.role = 'approver' AND r.org = $1 ORDER BY s.username LIMIT 1",
    )
    .bind(&c.org)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    let wf = c.wf_instance.clone().unwrap();
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
            inbox::complete_as(p, &wf, &task, &approver, inbox::Outcome::Approve, "同意")
                .await
                .unwrap();
        }
    }
    cases::events::drain(p).await.unwrap();
    let clerk = common::staff(p, "yl.window").await;
    let (c, _) = cases::for_staff(p, &clerk, &c.id).await.unwrap();
    assert!(c.decided_at.is_some(), "{c:?}");
    c
}

async fn report(p: &Platform, who: &str, by: By, period: &str) -> Result<Report, ServiceError> {
    let actor = common::staff(p, who).await;
    performance::report(
        p,
        &actor,
        &ReportQuery {
            period: Period::parse(period).unwrap(),
            by,
            region: None,
            org: None,
        },
    )
    .await
}

fn row<'a>(r: &'a Report, key: &str) -> Option<&'a performance::ReportRow> {
    r.rows.iter().find(|u| u.key == key)
}

async fn evaluation(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let clerk = common::staff(p, "yl.window").await;
    performance::refresh(p).await.unwrap();
    let base = report(p, "supervisor", By::Org, "2026Q4").await.unwrap();

    // A: decided the day it was accepted (on time and early); fetched at the window later.
    let a = accepted_case(p, "pf-a").await;
    let org = a.org.clone();
    let before = row(&base, &org).map(|u| u.totals).unwrap_or_default();
    let a = approve(p, &a).await;
    // B: accepted, left past its promised limit (the sweep raises 红牌 and 黄牌), then decided.
    let bcase = accepted_case(p, "pf-b").await;
    t.clock
        .advance(bcase.due_at.unwrap() - p.now() + chrono::Duration::hours(2));
    supervision::sweep(p).await.unwrap();
    let bcase = approve(p, &bcase).await;
    let reds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM signals WHERE case_id = $1 AND signal_type = 'red'",
    )
    .bind(&bcase.id)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    assert_eq!(reds, 1);
    let yellows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM signals WHERE case_id = $1 AND signal_type = 'yellow'",
    )
    .bind(&bcase.id)
    .fetch_one(p.db.pool())
    .await
    .unwrap();

    // A bad real-name rating of B with its rectification, answered; and a good one of A.
    let at = yiwang_store::fmt_time(p.now());
    for (id, case, level) in [("rt-b", &bcase, 1i64), ("rt-a", &a, 5)] {
        sqlx::query(
            "INSERT INTO ratings (id, case_id, case_no, item_code, org, region, channel, level, \
             scores, comment, real_name, rater_user, rated_at, status) VALUES ($1, $2, $3, $4, \
             $5, '430104', 'web', $6, '{}', '办得慢', 1, NULL, $7, 'valid')",
        )
        .bind(id)
        .bind(&case.id)
        .bind(case.case_no.clone().unwrap())
        .bind(&case.item_code)
        .bind(&org)
        .bind(level)
        .bind(&at)
        .execute(p.db.writer())
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO rectifications (id, number, rating_id, case_id, org, region, real_name, \
         opened_at, due_at, status, action, outcome, answered_by, answered_at) VALUES ('rx-b', \
         'ZG1', 'rt-b', $1, $2, '430104', 1, $3, $3, 'answered', 'return_visit', '已回访', 'x', $3)",
    )
    .bind(&bcase.id)
    .bind(&org)
    .bind(&at)
    .execute(p.db.writer())
    .await
    .unwrap();

    // Rolled twice: counted once.
    performance::refresh(p).await.unwrap();
    performance::refresh(p).await.unwrap();
    let r = report(p, "supervisor", By::Org, "2026Q4").await.unwrap();
    let u = row(&r, &org).expect("the organisation is in the report");
    let d = |f: fn(&performance::Totals) -> i64| f(&u.totals) - f(&before);
    assert_eq!(d(|t| t.finished), 2, "{u:?}");
    assert_eq!(d(|t| t.on_time), 1);
    assert_eq!(d(|t| t.overdue), 1);
    assert_eq!(d(|t| t.early), 1);
    assert_eq!(
        d(|t| t.fully_online),
        0,
        "both were applied for at the window"
    );
    assert_eq!(d(|t| t.visits), 2, "one visit each to apply");
    assert!(d(|t| t.days_sum) >= 1, "B took working days");
    assert_eq!(d(|t| t.red), 1);
    assert_eq!(d(|t| t.yellow), yellows);
    assert_eq!(d(|t| t.ratings), 2);
    assert_eq!(d(|t| t.satisfied), 1);
    assert_eq!(d(|t| t.bad), 1);
    assert_eq!(d(|t| t.bad_real_name), 1);
    assert_eq!(d(|t| t.followed), 1);
    assert!(u.score.is_some() && u.grade.is_some());
    assert_eq!(
        r.total.totals.finished,
        r.rows.iter().map(|u| u.totals.finished).sum::<i64>()
    );
    assert!(!r.months.is_empty());
    assert!(r.rolled_at.is_some());

    // A is fetched at the window: its decision's day is rolled again and counts a visit more.
    let a = window::deliver(p, &clerk, &a.id, Some(a.rev), "window", "", "")
        .await
        .unwrap();
    assert!(a.delivered_at.is_some());
    performance::refresh(p).await.unwrap();
    let r2 = report(p, "supervisor", By::Org, "2026Q4").await.unwrap();
    let u2 = row(&r2, &org).unwrap();
    assert_eq!(u2.totals.visits, u.totals.visits + 1);
    assert_eq!(u2.totals.finished, u.totals.finished);

    // By window: the clerk who accepted both; by region: 长沙市 within the province.
    let w = report(p, "supervisor", By::Window, "2026Q4").await.unwrap();
    let mine = row(&w, &format!("{org}/{}", clerk.id)).expect("the clerk's window");
    assert!(mine.totals.finished >= 2, "{mine:?}");
    assert!(mine.name.contains(&clerk.display_name), "{}", mine.name);
    let g = report(p, "supervisor", By::Region, "2026Q4").await.unwrap();
    let cs = row(&g, "430100").expect("长沙市");
    assert!(cs.totals.finished >= 2);
    assert!(
        g.rows
            .iter()
            .all(|u| u.key.len() == 6 && u.key.ends_with("00"))
    );
    // A year, a month and another quarter.
    let y = report(p, "supervisor", By::Org, "2026").await.unwrap();
    assert_eq!(row(&y, &org).unwrap().totals.finished, u2.totals.finished);
    let q3 = report(p, "supervisor", By::Org, "2026Q3").await.unwrap();
    assert!(row(&q3, &org).is_none_or(|u| u.totals.finished < u2.totals.finished));

    // Reach: a window clerk reads no report; outside the reader's reach is refused.
    assert!(matches!(
        report(p, "yl.window", By::Org, "2026Q4").await,
        Err(ServiceError::Forbidden(_))
    ));
    let supervisor = common::staff(p, "supervisor").await;
    assert!(matches!(
        performance::report(
            p,
            &supervisor,
            &ReportQuery {
                period: Period::parse("2026Q4").unwrap(),
                by: By::Org,
                region: Some("440000".into()),
                org: None,
            },
        )
        .await,
        Err(ServiceError::Forbidden(_))
    ));

    // The scoring: an impossible one refused with each problem, nothing saved; a saved one used.
    let admin = common::staff(p, "admin").await;
    let bad = Scoring {
        formula: "on_time_rate + speed".into(),
        excellent: 50.0,
        good: 60.0,
        pass: 40.0,
    };
    match performance::save_scoring(p, &admin, bad, "").await {
        Err(ServiceError::Invalid(es)) => {
            let fields: Vec<&str> = es.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, vec!["formula", "excellent", "note"]);
            assert!(es[0].message_zh.contains("speed"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(performance::current_scoring(p).await.unwrap().0, 0);
    assert!(matches!(
        performance::save_scoring(p, &supervisor, Scoring::standard(), "试试").await,
        Err(ServiceError::Forbidden(_))
    ));
    let only_on_time = Scoring {
        formula: "on_time_rate".into(),
        excellent: 99.0,
        good: 80.0,
        pass: 50.0,
    };
    assert_eq!(
        performance::save_scoring(p, &admin, only_on_time, "只看按时办结率")
            .await
            .unwrap(),
        1
    );
    let r3 = report(p, "supervisor", By::Org, "2026Q4").await.unwrap();
    let u3 = row(&r3, &org).unwrap();
    let rate = u3.indicators.on_time_rate.unwrap();
    assert_eq!(u3.score, Some((rate * 100.0).round() / 100.0));
    let expected = if rate >= 99.0 {
        Grade::Excellent
    } else if rate >= 80.0 {
        Grade::Good
    } else if rate >= 50.0 {
        Grade::Pass
    } else {
        Grade::Fail
    };
    assert_eq!(u3.grade, Some(expected));
    assert_eq!(r3.scoring_version, 1);

    // The workbook.
    let bytes = performance::workbook(&r3, false).unwrap();
    assert!(bytes.starts_with(b"PK"));
}

#[tokio::test]
async fn evaluation_on_every_backend() {
    for b in backends() {
        evaluation(b).await;
    }
}
