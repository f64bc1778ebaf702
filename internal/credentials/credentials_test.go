package credentials

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want argon2id with the documented parameters", h)
	}
	if strings.Contains(h, "horse") {
		t.Error("the hash holds the password")
	}
	if ok, stale := CheckPassword(h, "correct horse battery"); !ok || stale {
		t.Errorf("right password: ok=%v stale=%v", ok, stale)
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery"} {
		if ok, _ := CheckPassword(h, wrong); ok {
			t.Errorf("%q matched", wrong)
		}
	}
	h2, _ := HashPassword("correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	// Malformed and hostile hashes match nothing.
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$" +
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if ok, _ := CheckPassword(bad, "correct horse battery"); ok {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
	weaker := strings.Replace(h, "t=2", "t=1", 1)
	if _, stale := CheckPassword(weaker, "x"); !stale {
		t.Error("a hash of weaker parameters is not stale")
	}
}

// RFC 6238 appendix B, SHA-1 column (8 digits there; the 6-digit code is its tail).
func TestTOTPVectors(t *testing.T) {
	secret := totpB32.EncodeToString([]byte("12345678901234567890"))
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"},
		{2000000000, "69279037"}, {20000000000, "65353130"}} {
		got, err := TOTPCode(secret, TOTPStep(time.Unix(v.unix, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if got != v.code[2:] {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.code[2:])
		}
		key, _ := totpB32.DecodeString(secret)
		if h8 := hotp(key, uint64(TOTPStep(time.Unix(v.unix, 0))), 8); h8 != v.code {
			t.Errorf("T=%d: 8 digits %s, want %s", v.unix, h8, v.code)
		}
	}
}

func TestMatchTOTPOnceAndWithinSkew(t *testing.T) {
	secret, err := NewTOTPSecret()
	if err != nil || len(secret) != 32 {
		t.Fatalf("secret %q, %v", secret, err)
	}
	now := time.Date(2026, 11, 28, 9, 0, 10, 0, time.UTC)
	cur := TOTPStep(now)
	code := func(s int64) string { c, _ := TOTPCode(secret, s); return c }
	if s, ok := MatchTOTP(secret, code(cur), now, 0); !ok || s != cur {
		t.Fatalf("current code: %d %v", s, ok)
	}
	// Replay: the same code again, once its step is recorded, fails.
	if _, ok := MatchTOTP(secret, code(cur), now, cur); ok {
		t.Error("a used code worked again")
	}
	if s, ok := MatchTOTP(secret, code(cur+1), now, cur); !ok || s != cur+1 {
		t.Error("the next step's code failed")
	}
	if _, ok := MatchTOTP(secret, code(cur-1), now, cur); ok {
		t.Error("an older step than the last used one worked")
	}
	if _, ok := MatchTOTP(secret, code(cur-2), now, 0); ok {
		t.Error("a code two steps old worked")
	}
	if _, ok := MatchTOTP(secret, code(cur+2), now, 0); ok {
		t.Error("a code two steps ahead worked")
	}
	spaced := code(cur)[:3] + " " + code(cur)[3:]
	if _, ok := MatchTOTP(secret, spaced, now, 0); !ok {
		t.Error("a code typed with a space failed")
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := MatchTOTP(secret, bad, now, 0); ok {
			t.Errorf("%q matched", bad)
		}
	}
}

func TestQRCarriesTheURI(t *testing.T) {
	uri := TOTPURI("visad", "jane.officer", "JBSWY3DPEHPK3PXP")
	if !strings.HasPrefix(uri, "otpauth://totp/visad:jane.officer?") || !strings.Contains(uri, "secret=JBSWY3DPEHPK3PXP") {
		t.Fatalf("uri %q", uri)
	}
	b, err := QRPNG(uri)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the PNG does not scan: %v", err)
	}
	if res.GetText() != uri {
		t.Errorf("scanned %q, want %q", res.GetText(), uri)
	}
}
