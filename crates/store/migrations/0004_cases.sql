-- Cases (办件): applications from submission to delivery, their process records (办件过程信息,
-- append-only, SM3-chained per case), their materials and the files behind them, the notices
-- issued, and the applicants' in-site messages. Portable SQL as in 0001.
--
-- Every state change of a case is one transaction: the case row (optimistic `rev`), one or
-- more process records continuing the case's chain (`rseq`, `rhash` are its head) and an
-- outbox event.

-- An item's application form (申请表单): the form specification as JSON (yiwang_domain::form).
-- Items without a row have no extra fields: the applicant's identity and materials suffice.
CREATE TABLE item_forms (
    item_code TEXT PRIMARY KEY REFERENCES items (code),
    spec TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- state: see yiwang_domain::case::CaseState. `case_no` is given at submission.
-- Personal data (the applicant's ID number or credit code, contact phone, form values, postal
-- address) is SM4-encrypted under `key_id`; `applicant_id_bidx` is its blind index.
-- `submit_key` makes submission idempotent (a retried request finds the case it made).
-- `corrections` is the open 一次性告知 list (JSON). `due_at` is the promised completion
-- (承诺办结) once accepted, moved by paused working time; `paused_at` is when the clock stopped.
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    case_no TEXT UNIQUE,
    item_code TEXT NOT NULL REFERENCES items (code),
    item_version BIGINT NOT NULL,
    item_name TEXT NOT NULL,
    org TEXT NOT NULL,
    case_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    applicant_kind TEXT NOT NULL,
    owner_user TEXT,
    applicant_name TEXT NOT NULL,
    applicant_id_enc TEXT NOT NULL,
    applicant_id_bidx TEXT NOT NULL,
    applicant_id_masked TEXT NOT NULL,
    phone_enc TEXT NOT NULL,
    form_enc TEXT NOT NULL,
    key_id TEXT NOT NULL,
    state TEXT NOT NULL,
    rev BIGINT NOT NULL,
    submit_key TEXT UNIQUE,
    corrections TEXT NOT NULL,
    promised_days BIGINT NOT NULL,
    due_at TEXT,
    paused_at TEXT,
    wf_instance TEXT,
    decision_opinion TEXT NOT NULL,
    delivery TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    submitted_at TEXT,
    accepted_at TEXT,
    decided_at TEXT,
    delivered_at TEXT,
    updated_at TEXT NOT NULL,
    rseq BIGINT NOT NULL,
    rhash TEXT NOT NULL
);
CREATE INDEX cases_owner ON cases (owner_user, updated_at);
CREATE INDEX cases_org_state ON cases (org, state, submitted_at);
CREATE INDEX cases_applicant ON cases (applicant_id_bidx);

-- 办件过程信息 (GB/T 39046): `hash` = SM3(prev_hash ‖ 0 ‖ record) over the record's fields
-- (yiwang_domain::case::ProcessRecord::chain_bytes), per case from the genesis hash.
CREATE TABLE case_records (
    case_id TEXT NOT NULL REFERENCES cases (id),
    seq BIGINT NOT NULL,
    case_no TEXT NOT NULL,
    step TEXT NOT NULL,
    handler TEXT NOT NULL,
    handler_id TEXT NOT NULL,
    action TEXT NOT NULL,
    opinion TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    status TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);

-- Stored files: the object store keeps the bytes under `id`; `sm3` is checked on every read.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    sm3 TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- The files handed in for each material of the item's guide (`slot`: its position there).
CREATE TABLE case_materials (
    case_id TEXT NOT NULL REFERENCES cases (id),
    slot BIGINT NOT NULL,
    file_id TEXT NOT NULL REFERENCES files (id),
    material TEXT NOT NULL,
    added_at TEXT NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (case_id, slot, file_id)
);

-- Daily case-number sequences, per item and registration date (实施编码 + yyyyMMdd).
CREATE TABLE case_sequences (
    prefix TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- Notices and decisions issued for a case (受理通知书, 补正材料通知书, …): the PDF in `files`.
CREATE TABLE case_documents (
    case_id TEXT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    doc_no TEXT NOT NULL,
    file_id TEXT NOT NULL REFERENCES files (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, doc_no)
);

-- In-site messages to applicants (站内消息).
CREATE TABLE user_messages (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    case_id TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX user_messages_user ON user_messages (user_id, created_at);

-- Which outbox events each consumer has handled (one row per event and consumer, written in
-- the transaction that handles it).
CREATE TABLE outbox_done (
    consumer TEXT NOT NULL,
    event_id TEXT NOT NULL,
    done_at TEXT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);
