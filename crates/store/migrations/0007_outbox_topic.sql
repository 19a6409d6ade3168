-- Consumers read the outbox by topic in order of creation; the request path only looks at the
-- last minutes (see yiwang_services::cases::events::drain_recent).
CREATE INDEX outbox_topic ON outbox (topic, created_at);
