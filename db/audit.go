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
// The hash is an HMAC-SHA256 under an audit key that lives outside the
// database (keys.Keyring, VISA_AUDIT_KEYS), named by the entry's key_id: whoever
// can write the database but does not hold the key cannot recompute the
// chain after rewriting a row. Entries written before the chain was keyed
// (key_id empty) are accepted only as a prefix that a keyed entry after them
// anchors. What the chain cannot show on its own: entries deleted at the very
// end. Keep the head VerifyAudit reports (LastSeq:LastHash) somewhere else and
// pass it back as ExpectHead to catch that too.

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
	KeyID          string         `db:"key_id"` // the audit key of Hash; empty: unkeyed (before keys)
}

// At is when the audited event happened.
func (r AuditRecord) At() time.Time { return fromMS(r.AtMS) }

const auditColumns = `seq, at, actor, action, subject, detail, idempotency_key, prev_hash, hash, key_id`

// AuditHash is an entry's hash before the chain was keyed: hex SHA-256 over
// a version tag and the length-prefixed fields. Entries with no key id carry it.
func AuditHash(prevHash string, seq, atMS int64, actor, action, subject, detail string) string {
	sum := sha256.Sum256(auditMessage("visad-audit-v1", "", prevHash, seq, atMS, actor, action, subject, detail))
	return hex.EncodeToString(sum[:])
}

// auditMessage encodes the fields length-prefixed, so no two different
// entries encode alike.
func auditMessage(version, keyID, prevHash string, seq, atMS int64, actor, action, subject, detail string) []byte {
	var b []byte
	str := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(v int64) { b = binary.BigEndian.AppendUint64(b, uint64(v)) }
	str(version)
	if keyID != "" {
		str(keyID)
	}
	str(prevHash)
	num(seq)
	num(atMS)
	str(actor)
	str(action)
	str(subject)
	str(detail)
	return b
}

// AuditRecordHash is a record's hash: keyed (HMAC-SHA256) when it names an audit key.
func (s *Store) AuditRecordHash(r AuditRecord) (string, error) {
	if r.KeyID == "" {
		return AuditHash(r.PrevHash, r.Seq, r.AtMS, r.Actor, r.Action, r.Subject, r.Detail), nil
	}
	if s.keys == nil {
		return "", errNoKeys
	}
	mac, err := s.keys.AuditMAC(r.KeyID,
		auditMessage("visad-audit-v2", r.KeyID, r.PrevHash, r.Seq, r.AtMS, r.Actor, r.Action, r.Subject, r.Detail))
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(mac), nil
}

// AppendAudit appends one entry in a transaction of its own. With an
// IdempotencyKey that was used before, it appends nothing and returns the
// earlier entry.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditRecord, error) {
	var rec AuditRecord
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		rec, err = s.appendAudit(ctx, tx, e)
		return err
	})
	return rec, err
}

// appendAudit appends e inside the caller's transaction, so the entry commits
// or rolls back with the change it records. On PostgreSQL it takes an
// exclusive lock on audit_log until the transaction ends; call it after the
// transaction's other writes so that lock is always taken last.
func (s *Store) appendAudit(ctx context.Context, tx *sqlx.Tx, e AuditEntry) (AuditRecord, error) {
	if e.Action == "" || e.Subject == "" {
		return AuditRecord{}, errors.New("audit entry needs an action and a subject")
	}
	if e.Actor == "" {
		e.Actor = "unknown" // record the event anyway rather than fail the change it belongs to
	}
	if s.keys == nil {
		return AuditRecord{}, errNoKeys
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
		KeyID: s.keys.AuditKeyID(),
	}
	if rec.Hash, err = s.AuditRecordHash(rec); err != nil {
		return AuditRecord{}, err
	}
	res, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO audit_log (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`),
		rec.Seq, rec.AtMS, rec.Actor, rec.Action, rec.Subject, rec.Detail, rec.IdempotencyKey, rec.PrevHash, rec.Hash,
		rec.KeyID)
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
	Unkeyed  int64 // entries 1..Unkeyed predate the keyed chain
}

// Head is the chain's head as `visad audit verify --expect-head` takes it.
func (r AuditReport) Head() string { return fmt.Sprintf("%d:%s", r.LastSeq, r.LastHash) }

// ParseAuditHead reads a head as Head writes it.
func ParseAuditHead(s string) (seq int64, hash string, err error) {
	n, h, ok := strings.Cut(strings.TrimSpace(s), ":")
	if _, err := fmt.Sscan(n, &seq); !ok || err != nil || seq < 1 || len(h) != 64 {
		return 0, "", errors.New("want <seq>:<hash> as audit verify prints it")
	}
	return seq, strings.ToLower(h), nil
}

// VerifyAudit recomputes the whole chain and reports the first entry that was
// edited (its hash no longer matches its fields under its key), deleted (a
// gap in seq) or relinked (its prev_hash is not the previous entry's hash).
// With expectSeq > 0, the chain must also hold that entry with expectHash: a
// head kept outside the database, which shows entries cut off the end.
func (s *Store) VerifyAudit(ctx context.Context) (AuditReport, error) {
	return s.VerifyAuditHead(ctx, 0, "")
}

// VerifyAuditHead is VerifyAudit against a head kept elsewhere.
func (s *Store) VerifyAuditHead(ctx context.Context, expectSeq int64, expectHash string) (AuditReport, error) {
	rows, err := s.db.QueryxContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return AuditReport{}, err
	}
	defer rows.Close()
	report := AuditReport{Intact: true}
	want, prevHash, keyed := int64(1), AuditGenesisHash, false
	headFound := false
	for rows.Next() {
		var r AuditRecord
		if err := rows.StructScan(&r); err != nil {
			return AuditReport{}, err
		}
		report.Entries++
		report.LastSeq, report.LastHash = r.Seq, r.Hash
		if r.Seq == expectSeq {
			headFound = true
			if r.Hash != expectHash && report.Intact {
				report.Intact, report.BrokenAt = false, r.Seq
				report.Reason = "hash differs from the kept head (chain rewritten)"
			}
		}
		if !report.Intact {
			continue // keep counting; the first break is what matters
		}
		hash, hashErr := s.AuditRecordHash(r)
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
		case r.KeyID == "" && keyed:
			report.Intact, report.BrokenAt = false, r.Seq
			report.Reason = "unkeyed entry after keyed ones (row rewritten without the audit key)"
		case hashErr != nil:
			report.Intact, report.BrokenAt = false, r.Seq
			report.Reason = "cannot check: " + hashErr.Error()
		case hash != r.Hash:
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
		if r.KeyID != "" {
			keyed = true
		} else {
			report.Unkeyed = r.Seq
		}
		want, prevHash = r.Seq+1, r.Hash
	}
	if err := rows.Err(); err != nil {
		return AuditReport{}, err
	}
	if report.Intact && report.Unkeyed > 0 && !keyed {
		// Anyone could have written an unkeyed chain: only a keyed entry after it vouches for it.
		report.Intact, report.BrokenAt = false, 1
		report.Reason = fmt.Sprintf("entries 1 to %d are unkeyed and no keyed entry anchors them "+
			"(start visad api or worker once to anchor them)", report.Unkeyed)
	}
	if expectSeq > 0 && !headFound && report.Intact {
		report.Intact, report.BrokenAt = false, expectSeq
		report.Reason = fmt.Sprintf("entry %d is missing: the trail ends at entry %d (entries cut off its end)",
			expectSeq, report.LastSeq)
	}
	return report, nil
}

// AnchorAudit appends a keyed entry when the chain ends with entries written
// before it was keyed, so that the keyed chain vouches for them.
func (s *Store) AnchorAudit(ctx context.Context) error {
	var keyID string
	err := s.db.GetContext(ctx, &keyID, `SELECT key_id FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && keyID != "") {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.AppendAudit(ctx, AuditEntry{Actor: string(domain.RoleSystem), Action: "audit.keyed",
		Subject: "audit_log", Detail: "key=" + s.keys.AuditKeyID()})
	return err
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
func (s *Store) auditStatus(ctx context.Context, tx *sqlx.Tx, c StatusChange) error {
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
	_, err := s.appendAudit(ctx, tx, e)
	return err
}
