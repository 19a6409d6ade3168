-- 绩效评估: daily rollups of what the evaluation counts, so that a report over a province-year
-- (about 10 million cases) reads a few hundred thousand rows, not the cases; the scoring
-- formula, each change a new version; where the rollup has got to.

-- One row per local day (China time), handling organisation and window (the staff member
-- who accepted the case, '' when none). Cases count on the day they were decided; ratings on
-- the day they were given; signals on the day they were raised; rectifications on the day
-- they were opened. `days_sum` is the working days from acceptance to decision, summed.
CREATE TABLE perf_daily (
    day TEXT NOT NULL,
    org TEXT NOT NULL,
    window_staff TEXT NOT NULL,
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
    PRIMARY KEY (day, org, window_staff)
);
CREATE INDEX perf_daily_region ON perf_daily (region, day);

-- The scoring formula and grade thresholds, versioned.
CREATE TABLE perf_scoring (
    version BIGINT PRIMARY KEY,
    scoring TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- How far the rollup has got: the first day not yet final, and when it last ran (changes
-- after that — a delivery, a withdrawn signal, an answered rectification — mark their days
-- to roll again).
CREATE TABLE perf_rollup_state (
    name TEXT PRIMARY KEY,
    open_from TEXT NOT NULL,
    ran_at TEXT NOT NULL
);

CREATE INDEX cases_delivered ON cases (delivered_at);
CREATE INDEX signals_decided ON signals (decided_at);
CREATE INDEX rectifications_answered ON rectifications (answered_at);
CREATE INDEX rectifications_appeal ON rectifications (appeal_decided_at);
