-- omnisync ledger, migration 0014: the clients of ledger-api
-- (docs/ledger-api.md).  Owned by services/ledger/clients.c.  Never edit
-- an applied migration; add a new file instead.

-- One row per client system (a back office, a POS, a till gateway).  The
-- bearer token is shown once by `omnisync client add` and stored only as
-- its SHA-256 (hex): a read of this table gives no usable token.  scopes
-- are the API areas the client may use; revoked_at set: refused.
CREATE TABLE api_client (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name <> ''),
    token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);
