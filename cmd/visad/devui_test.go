package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

type jsonPayload struct {
	Metadata map[string]string `json:"metadata"`
	Data     string            `json:"data"`
}

// `visad dev` serves the Temporal Web UI, and what the UI shows of an
// application's history through its codec endpoint is the plaintext, while
// the history itself (what the UI's API returns) holds ciphertext only. The
// codec answers only a browser that opened the banner's unlock link, and
// never encodes.
func TestDevTemporalUIShowsDecryptedHistory(t *testing.T) {
	dev := startDev(t, t.TempDir(), "127.0.0.1:0")
	base := "http://" + dev.api
	code, sub := call(t, "POST", base+"/v1/applications", "", testenv.ValidApplication(domain.ProductBusiness2Y))
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %v", code, sub)
	}
	id := sub["id"].(string)

	// The history, as the UI's own API serves it to the browser.
	historyURL := dev.ui + "/api/v1/namespaces/default/workflows/" + url.PathEscape(workflows.WorkflowID(id)) +
		"/history"
	resp, err := http.Get(historyURL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("UI history: %d %s", resp.StatusCode, raw)
	}
	var history struct {
		History struct {
			Events []struct {
				Attrs *struct {
					Input struct {
						Payloads []jsonPayload `json:"payloads"`
					} `json:"input"`
				} `json:"workflowExecutionStartedEventAttributes"`
			} `json:"events"`
		} `json:"history"`
	}
	if err := json.Unmarshal(raw, &history); err != nil {
		t.Fatalf("UI history: %v\n%.500s", err, raw)
	}
	var input []jsonPayload
	for _, e := range history.History.Events {
		if e.Attrs != nil {
			input = e.Attrs.Input.Payloads
		}
	}
	if len(input) != 1 {
		t.Fatalf("no start input in the UI's history:\n%.1000s", raw)
	}
	enc, _ := base64.StdEncoding.DecodeString(input[0].Metadata["encoding"])
	data, _ := base64.StdEncoding.DecodeString(input[0].Data)
	if string(enc) != codec.EncodingEncrypted || bytes.Contains(data, []byte(id)) {
		t.Fatalf("the raw history's input is not ciphertext: encoding %q, data %q", enc, data)
	}

	decode := func(client *http.Client, path string) (int, []byte) {
		body, _ := json.Marshal(map[string]any{"payloads": input})
		req, _ := http.NewRequest("POST", dev.ui+"/codec"+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Namespace", "default")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	// Without the unlock cookie the codec shows nothing.
	if code, body := decode(http.DefaultClient, "/decode"); code != http.StatusUnauthorized {
		t.Fatalf("decode without unlocking: %d %s", code, body)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	if resp, err := browser.Get(dev.unlock + "x"); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a wrong unlock key: %v %v", resp, err)
	}
	resp, err = browser.Get(dev.unlock)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<html") {
		t.Fatalf("unlock did not land on the UI: %d %.300s", resp.StatusCode, page)
	}
	code, body := decode(browser, "/decode")
	if code != http.StatusOK {
		t.Fatalf("decode: %d %s", code, body)
	}
	var decoded struct {
		Payloads []jsonPayload `json:"payloads"`
	}
	if err := json.Unmarshal(body, &decoded); err != nil || len(decoded.Payloads) != 1 {
		t.Fatalf("decode answer %s: %v", body, err)
	}
	plain, _ := base64.StdEncoding.DecodeString(decoded.Payloads[0].Data)
	var in workflows.ApplicationInput
	if err := json.Unmarshal(plain, &in); err != nil || in.ApplicationID != id ||
		in.Product != domain.ProductBusiness2Y {
		t.Fatalf("decoded input %q (%v), want application %s", plain, err, id)
	}
	// It never encodes, even for an unlocked browser.
	if code, body := decode(browser, "/encode"); code != http.StatusForbidden {
		t.Fatalf("encode: %d %s", code, body)
	}
}
