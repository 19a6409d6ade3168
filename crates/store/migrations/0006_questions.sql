-- 我要问: citizens' questions about an item, answered by the item's implementing organisation
-- within a limit in working days, and answers published on the item's guide as 常见问题 (FAQ).
-- Portable SQL as in 0001.
--
-- The question and the answer may hold personal data (names, ID numbers, circumstances), so
-- they are SM4-encrypted as the cases' personal data are (`*_enc`, key id inside each value,
-- `key_id` the key of the row's last write), with the asker's contact phone at the time of
-- asking. The guide shows only `faq_question` / `faq_answer`: staff's copy with personal
-- details removed, in clear, set when the answer is published.
--
-- state: open | answered | closed. `due_at` is the end of office hours of the `limit_days`th
-- working day after the day of asking. `closed_by` is `asker` (withdrawn) or the staff id of
-- whoever closed it with `close_reason`. Every write is guarded by `rev` (optimistic locking).
CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    item_code TEXT NOT NULL REFERENCES items (code),
    item_name TEXT NOT NULL,
    org TEXT NOT NULL,
    asker_user TEXT NOT NULL REFERENCES users (id),
    asker_name_masked TEXT NOT NULL,
    contact_enc TEXT NOT NULL,
    contact_masked TEXT NOT NULL,
    question_enc TEXT NOT NULL,
    answer_enc TEXT,
    key_id TEXT NOT NULL,
    state TEXT NOT NULL,
    limit_days BIGINT NOT NULL,
    asked_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    answered_by TEXT REFERENCES staff (id),
    answered_by_name TEXT,
    answered_at TEXT,
    closed_at TEXT,
    closed_by TEXT,
    close_reason TEXT NOT NULL,
    published BIGINT NOT NULL,
    faq_question TEXT NOT NULL,
    faq_answer TEXT NOT NULL,
    published_at TEXT,
    published_by TEXT,
    rev BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX questions_asker ON questions (asker_user, state, asked_at);
CREATE INDEX questions_org_state ON questions (org, state, due_at);
CREATE INDEX questions_faq ON questions (published, item_code);
