//! 人员管理 on both databases: who may manage whom (系统管理员 everywhere, 部门管理员 only their
//! own organisation's staff and non-administrative roles there), the last system
//! administrator, disabling and password resets ending sessions, whole-or-nothing Excel
//! import, and every change in the intact audit log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, backends, platform};
use rust_xlsxwriter::Workbook;
use yiwang_services::identity::audit;
use yiwang_services::identity::staff::{self, Role, Staff};
use yiwang_services::identity::staff_admin::{self as admin, Filter, NewStaff};
use yiwang_services::{Platform, ServiceError, demo};
use yiwang_store::Row;

const PASSWORD: &str = "Zhang#2026pw";

fn fields(e: ServiceError) -> Vec<String> {
    match e {
        ServiceError::Invalid(f) => f.into_iter().map(|f| f.field).collect(),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn new_staff(username: &str, home: &str, roles: &[(Role, &str)]) -> NewStaff {
    NewStaff {
        username: username.into(),
        display_name: format!("测试 {username}"),
        home_org: home.into(),
        roles: roles.iter().map(|(r, o)| (*r, o.to_string())).collect(),
        initial_password: PASSWORD.into(),
    }
}

async fn staff_count(p: &Platform) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM staff")
        .fetch_one(p.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn actions(p: &Platform) -> Vec<String> {
    sqlx::query("SELECT action FROM audit_log ORDER BY seq")
        .fetch_all(p.db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get("action").unwrap())
        .collect()
}

/// A workbook with sheet 人员, the import header and these rows.
fn workbook(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("人员").unwrap();
    let header = [
        "用户名",
        "姓名",
        "所属单位统一社会信用代码",
        "角色",
        "角色所在单位统一社会信用代码",
        "初始密码",
    ];
    for (c, h) in (0u16..).zip(header) {
        sheet.write_string(0, c, h).unwrap();
    }
    for (r, row) in (1u32..).zip(rows) {
        for (c, v) in (0u16..).zip(row) {
            sheet.write_string(r, c, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn scope_rules(b: Backend) {
    let t = platform(b).await;
    let p = &*t.p;
    let sys = common::staff(p, "admin").await;
    let dept = common::staff(p, "cs.scjg.admin").await;
    let manager = common::staff(p, "cs.scjg.manager").await;
    let other_org = common::staff(p, "yl.scjg.manager").await.org;
    let cs = dept.org.clone();
    assert_eq!(
        manager.org, cs,
        "the demo manager works in 长沙市市场监管局"
    );

    // Neither a manager nor anyone without an administrative role manages staff.
    assert!(matches!(
        admin::list(p, &manager, &Filter::default()).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        admin::create(
            p,
            &manager,
            new_staff("x.manager", &cs, &[(Role::WindowClerk, &cs)])
        )
        .await,
        Err(ServiceError::Forbidden(_))
    ));

    // The department administrator sees only their organisation's staff…
    let listing = admin::list(p, &dept, &Filter::default()).await.unwrap();
    assert!(listing.total >= 2);
    assert!(listing.rows.iter().all(|r| r.home_org == cs));
    let names: Vec<&str> = listing.rows.iter().map(|r| r.username.as_str()).collect();
    assert!(names.contains(&"cs.scjg.manager") && names.contains(&"cs.scjg.admin"));
    assert!(!names.contains(&"admin"));
    let found = admin::list(
        p,
        &dept,
        &Filter {
            q: Some("MANAGER".into()),
            ..Filter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.total, 1);
    let other_filter = Filter {
        org: Some(other_org.clone()),
        ..Filter::default()
    };
    assert_eq!(admin::list(p, &dept, &other_filter).await.unwrap().total, 0);
    // …and nobody else exists for them.
    let yl = common::staff(p, "yl.scjg.manager").await;
    assert!(matches!(
        admin::get(p, &dept, &yl.id).await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(matches!(
        admin::set_disabled(p, &dept, &sys.id, true).await,
        Err(ServiceError::NotFound { .. })
    ));
    assert!(admin::get(p, &dept, &manager.id).await.is_ok());
    // The system administrator sees everybody.
    let all = admin::list(p, &sys, &Filter::default()).await.unwrap();
    assert_eq!(all.total, demo::DEMO_STAFF.len() as i64);
    // 岳麓区市场监管局: its item manager and its approver.
    assert_eq!(admin::list(p, &sys, &other_filter).await.unwrap().total, 2);
    assert!(admin::get(p, &sys, &yl.id).await.is_ok());

    // Creation: every bad field at once; scope and role limits.
    let bad = NewStaff {
        username: "Bad Name".into(),
        display_name: "".into(),
        home_org: other_org.clone(),
        roles: vec![
            (Role::SystemAdmin, cs.clone()),
            (Role::ItemManager, other_org.clone()),
        ],
        initial_password: "short".into(),
    };
    let f = fields(admin::create(p, &dept, bad).await.unwrap_err());
    for field in [
        "username",
        "display_name",
        "home_org",
        "roles",
        "initial_password",
    ] {
        assert!(f.contains(&field.to_string()), "{field} not in {f:?}");
    }
    let before = staff_count(p).await;
    let f = fields(
        admin::create(
            p,
            &dept,
            new_staff("cs.scjg.manager", &cs, &[(Role::WindowClerk, &cs)]),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(f, ["username"], "a taken user name");
    assert_eq!(staff_count(p).await, before);

    let zhang = admin::create(
        p,
        &dept,
        new_staff("cs.scjg.zhang", &cs, &[(Role::WindowClerk, &cs)]),
    )
    .await
    .unwrap();
    let rec = admin::get(p, &dept, &zhang).await.unwrap();
    assert_eq!(rec.home_org, cs);
    assert_eq!(rec.assignments.len(), 1);
    assert!(!rec.disabled && !rec.totp_enabled);

    // Grants: non-administrative roles in the own organisation only.
    admin::grant(p, &dept, &zhang, Role::Approver, &cs)
        .await
        .unwrap();
    assert!(matches!(
        admin::grant(p, &dept, &zhang, Role::Approver, &cs).await,
        Err(ServiceError::Conflict(_))
    ));
    for (role, org) in [
        (Role::SystemAdmin, cs.as_str()),
        (Role::DeptAdmin, cs.as_str()),
        (Role::ItemManager, other_org.as_str()),
    ] {
        assert!(
            matches!(
                admin::grant(p, &dept, &zhang, role, org).await,
                Err(ServiceError::Forbidden(_))
            ),
            "{role:?} in {org}"
        );
    }
    admin::revoke(p, &dept, &zhang, Role::Approver, &cs)
        .await
        .unwrap();
    assert!(matches!(
        admin::revoke(p, &dept, &zhang, Role::Approver, &cs).await,
        Err(ServiceError::NotFound { .. })
    ));
    // The department administrator cannot touch another administrator, even at home.
    let other_admin = admin::create(
        p,
        &sys,
        new_staff("cs.scjg.admin2", &cs, &[(Role::DeptAdmin, &cs)]),
    )
    .await
    .unwrap();
    assert!(matches!(
        admin::set_disabled(p, &dept, &other_admin, true).await,
        Err(ServiceError::Forbidden(_))
    ));
    assert!(matches!(
        admin::reset_password(p, &dept, &other_admin, "Other#2026pw").await,
        Err(ServiceError::Forbidden(_))
    ));

    // The system administrator may grant anything anywhere.
    admin::grant(p, &sys, &zhang, Role::ItemManager, &other_org)
        .await
        .unwrap();
    admin::grant(p, &sys, &zhang, Role::SystemAdmin, &sys.org)
        .await
        .unwrap();
    let rec = admin::get(p, &sys, &zhang).await.unwrap();
    assert_eq!(rec.assignments.len(), 3);

    // The last system administrator stays.
    admin::revoke(p, &sys, &zhang, Role::SystemAdmin, &sys.org)
        .await
        .unwrap();
    assert!(matches!(
        admin::revoke(p, &sys, &sys.id, Role::SystemAdmin, &sys.org).await,
        Err(ServiceError::Conflict(_))
    ));
    assert!(matches!(
        admin::set_disabled(p, &sys, &sys.id, true).await,
        Err(ServiceError::Conflict(_))
    ));
    // With a second one, the first may go (and the second may not then).
    admin::grant(p, &sys, &zhang, Role::SystemAdmin, &sys.org)
        .await
        .unwrap();
    admin::revoke(p, &sys, &sys.id, Role::SystemAdmin, &sys.org)
        .await
        .unwrap();
    // Acting in the organisation where the system administrator role is held.
    let (token, _) = staff::sign_in(p, "cs.scjg.zhang", PASSWORD, "10.0.0.9")
        .await
        .unwrap();
    let zhang_staff: Staff = staff::switch_org(p, &token, &sys.org).await.unwrap().staff;
    assert!(matches!(
        admin::revoke(p, &zhang_staff, &zhang, Role::SystemAdmin, &sys.org).await,
        Err(ServiceError::Conflict(_))
    ));
    admin::grant(p, &zhang_staff, &sys.id, Role::SystemAdmin, &sys.org)
        .await
        .unwrap();

    let log = actions(p).await;
    for a in ["staff.create", "staff.role_grant", "staff.role_revoke"] {
        assert!(log.iter().any(|x| x == a), "{a} not audited");
    }
    let v = audit::verify(p).await.unwrap();
    assert_eq!(v.first_bad, None);
}

#[tokio::test]
async fn administrators_manage_staff_within_their_scope_on_every_backend() {
    for b in backends() {
        scope_rules(b).await;
    }
}

async fn sessions_end(b: Backend) {
    let t = platform(b).await;
    let p = &*t.p;
    let dept = common::staff(p, "cs.scjg.admin").await;
    let cs = dept.org.clone();
    let id = admin::create(
        p,
        &dept,
        new_staff("cs.scjg.li", &cs, &[(Role::ItemManager, &cs)]),
    )
    .await
    .unwrap();
    let (token, _) = staff::sign_in(p, "cs.scjg.li", PASSWORD, "10.0.0.8")
        .await
        .unwrap();
    assert!(staff::session(p, &token).await.unwrap().is_some());

    // Nobody disables themselves.
    assert!(matches!(
        admin::set_disabled(p, &dept, &dept.id, true).await,
        Err(ServiceError::Conflict(_))
    ));
    admin::set_disabled(p, &dept, &id, true).await.unwrap();
    assert!(staff::session(p, &token).await.unwrap().is_none());
    assert!(
        staff::sign_in(p, "cs.scjg.li", PASSWORD, "10.0.0.8")
            .await
            .is_err()
    );
    let rec = admin::get(p, &dept, &id).await.unwrap();
    assert!(rec.disabled);
    admin::set_disabled(p, &dept, &id, false).await.unwrap();
    let (token, _) = staff::sign_in(p, "cs.scjg.li", PASSWORD, "10.0.0.8")
        .await
        .unwrap();

    // A password reset follows the policy and ends the sessions too.
    assert_eq!(
        fields(
            admin::reset_password(p, &dept, &id, "weak")
                .await
                .unwrap_err()
        )[0],
        "new_password"
    );
    admin::reset_password(p, &dept, &id, "Fresh#2026pw")
        .await
        .unwrap();
    assert!(staff::session(p, &token).await.unwrap().is_none());
    assert!(
        staff::sign_in(p, "cs.scjg.li", "Fresh#2026pw", "10.0.0.8")
            .await
            .is_ok()
    );

    let log = actions(p).await;
    for a in ["staff.disable", "staff.enable", "staff.password_reset"] {
        assert!(log.iter().any(|x| x == a), "{a} not audited");
    }
    // No password in the log.
    let details: Vec<String> = sqlx::query("SELECT detail FROM audit_log")
        .fetch_all(p.db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get("detail").unwrap())
        .collect();
    assert!(
        details
            .iter()
            .all(|d| !d.contains(PASSWORD) && !d.contains("Fresh#2026pw"))
    );
    assert_eq!(audit::verify(p).await.unwrap().first_bad, None);
}

#[tokio::test]
async fn disabling_and_password_resets_end_sessions_on_every_backend() {
    for b in backends() {
        sessions_end(b).await;
    }
}

async fn excel(b: Backend) {
    let t = platform(b).await;
    let p = &*t.p;
    let dept = common::staff(p, "cs.scjg.admin").await;
    let sys = common::staff(p, "admin").await;
    let cs = dept.org.clone();
    let other_org = common::staff(p, "yl.scjg.manager").await.org;

    // Accepted: two new accounts, one with roles given by label list.
    let good = workbook(&[
        [
            "cs.scjg.wu",
            "吴敏",
            &cs,
            "窗口人员、审批人员",
            "",
            "Wumin#2026a",
        ],
        ["cs.scjg.he", "何平", &cs, "事项管理员", &cs, "Heping#2026a"],
    ]);
    let summary = admin::import(p, &dept, &good).await.unwrap();
    assert_eq!(
        (summary.created, summary.updated, summary.unchanged),
        (2, 0, 0)
    );
    let (_, s) = staff::sign_in(p, "cs.scjg.wu", "Wumin#2026a", "10.0.0.7")
        .await
        .unwrap();
    let mut roles = s.staff.roles.clone();
    roles.sort_by_key(|r| r.as_str());
    assert_eq!(roles, vec![Role::Approver, Role::WindowClerk]);
    assert_eq!(s.staff.org, cs);

    // Re-importing adds only what is missing (no password for existing accounts).
    let again = workbook(&[
        ["cs.scjg.wu", "吴敏", &cs, "窗口人员、事项管理员", "", ""],
        ["cs.scjg.he", "何平", &cs, "事项管理员", "", ""],
    ]);
    let summary = admin::import(p, &dept, &again).await.unwrap();
    assert_eq!(
        (summary.created, summary.updated, summary.unchanged),
        (0, 1, 1)
    );

    // Rejected as a whole: every bad row reported, nothing written.
    let before = staff_count(p).await;
    let log_before = actions(p).await.len();
    let bad = workbook(&[
        ["cs.scjg.ok", "好人", &cs, "窗口人员", "", "Goodman#2026"],
        ["Bad Name", "坏名", &cs, "窗口人员", "", "Goodman#2026"],
        [
            "cs.scjg.x1",
            "某甲",
            "91430000XXXXXXXXXX",
            "窗口人员",
            "",
            "Goodman#2026",
        ],
        [
            "cs.scjg.x2",
            "某乙",
            &other_org,
            "窗口人员",
            "",
            "Goodman#2026",
        ],
        ["cs.scjg.x3", "某丙", &cs, "科长", "", "Goodman#2026"],
        ["cs.scjg.x4", "某丁", &cs, "系统管理员", "", "Goodman#2026"],
        ["cs.scjg.x5", "某戊", &cs, "窗口人员", "", "weak"],
        ["cs.scjg.ok", "好人", &cs, "窗口人员", "", "Goodman#2026"],
        [
            "cs.scjg.x6",
            "某己",
            &cs,
            "窗口人员",
            &other_org,
            "Goodman#2026",
        ],
    ]);
    let Err(ServiceError::Import(errors)) = admin::import(p, &dept, &bad).await else {
        panic!("a bad workbook was accepted");
    };
    let at: Vec<(u32, &str)> = errors.iter().map(|e| (e.row, e.column.as_str())).collect();
    for (row, column) in [
        (3, "用户名"),
        (4, "所属单位统一社会信用代码"),
        (5, "所属单位统一社会信用代码"),
        (6, "角色"),
        (7, "角色"),
        (8, "初始密码"),
        (9, "用户名"),
        (10, "角色"),
    ] {
        assert!(
            at.contains(&(row, column)),
            "row {row} {column} not in {errors:#?}"
        );
    }
    assert!(errors.iter().all(|e| e.sheet == "人员" && e.row != 2));
    assert!(errors.iter().any(|e| e.message.contains("第2行")));
    assert_eq!(staff_count(p).await, before);
    assert_eq!(actions(p).await.len(), log_before);
    // The system administrator may import what the department administrator may not.
    let summary = admin::import(
        p,
        &sys,
        &workbook(&[[
            "yl.scjg.x4",
            "某丁",
            &other_org,
            "部门管理员",
            "",
            "Goodman#2026",
        ]]),
    )
    .await
    .unwrap();
    assert_eq!(summary.created, 1);
    // Not a workbook, or no 人员 sheet: one whole-file problem.
    assert!(matches!(
        admin::import(p, &dept, b"PK not really").await,
        Err(ServiceError::Import(e)) if e.len() == 1
    ));

    // Export: the department's staff only, one sheet 人员; the template has the import header.
    let bytes = admin::export(p, &dept).await.unwrap();
    let text = sheet_text(&bytes);
    assert!(text.contains("cs.scjg.wu\t吴敏\t"), "{text}");
    assert!(text.contains("窗口人员、审批人员、事项管理员"), "{text}");
    assert!(!text.contains("yl.scjg.x4"));
    assert!(text.contains("角色所在单位统一社会信用代码") && text.contains("状态"));
    assert!(sheet_text(&admin::export(p, &sys).await.unwrap()).contains("yl.scjg.x4"));
    assert!(sheet_text(&admin::template(&dept).unwrap()).contains("初始密码"));
    let manager = common::staff(p, "cs.scjg.manager").await;
    assert!(matches!(
        admin::export(p, &manager).await,
        Err(ServiceError::Forbidden(_))
    ));

    let log = actions(p).await;
    assert!(log.iter().any(|a| a == "staff.import"));
    assert_eq!(audit::verify(p).await.unwrap().first_bad, None);
}

/// Every cell of sheet 人员, tab-separated, one line a row.
fn sheet_text(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("人员").unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn staff_workbooks_import_whole_or_not_at_all_on_every_backend() {
    for b in backends() {
        excel(b).await;
    }
}
