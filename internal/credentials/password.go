// Package credentials holds the secrets of console sign-in: password hashes
// (argon2id), TOTP second factors (RFC 6238) and the QR code that carries a
// TOTP secret to an authenticator app. It has no state and no storage.
package credentials

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters of new hashes: 19 MiB of memory, 2 passes, one lane,
// a 16-byte salt and a 32-byte key, the first of OWASP's recommended
// configurations (Password Storage Cheat Sheet, 2024), which takes about
// 30–60 ms on one core. Every hash records its own parameters (the PHC
// string format), so raising them later leaves old hashes verifiable; a
// sign-in with a hash of weaker parameters rehashes the password.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// HashPassword returns the password's argon2id hash in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime,
		argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var b64 = base64.RawStdEncoding

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

var errBadHash = errors.New("credentials: not an argon2id hash")

func parseHash(hash string) (argonParams, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return argonParams{}, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return argonParams{}, errBadHash
	}
	var p argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return argonParams{}, errBadHash
	}
	// Bounds keep a tampered row from costing the server gigabytes or minutes.
	if p.memory < 8*1024 || p.memory > 1024*1024 || p.time < 1 || p.time > 20 || p.threads < 1 || p.threads > 16 {
		return argonParams{}, errBadHash
	}
	var err error
	if p.salt, err = b64.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return argonParams{}, errBadHash
	}
	if p.key, err = b64.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return argonParams{}, errBadHash
	}
	return p, nil
}

// CheckPassword reports whether password matches hash, in time that does not
// depend on where they differ; an empty or malformed hash matches nothing
// (but costs as much as a real one, so unknown accounts take as long).
// stale is true when the hash's parameters are weaker than today's.
func CheckPassword(hash, password string) (ok, stale bool) {
	p, err := parseHash(hash)
	if err != nil {
		_ = argon2.IDKey([]byte(password), dummySalt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
		return false, false
	}
	key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	ok = subtle.ConstantTimeCompare(key, p.key) == 1
	return ok, p.memory < argonMemoryKiB || p.time < argonTime
}

var dummySalt = make([]byte, argonSaltLen)
