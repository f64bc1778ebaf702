-- A passport may have several open applications for one product: refusing
-- the second told an anonymous caller that the passport had applied (and
-- its reference), and let an impostor's application block the holder's.
-- Both are accepted, and officers see them flagged as suspected duplicates,
-- found through this (non-unique) index. Retries still find their first
-- application by Idempotency-Key, and batch rows by their deterministic ids.

-- +goose Up
DROP INDEX applications_open_passport;
CREATE INDEX applications_passport ON applications (passport_hash, product, status);

-- +goose Down
DROP INDEX applications_passport;
CREATE UNIQUE INDEX applications_open_passport ON applications (passport_hash, product)
    WHERE status NOT IN ('issued', 'refused', 'withdrawn', 'ineligible', 'lapsed');
