-- 绩效评估: the daily rollup summed over windows, one row per local day and organisation, which
-- the reports by department and by region read (a quarter of `perf_daily`'s rows); rolled in
-- the same transaction as `perf_daily`.
CREATE TABLE perf_daily_org (
    day TEXT NOT NULL,
    org TEXT NOT NULL,
    region TEXT NOT NULL,
    finished BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    early BIGINT NOT NULL,
    overdue BIGINT NOT NULL,
    fully_online BIGINT NOT NULL,
    days_sum BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    ratings BIGINT NOT NULL,
    satisfied BIGINT NOT NULL,
    bad BIGINT NOT NULL,
    bad_real_name BIGINT NOT NULL,
    followed BIGINT NOT NULL,
    warnings BIGINT NOT NULL,
    yellow BIGINT NOT NULL,
    red BIGINT NOT NULL,
    irregular BIGINT NOT NULL,
    PRIMARY KEY (day, org)
);
CREATE INDEX perf_daily_org_region ON perf_daily_org (region, day);
INSERT INTO perf_daily_org (day, org, region, finished, on_time, early, overdue, fully_online,
    days_sum, visits, ratings, satisfied, bad, bad_real_name, followed, warnings, yellow, red,
    irregular)
SELECT day, org, MIN(region), SUM(finished), SUM(on_time), SUM(early), SUM(overdue),
    SUM(fully_online), SUM(days_sum), SUM(visits), SUM(ratings), SUM(satisfied), SUM(bad),
    SUM(bad_real_name), SUM(followed), SUM(warnings), SUM(yellow), SUM(red), SUM(irregular)
FROM perf_daily GROUP BY day, org;
