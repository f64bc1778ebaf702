package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Sealed values are "v2.<key id>.<base64 of nonce and ciphertext>". Values
// written before they named their key are "v1.<base64>", sealed with the
// legacy key.
const (
	formatV1 = "v1."
	formatV2 = "v2."
)

// SealingKeyID is the id of the key that seals.
func (k *Keyring) SealingKeyID() string { return k.sealIDs[0] }

// SealingKeyIDs lists the sealing keys, the active one first.
func (k *Keyring) SealingKeyIDs() []string { return append([]string{}, k.sealIDs...) }

// Seal encrypts plaintext with AES-256-GCM under the active sealing key;
// additional data binds the ciphertext to its row (e.g. the application id)
// so it cannot be moved.
func (k *Keyring) Seal(plaintext []byte, additional string) (string, error) {
	id := k.sealIDs[0]
	aead := k.sealing[id]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := aead.Seal(nonce, nonce, plaintext, []byte(additional))
	return formatV2 + id + "." + base64.RawStdEncoding.EncodeToString(out), nil
}

// SealedKeyID names the key a sealed value was sealed with.
func SealedKeyID(sealed string) (string, error) {
	if strings.HasPrefix(sealed, formatV1) {
		return LegacyKeyID, nil
	}
	rest, ok := strings.CutPrefix(sealed, formatV2)
	if !ok {
		return "", errors.New("unknown sealed format")
	}
	id, _, ok := strings.Cut(rest, ".")
	if !ok || !ValidKeyID(id) {
		return "", errors.New("malformed sealed value")
	}
	return id, nil
}

// Open decrypts what Seal produced, with whichever listed key sealed it.
func (k *Keyring) Open(sealed, additional string) ([]byte, error) {
	id, err := SealedKeyID(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.sealing[id]
	if !ok {
		if id == LegacyKeyID {
			return nil, errors.New("value sealed with the legacy key, and VISA_SECRET_KEY is not set")
		}
		return nil, fmt.Errorf("value sealed with unknown sealing key %q; list it in VISA_SEALING_KEYS", id)
	}
	raw := strings.TrimPrefix(sealed, formatV1)
	if strings.HasPrefix(sealed, formatV2) {
		raw = sealed[len(formatV2)+len(id)+1:]
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < aead.NonceSize() {
		return nil, errors.New("malformed sealed value")
	}
	plain, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], []byte(additional))
	if err != nil {
		return nil, errors.New("sealed value does not authenticate")
	}
	return plain, nil
}

// Reseal re-encrypts a value under the active sealing key. It reports false,
// and returns the value as it is, when the active key already sealed it.
func (k *Keyring) Reseal(sealed, additional string) (string, bool, error) {
	id, err := SealedKeyID(sealed)
	if err != nil {
		return "", false, err
	}
	if id == k.sealIDs[0] && strings.HasPrefix(sealed, formatV2) {
		return sealed, false, nil
	}
	plain, err := k.Open(sealed, additional)
	if err != nil {
		return "", false, err
	}
	out, err := k.Seal(plain, additional)
	return out, err == nil, err
}

// ActivePrefix starts every value the active key sealed.
func (k *Keyring) ActivePrefix() string { return formatV2 + k.sealIDs[0] + "." }
