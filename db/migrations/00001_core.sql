-- One schema for SQLite and PostgreSQL: portable types only. Times are unix
-- milliseconds (BIGINT) so ordering and keyset paging behave the same on both.

-- +goose Up
CREATE TABLE applications (
    id                   TEXT PRIMARY KEY,
    reference            TEXT NOT NULL UNIQUE,
    product              TEXT NOT NULL,
    status               TEXT NOT NULL,
    -- status_seq orders status writes from the workflow, so a retried or late
    -- activity can never move a case backwards.
    status_seq           BIGINT NOT NULL DEFAULT 0,
    passport_hash        TEXT NOT NULL,
    form_sealed          TEXT NOT NULL,
    request_hash         TEXT NOT NULL,
    idempotency_key_hash TEXT UNIQUE,
    screening_hit        BOOLEAN NOT NULL DEFAULT FALSE,
    decision             TEXT,
    reason_code          TEXT,
    decided_by           TEXT,
    decided_at           BIGINT,
    workflow_started     BOOLEAN NOT NULL DEFAULT FALSE,
    submitted_at         BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    sla_due_at           BIGINT NOT NULL
);

-- At most one open application per passport and product, enforced by the database.
CREATE UNIQUE INDEX applications_open_passport ON applications (passport_hash, product)
    WHERE status NOT IN ('issued', 'refused', 'withdrawn', 'ineligible', 'lapsed');

-- The officers' queue: filter by status and product, ordered by SLA due time.
CREATE INDEX applications_queue ON applications (status, product, sla_due_at, id);
CREATE INDEX applications_queue_all ON applications (sla_due_at, id);

-- Accepted applications whose workflow has not been confirmed started yet.
CREATE INDEX applications_unstarted ON applications (submitted_at) WHERE workflow_started = FALSE;

CREATE TABLE timeline_events (
    application_id TEXT NOT NULL REFERENCES applications (id),
    seq            BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    status         TEXT NOT NULL,
    event          TEXT NOT NULL,
    actor          TEXT NOT NULL,
    detail         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (application_id, seq)
);

CREATE TABLE visas (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    visa_number    TEXT NOT NULL UNIQUE,
    product        TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_until    TEXT NOT NULL,
    entries        TEXT NOT NULL,
    max_stay_days  INTEGER NOT NULL,
    issued_at      BIGINT NOT NULL,
    issued_by      TEXT NOT NULL
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

-- +goose Down
DROP TABLE users;
DROP TABLE visas;
DROP TABLE timeline_events;
DROP TABLE applications;
