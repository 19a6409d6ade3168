-- What an outbox event is about: the case for a case's events and its approval process's events
-- (a process's business key is its case), NULL for others. The request that emitted an event
-- handles its own subject's events at once through this index (see
-- yiwang_services::cases::events::drain_case); the periodic drain handles everything else.
ALTER TABLE outbox ADD COLUMN subject TEXT;
CREATE INDEX outbox_subject ON outbox (subject, topic);
