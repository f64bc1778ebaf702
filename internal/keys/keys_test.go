package keys

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

var secret = bytes.Repeat([]byte{0xab}, 32)

// Finding 7: a sealed value names the key that sealed it, so the key can change.
func TestSealedValuesNameTheirKey(t *testing.T) {
	k, err := New(secret)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal([]byte("form"), "app_1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "v2."+LegacyKeyID+".") {
		t.Fatalf("sealed value %q does not name its key", sealed)
	}
}

func key(id string, b byte) Key { return Key{ID: id, Key: bytes.Repeat([]byte{b}, KeySize)} }

func mustKeyring(t *testing.T, c Config) *Keyring {
	t.Helper()
	k, err := NewKeyring(c)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A value sealed before sealed values named their key (v1, under the key
// derived from VISA_SECRET_KEY) still opens, and re-seals under the new key.
func TestLegacyV1ValuesOpenAndReseal(t *testing.T) {
	block, _ := aes.NewCipher(derive(secret, "seal"))
	aead, _ := cipher.NewGCM(block)
	nonce := bytes.Repeat([]byte{1}, aead.NonceSize())
	v1 := "v1." + base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte("old form"), []byte("app_1")))

	k := mustKeyring(t, Config{Legacy: secret, Sealing: []Key{key("s1", 1)}})
	if got, err := k.Open(v1, "app_1"); err != nil || string(got) != "old form" {
		t.Fatalf("open v1: %q, %v", got, err)
	}
	if _, err := k.Open(v1, "app_2"); err == nil {
		t.Fatal("a v1 value opened for another row")
	}
	resealed, changed, err := k.Reseal(v1, "app_1")
	if err != nil || !changed || !strings.HasPrefix(resealed, "v2.s1.") {
		t.Fatalf("reseal: %q %v %v", resealed, changed, err)
	}
	again, changed, err := k.Reseal(resealed, "app_1")
	if err != nil || changed || again != resealed {
		t.Fatalf("second reseal changed it: %v %v", changed, err)
	}
	withoutLegacy := mustKeyring(t, Config{Sealing: []Key{key("s1", 1)}, Index: key("", 2).Key,
		Tokens: []Key{key("t1", 3)}, Audit: []Key{key("a1", 4)}})
	if got, err := withoutLegacy.Open(resealed, "app_1"); err != nil || string(got) != "old form" {
		t.Fatalf("after rotation, without the legacy secret: %q, %v", got, err)
	}
	if _, err := withoutLegacy.Open(v1, "app_1"); err == nil || !strings.Contains(err.Error(), "VISA_SECRET_KEY") {
		t.Fatalf("v1 without the legacy secret: %v", err)
	}
}

// Rotation: the new key seals, the old one still opens until it is dropped.
func TestSealingKeyRotation(t *testing.T) {
	old := mustKeyring(t, Config{Legacy: secret, Sealing: []Key{key("s1", 1)}})
	sealed, err := old.Seal([]byte("x"), "ad")
	if err != nil || !strings.HasPrefix(sealed, "v2.s1.") {
		t.Fatalf("%q %v", sealed, err)
	}
	both := mustKeyring(t, Config{Legacy: secret, Sealing: []Key{key("s2", 2), key("s1", 1)}})
	if both.SealingKeyID() != "s2" || !strings.HasPrefix(both.ActivePrefix(), "v2.s2.") {
		t.Fatalf("active key %q", both.SealingKeyID())
	}
	if got, err := both.Open(sealed, "ad"); err != nil || string(got) != "x" {
		t.Fatalf("old key no longer opens: %v", err)
	}
	resealed, changed, err := both.Reseal(sealed, "ad")
	if err != nil || !changed || !strings.HasPrefix(resealed, "v2.s2.") {
		t.Fatalf("reseal %q %v %v", resealed, changed, err)
	}
	onlyNew := mustKeyring(t, Config{Legacy: secret, Sealing: []Key{key("s2", 2)}})
	if _, err := onlyNew.Open(sealed, "ad"); err == nil || !strings.Contains(err.Error(), `"s1"`) {
		t.Fatalf("a value of a dropped key: %v", err)
	}
}

// The legacy secret derives the same index and token keys as before, so
// existing passport hashes and applicants' tokens keep working.
func TestLegacySecretKeepsExistingHashesAndTokens(t *testing.T) {
	mac := func(purpose, msg string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("visad/" + purpose))
		m2 := hmac.New(sha256.New, m.Sum(nil))
		m2.Write([]byte(msg))
		return m2.Sum(nil)
	}
	k := mustKeyring(t, Config{Legacy: secret})
	if got, want := k.PassportHash("kaz", "n123"), hex.EncodeToString(mac("passport", "KAZ:N123")); got != want {
		t.Fatalf("passport hash changed: %s, want %s", got, want)
	}
	token := "vat_" + base64.RawURLEncoding.EncodeToString(mac("token", "application:app_1"))
	if k.AccessToken("app_1") != token {
		t.Fatal("legacy access token changed")
	}
	// A new token key issues new tokens; the legacy ones verify while the secret is set.
	rotated := mustKeyring(t, Config{Legacy: secret, Tokens: []Key{key("t1", 3)}})
	if rotated.AccessToken("app_1") == token || !rotated.VerifyAccessToken("app_1", token) ||
		!rotated.VerifyAccessToken("app_1", rotated.AccessToken("app_1")) ||
		rotated.VerifyAccessToken("app_2", token) {
		t.Fatal("token keys do not rotate")
	}
}

func TestKeyConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"nothing":         {},
		"no index key":    {Sealing: []Key{key("s1", 1)}, Tokens: []Key{key("t1", 1)}, Audit: []Key{key("a1", 1)}},
		"reserved id":     {Legacy: secret, Sealing: []Key{key(LegacyKeyID, 1)}},
		"twice":           {Legacy: secret, Audit: []Key{key("a1", 1), key("a1", 2)}},
		"dot in id":       {Legacy: secret, Sealing: []Key{key("s.1", 1)}},
		"short":           {Legacy: secret, Tokens: []Key{{ID: "t1", Key: []byte("short")}}},
		"short secret":    {Legacy: []byte("short")},
		"short index key": {Legacy: secret, Index: []byte("short")},
	} {
		if _, err := NewKeyring(c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "\x01") {
			t.Errorf("%s: error shows key material", name)
		}
	}
	if _, err := ParseKeys("sealing", "s1:"+strings.Repeat("zz", 32)); err == nil ||
		strings.Contains(err.Error(), "zz") {
		t.Fatalf("a bad key: %v", err)
	}
}
