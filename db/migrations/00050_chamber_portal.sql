-- The chamber portal lists the applications a chamber endorsed, newest first.

-- +goose Up
CREATE INDEX applications_endorsed ON applications (endorsed_by_chamber, submitted_at, id)
    WHERE endorsed_by_chamber IS NOT NULL;

-- +goose Down
DROP INDEX applications_endorsed;
