-- A citizen's e-mail address for notices (办件进度 by e-mail besides SMS), optional, set only
-- after a code sent to it came back; encrypted like the phone.
ALTER TABLE users ADD COLUMN email_enc TEXT;
ALTER TABLE users ADD COLUMN email_verified_at TEXT;
