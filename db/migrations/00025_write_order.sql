-- A case's workflow numbers every write it makes to the read model (the
-- timeline's seq). status_seq already orders status writes; these order the
-- assignee and the SLA fields the same way, so a write that arrives after a
-- later one (a claim recorded after the release that followed it) is kept on
-- the timeline but never overwrites the newer value.

-- +goose Up
ALTER TABLE applications ADD COLUMN assignee_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN sla_seq BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE applications DROP COLUMN sla_seq;
ALTER TABLE applications DROP COLUMN assignee_seq;
