-- omnisync ledger, migration 0002: online orders (order-ingestor).
-- Never edit an applied migration; add a new file instead.

-- The polling backstop's position per store: the documented inSales loop
-- (INSALES.md §2.2) resumes from updated_since = the last order's
-- updated_at (text exactly as the store sent it) and from_id = its id.
-- Written only after the orders up to it are on Kafka.
CREATE TABLE order_poll_cursor (
    store_id      bigint PRIMARY KEY REFERENCES store (id) ON DELETE CASCADE,
    updated_since text NOT NULL,
    from_id       bigint NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- customer_order.status is the store's fulfillment status, or
-- 'needs_attention' while attention_reason is set; the store's status is
-- kept in fulfillment_status either way.  stock_state is what the ledger
-- did with the order's stock (none, reserved, shipped, released,
-- returned): each transition happens once.  raw is the latest applied
-- version as received; received_at is when the intake received the
-- version that created the order, applied_at when that was committed.
ALTER TABLE customer_order
    ADD COLUMN fulfillment_status text,
    ADD COLUMN stock_state text NOT NULL DEFAULT 'none'
        CHECK (stock_state IN ('none', 'reserved', 'shipped', 'released',
                               'returned')),
    ADD COLUMN raw jsonb,
    ADD COLUMN received_at timestamptz,
    ADD COLUMN applied_at timestamptz;

CREATE INDEX customer_order_attention_idx ON customer_order (store_id)
    WHERE attention_reason IS NOT NULL;
CREATE INDEX stock_movement_order_idx ON stock_movement (order_id)
    WHERE order_id IS NOT NULL;
