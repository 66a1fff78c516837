-- omnisync ledger, migration 0013: order changes, operators' decisions on
-- orders that need attention, store settings changed after `store add`
-- (docs/order-ingestor.md, docs/cli.md).  Never edit an applied migration;
-- add a new file instead.

-- Where an order's stock comes back when it is returned or cancelled after
-- it shipped: NULL means the store's online location (the documented
-- default; `omnisync store add|set --return-location`).
ALTER TABLE store
    ADD COLUMN return_location_id bigint REFERENCES location (id),
    -- `omnisync store remove`: the store is no longer synced (no service
    -- loads it); its orders, movements and remote ids stay as history.
    ADD COLUMN removed_at timestamptz;

-- An operator's decision on a needs-attention order (`omnisync orders
-- resolve`): resolution holds the line decisions
-- ({"lines":[{"line","remote_line_id","sku","map"|"drop"}]}), kept so later
-- versions of the order apply them too; resolved_by and resolved_at say
-- who decided and when.
ALTER TABLE customer_order
    ADD COLUMN resolution jsonb,
    ADD COLUMN resolved_by text,
    ADD COLUMN resolved_at timestamptz;

-- Why one line needs attention (unknown SKU, short reservation), shown per
-- line by `omnisync orders list --needs-attention`; dropped marks a line
-- the operator dropped (kept, never reserved).
ALTER TABLE customer_order_line
    ADD COLUMN attention text,
    ADD COLUMN dropped boolean NOT NULL DEFAULT false;
