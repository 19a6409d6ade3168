//! The approval workflow on a real database (SQLite, and PostgreSQL when the test script runs
//! one): deploy with problems listed, bind, start idempotently, the inbox actions with their
//! conflicts, send back and withdraw, timers and step limits with escalation fired exactly once
//! by two platform nodes, suspension moving deadlines by paused working time, migration.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::{Backend, backends};
use serde_json::{Map, json};
use sqlx::Row;
use yiwang_services::identity::staff::{Role, Staff};
use yiwang_services::identity::staff_admin::{self, NewStaff};
use yiwang_services::workflow::{self, inbox, runtime, timers};
use yiwang_services::{Platform, ServiceError};

fn bpmn(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:yiwang="https://yiwang.example/bpmn" id="d">
  <bpmn:message id="Msg_1" name="supplement_received"/>
  <bpmn:process id="Proc_Approval" name="许可审批" isExecutable="true">{body}</bpmn:process>
</bpmn:definitions>"#
    )
}

/// 承办 (2 working days, then 默认同意) → 审核 → gateway on `approved` → 批准 → end / refused end.
fn approval() -> String {
    bpmn(
        r#"<bpmn:startEvent id="S"/>
        <bpmn:userTask id="Handle" name="承办" camunda:candidateGroups="approver" yiwang:limitWorkingDays="2" yiwang:escalation="complete:approved"/>
        <bpmn:userTask id="Review" name="审核" camunda:candidateGroups="approver"/>
        <bpmn:exclusiveGateway id="G" default="no"/>
        <bpmn:userTask id="Decide" name="批准" camunda:candidateGroups="approver"/>
        <bpmn:endEvent id="Approved"/><bpmn:endEvent id="Refused"/>
        <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Handle"/>
        <bpmn:sequenceFlow id="f2" sourceRef="Handle" targetRef="Review"/>
        <bpmn:sequenceFlow id="f3" sourceRef="Review" targetRef="G"/>
        <bpmn:sequenceFlow id="yes" sourceRef="G" targetRef="Decide"><bpmn:conditionExpression>${approved}</bpmn:conditionExpression></bpmn:sequenceFlow>
        <bpmn:sequenceFlow id="no" sourceRef="G" targetRef="Refused"/>
        <bpmn:sequenceFlow id="f4" sourceRef="Decide" targetRef="Approved"/>"#,
    )
}

async fn approver(p: &Platform, admin: &Staff, org: &str, name: &str) -> Staff {
    staff_admin::create(
        p,
        admin,
        NewStaff {
            username: name.into(),
            display_name: format!("审批人员 {name}"),
            home_org: org.into(),
            roles: vec![(Role::Approver, org.into())],
            initial_password: "Approver@2026x".into(),
        },
    )
    .await
    .unwrap();
    yiwang_services::identity::staff::sign_in(p, name, "Approver@2026x", "127.0.0.1")
        .await
        .unwrap()
        .1
        .staff
}

async fn item_of(p: &Platform, org: &str) -> String {
    sqlx::query("SELECT code FROM items WHERE org = $1 ORDER BY code LIMIT 1")
        .bind(org)
        .fetch_one(p.db.pool())
        .await
        .unwrap()
        .get("code")
}

fn start(org: &str, key: &str, item: &str, days: u32) -> runtime::Start {
    runtime::Start {
        business_key: key.into(),
        item_code: Some(item.into()),
        process_key: None,
        org: org.into(),
        variables: Map::new(),
        limit_days: Some(days),
    }
}

/// The highest `live` mark of a task's offers (-1 when it has none).
async fn offers_live(p: &Platform, task: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(MAX(live), -1) FROM wf_offers WHERE task_id = $1")
        .bind(task)
        .fetch_one(p.db.pool())
        .await
        .unwrap()
}

fn fields(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Invalid(v) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

async fn open_task(p: &Platform, instance: &str, node: &str) -> inbox::Task {
    inbox::tasks_of(p, instance)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.node == node && (t.state == "open" || t.state == "delegated"))
        .unwrap_or_else(|| panic!("no open task at {node}"))
}

async fn journey(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let admin = common::staff(p, "admin").await;
    let a = common::staff(p, "yl.scjg.approver").await;
    let org = a.org.clone();
    let b2 = approver(p, &admin, &org, "yl.scjg.li").await;

    // Deployment lists every problem by element id; nothing is stored.
    let bad = bpmn(
        r#"<bpmn:startEvent id="S"/><bpmn:userTask id="T" camunda:candidateGroups="wizard" yiwang:candidateOrgs="nowhere"/><bpmn:serviceTask id="X" camunda:delegateExpression="${launchMissiles}"/><bpmn:task id="Plain"/><bpmn:endEvent id="E"/>
        <bpmn:sequenceFlow id="a" sourceRef="S" targetRef="T"/><bpmn:sequenceFlow id="b" sourceRef="T" targetRef="X"/><bpmn:sequenceFlow id="c" sourceRef="X" targetRef="E"/>"#,
    );
    let e = workflow::deploy(p, &admin, &bad).await.unwrap_err();
    let f = fields(e);
    assert!(f.contains(&"Plain".to_owned()), "{f:?}");
    let good = approval();
    let e = workflow::deploy(p, &a, &good).await.unwrap_err();
    assert!(matches!(e, ServiceError::Forbidden(_)));
    assert_eq!(
        workflow::definitions(p, &admin).await.unwrap().len(),
        1,
        "only the demo process"
    );
    let v1 = workflow::deploy(p, &admin, &good).await.unwrap();
    assert_eq!((v1.id.as_str(), v1.version), ("Proc_Approval:1", 1));
    // Semantic problems of the platform: unknown roles, organisations and actions.
    let e = workflow::check(&bad).unwrap_err();
    let ids: Vec<&str> = e.iter().map(|p| p.element_id.as_str()).collect();
    assert!(ids.contains(&"Plain"), "{ids:?}");

    let item = item_of(p, &org).await;
    // Binding validates its rules against the process.
    let mut rules = workflow::Rules::new();
    rules.insert("Nope".into(), workflow::TaskRule::default());
    let e = workflow::bind(
        p,
        &admin,
        std::slice::from_ref(&item),
        "Proc_Approval",
        rules,
    )
    .await
    .unwrap_err();
    assert_eq!(fields(e), ["Nope"]);
    workflow::bind(
        p,
        &admin,
        std::slice::from_ref(&item),
        "Proc_Approval",
        workflow::Rules::new(),
    )
    .await
    .unwrap();

    // Start: idempotent per business key; the instance limit counts working days.
    let i1 = runtime::start(p, "window", start(&org, "CASE-1", &item, 20))
        .await
        .unwrap();
    let again = runtime::start(p, "window", start(&org, "CASE-1", &item, 20))
        .await
        .unwrap();
    assert_eq!(i1.id, again.id);
    assert!(i1.due_at.is_some());

    // The inbox offers 承办 to every approver of the organisation; one claim wins.
    let mine = |v: Vec<inbox::Task>| -> Vec<inbox::Task> {
        v.into_iter()
            .filter(|t| t.business_key.starts_with("CASE-"))
            .collect()
    };
    let inbox_a = mine(inbox::inbox(p, &a).await.unwrap());
    assert_eq!(inbox_a.len(), 1);
    let handle = inbox_a[0].clone();
    assert_eq!(handle.node, "Handle");
    assert!(handle.due_at.is_some(), "the step limit sets a due time");
    inbox::claim(p, &a, &handle.id).await.unwrap();
    let e = inbox::claim(p, &b2, &handle.id).await.unwrap_err();
    assert!(matches!(e, ServiceError::Conflict(_)), "{e:?}");
    assert!(mine(inbox::inbox(p, &b2).await.unwrap()).is_empty());
    let e = inbox::complete(p, &b2, &handle.id, inbox::Outcome::Approve, "")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Conflict(_)), "{e:?}");
    // Refusing needs an opinion; nothing changes without one.
    let e = inbox::complete(p, &a, &handle.id, inbox::Outcome::Reject, " ")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["opinion"]);
    // Hand back, claim by the other, transfer back, delegate and resolve.
    inbox::unclaim(p, &a, &handle.id).await.unwrap();
    inbox::claim(p, &b2, &handle.id).await.unwrap();
    let e = inbox::transfer(p, &b2, &handle.id, "yl.window")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["to"]);
    inbox::transfer(p, &b2, &handle.id, "yl.scjg.approver")
        .await
        .unwrap();
    let d = inbox::delegate(p, &a, &handle.id, "yl.scjg.li")
        .await
        .unwrap();
    assert_eq!(
        (d.state.as_str(), d.owner.as_deref()),
        ("delegated", Some("yl.scjg.approver"))
    );
    let e = inbox::complete(p, &b2, &handle.id, inbox::Outcome::Approve, "")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Conflict(_)), "{e:?}");
    let r = inbox::resolve(p, &b2, &handle.id, "材料齐全")
        .await
        .unwrap();
    assert_eq!(
        (r.state.as_str(), r.assignee.as_deref()),
        ("open", Some("yl.scjg.approver"))
    );
    inbox::complete(p, &a, &handle.id, inbox::Outcome::Approve, "同意受理")
        .await
        .unwrap();

    // Withdraw while 审核 is untouched; then it is back with a.
    let reopened = inbox::withdraw(p, &a, &handle.id).await.unwrap();
    assert_eq!(
        (reopened.node.as_str(), reopened.assignee.as_deref()),
        ("Handle", Some("yl.scjg.approver"))
    );
    inbox::complete(p, &a, &reopened.id, inbox::Outcome::Approve, "")
        .await
        .unwrap();
    let review = open_task(p, &i1.id, "Review").await;
    inbox::claim(p, &b2, &review.id).await.unwrap();
    let e = inbox::withdraw(p, &a, &reopened.id).await.unwrap_err();
    assert!(
        matches!(e, ServiceError::Conflict(_)),
        "claimed next step blocks withdrawal"
    );

    // Send back to 承办 with a reason, then through to the end.
    let targets = inbox::send_back_targets(p, &review).await.unwrap();
    assert_eq!(
        targets.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["Handle"]
    );
    let e = inbox::send_back(p, &b2, &review.id, Some("Decide"), "材料不全")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["target"]);
    inbox::send_back(p, &b2, &review.id, None, "材料不全")
        .await
        .unwrap();
    let h = open_task(p, &i1.id, "Handle").await;
    inbox::complete(p, &a, &h.id, inbox::Outcome::Approve, "已补正")
        .await
        .unwrap();
    let r = open_task(p, &i1.id, "Review").await;
    // Offers stay with closed tasks, marked: only the open task's count for the inbox.
    assert_eq!(
        offers_live(p, &r.id).await,
        1,
        "the open 审核's offers are live"
    );
    for (closed, what) in [
        (&handle.id, "done, then withdrawn"),
        (&review.id, "sent back"),
        (&h.id, "done"),
    ] {
        assert_eq!(offers_live(p, closed).await, 0, "{what}");
    }
    assert!(
        mine(inbox::inbox(p, &b2).await.unwrap())
            .iter()
            .any(|t| t.id == r.id),
        "offered to b2 through a live offer"
    );
    inbox::complete(p, &b2, &r.id, inbox::Outcome::Approve, "")
        .await
        .unwrap();
    let d = open_task(p, &i1.id, "Decide").await;
    inbox::complete(p, &a, &d.id, inbox::Outcome::Approve, "准予许可")
        .await
        .unwrap();
    let done = runtime::get(p, &i1.id).await.unwrap();
    assert_eq!(done.state, "completed");
    assert!(mine(inbox::inbox(p, &a).await.unwrap()).is_empty());
    // The history explains every step, with opinions.
    let hist = runtime::history(p, &i1.id).await.unwrap();
    let kinds: Vec<&str> = hist.iter().map(|h| h.kind.as_str()).collect();
    for k in [
        "started",
        "claimed",
        "handed_back",
        "transferred",
        "delegated",
        "resolved",
        "completed",
        "withdraw",
        "withdrawn",
        "send_back",
        "sent_back",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let seqs: Vec<i64> = hist.iter().map(|h| h.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gapless history"
    );
    assert!(
        hist.iter()
            .any(|h| h.detail["opinion"] == json!("准予许可"))
    );

    // A refusal takes the other end.
    let i2 = runtime::start(p, "window", start(&org, "CASE-2", &item, 20))
        .await
        .unwrap();
    let h = open_task(p, &i2.id, "Handle").await;
    inbox::complete(p, &a, &h.id, inbox::Outcome::Approve, "")
        .await
        .unwrap();
    let r = open_task(p, &i2.id, "Review").await;
    inbox::complete(p, &a, &r.id, inbox::Outcome::Reject, "不符合条件")
        .await
        .unwrap();
    let i2 = runtime::get(p, &i2.id).await.unwrap();
    assert_eq!(
        (i2.state.as_str(), i2.inst.end_event.as_deref()),
        ("completed", Some("Refused"))
    );

    // Suspension: nothing can be done, the clock stops, deadlines move by paused working time.
    let i3 = runtime::start(p, "window", start(&org, "CASE-3", &item, 20))
        .await
        .unwrap();
    let h = open_task(p, &i3.id, "Handle").await;
    let e = runtime::suspend(p, "window", &i3.id, " ")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["reason"]);
    runtime::suspend(p, "window", &i3.id, "补正材料")
        .await
        .unwrap();
    let e = inbox::complete(p, &a, &h.id, inbox::Outcome::Approve, "")
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::Conflict(_)));
    t.clock.advance(chrono::Duration::days(7)); // Fri 27 Nov → Fri 4 Dec: 5 working days paused
    assert_eq!(
        timers::fire_due(p, "n1", 100).await.unwrap().limits,
        0,
        "suspended: timers wait"
    );
    let resumed = runtime::resume(p, "window", &i3.id).await.unwrap();
    let cal = p.calendar();
    let before_due = i3.due_at.unwrap();
    assert_eq!(
        cal.working_days_between(before_due, resumed.due_at.unwrap()),
        5
    );
    let h2 = inbox::get(p, &h.id).await.unwrap();
    assert!(h2.due_at > h.due_at, "the step deadline moved too");

    // The holder is told by SMS (a number set by the administrator; a bad one is refused).
    let e = staff_admin::set_phone(p, &admin, &a.id, "12345")
        .await
        .unwrap_err();
    assert_eq!(fields(e), ["phone"]);
    staff_admin::set_phone(p, &admin, &b2.id, "13900000011")
        .await
        .unwrap();
    assert_eq!(
        staff_admin::phone_of(p, &b2.id).await.unwrap().as_deref(),
        Some("13900000011")
    );
    // The step limit passes: 默认同意 completes 承办 once, even with two nodes sweeping.
    t.clock.advance(chrono::Duration::days(5));
    let (x, y) = tokio::join!(
        timers::fire_due(p, "n1", 100),
        timers::fire_due(p, "n2", 100)
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    // CASE-3's 承办 and the three demo cases' (notify only); each fires on one node only.
    assert_eq!(x.limits + y.limits, 4, "{x:?} {y:?}");
    let overdue = runtime::history(p, &i3.id)
        .await
        .unwrap()
        .iter()
        .filter(|h| h.kind == "overdue")
        .count();
    assert_eq!(overdue, 1);
    let h3 = inbox::get(p, &h.id).await.unwrap();
    assert_eq!(
        (h3.state.as_str(), h3.done_by.as_deref()),
        ("done", Some("system"))
    );
    assert!(h3.overdue);
    // Unclaimed, so everyone it was offered to with a number heard of it (the newest message
    // may be about one of the demo cases that passed their limit in the same sweep).
    let sms = p
        .outside
        .last_dev_message("13900000011")
        .expect("an overdue SMS");
    assert!(
        sms.contains("承办") && sms.contains("超过办理时限") && sms.contains("yl.scjg.li"),
        "{sms}"
    );
    assert!(
        p.outside
            .last_dev_message(workflow::DEMO_APPROVER_PHONE)
            .is_some()
    );
    open_task(p, &i3.id, "Review").await;
    assert_eq!(
        timers::fire_due(p, "n1", 100).await.unwrap(),
        timers::Fired::default()
    );

    // Version 2 renames 审核; running instances move only with a mapping.
    let v2xml = good
        .replace("\"Review\"", "\"Check\"")
        .replace("审核", "复核");
    let v2 = workflow::deploy(p, &admin, &v2xml).await.unwrap();
    assert_eq!(v2.version, 2);
    let i4 = runtime::start(p, "window", start(&org, "CASE-4", &item, 20))
        .await
        .unwrap();
    assert_eq!(
        i4.definition_id, "Proc_Approval:2",
        "new cases start on the latest version"
    );
    let e = runtime::migrate(
        p,
        &admin,
        "Proc_Approval:1",
        "Proc_Approval:2",
        &HashMap::new(),
    )
    .await
    .unwrap_err();
    assert!(fields(e).contains(&"Review".to_owned()));
    assert_eq!(
        runtime::get(p, &i3.id).await.unwrap().definition_id,
        "Proc_Approval:1"
    );
    let mapping = HashMap::from([("Review".to_owned(), "Check".to_owned())]);
    let n = runtime::migrate(p, &admin, "Proc_Approval:1", "Proc_Approval:2", &mapping)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let c = open_task(p, &i3.id, "Check").await;
    inbox::complete(p, &a, &c.id, inbox::Outcome::Approve, "")
        .await
        .unwrap();
    open_task(p, &i3.id, "Decide").await;
}

#[tokio::test]
async fn approval_journey_on_every_backend() {
    for b in backends() {
        journey(b).await;
    }
}

async fn timers_once(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let admin = common::staff(p, "admin").await;
    // A reminder every hour, three times, while the task waits; then a 1-day timer moves on.
    let xml = bpmn(
        r#"<bpmn:startEvent id="S"/>
        <bpmn:userTask id="A" name="承办" camunda:candidateGroups="approver"/>
        <bpmn:boundaryEvent id="Remind" attachedToRef="A" cancelActivity="false"><bpmn:timerEventDefinition><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>
        <bpmn:serviceTask id="N" camunda:delegateExpression="${notifyOverdue}"/><bpmn:endEvent id="E2"/>
        <bpmn:boundaryEvent id="Expire" attachedToRef="A"><bpmn:timerEventDefinition><bpmn:timeDuration>P1D</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>
        <bpmn:endEvent id="Expired"/><bpmn:endEvent id="E"/>
        <bpmn:sequenceFlow id="a" sourceRef="S" targetRef="A"/><bpmn:sequenceFlow id="b" sourceRef="A" targetRef="E"/>
        <bpmn:sequenceFlow id="r" sourceRef="Remind" targetRef="N"/><bpmn:sequenceFlow id="n" sourceRef="N" targetRef="E2"/>
        <bpmn:sequenceFlow id="x" sourceRef="Expire" targetRef="Expired"/>"#,
    );
    workflow::deploy(p, &admin, &xml).await.unwrap();
    let org = common::staff(p, "yl.scjg.approver").await.org;
    let mut ids = Vec::new();
    for k in 0..20 {
        let s = runtime::Start {
            business_key: format!("T-{k}"),
            item_code: None,
            process_key: Some("Proc_Approval".into()),
            org: org.clone(),
            variables: Map::new(),
            limit_days: None,
        };
        ids.push(runtime::start(p, "test", s).await.unwrap().id);
    }
    // A second platform node on the same database.
    let other = Platform::open(p.db.clone(), t.clock.clone()).await.unwrap();
    let sweep = |q: Arc<Platform>, name: &'static str| async move {
        let mut total = 0;
        for _ in 0..5 {
            let f = timers::fire_due(&q, name, 7).await.unwrap();
            total += f.timers;
        }
        total
    };
    for hour in 1..=3 {
        t.clock.advance(chrono::Duration::hours(1));
        let (x, y) = tokio::join!(sweep(p.clone(), "n1"), sweep(other.clone(), "n2"));
        assert_eq!(
            x + y,
            20,
            "hour {hour}: each reminder fires once ({x} + {y})"
        );
    }
    t.clock.advance(chrono::Duration::hours(1));
    assert_eq!(sweep(p.clone(), "n1").await, 0, "R3: no fourth reminder");
    t.clock.advance(chrono::Duration::hours(21));
    let (x, y) = tokio::join!(sweep(p.clone(), "n1"), sweep(other.clone(), "n2"));
    assert_eq!(x + y, 20);
    for id in &ids {
        let s = runtime::get(p, id).await.unwrap();
        assert_eq!(
            (s.state.as_str(), s.inst.end_event.as_deref()),
            ("completed", Some("Expired"))
        );
        let actions = runtime::history(p, id)
            .await
            .unwrap()
            .iter()
            .filter(|h| h.kind == "action")
            .count();
        assert_eq!(actions, 3);
        assert!(
            inbox::tasks_of(p, id)
                .await
                .unwrap()
                .iter()
                .all(|t| t.state == "cancelled")
        );
    }
    let outbox: i64 =
        sqlx::query("SELECT count(*) AS n FROM outbox WHERE topic = 'workflow.action'")
            .fetch_one(p.db.pool())
            .await
            .unwrap()
            .get("n");
    assert_eq!(outbox, 60);
}

#[tokio::test]
async fn timers_fire_exactly_once_across_two_nodes_on_every_backend() {
    for b in backends() {
        timers_once(b).await;
    }
}

async fn racing(b: Backend) {
    let t = common::platform(b).await;
    let p = &t.p;
    let admin = common::staff(p, "admin").await;
    workflow::deploy(p, &admin, &approval()).await.unwrap();
    let org = common::staff(p, "yl.scjg.approver").await.org;
    let s = runtime::Start {
        business_key: "RACE-1".into(),
        item_code: None,
        process_key: Some("Proc_Approval".into()),
        org: org.clone(),
        variables: Map::new(),
        limit_days: None,
    };
    // Two starts of one case at once: one instance.
    let (x, y) = tokio::join!(
        runtime::start(p, "a", s.clone()),
        runtime::start(p, "b", s.clone())
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.id, y.id);
    // Two decisions on one task at once (two nodes, say): exactly one wins, the other is a
    // conflict, and the process moved exactly one step.
    let other = Platform::open(p.db.clone(), t.clock.clone()).await.unwrap();
    let h = open_task(p, &x.id, "Handle").await;
    let (r1, r2) = tokio::join!(
        inbox::complete_as(p, &x.id, &h.id, "n1", inbox::Outcome::Approve, "一"),
        inbox::complete_as(&other, &x.id, &h.id, "n2", inbox::Outcome::Reject, "二")
    );
    let wins = [&r1, &r2].iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{r1:?} {r2:?}");
    let loser = if r1.is_ok() { r2 } else { r1 };
    assert!(matches!(loser, Err(ServiceError::Conflict(_))), "{loser:?}");
    let tasks = inbox::tasks_of(p, &x.id).await.unwrap();
    assert_eq!(tasks.iter().filter(|t| t.state == "done").count(), 1);
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.node == "Review" && t.state == "open")
            .count(),
        1
    );
    let hist = runtime::history(p, &x.id).await.unwrap();
    let seqs: Vec<i64> = hist.iter().map(|h| h.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "gapless history"
    );
}

#[tokio::test]
async fn racing_starts_and_decisions_on_every_backend() {
    for b in backends() {
        racing(b).await;
    }
}
