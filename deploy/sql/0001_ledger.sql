-- omnisync ledger, migration 0001: the model of DOMAIN.md.
-- Applied by `omnisync db migrate` inside one transaction; never edit an
-- applied migration (its checksum is recorded), add a new file instead.

CREATE TABLE price_list (
    id          bigserial PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code <> ''),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE location (
    id            bigserial PRIMARY KEY,
    code          text NOT NULL UNIQUE CHECK (code <> ''),
    name          text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('warehouse', 'outlet', 'online')),
    price_list_id bigint REFERENCES price_list (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The nomenclature tree.  path is the '/'-joined chain of names from the
-- root, unique, so an import can find a group by its path.
CREATE TABLE product_group (
    id         bigserial PRIMARY KEY,
    parent_id  bigint REFERENCES product_group (id),
    name       text NOT NULL CHECK (name <> ''),
    path       text NOT NULL UNIQUE,
    UNIQUE (parent_id, name)
);

-- Option dictionaries: colour, size and any other user-defined option.
CREATE TABLE option_name (
    id    bigserial PRIMARY KEY,
    name  text NOT NULL UNIQUE CHECK (name <> '')
);

CREATE TABLE option_value (
    id             bigserial PRIMARY KEY,
    option_name_id bigint NOT NULL REFERENCES option_name (id),
    value          text NOT NULL CHECK (value <> ''),
    UNIQUE (option_name_id, value)
);

CREATE TABLE product (
    id          bigserial PRIMARY KEY,
    article     text NOT NULL UNIQUE CHECK (article <> ''),
    name        text NOT NULL CHECK (name <> ''),
    description text NOT NULL DEFAULT '',
    group_id    bigint REFERENCES product_group (id),
    archived    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE variant (
    id          bigserial PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES product (id),
    sku         text NOT NULL UNIQUE CHECK (sku <> ''),
    barcode     text,
    position    integer NOT NULL DEFAULT 0,
    archived    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX variant_product_idx ON variant (product_id);

CREATE TABLE variant_option (
    variant_id      bigint NOT NULL REFERENCES variant (id) ON DELETE CASCADE,
    option_name_id  bigint NOT NULL REFERENCES option_name (id),
    option_value_id bigint NOT NULL REFERENCES option_value (id),
    PRIMARY KEY (variant_id, option_name_id)
);

-- Photos of a product, in order.  sha256 is of the file's content at import.
CREATE TABLE product_photo (
    id          bigserial PRIMARY KEY,
    product_id  bigint NOT NULL REFERENCES product (id),
    position    integer NOT NULL CHECK (position > 0),
    path        text NOT NULL,
    sha256      text NOT NULL CHECK (length(sha256) = 64),
    UNIQUE (product_id, position)
);

CREATE TABLE price (
    price_list_id bigint NOT NULL REFERENCES price_list (id),
    variant_id    bigint NOT NULL REFERENCES variant (id),
    price         numeric(14, 2) NOT NULL CHECK (price >= 0),
    old_price     numeric(14, 2) CHECK (old_price >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (price_list_id, variant_id)
);

-- Integration settings of one online store.  The password is encrypted
-- with libsodium secretbox under OMNISYNC_SECRET_KEY (never stored plain).
CREATE TABLE store (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name <> ''),
    platform            text NOT NULL CHECK (platform IN ('insales')),
    url                 text NOT NULL,
    login               text NOT NULL,
    password_nonce      bytea NOT NULL CHECK (length(password_nonce) = 24),
    password_box        bytea NOT NULL CHECK (length(password_box) > 16),
    online_location_id  bigint NOT NULL UNIQUE REFERENCES location (id),
    price_list_id       bigint NOT NULL REFERENCES price_list (id),
    delivery_variant_id bigint NOT NULL REFERENCES variant (id),
    safety_stock        integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
    api_limit           integer NOT NULL DEFAULT 500 CHECK (api_limit > 0),
    api_window          integer NOT NULL DEFAULT 300 CHECK (api_window > 0),
    webhook_secret      text NOT NULL UNIQUE
                        CHECK (webhook_secret ~ '^[0-9a-f]{32}$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- The locations whose stock a store may sell, in reservation order.  The
-- online location is always position 0; --source-locations follow.
CREATE TABLE store_source (
    store_id    bigint NOT NULL REFERENCES store (id) ON DELETE CASCADE,
    location_id bigint NOT NULL REFERENCES location (id),
    position    integer NOT NULL,
    PRIMARY KEY (store_id, location_id),
    UNIQUE (store_id, position)
);
CREATE INDEX store_source_location_idx ON store_source (location_id);

-- Local id <-> the platform's id, per store.  payload_hash is the hash of
-- what was last sent, so an unchanged payload is not sent again.
CREATE TABLE remote_map (
    store_id     bigint NOT NULL REFERENCES store (id) ON DELETE CASCADE,
    entity       text NOT NULL
                 CHECK (entity IN ('category', 'product', 'variant', 'image')),
    local_id     bigint NOT NULL,
    remote_id    bigint NOT NULL,
    payload_hash text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, entity, local_id),
    UNIQUE (store_id, entity, remote_id)
);

-- Stock: the append-only movement ledger.  One movement is one business
-- operation (a transfer has two lines); idem_key makes a repeat a no-op.
CREATE TABLE stock_movement (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('receipt', 'sale', 'return',
                    'writeoff', 'transfer', 'count', 'reserve', 'release',
                    'ship')),
    idem_key    text UNIQUE,
    order_id    bigint,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stock_movement_line (
    movement_id    bigint NOT NULL REFERENCES stock_movement (id),
    line_no        integer NOT NULL,
    location_id    bigint NOT NULL REFERENCES location (id),
    variant_id     bigint NOT NULL REFERENCES variant (id),
    on_hand_delta  bigint NOT NULL DEFAULT 0,
    reserved_delta bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (movement_id, line_no)
);
CREATE INDEX stock_movement_line_variant_idx
    ON stock_movement_line (variant_id, location_id);

-- Current levels, updated in the same transaction as each movement.
CREATE TABLE stock_level (
    location_id bigint NOT NULL REFERENCES location (id),
    variant_id  bigint NOT NULL REFERENCES variant (id),
    on_hand     bigint NOT NULL DEFAULT 0,
    reserved    bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (location_id, variant_id)
);
CREATE INDEX stock_level_variant_idx ON stock_level (variant_id);

-- The ledger is append-only: movements are corrected by new movements.
-- TRUNCATE is refused too (it bypasses row triggers).
CREATE FUNCTION omnisync_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER stock_movement_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON stock_movement
    FOR EACH STATEMENT EXECUTE FUNCTION omnisync_append_only();
CREATE TRIGGER stock_movement_line_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON stock_movement_line
    FOR EACH STATEMENT EXECUTE FUNCTION omnisync_append_only();

-- Customer orders from online stores.
CREATE TABLE customer_order (
    id                bigserial PRIMARY KEY,
    store_id          bigint NOT NULL REFERENCES store (id),
    remote_id         bigint NOT NULL,
    number            text,
    status            text NOT NULL,
    financial_status  text,
    remote_updated_at timestamptz NOT NULL,
    attention_reason  text,
    total_price       numeric(14, 2),
    delivery_price    numeric(14, 2),
    client            jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (store_id, remote_id)
);

CREATE TABLE customer_order_line (
    order_id       bigint NOT NULL REFERENCES customer_order (id)
                   ON DELETE CASCADE,
    line_no        integer NOT NULL,
    remote_line_id bigint,
    variant_id     bigint REFERENCES variant (id),
    sku            text,
    title          text,
    quantity       bigint NOT NULL CHECK (quantity > 0),
    price          numeric(14, 2) NOT NULL,
    is_delivery    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (order_id, line_no)
);

-- The transactional outbox.  A row is written in the same transaction as
-- the change it announces, after the entity row is updated.  The relay
-- publishes unsent rows in id order and sets sent_at after the broker's
-- delivery report; event_id is the envelope "id" consumers de-duplicate on.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    topic       text NOT NULL,
    type        text NOT NULL,
    key         text NOT NULL,
    store       text,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;

-- Wake the relay at commit time (NOTIFY is delivered on commit only).
CREATE FUNCTION omnisync_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('omnisync_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION omnisync_outbox_notify();
