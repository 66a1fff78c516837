-- omnisync ledger, migration 0005: photos stored by content.  `import
-- catalog` reads each photo once and stores its bytes here, keyed by their
-- SHA-256, so image-uploader reads photos from the ledger and needs no
-- shared disk.  Owner: services/ledger/blob.c (the Postgres implementation
-- of the blob interface, services/ledger/blob.h).
-- Never edit an applied migration; add a new file instead.

CREATE TABLE photo_blob (
    sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes        bytea NOT NULL,
    size         bigint NOT NULL CHECK (size = length(bytes)),
    content_type text NOT NULL CHECK (content_type IN
                     ('image/jpeg', 'image/png', 'image/gif', 'image/webp')),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- product_photo.sha256 now names its bytes.  NOT VALID: rows imported
-- before this migration keep only the host path they were read from; SQL
-- cannot read host files, so `omnisync db migrate` fills their bytes after
-- applying this file (a post-step in C that reads each recorded path,
-- checks it and stores it, naming each photo it cannot read).  Every row
-- written from now on must have its bytes.
ALTER TABLE product_photo
    ADD CONSTRAINT product_photo_blob_fk FOREIGN KEY (sha256)
    REFERENCES photo_blob (sha256) NOT VALID;
