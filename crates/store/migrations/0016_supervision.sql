-- 电子监察库 (GB/T 39046 supervision fields): the rule sets, each change a new version; the
-- signals the rules raise, one per fact (`dedupe`: rule, case and step or record), appealed and
-- withdrawn or upheld; supervision orders (督办) with their response.
CREATE TABLE supervision_rules (
    version BIGINT PRIMARY KEY,
    rules TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);

-- status: open, appealed (the unit says it is wrong), withdrawn (raised wrongly), upheld.
CREATE TABLE signals (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    dedupe TEXT NOT NULL UNIQUE,
    rule_no TEXT NOT NULL,
    rule_version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    signal_type TEXT NOT NULL,
    case_id TEXT NOT NULL,
    case_no TEXT,
    item_code TEXT NOT NULL,
    org TEXT NOT NULL,
    region TEXT NOT NULL,
    person TEXT,
    step TEXT NOT NULL,
    detail TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    status TEXT NOT NULL,
    appeal_reason TEXT,
    appealed_at TEXT,
    appealed_by TEXT,
    decision_reason TEXT,
    decided_at TEXT,
    decided_by TEXT
);
CREATE INDEX signals_region ON signals (region, raised_at);
CREATE INDEX signals_org ON signals (org, status);
CREATE INDEX signals_case ON signals (case_id);

-- status: issued, answered, closed.
CREATE TABLE supervision_orders (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    signal_id TEXT REFERENCES signals (id),
    case_id TEXT NOT NULL,
    org TEXT NOT NULL,
    region TEXT NOT NULL,
    content TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    response TEXT,
    answered_by TEXT,
    answered_at TEXT,
    status TEXT NOT NULL
);
CREATE INDEX supervision_orders_org ON supervision_orders (org, status);
CREATE INDEX supervision_orders_region ON supervision_orders (region, issued_at);

-- Where the rules consumer has read the outbox up to.
CREATE TABLE supervision_cursor (
    consumer TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE INDEX outbox_created ON outbox (created_at);

-- The sweep reads open cases and open steps by deadline.
CREATE INDEX cases_due ON cases (state, due_at);
CREATE INDEX wf_tasks_due ON wf_tasks (state, due_at);
