-- The language an applicant used in the portal, so that e-mails about the
-- case speak it too. Applications sent through the JSON API have no row
-- (their e-mails are in English).

-- +goose Up
CREATE TABLE application_languages (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    language       TEXT NOT NULL
);

-- +goose Down
DROP TABLE application_languages;
