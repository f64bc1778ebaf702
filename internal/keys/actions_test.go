package keys

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	actionKeyA = "1111111111111111111111111111111111111111111111111111111111111111"
	actionKeyB = "2222222222222222222222222222222222222222222222222222222222222222"
)

func mustActionKeys(t *testing.T, spec string) *ActionKeys {
	t.Helper()
	k, err := ParseActionKeys(spec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func digest(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// TestActionSignature: a signature binds the actor, the case's workflow, the
// update's name and id, and the arguments; changing any of them fails.
func TestActionSignature(t *testing.T) {
	k := mustActionKeys(t, "a1:"+actionKeyA)
	signed := Action{
		Actor: "officer:usr_1", WorkflowID: "application/app_1", Name: "decide", UpdateID: "u-1",
		ArgsDigest: digest(`{"decision":"approve"}`),
	}
	id, mac := k.Sign(signed)
	if id != "a1" || len(mac) != sha256.Size {
		t.Fatalf("Sign = %q, %d bytes", id, len(mac))
	}
	if err := k.Verify(signed, id, mac); err != nil {
		t.Fatalf("the signed action does not verify: %v", err)
	}

	for _, tc := range []struct {
		name   string
		change func(a *Action)
	}{
		{"another actor", func(a *Action) { a.Actor = "supervisor:usr_1" }},
		{"another case", func(a *Action) { a.WorkflowID = "application/app_2" }},
		{"another action", func(a *Action) { a.Name = "claim" }},
		{"replayed under another update id", func(a *Action) { a.UpdateID = "u-2" }},
		{"tampered arguments", func(a *Action) { a.ArgsDigest = digest(`{"decision":"refuse"}`) }},
		{"no arguments", func(a *Action) { a.ArgsDigest = nil }},
		// Length prefixes: moving bytes between fields is another action.
		{"shifted fields", func(a *Action) { a.Actor, a.WorkflowID = "officer:usr_1application/", "app_1" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := signed
			tc.change(&a)
			if err := k.Verify(a, id, mac); !errors.Is(err, ErrActionSignature) {
				t.Fatalf("Verify = %v, want ErrActionSignature", err)
			}
		})
	}

	if err := k.Verify(signed, "", nil); !errors.Is(err, ErrActionNotSigned) {
		t.Fatalf("unsigned: %v", err)
	}
	if err := k.Verify(signed, "a2", mac); !errors.Is(err, ErrActionSignature) {
		t.Fatalf("unknown key id: %v", err)
	}
	// Another key (e.g. a guessed or leaked-elsewhere one) under the same id.
	other := mustActionKeys(t, "a1:"+actionKeyB)
	if err := other.Verify(signed, id, mac); !errors.Is(err, ErrActionSignature) {
		t.Fatalf("another key: %v", err)
	}
}

// TestActionKeyRotation: the first key signs, every key verifies.
func TestActionKeyRotation(t *testing.T) {
	old := mustActionKeys(t, "a1:"+actionKeyA)
	rotated := mustActionKeys(t, "a2:"+actionKeyB+",a1:"+actionKeyA)
	a := Action{Actor: "officer:usr_1", WorkflowID: "application/x", Name: "claim", UpdateID: "u", ArgsDigest: digest("")}
	id, mac := old.Sign(a)
	if err := rotated.Verify(a, id, mac); err != nil {
		t.Fatalf("a signature by the old key: %v", err)
	}
	if id, _ := rotated.Sign(a); id != "a2" {
		t.Fatalf("rotated keys sign with %q", id)
	}
}

func TestParseActionKeys(t *testing.T) {
	for _, bad := range []string{"", "a1", ":" + actionKeyA, "a1:zz", "a1:" + actionKeyA[:62], "a1:" + actionKeyA +
		",a1:" + actionKeyB, "bad id:" + actionKeyA} {
		_, err := ParseActionKeys(bad)
		if err == nil {
			t.Errorf("ParseActionKeys(%q) accepted", bad)
		} else if strings.Contains(err.Error(), actionKeyA[:20]) {
			t.Errorf("error leaks the key: %v", err)
		}
	}
	k := mustActionKeys(t, "# comment\na1:"+actionKeyA+"\n\na2:"+actionKeyB)
	if k.SigningKeyID() != "a1" {
		t.Fatalf("signing key %q", k.SigningKeyID())
	}
}

func TestLoadOrCreateActionKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "action.keys")
	first, err := LoadOrCreateActionKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreateActionKeyFile(path)
	if err != nil || again != first {
		t.Fatalf("second load: %v, same=%v", err, again == first)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi.Mode(), err)
	}
	if _, err := ParseActionKeys(first); err != nil {
		t.Fatal(err)
	}
}
