-- Console sign-in (docs/consoles.md#signing-in): a sign-in name, an
-- argon2id password hash, a TOTP secret (sealed), a one-time enrolment link
-- (its hash), the lockout counter; and server-side sessions, stored by the
-- hash of the cookie's random id.

-- +goose Up
ALTER TABLE users ADD COLUMN login TEXT;
CREATE UNIQUE INDEX users_login ON users (login);
ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN totp_sealed TEXT;          -- the enrolled second factor
ALTER TABLE users ADD COLUMN totp_pending_sealed TEXT;  -- shown on the enrolment page, not yet confirmed
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0; -- a code is good once
ALTER TABLE users ADD COLUMN enrol_hash TEXT;
CREATE UNIQUE INDEX users_enrol_hash ON users (enrol_hash);
ALTER TABLE users ADD COLUMN enrol_expires_at BIGINT;
ALTER TABLE users ADD COLUMN failed_sign_ins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;

CREATE TABLE staff_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    -- 0: the password was right, the second factor is awaited; 1: signed in
    signed_in    INTEGER NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);

-- +goose Down
DROP TABLE staff_sessions;
DROP INDEX users_enrol_hash;
DROP INDEX users_login;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users DROP COLUMN failed_sign_ins;
ALTER TABLE users DROP COLUMN enrol_expires_at;
ALTER TABLE users DROP COLUMN enrol_hash;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_pending_sealed;
ALTER TABLE users DROP COLUMN totp_sealed;
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE users DROP COLUMN login;
