// Package documents keeps applicants' supporting documents: it checks and
// cleans what is uploaded (inspect.go) and stores it encrypted, by
// reference, in a blob store (the claim check: the database and Temporal
// carry only the reference).
//
// Each blob is encrypted with a fresh random key (AES-256-GCM); that key is
// wrapped with a key derived from the first payload key (VISA_PAYLOAD_KEYS),
// and every listed payload key unwraps, so rotating the payload keys leaves
// old documents readable. A blob's name is a keyed hash of its plaintext
// (keys.Keyring.DocumentAddress): equal files share one blob, written once.
//
// Blob layout: "vdb1" ‖ len(key id) ‖ key id ‖ wrap nonce (12) ‖ wrapped
// key (48) ‖ nonce (12) ‖ AES-256-GCM ciphertext. The wrapped key's
// additional data is "visad/document-key/<ref>", the content's
// "visad/document/<ref>", so a blob cannot be passed off under another name.
package documents

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/visad/visad/internal/blobstore"
	"github.com/visad/visad/internal/codec"
)

const (
	magic   = "vdb1"
	keySize = 32
)

// ErrCorrupt: a blob does not open (wrong format, unknown key, tampered).
var ErrCorrupt = errors.New("document blob does not open")

// Vault stores documents encrypted in a blob store.
type Vault struct {
	blobs   blobstore.Store
	address func([]byte) string
	wrapID  string
	wraps   map[string]cipher.AEAD
}

// NewVault wraps blob keys with the payload keys (the first wraps, all
// unwrap); address names a plaintext's blob (a keyed hash, hex).
func NewVault(blobs blobstore.Store, payloadKeys []codec.Key, address func([]byte) string) (*Vault, error) {
	if len(payloadKeys) == 0 {
		return nil, errors.New("documents: no payload keys")
	}
	v := &Vault{blobs: blobs, address: address, wrapID: payloadKeys[0].ID, wraps: map[string]cipher.AEAD{}}
	for _, k := range payloadKeys {
		if len(k.ID) > 255 {
			return nil, fmt.Errorf("documents: payload key id too long")
		}
		m := hmac.New(sha256.New, k.Key)
		m.Write([]byte("visad/document-wrap"))
		aead, err := newGCM(m.Sum(nil))
		if err != nil {
			return nil, err
		}
		v.wraps[k.ID] = aead
	}
	return v, nil
}

// Blobs is the store underneath (tests read raw blobs through it).
func (v *Vault) Blobs() blobstore.Store { return v.blobs }

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Ref is the reference plaintext is stored under (a keyed hash of it).
func (v *Vault) Ref(plaintext []byte) string { return v.address(plaintext) }

// Put stores plaintext and returns its reference. Storing the same bytes
// again returns the same reference and writes nothing.
func (v *Vault) Put(ctx context.Context, plaintext []byte) (string, error) {
	ref := v.address(plaintext)
	if ok, err := v.blobs.Exists(ctx, ref); err != nil {
		return "", err
	} else if ok {
		return ref, nil
	}
	blob, err := v.seal(ref, plaintext)
	if err != nil {
		return "", err
	}
	if err := v.blobs.Put(ctx, ref, blob); err != nil && !errors.Is(err, blobstore.ErrExists) {
		return "", err
	}
	return ref, nil
}

func (v *Vault) seal(ref string, plaintext []byte) ([]byte, error) {
	dek := make([]byte, keySize)
	if _, err := rand.Read(dek); err != nil {
		return nil, err
	}
	content, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	wrap := v.wraps[v.wrapID]
	out := make([]byte, 0, len(magic)+1+len(v.wrapID)+12+keySize+16+12+len(plaintext)+16)
	out = append(out, magic...)
	out = append(out, byte(len(v.wrapID)))
	out = append(out, v.wrapID...)
	wrapNonce := make([]byte, wrap.NonceSize())
	if _, err := rand.Read(wrapNonce); err != nil {
		return nil, err
	}
	out = append(out, wrapNonce...)
	out = wrap.Seal(out, wrapNonce, dek, []byte("visad/document-key/"+ref))
	nonce := make([]byte, content.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return content.Seal(out, nonce, plaintext, []byte("visad/document/"+ref)), nil
}

// Get opens a document by reference.
func (v *Vault) Get(ctx context.Context, ref string) ([]byte, error) {
	blob, err := v.blobs.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	return v.open(ref, blob)
}

// KeyID names the payload key that wrapped a stored document's key.
func (v *Vault) KeyID(ctx context.Context, ref string) (string, error) {
	blob, err := v.blobs.Get(ctx, ref)
	if err != nil {
		return "", err
	}
	id, _, err := header(blob)
	return id, err
}

func header(blob []byte) (keyID string, rest []byte, err error) {
	if len(blob) < len(magic)+1 || string(blob[:len(magic)]) != magic {
		return "", nil, ErrCorrupt
	}
	n := int(blob[len(magic)])
	rest = blob[len(magic)+1:]
	if len(rest) < n {
		return "", nil, ErrCorrupt
	}
	return string(rest[:n]), rest[n:], nil
}

func (v *Vault) open(ref string, blob []byte) ([]byte, error) {
	id, rest, err := header(blob)
	if err != nil {
		return nil, err
	}
	wrap, ok := v.wraps[id]
	if !ok {
		return nil, fmt.Errorf("%w: its key was wrapped with payload key %q, which VISA_PAYLOAD_KEYS no longer lists",
			ErrCorrupt, id)
	}
	ns := wrap.NonceSize()
	if len(rest) < ns+keySize+wrap.Overhead()+ns {
		return nil, ErrCorrupt
	}
	dek, err := wrap.Open(nil, rest[:ns], rest[ns:ns+keySize+wrap.Overhead()], []byte("visad/document-key/"+ref))
	if err != nil {
		return nil, ErrCorrupt
	}
	rest = rest[ns+keySize+wrap.Overhead():]
	content, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	plain, err := content.Open(nil, rest[:ns], rest[ns:], []byte("visad/document/"+ref))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// Delete removes a document's blob. The caller makes sure no other document
// shares it (equal files share a blob).
func (v *Vault) Delete(ctx context.Context, ref string) error {
	return v.blobs.Delete(ctx, ref)
}
