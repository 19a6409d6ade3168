//! 政务服务管理平台: the management pages for item managers (事项管理员) and reviewers
//! (事项审核员), server-rendered, in Chinese with English on `?lang=en`, usable without any
//! JavaScript.
//!
//! Every page needs a staff session ([`StaffSession`] sends anyone else to the sign-in page);
//! every POST checks the session's CSRF token before anything else and makes exactly one
//! state change through one service function, which also decides who may do it (the one
//! exception, 保存并提交审核 in the editor, saves and then submits). A successful POST answers
//! `303 See Other` to the page that shows the result, with `?done=<what>` shown there as a
//! `role="status"` notice.
//!
//! Without a session every admin URL answers `303` to `/admin/login?next=<url>`. Refusals are
//! readable pages with the service's status: 400 bad input, 403 not allowed or CSRF check
//! failed, 404 unknown item or version, 409 not allowed in the current state, 422 quality
//! checks failed or workbook rejected. Where the user can fix the input on the same page (the
//! editor, a missing reason, a failed submission) that page is shown again with the problem
//! marked, with the same status.
//!
//! # URLs and form fields (a contract: the HTTP tests drive these exactly)
//!
//! | method | path | form fields / query | result |
//! |---|---|---|---|
//! | GET | `/admin/login` | `?next=/admin/...` | sign-in form; sets the `yw_login_csrf` cookie |
//! | POST | `/admin/login` | `username`, `password`, `csrf` (= `yw_login_csrf` cookie), `next` | 303 to `next` if it starts with `/admin`, else `/admin`; 400 wrong password, 429 locked or rate-limited, 403 bad csrf |
//! | POST | `/admin/logout` | `csrf` | 303 to `/`, session cookie expired |
//! | GET | `/admin` | `done` | dashboard |
//! | GET | `/admin/items` | `?status=` one of `draft`, `active`, `suspended`, `cancelled` (item state) or `submitted`, `returned` (latest version) | the organisation's items |
//! | GET | `/admin/items/export.xlsx` | | the organisation's items as an .xlsx attachment |
//! | GET | `/admin/items/import` | `done=imported&created=&changed=&unchanged=` | upload form (and the result of an import) |
//! | POST | `/admin/items/import` | multipart: `csrf`, `file` (≤ 10 MB) | 303 to `/admin/items/import?done=imported&created=&changed=&unchanged=`; 422 with the row-by-row errors (nothing imported); 400 without a file; 413 over 10 MB |
//! | GET | `/admin/items/new` | | the department's catalogue entries |
//! | POST | `/admin/items/new` | `csrf`, `basic_code` | 303 to `/admin/items/{code}?done=created` |
//! | GET | `/admin/items/{code}` | `done` | item, versions, history, quality, actions |
//! | POST | `/admin/items/{code}/change` | `csrf` | 303 to `/admin/items/{code}?done=change_started` |
//! | POST | `/admin/items/{code}/suspend` | `csrf`, `reason` | 303 to `/admin/items/{code}?done=suspended`; 400 (item page, reason marked) without a reason |
//! | POST | `/admin/items/{code}/resume` | `csrf`, `reason` | 303 to `/admin/items/{code}?done=resumed` |
//! | POST | `/admin/items/{code}/cancel` | `csrf`, `reason` | 303 to `/admin/items/{code}?done=cancelled` |
//! | GET | `/admin/items/{code}/diff` | `?from=A&to=B` (positive numbers, else 400; unknown version 404) | side-by-side comparison |
//! | GET | `/admin/items/{code}/versions/{v}` | | read-only guide of a version |
//! | POST | `/admin/items/{code}/versions/{v}/submit` | `csrf` | 303 to `/admin/items/{code}?done=submitted`; 422 with the failed checks |
//! | POST | `/admin/items/{code}/versions/{v}/discard` | `csrf` | 303 to `/admin/items/{code}?done=discarded` |
//! | GET | `/admin/items/{code}/versions/{v}/edit` | | the guide editor |
//! | POST | `/admin/items/{code}/versions/{v}/edit` | `csrf`, `action` = `save` \| `submit` \| `add_rows`, and the guide fields below | `save`: 303 to `/admin/items/{code}?done=saved`; `submit`: 303 to `…?done=submitted`, or 422 (saved, checks failed); `add_rows`: the form again with 3 more empty rows, nothing saved; 400 with every bad field marked, nothing saved |
//! | GET | `/admin/review` | `done` = `approved` \| `returned` | the review queue |
//! | GET | `/admin/review/{code}/{v}` | | guide, quality report, diff against the published version, decision forms |
//! | POST | `/admin/review/{code}/{v}/approve` | `csrf`, `comment` (optional) | 303 to `/admin/review?done=approved` |
//! | POST | `/admin/review/{code}/{v}/return` | `csrf`, `reason` (required) | 303 to `/admin/review?done=returned`; 400 without a reason |
//! | GET | `/admin/totp` | `next` | TOTP enrolment (secret, `otpauth://` URI) or the code form; the only page an incomplete session may reach |
//! | POST | `/admin/totp` | `csrf`, `code`, `next` | 303 to `next` (inside `/admin`); 400 wrong code (form again), 429 locked |
//! | POST | `/admin/org` | `csrf`, `org` | 303 to `/admin?done=org_switched`; 403 no role there |
//! | GET | `/admin/identity/verify` | | 窗口实名核验 form (window clerks; else 403) |
//! | POST | `/admin/identity/verify` | `csrf`, `id_number` | the masked user and new level (L3); 400 bad number, 404 no such user |
//! | GET | `/admin/audit` | `before` (sequence number), `verify=1` | 审计日志, 50 a page, and the hash-chain check (system administrators; else 403) |
//! | GET, POST | `/admin/staff…` | see [`staff`] | 人员管理 (system and department administrators; else 403) |
//! | GET | `/admin/password` | | 修改密码: the staff member's own password |
//! | POST | `/admin/password` | `csrf`, `old_password`, `new_password`, `new_password2` | 303 to `/admin?done=password` (other sessions ended); 400 with the problems |
//! | GET | `/admin/clients` | | 接入系统管理: registered OpenID Connect clients and the registration form (system administrators; else 403) |
//! | POST | `/admin/clients` | `csrf`, `name`, `redirect_uris`, `post_logout_redirect_uris`, `scope` | registers a client; the answer shows its secret once |
//! | POST | `/admin/clients/{id}/disable` | `csrf` | disables the client and revokes its refresh tokens |
//! | POST | `/admin/clients/{id}/secret` | `csrf` | a new secret, shown once |
//! | GET | `/admin/seals` | `done` | 电子印章: the seals the session administers (system administrators every organisation's, department administrators their organisation's; else 403), the new-seal form, rotate and revoke |
//! | POST | `/admin/seals` | `csrf`, `org_code`, `name`, `seal_type` (GB/T 38540 code), `valid_years` (1–10) | 303 to `/admin/seals?done=seal_created`; 400 the page with the problem marked, nothing made |
//! | GET | `/admin/seals/{id}` | | the seal and its use log (its administrators; else 403) |
//! | POST | `/admin/seals/{id}/rotate` | `csrf` | 303 to `/admin/seals?done=seal_rotated` (the seal retires, its successor has a new key); 409 not in use |
//! | POST | `/admin/seals/{id}/revoke` | `csrf`, `reason` | 303 to `/admin/seals?done=seal_revoked`; 400 (the page, reason marked) without a reason; 409 already revoked |
//! | GET | `/admin/licence-types` | `done` | 证照目录 (system administrators; else 403) |
//! | GET | `/admin/licence-types/new` | | the form of a new licence type |
//! | POST | `/admin/licence-types` | `csrf`, `action`, `code` and the licence type fields below | as `POST /admin/licence-types/{code}`; 400 when a type has that code |
//! | GET | `/admin/licence-types/{code}` | | the form of a stored type |
//! | GET | `/admin/licences/import` | | 导入存量证照: the upload form (system administrators, department administrators; else 403) |
//! | GET | `/admin/licences/import/template.xlsx` | | the import workbook: its columns and one per field label of the catalogue |
//! | POST | `/admin/licences/import` | multipart: `csrf`, `file` (.xlsx ≤ 10 MB) | 200 with the report row by row (imported with the identifier, imported before, rejected with every problem by column); 400 no file or no rows, 413 over 10 MB, 422 not a workbook or columns missing |
//! | POST | `/admin/licence-types/{code}` | `csrf`, `action` = `save` \| `add_rows`, and the licence type fields below | `save`: 303 to `/admin/licence-types?done=saved`; `add_rows`: the form again with 3 more empty rows, nothing saved; 400 with every bad field marked, nothing saved |
//! | GET, POST | `/admin/processes…`, `/admin/inbox`, `/admin/tasks…`, `/admin/instances/{id}`, `/admin/calendar…` | see [`workflow`] | 审批流程, 待办, 工作日历 |
//! | GET, POST | `/admin/questions…` | see [`questions`] | 我要问: citizens' questions, answers, 常见问题 |
//! | GET | `/admin/supervision` | `region` (a region code within reach) | 电子监察 board: the region's child regions (counts summed, each narrowing the board), its organisations (cases in time, warned, overdue, paused, irregularities; each count links to the drill-down) and the open signals; numbers refresh every 15 s by `/static/board.js`, or the page every 30 s without script (supervisors and system administrators; else 403; a region outside reach 403, unknown 404) |
//! | GET | `/admin/supervision/board.json` | `region` | the board's counts as JSON for the page's script, with the session: `as_of`, `as_of_local`, `region`, `counts` (`t:<state>`, `r:<region>:<state>`, `o:<org>:<state>`), `rows` |
//! | GET | `/admin/supervision/cases` | `org`, `state` = `in_time` \| `warned` \| `overdue` \| `paused` | the drill-down: that organisation's open cases in that state (case no, item, due date, working days left or overdue), each linking to `/admin/cases/{id}`; 400 bad state, 404 organisation outside reach |
//! | GET | `/admin/supervision/signals` | `status`, `signal_type`, `rule_no`, `org`, `case_no`, `page` | 监察信号 within reach, 50 a page (every staff member: supervisors their region, system administrators all, others their organisation's) |
//! | GET | `/admin/supervision/signals/{id}` | `done` | one signal: every field, its case, appeal and decision, its orders, and the forms the session may use; 404 outside reach |
//! | POST | `/admin/supervision/signals/{id}/appeal` | `csrf`, `reason` | 303 to the signal `?done=appealed`; 422 (the page, reason marked); 403 not the responsible organisation; 409 not open |
//! | POST | `/admin/supervision/signals/{id}/decision` | `csrf`, `decision` = `withdraw` \| `uphold`, `reason` | 303 `?done=withdrawn` or `?done=upheld`; 422 with the problems; 403 not a supervisor; 409 the status does not allow it |
//! | POST | `/admin/supervision/signals/{id}/orders` | `csrf`, `content`, `days` (1–30 working days) | 303 `?done=ordered`; 422 with the problems; 403 not a supervisor |
//! | GET | `/admin/supervision/orders` | `done` | 督办 within reach: due date, late marker, status, answer; the answer form for the organisation's staff |
//! | POST | `/admin/supervision/orders/{id}/answer` | `csrf`, `response` | 303 to `/admin/supervision/orders?done=answered`; 422 (the order's form marked); 403 another organisation; 409 answered already |
//! | GET | `/admin/supervision/rules` | `done` | 监察规则: the set in force, the versions, and for system administrators the form (supervisors and system administrators; else 403) |
//! | POST | `/admin/supervision/rules` | `csrf`, `note`, `rules[i][no\|kind\|enabled\|days\|items\|regions]` | 303 to `/admin/supervision/rules?done=rules_saved` (a new version); 422 with every problem marked on its row, nothing saved; 403 not a system administrator |
//! | GET | `/admin/supervision/clock` | `done=clock_moved&signals=&deadlines=` | 平台时钟: the platform's time; on `serve --simulated-clock` the form to move it (system administrators), else says the clock is real (supervisors and system administrators; else 403) |
//! | POST | `/admin/supervision/clock` | `csrf`, `days`, `hours` | moves the simulated clock and sweeps; 303 `?done=clock_moved&signals=N&deadlines=M`; 422 with the problems; 403 not a system administrator; 409 a real clock |
//! | GET | `/admin/performance` | query: `period` (`2026Q3`, `2026`, `2026-07`, `2026-07-01..2026-09-30`; default the last quarter), `by` = `org` \| `region` \| `window`, `region`, `org` | 绩效评估: every unit's indicators, score and grade, the total, charts (supervisors their region, system administrators, department administrators their organisation; else 403); 422 with the query's problems |
//! | GET | `/admin/performance/export.xlsx` | the same query | the report as a workbook |
//! | GET | `/admin/performance/scoring` | | the scoring formula, grade thresholds, indicators and versions (those who read reports) |
//! | POST | `/admin/performance/scoring` | `csrf`, `formula`, `excellent`, `good`, `pass`, `note` | 303 to `?done=scoring_saved`; 422 with every problem marked, nothing saved; 403 unless system administrator |
//! | POST | `/admin/performance/refresh` | `csrf` | rolls up at once (system administrators); 303 to `/admin/performance/scoring?done=rolled` |
//! | GET, POST | `/admin/ratings…` | see [`ratings`] | 好差评: ratings, rectification orders, answers, appeals and decisions, the window's rating pad, the deadline setting |
//!
//! Guide editor fields: `name`; `aliases` (one a line); `item_type` (code); `service_objects`
//! (repeated codes); `themes` (repeated keys); `legal_basis[i][law|article|text]`; `conditions`
//! (one a line); `materials[i][name|original|copies|form|required|condition|source|note|blank_form|sample]`
//! (`form` a code, the three ticks `1` when set); `process[i][name|description]`;
//! `statutory_limit_days`, `promised_limit_days`; `charged` (`yes` | `no`, absent when not
//! stated) with `fees[i][name|amount|basis]`; `handling_forms` (repeated codes); `case_type`,
//! `online_depth`, `scope` (codes); `visits`; `result_name`, `result_kind` (证照 | 批文 | 其他);
//! `places[i][name|address|hours]`; `consult_phone`, `complaint_phone`. Rows whose first field
//! is empty are dropped. See [`guide_form`].
//!
//! Licence type fields: `name`; `holder_kind` (`person` | `legal_person`); `validity_years`
//! (empty: 长期); `fields[i][key|label|source]` (rows whose key is empty are dropped);
//! `items` (one item code a line); `layout_title`. See [`licences`].

pub(crate) mod cases;
mod clients;
mod editor;
pub(crate) mod excel;
pub mod guide_form;
mod identity;
mod items;
mod licence_import;
mod licences;
mod login;
mod password;
mod performance;
mod questions;
mod ratings;
mod review;
mod staff;
mod supervision;
mod supervision_rules;
mod supervision_signals;
mod totp;
mod views;
mod workflow;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{ConnectInfo, FromRequest, Query, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use yiwang_domain::item::{ChangeKind, ItemState, VersionStatus};
use yiwang_services::catalogue::ItemEvent;
use yiwang_services::identity::staff::Role;
use yiwang_services::{FieldError, ServiceError};

use crate::Shared;
use crate::error::PageError;
use crate::i18n::Lang;
use crate::pages::Chrome;
use crate::session::StaffSession;

/// Routes of the management pages.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/admin", get(items::dashboard))
        .route("/admin/login", get(login::form).post(login::sign_in))
        .route("/admin/logout", post(login::sign_out))
        .route("/admin/items", get(items::list))
        .route("/admin/items/export.xlsx", get(excel::export))
        .route(
            "/admin/items/import",
            get(excel::form)
                .post(excel::import)
                .layer(axum::extract::DefaultBodyLimit::max(
                    excel::MAX_UPLOAD + 64 * 1024,
                )),
        )
        .route("/admin/items/new", get(items::new_form).post(items::create))
        .route("/admin/items/{code}", get(items::page))
        .route("/admin/items/{code}/change", post(items::start_change))
        .route("/admin/items/{code}/suspend", post(items::suspend))
        .route("/admin/items/{code}/resume", post(items::resume))
        .route("/admin/items/{code}/cancel", post(items::cancel))
        .route("/admin/items/{code}/diff", get(items::diff))
        .route("/admin/items/{code}/versions/{v}", get(items::version))
        .route(
            "/admin/items/{code}/versions/{v}/submit",
            post(items::submit),
        )
        .route(
            "/admin/items/{code}/versions/{v}/discard",
            post(items::discard),
        )
        .route(
            "/admin/items/{code}/versions/{v}/edit",
            get(editor::form).post(editor::post),
        )
        .route("/admin/review", get(review::queue))
        .route("/admin/review/{code}/{v}", get(review::page))
        .route("/admin/review/{code}/{v}/approve", post(review::approve))
        .route("/admin/review/{code}/{v}/return", post(review::send_back))
        .route("/admin/totp", get(totp::form).post(totp::verify))
        .route("/admin/org", post(identity::switch_org))
        .route(
            "/admin/identity/verify",
            get(identity::verify_form).post(identity::verify),
        )
        .route("/admin/audit", get(identity::audit))
        .route(
            "/admin/password",
            get(password::form).post(password::change),
        )
        .route("/admin/staff", get(staff::list))
        .route("/admin/staff/new", get(staff::new_form).post(staff::create))
        .route("/admin/staff/export", get(staff::export))
        .route("/admin/staff/template", get(staff::template))
        .route(
            "/admin/staff/import",
            get(staff::import_form).post(staff::import).layer(
                axum::extract::DefaultBodyLimit::max(excel::MAX_UPLOAD + 64 * 1024),
            ),
        )
        .route("/admin/staff/{id}", get(staff::page))
        .route("/admin/staff/{id}/grant", post(staff::grant))
        .route("/admin/staff/{id}/revoke", post(staff::revoke))
        .route("/admin/staff/{id}/disable", post(staff::disable))
        .route("/admin/staff/{id}/enable", post(staff::enable))
        .route("/admin/staff/{id}/password", post(staff::reset_password))
        .route("/admin/staff/{id}/phone", post(staff::set_phone))
        .route(
            "/admin/processes",
            get(workflow::processes).post(workflow::deploy),
        )
        .route("/admin/processes/{id}", get(workflow::process))
        .route("/admin/processes/{id}/diagram.svg", get(workflow::diagram))
        .route("/admin/processes/{id}/bind", post(workflow::bind))
        .route("/admin/processes/{id}/migrate", post(workflow::migrate))
        .route("/admin/cases", get(cases::queue).post(cases::register))
        .route("/admin/cases/{id}", get(cases::page))
        .route(
            "/admin/cases/{id}/upload",
            post(cases::upload).layer(cases::material_body_limit()),
        )
        .route("/admin/cases/{id}/files/{file}", get(cases::file))
        .route("/admin/cases/{id}/{action}", post(cases::act))
        .route("/admin/questions", get(questions::queue))
        .route("/admin/questions/{id}", get(questions::page))
        .route("/admin/questions/{id}/{action}", post(questions::act))
        .route("/admin/supervision", get(supervision::board))
        .route("/admin/performance", get(performance::report))
        .route("/admin/performance/export.xlsx", get(performance::export))
        .route(
            "/admin/performance/scoring",
            get(performance::scoring).post(performance::save_scoring),
        )
        .route("/admin/performance/refresh", post(performance::refresh))
        .route(
            "/admin/supervision/board.json",
            get(supervision::board_json),
        )
        .route("/admin/supervision/cases", get(supervision::drill))
        .route("/admin/supervision/signals", get(supervision_signals::list))
        .route(
            "/admin/supervision/signals/{id}",
            get(supervision_signals::page),
        )
        .route(
            "/admin/supervision/signals/{id}/appeal",
            post(supervision_signals::appeal),
        )
        .route(
            "/admin/supervision/signals/{id}/decision",
            post(supervision_signals::decide),
        )
        .route(
            "/admin/supervision/signals/{id}/orders",
            post(supervision_signals::issue_order),
        )
        .route(
            "/admin/supervision/orders",
            get(supervision_signals::orders),
        )
        .route(
            "/admin/supervision/orders/{id}/answer",
            post(supervision_signals::answer),
        )
        .route(
            "/admin/supervision/rules",
            get(supervision_rules::rules).post(supervision_rules::save),
        )
        .route(
            "/admin/supervision/clock",
            get(supervision_rules::clock).post(supervision_rules::advance),
        )
        .route("/admin/ratings", get(ratings::list))
        .route("/admin/ratings/window", post(ratings::window))
        .route("/admin/ratings/settings", post(ratings::settings))
        .route("/admin/ratings/{id}", get(ratings::page))
        .route("/admin/ratings/{id}/{action}", post(ratings::act))
        .route("/admin/inbox", get(workflow::inbox_page))
        .route("/admin/tasks/{id}", get(workflow::task))
        .route("/admin/tasks/{id}/{action}", post(workflow::act))
        .route("/admin/instances/{id}", get(workflow::instance))
        .route(
            "/admin/calendar",
            get(workflow::calendar_get).post(workflow::calendar_set),
        )
        .route("/admin/calendar/local", post(workflow::calendar_local))
        .route(
            "/admin/seals",
            get(licences::seal_list).post(licences::create_seal),
        )
        .route("/admin/seals/{id}", get(licences::seal_page))
        .route("/admin/seals/{id}/rotate", post(licences::rotate_seal))
        .route("/admin/seals/{id}/revoke", post(licences::revoke_seal))
        .route(
            "/admin/licences/import",
            get(licence_import::form)
                .post(licence_import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(
                    excel::MAX_UPLOAD + 64 * 1024,
                )),
        )
        .route(
            "/admin/licences/import/template.xlsx",
            get(licence_import::template),
        )
        .route(
            "/admin/licence-types",
            get(licences::types).post(licences::create_type),
        )
        .route("/admin/licence-types/new", get(licences::new_type))
        .route(
            "/admin/licence-types/{code}",
            get(licences::edit_type).post(licences::save_type),
        )
        .route("/admin/clients", get(clients::list).post(clients::add))
        .route("/admin/clients/{id}/disable", post(clients::disable))
        .route("/admin/clients/{id}/secret", post(clients::rotate))
        .layer(middleware::from_fn(admin_headers))
}

/// What every admin response carries: `Cache-Control: no-store` (pages hold CSRF tokens and
/// personal data) and, after a language switch (`?lang=en`), the `lang` cookie, as the portal
/// sets it, so the next admin page keeps the language.
async fn admin_headers(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let switched = Lang::switched(&parts).then(|| Lang::of(&parts));
    let mut res = next.run(Request::from_parts(parts, body)).await;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(lang) = switched
        && let Ok(v) = HeaderValue::from_str(&crate::i18n::cookie_value(lang))
    {
        headers.append(header::SET_COOKIE, v);
    }
    res
}

/// The chrome of an admin page: the staff member's name, the session's CSRF token for the
/// sign-out form, the admin navigation.
pub(crate) fn chrome(s: &StaffSession, title: impl Into<String>) -> Chrome {
    let mut c = Chrome::new(s.lang, title);
    c.staff_name = Some(s.staff.display_name.clone());
    c.csrf = s.csrf.clone();
    c.section = "admin";
    let mut orgs: Vec<(String, String)> = Vec::new();
    for a in &s.staff.assignments {
        if !orgs.iter().any(|(code, _)| *code == a.org) {
            orgs.push((a.org.clone(), a.org_name.clone()));
        }
    }
    if orgs.len() > 1 {
        c.admin.orgs = orgs;
    }
    c.admin.org = s.staff.org.clone();
    c.admin.clerk = s.staff.has(Role::WindowClerk);
    c.admin.auditor = s.staff.has(Role::SystemAdmin);
    c.admin.staff_admin = s.staff.has(Role::SystemAdmin) || s.staff.has(Role::DeptAdmin);
    c.admin.approver = s.staff.has(Role::Approver);
    c.admin.questions = s.staff.has(Role::ItemManager) || s.staff.has(Role::Approver);
    c.admin.supervisor = s.staff.has(Role::Supervisor) || s.staff.has(Role::SystemAdmin);
    c.admin.evaluator = c.admin.supervisor || s.staff.has(Role::DeptAdmin);
    c.admin.ratings = c.admin.supervisor
        || c.admin.clerk
        || c.admin.approver
        || s.staff.has(Role::DeptAdmin)
        || s.staff.has(Role::ItemManager);
    c
}

/// `303 See Other` to a page.
///
/// A form sent back to a relying party (`/oidc/authorize?…`, which redirects off-site) gets a
/// small page that continues by `<meta http-equiv="refresh">` instead: browsers apply the
/// form page's `form-action 'self'` policy to every redirect that follows a form post, so a
/// plain redirect chain to another site would be blocked; a refresh is a new navigation.
pub(crate) fn see_other(path: &str) -> Response {
    if path.starts_with("/oidc/authorize?") {
        return continue_page(path);
    }
    Redirect::to(path).into_response()
}

/// The page that continues to `path` without JavaScript.
fn continue_page(path: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        continue_page_html(path),
    )
        .into_response()
}

/// The HTML of [`continue_page`].
fn continue_page_html(path: &str) -> String {
    let escaped: String = path
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            c => c.to_string(),
        })
        .collect();
    format!(
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={escaped}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>正在返回应用 / Continuing</title></head><body><main><h1>正在返回应用</h1>\
         <p><a href=\"{escaped}\">继续 / Continue</a></p></main></body></html>"
    )
}

/// The notice shown for `?done=<what>` after a successful POST.
pub(crate) fn done_notice(lang: Lang, done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => lang.t(
            "已创建事项（第1版草稿），请完善办事指南后提交审核。",
            "Item created (version 1, draft). Complete the guide and submit it.",
        ),
        "saved" => lang.t("草稿已保存。", "Draft saved."),
        "submitted" => lang.t("已提交审核。", "Submitted for review."),
        "discarded" => lang.t("草稿已废弃。", "Draft discarded."),
        "change_started" => lang.t(
            "已发起变更，新版本草稿已创建。",
            "Change started: a new draft version was created.",
        ),
        "suspended" => lang.t("事项已暂停。", "Item suspended."),
        "resumed" => lang.t("事项已恢复。", "Item resumed."),
        "cancelled" => lang.t("事项已取消。", "Item cancelled."),
        "approved" => lang.t(
            "审核通过，版本已发布。",
            "Approved: the version is published.",
        ),
        "returned" => lang.t("已退回修改。", "Returned to the author."),
        "imported" => lang.t("导入完成。", "Import finished."),
        "org_switched" => lang.t("已切换当前单位。", "Organisation switched."),
        "totp_enabled" => lang.t(
            "双因素认证已启用，以后登录时需输入动态验证码。",
            "Two-factor authentication is on.",
        ),
        "password" => lang.t(
            "密码已修改，其他设备上的登录已退出。",
            "Password changed; your other sessions were signed out.",
        ),
        "seal_created" => lang.t("印章已新建。", "Seal made."),
        "seal_rotated" => lang.t(
            "已更换密钥：旧印章停用，新印章启用。",
            "Key rotated: the old seal retired, its successor is in use.",
        ),
        "seal_revoked" => lang.t("印章已吊销。", "Seal revoked."),
        _ => return None,
    })
}

/// Each bad field with its message in the page's language: (field, message).
pub(crate) fn field_messages(lang: Lang, errors: &[FieldError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| {
            (
                e.field.clone(),
                lang.t(&e.message_zh, &e.message_en).to_string(),
            )
        })
        .collect()
}

/// The `done` flag of a page's query.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct DoneQuery {
    /// What was just done.
    #[serde(default)]
    pub done: Option<String>,
}

/// A query string, or a readable 400 page when it is malformed.
pub(crate) fn query<T>(q: Result<Query<T>, QueryRejection>, lang: Lang) -> Result<T, PageError> {
    q.map(|Query(v)| v).map_err(|e| {
        PageError::new(
            ServiceError::invalid(
                "query",
                &format!("查询参数无效：{e}"),
                "malformed query string",
            ),
            lang,
        )
    })
}

/// A posted form, or a readable 400 page when it cannot be read. Missing fields should be
/// `#[serde(default)]`, so that a form without its token fails the CSRF check (403), not this.
pub(crate) struct AdminForm<T>(pub T);

impl<T, S> FromRequest<S> for AdminForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, PageError> {
        let (parts, body) = req.into_parts();
        let lang = Lang::of(&parts);
        match axum::Form::<T>::from_request(Request::from_parts(parts, body), state).await {
            Ok(axum::Form(v)) => Ok(AdminForm(v)),
            Err(e) => Err(PageError::new(
                ServiceError::invalid(
                    "form",
                    &format!("表单无法读取：{e}"),
                    "the form could not be read",
                ),
                lang,
            )),
        }
    }
}

/// A form that carries only the CSRF token.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// A form with the CSRF token and a reason (暂停/恢复/取消/退回).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ReasonForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// The 实施编码 of a path, checked (400 page when malformed).
pub(crate) fn item_code(code: &str, lang: Lang) -> Result<String, PageError> {
    crate::portal::path_code(code, lang)
}

/// A version number: a positive whole number, or the field error that says so.
pub(crate) fn parse_version(field: &str, v: &str) -> Result<i64, FieldError> {
    match v.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ if v.trim().is_empty() => Err(FieldError::new(
            field,
            "请选择版本号",
            "choose a version number",
        )),
        _ => Err(FieldError::new(
            field,
            format!("版本号“{v}”无效，应为正整数"),
            format!("version {v} is not a positive whole number"),
        )),
    }
}

/// A version number of a path (400 page when it is not a positive whole number).
pub(crate) fn version_no(field: &str, v: &str, lang: Lang) -> Result<i64, PageError> {
    parse_version(field, v).map_err(|e| PageError::new(ServiceError::Invalid(vec![e]), lang))
}

/// The client address of a request, from the server's connect info (127.0.0.1 when the
/// server was started without it, e.g. in tests).
pub(crate) fn client_ip(ext: &axum::http::Extensions) -> IpAddr {
    ext.get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// A stored UTC timestamp shown in Beijing time (UTC+8), to the minute.
pub(crate) fn local_time(s: &str) -> String {
    beijing(s, "%Y-%m-%d %H:%M")
}

/// A stored UTC timestamp shown in Beijing time (UTC+8), to the second (history records).
pub(crate) fn local_time_secs(s: &str) -> String {
    beijing(s, "%Y-%m-%d %H:%M:%S")
}

fn beijing(s: &str, format: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(t) => match chrono::FixedOffset::east_opt(8 * 3600) {
            Some(cst) => t.with_timezone(&cst).format(format).to_string(),
            None => s.to_string(),
        },
        Err(_) => s.to_string(),
    }
}

/// [`local_time`] of an optional timestamp.
pub(crate) fn local_time_opt(s: Option<&str>) -> String {
    s.map(local_time).unwrap_or_default()
}

/// An item state in the page language.
pub(crate) fn state_label(lang: Lang, s: ItemState) -> &'static str {
    lang.t(
        s.label_zh(),
        match s {
            ItemState::Draft => "not published",
            ItemState::Active => "in force",
            ItemState::Suspended => "suspended",
            ItemState::Cancelled => "cancelled",
        },
    )
}

/// The tag class of an item state.
pub(crate) fn state_class(s: ItemState) -> &'static str {
    match s {
        ItemState::Active => "ok",
        ItemState::Draft | ItemState::Suspended => "warn",
        ItemState::Cancelled => "bad",
    }
}

/// A version status in the page language.
pub(crate) fn status_label(lang: Lang, s: VersionStatus) -> &'static str {
    lang.t(
        s.label_zh(),
        match s {
            VersionStatus::Draft => "draft",
            VersionStatus::Submitted => "awaiting review",
            VersionStatus::Returned => "returned",
            VersionStatus::Published => "published",
            VersionStatus::Superseded => "superseded",
            VersionStatus::Discarded => "discarded",
        },
    )
}

/// The tag class of a version status.
pub(crate) fn status_class(s: VersionStatus) -> &'static str {
    match s {
        VersionStatus::Published => "ok",
        VersionStatus::Draft | VersionStatus::Submitted => "warn",
        VersionStatus::Returned => "bad",
        VersionStatus::Superseded | VersionStatus::Discarded => "",
    }
}

/// 新增 / 变更 in the page language.
pub(crate) fn kind_label(lang: Lang, k: ChangeKind) -> &'static str {
    lang.t(
        k.label_zh(),
        match k {
            ChangeKind::New => "new",
            ChangeKind::Change => "change",
        },
    )
}

/// A role in the page language.
pub(crate) fn role_label(lang: Lang, r: Role) -> &'static str {
    lang.t(r.label_zh(), r.label_en())
}

/// What a history record did, in the page language.
pub(crate) fn event_label(lang: Lang, e: &ItemEvent) -> &'static str {
    lang.t(
        e.action_zh(),
        match e.action.as_str() {
            "create" => "created",
            "edit" => "edited",
            "submit" => "submitted for review",
            "approve" => "approved and published",
            "return" => "returned",
            "change" => "change started",
            "suspend" => "suspended",
            "resume" => "resumed",
            "cancel" => "cancelled",
            "discard" => "draft discarded",
            "import" => "imported",
            "demo" => "demo data loaded",
            _ => "other",
        },
    )
}

/// Whether the staff member may manage an organisation's items (the rule of
/// `identity::authz`; pages use it to choose which buttons to show).
pub(crate) fn may_manage(s: &StaffSession, org: &str) -> bool {
    yiwang_services::identity::authz::may_manage_items(&s.staff, org)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_form_sent_back_to_a_relying_party_continues_by_refresh() {
        let r = super::see_other("/oidc/authorize?client_id=a&state=b");
        assert_eq!(r.status(), axum::http::StatusCode::OK);
        let r = super::see_other("/admin");
        assert_eq!(r.status(), axum::http::StatusCode::SEE_OTHER);
        let html = super::continue_page_html("/oidc/authorize?a=1&b=\"2\"<x>");
        assert!(html.contains("url=/oidc/authorize?a=1&amp;b=&quot;2&quot;&lt;x&gt;"));
    }
}
