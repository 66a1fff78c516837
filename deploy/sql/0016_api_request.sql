-- omnisync ledger, migration 0016: ledger-api's idempotency keys for
-- batches that have no key of their own in the ledger (PUT /v1/catalog;
-- docs/ledger-api.md).  Owned by services/ledger/clients.c.  Never edit
-- an applied migration; add a new file instead.

-- One row per (client, route, key) whose batch committed: the row is
-- written in the batch's own transaction, so a key is recorded exactly
-- when its batch applied.  A repeat of the key answers `answer` (the
-- first result) with `status`; body_sha256 tells a repeat from another
-- body reusing the key.
CREATE TABLE api_request (
    client      text NOT NULL,
    route       text NOT NULL,
    idem_key    text NOT NULL
                CHECK (idem_key <> '' AND octet_length(idem_key) <= 200),
    body_sha256 text NOT NULL CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
    status      integer NOT NULL,
    answer      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client, route, idem_key)
);
