// Package canary_test is the PII canary: applications whose passport
// numbers, names and e-mail carry unique markers go through a real stack (the
// embedded Temporal server, worker and API of internal/testenv), and then
// everything Temporal holds — raw histories, workflow ids, search attributes,
// visibility records, activity inputs and results — is read WITHOUT the
// payload codec, together with the process logs. No marker may appear.
package canary_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

const (
	surname    = "Zqxcanary"
	givenNames = "Zqxgiven"
	email      = "zqx.canary.marker@example.kz"
)

type submitted struct {
	ID          string `json:"id"`
	AccessToken string `json:"access_token"`
}

func TestPIICanary(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true})
	officer, _ := env.StaffToken("officer", "Officer Qadir")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	seq := time.Now().UnixNano() % 1_000_000
	passports := []string{fmt.Sprintf("ZQ%07d", seq), fmt.Sprintf("ZQ%07d", seq+1), fmt.Sprintf("ZQ%07d", seq+2)}
	markers := append([]string{surname, givenNames, email, "zqx.canary.marker"}, passports...)

	submit := func(passport string) submitted {
		t.Helper()
		form := testenv.ValidApplication(domain.ProductBusiness2Y)
		form.Applicant.Surname, form.Applicant.GivenNames, form.Applicant.Email = surname, givenNames, email
		form.Passport.Number = passport
		form = testenv.WithMRZ(form)
		r := env.Do("POST", "/v1/applications", "", form)
		if r.Status != http.StatusAccepted {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		var s submitted
		r.JSON(t, &s)
		return s
	}
	post := func(path, token string, body any, want int) testenv.Response {
		t.Helper()
		r := env.Do("POST", path, token, body)
		if r.Status != want {
			t.Fatalf("POST %s: %d %s, want %d", path, r.Status, r.Body, want)
		}
		return r
	}

	// 1. Approved, after a request for information. Staff and applicant write
	// personal data into free text, as people do: it reaches the workflow as
	// update arguments, so only the codec keeps it out of the history.
	approved := submit(passports[0])
	env.WaitForStatus(approved.ID, approved.AccessToken, "awaiting_review")
	post("/v1/cases/"+approved.ID+"/decision", officer, map[string]any{"decision": "request_information",
		"message": "Mr " + surname + ", please confirm passport " + passports[0] + ".", "due_in_days": 10}, http.StatusOK)
	post("/v1/applications/"+approved.ID+"/information", approved.AccessToken, map[string]string{
		"message": "Confirmed, " + givenNames + " " + surname + ", " + passports[0] + ". Write to " + email}, http.StatusOK)
	post("/v1/cases/"+approved.ID+"/decision", officer, map[string]string{"decision": "approve",
		"note": "Identity of " + givenNames + " " + surname + " (" + passports[0] + ", " + email + ") checked"},
		http.StatusOK)
	env.WaitForStatus(approved.ID, approved.AccessToken, "issued")

	// 2. Refused; then a refused withdrawal, so an update failure travels
	// through the (encoded) failure converter.
	refused := submit(passports[1])
	env.WaitForStatus(refused.ID, refused.AccessToken, "awaiting_review")
	post("/v1/cases/"+refused.ID+"/decision", officer, map[string]string{"decision": "refuse",
		"reason_code": "insufficient_evidence", "note": "Passport " + passports[1] + " of " + surname + " looks altered"},
		http.StatusOK)
	r := post("/v1/applications/"+refused.ID+"/withdraw", refused.AccessToken, nil, http.StatusConflict)
	if strings.Contains(string(r.Body), "Encoded failure") {
		t.Fatalf("the API relayed an encrypted failure message instead of decoding it: %s", r.Body)
	}

	// 3. Withdrawn by the applicant.
	withdrawn := submit(passports[2])
	env.WaitForStatus(withdrawn.ID, withdrawn.AccessToken, "awaiting_review")
	post("/v1/applications/"+withdrawn.ID+"/withdraw", withdrawn.AccessToken, nil, http.StatusOK)

	// 4. A chamber's roster names a member with the markers and a marked birth date.
	chamberID, _ := env.Chamber("Canary Chamber")
	if _, _, err := env.Services.Cases.UpsertRoster(ctx, chamberID, []domain.Member{{
		MembershipNumber: "CAN-1", Surname: surname, GivenNames: givenNames, DateOfBirth: rosterBirthDate,
		Nationality: "KAZ", PassportNumber: passports[0], Status: domain.MemberActive,
		ValidUntil: time.Now().AddDate(2, 0, 0).Format(time.DateOnly),
	}}); err != nil {
		t.Fatal(err)
	}

	// The notification dispatcher logs too (dev mode: no SMTP).
	if _, err := env.Services.Dispatcher().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}

	cfg := env.Services.Config
	quiet := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

	// Sanity: a client WITH the codec reads every result.
	dc := codec.DataConverter(mustCodec(t, testenv.PayloadKeys))
	withCodec, err := client.Dial(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace, Logger: quiet,
		DataConverter: dc, FailureConverter: codec.FailureConverter(dc)})
	if err != nil {
		t.Fatal(err)
	}
	defer withCodec.Close()
	wantStatus := map[string]domain.Status{
		approved.ID:  domain.StatusIssued,
		refused.ID:   domain.StatusRefused,
		withdrawn.ID: domain.StatusWithdrawn,
	}
	var wids []string
	for id, want := range wantStatus {
		wid := workflows.WorkflowID(id)
		wids = append(wids, wid)
		var final workflows.CaseState
		if err := withCodec.GetWorkflow(ctx, wid, "").Get(ctx, &final); err != nil {
			t.Fatalf("workflow %s: %v", wid, err)
		}
		if final.Status != want || final.ApplicationID != id {
			t.Fatalf("workflow %s ended %+v, want %s", wid, final, want)
		}
	}
	sort.Strings(wids)

	// Everything Temporal holds, read with the default data converter only.
	raw, err := client.Dial(client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.Namespace, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var (
		seen        corpus
		decodedText strings.Builder // the histories as the codec reads them (positive control)
	)
	for _, wid := range wids {
		seen.addText("workflow id", wid)
		hist := &historypb.History{}
		it := raw.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			hist.Events = append(hist.Events, ev)
			seen.add(fmt.Sprintf("%s event %d %s", wid, ev.GetEventId(), ev.GetEventType()), ev)
		}
		if len(hist.Events) < 10 {
			t.Fatalf("%s: only %d history events", wid, len(hist.Events))
		}
		// Without the codec the result does not even decode.
		var st workflows.CaseState
		if err := raw.GetWorkflow(ctx, wid, "").Get(ctx, &st); err == nil {
			t.Errorf("%s: a client without the codec decoded the result %+v", wid, st)
		}
		decodeAll(t, &decodedText, mustCodec(t, testenv.PayloadKeys), hist)

		desc, err := raw.DescribeWorkflowExecution(ctx, wid, "")
		if err != nil {
			t.Fatal(err)
		}
		seen.add(wid+" describe", desc)
	}
	// Visibility: workflow ids, types, search attributes, memo.
	var listed []string
	deadline := time.Now().Add(15 * time.Second)
	for len(listed) < len(wids) && time.Now().Before(deadline) {
		listed = listed[:0]
		resp, err := raw.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: cfg.Namespace, Query: fmt.Sprintf("TaskQueue = %q", cfg.TaskQueue), PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range resp.GetExecutions() {
			seen.add("visibility "+ex.GetExecution().GetWorkflowId(), ex)
			if ex.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				listed = append(listed, ex.GetExecution().GetWorkflowId())
			}
		}
		if len(listed) < len(wids) {
			time.Sleep(200 * time.Millisecond)
		}
	}
	sort.Strings(listed)
	if strings.Join(listed, ",") != strings.Join(wids, ",") {
		t.Fatalf("visibility lists closed workflows %v, want %v", listed, wids)
	}
	seen.addText("process logs", env.LogBuf.String())

	// The codec is on: every payload outside search attributes is encrypted.
	if seen.payloads < 30 {
		t.Fatalf("found only %d payloads in the histories; the walk is broken", seen.payloads)
	}
	for _, where := range seen.clear {
		t.Errorf("payload not encrypted: %s", where)
	}
	if len(seen.clear) == 0 {
		t.Logf("%d payloads read without the codec, all %s", seen.payloads, codec.EncodingEncrypted)
	}

	// Positive control: the markers did reach Temporal (in the update
	// arguments), so their absence below is the codec's doing.
	dec := strings.ToLower(decodedText.String())
	for _, m := range []string{strings.ToLower(email), strings.ToLower(passports[0]), strings.ToLower(passports[1])} {
		if !strings.Contains(dec, m) {
			t.Errorf("positive control: marker %q is not in the decoded histories; the canary no longer carries PII into "+
				"Temporal, so put a marker in a field that does, or this test proves nothing about the codec", m)
		}
	}

	// No marker anywhere, in any case.
	for _, m := range markers {
		for _, where := range seen.find(m) {
			t.Errorf("marker %q readable without the codec in %s", m, where)
		}
	}

	// At rest: every row of every table of the app database, read as text
	// without the keys (requests for information, answers, notes, rosters).
	var rest corpus
	dumpDatabase(t, env, &rest)
	if len(rest.parts) < 10 {
		t.Fatalf("found only %d tables; the database walk is broken", len(rest.parts))
	}
	for _, m := range append(markers, rosterBirthDate) {
		for _, where := range rest.find(m) {
			t.Errorf("marker %q readable at rest in %s", m, where)
		}
	}
}

// rosterBirthDate marks the roster member's birth date: no other date in the stack is this one.
const rosterBirthDate = "1931-07-29"

// dumpDatabase adds each table of the app database, every row as text, to c.
func dumpDatabase(t *testing.T, env *testenv.Env, c *corpus) {
	t.Helper()
	conn := env.Store.DB()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if env.Store.Dialect() == db.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	var tables []string
	if err := conn.Select(&tables, q); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		rows, err := conn.Queryx(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintf(&sb, "%v\t", v)
			}
			sb.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		c.addText("table "+table, sb.String())
	}
}

func mustCodec(t *testing.T, spec string) *codec.Codec {
	t.Helper()
	c, err := codec.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// corpus is everything read without the codec, as text: each message as
// protojson, plus the data and metadata of every payload in it (protojson
// shows payload bytes as base64, which would hide a marker in the clear).
type corpus struct {
	parts    []part
	payloads int
	clear    []string // where an unencrypted payload was found
}

type part struct{ where, text string }

func (c *corpus) addText(where, text string) {
	c.parts = append(c.parts, part{where, strings.ToLower(text)})
}

func (c *corpus) add(where string, m proto.Message) {
	b, err := protojson.Marshal(m)
	if err != nil {
		panic(err)
	}
	c.addText(where, string(b))
	walkPayloads(m.ProtoReflect(), false, func(p *commonpb.Payload, searchAttr bool) {
		var sb strings.Builder
		for k, v := range p.GetMetadata() {
			sb.WriteString(k + "=" + string(v) + " ")
		}
		sb.Write(p.GetData())
		c.addText(where+" payload", sb.String())
		if searchAttr {
			return // indexed by the server, so never encrypted: the marker check covers them
		}
		c.payloads++
		if enc := string(p.GetMetadata()[codec.MetadataEncoding]); enc != codec.EncodingEncrypted {
			c.clear = append(c.clear, fmt.Sprintf("%s (encoding %q)", where, enc))
		}
	})
}

func (c *corpus) find(marker string) []string {
	var out []string
	marker = strings.ToLower(marker)
	for _, p := range c.parts {
		if strings.Contains(p.text, marker) {
			out = append(out, p.where)
		}
	}
	return out
}

// walkPayloads calls fn for every Payload message inside m.
func walkPayloads(m protoreflect.Message, searchAttr bool, fn func(*commonpb.Payload, bool)) {
	switch m.Descriptor().FullName() {
	case "temporal.api.common.v1.Payload":
		fn(m.Interface().(*commonpb.Payload), searchAttr)
		return
	case "temporal.api.common.v1.SearchAttributes":
		searchAttr = true
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkPayloads(l.Get(i).Message(), searchAttr, fn)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				walkPayloads(mv.Message(), searchAttr, fn)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			walkPayloads(v.Message(), searchAttr, fn)
		}
		return true
	})
}

// decodeAll writes the history's payloads, decrypted, into sb.
func decodeAll(t *testing.T, sb *strings.Builder, c *codec.Codec, hist *historypb.History) {
	t.Helper()
	walkPayloads(hist.ProtoReflect(), false, func(p *commonpb.Payload, _ bool) {
		out, err := c.Decode([]*commonpb.Payload{p})
		if err != nil {
			t.Fatalf("decode a history payload with the codec: %v", err)
		}
		sb.Write(out[0].GetData())
		sb.WriteByte('\n')
	})
}
