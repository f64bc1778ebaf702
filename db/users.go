package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// User is a staff account (officer, supervisor, admin). Only the hash of its
// bearer token is stored.
type User struct {
	ID          string         `db:"id"`
	Name        string         `db:"name"`
	Role        string         `db:"role"`
	TokenHash   string         `db:"token_hash"`
	CreatedAtMS int64          `db:"created_at"`
	ExpiresAtMS sql.NullInt64  `db:"expires_at"`
	RevokedAtMS sql.NullInt64  `db:"revoked_at"`
	ChamberID   sql.NullString `db:"chamber_id"` // set for chamber accounts only
	// Console sign-in (staffauth.go): the sign-in name, and the hash of the
	// one-time enrolment link and when it stops working.
	Login            sql.NullString `db:"login"`
	EnrolHash        sql.NullString `db:"enrol_hash"`
	EnrolExpiresAtMS sql.NullInt64  `db:"enrol_expires_at"`
}

// Active reports whether the account may act at time now.
func (u User) Active(now time.Time) bool {
	if u.RevokedAtMS.Valid {
		return false
	}
	return !u.ExpiresAtMS.Valid || now.UnixMilli() < u.ExpiresAtMS.Int64
}

// ErrLoginTaken: another account has the sign-in name.
var ErrLoginTaken = errors.New("the sign-in name is taken")

// CreateUser stores a new account.
func (s *Store) CreateUser(ctx context.Context, u User) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if u.Login.Valid {
			var n int
			if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM users WHERE login = ?`),
				u.Login.String); err != nil {
				return err
			}
			if n > 0 {
				return ErrLoginTaken // the unique index still stops a concurrent twin
			}
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO users (id, name, role, token_hash, created_at, expires_at,
			chamber_id, login, enrol_hash, enrol_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			u.ID, u.Name, u.Role, u.TokenHash, u.CreatedAtMS, u.ExpiresAtMS, u.ChamberID, u.Login, u.EnrolHash,
			u.EnrolExpiresAtMS)
		if err != nil {
			return err
		}
		detail := "role=" + u.Role
		if u.ChamberID.Valid {
			detail += " chamber=" + u.ChamberID.String
		}
		if u.ExpiresAtMS.Valid {
			detail += fmt.Sprintf(" expires_at_ms=%d", u.ExpiresAtMS.Int64)
		}
		var at time.Time
		if u.CreatedAtMS > 0 {
			at = fromMS(u.CreatedAtMS)
		}
		_, err = s.appendAudit(
			ctx,
			tx,
			AuditEntry{Actor: auditActor(ctx), Action: "user.created", Subject: u.ID, Detail: detail, At: at},
		)
		return err
	})
}

// UserByTokenHash finds the account a bearer token belongs to.
func (s *Store) UserByTokenHash(ctx context.Context, tokenHash string) (User, error) {
	var u User
	err := s.db.GetContext(
		ctx,
		&u,
		s.db.Rebind(`SELECT id, name, role, token_hash, created_at, expires_at, revoked_at, chamber_id
		FROM users WHERE token_hash = ?`),
		tokenHash,
	)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

// ListUsers lists every account, oldest first.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var users []User
	err := s.db.SelectContext(
		ctx,
		&users,
		`SELECT id, name, role, token_hash, created_at, expires_at, revoked_at, chamber_id, login
		FROM users ORDER BY created_at, id`,
	)
	return users, err
}

// RevokeUser revokes an active account; false when there was none.
func (s *Store) RevokeUser(ctx context.Context, id string, at time.Time) (bool, error) {
	var revoked bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(
			ctx,
			tx.Rebind(`UPDATE users SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
			at.UnixMilli(),
			id,
		)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n != 1 {
			return err
		}
		revoked = true
		_, err = s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: "user.revoked", Subject: id, At: at})
		return err
	})
	return revoked && err == nil, err
}
