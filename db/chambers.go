package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/visad/visad/domain"
)

// Chamber is a chamber of commerce with an account.
type Chamber struct {
	ID          string `db:"id"`
	Name        string `db:"name"`
	CreatedAtMS int64  `db:"created_at"`
}

// CreateChamber stores a chamber and its account in one transaction.
func (s *Store) CreateChamber(ctx context.Context, c Chamber, account User) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO chambers (id, name, created_at) VALUES (?, ?, ?)`),
			c.ID, c.Name, c.CreatedAtMS); err != nil {
			return err
		}
		_, err := tx.ExecContext(
			ctx,
			tx.Rebind(`INSERT INTO users (id, name, role, token_hash, created_at, expires_at, chamber_id)
			VALUES (?, ?, ?, ?, ?, ?, ?)`),
			account.ID,
			account.Name,
			account.Role,
			account.TokenHash,
			account.CreatedAtMS,
			account.ExpiresAtMS,
			c.ID,
		)
		if err != nil {
			return err
		}
		actor, at := auditActor(ctx), fromMS(c.CreatedAtMS)
		if _, err := s.appendAudit(ctx, tx, AuditEntry{Actor: actor, Action: "chamber.created", Subject: c.ID,
			Detail: "account=" + account.ID, At: at}); err != nil {
			return err
		}
		_, err = s.appendAudit(ctx, tx, AuditEntry{Actor: actor, Action: "user.created", Subject: account.ID,
			Detail: "role=" + account.Role + " chamber=" + c.ID, At: fromMS(account.CreatedAtMS)})
		return err
	})
}

// GetChamber loads a chamber.
func (s *Store) GetChamber(ctx context.Context, id string) (Chamber, error) {
	var c Chamber
	err := s.db.GetContext(ctx, &c, s.db.Rebind(`SELECT id, name, created_at FROM chambers WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return Chamber{}, ErrNotFound
	}
	return c, err
}

// Member is one row of a chamber's roster.
type Member struct {
	ChamberID        string `db:"chamber_id" json:"-"`
	MembershipNumber string `db:"membership_number" json:"membership_number"`
	Surname          string `db:"surname" json:"surname"`
	GivenNames       string `db:"given_names" json:"given_names"`
	DateOfBirth      string `db:"date_of_birth" json:"date_of_birth"`
	Nationality      string `db:"nationality" json:"nationality"`
	PassportHash     string `db:"passport_hash" json:"-"`
	PassportHint     string `db:"passport_hint" json:"passport_hint"`
	Status           string `db:"status" json:"status"`
	ValidUntil       string `db:"valid_until" json:"valid_until"`
	UpdatedAtMS      int64  `db:"updated_at" json:"-"`
	// PersonSealed holds names and birth date sealed; the columns above stay
	// empty in the database (filled in when read).
	PersonSealed string `db:"person_sealed" json:"-"`
}

// memberPerson is what a roster row seals: who the member is.
type memberPerson struct {
	Surname     string `json:"s"`
	GivenNames  string `json:"g"`
	DateOfBirth string `json:"d"`
}

func memberAD(chamberID, membershipNumber string) string {
	return "member:" + chamberID + ":" + membershipNumber
}

// sealPerson seals a member's names and birth date.
func (s *Store) sealPerson(chamberID string, m Member) (string, error) {
	b, err := json.Marshal(memberPerson{Surname: m.Surname, GivenNames: m.GivenNames, DateOfBirth: m.DateOfBirth})
	if err != nil {
		return "", err
	}
	return s.seal(string(b), memberAD(chamberID, m.MembershipNumber))
}

// openPerson fills in a member read from the database; rows written before
// rosters were sealed still hold the names in clear.
func (s *Store) openPerson(m *Member) error {
	if m.PersonSealed == "" {
		return nil
	}
	plain, err := s.open(m.PersonSealed, memberAD(m.ChamberID, m.MembershipNumber))
	if err != nil {
		return fmt.Errorf("roster member %s of %s: %w", m.MembershipNumber, m.ChamberID, err)
	}
	var p memberPerson
	if err := json.Unmarshal([]byte(plain), &p); err != nil {
		return fmt.Errorf("roster member %s of %s: %w", m.MembershipNumber, m.ChamberID, err)
	}
	m.Surname, m.GivenNames, m.DateOfBirth, m.PersonSealed = p.Surname, p.GivenNames, p.DateOfBirth, ""
	return nil
}

// UpsertMembers inserts or updates roster rows in one transaction and
// reports how many were new.
func (s *Store) UpsertMembers(
	ctx context.Context,
	chamberID string,
	members []Member,
	at time.Time,
) (inserted, updated int, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		inserted, updated = 0, 0
		for _, m := range members {
			var exists int
			err := tx.GetContext(
				ctx,
				&exists,
				tx.Rebind(`SELECT COUNT(*) FROM chamber_members WHERE chamber_id = ? AND membership_number = ?`),
				chamberID,
				m.MembershipNumber,
			)
			if err != nil {
				return err
			}
			person, err := s.sealPerson(chamberID, m)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, tx.Rebind(`INSERT INTO chamber_members
				(chamber_id, membership_number, surname, given_names, date_of_birth, nationality,
				 passport_hash, passport_hint, status, valid_until, updated_at, person_sealed)
				VALUES (?, ?, '', '', '', ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (chamber_id, membership_number) DO UPDATE SET
					surname = '', given_names = '', date_of_birth = '', person_sealed = excluded.person_sealed,
					nationality = excluded.nationality, passport_hash = excluded.passport_hash, passport_hint = excluded.passport_hint,
					status = excluded.status, valid_until = excluded.valid_until, updated_at = excluded.updated_at`),
				chamberID, m.MembershipNumber, m.Nationality, m.PassportHash,
				m.PassportHint, m.Status, m.ValidUntil, ms(at), person)
			if err != nil {
				return fmt.Errorf("upsert member: %w", err)
			}
			if exists > 0 {
				updated++
			} else {
				inserted++
			}
		}
		// One entry per upload, with counts only: the roster itself is personal data.
		_, err := s.appendAudit(
			ctx,
			tx,
			AuditEntry{Actor: "chamber:" + chamberID, Action: "roster.upserted", Subject: chamberID,
				Detail: fmt.Sprintf("rows=%d inserted=%d updated=%d", len(members), inserted, updated), At: at},
		)
		return err
	})
	return inserted, updated, err
}

// ListMembers pages through a roster by membership number.
func (s *Store) ListMembers(ctx context.Context, chamberID, after string, limit int) ([]Member, string, error) {
	var members []Member
	err := s.db.SelectContext(ctx, &members, s.db.Rebind(`SELECT * FROM chamber_members
		WHERE chamber_id = ? AND membership_number > ? ORDER BY membership_number LIMIT ?`), chamberID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(members) > limit {
		members = members[:limit]
		next = members[len(members)-1].MembershipNumber
	}
	for i := range members {
		if err := s.openPerson(&members[i]); err != nil {
			return nil, "", err
		}
	}
	return members, next, nil
}

// GetMember finds one member of a chamber.
func (s *Store) GetMember(ctx context.Context, chamberID, membershipNumber string) (Member, error) {
	var m Member
	err := s.db.GetContext(
		ctx,
		&m,
		s.db.Rebind(`SELECT * FROM chamber_members WHERE chamber_id = ? AND membership_number = ?`),
		chamberID,
		membershipNumber,
	)
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, ErrNotFound
	}
	if err != nil {
		return Member{}, err
	}
	return m, s.openPerson(&m)
}

// RotateChamberToken replaces the token of a chamber's active account: the
// old token stops working at once; the new one (only its hash is kept)
// expires at expiresAtMS (invalid: never). found is false when the chamber
// has no active account.
func (s *Store) RotateChamberToken(ctx context.Context, chamberID, tokenHash string, expiresAtMS sql.NullInt64,
	at time.Time) (found bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var ids []string
		if err := tx.SelectContext(ctx, &ids, tx.Rebind(`SELECT id FROM users
			WHERE chamber_id = ? AND role = ? AND revoked_at IS NULL ORDER BY id`), chamberID,
			domain.RoleChamber); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		found = true
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE users SET token_hash = ?, expires_at = ?
			WHERE chamber_id = ? AND role = ? AND revoked_at IS NULL`),
			tokenHash, expiresAtMS, chamberID, domain.RoleChamber); err != nil {
			return err
		}
		detail := "accounts=" + strings.Join(ids, ",")
		if expiresAtMS.Valid {
			detail += fmt.Sprintf(" expires_at_ms=%d", expiresAtMS.Int64)
		}
		_, err := s.appendAudit(ctx, tx, AuditEntry{Actor: auditActor(ctx), Action: "chamber.token_rotated",
			Subject: chamberID, Detail: detail, At: at})
		return err
	})
	return found, err
}
