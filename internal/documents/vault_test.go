package documents

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"testing"

	"github.com/visad/visad/internal/blobstore"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/keys"
)

func testKey(t *testing.T, id string) codec.Key {
	t.Helper()
	k := make([]byte, codec.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return codec.Key{ID: id, Key: k}
}

func testAddress(t *testing.T) func([]byte) string {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	k, err := keys.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k.DocumentAddress
}

// VaultContract is what every blob store must give the vault: run by the
// filesystem test below and by the S3 test against a real server.
func VaultContract(t *testing.T, blobs blobstore.Store, rawBlob func(name string) []byte) {
	ctx := context.Background()
	address := testAddress(t)
	old, next := testKey(t, "p1"), testKey(t, "p2")
	v1, err := NewVault(blobs, []codec.Key{old}, address)
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("PASSPORT P<KAZDOE<<JOHN scan "), 2000)
	plain = append(plain, make([]byte, 16)...)
	_, _ = rand.Read(plain[len(plain)-16:])
	ref, err := v1.Put(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if ref != address(plain) {
		t.Fatalf("ref %q is not the keyed address of the plaintext", ref)
	}
	// The blob at rest is ciphertext: no run of the plaintext appears in it.
	raw := rawBlob(ref)
	if len(raw) < len(plain) || bytes.Contains(raw, plain[:24]) || bytes.Contains(raw, []byte("PASSPORT")) {
		t.Fatalf("blob at rest holds plaintext (%d bytes)", len(raw))
	}
	// Written once: the same bytes again write nothing new.
	if again, err := v1.Put(ctx, plain); err != nil || again != ref {
		t.Fatalf("second put: %q, %v", again, err)
	}
	if !bytes.Equal(rawBlob(ref), raw) {
		t.Fatal("the second put rewrote the blob")
	}
	if err := blobs.Put(ctx, ref, []byte("other")); !errors.Is(err, blobstore.ErrExists) {
		t.Fatalf("overwrite: %v, want ErrExists", err)
	}
	// Rotation: a new key first, the old one behind it: old documents open,
	// new ones are wrapped with the new key.
	v2, err := NewVault(blobs, []codec.Key{next, old}, address)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v2.Get(ctx, ref)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("after rotation the old document does not open: %v", err)
	}
	fresh := []byte("a new letter, after the rotation")
	ref2, err := v2.Put(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v2.KeyID(ctx, ref2); err != nil || id != "p2" {
		t.Fatalf("new document wrapped by %q (%v), want p2", id, err)
	}
	// Without the old key the old document no longer opens.
	v3, err := NewVault(blobs, []codec.Key{next}, address)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v3.Get(ctx, ref); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("old document opened without its key: %v", err)
	}
	// A blob moved under another name does not open.
	if err := blobs.Put(ctx, ref2[:len(ref2)-4]+"0000", raw); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.Get(ctx, ref2[:len(ref2)-4]+"0000"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("moved blob opened: %v", err)
	}
	for _, r := range []string{ref, ref2, ref2[:len(ref2)-4] + "0000"} {
		if err := v2.Delete(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v2.Get(ctx, ref); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("deleted document: %v", err)
	}
	if err := v2.Delete(ctx, ref); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := blobs.Get(ctx, "../../etc/passwd"); !errors.Is(err, blobstore.ErrBadName) {
		t.Fatalf("path name: %v", err)
	}
}

func TestVaultOnFilesystem(t *testing.T) {
	fs, err := blobstore.NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	VaultContract(t, fs, func(name string) []byte {
		b, err := os.ReadFile(fs.Path(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
