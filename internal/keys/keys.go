// Package keys derives every secret visad needs from one server secret:
// keyed hashes (blind indexes) for passport numbers, applicants' capability
// tokens, and the AES-256-GCM key that seals application forms at rest.
package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MinSecretBytes is the shortest server secret accepted.
const MinSecretBytes = 32

// Keyring holds keys derived from the server secret. It is safe for concurrent use.
type Keyring struct {
	passportKey []byte
	tokenKey    []byte
	aead        cipher.AEAD
}

// New derives the keyring from a secret of at least MinSecretBytes bytes.
func New(secret []byte) (*Keyring, error) {
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("server secret must be at least %d bytes", MinSecretBytes)
	}
	block, err := aes.NewCipher(derive(secret, "seal"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{passportKey: derive(secret, "passport"), tokenKey: derive(secret, "token"), aead: aead}, nil
}

// ParseSecret accepts a hex or base64 encoded secret (as in VISA_SECRET_KEY).
func ParseSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, errors.New("secret is neither hex nor base64")
}

// LoadOrCreateSecretFile reads the hex secret at path, creating it (0600) on
// first use. For development: production passes VISA_SECRET_KEY to every process.
func LoadOrCreateSecretFile(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil {
		return ParseSecret(string(b))
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process created it between our read and our create.
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return ParseSecret(string(b))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(secret) + "\n"); err != nil {
		return nil, err
	}
	return secret, nil
}

func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("visad/" + purpose))
	return m.Sum(nil)
}

// PassportHash is the blind index of a passport: equal for the same issuing
// country and document number, useless without the server secret.
func (k *Keyring) PassportHash(issuingCountry, number string) string {
	m := hmac.New(sha256.New, k.passportKey)
	m.Write([]byte(strings.ToUpper(issuingCountry) + ":" + strings.ToUpper(number)))
	return hex.EncodeToString(m.Sum(nil))
}

// MemberPassportHash is the blind index a chamber roster keeps: rosters name
// the document number only, not its issuing country.
func (k *Keyring) MemberPassportHash(number string) string {
	m := hmac.New(sha256.New, k.passportKey)
	m.Write([]byte("member:" + strings.ToUpper(strings.ReplaceAll(number, " ", ""))))
	return hex.EncodeToString(m.Sum(nil))
}

// AccessToken is the applicant's capability token for one application. It is
// derived, not stored, so an idempotent resubmission can return it again.
func (k *Keyring) AccessToken(applicationID string) string {
	m := hmac.New(sha256.New, k.tokenKey)
	m.Write([]byte("application:" + applicationID))
	return "vat_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifyAccessToken compares in constant time.
func (k *Keyring) VerifyAccessToken(applicationID, token string) bool {
	return subtle.ConstantTimeCompare([]byte(k.AccessToken(applicationID)), []byte(token)) == 1
}

// Seal encrypts plaintext with AES-256-GCM; additional data binds the
// ciphertext to its row (e.g. the application id) so it cannot be moved.
func (k *Keyring) Seal(plaintext []byte, additional string) (string, error) {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := k.aead.Seal(nonce, nonce, plaintext, []byte(additional))
	return "v1." + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal produced.
func (k *Keyring) Open(sealed, additional string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, "v1.")
	if !ok {
		return nil, errors.New("unknown sealed format")
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < k.aead.NonceSize() {
		return nil, errors.New("malformed sealed value")
	}
	plain, err := k.aead.Open(nil, b[:k.aead.NonceSize()], b[k.aead.NonceSize():], []byte(additional))
	if err != nil {
		return nil, errors.New("sealed value does not authenticate")
	}
	return plain, nil
}

// HashToken hashes a staff bearer token for storage and lookup. Tokens carry
// 256 bits of randomness, so a plain SHA-256 is enough (no password stretching).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewStaffToken returns a fresh random bearer token.
func NewStaffToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "vst_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashRequest fingerprints a request body for idempotency checks.
func HashRequest(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// MAC authenticates msg for one purpose (e.g. the portal's page tokens) with a
// key derived from the server secret, so no two purposes share a key.
func (k *Keyring) MAC(purpose, msg string) string {
	m := hmac.New(sha256.New, derive(k.tokenKey, "mac/"+purpose))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
