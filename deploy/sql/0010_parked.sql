-- omnisync ledger, migration 0010: work parked per store (docs/isolation.md).
-- When a store answers a call with a transient failure (5xx, timeout, its
-- rate limit), the service parks that store's piece of work here and goes
-- on with the other stores; a retry pass publishes it again when the
-- store's next attempt is due.  Owned by services/ledger/parked.c.  Never
-- edit an applied migration; add a new file instead.

-- One row per store, kind and entity: kind 'catalog' (entity = product
-- id), 'image' (entity = photo id).  payload is the latest message's data
-- for that store and entity (state-carrying: a newer message replaces it,
-- seq counts the replacements so a retry never deletes a newer one).
-- attempts and next_attempt_at are the store's backoff: every row of a
-- store and kind shares next_attempt_at.  claimed_until is a short lease
-- taken by the replica that is retrying the row.
CREATE TABLE parked (
    store_id        bigint NOT NULL REFERENCES store (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind <> ''),
    entity          text NOT NULL CHECK (entity <> ''),
    payload         jsonb NOT NULL,
    seq             bigint NOT NULL DEFAULT 1,
    attempts        integer NOT NULL DEFAULT 0,
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    last_error      text NOT NULL DEFAULT '',
    PRIMARY KEY (store_id, kind, entity)
);
CREATE INDEX parked_due_idx ON parked (kind, next_attempt_at);
