-- 好差评 (国办发〔2019〕51号): one rating per case per channel, five levels and the national
-- indicator scores; invitations to rate cases left unrated; a bad rating opens a
-- rectification order (整改) for the handling unit, whose outcome goes back to the rater, who
-- may rate the fix; a malicious rating can be appealed and, if a supervisor agrees, excluded.

-- level: 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
-- channel: web, mobile, window (评价器 at the window), sms (the link in an SMS).
-- status: valid, excluded (found malicious on appeal).
CREATE TABLE ratings (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    case_no TEXT NOT NULL,
    item_code TEXT NOT NULL,
    org TEXT NOT NULL,
    region TEXT NOT NULL,
    channel TEXT NOT NULL,
    level BIGINT NOT NULL,
    scores TEXT NOT NULL,
    comment TEXT NOT NULL,
    real_name BIGINT NOT NULL,
    rater_user TEXT,
    rated_at TEXT NOT NULL,
    status TEXT NOT NULL,
    UNIQUE (case_id, channel)
);
CREATE INDEX ratings_org ON ratings (org, rated_at);
CREATE INDEX ratings_region ON ratings (region, rated_at);
CREATE INDEX ratings_rated ON ratings (rated_at);

-- One invitation per case (sent 3 days after the case finished, if still unrated), with the
-- token of its SMS link (stored as its SHA-256).
CREATE TABLE rating_invitations (
    case_id TEXT PRIMARY KEY REFERENCES cases (id),
    token_hash TEXT NOT NULL UNIQUE,
    sent_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- status: open (the unit must act), answered (outcome sent to the rater), and the appeal of a
-- malicious rating: appeal_status pending, upheld (rating excluded), rejected.
-- action: return_visit 回访, rectified 整改, explained 说明.
CREATE TABLE rectifications (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    rating_id TEXT NOT NULL UNIQUE REFERENCES ratings (id),
    case_id TEXT NOT NULL,
    org TEXT NOT NULL,
    region TEXT NOT NULL,
    real_name BIGINT NOT NULL,
    opened_at TEXT NOT NULL,
    due_at TEXT NOT NULL,
    status TEXT NOT NULL,
    action TEXT,
    outcome TEXT,
    answered_by TEXT,
    answered_at TEXT,
    fix_level BIGINT,
    fix_comment TEXT,
    fix_rated_at TEXT,
    appeal_reason TEXT,
    appeal_status TEXT,
    appealed_by TEXT,
    appealed_at TEXT,
    appeal_decision TEXT,
    appeal_decided_by TEXT,
    appeal_decided_at TEXT
);
CREATE INDEX rectifications_org ON rectifications (org, status);
CREATE INDEX rectifications_region ON rectifications (region, opened_at);

-- Cases finished, for the invitation sweep and the evaluation.
CREATE INDEX cases_decided ON cases (decided_at);
