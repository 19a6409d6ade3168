//! The 电子监察 pages over real HTTP, as people use them, on a server running on the simulated
//! clock (`serve --simulated-clock`): a case accepted at the window; the system administrator
//! saves a rule set (an impossible one first: 422, every problem marked, nothing saved) and
//! moves the clock past the case's promised limit on the clock page, whose sweep raises the
//! 红牌; the supervisor sees it on the board (by region, then organisation; the same counts
//! as JSON with the session for the page's script), drills down to the overdue case and opens
//! its staff case page, which lists the signal; the responsible department appeals through the
//! form, the supervisor upholds it (a decision without a reason is refused with the field
//! marked) and issues a 督办 (a deadline that is not a number: 422), which the department
//! answers; the window clerk of another organisation sees none of it and may neither decide
//! nor edit the rules. CSRF tokens are taken from the pages. SQLite, and PostgreSQL when the
//! test script gives one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{App, Backend, Browser, Page, Time};
use yiwang_services::cases::{self, window};

/// The first link `href="{prefix}…"` of a page: the rest of its target.
fn link_after(page: &Page, prefix: &str) -> String {
    let key = format!("href=\"{prefix}");
    let at = page.body.find(&key).unwrap_or_else(|| {
        panic!("no link {prefix}… in {}", page.body);
    }) + key.len();
    page.body[at..].split('"').next().unwrap().to_owned()
}

/// Signs the system administrator in and passes TOTP: enrolling the first time (the secret is
/// kept), with a code from the kept secret afterwards.
async fn admin(app: &App, secret: &mut Option<String>) -> Browser {
    let b = app.browser();
    b.staff_sign_in("admin").await;
    let page = b.get("/admin/totp?next=/admin").await;
    assert_eq!(page.status, 200, "{}", page.body);
    if page.body.contains("id=\"totp-secret\"") {
        *secret = Some(page.totp_secret());
    }
    let code = app.totp_code(secret.as_deref().expect("enrolled before"));
    let ok = b
        .post(
            "/admin/totp",
            &[("csrf", &page.csrf()), ("code", &code), ("next", "/admin")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    b
}

async fn signed_in(app: &App, user: &str) -> Browser {
    let b = app.browser();
    b.staff_sign_in(user).await;
    b
}

/// A case of an online 承诺件 registered, submitted and accepted at the window.
async fn accepted_case(app: &App) -> cases::Case {
    let p = &app.platform;
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT i.code FROM items i JOIN wf_bindings b ON b.item_code = i.code \
         JOIN item_forms f ON f.item_code = i.code ORDER BY i.code",
    )
    .fetch_all(p.db.pool())
    .await
    .unwrap();
    let mut chosen = None;
    for code in rows {
        let item = yiwang_services::catalogue::published(p, &code)
            .await
            .unwrap();
        let g = &item.guide;
        if g.service_objects
            .contains(&yiwang_domain::dict::ServiceObject::NaturalPerson)
            && g.case_type == yiwang_domain::dict::CaseType::Promised
            && item.summary.state == yiwang_domain::item::ItemState::Active
        {
            let required: Vec<usize> = g
                .materials
                .iter()
                .enumerate()
                .filter(|(_, m)| m.required && m.condition.is_none())
                .map(|(i, _)| i)
                .collect();
            chosen = Some((code, required));
            break;
        }
    }
    let (code, required) = chosen.expect("an online 承诺件 bound to a process");
    let clerk =
        yiwang_services::identity::staff::sign_in(p, "yl.window", "Yiwang@2026", "127.0.0.1")
            .await
            .unwrap()
            .1
            .staff;
    let c = window::register(
        p,
        &clerk,
        &code,
        cases::apply::NewApplicant {
            kind: cases::ApplicantKind::Person,
            name: "陈静".into(),
            id: yiwang_connectors::demo::CHEN_JING_ID.into(),
            phone: String::new(),
            user_id: None,
        },
    )
    .await
    .unwrap();
    for slot in &required {
        window::attach(p, &clerk, &c.id, *slot, "scan.pdf", b"%PDF-1.7\n%%EOF\n")
            .await
            .unwrap();
    }
    let spec = cases::apply::form_spec(p, &code).await.unwrap();
    let mut values = serde_json::Map::new();
    for f in spec.fields() {
        if f.when.is_some() {
            continue;
        }
        use yiwang_domain::form::FieldKind;
        let v: serde_json::Value = match &f.kind {
            FieldKind::Text { .. } | FieldKind::Address { .. } => "测试内容".into(),
            FieldKind::Date { .. } => "2026-11-02".into(),
            FieldKind::Number { .. } => 1200.into(),
            FieldKind::Choice { options, .. } => options[0].value.clone().into(),
            _ => continue,
        };
        values.insert(f.key.clone(), v);
    }
    window::save_form(p, &clerk, &c.id, &values).await.unwrap();
    let c = window::submit(p, &clerk, &c.id, "sv-pages", None)
        .await
        .unwrap();
    let c = window::accept(p, &clerk, &c.id, Some(c.rev), "材料齐全，予以受理")
        .await
        .unwrap();
    cases::events::drain(p).await.unwrap();
    c
}

/// The standard rules as the form posts them, with `change` applied to the fields.
fn rules_form(csrf: &str, note: &str, change: &[(&str, &str)]) -> Vec<(String, String)> {
    let set = yiwang_services::supervision::rules::RuleSet::standard();
    let mut f = vec![
        ("csrf".to_owned(), csrf.to_owned()),
        ("note".to_owned(), note.to_owned()),
    ];
    for (i, r) in set.rules.iter().enumerate() {
        let kind = serde_json::to_value(r.kind).unwrap();
        f.push((format!("rules[{i}][no]"), r.no.clone()));
        f.push((
            format!("rules[{i}][kind]"),
            kind.as_str().unwrap().to_owned(),
        ));
        f.push((format!("rules[{i}][enabled]"), "1".into()));
        f.push((format!("rules[{i}][days]"), r.days.to_string()));
        f.push((format!("rules[{i}][items]"), String::new()));
        f.push((format!("rules[{i}][regions]"), String::new()));
    }
    // The spare row, left blank.
    f.push(("rules[9][no]".into(), String::new()));
    f.push(("rules[9][kind]".into(), String::new()));
    for (k, v) in change {
        match f.iter_mut().find(|(name, _)| name == k) {
            Some(field) => field.1 = (*v).to_owned(),
            None => f.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    f
}

async fn journey(app: &App) {
    let p = &app.platform;
    let c = accepted_case(app).await;
    let case_no = c.case_no.clone().expect("a case number");
    let due = c.due_at.expect("a promised limit");
    let org = c.org.clone();
    let org_name = p.master.get().organisation(&org).unwrap().name.clone();

    // The administrator: an impossible rule set is refused with each problem on its row, and
    // nothing is saved; a possible one is the next version.
    let mut secret = None;
    let a = admin(app, &mut secret).await;
    let page = a.get("/admin/supervision/rules").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"note\""), "the form");
    let bad = rules_form(
        &page.csrf(),
        "",
        &[("rules[0][days]", "0"), ("rules[1][days]", "三")],
    );
    let r = a.post_fields("/admin/supervision/rules", &bad).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"rule-0-err\""), "{}", r.body);
    assert!(r.body.contains("预警须在时限前1至10个工作日"), "{}", r.body);
    assert!(r.body.contains("id=\"rule-1-err\""), "{}", r.body);
    assert!(r.body.contains("工作日数“三”须为0或正整数"), "{}", r.body);
    assert!(r.body.contains("id=\"note-err\""), "{}", r.body);
    assert!(!r.body.contains("id=\"rule-2-err\""), "{}", r.body);
    assert!(r.body.contains("value=\"三\""), "the posted value stays");
    assert_eq!(
        yiwang_services::supervision::current_rules(p)
            .await
            .unwrap()
            .0,
        0
    );
    let good = rules_form(
        &page.csrf(),
        "预警提前至2个工作日",
        &[("rules[0][days]", "2")],
    );
    let r = a.post_fields("/admin/supervision/rules", &good).await;
    assert_eq!(
        (r.status, r.location.as_str()),
        (303, "/admin/supervision/rules?done=rules_saved"),
        "{}",
        r.body
    );
    let (version, set) = yiwang_services::supervision::current_rules(p)
        .await
        .unwrap();
    assert_eq!((version, set.rules[0].days), (1, 2));
    let page = a.get("/admin/supervision/rules?done=rules_saved").await;
    assert!(page.body.contains("预警提前至2个工作日"), "{}", page.body);
    assert!(
        page.body.contains("id=\"rules-version\">1<"),
        "{}",
        page.body
    );

    // The clock page: a number that is not one is refused; moving past the case's limit runs
    // the sweep, which raises its 红牌.
    let page = a.get("/admin/supervision/clock").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"days\""), "{}", page.body);
    let r = a
        .post(
            "/admin/supervision/clock",
            &[("csrf", &page.csrf()), ("days", "两"), ("hours", "0")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"clock-days-err\""), "{}", r.body);
    let days = (due - p.now()).num_hours() / 24 + 2;
    let r = a
        .post(
            "/admin/supervision/clock",
            &[
                ("csrf", &page.csrf()),
                ("days", &days.to_string()),
                ("hours", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.location
            .starts_with("/admin/supervision/clock?done=clock_moved&signals="),
        "{}",
        r.location
    );
    let raised: u64 = r
        .location
        .split("signals=")
        .nth(1)
        .and_then(|s| s.split('&').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(raised >= 1, "{}", r.location);
    assert!(p.now() > due);

    // Sessions idle past their timeout on the moved clock: everyone signs in again.
    let sup = signed_in(app, "supervisor").await;
    let board = sup.get("/admin/supervision").await;
    assert_eq!(board.status, 200, "{}", board.body);
    assert!(
        board
            .body
            .contains("<noscript><meta http-equiv=\"refresh\"")
    );
    assert!(board.body.contains("src=\"/static/board.js\""));
    assert!(!board.body.contains("<script>"), "no inline script");
    assert!(board.body.contains("aria-live=\"polite\""));
    assert!(
        board
            .body
            .contains(&format!("data-count=\"o:{org}:overdue\""))
    );
    assert!(board.body.contains(&org_name));
    for page in [
        "/admin/supervision/signals",
        "/admin/supervision/orders",
        "/admin/supervision/rules",
        "/admin/supervision/clock",
    ] {
        assert!(
            board.body.contains(&format!("href=\"{page}\"")),
            "the board links {page}"
        );
    }
    // By region: the child regions of the province link to the board narrowed to them.
    let org_region = p.master.get().organisation(&org).unwrap().region.clone();
    let city = p.master.get().region_path(&org_region)[1].clone();
    assert!(
        board
            .body
            .contains(&format!("href=\"/admin/supervision?region={city}\"")),
        "{}",
        board.body
    );
    let narrowed = sup.get(&format!("/admin/supervision?region={city}")).await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.body);
    assert!(narrowed.body.contains(&org_name));
    assert_eq!(
        sup.get("/admin/supervision?region=999999").await.status,
        404
    );
    // The same counts as JSON with the session, for the page's script.
    let json = sup.get("/admin/supervision/board.json").await;
    assert_eq!(json.status, 200, "{}", json.body);
    let v: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert!(
        v["counts"][format!("o:{org}:overdue")].as_i64() >= Some(1),
        "{v}"
    );
    assert!(v["counts"]["t:overdue"].as_i64() >= Some(1), "{v}");
    assert!(v["as_of_local"].as_str().is_some(), "{v}");
    assert_eq!(
        app.browser()
            .get("/admin/supervision/board.json")
            .await
            .status,
        303
    );
    let js = sup.get("/static/board.js").await;
    assert_eq!(js.status, 200);
    assert!(js.body.contains("data-count") && js.body.contains("15000"));

    // Drill-down: the organisation's overdue cases list this one, linking its case page, which
    // shows the 红牌 and offers the supervisor nothing to do.
    let drill = sup
        .get(&format!("/admin/supervision/cases?org={org}&state=overdue"))
        .await;
    assert_eq!(drill.status, 200, "{}", drill.body);
    assert!(drill.body.contains(&case_no), "{}", drill.body);
    assert!(
        drill
            .body
            .contains(&format!("href=\"/admin/cases/{}\"", c.id))
    );
    assert!(drill.body.contains("超期"), "{}", drill.body);
    let in_time = sup
        .get(&format!("/admin/supervision/cases?org={org}&state=in_time"))
        .await;
    assert_eq!(in_time.status, 200);
    assert!(!in_time.body.contains(&case_no), "{}", in_time.body);
    assert_eq!(
        sup.get(&format!("/admin/supervision/cases?org={org}&state=late"))
            .await
            .status,
        400
    );
    let signals_page = sup
        .get(&format!(
            "/admin/supervision/signals?case_no={case_no}&signal_type=red"
        ))
        .await;
    assert_eq!(signals_page.status, 200, "{}", signals_page.body);
    let sid = link_after(&signals_page, "/admin/supervision/signals/");
    let signal = sup.get(&format!("/admin/supervision/signals/{sid}")).await;
    assert_eq!(signal.status, 200, "{}", signal.body);
    assert!(signal.body.contains("红牌") && signal.body.contains("JC03"));
    assert!(
        signal
            .body
            .contains(&format!("href=\"/admin/cases/{}\"", c.id))
    );
    let number = {
        let key = "<h1>监察信号 <code>";
        let at = signal.body.find(key).unwrap() + key.len();
        signal.body[at..].split('<').next().unwrap().to_owned()
    };
    let case_page = sup.get(&format!("/admin/cases/{}", c.id)).await;
    assert_eq!(case_page.status, 200, "{}", case_page.body);
    assert!(case_page.body.contains("id=\"case-signals\""));
    assert!(case_page.body.contains(&number), "{}", case_page.body);
    assert!(
        !case_page.body.contains("/special_start"),
        "read-only for the supervisor"
    );
    // Not the responsible organisation: no appeal form for the supervisor.
    assert!(!signal.body.contains("id=\"appeal-form\""));
    assert!(signal.body.contains("id=\"decision-form\""));

    // The window clerk of another organisation: none of it, and no decision, rules or board.
    let clerk = signed_in(app, "yl.window").await;
    let theirs = clerk.get("/admin/supervision/signals").await;
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert!(!theirs.body.contains(&number), "{}", theirs.body);
    assert_eq!(
        clerk
            .get(&format!("/admin/supervision/signals/{sid}"))
            .await
            .status,
        404
    );
    let csrf = theirs.csrf();
    let r = clerk
        .post(
            &format!("/admin/supervision/signals/{sid}/decision"),
            &[
                ("csrf", &csrf),
                ("decision", "withdraw"),
                ("reason", "我说撤销"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = clerk
        .post_fields(
            "/admin/supervision/rules",
            &rules_form(&csrf, "改规则", &[("rules[0][days]", "0")]),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(clerk.get("/admin/supervision/rules").await.status, 403);
    assert_eq!(clerk.get("/admin/supervision").await.status, 403);
    assert_eq!(
        clerk
            .get(&format!("/admin/supervision/cases?org={org}&state=overdue"))
            .await
            .status,
        403
    );

    // The responsible department appeals through the form.
    let dept_user: String = sqlx::query_scalar(
        "SELECT s.username FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
         WHERE r.role = 'approver' AND r.org = $1 ORDER BY s.username LIMIT 1",
    )
    .bind(&org)
    .fetch_one(p.db.pool())
    .await
    .unwrap();
    let dept = signed_in(app, &dept_user).await;
    let mine = dept.get(&format!("/admin/supervision/signals/{sid}")).await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    assert!(mine.body.contains("id=\"appeal-form\""));
    assert!(!mine.body.contains("id=\"decision-form\""));
    let r = dept
        .post(
            &format!("/admin/supervision/signals/{sid}/appeal"),
            &[("csrf", &mine.csrf()), ("reason", "否")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"appeal-reason-err\""), "{}", r.body);
    let r = dept
        .post(
            &format!("/admin/supervision/signals/{sid}/appeal"),
            &[
                ("csrf", &mine.csrf()),
                ("reason", "申请人补充材料期间已口头约定延期"),
            ],
        )
        .await;
    assert_eq!(
        r.location,
        format!("/admin/supervision/signals/{sid}?done=appealed"),
        "{}",
        r.body
    );
    let r = dept
        .post(
            &format!("/admin/supervision/signals/{sid}/decision"),
            &[
                ("csrf", &mine.csrf()),
                ("decision", "withdraw"),
                ("reason", "自行撤销"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // The supervisor: a decision without a reason is refused and changes nothing; upheld with
    // one; then a 督办 (a deadline that is not a number first).
    let page = sup.get(&format!("/admin/supervision/signals/{sid}")).await;
    assert!(
        page.body.contains("data-status=\"appealed\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("申请人补充材料期间已口头约定延期"));
    let r = sup
        .post(
            &format!("/admin/supervision/signals/{sid}/decision"),
            &[
                ("csrf", &page.csrf()),
                ("decision", "uphold"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"decision-reason-err\""), "{}", r.body);
    assert!(r.body.contains("data-status=\"appealed\""));
    let r = sup
        .post(
            &format!("/admin/supervision/signals/{sid}/decision"),
            &[
                ("csrf", &page.csrf()),
                ("decision", "uphold"),
                ("reason", "延期未经审批，超期属实"),
            ],
        )
        .await;
    assert_eq!(
        r.location,
        format!("/admin/supervision/signals/{sid}?done=upheld"),
        "{}",
        r.body
    );
    let r = sup
        .post(
            &format!("/admin/supervision/signals/{sid}/orders"),
            &[
                ("csrf", &page.csrf()),
                ("content", "请说明超期原因并限期办结"),
                ("days", "五"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("id=\"order-days-err\""), "{}", r.body);
    assert!(
        r.body.contains("请说明超期原因并限期办结"),
        "the content stays"
    );
    let r = sup
        .post(
            &format!("/admin/supervision/signals/{sid}/orders"),
            &[
                ("csrf", &page.csrf()),
                ("content", "请说明超期原因并限期办结"),
                ("days", "3"),
            ],
        )
        .await;
    assert_eq!(
        r.location,
        format!("/admin/supervision/signals/{sid}?done=ordered"),
        "{}",
        r.body
    );
    let page = sup
        .get(&format!("/admin/supervision/signals/{sid}?done=ordered"))
        .await;
    assert!(
        page.body.contains("data-status=\"upheld\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("延期未经审批，超期属实"));
    assert!(page.body.contains("请说明超期原因并限期办结"));
    let orders = sup.get("/admin/supervision/orders").await;
    assert_eq!(orders.status, 200);
    assert!(orders.body.contains("请说明超期原因并限期办结"));
    assert!(
        !orders.body.contains("name=\"response\""),
        "not theirs to answer"
    );

    // The department answers (an empty answer first).
    let orders = dept.get("/admin/supervision/orders").await;
    assert_eq!(orders.status, 200, "{}", orders.body);
    let answer = link_after(&orders, "/admin/supervision/signals/");
    assert_eq!(answer, sid);
    let key = "action=\"/admin/supervision/orders/";
    let at = orders.body.find(key).expect("the answer form") + key.len();
    let oid = orders.body[at..].split('/').next().unwrap().to_owned();
    let r = dept
        .post(
            &format!("/admin/supervision/orders/{oid}/answer"),
            &[("csrf", &orders.csrf()), ("response", "")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains(&format!("id=\"response-{oid}-err\"")));
    let r = dept
        .post(
            &format!("/admin/supervision/orders/{oid}/answer"),
            &[
                ("csrf", &orders.csrf()),
                ("response", "已于当日办结，相关人员已约谈"),
            ],
        )
        .await;
    assert_eq!(
        r.location, "/admin/supervision/orders?done=answered",
        "{}",
        r.body
    );
    let orders = dept.get("/admin/supervision/orders?done=answered").await;
    assert!(orders.body.contains("已于当日办结，相关人员已约谈"));
    assert!(orders.body.contains("已答复"));
    // The clerk sees no order of another organisation.
    let theirs = clerk.get("/admin/supervision/orders").await;
    assert!(!theirs.body.contains("请说明超期原因并限期办结"));

    // The supervisor reads the rules and the clock but may change neither.
    let rules = sup.get("/admin/supervision/rules").await;
    assert_eq!(rules.status, 200);
    assert!(!rules.body.contains("name=\"note\""));
    let clock = sup.get("/admin/supervision/clock").await;
    assert_eq!(clock.status, 200);
    assert!(!clock.body.contains("name=\"days\""));
    let r = sup
        .post(
            "/admin/supervision/clock",
            &[("csrf", &clock.csrf()), ("days", "1")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let _ = secret;
}

#[tokio::test]
async fn supervision_pages_on_every_backend() {
    let app = common::spawn(Backend::Sqlite, Time::Simulated).await;
    journey(&app).await;
    if common::pg_url().is_some() {
        let app = common::spawn(Backend::Postgres, Time::Simulated).await;
        journey(&app).await;
    }
}

/// On the real clock the clock page says so and offers nothing; moving it is refused.
#[tokio::test]
async fn the_clock_page_on_a_real_clock_offers_nothing() {
    let app = common::spawn(Backend::Sqlite, Time::System).await;
    let mut secret = None;
    let a = admin(&app, &mut secret).await;
    let page = a.get("/admin/supervision/clock").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("真实时钟"), "{}", page.body);
    assert!(!page.body.contains("name=\"days\""));
    let r = a
        .post(
            "/admin/supervision/clock",
            &[("csrf", &page.csrf()), ("days", "1")],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("simulated-clock"), "{}", r.body);
}
