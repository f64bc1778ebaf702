package e2e_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/actionauth"
	"github.com/visad/visad/internal/codec"
	"github.com/visad/visad/internal/testenv"
	"github.com/visad/visad/workflows"
)

// TestForgedDecisionsThroughTemporalAreRejected is issue 11's first finding:
// whoever reaches Temporal's frontend sends the decide update straight to the
// case's workflow, bypassing the API. A plaintext forgery fails because the
// worker decodes only payloads it encrypted; a forgery encrypted with the
// payload key fails because it is not signed with the action key. The case
// stays where it was.
func TestForgedDecisionsThroughTemporalAreRejected(t *testing.T) {
	env := testenv.Start(t, testenv.Options{NoSTP: true})
	officer, _ := env.StaffToken(domain.RoleOfficer, "Officer Ayesha")

	forged := map[string]any{"decision": "approve", "actor": map[string]string{"id": "forged", "role": "supervisor"}}
	pc, err := codec.Parse(testenv.PayloadKeys)
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.DataConverter(pc)
	for _, tc := range []struct {
		name string
		opts client.Options
		// The rejection's type, when this client can read it (the worker encrypts failures too).
		rejectedAs string
	}{
		{"plaintext, no codec", client.Options{}, ""},
		{"encrypted with the payload key, unsigned",
			client.Options{DataConverter: dc, FailureConverter: codec.FailureConverter(dc)},
			actionauth.ErrTypeNotAuthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := submit(t, env, testenv.ValidApplication(domain.ProductBusiness2Y))
			env.WaitForStatus(s.ID, s.AccessToken, domain.StatusAwaitingReview)
			tc.opts.HostPort = env.Services.Config.TemporalAddress
			tc.opts.Namespace = env.Services.Config.Namespace
			raw, err := client.Dial(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			h, err := raw.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID:   workflows.WorkflowID(s.ID),
				UpdateName:   workflows.UpdateDecide,
				Args:         []any{forged},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			if err == nil {
				t.Fatal("the forged decide update was accepted")
			}
			t.Logf("rejected: %v", err)
			var appErr *temporal.ApplicationError
			if tc.rejectedAs != "" && (!errors.As(err, &appErr) || appErr.Type() != tc.rejectedAs) {
				t.Fatalf("rejected with %v, want an application error of type %s", err, tc.rejectedAs)
			}

			r := env.Do("GET", "/v1/applications/"+s.ID, officer, nil)
			var view struct {
				Status   string `json:"status"`
				Decision any    `json:"decision"`
			}
			r.JSON(t, &view)
			if r.Status != 200 || view.Status != string(domain.StatusAwaitingReview) || view.Decision != nil {
				t.Fatalf("after the forgery the case is %d %s", r.Status, r.Body)
			}
			// The API's own, signed, decision still goes through.
			st := action(t, env, "/v1/cases/"+s.ID+"/decision", officer, map[string]string{"decision": "approve"}, 200)
			if st.Status != string(domain.StatusIssued) {
				t.Fatalf("the officer's approval: %+v", st)
			}
		})
	}
}
