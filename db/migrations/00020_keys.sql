-- Keys with ids (internal/keys): a keyed audit chain, and personal data that
-- was stored in clear sealed like forms. Sealed values name their sealing key
-- ("v2.<key id>.…"), so `visad keys rotate` can find and re-seal what an old
-- key sealed; it also seals rows written in clear before this migration.

-- +goose Up
-- The audit key (VISA_AUDIT_KEYS) that keys the entry's hash; empty for
-- entries hashed before the chain was keyed.
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';

-- Timeline details (requests for information, answers) sealed, bound to
-- application and seq; `detail` keeps only rows written before, until sealed.
ALTER TABLE timeline_events ADD COLUMN detail_sealed TEXT NOT NULL DEFAULT '';

-- A roster member's names and birth date, sealed as one JSON object bound to
-- chamber and membership number; the clear columns are left empty.
ALTER TABLE chamber_members ADD COLUMN person_sealed TEXT NOT NULL DEFAULT '';

-- Officers' notes on their decisions: kept for the record, sealed, never on
-- the applicant's timeline.
CREATE TABLE decision_notes (
    application_id TEXT NOT NULL REFERENCES applications (id),
    seq            BIGINT NOT NULL,            -- the status change the note belongs to
    at             BIGINT NOT NULL,
    actor          TEXT NOT NULL,              -- role:id
    note_sealed    TEXT NOT NULL,
    PRIMARY KEY (application_id, seq)
);

-- +goose Down
DROP TABLE decision_notes;
ALTER TABLE chamber_members DROP COLUMN person_sealed;
ALTER TABLE timeline_events DROP COLUMN detail_sealed;
ALTER TABLE audit_log DROP COLUMN key_id;
