-- The foundation: master data, the service-item catalogue (政务服务事项库), staff and sessions.
-- Portable SQL: the same file runs on SQLite and PostgreSQL. TEXT and BIGINT only; times are
-- fixed-width UTC text; JSON documents are TEXT.

CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    short_name TEXT NOT NULL,
    parent TEXT REFERENCES regions (code),
    level TEXT NOT NULL,
    phone_area TEXT NOT NULL,
    center TEXT NOT NULL,
    center_address TEXT NOT NULL,
    hours TEXT NOT NULL
);

CREATE TABLE departments (
    key TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE organisations (
    credit_code TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL REFERENCES regions (code),
    level TEXT NOT NULL,
    department TEXT REFERENCES departments (key),
    address TEXT NOT NULL,
    hours TEXT NOT NULL,
    consult_phone TEXT NOT NULL,
    complaint_phone TEXT NOT NULL
);
CREATE INDEX organisations_region ON organisations (region);

CREATE TABLE themes (
    key TEXT PRIMARY KEY,
    object TEXT NOT NULL,
    name TEXT NOT NULL,
    sort BIGINT NOT NULL
);

-- 目录清单: the provincial catalogue; implementation items are made from its entries.
CREATE TABLE catalogue_items (
    basic_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    item_type TEXT NOT NULL,
    department TEXT NOT NULL REFERENCES departments (key),
    levels TEXT NOT NULL,
    template TEXT NOT NULL,
    phrases TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- 实施清单: one row per implementation item; its content lives in item_versions.
CREATE TABLE items (
    code TEXT PRIMARY KEY,
    basic_code TEXT NOT NULL REFERENCES catalogue_items (basic_code),
    org TEXT NOT NULL REFERENCES organisations (credit_code),
    region TEXT NOT NULL REFERENCES regions (code),
    level TEXT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    name TEXT NOT NULL,
    published_version BIGINT,
    latest_version BIGINT NOT NULL,
    popularity BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX items_org ON items (org);
CREATE INDEX items_state ON items (state);

-- A published version is never updated again (the service layer only ever changes its status
-- from published to superseded).
CREATE TABLE item_versions (
    item_code TEXT NOT NULL REFERENCES items (code),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    change_kind TEXT NOT NULL,
    guide TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_by TEXT,
    submitted_at TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    review_comment TEXT,
    published_at TEXT,
    PRIMARY KEY (item_code, version)
);
CREATE INDEX item_versions_status ON item_versions (status);

-- Who did what and when, per item: append-only.
CREATE TABLE item_events (
    id TEXT PRIMARY KEY,
    item_code TEXT NOT NULL REFERENCES items (code),
    version BIGINT,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    actor_org TEXT NOT NULL,
    comment TEXT,
    at TEXT NOT NULL
);
CREATE INDEX item_events_item ON item_events (item_code, at);

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    org TEXT NOT NULL REFERENCES organisations (credit_code),
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff (id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX sessions_staff ON sessions (staff_id);

-- Transactional outbox: events written in the same transaction as the change they announce.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    processed_at TEXT
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
