-- omnisync ledger, migration 0012: the catalog follows every change a shop
-- makes (issue 14).  Never edit an applied migration; add a new file
-- instead.

-- Products not (yet) for sale in a store's channel: catalog-publisher
-- skipped them for that store (no active variant with a price in the
-- store's price list, every variant archived) instead of dead-lettering
-- them.  A row is removed when the product is published or archived.
-- Counted by `omnisync status` and the omnisync_catalog_not_for_sale
-- gauge.  Owned by services/ledger/not_for_sale.c.
CREATE TABLE not_for_sale (
    store_id   bigint NOT NULL REFERENCES store (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES product (id),
    reason     text NOT NULL CHECK (reason <> ''),
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, product_id)
);

-- The photo set of a product as catalog-publisher last brought a store's
-- images in line with it (docs/image-uploader.md "Removed, replaced and
-- reordered photos"): remote_map entity 'photoset', local id the product,
-- remote id the store's product, payload_hash the hash of the product's
-- (position, sha256) list.  A different hash makes the publisher list the
-- store's images once and delete, re-map and reposition them.
ALTER TABLE remote_map DROP CONSTRAINT remote_map_entity_check;
ALTER TABLE remote_map ADD CONSTRAINT remote_map_entity_check
    CHECK (entity IN ('category', 'product', 'variant', 'image', 'photoset'));
