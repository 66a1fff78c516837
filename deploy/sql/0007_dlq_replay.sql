-- omnisync ledger, migration 0007: dead letters as a tool (`omnisync dlq`).
-- Each dlq_record row now says where its message is in omnisync.dlq.v1
-- (so `dlq show` and `dlq replay` can fetch its bytes), where it came from
-- (the original topic/partition/offset, or a free-form source), the store
-- the message named even when the ledger does not know it, and what an
-- operator did with it.  Never edit an applied migration; add a new file
-- instead.
--
-- state: 'open' (dead-lettered, counted as failed by `omnisync status`),
-- 'replayed' (re-published to its original topic replay_count times),
-- 'dropped' (an operator gave up on it; the Kafka record is untouched).
-- Rows written before this migration have no DLQ coordinates: they are
-- listed and can be dropped, not shown in full or replayed.
ALTER TABLE dlq_record
    ADD COLUMN store_name    text,
    ADD COLUMN topic         text NOT NULL DEFAULT '',
    ADD COLUMN "partition"   integer,
    ADD COLUMN "offset"      bigint,
    ADD COLUMN source        text,
    ADD COLUMN dlq_partition integer,
    ADD COLUMN dlq_offset    bigint,
    ADD COLUMN state         text NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'replayed', 'dropped')),
    ADD COLUMN replay_count  integer NOT NULL DEFAULT 0,
    ADD COLUMN replayed_at   timestamptz,
    ADD COLUMN dropped_at    timestamptz;

-- One row per DLQ record: a service that retries its ledger insert, or
-- writes a record another already wrote, adds nothing.
CREATE UNIQUE INDEX dlq_record_dlq_pos_idx
    ON dlq_record (dlq_partition, dlq_offset)
    WHERE dlq_offset IS NOT NULL;
CREATE INDEX dlq_record_state_idx ON dlq_record (state, created_at);
