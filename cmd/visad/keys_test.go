package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/keys"
)

// Finding 7: leaving the legacy secret. Data sealed under VISA_SECRET_KEY
// (v1 and v2.legacy values) is re-sealed by `visad keys rotate` under the
// new first key of VISA_SEALING_KEYS; a second run has nothing to do, and the
// data then opens without the legacy sealing key.
func TestKeysRotateFromTheLegacySecret(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	secret := bytes.Repeat([]byte{0x5a}, 32)
	t.Setenv("VISA_DATABASE_URL", filepath.Join(dir, "visad.db"))
	t.Setenv("VISA_SECRET_KEY", hex.EncodeToString(secret))
	for _, v := range []string{"VISA_SEALING_KEYS", "VISA_INDEX_KEY", "VISA_TOKEN_KEYS", "VISA_AUDIT_KEYS"} {
		t.Setenv(v, "")
	}
	legacy, err := keys.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	store, err := db.Open(ctx, filepath.Join(dir, "visad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	store.UseKeys(legacy)
	at := time.Now()
	if err := store.CreateChamber(ctx, db.Chamber{ID: "chb_k", Name: "C", CreatedAtMS: at.UnixMilli()},
		db.User{ID: "usr_k", Name: "C", Role: "chamber", TokenHash: "th", CreatedAtMS: at.UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	var members []db.Member
	for _, n := range []string{"M1", "M2", "M3"} {
		members = append(members, db.Member{MembershipNumber: n, Surname: "Abenov", GivenNames: "Nurlan",
			DateOfBirth: "1980-01-01", Nationality: "KAZ", PassportHash: "ph" + n, PassportHint: "***1",
			Status: "active", ValidUntil: "2030-01-01"})
	}
	if _, _, err := store.UpsertMembers(ctx, "chb_k", members, at); err != nil {
		t.Fatal(err)
	}

	visad := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(ctx, args, &out, &out)
		return out.String(), err
	}
	if out, err := visad("keys", "status"); err != nil || !strings.Contains(out, "sealing keys: legacy") {
		t.Fatalf("status with the legacy secret only: %q, %v", out, err)
	}
	t.Setenv("VISA_SEALING_KEYS", "s1:"+strings.Repeat("11", 32))
	out, err := visad("keys", "status")
	if err != nil || !strings.Contains(out, "chamber_members.person_sealed: 3 values not under key s1") {
		t.Fatalf("status before the rotation: %q, %v", out, err)
	}
	out, err = visad("keys", "rotate", "--batch", "2")
	if err != nil || !strings.Contains(out, "chamber_members.person_sealed: 3 re-sealed with key s1") ||
		!strings.Contains(out, "everything sealed is under key s1: legacy may be dropped") {
		t.Fatalf("rotate: %q, %v", out, err)
	}
	t.Log(out)
	if out, err := visad("keys", "rotate"); err != nil || strings.Contains(out, "re-sealed") {
		t.Fatalf("a second rotation: %q, %v", out, err)
	}
	onlyNew, err := keys.NewKeyring(keys.Config{Sealing: []keys.Key{{ID: "s1", Key: bytes.Repeat([]byte{0x11}, 32)}},
		Index: bytes.Repeat([]byte{1}, 32), Tokens: []keys.Key{{ID: "t1", Key: bytes.Repeat([]byte{2}, 32)}},
		Audit: []keys.Key{{ID: "a1", Key: bytes.Repeat([]byte{3}, 32)}}})
	if err != nil {
		t.Fatal(err)
	}
	store.UseKeys(onlyNew)
	got, _, err := store.ListMembers(ctx, "chb_k", "", 10)
	if err != nil || len(got) != 3 || got[2].Surname != "Abenov" {
		t.Fatalf("members after the rotation, without the legacy key: %+v, %v", got, err)
	}
	// The audit trail, keyed with the legacy audit key, still verifies (the secret is still set).
	if out, err := visad("audit", "verify"); err != nil {
		t.Fatalf("audit verify: %q, %v", out, err)
	}
}
