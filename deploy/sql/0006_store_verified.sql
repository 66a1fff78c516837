-- omnisync ledger, migration 0006: when a store was last checked against
-- what it really shows, so `omnisync status` never calls a store in sync
-- from the ledger's own bookkeeping alone (docs/status.md).  Written by
-- `omnisync reconcile` (services/ledger/stores.c, stores_verified_set()).
-- Never edit an applied migration; add a new file instead.

ALTER TABLE store
    ADD COLUMN verified_at     timestamptz,
    ADD COLUMN verified_by     text,
    ADD COLUMN verified_ok     boolean,
    ADD COLUMN verified_detail text;
