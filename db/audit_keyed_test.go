package db_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/visad/visad/db"
)

// unkeyedAuditHash is what anyone can compute without a key: SHA-256 over
// the entry's fields, as the chain was before it was keyed.
func unkeyedAuditHash(prevHash string, seq, atMS int64, actor, action, subject, detail string) string {
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

// Finding 6: an insider with write access to the database rewrites the
// refusal's reason and recomputes every hash from there on, as the code that
// writes the chain would. Without the audit key the chain cannot be redone.
func TestAuditRewriteWithRecomputedHashesFailsVerify(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		refusalSeq := seedAudit(t, s)
		recs := auditLog(t, s)
		prev := recs[refusalSeq-2].Hash
		for _, r := range recs[refusalSeq-1:] {
			detail := r.Detail
			if r.Seq == refusalSeq {
				detail = "status=refused reason=other"
			}
			h := unkeyedAuditHash(prev, r.Seq, r.AtMS, r.Actor, r.Action, r.Subject, detail)
			tamper(t, s, `UPDATE audit_log SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?`, detail, prev, h, r.Seq)
			prev = h
		}
		if r := verify(t, s); r.Intact || r.BrokenAt != refusalSeq {
			t.Fatalf("a rewritten chain with recomputed hashes verifies: %+v", r)
		}
	})
}

// The whole trail replaced by a fresh unkeyed chain (every row rewritten from
// the genesis hash on) does not verify either.
func TestAuditChainReplacedFromGenesisFailsVerify(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		seedAudit(t, s)
		prev := db.AuditGenesisHash
		for _, r := range auditLog(t, s) {
			h := unkeyedAuditHash(prev, r.Seq, r.AtMS, r.Actor, r.Action, r.Subject, r.Detail)
			tamper(t, s, `UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?`, prev, h, r.Seq)
			prev = h
		}
		if r := verify(t, s); r.Intact || r.BrokenAt != 1 {
			t.Fatalf("a chain recomputed from genesis verifies: %+v", r)
		}
	})
}

// A trail written before the chain was keyed verifies once a keyed entry
// anchors it (api and worker append one at start), and not before.
func TestAuditLegacyUnkeyedPrefixIsAnchored(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *db.Store) {
		prev := db.AuditGenesisHash
		for seq := int64(1); seq <= 3; seq++ {
			h := unkeyedAuditHash(prev, seq, 1000+seq, "cli", "user.created", "usr_old", "role=officer")
			if _, err := s.DB().Exec(s.DB().Rebind(`INSERT INTO audit_log
				(seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?, ?, 'cli', 'user.created',
				'usr_old', 'role=officer', ?, ?)`), seq, 1000+seq, prev, h); err != nil {
				t.Fatal(err)
			}
			prev = h
		}
		if r := verify(t, s); r.Intact || !strings.Contains(r.Reason, "no keyed entry anchors them") {
			t.Fatalf("an unanchored unkeyed trail: %+v", r)
		}
		if err := s.AnchorAudit(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.AnchorAudit(context.Background()); err != nil { // a second start appends nothing
			t.Fatal(err)
		}
		if r := verify(t, s); !r.Intact || r.Entries != 4 || r.Unkeyed != 3 {
			t.Fatalf("anchored: %+v", r)
		}
		// An unkeyed entry after the keyed one is a rewrite without the key.
		h := unkeyedAuditHash(auditLog(t, s)[3].Hash, 5, 2000, "cli", "user.revoked", "usr_old", "")
		if _, err := s.DB().Exec(s.DB().Rebind(`INSERT INTO audit_log (seq, at, actor, action, subject, detail,
			prev_hash, hash) VALUES (5, 2000, 'cli', 'user.revoked', 'usr_old', '', ?, ?)`),
			auditLog(t, s)[3].Hash, h); err != nil {
			t.Fatal(err)
		}
		if r := verify(t, s); r.Intact || r.BrokenAt != 5 {
			t.Fatalf("an unkeyed entry after a keyed one: %+v", r)
		}
	})
}
