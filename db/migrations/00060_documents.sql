-- Supporting documents (issue 16): uploads and the documents of cases. The
-- bytes are in the blob store, encrypted; a row holds only the reference
-- (blob_ref, a keyed hash of the cleaned file) and what was learnt of it.
-- An upload starts unattached (application_id NULL) and expires at
-- expires_at unless an application names it; an upload made inside a case
-- is attached at once. deleted_at marks a document whose blob the retention
-- sweep removed (equal files share a blob, deleted with its last row).

-- +goose Up
CREATE TABLE documents (
    id             TEXT PRIMARY KEY,  -- the upload id: upl_ + 32 base32 characters
    kind           TEXT NOT NULL,
    media_type     TEXT NOT NULL,
    size_bytes     BIGINT NOT NULL,
    width          INTEGER NOT NULL DEFAULT 0,
    height         INTEGER NOT NULL DEFAULT 0,
    blob_ref       TEXT NOT NULL,
    application_id TEXT REFERENCES applications (id),
    uploaded_at    BIGINT NOT NULL,
    expires_at     BIGINT,            -- unattached uploads only
    attached_at    BIGINT,
    deleted_at     BIGINT
);
CREATE INDEX documents_application ON documents (application_id, uploaded_at);
CREATE INDEX documents_blob ON documents (blob_ref);
CREATE INDEX documents_expiry ON documents (expires_at);

-- +goose Down
DROP TABLE documents;
