package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/visad/visad/db"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/dbtest"
	"github.com/visad/visad/internal/keys"
)

const codecTestKeys = "k2:" + "1111111111111111111111111111111111111111111111111111111111111111" +
	",k1:" + "2222222222222222222222222222222222222222222222222222222222222222"

func TestCodecServer(t *testing.T) {
	store := dbtest.SQLite(t)
	pc, err := codec.Parse(codecTestKeys)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	const uiOrigin = "http://localhost:8233"
	srv := httptest.NewServer(newCodecHandler(store, pc, []string{uiOrigin}, slog.New(slog.NewJSONHandler(logs, nil))))
	defer srv.Close()

	token := func(role string, revoked bool) string {
		tok, err := keys.NewStaffToken()
		if err != nil {
			t.Fatal(err)
		}
		u := db.User{
			ID:          "usr_" + role + "_" + tok[4:12],
			Name:        role,
			Role:        role,
			TokenHash:   keys.HashToken(tok),
			CreatedAtMS: time.Now().UnixMilli(),
		}
		if role == "expired" {
			u.Role = "supervisor"
			u.ExpiresAtMS = sql.NullInt64{Int64: time.Now().Add(-time.Minute).UnixMilli(), Valid: true}
		}
		if err := store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		if revoked {
			if _, err := store.RevokeUser(context.Background(), u.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		return tok
	}
	supervisor, admin, officer := token("supervisor", false), token("admin", false), token("officer", false)
	revoked, expired := token("supervisor", true), token("expired", false)

	// An encrypted payload as the Web UI finds it in a history.
	plain, err := codec.DataConverter(pc).ToPayloads(map[string]string{"surname": "Zqxcanary"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := protojson.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(body, []byte("Zqxcanary")) ||
		!bytes.Contains(body, []byte("YmluYXJ5L2VuY3J5cHRlZA==")) { // base64 of "binary/encrypted"
		t.Fatalf("test payload is not encrypted: %s", body)
	}

	post := func(path, tok string, body []byte, headers ...string) (int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}

	for name, tok := range map[string]string{"supervisor": supervisor, "admin": admin} {
		status, hdr, out := post("/decode", tok, body, "Origin", uiOrigin)
		if status != http.StatusOK {
			t.Fatalf("%s decode: %d %s", name, status, out)
		}
		if hdr.Get("Access-Control-Allow-Origin") != uiOrigin {
			t.Errorf("%s decode: CORS origin %q", name, hdr.Get("Access-Control-Allow-Origin"))
		}
		var decoded commonpb.Payloads
		if err := protojson.Unmarshal(out, &decoded); err != nil {
			t.Fatalf("decode response %s: %v", out, err)
		}
		p := decoded.GetPayloads()
		if len(p) != 1 || string(p[0].Metadata["encoding"]) != "json/plain" ||
			!strings.Contains(string(p[0].Data), `"Zqxcanary"`) {
			t.Fatalf("%s decode: %v", name, p)
		}
	}
	// Nobody gets ciphertext minted (issue 11): an encrypted forged update would pass the worker's codec.
	plainPayload := []byte(`{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"MQ=="}]}`)
	for name, tok := range map[string]string{"supervisor": supervisor, "admin": admin} {
		for _, path := range []string{"/encode", "/api/v1/namespaces/default/encode"} {
			status, _, out := post(path, tok, plainPayload, "Origin", uiOrigin)
			if status != http.StatusForbidden || strings.Contains(string(out), "YmluYXJ5L2VuY3J5cHRlZA==") {
				t.Fatalf("%s %s: %d %s", name, path, status, out)
			}
		}
	}
	// Decoding shows what a history holds, plaintext included (from before encryption, or forged).
	if st, _, dec := post("/decode", supervisor, plainPayload); st != 200 || !strings.Contains(string(dec), "MQ==") {
		t.Fatalf("decode of a plaintext payload: %d %s", st, dec)
	}

	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", "vst_notarealtoken", http.StatusUnauthorized},
		{"revoked", revoked, http.StatusUnauthorized},
		{"expired", expired, http.StatusUnauthorized},
		{"officer", officer, http.StatusForbidden},
	} {
		status, hdr, out := post("/decode", c.token, body)
		if status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, out, c.want)
		}
		if strings.Contains(string(out), "Zqxcanary") {
			t.Errorf("%s: response leaks the payload", c.name)
		}
		if c.want == http.StatusUnauthorized && !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q", c.name, hdr.Get("WWW-Authenticate"))
		}
	}
	if status, _, _ := post("/decode", "", body, "Authorization", "Basic "+supervisor); status != http.StatusUnauthorized {
		t.Errorf("basic auth: %d", status)
	}

	// CORS: the Web UI's preflight carries no token; another origin is refused.
	req, _ := http.NewRequest("OPTIONS", srv.URL+"/decode", nil)
	req.Header.Set("Origin", uiOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "X-Namespace") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	status, hdr, _ := post("/decode", supervisor, body, "Origin", "http://evil.example")
	if status != http.StatusForbidden || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign origin: %d %v", status, hdr)
	}

	// A payload under a key the server does not have: a clear error naming the key id.
	other, _ := codec.Parse("retired:" + strings.Repeat("33", 32))
	foreign, _ := codec.DataConverter(other).ToPayloads("Zqxcanary")
	fb, _ := protojson.Marshal(foreign)
	if status, _, out := post("/decode", supervisor, fb); status != http.StatusBadRequest ||
		!strings.Contains(string(out), `"retired"`) ||
		strings.Contains(string(out), "Zqxcanary") {
		t.Fatalf("unknown key: %d %s", status, out)
	}

	// The access log names who decoded, never what.
	if l := logs.String(); !strings.Contains(l, `"op":"decode"`) || !strings.Contains(l, `"role":"supervisor"`) ||
		strings.Contains(l, "Zqxcanary") {
		t.Fatalf("codec log: %s", l)
	}
	var probe map[string]any
	_, _, out := post("/decode", officer, body)
	if err := json.Unmarshal(out, &probe); err != nil || probe["status"] != float64(403) {
		t.Fatalf("problem body %s", out)
	}
}

// TestProductionCommandsRequireActionKeys: api and worker share the action
// signing keys, so neither may make one up.
func TestProductionCommandsRequireActionKeys(t *testing.T) {
	t.Setenv("VISA_SECRET_KEY", strings.Repeat("ab", 32))
	t.Setenv("VISA_PAYLOAD_KEYS", "k1:"+strings.Repeat("cd", 32))
	t.Setenv("VISA_ACTION_KEYS", "")
	for _, cmd := range []string{"api", "worker"} {
		err := run(context.Background(), []string{cmd, "--data-dir", t.TempDir()}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "VISA_ACTION_KEYS is required") {
			t.Errorf("visad %s without VISA_ACTION_KEYS: %v", cmd, err)
		}
	}
	t.Setenv("VISA_ACTION_KEYS", "a1:tooshort")
	err := run(context.Background(), []string{"worker", "--data-dir", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "VISA_ACTION_KEYS (value not shown)") {
		t.Errorf("worker with a bad action key: %v", err)
	}
}

func TestProductionCommandsRequirePayloadKeys(t *testing.T) {
	t.Setenv("VISA_SECRET_KEY", strings.Repeat("ab", 32))
	t.Setenv("VISA_PAYLOAD_KEYS", "")
	for _, cmd := range []string{"api", "worker"} {
		err := run(context.Background(), []string{cmd, "--data-dir", t.TempDir()}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "VISA_PAYLOAD_KEYS is required") {
			t.Errorf("visad %s without VISA_PAYLOAD_KEYS: %v", cmd, err)
		}
	}
	// The codec server never makes up keys: it would decrypt nothing.
	err := run(context.Background(), []string{"codec-server", "--data-dir", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "VISA_PAYLOAD_KEYS is required") {
		t.Errorf("codec-server without keys: %v", err)
	}
	t.Setenv("VISA_PAYLOAD_KEYS", "k1:tooshort")
	err = run(context.Background(), []string{"codec-server", "--data-dir", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("codec-server with a bad key: %v", err)
	}
}
