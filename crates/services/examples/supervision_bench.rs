//! 电子监察 at provincial scale, on embedded SQLite or PostgreSQL, through the use-cases (below
//! HTTP).
//!
//! 1. **Sweep.** `--cases N` cases (default 10,000,000) are written straight into the database
//!    in one set-based statement each 1,000,000 (the demo's items and organisations, a year of
//!    dates): `--open` of them (default 1 %) in handling, their promised limits spread from 15
//!    days ago to 15 days ahead, the rest closed. Then [`supervision::sweep`] runs twice:
//!    the first raises every 预警 and 红牌 due, the second finds them raised. Both timed.
//! 2. **Latency.** For `--seconds S` (default 20) a writer appends process records at
//!    `--rate R` a second (default 500): each a refusal with no real reason (不予受理, "否") of
//!    a case of its own, with its outbox event, as a department system's report would arrive;
//!    the rules consumer runs as `serve` runs it (every 200 ms). The latency of each signal is
//!    its `raised_at` less its record's event time: p50, p99 and max are printed.
//!
//! Run: `cargo run --release -p yiwang-services --example supervision_bench -- \
//!   [--backend sqlite|postgres] [--cases 10000000] [--open 0.01] [--rate 500] [--seconds 20]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use yiwang_services::{Platform, SystemClock, demo, supervision};
use yiwang_store::{Row, fmt_time};

mod common;

use common::{arg, database};

/// Cases written per statement.
const CHUNK: i64 = 1_000_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let cases: i64 = arg("--cases").map_or(Ok(10_000_000), |v| v.parse())?;
    let open: f64 = arg("--open").map_or(Ok(0.01), |v| v.parse())?;
    let rate: u64 = arg("--rate").map_or(Ok(500), |v| v.parse())?;
    let secs: u64 = arg("--seconds").map_or(Ok(20), |v| v.parse())?;
    let e = |e: yiwang_services::ServiceError| anyhow::anyhow!("{e}");
    let (db, dir) = database(&backend, "supervision_bench").await?;
    db.migrate().await?;
    let p: Arc<Platform> = Platform::open(db, Arc::new(SystemClock)).await.map_err(e)?;
    demo::load(&p).await.map_err(e)?;
    let pg = backend == "postgres";

    // Items (with a published version) and their organisations to spread the cases over.
    let items: Vec<(String, i64, String)> = sqlx::query(
        "SELECT i.code, MAX(v.version) AS version, i.org FROM items i \
         JOIN item_versions v ON v.item_code = i.code WHERE v.status = 'published' \
         GROUP BY i.code, i.org ORDER BY i.code LIMIT 200",
    )
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("code")?, r.try_get("version")?, r.try_get("org")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    anyhow::ensure!(
        !items.is_empty(),
        "the demo province has no published items"
    );
    let k = i64::try_from(items.len())?;
    let pick = |col: usize| {
        let arms: String = items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let v = match col {
                    0 => format!("'{}'", it.0),
                    1 => it.1.to_string(),
                    _ => format!("'{}'", it.2),
                };
                format!(" WHEN {i} THEN {v}")
            })
            .collect();
        format!("CASE n % {k}{arms} END")
    };
    let now = chrono::Utc::now();
    let epoch = now.timestamp();
    // Every `stride`-th case is open (handling).
    let stride = ((1.0 / open.max(1e-6)).round() as i64).max(1);
    let ts = |secs: &str| {
        if pg {
            format!(
                "to_char(to_timestamp({secs}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
            )
        } else {
            format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', {secs}, 'unixepoch')")
        }
    };
    let started = Instant::now();
    let mut from = 0;
    while from < cases {
        let to = (from + CHUNK).min(cases);
        let series = if pg {
            format!("SELECT generate_series({from}, {}) AS n", to - 1)
        } else {
            format!(
                "WITH RECURSIVE s(n) AS (SELECT {from} UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {to}) \
                 SELECT n FROM s"
            )
        };
        // Open cases: due from 15 days ago to 15 days ahead; closed: decided within the year.
        let due = ts(&format!(
            "{epoch} + ((n % 30) - 15) * 86400 + (n % 7) * 3600"
        ));
        let past = ts(&format!("{epoch} - (n % 365) * 86400 - 3600"));
        let sql = format!(
            "INSERT INTO cases (id, case_no, item_code, item_version, item_name, org, case_type, \
             channel, applicant_kind, owner_user, applicant_name, applicant_id_enc, \
             applicant_id_bidx, applicant_id_masked, phone_enc, form_enc, key_id, state, rev, \
             corrections, promised_days, due_at, decision_opinion, delivery, created_at, \
             created_by, submitted_at, accepted_at, decided_at, updated_at, rseq, rhash) \
             SELECT 'bench-' || n, 'BENCH' || n, {item}, {version}, '基准测试事项', {org}, '2', '2', \
             'person', NULL, '测试', '', '', '', '', '', '', \
             CASE WHEN n % {stride} = 0 THEN 'handling' ELSE 'delivered' END, 1, '[]', 10, \
             CASE WHEN n % {stride} = 0 THEN {due} ELSE {past} END, '', '{{}}', {past}, 'bench', \
             {past}, {past}, CASE WHEN n % {stride} = 0 THEN NULL ELSE {past} END, {past}, 0, '' \
             FROM ({series}) AS g",
            item = pick(0),
            version = pick(1),
            org = pick(2),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p.db.writer())
            .await?;
        from = to;
        eprintln!(
            "  {from} cases written ({:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    if pg {
        sqlx::query("ANALYZE cases").execute(p.db.writer()).await?;
    } else {
        sqlx::query("ANALYZE").execute(p.db.writer()).await?;
    }
    println!(
        "{backend}: {cases} cases ({} open) written in {:.1} s",
        cases / stride,
        started.elapsed().as_secs_f64()
    );
    for round in ["first", "second"] {
        let t = Instant::now();
        let run = supervision::sweep(&p).await.map_err(e)?;
        println!(
            "{backend}: sweep ({round}) over {cases} cases: {:.2} s, {} deadlines looked at, {} new signals",
            t.elapsed().as_secs_f64(),
            run.deadlines,
            run.signals
        );
    }

    // Latency under a steady stream of reported records.
    let (item, version, org) = items[0].clone();
    let consumer = tokio::spawn(supervision::run(p.clone(), Duration::from_secs(3600)));
    let total = rate * secs;
    let t0 = Instant::now();
    for i in 0..total {
        let due = t0 + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let at = fmt_time(chrono::Utc::now());
        let id = format!("lat-{i}");
        let mut b = yiwang_store::Batch::default();
        b.push(
            "INSERT INTO cases (id, case_no, item_code, item_version, item_name, org, case_type, \
             channel, applicant_kind, applicant_name, applicant_id_enc, applicant_id_bidx, \
             applicant_id_masked, phone_enc, form_enc, key_id, state, rev, corrections, \
             promised_days, decision_opinion, delivery, created_at, created_by, updated_at, rseq, \
             rhash) VALUES ($1, $2, $3, $4, '基准测试事项', $5, '2', '2', 'person', '测试', '', '', \
             '', '', '', '', 'not_accepted', 1, '[]', 10, '否', '{}', $6, 'bench', $6, 1, '')",
            vec![
                id.as_str().into(),
                format!("LAT{i}").into(),
                item.as_str().into(),
                version.into(),
                org.as_str().into(),
                at.as_str().into(),
            ],
        );
        {
            b.push(
                "INSERT INTO case_records (case_id, seq, case_no, step, handler, handler_id, \
                 action, opinion, started_at, ended_at, status, prev_hash, hash) VALUES ($1, 1, \
                 $2, '不予受理', '某部门系统', 'dept-system', '2', '否', $3, $3, '2', '', '')",
                vec![
                    id.as_str().into(),
                    format!("LAT{i}").into(),
                    at.as_str().into(),
                ],
            );
        }
        b.push(
            "INSERT INTO outbox (id, topic, payload, created_at, subject) VALUES ($1, \
             'case.refuse', '{}', $2, $3)",
            vec![
                uuid::Uuid::now_v7().to_string().into(),
                at.as_str().into(),
                id.as_str().into(),
            ],
        );
        b.commit_alone(&p.db)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let sent = t0.elapsed().as_secs_f64();
    // Let the consumer catch up.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT case_id) FROM signals WHERE case_id LIKE 'lat-%' \
             AND kind = 'refused_without_reason'",
        )
        .fetch_one(p.db.pool())
        .await?;
        if n >= i64::try_from(total)? || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    consumer.abort();
    let rows = sqlx::query(
        "SELECT s.raised_at, r.ended_at FROM signals s JOIN case_records r \
         ON r.case_id = s.case_id AND r.seq = 1 WHERE s.case_id LIKE 'lat-%' \
         AND s.kind = 'refused_without_reason'",
    )
    .fetch_all(p.db.pool())
    .await?;
    let parse = |s: String| chrono::DateTime::parse_from_rfc3339(&s).ok();
    let mut lat: Vec<f64> = rows
        .into_iter()
        .filter_map(|r| {
            let raised = parse(r.try_get("raised_at").ok()?)?;
            let at = parse(r.try_get("ended_at").ok()?)?;
            Some((raised - at).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    let q = |f: f64| lat[((lat.len() as f64 * f) as usize).min(lat.len().saturating_sub(1))];
    anyhow::ensure!(!lat.is_empty(), "no signal was raised");
    println!(
        "{backend}: latency at {:.0} records/s for {secs} s ({total} records, {} signals): \
         p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        total as f64 / sent,
        lat.len(),
        q(0.50),
        q(0.99),
        lat[lat.len() - 1]
    );
    if let Some(dir) = dir {
        std::fs::remove_dir_all(dir).ok();
    }
    Ok(())
}
