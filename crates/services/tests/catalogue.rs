//! The catalogue's use-cases end to end, on SQLite and on PostgreSQL: the review cycle,
//! versions and diffs, suspension and cancellation, authorization, Excel round trips, and that
//! a rejected action changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends, platform, staff};
use yiwang_domain::item::{ItemState, VersionStatus};
use yiwang_services::ServiceError;
use yiwang_services::catalogue::{self, ItemQuery, StateAction};

fn query(q: &str) -> ItemQuery {
    ItemQuery {
        q: q.into(),
        page: 1,
        per_page: 20,
        ..ItemQuery::default()
    }
}

async fn version_count(p: &yiwang_services::Platform) -> i64 {
    use yiwang_store::Row;
    sqlx::query("SELECT count(*) AS n FROM item_versions")
        .fetch_one(p.db.pool())
        .await
        .unwrap()
        .get::<i64, _>("n")
}

async fn lifecycle(backend: Backend) {
    let t = platform(backend).await;
    let p = &t.p;
    let manager = staff(p, "yl.scjg.manager").await;
    let reviewer = staff(p, "cs.reviewer").await;

    // Pick a catalogue entry the district does not implement yet.
    let entries = catalogue::catalogue_for(p, &manager).await.unwrap();
    let entry = entries
        .iter()
        .find(|e| !e.implemented)
        .expect("an entry to implement");
    let code = catalogue::create(p, &manager, &entry.basic_code)
        .await
        .unwrap();
    let code = code.as_str().to_string();
    assert!(
        code.starts_with(&manager.org),
        "{code} is the manager's organisation's"
    );
    let rec = catalogue::item(p, &manager, &code).await.unwrap();
    assert_eq!(rec.state, ItemState::Draft);
    assert_eq!(rec.latest_status, VersionStatus::Draft);
    // A draft is not on the portal.
    assert!(catalogue::published(p, &code).await.is_err());

    // A vague material blocks submission, and the refusal changes nothing.
    let mut guide = catalogue::version(p, &manager, &code, 1)
        .await
        .unwrap()
        .guide;
    let good = guide.clone();
    guide.materials[0].name = "其他材料".into();
    guide.fees = None;
    catalogue::save(p, &manager, &code, 1, &guide)
        .await
        .unwrap();
    match catalogue::submit(p, &manager, &code, 1).await {
        Err(ServiceError::Quality(r)) => {
            let failed: Vec<&str> = r.failures().map(|c| c.id).collect();
            assert_eq!(failed, ["vague_wording", "fees"]);
        }
        other => panic!("expected a quality refusal, got {other:?}"),
    }
    assert_eq!(
        catalogue::item(p, &manager, &code)
            .await
            .unwrap()
            .latest_status,
        VersionStatus::Draft
    );

    // Fixed, submitted, approved: published and searchable.
    catalogue::save(p, &manager, &code, 1, &good).await.unwrap();
    catalogue::submit(p, &manager, &code, 1).await.unwrap();
    // Only a reviewer approves.
    assert!(matches!(
        catalogue::approve(p, &manager, &code, 1, None).await,
        Err(ServiceError::Forbidden(_))
    ));
    catalogue::approve(p, &reviewer, &code, 1, Some("同意发布"))
        .await
        .unwrap();
    let published = catalogue::published(p, &code).await.unwrap();
    assert_eq!(published.summary.version, 1);
    assert_eq!(published.summary.state, ItemState::Active);
    let mut q = query(&good.name);
    q.region = Some("430104".into());
    let hits = catalogue::search(p, &q, false).unwrap();
    assert_eq!(
        hits.items.first().map(|s| s.code.as_str()),
        Some(code.as_str())
    );

    // A published version is immutable.
    assert!(matches!(
        catalogue::save(p, &manager, &code, 1, &good).await,
        Err(ServiceError::Transition(_))
    ));

    // A change makes version 2; returned with a reason; resubmitted; approved.
    let v2 = catalogue::start_change(p, &manager, &code).await.unwrap();
    assert_eq!(v2, 2);
    assert!(matches!(
        catalogue::start_change(p, &manager, &code).await,
        Err(ServiceError::Conflict(_))
    ));
    let mut changed = good.clone();
    changed.promised_limit_days = changed.promised_limit_days.saturating_sub(1).max(1);
    changed.materials[0].copies += 1;
    catalogue::save(p, &manager, &code, 2, &changed)
        .await
        .unwrap();
    catalogue::submit(p, &manager, &code, 2).await.unwrap();
    assert!(matches!(
        catalogue::send_back(p, &reviewer, &code, 2, "  ").await,
        Err(ServiceError::Invalid(_))
    ));
    catalogue::send_back(
        p,
        &reviewer,
        &code,
        2,
        "材料份数与窗口实际收取不一致，请核实",
    )
    .await
    .unwrap();
    let v = catalogue::version(p, &manager, &code, 2).await.unwrap();
    assert_eq!(v.status, VersionStatus::Returned);
    assert_eq!(
        v.review_comment.as_deref(),
        Some("材料份数与窗口实际收取不一致，请核实")
    );
    // While v2 is under change, the portal still shows v1.
    assert_eq!(
        catalogue::published(p, &code)
            .await
            .unwrap()
            .summary
            .version,
        1
    );
    catalogue::submit(p, &manager, &code, 2).await.unwrap();
    catalogue::approve(p, &reviewer, &code, 2, None)
        .await
        .unwrap();
    let versions = catalogue::versions(p, &manager, &code).await.unwrap();
    let statuses: Vec<(i64, VersionStatus)> =
        versions.iter().map(|v| (v.version, v.status)).collect();
    assert_eq!(
        statuses,
        [
            (2, VersionStatus::Published),
            (1, VersionStatus::Superseded)
        ]
    );
    assert_eq!(
        catalogue::published(p, &code)
            .await
            .unwrap()
            .summary
            .version,
        2
    );

    // The side-by-side diff names exactly what changed.
    let diff = catalogue::compare(p, &manager, &code, 1, 2).await.unwrap();
    let changed_sections: Vec<&str> = diff.iter().filter(|s| s.changed).map(|s| s.label).collect();
    assert!(
        changed_sections.contains(&"申请材料"),
        "{changed_sections:?}"
    );

    // Suspend: gone from search, guide still readable with its reason; resume; cancel.
    catalogue::change_state(
        p,
        &manager,
        &code,
        StateAction::Suspend,
        "系统升级，暂停受理",
    )
    .await
    .unwrap();
    assert!(
        catalogue::search(p, &q, false)
            .unwrap()
            .items
            .iter()
            .all(|s| s.code != code)
    );
    let item = catalogue::published(p, &code).await.unwrap();
    assert_eq!(item.summary.state, ItemState::Suspended);
    assert_eq!(item.state_reason.as_deref(), Some("系统升级，暂停受理"));
    catalogue::change_state(p, &manager, &code, StateAction::Resume, "恢复受理")
        .await
        .unwrap();
    assert_eq!(catalogue::search(p, &q, false).unwrap().items[0].code, code);
    catalogue::change_state(
        p,
        &manager,
        &code,
        StateAction::Cancel,
        "职能调整，事项取消",
    )
    .await
    .unwrap();
    assert!(matches!(
        catalogue::change_state(p, &manager, &code, StateAction::Resume, "x").await,
        Err(ServiceError::Transition(_))
    ));

    // Who did what and when, in order.
    let history = catalogue::history(p, &manager, &code).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "create", "edit", "edit", "submit", "approve", "change", "edit", "submit", "return",
            "submit", "approve", "suspend", "resume", "cancel"
        ]
    );
    assert!(
        history
            .iter()
            .any(|e| e.actor_name == reviewer.display_name)
    );
}

#[tokio::test]
async fn item_lifecycle_on_every_backend() {
    for b in backends() {
        lifecycle(b).await;
    }
}

async fn authorization(backend: Backend) {
    let t = platform(backend).await;
    let p = &t.p;
    let yl = staff(p, "yl.scjg.manager").await;
    let cs_police = staff(p, "cs.gaj.manager").await;
    let cs_reviewer = staff(p, "cs.reviewer").await;
    // A published demo item of the district market regulator.
    let mine = catalogue::org_items(p, &yl).await.unwrap();
    let code = mine[0].code.clone();
    let before = version_count(p).await;
    // Another organisation's manager can neither read nor change it.
    assert!(matches!(
        catalogue::item(p, &cs_police, &code).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        catalogue::start_change(p, &cs_police, &code).await,
        Err(ServiceError::Forbidden(_))
    ));
    // A reviewer cannot edit; a manager cannot implement another department's entries.
    assert!(matches!(
        catalogue::start_change(p, &cs_reviewer, &code).await,
        Err(ServiceError::Forbidden(_))
    ));
    let other_dept = catalogue::catalogue_for(p, &cs_police).await.unwrap();
    assert!(matches!(
        catalogue::create(p, &yl, &other_dept[0].basic_code).await,
        Err(ServiceError::Forbidden(_))
    ));
    // Implementing the same entry twice is a conflict.
    let rec = catalogue::item(p, &yl, &code).await.unwrap();
    assert!(matches!(
        catalogue::create(p, &yl, &rec.basic_code).await,
        Err(ServiceError::Conflict(_))
    ));
    // A province-level item is outside the Changsha reviewer's region.
    let prov = staff(p, "scjg.manager").await;
    let prov_code = catalogue::org_items(p, &prov).await.unwrap()[0]
        .code
        .clone();
    catalogue::start_change(p, &prov, &prov_code).await.unwrap();
    catalogue::submit(p, &prov, &prov_code, 2).await.unwrap();
    assert!(matches!(
        catalogue::approve(p, &cs_reviewer, &prov_code, 2, None).await,
        Err(ServiceError::Forbidden(_))
    ));
    let province_reviewer = staff(p, "reviewer").await;
    catalogue::approve(p, &province_reviewer, &prov_code, 2, None)
        .await
        .unwrap();
    assert_eq!(version_count(p).await, before + 1);
}

#[tokio::test]
async fn authorization_on_every_backend() {
    for b in backends() {
        authorization(b).await;
    }
}

async fn excel_round_trip(backend: Backend) {
    let t = platform(backend).await;
    let p = &t.p;
    let m = staff(p, "cs.gaj.manager").await;
    let bytes = catalogue::export(p, &m).await.unwrap();
    let n_items = catalogue::org_items(p, &m).await.unwrap().len();
    assert!(n_items > 0);
    // Importing what was exported changes nothing.
    let s = catalogue::import(p, &m, &bytes).await.unwrap();
    assert_eq!((s.created, s.changed, s.unchanged), (0, 0, n_items));

    // Another organisation cannot import it: every row is refused, nothing written.
    let other = staff(p, "yl.rsj.manager").await;
    let before = version_count(p).await;
    match catalogue::import(p, &other, &bytes).await {
        Err(ServiceError::Import(cells)) => {
            assert_eq!(cells.len(), n_items);
            assert!(cells.iter().all(|c| c.column == "实施编码" && c.row >= 2));
        }
        other => panic!("expected an import refusal, got {other:?}"),
    }
    // Garbage is refused with a readable reason.
    assert!(matches!(
        catalogue::import(p, &m, b"not a workbook").await,
        Err(ServiceError::Import(_))
    ));
    assert_eq!(version_count(p).await, before);
}

#[tokio::test]
async fn excel_round_trip_on_every_backend() {
    for b in backends() {
        excel_round_trip(b).await;
    }
}

#[tokio::test]
async fn sign_in_locks_after_repeated_failures() {
    let t = platform(Backend::Sqlite).await;
    let p = &t.p;
    for _ in 0..5 {
        assert!(matches!(
            yiwang_services::identity::staff::sign_in(p, "reviewer", "wrong", "10.0.0.1").await,
            Err(ServiceError::Invalid(_))
        ));
    }
    // Locked: even the right password is refused until the lock ends.
    assert!(matches!(
        yiwang_services::identity::staff::sign_in(
            p,
            "reviewer",
            yiwang_services::demo::DEMO_PASSWORD,
            "10.0.0.1"
        )
        .await,
        Err(ServiceError::TooManyAttempts)
    ));
    t.clock.advance(chrono::Duration::minutes(16));
    let (token, s) = yiwang_services::identity::staff::sign_in(
        p,
        "reviewer",
        yiwang_services::demo::DEMO_PASSWORD,
        "10.0.0.1",
    )
    .await
    .unwrap();
    assert_eq!(s.staff.username, "reviewer");
    assert!(
        yiwang_services::identity::staff::session(p, &token)
            .await
            .unwrap()
            .is_some()
    );
    // Idle for longer than the idle timeout: the session is gone.
    t.clock.advance(chrono::Duration::minutes(31));
    assert!(
        yiwang_services::identity::staff::session(p, &token)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn demo_province_is_complete_and_loads_once() {
    let t = platform(Backend::Sqlite).await;
    let p = &t.p;
    let master = p.master.get();
    assert_eq!(master.regions.len(), 137);
    assert_eq!(master.children("430000").len(), 14);
    let active = p.summaries.active_count();
    assert!(active >= 300, "{active} items");
    let depts: std::collections::HashSet<_> = master
        .organisations
        .values()
        .filter_map(|o| o.department.clone())
        .collect();
    assert!(depts.len() >= 20);
    // Every demo guide passes the quality checks.
    let all = catalogue::search(
        p,
        &ItemQuery {
            page: 1,
            per_page: 100,
            ..ItemQuery::default()
        },
        true,
    )
    .unwrap();
    assert_eq!(all.total, active);
    for s in &all.items {
        let item = catalogue::published(p, &s.code).await.unwrap();
        let r = yiwang_domain::quality::check(&item.guide);
        assert!(
            r.passed(),
            "{}: {:?}",
            item.guide.name,
            r.failures().collect::<Vec<_>>()
        );
    }
    assert!(yiwang_services::demo::load(p).await.unwrap().is_none());
}
