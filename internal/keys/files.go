package keys

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Settings are the key settings as text, as in the environment.
type Settings struct {
	Secret  string // VISA_SECRET_KEY (legacy)
	Sealing string // VISA_SEALING_KEYS
	Index   string // VISA_INDEX_KEY
	Tokens  string // VISA_TOKEN_KEYS
	Audit   string // VISA_AUDIT_KEYS
}

// Empty reports whether no key is set.
func (s Settings) Empty() bool { return s == Settings{} }

// Complete reports whether the settings name every key, by the legacy
// secret or by separate keys.
func (s Settings) Complete() bool {
	return s.Secret != "" || s.Sealing != "" && s.Index != "" && s.Tokens != "" && s.Audit != ""
}

// Config parses the settings.
func (s Settings) Config() (Config, error) {
	var c Config
	var err error
	if s.Secret != "" {
		if c.Legacy, err = ParseSecret(s.Secret); err != nil {
			return c, fmt.Errorf("VISA_SECRET_KEY: %w", err)
		}
	}
	if s.Sealing != "" {
		if c.Sealing, err = ParseKeys("sealing", s.Sealing); err != nil {
			return c, fmt.Errorf("VISA_SEALING_KEYS: %w", err)
		}
	}
	if s.Index != "" {
		if c.Index, err = ParseSecret(s.Index); err != nil {
			return c, fmt.Errorf("VISA_INDEX_KEY: %w", err)
		}
	}
	if s.Tokens != "" {
		if c.Tokens, err = ParseKeys("token", s.Tokens); err != nil {
			return c, fmt.Errorf("VISA_TOKEN_KEYS: %w", err)
		}
	}
	if s.Audit != "" {
		if c.Audit, err = ParseKeys("audit", s.Audit); err != nil {
			return c, fmt.Errorf("VISA_AUDIT_KEYS: %w", err)
		}
	}
	return c, nil
}

// The variables of a key file, in the order written.
var fileVars = []string{"VISA_SEALING_KEYS", "VISA_INDEX_KEY", "VISA_TOKEN_KEYS", "VISA_AUDIT_KEYS"}

// ReadKeyFile reads a key file: VAR=value lines of the key settings (a shell
// can source it), # comments.
func ReadKeyFile(path string) (Settings, error) {
	f, err := os.Open(path)
	if err != nil {
		return Settings{}, err
	}
	defer f.Close()
	var s Settings
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, value, _ := strings.Cut(text, "=")
		switch strings.TrimPrefix(name, "export ") {
		case "VISA_SECRET_KEY":
			s.Secret = value
		case "VISA_SEALING_KEYS":
			s.Sealing = value
		case "VISA_INDEX_KEY":
			s.Index = value
		case "VISA_TOKEN_KEYS":
			s.Tokens = value
		case "VISA_AUDIT_KEYS":
			s.Audit = value
		default:
			return Settings{}, fmt.Errorf("%s:%d: not a key setting", path, line)
		}
	}
	return s, sc.Err()
}

// GenerateSettings returns fresh random keys, each under id "<prefix>1".
func GenerateSettings() (Settings, error) {
	var keys [4]string
	for i := range keys {
		b := make([]byte, KeySize)
		if _, err := rand.Read(b); err != nil {
			return Settings{}, err
		}
		keys[i] = hex.EncodeToString(b)
	}
	return Settings{Sealing: "s1:" + keys[0], Index: keys[1], Tokens: "t1:" + keys[2], Audit: "a1:" + keys[3]}, nil
}

// LoadOrCreateKeyFile reads the key file at path, creating it (0600) with
// fresh keys on first use. For development: production sets the variables.
func LoadOrCreateKeyFile(path string) (Settings, error) {
	if s, err := ReadKeyFile(path); !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	s, err := GenerateSettings()
	if err != nil {
		return Settings{}, err
	}
	values := []string{s.Sealing, s.Index, s.Tokens, s.Audit}
	var b strings.Builder
	b.WriteString("# visad development keys (generated). Production sets these variables instead.\n")
	for i, name := range fileVars {
		b.WriteString(name + "=" + values[i] + "\n")
	}
	created, err := CreateKeyFile(path, b.String())
	if err != nil || !created {
		return ReadKeyFile(path) // another process created it first
	}
	return s, nil
}

// CreateKeyFile writes a new dev key file (0600) unless one exists, which
// another process may have created meanwhile: then it reports created false.
func CreateKeyFile(path, content string) (created bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return false, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return false, err
	}
	return true, f.Close()
}

// GenerateKeyList returns a fresh key list "id:hex" with one random key of size bytes.
func GenerateKeyList(id string, size int) (string, error) {
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return id + ":" + hex.EncodeToString(b), nil
}

// ReadSecretFile reads a legacy secret file (hex), as dev mode wrote before
// it wrote separate keys.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
