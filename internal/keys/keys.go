// Package keys holds every key visad keeps out of its database, each under a
// key id so it can be replaced: the sealing keys (AES-256-GCM) that encrypt
// personal data at rest, the blind-index key (keyed hashes of passport
// numbers for lookup), the token keys of applicants' capability tokens, and
// the audit keys that key the audit trail's hash chain.
//
// A legacy server secret (VISA_SECRET_KEY) may stand in for any of them: each
// key it derives carries the id LegacyKeyID, and sealed values written before
// sealed values named their key (format v1) open with its sealing key.
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
	"strings"
)

// MinSecretBytes is the shortest legacy server secret accepted.
const MinSecretBytes = 32

// KeySize is the size of every key that is not the legacy secret.
const KeySize = 32

// LegacyKeyID names the keys derived from the legacy server secret.
const LegacyKeyID = "legacy"

// Key is one key and its id.
type Key struct {
	ID  string
	Key []byte
}

// Config lists the keys of a Keyring. Each list's first key is the active one
// (it seals, issues tokens or keys new audit entries); every key in a list
// still opens, verifies or checks what it made.
type Config struct {
	// Legacy is the server secret of VISA_SECRET_KEY (may be empty). It
	// supplies every key not given below, and in each list it is kept as a
	// read-only key with id LegacyKeyID after the given ones.
	Legacy  []byte
	Sealing []Key
	Index   []byte // the blind index cannot be re-keyed: rosters keep only the hashes
	Tokens  []Key
	Audit   []Key
}

// Keyring holds the keys. It is safe for concurrent use.
type Keyring struct {
	indexKey []byte
	tokens   []Key
	audit    []Key
	sealing  map[string]cipher.AEAD
	sealIDs  []string // sealIDs[0] seals
}

// New is the keyring of a legacy server secret alone.
func New(secret []byte) (*Keyring, error) {
	return NewKeyring(Config{Legacy: secret})
}

// NewKeyring checks the configuration and builds the keyring.
func NewKeyring(c Config) (*Keyring, error) {
	if c.Legacy != nil && len(c.Legacy) < MinSecretBytes {
		return nil, fmt.Errorf("server secret must be at least %d bytes", MinSecretBytes)
	}
	legacy := func(purpose string) []Key {
		if c.Legacy == nil {
			return nil
		}
		return []Key{{ID: LegacyKeyID, Key: derive(c.Legacy, purpose)}}
	}
	k := &Keyring{sealing: map[string]cipher.AEAD{}}
	for _, set := range []struct {
		name string
		keys []Key
	}{{"sealing", c.Sealing}, {"token", c.Tokens}, {"audit", c.Audit}} {
		seen := map[string]bool{}
		for _, key := range set.keys {
			if err := checkKey(set.name, key, seen); err != nil {
				return nil, err
			}
		}
	}
	for _, key := range append(append([]Key{}, c.Sealing...), legacy("seal")...) {
		block, err := aes.NewCipher(key.Key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.sealing[key.ID] = aead
		k.sealIDs = append(k.sealIDs, key.ID)
	}
	k.tokens = append(append([]Key{}, c.Tokens...), legacy("token")...)
	k.audit = append(append([]Key{}, c.Audit...), legacy("audit")...)
	switch {
	case c.Index != nil:
		if len(c.Index) != KeySize {
			return nil, fmt.Errorf("index key: want %d bytes, got %d", KeySize, len(c.Index))
		}
		k.indexKey = c.Index
	case c.Legacy != nil:
		k.indexKey = derive(c.Legacy, "passport")
	}
	var missing []string
	if len(k.sealIDs) == 0 {
		missing = append(missing, "sealing")
	}
	if k.indexKey == nil {
		missing = append(missing, "index")
	}
	if len(k.tokens) == 0 {
		missing = append(missing, "token")
	}
	if len(k.audit) == 0 {
		missing = append(missing, "audit")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no %s key (and no legacy server secret to derive one from)",
			strings.Join(missing, ", "))
	}
	return k, nil
}

func checkKey(set string, key Key, seen map[string]bool) error {
	if !ValidKeyID(key.ID) {
		return fmt.Errorf("%s key id %q: use letters, digits, '.', '_', '-' (at most 32)", set, key.ID)
	}
	if key.ID == LegacyKeyID {
		return fmt.Errorf("%s key id %q is reserved for keys derived from VISA_SECRET_KEY", set, key.ID)
	}
	if seen[key.ID] {
		return fmt.Errorf("%s key id %q is listed twice", set, key.ID)
	}
	seen[key.ID] = true
	if len(key.Key) != KeySize {
		return fmt.Errorf("%s key %q: want %d bytes, got %d", set, key.ID, KeySize, len(key.Key))
	}
	return nil
}

// ValidKeyID reports whether id may name a key: it appears in sealed values.
func ValidKeyID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return !strings.Contains(id, ".")
}

// ParseKeys reads a key list as in VISA_SEALING_KEYS: "id:key" entries
// separated by commas, each key 32 bytes as hex or base64. Errors name key
// ids, never keys.
func ParseKeys(what, spec string) ([]Key, error) {
	list, err := SplitKeyList(what, spec)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, key := range list {
		if err := checkKey(what, key, seen); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// SplitKeyList reads the entries of any key list (VISA_SEALING_KEYS,
// VISA_PAYLOAD_KEYS, VISA_ACTION_KEYS, a key file): "id:key" separated by
// commas or newlines, lines starting with # being comments, each key hex or
// base64. It checks the form only; each kind of key checks ids and sizes its
// own way. Errors name the kind (what) and key ids, never keys.
func SplitKeyList(what, spec string) ([]Key, error) {
	var out []Key
	for _, line := range strings.Split(spec, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			id, material, ok := strings.Cut(entry, ":")
			id = strings.TrimSpace(id)
			if !ok || id == "" {
				return nil, fmt.Errorf("%s key entry %d: want id:key (hex or base64)", what, len(out)+1)
			}
			b, err := ParseSecret(material)
			if err != nil {
				return nil, fmt.Errorf("%s key %q: %w", what, id, err)
			}
			out = append(out, Key{ID: id, Key: b})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s keys given (want id:key[,id:key…])", what)
	}
	return out, nil
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

func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("visad/" + purpose))
	return m.Sum(nil)
}

// PassportHash is the blind index of a passport: equal for the same issuing
// country and document number, useless without the index key.
func (k *Keyring) PassportHash(issuingCountry, number string) string {
	m := hmac.New(sha256.New, k.indexKey)
	m.Write([]byte(strings.ToUpper(issuingCountry) + ":" + strings.ToUpper(number)))
	return hex.EncodeToString(m.Sum(nil))
}

// MemberPassportHash is the blind index a chamber roster keeps: rosters name
// the document number only, not its issuing country.
func (k *Keyring) MemberPassportHash(number string) string {
	m := hmac.New(sha256.New, k.indexKey)
	m.Write([]byte("member:" + strings.ToUpper(strings.ReplaceAll(number, " ", ""))))
	return hex.EncodeToString(m.Sum(nil))
}

// AccessToken is the applicant's capability token for one application, made
// with the active token key. It is derived, not stored, so an idempotent
// resubmission can return it again.
func (k *Keyring) AccessToken(applicationID string) string {
	return accessToken(k.tokens[0].Key, applicationID)
}

func accessToken(key []byte, applicationID string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("application:" + applicationID))
	return "vat_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// VerifyAccessToken checks the token against every token key, in constant
// time each, so tokens issued before a token key was replaced keep working
// while the old key is listed.
func (k *Keyring) VerifyAccessToken(applicationID, token string) bool {
	ok := 0
	for _, key := range k.tokens {
		ok |= subtle.ConstantTimeCompare([]byte(accessToken(key.Key, applicationID)), []byte(token))
	}
	return ok == 1
}

// AuditKeyID is the id of the key that keys new audit entries.
func (k *Keyring) AuditKeyID() string { return k.audit[0].ID }

// AuditMAC is HMAC-SHA256 of msg under the audit key id.
func (k *Keyring) AuditMAC(id string, msg []byte) ([]byte, error) {
	for _, key := range k.audit {
		if key.ID == id {
			m := hmac.New(sha256.New, key.Key)
			m.Write(msg)
			return m.Sum(nil), nil
		}
	}
	return nil, fmt.Errorf("unknown audit key id %q", id)
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
// key derived from the active token key, so no two purposes share a key. What
// it authenticates is short-lived: a token key rotation only ends open forms.
func (k *Keyring) MAC(purpose, msg string) string {
	m := hmac.New(sha256.New, derive(k.tokens[0].Key, "mac/"+purpose))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// DocumentAddress names a document's blob: a keyed hash of its plaintext, so
// equal files share a blob while nobody without the index key can tell from
// a name whether a known file (a passport scan) is stored.
func (k *Keyring) DocumentAddress(plaintext []byte) string {
	m := hmac.New(sha256.New, derive(k.indexKey, "document-address"))
	m.Write(plaintext)
	return hex.EncodeToString(m.Sum(nil))
}
