-- The e-visa: each issued visa's signed visible digital seal, stored once, and
-- revocations. Seals hold the holder's name and passport number, so they are
-- stored encrypted like forms (keys.Keyring.Seal, bound to the application id).

-- +goose Up
CREATE TABLE visa_seals (
    application_id TEXT PRIMARY KEY REFERENCES visas (application_id),
    seal_sealed    TEXT NOT NULL,   -- the seal bytes, encrypted
    created_at     BIGINT NOT NULL
);

-- The MRZ and the seal carry 9 characters of the visa number: its 8-character
-- random part (positions 9-16 of PK2Y-26-XXXXXXXX-C) and the check character.
-- Unique random parts make that short number name one visa; a visa number
-- candidate that repeats one is skipped like a repeated full number.
CREATE UNIQUE INDEX visas_mrz_number ON visas (substr(visa_number, 9, 8)) WHERE length(visa_number) = 18;

CREATE TABLE visa_revocations (
    visa_number    TEXT PRIMARY KEY REFERENCES visas (visa_number),
    application_id TEXT NOT NULL REFERENCES visas (application_id),
    reason_code    TEXT NOT NULL,
    revoked_at     BIGINT NOT NULL,
    revoked_by     TEXT NOT NULL
);
CREATE INDEX visa_revocations_revoked_at ON visa_revocations (revoked_at);

-- +goose Down
DROP TABLE visa_revocations;
DROP INDEX visas_mrz_number;
DROP TABLE visa_seals;
