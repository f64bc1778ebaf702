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
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

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
// refuses unencrypted ones, as workers do (every recorded history is encrypted).
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
		t.Fatalf(
			"no recorded histories in testdata/; run %s=1 go test -run TestRecordHistories ./workflows/",
			RecordHistoriesEnv,
		)
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
			if wfType := workflowType(hist); !slices.Contains(registeredWorkflows(), wfType) {
				t.Fatalf("history of workflow type %q, which workflows.Register does not register", wfType)
			}
			switch last := events[len(events)-1]; last.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			default:
				t.Fatalf(
					"history ends with %v, want a completed (or continued-as-new) workflow (record it to the end)",
					last.GetEventType(),
				)
			}

			replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				DataConverter:    dc,
				FailureConverter: codec.FailureConverter(dc),
			})
			if err != nil {
				t.Fatal(err)
			}
			workflows.Register(replayer)
			logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err := replayer.ReplayWorkflowHistoryFromJSONFile(logger, file); err != nil {
				t.Fatalf("replay %s: %v", file, err)
			}
		})
	}
}

// registeredWorkflows are the type names of the workflows a worker registers.
func registeredWorkflows() []string {
	var r registeredNames
	workflows.Register(&r)
	return r.names
}

// registeredNames collects the names workflows are registered under, named
// as the SDK names them: the function's name without its package.
type registeredNames struct {
	worker.WorkflowRegistry // not implemented: a new way of registering fails the test
	names                   []string
}

func (r *registeredNames) RegisterWorkflow(wf any) {
	r.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{})
}

func (r *registeredNames) RegisterWorkflowWithOptions(wf any, o workflow.RegisterOptions) {
	name := o.Name
	if name == "" {
		name = runtime.FuncForPC(reflect.ValueOf(wf).Pointer()).Name()
		name = strings.TrimSuffix(name[strings.LastIndex(name, ".")+1:], "-fm")
	}
	r.names = append(r.names, name)
}

func workflowType(hist *historypb.History) string {
	return hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
}

// TestEveryRegisteredWorkflowHasAHistory: a workflow the worker registers
// without a recorded history has no replay test to guard its running
// executions against an incompatible change.
func TestEveryRegisteredWorkflowHasAHistory(t *testing.T) {
	recorded := map[string]int{}
	for _, file := range historyFiles(t) {
		recorded[workflowType(loadHistory(t, file))]++
	}
	registered := registeredWorkflows()
	if !slices.Contains(registered, "ApplicationWorkflow") {
		t.Fatalf("registered workflows %q, want ApplicationWorkflow among them (named as the SDK names them)", registered)
	}
	for _, name := range registered {
		if recorded[name] == 0 {
			t.Errorf("workflow %s is registered but no history of it is recorded in testdata/; "+
				"add its paths to recordedPaths and record them (docs/replay.md)", name)
		}
	}
}

// TestRecordedHistoriesCoverThePolicy: the recorded histories take every
// update, fire every timer and continue as new, so a change to any of those
// paths meets a history that replays it. A case's steps are local activities,
// whose markers record results, not inputs: the paths are told by the case
// states the workflow and its updates return.
func TestRecordedHistoriesCoverThePolicy(t *testing.T) {
	c := testCodec(t)
	type recorded struct {
		wfType   string
		events   []*historypb.HistoryEvent
		payloads string // every payload, decoded, one after another
	}
	var all []recorded
	for _, file := range historyFiles(t) {
		hist := loadHistory(t, file)
		decoded, err := decodedPayloads(c, hist)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var text strings.Builder
		for _, p := range decoded {
			text.Write(p.GetData())
			text.WriteByte('\n')
		}
		all = append(all, recorded{workflowType(hist), hist.GetEvents(), text.String()})
	}
	has := func(r recorded, t enumspb.EventType) bool {
		return slices.ContainsFunc(r.events, func(e *historypb.HistoryEvent) bool { return e.GetEventType() == t })
	}
	timerFired := func(r recorded) bool { return has(r, enumspb.EVENT_TYPE_TIMER_FIRED) }
	recordsAll := func(r recorded, texts ...string) bool {
		for _, s := range texts {
			if !strings.Contains(r.payloads, s) {
				return false
			}
		}
		return true
	}
	batch := func(r recorded) bool { return r.wfType == "BatchWorkflow" }
	type path struct {
		what string
		in   func(recorded) bool
	}
	paths := []path{
		{"a fired SLA escalation timer", func(r recorded) bool {
			return timerFired(r) && recordsAll(r, `"escalated":true`)
		}},
		{"a fired SLA breach timer", func(r recorded) bool {
			return timerFired(r) && recordsAll(r, `"breached":true`)
		}},
		{"a lapsed request for information (its timer fired)", func(r recorded) bool {
			return timerFired(r) && recordsAll(r, `"status":"lapsed"`)
		}},
		{"a refusal at the second approval", func(r recorded) bool {
			return recordsAll(r, `"first_decision":{`, `"status":"refused"`)
		}},
		{"straight-through processing", func(r recorded) bool {
			return recordsAll(r, `"status":"issued"`, `"decided_by":"`+domain.SystemActor.Name()+`"`)
		}},
		{"an ineligible application", func(r recorded) bool { return recordsAll(r, `"status":"ineligible"`) }},
		{"a batch run that continues as new", func(r recorded) bool {
			return batch(r) && has(r, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW)
		}},
		{"a continued batch run that completes the batch", func(r recorded) bool {
			return batch(r) && has(r, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED) &&
				r.events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId() != ""
		}},
	}
	for _, update := range []string{workflows.UpdateDecide, workflows.UpdateWithdraw, workflows.UpdateClaim,
		workflows.UpdateRelease, workflows.UpdateInform} {
		paths = append(paths, path{"an accepted " + update + " update", func(r recorded) bool {
			return slices.ContainsFunc(r.events, func(e *historypb.HistoryEvent) bool {
				return e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName() == update
			})
		}})
	}
	for _, p := range paths {
		if !slices.ContainsFunc(all, p.in) {
			t.Errorf("no recorded history has %s; add a path to recordedPaths and record it (docs/replay.md)", p.what)
		}
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
	// The scan reads whatever a history holds, plaintext included; workers would refuse it.
	decoded, err := c.AllowPlaintextReads().Decode(payloads(hist))
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
	plain := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     data,
	}
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
	binary := &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/plain")},
		Data:     data,
	}
	if _, err := decodedPayloads(c, historyWith(binary)); err == nil {
		t.Fatal("a binary/plain payload was accepted by the scan")
	}
}
