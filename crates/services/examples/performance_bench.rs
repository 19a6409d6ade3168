//! 绩效评估 at provincial scale, on embedded SQLite or PostgreSQL, through the use-cases (below
//! HTTP).
//!
//! 1. **Data.** `--orgs N` organisations (default 1,500) spread over the demo province's
//!    regions, and `--cases N` finished cases (default 10,000,000) decided over the last 365
//!    days, written straight into the database in set-based statements: each with its
//!    acceptance record (one of four windows of its organisation), a third applied for at a
//!    window, a quarter fetched at a window, some decided late; a tenth rated (a few badly, with
//!    real-name rectifications), one in fifty with a supervision signal.
//! 2. **Rollup.** [`performance::refresh`] the first time (every day of the year), then again
//!    (today only). Both timed.
//! 3. **Reports.** The province-year by department, three times; then by region and by window.
//!    Each timed: this is what a supervisor waits for.
//!
//! With `--rollup-rows`, step 1 writes the rollup itself instead: one row per day,
//! organisation and window for the year (`--orgs` × 4 × 365 rows, what ten million cases
//! fill), so that the report's time can be measured at full scale without writing the cases;
//! the rollup's own time is then measured on a smaller `--cases` run.
//!
//! Run: `cargo run --release -p yiwang-services --example performance_bench -- \
//!   [--backend sqlite|postgres] [--cases 10000000] [--orgs 1500] [--rollup-rows]`

use std::sync::Arc;
use std::time::Instant;

use yiwang_services::identity::staff as accounts;
use yiwang_services::supervision::performance::{self, By, Period, ReportQuery};
use yiwang_services::{Platform, SystemClock, demo};
use yiwang_store::Row;

mod common;

use common::{arg, database};

/// Cases written per statement.
const CHUNK: i64 = 500_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let backend = arg("--backend").unwrap_or_else(|| "sqlite".into());
    let cases: i64 = arg("--cases").map_or(Ok(10_000_000), |v| v.parse())?;
    let orgs: i64 = arg("--orgs").map_or(Ok(1_500), |v| v.parse())?;
    let e = |e: yiwang_services::ServiceError| anyhow::anyhow!("{e}");
    let (db, dir) = database(&backend, "performance_bench").await?;
    db.migrate().await?;
    let p: Arc<Platform> = Platform::open(db, Arc::new(SystemClock)).await.map_err(e)?;
    demo::load(&p).await.map_err(e)?;
    let pg = backend == "postgres";

    // Organisations over the province's regions.
    let regions: Vec<String> =
        sqlx::query_scalar("SELECT code FROM regions WHERE code LIKE '43%' ORDER BY code")
            .fetch_all(p.db.pool())
            .await?;
    anyhow::ensure!(!regions.is_empty(), "the demo province has no regions");
    for from in (0..orgs).step_by(200) {
        let to = (from + 200).min(orgs);
        let mut sql = String::from(
            "INSERT INTO organisations (credit_code, name, region, level, address, hours, \
             consult_phone, complaint_phone) VALUES ",
        );
        for i in from..to {
            let region = &regions[usize::try_from(i)? % regions.len()];
            if i > from {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "('{}', '基准测试单位{i}', '{region}', 'county', '', '', '', '')",
                org_code(i)
            ));
        }
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p.db.writer())
            .await?;
    }
    yiwang_services::masterdata::reload(&p).await.map_err(e)?;
    let (item, version): (String, i64) = {
        let r = sqlx::query(
            "SELECT item_code, MAX(version) AS version FROM item_versions \
             WHERE status = 'published' GROUP BY item_code ORDER BY item_code LIMIT 1",
        )
        .fetch_one(p.db.pool())
        .await?;
        (r.try_get("item_code")?, r.try_get("version")?)
    };

    let start = chrono::Utc::now().timestamp() - 365 * 86_400;
    let org_of = |n: &str| {
        if pg {
            format!("'BENCHORG' || lpad(({n} % {orgs})::text, 10, '0')")
        } else {
            format!("'BENCHORG' || printf('%010d', {n} % {orgs})")
        }
    };
    if std::env::args().any(|a| a == "--rollup-rows") {
        let rows = orgs * 4 * 365;
        let t0 = Instant::now();
        let first = (chrono::Utc::now() - chrono::Duration::days(365)).date_naive();
        let day = |k: &str| {
            if pg {
                format!("to_char(DATE '{first}' + ({k})::int, 'YYYY-MM-DD')")
            } else {
                format!("date('{first}', '+' || ({k}) || ' days')")
            }
        };
        let mut from = 0;
        while from < rows {
            let to = (from + CHUNK).min(rows);
            let series = if pg {
                format!("SELECT generate_series({from}, {}) AS n", to - 1)
            } else {
                format!(
                    "WITH RECURSIVE s(n) AS (SELECT {from} UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {to}) \
                     SELECT n FROM s"
                )
            };
            // About 4.6 cases a row (10 million over the rows of a year).
            let sql = format!(
                "INSERT INTO perf_daily (day, org, window_staff, region, finished, on_time, early, \
                 overdue, fully_online, days_sum, visits, ratings, satisfied, bad, bad_real_name, \
                 followed, warnings, yellow, red, irregular) \
                 SELECT {day}, o.credit_code, 'W' || (n % {orgs}) || '-' || ((n / {orgs}) % 4), \
                 o.region, 4 + n % 2, 4, 2, n % 2, 3, 20 + n % 7, 2, 1, 1, n % 2, n % 2, 0, \
                 n % 3, n % 5, n % 7, n % 11 FROM ({series}) AS g \
                 JOIN organisations o ON o.credit_code = {org}",
                day = day(&format!("n / ({orgs} * 4)")),
                org = org_of("n"),
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(p.db.writer())
                .await?;
            from = to;
        }
        // Summed over windows, as the rollup writes it.
        let sums: Vec<String> = [
            "finished",
            "on_time",
            "early",
            "overdue",
            "fully_online",
            "days_sum",
            "visits",
            "ratings",
            "satisfied",
            "bad",
            "bad_real_name",
            "followed",
            "warnings",
            "yellow",
            "red",
            "irregular",
        ]
        .iter()
        .map(|c| format!("SUM({c})"))
        .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO perf_daily_org SELECT day, org, MIN(region), {} FROM perf_daily \
             GROUP BY day, org",
            sums.join(", ")
        )))
        .execute(p.db.writer())
        .await?;
        sqlx::query(
            "INSERT INTO perf_rollup_state (name, open_from, ran_at) VALUES ('perf_daily', $1, $2)",
        )
        .bind(chrono::Utc::now().date_naive().to_string())
        .bind(yiwang_store::fmt_time(chrono::Utc::now()))
        .execute(p.db.writer())
        .await?;
        sqlx::query("ANALYZE").execute(p.db.writer()).await?;
        println!(
            "{backend}: {rows} rollup rows ({orgs} organisations × 4 windows × 365 days) written in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        reports(&p, &backend).await?;
        if let Some(dir) = dir {
            std::fs::remove_dir_all(dir).ok();
        }
        return Ok(());
    }
    let ts = |secs: &str| {
        if pg {
            format!(
                "to_char(to_timestamp({secs}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            )
        } else {
            format!("strftime('%Y-%m-%dT%H:%M:%S.000Z', {secs}, 'unixepoch')")
        }
    };
    // Decided on day n % 365 between 09:00 and 19:00 (UTC+8); accepted 0–9 days before; due
    // 8–12 days after acceptance (so some are late).
    let decided = format!("({start} + (n % 365) * 86400 + 3600 + (n / 365) % 36000)");
    let accepted = format!("({decided} - (n % 10) * 86400)");
    let due = format!("({accepted} + (8 + n % 5) * 86400)");
    let t0 = Instant::now();
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
        let sql = format!(
            "INSERT INTO cases (id, case_no, item_code, item_version, item_name, org, case_type, \
             channel, applicant_kind, owner_user, applicant_name, applicant_id_enc, \
             applicant_id_bidx, applicant_id_masked, phone_enc, form_enc, key_id, state, rev, \
             corrections, promised_days, due_at, decision_opinion, delivery, created_at, \
             created_by, submitted_at, accepted_at, decided_at, delivered_at, updated_at, rseq, \
             rhash) \
             SELECT 'pb-' || n, 'PB' || n, '{item}', {version}, '基准测试事项', {org}, '2', \
             CASE WHEN n % 3 = 0 THEN '1' ELSE '2' END, 'person', NULL, '测试', '', '', '', '', \
             '', '', 'delivered', 1, '[]', 10, {due_ts}, '', \
             CASE WHEN n % 4 = 0 THEN '{{\"method\":\"window\"}}' ELSE '{{\"method\":\"post\"}}' END, \
             {acc_ts}, 'bench', {acc_ts}, {acc_ts}, {dec_ts}, {dec_ts}, {dec_ts}, 1, '' \
             FROM ({series}) AS g",
            org = org_of("n"),
            due_ts = ts(&due),
            acc_ts = ts(&accepted),
            dec_ts = ts(&decided),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p.db.writer())
            .await?;
        let window = format!("'W' || (n % {orgs}) || '-' || ((n / {orgs}) % 4)");
        let sql = format!(
            "INSERT INTO case_records (case_id, seq, case_no, step, handler, handler_id, action, \
             opinion, started_at, ended_at, status, prev_hash, hash) \
             SELECT 'pb-' || n, 1, 'PB' || n, '受理', '窗口', {window}, '1', '受理', {acc}, {acc}, \
             '2', '', '' FROM ({series}) AS g",
            acc = ts(&accepted),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p.db.writer())
            .await?;
        // A tenth rated an hour after the decision: mostly 非常满意, a few 不满意/非常不满意.
        let sql = format!(
            "INSERT INTO ratings (id, case_id, case_no, item_code, org, region, channel, level, \
             scores, comment, real_name, rater_user, rated_at, status) \
             SELECT 'rt-' || n, 'pb-' || n, 'PB' || n, '{item}', {org}, '430000', 'web', \
             CASE WHEN n % 970 = 0 THEN 1 WHEN n % 890 = 0 THEN 2 ELSE 5 END, '{{}}', '', 1, NULL, \
             {rated}, 'valid' FROM ({series}) AS g WHERE n % 10 = 0",
            org = org_of("n"),
            rated = ts(&format!("{decided} + 3600")),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p.db.writer())
            .await?;
        let sql = format!(
            "INSERT INTO rectifications (id, number, rating_id, case_id, org, region, real_name, \
             opened_at, due_at, status, answered_at) \
             SELECT 'rx-' || n, 'RX' || n, 'rt-' || n, 'pb-' || n, {org}, '430000', 1, {at}, {at}, \
             CASE WHEN n % 3 = 0 THEN 'open' ELSE 'answered' END, \
             CASE WHEN n % 3 = 0 THEN NULL ELSE {at} END \
             FROM ({series}) AS g WHERE n % 10 = 0 AND (n % 970 = 0 OR n % 890 = 0)",
            org = org_of("n"),
            at = ts(&format!("{decided} + 3600")),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p.db.writer())
            .await?;
        let sql = format!(
            "INSERT INTO signals (id, number, dedupe, rule_no, rule_version, kind, signal_type, \
             case_id, case_no, item_code, org, region, person, step, detail, occurred_at, \
             raised_at, status) \
             SELECT 'sg-' || n, 'SG' || n, 'sg-' || n, 'JC02', 0, 'step_overdue', \
             CASE n % 4 WHEN 0 THEN 'warning' WHEN 1 THEN 'yellow' WHEN 2 THEN 'red' ELSE 'irregular' END, \
             'pb-' || n, 'PB' || n, '{item}', {org}, '430000', NULL, '审查', '', {at}, {at}, 'open' \
             FROM ({series}) AS g WHERE n % 50 = 0",
            org = org_of("n"),
            at = ts(&decided),
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(p.db.writer())
            .await?;
        from = to;
        eprintln!(
            "  {from} cases written ({:.0} s)",
            t0.elapsed().as_secs_f64()
        );
    }
    sqlx::query("ANALYZE").execute(p.db.writer()).await?;
    println!(
        "{backend}: {cases} cases of {orgs} organisations written in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let run = performance::refresh(&p).await.map_err(e)?;
    println!(
        "{backend}: first rollup: {} days, {} rows in {:.1} s",
        run.days,
        run.rows,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let run = performance::refresh(&p).await.map_err(e)?;
    println!(
        "{backend}: next rollup (today and changed days): {} days, {} rows in {:.2} s",
        run.days,
        run.rows,
        t.elapsed().as_secs_f64()
    );

    reports(&p, &backend).await?;
    if let Some(dir) = dir {
        std::fs::remove_dir_all(dir).ok();
    }
    Ok(())
}

/// The province-year report by department (three runs), by region and by window, as the
/// province's supervisor asks for it; each timed.
async fn reports(p: &Platform, backend: &str) -> anyhow::Result<()> {
    let e = |e: yiwang_services::ServiceError| anyhow::anyhow!("{e}");
    let supervisor = accounts::sign_in(p, "supervisor", demo::DEMO_PASSWORD, "127.0.0.1")
        .await
        .map_err(e)?
        .1
        .staff;
    let today = chrono::Utc::now().date_naive();
    let year = Period {
        from: today - chrono::Duration::days(365),
        to: today,
    };
    for (by, label, runs) in [
        (By::Org, "department", 3),
        (By::Region, "region", 1),
        (By::Window, "window", 1),
    ] {
        for i in 0..runs {
            let t = Instant::now();
            let r = performance::report(
                p,
                &supervisor,
                &ReportQuery {
                    period: year,
                    by,
                    region: None,
                    org: None,
                },
            )
            .await
            .map_err(e)?;
            println!(
                "{backend}: province-year report by {label} (run {}): {} units, {} cases, {:.3} s",
                i + 1,
                r.rows.len(),
                r.total.totals.finished,
                t.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// The 18-character code of the i-th benchmark organisation.
fn org_code(i: i64) -> String {
    format!("BENCHORG{i:010}")
}
