package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
)

// MinActionKeyBytes is the shortest action signing key accepted.
const MinActionKeyBytes = 32

var actionKeyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Action is one human action the API relays to a case's workflow as an
// update: who acts, on which workflow, with which update (name and id) and
// which arguments (their digest). The API signs it; the worker checks the
// signature before the update is accepted, so someone who can reach Temporal
// (and even holds the payload keys) cannot act in anybody's name.
type Action struct {
	Actor      string // domain.Actor.Name(): role and id
	WorkflowID string
	Name       string // the update's name
	UpdateID   string
	ArgsDigest []byte // SHA-256 of the canonical arguments
}

// message is the signed text: every field length-prefixed, so no two
// different actions share one.
func (a Action) message() []byte {
	var b []byte
	b = append(b, "visad/action/v1"...)
	for _, f := range [][]byte{[]byte(a.Actor), []byte(a.WorkflowID), []byte(a.Name), []byte(a.UpdateID), a.ArgsDigest} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// ActionKey is one named action signing key.
type ActionKey struct {
	ID  string
	Key []byte
}

// ActionKeys sign and verify actions (VISA_ACTION_KEYS). The first key signs;
// every key verifies, so a new key can be put first while updates signed with
// the old one are still in flight. Only API and worker processes hold them.
type ActionKeys struct {
	signID string
	keys   map[string][]byte
	ids    []string
}

// ErrActionNotSigned and ErrActionSignature are the errors of Verify.
var (
	ErrActionNotSigned = errors.New("the action is not signed")
	ErrActionSignature = errors.New("the action's signature does not verify")
)

// NewActionKeys builds the keys; list[0] signs.
func NewActionKeys(list ...ActionKey) (*ActionKeys, error) {
	if len(list) == 0 {
		return nil, errors.New("no action keys")
	}
	k := &ActionKeys{signID: list[0].ID, keys: map[string][]byte{}}
	for _, e := range list {
		if !actionKeyIDPattern.MatchString(e.ID) {
			return nil, fmt.Errorf("action key id %q: want 1-64 letters, digits, '.', '_' or '-'", e.ID)
		}
		if _, dup := k.keys[e.ID]; dup {
			return nil, fmt.Errorf("action key id %q is listed twice", e.ID)
		}
		if len(e.Key) < MinActionKeyBytes {
			return nil, fmt.Errorf("action key %q: want at least %d bytes, got %d", e.ID, MinActionKeyBytes, len(e.Key))
		}
		k.keys[e.ID] = append([]byte(nil), e.Key...)
		k.ids = append(k.ids, e.ID)
	}
	return k, nil
}

// ParseActionKeys reads VISA_ACTION_KEYS: "id:key" entries separated by
// commas or newlines (lines starting with # are comments), each key hex or
// base64 of at least 32 bytes. Errors name key ids, never keys.
func ParseActionKeys(spec string) (*ActionKeys, error) {
	entries, err := SplitKeyList("action", spec)
	if err != nil {
		return nil, err
	}
	list := make([]ActionKey, 0, len(entries))
	for _, e := range entries {
		list = append(list, ActionKey(e))
	}
	return NewActionKeys(list...)
}

// SigningKeyID is the id of the key new actions are signed with.
func (k *ActionKeys) SigningKeyID() string { return k.signID }

func (k *ActionKeys) mac(id string, a Action) []byte {
	m := hmac.New(sha256.New, k.keys[id])
	m.Write(a.message())
	return m.Sum(nil)
}

// Sign returns the id of the signing key and the HMAC-SHA256 of the action.
func (k *ActionKeys) Sign(a Action) (keyID string, mac []byte) {
	return k.signID, k.mac(k.signID, a)
}

// Verify checks a signature made by Sign with any of the keys.
func (k *ActionKeys) Verify(a Action, keyID string, mac []byte) error {
	if keyID == "" || len(mac) == 0 {
		return ErrActionNotSigned
	}
	if _, ok := k.keys[keyID]; !ok {
		return fmt.Errorf("%w (unknown key id)", ErrActionSignature)
	}
	if !hmac.Equal(k.mac(keyID, a), mac) {
		return ErrActionSignature
	}
	return nil
}

// GenerateActionKeys returns a fresh key list "id:hex" with one random key.
func GenerateActionKeys(id string) (string, error) {
	if !actionKeyIDPattern.MatchString(id) {
		return "", fmt.Errorf("action key id %q: want 1-64 letters, digits, '.', '_' or '-'", id)
	}
	return GenerateKeyList(id, MinActionKeyBytes)
}

// LoadOrCreateActionKeyFile reads the key list at path, creating it (0600)
// with one random key on first use. For development: production sets
// VISA_ACTION_KEYS on every api and worker process.
func LoadOrCreateActionKeyFile(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if _, err := ParseActionKeys(string(b)); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return string(b), nil
	}
	spec, err := GenerateActionKeys("dev1")
	if err != nil {
		return "", err
	}
	content := "# visad dev action signing keys (id:key, first signs); generated, for api and worker only\n" +
		spec + "\n"
	created, err := CreateKeyFile(path, content)
	if err != nil || created {
		return content, err
	}
	b, err := os.ReadFile(path) // another process created it between our read and our create
	return string(b), err
}
