//! Licences issued per second, PDF included, and verifications per second through the
//! use-cases (below HTTP), on embedded SQLite or PostgreSQL.
//!
//! First `--cases N` approved cases of the demo's 失业保险金申领 are made through the use-cases
//! (apply, accept, every approval step) while no licence type is bound to the item. Then a
//! licence type is bound, the `case.approved` events are made pending again for the issuing
//! consumer, and `--concurrency W` workers issue every licence: the signed data (SM2 with the
//! issuer's seal), the PDF with seal and QR code rendered and stored, the row, the seal's use
//! and the holder's message in one batch. Timed: that phase only. Last, the workers verify the
//! issued licences by identifier for `--seconds S` (row read, data opened, signature checked
//! once per licence, status and validity).
//!
//! Run: `cargo run --release -p yiwang-services --example licence_bench -- \
//!   [--backend sqlite|postgres] [--cases 400] [--concurrency 4] [--seconds 5] \
//!   [--data-dir DIR --ids FILE]`
//! With `--data-dir` the run uses that SQLite data folder and its personal-data key ring
//! (`secrets/pii-keys`, as `yiwang demo --data-dir DIR` made it), so that `yiwang serve` on the
//! folder afterwards verifies the same licences; `--ids` writes their identifiers, one a line
//! (`scripts/bench/licence.sh` then loads the verification page and API with wrk).

use std::sync::Arc;
use std::time::{Duration, Instant};

use yiwang_services::cases::{apply, events, window};
use yiwang_services::identity::{Keys, Outside, staff, users};
use yiwang_services::licences::{self, LicenceType, TypeField};
use yiwang_services::workflow::inbox;
use yiwang_services::{Platform, SystemClock, demo};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

mod common;

use common::{arg, database};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let cases: usize = arg("--cases").map_or(Ok(400), |v| v.parse())?;
    let workers: usize = arg("--concurrency").map_or(Ok(4), |v| v.parse())?;
    let secs: u64 = arg("--seconds").map_or(Ok(5), |v| v.parse())?;
    let data_dir = arg("--data-dir").map(std::path::PathBuf::from);
    let e = |e: yiwang_services::ServiceError| anyhow::anyhow!("{e}");
    let (p, dir): (Arc<Platform>, _) = match &data_dir {
        Some(d) => {
            let db = yiwang_store::Db::open_data_dir(d).await?;
            db.migrate().await?;
            let spec = std::fs::read_to_string(d.join("secrets").join("pii-keys"))?;
            let keys = Keys::from_spec(spec.trim()).map_err(e)?;
            let p = Platform::open_with(
                db,
                Arc::new(SystemClock),
                keys,
                Outside::for_tests().map_err(e)?,
            )
            .await
            .map_err(e)?;
            (p, None)
        }
        None => {
            let (db, dir) = database(&backend, "yiwang_licbench").await?;
            db.migrate().await?;
            (
                Platform::open(db, Arc::new(SystemClock)).await.map_err(e)?,
                dir,
            )
        }
    };
    demo::load(&p).await.map_err(e)?;
    let item: String = sqlx::query_scalar(
        "SELECT f.item_code FROM item_forms f JOIN wf_bindings b ON b.item_code = f.item_code \
         ORDER BY f.item_code LIMIT 1",
    )
    .fetch_one(p.db.pool())
    .await?;
    let org: String = sqlx::query_scalar("SELECT org FROM items WHERE code = $1")
        .bind(&item)
        .fetch_one(p.db.pool())
        .await?;
    let required: Vec<usize> = yiwang_services::catalogue::published(&p, &item)
        .await
        .map_err(e)?
        .guide
        .materials
        .iter()
        .enumerate()
        .filter(|(_, m)| m.required && m.condition.is_none())
        .map(|(i, _)| i)
        .collect();
    let citizen = users::sign_in_password(&p, "13800000002", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .map_err(e)?
        .1
        .user;
    let clerk = staff::sign_in(&p, "yl.window", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .map_err(e)?
        .1
        .staff;
    let approver = staff::sign_in(&p, "yl.rsj.approver", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .map_err(e)?
        .1
        .staff;
    let mut form = serde_json::Map::new();
    form.insert("employer".into(), "长沙某科技有限公司".into());
    form.insert("ended_on".into(), "2026-10-31".into());
    form.insert("reason".into(), "contract_end".into());

    // Approved cases, no licence type bound yet.
    let t0 = Instant::now();
    let run = uuid::Uuid::now_v7().simple().to_string();
    let mut makers = Vec::new();
    for w in 0..workers {
        let (p, item, required, citizen, clerk, approver, form, run) = (
            p.clone(),
            item.clone(),
            required.clone(),
            citizen.clone(),
            clerk.clone(),
            approver.clone(),
            form.clone(),
            run.clone(),
        );
        let share = cases / workers + usize::from(w < cases % workers);
        makers.push(tokio::spawn(async move {
            let e = |e: yiwang_services::ServiceError| anyhow::anyhow!("{e}");
            for k in 0..share {
                let c = apply::start_draft(&p, &citizen, &item).await.map_err(e)?;
                apply::save_form(&p, &citizen, &c.id, &form)
                    .await
                    .map_err(e)?;
                for slot in &required {
                    apply::attach(&p, &citizen, &c.id, *slot, "m.pdf", PDF)
                        .await
                        .map_err(e)?;
                }
                let c = apply::submit(&p, &citizen, &c.id, &format!("{run}-{w}-{k}"), None)
                    .await
                    .map_err(e)?;
                let c = window::accept(&p, &clerk, &c.id, Some(c.rev), "")
                    .await
                    .map_err(e)?;
                let wf = c
                    .wf_instance
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("no process"))?;
                for _ in 0..10 {
                    let open: Vec<String> = sqlx::query_scalar(
                        "SELECT id FROM wf_tasks WHERE instance_id = $1 AND state = 'open'",
                    )
                    .bind(&wf)
                    .fetch_all(p.db.pool())
                    .await?;
                    if open.is_empty() {
                        break;
                    }
                    for t in open {
                        inbox::complete_as(
                            &p,
                            &wf,
                            &t,
                            &approver.username,
                            inbox::Outcome::Approve,
                            "同意",
                        )
                        .await
                        .map_err(e)?;
                    }
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for m in makers {
        m.await??;
    }
    // Decide them (the drain takes 200 events a round).
    while events::drain(&p).await.map_err(e)? > 0 {}
    eprintln!(
        "{cases} approved cases made in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    // Bind a licence type and let the issuing consumer see the approvals again.
    let field = TypeField::new;
    licences::define_type_as(
        &p,
        LicenceType {
            code: format!("{org}901"),
            name: "失业保险待遇资格证明".into(),
            holder_kind: "person".into(),
            fields: vec![
                field("name", "姓名", "case:applicant_name"),
                field("employer", "原单位", "form:employer"),
                field("ended_on", "终止劳动关系日期", "form:ended_on"),
                field("case_no", "办件编号", "case:case_no"),
            ],
            validity_years: Some(1),
            layout: serde_json::json!({}),
            items: vec![item.clone()],
        },
    )
    .await
    .map_err(e)?;
    sqlx::query("DELETE FROM outbox_done WHERE consumer = 'licences.issue'")
        .execute(p.db.writer())
        .await?;
    let pending: Vec<(String, String)> = sqlx::query_as(
        "SELECT o.id, o.subject FROM outbox o JOIN cases c ON c.id = o.subject \
         WHERE o.topic = 'case.approved' AND c.item_code = $1 \
         AND NOT EXISTS (SELECT 1 FROM licences l WHERE l.case_id = c.id) ORDER BY o.id",
    )
    .bind(&item)
    .fetch_all(p.db.pool())
    .await?;
    let pending = Arc::new(pending);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut issuers = Vec::new();
    for _ in 0..workers {
        let (p, pending, next) = (p.clone(), pending.clone(), next.clone());
        issuers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((event, case)) = pending.get(i) else {
                    break;
                };
                let t = Instant::now();
                let issued = licences::issue_for_event(&p, event, case)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                lat.push(t.elapsed());
                ids.extend(issued);
            }
            Ok::<_, anyhow::Error>((ids, lat))
        }));
    }
    let mut ids = Vec::new();
    let mut lat = Vec::new();
    for h in issuers {
        let (i, l) = h.await??;
        ids.extend(i);
        lat.extend(l);
    }
    let issue_secs = t0.elapsed().as_secs_f64();
    lat.sort();
    let pct = |v: &[Duration], q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "issued on {backend}, {workers} workers: {} licences in {issue_secs:.2} s = {:.1}/s (PDF rendered and stored); per licence p50 {:.1} ms, p99 {:.1} ms",
        ids.len(),
        ids.len() as f64 / issue_secs,
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    if let Some(f) = arg("--ids") {
        std::fs::write(f, ids.join("\n") + "\n")?;
    }

    // Verification by identifier.
    let ids = Arc::new(ids);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let t0 = Instant::now();
    let mut verifiers = Vec::new();
    for w in 0..workers {
        let (p, ids) = (p.clone(), ids.clone());
        verifiers.push(tokio::spawn(async move {
            let mut n = 0usize;
            let mut i = w;
            while Instant::now() < deadline && !ids.is_empty() {
                let v = licences::verify(&p, &ids[i % ids.len()])
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::ensure!(v.outcome == licences::Outcome::Valid, "{v:?}");
                n += 1;
                i += 7;
            }
            Ok::<_, anyhow::Error>(n)
        }));
    }
    let mut n = 0;
    for h in verifiers {
        n += h.await??;
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "verified on {backend}, {workers} workers: {n} verifications in {secs:.2} s = {:.0}/s",
        n as f64 / secs
    );
    p.db.close().await;
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(())
}
