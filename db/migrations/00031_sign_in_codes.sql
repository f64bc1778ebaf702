-- One-time codes that let an applicant act on their case from another
-- device: "find your application" e-mails a code to the address on the
-- application (through the notification outbox, row seq = this row's seq).
-- Only the code's hash is compared; the sealed code is kept for the e-mail.

-- +goose Up
CREATE TABLE sign_in_codes (
    id             TEXT PRIMARY KEY,  -- the challenge the browser holds in a cookie
    application_id TEXT NOT NULL REFERENCES applications (id),
    seq            BIGINT NOT NULL,   -- the outbox row's seq (negative: never a status change's)
    code_hash      TEXT NOT NULL,
    code_sealed    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    used_at        BIGINT
);
CREATE INDEX sign_in_codes_application ON sign_in_codes (application_id, seq);

-- +goose Down
DROP TABLE sign_in_codes;
