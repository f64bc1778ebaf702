package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/visad/visad/domain"
)

// The audit trail is an append-only hash chain in audit_log: every entry
// carries the hash of the entry before it, so editing, deleting or reordering
// a row breaks the chain from that row on, and VerifyAudit names the first
// broken entry. Appends are serialised (an exclusive table lock on
// PostgreSQL, SQLite's immediate transactions) so seq has no gaps and each
// prev_hash is the hash of seq-1. Entries hold ids, codes and roles only,
// never personal data.
//
// What the chain cannot show on its own: someone with write access who
// rewrites a row and every row after it with freshly computed hashes, or who
// deletes entries at the very end. Record the head (VerifyAudit's LastSeq and
// LastHash) somewhere else from time to time to catch those too.

// AuditGenesisHash is the prev_hash of the first entry.
var AuditGenesisHash = strings.Repeat("0", 64)

// AuditEntry is one event to append to the audit trail.
type AuditEntry struct {
	Actor   string // who: role:id ("officer:usr_…"), chamber:<id>, system
	Action  string // what: decision.refuse, case.claimed, roster.upserted, user.revoked, …
	Subject string // on what: an application, user or chamber id
	Detail  string // ids, codes and roles only; never names, passports, e-mail
	// IdempotencyKey makes a retried append a no-op that returns the first
	// entry; empty for events that are not retried.
	IdempotencyKey string
	At             time.Time // zero means now
}

// AuditRecord is one stored entry of the audit trail.
type AuditRecord struct {
	Seq            int64          `db:"seq"`
	AtMS           int64          `db:"at"`
	Actor          string         `db:"actor"`
	Action         string         `db:"action"`
	Subject        string         `db:"subject"`
	Detail         string         `db:"detail"`
	IdempotencyKey sql.NullString `db:"idempotency_key"`
	PrevHash       string         `db:"prev_hash"`
	Hash           string         `db:"hash"`
}

// At is when the audited event happened.
func (r AuditRecord) At() time.Time { return fromMS(r.AtMS) }

const auditColumns = `seq, at, actor, action, subject, detail, idempotency_key, prev_hash, hash`

// AuditHash is an entry's hash: hex SHA-256 over a version tag and the
// length-prefixed fields, so no two different entries encode alike.
func AuditHash(prevHash string, seq, atMS int64, actor, action, subject, detail string) string {
	h := sha256.New()
	var n [8]byte
	str := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	num := func(v int64) {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	str("visad-audit-v1")
	str(prevHash)
	num(seq)
	num(atMS)
	str(actor)
	str(action)
	str(subject)
	str(detail)
	return hex.EncodeToString(h.Sum(nil))
}

// AppendAudit appends one entry in a transaction of its own. With an
// IdempotencyKey that was used before, it appends nothing and returns the
// earlier entry.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditRecord, error) {
	var rec AuditRecord
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		rec, err = appendAudit(ctx, tx, e)
		return err
	})
	return rec, err
}

// appendAudit appends e inside the caller's transaction, so the entry commits
// or rolls back with the change it records. On PostgreSQL it takes an
// exclusive lock on audit_log until the transaction ends; call it after the
// transaction's other writes so that lock is always taken last.
func appendAudit(ctx context.Context, tx *sqlx.Tx, e AuditEntry) (AuditRecord, error) {
	if e.Action == "" || e.Subject == "" {
		return AuditRecord{}, errors.New("audit entry needs an action and a subject")
	}
	if e.Actor == "" {
		e.Actor = "unknown" // record the event anyway rather than fail the change it belongs to
	}
	if tx.DriverName() == "pgx" {
		// EXCLUSIVE blocks other appenders (even on an empty table, where there is no last row
		// to lock) but not readers; SQLite's BEGIN IMMEDIATE already serialises writers.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE audit_log IN EXCLUSIVE MODE`); err != nil {
			return AuditRecord{}, fmt.Errorf("lock audit log: %w", err)
		}
	}
	if e.IdempotencyKey != "" {
		rec, found, err := auditByKey(ctx, tx, e.IdempotencyKey)
		if err != nil || found {
			return rec, err
		}
	}
	var last struct {
		Seq  int64  `db:"seq"`
		Hash string `db:"hash"`
	}
	err := tx.GetContext(ctx, &last, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		last.Seq, last.Hash = 0, AuditGenesisHash
	case err != nil:
		return AuditRecord{}, fmt.Errorf("read audit head: %w", err)
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	rec := AuditRecord{
		Seq: last.Seq + 1, AtMS: ms(at), Actor: e.Actor, Action: e.Action, Subject: e.Subject, Detail: e.Detail,
		IdempotencyKey: sql.NullString{String: e.IdempotencyKey, Valid: e.IdempotencyKey != ""}, PrevHash: last.Hash,
	}
	rec.Hash = AuditHash(rec.PrevHash, rec.Seq, rec.AtMS, rec.Actor, rec.Action, rec.Subject, rec.Detail)
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO audit_log (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`),
		rec.Seq, rec.AtMS, rec.Actor, rec.Action, rec.Subject, rec.Detail, rec.IdempotencyKey, rec.PrevHash, rec.Hash)
	if err != nil {
		return AuditRecord{}, fmt.Errorf("append audit entry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Only reachable if appends were not serialised; return what won.
		existing, found, err := auditByKey(ctx, tx, e.IdempotencyKey)
		if err == nil && !found {
			err = errors.New("audit entry was neither appended nor found")
		}
		return existing, err
	}
	return rec, nil
}

func auditByKey(ctx context.Context, tx *sqlx.Tx, key string) (AuditRecord, bool, error) {
	var rec AuditRecord
	err := tx.GetContext(ctx, &rec, tx.Rebind(`SELECT `+auditColumns+` FROM audit_log WHERE idempotency_key = ?`), key)
	if errors.Is(err, sql.ErrNoRows) {
		return AuditRecord{}, false, nil
	}
	return rec, err == nil, err
}

// ListAudit pages through the audit trail in order, from the entry after afterSeq.
func (s *Store) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]AuditRecord, error) {
	var out []AuditRecord
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT `+auditColumns+` FROM audit_log
		WHERE seq > ? ORDER BY seq LIMIT ?`), afterSeq, limit)
	return out, err
}

// AuditReport is the outcome of VerifyAudit.
type AuditReport struct {
	Entries  int    // rows in the audit log
	Intact   bool   // every entry verified
	BrokenAt int64  // seq of the first entry that is missing or does not verify
	Reason   string // why it does not verify
	LastSeq  int64  // the head of the chain, worth recording elsewhere
	LastHash string
}

// VerifyAudit recomputes the whole chain and reports the first entry that was
// edited (its hash no longer matches its fields), deleted (a gap in seq) or
// relinked (its prev_hash is not the previous entry's hash).
func (s *Store) VerifyAudit(ctx context.Context) (AuditReport, error) {
	rows, err := s.db.QueryxContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return AuditReport{}, err
	}
	defer rows.Close()
	report := AuditReport{Intact: true}
	want, prevHash := int64(1), AuditGenesisHash
	for rows.Next() {
		var r AuditRecord
		if err := rows.StructScan(&r); err != nil {
			return AuditReport{}, err
		}
		report.Entries++
		report.LastSeq, report.LastHash = r.Seq, r.Hash
		if !report.Intact {
			continue // keep counting; the first break is what matters
		}
		switch {
		case r.Seq > want:
			report.Intact, report.BrokenAt = false, want
			if r.Seq == want+1 {
				report.Reason = "missing (row deleted)"
			} else {
				report.Reason = fmt.Sprintf("missing, with entries up to %d (rows deleted)", r.Seq-1)
			}
		case r.Seq < want:
			report.Intact, report.BrokenAt = false, r.Seq
			report.Reason = fmt.Sprintf("sequence number out of order (expected %d)", want)
		case AuditHash(r.PrevHash, r.Seq, r.AtMS, r.Actor, r.Action, r.Subject, r.Detail) != r.Hash:
			report.Intact, report.BrokenAt = false, r.Seq
			report.Reason = "hash mismatch (row edited)"
		case r.PrevHash != prevHash:
			report.Intact, report.BrokenAt = false, r.Seq
			if r.Seq == 1 {
				report.Reason = "first entry does not start from the genesis hash (chain replaced)"
			} else {
				report.Reason = fmt.Sprintf("prev_hash does not match entry %d (chain relinked or rewritten)", r.Seq-1)
			}
		}
		want, prevHash = r.Seq+1, r.Hash
	}
	if err := rows.Err(); err != nil {
		return AuditReport{}, err
	}
	return report, nil
}

type auditActorKey struct{}

// WithAuditActor names who is acting (e.g. "admin:usr_…", "cli") for the
// audit entries of store methods that take no actor of their own: account,
// chamber and token administration.
func WithAuditActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, auditActorKey{}, actor)
}

func auditActor(ctx context.Context) string {
	if a, _ := ctx.Value(auditActorKey{}).(string); a != "" {
		return a
	}
	return string(domain.RoleSystem)
}

// auditToken keeps a machine code (an outcome, a reason code, a status) out of
// the log when it is not one: free text could carry personal data.
func auditToken(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > 64 {
		return "(invalid)"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-.:", c)) {
			return "(invalid)"
		}
	}
	return s
}

// auditStatus records a decision, or the first decision of a four-eyes
// case, carried by a status change; the key makes activity retries no-ops.
func auditStatus(ctx context.Context, tx *sqlx.Tx, c StatusChange) error {
	var e AuditEntry
	switch {
	case c.Decision != nil:
		e.Actor, e.Action = c.Decision.DecidedBy, "decision."+auditToken(string(c.Decision.Outcome))
		e.Detail = "status=" + auditToken(string(c.Status))
		if c.Decision.ReasonCode != "" {
			e.Detail += " reason=" + auditToken(string(c.Decision.ReasonCode))
		}
	case c.FirstDecidedBy != "":
		// The workflow writes the first decision as "first decision: <outcome>[ (<reason>)]".
		e.Actor, e.Action = c.FirstDecidedBy, "decision.first"
		e.Detail = "status=" + auditToken(string(c.Status))
		if rest, ok := strings.CutPrefix(c.Detail, "first decision: "); ok {
			outcome, reason, _ := strings.Cut(rest, " ")
			e.Action += "." + auditToken(outcome)
			if reason = strings.TrimSuffix(strings.TrimPrefix(reason, "("), ")"); reason != "" {
				e.Detail += " reason=" + auditToken(reason)
			}
		}
	case c.Event == domain.EventDisagreement:
		// "second decision: <outcome>[ (<reason>)] disagrees with the first (…)": the contrary second decision.
		e.Actor, e.Action = c.Actor, "decision.second"
		e.Detail = "status=" + auditToken(string(c.Status))
		if rest, ok := strings.CutPrefix(c.Detail, "second decision: "); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				e.Action += "." + auditToken(fields[0])
			}
			if len(fields) > 1 && strings.HasPrefix(fields[1], "(") {
				e.Detail += " reason=" + auditToken(strings.Trim(fields[1], "()"))
			}
		}
	default:
		return nil
	}
	if e.Actor == "" {
		e.Actor = c.Actor
	}
	e.Subject, e.At = c.ApplicationID, c.At
	e.IdempotencyKey = fmt.Sprintf("status:%s:%d", c.ApplicationID, c.Seq)
	_, err := appendAudit(ctx, tx, e)
	return err
}
