-- Case handling: SLA clock flags, assignment, four-eyes, and the notification outbox.

-- +goose Up
ALTER TABLE applications ADD COLUMN escalated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE applications ADD COLUMN breached BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE applications ADD COLUMN sla_paused BOOLEAN NOT NULL DEFAULT FALSE;
-- While paused, what was left of the SLA when the clock stopped.
ALTER TABLE applications ADD COLUMN sla_remaining_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN assignee TEXT;
ALTER TABLE applications ADD COLUMN first_decided_by TEXT;

-- The queue puts escalated cases first (rank 0), then orders by SLA due time;
-- one ascending key per filter shape keeps every page an index range scan.
ALTER TABLE applications ADD COLUMN queue_rank SMALLINT NOT NULL DEFAULT 1;
DROP INDEX applications_queue;
DROP INDEX applications_queue_all;
CREATE INDEX applications_queue_all ON applications (queue_rank, sla_due_at, id);
CREATE INDEX applications_queue_status ON applications (status, queue_rank, sla_due_at, id);
CREATE INDEX applications_queue_product ON applications (product, queue_rank, sla_due_at, id);
CREATE INDEX applications_queue_status_product ON applications (status, product, queue_rank, sla_due_at, id);
-- Recent refusals by passport, for straight-through processing.
CREATE INDEX applications_passport_decided ON applications (passport_hash, decided_at);

-- Applicant-visible changes waiting to be e-mailed; written in the same
-- transaction as the status change, so none is lost and none is doubled.
CREATE TABLE notifications (
    application_id  TEXT NOT NULL REFERENCES applications (id),
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   BIGINT NOT NULL DEFAULT 0,
    sent_at         BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (application_id, seq)
);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE notifications;
DROP INDEX applications_passport_decided;
DROP INDEX applications_queue_status_product;
DROP INDEX applications_queue_product;
DROP INDEX applications_queue_status;
DROP INDEX applications_queue_all;
CREATE INDEX applications_queue ON applications (status, product, sla_due_at, id);
CREATE INDEX applications_queue_all ON applications (sla_due_at, id);
ALTER TABLE applications DROP COLUMN queue_rank;
ALTER TABLE applications DROP COLUMN first_decided_by;
ALTER TABLE applications DROP COLUMN assignee;
ALTER TABLE applications DROP COLUMN sla_remaining_ms;
ALTER TABLE applications DROP COLUMN sla_paused;
ALTER TABLE applications DROP COLUMN breached;
ALTER TABLE applications DROP COLUMN escalated;
