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
}

// Active reports whether the account may act at time now.
func (u User) Active(now time.Time) bool {
	if u.RevokedAtMS.Valid {
		return false
	}
	return !u.ExpiresAtMS.Valid || now.UnixMilli() < u.ExpiresAtMS.Int64
}

// CreateUser stores a new account.
func (s *Store) CreateUser(ctx context.Context, u User) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO users (id, name, role, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`), u.ID, u.Name, u.Role, u.TokenHash, u.CreatedAtMS, u.ExpiresAtMS)
		if err != nil {
			return err
		}
		detail := "role=" + u.Role
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
		`SELECT id, name, role, token_hash, created_at, expires_at, revoked_at, chamber_id
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
