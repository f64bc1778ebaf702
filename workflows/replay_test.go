package workflows_test

// Replay tests: recorded histories of real ApplicationWorkflow executions
// (testdata/*.json) are replayed against the current workflow code, so a
// change that would break running workflows (non-determinism) fails
// `go test`. See docs/replay.md for when and how to record a new history.

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
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/visad/visad/activities"
	"github.com/visad/visad/db"
	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/casework"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

// RecordHistoriesEnv makes TestRecordHistories record into testdata/: set to
// 1 it (over)writes application_<path>.json; set to a suffix such as v2 it
// writes application_<path>_v2.json next to the histories of earlier releases.
const RecordHistoriesEnv = "VISA_RECORD_HISTORIES"

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

// TestReplayRecordedHistories replays every recorded history. A failure means
// the workflow code no longer produces the commands its history recorded:
// deploying it would break the workflows of that shape still running. Guard
// the change with workflow.GetVersion (docs/replay.md).
func TestReplayRecordedHistories(t *testing.T) {
	for _, file := range historyFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			hist := loadHistory(t, file)
			events := hist.GetEvents()
			first, last := events[0], events[len(events)-1]
			if got := first.GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName(); got != "ApplicationWorkflow" {
				t.Fatalf("history of workflow type %q; register it in this test", got)
			}
			if last.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
				t.Fatalf("history ends with %v, want a completed workflow (record it to the end)", last.GetEventType())
			}

			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(workflows.ApplicationWorkflow)
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

// piiIn returns the PII patterns found in the raw file or in any payload of the history.
func piiIn(raw []byte, hist *historypb.History) []string {
	texts := [][]byte{raw}
	for _, p := range payloads(hist) {
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

func TestRecordedHistoriesCarryNoPII(t *testing.T) {
	for _, file := range historyFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		hist := loadHistory(t, file)
		all := payloads(hist)
		if len(all) == 0 {
			t.Errorf("%s: no payloads found; the scan would see nothing", file)
		}
		// An encrypted payload would pass the scan unread: decode it first.
		for _, p := range all {
			if enc := string(p.GetMetadata()["encoding"]); enc != "json/plain" && enc != "binary/null" {
				t.Errorf("%s: a payload has encoding %q, which the scan cannot read; decode the history with the payload codec before scanning", file, enc)
				break
			}
		}
		if found := piiIn(raw, hist); len(found) > 0 {
			t.Errorf("%s contains personal data: %v", file, found)
		}
	}
}

// The scan looks inside payloads, where JSON shows only base64.
func TestPIIScanSeesInsidePayloads(t *testing.T) {
	data := []byte(`{"surname":"Abenov","passport":"N00001234"}`)
	hist := &historypb.History{Events: []*historypb.HistoryEvent{{
		EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
			WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{{Data: data}}},
			},
		},
	}}}
	raw, err := protojson.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Abenov")) {
		t.Fatal("expected the payload to be base64 in JSON")
	}
	if found := piiIn(raw, hist); len(found) < 2 {
		t.Fatalf("scan found %v, want the surname and the passport number", found)
	}
}

// TestRecordHistories runs each path of ApplicationWorkflow on the embedded
// Temporal server, driven through the HTTP API, and writes the histories to
// testdata/. It runs only with VISA_RECORD_HISTORIES=1.
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

	type submitted struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	submit := func(t *testing.T) submitted {
		r := env.Do("POST", "/v1/applications", "", testenv.ValidApplication(domain.ProductBusiness2Y))
		if r.Status != http.StatusAccepted {
			t.Fatalf("submit: %d %s", r.Status, r.Body)
		}
		var s submitted
		r.JSON(t, &s)
		env.WaitForStatus(s.ID, s.AccessToken, workflows.StatusAwaitingReview)
		return s
	}
	paths := []struct {
		name string
		run  func(t *testing.T) string // returns the application id
	}{
		{"approve", func(t *testing.T) string {
			s := submit(t)
			if r := env.Do("POST", "/v1/cases/"+s.ID+"/decision", officer, map[string]string{"decision": "approve"}); r.Status != http.StatusOK {
				t.Fatalf("approve: %d %s", r.Status, r.Body)
			}
			return s.ID
		}},
		{"refuse", func(t *testing.T) string {
			s := submit(t)
			body := map[string]string{"decision": "refuse", "reason_code": "insufficient_evidence"}
			if r := env.Do("POST", "/v1/cases/"+s.ID+"/decision", officer, body); r.Status != http.StatusOK {
				t.Fatalf("refuse: %d %s", r.Status, r.Body)
			}
			return s.ID
		}},
		{"withdraw", func(t *testing.T) string {
			s := submit(t)
			if r := env.Do("POST", "/v1/applications/"+s.ID+"/withdraw", s.AccessToken, nil); r.Status != http.StatusOK {
				t.Fatalf("withdraw: %d %s", r.Status, r.Body)
			}
			return s.ID
		}},
		{"ineligible", func(t *testing.T) string {
			// The API refuses an ineligible form outright, so record one directly,
			// as a form accepted under an older policy would be, and start its workflow.
			form := testenv.ValidApplication(domain.ProductBusiness2Y)
			form.Applicant.Nationality = "FRA"
			form = domain.Normalize(testenv.WithMRZ(form))
			id := casework.NewApplicationID()
			sealed, _, err := activities.SealForm(env.Services.Keys, id, form)
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
			return id
		}},
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			id := p.run(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tc := env.Services.Temporal
			wid := workflows.WorkflowID(id)
			var final workflows.CaseState
			if err := tc.GetWorkflow(ctx, wid, "").Get(ctx, &final); err != nil {
				t.Fatalf("workflow %s: %v", wid, err)
			}
			want := map[string]string{"approve": workflows.StatusIssued, "refuse": workflows.StatusRefused,
				"withdraw": workflows.StatusWithdrawn, "ineligible": workflows.StatusIneligible}[p.name]
			if final.Status != want {
				t.Fatalf("workflow ended %q, want %q", final.Status, want)
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
			if found := piiIn(raw, hist); len(found) > 0 {
				t.Fatalf("history contains personal data, not written: %v", found)
			}
			file := filepath.Join("testdata", "application_"+p.name+suffix+".json")
			if err := os.WriteFile(file, append(raw, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d events)", file, len(hist.Events))
		})
	}
}
