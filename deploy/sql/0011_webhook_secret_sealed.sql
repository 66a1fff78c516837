-- omnisync ledger, migration 0011: the webhook secret sealed at rest
-- (docs/order-ingestor.md "The webhook secret at rest").  Until now the
-- store row kept its 32-hex webhook secret in clear; whoever could read
-- the table could post orders as the store.  From here on it is sealed
-- like the API password (libsodium secretbox under OMNISYNC_SECRET_KEY,
-- webhook_nonce + webhook_box) and only its SHA-256 (webhook_hash) stays
-- readable, for the uniqueness the plain column had.  Owned by
-- services/ledger/stores.c.
--
-- SQL cannot seal: this file computes the hash and relaxes the plain
-- column; `omnisync db migrate` then seals every row that still has a
-- plain secret and clears it in the same step (stores_webhook_seal_plain(),
-- which needs OMNISYNC_SECRET_KEY when there are such rows).  Never edit
-- an applied migration; add a new file instead.

ALTER TABLE store
    ADD COLUMN webhook_nonce bytea CHECK (length(webhook_nonce) = 24),
    ADD COLUMN webhook_box   bytea CHECK (length(webhook_box) = 48),
    ADD COLUMN webhook_hash  bytea UNIQUE CHECK (length(webhook_hash) = 32);

UPDATE store SET webhook_hash = sha256(convert_to(webhook_secret, 'UTF8'));

ALTER TABLE store
    ALTER COLUMN webhook_hash SET NOT NULL,
    ALTER COLUMN webhook_secret DROP NOT NULL,
    -- Exactly one form: plain (a row from before this migration, until
    -- db migrate seals it) or sealed.
    ADD CONSTRAINT store_webhook_one_form CHECK (
        (webhook_secret IS NULL) =
        (webhook_nonce IS NOT NULL AND webhook_box IS NOT NULL));
