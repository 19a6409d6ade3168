//! 电子监察 on a real database (SQLite, and PostgreSQL when the test script runs one), on the
//! test clock: a case accepted at the window is walked past each threshold — one working day
//! before its promised limit (预警), past a step's limit (黄牌), past the promised limit (红牌)
//! — and each signal appears exactly once however often the sweep runs; a refusal with no real
//! reason raises its irregularities from the process records through the outbox consumer, and
//! reading the records again raises nothing twice; appeals, withdrawals and supervision orders
//! are for the right people only; impossible rule sets are refused and each saved set is a
//! new version.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends};
use yiwang_services::cases::{self, window};
use yiwang_services::supervision::rules::{RuleKind, RuleSet};
use yiwang_services::supervision::signals::{self, SignalQuery};
use yiwang_services::supervision::{self};
use yiwang_services::{Platform, ServiceError};

/// A case registered at the window for 陈静, its materials scanned and its form filled, then
/// submitted.
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

async fn of_case(p: &Platform, case: &str) -> Vec<signals::Signal> {
    let admin = common::staff(p, "admin").await;
    signals::list(
        p,
        &admin,
        &SignalQuery {
            case_id: Some(case.to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn count(list: &[signals::Signal], signal_type: &str, step: Option<&str>) -> usize {
    list.iter()
        .filter(|s| s.signal_type == signal_type && step.is_none_or(|st| s.step == st))
        .count()
}

async fn deadlines(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let clerk = common::staff(p, "yl.window").await;
    let c = submitted_case(p, "sv-1").await;
    let c = window::accept(p, &clerk, &c.id, Some(c.rev), "材料齐全，予以受理")
        .await
        .unwrap();
    cases::events::drain(p).await.unwrap();
    let due = c.due_at.expect("a 承诺件 has a promised limit");
    // A regular case: the records raise nothing, and the deadline is far.
    supervision::consume(p).await.unwrap();
    supervision::sweep(p).await.unwrap();
    let early = of_case(p, &c.id).await;
    assert!(
        early.iter().all(|s| s.signal_type == "irregular"),
        "no deadline signal yet: {early:?}"
    );

    // The day before the deadline: 预警, once however often the sweep runs.
    let eve = due - chrono::Duration::hours(20);
    t.clock.advance(eve - p.now());
    for _ in 0..3 {
        supervision::sweep(p).await.unwrap();
    }
    let list = of_case(p, &c.id).await;
    assert_eq!(count(&list, "warning", Some("承诺时限")), 1, "{list:?}");
    let warning = list.iter().find(|s| s.signal_type == "warning").unwrap();
    assert_eq!(warning.org, c.org);
    assert_eq!(warning.rule_no, "JC01");
    assert!(warning.number.starts_with("JC"));

    // Past the promised limit: 红牌 once; the open steps past their limits: 黄牌, once each.
    t.clock.advance(chrono::Duration::hours(21));
    for _ in 0..2 {
        supervision::sweep(p).await.unwrap();
    }
    let list = of_case(p, &c.id).await;
    assert_eq!(count(&list, "red", None), 1, "{list:?}");
    let yellow = count(&list, "yellow", None);
    let steps: std::collections::HashSet<&str> = list
        .iter()
        .filter(|s| s.signal_type == "yellow")
        .map(|s| s.step.as_str())
        .collect();
    assert_eq!(steps.len(), yellow, "one 黄牌 per step: {list:?}");

    // The board counts the case as overdue, not in time.
    let admin = common::staff(p, "admin").await;
    let board = signals::board(p, &admin).await.unwrap();
    let row = board
        .iter()
        .find(|r| r.org == c.org)
        .expect("the organisation");
    assert!(row.overdue >= 1, "{row:?}");

    // Behind the overdue count: the case, with the working days it is past its limit; the
    // in-time list no longer has it; an organisation outside reach is not found.
    let overdue = signals::board_cases(p, &admin, &c.org, signals::BoardState::Overdue)
        .await
        .unwrap();
    let listed = overdue
        .iter()
        .find(|x| x.id == c.id)
        .expect("the overdue case");
    assert!(listed.working_days.is_some_and(|d| d < 0), "{listed:?}");
    assert_eq!(listed.case_no, c.case_no);
    let in_time = signals::board_cases(p, &admin, &c.org, signals::BoardState::InTime)
        .await
        .unwrap();
    assert!(in_time.iter().all(|x| x.id != c.id), "{in_time:?}");
    let supervisor = common::staff(p, "supervisor").await;
    assert!(
        signals::board_cases(p, &supervisor, &c.org, signals::BoardState::Overdue)
            .await
            .unwrap()
            .iter()
            .any(|x| x.id == c.id)
    );
    assert!(matches!(
        signals::board_cases(p, &clerk, &c.org, signals::BoardState::Overdue).await,
        Err(ServiceError::NotFound { .. })
    ));
    // The list filters by rule, organisation and case number, a page at a time.
    let by = |rule: &str, org: &str, case_no: &str| SignalQuery {
        rule_no: Some(rule.into()),
        org: Some(org.into()),
        case_no: Some(case_no.into()),
        ..Default::default()
    };
    let case_no = c.case_no.clone().unwrap();
    let reds = signals::page(p, &supervisor, &by("JC03", &c.org, &case_no), 1, 50)
        .await
        .unwrap();
    assert_eq!((reds.total, reds.signals.len()), (1, 1), "{reds:?}");
    assert_eq!(reds.signals[0].signal_type, "red");
    let none = signals::page(p, &supervisor, &by("JC03", "no-such-org", &case_no), 1, 50)
        .await
        .unwrap();
    assert_eq!(none.total, 0);
    let all = SignalQuery {
        case_id: Some(c.id.clone()),
        ..Default::default()
    };
    let first = signals::page(p, &supervisor, &all, 1, 1).await.unwrap();
    let second = signals::page(p, &supervisor, &all, 2, 1).await.unwrap();
    assert!(first.total >= 2, "{first:?}");
    assert_eq!(first.total, second.total);
    assert_ne!(first.signals[0].id, second.signals[0].id);

    // A rule switched off raises nothing new.
    let mut set = RuleSet::standard();
    for r in &mut set.rules {
        r.enabled = r.kind != RuleKind::CaseOverdue;
    }
    assert_eq!(
        supervision::save_rules(p, &admin, set, "红牌规则暂停")
            .await
            .unwrap(),
        1
    );
    let second = submitted_case(p, "sv-2").await;
    let second = window::accept(p, &clerk, &second.id, Some(second.rev), "受理")
        .await
        .unwrap();
    t.clock
        .advance(second.due_at.unwrap() - p.now() + chrono::Duration::hours(1));
    supervision::sweep(p).await.unwrap();
    assert_eq!(count(&of_case(p, &second.id).await, "red", None), 0);
}

async fn irregularities(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let clerk = common::staff(p, "yl.window").await;
    let c = submitted_case(p, "sv-3").await;
    // The clerk has a mobile number: they are told of the signals they are responsible for.
    let admin = common::staff(p, "admin").await;
    yiwang_services::identity::staff_admin::set_phone(p, &admin, &clerk.id, "13900000077")
        .await
        .unwrap();
    // A one-character "reason" is no reason; the application was complete and never corrected.
    let c = window::refuse(p, &clerk, &c.id, Some(c.rev), "否")
        .await
        .unwrap();
    assert!(supervision::consume(p).await.unwrap() >= 2);
    let list = of_case(p, &c.id).await;
    let kinds: Vec<&str> = list.iter().map(|s| s.kind.as_str()).collect();
    assert!(kinds.contains(&"refused_without_reason"), "{kinds:?}");
    assert!(kinds.contains(&"qualified_refused"), "{kinds:?}");
    let refused = list
        .iter()
        .find(|s| s.kind == "refused_without_reason")
        .unwrap()
        .clone();
    assert_eq!(refused.person.as_deref(), Some(clerk.id.as_str()));
    assert_eq!(refused.step, "不予受理");
    let sms = p
        .outside
        .last_dev_message("13900000077")
        .expect("the clerk is told");
    assert!(sms.contains("电子监察") && sms.contains("违规"), "{sms}");
    // Reading the records again (a replay, another node) raises nothing twice.
    assert_eq!(supervision::check_case(p, &c.id).await.unwrap(), 0);
    assert_eq!(supervision::consume(p).await.unwrap(), 0);
    assert_eq!(of_case(p, &c.id).await.len(), list.len());

    // The responsible organisation (the item's department: its approver) appeals; the window clerk, of
    // another organisation, does not even see it; a supervisor withdraws it with a reason and
    // orders the department to answer about the other one.
    let approver: String = sqlx::query_scalar(
        "SELECT s.username FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.role = 'approver' AND r.org = $1 ORDER BY s.username LIMIT 1",
    )
    .bind(&c.org)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    let dept = common::staff(p, &approver).await;
    assert_eq!(dept.org, c.org);
    let supervisor = common::staff(p, "supervisor").await;
    assert!(matches!(
        signals::appeal(p, &clerk, &refused.id, "理由充分").await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        signals::appeal(p, &dept, &refused.id, "").await,
        Err(ServiceError::Invalid(_))
    ));
    let s = signals::appeal(p, &dept, &refused.id, "申请人不符合条件，已当面说明")
        .await
        .unwrap();
    assert_eq!(s.status, "appealed");
    assert!(matches!(
        signals::decide(p, &dept, &refused.id, true, "自行撤销").await,
        Err(ServiceError::Forbidden(_))
    ));
    let s = signals::decide(p, &supervisor, &refused.id, true, "核实理由已当面告知")
        .await
        .unwrap();
    assert_eq!(s.status, "withdrawn");
    let trail = signals::trail(p, &supervisor, &refused.id).await.unwrap();
    assert_eq!(
        trail.appealed_by.as_deref(),
        Some(dept.display_name.as_str())
    );
    assert_eq!(
        trail.decided_by.as_deref(),
        Some(supervisor.display_name.as_str())
    );
    assert_eq!(
        trail.person_name.as_deref(),
        Some(clerk.display_name.as_str())
    );
    assert!(trail.appealed_at.is_some() && trail.decided_at.is_some());
    assert!(matches!(
        signals::trail(p, &clerk, &refused.id).await,
        Err(ServiceError::NotFound { .. })
    ));
    let other = list.iter().find(|s| s.kind == "qualified_refused").unwrap();
    assert!(matches!(
        signals::issue_order(p, &supervisor, &other.id, "请说明", 0).await,
        Err(ServiceError::Invalid(_))
    ));
    let order = signals::issue_order(p, &supervisor, &other.id, "请核实并说明不予受理的依据", 3)
        .await
        .unwrap();
    assert_eq!(order.status, "issued");
    assert!(matches!(
        signals::answer_order(p, &supervisor, &order.id, "已核实").await,
        Err(ServiceError::Forbidden(_))
    ));
    let answered = signals::answer_order(p, &dept, &order.id, "经核实，申请人不符合条件")
        .await
        .unwrap();
    assert_eq!(answered.status, "answered");
    assert!(!answered.late);
    assert!(matches!(
        signals::answer_order(p, &dept, &order.id, "再次答复").await,
        Err(ServiceError::Conflict(_))
    ));

    // Rules: impossible thresholds are refused with every problem; only administrators save.
    let mut bad = RuleSet::standard();
    bad.rules[0].days = 0;
    bad.rules[1].no = bad.rules[2].no.clone();
    match supervision::save_rules(p, &admin, bad, "").await {
        Err(ServiceError::Invalid(errs)) => {
            let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(fields, ["rules[0]", "rules[2]", "note"], "{errs:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        supervision::save_rules(p, &supervisor, RuleSet::standard(), "试").await,
        Err(ServiceError::Forbidden(_))
    ));
    assert_eq!(supervision::current_rules(p).await.unwrap().0, 0);
}

#[tokio::test]
async fn deadlines_raise_each_signal_once_on_every_backend() {
    for b in backends() {
        deadlines(b).await;
    }
}

#[tokio::test]
async fn irregularities_are_raised_once_appealed_and_ordered_on_every_backend() {
    for b in backends() {
        irregularities(b).await;
    }
}

/// The simulated clock: only system administrators move it, only forward, only on a platform
/// running on it; moving it runs the sweep.
#[tokio::test]
async fn the_simulated_clock_moves_forward_for_administrators_only() {
    use std::sync::Arc;
    let (db, _dir) = common::fresh_db(Backend::Sqlite).await;
    db.migrate().await.unwrap();
    let clock = Arc::new(yiwang_services::SimulatedClock::new());
    let p = Platform::open(db, clock).await.unwrap();
    yiwang_services::demo::load(&p).await.unwrap();
    let admin = common::staff(&p, "admin").await;
    let supervisor = common::staff(&p, "supervisor").await;
    assert!(p.simulated_clock().is_some());
    let before = p.now();
    assert!(matches!(
        supervision::advance_clock(&p, &supervisor, 3, 0).await,
        Err(ServiceError::Forbidden(_))
    ));
    for (days, hours) in [(0, 0), (-1, 0), (400, 0)] {
        assert!(matches!(
            supervision::advance_clock(&p, &admin, days, hours).await,
            Err(ServiceError::Invalid(_))
        ));
    }
    supervision::advance_clock(&p, &admin, 3, 2).await.unwrap();
    let moved = p.now() - before;
    assert!(
        moved >= chrono::Duration::hours(74) && moved < chrono::Duration::hours(75),
        "{moved}"
    );
    // A platform on a fixed clock refuses.
    let t = common::platform(Backend::Sqlite).await;
    let admin = common::staff(&t.p, "admin").await;
    assert!(matches!(
        supervision::advance_clock(&t.p, &admin, 1, 0).await,
        Err(ServiceError::Conflict(_))
    ));
}

/// The consumer keeps up with bursts: 2,500 events in one second (more than a round reads)
/// are all read within two rounds, the cursor always moving on.
#[tokio::test]
async fn the_consumer_moves_on_through_a_burst() {
    let t = common::platform(Backend::Sqlite).await;
    let p = &t.p;
    for i in 0..2_500 {
        let at = yiwang_store::fmt_time(p.now() + chrono::Duration::microseconds(300 * i));
        sqlx::query(
            "INSERT INTO outbox (id, topic, payload, created_at, subject) \
             VALUES ($1, 'case.refuse', '{}', $2, $3)",
        )
        .bind(format!("burst-{i:05}"))
        .bind(at)
        .bind(format!("no-such-case-{i}"))
        .execute(p.db.writer())
        .await
        .unwrap();
    }
    let cursor = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT created_at FROM supervision_cursor WHERE consumer = 'supervision.rules'",
        )
        .fetch_optional(p.db.pool())
        .await
        .unwrap()
    };
    let newest: String = sqlx::query_scalar("SELECT MAX(created_at) FROM outbox")
        .fetch_one(p.db.pool())
        .await
        .unwrap();
    let mut rounds = 0;
    while cursor().await.as_deref() != Some(newest.as_str()) {
        supervision::consume(p).await.unwrap();
        rounds += 1;
        assert!(rounds <= 3, "the cursor does not move on");
    }
}
