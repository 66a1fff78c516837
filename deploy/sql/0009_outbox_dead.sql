-- omnisync ledger, migration 0009: an outbox row that can never be
-- published (Kafka refuses the message itself: too large, invalid) is set
-- aside instead of blocking the outbox: sent_at is set so every reader of
-- the backlog moves on, dead_reason says why, and the row is never pruned.
-- The relay also notes it in dlq_record (service 'outbox-relay', entity
-- 'outbox').  Never edit an applied migration; add a new file instead.

ALTER TABLE outbox ADD COLUMN dead_reason text;
CREATE INDEX outbox_dead_idx ON outbox (id) WHERE dead_reason IS NOT NULL;
