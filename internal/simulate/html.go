package simulate

import (
	"encoding/json"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"

	"github.com/visad/visad/domain"
	"github.com/visad/visad/internal/capacity"
)

// WriteFiles writes report.json and report.html into dir (as name.json and name.html).
func (r *Report) WriteFiles(dir, name string) (jsonPath, htmlPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	raw, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return "", "", err
	}
	jsonPath, htmlPath = filepath.Join(dir, name+".json"), filepath.Join(dir, name+".html")
	if err := os.WriteFile(jsonPath, append(raw, '\n'), 0o644); err != nil {
		return "", "", err
	}
	var b strings.Builder
	if err := page.Execute(&b, r.view()); err != nil {
		return "", "", err
	}
	return jsonPath, htmlPath, os.WriteFile(htmlPath, []byte(b.String()), 0o644)
}

type productRow struct {
	Product                     domain.Product
	Cases, Decided, Within      int
	Share, ModelShare           string
	P50, P95, Max               string
	ModelP50, ModelP95, ModelMx string
}

type pageView struct {
	R           *Report
	Rows        []productRow
	Target      string
	Meets       bool
	ModelMeets  bool
	QueueChart  template.HTML
	UtilChart   template.HTML
	SLA2, SLA5  string
	RealMinutes string
}

func pct(x float64) string { return fmt.Sprintf("%.2f %%", x*100) }
func hrs(x float64) string { return fmt.Sprintf("%.1f h", x) }

func (r *Report) view() pageView {
	v := pageView{R: r, Target: pct(capacity.Target), Meets: r.Meets(), ModelMeets: r.Model.Meets(),
		SLA2: hrs(r.SLAHours[domain.ProductBusiness2Y]), SLA5: hrs(r.SLAHours[domain.ProductBusiness5YMulti]),
		RealMinutes: fmt.Sprintf("%.1f", r.RealSeconds/60)}
	for _, p := range sortedKeys(r.Products) {
		ps, m := r.Products[p], r.Model.Products[p]
		v.Rows = append(v.Rows, productRow{Product: p, Cases: ps.Cases, Decided: ps.Decided, Within: ps.Within,
			Share: pct(ps.Share), ModelShare: pct(m.Share), P50: hrs(ps.P50), P95: hrs(ps.P95), Max: hrs(ps.Max),
			ModelP50: hrs(m.P50), ModelP95: hrs(m.P95), ModelMx: hrs(m.Max)})
	}
	qs := make([]float64, len(r.QueueDepth))
	qm := make([]float64, len(r.Model.QueueDepth))
	for i, x := range r.QueueDepth {
		qs[i] = float64(x)
	}
	for i, x := range r.Model.QueueDepth {
		qm[i] = float64(x)
	}
	v.QueueChart = chart("Cases in the staff queues, by simulated hour", "cases", qs, qm, false)
	v.UtilChart = chart("Officer utilisation, by simulated hour", "busy share", r.Utilisation, r.Model.Utilisation, true)
	return v
}

// chart draws two series (the simulation, solid; the model, dashed) as an SVG line chart.
func chart(title, unit string, sim, model []float64, share bool) template.HTML {
	const w, h, left, bottom, top = 720.0, 220.0, 48.0, 28.0, 12.0
	n := max(len(sim), len(model))
	top1 := 1.0
	if !share {
		for _, xs := range [][]float64{sim, model} {
			for _, x := range xs {
				top1 = max(top1, x)
			}
		}
	}
	pts := func(xs []float64) string {
		var b strings.Builder
		for i, x := range xs {
			px := left + (w-left-8)*float64(i)/float64(max(n-1, 1))
			py := h - bottom - (h-bottom-top)*x/top1
			fmt.Fprintf(&b, "%.1f,%.1f ", px, py)
		}
		return b.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<figure><svg role="img" aria-labelledby="t-%s" viewBox="0 0 %.0f %.0f" width="100%%">`,
		unitID(unit), w, h)
	fmt.Fprintf(&b, `<title id="t-%s">%s</title>`, unitID(unit), template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#0b0c0c"/>`, left, h-bottom, w-8, h-bottom)
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#0b0c0c"/>`, left, top, left, h-bottom)
	label := fmt.Sprintf("%.0f", top1)
	if share {
		label = "100 %"
	}
	fmt.Fprintf(&b, `<text x="4" y="%.0f" font-size="12">%s</text><text x="4" y="%.0f" font-size="12">0</text>`,
		top+10, label, h-bottom)
	for d := 0; d*24 <= n; d++ {
		x := left + (w-left-8)*float64(d*24)/float64(max(n-1, 1))
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="12">day %d</text>`, x, h-8, d+1)
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1d70b8" stroke-width="2" points="%s"/>`, pts(sim))
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#d4351c" stroke-width="1.5" stroke-dasharray="5 4" points="%s"/>`,
		pts(model))
	b.WriteString(`</svg><figcaption>` + template.HTMLEscapeString(title) +
		`: simulation (solid blue) and the capacity model (dashed red).</figcaption></figure>`)
	return template.HTML(b.String()) //nolint:gosec // built from numbers and escaped text above
}

func unitID(s string) string { return strings.ReplaceAll(s, " ", "-") }

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>visad simulate: {{.R.Scenario}}</title>
<style>
body{font-family:Arial,sans-serif;color:#0b0c0c;max-width:960px;margin:2em auto;padding:0 1em;line-height:1.4}
table{border-collapse:collapse;margin:1em 0}th,td{border-bottom:1px solid #b1b4b6;padding:.3em .8em;text-align:left}
.pass{color:#00703c;font-weight:bold}.fail{color:#d4351c;font-weight:bold}figure{margin:1em 0}
</style></head><body>
<h1>Simulation of {{.R.Scenario}}</h1>
<p>Staffing: {{.R.StaffingSource}}. Time compressed {{printf "%.0f" .R.Compress}}×: {{printf "%.0f" .R.SimulatedHours}}
simulated hours in {{.RealMinutes}} real minutes, against the real stack (embedded Temporal, the case workflows,
SQLite, the HTTP API). Decision deadlines {{.SLA2}} (two-year) and {{.SLA5}} (five-year), compressed alike.</p>
<p>Target: {{.Target}} of each product's cases decided within the deadline.
Simulation: {{if .Meets}}<span class="pass">kept</span>{{else}}<span class="fail">missed</span>{{end}};
capacity model: {{if .ModelMeets}}<span class="pass">kept</span>{{else}}<span class="fail">missed</span>{{end}}.</p>
<h2>Staffing</h2>
<table><thead><tr><th scope="col">Shift</th><th scope="col">Hours</th><th scope="col">Officers</th>
<th scope="col">Supervisors</th></tr></thead><tbody>
{{range .R.Shifts}}<tr><td>{{.Name}}</td><td>{{printf "%02d" .From}}:00–{{printf "%02d" .To}}:00</td>
<td>{{.Officers}}</td><td>{{.Supervisors}}</td></tr>
{{end}}</tbody></table>
<h2>Decisions within the deadline</h2>
<table><thead><tr><th scope="col">Product</th><th scope="col">Cases</th><th scope="col">Decided</th>
<th scope="col">Within</th><th scope="col">Share</th><th scope="col">Model</th>
<th scope="col">p50</th><th scope="col">p95</th><th scope="col">max</th><th scope="col">Model p50 / p95 / max</th>
</tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Product}}</td><td>{{.Cases}}</td><td>{{.Decided}}</td><td>{{.Within}}</td>
<td>{{.Share}}</td><td>{{.ModelShare}}</td><td>{{.P50}}</td><td>{{.P95}}</td><td>{{.Max}}</td>
<td>{{.ModelP50}} / {{.ModelP95}} / {{.ModelMx}}</td></tr>
{{end}}</tbody></table>
<p>Times to decision are simulated hours from submission to the decision that closed the case.</p>
<h2>Breaches and escalations</h2>
<table><tbody>
<tr><th scope="row">Decided by the system (straight through)</th><td>{{.R.StraightThrough}}</td>
<td>model {{.R.Model.StraightThrough}}</td></tr>
<tr><th scope="row">Escalated (75 % of the deadline passed)</th><td>{{.R.Escalated}}</td>
<td>model {{.R.Model.Escalated}}</td></tr>
<tr><th scope="row">Breaches: staffing (late, never waited on the applicant)</th><td>{{.R.BreachesStaffing}}</td>
<td>model {{.R.Model.BreachesStaffing}}</td></tr>
<tr><th scope="row">Breaches: after waiting on the applicant (late after a request for information)</th>
<td>{{.R.BreachesApplicant}}</td><td>model {{.R.Model.BreachesApplicant}}</td></tr>
<tr><th scope="row">Breach events the workflows recorded</th><td>{{.R.BreachEvents}}</td><td></td></tr>
<tr><th scope="row">Undecided at the end</th><td>{{.R.Undecided}}</td><td>model {{.R.Model.Undecided}}</td></tr>
<tr><th scope="row">Closed without a decision (not counted above)</th><td>{{.R.ClosedUndecided}}</td><td></td></tr>
<tr><th scope="row">Applications submitted (errors)</th><td>{{.R.Submitted}} ({{.R.SubmitErrors}})</td><td></td></tr>
<tr><th scope="row">Answers to requests for information</th><td>{{.R.Answers}}</td><td></td></tr>
<tr><th scope="row">Bot request errors</th><td>{{.R.BotErrors}}</td><td>{{.R.LastBotError}}</td></tr>
</tbody></table>
<h2>Over time</h2>
{{.QueueChart}}
{{.UtilChart}}
</body></html>
`))
