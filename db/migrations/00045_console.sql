-- The officers' console and the supervisors' dashboard.

-- +goose Up
-- The queue filtered to watchlist hits, in queue order (one index range per filter shape, as 00003).
CREATE INDEX applications_queue_screening ON applications (screening_hit, queue_rank, sla_due_at, id);
-- The dashboard counts timeline events of a kind since a time: decisions, breaches.
CREATE INDEX timeline_events_event_at ON timeline_events (event, at);

-- +goose Down
DROP INDEX timeline_events_event_at;
DROP INDEX applications_queue_screening;
