package workflows_test

// Replay tests: recorded histories of real ApplicationWorkflow and
// BatchWorkflow executions (testdata/*.json) are replayed against the current
// workflow code, so a change that would break running workflows
// (non-determinism) fails `go test`. Histories recorded since payload
// encryption hold ciphertext under the fixed test key (testenv.PayloadKeys);
// the replayer and the PII scan decode them with the project's codec. See
// docs/replay.md for when and how to record a new history.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/sample"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

// RecordHistoriesEnv makes TestRecordHistories record into testdata/: set to
// 1 it (over)writes <name>.json for every path of its table (for example
// application_v1_approve.json); set to a suffix such as v2 it writes
// <name>_v2.json next to the histories of earlier releases.
const RecordHistoriesEnv = "VISA_RECORD_HISTORIES"

// replayedWorkflows are the workflow types a recorded history may be of.
var replayedWorkflows = map[string]any{
	"ApplicationWorkflow": workflows.ApplicationWorkflow,
	"BatchWorkflow":       workflows.BatchWorkflow,
}

// testCodec is the payload codec of every test stack: AES-GCM with the fixed
// test key testenv.PayloadKeys, as internal/app builds it from VISA_PAYLOAD_KEYS.
func testCodec(t testing.TB) *codec.Codec {
	t.Helper()
	c, err := codec.Parse(testenv.PayloadKeys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testDataConverter is the data converter internal/app.DialTemporal gives
// clients and workers, with the test key. It decrypts encrypted payloads and
// passes unencrypted ones (histories recorded before encryption) through.
func testDataConverter(t testing.TB) converter.DataConverter {
	return codec.DataConverter(testCodec(t))
}

func historyFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no recorded histories in testdata/; run %s=1 go test -run TestRecordHistories ./workflows/", RecordHistoriesEnv)
	}
	return files
}

// TestReplayRecordedHistories replays every recorded history with the
// project's data converter. A failure means the workflow code no longer
// produces the commands its history recorded: deploying it would break the
// workflows of that shape still running. Guard the change with
// workflow.GetVersion (docs/replay.md).
func TestReplayRecordedHistories(t *testing.T) {
	dc := testDataConverter(t)
	for _, file := range historyFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			hist := loadHistory(t, file)
			events := hist.GetEvents()
			first, last := events[0], events[len(events)-1]
			wfType := first.GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
			wf, ok := replayedWorkflows[wfType]
			if !ok {
				t.Fatalf("history of workflow type %q; register it in replayedWorkflows", wfType)
			}
			switch last.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			default:
				t.Fatalf("history ends with %v, want a completed (or continued-as-new) workflow (record it to the end)", last.GetEventType())
			}

			replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				DataConverter:    dc,
				FailureConverter: codec.FailureConverter(dc),
			})
			if err != nil {
				t.Fatal(err)
			}
			replayer.RegisterWorkflow(wf)
			logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(logger, file); err != nil {
				t.Fatalf("replay %s: %v", file, err)
			}
		})
	}
}

func loadHistory(t *testing.T, file string) *historypb.History {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(hist.GetEvents()) == 0 {
		t.Fatalf("%s: empty history", file)
	}
	return hist
}

// piiPatterns are the fixture applicant's personal data (testenv.ValidApplication):
// none may appear in a history, in its JSON or inside any payload.
var piiPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)abenov`),
	regexp.MustCompile(`(?i)nurlan`),
	regexp.MustCompile(`(?i)example\.kz`),
	regexp.MustCompile(`(?i)[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}`), // any e-mail address
	regexp.MustCompile(`\bN\d{8}\b`),                                // testenv.UniquePassport
	regexp.MustCompile(`P<KAZ`),                                     // an MRZ
	regexp.MustCompile(`1985-03-14|850314`),                         // date of birth
	regexp.MustCompile(`(?i)steppe grain|export director|lahore textiles|12 mall road`),
	regexp.MustCompile(`\+7 701|\+92 42`), // phone numbers
}

// piiIn returns the PII patterns found in the raw file or in any of the
// (decoded) payloads of its history.
func piiIn(raw []byte, decoded []*commonpb.Payload) []string {
	texts := [][]byte{raw}
	for _, p := range decoded {
		texts = append(texts, p.GetData())
		for _, v := range p.GetMetadata() {
			texts = append(texts, v)
		}
	}
	var found []string
	for _, text := range texts {
		for _, re := range piiPatterns {
			if m := re.Find(text); m != nil {
				found = append(found, fmt.Sprintf("%s (%q)", re, m))
			}
		}
	}
	return found
}

// payloads collects every Payload anywhere in the history (inputs, results,
// update arguments, failures' details), decoded from the JSON's base64.
func payloads(hist *historypb.History) []*commonpb.Payload {
	var out []*commonpb.Payload
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if p, ok := m.Interface().(*commonpb.Payload); ok {
			out = append(out, p)
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(hist.ProtoReflect())
	return out
}

// decodedPayloads returns every payload of the history decoded by the payload
// codec: encrypted ones decrypted, others as they are. It fails on a payload
// the codec cannot decrypt (unknown key id, altered), and on one whose
// encoding the scan cannot read as text, rather than let it pass unread.
func decodedPayloads(c *codec.Codec, hist *historypb.History) ([]*commonpb.Payload, error) {
	decoded, err := c.Decode(payloads(hist))
	if err != nil {
		return nil, fmt.Errorf("decode payloads with the test payload codec: %w", err)
	}
	for _, p := range decoded {
		switch enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc {
		case converter.MetadataEncodingJSON, converter.MetadataEncodingNil, converter.MetadataEncodingProtoJSON:
		default:
			return nil, fmt.Errorf("a payload has encoding %q after decoding, which the scan cannot read", enc)
		}
	}
	return decoded, nil
}

func TestRecordedHistoriesCarryNoPII(t *testing.T) {
	c := testCodec(t)
	for _, file := range historyFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		hist := loadHistory(t, file)
		decoded, err := decodedPayloads(c, hist)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if len(decoded) == 0 {
			t.Errorf("%s: no payloads found; the scan would see nothing", file)
		}
		if found := piiIn(raw, decoded); len(found) > 0 {
			t.Errorf("%s contains personal data: %v", file, found)
		}
	}
}

// The scan looks inside payloads, where JSON shows only base64, and inside
// encrypted payloads, which it decrypts with the test key first.
func TestPIIScanSeesInsidePayloads(t *testing.T) {
	c := testCodec(t)
	data := []byte(`{"surname":"Abenov","passport":"N00001234"}`)
	plain := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)}, Data: data}
	encrypted, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	historyWith := func(p *commonpb.Payload) *historypb.History {
		return &historypb.History{Events: []*historypb.HistoryEvent{{
			EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
				WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
					Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{p}},
				},
			},
		}}}
	}
	for name, p := range map[string]*commonpb.Payload{"plain": plain, "encrypted": encrypted[0]} {
		t.Run(name, func(t *testing.T) {
			hist := historyWith(p)
			raw, err := protojson.Marshal(hist)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte("Abenov")) {
				t.Fatal("expected the payload to be base64 in JSON")
			}
			if found := piiIn(raw, payloads(hist)); name == "encrypted" && len(found) > 0 {
				t.Fatalf("undecoded scan of ciphertext found %v; the test payload is not encrypted", found)
			}
			decoded, err := decodedPayloads(c, hist)
			if err != nil {
				t.Fatal(err)
			}
			if found := piiIn(raw, decoded); len(found) < 2 {
				t.Fatalf("scan found %v, want the surname and the passport number", found)
			}
		})
	}

	// A payload the test key cannot decrypt fails the scan instead of passing unread.
	other, err := codec.Parse("other1:" + strings.Repeat("ef", codec.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodedPayloads(c, historyWith(foreign[0])); err == nil {
		t.Fatal("a payload under an unknown key was accepted by the scan")
	}
	// So does one in an encoding the scan cannot read as text.
	binary := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/plain")}, Data: data}
	if _, err := decodedPayloads(c, historyWith(binary)); err == nil {
		t.Fatal("a binary/plain payload was accepted by the scan")
	}
}

// TestRecordHistories runs each path of ApplicationWorkflow (taking the
// "case-handling" version 1 branch) and a small BatchWorkflow on the embedded
// Temporal server, driven through the HTTP API, and writes the histories to
// testdata/. Payloads are encrypted with the test key (testenv.PayloadKeys),
// as on every test stack. It runs only with VISA_RECORD_HISTORIES set.
func TestRecordHistories(t *testing.T) {
	suffix := os.Getenv(RecordHistoriesEnv)
	switch {
	case suffix == "":
		t.Skipf("set %s=1 (or =v2, a file-name suffix) to record workflow histories into testdata/", RecordHistoriesEnv)
	case suffix == "1":
		suffix = ""
	case !regexp.MustCompile(`^[a-z0-9]+$`).MatchString(suffix):
		t.Fatalf("%s=%q: use 1 or a lower-case suffix such as v2", RecordHistoriesEnv, suffix)
	default:
		suffix = "_" + suffix
	}
	env := testenv.Start(t, testenv.Options{})
	officer, _ := env.StaffToken("officer", "Officer")
	supervisor, _ := env.StaffToken("supervisor", "Supervisor")

	type submitted struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	post := func(t *testing.T, path, token string, body any) {
		t.Helper()
		if r := env.Do("POST", path, token, body); r.Status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
		}
	}
	submitForm := func(t *testing.T, form domain.Application) submitted {
		t.Helper()
		r := env.Do("POST", "/v1/applications", "", form)
		if r.Status != http.StatusAccepted {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		var s submitted
		r.JSON(t, &s)
		return s
	}
	// submit files a two-year application (no chamber endorsement, so no
	// straight-through processing) and waits for it to reach the officers.
	submit := func(t *testing.T) submitted {
		t.Helper()
		s := submitForm(t, testenv.ValidApplication(domain.ProductBusiness2Y))
		env.WaitForStatus(s.ID, s.AccessToken, domain.StatusAwaitingReview)
		return s
	}
	decision := func(id string) string { return "/v1/cases/" + id + "/decision" }
	// Messages of requests for information reach the workflow's payloads:
	// keep them free of the fixture's personal data.
	rfi := map[string]any{"decision": "request_information", "message": "Please upload the invitation letter from your host.", "due_in_days": 10}

	type path struct {
		name string                    // file name without suffix and .json
		want domain.Status             // the ApplicationWorkflow's final status; "" for a BatchWorkflow
		run  func(t *testing.T) string // drives the case; returns the workflow id
	}
	paths := []path{
		{"application_v1_approve", domain.StatusIssued, func(t *testing.T) string {
			s := submit(t)
			post(t, "/v1/cases/"+s.ID+"/claim", officer, nil)
			post(t, decision(s.ID), officer, map[string]string{"decision": "approve"})
			return workflows.WorkflowID(s.ID)
		}},
		{"application_v1_refuse", domain.StatusRefused, func(t *testing.T) string {
			s := submit(t)
			post(t, decision(s.ID), officer, map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"})
			return workflows.WorkflowID(s.ID)
		}},
		{"application_v1_withdraw", domain.StatusWithdrawn, func(t *testing.T) string {
			s := submit(t)
			post(t, "/v1/applications/"+s.ID+"/withdraw", s.AccessToken, nil)
			return workflows.WorkflowID(s.ID)
		}},
		{"application_v1_stp", domain.StatusIssued, func(t *testing.T) string {
			// A clean two-year case endorsed by a chamber whose roster lists the
			// applicant is issued by the system, with no officer.
			form := testenv.ValidApplication(domain.ProductBusiness2Y)
			env.EnrolMember(&form)
			return workflows.WorkflowID(submitForm(t, form).ID)
		}},
		{"application_v1_four_eyes", domain.StatusIssued, func(t *testing.T) string {
			form := testenv.ValidApplication(domain.ProductBusiness5YMulti)
			env.EnrolMember(&form)
			s := submitForm(t, form)
			env.WaitForStatus(s.ID, s.AccessToken, domain.StatusAwaitingReview)
			post(t, decision(s.ID), officer, map[string]string{"decision": "approve"})
			post(t, decision(s.ID), supervisor, map[string]string{"decision": "approve"})
			return workflows.WorkflowID(s.ID)
		}},
		{"application_v1_rfi_approve", domain.StatusIssued, func(t *testing.T) string {
			s := submit(t)
			post(t, decision(s.ID), officer, rfi)
			post(t, "/v1/applications/"+s.ID+"/information", s.AccessToken, map[string]string{"message": "The invitation letter is uploaded."})
			post(t, decision(s.ID), officer, map[string]string{"decision": "approve"})
			return workflows.WorkflowID(s.ID)
		}},
		{"application_v1_rfi_withdraw", domain.StatusWithdrawn, func(t *testing.T) string {
			s := submit(t)
			post(t, decision(s.ID), officer, rfi)
			post(t, "/v1/applications/"+s.ID+"/withdraw", s.AccessToken, nil)
			return workflows.WorkflowID(s.ID)
		}},
		{"application_v1_ineligible", domain.StatusIneligible, func(t *testing.T) string {
			// The API refuses an ineligible form outright, so record one directly,
			// as a form accepted under an older policy would be, and start its workflow.
			form := testenv.ValidApplication(domain.ProductBusiness2Y)
			form.Applicant.Nationality = "FRA"
			form = domain.Normalize(testenv.WithMRZ(form))
			id := casework.NewApplicationID()
			sealed, _, err := env.Services.Keys.SealForm(id, form)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			app, _, err := env.Store.CreateApplication(context.Background(), db.NewApplication{
				ID: id, Reference: casework.NewReference(), Product: string(form.Product),
				PassportHash: env.Services.Keys.PassportHash(form.Passport.IssuingCountry, form.Passport.Number),
				FormSealed:   sealed, RequestHash: "recorded", SubmittedAt: now, SLADueAt: now.Add(24 * time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Services.Cases.StartWorkflow(context.Background(), app); err != nil {
				t.Fatal(err)
			}
			return workflows.WorkflowID(id)
		}},
		{"batch_three_rows", "", func(t *testing.T) string {
			// A chamber's CSV batch of three generated delegates: one page, so
			// one run (no continue-as-new).
			chamberID, token := env.Chamber("Recording Chamber")
			var buf bytes.Buffer
			if err := sample.WriteBatchCSV(&buf, sample.Generate(sample.Options{Rows: 3, Seed: 7})); err != nil {
				t.Fatal(err)
			}
			r := env.Do("POST", "/v1/chambers/"+chamberID+"/batches", token, buf.Bytes(), "Content-Type", "text/csv", "Idempotency-Key", "recording-1")
			if r.Status != http.StatusAccepted {
				t.Fatalf("post batch: %d %s", r.Status, r.Body)
			}
			var a struct {
				BatchID string `json:"batch_id"`
			}
			r.JSON(t, &a)
			return workflows.BatchWorkflowID(a.BatchID)
		}},
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	c := testCodec(t)
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			wid := p.run(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			tc := env.Services.Temporal
			if p.want == "" {
				if err := tc.GetWorkflow(ctx, wid, "").Get(ctx, nil); err != nil {
					t.Fatalf("workflow %s: %v", wid, err)
				}
			} else {
				var final workflows.CaseState
				if err := tc.GetWorkflow(ctx, wid, "").Get(ctx, &final); err != nil {
					t.Fatalf("workflow %s: %v", wid, err)
				}
				if final.Status != p.want {
					t.Fatalf("workflow ended %q, want %q", final.Status, p.want)
				}
			}
			hist := &historypb.History{}
			iter := tc.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for iter.HasNext() {
				ev, err := iter.Next()
				if err != nil {
					t.Fatal(err)
				}
				hist.Events = append(hist.Events, ev)
			}
			raw, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(hist)
			if err != nil {
				t.Fatal(err)
			}
			decoded, err := decodedPayloads(c, hist)
			if err != nil {
				t.Fatalf("history not written: %v", err)
			}
			if found := piiIn(raw, decoded); len(found) > 0 {
				t.Fatalf("history contains personal data, not written: %v", found)
			}
			file := filepath.Join("testdata", p.name+suffix+".json")
			if err := os.WriteFile(file, append(raw, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d events)", file, len(hist.Events))
		})
	}
}
