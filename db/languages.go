package db

import (
	"context"
	"database/sql"
	"errors"
)

// SetApplicationLanguage records the language the applicant uses (idempotent).
func (s *Store) SetApplicationLanguage(ctx context.Context, applicationID, language string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO application_languages (application_id, language)
		VALUES (?, ?) ON CONFLICT (application_id) DO UPDATE SET language = excluded.language`),
		applicationID, language)
	return err
}

// ApplicationLanguage is the applicant's language, or "" when none was recorded.
func (s *Store) ApplicationLanguage(ctx context.Context, applicationID string) (string, error) {
	var lang string
	err := s.db.GetContext(ctx, &lang, s.db.Rebind(
		`SELECT language FROM application_languages WHERE application_id = ?`), applicationID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return lang, err
}
