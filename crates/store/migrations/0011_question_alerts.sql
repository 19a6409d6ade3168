-- 我要问: when the organisation was reminded that an open question passed its answer deadline
-- (once per question; set in the statement that claims the reminder, so one node sends it).
ALTER TABLE questions ADD COLUMN overdue_alerted_at TEXT;
