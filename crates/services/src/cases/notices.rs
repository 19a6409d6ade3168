//! The notices of a case as PDF (受理通知书, 不予受理通知书, 补正材料通知书, 准予 / 不予许可决定书,
//! 送达回证).
//!
//! A notice is *issued* in the transaction of the change it announces: its number (文号) and
//! its content — derived from the case as the change leaves it — are fixed then and kept in
//! `case_notices` (encrypted: it names the applicant), with the id its PDF will have. The PDF
//! is *rendered* by `yiwang-documents` when the notice is first read ([`file`]), stored in the
//! object store with its SM3 and served from there afterwards. Rendering is the costly part
//! (milliseconds of CPU per page), and most notices of a busy day are never opened on screen,
//! so it stays off the path of the state changes; the document is the same whenever it is
//! rendered, since its content was fixed at issue. Without a CJK font the notice is still
//! issued; reading it reports the font as unavailable.

use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use serde::Serialize;
use yiwang_documents::{
    Acceptance, Correction, CorrectionItem, Decision, DecisionOutcome, DeliveredDocument,
    DeliveryMethod, DeliveryReceipt, MaterialProblem, Notice, NoticeHeader, NoticeKind, Refusal,
    Renderer,
};
use yiwang_domain::case::CaseState;
use yiwang_store::{Row, fmt_time};

use super::Case;
use crate::{Platform, ServiceError};

/// The renderer, loaded once (its font is large); `Err` when no CJK font could be found.
pub(crate) fn renderer() -> &'static Result<Arc<Renderer>, String> {
    static R: OnceLock<Result<Arc<Renderer>, String>> = OnceLock::new();
    R.get_or_init(|| {
        let path = std::env::var_os("YIWANG_FONT").map(std::path::PathBuf::from);
        Renderer::new(path.as_deref())
            .map(Arc::new)
            .map_err(|e| e.to_string())
    })
}

/// One issued document of a case.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    /// `acceptance`, `refusal`, `correction`, `decision`, `delivery`.
    pub kind: String,
    /// 文号.
    pub doc_no: String,
    /// Its title.
    pub title: String,
    /// The PDF's file id.
    pub file_id: String,
    /// When issued.
    pub created_at: String,
}

/// The documents issued for a case (the caller has checked access).
pub async fn of_case(p: &Platform, case_id: &str) -> Result<Vec<Document>, ServiceError> {
    let rows = sqlx::query(
        "SELECT kind, doc_no, file_id, created_at FROM case_notices WHERE case_id = $1 \
         ORDER BY created_at, file_id",
    )
    .bind(case_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(Document {
                title: title_of(&kind).to_owned(),
                kind,
                doc_no: r.try_get("doc_no")?,
                file_id: r.try_get("file_id")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

fn title_of(kind: &str) -> &'static str {
    match kind {
        "acceptance" => "受理通知书",
        "refusal" => "不予受理通知书",
        "correction" => "补正材料通知书",
        "approval" => "准予许可决定书",
        "rejection" => "不予许可决定书",
        "delivery" => "送达回证",
        _ => "文书",
    }
}

/// Adds the notice of `c`'s state to the batch of the change that leads there: `c` is the
/// case as it will be, `served_by` the handler of the change's last record. The notice then
/// stands or falls with the change. A notice that cannot be composed is logged and left out:
/// it never holds up the change.
pub(crate) async fn add_to(
    p: &Platform,
    c: &Case,
    served_by: Option<String>,
    b: &mut yiwang_store::Batch,
) {
    match compose(p, c, served_by).await {
        Ok(Some(args)) => b.push(NOTICE_INSERT, args),
        Ok(None) => {}
        Err(e) => tracing::warn!(case = %c.id, error = %e, "case notice not issued"),
    }
}

const NOTICE_INSERT: &str = "INSERT INTO case_notices (case_id, kind, doc_no, file_id, \
     notice_enc, key_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (case_id, kind, doc_no) DO NOTHING";

/// The notice of the case's state, sealed: the arguments of its row, or `None` when the state
/// has no notice. `served_by` is who served a delivery receipt (read from the
/// last process record when not given).
async fn compose(
    p: &Platform,
    c: &Case,
    served_by: Option<String>,
) -> Result<Option<Vec<yiwang_store::Bind>>, ServiceError> {
    let Some(case_no) = c.case_no.clone() else {
        return Ok(None);
    };
    let cal = p.calendar();
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&cal.offset()).date_naive();
    let today = local(p.now());
    let (kind, body) = match c.state {
        CaseState::Handling if c.accepted_at.is_some() => (
            "acceptance",
            NoticeKind::Acceptance(acceptance(p, c, local).await?),
        ),
        CaseState::NotAccepted => (
            "refusal",
            NoticeKind::Refusal(Refusal {
                reasons: lines(&c.decision_opinion),
                refer_to: None,
                remedies: None,
            }),
        ),
        CaseState::Correction => (
            "correction",
            NoticeKind::Correction(Correction {
                items: c
                    .corrections
                    .iter()
                    .map(|x| CorrectionItem {
                        material: x.subject.clone(),
                        problem: MaterialProblem::Incorrect,
                        requirement: x.problem.clone(),
                    })
                    .collect(),
                deadline: cal
                    .add_working_days(p.now(), 5)
                    .with_timezone(&cal.offset())
                    .date_naive(),
            }),
        ),
        CaseState::Approved | CaseState::Rejected => {
            let approved = c.state == CaseState::Approved;
            (
                if approved { "approval" } else { "rejection" },
                NoticeKind::Decision(Decision {
                    outcome: if approved {
                        DecisionOutcome::Approved {
                            result_name: c.item_name.clone(),
                            result_number: case_no.clone(),
                        }
                    } else {
                        DecisionOutcome::Refused {
                            reasons: lines(&c.decision_opinion),
                        }
                    },
                    opinion: c.decision_opinion.clone(),
                    remedies: None,
                }),
            )
        }
        CaseState::Delivered => {
            let issued = of_case(p, &c.id).await?;
            let d = &c.delivery;
            (
                "delivery",
                NoticeKind::DeliveryReceipt(DeliveryReceipt {
                    documents: issued
                        .iter()
                        .filter(|x| x.kind == "approval" || x.kind == "rejection")
                        .map(|x| DeliveredDocument {
                            title: x.title.clone(),
                            number: x.doc_no.clone(),
                        })
                        .collect::<Vec<_>>()
                        .into_iter()
                        .chain(std::iter::once(DeliveredDocument {
                            title: "办理结果".into(),
                            number: case_no.clone(),
                        }))
                        .take(4)
                        .collect(),
                    method: if d.method == "post" {
                        DeliveryMethod::Post {
                            carrier: d.carrier.clone().unwrap_or_default(),
                            tracking_number: d.tracking_no.clone().unwrap_or_default(),
                            address: d
                                .address
                                .clone()
                                .map(|a| yiwang_crypto::mask::mask_name(&a))
                                .unwrap_or_else(|| "（申请人登记地址）".into()),
                        }
                    } else {
                        DeliveryMethod::Window {
                            place: org_name(p, &c.org),
                        }
                    },
                    delivered_on: c.delivered_at.map(local).unwrap_or(today),
                    served_by: match served_by {
                        Some(h) => h,
                        None => last_handler(p, &c.id).await?,
                    },
                    remark: String::new(),
                }),
            )
        }
        _ => return Ok(None),
    };
    let year = today.format("%Y");
    let seq = case_no.get(39..).unwrap_or("0000");
    let word = match kind {
        "acceptance" => "受字",
        "refusal" => "不受字",
        "correction" => "补字",
        "approval" => "许字",
        "rejection" => "不许字",
        _ => "送字",
    };
    let day = case_no.get(35..39).unwrap_or_default();
    let doc_no = format!("{word}〔{year}〕第{day}{seq}号");
    let notice = Notice {
        kind: body,
        header: NoticeHeader {
            department: org_name(p, &c.org),
            document_number: doc_no.clone(),
            case_number: case_no.clone(),
            item_name: c.item_name.clone(),
            applicant: c.applicant_name.clone(),
            issued_on: today,
            promised_completion: c.due_at.map(local),
            query_url: format!("{}/cases/query?case_no={case_no}", p.oidc.issuer()),
        },
    };
    let sealed = p
        .keys
        .pii
        .encrypt("case_notice", &serde_json::to_string(&notice)?)
        .map_err(|e| ServiceError::internal(format!("encrypt notice: {e}")))?;
    let file_id = uuid::Uuid::now_v7().simple().to_string();
    let now = fmt_time(p.now());
    Ok(Some(vec![
        c.id.as_str().into(),
        kind.into(),
        doc_no.as_str().into(),
        file_id.as_str().into(),
        sealed.into(),
        p.keys.pii.current_id().into(),
        now.as_str().into(),
    ]))
}

/// The PDF of an issued notice of the case, rendered and stored on its first read: (file name,
/// `pdf`, bytes). `None` when `file_id` is not a notice of this case or was rendered already
/// (it is then an ordinary file). Two first reads at once both render; one stores its row.
pub(crate) async fn render_pending(
    p: &Platform,
    case_id: &str,
    file_id: &str,
) -> Result<Option<(String, String, Vec<u8>)>, ServiceError> {
    let Some(r) = sqlx::query(
        "SELECT n.kind, n.notice_enc FROM case_notices n WHERE n.case_id = $1 \
         AND n.file_id = $2 AND NOT EXISTS (SELECT 1 FROM files f WHERE f.id = n.file_id)",
    )
    .bind(case_id)
    .bind(file_id)
    .fetch_optional(p.db.pool())
    .await?
    else {
        return Ok(None);
    };
    let kind: String = r.try_get("kind")?;
    let sealed: String = r.try_get("notice_enc")?;
    let json = p
        .keys
        .pii
        .decrypt("case_notice", &sealed)
        .map_err(|e| ServiceError::internal(format!("notice {file_id}: {e}")))?;
    let notice: Notice = serde_json::from_str(&json)?;
    let name = format!("{}-{}.pdf", title_of(&kind), notice.header.case_number);
    let renderer = match renderer() {
        Ok(r) => r.clone(),
        Err(e) => {
            return Err(ServiceError::Unavailable(format!(
                "文书无法生成（字体）：{e}"
            )));
        }
    };
    let bytes = tokio::task::spawn_blocking(move || renderer.render(&notice))
        .await
        .map_err(|e| ServiceError::internal(format!("rendering task: {e}")))?
        .map_err(|e| ServiceError::internal(format!("notice: {e}")))?;
    let stored = p
        .outside
        .files
        .put(file_id, &bytes)
        .await
        .map_err(|e| ServiceError::Unavailable(format!("文件存储暂时无法使用：{e}")))?;
    sqlx::query(
        "INSERT INTO files (id, name, kind, size, sm3, owner, created_at) \
         VALUES ($1, $2, 'pdf', $3, $4, 'system', $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(file_id)
    .bind(&name)
    .bind(i64::try_from(stored.size).unwrap_or(i64::MAX))
    .bind(&stored.sm3)
    .bind(fmt_time(p.now()))
    .execute(p.db.writer())
    .await?;
    Ok(Some((name, "pdf".to_owned(), bytes)))
}

fn lines(text: &str) -> Vec<String> {
    let v: Vec<String> = text
        .split(['\n', '；'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if v.is_empty() {
        vec!["见审查意见".to_owned()]
    } else {
        v
    }
}

fn org_name(p: &Platform, org: &str) -> String {
    p.master
        .get()
        .organisation(org)
        .map(|o| o.name.clone())
        .unwrap_or_else(|| org.to_owned())
}

async fn acceptance(
    p: &Platform,
    c: &Case,
    local: impl Fn(chrono::DateTime<chrono::Utc>) -> NaiveDate,
) -> Result<Acceptance, ServiceError> {
    let files = super::apply::materials(p, &c.id).await?;
    let mut materials: Vec<yiwang_documents::ReceivedMaterial> = Vec::new();
    for f in files {
        match materials.iter_mut().find(|m| m.name == f.material) {
            Some(m) => m.copies += 1,
            None => materials.push(yiwang_documents::ReceivedMaterial {
                name: f.material.clone(),
                copies: 1,
                remark: "电子件".into(),
            }),
        }
    }
    Ok(Acceptance {
        applied_on: c.submitted_at.map(local),
        materials,
    })
}

async fn last_handler(p: &Platform, case_id: &str) -> Result<String, ServiceError> {
    let h: Option<String> = sqlx::query_scalar(
        "SELECT handler FROM case_records WHERE case_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(case_id)
    .fetch_optional(p.db.pool())
    .await?;
    Ok(h.unwrap_or_default())
}
