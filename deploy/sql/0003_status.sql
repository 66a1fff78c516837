-- omnisync ledger, migration 0003: what the services dead-lettered, per
-- store, so `omnisync status` and `omnisync sync` can count failures
-- without reading the DLQ topic.  Never edit an applied migration; add a
-- new file instead.

-- One row per DLQ record a service wrote (after the broker acknowledged
-- it).  entity/local_id name the ledger object when there is one
-- ('product' + product.id, 'image' + product_photo.id); store_id is NULL
-- when the message named no known store.
CREATE TABLE dlq_record (
    id          bigserial PRIMARY KEY,
    store_id    bigint REFERENCES store (id) ON DELETE CASCADE,
    service     text NOT NULL,
    entity      text,
    local_id    bigint,
    key         text NOT NULL DEFAULT '',
    reason      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dlq_record_store_idx ON dlq_record (store_id, entity, local_id);
