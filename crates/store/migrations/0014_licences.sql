-- Electronic seals (电子印章, GB/T 38540) and licences (电子证照, GB/T 36901-36906).

-- An organisation's seals. The SM2 private key is sealed (SM4-GCM) under the seal master key
-- from configuration; the public key is published. status: active (signs), retired (rotated:
-- verifies old signatures, signs no more), revoked (signatures made after revoked_at fail).
CREATE TABLE seals (
    id TEXT PRIMARY KEY,
    org_code TEXT NOT NULL REFERENCES organisations (credit_code),
    name TEXT NOT NULL,
    seal_type TEXT NOT NULL,
    distid TEXT NOT NULL,
    public_key TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    retired_at TEXT,
    revoked_at TEXT,
    revoked_reason TEXT
);
CREATE INDEX seals_org ON seals (org_code, status);

-- Every use of a seal: what it signed, for whom, when.
CREATE TABLE seal_uses (
    id TEXT PRIMARY KEY,
    seal_id TEXT NOT NULL REFERENCES seals (id),
    used_at TEXT NOT NULL,
    purpose TEXT NOT NULL,
    subject TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX seal_uses_seal ON seal_uses (seal_id, used_at);

-- 证照目录: licence types. fields: JSON list of {key, label, source}; layout: JSON.
CREATE TABLE licence_types (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    holder_kind TEXT NOT NULL,
    fields TEXT NOT NULL,
    validity_years BIGINT,
    layout TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Items whose approved cases produce a licence of the type.
CREATE TABLE licence_type_items (
    type_code TEXT NOT NULL REFERENCES licence_types (code),
    item_code TEXT NOT NULL,
    PRIMARY KEY (item_code, type_code)
);

-- 电子证照库. `data` is the signed document (canonical JSON), sealed under the personal-data
-- ring like every personal field; the holder's code is found by its blind index.
-- status: valid, suspended, revoked, superseded (a newer version exists). file_id: its PDF.
CREATE TABLE licences (
    id TEXT PRIMARY KEY,
    type_code TEXT NOT NULL REFERENCES licence_types (code),
    name TEXT NOT NULL,
    number TEXT NOT NULL,
    serial TEXT NOT NULL,
    version BIGINT NOT NULL,
    holder_name TEXT NOT NULL,
    holder_code_type TEXT NOT NULL,
    holder_code_index TEXT NOT NULL,
    holder_user TEXT,
    issuer_name TEXT NOT NULL,
    issuer_code TEXT NOT NULL,
    region TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    data_sealed TEXT NOT NULL,
    signature TEXT NOT NULL,
    seal_id TEXT NOT NULL REFERENCES seals (id),
    status TEXT NOT NULL,
    status_reason TEXT,
    status_at TEXT,
    case_id TEXT,
    file_id TEXT REFERENCES files (id),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX licences_case_type ON licences (case_id, type_code, version);
CREATE INDEX licences_holder ON licences (holder_code_index, issued_on);
CREATE INDEX licences_user ON licences (holder_user, issued_on);
CREATE INDEX licences_issuer ON licences (issuer_code, issued_on);

-- Every use of a licence: by its holder for a case (用证, consent by applying), or fetched by a
-- department for a named case of the holder, or on a legal basis; the holder sees them all.
CREATE TABLE licence_uses (
    id TEXT PRIMARY KEY,
    licence_id TEXT NOT NULL REFERENCES licences (id),
    used_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    org TEXT,
    case_id TEXT,
    basis TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX licence_uses_licence ON licence_uses (licence_id, used_at);

-- A material's trust level (A issued and sealed, B checked against the original at a window,
-- C uploaded, D the applicant's promise), and who raised it.
ALTER TABLE case_materials ADD COLUMN trust TEXT NOT NULL DEFAULT 'C';
ALTER TABLE case_materials ADD COLUMN verified_by TEXT;
