package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// NotificationSignInCode is the outbox kind of a one-time sign-in code e-mail.
const NotificationSignInCode = "sign_in_code"

// SignInCode is a one-time code e-mailed to an applicant.
type SignInCode struct {
	ID            string        `db:"id"`
	ApplicationID string        `db:"application_id"`
	Seq           int64         `db:"seq"`
	CodeHash      string        `db:"code_hash"`
	CodeSealed    string        `db:"code_sealed"`
	CreatedAtMS   int64         `db:"created_at"`
	ExpiresAtMS   int64         `db:"expires_at"`
	Attempts      int           `db:"attempts"`
	UsedAtMS      sql.NullInt64 `db:"used_at"`
}

// CreateSignInCode stores a code and enqueues its e-mail in one transaction.
func (s *Store) CreateSignInCode(ctx context.Context, c SignInCode) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO sign_in_codes
			(id, application_id, seq, code_hash, code_sealed, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			c.ID, c.ApplicationID, c.Seq, c.CodeHash, c.CodeSealed, c.CreatedAtMS, c.ExpiresAtMS); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO notifications
			(application_id, seq, kind, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)`),
			c.ApplicationID, c.Seq, NotificationSignInCode, c.CreatedAtMS, c.CreatedAtMS)
		return err
	})
}

// GetSignInCode finds a code by its challenge id.
func (s *Store) GetSignInCode(ctx context.Context, id string) (SignInCode, error) {
	var c SignInCode
	err := s.db.GetContext(ctx, &c, s.db.Rebind(`SELECT * FROM sign_in_codes WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// SignInCodeBySeq finds the code an outbox row e-mails.
func (s *Store) SignInCodeBySeq(ctx context.Context, applicationID string, seq int64) (SignInCode, error) {
	var c SignInCode
	err := s.db.GetContext(ctx, &c, s.db.Rebind(
		`SELECT * FROM sign_in_codes WHERE application_id = ? AND seq = ?`), applicationID, seq)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	return c, err
}

// MaxSignInAttempts is how many guesses one code allows.
const MaxSignInAttempts = 5

// TakeSignInAttempt spends one of the code's attempts; false when none is
// left, or the code is used or expired. It is one statement, so parallel
// guesses cannot spend more attempts than there are.
func (s *Store) TakeSignInAttempt(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE sign_in_codes SET attempts = attempts + 1
		WHERE id = ? AND attempts < ? AND used_at IS NULL AND expires_at > ?`), id, MaxSignInAttempts, ms(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UseSignInCode marks the code used; false when it already was.
func (s *Store) UseSignInCode(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE sign_in_codes SET used_at = ? WHERE id = ? AND used_at IS NULL`),
		ms(now), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
