//! 电子监察看板: the supervisor's board of their region (system administrators: the province),
//! as `supervision::signals::board` counts it — each organisation's open cases in time, warned,
//! overdue and paused, and its open irregularities — with the follow-up rate of real-name bad
//! ratings this quarter (`supervision::ratings::follow_up`) and the open and appealed signals
//! under it. The page refreshes itself every 30 seconds without JavaScript (`<meta refresh>`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use yiwang_services::supervision::rules::SignalType;
use yiwang_services::supervision::signals::{self, BoardRow, Reach, SignalQuery};

use super::{chrome, local_time};
use crate::Shared;
use crate::error::PageError;
use crate::pages::{Chrome, html};
use crate::session::StaffSession;

/// A signal as the board lists it.
struct SignalRow {
    number: String,
    type_label: &'static str,
    rule_no: String,
    case_no: String,
    step: String,
    detail: String,
    raised_at: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "admin/supervision.html")]
struct BoardPage {
    chrome: Chrome,
    reach: String,
    as_of: String,
    /// In time, warned, overdue, paused, irregular.
    totals: (i64, i64, i64, i64, i64),
    rows: Vec<BoardRow>,
    signals: Vec<SignalRow>,
    follow: super::ratings::FollowView,
}

/// `GET /admin/supervision`.
pub(crate) async fn board(
    State(s): State<Shared>,
    session: StaffSession,
) -> Result<Response, PageError> {
    let lang = session.lang;
    yiwang_services::supervision::may_supervise(&session.staff).map_err(|e| session.err(e))?;
    let rows = signals::board(&s.platform, &session.staff)
        .await
        .map_err(|e| session.err(e))?;
    let totals = rows.iter().fold((0, 0, 0, 0, 0), |t, r| {
        (
            t.0 + r.in_time,
            t.1 + r.warned,
            t.2 + r.overdue,
            t.3 + r.paused,
            t.4 + r.irregular,
        )
    });
    let mut open = Vec::new();
    for status in ["open", "appealed"] {
        let q = SignalQuery {
            status: Some(status.into()),
            ..Default::default()
        };
        open.extend(
            signals::list(&s.platform, &session.staff, &q)
                .await
                .map_err(|e| session.err(e))?,
        );
    }
    open.sort_by(|a, b| b.raised_at.cmp(&a.raised_at));
    open.truncate(200);
    let signals = open
        .into_iter()
        .map(|x| SignalRow {
            number: x.number,
            type_label: SignalType::parse(&x.signal_type).map_or("", |t| t.label_zh()),
            rule_no: x.rule_no,
            case_no: x.case_no.unwrap_or_default(),
            step: x.step,
            detail: x.detail,
            raised_at: local_time(&x.raised_at),
            status: if x.status == "appealed" {
                lang.t("申诉中", "appealed")
            } else {
                lang.t("未处理", "open")
            },
        })
        .collect();
    let reach = match Reach::of(&session.staff) {
        Reach::All => lang.t("全省", "the whole province").to_owned(),
        Reach::Region(p) => format!(
            "{}{p}",
            lang.t("区划代码以此开头：", "region codes starting ")
        ),
        Reach::Org(o) => o,
    };
    let follow = yiwang_services::supervision::ratings::follow_up(
        &s.platform,
        &session.staff,
        yiwang_services::supervision::ratings::Period::quarter_to_date(&s.platform),
    )
    .await
    .map_err(|e| session.err(e))?;
    let page = BoardPage {
        follow: super::ratings::follow_view(&follow),
        chrome: chrome(&session, lang.t("电子监察", "E-supervision")),
        reach,
        as_of: local_time(&yiwang_store::fmt_time(s.platform.now())),
        totals,
        rows,
        signals,
    };
    Ok(html(StatusCode::OK, &page))
}
