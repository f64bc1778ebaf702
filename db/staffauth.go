package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/visad/visad/domain"
)

// Console sign-in: the credentials of an account and its server-side
// sessions (migration 00040). Audit entries name accounts by id and reasons
// by code; never the sign-in name a stranger typed, never a password.

// SignInAccount is what sign-in needs to know of an account.
type SignInAccount struct {
	ID                string         `db:"id"`
	Name              string         `db:"name"`
	Role              string         `db:"role"`
	ChamberID         sql.NullString `db:"chamber_id"`
	Login             sql.NullString `db:"login"`
	PasswordHash      sql.NullString `db:"password_hash"`
	TOTPSealed        sql.NullString `db:"totp_sealed"`
	TOTPPendingSealed sql.NullString `db:"totp_pending_sealed"`
	TOTPLastStep      int64          `db:"totp_last_step"`
	EnrolExpiresAtMS  sql.NullInt64  `db:"enrol_expires_at"`
	FailedSignIns     int            `db:"failed_sign_ins"`
	LockedUntilMS     sql.NullInt64  `db:"locked_until"`
	CreatedAtMS       int64          `db:"created_at"`
	ExpiresAtMS       sql.NullInt64  `db:"expires_at"`
	RevokedAtMS       sql.NullInt64  `db:"revoked_at"`
}

// Active reports whether the account may act at now (not revoked, not expired).
func (a SignInAccount) Active(now time.Time) bool {
	return User{ExpiresAtMS: a.ExpiresAtMS, RevokedAtMS: a.RevokedAtMS}.Active(now)
}

// LockedAt reports whether the account is locked at now.
func (a SignInAccount) LockedAt(now time.Time) bool {
	return a.LockedUntilMS.Valid && now.UnixMilli() < a.LockedUntilMS.Int64
}

// Enrolled reports whether the account has a password and a second factor.
func (a SignInAccount) Enrolled() bool { return a.PasswordHash.Valid && a.TOTPSealed.Valid }

const signInColumns = `id, name, role, chamber_id, login, password_hash, totp_sealed, totp_pending_sealed,
	totp_last_step, enrol_expires_at, failed_sign_ins, locked_until, created_at, expires_at, revoked_at`

func (s *Store) signInAccount(ctx context.Context, where string, arg any) (SignInAccount, error) {
	var a SignInAccount
	err := s.db.GetContext(ctx, &a, s.db.Rebind(`SELECT `+signInColumns+` FROM users WHERE `+where+` = ?`), arg)
	if errors.Is(err, sql.ErrNoRows) {
		return SignInAccount{}, ErrNotFound
	}
	return a, err
}

// AccountByLogin finds an account by its sign-in name.
func (s *Store) AccountByLogin(ctx context.Context, login string) (SignInAccount, error) {
	return s.signInAccount(ctx, "login", login)
}

// AccountByID finds an account by its id.
func (s *Store) AccountByID(ctx context.Context, id string) (SignInAccount, error) {
	return s.signInAccount(ctx, "id", id)
}

// AccountByEnrolHash finds the account a one-time enrolment link belongs to.
func (s *Store) AccountByEnrolHash(ctx context.Context, hash string) (SignInAccount, error) {
	return s.signInAccount(ctx, "enrol_hash", hash)
}

// Audit actions of console sign-in.
const (
	AuditSignInFailed      = "sign_in.failed"
	AuditSignInRefused     = "sign_in.refused" // the account is locked or disabled; nothing was checked
	AuditSignedIn          = "sign_in.succeeded"
	AuditUserLocked        = "user.locked"
	AuditUserEnrolled      = "user.enrolled"
	AuditSecondFactorReset = "user.second_factor_reset"
	AuditSignedOutAll      = "user.signed_out_everywhere"
	// AuditUnknownAccount is the subject of a failure whose sign-in name names
	// no account (the name itself is not recorded: it may be a password typed
	// in the wrong box).
	AuditUnknownAccount = "unknown-account"
)

// RecordSignInFailure counts a failed sign-in (reason: a code such as
// "password" or "code") against the account, locking it until now+lockFor
// when domain.LocksAccount says so; locked reports whether it did.
func (s *Store) RecordSignInFailure(ctx context.Context, id, reason string, now time.Time,
	lockFor time.Duration) (locked bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET failed_sign_ins = failed_sign_ins + 1
			WHERE id = ?`), id); err != nil {
			return err
		}
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT failed_sign_ins FROM users WHERE id = ?`), id); err != nil {
			return err
		}
		locked = domain.LocksAccount(n)
		if locked {
			// The count starts again once the lock ends: ten more tries, then locked again.
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET failed_sign_ins = 0, locked_until = ?
				WHERE id = ?`), ms(now.Add(lockFor)), id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM staff_sessions WHERE user_id = ? AND signed_in = 0`),
				id); err != nil {
				return err
			}
		}
		if _, err := s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: AuditSignInFailed, Subject: id,
			Detail: fmt.Sprintf("reason=%s failures=%d", auditToken(reason), n), At: now}); err != nil {
			return err
		}
		if !locked {
			return nil
		}
		_, err := s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: AuditUserLocked, Subject: id,
			Detail: fmt.Sprintf("until_ms=%d", ms(now.Add(lockFor))), At: now})
		return err
	})
	return locked, err
}

// AuditSignIn records a sign-in event that changes nothing else.
func (s *Store) AuditSignIn(ctx context.Context, action, subject, reason string, now time.Time) error {
	detail := ""
	if reason != "" {
		detail = "reason=" + auditToken(reason)
	}
	_, err := s.AppendAudit(ctx, AuditEntry{Actor: auditActor(ctx), Action: action, Subject: subject, Detail: detail,
		At: now})
	return err
}

// UseTOTPStep records that the account's code of time step step was used;
// false when that step (or a later one) already was: a code is good once.
// A successful use also clears the failure count.
func (s *Store) UseTOTPStep(ctx context.Context, id string, step int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE users SET totp_last_step = ?, failed_sign_ins = 0
		WHERE id = ? AND totp_last_step < ?`), step, id, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetPendingTOTP keeps the secret an enrolment page shows until its code is confirmed.
func (s *Store) SetPendingTOTP(ctx context.Context, id, sealed string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE users SET totp_pending_sealed = ? WHERE id = ?`), sealed, id)
	return err
}

// SetPasswordHash replaces the password hash (a rehash with stronger parameters).
func (s *Store) SetPasswordHash(ctx context.Context, id, hash string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE users SET password_hash = ? WHERE id = ?`), hash, id)
	return err
}

// Enrolment is what completing an enrolment stores.
type Enrolment struct {
	UserID       string
	EnrolHash    string // the link being used up
	PasswordHash string // empty: keep the current password (a second factor reset)
	TOTPSealed   string
	TOTPStep     int64 // the step of the code that confirmed the secret
	At           time.Time
}

// CompleteEnrolment stores the password and second factor and uses up the
// link; false when the link was used meanwhile.
func (s *Store) CompleteEnrolment(ctx context.Context, e Enrolment) (bool, error) {
	var done bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var pw any
		if e.PasswordHash != "" {
			pw = e.PasswordHash
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET password_hash = COALESCE(?, password_hash),
			totp_sealed = ?, totp_pending_sealed = NULL, totp_last_step = ?, enrol_hash = NULL, enrol_expires_at = NULL,
			failed_sign_ins = 0, locked_until = NULL WHERE id = ? AND enrol_hash = ?`),
			pw, e.TOTPSealed, e.TOTPStep, e.UserID, e.EnrolHash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		done = true
		detail := "second_factor=totp"
		if pw != nil {
			detail += " password=set"
		}
		_, err = s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: AuditUserEnrolled,
			Subject: e.UserID, Detail: detail, At: e.At})
		return err
	})
	return done && err == nil, err
}

// ResetSecondFactor removes the account's second factor, ends its sessions
// and gives it a new enrolment link (its hash, until expiresAt); false when
// there is no active account id.
func (s *Store) ResetSecondFactor(ctx context.Context, id, enrolHash string, expiresAt, now time.Time) (bool, error) {
	var done bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET totp_sealed = NULL, totp_pending_sealed = NULL,
			enrol_hash = ?, enrol_expires_at = ? WHERE id = ? AND revoked_at IS NULL`), enrolHash, ms(expiresAt), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		done = true
		if _, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM staff_sessions WHERE user_id = ?`), id); err != nil {
			return err
		}
		_, err = s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: AuditSecondFactorReset,
			Subject: id, At: now})
		return err
	})
	return done && err == nil, err
}

// StaffSession is a console session; only the hash of its id is stored.
type StaffSession struct {
	IDHash       string `db:"id_hash"`
	UserID       string `db:"user_id"`
	SignedIn     bool   `db:"signed_in"`
	CreatedAtMS  int64  `db:"created_at"`
	LastSeenAtMS int64  `db:"last_seen_at"`
}

// CreateStaffSession stores a session; a signed-in one is audited.
func (s *Store) CreateStaffSession(ctx context.Context, ss StaffSession) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO staff_sessions
			(id_hash, user_id, signed_in, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`),
			ss.IDHash, ss.UserID, boolInt(ss.SignedIn), ss.CreatedAtMS, ss.LastSeenAtMS); err != nil {
			return err
		}
		if !ss.SignedIn {
			return nil
		}
		_, err := s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: AuditSignedIn,
			Subject: ss.UserID, At: fromMS(ss.CreatedAtMS)})
		return err
	})
}

// GetStaffSession finds a session by the hash of its id.
func (s *Store) GetStaffSession(ctx context.Context, idHash string) (StaffSession, error) {
	var ss StaffSession
	err := s.db.GetContext(ctx, &ss, s.db.Rebind(`SELECT id_hash, user_id, signed_in, created_at, last_seen_at
		FROM staff_sessions WHERE id_hash = ?`), idHash)
	if errors.Is(err, sql.ErrNoRows) {
		return StaffSession{}, ErrNotFound
	}
	return ss, err
}

// TouchStaffSession records the session's use at now.
func (s *Store) TouchStaffSession(ctx context.Context, idHash string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE staff_sessions SET last_seen_at = ? WHERE id_hash = ?`),
		ms(now), idHash)
	return err
}

// DeleteStaffSession ends one session.
func (s *Store) DeleteStaffSession(ctx context.Context, idHash string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM staff_sessions WHERE id_hash = ?`), idHash)
	return err
}

// DeleteStaffSessions ends every session of an account ("sign out
// everywhere") and audits it; it returns how many there were.
func (s *Store) DeleteStaffSessions(ctx context.Context, userID string, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`DELETE FROM staff_sessions WHERE user_id = ?`), userID)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: AuditSignedOutAll, Subject: userID,
			Detail: fmt.Sprintf("sessions=%d", n), At: now})
		return err
	})
	return n, err
}

// AccountSummary is one row of the admin's list of accounts.
type AccountSummary struct {
	User
	Enrolled      bool          `db:"enrolled"`
	LockedUntilMS sql.NullInt64 `db:"locked_until"`
	Sessions      int           `db:"sessions"`
}

// ListAccounts lists every account with its sign-in state, oldest first.
func (s *Store) ListAccounts(ctx context.Context) ([]AccountSummary, error) {
	var out []AccountSummary
	err := s.db.SelectContext(ctx, &out, `SELECT u.id, u.name, u.role, u.token_hash, u.created_at, u.expires_at,
		u.revoked_at, u.chamber_id, u.login, u.enrol_hash, u.enrol_expires_at, u.locked_until,
		CASE WHEN u.password_hash IS NOT NULL AND u.totp_sealed IS NOT NULL THEN 1 ELSE 0 END AS enrolled,
		(SELECT COUNT(*) FROM staff_sessions s WHERE s.user_id = u.id AND s.signed_in = 1) AS sessions
		FROM users u ORDER BY u.created_at, u.id`)
	return out, err
}

// ListChambers lists every chamber, by name.
func (s *Store) ListChambers(ctx context.Context) ([]Chamber, error) {
	var out []Chamber
	err := s.db.SelectContext(ctx, &out, `SELECT id, name, created_at FROM chambers ORDER BY name, id`)
	return out, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
