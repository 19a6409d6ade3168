-- A case's pending events are read by subject and topic in order of creation. With the order in
-- the index the planner takes it on both databases; without statistics SQLite preferred
-- `outbox_topic`, which walks every event of the topic ever written, so each request that
-- handled its case's events got slower as the outbox grew.
DROP INDEX outbox_subject;
CREATE INDEX outbox_subject ON outbox (subject, topic, created_at);
