-- Chambers of commerce: accounts, member rosters, bulk submissions.

-- +goose Up
CREATE TABLE chambers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A chamber account's token is scoped to its chamber.
ALTER TABLE users ADD COLUMN chamber_id TEXT REFERENCES chambers (id);

-- Members as the chamber declares them. Passport numbers are kept only as a
-- keyed hash (for matching) and a masked hint (for the chamber's own listing).
CREATE TABLE chamber_members (
    chamber_id        TEXT NOT NULL REFERENCES chambers (id),
    membership_number TEXT NOT NULL,
    surname           TEXT NOT NULL,
    given_names       TEXT NOT NULL,
    date_of_birth     TEXT NOT NULL,
    nationality       TEXT NOT NULL,
    passport_hash     TEXT NOT NULL,
    passport_hint     TEXT NOT NULL,
    status            TEXT NOT NULL,
    valid_until       TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (chamber_id, membership_number)
);

-- The chamber that endorsed an application (submitted it for its member), and the batch it came in.
ALTER TABLE applications ADD COLUMN endorsed_by_chamber TEXT REFERENCES chambers (id);
ALTER TABLE applications ADD COLUMN batch_id TEXT;
-- Why validation closed a case as ineligible (JSON field errors, no PII), for the read model.
ALTER TABLE applications ADD COLUMN ineligible_reasons TEXT NOT NULL DEFAULT '';
CREATE INDEX applications_batch ON applications (batch_id) WHERE batch_id IS NOT NULL;

-- One posted batch. Its rows are kept sealed, by reference: workflows carry only the batch id.
CREATE TABLE batches (
    id           TEXT PRIMARY KEY,
    chamber_id   TEXT NOT NULL REFERENCES chambers (id),
    reference    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    total_rows   INTEGER NOT NULL,
    status       TEXT NOT NULL,
    rows_sealed  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    completed_at BIGINT,
    UNIQUE (chamber_id, reference, content_hash)
);
CREATE INDEX batches_chamber ON batches (chamber_id, created_at);

-- The outcome of each row of a batch.
CREATE TABLE batch_rows (
    batch_id       TEXT NOT NULL REFERENCES batches (id),
    row_number     INTEGER NOT NULL,
    outcome        TEXT NOT NULL,
    application_id TEXT,
    errors         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (batch_id, row_number)
);
CREATE INDEX batch_rows_application ON batch_rows (application_id);

-- +goose Down
DROP TABLE batch_rows;
DROP TABLE batches;
DROP INDEX applications_batch;
ALTER TABLE applications DROP COLUMN ineligible_reasons;
ALTER TABLE applications DROP COLUMN batch_id;
ALTER TABLE applications DROP COLUMN endorsed_by_chamber;
DROP TABLE chamber_members;
ALTER TABLE users DROP COLUMN chamber_id;
DROP TABLE chambers;
