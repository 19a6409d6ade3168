//! 办件过程信息: the process records of a case (GB/T 39046 fields), append-only and chained
//! per case with SM3 (`hash = SM3(prev_hash ‖ 0 ‖ ProcessRecord::chain_bytes)`, from the
//! genesis hash), with the chain's head kept on the case row in the same transaction.
//! [`verify`] recomputes every chain: a record changed, removed or inserted, or a head that
//! does not match its records, is reported with its case and position.

use serde::Serialize;
use yiwang_crypto::chain;
use yiwang_domain::case::{ProcessRecord, RecordAction, RecordStatus};
use yiwang_store::{Batch, Bind, Row};

use super::NewRecord;
use crate::{Platform, ServiceError};

/// Appends `records` after the case's head (`rseq`, `rhash`) to the batch of the change; returns
/// the new head.
pub(crate) fn append(
    b: &mut Batch,
    case_id: &str,
    case_no: &str,
    mut rseq: i64,
    rhash: &str,
    records: &[NewRecord],
) -> (i64, String) {
    let mut head = rhash.to_owned();
    let mut args = Vec::with_capacity(records.len() * 13);
    for n in records {
        rseq += 1;
        let rec = ProcessRecord {
            case_no: case_no.to_owned(),
            seq: rseq,
            step: n.step.clone(),
            handler: n.handler.clone(),
            handler_id: n.handler_id.clone(),
            action: n.action,
            opinion: n.opinion.clone(),
            started_at: n.started_at.clone(),
            ended_at: n.ended_at.clone(),
            status: n.status,
        };
        let hash = chain::link(&head, &rec.chain_bytes());
        args.extend([
            Bind::from(case_id),
            rseq.into(),
            rec.case_no.into(),
            rec.step.into(),
            rec.handler.into(),
            rec.handler_id.into(),
            rec.action.code().into(),
            rec.opinion.into(),
            rec.started_at.into(),
            rec.ended_at.into(),
            rec.status.code().into(),
            head.as_str().into(),
            hash.as_str().into(),
        ]);
        head = hash;
    }
    if !records.is_empty() {
        b.push(
            &format!(
                "INSERT INTO case_records (case_id, seq, case_no, step, handler, handler_id, \
                 action, opinion, started_at, ended_at, status, prev_hash, hash) VALUES {}",
                yiwang_store::batch::values(records.len(), 13)
            ),
            args,
        );
    }
    (rseq, head)
}

fn record_row(r: &yiwang_store::AnyRow) -> Result<(ProcessRecord, String, String), ServiceError> {
    let action: String = r.try_get("action")?;
    let status: String = r.try_get("status")?;
    Ok((
        ProcessRecord {
            case_no: r.try_get("case_no")?,
            seq: r.try_get("seq")?,
            step: r.try_get("step")?,
            handler: r.try_get("handler")?,
            handler_id: r.try_get("handler_id")?,
            action: RecordAction::from_code(&action).unwrap_or(RecordAction::Other),
            opinion: r.try_get("opinion")?,
            started_at: r.try_get("started_at")?,
            ended_at: r.try_get("ended_at")?,
            status: RecordStatus::from_code(&status).unwrap_or(RecordStatus::Done),
        },
        r.try_get("prev_hash")?,
        r.try_get("hash")?,
    ))
}

/// The process records of a case, in order (the caller has checked access).
pub async fn of_case(p: &Platform, case_id: &str) -> Result<Vec<ProcessRecord>, ServiceError> {
    let rows = sqlx::query(
        "SELECT case_no, seq, step, handler, handler_id, action, opinion, started_at, ended_at, \
         status, prev_hash, hash FROM case_records WHERE case_id = $1 ORDER BY seq",
    )
    .bind(case_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| record_row(r).map(|(rec, _, _)| rec))
        .collect()
}

/// A chain that does not hold.
#[derive(Debug, Clone, Serialize)]
pub struct Broken {
    /// Case id.
    pub case_id: String,
    /// 办件编号.
    pub case_no: String,
    /// The first record (seq) that does not match, or the head when the records hold but the
    /// case row's head does not.
    pub at_seq: i64,
    /// What is wrong.
    pub problem: String,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// Cases checked.
    pub cases: u64,
    /// Records checked.
    pub records: u64,
    /// Every broken chain.
    pub broken: Vec<Broken>,
}

/// Recomputes the record chain of every case (or of one case) and compares it with the stored
/// hashes and the head kept on the case row.
pub async fn verify(p: &Platform, only: Option<&str>) -> Result<Verification, ServiceError> {
    let heads = match only {
        Some(id) => {
            sqlx::query("SELECT id, case_no, rseq, rhash FROM cases WHERE id = $1 OR case_no = $1")
                .bind(id)
                .fetch_all(p.db.pool())
                .await?
        }
        None => {
            sqlx::query("SELECT id, case_no, rseq, rhash FROM cases ORDER BY id")
                .fetch_all(p.db.pool())
                .await?
        }
    };
    let mut out = Verification {
        cases: 0,
        records: 0,
        broken: Vec::new(),
    };
    for h in heads {
        let id: String = h.try_get("id")?;
        let case_no: Option<String> = h.try_get("case_no")?;
        let case_no = case_no.unwrap_or_default();
        let rseq: i64 = h.try_get("rseq")?;
        let rhash: String = h.try_get("rhash")?;
        let rows = sqlx::query(
            "SELECT case_no, seq, step, handler, handler_id, action, opinion, started_at, \
             ended_at, status, prev_hash, hash FROM case_records WHERE case_id = $1 ORDER BY seq",
        )
        .bind(&id)
        .fetch_all(p.db.pool())
        .await?;
        out.cases += 1;
        let mut prev = chain::GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut bad = None;
        for r in &rows {
            out.records += 1;
            let (rec, prev_hash, hash) = record_row(r)?;
            let computed = chain::link(&prev, &rec.chain_bytes());
            if rec.seq != expected_seq {
                bad = Some((
                    rec.seq,
                    format!(
                        "记录序号应为{expected_seq}，实为{} / a record is missing or inserted",
                        rec.seq
                    ),
                ));
            } else if prev_hash != prev || computed != hash {
                bad = Some((
                    rec.seq,
                    "记录内容与哈希不符，已被篡改 / the record does not match its hash".to_owned(),
                ));
            }
            if bad.is_some() {
                break;
            }
            prev = computed;
            expected_seq += 1;
        }
        if bad.is_none() && (expected_seq - 1 != rseq || prev != rhash) {
            bad = Some((
                rseq,
                "记录链末端与办件不符（记录被删除） / the chain's head does not match the case (records removed)".to_owned(),
            ));
        }
        if let Some((at_seq, problem)) = bad {
            out.broken.push(Broken {
                case_id: id,
                case_no,
                at_seq,
                problem,
            });
        }
    }
    Ok(out)
}
