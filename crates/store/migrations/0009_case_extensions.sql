-- 延长审批: requests to extend a case's promised deadline by working days, and their decisions
-- (state: pending, approved, refused). At most one pending request per case.
CREATE TABLE case_extensions (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    days BIGINT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_name TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    state TEXT NOT NULL,
    decided_by TEXT,
    decided_name TEXT,
    decided_at TEXT,
    opinion TEXT,
    old_due TEXT,
    new_due TEXT
);
CREATE INDEX case_extensions_case ON case_extensions (case_id, requested_at);
CREATE UNIQUE INDEX case_extensions_pending ON case_extensions (case_id) WHERE state = 'pending';
