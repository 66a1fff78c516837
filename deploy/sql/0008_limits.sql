-- omnisync ledger, migration 0008: limits the ledger enforces itself
-- (docs/limits.md).  A store name is part of every event key and Redis key
-- of its store: at most 64 bytes (STORE_NAME_MAX in ledger/stores.h).
-- NOT VALID: a store added before the limit keeps working as before;
-- such a store should be removed and added again under a shorter name.
-- Never edit an applied migration; add a new file instead.

ALTER TABLE store ADD CONSTRAINT store_name_max
    CHECK (octet_length(name) <= 64) NOT VALID;
