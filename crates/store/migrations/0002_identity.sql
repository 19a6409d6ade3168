-- Unified identity (统一身份认证): staff role assignments in several organisations, citizen and
-- enterprise accounts with real-name levels, agents, one-time codes, throttling, the
-- hash-chained audit log and the OpenID Connect provider's clients, codes, tokens and keys.
--
-- Personal data (居民身份证号码, mobile numbers, TOTP secrets, signing keys) is stored only
-- encrypted (`*_enc`: SM4, `<key id>$<base64url>`), looked up through keyed SM3 blind indexes
-- (`*_bidx`). Portable SQL as in 0001: TEXT and BIGINT only, times as fixed-width UTC text.

-- A staff member may hold several roles in several organisations. `staff.org` stays the home
-- organisation; `staff.roles` is kept for compatibility and no longer read.
CREATE TABLE staff_roles (
    staff_id TEXT NOT NULL REFERENCES staff (id),
    role TEXT NOT NULL,
    org TEXT NOT NULL REFERENCES organisations (credit_code),
    granted_by TEXT,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (staff_id, role, org)
);
CREATE INDEX staff_roles_org ON staff_roles (org);

INSERT INTO staff_roles (staff_id, role, org, granted_by, granted_at)
SELECT id, 'item_manager', org, NULL, created_at FROM staff
WHERE (',' || roles || ',') LIKE '%,item_manager,%';
INSERT INTO staff_roles (staff_id, role, org, granted_by, granted_at)
SELECT id, 'item_reviewer', org, NULL, created_at FROM staff
WHERE (',' || roles || ',') LIKE '%,item_reviewer,%';
INSERT INTO staff_roles (staff_id, role, org, granted_by, granted_at)
SELECT id, 'system_admin', org, NULL, created_at FROM staff
WHERE (',' || roles || ',') LIKE '%,system_admin,%';

ALTER TABLE staff ADD COLUMN totp_secret_enc TEXT;
ALTER TABLE staff ADD COLUMN totp_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN password_changed_at TEXT;
ALTER TABLE staff ADD COLUMN phone_enc TEXT;

-- The organisation a staff session acts in (one of the staff member's assignments), and
-- whether the second factor was passed.
ALTER TABLE sessions ADD COLUMN active_org TEXT;
ALTER TABLE sessions ADD COLUMN mfa BIGINT NOT NULL DEFAULT 0;

-- Citizens (自然人) and the people behind enterprise accounts.
-- level: 1 format-checked, 2 verified against the population library, 3 verified in person.
-- status: pending (phone not yet confirmed), active, disabled.
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    id_number_enc TEXT NOT NULL,
    id_number_bidx TEXT NOT NULL UNIQUE,
    id_number_masked TEXT NOT NULL,
    phone_enc TEXT NOT NULL,
    phone_bidx TEXT NOT NULL UNIQUE,
    phone_masked TEXT NOT NULL,
    key_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    level BIGINT NOT NULL,
    level_at TEXT,
    level_by TEXT,
    failed_logins BIGINT NOT NULL,
    locked_until TEXT,
    password_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Enterprise (法人) accounts: bound to a 统一社会信用代码 verified in the legal-person library,
-- owned by the legal representative's user account.
CREATE TABLE enterprises (
    credit_code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    region TEXT NOT NULL,
    legal_rep_user TEXT NOT NULL REFERENCES users (id),
    verified_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX enterprises_rep ON enterprises (legal_rep_user);

-- 经办人 authorisations: who may act for an enterprise, for which items, until when.
-- scope: JSON array of 基本编码 (12 characters), or ["*"] for every item.
CREATE TABLE agent_grants (
    id TEXT PRIMARY KEY,
    enterprise TEXT NOT NULL REFERENCES enterprises (credit_code),
    agent_user TEXT NOT NULL REFERENCES users (id),
    scope TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE INDEX agent_grants_agent ON agent_grants (agent_user);
CREATE INDEX agent_grants_enterprise ON agent_grants (enterprise);

-- Sessions of citizens and agents (staff sessions are in `sessions`). acting_for: the
-- enterprise the user acts for in this session, if any.
CREATE TABLE user_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf TEXT NOT NULL,
    acting_for TEXT,
    auth_method TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- One-time codes sent by SMS: only the SM3 hash of the code is kept. target_bidx: the blind
-- index of the phone number they were sent to.
CREATE TABLE otp_codes (
    id TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    target_bidx TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX otp_codes_target ON otp_codes (target_bidx, purpose);

-- Failure counters with back-off, per account and per client address (`user:…`, `staff:…`,
-- `ip:…`), shared by every node.
CREATE TABLE throttles (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locks BIGINT NOT NULL,
    locked_until TEXT,
    updated_at TEXT NOT NULL
);

-- The audit log: append-only, each entry's hash = SM3(previous hash, entry). seq has no gaps.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ip TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- OpenID Connect: registered client systems (secrets stored as Argon2id hashes).
CREATE TABLE oidc_clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    disabled BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Authorization codes (single use, short-lived; SM3 hash of the code as key).
CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oidc_clients (client_id),
    subject TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT NOT NULL,
    auth_time TEXT NOT NULL,
    sid TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);

-- Refresh tokens, rotated on every use; a reused token revokes its whole family.
CREATE TABLE oidc_refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_clients (client_id),
    subject TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time TEXT NOT NULL,
    sid TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX oidc_refresh_family ON oidc_refresh_tokens (family);

-- Signing keys of ID tokens (private key encrypted like personal data).
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_enc TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

-- The head of the audit chain: one row, updated by every append, so appends from concurrent
-- transactions (and nodes) take turns and the sequence has no gaps.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
