-- omnisync ledger, migration 0017: variant_option checks its option with
-- one foreign key instead of two (catalog import speed; docs/bench.md
-- "Catalog import time").  Owned by services/ledger/catalog.c.  Never
-- edit an applied migration; add a new file instead.

-- A variant's option value must be a value of that option: the composite
-- key (option_value_id, option_name_id) -> option_value (id,
-- option_name_id) says so, and through option_value's own key it also
-- says that option_name_id names an option.  It replaces the two
-- separate keys, so each variant_option row written costs two
-- foreign-key checks (variant, value) instead of three.
ALTER TABLE option_value
    ADD CONSTRAINT option_value_id_name_key UNIQUE (id, option_name_id);

ALTER TABLE variant_option
    ADD CONSTRAINT variant_option_value_fkey
        FOREIGN KEY (option_value_id, option_name_id)
        REFERENCES option_value (id, option_name_id),
    DROP CONSTRAINT variant_option_option_name_id_fkey,
    DROP CONSTRAINT variant_option_option_value_id_fkey;
