package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/visad/visad/db"
)

var createdUser = regexp.MustCompile(`created \w+ (usr_\S+)`)

// Must-show 3: `visad audit verify` reports an intact chain, then the exact
// broken row after the table is tampered with.
func TestAuditVerifyCommand(t *testing.T) {
	t.Setenv("VISA_DATABASE_URL", "") // the store is <data-dir>/visad.db
	ctx := context.Background()
	dir := t.TempDir()
	visad := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--data-dir", dir), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	verify := func() (string, error) { return visad("audit", "verify") }

	if out, err := verify(); err != nil || !strings.Contains(out, "audit chain intact: 0 entries") {
		t.Fatalf("empty trail: %q, %v", out, err)
	}
	var ids []string
	for _, role := range []string{"admin", "officer", "supervisor"} {
		out, err := visad("users", "create", "--role", role, "--name", "Test "+role)
		if err != nil {
			t.Fatalf("users create: %v\n%s", err, out)
		}
		m := createdUser.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no user id in %q", out)
		}
		ids = append(ids, m[1])
	}
	if out, err := visad("users", "revoke", "--id", ids[1]); err != nil {
		t.Fatalf("users revoke: %v\n%s", err, out)
	}
	out, err := verify()
	if err != nil || !strings.Contains(out, "audit chain intact: 4 entries") {
		t.Fatalf("before tampering: %q, %v", out, err)
	}
	t.Log(strings.TrimSpace(out))

	store, err := db.Open(ctx, filepath.Join(dir, "visad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs, err := store.ListAudit(ctx, 0, 10)
	if err != nil || len(recs) != 4 || recs[0].Action != "user.created" || recs[0].Actor != "cli" ||
		recs[3].Action != "user.revoked" ||
		recs[3].Subject != ids[1] {
		t.Fatalf("audit log %+v, %v", recs, err)
	}
	exec := func(q string) {
		t.Helper()
		if res, err := store.DB().Exec(q); err != nil {
			t.Fatal(err)
		} else if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("%s changed %d rows", q, n)
		}
	}

	// Someone rewrites history: the officer was "created as admin".
	exec(`UPDATE audit_log SET detail = 'role=admin' WHERE seq = 2`)
	out, err = verify()
	if err == nil || !strings.Contains(out, "audit chain BROKEN at entry 2: hash mismatch (row edited)") {
		t.Fatalf("after editing entry 2: %q, %v", out, err)
	}
	t.Log(strings.TrimSpace(out))

	// Undo the edit, then delete the revocation's predecessor instead.
	exec(`UPDATE audit_log SET detail = 'role=officer' WHERE seq = 2`)
	if out, err := verify(); err != nil || !strings.Contains(out, "audit chain intact: 4 entries") {
		t.Fatalf("after restoring entry 2: %q, %v", out, err)
	}
	exec(`DELETE FROM audit_log WHERE seq = 3`)
	out, err = verify()
	if err == nil || !strings.Contains(out, "audit chain BROKEN at entry 3: missing (row deleted)") {
		t.Fatalf("after deleting entry 3: %q, %v", out, err)
	}
	t.Log(strings.TrimSpace(out))
}

var keptHead = regexp.MustCompile(`--expect-head (\S+)`)

// Finding 6: the chain alone cannot show entries cut off its end; the head
// verify prints, kept elsewhere and passed back with --expect-head, does.
func TestAuditVerifyExpectHeadCatchesTruncation(t *testing.T) {
	t.Setenv("VISA_DATABASE_URL", "")
	ctx := context.Background()
	dir := t.TempDir()
	visad := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := run(ctx, append(args, "--data-dir", dir), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	for _, role := range []string{"admin", "officer", "supervisor"} {
		if out, err := visad("users", "create", "--role", role, "--name", "Test "+role); err != nil {
			t.Fatalf("users create: %v\n%s", err, out)
		}
	}
	out, err := visad("audit", "verify")
	m := keptHead.FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("verify prints no head to keep: %q, %v", out, err)
	}
	head := m[1]
	if out, err := visad("audit", "verify", "--expect-head", head); err != nil {
		t.Fatalf("verify against its own head: %q, %v", out, err)
	}

	store, err := db.Open(ctx, filepath.Join(dir, "visad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.DB().Exec(`DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)`); err != nil {
		t.Fatal(err)
	}
	if out, err := visad("audit", "verify"); err != nil {
		t.Fatalf("without the kept head a cut tail is not visible, as documented: %q, %v", out, err)
	}
	out, err = visad("audit", "verify", "--expect-head", head)
	if err == nil || !strings.Contains(out, "entry 3 is missing") {
		t.Fatalf("verify --expect-head after the last entry was deleted: %q, %v", out, err)
	}
	t.Log(strings.TrimSpace(out))
}
