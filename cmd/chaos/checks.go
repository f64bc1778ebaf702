package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/app"
	"github.com/visad/visad/internal/config"
	"github.com/visad/visad/workflows"
)

type results struct {
	accepted, singles, batch int
	inDBOnce                 int
	inTemporalOnce           int
	issued                   int
	lost                     []string // accepted but missing from the database or Temporal
	notIssued                map[string]int
	// dupApplications: passport+product groups with more than one row; each passport applies once, so such a
	// group is a retry that duplicated (the database no longer refuses a second open application).
	dupApplications      int
	dupOpen              int // … among open applications
	extraRows            int // application rows whose client never saw a 202
	dupVisas             int
	temporalMulti        int // accepted ids with more than one execution
	temporalCompleted    int // accepted ids whose workflow has completed
	temporalUnlisted     int // accepted ids that Describe finds but the execution list lacks
	temporalNotCompleted map[string]int
	crashes              []string
	errs                 []string
}

func countIssued(ctx context.Context, url string, ids []string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(ctx, `SELECT COUNT(*) FROM applications WHERE id = ANY($1) AND status = 'issued'`, ids).Scan(&n)
	return n, err
}

func (h *harness) check(ctx context.Context) results {
	ids := h.acceptedIDs()
	r := results{accepted: len(ids), notIssued: map[string]int{}, temporalNotCompleted: map[string]int{}}
	h.mu.Lock()
	for _, src := range h.accepted {
		if src == "single" {
			r.singles++
		} else {
			r.batch++
		}
	}
	h.mu.Unlock()
	lost := map[string]bool{}

	// The database.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(cctx, h.dbURL)
	if err != nil {
		r.errs = append(r.errs, "database: "+err.Error())
	} else {
		defer conn.Close(context.Background())
		rows, err := conn.Query(cctx,
			`SELECT id, COUNT(*), MIN(status) FROM applications WHERE id = ANY($1) GROUP BY id`, ids)
		seen := map[string]bool{}
		if err == nil {
			for rows.Next() {
				var id, status string
				var n int
				if err := rows.Scan(&id, &n, &status); err != nil {
					r.errs = append(r.errs, err.Error())
					break
				}
				seen[id] = true
				if n == 1 {
					r.inDBOnce++
				}
				if domain.Status(status) == domain.StatusIssued {
					r.issued++
				} else {
					r.notIssued[status]++
				}
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			r.errs = append(r.errs, "applications query: "+err.Error())
		}
		for _, id := range ids {
			if !seen[id] {
				lost[id] = true
			}
		}
		var quoted []string
		for _, s := range domain.ClosedStatuses {
			quoted = append(quoted, "'"+string(s)+"'")
		}
		closed := strings.Join(quoted, ",")
		for _, q := range []struct {
			sql string
			dst *int
		}{
			{`SELECT COUNT(*) FROM (SELECT passport_hash, product FROM applications
				GROUP BY 1, 2 HAVING COUNT(*) > 1) d`, &r.dupApplications},
			{`SELECT COUNT(*) FROM (SELECT passport_hash, product FROM applications
				WHERE status NOT IN (` + closed + `) GROUP BY 1, 2 HAVING COUNT(*) > 1) d`, &r.dupOpen},
			{`SELECT COUNT(*) FROM applications WHERE NOT (id = ANY($1))`, &r.extraRows},
			{`SELECT COUNT(*) FROM (SELECT visa_number, COUNT(*) FROM visas GROUP BY 1 HAVING COUNT(*) > 1) d`, &r.dupVisas},
		} {
			var args []any
			if strings.Contains(q.sql, "$1") {
				args = append(args, ids)
			}
			if err := conn.QueryRow(cctx, q.sql, args...).Scan(q.dst); err != nil {
				r.errs = append(r.errs, fmt.Sprintf("%s: %v", q.sql, err))
			}
		}
	}

	// Temporal, through an SDK client with the project's payload codec.
	cfg := config.Config{TemporalAddress: h.tAddr, Namespace: "default", PayloadKeys: h.keySpec}
	tc, err := app.DialTemporal(cctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		r.errs = append(r.errs, "temporal: "+err.Error())
		for _, id := range ids {
			lost[id] = true
		}
	} else {
		defer tc.Close()
		// How many executions each workflow id has (all of them, open and closed).
		runs := map[string]int{}
		var token []byte
		listStart := time.Now()
		for page := 0; page < 500; page++ {
			var resp *workflowservice.ListWorkflowExecutionsResponse
			var err error
			for try := 0; try < 3; try++ {
				lctx, lcancel := context.WithTimeout(cctx, 30*time.Second)
				resp, err = tc.ListWorkflow(lctx, &workflowservice.ListWorkflowExecutionsRequest{
					Namespace: "default", PageSize: 100, NextPageToken: token})
				lcancel()
				if err == nil {
					break
				}
			}
			if err != nil {
				r.errs = append(r.errs, "list workflows: "+err.Error())
				break
			}
			for _, e := range resp.Executions {
				runs[e.Execution.WorkflowId]++
			}
			if token = resp.NextPageToken; len(token) == 0 {
				break
			}
		}
		logf("listed %d workflow executions in Temporal in %s", sum(runs), time.Since(listStart).Round(time.Millisecond))
		var mu sync.Mutex
		sem := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Add(1)
			sem <- struct{}{}
			go func(id string) {
				defer func() { <-sem; wg.Done() }()
				wid := workflows.WorkflowID(id)
				var d *workflowservice.DescribeWorkflowExecutionResponse
				var err error
				for try := 0; try < 3; try++ {
					if d, err = tc.DescribeWorkflowExecution(cctx, wid, ""); err == nil {
						break
					}
					time.Sleep(500 * time.Millisecond)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					lost[id] = true
					return
				}
				if runs[wid] == 1 {
					r.inTemporalOnce++
				} else if runs[wid] > 1 {
					r.temporalMulti++
				} else {
					r.temporalUnlisted++ // describe finds it, the visibility list does not
				}
				if st := d.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
					r.temporalNotCompleted[st.String()]++
				} else {
					r.temporalCompleted++
				}
			}(id)
		}
		wg.Wait()
	}
	for id := range lost {
		r.lost = append(r.lost, id)
	}
	sort.Strings(r.lost)
	for _, p := range append(append([]*proc{h.temporal}, h.workers...), h.apis...) {
		for _, c := range p.crashList() {
			r.crashes = append(r.crashes, p.name+": "+c)
		}
	}
	return r
}

func (h *harness) summary(r results) int {
	fail := false
	w := os.Stdout
	line := func(label string, v any, ok bool) {
		mark := "ok"
		if !ok {
			mark, fail = "FAIL", true
		}
		fmt.Fprintf(w, "  %-38s %8v   %s\n", label, v, mark)
	}
	info := func(label string, v any) { fmt.Fprintf(w, "  %-38s %8v\n", label, v) }
	want := h.o.singles + h.o.batchRows
	fmt.Fprintln(w)
	fmt.Fprintln(w, "==================== visad chaos summary ====================")
	info("applications submitted", want)
	line(fmt.Sprintf("accepted (%d single + %d batch)", r.singles, r.batch), r.accepted, r.accepted == want)
	line("present once in DB", r.inDBOnce, r.inDBOnce == r.accepted)
	line("present once in Temporal", r.inTemporalOnce, r.inTemporalOnce == r.accepted)
	line(string(domain.StatusIssued), r.issued, r.issued == r.accepted)
	line("lost", len(r.lost), len(r.lost) == 0)
	line("duplicates (passport+product rows)", r.dupApplications, r.dupApplications == 0)
	line("duplicates among open applications", r.dupOpen, r.dupOpen == 0)
	line("ids with >1 Temporal execution", r.temporalMulti, r.temporalMulti == 0)
	if r.temporalUnlisted > 0 {
		info("described but not in Temporal's list", r.temporalUnlisted)
	}
	line("Temporal workflows completed", r.temporalCompleted, r.temporalCompleted == r.accepted)
	line("duplicate visa numbers", r.dupVisas, r.dupVisas == 0)
	line("unexpected process exits", len(r.crashes), len(r.crashes) == 0)
	info("DB rows never acknowledged with 202", r.extraRows)
	info(
		"approvals 200 / 409 / errors",
		fmt.Sprintf("%d/%d/%d", h.approvedOK.Load(), h.approve409.Load(), h.approveErr.Load()),
	)
	info("HTTP attempts / retries", fmt.Sprintf("%d/%d", h.api.attempts.Load(), h.api.retries.Load()))
	if len(r.notIssued) > 0 {
		info("not issued, by DB status", fmt.Sprint(r.notIssued))
	}
	if len(r.temporalNotCompleted) > 0 {
		info("Temporal not completed, by status", fmt.Sprint(r.temporalNotCompleted))
	}
	h.mu.Lock()
	for why, n := range h.rejected {
		info("not accepted: "+truncate(why, 60), n)
	}
	h.mu.Unlock()
	if h.batchNote != "" {
		info("batch", h.batchNote)
	}
	for _, c := range r.crashes {
		fmt.Fprintf(w, "  crash: %s\n", c)
	}
	for i, id := range r.lost {
		if i == 10 {
			fmt.Fprintf(w, "  … %d more lost\n", len(r.lost)-10)
			break
		}
		fmt.Fprintf(w, "  lost: %s\n", id)
	}
	for _, e := range r.errs {
		fail = true
		fmt.Fprintf(w, "  check error: %s\n", e)
	}
	fmt.Fprintln(w, "  disruptions:")
	for _, d := range h.disrupt {
		status := "ran"
		if !d.ran {
			status, fail = "DID NOT RUN", true
		}
		when := ""
		if d.ran {
			when = fmt.Sprintf("%s → %s (+%.0fs → +%.0fs)", d.start.Format(time.TimeOnly), d.end.Format(time.TimeOnly),
				d.start.Sub(t0).Seconds(), d.end.Sub(t0).Seconds())
		}
		errText := ""
		if d.err != nil {
			errText, fail = "  error: "+d.err.Error(), true
		}
		fmt.Fprintf(w, "    %s %-11s %-56s %s%s\n", d.name, status, d.what, when, errText)
	}
	result := "PASS"
	if fail {
		result = "FAIL"
	}
	fmt.Fprintf(w, "  result: %s\n", result)
	fmt.Fprintln(w, "=============================================================")
	if fail {
		return 1
	}
	return 0
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
