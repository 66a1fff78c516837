-- omnisync ledger, migration 0004: the store platform is validated by the
-- platform registry (services/store/platform.c), not by the schema, so a
-- second platform touches its folder, the registry and store-sim only.
-- Never edit an applied migration; add a new file instead.

ALTER TABLE store DROP CONSTRAINT IF EXISTS store_platform_check;
ALTER TABLE store ADD CONSTRAINT store_platform_check CHECK (platform <> '');
