-- omnisync ledger, migration 0015: documents of the back office
-- (docs/documents.md): supplier receipts, returns to suppliers, transfers
-- and write-offs, each with a number, a date, a counterparty, its
-- location(s) and lines.  Each line is one stock movement that references
-- its document.  Owned by services/ledger/documents.c (the movements stay
-- the stock module's).  Never edit an applied migration; add a new file.

-- number is the back office's own and unique: importing the same number
-- again with the same content (content_hash: SHA-256 of the canonical
-- JSON of the document) is a no-op, with other content an error.
CREATE TABLE document (
    id             bigserial PRIMARY KEY,
    number         text NOT NULL UNIQUE CHECK (number <> ''),
    kind           text NOT NULL CHECK (kind IN ('supplier_receipt',
                       'supplier_return', 'transfer', 'writeoff')),
    doc_date       date NOT NULL,
    counterparty   text,
    location_id    bigint NOT NULL REFERENCES location (id),
    to_location_id bigint REFERENCES location (id),
    content        jsonb NOT NULL,
    content_hash   text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'transfer') = (to_location_id IS NOT NULL))
);
CREATE INDEX document_date_idx ON document (doc_date);

-- The movement a document line became.  Set once, at insert (the ledger
-- stays append-only).
ALTER TABLE stock_movement ADD COLUMN document_id bigint REFERENCES document (id);
CREATE INDEX stock_movement_document_idx ON stock_movement (document_id)
    WHERE document_id IS NOT NULL;
