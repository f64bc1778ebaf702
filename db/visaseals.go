package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/visad/visad/domain"
	"time"

	"github.com/jmoiron/sqlx"
)

// StoreVisaSeal stores the (encrypted) seal of an application's visa once:
// when a seal is already stored, it is kept and returned, so a retried
// issuing step ends with the seal the first attempt stored.
func (s *Store) StoreVisaSeal(ctx context.Context, applicationID, sealed string, at time.Time) (string, error) {
	var stored string
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO visa_seals (application_id, seal_sealed, created_at)
			VALUES (?, ?, ?) ON CONFLICT (application_id) DO NOTHING`), applicationID, sealed, ms(at)); err != nil {
			return fmt.Errorf("insert visa seal: %w", err)
		}
		return tx.GetContext(ctx, &stored, tx.Rebind(`SELECT seal_sealed FROM visa_seals WHERE application_id = ?`),
			applicationID)
	})
	return stored, err
}

// VisaSeal returns the encrypted seal of an application's visa.
func (s *Store) VisaSeal(ctx context.Context, applicationID string) (string, error) {
	var sealed string
	err := s.db.GetContext(ctx, &sealed, s.db.Rebind(`SELECT seal_sealed FROM visa_seals WHERE application_id = ?`),
		applicationID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return sealed, err
}

// VisaByNumber finds a visa by its number.
func (s *Store) VisaByNumber(ctx context.Context, number string) (domain.Visa, error) {
	var visa visaRow
	err := s.db.GetContext(ctx, &visa, s.db.Rebind(`SELECT * FROM visas WHERE visa_number = ?`), number)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Visa{}, ErrNotFound
	}
	return visa.visa(), err
}

// VisaByRandomPart finds a visa by the 8-character random part of its number
// (what the MRZ and the seal carry; unique by the visas_mrz_number index).
func (s *Store) VisaByRandomPart(ctx context.Context, part string) (domain.Visa, error) {
	var visa visaRow
	err := s.db.GetContext(ctx, &visa, s.db.Rebind(`SELECT * FROM visas
		WHERE substr(visa_number, 9, 8) = ? AND length(visa_number) = 18`), part)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Visa{}, ErrNotFound
	}
	return visa.visa(), err
}

// Revocation is a revoked visa.
type Revocation struct {
	VisaNumber    string `db:"visa_number"`
	ApplicationID string `db:"application_id"`
	ReasonCode    string `db:"reason_code"`
	RevokedAtMS   int64  `db:"revoked_at"`
	RevokedBy     string `db:"revoked_by"`
}

// RevokedAt is when the visa was revoked.
func (r Revocation) RevokedAt() time.Time { return fromMS(r.RevokedAtMS) }

const revocationColumns = `visa_number, application_id, reason_code, revoked_at, revoked_by`

// RevokeVisa revokes a visa and appends "visa.revoked" to the audit trail in
// the same transaction. Revoking a revoked visa changes nothing and returns
// the first revocation with created false. ErrNotFound: no such visa.
func (s *Store) RevokeVisa(ctx context.Context, number, reasonCode, actor string,
	at time.Time) (Revocation, bool, error) {
	var (
		rev     Revocation
		created bool
	)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var appID string
		err := tx.GetContext(ctx, &appID, tx.Rebind(`SELECT application_id FROM visas WHERE visa_number = ?`), number)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO visa_revocations (`+revocationColumns+`)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (visa_number) DO NOTHING`), number, appID, reasonCode, ms(at), actor)
		if err != nil {
			return fmt.Errorf("insert revocation: %w", err)
		}
		n, _ := res.RowsAffected()
		created = n == 1
		if err := tx.GetContext(ctx, &rev, tx.Rebind(`SELECT `+revocationColumns+` FROM visa_revocations
			WHERE visa_number = ?`), number); err != nil {
			return err
		}
		if !created {
			return nil
		}
		_, err = s.appendAudit(ctx, tx, AuditEntry{
			Actor: actor, Action: "visa.revoked", Subject: appID, At: at,
			Detail:         "visa=" + auditToken(number) + " reason=" + auditToken(reasonCode),
			IdempotencyKey: "visa.revoked:" + number,
		})
		return err
	})
	return rev, created, err
}

// RevocationOf returns the revocation of a visa, or ErrNotFound when the visa
// is not revoked.
func (s *Store) RevocationOf(ctx context.Context, number string) (Revocation, error) {
	var rev Revocation
	err := s.db.GetContext(ctx, &rev, s.db.Rebind(`SELECT `+revocationColumns+` FROM visa_revocations
		WHERE visa_number = ?`), number)
	if errors.Is(err, sql.ErrNoRows) {
		return Revocation{}, ErrNotFound
	}
	return rev, err
}

// Revocations lists every revocation, oldest first.
func (s *Store) Revocations(ctx context.Context) ([]Revocation, error) {
	revs := []Revocation{}
	err := s.db.SelectContext(ctx, &revs, `SELECT `+revocationColumns+` FROM visa_revocations
		ORDER BY revoked_at, visa_number`)
	return revs, err
}
