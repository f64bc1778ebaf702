// Package codec encrypts Temporal payloads so that workflow histories, the
// arguments and results of activities, updates and queries, and failure
// messages never reach the Temporal server (or its database, or its Web UI)
// in the clear.
//
// The codec is AES-256-GCM with key ids. VISA_PAYLOAD_KEYS lists the keys as
// "id:key,id:key,…" (each key hex or base64, exactly 32 bytes). The first key
// encrypts; every key decrypts. To rotate, put a new key first and keep the
// old ones behind it for as long as histories encrypted with them are read.
//
// An encoded payload has the metadata
//
//	encoding:          binary/encrypted
//	encryption-key-id: <id>
//
// and its data is nonce (12 bytes) ‖ AES-256-GCM(the whole original payload —
// metadata and data — as protobuf), with the key id as additional data.
//
// Decoding refuses a payload without that encoding: visad did not write it,
// so it may be forged (someone who reaches Temporal's frontend sending a
// plaintext update). AllowPlaintextReads relaxes that for reading histories
// written before encryption was switched on (VISA_CODEC_ALLOW_PLAINTEXT_READS)
// and for the codec server, which only shows payloads; writes are always
// encrypted.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"github.com/visad/visad/internal/keys"
)

const (
	// MetadataEncoding is the payload metadata key of the encoding.
	MetadataEncoding = converter.MetadataEncoding
	// EncodingEncrypted marks a payload this codec encrypted.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"

	// KeySize is the AES-256 key length in bytes.
	KeySize = 32
)

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Codec is an AES-256-GCM converter.PayloadCodec. It is safe for concurrent use.
type Codec struct {
	encryptID string
	aeads     map[string]cipher.AEAD
	ids       []string
	// plaintextReads passes unencrypted payloads through Decode.
	plaintextReads bool
}

var _ converter.PayloadCodec = (*Codec)(nil)

// Key is one named payload key.
type Key struct {
	ID  string
	Key []byte // KeySize bytes
}

// New builds a codec; keys[0] encrypts, all of them decrypt.
func New(list ...Key) (*Codec, error) {
	if len(list) == 0 {
		return nil, errors.New("no payload keys")
	}
	c := &Codec{encryptID: list[0].ID, aeads: map[string]cipher.AEAD{}}
	for _, k := range list {
		if !keyIDPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("payload key id %q: want 1-64 letters, digits, '.', '_' or '-'", k.ID)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("payload key id %q is listed twice", k.ID)
		}
		if len(k.Key) != KeySize {
			return nil, fmt.Errorf("payload key %q: want %d bytes, got %d", k.ID, KeySize, len(k.Key))
		}
		block, err := aes.NewCipher(k.Key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	return c, nil
}

// ParseKeys reads a key list as in VISA_PAYLOAD_KEYS: "id:key" entries
// separated by commas (or newlines, in a key file; lines starting with # are
// comments). Each key is hex or base64 and exactly 32 bytes. Errors name the
// key id, never the key.
func ParseKeys(spec string) ([]Key, error) {
	list, err := keys.SplitKeyList("payload", spec)
	if err != nil {
		return nil, err
	}
	out := make([]Key, 0, len(list))
	for _, k := range list {
		if len(k.Key) != KeySize {
			return nil, fmt.Errorf("payload key %q: want %d bytes (64 hex digits or 44 base64 characters), got %d",
				k.ID, KeySize, len(k.Key))
		}
		out = append(out, Key{ID: k.ID, Key: k.Key})
	}
	return out, nil
}

// Parse builds a codec from a key list (see ParseKeys).
func Parse(spec string) (*Codec, error) {
	list, err := ParseKeys(spec)
	if err != nil {
		return nil, err
	}
	return New(list...)
}

// AllowPlaintextReads returns a copy of c whose Decode passes unencrypted
// payloads through unchanged (Encode still encrypts everything). Only for
// histories written before encryption, or for displaying payloads.
func (c *Codec) AllowPlaintextReads() *Codec {
	cp := *c
	cp.plaintextReads = true
	return &cp
}

// PlaintextReads reports whether Decode passes unencrypted payloads through.
func (c *Codec) PlaintextReads() bool { return c.plaintextReads }

// EncryptKeyID is the id of the key new payloads are encrypted with.
func (c *Codec) EncryptKeyID() string { return c.encryptID }

// KeyIDs lists every key id, the encrypting one first.
func (c *Codec) KeyIDs() []string { return append([]string(nil), c.ids...) }

// Encode encrypts every payload with the first key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.encryptID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("encrypt payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(c.encryptID),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.encryptID)),
		}
	}
	return out, nil
}

// ErrNotEncrypted is the error of decoding a payload this codec did not
// encrypt, when plaintext reads are not allowed.
var ErrNotEncrypted = errors.New(
	"payload is not encrypted: visad refuses payloads it did not encrypt " +
		"(VISA_CODEC_ALLOW_PLAINTEXT_READS=true reads histories from before encryption)",
)

// Decode decrypts the payloads this codec (with any of its keys) encrypted.
// Any other payload is an error (ErrNotEncrypted), unless plaintext reads are
// allowed: then it passes through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[MetadataEncoding]) != EncodingEncrypted {
			if !c.plaintextReads {
				return payloads, ErrNotEncrypted
			}
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return payloads, fmt.Errorf(
				"payload encrypted with unknown key id %q (known: %s); add that key to VISA_PAYLOAD_KEYS",
				printable(id),
				strings.Join(c.ids, ", "),
			)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("payload encrypted with key id %q is truncated", id)
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return payloads, fmt.Errorf(
				"payload encrypted with key id %q does not authenticate (altered, or a different key under that id)",
				id,
			)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return payloads, fmt.Errorf("payload encrypted with key id %q: malformed content: %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// printable keeps an untrusted key id readable and short in error messages.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// DataConverter is the default data converter with payloads encrypted by c.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter encodes failure messages and stack traces with dc, so they
// are encrypted too (the server sees "Encoded failure").
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(
		temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true},
	)
}

// GenerateKeys returns a fresh key list "id:hex" with one random key.
func GenerateKeys(id string) (string, error) {
	if !keyIDPattern.MatchString(id) {
		return "", fmt.Errorf("payload key id %q: want 1-64 letters, digits, '.', '_' or '-'", id)
	}
	return keys.GenerateKeyList(id, KeySize)
}

// LoadKeyFile reads a key list file (see ParseKeys).
func LoadKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if _, err := ParseKeys(string(b)); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return string(b), nil
}

// LoadOrCreateKeyFile reads the key list at path, creating it (0600) with one
// random key on first use. For development: production sets VISA_PAYLOAD_KEYS
// on every process.
func LoadOrCreateKeyFile(path string) (string, error) {
	if _, err := os.Stat(path); err == nil {
		return LoadKeyFile(path)
	}
	spec, err := GenerateKeys("dev1")
	if err != nil {
		return "", err
	}
	content := "# visad dev payload keys (id:key, first encrypts); generated, keep it with the Temporal state\n" +
		spec + "\n"
	created, err := keys.CreateKeyFile(path, content)
	if err != nil || created {
		return content, err
	}
	return LoadKeyFile(path) // another process created it between our check and our create
}
