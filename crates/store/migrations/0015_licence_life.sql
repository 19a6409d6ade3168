-- The life of licences after issue, and copies of materials.
--
-- A copy checked against its original (trust B) records when; its watermarked copies are valid
-- for a year from then.
ALTER TABLE case_materials ADD COLUMN verified_at TEXT;

-- Licences taken over from earlier systems (bulk import): their number there, once per type, so
-- that importing the same file again adds nothing twice.
ALTER TABLE licences ADD COLUMN source_number TEXT;
CREATE UNIQUE INDEX licences_source ON licences (type_code, source_number);

-- Expiry on schedule: `soon` once the holder was told the licence expires within 30 days;
-- status `expired` once its last day has passed (set by the expiry sweep).
ALTER TABLE licences ADD COLUMN expiry_notice TEXT;
CREATE INDEX licences_expiry ON licences (status, valid_to);

-- 授权用证: the holder shares one licence with one case (someone else's, say a spouse's
-- application), so that the department handling that case may fetch it; withdrawn at will.
CREATE TABLE licence_shares (
    licence_id TEXT NOT NULL REFERENCES licences (id),
    case_id TEXT NOT NULL REFERENCES cases (id),
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    withdrawn_at TEXT,
    PRIMARY KEY (licence_id, case_id)
);
CREATE INDEX licence_shares_case ON licence_shares (case_id);
