-- A chamber uploads each batch row's documents with its token before it
-- posts the batch (docs/documents.md, "Chambers"). chamber_id records whose
-- upload it is: only that chamber's batch rows may name it, and no
-- applicant's application or answer may. NULL: an anonymous upload, or one
-- made inside a case.

-- +goose Up
ALTER TABLE documents ADD COLUMN chamber_id TEXT REFERENCES chambers (id);

-- +goose Down
ALTER TABLE documents DROP COLUMN chamber_id;
