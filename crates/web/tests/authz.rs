//! Who may reach what: a matrix of principals × endpoints over real HTTP.
//!
//! Twelve principals (anonymous; the citizens 李华 L1, 王小明 L2 and the agent 刘芳; the window
//! clerk, two item managers of different organisations, a reviewer, a supervisor, a department
//! administrator and the system administrator past TOTP; and the system administrator before
//! TOTP) are signed in once through the real forms. [`MATRIX`] states, for every management
//! page, citizen page, OpenID Connect endpoint, public API and portal page, what each principal
//! must get; the test asks every cell, collects every wrong one and fails once with the list.
//!
//! The policy the table encodes:
//! - no staff session: `303` to `/admin/login?next=…` (citizens included); a staff session
//!   still waiting for its second factor: `303` to `/admin/totp?next=…`;
//! - no citizen session on `/account`: `303` to `/account/login?next=…`;
//!   (the 我要问 form posts to `/account/questions` from cached guide pages, so there too);
//! - a question about another organisation's item is `404` to staff who answer questions, a
//!   `403` to staff who answer none; another citizen's question is `404`;
//! - signed in, wrong role or organisation: `403`; but an item never published exists only for
//!   those who may read it, so to anyone else it is `404` (as on the portal and the API);
//! - every POST without the session's CSRF token (missing, made up, or another session's) is
//!   `403` and changes nothing;
//! - a `403`/`404` body names no item and shows no citizen's data, full or masked; a citizen or
//!   an anonymous visitor never sees another citizen's data on any page.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use base64ct::{Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};
use yiwang_domain::item::{ItemState, VersionStatus};
use yiwang_services::catalogue;
use yiwang_services::identity::{oidc, staff};
use yiwang_services::{Platform, demo};

mod common;

use common::{App, Backend, Browser, Page, Time};

// ---------------------------------------------------------------------------------------------
// The principals

/// How many principals (columns of the matrix).
const N: usize = 12;

/// The columns of the matrix, in order.
const WHO: [&str; N] = [
    "anonymous",
    "李华 L1",
    "王小明 L2",
    "刘芳 agent",
    "yl.window",
    "cs.scjg.manager",
    "cs.gaj.manager",
    "cs.reviewer",
    "supervisor",
    "cs.scjg.admin",
    "admin",
    "admin before TOTP",
];

/// Column indices.
const ANON: usize = 0;
const AGENT: usize = 3;
const MANAGER: usize = 5;
const HALF: usize = 11;

/// Citizens' phones, by column (all sign in with the demo password).
const CITIZENS: [(usize, &str); 3] = [(1, "13800000001"), (2, "13800000002"), (3, "13800000005")];

/// Staff user names, by column.
const STAFF: [(usize, &str); 8] = [
    (4, "yl.window"),
    (5, "cs.scjg.manager"),
    (6, "cs.gaj.manager"),
    (7, "cs.reviewer"),
    (8, "supervisor"),
    (9, "cs.scjg.admin"),
    (10, "admin"),
    (11, "admin"),
];

// ---------------------------------------------------------------------------------------------
// The matrix

/// What a principal must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum E {
    /// This status.
    Status(u16),
    /// `303` with a `Location` that starts with this.
    See(&'static str),
    /// `303` to exactly this.
    At(&'static str),
    /// Not asked (it would change what later cells look at).
    Skip,
}

const OK: E = E::Status(200);
const BAD: E = E::Status(400);
const DENY: E = E::Status(403);
const HIDE: E = E::Status(404);
const STATE: E = E::Status(409);
const REJECT: E = E::Status(422);
const NO_TOKEN: E = E::Status(401);
const LOGIN: E = E::See("/admin/login?next=");
const TOTP: E = E::See("/admin/totp?next=");
const ACCOUNT: E = E::See("/account/login?next=");
const TO_RP: E = E::See("http://127.0.0.1:9/cb?code=");
const DASH: E = E::At("/admin");
const MINE: E = E::At("/account");
const SWITCHED: E = E::At("/admin?done=org_switched");
const SKIP: E = E::Skip;

/// How a request is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Get,
    /// A form post, three times: without `csrf`, with a made-up one, with another session's.
    PostForged,
    /// A form post with the principal's own CSRF token (checks roles, not CSRF).
    Post,
    /// `multipart/form-data` (the Excel import), forged as [`How::PostForged`].
    UploadForged,
    /// `multipart/form-data` with the principal's own token.
    Upload,
}

struct Row {
    how: How,
    /// `{pub}` a published item of 长沙市市场监管局 with `{pubv}` published and `{subv}`
    /// submitted; `{draft}` its item never published (`{draft_basic}` its catalogue entry);
    /// `{gaj}` a published item of 长沙市公安局; `{authorize}` an authorization request of a
    /// registered client.
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    expect: [E; N],
}

const fn get(path: &'static str, expect: [E; N]) -> Row {
    Row {
        how: How::Get,
        path,
        form: &[],
        expect,
    }
}

const fn post(
    how: How,
    path: &'static str,
    form: &'static [(&'static str, &'static str)],
    expect: [E; N],
) -> Row {
    Row {
        how,
        path,
        form,
        expect,
    }
}

use How::{Post, PostForged, Upload, UploadForged};

/// Reading the columns: anonymous | 李华 L1 | 王小明 L2 | 刘芳 agent | yl.window |
/// cs.scjg.manager | cs.gaj.manager | cs.reviewer | supervisor | cs.scjg.admin | admin |
/// admin before TOTP.
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    // --- management pages (GET) -------------------------------------------------------------
    //                                                   anon   L1     L2     agent  window manager other  review super  dadmin admin  half
    get("/admin",                                       [LOGIN, LOGIN, LOGIN, LOGIN, OK,    OK,    OK,    OK,    OK,    OK,    OK,    TOTP]),
    get("/admin/login",                                 [OK,    OK,    OK,    OK,    DASH,  DASH,  DASH,  DASH,  DASH,  DASH,  DASH,  DASH]),
    get("/admin/items",                                 [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    OK,    DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/items?status=draft",                    [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    OK,    DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/items/export.xlsx",                     [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    OK,    DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/items/import",                          [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    OK,    DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/items/new",                             [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    OK,    DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/items/{pub}",                           [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    DENY,  OK,    DENY,  DENY,  OK,    TOTP]),
    get("/admin/items/{gaj}",                           [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  OK,    OK,    DENY,  DENY,  OK,    TOTP]),
    get("/admin/items/{draft}",                         [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  OK,    HIDE,  OK,    HIDE,  HIDE,  OK,    TOTP]),
    get("/admin/items/{pub}/versions/{pubv}",           [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    DENY,  OK,    DENY,  DENY,  OK,    TOTP]),
    get("/admin/items/{draft}/versions/1",              [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  OK,    HIDE,  OK,    HIDE,  HIDE,  OK,    TOTP]),
    get("/admin/items/{draft}/versions/1/edit",         [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  OK,    HIDE,  DENY,  HIDE,  HIDE,  DENY,  TOTP]),
    get("/admin/items/{pub}/versions/{subv}/edit",      [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  STATE, DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/items/{pub}/diff?from={pubv}&to={subv}",[LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    DENY,  OK,    DENY,  DENY,  OK,    TOTP]),
    get("/admin/review",                                [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  OK,    DENY,  DENY,  DENY,  TOTP]),
    get("/admin/review/{pub}/{subv}",                   [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    DENY,  OK,    DENY,  DENY,  OK,    TOTP]),
    get("/admin/review/{draft}/1",                      [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  OK,    HIDE,  OK,    HIDE,  HIDE,  OK,    TOTP]),
    get("/admin/totp",                                  [LOGIN, LOGIN, LOGIN, LOGIN, OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    get("/admin/identity/verify",                       [LOGIN, LOGIN, LOGIN, LOGIN, OK,    DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/audit",                                 [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/audit?verify=1",                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/processes",                             [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/processes/Nope:1",                      [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  HIDE,  TOTP]),
    get("/admin/processes/Nope:1/diagram.svg",          [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  HIDE,  TOTP]),
    get("/admin/calendar",                              [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/inbox",                                 [LOGIN, LOGIN, LOGIN, LOGIN, OK,    OK,    OK,    OK,    OK,    OK,    OK,    TOTP]),
    get("/admin/tasks/nope-1",                          [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    get("/admin/instances/nope",                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    get("/admin/cases",                                 [LOGIN, LOGIN, LOGIN, LOGIN, OK,    DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/cases/nope",                            [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    get("/admin/cases/nope/files/nope",                 [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    get("/admin/questions",                             [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    OK,    DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/questions?state=all",                   [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    OK,    DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/questions/{q}",                         [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  OK,    HIDE,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/questions/nope",                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  HIDE,  HIDE,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    get("/admin/ratings",                               [LOGIN, LOGIN, LOGIN, LOGIN, OK,    OK,    OK,    OK,    OK,    OK,    OK,    TOTP]),
    get("/admin/ratings/nope",                          [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    get("/admin/seals",                                 [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  OK,    OK,    TOTP]),
    get("/admin/seals/{seal}",                          [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/licence-types",                         [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/licence-types/new",                     [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/licence-types/{ltype}",                 [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    get("/admin/supervision",                           [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    DENY,  OK,    TOTP]),
    get("/admin/supervision/board.json",                [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    DENY,  OK,    TOTP]),
    get("/admin/supervision/rules",                     [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    DENY,  OK,    TOTP]),
    get("/admin/supervision/clock",                     [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    DENY,  OK,    TOTP]),
    get("/admin/supervision/signals",                   [LOGIN, LOGIN, LOGIN, LOGIN, OK,    OK,    OK,    OK,    OK,    OK,    OK,    TOTP]),
    get("/admin/supervision/orders",                    [LOGIN, LOGIN, LOGIN, LOGIN, OK,    OK,    OK,    OK,    OK,    OK,    OK,    TOTP]),
    get("/admin/supervision/signals/nope",              [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    get("/admin/performance",                           [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    OK,    OK,    TOTP]),
    get("/admin/performance?period=2026",               [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    OK,    OK,    TOTP]),
    get("/admin/performance/export.xlsx?period=2026",   [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    OK,    OK,    TOTP]),
    get("/admin/performance/scoring",                   [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  OK,    OK,    OK,    TOTP]),
    // --- management forms without the session's CSRF token: 403 (or sign in first) ----------
    post(PostForged, "/admin/org", &[("org", "{rev_org}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/logout", &[],              [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/totp", &[("code", "123456"), ("next", "/admin")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY]),
    post(PostForged, "/admin/items/new", &[("basic_code", "{draft_basic}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/items/{pub}/change", &[],  [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/items/{pub}/suspend", &[("reason", "测试")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/items/{pub}/cancel", &[("reason", "测试")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/items/{draft}/versions/1/submit", &[],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/items/{draft}/versions/1/discard", &[],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/items/{draft}/versions/1/edit", &[("action", "save"), ("name", "伪造的名称")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/review/{pub}/{subv}/approve", &[],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/review/{pub}/{subv}/return", &[("reason", "测试")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/identity/verify", &[("id_number", "{l1_id}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(UploadForged, "/admin/items/import", &[],      [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(UploadForged, "/admin/processes", &[],         [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/processes/Nope:1/bind", &[("items", "{pub}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/processes/Nope:1/migrate", &[("to", "Nope:2")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/staff/{approver_id}/phone", &[("phone", "13900000099")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/tasks/nope-1/claim", &[],  [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/cases", &[("item", "{pub}"), ("name", "某人"), ("id", "{l1_id}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/cases/nope/accept", &[("rev", "1")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(UploadForged, "/admin/cases/nope/upload", &[], [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/calendar", &[("year", "2027"), ("holidays", "2027-01-01 元旦")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/calendar/local", &[("hours", "09:00-17:00")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/ratings/nope/answer", &[("action", "explained"), ("outcome", "伪造的答复")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/ratings/window", &[("case_no", "nope"), ("level", "1"), ("comment", "伪造")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/ratings/settings", &[("days", "9")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/questions/{q}/answer", &[("rev", "1"), ("answer", "伪造的答复")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/questions/{q}/close", &[("rev", "1"), ("reason", "伪造")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/questions/{q}/publish", &[("rev", "1"), ("faq_question", "伪造的问题内容"), ("faq_answer", "伪造")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/supervision/rules", &[("note", "伪造"), ("rules[0][no]", "JC01"), ("rules[0][kind]", "deadline_warning"), ("rules[0][days]", "1")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/supervision/clock", &[("days", "1")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/supervision/signals/nope/decision", &[("decision", "withdraw"), ("reason", "伪造的理由")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/supervision/orders/nope/answer", &[("response", "伪造的答复")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/performance/scoring", &[("formula", "on_time_rate"), ("excellent", "90"), ("good", "80"), ("pass", "60"), ("note", "伪造")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/performance/refresh", &[],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/seals", &[("org_code", "{seal_org}"), ("name", "伪造的印章"), ("seal_type", "99"), ("valid_years", "5")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/seals/{seal}/rotate", &[], [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/seals/{seal}/revoke", &[("reason", "伪造")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/licence-types", &[("code", "{seal_org}009"), ("name", "伪造"), ("holder_kind", "person")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(PostForged, "/admin/licence-types/{ltype}", &[("name", "伪造"), ("holder_kind", "person")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    // --- management forms with the session's own token: the role and organisation decide -----
    post(Post, "/admin/org", &[("org", "{rev_org}")],   [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  SWITCHED, DENY, DENY, DENY,  TOTP]),
    post(Post, "/admin/items/new", &[("basic_code", "{draft_basic}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  STATE, DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/items/{pub}/change", &[],        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  STATE, DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/items/{pub}/suspend", &[("reason", "测试")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  SKIP,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/items/{pub}/resume", &[("reason", "测试")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  STATE, DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/items/{gaj}/cancel", &[("reason", "测试")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  SKIP,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/items/{draft}/versions/1/submit", &[],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  SKIP,  HIDE,  DENY,  HIDE,  HIDE,  DENY,  TOTP]),
    post(Post, "/admin/items/{draft}/versions/1/discard", &[],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  SKIP,  HIDE,  DENY,  HIDE,  HIDE,  DENY,  TOTP]),
    post(Post, "/admin/items/{draft}/versions/1/edit", &[("action", "add_rows")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  OK,    HIDE,  DENY,  HIDE,  HIDE,  DENY,  TOTP]),
    post(Post, "/admin/items/{draft}/versions/1/edit", &[("action", "save"), ("name", "")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  SKIP,  HIDE,  DENY,  HIDE,  HIDE,  DENY,  TOTP]),
    post(Post, "/admin/review/{pub}/{subv}/approve", &[],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  SKIP,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/review/{pub}/{pubv}/return", &[("reason", "测试")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  STATE, DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/review/{draft}/1/approve", &[],  [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  DENY,  HIDE,  STATE, HIDE,  HIDE,  DENY,  TOTP]),
    post(Post, "/admin/identity/verify", &[("id_number", "{l1_id}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, SKIP,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/calendar", &[("year", "2027"), ("holidays", "2027-13-01 元旦")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  BAD,   TOTP]),
    post(Post, "/admin/ratings/settings", &[("days", "0")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  BAD,   TOTP]),
    post(Post, "/admin/ratings/nope/appeal", &[("reason", "伪造的申诉")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    post(Post, "/admin/processes/Nope:1/bind", &[("items", "{pub}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    post(Post, "/admin/tasks/nope-1/claim", &[],        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    post(Post, "/admin/cases", &[("item", "{pub}"), ("name", "某人"), ("id", "{l1_id}")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, SKIP,  DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/cases/nope/accept", &[("rev", "1")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  HIDE,  TOTP]),
    post(Post, "/admin/questions/{q}/answer", &[("rev", "99"), ("answer", "过期页面的答复")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  STATE, HIDE,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/questions/{q}/close", &[("rev", "1"), ("reason", "")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  BAD,   HIDE,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/questions/{q}/publish", &[("rev", "1"), ("faq_question", "请问需要哪些材料？"), ("faq_answer", "身份证。")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  STATE, HIDE,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/questions/{q}/unpublish", &[("rev", "1")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  STATE, HIDE,  DENY,  DENY,  DENY,  DENY,  TOTP]),
    post(Upload, "/admin/items/import", &[],            [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  REJECT, REJECT, DENY, DENY,  DENY,  DENY,  TOTP]),
    post(Post, "/admin/seals", &[("org_code", "{seal_org}"), ("name", ""), ("seal_type", "99"), ("valid_years", "5")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  BAD,   TOTP]),
    post(Post, "/admin/seals/{seal}/rotate", &[],       [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  SKIP,  TOTP]),
    post(Post, "/admin/seals/{seal}/revoke", &[("reason", "")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  BAD,   TOTP]),
    post(Upload, "/admin/licences/import", &[],         [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  REJECT, REJECT, TOTP]),
    post(Post, "/admin/licence-types", &[("code", "bad"), ("name", "测试"), ("holder_kind", "person")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  BAD,   TOTP]),
    post(Post, "/admin/licence-types/{ltype}", &[("action", "add_rows")],
                                                        [LOGIN, LOGIN, LOGIN, LOGIN, DENY,  DENY,  DENY,  DENY,  DENY,  DENY,  OK,    TOTP]),
    // --- citizens' pages --------------------------------------------------------------------
    get("/account",                                     [ACCOUNT, OK,  OK,    OK,    ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/login",                               [OK,    MINE,  MINE,  MINE,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    get("/account/register",                            [OK,    MINE,  MINE,  MINE,  OK,    OK,    OK,    OK,    OK,    OK,    OK,    OK]),
    post(PostForged, "/account/verify", &[],            [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(PostForged, "/account/password",
         &[("old_password", "Yiwang@2026"), ("new_password", "Changed#2026x"), ("new_password2", "Changed#2026x")],
                                                        [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(PostForged, "/account/logout", &[],            [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/cases",                               [ACCOUNT, OK,  OK,    OK,    ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/cases/nope",                          [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/cases/new?item={pub}",                [ACCOUNT, OK,  OK,    OK,    ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(PostForged, "/account/cases/new", &[("item", "{pub}")],
                                                        [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(PostForged, "/account/cases/nope/submit", &[("rev", "1")],
                                                        [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(Post, "/account/cases/nope/submit", &[("rev", "1")],
                                                        [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/cases/query",                                 [OK; N]),
    get("/account/licences",                            [ACCOUNT, OK,  OK,    OK,    ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/licences/nope",                       [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/licences/nope/pdf",                   [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(PostForged, "/account/licences/nope/shares", &[("case_no", "x")],
                                                        [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(Post, "/account/licences/nope/shares", &[("case_no", "x")],
                                                        [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(Post, "/account/licences/nope/shares/nope/withdraw", &[],
                                                        [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/questions",                           [ACCOUNT, OK,  OK,    OK,    ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/questions/new?item={pub}",            [ACCOUNT, OK,  OK,    OK,    ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    get("/account/questions/new?item={draft}",          [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(PostForged, "/account/questions", &[("item", "{pub}"), ("text", "伪造的提问内容")],
                                                        [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(Post, "/account/questions", &[("item", "{draft}"), ("text", "请问这个事项什么时候开始办理？")],
                                                        [ACCOUNT, HIDE, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(PostForged, "/account/questions/{q}/withdraw", &[("rev", "1")],
                                                        [ACCOUNT, DENY, DENY, DENY,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    post(Post, "/account/questions/{q}/withdraw", &[("rev", "1")],
                                                        [ACCOUNT, SKIP, HIDE, HIDE,  ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT, ACCOUNT]),
    // --- OpenID Connect: a code for a complete session of either kind, never for a half one --
    get("{authorize}",                                  [ACCOUNT, TO_RP, TO_RP, TO_RP, TO_RP, TO_RP, TO_RP, TO_RP, TO_RP, TO_RP, TO_RP, ACCOUNT]),
    get("/oidc/userinfo",                               [NO_TOKEN; N]),
    get("/.well-known/openid-configuration",            [OK; N]),
    get("/oidc/jwks",                                   [OK; N]),
    // --- public: the same answer for everyone; an item never published does not exist -------
    get("/api/v1/items",                                [OK; N]),
    get("/api/v1/items?q=营业执照",                     [OK; N]),
    get("/api/v1/items/{pub}",                          [OK; N]),
    get("/api/v1/items/{draft}",                        [HIDE; N]),
    get("/api/v1/regions",                              [OK; N]),
    get("/api/v1/organisations?region=430100",          [OK; N]),
    get("/api/v1/themes",                               [OK; N]),
    get("/api/v1/openapi.json",                         [OK; N]),
    get("/api/v1/licence-types",                        [OK; N]),
    get("/licences/verify",                             [OK; N]),
    get("/api/v1/licences",                             [NO_TOKEN; N]),
    get("/api/v1/ratings",                              [NO_TOKEN; N]),
    get("/api/v1/rectifications",                       [NO_TOKEN; N]),
    get("/rate/nope",                                   [HIDE; N]),
    get("/api/v1/seals",                                [NO_TOKEN; N]),
    get("/",                                            [OK; N]),
    get("/items",                                       [OK; N]),
    get("/items?q=营业执照",                            [OK; N]),
    get("/items/{pub}",                                 [OK; N]),
    get("/items/{gaj}",                                 [OK; N]),
    get("/items/{draft}",                               [HIDE; N]),
    get("/healthz",                                     [OK; N]),
];

// ---------------------------------------------------------------------------------------------
// What this test adds to the shared harness

impl Page {
    /// What came back, shortly.
    fn short(&self) -> String {
        if self.location.is_empty() {
            self.status.to_string()
        } else {
            format!("{} → {}", self.status, self.location)
        }
    }

    /// What came back, in a few characters (for the printed grid).
    fn tiny(&self) -> String {
        let to = [
            ("/admin/login", "login"),
            ("/admin/totp", "totp"),
            ("/account/login", "acct-login"),
            ("http://127.0.0.1:9/cb?code=", "rp+code"),
        ]
        .iter()
        .find(|(prefix, _)| self.location.starts_with(prefix))
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| self.location.clone());
        if to.is_empty() {
            self.status.to_string()
        } else {
            format!("303>{to}")
        }
    }
}

impl Browser {
    /// A `multipart/form-data` post: the text fields and a small file that is no workbook.
    async fn upload(&self, path: &str, fields: &[(String, String)]) -> Page {
        let boundary = "----yiwang-authz-boundary";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.xlsx\"\r\n\
             Content-Type: application/octet-stream\r\n\r\nnot a workbook\r\n--{boundary}--\r\n"
        ));
        self.post_multipart(path, boundary, body).await
    }
}

// ---------------------------------------------------------------------------------------------
// What the matrix refers to

/// The items and tokens the table's placeholders stand for, and what must never leak.
struct Fixture {
    vars: HashMap<&'static str, String>,
    /// Names of the items the matrix asks about.
    item_names: Vec<String>,
}

impl Fixture {
    fn fill(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        assert!(!out.contains('{'), "unknown placeholder in {s}");
        out
    }
}

async fn fixture(app: &App) -> Fixture {
    let p = &app.platform;
    let actor = |name: &'static str| async move {
        staff::sign_in(p, name, demo::DEMO_PASSWORD, "127.0.0.1")
            .await
            .unwrap()
            .1
            .staff
    };
    let manager = actor("cs.scjg.manager").await;
    let police = actor("cs.gaj.manager").await;
    let reviewer = actor("cs.reviewer").await;
    let published = |items: Vec<catalogue::ItemRecord>| {
        items
            .into_iter()
            .find(|i| i.state == ItemState::Active && i.latest_status == VersionStatus::Published)
            .expect("a published item")
    };
    // A published item of 长沙市市场监管局 with a change waiting for review.
    let public = published(catalogue::org_items(p, &manager).await.unwrap());
    let pubv = public.published_version.unwrap();
    let subv = catalogue::start_change(p, &manager, &public.code)
        .await
        .unwrap();
    catalogue::submit(p, &manager, &public.code, subv)
        .await
        .unwrap();
    // An item of the same organisation never published: a new draft.
    let entry = catalogue::catalogue_for(p, &manager)
        .await
        .unwrap()
        .into_iter()
        .find(|e| !e.implemented)
        .expect("a catalogue entry not implemented yet");
    let draft = catalogue::create(p, &manager, &entry.basic_code)
        .await
        .unwrap()
        .to_string();
    let draft_name = catalogue::item(p, &manager, &draft).await.unwrap().name;
    // A published item of another organisation (长沙市公安局).
    let gaj = published(catalogue::org_items(p, &police).await.unwrap());
    // A registered relying party and an authorization request of it.
    let cb = "http://127.0.0.1:9/cb";
    let (client, _) = oidc::add_client(p, None, "权限测试", &[cb.into()], &[], "openid profile")
        .await
        .unwrap();
    let challenge = Base64UrlUnpadded::encode_string(&Sha256::digest(
        b"verifier-verifier-verifier-verifier-verifier-authz",
    ));
    let authorize = format!(
        "/oidc/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid&state=s1&nonce=n1&code_challenge={challenge}&code_challenge_method=S256",
        oidc::urlencode(cb)
    );
    // A seal of a 岳麓区 organisation (not 长沙市市场监管局, whose administrator is a column)
    // and the demo licence type.
    let seal = yiwang_services::licences::seals::list(p, None)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a demo seal");
    let ltype = yiwang_services::licences::licence_types(p)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a demo licence type")
        .code;
    // A question of 李华 about the published item, waiting for its answer.
    let li = yiwang_services::identity::users::sign_in_password(
        p,
        CITIZENS[0].1,
        demo::DEMO_PASSWORD,
        "127.0.0.1",
    )
    .await
    .unwrap()
    .1
    .user;
    let question = yiwang_services::questions::ask(p, &li, &public.code, "请问需要哪些材料？")
        .await
        .unwrap();
    let vars = HashMap::from([
        ("pub", public.code.clone()),
        ("pubv", pubv.to_string()),
        ("subv", subv.to_string()),
        ("draft", draft),
        ("draft_basic", entry.basic_code.clone()),
        ("gaj", gaj.code.clone()),
        ("rev_org", reviewer.org.clone()),
        ("l1_id", demo::DEMO_CITIZENS[0].1.to_string()),
        ("approver_id", actor("yl.scjg.approver").await.id),
        ("authorize", authorize),
        ("q", question.id),
        ("seal", seal.id),
        ("seal_org", seal.org_code),
        ("ltype", ltype),
    ]);
    Fixture {
        vars,
        item_names: vec![public.name, draft_name, gaj.name],
    }
}

/// Everything of a citizen that no one else may see: name, ID number and phone, in full and
/// masked.
fn personal_data(phone: &str) -> Vec<String> {
    let (name, id, phone, _) = demo::DEMO_CITIZENS
        .iter()
        .find(|c| c.2 == phone)
        .expect("a demo citizen");
    use yiwang_crypto::mask;
    vec![
        name.to_string(),
        id.to_string(),
        phone.to_string(),
        mask::mask_name(name),
        mask::mask_id_number(id),
        mask::mask_phone(phone),
    ]
}

/// What the state-changing tables hold: a refused post must leave it as it was.
async fn fingerprint(p: &Platform) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT code || '|' || state || '|' || COALESCE(state_reason, '') || '|' || \
         CAST(latest_version AS TEXT) || '|' || COALESCE(CAST(published_version AS TEXT), '') \
         || '|' || name || '|' || updated_at FROM items ORDER BY code",
        "SELECT item_code || '|' || CAST(version AS TEXT) || '|' || status || '|' || updated_at \
         FROM item_versions ORDER BY item_code, version",
        "SELECT CAST(count(*) AS TEXT) FROM item_events",
        "SELECT CAST(count(*) AS TEXT) FROM outbox",
        "SELECT id || '|' || CAST(level AS TEXT) || '|' || password_hash || '|' || status \
         FROM users ORDER BY id",
        "SELECT id_hash || '|' || COALESCE(active_org, '') FROM sessions ORDER BY id_hash",
        "SELECT id_hash FROM user_sessions ORDER BY id_hash",
        "SELECT id || '|' || state || '|' || CAST(rev AS TEXT) || '|' || CAST(published AS TEXT) \
         FROM questions ORDER BY id",
        "SELECT CAST(count(*) AS TEXT) FROM user_messages",
        "SELECT id || '|' || status FROM seals ORDER BY id",
        "SELECT code || '|' || name || '|' || updated_at FROM licence_types ORDER BY code",
    ] {
        let rows = sqlx::query(sql).fetch_all(p.db.pool()).await.unwrap();
        out.push(
            sql.split_whitespace()
                .last()
                .unwrap_or_default()
                .to_string(),
        );
        for r in rows {
            use sqlx::Row;
            out.push(r.try_get::<String, _>(0).unwrap());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The test

fn meets(e: E, page: &Page) -> bool {
    match e {
        E::Status(s) => page.status == s,
        E::See(prefix) => page.status == 303 && page.location.starts_with(prefix),
        E::At(to) => page.status == 303 && page.location == to,
        E::Skip => true,
    }
}

fn describe(e: E) -> String {
    match e {
        E::Status(s) => s.to_string(),
        E::See(prefix) => format!("303 → {prefix}…"),
        E::At(to) => format!("303 → {to}"),
        E::Skip => "—".into(),
    }
}

/// Whether the expectation is a refusal (so the request must change nothing).
fn refusal(e: E) -> bool {
    match e {
        E::Status(s) => s >= 400,
        E::See(prefix) => [LOGIN, TOTP, ACCOUNT].contains(&E::See(prefix)),
        E::At(_) | E::Skip => false,
    }
}

#[tokio::test]
async fn every_principal_gets_exactly_what_the_matrix_says() {
    let app = common::spawn(Backend::Sqlite, Time::Fixed).await;
    let fx = fixture(&app).await;

    // Sign everyone in once, through the real forms (8 staff sign-ins: under the limit of 10
    // a minute per address).
    let browsers: Vec<Browser> = (0..N).map(|_| app.browser()).collect();
    for (i, phone) in CITIZENS {
        assert_eq!(
            browsers[i].citizen_sign_in(phone, "/account").await,
            "/account"
        );
    }
    for (i, username) in STAFF {
        let next = browsers[i].staff_sign_in(username).await;
        if i == HALF {
            // The second administrator session stays before its second factor.
            assert!(next.starts_with("/admin/totp"), "{next}");
        } else if next.starts_with("/admin/totp") {
            browsers[i].pass_totp(&app).await;
        } else {
            assert_eq!(next, "/admin", "{username}");
        }
    }
    // Each session's own CSRF token (the anonymous visitor has none).
    let mut tokens = vec![String::new(); N];
    for (i, phone) in CITIZENS {
        let mine = browsers[i].get("/account").await;
        // The masks the leak checks look for are the ones the pages use.
        let masked = yiwang_crypto::mask::mask_phone(phone);
        assert!(
            mine.body.contains(&masked),
            "{masked} not on {phone}'s page"
        );
        tokens[i] = mine.csrf();
    }
    for (i, _) in STAFF {
        let page = if i == HALF { "/admin/totp" } else { "/admin" };
        tokens[i] = browsers[i].get(page).await.csrf();
    }
    // The personal data each principal must not see (everyone else's).
    let secrets: Vec<Vec<String>> = (0..N)
        .map(|i| {
            CITIZENS
                .iter()
                .filter(|(c, _)| *c != i)
                .flat_map(|(_, phone)| personal_data(phone))
                .collect()
        })
        .collect();

    let mut wrong: Vec<String> = Vec::new();
    let mut grid: Vec<String> = Vec::new();
    for row in MATRIX {
        let path = fx.fill(row.path);
        let form: Vec<(String, String)> = row
            .form
            .iter()
            .map(|(k, v)| (k.to_string(), fx.fill(v)))
            .collect();
        let method = match row.how {
            How::Get => "GET",
            How::Post => "POST (own token)",
            How::PostForged => "POST (forged token)",
            How::Upload => "UPLOAD (own token)",
            How::UploadForged => "UPLOAD (forged token)",
        };
        let mut line = format!("{method} {}:", row.path);
        for (who, &expect) in row.expect.iter().enumerate() {
            if expect == SKIP {
                line.push_str(" —");
                continue;
            }
            let b = &browsers[who];
            // The CSRF tokens to try: the session's own, or none / made up / another's.
            let tries: Vec<(&str, Option<String>)> = match row.how {
                How::Get => vec![("", None)],
                How::Post | How::Upload => vec![("", Some(tokens[who].clone()))],
                How::PostForged | How::UploadForged => vec![
                    ("no token", None),
                    ("made-up token", Some("0".repeat(64))),
                    (
                        "another session's token",
                        Some(tokens[if who == MANAGER { AGENT } else { MANAGER }].clone()),
                    ),
                ],
            };
            let mut got = Vec::new();
            for (variant, token) in tries {
                let mut fields = form.clone();
                if let Some(t) = token {
                    fields.insert(0, ("csrf".into(), t));
                }
                let check_state = row.how != How::Get && refusal(expect);
                let before = if check_state {
                    Some(fingerprint(&app.platform).await)
                } else {
                    None
                };
                let page = match row.how {
                    How::Get => b.get(&path).await,
                    How::Post | How::PostForged => b.post_fields(&path, &fields).await,
                    How::Upload | How::UploadForged => b.upload(&path, &fields).await,
                };
                let cell = format!(
                    "{method} {path}{} × {}",
                    if variant.is_empty() {
                        String::new()
                    } else {
                        format!(" [{variant}]")
                    },
                    WHO[who]
                );
                if !meets(expect, &page) {
                    wrong.push(format!(
                        "{cell}: expected {}, got {}",
                        describe(expect),
                        page.short()
                    ));
                }
                if let Some(before) = before
                    && fingerprint(&app.platform).await != before
                {
                    wrong.push(format!("{cell}: refused, yet the data changed"));
                }
                // Refusals name no item and show nobody's data; citizens and anonymous
                // visitors never see another citizen's data anywhere.
                let refused = page.status == 403 || page.status == 404;
                if refused {
                    for name in &fx.item_names {
                        if page.body.contains(name.as_str()) {
                            wrong.push(format!("{cell}: {} names the item {name}", page.status));
                        }
                    }
                }
                if refused || who <= AGENT {
                    let mine = if who <= AGENT && who != ANON {
                        &secrets[who]
                    } else {
                        &secrets[ANON]
                    };
                    for secret in mine {
                        if page.body.contains(secret.as_str()) {
                            wrong.push(format!(
                                "{cell}: {} shows another person's data “{secret}”",
                                page.status
                            ));
                        }
                    }
                }
                got.push(page.tiny());
            }
            line.push_str(&format!(" {}", got.join("/")));
        }
        grid.push(line);
    }
    eprintln!("columns: {}\n{}", WHO.join(" | "), grid.join("\n"));
    assert!(
        wrong.is_empty(),
        "{} wrong cells of the authorization matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
