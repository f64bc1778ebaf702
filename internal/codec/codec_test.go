package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	oldKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	newKeyHex = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f"
)

func mustParse(t *testing.T, spec string) *Codec {
	t.Helper()
	c, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func samplePayloads(t *testing.T) []*commonpb.Payload {
	t.Helper()
	dc := converter.GetDefaultDataConverter()
	var out []*commonpb.Payload
	for _, v := range []any{
		map[string]string{"surname": "Zqxcanary", "passport": "ZQ1234567"},
		"zqx.canary.marker@example.kz",
		nil,
		[]byte{0, 1, 2, 0xff},
	} {
		p, err := dc.ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	c := mustParse(t, "k1:"+oldKeyHex)
	in := samplePayloads(t)
	enc, err := c.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) != len(in) {
		t.Fatalf("encoded %d payloads, want %d", len(enc), len(in))
	}
	for i, p := range enc {
		if got := string(p.Metadata[MetadataEncoding]); got != EncodingEncrypted {
			t.Errorf("payload %d encoding %q", i, got)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Errorf("payload %d key id %q", i, got)
		}
		if len(p.Metadata) != 2 {
			t.Errorf("payload %d leaks metadata: %v", i, p.Metadata)
		}
		for _, marker := range []string{"Zqxcanary", "ZQ1234567", "zqx.canary", "json/plain", "binary/null"} {
			if bytes.Contains(p.Data, []byte(marker)) {
				t.Errorf("payload %d carries %q in the clear", i, marker)
			}
		}
	}
	// A random nonce: the same payload encrypts differently each time.
	again, _ := c.Encode(in[:1])
	if bytes.Equal(again[0].Data, enc[0].Data) {
		t.Error("two encryptions of one payload are identical")
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(in[i], dec[i]) {
			t.Errorf("payload %d: got %v, want %v", i, dec[i], in[i])
		}
	}

	// Through the data converter and the failure converter the SDK uses.
	dc := DataConverter(c)
	p, err := dc.ToPayload(map[string]string{"surname": "Zqxcanary"})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata[MetadataEncoding]) != EncodingEncrypted {
		t.Fatalf("data converter did not encrypt: %v", p.Metadata)
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["surname"] != "Zqxcanary" {
		t.Fatalf("data converter round trip: %v %v", back, err)
	}
	fc := FailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewApplicationError("passport ZQ1234567 is on file", "Conflict"))
	if strings.Contains(f.Message, "ZQ1234567") || strings.Contains(f.StackTrace, "ZQ1234567") ||
		f.EncodedAttributes == nil {
		t.Fatalf("failure message not encoded: %q", f.Message)
	}
	if string(f.EncodedAttributes.Metadata[MetadataEncoding]) != EncodingEncrypted {
		t.Fatalf("failure attributes not encrypted: %v", f.EncodedAttributes.Metadata)
	}
	err = fc.FailureToError(f)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "Conflict" || !strings.Contains(appErr.Error(), "ZQ1234567") {
		t.Fatalf("failure round trip: %v", err)
	}
}

func TestRotation(t *testing.T) {
	old := mustParse(t, "2024:"+oldKeyHex)
	enc, err := old.Encode(samplePayloads(t))
	if err != nil {
		t.Fatal(err)
	}
	// A new key goes first; the old one stays behind it to decrypt.
	rotated := mustParse(t, "2025:"+newKeyHex+", 2024:"+oldKeyHex)
	if rotated.EncryptKeyID() != "2025" {
		t.Fatalf("encrypting key %q", rotated.EncryptKeyID())
	}
	dec, err := rotated.Decode(enc)
	if err != nil {
		t.Fatalf("rotated key set cannot read old payloads: %v", err)
	}
	for i, want := range samplePayloads(t) {
		if !proto.Equal(want, dec[i]) {
			t.Errorf("payload %d: got %v", i, dec[i])
		}
	}
	fresh, err := rotated.Encode(samplePayloads(t)[:1])
	if err != nil {
		t.Fatal(err)
	}
	if id := string(fresh[0].Metadata[MetadataKeyID]); id != "2025" {
		t.Fatalf("new payloads use key %q, want the new first key", id)
	}
	// The old key set alone cannot read what the new key wrote.
	if _, err := old.Decode(fresh); err == nil || !strings.Contains(err.Error(), `"2025"`) {
		t.Fatalf("old key set on new payload: %v", err)
	}
}

func TestTamperIsAnError(t *testing.T) {
	c := mustParse(t, "k1:"+oldKeyHex+",k2:"+newKeyHex)
	enc, err := c.Encode(samplePayloads(t)[:1])
	if err != nil {
		t.Fatal(err)
	}
	clone := func() *commonpb.Payload { return proto.Clone(enc[0]).(*commonpb.Payload) }
	cases := map[string]*commonpb.Payload{}
	p := clone()
	p.Data[len(p.Data)-1] ^= 1
	cases["flipped tag bit"] = p
	p = clone()
	p.Data[20] ^= 0x80
	cases["flipped ciphertext bit"] = p
	p = clone()
	p.Data[0] ^= 1
	cases["flipped nonce bit"] = p
	p = clone()
	p.Data = p.Data[:10]
	cases["truncated"] = p
	p = clone()
	p.Metadata[MetadataKeyID] = []byte("k2") // the key id is bound as additional data
	cases["key id swapped"] = p
	for name, p := range cases {
		if _, err := c.Decode([]*commonpb.Payload{p}); err == nil {
			t.Errorf("%s: decoded without error", name)
		} else if strings.Contains(err.Error(), "Zqxcanary") {
			t.Errorf("%s: error leaks data: %v", name, err)
		}
	}
	if _, err := c.Decode(enc); err != nil {
		t.Fatalf("the untouched payload: %v", err)
	}
}

func TestUnknownKeyID(t *testing.T) {
	writer := mustParse(t, "retired-2023:"+oldKeyHex)
	enc, err := writer.Encode(samplePayloads(t)[:1])
	if err != nil {
		t.Fatal(err)
	}
	reader := mustParse(t, "current:"+newKeyHex)
	_, err = reader.Decode(enc)
	if err == nil || !strings.Contains(err.Error(), `"retired-2023"`) {
		t.Fatalf("want an error naming the key id, got %v", err)
	}
	for _, leak := range []string{"Zqxcanary", oldKeyHex, newKeyHex} {
		if strings.Contains(err.Error(), leak) {
			t.Fatalf("error leaks %q: %v", leak, err)
		}
	}
}

// TestUnencryptedPayloadsAreRefused: a payload without this codec's
// encryption was not written by visad (issue 11: a forged plaintext update
// sent straight to Temporal), so decoding it is an error.
func TestUnencryptedPayloadsAreRefused(t *testing.T) {
	c := mustParse(t, "k1:"+oldKeyHex)
	in := samplePayloads(t)
	for i, p := range in {
		_, err := c.Decode([]*commonpb.Payload{p})
		if err == nil {
			t.Fatalf("payload %d (%s) decoded without encryption", i, p.GetMetadata()[MetadataEncoding])
		}
		if !strings.Contains(err.Error(), "not encrypted") || strings.Contains(err.Error(), "Zqxcanary") {
			t.Fatalf("payload %d: error %q", i, err)
		}
	}
	// Mixed: one forged plaintext payload among encrypted ones fails the lot.
	enc, _ := c.Encode(in[:1])
	if _, err := c.Decode([]*commonpb.Payload{enc[0], in[1]}); err == nil {
		t.Fatal("mixed decode accepted a plaintext payload")
	}
	// Through the data converter, as the worker decodes an update's arguments.
	var v map[string]any
	if err := DataConverter(c).FromPayload(in[0], &v); err == nil {
		t.Fatalf("data converter decoded a plaintext payload: %v", v)
	}
}

// TestPlaintextReadsWhenAllowed is the legacy setting for histories written
// before encryption: plaintext decodes, but writes stay encrypted.
func TestPlaintextReadsWhenAllowed(t *testing.T) {
	strict := mustParse(t, "k1:"+oldKeyHex)
	c := strict.AllowPlaintextReads()
	in := samplePayloads(t)
	out, err := c.Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("payload %d was changed", i)
		}
	}
	enc, _ := c.Encode(in[:1])
	if got := string(enc[0].GetMetadata()[MetadataEncoding]); got != EncodingEncrypted {
		t.Fatalf("a lenient codec wrote %q", got)
	}
	out, err = c.Decode([]*commonpb.Payload{in[1], enc[0]})
	if err != nil || !proto.Equal(out[0], in[1]) || !proto.Equal(out[1], in[0]) {
		t.Fatalf("mixed decode: %v %v", out, err)
	}
	if _, err := strict.Decode(in[:1]); err == nil {
		t.Fatal("AllowPlaintextReads changed the codec it was called on")
	}
}

func TestParseKeys(t *testing.T) {
	raw, _ := hex.DecodeString(oldKeyHex)
	b64 := base64.StdEncoding.EncodeToString(raw)
	ks, err := ParseKeys(" a:" + oldKeyHex + " ,b:" + b64 + ",c:" + base64.RawURLEncoding.EncodeToString(raw) + ",")
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 3 || ks[0].ID != "a" || ks[2].ID != "c" || !bytes.Equal(ks[0].Key, raw) ||
		!bytes.Equal(ks[1].Key, raw) ||
		!bytes.Equal(ks[2].Key, raw) {
		t.Fatalf("parsed %+v", ks)
	}
	for spec, want := range map[string]string{
		"":                               "no payload keys",
		oldKeyHex:                        "want id:key",
		"short:abcd":                     `"short"`,
		"bad:not-a-key!!":                `"bad"`,
		"a:" + oldKeyHex + ",a:" + b64:   "twice",
		"bad id:" + oldKeyHex:            "bad id",
		"x:" + oldKeyHex + oldKeyHex[:2]: `"x"`,
	} {
		_, err := Parse(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v, want an error with %q", spec, err, want)
		}
		if err != nil && strings.Contains(err.Error(), oldKeyHex) {
			t.Errorf("Parse(%q): error leaks the key: %v", spec, err)
		}
	}
	// Key files: one key per line, comments allowed.
	c, err := Parse("# keys\nnew:" + newKeyHex + "\nold:" + oldKeyHex + "\n")
	if err != nil || strings.Join(c.KeyIDs(), ",") != "new,old" {
		t.Fatalf("key file: %v %v", c, err)
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "payload.keys")
	first, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", st, err)
	}
	second, err := LoadOrCreateKeyFile(path)
	if err != nil || second != first {
		t.Fatalf("second load: %q %v, want the same keys", second, err)
	}
	c1, _ := Parse(first)
	enc, _ := c1.Encode(samplePayloads(t)[:1])
	c2, _ := Parse(second)
	if _, err := c2.Decode(enc); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
