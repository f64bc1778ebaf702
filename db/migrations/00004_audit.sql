-- Tamper-evident audit trail: decisions, assignments, SLA escalations, roster
-- changes, chamber and token events, each chained to the previous entry's hash.
-- Rows are only ever appended (db/audit.go); `visad audit verify` recomputes
-- the chain and names the first edited or missing entry. Details carry ids,
-- codes and roles only, never personal data.

-- +goose Up
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY,        -- 1, 2, 3, … without gaps
    at              BIGINT NOT NULL,           -- unix ms
    actor           TEXT NOT NULL,             -- role:id, chamber:<id>, system
    action          TEXT NOT NULL,             -- decision.refuse, case.claimed, user.revoked, …
    subject         TEXT NOT NULL,             -- application, user or chamber id
    detail          TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT UNIQUE,               -- makes retried appends no-ops
    prev_hash       TEXT NOT NULL,             -- hash of entry seq-1 (64 zeros for the first)
    hash            TEXT NOT NULL              -- hex SHA-256 over prev_hash and this entry's fields
);

-- +goose Down
DROP TABLE audit_log;
